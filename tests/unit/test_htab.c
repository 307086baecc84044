/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_htab.c — the control plane's hash table (control/htab.h) on its own: inline and
 * external keys, growth at the load limit, reserve-then-insert without moves, iteration,
 * clearing, and backward-shift deletion checked against a brute-force reference under a
 * hash that collides on purpose (long runs that wrap around the end of the array).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "htab.h"
#include "../fixtures/test_main.h"
#include "../fixtures/test_rand.h"

/* ---- inline key: a 12-byte entry, key = 4 bytes, in use = the 8-byte count ---- */

struct ent {
	uint32_t key;
	uint64_t count;
} __attribute__((packed));

/* The key's n bytes, mixed (any width of key this test uses). */
static uint64_t mix_key(const void *key, size_t n)
{
	uint64_t x = 0;

	memcpy(&x, key, n);
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	return x;
}

static uint64_t ent_hash(const void *key, const void *ctx)
{
	(void)ctx;
	return mix_key(key, 4);
}

/* every key of a group of 8 lands on the same home slot: long runs, wrap-around */
static uint64_t bad_hash(const void *key, const void *ctx)
{
	uint32_t k;

	(void)ctx;
	memcpy(&k, key, 4);
	return (k / 8) * 7;
}

static const struct cp_ht_type ent_t = {
	.size = sizeof(struct ent), .key_size = 4, .used_off = offsetof(struct ent, count),
	.used_len = 8, .load_num = 7, .load_den = 10, .min_cap = 16, .hash = ent_hash,
};
static const struct cp_ht_type bad_t = {
	.size = sizeof(struct ent), .key_size = 4, .used_off = offsetof(struct ent, count),
	.used_len = 8, .load_num = 7, .load_den = 8, .min_cap = 16, .hash = bad_hash,
};

static struct ent *put(struct cp_ht *h, const struct cp_ht_type *t, uint32_t key, uint64_t add)
{
	bool isnew;
	struct ent *e = cp_ht_insert(h, t, &key, &isnew);

	assert_non_null(e);
	if (isnew) {
		assert_int_equal(e->count, 0);    /* handed out zeroed */
		e->key = key;
	}
	e->count += add;
	return e;
}

static void test_insert_find_grow(void **state)
{
	struct cp_ht h;
	const uint32_t N = 20000;

	(void)state;
	cp_ht_init(&h, NULL);
	assert_null(cp_ht_find(&h, &ent_t, &N));        /* empty, nothing allocated */
	assert_int_equal(h.cap, 0);
	for (uint32_t i = 0; i < N; i++)
		put(&h, &ent_t, i * 2654435761u, i + 1);
	for (uint32_t i = 0; i < N; i++)                 /* again: counts add up, no new entries */
		put(&h, &ent_t, i * 2654435761u, 1);
	assert_int_equal(h.n, N);
	/* a power of two, within the load limit, not twice too large */
	assert_int_equal(h.cap & (h.cap - 1), 0);
	assert_true((uint64_t)h.n * 10 <= (uint64_t)h.cap * 7);
	assert_true((uint64_t)h.n * 10 > (uint64_t)h.cap / 2 * 7);
	for (uint32_t i = 0; i < N; i++) {
		uint32_t k = i * 2654435761u;
		const struct ent *e = cp_ht_find(&h, &ent_t, &k);

		assert_non_null(e);
		assert_int_equal(e->key, k);
		assert_int_equal(e->count, (uint64_t)i + 2);
	}
	/* keys never inserted: i * 2654435761 (odd) is a bijection mod 2^32, so i >= N
	 * gives keys that are not in the table */
	for (uint32_t i = N; i < N + 1000; i++) {
		uint32_t k = i * 2654435761u;

		assert_null(cp_ht_find(&h, &ent_t, &k));
	}
	assert_int_equal(cp_ht_bytes(&h, &ent_t), (size_t)h.cap * sizeof(struct ent));
	cp_ht_fini(&h);
}

