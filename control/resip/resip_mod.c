/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * resip_mod.c — the RESIP analysis (SPEC.md B) in the control plane (resip_mod.h): the
 * SRC (RESIP-flagged) and RESIP_PORT consumers into resip.c, its snapshot section, the
 * control plane's copy of the RESIP table (provider names, B3 geography), the geography
 * sources (enrich.*), what `tables status` shows of that copy, and the ops table.
 * Main loop only.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "analysis.h"
#include "cp_log.h"
#include "geo.h"
#include "json.h"
#include "loader.h"
#include "rdns.h"
#include "resip_mod.h"
#include "exchange_recs.h"

const char *const cp_resip_proto_names[OBX_P_N] = { "tcp", "udp", "icmp", "other" };

struct cp_resip_mod cp_resip_mod;
/* the analysis' state (resip_mod.h) */
static struct cp_resip_mod *const M = &cp_resip_mod;

/* ------------------------------------------------------------ table copy --- */

/* One read of resip.table, on the loader's thread (loader.h): its inputs and result. */
struct resip_copy_job {
	char path[OBS_CONF_STR];
	struct resip_table *t;     /* NULL: refused, err says why */
	char err[400];
};

static void *resip_copy_load(void *arg)
{
	struct resip_copy_job *j = arg;

	j->t = resip_load(j->path, NULL, NULL, j->err, sizeof(j->err));
	return j;
}

static void *resip_copy_free(void *arg)
{
	resip_table_free(arg);
	return NULL;
}

/* A read finished: the new copy replaces the old one (freed on the loader's thread:
 * giving back a few hundred MB takes a while too), or the old one stays. */
static void resip_copy_adopt(struct resip_copy_job *j)
{
	struct resip_table *old = M->tab;

	if (j->t == NULL) {
		snprintf(M->tab_err, sizeof(M->tab_err), "%s", j->err);
		CP_WARN("resip: control plane copy of %s not replaced: %s", j->path, j->err);
		old = NULL;
	} else {
		M->tab = j->t;
		M->tab_err[0] = '\0';
		M->tab_loaded_wall_ns = (uint64_t)time(NULL) * 1000000000ull;
	}
	free(j);
	if (old != NULL && cp_loader_start(&M->loader, resip_copy_free, old) != 0)
		resip_table_free(old);
}

void cp_resip_table_refresh(bool wait)
{
	const char *path = M->cp->conf.resip_table;
	struct resip_copy_job *j;
	struct stat sb;

	if (path[0] == '\0')
		return;
	if (cp_loader_busy(&M->loader)) {
		M->refresh_pending = true;   /* the poll hook looks again once it is done */
		return;
	}
	M->refresh_pending = false;
	if (stat(path, &sb) != 0) {
		snprintf(M->tab_err, sizeof(M->tab_err), "%s: %s", path, strerror(errno));
		return;
	}
	if (M->tab != NULL && sb.st_mtim.tv_sec == M->tab_mtime.tv_sec &&
	    sb.st_mtim.tv_nsec == M->tab_mtime.tv_nsec && sb.st_size == M->tab_size)
		return;
	if (M->tab == NULL && M->tab_err[0] != '\0' && sb.st_mtim.tv_sec == M->tab_mtime.tv_sec &&
	    sb.st_mtim.tv_nsec == M->tab_mtime.tv_nsec && sb.st_size == M->tab_size)
		return;    /* same bad file */
	M->tab_mtime = sb.st_mtim;
	M->tab_size = sb.st_size;
	j = calloc(1, sizeof(*j));
	if (j == NULL) {
		snprintf(M->tab_err, sizeof(M->tab_err), "%s: out of memory", path);
		return;
	}
	snprintf(j->path, sizeof(j->path), "%s", path);
	/* a production table is millions of rows: read it off the loop; wait only at
	 * start-up, before anyone is served (or when no thread can be had) */
	if (!wait && cp_loader_start(&M->loader, resip_copy_load, j) == 0)
		return;
	resip_copy_adopt(resip_copy_load(j));
}

