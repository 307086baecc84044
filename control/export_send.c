/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * export_send.c — the export's sender thread (export_int.h): it gathers up to
 * EXP_GATHER_FILES spool files in order, posts each table's rows of them as one
 * "INSERT INTO db.table FORMAT TabSeparated" (libcurl) and unlinks the files when all
 * succeeded; a failure keeps them and retries with a growing pause (the tables are
 * re-created first: a dropped table comes back).  It shares with the loop only the
 * counters under the export's mutex.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "cp_log.h"
#include "drain.h"
#include "export_int.h"
#include "statefile.h"

/* --------------------------------------------------------------------- sender --- */

struct exp_body {
	const char *p;
	size_t left;
};

static size_t exp_read_cb(char *dst, size_t size, size_t nmemb, void *arg)
{
	struct exp_body *bd = arg;
	size_t n = size * nmemb < bd->left ? size * nmemb : bd->left;

	memcpy(dst, bd->p, n);
	bd->p += n;
	bd->left -= n;
	return n;
}

struct exp_resp {
	char text[400];
	size_t len;
};

static size_t exp_write_cb(char *src, size_t size, size_t nmemb, void *arg)
{
	struct exp_resp *r = arg;
	size_t n = size * nmemb, room = sizeof(r->text) - 1 - r->len;

	memcpy(r->text + r->len, src, n < room ? n : room);
	r->len += n < room ? n : room;
	r->text[r->len] = '\0';
	return size * nmemb;
}

static int exp_progress_cb(void *arg, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
	struct cp_export *x = arg;
	bool stop;

	(void)dt, (void)dn, (void)ut, (void)un;
	pthread_mutex_lock(&x->mu);
	stop = x->stop;
	pthread_mutex_unlock(&x->mu);
	return stop ? 1 : 0;
}

/* ClickHouse's error codes (its ErrorCodes.cpp) that say the rows themselves do not fit
 * the table: the same batch would fail the same way for ever.  18.16 answers them with
 * HTTP 500, later releases with 400, so the code decides, not the status. */
static const int exp_bad_codes[] = {
	6,    /* CANNOT_PARSE_TEXT */
	25,   /* CANNOT_PARSE_ESCAPE_SEQUENCE */
	26,   /* CANNOT_PARSE_QUOTED_STRING */
	27,   /* CANNOT_PARSE_INPUT_ASSERTION_FAILED */
	32,   /* ATTEMPT_TO_READ_AFTER_EOF */
	33,   /* CANNOT_READ_ALL_DATA */
	38,   /* CANNOT_PARSE_DATE */
	41,   /* CANNOT_PARSE_DATETIME */
	53,   /* TYPE_MISMATCH */
	69,   /* ARGUMENT_OUT_OF_BOUND */
	70,   /* CANNOT_CONVERT_TYPE */
	72,   /* CANNOT_PARSE_NUMBER */
	117,  /* INCORRECT_DATA */
	130,  /* CANNOT_READ_ARRAY_FROM_TEXT */
	131,  /* TOO_LARGE_STRING_SIZE */
};

int exp_reply_class(long http, const char *body)
{
	const char *p = body != NULL ? strstr(body, "Code: ") : NULL;
	long code;
	char *end;

	if (http == 200)
		return EXP_REPLY_OK;
	/* only a 4xx or 5xx that names one of the codes above is the batch's fault; the
	 * rest (READONLY 164, TOO_MANY_PARTS 252, MEMORY_LIMIT_EXCEEDED 241, a missing
	 * table, a proxy's 502/503, no code at all) is the server's, and passes */
	if (http < 400 || http > 599 || p == NULL)
		return EXP_REPLY_RETRY;
	code = strtol(p + 6, &end, 10);
	if (end == p + 6)
		return EXP_REPLY_RETRY;
	for (size_t i = 0; i < sizeof(exp_bad_codes) / sizeof(exp_bad_codes[0]); i++)
		if (code == exp_bad_codes[i])
			return EXP_REPLY_BAD;
	return EXP_REPLY_RETRY;
}

/* POST body to the HTTP interface with query; 0, or with err set -1 (connect error,
 * timeout, a server-side failure: retry) or -2 (ClickHouse refused the rows as they
 * are: exp_reply_class). */
