/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cmd_life.c — the life.* ctl commands (SPEC.md C) over the lifetime analysis' table
 * (life_mod.h): Table 1 summary, CDFs, sensors, countries, categories, continuity, one
 * source.  Main loop only.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "json.h"
#include "life_mod.h"
#include "names.h"

/* the analysis' state (life_mod.h) */
static struct cp_life_mod *const M = &cp_life_mod;

#define NS 1000000000ull

static const char *const bucket_names[] = CP_LIFE_BUCKET_NAMES;
static const char *const cat_names[] = CP_LIFE_CAT_NAMES;

/* ---------------------------------------------------------------- commands --- */

static bool life_ready(struct cp_reply *r)
{
	if (M->life == NULL) {
		cp_reply_err(r, CP_E_UNAVAILABLE, "the lifetime module is not running");
		return false;
	}
	return true;
}

static double share(uint64_t a, uint64_t b)
{
	return b ? (double)a / (double)b : 0.0;
}

/* The report the summary/sensors/countries/categories commands print, or false with the
 * error already in r. */
static bool life_report_get(struct cp_reply *r, struct cp_life_report *rep)
{
	if (!life_ready(r))
		return false;
	if (cp_life_report(M->life, M->geo, rep) != 0) {
		cp_reply_err(r, CP_E_INTERNAL, "out of memory");
		return false;
	}
	return true;
}

static void cp_cmd_life_summary(struct cp *cp, json_t *args, struct cp_reply *r)
{
	struct cp_life_report rep;
	struct cp_life_stats st;
	json_t *b;
	uint64_t grid[CP_LIFE_GRID_L][CP_LIFE_GRID_E], elig;

	(void)cp;
	(void)args;
	if (!life_report_get(r, &rep))
		return;
	b = json_array();
	cp_life_get_stats(M->life, &st);
	cp_life_continuity_grid(M->life, grid, &elig);
	for (unsigned k = 0; k < CP_LIFE_BUCKETS; k++)
		json_array_append_new(b, json_pack("{s:s, s:o, s:f}", "bucket", bucket_names[k],
		                      "sources", cp_json_u64(rep.bucket[k]),
		                      "share", share(rep.bucket[k], rep.n_sources)));
	r->data = json_pack("{s:o, s:o, s:o, s:f, s:o, s:f, s:o, s:o, s:o, s:o, s:o, s:o, s:o, "
	                    "s:o, s:o, s:o, s:o}",
		"sources", cp_json_u64(rep.n_sources), "buckets", b,
		"one_sensor", cp_json_u64(rep.one_sensor),
		"one_sensor_share", share(rep.one_sensor, rep.n_sources),
		"continuity_eligible", cp_json_u64(elig),
		"continuous_share_0.5_0.5", share(grid[3][10], elig),
		"gap_s", cp_json_u64(M->lc.gap_ns / NS),
		"max_sources", cp_json_u64(M->lc.max_sources),
		"evicted", cp_json_u64(st.n_evicted),
		"types_truncated", cp_json_u64(st.n_types_truncated),
		"groups_capped", cp_json_u64(st.n_groups_capped),
		"memory_bytes", cp_json_u64(st.mem_bytes),
		"src_records", cp_json_u64(M->src_records),
		"excluded_records", cp_json_u64(M->excluded_records),
		"event_records", cp_json_u64(M->event_records),
		"bad_records", cp_json_u64(M->bad_records + st.n_bad),
		"nomem", cp_json_u64(M->nomem));
}

static const struct cp_arg cp_args_life_cdf[] = {
	{ "unit", CP_ARG_STR, false, 0, 16, "days|minutes|seconds|events (or --unit)", false },
	{ "value", CP_ARG_STR, false, 0, 16, "the unit after --unit", true },
	{ NULL, CP_ARG_STR, false, 0, 0, NULL, false },
};

static const char *str_arg(json_t *args, const char *name)
{
	json_t *j = json_object_get(args, name);

	return j && json_is_string(j) ? json_string_value(j) : NULL;
}

