/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * reload.h — the control plane's side of the dataplane's table reloads (`tables
 * reload`, `rules reload`) through the exchange's command mailbox (cmdbox.h), without
 * ever waiting for the dataplane.
 *
 * A request is queued with an id (cp_reload_queue) and the caller returns at once;
 * cp_reload_poll(), called by the main loop every turn, posts the head of the queue when
 * the mailbox is free, follows it (in progress once the dataplane picked it up: run_seq),
 * and records its outcome when done_seq reaches it: loaded (the dataplane's message, with
 * what it loaded), refused (its reason; the old table stays), or unanswered (the
 * dataplane restarted or left before answering).  A table has at most one request
 * waiting to be posted: asking again before it is posted joins it (same id).  Each table
 * keeps its last few requests and its last loaded and last refused ones, for `tables
 * status`.  A table loaded calls cp_analyses_table_loaded(), so an analysis' own copy
 * of the table can follow.
 *
 * Main loop only (single-threaded).
 */
#ifndef OBSCURA_CP_RELOAD_H
#define OBSCURA_CP_RELOAD_H

#include <stdbool.h>
#include <stdint.h>

#include "exchange.h"

struct cp;
struct cp_drain;

enum cp_reload_table { CP_RT_SCANNER = 0, CP_RT_EXCLUDE, CP_RT_RESIP, CP_RT_RULES,
	CP_RT_FP,   /* fingerprint (issue 14) */
	CP_RT_N };
#define CP_RT_NAMES { "scanner", "exclude", "resip", "rules", "fingerprints" }

enum cp_reload_state {
	CP_RS_QUEUED = 0,    /* waiting for the mailbox */
	CP_RS_POSTED,        /* in the mailbox, not picked up yet */
	CP_RS_RUNNING,       /* the dataplane is rebuilding the table */
	CP_RS_LOADED,        /* swapped in */
	CP_RS_REFUSED,       /* refused, the old table kept */
	CP_RS_UNANSWERED,    /* the dataplane restarted or left before answering */
	CP_RS_N
};
#define CP_RS_NAMES { "queued", "posted", "in progress", "loaded", "refused", "unanswered" }

struct cp_reload_req {
	uint64_t id;                  /* > 0, unique in this control plane run */
	uint32_t table;               /* enum cp_reload_table */
	uint32_t state;               /* enum cp_reload_state */
	uint64_t queued_wall_ns, posted_wall_ns, started_wall_ns, done_wall_ns;
	uint64_t seq;                 /* the mailbox request number, once posted */
	int32_t  result;              /* the dataplane's 0 or -errno, once done */
	char     msg[OBX_CMD_MSG_LEN];
};

#define CP_RELOAD_HISTORY 4      /* requests per table kept for `tables status` */

struct cp_reload_tab {
	struct cp_reload_req hist[CP_RELOAD_HISTORY];   /* newest first; id 0 = unused */
	struct cp_reload_req loaded, refused;           /* the last of each (id 0: none) */
	uint64_t n_outcomes[CP_RS_N];                   /* requests ended per final state,
	                                                 * this run (/metrics) */
};

struct cp_reload {
	uint64_t next_id;
	/* requests not answered yet, in posting order: ids, details in tab[].hist */
	uint64_t queue[2 * CP_RT_N];
	uint32_t n_queue;
	bool posted;                  /* queue[0] is in the mailbox */
	const struct obx_header *h;   /* the mapping it was posted to */
	uint64_t boot_id;
	struct cp_reload_tab tab[CP_RT_N];
};

const char *cp_reload_table_name(uint32_t table);
const char *cp_reload_state_name(uint32_t state);
/* 0..CP_RT_N-1 for a table's name, -1 for another word. */
int cp_reload_table_parse(const char *name);

/* Queue a reload of table; *id gets its request id (an existing unposted request of the
 * table is joined).  Posts at once when the mailbox is free.  0, or -EAGAIN (the queue
 * is full: cannot happen with at most two requests a table), -ENODEV (no running
 * dataplane attached). */
int cp_reload_queue(struct cp *cp, uint32_t table, uint64_t *id);

/* One main-loop turn: outcomes, unanswered requests, the next post. */
void cp_reload_poll(struct cp *cp);

/* The request of that id (NULL: unknown or dropped from the history). */
const struct cp_reload_req *cp_reload_find(const struct cp_reload *rl, uint64_t id);

#endif
