/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * scanner_load_bench — build the dataplane's scanner table (scanner_table.c) from a
 * prefix file of N random prefixes and report the build time, so that a table of
 * hundreds of thousands of scanner addresses can be seen to load in linear time:
 *
 *   scanner_load_bench N [SEED] [-- EAL args]      (default EAL: --no-huge -m 4096)
 *
 * The file mixes the lengths of published scanner lists: 90 % /32 addresses, the rest
 * /16 .. /31, at random (a fixed xorshift stream), written to a temporary file first.
 * Prints "scanner_load N prefixes S s".
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>

#include "bench_eal.h"
#include "scanner_table.h"

static uint64_t rs = 88172645463325252ull;

static uint32_t rnd(void)
{
	rs ^= rs << 13;
	rs ^= rs >> 7;
	rs ^= rs << 17;
	return (uint32_t)(rs >> 16);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	char *def_eal[] = { argv[0], "--no-huge", "-m", "4096", "--no-pci", "-l", "0",
	                    "--log-level", "lib.*:error", NULL };
	char path[] = "/tmp/scanner_load_XXXXXX", err[512];
	struct obs_scanner_tab *t;
	unsigned long n;
	int eal_at = argc, fd;
	FILE *f;
	double t0, t1;

	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--") == 0) {
			eal_at = i;
			break;
		}
	if (eal_at < 2) {
		fprintf(stderr, "usage: scanner_load_bench N [SEED] [-- EAL args]\n");
		return 2;
	}
	n = strtoul(argv[1], NULL, 10);
	if (eal_at > 2)
		rs ^= strtoull(argv[2], NULL, 10) * 0x9e3779b97f4a7c15ull;
	if (bench_eal_init("scanner_load_bench", argc, argv, eal_at, def_eal,
	                   (int)(sizeof(def_eal) / sizeof(def_eal[0])) - 1) != 0)
		return 1;
	fd = mkstemp(path);
	if (fd < 0 || (f = fdopen(fd, "w")) == NULL) {
		perror("scanner_load_bench: temporary file");
		return 1;
	}
	for (unsigned long i = 0; i < n; i++) {
		uint8_t len = (uint8_t)(rnd() % 10 ? 32 : 16 + rnd() % 16);
		uint32_t a = (rnd() << 8 ^ rnd()) & (uint32_t)(0xffffffffull << (32 - len));

		fprintf(f, "%u.%u.%u.%u/%u scanner%lu\n", a >> 24, (a >> 16) & 255, (a >> 8) & 255,
		        a & 255, len, i % 7);
	}
	fclose(f);
	t0 = now();
	t = obs_scanner_build(path, err, sizeof(err));
	t1 = now();
	unlink(path);
	if (t == NULL) {
		fprintf(stderr, "scanner_load_bench: %s\n", err);
		return 1;
	}
	printf("scanner_load %lu prefixes %.3f s\n", n, t1 - t0);
	obs_scanner_free(t);
	rte_eal_cleanup();
	return 0;
}