static void test_reserve_no_move(void **state)
{
	struct cp_ht h;
	uint8_t *slots;
	uint32_t cap;

	(void)state;
	cp_ht_init(&h, NULL);
	assert_int_equal(cp_ht_reserve(&h, &ent_t, 1000), 0);
	assert_true(cp_ht_has_room(&h, &ent_t, 1000));
	assert_false(cp_ht_has_room(&h, &ent_t, h.cap));
	slots = h.slots;
	cap = h.cap;
	for (uint32_t i = 0; i < 1000; i++)
		put(&h, &ent_t, i, 1);
	assert_ptr_equal(h.slots, slots);    /* reserved: nothing moved */
	assert_int_equal(h.cap, cap);
	/* an insert of a key already there needs no room, even at the limit */
	while (cp_ht_has_room(&h, &ent_t, 1))
		put(&h, &ent_t, 100000 + h.n, 1);
	put(&h, &ent_t, 5, 1);
	assert_int_equal(h.cap, cap);
	put(&h, &ent_t, 999999, 1);          /* a new one grows */
	assert_int_equal(h.cap, 2 * cap);
	cp_ht_clear(&h, &ent_t);
	assert_int_equal(h.n, 0);
	assert_int_equal(h.cap, 2 * cap);    /* the capacity stays */
	assert_null(cp_ht_find(&h, &ent_t, &(uint32_t){ 5 }));
	cp_ht_fini(&h);
}

static void test_iterate(void **state)
{
	struct cp_ht h;
	uint64_t sum = 0, n = 0;
	struct ent *e;

	(void)state;
	cp_ht_init(&h, NULL);
	for (uint32_t i = 1; i <= 5000; i++)
		put(&h, &ent_t, i, i);
	for (uint32_t it = 0; (e = cp_ht_next(&h, &ent_t, &it)) != NULL;) {
		sum += e->count;
		n++;
	}
	assert_int_equal(n, 5000);
	assert_int_equal(sum, 5000ull * 5001 / 2);
	cp_ht_fini(&h);
}

/* Random inserts and deletes under the colliding hash, against a reference array. */
static void test_delete_reference(void **state)
{
	enum { KEYS = 600 };
	static uint64_t ref[KEYS];   /* count of key k, 0 = absent */
	struct cp_ht h;
	uint64_t x = 0x9e3779b97f4a7c15ull;

	(void)state;
	memset(ref, 0, sizeof(ref));
	cp_ht_init(&h, NULL);
	for (int step = 0; step < 60000; step++) {
		uint32_t k = (uint32_t)(obs_xorshift(&x) % KEYS);

		if (x % 3 == 0 && ref[k] != 0) {
			struct ent *e = cp_ht_find(&h, &bad_t, &k);

			assert_non_null(e);
			cp_ht_delete(&h, &bad_t, e);
			ref[k] = 0;
		} else {
			put(&h, &bad_t, k, 1);
			ref[k]++;
		}
		if (step % 97 == 0) {
			uint32_t n = 0;

			for (uint32_t j = 0; j < KEYS; j++) {
				const struct ent *e = cp_ht_find(&h, &bad_t, &j);

				if (ref[j] == 0) {
					assert_null(e);
				} else {
					assert_non_null(e);
					assert_int_equal(e->count, ref[j]);
					n++;
				}
			}
			assert_int_equal(h.n, n);
		}
	}
	/* delete everything: the table ends all zero */
	for (uint32_t j = 0; j < KEYS; j++) {
		struct ent *e = cp_ht_find(&h, &bad_t, &j);

		if (e != NULL)
			cp_ht_delete(&h, &bad_t, e);
	}
	assert_int_equal(h.n, 0);
	for (uint32_t i = 0; i < h.cap * sizeof(struct ent); i++)
		assert_int_equal(h.slots[i], 0);
	cp_ht_fini(&h);
}

/* ---- external key: 4-byte index entries (position + 1) into an array of names ---- */

struct names {
	const char *v[64];
};

static uint64_t str_hash(const char *s)
{
	uint64_t hv = 1469598103934665603ull;

	for (; *s; s++)
		hv = (hv ^ (unsigned char)*s) * 1099511628211ull;
	return hv;
}

