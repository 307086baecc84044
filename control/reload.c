/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * reload.c — table reload requests through the command mailbox, posted and followed
 * from the main loop, never waited for (reload.h, cmdbox.h).
 *
 * Why nothing waits: the dataplane's main lcore rebuilds a table synchronously (a
 * production RESIP table is millions of rows: seconds), and in --replay that lcore is
 * also the pcap reader, which only reaches its mailbox once the workers it feeds have
 * room — which they get when we drain.  So the control plane posts, goes back to its
 * loop (draining, serving every client), and reads the outcome when it is there.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "analysis.h"
#include "cp_log.h"
#include "reload.h"

static const char *const cp_rt_names[CP_RT_N] = CP_RT_NAMES;
static const char *const cp_rs_names[CP_RS_N] = CP_RS_NAMES;

const char *cp_reload_table_name(uint32_t table)
{
	return table < CP_RT_N ? cp_rt_names[table] : "?";
}

const char *cp_reload_state_name(uint32_t state)
{
	return state < CP_RS_N ? cp_rs_names[state] : "?";
}

int cp_reload_table_parse(const char *name)
{
	for (int t = 0; t < CP_RT_N; t++)
		if (strcmp(name, cp_rt_names[t]) == 0)
			return t;
	return -1;
}

static struct cp_reload_req *cp_rl_find(struct cp_reload *rl, uint64_t id)
{
	for (uint32_t t = 0; t < CP_RT_N; t++)
		for (uint32_t i = 0; i < CP_RELOAD_HISTORY; i++)
			if (id != 0 && rl->tab[t].hist[i].id == id)
				return &rl->tab[t].hist[i];
	return NULL;
}

const struct cp_reload_req *cp_reload_find(const struct cp_reload *rl, uint64_t id)
{
	return cp_rl_find((struct cp_reload *)rl, id);
}

static bool cp_rl_dp_running(const struct obx_header *h)
{
	return h != NULL &&
	       atomic_load_explicit(&h->dp_state, memory_order_acquire) == OBX_DP_RUNNING;
}

/* The answered head of the queue goes; the one after it may be posted next. */
static void cp_rl_pop(struct cp_reload *rl)
{
	memmove(&rl->queue[0], &rl->queue[1], (rl->n_queue - 1) * sizeof(rl->queue[0]));
	rl->n_queue--;
	rl->posted = false;
	rl->h = NULL;
}

/* Record an outcome; a loaded table lets the analyses' copies follow. */
static void cp_rl_done(struct cp *cp, struct cp_reload_req *q, uint32_t state, int result,
                       const char *msg)
{
	struct cp_reload_tab *t = &cp->reload.tab[q->table];

	q->state = state;
	q->result = result;
	q->done_wall_ns = cp_wall_ns();
	snprintf(q->msg, sizeof(q->msg), "%s", msg);
	t->n_outcomes[state]++;
	if (state == CP_RS_LOADED)
		t->loaded = *q;
	else
		t->refused = *q;
	cp_log(state == CP_RS_LOADED ? CP_LOG_NOTICE : CP_LOG_WARN, "tables reload %s (request "
	       "%llu): %s: %s", cp_reload_table_name(q->table), (unsigned long long)q->id,
	       cp_reload_state_name(state), q->msg);
	cp_rl_pop(&cp->reload);
	if (state == CP_RS_LOADED && q->table == CP_RT_FP) {
		/* fingerprint (issue 14): the tool names follow the file the dataplane took */
		char err[256];

		if (cp_tool_names_load(cp->conf.fingerprint_file, err, sizeof(err)) != 0)
			CP_WARN("fingerprints: tool names kept: %s", err);
	}
	if (state == CP_RS_LOADED)
		cp_analyses_table_loaded(cp, cp_reload_table_name(q->table));
}

/* Follow the posted request: picked up, answered, or lost with its dataplane. */
static void cp_rl_follow(struct cp *cp)
{
	struct cp_reload *rl = &cp->reload;
	struct cp_reload_req *q = cp_rl_find(rl, rl->queue[0]);
	const struct obx_header *h = cp->drain.cur.h;
	struct obx_cmd_box *b;
	char msg[OBX_CMD_MSG_LEN];

	if (q == NULL) {              /* cannot happen: a pending request stays in the history */
		cp_rl_pop(rl);
		return;
	}
	if (h != rl->h || h->boot_id != rl->boot_id) {
		cp_rl_done(cp, q, CP_RS_UNANSWERED, -EPIPE, "the dataplane restarted before "
		           "answering; the new one loaded its tables from their files at start");
		return;
	}
	b = (struct obx_cmd_box *)&h->cmd;
	if (atomic_load_explicit(&b->done_seq, memory_order_acquire) == q->seq) {
		memcpy(msg, b->msg, sizeof(msg));
		msg[sizeof(msg) - 1] = '\0';
		cp_rl_done(cp, q, b->result == 0 ? CP_RS_LOADED : CP_RS_REFUSED, b->result, msg);
		return;
	}
	if (q->state == CP_RS_POSTED &&
	    atomic_load_explicit(&b->run_seq, memory_order_acquire) == q->seq) {
		q->state = CP_RS_RUNNING;
		q->started_wall_ns = b->run_wall_ns;
	}
	/* a SIGKILLed dataplane never says EXITED: the drain's liveness check tells */
	if (atomic_load_explicit(&h->dp_state, memory_order_acquire) == OBX_DP_EXITED)
		cp_rl_done(cp, q, CP_RS_UNANSWERED, -EPIPE, "the dataplane exited before answering");
	else if (cp->drain.dp_lost)
		cp_rl_done(cp, q, CP_RS_UNANSWERED, -EPIPE, "the dataplane went away (killed, hung "
		           "or restarted) before answering");
}

