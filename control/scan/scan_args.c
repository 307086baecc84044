/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * scan_args.c — the words of the scan.* commands (scan_mod.h): option specs, named args
 * or obscuractl's words, per-query overrides, periods and blocks.
 *
 * Overrides, per query: --alpha X --n N --m M --jstar X --sstar X.  L and the sample cap
 * are fixed by the dataplane's cells (the dataplane aggregates sources to /L and slots to
 * S before anything reaches us) and cannot be overridden per query; --L is refused with
 * that reason.  Periods are labels of the configured unit (2024-03, 2024-W10,
 * 2024-03-05, 2024-03-05T07) or #INDEX.
 *
 * Arguments come either as named args ({"class":"routine"}) or as obscuractl's words
 * (argv: "--class routine ..."), which arrive in the declared positional slots in order
 * and are re-read here as option words.  Main loop only.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "period.h"
#include "prefix_file.h"
#include "scan_mod.h"

#define CP_SCAN_OPT(n, h) { n, CP_ARG_STR, false, 0, 64, h, false }
#define CP_SCAN_W(n) { n, CP_ARG_STR, false, 0, 64, "option words", true }
#define CP_SCAN_WORDS \
	CP_SCAN_OPT("from", "first period (label or #INDEX)"), \
	CP_SCAN_OPT("to", "last period"), \
	CP_SCAN_OPT("alpha", "coverage threshold override"), \
	CP_SCAN_OPT("n", "ports for a wide-area period override"), \
	CP_SCAN_OPT("m", "wide-area periods override"), \
	CP_SCAN_OPT("jstar", "routine Jaccard threshold override"), \
	CP_SCAN_OPT("sstar", "routine Simpson threshold override"), \
	CP_SCAN_W("w8"), CP_SCAN_W("w9"), \
	CP_SCAN_W("w10"), CP_SCAN_W("w11"), \
	CP_SCAN_W("w12"), CP_SCAN_W("w13"), \
	CP_SCAN_W("w14"), CP_SCAN_W("w15"), \
	CP_SCAN_W("w16"), \
	{ NULL, CP_ARG_STR, false, 0, 0, NULL, false }

const struct cp_arg cp_args_scan_list[] = {
	CP_SCAN_OPT("class", "routine|semi-routine|ad-hoc|unclassified|none"),
	CP_SCAN_OPT("all", "also blocks that are not continuous scanners"),
	CP_SCAN_OPT("periods", "with each block's port sets (wide-area periods)"),
	CP_SCAN_WORDS
};
const struct cp_arg cp_args_scan_show[] = {
	CP_SCAN_OPT("block", "a.b.0.0/L or any address in the block"),
	CP_SCAN_OPT("payloads", "the responder's first payloads per port (SPEC A11)"),
	CP_SCAN_W("w1"),
	CP_SCAN_WORDS
};
const struct cp_arg cp_args_scan_ports[] = {
	CP_SCAN_OPT("top", "how many ports (default 20; 0: all)"),
	CP_SCAN_W("w1"),
	CP_SCAN_WORDS
};
const struct cp_arg cp_args_scan_cells[] = {
	CP_SCAN_OPT("block", "only this block"),
	{ NULL, CP_ARG_STR, false, 0, 0, NULL, false }
};
const struct cp_arg cp_args_scan_report[] = {
	{ "dir", CP_ARG_STR, true, 0, 1024, "absolute directory to write into", false },
	CP_SCAN_OPT("block", "heatmap block (default: the longest continuous scanner)"),
	CP_SCAN_WORDS
};

static int cp_scan_num(const char *name, const char *v, double lo, double hi, double *out,
                       struct cp_reply *r)
{
	char *end;
	double d;

	errno = 0;
	d = strtod(v, &end);
	if (errno || end == v || *end || !(d >= lo && d <= hi)) {
		cp_reply_err(r, CP_E_BAD_ARGS, "--%s: '%s' is not a number in [%g, %g]", name, v, lo, hi);
		return -1;
	}
	*out = d;
	return 0;
}

