/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_scan.c — SPEC.md A on hand-built coverage stores whose answers are worked out
 * in the comments: coverage exactly at alpha, port sets exactly at n, wide-area periods
 * exactly at m, a single wide-area period (no pairs), medians over an even number of
 * pairs, J exactly at J* and S exactly at S*, every class, Mirai share, port popularity,
 * the period range, the partial flag and the enrichment callbacks.
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

#include "control/scan/scan.h"
#include "control/scan/scan_report.h"
#include "dataplane/common/period.h"
#include "../fixtures/test_main.h"

#define S_SIZE 10u
#define BLK(a, b) (((uint32_t)(a) << 24) | ((uint32_t)(b) << 16))

/* Block blk, period t, port p: hits slots 0..hits-1, syns SYNs of which mirai Mirai. */
static void hit(struct cov_store *s, uint32_t blk, uint32_t t, uint16_t p, uint32_t hits,
                uint64_t syns, uint64_t mirai)
{
	uint32_t sl[S_SIZE];
	struct cov_key k = { .period = t, .block = blk, .dport = p, .proto = 6 };
	for (uint32_t i = 0; i < hits; i++)
		sl[i] = i;
	assert_int_equal(cov_store_add(s, &k, syns, mirai, sl, hits), 0);
}

/* Full coverage of ports[0..n) in period t. */
static void pset(struct cov_store *s, uint32_t blk, uint32_t t, const uint16_t *ports, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		hit(s, blk, t, ports[i], S_SIZE, S_SIZE, 0);
}

static const struct scan_block *find(const struct scan_result *r, uint32_t blk)
{
	for (size_t i = 0; i < r->n_blocks; i++)
		if (r->blocks[i].block == blk)
			return &r->blocks[i];
	return NULL;
}

static void test_alpha_n_m(void **state)
{
	struct cov_store s;
	struct scan_params p;
	struct scan_result r;
	uint16_t ports[40];
	const struct scan_block *b;

	(void)state;
	for (unsigned i = 0; i < 40; i++)
		ports[i] = (uint16_t)(1000 + i);
	assert_int_equal(cov_store_init(&s, S_SIZE, 16, OBS_PU_MONTH), 0);
	scan_params_default(&p);

	/* A: 6 periods of exactly 30 ports: 29 at full coverage + 1 at exactly 8/10 = alpha.
	 * |P_t| = 30 = n in each, |T| = 6 = m: continuous, routine (all sets equal). */
	for (uint32_t t = 0; t < 6; t++) {
		pset(&s, BLK(1, 1), 600 + t, ports, 29);
		hit(&s, BLK(1, 1), 600 + t, ports[29], 8, 8, 0);
	}
	/* B: the same but the 30th port at 7/10 < alpha: |P_t| = 29 < n: never wide. */
	for (uint32_t t = 0; t < 6; t++) {
		pset(&s, BLK(1, 2), 600 + t, ports, 29);
		hit(&s, BLK(1, 2), 600 + t, ports[29], 7, 7, 0);
	}
	/* C: 30 ports in 5 periods only (|T| = 5 < m), plus a sixth period with 29. */
	for (uint32_t t = 0; t < 5; t++)
		pset(&s, BLK(1, 3), 600 + t, ports, 30);
	pset(&s, BLK(1, 3), 605, ports, 29);

	assert_int_equal(scan_analyze(&s, &p, NULL, &r), 0);
	assert_int_equal(r.n_continuous, 1);
	b = find(&r, BLK(1, 1));
	assert_non_null(b);
	assert_int_equal(b->n_wide, 6);
	assert_int_equal(b->cls, SCAN_C_ROUTINE);
	assert_int_equal(b->pmax, 30);
	assert_int_equal(b->pmin, 30);
	assert_int_equal(b->first, 600);
	assert_int_equal(b->last, 605);
	assert_int_equal(b->n_pairs, 15);
	assert_true(b->j == 1.0 && b->s == 1.0);
	assert_false(b->has_gamma);
	assert_null(find(&r, BLK(1, 2)));          /* no wide-area period at all */
	b = find(&r, BLK(1, 3));
	assert_non_null(b);
	assert_int_equal(b->n_wide, 5);
	assert_int_equal(b->cls, SCAN_C_NONE);
	scan_result_free(&r);

	/* per-query overrides: alpha 0.7 makes B wide too; m 5 makes C continuous */
	p.alpha = 0.7;
	p.m = 5;
	assert_int_equal(scan_analyze(&s, &p, NULL, &r), 0);
	assert_int_equal(r.n_continuous, 3);
	assert_int_equal(find(&r, BLK(1, 2))->cls, SCAN_C_ROUTINE);
	assert_int_equal(find(&r, BLK(1, 3))->cls, SCAN_C_ROUTINE);
	assert_int_equal(find(&r, BLK(1, 3))->n_wide, 5);
	scan_result_free(&r);

	/* the range: only periods 601..605 -> A has 5 wide periods, not continuous at m 6 */
	scan_params_default(&p);
	p.from = 601;
	assert_int_equal(scan_analyze(&s, &p, NULL, &r), 0);
	assert_int_equal(r.n_continuous, 0);
	assert_int_equal(find(&r, BLK(1, 1))->n_wide, 5);
	scan_result_free(&r);

	/* partial: the open period is 605, inside T(A) */
	scan_params_default(&p);
	p.current = 605;
	assert_int_equal(scan_analyze(&s, &p, NULL, &r), 0);
	assert_true(r.partial);
	assert_true(find(&r, BLK(1, 1))->partial);
	scan_result_free(&r);
	p.current = 606;
	p.to = 605;
	assert_int_equal(scan_analyze(&s, &p, NULL, &r), 0);
	assert_false(r.partial);
	scan_result_free(&r);

	/* bad parameters */
	const char *why;
	scan_params_default(&p);
	p.alpha = 0.0;
	assert_int_equal(scan_params_check(&p, &why), -EINVAL);
	assert_int_equal(scan_analyze(&s, &p, NULL, &r), -EINVAL);
	p.alpha = 1.0;
	p.jstar = 1.5;
	assert_int_equal(scan_params_check(&p, &why), -EINVAL);
	p.jstar = 0.8;
	p.from = 10;
	p.to = 9;
	assert_int_equal(scan_params_check(&p, &why), -EINVAL);
	cov_store_fini(&s);
}

