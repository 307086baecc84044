/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_cmd_scan.c — the scan.* ctl handlers over a hand-filled coverage store: named
 * args and obscuractl words give the same answer, per-query overrides, every bad
 * argument is a clear bad_args error (never a crash), the busiest-/24 rule from the
 * period store's sources, the scanner-table overlap, and period close.
 */
#include <errno.h>
#include <fcntl.h>
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
#include "dataplane/common/period.h"
#include "../fixtures/test_main.h"

#define BLK(a, b) (((uint32_t)(a) << 24) | ((uint32_t)(b) << 16))

static struct cp cp;

static const uint32_t M0 = (2024 - 1970) * 12;   /* 2024-01 */

static void fill(void)
{
	struct cov_store *cs = cp_scan_cov();
	uint32_t sl[8] = { 0, 1, 2, 3, 4, 5, 6, 7 };

	/* 7.7.0.0/16: 6 months x 31 ports, full coverage: routine.
	 * 8.8.0.0/16: 6 months x 31 ports, a new set each month: ad-hoc. */
	for (uint32_t t = 0; t < 6; t++)
		for (uint16_t p = 0; p < 31; p++) {
			struct cov_key k = { M0 + t, BLK(7, 7), (uint16_t)(1 + p), 6 };
			struct cov_key k2 = { M0 + t, BLK(8, 8), (uint16_t)(1000 + 100 * t + p), 6 };
			assert_int_equal(cov_store_add(cs, &k, 8, t == 0, sl, 8), 0);
			assert_int_equal(cov_store_add(cs, &k2, 8, 0, sl, 8), 0);
		}
	/* sources for the busiest /24 */
	struct cp_src s = { .addr = BLK(7, 7) | 0x0305, .first_ns = 1, .last_ns = 2, .packets = 10 };
	assert_int_equal(cp_store_src_merge(&cp.store, &s), 0);
	s.addr = BLK(7, 7) | 0x0906;
	s.packets = 50;
	assert_int_equal(cp_store_src_merge(&cp.store, &s), 0);
	s.addr = BLK(7, 7) | 0x0907;       /* same /24: 50 + 5 */
	s.packets = 5;
	assert_int_equal(cp_store_src_merge(&cp.store, &s), 0);
}

