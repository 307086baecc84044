/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_lifetime.c — SPEC.md C in control/life/lifetime.c: bucket boundaries at exactly 60 s,
 * 24 h and 30 d; group splits at gaps of exactly 24 h (and 1 ns less); aggregates out of
 * order and repeated; Dice on known sets and the continuity grid; CDF points; eviction of
 * the least recently seen; snapshot blob round trip and garbage; memory per million
 * sources (computed by the module and measured as RSS).
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "control/geo.h"
#include "control/life/lifetime.h"
#include "../fixtures/test_main.h"

#define NS  1000000000ull
#define H   (3600 * NS)
#define DAY (86400 * NS)
#define T0  (1700000000ull * NS)   /* 2023-11-14T22:13:20Z */

static struct cp_life *mk(uint32_t max)
{
	struct cp_life_conf c = { .gap_ns = DAY, .max_sources = max };
	struct cp_life *l = cp_life_new(&c);

	assert_non_null(l);
	return l;
}

static void add(struct cp_life *l, uint32_t addr, uint64_t f, uint64_t t, uint64_t ev,
                uint64_t sensors, uint8_t cats, uint32_t n_types, const uint32_t *types)
{
	struct cp_life_hour h = { addr, f, t, ev, sensors, cats, n_types, types };

	assert_int_equal(cp_life_add(l, &h), 0);
}

/* one event at time t */
static void ev1(struct cp_life *l, uint32_t addr, uint64_t t, unsigned sensor, uint32_t type)
{
	add(l, addr, t, t, 1, 1ull << sensor, 1, 1, &type);
}

static void test_conf(void **state)
{
	struct cp_life_conf c = { .gap_ns = 3599 * NS, .max_sources = 10 };

	(void)state;
	assert_null(cp_life_new(&c));
	assert_int_equal(errno, EINVAL);
	c.gap_ns = 3600 * NS;
	c.max_sources = 0;
	assert_null(cp_life_new(&c));
	c.max_sources = 1;
	cp_life_free(cp_life_new(&c));
}

static void test_buckets(void **state)
{
	struct cp_life *l = mk(100);
	struct cp_life_report r;
	/* observation periods at and around each boundary */
	static const struct { uint64_t p; unsigned b; } c[] = {
		{ 0, 0 }, { 60 * NS - 1, 0 }, { 60 * NS, 1 }, { DAY - 1, 1 }, { DAY, 2 },
		{ 30 * DAY - 1, 2 }, { 30 * DAY, 3 }, { 400 * DAY, 3 },
	};

	(void)state;
	for (unsigned i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		/* events every 12 h so no gap splits anything: the period is what counts */
		uint64_t t;

		ev1(l, 100 + i, T0, 0, 1);
		for (t = 12 * H; t < c[i].p; t += 12 * H)
			ev1(l, 100 + i, T0 + t, 0, 1);
		ev1(l, 100 + i, T0 + c[i].p, 0, 1);
		assert_int_equal(cp_life_bucket(c[i].p), c[i].b);
		{
			const struct cp_life_src *s = cp_life_find(l, 100 + i);

			assert_non_null(s);
			assert_int_equal(s->n_groups, 1);
			assert_int_equal(cp_life_src_last(s) - cp_life_src_first(s), c[i].p);
		}
	}
	assert_int_equal(cp_life_report(l, NULL, &r), 0);
	assert_int_equal(r.n_sources, 8);
	assert_int_equal(r.bucket[0], 2);
	assert_int_equal(r.bucket[1], 2);
	assert_int_equal(r.bucket[2], 2);
	assert_int_equal(r.bucket[3], 2);
	assert_int_equal(r.one_sensor, 8);
	assert_int_equal(r.sensors[3][0], 2);
	assert_int_equal(r.cat[0][0], 2);
	assert_int_equal(r.n_top[0], 1);
	assert_string_equal(r.top[0][0].cc, "--");
	assert_int_equal(r.top[0][0].n, 2);
	assert_int_equal(r.cc_rest[0], 0);
	cp_life_free(l);
}

