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
 * for an accepted telescope packet, its stages: obs_epoch_src() (the (source, hour)
 * record) and the analyses' tables through the generic room API below.  Counters are
 * bumped directly in e->c, the pending deltas, which are copied into whichever slot is
 * published next and only then zeroed: they are never lost, whatever the slots do.
 *
 * Tables, per slot (exchange.h): every hash kind is linear probing on its key's hash; a
 * new record that would push a table past OBX_SRC_MAX_LOAD forces an early swap if the
 * other slot is FREE — and a swap publishes every table together (one slot = one epoch
 * of everything).  If the other slot is still READY the worker keeps filling up to
 * OBS_EPOCH_HARD_LOAD (kept below 1000 so probe sequences stay short); a new record that
 * finds no room then is counted in lost_updates.  Updates of records already in the
 * table are never lost.  The BITMAP pool swaps at 3/4 and fills to the end.
 *
 * Replay is different: a file can wait, so with full_wait_ns set a full table waits
 * (bounded) for the control plane to free the other slot instead of losing updates.
 *
 * THE POINTER RULE.  A pointer into the filling slot (a record found by probing, a
 * bitmap entry) is valid only until the next call that can swap: obs_epoch_time(),
 * obs_epoch_tick(), obs_epoch_finish(), obs_epoch_src(), obs_epoch_need(),
 * obs_epoch_find_or_insert() and obs_epoch_bitmap_alloc().  Every swap bumps e->gen
 * (obs_epoch_gen()).  So a stage:
 *   1. probes its table (obs_epoch_tab()); an existing record is updated in place;
 *   2. for a new record calls obs_epoch_need(e, kind, n) BEFORE writing anything:
 *      1 = swapped (every table is new: probe again, the record is not there any more),
 *      0 = room, -ENOSPC = no room (count e->c.lost_updates, skip);
 *   3. writes the record (count field non-zero), then (*obs_epoch_n_used(e, kind))++.
 * Steps 1 and 2 for one record are obs_epoch_find_or_insert(), the one probe loop every
 * hash kind's stage uses (the source record's included).
 * A stage that writes several kinds for one packet (a cell and its bitmap) reserves
 * them all first — obs_epoch_need() for each, again from the start while obs_epoch_gen()
 * changes — and only then probes and writes: obs_epoch_bitmap_alloc() after a successful
 * obs_epoch_need(e, OBX_TAB_BITMAP, 1) cannot swap.  Never write through a pointer taken
 * before a call that changed obs_epoch_gen(): it points into a published slot.
 */
#ifndef OBSCURA_EPOCH_H
#define OBSCURA_EPOCH_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "exchange.h"

/* Fill limit (per mille) when the early swap is impossible: 7/8 keeps the expected
 * unsuccessful linear probe around 32 slots. */
#define OBS_EPOCH_HARD_LOAD 875u
/* BITMAP pool: swap at 3/4 handed out (headroom while the other slot is READY), lose
 * only when it is exhausted. */
#define OBS_EPOCH_POOL_SOFT 750u

#ifndef likely
#define likely(x)   __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)
#endif

/* One table of the filling slot, as the worker sees it. */
struct obs_epoch_tab {
	uint8_t *base;                  /* records of the filling slot; NULL: absent/finished */
	uint32_t *used;                 /* hash kinds: the slot's used-index list (exchange.h) */
	uint32_t mask;                  /* capacity - 1 (hash kinds: probe mask) */
	uint32_t n_used;                /* records in use (BITMAP: handed out) */
	uint32_t soft_limit;            /* n_used that forces an early swap */
	uint32_t hard_limit;            /* n_used beyond which new records are lost */
	uint32_t rec_size;
	uint32_t capacity;              /* 0: the kind is absent from this exchange */
};

struct obs_epoch {
	/* hot: touched per packet (t[OBX_TAB_SRC] first) */
	struct obs_epoch_tab t[OBX_TAB_MAX];
	uint64_t epoch_end_ns;          /* packet time closing the current epoch; 0 = none yet */
	uint64_t last_ns;               /* latest packet time seen */
	uint64_t t_first_ns, t_last_ns; /* packet time range of the filling slot */
	uint64_t hour_lo_ns;            /* packet times [hour_lo_ns, +1 h) are hour `hour` */
	uint32_t hour;                  /* (a cache: saves a 64-bit division per packet) */
	uint32_t gen;                   /* bumped at every slot change (the pointer rule) */
	bool hold;                      /* inside a packet: no forced swap (obs_epoch_hold) */
	bool swap_due;                  /* a table passed its soft limit while held */
	struct obx_counters c;          /* pending deltas (go into the next published slot) */

