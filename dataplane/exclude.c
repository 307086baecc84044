/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * exclude.c — build the exclusion rte_lpm from prefix files; see exclude.h.  Main lcore.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_lcore.h>

#include "exclude.h"

static atomic_uint obs_exclude_seq;

struct obs_exclude_tab *obs_exclude_build(const char *const *paths, unsigned n, char *err,
                                          size_t errlen)
{
	struct obs_exclude_tab *t = calloc(1, sizeof(*t));
	struct obs_pfx_list lists[OBS_EXCLUDE_MAX_FILES];
	struct rte_lpm_config cfg;
	char name[RTE_LPM_NAMESIZE];
	unsigned loaded = 0;
	uint64_t total = 0;

	memset(lists, 0, sizeof(lists));
	if (t == NULL) {
		snprintf(err, errlen, "exclude: out of memory");
		return NULL;
	}
	if (n > OBS_EXCLUDE_MAX_FILES) {
		snprintf(err, errlen, "exclude: %u files, at most %u", n, OBS_EXCLUDE_MAX_FILES);
		goto fail;
	}
	for (unsigned f = 0; f < n; f++) {
		struct obs_pfx_list *l = &lists[f];

		if (obs_pfx_load(paths[f], l, err, errlen) != 0)
			goto fail;
		loaded = f + 1;
		if (l->n_rejected > 0) {
			for (size_t i = 0; i < l->n_rej; i++)
				if (strcmp(l->rej[i].reason, "IPv6 prefix skipped") != 0) {
					snprintf(err, errlen, "%s:%u: %s (%zu rejected lines; exclusion "
					         "lists not replaced)", paths[f], l->rej[i].line,
					         l->rej[i].reason, l->n_rejected);
					goto fail;
				}
			snprintf(err, errlen, "%s: %zu rejected lines (exclusion lists not replaced)",
			         paths[f], l->n_rejected);
			goto fail;
		}
		for (size_t i = 0; i < l->n; i++)
			if (l->pfx[i].len == 0) {
				snprintf(err, errlen, "%s:%u: a /0 would exclude every source", paths[f],
				         l->pfx[i].line);
				goto fail;
			}
		snprintf(t->path[f], sizeof(t->path[f]), "%s", paths[f]);
		t->file_prefixes[f] = l->n;
		t->n_skipped += l->n_skipped;
		total += l->n;
	}
	t->n_files = n;
	t->n_prefixes = total;
	if (total > 0) {
		memset(&cfg, 0, sizeof(cfg));
		cfg.max_rules = (uint32_t)total;
		cfg.number_tbl8s = (uint32_t)(total < 256 ? 256 : (total > (1u << 24) ? 1u << 24 : total));
		snprintf(name, sizeof(name), "obs_excl_%u", atomic_fetch_add(&obs_exclude_seq, 1));
		t->lpm = rte_lpm_create(name, (int)rte_socket_id(), &cfg);
		if (t->lpm == NULL) {
			snprintf(err, errlen, "exclude: rte_lpm_create: %s", rte_strerror(rte_errno));
			goto fail;
		}
		for (unsigned f = 0; f < n; f++)
			for (size_t i = 0; i < lists[f].n; i++) {
				const struct obs_pfx *p = &lists[f].pfx[i];
				int rc = rte_lpm_add(t->lpm, p->addr, p->len, f);

				if (rc != 0) {
					snprintf(err, errlen, "%s:%u: rte_lpm_add: %s", paths[f], p->line,
					         strerror(-rc));
					goto fail;
				}
				obs_pf16_add(t->pf16, p->addr, p->len);
			}
	}
	for (unsigned f = 0; f < loaded; f++)
		obs_pfx_list_free(&lists[f]);
	return t;
fail:
	for (unsigned f = 0; f < loaded; f++)
		obs_pfx_list_free(&lists[f]);
	obs_exclude_free(t);
	return NULL;
}

void obs_exclude_free(void *tab)
{
	struct obs_exclude_tab *t = tab;

	if (t == NULL)
		return;
	if (t->lpm)
		rte_lpm_free(t->lpm);
	free(t);
}