static void test_single_and_medians(void **state)
{
	struct cov_store s;
	struct scan_params p;
	struct scan_result r;
	const struct scan_block *b;
	static const uint16_t p1[] = { 1, 2 }, p3[] = { 1, 3 }, p4[] = { 4, 5, 6 };

	(void)state;
	assert_int_equal(cov_store_init(&s, S_SIZE, 16, OBS_PU_DAY), 0);
	scan_params_default(&p);
	p.n = 2;
	p.m = 1;

	/* A: a single wide-area period: no pair, J and S undefined, "unclassified" */
	pset(&s, BLK(2, 1), 100, p1, 2);
	/* B: four periods {1,2} {1,2} {1,3} {4,5,6}: six pairs
	 *   (1,2) J 1   S 1     (1,3) J 1/3 S 1/2   (1,4) J 0 S 0
	 *   (2,3) J 1/3 S 1/2   (2,4) J 0   S 0     (3,4) J 0 S 0
	 * J sorted 0 0 0 1/3 1/3 1: median (0 + 1/3) / 2 = 1/6
	 * S sorted 0 0 0 1/2 1/2 1: median (0 + 1/2) / 2 = 1/4  -> ad-hoc */
	pset(&s, BLK(2, 2), 100, p1, 2);
	pset(&s, BLK(2, 2), 101, p1, 2);
	pset(&s, BLK(2, 2), 103, p3, 2);
	pset(&s, BLK(2, 2), 110, p4, 3);

	assert_int_equal(scan_analyze(&s, &p, NULL, &r), 0);
	b = find(&r, BLK(2, 1));
	assert_non_null(b);
	assert_int_equal(b->n_wide, 1);
	assert_int_equal(b->n_pairs, 0);
	assert_int_equal(b->cls, SCAN_C_UNCLASSIFIED);
	b = find(&r, BLK(2, 2));
	assert_int_equal(b->n_wide, 4);
	assert_int_equal(b->n_pairs, 6);
	assert_true(b->j > 1.0 / 6 - 1e-12 && b->j < 1.0 / 6 + 1e-12);
	assert_true(b->s == 0.25);
	assert_int_equal(b->cls, SCAN_C_ADHOC);
	assert_int_equal(b->pmax, 3);
	assert_int_equal(b->pmin, 2);
	assert_int_equal(r.n_by_class[SCAN_C_UNCLASSIFIED], 1);
	assert_int_equal(r.n_by_class[SCAN_C_ADHOC], 1);
	/* no routine / semi-routine block: no port sets for A9 */
	assert_int_equal(r.n_port_sets, 0);
	assert_int_equal(r.n_pop, 0);
	scan_result_free(&r);

	/* the block's port sets per period (the heatmap): every period, wide or not */
	struct scan_pset *ps;
	size_t n;
	p.n = 3;
	assert_int_equal(scan_block_periods(&s, &p, BLK(2, 2), &ps, &n), 0);
	assert_int_equal(n, 4);
	assert_int_equal(ps[0].period, 100);
	assert_int_equal(ps[0].n_ports, 2);
	assert_false(ps[0].wide);
	assert_int_equal(ps[3].period, 110);
	assert_true(ps[3].wide);
	assert_int_equal(ps[3].ports[2], 6);
	scan_psets_free(ps, n);
	assert_int_equal(scan_block_periods(&s, &p, BLK(9, 9), &ps, &n), 0);
	assert_int_equal(n, 0);
	scan_psets_free(ps, n);
	cov_store_fini(&s);
}

