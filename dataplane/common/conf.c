/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * conf.c — the YAML configuration (conf.h), read by obscura-dp and obscura-cp.
 *
 * Every key is one row of conf_keys[] (dotted path, type, bounds, default, reloadable
 * or restart, help, offset into struct obs_conf); the list-of-maps sections
 * (dataplane.ports, telescope.sensors) have their own small row tables for the fields
 * of one item.  Defaults, parsing, dumping, describing and comparing are all driven by
 * those tables, so a key added in one row is parsed, dumped, compared and documented
 * without another edit.
 *
 * Loading is: YAML -> libyaml document tree -> walk it against the tables into a
 * private struct (unknown key, duplicate key, wrong type, bad value: stop, name the
 * key, the value and the reason) -> validate the whole struct (cross-field rules) ->
 * copy to the caller.  A failed load leaves the caller's struct untouched, so a reload
 * keeps the old configuration.  There is no fallback to a default on a bad value (the
 * DPVS atoi habit STYLE.md warns about).
 *
 * No DPDK, no global state: any thread may load or dump a conf it owns.
 */
#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <yaml.h>

#include "conf.h"

/* Config files are small; refusing a huge one bounds what a typo can cost. */
#define CONF_MAX_FILE   (4u << 20)
#define CONF_PATH_LEN   160
#define CONF_MAX_D      (1u << 24)   /* |D|: the sample selection walks D once */

enum conf_type { CT_INT, CT_BOOL, CT_STR, CT_ENUM, CT_STRLIST, CT_PREFIXLIST, CT_MAPLIST };

#define CF_RELOAD   0x01u  /* takes effect on reload; else restart-only */
#define CF_POW2     0x02u  /* int: power of two */
#define CF_REQUIRED 0x04u  /* item field: no default, must be given */
#define CF_ABSPATH  0x08u  /* string: empty or an absolute path */
#define CF_NAME     0x10u  /* string: letters, digits, '-', '_', '.' */
#define CF_SUNPATH  0x20u  /* string: fits sockaddr_un.sun_path (108 bytes with the NUL) */

#define CONF_SUN_PATH_MAX 107

struct conf_key {
	const char *path;       /* dotted, relative to its table */
	enum conf_type type;
	unsigned flags;
	int64_t min, max;       /* int: value; string: length; lists: item count */
	const char *def;        /* default as written in YAML; NULL: empty / required */
	const char *help;
	size_t off;             /* the value; lists: first element; prefixes: addresses */
	size_t size;            /* string: buffer; string list: element stride; maplist: item stride */
	size_t cnt_off;         /* lists: uint32_t item count */
	size_t len_off;         /* prefix list: uint8_t lengths */
	const char *const *names;        /* enum: names by value, NULL-terminated */
	const struct conf_key *items;    /* maplist: item fields */
	unsigned n_items;
	unsigned list_id;                /* maplist: index into conf_ctx line tables */
};

#define MSIZE(T, f) sizeof(((T *)0)->f)

#define K_INT(T, p, f, lo, hi, d, fl, h) { .path = p, .type = CT_INT, .flags = fl, \
	.min = lo, .max = hi, .def = d, .help = h, .off = offsetof(T, f), .size = MSIZE(T, f) }
#define K_BOOL(T, p, f, d, fl, h) { .path = p, .type = CT_BOOL, .flags = fl, .def = d, \
	.help = h, .off = offsetof(T, f), .size = MSIZE(T, f) }
#define K_STR(T, p, f, lo, d, fl, h) { .path = p, .type = CT_STR, .flags = fl, .min = lo, \
	.max = MSIZE(T, f) - 1, .def = d, .help = h, .off = offsetof(T, f), .size = MSIZE(T, f) }
#define K_ENUM(T, p, f, nm, d, fl, h) { .path = p, .type = CT_ENUM, .flags = fl, .def = d, \
	.help = h, .off = offsetof(T, f), .size = MSIZE(T, f), .names = nm }

static const char *const conf_huge_names[] = { "auto", "yes", "no", NULL };
static const char *const conf_period_names[] = { "hour", "day", "week", "month", NULL };

_Static_assert(sizeof(enum obs_conf_hugepages) == sizeof(int), "enums stored as int");
_Static_assert(sizeof(enum obs_conf_period) == sizeof(int), "enums stored as int");
_Static_assert(OBS_CONF_MAX_SENSORS <= 64, "sensor_mask is 64 bits");

static const struct conf_key conf_port_keys[] = {
	K_STR(struct obs_conf_port, "name", name, 1, NULL, CF_REQUIRED | CF_NAME,
	      "port name used in logs, stats and the exchange"),
	K_STR(struct obs_conf_port, "device", device, 1, NULL, CF_REQUIRED,
	      "PCI address (0000:03:00.0) or vdev string (net_pcap0,rx_pcap=x.pcap)"),
	K_INT(struct obs_conf_port, "rx_queues", rx_queues, 1, 64, "1", 0,
	      "RX queues on this port, spread over the workers"),
	K_INT(struct obs_conf_port, "rx_desc", rx_desc, 64, 32768, "1024", CF_POW2,
	      "RX descriptors per queue, power of two"),
};

static const struct conf_key conf_sensor_keys[] = {
	K_STR(struct obs_conf_sensor, "name", name, 1, NULL, CF_REQUIRED | CF_NAME,
	      "sensor name (SPEC.md: an environment of seed 003)"),
	{ .path = "prefixes", .type = CT_PREFIXLIST, .flags = CF_REQUIRED, .min = 1,
	  .max = OBS_CONF_MAX_PREFIXES, .help = "IPv4 prefixes of this sensor, a.b.c.d/len, no host bits",
	  .off = offsetof(struct obs_conf_sensor, prefix_addr),
	  .cnt_off = offsetof(struct obs_conf_sensor, n_prefixes),
	  .len_off = offsetof(struct obs_conf_sensor, prefix_len) },
};

#define CONF_LIST_PORTS   0
#define CONF_LIST_SENSORS 1
#define CONF_N_LISTS      2
#define CONF_MAX_ITEMS    64
#define CONF_MAX_ITEM_KEYS 4

