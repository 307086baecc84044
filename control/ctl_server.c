/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl_server.c — ctl v1 sockets, connections and line framing (ctl_server.h).
 *
 * Every socket is non-blocking and every buffer bounded: input by max_request (a line
 * that does not fit is refused with too_large and the connection closed), output by
 * CP_OUT_MAX (a client that never reads is dropped), and while a client has a reply
 * backlog we stop reading its requests, so a pipelining client cannot make us buffer
 * without bound.  One slow client never blocks the loop, the drain or the others.
 *
 * Nobody can starve the admin socket: each socket has its own pool of clients; time is
 * counted in whole requests (a line must arrive within CP_REQUEST_DEADLINE_NS of its
 * first byte; idle is since the last complete request), so trickled bytes hold nothing;
 * refusals are logged once per CP_REFUSE_LOG_NS with a count.  Long lists (a handler's
 * cursor, commands.h) are produced a chunk at a time for at most CP_STREAM_TURN_NS per
 * loop turn, so a long answer never holds up the drain.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "commands.h"
#include "cp_log.h"
#include "ctl_server.h"
#include "grow.h"

#define CP_OUT_MAX      (512u << 20)   /* a reply backlog beyond this: drop the client */
#define CP_OUT_PAUSE    (1u << 20)     /* stop reading requests above this backlog */
#define CP_ACCEPT_BURST 64
#define CP_READ_ROUNDS  16             /* recv() calls per client per loop turn */
#define CP_STREAM_LOW   (256u << 10)   /* produce a reply in steps while below this backlog */
#define CP_STREAM_TURN_NS (2ull * 1000000ull)   /* producing them, per loop turn, all clients */

/* Bind path, mode 0660, group `group` (the config key `key` named it) if set. */
static int cp_sock_bind(const char *path, const char *group, const char *key, int *out)
{
	struct sockaddr_un sa;
	mode_t old;
	int fd, ret;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		CP_ERR("ctl: socket path %s too long", path);
		return -ENAMETOOLONG;
	}
	strcpy(sa.sun_path, path);

	/* the default lives under /run/obscura, which a fresh boot does not have */
	{
		char dir[sizeof(sa.sun_path)];
		char *slash;

		snprintf(dir, sizeof(dir), "%s", path);
		slash = strrchr(dir, '/');
		if (slash != NULL && slash != dir) {
			*slash = '\0';
			if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
				ret = -errno;
				CP_ERR("ctl: cannot create %s: %s", dir, strerror(errno));
				return ret;
			}
		}
	}
	/* a socket file that answers belongs to a running cp: never steal it */
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
		close(fd);
		CP_ERR("ctl: %s is served by a running process (another obscura-cp?)", path);
		return -EADDRINUSE;
	}
	close(fd);
	/* only a stale socket is replaced: a file, directory or link at the configured
	 * path is somebody's, not ours to unlink */
	{
		struct stat st;

		if (lstat(path, &st) == 0 && !S_ISSOCK(st.st_mode)) {
			CP_ERR("ctl: %s exists and is not a socket (%s): refusing to replace it; "
			       "remove it or set another control.socket", path,
			       S_ISLNK(st.st_mode) ? "a symbolic link" : S_ISDIR(st.st_mode) ?
			       "a directory" : S_ISREG(st.st_mode) ? "a regular file" : "a special file");
			return -EEXIST;
		}
	}
	if (unlink(path) != 0 && errno != ENOENT) {
		ret = -errno;
		CP_ERR("ctl: cannot remove stale %s: %s", path, strerror(errno));
		return ret;
	}

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	old = umask(0117);   /* born 0660: no window where others may connect */
	ret = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (ret != 0) {
		ret = -errno;
		CP_ERR("ctl: cannot bind %s: %s", path, strerror(errno));
		goto err_close;
	}
	if (chmod(path, 0660) != 0) {
		ret = -errno;
		CP_ERR("ctl: chmod 0660 %s: %s", path, strerror(errno));
		goto err_unlink;
	}
	if (group != NULL && group[0] != '\0') {
		struct group *g = getgrnam(group);

		if (g == NULL) {
			ret = -ENOENT;
			CP_ERR("ctl: %s '%s': no such group", key, group);
			goto err_unlink;
		}
		if (chown(path, (uid_t)-1, g->gr_gid) != 0) {
			ret = -errno;
			CP_ERR("ctl: chown %s to group %s: %s", path, group, strerror(errno));
			goto err_unlink;
		}
	}
	if (listen(fd, 128) != 0) {
		ret = -errno;
		CP_ERR("ctl: listen %s: %s", path, strerror(errno));
		goto err_unlink;
	}
	*out = fd;
	return 0;
