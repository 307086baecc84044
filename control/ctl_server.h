/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl_server.h — the ctl v1 socket server (docs/ctl-v1.md): an admin socket and an
 * optional read-only one, non-blocking clients multiplexed by the cp main loop's poll().
 *
 * Limits: request lines over max_request get `too_large` and a close; each socket has
 * its own pool of max_clients connections (the admin one is never shared with the
 * read-only socket, so no flood of read-only clients makes admin answer `busy`); a
 * connection past its pool gets `busy` instead of the greeting.  Time is counted in
 * requests, not bytes: a request line must arrive whole within CP_REQUEST_DEADLINE_NS of
 * the first byte we hold of it (else `timeout` and a close), and a client that completes
 * no request and takes no reply bytes for idle_timeout_s is closed (not while it waits
 * for a job's reply).  Peer identity (SO_PEERCRED) is logged at connect.
 *
 * A reply the handler deferred (a background job, jobs.h) is held: the client's next
 * requests wait in its buffer until cp_ctl_answer() delivers it; other clients go on.
 *
 * Single-threaded: the main loop calls cp_ctl_pollfds() before poll() and
 * cp_ctl_process() after it.
 */
#ifndef OBSCURA_CP_CTL_SERVER_H
#define OBSCURA_CP_CTL_SERVER_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "commands.h"
#include "cp.h"

#define CP_REQUEST_DEADLINE_NS (5ull * 1000000000ull)   /* a request line, first byte to newline */
#define CP_REFUSE_LOG_NS       (10ull * 1000000000ull)  /* `busy` logged once per this */

struct cp_client {
	int fd;                    /* -1: free entry */
	bool admin;
	bool closing;              /* close once out is flushed; read no more */
	bool eof;                  /* peer shut its side: answer what is buffered, then close */
	pid_t pid;
	uid_t uid;
	char *in;                  /* max_request + 1 bytes */
	size_t in_len;
	size_t scanned;            /* in[0, scanned) holds no newline */
	uint64_t req_start_ns;     /* monotonic: when the unfinished line in `in` began; 0: none */
	char *out;
	size_t out_len, out_off, out_cap;
	uint64_t last_active_ns;   /* monotonic: connect, last complete request, reply taken */
	uint64_t id;               /* connection number, for the log */
	struct cp_deferred wait;   /* wait.job != 0: its reply comes with that job */
};

struct cp_ctl {
	struct cp *cp;
	int lfd[2];                /* [0] admin, [1] read-only; -1 when absent */
	char path[2][256];
	uint32_t max_clients, max_request;   /* max_clients: per socket */
	uint64_t idle_ns;
	struct cp_client *clients;  /* n_slots: [0, max_clients) admin, then read-only */
	uint32_t n_slots;
	uint32_t stream_rr;         /* the client replies in steps start with, next turn */
	uint32_t n_clients[2];      /* per socket, as lfd */
	uint64_t n_conn, n_busy, n_requests;
	/* refused connections are logged once per CP_REFUSE_LOG_NS per socket, with a count */
	uint64_t refuse_next_ns[2], refuse_quiet[2];
	pid_t refuse_pid[2];
	uid_t refuse_uid[2];
};

/* Bind and listen (as root, before the privilege drop): mode 0660; the admin socket's
 * group control.socket_group, the read-only one's control.socket_ro_group (empty: the
 * same), when set.  A stale socket file is replaced; a live one (another cp answering)
 * is an error. */
int cp_ctl_open(struct cp_ctl *c, struct cp *cp);
void cp_ctl_close(struct cp_ctl *c);

/* Fill up to max pollfds; returns how many. */
size_t cp_ctl_pollfds(struct cp_ctl *c, struct pollfd *pfd, size_t max);
/* Act on the poll results (the same array); now_ns monotonic.  Also enforces idle. */
void cp_ctl_process(struct cp_ctl *c, struct pollfd *pfd, size_t n, uint64_t now_ns);
/* Upper bound of pollfds needed. */
size_t cp_ctl_max_pollfds(const struct cp_ctl *c);

/* Job `job` ended with reply r: every client waiting on it gets its reply (jobs.h's
 * answer callback; ctx is the struct cp_ctl). */
void cp_ctl_answer(void *ctx, uint64_t job, const struct cp_reply *r);

#endif
