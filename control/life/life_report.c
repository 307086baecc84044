/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * life_report.c — SPEC.md C's Table 1 and Figures 1-8 as files (life_report.h): CSV for
 * tools, Markdown for people, SVG plots (hand-written, no plotting library).  Control
 * plane main loop only.
 *
 *   life_table1.md / .csv     buckets: count, share (Table 1), one-sensor share
 *   life_fig1_days.csv/.svg   CDF of the observation period in days
 *   life_fig2_minutes.*       CDF in minutes (sources < 1 day), 0..1440
 *   life_fig3_sensors.*       per bucket: share seen by 1,2,3,4,>=5 sensors
 *   life_fig4_countries.*     per bucket: top 10 countries and the rest
 *   life_fig5_categories.*    per bucket: share of sources with each category
 *   life_fig6_seconds.*       CDF in seconds (sources < 1 min), 0..60
 *   life_fig7_events.*        CDF of events per source (sources < 1 min)
 *   life_fig8_continuity.*    continuous share on the (t_l, t_e) grid (heat map)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "integrity.h"
#include "life_report.h"

/* The loss stamp of everything drained (the lifetimes span all of it), a header line. */
static void life_integ_md(FILE *f)
{
	struct cp_integ in;

	cp_integrity_span(0, 0, &in);
	cp_integ_md(f, &in);
}

static const char *const bucket_names[] = CP_LIFE_BUCKET_NAMES;
static const char *const cat_names[] = CP_LIFE_CAT_NAMES;
static const char *const sens_names[] = { "1", "2", "3", "4", ">=5" };

static double share(uint64_t a, uint64_t b)
{
	return b ? (double)a / (double)b : 0.0;
}

static FILE *open_in(const char *dir, const char *name, char *err, size_t errlen)
{
	char path[1024];
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	if (!f) {
		snprintf(err, errlen, "lifetime: cannot write %s: %s", path, strerror(errno));
		return NULL;
	}
	n = strlen(name);
	if (n > 4 && strcmp(name + n - 4, ".csv") == 0) {
		/* every CSV starts with the loss stamp of everything drained, as '#' lines */
		struct cp_integ in;

		cp_integrity_span(0, 0, &in);
		cp_integ_csv(f, &in, 0, 0);
	}
	return f;
}

static int close_ok(FILE *f, const char *name, char *err, size_t errlen)
{
	int bad = ferror(f);

	if (fclose(f) != 0 || bad) {
		snprintf(err, errlen, "lifetime: write error on %s", name);
		return -EIO;
	}
	return 0;
}

/* --- SVG helpers: 640x400, margins for axes and labels --- */

/* XML-escaped copy of s in one of four rotating static buffers (labels hold "< 1 min") */
static const char *xe(const char *s)
{
	static char buf[4][256];
	static unsigned k;
	char *o = buf[k++ & 3], *p = o;

	for (; *s && p < o + 248; s++) {
		if (*s == '<')
			p += sprintf(p, "&lt;");
		else if (*s == '>')
			p += sprintf(p, "&gt;");
		else if (*s == '&')
			p += sprintf(p, "&amp;");
		else
			*p++ = *s;
	}
	*p = 0;
	return o;
}

#define SW 640
#define SH 400
#define ML 60
#define MR 20
#define MT 40
#define MB 60

/* The plot is SW x SH; below it, CP_INTEG_SVG_H for the loss stamp of everything drained
 * (its <desc>/<metadata> and two visible lines). */

static void svg_head(FILE *f, const char *title)
{
	struct cp_integ in;

	fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
	        "font-family=\"sans-serif\" font-size=\"12\">\n"
	        "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n"
	        "<text x=\"%d\" y=\"22\" font-size=\"15\">%s</text>\n", SW, SH + CP_INTEG_SVG_H,
	        ML, xe(title));
	cp_integrity_span(0, 0, &in);
	cp_integ_svg(f, &in, 0, 0, 8, SH + 6);
}

