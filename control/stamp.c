/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * stamp.c — a loss stamp's text as CSV and SVG markup (stamp.h).
 */
#include <stdbool.h>
#include <string.h>

#include "stamp.h"

void cp_stamp_csv(FILE *f, const char *text)
{
	const char *l = text;
	unsigned n = 1;

	for (const char *c = text; *c != '\0'; c++)
		n += *c == '\n' || (c[1] == '\0' && *c != '\n');
	/* first how many lines to skip: a '#' comment option also cuts a line at a '#'
	 * inside a cell, skipping by count does not */
	fprintf(f, "# obscura loss stamp: %u lines (pandas.read_csv(path, skiprows=%u), "
	        "R read.csv(path, skip=%u); or comment='#'); per period: integrity.csv\n",
	        n, n, n);
	while (*l != '\0') {
		const char *nl = strchr(l, '\n');
		int k = nl != NULL ? (int)(nl - l) : (int)strlen(l);

		fprintf(f, "# %.*s\n", k, l);
		l += k + (nl != NULL);
	}
}

void cp_stamp_svg_desc(FILE *f, const char *text)
{
	fprintf(f, "<desc>%s</desc>\n<metadata><obscura:integrity "
	        "xmlns:obscura=\"urn:obscura:integrity\">%s</obscura:integrity></metadata>\n",
	        text, text);
}

void cp_stamp_svg_line(FILE *f, const char *text, int x, int y)
{
	bool ok = strstr(text, "\ncomplete: true\n") != NULL;
	const char *l = text;

	/* the first two lines (what was lost, the time covered), one under the other */
	for (int k = 0; k < 2 && *l != '\0'; k++) {
		const char *nl = strchr(l, '\n');
		int n = nl != NULL ? (int)(nl - l) : (int)strlen(l);

		fprintf(f, "<text x=\"%d\" y=\"%d\" font-size=\"10\" fill=\"%s\" "
		        "class=\"integrity\">%.*s</text>\n", x, y + 12 * k,
		        ok ? "#555555" : "#b00000", n, l);
		l += n + (nl != NULL);
	}
}
