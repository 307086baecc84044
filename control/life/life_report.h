/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * life_report.h — SPEC.md C's Table 1 and Figures 1-8 as CSV, Markdown and SVG files
 * (life_report.c lists them).  Control plane main loop only.
 */
#ifndef OBSCURA_CP_LIFE_REPORT_H
#define OBSCURA_CP_LIFE_REPORT_H

#include <stddef.h>

#include "lifetime.h"

/* Write every file into dir (which exists).  0 or -errno with err set. */
int cp_life_report_files(struct cp_life *l, struct cp_geo *geo, const char *dir, char *err,
                         size_t errlen);

#endif
