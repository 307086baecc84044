/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * scan_mod.h — the scan analysis (SPEC.md A) inside the control plane, shared by its
 * files: scan_mod.c (the coverage store the drain feeds, the period-close analysis, the
 * snapshot section, the report writer, the ops table cp_analysis_scan), scan_args.c
 * (the scan.* argument words) and cmd_scan.c (the scan.* handlers).  The math itself is
 * scan.c over covstore.c; the files written by scan.report are scan_report.c.
 * Main loop only.
 */
#ifndef OBSCURA_CP_SCAN_MOD_H
#define OBSCURA_CP_SCAN_MOD_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "commands.h"
#include "blocktools.h"
#include "covstore.h"
#include "cp.h"
#include "prefix_file.h"
#include "respstore.h"
#include "scan.h"

struct cp_geo;

/* The analysis' snapshot sections (snapshot.h: the analyses' numbers). */
#define CP_SNAP_S_SCAN 16
#define CP_SNAP_S_RESP 19      /* the responder's handshakes (scan_resp.c); 20 is integrity.h's */

/* The analysis' state: one per process. */
struct cp_scan {
	bool ready;
	struct cp *cp;                      /* the daemon's state (the store's sources) */
	struct cov_store cov;
	struct scan_params base;            /* config defaults */
	struct obs_pfx_list scanners;       /* for the overlap column */
	bool have_scanners;
	char scanner_path[512];
	char scanner_error[512];
	struct cp_geo *geo;
	uint32_t current;                   /* newest period seen (open), SCAN_NO_PERIOD */
	uint32_t seen;                      /* newest period merged since the last pass */
	bool have_seen;
	uint64_t analyses;                  /* automatic analyses at period close */
	struct scan_result last;            /* result of the last period close */
	bool have_last;
	uint32_t close_to;                  /* closed periods not analysed yet: up to this */
	uint32_t last_close_to;             /* the last period-close analysis covered ..this */
	uint64_t last_analysis_ns;          /* CLOCK_MONOTONIC of it */
	/* drain instrumentation */
	uint64_t drains, drain_ns_sum, drain_ns_max, drain_records;
	uint64_t bad_records;               /* malformed cell records skipped */
	/* the responder's handshakes (SPEC A11, scan_resp.c) */
	struct resp_store resp;
	bool resp_ready;
	uint64_t resp_nomem;                /* records lost to a failed allocation */
	/* fingerprint (issue 14): tool SYNs per (block, period) from the source records
	 * (blocktools.h); snapshot: after the coverage in section 16 */
	struct scan_bts bts;
	uint64_t bt_records;                /* labelled source records merged */
	uint64_t bt_bad_records;            /* source records breaking the hour contract */
};

extern struct cp_scan cp_scan;

/* The ops table (analysis.h) this folder registers through. */
struct cp_analysis;
extern const struct cp_analysis cp_analysis_scan;

/* (Re)initialise the coverage store for |S| = sample_size with the config's L and period
 * unit (a no-op when they already match).  0 or -errno. */
int cp_scan_init(const struct cp *cp, uint32_t sample_size);
/* Take over cs (e.g. loaded from a snapshot); cs is left empty. */
int cp_scan_adopt(struct cov_store *cs);
void cp_scan_fini(void);
/* The store, or NULL before cp_scan_init. */
struct cov_store *cp_scan_cov(void);

/* The scanner table file for the overlap column.  0, or -errno / -EINVAL (rejected
 * lines) with err; the previous list stays. */
int cp_scan_load_scanners(const char *path, char *err, size_t errlen);
/* Country lookups (owned from now on; NULL: none). */
void cp_scan_set_geo(struct cp_geo *g);
void cp_scan_geo_close(void);

/* One drained slot's CELL table and BITMAP pool into cs (see scan_mod.c).  Returns the
 * records applied or -ENOMEM; malformed records are skipped and counted in *bad. */
long cp_scan_apply_cells(struct cov_store *cs, const void *cells, uint32_t cap,
                         const void *pool, uint32_t n_pool, uint32_t rec_size, uint64_t *bad);

/* Cells of this period were merged: when it is newer than the open period, the older
 * periods are closed and analysed (at most every 2 s).  Returns 1 when an analysis ran,
 * 0, or -ENOMEM.  The drain reaches it once per pass, after the merge (after_epochs). */
