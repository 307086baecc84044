/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cmd_resip.c — the RESIP module (cmd_resip.h): consumers, snapshot section, the control
 * plane's copy of the RESIP table, the B3 geography, report writer and commands.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include "cmd_resip.h"
#include "cp_log.h"
#include "geo.h"
#include "json.h"
#include "rdns.h"
#include "report.h"
#include "resip.h"
#include "resip_geo.h"
#include "resip_load.h"
#include "exchange_recs.h"
#include "snapshot.h"
#include "store.h"

#define RESIP_PTR_BUDGET_MS 5000u

static const char *const proto_names[OBX_P_N] = { "tcp", "udp", "icmp", "other" };

struct cp_resip_mod {
	struct cp *cp;
	struct cp_resip *st;
	/* the control plane's copy of the RESIP table */
	struct resip_table *tab;
	char tab_err[512];
	struct timespec tab_mtime;
	off_t tab_size;
	uint64_t tab_loaded_wall_ns;
	/* geography sources (opened lazily, kept) */
	struct cp_geo *geo;
	struct cp_rdns *rdns;
	struct resip_orgmap *orgs;
	bool geo_tried;
	char geo_err[512];
	uint64_t nomem;
};

static struct cp_resip_mod M;

/* ------------------------------------------------------------ table copy --- */

/* (Re)read resip.table when it changed on disk.  A bad file keeps the old copy. */
static void resip_table_refresh(void)
{
	const char *path = M.cp->conf.resip_table;
	struct stat sb;
	struct resip_table *t;
	char err[400];

	if (path[0] == '\0')
		return;
	if (stat(path, &sb) != 0) {
		snprintf(M.tab_err, sizeof(M.tab_err), "%s: %s", path, strerror(errno));
		return;
	}
	if (M.tab != NULL && sb.st_mtim.tv_sec == M.tab_mtime.tv_sec &&
	    sb.st_mtim.tv_nsec == M.tab_mtime.tv_nsec && sb.st_size == M.tab_size)
		return;
	if (M.tab == NULL && M.tab_err[0] != '\0' && sb.st_mtim.tv_sec == M.tab_mtime.tv_sec &&
	    sb.st_mtim.tv_nsec == M.tab_mtime.tv_nsec && sb.st_size == M.tab_size)
		return;    /* same bad file */
	M.tab_mtime = sb.st_mtim;
	M.tab_size = sb.st_size;
	t = resip_load(path, NULL, NULL, err, sizeof(err));
	if (t == NULL) {
		snprintf(M.tab_err, sizeof(M.tab_err), "%s", err);
		CP_WARN("resip: control plane copy of %s not replaced: %s", path, err);
		return;
	}
	resip_table_free(M.tab);
	M.tab = t;
	M.tab_err[0] = '\0';
	M.tab_loaded_wall_ns = (uint64_t)time(NULL) * 1000000000ull;
}

static json_t *providers_json(uint32_t addr)
{
	json_t *a = json_array();
	const struct resip_addr *ra;

	if (M.tab == NULL || (ra = resip_find(M.tab, addr)) == NULL)
		return a;
	for (uint32_t i = 0; i < M.tab->n_providers; i++)
		if (ra->providers & (1ull << i))
			json_array_append_new(a, json_string(M.tab->providers[i]));
	return a;
}

static void providers_str(uint32_t addr, char *out, size_t len)
{
	const struct resip_addr *ra;
	size_t o = 0;

	out[0] = '\0';
	if (M.tab == NULL || (ra = resip_find(M.tab, addr)) == NULL)
		return;
	for (uint32_t i = 0; i < M.tab->n_providers && o < len; i++)
		if (ra->providers & (1ull << i))
			o += (size_t)snprintf(out + o, len - o, "%s%s", o ? ";" : "", M.tab->providers[i]);
}

/* ------------------------------------------------------------ consumers --- */

static int resip_src_merge(void *ctx, const struct cp_epoch *e, const void *recs, uint32_t n,
                           uint32_t rec_size)
{
	const struct obx_src_rec *r = recs;

	(void)ctx;
	(void)e;
	if (rec_size != sizeof(struct obx_src_rec))
		return -EPROTO;
	/* prepare: every record of the slot may be RESIP only when a table is configured;
	 * without one (or for an epoch journalled under another config) the few flagged
	 * records grow the tables on demand, a failure counted in nomem */
	if (recs == NULL)
		return M.cp->conf.resip_table[0] ? cp_resip_reserve_src(M.st, n) : 0;
	for (uint32_t i = 0; i < n; i++)
		if ((r[i].flags & OBX_SRC_F_RESIP) || r[i].resip_packets)
			if (cp_resip_add_src(M.st, r[i].addr, r[i].hour, r[i].flags, r[i].packets,
			                     r[i].resip_packets) == -ENOMEM)
				M.nomem++;
	return 0;
}

static int resip_port_merge(void *ctx, const struct cp_epoch *e, const void *recs, uint32_t n,
                            uint32_t rec_size)
{
	const struct obx_resip_port_rec *r = recs;

	(void)ctx;
	(void)e;
	if (rec_size != sizeof(struct obx_resip_port_rec))
		return -EPROTO;
	if (recs == NULL)
		return cp_resip_reserve_port(M.st, n);
	for (uint32_t i = 0; i < n; i++)
		if (cp_resip_add_port(M.st, r[i].proto, r[i].port, r[i].day, r[i].packets) == -ENOMEM)
			M.nomem++;
	return 0;
}