static uint64_t ix_hash(const void *key, const void *ctx)
{
	(void)ctx;
	return str_hash(key);
}

static uint64_t ix_entry_hash(const void *e, const void *ctx)
{
	const struct names *nm = ctx;
	uint32_t pos;

	memcpy(&pos, e, 4);
	return str_hash(nm->v[pos - 1]);
}

static bool ix_match(const void *e, const void *key, const void *ctx)
{
	const struct names *nm = ctx;
	uint32_t pos;

	memcpy(&pos, e, 4);
	return strcmp(nm->v[pos - 1], key) == 0;
}

static const struct cp_ht_type ix_t = {
	.size = 4, .key_size = 0, .used_off = 0, .used_len = 4, .load_num = 1, .load_den = 2,
	.min_cap = 4, .hash = ix_hash, .match = ix_match, .entry_hash = ix_entry_hash,
};

static void test_external_key(void **state)
{
	static const char *const words[] = { "alpha", "beta", "gamma", "delta", "epsilon",
		"zeta", "eta", "theta", "iota", "kappa", "lambda", "mu" };
	struct names nm = { { NULL } };
	struct cp_ht h;
	uint32_t n = 0;

	(void)state;
	cp_ht_init(&h, &nm);
	for (unsigned i = 0; i < 12; i++) {
		bool isnew;
		uint32_t *e = cp_ht_insert(&h, &ix_t, words[i], &isnew);

		assert_non_null(e);
		assert_true(isnew);
		nm.v[n++] = words[i];
		*e = n;                      /* position + 1: non-zero, in use */
	}
	assert_int_equal(h.n, 12);
	assert_true(h.cap >= 24);        /* grew from 4, rehashing through entry_hash() */
	for (unsigned i = 0; i < 12; i++) {
		const uint32_t *e = cp_ht_find(&h, &ix_t, words[i]);

		assert_non_null(e);
		assert_string_equal(nm.v[*e - 1], words[i]);
	}
	assert_null(cp_ht_find(&h, &ix_t, "omega"));
	cp_ht_delete(&h, &ix_t, cp_ht_find(&h, &ix_t, "gamma"));
	assert_null(cp_ht_find(&h, &ix_t, "gamma"));
	for (unsigned i = 0; i < 12; i++)
		if (i != 2)
			assert_non_null(cp_ht_find(&h, &ix_t, words[i]));
	cp_ht_fini(&h);
}

/* ---- the in-use field at any offset and width ---- */

struct narrow {
	uint16_t key;
	uint8_t state;      /* in use: non-zero */
	uint8_t pad;
};

static uint64_t narrow_hash(const void *key, const void *ctx)
{
	(void)ctx;
	return mix_key(key, 2);
}

static void test_used_widths(void **state)
{
	static const struct cp_ht_type t = {
		.size = sizeof(struct narrow), .key_size = 2,
		.used_off = offsetof(struct narrow, state), .used_len = 1,
		.load_num = 5, .load_den = 8, .min_cap = 8, .hash = narrow_hash,
	};
	struct cp_ht h;
	struct narrow *e;
	uint32_t n = 0;

	(void)state;
	cp_ht_init(&h, NULL);
	for (uint16_t k = 0; k < 300; k++) {
		bool isnew;

		e = cp_ht_insert(&h, &t, &k, &isnew);
		assert_non_null(e);
		assert_true(isnew);
		e->key = k;            /* key 0 is a key like any other */
		e->state = 1 + k % 3;
	}
	assert_int_equal(h.n, 300);
	assert_true((uint64_t)h.n * 8 <= (uint64_t)h.cap * 5);
	for (uint32_t it = 0; (e = cp_ht_next(&h, &t, &it)) != NULL;)
		n++;
	assert_int_equal(n, 300);
	assert_non_null(cp_ht_find(&h, &t, &(uint16_t){ 0 }));
	cp_ht_fini(&h);
}

#define TESTS(T) T(test_insert_find_grow) T(test_reserve_no_move) T(test_iterate) \
	T(test_delete_reference) T(test_external_key) T(test_used_widths)
OBS_TEST_MAIN(TESTS, NULL, NULL)
