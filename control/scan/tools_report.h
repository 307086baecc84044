/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tools_report.h — scan-tools.csv / scan-tools.md (issue 14 item 1, docs/fingerprints.md
 * "Tool shares per block"): per (block, period) of the analysis' range that has a
 * labelled SYN (blocktools.h), one row per tool label (most SYNs first, ties: smaller
 * id), an `other` row (labelled SYNs no slot names) and an `unlabelled` row (the
 * period's SYNs less the labelled ones, 0 at least); each with its SYNs, the period's
 * SYNs (the block's coverage cells of the analysed protocol) and their share (empty /
 * "–" when the period had no SYNs).  Blocks by address, periods ascending.  The CSV
 * carries r's loss stamp like the other scan files (scan_report.h).
 *
 * Single-threaded (cp main loop, the report job's child, tests).
 */
#ifndef OBSCURA_CP_SCAN_TOOLS_REPORT_H
#define OBSCURA_CP_SCAN_TOOLS_REPORT_H

#include <stddef.h>

#include "blocktools.h"
#include "covstore.h"
#include "scan.h"
#include "scan_report.h"

/* Write dir/scan-tools.csv and dir/scan-tools.md for r's range.  0 and the names added
 * to files, or -errno with err (-ENOMEM: nothing written). */
int scan_tools_report_write(const char *dir, const struct scan_bts *bts,
                            const struct cov_store *cs, const struct scan_result *r,
                            struct scan_report_files *files, char *err, size_t errlen);

#endif
