/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cmd_scan.c — the scan.* ctl commands (SPEC.md A) over the scan analysis' state
 * (scan_mod.h):
 *
 *   scan.list   [--class C] [--from P] [--to P] [--all] [overrides]   Table 3 rows
 *   scan.show   BLOCK [overrides]            one block's port set per period
 *   scan.ports  [N] [overrides]              Table 2 (port popularity)
 *   scan.params                              the parameters in force and their sources
 *   scan.cells  [BLOCK]                      raw cells (tests compare them with the reference)
 *   scan.report DIR [--block B] [overrides]  Tables 2/3 (CSV, Markdown) and SVG figures
 *
 * The words are read by scan_args.c.  Main loop only (single-threaded), like every
 * handler.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "integrity.h"
#include "json.h"
#include "jobs.h"
#include "period.h"
#include "scan_mod.h"
#include "scan_report.h"
#include "tools_report.h"
#include "toolstore.h"

/* scan show --payloads: ports listed at most (each with RESP_PAY_PER payloads) */
#define CP_SCAN_PAY_PORTS 64u

/* ------------------------------------------------------------------ JSON */

static json_t *cp_scan_jperiod(uint32_t p)
{
	char b[OBS_PERIOD_LABEL_MAX];

	if (p == SCAN_NO_PERIOD)
		return json_null();
	obs_period_label(cp_scan.cov.unit, p, b, sizeof(b));
	return json_string(b);
}

static json_t *cp_scan_jblock(uint32_t b)
{
	return cp_json_prefix(b, cp_scan.cov.block_len);
}

static json_t *cp_scan_jports(const uint16_t *p, uint32_t n)
{
	json_t *a = json_array();
	for (uint32_t i = 0; i < n; i++)
		json_array_append_new(a, json_integer(p[i]));
	return a;
}

static json_t *cp_scan_jparams(const struct scan_params *p)
{
	return json_pack("{s:f, s:i, s:i, s:f, s:f, s:o, s:o, s:i, s:s, s:i, s:b}",
		"alpha", p->alpha, "n", (json_int_t)p->n, "m", (json_int_t)p->m,
		"jstar", p->jstar, "sstar", p->sstar,
		"from", p->from == 0 ? json_null() : cp_scan_jperiod(p->from),
		"to", cp_scan_jperiod(p->to),
		"block_len", (json_int_t)cp_scan.cov.block_len,
		"period", obs_period_unit_name(cp_scan.cov.unit),
		"sample_size", (json_int_t)cp_scan.cov.sample_size,
		"block_len_fixed", 1);
}

/* SPEC A11: null when the responder was off (or H empty) */
static json_t *cp_scan_jgamma(bool has, double g)
{
	return has ? json_real(g) : json_null();
}

static json_t *cp_scan_jrow(const struct scan_block *b, bool with_periods)
{
	char b24[24];
	json_t *o, *periods = json_array();

	for (uint32_t i = 0; i < b->n_psets; i++)
		json_array_append_new(periods, json_pack("{s:o, s:i, s:o, s:o, s:o}",
			"period", cp_scan_jperiod(b->psets[i].period),
			"n_ports", (json_int_t)b->psets[i].n_ports,
			"ports", cp_scan_jports(b->psets[i].ports, b->psets[i].n_ports),
			"gamma", cp_scan_jgamma(b->psets[i].has_gamma, b->psets[i].gamma),
			"app_ports", b->psets[i].has_gamma ? json_integer(b->psets[i].n_app) : json_null()));
	snprintf(b24, sizeof(b24), "%u.%u.%u.0/24", b->busiest24 >> 24, (b->busiest24 >> 16) & 255,
	         (b->busiest24 >> 8) & 255);
	o = json_pack("{s:o, s:o, s:o, s:o, s:i, s:s, s:i, s:i, s:o, s:o, s:I, s:o, s:o, s:I, s:I, "
	              "s:f, s:o, s:b, s:o}",
		"block", cp_scan_jblock(b->block),
		"country", b->has_country ? json_string(b->cc) : json_null(),
		"first", cp_scan_jperiod(b->first), "last", cp_scan_jperiod(b->last),
		"n_wide", (json_int_t)b->n_wide, "class", scan_class_name(b->cls),
		"pmax", (json_int_t)b->pmax, "pmin", (json_int_t)b->pmin,
		"j", b->n_pairs ? json_real(b->j) : json_null(),
		"s", b->n_pairs ? json_real(b->s) : json_null(),
		"n_pairs", (json_int_t)b->n_pairs,
		"scanner", b->scanner_label ? json_string(b->scanner_label[0] ? b->scanner_label : "yes") : json_null(),
		"busiest24", b->has_busiest ? json_string(b24) : json_null(),
		"syns", (json_int_t)b->syns, "mirai", (json_int_t)b->mirai,
		"mirai_share", b->mirai_share,
		"gamma", cp_scan_jgamma(b->has_gamma, b->gamma), "partial", b->partial,
		"periods", periods);
	json_object_set_new(o, "gamma_ports", b->has_gamma ? json_integer(b->gamma_ports) : json_null());
	json_object_set_new(o, "gamma_app_ports", b->has_gamma ? json_integer(b->gamma_app) : json_null());
	if (!with_periods)
		json_object_del(o, "periods");
	return o;
}

