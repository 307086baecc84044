/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * scan_mod.c — the scan analysis' state and its place in the control plane (scan_mod.h):
 * the coverage store the drain feeds (the OBX_TAB_CELL consumer, cells and bitmaps
 * checked record by record), the enrichment of a result (busiest /24, country, scanner
 * overlap), the analysis at period close — run after the drain pass, never inside the
 * merge —, the snapshot section, the "scan" report writer and the ops table.
 *
 * Main loop only (single-threaded).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "analysis.h"
#include "exchange_recs.h"
#include "cp_log.h"
#include "geo.h"
#include "integrity.h"
#include "json.h"
#include "metrics.h"
#include "order.h"
#include "period.h"
#include "scan_mod.h"
#include "scan_report.h"
#include "tools_report.h"
#include "telescope.h"

struct cp_scan cp_scan;

#define CP_SCAN_CLOSE_MIN_NS (2ull * 1000000000ull)

struct cov_store *cp_scan_cov(void)
{
	return cp_scan.ready ? &cp_scan.cov : NULL;
}

int cp_scan_init(const struct cp *cp, uint32_t sample_size)
{
	if (cp_scan.ready && cp_scan.cov.sample_size == sample_size &&
	    cp_scan.cov.block_len == cp->conf.block_len && cp_scan.cov.unit == cp->conf.period)
		return 0;
	if (cp_scan.ready) {
		cov_store_fini(&cp_scan.cov);
		scan_bts_fini(&cp_scan.bts);
	}
	cp_scan.ready = false;
	int rc = cov_store_init(&cp_scan.cov, sample_size, (uint8_t)cp->conf.block_len,
	                        (uint8_t)cp->conf.period);
	if (rc != 0)
		return rc;
	scan_bts_init(&cp_scan.bts, cp_scan.cov.block_len, cp_scan.cov.unit);
	scan_params_default(&cp_scan.base);
	cp_scan.current = SCAN_NO_PERIOD;
	cp_scan.close_to = SCAN_NO_PERIOD;
	cp_scan.last_close_to = SCAN_NO_PERIOD;
	cp_scan.ready = true;
	return 0;
}

int cp_scan_adopt(struct cov_store *cs)
{
	if (cp_scan.ready) {
		cov_store_fini(&cp_scan.cov);
		scan_bts_fini(&cp_scan.bts);
	}
	cp_scan.cov = *cs;
	memset(cs, 0, sizeof(*cs));
	scan_bts_init(&cp_scan.bts, cp_scan.cov.block_len, cp_scan.cov.unit);
	scan_params_default(&cp_scan.base);
	cp_scan.current = cp_scan.cov.cells.n ? cp_scan.cov.period_max : SCAN_NO_PERIOD;
	cp_scan.close_to = SCAN_NO_PERIOD;
	cp_scan.last_close_to = SCAN_NO_PERIOD;
	cp_scan.ready = true;
	return 0;
}

void cp_scan_fini(void)
{
	if (cp_scan.ready) {
		cov_store_fini(&cp_scan.cov);
		scan_bts_fini(&cp_scan.bts);
	}
	if (cp_scan.have_scanners)
		obs_pfx_list_free(&cp_scan.scanners);
	if (cp_scan.have_last)
		scan_result_free(&cp_scan.last);
	cp_geo_close(cp_scan.geo);
	memset(&cp_scan, 0, sizeof(cp_scan));
}

int cp_scan_load_scanners(const char *path, char *err, size_t errlen)
{
	struct obs_pfx_list l;
	int rc = obs_pfx_load(path, &l, err, errlen);

	snprintf(cp_scan.scanner_path, sizeof(cp_scan.scanner_path), "%s", path);
	if (rc != 0) {
		snprintf(cp_scan.scanner_error, sizeof(cp_scan.scanner_error), "%s", err);
		return rc;
	}
	if (l.n_rejected) {
		snprintf(err, errlen, "%s:%u: %s (%zu rejected lines)", path, l.rej[0].line,
		         l.rej[0].reason, l.n_rejected);
		snprintf(cp_scan.scanner_error, sizeof(cp_scan.scanner_error), "%s", err);
		obs_pfx_list_free(&l);
		return -EINVAL;
	}
	if (cp_scan.have_scanners)
		obs_pfx_list_free(&cp_scan.scanners);
	cp_scan.scanners = l;
	cp_scan.have_scanners = true;
	cp_scan.scanner_error[0] = '\0';
	return 0;
}

