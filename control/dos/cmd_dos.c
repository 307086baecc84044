/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cmd_dos.c — the dos.* ctl commands (docs/dos.md, docs/ctl-v1.md): the attacks of a
 * time range above a rate, and one victim's attacks, each with the loss stamp of the
 * time it covers.  Main loop only.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dos_mod.h"
#include "integrity.h"
#include "json.h"

#define NS 1000000000ull

static struct cp_dos_mod *const M = &cp_dos_mod;

#define DOS_W(n, h) { n, CP_ARG_STR, false, 0, 40, h, true }
static const struct cp_arg cp_args_dos_list[] = {
	DOS_W("w0", "[--from T] [--to T] (YYYY-MM-DD[THH:MM[:SS]], UTC, or Unix seconds) "
	      "[--min-rate PPS] (extrapolated packets/s)"),
	DOS_W("w1", "option words"), DOS_W("w2", "option words"), DOS_W("w3", "option words"),
	DOS_W("w4", "option words"), DOS_W("w5", "option words"),
	{ NULL, CP_ARG_STR, false, 0, 0, NULL, false },
};

static const struct cp_arg cp_args_dos_show[] = {
	{ "victim", CP_ARG_STR, true, 0, 15, "IPv4 address of the victim", false },
	{ NULL, CP_ARG_STR, false, 0, 0, NULL, false },
};

/* "2026-12-06", "2026-12-06T07:30", "2026-12-06T07:30:15Z" (UTC) or Unix seconds. */
static int parse_time(const char *v, uint64_t *ns)
{
	static const char *const fmts[] = { "%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%M:%S",
	                                    "%Y-%m-%dT%H:%MZ", "%Y-%m-%dT%H:%M", "%Y-%m-%d" };
	char *end;
	unsigned long long s = strtoull(v, &end, 10);

	if (end != v && *end == '\0' && v[0] != '-') {
		if (s > 17179869183ull)
			return -1;
		*ns = s * NS;
		return 0;
	}
	for (unsigned i = 0; i < sizeof(fmts) / sizeof(fmts[0]); i++) {
		struct tm tm;
		const char *e;
		time_t t;

		memset(&tm, 0, sizeof(tm));
		e = strptime(v, fmts[i], &tm);
		if (e == NULL || *e != '\0')
			continue;
		t = timegm(&tm);
		if (t < 0)
			return -1;
		*ns = (uint64_t)t * NS;
		return 0;
	}
	return -1;
}

struct dos_opts {
	uint64_t from_ns, to_ns;     /* to 0: no end */
	double min_rate;
};

static int dos_opts_parse(json_t *args, struct dos_opts *o, struct cp_reply *r)
{
	static const char *names[] = { "w0", "w1", "w2", "w3", "w4", "w5" };
	const char *w[6];
	unsigned k = 0;

	memset(o, 0, sizeof(*o));
	for (unsigned i = 0; i < 6; i++) {
		json_t *j = json_object_get(args, names[i]);

		if (j != NULL && json_is_string(j))
			w[k++] = json_string_value(j);
	}
	for (unsigned i = 0; i < k; i++) {
		const char *opt = w[i], *val = NULL, *eq;
		char key[24];

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
		if (val == NULL) {
			cp_reply_err(r, CP_E_BAD_ARGS, "'%s' needs a value", w[i]);
			return -1;
		}
		if (strcmp(key, "from") == 0 || strcmp(key, "to") == 0) {
			uint64_t t;

			if (parse_time(val, &t) != 0) {
				cp_reply_err(r, CP_E_BAD_ARGS, "%s '%s': not YYYY-MM-DD[THH:MM[:SS]] "
				             "or Unix seconds", key, val);
				return -1;
			}
			if (key[0] == 'f')
				o->from_ns = t;
			else
				o->to_ns = t;
		} else if (strcmp(key, "min-rate") == 0 || strcmp(key, "min_rate") == 0) {
			char *end;
			double v = strtod(val, &end);

			if (end == val || *end != '\0' || !isfinite(v) || v < 0) {
				cp_reply_err(r, CP_E_BAD_ARGS, "min-rate '%s': not a rate >= 0", val);
				return -1;
			}
			o->min_rate = v;
		} else {
			cp_reply_err(r, CP_E_BAD_ARGS, "unknown option '%s'; usage: dos list "
			             "[--from T] [--to T] [--min-rate PPS]", w[i]);
			return -1;
		}
	}
	if (o->to_ns != 0 && o->to_ns <= o->from_ns) {
		cp_reply_err(r, CP_E_BAD_ARGS, "--to must be after --from");
		return -1;
	}
	return 0;
}

static bool ready(struct cp_reply *r)
{
	if (M->dos == NULL) {
		cp_reply_err(r, CP_E_UNAVAILABLE, "the dos module is not running");
		return false;
	}
	return true;
}