/* fingerprint (issue 14): a share of a block's SYNs, null when it had none */
static json_t *cp_scan_jshare(uint64_t part, uint64_t total)
{
	return total ? json_real((double)part / (double)total) : json_null();
}

/* The block's tool shares over periods from..to of its syns SYNs: per label (most SYNs
 * first, ties: smaller id), the labelled SYNs of no named label, and the unlabelled
 * rest (blocktools.h). */
static json_t *cp_scan_jtools(uint32_t block, uint32_t from, uint32_t to, uint64_t syns)
{
	uint64_t per[SCAN_BT_IDS], labelled, used[SCAN_BT_IDS] = { 0 };
	json_t *list = json_array();
	char nb[32];

	scan_bts_sum(&cp_scan.bts, block, from, to, per);
	labelled = per[0];
	for (unsigned id = 1; id < SCAN_BT_IDS; id++)
		labelled += per[id];
	for (;;) {
		unsigned best = 0;

		for (unsigned id = 1; id < SCAN_BT_IDS; id++)
			if (!used[id] && per[id] > 0 && (best == 0 || per[id] > per[best]))
				best = id;
		if (best == 0)
			break;
		used[best] = 1;
		json_array_append_new(list, json_pack("{s:s, s:i, s:I, s:o}",
			"tool", cp_tool_name(best, nb, sizeof(nb)), "id", (json_int_t)best,
			"syns", (json_int_t)per[best], "share", cp_scan_jshare(per[best], syns)));
	}
	return json_pack("{s:o, s:I, s:o, s:I, s:o}", "per_tool", list,
		"other_syns", (json_int_t)per[0], "other_share", cp_scan_jshare(per[0], syns),
		"unlabelled_syns", (json_int_t)(syns > labelled ? syns - labelled : 0),
		"unlabelled_share", cp_scan_jshare(syns > labelled ? syns - labelled : 0, syns));
}

/* scan list's tool column: the block's dominant label over the query's periods, or null */
static json_t *cp_scan_jdominant(uint32_t block, uint32_t from, uint32_t to, uint64_t syns)
{
	uint64_t per[SCAN_BT_IDS];
	unsigned best;
	char nb[32];

	scan_bts_sum(&cp_scan.bts, block, from, to, per);
	best = scan_bts_dominant(per);
	if (best == 0)
		return json_null();
	return json_pack("{s:s, s:i, s:I, s:o}", "name", cp_tool_name(best, nb, sizeof(nb)),
	                 "id", (json_int_t)best, "syns", (json_int_t)per[best],
	                 "share", cp_scan_jshare(per[best], syns));
}

/* ------------------------------------------------------------------ handlers */

