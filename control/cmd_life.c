/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cmd_life.c — the lifetime module (cmd_life.h): exchange consumers, snapshot section,
 * report writer, `life.*` and `rules.*` commands.  Main loop only.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "cmd_life.h"
#include "cp_log.h"
#include "exchange_recs.h"
#include "geo.h"
#include "json.h"
#include "life_report.h"
#include "report.h"
#include "rules_parse.h"
#include "snapshot.h"
#include "store.h"

#define NS 1000000000ull
#define CP_LIFE_MAX_REJ_KEPT 200

static const char *const bucket_names[] = CP_LIFE_BUCKET_NAMES;
static const char *const cat_names[] = CP_LIFE_CAT_NAMES;

struct cp_life_mod {
	struct cp *cp;
	struct cp_life_conf lc;
	struct cp_life *life;
	struct cp_geo *geo;             /* enrich.city_mmdb, owned; NULL: countries "--" */
	/* the control plane's own parse of rules.files (no Hyperscan): sid -> msg and
	 * category, and the rejection reasons; the counts are the dataplane's */
	struct obs_rule_list *rules;
	char rules_err[512];
	uint32_t n_rej_kept;
	char *rej[CP_LIFE_MAX_REJ_KEPT];
	/* consumer counters (this run) */
	uint64_t src_records, excluded_records, event_records, bad_records, nomem;
};

static struct cp_life_mod M;

struct cp_life *cp_life_module_table(void)
{
	return M.life;
}


/* ---------------------------------------------------------------- consumers --- */

static void life_add(const struct cp_life_hour *h)
{
	int rc = cp_life_add(M.life, h);

	if (rc == -ENOMEM)
		M.nomem++;      /* counted, never silent; the state stays consistent */
	else if (rc != 0)
		M.bad_records++;
}

/* One event record (the EVENT table's, or a source record's inline event): the hour's
 * sensor, category and type; the SRC record counts the packets.  The caller checked the
 * hour contract. */
static void life_event_add(uint32_t addr, uint64_t first_ns, uint64_t last_ns, uint8_t sensor,
                           uint8_t category, const uint32_t *type)
{
	struct cp_life_hour h;

	M.event_records++;
	if (sensor >= 64 || category >= CP_LIFE_CAT_N) {
		M.bad_records++;
		return;
	}
	memset(&h, 0, sizeof(h));
	h.addr = addr;
	h.first_ns = first_ns;
	h.last_ns = last_ns;
	h.events = 0;
	h.sensor_mask = 1ull << sensor;
	h.cat_mask = (uint8_t)(1u << category);
	h.n_types = 1;
	h.types = type;
	life_add(&h);
}

/* Reserve room for the sources of an epoch's records (the address is every hour-keyed
 * record's first word) that the table does not hold yet — not for every record: an
 * epoch of known sources would otherwise grow the table each time (store.c, the same). */
static int life_reserve(const struct cp_epoch *e, unsigned kind, uint32_t n, uint32_t rec_size)
{
	const struct cp_tab *t = cp_epoch_tab(e, kind);
	uint32_t fresh = 0;

	if (cp_life_has_room(M.life, n) || t == NULL || t->recs == NULL)
		return cp_life_reserve(M.life, n);
	for (uint32_t i = 0; i < t->n; i++) {
		uint32_t addr;

		memcpy(&addr, (const uint8_t *)t->recs + (size_t)i * rec_size, sizeof(addr));
		if (cp_life_find(M.life, addr) == NULL)
			fresh++;
	}
	return cp_life_reserve(M.life, fresh);
}

