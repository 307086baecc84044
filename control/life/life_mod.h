/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * life_mod.h — the lifetime analysis (SPEC.md C) inside the control plane, shared by its
 * files: life_mod.c (consumer of the exchange's SRC and EVENT records into lifetime.c,
 * snapshot section CP_SNAP_S_LIFETIME, report writer "lifetime": Table 1, Figs 1-8, the
 * ops table cp_analysis_life), cmd_life.c (the life.* commands) and cmd_rules.c (the
 * control plane's copy of the payload rules, rules.*).  Main loop only.
 *
 * What goes in: every SRC record not flagged OBX_SRC_F_EXCLUDED (first/last, packets,
 * sensors of its (source, hour)) and every EVENT record (its type, sensor, category and
 * time range, events 0 so packets are not counted twice), and every RESP record of the
 * responder (SPEC C refinement: a completed handshake adds the type tcp-session/PORT,
 * a payload rule match on it the rule's sid, both with events 0).  Excluded sources are skipped
 * and counted (excluded_records); malformed records (first > last, hour not matching
 * first) are skipped and counted (bad_records).  Merge order does not matter
 * (lifetime.h), so journal replay after a snapshot reproduces the state exactly.
 */
#ifndef OBSCURA_CP_LIFE_MOD_H
#define OBSCURA_CP_LIFE_MOD_H

#include <jansson.h>

#include "commands.h"
#include "conf.h"
#include "lifetime.h"

/* The analysis' snapshot section (snapshot.h: the analyses' numbers). */
#define CP_SNAP_S_LIFETIME 18

struct cp_life_mod {
	struct cp *cp;
	struct cp_life_conf lc;
	struct cp_life *life;
	struct cp_geo *geo;             /* enrich.city_mmdb, owned; NULL: countries "--" */
	/* consumer counters (this run) */
	uint64_t src_records, excluded_records, event_records, bad_records, nomem;
};

extern struct cp_life_mod cp_life_mod;

/* The ops table (analysis.h) this folder registers through. */
struct cp_analysis;
extern const struct cp_analysis cp_analysis_life;

struct cp_life *cp_life_module_table(void);   /* tests */

/* ---- cmd_rules.c: the control plane's copy of rules.files ---- */

/* (Re)read the copy; a bad file keeps the old one.  0 or -EINVAL (cp_life_rules_error()
 * says why). */
int cp_life_rules_load(const struct obs_conf *c);
void cp_life_rules_free(void);
const char *cp_life_rules_error(void);
/* responder (issue 13): a rule's category by sid (0, Scan, when the copy lacks it). */
unsigned cp_life_rule_category(uint32_t sid);
/* An event type as life.show prints it: name, and the rule's msg and category. */
json_t *cp_life_type_json(uint32_t type);

/* ---- the commands: life.* (cmd_life.c), rules.* (cmd_rules.c) in one table ---- */

extern const struct cp_cmd cp_life_commands[];

void cp_cmd_rules_status(struct cp *cp, json_t *args, struct cp_reply *r);
void cp_cmd_rules_reload(struct cp *cp, json_t *args, struct cp_reply *r);

/* One source's lifetime as life.show answers it, or NULL when the table lacks it. */
json_t *cp_life_src_json(struct cp *cp, uint32_t addr);

#endif
