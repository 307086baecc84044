/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_covstore.c — the coverage store against a plain bitset model: random adds
 * (sparse and dense, the switch between them), merges, serialisation round trips and
 * every refusal of a corrupt section; plus the period arithmetic of period.h.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "control/scan/covstore.h"
#include "dataplane/common/period.h"
#include "../fixtures/test_main.h"
#include "../fixtures/test_rand.h"

#define NS(s) ((uint64_t)(s) * 1000000000ull)

static uint64_t rng_state = 88172645463325252ull;

static uint64_t rnd(void)
{
	return obs_xorshift(&rng_state);
}

/* model: per key (k in 0..NK), a byte per slot */
#define NK 12
#define SS 1000u

static struct cov_key key_of(unsigned k)
{
	return (struct cov_key){ .period = 640 + k % 3, .block = (uint32_t)(k / 3) << 16,
	                         .dport = (uint16_t)(k * 7), .proto = 6 };
}

static void check_model(const struct cov_store *s, uint8_t model[NK][SS], const uint64_t *syns)
{
	uint32_t out[SS];
	for (unsigned k = 0; k < NK; k++) {
		struct cov_key key = key_of(k);
		const struct cov_cell *c = cov_store_find(s, &key);
		uint32_t n = 0;
		for (uint32_t i = 0; i < SS; i++)
			n += model[k][i];
		if (syns[k] == 0 && n == 0) {
			assert_null(c);
			continue;
		}
		assert_non_null(c);
		assert_int_equal(c->n, n);
		assert_int_equal(c->syns, syns[k]);
		for (uint32_t i = 0; i < SS; i++)
			assert_int_equal(cov_cell_has(s, c, i), model[k][i]);
		cov_cell_slots(s, c, out);
		for (uint32_t i = 0, j = 0; i < SS; i++)
			if (model[k][i])
				assert_int_equal(out[j++], i);
	}
}

static void test_model(void **state)
{
	static uint8_t model[NK][SS];
	uint64_t syns[NK] = { 0 };
	struct cov_store s, t, u;
	uint8_t *buf;
	size_t len;
	const char *why;

	(void)state;
	assert_int_equal(cov_store_init(&s, SS, 16, OBS_PU_MONTH), 0);
	for (int round = 0; round < 400; round++) {
		unsigned k = (unsigned)(rnd() % NK);
		uint32_t n = (uint32_t)(rnd() % (k < 4 ? 3 : 40)), sl[64];
		struct cov_key key = key_of(k);
		for (uint32_t i = 0; i < n; i++) {
			sl[i] = (uint32_t)(rnd() % (k < 8 ? 50 : SS));   /* duplicates on purpose */
			model[k][sl[i]] = 1;
		}
		assert_int_equal(cov_store_add(&s, &key, 1 + n, 0, sl, n), 0);
		syns[k] += 1 + n;
	}
	check_model(&s, model, syns);
	assert_true(s.n_dense > 0);              /* the large cells went dense */
	assert_true(s.n_dense < s.cells.n);      /* the small ones stayed sparse */

	/* out of range: refused, nothing changes */
	struct cov_key k0 = key_of(0);
	uint32_t bad = SS;
	assert_int_equal(cov_store_add(&s, &k0, 1, 0, &bad, 1), -ERANGE);
	check_model(&s, model, syns);

	/* round trip */
	assert_int_equal(cov_store_serialize(&s, &buf, &len), 0);
	assert_int_equal(cov_store_deserialize(&t, buf, len, &why), 0);
	assert_int_equal(t.cells.n, s.cells.n);
	check_model(&t, model, syns);

	/* every truncation is refused, never half-loaded */
	for (size_t cut = 0; cut < len; cut += 1 + cut / 8)
		assert_int_equal(cov_store_deserialize(&u, buf, cut, &why), -EBADMSG);
	/* trailing bytes */
	uint8_t *longer = malloc(len + 4);
	memcpy(longer, buf, len);
	memset(longer + len, 0, 4);
	assert_int_equal(cov_store_deserialize(&u, longer, len + 4, &why), -EBADMSG);
	free(longer);
	/* a flipped magic */
	buf[0] ^= 1;
	assert_int_equal(cov_store_deserialize(&u, buf, len, &why), -EBADMSG);
	buf[0] ^= 1;
	free(buf);

	/* merge: s ∪ t = s with doubled counts */
	assert_int_equal(cov_store_merge(&t, &s), 0);
	for (unsigned k = 0; k < NK; k++)
		syns[k] *= 2;
	check_model(&t, model, syns);

	/* mismatched sample size refused */
	assert_int_equal(cov_store_init(&u, SS + 1, 16, OBS_PU_MONTH), 0);
	assert_int_equal(cov_store_merge(&u, &s), -EINVAL);
	cov_store_fini(&u);
	assert_true(cov_store_bytes(&s) > 0);
	cov_store_fini(&s);
	cov_store_fini(&t);
}