static void svg_axes(FILE *f, const char *xl, const char *yl, double xmax, double ymax)
{
	fprintf(f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"black\"/>\n",
	        ML, SH - MB, SW - MR, SH - MB);
	fprintf(f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"black\"/>\n",
	        ML, MT, ML, SH - MB);
	for (int k = 0; k <= 4; k++) {
		double y = SH - MB - (SH - MT - MB) * k / 4.0;

		fprintf(f, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%.2g</text>\n", ML - 4,
		        y + 4, ymax * k / 4.0);
		if (xmax > 0)
			fprintf(f, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%.4g</text>\n",
			        ML + (SW - ML - MR) * k / 4.0, SH - MB + 16, xmax * k / 4.0);
	}
	fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">%s</text>\n",
	        (ML + SW - MR) / 2, SH - 20, xl);
	fprintf(f, "<text x=\"16\" y=\"%d\" transform=\"rotate(-90 16 %d)\" "
	        "text-anchor=\"middle\">%s</text>\n", (MT + SH - MB) / 2, (MT + SH - MB) / 2, yl);
}

static int write_cdf(struct cp_life *l, enum cp_life_unit u, const char *dir, const char *base,
                     const char *title, const char *xl, char *err, size_t errlen)
{
	struct cp_life_cdf_pt *p;
	size_t n;
	uint64_t pop;
	char name[128];
	FILE *f;
	int ret;
	double xmax;

	if (cp_life_cdf(l, u, &p, &n, &pop) != 0) {
		snprintf(err, errlen, "lifetime: out of memory");
		return -ENOMEM;
	}
	snprintf(name, sizeof(name), "%s.csv", base);
	if (!(f = open_in(dir, name, err, errlen))) {
		free(p);
		return -EIO;
	}
	fprintf(f, "x,n_le,population,cdf\n");
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%llu,%llu,%llu,%.6f\n", (unsigned long long)p[i].x,
		        (unsigned long long)p[i].n_le, (unsigned long long)pop, share(p[i].n_le, pop));
	if ((ret = close_ok(f, name, err, errlen)) != 0)
		goto out;
	snprintf(name, sizeof(name), "%s.svg", base);
	if (!(f = open_in(dir, name, err, errlen))) {
		ret = -EIO;
		goto out;
	}
	xmax = n ? (double)p[n - 1].x : 1.0;
	if (xmax <= 0)
		xmax = 1;
	{
		char t[200];

		snprintf(t, sizeof(t), "%s (n = %llu)", title, (unsigned long long)pop);
		svg_head(f, t);
	}
	svg_axes(f, xl, "CDF", xmax, 1.0);
	fprintf(f, "<polyline fill=\"none\" stroke=\"#1f77b4\" stroke-width=\"2\" points=\"");
	for (size_t i = 0; i < n; i++) {
		double x = ML + (SW - ML - MR) * (double)p[i].x / xmax;
		double y = SH - MB - (SH - MT - MB) * share(p[i].n_le, pop);

		/* a step function: horizontal to x, then up */
		if (i > 0)
			fprintf(f, "%.1f,%.1f ", x, SH - MB - (SH - MT - MB) * share(p[i - 1].n_le, pop));
		fprintf(f, "%.1f,%.1f ", x, y);
	}
	fprintf(f, "\"/>\n</svg>\n");
	ret = close_ok(f, name, err, errlen);
out:
	free(p);
	return ret;
}