void cp_scan_set_geo(struct cp_geo *g)
{
	cp_scan_geo_close();
	cp_scan.geo = g;
}

void cp_scan_geo_close(void)
{
	cp_geo_close(cp_scan.geo);
	cp_scan.geo = NULL;
}

void cp_scan_note_drain(uint64_t ns, uint64_t records)
{
	cp_scan.drains++;
	cp_scan.drain_ns_sum += ns;
	if (ns > cp_scan.drain_ns_max)
		cp_scan.drain_ns_max = ns;
	cp_scan.drain_records += records;
}

/*
 * One drained slot's coverage records into the store.  cells: the CELL table (cap
 * records, empty ones have syns == 0); pool: the BITMAP pool (n_pool entries handed out,
 * rec_size bytes each).  Nothing from the exchange is trusted: a record pointing outside
 * the pool, with too many inline slots or a slot >= |S| is skipped and counted in *bad.
 * Returns the records applied, or -ENOMEM.
 */
long cp_scan_apply_cells(struct cov_store *cs, const void *cells, uint32_t cap,
                         const void *pool, uint32_t n_pool, uint32_t rec_size, uint64_t *bad)
{
	const struct obx_cell_rec *c = cells;
	uint32_t *slots = NULL;
	long n = 0;

	if (cs == NULL || c == NULL)
		return 0;
	for (uint32_t i = 0; i < cap; i++) {
		const struct obx_cell_rec *r = &c[i];
		struct cov_key k = { r->period, r->block, r->dport, r->proto };
		uint32_t m = 0;
		int rc;

		if (r->syns == 0)
			continue;
		if (r->flags & OBX_CELL_F_BITMAP) {
			const uint8_t *bm;
			if (pool == NULL || r->bitmap >= n_pool || (uint64_t)rec_size * 8 < cs->sample_size) {
				(*bad)++;
				continue;
			}
			if (slots == NULL && (slots = malloc((size_t)cs->sample_size * sizeof(*slots))) == NULL)
				return -ENOMEM;
			bm = (const uint8_t *)pool + (uint64_t)r->bitmap * rec_size;
			for (uint32_t b = 0; b < rec_size; b++) {
				for (uint32_t x = bm[b], bit; x; x &= x - 1) {
					bit = b * 8 + (uint32_t)__builtin_ctz(x);
					if (bit >= cs->sample_size) {
						m = UINT32_MAX;
						break;
					}
					slots[m++] = bit;
				}
				if (m == UINT32_MAX)
					break;
			}
			if (m == UINT32_MAX) {
				(*bad)++;
				continue;
			}
			rc = cov_store_add(cs, &k, r->syns, r->mirai, slots, m);
		} else {
			if (r->n_inline > OBX_CELL_INLINE) {
				(*bad)++;
				continue;
			}
			rc = cov_store_add(cs, &k, r->syns, r->mirai, r->inline_slot, r->n_inline);
		}
		if (rc == -ERANGE) {
			(*bad)++;
			continue;
		}
		if (rc != 0) {
			free(slots);
			return rc;
		}
		n++;
	}
	free(slots);
	return n;
}

/* ------------------------------------------------------------------ enrichment */

struct cp_s24 {
	uint32_t net;
	uint64_t pkts;
};

struct cp_scan_ctx {
	struct cp_s24 *s24;
	size_t n;
};

static int cp_s24_cmp(const void *a, const void *b)
{
	const struct cp_s24 *x = a, *y = b;

	return CP_CMP(x->net, y->net);
}

/* Packets per source /24 over the whole observation, from the period store's sources. */
static int cp_scan_ctx_build(const struct cp *cp, struct cp_scan_ctx *c)
{
	const struct cp_store *s = &cp->store;
	const struct cp_src *src;
	size_t k = 0;

	c->n = 0;
	c->s24 = malloc(((size_t)s->src.n + 1) * sizeof(*c->s24));
	if (c->s24 == NULL)
		return -ENOMEM;
	for (uint32_t it = 0; (src = cp_store_src_next(s, &it)) != NULL;)
		c->s24[k++] = (struct cp_s24){ src->addr & 0xffffff00u, src->packets };
	qsort(c->s24, k, sizeof(*c->s24), cp_s24_cmp);
	for (size_t i = 0; i < k; i++) {
		if (c->n > 0 && c->s24[c->n - 1].net == c->s24[i].net)
			c->s24[c->n - 1].pkts += c->s24[i].pkts;
		else
			c->s24[c->n++] = c->s24[i];
	}
	return 0;
}

