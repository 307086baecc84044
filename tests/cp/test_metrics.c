/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_metrics.c — unit tests of /metrics (control/metrics.c, metrics_http.c) in-process:
 * the exposition builder's HELP/TYPE lines and escaping, the listener's errors (an
 * address that does not parse, a port already bound), GET /metrics answered from the
 * published text (and re-published after the state changed), 404 for another path,
 * a forked child (a snapshot or report job) holding no copy of the listener, and the
 * rule matches by sid (an epoch without records applies: it once was refused).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "cp.h"
#include "exchange_recs.h"
#include "metrics.h"
#include "store.h"
#include "../fixtures/test_main.h"

static struct cp cp;   /* big: not on the stack */

static int setup(void **state)
{
	(void)state;
	memset(&cp, 0, sizeof(cp));
	return cp_store_init(&cp.store);
}

static int teardown(void **state)
{
	(void)state;
	cp_store_fini(&cp.store);
	return 0;
}

/* A loopback port nobody listens on now (the kernel's pick). */
static int free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t l = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &l), 0);
	port = ntohs(a.sin_port);
	close(fd);
	return port;
}

/* One HTTP/1.0 request to 127.0.0.1:port; the whole answer into buf. */
static void http_get(int port, const char *path, char *buf, size_t len)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
	                         .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	char req[256];
	size_t n = 0;
	ssize_t r;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\nHost: x\r\n\r\n", path);
	assert_int_equal(write(fd, req, strlen(req)), (ssize_t)strlen(req));
	while (n + 1 < len && (r = read(fd, buf + n, len - 1 - n)) > 0)
		n += (size_t)r;
	buf[n] = '\0';
	close(fd);
}

static void test_builder(void **state)
{
	struct cp_mx x = { 0 };
	char *t;

	(void)state;
	cp_mx_family(&x, "obscura_x_total", "counter", "a \\ back\nslash");
	cp_mx_u64(&x, 5, 1, "l", "a\"b\\c\nd");
	cp_mx_u64(&x, 18446744073709551615ull, 0);
	cp_mx_family(&x, "obscura_y_seconds", "gauge", "y");
	cp_mx_f64(&x, 0.25, 2, "a", "1", "b", "2");
	cp_buf_put(&x.b, "", 1);
	assert_false(x.b.oom);
	t = (char *)x.b.p;
	assert_string_equal(t,
		"# HELP obscura_x_total a \\\\ back\\nslash\n"
		"# TYPE obscura_x_total counter\n"
		"obscura_x_total{l=\"a\\\"b\\\\c\\nd\"} 5\n"
		"obscura_x_total 18446744073709551615\n"
		"# HELP obscura_y_seconds y\n"
		"# TYPE obscura_y_seconds gauge\n"
		"obscura_y_seconds{a=\"1\",b=\"2\"} 0.25\n");
	free(x.b.p);
}

static void test_bind_errors(void **state)
{
	struct cp_metrics a, b;
	char addr[32];
	int port = free_port();

	(void)state;
	assert_int_equal(cp_metrics_bind(&a, "localhost:9477"), -EINVAL);
	cp_metrics_stop(&a);
	assert_int_equal(cp_metrics_bind(&a, ""), 0);      /* off: nothing bound */
	assert_int_equal(a.fd, -1);
	assert_int_equal(cp_metrics_start(&a, &cp), 0);
	cp_metrics_stop(&a);
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", port);
	assert_int_equal(cp_metrics_bind(&a, addr), 0);
	assert_int_equal(cp_metrics_bind(&b, addr), -EADDRINUSE);
	cp_metrics_stop(&b);
	cp_metrics_stop(&a);
}

static void test_serve_and_fork(void **state)
{
	static char buf[1 << 16];
	struct cp_metrics m;
	char addr[32];
	int port = free_port(), st = -1;
	pid_t pid;

	(void)state;
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", port);
	assert_int_equal(cp_metrics_bind(&m, addr), 0);
	assert_int_equal(cp_metrics_start(&m, &cp), 0);
	http_get(port, "/metrics", buf, sizeof(buf));
	assert_non_null(strstr(buf, "200 OK"));
	assert_non_null(strstr(buf, "text/plain; version=0.0.4"));
	assert_non_null(strstr(buf, "# TYPE obscura_packets_total counter"));
	assert_non_null(strstr(buf, "obscura_epochs_drained_total 0\n"));
	/* the state changes; the next publish is served, the old text until then */
	cp.store.epochs = 7;
	http_get(port, "/metrics", buf, sizeof(buf));
	assert_non_null(strstr(buf, "obscura_epochs_drained_total 0\n"));
	cp_metrics_poll(&m, &cp, 0, true);
	http_get(port, "/metrics", buf, sizeof(buf));
	assert_non_null(strstr(buf, "obscura_epochs_drained_total 7\n"));
	http_get(port, "/nope", buf, sizeof(buf));
	assert_non_null(strstr(buf, "404"));
	assert_null(strstr(buf, "obscura_"));
	/* a job's child: no copy of the listener */
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(fcntl(m.fd, F_GETFD) == -1 && errno == EBADF ? 0 : 1);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	/* and the parent still serves */
	http_get(port, "/metrics", buf, sizeof(buf));
	assert_non_null(strstr(buf, "200 OK"));
	cp_metrics_stop(&m);
}

