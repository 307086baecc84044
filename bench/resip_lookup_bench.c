/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * resip_lookup_bench — the dataplane RESIP set's build time, memory and lookup cost per
 * packet (bucket lookup on bursts of 32, then the window check), with an
 * independent check of every answer against resip_match() (binary search) on the same
 * table.  EAL with --no-huge so it runs anywhere:
 *
 *   bench/gen_resip.py --rows 6200000 --out /tmp/resip-6.2M.csv
 *   build-r/bench/resip_lookup_bench --no-huge -m 4096 --no-pci -l 0 -- /tmp/resip-6.2M.csv
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_malloc.h>

#include "resip_table.h"

#define BURST 32
#define NBURST 200000

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	int n = rte_eal_init(argc, argv);
	char err[512];
	if (n < 0) {
		fprintf(stderr, "EAL init failed\n");
		return 1;
	}
	argc -= n;
	argv += n;
	if (argc < 2) {
		fprintf(stderr, "usage: resip_lookup_bench EAL-ARGS -- FILE\n");
		return 2;
	}
	double t0 = now();
	struct resip_table *t = resip_load(argv[1], NULL, NULL, err, sizeof(err));
	if (t == NULL) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	double t1 = now();
	struct rte_malloc_socket_stats s0, s1;
	rte_malloc_get_socket_stats(0, &s0);
	struct obs_resip_tab *tab = obs_resip_tab_build(t, true, 0, err, sizeof(err));
	if (tab == NULL) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	double t2 = now();
	rte_malloc_get_socket_stats(0, &s1);
	printf("load %.3f s, build the bucket table %.3f s: %u addresses, %u windows; buckets+records %.1f MiB (rte_malloc)\n",
	       t1 - t0, t2 - t1, tab->n_addrs, tab->n_wins,
	       (double)(s1.heap_allocsz_bytes - s0.heap_allocsz_bytes) / 1048576.0);

	/* bursts: hit share 1/2, times spread over the table's year */
	uint32_t *src = malloc(sizeof(uint32_t) * BURST * NBURST);
	int64_t *ts = malloc(sizeof(int64_t) * BURST * NBURST);
	uint64_t mask[BURST];
	uint32_t x = 99;
	for (size_t i = 0; i < (size_t)BURST * NBURST; i++) {
		x = x * 1664525u + 1013904223u;
		src[i] = (i & 1) ? t->addrs[x % t->n_addrs].addr : x;
		ts[i] = (1704067200LL + (int64_t)(x % (366u * 86400u))) * 1000000000LL;
	}
	for (int wc = 1; wc >= 0; wc--) {
		tab->window_check = wc;
		uint64_t n_resip = 0, c0 = rte_rdtsc();
		for (size_t b = 0; b < NBURST; b++)
			n_resip += obs_resip_classify_burst(tab, src + b * BURST, ts + b * BURST, BURST, mask);
		uint64_t c1 = rte_rdtsc();
		printf("classify, window check %s: %.1f cycles per packet (%.1f ns at %.2f GHz), %llu of %u RESIP\n",
		       wc ? "on " : "off", (double)(c1 - c0) / (BURST * (double)NBURST),
		       (double)(c1 - c0) / (BURST * (double)NBURST) / (rte_get_tsc_hz() / 1e9),
		       rte_get_tsc_hz() / 1e9, (unsigned long long)n_resip, BURST * NBURST);
	}
	/* check every answer of a slice against the loader's own binary search */
	tab->window_check = true;
	size_t bad = 0;
	for (size_t b = 0; b < 20000; b++) {
		obs_resip_classify_burst(tab, src + b * BURST, ts + b * BURST, BURST, mask);
		for (unsigned i = 0; i < BURST; i++) {
			const struct resip_addr *a = resip_find(t, src[b * BURST + i]);
			uint64_t want = a ? resip_match(t, a, ts[b * BURST + i], true) : 0;
			bad += want != mask[i];
		}
	}
	printf("check against resip_match: %zu mismatches in %u packets\n", bad, 20000 * BURST);
	obs_resip_tab_free(tab);
	resip_table_free(t);
	free(src);
	free(ts);
	rte_eal_cleanup();
	return bad != 0;
}
