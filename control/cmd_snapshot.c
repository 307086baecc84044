/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cmd_snapshot.c — `snapshot.now` (admin): write the period store to disk and drop the
 * journal it covers.  The file is written by a child process (persist.c, jobs.h); the
 * reply comes once it is durable, and the loop serves everyone else meanwhile.
 */
#include "commands.h"

void cp_cmd_snapshot_now(struct cp *cp, json_t *args, struct cp_reply *r)
{
	(void)args;
	cp_snapshot_start(cp, r);
}
