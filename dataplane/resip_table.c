/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * resip_table.c — build and bulk lookup of the dataplane RESIP set; see resip_table.h.
 *
 * The hash is created with the extendable bucket table so every insert of the build
 * succeeds however keys collide, and without any concurrency flag: the table is never
 * written after the build, so readers need no lock (DPDK rte_hash: lookups are safe
 * against a table nobody writes).  Records and windows live in rte_malloc memory on the
 * workers' socket.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_malloc.h>
#include <rte_prefetch.h>

#include "resip_table.h"

static atomic_uint_fast64_t resip_generation;

struct obs_resip_tab *obs_resip_tab_build(const struct resip_table *t, bool window_check,
					  int socket_id, char *err, size_t errlen)
{
	char name[RTE_HASH_NAMESIZE];
	struct obs_resip_tab *tab;
	uint64_t gen = atomic_fetch_add(&resip_generation, 1) + 1;

	if (t == NULL || t->n_addrs == 0) {
		snprintf(err, errlen, "empty RESIP table");
		return NULL;
	}
	tab = rte_zmalloc_socket("resip_tab", sizeof(*tab), RTE_CACHE_LINE_SIZE, socket_id);
	if (tab == NULL) {
		snprintf(err, errlen, "out of memory (RESIP table header)");
		return NULL;
	}
	tab->generation = gen;
	tab->window_check = window_check;
	tab->n_addrs = t->n_addrs;
	tab->n_wins = t->n_rows;
	tab->n_providers = t->n_providers;
	memcpy(tab->providers, t->providers, sizeof(tab->providers));
	snprintf(tab->path, sizeof(tab->path), "%s", t->path);
	tab->recs = rte_malloc_socket("resip_recs", (size_t)t->n_addrs * sizeof(*tab->recs),
				      RTE_CACHE_LINE_SIZE, socket_id);
	tab->wins = rte_malloc_socket("resip_wins", (size_t)t->n_rows * sizeof(*tab->wins),
				      RTE_CACHE_LINE_SIZE, socket_id);
	if (tab->recs == NULL || tab->wins == NULL) {
		snprintf(err, errlen, "out of memory (%u RESIP addresses)", t->n_addrs);
		goto fail;
	}
	snprintf(name, sizeof(name), "resip_%llu", (unsigned long long)gen);
	struct rte_hash_parameters hp = {
		.name = name,
		.entries = t->n_addrs < 64 ? 64 : t->n_addrs,
		.key_len = sizeof(uint32_t),
		.hash_func = rte_hash_crc,
		.hash_func_init_val = 0,
		.socket_id = socket_id,
		.extra_flag = RTE_HASH_EXTRA_FLAGS_EXT_TABLE,
	};
	tab->h = rte_hash_create(&hp);
	if (tab->h == NULL) {
		/* DPDK 22.11 leaves rte_errno at the ENOENT of its earlier name lookup when the
		 * allocation itself fails: only EEXIST/EINVAL are anything but memory */
		int e = rte_errno == EEXIST || rte_errno == EINVAL ? rte_errno : ENOMEM;

		snprintf(err, errlen, "rte_hash_create(%u entries): %s", hp.entries,
		         e == ENOMEM ? "out of DPDK memory" : rte_strerror(e));
		goto fail;
	}
	for (uint32_t i = 0; i < t->n_rows; i++) {
		tab->wins[i].first_ns = t->rows[i].first_ns;
		tab->wins[i].last_ns = t->rows[i].last_ns;
		tab->wins[i].provider_bit = 1ull << t->rows[i].provider;
	}
	for (uint32_t i = 0; i < t->n_addrs; i++) {
		const struct resip_addr *a = &t->addrs[i];
		uint32_t end = i + 1 < t->n_addrs ? t->addrs[i + 1].row0 : t->n_rows;
		tab->recs[i].providers = a->providers;
		tab->recs[i].win0 = a->row0;
		tab->recs[i].n_wins = end - a->row0;
		int rc = rte_hash_add_key_data(tab->h, &a->addr, (void *)(uintptr_t)i);
		if (rc < 0) {
			snprintf(err, errlen, "rte_hash_add_key_data: %s", strerror(-rc));
			goto fail;
		}
	}
	/* The hash: buckets of 8 signatures + key slots (key 4 B + data 8 B, padded to 16),
	 * sized by DPDK to the next power of two of entries; an estimate for `tables status`. */
	size_t pow2 = 1;
	while (pow2 < hp.entries)
		pow2 <<= 1;
	tab->bytes = sizeof(*tab) + (size_t)t->n_addrs * sizeof(*tab->recs) +
		     (size_t)t->n_rows * sizeof(*tab->wins) + pow2 / 8 * 64 * 2 + (size_t)hp.entries * 16;
	return tab;
fail:
	obs_resip_tab_free(tab);
	return NULL;
}

void obs_resip_tab_free(void *p)
{
	struct obs_resip_tab *tab = p;
	if (tab == NULL)
		return;
	rte_hash_free(tab->h);
	rte_free(tab->recs);
	rte_free(tab->wins);
	rte_free(tab);
}

unsigned obs_resip_classify_burst(const struct obs_resip_tab *tab, const uint32_t *src,
				  const int64_t *t_ns, unsigned n, uint64_t *mask)
{
	const void *keys[OBS_RESIP_BULK];
	void *data[OBS_RESIP_BULK];
	uint64_t hits = 0;
	unsigned n_resip = 0;

	if (n > OBS_RESIP_BULK)
		n = OBS_RESIP_BULK;
	for (unsigned i = 0; i < n; i++) {
		keys[i] = &src[i];
		mask[i] = 0;
	}
	if (n == 0 || rte_hash_lookup_bulk_data(tab->h, keys, n, &hits, data) <= 0)
		return 0;
	/* prefetch the hit records before touching them (l3fwd *_hlm.h habit) */
	for (uint64_t m = hits; m; m &= m - 1)
		rte_prefetch0(&tab->recs[(uintptr_t)data[__builtin_ctzll(m)]]);
	for (uint64_t m = hits; m; m &= m - 1) {
		unsigned i = (unsigned)__builtin_ctzll(m);
		const struct obs_resip_rec *r = &tab->recs[(uintptr_t)data[i]];
		uint64_t pm;
		if (!tab->window_check) {
			pm = r->providers;
		} else {
			pm = 0;
			const struct obs_resip_win *w = &tab->wins[r->win0];
			for (uint32_t k = 0; k < r->n_wins; k++)
				if (w[k].first_ns <= t_ns[i] && t_ns[i] <= w[k].last_ns)
					pm |= w[k].provider_bit;
		}
		mask[i] = pm;
		n_resip += pm != 0;
	}
	return n_resip;
}