static int resip_snap_save(void *ctx, const struct cp_store *s, struct cp_snap_w *w)
{
	uint8_t *buf;
	size_t len;
	int rc;

	(void)ctx;
	(void)s;
	rc = cp_resip_save(M.st, &buf, &len);
	if (rc != 0)
		return rc;
	cp_snap_put(w, buf, len);
	free(buf);
	return 0;
}

static int resip_snap_load(void *ctx, struct cp_store *s, const void *data, size_t len,
                           char *err, size_t errlen)
{
	(void)ctx;
	(void)s;
	return cp_resip_load(M.st, data, len, err, errlen);
}

static void resip_snap_reset(void *ctx, struct cp_store *s)
{
	(void)ctx;
	(void)s;
	cp_resip_reset(M.st);
}

/* ------------------------------------------------------------ geography --- */

static int geo_open(char *err, size_t errlen)
{
	const struct obs_conf *c = &M.cp->conf;

	if (M.geo_tried) {
		if (M.geo_err[0]) {
			snprintf(err, errlen, "%s", M.geo_err);
			return -ENOENT;
		}
		return 0;
	}
	M.geo_tried = true;
	if (c->city_mmdb[0] == '\0' && c->asn_mmdb[0] == '\0') {
		snprintf(M.geo_err, sizeof(M.geo_err), "no GeoIP database configured "
		         "(enrich.city_mmdb / enrich.asn_mmdb)");
	} else {
		M.geo = cp_geo_open(c->city_mmdb[0] ? c->city_mmdb : NULL,
		                    c->asn_mmdb[0] ? c->asn_mmdb : NULL, M.geo_err, sizeof(M.geo_err));
		if (M.geo != NULL)
			M.geo_err[0] = '\0';
	}
	if (M.geo_err[0] == '\0' && (c->ptr_file[0] || c->ptr_live)) {
		struct cp_rdns_opts o = { .file = c->ptr_file, .live = c->ptr_live,
		                          .rate = c->ptr_rate };
		M.rdns = cp_rdns_open(&o, M.geo_err, sizeof(M.geo_err));
		if (M.rdns != NULL)
			M.geo_err[0] = '\0';
	}
	if (M.geo_err[0] == '\0' && c->org_file[0]) {
		M.orgs = resip_orgmap_load(c->org_file, M.geo_err, sizeof(M.geo_err));
		if (M.orgs != NULL)
			M.geo_err[0] = '\0';
	}
	if (M.geo_err[0]) {
		snprintf(err, errlen, "%s", M.geo_err);
		return -ENOENT;
	}
	return 0;
}

static int geo_compute(const char *cc, enum resip_geo_by by, struct resip_geo_table *g,
                       char *err, size_t errlen)
{
	struct resip_geo_ctx ctx;

	resip_table_refresh();
	if (M.tab == NULL) {
		snprintf(err, errlen, "no RESIP table loaded%s%.400s", M.tab_err[0] ? ": " : "",
		         M.tab_err);
		return -ENOENT;
	}
	if (geo_open(err, errlen) != 0)
		return -ENOENT;
	ctx.geo = M.geo;
	ctx.rdns = M.rdns;
	ctx.orgs = M.orgs;
	ctx.ptr_budget_ms = RESIP_PTR_BUDGET_MS;
	return resip_geo_compute(M.tab, &ctx, cc, by, g, err, errlen);
}

/* ------------------------------------------------------------ helpers --- */

static void day_str(uint32_t day, char *buf, size_t len)
{
	time_t s = (time_t)day * 86400;
	struct tm tm;

	gmtime_r(&s, &tm);
	strftime(buf, len, "%Y-%m-%d", &tm);
}

static json_t *day_json(uint32_t day)
{
	char b[16];

	day_str(day, b, sizeof(b));
	return json_string(b);
}

static const struct { uint16_t port; const char *name; } svc_fallback[] = {
	{ 21, "ftp" }, { 22, "ssh" }, { 23, "telnet" }, { 25, "smtp" }, { 53, "domain" },
	{ 80, "http" }, { 110, "pop3" }, { 123, "ntp" }, { 143, "imap" }, { 161, "snmp" },
	{ 443, "https" }, { 445, "microsoft-ds" }, { 1433, "ms-sql-s" }, { 1900, "ssdp" },
	{ 2323, "telnet-alt" }, { 3306, "mysql" }, { 3389, "ms-wbt-server" }, { 5060, "sip" },
	{ 5555, "adb" }, { 5900, "vnc" }, { 6379, "redis" }, { 8080, "http-alt" },
	{ 8443, "https-alt" }, { 7547, "cwmp" }, { 11211, "memcache" }, { 5353, "mdns" },
	{ 37215, "huawei-hg532" }, { 52869, "upnp-realtek" },
};

