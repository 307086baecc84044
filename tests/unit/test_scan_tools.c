/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_scan_tools.c — tool shares per (block, period) (issue 14 item 1, blocktools.h):
 * source records with labels through the scan analysis' SRC consumer, then scan.show's
 * per-period shares and scan.list's tool column against counts worked out here; the
 * scan section with the block-tool part round-trips, a section of an older build (the
 * coverage alone) still loads with no tool counts, a damaged part is refused.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "control/scan/scan_mod.h"
#include "control/commands.h"
#include "dataplane/common/exchange.h"
#include "dataplane/common/period.h"
#include "../fixtures/test_main.h"

#define BLK(a, b) (((uint32_t)(a) << 24) | ((uint32_t)(b) << 16))

static struct cp cp;
static const uint32_t M0 = (2024 - 1970) * 12;   /* 2024-01 */

static struct obx_src_rec rec(uint32_t addr, uint32_t period, unsigned tool, uint32_t syns,
                              uint16_t other)
{
	struct obx_src_rec r;
	uint64_t t = obs_period_start_ns(cp.conf.period, period) + 5 * OBX_HOUR_NS + 7;

	memset(&r, 0, sizeof(r));
	r.addr = addr;
	r.hour = (uint32_t)(t / OBX_HOUR_NS);
	r.first_ns = t;
	r.last_ns = t + 1000;
	r.packets = syns + other + 1;
	r.tool = (uint8_t)tool;
	r.tool_syns = syns;
	r.tool_other = other;
	return r;
}

/* The consumer's protocol as the store runs it: prepare, then apply. */
static void merge(const struct obx_src_rec *r, uint32_t n)
{
	struct cp_epoch e;

	memset(&e, 0, sizeof(e));
	assert_int_equal(cp_epoch_add_tab(&e, OBX_TAB_SRC, sizeof(*r), r, n), 0);
	assert_int_equal(cp_scan_src_merge(&e, NULL, n), 0);
	assert_int_equal(cp_scan_src_merge(&e, r, n), 0);
}

static void fill(void)
{
	struct cov_store *cs = cp_scan_cov();
	uint32_t sl[8] = { 0, 1, 2, 3, 4, 5, 6, 7 };

	/* 7.7.0.0/16: 6 months x 31 ports x 8 SYNs = 248 SYNs a month (routine) */
	for (uint32_t t = 0; t < 6; t++)
		for (uint16_t p = 0; p < 31; p++) {
			struct cov_key k = { M0 + t, BLK(7, 7), (uint16_t)(1 + p), 6 };
			assert_int_equal(cov_store_add(cs, &k, 8, 0, sl, 8), 0);
		}
	struct obx_src_rec r[] = {
		rec(BLK(7, 7) | 0x0305, M0, 2, 100, 5),
		rec(BLK(7, 7) | 0x0906, M0, 6, 40, 0),
		rec(BLK(7, 7) | 0x0305, M0, 2, 10, 0),     /* same key: sums */
		rec(BLK(7, 7) | 0x0305, M0 + 1, 6, 20, 0),
		rec(BLK(7, 7) | 0x0101, M0 + 1, 0, 0, 0),  /* unlabelled: no entry */
		rec(BLK(9, 9) | 0x0101, M0, 64, 3, 0),     /* label id past 63: counted, ignored */
	};
	merge(r, sizeof(r) / sizeof(r[0]));
	/* a record breaking the hour contract is skipped and counted */
	struct obx_src_rec bad = rec(BLK(7, 7) | 1, M0, 2, 1000, 0);
	bad.hour++;
	merge(&bad, 1);
}

static int setup(void **state)
{
	(void)state;
	memset(&cp, 0, sizeof(cp));
	obs_conf_defaults(&cp.conf);
	cp.conf.period = OBS_PERIOD_MONTH;
	cp.conf.block_len = 16;
	assert_int_equal(cp_store_init(&cp.store), 0);
	assert_int_equal(cp_scan_init(&cp, 8), 0);
	fill();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	cp_scan_fini();
	cp_store_fini(&cp.store);
	return 0;
}

static json_t *run(const char *cmd, const char *word)
{
	const struct cp_cmd *c = cp_scan_commands;
	struct cp_reply r;
	json_t *args = json_object();

	while (c->name != NULL && strcmp(c->name, cmd) != 0)
		c++;
	assert_non_null(c->name);
	if (word != NULL)
		json_object_set_new(args, c->args[0].name, json_string(word));
	memset(&r, 0, sizeof(r));
	c->fn(&cp, args, &r);
	json_decref(args);
	assert_int_equal(r.err, CP_E_OK);
	return r.data;
}

static json_t *period_of(json_t *show, const char *label)
{
	size_t i;
	json_t *v;

	json_array_foreach(json_object_get(show, "periods"), i, v)
		if (strcmp(json_string_value(json_object_get(v, "period")), label) == 0)
			return v;
	fail_msg("no period %s", label);
	return NULL;
}