err_unlink:
	unlink(path);
err_close:
	close(fd);
	return ret;
}

/* In a job's child (jobs.h): close every socket of the server, touch nothing else (the
 * parent owns the state; the socket files stay). */
static void cp_ctl_forget(void *ctx)
{
	struct cp_ctl *c = ctx;

	for (int k = 0; k < 2; k++)
		if (c->lfd[k] >= 0)
			close(c->lfd[k]);
	for (uint32_t i = 0; c->clients != NULL && i < c->n_slots; i++)
		if (c->clients[i].fd >= 0)
			close(c->clients[i].fd);
}

/* Both pools full must not run out of descriptors (accept() failing with EMFILE would
 * leave the listening socket readable forever): raise the soft limit toward the hard one. */
static void cp_ctl_nofile(uint32_t n_slots)
{
	rlim_t want = (rlim_t)n_slots + 256;   /* the state files, jobs' pipes, the exchange */
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= want)
		return;
	rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > want ? want : rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur < want)
		CP_WARN("ctl: open files limited to %llu, fewer than 2 x control.max_clients + 256 "
		        "= %llu", (unsigned long long)rl.rlim_cur, (unsigned long long)want);
}

static size_t cp_pending(const struct cp_client *cl);

/* `status` "ctl" (commands.h cp_cmd_set_status_hook). */
static json_t *cp_ctl_status(void *ctx)
{
	const struct cp_ctl *c = ctx;
	uint64_t backlog = 0;
	uint32_t steps = 0, waiting = 0;

	for (uint32_t i = 0; i < c->n_slots; i++) {
		const struct cp_client *cl = &c->clients[i];

		if (cl->fd < 0)
			continue;
		backlog += cp_pending(cl);
		steps += cl->wait.cursor.next != NULL;
		waiting += cl->wait.job != 0;
	}
	return json_pack("{s:{s:i, s:i}, s:i, s:I, s:I, s:I, s:i, s:i, s:I, s:f}",
		"clients", "admin", (int)c->n_clients[0], "read_only", (int)c->n_clients[1],
		"max_clients_per_socket", (int)c->max_clients,
		"connections", (json_int_t)c->n_conn, "refused_busy", (json_int_t)c->n_busy,
		"requests", (json_int_t)c->n_requests, "replies_in_steps", (int)steps,
		"replies_deferred", (int)waiting, "backlog_bytes", (json_int_t)backlog,
		"request_deadline_s", (double)CP_REQUEST_DEADLINE_NS / 1e9);
}

