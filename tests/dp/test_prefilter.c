/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_prefilter.c — the /16 prefilter in front of the scanner rte_fib and the exclusion
 * rte_lpm (scanner_table.h, exclude.h; issue 6) under EAL (--no-huge, no PCI).
 *
 * For every table, two independent references:
 *   - the bitmap itself: bit s is set exactly when some listed prefix intersects the /16 s
 *     (computed here by interval overlap, not by obs_pf16_add);
 *   - the answer: obs_scanner_lookup_bulk / obs_exclude_lookup_bulk return, for every
 *     address, the very hop value of an unfiltered rte_fib_lookup_bulk (scanner) or
 *     rte_lpm_lookup_bulk (exclusion) on the same table, and their hit flag equals a
 *     brute-force scan of the prefixes.
 * Addresses: each prefix's first and last address and the neighbours just outside, the
 * first/last address of its /16s and theirs, 0.0.0.0, 255.255.255.255, and random
 * addresses (uniform, and near the prefixes), in bulks of 1..150 (past one gather chunk).
 * Tables: hand-made edges (/1, /8, /10, /15, /16, /17, /24, /25, /32 at 0.0.0.0 and
 * 255.255.255.255), two /1s (every bit set), a lone /32, a random list of mixed lengths,
 * several exclusion files, and the empty exclusion table (no file, or IPv6 only).
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <rte_eal.h>

#include "exclude.h"
#include "scanner_table.h"
#include "../fixtures/test_eal.h"

#define MAXN 150u

struct pfx {
	uint32_t addr;
	uint8_t len;
};

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 16);
}

static uint32_t last_of(uint32_t addr, uint8_t len)
{
	return addr | (len < 32 ? 0xffffffffu >> len : 0);
}

static int brute(const struct pfx *p, size_t n, uint32_t a)
{
	for (size_t i = 0; i < n; i++) {
		uint32_t m = p[i].len ? 0xffffffffu << (32 - p[i].len) : 0;
		if ((a & m) == p[i].addr)
			return 1;
	}
	return 0;
}

/* bit s set <=> [s << 16, s << 16 | 0xffff] meets some prefix */
static void check_bitmap(const uint64_t *bits, const struct pfx *p, size_t n)
{
	size_t set = 0;

	for (uint32_t s = 0; s < 65536; s++) {
		uint32_t lo = s << 16, hi = lo | 0xffffu;
		int want = 0;
		for (size_t i = 0; i < n && !want; i++)
			want = p[i].addr <= hi && last_of(p[i].addr, p[i].len) >= lo;
		assert_int_equal(obs_pf16_test(bits, lo), want);
		set += (size_t)want;
	}
	(void)set;
}

/* The addresses to look up: edges of every prefix and of its /16s, then random ones. */
static uint32_t *make_addrs(const struct pfx *p, size_t n, size_t n_random, size_t *out_n)
{
	size_t cap = n * 12 + n_random + 8, k = 0;
	uint32_t *a = malloc(cap * sizeof(*a));

	assert_non_null(a);
	a[k++] = 0;
	a[k++] = 0xffffffffu;
	a[k++] = 0x0000ffffu;
	a[k++] = 0xffff0000u;
	for (size_t i = 0; i < n; i++) {
		uint32_t f = p[i].addr, l = last_of(f, p[i].len);
		uint32_t f16 = f & 0xffff0000u, l16 = l | 0xffffu;
		a[k++] = f;
		a[k++] = l;
		a[k++] = f - 1;
		a[k++] = l + 1;
		a[k++] = f16;
		a[k++] = l16;
		a[k++] = f16 - 1;
		a[k++] = l16 + 1;
		a[k++] = f + (rnd() & 0xff);
		a[k++] = l - (rnd() & 0xff);
		a[k++] = f16 + (rnd() & 0xffff);
		a[k++] = f + (rnd() & (l - f));          /* anywhere inside */
	}
	for (size_t i = 0; i < n_random; i++)
		a[k++] = i % 3 == 0 && n > 0 ? p[rnd() % n].addr + (rnd() & 0x3ffff) - 0x20000 : rnd();
	*out_n = k;
	return a;
}

