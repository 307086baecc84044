/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cmd_snapshot.c — `snapshot.now` (admin): write the period store to disk now and
 * truncate the journal.  Main loop only; the snapshot is synchronous, as the periodic one.
 */
#include "commands.h"
#include "json.h"

void cp_cmd_snapshot_now(struct cp *cp, json_t *args, struct cp_reply *r)
{
	int ret = cp_snapshot_now(cp);

	if (ret != 0) {
		cp_reply_err(r, CP_E_INTERNAL, "snapshot failed: %s", cp->persist.last_error);
		return;
	}
	r->data = json_pack("{s:s, s:o, s:I, s:I}", "path", cp->persist.snapshot_path,
	                    "written", cp_json_time(cp->persist.last_write_wall_ns),
	                    "epochs", (json_int_t)cp->store.epochs,
	                    "sources", (json_int_t)cp->store.src.n);
}
