/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * scanner_table.c — build the scanner table's rte_lpm from a prefix file; see
 * scanner_table.h.  Main lcore only.  Also the /16 prefilter's build half (obs_pf16_add),
 * which the exclusion table shares.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_lcore.h>

#include "scanner_table.h"

static atomic_uint obs_scanner_seq;

void obs_pf16_add(uint64_t *bits, uint32_t addr, uint8_t len)
{
	uint32_t first = addr >> 16;
	uint32_t count = len >= 16 ? 1u : 1u << (16 - len);

	for (uint32_t s = first; s < first + count; s++)
		bits[s >> 6] |= 1ull << (s & 63u);
}

struct obs_scanner_tab *obs_scanner_build(const char *path, char *err, size_t errlen)
{
	struct obs_scanner_tab *t = calloc(1, sizeof(*t));
	struct rte_lpm_config cfg;
	char name[RTE_LPM_NAMESIZE];
	int rc;

	if (t == NULL) {
		snprintf(err, errlen, "%s: out of memory", path);
		return NULL;
	}
	rc = obs_pfx_load(path, &t->list, err, errlen);
	if (rc != 0)
		goto free_tab;
	if (t->list.n_rejected > 0) {
		const struct obs_pfx_reject *r = NULL;
		for (size_t i = 0; i < t->list.n_rej; i++)
			if (strcmp(t->list.rej[i].reason, "IPv6 prefix skipped") != 0) {
				r = &t->list.rej[i];
				break;
			}
		if (r != NULL)
			snprintf(err, errlen, "%s:%u: %s (%zu rejected line%s; table not replaced)",
			         path, r->line, r->reason, t->list.n_rejected,
			         t->list.n_rejected == 1 ? "" : "s");
		else
			snprintf(err, errlen, "%s: %zu rejected lines (table not replaced)", path,
			         t->list.n_rejected);
		goto free_list;
	}
	if (t->list.n == 0) {
		snprintf(err, errlen, "%s: no IPv4 prefix in the file (table not replaced)", path);
		goto free_list;
	}
	memset(&cfg, 0, sizeof(cfg));
	cfg.max_rules = (uint32_t)t->list.n;
	cfg.number_tbl8s = (uint32_t)(t->list.n < 256 ? 256 : t->list.n);
	if (cfg.number_tbl8s > (1u << 24))
		cfg.number_tbl8s = 1u << 24;
	snprintf(name, sizeof(name), "obs_scan_%u", atomic_fetch_add(&obs_scanner_seq, 1));
	t->lpm = rte_lpm_create(name, (int)rte_socket_id(), &cfg);
	if (t->lpm == NULL) {
		snprintf(err, errlen, "%s: rte_lpm_create: %s", path, rte_strerror(rte_errno));
		goto free_list;
	}
	for (size_t i = 0; i < t->list.n; i++) {
		const struct obs_pfx *p = &t->list.pfx[i];
		uint32_t hop = p->label == OBS_PFX_NO_LABEL ? 0 : p->label + 1;
		if (p->len == 0) {
			snprintf(err, errlen, "%s:%u: a /0 prefix would flag every source", path, p->line);
			goto free_lpm;
		}
		rc = rte_lpm_add(t->lpm, p->addr, p->len, hop);
		if (rc != 0) {
			snprintf(err, errlen, "%s:%u: rte_lpm_add: %s", path, p->line, strerror(-rc));
			goto free_lpm;
		}
		obs_pf16_add(t->pf16, p->addr, p->len);
	}
	snprintf(t->path, sizeof(t->path), "%s", path);
	return t;

free_lpm:
	rte_lpm_free(t->lpm);
free_list:
	obs_pfx_list_free(&t->list);
free_tab:
	free(t);
	return NULL;
}

void obs_scanner_free(void *tab)
{
	struct obs_scanner_tab *t = tab;

	if (t == NULL)
		return;
	rte_lpm_free(t->lpm);
	obs_pfx_list_free(&t->list);
	free(t);
}
