/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * persist.c — writing the period store's snapshot (cp.h): now, in the main loop
 * (shutdown), or in the background (the timer, `snapshot.now`), where a forked child
 * writes it (jobs.h) from the store as it was at the fork while the loop goes on.
 *
 * A background snapshot covers the journal up to its start: the journal is rotated then
 * (journal.h), and the child drops the segments it covers once its file is durable.  If
 * the write fails the segment stays, the store is marked dirty again, and the next
 * snapshot covers both.  A `snapshot.now` while one is being written waits for
 * the next one, which starts as soon as the running one ends (it will hold everything
 * drained until then); the timer just skips a turn.
 *
 * Main loop only.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "cp.h"
#include "cp_log.h"
#include "json.h"
#include "snapshot.h"

int cp_snapshot_now(struct cp *cp)
{
	struct cp_persist *p = &cp->persist;
	char err[512] = "";
	int ret;

	ret = cp_snapshot_write_file(p->snapshot_path, &cp->store, err, sizeof(err));
	if (ret != 0) {
		p->n_failed++;
		snprintf(p->last_error, sizeof(p->last_error), "%s", err);
		CP_ERR("%s (the journal is kept)", err);
		return ret;
	}
	p->n_written++;
	p->last_write_wall_ns = cp_wall_ns();
	p->last_write_mono_ns = cp_mono_ns();
	p->last_error[0] = '\0';
	cp->drain.dirty = false;
	/* everything journalled is in the store, hence in the snapshot just made durable */
	ret = cp_journal_truncate(&cp->journal);
	if (ret != 0) {
		/* harmless for correctness: replay deduplicates against the snapshot */
		snprintf(p->last_error, sizeof(p->last_error), "journal truncate: %s",
		         strerror(-ret));
	}
	CP_DEBUG("snapshot: wrote %s (%llu epochs, %u sources)", p->snapshot_path,
	         (unsigned long long)cp->store.epochs, cp->store.src.n);
	return 0;
}

struct cp_snap_job {
	uint64_t seg;        /* the journal segments it covers: up to this one */
};

/* In the child: the file, from the store as it was at the fork; once it is durable,
 * the journal segments it covers go (here too: unlinking a large file takes a while). */
static void cp_snap_job_write(struct cp *cp, void *arg, struct cp_reply *r)
{
	const struct cp_snap_job *sj = arg;
	const struct cp_persist *p = &cp->persist;
	char err[512] = "";

	if (cp_snapshot_write_file(p->snapshot_path, &cp->store, err, sizeof(err)) != 0) {
		cp_reply_err(r, CP_E_INTERNAL, "%s", err);
		return;
	}
	cp_journal_drop(&cp->journal, sj->seg);
	r->data = json_pack("{s:s, s:o, s:I, s:I}", "path", p->snapshot_path,
	                    "written", cp_json_time(cp_wall_ns()),
	                    "epochs", (json_int_t)cp->store.epochs,
	                    "sources", (json_int_t)cp->store.src.n);
}

static void cp_snap_start(struct cp *cp, uint64_t id, struct cp_reply *r);

/* In the parent, once the child is done. */
static void cp_snap_job_done(struct cp *cp, void *arg, struct cp_reply *r)
{
	struct cp_persist *p = &cp->persist;
	int ret;

	(void)arg;
	p->writing = 0;
	if (r->err != CP_E_OK) {
		p->n_failed++;
		snprintf(p->last_error, sizeof(p->last_error), "%s", r->msg);
		CP_ERR("%s (the journal is kept)", r->msg);
		cp->drain.dirty = true;   /* the next turn of the timer tries again */
		snprintf(r->msg, sizeof(r->msg), "snapshot failed: %.230s", p->last_error);
	} else {
		p->n_written++;
		p->last_write_wall_ns = cp_wall_ns();
		p->last_write_mono_ns = cp_mono_ns();
		p->last_error[0] = '\0';
		/* the child removed the segments it covered: count what is left */
		ret = cp_journal_recount(&cp->journal);
		if (ret != 0)
			snprintf(p->last_error, sizeof(p->last_error), "journal segments: %s",
			         strerror(-ret));
		CP_DEBUG("snapshot: wrote %s in the background", p->snapshot_path);
	}
	if (p->next != 0) {           /* a snapshot.now asked while this one ran */
		uint64_t id = p->next;
		struct cp_reply rn = { .data = NULL, .err = CP_E_OK };

		p->next = 0;
		cp_snap_start(cp, id, &rn);
		json_decref(rn.data);
	}
}

static void cp_snap_start(struct cp *cp, uint64_t id, struct cp_reply *r)
{
	struct cp_snap_job sj;
	uint64_t job;
	int ret;

	ret = cp_journal_rotate(&cp->journal, &sj.seg);
	if (ret != 0) {
		cp_reply_err(r, CP_E_INTERNAL, "snapshot not started: journal rotation: %s",
		             strerror(-ret));
		if (id != 0 && cp->jobs.answer != NULL)
			cp->jobs.answer(cp->jobs.answer_ctx, id, r);
		return;
	}
	/* what is drained from now on makes the store dirty again */
	cp->drain.dirty = false;
	cp->persist.writing = 1;
	job = cp_job_start(cp, id, "snapshot", cp_snap_job_write, cp_snap_job_done, &sj,
	                   sizeof(sj), r);
	if (job != 0) {
		cp->persist.writing = job;
		cp_reply_defer(r, job);
	} else if (id != 0 && cp->jobs.answer != NULL) {
		cp->jobs.answer(cp->jobs.answer_ctx, id, r);   /* it ran (inline) or failed */
	}
}

void cp_snapshot_start(struct cp *cp, struct cp_reply *r)
{
	struct cp_persist *p = &cp->persist;
	struct cp_reply none = { .data = NULL, .err = CP_E_OK };

	if (p->writing != 0) {
		if (r == NULL)
			return;                     /* the timer: the running one will do */
		if (p->next == 0)
			p->next = cp_job_reserve_id(cp);
		cp_reply_defer(r, p->next);     /* the next one holds what is drained now */
		return;
	}
	cp_snap_start(cp, 0, r != NULL ? r : &none);
	json_decref(none.data);
}
