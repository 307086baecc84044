/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * report.c — the report registry, the report directory and the built-in "summary"
 * writer (report.h).
 *
 * Which files a run wrote is found by listing dir before and after (name, size, mtime):
 * writers stay a single function of (ctx, dir) and cannot misreport their own output.
 */
#include <dirent.h>
#include <stdbool.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "grow.h"
#include "json.h"
#include "integrity.h"
#include "period.h"
#include "report.h"

struct cp_report_writer {
	const char *name;
	cp_report_write_fn write;
	void *ctx;
};

static struct cp_report_writer cp_writers[CP_REPORT_MAX_WRITERS];
static unsigned cp_n_writers;

int cp_report_register(const char *name, cp_report_write_fn write, void *ctx)
{
	if (name == NULL || name[0] == '\0' || write == NULL)
		return -EINVAL;
	for (unsigned i = 0; i < cp_n_writers; i++)
		if (strcmp(cp_writers[i].name, name) == 0)
			return -EEXIST;
	if (cp_n_writers == CP_REPORT_MAX_WRITERS)
		return -ENOSPC;
	cp_writers[cp_n_writers++] = (struct cp_report_writer){ name, write, ctx };
	return 0;
}

void cp_report_unregister_all(void)
{
	memset(cp_writers, 0, sizeof(cp_writers));
	cp_n_writers = 0;
}

int cp_report_register_builtin(const struct cp_store *s)
{
	int rc = cp_report_register("summary", cp_report_summary, (void *)s);

	return rc != 0 ? rc : cp_report_register("integrity", cp_report_integrity, (void *)s);
}

int cp_report_default_dir(const char *state_dir, uint64_t now_ns, char *out, size_t len)
{
	time_t t = (time_t)(now_ns / 1000000000ull);
	struct tm tm;
	char stamp[32];

	gmtime_r(&t, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	if ((size_t)snprintf(out, len, "%s/reports/%s", state_dir, stamp) >= len)
		return -ENAMETOOLONG;
	return 0;
}

/* mkdir -p */
static int cp_mkdirs(const char *dir, mode_t mode)
{
	char p[1024];
	size_t n = strlen(dir);

	if (n == 0 || n >= sizeof(p))
		return -ENAMETOOLONG;
	memcpy(p, dir, n + 1);
	for (char *c = p + 1; *c != '\0'; c++) {
		if (*c != '/')
			continue;
		*c = '\0';
		if (mkdir(p, mode) != 0 && errno != EEXIST)
			return -errno;
		*c = '/';
	}
	if (mkdir(p, mode) != 0 && errno != EEXIST)
		return -errno;
	return 0;
}

/* ---- listing: which files a run created or changed ---- */

struct cp_fent {
	char *rel;
	off_t size;
	struct timespec mtime;
};

struct cp_flist {
	struct cp_fent *v;
	size_t n, cap;
};

static void cp_flist_free(struct cp_flist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i].rel);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

static int cp_flist_scan(const char *dir, const char *rel, struct cp_flist *l, int depth)
{
	char path[1200];
	struct dirent *de;
	DIR *d;

	snprintf(path, sizeof(path), "%s%s%s", dir, rel[0] ? "/" : "", rel);
	d = opendir(path);
	if (d == NULL)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d)) != NULL) {
		char sub[600], full[1900];
		struct stat st;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(sub, sizeof(sub), "%s%s%s", rel, rel[0] ? "/" : "", de->d_name);
		snprintf(full, sizeof(full), "%s/%s", dir, sub);
		if (lstat(full, &st) != 0)
			continue;
		if (S_ISDIR(st.st_mode)) {
			if (depth < 4)
				cp_flist_scan(dir, sub, l, depth + 1);
			continue;
		}
		if (!S_ISREG(st.st_mode) || l->n >= CP_REPORT_MAX_FILES)
			continue;
		{
			struct cp_fent *v = cp_grow(l->v, &l->cap, l->n + 1, sizeof(*v), 32);

			if (v == NULL) {
				closedir(d);
				return -ENOMEM;
			}
			l->v = v;
		}
		l->v[l->n].rel = strdup(sub);
		if (l->v[l->n].rel == NULL) {
			closedir(d);
			return -ENOMEM;
		}
		l->v[l->n].size = st.st_size;
		l->v[l->n].mtime = st.st_mtim;
		l->n++;
	}
	closedir(d);
	return 0;
}