static int life_src_merge(void *ctx, const struct cp_epoch *e, const void *recs, uint32_t n,
                          uint32_t rec_size)
{
	const struct obx_src_rec *r = recs;

	(void)ctx;
	(void)e;
	if (rec_size != sizeof(struct obx_src_rec))
		return -EPROTO;
	if (recs == NULL)
		return life_reserve(e, OBX_TAB_SRC, n, rec_size);
	for (uint32_t i = 0; i < n; i++) {
		struct cp_life_hour h;

		M.src_records++;
		if (r[i].flags & OBX_SRC_F_EXCLUDED) {
			M.excluded_records++;
			continue;
		}
		if (!obx_hour_rec_ok(r[i].first_ns, r[i].last_ns, r[i].hour)) {
			M.bad_records++;
			continue;
		}
		memset(&h, 0, sizeof(h));
		h.addr = r[i].addr;
		h.first_ns = r[i].first_ns;
		h.last_ns = r[i].last_ns;
		h.events = r[i].packets;
		h.sensor_mask = r[i].sensor_mask;
		life_add(&h);
		if (r[i].ev_mode == OBX_SRC_EV_INLINE)
			life_event_add(r[i].addr, r[i].first_ns, r[i].last_ns, r[i].ev_sensor,
			               r[i].ev_category, &r[i].ev_type);
		else if (r[i].ev_mode != OBX_SRC_EV_NONE)
			M.bad_records++;
	}
	return 0;
}

static int life_event_merge(void *ctx, const struct cp_epoch *e, const void *recs, uint32_t n,
                            uint32_t rec_size)
{
	const struct obx_event_rec *r = recs;

	(void)ctx;
	(void)e;
	if (rec_size != sizeof(struct obx_event_rec))
		return -EPROTO;
	if (recs == NULL)
		return life_reserve(e, OBX_TAB_EVENT, n, rec_size);
	for (uint32_t i = 0; i < n; i++) {
		if (!obx_hour_rec_ok(r[i].first_ns, r[i].last_ns, r[i].hour)) {
			M.event_records++;
			M.bad_records++;
			continue;
		}
		life_event_add(r[i].addr, r[i].first_ns, r[i].last_ns, r[i].sensor, r[i].category,
		               &r[i].type);
	}
	return 0;
}

/* ------------------------------------------------------------ snapshot, report --- */

static int life_snap_save(void *ctx, const struct cp_store *s, struct cp_snap_w *w)
{
	uint8_t *buf;
	size_t len;
	int rc;

	(void)ctx;
	(void)s;
	rc = cp_life_save(M.life, &buf, &len);
	if (rc != 0)
		return rc;
	{
		/* section: u64 blob length, the lifetime blob, then the consumer counters */
		uint64_t blen = len, cnt[5] = { M.src_records, M.excluded_records, M.event_records,
		                                M.bad_records, M.nomem };

		cp_snap_put(w, &blen, sizeof(blen));
		cp_snap_put(w, buf, len);
		cp_snap_put(w, cnt, sizeof(cnt));
	}
	free(buf);
	return 0;
}

static void life_snap_reset(void *ctx, struct cp_store *s)
{
	struct cp_life *fresh = cp_life_new(&M.lc);

	M.src_records = M.excluded_records = M.event_records = M.bad_records = M.nomem = 0;
	(void)ctx;
	(void)s;
	if (fresh == NULL) {
		CP_ERR("lifetime: out of memory resetting the table");
		return;
	}
	cp_life_free(M.life);
	M.life = fresh;
}

static int life_snap_load(void *ctx, struct cp_store *s, const void *data, size_t len, char *err,
                          size_t errlen)
{
	int rc;

	uint64_t blen, cnt[5];

	life_snap_reset(ctx, s);
	if (len < sizeof(blen) + sizeof(cnt)) {
		snprintf(err, errlen, "lifetime section: %zu bytes, too short", len);
		return -EBADMSG;
	}
	memcpy(&blen, data, sizeof(blen));
	if (blen != len - sizeof(blen) - sizeof(cnt)) {
		snprintf(err, errlen, "lifetime section: blob length %llu in %zu bytes",
		         (unsigned long long)blen, len);
		return -EBADMSG;
	}
	rc = cp_life_load(M.life, (const uint8_t *)data + sizeof(blen), (size_t)blen, err, errlen);
	if (rc != 0) {
		life_snap_reset(ctx, s);
		return rc == -EINVAL ? -EBADMSG : rc;
	}
	memcpy(cnt, (const uint8_t *)data + sizeof(blen) + blen, sizeof(cnt));
	M.src_records = cnt[0];
	M.excluded_records = cnt[1];
	M.event_records = cnt[2];
	M.bad_records = cnt[3];
	M.nomem = cnt[4];
	return 0;
}

static int life_report(void *ctx, const char *dir, char *err, size_t errlen)
{
	(void)ctx;
	return cp_life_report_files(M.life, M.geo, dir, err, errlen);
}

