/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * commands.c — the ctl v1 command table and request dispatch (commands.h).
 *
 * Everything a client sends is untrusted: the request is checked field by field before
 * anything is looked up, arguments are checked against the table's spec (count, type,
 * bounds) before a handler sees them, and every failure becomes an error reply with a
 * stable code — never a crash, never a dropped line.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture.h"
#include "cmd_tables.h"
#include "commands.h"
#include "fleet.h"
#include "grow.h"

/* Per-request budgets: a size argument has a cap that a typo cannot exceed (bad_args,
 * naming the range); the work itself is bounded per loop turn by producing long lists
 * in steps (cp_cursor), so even `sources.top 0` over millions of sources never holds up
 * the drain. */
#define CP_TOP_MAX 1000000

static const struct cp_arg cp_args_top[] = {
	{ "n", CP_ARG_INT, false, 0, CP_TOP_MAX,
	  "how many sources (default 10; 0: all; at most 1000000)", false },
	/* fingerprint (issue 14): sources labelled with one tool only */
	{ "tool", CP_ARG_STR, false, 0, 32, "only sources whose tool is this label (or --tool)",
	  false },
	{ "label", CP_ARG_STR, false, 0, 32, "the tool label after --tool", true },
	{ NULL, 0, false, 0, 0, NULL, false },
};

/* fingerprint (issue 14): everything known about one source */
static const struct cp_arg cp_args_sources_show[] = {
	{ "address", CP_ARG_STR, true, 0, 15, "source IPv4 address", false },
	{ NULL, 0, false, 0, 0, NULL, false },
};

static const struct cp_arg cp_args_report[] = {
	{ "dir", CP_ARG_STR, false, 0, 900,
	  "absolute directory to write into (default <state_dir>/reports/<UTC time>)", false },
	{ NULL, 0, false, 0, 0, NULL, false },
};

/* The core's commands; each analysis registers its own (analysis.h). */
static const struct cp_cmd cp_core_commands[] = {
	{ "help", cp_cmd_help, NULL, CP_ACCESS_READ, false,
	  "list the commands, their arguments and access level" },
	{ "status", cp_cmd_status, NULL, CP_ACCESS_READ, false,
	  "dataplane and control-plane state: boot, uptime, drain lag, losses, snapshots" },
	{ "stats", cp_cmd_stats, NULL, CP_ACCESS_READ, false,
	  "counter totals over all drained epochs: per worker, drops by reason, protocols, ports" },
	{ "integrity", cp_cmd_integrity, cp_args_integrity, CP_ACCESS_READ, false,
	  "loss stamps: per period (hour|day|week|month, default analysis.period) frames, drops, "
	  "imissed/rx_nombuf, lost updates, forced swaps, restarts, epochs missing, complete" },
	{ "sources.top", cp_cmd_sources_top, cp_args_top, CP_ACCESS_READ, true,
	  "top sources by packets (ties by address): first/last seen, packets, sensors, tool; "
	  "--tool T: only sources labelled T" },
	{ "sources.show", cp_cmd_sources_show, cp_args_sources_show, CP_ACCESS_READ, false,
	  "everything known about one source: packets, first/last, sensors, tables, RESIP, "
	  "tool label and per-tool SYNs, lifetime" },   /* fingerprint (issue 14) */
	{ "config.show", cp_cmd_config_show, NULL, CP_ACCESS_READ, false,
	  "the running configuration, normalised (every key)" },
	{ "snapshot.now", cp_cmd_snapshot_now, NULL, CP_ACCESS_ADMIN, false,
	  "write a snapshot of the period store now (in the background) and drop the journal it covers" },
	/* fleetresp (issue 16) */
	{ "fleet.reload", cp_cmd_fleet_reload, NULL, CP_ACCESS_ADMIN, false,
	  "obscura-cp --fleet: read ClickHouse again and rebuild the answers from it (new "
	  "exports seen); ClickHouse unreachable keeps the last load's" },
	{ "report.write", cp_cmd_report_write, cp_args_report, CP_ACCESS_ADMIN, false,
	  "write every registered report (Markdown + CSV) into a new directory; lists the files" },
	{ "tables.reload", cp_cmd_tables_reload, cp_args_tables_reload, CP_ACCESS_ADMIN, false,
	  "post a rebuild of the dataplane's read-mostly tables (swapped in under RCU); answers "
	  "with the request ids, `tables status` shows the outcome: [scanner|exclude|resip|rules|all]" },
	{ "tables.status", cp_cmd_tables_status, NULL, CP_ACCESS_READ, false,
	  "read-mostly tables: files, reloads in progress and their outcome (RESIP: the control "
	  "plane's copy)" },
	{ "capture.start", cp_cmd_capture_start, cp_args_capture_start, CP_ACCESS_ADMIN, false,
	  "start a pcapng capture in the dataplane of the packets a libpcap filter takes: "
	  "[--filter BPF] [--sensor S] [--max-packets N] [--max-bytes B] [--snaplen L] FILE.pcapng" },
	{ "capture.stop", cp_cmd_capture_stop, NULL, CP_ACCESS_ADMIN, false,
	  "stop the running capture (its file gets the statistics block and is closed)" },
	{ "capture.status", cp_cmd_capture_status, NULL, CP_ACCESS_READ, false,
	  "the capture: state, packets matched/written/dropped, bytes, file, filter" },
	{ NULL, NULL, NULL, 0, false, NULL },
};