static int cp_str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int cp_report_run(const char *dir, struct cp_report_result *res, char *err, size_t errlen)
{
	struct cp_flist before = { 0 }, after = { 0 };
	int ret, first_err = 0;

	memset(res, 0, sizeof(*res));
	if (err != NULL && errlen)
		err[0] = '\0';
	ret = cp_mkdirs(dir, 0750);
	if (ret != 0) {
		snprintf(err, errlen, "cannot create %s: %s", dir, strerror(-ret));
		return ret;
	}
	ret = cp_flist_scan(dir, "", &before, 0);
	if (ret != 0) {
		snprintf(err, errlen, "cannot list %s: %s", dir, strerror(-ret));
		goto out;
	}
	for (unsigned i = 0; i < cp_n_writers; i++) {
		char werr[256] = "";
		int r = cp_writers[i].write(cp_writers[i].ctx, dir, werr, sizeof(werr));

		if (r != 0 && first_err == 0) {
			first_err = r < 0 ? r : -EIO;
			snprintf(res->failed, sizeof(res->failed), "%s", cp_writers[i].name);
			snprintf(err, errlen, "%s: %s", cp_writers[i].name,
			         werr[0] ? werr : strerror(-first_err));
		}
	}
	ret = cp_flist_scan(dir, "", &after, 0);
	if (ret != 0)
		goto out;
	res->files = calloc(after.n ? after.n : 1, sizeof(char *));
	if (res->files == NULL) {
		ret = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < after.n; i++) {
		bool same = false;

		for (size_t j = 0; j < before.n && !same; j++)
			same = strcmp(before.v[j].rel, after.v[i].rel) == 0 &&
			       before.v[j].size == after.v[i].size &&
			       before.v[j].mtime.tv_sec == after.v[i].mtime.tv_sec &&
			       before.v[j].mtime.tv_nsec == after.v[i].mtime.tv_nsec;
		if (same)
			continue;
		res->files[res->n_files] = after.v[i].rel;
		after.v[i].rel = NULL;
		res->n_files++;
	}
	qsort(res->files, res->n_files, sizeof(char *), cp_str_cmp);
	ret = first_err;
out:
	cp_flist_free(&before);
	cp_flist_free(&after);
	return ret;
}

void cp_report_result_free(struct cp_report_result *res)
{
	for (size_t i = 0; i < res->n_files; i++)
		free(res->files[i]);
	free(res->files);
	memset(res, 0, sizeof(*res));
}

/* ---- the built-in summary ---- */

/* Flatten a counters object to (name, value) rows: nested objects as "outer.inner". */
static void cp_csv_counters(FILE *f, const char *scope, const struct obx_counters *c)
{
	json_t *o = cp_json_counters(c);
	const char *k;
	json_t *v;

	json_object_foreach(o, k, v) {
		if (json_is_object(v)) {
			const char *k2;
			json_t *v2;

			json_object_foreach(v, k2, v2)
				fprintf(f, "%s,%s.%s,%" JSON_INTEGER_FORMAT "\n", scope, k, k2,
				        json_integer_value(v2));
		} else {
			fprintf(f, "%s,%s,%" JSON_INTEGER_FORMAT "\n", scope, k, json_integer_value(v));
		}
	}
	json_decref(o);
}

static FILE *cp_open_tmp(const char *dir, const char *name, char *tmp, size_t len)
{
	snprintf(tmp, len, "%s/.%s.tmp", dir, name);
	return fopen(tmp, "w");
}

/* Close f and rename tmp to dir/name (a reader never sees half a file). */
static int cp_close_rename(FILE *f, const char *tmp, const char *dir, const char *name)
{
	char dst[1200];
	int bad = ferror(f);

	if (fclose(f) != 0 || bad) {
		unlink(tmp);
		return -EIO;
	}
	snprintf(dst, sizeof(dst), "%s/%s", dir, name);
	if (rename(tmp, dst) != 0) {
		int ret = -errno;

		unlink(tmp);
		return ret;
	}
	return 0;
}

/* The loss stamp as summary.csv rows: scope "integrity" (integrity.h's fields). */
static void cp_csv_integ(FILE *f, const struct cp_integ *in)
{
	static const char *const drop_names[OBX_DROP_N] = OBX_DROP_NAMES;

	fprintf(f, "integrity,complete,%d\n", cp_integ_complete(in) ? 1 : 0);
	fprintf(f, "integrity,packets,%" PRIu64 "\n", in->rx_packets);
	for (int i = 0; i < OBX_DROP_N; i++)
		fprintf(f, "integrity,drop.%s,%" PRIu64 "\n", drop_names[i], in->drops[i]);
	fprintf(f, "integrity,imissed,%" PRIu64 "\nintegrity,rx_nombuf,%" PRIu64 "\n"
	        "integrity,lost_updates,%" PRIu64 "\nintegrity,forced_swaps,%" PRIu64 "\n"
	        "integrity,dp_restarts,%" PRIu64 "\nintegrity,epochs,%" PRIu64 "\n"
	        "integrity,epochs_missing,%" PRIu64 "\nintegrity,overlap_epochs,%" PRIu64 "\n"
	        "integrity,overlap_losses,%" PRIu64 "\n", in->imissed, in->rx_nombuf,
	        in->lost_updates, in->forced_swaps, cp_integ_restarts(in), in->epochs,
	        in->epochs_missing, in->overlap_epochs, in->overlap_losses);
}