static void cp_cmd_life_cdf(struct cp *cp, json_t *args, struct cp_reply *r)
{
	static const char *const units[] = { "days", "minutes", "seconds", "events" };
	const char *u = str_arg(args, "unit"), *v = str_arg(args, "value");
	struct cp_life_cdf_pt *p;
	size_t n;
	uint64_t pop;
	int k;
	json_t *rows;

	(void)cp;
	if (!life_ready(r))
		return;
	if (u && (strcmp(u, "--unit") == 0 || strcmp(u, "unit") == 0))
		u = v;
	else if (u && strncmp(u, "--unit=", 7) == 0)
		u += 7;
	else if (v) {
		cp_reply_err(r, CP_E_BAD_ARGS, "unexpected '%s'; usage: life cdf [--unit] "
		             "days|minutes|seconds|events", v);
		return;
	}
	if (u == NULL)
		u = "days";
	k = cp_name_find(units, 4, u);
	if (k < 0) {
		cp_reply_err(r, CP_E_BAD_ARGS, "unit '%s': one of days, minutes, seconds, events", u);
		return;
	}
	if (cp_life_cdf(M->life, (enum cp_life_unit)k, &p, &n, &pop) != 0) {
		cp_reply_err(r, CP_E_INTERNAL, "out of memory");
		return;
	}
	rows = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(rows, json_pack("{s:s, s:o, s:o, s:o, s:f}", "unit", units[k],
		                      "x", cp_json_u64(p[i].x), "n_le", cp_json_u64(p[i].n_le),
		                      "population", cp_json_u64(pop), "cdf", share(p[i].n_le, pop)));
	free(p);
	r->data = rows;
}

/* The reply of a per-bucket command (Figs 3-5): the report, row(rep, bucket) for each
 * bucket, the rows wrapped by wrap(rep, rows) (NULL: the rows alone). */
typedef json_t *bucket_row_fn(const struct cp_life_report *rep, unsigned b);
typedef json_t *bucket_wrap_fn(const struct cp_life_report *rep, json_t *rows);

static void life_bucket_reply(struct cp_reply *r, bucket_row_fn *row, bucket_wrap_fn *wrap)
{
	struct cp_life_report rep;
	json_t *rows;

	if (!life_report_get(r, &rep))
		return;
	rows = json_array();
	for (unsigned b = 0; b < CP_LIFE_BUCKETS; b++)
		json_array_append_new(rows, row(&rep, b));
	r->data = wrap != NULL ? wrap(&rep, rows) : rows;
}

#define LIFE_BUCKET_CMD(name, row, wrap)                                                    \
	static void name(struct cp *cp, json_t *args, struct cp_reply *r)                  \
	{                                                                                  \
		(void)cp;                                                                  \
		(void)args;                                                                \
		life_bucket_reply(r, row, wrap);                                           \
	}

static json_t *life_sensors_row(const struct cp_life_report *rep, unsigned b)
{
	const uint64_t *n = rep->sensors[b];

	return json_pack("{s:s, s:o, s:[IIIII], s:f, s:f, s:f, s:f, s:f}",
		"bucket", bucket_names[b], "sources", cp_json_u64(rep->bucket[b]),
		"counts", (json_int_t)n[0], (json_int_t)n[1], (json_int_t)n[2], (json_int_t)n[3],
		(json_int_t)n[4],
		"1", share(n[0], rep->bucket[b]), "2", share(n[1], rep->bucket[b]),
		"3", share(n[2], rep->bucket[b]), "4", share(n[3], rep->bucket[b]),
		">=5", share(n[4], rep->bucket[b]));
}

static json_t *life_sensors_wrap(const struct cp_life_report *rep, json_t *rows)
{
	return json_pack("{s:o, s:o, s:f}", "buckets", rows,
	                 "one_sensor", cp_json_u64(rep->one_sensor),
	                 "one_sensor_share", share(rep->one_sensor, rep->n_sources));
}

