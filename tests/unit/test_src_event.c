/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_src_event.c — the inline event of the source record (exchange.h, struct
 * obx_src_rec; epoch.h obs_epoch_src(); events.c obs_epoch_src_spill()).
 *
 * The contract: a slot's events are exactly its EVENT records plus, for every source
 * record with ev_mode INLINE, the event (addr, hour, ev_sensor, ev_type) with count =
 * packets and first/last = the record's; never both for one key in one slot.  The tests
 * check the single steps (absorb, spill on another type / an excluded packet, a record
 * that starts in the EVENT table, a spill that forces the swap, a spill that finds no
 * room) and then a random stream against a brute-force reference, draining slots as the
 * control plane does.  Pure C, no EAL.
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
#include "events.h"
#include "exchange.h"
#include "../fixtures/heap_xchg.h"
#include "../fixtures/test_main.h"

#define SRCCAP 256u
#define EVCAP  16u
#define EV_SOFT (EVCAP * OBX_TAB_MAX_LOAD / 1000u)      /* 12 */
#define EV_HARD (EVCAP * OBS_EPOCH_HARD_LOAD / 1000u)   /* 14 */
#define EPOCH   1000000u
#define T0      (490000ull * OBX_HOUR_NS)                /* an hour boundary */

struct fx {
	struct obx_header *h;
	struct obs_epoch e;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	uint32_t cap[OBX_TAB_MAX] = { 0 }, rs[OBX_TAB_MAX] = OBX_REC_SIZES;

	assert_non_null(f);
	cap[OBX_TAB_SRC] = SRCCAP;
	cap[OBX_TAB_EVENT] = EVCAP;
	f->h = heap_xchg(1, 1, cap, rs);
	assert_non_null(f->h);
	assert_int_equal(obs_epoch_init(&f->e, f->h, 0, EPOCH), 0);
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
	return obx_slot(f->h, 0, s);
}

static struct obx_src_rec *src_in(struct obx_slot_hdr *sh, uint32_t addr)
{
	struct obx_src_rec *r = obx_slot_src(sh);

	for (uint32_t i = 0; i < SRCCAP; i++)
		if (r[i].packets != 0 && r[i].addr == addr)
			return &r[i];
	return NULL;
}

static struct obx_event_rec *ev_in(struct obx_slot_hdr *sh, uint32_t addr, uint32_t type)
{
	struct obx_event_rec *r = obx_slot_tab(sh, OBX_TAB_EVENT);

	for (uint32_t i = 0; i < EVCAP; i++)
		if (r[i].count != 0 && r[i].addr == addr && r[i].type == type)
			return &r[i];
	return NULL;
}

/* One packet as the worker's pass 2 handles it: excluded packets have no event. */
static int pkt(struct fx *f, uint32_t addr, uint64_t t, uint8_t sensor, uint32_t type,
               int excluded)
{
	uint64_t ev = excluded ? 0 : obs_src_ev(type, sensor, 0);
	int in;

	obs_epoch_time(&f->e, t);
	in = obs_epoch_src(&f->e, addr, t, 1ull << sensor, excluded ? OBX_SRC_F_EXCLUDED : 0, 0,
	                   ev, 0);
	if (!in && !excluded)
		obs_event_add(&f->e, addr, t, sensor, type, 0);
	return in;
}