/* Every loop turn (analysis.h): collect a finished read (a finished free returns NULL),
 * then a refresh that came while the loader was busy. */
static void resip_poll(struct cp *cp)
{
	void *res;

	(void)cp;
	if (!cp_loader_done(&M->loader, &res))
		return;
	if (res != NULL)
		resip_copy_adopt(res);
	if (M->refresh_pending && !cp_loader_busy(&M->loader))
		cp_resip_table_refresh(false);
}

json_t *cp_resip_providers_json(uint32_t addr)
{
	json_t *a = json_array();
	const struct resip_addr *ra;

	if (M->tab == NULL || (ra = resip_find(M->tab, addr)) == NULL)
		return a;
	for (uint32_t i = 0; i < M->tab->n_providers; i++)
		if (ra->providers & (1ull << i))
			json_array_append_new(a, json_string(M->tab->providers[i]));
	return a;
}

void cp_resip_providers_str(uint32_t addr, char *out, size_t len)
{
	const struct resip_addr *ra;
	size_t o = 0;

	out[0] = '\0';
	if (M->tab == NULL || (ra = resip_find(M->tab, addr)) == NULL)
		return;
	for (uint32_t i = 0; i < M->tab->n_providers && o < len; i++)
		if (ra->providers & (1ull << i))
			o += (size_t)snprintf(out + o, len - o, "%s%s", o ? ";" : "", M->tab->providers[i]);
}

/* ------------------------------------------------------------ consumers --- */

static int resip_src_merge(const struct cp_epoch *e, const void *recs, uint32_t n)
{
	const struct obx_src_rec *r = recs;

	/* prepare: room for what the records flagged RESIP add (only they add state;
	 * reserving for every record sized both tables by the whole epoch, twice over in
	 * an epoch of known sources: 108 MiB of slots per million sources for a few
	 * thousand RESIP ones) */
	if (recs == NULL) {
		const struct cp_tab *t = cp_epoch_tab(e, OBX_TAB_SRC);

		return t != NULL && t->recs != NULL ? cp_resip_reserve_recs(M->st, t->recs, t->n) : 0;
	}
	for (uint32_t i = 0; i < n; i++)
		if ((r[i].flags & OBX_SRC_F_RESIP) || r[i].resip_packets)
			if (cp_resip_add_src(M->st, r[i].addr, r[i].hour, r[i].flags, r[i].packets,
			                     r[i].resip_packets) == -ENOMEM)
				M->nomem++;
	return 0;
}

static int resip_port_merge(const struct cp_epoch *e, const void *recs, uint32_t n)
{
	const struct obx_resip_port_rec *r = recs;

	(void)e;
	if (recs == NULL)
		return cp_resip_reserve_port(M->st, n);
	for (uint32_t i = 0; i < n; i++)
		if (cp_resip_add_port(M->st, r[i].proto, r[i].port, r[i].day, r[i].packets) == -ENOMEM)
			M->nomem++;
	return 0;
}

static int resip_snap_blob(uint8_t **buf, size_t *len)
{
	return cp_resip_save(M->st, buf, len);
}

static int resip_snap_load(const void *data, size_t len, char *err, size_t errlen)
{
	return cp_resip_load(M->st, data, len, err, errlen);
}

static void resip_snap_reset(void)
{
	cp_resip_reset(M->st);
}

/* ------------------------------------------------------------ geography --- */