static int exp_post(struct cp_export *x, CURL *c, const char *query, const char *body,
                    size_t len, char *err, size_t errlen)
{
	struct exp_body bd = { body, len };
	struct exp_resp resp = { .len = 0 };
	char *q = curl_easy_escape(c, query, 0), *url;
	long code = 0;
	CURLcode rc;
	int ret = 0;

	resp.text[0] = '\0';
	if (q == NULL || asprintf(&url, "%s%s?query=%s", x->url,
	                          x->url[strlen(x->url) - 1] == '/' ? "" : "/", q) < 0) {
		curl_free(q);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	curl_free(q);
	curl_easy_reset(c);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_POST, 1L);
	curl_easy_setopt(c, CURLOPT_READFUNCTION, exp_read_cb);
	curl_easy_setopt(c, CURLOPT_READDATA, &bd);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, exp_write_cb);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &resp);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)x->timeout_s);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 5L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, exp_progress_cb);
	curl_easy_setopt(c, CURLOPT_XFERINFODATA, x);
	rc = curl_easy_perform(c);
	if (rc != CURLE_OK) {
		snprintf(err, errlen, "%s: %s", x->url, curl_easy_strerror(rc));
		ret = -1;
	} else {
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
		if (code != 200) {
			for (char *s = resp.text; *s; s++)
				if (*s == '\n')
					*s = ' ';
			snprintf(err, errlen, "%s: HTTP %ld: %s", x->url, code, resp.text);
			ret = exp_reply_class(code, resp.text) == EXP_REPLY_BAD ? -2 : -1;
		}
	}
	free(url);
	return ret;
}

static int exp_create_tables(struct cp_export *x, CURL *c, char *err, size_t errlen)
{
	char q[2048];

	snprintf(q, sizeof(q), "CREATE DATABASE IF NOT EXISTS `%s`", x->db);
	if (exp_post(x, c, q, "", 0, err, errlen) != 0)
		return -1;
	for (unsigned k = 0; k < EXP_T_N; k++) {
		snprintf(q, sizeof(q), "CREATE TABLE IF NOT EXISTS `%s`.%s %s", x->db, exp_tname[k],
		         exp_tcols[k]);
		if (exp_post(x, c, q, "", 0, err, errlen) != 0)
			return -1;
	}
	/* a table of the first version lacks the reserved column: add it (18.16 has no ADD
	 * COLUMN IF NOT EXISTS; code 44 is "a column with this name already exists") */
	snprintf(q, sizeof(q), "ALTER TABLE `%s`.obscura_epochs ADD COLUMN " EXP_EPOCH_RESERVED,
	         x->db);
	if (exp_post(x, c, q, "", 0, err, errlen) != 0 && strstr(err, "Code: 44,") == NULL)
		return -1;
	err[0] = '\0';
	return 0;
}

/* Read one spool file and append its tables' rows to tb: 0, or -2 with err set when the
 * file is malformed or names a table that is not the export's (tb then unchanged). */
static int exp_parse_file(const char *path, struct exp_buf tb[EXP_T_N], uint64_t *rows,
                          char *err, size_t errlen)
{
	size_t mark[EXP_T_N], len = 0;
	char *buf = NULL, *p, *end;
	int r = cp_state_read_file(path, (uint8_t **)&buf, &len);

	*rows = 0;
	if (r != 0) {
		snprintf(err, errlen, "cannot read %s: %s", path, strerror(-r));
		return -2;
	}
	for (unsigned k = 0; k < EXP_T_N; k++)
		mark[k] = tb[k].len;
	end = buf + len;
	if (len < strlen(EXP_MAGIC) || memcmp(buf, EXP_MAGIC, strlen(EXP_MAGIC)) != 0) {
		snprintf(err, errlen, "%s: not a spool file", path);
		goto bad;
	}
	p = buf + strlen(EXP_MAGIC);
	for (;;) {
		char name[64];
		uint64_t nrows;
		size_t blen;
		int used = 0;
		unsigned k;

		if (end - p >= 2 && p[0] == 'E' && p[1] == '\n' && p + 2 == end)
			break;
		if (sscanf(p, "T %63s %" SCNu64 " %zu\n%n", name, &nrows, &blen, &used) != 3 ||
		    used == 0 || blen > (size_t)(end - p - used)) {
			snprintf(err, errlen, "%s: malformed at byte %zu", path, (size_t)(p - buf));
			goto bad;
		}
		p += used;
		for (k = 0; k < EXP_T_N && strcmp(name, exp_tname[k]) != 0; k++)
			;
		if (k == EXP_T_N) {
			/* only our tables: a file naming another would be retried for ever */
			snprintf(err, errlen, "%s: names table '%s', not one of the export's", path,
			         name);
			goto bad;
		}
		eb_append(&tb[k], p, blen);
		*rows += nrows;
		p += blen;
	}
	free(buf);
	return 0;
bad:
	for (unsigned k = 0; k < EXP_T_N; k++)
		tb[k].len = mark[k];
	*rows = 0;
	free(buf);
	return -2;
}

