/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_geo.c — control/geo.c against MMDB fixtures built by tests/fixtures/mkmmdb.pl
 * (MaxMind's writer) in a temporary directory, and, where ../shared/data is present,
 * against MaxMind's official test databases and deliberately corrupt ones (extra cases
 * only: the core assertions never need ../shared).
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

#include "geo.h"

static void test_city_and_asn(void **state)
{
	char err[256], cc[3], sub[64], org[128];
	uint32_t asn;
	struct cp_geo *g = cp_geo_open(obs_fx_path("city.mmdb"), obs_fx_path("asn.mmdb"), err, sizeof(err));
	assert_non_null(g);

	assert_int_equal(cp_geo_country(g, obs_fx_ip("60.32.1.1"), cc), 0);
	assert_string_equal(cc, "JP");
	assert_int_equal(cp_geo_subdivision(g, obs_fx_ip("60.32.1.1"), sub, sizeof(sub)), 0);
	assert_string_equal(sub, "Tokyo");
	assert_int_equal(cp_geo_subdivision(g, obs_fx_ip("61.200.5.3"), sub, sizeof(sub)), 0);
	assert_string_equal(sub, "Osaka");
	assert_int_equal(cp_geo_subdivision(g, obs_fx_ip("126.100.9.9"), sub, sizeof(sub)), 0);
	assert_string_equal(sub, "Hokkaido");
	/* JP without a subdivision: country yes, subdivision "not found" */
	assert_int_equal(cp_geo_country(g, obs_fx_ip("118.0.0.7"), cc), 0);
	assert_string_equal(cc, "JP");
	assert_int_equal(cp_geo_subdivision(g, obs_fx_ip("118.0.0.7"), sub, sizeof(sub)), -ENOENT);
	assert_int_equal(cp_geo_country(g, obs_fx_ip("95.100.3.4"), cc), 0);
	assert_string_equal(cc, "RU");
	/* not in the DB */
	assert_int_equal(cp_geo_country(g, obs_fx_ip("9.9.9.9"), cc), -ENOENT);
	assert_int_equal(cp_geo_subdivision(g, obs_fx_ip("9.9.9.9"), sub, sizeof(sub)), -ENOENT);
	/* truncation is safe */
	assert_int_equal(cp_geo_subdivision(g, obs_fx_ip("126.100.9.9"), sub, 5), 0);
	assert_string_equal(sub, "Hokk");

	assert_int_equal(cp_geo_asn(g, obs_fx_ip("60.32.1.1"), &asn, org, sizeof(org)), 0);
	assert_int_equal(asn, 4713);
	assert_string_equal(org, "NTT Communications Corporation");
	assert_int_equal(cp_geo_asn(g, obs_fx_ip("118.0.0.7"), &asn, org, sizeof(org)), 0);
	assert_int_equal(asn, 17676);
	assert_string_equal(org, "SoftBank Corp.");
	assert_int_equal(cp_geo_asn(g, obs_fx_ip("9.9.9.9"), &asn, org, sizeof(org)), -ENOENT);
	assert_int_equal(cp_geo_asn(g, obs_fx_ip("9.9.9.9"), NULL, NULL, 0), -ENOENT);
	cp_geo_close(g);
}

static void test_isp_shaped(void **state)
{
	char err[256], org[128];
	uint32_t asn;
	struct cp_geo *g = cp_geo_open(NULL, obs_fx_path("isp.mmdb"), err, sizeof(err));
	assert_non_null(g);
	assert_int_equal(cp_geo_asn(g, obs_fx_ip("60.32.7.7"), &asn, org, sizeof(org)), 0);
	assert_int_equal(asn, 4713);
	assert_string_equal(org, "NTT OCN");
	cp_geo_close(g);
}

static void test_absent_and_wrong(void **state)
{
	char err[512], cc[3];
	struct cp_geo *g = cp_geo_open(NULL, "", err, sizeof(err));
	assert_non_null(g);
	assert_int_equal(cp_geo_country(g, obs_fx_ip("60.32.1.1"), cc), -ENOENT);
	assert_int_equal(cp_geo_asn(g, obs_fx_ip("60.32.1.1"), NULL, NULL, 0), -ENOENT);
	cp_geo_close(g);
	assert_int_equal(cp_geo_country(NULL, obs_fx_ip("60.32.1.1"), cc), -ENOENT);

	/* swapped: an ASN DB where a City DB belongs */
	g = cp_geo_open(obs_fx_path("asn.mmdb"), NULL, err, sizeof(err));
	assert_null(g);
	assert_non_null(strstr(err, "is not a city database"));
	g = cp_geo_open(NULL, obs_fx_path("resip.mmdb"), err, sizeof(err));
	assert_null(g);
	assert_non_null(strstr(err, "is not a ASN database"));

	/* missing file: the path and the OS reason */
	g = cp_geo_open(obs_fx_path("nope.mmdb"), NULL, err, sizeof(err));
	assert_null(g);
	assert_non_null(strstr(err, "nope.mmdb"));
	assert_non_null(strstr(err, "No such file"));

	/* not an MMDB at all */
	FILE *f = fopen(obs_fx_path("garbage.mmdb"), "w");
	assert_non_null(f);
	fputs("ip,provider\n1.2.3.4,x\n", f);
	fclose(f);
	g = cp_geo_open(obs_fx_path("garbage.mmdb"), NULL, err, sizeof(err));
	assert_null(g);
	assert_non_null(strstr(err, "garbage.mmdb"));
}