static void expect_share(json_t *o, const char *key, double want)
{
	assert_true(fabs(json_real_value(json_object_get(o, key)) - want) < 1e-9);
}

/* every figure below is worked out from fill()'s records and cells */
static void check_views(void)
{
	json_t *d = run("scan.show", "7.7.0.0/16"), *t, *pt, *row, *blocks, *v;
	size_t i;

	t = json_object_get(period_of(d, "2024-01"), "tools");
	pt = json_object_get(t, "per_tool");
	assert_int_equal(json_array_size(pt), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(pt, 0), "tool")), "tool2");
	assert_int_equal(json_integer_value(json_object_get(json_array_get(pt, 0), "syns")), 110);
	expect_share(json_array_get(pt, 0), "share", 110.0 / 248);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(pt, 1), "id")), 6);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(pt, 1), "syns")), 40);
	assert_int_equal(json_integer_value(json_object_get(t, "other_syns")), 5);
	assert_int_equal(json_integer_value(json_object_get(t, "unlabelled_syns")), 248 - 155);
	expect_share(t, "unlabelled_share", 93.0 / 248);
	t = json_object_get(period_of(d, "2024-02"), "tools");
	pt = json_object_get(t, "per_tool");
	assert_int_equal(json_array_size(pt), 1);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(pt, 0), "syns")), 20);
	t = json_object_get(period_of(d, "2024-03"), "tools");
	assert_int_equal(json_array_size(json_object_get(t, "per_tool")), 0);
	assert_int_equal(json_integer_value(json_object_get(t, "unlabelled_syns")), 248);
	json_decref(d);

	d = run("scan.list", NULL);
	blocks = json_object_get(d, "blocks");
	row = NULL;
	json_array_foreach(blocks, i, v)
		if (strcmp(json_string_value(json_object_get(v, "block")), "7.7.0.0/16") == 0)
			row = v;
	assert_non_null(row);
	t = json_object_get(row, "tool");
	assert_true(json_is_object(t));
	assert_int_equal(json_integer_value(json_object_get(t, "id")), 2);   /* 110 > 60 */
	assert_int_equal(json_integer_value(json_object_get(t, "syns")), 110);
	expect_share(t, "share", 110.0 / (248 * 6));
	json_decref(d);
}

static void test_views(void **state)
{
	(void)state;
	assert_int_equal(cp_scan.bt_records, 5);
	assert_int_equal(cp_scan.bt_bad_records, 1);
	assert_int_equal(cp_scan.bts.bad, 1);
	check_views();
}

/* The data lines of dir/name (the loss stamp's '#' lines skipped) into lines[], max n. */
static size_t read_rows(const char *dir, const char *name, char lines[][160], size_t n)
{
	char path[256], buf[160];
	size_t k = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "r");
	assert_non_null(f);
	while (fgets(buf, sizeof(buf), f) != NULL) {
		buf[strcspn(buf, "\n")] = '\0';
		if (buf[0] == '#')
			continue;
		assert_true(k < n);
		snprintf(lines[k++], sizeof(lines[0]), "%s", buf);
	}
	fclose(f);
	return k;
}

/* scan-tools.csv through scan.report: one row per label, other and unlabelled, for each
 * (block, period) with a labelled SYN; every figure from fill()'s records and cells. */
static void test_report(void **state)
{
	struct want { const char *per, *tool; unsigned id; uint64_t syns, of; } w[] = {
		{ "2024-01", "tool2", 2, 110, 248 },  /* 100 + 10 from one address */
		{ "2024-01", "tool6", 6, 40, 248 },
		{ "2024-01", "other", 0, 5, 248 },    /* the first record's tool_other */
		{ "2024-01", "unlabelled", 0, 248 - 155, 248 },
		{ "2024-02", "tool6", 6, 20, 248 },
		{ "2024-02", "other", 0, 0, 248 },
		{ "2024-02", "unlabelled", 0, 228, 248 },
	};
	size_t nw = sizeof(w) / sizeof(w[0]), n;
	char dir[] = "/tmp/obs_scan_tools_XXXXXX", lines[16][160], exp[160], id[8], path[256];
	json_t *d, *v;
	int seen = 0;
	size_t i;

	(void)state;
	assert_non_null(mkdtemp(dir));
	d = run("scan.report", dir);
	json_array_foreach(json_object_get(d, "files"), i, v)
		seen += strncmp(json_string_value(v), "scan-tools.", 11) == 0;
	assert_int_equal(seen, 2);
	n = read_rows(dir, "scan-tools.csv", lines, 16);
	assert_int_equal(n, 1 + nw);
	assert_string_equal(lines[0], "block,period,tool,tool_id,syns,period_syns,share");
	for (i = 0; i < nw; i++) {
		snprintf(id, sizeof(id), w[i].id ? "%u" : "", w[i].id);
		snprintf(exp, sizeof(exp), "7.7.0.0/16,%s,%s,%s,%llu,%llu,%.6f", w[i].per, w[i].tool,
		         id, (unsigned long long)w[i].syns, (unsigned long long)w[i].of,
		         (double)w[i].syns / (double)w[i].of);
		assert_string_equal(lines[1 + i], exp);
	}
	/* the Markdown table: the same rows after its header */
	n = read_rows(dir, "scan-tools.md", lines, 16);
	assert_true(n >= nw);
	assert_string_equal(lines[n - nw], "| 7.7.0.0/16 | 2024-01 | tool2 | 2 | 110 | 248 | 44.4 % |");
	assert_string_equal(lines[n - 1], "| 7.7.0.0/16 | 2024-02 | unlabelled |  | 228 | 248 | 91.9 % |");
	json_array_foreach(json_object_get(d, "files"), i, v) {
		snprintf(path, sizeof(path), "%s/%s", dir, json_string_value(v));
		assert_int_equal(unlink(path), 0);
	}
	assert_int_equal(rmdir(dir), 0);
	json_decref(d);
}

