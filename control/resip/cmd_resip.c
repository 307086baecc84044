/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cmd_resip.c — the resip.* ctl commands (SPEC.md B) over the RESIP analysis' state
 * (resip_mod.h): summary, daily hosts, top sources, ports, the table's geography and
 * the GeoIP/PTR country mismatches, with their option words.  Main loop only.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "integrity.h"
#include "json.h"
#include "period.h"
#include "resip_mod.h"

/* the analysis' state (resip_mod.h) */
static struct cp_resip_mod *const M = &cp_resip_mod;


static bool ready(struct cp_reply *r)
{
	if (M->st == NULL) {
		cp_reply_err(r, CP_E_UNAVAILABLE, "the RESIP module is not running");
		return false;
	}
	cp_resip_table_refresh(false);
	return true;
}

static json_t *ipv4_json(uint32_t a)
{
	return cp_json_ipv4(a);
}

/* ------------------------------------------------------------ commands --- */

/* A resip command's arguments: up to six option words (ropts_parse() reads them), the
 * first one's help saying which. */
#define RESIP_W(n, h) { n, CP_ARG_STR, false, 0, 32, h, true }
#define RESIP_ARGS(help) { RESIP_W("w0", help), RESIP_W("w1", "option words"),              \
	RESIP_W("w2", "option words"), RESIP_W("w3", "option words"),                      \
	RESIP_W("w4", "option words"), RESIP_W("w5", "option words"),                      \
	{ NULL, CP_ARG_STR, false, 0, 0, NULL, false } }

enum { RA_RANGE, RA_TOP, RA_PORTS, RA_GEO, RA_MISMATCH, RA_N };
static const struct cp_arg cp_args_resip[RA_N][7] = {
	[RA_RANGE] = RESIP_ARGS("[--from YYYY-MM-DD] [--to YYYY-MM-DD] (UTC days)"),
	[RA_TOP] = RESIP_ARGS("[N] (default 10; 0: all) [--from DAY] [--to DAY]"),
	[RA_PORTS] = RESIP_ARGS("[N] (default 20; 0: all) [--from DAY] [--to DAY]"),
	[RA_GEO] = RESIP_ARGS("[--country CC] [--by region|domain|org|sld]"),
	[RA_MISMATCH] = RESIP_ARGS("[--country CC]"),
};

enum { OPT_N = 1, OPT_RANGE = 2, OPT_CC = 4, OPT_BY = 8 };

struct ropts {
	long long n;              /* -1: not given */
	uint32_t d0, d1;          /* CP_RESIP_ALL when not given */
	char cc[3];
	enum resip_geo_by by;
};

static int parse_day(const char *v, uint32_t *day)
{
	struct tm tm;
	const char *e;

	memset(&tm, 0, sizeof(tm));
	e = strptime(v, "%Y-%m-%d", &tm);
	if (e == NULL || *e != '\0')
		return -1;
	*day = (uint32_t)(timegm(&tm) / 86400);
	return 0;
}

/* Words of a resip command: a bare number (OPT_N), --from/--to DAY (OPT_RANGE),
 * --country CC (OPT_CC), --by X (OPT_BY); "--k v" or "k=v". */