static void cp_cmd_scan_list(struct cp *cp, json_t *args, struct cp_reply *r)
{
	struct cp_scan_q q;
	struct scan_result res;
	struct cp_integ span;
	struct cp_integ_ok ok;
	json_t *rows, *periods;

	if (!cp_scan_ready(r) || cp_scan_args(args, cp_args_scan_list, NULL, &q, r))
		return;
	if (cp_scan_run(cp, &q.p, &res, r))
		return;
	/* the loss stamps of the periods covered (integrity.h): a block is complete when
	 * every period from its first to its last is */
	periods = cp_integ_periods_json(cp_scan.cov.unit, res.p.from, res.p.to, &span, &ok);
	rows = json_array();
	for (size_t i = 0; i < res.n_blocks; i++) {
		const struct scan_block *b = &res.blocks[i];
		json_t *row;

		if (q.have_class ? b->cls != q.cls : (!q.all && b->cls == SCAN_C_NONE))
			continue;
		row = cp_scan_jrow(b, q.periods);
		json_object_set_new(row, "tool", cp_scan_jdominant(b->block,
			res.p.from == SCAN_NO_PERIOD ? 0 : res.p.from, res.p.to, b->syns));
		json_object_set_new(row, "complete", json_boolean(b->first != SCAN_NO_PERIOD &&
			cp_integ_ok_span(&ok, b->first, b->last)));
		json_array_append_new(rows, row);
	}
	r->data = json_pack("{s:o, s:o, s:o, s:b, s:I, s:I, s:{s:I, s:I, s:I, s:I, s:I}, s:o}",
		"integrity", cp_integ_json(&span), "integrity_periods", periods,
		"params", cp_scan_jparams(&res.p), "partial", res.partial,
		"cells", (json_int_t)res.n_cells, "continuous", (json_int_t)res.n_continuous,
		"by_class", "routine", (json_int_t)res.n_by_class[SCAN_C_ROUTINE],
		"semi-routine", (json_int_t)res.n_by_class[SCAN_C_SEMI],
		"ad-hoc", (json_int_t)res.n_by_class[SCAN_C_ADHOC],
		"unclassified", (json_int_t)res.n_by_class[SCAN_C_UNCLASSIFIED],
		"none", (json_int_t)res.n_by_class[SCAN_C_NONE],
		"blocks", rows);
	free(ok.p);
	scan_result_free(&res);
}

static void cp_cmd_scan_show(struct cp *cp, json_t *args, struct cp_reply *r)
{
	struct cp_scan_q q;
	struct scan_pset *ps;
	size_t n;
	uint32_t blk;
	json_t *list;

	(void)cp;
	if (!cp_scan_ready(r) || cp_scan_args(args, cp_args_scan_show, "block", &q, r))
		return;
	if (q.block == NULL) {
		cp_reply_err(r, CP_E_BAD_ARGS, "scan show needs a BLOCK (a.b.0.0/%u)", cp_scan.cov.block_len);
		return;
	}
	if (cp_scan_parse_block(q.block, &blk, r))
		return;
	if (scan_block_periods(&cp_scan.cov, &q.p, blk, &ps, &n) != 0) {
		cp_reply_err(r, CP_E_INTERNAL, "out of memory");
		return;
	}
	cp_scan_gamma_psets(blk, ps, n);
	list = json_array();
	for (size_t i = 0; i < n; i++) {
		/* each period's loss stamp (integrity.h) */
		json_t *stamp = cp_integ_period_json(cp_scan.cov.unit, ps[i].period);

		json_array_append_new(list, json_pack("{s:o, s:b, s:i, s:o, s:o, s:o, s:I, s:I, s:i, "
			"s:b, s:O, s:o, s:o}",
			"period", cp_scan_jperiod(ps[i].period), "wide", ps[i].wide,
			"n_ports", (json_int_t)ps[i].n_ports,
			"ports", cp_scan_jports(ps[i].ports, ps[i].n_ports),
			"gamma", cp_scan_jgamma(ps[i].has_gamma, ps[i].gamma),
			"app_ports", ps[i].has_gamma ? json_integer(ps[i].n_app) : json_null(),
			"syns", (json_int_t)ps[i].syns, "mirai", (json_int_t)ps[i].mirai,
			"dports_seen", (json_int_t)ps[i].n_cells,
			"partial", ps[i].period == cp_scan.current,
			"complete", json_object_get(stamp, "complete"), "integrity", stamp,
			/* fingerprint (issue 14) */
			"tools", cp_scan_jtools(blk, ps[i].period, ps[i].period, ps[i].syns)));
	}
	scan_psets_free(ps, n);
	r->data = json_pack("{s:o, s:o, s:o}", "block", cp_scan_jblock(blk),
	                    "params", cp_scan_jparams(&q.p), "periods", list);
	if (q.payloads)   /* SPEC A11: the responder's first payloads, capped */
		json_object_set_new(r->data, "payloads",
		                    cp_scan_resp_payloads_json(blk, CP_SCAN_PAY_PORTS));
}