/* The command table: the core's set, then every registered set in order. */
#define CP_MAX_CMD_SETS 16
static const struct cp_cmd *cp_cmd_sets[CP_MAX_CMD_SETS] = { cp_core_commands };
static unsigned cp_n_cmd_sets = 1;

static const char *const cp_err_codes[] = {
	[CP_E_OK] = "ok",
	[CP_E_BAD_JSON] = "bad_json",
	[CP_E_BAD_REQUEST] = "bad_request",
	[CP_E_UNKNOWN_COMMAND] = "unknown_command",
	[CP_E_BAD_ARGS] = "bad_args",
	[CP_E_DENIED] = "denied",
	[CP_E_TOO_LARGE] = "too_large",
	[CP_E_BUSY] = "busy",
	[CP_E_UNAVAILABLE] = "unavailable",
	[CP_E_INTERNAL] = "internal",
	[CP_E_TIMEOUT] = "timeout",
};

const char *cp_err_code(enum cp_err e)
{
	if ((unsigned)e >= sizeof(cp_err_codes) / sizeof(cp_err_codes[0]))
		return "internal";
	return cp_err_codes[e];
}

const struct cp_cmd *cp_cmd_find(const char *name)
{
	for (unsigned k = 0; k < cp_n_cmd_sets; k++)
		for (const struct cp_cmd *c = cp_cmd_sets[k]; c->name != NULL; c++)
			if (strcmp(c->name, name) == 0)
				return c;
	return NULL;
}

int cp_cmd_register(const struct cp_cmd *set)
{
	if (set == NULL)
		return -EINVAL;
	for (const struct cp_cmd *c = set; c->name != NULL; c++)
		if (c->fn == NULL || cp_cmd_find(c->name) != NULL)
			return c->fn == NULL ? -EINVAL : -EEXIST;
	if (cp_n_cmd_sets == CP_MAX_CMD_SETS)
		return -ENOSPC;
	cp_cmd_sets[cp_n_cmd_sets++] = set;
	return 0;
}

void cp_cmd_unregister_all(void)
{
	cp_n_cmd_sets = 1;
}

void cp_reply_err(struct cp_reply *r, enum cp_err e, const char *fmt, ...)
{
	va_list ap;

	r->err = e;
	va_start(ap, fmt);
	vsnprintf(r->msg, sizeof(r->msg), fmt, ap);
	va_end(ap);
	json_decref(r->data);
	r->data = NULL;
	json_decref(r->meta);
	r->meta = NULL;
}

