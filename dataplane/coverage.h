/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * coverage.h — the coverage cell records of the exchange (OBX_TAB_CELL, OBX_TAB_BITMAP)
 * and the worker stage that fills them (SPEC.md A1, A10).
 *
 * Both processes include this header (it holds no DPDK or control-plane types): the
 * worker writes records with obs_cov_syn(), the control plane reads them when it drains
 * a slot (control/cmd_scan.c feeds control/covstore.c).
 *
 * One record per (source block /L, IP protocol, destination port, period) per epoch:
 * SYN packets, Mirai-fingerprint SYNs (TCP sequence number == destination address, A10),
 * and the coverage-sample slots hit — inline while there are at most OBX_CELL_INLINE of
 * them, then in a BITMAP pool entry of |S| bits (rec_size = |S|/8 rounded up to 64
 * bytes, set by the dataplane from its telescope and published in the header's
 * tab_rec_size[OBX_TAB_BITMAP]).  The period is in the key so an epoch that straddles
 * a period boundary (replay can make epochs long) still splits exactly.
 *
 * What counts (SPEC.md A "Input"): TCP, SYN set, ACK clear, destination in D.  SYNs to
 * destinations outside the sample S count in syns/mirai (the Mirai share is over all of
 * A's SYNs) but add no slot.
 *
 * Threading: obs_cov_syn() is called only by the worker owning the struct obs_epoch,
 * following epoch.h's pointer rule (reserve with obs_epoch_need() before writing).
 */
#ifndef OBSCURA_COVERAGE_H
#define OBSCURA_COVERAGE_H

#include <stdint.h>

#include "epoch.h"
#include "exchange.h"

#define OBX_CELL_INLINE   9u
#define OBX_CELL_F_BITMAP  0x1u   /* slots are in BITMAP entry `bitmap`, not inline */
#define OBX_CELL_F_SCANNER 0x2u   /* a packet of the cell came from a scanner-table source */

struct obx_cell_rec {
	uint32_t block;       /* source & /L mask, host order */
	uint32_t period;      /* obs_period_index() (period.h) of the packet time */
	uint16_t dport;
	uint8_t  proto;       /* 6 */
	uint8_t  flags;       /* OBX_CELL_F_* */
	uint32_t syns;        /* SYN packets in this epoch; 0 = empty record */
	uint32_t mirai;       /* of which seq == dst */
	uint16_t n_inline;    /* slots in inline[] (when not OBX_CELL_F_BITMAP) */
	uint16_t reserved;
	uint32_t bitmap;      /* BITMAP pool index (when OBX_CELL_F_BITMAP) */
	uint32_t inline_slot[OBX_CELL_INLINE];
};

_Static_assert(sizeof(struct obx_cell_rec) == 64, "a cell record is one cache line");

/* BITMAP entry size for a sample of s slots: s bits rounded up to 64 bytes. */
static inline uint32_t obx_bitmap_rec_size(uint32_t s)
{
	uint32_t b = (s + 7) / 8;
	return b < 64 ? 64 : (b + 63) & ~63u;
}

static inline uint32_t obx_cell_hash(uint32_t block, uint32_t period, uint16_t dport, uint8_t proto)
{
	uint64_t x = ((uint64_t)block << 32) ^ ((uint64_t)period << 17) ^ ((uint64_t)dport << 1) ^ proto;
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	return (uint32_t)x;
}

/* The worker's coverage stage state (per worker). */
struct obs_cov {
	uint32_t block_mask;       /* /L */
	uint8_t  period_unit;      /* enum obs_period_unit */
	uint32_t cached_period;    /* period of [p_lo, p_hi) */
	uint64_t p_lo, p_hi;
};

void obs_cov_init(struct obs_cov *cv, uint8_t block_len, uint8_t period_unit);

/*
 * One SYN-without-ACK from src to a telescope destination: slot is its coverage-sample
 * slot or OBS_TEL_NO_SLOT, mirai whether seq == dst, flags OBX_CELL_F_SCANNER or 0.
 * Counts e->c.cov_syns; a record or slot that finds no room counts lost_updates.
 */
void obs_cov_syn(struct obs_cov *cv, struct obs_epoch *e, uint32_t src, uint16_t dport,
                 uint64_t t, uint32_t slot, int mirai, uint8_t flags);

/*
 * Prefetch the first probe slot of the cell obs_cov_syn() will look for (same key, same
 * hash), when t falls in the cached period; else nothing.  For the worker's pass 1: the
 * cell table is ~100 MB at production size, a cold probe is a DRAM miss (bench/README).
 */
static inline void obs_cov_prefetch(const struct obs_cov *cv, struct obs_epoch *e, uint32_t src,
                                    uint16_t dport, uint64_t t)
{
	const struct obx_cell_rec *tab;
	uint32_t mask;

	if (t < cv->p_lo || t >= cv->p_hi)
		return;
	tab = (const struct obx_cell_rec *)obs_epoch_tab(e, OBX_TAB_CELL, &mask);
	if (tab != NULL)
		__builtin_prefetch(&tab[obx_cell_hash(src & cv->block_mask, cv->cached_period,
		                                      dport, 6) & mask], 0, 3);
}

#endif