static void t_absorb_then_spill(void **state)
{
	struct fx *f = *state;
	struct obx_slot_hdr *sh = slot(f, 0);
	struct obx_src_rec *r;
	struct obx_event_rec *v;

	assert_int_equal(pkt(f, 7, T0 + 10, 1, 23, 0), 1);
	assert_int_equal(pkt(f, 7, T0 + 5, 1, 23, 0), 1);     /* backwards: min first */
	assert_int_equal(pkt(f, 7, T0 + 30, 1, 23, 0), 1);
	r = src_in(sh, 7);
	assert_non_null(r);
	assert_int_equal(r->ev_mode, OBX_SRC_EV_INLINE);
	assert_int_equal(r->ev_type, 23);
	assert_int_equal(r->ev_sensor, 1);
	assert_int_equal(f->e.t[OBX_TAB_EVENT].n_used, 0);     /* nothing in the table */

	/* another type: the inline event goes to the table as it stood, then this one */
	assert_int_equal(pkt(f, 7, T0 + 40, 1, 2323, 0), 0);
	assert_int_equal(r->ev_mode, OBX_SRC_EV_NONE);
	assert_int_equal(r->packets, 4);
	v = ev_in(sh, 7, 23);
	assert_non_null(v);
	assert_int_equal(v->count, 3);
	assert_int_equal(v->first_ns, T0 + 5);
	assert_int_equal(v->last_ns, T0 + 30);
	assert_int_equal(v->sensor, 1);
	assert_int_equal(v->hour, (uint32_t)(T0 / OBX_HOUR_NS));
	v = ev_in(sh, 7, 2323);
	assert_non_null(v);
	assert_int_equal(v->count, 1);
	/* the first type again: the table record, not the record inline */
	assert_int_equal(pkt(f, 7, T0 + 50, 1, 23, 0), 0);
	assert_int_equal(ev_in(sh, 7, 23)->count, 4);
	assert_int_equal(f->e.t[OBX_TAB_EVENT].n_used, 2);

	/* the same type at another sensor is another event */
	assert_int_equal(pkt(f, 8, T0 + 60, 0, 23, 0), 1);
	assert_int_equal(pkt(f, 8, T0 + 61, 2, 23, 0), 0);
	assert_int_equal(src_in(sh, 8)->ev_mode, OBX_SRC_EV_NONE);
	assert_int_equal(f->e.t[OBX_TAB_EVENT].n_used, 4);
	assert_int_equal(f->e.c.lost_updates, 0);
}

static void t_excluded(void **state)
{
	struct fx *f = *state;
	struct obx_slot_hdr *sh = slot(f, 0);

	/* an excluded packet on an inline record: spill, the excluded one has no event */
	assert_int_equal(pkt(f, 9, T0 + 1, 0, 80, 0), 1);
	assert_int_equal(pkt(f, 9, T0 + 2, 0, 80, 0), 1);
	assert_int_equal(pkt(f, 9, T0 + 3, 0, 0, 1), 0);
	assert_int_equal(src_in(sh, 9)->ev_mode, OBX_SRC_EV_NONE);
	assert_int_equal(src_in(sh, 9)->packets, 3);
	assert_int_equal(ev_in(sh, 9, 80)->count, 2);
	assert_int_equal(ev_in(sh, 9, 80)->last_ns, T0 + 2);
	/* a record that starts excluded keeps its (later) events in the table */
	assert_int_equal(pkt(f, 10, T0 + 1, 0, 0, 1), 0);
	assert_int_equal(pkt(f, 10, T0 + 2, 0, 443, 0), 0);
	assert_int_equal(src_in(sh, 10)->ev_mode, OBX_SRC_EV_NONE);
	assert_int_equal(ev_in(sh, 10, 443)->count, 1);
	assert_int_equal(f->e.t[OBX_TAB_EVENT].n_used, 2);
}

/* The spill needs an EVENT record past the soft limit with the other slot FREE: it
 * forces the swap, and the packet starts over in the fresh slot, whole. */
