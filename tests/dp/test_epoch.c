/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_epoch.c — the worker side of the exchange slot handshake (dataplane/epoch.c) on a
 * heap-allocated exchange, no EAL.  The test plays both the worker (pkt()) and the
 * control plane (drain()), and checks after every path that no counter is lost: the
 * deltas of every published slot plus the pending ones equal what was fed in.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "epoch.h"
#include "exchange.h"
#include "../fixtures/heap_xchg.h"
#include "../fixtures/test_main.h"

#define CAP 1024u
#define SOFT (CAP * OBX_SRC_MAX_LOAD / 1000u)     /* 768 */
#define HARD (CAP * OBS_EPOCH_HARD_LOAD / 1000u)  /* 896 */
#define EPOCH 1000u

/* The fixture's second kind: a CELL table of test records (count first, as every hash
 * kind's record must have a zero-means-empty count), and a small BITMAP pool. */
#define CELLCAP 64u
#define CELL_SOFT (CELLCAP * OBX_TAB_MAX_LOAD / 1000u)   /* 48 */
#define CELL_HARD (CELLCAP * OBS_EPOCH_HARD_LOAD / 1000u) /* 56 */
#define BMCAP 16u
#define BM_SOFT (BMCAP * OBS_EPOCH_POOL_SOFT / 1000u)    /* 12 */

struct test_cell {
	uint64_t count;               /* 0 = empty */
	uint32_t key;
	uint32_t bitmap;              /* index into the BITMAP pool + 1 (0: none) */
	uint64_t pad[2];
};

/* Two workers (the fixture is worker 1), one port, SRC + test CELL + BITMAP. */
static struct obx_header *layout(void)
{
	uint32_t cap[OBX_TAB_MAX] = { 0 }, rs[OBX_TAB_MAX] = OBX_REC_SIZES;

	cap[OBX_TAB_SRC] = CAP;
	cap[OBX_TAB_CELL] = CELLCAP;
	rs[OBX_TAB_CELL] = sizeof(struct test_cell);
	cap[OBX_TAB_BITMAP] = BMCAP;
	rs[OBX_TAB_BITMAP] = 64;
	return heap_xchg(2, 1, cap, rs);
}

struct fx {
	struct obx_header *h;
	struct obs_epoch e;
	uint64_t fed;                 /* packets fed */
	struct obx_counters drained;  /* sum of drained deltas */
	uint64_t drained_rec_pkts;    /* sum of record packets drained */
	uint64_t drained_cells, drained_bitmaps;
	uint64_t last_seq;
	uint32_t n_drained;
	uint32_t last_flags;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->h = layout();
	assert_non_null(f->h);
	assert_int_equal(obs_epoch_init(&f->e, f->h, 1, EPOCH), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	free(f->h);
	free(f);
	return 0;
}

static struct obx_slot_hdr *slot(struct fx *f, uint32_t s)
{
	return obx_slot(f->h, 1, s);
}

static uint32_t st(struct fx *f, uint32_t s)
{
	return atomic_load(&slot(f, s)->state);
}

/* What the worker does for one accepted telescope packet. */
static void pkt(struct fx *f, uint32_t src, uint64_t t, uint64_t sbit)
{
	obs_epoch_time(&f->e, t);
	f->e.c.rx_packets++;
	f->e.c.tel_packets++;
	obs_epoch_src(&f->e, src, t, sbit, 0, 0, 0, 0);
	f->fed++;
}

static struct obx_src_rec *find(struct obx_slot_hdr *sh, uint32_t addr)
{
	struct obx_src_rec *r = obx_slot_src(sh);
	uint32_t i;

