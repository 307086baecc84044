/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_resip_load.c — dataplane/common/resip_load.c: CSV rows, times, rejects and their
 * reasons, duplicates, the failure rules (missing, empty, header, too many providers,
 * rejected lines above the limit), the MMDB residential-proxy loader on fixtures built by
 * tests/fixtures/mkmmdb.pl, and a brute-force reference for resip_match.  MaxMind's own
 * test and corrupt DBs are extra cases when ../shared/data is present.
 */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "mmdb_fixture.h"

#include "resip_load.h"
#include "../fixtures/test_main.h"

#define NS 1000000000LL

static int prov_index(const struct resip_table *t, const char *name)
{
	for (unsigned i = 0; i < t->n_providers; i++)
		if (strcmp(t->providers[i], name) == 0)
			return (int)i;
	return -1;
}

static int64_t tm(const char *s, bool eod)
{
	int64_t v;
	assert_int_equal(resip_parse_time(s, strlen(s), eod, &v), 0);
	return v;
}

static void test_times(void **state)
{
	int64_t v;
	assert_int_equal(tm("1970-01-01", false), 0);
	assert_int_equal(tm("1970-01-01", true), 86400 * NS - 1);
	assert_int_equal(tm("2024-03-01", false), 1709251200LL * NS);
	assert_int_equal(tm("2024-03-01T12:30:15Z", false), (1709251200LL + 45015) * NS);
	assert_int_equal(tm("2024-03-01 12:30:15", false), (1709251200LL + 45015) * NS);
	assert_int_equal(tm("2024-03-01T12:30Z", false), (1709251200LL + 45000) * NS);
	assert_int_equal(tm("2024-03-01T12:30:15.25Z", false), (1709251200LL + 45015) * NS + 250000000);
	/* +09:00 (JST) is 9 h ahead of UTC */
	assert_int_equal(tm("2024-03-01T09:00:00+09:00", false), 1709251200LL * NS);
	assert_int_equal(tm("2024-03-01T09:00:00+0900", false), 1709251200LL * NS);
	assert_int_equal(tm("2024-02-29T19:00:00-05", false), 1709251200LL * NS);
	/* date-time is exact even as last_seen */
	assert_int_equal(tm("2024-03-01T00:00:00Z", true), 1709251200LL * NS);
	assert_int_equal(tm("1709251200", false), 1709251200LL * NS);
	/* the last second whose ns fit in int64; one more (10 digits still) is refused, not
	 * wrapped to a time before 1970 */
	assert_int_equal(tm("9223372036", false), 9223372036LL * NS);
	assert_int_equal(resip_parse_time("9223372037", 10, false, &v), -ERANGE);
	assert_int_equal(resip_parse_time("9999999999", 10, true, &v), -ERANGE);
	const char *bad[] = { "", "2024-13-01", "2024-02-30", "2023-02-29", "2024-3-1", "24-03-01",
			      "2024-03-01T25:00Z", "2024-03-01T12:00:00Q", "2024-03-01T12",
			      "12345678901", "yesterday", "2024-03-01T12:00:00+25:00", "-5",
			      "1969-12-31" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_not_equal(resip_parse_time(bad[i], strlen(bad[i]), false, &v), 0);
	assert_int_equal(tm("2024-02-29", false), 1709164800LL * NS);
}

static void test_csv_basic(void **state)
{
	const char *p = obs_fx_write("basic.csv",
		"# RESIP table\n"
		"ip,provider,first_seen,last_seen\r\n"
		"60.32.1.1,alpha,2024-03-01,2024-03-10\r\n"
		"60.32.1.1,beta,2024-03-05T00:00:00Z,2024-03-20T00:00:00Z\n"
		"\n"
		"60.32.1.1,alpha,2024-03-15,2024-03-16\n"      /* a second alpha window */
		"60.32.1.1,alpha,2024-03-01,2024-03-10\n"      /* duplicate */
		" 61.200.5.1 , \"gam,ma\" ,1709251200,1709337599\n"  /* quoted, epoch, blanks */
		"2001:db8::1,alpha,2024-03-01,2024-03-02\n"    /* IPv6: skipped */
		"8.8.8.8,alpha,2024-01-01T00:00:00+09:00,2024-01-01T23:59:59+09:00\n");
	struct resip_load_report rep;
	char err[512];
	struct resip_table *t = resip_load(p, NULL, &rep, err, sizeof(err));
	assert_non_null(t);
	assert_int_equal(t->format, RESIP_FMT_CSV);
	assert_int_equal(t->n_addrs, 3);
	assert_int_equal(t->n_rows, 5);
	assert_int_equal(t->n_providers, 3);
	assert_int_equal(rep.n_duplicates, 1);
	assert_int_equal(rep.n_ipv6, 1);
	assert_int_equal(rep.n_rejected, 0);
	assert_int_equal(rep.n_lines, 7);
	int a = prov_index(t, "alpha"), b = prov_index(t, "beta"), g = prov_index(t, "gam,ma");
	assert_true(a >= 0 && b >= 0 && g >= 0);

	const struct resip_addr *r = resip_find(t, obs_fx_ip("60.32.1.1"));
	assert_non_null(r);
	assert_int_equal(r->providers, (1ull << a) | (1ull << b));
	assert_null(resip_find(t, obs_fx_ip("60.32.1.2")));
	/* windows: alpha [03-01, 03-10 end], [03-15, 03-16 end]; beta [03-05, 03-20 00:00] */
	assert_int_equal(resip_match(t, r, tm("2024-03-01", false), true), 1ull << a);
	assert_int_equal(resip_match(t, r, tm("2024-03-01", false) - 1, true), 0);
	assert_int_equal(resip_match(t, r, tm("2024-03-06T10:00:00Z", false), true), (1ull << a) | (1ull << b));
	assert_int_equal(resip_match(t, r, tm("2024-03-10", true), true), (1ull << a) | (1ull << b));
	assert_int_equal(resip_match(t, r, tm("2024-03-12", false), true), 1ull << b);
	assert_int_equal(resip_match(t, r, tm("2024-03-15T12:00:00Z", false), true), (1ull << a) | (1ull << b));
	assert_int_equal(resip_match(t, r, tm("2024-03-20T00:00:00Z", false), true), 1ull << b);
	assert_int_equal(resip_match(t, r, tm("2024-03-20T00:00:00Z", false) + 1, true), 0);
	/* window check off: every provider, any time */
	assert_int_equal(resip_match(t, r, 0, false), (1ull << a) | (1ull << b));

	r = resip_find(t, obs_fx_ip("8.8.8.8"));
	assert_non_null(r);
	assert_int_equal(resip_match(t, r, tm("2023-12-31T15:00:00Z", false), true), 1ull << a);
	assert_int_equal(resip_match(t, r, tm("2024-01-01T15:00:00Z", false), true), 0);
	r = resip_find(t, obs_fx_ip("61.200.5.1"));
	assert_non_null(r);
	assert_int_equal(r->providers, 1ull << g);
	assert_true(resip_table_bytes(t) > 0);
	resip_table_free(t);
}

static const char *rejects_csv =
	"ip,provider,first_seen,last_seen\n"
	"1.2.3.4,p,2024-01-01,2024-01-02\n"      /* 2 ok */
	"1.2.3,p,2024-01-01,2024-01-02\n"        /* 3 bad IP */
	"01.2.3.4,p,2024-01-01,2024-01-02\n"     /* 4 bad IP (leading zero) */
	"1.2.3.5,p,2024-01-32,2024-02-02\n"      /* 5 bad date */
	"1.2.3.6,p,2024-02-01,2024-01-02\n"      /* 6 window ends before it starts */
	"1.2.3.7,p,2024-01-01\n"                 /* 7 missing fields */
	"1.2.3.8,p,2024-01-01,2024-01-02,x\n"    /* 8 too many fields */
	"1.2.3.9,,2024-01-01,2024-01-02\n"       /* 9 missing (empty provider) */
	"1.2.3.10,p,2024-01-01,2024-01-02\n";    /* 10 ok */

static void test_csv_rejects(void **state)
{
	const char *p = obs_fx_write("rejects.csv", rejects_csv);
	struct resip_load_report rep;
	struct resip_load_opts o = { .max_rejected = 100 };
	char err[512];
	struct resip_table *t = resip_load(p, &o, &rep, err, sizeof(err));
	assert_non_null(t);
	assert_int_equal(t->n_addrs, 2);
	assert_int_equal(rep.n_rejected, 7);
	assert_int_equal(rep.rejected[RESIP_REJ_BAD_IP], 2);
	assert_int_equal(rep.rejected[RESIP_REJ_BAD_DATE], 1);
	assert_int_equal(rep.rejected[RESIP_REJ_WINDOW], 1);
	assert_int_equal(rep.rejected[RESIP_REJ_MISSING], 2);
	assert_int_equal(rep.rejected[RESIP_REJ_TOO_MANY], 1);
	assert_int_equal(rep.n_msgs, 7);
	assert_string_equal(rep.msgs[0], "line 3: bad IP '1.2.3'");
	assert_non_null(strstr(rep.msgs[2], "line 5: bad date"));
	assert_non_null(strstr(rep.msgs[3], "line 6: window ends before it starts"));
	assert_non_null(strstr(rep.msgs[4], "line 7: missing fields"));
	assert_non_null(strstr(rep.msgs[5], "line 8: too many fields"));
	resip_table_free(t);

	/* default: no rejected line tolerated, the whole file refused */
	t = resip_load(p, NULL, &rep, err, sizeof(err));
	assert_null(t);
	assert_non_null(strstr(err, "7 rejected lines (limit 0), first: line 3: bad IP '1.2.3'"));
	assert_int_equal(rep.n_rejected, 7);
}

static void expect_fail(const char *p, const char *msg)
{
	char err[512];
	struct resip_table *t = resip_load(p, NULL, NULL, err, sizeof(err));
	assert_null(t);
	if (strstr(err, msg) == NULL)
		fail_msg("error '%s' lacks '%s'", err, msg);
}

static void test_csv_failures(void **state)
{
	expect_fail(obs_fx_path("missing.csv"), "No such file or directory");
	expect_fail(obs_fx_write("empty.csv", ""), "empty table");
	expect_fail(obs_fx_write("header.csv", "ip,provider,first_seen,last_seen\n"), "empty table");
	expect_fail(obs_fx_write("ipv6only.csv", "ip,provider,first_seen,last_seen\n::1,p,2024-01-01,2024-01-02\n"),
		    "empty table");
	expect_fail(obs_fx_write("nohdr.csv", "1.2.3.4,p,2024-01-01,2024-01-02\n"), "missing header");
	expect_fail(obs_fx_write("badhdr.csv", "ip,vendor,first_seen,last_seen\n"), "header column 2 'vendor'");
	expect_fail(obs_fx_write("hdr3.csv", "ip,provider,first_seen\n"), "header must name");
	expect_fail(obs_fx_dir, "is a directory");

	/* 65 providers: over the limit, named */
	char *big = malloc(65 * 64 + 64);
	assert_non_null(big);
	size_t o = (size_t)sprintf(big, "ip,provider,first_seen,last_seen\n");
	for (int i = 0; i < 65; i++)
		o += (size_t)sprintf(big + o, "10.0.0.%d,prov%d,2024-01-01,2024-01-02\n", i, i);
	expect_fail(obs_fx_write("prov65.csv", big), "more than 64 providers (provider 'prov64')");
	free(big);

	/* header with columns in another order */
	char err[512];
	struct resip_table *t = resip_load(obs_fx_write("order.csv",
		"Last_Seen,IP,provider,first_seen\n2024-01-02,1.1.1.1,x,2024-01-01\n"), NULL, NULL, err, sizeof(err));
	assert_non_null(t);
	assert_int_equal(t->rows[0].addr, obs_fx_ip("1.1.1.1"));
	assert_int_equal(t->rows[0].last_ns, tm("2024-01-02", true));
	resip_table_free(t);
}

/* Brute-force reference: random rows, match vs a scan over the raw rows. */
static void test_match_reference(void **state)
{
	enum { N = 3000 };
	struct { uint32_t a; int p; int64_t f, l; } raw[N];
	char *text = malloc(N * 64 + 64);
	assert_non_null(text);
	size_t o = (size_t)sprintf(text, "ip,provider,first_seen,last_seen\n");
	srand(7);
	for (int i = 0; i < N; i++) {
		raw[i].a = 0x0a000000u + (uint32_t)(rand() % 500);
		raw[i].p = rand() % 5;
		raw[i].f = 1700000000 + rand() % 1000;
		raw[i].l = raw[i].f + rand() % 300;
		if (i % 50 == 49)
			raw[i] = raw[i - 1];   /* duplicates */
		o += (size_t)sprintf(text + o, "%u.%u.%u.%u,p%d,%lld,%lld\n", raw[i].a >> 24,
				     (raw[i].a >> 16) & 255, (raw[i].a >> 8) & 255, raw[i].a & 255,
				     raw[i].p, (long long)raw[i].f, (long long)raw[i].l);
	}
	char err[512];
	struct resip_table *t = resip_load(obs_fx_write("ref.csv", text), NULL, NULL, err, sizeof(err));
	free(text);
	assert_non_null(t);
	int pidx[5];
	for (int k = 0; k < 5; k++) {
		char nm[8];
		snprintf(nm, sizeof(nm), "p%d", k);
		pidx[k] = prov_index(t, nm);
	}
	for (int q = 0; q < 20000; q++) {
		uint32_t a = 0x0a000000u + (uint32_t)(rand() % 520);
		int64_t ts = 1700000000 + rand() % 1400 - 50;
		uint64_t want = 0, all = 0;
		bool present = false;
		for (int i = 0; i < N; i++)
			if (raw[i].a == a) {
				present = true;
				all |= 1ull << pidx[raw[i].p];
				/* last_seen epoch seconds is the exact second, inclusive */
				if (raw[i].f * NS <= ts * NS && ts * NS <= raw[i].l * NS)
					want |= 1ull << pidx[raw[i].p];
			}
		const struct resip_addr *r = resip_find(t, a);
		assert_int_equal(r != NULL, present);
		if (r) {
			assert_int_equal(resip_match(t, r, ts * NS, true), want);
			assert_int_equal(resip_match(t, r, ts * NS, false), all);
		}
	}
	resip_table_free(t);
}

static void check_fixture_mmdb(const char *name)
{
	struct resip_load_report rep;
	char err[512];
	struct resip_table *t = resip_load(obs_fx_path(name), NULL, &rep, err, sizeof(err));
	if (t == NULL)
		fail_msg("%s: %s", name, err);
	assert_int_equal(t->format, RESIP_FMT_MMDB);
	/* 60.32.1.1, 60.32.1.2, 61.200.5.0/30 (4), 118.0.0.7, 95.100.3.4 */
	assert_int_equal(t->n_addrs, 8);
	assert_int_equal(rep.n_expanded, 4);
	assert_int_equal(t->n_providers, 3);   /* alpha beta gamma; delta is IPv6 only */
	assert_int_equal(prov_index(t, "delta"), -1);
	const struct resip_addr *r = resip_find(t, obs_fx_ip("61.200.5.3"));
	assert_non_null(r);
	assert_int_equal(r->providers, 1ull << prov_index(t, "beta"));
	assert_null(resip_find(t, obs_fx_ip("61.200.5.4")));
	const struct resip_row *row = &t->rows[r->row0];
	assert_true(row->first_ns == RESIP_T_OPEN_START);
	assert_int_equal(row->last_ns, tm("2024-02-10", true));
	assert_int_not_equal(resip_match(t, r, 0, true), 0);
	assert_int_equal(resip_match(t, r, tm("2024-02-11", false), true), 0);
	resip_table_free(t);
}

static void test_mmdb_fixtures(void **state)
{
	check_fixture_mmdb("resip.mmdb");
	check_fixture_mmdb("resip4.mmdb");

	/* the expansion cap, named in the error */
	char err[512];
	struct resip_load_opts o = { .max_addrs = 100000 };
	struct resip_table *t = resip_load(obs_fx_path("resip-big.mmdb"), &o, NULL, err, sizeof(err));
	assert_null(t);
	assert_non_null(strstr(err, "20.0.0.0/12: networks expand to more than 100000 addresses"));
	t = resip_load(obs_fx_path("resip-big.mmdb"), NULL, NULL, err, sizeof(err));
	assert_non_null(t);
	assert_int_equal(t->n_addrs, 1u << 20);
	resip_table_free(t);

	/* a City DB has no provider_name: every record rejected, file refused */
	t = resip_load(obs_fx_path("city.mmdb"), NULL, NULL, err, sizeof(err));
	assert_null(t);
	assert_non_null(strstr(err, "no provider_name"));

	/* a truncated MMDB */
	FILE *in = fopen(obs_fx_path("resip.mmdb"), "rb"), *out = fopen(obs_fx_path("trunc.mmdb"), "wb");
	char buf[4096];
	size_t n = fread(buf, 1, sizeof(buf), in);
	fwrite(buf, 1, n / 2, out);
	fclose(in);
	fclose(out);
	t = resip_load(obs_fx_path("trunc.mmdb"), NULL, NULL, err, sizeof(err));
	assert_null(t);
	assert_true(strlen(err) > 0);
}

static void test_mmdb_official(void **state)
{
	const char *d = obs_fx_shared_mmdb();
	char p[600], err[512];
	if (d == NULL)
		skip();
	snprintf(p, sizeof(p), "%s/test-data/GeoIP-Residential-Proxy-Test.mmdb", d);
	struct resip_table *t = resip_load(p, NULL, NULL, err, sizeof(err));
	if (t == NULL)
		fail_msg("%s", err);
	/* source-data/GeoIP-Residential-Proxy-Test.json: 15 IPv4 /32 networks */
	assert_int_equal(t->n_addrs, 15);
	const struct resip_addr *r = resip_find(t, obs_fx_ip("6.0.42.17"));
	assert_non_null(r);
	assert_int_equal(r->providers, 1ull << prov_index(t, "novada"));
	assert_int_equal(t->rows[r->row0].last_ns, tm("2026-05-14", true));
	r = resip_find(t, obs_fx_ip("21.4.181.221"));
	assert_non_null(r);
	assert_int_equal(r->providers, 1ull << prov_index(t, "geonode"));
	assert_non_null(resip_find(t, obs_fx_ip("215.42.187.99")));
	resip_table_free(t);
}

/* Every file of MaxMind's test and bad data loads or is refused with a message. */
static void load_or_refuse(const char *path, void *arg)
{
	struct resip_load_opts o = { .max_rejected = UINT64_MAX, .max_addrs = 1u << 22 };
	char err[512];
	struct resip_table *t = resip_load(path, &o, NULL, err, sizeof(err));

	(void)arg;
	if (t == NULL)
		assert_true(strlen(err) > 0);
	resip_table_free(t);
}

static void test_mmdb_corrupt(void **state)
{
	static const char *const sub[] = { "bad-data/libmaxminddb", "bad-data/maxminddb-golang",
					   "bad-data/maxminddb-python", "test-data" };

	(void)state;
	if (obs_fx_shared_mmdb() == NULL)
		skip();
	assert_true(obs_fx_each_mmdb(sub, sizeof(sub) / sizeof(sub[0]), load_or_refuse, NULL) > 10);
}

#define TESTS(T) T(test_times) T(test_csv_basic) T(test_csv_rejects) T(test_csv_failures) \
	T(test_match_reference) T(test_mmdb_fixtures) T(test_mmdb_official) \
	T(test_mmdb_corrupt)
OBS_TEST_MAIN(TESTS, obs_fx_setup, obs_fx_teardown)
