/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * resip_table.c — build and bulk lookup of the dataplane RESIP set; see resip_table.h.
 *
 * The table is never written after the build, so readers need no lock.  Buckets,
 * records and windows live in rte_malloc memory on the workers' socket (hugepages in
 * production: a random bucket costs no TLB walk of small pages).
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_malloc.h>
#include <rte_prefetch.h>

#include "resip_table.h"

static atomic_uint_fast64_t resip_generation;

struct obs_resip_tab *obs_resip_tab_build(const struct resip_table *t, bool window_check,
					  int socket_id, char *err, size_t errlen)
{
	struct obs_resip_tab *tab;
	uint64_t gen = atomic_fetch_add(&resip_generation, 1) + 1;
	uint32_t n_bkt = 1, n_wins;

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
	/* at most 6 keys a bucket on average (75 % of the ways): some way is always empty,
	 * so every probe ends, and ~92 % of buckets have room (a miss reads one line) */
	while ((uint64_t)n_bkt * (OBS_RESIP_WAYS * 3 / 4) < t->n_addrs)
		n_bkt <<= 1;
	tab->bkt_mask = n_bkt - 1;
	tab->bkt = rte_zmalloc_socket("resip_bkt", (size_t)n_bkt * sizeof(*tab->bkt),
				      RTE_CACHE_LINE_SIZE, socket_id);
	/* the member filter: a power of two of words, 8 to 16 bits an address */
	{
		uint64_t nw = 1;

		while (nw * 64 < (uint64_t)t->n_addrs * 8)
			nw <<= 1;
		tab->filt_mask = (uint32_t)(nw - 1);
		tab->filt = rte_zmalloc_socket("resip_filt", nw * sizeof(uint64_t),
		                               RTE_CACHE_LINE_SIZE, socket_id);
	}
	tab->recs = rte_malloc_socket("resip_recs", (size_t)t->n_addrs * sizeof(*tab->recs),
				      RTE_CACHE_LINE_SIZE, socket_id);
	if (tab->bkt == NULL || tab->recs == NULL || tab->filt == NULL) {
		snprintf(err, errlen, "out of DPDK memory (%u RESIP addresses, %u rows)",
		         t->n_addrs, t->n_rows);
		goto fail;
	}
	/* windows: only those of addresses with several rows (one row is inline) */
	n_wins = 0;
	for (uint32_t i = 0; i < t->n_addrs; i++) {
		uint32_t end = i + 1 < t->n_addrs ? t->addrs[i + 1].row0 : t->n_rows;

		if (end - t->addrs[i].row0 > 1)
			n_wins += end - t->addrs[i].row0;
	}
	tab->n_wins = n_wins;
	tab->wins = rte_malloc_socket("resip_wins", (size_t)(n_wins ? n_wins : 1) *
				      sizeof(*tab->wins), RTE_CACHE_LINE_SIZE, socket_id);
	if (tab->wins == NULL) {
		snprintf(err, errlen, "out of DPDK memory (%u RESIP windows)", n_wins);
		goto fail;
	}
	for (uint32_t i = 0, w = 0; i < t->n_addrs; i++) {
		const struct resip_addr *a = &t->addrs[i];
		uint32_t end = i + 1 < t->n_addrs ? t->addrs[i + 1].row0 : t->n_rows;
		struct obs_resip_rec *r = &tab->recs[i];
		uint32_t b = obx_src_hash(a->addr) & tab->bkt_mask;

		r->providers = a->providers;
		{
			const uint64_t fh = obs_resip_filt_hash(a->addr);

			tab->filt[(uint32_t)(fh >> 40) & tab->filt_mask] |= obs_resip_filt_bits(fh);
		}
		r->n_wins = end - a->row0;
		r->win0 = r->n_wins > 1 ? w : 0;
		for (uint32_t k = 0; r->n_wins > 1 && k < r->n_wins; k++, w++) {
			tab->wins[w].first_ns = t->rows[a->row0 + k].first_ns;
			tab->wins[w].last_ns = t->rows[a->row0 + k].last_ns;
			tab->wins[w].provider_bit = 1ull << t->rows[a->row0 + k].provider;
		}
		r->first_ns = r->n_wins == 1 ? t->rows[a->row0].first_ns : 0;
		r->last_ns = r->n_wins == 1 ? t->rows[a->row0].last_ns : -1;
		/* the loader's addresses are unique: the first empty way from the home bucket */
		for (;; b = (b + 1) & tab->bkt_mask) {
			struct obs_resip_bkt *bk = &tab->bkt[b];
			unsigned way;

			for (way = 0; way < OBS_RESIP_WAYS && bk->rec[way] != 0; way++)
				;
			if (way < OBS_RESIP_WAYS) {
				bk->key[way] = a->addr;
				bk->rec[way] = i + 1;
				break;
			}
		}
	}
	tab->bytes = sizeof(*tab) + (size_t)n_bkt * sizeof(*tab->bkt) +
		     (size_t)t->n_addrs * sizeof(*tab->recs) + (size_t)n_wins * sizeof(*tab->wins) +
		     ((size_t)tab->filt_mask + 1) * sizeof(uint64_t);
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
	rte_free(tab->bkt);
	rte_free(tab->filt);
	rte_free(tab->recs);
	rte_free(tab->wins);
	rte_free(tab);
}