static int setup(void **state)
{
	(void)state;
	memset(&cp, 0, sizeof(cp));
	obs_conf_defaults(&cp.conf);
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

/* Run a command with argv words (as obscuractl sends them): the words fill the declared
 * positional args in order, which is what commands.c does with "argv". */
static json_t *run(const char *cmd, const char *const *words, size_t n, enum cp_err *err,
                   char *msg)
{
	const struct cp_cmd *c = cp_scan_commands;
	struct cp_reply r;
	json_t *args = json_object();

	while (c->name != NULL && strcmp(c->name, cmd) != 0)
		c++;
	assert_non_null(c->name);
	for (size_t i = 0; i < n; i++) {
		assert_non_null(c->args);
		assert_non_null(c->args[i].name);
		json_object_set_new(args, c->args[i].name, json_string(words[i]));
	}
	memset(&r, 0, sizeof(r));
	c->fn(&cp, args, &r);
	json_decref(args);
	*err = r.err;
	if (msg)
		strcpy(msg, r.msg);
	return r.data;
}

/* cmd with one word (none: NULL) must be refused as bad arguments; its message in msg. */
static void refused(const char *cmd, const char *word, char *msg)
{
	enum cp_err e;

	assert_null(run(cmd, &word, word != NULL, &e, msg));
	assert_int_equal(e, CP_E_BAD_ARGS);
}

static json_t *find_block(json_t *list, const char *b)
{
	size_t i;
	json_t *v;
	json_array_foreach(list, i, v)
		if (strcmp(json_string_value(json_object_get(v, "block")), b) == 0)
			return v;
	return NULL;
}

static void test_list(void **state)
{
	enum cp_err e;
	char msg[256];
	json_t *d, *b;

	(void)state;
	d = run("scan.list", NULL, 0, &e, msg);
	assert_int_equal(e, CP_E_OK);
	assert_int_equal(json_integer_value(json_object_get(d, "continuous")), 2);
	b = find_block(json_object_get(d, "blocks"), "7.7.0.0/16");
	assert_non_null(b);
	assert_string_equal(json_string_value(json_object_get(b, "class")), "routine");
	assert_string_equal(json_string_value(json_object_get(b, "first")), "2024-01");
	assert_string_equal(json_string_value(json_object_get(b, "last")), "2024-06");
	assert_string_equal(json_string_value(json_object_get(b, "busiest24")), "7.7.9.0/24");
	assert_int_equal(json_integer_value(json_object_get(b, "mirai")), 31);
	b = find_block(json_object_get(d, "blocks"), "8.8.0.0/16");
	assert_string_equal(json_string_value(json_object_get(b, "class")), "ad-hoc");
	json_decref(d);

	/* obscuractl words: --class routine --from 2024-02 */
	static const char *const w1[] = { "--class", "routine", "--from", "2024-02" };
	d = run("scan.list", w1, 4, &e, msg);
	assert_int_equal(e, CP_E_OK);
	assert_int_equal(json_array_size(json_object_get(d, "blocks")), 0);  /* 5 periods < m */
	json_decref(d);
	static const char *const w2[] = { "--class", "routine", "--from", "2024-02", "--m", "5" };
	d = run("scan.list", w2, 6, &e, msg);
	assert_int_equal(json_array_size(json_object_get(d, "blocks")), 1);
	json_decref(d);
	/* --all shows the near misses too; alpha 1.0 makes every port miss (8/8 = 1.0 ok) */
	static const char *const w3[] = { "--alpha", "1.0", "--n", "32", "--all" };
	d = run("scan.list", w3, 5, &e, msg);
	assert_int_equal(e, CP_E_OK);
	assert_int_equal(json_array_size(json_object_get(d, "blocks")), 0);   /* 31 < 32 ports */
	json_decref(d);

	/* bad arguments: clear errors */
	static const char *const bad[][2] = {
		{ "--class", "sometimes" }, { "--from", "2024-13" }, { "--alpha", "0" },
		{ "--alpha", "abc" }, { "--n", "1.5" }, { "--m", "0" }, { "--jstar", "2" },
		{ "--L", "24" }, { "--bogus", "1" }, { "--to", "2023-01-x" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		d = run("scan.list", bad[i], 2, &e, msg);
		assert_int_equal(e, CP_E_BAD_ARGS);
		assert_null(d);
		assert_true(strlen(msg) > 5);
	}
	refused("scan.list", "--class", msg);
	static const char *const range[] = { "--from", "2024-05", "--to", "2024-01" };
	d = run("scan.list", range, 4, &e, msg);
	assert_int_equal(e, CP_E_BAD_ARGS);
}

static void test_show_ports_params_cells(void **state)
{
	enum cp_err e;
	char msg[256];
	json_t *d;

	(void)state;
	static const char *const w[] = { "7.7.0.0/16" };
	d = run("scan.show", w, 1, &e, msg);
	assert_int_equal(e, CP_E_OK);
	assert_int_equal(json_array_size(json_object_get(d, "periods")), 6);
	json_decref(d);
	static const char *const w2[] = { "7.7.1.2", "--n", "40" };   /* any address in it */
	d = run("scan.show", w2, 3, &e, msg);
	assert_int_equal(e, CP_E_OK);
	assert_false(json_is_true(json_object_get(json_array_get(json_object_get(d, "periods"), 0), "wide")));
	json_decref(d);
	refused("scan.show", "7.7.0.0/24", msg);
	refused("scan.show", "not-an-ip", msg);
	refused("scan.show", NULL, msg);

	static const char *const p[] = { "5" };
	d = run("scan.ports", p, 1, &e, msg);
	assert_int_equal(e, CP_E_OK);
	assert_int_equal(json_integer_value(json_object_get(d, "port_sets")), 6);
	assert_int_equal(json_array_size(json_object_get(d, "ports")), 5);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(json_object_get(d, "ports"), 0), "port")), 1);
	json_decref(d);
	static const char *const pw[] = { "3", "--n", "31" };   /* words: top first */
	d = run("scan.ports", pw, 3, &e, msg);
	assert_int_equal(e, CP_E_OK);
	assert_int_equal(json_array_size(json_object_get(d, "ports")), 3);
	json_decref(d);
	refused("scan.ports", "-1", msg);

	d = run("scan.params", NULL, 0, &e, msg);
	assert_int_equal(e, CP_E_OK);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(d, "params"), "n")), 30);
	json_decref(d);

	d = run("scan.cells", NULL, 0, &e, msg);
	assert_int_equal(e, CP_E_OK);
	assert_int_equal(json_array_size(d), 2 * 6 * 31);
	json_decref(d);

	/* report into a fresh directory; a relative or missing one is refused */
	char dir[] = "/tmp/obs_cmd_scanXXXXXX";
	assert_non_null(mkdtemp(dir));
	const char *const rw[] = { dir, "--block", "8.8.0.0/16" };
	d = run("scan.report", rw, 3, &e, msg);
	assert_int_equal(e, CP_E_OK);
	assert_int_equal(json_array_size(json_object_get(d, "files")), 11);   /* + scan-table4 (A11), scan-tools (issue 14) */
	for (size_t i = 0; i < 11; i++) {
		char path[256];
		snprintf(path, sizeof(path), "%s/%s", dir,
		         json_string_value(json_array_get(json_object_get(d, "files"), i)));
		assert_int_equal(unlink(path), 0);
	}
	rmdir(dir);
	json_decref(d);
	refused("scan.report", "relative/dir", msg);
	refused("scan.report", "/nonexistent/dir", msg);
	assert_non_null(strstr(msg, "/nonexistent/dir"));
}