/* An epoch of n_src source records and the given event records. */
static int apply(uint64_t seq, uint32_t n_src, const struct obx_event_rec *ev, uint32_t n_ev)
{
	struct obx_src_rec r;
	struct cp_epoch e;

	memset(&r, 0, sizeof(r));
	r.addr = 0x0a000001u;
	r.packets = 1;
	memset(&e, 0, sizeof(e));
	e.boot_id = 1;
	e.seq = seq;
	assert_int_equal(cp_epoch_add_tab(&e, OBX_TAB_SRC, sizeof(r), &r, n_src), 0);
	assert_int_equal(cp_epoch_add_tab(&e, OBX_TAB_EVENT, sizeof(*ev), ev, n_ev), 0);
	return cp_store_apply(&cp.store, &e);
}

static void test_rule_matches(void **state)
{
	struct obx_event_rec ev[3];
	struct cp_mx x = { 0 };

	(void)state;
	assert_int_equal(cp_metrics_register_fill(&cp), 0);
	/* an epoch without records must apply (the consumers reserve nothing) */
	assert_int_equal(apply(1, 0, ev, 0), 0);
	memset(ev, 0, sizeof(ev));
	ev[0].type = 5;
	ev[0].count = 3;
	ev[1].type = OBS_EV_CLASS_BIT | 80;   /* a packet class, not a rule */
	ev[1].count = 9;
	ev[2].type = 5;
	ev[2].count = 2;
	assert_int_equal(apply(2, 1, ev, 3), 0);
	ev[0].type = 2;
	assert_int_equal(apply(3, 1, ev, 1), 0);
	cp_metrics_render(&cp, &x);
	cp_buf_put(&x.b, "", 1);
	assert_false(x.b.oom);
	assert_non_null(strstr((char *)x.b.p, "# TYPE obscura_rules_matches_total counter\n"
	                       "obscura_rules_matches_total{sid=\"2\"} 3\n"
	                       "obscura_rules_matches_total{sid=\"5\"} 5\n"));
	free(x.b.p);
	cp_tab_unregister_all();
	cp_metrics_fini();
}

/* fingerprint (issue 14): obscura_fingerprint_syns_total from the records' labels */
static void test_fingerprint_syns(void **state)
{
	struct obx_src_rec r[3];
	struct cp_epoch e;
	struct cp_mx x = { 0 };
	const char *text;

	(void)state;
	memset(r, 0, sizeof(r));
	for (unsigned i = 0; i < 3; i++) {
		r[i].addr = 0x0a000010u + i;
		r[i].packets = 50;
		r[i].first_ns = r[i].last_ns = 7200ull * 1000000000ull + i;
		r[i].hour = 2;
	}
	r[0].tool = 2, r[0].tool_syns = 11, r[0].tool_other = 4;
	r[1].tool = 2, r[1].tool_syns = 30;
	r[2].tool = 6, r[2].tool_syns = 9;
	memset(&e, 0, sizeof(e));
	e.boot_id = 1;
	e.seq = 1;
	assert_int_equal(cp_epoch_add_tab(&e, OBX_TAB_SRC, sizeof(r[0]), r, 3), 0);
	assert_int_equal(cp_store_apply(&cp.store, &e), 0);
	cp_metrics_render(&cp, &x);
	cp_buf_put(&x.b, "", 1);
	assert_false(x.b.oom);
	text = (const char *)x.b.p;
	/* no fingerprint file loaded: the ids are named tool<N> */
	assert_non_null(strstr(text, "# TYPE obscura_fingerprint_syns_total counter\n"
	                       "obscura_fingerprint_syns_total{tool=\"tool2\"} 41\n"
	                       "obscura_fingerprint_syns_total{tool=\"tool6\"} 9\n"));
	assert_non_null(strstr(text, "obscura_fingerprint_other_syns_total 4\n"));
	free(x.b.p);
}

#define TESTS(T) T(test_builder) T(test_bind_errors) T(test_serve_and_fork) T(test_rule_matches) \
	T(test_fingerprint_syns)
OBS_TEST_MAIN_FX(TESTS)
