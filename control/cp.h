/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cp.h — the control plane's state, one struct the main loop owns and hands to the
 * command handlers (commands.h).  Single-threaded: everything here is touched only from
 * the main loop (drain, snapshot timer, ctl server, handlers).
 */
#ifndef OBSCURA_CP_H
#define OBSCURA_CP_H

#include <stdbool.h>
#include <stdint.h>

#include "capture.h"
#include "conf.h"
#include "drain.h"
#include "export.h"
#include "fleet.h"
#include "jobs.h"
#include "journal.h"
#include "reload.h"
#include "store.h"

#define CP_VERSION "0.1.0"

struct cp_metrics;

struct cp_persist {
	char snapshot_path[600];
	/* start-up */
	bool loaded;                   /* a snapshot was loaded */
	bool started_empty;            /* a snapshot existed but was refused */
	char load_error[512];          /* why it was refused */
	char set_aside[640];           /* where it went */
	uint64_t loaded_created_ns;
	struct cp_journal_replay_stats replay;
	/* running */
	uint64_t last_write_wall_ns;   /* 0: none yet this run */
	uint64_t last_write_mono_ns;
	uint64_t n_written;
	uint64_t n_failed;
	char last_error[512];          /* "" after a good write */
	uint64_t writing;              /* the background snapshot's job (jobs.h), 0: none */
	uint64_t next;                 /* a snapshot.now waiting for the next one: its job id */
};

struct cp {
	struct obs_conf conf;
	char conf_path[512];
	struct cp_store store;
	struct cp_journal journal;
	struct cp_drain drain;
	struct cp_reload reload;        /* table reloads in the dataplane (reload.h) */
	struct cp_capture capture;      /* selective capture in the dataplane (capture.h) */
	struct cp_jobs jobs;            /* snapshots, reports in a child process (jobs.h) */
	struct cp_persist persist;
	struct cp_metrics *metrics;     /* the /metrics listener (metrics.h), NULL: none */
	struct cp_export export;        /* to ClickHouse (export.h): a sender thread of its own */
	struct cp_fleet fleet;          /* --fleet: the store read from ClickHouse (fleet.h) */
	uint64_t start_wall_ns, start_mono_ns;
};

/* persist.c — snapshot now and truncate the journal on success (shutdown).  0 or -errno
 * (recorded in cp->persist.last_error). */
int cp_snapshot_now(struct cp *cp);

/* persist.c — a snapshot in the background (jobs.h): the timer (r NULL) or snapshot.now
 * (r: deferred until the file is durable, or the error).  A snapshot being written: the
 * timer skips, snapshot.now waits for the next one. */
struct cp_reply;
void cp_snapshot_start(struct cp *cp, struct cp_reply *r);

#endif