/* Record index + 1 of addr, 0 when it is not in the table.  Ends at the first bucket
 * with an empty way (there always is one: the load is at most 3/4). */
static inline uint32_t obs_resip_find(const struct obs_resip_tab *tab, uint32_t addr)
{
	uint32_t b = obx_src_hash(addr) & tab->bkt_mask;

	for (;; b = (b + 1) & tab->bkt_mask) {
		const struct obs_resip_bkt *bk = &tab->bkt[b];
		uint32_t hit = 0, empty = 0;

		/* branch-free over the 8 ways: the compiler makes it two vector compares */
		for (unsigned w = 0; w < OBS_RESIP_WAYS; w++) {
			hit |= (bk->key[w] == addr && bk->rec[w] != 0) ? bk->rec[w] : 0;
			empty |= bk->rec[w] == 0;
		}
		if (hit != 0 || empty)
			return hit;
	}
}

unsigned obs_resip_classify_burst(const struct obs_resip_tab *tab, const uint32_t *src,
				  const int64_t *t_ns, unsigned n, uint64_t *mask)
{
	uint64_t members;

	return obs_resip_classify_members(tab, src, t_ns, n, mask, &members);
}

unsigned obs_resip_classify_members(const struct obs_resip_tab *tab, const uint32_t *src,
				    const int64_t *t_ns, unsigned n, uint64_t *mask,
				    uint64_t *members)
{
	uint32_t ri[OBS_RESIP_BULK];
	uint64_t hits = 0;
	unsigned n_resip = 0;

	if (n > OBS_RESIP_BULK)
		n = OBS_RESIP_BULK;
	/* the buckets were prefetched by the caller's pass 1: look them all up, then
	 * prefetch the hit records before touching them (l3fwd *_hlm.h habit) */
	for (unsigned i = 0; i < n; i++) {
		mask[i] = 0;
		ri[i] = obs_resip_find(tab, src[i]);
		if (ri[i] != 0) {
			hits |= 1ull << i;
			rte_prefetch0(&tab->recs[ri[i] - 1]);
		}
	}
	for (uint64_t m = hits; m; m &= m - 1) {
		unsigned i = (unsigned)__builtin_ctzll(m);
		const struct obs_resip_rec *r = &tab->recs[ri[i] - 1];
		uint64_t pm;

		if (!tab->window_check) {
			pm = r->providers;
		} else if (r->n_wins == 1) {
			pm = r->first_ns <= t_ns[i] && t_ns[i] <= r->last_ns ? r->providers : 0;
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
	*members = hits;
	return n_resip;
}