/* ------------------------------------------------------------------ rules --- */

static void rules_log(void *arg, const char *file, unsigned line, const char *reason)
{
	(void)arg;
	(void)file;
	(void)line;
	if (M.n_rej_kept < CP_LIFE_MAX_REJ_KEPT)
		M.rej[M.n_rej_kept++] = strdup(reason);
}

static int rules_load(const struct obs_conf *c)
{
	struct obs_rules_src src[OBS_CONF_MAX_FILES];
	struct obs_rule_list *r;
	char err[512];

	for (uint32_t i = 0; i < M.n_rej_kept; i++)
		free(M.rej[i]);
	M.n_rej_kept = 0;
	for (uint32_t i = 0; i < c->n_rules_files; i++) {
		src[i].name = c->rules_files[i];
		src[i].text = NULL;
	}
	r = obs_rules_parse(src, c->n_rules_files, rules_log, NULL, err, sizeof(err));
	if (r == NULL) {
		snprintf(M.rules_err, sizeof(M.rules_err), "%s", err);
		return -EINVAL;      /* the old copy stays */
	}
	obs_rule_list_drop_rx(r);    /* only the rules' descriptions are used here */
	obs_rule_list_free(M.rules);
	M.rules = r;
	M.rules_err[0] = 0;
	return 0;
}

/* ------------------------------------------------------------------ module --- */

int cp_life_module_init(struct cp *cp)
{
	int rc;

	memset(&M, 0, sizeof(M));
	M.cp = cp;
	M.lc.gap_ns = (uint64_t)cp->conf.life_gap_s * NS;
	M.lc.max_sources = cp->conf.life_max_sources;
	M.life = cp_life_new(&M.lc);
	if (M.life == NULL) {
		CP_ERR("lifetime: cannot create the table (gap %u s, max %u sources)",
		       cp->conf.life_gap_s, cp->conf.life_max_sources);
		return -ENOMEM;
	}
	if ((rc = cp_tab_register(OBX_TAB_SRC, "lifetime", life_src_merge, NULL)) != 0 ||
	    (rc = cp_tab_register(OBX_TAB_EVENT, "lifetime", life_event_merge, NULL)) != 0 ||
	    (rc = cp_snapshot_section_register(CP_SNAP_S_LIFETIME, "lifetime", life_snap_save,
	                                       life_snap_load, life_snap_reset, NULL)) != 0 ||
	    (rc = cp_report_register("lifetime", life_report, NULL)) != 0) {
		CP_ERR("lifetime: registration failed: %s", strerror(-rc));
		return rc;
	}
	if (rules_load(&cp->conf) != 0)
		CP_WARN("rules: %s (no rule messages in life.show, no rejections in rules.status)",
		        M.rules_err);
	if (cp->conf.city_mmdb[0] != '\0') {
		char err[512];

		M.geo = cp_geo_open(cp->conf.city_mmdb, NULL, err, sizeof(err));
		if (M.geo == NULL)
			CP_WARN("lifetime: countries unavailable: %s", err);
	}
	return 0;
}

void cp_life_module_fini(void)
{
	cp_life_free(M.life);
	obs_rule_list_free(M.rules);
	cp_geo_close(M.geo);
	for (uint32_t i = 0; i < M.n_rej_kept; i++)
		free(M.rej[i]);
	memset(&M, 0, sizeof(M));
}

/* ---------------------------------------------------------------- commands --- */

static bool life_ready(struct cp_reply *r)
{
	if (M.life == NULL) {
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
	if (cp_life_report(M.life, M.geo, rep) != 0) {
		cp_reply_err(r, CP_E_INTERNAL, "out of memory");
		return false;
	}
	return true;
}

void cp_cmd_life_summary(struct cp *cp, json_t *args, struct cp_reply *r)
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
	cp_life_get_stats(M.life, &st);
	cp_life_continuity_grid(M.life, grid, &elig);
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
		"gap_s", cp_json_u64(M.lc.gap_ns / NS),
		"max_sources", cp_json_u64(M.lc.max_sources),
		"evicted", cp_json_u64(st.n_evicted),
		"types_truncated", cp_json_u64(st.n_types_truncated),
		"groups_capped", cp_json_u64(st.n_groups_capped),
		"memory_bytes", cp_json_u64(st.mem_bytes),
		"src_records", cp_json_u64(M.src_records),
		"excluded_records", cp_json_u64(M.excluded_records),
		"event_records", cp_json_u64(M.event_records),
		"bad_records", cp_json_u64(M.bad_records + st.n_bad),
		"nomem", cp_json_u64(M.nomem));
}

