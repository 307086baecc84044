/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * scanner_table.h — the scanner table in the dataplane (SPEC.md vocabulary "scanner
 * table"): labelled prefixes from a file (prefix_file.h) in an rte_fib (DPDK's DIR-24-8
 * FIB), looked up per source to flag scanner sources and count their packets.
 *
 * Why rte_fib and not rte_lpm: rte_lpm_add() searches the rules of the new rule's depth
 * linearly (and its tbl8 allocation scans the groups), so a list of N /32s built in
 * O(N^2): 100 000 prefixes took over a minute.  rte_fib keeps its rules in an rte_rib
 * tree (O(32) a rule) and answers from the same DIR-24-8 tables.  The worker needs only
 * membership, so every prefix has next hop OBS_SCANNER_HOP; the labels stay in list.
 *
 * Built on the main lcore (obs_scanner_build), immutable afterwards, published and
 * retired through the RCU holder (tables.h, OBS_TABLE_SCANNER).  Workers only call
 * obs_scanner_lookup_bulk() on the pointer they got from obs_tables_get().
 *
 * Reload policy: a file that cannot be read, has any rejected line, or has no prefix is
 * refused (the caller keeps the old table): a bad file never replaces a good table.
 * IPv6 lines are skipped and reported, not refused (the published lists mix them).
 *
 * /16 prefilter (issue 6): the build also sets one bit per /16 that any prefix intersects
 * (a prefix shorter than /16 sets all of its /16s): 8 KiB, cache-resident.  A bulk
 * lookup sends only the addresses whose bit is set to the table; the others get hop 0,
 * which is exactly what the table would have answered: an address outside every listed
 * /16 is outside every prefix, so the FIB (rte_lpm for the exclusion table) gives its
 * default, 0.  So the answer is bit for bit the unfiltered bulk lookup's, and a source
 * outside every listed /16 costs no DRAM or TLB miss in the 16-64 MiB tbl24.  The
 * exclusion table (exclude.h) uses the same obs_pf16_* helpers.
 */
#ifndef OBSCURA_SCANNER_TABLE_H
#define OBSCURA_SCANNER_TABLE_H

#include <stddef.h>
#include <stdint.h>

/* rte_lpm_lookup_bulk() is inline and sizes an array by its argument */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wvla"
#include <rte_lpm.h>
#pragma GCC diagnostic pop
#include <rte_fib.h>

#include "prefix_file.h"

#define OBS_SCANNER_NO_HIT UINT32_MAX
#define OBS_SCANNER_HOP    1u            /* every scanner prefix's next hop; a miss: 0 */

#define OBS_PF16_WORDS (65536u / 64u)   /* one bit per /16: 8 KiB */
#define OBS_PF16_CHUNK 64u              /* addresses per gather/lookup/scatter round */

struct obs_scanner_tab {
	struct rte_fib *fib;        /* next hop OBS_SCANNER_HOP in a prefix, else 0 */
	struct obs_pfx_list list;   /* prefixes and labels, for reports */
	uint64_t generation;
	char path[256];
	uint64_t pf16[OBS_PF16_WORDS];  /* bit a >> 16: some prefix intersects that /16 */
};

/* Set the bits of every /16 the prefix addr/len (host order, host bits clear) meets. */
void obs_pf16_add(uint64_t *bits, uint32_t addr, uint8_t len);

static inline int obs_pf16_test(const uint64_t *bits, uint32_t addr)
{
	return (int)((bits[addr >> 22] >> ((addr >> 16) & 63u)) & 1u);
}

/* One chunk's gather, addr[base..end): hop 0 for each, and the addresses whose /16 bit
 * is set copied to a[] with their place in idx[]; their count.  Branch-free: a clear
 * bit leaves its slot to be overwritten.  Scanner sources are a third of the bench's
 * packets, at random places in a burst, and a branch here cost burst_bench's scanner
 * stage 27 cycles/packet against 19 (a lookup per set bit instead of one bulk: 25). */
static inline unsigned obs_pf16_gather(const uint64_t *bits, const uint32_t *addr,
                                       uint32_t *hop, unsigned base, unsigned end,
                                       uint32_t *a, uint8_t *idx)
{
	unsigned m = 0;

	for (unsigned i = base; i < end; i++) {
		hop[i] = 0;
		a[m] = addr[i];
		idx[m] = (uint8_t)(i - base);
		m += (unsigned)obs_pf16_test(bits, addr[i]);
	}
	return m;
}

/* rte_lpm_lookup_bulk(lpm, addr, hop, n) for any n, answering hop 0 without touching the
 * LPM for the addresses whose /16 bit is clear (see the header comment for why that is
 * the same answer).  The rest are gathered, looked up in one bulk, scattered back. */
static inline void obs_pf16_lpm_lookup_bulk(const struct rte_lpm *lpm, const uint64_t *bits,
                                            const uint32_t *addr, uint32_t *hop, unsigned n)
{
	uint32_t a[OBS_PF16_CHUNK], h[OBS_PF16_CHUNK];
	uint8_t idx[OBS_PF16_CHUNK];

	for (unsigned base = 0; base < n; base += OBS_PF16_CHUNK) {
		unsigned end = n - base < OBS_PF16_CHUNK ? n : base + OBS_PF16_CHUNK;
		unsigned m = obs_pf16_gather(bits, addr, hop, base, end, a, idx);

		if (m == 0)
			continue;
		rte_lpm_lookup_bulk(lpm, a, h, m);
		for (unsigned j = 0; j < m; j++)
			hop[base + idx[j]] = h[j];
	}
}

/* The same for the scanner's rte_fib (64-bit next hops, narrowed: they are 0 or
 * OBS_SCANNER_HOP). */
static inline void obs_pf16_fib_lookup_bulk(const struct rte_fib *fib, const uint64_t *bits,
                                            const uint32_t *addr, uint32_t *hop, unsigned n)
{
	uint32_t a[OBS_PF16_CHUNK];
	uint64_t h[OBS_PF16_CHUNK];
	uint8_t idx[OBS_PF16_CHUNK];

	for (unsigned base = 0; base < n; base += OBS_PF16_CHUNK) {
		unsigned end = n - base < OBS_PF16_CHUNK ? n : base + OBS_PF16_CHUNK;
		unsigned m = obs_pf16_gather(bits, addr, hop, base, end, a, idx);

		if (m == 0)
			continue;
		/* the lookup does not write the FIB; its prototype is not const */
		rte_fib_lookup_bulk((struct rte_fib *)(uintptr_t)fib, a, h, (int)m);
		for (unsigned j = 0; j < m; j++)
			hop[base + idx[j]] = (uint32_t)h[j];
	}
}

/* Build from path.  NULL with err set ("PATH:LINE: reason (N rejected lines)") when the
 * file is unreadable, has rejected lines or holds no IPv4 prefix. */
struct obs_scanner_tab *obs_scanner_build(const char *path, char *err, size_t errlen);
void obs_scanner_free(void *tab);

/* hop[i] is OBS_SCANNER_HOP when addr[i] (host order) lies in a scanner prefix, else 0
 * (obs_scanner_hit); the value is rte_fib_lookup_bulk's, prefilter or not. */
static inline void obs_scanner_lookup_bulk(const struct obs_scanner_tab *t, const uint32_t *addr,
                                           uint32_t *hop, unsigned n)
{
	obs_pf16_fib_lookup_bulk(t->fib, t->pf16, addr, hop, n);
}

static inline int obs_scanner_hit(uint32_t hop)
{
	return hop == OBS_SCANNER_HOP;
}

#endif