static void test_gaps(void **state)
{
	struct cp_life *l = mk(100);
	const struct cp_life_src *s;

	(void)state;
	/* exactly 24 h apart: two groups; 24 h - 1 ns: one */
	ev1(l, 1, T0, 0, 1);
	ev1(l, 1, T0 + DAY, 1, 2);
	ev1(l, 2, T0, 0, 1);
	ev1(l, 2, T0 + DAY - 1, 1, 2);
	s = cp_life_find(l, 1);
	assert_int_equal(s->n_groups, 2);
	assert_int_equal(cp_life_groups(s)[0].sensor_mask, 1);
	assert_int_equal(cp_life_groups(s)[1].sensor_mask, 2);
	assert_int_equal(cp_life_groups(s)[1].events, 1);
	s = cp_life_find(l, 2);
	assert_int_equal(s->n_groups, 1);
	assert_int_equal(cp_life_groups(s)[0].sensor_mask, 3);
	assert_int_equal(cp_life_groups(s)[0].n_types, 2);

	/* out of order: A, C (40 h later) then B between bridges them */
	ev1(l, 3, T0, 0, 7);
	ev1(l, 3, T0 + 40 * H, 0, 8);
	assert_int_equal(cp_life_find(l, 3)->n_groups, 2);
	ev1(l, 3, T0 + 20 * H, 2, 9);
	s = cp_life_find(l, 3);
	assert_int_equal(s->n_groups, 1);
	assert_int_equal(cp_life_src_events(s), 3);
	assert_int_equal(cp_life_groups(s)[0].n_types, 3);
	assert_int_equal(cp_life_groups(s)[0].sensor_mask, 5);

	/* an hour aggregate inserted before, between and after groups; duplicates */
	ev1(l, 4, T0 + 10 * DAY, 0, 1);
	ev1(l, 4, T0, 0, 1);
	ev1(l, 4, T0 + 5 * DAY, 0, 1);
	ev1(l, 4, T0 + 5 * DAY, 0, 1);
	ev1(l, 4, T0 + 20 * DAY, 0, 1);
	s = cp_life_find(l, 4);
	assert_int_equal(s->n_groups, 4);
	assert_int_equal(cp_life_groups(s)[1].events, 2);
	for (uint32_t i = 0; i + 1 < s->n_groups; i++)
		assert_true(cp_life_groups(s)[i + 1].first_ns >= cp_life_groups(s)[i].last_ns + DAY);
	/* a type-only update (events 0) with many types spills and dedups */
	{
		uint32_t t[100];

		for (unsigned i = 0; i < 100; i++)
			t[i] = 1000 - i % 50;
		add(l, 4, T0 + 5 * DAY + 1, T0 + 5 * DAY + 2, 0, 1, 2, 100, t);
		s = cp_life_find(l, 4);
		assert_int_equal(cp_life_groups(s)[1].n_types, 51);
		assert_int_equal(cp_life_groups(s)[1].events, 2);
		assert_int_equal(s->cat_mask, 3);
		for (unsigned i = 0; i + 1 < 51; i++)
			assert_true(cp_life_group_types(&cp_life_groups(s)[1])[i] <
			            cp_life_group_types(&cp_life_groups(s)[1])[i + 1]);
	}
	/* a wide scanner: types one at a time past the per-group cap are counted, set sorted */
	{
		struct cp_life_stats st;
		const struct cp_life_group *g5;

		for (uint32_t k = 0; k < CP_LIFE_MAX_TYPES + 904; k++)
			ev1(l, 5, T0 + k, 0, 0x80010000u | ((k * 7919u) & 0xffffu));
		for (uint32_t k = 0; k < 100; k++)       /* known ones: no change */
			ev1(l, 5, T0 + k, 0, 0x80010000u | ((k * 7919u) & 0xffffu));
		g5 = cp_life_groups(cp_life_find(l, 5));
		assert_int_equal(g5->n_types, CP_LIFE_MAX_TYPES);
		for (uint32_t k = 0; k + 1 < g5->n_types; k++)
			assert_true(cp_life_group_types(g5)[k] < cp_life_group_types(g5)[k + 1]);
		cp_life_get_stats(l, &st);
		assert_true(st.n_types_truncated >= 904);
		assert_true(cp_life_find(l, 5)->flags & CP_LIFE_F_TRUNC);
		assert_int_equal(cp_life_src_events(cp_life_find(l, 5)), CP_LIFE_MAX_TYPES + 1004);
	}
	/* bad aggregate: counted, refused */
	{
		struct cp_life_hour h = { 9, T0 + 1, T0, 1, 1, 1, 0, NULL };
		struct cp_life_stats st;

		assert_int_equal(cp_life_add(l, &h), -EINVAL);
		cp_life_get_stats(l, &st);
		assert_int_equal(st.n_bad, 1);
		assert_null(cp_life_find(l, 9));
	}
	cp_life_free(l);
}

