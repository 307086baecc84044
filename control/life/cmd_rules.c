/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cmd_rules.c — the control plane's copy of the payload rules (rules.files): what
 * `rules.status` shows and what names an event type's rule in `life.show` (sid -> msg,
 * category); `rules.reload` re-reads it and asks the dataplane to swap its database
 * (a reload request, reload.h).  Main loop only.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd_tables.h"
#include "exchange_recs.h"
#include "json.h"
#include "life_mod.h"
#include "rules_parse.h"

#define CP_LIFE_MAX_REJ_KEPT 200

/* The copy and what its last load said: the control plane's own parse of rules.files (no
 * Hyperscan): sid -> msg and category, and the rejection reasons; the counts are the
 * dataplane's. */
static struct cp_rules_copy {
	struct obs_rule_list *rules;
	char rules_err[512];
	uint32_t n_rej_kept;
	char *rej[CP_LIFE_MAX_REJ_KEPT];
} M;

static void rules_log(void *arg, const char *file, unsigned line, const char *reason)
{
	(void)arg;
	(void)file;
	(void)line;
	if (M.n_rej_kept < CP_LIFE_MAX_REJ_KEPT)
		M.rej[M.n_rej_kept++] = strdup(reason);
}

int cp_life_rules_load(const struct obs_conf *c)
{
	struct obs_rules_src src[OBS_CONF_MAX_FILES];
	struct obs_rule_list *r;
	char err[512];

	for (uint32_t i = 0; i < M.n_rej_kept; i++)
		free(M.rej[i]);
	M.n_rej_kept = 0;
	for (uint32_t i = 0; i < c->n_rules_files; i++) {
		src[i].name = c->rules_files[i];
		src[i].text = NULL;
	}
	r = obs_rules_parse(src, c->n_rules_files, rules_log, NULL, err, sizeof(err));
	if (r == NULL) {
		snprintf(M.rules_err, sizeof(M.rules_err), "%s", err);
		return -EINVAL;      /* the old copy stays */
	}
	obs_rule_list_drop_rx(r);    /* only the rules' descriptions are used here */
	obs_rule_list_free(M.rules);
	M.rules = r;
	M.rules_err[0] = 0;
	return 0;
}


void cp_life_rules_free(void)
{
	obs_rule_list_free(M.rules);
	for (uint32_t i = 0; i < M.n_rej_kept; i++)
		free(M.rej[i]);
	memset(&M, 0, sizeof(M));
}

const char *cp_life_rules_error(void)
{
	return M.rules_err;
}

/* responder (issue 13): the category of a rule's sid in the copy, 0 (Scan) when unknown */
unsigned cp_life_rule_category(uint32_t sid)
{
	int k;

	if (M.rules == NULL || (k = obs_rule_list_find_sid(M.rules, sid)) < 0)
		return 0;
	return obs_rule_list_info(M.rules, (uint32_t)k)->category;
}

json_t *cp_life_type_json(uint32_t t)
{
	char name[48];
	int k;

	obs_ev_name(t, name, sizeof(name));
	if (!obs_ev_is_class(t) && M.rules && (k = obs_rule_list_find_sid(M.rules, t)) >= 0) {
		const struct obs_rule_info *ri = obs_rule_list_info(M.rules, (uint32_t)k);

		return json_pack("{s:s, s:s, s:s}", "type", name, "msg", ri->msg, "category",
		                 obs_cat_name(ri->category));
	}
	return json_pack("{s:s, s:s}", "type", name, "category",
	                 obs_ev_is_class(t) ? "Scan" : "?");
}


/*
 * rules.status: the dataplane's database, as it reports it in the exchange header
 * (exchange.h, struct obx_rules_status; the control plane links no Hyperscan), and the
 * rejection reasons from the control plane's own parse of the same files.
 */
void cp_cmd_rules_status(struct cp *cp, json_t *args, struct cp_reply *r)
{
	const struct obx_header *h = cp->drain.cur.h;
	json_t *files = json_array(), *rej, *by, *refused;
	struct obx_rules_status st;
	const char *why = NULL;
	int rc = -ENODATA;

	(void)args;
	for (uint32_t i = 0; i < cp->conf.n_rules_files; i++)
		json_array_append_new(files, json_string(cp->conf.rules_files[i]));
	if (h == NULL)
		why = "no dataplane attached: the rules in use are the dataplane's";
	else if ((rc = obx_rules_status_read(h, &st)) == -ENODATA)
		why = "the dataplane has not reported its rules yet";
	else if (rc != 0)
		why = "the dataplane is replacing its rules; ask again";
	else if (!st.loaded)
		why = st.error[0] ? st.error : "the dataplane has no rules database";
	if (why != NULL) {
		r->data = json_pack("{s:o, s:b, s:s}", "files", files, "loaded", 0, "error", why);
		return;
	}
	rej = json_array();
	by = json_object();
	for (unsigned k = 0; k < OBS_REJ_N; k++)
		json_object_set_new(by, obs_rules_rej_name(k), cp_json_u64(st.rejected[k]));
	for (uint32_t i = 0; i < M.n_rej_kept; i++)
		if (M.rej[i])
			json_array_append_new(rej, json_string(M.rej[i]));
	refused = st.refused_wall_ns == 0 ? json_null() :
		json_pack("{s:o, s:s}", "at", cp_json_time(st.refused_wall_ns), "error", st.error);
	r->data = json_pack("{s:o, s:b, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:s, "
	                    "s:o}",
		"files", files, "loaded", 1, "loaded_at", cp_json_time(st.built_wall_ns),
		"lines", cp_json_u64(st.n_lines), "accepted", cp_json_u64(st.n_accepted),
		"rejected", cp_json_u64(st.n_rejected), "commented", cp_json_u64(st.n_commented),
		"patterns", cp_json_u64(st.n_patterns), "db_bytes", cp_json_u64(st.db_bytes),
		"rejected_by_reason", by, "rejections", rej,
		"scratch_bytes", cp_json_u64(st.scratch_bytes),
		"note", "counts: the dataplane's database (exchange header); rejections: the "
		        "control plane's parse of rules.files (a rule Hyperscan refuses is in the "
		        "dataplane's log and its pcre count)",
		"last_refused", refused);
}


/* The copy is re-read here (a bad file is refused at once, the old copy kept); the
 * dataplane's database is a reload request like `tables reload rules` (reload.h): posted,
 * answered in the background, its outcome in `tables status`. */
void cp_cmd_rules_reload(struct cp *cp, json_t *args, struct cp_reply *r)
{
	uint64_t id;
	int rc;

	(void)args;
	if (cp_life_rules_load(&cp->conf) != 0) {
		cp_reply_err(r, CP_E_BAD_ARGS, "rules not reloaded: %s", M.rules_err);
		return;
	}
	rc = cp_reload_queue(cp, CP_RT_RULES, &id);
	if (rc != 0) {
		cp_reply_err(r, rc == -ENODEV ? CP_E_UNAVAILABLE : CP_E_BUSY, "control plane copy "
		             "reloaded; dataplane: %s", rc == -ENODEV ?
		             "no running dataplane attached" : "too many reloads waiting");
		return;
	}
	r->data = json_pack("{s:s, s:o, s:s}", "control_plane", "reloaded", "dataplane",
	                    cp_reload_req_json(cp_reload_find(&cp->reload, id)), "outcome",
	                    "`tables status` shows the dataplane's answer (table rules)");
}