static const char *service_name(uint8_t proto, uint16_t port)
{
	struct servent *se;

	if (proto == OBX_P_ICMP)
		return "icmp";
	if (proto != OBX_P_TCP && proto != OBX_P_UDP)
		return "-";
	se = getservbyport(htons(port), proto_names[proto]);
	if (se != NULL && se->s_name != NULL)
		return se->s_name;
	for (size_t i = 0; i < sizeof(svc_fallback) / sizeof(svc_fallback[0]); i++)
		if (svc_fallback[i].port == port)
			return svc_fallback[i].name;
	return "unknown";
}

static double share(uint64_t a, uint64_t b)
{
	return b ? (double)a / (double)b : 0.0;
}

static bool ready(struct cp_reply *r)
{
	if (M.st == NULL) {
		cp_reply_err(r, CP_E_UNAVAILABLE, "the RESIP module is not running");
		return false;
	}
	resip_table_refresh();
	return true;
}

static json_t *ipv4_json(uint32_t a)
{
	return cp_json_ipv4(a);
}

/* ------------------------------------------------------------ commands --- */

#define RESIP_WORDS \
	{ "w1", CP_ARG_STR, false, 0, 32, "option words", true }, \
	{ "w2", CP_ARG_STR, false, 0, 32, "option words", true }, \
	{ "w3", CP_ARG_STR, false, 0, 32, "option words", true }, \
	{ "w4", CP_ARG_STR, false, 0, 32, "option words", true }, \
	{ "w5", CP_ARG_STR, false, 0, 32, "option words", true }, \
	{ NULL, CP_ARG_STR, false, 0, 0, NULL, false }

const struct cp_arg cp_args_resip_range[] = {
	{ "w0", CP_ARG_STR, false, 0, 32, "[--from YYYY-MM-DD] [--to YYYY-MM-DD] (UTC days)", true },
	RESIP_WORDS
};
const struct cp_arg cp_args_resip_top[] = {
	{ "w0", CP_ARG_STR, false, 0, 32, "[N] (default 10; 0: all) [--from DAY] [--to DAY]", true },
	RESIP_WORDS
};
const struct cp_arg cp_args_resip_ports[] = {
	{ "w0", CP_ARG_STR, false, 0, 32, "[N] (default 20; 0: all) [--from DAY] [--to DAY]", true },
	RESIP_WORDS
};
const struct cp_arg cp_args_resip_geo[] = {
	{ "w0", CP_ARG_STR, false, 0, 32, "[--country CC] [--by region|domain|org|sld]", true },
	RESIP_WORDS
};
const struct cp_arg cp_args_resip_mismatch[] = {
	{ "w0", CP_ARG_STR, false, 0, 32, "[--country CC]", true },
	RESIP_WORDS
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
			if (*end != '\0' || v < 0 || v > 100000000) {
				cp_reply_err(r, CP_E_BAD_ARGS, "'%s' is not a count (0..100000000)", opt);
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
	return json_pack("{s:o, s:o}", "from", o->d0 ? day_json(o->d0) : json_null(),
	                 "to", o->d1 != UINT32_MAX ? day_json(o->d1) : json_null());
}

static json_t *table_json(void)
{
	const struct obs_conf *c = &M.cp->conf;

	return json_pack("{s:s, s:b, s:o, s:o, s:o, s:o, s:s?, s:s}",
		"path", c->resip_table, "loaded", M.tab != NULL,
		"addresses", cp_json_u64(M.tab ? M.tab->n_addrs : 0),
		"rows", cp_json_u64(M.tab ? M.tab->n_rows : 0),
		"providers", cp_json_u64(M.tab ? M.tab->n_providers : 0),
		"duplicates", cp_json_u64(M.tab ? M.tab->rep.n_duplicates : 0),
		"format", M.tab ? (M.tab->format == RESIP_FMT_MMDB ? "mmdb" : "csv") : NULL,
		"error", M.tab_err);
}

void cp_cmd_resip_summary(struct cp *cp, json_t *args, struct cp_reply *r)
{
	struct cp_resip_totals t;
	struct ropts o;

	if (!ready(r) || ropts_parse(args, OPT_RANGE, &o, r) != 0)
		return;
	if (cp_resip_totals_range(M.st, o.d0, o.d1, &t) != 0) {
		cp_reply_err(r, CP_E_INTERNAL, "out of memory");
		return;
	}
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
		"nomem", cp_json_u64(M.nomem),
		"window_check", cp->conf.resip_window_check,
		"memory_bytes", cp_json_u64(cp_resip_mem(M.st)),
		"table", table_json());
}

void cp_cmd_resip_daily(struct cp *cp, json_t *args, struct cp_reply *r)
{
	struct cp_resip_day *d;
	size_t n;
	json_t *a;
	struct ropts o;

	(void)cp;
	if (!ready(r) || ropts_parse(args, OPT_RANGE, &o, r) != 0)
		return;
	if (cp_resip_daily(M.st, &d, &n) != 0) {
		cp_reply_err(r, CP_E_INTERNAL, "out of memory");
		return;
	}
	a = json_array();
	for (size_t i = 0; i < n; i++)
		if (d[i].day >= o.d0 && d[i].day <= o.d1)
			json_array_append_new(a, json_pack("{s:o, s:o, s:o}", "day", day_json(d[i].day),
		                      "hosts", cp_json_u64(d[i].hosts),
		                      "packets", cp_json_u64(d[i].packets)));
	free(d);
	r->data = a;
}