static void test_dice(void **state)
{
	uint32_t a[] = { 1, 2, 3 }, b[] = { 3, 4 }, c[] = { 1, 2, 3 };
	uint64_t n, d;

	(void)state;
	cp_life_dice_sets(a, 3, b, 2, &n, &d);
	assert_int_equal(n, 2);
	assert_int_equal(d, 5);
	cp_life_dice_sets(a, 3, c, 3, &n, &d);
	assert_int_equal(n, 6);
	assert_int_equal(d, 6);
	cp_life_dice_sets(a, 0, c, 0, &n, &d);
	assert_int_equal(n, d);
	cp_life_dice_sets(a, 3, c, 0, &n, &d);
	assert_int_equal(n, 0);
}

static void test_continuity(void **state)
{
	struct cp_life *l = mk(100);
	uint64_t c, e, grid[CP_LIFE_GRID_L][CP_LIFE_GRID_E];
	uint32_t t1[] = { 1, 2, 3 }, t2[] = { 3, 4 };

	(void)state;
	/* source 1: groups {s0,s1}/{1,2,3} and {s1,s2}/{3,4}: r_l = 0.5, r_e = 0.4 */
	add(l, 1, T0, T0 + H, 3, 0x3, 1, 3, t1);
	add(l, 1, T0 + 3 * DAY, T0 + 3 * DAY, 1, 0x6, 1, 2, t2);
	/* source 2: identical sets in 3 groups: r = 1 everywhere */
	for (int k = 0; k < 3; k++)
		add(l, 2, T0 + (uint64_t)k * 2 * DAY, T0 + (uint64_t)k * 2 * DAY, 1, 0x1, 1, 3, t1);
	/* source 3: two groups, period exactly 24 h: not eligible (must exceed 24 h) */
	ev1(l, 3, T0, 0, 1);
	ev1(l, 3, T0 + DAY, 0, 1);
	/* source 4: one group over 3 days: no gap, not eligible */
	for (int k = 0; k <= 6; k++)
		ev1(l, 4, T0 + (uint64_t)k * 12 * H, 0, 1);
	/* source 5: groups p,q,r: (p,q) r_e = 1, (q,r) r_e = 0 -> continuous only at te = 0 */
	ev1(l, 5, T0, 0, 1);
	ev1(l, 5, T0 + 2 * DAY, 0, 1);
	ev1(l, 5, T0 + 4 * DAY, 0, 2);

	cp_life_continuity(l, 5000, 4000, &c, &e);
	assert_int_equal(e, 3);
	assert_int_equal(c, 2);            /* 1 (exactly at both thresholds) and 2 */
	cp_life_continuity(l, 5000, 4001, &c, &e);
	assert_int_equal(c, 1);
	cp_life_continuity(l, 5001, 0, &c, &e);
	assert_int_equal(c, 2);            /* 2 and 5 */
	cp_life_continuity(l, 0, 0, &c, &e);
	assert_int_equal(c, 3);
	cp_life_continuity(l, 10000, 10000, &c, &e);
	assert_int_equal(c, 1);
	cp_life_continuity_grid(l, grid, &e);
	assert_int_equal(e, 3);
	assert_int_equal(grid[0][0], 3);        /* tl 0, te 0 */
	assert_int_equal(grid[3][8], 2);        /* tl .5, te .40 */
	assert_int_equal(grid[3][9], 1);        /* tl .5, te .45 */
	assert_int_equal(grid[4][0], 2);        /* tl .7, te 0: sources 2 and 5 */
	assert_int_equal(grid[6][20], 1);       /* tl 1, te 1 */
	assert_int_equal(grid[6][1], 1);        /* source 5 fails te .05 */
	cp_life_free(l);
}

