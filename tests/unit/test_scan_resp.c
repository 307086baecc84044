/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_scan_resp.c — gamma (SPEC.md A11) through the scan.* ctl handlers: responder
 * records fed through the OBX_TAB_RESP consumer (prepare, then apply) of epochs that
 * carry OBX_SLOT_F_RESP or not, over a hand-filled coverage store; `scan list` and
 * `scan show` give gamma per block and per period (null where the responder was off),
 * `scan show --payloads` the first payloads (hex and printable), `scan report` writes
 * scan-table4.csv/.md, bad records are counted and dropped, and the snapshot section
 * round-trips (absent section = empty).
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
#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (d))

static struct cp cp;

static const uint32_t M0 = (2024 - 1970) * 12;   /* 2024-01 */

/* 10:00 on the 3rd of month M0 + t */
static uint64_t mtime(uint32_t t)
{
	return obs_period_start_ns(OBS_PU_MONTH, M0 + t) + (2 * 86400ull + 36000ull) * 1000000000ull;
}

static struct obx_resp_rec rec(uint32_t src, uint32_t dst, uint16_t port, uint64_t t)
{
	struct obx_resp_rec r;

	memset(&r, 0, sizeof(r));
	r.src = src;
	r.dst = dst;
	r.dport = port;
	r.count = 1;
	r.first_ns = r.last_ns = t;
	r.hour = (uint32_t)(t / OBX_HOUR_NS);
	return r;
}

/* One epoch of records through the consumer, as store.c calls it. */
static void feed(const struct obx_resp_rec *r, uint32_t n, bool on, uint64_t t)
{
	struct cp_epoch e;

	memset(&e, 0, sizeof(e));
	e.flags = on ? OBX_SLOT_F_RESP : 0;
	e.t_first_ns = t;
	e.t_last_ns = t + 5000000000ull;
	assert_int_equal(cp_scan_resp_merge(&e, NULL, n), 0);
	assert_int_equal(cp_scan_resp_merge(&e, r, n), 0);
}

/*
 * 7.7.0.0/16 scans ports 1..31 with full coverage in 2024-01..06 (wide-area each month).
 * H = 10.9.0.0/30: |H| 4, threshold 2.  Responder on in 2024-01..03, off after.
 *   2024-01: ports 1..10 on 2 addresses (scanned), 11 on 1 (not), 5000 (not in P_t) on 4;
 *   2024-02: ports 1..31 on 2 addresses: gamma 1;
 *   2024-03: on, no session: gamma 0;   2024-04..06: off: null.
 */
static void fill(void)
{
	struct cov_store *cs = cp_scan_cov();
	uint32_t sl[8] = { 0, 1, 2, 3, 4, 5, 6, 7 };
	struct obx_resp_rec r[80];
	uint32_t n = 0;

	for (uint32_t t = 0; t < 6; t++)
		for (uint16_t p = 0; p < 31; p++) {
			struct cov_key k = { M0 + t, BLK(7, 7), (uint16_t)(1 + p), 6 };
			assert_int_equal(cov_store_add(cs, &k, 8, 0, sl, 8), 0);
		}
	for (uint16_t p = 1; p <= 10; p++)
		for (uint32_t a = 0; a < 2; a++)
			r[n++] = rec(IP(7, 7, 1, 1 + a), IP(10, 9, 0, a), p, mtime(0));
	r[n++] = rec(IP(7, 7, 1, 1), IP(10, 9, 0, 3), 11, mtime(0));
	for (uint32_t a = 0; a < 4; a++)
		r[n++] = rec(IP(7, 7, 2, 2), IP(10, 9, 0, a), 5000, mtime(0));
	r[n - 1].flags = OBX_RESP_F_PAYLOAD | OBX_RESP_F_RULE;
	r[n - 1].sid = 2010935;
	r[n - 1].payload_len = 18;
	memcpy(r[n - 1].payload, "GET / HTTP/1.0\r\n\r\n", 18);
	feed(r, n, true, mtime(0));
	n = 0;
	for (uint16_t p = 1; p <= 31; p++)
		for (uint32_t a = 2; a < 4; a++)
			r[n++] = rec(IP(7, 7, 9, 9), IP(10, 9, 0, a), p, mtime(1));
	feed(r, n, true, mtime(1));
	feed(r, 0, true, mtime(2));
	/* an epoch without the flag (responder off), its records none */
	feed(r, 0, false, mtime(3));
}

