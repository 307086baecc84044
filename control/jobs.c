/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * jobs.c — forked jobs and their collection by the main loop (jobs.h).
 *
 * The child: PR_SET_PDEATHSIG first (and a getppid() check for a parent that died before
 * it took effect), then the job's function, then one line on the pipe and _exit(): no
 * atexit handlers, no stdio buffers of the parent's flushed twice.  The parent never
 * blocks on a child: the pipe is non-blocking, EOF means the child is done writing, and
 * waitpid(WNOHANG) reaps it (a turn later if need be).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "commands.h"
#include "cp.h"
#include "cp_log.h"
#include "grow.h"
#include "jobs.h"

uint64_t cp_job_reserve_id(struct cp *cp)
{
	return ++cp->jobs.next_id;
}

const struct cp_job *cp_job_running(const struct cp *cp, const char *what)
{
	for (unsigned i = 0; i < CP_JOBS_MAX; i++)
		if (cp->jobs.run[i].id != 0 && strcmp(cp->jobs.run[i].what, what) == 0)
			return &cp->jobs.run[i];
	return NULL;
}

/* The reply as one line: {"ok":true,"data":...,"meta":...} or
 * {"ok":false,"err":N,"msg":"..."}. */
static char *cp_job_encode(const struct cp_reply *r)
{
	json_t *o = r->err == CP_E_OK ?
		json_pack("{s:b, s:O, s:O}", "ok", 1, "data", r->data != NULL ? r->data : json_null(),
		          "meta", r->meta != NULL ? r->meta : json_null()) :
		json_pack("{s:b, s:i, s:s}", "ok", 0, "err", (int)r->err, "msg", r->msg);
	char *s = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;

	json_decref(o);
	return s;
}

static void cp_job_decode(const char *what, const char *buf, size_t len, int status,
                          struct cp_reply *r)
{
	json_t *o = len ? json_loadb(buf, len, 0, NULL) : NULL;

	memset(r, 0, sizeof(*r));
	if (o == NULL) {
		cp_reply_err(r, CP_E_INTERNAL, "%s: the job's process ended without an answer "
		             "(%s %d)", what, WIFSIGNALED(status) ? "signal" : "exit status",
		             WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
	} else if (json_is_true(json_object_get(o, "ok"))) {
		r->data = json_incref(json_object_get(o, "data"));
		if (json_is_object(json_object_get(o, "meta")))
			r->meta = json_incref(json_object_get(o, "meta"));
	} else {
		cp_reply_err(r, (enum cp_err)json_integer_value(json_object_get(o, "err")), "%s",
		             json_string_value(json_object_get(o, "msg")) ?
		             json_string_value(json_object_get(o, "msg")) : "?");
	}
	json_decref(o);
}

static void cp_job_child(struct cp *cp, int fd, pid_t parent, cp_job_fn fn, void *arg)
{
	struct cp_reply r = { .data = NULL, .err = CP_E_OK };
	char *line;
	size_t len, off = 0;

	if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent)
		_exit(2);
	if (cp->jobs.in_child != NULL)
		cp->jobs.in_child(cp->jobs.answer_ctx);
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	/* the parent's loop, serving clients, goes first when CPUs are short */
	if (setpriority(PRIO_PROCESS, 0, 10) != 0) {
		/* no lower priority: the job still runs */
	}
	fn(cp, arg, &r);
	line = cp_job_encode(&r);
	if (line == NULL)
		_exit(3);
	len = strlen(line);
	while (off < len) {
		ssize_t w = write(fd, line + off, len - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			_exit(4);
		off += (size_t)w;
	}
	_exit(0);
}

uint64_t cp_job_start(struct cp *cp, uint64_t id, const char *what, cp_job_fn fn,
                      cp_job_done_fn done, const void *arg, size_t arg_size,
                      struct cp_reply *r)
{
	struct cp_job *j = NULL;
	void *a = NULL;
	int p[2];
	pid_t pid, self = getpid();

