/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cmd_scan.c — SPEC.md A in the control plane: the coverage store the drain feeds
 * (cp_scan_*), the analysis at period close and on demand, and the ctl commands
 *
 *   scan.list   [--class C] [--from P] [--to P] [--all] [overrides]   Table 3 rows
 *   scan.show   BLOCK [overrides]            one block's port set per period
 *   scan.ports  [N] [overrides]              Table 2 (port popularity)
 *   scan.params                              the parameters in force and their sources
 *   scan.cells  [BLOCK]                      raw cells (tests compare them with the reference)
 *   scan.report DIR [--block B] [overrides]  Tables 2/3 (CSV, Markdown) and SVG figures
 *
 * Overrides, per query: --alpha X --n N --m M --jstar X --sstar X.  L and the sample cap
 * are fixed by the dataplane's cells (the dataplane aggregates sources to /L and slots to
 * S before anything reaches us) and cannot be overridden per query; --L is refused with
 * that reason.  Periods are labels of the configured unit (2024-03, 2024-W10,
 * 2024-03-05, 2024-03-05T07) or #INDEX.
 *
 * Arguments come either as named args ({"class":"routine"}) or as obscuractl's words
 * (argv: "--class routine ..."), which arrive in the declared positional slots in order
 * and are re-read here as option words.
 *
 * Main loop only (single-threaded), like every handler.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd_scan.h"
#include "commands.h"
#include "cp_log.h"
#include "report.h"
#include "snapshot.h"
#include "telescope.h"
#include "exchange_recs.h"
#include "geo.h"
#include "json.h"
#include "period.h"
#include "prefix_file.h"
#include "scan.h"
#include "scan_report.h"

struct cp_scan {
	bool ready;
	struct cov_store cov;
	struct scan_params base;            /* config defaults */
	struct obs_pfx_list scanners;       /* for the overlap column */
	bool have_scanners;
	char scanner_path[512];
	char scanner_error[512];
	struct cp_geo *geo;
	uint32_t current;                   /* newest period seen (open), SCAN_NO_PERIOD */
	uint64_t analyses;                  /* automatic analyses at period close */
	struct scan_result last;            /* result of the last period close */
	bool have_last;
	uint32_t close_to;                  /* closed periods not analysed yet: up to this */
	uint32_t last_close_to;             /* the last period-close analysis covered ..this */
	uint64_t last_analysis_ns;          /* CLOCK_MONOTONIC of it */
	/* drain instrumentation */
	uint64_t drains, drain_ns_sum, drain_ns_max, drain_records;
	uint64_t bad_records;               /* malformed cell records skipped */
};

static struct cp_scan cp_scan;

#define CP_SCAN_CLOSE_MIN_NS (2ull * 1000000000ull)

static int cp_scan_close_run(struct cp *cp);

struct cov_store *cp_scan_cov(void)
{
	return cp_scan.ready ? &cp_scan.cov : NULL;
}

int cp_scan_init(const struct cp *cp, uint32_t sample_size)
{
	if (cp_scan.ready && cp_scan.cov.sample_size == sample_size &&
	    cp_scan.cov.block_len == cp->conf.block_len && cp_scan.cov.unit == cp->conf.period)
		return 0;
	if (cp_scan.ready)
		cov_store_fini(&cp_scan.cov);
	cp_scan.ready = false;
	int rc = cov_store_init(&cp_scan.cov, sample_size, (uint8_t)cp->conf.block_len,
	                        (uint8_t)cp->conf.period);
	if (rc != 0)
		return rc;
	scan_params_default(&cp_scan.base);
	cp_scan.current = SCAN_NO_PERIOD;
	cp_scan.close_to = SCAN_NO_PERIOD;
	cp_scan.last_close_to = SCAN_NO_PERIOD;
	cp_scan.ready = true;
	return 0;
}

int cp_scan_adopt(struct cov_store *cs)
{
	if (cp_scan.ready)
		cov_store_fini(&cp_scan.cov);
	cp_scan.cov = *cs;
	memset(cs, 0, sizeof(*cs));
	scan_params_default(&cp_scan.base);
	cp_scan.current = cp_scan.cov.n_cells ? cp_scan.cov.period_max : SCAN_NO_PERIOD;
	cp_scan.close_to = SCAN_NO_PERIOD;
	cp_scan.last_close_to = SCAN_NO_PERIOD;
	cp_scan.ready = true;
	return 0;
}

void cp_scan_fini(void)
{
	if (cp_scan.ready)
		cov_store_fini(&cp_scan.cov);
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
	return (x->net > y->net) - (x->net < y->net);
}