static void cp_cmd_scan_ports(struct cp *cp, json_t *args, struct cp_reply *r)
{
	struct cp_scan_q q;
	struct scan_result res;
	json_t *list;
	size_t top;

	if (!cp_scan_ready(r) || cp_scan_args(args, cp_args_scan_ports, "top", &q, r))
		return;
	if (cp_scan_run(cp, &q.p, &res, r))
		return;
	top = q.top < 0 ? 20 : q.top == 0 ? res.n_pop : (size_t)q.top;
	list = json_array();
	for (size_t i = 0; i < res.n_pop && i < top; i++)
		json_array_append_new(list, json_pack("{s:i, s:i, s:I, s:f}", "rank", (json_int_t)(i + 1),
			"port", (json_int_t)res.pop[i].port, "sets", (json_int_t)res.pop[i].sets,
			"share", res.pop[i].share));
	{
		/* the loss stamp of the periods the ranking covers (integrity.h) */
		struct cp_integ span;

		json_decref(cp_integ_periods_json(cp_scan.cov.unit, res.p.from, res.p.to, &span,
		                                  NULL));
		r->data = json_pack("{s:o, s:b, s:I, s:o, s:o}", "params", cp_scan_jparams(&res.p),
		                    "partial", res.partial, "port_sets", (json_int_t)res.n_port_sets,
		                    "ports", list, "integrity", cp_integ_json(&span));
	}
	scan_result_free(&res);
}

static void cp_cmd_scan_params(struct cp *cp, json_t *args, struct cp_reply *r)
{
	(void)args;
	if (!cp_scan_ready(r))
		return;
	if (cp_scan_close_run(cp) < 0) {
		cp_reply_err(r, CP_E_INTERNAL, "out of memory analysing the closed periods");
		return;
	}
	r->data = json_pack("{s:o, s:o, s:I, s:I, s:I, s:I, s:o, s:o, s:s, s:o, s:{s:I, s:f, s:f, s:I}, s:I}",
		"params", cp_scan_jparams(&cp_scan.base),
		"current_period", cp_scan_jperiod(cp_scan.current),
		"cells", (json_int_t)cp_scan.cov.cells.n, "dense_cells", (json_int_t)cp_scan.cov.n_dense,
		"bytes", (json_int_t)cov_store_bytes(&cp_scan.cov),
		"scanner_prefixes", (json_int_t)(cp_scan.have_scanners ? cp_scan.scanners.n : 0),
		"scanner_file", cp_scan.scanner_path[0] ? json_string(cp_scan.scanner_path) : json_null(),
		"scanner_error", cp_scan.scanner_error[0] ? json_string(cp_scan.scanner_error) : json_null(),
		"overridable", "alpha n m jstar sstar from to (L and the sample cap are fixed by the dataplane's cells)",
		"geo", cp_scan.geo ? json_true() : json_false(),
		"drain_cells", "epochs", (json_int_t)cp_scan.drains,
		"mean_ms", cp_scan.drains ? cp_scan.drain_ns_sum / 1e6 / (double)cp_scan.drains : 0.0,
		"max_ms", cp_scan.drain_ns_max / 1e6, "records", (json_int_t)cp_scan.drain_records,
		"analyses", (json_int_t)cp_scan.analyses);
	json_object_set_new(r->data, "bad_records", json_integer((json_int_t)cp_scan.bad_records));
	json_object_set_new(r->data, "responder", cp_scan_resp_json());
	if (cp_scan.have_last)
		json_object_set_new(r->data, "last_close", json_pack("{s:o, s:I, s:I, s:I, s:I}",
			"to", cp_scan_jperiod(cp_scan.last_close_to),
			"continuous", (json_int_t)cp_scan.last.n_continuous,
			"routine", (json_int_t)cp_scan.last.n_by_class[SCAN_C_ROUTINE],
			"semi-routine", (json_int_t)cp_scan.last.n_by_class[SCAN_C_SEMI],
			"ad-hoc", (json_int_t)cp_scan.last.n_by_class[SCAN_C_ADHOC]));
	/* the whole drain per epoch (drain.c: copy, journal + sync, every consumer, release) */
	json_object_set_new(r->data, "drain_epoch", json_pack("{s:I, s:f, s:f}",
		"epochs", (json_int_t)cp->drain.drain_epochs,
		"mean_ms", cp->drain.drain_epochs ?
			cp->drain.drain_ns_total / 1e6 / (double)cp->drain.drain_epochs : 0.0,
		"max_ms", cp->drain.drain_ns_max / 1e6));
}

static void cp_cmd_scan_cells(struct cp *cp, json_t *args, struct cp_reply *r)
{
	json_t *jb = json_object_get(args, "block"), *list;
	const struct cov_cell *c;
	uint32_t blk = 0;
	bool one = false;

	(void)cp;
	if (!cp_scan_ready(r))
		return;
	if (jb != NULL && json_is_string(jb)) {
		if (cp_scan_parse_block(json_string_value(jb), &blk, r))
			return;
		one = true;
	}
	list = json_array();
	for (uint32_t it = 0; (c = cov_store_next(&cp_scan.cov, &it)) != NULL;) {
		if (one && c->block != blk)
			continue;
		json_array_append_new(list, json_pack("{s:o, s:o, s:i, s:i, s:i, s:I, s:I}",
			"period", cp_scan_jperiod(c->period), "block", cp_scan_jblock(c->block),
			"proto", (json_int_t)c->proto, "dport", (json_int_t)c->dport,
			"hits", (json_int_t)c->n, "syns", (json_int_t)c->syns, "mirai", (json_int_t)c->mirai));
	}
	r->data = list;
}

