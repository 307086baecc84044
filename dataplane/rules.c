/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rules.c — rule loader and Hyperscan scan (rules.h has the accepted syntax, the chain
 * semantics and the category mapping).  Main lcore / control plane builds, workers scan.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules.h"

#define OBS_RULE_MAX_PATS   32u     /* patterns per rule: one bit each */
#define OBS_RULE_MAX_LINE   65536u  /* bytes of one (joined) rule */
#define OBS_RULE_MAX_CONT   64u     /* contents + pcres per rule */
#define OBS_PORT_WORDS      (65536u / 64u)

struct obs_port_range { uint16_t lo, hi; };

struct obs_rule {
	struct obs_rule_info info;
	uint32_t pos_mask;          /* bits of the positive patterns */
	uint32_t neg_mask;          /* bits of the negated patterns */
	uint8_t  single;            /* one positive pattern, no negated: decided in callback */
	uint8_t  dsize_op;          /* 0 none, 1 ==, 2 <, 3 >, 4 a<>b (exclusive) */
	uint32_t dsize_a, dsize_b;
	uint32_t n_ranges;          /* 0: any port */
	struct obs_port_range *ranges;
};

struct obs_pat {
	uint32_t rule;
	uint32_t bit;
};

struct obs_rules {
	hs_database_t *db;
	hs_scratch_t *proto_scratch;
	struct obs_rule *rules;
	uint32_t n_rules;
	struct obs_pat *pats;
	uint32_t n_pats;
	char **strings;              /* msg and file names, owned */
	uint32_t n_strings, cap_strings;
	struct obs_rules_stats st;
};

static const char *const obs_cat_names[] = OBS_CAT_NAMES;
static const char *const obs_rej_names[] = OBS_REJ_NAMES;

const char *obs_cat_name(unsigned cat)
{
	return cat < OBS_CAT_N ? obs_cat_names[cat] : "?";
}

const char *obs_rules_rej_name(unsigned rej)
{
	return rej < OBS_REJ_N ? obs_rej_names[rej] : "?";
}

/* Suricata's default port variables (suricata.yaml.in, vars.port-groups). */
static const struct { const char *name, *val; } obs_rules_port_vars[] = {
	{ "HTTP_PORTS", "80" },
	{ "SHELLCODE_PORTS", "!80" },
	{ "ORACLE_PORTS", "1521" },
	{ "SSH_PORTS", "22" },
	{ "DNP3_PORTS", "20000" },
	{ "MODBUS_PORTS", "502" },
	{ "FILE_DATA_PORTS", "[$HTTP_PORTS,110,143]" },
	{ "FTP_PORTS", "21" },
	{ "GENEVE_PORTS", "6081" },
	{ "VXLAN_PORTS", "4789" },
	{ "TEREDO_PORTS", "3544" },
	{ "SIP_PORTS", "[5060,5061]" },
	{ "TELNET_PORTS", "23" },
};

/* ------------------------------------------------------------------ building --- */

/* One content or pcre of the rule being parsed. */
struct obs_item {
	bool is_pcre;
	bool negated;
	bool nocase;
	bool has_offset, has_depth, has_distance, has_within;
	long offset, depth, distance, within;
	uint8_t *bytes;       /* content bytes / pcre expression (NUL-terminated) */
	size_t len;
	unsigned hs_flags;    /* pcre */
	bool anchored;        /* pcre A */
};

/* One Hyperscan expression being collected. */
struct obs_expr {
	char *re;
	unsigned flags;
	hs_expr_ext_t ext;
	bool has_ext;
	uint32_t rule;        /* index into the builder's rules */
	uint32_t bit;
};

struct obs_builder {
	struct obs_rules *r;
	uint32_t cap_rules;
	struct obs_expr *ex;
	uint32_t n_ex, cap_ex;
	bool *dead;           /* per rule: rejected at compile time */
	obs_rules_log_fn log;
	void *log_arg;
	const char *file;
	unsigned line;
	char reason[512];
	/* the rule being parsed */
	struct obs_item items[OBS_RULE_MAX_CONT];
	unsigned n_items;
	uint64_t ports[OBS_PORT_WORDS];
};

static void obs_reject(struct obs_builder *b, enum obs_rule_rej why, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Record a rejection: returns -1 for `return obs_reject(...)` use. */
static void obs_reject(struct obs_builder *b, enum obs_rule_rej why, const char *fmt, ...)
{
	va_list ap;
	int n;

	n = snprintf(b->reason, sizeof(b->reason), "%s:%u: %s: ", b->file, b->line,
	             obs_rules_rej_name(why));
	va_start(ap, fmt);
	if (n > 0 && (size_t)n < sizeof(b->reason))
		vsnprintf(b->reason + n, sizeof(b->reason) - (size_t)n, fmt, ap);
	va_end(ap);
	b->r->st.n_rejected++;
	b->r->st.rejected[why]++;
	if (b->log)
		b->log(b->log_arg, b->file, b->line, b->reason);
}

static char *obs_keep(struct obs_rules *r, const char *s, size_t n)
{
	char *c;

	if (r->n_strings == r->cap_strings) {
		uint32_t cap = r->cap_strings ? r->cap_strings * 2 : 64;
		char **p = realloc(r->strings, cap * sizeof(*p));

		if (!p)
			return NULL;
		r->strings = p;
		r->cap_strings = cap;
	}
	c = malloc(n + 1);
	if (!c)
		return NULL;
	memcpy(c, s, n);
	c[n] = 0;
	r->strings[r->n_strings++] = c;
	return c;
}

static void obs_items_clear(struct obs_builder *b)
{
	for (unsigned i = 0; i < b->n_items; i++)
		free(b->items[i].bytes);
	b->n_items = 0;
}

static const char *obs_skip_ws(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
		p++;
	return p;
}

/* Next whitespace-delimited header token into tok (NUL-terminated); brackets nest. */
static const char *obs_token(const char *p, char *tok, size_t cap)
{
	size_t n = 0;
	int depth = 0;

	p = obs_skip_ws(p);
	while (*p && (depth > 0 || (*p != ' ' && *p != '\t' && *p != '('))) {
		if (*p == '[')
			depth++;
		else if (*p == ']')
			depth--;
		if (n + 1 >= cap)
			return NULL;
		tok[n++] = *p++;
	}
	tok[n] = 0;
	return n ? p : NULL;
}

static bool obs_parse_ulong(const char *s, long lo, long hi, long *out)
{
	char *end;
	long v;

	s = obs_skip_ws(s);
	if (*s == 0)
		return false;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s)
		return false;
	end = (char *)obs_skip_ws(end);
	if (*end || v < lo || v > hi)
		return false;
	*out = v;
	return true;
}

/* ---- ports ---- */

static void obs_bits_set(uint64_t *w, unsigned lo, unsigned hi)
{
	for (unsigned i = lo; i <= hi; i++)
		w[i >> 6] |= 1ull << (i & 63);
}

