/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_telescope.c — the telescope map against an obviously-correct reference:
 * exact slots when |D| <= cap, the hash-chosen sample when |D| > cap (checked by brute
 * force on small D and by the order/threshold properties on a /8), lookups outside D,
 * and every rejected prefix set.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "dataplane/common/telescope.h"
#include "../fixtures/test_main.h"

#define IP(a, b, c, d) (((uint32_t)(a) << 24) | ((uint32_t)(b) << 16) | ((uint32_t)(c) << 8) | (d))

static void test_small_exact(void **state)
{
	/* deliberately out of address order, sensors not in address order either */
	const struct obs_tel_prefix p[] = {
		{ IP(192, 168, 1, 0), 24, 2 },
		{ IP(10, 0, 0, 8), 31, 0 },
		{ IP(10, 0, 0, 0), 30, 1 },
		{ IP(10, 0, 0, 12), 32, 3 },
	};
	struct obs_tel *t = obs_tel_build(p, 4, 4096, NULL);
	uint8_t s;
	uint32_t slot;

	assert_non_null(t);
	assert_int_equal(obs_tel_size(t), 4 + 2 + 1 + 256);
	assert_int_equal(obs_tel_sample_size(t), 263);
	for (uint32_t i = 0; i < 4; i++) {
		assert_int_equal(obs_tel_lookup(t, IP(10, 0, 0, 0) + i, &s, &slot), 0);
		assert_int_equal(s, 1);
		assert_int_equal(slot, i);
	}
	assert_int_equal(obs_tel_lookup(t, IP(10, 0, 0, 9), &s, &slot), 0);
	assert_int_equal(s, 0);
	assert_int_equal(slot, 5);
	assert_int_equal(obs_tel_lookup(t, IP(10, 0, 0, 12), &s, &slot), 0);
	assert_int_equal(s, 3);
	assert_int_equal(slot, 6);
	assert_int_equal(obs_tel_lookup(t, IP(192, 168, 1, 0), &s, &slot), 0);
	assert_int_equal(s, 2);
	assert_int_equal(slot, 7);
	assert_int_equal(obs_tel_lookup(t, IP(192, 168, 1, 255), &s, &slot), 0);
	assert_int_equal(slot, 262);

	/* outside D: gaps, both ends of the address space, next to every range */
	const uint32_t out[] = { 0, UINT32_MAX, IP(10, 0, 0, 4), IP(10, 0, 0, 7), IP(10, 0, 0, 10),
		IP(10, 0, 0, 11), IP(10, 0, 0, 13), IP(9, 255, 255, 255), IP(192, 168, 0, 255),
		IP(192, 168, 2, 0) };
	for (size_t i = 0; i < sizeof(out) / sizeof(out[0]); i++)
		assert_int_equal(obs_tel_lookup(t, out[i], &s, &slot), -1);
	obs_tel_free(t);
}

static void test_cap_boundary(void **state)
{
	const struct obs_tel_prefix p = { IP(198, 18, 0, 0), 20, 0 };
	struct obs_tel *t;
	uint8_t s;
	uint32_t slot;

	/* |D| == cap: still S = D, slot = offset */
	t = obs_tel_build(&p, 1, 4096, NULL);
	assert_non_null(t);
	assert_int_equal(obs_tel_sample_size(t), 4096);
	assert_int_equal(obs_tel_lookup(t, IP(198, 18, 15, 255), &s, &slot), 0);
	assert_int_equal(slot, 4095);
	obs_tel_free(t);

	/* one below: a sample of 4095 */
	t = obs_tel_build(&p, 1, 4095, NULL);
	assert_non_null(t);
	assert_int_equal(obs_tel_sample_size(t), 4095);
	obs_tel_free(t);
}

struct key { uint32_t h, a; };

static int key_cmp(const void *x, const void *y)
{
	const struct key *p = x, *q = y;
	if (p->h != q->h)
		return p->h < q->h ? -1 : 1;
	return (p->a > q->a) - (p->a < q->a);
}

static int u32_cmp(const void *x, const void *y)
{
	uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;
	return (a > b) - (a < b);
}