static void test_bits(void **state)
{
	struct cov_store s;
	struct cov_key k = { 5, 0x0a000000, 443, 6 };
	uint64_t bits[2] = { 0x5ull, 0x1ull };   /* slots 0, 2, 64 */
	uint32_t sl[3] = { 1, 2, 99 };
	uint64_t over[2] = { 0, 1ull << 40 };    /* slot 104 >= 100 */
	const struct cov_cell *c;

	(void)state;
	assert_int_equal(cov_store_init(&s, 100, 16, OBS_PU_DAY), 0);
	assert_int_equal(cov_store_add(&s, &k, 3, 1, sl, 3), 0);
	assert_int_equal(cov_store_add_bits(&s, &k, 2, 2, bits), 0);
	c = cov_store_find(&s, &k);
	assert_non_null(c);
	assert_int_equal(c->n, 5);
	assert_int_equal(c->syns, 5);
	assert_int_equal(c->mirai, 3);
	assert_int_equal(cov_store_add_bits(&s, &k, 1, 0, over), -ERANGE);
	assert_int_equal(cov_store_init(&(struct cov_store){ 0 }, 0, 16, 0), -EINVAL);
	cov_store_fini(&s);
}

/* A small set lives inline (no heap bytes), grows onto the heap, then into a bitmap;
 * the set stays exact at every step, and a merge and a round trip of inline cells too. */