static int cp_scan_busiest(void *ctx, uint32_t block, uint8_t len, uint32_t *net24, uint64_t *pkts)
{
	struct cp_scan_ctx *c = ctx;
	uint64_t end = (uint64_t)block + (len ? (1ull << (32 - len)) : (1ull << 32));
	size_t lo = 0, hi = c->n;
	bool found = false;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (c->s24[mid].net < (block & 0xffffff00u))
			lo = mid + 1;
		else
			hi = mid;
	}
	/* ties: the lowest /24 (strictly greater replaces) */
	for (size_t i = lo; i < c->n && c->s24[i].net < end; i++)
		if (!found || c->s24[i].pkts > *pkts) {
			*net24 = c->s24[i].net;
			*pkts = c->s24[i].pkts;
			found = true;
		}
	return found ? 0 : -ENOENT;
}

static int cp_scan_country(void *ctx, uint32_t addr, char cc[3])
{
	(void)ctx;
	if (cp_scan.geo == NULL)
		return -ENOENT;
	return cp_geo_country(cp_scan.geo, addr, cc);
}

static const char *cp_scan_scanner(void *ctx, uint32_t block, uint8_t len)
{
	uint64_t b_lo = block, b_hi = (uint64_t)block + (1ull << (32 - len)) - 1;

	(void)ctx;
	if (!cp_scan.have_scanners)
		return NULL;
	for (size_t i = 0; i < cp_scan.scanners.n; i++) {
		const struct obs_pfx *p = &cp_scan.scanners.pfx[i];
		uint64_t lo = p->addr, hi = (uint64_t)p->addr + (1ull << (32 - p->len)) - 1;
		if (lo <= b_hi && b_lo <= hi)
			return obs_pfx_label(&cp_scan.scanners, p);
	}
	return NULL;
}

int cp_scan_run(struct cp *cp, const struct scan_params *p, struct scan_result *res,
                       struct cp_reply *r)
{
	struct cp_scan_ctx ctx;
	struct scan_enrich en = { &ctx, cp_scan_busiest, cp_scan_country, cp_scan_scanner };
	struct scan_params q = *p;
	int rc;

	if (cp_scan_ctx_build(cp, &ctx) != 0) {
		cp_reply_err(r, CP_E_INTERNAL, "out of memory");
		return -1;
	}
	q.current = cp_scan.current;
	rc = scan_analyze(&cp_scan.cov, &q, &en, res);
	free(ctx.s24);
	if (rc != 0) {
		cp_reply_err(r, rc == -EINVAL ? CP_E_BAD_ARGS : CP_E_INTERNAL, "analysis failed: %s",
		             strerror(-rc));
		return -1;
	}
	cp_scan_gamma_result(res);    /* A11 from the responder's handshakes */
	{
		/* the loss stamp of the periods covered, for the report's headers */
		struct cp_integ in;
		char line[400];

		cp_integrity_periods(cp_scan.cov.unit, res->p.from, res->p.to, &in);
		cp_integ_line(&in, line, sizeof(line));
		snprintf(res->note, sizeof(res->note), "**Integrity of the time covered: %s** "
		         "(per period: `integrity.md`).", line);
		cp_integ_stamp_text(&in, obs_period_start_ns(cp_scan.cov.unit, res->p.from),
		                    res->p.to >= UINT32_MAX - 1 ? 0 :
		                    obs_period_start_ns(cp_scan.cov.unit, res->p.to + 1),
		                    res->stamp, sizeof(res->stamp));
	}
	return 0;
}

/* ------------------------------------------------------------------ period close */

