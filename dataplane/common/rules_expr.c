/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rules_expr.c — the pattern half of the rule parser (rules_parse.h): a rule's contents
 * and pcres collected as items, then turned into expressions (obs_rx: a regex in the
 * PCRE subset Hyperscan takes, with end-offset bounds), and the port sets and quoted
 * values of the rule grammar.  rules_parse.c drives it; no Hyperscan here, so the
 * control plane parses the same files as the dataplane compiles.
 */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "rules_parse_int.h"

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

/* ---- ports ---- */

static void obs_bits_set(uint64_t *w, unsigned lo, unsigned hi)
{
	for (unsigned i = lo; i <= hi; i++)
		w[i >> 6] |= 1ull << (i & 63);
}

/* Evaluate a port spec into bits; 0 or -1 with b->reason via obs_reject by the caller. */
int obs_rp_port_eval(const char *s, size_t n, uint64_t *out, int depth, char *why, size_t wl)
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

		if (obs_rp_port_eval(buf + 1, n - 1, inner, depth + 1, why, wl) != 0)
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
				return obs_rp_port_eval(obs_rules_port_vars[i].val,
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
				if (obs_rp_port_eval(e, el, item, depth + 1, why, wl) != 0)
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
			if ((buf[0] && !obs_rp_ulong(buf, 0, 65535, &lo)) ||
			    (colon[1] && !obs_rp_ulong(colon + 1, 0, 65535, &hi)) || lo > hi) {
				snprintf(why, wl, "bad port range '%.60s:%.60s'", buf, colon + 1);
				return -1;
			}
		} else if (!obs_rp_ulong(buf, 0, 65535, &lo)) {
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
int obs_rp_port_ranges(const uint64_t *bits, struct obs_port_range **out, uint32_t *n)
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
int obs_rp_unquote(const char *v, char *out, size_t cap, bool unescape)
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

/* Append one expression of rule `rule` to the list; it owns re from here on success. */
static int obs_add_rx(struct obs_rule_list *l, char *re, unsigned flags, uint64_t min_offset,
                      uint64_t max_offset, uint32_t rule, uint32_t bit)
{
	struct obs_rx *x;

	if (l->n_rx == l->cap_rx) {
		uint32_t c = l->cap_rx ? l->cap_rx * 2 : 256;
		struct obs_rx *p = realloc(l->rx, c * sizeof(*p));

		if (!p)
			return -1;
		l->rx = p;
		l->cap_rx = c;
	}
	x = &l->rx[l->n_rx++];
	memset(x, 0, sizeof(*x));
	x->re = re;
	x->flags = flags;
	x->min_offset = min_offset;
	x->max_offset = max_offset;
	x->rule = rule;
	x->bit = bit;
	return 0;
}

/* Apply content modifiers to the last item. */
int obs_rp_modifier(struct obs_builder *b, const char *name, const char *val)
{
	struct obs_item *it;
	long v;

	if (b->n_items == 0 || b->items[b->n_items - 1].is_pcre) {
		obs_rp_reject(b, OBS_REJ_MODIFIER, "'%s' without a preceding content", name);
		return -1;
	}
	it = &b->items[b->n_items - 1];
	if (strcmp(name, "nocase") == 0) {
		it->nocase = true;
		return 0;
	}
	if (!val || !obs_rp_ulong(val, -65535, 65535, &v)) {
		obs_rp_reject(b, OBS_REJ_MODIFIER, "'%s' needs a number (variables unsupported): '%s'",
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
		obs_rp_reject(b, OBS_REJ_MODIFIER, "negative %s", name);
		return -1;
	}
	return 0;
}

/* pcre:"/re/flags" */
int obs_rp_pcre(struct obs_builder *b, const char *val, bool negated)
{
	char buf[8192];
	char *last;
	struct obs_item *it;
	int n = obs_rp_unquote(val, buf, sizeof(buf), false);

	if (n < 2 || buf[0] != '/' || !(last = strrchr(buf, '/')) || last == buf) {
		obs_rp_reject(b, OBS_REJ_PCRE, "pcre value must be \"/regex/flags\"");
		return -1;
	}
	*last = 0;
	it = &b->items[b->n_items];
	memset(it, 0, sizeof(*it));
	it->is_pcre = true;
	it->negated = negated;
	for (const char *f = last + 1; *f; f++) {
		switch (*f) {
		case 'i': it->rx_flags |= OBS_RX_CASELESS; break;
		case 's': it->rx_flags |= OBS_RX_DOTALL; break;
		case 'm': it->rx_flags |= OBS_RX_MULTILINE; break;
		case 'A': it->anchored = true; break;
		case 'B': case 'O': case 'G': break;   /* raw bytes / match limit / ungreedy */
		case 'R':
			obs_rp_reject(b, OBS_REJ_PCRE, "relative pcre (R) is not supported");
			return -1;
		default:
			obs_rp_reject(b, OBS_REJ_PCRE, "pcre flag '%c' is not supported "
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
		obs_rp_reject(b, OBS_REJ_PCRE, "empty pcre");
		return -1;
	}
	b->n_items++;
	return 0;
}

int obs_rp_content(struct obs_builder *b, const char *val)
{
	char buf[8192];
	bool neg = false;
	struct obs_item *it;

	val = obs_rp_skip_ws(val);
	if (*val == '!') {
		neg = true;
		val = obs_rp_skip_ws(val + 1);
	}
	if (obs_rp_unquote(val, buf, sizeof(buf), true) < 0) {
		obs_rp_reject(b, OBS_REJ_SYNTAX, "content must be a quoted string");
		return -1;
	}
	it = &b->items[b->n_items];
	memset(it, 0, sizeof(*it));
	it->negated = neg;
	if (obs_content_decode(buf, &it->bytes, &it->len) != 0) {
		obs_rp_reject(b, OBS_REJ_SYNTAX, "bad content \"%s\" (hex or empty)", buf);
		return -1;
	}
	b->n_items++;
	return 0;
}

/* Build the rule's expressions from b->items. */
int obs_rp_emit(struct obs_builder *b, uint32_t ridx, struct obs_rule *ru)
{
	uint32_t bit = 0;
	unsigned i = 0;

	while (i < b->n_items) {
		struct obs_item *h = &b->items[i];
		char *re = NULL;
		size_t n = 0, cap = 0;
		unsigned j, flags = 0;
		uint64_t min_off = 0, max_off = 0;

		if (bit >= OBS_RULE_MAX_PATS) {
			obs_rp_reject(b, OBS_REJ_LIMIT, "more than %u patterns", OBS_RULE_MAX_PATS);
			return -1;
		}
		if (h->is_pcre) {
			if (h->anchored && obs_re_str(&re, &n, &cap, "^(?:") != 0)
				return -2;
			if (obs_re_str(&re, &n, &cap, (const char *)h->bytes) != 0)
				return -2;
			if (h->anchored && obs_re_str(&re, &n, &cap, ")") != 0)
				return -2;
			flags = h->rx_flags;
			j = i + 1;
			if (j < b->n_items && !b->items[j].is_pcre &&
			    (b->items[j].has_distance || b->items[j].has_within)) {
				free(re);
				obs_rp_reject(b, OBS_REJ_MODIFIER, "content relative to a pcre is not supported");
				return -1;
			}
		} else {
			if (h->has_distance || h->has_within) {
				obs_rp_reject(b, OBS_REJ_MODIFIER, "distance/within on a first content "
				              "or after a negated content");
				return -1;
			}
			if (h->has_depth && h->depth < (long)h->len) {
				obs_rp_reject(b, OBS_REJ_MODIFIER, "depth %ld shorter than its content (%zu)",
				              h->depth, h->len);
				return -1;
			}
			/* chain: following contents with distance/within */
			for (j = i + 1; j < b->n_items; j++) {
				struct obs_item *c = &b->items[j];

				if (c->is_pcre || !(c->has_distance || c->has_within))
					break;
				if (c->negated || b->items[j - 1].negated) {
					obs_rp_reject(b, OBS_REJ_MODIFIER, "negated content in a relative chain");
					return -1;
				}
				if (c->has_offset || c->has_depth) {
					obs_rp_reject(b, OBS_REJ_MODIFIER, "offset/depth mixed with "
					              "distance/within on one content");
					return -1;
				}
				if (c->distance < 0) {
					obs_rp_reject(b, OBS_REJ_MODIFIER, "negative distance %ld", c->distance);
					return -1;
				}
				if (c->has_within && c->within < (long)c->len) {
					obs_rp_reject(b, OBS_REJ_MODIFIER, "within %ld shorter than its content "
					              "(%zu)", c->within, c->len);
					return -1;
				}
			}
			if (j == i + 1) {
				/* single literal: the offsets bound the END of the match (as
				 * Hyperscan's min_offset/max_offset do) */
				if (obs_re_lit(&re, &n, &cap, h->bytes, h->len, false) != 0)
					return -2;
				if (h->nocase)
					flags |= OBS_RX_CASELESS;
				if (h->has_offset && h->offset > 0) {
					flags |= OBS_RX_MIN_OFFSET;
					min_off = (uint64_t)h->offset + h->len;
				}
				if (h->has_depth) {
					flags |= OBS_RX_MAX_OFFSET;
					max_off = (uint64_t)(h->has_offset ? h->offset : 0) + (uint64_t)h->depth;
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
		if (obs_add_rx(b->r, re, flags, min_off, max_off, ridx, bit) != 0) {
			free(re);
			return -2;
		}
		bit++;
		i = j;
	}
	return 0;
}

