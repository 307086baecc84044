/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * resip_table.h — the dataplane's RESIP set (SPEC.md B1): a bucketised open-addressing
 * table keyed by IPv4 source (host byte order), 8 keys and their record indices in one
 * 64-byte line, and an array of 32-byte records {providers, the window inline when the
 * address has one row, else where its windows are}.  Built on the main lcore from a
 * loaded resip_table (resip_load.h), then immutable; published with
 * obs_tables_swap(OBS_TABLE_RESIP, tab, obs_resip_tab_free) (tables.h) and read by the
 * workers with obs_tables_get() once per burst.
 *
 * Why one line: almost every darknet source is NOT in the table, so the miss is the
 * common case; here it reads the key's bucket line and nothing else (the next line only
 * when the bucket is full, ~8 % at the table's load), and the worker prefetches that
 * line in its pass 1 (obs_resip_prefetch()), so the line arrives overlapped with the
 * burst's other loads.  A hit reads one more line (its record: providers and, for the
 * ~85 % of addresses with one row, the window itself); several rows, one line more.
 * (The rte_hash this replaces read a signature bucket, then a key slot, then the data,
 * and on a miss both of its candidate buckets.)
 *
 * The member filter in front (obs_resip_maybe()): a register-blocked Bloom filter, one
 * 64-bit word per address with 3 bits set, 8-16 bits per address (~8 MB for 6.2 M
 * addresses: L3-resident, where the 64 MB of buckets are not).  No false negatives, so
 * a "no" is exact and the bucket line is never read; 2-4 % of non-members pass and
 * read their bucket as before.  The worker prefetches the filter word in pass 1 and
 * reads buckets only for what the filter passes.
 *
 * Workers call obs_resip_classify_burst().  No allocation, no locks, no writes to the
 * table.
 */
#ifndef OBSCURA_RESIP_TABLE_H
#define OBSCURA_RESIP_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "exchange.h"
#include "resip_load.h"

#define OBS_RESIP_BULK 64   /* sources per classify call */
#define OBS_RESIP_WAYS 8    /* keys per bucket line */

struct obs_resip_win {
	int64_t first_ns;
	int64_t last_ns;
	uint64_t provider_bit;
};

/* One address (32 bytes, two a line). */
struct obs_resip_rec {
	uint64_t providers;     /* every provider of the address */
	int64_t first_ns;       /* n_wins == 1: its window, inline (provider = providers) */
	int64_t last_ns;
	uint32_t win0;          /* n_wins > 1: windows wins[win0 .. win0 + n_wins) */
	uint32_t n_wins;
};

/* One bucket line: key[i] is an address whose record is recs[rec[i] - 1]; rec[i] == 0
 * is an empty way (so address 0 needs no special case).  A bucket with no empty way is
 * full: its keys' overflow went on to the next bucket (linear probing, bucket by
 * bucket). */
struct obs_resip_bkt {
	uint32_t key[OBS_RESIP_WAYS];
	uint32_t rec[OBS_RESIP_WAYS];
} __attribute__((aligned(64)));

struct obs_resip_tab {
	struct obs_resip_bkt *bkt;
	uint32_t bkt_mask;      /* buckets - 1 (a power of two) */
	uint64_t *filt;         /* member filter: filt_mask + 1 words (obs_resip_maybe) */
	uint32_t filt_mask;
	struct obs_resip_rec *recs;
	struct obs_resip_win *wins;
	uint32_t n_addrs;
	uint32_t n_wins;        /* windows of the addresses with several rows */
	uint32_t n_providers;
	bool window_check;      /* SPEC.md B1: the window check can be switched off */
	uint64_t generation;
	size_t bytes;           /* buckets + records + windows + filter */
	char path[256];
	char providers[RESIP_MAX_PROVIDERS][RESIP_PROVIDER_MAXLEN + 1];
};

/* Main lcore.  NULL with err set on failure (the caller keeps its old table). */
struct obs_resip_tab *obs_resip_tab_build(const struct resip_table *t, bool window_check,
					  int socket_id, char *err, size_t errlen);
/* Free function for obs_tables_swap (takes void *). */
void obs_resip_tab_free(void *tab);

/* The bucket addr's lookup starts at. */
static inline const struct obs_resip_bkt *obs_resip_bucket(const struct obs_resip_tab *tab,
							   uint32_t addr)
{
	return &tab->bkt[obx_src_hash(addr) & tab->bkt_mask];
}

/* The filter's hash of addr: the word index in the high bits, the 3 bit positions in the
 * low 18 (independent of the bucket index, which is obx_src_hash). */
static inline uint64_t obs_resip_filt_hash(uint32_t addr)
{
	uint64_t x = (uint64_t)addr * 0x9e3779b97f4a7c15ull;

	x ^= x >> 29;
	x *= 0xbf58476d1ce4e5b9ull;
	return x ^ (x >> 32);
}

static inline uint64_t obs_resip_filt_bits(uint64_t h)
{
	return 1ull << (h & 63) | 1ull << (h >> 6 & 63) | 1ull << (h >> 12 & 63);
}

static inline const uint64_t *obs_resip_filt_word(const struct obs_resip_tab *tab, uint64_t h)
{
	return &tab->filt[(uint32_t)(h >> 40) & tab->filt_mask];
}

/* Workers, pass 1: bring addr's filter word in ahead of obs_resip_maybe(). */
static inline void obs_resip_filt_prefetch(const struct obs_resip_tab *tab, uint32_t addr)
{
	__builtin_prefetch(obs_resip_filt_word(tab, obs_resip_filt_hash(addr)), 0, 3);
}

/* false: addr is certainly not in the table (exact); true: it may be (look it up). */
static inline bool obs_resip_maybe(const struct obs_resip_tab *tab, uint32_t addr)
{
	const uint64_t h = obs_resip_filt_hash(addr), b = obs_resip_filt_bits(h);

	return (*obs_resip_filt_word(tab, h) & b) == b;
}

/* Workers, pass 1: bring addr's bucket line in ahead of obs_resip_classify_burst(). */
static inline void obs_resip_prefetch(const struct obs_resip_tab *tab, uint32_t addr)
{
	__builtin_prefetch(obs_resip_bucket(tab, addr), 0, 3);
}

/* Workers: for src[0..n) (n ≤ OBS_RESIP_BULK) at times t_ns[0..n), mask[i] = providers
 * for which packet i is RESIP traffic (0: not RESIP traffic).  Returns how many are. */
unsigned obs_resip_classify_burst(const struct obs_resip_tab *tab, const uint32_t *src,
				  const int64_t *t_ns, unsigned n, uint64_t *mask);

/* The same, and *members gets bit i set when src[i] is in the table at all (whatever
 * the time: the worker caches "not a member" in the source record, epoch.h). */
unsigned obs_resip_classify_members(const struct obs_resip_tab *tab, const uint32_t *src,
				    const int64_t *t_ns, unsigned n, uint64_t *mask,
				    uint64_t *members);

#endif