static void t_spill_forces_swap(void **state)
{
	struct fx *f = *state;
	struct obx_src_rec *r0;

	for (uint32_t a = 100; a < 100 + EV_SOFT; a++) {      /* fill EVENT to soft */
		pkt(f, a, T0 + a, 0, 1, 0);
		pkt(f, a, T0 + a, 0, 2, 0);                   /* spill 1, then 2 */
		if (f->e.t[OBX_TAB_EVENT].n_used >= EV_SOFT)
			break;
	}
	assert_int_equal(f->e.t[OBX_TAB_EVENT].n_used, EV_SOFT);
	assert_int_equal(f->e.cur, 0);
	assert_int_equal(pkt(f, 5, T0 + 7, 0, 9, 0), 1);
	assert_int_equal(pkt(f, 5, T0 + 8, 0, 9, 0), 1);
	/* the spill of (5, 9) finds the table full: swap; in slot 1 the packet makes a new
	 * record that takes its own event inline */
	assert_int_equal(pkt(f, 5, T0 + 9, 0, 10, 0), 1);
	assert_int_equal(f->e.cur, 1);
	assert_int_equal(f->e.c.forced_swaps, 1);
	r0 = src_in(slot(f, 0), 5);
	assert_non_null(r0);
	assert_int_equal(r0->ev_mode, OBX_SRC_EV_INLINE);   /* published whole */
	assert_int_equal(r0->ev_type, 9);
	assert_int_equal(r0->packets, 2);
	assert_null(ev_in(slot(f, 0), 5, 9));
	assert_int_equal(src_in(slot(f, 1), 5)->packets, 1);
	assert_int_equal(src_in(slot(f, 1), 5)->ev_type, 10);
	assert_int_equal(atomic_load(&slot(f, 0)->state), OBX_SLOT_READY);
}

/* Other slot READY, EVENT table at its hard limit: the spill cannot happen; the
 * inline event's packets lose their event, counted. */
static void t_spill_no_room(void **state)
{
	struct fx *f = *state;
	struct obx_slot_hdr *other = slot(f, 1);

	atomic_store(&other->state, OBX_SLOT_READY);           /* not drained yet */
	for (uint32_t a = 100; f->e.t[OBX_TAB_EVENT].n_used < EV_HARD; a++) {
		pkt(f, a, T0 + a, 0, 1, 0);
		pkt(f, a, T0 + a, 0, 2, 0);
	}
	assert_int_equal(f->e.t[OBX_TAB_EVENT].n_used, EV_HARD);
	assert_int_equal(f->e.c.lost_updates, 0);
	pkt(f, 5, T0 + 7, 0, 9, 0);
	assert_int_equal(pkt(f, 5, T0 + 9, 0, 10, 0), 0);
	assert_int_equal(src_in(slot(f, 0), 5)->ev_mode, OBX_SRC_EV_NONE);
	assert_int_equal(src_in(slot(f, 0), 5)->packets, 2);
	/* the spill and the packet's own event: two losses, both counted */
	assert_int_equal(f->e.c.lost_updates, 2);
	assert_int_equal(f->e.cur, 0);
}

/* ---- a random stream against a brute-force reference ----------------------------- */

#define NREF 4096u
struct ref_ev { uint32_t addr, hour, type; uint8_t sensor; uint64_t count, first, last; };
static struct ref_ev want[NREF], got[NREF];
static uint32_t n_want, n_got;

static void ref_add(struct ref_ev *v, uint32_t *n, uint32_t addr, uint32_t hour, uint8_t sensor,
                    uint32_t type, uint64_t count, uint64_t first, uint64_t last)
{
	for (uint32_t i = 0; i < *n; i++) {
		struct ref_ev *x = &v[i];

		if (x->addr == addr && x->hour == hour && x->sensor == sensor && x->type == type) {
			x->count += count;
			x->first = first < x->first ? first : x->first;
			x->last = last > x->last ? last : x->last;
			return;
		}
	}
	assert_true(*n < NREF);
	v[(*n)++] = (struct ref_ev){ addr, hour, type, sensor, count, first, last };
}

/* What the control plane does with a READY slot: every EVENT record and every inline
 * event, merged by key (a key can be both inline and in the table: exchange.h).  The
 * EVENT table never holds two records of one key. */
