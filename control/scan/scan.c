/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * scan.c — SPEC.md A over the coverage store; see scan.h.
 *
 * One pass collects the cells of the query (protocol, period range) as (block, period,
 * port, hits, syns, mirai) rows, sorts them, and walks block by block, period by period.
 * Per block the work is O(cells + |T(A)|^2 * ports) — T(A) is at most the number of
 * periods in the range (a few dozen months), so the pair loop is small.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "grow.h"
#include "names.h"
#include "order.h"
#include "scan.h"

static const char *const scan_class_names[SCAN_C_N] = {
	"none", "routine", "semi-routine", "ad-hoc", "unclassified"
};

const char *scan_class_name(enum scan_class c)
{
	return cp_name_of(scan_class_names, SCAN_C_N, c);
}

int scan_class_parse(const char *s, enum scan_class *c)
{
	static const char *const short_names[] = { "semi", "adhoc" };
	static const enum scan_class short_c[] = { SCAN_C_SEMI, SCAN_C_ADHOC };
	int i = cp_name_find(scan_class_names, SCAN_C_N, s), k = cp_name_find(short_names, 2, s);

	if (i < 0 && k < 0)
		return -EINVAL;
	*c = i >= 0 ? (enum scan_class)i : short_c[k];
	return 0;
}

void scan_params_default(struct scan_params *p)
{
	*p = (struct scan_params){ .alpha = 0.8, .n = 30, .m = 6, .jstar = 0.8, .sstar = 0.7,
	                           .from = 0, .to = SCAN_NO_PERIOD, .current = SCAN_NO_PERIOD,
	                           .proto = 6 };
}

int scan_params_check(const struct scan_params *p, const char **why)
{
	if (!(p->alpha > 0.0 && p->alpha <= 1.0)) {
		*why = "alpha must be in (0, 1]";
		return -EINVAL;
	}
	if (p->n < 1 || p->n > 65536) {
		*why = "n must be 1..65536";
		return -EINVAL;
	}
	if (p->m < 1 || p->m > 100000) {
		*why = "m must be 1..100000";
		return -EINVAL;
	}
	if (!(p->jstar >= 0.0 && p->jstar <= 1.0)) {
		*why = "J* must be in [0, 1]";
		return -EINVAL;
	}
	if (!(p->sstar >= 0.0 && p->sstar <= 1.0)) {
		*why = "S* must be in [0, 1]";
		return -EINVAL;
	}
	if (p->from != SCAN_NO_PERIOD && p->to != SCAN_NO_PERIOD && p->from > p->to) {
		*why = "the range's start is after its end";
		return -EINVAL;
	}
	return 0;
}

double scan_coverage(const struct cov_store *cs, const struct cov_cell *c)
{
	return (double)c->n / (double)cs->sample_size;
}

struct scan_row {
	uint32_t block, period;
	uint16_t port;
	uint32_t hits;
	uint64_t syns, mirai;
};

static int scan_row_cmp(const void *a, const void *b)
{
	const struct scan_row *x = a, *y = b;

	if (x->block != y->block)
		return CP_CMP(x->block, y->block);
	return x->period != y->period ? CP_CMP(x->period, y->period) : CP_CMP(x->port, y->port);
}

/*
 * Sort rows by (block, period, port), the order scan_row_cmp() gives.  The analysis at
 * each period close sorts every cell, and qsort() through a comparator was 16 % of the
 * control plane's time during a replay; so an LSD radix sort over the packed key
 * block << 32 | (period - min) << 16 | port, a byte a pass, passes where every row has
 * the same byte skipped.  Keys are unique (one cell per block, period, port of a
 * protocol), so any correct sort gives the same order.  qsort() when the periods span
 * more than 16 bits or a buffer cannot be had.
 */
static inline uint64_t scan_row_key(const struct scan_row *r, uint32_t pmin)
{
	return (uint64_t)r->block << 32 | (uint64_t)(r->period - pmin) << 16 | r->port;
}