/* scan.report's work, in a child process (jobs.h) or inline: the analysis and its files. */
struct cp_scan_report_job {
	struct scan_params p;
	char dir[1025];
	unsigned top;
	uint32_t heat;
};

static void cp_scan_report_run(struct cp *cp, void *arg, struct cp_reply *r)
{
	const struct cp_scan_report_job *j = arg;
	struct scan_result res;
	struct scan_report_files files;
	char err[512];
	json_t *names;

	if (cp_scan_run(cp, &j->p, &res, r))
		return;
	if (scan_report_write(j->dir, &cp_scan.cov, &res, j->top, j->heat, &files, err,
	                      sizeof(err)) != 0 ||
	    /* fingerprint (issue 14): tool SYNs per (block, period) */
	    scan_tools_report_write(j->dir, &cp_scan.bts, &cp_scan.cov, &res, &files, err,
	                            sizeof(err)) != 0) {
		scan_result_free(&res);
		cp_reply_err(r, CP_E_BAD_ARGS, "report: %s", err);
		return;
	}
	names = json_array();
	for (unsigned i = 0; i < files.n; i++)
		json_array_append_new(names, json_string(files.name[i]));
	r->data = json_pack("{s:s, s:o, s:I}", "dir", j->dir, "files", names,
	                    "continuous", (json_int_t)res.n_continuous);
	scan_result_free(&res);
}

static void cp_cmd_scan_report(struct cp *cp, json_t *args, struct cp_reply *r)
{
	const struct cp_job *busy = cp_job_running(cp, "scan.report");
	struct cp_scan_report_job j = { .heat = UINT32_MAX };
	struct cp_scan_q q;
	uint64_t job;

	if (!cp_scan_ready(r) || cp_scan_args(args, cp_args_scan_report, "dir", &q, r))
		return;
	if (q.dir == NULL || q.dir[0] != '/') {
		cp_reply_err(r, CP_E_BAD_ARGS, "scan report needs an absolute directory");
		return;
	}
	if (q.block && cp_scan_parse_block(q.block, &j.heat, r))
		return;
	if (busy != NULL) {
		cp_reply_err(r, CP_E_BUSY, "a scan report is being written (job %llu); try again "
		             "when it is done", (unsigned long long)busy->id);
		return;
	}
	j.p = q.p;
	j.top = q.top < 0 ? 20 : (unsigned)q.top;
	snprintf(j.dir, sizeof(j.dir), "%s", q.dir);
	job = cp_job_start(cp, 0, "scan.report", cp_scan_report_run, NULL, &j, sizeof(j), r);
	if (job != 0)
		cp_reply_defer(r, job);
}

const struct cp_cmd cp_scan_commands[] = {
	{ "scan.list", cp_cmd_scan_list, cp_args_scan_list, CP_ACCESS_READ, false,
	  "continuous scanners (SPEC A, Table 3): [--class C] [--from P] [--to P] [--all] "
	  "[--alpha X --n N --m M --jstar X --sstar X]" },
	{ "scan.show", cp_cmd_scan_show, cp_args_scan_show, CP_ACCESS_READ, false,
	  "one block's port set per period (SPEC A2) and gamma (A11): BLOCK [--payloads] "
	  "[overrides]" },
	{ "scan.ports", cp_cmd_scan_ports, cp_args_scan_ports, CP_ACCESS_READ, false,
	  "port popularity over routine/semi-routine port sets (SPEC A9, Table 2): [N]" },
	{ "scan.params", cp_cmd_scan_params, NULL, CP_ACCESS_READ, false,
	  "SPEC A parameters in force, coverage store size, drain time per epoch" },
	{ "scan.cells", cp_cmd_scan_cells, cp_args_scan_cells, CP_ACCESS_READ, true,
	  "raw coverage cells (period, block, port, slots hit, SYNs, Mirai): [BLOCK]" },
	{ "scan.report", cp_cmd_scan_report, cp_args_scan_report, CP_ACCESS_ADMIN, false,
	  "write Tables 2/3 (CSV, Markdown) and the SVG figures into DIR [--block B]" },
	{ NULL, NULL, NULL, 0, false, NULL },
};
