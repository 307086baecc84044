/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * metrics.h — Prometheus metrics of the control plane: GET /metrics (text exposition
 * format 0.0.4) on control.metrics_listen.
 *
 * Two threads, one handoff.  The main loop renders the whole exposition from the same
 * state the ctl commands read (the store behind `stats`, the drain behind `status`, the
 * reloads behind `tables status`, each analysis' metrics hook) into a fresh buffer and
 * publishes it: a pointer swap under a mutex (cp_metrics_poll).  libmicrohttpd's own
 * thread answers a scrape by copying the published text out under that mutex, nothing
 * else: a scrape never waits for the drain, the drain never waits for a scrape, and no
 * other control-plane state is touched off the main loop.
 *
 * Start-up: cp_metrics_bind() before the privilege drop (the port may be privileged),
 * cp_metrics_start() after it; cp_metrics_stop() at exit.  The builder below (cp_mx_*)
 * is pure and what analyses call from their metrics hook (analysis.h).
 */
#ifndef OBSCURA_CP_METRICS_H
#define OBSCURA_CP_METRICS_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "grow.h"

struct cp;
struct MHD_Daemon;

/* ---- the exposition builder (main loop) ---- */

struct cp_mx {
	struct cp_buf b;       /* the text so far; b.oom is sticky */
	const char *family;    /* the family samples are written for (cp_mx_family) */
};

/* Start a family: "# HELP name help" and "# TYPE name type" (type "counter" or
 * "gauge"; a counter's name ends in _total).  Every sample that follows is of it. */
void cp_mx_family(struct cp_mx *x, const char *name, const char *type, const char *help);
/* One sample of the current family with n_labels (name, value) string pairs; values are
 * escaped (backslash, quote, newline). */
void cp_mx_u64(struct cp_mx *x, uint64_t v, unsigned n_labels, ...);
void cp_mx_f64(struct cp_mx *x, double v, unsigned n_labels, ...);

/* Render every family of the control plane into x (main loop). */
void cp_metrics_render(struct cp *cp, struct cp_mx *x);

/* ---- the listener ---- */

#define CP_METRICS_PATH         "/metrics"
#define CP_METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"
#define CP_METRICS_RENDER_NS    (500ull * 1000000ull)   /* publish at most this often */

struct cp_metrics {
	int fd;                        /* the bound listener, -1: none */
	char listen[64];
	struct MHD_Daemon *mhd;        /* NULL: not serving */
	uint64_t next_render_ns;
	uint64_t renders, render_oom;

	pthread_mutex_t mu;            /* guards text, len and scrapes (the HTTP thread) */
	char *text;                    /* the published exposition (malloc'ed) */
	size_t len;
	uint64_t scrapes;              /* answered by the HTTP thread */
};

/* Bind and listen on listen ("" = metrics off: 0, nothing bound).  0, or -errno with the
 * reason logged (an address that does not parse, one that cannot be bound). */
int cp_metrics_bind(struct cp_metrics *m, const char *listen);
/* Render and publish once, then serve from libmicrohttpd's thread.  0 or -errno. */
int cp_metrics_start(struct cp_metrics *m, struct cp *cp);
/* Re-render and publish when the last one is older than CP_METRICS_RENDER_NS or force
 * (a drain pass applied epochs).  Main loop; never blocks beyond the pointer swap. */
void cp_metrics_poll(struct cp_metrics *m, struct cp *cp, uint64_t now_ns, bool force);
void cp_metrics_stop(struct cp_metrics *m);
/* Scrapes answered so far (the HTTP thread counts them; read under the lock). */
uint64_t cp_metrics_scrapes(struct cp_metrics *m);

/* The fill of the exchange's tables, as the last epoch drained of each worker left them
 * (records it used / the table's capacity), and the payload rule matches by sid:
 * consumers of the table kinds (store.h), registered after the journal replay (they
 * count what is drained from this start on).  0 or -errno.  cp_metrics_fini() frees. */
int cp_metrics_register_fill(struct cp *cp);
void cp_metrics_fini(void);

#endif