int cp_ctl_open(struct cp_ctl *c, struct cp *cp)
{
	const struct obs_conf *conf = &cp->conf;
	int ret;

	memset(c, 0, sizeof(*c));
	c->cp = cp;
	cp->jobs.answer = cp_ctl_answer;   /* deferred replies (jobs.h) */
	cp->jobs.in_child = cp_ctl_forget;
	cp->jobs.answer_ctx = c;
	c->lfd[0] = c->lfd[1] = -1;
	c->max_clients = conf->max_clients;
	c->max_request = conf->max_request;
	c->idle_ns = (uint64_t)conf->idle_timeout_s * 1000000000ull;
	/* one pool per socket: the read-only socket's clients never take the admin's */
	c->n_slots = 2 * c->max_clients;
	c->clients = calloc(c->n_slots, sizeof(*c->clients));
	if (c->clients == NULL)
		return -ENOMEM;
	for (uint32_t i = 0; i < c->n_slots; i++)
		c->clients[i].fd = -1;
	cp_ctl_nofile(c->n_slots);
	snprintf(c->path[0], sizeof(c->path[0]), "%s", conf->socket_path);
	snprintf(c->path[1], sizeof(c->path[1]), "%s", conf->socket_ro_path);
	ret = cp_sock_bind(c->path[0], conf->socket_group, "control.socket_group", &c->lfd[0]);
	if (ret != 0)
		goto err;
	if (c->path[1][0] != '\0') {
		/* its own group: who may read need not be who may command */
		if (conf->socket_ro_group[0] != '\0')
			ret = cp_sock_bind(c->path[1], conf->socket_ro_group,
			                   "control.socket_ro_group", &c->lfd[1]);
		else
			ret = cp_sock_bind(c->path[1], conf->socket_group, "control.socket_group",
			                   &c->lfd[1]);
		if (ret != 0)
			goto err;
	}
	cp_cmd_set_status_hook(cp_ctl_status, c);
	CP_NOTICE("ctl: listening on %s (admin)%s%s%s", c->path[0],
	          c->lfd[1] >= 0 ? " and " : "", c->lfd[1] >= 0 ? c->path[1] : "",
	          c->lfd[1] >= 0 ? " (read-only)" : "");
	return 0;
err:
	cp_ctl_close(c);
	return ret;
}

static void cp_client_close(struct cp_ctl *c, struct cp_client *cl, const char *why)
{
	if (cl->fd < 0)
		return;
	CP_INFO("ctl: connection #%llu (pid %d uid %u) closed: %s", (unsigned long long)cl->id,
	        (int)cl->pid, (unsigned)cl->uid, why);
	close(cl->fd);
	free(cl->in);
	free(cl->out);
	json_decref(cl->wait.id);
	cp_cmd_stream_abort(&cl->wait);
	c->n_clients[cl->admin ? 0 : 1]--;
	memset(cl, 0, sizeof(*cl));
	cl->fd = -1;
}

void cp_ctl_close(struct cp_ctl *c)
{
	cp_cmd_set_status_hook(NULL, NULL);
	if (c->cp != NULL && c->cp->jobs.answer_ctx == c) {
		c->cp->jobs.answer = NULL;
		c->cp->jobs.in_child = NULL;
	}
	for (uint32_t i = 0; c->clients != NULL && i < c->n_slots; i++)
		cp_client_close(c, &c->clients[i], "server shutting down");
	free(c->clients);
	c->clients = NULL;
	for (int k = 0; k < 2; k++) {
		if (c->lfd[k] >= 0) {
			close(c->lfd[k]);
			unlink(c->path[k]);
		}
		c->lfd[k] = -1;
	}
}

size_t cp_ctl_max_pollfds(const struct cp_ctl *c)
{
	return 2 + (size_t)c->n_slots;
}

static size_t cp_pending(const struct cp_client *cl)
{
	return cl->out_len - cl->out_off;
}

/* A reply still to come (a background job's, or one produced in steps): the client's
 * further requests wait, and it is not idle. */
static bool cp_client_waits(const struct cp_client *cl)
{
	return cl->wait.job != 0 || cl->wait.cursor.next != NULL;
}

/* Queue bytes for a client.  Takes ownership of buf when the queue is empty (the big
 * streamed replies are then never copied).  false when the client must be dropped. */
static bool cp_client_queue(struct cp_client *cl, char *buf, size_t len)
{
	if (cp_pending(cl) == 0) {
		free(cl->out);
		cl->out = buf;
		cl->out_len = len;
		cl->out_cap = len;
		cl->out_off = 0;
		return true;
	}
	if (cp_pending(cl) + len > CP_OUT_MAX) {
		free(buf);
		return false;
	}
	if (cl->out_off > 0) {
		memmove(cl->out, cl->out + cl->out_off, cp_pending(cl));
		cl->out_len -= cl->out_off;
		cl->out_off = 0;
	}
	{
		char *n = cp_grow(cl->out, &cl->out_cap, cl->out_len + len, 1, 4096);

		if (n == NULL) {
			free(buf);
			return false;
		}
		cl->out = n;
	}
	memcpy(cl->out + cl->out_len, buf, len);
	cl->out_len += len;
	free(buf);
	return true;
}