/* The CDF of l in unit u, checked for its population and its number of points. */
static struct cp_life_cdf_pt *cdf(const struct cp_life *l, enum cp_life_unit u, uint64_t pop,
                                  size_t n)
{
	struct cp_life_cdf_pt *p;
	size_t got_n;
	uint64_t got_pop;

	assert_int_equal(cp_life_cdf(l, u, &p, &got_n, &got_pop), 0);
	assert_int_equal(got_pop, pop);
	assert_int_equal(got_n, n);
	return p;
}

static void test_cdf(void **state)
{
	struct cp_life *l = mk(100);
	struct cp_life_cdf_pt *p;

	(void)state;
	/* periods 0 s (3 events), 30 s (2 events), 60 s, 90 s, 1 day, 2.5 days */
	ev1(l, 1, T0, 0, 1);
	ev1(l, 1, T0, 0, 1);
	ev1(l, 1, T0, 0, 1);
	ev1(l, 2, T0, 0, 1);
	ev1(l, 2, T0 + 30 * NS, 0, 1);
	ev1(l, 3, T0, 0, 1);
	ev1(l, 3, T0 + 60 * NS, 0, 1);
	ev1(l, 4, T0, 0, 1);
	ev1(l, 4, T0 + 90 * NS, 0, 1);
	ev1(l, 5, T0, 0, 1);
	ev1(l, 5, T0 + 12 * H, 0, 1);
	ev1(l, 5, T0 + DAY, 0, 1);
	for (uint64_t t = 0; t <= 60 * H; t += 12 * H)
		ev1(l, 6, T0 + t, 0, 1);

	p = cdf(l, CP_LIFE_DAYS, 6, 4);        /* x = 0..3 */
	assert_int_equal(p[0].n_le, 1);         /* period <= 0: only the single-instant one */
	assert_int_equal(p[1].n_le, 5);         /* exactly 1 day counts at x = 1 */
	assert_int_equal(p[2].n_le, 5);
	assert_int_equal(p[3].n_le, 6);
	free(p);
	p = cdf(l, CP_LIFE_MINUTES, 4, 1441);
	assert_int_equal(p[0].n_le, 1);
	assert_int_equal(p[1].n_le, 3);         /* 0, 30, 60 s */
	assert_int_equal(p[2].n_le, 4);
	assert_int_equal(p[1440].n_le, 4);
	free(p);
	p = cdf(l, CP_LIFE_SECONDS, 2, 61);
	assert_int_equal(p[29].n_le, 1);
	assert_int_equal(p[30].n_le, 2);
	free(p);
	p = cdf(l, CP_LIFE_EVENTS, 2, 2);
	assert_int_equal(p[0].x, 2);
	assert_int_equal(p[0].n_le, 1);
	assert_int_equal(p[1].x, 3);
	assert_int_equal(p[1].n_le, 2);
	free(p);
	cp_life_free(l);
}

