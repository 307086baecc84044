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
	assert_int_equal(s.n_src, 1);
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
	assert_int_equal(s.n_src, N);
	assert_true((uint64_t)s.src_mask + 1 >= N * 10ull / 7);
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
	cp_store_fini(&s);
	free(r);
}

/* merge(A, B) == one store fed the epochs of both */
static void test_store_merge(void **state)
{
	struct obx_src_rec r[64];
	struct cp_store a, b, all;

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
	assert_int_equal(a.n_src, all.n_src);
	assert_int_equal(a.epochs, all.epochs);
	assert_memory_equal(&a.total, &all.total, sizeof(a.total));
	assert_memory_equal(a.worker, all.worker, sizeof(a.worker));
	assert_int_equal(a.n_boots, 2);
	for (uint32_t i = 0; i <= all.src_mask; i++) {
		const struct cp_src *x = &all.src[i], *y;

		if (x->packets == 0)
			continue;
		y = cp_store_src_find(&a, x->addr);
		assert_non_null(y);
		assert_memory_equal(x, y, sizeof(*x));
	}
	cp_store_fini(&a);
	cp_store_fini(&b);
	cp_store_fini(&all);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_merge_one_source),
		cmocka_unit_test(test_dedup_and_invalid),
		cmocka_unit_test(test_grow_and_top),
		cmocka_unit_test(test_store_merge),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