/* One command's `help` entry. */
static json_t *cp_help_entry(const struct cp_cmd *c)
{
	json_t *names = json_array(), *spec = json_array();

	for (const struct cp_arg *a = c->args; a != NULL && a->name != NULL; a++) {
		if (!a->words)
			json_array_append_new(names, json_string(a->name));
		else if (a == c->args || !a[-1].words)
			json_array_append_new(names, json_string("OPTIONS..."));
		json_array_append_new(spec, json_pack("{s:s, s:s, s:b, s:I, s:I, s:s, s:b}",
			"name", a->name, "type", a->type == CP_ARG_INT ? "int" : "string",
			"required", a->required, "min", (json_int_t)a->min,
			"max", (json_int_t)a->max, "help", a->help, "words", a->words));
	}
	return json_pack("{s:s, s:o, s:o, s:s, s:b, s:s}",
		"cmd", c->name, "args", names, "arg_spec", spec,
		"access", c->access == CP_ACCESS_ADMIN ? "admin" : "read",
		"stream", c->stream, "help", c->help);
}

void cp_cmd_help(struct cp *cp, json_t *args, struct cp_reply *r)
{
	json_t *list = json_array();

	(void)cp;
	(void)args;
	for (unsigned k = 0; k < cp_n_cmd_sets; k++)
		for (const struct cp_cmd *c = cp_cmd_sets[k]; c->name != NULL; c++)
			json_array_append_new(list, cp_help_entry(c));
	r->data = list;
}

/* ---- argument checking ---- */

static const struct cp_arg *cp_arg_find(const struct cp_cmd *c, const char *name, size_t *idx)
{
	size_t i = 0;

	for (const struct cp_arg *a = c->args; a != NULL && a->name != NULL; a++, i++) {
		if (strcmp(a->name, name) == 0) {
			if (idx != NULL)
				*idx = i;
			return a;
		}
	}
	return NULL;
}

static size_t cp_n_args(const struct cp_cmd *c)
{
	size_t n = 0;

	for (const struct cp_arg *a = c->args; a != NULL && a->name != NULL; a++)
		n++;
	return n;
}

/* fingerprint (issue 14): does positional value v pass slot i?  Only an option word
 * ("--x") at an optional integer slot, when an option-word slot follows: an integer slot
 * can never hold it (it was an error before); a string slot keeps it, as `--unit` of
 * `life cdf --unit days` always has. */
static bool cp_argv_skips(const struct cp_cmd *c, size_t i, json_t *v)
{
	const char *s = json_string_value(v);

	if (s == NULL || strncmp(s, "--", 2) != 0 || c->args[i].required ||
	    c->args[i].type != CP_ARG_INT)
		return false;
	for (size_t k = i + 1; c->args[k].name != NULL; k++)
		if (c->args[k].words)
			return true;
	return false;
}

/* Check one value against its spec; a positional (argv) value arrives as a string and
 * is converted.  Returns the normalised value, or NULL with r set. */
static json_t *cp_arg_value(const struct cp_cmd *c, const struct cp_arg *a, json_t *v,
                            bool from_argv, struct cp_reply *r)
{
	if (a->type == CP_ARG_INT) {
		long long x;

		if (from_argv && json_is_string(v)) {
			const char *s = json_string_value(v);
			char *end;

			errno = 0;
			x = strtoll(s, &end, 10);
			if (*s == '\0' || *end != '\0' || errno != 0) {
				cp_reply_err(r, CP_E_BAD_ARGS, "%s: argument '%s' must be an integer, "
				             "not '%.64s'", c->name, a->name, s);
				return NULL;
			}
		} else if (!from_argv && json_is_integer(v)) {
			x = json_integer_value(v);
		} else {
			cp_reply_err(r, CP_E_BAD_ARGS, "%s: argument '%s' must be %s", c->name,
			             a->name, from_argv ? "a string (argv)" : "an integer");
			return NULL;
		}
		if (x < a->min || x > a->max) {
			cp_reply_err(r, CP_E_BAD_ARGS, "%s: argument '%s' = %lld out of range "
			             "%lld..%lld", c->name, a->name, x, a->min, a->max);
			return NULL;
		}
		return json_integer(x);
	}
	if (!json_is_string(v)) {
		cp_reply_err(r, CP_E_BAD_ARGS, "%s: argument '%s' must be a string", c->name,
		             a->name);
		return NULL;
	}
	if ((long long)json_string_length(v) > a->max) {
		cp_reply_err(r, CP_E_BAD_ARGS, "%s: argument '%s' longer than %lld bytes", c->name,
		             a->name, a->max);
		return NULL;
	}
	return json_incref(v);
}

