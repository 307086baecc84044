/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * jobs.h — long reads of the control plane's state (a snapshot, a report) done in a
 * forked child, so the main loop goes on draining and serving every client meanwhile.
 *
 * fork() hands the child the state as it is at that instant, copy-on-write: a consistent
 * image without a copy and without a lock, while the parent goes on changing its own
 * pages.  The child runs the job's function, which fills a reply (commands.h: data or an
 * error), sends it back as one JSON line through a pipe and exits; it dies with its
 * parent (PR_SET_PDEATHSIG), so a control plane killed mid-job leaves no writer behind.
 * The main loop (cp_jobs_poll) reads the line once the child is gone, runs the job's
 * done() in the parent (bookkeeping: the snapshot's journal segments), and hands the
 * reply to whoever waits on the job id — a client whose reply the ctl server deferred
 * (commands.h: cp_reply_defer).
 *
 * Without a loop to collect them (the unit tests, tools: jobs->fork_ok false) a job runs
 * inline and its reply is immediate: the same function, the same answer.
 *
 * Main loop only.  A job's function, in the child, may read anything and write files;
 * what it changes in memory is lost with the child.
 */
#ifndef OBSCURA_CP_JOBS_H
#define OBSCURA_CP_JOBS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct cp;
struct cp_reply;

/* In the child (or inline): fill r. */
typedef void (*cp_job_fn)(struct cp *cp, void *arg, struct cp_reply *r);
/* In the parent, once the child is done (r is its reply; it may be amended).  NULL: none. */
typedef void (*cp_job_done_fn)(struct cp *cp, void *arg, struct cp_reply *r);

#define CP_JOBS_MAX 4

struct cp_job {
	uint64_t id;                  /* 0: a free entry */
	const char *what;             /* "snapshot", "report", ... (logs, status) */
	pid_t pid;
	int fd;                       /* the child's end of the result pipe, read side */
	char *buf;                    /* what it sent so far */
	size_t len, cap;
	uint64_t started_mono_ns;
	cp_job_done_fn done;
	void *arg;                    /* owned (a copy of the caller's) */
};

struct cp_jobs {
	bool fork_ok;                 /* set by the daemon once its loop collects jobs */
	uint64_t next_id;
	struct cp_job run[CP_JOBS_MAX];
	/* who gets a finished job's reply: the ctl server's deferred clients; and what a
	 * child lets go of first: the server's sockets (a child must never answer a
	 * connection, nor keep the socket looking served once its parent is gone) */
	void (*answer)(void *ctx, uint64_t job, const struct cp_reply *r);
	void (*in_child)(void *ctx);
	void *answer_ctx;
};

/* A job id for a job that will start later (a snapshot queued behind one running). */
uint64_t cp_job_reserve_id(struct cp *cp);

/*
 * Run fn(cp, arg copy) away from the loop (id: cp_job_reserve_id()'s, or 0 for a new
 * one).  arg (arg_size bytes) is copied.  Returns the job id with r untouched — the
 * caller defers its reply on it (cp_reply_defer) — or 0 when the job ran inline (r holds
 * its reply, done() has run) or could not start (r holds the error, done() has run).
 */
uint64_t cp_job_start(struct cp *cp, uint64_t id, const char *what, cp_job_fn fn,
                      cp_job_done_fn done, const void *arg, size_t arg_size,
                      struct cp_reply *r);

/* The running job of that kind, or NULL. */
const struct cp_job *cp_job_running(const struct cp *cp, const char *what);

/* One main-loop turn: finished children are collected and answered. */
void cp_jobs_poll(struct cp *cp);

/* Shutdown: collect every running job.  Those not of kind keep (reports, when the
 * final snapshot is what matters) are SIGKILLed at once; one of kind keep is waited for
 * CP_JOBS_STOP_WAIT_MS at most, then SIGKILLed too: a child forked while another thread
 * held a lock it needs (an allocator's: the sanitizer runtime's is not fork-safe) never
 * finishes, and the caller writes its final snapshot inline anyway. */
#define CP_JOBS_STOP_WAIT_MS 5000
void cp_jobs_finish(struct cp *cp, const char *keep);

#endif
