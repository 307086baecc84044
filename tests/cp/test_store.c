/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_store.c — unit tests of the period store (control/store.c): epoch merge
 * (min/max/sum/OR), dedup on (boot, worker, seq), growth of the source table, the top
 * order, and store-to-store merge equalling a single store fed every epoch.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "store.h"
#include "../fixtures/test_main.h"

static struct cp_epoch ep(uint64_t boot, uint32_t w, uint64_t seq, const struct obx_src_rec *r,
                          uint32_t n)
{
	struct cp_epoch e;

	memset(&e, 0, sizeof(e));
	e.boot_id = boot;
	e.worker = w;
	e.seq = seq;
	cp_epoch_add_tab(&e, OBX_TAB_SRC, sizeof(struct obx_src_rec), r, n);
	e.delta.rx_packets = 10 * seq;
	e.delta.drops[OBX_DROP_NOT_TELESCOPE] = seq;
	e.delta.lost_updates = 1;
	e.t_first_ns = 1000 * seq;
	e.t_last_ns = 1000 * seq + 999;
	return e;
}

static void test_merge_one_source(void **state)
{
	struct cp_store s;
	struct obx_src_rec a = { .addr = 0x0a000001, .first_ns = 500, .last_ns = 600, .packets = 3,
	                         .sensor_mask = 1 };
	struct obx_src_rec b = { .addr = 0x0a000001, .first_ns = 400, .last_ns = 550, .packets = 4,
	                         .sensor_mask = 2 };
	struct cp_epoch e1 = ep(7, 0, 1, &a, 1), e2 = ep(7, 0, 2, &b, 1);
	const struct cp_src *r;

	(void)state;
	assert_int_equal(cp_store_init(&s), 0);
	assert_int_equal(cp_store_apply(&s, &e1), 0);
	assert_int_equal(cp_store_apply(&s, &e2), 0);
	r = cp_store_src_find(&s, 0x0a000001);
	assert_non_null(r);
	assert_int_equal(r->first_ns, 400);   /* min */
	assert_int_equal(r->last_ns, 600);    /* max */
	assert_int_equal(r->packets, 7);      /* sum */
	assert_int_equal(r->sensor_mask, 3);  /* OR */
	assert_int_equal(s.src.n, 1);
	assert_int_equal(s.total.rx_packets, 30);
	assert_int_equal(s.worker[0].drops[OBX_DROP_NOT_TELESCOPE], 3);
	assert_int_equal(s.epochs, 2);
	assert_int_equal(s.n_boots, 1);
	assert_int_equal(s.boots[0].last_seq[0], 2);
	cp_store_fini(&s);
}

static void test_dedup_and_invalid(void **state)
{
	struct cp_store s;
	struct obx_src_rec a = { .addr = 1, .first_ns = 1, .last_ns = 2, .packets = 1 };
	struct cp_epoch e = ep(9, 3, 5, &a, 1);

	(void)state;
	assert_int_equal(cp_store_init(&s), 0);
	assert_int_equal(cp_store_apply(&s, &e), 0);
	assert_int_equal(cp_store_apply(&s, &e), 1);          /* same (boot, worker, seq) */
	e.seq = 4;
	assert_int_equal(cp_store_apply(&s, &e), 1);          /* older: already covered */
	assert_true(cp_store_applied(&s, 9, 3, 5));
	assert_false(cp_store_applied(&s, 9, 3, 6));
	assert_false(cp_store_applied(&s, 9, 2, 1));          /* other worker */
	assert_false(cp_store_applied(&s, 8, 3, 1));          /* other boot */
	e.seq = 6;
	e.boot_id = 8;
	assert_int_equal(cp_store_apply(&s, &e), 0);          /* another boot, same seq space */
	assert_int_equal(cp_store_src_find(&s, 1)->packets, 2);
	e.worker = OBX_MAX_WORKERS;
	assert_int_equal(cp_store_apply(&s, &e), -EINVAL);
	e.worker = 0;
	e.seq = 0;
	assert_int_equal(cp_store_apply(&s, &e), -EINVAL);
	assert_int_equal(s.epochs, 2);
	assert_int_equal(s.n_boots, 2);
	cp_store_fini(&s);
}