static int ropts_parse(json_t *args, unsigned allowed, struct ropts *o, struct cp_reply *r)
{
	static const char *names[] = { "w0", "w1", "w2", "w3", "w4", "w5" };
	const char *w[6];
	unsigned k = 0;

	o->n = -1;
	o->d0 = 0;
	o->d1 = UINT32_MAX;
	o->by = RESIP_GEO_REGION;
	for (unsigned i = 0; i < 6; i++) {
		json_t *j = json_object_get(args, names[i]);
		if (j != NULL && json_is_string(j))
			w[k++] = json_string_value(j);
	}
	for (unsigned i = 0; i < k; i++) {
		const char *opt = w[i], *val = NULL, *eq;
		char key[16];

		if ((allowed & OPT_N) && o->n < 0 && opt[0] >= '0' && opt[0] <= '9') {
			char *end;
			long long v = strtoll(opt, &end, 10);
			/* the same budget as sources.top (commands.c CP_TOP_MAX) */
			if (*end != '\0' || v < 0 || v > 1000000) {
				cp_reply_err(r, CP_E_BAD_ARGS, "'%s' is not a count (0..1000000)", opt);
				return -1;
			}
			o->n = v;
			continue;
		}
		if (strncmp(opt, "--", 2) == 0)
			opt += 2;
		eq = strchr(opt, '=');
		if (eq != NULL) {
			snprintf(key, sizeof(key), "%.*s", (int)(eq - opt), opt);
			val = eq + 1;
		} else {
			snprintf(key, sizeof(key), "%s", opt);
			if (i + 1 < k)
				val = w[++i];
		}
		if ((allowed & OPT_RANGE) && (strcmp(key, "from") == 0 || strcmp(key, "to") == 0)) {
			uint32_t d;

			if (val == NULL || parse_day(val, &d) != 0) {
				cp_reply_err(r, CP_E_BAD_ARGS, "--%s: '%s' is not a date YYYY-MM-DD", key,
				             val ? val : "");
				return -1;
			}
			if (key[0] == 'f')
				o->d0 = d;
			else
				o->d1 = d;
		} else if ((allowed & OPT_CC) && strcmp(key, "country") == 0) {
			if (val == NULL || strlen(val) != 2 || !isalpha((unsigned char)val[0]) ||
			    !isalpha((unsigned char)val[1])) {
				cp_reply_err(r, CP_E_BAD_ARGS, "--country: '%s' is not two letters",
				             val ? val : "");
				return -1;
			}
			o->cc[0] = (char)toupper((unsigned char)val[0]);
			o->cc[1] = (char)toupper((unsigned char)val[1]);
			o->cc[2] = '\0';
		} else if ((allowed & OPT_BY) && strcmp(key, "by") == 0) {
			if (val == NULL || resip_geo_by_parse(val, &o->by) != 0) {
				cp_reply_err(r, CP_E_BAD_ARGS, "--by: '%s' is not region|domain|org|sld",
				             val ? val : "");
				return -1;
			}
		} else {
			cp_reply_err(r, CP_E_BAD_ARGS, "unknown word '%s' (known:%s%s%s%s)", w[i],
			             allowed & OPT_N ? " N" : "", allowed & OPT_RANGE ? " --from --to" : "",
			             allowed & OPT_CC ? " --country" : "", allowed & OPT_BY ? " --by" : "");
			return -1;
		}
	}
	if (o->d0 > o->d1) {
		cp_reply_err(r, CP_E_BAD_ARGS, "--from is after --to");
		return -1;
	}
	return 0;
}

static json_t *range_json(const struct ropts *o)
{
	if (o->d0 == 0 && o->d1 == UINT32_MAX)
		return json_null();
	return json_pack("{s:o, s:o}", "from", o->d0 ? cp_resip_day_json(o->d0) : json_null(),
	                 "to", o->d1 != UINT32_MAX ? cp_resip_day_json(o->d1) : json_null());
}

/* A command's first step: the analysis running, its words parsed (the country defaulting to
 * the configured one).  false: r holds the error. */
static bool begin(const struct cp *cp, json_t *args, unsigned allowed, struct ropts *o,
                  struct cp_reply *r)
{
	if (!ready(r))
		return false;
	snprintf(o->cc, sizeof(o->cc), "%s", cp->conf.resip_country);
	return ropts_parse(args, allowed, o, r) == 0;
}

/* rc of a query that fails only for memory: true (r holds the error) when it failed. */
static bool failed(int rc, struct cp_reply *r)
{
	if (rc != 0)
		cp_reply_err(r, CP_E_INTERNAL, "out of memory");
	return rc != 0;
}

static json_t *day_or_null(uint32_t first_day, uint32_t day)
{
	return first_day != UINT32_MAX ? cp_resip_day_json(day) : json_null();
}

/* The loss stamp (integrity.h) of the days a request covers: [from, to], all days when
 * neither is given. */
static json_t *span_stamp(const struct ropts *o)
{
	struct cp_integ in;

	cp_integrity_span((uint64_t)o->d0 * OBS_NS_PER_DAY, o->d1 == UINT32_MAX ? 0 :
	                  ((uint64_t)o->d1 + 1) * OBS_NS_PER_DAY, &in);
	return cp_integ_json(&in);
}

static void cp_cmd_resip_summary(struct cp *cp, json_t *args, struct cp_reply *r)
{
	struct cp_resip_totals t;
	struct ropts o;

	if (!begin(cp, args, OPT_RANGE, &o, r) ||
	    failed(cp_resip_totals_range(M->st, o.d0, o.d1, &t), r))
		return;
	r->data = json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:b, "
	                    "s:o, s:o}", "range", range_json(&o),
		"packets", cp_json_u64(t.packets),
		"hosts", cp_json_u64(t.hosts),
		"host_days", cp_json_u64(t.host_days),
		"days", cp_json_u64(t.days),
		"port_packets", cp_json_u64(t.port_packets),
		"counter_resip_packets", cp_json_u64(cp->store.total.resip_packets),
		"tel_packets", cp_json_u64(cp->store.total.tel_packets),
		"src_records", cp_json_u64(t.src_records),
		"port_records", cp_json_u64(t.port_records),
		"bad_records", cp_json_u64(t.bad_records),
		"nomem", cp_json_u64(M->nomem),
		"window_check", cp->conf.resip_window_check,
		"memory_bytes", cp_json_u64(cp_resip_mem(M->st)),
		"table", cp_resip_table_json());
	/* the loss stamp of the days summed (integrity.h) */
	json_object_set_new(r->data, "integrity", span_stamp(&o));
}