/* The reference: sort all of D by (hash, addr), keep cap, number by address. */
static void check_sample_against_reference(const struct obs_tel_prefix *p, unsigned n,
                                           uint32_t cap)
{
	struct obs_tel *t = obs_tel_build(p, n, cap, NULL);
	uint64_t size = 0;
	struct key *k;
	uint32_t *sel, m = 0;

	assert_non_null(t);
	for (unsigned i = 0; i < n; i++)
		size += 1ull << (32 - p[i].len);
	assert_int_equal(obs_tel_size(t), size);
	assert_true(size > cap);
	assert_int_equal(obs_tel_sample_size(t), cap);
	k = malloc(size * sizeof(*k));
	sel = malloc(cap * sizeof(*sel));
	assert_non_null(k);
	assert_non_null(sel);
	for (unsigned i = 0; i < n; i++)
		for (uint64_t j = 0; j < (1ull << (32 - p[i].len)); j++) {
			k[m].a = p[i].addr + (uint32_t)j;
			k[m].h = obs_tel_sample_hash(k[m].a);
			m++;
		}
	qsort(k, size, sizeof(*k), key_cmp);
	for (uint32_t i = 0; i < cap; i++)
		sel[i] = k[i].a;
	qsort(sel, cap, sizeof(*sel), u32_cmp);
	for (uint32_t i = 0; i < cap; i++) {
		uint8_t s;
		uint32_t slot;
		assert_int_equal(obs_tel_lookup(t, sel[i], &s, &slot), 0);
		assert_int_equal(slot, i);
	}
	for (uint64_t i = cap; i < size; i++) {
		uint8_t s;
		uint32_t slot;
		assert_int_equal(obs_tel_lookup(t, k[i].a, &s, &slot), 0);
		assert_int_equal(slot, OBS_TEL_NO_SLOT);
	}
	free(k);
	free(sel);
	obs_tel_free(t);
}

static void test_sample_reference(void **state)
{
	const struct obs_tel_prefix one = { IP(198, 18, 0, 0), 20, 0 };
	const struct obs_tel_prefix two[] = {
		{ IP(198, 18, 16, 0), 20, 1 },
		{ IP(198, 18, 0, 0), 20, 0 },
		{ IP(203, 0, 113, 0), 24, 2 },
	};
	check_sample_against_reference(&one, 1, 1);
	check_sample_against_reference(&one, 1, 100);
	check_sample_against_reference(&one, 1, 4095);
	check_sample_against_reference(two, 3, 4096);
	check_sample_against_reference(two, 3, 777);
}

static void test_sample_deterministic_and_cut_independent(void **state)
{
	const struct obs_tel_prefix whole = { IP(198, 18, 0, 0), 19, 0 };
	const struct obs_tel_prefix halves[] = {
		{ IP(198, 18, 16, 0), 20, 1 },
		{ IP(198, 18, 0, 0), 20, 0 },
	};
	struct obs_tel *a = obs_tel_build(&whole, 1, 1000, NULL);
	struct obs_tel *b = obs_tel_build(&whole, 1, 1000, NULL);
	struct obs_tel *c = obs_tel_build(halves, 2, 1000, NULL);
	unsigned n = 0;

	assert_non_null(a);
	assert_non_null(b);
	assert_non_null(c);
	for (uint32_t x = IP(198, 18, 0, 0); x < IP(198, 18, 32, 0); x++) {
		uint8_t sa, sb, sc;
		uint32_t la, lb, lc;
		assert_int_equal(obs_tel_lookup(a, x, &sa, &la), 0);
		assert_int_equal(obs_tel_lookup(b, x, &sb, &lb), 0);
		assert_int_equal(obs_tel_lookup(c, x, &sc, &lc), 0);
		assert_int_equal(la, lb);
		assert_int_equal(la, lc);   /* S depends on D, not on how it is cut */
		assert_int_equal(sc, x < IP(198, 18, 16, 0) ? 0 : 1);
		n += la != OBS_TEL_NO_SLOT;
	}
	assert_int_equal(n, 1000);
	obs_tel_free(a);
	obs_tel_free(b);
	obs_tel_free(c);
}