/* Evaluate a port spec into bits; 0 or -1 with b->reason via obs_reject by the caller. */
static int obs_port_eval(const char *s, size_t n, uint64_t *out, int depth, char *why, size_t wl)
{
	char buf[512];

	while (n && isspace((unsigned char)*s)) {
		s++;
		n--;
	}
	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	if (n == 0 || n >= sizeof(buf) || depth > 8) {
		snprintf(why, wl, "empty, too long or too deeply nested port list");
		return -1;
	}
	memcpy(buf, s, n);
	buf[n] = 0;
	memset(out, 0, OBS_PORT_WORDS * 8);
	if (buf[0] == '!') {
		uint64_t inner[OBS_PORT_WORDS];

		if (obs_port_eval(buf + 1, n - 1, inner, depth + 1, why, wl) != 0)
			return -1;
		for (unsigned i = 0; i < OBS_PORT_WORDS; i++)
			out[i] = ~inner[i];
		return 0;
	}
	if (strcmp(buf, "any") == 0) {
		memset(out, 0xff, OBS_PORT_WORDS * 8);
		return 0;
	}
	if (buf[0] == '$') {
		for (size_t i = 0; i < sizeof(obs_rules_port_vars) / sizeof(obs_rules_port_vars[0]); i++)
			if (strcmp(buf + 1, obs_rules_port_vars[i].name) == 0)
				return obs_port_eval(obs_rules_port_vars[i].val,
				                     strlen(obs_rules_port_vars[i].val), out, depth + 1,
				                     why, wl);
		snprintf(why, wl, "unknown port variable %.100s", buf);
		return -1;
	}
	if (buf[0] == '[') {
		uint64_t pos[OBS_PORT_WORDS], neg[OBS_PORT_WORDS], item[OBS_PORT_WORDS];
		bool any_pos = false;
		size_t i = 1, start = 1;
		int d = 0;

		if (buf[n - 1] != ']') {
			snprintf(why, wl, "unterminated port list '%.100s'", buf);
			return -1;
		}
		memset(pos, 0, sizeof(pos));
		memset(neg, 0, sizeof(neg));
		for (i = 1; i < n; i++) {
			if (buf[i] == '[')
				d++;
			else if (buf[i] == ']' && d > 0)
				d--;
			else if ((buf[i] == ',' && d == 0) || i == n - 1) {
				const char *e = buf + start;
				size_t el = i - start;
				bool is_neg;

				while (el && isspace((unsigned char)*e)) {
					e++;
					el--;
				}
				is_neg = el && *e == '!';
				if (is_neg) {
					e++;
					el--;
				}
				if (obs_port_eval(e, el, item, depth + 1, why, wl) != 0)
					return -1;
				for (unsigned k = 0; k < OBS_PORT_WORDS; k++) {
					if (is_neg)
						neg[k] |= item[k];
					else
						pos[k] |= item[k];
				}
				any_pos |= !is_neg;
				start = i + 1;
			}
		}
		for (unsigned k = 0; k < OBS_PORT_WORDS; k++)
			out[k] = (any_pos ? pos[k] : ~0ull) & ~neg[k];
		return 0;
	}
	{
		char *colon = strchr(buf, ':');
		long lo, hi;

		if (colon) {
			*colon = 0;
			lo = 0;
			hi = 65535;
			if ((buf[0] && !obs_parse_ulong(buf, 0, 65535, &lo)) ||
			    (colon[1] && !obs_parse_ulong(colon + 1, 0, 65535, &hi)) || lo > hi) {
				snprintf(why, wl, "bad port range '%.60s:%.60s'", buf, colon + 1);
				return -1;
			}
		} else if (!obs_parse_ulong(buf, 0, 65535, &lo)) {
			snprintf(why, wl, "bad port '%.100s'", buf);
			return -1;
		} else {
			hi = lo;
		}
		obs_bits_set(out, (unsigned)lo, (unsigned)hi);
	}
	return 0;
}

/* Bits -> ranges; any (all set) -> n = 0.  -1 when the set is empty. */
static int obs_port_ranges(const uint64_t *bits, struct obs_port_range **out, uint32_t *n)
{
	uint32_t cnt = 0, i;
	bool all = true;
	struct obs_port_range *r;

	for (i = 0; i < OBS_PORT_WORDS; i++)
		all &= bits[i] == ~0ull;
	*out = NULL;
	*n = 0;
	if (all)
		return 0;
	for (i = 0; i < 65536; i++) {
		bool on = bits[i >> 6] >> (i & 63) & 1;
		bool prev = i > 0 && (bits[(i - 1) >> 6] >> ((i - 1) & 63) & 1);

		if (on && !prev)
			cnt++;
	}
	if (cnt == 0)
		return -1;
	r = calloc(cnt, sizeof(*r));
	if (!r)
		return -2;
	cnt = 0;
	for (i = 0; i < 65536; i++) {
		bool on = bits[i >> 6] >> (i & 63) & 1;

		if (!on)
			continue;
		if (cnt == 0 || r[cnt - 1].hi != i - 1)
			r[cnt++].lo = (uint16_t)i;
		r[cnt - 1].hi = (uint16_t)i;
	}
	*out = r;
	*n = cnt;
	return 0;
}

/* ---- option values ---- */

/* Strip surrounding quotes.  unescape: resolve \" \\ \; \: (content/msg); pcre keeps them. */
static int obs_unquote(const char *v, char *out, size_t cap, bool unescape)
{
	size_t n = strlen(v), o = 0;

	if (n < 2 || v[0] != '"' || v[n - 1] != '"')
		return -1;
	for (size_t i = 1; i + 1 < n; i++) {
		char c = v[i];

		if (unescape && c == '\\' && i + 2 < n) {
			c = v[++i];
		}
		if (o + 1 >= cap)
			return -1;
		out[o++] = c;
	}
	out[o] = 0;
	return (int)o;
}

/* Decode content text with |hex| runs into bytes. */
static int obs_content_decode(const char *s, uint8_t **out, size_t *len)
{
	size_t n = strlen(s), o = 0;
	uint8_t *b = malloc(n + 1);
	bool hex = false;
	int nib = -1;

	if (!b)
		return -2;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (c == '|') {
			if (hex && nib >= 0)
				goto bad;
			hex = !hex;
			continue;
		}
		if (!hex) {
			b[o++] = (uint8_t)c;
			continue;
		}
		if (c == ' ' || c == '\t')
			continue;
		if (!isxdigit((unsigned char)c))
			goto bad;
		{
			int v = isdigit((unsigned char)c) ? c - '0' : (tolower((unsigned char)c) - 'a' + 10);

			if (nib < 0) {
				nib = v;
			} else {
				b[o++] = (uint8_t)(nib << 4 | v);
				nib = -1;
			}
		}
	}
	if (hex || o == 0)
		goto bad;
	*out = b;
	*len = o;
	return 0;
bad:
	free(b);
	return -1;
}

/* Append a byte sequence as a regex (every byte \xHH: nothing is a metacharacter). */
static int obs_re_lit(char **re, size_t *n, size_t *cap, const uint8_t *s, size_t len, bool nocase)
{
	size_t need = *n + len * 12 + 16;

	if (need > *cap) {
		size_t c = need * 2;
		char *p = realloc(*re, c);

		if (!p)
			return -1;
		*re = p;
		*cap = c;
	}
	/* nocase as explicit classes: Hyperscan's (?i) does not fold \x escapes */
	for (size_t i = 0; i < len; i++) {
		if (nocase && isalpha(s[i]))
			*n += (size_t)sprintf(*re + *n, "[\\x%02x\\x%02x]", toupper(s[i]),
			                      tolower(s[i]));
		else
			*n += (size_t)sprintf(*re + *n, "\\x%02x", s[i]);
	}
	return 0;
}

/* "any bytes, min..max times" (max < 0: unbounded), optionally anchored at the start.
 * Hyperscan refuses {0,0}, so empty and exact repeats are written out. */
static void obs_re_gap(char *out, size_t cap, bool anchor, long min, long max)
{
	const char *a = anchor ? "^" : "";

	if (max < 0)
		snprintf(out, cap, min ? "%s(?s:.{%ld,})" : "%s(?s:.*)", a, min);
	else if (max == 0)
		snprintf(out, cap, "%s", a);
	else if (min == max)
		snprintf(out, cap, "%s(?s:.{%ld})", a, min);
	else
		snprintf(out, cap, "%s(?s:.{%ld,%ld})", a, min, max);
}

