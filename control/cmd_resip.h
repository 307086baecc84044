/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cmd_resip.h — the RESIP module of the control plane (SPEC.md B): SRC (RESIP-flagged)
 * and RESIP_PORT consumers into control/resip.c, its snapshot section (CP_SNAP_S_RESIP),
 * the control plane's copy of the RESIP table (resip.table, re-read when the file
 * changes; a bad file keeps the old copy and its error is shown), the B3 geography
 * (control/resip_geo.c with enrich.*), the report writer ("resip": Tables 3-8, A.1 as
 * CSV + Markdown, Figures 4-6 as SVG) and the `resip.*` / `tables.status` commands.
 * Main loop only.
 */
#ifndef OBSCURA_CP_CMD_RESIP_H
#define OBSCURA_CP_CMD_RESIP_H

#include <jansson.h>

#include "commands.h"

int cp_resip_module_init(struct cp *cp);
void cp_resip_module_fini(void);

extern const struct cp_arg cp_args_resip_range[];
extern const struct cp_arg cp_args_resip_top[];
extern const struct cp_arg cp_args_resip_ports[];
extern const struct cp_arg cp_args_resip_geo[];
extern const struct cp_arg cp_args_resip_mismatch[];

void cp_cmd_resip_summary(struct cp *cp, json_t *args, struct cp_reply *r);
void cp_cmd_resip_daily(struct cp *cp, json_t *args, struct cp_reply *r);
void cp_cmd_resip_top(struct cp *cp, json_t *args, struct cp_reply *r);
void cp_cmd_resip_ports(struct cp *cp, json_t *args, struct cp_reply *r);
void cp_cmd_resip_geo(struct cp *cp, json_t *args, struct cp_reply *r);
void cp_cmd_resip_mismatch(struct cp *cp, json_t *args, struct cp_reply *r);
void cp_cmd_tables_status(struct cp *cp, json_t *args, struct cp_reply *r);

#endif