static void test_grow_and_top(void **state)
{
	enum { N = 20000 };
	struct obx_src_rec *r = calloc(N, sizeof(*r));
	struct cp_store s;
	struct cp_src *top;
	struct cp_epoch e;
	long k;

	(void)state;
	assert_non_null(r);
	for (uint32_t i = 0; i < N; i++) {
		r[i].addr = 0x0b000000u + i;
		r[i].first_ns = r[i].last_ns = i + 1;
		r[i].packets = 1 + i % 7;         /* many ties */
		r[i].sensor_mask = 1;
	}
	assert_int_equal(cp_store_init(&s), 0);
	e = ep(1, 0, 1, r, N);
	assert_int_equal(cp_store_apply(&s, &e), 0);
	assert_int_equal(s.src.n, N);
	assert_true((uint64_t)cp_store_src_cap(&s) >= N * 10ull / 7);
	for (uint32_t i = 0; i < N; i++)
		assert_non_null(cp_store_src_find(&s, 0x0b000000u + i));
	assert_null(cp_store_src_find(&s, 0x0c000000u));

	k = cp_store_top(&s, 0, &top);
	assert_int_equal(k, N);
	for (long i = 1; i < k; i++) {
		assert_true(top[i - 1].packets >= top[i].packets);
		if (top[i - 1].packets == top[i].packets)
			assert_true(top[i - 1].addr < top[i].addr);
	}
	assert_int_equal(top[0].packets, 7);
	assert_int_equal(top[0].addr, 0x0b000006u);   /* lowest address among the 7s */
	free(top);
	k = cp_store_top(&s, 5, &top);
	assert_int_equal(k, 5);
	free(top);

	/* epochs of the same sources (next hour) do not grow the table: only new sources
	 * need room; one new source among them still fits */
	{
		uint32_t cap = cp_store_src_cap(&s);

		for (uint32_t i = 0; i < N; i++) {
			r[i].hour = 1;
			r[i].first_ns = r[i].last_ns = OBX_HOUR_NS + i;
		}
		for (uint64_t seq = 2; seq < 6; seq++) {
			e = ep(1, 0, seq, r, N);
			assert_int_equal(cp_store_apply(&s, &e), 0);
		}
		assert_int_equal(cp_store_src_cap(&s), cap);
		assert_int_equal(s.src.n, N);
		assert_int_equal(cp_store_src_find(&s, 0x0b000006u)->packets, 5 * 7);
		/* fill to the load limit with new sources: then it must grow */
		for (uint32_t i = 0; i < N; i++)
			r[i].addr = 0x0d000000u + i;
		e = ep(1, 0, 6, r, N);
		assert_int_equal(cp_store_apply(&s, &e), 0);
		assert_int_equal(s.src.n, 2 * N);
		assert_true((uint64_t)(cp_store_src_cap(&s)) * 7 >= 2ull * N * 10);
		for (uint32_t i = 0; i < N; i++)
			assert_non_null(cp_store_src_find(&s, 0x0d000000u + i));
	}
	cp_store_fini(&s);
	free(r);
}

/* merge(A, B) == one store fed the epochs of both */
static void test_store_merge(void **state)
{
	struct obx_src_rec r[64];
	struct cp_store a, b, all;
	const struct cp_src *xs;

	(void)state;
	assert_int_equal(cp_store_init(&a), 0);
	assert_int_equal(cp_store_init(&b), 0);
	assert_int_equal(cp_store_init(&all), 0);
	for (uint32_t e = 1; e <= 30; e++) {
		struct cp_epoch x;

		for (uint32_t i = 0; i < 64; i++) {
			r[i].addr = (e * 31 + i * 7) % 100;   /* overlapping sources */
			r[i].first_ns = 1000 + (e * 17 + i) % 50;
			r[i].last_ns = r[i].first_ns + e;
			r[i].packets = 1 + (e + i) % 5;
			r[i].sensor_mask = 1ull << (i % 3);
		}
		/* dedupe within an epoch, as a slot table would */
		for (uint32_t i = 0; i < 64; i++)
			for (uint32_t j = 0; j < i; j++)
				if (r[j].packets && r[j].addr == r[i].addr)
					r[i].packets = 0;
		{
			struct obx_src_rec c[64];
			uint32_t n = 0;

			for (uint32_t i = 0; i < 64; i++)
				if (r[i].packets)
					c[n++] = r[i];
			x = ep(e % 2 ? 100 : 200, e % 3, e, c, n);
			assert_int_equal(cp_store_apply(e % 2 ? &a : &b, &x), 0);
			assert_int_equal(cp_store_apply(&all, &x), 0);
		}
	}
	assert_int_equal(cp_store_merge(&a, &b), 0);
	assert_int_equal(a.src.n, all.src.n);
	assert_int_equal(a.epochs, all.epochs);
	assert_memory_equal(&a.total, &all.total, sizeof(a.total));
	assert_memory_equal(a.worker, all.worker, sizeof(a.worker));
	assert_int_equal(a.n_boots, 2);
	for (uint32_t it = 0; (xs = cp_store_src_next(&all, &it)) != NULL;) {
		const struct cp_src *y = cp_store_src_find(&a, xs->addr);

		assert_non_null(y);
		assert_memory_equal(xs, y, sizeof(*xs));
	}
	cp_store_fini(&a);
	cp_store_fini(&b);
	cp_store_fini(&all);
}

