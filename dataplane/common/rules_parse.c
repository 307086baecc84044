/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rules_parse.c — the rule parser (rules_parse.h has the accepted syntax and the
 * category mapping): files, joined lines, the rule header and options, rejections
 * counted by reason, the parsed list.  A rule's contents and pcres become expressions in
 * rules_expr.c.  Pure C: obscura-dp compiles the result with Hyperscan (dataplane/rules.c),
 * obscura-cp keeps it for sid -> msg and category.  Any thread, on a list it owns.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "rules_parse_int.h"

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

/* Count a rejection by reason and log it as "file:line: reason: text" (buf: the text's
 * room). */
static void obs_rl_vreject(struct obs_rule_list *r, const char *file, unsigned line,
                           enum obs_rule_rej why, char *buf, size_t cap, const char *fmt,
                           va_list ap)
{
	int n = snprintf(buf, cap, "%s:%u: %s: ", file, line, obs_rules_rej_name(why));

	if (n > 0 && (size_t)n < cap)
		vsnprintf(buf + n, cap - (size_t)n, fmt, ap);
	r->st.n_rejected++;
	r->st.rejected[why]++;
	if (r->log)
		r->log(r->log_arg, file, line, buf);
}

/* Record a rejection of the rule being parsed (b->file, b->line). */
void obs_rp_reject(struct obs_builder *b, enum obs_rule_rej why, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	obs_rl_vreject(b->r, b->file, b->line, why, b->reason, sizeof(b->reason), fmt, ap);
	va_end(ap);
}

static char *obs_keep(struct obs_rule_list *r, const char *s, size_t n)
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

const char *obs_rp_skip_ws(const char *p)
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

	p = obs_rp_skip_ws(p);
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

bool obs_rp_ulong(const char *s, long lo, long hi, long *out)
{
	char *end;
	long v;

	s = obs_rp_skip_ws(s);
	if (*s == 0)
		return false;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s)
		return false;
	end = (char *)obs_rp_skip_ws(end);
	if (*end || v < lo || v > hi)
		return false;
	*out = v;
	return true;
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

/* Room for one more content or pcre, and a value for it; else the rule is rejected. */
static bool obs_item_room(struct obs_builder *b, const char *what, const char *val)
{
	if (b->n_items >= OBS_RULE_MAX_CONT) {
		obs_rp_reject(b, OBS_REJ_LIMIT, "more than %u contents/pcres", OBS_RULE_MAX_CONT);
		return false;
	}
	if (!val) {
		obs_rp_reject(b, OBS_REJ_SYNTAX, "%s without a value", what);
		return false;
	}
	return true;
}

/*
 * Parse one joined rule line.  Returns 0 (accepted), 1 (rejected: logged, counted),
 * -2 (out of memory).
 */