static json_t *cp_args_check(const struct cp_cmd *c, json_t *req, struct cp_reply *r)
{
	json_t *args = json_object_get(req, "args"), *argv = json_object_get(req, "argv");
	json_t *out = json_object(), *v;
	size_t n_decl = cp_n_args(c);
	const char *key;

	if (args != NULL && json_is_null(args))
		args = NULL;
	if (argv != NULL && json_is_null(argv))
		argv = NULL;
	if (args != NULL && argv != NULL) {
		cp_reply_err(r, CP_E_BAD_ARGS, "give 'args' or 'argv', not both");
		goto err;
	}
	if (args != NULL) {
		if (!json_is_object(args)) {
			cp_reply_err(r, CP_E_BAD_ARGS, "'args' must be an object");
			goto err;
		}
		json_object_foreach(args, key, v) {
			const struct cp_arg *a = cp_arg_find(c, key, NULL);
			json_t *nv;

			if (a == NULL) {
				cp_reply_err(r, CP_E_BAD_ARGS, "%s: unknown argument '%.64s'%s", c->name,
				             key, n_decl ? "" : " (it takes none)");
				goto err;
			}
			nv = cp_arg_value(c, a, v, false, r);
			if (nv == NULL)
				goto err;
			json_object_set_new(out, a->name, nv);
		}
	}
	if (argv != NULL) {
		if (!json_is_array(argv)) {
			cp_reply_err(r, CP_E_BAD_ARGS, "'argv' must be an array of strings");
			goto err;
		}
		if (json_array_size(argv) > n_decl) {
			cp_reply_err(r, CP_E_BAD_ARGS, "%s takes at most %zu argument(s), got %zu",
			             c->name, n_decl, json_array_size(argv));
			goto err;
		}
		for (size_t i = 0, slot = 0; i < json_array_size(argv); i++) {
			const struct cp_arg *a;
			json_t *nv;

			/* fingerprint (issue 14): an option word ("--tool") passes the optional
			 * plain slots before the option-word slots (`sources top --tool T`) */
			while (slot < n_decl && cp_argv_skips(c, slot, json_array_get(argv, i)))
				slot++;
			if (slot >= n_decl) {
				cp_reply_err(r, CP_E_BAD_ARGS, "%s takes at most %zu argument(s)",
				             c->name, n_decl);
				goto err;
			}
			a = &c->args[slot++];
			nv = cp_arg_value(c, a, json_array_get(argv, i), true, r);

			if (nv == NULL)
				goto err;
			json_object_set_new(out, a->name, nv);
		}
	}
	for (const struct cp_arg *a = c->args; a != NULL && a->name != NULL; a++) {
		if (a->required && json_object_get(out, a->name) == NULL) {
			cp_reply_err(r, CP_E_BAD_ARGS, "%s: missing argument '%s'", c->name, a->name);
			goto err;
		}
	}
	return out;
err:
	json_decref(out);
	return NULL;
}

/* ---- rendering ---- */

/* One reply line (obj as compact JSON, then '\n') appended to b; the buffer keeps a NUL
 * after its last line, not counted in len. */
static void cp_sbuf_line(struct cp_buf *b, json_t *obj)
{
	char *s;

	if (obj == NULL) {
		b->oom = true;
		return;
	}
	s = json_dumps(obj, JSON_COMPACT);
	json_decref(obj);
	if (s == NULL) {
		b->oom = true;
		return;
	}
	cp_buf_put(b, s, strlen(s));
	cp_buf_put(b, "\n", 2);      /* the newline and the NUL */
	if (!b->oom)
		b->len--;
	free(s);
}

