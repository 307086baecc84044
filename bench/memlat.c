/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * memlat — what a random cache line costs on this machine: the yardstick for the
 * per-stage figures of burst_bench.
 *
 *   memlat [--mib N] [--reads N] [--huge 0|1]
 *
 * Over an N MiB buffer (default 1024: the size of the per-epoch tables and the RESIP
 * hash together), on 2 MB pages when --huge 1 and the kernel has them (else 4 KiB pages,
 * said in the output):
 *   - latency: a dependent chain of random 64-byte reads (each address comes from the
 *     line read before), ns per read — a probe nothing could prefetch;
 *   - throughput: independent random 64-byte reads, K at a time (K = 1..32), ns per read
 *     at the best K — what perfectly overlapped probes (prefetching, bulk lookups) can
 *     reach, bounded by the core's miss buffers, its page walkers and the memory;
 *   - the budget that gives at 14.88 Mpps (67.2 ns a packet): random lines a packet can
 *     touch if it did nothing else.
 * Output: "ml KEY VALUE" lines (bench/run parses them).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

static double ml_now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static uint64_t ml_rng(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

int main(int argc, char **argv)
{
	size_t mib = 1024, reads = 4000000, size, lines;
	int huge = 1, on_huge = 0;
	uint8_t *m = MAP_FAILED;
	uint64_t x = 88172645463325252ull, sum = 0;
	double best = 0;
	int best_k = 0;

	for (int i = 1; i < argc; i++) {
		const char *o = argv[i];

		if (i + 1 >= argc) {
			fprintf(stderr, "memlat: %s needs a value\n", o);
			return 2;
		}
		if (strcmp(o, "--mib") == 0)
			mib = strtoull(argv[++i], NULL, 10);
		else if (strcmp(o, "--reads") == 0)
			reads = strtoull(argv[++i], NULL, 10);
		else if (strcmp(o, "--huge") == 0)
			huge = atoi(argv[++i]);
		else {
			fprintf(stderr, "usage: memlat [--mib N] [--reads N] [--huge 0|1]\n");
			return 2;
		}
	}
	if (mib < 64 || mib > 65536 || reads < 100000) {
		fprintf(stderr, "memlat: --mib 64..65536, --reads >= 100000\n");
		return 2;
	}
	size = mib << 20;
	lines = size / 64;
	if (huge) {
		m = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB,
		         -1, 0);
		on_huge = m != MAP_FAILED;
	}
	if (m == MAP_FAILED)
		m = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED) {
		fprintf(stderr, "memlat: cannot map %zu MiB: %s\n", mib, strerror(errno));
		return 1;
	}
	/* a random cyclic permutation of the lines for the chain (Sattolo), its links in
	 * the lines themselves; every page touched, so no fault is timed */
	{
		uint32_t *perm = malloc(lines * sizeof(*perm));

		if (perm == NULL) {
			fprintf(stderr, "memlat: out of memory\n");
			return 1;
		}
		for (size_t i = 0; i < lines; i++)
			perm[i] = (uint32_t)i;
		for (size_t i = lines - 1; i > 0; i--) {
			size_t j = ml_rng(&x) % i;
			uint32_t t = perm[i];

			perm[i] = perm[j];
			perm[j] = t;
		}
		for (size_t i = 0; i < lines; i++)
			memcpy(m + (size_t)perm[i] * 64, &perm[(i + 1) % lines], sizeof(uint32_t));
		free(perm);
	}

	{
		uint32_t at = 0;
		size_t n = reads / 4;
		double t0 = ml_now();

		for (size_t i = 0; i < n; i++)
			memcpy(&at, m + (size_t)at * 64, sizeof(at));
		printf("ml latency_ns %.1f\n", (ml_now() - t0) / (double)n * 1e9);
		sum += at;
	}
	for (int k = 1; k <= 32; k *= 2) {
		size_t idx[32];
		double t0 = ml_now(), ns;

		for (size_t i = 0; i < reads; i += (size_t)k) {
			for (int j = 0; j < k; j++)
				idx[j] = ml_rng(&x) % lines;
			for (int j = 0; j < k; j++)
				sum += m[idx[j] * 64 + 8];
		}
		ns = (ml_now() - t0) / (double)reads * 1e9;
		printf("ml throughput_ns.k%d %.1f\n", k, ns);
		if (best == 0 || ns < best) {
			best = ns;
			best_k = k;
		}
	}
	printf("ml throughput_ns %.1f\nml throughput_k %d\n", best, best_k);
	printf("ml lines_per_packet_at_14.88 %.1f\n", 1e9 / 14.88e6 / best);
	printf("ml pages %s\nml mib %zu\nml checksum %llu\n", on_huge ? "2M" : "4K", mib,
	       (unsigned long long)(sum & 0xff));
	munmap(m, size);
	return 0;
}