	for (i = 0; i < CAP; i++)
		if (r[i].packets && r[i].addr == addr)
			return &r[i];
	return NULL;
}

/* The control plane's part: drain a READY slot, clear it, free it. */
static void drain(struct fx *f, uint32_t s)
{
	struct obx_slot_hdr *sh = slot(f, s);
	struct obx_src_rec *r = obx_slot_src(sh);
	uint32_t i, n = 0;

	assert_int_equal(atomic_load_explicit(&sh->state, memory_order_acquire), OBX_SLOT_READY);
	assert_true(sh->seq > f->last_seq);      /* strictly increasing */
	assert_int_equal(sh->seq, f->last_seq + 1);
	f->last_seq = sh->seq;
	assert_int_equal(sh->worker, 1);
	for (i = 0; i < f->h->tab_capacity[OBX_TAB_SRC]; i++)
		if (r[i].packets) {
			n++;
			f->drained_rec_pkts += r[i].packets;
		}
	assert_int_equal(n, sh->tabs[OBX_TAB_SRC].n_used);
	obs_counters_add(&f->drained, &sh->delta);
	f->n_drained++;
	f->last_flags = sh->flags;
	memset(r, 0, (size_t)f->h->tab_capacity[OBX_TAB_SRC] * sizeof(*r));
	/* the other kinds: count what the slot says is there, clear as the cp does */
	{
		struct test_cell *c = obx_slot_tab(sh, OBX_TAB_CELL);
		uint32_t nc = 0;

		for (i = 0; i < CELLCAP; i++)
			nc += c[i].count != 0;
		assert_int_equal(nc, sh->tabs[OBX_TAB_CELL].n_used);
		f->drained_cells += nc;
		f->drained_bitmaps += sh->tabs[OBX_TAB_BITMAP].n_used;
		memset(c, 0, CELLCAP * sizeof(*c));
		memset(obx_slot_tab(sh, OBX_TAB_BITMAP), 0, (size_t)BMCAP * 64);
		sh->tabs[OBX_TAB_CELL].n_used = 0;
		sh->tabs[OBX_TAB_BITMAP].n_used = 0;
	}
	memset(&sh->delta, 0, sizeof(sh->delta));
	sh->tabs[OBX_TAB_SRC].n_used = 0;
	atomic_store_explicit(&sh->state, OBX_SLOT_FREE, memory_order_release);
}

static uint64_t rec_pkts(struct obx_slot_hdr *sh)
{
	struct obx_src_rec *r = obx_slot_src(sh);
	uint64_t n = 0;
	uint32_t i;

	for (i = 0; i < CAP; i++)
		n += r[i].packets;
	return n;
}

/*
 * Nothing lost: the deltas of drained and still-READY slots plus the pending ones equal
 * what was fed; so do the records (drained, READY, filling) plus the counted losses.
 */
static void check_no_loss(struct fx *f)
{
	uint64_t rx = f->drained.rx_packets + f->e.c.rx_packets;
	uint64_t tel = f->drained.tel_packets + f->e.c.tel_packets;
	uint64_t lost = f->drained.lost_updates + f->e.c.lost_updates;
	uint64_t recs = f->drained_rec_pkts;
	uint32_t s;

	for (s = 0; s < OBX_SLOTS; s++) {
		struct obx_slot_hdr *sh = slot(f, s);
		uint32_t ss = atomic_load(&sh->state);

		if (ss == OBX_SLOT_READY) {
			rx += sh->delta.rx_packets;
			tel += sh->delta.tel_packets;
			lost += sh->delta.lost_updates;
		}
		if (ss != OBX_SLOT_FREE)
			recs += rec_pkts(sh);
	}
	assert_int_equal(rx, f->fed);
	assert_int_equal(tel, f->fed);
	assert_int_equal(recs + lost, f->fed);
}

static void t_init_takes_slot0(void **state)
{
	struct fx *f = *state;

	assert_int_equal(st(f, 0), OBX_SLOT_FILLING);
	assert_int_equal(st(f, 1), OBX_SLOT_FREE);
	assert_int_equal(f->e.t[OBX_TAB_SRC].soft_limit, SOFT);
	assert_int_equal(f->e.t[OBX_TAB_SRC].hard_limit, HARD);
	/* worker 0's slots are untouched */
	assert_int_equal(atomic_load(&obx_slot(f->h, 0, 0)->state), OBX_SLOT_FREE);
}

static void t_init_busy(void **state)
{
	struct fx *f = *state;
	struct obs_epoch e2;

	atomic_store(&obx_slot(f->h, 0, 0)->state, OBX_SLOT_READY);
	atomic_store(&obx_slot(f->h, 0, 1)->state, OBX_SLOT_READY);
	assert_int_equal(obs_epoch_init(&e2, f->h, 0, EPOCH), -EBUSY);
	assert_int_equal(obs_epoch_init(&e2, f->h, 2, EPOCH), -EINVAL);
	assert_int_equal(obs_epoch_init(&e2, f->h, 0, 0), -EINVAL);
}

static void t_insert_update(void **state)
{
	struct fx *f = *state;
	struct obx_src_rec *r;

	pkt(f, 0x0a000001, 300, 1);
	pkt(f, 0x0a000002, 310, 2);
	pkt(f, 0x0a000001, 200, 2);   /* backwards: first becomes 200 */
	pkt(f, 0x0a000001, 400, 1);
	pkt(f, 0, 350, 4);            /* address 0 is a valid source */
	assert_int_equal(f->e.c.time_backwards, 2);   /* 200 < 310, 350 < 400 */
	assert_int_equal(f->e.t[OBX_TAB_SRC].n_used, 3);
	r = find(slot(f, 0), 0x0a000001);
	assert_non_null(r);
	assert_int_equal(r->first_ns, 200);
	assert_int_equal(r->last_ns, 400);
	assert_int_equal(r->packets, 3);
	assert_int_equal(r->sensor_mask, 3);
	r = find(slot(f, 0), 0);
	assert_non_null(r);
	assert_int_equal(r->sensor_mask, 4);
	check_no_loss(f);
}

static void t_boundary_publish(void **state)
{
	struct fx *f = *state;
	struct obx_slot_hdr *s0 = slot(f, 0);

	pkt(f, 1, 100, 1);
	pkt(f, 2, 999, 1);
	assert_int_equal(st(f, 0), OBX_SLOT_FILLING);
	pkt(f, 3, 1000, 1);          /* t reaches the epoch end: publish, then count */
	assert_int_equal(st(f, 0), OBX_SLOT_READY);
	assert_int_equal(st(f, 1), OBX_SLOT_FILLING);
	assert_int_equal(s0->seq, 1);
	assert_int_equal(s0->t_first_ns, 100);
	assert_int_equal(s0->t_last_ns, 999);
	assert_int_equal(s0->tabs[OBX_TAB_SRC].n_used, 2);
	assert_int_equal(s0->delta.rx_packets, 2);
	assert_int_equal(s0->flags, 0);
	assert_true(s0->published_wall_ns > 0);
	assert_int_equal(f->e.c.rx_packets, 1);
	assert_int_equal(f->e.t[OBX_TAB_SRC].n_used, 1);
	assert_int_equal(f->e.live->seq_published, 1);
	assert_int_equal(f->e.live->total.rx_packets, 2);
	drain(f, 0);
	check_no_loss(f);
	/* an epoch with nothing in it is skipped, not published: t jumps 5 epochs */
	pkt(f, 4, 6500, 1);
	assert_int_equal(st(f, 1), OBX_SLOT_READY);
	assert_int_equal(slot(f, 1)->seq, 2);
	assert_int_equal(slot(f, 1)->delta.rx_packets, 1);
	assert_int_equal(f->e.epoch_end_ns, 7000);
	drain(f, 1);
	check_no_loss(f);
}

static void t_other_ready_keeps_filling(void **state)
{
	struct fx *f = *state;

	pkt(f, 1, 100, 1);
	pkt(f, 2, 1100, 1);          /* publishes slot 0 */
	assert_int_equal(st(f, 0), OBX_SLOT_READY);
	pkt(f, 3, 2100, 1);          /* boundary, but slot 0 not drained: keep filling */
	pkt(f, 2, 2200, 2);
	pkt(f, 4, 3500, 1);
	assert_int_equal(st(f, 0), OBX_SLOT_READY);
	assert_int_equal(st(f, 1), OBX_SLOT_FILLING);
	assert_int_equal(f->e.t[OBX_TAB_SRC].n_used, 3);
	assert_int_equal(f->e.c.rx_packets, 4);
	check_no_loss(f);
	drain(f, 0);
	pkt(f, 5, 3600, 1);          /* the longer epoch now closes */
	assert_int_equal(st(f, 1), OBX_SLOT_READY);
	assert_int_equal(slot(f, 1)->seq, 2);
	assert_int_equal(slot(f, 1)->delta.rx_packets, 4);
	assert_int_equal(slot(f, 1)->t_first_ns, 1100);
	assert_int_equal(slot(f, 1)->t_last_ns, 3500);
	assert_int_equal(f->e.epoch_end_ns, 4000);
	drain(f, 1);
	check_no_loss(f);
}

static void t_forced_swap(void **state)
{
	struct fx *f = *state;
	uint32_t i;

	for (i = 0; i < SOFT; i++)
		pkt(f, 0x14000000 + i, 10 + i / 100, 1);
	assert_int_equal(f->e.t[OBX_TAB_SRC].n_used, SOFT);
	assert_int_equal(st(f, 0), OBX_SLOT_FILLING);
	pkt(f, 0x14000000 + SOFT, 20, 1);   /* one past the load limit, other FREE */
	assert_int_equal(st(f, 0), OBX_SLOT_READY);
	assert_int_equal(slot(f, 0)->flags, OBX_SLOT_F_FORCED);
	assert_int_equal(slot(f, 0)->tabs[OBX_TAB_SRC].n_used, SOFT);
	assert_int_equal(f->e.t[OBX_TAB_SRC].n_used, 1);
	assert_int_equal(f->e.c.forced_swaps, 1);   /* goes out with the next slot */
	assert_int_equal(f->e.c.lost_updates, 0);
	assert_int_equal(f->e.epoch_end_ns, EPOCH); /* the epoch's end does not move */
	drain(f, 0);
	check_no_loss(f);
}

static void t_full_and_other_ready_counts_lost(void **state)
{
	struct fx *f = *state;
	uint32_t i, next = 0x1e000000;
	struct obx_src_rec *r;

	/* fill slot 0, force the swap, leave slot 0 READY (control plane away) */
	for (i = 0; i <= SOFT; i++)
		pkt(f, next++, 100, 1);
	assert_int_equal(st(f, 0), OBX_SLOT_READY);
	assert_int_equal(f->e.t[OBX_TAB_SRC].n_used, 1);
	/* slot 1 past the soft limit: no swap possible, keeps filling up to the hard one */
	while (f->e.t[OBX_TAB_SRC].n_used < HARD)
		pkt(f, next++, 200, 1);
	assert_int_equal(f->e.c.lost_updates, 0);
	assert_int_equal(f->e.c.forced_swaps, 1);
	for (i = 0; i < 50; i++)
		pkt(f, next++, 300, 2);
	assert_int_equal(f->e.c.lost_updates, 50);
	assert_int_equal(f->e.t[OBX_TAB_SRC].n_used, HARD);
	assert_int_equal(st(f, 1), OBX_SLOT_FILLING);
	/* a known source still gets its packets */
	pkt(f, 0x1e000000 + SOFT + 1, 310, 4);
	r = find(slot(f, 1), 0x1e000000 + SOFT + 1);
	assert_non_null(r);
	assert_int_equal(r->packets, 2);
	assert_int_equal(r->sensor_mask, 5);
	assert_int_equal(f->e.c.lost_updates, 50);
	check_no_loss(f);
	/* the control plane comes back: the next new source forces a swap */
	drain(f, 0);
	pkt(f, next++, 400, 1);
	assert_int_equal(st(f, 1), OBX_SLOT_READY);
	assert_int_equal(slot(f, 1)->flags, OBX_SLOT_F_FORCED);
	assert_int_equal(slot(f, 1)->delta.lost_updates, 50);
	assert_int_equal(slot(f, 1)->delta.forced_swaps, 1);
	assert_int_equal(f->e.c.forced_swaps, 1);
	assert_int_equal(f->e.t[OBX_TAB_SRC].n_used, 1);
	drain(f, 1);
	check_no_loss(f);
	assert_int_equal(f->drained.lost_updates, 50);
}

/* What the worker does for one accepted packet: held from before its counters to after
 * its records (epoch.h), between(f) running in the middle (the control plane). */
static void held_pkt(struct fx *f, uint32_t src, uint64_t t, void (*between)(struct fx *))
{
	obs_epoch_time(&f->e, t);
	obs_epoch_hold(&f->e);
	f->e.c.rx_packets++;
	f->e.c.tel_packets++;
	if (between != NULL)
		between(f);
	obs_epoch_src(&f->e, src, t, 1, 0, 0, 0, 0);
	obs_epoch_unhold(&f->e);
	f->fed++;
}

static void drain0(struct fx *f)
{
	drain(f, 0);
}

/* A held packet is never split by a swap: the record that passes the soft limit goes in
 * with its counters, the swap comes before the next packet is counted; a slot the
 * control plane frees in the middle of a packet is not swapped to. */
static void t_hold_one_packet_one_slot(void **state)
{
	struct fx *f = *state;
	uint32_t i, next = 0x28000000;

	for (i = 0; i < SOFT; i++)
		held_pkt(f, next++, 100, NULL);
	assert_int_equal(st(f, 0), OBX_SLOT_FILLING);
	held_pkt(f, next++, 110, NULL);                    /* past the soft limit: held */
	assert_int_equal(st(f, 0), OBX_SLOT_FILLING);
	assert_true(f->e.swap_due);
	assert_int_equal(f->e.t[OBX_TAB_SRC].n_used, SOFT + 1);
	held_pkt(f, next++, 120, NULL);                    /* its hold swaps first */
	assert_int_equal(st(f, 0), OBX_SLOT_READY);
	assert_int_equal(slot(f, 0)->flags, OBX_SLOT_F_FORCED);
	assert_int_equal(slot(f, 0)->delta.rx_packets, SOFT + 1);
	assert_int_equal(rec_pkts(slot(f, 0)), SOFT + 1);
	assert_int_equal(f->e.t[OBX_TAB_SRC].n_used, 1);
	/* slot 1 to the soft limit while slot 0 stays READY: no swap possible */
	while (f->e.t[OBX_TAB_SRC].n_used < SOFT)
		held_pkt(f, next++, 200, NULL);
	/* counted; the control plane frees slot 0; then its record passes the limit */
	held_pkt(f, next++, 210, drain0);
	assert_int_equal(st(f, 1), OBX_SLOT_FILLING);      /* held: no swap mid-packet */
	assert_int_equal(f->e.t[OBX_TAB_SRC].n_used, SOFT + 1);
	assert_int_equal(f->e.c.rx_packets, rec_pkts(slot(f, 1)));
	held_pkt(f, next++, 220, NULL);                    /* the next packet's hold swaps */
	assert_int_equal(st(f, 1), OBX_SLOT_READY);
	assert_int_equal(slot(f, 1)->delta.rx_packets, SOFT + 1);
	assert_int_equal(rec_pkts(slot(f, 1)), SOFT + 1);
	assert_int_equal(f->e.c.forced_swaps, 1);           /* goes out with slot 0 next */
	drain(f, 1);
	check_no_loss(f);
}

static void t_tick_closes_idle_epoch(void **state)
{
	struct fx *f = *state;

	obs_epoch_tick(&f->e, 5000);           /* before any packet: nothing */
	assert_int_equal(st(f, 0), OBX_SLOT_FILLING);
	pkt(f, 9, 100, 1);
	obs_epoch_tick(&f->e, 999);
	assert_int_equal(st(f, 0), OBX_SLOT_FILLING);
	obs_epoch_tick(&f->e, 1500);
	assert_int_equal(st(f, 0), OBX_SLOT_READY);
	assert_int_equal(f->e.epoch_end_ns, 2000);
	drain(f, 0);
	obs_epoch_tick(&f->e, 2500);           /* empty epoch: not published */
	assert_int_equal(st(f, 1), OBX_SLOT_FILLING);
	check_no_loss(f);
}

static void t_finish(void **state)
{
	struct fx *f = *state;
	struct obx_slot_hdr *s;

	pkt(f, 1, 100, 1);
	pkt(f, 2, 1100, 1);                  /* slot 0 READY, not drained */
	pkt(f, 3, 1200, 1);
	/* FINAL needs no second slot: published even with slot 0 READY */
	assert_int_equal(obs_epoch_finish(&f->e), 0);
	s = slot(f, 1);
	assert_int_equal(st(f, 1), OBX_SLOT_READY);
	assert_int_equal(s->flags & OBX_SLOT_F_FINAL, OBX_SLOT_F_FINAL);
	assert_int_equal(s->seq, 2);
	assert_int_equal(s->delta.rx_packets, 2);
	assert_int_equal(obs_epoch_finish(&f->e), -EALREADY);
	/* after finish nothing is written to a published slot; a packet is a counted loss */
	pkt(f, 77, 1300, 1);
	pkt(f, 77, 9999, 1);
	assert_null(find(s, 77));
	assert_int_equal(s->tabs[OBX_TAB_SRC].n_used, 2);
	assert_int_equal(f->e.c.lost_updates, 2);
	drain(f, 0);
	drain(f, 1);
	assert_int_equal(f->last_flags & OBX_SLOT_F_FINAL, OBX_SLOT_F_FINAL);
	check_no_loss(f);
}

static void t_finish_empty(void **state)
{
	struct fx *f = *state;

	/* a worker that saw nothing still publishes its FINAL epoch */
	assert_int_equal(obs_epoch_finish(&f->e), 0);
	assert_int_equal(st(f, 0), OBX_SLOT_READY);
	assert_int_equal(slot(f, 0)->flags, OBX_SLOT_F_FINAL);
	assert_int_equal(slot(f, 0)->seq, 1);
	assert_int_equal(slot(f, 0)->tabs[OBX_TAB_SRC].n_used, 0);
	drain(f, 0);
}

static void t_counters_add(void **state)
{
	struct obx_counters a, b;

	(void)state;
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	a.rx_packets = 1;
	a.drops[OBX_DROP_NOT_TELESCOPE] = 2;
	b.rx_packets = 10;
	b.drops[OBX_DROP_NOT_TELESCOPE] = 20;
	b.forced_swaps = 3;
	b.reserved[4] = 7;
	obs_counters_add(&a, &b);
	assert_int_equal(a.rx_packets, 11);
	assert_int_equal(a.drops[OBX_DROP_NOT_TELESCOPE], 22);
	assert_int_equal(a.forced_swaps, 3);
	assert_int_equal(a.reserved[4], 7);
}

/* Many epochs, random-ish sources and a lazy control plane: exact totals throughout. */
static void t_soak(void **state)
{
	struct fx *f = *state;
	uint64_t t = 0;
	uint32_t i, x = 12345;

	for (i = 0; i < 200000; i++) {
		x = x * 1103515245u + 12345u;
		t += (x >> 28);                  /* 0..15 ns steps */
		pkt(f, (x >> 8) & 0xfff, t - ((x & 3) == 0 ? 5 : 0), 1ull << (x & 7));
		if ((x & 0x3ff) == 0) {          /* the control plane drains now and then */
			if (st(f, 0) == OBX_SLOT_READY && st(f, 1) == OBX_SLOT_READY) {
				/* drain in seq order */
				if (slot(f, 0)->seq < slot(f, 1)->seq) {
					drain(f, 0);
					drain(f, 1);
				} else {
					drain(f, 1);
					drain(f, 0);
				}
			} else if (st(f, 0) == OBX_SLOT_READY) {
				drain(f, 0);
			} else if (st(f, 1) == OBX_SLOT_READY) {
				drain(f, 1);
			}
		}
	}
	obs_epoch_finish(&f->e);
	if (st(f, 0) == OBX_SLOT_READY && st(f, 1) == OBX_SLOT_READY &&
	    slot(f, 1)->seq < slot(f, 0)->seq) {
		drain(f, 1);
		drain(f, 0);
	} else {
		if (st(f, 0) == OBX_SLOT_READY)
			drain(f, 0);
		if (st(f, 1) == OBX_SLOT_READY)
			drain(f, 1);
	}
	check_no_loss(f);
	assert_true(f->n_drained > 10);
	assert_int_equal(f->last_flags & OBX_SLOT_F_FINAL, OBX_SLOT_F_FINAL);
}

/* ---- v2: a second kind, the BITMAP pool, hour keys, the replay wait ---- */

static bool cell_match(const void *rec, const void *key)
{
	return ((const struct test_cell *)rec)->key == *(const uint32_t *)key;
}

static bool cell_used(const void *rec)
{
	return ((const struct test_cell *)rec)->count != 0;
}

/* A stage of the test kind, by the rules of epoch.h through its find-or-insert: update
 * in place, or write a new record (count last) and bump n_used; re-probe after a swap.
 * Returns 0, or -ENOSPC (lost, counted). */
static int cell_add(struct obs_epoch *e, uint32_t key)
{
	struct test_cell *c;

	for (;;) {
		switch (obs_epoch_find_or_insert(e, OBX_TAB_CELL, obx_src_hash(key), &key, cell_match,
		                                 cell_used, sizeof(*c), (void **)&c)) {
		case OBS_EPOCH_FOUND:
			c->count++;
			return 0;
		case OBS_EPOCH_NEW:
			c->key = key;
			c->count = 1;
			(*obs_epoch_n_used(e, OBX_TAB_CELL))++;
			return 0;
		case OBS_EPOCH_SWAPPED:
			continue;
		default:
			return -ENOSPC;
		}
	}
}

static struct test_cell *cell_find(struct obx_slot_hdr *sh, uint32_t key)
{
	struct test_cell *c = obx_slot_tab(sh, OBX_TAB_CELL);