static int cp_scan_period(const char *name, const char *v, uint32_t *out, struct cp_reply *r)
{
	unsigned u = cp_scan.ready ? cp_scan.cov.unit : OBS_PU_MONTH;

	if (obs_period_parse(u, v, out) != 0) {
		cp_reply_err(r, CP_E_BAD_ARGS, "--%s: '%s' is not a %s period (e.g. %s, or #INDEX)",
		             name, v, obs_period_unit_name(u),
		             u == OBS_PU_HOUR ? "2024-03-05T07" : u == OBS_PU_DAY ? "2024-03-05" :
		             u == OBS_PU_WEEK ? "2024-W10" : "2024-03");
		return -1;
	}
	return 0;
}

static int cp_scan_set(struct cp_scan_q *q, const char *name, const char *v, struct cp_reply *r)
{
	double d;

	if (strcmp(name, "class") == 0) {
		if (scan_class_parse(v, &q->cls) != 0) {
			cp_reply_err(r, CP_E_BAD_ARGS, "--class: '%s' is not routine, semi-routine, "
			             "ad-hoc, unclassified or none", v);
			return -1;
		}
		q->have_class = true;
	} else if (strcmp(name, "from") == 0) {
		return cp_scan_period(name, v, &q->p.from, r);
	} else if (strcmp(name, "to") == 0) {
		return cp_scan_period(name, v, &q->p.to, r);
	} else if (strcmp(name, "alpha") == 0) {
		if (cp_scan_num(name, v, 1e-9, 1.0, &q->p.alpha, r))
			return -1;
	} else if (strcmp(name, "jstar") == 0) {
		if (cp_scan_num(name, v, 0.0, 1.0, &q->p.jstar, r))
			return -1;
	} else if (strcmp(name, "sstar") == 0) {
		if (cp_scan_num(name, v, 0.0, 1.0, &q->p.sstar, r))
			return -1;
	} else if (strcmp(name, "n") == 0 || strcmp(name, "m") == 0 || strcmp(name, "top") == 0) {
		if (cp_scan_num(name, v, name[0] == 't' ? 0 : 1, name[0] == 'm' ? 100000 : 65536, &d, r))
			return -1;
		if (d != (double)(long)d) {
			cp_reply_err(r, CP_E_BAD_ARGS, "--%s: '%s' is not an integer", name, v);
			return -1;
		}
		if (name[0] == 'n')
			q->p.n = (uint32_t)d;
		else if (name[0] == 'm')
			q->p.m = (uint32_t)d;
		else
			q->top = (long)d;
	} else if (strcmp(name, "all") == 0) {
		q->all = true;
	} else if (strcmp(name, "periods") == 0) {
		q->periods = true;
	} else if (strcmp(name, "payloads") == 0) {
		q->payloads = true;
	} else if (strcmp(name, "block") == 0) {
		q->block = v;
	} else if (strcmp(name, "L") == 0 || strcmp(name, "l") == 0) {
		cp_reply_err(r, CP_E_BAD_ARGS, "--L: the block length is fixed by the dataplane's "
		             "coverage cells (analysis.block_len = %u); change it in the config and "
		             "restart", cp_scan.ready ? cp_scan.cov.block_len : 0);
		return -1;
	} else {
		cp_reply_err(r, CP_E_BAD_ARGS, "unknown option --%s", name);
		return -1;
	}
	return 0;
}

/*
 * Fill q from args.  positional: the names of the command's leading positional words
 * (e.g. "block" for scan.show) when given as argv.
 */
int cp_scan_args(json_t *args, const struct cp_arg *spec, const char *positional,
                        struct cp_scan_q *q, struct cp_reply *r)
{
	const char *words[32], *decl[32];
	size_t nw = 0, n_decl = 0;
	bool argv_style = false;

	while (spec[n_decl].name != NULL && n_decl < 32) {
		decl[n_decl] = spec[n_decl].name;
		n_decl++;
	}