#define C struct obs_conf
static const struct conf_key conf_keys[] = {
	K_INT(C, "dataplane.workers", workers, 1, 64, "1", 0,
	      "worker lcores polling the ports (at most OBX_MAX_WORKERS)"),
	K_INT(C, "dataplane.burst", burst, 1, 64, "32", 0, "packets per RX burst"),
	K_INT(C, "dataplane.mbufs", mbufs, 255, 16777215, "8191", 0,
	      "mbufs in the packet pool (best 2^n - 1); must cover all RX rings plus bursts"),
	K_ENUM(C, "dataplane.hugepages", hugepages, conf_huge_names, "auto", 0,
	       "use hugepages: auto (if mounted), yes (required), no (--no-huge)"),
	K_STR(C, "dataplane.file_prefix", file_prefix, 1, "obscura", CF_NAME,
	      "EAL --file-prefix, separates this instance's hugepage files"),
	{ .path = "dataplane.eal_args", .type = CT_STRLIST, .min = 0, .max = OBS_CONF_MAX_EAL_ARGS,
	  .help = "extra EAL arguments, appended verbatim", .off = offsetof(C, eal_args),
	  .size = MSIZE(C, eal_args[0]), .cnt_off = offsetof(C, n_eal_args) },
	K_BOOL(C, "dataplane.rss", rss, "true", 0,
	       "RSS on the source IPv4 where the PMD supports it"),
	{ .path = "dataplane.ports", .type = CT_MAPLIST, .min = 0, .max = OBS_CONF_MAX_PORTS,
	  .help = "capture ports; empty for replay mode", .off = offsetof(C, ports),
	  .size = sizeof(struct obs_conf_port), .cnt_off = offsetof(C, n_ports),
	  .items = conf_port_keys, .n_items = sizeof(conf_port_keys) / sizeof(conf_port_keys[0]),
	  .list_id = CONF_LIST_PORTS },

	K_INT(C, "telescope.sample_cap", sample_cap, 1, 65536, "4096", 0,
	      "coverage sample size cap (SPEC.md A); S = D when |D| <= cap"),
	{ .path = "telescope.sensors", .type = CT_MAPLIST, .min = 1, .max = OBS_CONF_MAX_SENSORS,
	  .help = "named parts of the telescope; their prefixes must not overlap",
	  .off = offsetof(C, sensors), .size = sizeof(struct obs_conf_sensor),
	  .cnt_off = offsetof(C, n_sensors), .items = conf_sensor_keys,
	  .n_items = sizeof(conf_sensor_keys) / sizeof(conf_sensor_keys[0]),
	  .list_id = CONF_LIST_SENSORS },

	K_STR(C, "exchange.path", exchange_path, 1, "/dev/shm/obscura.exchange", CF_ABSPATH,
	      "shared-memory file between dataplane and control plane"),
	K_INT(C, "exchange.epoch_ms", epoch_ms, 10, 60000, "1000", 0,
	      "epoch length in packet time"),
	K_INT(C, "exchange.src_capacity", src_capacity, 1024, 16777216, "262144", CF_POW2,
	      "source records per epoch slot, power of two"),
	K_INT(C, "exchange.cell_capacity", cell_capacity, 0, 16777216, "65536", CF_POW2,
	      "coverage cell records per epoch slot (SPEC.md A), power of two; 0 = none"),
	K_INT(C, "exchange.bitmap_capacity", bitmap_capacity, 0, 4194304, "4096", 0,
	      "coverage bitmaps per epoch slot (SPEC.md A); 0 = none"),
	K_INT(C, "exchange.resip_port_capacity", resip_port_capacity, 0, 16777216, "65536", CF_POW2,
	      "RESIP port/day records per epoch slot (SPEC.md B), power of two; 0 = none"),
	K_INT(C, "exchange.event_capacity", event_capacity, 0, 16777216, "65536", CF_POW2,
	      "event-type records per epoch slot (SPEC.md C), power of two; 0 = none"),
	K_INT(C, "exchange.drain_wait_s", drain_wait_s, 0, 3600, "10", 0,
	      "at dataplane start, wait this long for an old exchange to drain"),

	K_STR(C, "control.state_dir", state_dir, 1, "/var/lib/obscura", CF_ABSPATH,
	      "snapshots and journal of the control plane"),
	K_INT(C, "control.snapshot_interval_s", snapshot_interval_s, 1, 86400, "300", CF_RELOAD,
	      "seconds between period-store snapshots"),
	K_STR(C, "control.socket", socket_path, 1, "/run/obscura/ctl.sock", CF_ABSPATH | CF_SUNPATH,
	      "ctl v1 read-write socket"),
	K_STR(C, "control.socket_ro", socket_ro_path, 0, "/run/obscura/ctl-ro.sock",
	      CF_ABSPATH | CF_SUNPATH,
	      "ctl v1 read-only socket; empty: none"),
	K_STR(C, "control.socket_group", socket_group, 0, "", 0,
	      "group owning the sockets (mode 0660); empty: leave it"),
	K_STR(C, "control.user", user, 0, "", 0,
	      "drop privileges to this user after binding; empty: stay"),
	K_INT(C, "control.max_clients", max_clients, 1, 1024, "32", CF_RELOAD,
	      "concurrent ctl clients"),
	K_INT(C, "control.max_request", max_request, 256, 1048576, "65536", CF_RELOAD,
	      "largest ctl request line in bytes"),
	K_INT(C, "control.idle_timeout_s", idle_timeout_s, 1, 86400, "300", CF_RELOAD,
	      "close ctl clients idle this long"),

	K_ENUM(C, "analysis.period", period, conf_period_names, "month", 0,
	       "analysis period, UTC calendar unit (SPEC.md)"),
	K_INT(C, "analysis.block_len", block_len, 8, 32, "16", 0,
	      "source block prefix length L (SPEC.md A)"),
	K_INT(C, "analysis.scan_alpha_permille", scan_alpha_pm, 1, 1000, "800", CF_RELOAD,
	      "SPEC.md A alpha x 1000: a port is a scan target at coverage >= alpha"),
	K_INT(C, "analysis.scan_n", scan_n, 1, 65536, "30", CF_RELOAD,
	      "SPEC.md A n: ports for a wide-area period"),
	K_INT(C, "analysis.scan_m", scan_m, 1, 100000, "6", CF_RELOAD,
	      "SPEC.md A m: wide-area periods for a continuous scanner"),
	K_INT(C, "analysis.scan_jstar_permille", scan_jstar_pm, 0, 1000, "800", CF_RELOAD,
	      "SPEC.md A J* x 1000 (routine: J > J*)"),
	K_INT(C, "analysis.scan_sstar_permille", scan_sstar_pm, 0, 1000, "700", CF_RELOAD,
	      "SPEC.md A S* x 1000 (routine/semi-routine: S > S*)"),
	K_STR(C, "tables.scanner_file", scanner_file, 0, "", 0,
	      "scanner table: one IPv4 CIDR a line, optional label (conf/scanner-ips.txt); "
	      "\"\" = none; reload with `tables reload` or SIGHUP"),
	K_STR(C, "enrich.city_mmdb", city_mmdb, 0, "", 0,
	      "GeoIP City or Country MMDB for countries (SPEC.md A7); \"\" = none"),
	K_STR(C, "enrich.asn_mmdb", asn_mmdb, 0, "", 0,
	      "GeoIP ASN/ISP MMDB for organisations (SPEC.md B3); \"\" = none"),
	K_STR(C, "enrich.org_file", org_file, 0, "", 0,
	      "operator CIDR -> organisation file (SPEC.md B3), before the ASN MMDB; \"\" = none"),
	K_STR(C, "enrich.ptr_file", ptr_file, 0, "", 0,
	      "operator ip -> PTR name file (SPEC.md B3); \"\" = none"),
	K_BOOL(C, "enrich.ptr_live", ptr_live, "false", 0,
	       "resolve PTR names live through the system resolver (c-ares, cached)"),
	K_INT(C, "enrich.ptr_rate", ptr_rate, 1, 100000, "50", 0,
	      "live PTR queries per second at most"),
	K_STR(C, "resip.table", resip_table, 0, "", 0,
	      "RESIP table (SPEC.md B): CSV ip,provider,first_seen,last_seen or a MaxMind "
	      "residential-proxy MMDB (by content); \"\" = none; reload with `tables reload` or SIGHUP"),
	K_BOOL(C, "resip.window_check", resip_window_check, "true", 0,
	       "SPEC.md B1: a packet is RESIP traffic only inside one of its rows' windows"),
	K_STR(C, "resip.country", resip_country, 2, "JP", CF_RELOAD,
	      "SPEC.md B3: default country of `resip geo` and the report (two letters)"),

	K_INT(C, "lifetime.gap_s", life_gap_s, 3600, 31536000, "86400", 0,
	      "split a source's events into groups at idle gaps >= this (SPEC.md C4); >= 1 h"),
	K_INT(C, "lifetime.max_sources", life_max_sources, 1, 268435456, "4194304", 0,
	      "sources the lifetime analysis keeps; beyond, the least recently seen is evicted"),
	{ .path = "rules.files", .type = CT_STRLIST, .min = 0, .max = OBS_CONF_MAX_FILES,
	  .help = "payload rule files (Suricata subset, dataplane/rules.h), Hyperscan",
	  .off = offsetof(C, rules_files), .size = MSIZE(C, rules_files[0]),
	  .cnt_off = offsetof(C, n_rules_files) },
	{ .path = "exclude.files", .type = CT_STRLIST, .min = 0, .max = OBS_CONF_MAX_FILES,
	  .help = "exclusion prefix files (SPEC.md C): sources left out of the lifetime analysis",
	  .off = offsetof(C, exclude_files), .size = MSIZE(C, exclude_files[0]),
	  .cnt_off = offsetof(C, n_exclude_files) },
};
#undef C

