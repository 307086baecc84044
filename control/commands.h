/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * commands.h — the one ctl v1 command table (docs/ctl-v1.md) and request dispatch.
 *
 * Each command: dotted name, handler, positional argument spec (name, type, bounds,
 * required), access level, whether its reply is streamed, one help line.  Dispatch
 * parses a request line, checks it (JSON object, cmd, args/argv against the spec, access
 * of the socket it came from), calls the handler and renders the reply lines.  Handlers
 * only fill JSON data; rendering (text tables) is obscuractl's job.
 *
 * Single-threaded (the cp main loop).
 */
#ifndef OBSCURA_CP_COMMANDS_H
#define OBSCURA_CP_COMMANDS_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "cp.h"

/* Stable error codes (docs/ctl-v1.md "Replies"). */
enum cp_err {
	CP_E_OK = 0,
	CP_E_BAD_JSON,
	CP_E_BAD_REQUEST,
	CP_E_UNKNOWN_COMMAND,
	CP_E_BAD_ARGS,
	CP_E_DENIED,
	CP_E_TOO_LARGE,
	CP_E_BUSY,
	CP_E_UNAVAILABLE,
	CP_E_INTERNAL,
	CP_E_TIMEOUT,
};

const char *cp_err_code(enum cp_err e);

enum cp_access { CP_ACCESS_READ = 0, CP_ACCESS_ADMIN = 1 };
enum cp_arg_type { CP_ARG_INT, CP_ARG_STR };

struct cp_arg {
	const char *name;
	enum cp_arg_type type;
	bool required;
	long long min, max;            /* CP_ARG_INT bounds; CP_ARG_STR: max length */
	const char *help;
	bool words;                    /* a slot for free option words (--from X ...) that the
	                                * handler parses itself; `help` shows a run of them as
	                                * one [OPTIONS...] and the command's help line says which */
};

/*
 * A streamed reply produced in steps, for lists too long to build in one go: the
 * server calls next() between its loop turns (so between drain steps), a bounded time
 * per turn over all such replies, until it returns 0.  next() appends at most max rows
 * to rows and returns how many (0: the list is done), or -ENOMEM; fini() frees state
 * (after the end, or when the client goes).  The state holds what the handler copied,
 * so the list is the one of the moment of the request however long it takes to send.
 */
struct cp_cursor {
	long (*next)(struct cp *cp, void *state, json_t *rows, size_t max);
	void (*fini)(void *state);
	void *state;
};

/* What a handler returns: data (owned, may be NULL for null), or an error — or, for
 * work done in a background job (jobs.h), the job id in defer: the client's reply is
 * held until the job ends and is then its reply (while it waits, the client's further
 * requests wait too, so its replies stay in order; every other client is served) — or,
 * for a stream command, a cursor (the client's further requests wait the same way). */
struct cp_reply {
	json_t *data;
	/* reply-level fields beside "data" (e.g. the "integrity" stamp of the span a list
	 * covers, integrity.h): an object merged into the final line; NULL: none */
	json_t *meta;
	enum cp_err err;
	char msg[256];
	uint64_t defer;
	struct cp_cursor cursor;
};

static inline void cp_reply_defer(struct cp_reply *r, uint64_t job)
{
	r->defer = job;
}

/* args: an object holding exactly the declared arguments that were given, type-checked
 * and in range. */
typedef void (*cp_cmd_fn)(struct cp *cp, json_t *args, struct cp_reply *r);

struct cp_cmd {
	const char *name;
	cp_cmd_fn fn;
	const struct cp_arg *args;     /* NULL-name terminated, or NULL */
	enum cp_access access;
	bool stream;                   /* data is an array sent as chunks */
	const char *help;
};

/* Rows per streamed chunk line. */
#define CP_STREAM_CHUNK 256

/* The command of that name: the core's set (commands.c) first, then the sets analyses
 * registered (analysis.h), in order. */
const struct cp_cmd *cp_cmd_find(const char *name);
/* Add a set of commands (NULL-name terminated, static).  0, -EINVAL (a command without
 * a handler), -EEXIST (a name taken), -ENOSPC. */
int cp_cmd_register(const struct cp_cmd *set);
/* Back to the core's set alone (tests, shutdown). */
void cp_cmd_unregister_all(void);

/* Set a handler error (printf-style message). */
void cp_reply_err(struct cp_reply *r, enum cp_err e, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* A reply the handler deferred: the job, the request's id (a reference the caller
 * owns), the command — or the cursor of a reply produced in steps. */
