/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * covstore_mem.c — memory of the control plane's coverage store per million cells,
 * computed (cov_store_bytes: table + slot-set capacity) and measured (resident set
 * growth, which includes malloc's per-allocation overhead).
 *
 *   covstore_mem [CELLS] [SLOTS_PER_CELL] [SAMPLE]     (default 1000000 1 4096)
 *
 * Cells are distinct (period, /16, port) keys with SLOTS_PER_CELL random slots each;
 * with SLOTS_PER_CELL > SAMPLE/32 they are dense bitmaps of SAMPLE bits.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control/scan/covstore.h"
#include "tests/fixtures/proc_status.h"

int main(int argc, char **argv)
{
	unsigned long cells = argc > 1 ? strtoul(argv[1], NULL, 10) : 1000000;
	unsigned per = argc > 2 ? (unsigned)strtoul(argv[2], NULL, 10) : 1;
	unsigned sample = argc > 3 ? (unsigned)strtoul(argv[3], NULL, 10) : 4096;
	struct cov_store s;
	uint32_t *sl;
	long r0, r1;
	uint64_t x = 88172645463325252ull;

	if (cells == 0 || per == 0 || sample == 0 || per > sample) {
		fprintf(stderr, "usage: covstore_mem [CELLS>0] [SLOTS_PER_CELL 1..SAMPLE] [SAMPLE>0]\n");
		return 2;
	}
	sl = malloc(per * sizeof(*sl));
	if (sl == NULL || cov_store_init(&s, sample, 16, 3) != 0)
		return 1;
	r0 = proc_status_kb("VmRSS");
	for (unsigned long i = 0; i < cells; i++) {
		struct cov_key k = { 650 + (uint32_t)(i % 12), (uint32_t)((i / 12) % 65536) << 16,
		                     (uint16_t)(i / 12 / 65536), 6 };
		for (unsigned j = 0; j < per; j++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			sl[j] = (uint32_t)(x % sample);
		}
		if (cov_store_add(&s, &k, per, 0, sl, per) != 0) {
			fprintf(stderr, "covstore_mem: out of memory at %lu cells\n", i);
			return 1;
		}
	}
	r1 = proc_status_kb("VmRSS");
	printf("cells %u (dense %u), %u slots/cell, |S| %u: computed %.1f bytes/cell "
	       "(%.1f MB per million), measured RSS %.1f bytes/cell (%.1f MB per million)\n",
	       s.cells.n, s.n_dense, per, sample, (double)cov_store_bytes(&s) / s.cells.n,
	       (double)cov_store_bytes(&s) / s.cells.n, (double)(r1 - r0) * 1024 / s.cells.n,
	       (double)(r1 - r0) * 1024 / s.cells.n);
	cov_store_fini(&s);
	free(sl);
	return 0;
}