/* Bytes of the valid UTF-8 sequence at s as jansson accepts one (shortest form, no
 * surrogate, at most U+10FFFF), or 0. */
static size_t cp_utf8_len(const unsigned char *s)
{
	size_t n;
	uint32_t c;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		n = 2;
		c = s[0] & 0x1fu;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 3;
		c = s[0] & 0x0fu;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4;
		c = s[0] & 0x07u;
	} else {
		return 0;
	}
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)   /* the terminating NUL stops here too */
			return 0;
		c = (c << 6) | (s[i] & 0x3fu);
	}
	if ((n == 3 && c < 0x800) || (n == 4 && c < 0x10000) || c > 0x10ffff ||
	    (c >= 0xd800 && c <= 0xdfff))
		return 0;
	return n;
}

/*
 * An error message carries client bytes (a command name, an argument, jansson's
 * "near '...'" excerpt) cut at a byte count, which can split a UTF-8 sequence or
 * hold none; json_pack() refuses such a string, and the reply became "internal: out of
 * memory".  Copy msg into out (len bytes) with each byte that does not begin a
 * complete valid sequence replaced by '?'.
 */
static void cp_utf8_clean(const char *msg, char *out, size_t len)
{
	const unsigned char *s = (const unsigned char *)msg;
	size_t o = 0;

	while (*s != '\0' && o + 1 < len) {
		size_t n = cp_utf8_len(s);

		if (n == 0) {
			out[o++] = '?';
			s++;
			continue;
		}
		if (o + n >= len)
			break;
		memcpy(out + o, s, n);
		o += n;
		s += n;
	}
	out[o] = '\0';
}

static json_t *cp_error_obj(json_t *id, enum cp_err e, const char *msg)
{
	char clean[512];

	cp_utf8_clean(msg, clean, sizeof(clean));
	return json_pack("{s:O, s:b, s:{s:s, s:s}, s:b}", "id", id, "ok", 0, "error",
	                 "code", cp_err_code(e), "msg", clean, "end", 1);
}

char *cp_cmd_error_line(json_t *id, enum cp_err e, const char *msg)
{
	struct cp_buf b = { 0 };
	json_t *nid = id != NULL ? id : json_null();

	cp_sbuf_line(&b, cp_error_obj(nid, e, msg));
	if (b.oom) {
		free(b.p);
		return NULL;
	}
	return (char *)b.p;
}

/* The reply's final line, its reply-level fields (r->meta) beside what the protocol
 * sets: those never replace id, ok, data, end or chunks. */
static json_t *cp_with_meta(json_t *line, const struct cp_reply *r)
{
	if (line != NULL && json_is_object(r->meta))
		json_object_update_missing(line, r->meta);
	return line;
}

static void cp_render(struct cp_buf *b, const struct cp_cmd *c, json_t *id,
                      const struct cp_reply *r)
{
	if (r->err != CP_E_OK) {
		cp_sbuf_line(b, cp_error_obj(id, r->err, r->msg));
		return;
	}
	if (c->stream && json_is_array(r->data)) {
		size_t n = json_array_size(r->data), chunks = 0;

		for (size_t i = 0; i < n; i += CP_STREAM_CHUNK) {
			json_t *chunk = json_array();

			for (size_t k = i; k < n && k < i + CP_STREAM_CHUNK; k++)
				json_array_append(chunk, json_array_get(r->data, k));
			cp_sbuf_line(b, json_pack("{s:O, s:b, s:o}", "id", id, "ok", 1, "chunk", chunk));
			chunks++;
		}
		cp_sbuf_line(b, cp_with_meta(json_pack("{s:O, s:b, s:b, s:I}", "id", id, "ok", 1,
		                                       "end", 1, "chunks", (json_int_t)chunks), r));
		return;
	}
	cp_sbuf_line(b, cp_with_meta(json_pack("{s:O, s:b, s:O, s:b}", "id", id, "ok", 1,
	                                       "data", r->data != NULL ? r->data : json_null(),
	                                       "end", 1), r));
}