/* One insert per table of what tb holds: 0, or with err set -1 (retry) or -2 (the rows
 * refused: exp_post). */
static int exp_post_tables(struct cp_export *x, CURL *c, struct exp_buf tb[EXP_T_N], char *err,
                           size_t errlen)
{
	char q[256];

	for (unsigned k = 0; k < EXP_T_N; k++) {
		if (tb[k].oom) {
			snprintf(err, errlen, "out of memory gathering a batch");
			return -1;
		}
		if (tb[k].len == 0)
			continue;
		snprintf(q, sizeof(q), "INSERT INTO `%s`.%s FORMAT TabSeparated", x->db,
		         exp_tname[k]);
		int r = exp_post(x, c, q, tb[k].p, tb[k].len, err, errlen);

		if (r != 0)
			return r;
	}
	return 0;
}

/* The spool's files in order: one directory scan, sorted, taken one by one; the next
 * scan only when they are done (the loop adds higher numbers only), so a spool of n
 * files costs n, not n^2, directory reads. */
struct exp_queue {
	uint64_t *seq;
	size_t n, cap, next;
};

static int exp_u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void exp_scan(struct cp_export *x, struct exp_queue *q)
{
	DIR *dh = opendir(x->dir);
	struct dirent *de;

	q->n = q->next = 0;
	if (dh == NULL)
		return;
	while ((de = readdir(dh)) != NULL) {
		unsigned long long v;
		int used = 0;

		if (sscanf(de->d_name, "%16llx.tsv%n", &v, &used) != 1 ||
		    used != (int)strlen(de->d_name))
			continue;
		if (q->n == q->cap) {
			size_t nc = q->cap ? q->cap * 2 : 256;
			uint64_t *ns = realloc(q->seq, nc * sizeof(*ns));

			if (ns == NULL)
				break;   /* the rest at the next scan */
			q->seq = ns;
			q->cap = nc;
		}
		q->seq[q->n++] = v;
	}
	closedir(dh);
	if (q->n > 1)
		qsort(q->seq, q->n, sizeof(*q->seq), exp_u64_cmp);
}

/* The next spool file's path, or false when the spool is empty (or, without rescan, when
 * the files of the last scan are done: a batch being gathered must not meet its own
 * files again). */
static bool exp_next_file(struct cp_export *x, struct exp_queue *q, bool rescan, char *path,
                          size_t n, uint64_t *bytes)
{
	struct stat st;

	for (;;) {
		if (q->next == q->n) {
			if (!rescan)
				return false;
			exp_scan(x, q);
			if (q->n == 0)
				return false;
		}
		snprintf(path, n, "%s/%016" PRIx64 ".tsv", x->dir, q->seq[q->next]);
		if (stat(path, &st) == 0) {
			*bytes = (uint64_t)st.st_size;
			return true;
		}
		q->next++;   /* gone meanwhile */
	}
}

static void exp_wait(struct cp_export *x, unsigned ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&x->mu);
	if (!x->stop)
		pthread_cond_timedwait(&x->cv, &x->mu, &ts);
	pthread_mutex_unlock(&x->mu);
}

/* Several spool files go in one insert per table, up to these: fewer, bigger inserts
 * (ClickHouse makes a part per insert) when a backlog drains. */
#define EXP_GATHER_FILES 64u
#define EXP_GATHER_BYTES (16u << 20)

/* suffix "bad": a file we cannot read; "rejected": one ClickHouse refused the rows of */
static void exp_set_aside(struct cp_export *x, const char *path, uint64_t bytes, const char *err,
                          const char *suffix)
{
	char bad[720];

	/* not ours to guess at: set aside, counted, and go on with the next */
	snprintf(bad, sizeof(bad), "%s.%s", path, suffix);
	CP_ERR("export: %s; set aside as %s", err, bad);
	if (rename(path, bad) != 0)
		unlink(path);
	cp_fsync_dir(x->dir);
	pthread_mutex_lock(&x->mu);
	if (strcmp(suffix, "bad") == 0) {
		x->bad_files++;
	} else {
		x->batches_rejected++;
		snprintf(x->last_rejected, sizeof(x->last_rejected), "%s", err);
	}
	x->spool_files -= x->spool_files ? 1 : 0;
	x->spool_bytes -= bytes <= x->spool_bytes ? bytes : x->spool_bytes;
	pthread_mutex_unlock(&x->mu);
}