static json_t *stamp(uint64_t from_ns, uint64_t to_ns)
{
	struct cp_integ i;

	cp_integrity_span(from_ns, to_ns, &i);
	return cp_integ_json(&i);
}

static json_t *rows_json(const struct cp_dos_flow **v, size_t n)
{
	json_t *rows = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(rows, cp_dos_flow_json(v[i]));
	return rows;
}

static void cp_cmd_dos_list(struct cp *cp, json_t *args, struct cp_reply *r)
{
	struct dos_opts o;
	const struct cp_dos_flow **v;
	size_t n;

	(void)cp;
	if (!ready(r) || dos_opts_parse(args, &o, r) != 0)
		return;
	if (cp_dos_select(o.from_ns, o.to_ns, o.min_rate, 0, false, &v, &n) != 0) {
		cp_reply_err(r, CP_E_INTERNAL, "out of memory");
		return;
	}
	r->data = rows_json(v, n);
	/* a bare list of rows; the stamp of the range asked for sits beside it */
	r->meta = json_pack("{s:o}", "integrity", stamp(o.from_ns, o.to_ns));
	free(v);
}

static void cp_cmd_dos_show(struct cp *cp, json_t *args, struct cp_reply *r)
{
	const char *s = json_string_value(json_object_get(args, "victim"));
	const struct cp_dos_flow **v;
	struct in_addr a;
	uint64_t from = UINT64_MAX, to = 0;
	size_t n;

	(void)cp;
	if (!ready(r))
		return;
	if (s == NULL || inet_pton(AF_INET, s, &a) != 1 || a.s_addr == 0) {
		cp_reply_err(r, CP_E_BAD_ARGS, "victim '%s': not a non-zero IPv4 address",
		             s ? s : "");
		return;
	}
	if (cp_dos_select(0, 0, 0.0, ntohl(a.s_addr), true, &v, &n) != 0) {
		cp_reply_err(r, CP_E_INTERNAL, "out of memory");
		return;
	}
	for (size_t i = 0; i < n; i++) {
		if (v[i]->start_ns < from)
			from = v[i]->start_ns;
		if (v[i]->end_ns + 1 > to)
			to = v[i]->end_ns + 1;
	}
	r->data = json_pack("{s:o, s:o, s:o}", "victim", cp_json_ipv4(ntohl(a.s_addr)),
	                    "attacks", rows_json(v, n),
	                    "integrity", n ? stamp(from, to) : json_null());
	free(v);
}

static void cp_cmd_dos_stats(struct cp *cp, json_t *args, struct cp_reply *r)
{
	const struct cp_dos *d = M->dos;
	uint64_t attacks = 0;

	(void)cp;
	(void)args;
	if (!ready(r))
		return;
	for (uint32_t i = 0; i < d->n; i++)
		attacks += cp_dos_is_attack(d, &d->flow[i]);
	r->data = json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, "
	                    "s:o, s:o, s:o}",
		"attacks", cp_json_u64(attacks), "flows", cp_json_u64(d->n),
		"open_flows", cp_json_u64(d->n_open), "max_flows", cp_json_u64(d->c.max_flows),
		"records", cp_json_u64(d->st.records), "bad_records", cp_json_u64(d->st.bad_records),
		"below_threshold", cp_json_u64(d->st.below_threshold),
		"evicted_flows", cp_json_u64(d->st.evicted_flows),
		"evicted_attacks", cp_json_u64(d->st.evicted_attacks),
		"late_records", cp_json_u64(d->st.late_records),
		"gap_s", cp_json_u64(d->c.gap_ns / NS),
		"min_packets", cp_json_u64(d->c.min_packets),
		"min_duration_s", cp_json_u64(d->c.min_duration_ns / NS),
		"min_peak_ppm", cp_json_u64(d->c.min_peak),
		"dark_addresses_d", cp_json_u64(M->dark_size),
		"memory_bytes", cp_json_u64(cp_dos_mem_bytes(d)));
}

const struct cp_cmd cp_dos_commands[] = {
	{ "dos.list", cp_cmd_dos_list, cp_args_dos_list, CP_ACCESS_READ, false,
	  "DoS attacks seen in backscatter (docs/dos.md): [--from T] [--to T] [--min-rate PPS]" },
	{ "dos.show", cp_cmd_dos_show, cp_args_dos_show, CP_ACCESS_READ, false,
	  "one victim's attacks, and its flow not yet an attack (docs/dos.md)" },
	{ "dos.stats", cp_cmd_dos_stats, NULL, CP_ACCESS_READ, false,
	  "the DoS analysis' table: attacks, flows, records refused, evictions, thresholds" },
	{ NULL, NULL, NULL, CP_ACCESS_READ, false, NULL },
};