	/* cold */
	struct obx_header *h;
	struct obx_slot_hdr *slot[OBX_SLOTS];
	struct obx_worker_live *live;   /* may be NULL (tests) */
	uint64_t epoch_ns;
	uint64_t seq;                   /* last published seq */
	uint32_t worker;
	uint32_t cur;                   /* index of the FILLING slot */
	uint32_t slot_flags;            /* ORed into every published slot's flags (the
	                                 * responder's OBX_SLOT_F_RESP) */
	bool filling;                   /* false after obs_epoch_finish() */
	uint64_t full_wait_ns;          /* replay: how long a full table waits for the other
	                                 * slot to be drained before counting a loss (0: live,
	                                 * never wait — the wire does not wait either) */
	const volatile int *stop;       /* replay: abandon that wait when *stop != 0 */
	uint64_t full_waits;            /* replay: waits for the other slot, and their time */
	uint64_t full_wait_ns_total;
	struct obx_src_rec empty;       /* the SRC table after finish: one record, never written */
};

/*
 * Bind e to worker w of the mapped exchange h (layout filled by obx_layout_init, slots
 * by obx_slots_init, every slot FREE) and take slot 0.  epoch_ns is the epoch length in
 * packet time.  Returns 0, -EINVAL (bad worker/epoch/tables), -EBUSY (no FREE slot).
 */
int obs_epoch_init(struct obs_epoch *e, struct obx_header *h, uint32_t w, uint64_t epoch_ns);

/* Slow path, out of line. */
void obs_epoch_boundary(struct obs_epoch *e, uint64_t t);

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

/* Slot generation: changes whenever the filling slot changes (see the pointer rule). */
static inline uint32_t obs_epoch_gen(const struct obs_epoch *e)
{
	return e->gen;
}

/* The hour (packet time / 3600 s) of t, without touching the cache (pass 1 prefetch). */
static inline uint32_t obs_epoch_hour_of(const struct obs_epoch *e, uint64_t t)
{
	if (likely(t - e->hour_lo_ns < OBX_HOUR_NS))
		return e->hour;
	return (uint32_t)(t / OBX_HOUR_NS);
}

/* The hour of t, refreshing the cache. */
static inline uint32_t obs_epoch_hour(struct obs_epoch *e, uint64_t t)
{
	if (likely(t - e->hour_lo_ns < OBX_HOUR_NS))
		return e->hour;
	e->hour = (uint32_t)(t / OBX_HOUR_NS);
	e->hour_lo_ns = (uint64_t)e->hour * OBX_HOUR_NS;
	return e->hour;
}

/* Where (addr, hour of t)'s probe starts: for prefetching ahead of obs_epoch_src(). */
static inline const struct obx_src_rec *obs_epoch_bucket(const struct obs_epoch *e, uint32_t addr,
                                                         uint64_t t)
{
	const struct obs_epoch_tab *st = &e->t[OBX_TAB_SRC];

	return (const struct obx_src_rec *)st->base +
		(obx_src_key_hash(addr, obs_epoch_hour_of(e, t)) & st->mask);
}

/*
 * Generic room API for the other kinds (the pointer rule above says when to call it).
 *
 * obs_epoch_tab: record base of kind's table in the filling slot, *mask = capacity - 1
 * (the probe mask of a hash kind; the last index of the pool); NULL when the kind is
 * absent or after obs_epoch_finish().  Re-fetch it whenever obs_epoch_gen() changed.
 */
static inline void *obs_epoch_tab(struct obs_epoch *e, unsigned kind, uint32_t *mask)
{
	if (kind >= OBX_TAB_MAX)
		return NULL;
	if (mask != NULL)
		*mask = e->t[kind].mask;
	return e->t[kind].base;
}

/* The in-use count of kind's table: the inserting stage bumps it after a new record. */
static inline uint32_t *obs_epoch_n_used(struct obs_epoch *e, unsigned kind)
{
	return &e->t[kind < OBX_TAB_MAX ? kind : 0].n_used;
}