static void test_inline(void **state)
{
	struct cov_store s, t;
	struct cov_key k = { 7, 0x0b000000, 23, 6 }, k2 = { 7, 0x0b010000, 23, 6 };
	uint32_t a[2] = { 9, 3 }, b[1] = { 9 }, c3[1] = { 40 }, out[200];
	const struct cov_cell *c;
	uint8_t *buf;
	size_t len;
	const char *why;

	(void)state;
	assert_int_equal(cov_store_init(&s, 200, 16, OBS_PU_DAY), 0);
	assert_int_equal(cov_store_add(&s, &k, 1, 0, a, 2), 0);
	assert_int_equal(cov_store_add(&s, &k, 1, 0, b, 1), 0);   /* already there */
	assert_int_equal(cov_store_add(&s, &k2, 1, 0, b, 1), 0);
	c = cov_store_find(&s, &k);
	assert_int_equal(c->n, 2);
	assert_int_equal(s.set_bytes, 0);                          /* both cells inline */
	cov_cell_slots(&s, c, out);
	assert_int_equal(out[0], 3);
	assert_int_equal(out[1], 9);
	assert_true(cov_cell_has(&s, c, 3) && cov_cell_has(&s, c, 9) && !cov_cell_has(&s, c, 4));

	/* round trip and merge of inline cells */
	assert_int_equal(cov_store_serialize(&s, &buf, &len), 0);
	assert_int_equal(cov_store_deserialize(&t, buf, len, &why), 0);
	free(buf);
	assert_int_equal(cov_store_merge(&t, &s), 0);
	c = cov_store_find(&t, &k);
	assert_int_equal(c->n, 2);
	assert_int_equal(c->syns, 4);
	assert_true(cov_cell_has(&t, c, 3) && cov_cell_has(&t, c, 9));
	assert_int_equal(t.set_bytes, 0);
	cov_store_fini(&t);

	/* a third slot moves the set to the heap */
	assert_int_equal(cov_store_add(&s, &k, 1, 0, c3, 1), 0);
	c = cov_store_find(&s, &k);
	assert_int_equal(c->n, 3);
	assert_int_equal(s.set_bytes, 3 * sizeof(uint32_t));   /* exactly n slots on the heap */
	cov_cell_slots(&s, c, out);
	assert_int_equal(out[0], 3);
	assert_int_equal(out[1], 9);
	assert_int_equal(out[2], 40);
	uint32_t d2[2] = { 50, 40 };                               /* one new, one known */
	assert_int_equal(cov_store_add(&s, &k, 0, 0, d2, 2), 0);
	c = cov_store_find(&s, &k);
	assert_int_equal(c->n, 4);
	assert_int_equal(s.set_bytes, 4 * sizeof(uint32_t));
	assert_true(cov_cell_has(&s, c, 50) && cov_cell_has(&s, c, 40) && cov_cell_has(&s, c, 3));
	/* then past |S|/32 slots into a bitmap, keeping every slot */
	for (uint32_t i = 100; i < 110; i++)
		assert_int_equal(cov_store_add(&s, &k, 0, 0, &i, 1), 0);
	c = cov_store_find(&s, &k);
	assert_true(c->flags & COV_F_DENSE);
	assert_int_equal(c->n, 14);
	assert_true(cov_cell_has(&s, c, 3) && cov_cell_has(&s, c, 9) && cov_cell_has(&s, c, 40));
	assert_true(cov_cell_has(&s, c, 109) && !cov_cell_has(&s, c, 110));
	/* an inline cell goes straight to a bitmap too */
	uint64_t bits[4] = { 1ull << 5, 0, 0, 0 };
	assert_int_equal(cov_store_add_bits(&s, &k2, 0, 0, bits), 0);
	c = cov_store_find(&s, &k2);
	assert_int_equal(c->n, 2);
	assert_true(cov_cell_has(&s, c, 5) && cov_cell_has(&s, c, 9));
	cov_store_fini(&s);
}

