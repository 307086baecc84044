/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * scan_report.h — SPEC.md A as files a person reads: the paper's Table 3 (continuous
 * scanners) and Table 2 (port popularity) as CSV and Markdown, and three SVG figures:
 * blocks per country (bar chart), median Jaccard vs Simpson per block (scatter, with the
 * J* / S* lines), and one block's port sets over the periods (heatmap, ports x periods).
 *
 * Files written into dir (which must exist):
 *   scan-table3.csv  scan-table3.md  scan-table2.csv  scan-table2.md
 *   scan-table4.csv  scan-table4.md (SPEC A11: gamma per block and wide-area period)
 *   scan-tools.csv  scan-tools.md (tools_report.h: written by the callers beside these)
 *   scan-countries.svg  scan-js.svg  scan-block.svg (only when heat_block has periods)
 * Each is written to NAME.tmp and renamed, so a reader never sees half a file.
 *
 * Pure apart from the file writes; single-threaded (cp main loop, tests).
 */
#ifndef OBSCURA_CP_SCAN_REPORT_H
#define OBSCURA_CP_SCAN_REPORT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "covstore.h"
#include "scan.h"

#define SCAN_REPORT_MAX_FILES 12

struct scan_report_files {
	unsigned n;
	char name[SCAN_REPORT_MAX_FILES][32];
};

/*
 * Write the report for r (from scan_analyze on cs).  top: rows of Table 2 (0 = 20).
 * heat_block: the block of the heatmap; UINT32_MAX picks the continuous scanner with
 * the most wide-area periods.  Returns 0 and the names written, or -errno with err.
 */
int scan_report_write(const char *dir, const struct cov_store *cs, const struct scan_result *r,
                      unsigned top, uint32_t heat_block, struct scan_report_files *files,
                      char *err, size_t errlen);

/*
 * One report file dir/name through NAME.tmp and a rename: a CSV gets stamp (when not
 * empty) as leading '#' lines, then body(f, ctx) writes the rest; listed in files.
 * The helper the other report writers of the scan analysis use (tools_report.h).
 */
typedef void (*scan_report_body_fn)(FILE *f, const void *ctx);
int scan_report_file(const char *dir, const char *name, const char *stamp,
                     scan_report_body_fn body, const void *ctx,
                     struct scan_report_files *files, char *err, size_t errlen);

#endif