/*
 * Before writing n_new new records of kind: 0 when they fit under the soft limit;
 * otherwise try the forced swap (replay: wait, bounded, for the other slot) and return 1
 * if it happened (every table is new: re-probe); 0 if there is room below the hard
 * limit; -ENOSPC if there is none (absent kind, finished, or full: the caller counts
 * lost_updates and skips); -EINVAL for a bad kind.
 */
int obs_epoch_need_slow(struct obs_epoch *e, unsigned kind, uint32_t n_new);

static inline int obs_epoch_need(struct obs_epoch *e, unsigned kind, uint32_t n_new)
{
	if (likely(kind < OBX_TAB_MAX && e->t[kind].base != NULL &&
	           e->t[kind].n_used + (uint64_t)n_new <= e->t[kind].soft_limit))
		return 0;
	return obs_epoch_need_slow(e, kind, n_new);
}

/*
 * One packet, one slot.  A forced swap publishes the pending counters with every table,
 * so a swap in the middle of a packet would put what was counted or recorded before it
 * in one epoch and the rest in the next (its counters here, its source record there).
 * So the worker holds swaps off from before it counts a packet until after the packet's
 * last stage: obs_epoch_hold() ... obs_epoch_unhold().  While held, a new record that
 * passes a table's soft limit does not swap: it goes in under the hard limit (beyond it,
 * lost and counted) and marks the swap due; the next obs_epoch_hold(), before anything of
 * the next packet is counted, makes that forced swap (waiting in replay, as
 * obs_epoch_need() does; if it cannot, the next record past the limit marks it again).
 * The worker holds for a whole burst and makes a due swap at the top of each packet
 * (the same as obs_epoch_hold() per packet, one test a packet).  Time boundaries
 * (obs_epoch_time()) come between packets, before that test.
 */
void obs_epoch_swap_due(struct obs_epoch *e);

static inline void obs_epoch_hold(struct obs_epoch *e)
{
	if (unlikely(e->swap_due))
		obs_epoch_swap_due(e);
	e->hold = true;
}

static inline void obs_epoch_unhold(struct obs_epoch *e)
{
	e->hold = false;
}

/*
 * THE find-or-insert of the worker's hash tables: steps 1 and 2 of the pointer rule for
 * one record.  Probes kind's table in the filling slot from hash (linear, & mask) for the
 * record match(rec, key) accepts, up to the first record used(rec) says is empty (its
 * count field is 0).  Returns
 *   OBS_EPOCH_FOUND    *rec is key's record: update it in place;
 *   OBS_EPOCH_NEW      *rec is the empty record where key goes, room reserved: write it
 *                      whole (count field non-zero) and (*obs_epoch_n_used(e, kind))++
 *                      before any call that can swap;
 *   OBS_EPOCH_SWAPPED  the reservation published the slot: every table is new and holds
 *                      nothing of before: probe again (a caller holding a pointer of its
 *                      own into the old slot starts over instead);
 *   OBS_EPOCH_NONE     no record: the kind is absent (nothing counted: the stage is off)
 *                      or there is no room / the worker finished (lost_updates counted).
 * rec_size is the record type's size (a constant: the header's tab_rec_size[kind] equals
 * it).  Always inlined: with constant match/used each stage gets its own probe loop,
 * as tight as a hand-written one (the source record's is the per-packet hot path).
 */
enum obs_epoch_find {
	OBS_EPOCH_NONE = -1,
	OBS_EPOCH_FOUND = 0,
	OBS_EPOCH_NEW = 1,
	OBS_EPOCH_SWAPPED = 2,
};

