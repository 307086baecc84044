/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * scan_report.c — Tables 2 and 3 (CSV, Markdown) and the SPEC.md A figures (SVG);
 * see scan_report.h.  The SVG is written by hand: plain rectangles, circles, lines and
 * text with a title and labelled axes, readable in any browser.
 */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "order.h"
#include "period.h"
#include "scan_report.h"
#include "stamp.h"

static void rep_ip(uint32_t a, char *b, size_t n)
{
	snprintf(b, n, "%u.%u.%u.%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);
}

/* Open dir/name.tmp; on close rename over dir/name. */
struct rep_file {
	FILE *f;
	char tmp[4096], path[4096];
};

static int rep_open(struct rep_file *rf, const char *dir, const char *name, char *err, size_t el)
{
	snprintf(rf->path, sizeof(rf->path), "%s/%s", dir, name);
	snprintf(rf->tmp, sizeof(rf->tmp), "%s/%s.tmp", dir, name);
	rf->f = fopen(rf->tmp, "w");
	if (rf->f == NULL) {
		int e = errno;
		snprintf(err, el, "%s: %s", rf->tmp, strerror(e));
		return -e;
	}
	return 0;
}

static int rep_close(struct rep_file *rf, struct scan_report_files *files, const char *name,
                     char *err, size_t el)
{
	int bad = ferror(rf->f);
	if (fclose(rf->f) != 0 || bad) {
		snprintf(err, el, "%s: write failed", rf->tmp);
		unlink(rf->tmp);
		return -EIO;
	}
	if (rename(rf->tmp, rf->path) != 0) {
		int e = errno;
		snprintf(err, el, "%s: %s", rf->path, strerror(e));
		unlink(rf->tmp);
		return -e;
	}
	if (files && files->n < SCAN_REPORT_MAX_FILES)
		snprintf(files->name[files->n++], sizeof(files->name[0]), "%s", name);
	return 0;
}

static void rep_label(const struct scan_result *r, uint32_t period, char *b, size_t n)
{
	obs_period_label(r->unit, period, b, n);
}

/* ------------------------------------------------------------------ tables */

static void rep_table3_row(FILE *f, const struct scan_result *r, const struct scan_block *b,
                           bool md)
{
	char blk[20], first[OBS_PERIOD_LABEL_MAX], last[OBS_PERIOD_LABEL_MAX], j[16], s[16], g[16];
	const char *sep = md ? " | " : ",";

	if (b->has_gamma)   /* A11: null (empty, n/a) only with the responder off */
		snprintf(g, sizeof(g), md ? "%.1f %%" : "%.4f", md ? 100.0 * b->gamma : b->gamma);
	else
		strcpy(g, md ? "n/a" : "");

	rep_ip(b->block, blk, sizeof(blk));
	rep_label(r, b->first, first, sizeof(first));
	rep_label(r, b->last, last, sizeof(last));
	if (b->n_pairs) {
		snprintf(j, sizeof(j), "%.3f", b->j);
		snprintf(s, sizeof(s), "%.3f", b->s);
	} else {
		strcpy(j, md ? "–" : "");
		strcpy(s, md ? "–" : "");
	}
	fprintf(f, "%s%s/%u%s%s%s%s%s%s%s%u%s%s%s%u%s%u%s%s%s%s%s%s%s%.4f%s%s%s\n",
	        md ? "| " : "", blk, r->block_len, sep, b->has_country ? b->cc : (md ? "??" : ""),
	        sep, first, sep, last, sep, b->n_wide, sep, scan_class_name(b->cls), sep, b->pmax,
	        sep, b->pmin, sep, j, sep, s, sep,
	        b->scanner_label ? (b->scanner_label[0] ? b->scanner_label : "yes") : "no", sep,
	        b->mirai_share, sep, g, md ? " |" : "");
}

/* Table 4 (SPEC A11): per continuous scanner and wide-area period, |P_t(A)|, the ports
 * application-layer scanned and gamma_t(A); gamma empty (n/a) when the responder was
 * off in that period. */
static void rep_table4_rows(FILE *f, const struct scan_result *r, bool md)
{
	const char *sep = md ? " | " : ",";

	for (size_t i = 0; i < r->n_blocks; i++) {
		const struct scan_block *b = &r->blocks[i];
		char blk[20], per[OBS_PERIOD_LABEL_MAX], app[16], g[16];

		if (b->cls == SCAN_C_NONE)
			continue;
		rep_ip(b->block, blk, sizeof(blk));
		for (uint32_t k = 0; k < b->n_psets; k++) {
			const struct scan_pset *p = &b->psets[k];

			if (!p->wide)
				continue;
			rep_label(r, p->period, per, sizeof(per));
			if (p->has_gamma) {
				snprintf(app, sizeof(app), "%u", p->n_app);
				snprintf(g, sizeof(g), md ? "%.1f %%" : "%.4f",
				         md ? 100.0 * p->gamma : p->gamma);
			} else {
				strcpy(app, md ? "n/a" : "");
				strcpy(g, md ? "n/a" : "");
			}
			fprintf(f, "%s%s/%u%s%s%s%u%s%s%s%s%s\n", md ? "| " : "", blk, r->block_len, sep,
			        per, sep, p->n_ports, sep, app, sep, g, md ? " |" : "");
		}
	}
}

/* What the table files share: the parameter line, the Table 2 length. */
struct rep_args {
	char ps[160];
	unsigned top;
};

typedef void (*rep_body_fn)(FILE *f, const struct scan_result *r, const struct rep_args *a);

int scan_report_file(const char *dir, const char *name, const char *stamp,
                     scan_report_body_fn body, const void *ctx,
                     struct scan_report_files *files, char *err, size_t el)
{
	struct rep_file rf;
	int rc = rep_open(&rf, dir, name, err, el);

	if (rc != 0)
		return rc;
	if (stamp != NULL && stamp[0] != '\0' && strstr(name, ".csv") != NULL)
		cp_stamp_csv(rf.f, stamp);        /* the loss stamp, as leading '#' lines */
	body(rf.f, ctx);
	return rep_close(&rf, files, name, err, el);
}

struct rep_call {
	rep_body_fn body;
	const struct scan_result *r;
	const struct rep_args *a;
};

static void rep_call_body(FILE *f, const void *ctx)
{
	const struct rep_call *c = ctx;

	c->body(f, c->r, c->a);
}

/* One file of dir: opened, written by body, closed and listed in files. */
static int rep_file(const char *dir, const char *name, rep_body_fn body,
                    const struct scan_result *r, const struct rep_args *a,
                    struct scan_report_files *files, char *err, size_t el)
{
	struct rep_call c = { body, r, a };

	return scan_report_file(dir, name, r->stamp, rep_call_body, &c, files, err, el);
}

static void rep_table3_csv(FILE *f, const struct scan_result *r, const struct rep_args *a)
{
	(void)a;
	fprintf(f, "block,country,first,last,periods,class,max_ports,min_ports,median_jaccard,"
	           "median_simpson,scanner_table,mirai_share,gamma\n");
	for (size_t i = 0; i < r->n_blocks; i++)
		if (r->blocks[i].cls != SCAN_C_NONE)
			rep_table3_row(f, r, &r->blocks[i], false);
}

/* The caller's line under a Markdown title (scan.h: note), then a blank line. */
static void rep_note(FILE *f, const struct scan_result *r)
{
	if (r->note[0] != '\0')
		fprintf(f, "%s\n\n", r->note);
}

static void rep_table3_md(FILE *f, const struct scan_result *r, const struct rep_args *a)
{
	fprintf(f, "# Continuous wide-area scanners (SPEC.md A, the paper's Table 3)\n\n");
	rep_note(f, r);
	fprintf(f, 
	           "%s%s.  %zu continuous scanners: %zu routine, %zu semi-routine, %zu ad-hoc, "
	           "%zu unclassified.  gamma: share of the port sets application-layer scanned "
	           "over the wide-area periods with the responder on (n/a: it was off).\n\n",
	        a->ps, r->partial ? "; **partial**: the range includes the open period" : "",
	        r->n_continuous, r->n_by_class[SCAN_C_ROUTINE], r->n_by_class[SCAN_C_SEMI],
	        r->n_by_class[SCAN_C_ADHOC], r->n_by_class[SCAN_C_UNCLASSIFIED]);
	fprintf(f, "| block | country | first | last | periods | class | max ports | min ports | "
	           "J | S | scanner table | Mirai share | gamma |\n"
	           "|---|---|---|---|--:|---|--:|--:|--:|--:|---|--:|--:|\n");
	for (size_t i = 0; i < r->n_blocks; i++)
		if (r->blocks[i].cls != SCAN_C_NONE)
			rep_table3_row(f, r, &r->blocks[i], true);
}

static void rep_table4_csv(FILE *f, const struct scan_result *r, const struct rep_args *a)
{
	(void)a;
	fprintf(f, "block,period,ports,app_ports,gamma\n");
	rep_table4_rows(f, r, false);
}

static void rep_table4_md(FILE *f, const struct scan_result *r, const struct rep_args *a)
{
	fprintf(f, "# Application-layer scanning (SPEC.md A11, the paper's Table 4)\n\n");
	rep_note(f, r);
	fprintf(f, "%s.  A port of P_t(A) is application-layer scanned when A completed "
	           "handshakes on it with at least ceil(|H|/2) responder addresses; gamma is "
	           "their share of P_t(A); n/a: the responder was off in that period.\n\n"
	           "| block | period | \\|P_t(A)\\| | app-layer ports | gamma |\n"
	           "|---|---|--:|--:|--:|\n", a->ps);
	rep_table4_rows(f, r, true);
}

static void rep_table2_csv(FILE *f, const struct scan_result *r, const struct rep_args *a)
{
	fprintf(f, "rank,port,port_sets,share\n");
	for (size_t i = 0; i < r->n_pop && i < a->top; i++)
		fprintf(f, "%zu,%u,%u,%.4f\n", i + 1, r->pop[i].port, r->pop[i].sets, r->pop[i].share);
}

static void rep_table2_md(FILE *f, const struct scan_result *r, const struct rep_args *a)
{
	fprintf(f, "# Port popularity (SPEC.md A9, the paper's Table 2)\n\n");
	rep_note(f, r);
	fprintf(f, "Share of the %llu port sets of routine and semi-routine blocks that hold "
	           "each port; %s.\n\n| rank | port | port sets | share |\n|--:|--:|--:|--:|\n",
	        (unsigned long long)r->n_port_sets, a->ps);
	for (size_t i = 0; i < r->n_pop && i < a->top; i++)
		fprintf(f, "| %zu | %u | %u | %.1f %% |\n", i + 1, r->pop[i].port, r->pop[i].sets,
		        100.0 * r->pop[i].share);
}

static int rep_tables(const char *dir, const struct scan_result *r, unsigned top,
                      struct scan_report_files *files, char *err, size_t el)
{
	struct rep_args a = { .top = top == 0 ? 20 : top };
	int rc;

	snprintf(a.ps, sizeof(a.ps), "alpha %.3g, n %u, m %u, J* %.3g, S* %.3g, L %u, |S| %u",
	         r->p.alpha, r->p.n, r->p.m, r->p.jstar, r->p.sstar, r->block_len, r->sample_size);
	if ((rc = rep_file(dir, "scan-table3.csv", rep_table3_csv, r, &a, files, err, el)) != 0 ||
	    (rc = rep_file(dir, "scan-table3.md", rep_table3_md, r, &a, files, err, el)) != 0 ||
	    (rc = rep_file(dir, "scan-table2.csv", rep_table2_csv, r, &a, files, err, el)) != 0 ||
	    (rc = rep_file(dir, "scan-table4.csv", rep_table4_csv, r, &a, files, err, el)) != 0 ||
	    (rc = rep_file(dir, "scan-table4.md", rep_table4_md, r, &a, files, err, el)) != 0)
		return rc;
	return rep_file(dir, "scan-table2.md", rep_table2_md, r, &a, files, err, el);
}

/* ------------------------------------------------------------------ SVG */

/* The figure is w x h; below it, when r has a stamp, CP_INTEG_SVG_H for it (<desc>,
 * <metadata> and two visible lines). */

static void svg_head(FILE *f, const struct scan_result *r, int w, int h, const char *title)
{
	int sh = r->stamp[0] != '\0' ? CP_INTEG_SVG_H : 0;

	fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	           "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
	           "viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"12\">\n"
	           "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n"
	           "<text x=\"%d\" y=\"22\" text-anchor=\"middle\" font-size=\"15\" "
	           "font-weight=\"bold\">%s</text>\n", w, h + sh, w, h + sh, w / 2, title);
	if (sh != 0) {
		cp_stamp_svg_desc(f, r->stamp);
		cp_stamp_svg_line(f, r->stamp, 8, h + 6);
	}
}