/* grouped bars: rows = buckets, cols = series, values are shares 0..1 */
static int write_bars(const char *dir, const char *name, const char *title, unsigned n_series,
                      const char *const *series, double v[CP_LIFE_BUCKETS][16], char *err,
                      size_t errlen)
{
	static const char *const colours[] = { "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728",
		"#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf", "#aec7e8" };
	FILE *f = open_in(dir, name, err, errlen);
	double gw = (SW - ML - MR) / (double)CP_LIFE_BUCKETS, bw = gw * 0.8 / n_series;

	if (!f)
		return -EIO;
	svg_head(f, title);
	svg_axes(f, "", "share of sources", 0, 1.0);
	for (unsigned b = 0; b < CP_LIFE_BUCKETS; b++) {
		for (unsigned s = 0; s < n_series; s++) {
			double h = (SH - MT - MB) * v[b][s];

			fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
			        "fill=\"%s\"><title>%s %s: %.3f</title></rect>\n",
			        ML + gw * b + gw * 0.1 + bw * s, SH - MB - h, bw, h,
			        colours[s % 11], xe(bucket_names[b]), xe(series[s]), v[b][s]);
		}
		fprintf(f, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s</text>\n",
		        ML + gw * b + gw / 2, SH - MB + 30, xe(bucket_names[b]));
	}
	for (unsigned s = 0; s < n_series; s++)
		fprintf(f, "<rect x=\"%d\" y=\"%u\" width=\"10\" height=\"10\" fill=\"%s\"/>"
		        "<text x=\"%d\" y=\"%u\">%s</text>\n", SW - 150, MT + 14 * s, colours[s % 11],
		        SW - 136, MT + 14 * s + 9, xe(series[s]));
	fprintf(f, "</svg>\n");
	return close_ok(f, name, err, errlen);
}