	if (!cp->jobs.fork_ok) {
		fn(cp, (void *)arg, r);
		if (done != NULL)
			done(cp, (void *)arg, r);
		return 0;
	}
	for (unsigned i = 0; i < CP_JOBS_MAX && j == NULL; i++)
		if (cp->jobs.run[i].id == 0)
			j = &cp->jobs.run[i];
	if (j == NULL) {
		cp_reply_err(r, CP_E_BUSY, "%s: %u background jobs already running; try again",
		             what, CP_JOBS_MAX);
		goto fail;
	}
	a = malloc(arg_size ? arg_size : 1);
	if (a == NULL || pipe2(p, O_CLOEXEC) != 0) {
		cp_reply_err(r, CP_E_INTERNAL, "%s: %s", what, a == NULL ? "out of memory" :
		             strerror(errno));
		goto fail;
	}
	if (arg_size != 0)
		memcpy(a, arg, arg_size);
	pid = fork();
	if (pid < 0) {
		cp_reply_err(r, CP_E_INTERNAL, "%s: fork: %s", what, strerror(errno));
		close(p[0]);
		close(p[1]);
		goto fail;
	}
	if (pid == 0) {
		close(p[0]);
		cp_job_child(cp, p[1], self, fn, a);
	}
	close(p[1]);
	fcntl(p[0], F_SETFL, O_NONBLOCK);
	memset(j, 0, sizeof(*j));
	j->id = id != 0 ? id : cp_job_reserve_id(cp);
	j->what = what;
	j->pid = pid;
	j->fd = p[0];
	j->started_mono_ns = cp_mono_ns();
	j->done = done;
	j->arg = a;
	CP_DEBUG("%s: job %llu running as pid %d", what, (unsigned long long)j->id, (int)pid);
	return j->id;
fail:
	free(a);
	if (done != NULL)
		done(cp, (void *)arg, r);
	return 0;
}

/* Read what the child sent; true at EOF (or a read error: the child is done with us). */
static bool cp_job_read(struct cp_job *j)
{
	for (;;) {
		char *b = cp_grow(j->buf, &j->cap, j->len + 4096, 1, 8192);
		ssize_t n;

		if (b == NULL)
			return true;
		j->buf = b;
		n = read(j->fd, j->buf + j->len, j->cap - j->len);
		if (n > 0) {
			j->len += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		return n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK);
	}
}

/* The child has closed its end: reap it (now, or wait for it), answer, free. */
static void cp_job_collect(struct cp *cp, struct cp_job *j, bool block)
{
	struct cp_reply r;
	int status = 0;
	pid_t w;

	do
		w = waitpid(j->pid, &status, block ? 0 : WNOHANG);
	while (w < 0 && errno == EINTR);
	if (w == 0)
		return;            /* closed its pipe, not gone yet: next turn */
	close(j->fd);
	cp_job_decode(j->what, j->buf, j->len, status, &r);
	CP_DEBUG("%s: job %llu done in %.1f ms: %s", j->what, (unsigned long long)j->id,
	         (double)(cp_mono_ns() - j->started_mono_ns) / 1e6, r.err ? r.msg : "ok");
	if (j->done != NULL)
		j->done(cp, j->arg, &r);
	if (cp->jobs.answer != NULL)
		cp->jobs.answer(cp->jobs.answer_ctx, j->id, &r);
	json_decref(r.data);
	json_decref(r.meta);
	free(j->buf);
	free(j->arg);
	memset(j, 0, sizeof(*j));
}

void cp_jobs_poll(struct cp *cp)
{
	for (unsigned i = 0; i < CP_JOBS_MAX; i++) {
		struct cp_job *j = &cp->jobs.run[i];

		if (j->id != 0 && cp_job_read(j))
			cp_job_collect(cp, j, false);
	}
}

void cp_jobs_finish(struct cp *cp, const char *keep)
{
	/* from here on jobs run inline: nothing forks behind the final snapshot */
	cp->jobs.fork_ok = false;
	for (unsigned i = 0; i < CP_JOBS_MAX; i++) {
		struct cp_job *j = &cp->jobs.run[i];
		uint64_t until = cp_mono_ns() + CP_JOBS_STOP_WAIT_MS * 1000000ull;
		bool killed;

		if (j->id == 0)
			continue;
		killed = keep == NULL || strcmp(j->what, keep) != 0;
		if (killed)
			kill(j->pid, SIGKILL);
		while (!cp_job_read(j)) {
			if (!killed && cp_mono_ns() >= until) {
				CP_WARN("%s: job %llu (pid %d) did not end within %u ms of the stop; "
				        "killed", j->what, (unsigned long long)j->id, (int)j->pid,
				        CP_JOBS_STOP_WAIT_MS);
				kill(j->pid, SIGKILL);
				killed = true;
			}
			usleep(1000);
		}
		cp_job_collect(cp, j, true);
	}
}
