/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * coverage.h — the worker stage that fills the coverage cells (OBX_TAB_CELL,
 * OBX_TAB_BITMAP; SPEC.md A1, A10).  The records are part of the exchange contract
 * (common/exchange_recs.h: what counts, inline slots, the bitmap spill); this header is
 * how the worker finds them: the cell key's hash, the per-worker period cache, the stage.
 *
 * Threading: obs_cov_syn() is called only by the worker owning the struct obs_epoch,
 * following epoch.h's pointer rule (reserve with obs_epoch_need() before writing).
 */
#ifndef OBSCURA_COVERAGE_H
#define OBSCURA_COVERAGE_H

#include <stdint.h>

#include "epoch.h"
#include "exchange.h"
#include "exchange_recs.h"

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
	if (tab != NULL) {
		const uint32_t i = obx_cell_hash(src & cv->block_mask, cv->cached_period, dport, 6) &
		                   mask;

		/* a record is a whole line and the probe is linear: at the load an epoch
		 * reaches (up to 3/4) a probe reads 2-3 records, so the next line too */
		__builtin_prefetch(&tab[i], 0, 3);
		__builtin_prefetch(&tab[(i + 1) & mask], 0, 3);
	}
}

#endif
