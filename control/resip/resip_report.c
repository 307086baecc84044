/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * resip_report.c — the "resip" report writer (resip_mod.h): Tables 3-8 and A.1 as CSV
 * + Markdown, Figures 4-6 as SVG (hand-written, no plotting library), from the RESIP
 * analysis' state and the control plane's copy of the table.  Main loop (or a report's
 * child process: it only reads the state and writes files).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "integrity.h"
#include "resip_mod.h"

/* the analysis' state (resip_mod.h) */
static struct cp_resip_mod *const M = &cp_resip_mod;

struct tw {
	FILE *csv, *md;
	unsigned ncol;
};

static void csv_cell(FILE *f, const char *s)
{
	if (strpbrk(s, ",\"\n") == NULL) {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

static void md_cell(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '|')
			fputc('\\', f);
		fputc(*s == '\n' ? ' ' : *s, f);
	}
}

static void tw_row(struct tw *t, const char *const *cells)
{
	fputs("| ", t->md);
	for (unsigned i = 0; i < t->ncol; i++) {
		if (i) {
			fputc(',', t->csv);
			fputs(" | ", t->md);
		}
		csv_cell(t->csv, cells[i]);
		md_cell(t->md, cells[i]);
	}
	fputc('\n', t->csv);
	fputs(" |\n", t->md);
}

static int tw_open(struct tw *t, const char *dir, const char *base, const char *title,
                   const char *note, unsigned ncol, const char *const *hdr, char *err,
                   size_t errlen)
{
	char p[1200];

	snprintf(p, sizeof(p), "%s/%s.csv", dir, base);
	t->csv = fopen(p, "w");
	snprintf(p, sizeof(p), "%s/%s.md", dir, base);
	t->md = fopen(p, "w");
	if (t->csv == NULL || t->md == NULL) {
		snprintf(err, errlen, "%s: %s", p, strerror(errno));
		if (t->csv)
			fclose(t->csv);
		if (t->md)
			fclose(t->md);
		return -errno;
	}
	t->ncol = ncol;
	fprintf(t->md, "# %s\n\n", title);
	{
		/* the loss stamp of everything drained (the tables cover every day): the
		 * Markdown's header line, the CSV's leading '#' lines */
		struct cp_integ in;

		cp_integrity_span(0, 0, &in);
		cp_integ_md(t->md, &in);
		cp_integ_csv(t->csv, &in, 0, 0);
	}
	if (note != NULL && note[0])
		fprintf(t->md, "%s\n\n", note);
	for (unsigned i = 0; i < ncol; i++) {
		if (i)
			fputc(',', t->csv);
		csv_cell(t->csv, hdr[i]);
	}
	fputc('\n', t->csv);
	fputs("|", t->md);
	for (unsigned i = 0; i < ncol; i++) {
		fputc(' ', t->md);
		md_cell(t->md, hdr[i]);
		fputs(" |", t->md);
	}
	fputs("\n|", t->md);
	for (unsigned i = 0; i < ncol; i++)
		fputs(i ? "---:|" : "---|", t->md);
	fputc('\n', t->md);
	return 0;
}

static int tw_close(struct tw *t, char *err, size_t errlen)
{
	int a = fclose(t->csv), b = fclose(t->md);

	if (a != 0 || b != 0) {
		snprintf(err, errlen, "write: %s", strerror(errno));
		return -EIO;
	}
	return 0;
}

/* Tables 3 (top 10), A.1 (all), 4, 5, 6: geography x provider. */
static int report_geo(const char *dir, const char *base, const char *title,
                      enum resip_geo_by by, size_t top, char *err, size_t errlen)
{
	struct resip_geo_table g;
	char gerr[512] = "", note[700] = "", cc[3];
	const char *hdr[2 + RESIP_MAX_PROVIDERS + 1];
	char cells[2 + RESIP_MAX_PROVIDERS + 1][140];
	const char *cp_[2 + RESIP_MAX_PROVIDERS + 1];
	unsigned np = M->tab ? M->tab->n_providers : 0, nc;
	struct tw t;
	int rc;