void *exp_sender(void *arg)
{
	struct cp_export *x = arg;
	CURL *c = curl_easy_init();
	bool tables = false;
	unsigned pause = EXP_PAUSE_MIN_MS;
	unsigned alone = 0;   /* files still to send one by one: a gathered batch was refused */
	struct exp_queue q = { 0 };
	static char paths[EXP_GATHER_FILES][700];   /* one sender thread */
	struct exp_buf tb[EXP_T_N];
	char err[1024];

	memset(tb, 0, sizeof(tb));
	if (c == NULL) {
		pthread_mutex_lock(&x->mu);
		snprintf(x->last_error, sizeof(x->last_error), "curl_easy_init failed");
		x->failing_since_wall_ns = cp_wall_ns();
		pthread_mutex_unlock(&x->mu);
		return NULL;
	}
	for (;;) {
		uint64_t bytes = 0, rows = 0, total = 0;
		unsigned n = 0;
		int r;

		pthread_mutex_lock(&x->mu);
		if (x->stop) {
			pthread_mutex_unlock(&x->mu);
			break;
		}
		pthread_mutex_unlock(&x->mu);
		for (unsigned k = 0; k < EXP_T_N; k++) {
			tb[k].len = 0;
			tb[k].oom = false;
		}
		while (n < (alone ? 1u : EXP_GATHER_FILES) && total < EXP_GATHER_BYTES &&
		       exp_next_file(x, &q, n == 0, paths[n], sizeof(paths[n]), &bytes)) {
			uint64_t frows;

			err[0] = '\0';
			if (exp_parse_file(paths[n], tb, &frows, err, sizeof(err)) != 0) {
				exp_set_aside(x, paths[n], bytes, err, "bad");
				continue;   /* gone: the queue moves past it */
			}
			q.next++;
			rows += frows;
			total += bytes;
			n++;
		}
		if (n == 0) {
			exp_wait(x, 1000);
			continue;
		}
		err[0] = '\0';
		r = tables ? 0 : exp_create_tables(x, c, err, sizeof(err)) == 0 ? 0 : -1;
		if (r == 0) {
			tables = true;
			r = exp_post_tables(x, c, tb, err, sizeof(err));
		}
		if (r == -2 && n > 1) {
			/* which of the n files? each alone, then gathering again; the others' rows
			 * already taken collapse by the epoch key when they come again */
			CP_WARN("export: ClickHouse refused a batch of %u spool files (%s); sending "
			        "them one by one", n, err);
			alone = n;
			q.n = q.next = 0;
			continue;
		}
		if (r == -2) {
			/* this file's rows do not fit the table: retrying would block the spool for
			 * ever; kept for inspection, counted, and the rest goes on */
			exp_set_aside(x, paths[0], total, err, "rejected");
			alone -= alone ? 1 : 0;
			q.n = q.next = 0;
			continue;
		}
		if (r != 0) {
			q.n = q.next = 0;   /* the same files again, from the lowest */
			pthread_mutex_lock(&x->mu);
			if (x->stop) {
				pthread_mutex_unlock(&x->mu);
				break;
			}
			if (x->failing_since_wall_ns == 0) {
				x->failing_since_wall_ns = cp_wall_ns();
				CP_WARN("export: ClickHouse not taking batches: %s; spooling in %s and "
				        "retrying", err, x->dir);
			}
			x->send_failures++;
			snprintf(x->last_error, sizeof(x->last_error), "%s", err);
			pthread_mutex_unlock(&x->mu);
			tables = false;   /* re-created before the retry: a dropped table comes back */
			exp_wait(x, pause);
			pause = pause * 2 > EXP_PAUSE_MAX_MS ? EXP_PAUSE_MAX_MS : pause * 2;
			continue;
		}
		/* every table's insert succeeded: the files go; sent again after a crash
		 * before these unlinks, their rows collapse (the epoch key) */
		for (unsigned i = 0; i < n; i++)
			if (unlink(paths[i]) != 0)
				CP_ERR("export: sent %s but cannot remove it: %s", paths[i],
				       strerror(errno));
		cp_fsync_dir(x->dir);
		pause = EXP_PAUSE_MIN_MS;
		alone -= alone >= n ? n : alone;
		pthread_mutex_lock(&x->mu);
		if (x->failing_since_wall_ns != 0)
			CP_NOTICE("export: ClickHouse takes batches again; draining the spool");
		x->failing_since_wall_ns = 0;
		x->last_ok_wall_ns = cp_wall_ns();
		x->batches_sent += n;
		x->rows_sent += rows;
		x->spool_files -= x->spool_files >= n ? n : x->spool_files;
		x->spool_bytes -= total <= x->spool_bytes ? total : x->spool_bytes;
		pthread_mutex_unlock(&x->mu);
	}
	for (unsigned k = 0; k < EXP_T_N; k++)
		free(tb[k].p);
	free(q.seq);
	curl_easy_cleanup(c);
	return NULL;
}