int cp_life_report_files(struct cp_life *l, struct cp_geo *geo, const char *dir, char *err,
                         size_t errlen)
{
	struct cp_life_report r;
	struct cp_life_stats st;
	uint64_t grid[CP_LIFE_GRID_L][CP_LIFE_GRID_E], elig;
	double v[CP_LIFE_BUCKETS][16];
	FILE *f;
	int ret;

	if (cp_life_report(l, geo, &r) != 0) {
		snprintf(err, errlen, "lifetime: out of memory");
		return -ENOMEM;
	}
	cp_life_get_stats(l, &st);

	/* Table 1 */
	if (!(f = open_in(dir, "life_table1.csv", err, errlen)))
		return -EIO;
	fprintf(f, "bucket,sources,share\n");
	for (unsigned b = 0; b < CP_LIFE_BUCKETS; b++)
		fprintf(f, "%s,%llu,%.6f\n", bucket_names[b], (unsigned long long)r.bucket[b],
		        share(r.bucket[b], r.n_sources));
	fprintf(f, "total,%llu,1\n", (unsigned long long)r.n_sources);
	if ((ret = close_ok(f, "life_table1.csv", err, errlen)) != 0)
		return ret;
	if (!(f = open_in(dir, "life_table1.md", err, errlen)))
		return -EIO;
	fprintf(f, "# Lifetime of attacking sources (SPEC.md C)\n\n");
	life_integ_md(f);
	fprintf(f, "Table 1: observation period (last - first event) of each source.\n\n"
	        "| observation period | sources | share |\n|---|---:|---:|\n");
	for (unsigned b = 0; b < CP_LIFE_BUCKETS; b++)
		fprintf(f, "| %s | %llu | %.2f %% |\n", bucket_names[b], (unsigned long long)r.bucket[b],
		        100 * share(r.bucket[b], r.n_sources));
	fprintf(f, "| total | %llu | 100 %% |\n\n", (unsigned long long)r.n_sources);
	fprintf(f, "Seen by exactly one sensor: %llu (%.2f %%).\n\n",
	        (unsigned long long)r.one_sensor, 100 * share(r.one_sensor, r.n_sources));
	fprintf(f, "Group gap: %llu s.  Sources evicted (table bound lifetime.max_sources = %u): "
	        "%llu, not in these figures.  Event types dropped past %u per group: %llu.\n",
	        (unsigned long long)(cp_life_conf_get(l)->gap_ns / 1000000000ull),
	        cp_life_conf_get(l)->max_sources, (unsigned long long)st.n_evicted,
	        CP_LIFE_MAX_TYPES, (unsigned long long)st.n_types_truncated);
	if ((ret = close_ok(f, "life_table1.md", err, errlen)) != 0)
		return ret;

	if ((ret = write_cdf(l, CP_LIFE_DAYS, dir, "life_fig1_days",
	                     "Fig. 1: observation period, all sources", "days", err, errlen)) ||
	    (ret = write_cdf(l, CP_LIFE_MINUTES, dir, "life_fig2_minutes",
	                     "Fig. 2: observation period, sources < 1 day", "minutes", err, errlen)) ||
	    (ret = write_cdf(l, CP_LIFE_SECONDS, dir, "life_fig6_seconds",
	                     "Fig. 6: observation period, sources < 1 min", "seconds", err, errlen)) ||
	    (ret = write_cdf(l, CP_LIFE_EVENTS, dir, "life_fig7_events",
	                     "Fig. 7: events per source, sources < 1 min", "events", err, errlen)))
		return ret;

	/* Fig. 3 */
	if (!(f = open_in(dir, "life_fig3_sensors.csv", err, errlen)))
		return -EIO;
	fprintf(f, "bucket,sensors,sources,share\n");
	for (unsigned b = 0; b < CP_LIFE_BUCKETS; b++)
		for (unsigned k = 0; k < 5; k++) {
			v[b][k] = share(r.sensors[b][k], r.bucket[b]);
			fprintf(f, "%s,%s,%llu,%.6f\n", bucket_names[b], sens_names[k],
			        (unsigned long long)r.sensors[b][k], v[b][k]);
		}
	fprintf(f, "all,one_sensor,%llu,%.6f\n", (unsigned long long)r.one_sensor,
	        share(r.one_sensor, r.n_sources));
	if ((ret = close_ok(f, "life_fig3_sensors.csv", err, errlen)) ||
	    (ret = write_bars(dir, "life_fig3_sensors.svg", "Fig. 3: sensors per source",
	                      5, sens_names, v, err, errlen)))
		return ret;

	/* Fig. 4 */
	if (!(f = open_in(dir, "life_fig4_countries.csv", err, errlen)))
		return -EIO;
	fprintf(f, "bucket,rank,country,sources,share\n");
	for (unsigned b = 0; b < CP_LIFE_BUCKETS; b++) {
		for (unsigned k = 0; k < r.n_top[b]; k++)
			fprintf(f, "%s,%u,%s,%llu,%.6f\n", bucket_names[b], k + 1, r.top[b][k].cc,
			        (unsigned long long)r.top[b][k].n, share(r.top[b][k].n, r.bucket[b]));
		fprintf(f, "%s,,rest,%llu,%.6f\n", bucket_names[b], (unsigned long long)r.cc_rest[b],
		        share(r.cc_rest[b], r.bucket[b]));
	}
	if ((ret = close_ok(f, "life_fig4_countries.csv", err, errlen)) != 0)
		return ret;
	if (!(f = open_in(dir, "life_fig4_countries.md", err, errlen)))
		return -EIO;
	fprintf(f, "# Fig. 4: top 10 countries per lifetime bucket\n\n");
	life_integ_md(f);
	for (unsigned b = 0; b < CP_LIFE_BUCKETS; b++) {
		fprintf(f, "## %s (%llu sources)\n\n| rank | country | share |\n|---:|---|---:|\n",
		        bucket_names[b], (unsigned long long)r.bucket[b]);
		for (unsigned k = 0; k < r.n_top[b]; k++)
			fprintf(f, "| %u | %s | %.2f %% |\n", k + 1, r.top[b][k].cc,
			        100 * share(r.top[b][k].n, r.bucket[b]));
		fprintf(f, "| | rest | %.2f %% |\n\n", 100 * share(r.cc_rest[b], r.bucket[b]));
	}
	if ((ret = close_ok(f, "life_fig4_countries.md", err, errlen)) != 0)
		return ret;
	{
		/* stacked view as grouped bars of the overall top 10 is unreadable; plot each
		 * bucket's top-1..10 shares by rank */
		static const char *const ranks[] = { "#1", "#2", "#3", "#4", "#5", "#6", "#7",
			"#8", "#9", "#10", "rest" };

		for (unsigned b = 0; b < CP_LIFE_BUCKETS; b++) {
			for (unsigned k = 0; k < 10; k++)
				v[b][k] = k < r.n_top[b] ? share(r.top[b][k].n, r.bucket[b]) : 0;
			v[b][10] = share(r.cc_rest[b], r.bucket[b]);
		}
		if ((ret = write_bars(dir, "life_fig4_countries.svg",
		                      "Fig. 4: country shares by rank (names in the .md/.csv)", 11,
		                      ranks, v, err, errlen)) != 0)
			return ret;
	}

	/* Fig. 5 */
	if (!(f = open_in(dir, "life_fig5_categories.csv", err, errlen)))
		return -EIO;
	fprintf(f, "bucket,category,sources,share\n");
	for (unsigned b = 0; b < CP_LIFE_BUCKETS; b++)
		for (unsigned c = 0; c < CP_LIFE_CAT_N; c++) {
			v[b][c] = share(r.cat[b][c], r.bucket[b]);
			fprintf(f, "%s,%s,%llu,%.6f\n", bucket_names[b], cat_names[c],
			        (unsigned long long)r.cat[b][c], v[b][c]);
		}
	if ((ret = close_ok(f, "life_fig5_categories.csv", err, errlen)) ||
	    (ret = write_bars(dir, "life_fig5_categories.svg",
	                      "Fig. 5: share of sources with each event category", CP_LIFE_CAT_N,
	                      cat_names, v, err, errlen)))
		return ret;

	/* Fig. 8 */
	cp_life_continuity_grid(l, grid, &elig);
	if (!(f = open_in(dir, "life_fig8_continuity.csv", err, errlen)))
		return -EIO;
	fprintf(f, "t_l,t_e,continuous,eligible,share\n");
	for (unsigned a = 0; a < CP_LIFE_GRID_L; a++)
		for (unsigned e = 0; e < CP_LIFE_GRID_E; e++)
			fprintf(f, "%.1f,%.2f,%llu,%llu,%.6f\n", cp_life_grid_tl[a] / 10000.0, e * 0.05,
			        (unsigned long long)grid[a][e], (unsigned long long)elig,
			        share(grid[a][e], elig));
	if ((ret = close_ok(f, "life_fig8_continuity.csv", err, errlen)) != 0)
		return ret;
	if (!(f = open_in(dir, "life_fig8_continuity.svg", err, errlen)))
		return -EIO;
	{
		char t[160];
		double cw = (SW - ML - MR) / (double)CP_LIFE_GRID_E;
		double ch = (SH - MT - MB) / (double)CP_LIFE_GRID_L;

		snprintf(t, sizeof(t), "Fig. 8: continuous share (n = %llu sources, > 24 h, >= 1 gap)",
		         (unsigned long long)elig);
		svg_head(f, t);
		for (unsigned a = 0; a < CP_LIFE_GRID_L; a++) {
			for (unsigned e = 0; e < CP_LIFE_GRID_E; e++) {
				double s = share(grid[a][e], elig);
				int shade = (int)(255 - 200 * s);

				fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
				        "fill=\"rgb(%d,%d,255)\"><title>t_l %.1f t_e %.2f: %.3f</title>"
				        "</rect>\n", ML + cw * e, MT + ch * (CP_LIFE_GRID_L - 1 - a), cw, ch,
				        shade, shade, cp_life_grid_tl[a] / 10000.0, e * 0.05, s);
				/* the value itself: colour alone cannot be read off */
				fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" "
				        "font-size=\"8\" fill=\"%s\">%.2f</text>\n",
				        ML + cw * e + cw / 2, MT + ch * (CP_LIFE_GRID_L - 1 - a) + ch / 2 + 3,
				        s > 0.5 ? "white" : "#222", s);
			}
			fprintf(f, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%.1f</text>\n", ML - 4,
			        MT + ch * (CP_LIFE_GRID_L - 1 - a) + ch / 2 + 4,
			        cp_life_grid_tl[a] / 10000.0);
		}
		for (unsigned e = 0; e < CP_LIFE_GRID_E; e += 4)
			fprintf(f, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%.1f</text>\n",
			        ML + cw * e + cw / 2, SH - MB + 16, e * 0.05);
		fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">t_e (event types)</text>\n"
		        "<text x=\"16\" y=\"%d\" transform=\"rotate(-90 16 %d)\" text-anchor=\"middle\">"
		        "t_l (sensors)</text>\n</svg>\n", (ML + SW - MR) / 2, SH - 20,
		        (MT + SH - MB) / 2, (MT + SH - MB) / 2);
	}
	return close_ok(f, "life_fig8_continuity.svg", err, errlen);
}