static void test_scanner_and_close(void **state)
{
	enum cp_err e;
	char msg[256], err[256], path[] = "/tmp/obs_scanXXXXXX";
	int fd = mkstemp(path);
	json_t *d;

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "7.7.128.0/20 research\n", 22), 22);
	close(fd);
	assert_int_equal(cp_scan_load_scanners(path, err, sizeof(err)), 0);
	d = run("scan.list", NULL, 0, &e, msg);
	assert_string_equal(json_string_value(json_object_get(
		find_block(json_object_get(d, "blocks"), "7.7.0.0/16"), "scanner")), "research");
	assert_true(json_is_null(json_object_get(
		find_block(json_object_get(d, "blocks"), "8.8.0.0/16"), "scanner")));
	json_decref(d);
	/* a bad file keeps the old list */
	fd = open(path, O_WRONLY | O_TRUNC);
	assert_int_equal(write(fd, "7.7.128.1/20 bad\n", 17), 17);
	close(fd);
	assert_int_equal(cp_scan_load_scanners(path, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, ":1: host bits set"));
	d = run("scan.list", NULL, 0, &e, msg);
	assert_string_equal(json_string_value(json_object_get(
		find_block(json_object_get(d, "blocks"), "7.7.0.0/16"), "scanner")), "research");
	json_decref(d);
	unlink(path);

	/* period close: the first period opens, a newer one closes and analyses */
	assert_int_equal(cp_scan_period_seen(&cp, M0 + 5), 0);
	assert_int_equal(cp_scan_period_seen(&cp, M0 + 5), 0);
	assert_int_equal(cp_scan_period_seen(&cp, M0 + 3), 0);      /* older: nothing */
	assert_int_equal(cp_scan_period_seen(&cp, M0 + 6), 1);
	d = run("scan.list", NULL, 0, &e, msg);
	/* the open period (2024-07) is inside the open-ended range: partial */
	assert_true(json_is_true(json_object_get(d, "partial")));
	json_decref(d);
	static const char *const closed[] = { "--to", "2024-06" };
	d = run("scan.list", closed, 2, &e, msg);
	assert_false(json_is_true(json_object_get(d, "partial")));
	assert_int_equal(json_integer_value(json_object_get(d, "continuous")), 2);
	json_decref(d);
}

#define TESTS(T) T(test_list) T(test_show_ports_params_cells) T(test_scanner_and_close)
OBS_TEST_MAIN(TESTS, setup, teardown)
