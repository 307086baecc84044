/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * life_tables.c — build and swap the rules and exclusion tables (life_tables.h).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "exclude.h"
#include "life_tables.h"
#include "log.h"
#include "rules.h"
#include "tables.h"
#include "xchg.h"

_Static_assert(OBS_REJ_N <= OBX_RULES_REJ_MAX, "exchange.h rules status: rejected[] too small");

static struct {
	uint32_t n_workers;
	uint32_t n_rules, n_excl;
	char rules[OBS_CONF_MAX_FILES][OBS_CONF_STR];
	char excl[OBS_CONF_MAX_FILES][OBS_CONF_STR];
	unsigned n_logged;
	struct obx_header *h;           /* the rules status goes here (NULL: not reported) */
	struct obx_rules_status st;     /* what was last published */
} L;

void obs_life_tables_conf(const struct obs_conf *c, uint32_t n_workers, struct obx_header *h)
{
	L.h = h;
	memset(&L.st, 0, sizeof(L.st));
	L.n_workers = n_workers;
	L.n_rules = c->n_rules_files;
	L.n_excl = c->n_exclude_files;
	memcpy(L.rules, c->rules_files, sizeof(L.rules));
	memcpy(L.excl, c->exclude_files, sizeof(L.excl));
}

static void obs_life_rule_log(void *arg, const char *file, unsigned line, const char *reason)
{
	(void)arg;
	(void)file;
	(void)line;
	if (L.n_logged++ < 20)
		OBS_INFO("rules: rejected %s", reason);
}

/* The database now in use (st: its counts; NULL: no rules configured, an empty one). */
static void obs_life_rules_built(const struct obs_rules_stats *st)
{
	memset(&L.st, 0, sizeof(L.st));
	L.st.loaded = 1;
	L.st.built_wall_ns = obs_wall_ns();
	if (st != NULL) {
		L.st.n_files = st->n_files;
		L.st.n_lines = st->n_lines;
		L.st.n_accepted = st->n_accepted;
		L.st.n_rejected = st->n_rejected;
		L.st.n_commented = st->n_commented;
		L.st.n_patterns = st->n_patterns;
		memcpy(L.st.rejected, st->rejected, sizeof(st->rejected));
		L.st.db_bytes = st->db_bytes;
		L.st.scratch_bytes = st->scratch_bytes;
	}
	if (L.h != NULL)
		obx_rules_status_publish(L.h, &L.st);
}

/* A reload refused: the database in use (and its counts) stays. */
static void obs_life_rules_refused(const char *why)
{
	L.st.refused_wall_ns = obs_wall_ns();
	snprintf(L.st.error, sizeof(L.st.error), "%s", why);
	if (L.h != NULL)
		obx_rules_status_publish(L.h, &L.st);
}

int obs_life_reload_rules(char *msg, size_t msglen)
{
	struct obs_rules_src src[OBS_CONF_MAX_FILES];
	struct obs_rules *r;
	struct obs_rules_set *set;
	const struct obs_rules_stats *st;
	char err[512];

	if (L.n_rules == 0) {
		obs_tables_swap(OBS_TABLE_RULES, NULL, obs_rules_set_free);
		obs_life_rules_built(NULL);
		snprintf(msg, msglen, "rules: none configured (rules.files)");
		return 0;
	}
	for (uint32_t i = 0; i < L.n_rules; i++) {
		src[i].name = L.rules[i];
		src[i].text = NULL;
	}
	L.n_logged = 0;
	r = obs_rules_load(src, L.n_rules, obs_life_rule_log, NULL, err, sizeof(err));
	if (r == NULL) {
		snprintf(msg, msglen, "rules not replaced: %s", err);
		OBS_WARN("%s", msg);
		obs_life_rules_refused(msg);
		return -EINVAL;
	}
	st = obs_rules_stats(r);
	snprintf(msg, msglen, "rules: %u accepted, %u rejected, %u commented, %u patterns, "
	         "database %llu bytes", st->n_accepted, st->n_rejected, st->n_commented,
	         st->n_patterns, (unsigned long long)st->db_bytes);
	set = obs_rules_set_new(r, L.n_workers, err, sizeof(err));
	if (set == NULL) {
		snprintf(msg, msglen, "rules not replaced: %s", err);
		OBS_WARN("%s", msg);
		obs_life_rules_refused(msg);
		return -ENOMEM;
	}
	obs_life_rules_built(obs_rules_stats(set->rules));
	obs_tables_swap(OBS_TABLE_RULES, set, obs_rules_set_free);
	OBS_NOTICE("%s", msg);
	return 0;
}

int obs_life_reload_exclude(char *msg, size_t msglen)
{
	const char *paths[OBS_CONF_MAX_FILES];
	struct obs_exclude_tab *t;
	char err[512];

	if (L.n_excl == 0) {
		obs_tables_swap(OBS_TABLE_EXCLUDE, NULL, obs_exclude_free);
		snprintf(msg, msglen, "exclude: none configured (exclude.files)");
		return 0;
	}
	for (uint32_t i = 0; i < L.n_excl; i++)
		paths[i] = L.excl[i];
	t = obs_exclude_build(paths, L.n_excl, err, sizeof(err));
	if (t == NULL) {
		snprintf(msg, msglen, "%s", err);
		OBS_WARN("exclusion lists not replaced: %s", err);
		return -EINVAL;
	}
	snprintf(msg, msglen, "exclude: %u files, %llu prefixes, %llu IPv6 lines skipped",
	         t->n_files, (unsigned long long)t->n_prefixes, (unsigned long long)t->n_skipped);
	obs_tables_swap(OBS_TABLE_EXCLUDE, t, obs_exclude_free);
	OBS_NOTICE("%s", msg);
	return 0;
}