static inline __attribute__((always_inline)) int
obs_epoch_find_or_insert(struct obs_epoch *e, unsigned kind, uint32_t hash, const void *key,
                         bool (*match)(const void *rec, const void *key),
                         bool (*used)(const void *rec), size_t rec_size, void **rec)
{
	const struct obs_epoch_tab *t = &e->t[kind];
	uint8_t *base = t->base;
	const uint32_t mask = t->mask;
	uint8_t *r;
	int rc;

	/* SRC is always present (after obs_epoch_finish() it is e->empty, which takes
	 * nothing), so its probe skips this test: kind is a constant here */
	if (kind != OBX_TAB_SRC && unlikely(base == NULL)) {
		if (t->capacity != 0)
			e->c.lost_updates++;    /* finished: nothing more is recorded */
		return OBS_EPOCH_NONE;
	}
	for (uint32_t i = hash & mask;; i = (i + 1) & mask) {
		r = base + (size_t)i * rec_size;
		if (!used(r))
			break;
		if (match(r, key)) {
			*rec = r;
			return OBS_EPOCH_FOUND;
		}
	}
	rc = obs_epoch_need(e, kind, 1);
	if (likely(rc == 0)) {
		/* publish what is used (exchange.h): the caller bumps n_used after writing */
		t->used[t->n_used] = (uint32_t)((r - base) / rec_size);
		*rec = r;
		return OBS_EPOCH_NEW;
	}
	if (rc == 1)
		return OBS_EPOCH_SWAPPED;
	e->c.lost_updates++;
	return OBS_EPOCH_NONE;
}

/*
 * The packet's inline event for obs_epoch_src() (exchange.h, struct obx_src_rec): the
 * one event (type, sensor, category) the packet is, or 0 when it is not exactly one
 * packet-class event (excluded, a payload packet the rules will scan, events off).
 */
#define OBS_SRC_EV_SET (1ull << 63)
static inline uint64_t obs_src_ev(uint32_t type, uint8_t sensor, uint8_t category)
{
	return OBS_SRC_EV_SET | (uint64_t)category << 40 | (uint64_t)sensor << 32 | type;
}

static inline uint64_t obs_src_rec_ev(const struct obx_src_rec *r)
{
	return obs_src_ev(r->ev_type, r->ev_sensor, r->ev_category);
}

/* Write r's inline event into the EVENT table (out of line).  1 = that swapped the slot
 * (r is stale: start over), 0 = done or lost (counted); r->ev_mode is then NONE. */
int obs_epoch_src_spill(struct obs_epoch *e, struct obx_src_rec *r);

static inline bool obs_src_match(const void *rec, const void *key)
{
	uint64_t k;

	memcpy(&k, rec, sizeof(k));     /* addr and hour are adjacent: one 64-bit compare */
	return k == *(const uint64_t *)key;
}

static inline bool obs_src_used(const void *rec)
{
	return ((const struct obx_src_rec *)rec)->packets != 0;
}

/*
 * The worker's cache in a source record (struct obx_src_rec.wk): OBS_SRC_WK_NOT_RESIP
 * with the low bits of the RESIP table's generation says "this address is not in that
 * RESIP table" (membership does not depend on the packet time; only a member needs the
 * window check).  A packet of a source already recorded in the epoch then needs no RESIP
 * lookup at all (worker.c); a table reload changes the generation, so an old verdict
 * never matches.  0: nothing known.
 */
#define OBS_SRC_WK_NOT_RESIP 0x80u
#define OBS_SRC_WK_GEN       0x7fu

static inline uint8_t obs_src_wk_not_resip(uint64_t generation)
{
	return (uint8_t)(OBS_SRC_WK_NOT_RESIP | (generation & OBS_SRC_WK_GEN));
}

/* Read only: the wk byte of (addr, hour of t)'s record in the filling slot, 0 when the
 * epoch has no such record.  No reservation, no swap: the pointer rule does not apply. */
static inline uint8_t obs_epoch_src_wk(const struct obs_epoch *e, uint32_t addr, uint64_t t)
{
	const struct obs_epoch_tab *st = &e->t[OBX_TAB_SRC];
	const uint32_t hour = obs_epoch_hour_of(e, t);
	const uint64_t key = (uint64_t)addr | (uint64_t)hour << 32;

	for (uint32_t i = obx_src_key_hash(addr, hour) & st->mask;; i = (i + 1) & st->mask) {
		const struct obx_src_rec *r = (const struct obx_src_rec *)st->base + i;

		if (!obs_src_used(r))
			return 0;
		if (obs_src_match(r, &key))
			return r->wk;
	}
}

/* A SYN labelled tool (fingerprint.h) lands in record r: the record keeps its first label
 * and counts the SYNs of that label, and those of any other label apart (docs/exchange.md). */
static inline void obs_src_tool(struct obx_src_rec *r, uint8_t tool)
{
	if (r->tool == 0 || r->tool == tool) {
		r->tool = tool;
		r->tool_syns++;
	} else if (r->tool_other != UINT16_MAX) {
		r->tool_other++;
	}
}

