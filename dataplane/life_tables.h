/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * life_tables.h — the SPEC.md C read-mostly tables of the dataplane: the payload rules
 * (rules.files -> struct obs_rules_set, OBS_TABLE_RULES) and the exclusion lists
 * (exclude.files -> struct obs_exclude_tab, OBS_TABLE_EXCLUDE), built on the main lcore
 * and swapped in under RCU through tables.h.  cmd.c calls these at start and on a
 * `tables reload rules|exclude` / SIGHUP.  Main lcore only.
 *
 * Policy: at start a file that cannot be read stops startup (cmd.c); on reload it is
 * refused and the old table stays.  Every rules build, refused or not, is reported in the
 * exchange header's rules status (exchange.h), which the control plane's `rules status`
 * reads.  Rules that the loader rejects are not an error: they
 * are logged (first 20) and counted, the others load.  No files configured: no table
 * (nothing scanned / nothing excluded).
 */
#ifndef OBSCURA_LIFE_TABLES_H
#define OBSCURA_LIFE_TABLES_H

#include <stddef.h>
#include <stdint.h>

#include "conf.h"

/* Keep the file lists and the worker count for later reloads; h (may be NULL: tools)
 * gets the rules status. */
void obs_life_tables_conf(const struct obs_conf *c, uint32_t n_workers, struct obx_header *h);

/* 0 (msg: what was loaded) or -errno (msg: why; the old table stays). */
int obs_life_reload_rules(char *msg, size_t msglen);
int obs_life_reload_exclude(char *msg, size_t msglen);

#endif
