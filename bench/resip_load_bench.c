/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * resip_load_bench — load a RESIP table file with dataplane/resip_load.c and report the
 * wall time, the table's own bytes and the process's peak RSS (getrusage), as the issue 4
 * note asks for a 6.2-million-row table:
 *
 *   bench/gen_resip.py --rows 6200000 --out /tmp/resip-6.2M.csv
 *   build-r/bench/resip_load_bench /tmp/resip-6.2M.csv
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <sys/resource.h>

#include "resip_load.h"

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	struct resip_load_report rep;
	struct resip_load_opts o = { .max_rejected = 0 };
	struct rusage ru;
	char err[512];
	if (argc < 2) {
		fprintf(stderr, "usage: resip_load_bench FILE [REPEAT]\n");
		return 2;
	}
	int repeat = argc > 2 ? atoi(argv[2]) : 1;
	for (int i = 0; i < repeat; i++) {
		double t0 = now();
		struct resip_table *t = resip_load(argv[1], &o, &rep, err, sizeof(err));
		double t1 = now();
		if (t == NULL) {
			fprintf(stderr, "%s\n", err);
			return 1;
		}
		getrusage(RUSAGE_SELF, &ru);
		printf("load %.3f s: %llu lines, %u rows, %u addresses, %u providers, %llu duplicates, "
		       "%llu rejected; table %.1f MiB; peak RSS %.1f MiB\n",
		       t1 - t0, (unsigned long long)rep.n_lines, t->n_rows, t->n_addrs, t->n_providers,
		       (unsigned long long)rep.n_duplicates, (unsigned long long)rep.n_rejected,
		       resip_table_bytes(t) / 1048576.0, ru.ru_maxrss / 1024.0);
		/* control-plane lookup (binary search) cost, for comparison with the rte_hash */
		uint64_t hits = 0;
		double t2 = now();
		uint32_t x = 12345;
		for (int k = 0; k < 5000000; k++) {
			x = x * 1664525u + 1013904223u;
			hits += resip_find(t, k & 1 ? x : t->addrs[x % t->n_addrs].addr) != NULL;
		}
		double t3 = now();
		printf("resip_find (binary search): %.1f ns per lookup (%llu hits of 5000000)\n",
		       (t3 - t2) * 1e9 / 5e6, (unsigned long long)hits);
		resip_table_free(t);
	}
	return 0;
}