struct rep_cc {
	char cc[3];
	unsigned n[SCAN_C_N];
	unsigned total;
};

static int rep_cc_cmp(const void *a, const void *b)
{
	const struct rep_cc *x = a, *y = b;
	if (x->total != y->total)
		return x->total > y->total ? -1 : 1;
	return strcmp(x->cc, y->cc);
}

static const char *const rep_colour[SCAN_C_N] = {
	"#bbbbbb", "#1b9e77", "#d95f02", "#7570b3", "#999999"
};

static int rep_countries(const char *dir, const struct scan_result *r,
                         struct scan_report_files *files, char *err, size_t el)
{
	struct rep_cc cc[256];
	unsigned n = 0, max = 1;
	struct rep_file rf;
	int rc, w, h = 360, left = 60, bottom = 300, bw;

	for (size_t i = 0; i < r->n_blocks; i++) {
		const struct scan_block *b = &r->blocks[i];
		const char *c = b->has_country ? b->cc : "??";
		unsigned k;
		if (b->cls == SCAN_C_NONE)
			continue;
		for (k = 0; k < n && strcmp(cc[k].cc, c) != 0; k++)
			;
		if (k == n) {
			if (n == 256)
				k = 255;   /* cannot happen with ISO codes; never overflow */
			else {
				memset(&cc[n], 0, sizeof(cc[n]));
				snprintf(cc[n].cc, 3, "%s", c);
				n++;
			}
		}
		cc[k].n[b->cls]++;
		cc[k].total++;
		if (cc[k].total > max)
			max = cc[k].total;
	}
	qsort(cc, n, sizeof(cc[0]), rep_cc_cmp);
	if (n > 30)
		n = 30;
	bw = 36;
	w = left + 40 + (int)(n ? n : 1) * bw + 160;
	if ((rc = rep_open(&rf, dir, "scan-countries.svg", err, el)) != 0)
		return rc;
	svg_head(rf.f, r, w, h, "Continuous scanners per country (busiest /24, SPEC A7)");
	fprintf(rf.f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"black\"/>\n",
	        left, bottom, w - 170, bottom);
	fprintf(rf.f, "<line x1=\"%d\" y1=\"40\" x2=\"%d\" y2=\"%d\" stroke=\"black\"/>\n",
	        left, left, bottom);
	for (unsigned t = 0; t <= 4; t++) {
		int y = bottom - (int)(t * 240 / 4);
		fprintf(rf.f, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%.1f</text>\n"
		              "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#eeeeee\"/>\n",
		        left - 6, y + 4, max * t / 4.0, left + 1, y, w - 170, y);
	}
	fprintf(rf.f, "<text x=\"18\" y=\"%d\" transform=\"rotate(-90 18 %d)\" "
	              "text-anchor=\"middle\">blocks</text>\n", bottom - 120, bottom - 120);
	if (n == 0)
		fprintf(rf.f, "<text x=\"%d\" y=\"%d\">no continuous scanner</text>\n", left + 20, bottom - 120);
	for (unsigned k = 0; k < n; k++) {
		int x = left + 20 + (int)k * bw, y = bottom;
		for (unsigned c = SCAN_C_ROUTINE; c < SCAN_C_N; c++) {
			int bh = (int)(240.0 * cc[k].n[c] / max + 0.5);
			if (!cc[k].n[c])
				continue;
			y -= bh;
			fprintf(rf.f, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"%s\">"
			              "<title>%s %s: %u</title></rect>\n", x, y, bw - 8, bh,
			        rep_colour[c], cc[k].cc, scan_class_name((enum scan_class)c), cc[k].n[c]);
		}
		fprintf(rf.f, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">%u</text>\n",
		        x + (bw - 8) / 2, y - 4, cc[k].total);
		fprintf(rf.f, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">%s</text>\n",
		        x + (bw - 8) / 2, bottom + 16, cc[k].cc);
	}
	for (unsigned c = SCAN_C_ROUTINE; c < SCAN_C_N; c++) {
		int y = 60 + (int)(c - 1) * 20;
		fprintf(rf.f, "<rect x=\"%d\" y=\"%d\" width=\"12\" height=\"12\" fill=\"%s\"/>"
		              "<text x=\"%d\" y=\"%d\">%s</text>\n", w - 150, y, rep_colour[c],
		        w - 132, y + 11, scan_class_name((enum scan_class)c));
	}
	fprintf(rf.f, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">country of the busiest /24 "
	              "(?? = unknown)</text>\n</svg>\n", (left + w - 170) / 2, bottom + 40);
	return rep_close(&rf, files, "scan-countries.svg", err, el);
}

