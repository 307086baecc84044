/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cmd_life.h — the lifetime module of the control plane (SPEC.md C): consumer of the
 * exchange's SRC and EVENT records into control/lifetime.c, its snapshot section
 * (CP_SNAP_S_LIFETIME), its report writer ("lifetime": Table 1, Figs 1-8) and the
 * `life.*` / `rules.*` commands.  Main loop only.
 *
 * What goes in: every SRC record not flagged OBX_SRC_F_EXCLUDED (first/last, packets,
 * sensors of its (source, hour)) and every EVENT record (its type, sensor, category and
 * time range, events 0 so packets are not counted twice).  Excluded sources are skipped
 * and counted (excluded_records); malformed records (first > last, hour not matching
 * first) are skipped and counted (bad_records).  Merge order does not matter
 * (lifetime.h), so journal replay after a snapshot reproduces the state exactly.
 */
#ifndef OBSCURA_CP_CMD_LIFE_H
#define OBSCURA_CP_CMD_LIFE_H

#include <jansson.h>

#include "commands.h"
#include "lifetime.h"

/* Register the consumers, snapshot section and report (before cp_restore()), load the
 * rule files for `rules.status`.  0 or -errno (logged). */
int cp_life_module_init(struct cp *cp);
void cp_life_module_fini(void);
struct cp_life *cp_life_module_table(void);   /* tests */

extern const struct cp_arg cp_args_life_cdf[];
extern const struct cp_arg cp_args_life_continuity[];
extern const struct cp_arg cp_args_life_show[];

void cp_cmd_life_summary(struct cp *cp, json_t *args, struct cp_reply *r);
void cp_cmd_life_cdf(struct cp *cp, json_t *args, struct cp_reply *r);
void cp_cmd_life_sensors(struct cp *cp, json_t *args, struct cp_reply *r);
void cp_cmd_life_countries(struct cp *cp, json_t *args, struct cp_reply *r);
void cp_cmd_life_categories(struct cp *cp, json_t *args, struct cp_reply *r);
void cp_cmd_life_continuity(struct cp *cp, json_t *args, struct cp_reply *r);
void cp_cmd_life_show(struct cp *cp, json_t *args, struct cp_reply *r);
void cp_cmd_rules_status(struct cp *cp, json_t *args, struct cp_reply *r);
void cp_cmd_rules_reload(struct cp *cp, json_t *args, struct cp_reply *r);

#endif