static int obs_rule_parse(struct obs_builder *b, const char *line)
{
	struct obs_rule_list *r = b->r;
	char action[32], proto[32], src[512], sport[512], dir[8], dst[512], dport[512];
	char name[64], *val = NULL;
	const char *p = line, *msg = NULL;
	char classtype[64] = "";
	struct obs_rule ru;
	long sid = -1, rev = 0;
	int ret = 1, first;

	memset(&ru, 0, sizeof(ru));
	b->n_items = 0;
	if (!(p = obs_token(p, action, sizeof(action))) || !(p = obs_token(p, proto, sizeof(proto))) ||
	    !(p = obs_token(p, src, sizeof(src))) || !(p = obs_token(p, sport, sizeof(sport))) ||
	    !(p = obs_token(p, dir, sizeof(dir))) || !(p = obs_token(p, dst, sizeof(dst))) ||
	    !(p = obs_token(p, dport, sizeof(dport)))) {
		if (strlen(line) > 600 && strchr(line, '['))
			obs_rp_reject(b, OBS_REJ_ADDR, "header field longer than 511 bytes (address lists "
			              "are not supported)");
		else
			obs_rp_reject(b, OBS_REJ_SYNTAX, "header must be: action proto src sport -> dst dport");
		return 1;
	}
	p = obs_rp_skip_ws(p);
	if (*p != '(') {
		obs_rp_reject(b, OBS_REJ_SYNTAX, "missing '(' before the options");
		return 1;
	}
	p++;
	if (strcmp(action, "alert") != 0) {
		obs_rp_reject(b, OBS_REJ_ACTION, "action '%s' (only alert)", action);
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
		obs_rp_reject(b, OBS_REJ_PROTO, "protocol '%s' (application-layer protocols need a "
		              "parser; only tcp, udp, icmp, ip)", proto);
		return 1;
	}
	if (strcmp(dir, "->") != 0) {
		obs_rp_reject(b, OBS_REJ_ADDR, "direction '%s' (only ->)", dir);
		return 1;
	}
	if (!obs_addr_ok(src, true)) {
		obs_rp_reject(b, OBS_REJ_ADDR, "source '%s' (a telescope only receives from outside; "
		              "address lists unsupported)", src);
		return 1;
	}
	if (!obs_addr_ok(dst, false)) {
		obs_rp_reject(b, OBS_REJ_ADDR, "destination '%s' (only any, $HOME_NET, $*_SERVERS)", dst);
		return 1;
	}
	if (strcmp(sport, "any") != 0) {
		obs_rp_reject(b, OBS_REJ_PORT, "source port '%s' (only any)", sport);
		return 1;
	}
	{
		char why[160];

		if (obs_rp_port_eval(dport, strlen(dport), b->ports, 0, why, sizeof(why)) != 0) {
			obs_rp_reject(b, OBS_REJ_PORT, "%s", why);
			return 1;
		}
		if (obs_rp_port_ranges(b->ports, &ru.ranges, &ru.n_ranges) == -1) {
			obs_rp_reject(b, OBS_REJ_PORT, "port set '%s' is empty", dport);
			return 1;
		}
		if (ru.n_ranges && ru.info.proto != 6 && ru.info.proto != 17) {
			obs_rp_reject(b, OBS_REJ_PORT, "ports on a %s rule", proto);
			goto out;
		}
	}

	/* options */
	for (;;) {
		size_t nl = 0;
		bool q = false;
		const char *vs;

		p = obs_rp_skip_ws(p);
		if (*p == ')') {
			p = obs_rp_skip_ws(p + 1);
			if (*p) {
				obs_rp_reject(b, OBS_REJ_SYNTAX, "text after the closing ')'");
				goto out;
			}
			break;
		}
		if (*p == 0) {
			obs_rp_reject(b, OBS_REJ_SYNTAX, "missing closing ')'");
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
				obs_rp_reject(b, OBS_REJ_SYNTAX, "option '%s' not terminated by ';'", name);
				goto out;
			}
			vs = obs_rp_skip_ws(vs);
			vl = (size_t)(p - vs);
			while (vl && isspace((unsigned char)vs[vl - 1]))
				vl--;
			val = strndup(vs, vl);
			if (!val) {
				ret = -2;
				goto out;
			}
		} else if (*p != ';') {
			obs_rp_reject(b, OBS_REJ_SYNTAX, "option '%s' not terminated by ';'", name);
			goto out;
		}
		p++;
		if (nl == 0) {
			obs_rp_reject(b, OBS_REJ_SYNTAX, "empty option");
			goto out;
		}

		if (strcmp(name, "msg") == 0) {
			char m[1024];

			if (!val || obs_rp_unquote(val, m, sizeof(m), true) < 0) {
				obs_rp_reject(b, OBS_REJ_SYNTAX, "msg must be a quoted string");
				goto out;
			}
			msg = obs_keep(r, m, strlen(m));
			if (!msg) {
				ret = -2;
				goto out;
			}
		} else if (strcmp(name, "sid") == 0) {
			if (!val || !obs_rp_ulong(val, 1, 0x7fffffffL, &sid)) {
				obs_rp_reject(b, OBS_REJ_SID, "bad sid '%s'", val ? val : "");
				goto out;
			}
		} else if (strcmp(name, "rev") == 0) {
			if (!val || !obs_rp_ulong(val, 0, 0x7fffffffL, &rev)) {
				obs_rp_reject(b, OBS_REJ_SYNTAX, "bad rev '%s'", val ? val : "");
				goto out;
			}
		} else if (strcmp(name, "gid") == 0) {
			long g;

			if (!val || !obs_rp_ulong(val, 1, 1, &g)) {
				obs_rp_reject(b, OBS_REJ_OPTION, "gid other than 1");
				goto out;
			}
		} else if (strcmp(name, "classtype") == 0) {
			if (!val || strlen(val) >= sizeof(classtype)) {
				obs_rp_reject(b, OBS_REJ_SYNTAX, "bad classtype");
				goto out;
			}
			strcpy(classtype, val);
		} else if (strcmp(name, "reference") == 0 || strcmp(name, "metadata") == 0 ||
		           strcmp(name, "priority") == 0 || strcmp(name, "target") == 0 ||
		           strcmp(name, "fast_pattern") == 0 || strcmp(name, "rawbytes") == 0) {
			/* descriptive, or a hint without effect on what matches */
		} else if (strcmp(name, "content") == 0) {
			if (!obs_item_room(b, name, val))
				goto out;
			if ((ret = obs_rp_content(b, val)) != 0)
				goto out_ret;
		} else if (strcmp(name, "pcre") == 0) {
			const char *v = val ? obs_rp_skip_ws(val) : NULL;
			bool neg = v && *v == '!';

			if (!obs_item_room(b, name, v))
				goto out;
			if ((ret = obs_rp_pcre(b, neg ? obs_rp_skip_ws(v + 1) : v, neg)) != 0)
				goto out_ret;
		} else if (strcmp(name, "nocase") == 0 || strcmp(name, "offset") == 0 ||
		           strcmp(name, "depth") == 0 || strcmp(name, "distance") == 0 ||
		           strcmp(name, "within") == 0) {
			if ((ret = obs_rp_modifier(b, name, val)) != 0)
				goto out_ret;
		} else if (strcmp(name, "dsize") == 0) {
			const char *v = val ? val : "";
			const char *lg = strstr(v, "<>");
			long a, c;
			char tmp[32];

			if (lg && (size_t)(lg - v) < sizeof(tmp)) {
				memcpy(tmp, v, (size_t)(lg - v));
				tmp[lg - v] = 0;
				if (!obs_rp_ulong(tmp, 0, 65535, &a) ||
				    !obs_rp_ulong(lg + 2, 0, 65535, &c) || a >= c) {
					obs_rp_reject(b, OBS_REJ_SYNTAX, "bad dsize '%s'", v);
					goto out;
				}
				ru.dsize_op = 4;
				ru.dsize_a = (uint32_t)a;
				ru.dsize_b = (uint32_t)c;
			} else if ((*v == '<' || *v == '>') && obs_rp_ulong(v + 1, 0, 65535, &a)) {
				ru.dsize_op = *v == '<' ? 2 : 3;
				ru.dsize_a = (uint32_t)a;
			} else if (obs_rp_ulong(v, 0, 65535, &a)) {
				ru.dsize_op = 1;
				ru.dsize_a = (uint32_t)a;
			} else {
				obs_rp_reject(b, OBS_REJ_SYNTAX, "bad dsize '%s'", v);
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
					obs_rp_reject(b, OBS_REJ_OPTION, "flow:%s needs connection tracking "
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
				obs_rp_reject(b, obs_unsup[k].rej, "'%s': %s", name, obs_unsup[k].why);
			else if (strncmp(name, "http", 4) == 0 || strchr(name, '.'))
				obs_rp_reject(b, OBS_REJ_OPTION, "'%s' needs an application-layer parser "
				              "(sticky buffer)", name);
			else
				obs_rp_reject(b, OBS_REJ_OPTION, "unsupported option '%s'", name);
			goto out;
		}
	}
	if (sid < 0) {
		obs_rp_reject(b, OBS_REJ_SID, "no sid");
		goto out;
	}
	if ((first = obs_rule_list_find_sid(r, (uint32_t)sid)) >= 0) {
		obs_rp_reject(b, OBS_REJ_SID, "duplicate sid %ld (first at %s:%u)", sid,
		              r->rules[first].info.file, r->rules[first].info.line);
		goto out;
	}
	{
		bool any_pos = false;

		for (unsigned i = 0; i < b->n_items; i++)
			any_pos |= !b->items[i].negated;
		if (!any_pos) {
			obs_rp_reject(b, OBS_REJ_NO_PATTERN, "no positive content or pcre: nothing to scan");
			goto out;
		}
	}
	ru.info.sid = (uint32_t)sid;
	ru.info.rev = (uint32_t)rev;
	ru.info.msg = msg ? msg : "";
	ru.info.file = b->file;
	ru.info.line = (uint16_t)(b->line > 65535 ? 65535 : b->line);
	ru.info.category = obs_category(msg, classtype[0] ? classtype : NULL);
	if (r->n_rules == r->cap_rules) {
		uint32_t c = r->cap_rules ? r->cap_rules * 2 : 256;
		struct obs_rule *nr = realloc(r->rules, c * sizeof(*nr));

		if (!nr) {
			ret = -2;
			goto out;
		}
		r->rules = nr;
		r->cap_rules = c;
	}
	{
		uint32_t n_rx0 = r->n_rx;

		ret = obs_rp_emit(b, r->n_rules, &ru);
		if (ret != 0) {
			for (uint32_t e = n_rx0; e < r->n_rx; e++)
				free(r->rx[e].re);
			r->n_rx = n_rx0;
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
			obs_rp_reject(b, OBS_REJ_LIMIT, "rule longer than %u bytes", OBS_RULE_MAX_LINE);
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
			const char *s = obs_rp_skip_ws(acc);

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
		const char *s = obs_rp_skip_ws(acc);

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


struct obs_rule_list *obs_rules_parse(const struct obs_rules_src *src, unsigned n_src,
                                      obs_rules_log_fn log, void *log_arg, char *err,
                                      size_t errlen)
{
	struct obs_builder *b = calloc(1, sizeof(*b));
	struct obs_rule_list *r = calloc(1, sizeof(*r));

	if (errlen)
		err[0] = 0;
	if (!b || !r) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	b->r = r;
	r->log = log;
	r->log_arg = log_arg;
	for (unsigned i = 0; i < n_src; i++) {
		const char *name = src[i].name ? src[i].name : "-";
		const char *text = src[i].text;
		char *owned = NULL;
		int ret;

		b->file = obs_keep(r, name, strlen(name));
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
	free(b);
	return r;
fail:
	if (b) {
		obs_items_clear(b);
		free(b);
	}
	obs_rule_list_free(r);
	return NULL;
}

void obs_rule_list_drop_rx(struct obs_rule_list *l)
{
	if (!l)
		return;
	for (uint32_t i = 0; i < l->n_rx; i++)
		free(l->rx[i].re);
	free(l->rx);
	l->rx = NULL;
	l->n_rx = l->cap_rx = 0;
}

void obs_rule_list_free(struct obs_rule_list *l)
{
	if (!l)
		return;
	obs_rule_list_drop_rx(l);
	for (uint32_t i = 0; i < l->n_rules; i++)
		free(l->rules[i].ranges);
	free(l->rules);
	for (uint32_t i = 0; i < l->n_strings; i++)
		free(l->strings[i]);
	free(l->strings);
	free(l);
}

const struct obs_rules_stats *obs_rule_list_stats(const struct obs_rule_list *l)
{
	return &l->st;
}

uint32_t obs_rule_list_count(const struct obs_rule_list *l)
{
	return l ? l->n_rules : 0;
}

const struct obs_rule_info *obs_rule_list_info(const struct obs_rule_list *l, uint32_t idx)
{
	return l && idx < l->n_rules ? &l->rules[idx].info : NULL;
}

int obs_rule_list_find_sid(const struct obs_rule_list *l, uint32_t sid)
{
	/* load time and control plane only: linear is fine for a few thousand rules */
	for (uint32_t i = 0; l && i < l->n_rules; i++)
		if (l->rules[i].info.sid == sid)
			return (int)i;
	return -1;
}

static void obs_rl_reject_at(struct obs_rule_list *l, const char *file, unsigned line,
                             enum obs_rule_rej why, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static void obs_rl_reject_at(struct obs_rule_list *l, const char *file, unsigned line,
                             enum obs_rule_rej why, const char *fmt, ...)
{
	char buf[768];
	va_list ap;

	va_start(ap, fmt);
	obs_rl_vreject(l, file, line, why, buf, sizeof(buf), fmt, ap);
	va_end(ap);
}

void obs_rule_list_kill(struct obs_rule_list *l, uint32_t idx, const char *why)
{
	struct obs_rule *ru;

	if (!l || idx >= l->n_rules || l->rules[idx].dead)
		return;
	ru = &l->rules[idx];
	ru->dead = 1;
	l->st.n_accepted--;
	obs_rl_reject_at(l, ru->info.file, ru->info.line, OBS_REJ_PCRE, "sid %u: %s", ru->info.sid,
	                 why);
}

void obs_rule_list_compact(struct obs_rule_list *l, uint32_t *map)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < l->n_rules; i++) {
		if (l->rules[i].dead) {
			free(l->rules[i].ranges);
			map[i] = UINT32_MAX;
			continue;
		}
		map[i] = n;
		l->rules[n++] = l->rules[i];
	}
	for (uint32_t i = 0; i < l->n_rx; i++)
		l->rx[i].rule = l->rx[i].rule < l->n_rules ? map[l->rx[i].rule] : UINT32_MAX;
	l->n_rules = n;
}
