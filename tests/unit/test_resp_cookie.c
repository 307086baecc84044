/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_resp_cookie.c — the responder's SYN cookies (dataplane/resp_cookie.h, issue 13):
 * SipHash-2-4 against the reference vectors of the SipHash paper (key 00..0f, messages
 * 00.., lengths 0, 15, 16), the two-word form equal to the byte form on random input, and
 * the cookie: valid in its window and the next, refused two windows later, refused for
 * another 4-tuple, another master key, a flipped bit, and every forged value of a sample.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "dataplane/resp_cookie.h"
#include "../fixtures/test_main.h"

static const uint8_t key16[16] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 };

static uint64_t le64(const uint8_t *p)
{
	uint64_t x = 0;

	for (unsigned j = 0; j < 8; j++)
		x |= (uint64_t)p[j] << (8 * j);
	return x;
}

static void test_siphash_vectors(void **state)
{
	uint8_t msg[16];

	(void)state;
	for (unsigned i = 0; i < sizeof(msg); i++)
		msg[i] = (uint8_t)i;
	/* the paper's appendix A (length 15) and the reference implementation's table */
	assert_int_equal(obs_siphash24(le64(key16), le64(key16 + 8), msg, 0), 0x726fdb47dd0e0e31ull);
	assert_int_equal(obs_siphash24(le64(key16), le64(key16 + 8), msg, 15), 0xa129ca6149be45e5ull);
	assert_int_equal(obs_siphash24(le64(key16), le64(key16 + 8), msg, 16), 0x3f2acc7f57c29bdbull);
	assert_int_equal(obs_siphash24_2w(le64(key16), le64(key16 + 8), le64(msg), le64(msg + 8)),
	                 0x3f2acc7f57c29bdbull);
}

static void test_siphash_2w_equals_bytes(void **state)
{
	(void)state;
	srand(13);
	for (unsigned n = 0; n < 10000; n++) {
		uint8_t m[16];
		uint64_t k0 = (uint64_t)rand() << 33 ^ (uint64_t)rand(), k1 = (uint64_t)rand() << 31 ^ n;

		for (unsigned j = 0; j < 16; j++)
			m[j] = (uint8_t)rand();
		assert_int_equal(obs_siphash24(k0, k1, m, 16), obs_siphash24_2w(k0, k1, le64(m), le64(m + 8)));
	}
}

#define T0 (1765000000ull * 1000000000ull)   /* a packet time, ns */
#define W  OBS_COOKIE_WINDOW_NS

static void test_cookie_windows(void **state)
{
	struct obs_cookie_keys k;
	const uint32_t src = 0xc6336401, dst = 0xc6120005;
	uint32_t c;

	(void)state;
	obs_cookie_init(&k, key16);
	obs_cookie_at(&k, T0);
	c = obs_cookie_make(&k, src, dst, 40000, 80);
	assert_true(obs_cookie_check(&k, c, src, dst, 40000, 80));
	/* same window, later */
	obs_cookie_at(&k, T0 + W / 2);
	assert_true(obs_cookie_check(&k, c, src, dst, 40000, 80));
	/* the next window: the key rotated, the previous one is still accepted */
	obs_cookie_at(&k, (T0 / W + 1) * W);
	assert_int_not_equal(k.cur[0], k.prev[0]);
	assert_int_not_equal(obs_cookie_make(&k, src, dst, 40000, 80), c);
	assert_true(obs_cookie_check(&k, c, src, dst, 40000, 80));
	/* two windows on: refused */
	obs_cookie_at(&k, (T0 / W + 2) * W);
	assert_false(obs_cookie_check(&k, c, src, dst, 40000, 80));
	/* a jump (idle link) derives both keys: the same cookies as the steady path */
	struct obs_cookie_keys j;
	obs_cookie_init(&j, key16);
	obs_cookie_at(&j, (T0 / W + 2) * W + 5);
	assert_memory_equal(j.cur, k.cur, sizeof(k.cur));
	assert_memory_equal(j.prev, k.prev, sizeof(k.prev));
}

static void test_cookie_forged(void **state)
{
	struct obs_cookie_keys k, other;
	const uint8_t key2[16] = { 1 };
	const uint32_t src = 0x0a000002, dst = 0xc6120011;
	uint32_t c, accepted = 0;

	(void)state;
	obs_cookie_init(&k, key16);
	obs_cookie_init(&other, key2);
	obs_cookie_at(&k, T0);
	obs_cookie_at(&other, T0);
	c = obs_cookie_make(&k, src, dst, 5555, 443);
	/* another 4-tuple, another key, a flipped bit */
	assert_false(obs_cookie_check(&k, c, src + 1, dst, 5555, 443));
	assert_false(obs_cookie_check(&k, c, src, dst + 1, 5555, 443));
	assert_false(obs_cookie_check(&k, c, src, dst, 5556, 443));
	assert_false(obs_cookie_check(&k, c, src, dst, 5555, 444));
	assert_false(obs_cookie_check(&other, c, src, dst, 5555, 443));
	for (unsigned b = 0; b < 32; b++)
		assert_false(obs_cookie_check(&k, c ^ (1u << b), src, dst, 5555, 443));
	/* 2^20 forged values: a 31-bit check accepts about 2^-31 of them */
	srand(7);
	for (uint32_t n = 0; n < (1u << 20); n++) {
		uint32_t f = (uint32_t)rand() << 1 ^ (uint32_t)rand();

		if (f != c)
			accepted += (uint32_t)obs_cookie_check(&k, f, src, dst, 5555, 443);
	}
	assert_true(accepted <= 1);
}

#define TESTS(T) T(test_siphash_vectors) T(test_siphash_2w_equals_bytes) T(test_cookie_windows) \
	T(test_cookie_forged)
OBS_TEST_MAIN(TESTS, NULL, NULL)