static int obs_re_str(char **re, size_t *n, size_t *cap, const char *s)
{
	size_t len = strlen(s);

	if (*n + len + 1 > *cap) {
		size_t c = (*n + len + 1) * 2;
		char *p = realloc(*re, c);

		if (!p)
			return -1;
		*re = p;
		*cap = c;
	}
	memcpy(*re + *n, s, len + 1);
	*n += len;
	return 0;
}

static int obs_add_expr(struct obs_builder *b, char *re, unsigned flags, const hs_expr_ext_t *ext,
                        uint32_t rule, uint32_t bit)
{
	struct obs_expr *e;

	if (b->n_ex == b->cap_ex) {
		uint32_t c = b->cap_ex ? b->cap_ex * 2 : 256;
		struct obs_expr *p = realloc(b->ex, c * sizeof(*p));

		if (!p)
			return -1;
		b->ex = p;
		b->cap_ex = c;
	}
	e = &b->ex[b->n_ex++];
	memset(e, 0, sizeof(*e));
	e->re = re;
	e->flags = flags | HS_FLAG_SINGLEMATCH;
	if (ext) {
		e->ext = *ext;
		e->has_ext = true;
	}
	e->rule = rule;
	e->bit = bit;
	return 0;
}

static bool obs_contains_ci(const char *h, const char *needle)
{
	size_t n = strlen(needle);

	for (; *h; h++)
		if (strncasecmp(h, needle, n) == 0)
			return true;
	return false;
}

static uint8_t obs_category(const char *msg, const char *classtype)
{
	static const char *const scan_ct[] = {
		"attempted-recon", "network-scan", "successful-recon-limited",
		"successful-recon-largescale", "icmp-event", "not-suspicious", "unknown",
		"protocol-command-decode", "misc-activity", "tcp-connection",
		"unusual-client-port-connection", "non-standard-protocol",
	};

	if (msg && (obs_contains_ci(msg, "SQL Injection") || obs_contains_ci(msg, "SQLi") ||
	            obs_contains_ci(msg, "UNION SELECT")))
		return OBS_CAT_SQLI;
	if (msg && (obs_contains_ci(msg, "XSS") || obs_contains_ci(msg, "Cross Site Scripting") ||
	            obs_contains_ci(msg, "Cross-Site")))
		return OBS_CAT_XSS;
	if (msg && (obs_contains_ci(msg, "Remote File Inclusion") || strstr(msg, " RFI")))
		return OBS_CAT_RFI;
	if (classtype && (strcmp(classtype, "web-application-attack") == 0 ||
	                  strcmp(classtype, "web-application-activity") == 0))
		return OBS_CAT_WEB;
	if (classtype) {
		for (size_t i = 0; i < sizeof(scan_ct) / sizeof(scan_ct[0]); i++)
			if (strcmp(classtype, scan_ct[i]) == 0)
				return OBS_CAT_SCAN;
		return OBS_CAT_ATTACK;
	}
	return msg && strstr(msg, "SCAN") ? OBS_CAT_SCAN : OBS_CAT_ATTACK;
}

/* Options that exist but cannot be honoured on one packet's payload, with the reason. */
static const struct { const char *name; enum obs_rule_rej rej; const char *why; } obs_unsup[] = {
	{ "flowbits", OBS_REJ_OPTION, "needs per-flow state" },
	{ "flowint", OBS_REJ_OPTION, "needs per-flow state" },
	{ "xbits", OBS_REJ_OPTION, "needs per-host state" },
	{ "threshold", OBS_REJ_OPTION, "needs per-source counting state" },
	{ "detection_filter", OBS_REJ_OPTION, "needs per-source counting state" },
	{ "stream_size", OBS_REJ_OPTION, "needs stream reassembly" },
	{ "flags", OBS_REJ_OPTION, "TCP header option (packet classes cover headers)" },
	{ "itype", OBS_REJ_OPTION, "ICMP header option (packet classes cover headers)" },
	{ "icode", OBS_REJ_OPTION, "ICMP header option (packet classes cover headers)" },
	{ "icmp_id", OBS_REJ_OPTION, "ICMP header option" },
	{ "icmp_seq", OBS_REJ_OPTION, "ICMP header option" },
	{ "ttl", OBS_REJ_OPTION, "IP header option" },
	{ "id", OBS_REJ_OPTION, "IP header option" },
	{ "tos", OBS_REJ_OPTION, "IP header option" },
	{ "ipopts", OBS_REJ_OPTION, "IP header option" },
	{ "fragbits", OBS_REJ_OPTION, "IP header option" },
	{ "fragoffset", OBS_REJ_OPTION, "IP header option" },
	{ "sameip", OBS_REJ_OPTION, "IP header option" },
	{ "ip_proto", OBS_REJ_OPTION, "IP header option" },
	{ "seq", OBS_REJ_OPTION, "TCP header option" },
	{ "ack", OBS_REJ_OPTION, "TCP header option" },
	{ "window", OBS_REJ_OPTION, "TCP header option" },
	{ "tcp.mss", OBS_REJ_OPTION, "TCP header option" },
	{ "byte_test", OBS_REJ_OPTION, "byte_test is not supported" },
	{ "byte_jump", OBS_REJ_OPTION, "byte_jump is not supported" },
	{ "byte_extract", OBS_REJ_OPTION, "byte_extract is not supported" },
	{ "byte_math", OBS_REJ_OPTION, "byte_math is not supported" },
	{ "isdataat", OBS_REJ_OPTION, "isdataat is not supported" },
	{ "bsize", OBS_REJ_OPTION, "needs an application-layer buffer" },
	{ "urilen", OBS_REJ_OPTION, "needs an HTTP parser" },
	{ "uricontent", OBS_REJ_OPTION, "needs an HTTP parser" },
	{ "file_data", OBS_REJ_OPTION, "needs an application-layer parser" },
	{ "base64_decode", OBS_REJ_OPTION, "needs a decoder" },
	{ "base64_data", OBS_REJ_OPTION, "needs a decoder" },
	{ "app-layer-event", OBS_REJ_OPTION, "needs an application-layer parser" },
	{ "tag", OBS_REJ_OPTION, "tagging needs per-flow state" },
	{ "noalert", OBS_REJ_OPTION, "noalert rules only set flow state" },
	{ "replace", OBS_REJ_OPTION, "inline only" },
	{ "startswith", OBS_REJ_MODIFIER, "startswith is not supported (use depth)" },
	{ "endswith", OBS_REJ_MODIFIER, "endswith is not supported" },
};

/* Apply content modifiers to the last item. */
static int obs_modifier(struct obs_builder *b, const char *name, const char *val)
{
	struct obs_item *it;
	long v;

	if (b->n_items == 0 || b->items[b->n_items - 1].is_pcre) {
		obs_reject(b, OBS_REJ_MODIFIER, "'%s' without a preceding content", name);
		return -1;
	}
	it = &b->items[b->n_items - 1];
	if (strcmp(name, "nocase") == 0) {
		it->nocase = true;
		return 0;
	}
	if (!val || !obs_parse_ulong(val, -65535, 65535, &v)) {
		obs_reject(b, OBS_REJ_MODIFIER, "'%s' needs a number (variables unsupported): '%s'",
		           name, val ? val : "");
		return -1;
	}
	if (strcmp(name, "offset") == 0) {
		it->has_offset = true;
		it->offset = v;
	} else if (strcmp(name, "depth") == 0) {
		it->has_depth = true;
		it->depth = v;
	} else if (strcmp(name, "distance") == 0) {
		it->has_distance = true;
		it->distance = v;
	} else {
		it->has_within = true;
		it->within = v;
	}
	if (v < 0 && strcmp(name, "distance") != 0) {
		obs_reject(b, OBS_REJ_MODIFIER, "negative %s", name);
		return -1;
	}
	return 0;
}

