/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cmd_tables.c — `tables.reload [TABLE]`: ask the dataplane's main lcore, through the
 * exchange's command mailbox (dataplane/cmdbox.h), to rebuild a read-mostly table from
 * its file and swap it in under RCU (capture never stops).  Waits at most
 * CP_TABLES_WAIT_MS for the answer; a bad file is refused by the dataplane, which keeps
 * the old table, and the reason comes back here as the error message.
 *
 * Main loop only.  The wait blocks the loop's socket service (bounded), but it keeps
 * draining: in --replay the dataplane's main lcore is also the pcap reader, and it can only
 * reach its mailbox once the workers it feeds have room — which they get when we drain.
 * Waiting without draining deadlocked the two until the timeout.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "analysis.h"
#include "cmd_tables.h"
#include "cp_log.h"
#include "commands.h"
#include "drain.h"

#define CP_TABLES_WAIT_MS 10000u

/* One step of the wait: drain what is ready, sleep 1 ms.  Returns false if the exchange
 * mapping changed meanwhile (dataplane restart): h must not be used any more. */
static bool cp_tables_wait_step(struct cp *cp, const struct obx_header *h)
{
	cp_drain_poll(&cp->drain, cp_mono_ns());
	if (cp->drain.cur.h != h)
		return false;
	nanosleep(&(struct timespec){ 0, 1000000 }, NULL);
	return true;
}

const struct cp_arg cp_args_tables_reload[] = {
	{ "table", CP_ARG_STR, false, 0, 32, "scanner, exclude, resip, rules or all (default: all)", false },
	{ NULL, CP_ARG_STR, false, 0, 0, NULL, false }
};

void cp_cmd_tables_reload(struct cp *cp, json_t *args, struct cp_reply *r)
{
	json_t *jt = json_object_get(args, "table");
	const char *table = jt && json_is_string(jt) ? json_string_value(jt) : "";
	struct obx_header *h = cp->drain.cur.h;
	struct obx_cmd_box *b;
	uint64_t seq, t0 = cp_mono_ns();

	if (h == NULL || atomic_load(&h->dp_state) != OBX_DP_RUNNING) {
		cp_reply_err(r, CP_E_UNAVAILABLE, "no running dataplane attached");
		return;
	}
	if (strlen(table) >= OBX_CMD_ARG_LEN) {
		cp_reply_err(r, CP_E_BAD_ARGS, "table name too long");
		return;
	}
	b = &h->cmd;
	seq = atomic_load_explicit(&b->req_seq, memory_order_acquire);
	if (atomic_load_explicit(&b->done_seq, memory_order_acquire) != seq) {
		/* an earlier request timed out here; give the dataplane a moment to finish it */
		while (atomic_load_explicit(&b->done_seq, memory_order_acquire) != seq) {
			if (cp_mono_ns() - t0 > (uint64_t)CP_TABLES_WAIT_MS * 1000000ull) {
				cp_reply_err(r, CP_E_BUSY, "the dataplane has not answered an earlier "
				             "request yet");
				return;
			}
			if (!cp_tables_wait_step(cp, h)) {
				cp_reply_err(r, CP_E_UNAVAILABLE, "the dataplane restarted; try again");
				return;
			}
		}
	}
	b->cmd = OBX_CMD_TABLES_RELOAD;
	memset(b->arg, 0, sizeof(b->arg));
	snprintf(b->arg, sizeof(b->arg), "%s", table);
	atomic_store_explicit(&b->req_seq, seq + 1, memory_order_release);
	while (atomic_load_explicit(&b->done_seq, memory_order_acquire) != seq + 1) {
		if (cp_mono_ns() - t0 > (uint64_t)CP_TABLES_WAIT_MS * 1000000ull) {
			cp_reply_err(r, CP_E_UNAVAILABLE, "the dataplane did not answer within %u ms",
			             CP_TABLES_WAIT_MS);
			return;
		}
		if (!cp_tables_wait_step(cp, h)) {
			cp_reply_err(r, CP_E_UNAVAILABLE, "the dataplane restarted before answering");
			return;
		}
	}
	char msg[OBX_CMD_MSG_LEN];
	memcpy(msg, b->msg, sizeof(msg));
	msg[sizeof(msg) - 1] = '\0';
	if (b->result != 0) {
		cp_reply_err(r, CP_E_BAD_ARGS, "%s", msg);
		return;
	}
	/* the analyses' own copies follow */
	cp_analyses_table_loaded(cp, "scanner");
	r->data = json_pack("{s:s, s:f}", "result", msg, "ms", (cp_mono_ns() - t0) / 1e6);
}

void cp_cmd_tables_status(struct cp *cp, json_t *args, struct cp_reply *r)
{
	json_t *a = json_array(), *t;

	(void)args;
	t = json_pack("{s:s, s:s, s:s}", "table", "scanner", "path", cp->conf.scanner_file,
	              "where", "dataplane");
	cp_analyses_tables_status(cp, "scanner", t);
	json_array_append_new(a, t);
	t = json_pack("{s:s}", "table", "resip");
	cp_analyses_tables_status(cp, "resip", t);
	json_array_append_new(a, t);
	r->data = a;
}