/* Packets per source /24 over the whole observation, from the period store's sources. */
static int cp_scan_ctx_build(const struct cp *cp, struct cp_scan_ctx *c)
{
	const struct cp_store *s = &cp->store;
	size_t k = 0;

	c->n = 0;
	c->s24 = malloc(((size_t)s->n_src + 1) * sizeof(*c->s24));
	if (c->s24 == NULL)
		return -ENOMEM;
	if (s->src != NULL)
		for (uint64_t i = 0; i <= s->src_mask; i++)
			if (s->src[i].packets)
				c->s24[k++] = (struct cp_s24){ s->src[i].addr & 0xffffff00u, s->src[i].packets };
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

/* ------------------------------------------------------------------ arguments */

#define CP_SCAN_OPT(n, h) { n, CP_ARG_STR, false, 0, 64, h, false }
#define CP_SCAN_W(n) { n, CP_ARG_STR, false, 0, 64, "option words", true }
#define CP_SCAN_WORDS \
	CP_SCAN_OPT("from", "first period (label or #INDEX)"), \
	CP_SCAN_OPT("to", "last period"), \
	CP_SCAN_OPT("alpha", "coverage threshold override"), \
	CP_SCAN_OPT("n", "ports for a wide-area period override"), \
	CP_SCAN_OPT("m", "wide-area periods override"), \
	CP_SCAN_OPT("jstar", "routine Jaccard threshold override"), \
	CP_SCAN_OPT("sstar", "routine Simpson threshold override"), \
	CP_SCAN_W("w8"), CP_SCAN_W("w9"), \
	CP_SCAN_W("w10"), CP_SCAN_W("w11"), \
	CP_SCAN_W("w12"), CP_SCAN_W("w13"), \
	CP_SCAN_W("w14"), CP_SCAN_W("w15"), \
	CP_SCAN_W("w16"), \
	{ NULL, CP_ARG_STR, false, 0, 0, NULL, false }

const struct cp_arg cp_args_scan_list[] = {
	CP_SCAN_OPT("class", "routine|semi-routine|ad-hoc|unclassified|none"),
	CP_SCAN_OPT("all", "also blocks that are not continuous scanners"),
	CP_SCAN_OPT("periods", "with each block's port sets (wide-area periods)"),
	CP_SCAN_WORDS
};
const struct cp_arg cp_args_scan_show[] = {
	CP_SCAN_OPT("block", "a.b.0.0/L or any address in the block"),
	CP_SCAN_W("w1"),
	CP_SCAN_WORDS
};
const struct cp_arg cp_args_scan_ports[] = {
	CP_SCAN_OPT("top", "how many ports (default 20; 0: all)"),
	CP_SCAN_W("w1"),
	CP_SCAN_WORDS
};
const struct cp_arg cp_args_scan_cells[] = {
	CP_SCAN_OPT("block", "only this block"),
	{ NULL, CP_ARG_STR, false, 0, 0, NULL, false }
};
const struct cp_arg cp_args_scan_report[] = {
	{ "dir", CP_ARG_STR, true, 0, 1024, "absolute directory to write into", false },
	CP_SCAN_OPT("block", "heatmap block (default: the longest continuous scanner)"),
	CP_SCAN_WORDS
};

struct cp_scan_q {
	struct scan_params p;
	bool have_class, all, periods;
	enum scan_class cls;
	const char *block;      /* scan.show / scan.cells / report heatmap */
	long top;
	const char *dir;        /* report */
};

static int cp_scan_num(const char *name, const char *v, double lo, double hi, double *out,
                       struct cp_reply *r)
{
	char *end;
	double d;

	errno = 0;
	d = strtod(v, &end);
	if (errno || end == v || *end || !(d >= lo && d <= hi)) {
		cp_reply_err(r, CP_E_BAD_ARGS, "--%s: '%s' is not a number in [%g, %g]", name, v, lo, hi);
		return -1;
	}
	*out = d;
	return 0;
}

static int cp_scan_period(const char *name, const char *v, uint32_t *out, struct cp_reply *r)
{
	unsigned u = cp_scan.ready ? cp_scan.cov.unit : OBS_PU_MONTH;

	if (obs_period_parse(u, v, out) != 0) {
		cp_reply_err(r, CP_E_BAD_ARGS, "--%s: '%s' is not a %s period (e.g. %s, or #INDEX)",
		             name, v, obs_period_unit_name(u),
		             u == OBS_PU_HOUR ? "2024-03-05T07" : u == OBS_PU_DAY ? "2024-03-05" :
		             u == OBS_PU_WEEK ? "2024-W10" : "2024-03");
		return -1;
	}
	return 0;
}

static int cp_scan_set(struct cp_scan_q *q, const char *name, const char *v, struct cp_reply *r)
{
	double d;

	if (strcmp(name, "class") == 0) {
		if (scan_class_parse(v, &q->cls) != 0) {
			cp_reply_err(r, CP_E_BAD_ARGS, "--class: '%s' is not routine, semi-routine, "
			             "ad-hoc, unclassified or none", v);
			return -1;
		}
		q->have_class = true;
	} else if (strcmp(name, "from") == 0) {
		return cp_scan_period(name, v, &q->p.from, r);
	} else if (strcmp(name, "to") == 0) {
		return cp_scan_period(name, v, &q->p.to, r);
	} else if (strcmp(name, "alpha") == 0) {
		if (cp_scan_num(name, v, 1e-9, 1.0, &q->p.alpha, r))
			return -1;
	} else if (strcmp(name, "jstar") == 0) {
		if (cp_scan_num(name, v, 0.0, 1.0, &q->p.jstar, r))
			return -1;
	} else if (strcmp(name, "sstar") == 0) {
		if (cp_scan_num(name, v, 0.0, 1.0, &q->p.sstar, r))
			return -1;
	} else if (strcmp(name, "n") == 0 || strcmp(name, "m") == 0 || strcmp(name, "top") == 0) {
		if (cp_scan_num(name, v, name[0] == 't' ? 0 : 1, name[0] == 'm' ? 100000 : 65536, &d, r))
			return -1;
		if (d != (double)(long)d) {
			cp_reply_err(r, CP_E_BAD_ARGS, "--%s: '%s' is not an integer", name, v);
			return -1;
		}
		if (name[0] == 'n')
			q->p.n = (uint32_t)d;
		else if (name[0] == 'm')
			q->p.m = (uint32_t)d;
		else
			q->top = (long)d;
	} else if (strcmp(name, "all") == 0) {
		q->all = true;
	} else if (strcmp(name, "periods") == 0) {
		q->periods = true;
	} else if (strcmp(name, "block") == 0) {
		q->block = v;
	} else if (strcmp(name, "L") == 0 || strcmp(name, "l") == 0) {
		cp_reply_err(r, CP_E_BAD_ARGS, "--L: the block length is fixed by the dataplane's "
		             "coverage cells (analysis.block_len = %u); change it in the config and "
		             "restart", cp_scan.ready ? cp_scan.cov.block_len : 0);
		return -1;
	} else {
		cp_reply_err(r, CP_E_BAD_ARGS, "unknown option --%s", name);
		return -1;
	}
	return 0;
}

/*
 * Fill q from args.  positional: the names of the command's leading positional words
 * (e.g. "block" for scan.show) when given as argv.
 */
static int cp_scan_args(json_t *args, const struct cp_arg *spec, const char *positional,
                        struct cp_scan_q *q, struct cp_reply *r)
{
	const char *words[32], *decl[32];
	size_t nw = 0, n_decl = 0;
	bool argv_style = false;

	while (spec[n_decl].name != NULL && n_decl < 32) {
		decl[n_decl] = spec[n_decl].name;
		n_decl++;
	}

	memset(q, 0, sizeof(*q));
	q->p = cp_scan.base;
	q->top = -1;
	for (size_t i = 0; i < n_decl; i++) {
		json_t *v = json_object_get(args, decl[i]);
		if (v == NULL)
			continue;
		if (json_is_string(v) && strncmp(json_string_value(v), "--", 2) == 0)
			argv_style = true;
	}
	if (!argv_style) {
		for (size_t i = 0; i < n_decl; i++) {
			json_t *v = json_object_get(args, decl[i]);
			if (v == NULL || !json_is_string(v))
				continue;
			if (strcmp(decl[i], "block") == 0) {
				q->block = json_string_value(v);
				continue;
			}
			if (strcmp(decl[i], "dir") == 0) {
				q->dir = json_string_value(v);
				continue;
			}
			if ((strcmp(decl[i], "all") == 0 || strcmp(decl[i], "periods") == 0) &&
			    strcmp(json_string_value(v), "false") == 0)
				continue;
			if (decl[i][0] == 'w' && decl[i][1] >= '0' && decl[i][1] <= '9') {
				cp_reply_err(r, CP_E_BAD_ARGS, "'%s': give options as --NAME VALUE words "
				             "or as named args", json_string_value(v));
				return -1;
			}
			if (cp_scan_set(q, decl[i], json_string_value(v), r))
				return -1;
		}
	} else {
		/* argv: the words fill the declared slots in order */
		for (size_t i = 0; i < n_decl && nw < 32; i++) {
			json_t *v = json_object_get(args, decl[i]);
			if (v == NULL)
				break;
			words[nw++] = json_string_value(v);
		}
		for (size_t i = 0; i < nw; i++) {
			const char *w = words[i];
			if (strncmp(w, "--", 2) != 0) {
				/* the command's one positional word, in first place only */
				if (i == 0 && positional && strcmp(positional, "block") == 0) {
					q->block = w;
					continue;
				}
				if (i == 0 && positional && strcmp(positional, "dir") == 0) {
					q->dir = w;
					continue;
				}
				if (i == 0 && positional && strcmp(positional, "top") == 0) {
					if (cp_scan_set(q, "top", w, r))
						return -1;
					continue;
				}
				cp_reply_err(r, CP_E_BAD_ARGS, "unexpected word '%s' (options are --NAME VALUE)", w);
				return -1;
			}
			if (strcmp(w + 2, "all") == 0 || strcmp(w + 2, "periods") == 0) {
				cp_scan_set(q, w + 2, "true", r);
				continue;
			}
			if (i + 1 >= nw) {
				cp_reply_err(r, CP_E_BAD_ARGS, "%s needs a value", w);
				return -1;
			}
			if (cp_scan_set(q, w + 2, words[i + 1], r))
				return -1;
			i++;
		}
	}
	const char *why;
	if (scan_params_check(&q->p, &why) != 0) {
		cp_reply_err(r, CP_E_BAD_ARGS, "%s", why);
		return -1;
	}
	return 0;
}

static int cp_scan_parse_block(const char *s, uint32_t *block, struct cp_reply *r)
{
	char buf[32], *slash;
	uint32_t a;
	uint8_t len;
	const char *why;

	snprintf(buf, sizeof(buf), "%s", s);
	slash = strchr(buf, '/');
	if (slash)
		*slash = '\0';
	if (obs_pfx_parse_cidr(buf, &a, &len, &why) != 0) {
		cp_reply_err(r, CP_E_BAD_ARGS, "'%s' is not an IPv4 block: %s", s, why);
		return -1;
	}
	if (slash) {
		char *end;
		long l = strtol(slash + 1, &end, 10);
		if (*end || l != cp_scan.cov.block_len) {
			cp_reply_err(r, CP_E_BAD_ARGS, "'%s': blocks are /%u (analysis.block_len)", s,
			             cp_scan.cov.block_len);
			return -1;
		}
	}
	*block = cp_scan.cov.block_len == 32 ? a : a & (uint32_t)(0xffffffffu << (32 - cp_scan.cov.block_len));
	return 0;
}

static bool cp_scan_ready(struct cp_reply *r)
{
	if (!cp_scan.ready) {
		cp_reply_err(r, CP_E_UNAVAILABLE, "no coverage data yet (the dataplane has not "
		             "published its telescope sample)");
		return false;
	}
	return true;
}

/* ------------------------------------------------------------------ JSON */

static json_t *cp_scan_jperiod(uint32_t p)
{
	char b[OBS_PERIOD_LABEL_MAX];

	if (p == SCAN_NO_PERIOD)
		return json_null();
	obs_period_label(cp_scan.cov.unit, p, b, sizeof(b));
	return json_string(b);
}

static json_t *cp_scan_jblock(uint32_t b)
{
	char s[40];

	snprintf(s, sizeof(s), "%u.%u.%u.%u/%u", b >> 24, (b >> 16) & 255, (b >> 8) & 255, b & 255,
	         cp_scan.cov.block_len);
	return json_string(s);
}

static json_t *cp_scan_jports(const uint16_t *p, uint32_t n)
{
	json_t *a = json_array();
	for (uint32_t i = 0; i < n; i++)
		json_array_append_new(a, json_integer(p[i]));
	return a;
}

static json_t *cp_scan_jparams(const struct scan_params *p)
{
	return json_pack("{s:f, s:i, s:i, s:f, s:f, s:o, s:o, s:i, s:s, s:i, s:b}",
		"alpha", p->alpha, "n", (json_int_t)p->n, "m", (json_int_t)p->m,
		"jstar", p->jstar, "sstar", p->sstar,
		"from", p->from == 0 ? json_null() : cp_scan_jperiod(p->from),
		"to", cp_scan_jperiod(p->to),
		"block_len", (json_int_t)cp_scan.cov.block_len,
		"period", obs_period_unit_name(cp_scan.cov.unit),
		"sample_size", (json_int_t)cp_scan.cov.sample_size,
		"block_len_fixed", 1);
}

static json_t *cp_scan_jrow(const struct scan_block *b, bool with_periods)
{
	char b24[24];
	json_t *o, *periods = json_array();

	for (uint32_t i = 0; i < b->n_psets; i++)
		json_array_append_new(periods, json_pack("{s:o, s:i, s:o}",
			"period", cp_scan_jperiod(b->psets[i].period),
			"n_ports", (json_int_t)b->psets[i].n_ports,
			"ports", cp_scan_jports(b->psets[i].ports, b->psets[i].n_ports)));
	snprintf(b24, sizeof(b24), "%u.%u.%u.0/24", b->busiest24 >> 24, (b->busiest24 >> 16) & 255,
	         (b->busiest24 >> 8) & 255);
	o = json_pack("{s:o, s:o, s:o, s:o, s:i, s:s, s:i, s:i, s:o, s:o, s:I, s:o, s:o, s:I, s:I, "
	              "s:f, s:o, s:b, s:o}",
		"block", cp_scan_jblock(b->block),
		"country", b->has_country ? json_string(b->cc) : json_null(),
		"first", cp_scan_jperiod(b->first), "last", cp_scan_jperiod(b->last),
		"n_wide", (json_int_t)b->n_wide, "class", scan_class_name(b->cls),
		"pmax", (json_int_t)b->pmax, "pmin", (json_int_t)b->pmin,
		"j", b->n_pairs ? json_real(b->j) : json_null(),
		"s", b->n_pairs ? json_real(b->s) : json_null(),
		"n_pairs", (json_int_t)b->n_pairs,
		"scanner", b->scanner_label ? json_string(b->scanner_label[0] ? b->scanner_label : "yes") : json_null(),
		"busiest24", b->has_busiest ? json_string(b24) : json_null(),
		"syns", (json_int_t)b->syns, "mirai", (json_int_t)b->mirai,
		"mirai_share", b->mirai_share,
		"gamma", json_null(), "partial", b->partial, "periods", periods);
	if (!with_periods)
		json_object_del(o, "periods");
	return o;
}

static int cp_scan_run(struct cp *cp, const struct scan_params *p, struct scan_result *res,
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
	return 0;
}

/* ------------------------------------------------------------------ handlers */

void cp_cmd_scan_list(struct cp *cp, json_t *args, struct cp_reply *r)
{
	struct cp_scan_q q;
	struct scan_result res;
	json_t *rows;

	if (!cp_scan_ready(r) || cp_scan_args(args, cp_args_scan_list, NULL, &q, r))
		return;
	if (cp_scan_run(cp, &q.p, &res, r))
		return;
	rows = json_array();
	for (size_t i = 0; i < res.n_blocks; i++) {
		const struct scan_block *b = &res.blocks[i];
		if (q.have_class ? b->cls != q.cls : (!q.all && b->cls == SCAN_C_NONE))
			continue;
		json_array_append_new(rows, cp_scan_jrow(b, q.periods));
	}
	r->data = json_pack("{s:o, s:b, s:I, s:I, s:{s:I, s:I, s:I, s:I, s:I}, s:o}",
		"params", cp_scan_jparams(&res.p), "partial", res.partial,
		"cells", (json_int_t)res.n_cells, "continuous", (json_int_t)res.n_continuous,
		"by_class", "routine", (json_int_t)res.n_by_class[SCAN_C_ROUTINE],
		"semi-routine", (json_int_t)res.n_by_class[SCAN_C_SEMI],
		"ad-hoc", (json_int_t)res.n_by_class[SCAN_C_ADHOC],
		"unclassified", (json_int_t)res.n_by_class[SCAN_C_UNCLASSIFIED],
		"none", (json_int_t)res.n_by_class[SCAN_C_NONE],
		"blocks", rows);
	scan_result_free(&res);
}

void cp_cmd_scan_show(struct cp *cp, json_t *args, struct cp_reply *r)
{
	struct cp_scan_q q;
	struct scan_pset *ps;
	size_t n;
	uint32_t blk;
	json_t *list;

	(void)cp;
	if (!cp_scan_ready(r) || cp_scan_args(args, cp_args_scan_show, "block", &q, r))
		return;
	if (q.block == NULL) {
		cp_reply_err(r, CP_E_BAD_ARGS, "scan show needs a BLOCK (a.b.0.0/%u)", cp_scan.cov.block_len);
		return;
	}
	if (cp_scan_parse_block(q.block, &blk, r))
		return;
	if (scan_block_periods(&cp_scan.cov, &q.p, blk, &ps, &n) != 0) {
		cp_reply_err(r, CP_E_INTERNAL, "out of memory");
		return;
	}
	list = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(list, json_pack("{s:o, s:b, s:i, s:o, s:I, s:I, s:i, s:b}",
			"period", cp_scan_jperiod(ps[i].period), "wide", ps[i].wide,
			"n_ports", (json_int_t)ps[i].n_ports,
			"ports", cp_scan_jports(ps[i].ports, ps[i].n_ports),
			"syns", (json_int_t)ps[i].syns, "mirai", (json_int_t)ps[i].mirai,
			"dports_seen", (json_int_t)ps[i].n_cells,
			"partial", ps[i].period == cp_scan.current));
	scan_psets_free(ps, n);
	r->data = json_pack("{s:o, s:o, s:o}", "block", cp_scan_jblock(blk),
	                    "params", cp_scan_jparams(&q.p), "periods", list);
}

void cp_cmd_scan_ports(struct cp *cp, json_t *args, struct cp_reply *r)
{
	struct cp_scan_q q;
	struct scan_result res;
	json_t *list;
	size_t top;

	if (!cp_scan_ready(r) || cp_scan_args(args, cp_args_scan_ports, "top", &q, r))
		return;
	if (cp_scan_run(cp, &q.p, &res, r))
		return;
	top = q.top < 0 ? 20 : q.top == 0 ? res.n_pop : (size_t)q.top;
	list = json_array();
	for (size_t i = 0; i < res.n_pop && i < top; i++)
		json_array_append_new(list, json_pack("{s:i, s:i, s:I, s:f}", "rank", (json_int_t)(i + 1),
			"port", (json_int_t)res.pop[i].port, "sets", (json_int_t)res.pop[i].sets,
			"share", res.pop[i].share));
	r->data = json_pack("{s:o, s:b, s:I, s:o}", "params", cp_scan_jparams(&res.p),
	                    "partial", res.partial, "port_sets", (json_int_t)res.n_port_sets,
	                    "ports", list);
	scan_result_free(&res);
}

void cp_cmd_scan_params(struct cp *cp, json_t *args, struct cp_reply *r)
{
	(void)args;
	if (!cp_scan_ready(r))
		return;
	if (cp_scan_close_run(cp) < 0) {
		cp_reply_err(r, CP_E_INTERNAL, "out of memory analysing the closed periods");
		return;
	}
	r->data = json_pack("{s:o, s:o, s:I, s:I, s:I, s:I, s:o, s:o, s:s, s:o, s:{s:I, s:f, s:f, s:I}, s:I}",
		"params", cp_scan_jparams(&cp_scan.base),
		"current_period", cp_scan_jperiod(cp_scan.current),
		"cells", (json_int_t)cp_scan.cov.n_cells, "dense_cells", (json_int_t)cp_scan.cov.n_dense,
		"bytes", (json_int_t)cov_store_bytes(&cp_scan.cov),
		"scanner_prefixes", (json_int_t)(cp_scan.have_scanners ? cp_scan.scanners.n : 0),
		"scanner_file", cp_scan.scanner_path[0] ? json_string(cp_scan.scanner_path) : json_null(),
		"scanner_error", cp_scan.scanner_error[0] ? json_string(cp_scan.scanner_error) : json_null(),
		"overridable", "alpha n m jstar sstar from to (L and the sample cap are fixed by the dataplane's cells)",
		"geo", cp_scan.geo ? json_true() : json_false(),
		"drain_cells", "epochs", (json_int_t)cp_scan.drains,
		"mean_ms", cp_scan.drains ? cp_scan.drain_ns_sum / 1e6 / (double)cp_scan.drains : 0.0,
		"max_ms", cp_scan.drain_ns_max / 1e6, "records", (json_int_t)cp_scan.drain_records,
		"analyses", (json_int_t)cp_scan.analyses);
	json_object_set_new(r->data, "bad_records", json_integer((json_int_t)cp_scan.bad_records));
	if (cp_scan.have_last)
		json_object_set_new(r->data, "last_close", json_pack("{s:o, s:I, s:I, s:I, s:I}",
			"to", cp_scan_jperiod(cp_scan.last_close_to),
			"continuous", (json_int_t)cp_scan.last.n_continuous,
			"routine", (json_int_t)cp_scan.last.n_by_class[SCAN_C_ROUTINE],
			"semi-routine", (json_int_t)cp_scan.last.n_by_class[SCAN_C_SEMI],
			"ad-hoc", (json_int_t)cp_scan.last.n_by_class[SCAN_C_ADHOC]));
	/* the whole drain per epoch (drain.c: copy, journal + sync, every consumer, release) */
	json_object_set_new(r->data, "drain_epoch", json_pack("{s:I, s:f, s:f}",
		"epochs", (json_int_t)cp->drain.drain_epochs,
		"mean_ms", cp->drain.drain_epochs ?
			cp->drain.drain_ns_total / 1e6 / (double)cp->drain.drain_epochs : 0.0,
		"max_ms", cp->drain.drain_ns_max / 1e6));
}

void cp_cmd_scan_cells(struct cp *cp, json_t *args, struct cp_reply *r)
{
	json_t *jb = json_object_get(args, "block"), *list;
	uint32_t blk = 0;
	bool one = false;

	(void)cp;
	if (!cp_scan_ready(r))
		return;
	if (jb != NULL && json_is_string(jb)) {
		if (cp_scan_parse_block(json_string_value(jb), &blk, r))
			return;
		one = true;
	}
	list = json_array();
	for (uint32_t i = 0; i <= cp_scan.cov.mask; i++) {
		const struct cov_cell *c = &cp_scan.cov.cell[i];
		if (!(c->flags & COV_F_USED) || (one && c->block != blk))
			continue;
		json_array_append_new(list, json_pack("{s:o, s:o, s:i, s:i, s:i, s:I, s:I}",
			"period", cp_scan_jperiod(c->period), "block", cp_scan_jblock(c->block),
			"proto", (json_int_t)c->proto, "dport", (json_int_t)c->dport,
			"hits", (json_int_t)c->n, "syns", (json_int_t)c->syns, "mirai", (json_int_t)c->mirai));
	}
	r->data = list;
}

void cp_cmd_scan_report(struct cp *cp, json_t *args, struct cp_reply *r)
{
	struct cp_scan_q q;
	struct scan_result res;
	struct scan_report_files files;
	uint32_t heat = UINT32_MAX;
	char err[512];
	json_t *names;

	if (!cp_scan_ready(r) || cp_scan_args(args, cp_args_scan_report, "dir", &q, r))
		return;
	if (q.dir == NULL || q.dir[0] != '/') {
		cp_reply_err(r, CP_E_BAD_ARGS, "scan report needs an absolute directory");
		return;
	}
	if (q.block && cp_scan_parse_block(q.block, &heat, r))
		return;
	if (cp_scan_run(cp, &q.p, &res, r))
		return;
	if (scan_report_write(q.dir, &cp_scan.cov, &res, q.top < 0 ? 20 : (unsigned)q.top, heat,
	                      &files, err, sizeof(err)) != 0) {
		scan_result_free(&res);
		cp_reply_err(r, CP_E_BAD_ARGS, "report: %s", err);
		return;
	}
	names = json_array();
	for (unsigned i = 0; i < files.n; i++)
		json_array_append_new(names, json_string(files.name[i]));
	r->data = json_pack("{s:s, s:o, s:I}", "dir", q.dir, "files", names,
	                    "continuous", (json_int_t)res.n_continuous);
	scan_result_free(&res);
}

/* ------------------------------------------------------------------ period close */

static uint64_t cp_scan_mono_ns(void);

/* Analyse every closed period (up to close_to) now.  1 when it ran, -ENOMEM. */
static int cp_scan_close_run(struct cp *cp)
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

static struct cp *cp_scan_cp;

static uint64_t cp_scan_mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* OBX_TAB_CELL consumer (store.h's prepare/apply protocol). */
static int cp_scan_cell_merge(void *ctx, const struct cp_epoch *e, const void *recs, uint32_t n,
                              uint32_t rec_size)
{
	const struct cp_tab *bm = cp_epoch_tab(e, OBX_TAB_BITMAP);
	uint64_t t0, bad = 0;
	uint32_t maxp = 0;
	long k;

	(void)ctx;
	if (!cp_scan.ready)
		return 0;
	if (recs == NULL) {        /* prepare */
		if (rec_size != sizeof(struct obx_cell_rec))
			return -EPROTO;
		if (bm != NULL && bm->n > 0 && (uint64_t)bm->rec_size * 8 < cp_scan.cov.sample_size)
			return -EPROTO;
		return cov_store_reserve(&cp_scan.cov, n);
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
	if (n > 0 && cp_scan_cp != NULL)
		cp_scan_period_seen(cp_scan_cp, maxp);
	return 0;
}

static int cp_scan_snap_save(void *ctx, const struct cp_store *s, struct cp_snap_w *w)
{
	uint8_t *buf;
	size_t len;
	int rc;

	(void)ctx;
	(void)s;
	if (!cp_scan.ready)
		return 0;
	rc = cov_store_serialize(&cp_scan.cov, &buf, &len);
	if (rc != 0)
		return rc;
	cp_snap_put(w, buf, len);
	free(buf);
	return 0;
}

static int cp_scan_snap_load(void *ctx, struct cp_store *s, const void *data, size_t len,
                             char *err, size_t errlen)
{
	struct cov_store cs;
	const char *why = "";
	int rc;

	(void)ctx;
	(void)s;
	rc = cov_store_deserialize(&cs, data, len, &why);
	if (rc != 0) {
		snprintf(err, errlen, "scan section: %s", rc == -EBADMSG ? why : strerror(-rc));
		return rc;
	}
	if (cp_scan.ready && (cs.sample_size != cp_scan.cov.sample_size ||
	                      cs.block_len != cp_scan.cov.block_len || cs.unit != cp_scan.cov.unit)) {
		snprintf(err, errlen, "scan section: coverage kept for |S| %u, L %u, period %s, but "
		         "the config gives |S| %u, L %u, period %s (move the snapshot away to start "
		         "over)", cs.sample_size, cs.block_len, obs_period_unit_name(cs.unit),
		         cp_scan.cov.sample_size, cp_scan.cov.block_len,
		         obs_period_unit_name(cp_scan.cov.unit));
		cov_store_fini(&cs);
		return -EBADMSG;
	}
	cp_scan_adopt(&cs);
	return 0;
}

static void cp_scan_snap_reset(void *ctx, struct cp_store *s)
{
	uint32_t ss = cp_scan.cov.sample_size;
	uint8_t l = cp_scan.cov.block_len, u = cp_scan.cov.unit;

	(void)ctx;
	(void)s;
	if (!cp_scan.ready)
		return;
	cov_store_fini(&cp_scan.cov);
	if (cov_store_init(&cp_scan.cov, ss, l, u) != 0)
		cp_scan.ready = false;
	cp_scan.current = SCAN_NO_PERIOD;
}

static int cp_scan_report(void *ctx, const char *dir, char *err, size_t errlen)
{
	struct scan_result res;
	struct scan_report_files files;
	struct cp_reply r;
	int rc;

	(void)ctx;
	if (!cp_scan.ready || cp_scan_cp == NULL)
		return 0;
	memset(&r, 0, sizeof(r));
	if (cp_scan_run(cp_scan_cp, &cp_scan.base, &res, &r) != 0) {
		snprintf(err, errlen, "scan: %s", r.msg);
		return -ENOMEM;
	}
	rc = scan_report_write(dir, &cp_scan.cov, &res, 20, UINT32_MAX, &files, err, errlen);
	scan_result_free(&res);
	return rc;
}

int cp_scan_module_init(struct cp *cp)
{
	const struct obs_conf *c = &cp->conf;
	struct obs_tel_prefix *pf = calloc((size_t)OBS_CONF_MAX_SENSORS * OBS_CONF_MAX_PREFIXES,
	                                   sizeof(*pf));
	struct obs_tel *tel;
	const char *why = NULL;
	unsigned n = 0;
	char err[512];
	int rc;

	cp_scan_cp = cp;
	for (uint32_t s = 0; pf != NULL && s < c->n_sensors; s++)
		for (uint32_t i = 0; i < c->sensors[s].n_prefixes; i++)
			pf[n++] = (struct obs_tel_prefix){ c->sensors[s].prefix_addr[i],
			                                   c->sensors[s].prefix_len[i], (uint8_t)s };
	/* |S| exactly as the dataplane computes it from the same telescope */
	tel = pf ? obs_tel_build(pf, n, c->sample_cap, &why) : NULL;
	free(pf);
	if (tel == NULL) {
		CP_ERR("scan: cannot build the telescope: %s", why ? why : strerror(errno));
		return -EINVAL;
	}
	rc = cp_scan_init(cp, obs_tel_sample_size(tel));
	obs_tel_free(tel);
	if (rc != 0)
		return rc;
	cp_scan.base.alpha = c->scan_alpha_pm / 1000.0;
	cp_scan.base.n = c->scan_n;
	cp_scan.base.m = c->scan_m;
	cp_scan.base.jstar = c->scan_jstar_pm / 1000.0;
	cp_scan.base.sstar = c->scan_sstar_pm / 1000.0;
	if ((rc = cp_tab_register(OBX_TAB_CELL, "scan", cp_scan_cell_merge, NULL)) != 0 ||
	    (rc = cp_snapshot_section_register(CP_SNAP_S_SCAN, "scan", cp_scan_snap_save,
	                                       cp_scan_snap_load, cp_scan_snap_reset, NULL)) != 0 ||
	    (rc = cp_report_register("scan", cp_scan_report, NULL)) != 0) {
		CP_ERR("scan: registration failed: %s", strerror(-rc));
		return rc;
	}
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

void cp_scan_module_fini(void)
{
	cp_scan_fini();
	cp_scan_cp = NULL;
}