static int rep_js(const char *dir, const struct scan_result *r, struct scan_report_files *files,
                  char *err, size_t el)
{
	const int x0 = 70, y0 = 430, sz = 380, w = 620, h = 500;
	struct rep_file rf;
	int rc;

	if ((rc = rep_open(&rf, dir, "scan-js.svg", err, el)) != 0)
		return rc;
	svg_head(rf.f, r, w, h, "Median Jaccard vs Simpson per continuous scanner (SPEC A5)");
	fprintf(rf.f, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" "
	              "stroke=\"black\"/>\n", x0, y0 - sz, sz, sz);
	for (int t = 0; t <= 10; t += 2) {
		int x = x0 + sz * t / 10, y = y0 - sz * t / 10;
		fprintf(rf.f, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">%.1f</text>\n"
		              "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%.1f</text>\n",
		        x, y0 + 16, t / 10.0, x0 - 6, y + 4, t / 10.0);
	}
	/* thresholds: J* vertical, S* horizontal */
	fprintf(rf.f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#888\" "
	              "stroke-dasharray=\"4 3\"/><text x=\"%d\" y=\"%d\" fill=\"#555\">J* %.2f</text>\n",
	        x0 + (int)(sz * r->p.jstar), y0, x0 + (int)(sz * r->p.jstar), y0 - sz,
	        x0 + (int)(sz * r->p.jstar) + 3, y0 - sz + 14, r->p.jstar);
	fprintf(rf.f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#888\" "
	              "stroke-dasharray=\"4 3\"/><text x=\"%d\" y=\"%d\" fill=\"#555\">S* %.2f</text>\n",
	        x0, y0 - (int)(sz * r->p.sstar), x0 + sz, y0 - (int)(sz * r->p.sstar),
	        x0 + 4, y0 - (int)(sz * r->p.sstar) - 4, r->p.sstar);
	size_t n_pts = 0, n_lab = 0;
	double lab_x[32], lab_y[32];
	for (size_t i = 0; i < r->n_blocks; i++)
		n_pts += r->blocks[i].cls != SCAN_C_NONE && r->blocks[i].n_pairs > 0;
	for (size_t i = 0; i < r->n_blocks; i++) {
		const struct scan_block *b = &r->blocks[i];
		char blk[20];
		if (b->cls == SCAN_C_NONE || b->n_pairs == 0)
			continue;
		rep_ip(b->block, blk, sizeof(blk));
		fprintf(rf.f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"5\" fill=\"%s\" fill-opacity=\"0.75\">"
		              "<title>%s/%u %s J %.3f S %.3f</title></circle>\n",
		        x0 + sz * b->j, y0 - sz * b->s, rep_colour[b->cls], blk, r->block_len,
		        scan_class_name(b->cls), b->j, b->s);
		if (n_pts > 30)
			continue;   /* too many to label: the tooltips name them */
		/* label it; a label that would overlap one already placed (nearby points,
		 * not only identical ones) moves down a line until it is clear */
		{
			double lx = x0 + sz * b->j + (b->j > 0.7 ? -8.0 : 8.0);
			double ly = y0 - sz * b->s + 3;
			bool moved = true;
			while (moved && n_lab < sizeof(lab_x) / sizeof(lab_x[0])) {
				moved = false;
				for (size_t k = 0; k < n_lab; k++) {
					if (fabs(lab_x[k] - lx) < 90.0 && fabs(lab_y[k] - ly) < 10.0) {
						ly = lab_y[k] + 11.0;
						moved = true;
					}
				}
			}
			if (n_lab < sizeof(lab_x) / sizeof(lab_x[0])) {
				lab_x[n_lab] = lx;
				lab_y[n_lab++] = ly;
			}
			fprintf(rf.f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"9\" text-anchor=\"%s\">%s</text>\n",
			        lx, ly, b->j > 0.7 ? "end" : "start", blk);
		}
	}
	for (unsigned c = SCAN_C_ROUTINE; c <= SCAN_C_ADHOC; c++) {
		int y = 70 + (int)(c - 1) * 20;
		fprintf(rf.f, "<circle cx=\"%d\" cy=\"%d\" r=\"5\" fill=\"%s\"/>"
		              "<text x=\"%d\" y=\"%d\">%s</text>\n", x0 + sz + 25, y, rep_colour[c],
		        x0 + sz + 36, y + 4, scan_class_name((enum scan_class)c));
	}
	fprintf(rf.f, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">median Jaccard J</text>\n"
	              "<text x=\"20\" y=\"%d\" transform=\"rotate(-90 20 %d)\" text-anchor=\"middle\">"
	              "median Simpson S</text>\n</svg>\n", x0 + sz / 2, y0 + 36, y0 - sz / 2, y0 - sz / 2);
	return rep_close(&rf, files, "scan-js.svg", err, el);
}