static uint64_t cp_scan_mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Analyse every closed period (up to close_to) now.  1 when it ran, -ENOMEM. */
int cp_scan_close_run(struct cp *cp)
{
	struct scan_result res;
	struct cp_reply r;
	struct scan_params p = cp_scan.base;

	if (cp_scan.close_to == SCAN_NO_PERIOD)
		return 0;
	p.to = cp_scan.close_to;
	memset(&r, 0, sizeof(r));
	if (cp_scan_run(cp, &p, &res, &r) != 0)
		return -ENOMEM;
	if (cp_scan.have_last)
		scan_result_free(&cp_scan.last);
	cp_scan.last = res;
	cp_scan.have_last = true;
	cp_scan.last_close_to = cp_scan.close_to;
	cp_scan.close_to = SCAN_NO_PERIOD;
	cp_scan.analyses++;
	cp_scan.last_analysis_ns = cp_scan_mono_ns();
	return 1;
}

int cp_scan_period_seen(struct cp *cp, uint32_t period)
{
	if (!cp_scan.ready)
		return 0;
	if (cp_scan.current != SCAN_NO_PERIOD && period <= cp_scan.current)
		return 0;
	if (cp_scan.current == SCAN_NO_PERIOD) {
		cp_scan.current = period;
		return 0;
	}
	/* a newer period arrived: the previous ones are closed.  Analysed at once, but at
	 * most every CP_SCAN_CLOSE_MIN_NS: a replay of a year in hours closes thousands
	 * of periods in seconds; the ones in between fold into the next analysis (and
	 * scan.params runs a pending one) */
	cp_scan.current = period;
	cp_scan.close_to = period - 1;
	if (cp_scan.last_analysis_ns != 0 &&
	    cp_scan_mono_ns() - cp_scan.last_analysis_ns < CP_SCAN_CLOSE_MIN_NS)
		return 0;
	return cp_scan_close_run(cp);
}

/* ------------------------------------------------------------------ module wiring */

/*
 * An upper bound on the cells an epoch's n CELL records add: all of them when they fit
 * anyway, else those whose cell the store does not hold yet (a read-only probe each).
 * Reserving for every record doubled the cell table whenever an epoch of known cells
 * came in, whatever the table held (store.c's cp_src_new_upper, the same).
 */
static uint32_t cp_scan_new_cells(const struct cov_store *cs, const struct cp_epoch *e,
                                  uint32_t n)
{
	const struct cp_tab *t = cp_epoch_tab(e, OBX_TAB_CELL);
	const struct obx_cell_rec *r;
	uint32_t fresh = 0;

	if (cov_store_has_room(cs, n) || t == NULL || t->recs == NULL)
		return n;
	r = t->recs;
	for (uint32_t i = 0; i < t->n; i++) {
		struct cov_key k = { r[i].period, r[i].block, r[i].dport, r[i].proto };

		if (r[i].syns != 0 && cov_store_find(cs, &k) == NULL)
			fresh++;
	}
	return fresh;
}

/* OBX_TAB_CELL consumer (store.h's prepare/apply protocol). */
static int cp_scan_cell_merge(const struct cp_epoch *e, const void *recs, uint32_t n)
{
	const struct cp_tab *bm = cp_epoch_tab(e, OBX_TAB_BITMAP);
	uint64_t t0, bad = 0;
	uint32_t maxp = 0;
	long k;

	if (!cp_scan.ready)
		return 0;
	if (recs == NULL) {        /* prepare (the core checked rec_size) */
		if (bm != NULL && bm->n > 0 && (uint64_t)bm->rec_size * 8 < cp_scan.cov.sample_size)
			return -EPROTO;
		return cov_store_reserve(&cp_scan.cov, cp_scan_new_cells(&cp_scan.cov, e, n));
	}
	t0 = cp_scan_mono_ns();
	k = cp_scan_apply_cells(&cp_scan.cov, recs, n, bm ? bm->recs : NULL, bm ? bm->n : 0,
	                        bm ? bm->rec_size : 0, &bad);
	cp_scan.bad_records += bad;
	for (uint32_t i = 0; i < n; i++) {
		const struct obx_cell_rec *r = (const struct obx_cell_rec *)recs + i;
		if (r->syns && r->period > maxp)
			maxp = r->period;
	}
	cp_scan_note_drain(cp_scan_mono_ns() - t0, n);
	if (k < 0)
		CP_ERR("scan: out of memory merging %u coverage cells", n);
	/* only noted here: the period close runs once the whole pass is merged */
	if (n > 0 && (!cp_scan.have_seen || maxp > cp_scan.seen)) {
		cp_scan.seen = maxp;
		cp_scan.have_seen = true;
	}
	return 0;
}

