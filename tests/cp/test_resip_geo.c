/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_resip_geo.c — SPEC.md B3 (control/resip/resip_geo.c) on a small RESIP table whose
 * answer is known by construction: City/ASN fixtures from tests/fixtures/mkmmdb.pl,
 * a PTR operator file, an organisation file; and control/rdns.c live against a dnsmasq
 * the test starts on 127.0.0.1 (skipped when dnsmasq is not installed).
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "mmdb_fixture.h"

#include "geo.h"
#include "rdns.h"
#include "resip_geo.h"
#include "../fixtures/test_main.h"

static const char *table_csv =
	"ip,provider,first_seen,last_seen\n"
	"60.32.1.1,alpha,2024-01-01,2024-02-01\n"
	"60.32.1.1,beta,2024-01-01,2024-02-01\n"
	"60.32.1.2,beta,2024-01-01,2024-02-01\n"
	"61.200.5.1,beta,2024-01-01,2024-02-01\n"
	"61.200.5.2,gamma,2024-01-01,2024-02-01\n"
	"118.0.0.7,gamma,2024-01-01,2024-02-01\n"
	"126.100.1.1,alpha,2024-01-01,2024-02-01\n"
	"95.100.3.4,alpha,2024-01-01,2024-02-01\n"
	"9.9.9.9,alpha,2024-01-01,2024-02-01\n";

static const char *ptr_txt =
	"# ip name\n"
	"60.32.1.1 p1-ipngn.tokyo.ocn.ne.jp\n"
	"60.32.1.2,P2-IPNGN.Tokyo.OCN.ne.jp.\n"
	"61.200.5.1 kd111.ppp.dion.ne.jp\n"
	"61.200.5.2 host.example.co.jp\n"
	"118.0.0.7 softbank118.bbtec.ru\n"
	"95.100.3.4 host.example.jp\n";

struct fx {
	struct resip_table *t;
	struct cp_geo *geo;
	struct cp_rdns *rdns;
	struct resip_geo_ctx ctx;
};

static void fx_open(struct fx *f, bool with_ptr)
{
	char err[512];
	memset(f, 0, sizeof(*f));
	f->t = resip_load(obs_fx_write("t.csv", table_csv), NULL, NULL, err, sizeof(err));
	assert_non_null(f->t);
	f->geo = cp_geo_open(obs_fx_path("city.mmdb"), obs_fx_path("asn.mmdb"), err, sizeof(err));
	assert_non_null(f->geo);
	if (with_ptr) {
		struct cp_rdns_opts o = { .file = obs_fx_write("ptr.txt", ptr_txt) };
		f->rdns = cp_rdns_open(&o, err, sizeof(err));
		if (f->rdns == NULL)
			fail_msg("%s", err);
		assert_int_equal(cp_rdns_file_entries(f->rdns), 6);
	}
	f->ctx.geo = f->geo;
	f->ctx.rdns = f->rdns;
}

static void fx_close(struct fx *f)
{
	resip_table_free(f->t);
	cp_geo_close(f->geo);
	cp_rdns_close(f->rdns);
	resip_orgmap_free(f->ctx.orgs);
}

static int prov(const struct resip_table *t, const char *name)
{
	for (unsigned i = 0; i < t->n_providers; i++)
		if (strcmp(t->providers[i], name) == 0)
			return (int)i;
	fail_msg("no provider %s", name);
	return -1;
}

static const struct resip_geo_row *row(const struct resip_geo_table *g, const char *key)
{
	for (size_t i = 0; i < g->n_rows; i++)
		if (strcmp(g->rows[i].key, key) == 0)
			return &g->rows[i];
	fail_msg("no row '%s'", key);
	return NULL;
}

/* The table of f by `by` for cc: each wanted row (the list ends at key NULL) with its
 * address count, and n_rows rows in all unless n_rows < 0. */
struct want {
	const char *key;
	uint64_t n;
};

static void geo_expect(struct fx *f, const char *cc, enum resip_geo_by by, int n_rows,
                       const struct want *w)
{
	struct resip_geo_table g;
	char err[256];

	assert_int_equal(resip_geo_compute(f->t, &f->ctx, cc, by, &g, err, sizeof(err)), 0);
	for (; w->key != NULL; w++)
		assert_int_equal(row(&g, w->key)->n, w->n);
	if (n_rows >= 0)
		assert_int_equal(g.n_rows, n_rows);
	resip_geo_table_free(&g);
}

