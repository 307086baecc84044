/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * resip_table.h — the dataplane's RESIP set (SPEC.md B1): an rte_hash keyed by IPv4
 * source (host byte order) whose data is an index into an array of records {provider set,
 * windows}.  Built on the main lcore from a loaded resip_table (resip_load.h), then
 * immutable; published with obs_tables_swap(OBS_TABLE_RESIP, tab, obs_resip_tab_free)
 * (tables.h) and read by the workers with obs_tables_get() once per burst.
 *
 * Workers call obs_resip_classify_burst(): one rte_hash_lookup_bulk_data for up to
 * OBS_RESIP_BULK sources, then the window check for the hits only.  No allocation, no
 * locks, no writes to the table.
 */
#ifndef OBSCURA_RESIP_TABLE_H
#define OBSCURA_RESIP_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "resip_load.h"

#define OBS_RESIP_BULK 64   /* RTE_HASH_LOOKUP_BULK_MAX */

struct rte_hash;

struct obs_resip_win {
	int64_t first_ns;
	int64_t last_ns;
	uint64_t provider_bit;
};

struct obs_resip_rec {
	uint64_t providers;     /* every provider of the address */
	uint32_t win0;          /* windows wins[win0 .. win0 + n_wins) */
	uint32_t n_wins;
};

struct obs_resip_tab {
	struct rte_hash *h;
	struct obs_resip_rec *recs;
	struct obs_resip_win *wins;
	uint32_t n_addrs;
	uint32_t n_wins;
	uint32_t n_providers;
	bool window_check;      /* SPEC.md B1: the window check can be switched off */
	uint64_t generation;
	size_t bytes;           /* recs + wins + the hash's own memory (estimate) */
	char path[256];
	char providers[RESIP_MAX_PROVIDERS][RESIP_PROVIDER_MAXLEN + 1];
};

/* Main lcore.  NULL with err set on failure (the caller keeps its old table). */
struct obs_resip_tab *obs_resip_tab_build(const struct resip_table *t, bool window_check,
					  int socket_id, char *err, size_t errlen);
/* Free function for obs_tables_swap (takes void *). */
void obs_resip_tab_free(void *tab);

/* Workers: for src[0..n) (n ≤ OBS_RESIP_BULK) at times t_ns[0..n), mask[i] = providers
 * for which packet i is RESIP traffic (0: not RESIP traffic).  Returns how many are. */
unsigned obs_resip_classify_burst(const struct obs_resip_tab *tab, const uint32_t *src,
				  const int64_t *t_ns, unsigned n, uint64_t *mask);

#endif