/* OBX_TAB_SRC consumer: the records' tool labels into the (block, period) counts.
 * Prepare reserves for the keys the table does not hold yet (cp_scan_new_cells, the
 * same rule). */
int cp_scan_src_merge(const struct cp_epoch *e, const void *recs, uint32_t n)
{
	const struct obx_src_rec *r = recs;

	if (!cp_scan.ready)
		return 0;
	if (recs == NULL) {
		const struct cp_tab *t = cp_epoch_tab(e, OBX_TAB_SRC);
		uint32_t fresh = 0;

		if (t == NULL || t->recs == NULL || scan_bts_has_room(&cp_scan.bts, n))
			return scan_bts_reserve(&cp_scan.bts, n);
		r = t->recs;
		for (uint32_t i = 0; i < t->n; i++) {
			uint32_t period, block;

			if (r[i].tool == 0)
				continue;
			scan_bts_key(&cp_scan.bts, r[i].addr, r[i].first_ns, &period, &block);
			if (scan_bts_find(&cp_scan.bts, period, block) == NULL)
				fresh++;
		}
		return scan_bts_reserve(&cp_scan.bts, fresh);
	}
	for (uint32_t i = 0; i < n; i++) {
		if (r[i].tool == 0)
			continue;
		if (!obx_hour_rec_ok(r[i].first_ns, r[i].last_ns, r[i].hour)) {
			cp_scan.bt_bad_records++;
			continue;
		}
		cp_scan.bt_records++;
		scan_bts_add(&cp_scan.bts, r[i].addr, r[i].first_ns, r[i].tool, r[i].tool_syns,
		             r[i].tool_other);
	}
	return 0;
}

/* After a drain pass (analysis.h): the newest period merged may close older ones. */
static void cp_scan_after_epochs(struct cp *cp)
{
	if (!cp_scan.have_seen)
		return;
	cp_scan.have_seen = false;
	if (cp_scan_period_seen(cp, cp_scan.seen) < 0)
		CP_ERR("scan: out of memory analysing the closed periods");
}

int cp_scan_section_blob(uint8_t **buf, size_t *len)
{
	uint8_t *cov = NULL, *bt = NULL, *b;
	size_t n_cov = 0, n_bt = 0;
	int rc;

	*buf = NULL;
	*len = 0;
	if (!cp_scan.ready)
		return 0;
	rc = cov_store_serialize(&cp_scan.cov, &cov, &n_cov);
	if (rc != 0 || cp_scan.bts.ht.n == 0) {
		*buf = cov;
		*len = n_cov;
		return rc;
	}
	rc = scan_bts_serialize(&cp_scan.bts, &bt, &n_bt);
	b = rc == 0 ? realloc(cov, n_cov + n_bt) : NULL;
	if (b == NULL) {
		free(cov);
		free(bt);
		return -ENOMEM;
	}
	memcpy(b + n_cov, bt, n_bt);
	free(bt);
	*buf = b;
	*len = n_cov + n_bt;
	return 0;
}

int cp_scan_section_load(const void *data, size_t len, char *err, size_t errlen)
{
	struct cov_store cs;
	struct scan_bts bts;
	const char *why = "";
	size_t used = 0;
	int rc;

	rc = cov_store_deserialize_part(&cs, data, len, &used, &why);
	if (rc != 0) {
		snprintf(err, errlen, "scan section: %s", rc == -EBADMSG ? why : strerror(-rc));
		return rc;
	}
	scan_bts_init(&bts, cs.block_len, cs.unit);
	if (used < len &&
	    (rc = scan_bts_deserialize(&bts, (const uint8_t *)data + used, len - used, &why)) != 0) {
		snprintf(err, errlen, "scan section: %s", rc == -EBADMSG ? why : strerror(-rc));
		scan_bts_fini(&bts);
		cov_store_fini(&cs);
		return rc;
	}
	if (cp_scan.ready && (cs.sample_size != cp_scan.cov.sample_size ||
	                      cs.block_len != cp_scan.cov.block_len || cs.unit != cp_scan.cov.unit)) {
		snprintf(err, errlen, "the coverage was kept for |S| %u, analysis.block_len %u, "
		         "analysis.period %s, but the config gives |S| %u, block_len %u, period %s",
		         cs.sample_size, cs.block_len, obs_period_unit_name(cs.unit),
		         cp_scan.cov.sample_size, cp_scan.cov.block_len,
		         obs_period_unit_name(cp_scan.cov.unit));
		scan_bts_fini(&bts);
		cov_store_fini(&cs);
		return -ESTALE;   /* not damage: the snapshot.c caller stops the start */
	}
	cp_scan_adopt(&cs);
	scan_bts_fini(&cp_scan.bts);
	cp_scan.bts = bts;
	return 0;
}