/* The lines in b as the caller's buffer, or one error line when b ran out of memory. */
static int cp_sbuf_take(struct cp_buf *b, char **out, size_t *outlen)
{
	if (b->oom) {
		free(b->p);
		*out = cp_cmd_error_line(NULL, CP_E_INTERNAL, "out of memory");
		if (*out == NULL)
			return -ENOMEM;
		*outlen = strlen(*out);
		return 0;
	}
	*out = (char *)b->p;
	*outlen = b->len;
	return 0;
}

int cp_cmd_render_reply(const struct cp_cmd *c, json_t *id, const struct cp_reply *r,
                        char **out, size_t *outlen)
{
	struct cp_buf b = { 0 };
	struct cp_reply chk = *r;

	if (chk.err == CP_E_OK && c->stream && !json_is_array(chk.data)) {
		chk.data = NULL;
		cp_reply_err(&chk, CP_E_INTERNAL, "%s: handler returned no list", c->name);
	}
	cp_render(&b, c, id != NULL ? id : json_null(), &chk);
	return cp_sbuf_take(&b, out, outlen);
}

static unsigned cp_steps_active[2];   /* replies in steps, [admin] */

static json_t *(*cp_status_fn)(void *ctx);
static void *cp_status_ctx;

void cp_cmd_set_status_hook(json_t *(*fn)(void *ctx), void *ctx)
{
	cp_status_fn = fn;
	cp_status_ctx = ctx;
}

json_t *cp_cmd_status_hook(void)
{
	return cp_status_fn != NULL ? cp_status_fn(cp_status_ctx) : NULL;
}

void cp_cmd_stream_abort(struct cp_deferred *d)
{
	if (d->cursor.next == NULL)
		return;
	cp_steps_active[d->admin]--;
	if (d->cursor.fini != NULL)
		d->cursor.fini(d->cursor.state);
	memset(&d->cursor, 0, sizeof(d->cursor));
}

int cp_cmd_stream_step(struct cp *cp, struct cp_deferred *d, char **out, size_t *outlen,
                       bool *done)
{
	struct cp_buf b = { 0 };
	json_t *id = d->id != NULL ? d->id : json_null();
	json_t *rows = json_array();
	long k = rows != NULL ? d->cursor.next(cp, d->cursor.state, rows, CP_STREAM_CHUNK)
	                      : -ENOMEM;

	*done = k <= 0;
	if (k > 0) {
		cp_sbuf_line(&b, json_pack("{s:O, s:b, s:o}", "id", id, "ok", 1, "chunk", rows));
		d->chunks++;
	} else {
		json_decref(rows);
		if (k < 0) {
			char msg[128];

			snprintf(msg, sizeof(msg), "%s: out of memory after %zu chunk(s); the list "
			         "is incomplete", d->cmd->name, d->chunks);
			cp_sbuf_line(&b, cp_error_obj(id, CP_E_INTERNAL, msg));
		} else {
			cp_sbuf_line(&b, json_pack("{s:O, s:b, s:b, s:I}", "id", id, "ok", 1,
			                          "end", 1, "chunks", (json_int_t)d->chunks));
		}
		cp_cmd_stream_abort(d);
	}
	if (b.oom && !*done) {
		/* not even this chunk: end the reply with an error line */
		cp_cmd_stream_abort(d);
		*done = true;
	}
	return cp_sbuf_take(&b, out, outlen);
}