int cp_resip_geo_open(char *err, size_t errlen)
{
	const struct obs_conf *c = &M->cp->conf;

	if (M->geo_tried) {
		if (M->geo_err[0]) {
			snprintf(err, errlen, "%s", M->geo_err);
			return -ENOENT;
		}
		return 0;
	}
	M->geo_tried = true;
	if (c->city_mmdb[0] == '\0' && c->asn_mmdb[0] == '\0') {
		snprintf(M->geo_err, sizeof(M->geo_err), "no GeoIP database configured "
		         "(enrich.city_mmdb / enrich.asn_mmdb)");
	} else {
		M->geo = cp_geo_open(c->city_mmdb[0] ? c->city_mmdb : NULL,
		                    c->asn_mmdb[0] ? c->asn_mmdb : NULL, M->geo_err, sizeof(M->geo_err));
		if (M->geo != NULL)
			M->geo_err[0] = '\0';
	}
	if (M->geo_err[0] == '\0' && (c->ptr_file[0] || c->ptr_live)) {
		struct cp_rdns_opts o = { .file = c->ptr_file, .live = c->ptr_live,
		                          .rate = c->ptr_rate };
		M->rdns = cp_rdns_open(&o, M->geo_err, sizeof(M->geo_err));
		if (M->rdns != NULL)
			M->geo_err[0] = '\0';
	}
	if (M->geo_err[0] == '\0' && c->org_file[0]) {
		M->orgs = resip_orgmap_load(c->org_file, M->geo_err, sizeof(M->geo_err));
		if (M->orgs != NULL)
			M->geo_err[0] = '\0';
	}
	if (M->geo_err[0]) {
		snprintf(err, errlen, "%s", M->geo_err);
		return -ENOENT;
	}
	return 0;
}

int cp_resip_geo_compute(const char *cc, enum resip_geo_by by, struct resip_geo_table *g,
                         char *err, size_t errlen)
{
	struct resip_geo_ctx ctx;

	cp_resip_table_refresh(false);
	if (M->tab == NULL) {
		snprintf(err, errlen, "no RESIP table loaded%s%.400s", M->tab_err[0] ? ": " : "",
		         M->tab_err);
		return -ENOENT;
	}
	if (cp_resip_geo_open(err, errlen) != 0)
		return -ENOENT;
	ctx.geo = M->geo;
	ctx.rdns = M->rdns;
	ctx.orgs = M->orgs;
	ctx.ptr_budget_ms = RESIP_PTR_BUDGET_MS;
	return resip_geo_compute(M->tab, &ctx, cc, by, g, err, errlen);
}

/* ------------------------------------------------------------ helpers --- */

void cp_resip_day_str(uint32_t day, char *buf, size_t len)
{
	time_t s = (time_t)day * 86400;
	struct tm tm;

	gmtime_r(&s, &tm);
	strftime(buf, len, "%Y-%m-%d", &tm);
}