static void test_region(void **state)
{
	struct fx f;
	struct resip_geo_table g;
	char err[256];
	fx_open(&f, false);
	int a = prov(f.t, "alpha"), b = prov(f.t, "beta"), c = prov(f.t, "gamma");
	assert_int_equal(resip_geo_compute(f.t, &f.ctx, "jp", RESIP_GEO_REGION, &g, err, sizeof(err)), 0);
	assert_string_equal(g.cc, "JP");
	assert_int_equal(g.n_addrs, 6);
	assert_int_equal(g.n_no_geo, 1);   /* 9.9.9.9 */
	assert_int_equal(g.n_rows, 4);
	const struct resip_geo_row *r = row(&g, "Tokyo");
	assert_int_equal(r->n, 2);
	assert_int_equal(r->per_provider[a], 1);
	assert_int_equal(r->per_provider[b], 2);
	assert_int_equal(r->per_provider[c], 0);
	r = row(&g, "Osaka");
	assert_int_equal(r->n, 2);
	assert_int_equal(r->per_provider[b], 1);
	assert_int_equal(r->per_provider[c], 1);
	r = row(&g, "Hokkaido");
	assert_int_equal(r->n, 1);
	r = row(&g, RESIP_GEO_NOT_FOUND);
	assert_int_equal(r->n, 1);
	assert_int_equal(r->per_provider[c], 1);
	/* sorted by count, then key */
	assert_string_equal(g.rows[0].key, "Osaka");
	assert_string_equal(g.rows[1].key, "Tokyo");
	resip_geo_table_free(&g);

	assert_int_equal(resip_geo_compute(f.t, &f.ctx, "RU", RESIP_GEO_REGION, &g, err, sizeof(err)), 0);
	assert_int_equal(g.n_addrs, 1);
	assert_int_equal(row(&g, "Moscow")->n, 1);
	resip_geo_table_free(&g);
	assert_int_equal(resip_geo_compute(f.t, &f.ctx, "JPN", RESIP_GEO_REGION, &g, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "two-letter"));
	fx_close(&f);
}

static void test_org(void **state)
{
	struct fx f;
	char err[256];
	fx_open(&f, false);
	geo_expect(&f, "JP", RESIP_GEO_ORG, 3, (const struct want[]){
		{ "NTT Communications Corporation", 2 }, { "KDDI CORPORATION", 2 },
		{ "SoftBank Corp.", 2 }, { NULL, 0 } });

	/* operator file wins, longest prefix first */
	f.ctx.orgs = resip_orgmap_load(obs_fx_write("org.txt",
		"# cidr organisation\n60.32.0.0/16 NTT (file)\n60.32.1.2/32,Single host org\n"
		"126.100.0.0/16  Hokkaido ISP  \n"), err, sizeof(err));
	assert_non_null(f.ctx.orgs);
	assert_string_equal(resip_orgmap_lookup(f.ctx.orgs, obs_fx_ip("60.32.1.2")), "Single host org");
	assert_null(resip_orgmap_lookup(f.ctx.orgs, obs_fx_ip("61.0.0.1")));
	geo_expect(&f, "JP", RESIP_GEO_ORG, -1, (const struct want[]){
		{ "NTT (file)", 1 }, { "Single host org", 1 }, { "Hokkaido ISP", 1 },
		{ "SoftBank Corp.", 1 }, { "KDDI CORPORATION", 2 }, { NULL, 0 } });

	assert_null(resip_orgmap_load(obs_fx_write("badorg.txt", "60.32.0.0/33 x\n"), err, sizeof(err)));
	assert_non_null(strstr(err, "line 1"));
	assert_null(resip_orgmap_load(obs_fx_path("none.txt"), err, sizeof(err)));
	fx_close(&f);
}