static void scan_sort_rows(struct scan_row *r, size_t k)
{
	struct scan_row *tmp, *src = r, *dst;
	uint32_t pmin = UINT32_MAX, pmax = 0;

	for (size_t i = 0; i < k; i++) {
		if (r[i].period < pmin)
			pmin = r[i].period;
		if (r[i].period > pmax)
			pmax = r[i].period;
	}
	if (k < 256 || pmax - pmin > 0xffffu || (tmp = malloc(k * sizeof(*tmp))) == NULL) {
		qsort(r, k, sizeof(*r), scan_row_cmp);
		return;
	}
	dst = tmp;
	for (unsigned shift = 0; shift < 64; shift += 8) {
		size_t cnt[256] = { 0 }, at = 0;
		struct scan_row *t;

		for (size_t i = 0; i < k; i++)
			cnt[(scan_row_key(&src[i], pmin) >> shift) & 255u]++;
		if (cnt[(scan_row_key(&src[0], pmin) >> shift) & 255u] == k)
			continue;                      /* one value of this byte: nothing moves */
		for (unsigned b = 0; b < 256; b++) {
			size_t c = cnt[b];

			cnt[b] = at;
			at += c;
		}
		for (size_t i = 0; i < k; i++)
			dst[cnt[(scan_row_key(&src[i], pmin) >> shift) & 255u]++] = src[i];
		t = src;
		src = dst;
		dst = t;
	}
	if (src != r)
		memcpy(r, src, k * sizeof(*r));
	free(tmp);
}

static bool scan_in_range(const struct scan_params *p, uint32_t period)
{
	return (p->from == SCAN_NO_PERIOD || period >= p->from) &&
	       (p->to == SCAN_NO_PERIOD || period <= p->to);
}

/* Rows of the query; block_only limits to one block (or UINT64_MAX for all). */
static int scan_collect(const struct cov_store *cs, const struct scan_params *p,
                        uint64_t block_only, struct scan_row **out, size_t *n)
{
	const struct cov_cell *c;
	struct scan_row *r;
	size_t k = 0;

	r = malloc(((size_t)cs->cells.n + 1) * sizeof(*r));
	if (r == NULL)
		return -ENOMEM;
	for (uint32_t it = 0; (c = cov_store_next(cs, &it)) != NULL;) {
		if (c->proto != p->proto || !scan_in_range(p, c->period))
			continue;
		if (block_only != UINT64_MAX && c->block != block_only)
			continue;
		r[k++] = (struct scan_row){ c->block, c->period, c->dport, c->n, c->syns, c->mirai };
	}
	scan_sort_rows(r, k);
	*out = r;
	*n = k;
	return 0;
}