/* ---- per-kind consumers (store.h) ---- */

struct test_cell {                 /* the test's CELL record: 32 bytes */
	uint64_t count;
	uint32_t key, pad;
	uint64_t a, b;
};

struct consumer {
	const char *name;
	uint32_t want_size;            /* rec_size it accepts */
	int prepare_ret;               /* what prepare returns (0, -EPROTO, -ENOMEM) */
	uint32_t prepares, applies;
	uint64_t recs_seen, count_sum, seq_sum;
	uint32_t order;                /* position of its last apply in the global order */
};

static uint32_t apply_clock;

static int consume(void *ctx, const struct cp_epoch *e, const void *recs, uint32_t n,
                   uint32_t rec_size)
{
	struct consumer *c = ctx;

	if (recs == NULL) {
		c->prepares++;
		if (rec_size != c->want_size)
			return -EPROTO;
		return c->prepare_ret;
	}
	c->applies++;
	c->order = ++apply_clock;
	c->seq_sum += e->seq;
	for (uint32_t i = 0; i < n; i++) {
		const struct test_cell *r = (const struct test_cell *)((const uint8_t *)recs +
		                                                      (size_t)i * rec_size);

		c->recs_seen++;
		c->count_sum += r->count;
	}
	return 0;
}

static struct cp_epoch ep_cells(uint64_t seq, const struct obx_src_rec *src, uint32_t n_src,
                                const struct test_cell *cells, uint32_t n_cells)
{
	struct cp_epoch e = ep(9, 0, seq, src, n_src);

	assert_int_equal(cp_epoch_add_tab(&e, OBX_TAB_CELL, sizeof(*cells), cells, n_cells), 0);
	return e;
}

/* Registered consumers get exactly the records of their kind, once per epoch, in
 * registration order; a duplicate epoch reaches none of them. */