/* A reply's rows: row(v, i, ctx) for i < n, NULL ones left out. */
typedef json_t *row_fn(const void *v, size_t i, const void *ctx);

static json_t *rows_json(const void *v, size_t n, row_fn *row, const void *ctx)
{
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++) {
		json_t *x = row(v, i, ctx);
		if (x != NULL)
			json_array_append_new(a, x);
	}
	return a;
}

static json_t *day_row(const void *v, size_t i, const void *ctx)
{
	const struct cp_resip_day *d = (const struct cp_resip_day *)v + i;
	const struct ropts *o = ctx;

	json_t *stamp;

	if (d->day < o->d0 || d->day > o->d1)
		return NULL;
	/* the day's loss stamp (integrity.h), its verdict beside the figures */
	stamp = cp_integ_period_json(OBS_PU_DAY, d->day);
	return json_pack("{s:o, s:o, s:o, s:O, s:o}", "day", cp_resip_day_json(d->day),
	                 "hosts", cp_json_u64(d->hosts), "packets", cp_json_u64(d->packets),
	                 "complete", json_object_get(stamp, "complete"), "integrity", stamp);
}

static json_t *src_row(const void *v, size_t i, const void *ctx)
{
	const struct cp_resip_src *s = (const struct cp_resip_src *)v + i;

	(void)ctx;
	return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o}",
		"addr", ipv4_json(s->addr), "packets", cp_json_u64(s->packets),
		"days", cp_json_u64(s->days), "providers", cp_resip_providers_json(s->addr),
		"first_day", day_or_null(s->first_day, s->first_day),
		"last_day", day_or_null(s->first_day, s->last_day));
}

static json_t *port_row(const void *v, size_t i, const void *ctx)
{
	const struct cp_resip_port *p = (const struct cp_resip_port *)v + i;
	const struct cp_resip_totals *t = ctx;

	return json_pack("{s:s, s:i, s:s, s:o, s:f, s:o}",
		"proto", cp_resip_proto_names[p->proto], "port", (int)p->port,
		"service", cp_resip_service_name(p->proto, p->port),
		"packets", cp_json_u64(p->packets),
		"share", cp_resip_share(p->packets, t->port_packets),
		"days", cp_json_u64(p->days));
}

static void cp_cmd_resip_daily(struct cp *cp, json_t *args, struct cp_reply *r)
{
	struct cp_resip_day *d;
	size_t n;
	struct ropts o;

	if (!begin(cp, args, OPT_RANGE, &o, r) || failed(cp_resip_daily(M->st, &d, &n), r))
		return;
	r->data = rows_json(d, n, day_row, &o);
	free(d);
}

static void cp_cmd_resip_top(struct cp *cp, json_t *args, struct cp_reply *r)
{
	size_t n;
	struct cp_resip_src *s;
	struct ropts o;

	if (!begin(cp, args, OPT_N | OPT_RANGE, &o, r) ||
	    failed(cp_resip_top_range(M->st, o.d0, o.d1, o.n < 0 ? 10 : (size_t)o.n, &s, &n), r))
		return;
	r->data = rows_json(s, n, src_row, NULL);
	/* the rows stay a bare list (old clients); the span's stamp sits beside it */
	r->meta = json_pack("{s:o}", "integrity", span_stamp(&o));
	free(s);
}

static void cp_cmd_resip_ports(struct cp *cp, json_t *args, struct cp_reply *r)
{
	size_t n;
	struct cp_resip_port *p;
	struct cp_resip_totals t;
	struct ropts o;

	if (!begin(cp, args, OPT_N | OPT_RANGE, &o, r) ||
	    failed(cp_resip_totals_range(M->st, o.d0, o.d1, &t) ||
	           cp_resip_ports_range(M->st, o.d0, o.d1, o.n < 0 ? 20 : (size_t)o.n, &p, &n), r))
		return;
	r->data = rows_json(p, n, port_row, &t);
	r->meta = json_pack("{s:o}", "integrity", span_stamp(&o));
	free(p);
}

static json_t *geo_rows_json(const struct resip_geo_table *g)
{
	json_t *a = json_array();

	for (size_t i = 0; i < g->n_rows; i++) {
		json_t *pp = json_object();

		for (uint32_t p = 0; p < M->tab->n_providers; p++)
			if (g->rows[i].per_provider[p])
				json_object_set_new(pp, M->tab->providers[p],
				                    cp_json_u64(g->rows[i].per_provider[p]));
		json_array_append_new(a, json_pack("{s:s, s:o, s:f, s:o}", "key", g->rows[i].key,
		                      "addresses", cp_json_u64(g->rows[i].n),
		                      "share", cp_resip_share(g->rows[i].n, g->n_addrs), "providers", pp));
	}
	return a;
}

