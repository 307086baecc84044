/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl_client.c — ctl v1 over a UNIX stream socket (ctl_client.h, docs/ctl-v1.md).
 *
 * Reads are buffered and line-framed by hand so a reply can be checked line by line
 * (a streamed reply is many lines), each read waits at most timeout_ms (poll), and a
 * line longer than CTL_MAX_LINE is refused instead of growing without bound.
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctl_client.h"

static void ctl_seterr(struct ctl_err *e, enum ctl_err_kind kind, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void ctl_seterr(struct ctl_err *e, enum ctl_err_kind kind, const char *fmt, ...)
{
	va_list ap;
	e->kind = kind;
	e->code[0] = '\0';
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof e->msg, fmt, ap);
	va_end(ap);
}

/* Next line without its '\n' (NUL-terminated in place, *n bytes): 1, 0 on EOF, -1 on error. */
static int ctl_read_line(struct ctl_conn *c, char **line, size_t *n_out, struct ctl_err *e)
{
	for (;;) {
		char *nl = c->len > c->off ? memchr(c->buf + c->off, '\n', c->len - c->off) : NULL;
		if (nl) {
			*nl = '\0';
			*line = c->buf + c->off;
			*n_out = (size_t)(nl - *line);
			c->off = (size_t)(nl - c->buf) + 1;
			return 1;
		}
		if (c->len - c->off > CTL_MAX_LINE) {
			ctl_seterr(e, CTL_E_PROTO, "reply line longer than %u bytes", CTL_MAX_LINE);
			return -1;
		}
		if (c->off) {   /* keep the unconsumed tail at the start */
			memmove(c->buf, c->buf + c->off, c->len - c->off);
			c->len -= c->off;
			c->off = 0;
		}
		if (c->cap - c->len < 4096) {
			size_t ncap = c->cap ? c->cap * 2 : 65536;
			char *nb = realloc(c->buf, ncap + 1);
			if (!nb) {
				ctl_seterr(e, CTL_E_IO, "out of memory");
				return -1;
			}
			c->buf = nb;
			c->cap = ncap;
		}
		struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
		int r = poll(&pfd, 1, c->timeout_ms > 0 ? c->timeout_ms : -1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			ctl_seterr(e, CTL_E_IO, "poll: %s", strerror(errno));
			return -1;
		}
		if (r == 0) {
			ctl_seterr(e, CTL_E_IO, "no reply from %s within %d s", c->path, c->timeout_ms / 1000);
			return -1;
		}
		ssize_t n = read(c->fd, c->buf + c->len, c->cap - c->len);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0) {
			ctl_seterr(e, CTL_E_IO, "read %s: %s", c->path, strerror(errno));
			return -1;
		}
		if (n == 0) {
			if (c->len > c->off)
				ctl_seterr(e, CTL_E_PROTO, "connection closed in the middle of a line");
			else
				ctl_seterr(e, CTL_E_IO, "connection closed by the server");
			return c->len > c->off ? -1 : 0;
		}
		c->len += (size_t)n;
	}
}

/* Read one line and parse it as a JSON object. */
static json_t *ctl_read_obj(struct ctl_conn *c, const char *what, struct ctl_err *e)
{
	char *line;
	size_t n;
	int r = ctl_read_line(c, &line, &n, e);
	if (r == 0)
		ctl_seterr(e, CTL_E_IO, "connection closed before the %s", what);
	if (r <= 0)
		return NULL;
	json_error_t je;
	/* by length: a NUL inside the line is garbage, not the end of it */
	json_t *o = json_loadb(line, n, JSON_REJECT_DUPLICATES, &je);
	if (!o) {
		ctl_seterr(e, CTL_E_PROTO, "bad JSON in the %s: %s (column %d)", what, je.text, je.column);
		return NULL;
	}
	if (!json_is_object(o)) {
		json_decref(o);
		ctl_seterr(e, CTL_E_PROTO, "the %s is not a JSON object", what);
		return NULL;
	}
	return o;
}