LIFE_BUCKET_CMD(cp_cmd_life_sensors, life_sensors_row, life_sensors_wrap)

static json_t *life_countries_row(const struct cp_life_report *rep, unsigned b)
{
	json_t *top = json_array();

	for (unsigned k = 0; k < rep->n_top[b]; k++)
		json_array_append_new(top, json_pack("{s:s, s:o, s:f}", "country",
		                      rep->top[b][k].cc, "sources", cp_json_u64(rep->top[b][k].n),
		                      "share", share(rep->top[b][k].n, rep->bucket[b])));
	return json_pack("{s:s, s:o, s:o, s:o, s:f}",
		"bucket", bucket_names[b], "sources", cp_json_u64(rep->bucket[b]), "top", top,
		"rest", cp_json_u64(rep->cc_rest[b]), "rest_share",
		share(rep->cc_rest[b], rep->bucket[b]));
}

static json_t *life_countries_wrap(const struct cp_life_report *rep, json_t *rows)
{
	(void)rep;
	return json_pack("{s:o, s:b}", "buckets", rows, "geoip", M->geo != NULL);
}

LIFE_BUCKET_CMD(cp_cmd_life_countries, life_countries_row, life_countries_wrap)

static json_t *life_categories_row(const struct cp_life_report *rep, unsigned b)
{
	json_t *o = json_pack("{s:s, s:o}", "bucket", bucket_names[b], "sources",
	                      cp_json_u64(rep->bucket[b]));
	json_t *cnt = json_array();

	for (unsigned c = 0; c < CP_LIFE_CAT_N; c++)
		json_array_append_new(cnt, cp_json_u64(rep->cat[b][c]));
	json_object_set_new(o, "counts", cnt);
	for (unsigned c = 0; c < CP_LIFE_CAT_N; c++)
		json_object_set_new(o, cat_names[c], json_real(share(rep->cat[b][c], rep->bucket[b])));
	return o;
}

LIFE_BUCKET_CMD(cp_cmd_life_categories, life_categories_row, NULL)

static const struct cp_arg cp_args_life_continuity[] = {
	{ "a", CP_ARG_STR, false, 0, 16, "t_l, or --tl", true },
	{ "b", CP_ARG_STR, false, 0, 16, "t_e, or the t_l value", true },
	{ "c", CP_ARG_STR, false, 0, 16, "--te", true },
	{ "d", CP_ARG_STR, false, 0, 16, "the t_e value", true },
	{ NULL, CP_ARG_STR, false, 0, 0, NULL, false },
};

/* "0", "1", "0.35", ".5", "1.0" -> units of 1/10000, exactly; -1 when not in [0, 1]. */
static long thr_e4(const char *s)
{
	long ip = 0, fp = 0, scale = 1000;
	const char *p = s;

	if (*p >= '0' && *p <= '9') {
		while (*p >= '0' && *p <= '9' && ip <= 10)
			ip = ip * 10 + (*p++ - '0');
	} else if (*p != '.') {
		return -1;
	}
	if (*p == '.') {
		p++;
		if (!(*p >= '0' && *p <= '9'))
			return -1;
		for (; *p >= '0' && *p <= '9'; p++) {
			if (scale == 0 && *p != '0')
				return -1;    /* finer than 1/10000 */
			fp += (*p - '0') * scale;
			scale /= 10;
		}
	}
	if (*p || ip > 1 || (ip == 1 && fp > 0))
		return -1;
	return ip * 10000 + fp;
}

