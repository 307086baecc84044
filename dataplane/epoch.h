/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * epoch.h — one worker's side of the exchange slot handshake (exchange.h), pure C.
 *
 * No DPDK, no locks: a struct obs_epoch belongs to exactly one worker thread, which is
 * the only caller of every function here for that struct.  The only shared words it
 * touches are the two slot state words of its worker: it loads the other slot's state
 * with acquire (to take a slot the control plane freed) and stores READY with release
 * (so the control plane sees the body complete).  The unit tests drive it on a
 * heap-allocated exchange, the dataplane worker calls it from its burst loop.
 *
 * Per packet the worker calls obs_epoch_time() (time order, epoch boundary) and then,
 * for an accepted telescope packet, obs_epoch_src() (source record).  Counters are
 * bumped directly in e->c, the pending deltas, which are copied into whichever slot is
 * published next and only then zeroed: they are never lost, whatever the slots do.
 *
 * Source table, per slot: linear probing on obx_src_hash(); a new source that would
 * push it past OBX_SRC_MAX_LOAD forces an early swap if the other slot is FREE.  If the
 * other slot is still READY the worker keeps filling up to OBS_EPOCH_HARD_LOAD (kept
 * below 1000 so probe sequences stay short); a new source that finds no room then is
 * counted in lost_updates.  Packets of sources already in the table are never lost.
 *
 * Replay is different: a file can wait, so with full_wait_ns set a full table waits
 * (bounded) for the control plane to free the other slot instead of losing updates.
 */
#ifndef OBSCURA_EPOCH_H
#define OBSCURA_EPOCH_H

#include <stdbool.h>
#include <stdint.h>

#include "exchange.h"

/* Fill limit (per mille) when the early swap is impossible: 7/8 keeps the expected
 * unsuccessful linear probe around 32 slots. */
#define OBS_EPOCH_HARD_LOAD 875u

#ifndef likely
#define likely(x)   __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)
#endif

struct obs_epoch {
	/* hot: touched per packet */
	struct obx_src_rec *tab;        /* records of the slot being filled */
	uint32_t mask;                  /* src_capacity - 1 */
	uint32_t n_src;                 /* records in use in tab */
	uint32_t soft_limit;            /* n_src that forces an early swap */
	uint32_t hard_limit;            /* n_src beyond which new sources are lost */
	uint64_t epoch_end_ns;          /* packet time closing the current epoch; 0 = none yet */
	uint64_t last_ns;               /* latest packet time seen */
	uint64_t t_first_ns, t_last_ns; /* packet time range of the filling slot */
	struct obx_counters c;          /* pending deltas (go into the next published slot) */

	/* cold */
	struct obx_header *h;
	struct obx_slot_hdr *slot[OBX_SLOTS];
	struct obx_worker_live *live;   /* may be NULL (tests) */
	uint64_t epoch_ns;
	uint64_t seq;                   /* last published seq */
	uint32_t worker;
	uint32_t cur;                   /* index of the FILLING slot */
	bool filling;                   /* false after obs_epoch_finish() */
	uint64_t full_wait_ns;          /* replay: how long a full table waits for the other
	                                 * slot to be drained before counting a loss (0: live,
	                                 * never wait — the wire does not wait either) */
	const volatile int *stop;       /* replay: abandon that wait when *stop != 0 */
	struct obx_src_rec empty;       /* the table after finish: one record, never written */
};

/*
 * Bind e to worker w of the mapped exchange h (layout filled by obx_layout_init, every
 * slot FREE) and take slot 0.  epoch_ns is the epoch length in packet time.  Returns 0,
 * -EINVAL (bad worker/epoch), -EBUSY (no FREE slot).
 */
int obs_epoch_init(struct obs_epoch *e, struct obx_header *h, uint32_t w, uint64_t epoch_ns);

/* Slow paths, out of line. */
void obs_epoch_boundary(struct obs_epoch *e, uint64_t t);
void obs_epoch_src_slow(struct obs_epoch *e, uint32_t addr, uint64_t t, uint64_t sensor_bit);

/*
 * Account one frame's packet time t (ns, UTC) before counting it: counts time going
 * backwards, and closes the epoch when t reaches its end (publishing only when the
 * other slot is FREE; otherwise the epoch just grows and the check repeats).
 */
static inline void obs_epoch_time(struct obs_epoch *e, uint64_t t)
{
	if (unlikely(t < e->last_ns))
		e->c.time_backwards++;
	else
		e->last_ns = t;
	if (unlikely(t >= e->epoch_end_ns))
		obs_epoch_boundary(e, t);
	if (unlikely(t < e->t_first_ns))
		e->t_first_ns = t;
	if (unlikely(t > e->t_last_ns))
		e->t_last_ns = t;
}

/* Where addr's probe starts: for prefetching ahead of obs_epoch_src(). */
static inline const struct obx_src_rec *obs_epoch_bucket(const struct obs_epoch *e, uint32_t addr)
{
	return &e->tab[obx_src_hash(addr) & e->mask];
}

/* Record one packet of source addr at time t seen by the sensors in sensor_bit. */
static inline void obs_epoch_src(struct obs_epoch *e, uint32_t addr, uint64_t t,
                                 uint64_t sensor_bit)
{
	uint32_t i = obx_src_hash(addr) & e->mask;
	struct obx_src_rec *r;

	for (;;) {
		r = &e->tab[i];
		if (r->packets == 0)
			break;
		if (r->addr == addr) {
			/* min/max, not "latest": packet time may go backwards */
			if (unlikely(t < r->first_ns))
				r->first_ns = t;
			if (t > r->last_ns)
				r->last_ns = t;
			r->packets++;
			r->sensor_mask |= sensor_bit;
			return;
		}
		i = (i + 1) & e->mask;
	}
	if (unlikely(e->n_src >= e->soft_limit)) {
		obs_epoch_src_slow(e, addr, t, sensor_bit);
		return;
	}
	r->addr = addr;
	r->first_ns = t;
	r->last_ns = t;
	r->sensor_mask = sensor_bit;
	r->packets = 1;
	e->n_src++;
}

/*
 * Live mode, no packets: close the epoch by the clock (now, ns UTC) if it is due, so an
 * idle link still hands its deltas over.  A no-op before the first packet.
 */
void obs_epoch_tick(struct obs_epoch *e, uint64_t now_ns);

/*
 * Publish the filling slot as the last epoch of this boot (OBX_SLOT_F_FINAL), whatever
 * the other slot's state: it needs no second slot.  Afterwards e accepts nothing.
 * Returns 0, or -EALREADY if already finished.
 */
int obs_epoch_finish(struct obs_epoch *e);

/* dst += src, every field (the one merge used by live totals and the drainer). */
void obs_counters_add(struct obx_counters *dst, const struct obx_counters *src);

#endif /* OBSCURA_EPOCH_H */