/* Write what the socket takes.  false on a dead peer. */
static bool cp_client_flush(struct cp_client *cl, uint64_t now)
{
	while (cp_pending(cl) > 0) {
		ssize_t w = send(cl->fd, cl->out + cl->out_off, cp_pending(cl),
		                 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return true;
			return false;
		}
		cl->out_off += (size_t)w;
		cl->last_active_ns = now;   /* a slow reader of a long reply is not idle */
	}
	cl->out_off = cl->out_len = 0;
	return true;
}

static void cp_client_error(struct cp_client *cl, enum cp_err e, const char *msg)
{
	char *line = cp_cmd_error_line(NULL, e, msg);

	if (line != NULL)
		cp_client_queue(cl, line, strlen(line));
}

/* The first newline in the input buffer, or NULL; each byte is looked at once per line. */
static char *cp_client_newline(struct cp_client *cl)
{
	char *nl = memchr(cl->in + cl->scanned, '\n', cl->in_len - cl->scanned);

	cl->scanned = nl != NULL ? (size_t)(nl - cl->in) : cl->in_len;
	return nl;
}

/* Handle complete lines in the input buffer while the backlog allows.  false: drop. */
static bool cp_client_lines(struct cp_ctl *c, struct cp_client *cl, bool eof, uint64_t now)
{
	bool partial;

	while (cl->in_len > 0 && cp_pending(cl) < CP_OUT_PAUSE && !cp_client_waits(cl)) {
		char *nl = cp_client_newline(cl);
		size_t len, used;
		char *out = NULL;
		size_t outlen = 0;

		if (nl == NULL) {
			if (!eof)
				break;
			len = used = cl->in_len;   /* last line without its newline */
		} else {
			len = (size_t)(nl - cl->in);
			used = len + 1;
		}
		if (len > c->max_request) {
			cp_client_error(cl, CP_E_TOO_LARGE, "request line over control.max_request "
			                "bytes; closing");
			cl->closing = true;
			cl->in_len = 0;
			return true;
		}
		c->n_requests++;
		cl->last_active_ns = now;   /* idle counts from the last complete request */
		if (cp_cmd_dispatch(c->cp, cl->in, len, cl->admin, &out, &outlen, &cl->wait) != 0)
			return false;
		if (out != NULL && !cp_client_queue(cl, out, outlen))
			return false;
		memmove(cl->in, cl->in + used, cl->in_len - used);
		cl->in_len -= used;
		cl->scanned = 0;
	}
	/* an unfinished line starts the request deadline; whole lines waiting their turn
	 * (a backlog, a deferred reply) are not the client's delay */
	partial = cl->in_len > 0 && cp_client_newline(cl) == NULL;
	if (!partial)
		cl->req_start_ns = 0;
	else if (cl->req_start_ns == 0)
		cl->req_start_ns = now;
	/* a full buffer with no newline can only become a line over the limit */
	if (!cl->closing && !cp_client_waits(cl) && cl->in_len > c->max_request && partial) {
		cp_client_error(cl, CP_E_TOO_LARGE, "request line over control.max_request bytes; "
		                "closing");
		cl->closing = true;
		cl->in_len = 0;
	}
	return true;
}

static void cp_client_read(struct cp_ctl *c, struct cp_client *cl, uint64_t now)
{
	bool eof = false;
	int rounds = 0;

	/* bounded per loop turn, so one busy client cannot starve the drain or the others;
	 * poll() reports the rest next turn */
	while (!cl->closing && !cl->eof && cl->in_len <= c->max_request &&
	       rounds++ < CP_READ_ROUNDS) {
		ssize_t r = recv(cl->fd, cl->in + cl->in_len, c->max_request + 1 - cl->in_len,
		                 MSG_DONTWAIT);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			cp_client_close(c, cl, strerror(errno));
			return;
		}
		if (r == 0) {
			eof = true;
			break;
		}
		cl->in_len += (size_t)r;
		if (!cp_client_lines(c, cl, false, now)) {
			cp_client_close(c, cl, "reply backlog too large");
			return;
		}
		if (cp_pending(cl) >= CP_OUT_PAUSE)
			break;
	}
	if (eof) {
		/* the peer sent all it will: answer what is buffered (maybe over several
		 * turns, if the backlog pauses us), then close */
		cl->eof = true;
		if (!cp_client_lines(c, cl, true, now)) {
			cp_client_close(c, cl, "reply backlog too large");
			return;
		}
		if (cl->in_len == 0)
			cl->closing = true;
	}
}

