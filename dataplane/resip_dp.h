/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * resip_dp.h — the dataplane's RESIP table (SPEC.md B) at start and on reload: read
 * resip.table with resip_load() (CSV or MaxMind MMDB, chosen by content), build the
 * one-line bucket table (resip_table.h) with resip.window_check, and publish it with
 * obs_tables_swap(OBS_TABLE_RESIP, ...) (tables.h: RCU, capture never stops, a packet is
 * classified against exactly one table).  cmd.c calls these at start and on
 * `tables reload [resip]` / SIGHUP.  Main lcore only.
 *
 * Policy: no file configured (resip.table "") = no table (nothing is RESIP traffic).  A
 * file that cannot be loaded (missing, malformed line, corrupt MMDB, empty) stops startup;
 * on reload it is refused with the loader's reason and the old table stays.
 */
#ifndef OBSCURA_RESIP_DP_H
#define OBSCURA_RESIP_DP_H

#include <stddef.h>

#include "conf.h"

void obs_resip_dp_conf(const struct obs_conf *c);

/* Reload from path ("" or NULL: the configured resip.table).  0 (msg: what was loaded)
 * or -errno (msg: why; the old table stays). */
int obs_resip_reload(const char *path, char *msg, size_t msglen);

#endif