void cp_cmd_resip_top(struct cp *cp, json_t *args, struct cp_reply *r)
{
	json_t *a;
	size_t n;
	struct cp_resip_src *s;
	struct ropts o;

	(void)cp;
	if (!ready(r) || ropts_parse(args, OPT_N | OPT_RANGE, &o, r) != 0)
		return;
	if (cp_resip_top_range(M.st, o.d0, o.d1, o.n < 0 ? 10 : (size_t)o.n, &s, &n) != 0) {
		cp_reply_err(r, CP_E_INTERNAL, "out of memory");
		return;
	}
	a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_pack("{s:o, s:o, s:o, s:o, s:o, s:o}",
			"addr", ipv4_json(s[i].addr), "packets", cp_json_u64(s[i].packets),
			"days", cp_json_u64(s[i].days), "providers", providers_json(s[i].addr),
			"first_day", s[i].first_day != UINT32_MAX ? day_json(s[i].first_day) : json_null(),
			"last_day", s[i].first_day != UINT32_MAX ? day_json(s[i].last_day) : json_null()));
	free(s);
	r->data = a;
}

void cp_cmd_resip_ports(struct cp *cp, json_t *args, struct cp_reply *r)
{
	json_t *a;
	size_t n;
	struct cp_resip_port *p;
	struct cp_resip_totals t;
	struct ropts o;

	(void)cp;
	if (!ready(r) || ropts_parse(args, OPT_N | OPT_RANGE, &o, r) != 0)
		return;
	if (cp_resip_totals_range(M.st, o.d0, o.d1, &t) != 0 ||
	    cp_resip_ports_range(M.st, o.d0, o.d1, o.n < 0 ? 20 : (size_t)o.n, &p, &n) != 0) {
		cp_reply_err(r, CP_E_INTERNAL, "out of memory");
		return;
	}
	a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_pack("{s:s, s:i, s:s, s:o, s:f, s:o}",
			"proto", proto_names[p[i].proto], "port", (int)p[i].port,
			"service", service_name(p[i].proto, p[i].port),
			"packets", cp_json_u64(p[i].packets),
			"share", share(p[i].packets, t.port_packets),
			"days", cp_json_u64(p[i].days)) );
	free(p);
	r->data = a;
}

static json_t *geo_rows_json(const struct resip_geo_table *g)
{
	json_t *a = json_array();

	for (size_t i = 0; i < g->n_rows; i++) {
		json_t *pp = json_object();

		for (uint32_t p = 0; p < M.tab->n_providers; p++)
			if (g->rows[i].per_provider[p])
				json_object_set_new(pp, M.tab->providers[p],
				                    cp_json_u64(g->rows[i].per_provider[p]));
		json_array_append_new(a, json_pack("{s:s, s:o, s:f, s:o}", "key", g->rows[i].key,
		                      "addresses", cp_json_u64(g->rows[i].n),
		                      "share", share(g->rows[i].n, g->n_addrs), "providers", pp));
	}
	return a;
}

void cp_cmd_resip_geo(struct cp *cp, json_t *args, struct cp_reply *r)
{
	char cc[3], err[512];
	enum resip_geo_by by;
	struct resip_geo_table g;
	struct ropts o;

	if (!ready(r))
		return;
	snprintf(o.cc, sizeof(o.cc), "%s", cp->conf.resip_country);
	if (ropts_parse(args, OPT_CC | OPT_BY, &o, r) != 0)
		return;
	memcpy(cc, o.cc, sizeof(cc));
	by = o.by;
	memset(&g, 0, sizeof(g));
	if (geo_compute(cc, by, &g, err, sizeof(err)) != 0) {
		cp_reply_err(r, CP_E_UNAVAILABLE, "%s", err);
		return;
	}
	r->data = json_pack("{s:s, s:s, s:o, s:o, s:o, s:o}", "country", cc,
	                    "by", resip_geo_by_name(by), "addresses", cp_json_u64(g.n_addrs),
	                    "no_geo", cp_json_u64(g.n_no_geo), "with_ptr", cp_json_u64(g.n_ptr),
	                    "rows", geo_rows_json(&g));
	resip_geo_table_free(&g);
}

void cp_cmd_resip_mismatch(struct cp *cp, json_t *args, struct cp_reply *r)
{
	char cc[3], err[512];
	struct resip_mismatch *mm = NULL;
	struct resip_geo_ctx ctx;
	size_t n = 0;
	json_t *a;
	struct ropts o;

	if (!ready(r))
		return;
	snprintf(o.cc, sizeof(o.cc), "%s", cp->conf.resip_country);
	if (ropts_parse(args, OPT_CC, &o, r) != 0)
		return;
	memcpy(cc, o.cc, sizeof(cc));
	if (M.tab == NULL) {
		cp_reply_err(r, CP_E_UNAVAILABLE, "no RESIP table loaded%s%s",
		             M.tab_err[0] ? ": " : "", M.tab_err);
		return;
	}
	if (geo_open(err, sizeof(err)) != 0) {
		cp_reply_err(r, CP_E_UNAVAILABLE, "%s", err);
		return;
	}
	ctx.geo = M.geo;
	ctx.rdns = M.rdns;
	ctx.orgs = M.orgs;
	ctx.ptr_budget_ms = RESIP_PTR_BUDGET_MS;
	if (resip_geo_mismatch(M.tab, &ctx, cc, &mm, &n, err, sizeof(err)) != 0) {
		cp_reply_err(r, CP_E_UNAVAILABLE, "%s", err);
		return;
	}
	a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_pack("{s:o, s:s, s:s, s:s, s:o}", "addr",
		                      ipv4_json(mm[i].addr), "geo_country", mm[i].geo_cc,
		                      "ptr_tld", mm[i].ptr_tld, "name", mm[i].name,
		                      "providers", providers_json(mm[i].addr)));
	free(mm);
	r->data = a;
}

