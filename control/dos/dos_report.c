/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dos_report.c — the DoS analysis' report files (docs/dos.md), written by `report
 * write`:
 *   dos-attacks.csv   one row per attack (the dos.list fields)
 *   dos-attacks.md    the same as a table under the loss stamp of the time covered
 *   dos-timeline.svg  every attack as a bar from start to end, one row per victim
 *                     (the 40 victims with the most packets), time on the x axis
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dos_mod.h"
#include "integrity.h"
#include "json.h"

#define TL_ROWS 40

static FILE *open_in(const char *dir, const char *name, char *err, size_t errlen)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	if (f == NULL)
		snprintf(err, errlen, "dos: cannot write %s: %s", path, strerror(errno));
	return f;
}

static int close_ok(FILE *f, const char *name, char *err, size_t errlen)
{
	int bad = ferror(f);

	if (fclose(f) != 0 || bad) {
		snprintf(err, errlen, "dos: write error on %s", name);
		return -EIO;
	}
	return 0;
}

static void fmt_ip(uint32_t a, char *buf, size_t len)
{
	snprintf(buf, len, "%u.%u.%u.%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);
}

/* ports "80;443", protocols "tcp;icmp": one field each */
static void fmt_list(json_t *arr, char *buf, size_t len)
{
	size_t i, o = 0;
	json_t *v;

	buf[0] = '\0';
	json_array_foreach(arr, i, v) {
		int w = json_is_string(v) ?
			snprintf(buf + o, len - o, "%s%s", i ? ";" : "", json_string_value(v)) :
			snprintf(buf + o, len - o, "%s%lld", i ? ";" : "",
			         (long long)json_integer_value(v));
		if (w < 0 || (size_t)w >= len - o)
			break;
		o += (size_t)w;
	}
}

static int write_tables(const struct cp_dos_flow **v, size_t n, const char *dir, char *err,
                        size_t errlen)
{
	FILE *c = open_in(dir, "dos-attacks.csv", err, errlen), *m;
	struct cp_integ in;
	int rc;

	if (c == NULL)
		return -EIO;
	m = open_in(dir, "dos-attacks.md", err, errlen);
	if (m == NULL) {
		fclose(c);
		return -EIO;
	}
	cp_integrity_span(0, 0, &in);
	cp_integ_csv(c, &in, 0, 0);        /* the loss stamp first (report.h) */
	fprintf(c, "victim,start,end,duration_s,packets,dark_addresses,dark_saturated,ports,"
	        "n_ports,protocols,peak_ppm,rate_pps,extrapolated_pps,ongoing\n");
	fprintf(m, "# DoS attacks seen in backscatter\n\n");
	cp_integ_md(m, &in);
	fprintf(m, "%zu attacks (docs/dos.md: at least %llu packets, %llu s, a peak of %llu "
	        "packets per minute; a new attack after %llu s of silence).\n\n", n,
	        (unsigned long long)cp_dos_mod.dos->c.min_packets,
	        (unsigned long long)(cp_dos_mod.dos->c.min_duration_ns / 1000000000ull),
	        (unsigned long long)cp_dos_mod.dos->c.min_peak,
	        (unsigned long long)(cp_dos_mod.dos->c.gap_ns / 1000000000ull));
	fprintf(m, "| victim | start | end | packets | dark addresses | ports | protocols | "
	        "peak/min | extrapolated pps |\n|---|---|---|---:|---:|---|---|---:|---:|\n");
	for (size_t i = 0; i < n; i++) {
		json_t *j = cp_dos_flow_json(v[i]);
		char ip[16], st[64], en[64], ports[128], protos[64];

		fmt_ip(v[i]->victim, ip, sizeof(ip));
		cp_fmt_time(v[i]->start_ns, st, sizeof(st));
		cp_fmt_time(v[i]->end_ns, en, sizeof(en));
		fmt_list(json_object_get(j, "ports"), ports, sizeof(ports));
		fmt_list(json_object_get(j, "protocols"), protos, sizeof(protos));
		fprintf(c, "%s,%s,%s,%.3f,%llu,%lld,%s,%s,%u,%s,%llu,%.3f,%.1f,%s\n", ip, st, en,
		        json_real_value(json_object_get(j, "duration_s")),
		        (unsigned long long)v[i]->packets,
		        (long long)json_integer_value(json_object_get(j, "dark_addresses")),
		        json_is_true(json_object_get(j, "dark_saturated")) ? "true" : "false",
		        ports, v[i]->n_ports, protos, (unsigned long long)v[i]->peak,
		        cp_dos_rate(v[i]), cp_dos_mod_extrapolated(v[i]),
		        (v[i]->flags & CP_DOS_F_OPEN) ? "true" : "false");
		fprintf(m, "| %s | %s | %s | %llu | %s%lld | %s%s | %s | %llu | %.0f |\n", ip, st,
		        en, (unsigned long long)v[i]->packets,
		        json_is_true(json_object_get(j, "dark_saturated")) ? ">= " : "",
		        (long long)json_integer_value(json_object_get(j, "dark_addresses")), ports,
		        v[i]->n_ports > 0 && json_is_false(json_object_get(j, "ports_exact")) ?
		        " ..." : "", protos, (unsigned long long)v[i]->peak,
		        cp_dos_mod_extrapolated(v[i]));
		json_decref(j);
	}
	rc = close_ok(c, "dos-attacks.csv", err, errlen);
	if (rc != 0) {
		fclose(m);
		return rc;
	}
	return close_ok(m, "dos-attacks.md", err, errlen);
}

struct tl_row {
	uint32_t victim;
	uint64_t packets;
};

static int by_packets(const void *a, const void *b)
{
	const struct tl_row *x = a, *y = b;

	if (x->packets != y->packets)
		return x->packets > y->packets ? -1 : 1;
	return x->victim < y->victim ? -1 : x->victim > y->victim;
}

#define SW 800
#define ML 120
#define MR 20
#define MT 40
#define RH 14

static int write_timeline(const struct cp_dos_flow **v, size_t n, const char *dir, char *err,
                          size_t errlen)
{
	struct tl_row *rows = calloc(n + 1, sizeof(*rows));
	size_t nr = 0;
	uint64_t t0 = UINT64_MAX, t1 = 0;
	struct cp_integ in;
	FILE *f;
	int h;

	if (rows == NULL) {
		snprintf(err, errlen, "dos: out of memory");
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		size_t k;

		for (k = 0; k < nr && rows[k].victim != v[i]->victim; k++)
			;
		if (k == nr)
			rows[nr++].victim = v[i]->victim;
		rows[k].packets += v[i]->packets;
		t0 = v[i]->start_ns < t0 ? v[i]->start_ns : t0;
		t1 = v[i]->end_ns > t1 ? v[i]->end_ns : t1;
	}
	qsort(rows, nr, sizeof(*rows), by_packets);
	if (nr > TL_ROWS)
		nr = TL_ROWS;
	h = MT + (int)nr * RH + 50 + CP_INTEG_SVG_H;   /* room for the loss stamp's lines */
	f = open_in(dir, "dos-timeline.svg", err, errlen);
	if (f == NULL) {
		free(rows);
		return -EIO;
	}
	fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
	        "font-family=\"sans-serif\" font-size=\"11\">\n"
	        "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n"
	        "<text x=\"%d\" y=\"22\" font-size=\"15\">DoS attacks seen in backscatter "
	        "(%zu attacks; top %zu victims by packets)</text>\n", SW, h, ML, n, nr);
	cp_integrity_span(0, 0, &in);
	cp_integ_svg(f, &in, 0, 0, 8, h - CP_INTEG_SVG_H + 6);
	if (t1 <= t0)
		t1 = t0 + 1;
	for (size_t k = 0; k < nr; k++) {
		char ip[16];
		int y = MT + (int)k * RH;

		fmt_ip(rows[k].victim, ip, sizeof(ip));
		fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%s</text>\n", ML - 4,
		        y + RH - 3, ip);
		for (size_t i = 0; i < n; i++) {
			double x0, x1;

			if (v[i]->victim != rows[k].victim)
				continue;
			x0 = ML + (double)(SW - ML - MR) * (double)(v[i]->start_ns - t0) /
			     (double)(t1 - t0);
			x1 = ML + (double)(SW - ML - MR) * (double)(v[i]->end_ns - t0) /
			     (double)(t1 - t0);
			fprintf(f, "<rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%d\" "
			        "fill=\"#c0392b\"><title>%s: %llu packets, peak %llu/min</title>"
			        "</rect>\n", x0, y + 2, x1 - x0 < 1.5 ? 1.5 : x1 - x0, RH - 4, ip,
			        (unsigned long long)v[i]->packets, (unsigned long long)v[i]->peak);
		}
	}
	{
		char a[64], b[64];
		int y = MT + (int)nr * RH;

		cp_fmt_time(t0, a, sizeof(a));
		cp_fmt_time(t1, b, sizeof(b));
		fprintf(f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"black\"/>\n"
		        "<text x=\"%d\" y=\"%d\">%s</text>\n"
		        "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%s</text>\n"
		        "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">time (UTC)</text>\n"
		        "</svg>\n", ML, y + 4, SW - MR, y + 4, ML, y + 18, n ? a : "",
		        SW - MR, y + 18, n ? b : "", (ML + SW - MR) / 2, y + 36);
	}
	free(rows);
	return close_ok(f, "dos-timeline.svg", err, errlen);
}

int cp_dos_report_files(const char *dir, char *err, size_t errlen)
{
	const struct cp_dos_flow **v;
	size_t n;
	int rc;

	if (cp_dos_select(0, 0, 0.0, 0, false, &v, &n) != 0) {
		snprintf(err, errlen, "dos: out of memory");
		return -ENOMEM;
	}
	rc = write_tables(v, n, dir, err, errlen);
	if (rc == 0)
		rc = write_timeline(v, n, dir, err, errlen);
	free(v);
	return rc;
}