/* Connection fd on socket k when its pool is full: `busy`, then close.  A flood of
 * connections must not become a flood of log lines: the first is logged, those of the
 * next CP_REFUSE_LOG_NS counted (cp_ctl_process logs the count). */
static void cp_refuse(struct cp_ctl *c, int k, int fd, const struct ucred *cred, uint64_t now)
{
	char *line = cp_cmd_error_line(NULL, CP_E_BUSY, k == 0 ?
		"too many clients on the admin socket (control.max_clients); try again later" :
		"too many clients on the read-only socket (control.max_clients); try again later");

	c->n_busy++;
	if (line != NULL) {
		if (send(fd, line, strlen(line), MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
			/* the peer left already; nothing to tell it */
		}
		free(line);
	}
	close(fd);
	c->refuse_pid[k] = cred->pid;
	c->refuse_uid[k] = cred->uid;
	if (now < c->refuse_next_ns[k]) {
		c->refuse_quiet[k]++;
		return;
	}
	CP_WARN("ctl: refusing connection #%llu on %s (pid %d uid %u): busy, %u clients "
	        "(control.max_clients); more refusals on it are logged once per %llu s with a "
	        "count", (unsigned long long)c->n_conn, c->path[k], (int)cred->pid,
	        (unsigned)cred->uid, c->n_clients[k], CP_REFUSE_LOG_NS / 1000000000ull);
	c->refuse_next_ns[k] = now + CP_REFUSE_LOG_NS;
}

static void cp_accept(struct cp_ctl *c, int k, uint64_t now)
{
	uint32_t first = (uint32_t)k * c->max_clients;   /* socket k's pool */

	for (int burst = 0; burst < CP_ACCEPT_BURST; burst++) {
		struct ucred cred = { .pid = 0, .uid = (uid_t)-1, .gid = (gid_t)-1 };
		socklen_t clen = sizeof(cred);
		struct cp_client *cl = NULL;
		char *hello;
		int fd;

		fd = accept4(c->lfd[k], NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
				CP_WARN("ctl: accept on %s: %s", c->path[k], strerror(errno));
			return;
		}
		c->n_conn++;
		getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen);
		if (c->n_clients[k] >= c->max_clients) {
			cp_refuse(c, k, fd, &cred, now);
			continue;
		}
		for (uint32_t i = first; i < first + c->max_clients; i++) {
			if (c->clients[i].fd < 0) {
				cl = &c->clients[i];
				break;
			}
		}
		memset(cl, 0, sizeof(*cl));
		cl->in = malloc((size_t)c->max_request + 1);
		if (cl->in == NULL) {
			close(fd);
			cl->fd = -1;
			continue;
		}
		cl->fd = fd;
		cl->admin = k == 0;
		cl->pid = cred.pid;
		cl->uid = cred.uid;
		cl->last_active_ns = now;
		cl->id = c->n_conn;
		c->n_clients[k]++;
		CP_INFO("ctl: connection #%llu on %s (%s): pid %d uid %u gid %u",
		        (unsigned long long)cl->id, c->path[k], cl->admin ? "admin" : "read-only",
		        (int)cred.pid, (unsigned)cred.uid, (unsigned)cred.gid);
		{
			json_t *g = json_pack("{s:{s:i, s:s, s:s, s:s, s:I}}", "hello", "proto", 1,
			                      "server", "obscura-cp", "version", CP_VERSION,
			                      "access", cl->admin ? "admin" : "read",
			                      "max_request", (json_int_t)c->max_request);
			char *s = g != NULL ? json_dumps(g, JSON_COMPACT) : NULL;
			size_t n;

			json_decref(g);
			if (s == NULL) {
				cp_client_close(c, cl, "out of memory");
				continue;
			}
			n = strlen(s);
			hello = realloc(s, n + 2);
			if (hello == NULL) {
				free(s);
				cp_client_close(c, cl, "out of memory");
				continue;
			}
			hello[n] = '\n';
			hello[n + 1] = '\0';
			cp_client_queue(cl, hello, n + 1);
		}
		if (!cp_client_flush(cl, now))
			cp_client_close(c, cl, "peer gone");
	}
}

