/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cmd_tables.c — `tables.reload [TABLE]` and `tables.status` (cmd_tables.h).
 *
 * tables.reload queues a request per table ("all" or nothing: scanner, exclude, resip
 * and rules, each its own request, each its own outcome) and answers at once with the
 * request ids (reload.h posts them through the command mailbox and follows them from the
 * main loop).  The dataplane's main lcore rebuilds the table from its file and swaps it
 * in under RCU, capture never stops; a bad file is refused with the reason and the old
 * table kept.  tables.status shows, per table, its files, the state of its latest
 * request (queued, posted, in progress since when, loaded with what, refused with why,
 * unanswered), its last few requests, the last loaded and the last refused, and what
 * the analyses keep of it (the RESIP table's control-plane copy).
 *
 * Main loop only; neither handler waits for the dataplane.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "analysis.h"
#include "cmd_tables.h"
#include "json.h"
#include "reload.h"

const struct cp_arg cp_args_tables_reload[] = {
	{ "table", CP_ARG_STR, false, 0, 32, "scanner, exclude, resip, rules, fingerprints or all (default: all)",
	  false },
	{ NULL, CP_ARG_STR, false, 0, 0, NULL, false }
};

json_t *cp_reload_req_json(const struct cp_reload_req *q)
{
	uint64_t end = q->done_wall_ns ? q->done_wall_ns : cp_wall_ns();
	json_t *o = json_pack("{s:I, s:s, s:s, s:o, s:o, s:o, s:o, s:f}",
		"id", (json_int_t)q->id, "table", cp_reload_table_name(q->table),
		"state", cp_reload_state_name(q->state), "queued", cp_json_time(q->queued_wall_ns),
		"posted", cp_json_time(q->posted_wall_ns), "started", cp_json_time(q->started_wall_ns),
		"finished", cp_json_time(q->done_wall_ns),
		/* queued to answered; for a pending request, so far */
		"ms", end > q->queued_wall_ns ? (double)(end - q->queued_wall_ns) / 1e6 : 0.0);

	if (q->state == CP_RS_LOADED)
		json_object_set_new(o, "result", json_string(q->msg));
	else if (q->state == CP_RS_REFUSED || q->state == CP_RS_UNANSWERED)
		json_object_set_new(o, "reason", json_string(q->msg));
	return o;
}

void cp_cmd_tables_reload(struct cp *cp, json_t *args, struct cp_reply *r)
{
	json_t *jt = json_object_get(args, "table"), *list;
	const char *table = jt && json_is_string(jt) ? json_string_value(jt) : "";
	bool all = table[0] == '\0' || strcmp(table, "all") == 0;
	int one = all ? -1 : cp_reload_table_parse(table);

	if (!all && one < 0) {
		cp_reply_err(r, CP_E_BAD_ARGS, "unknown table '%s' (known: scanner, exclude, resip, "
		             "rules, fingerprints, all)", table);
		return;
	}
	list = json_array();
	for (uint32_t t = 0; t < CP_RT_N; t++) {
		uint64_t id;
		int rc;

		if (!all && (int)t != one)
			continue;
		rc = cp_reload_queue(cp, t, &id);
		if (rc != 0) {
			json_decref(list);
			if (rc == -ENODEV)
				cp_reply_err(r, CP_E_UNAVAILABLE, "no running dataplane attached");
			else
				cp_reply_err(r, CP_E_BUSY, "too many reloads waiting for the dataplane");
			return;
		}
		json_array_append_new(list, cp_reload_req_json(cp_reload_find(&cp->reload, id)));
	}
	r->data = json_pack("{s:o, s:s}", "requests", list, "outcome",
	                    "the dataplane rebuilds in the background: `tables status` shows "
	                    "each request's outcome");
}

/* The places for a table's files in the configuration, and the i-th ("" for none). */
static uint32_t cp_tables_slots(const struct obs_conf *c, uint32_t t)
{
	return t == CP_RT_EXCLUDE ? c->n_exclude_files : t == CP_RT_RULES ? c->n_rules_files : 1;
}

static const char *cp_tables_file(const struct obs_conf *c, uint32_t t, uint32_t i)
{
	return t == CP_RT_SCANNER ? c->scanner_file : t == CP_RT_RESIP ? c->resip_table :
	       t == CP_RT_EXCLUDE ? c->exclude_files[i] : t == CP_RT_FP ? c->fingerprint_file :
	       c->rules_files[i];
}

/* The files a table is read from. */
static json_t *cp_tables_files(const struct obs_conf *c, uint32_t t)
{
	json_t *a = json_array();

	for (uint32_t i = 0; i < cp_tables_slots(c, t); i++)
		if (cp_tables_file(c, t, i)[0] != '\0')
			json_array_append_new(a, json_string(cp_tables_file(c, t, i)));
	return a;
}

uint32_t cp_tables_n_files(const struct obs_conf *c, uint32_t t)
{
	uint32_t k = 0;

	for (uint32_t i = 0; i < cp_tables_slots(c, t); i++)
		k += cp_tables_file(c, t, i)[0] != '\0';
	return k;
}

int64_t cp_tables_version(const struct cp *cp, uint32_t t)
{
	static const uint32_t tver[CP_RT_N] = {
		[CP_RT_SCANNER] = OBX_TVER_SCANNER, [CP_RT_EXCLUDE] = OBX_TVER_EXCLUDE,
		[CP_RT_RESIP] = OBX_TVER_RESIP, [CP_RT_RULES] = OBX_TVER_RULES,
		[CP_RT_FP] = OBX_TVER_FP,
	};
	const struct obx_header *h = cp->drain.cur.h;
	uint64_t v;

	if (h == NULL || t >= CP_RT_N)
		return -1;
	v = atomic_load_explicit(&h->tables.version[tver[t]], memory_order_acquire);
	return v > INT64_MAX ? INT64_MAX : (int64_t)v;
}

static json_t *cp_tables_row(struct cp *cp, uint32_t t)
{
	int64_t ver = cp_tables_version(cp, t);
	const struct cp_reload_tab *rt = &cp->reload.tab[t];
	json_t *row, *hist = json_array();

	for (uint32_t i = 0; i < CP_RELOAD_HISTORY; i++)
		if (rt->hist[i].id != 0)
			json_array_append_new(hist, cp_reload_req_json(&rt->hist[i]));
	row = json_pack("{s:s, s:o, s:s, s:s, s:o, s:o, s:o, s:o}",
		"table", cp_reload_table_name(t), "files", cp_tables_files(&cp->conf, t),
		"where", "dataplane",
		"state", rt->hist[0].id ? cp_reload_state_name(rt->hist[0].state) : "not reloaded",
		"request", rt->hist[0].id ? cp_reload_req_json(&rt->hist[0]) : json_null(),
		"requests", hist,
		"last_loaded", rt->loaded.id ? cp_reload_req_json(&rt->loaded) : json_null(),
		"last_refused", rt->refused.id ? cp_reload_req_json(&rt->refused) : json_null());
	if (t == CP_RT_SCANNER || t == CP_RT_RESIP)
		json_object_set_new(row, "path", json_string(t == CP_RT_SCANNER ?
			cp->conf.scanner_file : cp->conf.resip_table));
	/* issue 15: the dataplane's version of the table (null: no dataplane attached) */
	json_object_set_new(row, "version", ver < 0 ? json_null() : json_integer(ver));
	cp_analyses_tables_status(cp, cp_reload_table_name(t), row);
	return row;
}

void cp_cmd_tables_status(struct cp *cp, json_t *args, struct cp_reply *r)
{
	json_t *a = json_array();

	(void)args;
	for (uint32_t t = 0; t < CP_RT_N; t++)
		json_array_append_new(a, cp_tables_row(cp, t));
	r->data = a;
}
