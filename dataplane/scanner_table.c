/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * scanner_table.c — build the scanner table's rte_fib from a prefix file; see
 * scanner_table.h.  Main lcore only.  Also the /16 prefilter's build half (obs_pf16_add),
 * which the exclusion table shares.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_fib.h>
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

static int obs_cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

/*
 * The tbl8 groups the DIR-24-8 needs: one per /24 that a prefix longer than /24 falls
 * in (distinct /24s, counted exactly).  -1 when out of memory.
 */
static long obs_scanner_tbl8s(const struct obs_pfx_list *l)
{
	uint32_t *s24 = malloc((l->n ? l->n : 1) * sizeof(*s24));
	size_t m = 0, d = 0;

	if (s24 == NULL)
		return -1;
	for (size_t i = 0; i < l->n; i++)
		if (l->pfx[i].len > 24)
			s24[m++] = l->pfx[i].addr >> 8;
	if (m > 1)
		qsort(s24, m, sizeof(*s24), obs_cmp_u32);
	for (size_t i = 0; i < m; i++)
		d += i == 0 || s24[i] != s24[i - 1];
	free(s24);
	return (long)d;
}

struct obs_scanner_tab *obs_scanner_build(const char *path, char *err, size_t errlen)
{
	struct obs_scanner_tab *t = calloc(1, sizeof(*t));
	struct rte_fib_conf cfg;
	char name[RTE_LPM_NAMESIZE];   /* rte_fib names are memzone names, as rte_lpm's */
	long tbl8s;
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
	tbl8s = obs_scanner_tbl8s(&t->list);
	if (tbl8s < 0) {
		snprintf(err, errlen, "%s: out of memory", path);
		goto free_list;
	}
	/* The worker asks only "is it a scanner" (the labels are the control plane's, in
	 * list): every prefix has next hop OBS_SCANNER_HOP, a miss the default 0.  The
	 * next-hop width bounds the tbl8 groups (1 B: 127, 2 B: 32767): the narrowest that
	 * holds them keeps tbl24 at 16 or 32 MiB instead of 64. */
	memset(&cfg, 0, sizeof(cfg));
	cfg.type = RTE_FIB_DIR24_8;
	cfg.default_nh = 0;
	cfg.max_routes = (int)t->list.n;
	cfg.dir24_8.nh_sz = tbl8s + 1 <= 127 ? RTE_FIB_DIR24_8_1B :
	                    tbl8s + 1 <= 32767 ? RTE_FIB_DIR24_8_2B : RTE_FIB_DIR24_8_4B;
	cfg.dir24_8.num_tbl8 = (uint32_t)(tbl8s + 1);
	snprintf(name, sizeof(name), "obs_scan_%u", atomic_fetch_add(&obs_scanner_seq, 1));
	t->fib = rte_fib_create(name, (int)rte_socket_id(), &cfg);
	if (t->fib == NULL) {
		snprintf(err, errlen, "%s: rte_fib_create (%zu prefixes, %ld tbl8 groups): %s",
		         path, t->list.n, tbl8s, rte_strerror(rte_errno));
		goto free_list;
	}
	for (size_t i = 0; i < t->list.n; i++) {
		const struct obs_pfx *p = &t->list.pfx[i];

		if (p->len == 0) {
			snprintf(err, errlen, "%s:%u: a /0 prefix would flag every source", path, p->line);
			goto free_fib;
		}
		rc = rte_fib_add(t->fib, p->addr, p->len, OBS_SCANNER_HOP);
		if (rc != 0) {
			snprintf(err, errlen, "%s:%u: rte_fib_add: %s", path, p->line, strerror(-rc));
			goto free_fib;
		}
		obs_pf16_add(t->pf16, p->addr, p->len);
	}
	snprintf(t->path, sizeof(t->path), "%s", path);
	return t;

free_fib:
	rte_fib_free(t->fib);
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
	rte_fib_free(t->fib);
	obs_pfx_list_free(&t->list);
	free(t);
}