/* --- extra cases from ../shared/data/maxmind-mmdb, skipped when absent --- */

static void test_maxmind_official(void **state)
{
	const char *d = obs_fx_shared_mmdb();
	char city[600], asn[600], isp[600], err[512], cc[3], org[128];
	uint32_t n;
	if (d == NULL)
		skip();
	snprintf(city, sizeof(city), "%s/test-data/GeoIP2-City-Test.mmdb", d);
	snprintf(asn, sizeof(asn), "%s/test-data/GeoLite2-ASN-Test.mmdb", d);
	snprintf(isp, sizeof(isp), "%s/test-data/GeoIP2-ISP-Test.mmdb", d);
	struct cp_geo *g = cp_geo_open(city, asn, err, sizeof(err));
	assert_non_null(g);
	assert_int_equal(cp_geo_country(g, obs_fx_ip("81.2.69.142"), cc), 0);
	assert_string_equal(cc, "GB");
	assert_int_equal(cp_geo_asn(g, obs_fx_ip("1.128.0.0"), &n, org, sizeof(org)), 0);
	assert_int_equal(n, 1221);
	assert_string_equal(org, "Telstra Pty Ltd");
	assert_int_equal(cp_geo_asn(g, obs_fx_ip("81.2.69.142"), &n, org, sizeof(org)), -ENOENT);
	cp_geo_close(g);
	g = cp_geo_open(NULL, isp, err, sizeof(err));
	assert_non_null(g);
	assert_int_equal(cp_geo_asn(g, obs_fx_ip("1.128.0.0"), &n, org, sizeof(org)), 0);
	assert_int_equal(n, 1221);
	cp_geo_close(g);
}

/* Every corrupt DB: open fails with a message, or lookups answer 0/-ENOENT/-EIO. */
static void probe_corrupt(const char *path, void *arg)
{
	int *n_files = arg;
	static const char *const addrs[] = { "1.1.1.1", "81.2.69.142", "1.128.0.0", "0.0.0.0",
					     "255.255.255.255", "2.125.160.216", "67.43.156.1" };
	char err[512], cc[3], sub[64], org[64];
	uint32_t asn;
	struct cp_geo *g;
	(*n_files)++;
	/* as both kinds: the type check may refuse, the file must never crash us */
	for (int kind = 0; kind < 2; kind++) {
		g = kind == 0 ? cp_geo_open(path, NULL, err, sizeof(err))
			      : cp_geo_open(NULL, path, err, sizeof(err));
		if (g == NULL) {
			assert_true(strlen(err) > 0);
			continue;
		}
		for (size_t i = 0; i < sizeof(addrs) / sizeof(addrs[0]); i++) {
			int r1 = cp_geo_country(g, obs_fx_ip(addrs[i]), cc);
			int r2 = cp_geo_subdivision(g, obs_fx_ip(addrs[i]), sub, sizeof(sub));
			int r3 = cp_geo_asn(g, obs_fx_ip(addrs[i]), &asn, org, sizeof(org));
			assert_true(r1 == 0 || r1 == -ENOENT || r1 == -EIO);
			assert_true(r2 == 0 || r2 == -ENOENT || r2 == -EIO);
			assert_true(r3 == 0 || r3 == -ENOENT || r3 == -EIO);
		}
		cp_geo_close(g);
	}
}

static void test_maxmind_corrupt(void **state)
{
	const char *d = obs_fx_shared_mmdb();
	static const char *const sub[] = { "bad-data/libmaxminddb", "bad-data/maxminddb-golang",
					   "bad-data/maxminddb-python" };
	static const char *const broken[] = { "GeoIP2-City-Test-Invalid-Node-Count.mmdb",
					      "GeoIP2-City-Test-Broken-Double-Format.mmdb",
					      "MaxMind-DB-test-broken-pointers-24.mmdb",
					      "MaxMind-DB-test-broken-search-tree-24.mmdb" };
	char path[1024];
	int n = 0;
	if (d == NULL)
		skip();
	obs_fx_each_mmdb(sub, sizeof(sub) / sizeof(sub[0]), probe_corrupt, &n);
	for (size_t i = 0; i < sizeof(broken) / sizeof(broken[0]); i++) {
		snprintf(path, sizeof(path), "%s/test-data/%s", d, broken[i]);
		probe_corrupt(path, &n);
	}
	assert_true(n >= 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_city_and_asn),
		cmocka_unit_test(test_isp_shaped),
		cmocka_unit_test(test_absent_and_wrong),
		cmocka_unit_test(test_maxmind_official),
		cmocka_unit_test(test_maxmind_corrupt),
	};
	return cmocka_run_group_tests(tests, obs_fx_setup, obs_fx_teardown);
}