/*
 * Record one packet of source addr at time t seen by the sensors in sensor_bit, in the
 * (addr, hour) record: flags are ORed in (OBX_SRC_F_*), resip (0 or 1) is added to
 * resip_packets.  ev is the packet's inline event (obs_src_ev()) or 0.  Returns 1 when
 * the record took the packet's event inline (the caller records no event for it), 0
 * when the caller's event stage must put its events in the EVENT table (as before the
 * inline event existed; also when the packet was lost).  wk, when not 0, is stored as
 * the record's worker cache (OBS_SRC_WK_*).
 */
static inline int obs_epoch_src_fp(struct obs_epoch *e, uint32_t addr, uint64_t t,
                                   uint64_t sensor_bit, uint32_t flags, uint32_t resip,
                                   uint64_t ev, uint8_t wk, uint8_t tool)
{
	struct obx_src_rec *r;
	uint32_t hour;
	uint64_t key;
	int rc;

again:
	hour = obs_epoch_hour(e, t);
	key = (uint64_t)addr | (uint64_t)hour << 32;
	rc = obs_epoch_find_or_insert(e, OBX_TAB_SRC, obx_src_key_hash(addr, hour), &key,
	                              obs_src_match, obs_src_used, sizeof(*r), (void **)&r);
	if (likely(rc == OBS_EPOCH_FOUND)) {
		if (r->ev_mode == OBX_SRC_EV_INLINE && unlikely(obs_src_rec_ev(r) != ev) &&
		    obs_epoch_src_spill(e, r) == 1)
			goto again;     /* swapped: the record is in the published slot */
		/* min/max, not "latest": packet time may go backwards */
		if (unlikely(t < r->first_ns))
			r->first_ns = t;
		if (t > r->last_ns)
			r->last_ns = t;
		r->packets++;
		r->sensor_mask |= sensor_bit;
		r->flags |= flags;
		r->resip_packets += resip;
		if (wk != 0)
			r->wk = wk;
		if (unlikely(tool != 0))
			obs_src_tool(r, tool);
		return r->ev_mode == OBX_SRC_EV_INLINE;
	}
	if (unlikely(rc != OBS_EPOCH_NEW)) {
		if (rc == OBS_EPOCH_SWAPPED)
			goto again;     /* a forced swap: probe the new slot */
		return 0;           /* lost, counted */
	}
	r->addr = addr;
	r->hour = hour;
	r->first_ns = t;
	r->last_ns = t;
	r->sensor_mask = sensor_bit;
	r->flags = flags;
	r->resip_packets = resip;
	r->ev_type = (uint32_t)ev;
	r->ev_sensor = (uint8_t)(ev >> 32);
	r->ev_category = (uint8_t)(ev >> 40);
	r->ev_mode = ev != 0 ? OBX_SRC_EV_INLINE : OBX_SRC_EV_NONE;
	r->wk = wk;
	r->tool = tool;
	r->tool_rsv = 0;
	r->tool_other = 0;
	r->tool_syns = tool != 0;
	r->packets = 1;
	(*obs_epoch_n_used(e, OBX_TAB_SRC))++;
	return ev != 0;
}

/* The same without a fingerprint label (every packet but a labelled SYN). */
static inline int obs_epoch_src(struct obs_epoch *e, uint32_t addr, uint64_t t,
                                uint64_t sensor_bit, uint32_t flags, uint32_t resip, uint64_t ev,
                                uint8_t wk)
{
	return obs_epoch_src_fp(e, addr, t, sensor_bit, flags, resip, ev, wk, 0);
}

/*
 * Hand out the next BITMAP pool entry (all zero bits) of the filling slot: its address,
 * its index in *index.  NULL when there is no room (the caller counts lost_updates).  It
 * calls obs_epoch_need(e, OBX_TAB_BITMAP, 1) itself, so it may swap (obs_epoch_gen()
 * changes; the entry is then in the new slot and any pointer held before is stale);
 * after the caller's own successful need() for the pool it cannot swap.  An index is
 * meaningful only within the slot it was handed out in.
 */
void *obs_epoch_bitmap_alloc(struct obs_epoch *e, uint32_t *index);

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