static int rep_heat(const char *dir, const struct cov_store *cs, const struct scan_result *r,
                    uint32_t blk, struct scan_report_files *files, char *err, size_t el)
{
	struct scan_pset *ps;
	size_t n, nports = 0, all = 0;
	uint16_t *ports;
	struct rep_file rf;
	char title[128], ipb[20];
	int rc, cw, ch = 14, left = 70, top = 50, w, h;

	rc = scan_block_periods(cs, &r->p, blk, &ps, &n);
	if (rc != 0) {
		snprintf(err, el, "heatmap: %s", strerror(-rc));
		return rc;
	}
	if (n == 0) {
		scan_psets_free(ps, n);
		return 0;
	}
	for (size_t i = 0; i < n; i++)
		all += ps[i].n_ports;
	ports = malloc((all ? all : 1) * sizeof(*ports));
	if (ports == NULL) {
		scan_psets_free(ps, n);
		snprintf(err, el, "heatmap: out of memory");
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++)
		for (uint32_t k = 0; k < ps[i].n_ports; k++)
			ports[nports++] = ps[i].ports[k];
	qsort(ports, nports, sizeof(*ports), cp_cmp_u16);
	all = nports;
	nports = 0;
	for (size_t i = 0; i < all; i++)
		if (i == 0 || ports[i] != ports[i - 1])
			ports[nports++] = ports[i];
	if (nports > 200)
		nports = 200;   /* keep it readable: the 200 lowest ports */
	cw = n > 60 ? 10 : 22;
	w = left + (int)n * cw + 40;
	if (w < left + 580)
		w = left + 580;   /* room for the title and the legend line */
	h = top + (int)nports * ch + 90;
	rep_ip(blk, ipb, sizeof(ipb));
	snprintf(title, sizeof(title), "Port set P_t of %s/%u per period (SPEC A2)", ipb, r->block_len);
	if ((rc = rep_open(&rf, dir, "scan-block.svg", err, el)) != 0) {
		free(ports);
		scan_psets_free(ps, n);
		return rc;
	}
	svg_head(rf.f, r, w, h, title);
	for (size_t p = 0; p < nports; p++)
		fprintf(rf.f, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\" font-size=\"10\">%u</text>\n",
		        left - 4, top + (int)p * ch + 11, ports[p]);
	for (size_t i = 0; i < n; i++) {
		char lab[OBS_PERIOD_LABEL_MAX];
		int x = left + (int)i * cw;
		rep_label(r, ps[i].period, lab, sizeof(lab));
		for (size_t p = 0, k = 0; p < nports; p++) {
			bool in = false;
			while (k < ps[i].n_ports && ps[i].ports[k] < ports[p])
				k++;
			in = k < ps[i].n_ports && ps[i].ports[k] == ports[p];
			fprintf(rf.f, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"%s\" "
			              "stroke=\"white\"><title>%s port %u: %s</title></rect>\n",
			        x, top + (int)p * ch, cw, ch, in ? (ps[i].wide ? "#1b4f72" : "#85c1e9") : "#f2f2f2",
			        lab, ports[p], in ? "scan target" : "no");
		}
		fprintf(rf.f, "<text x=\"%d\" y=\"%d\" font-size=\"10\" transform=\"rotate(60 %d %d)\">%s"
		              "</text>\n", x + 4, top + (int)nports * ch + 10, x + 4,
		        top + (int)nports * ch + 10, lab);
	}
	fprintf(rf.f, "<text x=\"%d\" y=\"%d\" font-size=\"11\">dark: target port in a wide-area "
	              "period; light: target port, period not wide-area</text>\n</svg>\n",
	        left, h - 8);
	free(ports);
	scan_psets_free(ps, n);
	return rep_close(&rf, files, "scan-block.svg", err, el);
}

int scan_report_write(const char *dir, const struct cov_store *cs, const struct scan_result *r,
                      unsigned top, uint32_t heat_block, struct scan_report_files *files,
                      char *err, size_t errlen)
{
	int rc;

	if (files)
		files->n = 0;
	if (heat_block == UINT32_MAX) {
		uint32_t best = 0;
		for (size_t i = 0; i < r->n_blocks; i++)
			if (r->blocks[i].cls != SCAN_C_NONE && r->blocks[i].n_wide > best) {
				best = r->blocks[i].n_wide;
				heat_block = r->blocks[i].block;
			}
	}
	if ((rc = rep_tables(dir, r, top, files, err, errlen)) != 0)
		return rc;
	if ((rc = rep_countries(dir, r, files, err, errlen)) != 0)
		return rc;
	if ((rc = rep_js(dir, r, files, err, errlen)) != 0)
		return rc;
	if (heat_block != UINT32_MAX)
		return rep_heat(dir, cs, r, heat_block, files, err, errlen);
	return 0;
}