static void test_consumers_get_records(void **state)
{
	struct consumer a = { .name = "a", .want_size = sizeof(struct test_cell) };
	struct consumer b = { .name = "b", .want_size = sizeof(struct test_cell) };
	struct consumer srcc = { .name = "src", .want_size = sizeof(struct obx_src_rec) };
	struct test_cell cells[5];
	struct obx_src_rec r = { .addr = 7, .hour = 1, .first_ns = 1, .last_ns = 2, .packets = 3 };
	struct cp_store s;
	struct cp_epoch e;

	(void)state;
	cp_tab_unregister_all();
	assert_int_equal(cp_tab_register(OBX_TAB_CELL, "a", consume, &a), 0);
	assert_int_equal(cp_tab_register(OBX_TAB_SRC, "src", consume, &srcc), 0);
	assert_int_equal(cp_tab_register(OBX_TAB_CELL, "b", consume, &b), 0);
	assert_int_equal(cp_tab_register(OBX_TAB_MAX, "x", consume, NULL), -EINVAL);
	assert_int_equal(cp_tab_register(OBX_TAB_CELL, "x", NULL, NULL), -EINVAL);
	memset(cells, 0, sizeof(cells));
	for (uint32_t i = 0; i < 5; i++) {
		cells[i].count = 10 + i;
		cells[i].key = i;
	}
	assert_int_equal(cp_store_init(&s), 0);
	e = ep_cells(1, &r, 1, cells, 5);
	assert_int_equal(cp_store_apply(&s, &e), 0);
	assert_int_equal(a.prepares, 1);
	assert_int_equal(a.applies, 1);
	assert_int_equal(a.recs_seen, 5);
	assert_int_equal(a.count_sum, 10 + 11 + 12 + 13 + 14);
	assert_int_equal(b.recs_seen, 5);
	assert_int_equal(srcc.recs_seen, 1);
	assert_true(a.order < srcc.order && srcc.order < b.order);   /* registration order */
	/* the duplicate reaches nobody */
	assert_int_equal(cp_store_apply(&s, &e), 1);
	assert_int_equal(a.prepares, 1);
	assert_int_equal(a.applies, 1);
	/* a kind absent from the epoch: its consumers are not called; present with n = 0:
	 * they are (so a size mismatch is caught even on an empty table) */
	e = ep(9, 0, 2, &r, 1);
	assert_int_equal(cp_store_apply(&s, &e), 0);
	assert_int_equal(a.prepares, 1);
	assert_int_equal(srcc.applies, 2);
	e = ep_cells(3, &r, 1, cells, 0);
	assert_int_equal(cp_store_apply(&s, &e), 0);
	assert_int_equal(a.prepares, 2);
	assert_int_equal(a.applies, 2);
	assert_int_equal(a.recs_seen, 5);
	assert_int_equal(a.seq_sum, 1 + 3);
	cp_store_fini(&s);
	cp_tab_unregister_all();
}

/* A consumer refusing the record size (or out of memory) in prepare: nothing of the
 * epoch is applied — not the store's sources, counters or dedup key, not the consumers
 * registered before it. */
static void test_consumer_refusal_applies_nothing(void **state)
{
	struct consumer a = { .name = "a", .want_size = sizeof(struct test_cell) };
	struct consumer b = { .name = "b", .want_size = 48 };   /* expects another record */
	struct test_cell cells[2] = { { .count = 1, .key = 1 }, { .count = 2, .key = 2 } };
	struct obx_src_rec r = { .addr = 7, .hour = 1, .first_ns = 1, .last_ns = 2, .packets = 3 };
	struct obx_src_rec bad_src[1] = { r };
	struct cp_store s;
	struct cp_epoch e;

	(void)state;
	cp_tab_unregister_all();
	assert_int_equal(cp_tab_register(OBX_TAB_CELL, "a", consume, &a), 0);
	assert_int_equal(cp_tab_register(OBX_TAB_CELL, "b", consume, &b), 0);
	assert_int_equal(cp_store_init(&s), 0);
	e = ep_cells(1, &r, 1, cells, 2);
	assert_int_equal(cp_store_apply(&s, &e), -EPROTO);
	assert_int_equal(a.applies, 0);
	assert_int_equal(b.applies, 0);
	assert_int_equal(s.src.n, 0);
	assert_int_equal(s.epochs, 0);
	assert_int_equal(s.total.rx_packets, 0);
	assert_false(cp_store_applied(&s, 9, 0, 1));
	/* -ENOMEM from a prepare: the same, and the epoch can be retried */
	b.want_size = sizeof(struct test_cell);
	b.prepare_ret = -ENOMEM;
	assert_int_equal(cp_store_apply(&s, &e), -ENOMEM);
	assert_int_equal(a.applies + b.applies, 0);
	assert_int_equal(s.epochs, 0);
	b.prepare_ret = 0;
	assert_int_equal(cp_store_apply(&s, &e), 0);
	assert_int_equal(a.applies, 1);
	assert_int_equal(b.applies, 1);
	assert_int_equal(s.src.n, 1);
	/* the store's own SRC size check */
	cp_tab_unregister_all();
	e = ep(9, 0, 2, bad_src, 1);
	e.tabs[0].rec_size = 40;
	assert_int_equal(cp_store_apply(&s, &e), -EPROTO);
	/* malformed tables: kinds out of order, unknown, bad sizes */
	e = ep_cells(3, &r, 1, cells, 2);
	e.tabs[1].kind = OBX_TAB_SRC;
	assert_int_equal(cp_store_apply(&s, &e), -EINVAL);
	e = ep_cells(3, &r, 1, cells, 2);
	e.tabs[1].rec_size = 12;
	assert_int_equal(cp_store_apply(&s, &e), -EINVAL);
	e = ep_cells(3, &r, 1, cells, 2);
	e.tabs[1].recs = NULL;
	assert_int_equal(cp_store_apply(&s, &e), -EINVAL);
	assert_int_equal(s.epochs, 1);
	cp_store_fini(&s);
}