static void test_evict(void **state)
{
	struct cp_life *l = mk(4);
	struct cp_life_stats st;

	(void)state;
	ev1(l, 1, T0 + 50, 0, 1);
	ev1(l, 2, T0 + 10, 0, 1);     /* least recently seen */
	ev1(l, 3, T0 + 30, 0, 1);
	ev1(l, 4, T0 + 40, 0, 1);
	ev1(l, 5, T0 + 5, 0, 1);      /* a new source evicts 2 */
	cp_life_get_stats(l, &st);
	assert_int_equal(st.n_sources, 4);
	assert_int_equal(st.n_evicted, 1);
	assert_null(cp_life_find(l, 2));
	for (uint32_t a = 1; a <= 5; a++)
		if (a != 2)
			assert_non_null(cp_life_find(l, a));
	ev1(l, 5, T0 + 100, 0, 1);    /* existing: no eviction */
	ev1(l, 6, T0 + 100, 0, 1);    /* evicts 3 (last 30) */
	assert_null(cp_life_find(l, 3));
	cp_life_free(l);

	/* a consumer reserves room every epoch: the table grows geometrically, not per call */
	l = mk(1000000);
	{
		struct cp_life_stats s0, s1;

		for (uint32_t a = 0; a < 100000; a++)
			ev1(l, a, T0 + a, 0, 1);
		assert_int_equal(cp_life_reserve(l, 50000), 0);
		cp_life_get_stats(l, &s0);
		for (int k = 0; k < 1000; k++) {
			assert_int_equal(cp_life_reserve(l, 50000), 0);
			ev1(l, 100000 + (uint32_t)k, T0 + 1, 0, 1);   /* one new source per epoch */
		}
		cp_life_get_stats(l, &s1);
		assert_int_equal(s1.mem_bytes, s0.mem_bytes);
	}
	cp_life_free(l);

	/* large: many evictions keep the index consistent */
	l = mk(1000);
	for (uint32_t a = 0; a < 20000; a++)
		ev1(l, a * 2654435761u, T0 + a, 0, 1);
	cp_life_get_stats(l, &st);
	assert_int_equal(st.n_sources, 1000);
	assert_int_equal(st.n_evicted, 19000);
	for (uint64_t i = 0; i < cp_life_n_sources(l); i++)
		assert_ptr_equal(cp_life_find(l, cp_life_at(l, i)->addr), cp_life_at(l, i));
	/* sampled LRU: the survivors are mostly recent */
	{
		uint64_t recent = 0;

		for (uint64_t i = 0; i < cp_life_n_sources(l); i++)
			recent += cp_life_src_last(cp_life_at(l, i)) >= T0 + 15000;
		assert_true(recent > 900);
	}
	cp_life_free(l);
}

static void same(const struct cp_life *a, const struct cp_life *b)
{
	assert_int_equal(cp_life_n_sources(a), cp_life_n_sources(b));
	for (uint64_t i = 0; i < cp_life_n_sources(a); i++) {
		const struct cp_life_src *s = cp_life_at(a, i), *t = cp_life_find(b, s->addr);

		assert_non_null(t);
		assert_int_equal(s->n_groups, t->n_groups);
		assert_int_equal(s->cat_mask, t->cat_mask);
		for (uint32_t k = 0; k < s->n_groups; k++) {
			const struct cp_life_group *g = &cp_life_groups(s)[k], *h = &cp_life_groups(t)[k];

			assert_int_equal(g->first_ns, h->first_ns);
			assert_int_equal(g->last_ns, h->last_ns);
			assert_int_equal(g->events, h->events);
			assert_int_equal(g->sensor_mask, h->sensor_mask);
			assert_int_equal(g->n_types, h->n_types);
			assert_memory_equal(cp_life_group_types(g), cp_life_group_types(h), g->n_types * 4);
		}
	}
}

static void test_save_load(void **state)
{
	struct cp_life *l = mk(1000), *m = mk(1000);
	uint8_t *buf;
	size_t len;
	char err[256];
	uint32_t t[10] = { 9, 8, 7, 6, 5, 4, 3, 2, 1, 0 };

	(void)state;
	for (uint32_t a = 0; a < 300; a++)
		for (uint32_t k = 0; k < a % 5; k++)
			add(l, a, T0 + k * (a % 3 + 1) * 20 * H, T0 + k * (a % 3 + 1) * 20 * H + 5,
			    k + 1, 1ull << (k % 3), (uint8_t)(1u << (a % 6)), a % 10, t);
	assert_int_equal(cp_life_save(l, &buf, &len), 0);
	assert_int_equal(cp_life_load(m, buf, len, err, sizeof(err)), 0);
	same(l, m);
	same(m, l);
	/* loading twice is refused; truncations and garbage are errors, never crashes */
	assert_int_equal(cp_life_load(m, buf, len, err, sizeof(err)), -EBUSY);
	for (size_t cut = 0; cut < len; cut += (len / 97) + 1) {
		struct cp_life *x = mk(1000);

		assert_true(cp_life_load(x, buf, cut, err, sizeof(err)) < 0);
		cp_life_free(x);
	}
	for (size_t i = 64; i < len; i += 13) {
		struct cp_life *x = mk(1000);

		buf[i] ^= 0xa5;
		(void)cp_life_load(x, buf, len, err, sizeof(err));
		buf[i] ^= 0xa5;
		cp_life_free(x);
	}
	free(buf);
	cp_life_free(l);
	cp_life_free(m);
}

