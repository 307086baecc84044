/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * report.h — the report registry behind `report.write [dir]` (docs/exchange.md).
 *
 * Each analysis registers one writer at start-up.  `report.write` makes the directory
 * (default <state_dir>/reports/<UTC timestamp>), runs every writer in registration
 * order, and replies with the files that appeared or changed under it.  A writer puts
 * its files (Markdown for people, CSV for tools; plots if it makes them) directly into
 * dir, names them after itself (summary.md, scan_blocks.csv, ...), and returns 0 or
 * -errno with a one-line message in err.  Writers run in the cp main loop: they read the
 * in-memory state and must not block on anything but their own file writes.
 *
 * Built in: "summary" (summary.md + summary.csv: the `stats` totals; the header and the
 * "integrity" rows say whether the time covered is complete) and "integrity" (the loss
 * stamp of every period), registered by cp_report_register_builtin().
 *
 * Every file a writer makes carries the loss stamp of the time it covers (integrity.h):
 * a Markdown file under its title (cp_integ_md), a CSV file as leading '#' lines
 * (cp_integ_csv), an SVG in <desc>/<metadata> and a visible line (cp_integ_svg).
 *
 * Single-threaded (the cp main loop, the unit tests).
 */
#ifndef OBSCURA_CP_REPORT_H
#define OBSCURA_CP_REPORT_H

#include <stddef.h>

#include "store.h"

#define CP_REPORT_MAX_WRITERS 32
#define CP_REPORT_MAX_FILES   4096

typedef int (*cp_report_write_fn)(void *ctx, const char *dir, char *err, size_t errlen);

/* 0, -EINVAL (no name or function), -EEXIST (name taken), -ENOSPC (too many). */
int cp_report_register(const char *name, cp_report_write_fn write, void *ctx);
void cp_report_unregister_all(void);   /* tests */

/* Register the built-in writers ("summary" over store s). */
int cp_report_register_builtin(const struct cp_store *s);

struct cp_report_result {
	char **files;             /* paths relative to dir, sorted; owned */
	size_t n_files;
	char failed[64];          /* name of the first writer that failed ("" = none) */
};

/*
 * Create dir (and missing parents, mode 0750), run every writer into it.  Returns 0, or
 * -errno with err set ("summary: cannot write ...": the first failing writer; the
 * others still ran).  res lists the files new or changed under dir either way.
 */
int cp_report_run(const char *dir, struct cp_report_result *res, char *err, size_t errlen);
void cp_report_result_free(struct cp_report_result *res);

/* The default directory: <state_dir>/reports/<YYYYmmddTHHMMSSZ> for wall time now_ns. */
int cp_report_default_dir(const char *state_dir, uint64_t now_ns, char *out, size_t len);

/* The built-in writer: summary.md and summary.csv of s's totals.  ctx: struct cp_store *.
 * CSV columns: scope,counter,value — scope "total" or "worker<N>" for every counter of
 * `stats` (drops as drop.<reason>, protocols as proto.<name>), and scope "store" for
 * epochs, boots, sources, packet_time_first_ns, packet_time_last_ns. */
int cp_report_summary(void *ctx, const char *dir, char *err, size_t errlen);

/* The built-in writer "integrity": integrity.csv (one row per hour, day, week and month
 * holding epochs: unit,period,from,to,complete,packets,...,overlap_losses) and
 * integrity.md (the whole span and each day), from the loss-stamp ledger (integrity.h). */
int cp_report_integrity(void *ctx, const char *dir, char *err, size_t errlen);

#endif