static void cp_scan_snap_reset(void)
{
	uint32_t ss = cp_scan.cov.sample_size;
	uint8_t l = cp_scan.cov.block_len, u = cp_scan.cov.unit;

	if (!cp_scan.ready)
		return;
	cov_store_fini(&cp_scan.cov);
	scan_bts_clear(&cp_scan.bts);
	if (cov_store_init(&cp_scan.cov, ss, l, u) != 0)
		cp_scan.ready = false;
	cp_scan.current = SCAN_NO_PERIOD;
	cp_scan.have_seen = false;
}

static int cp_scan_report(void *ctx, const char *dir, char *err, size_t errlen)
{
	struct scan_result res;
	struct scan_report_files files;
	struct cp_reply r;
	int rc;

	(void)ctx;
	if (!cp_scan.ready || cp_scan.cp == NULL)
		return 0;
	memset(&r, 0, sizeof(r));
	if (cp_scan_run(cp_scan.cp, &cp_scan.base, &res, &r) != 0) {
		snprintf(err, errlen, "scan: %s", r.msg);
		return -ENOMEM;
	}
	rc = scan_report_write(dir, &cp_scan.cov, &res, 20, UINT32_MAX, &files, err, errlen);
	if (rc == 0)   /* fingerprint (issue 14): tool SYNs per (block, period) */
		rc = scan_tools_report_write(dir, &cp_scan.bts, &cp_scan.cov, &res, &files, err,
		                             errlen);
	scan_result_free(&res);
	return rc;
}

static int cp_scan_module_init(struct cp *cp)
{
	const struct obs_conf *c = &cp->conf;
	const char *why = NULL;
	/* |S| exactly as the dataplane computes it from the same telescope */
	struct obs_tel *tel = obs_tel_from_conf(c, &why);
	char err[512];
	int rc;

	if (tel == NULL) {
		CP_ERR("scan: cannot build the telescope: %s", why ? why : strerror(errno));
		return -EINVAL;
	}
	rc = cp_scan_init(cp, obs_tel_sample_size(tel));
	obs_tel_free(tel);
	if (rc != 0)
		return rc;
	rc = cp_scan_resp_init(cp);
	if (rc != 0)
		return rc;
	cp_scan.base.alpha = c->scan_alpha_pm / 1000.0;
	cp_scan.base.n = c->scan_n;
	cp_scan.base.m = c->scan_m;
	cp_scan.base.jstar = c->scan_jstar_pm / 1000.0;
	cp_scan.base.sstar = c->scan_sstar_pm / 1000.0;
	cp_scan.cp = cp;
	if (c->scanner_file[0] != '\0' && cp_scan_load_scanners(c->scanner_file, err, sizeof(err)) != 0)
		CP_WARN("scan: scanner table for the overlap column: %s", err);
	if (c->city_mmdb[0] != '\0') {
		struct cp_geo *g = cp_geo_open(c->city_mmdb, NULL, err, sizeof(err));
		if (g == NULL)
			CP_WARN("scan: countries unavailable: %s", err);
		else
			cp_scan_set_geo(g);
	}
	CP_NOTICE("scan: coverage sample |S| %u, L %u, period %s, alpha %.3f n %u m %u J* %.3f "
	          "S* %.3f", cp_scan.cov.sample_size, cp_scan.cov.block_len,
	          obs_period_unit_name(cp_scan.cov.unit), cp_scan.base.alpha, cp_scan.base.n,
	          cp_scan.base.m, cp_scan.base.jstar, cp_scan.base.sstar);
	return 0;
}

static void cp_scan_module_fini(void)
{
	cp_scan_resp_fini();
	cp_scan_fini();
}

