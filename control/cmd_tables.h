/* SPDX-License-Identifier: BSD-3-Clause */
/* cmd_tables.h — `tables.reload` (cmd_tables.c).  Main loop only. */
#ifndef OBSCURA_CP_CMD_TABLES_H
#define OBSCURA_CP_CMD_TABLES_H

#include "commands.h"

extern const struct cp_arg cp_args_tables_reload[];
void cp_cmd_tables_reload(struct cp *cp, json_t *args, struct cp_reply *r);
void cp_cmd_tables_status(struct cp *cp, json_t *args, struct cp_reply *r);

#endif