static int ctl_write_all(struct ctl_conn *c, const char *p, size_t n, struct ctl_err *e)
{
	while (n) {
		/* MSG_NOSIGNAL: a closed server is an error to report, not a SIGPIPE death */
		ssize_t w = send(c->fd, p, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			ctl_seterr(e, CTL_E_IO, "write %s: %s", c->path, strerror(errno));
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Fill e from an {"ok":false,"error":{...}} line. */
static void ctl_server_error(json_t *o, struct ctl_err *e)
{
	json_t *err = json_object_get(o, "error");
	const char *code = json_string_value(json_object_get(err, "code"));
	const char *msg = json_string_value(json_object_get(err, "msg"));
	ctl_seterr(e, CTL_E_SERVER, "%s", msg ? msg : "(no message)");
	snprintf(e->code, sizeof e->code, "%s", code ? code : "unknown");
}

int ctl_open(struct ctl_conn *c, const char *path, int timeout_ms, struct ctl_err *e)
{
	memset(c, 0, sizeof *c);
	c->fd = -1;
	c->timeout_ms = timeout_ms;
	c->next_id = 1;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof sa.sun_path) {
		ctl_seterr(e, CTL_E_CONNECT, "cannot connect to %s: path too long", path);
		return -1;
	}
	memcpy(c->path, path, strlen(path) + 1);   /* fits: checked against sun_path, same size */
	memcpy(sa.sun_path, path, strlen(path) + 1);
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		ctl_seterr(e, CTL_E_CONNECT, "socket: %s", strerror(errno));
		return -1;
	}
	if (connect(c->fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		int err = errno;
		ctl_seterr(e, CTL_E_CONNECT, "cannot connect to %s: %s%s", path, strerror(err),
		           err == EACCES ? " (is your user in the socket's group?)" :
		           " (is obscura-cp running?)");
		goto fail_fd;
	}
	json_t *g = ctl_read_obj(c, "greeting", e);
	if (!g)
		goto fail_fd;
	json_t *hello = json_object_get(g, "hello");
	if (!hello) {
		if (json_object_get(g, "error"))   /* "busy" comes in place of the greeting */
			ctl_server_error(g, e);
		else
			ctl_seterr(e, CTL_E_PROTO, "no greeting from %s (is it an obscura-cp socket?)", path);
		goto fail_g;
	}
	json_t *proto = json_object_get(hello, "proto");
	if (!json_is_integer(proto) || json_integer_value(proto) != CTL_PROTO) {
		if (json_is_integer(proto))
			ctl_seterr(e, CTL_E_PROTO, "server speaks ctl protocol %lld, this obscuractl speaks %d",
			           (long long)json_integer_value(proto), CTL_PROTO);
		else
			ctl_seterr(e, CTL_E_PROTO, "greeting without a protocol version");
		goto fail_g;
	}
	c->hello = json_incref(hello);
	json_decref(g);
	return 0;
fail_g:
	json_decref(g);
fail_fd:
	close(c->fd);
	c->fd = -1;
	return -1;
}

void ctl_close(struct ctl_conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	json_decref(c->hello);
	json_decref(c->commands);
	free(c->buf);
	c->hello = c->commands = NULL;
	c->buf = NULL;
	c->len = c->off = c->cap = 0;
}

int ctl_call(struct ctl_conn *c, const char *cmd, json_t *argv, json_t **data, struct ctl_err *e)
{
	*data = NULL;
	uint64_t id = c->next_id++;
	json_t *req = json_pack("{sIss}", "id", (json_int_t)id, "cmd", cmd);
	if (argv && json_array_size(argv))
		json_object_set(req, "argv", argv);
	char *s = json_dumps(req, JSON_COMPACT);
	json_decref(req);
	if (!s) {
		ctl_seterr(e, CTL_E_IO, "out of memory");
		return -1;
	}
	/* one write of the whole line, so a server reading lines never sees half of one */
	size_t n = strlen(s);
	char *line = realloc(s, n + 2);
	if (!line) {
		free(s);
		ctl_seterr(e, CTL_E_IO, "out of memory");
		return -1;
	}
	line[n] = '\n';
	line[n + 1] = '\0';
	int r = ctl_write_all(c, line, n + 1, e);
	free(line);
	if (r)
		return -1;

	json_t *chunks = NULL, *result = NULL;
	for (;;) {
		json_t *o = ctl_read_obj(c, "reply", e);
		if (!o)
			goto fail;
		json_t *rid = json_object_get(o, "id");
		if (json_is_integer(rid) && (uint64_t)json_integer_value(rid) != id) {
			ctl_seterr(e, CTL_E_PROTO, "reply for request %lld while waiting for %llu",
			           (long long)json_integer_value(rid), (unsigned long long)id);
			json_decref(o);
			goto fail;
		}
		json_t *ok = json_object_get(o, "ok");
		if (!json_is_boolean(ok)) {
			ctl_seterr(e, CTL_E_PROTO, "reply without \"ok\"");
			json_decref(o);
			goto fail;
		}
		if (json_is_false(ok)) {
			ctl_server_error(o, e);
			json_decref(o);
			goto fail;   /* an error line always ends the reply */
		}
		json_t *chunk = json_object_get(o, "chunk"), *d = json_object_get(o, "data");
		if (chunk) {
			if (!json_is_array(chunk) || result) {
				ctl_seterr(e, CTL_E_PROTO, result ? "chunk after data" : "chunk is not an array");
				json_decref(o);
				goto fail;
			}
			if (!chunks)
				chunks = json_array();
			json_array_extend(chunks, chunk);
		}
		if (d) {
			if (chunks || result) {
				ctl_seterr(e, CTL_E_PROTO, "data mixed with chunks");
				json_decref(o);
				goto fail;
			}
			result = json_incref(d);
		}
		json_t *end = json_object_get(o, "end");
		int is_end = json_is_true(end);
		if (is_end && !result && !chunks && json_object_get(o, "chunks"))
			chunks = json_array();   /* a streamed reply with zero chunks: an empty list */
		json_decref(o);
		if (is_end)
			break;
	}
	*data = result ? result : chunks ? chunks : json_null();
	if (result && chunks)
		json_decref(chunks);
	return 0;
fail:
	json_decref(chunks);
	json_decref(result);
	return -1;
}

json_t *ctl_commands(struct ctl_conn *c, struct ctl_err *e)
{
	if (c->commands)
		return c->commands;
	json_t *d;
	if (ctl_call(c, "help", NULL, &d, e))
		return NULL;
	if (!json_is_array(d)) {
		json_decref(d);
		ctl_seterr(e, CTL_E_PROTO, "help did not return a list of commands");
		return NULL;
	}
	c->commands = d;
	return d;
}

static int ctl_known(json_t *commands, const char *name)
{
	size_t i;
	json_t *v;
	json_array_foreach(commands, i, v) {
		const char *n = json_string_value(json_object_get(v, "cmd"));
		if (n && !strcmp(n, name))
			return 1;
	}
	return 0;
}

int ctl_match(json_t *commands, char *const *words, int n_words, char *cmd, size_t cmdlen)
{
	for (int k = n_words; k >= 1; k--) {
		char name[256];
		size_t used = 0;
		int fits = 1;
		for (int i = 0; i < k && fits; i++) {
			int w = snprintf(name + used, sizeof name - used, "%s%s", i ? "." : "", words[i]);
			if (w < 0 || (size_t)w >= sizeof name - used)
				fits = 0;
			else
				used += (size_t)w;
		}
		if (fits && ctl_known(commands, name)) {
			snprintf(cmd, cmdlen, "%s", name);
			return k;
		}
	}
	return 0;
}
