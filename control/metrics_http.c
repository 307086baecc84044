/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * metrics_http.c — GET /metrics over libmicrohttpd (metrics.h).
 *
 * The listener is bound by us (before the privilege drop) and handed to libmicrohttpd,
 * which answers from its own internal polling thread.  That thread touches exactly one
 * piece of control-plane state: the published text, copied out under m->mu.  The main
 * loop renders off the lock and holds it only for the pointer swap.  The HTTP thread
 * has SIGTERM, SIGINT and SIGHUP blocked, so the signals still reach the main loop's
 * poll().  Anything but GET/HEAD /metrics is answered 404 (another path) or 405.  A
 * forked child closes its copy of the listener (pthread_atfork), so a job outliving
 * its parent never holds the port.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <microhttpd.h>

#include "conf.h"
#include "cp.h"
#include "cp_log.h"
#include "metrics.h"

int cp_metrics_bind(struct cp_metrics *m, const char *addr)
{
	struct sockaddr_storage ss;
	const char *why;
	uint32_t len;
	int fd, one = 1, err;

	memset(m, 0, sizeof(*m));
	m->fd = -1;
	pthread_mutex_init(&m->mu, NULL);
	snprintf(m->listen, sizeof(m->listen), "%s", addr);
	if (addr[0] == '\0')
		return 0;
	if (obs_conf_parse_listen(addr, &ss, &len, &why) != 0) {
		CP_ERR("control.metrics_listen '%s': %s", addr, why);
		return -EINVAL;
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		err = errno;
		CP_ERR("control.metrics_listen '%s': socket: %s", addr, strerror(err));
		return -err;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) != 0 || listen(fd, 64) != 0) {
		err = errno;
		CP_ERR("control.metrics_listen '%s': cannot listen: %s", addr, strerror(err));
		close(fd);
		return -err;
	}
	m->fd = fd;
	return 0;
}

static enum MHD_Result cp_metrics_queue(struct MHD_Connection *c, unsigned status,
                                        const char *body, size_t len, enum MHD_ResponseMemoryMode mode,
                                        const char *type)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, (void *)body, mode);
	enum MHD_Result ret;

	if (r == NULL) {
		if (mode == MHD_RESPMEM_MUST_FREE)
			free((void *)body);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

/* libmicrohttpd's thread: one request, answered from the published copy. */
static enum MHD_Result cp_metrics_answer(void *cls, struct MHD_Connection *c, const char *url,
                                         const char *method, const char *version,
                                         const char *upload, size_t *upload_len, void **req)
{
	static const char not_found[] = "404 not found: only GET " CP_METRICS_PATH " is served\n";
	static const char not_allowed[] = "405 method not allowed: GET or HEAD\n";
	static const char not_ready[] = "503 metrics not rendered yet\n";
	struct cp_metrics *m = cls;
	char *copy = NULL;
	size_t len = 0;

	(void)version;
	(void)upload;
	(void)upload_len;
	(void)req;
	if (strcmp(url, CP_METRICS_PATH) != 0)
		return cp_metrics_queue(c, MHD_HTTP_NOT_FOUND, not_found, sizeof(not_found) - 1,
		                        MHD_RESPMEM_PERSISTENT, "text/plain; charset=utf-8");
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		return cp_metrics_queue(c, MHD_HTTP_METHOD_NOT_ALLOWED, not_allowed,
		                        sizeof(not_allowed) - 1, MHD_RESPMEM_PERSISTENT,
		                        "text/plain; charset=utf-8");
	pthread_mutex_lock(&m->mu);
	if (m->text != NULL) {
		copy = malloc(m->len ? m->len : 1);
		if (copy != NULL) {
			memcpy(copy, m->text, m->len);
			len = m->len;
		}
	}
	m->scrapes++;
	pthread_mutex_unlock(&m->mu);
	if (copy == NULL)
		return cp_metrics_queue(c, MHD_HTTP_SERVICE_UNAVAILABLE, not_ready,
		                        sizeof(not_ready) - 1, MHD_RESPMEM_PERSISTENT,
		                        "text/plain; charset=utf-8");
	return cp_metrics_queue(c, MHD_HTTP_OK, copy, len, MHD_RESPMEM_MUST_FREE,
	                        CP_METRICS_CONTENT_TYPE);
}

/* Render into a new buffer, swap it in; the old text is freed off the lock. */
static void cp_metrics_publish(struct cp_metrics *m, struct cp *cp)
{
	struct cp_mx x = { 0 };
	char *old;

	cp_metrics_render(cp, &x);
	m->renders++;
	if (x.b.oom) {
		/* keep serving the previous text; counted, logged once */
		if (m->render_oom++ == 0)
			CP_ERR("metrics: out of memory rendering /metrics; serving the previous text");
		free(x.b.p);
		return;
	}
	pthread_mutex_lock(&m->mu);
	old = m->text;
	m->text = (char *)x.b.p;
	m->len = x.b.len;
	pthread_mutex_unlock(&m->mu);
	free(old);
}

/* The listener as a forked child (a snapshot or report job, jobs.h) must not keep it:
 * a child outliving a crashed obscura-cp would hold the port and fail the restart's
 * bind.  The child closes its copy at once (pthread_atfork: whatever forks). */
static int cp_metrics_fork_fd = -1;

static void cp_metrics_atfork_child(void)
{
	if (cp_metrics_fork_fd >= 0)
		close(cp_metrics_fork_fd);
	cp_metrics_fork_fd = -1;
}

int cp_metrics_start(struct cp_metrics *m, struct cp *cp)
{
	static bool atfork_done;
	sigset_t block, old;

	if (m->fd < 0)
		return 0;
	if (!atfork_done && pthread_atfork(NULL, NULL, cp_metrics_atfork_child) == 0)
		atfork_done = true;
	cp_metrics_fork_fd = m->fd;
	cp_metrics_publish(m, cp);
	m->next_render_ns = cp_mono_ns() + CP_METRICS_RENDER_NS;
	/* the thread libmicrohttpd starts inherits this mask */
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	m->mhd = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, 0,
		NULL, NULL, cp_metrics_answer, m,
		MHD_OPTION_LISTEN_SOCKET, (MHD_socket)m->fd,
		MHD_OPTION_CONNECTION_LIMIT, (unsigned)16,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)10,
		MHD_OPTION_END);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (m->mhd == NULL) {
		CP_ERR("control.metrics_listen '%s': cannot start the HTTP server", m->listen);
		return -EIO;
	}
	CP_NOTICE("metrics: serving http://%s%s", m->listen, CP_METRICS_PATH);
	return 0;
}

void cp_metrics_poll(struct cp_metrics *m, struct cp *cp, uint64_t now_ns, bool force)
{
	if (m->mhd == NULL || (!force && now_ns < m->next_render_ns))
		return;
	cp_metrics_publish(m, cp);
	m->next_render_ns = now_ns + CP_METRICS_RENDER_NS;
}

uint64_t cp_metrics_scrapes(struct cp_metrics *m)
{
	uint64_t n;

	pthread_mutex_lock(&m->mu);
	n = m->scrapes;
	pthread_mutex_unlock(&m->mu);
	return n;
}

void cp_metrics_stop(struct cp_metrics *m)
{
	cp_metrics_fork_fd = -1;
	if (m->mhd != NULL) {
		MHD_stop_daemon(m->mhd);   /* joins its thread and closes the listener */
		m->fd = -1;
	}
	m->mhd = NULL;
	if (m->fd >= 0)
		close(m->fd);
	m->fd = -1;
	free(m->text);
	m->text = NULL;
	pthread_mutex_destroy(&m->mu);
}