static void drain(struct fx *f, uint32_t s)
{
	struct obx_slot_hdr *sh = slot(f, s);
	struct obx_src_rec *r = obx_slot_src(sh);
	struct obx_event_rec *v = obx_slot_tab(sh, OBX_TAB_EVENT);

	for (uint32_t i = 0; i < EVCAP; i++)
		for (uint32_t j = i + 1; v[i].count != 0 && j < EVCAP; j++)
			assert_false(v[j].count != 0 && v[j].addr == v[i].addr &&
			             v[j].hour == v[i].hour && v[j].type == v[i].type &&
			             v[j].sensor == v[i].sensor);
	for (uint32_t i = 0; i < EVCAP; i++)
		if (v[i].count != 0)
			ref_add(got, &n_got, v[i].addr, v[i].hour, v[i].sensor, v[i].type, v[i].count,
			        v[i].first_ns, v[i].last_ns);
	for (uint32_t i = 0; i < SRCCAP; i++) {
		if (r[i].packets == 0 || r[i].ev_mode != OBX_SRC_EV_INLINE)
			continue;
		assert_false(r[i].flags & OBX_SRC_F_EXCLUDED);
		ref_add(got, &n_got, r[i].addr, r[i].hour, r[i].ev_sensor, r[i].ev_type,
		        r[i].packets, r[i].first_ns, r[i].last_ns);
	}
	memset(r, 0, (size_t)SRCCAP * sizeof(*r));
	memset(v, 0, (size_t)EVCAP * sizeof(*v));
	atomic_store_explicit(&sh->state, OBX_SLOT_FREE, memory_order_release);
}

static int cmp_ev(const void *a, const void *b)
{
	const struct ref_ev *x = a, *y = b;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	if (x->hour != y->hour)
		return x->hour < y->hour ? -1 : 1;
	if (x->sensor != y->sensor)
		return x->sensor < y->sensor ? -1 : 1;
	if (x->type != y->type)
		return x->type < y->type ? -1 : 1;
	return 0;
}

static void t_random_stream(void **state)
{
	struct fx *f = *state;
	uint64_t rng = 0x9e3779b97f4a7c15ull, t = T0 - 100000000ull;   /* crosses an hour */

	n_want = n_got = 0;
	for (uint32_t k = 0; k < 20000; k++) {
		uint32_t addr, type;
		uint8_t sensor;
		int excl;

		rng = rng * 6364136223846793005ull + 1442695040888963407ull;
		addr = 1 + (uint32_t)(rng >> 33) % 12;
		type = (rng >> 20) % 8 ? 23 : 2323 + (uint32_t)(rng >> 40) % 3;
		sensor = (rng >> 50) % 16 ? 0 : 1;
		excl = addr == 12 && (rng >> 45) % 2;                /* sometimes excluded */
		t += (rng >> 12) % 20000;                            /* ~10 us a packet */
		pkt(f, addr, t, sensor, type, excl);
		if (!excl)
			ref_add(want, &n_want, addr, (uint32_t)(t / OBX_HOUR_NS), sensor, type, 1, t,
			        t);
		for (uint32_t s = 0; s < OBX_SLOTS; s++)            /* a prompt drainer */
			if (s != f->e.cur && atomic_load(&slot(f, s)->state) == OBX_SLOT_READY)
				drain(f, s);
	}
	assert_int_equal(obs_epoch_finish(&f->e), 0);
	for (uint32_t s = 0; s < OBX_SLOTS; s++)
		if (atomic_load(&slot(f, s)->state) == OBX_SLOT_READY)
			drain(f, s);
	assert_int_equal(obx_worker_live(f->h, 0)->total.lost_updates, 0);
	assert_true(obx_worker_live(f->h, 0)->total.forced_swaps > 0);
	assert_true(f->e.seq > 10);                              /* many epochs, swaps */
	qsort(want, n_want, sizeof(want[0]), cmp_ev);
	qsort(got, n_got, sizeof(got[0]), cmp_ev);
	assert_int_equal(n_got, n_want);
	for (uint32_t i = 0; i < n_want; i++) {
		assert_int_equal(got[i].addr, want[i].addr);
		assert_int_equal(got[i].hour, want[i].hour);
		assert_int_equal(got[i].sensor, want[i].sensor);
		assert_int_equal(got[i].type, want[i].type);
		assert_int_equal(got[i].count, want[i].count);
		assert_int_equal(got[i].first, want[i].first);
		assert_int_equal(got[i].last, want[i].last);
	}
}

#define TESTS(T) T(t_absorb_then_spill) T(t_excluded) T(t_spill_forces_swap) \
	T(t_spill_no_room) T(t_random_stream)
OBS_TEST_MAIN_FX(TESTS)