	for (uint32_t i = 0; i < CELLCAP; i++)
		if (c[i].count != 0 && c[i].key == key)
			return &c[i];
	return NULL;
}

/* need(): 0 under the soft limit; at it a forced swap that publishes every table
 * together (SRC records ride along), then the caller re-probes in the new slot. */
static void t_need_second_kind(void **state)
{
	struct fx *f = *state;
	uint32_t gen;

	assert_int_equal(f->e.t[OBX_TAB_CELL].soft_limit, CELL_SOFT);
	assert_int_equal(f->e.t[OBX_TAB_CELL].hard_limit, CELL_HARD);
	pkt(f, 0x0a000001, 10, 1);       /* a source record in the same slot */
	for (uint32_t k = 0; k < CELL_SOFT; k++)
		assert_int_equal(cell_add(&f->e, 1000 + k), 0);
	assert_int_equal(*obs_epoch_n_used(&f->e, OBX_TAB_CELL), CELL_SOFT);
	assert_int_equal(cell_add(&f->e, 1000), 0);            /* an update: no room needed */
	assert_int_equal(obs_epoch_need(&f->e, OBX_TAB_CELL, 0), 0);
	assert_int_equal(st(f, 0), OBX_SLOT_FILLING);
	gen = obs_epoch_gen(&f->e);
	/* one more new record: forced swap */
	assert_int_equal(cell_add(&f->e, 5000), 0);
	assert_int_not_equal(obs_epoch_gen(&f->e), gen);
	assert_int_equal(st(f, 0), OBX_SLOT_READY);
	assert_int_equal(slot(f, 0)->flags & OBX_SLOT_F_FORCED, OBX_SLOT_F_FORCED);
	assert_int_equal(slot(f, 0)->tabs[OBX_TAB_CELL].n_used, CELL_SOFT);
	assert_int_equal(slot(f, 0)->tabs[OBX_TAB_SRC].n_used, 1);   /* all tables together */
	assert_non_null(find(slot(f, 0), 0x0a000001));
	assert_int_equal(cell_find(slot(f, 0), 1000)->count, 2);
	assert_null(cell_find(slot(f, 0), 5000));
	assert_int_equal(cell_find(slot(f, 1), 5000)->count, 1);   /* re-probed, new slot */
	assert_int_equal(*obs_epoch_n_used(&f->e, OBX_TAB_CELL), 1);
	assert_int_equal(f->e.t[OBX_TAB_SRC].n_used, 0);
	assert_int_equal(f->e.c.forced_swaps, 1);

	/* other slot READY: fill to the hard limit, then -ENOSPC and a counted loss */
	for (uint32_t k = 1; k < CELL_HARD; k++)
		assert_int_equal(cell_add(&f->e, 9000 + k), 0);
	assert_int_equal(*obs_epoch_n_used(&f->e, OBX_TAB_CELL), CELL_HARD);
	assert_int_equal(cell_add(&f->e, 123456), -ENOSPC);
	assert_int_equal(obs_epoch_need(&f->e, OBX_TAB_CELL, 1), -ENOSPC);
	assert_int_equal(f->e.c.lost_updates, 1);
	assert_int_equal(cell_add(&f->e, 9001), 0);            /* updates still land */
	/* drained: the next new record swaps again */
	drain(f, 0);
	assert_int_equal(f->drained_cells, CELL_SOFT);
	assert_int_equal(obs_epoch_need(&f->e, OBX_TAB_CELL, 1), 1);
	assert_int_equal(st(f, 1), OBX_SLOT_READY);
	assert_int_equal(st(f, 0), OBX_SLOT_FILLING);
	/* absent kinds and bad kinds: no room, never a crash */
	assert_null(obs_epoch_tab(&f->e, OBX_TAB_EVENT, NULL));
	assert_int_equal(obs_epoch_need(&f->e, OBX_TAB_EVENT, 1), -ENOSPC);
	assert_int_equal(obs_epoch_need(&f->e, OBX_TAB_MAX, 1), -EINVAL);
	/* more than the hard limit at once can never fit */
	assert_int_equal(obs_epoch_need(&f->e, OBX_TAB_CELL, CELL_HARD + 1), -ENOSPC);
	/* deltas ride with the slots: two forced swaps, one loss, none dropped */
	assert_int_equal(f->drained.forced_swaps + slot(f, 1)->delta.forced_swaps +
	                 f->e.c.forced_swaps, 2);
	assert_int_equal(f->drained.lost_updates + slot(f, 1)->delta.lost_updates +
	                 f->e.c.lost_updates, 1);
}

/* The pool: sequential indices; at its soft limit the alloc swaps (gen changes, the
 * entry comes from the new slot, index 0); pointers from before point into the
 * published slot, whose entries stay as written. */
static void t_bitmap_across_swap(void **state)
{
	struct fx *f = *state;
	uint8_t *old[BMCAP];
	uint32_t idx, gen;
	uint8_t *p;

	for (uint32_t k = 0; k < BM_SOFT; k++) {
		old[k] = obs_epoch_bitmap_alloc(&f->e, &idx);
		assert_non_null(old[k]);
		assert_int_equal(idx, k);
		assert_ptr_equal(old[k], (uint8_t *)obx_slot_tab(slot(f, 0), OBX_TAB_BITMAP) + k * 64);
		old[k][0] = (uint8_t)(k + 1);
	}
	/* the rule for several kinds: need() first; then the alloc cannot swap */
	gen = obs_epoch_gen(&f->e);
	assert_int_equal(obs_epoch_need(&f->e, OBX_TAB_CELL, 1), 0);
	assert_int_equal(obs_epoch_need(&f->e, OBX_TAB_BITMAP, 1), 1);   /* pool at 3/4 */
	assert_int_not_equal(obs_epoch_gen(&f->e), gen);
	gen = obs_epoch_gen(&f->e);
	assert_int_equal(obs_epoch_need(&f->e, OBX_TAB_CELL, 1), 0);      /* again: no swap */
	assert_int_equal(obs_epoch_need(&f->e, OBX_TAB_BITMAP, 1), 0);
	assert_int_equal(obs_epoch_gen(&f->e), gen);
	p = obs_epoch_bitmap_alloc(&f->e, &idx);
	assert_int_equal(obs_epoch_gen(&f->e), gen);
	assert_int_equal(idx, 0);
	assert_ptr_equal(p, obx_slot_tab(slot(f, 1), OBX_TAB_BITMAP));
	assert_int_equal(slot(f, 0)->tabs[OBX_TAB_BITMAP].n_used, BM_SOFT);
	for (uint32_t k = 0; k < BM_SOFT; k++)
		assert_int_equal(old[k][0], k + 1);      /* published, untouched */
	/* READY other slot: the pool fills to the end, then NULL and no swap */
	for (uint32_t k = 1; k < BMCAP; k++)
		assert_non_null(obs_epoch_bitmap_alloc(&f->e, &idx));
	assert_int_equal(idx, BMCAP - 1);
	gen = obs_epoch_gen(&f->e);
	assert_null(obs_epoch_bitmap_alloc(&f->e, &idx));
	assert_int_equal(obs_epoch_gen(&f->e), gen);
	/* drained: alloc alone swaps and reports it through the generation */
	drain(f, 0);
	assert_int_equal(f->drained_bitmaps, BM_SOFT);
	p = obs_epoch_bitmap_alloc(&f->e, &idx);
	assert_non_null(p);
	assert_int_equal(idx, 0);
	assert_int_not_equal(obs_epoch_gen(&f->e), gen);
	assert_ptr_equal(p, obx_slot_tab(slot(f, 0), OBX_TAB_BITMAP));
	/* after finish nothing is handed out */
	assert_int_equal(obs_epoch_finish(&f->e), 0);
	assert_null(obs_epoch_bitmap_alloc(&f->e, &idx));
	assert_null(obs_epoch_tab(&f->e, OBX_TAB_CELL, NULL));
	assert_int_equal(obs_epoch_need(&f->e, OBX_TAB_CELL, 1), -ENOSPC);
}

/* One source across three hours (and back into the first): three records, each with
 * its hour, first/last within it, packets split by hour; flags OR and resip add up. */
static void t_hour_keys(void **state)
{
	struct fx *f = *state;
	const uint64_t H = OBX_HOUR_NS, base = 472222ull * H;   /* 2023-11-14 */
	struct obx_src_rec *r[3];

	f->e.epoch_ns = 1000ull * H;          /* one epoch holds them all */
	obs_epoch_time(&f->e, base + 5);
	obs_epoch_src(&f->e, 0x0a000001, base + 5, 1, OBX_SRC_F_SCANNER, 0, 0, 0);
	obs_epoch_src(&f->e, 0x0a000001, base + H - 1, 2, 0, 1, 0, 0);
	obs_epoch_src(&f->e, 0x0a000001, base + H, 1, OBX_SRC_F_RESIP, 1, 0, 0);
	obs_epoch_src(&f->e, 0x0a000001, base + 2 * H + 7, 1, 0, 0, 0, 0);
	obs_epoch_src(&f->e, 0x0a000001, base + 100, 4, OBX_SRC_F_EXCLUDED, 0, 0, 0);  /* back */
	obs_epoch_src(&f->e, 0x0a000002, base + 2 * H + 9, 1, 0, 0, 0, 0);
	assert_int_equal(f->e.t[OBX_TAB_SRC].n_used, 4);
	assert_int_equal(obs_epoch_finish(&f->e), 0);
	for (uint32_t h = 0; h < 3; h++) {
		struct obx_src_rec *tab = obx_slot_src(slot(f, 0));

		r[h] = NULL;
		for (uint32_t i = 0; i < CAP; i++)
			if (tab[i].packets && tab[i].addr == 0x0a000001 && tab[i].hour == 472222 + h)
				r[h] = &tab[i];
		assert_non_null(r[h]);
	}
	assert_int_equal(r[0]->packets, 3);
	assert_int_equal(r[0]->first_ns, base + 5);
	assert_int_equal(r[0]->last_ns, base + H - 1);
	assert_int_equal(r[0]->sensor_mask, 1 | 2 | 4);
	assert_int_equal(r[0]->flags, OBX_SRC_F_SCANNER | OBX_SRC_F_EXCLUDED);
	assert_int_equal(r[0]->resip_packets, 1);
	assert_int_equal(r[1]->packets, 1);
	assert_int_equal(r[1]->first_ns, base + H);
	assert_int_equal(r[1]->flags, OBX_SRC_F_RESIP);
	assert_int_equal(r[1]->resip_packets, 1);
	assert_int_equal(r[2]->packets, 1);
	assert_int_equal(r[2]->first_ns, base + 2 * H + 7);
	assert_int_equal(r[2]->last_ns, base + 2 * H + 7);
	assert_int_equal(r[2]->flags, 0);
	/* where the worker prefetches is where the record went (no collisions here) */
	assert_int_equal(obx_src_key_hash(0x0a000001, 472222 + 1) & (CAP - 1),
	                 (uint32_t)(r[1] - obx_slot_src(slot(f, 0))));
}

/* Replay: a full table waits (bounded) for the drain instead of losing; a drainer
 * thread frees the other slot while the worker waits. */
#include <pthread.h>
#include <time.h>

struct drainer {
	struct fx *f;
	uint32_t s;
	unsigned delay_ms;
};

static void *drainer_main(void *arg)
{
	struct drainer *d = arg;
	struct timespec ts = { .tv_sec = 0, .tv_nsec = (long)d->delay_ms * 1000000L };

	nanosleep(&ts, NULL);
	drain(d->f, d->s);
	return NULL;
}

static void t_replay_wait(void **state)
{
	struct fx *f = *state;
	struct drainer d = { .f = f, .s = 0, .delay_ms = 30 };
	volatile int stop = 0;
	pthread_t th;

	f->e.full_wait_ns = 5ull * 1000000000ull;
	f->e.stop = &stop;
	for (uint32_t k = 0; k <= CELL_SOFT; k++)      /* the last one forces a swap */
		assert_int_equal(cell_add(&f->e, k), 0);
	assert_int_equal(st(f, 0), OBX_SLOT_READY);
	for (uint32_t k = 1; k < CELL_SOFT; k++)
		assert_int_equal(cell_add(&f->e, 100000 + k), 0);
	/* full again and slot 0 READY: the next new record waits for the drainer */
	assert_int_equal(pthread_create(&th, NULL, drainer_main, &d), 0);
	assert_int_equal(cell_add(&f->e, 777777), 0);
	assert_int_equal(pthread_join(th, NULL), 0);
	assert_int_equal(st(f, 1), OBX_SLOT_READY);
	assert_int_equal(st(f, 0), OBX_SLOT_FILLING);
	assert_non_null(cell_find(slot(f, 0), 777777));
	assert_int_equal(f->e.c.lost_updates, 0);
	/* pending deltas move into each published slot: count where they went */
	assert_int_equal(f->drained.forced_swaps + slot(f, 1)->delta.forced_swaps +
	                 f->e.c.forced_swaps, 2);
	/* the wait is bounded: no drainer, a short limit, then a loss at the hard limit */
	f->e.full_wait_ns = 20ull * 1000000ull;
	for (uint32_t k = 1; k < CELL_HARD; k++)
		assert_int_equal(cell_add(&f->e, 200000 + k), 0);
	assert_int_equal(cell_add(&f->e, 888888), -ENOSPC);
	assert_int_equal(f->e.c.lost_updates, 1);
	/* and abandoned at once when stopping */
	stop = 1;
	f->e.full_wait_ns = 60ull * 1000000000ull;
	assert_int_equal(cell_add(&f->e, 999999), -ENOSPC);
	assert_int_equal(f->e.c.lost_updates, 2);
}

/* exchange.h v4: the first n_used entries of a hash table's used-index list name
 * exactly its records in use (each once); the
 * worker's byte (epoch.h OBS_SRC_WK_*) is stored and read back per (addr, hour). */
static void t_used_list_and_wk(void **state)
{
	struct fx *f = *state;
	const uint64_t t0 = 1700000000ull * 1000000000ull;
	const uint8_t nm = obs_src_wk_not_resip(5);

	f->e.epoch_ns = 1000ull * OBX_HOUR_NS;
	obs_epoch_time(&f->e, t0);
	for (uint32_t a = 1; a <= 40; a++)
		obs_epoch_src(&f->e, 0x0b000000u + a % 29, t0 + a, 1, 0, 0, 0, a % 29 == 3 ? nm : 0);
	assert_int_equal(f->e.t[OBX_TAB_SRC].n_used, 29);
	assert_int_equal(obs_epoch_src_wk(&f->e, 0x0b000003u, t0 + 99), nm);
	assert_int_equal(obs_epoch_src_wk(&f->e, 0x0b000004u, t0 + 99), 0);
	assert_int_equal(obs_epoch_src_wk(&f->e, 0x0c000003u, t0 + 99), 0);     /* no record */
	assert_int_equal(obs_epoch_src_wk(&f->e, 0x0b000003u, t0 + OBX_HOUR_NS), 0); /* hour */
	/* a later packet without a verdict keeps the cached one */
	obs_epoch_src(&f->e, 0x0b000003u, t0 + 100, 1, 0, 0, 0, 0);
	assert_int_equal(obs_epoch_src_wk(&f->e, 0x0b000003u, t0 + 101), nm);
	assert_int_equal(obs_epoch_finish(&f->e), 0);
	{
		struct obx_slot_hdr *sh = slot(f, 0);
		const struct obx_src_rec *tab = obx_slot_src(sh);
		const uint32_t *used = obx_slot_used_h(f->h, sh, OBX_TAB_SRC);
		uint32_t n = sh->tabs[OBX_TAB_SRC].n_used, in_use = 0;
		uint8_t seen[CAP] = { 0 };

		assert_non_null(used);
		assert_int_equal(n, 29);
		for (uint32_t i = 0; i < n; i++) {
			assert_true(used[i] < CAP);
			assert_int_equal(seen[used[i]], 0);
			seen[used[i]] = 1;
			assert_int_not_equal(tab[used[i]].packets, 0);
		}
		for (uint32_t i = 0; i < CAP; i++)
			in_use += tab[i].packets != 0;
		assert_int_equal(in_use, n);
		assert_null(obx_slot_used_h(f->h, sh, OBX_TAB_BITMAP));
	}
}

#define TESTS(T) T(t_used_list_and_wk) T(t_init_takes_slot0) T(t_init_busy) T(t_insert_update) \
	T(t_boundary_publish) T(t_other_ready_keeps_filling) T(t_forced_swap) \
	T(t_full_and_other_ready_counts_lost) T(t_tick_closes_idle_epoch) T(t_finish) \
	T(t_finish_empty) T(t_counters_add) T(t_soak) T(t_need_second_kind) \
	T(t_bitmap_across_swap) T(t_hour_keys) T(t_replay_wait) T(t_hold_one_packet_one_slot)
OBS_TEST_MAIN_FX(TESTS)