static int setup(void **state)
{
	(void)state;
	memset(&cp, 0, sizeof(cp));
	obs_conf_defaults(&cp.conf);
	cp.conf.resp_n_prefixes = 1;
	cp.conf.resp_prefix_addr[0] = IP(10, 9, 0, 0);
	cp.conf.resp_prefix_len[0] = 30;
	assert_int_equal(cp_store_init(&cp.store), 0);
	assert_int_equal(cp_scan_init(&cp, 8), 0);
	assert_int_equal(cp_scan_resp_init(&cp), 0);
	cp_scan.cp = &cp;
	fill();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	cp_scan_resp_fini();
	cp_scan_fini();
	cp_store_fini(&cp.store);
	return 0;
}

static json_t *run(const char *cmd, const char *const *words, size_t n, enum cp_err *err)
{
	const struct cp_cmd *c = cp_scan_commands;
	struct cp_reply r;
	json_t *args = json_object();

	while (c->name != NULL && strcmp(c->name, cmd) != 0)
		c++;
	assert_non_null(c->name);
	for (size_t i = 0; i < n; i++)
		json_object_set_new(args, c->args[i].name, json_string(words[i]));
	memset(&r, 0, sizeof(r));
	c->fn(&cp, args, &r);
	json_decref(args);
	*err = r.err;
	return r.data;
}

static json_t *block0(json_t *list)
{
	assert_int_equal(json_array_size(list), 1);
	return json_array_get(list, 0);
}

static void test_list_gamma(void **state)
{
	const char *w[] = { "--periods" };
	enum cp_err e;
	json_t *d, *b, *ps;

	(void)state;
	d = run("scan.list", w, 1, &e);
	assert_int_equal(e, CP_E_OK);
	b = block0(json_object_get(d, "blocks"));
	assert_string_equal(json_string_value(json_object_get(b, "block")), "7.7.0.0/16");
	/* pooled over the wide periods with the responder on: (10 + 31 + 0) / 93 */
	assert_true(json_is_real(json_object_get(b, "gamma")));
	assert_float_equal(json_real_value(json_object_get(b, "gamma")), 41.0 / 93.0, 1e-9);
	assert_int_equal(json_integer_value(json_object_get(b, "gamma_ports")), 93);
	assert_int_equal(json_integer_value(json_object_get(b, "gamma_app_ports")), 41);
	ps = json_object_get(b, "periods");
	assert_int_equal(json_array_size(ps), 6);
	assert_float_equal(json_real_value(json_object_get(json_array_get(ps, 0), "gamma")),
	                   10.0 / 31.0, 1e-9);
	assert_float_equal(json_real_value(json_object_get(json_array_get(ps, 1), "gamma")), 1.0, 1e-9);
	assert_float_equal(json_real_value(json_object_get(json_array_get(ps, 2), "gamma")), 0.0, 1e-9);
	for (size_t i = 3; i < 6; i++) {
		assert_true(json_is_null(json_object_get(json_array_get(ps, i), "gamma")));
		assert_true(json_is_null(json_object_get(json_array_get(ps, i), "app_ports")));
	}
	json_decref(d);
}

static void test_show_payloads(void **state)
{
	const char *w[] = { "7.7.0.0/16", "--payloads" };
	enum cp_err e;
	json_t *d, *ps, *pl, *p0;

	(void)state;
	d = run("scan.show", w, 1, &e);            /* without --payloads: no list */
	assert_int_equal(e, CP_E_OK);
	assert_null(json_object_get(d, "payloads"));
	ps = json_object_get(d, "periods");
	assert_int_equal(json_integer_value(json_object_get(json_array_get(ps, 0), "app_ports")), 10);
	assert_true(json_is_null(json_object_get(json_array_get(ps, 5), "gamma")));
	json_decref(d);

	d = run("scan.show", w, 2, &e);
	assert_int_equal(e, CP_E_OK);
	pl = json_object_get(d, "payloads");
	assert_int_equal(json_array_size(pl), 1);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(pl, 0), "port")), 5000);
	p0 = json_array_get(json_object_get(json_array_get(pl, 0), "payloads"), 0);
	assert_string_equal(json_string_value(json_object_get(p0, "text")), "GET / HTTP/1.0....");
	assert_string_equal(json_string_value(json_object_get(p0, "hex")),
	                    "474554202f20485454502f312e300d0a0d0a");
	assert_int_equal(json_integer_value(json_object_get(p0, "sid")), 2010935);
	assert_string_equal(json_string_value(json_object_get(p0, "dst")), "10.9.0.3");
	json_decref(d);
}