static void cp_cmd_life_continuity(struct cp *cp, json_t *args, struct cp_reply *r)
{
	const char *w[4] = { str_arg(args, "a"), str_arg(args, "b"), str_arg(args, "c"),
	                     str_arg(args, "d") };
	const char *tl = NULL, *te = NULL;
	unsigned nw = 0;

	(void)cp;
	if (!life_ready(r))
		return;
	while (nw < 4 && w[nw])
		nw++;
	for (unsigned i = 0; i < nw; i++) {
		if ((strcmp(w[i], "--tl") == 0 || strcmp(w[i], "--te") == 0) && i + 1 < nw) {
			if (w[i][3] == 'l')
				tl = w[i + 1];
			else
				te = w[i + 1];
			i++;
		} else if (strncmp(w[i], "--tl=", 5) == 0) {
			tl = w[i] + 5;
		} else if (strncmp(w[i], "--te=", 5) == 0) {
			te = w[i] + 5;
		} else if (!tl && w[i][0] != '-') {
			tl = w[i];
		} else if (!te && w[i][0] != '-') {
			te = w[i];
		} else {
			cp_reply_err(r, CP_E_BAD_ARGS, "usage: life continuity [--tl X --te Y]");
			return;
		}
	}
	if (tl || te) {
		long a = tl ? thr_e4(tl) : 0, b = te ? thr_e4(te) : 0;
		uint64_t c, e;

		if (a < 0 || b < 0) {
			cp_reply_err(r, CP_E_BAD_ARGS, "thresholds are decimals in [0, 1] with at most "
			             "4 places: '%s' '%s'", tl ? tl : "", te ? te : "");
			return;
		}
		cp_life_continuity(M->life, (uint32_t)a, (uint32_t)b, &c, &e);
		r->data = json_pack("{s:f, s:f, s:o, s:o, s:f}", "t_l", a / 10000.0, "t_e", b / 10000.0,
		                    "continuous", cp_json_u64(c), "eligible", cp_json_u64(e),
		                    "share", share(c, e));
		return;
	}
	{
		uint64_t grid[CP_LIFE_GRID_L][CP_LIFE_GRID_E], e;
		json_t *rows = json_array();

		cp_life_continuity_grid(M->life, grid, &e);
		for (unsigned a = 0; a < CP_LIFE_GRID_L; a++) {
			json_t *row = json_pack("{s:f}", "t_l", cp_life_grid_tl[a] / 10000.0);

			for (unsigned b = 0; b < CP_LIFE_GRID_E; b++) {
				char k[16];

				snprintf(k, sizeof(k), "%.2f", b * 0.05);
				json_object_set_new(row, k, json_real(share(grid[a][b], e)));
			}
			json_array_append_new(rows, row);
		}
		r->data = json_pack("{s:o, s:o, s:s}", "eligible", cp_json_u64(e), "grid", rows,
		                    "cells", "share of eligible sources continuous at (t_l, t_e)");
	}
}

static const struct cp_arg cp_args_life_show[] = {
	{ "address", CP_ARG_STR, true, 0, 15, "source IPv4 address", false },
	{ NULL, CP_ARG_STR, false, 0, 0, NULL, false },
};

/* One source's lifetime (life.show, and the `lifetime` of sources.show), or NULL when
 * the table does not hold it. */