/* (addr, hour) records of one address merge per address: first min, last max, packets
 * and resip_packets summed, sensor_mask and flags ORed. */
static void test_hour_records_merge(void **state)
{
	struct obx_src_rec r[3] = {
		{ .addr = 5, .hour = 10, .first_ns = 100, .last_ns = 200, .packets = 2,
		  .sensor_mask = 1, .flags = OBX_SRC_F_SCANNER, .resip_packets = 0 },
		{ .addr = 5, .hour = 11, .first_ns = 300, .last_ns = 400, .packets = 3,
		  .sensor_mask = 2, .flags = OBX_SRC_F_RESIP, .resip_packets = 2 },
		{ .addr = 5, .hour = 9, .first_ns = 50, .last_ns = 60, .packets = 1,
		  .sensor_mask = 4, .flags = 0, .resip_packets = 1 },
	};
	const struct cp_src *x;
	struct cp_store s;
	struct cp_epoch e = ep(1, 0, 1, r, 3);

	(void)state;
	cp_tab_unregister_all();
	assert_int_equal(cp_store_init(&s), 0);
	assert_int_equal(cp_store_apply(&s, &e), 0);
	assert_int_equal(s.src.n, 1);
	x = cp_store_src_find(&s, 5);
	assert_non_null(x);
	assert_int_equal(x->first_ns, 50);
	assert_int_equal(x->last_ns, 400);
	assert_int_equal(x->packets, 6);
	assert_int_equal(x->sensor_mask, 7);
	assert_int_equal(x->flags, OBX_SRC_F_SCANNER | OBX_SRC_F_RESIP);
	assert_int_equal(x->resip_packets, 3);
	cp_store_fini(&s);
}

/* A packet at time 0 (1970-01-01T00:00:00Z) is a packet with a time: the store's span
 * starts there, and a later epoch does not move it; an epoch without packets moves
 * nothing; merging stores keeps it. */
static void test_span_from_time_zero(void **state)
{
	struct cp_store s, m;
	struct obx_src_rec a = { .addr = 0x0a000009, .first_ns = 0, .last_ns = 0, .packets = 1,
	                         .sensor_mask = 1 };
	struct cp_epoch e1 = ep(3, 0, 1, &a, 1), e2 = ep(3, 0, 2, NULL, 0), e3 = ep(3, 0, 3, NULL, 0);

	(void)state;
	e1.t_first_ns = 0;
	e1.t_last_ns = 0;
	e1.delta.rx_packets = 1;
	e2.t_first_ns = e2.t_last_ns = 0;     /* no packets */
	e2.delta.rx_packets = 0;
	assert_int_equal(cp_store_init(&s), 0);
	assert_false(s.span_set);
	assert_int_equal(cp_store_apply(&s, &e1), 0);
	assert_true(s.span_set);
	assert_int_equal(s.t_first_ns, 0);
	assert_int_equal(s.t_last_ns, 0);
	assert_int_equal(cp_store_apply(&s, &e2), 0);
	assert_int_equal(cp_store_apply(&s, &e3), 0);
	assert_int_equal(s.t_first_ns, 0);           /* not moved to 3000 */
	assert_int_equal(s.t_last_ns, 3999);
	assert_int_equal(cp_store_init(&m), 0);
	assert_int_equal(cp_store_merge(&m, &s), 0);
	assert_true(m.span_set);
	assert_int_equal(m.t_first_ns, 0);
	assert_int_equal(m.t_last_ns, 3999);
	cp_store_fini(&m);
	cp_store_fini(&s);
}

#define TESTS(T) T(test_merge_one_source) T(test_dedup_and_invalid) T(test_grow_and_top) \
	T(test_store_merge) T(test_consumers_get_records) \
	T(test_consumer_refusal_applies_nothing) T(test_hour_records_merge) \
	T(test_span_from_time_zero)
OBS_TEST_MAIN(TESTS, NULL, NULL)
