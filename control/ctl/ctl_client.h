/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl_client.h — the client side of ctl v1 (docs/ctl-v1.md): connect, greeting, one
 * request at a time, reply lines until "end":true with streamed chunks concatenated.
 *
 * Single-threaded; one struct ctl_conn per connection.  Nothing the server sends is
 * trusted: every line is size-capped, parsed as JSON and checked for shape, and a
 * violation is reported as a protocol error rather than acted on.
 */
#ifndef OBSCURA_CTL_CLIENT_H
#define OBSCURA_CTL_CLIENT_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#define CTL_PROTO        1
#define CTL_MAX_LINE     (256u << 20)   /* one reply line (a chunk) may be large, not unbounded */

enum ctl_err_kind {
	CTL_OK = 0,
	CTL_E_CONNECT,   /* could not connect: the daemon is not there (exit 2) */
	CTL_E_IO,        /* read/write failure, timeout, connection closed early */
	CTL_E_PROTO,     /* the server sent something that is not ctl v1 */
	CTL_E_SERVER,    /* an error reply: code and msg from the server */
};

struct ctl_err {
	enum ctl_err_kind kind;
	char code[64];    /* CTL_E_SERVER: the stable error code */
	char msg[512];
};

struct ctl_conn {
	int      fd;
	int      timeout_ms;   /* per read; <= 0: wait forever */
	uint64_t next_id;
	char    *buf;          /* received, not yet consumed bytes: [off, len) */
	size_t   len, off, cap;
	json_t  *hello;        /* the greeting's "hello" object */
	json_t  *commands;     /* the "help" table, fetched on demand */
	char     path[108];
};

/* Connect and read the greeting (proto must be 1).  0 or -1 with e filled. */
int ctl_open(struct ctl_conn *c, const char *path, int timeout_ms, struct ctl_err *e);
void ctl_close(struct ctl_conn *c);

/*
 * Send {"id","cmd","argv"} (argv may be NULL or empty) and collect the reply.
 * On success *data is the reply's data (a new reference; streamed chunks are joined
 * into one array).  -1 with e filled otherwise.
 */
int ctl_call(struct ctl_conn *c, const char *cmd, json_t *argv, json_t **data, struct ctl_err *e);

/* The command table from "help", fetched once per connection (borrowed reference). */
json_t *ctl_commands(struct ctl_conn *c, struct ctl_err *e);

/*
 * Map words to a command by the longest prefix that names one ("sources top 5" ->
 * "sources.top" + ["5"]; a word may itself be dotted).  Returns the number of words
 * consumed (>= 1) and copies the name into cmd, or 0 when nothing matches.
 */
int ctl_match(json_t *commands, char *const *words, int n_words, char *cmd, size_t cmdlen);

#endif