const struct cp_arg cp_args_life_cdf[] = {
	{ "unit", CP_ARG_STR, false, 0, 16, "days|minutes|seconds|events (or --unit)", false },
	{ "value", CP_ARG_STR, false, 0, 16, "the unit after --unit", true },
	{ NULL, CP_ARG_STR, false, 0, 0, NULL, false },
};

static const char *str_arg(json_t *args, const char *name)
{
	json_t *j = json_object_get(args, name);

	return j && json_is_string(j) ? json_string_value(j) : NULL;
}

void cp_cmd_life_cdf(struct cp *cp, json_t *args, struct cp_reply *r)
{
	static const char *const units[] = { "days", "minutes", "seconds", "events" };
	const char *u = str_arg(args, "unit"), *v = str_arg(args, "value");
	struct cp_life_cdf_pt *p;
	size_t n;
	uint64_t pop;
	unsigned k;
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
	for (k = 0; k < 4 && strcmp(u, units[k]) != 0; k++)
		;
	if (k == 4) {
		cp_reply_err(r, CP_E_BAD_ARGS, "unit '%s': one of days, minutes, seconds, events", u);
		return;
	}
	if (cp_life_cdf(M.life, (enum cp_life_unit)k, &p, &n, &pop) != 0) {
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

void cp_cmd_life_sensors(struct cp *cp, json_t *args, struct cp_reply *r)
{
	struct cp_life_report rep;
	json_t *rows;

	(void)cp;
	(void)args;
	if (!life_report_get(r, &rep))
		return;
	rows = json_array();
	for (unsigned b = 0; b < CP_LIFE_BUCKETS; b++)
		json_array_append_new(rows, json_pack("{s:s, s:o, s:[IIIII], s:f, s:f, s:f, s:f, s:f}",
			"bucket", bucket_names[b], "sources", cp_json_u64(rep.bucket[b]),
			"counts", (json_int_t)rep.sensors[b][0], (json_int_t)rep.sensors[b][1],
			(json_int_t)rep.sensors[b][2], (json_int_t)rep.sensors[b][3],
			(json_int_t)rep.sensors[b][4],
			"1", share(rep.sensors[b][0], rep.bucket[b]),
			"2", share(rep.sensors[b][1], rep.bucket[b]),
			"3", share(rep.sensors[b][2], rep.bucket[b]),
			"4", share(rep.sensors[b][3], rep.bucket[b]),
			">=5", share(rep.sensors[b][4], rep.bucket[b])));
	r->data = json_pack("{s:o, s:o, s:f}", "buckets", rows,
	                    "one_sensor", cp_json_u64(rep.one_sensor),
	                    "one_sensor_share", share(rep.one_sensor, rep.n_sources));
}

void cp_cmd_life_countries(struct cp *cp, json_t *args, struct cp_reply *r)
{
	struct cp_life_report rep;
	json_t *rows;

	(void)cp;
	(void)args;
	if (!life_report_get(r, &rep))
		return;
	rows = json_array();
	for (unsigned b = 0; b < CP_LIFE_BUCKETS; b++) {
		json_t *top = json_array();

		for (unsigned k = 0; k < rep.n_top[b]; k++)
			json_array_append_new(top, json_pack("{s:s, s:o, s:f}", "country",
			                      rep.top[b][k].cc, "sources", cp_json_u64(rep.top[b][k].n),
			                      "share", share(rep.top[b][k].n, rep.bucket[b])));
		json_array_append_new(rows, json_pack("{s:s, s:o, s:o, s:o, s:f}",
			"bucket", bucket_names[b], "sources", cp_json_u64(rep.bucket[b]), "top", top,
			"rest", cp_json_u64(rep.cc_rest[b]), "rest_share",
			share(rep.cc_rest[b], rep.bucket[b])));
	}
	r->data = json_pack("{s:o, s:b}", "buckets", rows, "geoip", M.geo != NULL);
}

void cp_cmd_life_categories(struct cp *cp, json_t *args, struct cp_reply *r)
{
	struct cp_life_report rep;
	json_t *rows;

	(void)cp;
	(void)args;
	if (!life_report_get(r, &rep))
		return;
	rows = json_array();
	for (unsigned b = 0; b < CP_LIFE_BUCKETS; b++) {
		json_t *o = json_pack("{s:s, s:o}", "bucket", bucket_names[b], "sources",
		                      cp_json_u64(rep.bucket[b]));
		json_t *cnt = json_array();

		for (unsigned c = 0; c < CP_LIFE_CAT_N; c++)
			json_array_append_new(cnt, cp_json_u64(rep.cat[b][c]));
		json_object_set_new(o, "counts", cnt);

		for (unsigned c = 0; c < CP_LIFE_CAT_N; c++)
			json_object_set_new(o, cat_names[c], json_real(share(rep.cat[b][c], rep.bucket[b])));
		json_array_append_new(rows, o);
	}
	r->data = rows;
}

const struct cp_arg cp_args_life_continuity[] = {
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

void cp_cmd_life_continuity(struct cp *cp, json_t *args, struct cp_reply *r)
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
		cp_life_continuity(M.life, (uint32_t)a, (uint32_t)b, &c, &e);
		r->data = json_pack("{s:f, s:f, s:o, s:o, s:f}", "t_l", a / 10000.0, "t_e", b / 10000.0,
		                    "continuous", cp_json_u64(c), "eligible", cp_json_u64(e),
		                    "share", share(c, e));
		return;
	}
	{
		uint64_t grid[CP_LIFE_GRID_L][CP_LIFE_GRID_E], e;
		json_t *rows = json_array();

		cp_life_continuity_grid(M.life, grid, &e);
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

const struct cp_arg cp_args_life_show[] = {
	{ "address", CP_ARG_STR, true, 0, 15, "source IPv4 address", false },
	{ NULL, CP_ARG_STR, false, 0, 0, NULL, false },
};

static json_t *type_json(uint32_t t)
{
	char name[48];
	int k;

	obs_ev_name(t, name, sizeof(name));
	if (!obs_ev_is_class(t) && M.rules && (k = obs_rule_list_find_sid(M.rules, t)) >= 0) {
		const struct obs_rule_info *ri = obs_rule_list_info(M.rules, (uint32_t)k);

		return json_pack("{s:s, s:s, s:s}", "type", name, "msg", ri->msg, "category",
		                 obs_cat_name(ri->category));
	}
	return json_pack("{s:s, s:s}", "type", name, "category",
	                 obs_ev_is_class(t) ? "Scan" : "?");
}

void cp_cmd_life_show(struct cp *cp, json_t *args, struct cp_reply *r)
{
	const char *a = str_arg(args, "address");
	struct in_addr ia;
	const struct cp_life_src *s;
	const struct cp_life_group *g;
	json_t *groups, *cats;
	uint64_t per;

	if (!life_ready(r))
		return;
	if (!a || inet_pton(AF_INET, a, &ia) != 1) {
		cp_reply_err(r, CP_E_BAD_ARGS, "'%s' is not an IPv4 address", a ? a : "");
		return;
	}
	s = cp_life_find(M.life, ntohl(ia.s_addr));
	if (s == NULL) {
		cp_reply_err(r, CP_E_UNAVAILABLE, "%s: not in the lifetime table (never seen, "
		             "excluded, or evicted)", a);
		return;
	}
	g = cp_life_groups(s);
	groups = json_array();
	for (uint32_t k = 0; k < s->n_groups; k++) {
		json_t *types = json_array();
		const uint32_t *t = cp_life_group_types(&g[k]);

		for (uint32_t i = 0; i < g[k].n_types; i++)
			json_array_append_new(types, type_json(t[i]));
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
	r->data = json_pack("{s:s, s:o, s:o, s:o, s:f, s:s, s:o, s:o, s:o, s:o, s:b}",
		"address", a, "first", cp_json_time(cp_life_src_first(s)),
		"last", cp_json_time(cp_life_src_last(s)), "observation_ns", cp_json_u64(per),
		"observation_s", (double)per / 1e9, "bucket", bucket_names[cp_life_bucket(per)],
		"events", cp_json_u64(cp_life_src_events(s)),
		"sensors", cp_sensor_names(cp, cp_life_src_sensors(s)), "categories", cats,
		"groups", groups, "truncated", (s->flags & (CP_LIFE_F_TRUNC | CP_LIFE_F_CAPPED)) != 0);
}

/*
 * rules.status: the dataplane's database, as it reports it in the exchange header
 * (exchange.h, struct obx_rules_status; the control plane links no Hyperscan), and the
 * rejection reasons from the control plane's own parse of the same files.
 */
void cp_cmd_rules_status(struct cp *cp, json_t *args, struct cp_reply *r)
{
	const struct obx_header *h = cp->drain.cur.h;
	json_t *files = json_array(), *rej, *by, *refused;
	struct obx_rules_status st;
	const char *why = NULL;
	int rc = -ENODATA;

	(void)args;
	for (uint32_t i = 0; i < cp->conf.n_rules_files; i++)
		json_array_append_new(files, json_string(cp->conf.rules_files[i]));
	if (h == NULL)
		why = "no dataplane attached: the rules in use are the dataplane's";
	else if ((rc = obx_rules_status_read(h, &st)) == -ENODATA)
		why = "the dataplane has not reported its rules yet";
	else if (rc != 0)
		why = "the dataplane is replacing its rules; ask again";
	else if (!st.loaded)
		why = st.error[0] ? st.error : "the dataplane has no rules database";
	if (why != NULL) {
		r->data = json_pack("{s:o, s:b, s:s}", "files", files, "loaded", 0, "error", why);
		return;
	}
	rej = json_array();
	by = json_object();
	for (unsigned k = 0; k < OBS_REJ_N; k++)
		json_object_set_new(by, obs_rules_rej_name(k), cp_json_u64(st.rejected[k]));
	for (uint32_t i = 0; i < M.n_rej_kept; i++)
		if (M.rej[i])
			json_array_append_new(rej, json_string(M.rej[i]));
	refused = st.refused_wall_ns == 0 ? json_null() :
		json_pack("{s:o, s:s}", "at", cp_json_time(st.refused_wall_ns), "error", st.error);
	r->data = json_pack("{s:o, s:b, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:s, "
	                    "s:o}",
		"files", files, "loaded", 1, "loaded_at", cp_json_time(st.built_wall_ns),
		"lines", cp_json_u64(st.n_lines), "accepted", cp_json_u64(st.n_accepted),
		"rejected", cp_json_u64(st.n_rejected), "commented", cp_json_u64(st.n_commented),
		"patterns", cp_json_u64(st.n_patterns), "db_bytes", cp_json_u64(st.db_bytes),
		"rejected_by_reason", by, "rejections", rej,
		"scratch_bytes", cp_json_u64(st.scratch_bytes),
		"note", "counts: the dataplane's database (exchange header); rejections: the "
		        "control plane's parse of rules.files (a rule Hyperscan refuses is in the "
		        "dataplane's log and its pcre count)",
		"last_refused", refused);
}

void cp_cmd_rules_reload(struct cp *cp, json_t *args, struct cp_reply *r)
{
	const struct cp_cmd *tr = cp_cmd_find("tables.reload");
	struct cp_reply dr = { 0 };
	json_t *targs;

	(void)args;
	if (rules_load(&cp->conf) != 0) {
		cp_reply_err(r, CP_E_BAD_ARGS, "rules not reloaded: %s", M.rules_err);
		return;
	}
	if (tr == NULL) {
		r->data = json_pack("{s:s, s:o}", "control_plane", "reloaded",
		                    "dataplane", json_null());
		return;
	}
	targs = json_pack("{s:s}", "table", "rules");
	tr->fn(cp, targs, &dr);
	json_decref(targs);
	if (dr.err != CP_E_OK) {
		cp_reply_err(r, dr.err, "control plane copy reloaded; dataplane: %s", dr.msg);
		return;
	}
	r->data = json_pack("{s:s, s:o}", "control_plane", "reloaded", "dataplane",
	                    dr.data ? dr.data : json_string("reloaded"));
}