json_t *cp_resip_day_json(uint32_t day)
{
	char b[16];

	cp_resip_day_str(day, b, sizeof(b));
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

const char *cp_resip_service_name(uint8_t proto, uint16_t port)
{
	struct servent *se;

	if (proto == OBX_P_ICMP)
		return "icmp";
	if (proto != OBX_P_TCP && proto != OBX_P_UDP)
		return "-";
	se = getservbyport(htons(port), cp_resip_proto_names[proto]);
	if (se != NULL && se->s_name != NULL)
		return se->s_name;
	for (size_t i = 0; i < sizeof(svc_fallback) / sizeof(svc_fallback[0]); i++)
		if (svc_fallback[i].port == port)
			return svc_fallback[i].name;
	return "unknown";
}

double cp_resip_share(uint64_t a, uint64_t b)
{
	return b ? (double)a / (double)b : 0.0;
}

json_t *cp_resip_table_json(void)
{
	const struct obs_conf *c = &M->cp->conf;

	return json_pack("{s:s, s:b, s:o, s:o, s:o, s:o, s:s?, s:s}",
		"path", c->resip_table, "loaded", M->tab != NULL,
		"addresses", cp_json_u64(M->tab ? M->tab->n_addrs : 0),
		"rows", cp_json_u64(M->tab ? M->tab->n_rows : 0),
		"providers", cp_json_u64(M->tab ? M->tab->n_providers : 0),
		"duplicates", cp_json_u64(M->tab ? M->tab->rep.n_duplicates : 0),
		"format", M->tab ? (M->tab->format == RESIP_FMT_MMDB ? "mmdb" : "csv") : NULL,
		"error", M->tab_err);
}

/* tables.status: the resip row gets the control plane's copy (analysis.h). */
static void resip_tables_status(struct cp *cp, const char *table, json_t *row)
{
	json_t *t;

	if (strcmp(table, "resip") != 0 || M->st == NULL)
		return;
	t = cp_resip_table_json();
	json_object_update(row, t);
	json_decref(t);
	json_object_set_new(row, "where", json_string("control plane copy (the dataplane loads "
	                    "the same file; `tables reload resip` there)"));
	json_object_set_new(row, "window_check", json_boolean(cp->conf.resip_window_check));
	json_object_set_new(row, "copy_loading", json_boolean(cp_loader_busy(&M->loader)));
}

/* The dataplane swapped a new RESIP table in: the copy follows (in the background). */
static void resip_table_loaded(struct cp *cp, const char *table)
{
	(void)cp;
	if (strcmp(table, "resip") == 0 && M->st != NULL)
		cp_resip_table_refresh(false);
}

/* ------------------------------------------------------------ init --- */

static int cp_resip_module_init(struct cp *cp)
{
	memset(M, 0, sizeof(*M));
	M->cp = cp;
	M->st = cp_resip_new();
	if (M->st == NULL)
		return -ENOMEM;
	cp_resip_table_refresh(true);    /* start-up: nobody is served yet */
	if (M->tab_err[0])
		CP_WARN("resip: %s (provider names and geography unavailable until fixed)",
		        M->tab_err);
	return 0;
}

static void cp_resip_module_fini(void)
{
	struct resip_copy_job *j = cp_loader_wait(&M->loader);   /* a read or a free */

	if (j != NULL) {
		resip_table_free(j->t);
		free(j);
	}
	cp_resip_free(M->st);
	resip_table_free(M->tab);
	cp_geo_close(M->geo);
	cp_rdns_close(M->rdns);
	resip_orgmap_free(M->orgs);
	memset(M, 0, sizeof(*M));
}

/* sources.show (fingerprint, issue 14): the source's RESIP rows — the providers listing
 * it in the control plane's copy of the table and its UTC days with RESIP traffic
 * (resip.h "days of a source") — or null when it has neither. */
static void resip_source_show(struct cp *cp, uint32_t addr, json_t *obj)
{
	json_t *prov = cp_resip_providers_json(addr), *dl = json_array();
	uint32_t *days = NULL;
	size_t n = 0;
	char b[16];

	(void)cp;
	if (M->st != NULL && cp_resip_src_days(M->st, addr, &days, &n) != 0)
		n = 0;
	for (size_t i = 0; i < n; i++) {
		cp_resip_day_str(days[i], b, sizeof(b));
		json_array_append_new(dl, json_string(b));
	}
	free(days);
	if (json_array_size(prov) == 0 && n == 0) {
		json_decref(prov);
		json_decref(dl);
		json_object_set_new(obj, "resip", json_null());
		return;
	}
	json_object_set_new(obj, "resip", json_pack("{s:o, s:I, s:o}", "providers", prov,
	                                             "n_days", (json_int_t)n, "days", dl));
}

const struct cp_analysis cp_analysis_resip = {
	.name = "resip", .init = cp_resip_module_init, .fini = cp_resip_module_fini,
	.consumers = { { OBX_TAB_SRC, sizeof(struct obx_src_rec), resip_src_merge },
	               { OBX_TAB_RESIP_PORT, sizeof(struct obx_resip_port_rec), resip_port_merge } },
	.snap = { .type = CP_SNAP_S_RESIP, .blob = resip_snap_blob, .load = resip_snap_load,
	          .reset = resip_snap_reset },
	.report = cp_resip_report, .commands = cp_resip_commands,
	.table_loaded = resip_table_loaded, .tables_status = resip_tables_status,
	.poll = resip_poll,
	.source_show = resip_source_show,       /* fingerprint (issue 14) */
};