#define CONF_N_KEYS (sizeof(conf_keys) / sizeof(conf_keys[0]))

/* conf_ctx keeps a line per item field; validation finds "name" at index 0 and
 * "device" at index 1 of their item tables. */
_Static_assert(sizeof(conf_port_keys) / sizeof(conf_port_keys[0]) <= CONF_MAX_ITEM_KEYS, "item lines");
_Static_assert(sizeof(conf_sensor_keys) / sizeof(conf_sensor_keys[0]) <= CONF_MAX_ITEM_KEYS, "item lines");
_Static_assert(OBS_CONF_MAX_PORTS <= CONF_MAX_ITEMS && OBS_CONF_MAX_SENSORS <= CONF_MAX_ITEMS, "items");

struct conf_ctx {
	const char *file;
	char *err;
	size_t errlen;
	int failed;
	yaml_document_t *doc;
	struct obs_conf *c;
	unsigned cur_item;                   /* item being walked (prefix lines) */
	uint32_t key_line[CONF_N_KEYS];      /* 0: not given */
	uint32_t item_line[CONF_N_LISTS][CONF_MAX_ITEMS];
	uint32_t item_key_line[CONF_N_LISTS][CONF_MAX_ITEMS][CONF_MAX_ITEM_KEYS];
	uint32_t prefix_line[OBS_CONF_MAX_SENSORS][OBS_CONF_MAX_PREFIXES];
};