static void test_slash8(void **state)
{
	const struct obs_tel_prefix p = { IP(10, 0, 0, 0), 8, 5 };
	struct timespec t0, t1;
	struct obs_tel *t;
	uint32_t next = 0, max_in = 0, min_out = UINT32_MAX;
	double secs;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	t = obs_tel_build(&p, 1, 65536, NULL);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_non_null(t);
	secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9;
	print_message("/8 build, cap 65536: %.3f s\n", secs);
	/* generous against slow CI and sanitizers; the target is well under 2 s */
	assert_true(secs < 10.0);
	assert_int_equal(obs_tel_size(t), 1u << 24);
	assert_int_equal(obs_tel_sample_size(t), 65536);

	/* Over all of D: sampled slots appear in address order 0, 1, 2, ..., and every
	 * sampled hash is below every unsampled one (the cap smallest). */
	for (uint32_t x = IP(10, 0, 0, 0); x <= IP(10, 255, 255, 255); x++) {
		uint8_t s;
		uint32_t slot, h = obs_tel_sample_hash(x);
		if (obs_tel_lookup(t, x, &s, &slot) != 0 || s != 5)
			fail_msg("lookup of %08x failed", x);
		if (slot == OBS_TEL_NO_SLOT) {
			min_out = h < min_out ? h : min_out;
			continue;
		}
		if (slot != next)
			fail_msg("address %08x has slot %u, expected %u", x, slot, next);
		next++;
		max_in = h > max_in ? h : max_in;
	}
	assert_int_equal(next, 65536);
	assert_true(max_in < min_out);
	{
		uint8_t s;
		uint32_t slot;
		assert_int_equal(obs_tel_lookup(t, IP(11, 0, 0, 0), &s, &slot), -1);
		assert_int_equal(obs_tel_lookup(t, IP(9, 255, 255, 255), &s, &slot), -1);
	}
	obs_tel_free(t);
}

static void expect_reject(const struct obs_tel_prefix *p, unsigned n, uint32_t cap,
                          const char *why_part)
{
	const char *why = NULL;
	errno = 0;
	assert_null(obs_tel_build(p, n, cap, &why));
	assert_int_equal(errno, EINVAL);
	assert_non_null(why);
	if (strstr(why, why_part) == NULL)
		fail_msg("why '%s' lacks '%s'", why, why_part);
}

static void test_rejects(void **state)
{
	const struct obs_tel_prefix nested[] = {
		{ IP(10, 0, 0, 0), 16, 0 }, { IP(10, 0, 1, 0), 24, 1 } };
	const struct obs_tel_prefix nested_rev[] = {
		{ IP(10, 0, 1, 0), 24, 1 }, { IP(10, 0, 0, 0), 16, 0 } };
	const struct obs_tel_prefix same[] = {
		{ IP(10, 0, 0, 0), 24, 0 }, { IP(10, 0, 0, 0), 24, 0 } };
	const struct obs_tel_prefix inner_later[] = {
		{ IP(10, 0, 0, 0), 24, 0 }, { IP(10, 1, 0, 0), 24, 0 }, { IP(10, 0, 0, 128), 25, 1 } };
	/* the later one starts exactly on the earlier one's last address */
	const struct obs_tel_prefix touch[] = {
		{ IP(10, 0, 0, 0), 31, 0 }, { IP(10, 0, 0, 1), 32, 1 } };
	const struct obs_tel_prefix host_bits = { IP(10, 0, 0, 1), 24, 0 };
	const struct obs_tel_prefix bad_len = { IP(10, 0, 0, 0), 33, 0 };
	const struct obs_tel_prefix bad_sensor = { IP(10, 0, 0, 0), 24, 64 };
	const struct obs_tel_prefix too_big = { IP(10, 0, 0, 0), 7, 0 };
	const struct obs_tel_prefix ok = { IP(10, 0, 0, 0), 24, 0 };

	expect_reject(nested, 2, 4096, "overlap");
	expect_reject(nested_rev, 2, 4096, "overlap");
	expect_reject(same, 2, 4096, "overlap");
	expect_reject(inner_later, 3, 4096, "overlap");
	expect_reject(touch, 2, 4096, "overlap");
	expect_reject(&host_bits, 1, 4096, "host bits");
	expect_reject(&bad_len, 1, 4096, "length");
	expect_reject(&bad_sensor, 1, 4096, "sensor");
	expect_reject(&too_big, 1, 4096, "2^24");
	expect_reject(&ok, 0, 4096, "no telescope");
	expect_reject(&ok, 1, 0, "sample cap");

	/* adjacent is fine, and so is the top of the address space */
	const struct obs_tel_prefix adj[] = {
		{ IP(10, 0, 1, 0), 24, 1 }, { IP(10, 0, 0, 0), 24, 0 }, { IP(255, 255, 255, 0), 24, 2 } };
	struct obs_tel *t = obs_tel_build(adj, 3, 4096, NULL);
	uint8_t s;
	uint32_t slot;
	assert_non_null(t);
	assert_int_equal(obs_tel_lookup(t, UINT32_MAX, &s, &slot), 0);
	assert_int_equal(s, 2);
	assert_int_equal(slot, 767);
	obs_tel_free(t);
}

#define TESTS(T) T(test_small_exact) T(test_cap_boundary) T(test_sample_reference) \
	T(test_sample_deterministic_and_cut_independent) T(test_slash8) T(test_rejects)
OBS_TEST_MAIN(TESTS, NULL, NULL)