json_t *cp_life_src_json(struct cp *cp, uint32_t addr)
{
	const struct cp_life_src *s = M->life != NULL ? cp_life_find(M->life, addr) : NULL;
	const struct cp_life_group *g;
	json_t *groups, *cats;
	uint64_t per;

	if (s == NULL)
		return NULL;
	g = cp_life_groups(s);
	groups = json_array();
	for (uint32_t k = 0; k < s->n_groups; k++) {
		json_t *types = json_array();
		const uint32_t *t = cp_life_group_types(&g[k]);

		for (uint32_t i = 0; i < g[k].n_types; i++)
			json_array_append_new(types, cp_life_type_json(t[i]));
		json_array_append_new(groups, json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
			"first", cp_json_time(g[k].first_ns), "last", cp_json_time(g[k].last_ns),
			"first_ns", cp_json_u64(g[k].first_ns), "last_ns", cp_json_u64(g[k].last_ns),
			"events", cp_json_u64(g[k].events), "sensors", cp_sensor_names(cp, g[k].sensor_mask),
			"types", types,
			"gap_before_s", k ? cp_json_u64((g[k].first_ns - g[k - 1].last_ns) / NS) :
			                    json_null()));
	}
	cats = json_array();
	for (unsigned c = 0; c < CP_LIFE_CAT_N; c++)
		if (s->cat_mask & (1u << c))
			json_array_append_new(cats, json_string(cat_names[c]));
	per = cp_life_src_last(s) - cp_life_src_first(s);
	return json_pack("{s:o, s:o, s:o, s:o, s:f, s:s, s:o, s:o, s:o, s:o, s:b}",
		"address", cp_json_ipv4(addr), "first", cp_json_time(cp_life_src_first(s)),
		"last", cp_json_time(cp_life_src_last(s)), "observation_ns", cp_json_u64(per),
		"observation_s", (double)per / 1e9, "bucket", bucket_names[cp_life_bucket(per)],
		"events", cp_json_u64(cp_life_src_events(s)),
		"sensors", cp_sensor_names(cp, cp_life_src_sensors(s)), "categories", cats,
		"groups", groups, "truncated", (s->flags & (CP_LIFE_F_TRUNC | CP_LIFE_F_CAPPED)) != 0);
}

static void cp_cmd_life_show(struct cp *cp, json_t *args, struct cp_reply *r)
{
	const char *a = str_arg(args, "address");
	struct in_addr ia;

	if (!life_ready(r))
		return;
	if (!a || inet_pton(AF_INET, a, &ia) != 1) {
		cp_reply_err(r, CP_E_BAD_ARGS, "'%s' is not an IPv4 address", a ? a : "");
		return;
	}
	r->data = cp_life_src_json(cp, ntohl(ia.s_addr));
	if (r->data == NULL)
		cp_reply_err(r, CP_E_UNAVAILABLE, "%s: not in the lifetime table (never seen, "
		             "excluded, or evicted)", a);
}


const struct cp_cmd cp_life_commands[] = {
	{ "life.summary", cp_cmd_life_summary, NULL, CP_ACCESS_READ, false,
	  "source lifetime (SPEC C): Table 1 buckets, one-sensor share, table bounds, losses" },
	{ "life.cdf", cp_cmd_life_cdf, cp_args_life_cdf, CP_ACCESS_READ, true,
	  "CDF of the observation period: --unit days|minutes|seconds, or events (< 1 min)" },
	{ "life.sensors", cp_cmd_life_sensors, NULL, CP_ACCESS_READ, false,
	  "per lifetime bucket: share of sources seen by 1, 2, 3, 4, >= 5 sensors (Fig. 3)" },
	{ "life.countries", cp_cmd_life_countries, NULL, CP_ACCESS_READ, false,
	  "per lifetime bucket: top 10 countries and the rest (Fig. 4)" },
	{ "life.categories", cp_cmd_life_categories, NULL, CP_ACCESS_READ, false,
	  "per lifetime bucket: share of sources with each event category (Fig. 5)" },
	{ "life.continuity", cp_cmd_life_continuity, cp_args_life_continuity, CP_ACCESS_READ, false,
	  "continuous share (Dice, SPEC C6): the Fig. 8 grid, or one --tl X --te Y" },
	{ "life.show", cp_cmd_life_show, cp_args_life_show, CP_ACCESS_READ, false,
	  "one source: first/last, events, sensors, categories, event groups with their types" },
	{ "rules.status", cp_cmd_rules_status, NULL, CP_ACCESS_READ, false,
	  "payload rules: files, accepted/rejected/commented counts, rejections with reasons" },
	{ "rules.reload", cp_cmd_rules_reload, NULL, CP_ACCESS_ADMIN, false,
	  "re-read rules.files (control plane copy) and post the dataplane's rebuild (answers "
	  "with the request id; `tables status` shows the outcome)" },
	{ NULL, NULL, NULL, 0, false, NULL },
};