	memset(q, 0, sizeof(*q));
	q->p = cp_scan.base;
	q->top = -1;
	for (size_t i = 0; i < n_decl; i++) {
		json_t *v = json_object_get(args, decl[i]);
		if (v == NULL)
			continue;
		if (json_is_string(v) && strncmp(json_string_value(v), "--", 2) == 0)
			argv_style = true;
	}
	if (!argv_style) {
		for (size_t i = 0; i < n_decl; i++) {
			json_t *v = json_object_get(args, decl[i]);
			if (v == NULL || !json_is_string(v))
				continue;
			if (strcmp(decl[i], "block") == 0) {
				q->block = json_string_value(v);
				continue;
			}
			if (strcmp(decl[i], "dir") == 0) {
				q->dir = json_string_value(v);
				continue;
			}
			if ((strcmp(decl[i], "all") == 0 || strcmp(decl[i], "periods") == 0 ||
			     strcmp(decl[i], "payloads") == 0) &&
			    strcmp(json_string_value(v), "false") == 0)
				continue;
			if (decl[i][0] == 'w' && decl[i][1] >= '0' && decl[i][1] <= '9') {
				cp_reply_err(r, CP_E_BAD_ARGS, "'%s': give options as --NAME VALUE words "
				             "or as named args", json_string_value(v));
				return -1;
			}
			if (cp_scan_set(q, decl[i], json_string_value(v), r))
				return -1;
		}
	} else {
		/* argv: the words fill the declared slots in order */
		for (size_t i = 0; i < n_decl && nw < 32; i++) {
			json_t *v = json_object_get(args, decl[i]);
			if (v == NULL)
				break;
			words[nw++] = json_string_value(v);
		}
		for (size_t i = 0; i < nw; i++) {
			const char *w = words[i];
			if (strncmp(w, "--", 2) != 0) {
				/* the command's one positional word, in first place only */
				if (i == 0 && positional && strcmp(positional, "block") == 0) {
					q->block = w;
					continue;
				}
				if (i == 0 && positional && strcmp(positional, "dir") == 0) {
					q->dir = w;
					continue;
				}
				if (i == 0 && positional && strcmp(positional, "top") == 0) {
					if (cp_scan_set(q, "top", w, r))
						return -1;
					continue;
				}
				cp_reply_err(r, CP_E_BAD_ARGS, "unexpected word '%s' (options are --NAME VALUE)", w);
				return -1;
			}
			if (strcmp(w + 2, "all") == 0 || strcmp(w + 2, "periods") == 0 ||
			    strcmp(w + 2, "payloads") == 0) {
				cp_scan_set(q, w + 2, "true", r);
				continue;
			}
			if (i + 1 >= nw) {
				cp_reply_err(r, CP_E_BAD_ARGS, "%s needs a value", w);
				return -1;
			}
			if (cp_scan_set(q, w + 2, words[i + 1], r))
				return -1;
			i++;
		}
	}
	const char *why;
	if (scan_params_check(&q->p, &why) != 0) {
		cp_reply_err(r, CP_E_BAD_ARGS, "%s", why);
		return -1;
	}
	return 0;
}

int cp_scan_parse_block(const char *s, uint32_t *block, struct cp_reply *r)
{
	char buf[32], *slash;
	uint32_t a;
	uint8_t len;
	const char *why;

	snprintf(buf, sizeof(buf), "%s", s);
	slash = strchr(buf, '/');
	if (slash)
		*slash = '\0';
	if (obs_pfx_parse_cidr(buf, &a, &len, &why) != 0) {
		cp_reply_err(r, CP_E_BAD_ARGS, "'%s' is not an IPv4 block: %s", s, why);
		return -1;
	}
	if (slash) {
		char *end;
		long l = strtol(slash + 1, &end, 10);
		if (*end || l != cp_scan.cov.block_len) {
			cp_reply_err(r, CP_E_BAD_ARGS, "'%s': blocks are /%u (analysis.block_len)", s,
			             cp_scan.cov.block_len);
			return -1;
		}
	}
	*block = cp_scan.cov.block_len == 32 ? a : a & (uint32_t)(0xffffffffu << (32 - cp_scan.cov.block_len));
	return 0;
}

bool cp_scan_ready(struct cp_reply *r)
{
	if (!cp_scan.ready) {
		cp_reply_err(r, CP_E_UNAVAILABLE, "no coverage data yet (the dataplane has not "
		             "published its telescope sample)");
		return false;
	}
	return true;
}
