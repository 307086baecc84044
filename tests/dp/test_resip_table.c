/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_resip_table.c — dataplane/resip_table.c under EAL (--no-huge, no PCI): SPEC.md B1
 * on known rows (inside/outside windows, several providers, window check off), and a
 * random table whose every bulk answer must equal resip_match() (the loader's binary
 * search, an independent path to the same truth), and the member filter in front of the
 * buckets: every address passes it, and few others do.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <cmocka.h>
#include <rte_eal.h>

#include "resip_table.h"
#include "../fixtures/test_eal.h"

#define NS 1000000000LL

static char csv[64];

static uint32_t ip(const char *s)
{
	struct in_addr a;
	assert_int_equal(inet_pton(AF_INET, s, &a), 1);
	return ntohl(a.s_addr);
}

static struct resip_table *load_text(const char *text)
{
	char err[512];
	snprintf(csv, sizeof(csv), "/tmp/obs-rtab-%d.csv", (int)getpid());
	FILE *f = fopen(csv, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	struct resip_table *t = resip_load(csv, NULL, NULL, err, sizeof(err));
	unlink(csv);
	if (t == NULL)
		fail_msg("%s", err);
	return t;
}

static void test_known(void **state)
{
	char err[256];
	struct resip_table *t = load_text(
		"ip,provider,first_seen,last_seen\n"
		"10.0.0.1,a,1000,2000\n"
		"10.0.0.1,b,1500,3000\n"
		"10.0.0.2,b,1000,1000\n");
	struct obs_resip_tab *tab = obs_resip_tab_build(t, true, 0, err, sizeof(err));
	if (tab == NULL)
		fail_msg("%s", err);
	uint64_t a = 1ull << (strcmp(t->providers[0], "a") == 0 ? 0 : 1), b = a == 1 ? 2 : 1;
	uint32_t src[8] = { ip("10.0.0.1"), ip("10.0.0.1"), ip("10.0.0.1"), ip("10.0.0.1"),
			    ip("10.0.0.2"), ip("10.0.0.2"), ip("10.0.0.3"), ip("10.0.0.1") };
	int64_t ts[8] = { 999 * NS, 1000 * NS, 1700 * NS, 2500 * NS, 1000 * NS, 1001 * NS, 1500 * NS,
			  3000 * NS + 1 };
	uint64_t m[8];
	assert_int_equal(obs_resip_classify_burst(tab, src, ts, 8, m), 4);
	assert_int_equal(m[0], 0);
	assert_int_equal(m[1], a);
	assert_int_equal(m[2], a | b);
	assert_int_equal(m[3], b);
	assert_int_equal(m[4], b);
	assert_int_equal(m[5], 0);
	assert_int_equal(m[6], 0);
	assert_int_equal(m[7], 0);
	tab->window_check = false;
	assert_int_equal(obs_resip_classify_burst(tab, src, ts, 8, m), 7);
	assert_int_equal(m[0], a | b);
	assert_int_equal(m[5], b);
	assert_int_equal(m[6], 0);
	assert_int_equal(obs_resip_classify_burst(tab, src, ts, 0, m), 0);
	obs_resip_tab_free(tab);
	assert_null(obs_resip_tab_build(NULL, true, 0, err, sizeof(err)));
	assert_non_null(strstr(err, "empty"));
	resip_table_free(t);
}

static void test_reference(void **state)
{
	char err[256];
	size_t cap = 20000 * 64 + 64, o = 0;
	char *text = malloc(cap);
	assert_non_null(text);
	o += (size_t)snprintf(text, cap, "ip,provider,first_seen,last_seen\n");
	srand(11);
	for (int i = 0; i < 20000; i++) {
		uint32_t a = 0x0b000000u + (uint32_t)(rand() % 8000);
		long f = 1700000000 + rand() % 5000;
		o += (size_t)snprintf(text + o, cap - o, "%u.%u.%u.%u,p%d,%ld,%ld\n", a >> 24, (a >> 16) & 255,
				      (a >> 8) & 255, a & 255, rand() % 9, f, f + rand() % 2000);
	}
	struct resip_table *t = load_text(text);
	free(text);
	struct obs_resip_tab *tab = obs_resip_tab_build(t, true, 0, err, sizeof(err));
	assert_non_null(tab);
	assert_int_equal(tab->n_addrs, t->n_addrs);
	for (int round = 0; round < 3000; round++) {
		uint32_t src[OBS_RESIP_BULK];
		int64_t ts[OBS_RESIP_BULK];
		uint64_t m[OBS_RESIP_BULK];
		unsigned n = 1 + (unsigned)(rand() % OBS_RESIP_BULK), want_n = 0;
		for (unsigned i = 0; i < n; i++) {
			src[i] = 0x0b000000u + (uint32_t)(rand() % 9000);
			ts[i] = (1700000000LL + rand() % 7500) * NS + rand() % 3 - 1;
		}
		unsigned got = obs_resip_classify_burst(tab, src, ts, n, m);
		for (unsigned i = 0; i < n; i++) {
			const struct resip_addr *a = resip_find(t, src[i]);
			uint64_t want = a ? resip_match(t, a, ts[i], true) : 0;
			assert_int_equal(m[i], want);
			want_n += want != 0;
		}
		assert_int_equal(got, want_n);
	}
	obs_resip_tab_free(tab);
	resip_table_free(t);
}

/* The member filter (resip_table.h obs_resip_maybe): no false negative for any of 60 000
 * addresses (a "no" skips the lookup, so one would lose a RESIP packet), and a false
 * positive rate near the design's ~2 % (8-16 bits an address, 3 bits a word). */
static void test_filter(void **state)
{
	char err[256];
	const int n = 60000;
	size_t cap = (size_t)n * 48 + 64, o = 0;
	char *text = malloc(cap);
	assert_non_null(text);
	o += (size_t)snprintf(text, cap, "ip,provider,first_seen,last_seen\n");
	for (int i = 0; i < n; i++) {
		uint32_t a = 0x01000000u + (uint32_t)i * 2654435761u % 0xd0000000u;
		o += (size_t)snprintf(text + o, cap - o, "%u.%u.%u.%u,p,1700000000,1700003600\n",
				      a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);
	}
	struct resip_table *t = load_text(text);
	free(text);
	struct obs_resip_tab *tab = obs_resip_tab_build(t, true, 0, err, sizeof(err));
	assert_non_null(tab);
	assert_true((uint64_t)(tab->filt_mask + 1) * 64 >= (uint64_t)t->n_addrs * 8);
	for (uint32_t i = 0; i < t->n_addrs; i++)
		assert_true(obs_resip_maybe(tab, t->addrs[i].addr));
	unsigned fp = 0, probes = 0;
	srand(5);
	for (int i = 0; i < 200000; i++) {
		uint32_t a = (uint32_t)rand() << 16 ^ (uint32_t)rand();
		if (resip_find(t, a) != NULL)
			continue;
		probes++;
		fp += obs_resip_maybe(tab, a);
	}
	print_message("filter: %u of %u non-members pass (%.2f %%)\n", fp, probes,
		      100.0 * fp / probes);
	assert_true(fp * 100u < probes * 5u);
	obs_resip_tab_free(tab);
	resip_table_free(t);
}

#define TESTS(T) T(test_known) T(test_reference) T(test_filter)
OBS_TEST_MAIN_EAL(TESTS, "obs-rtab", "256", "-l", "0")