enum kind { SCANNER, EXCLUDE };

/* Look up every address in bulks of 1..MAXN, filtered and unfiltered: identical hops. */
static size_t check_lookups(enum kind kind, const void *tab, const struct rte_lpm *lpm,
                            struct rte_fib *fib, const struct pfx *p, size_t n,
                            size_t n_random)
{
	size_t n_addr, hits = 0;
	uint32_t *a = make_addrs(p, n, n_random, &n_addr);
	uint32_t hop[MAXN], ref[MAXN];

	for (size_t o = 0; o < n_addr;) {
		unsigned b = 1 + rnd() % MAXN;
		if (b > n_addr - o)
			b = (unsigned)(n_addr - o);
		memset(hop, 0xa5, sizeof(hop));
		if (kind == SCANNER)
			obs_scanner_lookup_bulk(tab, a + o, hop, b);
		else
			obs_exclude_lookup_bulk(tab, a + o, hop, b);
		if (fib != NULL) {
			uint64_t r64[MAXN];

			assert_int_equal(rte_fib_lookup_bulk(fib, a + o, r64, (int)b), 0);
			for (unsigned i = 0; i < b; i++)
				ref[i] = (uint32_t)r64[i];
		} else if (lpm != NULL) {
			rte_lpm_lookup_bulk(lpm, a + o, ref, b);
		} else {
			memset(ref, 0, sizeof(ref));
		}
		for (unsigned i = 0; i < b; i++) {
			int want = brute(p, n, a[o + i]);
			if (hop[i] != ref[i])
				fail_msg("address %08x: hop %08x, the unfiltered table says %08x", a[o + i], hop[i],
				         ref[i]);
			assert_int_equal(kind == SCANNER ? obs_scanner_hit(hop[i]) :
			                 obs_exclude_hit(hop[i]), want);
			hits += (size_t)want;
		}
		o += b;
	}
	free(a);
	return hits;
}

static void write_file(const char *path, const struct pfx *p, size_t n, const char *extra)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs("# test_prefilter\n", f);
	if (extra != NULL)
		fputs(extra, f);
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%u.%u.%u.%u/%u label%zu\n", p[i].addr >> 24, (p[i].addr >> 16) & 255,
		        (p[i].addr >> 8) & 255, p[i].addr & 255, p[i].len, i % 5);
	fclose(f);
}

static size_t random_list(struct pfx *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		/* /16 .. /32, one in 16 shorter (/8 .. /15) */
		uint8_t len = (uint8_t)(rnd() % 16 ? 16 + rnd() % 17 : 8 + rnd() % 8);
		p[i].len = len;
		p[i].addr = rnd() & (0xffffffffu << (32 - len));
	}
	return n;
}

static const struct pfx edges[] = {
	{ 0x0a000000u, 8 },   /* 10.0.0.0/8 */
	{ 0x64400000u, 10 },  /* 100.64.0.0/10 */
	{ 0x96000000u, 15 },  /* 150.0.0.0/15 */
	{ 0xac100000u, 16 },  /* 172.16.0.0/16 */
	{ 0xac118000u, 17 },  /* 172.17.128.0/17 */
	{ 0xc0a80100u, 24 },  /* 192.168.1.0/24 */
	{ 0xcb007180u, 25 },  /* 203.0.113.128/25 */
	{ 0x01020304u, 32 },  /* 1.2.3.4 */
	{ 0x00000000u, 32 },  /* 0.0.0.0 */
	{ 0xffffffffu, 32 },  /* 255.255.255.255 */
	{ 0xc6336407u, 32 },  /* 198.51.100.7 */
};

static void scanner_case(const char *path, const struct pfx *p, size_t n, size_t n_random,
                         int expect_hits)
{
	char err[512];
	struct obs_scanner_tab *t;
	size_t hits;

	write_file(path, p, n, NULL);
	t = obs_scanner_build(path, err, sizeof(err));
	if (t == NULL)
		fail_msg("%s", err);
	check_bitmap(t->pf16, p, n);
	hits = check_lookups(SCANNER, t, NULL, t->fib, p, n, n_random);
	if (expect_hits)
		assert_true(hits > 0);
	obs_scanner_free(t);
}