static void test_periods(void **state)
{
	char b[OBS_PERIOD_LABEL_MAX];
	uint32_t idx;

	(void)state;
	/* months: 2024-02 is leap; boundaries exact to the ns */
	uint64_t feb = (uint64_t)obs_days_from_civil(2024, 2, 1) * OBS_NS_PER_DAY;
	uint64_t mar = (uint64_t)obs_days_from_civil(2024, 3, 1) * OBS_NS_PER_DAY;
	assert_int_equal(mar - feb, 29 * OBS_NS_PER_DAY);
	assert_int_equal(obs_period_index(OBS_PU_MONTH, feb), (2024 - 1970) * 12 + 1);
	assert_int_equal(obs_period_index(OBS_PU_MONTH, mar - 1), (2024 - 1970) * 12 + 1);
	assert_int_equal(obs_period_index(OBS_PU_MONTH, mar), (2024 - 1970) * 12 + 2);
	assert_int_equal(obs_period_start_ns(OBS_PU_MONTH, (2024 - 1970) * 12 + 2), mar);
	obs_period_label(OBS_PU_MONTH, (2024 - 1970) * 12 + 1, b, sizeof(b));
	assert_string_equal(b, "2024-02");
	assert_int_equal(obs_period_parse(OBS_PU_MONTH, "2024-02", &idx), 0);
	assert_int_equal(idx, (2024 - 1970) * 12 + 1);
	assert_int_equal(obs_period_parse(OBS_PU_MONTH, "2024-13", &idx), -EINVAL);
	assert_int_equal(obs_period_parse(OBS_PU_MONTH, "2024-02x", &idx), -EINVAL);
	assert_int_equal(obs_period_parse(OBS_PU_DAY, "2023-02-29", &idx), -EINVAL);
	assert_int_equal(obs_period_parse(OBS_PU_DAY, "2024-02-29", &idx), 0);
	assert_int_equal(idx, obs_days_from_civil(2024, 2, 29));
	assert_int_equal(obs_period_parse(OBS_PU_MONTH, "#650", &idx), 0);
	assert_int_equal(idx, 650);
	/* hours */
	assert_int_equal(obs_period_index(OBS_PU_HOUR, feb + NS(3600) * 5 + 1), (feb / NS(3600)) + 5);
	obs_period_label(OBS_PU_HOUR, (uint32_t)(feb / NS(3600)) + 5, b, sizeof(b));
	assert_string_equal(b, "2024-02-01T05");
	assert_int_equal(obs_period_parse(OBS_PU_HOUR, "2024-02-01T05", &idx), 0);
	assert_int_equal(idx, (feb / NS(3600)) + 5);
	/* ISO weeks: 2024-01-01 is a Monday, week 1; 2020-12-31 (Thu) is 2020-W53;
	 * 2021-01-03 (Sun) still 2020-W53; 2021-01-04 (Mon) 2021-W01 */
	uint64_t d = (uint64_t)obs_days_from_civil(2024, 1, 1) * OBS_NS_PER_DAY;
	idx = obs_period_index(OBS_PU_WEEK, d);
	assert_int_equal(obs_period_index(OBS_PU_WEEK, d - 1), idx - 1);
	assert_int_equal(obs_period_start_ns(OBS_PU_WEEK, idx), d);
	obs_period_label(OBS_PU_WEEK, idx, b, sizeof(b));
	assert_string_equal(b, "2024-W01");
	uint32_t w53 = obs_period_index(OBS_PU_WEEK, (uint64_t)obs_days_from_civil(2020, 12, 31) * OBS_NS_PER_DAY);
	assert_int_equal(obs_period_index(OBS_PU_WEEK, (uint64_t)obs_days_from_civil(2021, 1, 3) * OBS_NS_PER_DAY), w53);
	obs_period_label(OBS_PU_WEEK, w53, b, sizeof(b));
	assert_string_equal(b, "2020-W53");
	obs_period_label(OBS_PU_WEEK, w53 + 1, b, sizeof(b));
	assert_string_equal(b, "2021-W01");
	assert_int_equal(obs_period_parse(OBS_PU_WEEK, "2020-W53", &idx), 0);
	assert_int_equal(idx, w53);
	assert_int_equal(obs_period_parse(OBS_PU_WEEK, "2021-W53", &idx), -EINVAL);
	/* every day of 1970..2100: label -> parse -> same index, for every unit */
	for (int64_t day = 0; day < 47847; day += 1) {
		for (unsigned u = 0; u < OBS_PU_N; u++) {
			uint64_t t = (uint64_t)day * OBS_NS_PER_DAY + NS(3600) * 13;
			uint32_t i = obs_period_index(u, t), j;
			if (u != OBS_PU_DAY && day % 5)
				continue;
			obs_period_label(u, i, b, sizeof(b));
			assert_int_equal(obs_period_parse(u, b, &j), 0);
			assert_int_equal(i, j);
			assert_true(obs_period_start_ns(u, i) <= t);
			assert_true(obs_period_start_ns(u, i + 1) > t);
		}
	}
}

#define TESTS(T) T(test_model) T(test_bits) T(test_inline) T(test_periods)
OBS_TEST_MAIN(TESTS, NULL, NULL)
