/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * conf.c — the YAML configuration (conf.h), read by obscura-dp and obscura-cp.
 *
 * Every key is one row of obs_conf_keys[] (conf_keys.c: dotted path, type, bounds,
 * default, reloadable or restart, help, offset into struct obs_conf); the list-of-maps
 * sections (dataplane.ports, telescope.sensors) have their own small row tables for the
 * fields of one item.  Defaults and parsing (here), dumping, describing and comparing
 * (conf_dump.c) are all driven by those tables, so a key added in one row is parsed,
 * dumped, compared and documented without another edit.
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
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <yaml.h>

#include "conf_int.h"

/* Config files are small; refusing a huge one bounds what a typo can cost. */
#define CONF_MAX_FILE   (4u << 20)
#define CONF_MAX_D      (1u << 24)   /* |D|: the sample selection walks D once */

struct conf_ctx {
	const char *file;
	char *err;
	size_t errlen;
	int failed;
	yaml_document_t *doc;
	struct obs_conf *c;
	unsigned cur_item;                   /* item being walked (prefix lines) */
	uint32_t key_line[CONF_N_KEYS_MAX];  /* 0: not given */
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
	cap[OBX_TAB_DOS] = c->dos_capacity;
	cap[OBX_TAB_FPSIG] = c->fpsig_capacity;   /* fingerprint signatures */
	cap[OBX_TAB_RESP] = c->resp_n_prefixes != 0 ? c->resp_capacity : 0;   /* responder */
	memcpy(rec_size, sizes, sizeof(sizes));
}

int obs_conf_parse_prefix(const char *s, uint32_t *addr, uint8_t *len)
{
	return conf_prefix(s, addr, len) == 0 ? 0 : -1;
}

int obs_conf_parse_listen(const char *s, struct sockaddr_storage *ss, uint32_t *len,
                          const char **why)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *colon, *h = s, *port;
	size_t hl;
	char *end;
	unsigned long p;

	memset(ss, 0, sizeof(*ss));
	if (s[0] == '[') {
		const char *rb = strchr(s, ']');

		if (rb == NULL || rb[1] != ':') {
			*why = "not [v6addr]:PORT";
			return -1;
		}
		h = s + 1;
		hl = (size_t)(rb - h);
		port = rb + 2;
	} else {
		colon = strrchr(s, ':');
		if (colon == NULL || strchr(s, ':') != colon) {
			*why = "not a.b.c.d:PORT (an IPv6 address goes in brackets: [::1]:PORT)";
			return -1;
		}
		hl = (size_t)(colon - s);
		port = colon + 1;
	}
	if (hl == 0 || hl >= sizeof(host)) {
		*why = "no address before the port (numeric: 0.0.0.0 for every address)";
		return -1;
	}
	memcpy(host, h, hl);
	host[hl] = '\0';
	errno = 0;
	p = strtoul(port, &end, 10);
	if (port[0] < '0' || port[0] > '9' || *end != '\0' || errno != 0 || p == 0 ||
	    p > 65535) {
		*why = "port not a number 1..65535";
		return -1;
	}
	if (s[0] == '[') {
		struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;

		if (inet_pton(AF_INET6, host, &a6->sin6_addr) != 1) {
			*why = "not a numeric IPv6 address in the brackets";
			return -1;
		}
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((uint16_t)p);
		*len = sizeof(*a6);
	} else {
		struct sockaddr_in *a4 = (struct sockaddr_in *)ss;

		if (inet_pton(AF_INET, host, &a4->sin_addr) != 1) {
			*why = "not a numeric IPv4 address before the port (no host names)";
			return -1;
		}
		a4->sin_family = AF_INET;
		a4->sin_port = htons((uint16_t)p);
		*len = sizeof(*a4);
	}
	return 0;
}

void obs_conf_fmt_prefix(char *buf, size_t n, uint32_t a, uint8_t l)
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
size_t obs_conf_ctl_len(const unsigned char *s)
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
		if (obs_conf_ctl_len((const unsigned char *)s + i))
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
	if ((k->flags & CF_LISTEN) && n > 0) {
		struct sockaddr_storage ss;
		const char *why;
		uint32_t len;

		if (obs_conf_parse_listen(s, &ss, &len, &why) != 0)
			return why;
	}
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
	conf_defaults_tab(obs_conf_keys, obs_conf_n_keys, c);
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
			if (base != (void *)x->c)   /* a sensor's list (not responder.prefixes) */
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
	for (unsigned i = 0; i < obs_conf_n_keys; i++)
		if (strcmp(obs_conf_keys[i].path, path) == 0)
			return i;
	assert(0 && "validation names a key the table lacks");
	return 0;
}

/* export.clickhouse.url: "http://host[:port][/]" (host a name, an IPv4 address or
 * [IPv6]); NULL, or what is wrong.  The exporter appends the query itself, so a path or
 * query string here is refused rather than silently mangled. */
static const char *conf_check_http_url(const char *u)
{
	const char *h, *p;
	unsigned long port;
	char *end;

	if (strncmp(u, "http://", 7) != 0)
		return "not an http:// URL (the ClickHouse HTTP interface, e.g. http://127.0.0.1:8123/)";
	h = u + 7;
	if (*h == '[') {
		p = strchr(h, ']');
		if (p == NULL || p == h + 1)
			return "bad [IPv6] host";
		p++;
	} else {
		for (p = h; isalnum((unsigned char)*p) || *p == '.' || *p == '-'; p++)
			;
		if (p == h)
			return "no host after http://";
	}
	if (*p == ':') {
		errno = 0;
		port = strtoul(p + 1, &end, 10);
		if (end == p + 1 || errno != 0 || port == 0 || port > 65535 || *(p + 1) == '+' ||
		    *(p + 1) == '-')
			return "bad port (1..65535)";
		p = end;
	}
	if (*p == '/')
		p++;
	if (*p != '\0')
		return "has a path, query, user or character the exporter does not take (http://host:port/)";
	return NULL;
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
		obs_conf_fmt_prefix(vb, sizeof(vb), c->sensors[b->sensor].prefix_addr[b->idx],
		                c->sensors[b->sensor].prefix_len[b->idx]);
		obs_conf_fmt_prefix(pb, sizeof(pb), c->sensors[a->sensor].prefix_addr[a->idx],
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

	if (c->export_ch_url[0] != '\0') {
		const char *why = conf_check_http_url(c->export_ch_url);

		if (why != NULL) {
			conf_err(x, x->key_line[conf_key_index("export.clickhouse.url")],
			         "export.clickhouse.url: value '%s' %s",
			         conf_show(c->export_ch_url, vb, sizeof(vb)), why);
			return -1;
		}
	}

	/* responder (issue 13): conf_resp.c */
	{
		char rb[160];
		const char *key = NULL, *why = obs_conf_resp_check(c, &key, rb, sizeof(rb));

		if (why != NULL) {
			conf_err(x, x->key_line[conf_key_index(key)], "%s: %s", key, why);
			return -1;
		}
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
	if (conf_walk_map(x, root, "", "", obs_conf_keys, obs_conf_n_keys, c, x->key_line) < 0 ||
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