static void test_scanner(void **state)
{
	char path[] = "/tmp/obs_pf16_scanXXXXXX";
	int fd = mkstemp(path);
	struct pfx p[3000];

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	scanner_case(path, edges, sizeof(edges) / sizeof(edges[0]), 200000, 1);
	/* the two halves: every /16 set, every address a hit */
	p[0] = (struct pfx){ 0x00000000u, 1 };
	p[1] = (struct pfx){ 0x80000000u, 1 };
	scanner_case(path, p, 2, 20000, 1);
	/* one /1 and a /32 in the other half */
	p[1] = (struct pfx){ 0xdeadbeefu, 32 };
	scanner_case(path, p, 2, 20000, 1);
	/* a lone host: one bit of 65 536 */
	p[0] = (struct pfx){ 0x08080808u, 32 };
	scanner_case(path, p, 1, 50000, 1);
	/* random lengths /8../32, many /16s shared */
	scanner_case(path, p, random_list(p, 3000), 200000, 1);
	unlink(path);
}

static void test_exclude(void **state)
{
	char p0[] = "/tmp/obs_pf16_exclAXXXXXX", p1[] = "/tmp/obs_pf16_exclBXXXXXX";
	const char *paths[2] = { p0, p1 };
	struct pfx p[600];
	size_t n0, n1;
	char err[512];
	struct obs_exclude_tab *t;
	int fd;

	(void)state;
	assert_true((fd = mkstemp(p0)) >= 0);
	close(fd);
	assert_true((fd = mkstemp(p1)) >= 0);
	close(fd);

	/* two files: the edges, then random prefixes and a /8 (hop = file index, so a hit
	 * in file 0 has a zero next hop and only the valid bit tells it from a miss) */
	n0 = sizeof(edges) / sizeof(edges[0]);
	memcpy(p, edges, sizeof(edges));
	n1 = random_list(p + n0, 500);
	p[n0 + n1] = (struct pfx){ 0x2d000000u, 8 };
	n1++;
	write_file(p0, p, n0, "2001:db8::/32 skipped\n");
	write_file(p1, p + n0, n1, NULL);
	t = obs_exclude_build(paths, 2, err, sizeof(err));
	if (t == NULL)
		fail_msg("%s", err);
	assert_non_null(t->lpm);
	check_bitmap(t->pf16, p, n0 + n1);
	assert_true(check_lookups(EXCLUDE, t, t->lpm, NULL, p, n0 + n1, 200000) > 0);
	obs_exclude_free(t);

	/* no file: valid, empty, nothing excluded */
	t = obs_exclude_build(paths, 0, err, sizeof(err));
	assert_non_null(t);
	assert_null(t->lpm);
	check_bitmap(t->pf16, p, 0);
	assert_int_equal(check_lookups(EXCLUDE, t, NULL, NULL, p, 0, 20000), 0);
	obs_exclude_free(t);

	/* a file of IPv6 lines only: valid, empty */
	write_file(p0, p, 0, "2001:db8::/32 v6\n");
	t = obs_exclude_build(paths, 1, err, sizeof(err));
	assert_non_null(t);
	assert_null(t->lpm);
	assert_int_equal(check_lookups(EXCLUDE, t, NULL, NULL, p, 0, 20000), 0);
	obs_exclude_free(t);

	/* one /32 */
	p[0] = (struct pfx){ 0xc0000201u, 32 };
	write_file(p0, p, 1, NULL);
	t = obs_exclude_build(paths, 1, err, sizeof(err));
	assert_non_null(t);
	check_bitmap(t->pf16, p, 1);
	assert_true(check_lookups(EXCLUDE, t, t->lpm, NULL, p, 1, 20000) > 0);
	obs_exclude_free(t);
	unlink(p0);
	unlink(p1);
}

#define TESTS(T) T(test_scanner) T(test_exclude)
OBS_TEST_MAIN_EAL(TESTS, "obs-pf16", "512", "-l", "0")