int cp_report_summary(void *ctx, const char *dir, char *err, size_t errlen)
{
	static const char *const drop_names[OBX_DROP_N] = OBX_DROP_NAMES;
	const struct cp_store *s = ctx;
	char tmp[1200], t0[64], t1[64];
	struct cp_integ in;
	uint64_t dropped = 0;
	FILE *f;
	int ret;

	f = cp_open_tmp(dir, "summary.csv", tmp, sizeof(tmp));
	if (f == NULL) {
		snprintf(err, errlen, "cannot create %s: %s", tmp, strerror(errno));
		return -errno;
	}
	cp_integrity_span(0, 0, &in);
	cp_integ_csv(f, &in, 0, 0);       /* the loss stamp, as leading '#' lines */
	fprintf(f, "scope,counter,value\n");
	fprintf(f, "store,epochs,%" PRIu64 "\n", s->epochs);
	fprintf(f, "store,boots,%u\n", s->n_boots);
	fprintf(f, "store,sources,%u\n", s->src.n);
	fprintf(f, "store,packet_time_first_ns,%" PRIu64 "\n", s->t_first_ns);
	fprintf(f, "store,packet_time_last_ns,%" PRIu64 "\n", s->t_last_ns);
	cp_csv_counters(f, "total", &s->total);
	cp_csv_integ(f, &in);
	for (uint32_t w = 0; w < s->n_workers; w++) {
		char scope[32];

		snprintf(scope, sizeof(scope), "worker%u", w);
		cp_csv_counters(f, scope, &s->worker[w]);
	}
	ret = cp_close_rename(f, tmp, dir, "summary.csv");
	if (ret != 0) {
		snprintf(err, errlen, "cannot write %s/summary.csv: %s", dir, strerror(-ret));
		return ret;
	}

	f = cp_open_tmp(dir, "summary.md", tmp, sizeof(tmp));
	if (f == NULL) {
		snprintf(err, errlen, "cannot create %s: %s", tmp, strerror(errno));
		return -errno;
	}
	cp_fmt_time(s->t_first_ns, t0, sizeof(t0));
	cp_fmt_time(s->t_last_ns, t1, sizeof(t1));
	for (int i = 0; i < OBX_DROP_N; i++)
		dropped += s->total.drops[i];
	fprintf(f, "# obscura summary\n\n");
	cp_integ_md(f, &in);
	fprintf(f, "Totals over every drained epoch (all dataplane boots), as `stats` shows "
	        "them; machine-readable in `summary.csv`.\n\n");
	fprintf(f, "| | |\n|---|---:|\n");
	fprintf(f, "| packet time | %s .. %s |\n", s->span_set ? t0 : "-", s->span_set ? t1 : "-");
	fprintf(f, "| epochs | %" PRIu64 " |\n| dataplane boots | %u |\n| sources | %u |\n",
	        s->epochs, s->n_boots, s->src.n);
	fprintf(f, "| frames received | %" PRIu64 " |\n| bytes received | %" PRIu64 " |\n",
	        s->total.rx_packets, s->total.rx_bytes);
	fprintf(f, "| telescope packets | %" PRIu64 " |\n| telescope bytes | %" PRIu64 " |\n",
	        s->total.tel_packets, s->total.tel_bytes);
	fprintf(f, "| dropped before analysis | %" PRIu64 " |\n", dropped);
	fprintf(f, "| TCP / UDP / ICMP / other | %" PRIu64 " / %" PRIu64 " / %" PRIu64 " / %"
	        PRIu64 " |\n", s->total.proto_packets[OBX_P_TCP], s->total.proto_packets[OBX_P_UDP],
	        s->total.proto_packets[OBX_P_ICMP], s->total.proto_packets[OBX_P_OTHER]);
	fprintf(f, "| lost updates | %" PRIu64 " |\n| forced swaps | %" PRIu64 " |\n"
	        "| time going backwards | %" PRIu64 " |\n", s->total.lost_updates,
	        s->total.forced_swaps, s->total.time_backwards);
	fprintf(f, "\n## Drops by reason\n\n| reason | frames |\n|---|---:|\n");
	for (int i = 0; i < OBX_DROP_N; i++)
		fprintf(f, "| %s | %" PRIu64 " |\n", drop_names[i], s->total.drops[i]);
	fprintf(f, "\n## Per worker\n\n| worker | frames | telescope packets | lost updates |\n"
	        "|---:|---:|---:|---:|\n");
	for (uint32_t w = 0; w < s->n_workers; w++)
		fprintf(f, "| %u | %" PRIu64 " | %" PRIu64 " | %" PRIu64 " |\n", w,
		        s->worker[w].rx_packets, s->worker[w].tel_packets, s->worker[w].lost_updates);
	if (s->total.lost_updates != 0)
		fprintf(f, "\n**%" PRIu64 " table updates were lost** (both epoch slots full): "
		        "per-source figures undercount; raise exchange.*_capacity or shorten "
		        "exchange.epoch_ms.\n", s->total.lost_updates);
	ret = cp_close_rename(f, tmp, dir, "summary.md");
	if (ret != 0) {
		snprintf(err, errlen, "cannot write %s/summary.md: %s", dir, strerror(-ret));
		return ret;
	}
	return 0;
}