void cp_cmd_tables_status(struct cp *cp, json_t *args, struct cp_reply *r)
{
	json_t *a = json_array(), *t;

	(void)args;
	if (M.st != NULL)
		resip_table_refresh();
	json_array_append_new(a, json_pack("{s:s, s:s, s:s}", "table", "scanner",
	                      "path", cp->conf.scanner_file, "where", "dataplane"));
	t = table_json();
	json_object_set_new(t, "table", json_string("resip"));
	json_object_set_new(t, "where", json_string("control plane copy (the dataplane loads "
	                    "the same file; `tables reload resip` there)"));
	json_object_set_new(t, "window_check", json_boolean(cp->conf.resip_window_check));
	json_array_append_new(a, t);
	r->data = a;
}

/* ------------------------------------------------------------ report --- */

struct tw {
	FILE *csv, *md;
	unsigned ncol;
};

static void csv_cell(FILE *f, const char *s)
{
	if (strpbrk(s, ",\"\n") == NULL) {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

static void md_cell(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '|')
			fputc('\\', f);
		fputc(*s == '\n' ? ' ' : *s, f);
	}
}

static void tw_row(struct tw *t, const char *const *cells)
{
	fputs("| ", t->md);
	for (unsigned i = 0; i < t->ncol; i++) {
		if (i) {
			fputc(',', t->csv);
			fputs(" | ", t->md);
		}
		csv_cell(t->csv, cells[i]);
		md_cell(t->md, cells[i]);
	}
	fputc('\n', t->csv);
	fputs(" |\n", t->md);
}

static int tw_open(struct tw *t, const char *dir, const char *base, const char *title,
                   const char *note, unsigned ncol, const char *const *hdr, char *err,
                   size_t errlen)
{
	char p[1200];

	snprintf(p, sizeof(p), "%s/%s.csv", dir, base);
	t->csv = fopen(p, "w");
	snprintf(p, sizeof(p), "%s/%s.md", dir, base);
	t->md = fopen(p, "w");
	if (t->csv == NULL || t->md == NULL) {
		snprintf(err, errlen, "%s: %s", p, strerror(errno));
		if (t->csv)
			fclose(t->csv);
		if (t->md)
			fclose(t->md);
		return -errno;
	}
	t->ncol = ncol;
	fprintf(t->md, "# %s\n\n", title);
	if (note != NULL && note[0])
		fprintf(t->md, "%s\n\n", note);
	for (unsigned i = 0; i < ncol; i++) {
		if (i)
			fputc(',', t->csv);
		csv_cell(t->csv, hdr[i]);
	}
	fputc('\n', t->csv);
	fputs("|", t->md);
	for (unsigned i = 0; i < ncol; i++) {
		fputc(' ', t->md);
		md_cell(t->md, hdr[i]);
		fputs(" |", t->md);
	}
	fputs("\n|", t->md);
	for (unsigned i = 0; i < ncol; i++)
		fputs(i ? "---:|" : "---|", t->md);
	fputc('\n', t->md);
	return 0;
}

static int tw_close(struct tw *t, char *err, size_t errlen)
{
	int a = fclose(t->csv), b = fclose(t->md);

	if (a != 0 || b != 0) {
		snprintf(err, errlen, "write: %s", strerror(errno));
		return -EIO;
	}
	return 0;
}

/* Tables 3 (top 10), A.1 (all), 4, 5, 6: geography x provider. */
static int report_geo(const char *dir, const char *base, const char *title,
                      enum resip_geo_by by, size_t top, char *err, size_t errlen)
{
	struct resip_geo_table g;
	char gerr[512] = "", note[700] = "", cc[3];
	const char *hdr[2 + RESIP_MAX_PROVIDERS + 1];
	char cells[2 + RESIP_MAX_PROVIDERS + 1][140];
	const char *cp_[2 + RESIP_MAX_PROVIDERS + 1];
	unsigned np = M.tab ? M.tab->n_providers : 0, nc;
	struct tw t;
	int rc;