	snprintf(cc, sizeof(cc), "%s", M->cp->conf.resip_country);
	memset(&g, 0, sizeof(g));
	if (cp_resip_geo_compute(cc, by, &g, gerr, sizeof(gerr)) != 0) {
		snprintf(note, sizeof(note), "Not available: %s.", gerr);
		np = 0;
	} else {
		snprintf(note, sizeof(note), "Country %s: %llu RESIP table addresses (%llu without a "
		         "GeoIP country); %s.", cc, (unsigned long long)g.n_addrs,
		         (unsigned long long)g.n_no_geo,
		         top ? "top 10 rows" : "all rows");
	}
	hdr[0] = resip_geo_by_name(by);
	hdr[1] = "addresses";
	for (unsigned i = 0; i < np; i++)
		hdr[2 + i] = M->tab->providers[i];
	nc = 2 + np;
	rc = tw_open(&t, dir, base, title, note, nc, hdr, err, errlen);
	if (rc != 0) {
		resip_geo_table_free(&g);
		return rc;
	}
	for (size_t i = 0; i < g.n_rows && (top == 0 || i < top); i++) {
		snprintf(cells[0], sizeof(cells[0]), "%s", g.rows[i].key);
		snprintf(cells[1], sizeof(cells[1]), "%llu", (unsigned long long)g.rows[i].n);
		for (unsigned p = 0; p < np; p++)
			snprintf(cells[2 + p], sizeof(cells[0]), "%llu",
			         (unsigned long long)g.rows[i].per_provider[p]);
		for (unsigned k = 0; k < nc; k++)
			cp_[k] = cells[k];
		tw_row(&t, cp_);
	}
	resip_geo_table_free(&g);
	return tw_close(&t, err, errlen);
}


static FILE *svg_open(const char *dir, const char *name, int w, int h, const char *title,
                      char *err, size_t errlen)
{
	char p[1200];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	f = fopen(p, "w");
	if (f == NULL) {
		snprintf(err, errlen, "%s: %s", p, strerror(errno));
		return NULL;
	}
	/* the figure is w x h; below it, the loss stamp of everything drained (the figures
	 * cover every day): <desc>/<metadata> and two visible lines */
	fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
	        "viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"11\">\n"
	        "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n"
	        "<text x=\"%d\" y=\"18\" text-anchor=\"middle\" font-size=\"14\">%s</text>\n",
	        w, h + CP_INTEG_SVG_H, w, h + CP_INTEG_SVG_H, w / 2, title);
	{
		struct cp_integ in;

		cp_integrity_span(0, 0, &in);
		cp_integ_svg(f, &in, 0, 0, 8, h + 6);
	}
	return f;
}

static int svg_close(FILE *f, char *err, size_t errlen)
{
	fputs("</svg>\n", f);
	if (fclose(f) != 0) {
		snprintf(err, errlen, "write: %s", strerror(errno));
		return -EIO;
	}
	return 0;
}

