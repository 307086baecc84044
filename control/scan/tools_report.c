/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tools_report.c — scan-tools.csv / scan-tools.md; see tools_report.h.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "period.h"
#include "toolstore.h"
#include "tools_report.h"

/* One (block, period) of the range: its entry and the period's SYNs from the cells. */
struct tr_row {
	const struct scan_bt *e;
	uint64_t syns;
};

struct tr_ctx {
	const struct scan_result *r;
	struct tr_row *rows;
	size_t n;
};

static bool tr_in_range(const struct scan_params *p, uint32_t period)
{
	return (p->from == SCAN_NO_PERIOD || period >= p->from) &&
	       (p->to == SCAN_NO_PERIOD || period <= p->to);
}

static int tr_cmp_key(uint32_t ab, uint32_t ap, uint32_t bb, uint32_t bp)
{
	if (ab != bb)
		return ab < bb ? -1 : 1;
	return ap < bp ? -1 : ap > bp;
}

static int tr_cmp(const void *a, const void *b)
{
	const struct scan_bt *x = ((const struct tr_row *)a)->e, *y = ((const struct tr_row *)b)->e;

	return tr_cmp_key(x->block, x->period, y->block, y->period);
}

static struct tr_row *tr_find(struct tr_ctx *c, uint32_t block, uint32_t period)
{
	size_t lo = 0, hi = c->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int d = tr_cmp_key(block, period, c->rows[mid].e->block, c->rows[mid].e->period);

		if (d == 0)
			return &c->rows[mid];
		if (d < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

/* The entries in r's range, sorted, each with the period's SYNs. */
static int tr_collect(struct tr_ctx *c, const struct scan_bts *bts, const struct cov_store *cs)
{
	const struct scan_bt *e;
	const struct cov_cell *cell;
	size_t k = 0;

	c->rows = malloc(((size_t)bts->ht.n + 1) * sizeof(*c->rows));
	if (c->rows == NULL)
		return -ENOMEM;
	for (uint32_t it = 0; (e = scan_bts_next(bts, &it)) != NULL;)
		if (tr_in_range(&c->r->p, e->period))
			c->rows[k++] = (struct tr_row){ e, 0 };
	c->n = k;
	qsort(c->rows, k, sizeof(*c->rows), tr_cmp);
	for (uint32_t it = 0; k > 0 && (cell = cov_store_next(cs, &it)) != NULL;) {
		struct tr_row *row;

		if (cell->proto != c->r->p.proto)
			continue;
		if ((row = tr_find(c, cell->block, cell->period)) != NULL)
			row->syns += cell->syns;
	}
	return 0;
}

static void tr_line(FILE *f, bool md, const char *blk, unsigned len, const char *per,
                    const char *tool, unsigned id, uint64_t syns, uint64_t total)
{
	const char *sep = md ? " | " : ",";
	char idb[8] = "", share[24];

	if (id != 0)
		snprintf(idb, sizeof(idb), "%u", id);
	if (total == 0)
		strcpy(share, md ? "–" : "");
	else if (md)
		snprintf(share, sizeof(share), "%.1f %%", 100.0 * (double)syns / (double)total);
	else
		snprintf(share, sizeof(share), "%.6f", (double)syns / (double)total);
	fprintf(f, "%s%s/%u%s%s%s%s%s%s%s%llu%s%llu%s%s%s\n", md ? "| " : "", blk, len, sep, per,
	        sep, tool, sep, idb, sep, (unsigned long long)syns, sep,
	        (unsigned long long)total, sep, share, md ? " |" : "");
}

static void tr_rows(FILE *f, const struct tr_ctx *c, bool md)
{
	for (size_t i = 0; i < c->n; i++) {
		const struct scan_bt *e = c->rows[i].e;
		uint64_t total = c->rows[i].syns, lab = scan_bt_labelled(e);
		unsigned order[SCAN_BT_SLOTS], n = 0;
		char blk[20], per[OBS_PERIOD_LABEL_MAX], nb[32];

		snprintf(blk, sizeof(blk), "%u.%u.%u.%u", e->block >> 24, (e->block >> 16) & 255,
		         (e->block >> 8) & 255, e->block & 255);
		obs_period_label(c->r->unit, e->period, per, sizeof(per));
		for (unsigned s = 0; s < SCAN_BT_SLOTS; s++) {   /* used slots, most SYNs first */
			unsigned j;

			if (e->ids[s] == 0)
				continue;
			for (j = n++; j > 0; j--) {
				unsigned o = order[j - 1];

				if (e->syns[o] > e->syns[s] ||
				    (e->syns[o] == e->syns[s] && e->ids[o] < e->ids[s]))
					break;
				order[j] = o;
			}
			order[j] = s;
		}
		for (unsigned j = 0; j < n; j++)
			tr_line(f, md, blk, c->r->block_len, per,
			        cp_tool_name(e->ids[order[j]], nb, sizeof(nb)), e->ids[order[j]],
			        e->syns[order[j]], total);
		tr_line(f, md, blk, c->r->block_len, per, "other", 0, e->other, total);
		tr_line(f, md, blk, c->r->block_len, per, "unlabelled", 0,
		        total > lab ? total - lab : 0, total);
	}
}

static void tr_csv(FILE *f, const void *ctx)
{
	fprintf(f, "block,period,tool,tool_id,syns,period_syns,share\n");
	tr_rows(f, ctx, false);
}

static void tr_md(FILE *f, const void *ctx)
{
	const struct tr_ctx *c = ctx;

	fprintf(f, "# Scanner tools per block and period (docs/fingerprints.md)\n\n");
	if (c->r->note[0] != '\0')
		fprintf(f, "%s\n\n", c->r->note);
	fprintf(f, "%zu (block, period) pairs with a labelled SYN%s.  SYNs: the tool's "
	           "SYNs in that period; of: the block's SYNs in the period (its coverage "
	           "cells); other: labelled SYNs no named label holds; unlabelled: the "
	           "rest.\n\n"
	           "| block | period | tool | id | SYNs | of | share |\n"
	           "|---|---|---|--:|--:|--:|--:|\n",
	        c->n, c->r->partial ? "; **partial**: the range includes the open period" : "");
	tr_rows(f, c, true);
}

int scan_tools_report_write(const char *dir, const struct scan_bts *bts,
                            const struct cov_store *cs, const struct scan_result *r,
                            struct scan_report_files *files, char *err, size_t errlen)
{
	struct tr_ctx c = { .r = r };
	int rc;

	if (tr_collect(&c, bts, cs) != 0) {
		snprintf(err, errlen, "scan-tools: out of memory");
		return -ENOMEM;
	}
	rc = scan_report_file(dir, "scan-tools.csv", r->stamp, tr_csv, &c, files, err, errlen);
	if (rc == 0)
		rc = scan_report_file(dir, "scan-tools.md", r->stamp, tr_md, &c, files, err, errlen);
	free(c.rows);
	return rc;
}