/* pcre:"/re/flags" */
static int obs_pcre(struct obs_builder *b, const char *val, bool negated)
{
	char buf[8192];
	char *last;
	struct obs_item *it;
	int n = obs_unquote(val, buf, sizeof(buf), false);

	if (n < 2 || buf[0] != '/' || !(last = strrchr(buf, '/')) || last == buf) {
		obs_reject(b, OBS_REJ_PCRE, "pcre value must be \"/regex/flags\"");
		return -1;
	}
	*last = 0;
	it = &b->items[b->n_items];
	memset(it, 0, sizeof(*it));
	it->is_pcre = true;
	it->negated = negated;
	for (const char *f = last + 1; *f; f++) {
		switch (*f) {
		case 'i': it->hs_flags |= HS_FLAG_CASELESS; break;
		case 's': it->hs_flags |= HS_FLAG_DOTALL; break;
		case 'm': it->hs_flags |= HS_FLAG_MULTILINE; break;
		case 'A': it->anchored = true; break;
		case 'B': case 'O': case 'G': break;   /* raw bytes / match limit / ungreedy */
		case 'R':
			obs_reject(b, OBS_REJ_PCRE, "relative pcre (R) is not supported");
			return -1;
		default:
			obs_reject(b, OBS_REJ_PCRE, "pcre flag '%c' is not supported "
			           "(HTTP buffer, extended or end-anchor flags)", *f);
			return -1;
		}
	}
	it->bytes = (uint8_t *)strdup(buf + 1);
	if (!it->bytes)
		return -2;
	it->len = strlen(buf + 1);
	if (it->len == 0) {
		free(it->bytes);
		obs_reject(b, OBS_REJ_PCRE, "empty pcre");
		return -1;
	}
	b->n_items++;
	return 0;
}

static int obs_content(struct obs_builder *b, const char *val)
{
	char buf[8192];
	bool neg = false;
	struct obs_item *it;

	val = obs_skip_ws(val);
	if (*val == '!') {
		neg = true;
		val = obs_skip_ws(val + 1);
	}
	if (obs_unquote(val, buf, sizeof(buf), true) < 0) {
		obs_reject(b, OBS_REJ_SYNTAX, "content must be a quoted string");
		return -1;
	}
	it = &b->items[b->n_items];
	memset(it, 0, sizeof(*it));
	it->negated = neg;
	if (obs_content_decode(buf, &it->bytes, &it->len) != 0) {
		obs_reject(b, OBS_REJ_SYNTAX, "bad content \"%s\" (hex or empty)", buf);
		return -1;
	}
	b->n_items++;
	return 0;
}

/* Build the rule's expressions from b->items. */
static int obs_emit(struct obs_builder *b, uint32_t ridx, struct obs_rule *ru)
{
	uint32_t bit = 0;
	unsigned i = 0;

	while (i < b->n_items) {
		struct obs_item *h = &b->items[i];
		char *re = NULL;
		size_t n = 0, cap = 0;
		unsigned j, flags = 0;
		hs_expr_ext_t ext;
		bool use_ext = false;

		memset(&ext, 0, sizeof(ext));
		if (bit >= OBS_RULE_MAX_PATS) {
			obs_reject(b, OBS_REJ_LIMIT, "more than %u patterns", OBS_RULE_MAX_PATS);
			return -1;
		}
		if (h->is_pcre) {
			if (h->anchored && obs_re_str(&re, &n, &cap, "^(?:") != 0)
				return -2;
			if (obs_re_str(&re, &n, &cap, (const char *)h->bytes) != 0)
				return -2;
			if (h->anchored && obs_re_str(&re, &n, &cap, ")") != 0)
				return -2;
			flags = h->hs_flags;
			j = i + 1;
			if (j < b->n_items && !b->items[j].is_pcre &&
			    (b->items[j].has_distance || b->items[j].has_within)) {
				free(re);
				obs_reject(b, OBS_REJ_MODIFIER, "content relative to a pcre is not supported");
				return -1;
			}
		} else {
			if (h->has_distance || h->has_within) {
				obs_reject(b, OBS_REJ_MODIFIER, "distance/within on a first content "
				           "or after a negated content");
				return -1;
			}
			if (h->has_depth && h->depth < (long)h->len) {
				obs_reject(b, OBS_REJ_MODIFIER, "depth %ld shorter than its content (%zu)",
				           h->depth, h->len);
				return -1;
			}
			/* chain: following contents with distance/within */
			for (j = i + 1; j < b->n_items; j++) {
				struct obs_item *c = &b->items[j];

				if (c->is_pcre || !(c->has_distance || c->has_within))
					break;
				if (c->negated || b->items[j - 1].negated) {
					obs_reject(b, OBS_REJ_MODIFIER, "negated content in a relative chain");
					return -1;
				}
				if (c->has_offset || c->has_depth) {
					obs_reject(b, OBS_REJ_MODIFIER, "offset/depth mixed with "
					           "distance/within on one content");
					return -1;
				}
				if (c->distance < 0) {
					obs_reject(b, OBS_REJ_MODIFIER, "negative distance %ld", c->distance);
					return -1;
				}
				if (c->has_within && c->within < (long)c->len) {
					obs_reject(b, OBS_REJ_MODIFIER, "within %ld shorter than its content "
					           "(%zu)", c->within, c->len);
					return -1;
				}
			}
			if (j == i + 1) {
				/* single literal: Hyperscan's offsets bound the END of the match */
				if (obs_re_lit(&re, &n, &cap, h->bytes, h->len, false) != 0)
					return -2;
				if (h->nocase)
					flags |= HS_FLAG_CASELESS;
				if (h->has_offset && h->offset > 0) {
					ext.flags |= HS_EXT_FLAG_MIN_OFFSET;
					ext.min_offset = (unsigned long long)h->offset + h->len;
					use_ext = true;
				}
				if (h->has_depth) {
					ext.flags |= HS_EXT_FLAG_MAX_OFFSET;
					ext.max_offset = (unsigned long long)(h->has_offset ? h->offset : 0) +
					                 (unsigned long long)h->depth;
					use_ext = true;
				}
			} else {
				char tmp[64];
				long o = h->has_offset ? h->offset : 0;

				if (h->has_depth)
					obs_re_gap(tmp, sizeof(tmp), true, o, o + h->depth - (long)h->len);
				else if (o > 0)
					obs_re_gap(tmp, sizeof(tmp), true, o, -1);
				else
					tmp[0] = 0;
				if (obs_re_str(&re, &n, &cap, tmp) != 0 ||
				    obs_re_lit(&re, &n, &cap, h->bytes, h->len, h->nocase) != 0)
					return -2;
				for (unsigned k = i + 1; k < j; k++) {
					struct obs_item *c = &b->items[k];
					long dmin = c->has_distance ? c->distance : 0;

					obs_re_gap(tmp, sizeof(tmp), false, dmin,
					           c->has_within ? dmin + c->within - (long)c->len : -1);
					if (obs_re_str(&re, &n, &cap, tmp) != 0 ||
					    obs_re_lit(&re, &n, &cap, c->bytes, c->len, c->nocase) != 0)
						return -2;
				}
			}
		}
		if (h->negated)
			ru->neg_mask |= 1u << bit;
		else
			ru->pos_mask |= 1u << bit;
		if (obs_add_expr(b, re, flags, use_ext ? &ext : NULL, ridx, bit) != 0) {
			free(re);
			return -2;
		}
		bit++;
		i = j;
	}
	return 0;
}