/* Fig. 4: distinct RESIP hosts per day, a line chart. */
static int fig4(const char *dir, const struct cp_resip_day *d, size_t n, char *err,
                size_t errlen)
{
	const int W = 900, H = 360, L = 70, R = 20, T = 40, B = 60;
	uint64_t ymax = 1;
	FILE *f = svg_open(dir, "resip_fig4_daily_hosts.svg", W, H,
	                   "Fig. 4: distinct RESIP hosts per day (UTC)", err, errlen);
	char b0[16], b1[16];

	if (f == NULL)
		return -EIO;
	for (size_t i = 0; i < n; i++)
		if (d[i].hosts > ymax)
			ymax = d[i].hosts;
	uint32_t d0 = n ? d[0].day : 0, d1 = n ? d[n - 1].day : 1;
	double xs = (double)(W - L - R) / (d1 > d0 ? d1 - d0 : 1), ys = (double)(H - T - B) / ymax;
	fprintf(f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"black\"/>\n", L, H - B,
	        W - R, H - B);
	fprintf(f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"black\"/>\n", L, T, L,
	        H - B);
	for (int k = 0; k <= 4; k++) {
		uint64_t v = ymax * (uint64_t)k / 4;
		double y = H - B - v * ys;
		fprintf(f, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#ddd\"/>"
		        "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%llu</text>\n", L, y, W - R, y,
		        L - 6, y + 4, (unsigned long long)v);
	}
	if (n) {
		cp_resip_day_str(d0, b0, sizeof(b0));
		cp_resip_day_str(d1, b1, sizeof(b1));
		fprintf(f, "<text x=\"%d\" y=\"%d\">%s</text><text x=\"%d\" y=\"%d\" "
		        "text-anchor=\"end\">%s</text>\n", L, H - B + 18, b0, W - R, H - B + 18, b1);
		fputs("<polyline fill=\"none\" stroke=\"#1f77b4\" stroke-width=\"1.5\" points=\"", f);
		for (size_t i = 0; i < n; i++)
			fprintf(f, "%.1f,%.1f ", L + (d[i].day - d0) * xs, H - B - d[i].hosts * ys);
		fputs("\"/>\n", f);
	} else {
		fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">no RESIP traffic</text>\n",
		        W / 2, H / 2);
	}
	fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">day (UTC); days without "
	        "RESIP traffic are not plotted</text>\n", W / 2, H - 20);
	fprintf(f, "<text x=\"16\" y=\"%d\" transform=\"rotate(-90 16 %d)\" "
	        "text-anchor=\"middle\">hosts</text>\n", H / 2, H / 2);
	return svg_close(f, err, errlen);
}

/* Fig. 5: active days of the top sources, one row each. */
static int fig5(const char *dir, const struct cp_resip_src *s, size_t n, uint32_t d0,
                uint32_t d1, char *err, size_t errlen)
{
	const int W = 900, L = 120, R = 20, T = 40, ROW = 18;
	int H = T + (int)n * ROW + 50;
	FILE *f = svg_open(dir, "resip_fig5_top_timeline.svg", W, H,
	                   "Fig. 5: active days of the top RESIP sources", err, errlen);
	double xs = (double)(W - L - R) / (d1 >= d0 ? d1 - d0 + 1 : 1);
	char b0[16], b1[16];

	if (f == NULL)
		return -EIO;
	for (size_t i = 0; i < n; i++) {
		uint32_t *days;
		size_t nd;
		int y = T + (int)i * ROW;
		struct in_addr ia = { .s_addr = htonl(s[i].addr) };
		char ab[16];

		inet_ntop(AF_INET, &ia, ab, sizeof(ab));
		fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%s</text>\n"
		        "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#eee\"/>\n",
		        L - 6, y + 12, ab, L, y + 8, W - R, y + 8);
		if (cp_resip_src_days(M->st, s[i].addr, &days, &nd) != 0)
			continue;
		for (size_t k = 0; k < nd; k++)
			fprintf(f, "<rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"12\" "
			        "fill=\"#d62728\"><title>%s</title></rect>\n", L + (days[k] - d0) * xs,
			        y + 2, xs < 2 ? 2 : xs, ab);
		free(days);
	}
	cp_resip_day_str(d0, b0, sizeof(b0));
	cp_resip_day_str(d1, b1, sizeof(b1));
	fprintf(f, "<text x=\"%d\" y=\"%d\">%s</text><text x=\"%d\" y=\"%d\" "
	        "text-anchor=\"end\">%s</text>\n", L, H - 30, b0, W - R, H - 30, b1);
	fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">a mark = a UTC day with RESIP "
	        "traffic from that source</text>\n", W / 2, H - 10);
	return svg_close(f, err, errlen);
}