int cp_scan_period_seen(struct cp *cp, uint32_t period);
/* Analyse every closed period not analysed yet (scan.params shows the result).  1 when
 * it ran, 0 when none was pending, -ENOMEM. */
int cp_scan_close_run(struct cp *cp);
/* Drain instrumentation: one epoch's coverage records took ns. */
void cp_scan_note_drain(uint64_t ns, uint64_t records);

/* The analysis over the store with the enrichment (busiest /24 from cp's sources,
 * country, scanner overlap).  0, or -1 with the error in r. */
int cp_scan_run(struct cp *cp, const struct scan_params *p, struct scan_result *res,
                struct cp_reply *r);

/* ---- fingerprint (issue 14): the scan section, coverage + block tools ---- */

/* The section's payload: the coverage, then the block-tool part when it holds an entry
 * (a store without labels writes what older builds wrote).  0 or -ENOMEM. */
int cp_scan_section_blob(uint8_t **buf, size_t *len);
/* A payload into the state, with or without the block-tool part (snapshots of older
 * builds have none: no tool counts).  0, -EBADMSG / -ESTALE with err, -ENOMEM. */
int cp_scan_section_load(const void *data, size_t len, char *err, size_t errlen);
/* The OBX_TAB_SRC consumer (store.h's prepare/apply protocol). */
int cp_scan_src_merge(const struct cp_epoch *e, const void *recs, uint32_t n);

/* sources.show: "scanner_table" {prefix, label, file} of addr, or null. */
void cp_scan_source_show(struct cp *cp, uint32_t addr, json_t *obj);

/* ---- scan_resp.c: the responder's handshakes and gamma (SPEC A11) ---- */

/* The store for the config's L, period unit and H (responder.prefixes).  0 or -errno. */
int cp_scan_resp_init(const struct cp *cp);
void cp_scan_resp_fini(void);
/* The OBX_TAB_RESP consumer (analysis.h) and the snapshot section 20. */
int cp_scan_resp_merge(const struct cp_epoch *e, const void *recs, uint32_t n);
int cp_scan_resp_blob(uint8_t **buf, size_t *len);
int cp_scan_resp_load(const void *data, size_t len, char *err, size_t errlen);
void cp_scan_resp_reset(void);
/* gamma of every block and wide period of res (after scan_analyze). */
void cp_scan_gamma_result(struct scan_result *res);
/* gamma of one block's periods (scan.show). */
void cp_scan_gamma_psets(uint32_t block, struct scan_pset *ps, size_t n);
/* The first payloads of block (scan show --payloads): an array of (port, seen, payloads)
 * with hex and printable text, at most max_ports ports. */
json_t *cp_scan_resp_payloads_json(uint32_t block, uint32_t max_ports);
/* The store's figures (scan.params "responder"). */
json_t *cp_scan_resp_json(void);
struct cp_mx;
void cp_scan_resp_metrics(struct cp_mx *x);

/* ---- scan_args.c: the words of the scan.* commands ---- */

struct cp_scan_q {
	struct scan_params p;
	bool have_class, all, periods, payloads;
	enum scan_class cls;
	const char *block;      /* scan.show / scan.cells / report heatmap */
	long top;
	const char *dir;        /* report */
};

/* Argument specs for the command table. */
extern const struct cp_arg cp_args_scan_list[], cp_args_scan_show[], cp_args_scan_ports[],
	cp_args_scan_cells[], cp_args_scan_report[];

/* Fill q from args (named, or obscuractl's words); positional: the command's one
 * leading word ("block", "dir", "top") or NULL.  0, or -1 with the error in r. */
int cp_scan_args(json_t *args, const struct cp_arg *spec, const char *positional,
                 struct cp_scan_q *q, struct cp_reply *r);
/* "a.b.0.0/L" or any address in the block -> the block.  0, or -1 with r set. */
int cp_scan_parse_block(const char *s, uint32_t *block, struct cp_reply *r);
/* false (r set) until the coverage store exists. */
bool cp_scan_ready(struct cp_reply *r);

/* ---- cmd_scan.c: the scan.* commands (their handlers are its own) ---- */

extern const struct cp_cmd cp_scan_commands[];

#endif