	snprintf(cc, sizeof(cc), "%s", M.cp->conf.resip_country);
	memset(&g, 0, sizeof(g));
	if (geo_compute(cc, by, &g, gerr, sizeof(gerr)) != 0) {
		snprintf(note, sizeof(note), "Not available: %s.", gerr);
		np = 0;
	} else {
		snprintf(note, sizeof(note), "Country %s: %llu RESIP table addresses (%llu without a "
		         "GeoIP country); %s.", cc, (unsigned long long)g.n_addrs,
		         (unsigned long long)g.n_no_geo,
		         top ? "top 10 rows" : "all rows");
	}
	hdr[0] = resip_geo_by_name(by);
	hdr[1] = "addresses";
	for (unsigned i = 0; i < np; i++)
		hdr[2 + i] = M.tab->providers[i];
	nc = 2 + np;
	rc = tw_open(&t, dir, base, title, note, nc, hdr, err, errlen);
	if (rc != 0) {
		resip_geo_table_free(&g);
		return rc;
	}
	for (size_t i = 0; i < g.n_rows && (top == 0 || i < top); i++) {
		snprintf(cells[0], sizeof(cells[0]), "%s", g.rows[i].key);
		snprintf(cells[1], sizeof(cells[1]), "%llu", (unsigned long long)g.rows[i].n);
		for (unsigned p = 0; p < np; p++)
			snprintf(cells[2 + p], sizeof(cells[0]), "%llu",
			         (unsigned long long)g.rows[i].per_provider[p]);
		for (unsigned k = 0; k < nc; k++)
			cp_[k] = cells[k];
		tw_row(&t, cp_);
	}
	resip_geo_table_free(&g);
	return tw_close(&t, err, errlen);
}

static FILE *svg_open(const char *dir, const char *name, int w, int h, const char *title,
                      char *err, size_t errlen)
{
	char p[1200];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	f = fopen(p, "w");
	if (f == NULL) {
		snprintf(err, errlen, "%s: %s", p, strerror(errno));
		return NULL;
	}
	fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
	        "viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"11\">\n"
	        "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n"
	        "<text x=\"%d\" y=\"18\" text-anchor=\"middle\" font-size=\"14\">%s</text>\n",
	        w, h, w, h, w / 2, title);
	return f;
}

static int svg_close(FILE *f, char *err, size_t errlen)
{
	fputs("</svg>\n", f);
	if (fclose(f) != 0) {
		snprintf(err, errlen, "write: %s", strerror(errno));
		return -EIO;
	}
	return 0;
}

/* Fig. 4: distinct RESIP hosts per day, a line chart. */
static int fig4(const char *dir, const struct cp_resip_day *d, size_t n, char *err,
                size_t errlen)
{
	const int W = 900, H = 360, L = 70, R = 20, T = 40, B = 60;
	uint64_t ymax = 1;
	FILE *f = svg_open(dir, "resip_fig4_daily_hosts.svg", W, H,
	                   "Fig. 4: distinct RESIP hosts per day (UTC)", err, errlen);
	char b0[16], b1[16];

	if (f == NULL)
		return -EIO;
	for (size_t i = 0; i < n; i++)
		if (d[i].hosts > ymax)
			ymax = d[i].hosts;
	uint32_t d0 = n ? d[0].day : 0, d1 = n ? d[n - 1].day : 1;
	double xs = (double)(W - L - R) / (d1 > d0 ? d1 - d0 : 1), ys = (double)(H - T - B) / ymax;
	fprintf(f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"black\"/>\n", L, H - B,
	        W - R, H - B);
	fprintf(f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"black\"/>\n", L, T, L,
	        H - B);
	for (int k = 0; k <= 4; k++) {
		uint64_t v = ymax * (uint64_t)k / 4;
		double y = H - B - v * ys;
		fprintf(f, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#ddd\"/>"
		        "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%llu</text>\n", L, y, W - R, y,
		        L - 6, y + 4, (unsigned long long)v);
	}
	if (n) {
		day_str(d0, b0, sizeof(b0));
		day_str(d1, b1, sizeof(b1));
		fprintf(f, "<text x=\"%d\" y=\"%d\">%s</text><text x=\"%d\" y=\"%d\" "
		        "text-anchor=\"end\">%s</text>\n", L, H - B + 18, b0, W - R, H - B + 18, b1);
		fputs("<polyline fill=\"none\" stroke=\"#1f77b4\" stroke-width=\"1.5\" points=\"", f);
		for (size_t i = 0; i < n; i++)
			fprintf(f, "%.1f,%.1f ", L + (d[i].day - d0) * xs, H - B - d[i].hosts * ys);
		fputs("\"/>\n", f);
	} else {
		fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">no RESIP traffic</text>\n",
		        W / 2, H / 2);
	}
	fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">day (UTC); days without "
	        "RESIP traffic are not plotted</text>\n", W / 2, H - 20);
	fprintf(f, "<text x=\"16\" y=\"%d\" transform=\"rotate(-90 16 %d)\" "
	        "text-anchor=\"middle\">hosts</text>\n", H / 2, H / 2);
	return svg_close(f, err, errlen);
}