static void test_domain_sld_mismatch(void **state)
{
	struct fx f;
	struct resip_geo_table g;
	char err[256], dom[128];
	fx_open(&f, true);

	assert_int_equal(resip_geo_registrable("p1-ipngn.tokyo.ocn.ne.jp", dom, sizeof(dom)), 0);
	assert_string_equal(dom, "ocn.ne.jp");
	assert_int_equal(resip_geo_registrable("x.example.co.uk", dom, sizeof(dom)), 0);
	assert_string_equal(dom, "example.co.uk");
	assert_int_equal(resip_geo_registrable("ne.jp", dom, sizeof(dom)), -ENOENT);

	assert_int_equal(resip_geo_compute(f.t, &f.ctx, "JP", RESIP_GEO_DOMAIN, &g, err, sizeof(err)), 0);
	assert_int_equal(g.n_addrs, 6);
	assert_int_equal(g.n_ptr, 5);
	resip_geo_table_free(&g);
	geo_expect(&f, "JP", RESIP_GEO_DOMAIN, 5, (const struct want[]){
		{ "ocn.ne.jp", 2 },                     /* case and trailing dot normalised */
		{ "dion.ne.jp", 1 }, { "example.co.jp", 1 }, { "bbtec.ru", 1 },
		{ RESIP_GEO_NO_PTR, 1 }, { NULL, 0 } });
	geo_expect(&f, "JP", RESIP_GEO_SLD, 4, (const struct want[]){
		{ "ne", 3 }, { "co", 1 }, { "(not .jp)", 1 }, { RESIP_GEO_NO_PTR, 1 }, { NULL, 0 } });

	struct resip_mismatch *m;
	size_t n;
	assert_int_equal(resip_geo_mismatch(f.t, &f.ctx, "JP", &m, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 2);
	assert_int_equal(m[0].addr, obs_fx_ip("95.100.3.4"));
	assert_string_equal(m[0].geo_cc, "RU");
	assert_string_equal(m[0].ptr_tld, "JP");
	assert_int_equal(m[1].addr, obs_fx_ip("118.0.0.7"));
	assert_string_equal(m[1].geo_cc, "JP");
	assert_string_equal(m[1].ptr_tld, "RU");
	assert_string_equal(m[1].name, "softbank118.bbtec.ru");
	assert_int_equal(m[1].providers, 1ull << prov(f.t, "gamma"));
	free(m);
	fx_close(&f);

	/* bad PTR file: a clear error with the line */
	struct cp_rdns_opts o = { .file = obs_fx_write("badptr.txt", "60.32.1.1 ok.jp\n300.1.1.1 x.jp\n") };
	assert_null(cp_rdns_open(&o, err, sizeof(err)));
	assert_non_null(strstr(err, "line 2: bad IPv4 address"));
}

/* --- live PTR through c-ares against a dnsmasq on 127.0.0.1 --- */

static pid_t dns_pid = -1;
static int dns_port;

static bool start_dnsmasq(void)
{
	const char *bin = "/usr/sbin/dnsmasq";
	char port[32], r1[128], r2[128], r3[128];
	if (access(bin, X_OK) != 0)
		return false;
	dns_port = 20000 + (int)(getpid() % 20000);
	snprintf(port, sizeof(port), "--port=%d", dns_port);
	snprintf(r1, sizeof(r1), "--ptr-record=1.1.32.60.in-addr.arpa,p1-ipngn.tokyo.ocn.ne.jp");
	snprintf(r2, sizeof(r2), "--ptr-record=1.5.200.61.in-addr.arpa,kd111.ppp.dion.ne.jp");
	snprintf(r3, sizeof(r3), "--ptr-record=7.0.0.118.in-addr.arpa,softbank118.bbtec.ru");
	dns_pid = fork();
	if (dns_pid == 0) {
		freopen("/dev/null", "w", stderr);
		execl(bin, bin, "--no-daemon", port, "--listen-address=127.0.0.1", "--bind-interfaces",
		      "--no-resolv", "--no-hosts", "--user=root", "--bogus-priv", r1, r2, r3, (char *)NULL);
		_exit(127);
	}
	usleep(400000);
	int st;
	if (waitpid(dns_pid, &st, WNOHANG) != 0) {
		dns_pid = -1;
		return false;
	}
	return true;
}

static void stop_dnsmasq(void)
{
	if (dns_pid > 0) {
		kill(dns_pid, SIGTERM);
		waitpid(dns_pid, NULL, 0);
		dns_pid = -1;
	}
}

static void test_live_ptr(void **state)
{
	char err[256], servers[64];
	if (!start_dnsmasq())
		skip();
	snprintf(servers, sizeof(servers), "127.0.0.1:%d", dns_port);
	struct cp_rdns_opts o = { .live = true, .servers = servers, .rate = 100, .timeout_ms = 500 };
	struct cp_rdns *r = cp_rdns_open(&o, err, sizeof(err));
	if (r == NULL) {
		stop_dnsmasq();
		fail_msg("%s", err);
	}
	uint32_t addrs[3] = { obs_fx_ip("60.32.1.1"), obs_fx_ip("61.200.5.1"), obs_fx_ip("60.32.9.9") };
	const char *names[3];
	size_t k = cp_rdns_resolve(r, addrs, 3, names, 5000);
	const struct cp_rdns_stats *st = cp_rdns_stats(r);
	assert_int_equal(k, 2);
	assert_string_equal(names[0], "p1-ipngn.tokyo.ocn.ne.jp");
	assert_string_equal(names[1], "kd111.ppp.dion.ne.jp");
	assert_null(names[2]);
	assert_int_equal(st->n_queries, 3);
	assert_int_equal(st->n_answers, 2);
	assert_int_equal(st->n_nxdomain + st->n_failed, 1);
	/* cached: no new query for the answered ones */
	k = cp_rdns_resolve(r, addrs, 2, names, 5000);
	assert_int_equal(k, 2);
	assert_int_equal(st->n_queries, 3);
	assert_string_equal(cp_rdns_cached(r, obs_fx_ip("61.200.5.1")), "kd111.ppp.dion.ne.jp");
	/* budget 0: cache only, never a query */
	uint32_t a7 = obs_fx_ip("118.0.0.7");
	k = cp_rdns_resolve(r, &a7, 1, names, 0);
	assert_int_equal(k, 0);
	assert_int_equal(st->n_queries, 3);
	cp_rdns_close(r);

	/* rate limit: 4 queries/s for 0.5 s sends at most 1 + 2 queries; the rest deferred */
	struct cp_rdns_opts o2 = { .live = true, .servers = servers, .rate = 4, .timeout_ms = 500 };
	r = cp_rdns_open(&o2, err, sizeof(err));
	assert_non_null(r);
	uint32_t many[20];
	const char *nm[20];
	for (int i = 0; i < 20; i++)
		many[i] = obs_fx_ip("60.32.2.0") + (uint32_t)i;
	cp_rdns_resolve(r, many, 20, nm, 500);
	st = cp_rdns_stats(r);
	assert_true(st->n_queries >= 1 && st->n_queries <= 4);
	assert_true(st->n_deferred >= 16);
	cp_rdns_close(r);
	stop_dnsmasq();
}

static void test_live_ptr_geo(void **state)
{
	/* the geography with a live PTR source only (no file) */
	char err[256], servers[64];
	struct fx f;
	if (!start_dnsmasq())
		skip();
	snprintf(servers, sizeof(servers), "127.0.0.1:%d", dns_port);
	fx_open(&f, false);
	struct cp_rdns_opts o = { .live = true, .servers = servers, .rate = 200, .timeout_ms = 500 };
	f.rdns = cp_rdns_open(&o, err, sizeof(err));
	assert_non_null(f.rdns);
	f.ctx.rdns = f.rdns;
	f.ctx.ptr_budget_ms = 5000;
	geo_expect(&f, "JP", RESIP_GEO_DOMAIN, -1, (const struct want[]){
		{ "ocn.ne.jp", 1 }, { "dion.ne.jp", 1 }, { "bbtec.ru", 1 }, { RESIP_GEO_NO_PTR, 3 },
		{ NULL, 0 } });
	fx_close(&f);
	stop_dnsmasq();
}

static int teardown(void **state)
{
	int rc = obs_fx_teardown(state);

	stop_dnsmasq();
	return rc;
}

#define TESTS(T) T(test_region) T(test_org) T(test_domain_sld_mismatch) T(test_live_ptr) \
	T(test_live_ptr_geo)
OBS_TEST_MAIN(TESTS, obs_fx_setup, teardown)
