/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * analysis.h — how an analysis plugs into the control plane: one ops table.
 *
 * An analysis (scan, resip, life: one folder each under control/) keeps its own state
 * and gives the core one `const struct cp_analysis`: the exchange table kinds it
 * consumes, its snapshot section, its report writer, its commands and its hooks.  The
 * core (drain, store, snapshot, journal, ctl server, command dispatch, reports) reaches
 * analyses only through these tables; it includes no analysis header.  The registry is
 * the list of analysis names in control/meson.build (cp_analyses), from which the build
 * generates cp_analyses.h; analyses.c turns it into cp_analyses[].  Adding a fourth
 * analysis: its folder (with a meson.build and `const struct cp_analysis
 * cp_analysis_<name>`) and its name in that list — docs/DESIGN.md has the steps.
 *
 * Order of calls, all on the cp main loop (single-threaded):
 *   init(cp)            once at start-up, before the snapshot is loaded (then the
 *                       consumers, the section, the report and the commands are
 *                       registered: cp_analysis_start());
 *   consumers[].merge   per drained or replayed epoch, inside cp_store_apply() (store.h:
 *                       prepare, then apply) — only merging, never analysing; an epoch
 *                       whose table has another record size than the consumer's is
 *                       refused (-EPROTO) before the consumer sees it;
 *   after_epochs(cp)    once per drain pass that applied epochs, after every consumer of
 *                       every epoch of the pass (and once after the journal replay):
 *                       where an analysis runs what it derives from merged state;
 *   table_loaded(cp, t) the dataplane reported a read-mostly table swapped in (`tables
 *                       reload`, tables.h): "scanner", "exclude", "resip", "rules";
 *   tables_status       adds what the analysis keeps of table t (its own copy) to t's
 *                       row of `tables status`;
 *   poll(cp)            every loop turn: collect background work (a table copy being
 *                       read off the loop) — must return at once;
 *   metrics(cp, x)      adds the analysis' families to a /metrics rendering (metrics.h:
 *                       cp_mx_family, cp_mx_u64) from what it already holds — no
 *                       analysis runs for it;
 *   fini()              at exit.
 * Every function pointer but init may be NULL.  Snapshot section functions are
 * snapshot.h's; the report writer report.h's; commands commands.h's (their handlers
 * must not call other handlers).
 */
#ifndef OBSCURA_CP_ANALYSIS_H
#define OBSCURA_CP_ANALYSIS_H

#include <stdint.h>

#include <jansson.h>

#include "commands.h"
#include "cp.h"
#include "report.h"
#include "snapshot.h"
#include "store.h"

#define CP_ANALYSIS_MAX_CONSUMERS 4

struct cp_mx;

/* A consumer of one table kind, store.h's protocol: first with recs NULL (prepare: room
 * for n records, nothing visible changed; 0 or -errno), then with the records (apply:
 * must not fail).  The record size is checked before. */
typedef int (*cp_analysis_merge_fn)(const struct cp_epoch *e, const void *recs, uint32_t n);

struct cp_analysis_consumer {
	unsigned kind;                     /* enum obx_tab_kind */
	uint32_t rec_size;                 /* the record it reads (sizeof, exchange.h) */
	cp_analysis_merge_fn merge;        /* NULL ends the list */
};

/* The snapshot section (snapshot.h's registry, its all-or-nothing load). */
struct cp_analysis_section {
	uint32_t type;                     /* CP_SNAP_S_* (snapshot.h); 0: no section */
	/* the payload, built whole by blob() (malloc'ed; the core appends and frees it) or
	 * appended piece by piece by save() (cp_snap_put) */
	int (*blob)(uint8_t **buf, size_t *len);
	int (*save)(struct cp_snap_w *w);
	/* one payload into the state: 0, -EBADMSG with err set, -ENOMEM */
	int (*load)(const void *data, size_t len, char *err, size_t errlen);
	void (*reset)(void);               /* the state emptied */
};

struct cp_analysis {
	const char *name;                  /* "scan": consumers, section, report, log lines */
	int (*init)(struct cp *cp);        /* 0 or -errno (logged by the analysis) */
	void (*fini)(void);

	struct cp_analysis_consumer consumers[CP_ANALYSIS_MAX_CONSUMERS];
	struct cp_analysis_section snap;
	/* responder (issue 13): a second section of the same analysis (scan: the
	 * responder's handshakes, 19); type 0: none */
	struct cp_analysis_section snap2;

	cp_report_write_fn report;         /* `report write`; NULL: none */
	const struct cp_cmd *commands;     /* NULL-name terminated, or NULL */

	void (*after_epochs)(struct cp *cp);
	void (*table_loaded)(struct cp *cp, const char *table);
	void (*tables_status)(struct cp *cp, const char *table, json_t *row);
	void (*poll)(struct cp *cp);
	void (*metrics)(struct cp *cp, struct cp_mx *x);
	/* fingerprint (issue 14): `sources show ADDR` — set the analysis' members of obj
	 * (its answer for that source: lifetime, RESIP rows, scanner label) from what it
	 * holds; nothing when it knows nothing of addr */
	void (*source_show)(struct cp *cp, uint32_t addr, json_t *obj);
};

/* The registry (analyses.c, generated from control/meson.build): NULL-terminated. */
extern const struct cp_analysis *const cp_analyses[];

/* One analysis: init, then register its consumers, section, report and commands.
 * 0 or -errno (logged).  Tests start one analysis alone with it. */
int cp_analysis_start(struct cp *cp, const struct cp_analysis *a);
/* Every analysis of the registry, in its order.  0 or the first -errno. */
int cp_analyses_start(struct cp *cp);
/* fini() of every analysis started, in reverse order; the registrations are dropped. */
void cp_analyses_stop(void);

/* The hooks, over every analysis started (in registry order). */
void cp_analyses_after_epochs(struct cp *cp);
void cp_analyses_table_loaded(struct cp *cp, const char *table);
void cp_analyses_tables_status(struct cp *cp, const char *table, json_t *row);
void cp_analyses_poll(struct cp *cp);
void cp_analyses_metrics(struct cp *cp, struct cp_mx *x);
void cp_analyses_source_show(struct cp *cp, uint32_t addr, json_t *obj);   /* fingerprint */

#endif