static void cp_cmd_resip_geo(struct cp *cp, json_t *args, struct cp_reply *r)
{
	char cc[3], err[512];
	enum resip_geo_by by;
	struct resip_geo_table g;
	struct ropts o;

	if (!begin(cp, args, OPT_CC | OPT_BY, &o, r))
		return;
	memcpy(cc, o.cc, sizeof(cc));
	by = o.by;
	memset(&g, 0, sizeof(g));
	if (cp_resip_geo_compute(cc, by, &g, err, sizeof(err)) != 0) {
		cp_reply_err(r, CP_E_UNAVAILABLE, "%s", err);
		return;
	}
	r->data = json_pack("{s:s, s:s, s:o, s:o, s:o, s:o}", "country", cc,
	                    "by", resip_geo_by_name(by), "addresses", cp_json_u64(g.n_addrs),
	                    "no_geo", cp_json_u64(g.n_no_geo), "with_ptr", cp_json_u64(g.n_ptr),
	                    "rows", geo_rows_json(&g));
	resip_geo_table_free(&g);
}

static json_t *mismatch_row(const void *v, size_t i, const void *ctx)
{
	const struct resip_mismatch *m = (const struct resip_mismatch *)v + i;

	(void)ctx;
	return json_pack("{s:o, s:s, s:s, s:s, s:o}", "addr", ipv4_json(m->addr),
	                 "geo_country", m->geo_cc, "ptr_tld", m->ptr_tld, "name", m->name,
	                 "providers", cp_resip_providers_json(m->addr));
}

static void cp_cmd_resip_mismatch(struct cp *cp, json_t *args, struct cp_reply *r)
{
	char cc[3], err[512];
	struct resip_mismatch *mm = NULL;
	struct resip_geo_ctx ctx;
	size_t n = 0;
	struct ropts o;

	if (!begin(cp, args, OPT_CC, &o, r))
		return;
	memcpy(cc, o.cc, sizeof(cc));
	if (M->tab == NULL) {
		cp_reply_err(r, CP_E_UNAVAILABLE, "no RESIP table loaded%s%s",
		             M->tab_err[0] ? ": " : "", M->tab_err);
		return;
	}
	if (cp_resip_geo_open(err, sizeof(err)) != 0) {
		cp_reply_err(r, CP_E_UNAVAILABLE, "%s", err);
		return;
	}
	ctx = (struct resip_geo_ctx){ .geo = M->geo, .rdns = M->rdns, .orgs = M->orgs,
	                              .ptr_budget_ms = RESIP_PTR_BUDGET_MS };
	if (resip_geo_mismatch(M->tab, &ctx, cc, &mm, &n, err, sizeof(err)) != 0) {
		cp_reply_err(r, CP_E_UNAVAILABLE, "%s", err);
		return;
	}
	r->data = rows_json(mm, n, mismatch_row, NULL);
	free(mm);
}

const struct cp_cmd cp_resip_commands[] = {
	{ "resip.summary", cp_cmd_resip_summary, cp_args_resip[RA_RANGE], CP_ACCESS_READ, false,
	  "RESIP traffic (SPEC B): packets, hosts, days, the table loaded [--from D] [--to D]" },
	{ "resip.daily", cp_cmd_resip_daily, cp_args_resip[RA_RANGE], CP_ACCESS_READ, false,
	  "distinct RESIP hosts and packets per UTC day (Fig. 4)" },
	{ "resip.top", cp_cmd_resip_top, cp_args_resip[RA_TOP], CP_ACCESS_READ, false,
	  "top RESIP sources: packets, days observed, providers (Table 7)" },
	{ "resip.ports", cp_cmd_resip_ports, cp_args_resip[RA_PORTS], CP_ACCESS_READ, false,
	  "RESIP packets per destination port, service and share (Table 8)" },
	{ "resip.geo", cp_cmd_resip_geo, cp_args_resip[RA_GEO], CP_ACCESS_READ, false,
	  "RESIP table geography [--country CC] [--by region|domain|org|sld] (Tables 3-6, A.1)" },
	{ "resip.mismatch", cp_cmd_resip_mismatch, cp_args_resip[RA_MISMATCH], CP_ACCESS_READ,
	  false,
	  "RESIP addresses whose GeoIP country and PTR ccTLD disagree [--country CC]" },
	{ NULL, NULL, NULL, 0, false, NULL },
};