static bool obs_addr_ok(const char *a, bool src)
{
	if (strcmp(a, "any") == 0)
		return true;
	if (src)
		return strcmp(a, "$EXTERNAL_NET") == 0 || strcmp(a, "!$HOME_NET") == 0;
	if (a[0] != '$' || strcmp(a, "$EXTERNAL_NET") == 0)
		return false;
	return strcmp(a, "$HOME_NET") == 0 || strstr(a, "_SERVERS") || strstr(a, "_NET");
}

/*
 * Parse one joined rule line.  Returns 0 (accepted), 1 (rejected: logged, counted),
 * -2 (out of memory).
 */
static int obs_rule_parse(struct obs_builder *b, const char *line)
{
	struct obs_rules *r = b->r;
	char action[32], proto[32], src[512], sport[512], dir[8], dst[512], dport[512];
	char name[64], *val = NULL;
	const char *p = line, *msg = NULL;
	char classtype[64] = "";
	struct obs_rule ru;
	long sid = -1, rev = 0;
	int ret = 1;

	memset(&ru, 0, sizeof(ru));
	b->n_items = 0;
	if (!(p = obs_token(p, action, sizeof(action))) || !(p = obs_token(p, proto, sizeof(proto))) ||
	    !(p = obs_token(p, src, sizeof(src))) || !(p = obs_token(p, sport, sizeof(sport))) ||
	    !(p = obs_token(p, dir, sizeof(dir))) || !(p = obs_token(p, dst, sizeof(dst))) ||
	    !(p = obs_token(p, dport, sizeof(dport)))) {
		if (strlen(line) > 600 && strchr(line, '['))
			obs_reject(b, OBS_REJ_ADDR, "header field longer than 511 bytes (address lists "
			           "are not supported)");
		else
			obs_reject(b, OBS_REJ_SYNTAX, "header must be: action proto src sport -> dst dport");
		return 1;
	}
	p = obs_skip_ws(p);
	if (*p != '(') {
		obs_reject(b, OBS_REJ_SYNTAX, "missing '(' before the options");
		return 1;
	}
	p++;
	if (strcmp(action, "alert") != 0) {
		obs_reject(b, OBS_REJ_ACTION, "action '%s' (only alert)", action);
		return 1;
	}
	if (strcmp(proto, "tcp") == 0 || strcmp(proto, "tcp-pkt") == 0)
		ru.info.proto = 6;
	else if (strcmp(proto, "udp") == 0)
		ru.info.proto = 17;
	else if (strcmp(proto, "icmp") == 0)
		ru.info.proto = 1;
	else if (strcmp(proto, "ip") == 0)
		ru.info.proto = 0;
	else {
		obs_reject(b, OBS_REJ_PROTO, "protocol '%s' (application-layer protocols need a "
		           "parser; only tcp, udp, icmp, ip)", proto);
		return 1;
	}
	if (strcmp(dir, "->") != 0) {
		obs_reject(b, OBS_REJ_ADDR, "direction '%s' (only ->)", dir);
		return 1;
	}
	if (!obs_addr_ok(src, true)) {
		obs_reject(b, OBS_REJ_ADDR, "source '%s' (a telescope only receives from outside; "
		           "address lists unsupported)", src);
		return 1;
	}
	if (!obs_addr_ok(dst, false)) {
		obs_reject(b, OBS_REJ_ADDR, "destination '%s' (only any, $HOME_NET, $*_SERVERS)", dst);
		return 1;
	}
	if (strcmp(sport, "any") != 0) {
		obs_reject(b, OBS_REJ_PORT, "source port '%s' (only any)", sport);
		return 1;
	}
	{
		char why[160];

		if (obs_port_eval(dport, strlen(dport), b->ports, 0, why, sizeof(why)) != 0) {
			obs_reject(b, OBS_REJ_PORT, "%s", why);
			return 1;
		}
		if (obs_port_ranges(b->ports, &ru.ranges, &ru.n_ranges) == -1) {
			obs_reject(b, OBS_REJ_PORT, "port set '%s' is empty", dport);
			return 1;
		}
		if (ru.n_ranges && ru.info.proto != 6 && ru.info.proto != 17) {
			obs_reject(b, OBS_REJ_PORT, "ports on a %s rule", proto);
			goto out;
		}
	}

	/* options */
	for (;;) {
		size_t nl = 0;
		bool q = false;
		const char *vs;

		p = obs_skip_ws(p);
		if (*p == ')') {
			p = obs_skip_ws(p + 1);
			if (*p) {
				obs_reject(b, OBS_REJ_SYNTAX, "text after the closing ')'");
				goto out;
			}
			break;
		}
		if (*p == 0) {
			obs_reject(b, OBS_REJ_SYNTAX, "missing closing ')'");
			goto out;
		}
		while (*p && *p != ':' && *p != ';' && *p != ')' && nl + 1 < sizeof(name))
			name[nl++] = *p++;
		while (nl && isspace((unsigned char)name[nl - 1]))
			nl--;
		name[nl] = 0;
		free(val);
		val = NULL;
		if (*p == ':') {
			size_t vl = 0;

			vs = ++p;
			while (*p && (q || *p != ';')) {
				if (*p == '\\' && p[1]) {
					p += 2;
					continue;
				}
				if (*p == '"')
					q = !q;
				p++;
			}
			if (*p != ';') {
				obs_reject(b, OBS_REJ_SYNTAX, "option '%s' not terminated by ';'", name);
				goto out;
			}
			vs = obs_skip_ws(vs);
			vl = (size_t)(p - vs);
			while (vl && isspace((unsigned char)vs[vl - 1]))
				vl--;
			val = strndup(vs, vl);
			if (!val) {
				ret = -2;
				goto out;
			}
		} else if (*p != ';') {
			obs_reject(b, OBS_REJ_SYNTAX, "option '%s' not terminated by ';'", name);
			goto out;
		}
		p++;
		if (nl == 0) {
			obs_reject(b, OBS_REJ_SYNTAX, "empty option");
			goto out;
		}

		if (strcmp(name, "msg") == 0) {
			char m[1024];

			if (!val || obs_unquote(val, m, sizeof(m), true) < 0) {
				obs_reject(b, OBS_REJ_SYNTAX, "msg must be a quoted string");
				goto out;
			}
			msg = obs_keep(r, m, strlen(m));
			if (!msg) {
				ret = -2;
				goto out;
			}
		} else if (strcmp(name, "sid") == 0) {
			if (!val || !obs_parse_ulong(val, 1, 0x7fffffffL, &sid)) {
				obs_reject(b, OBS_REJ_SID, "bad sid '%s'", val ? val : "");
				goto out;
			}
		} else if (strcmp(name, "rev") == 0) {
			if (!val || !obs_parse_ulong(val, 0, 0x7fffffffL, &rev)) {
				obs_reject(b, OBS_REJ_SYNTAX, "bad rev '%s'", val ? val : "");
				goto out;
			}
		} else if (strcmp(name, "gid") == 0) {
			long g;

			if (!val || !obs_parse_ulong(val, 1, 1, &g)) {
				obs_reject(b, OBS_REJ_OPTION, "gid other than 1");
				goto out;
			}
		} else if (strcmp(name, "classtype") == 0) {
			if (!val || strlen(val) >= sizeof(classtype)) {
				obs_reject(b, OBS_REJ_SYNTAX, "bad classtype");
				goto out;
			}
			strcpy(classtype, val);
		} else if (strcmp(name, "reference") == 0 || strcmp(name, "metadata") == 0 ||
		           strcmp(name, "priority") == 0 || strcmp(name, "target") == 0 ||
		           strcmp(name, "fast_pattern") == 0 || strcmp(name, "rawbytes") == 0) {
			/* descriptive, or a hint without effect on what matches */
		} else if (strcmp(name, "content") == 0) {
			if (b->n_items >= OBS_RULE_MAX_CONT) {
				obs_reject(b, OBS_REJ_LIMIT, "more than %u contents/pcres", OBS_RULE_MAX_CONT);
				goto out;
			}
			if (!val) {
				obs_reject(b, OBS_REJ_SYNTAX, "content without a value");
				goto out;
			}
			if ((ret = obs_content(b, val)) != 0)
				goto out_ret;
		} else if (strcmp(name, "pcre") == 0) {
			const char *v = val ? obs_skip_ws(val) : NULL;
			bool neg = v && *v == '!';

			if (b->n_items >= OBS_RULE_MAX_CONT) {
				obs_reject(b, OBS_REJ_LIMIT, "more than %u contents/pcres", OBS_RULE_MAX_CONT);
				goto out;
			}
			if (!v) {
				obs_reject(b, OBS_REJ_SYNTAX, "pcre without a value");
				goto out;
			}
			if ((ret = obs_pcre(b, neg ? obs_skip_ws(v + 1) : v, neg)) != 0)
				goto out_ret;
		} else if (strcmp(name, "nocase") == 0 || strcmp(name, "offset") == 0 ||
		           strcmp(name, "depth") == 0 || strcmp(name, "distance") == 0 ||
		           strcmp(name, "within") == 0) {
			if ((ret = obs_modifier(b, name, val)) != 0)
				goto out_ret;
		} else if (strcmp(name, "dsize") == 0) {
			const char *v = val ? val : "";
			const char *lg = strstr(v, "<>");
			long a, c;
			char tmp[32];

			if (lg && (size_t)(lg - v) < sizeof(tmp)) {
				memcpy(tmp, v, (size_t)(lg - v));
				tmp[lg - v] = 0;
				if (!obs_parse_ulong(tmp, 0, 65535, &a) ||
				    !obs_parse_ulong(lg + 2, 0, 65535, &c) || a >= c) {
					obs_reject(b, OBS_REJ_SYNTAX, "bad dsize '%s'", v);
					goto out;
				}
				ru.dsize_op = 4;
				ru.dsize_a = (uint32_t)a;
				ru.dsize_b = (uint32_t)c;
			} else if ((*v == '<' || *v == '>') && obs_parse_ulong(v + 1, 0, 65535, &a)) {
				ru.dsize_op = *v == '<' ? 2 : 3;
				ru.dsize_a = (uint32_t)a;
			} else if (obs_parse_ulong(v, 0, 65535, &a)) {
				ru.dsize_op = 1;
				ru.dsize_a = (uint32_t)a;
			} else {
				obs_reject(b, OBS_REJ_SYNTAX, "bad dsize '%s'", v);
				goto out;
			}
		} else if (strcmp(name, "flow") == 0) {
			char *save = NULL, *tok, *dup = strdup(val ? val : "");

			if (!dup) {
				ret = -2;
				goto out;
			}
			for (tok = strtok_r(dup, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
				if (strcmp(tok, "to_server") && strcmp(tok, "from_client") &&
				    strcmp(tok, "stateless") && strcmp(tok, "no_stream")) {
					obs_reject(b, OBS_REJ_OPTION, "flow:%s needs connection tracking "
					           "(a telescope sees no handshake)", tok);
					free(dup);
					goto out;
				}
			}
			free(dup);
		} else {
			size_t k;

			for (k = 0; k < sizeof(obs_unsup) / sizeof(obs_unsup[0]); k++)
				if (strcmp(name, obs_unsup[k].name) == 0)
					break;
			if (k < sizeof(obs_unsup) / sizeof(obs_unsup[0]))
				obs_reject(b, obs_unsup[k].rej, "'%s': %s", name, obs_unsup[k].why);
			else if (strncmp(name, "http", 4) == 0 || strchr(name, '.'))
				obs_reject(b, OBS_REJ_OPTION, "'%s' needs an application-layer parser "
				           "(sticky buffer)", name);
			else
				obs_reject(b, OBS_REJ_OPTION, "unsupported option '%s'", name);
			goto out;
		}
	}
	if (sid < 0) {
		obs_reject(b, OBS_REJ_SID, "no sid");
		goto out;
	}
	if (obs_rules_find_sid(r, (uint32_t)sid) >= 0) {
		obs_reject(b, OBS_REJ_SID, "duplicate sid %ld (first at %s:%u)", sid,
		           r->rules[obs_rules_find_sid(r, (uint32_t)sid)].info.file,
		           r->rules[obs_rules_find_sid(r, (uint32_t)sid)].info.line);
		goto out;
	}
	{
		bool any_pos = false;

		for (unsigned i = 0; i < b->n_items; i++)
			any_pos |= !b->items[i].negated;
		if (!any_pos) {
			obs_reject(b, OBS_REJ_NO_PATTERN, "no positive content or pcre: nothing to scan");
			goto out;
		}
	}
	ru.info.sid = (uint32_t)sid;
	ru.info.rev = (uint32_t)rev;
	ru.info.msg = msg ? msg : "";
	ru.info.file = b->file;
	ru.info.line = (uint16_t)(b->line > 65535 ? 65535 : b->line);
	ru.info.category = obs_category(msg, classtype[0] ? classtype : NULL);
	if (r->n_rules == b->cap_rules) {
		uint32_t c = b->cap_rules ? b->cap_rules * 2 : 256;
		struct obs_rule *nr = realloc(r->rules, c * sizeof(*nr));

		if (!nr) {
			ret = -2;
			goto out;
		}
		r->rules = nr;
		b->cap_rules = c;
	}
	{
		uint32_t n_ex0 = b->n_ex;

		ret = obs_emit(b, r->n_rules, &ru);
		if (ret != 0) {
			for (uint32_t e = n_ex0; e < b->n_ex; e++)
				free(b->ex[e].re);
			b->n_ex = n_ex0;
			ret = ret == -1 ? 1 : ret;
			goto out_ret;
		}
	}
	ru.single = __builtin_popcount(ru.pos_mask) == 1 && ru.neg_mask == 0;
	r->rules[r->n_rules++] = ru;
	ru.ranges = NULL;
	r->st.n_accepted++;
	ret = 0;
	goto out_ret;
out:
	ret = ret == -2 ? -2 : 1;
out_ret:
	if (ret == -1)
		ret = 1;
	free(val);
	free(ru.ranges);
	obs_items_clear(b);
	return ret;
}

/* Is this a comment holding a rule ("#alert ...", "# alert ...")? */
static bool obs_commented_rule(const char *p)
{
	static const char *const acts[] = { "alert ", "drop ", "reject ", "pass ", "alert\t" };

	p++;
	while (*p == ' ' || *p == '\t' || *p == '#')
		p++;
	for (size_t i = 0; i < sizeof(acts) / sizeof(acts[0]); i++)
		if (strncmp(p, acts[i], strlen(acts[i])) == 0)
			return true;
	return false;
}

static int obs_parse_text(struct obs_builder *b, const char *text)
{
	const char *p = text;
	unsigned lineno = 0;
	char *acc = NULL;
	size_t acc_n = 0;
	unsigned acc_line = 0;
	int ret = 0;

	acc = malloc(OBS_RULE_MAX_LINE);
	if (!acc)
		return -ENOMEM;
	while (*p) {
		const char *e = strchr(p, '\n');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		bool cont;

		lineno++;
		b->r->st.n_lines++;
		while (n && (p[n - 1] == '\r' || p[n - 1] == ' ' || p[n - 1] == '\t'))
			n--;
		cont = n && p[n - 1] == '\\';
		if (cont)
			n--;
		if (acc_n == 0)
			acc_line = lineno;
		if (acc_n + n + 1 >= OBS_RULE_MAX_LINE) {
			b->line = acc_line;
			obs_reject(b, OBS_REJ_LIMIT, "rule longer than %u bytes", OBS_RULE_MAX_LINE);
			acc_n = 0;
			/* skip the rest of a continued rule */
			while (cont && e) {
				p = e + 1;
				e = strchr(p, '\n');
				n = e ? (size_t)(e - p) : strlen(p);
				lineno++;
				b->r->st.n_lines++;
				while (n && (p[n - 1] == '\r' || p[n - 1] == ' '))
					n--;
				cont = n && p[n - 1] == '\\';
			}
		} else {
			memcpy(acc + acc_n, p, n);
			acc_n += n;
			acc[acc_n] = 0;
		}
		if (!cont && acc_n > 0) {
			const char *s = obs_skip_ws(acc);

			b->line = acc_line;
			if (*s == '#') {
				if (obs_commented_rule(s))
					b->r->st.n_commented++;
			} else if (*s) {
				int rc = obs_rule_parse(b, s);

				if (rc == -2) {
					ret = -ENOMEM;
					break;
				}
			}
			acc_n = 0;
		}
		if (!e)
			break;
		p = e + 1;
	}
	if (ret == 0 && acc_n > 0) {
		/* a file ending in a continuation: parse what there is */
		const char *s = obs_skip_ws(acc);

		b->line = acc_line;
		if (*s && *s != '#' && obs_rule_parse(b, s) == -2)
			ret = -ENOMEM;
	}
	free(acc);
	return ret;
}

static char *obs_read_file(const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t n = 0, cap = 0;

	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	for (;;) {
		size_t got;

		if (cap - n < 65536) {
			char *p;

			cap = cap ? cap * 2 : 262144;
			if (cap > (256u << 20) || !(p = realloc(buf, cap + 1))) {
				snprintf(err, errlen, "%s: too large or out of memory", path);
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = p;
		}
		got = fread(buf + n, 1, cap - n, f);
		n += got;
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		snprintf(err, errlen, "%s: read error", path);
		free(buf);
		fclose(f);
		return NULL;
	}
	fclose(f);
	if (memchr(buf, 0, n)) {
		snprintf(err, errlen, "%s: contains a NUL byte (not a rules file)", path);
		free(buf);
		return NULL;
	}
	buf[n] = 0;
	return buf;
}

/* Reject rule idx after Hyperscan refused one of its expressions. */
static void obs_kill_rule(struct obs_builder *b, uint32_t ridx, const char *hs_msg)
{
	struct obs_rule *ru = &b->r->rules[ridx];

	if (b->dead[ridx])
		return;
	b->dead[ridx] = true;
	b->file = ru->info.file;
	b->line = ru->info.line;
	b->r->st.n_accepted--;
	obs_reject(b, OBS_REJ_PCRE, "sid %u: hyperscan: %s", ru->info.sid, hs_msg);
}

static int obs_compile(struct obs_builder *b, char *err, size_t errlen)
{
	struct obs_rules *r = b->r;
	uint32_t i, n, *map_rule = NULL;
	const char **exprs = NULL;
	unsigned *flags = NULL, *ids = NULL;
	const hs_expr_ext_t **exts = NULL;
	hs_compile_error_t *cerr = NULL;
	int ret = -ENOMEM;

	b->dead = calloc(r->n_rules ? r->n_rules : 1, sizeof(bool));
	exprs = calloc(b->n_ex + 1, sizeof(*exprs));
	flags = calloc(b->n_ex + 1, sizeof(*flags));
	ids = calloc(b->n_ex + 1, sizeof(*ids));
	exts = calloc(b->n_ex + 1, sizeof(*exts));
	if (!b->dead || !exprs || !flags || !ids || !exts)
		goto out;
	/* per expression check first: cheap, and names the failing rule without a full
	 * compile per failure */
	for (i = 0; i < b->n_ex; i++) {
		hs_expr_info_t *info = NULL;
		struct obs_expr *e = &b->ex[i];

		if (b->dead[e->rule])
			continue;
		if (hs_expression_ext_info(e->re, e->flags, e->has_ext ? &e->ext : NULL, &info,
		                           &cerr) != HS_SUCCESS) {
			obs_kill_rule(b, e->rule, cerr ? cerr->message : "rejected");
			hs_free_compile_error(cerr);
			cerr = NULL;
			continue;
		}
		free(info);
	}
	for (;;) {
		n = 0;
		for (i = 0; i < b->n_ex; i++) {
			if (b->dead[b->ex[i].rule])
				continue;
			exprs[n] = b->ex[i].re;
			flags[n] = b->ex[i].flags;
			exts[n] = b->ex[i].has_ext ? &b->ex[i].ext : NULL;
			ids[n] = i;
			n++;
		}
		if (n == 0)
			break;
		if (hs_compile_ext_multi(exprs, flags, ids, exts, n, HS_MODE_BLOCK, NULL, &r->db,
		                         &cerr) == HS_SUCCESS)
			break;
		if (!cerr || cerr->expression < 0 || (unsigned)cerr->expression >= n) {
			snprintf(err, errlen, "hyperscan compile: %s", cerr ? cerr->message : "failed");
			hs_free_compile_error(cerr);
			ret = -EINVAL;
			goto out;
		}
		obs_kill_rule(b, b->ex[ids[cerr->expression]].rule, cerr->message);
		hs_free_compile_error(cerr);
		cerr = NULL;
	}
	/* drop dead rules, renumber: expression ids become dense pattern indexes */
	map_rule = calloc(r->n_rules ? r->n_rules : 1, sizeof(*map_rule));
	if (!map_rule)
		goto out;
	n = 0;
	for (i = 0; i < r->n_rules; i++) {
		if (b->dead[i]) {
			free(r->rules[i].ranges);
			continue;
		}
		map_rule[i] = n;
		r->rules[n++] = r->rules[i];
	}
	r->n_rules = n;
	r->pats = calloc(b->n_ex ? b->n_ex : 1, sizeof(*r->pats));
	if (!r->pats)
		goto out;
	if (r->db) {
		/* the database was compiled with ids = builder expression index; keep that
		 * numbering (dead expressions never match) */
		for (i = 0; i < b->n_ex; i++) {
			r->pats[i].rule = b->dead[b->ex[i].rule] ? UINT32_MAX : map_rule[b->ex[i].rule];
			r->pats[i].bit = b->ex[i].bit;
			if (!b->dead[b->ex[i].rule])
				r->st.n_patterns++;
		}
		r->n_pats = b->n_ex;
		if (hs_alloc_scratch(r->db, &r->proto_scratch) != HS_SUCCESS) {
			snprintf(err, errlen, "hyperscan: cannot allocate scratch");
			goto out;
		}
		hs_database_size(r->db, &r->st.db_bytes);
		hs_scratch_size(r->proto_scratch, &r->st.scratch_bytes);
	}
	ret = 0;
out:
	if (ret == -ENOMEM && err[0] == 0)
		snprintf(err, errlen, "out of memory");
	free(map_rule);
	free(exprs);
	free(flags);
	free(ids);
	free(exts);
	return ret;
}

struct obs_rules *obs_rules_load(const struct obs_rules_src *src, unsigned n_src,
                                 obs_rules_log_fn log, void *log_arg, char *err, size_t errlen)
{
	struct obs_builder *b = calloc(1, sizeof(*b));
	struct obs_rules *r = calloc(1, sizeof(*r));
	int ret = 0;

	if (errlen)
		err[0] = 0;
	if (!b || !r) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	b->r = r;
	b->log = log;
	b->log_arg = log_arg;
	for (unsigned i = 0; i < n_src; i++) {
		char *owned = NULL;
		const char *text = src[i].text;

		b->file = obs_keep(r, src[i].name ? src[i].name : "-",
		                   strlen(src[i].name ? src[i].name : "-"));
		if (!b->file) {
			snprintf(err, errlen, "out of memory");
			goto fail;
		}
		if (!text) {
			owned = obs_read_file(src[i].name, err, errlen);
			if (!owned)
				goto fail;
			text = owned;
		}
		r->st.n_files++;
		ret = obs_parse_text(b, text);
		free(owned);
		if (ret != 0) {
			snprintf(err, errlen, "out of memory");
			goto fail;
		}
	}
	if (obs_compile(b, err, errlen) != 0)
		goto fail;
	for (uint32_t i = 0; i < b->n_ex; i++)
		free(b->ex[i].re);
	free(b->ex);
	free(b->dead);
	free(b);
	return r;
fail:
	if (b) {
		for (uint32_t i = 0; i < b->n_ex; i++)
			free(b->ex[i].re);
		free(b->ex);
		free(b->dead);
		obs_items_clear(b);
		free(b);
	}
	obs_rules_free(r);
	return NULL;
}

void obs_rules_free(struct obs_rules *r)
{
	if (!r)
		return;
	if (r->db)
		hs_free_database(r->db);
	if (r->proto_scratch)
		hs_free_scratch(r->proto_scratch);
	for (uint32_t i = 0; i < r->n_rules; i++)
		free(r->rules[i].ranges);
	free(r->rules);
	free(r->pats);
	for (uint32_t i = 0; i < r->n_strings; i++)
		free(r->strings[i]);
	free(r->strings);
	free(r);
}

const struct obs_rules_stats *obs_rules_stats(const struct obs_rules *r)
{
	return &r->st;
}

uint32_t obs_rules_count(const struct obs_rules *r)
{
	return r ? r->n_rules : 0;
}

const struct obs_rule_info *obs_rules_info(const struct obs_rules *r, uint32_t idx)
{
	return r && idx < r->n_rules ? &r->rules[idx].info : NULL;
}

int obs_rules_find_sid(const struct obs_rules *r, uint32_t sid)
{
	/* load time and control plane only: linear is fine for a few thousand rules */
	for (uint32_t i = 0; r && i < r->n_rules; i++)
		if (r->rules[i].info.sid == sid)
			return (int)i;
	return -1;
}

int obs_rules_scratch_clone(const struct obs_rules *r, hs_scratch_t **s)
{
	if (*s) {
		hs_free_scratch(*s);
		*s = NULL;
	}
	if (!r || !r->proto_scratch)
		return 0;
	return hs_clone_scratch(r->proto_scratch, s) == HS_SUCCESS ? 0 : -ENOMEM;
}

void obs_rules_scratch_free(hs_scratch_t *s)
{
	if (s)
		hs_free_scratch(s);
}

/* ------------------------------------------------------------------ scanning --- */

struct obs_touch {
	uint32_t rule;
	uint32_t mask;
};

struct obs_scan_ctx {
	const struct obs_rules *r;
	uint32_t len;
	uint8_t proto;
	uint16_t dport;
	obs_rules_match_fn fn;
	void *arg;
	int n_match;
	bool overflow;
	uint32_t n_touch;
	struct obs_touch touch[OBS_RULES_MAX_TOUCH];
};

static inline bool obs_rule_fits(const struct obs_rule *ru, uint32_t len, uint8_t proto,
                                 uint16_t dport)
{
	if (ru->info.proto && ru->info.proto != proto)
		return false;
	switch (ru->dsize_op) {
	case 1: if (len != ru->dsize_a) return false; break;
	case 2: if (len >= ru->dsize_a) return false; break;
	case 3: if (len <= ru->dsize_a) return false; break;
	case 4: if (len <= ru->dsize_a || len >= ru->dsize_b) return false; break;
	default: break;
	}
	if (ru->n_ranges) {
		uint32_t i;

		for (i = 0; i < ru->n_ranges; i++)
			if (dport >= ru->ranges[i].lo && dport <= ru->ranges[i].hi)
				break;
		if (i == ru->n_ranges)
			return false;
	}
	return true;
}

static int obs_on_hs(unsigned int id, unsigned long long from, unsigned long long to,
                     unsigned int flags, void *ctx)
{
	struct obs_scan_ctx *c = ctx;
	const struct obs_pat *pt;
	const struct obs_rule *ru;
	uint32_t i;

	(void)from;
	(void)to;
	(void)flags;
	if (id >= c->r->n_pats)
		return 0;
	pt = &c->r->pats[id];
	if (pt->rule == UINT32_MAX)
		return 0;
	ru = &c->r->rules[pt->rule];
	if (!obs_rule_fits(ru, c->len, c->proto, c->dport))
		return 0;
	if (ru->single) {
		c->n_match++;
		if (c->fn)
			c->fn(c->arg, pt->rule, &ru->info);
		return 0;
	}
	for (i = 0; i < c->n_touch; i++)
		if (c->touch[i].rule == pt->rule)
			break;
	if (i == c->n_touch) {
		if (c->n_touch == OBS_RULES_MAX_TOUCH) {
			c->overflow = true;
			return 0;
		}
		c->touch[i].rule = pt->rule;
		c->touch[i].mask = 0;
		c->n_touch++;
	}
	c->touch[i].mask |= 1u << pt->bit;
	return 0;
}

int obs_rules_scan(const struct obs_rules *r, hs_scratch_t *scratch, const uint8_t *payload,
                   uint32_t len, uint8_t proto, uint16_t dport, obs_rules_match_fn on_match,
                   void *arg)
{
	struct obs_scan_ctx c;

	if (!r || !r->db || len == 0)
		return 0;
	if (!scratch || !payload)
		return -EINVAL;
	c.r = r;
	c.len = len;
	c.proto = proto;
	c.dport = dport;
	c.fn = on_match;
	c.arg = arg;
	c.n_match = 0;
	c.overflow = false;
	c.n_touch = 0;
	if (hs_scan(r->db, (const char *)payload, len, 0, scratch, obs_on_hs, &c) != HS_SUCCESS)
		return -EIO;
	for (uint32_t i = 0; i < c.n_touch; i++) {
		const struct obs_rule *ru = &r->rules[c.touch[i].rule];

		if ((c.touch[i].mask & ru->pos_mask) == ru->pos_mask &&
		    (c.touch[i].mask & ru->neg_mask) == 0) {
			c.n_match++;
			if (on_match)
				on_match(arg, c.touch[i].rule, &ru->info);
		}
	}
	return c.overflow ? -ENOSPC : c.n_match;
}

struct obs_rules_set *obs_rules_set_new(struct obs_rules *r, uint32_t n_workers, char *err,
                                        size_t errlen)
{
	struct obs_rules_set *set = calloc(1, sizeof(*set) + (size_t)n_workers * sizeof(hs_scratch_t *));

	if (!set) {
		snprintf(err, errlen, "rules: out of memory");
		obs_rules_free(r);
		return NULL;
	}
	set->rules = r;
	set->n_workers = n_workers;
	for (uint32_t w = 0; w < n_workers; w++) {
		if (obs_rules_scratch_clone(r, &set->scratch[w]) != 0) {
			snprintf(err, errlen, "rules: cannot clone a Hyperscan scratch for worker %u", w);
			obs_rules_set_free(set);
			return NULL;
		}
	}
	return set;
}

void obs_rules_set_free(void *p)
{
	struct obs_rules_set *set = p;

	if (!set)
		return;
	for (uint32_t w = 0; w < set->n_workers; w++)
		obs_rules_scratch_free(set->scratch[w]);
	obs_rules_free(set->rules);
	free(set);
}