static char *slurp(const char *dir, const char *name)
{
	char path[512];
	static char buf[8192];
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "r");
	assert_non_null(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static void test_report_table4(void **state)
{
	char dir[] = "/tmp/resp-cp-t4-XXXXXX", cmd[600];
	const char *w[] = { dir };
	enum cp_err e;
	json_t *d;
	const char *csv;

	(void)state;
	assert_non_null(mkdtemp(dir));
	d = run("scan.report", w, 1, &e);
	assert_int_equal(e, CP_E_OK);
	json_decref(d);
	csv = slurp(dir, "scan-table4.csv");
	/* the loss stamp's comment lines first (report.h), then the table */
	assert_true(strncmp(csv, "# obscura loss stamp: ", 22) == 0);
	csv = strstr(csv, "\nblock,");
	assert_non_null(csv);
	assert_string_equal(csv + 1, "block,period,ports,app_ports,gamma\n"
	                         "7.7.0.0/16,2024-01,31,10,0.3226\n"
	                         "7.7.0.0/16,2024-02,31,31,1.0000\n"
	                         "7.7.0.0/16,2024-03,31,0,0.0000\n"
	                         "7.7.0.0/16,2024-04,31,,\n"
	                         "7.7.0.0/16,2024-05,31,,\n"
	                         "7.7.0.0/16,2024-06,31,,\n");
	assert_non_null(strstr(slurp(dir, "scan-table4.md"), "| 7.7.0.0/16 | 2024-01 | 31 | 10 | 32.3 % |"));
	assert_non_null(strstr(slurp(dir, "scan-table4.md"), "| 7.7.0.0/16 | 2024-06 | 31 | n/a | n/a |"));
	assert_non_null(strstr(slurp(dir, "scan-table3.csv"), ",0.4409\n"));
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

static void test_bad_records(void **state)
{
	struct obx_resp_rec r[4];
	uint64_t s0 = cp_scan.resp.sessions;

	(void)state;
	r[0] = rec(IP(7, 7, 1, 1), IP(10, 9, 1, 0), 22, mtime(0));   /* outside H */
	r[1] = rec(IP(7, 7, 1, 1), IP(10, 9, 0, 1), 0, mtime(0));    /* port 0 */
	r[2] = rec(IP(7, 7, 1, 1), IP(10, 9, 0, 1), 22, mtime(0));
	r[2].flags = OBX_RESP_F_PAYLOAD;
	r[2].payload_len = 60000;                                    /* huge */
	r[3] = rec(IP(7, 7, 1, 1), IP(10, 9, 0, 1), 22, mtime(0));
	r[3].first_ns = r[3].last_ns + 1;                            /* time */
	feed(r, 4, true, mtime(0));
	assert_int_equal(cp_scan.resp.bad[RESP_BAD_OUTSIDE], 1);
	assert_int_equal(cp_scan.resp.bad[RESP_BAD_PORT], 1);
	assert_int_equal(cp_scan.resp.bad[RESP_BAD_LEN], 1);
	assert_int_equal(cp_scan.resp.bad[RESP_BAD_TIME], 1);
	assert_int_equal(cp_scan.resp.sessions, s0);
	{
		/* scan.params shows them */
		enum cp_err e;
		json_t *d = run("scan.params", NULL, 0, &e), *b;

		b = json_object_get(json_object_get(d, "responder"), "bad_records");
		assert_int_equal(json_integer_value(json_object_get(b, "outside_h")), 1);
		assert_int_equal(json_integer_value(json_object_get(json_object_get(d, "responder"),
		                                                    "h_size")), 4);
		json_decref(d);
	}
}

static void test_snapshot(void **state)
{
	uint8_t *buf;
	size_t len;
	char err[256];
	uint32_t per = M0, app;
	uint16_t ports[31];
	uint64_t sessions = cp_scan.resp.sessions;

	(void)state;
	for (uint16_t p = 0; p < 31; p++)
		ports[p] = (uint16_t)(p + 1);
	assert_int_equal(cp_scan_resp_blob(&buf, &len), 0);
	/* a snapshot without the section: the state is emptied (reset) */
	cp_scan_resp_reset();
	assert_false(resp_store_gamma(&cp_scan.resp, per, BLK(7, 7), ports, 31, &app));
	assert_int_equal(cp_scan.resp.sessions, 0);
	/* damaged: refused with a reason, state unchanged */
	assert_int_equal(cp_scan_resp_load(buf, len / 2, err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "responder section"));
	assert_int_equal(cp_scan_resp_load(buf, len, err, sizeof(err)), 0);
	assert_true(resp_store_gamma(&cp_scan.resp, per, BLK(7, 7), ports, 31, &app));
	assert_int_equal(app, 10);
	assert_int_equal(cp_scan.resp.sessions, sessions);
	assert_false(resp_store_on(&cp_scan.resp, M0 + 3));
	free(buf);
}

#define TESTS(T) T(test_list_gamma) T(test_show_payloads) T(test_report_table4) \
	T(test_bad_records) T(test_snapshot)
OBS_TEST_MAIN_FX(TESTS)
