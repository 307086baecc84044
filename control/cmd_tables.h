/* SPDX-License-Identifier: BSD-3-Clause */
/* cmd_tables.h — `tables.reload`, `tables.status` (cmd_tables.c).  Main loop only. */
#ifndef OBSCURA_CP_CMD_TABLES_H
#define OBSCURA_CP_CMD_TABLES_H

#include "commands.h"
#include "reload.h"

extern const struct cp_arg cp_args_tables_reload[];
void cp_cmd_tables_reload(struct cp *cp, json_t *args, struct cp_reply *r);
void cp_cmd_tables_status(struct cp *cp, json_t *args, struct cp_reply *r);

/* The files configured for table t (enum cp_reload_table): how many. */
uint32_t cp_tables_n_files(const struct obs_conf *c, uint32_t t);

/* The attached dataplane's version of table t (exchange.h struct obx_table_versions: 1
 * at its start, +1 per accepted reload, 0 none in use); -1 while none is attached. */
int64_t cp_tables_version(const struct cp *cp, uint32_t t);

/* One reload request as the replies and `tables status` show it. */
json_t *cp_reload_req_json(const struct cp_reload_req *q);

#endif