/* Fig. 4 countries through control/geo.c on MaxMind's test database (when present) */
static void test_countries(void **state)
{
	const char *db = "/work/shared/data/maxmind-mmdb/test-data/GeoIP2-Country-Test.mmdb";
	char err[256];
	struct cp_geo *g;
	struct cp_life *l;
	struct cp_life_report r;
	static const uint32_t gb1 = 81u << 24 | 2 << 16 | 69 << 8 | 160, gb2 = 2u << 24 | 125 << 16 |
		160 << 8 | 216, se = 89u << 24 | 160 << 16 | 20 << 8 | 112, us = 216u << 24 |
		160 << 16 | 83 << 8 | 56, priv = 10u << 24 | 1;

	(void)state;
	if (access(db, R_OK) != 0) {
		printf("  %s absent: skipped\n", db);
		skip();
	}
	g = cp_geo_open(db, NULL, err, sizeof(err));
	assert_non_null(g);
	l = mk(100);
	ev1(l, gb1, T0, 0, 1);
	ev1(l, gb2, T0, 0, 1);
	ev1(l, se, T0, 0, 1);
	ev1(l, us, T0, 0, 1);
	ev1(l, priv, T0, 0, 1);
	ev1(l, us, T0 + 2 * DAY, 0, 1);        /* US in bucket 2 */
	assert_int_equal(cp_life_report(l, g, &r), 0);
	assert_int_equal(r.bucket[0], 4);
	assert_int_equal(r.n_top[0], 3);
	assert_string_equal(r.top[0][0].cc, "GB");
	assert_int_equal(r.top[0][0].n, 2);
	/* ties (1 each) by code: "--" (unknown) sorts before "SE" only by index order:
	 * A..Z letters first, unknown last */
	assert_string_equal(r.top[0][1].cc, "SE");
	assert_string_equal(r.top[0][2].cc, "--");
	assert_int_equal(r.cc_rest[0], 0);
	assert_int_equal(r.bucket[2], 1);
	assert_string_equal(r.top[2][0].cc, "US");
	cp_life_free(l);
	cp_geo_close(g);
}

static long rss_kb(void)
{
	FILE *f = fopen("/proc/self/statm", "r");
	long pages = 0, rss = 0;

	if (!f)
		return 0;
	if (fscanf(f, "%ld %ld", &pages, &rss) != 2)
		rss = 0;
	fclose(f);
	return rss * (sysconf(_SC_PAGESIZE) / 1024);
}

static void test_memory(void **state)
{
	const uint32_t n = 1000000;
	struct cp_life *l = mk(n);
	struct cp_life_stats st;
	long before = rss_kb(), after;

	(void)state;
	/* typical telescope source: one group, one or two event types */
	for (uint32_t a = 0; a < n; a++) {
		uint32_t t[2] = { 0x80000000u | 23, 0x80000000u | (a & 1 ? 2323 : 23) };

		add(l, a * 2654435761u, T0 + a, T0 + a + 5 * NS, 3, 1, 1, 2, t);
	}
	after = rss_kb();
	cp_life_get_stats(l, &st);
	assert_int_equal(st.n_sources, n);
	printf("  lifetime memory, 1M sources (1 group, <= 2 types): computed %.1f MB, "
	       "measured RSS +%.1f MB\n", st.mem_bytes / 1e6, (after - before) / 1e3);
	assert_true(st.mem_bytes < 120000000ull);
	cp_life_free(l);
}

#define TESTS(T) T(test_conf) T(test_buckets) T(test_gaps) T(test_dice) \
	T(test_continuity) T(test_cdf) T(test_evict) T(test_save_load) T(test_countries) \
	T(test_memory)
OBS_TEST_MAIN(TESTS, NULL, NULL)