/* One CSV row and, for the analysis period and days, one Markdown row per period. */
static void cp_integ_rows(FILE *csv, FILE *md, unsigned unit)
{
	static const char *const units[] = { "hour", "day", "week", "month" };
	size_t n;
	uint32_t *ps = cp_integrity_period_list(unit, 0, UINT32_MAX, &n);

	for (size_t i = 0; i < n; i++) {
		char label[OBS_PERIOD_LABEL_MAX], line[512], t0[64], t1[64];
		uint64_t from, to, dropped = 0;
		struct cp_integ in;
		uint32_t p = ps[i];

		from = obs_period_start_ns(unit, p);
		to = obs_period_start_ns(unit, p + 1);
		cp_integrity_span(from, to, &in);
		obs_period_label(unit, p, label, sizeof(label));
		cp_fmt_time(from, t0, sizeof(t0));
		cp_fmt_time(to, t1, sizeof(t1));
		for (int k = 0; k < OBX_DROP_N; k++)
			dropped += in.drops[k];
		fprintf(csv, "%s,%s,%s,%s,%s,%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%"
		        PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%"
		        PRIu64 ",%" PRIu64 "\n",
		        units[unit], label, t0, t1, cp_integ_complete(&in) ? "true" : "false",
		        in.rx_packets, in.tel_packets, dropped, in.imissed, in.rx_nombuf,
		        in.lost_updates, in.forced_swaps, cp_integ_restarts(&in), in.epochs,
		        in.epochs_missing, in.overlap_epochs, in.overlap_losses);
		if (md != NULL) {
			cp_integ_line(&in, line, sizeof(line));
			fprintf(md, "| %s | %" PRIu64 " | %s |\n", label, in.rx_packets, line);
		}
	}
	free(ps);
}

int cp_report_integrity(void *ctx, const char *dir, char *err, size_t errlen)
{
	struct cp_integ all;
	char tmp[1200];
	FILE *csv, *md;
	int ret;

	(void)ctx;
	csv = cp_open_tmp(dir, "integrity.csv", tmp, sizeof(tmp));
	if (csv == NULL) {
		snprintf(err, errlen, "cannot create %s: %s", tmp, strerror(errno));
		return -errno;
	}
	cp_integrity_span(0, 0, &all);
	cp_integ_csv(csv, &all, 0, 0);    /* the whole span's stamp; each row: its period's */
	fprintf(csv, "unit,period,from,to,complete,packets,telescope_packets,dropped,imissed,"
	        "rx_nombuf,lost_updates,forced_swaps,dp_restarts,epochs,epochs_missing,"
	        "overlap_epochs,overlap_losses\n");
	for (unsigned u = OBS_PU_HOUR; u <= OBS_PU_MONTH; u++)
		cp_integ_rows(csv, NULL, u);
	ret = cp_close_rename(csv, tmp, dir, "integrity.csv");
	if (ret != 0) {
		snprintf(err, errlen, "cannot write %s/integrity.csv: %s", dir, strerror(-ret));
		return ret;
	}
	md = cp_open_tmp(dir, "integrity.md", tmp, sizeof(tmp));
	if (md == NULL) {
		snprintf(err, errlen, "cannot create %s: %s", tmp, strerror(errno));
		return -errno;
	}
	fprintf(md, "# obscura integrity\n\n");
	cp_integ_md(md, &all);
	fprintf(md, "What was lost while each period was measured (docs/ctl-v1.md \"Loss stamps\"); "
	        "every unit, with the drops by reason, in `integrity.csv`.\n\n"
	        "## By day\n\n| day | frames | integrity |\n|---|---:|---|\n");
	cp_integ_rows(md, md, OBS_PU_DAY);
	ret = cp_close_rename(md, tmp, dir, "integrity.md");
	if (ret != 0) {
		snprintf(err, errlen, "cannot write %s/integrity.md: %s", dir, strerror(-ret));
		return ret;
	}
	return 0;
}
