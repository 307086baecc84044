/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * stamp.h — a loss stamp's text (integrity.h: cp_integ_stamp_text()) as the markup of
 * a report file: leading '#' comment lines of a CSV, the <desc>/<metadata> and visible
 * lines of an SVG.  Pure (no state), so a writer that gets the text from its caller
 * (scan_report.c) and its unit test need nothing else.
 */
#ifndef OBSCURA_CP_STAMP_H
#define OBSCURA_CP_STAMP_H

#include <stdio.h>

/* Pixels a figure adds below its plot for the stamp's two visible lines. */
#define CP_INTEG_SVG_H 30

/* A line saying how many lines to skip (all of them '#' lines: pandas
 * read_csv(skiprows=N), R read.csv(skip=N)), then each line of text as "# line". */
void cp_stamp_csv(FILE *f, const char *text);
/* <desc> and <metadata> holding text (no '<', '>', '&' in it). */
void cp_stamp_svg_desc(FILE *f, const char *text);
/* The first two lines of text as <text class="integrity"> at (x, y) and (x, y + 12), red
 * unless text says "complete: true". */
void cp_stamp_svg_line(FILE *f, const char *text, int x, int y);

#endif