void scan_psets_free(struct scan_pset *ps, size_t n)
{
	if (ps == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		free(ps[i].ports);
	free(ps);
}

/*
 * The periods of one block: rows[0..n) all of that block, sorted.  Every period goes
 * into *ps (with its P_t); wide ones are flagged.
 */
static int scan_block_psets(const struct cov_store *cs, const struct scan_params *p,
                            const struct scan_row *rows, size_t n, struct scan_pset **ps,
                            size_t *nps)
{
	size_t np = 0, i = 0;
	struct scan_pset *v;

	for (size_t j = 0; j < n; j++)
		if (j == 0 || rows[j].period != rows[j - 1].period)
			np++;
	v = calloc(np ? np : 1, sizeof(*v));
	if (v == NULL)
		return -ENOMEM;
	for (size_t t = 0; t < np; t++) {
		size_t j = i;
		uint32_t k = 0;
		while (j < n && rows[j].period == rows[i].period)
			j++;
		v[t].period = rows[i].period;
		v[t].n_cells = (uint32_t)(j - i);
		v[t].ports = malloc((j - i) * sizeof(uint16_t));
		if (v[t].ports == NULL) {
			scan_psets_free(v, np);
			return -ENOMEM;
		}
		for (size_t q = i; q < j; q++) {
			v[t].syns += rows[q].syns;
			v[t].mirai += rows[q].mirai;
			/* A2: |D_t(A->p)| / |D|, estimated on the sample, >= alpha */
			if ((double)rows[q].hits / (double)cs->sample_size >= p->alpha)
				v[t].ports[k++] = rows[q].port;
		}
		v[t].n_ports = k;
		v[t].wide = k >= p->n;      /* A3 */
		i = j;
	}
	*ps = v;
	*nps = np;
	return 0;
}

static uint32_t scan_inter(const struct scan_pset *a, const struct scan_pset *b)
{
	uint32_t i = 0, j = 0, k = 0;
	while (i < a->n_ports && j < b->n_ports) {
		if (a->ports[i] < b->ports[j])
			i++;
		else if (a->ports[i] > b->ports[j])
			j++;
		else {
			k++;
			i++;
			j++;
		}
	}
	return k;
}

static double scan_median(double *v, uint64_t n)
{
	qsort(v, n, sizeof(*v), cp_cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0;
}

/* A5, A6 for blk (its psets are T(A)). */
static int scan_classify(const struct scan_params *p, struct scan_block *blk)
{
	uint64_t k = blk->n_psets, np = k * (k - 1) / 2, q = 0;
	double *jv, *sv;

	blk->n_pairs = np;
	if (blk->n_wide < p->m) {
		blk->cls = SCAN_C_NONE;
		if (np == 0)
			return 0;
	}
	if (np == 0) {
		blk->cls = SCAN_C_UNCLASSIFIED;
		return 0;
	}
	jv = malloc(np * sizeof(*jv));
	sv = malloc(np * sizeof(*sv));
	if (jv == NULL || sv == NULL) {
		free(jv);
		free(sv);
		return -ENOMEM;
	}
	for (uint64_t a = 0; a < k; a++)
		for (uint64_t b = a + 1; b < k; b++) {
			const struct scan_pset *x = &blk->psets[a], *y = &blk->psets[b];
			uint32_t in = scan_inter(x, y);
			uint32_t un = x->n_ports + y->n_ports - in;
			uint32_t mn = x->n_ports < y->n_ports ? x->n_ports : y->n_ports;
			/* wide-area sets have >= n >= 1 ports: no zero denominators */
			jv[q] = (double)in / (double)un;
			sv[q] = (double)in / (double)mn;
			q++;
		}
	blk->j = scan_median(jv, np);
	blk->s = scan_median(sv, np);
	free(jv);
	free(sv);
	if (blk->n_wide >= p->m) {
		if (blk->s <= p->sstar)
			blk->cls = SCAN_C_ADHOC;
		else if (blk->j > p->jstar)
			blk->cls = SCAN_C_ROUTINE;
		else
			blk->cls = SCAN_C_SEMI;
	}
	return 0;
}

void scan_result_free(struct scan_result *r)
{
	if (r == NULL)
		return;
	for (size_t i = 0; i < r->n_blocks; i++)
		scan_psets_free(r->blocks[i].psets, r->blocks[i].n_psets);
	free(r->blocks);
	free(r->pop);
	memset(r, 0, sizeof(*r));
}

static int scan_pop_cmp(const void *a, const void *b)
{
	const struct scan_pop *x = a, *y = b;

	return x->sets != y->sets ? CP_CMP(y->sets, x->sets) : CP_CMP(x->port, y->port);
}

static void scan_enrich_block(const struct scan_enrich *en, uint8_t len, struct scan_block *b)
{
	if (en == NULL)
		return;
	if (en->busiest24 && en->busiest24(en->ctx, b->block, len, &b->busiest24,
	                                   &b->busiest24_pkts) == 0) {
		b->has_busiest = true;
		if (en->country && en->country(en->ctx, b->busiest24, b->cc) == 0)
			b->has_country = true;
	}
	if (en->scanner)
		b->scanner_label = en->scanner(en->ctx, b->block, len);
}

int scan_analyze(const struct cov_store *cs, const struct scan_params *p,
                 const struct scan_enrich *en, struct scan_result *out)
{
	struct scan_row *rows = NULL;
	size_t n_rows = 0, cap = 0, i = 0;
	uint32_t *popc = NULL;
	const char *why;
	int rc;

	memset(out, 0, sizeof(*out));
	if (scan_params_check(p, &why) != 0)
		return -EINVAL;
	out->p = *p;
	out->sample_size = cs->sample_size;
	out->block_len = cs->block_len;
	out->unit = cs->unit;
	out->partial = p->current != SCAN_NO_PERIOD && scan_in_range(p, p->current);
	rc = scan_collect(cs, p, UINT64_MAX, &rows, &n_rows);
	if (rc != 0)
		return rc;
	out->n_cells = n_rows;
	popc = calloc(65536, sizeof(*popc));
	if (popc == NULL) {
		rc = -ENOMEM;
		goto fail;
	}
	while (i < n_rows) {
		size_t j = i, nps, w = 0;
		struct scan_pset *ps;
		struct scan_block blk;

		while (j < n_rows && rows[j].block == rows[i].block)
			j++;
		rc = scan_block_psets(cs, p, rows + i, j - i, &ps, &nps);
		if (rc != 0)
			goto fail;
		memset(&blk, 0, sizeof(blk));
		blk.block = rows[i].block;
		for (size_t t = 0; t < nps; t++) {
			blk.syns += ps[t].syns;
			blk.mirai += ps[t].mirai;
		}
		/* keep T(A) only */
		for (size_t t = 0; t < nps; t++) {
			if (ps[t].wide)
				ps[w++] = ps[t];
			else
				free(ps[t].ports);
		}
		i = j;
		if (w == 0) {
			free(ps);
			continue;
		}
		blk.psets = ps;
		blk.n_psets = (uint32_t)w;
		blk.n_wide = (uint32_t)w;
		blk.first = ps[0].period;
		blk.last = ps[w - 1].period;
		blk.pmin = UINT32_MAX;
		for (size_t t = 0; t < w; t++) {
			if (ps[t].n_ports > blk.pmax)
				blk.pmax = ps[t].n_ports;
			if (ps[t].n_ports < blk.pmin)
				blk.pmin = ps[t].n_ports;
			if (ps[t].period == p->current)
				blk.partial = true;
		}
		blk.mirai_share = blk.syns ? (double)blk.mirai / (double)blk.syns : 0.0;
		rc = scan_classify(p, &blk);
		if (rc != 0) {
			scan_psets_free(ps, w);
			goto fail;
		}
		if (blk.cls == SCAN_C_ROUTINE || blk.cls == SCAN_C_SEMI) {   /* A9 */
			for (size_t t = 0; t < w; t++)
				for (uint32_t q = 0; q < ps[t].n_ports; q++)
					popc[ps[t].ports[q]]++;
			out->n_port_sets += w;
		}
		scan_enrich_block(en, cs->block_len, &blk);
		{
			struct scan_block *nb = cp_grow(out->blocks, &cap, out->n_blocks + 1,
			                                sizeof(*nb), 64);
			if (nb == NULL) {
				scan_psets_free(ps, w);
				rc = -ENOMEM;
				goto fail;
			}
			out->blocks = nb;
		}
		out->blocks[out->n_blocks++] = blk;
		out->n_by_class[blk.cls]++;
		if (blk.cls != SCAN_C_NONE)
			out->n_continuous++;
	}
	for (uint32_t port = 0; port < 65536; port++)
		out->n_pop += popc[port] != 0;
	out->pop = calloc(out->n_pop ? out->n_pop : 1, sizeof(*out->pop));
	if (out->pop == NULL) {
		rc = -ENOMEM;
		goto fail;
	}
	for (uint32_t port = 0, k = 0; port < 65536; port++)
		if (popc[port]) {
			out->pop[k].port = (uint16_t)port;
			out->pop[k].sets = popc[port];
			out->pop[k].share = (double)popc[port] / (double)out->n_port_sets;
			k++;
		}
	qsort(out->pop, out->n_pop, sizeof(*out->pop), scan_pop_cmp);
	free(popc);
	free(rows);
	return 0;
fail:
	free(popc);
	free(rows);
	scan_result_free(out);
	return rc;
}

int scan_block_periods(const struct cov_store *cs, const struct scan_params *p, uint32_t block,
                       struct scan_pset **out, size_t *n)
{
	struct scan_row *rows;
	size_t nr;
	const char *why;
	int rc;

	*out = NULL;
	*n = 0;
	if (scan_params_check(p, &why) != 0)
		return -EINVAL;
	rc = scan_collect(cs, p, block, &rows, &nr);
	if (rc != 0)
		return rc;
	rc = scan_block_psets(cs, p, rows, nr, out, n);
	free(rows);
	return rc;
}