/* Post the head of the queue when the mailbox is free. */
static void cp_rl_post(struct cp *cp)
{
	struct cp_reload *rl = &cp->reload;
	struct obx_header *h = cp->drain.cur.h;
	struct cp_reload_req *q;
	struct obx_cmd_box *b;
	uint64_t seq;

	/* one request in the mailbox at a time, whoever posted it: a capture request's
	 * answer must be collected (cp_capture_poll) before anything else is posted, or its
	 * done_seq and msg would be overwritten */
	if (rl->posted || cp->capture.posted || rl->n_queue == 0 || !cp_rl_dp_running(h))
		return;
	b = &h->cmd;
	seq = atomic_load_explicit(&b->req_seq, memory_order_acquire);
	/* busy with a request an earlier control plane posted: its turn first */
	if (atomic_load_explicit(&b->done_seq, memory_order_acquire) != seq)
		return;
	q = cp_rl_find(rl, rl->queue[0]);
	if (q == NULL) {
		cp_rl_pop(rl);
		return;
	}
	b->cmd = OBX_CMD_TABLES_RELOAD;
	memset(b->arg, 0, sizeof(b->arg));
	snprintf(b->arg, sizeof(b->arg), "%s", cp_reload_table_name(q->table));
	atomic_store_explicit(&b->req_seq, seq + 1, memory_order_release);
	q->seq = seq + 1;
	q->state = CP_RS_POSTED;
	q->posted_wall_ns = cp_wall_ns();
	rl->posted = true;
	rl->h = h;
	rl->boot_id = h->boot_id;
}

/* Requests queued behind one that was posted, for a dataplane that has since finished or
 * gone: nothing will post them (a new dataplane loads its tables from their files at its
 * start), so each is answered unanswered rather than left pending for ever. */
static void cp_rl_drop_queued(struct cp *cp)
{
	struct cp_reload *rl = &cp->reload;
	const struct obx_header *h = cp->drain.cur.h;

	if (rl->posted || rl->n_queue == 0)
		return;
	if (h != NULL && !cp->drain.dp_lost &&
	    atomic_load_explicit(&h->dp_state, memory_order_acquire) < OBX_DP_FINISHED)
		return;
	while (rl->n_queue > 0) {
		struct cp_reload_req *q = cp_rl_find(rl, rl->queue[0]);

		if (q == NULL)
			cp_rl_pop(rl);
		else
			cp_rl_done(cp, q, CP_RS_UNANSWERED, -EPIPE, "the dataplane finished or went "
			           "away before the request was posted");
	}
}

void cp_reload_poll(struct cp *cp)
{
	if (cp->reload.posted)
		cp_rl_follow(cp);
	cp_rl_drop_queued(cp);
	cp_rl_post(cp);
}

int cp_reload_queue(struct cp *cp, uint32_t table, uint64_t *id)
{
	struct cp_reload *rl = &cp->reload;
	struct cp_reload_tab *t;

	if (table >= CP_RT_N)
		return -EINVAL;
	if (!cp_rl_dp_running(cp->drain.cur.h))
		return -ENODEV;
	/* not posted yet: this request would read the same file, join it */
	for (uint32_t i = rl->posted ? 1 : 0; i < rl->n_queue; i++) {
		const struct cp_reload_req *q = cp_rl_find(rl, rl->queue[i]);

		if (q != NULL && q->table == table) {
			*id = q->id;
			return 0;
		}
	}
	if (rl->n_queue == sizeof(rl->queue) / sizeof(rl->queue[0]))
		return -EAGAIN;
	t = &rl->tab[table];
	memmove(&t->hist[1], &t->hist[0], (CP_RELOAD_HISTORY - 1) * sizeof(t->hist[0]));
	memset(&t->hist[0], 0, sizeof(t->hist[0]));
	t->hist[0].id = ++rl->next_id;
	t->hist[0].table = table;
	t->hist[0].state = CP_RS_QUEUED;
	t->hist[0].queued_wall_ns = cp_wall_ns();
	rl->queue[rl->n_queue++] = t->hist[0].id;
	*id = t->hist[0].id;
	cp_rl_post(cp);
	return 0;
}