/* Classes at the thresholds; 6 periods each, n = 5. */
static int fake_busiest(void *ctx, uint32_t block, uint8_t len, uint32_t *net24, uint64_t *pkts)
{
	(void)ctx;
	assert_int_equal(len, 16);
	if (block == BLK(3, 4))
		return -ENOENT;
	*net24 = block | 0x700;
	*pkts = 42;
	return 0;
}

static int fake_country(void *ctx, uint32_t addr, char cc[3])
{
	(void)ctx;
	if ((addr & 0xff00) != 0x700)
		return -ENOENT;
	cc[0] = 'J';
	cc[1] = 'P';
	cc[2] = 0;
	return 0;
}

static const char *fake_scanner(void *ctx, uint32_t block, uint8_t len)
{
	(void)ctx;
	(void)len;
	return block == BLK(3, 1) ? "censys" : NULL;
}

static void test_classes(void **state)
{
	struct cov_store s;
	struct scan_params p;
	struct scan_result r;
	const struct scan_block *b;
	uint16_t v[16];
	struct scan_enrich en = { NULL, fake_busiest, fake_country, fake_scanner };

	(void)state;
	assert_int_equal(cov_store_init(&s, S_SIZE, 16, OBS_PU_WEEK), 0);
	scan_params_default(&p);
	p.n = 5;
	for (uint32_t t = 0; t < 6; t++) {
		/* routine: the same 9 ports every period; J = S = 1.  One Mirai SYN a period
		 * on top of 9 ports x 10 SYNs: share 6 / (6 * 91) */
		for (unsigned i = 0; i < 9; i++)
			v[i] = (uint16_t)(1 + i);
		pset(&s, BLK(3, 1), 2800 + t, v, 9);
		hit(&s, BLK(3, 1), 2800 + t, 1, 0, 1, 1);
		/* J exactly at J*: core 1..8 + one port of its own (100 + t): every pair has
		 * |∩| 8, |∪| 10: J = 0.8 (not > J*), S = 8/9 > S*: semi-routine */
		v[8] = (uint16_t)(100 + t);
		pset(&s, BLK(3, 2), 2800 + t, v, 9);
		/* S exactly at S*: core 1..7 + three of its own: |∩| 7, min 10: S = 0.7
		 * (not > S*): ad-hoc */
		v[7] = (uint16_t)(200 + 3 * t);
		v[8] = (uint16_t)(201 + 3 * t);
		v[9] = (uint16_t)(202 + 3 * t);
		pset(&s, BLK(3, 3), 2800 + t, v, 10);
		/* semi-routine below J*: core 1..8 + two of its own: J 8/12, S 0.8 */
		v[8] = (uint16_t)(300 + 2 * t);
		v[9] = (uint16_t)(301 + 2 * t);
		for (unsigned i = 0; i < 7; i++)
			v[i] = (uint16_t)(1 + i);
		v[7] = 8;
		pset(&s, BLK(3, 4), 2800 + t, v, 10);
	}
	assert_int_equal(scan_analyze(&s, &p, &en, &r), 0);
	assert_int_equal(r.n_continuous, 4);
	b = find(&r, BLK(3, 1));
	assert_int_equal(b->cls, SCAN_C_ROUTINE);
	assert_true(b->mirai_share > 6.0 / 546 - 1e-12 && b->mirai_share < 6.0 / 546 + 1e-12);
	assert_int_equal(b->syns, 546);
	assert_int_equal(b->mirai, 6);
	assert_string_equal(b->scanner_label, "censys");
	assert_true(b->has_country);
	assert_string_equal(b->cc, "JP");
	assert_int_equal(b->busiest24, BLK(3, 1) | 0x700);
	b = find(&r, BLK(3, 2));
	assert_true(b->j == 0.8);
	assert_int_equal(b->cls, SCAN_C_SEMI);
	assert_null(b->scanner_label);
	b = find(&r, BLK(3, 3));
	assert_true(b->s == 0.7);
	assert_int_equal(b->cls, SCAN_C_ADHOC);
	b = find(&r, BLK(3, 4));
	assert_int_equal(b->cls, SCAN_C_SEMI);
	assert_true(b->s == 0.8);
	assert_false(b->has_busiest);
	assert_false(b->has_country);

	/* A9: 18 port sets (routine 6 + two semi-routine 6 + 6); ports 1..7 are in all 18,
	 * port 8 in all 18, port 9 only in the routine block's 6 */
	assert_int_equal(r.n_port_sets, 18);
	assert_int_equal(r.pop[0].port, 1);
	assert_int_equal(r.pop[0].sets, 18);
	assert_true(r.pop[0].share == 1.0);
	assert_int_equal(r.pop[7].port, 8);
	assert_int_equal(r.pop[7].sets, 18);
	assert_int_equal(r.pop[8].port, 9);
	assert_int_equal(r.pop[8].sets, 6);
	/* the rest appear once each: 100..105 and 300..311 */
	assert_int_equal(r.n_pop, 9 + 6 + 12);
	assert_int_equal(r.pop[9].sets, 1);
	assert_int_equal(r.pop[9].port, 100);

	/* the report: every file written, the tables hold every continuous block */
	char dir[] = "/tmp/obs_scan_reportXXXXXX", path[128], err[256], line[512];
	struct scan_report_files files;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(scan_report_write(dir, &s, &r, 5, UINT32_MAX, &files, err, sizeof(err)), 0);
	assert_int_equal(files.n, 9);   /* + scan-table4.csv/.md (A11) */
	for (unsigned i = 0; i < files.n; i++) {
		FILE *f;
		unsigned lines = 0;
		snprintf(path, sizeof(path), "%s/%s", dir, files.name[i]);
		f = fopen(path, "r");
		assert_non_null(f);
		while (fgets(line, sizeof(line), f))
			lines++;
		fclose(f);
		if (strcmp(files.name[i], "scan-table3.csv") == 0)
			assert_int_equal(lines, 1 + 4);
		if (strcmp(files.name[i], "scan-table2.csv") == 0)
			assert_int_equal(lines, 1 + 5);
		assert_true(lines > 1);
		unlink(path);
	}
	rmdir(dir);
	assert_int_equal(scan_report_write("/nonexistent-dir", &s, &r, 5, UINT32_MAX, &files, err,
	                                   sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "/nonexistent-dir"));
	scan_result_free(&r);

	/* overriding J* and S*: J* 0.7 makes BLK(3,2) routine; S* 0.6 makes BLK(3,3) semi */
	p.jstar = 0.7;
	p.sstar = 0.6;
	assert_int_equal(scan_analyze(&s, &p, NULL, &r), 0);
	assert_int_equal(find(&r, BLK(3, 2))->cls, SCAN_C_ROUTINE);
	assert_int_equal(find(&r, BLK(3, 3))->cls, SCAN_C_SEMI);
	scan_result_free(&r);

	enum scan_class c;
	assert_int_equal(scan_class_parse("semi-routine", &c), 0);
	assert_int_equal(c, SCAN_C_SEMI);
	assert_int_equal(scan_class_parse("bogus", &c), -EINVAL);
	assert_string_equal(scan_class_name(SCAN_C_ADHOC), "ad-hoc");
	cov_store_fini(&s);
}

#define TESTS(T) T(test_alpha_n_m) T(test_single_and_medians) T(test_classes)
OBS_TEST_MAIN(TESTS, NULL, NULL)