/* `tables reload` swapped the dataplane's scanner table in: the control plane's copy
 * (the overlap column) follows. */
static void cp_scan_table_loaded(struct cp *cp, const char *table)
{
	char err[512];

	if (strcmp(table, "scanner") != 0 || cp->conf.scanner_file[0] == '\0')
		return;
	if (cp_scan_load_scanners(cp->conf.scanner_file, err, sizeof(err)) != 0)
		CP_WARN("tables reload: the control plane's scanner list: %s", err);
}

/* /metrics (metrics.h): the blocks by class of the last period-close analysis (what
 * `scan list` shows for the periods it covered), no analysis run for it. */
static void cp_scan_metrics(struct cp *cp, struct cp_mx *x)
{
	(void)cp;
	if (!cp_scan.ready)
		return;
	cp_mx_family(x, "obscura_scan_period_analyses_total", "counter",
	             "Automatic scan analyses run at a period close (SPEC A).");
	cp_mx_u64(x, cp_scan.analyses, 0);
	cp_mx_family(x, "obscura_scan_bad_records_total", "counter",
	             "Malformed coverage cell records skipped by the drain.");
	cp_mx_u64(x, cp_scan.bad_records, 0);
	cp_mx_family(x, "obscura_scan_cells", "gauge", "Coverage cells held (scan cells).");
	cp_mx_u64(x, cp_scan.cov.cells.n, 0);
	cp_mx_family(x, "obscura_scan_blocks", "gauge",
	             "Source blocks by scanner class in the last period-close analysis (scan "
	             "list by_class; class none: not a continuous wide-area scanner; no "
	             "samples before the first period closed).");
	for (int c = 0; cp_scan.have_last && c < SCAN_C_N; c++)
		cp_mx_u64(x, cp_scan.last.n_by_class[c], 1, "class",
		          scan_class_name((enum scan_class)c));
	cp_scan_resp_metrics(x);
}

/* sources.show (fingerprint, issue 14): the scanner-table prefix holding addr in the
 * control plane's copy of the table (the longest one), with its label and file; null
 * when no table is loaded or no prefix holds it. */
void cp_scan_source_show(struct cp *cp, uint32_t addr, json_t *obj)
{
	const struct obs_pfx *best = NULL;

	(void)cp;
	for (size_t i = 0; cp_scan.have_scanners && i < cp_scan.scanners.n; i++) {
		const struct obs_pfx *p = &cp_scan.scanners.pfx[i];
		uint32_t mask = p->len == 0 ? 0 : ~0u << (32 - p->len);

		if ((addr & mask) == (p->addr & mask) && (best == NULL || p->len > best->len))
			best = p;
	}
	if (best == NULL) {
		json_object_set_new(obj, "scanner_table", json_null());
		return;
	}
	json_object_set_new(obj, "scanner_table", json_pack("{s:o, s:s, s:s}", "prefix",
		cp_json_prefix(best->addr, best->len),
		"label", obs_pfx_label(&cp_scan.scanners, best), "file", cp_scan.scanner_path));
}

const struct cp_analysis cp_analysis_scan = {
	.name = "scan", .init = cp_scan_module_init, .fini = cp_scan_module_fini,
	.consumers = { { OBX_TAB_CELL, sizeof(struct obx_cell_rec), cp_scan_cell_merge },
	               { OBX_TAB_RESP, sizeof(struct obx_resp_rec), cp_scan_resp_merge },
	               /* fingerprint (issue 14): tool SYNs per (block, period) */
	               { OBX_TAB_SRC, sizeof(struct obx_src_rec), cp_scan_src_merge } },
	.snap = { .type = CP_SNAP_S_SCAN, .blob = cp_scan_section_blob, .load = cp_scan_section_load,
	          .reset = cp_scan_snap_reset },
	.snap2 = { .type = CP_SNAP_S_RESP, .blob = cp_scan_resp_blob, .load = cp_scan_resp_load,
	           .reset = cp_scan_resp_reset },
	.report = cp_scan_report, .commands = cp_scan_commands,
	.after_epochs = cp_scan_after_epochs, .table_loaded = cp_scan_table_loaded,
	.metrics = cp_scan_metrics,
	.source_show = cp_scan_source_show,     /* fingerprint (issue 14) */
};