static void conf_err(struct conf_ctx *x, uint32_t line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* First error wins: it is the one the operator has to fix first. */
static void conf_err(struct conf_ctx *x, uint32_t line, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (x->failed)
		return;
	x->failed = 1;
	if (x->err == NULL || x->errlen == 0)
		return;
	if (line)
		n = snprintf(x->err, x->errlen, "%s:%" PRIu32 ": ", x->file, line);
	else
		n = snprintf(x->err, x->errlen, "%s: ", x->file);
	if (n < 0 || (size_t)n >= x->errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(x->err + n, x->errlen - (size_t)n, fmt, ap);
	va_end(ap);
}

/* A value quoted in a message: bounded, control bytes shown as '?'. */
static const char *conf_show(const char *s, char *buf, size_t len)
{
	size_t i;
	for (i = 0; s[i] != '\0' && i + 4 < len; i++)
		buf[i] = ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) ? '?' : s[i];
	if (s[i] != '\0' && i >= 3) {
		buf[i - 3] = buf[i - 2] = buf[i - 1] = '.';
	}
	buf[i] = '\0';
	return buf;
}

/* ---- prefixes ---- */

/* 0 ok, -1 not a prefix, -2 host bits set. Strict dotted quad: no leading zeros
 * (inet_aton would read them as octal), no spaces, length required. */
static int conf_prefix(const char *s, uint32_t *addr, uint8_t *len)
{
	uint32_t a = 0;
	const char *p = s;

	for (int i = 0; i < 4; i++) {
		unsigned v = 0, nd = 0;
		while (*p >= '0' && *p <= '9') {
			if (nd == 1 && v == 0)
				return -1;
			v = v * 10 + (unsigned)(*p - '0');
			if (++nd > 3 || v > 255)
				return -1;
			p++;
		}
		if (nd == 0)
			return -1;
		a = (a << 8) | v;
		if (i < 3 && *p++ != '.')
			return -1;
	}
	if (*p++ != '/')
		return -1;
	unsigned l = 0, nd = 0;
	while (*p >= '0' && *p <= '9') {
		if (nd == 1 && l == 0)
			return -1;
		l = l * 10 + (unsigned)(*p - '0');
		if (++nd > 2)
			return -1;
		p++;
	}
	if (nd == 0 || *p != '\0' || l > 32)
		return -1;
	if (l < 32 && (a & (UINT32_MAX >> l)))
		return -2;
	*addr = a;
	*len = (uint8_t)l;
	return 0;
}

void obs_conf_exchange_tabs(const struct obs_conf *c, uint32_t cap[OBX_TAB_MAX],
                            uint32_t rec_size[OBX_TAB_MAX])
{
	static const uint32_t sizes[OBX_TAB_MAX] = OBX_REC_SIZES;

	memset(cap, 0, OBX_TAB_MAX * sizeof(cap[0]));
	cap[OBX_TAB_SRC] = c->src_capacity;
	cap[OBX_TAB_CELL] = c->cell_capacity;
	cap[OBX_TAB_BITMAP] = c->bitmap_capacity;
	cap[OBX_TAB_RESIP_PORT] = c->resip_port_capacity;
	cap[OBX_TAB_EVENT] = c->event_capacity;
	memcpy(rec_size, sizes, sizeof(sizes));
}

int obs_conf_parse_prefix(const char *s, uint32_t *addr, uint8_t *len)
{
	return conf_prefix(s, addr, len) == 0 ? 0 : -1;
}

static void conf_fmt_prefix(char *buf, size_t n, uint32_t a, uint8_t l)
{
	snprintf(buf, n, "%u.%u.%u.%u/%u", a >> 24, (a >> 16) & 0xff, (a >> 8) & 0xff, a & 0xff, l);
}

/* ---- scalar setters (shared by defaults and parsing) ---- */

static uint32_t *conf_u32(void *base, const struct conf_key *k)
{
	return (uint32_t *)((char *)base + k->off);
}

static int conf_is_null(const char *s)
{
	return s[0] == '\0' || strcmp(s, "~") == 0 || strcmp(s, "null") == 0;
}

/*
 * Bytes of a control character at s (UTF-8), or 0: C0, DEL, C1 (U+0080..U+009F) and
 * the Unicode line/paragraph separators U+2028/U+2029, which YAML folds as line breaks
 * inside quoted scalars (so they would not survive a dump -> load round trip).
 */
static size_t conf_ctl_len(const unsigned char *s)
{
	if (s[0] < 0x20 || s[0] == 0x7f)
		return 1;
	if (s[0] == 0xc2 && s[1] >= 0x80 && s[1] <= 0x9f)
		return 2;
	if (s[0] == 0xe2 && s[1] == 0x80 && (s[2] == 0xa8 || s[2] == 0xa9))
		return 3;
	return 0;
}

/* Checks a string value against the key; NULL or the reason. */
static const char *conf_check_str(const struct conf_key *k, const char *s, char *rb, size_t rl)
{
	size_t n = strlen(s);

	for (size_t i = 0; i < n; i++)
		if (conf_ctl_len((const unsigned char *)s + i))
			return "contains a control character";
	if ((int64_t)n < k->min)
		return k->min == 1 ? "must not be empty" : "too short";
	if ((int64_t)n > k->max) {
		snprintf(rb, rl, "too long (at most %" PRId64 " characters)", k->max);
		return rb;
	}
	if ((k->flags & CF_ABSPATH) && n > 0 && s[0] != '/')
		return "not an absolute path";
	if ((k->flags & CF_SUNPATH) && n > CONF_SUN_PATH_MAX)
		return "too long for a UNIX socket path (at most 107)";
	if (k->flags & CF_NAME)
		for (size_t i = 0; i < n; i++)
			if (!isalnum((unsigned char)s[i]) && s[i] != '-' && s[i] != '_' && s[i] != '.')
				return "not a valid name (letters, digits, '-', '_', '.')";
	return NULL;
}

/*
 * Set one scalar key from its YAML text.  quoted: the scalar was quoted in the file,
 * which makes it a string for YAML (so "5" is not an integer).  Returns NULL, or the
 * reason the value is refused (static or formatted into rb).
 */
static const char *conf_set_scalar(const struct conf_key *k, void *base, const char *s,
                                   int quoted, char *rb, size_t rl)
{
	switch (k->type) {
	case CT_INT: {
		const char *p = s;
		char *end;
		long long v;
		if (quoted)
			return "not an integer (quoted: a string)";
		if (*p == '-' || *p == '+')
			p++;
		if (*p < '0' || *p > '9')
			return "not an integer";
		errno = 0;
		v = strtoll(s, &end, 10);
		if (*end != '\0')
			return "not an integer";
		if (errno == ERANGE || v < k->min || v > k->max) {
			snprintf(rb, rl, "out of range %" PRId64 "..%" PRId64, k->min, k->max);
			return rb;
		}
		if ((k->flags & CF_POW2) && (v & (v - 1)) != 0)
			return "not a power of two";
		*conf_u32(base, k) = (uint32_t)v;
		return NULL;
	}
	case CT_BOOL: {
		bool *b = (bool *)((char *)base + k->off);
		if (quoted)
			return "not a boolean (quoted: a string)";
		if (!strcasecmp(s, "true") || !strcasecmp(s, "yes") || !strcasecmp(s, "on"))
			*b = true;
		else if (!strcasecmp(s, "false") || !strcasecmp(s, "no") || !strcasecmp(s, "off"))
			*b = false;
		else
			return "not a boolean (true|false)";
		return NULL;
	}
	case CT_ENUM:
		for (int i = 0; k->names[i] != NULL; i++)
			if (strcmp(s, k->names[i]) == 0) {
				int v = i;
				memcpy((char *)base + k->off, &v, sizeof(v));
				return NULL;
			}
		{
			size_t n = (size_t)snprintf(rb, rl, "not one of ");
			for (int i = 0; k->names[i] != NULL && n < rl; i++)
				n += (size_t)snprintf(rb + n, rl - n, "%s%s", i ? "|" : "", k->names[i]);
		}
		return rb;
	case CT_STR: {
		const char *why;
		if (!quoted && conf_is_null(s))
			s = "";
		why = conf_check_str(k, s, rb, rl);
		if (why != NULL)
			return why;
		memcpy((char *)base + k->off, s, strlen(s) + 1);
		return NULL;
	}
	default:
		return "is not a scalar key";
	}
}

static void conf_defaults_tab(const struct conf_key *tab, unsigned n, void *base)
{
	char rb[96];

	for (unsigned i = 0; i < n; i++) {
		const struct conf_key *k = &tab[i];
		if (k->def == NULL)
			continue;   /* lists start empty; required fields have none */
		const char *why = conf_set_scalar(k, base, k->def, 0, rb, sizeof(rb));
		assert(why == NULL && "a default violates its own key's rules");
		(void)why;
	}
}

void obs_conf_defaults(struct obs_conf *c)
{
	memset(c, 0, sizeof(*c));
	conf_defaults_tab(conf_keys, CONF_N_KEYS, c);
}

/* ---- walking the YAML tree ---- */

static uint32_t conf_line(const yaml_node_t *n)
{
	return (uint32_t)n->start_mark.line + 1;
}

static const char *conf_node_kind(const yaml_node_t *n)
{
	switch (n->type) {
	case YAML_SCALAR_NODE: return "a scalar";
	case YAML_SEQUENCE_NODE: return "a list";
	case YAML_MAPPING_NODE: return "a mapping";
	default: return "nothing";
	}
}

/* The scalar's text, or NULL (with an error) when it holds a NUL byte. */
static const char *conf_scalar(struct conf_ctx *x, const yaml_node_t *n, const char *dpath)
{
	const char *s = (const char *)n->data.scalar.value;
	if (strlen(s) != n->data.scalar.length) {
		conf_err(x, conf_line(n), "%s: value contains a NUL byte", dpath);
		return NULL;
	}
	return s;
}

static int conf_quoted(const yaml_node_t *n)
{
	return n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE;
}

static int conf_walk_map(struct conf_ctx *x, yaml_node_t *map, const char *rel, const char *disp,
                         const struct conf_key *tab, unsigned n, void *base, uint32_t *lines);

static int conf_set_list(struct conf_ctx *x, const struct conf_key *k, void *base,
                         yaml_node_t *v, const char *dpath)
{
	char rb[96], vb[80];
	uint32_t *cnt = (uint32_t *)((char *)base + k->cnt_off);
	yaml_node_item_t *it;
	size_t nitems;
	/* a list element: non-empty, fits its buffer */
	const struct conf_key ek = { .type = CT_STR, .min = 1, .max = (int64_t)k->size - 1 };

	if (v->type != YAML_SEQUENCE_NODE) {
		conf_err(x, conf_line(v), "%s: expected a list, got %s", dpath, conf_node_kind(v));
		return -1;
	}
	it = v->data.sequence.items.start;
	nitems = (size_t)(v->data.sequence.items.top - it);
	if ((int64_t)nitems > k->max) {
		conf_err(x, conf_line(v), "%s: %zu items, at most %" PRId64 " allowed",
		         dpath, nitems, k->max);
		return -1;
	}
	if ((int64_t)nitems < k->min) {
		conf_err(x, conf_line(v), "%s: %zu items, need at least %" PRId64,
		         dpath, nitems, k->min);
		return -1;
	}
	*cnt = 0;
	for (size_t i = 0; i < nitems; i++) {
		yaml_node_t *e = yaml_document_get_node(x->doc, it[i]);
		char ep[2 * CONF_PATH_LEN + 24];
		snprintf(ep, sizeof(ep), "%s[%zu]", dpath, i);
		if (e == NULL)
			return -1;
		if (k->type != CT_MAPLIST && e->type != YAML_SCALAR_NODE) {
			conf_err(x, conf_line(e), "%s: expected a scalar value, got %s", ep,
			         conf_node_kind(e));
			return -1;
		}
		switch (k->type) {
		case CT_STRLIST: {
			const char *s = conf_scalar(x, e, ep), *why;
			if (s == NULL)
				return -1;
			why = conf_check_str(&ek, s, rb, sizeof(rb));
			if (why != NULL) {
				conf_err(x, conf_line(e), "%s: value '%s' %s", ep,
				         conf_show(s, vb, sizeof(vb)), why);
				return -1;
			}
			memcpy((char *)base + k->off + i * k->size, s, strlen(s) + 1);
			break;
		}
		case CT_PREFIXLIST: {
			const char *s = conf_scalar(x, e, ep);
			uint32_t a;
			uint8_t l;
			int rc;
			if (s == NULL)
				return -1;
			rc = conf_prefix(s, &a, &l);
			if (rc < 0) {
				conf_err(x, conf_line(e), "%s: value '%s' %s", ep,
				         conf_show(s, vb, sizeof(vb)), rc == -2 ?
				         "has host bits set" : "not an IPv4 prefix (a.b.c.d/len)");
				return -1;
			}
			((uint32_t *)((char *)base + k->off))[i] = a;
			((uint8_t *)((char *)base + k->len_off))[i] = l;
			x->prefix_line[x->cur_item][i] = conf_line(e);
			break;
		}
		case CT_MAPLIST: {
			void *ib = (char *)base + k->off + i * k->size;
			uint32_t *il = x->item_key_line[k->list_id][i];
			if (e->type != YAML_MAPPING_NODE) {
				conf_err(x, conf_line(e), "%s: expected a mapping, got %s", ep,
				         conf_node_kind(e));
				return -1;
			}
			memset(ib, 0, k->size);
			conf_defaults_tab(k->items, k->n_items, ib);
			x->item_line[k->list_id][i] = conf_line(e);
			x->cur_item = (unsigned)i;
			if (conf_walk_map(x, e, "", ep, k->items, k->n_items, ib, il) < 0)
				return -1;
			for (unsigned j = 0; j < k->n_items; j++)
				if ((k->items[j].flags & CF_REQUIRED) && il[j] == 0) {
					conf_err(x, conf_line(e), "%s.%s: missing (required)", ep,
					         k->items[j].path);
					return -1;
				}
			break;
		}
		default:
			return -1;
		}
		*cnt = (uint32_t)(i + 1);
	}
	return 0;
}

static int conf_set_node(struct conf_ctx *x, const struct conf_key *k, void *base,
                         yaml_node_t *v, const char *dpath)
{
	char rb[96], vb[80];
	const char *s, *why;

	switch (k->type) {
	case CT_STRLIST:
	case CT_PREFIXLIST:
	case CT_MAPLIST:
		return conf_set_list(x, k, base, v, dpath);
	default:
		break;
	}
	if (v->type != YAML_SCALAR_NODE) {
		conf_err(x, conf_line(v), "%s: expected a scalar value, got %s", dpath,
		         conf_node_kind(v));
		return -1;
	}
	s = conf_scalar(x, v, dpath);
	if (s == NULL)
		return -1;
	why = conf_set_scalar(k, base, s, conf_quoted(v), rb, sizeof(rb));
	if (why != NULL) {
		conf_err(x, conf_line(v), "%s: value '%s' %s", dpath, conf_show(s, vb, sizeof(vb)), why);
		return -1;
	}
	return 0;
}

/*
 * Walk one mapping whose keys sit at table path rel ("" for the top of a table).
 * A key naming a row is a leaf; a key that is a proper prefix of some row is a
 * section (recurse); anything else is unknown.  disp prefixes paths in messages.
 */
static int conf_walk_map(struct conf_ctx *x, yaml_node_t *map, const char *rel, const char *disp,
                         const struct conf_key *tab, unsigned n, void *base, uint32_t *lines)
{
	yaml_node_pair_t *pairs = map->data.mapping.pairs.start;
	size_t np = (size_t)(map->data.mapping.pairs.top - pairs);

	for (size_t i = 0; i < np; i++) {
		yaml_node_t *kn = yaml_document_get_node(x->doc, pairs[i].key);
		yaml_node_t *vn = yaml_document_get_node(x->doc, pairs[i].value);
		char rp[CONF_PATH_LEN], dp[2 * CONF_PATH_LEN];
		const char *kname;
		size_t rl;
		int section = 0;

		if (kn == NULL || vn == NULL)
			return -1;
		if (kn->type != YAML_SCALAR_NODE) {
			conf_err(x, conf_line(kn), "%s%skey is %s, expected a name", disp,
			         disp[0] ? ": " : "", conf_node_kind(kn));
			return -1;
		}
		kname = (const char *)kn->data.scalar.value;
		snprintf(rp, sizeof(rp), "%s%s%s", rel, rel[0] ? "." : "", kname);
		snprintf(dp, sizeof(dp), "%s%s%s", disp, disp[0] && rp[0] ? "." : "", rp);
		/* A mapping stays small (unknown keys stop the walk), so the quadratic
		 * duplicate check is cheap; libyaml itself accepts duplicate keys. */
		for (size_t j = 0; j < i; j++) {
			yaml_node_t *pk = yaml_document_get_node(x->doc, pairs[j].key);
			if (pk != NULL && pk->type == YAML_SCALAR_NODE &&
			    strcmp((const char *)pk->data.scalar.value, kname) == 0) {
				conf_err(x, conf_line(kn), "%s: duplicate key (first at line %" PRIu32 ")",
				         dp, conf_line(pk));
				return -1;
			}
		}
		/* A dotted or bracketed key would alias a table path ("dataplane.workers:"
		 * at the top): only the nested layout is the file format. */
		if (strlen(kname) != kn->data.scalar.length || strlen(rp) + 1 >= sizeof(rp) ||
		    strpbrk(kname, ".[]") != NULL || kname[0] == '\0') {
			conf_err(x, conf_line(kn), "%s: unknown key", dp);
			return -1;
		}
		rl = strlen(rp);
		for (unsigned j = 0; j < n; j++) {
			if (strcmp(tab[j].path, rp) == 0) {
				lines[j] = conf_line(kn);
				if (conf_set_node(x, &tab[j], base, vn, dp) < 0)
					return -1;
				section = -1;
				break;
			}
			if (strncmp(tab[j].path, rp, rl) == 0 && tab[j].path[rl] == '.')
				section = 1;
		}
		if (section < 0)
			continue;
		if (section == 0) {
			conf_err(x, conf_line(kn), "%s: unknown key", dp);
			return -1;
		}
		if (vn->type != YAML_MAPPING_NODE) {
			conf_err(x, conf_line(vn), "%s: expected a mapping (section), got %s", dp,
			         conf_node_kind(vn));
			return -1;
		}
		if (conf_walk_map(x, vn, rp, disp, tab, n, base, lines) < 0)
			return -1;
	}
	return 0;
}

/* ---- whole-struct validation ---- */

struct conf_pfx {
	uint32_t first, last;
	unsigned sensor, idx;
};

static int conf_pfx_cmp(const void *a, const void *b)
{
	const struct conf_pfx *p = a, *q = b;
	if (p->first != q->first)
		return p->first < q->first ? -1 : 1;
	return (p->last < q->last) - (p->last > q->last);   /* wider first */
}

static unsigned conf_key_index(const char *path)
{
	for (unsigned i = 0; i < CONF_N_KEYS; i++)
		if (strcmp(conf_keys[i].path, path) == 0)
			return i;
	assert(0 && "validation names a key the table lacks");
	return 0;
}

static int conf_validate(struct conf_ctx *x)
{
	const struct obs_conf *c = x->c;
	uint32_t sensors_line = x->key_line[conf_key_index("telescope.sensors")];
	uint32_t ports_line = x->key_line[conf_key_index("dataplane.ports")];
	char vb[80], pb[24];

	if (c->n_sensors == 0) {
		conf_err(x, sensors_line, "telescope.sensors: no sensors configured, need at least 1");
		return -1;
	}
	for (unsigned i = 1; i < c->n_sensors; i++)
		for (unsigned j = 0; j < i; j++)
			if (strcmp(c->sensors[i].name, c->sensors[j].name) == 0) {
				conf_err(x, x->item_key_line[CONF_LIST_SENSORS][i][0],
				         "telescope.sensors[%u].name: value '%s' duplicate sensor name (also telescope.sensors[%u])",
				         i, conf_show(c->sensors[i].name, vb, sizeof(vb)), j);
				return -1;
			}
	for (unsigned i = 1; i < c->n_ports; i++)
		for (unsigned j = 0; j < i; j++) {
			if (strcmp(c->ports[i].name, c->ports[j].name) == 0) {
				conf_err(x, x->item_key_line[CONF_LIST_PORTS][i][0],
				         "dataplane.ports[%u].name: value '%s' duplicate port name (also dataplane.ports[%u])",
				         i, conf_show(c->ports[i].name, vb, sizeof(vb)), j);
				return -1;
			}
			if (strcmp(c->ports[i].device, c->ports[j].device) == 0) {
				conf_err(x, x->item_key_line[CONF_LIST_PORTS][i][1],
				         "dataplane.ports[%u].device: value '%s' duplicate device (also dataplane.ports[%u])",
				         i, conf_show(c->ports[i].device, vb, sizeof(vb)), j);
				return -1;
			}
		}

	/* Prefixes are laminar (nested or disjoint), so after sorting by start any
	 * overlap shows between neighbours.  Blame the one written later. */
	unsigned np = 0;
	uint64_t size = 0;
	for (unsigned i = 0; i < c->n_sensors; i++)
		np += c->sensors[i].n_prefixes;
	struct conf_pfx *px = calloc(np ? np : 1, sizeof(*px));
	if (px == NULL) {
		conf_err(x, 0, "out of memory");
		return -1;
	}
	np = 0;
	for (unsigned i = 0; i < c->n_sensors; i++)
		for (unsigned j = 0; j < c->sensors[i].n_prefixes; j++) {
			uint64_t span = 1ull << (32 - c->sensors[i].prefix_len[j]);
			px[np].first = c->sensors[i].prefix_addr[j];
			px[np].last = (uint32_t)(px[np].first + span - 1);
			px[np].sensor = i;
			px[np].idx = j;
			size += span;
			np++;
		}
	qsort(px, np, sizeof(*px), conf_pfx_cmp);
	for (unsigned i = 1; i < np; i++) {
		if (px[i].first > px[i - 1].last)
			continue;
		const struct conf_pfx *a = &px[i - 1], *b = &px[i];
		if (a->sensor > b->sensor || (a->sensor == b->sensor && a->idx > b->idx)) {
			const struct conf_pfx *t = a;
			a = b;
			b = t;
		}
		conf_fmt_prefix(vb, sizeof(vb), c->sensors[b->sensor].prefix_addr[b->idx],
		                c->sensors[b->sensor].prefix_len[b->idx]);
		conf_fmt_prefix(pb, sizeof(pb), c->sensors[a->sensor].prefix_addr[a->idx],
		                c->sensors[a->sensor].prefix_len[a->idx]);
		conf_err(x, x->prefix_line[b->sensor][b->idx],
		         "telescope.sensors[%u].prefixes[%u]: value '%s' overlaps sensor '%s' prefix %s",
		         b->sensor, b->idx, vb, c->sensors[a->sensor].name, pb);
		free(px);
		return -1;
	}
	free(px);
	if (size > CONF_MAX_D) {
		conf_err(x, sensors_line,
		         "telescope.sensors: telescope has %" PRIu64 " addresses, more than %u (2^24)",
		         size, CONF_MAX_D);
		return -1;
	}

	/* Every RX descriptor holds an mbuf, and each worker has a burst in flight:
	 * a smaller pool starves the rings at start (rte_eth_rx_queue_setup fails or
	 * the port drops as rx_nombuf). */
	uint64_t need = (uint64_t)c->workers * c->burst;
	for (unsigned i = 0; i < c->n_ports; i++)
		need += (uint64_t)c->ports[i].rx_queues * c->ports[i].rx_desc;
	if (c->mbufs < need) {
		unsigned mi = conf_key_index("dataplane.mbufs");
		conf_err(x, x->key_line[mi] ? x->key_line[mi] : ports_line,
		         "dataplane.mbufs: value '%" PRIu32 "' too small for the RX rings and bursts (need at least %" PRIu64 ")",
		         c->mbufs, need);
		return -1;
	}
	return 0;
}

/* ---- loading ---- */

static int conf_load_buf(const char *file, const unsigned char *buf, size_t len,
                         struct obs_conf *out, char *err, size_t errlen)
{
	yaml_parser_t parser;
	yaml_document_t doc, doc2;
	struct conf_ctx *x;
	struct obs_conf *c;
	yaml_node_t *root;
	int rc = -1;

	x = calloc(1, sizeof(*x));
	c = malloc(sizeof(*c));
	if (x == NULL || c == NULL) {
		free(x);
		free(c);
		if (err && errlen)
			snprintf(err, errlen, "%s: out of memory", file);
		return -1;
	}
	x->file = file;
	x->err = err;
	x->errlen = errlen;
	x->c = c;
	x->doc = &doc;
	obs_conf_defaults(c);

	if (!yaml_parser_initialize(&parser)) {
		conf_err(x, 0, "out of memory (yaml parser)");
		goto out_free;
	}
	yaml_parser_set_input_string(&parser, buf, len);
	if (!yaml_parser_load(&parser, &doc)) {
		conf_err(x, (uint32_t)parser.problem_mark.line + 1, "YAML syntax error: %s%s%s",
		         parser.problem ? parser.problem : "unknown",
		         parser.context ? " " : "", parser.context ? parser.context : "");
		goto out_parser;
	}
	root = yaml_document_get_root_node(&doc);
	if (root == NULL) {
		conf_err(x, 1, "empty configuration (no YAML document)");
		goto out_doc;
	}
	/* A second document would be silently ignored: refuse it. */
	if (!yaml_parser_load(&parser, &doc2)) {
		conf_err(x, (uint32_t)parser.problem_mark.line + 1, "YAML syntax error: %s%s%s",
		         parser.problem ? parser.problem : "unknown",
		         parser.context ? " " : "", parser.context ? parser.context : "");
		goto out_doc;
	}
	if (yaml_document_get_root_node(&doc2) != NULL) {
		conf_err(x, (uint32_t)doc2.start_mark.line + 1,
		         "more than one YAML document (only one is read)");
		yaml_document_delete(&doc2);
		goto out_doc;
	}
	yaml_document_delete(&doc2);
	if (root->type != YAML_MAPPING_NODE) {
		conf_err(x, conf_line(root), "top level is %s, expected a mapping of sections",
		         conf_node_kind(root));
		goto out_doc;
	}
	if (conf_walk_map(x, root, "", "", conf_keys, CONF_N_KEYS, c, x->key_line) < 0 ||
	    x->failed)
		goto out_doc;
	if (conf_validate(x) < 0)
		goto out_doc;
	memcpy(out, c, sizeof(*c));
	rc = 0;
out_doc:
	yaml_document_delete(&doc);
out_parser:
	yaml_parser_delete(&parser);
out_free:
	free(c);
	free(x);
	return rc;
}

int obs_conf_load_string(const char *yaml, struct obs_conf *c, char *err, size_t errlen)
{
	return conf_load_buf("<string>", (const unsigned char *)yaml, strlen(yaml), c, err, errlen);
}

int obs_conf_load(const char *path, struct obs_conf *c, char *err, size_t errlen)
{
	FILE *f;
	unsigned char *buf;
	size_t n;
	int rc;

	f = fopen(path, "rb");
	if (f == NULL) {
		if (err && errlen)
			snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return -1;
	}
	buf = malloc(CONF_MAX_FILE + 1);
	if (buf == NULL) {
		fclose(f);
		if (err && errlen)
			snprintf(err, errlen, "%s: out of memory", path);
		return -1;
	}
	n = fread(buf, 1, CONF_MAX_FILE + 1, f);
	if (ferror(f) || n > CONF_MAX_FILE) {
		if (err && errlen)
			snprintf(err, errlen, "%s: %s", path, ferror(f) ? "read error" :
			         "file too large (more than 4 MiB)");
		free(buf);
		fclose(f);
		return -1;
	}
	fclose(f);
	rc = conf_load_buf(path, buf, n, c, err, errlen);
	free(buf);
	return rc;
}

/* ---- dump, describe, compare ---- */

/* YAML double-quoted.  Loaded strings hold no control characters, but a struct
 * filled by code might: escape them so the output always parses back the same. */
static void conf_dump_str(FILE *out, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	fputc('"', out);
	while (*p) {
		size_t cl = conf_ctl_len(p);
		if (cl == 1) {
			fprintf(out, "\\x%02x", *p);
		} else if (cl == 2) {
			fprintf(out, "\\x%02x", p[1]);   /* U+0080..U+009F */
		} else if (cl == 3) {
			fputs(p[2] == 0xa8 ? "\\L" : "\\P", out);
		} else {
			if (*p == '"' || *p == '\\')
				fputc('\\', out);
			fputc(*p, out);
			cl = 1;
		}
		p += cl;
	}
	fputc('"', out);
}

static void conf_dump_value(FILE *out, const struct conf_key *k, const void *base,
                            const char *ind)
{
	const char *p = (const char *)base + k->off;
	uint32_t n = k->cnt_off ? *(const uint32_t *)((const char *)base + k->cnt_off) : 0;
	char pb[24];
	int v;

	if (k->type != CT_MAPLIST || n == 0)
		fputc(' ', out);
	switch (k->type) {
	case CT_INT:
		fprintf(out, "%" PRIu32, *(const uint32_t *)p);
		break;
	case CT_BOOL:
		fputs(*(const bool *)p ? "true" : "false", out);
		break;
	case CT_ENUM:
		memcpy(&v, p, sizeof(v));
		fputs(k->names[v], out);
		break;
	case CT_STR:
		conf_dump_str(out, p);
		break;
	case CT_STRLIST:
		fputc('[', out);
		for (uint32_t i = 0; i < n; i++) {
			fputs(i ? ", " : "", out);
			conf_dump_str(out, p + i * k->size);
		}
		fputc(']', out);
		break;
	case CT_PREFIXLIST:
		fputc('[', out);
		for (uint32_t i = 0; i < n; i++) {
			conf_fmt_prefix(pb, sizeof(pb), ((const uint32_t *)p)[i],
			                ((const uint8_t *)base + k->len_off)[i]);
			fprintf(out, "%s%s", i ? ", " : "", pb);
		}
		fputc(']', out);
		break;
	case CT_MAPLIST:
		if (n == 0) {
			fputs("[]", out);
			break;
		}
		for (uint32_t i = 0; i < n; i++) {
			const void *ib = p + i * k->size;
			for (unsigned j = 0; j < k->n_items; j++) {
				fprintf(out, "\n%s%s %s:", ind, j ? " " : "-", k->items[j].path);
				conf_dump_value(out, &k->items[j], ib, "");
			}
		}
		break;
	}
}

void obs_conf_dump(const struct obs_conf *c, FILE *out)
{
	const char *sec = NULL;
	size_t seclen = 0;

	fputs("# obscura configuration, normalised: every key, explicit values\n", out);
	for (unsigned i = 0; i < CONF_N_KEYS; i++) {
		const struct conf_key *k = &conf_keys[i];
		const char *dot = strchr(k->path, '.');
		if (sec == NULL || (size_t)(dot - k->path) != seclen ||
		    strncmp(sec, k->path, seclen) != 0) {
			sec = k->path;
			seclen = (size_t)(dot - k->path);
			fprintf(out, "%.*s:\n", (int)seclen, sec);
		}
		fprintf(out, "  %s:", dot + 1);
		conf_dump_value(out, k, c, "    ");
		fputc('\n', out);
	}
}

static void conf_describe_key(FILE *out, const struct conf_key *k, const char *prefix)
{
	char path[CONF_PATH_LEN], type[96];

	snprintf(path, sizeof(path), "%s%s", prefix, k->path);
	switch (k->type) {
	case CT_INT:
		snprintf(type, sizeof(type), "int %" PRId64 "..%" PRId64 "%s", k->min, k->max,
		         (k->flags & CF_POW2) ? " pow2" : "");
		break;
	case CT_BOOL:
		snprintf(type, sizeof(type), "bool");
		break;
	case CT_ENUM: {
		size_t n = (size_t)snprintf(type, sizeof(type), "enum ");
		for (int i = 0; k->names[i] != NULL && n < sizeof(type); i++)
			n += (size_t)snprintf(type + n, sizeof(type) - n, "%s%s", i ? "|" : "",
			                      k->names[i]);
		break;
	}
	case CT_STR:
		snprintf(type, sizeof(type), "string %" PRId64 "..%" PRId64 "%s", k->min, k->max,
		         (k->flags & CF_ABSPATH) ? " path" : (k->flags & CF_NAME) ? " name" : "");
		break;
	case CT_STRLIST:
		snprintf(type, sizeof(type), "list of string, %" PRId64 "..%" PRId64, k->min, k->max);
		break;
	case CT_PREFIXLIST:
		snprintf(type, sizeof(type), "list of prefix, %" PRId64 "..%" PRId64, k->min, k->max);
		break;
	case CT_MAPLIST:
		snprintf(type, sizeof(type), "list of map, %" PRId64 "..%" PRId64, k->min, k->max);
		break;
	}
	fprintf(out, "%-36s %-28s %-28s %-7s %s\n", path, type,
	        k->def ? (k->def[0] ? k->def : "\"\"") :
	        (k->flags & CF_REQUIRED) ? "(required)" : "[]",
	        (k->flags & CF_RELOAD) ? "reload" : "restart", k->help);
	if (k->type == CT_MAPLIST) {
		char ip[CONF_PATH_LEN + 4];
		snprintf(ip, sizeof(ip), "%s[].", path);
		for (unsigned j = 0; j < k->n_items; j++)
			conf_describe_key(out, &k->items[j], ip);
	}
}

void obs_conf_describe(FILE *out)
{
	fprintf(out, "%-36s %-28s %-28s %-7s %s\n", "key", "type", "default", "apply", "help");
	for (unsigned i = 0; i < CONF_N_KEYS; i++)
		conf_describe_key(out, &conf_keys[i], "");
}

/* Index of the first row whose value differs, or -1. */
static int conf_diff_tab(const struct conf_key *tab, unsigned n, const void *a, const void *b)
{
	for (unsigned i = 0; i < n; i++) {
		const struct conf_key *k = &tab[i];
		const char *pa = (const char *)a + k->off, *pb = (const char *)b + k->off;
		uint32_t na = 0, nb = 0;
		if (k->cnt_off) {
			na = *(const uint32_t *)((const char *)a + k->cnt_off);
			nb = *(const uint32_t *)((const char *)b + k->cnt_off);
			if (na != nb)
				return (int)i;
		}
		switch (k->type) {
		case CT_INT:
			if (*(const uint32_t *)pa != *(const uint32_t *)pb)
				return (int)i;
			break;
		case CT_BOOL:
			if (*(const bool *)pa != *(const bool *)pb)
				return (int)i;
			break;
		case CT_ENUM:
			if (memcmp(pa, pb, sizeof(int)) != 0)
				return (int)i;
			break;
		case CT_STR:
			if (strcmp(pa, pb) != 0)
				return (int)i;
			break;
		case CT_STRLIST:
			for (uint32_t j = 0; j < na; j++)
				if (strcmp(pa + j * k->size, pb + j * k->size) != 0)
					return (int)i;
			break;
		case CT_PREFIXLIST:
			if (memcmp(pa, pb, na * sizeof(uint32_t)) != 0 ||
			    memcmp((const char *)a + k->len_off, (const char *)b + k->len_off, na) != 0)
				return (int)i;
			break;
		case CT_MAPLIST:
			for (uint32_t j = 0; j < na; j++)
				if (conf_diff_tab(k->items, k->n_items, pa + j * k->size,
				                  pb + j * k->size) >= 0)
					return (int)i;
			break;
		}
	}
	return -1;
}

const char *obs_conf_diff(const struct obs_conf *a, const struct obs_conf *b)
{
	int i = conf_diff_tab(conf_keys, CONF_N_KEYS, a, b);
	return i < 0 ? NULL : conf_keys[i].path;
}

bool obs_conf_equal(const struct obs_conf *a, const struct obs_conf *b)
{
	return obs_conf_diff(a, b) == NULL;
}

bool obs_conf_key_reloadable(const char *path)
{
	for (unsigned i = 0; i < CONF_N_KEYS; i++)
		if (strcmp(conf_keys[i].path, path) == 0)
			return (conf_keys[i].flags & CF_RELOAD) != 0;
	return false;
}