struct cp_deferred {
	uint64_t job;                 /* 0: answered now */
	json_t *id;
	const struct cp_cmd *cmd;
	struct cp_cursor cursor;      /* cursor.next != NULL: cp_cmd_stream_step() it */
	size_t chunks;                /* chunk lines sent of it so far */
	bool admin;                   /* the socket it came from (the budget it counts in) */
};

/* Replies in steps at once per socket: each holds a copy of what it lists, so their
 * number is bounded; one more is answered `busy`.  Each socket has its own budget. */
#define CP_STEPS_MAX 4

/*
 * Handle one request line (without its newline).  Appends the reply lines, each ending
 * in '\n', to a newly allocated string (*out, *outlen; caller frees).  Never fails for
 * bad input — that is an error reply; returns -ENOMEM only if even that cannot be built.
 * A deferred reply: *out NULL, defer filled (cp_cmd_render_reply() renders it later);
 * a reply in steps: *out NULL, defer->cursor set (cp_cmd_stream_step() produces it).
 */
int cp_cmd_dispatch(struct cp *cp, const char *line, size_t len, bool admin,
                    char **out, size_t *outlen, struct cp_deferred *defer);
/* The reply lines of command c to request id, as cp_cmd_dispatch() would have built them. */
int cp_cmd_render_reply(const struct cp_cmd *c, json_t *id, const struct cp_reply *r,
                        char **out, size_t *outlen);

/* The next line of a reply in steps: a chunk, or at the end (or on a failure of the
 * cursor) the end line, when *done is set and the cursor freed.  -ENOMEM only if not
 * even an error line can be built (the cursor is freed then too). */
int cp_cmd_stream_step(struct cp *cp, struct cp_deferred *d, char **out, size_t *outlen,
                       bool *done);
/* Free the cursor of a reply in steps that will not be finished (the client went). */
void cp_cmd_stream_abort(struct cp_deferred *d);

/* The socket server's own figures, shown by `status` as "ctl": fn(ctx) returns a new
 * object.  Set by the server when it opens, cleared (NULL) when it closes. */
void cp_cmd_set_status_hook(json_t *(*fn)(void *ctx), void *ctx);
/* The hook's object, or NULL when none is set. */
json_t *cp_cmd_status_hook(void);

/* A single error reply line (for busy / too_large from the server). */
char *cp_cmd_error_line(json_t *id, enum cp_err e, const char *msg);

/* Handlers, by noun (cmd_*.c). */
void cp_cmd_help(struct cp *cp, json_t *args, struct cp_reply *r);
void cp_cmd_status(struct cp *cp, json_t *args, struct cp_reply *r);
void cp_cmd_stats(struct cp *cp, json_t *args, struct cp_reply *r);
/* The epochs lost with a dead dataplane this run (drain.h lost[]), each with the period
 * (analysis.period) it leaves partial: a JSON array for `status` and `stats`. */
json_t *cp_json_partial_periods(const struct cp *cp);
void cp_cmd_integrity(struct cp *cp, json_t *args, struct cp_reply *r);
extern const struct cp_arg cp_args_integrity[];
void cp_cmd_sources_top(struct cp *cp, json_t *args, struct cp_reply *r);
/* fingerprint (issue 14): sources.show ADDR (cmd_sources.c) */
void cp_cmd_sources_show(struct cp *cp, json_t *args, struct cp_reply *r);
/* JSON array of the names of the sensors in mask (cmd_sources.c). */
json_t *cp_sensor_names(const struct cp *cp, uint64_t mask);
void cp_cmd_config_show(struct cp *cp, json_t *args, struct cp_reply *r);
void cp_cmd_snapshot_now(struct cp *cp, json_t *args, struct cp_reply *r);
void cp_cmd_report_write(struct cp *cp, json_t *args, struct cp_reply *r);
/* fleet.c (fleetresp, issue 16) */
void cp_cmd_fleet_reload(struct cp *cp, json_t *args, struct cp_reply *r);
/* capture.c (capture.h) */
extern const struct cp_arg cp_args_capture_start[];
void cp_cmd_capture_start(struct cp *cp, json_t *args, struct cp_reply *r);
void cp_cmd_capture_stop(struct cp *cp, json_t *args, struct cp_reply *r);
void cp_cmd_capture_status(struct cp *cp, json_t *args, struct cp_reply *r);

#endif