size_t cp_ctl_pollfds(struct cp_ctl *c, struct pollfd *pfd, size_t max)
{
	size_t n = 0;

	for (int k = 0; k < 2 && n < max; k++) {
		pfd[n].fd = c->lfd[k];
		pfd[n].events = POLLIN;
		pfd[n].revents = 0;
		n++;
	}
	for (uint32_t i = 0; i < c->n_slots && n < max; i++) {
		struct cp_client *cl = &c->clients[i];
		short ev = 0;

		if (cl->fd < 0)
			continue;
		if (!cl->closing && !cl->eof && cp_pending(cl) < CP_OUT_PAUSE &&
		    cl->in_len <= c->max_request && !cp_client_waits(cl))
			ev |= POLLIN;
		/* a reply in steps goes on as soon as the socket takes more */
		if (cp_pending(cl) > 0 || cl->wait.cursor.next != NULL)
			ev |= POLLOUT;
		pfd[n].fd = cl->fd;
		pfd[n].events = ev;
		pfd[n].revents = 0;
		n++;
	}
	return n;
}

static struct cp_client *cp_client_by_fd(struct cp_ctl *c, int fd)
{
	for (uint32_t i = 0; i < c->n_slots; i++)
		if (c->clients[i].fd == fd)
			return &c->clients[i];
	return NULL;
}

/* Replies produced in steps: a chunk per client in turn (round robin across turns),
 * for at most CP_STREAM_TURN_NS per loop turn, each only while its backlog is below
 * CP_STREAM_LOW — so a long list never holds up the drain, and a client that does not
 * read makes us produce nothing more for it. */
static void cp_ctl_streams(struct cp_ctl *c, uint64_t now)
{
	uint64_t t0 = cp_mono_ns();
	bool more = true;

	while (more) {
		more = false;
		for (uint32_t j = 0; j < c->n_slots; j++) {
			uint32_t i = (c->stream_rr + j) % c->n_slots;
			struct cp_client *cl = &c->clients[i];
			char *out = NULL;
			size_t outlen = 0;
			bool done;

			if (cl->fd < 0 || cl->wait.cursor.next == NULL ||
			    cp_pending(cl) >= CP_STREAM_LOW)
				continue;
			if (cp_mono_ns() - t0 >= CP_STREAM_TURN_NS) {
				c->stream_rr = i;   /* next turn starts with the one left out */
				return;
			}
			if (cp_cmd_stream_step(c->cp, &cl->wait, &out, &outlen, &done) != 0 ||
			    !cp_client_queue(cl, out, outlen)) {
				cp_client_close(c, cl, "cannot queue its reply");
				continue;
			}
			if (done) {
				json_decref(cl->wait.id);
				memset(&cl->wait, 0, sizeof(cl->wait));
				cl->last_active_ns = now;
			}
			if (!cp_client_flush(cl, now)) {
				cp_client_close(c, cl, "peer gone");
				continue;
			}
			more = true;
		}
	}
}