/* Fig. 6: port x day heatmap for the top ports. */
static int fig6(const char *dir, const struct cp_resip_port *p, size_t n,
                const struct cp_resip_day *d, size_t nd, char *err, size_t errlen)
{
	const int W = 900, L = 130, R = 20, T = 40, ROW = 18;
	int H = T + (int)n * ROW + 60;
	FILE *f = svg_open(dir, "resip_fig6_port_day.svg", W, H,
	                   "Fig. 6: RESIP packets per port and day (darker = more)", err, errlen);
	uint32_t d0 = nd ? d[0].day : 0, d1 = nd ? d[nd - 1].day : 0;
	double xs = (double)(W - L - R) / (d1 - d0 + 1);
	uint64_t vmax = 1;
	char b0[16], b1[16];

	if (f == NULL)
		return -EIO;
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < nd; k++) {
			uint64_t v = cp_resip_port_day(M->st, p[i].proto, p[i].port, d[k].day);
			if (v > vmax)
				vmax = v;
		}
	for (size_t i = 0; i < n; i++) {
		int y = T + (int)i * ROW;

		fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%s/%u %s</text>\n", L - 6,
		        y + 12, cp_resip_proto_names[p[i].proto], p[i].port,
		        cp_resip_service_name(p[i].proto, p[i].port));
		for (size_t k = 0; k < nd; k++) {
			uint64_t v = cp_resip_port_day(M->st, p[i].proto, p[i].port, d[k].day);
			double a;

			if (v == 0)
				continue;
			a = 0.15 + 0.85 * (double)v / (double)vmax;
			fprintf(f, "<rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"16\" "
			        "fill=\"#08519c\" fill-opacity=\"%.2f\"><title>%llu</title></rect>\n",
			        L + (d[k].day - d0) * xs, y, xs < 1.5 ? 1.5 : xs, a,
			        (unsigned long long)v);
		}
	}
	cp_resip_day_str(d0, b0, sizeof(b0));
	cp_resip_day_str(d1, b1, sizeof(b1));
	fprintf(f, "<text x=\"%d\" y=\"%d\">%s</text><text x=\"%d\" y=\"%d\" "
	        "text-anchor=\"end\">%s</text>\n", L, H - 40, b0, W - R, H - 40, b1);
	fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">max %llu packets in one "
	        "cell; hover a cell for its count</text>\n", W / 2, H - 15,
	        (unsigned long long)vmax);
	return svg_close(f, err, errlen);
}

/* One table of rows: fill(ctx, i, cells) sets the cells of row i < n. */
typedef void (*tw_fill_fn)(const void *ctx, size_t i, char cells[][300]);

static int tw_table(const char *dir, const char *base, const char *title, const char *note,
                    unsigned ncol, const char *const *hdr, size_t n, tw_fill_fn fill,
                    const void *ctx, char *err, size_t errlen)
{
	char c[8][300];
	const char *cc[8];
	struct tw t;
	int rc = tw_open(&t, dir, base, title, note, ncol, hdr, err, errlen);

	if (rc != 0)
		return rc;
	for (unsigned k = 0; k < 8; k++)
		cc[k] = c[k];
	for (size_t i = 0; i < n; i++) {
		fill(ctx, i, c);
		tw_row(&t, cc);
	}
	return tw_close(&t, err, errlen);
}

/* What the RESIP tables are made of. */
struct resip_rep {
	struct cp_resip_src *s;
	struct cp_resip_port *p;
	struct cp_resip_day *d;
	size_t ns, np, nd;
	struct cp_resip_totals tot;
};

static void fill_top(const void *ctx, size_t i, char c[][300])   /* Table 7 */
{
	const struct cp_resip_src *s = &((const struct resip_rep *)ctx)->s[i];
	struct in_addr ia = { .s_addr = htonl(s->addr) };

	snprintf(c[0], 300, "%zu", i + 1);
	inet_ntop(AF_INET, &ia, c[1], 300);
	snprintf(c[2], 300, "%llu", (unsigned long long)s->packets);
	snprintf(c[3], 300, "%u", s->days);
	cp_resip_providers_str(s->addr, c[4], 300);
}

static void fill_port(const void *ctx, size_t i, char c[][300])  /* Table 8 */
{
	const struct resip_rep *rr = ctx;
	const struct cp_resip_port *p = &rr->p[i];

	snprintf(c[0], 300, "%zu", i + 1);
	snprintf(c[1], 300, "%s", cp_resip_proto_names[p->proto]);
	snprintf(c[2], 300, "%u", p->port);
	snprintf(c[3], 300, "%s", cp_resip_service_name(p->proto, p->port));
	snprintf(c[4], 300, "%llu", (unsigned long long)p->packets);
	snprintf(c[5], 300, "%.4f", cp_resip_share(p->packets, rr->tot.port_packets));
	snprintf(c[6], 300, "%u", p->days);
}