/* Fig. 5: active days of the top sources, one row each. */
static int fig5(const char *dir, const struct cp_resip_src *s, size_t n, uint32_t d0,
                uint32_t d1, char *err, size_t errlen)
{
	const int W = 900, L = 120, R = 20, T = 40, ROW = 18;
	int H = T + (int)n * ROW + 50;
	FILE *f = svg_open(dir, "resip_fig5_top_timeline.svg", W, H,
	                   "Fig. 5: active days of the top RESIP sources", err, errlen);
	double xs = (double)(W - L - R) / (d1 >= d0 ? d1 - d0 + 1 : 1);
	char b0[16], b1[16];

	if (f == NULL)
		return -EIO;
	for (size_t i = 0; i < n; i++) {
		uint32_t *days;
		size_t nd;
		int y = T + (int)i * ROW;
		struct in_addr ia = { .s_addr = htonl(s[i].addr) };
		char ab[16];

		inet_ntop(AF_INET, &ia, ab, sizeof(ab));
		fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%s</text>\n"
		        "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#eee\"/>\n",
		        L - 6, y + 12, ab, L, y + 8, W - R, y + 8);
		if (cp_resip_src_days(M.st, s[i].addr, &days, &nd) != 0)
			continue;
		for (size_t k = 0; k < nd; k++)
			fprintf(f, "<rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"12\" "
			        "fill=\"#d62728\"><title>%s</title></rect>\n", L + (days[k] - d0) * xs,
			        y + 2, xs < 2 ? 2 : xs, ab);
		free(days);
	}
	day_str(d0, b0, sizeof(b0));
	day_str(d1, b1, sizeof(b1));
	fprintf(f, "<text x=\"%d\" y=\"%d\">%s</text><text x=\"%d\" y=\"%d\" "
	        "text-anchor=\"end\">%s</text>\n", L, H - 30, b0, W - R, H - 30, b1);
	fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">a mark = a UTC day with RESIP "
	        "traffic from that source</text>\n", W / 2, H - 10);
	return svg_close(f, err, errlen);
}

/* Fig. 6: port x day heatmap for the top ports. */
static int fig6(const char *dir, const struct cp_resip_port *p, size_t n,
                const struct cp_resip_day *d, size_t nd, char *err, size_t errlen)
{
	const int W = 900, L = 130, R = 20, T = 40, ROW = 18;
	int H = T + (int)n * ROW + 60;
	FILE *f = svg_open(dir, "resip_fig6_port_day.svg", W, H,
	                   "Fig. 6: RESIP packets per port and day (darker = more)", err, errlen);
	uint32_t d0 = nd ? d[0].day : 0, d1 = nd ? d[nd - 1].day : 0;
	double xs = (double)(W - L - R) / (d1 - d0 + 1);
	uint64_t vmax = 1;
	char b0[16], b1[16];

	if (f == NULL)
		return -EIO;
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < nd; k++) {
			uint64_t v = cp_resip_port_day(M.st, p[i].proto, p[i].port, d[k].day);
			if (v > vmax)
				vmax = v;
		}
	for (size_t i = 0; i < n; i++) {
		int y = T + (int)i * ROW;

		fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%s/%u %s</text>\n", L - 6,
		        y + 12, proto_names[p[i].proto], p[i].port,
		        service_name(p[i].proto, p[i].port));
		for (size_t k = 0; k < nd; k++) {
			uint64_t v = cp_resip_port_day(M.st, p[i].proto, p[i].port, d[k].day);
			double a;

			if (v == 0)
				continue;
			a = 0.15 + 0.85 * (double)v / (double)vmax;
			fprintf(f, "<rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"16\" "
			        "fill=\"#08519c\" fill-opacity=\"%.2f\"><title>%llu</title></rect>\n",
			        L + (d[k].day - d0) * xs, y, xs < 1.5 ? 1.5 : xs, a,
			        (unsigned long long)v);
		}
	}
	day_str(d0, b0, sizeof(b0));
	day_str(d1, b1, sizeof(b1));
	fprintf(f, "<text x=\"%d\" y=\"%d\">%s</text><text x=\"%d\" y=\"%d\" "
	        "text-anchor=\"end\">%s</text>\n", L, H - 40, b0, W - R, H - 40, b1);
	fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">max %llu packets in one "
	        "cell; hover a cell for its count</text>\n", W / 2, H - 15,
	        (unsigned long long)vmax);
	return svg_close(f, err, errlen);
}

