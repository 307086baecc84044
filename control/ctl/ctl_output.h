/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl_output.h — obscuractl's two renderings of a reply's data (bgpctl's output
 * backends): JSON for scripts, aligned text for people.  Pure functions of the data.
 */
#ifndef OBSCURA_CTL_OUTPUT_H
#define OBSCURA_CTL_OUTPUT_H

#include <stdio.h>
#include <jansson.h>

/* One pretty JSON document, keys in the order received, newline-terminated. */
int ctl_print_json(FILE *f, json_t *data);

/*
 * Text: an array of objects is a table (a column per key, in order of first
 * appearance, numbers right-aligned); an object is "key  value" lines with nested
 * objects and tables as indented sections; *_ns times are shown as UTC dates.
 */
void ctl_print_text(FILE *f, json_t *data);

#endif