void cp_ctl_process(struct cp_ctl *c, struct pollfd *pfd, size_t n, uint64_t now)
{
	/* clients first: accepting may reuse an entry a pollfd below still names */
	for (size_t i = 2; i < n; i++) {
		struct cp_client *cl;

		if (pfd[i].revents == 0)
			continue;
		cl = cp_client_by_fd(c, pfd[i].fd);
		if (cl == NULL)
			continue;
		if (pfd[i].revents & POLLNVAL) {
			cp_client_close(c, cl, "invalid fd");
			continue;
		}
		if ((pfd[i].revents & POLLOUT) && !cp_client_flush(cl, now)) {
			cp_client_close(c, cl, "peer gone");
			continue;
		}
		if (pfd[i].revents & (POLLIN | POLLHUP | POLLERR)) {
			cp_client_read(c, cl, now);
			if (cl->fd < 0)
				continue;
		}
	}
	/* every client: resume paused input, flush, finish closes, enforce idle */
	for (uint32_t i = 0; i < c->n_slots; i++) {
		struct cp_client *cl = &c->clients[i];

		if (cl->fd < 0)
			continue;
		if (!cl->closing && cl->in_len > 0 && cp_pending(cl) < CP_OUT_PAUSE &&
		    !cp_client_lines(c, cl, cl->eof, now)) {
			cp_client_close(c, cl, "reply backlog too large");
			continue;
		}
		if (cl->eof && cl->in_len == 0)
			cl->closing = true;
		if (cp_pending(cl) > 0 && !cp_client_flush(cl, now)) {
			cp_client_close(c, cl, "peer gone");
			continue;
		}
		if (cl->wait.job != 0) {
			cl->last_active_ns = now;   /* waiting for a job's reply is not idling */
			continue;
		}
		/* a list in steps: idle unless it takes the bytes (cp_client_flush), so a
		 * client that never reads does not hold its copy and its budget for ever */
		if (cl->wait.cursor.next == NULL && cl->closing && cp_pending(cl) == 0) {
			cp_client_close(c, cl, "done");
			continue;
		}
		if (cl->wait.cursor.next == NULL && !cl->closing && cl->req_start_ns != 0 &&
		    now - cl->req_start_ns > CP_REQUEST_DEADLINE_NS) {
			/* bytes that never become a request: tell it, then let it go */
			char msg[96];

			snprintf(msg, sizeof(msg), "request line not completed within %.0f s of its "
			         "first byte; closing", (double)CP_REQUEST_DEADLINE_NS / 1e9);
			cp_client_error(cl, CP_E_TIMEOUT, msg);
			cp_client_flush(cl, now);
			snprintf(msg, sizeof(msg), "request deadline (%.0f s) passed",
			         (double)CP_REQUEST_DEADLINE_NS / 1e9);
			cp_client_close(c, cl, msg);
			continue;
		}
		if (now - cl->last_active_ns > c->idle_ns)
			cp_client_close(c, cl, "idle timeout (control.idle_timeout_s)");
	}
	cp_ctl_streams(c, now);
	for (int k = 0; k < 2 && (size_t)k < n; k++)
		if (pfd[k].fd >= 0 && (pfd[k].revents & POLLIN))
			cp_accept(c, k, now);
	for (int k = 0; k < 2; k++) {
		if (c->refuse_quiet[k] == 0 || now < c->refuse_next_ns[k])
			continue;
		CP_WARN("ctl: refused %llu more connection(s) on %s in the last %llu s: busy "
		        "(control.max_clients %u reached); the last from pid %d uid %u",
		        (unsigned long long)c->refuse_quiet[k], c->path[k],
		        CP_REFUSE_LOG_NS / 1000000000ull, c->max_clients, (int)c->refuse_pid[k],
		        (unsigned)c->refuse_uid[k]);
		c->refuse_quiet[k] = 0;
		c->refuse_next_ns[k] = now + CP_REFUSE_LOG_NS;
	}
}

void cp_ctl_answer(void *ctx, uint64_t job, const struct cp_reply *r)
{
	struct cp_ctl *c = ctx;

	for (uint32_t i = 0; c->clients != NULL && i < c->n_slots; i++) {
		struct cp_client *cl = &c->clients[i];
		char *out = NULL;
		size_t outlen = 0;

		if (cl->fd < 0 || cl->wait.job == 0 || cl->wait.job != job)
			continue;
		if (cp_cmd_render_reply(cl->wait.cmd, cl->wait.id, r, &out, &outlen) != 0 ||
		    !cp_client_queue(cl, out, outlen)) {
			cp_client_close(c, cl, "cannot queue its reply");
			continue;
		}
		json_decref(cl->wait.id);
		memset(&cl->wait, 0, sizeof(cl->wait));
		/* the requests it sent meanwhile are read on the next turn */
	}
}