static int resip_report(void *ctx, const char *dir, char *err, size_t errlen)
{
	static const char *h7[] = { "rank", "address", "packets", "days", "providers" };
	static const char *h8[] = { "rank", "proto", "port", "service", "packets", "share", "days" };
	static const char *hd[] = { "day", "hosts", "packets" };
	struct cp_resip_src *s = NULL;
	struct cp_resip_port *p = NULL;
	struct cp_resip_day *d = NULL;
	struct cp_resip_totals tot;
	size_t ns = 0, np = 0, nd = 0;
	struct tw t;
	char c[7][300];
	const char *cc[7];
	int rc;

	(void)ctx;
	resip_table_refresh();
	if ((rc = report_geo(dir, "resip_table3_regions", "Table 3: RESIP addresses per "
	                     "first-level subdivision x provider (top 10)", RESIP_GEO_REGION, 10,
	                     err, errlen)) != 0 ||
	    (rc = report_geo(dir, "resip_tableA1_regions", "Table A.1: RESIP addresses per "
	                     "first-level subdivision x provider (all)", RESIP_GEO_REGION, 0,
	                     err, errlen)) != 0 ||
	    (rc = report_geo(dir, "resip_table4_domains", "Table 4: RESIP addresses per "
	                     "registrable domain of the PTR name", RESIP_GEO_DOMAIN, 0, err,
	                     errlen)) != 0 ||
	    (rc = report_geo(dir, "resip_table5_orgs", "Table 5: RESIP addresses per "
	                     "organisation", RESIP_GEO_ORG, 0, err, errlen)) != 0 ||
	    (rc = report_geo(dir, "resip_table6_sld", "Table 6: RESIP addresses per second-level "
	                     "label under the country TLD", RESIP_GEO_SLD, 0, err, errlen)) != 0)
		return rc;
	cp_resip_totals(M.st, &tot);
	if (cp_resip_top(M.st, 20, &s, &ns) != 0 || cp_resip_ports(M.st, 20, &p, &np) != 0 ||
	    cp_resip_daily(M.st, &d, &nd) != 0) {
		snprintf(err, errlen, "out of memory");
		rc = -ENOMEM;
		goto out;
	}
	for (int i = 0; i < 7; i++)
		cc[i] = c[i];
	char note[300];
	snprintf(note, sizeof(note), "%llu RESIP packets from %llu hosts over %llu days.",
	         (unsigned long long)tot.packets, (unsigned long long)tot.hosts,
	         (unsigned long long)tot.days);
	if ((rc = tw_open(&t, dir, "resip_table7_top_sources", "Table 7: top RESIP sources",
	                  note, 5, h7, err, errlen)) != 0)
		goto out;
	for (size_t i = 0; i < ns; i++) {
		struct in_addr ia = { .s_addr = htonl(s[i].addr) };

		snprintf(c[0], sizeof(c[0]), "%zu", i + 1);
		inet_ntop(AF_INET, &ia, c[1], sizeof(c[1]));
		snprintf(c[2], sizeof(c[2]), "%llu", (unsigned long long)s[i].packets);
		snprintf(c[3], sizeof(c[3]), "%u", s[i].days);
		providers_str(s[i].addr, c[4], sizeof(c[4]));
		tw_row(&t, cc);
	}
	if ((rc = tw_close(&t, err, errlen)) != 0)
		goto out;
	if ((rc = tw_open(&t, dir, "resip_table8_ports", "Table 8: RESIP packets per "
	                  "destination port", note, 7, h8, err, errlen)) != 0)
		goto out;
	for (size_t i = 0; i < np; i++) {
		snprintf(c[0], sizeof(c[0]), "%zu", i + 1);
		snprintf(c[1], sizeof(c[1]), "%s", proto_names[p[i].proto]);
		snprintf(c[2], sizeof(c[2]), "%u", p[i].port);
		snprintf(c[3], sizeof(c[3]), "%s", service_name(p[i].proto, p[i].port));
		snprintf(c[4], sizeof(c[4]), "%llu", (unsigned long long)p[i].packets);
		snprintf(c[5], sizeof(c[5]), "%.4f", share(p[i].packets, tot.port_packets));
		snprintf(c[6], sizeof(c[6]), "%u", p[i].days);
		tw_row(&t, cc);
	}
	if ((rc = tw_close(&t, err, errlen)) != 0)
		goto out;
	if ((rc = tw_open(&t, dir, "resip_fig4_daily_hosts", "Fig. 4 data: distinct RESIP hosts "
	                  "per day", note, 3, hd, err, errlen)) != 0)
		goto out;
	for (size_t i = 0; i < nd; i++) {
		day_str(d[i].day, c[0], sizeof(c[0]));
		snprintf(c[1], sizeof(c[1]), "%llu", (unsigned long long)d[i].hosts);
		snprintf(c[2], sizeof(c[2]), "%llu", (unsigned long long)d[i].packets);
		tw_row(&t, cc);
	}
	if ((rc = tw_close(&t, err, errlen)) != 0)
		goto out;
	if ((rc = fig4(dir, d, nd, err, errlen)) != 0 ||
	    (rc = fig5(dir, s, ns > 10 ? 10 : ns, nd ? d[0].day : 0, nd ? d[nd - 1].day : 0,
	               err, errlen)) != 0 ||
	    (rc = fig6(dir, p, np > 10 ? 10 : np, d, nd, err, errlen)) != 0)
		goto out;
out:
	free(s);
	free(p);
	free(d);
	return rc;
}

/* ------------------------------------------------------------ init --- */

int cp_resip_module_init(struct cp *cp)
{
	int rc;

	memset(&M, 0, sizeof(M));
	M.cp = cp;
	M.st = cp_resip_new();
	if (M.st == NULL)
		return -ENOMEM;
	if ((rc = cp_tab_register(OBX_TAB_SRC, "resip", resip_src_merge, NULL)) != 0 ||
	    (rc = cp_tab_register(OBX_TAB_RESIP_PORT, "resip", resip_port_merge, NULL)) != 0 ||
	    (rc = cp_snapshot_section_register(CP_SNAP_S_RESIP, "resip", resip_snap_save,
	                                       resip_snap_load, resip_snap_reset, NULL)) != 0 ||
	    (rc = cp_report_register("resip", resip_report, NULL)) != 0) {
		CP_ERR("resip: registration failed: %s", strerror(-rc));
		return rc;
	}
	resip_table_refresh();
	if (M.tab_err[0])
		CP_WARN("resip: %s (provider names and geography unavailable until fixed)",
		        M.tab_err);
	return 0;
}

void cp_resip_module_fini(void)
{
	cp_resip_free(M.st);
	resip_table_free(M.tab);
	cp_geo_close(M.geo);
	cp_rdns_close(M.rdns);
	resip_orgmap_free(M.orgs);
	memset(&M, 0, sizeof(M));
}