int cp_cmd_dispatch(struct cp *cp, const char *line, size_t len, bool admin,
                    char **out, size_t *outlen, struct cp_deferred *defer)
{
	struct cp_buf b = { 0 };
	struct cp_reply r = { .data = NULL, .err = CP_E_OK };
	const struct cp_cmd *c = NULL;
	json_t *req, *id = json_null(), *jid, *jcmd, *args = NULL;
	const char *why;

	defer->job = 0;
	json_error_t jerr;

	/* DECODE_ANY: a bare scalar is valid JSON, just not a request (bad_request) */
	req = json_loadb(line, len, JSON_DECODE_ANY, &jerr);
	if (req == NULL) {
		cp_reply_err(&r, CP_E_BAD_JSON, "invalid JSON at line %d column %d: %s",
		             jerr.line, jerr.column, jerr.text);
		goto render;
	}
	if (!json_is_object(req)) {
		cp_reply_err(&r, CP_E_BAD_REQUEST, "a request is a JSON object "
		             "{\"id\":N,\"cmd\":\"...\",\"args\":{}}");
		goto render;
	}
	jid = json_object_get(req, "id");
	if (json_is_integer(jid))
		id = jid;
	jcmd = json_object_get(req, "cmd");
	if (!json_is_string(jcmd)) {
		cp_reply_err(&r, CP_E_BAD_REQUEST, "missing or non-string 'cmd'");
		goto render;
	}
	c = cp_cmd_find(json_string_value(jcmd));
	if (c == NULL) {
		cp_reply_err(&r, CP_E_UNKNOWN_COMMAND, "no command '%.64s'; try 'help'",
		             json_string_value(jcmd));
		goto render;
	}
	if (c->access == CP_ACCESS_ADMIN && !admin) {
		cp_reply_err(&r, CP_E_DENIED, "'%s' needs admin access; this is the read-only "
		             "socket", c->name);
		goto render;
	}
	/* fleet (fleet.h): commands that act on a dataplane or a local state are refused */
	if (cp->fleet.on && (why = cp_fleet_refuses(&cp->fleet, c->name)) != NULL) {
		cp_reply_err(&r, CP_E_UNAVAILABLE, "'%s' is not answered by obscura-cp --fleet: %s",
		             c->name, why);
		goto render;
	}
	args = cp_args_check(c, req, &r);
	if (args == NULL)
		goto render;
	c->fn(cp, args, &r);
	if (r.cursor.next != NULL && (r.err != CP_E_OK || !c->stream || r.defer != 0 ||
	                              cp_steps_active[admin] >= CP_STEPS_MAX)) {
		if (r.cursor.fini != NULL)
			r.cursor.fini(r.cursor.state);
		memset(&r.cursor, 0, sizeof(r.cursor));
		if (r.err == CP_E_OK && (!c->stream || r.defer != 0))
			cp_reply_err(&r, CP_E_INTERNAL, "%s: a cursor from a command that is not "
			             "streamed", c->name);
		else if (r.err == CP_E_OK)
			cp_reply_err(&r, CP_E_BUSY, "%u long lists are being sent on this socket "
			             "already; try again when one has ended", CP_STEPS_MAX);
	}
	if (r.err == CP_E_OK && (r.defer != 0 || r.cursor.next != NULL)) {
		/* the server holds the client's reply: the job's, when it ends (jobs.h), or
		 * the list, produced in steps (cp_cmd_stream_step) */
		if (r.cursor.next != NULL) {
			cp_steps_active[admin]++;
			defer->cursor = r.cursor;
			defer->admin = admin;
			defer->chunks = 0;
		} else {
			defer->job = r.defer;
		}
		defer->id = json_incref(id);
		defer->cmd = c;
		json_decref(r.data);
		json_decref(r.meta);
		json_decref(args);
		json_decref(req);
		*out = NULL;
		*outlen = 0;
		return 0;
	}
	if (r.err == CP_E_OK && c->stream && !json_is_array(r.data))
		cp_reply_err(&r, CP_E_INTERNAL, "%s: handler returned no list", c->name);
render:
	cp_render(&b, c, id, &r);
	json_decref(r.data);
	json_decref(r.meta);
	json_decref(args);
	json_decref(req);   /* id borrowed from req until here */
	return cp_sbuf_take(&b, out, outlen);
}