static void fill_day(const void *ctx, size_t i, char c[][300])   /* Fig. 4's data */
{
	const struct cp_resip_day *d = &((const struct resip_rep *)ctx)->d[i];

	cp_resip_day_str(d->day, c[0], 300);
	snprintf(c[1], 300, "%llu", (unsigned long long)d->hosts);
	snprintf(c[2], 300, "%llu", (unsigned long long)d->packets);
}

int cp_resip_report(void *ctx, const char *dir, char *err, size_t errlen)
{
	static const char *h7[] = { "rank", "address", "packets", "days", "providers" };
	static const char *h8[] = { "rank", "proto", "port", "service", "packets", "share", "days" };
	static const char *hd[] = { "day", "hosts", "packets" };
	struct resip_rep rr;
	char note[300];
	int rc;

	(void)ctx;
	memset(&rr, 0, sizeof(rr));
	cp_resip_table_refresh(false);
	if ((rc = report_geo(dir, "resip_table3_regions", "Table 3: RESIP addresses per "
	                     "first-level subdivision x provider (top 10)", RESIP_GEO_REGION, 10,
	                     err, errlen)) != 0 ||
	    (rc = report_geo(dir, "resip_tableA1_regions", "Table A.1: RESIP addresses per "
	                     "first-level subdivision x provider (all)", RESIP_GEO_REGION, 0,
	                     err, errlen)) != 0 ||
	    (rc = report_geo(dir, "resip_table4_domains", "Table 4: RESIP addresses per "
	                     "registrable domain of the PTR name", RESIP_GEO_DOMAIN, 0, err,
	                     errlen)) != 0 ||
	    (rc = report_geo(dir, "resip_table5_orgs", "Table 5: RESIP addresses per "
	                     "organisation", RESIP_GEO_ORG, 0, err, errlen)) != 0 ||
	    (rc = report_geo(dir, "resip_table6_sld", "Table 6: RESIP addresses per second-level "
	                     "label under the country TLD", RESIP_GEO_SLD, 0, err, errlen)) != 0)
		return rc;
	cp_resip_totals(M->st, &rr.tot);
	if (cp_resip_top(M->st, 20, &rr.s, &rr.ns) != 0 ||
	    cp_resip_ports(M->st, 20, &rr.p, &rr.np) != 0 ||
	    cp_resip_daily(M->st, &rr.d, &rr.nd) != 0) {
		snprintf(err, errlen, "out of memory");
		rc = -ENOMEM;
		goto out;
	}
	snprintf(note, sizeof(note), "%llu RESIP packets from %llu hosts over %llu days.",
	         (unsigned long long)rr.tot.packets, (unsigned long long)rr.tot.hosts,
	         (unsigned long long)rr.tot.days);
	if ((rc = tw_table(dir, "resip_table7_top_sources", "Table 7: top RESIP sources", note,
	                   5, h7, rr.ns, fill_top, &rr, err, errlen)) != 0 ||
	    (rc = tw_table(dir, "resip_table8_ports", "Table 8: RESIP packets per destination "
	                   "port", note, 7, h8, rr.np, fill_port, &rr, err, errlen)) != 0 ||
	    (rc = tw_table(dir, "resip_fig4_daily_hosts", "Fig. 4 data: distinct RESIP hosts per "
	                   "day", note, 3, hd, rr.nd, fill_day, &rr, err, errlen)) != 0)
		goto out;
	if ((rc = fig4(dir, rr.d, rr.nd, err, errlen)) != 0 ||
	    (rc = fig5(dir, rr.s, rr.ns > 10 ? 10 : rr.ns, rr.nd ? rr.d[0].day : 0,
	               rr.nd ? rr.d[rr.nd - 1].day : 0, err, errlen)) != 0 ||
	    (rc = fig6(dir, rr.p, rr.np > 10 ? 10 : rr.np, rr.d, rr.nd, err, errlen)) != 0)
		goto out;
out:
	free(rr.s);
	free(rr.p);
	free(rr.d);
	return rc;
}