static void test_snapshot(void **state)
{
	uint8_t *blob, *old;
	size_t len, old_len;
	char err[256];
	json_t *d, *t;

	(void)state;
	assert_int_equal(cp_scan_section_blob(&blob, &len), 0);
	assert_int_equal(cov_store_serialize(cp_scan_cov(), &old, &old_len), 0);
	assert_true(len > old_len);      /* the block-tool part follows the coverage */

	/* round trip: the same answers */
	cp_scan_fini();
	assert_int_equal(cp_scan_init(&cp, 8), 0);
	assert_int_equal(cp_scan_section_load(blob, len, err, sizeof(err)), 0);
	check_views();

	/* an older build's section: the coverage alone loads, no tool counts */
	assert_int_equal(cp_scan_section_load(old, old_len, err, sizeof(err)), 0);
	assert_int_equal(cp_scan.bts.ht.n, 0);
	d = run("scan.show", "7.7.0.0/16");
	t = json_object_get(period_of(d, "2024-01"), "tools");
	assert_int_equal(json_array_size(json_object_get(t, "per_tool")), 0);
	assert_int_equal(json_integer_value(json_object_get(t, "unlabelled_syns")), 248);
	json_decref(d);
	d = run("scan.list", NULL);
	assert_true(json_is_null(json_object_get(json_array_get(json_object_get(d, "blocks"), 0),
	                                         "tool")));
	json_decref(d);

	/* damage in the part: refused with a reason, never half loaded */
	assert_int_equal(cp_scan_section_load(blob, len - 3, err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "block-tool part"));
	blob[old_len] ^= 0x01;   /* magic */
	assert_int_equal(cp_scan_section_load(blob, len, err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "magic"));
	blob[old_len] ^= 0x01;
	blob[old_len + 16 + 8] = 70;   /* first entry's ids[0]: a label id past 63 */
	assert_int_equal(cp_scan_section_load(blob, len, err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "bad entry"));
	free(blob);
	free(old);
}

/* sources.show's scanner-table member: the longest prefix holding the address */
static void test_source_show(void **state)
{
	char path[] = "/tmp/obs_fpview_scanXXXXXX", err[256];
	int fd = mkstemp(path);
	json_t *o = json_object(), *st;

	(void)state;
	cp_scan_source_show(&cp, BLK(7, 7) | 0x8101, o);       /* no table loaded: null */
	assert_true(json_is_null(json_object_get(o, "scanner_table")));
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "7.7.0.0/16 wide\n7.7.128.0/20 research\n", 38), 38);
	close(fd);
	assert_int_equal(cp_scan_load_scanners(path, err, sizeof(err)), 0);
	cp_scan_source_show(&cp, BLK(7, 7) | 0x8101, o);
	st = json_object_get(o, "scanner_table");
	assert_string_equal(json_string_value(json_object_get(st, "prefix")), "7.7.128.0/20");
	assert_string_equal(json_string_value(json_object_get(st, "label")), "research");
	cp_scan_source_show(&cp, BLK(7, 7) | 0x0101, o);
	assert_string_equal(json_string_value(json_object_get(json_object_get(o, "scanner_table"),
	                                                      "label")), "wide");
	cp_scan_source_show(&cp, BLK(9, 9) | 1, o);
	assert_true(json_is_null(json_object_get(o, "scanner_table")));
	json_decref(o);
	unlink(path);
}

#define TESTS(T) T(test_views) T(test_report) T(test_snapshot) T(test_source_show)
OBS_TEST_MAIN(TESTS, setup, teardown)
