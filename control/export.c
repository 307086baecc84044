/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * export.c — the ClickHouse export (export.h, docs/export.md).
 *
 * Spool file: "OBSX1\n", then per table "T <table> <rows> <bytes>\n" and <bytes> of
 * TabSeparated rows, then "E\n".  Written to "<seq>.tmp", fsynced, renamed to
 * "<seq16hex>.tsv", the directory fsynced: a file under its final name is whole.  The
 * sender gathers up to EXP_GATHER_FILES files in order, posts each table's rows of them
 * as one "INSERT INTO db.table FORMAT TabSeparated" and unlinks the files when all
 * succeeded; a failure keeps them and retries with a growing pause (the tables are
 * re-created first: a dropped table comes back).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "cp_log.h"
#include "drain.h"
#include "exchange_recs.h"
#include "export.h"
#include "json.h"
#include "statefile.h"

#define EXP_MAGIC      "OBSX1\n"
#define EXP_PAUSE_MIN_MS 200u
#define EXP_PAUSE_MAX_MS 5000u

/* ------------------------------------------------------------------ the schema --- */

/* Every table starts with the epoch's key; the sorting key ends with the row's key
 * within the epoch, so the same row of the same epoch is one row after FINAL. */
#define EXP_KEYCOLS "appliance String, boot UInt64, worker UInt32, seq UInt64, "

enum { EXP_T_SOURCES, EXP_T_CELLS, EXP_T_EVENTS, EXP_T_RESIP_PORTS, EXP_T_EPOCHS, EXP_T_N };

static const char *const exp_tname[EXP_T_N] = {
	"obscura_sources", "obscura_cells", "obscura_events", "obscura_resip_ports",
	"obscura_epochs",
};

static const char *const exp_tcols[EXP_T_N] = {
	/* per (source, hour) of an epoch (exchange.h struct obx_src_rec) */
	"(" EXP_KEYCOLS "hour UInt32, date Date MATERIALIZED toDate(toDateTime(hour * 3600)), "
	"addr UInt32, first_ns UInt64, last_ns UInt64, packets UInt64, resip_packets UInt64, "
	"sensor_mask UInt64, sensors Array(String), scanner UInt8, resip UInt8, excluded UInt8, "
	"ev_type UInt32, ev_name String) "
	"ENGINE = ReplacingMergeTree() PARTITION BY toYYYYMM(date) "
	"ORDER BY (hour, addr, appliance, boot, worker, seq)",
	/* per (period, block, proto, dport) of an epoch: the sample-slot set, mergeable */
	"(" EXP_KEYCOLS "period UInt32, period_unit String, block UInt32, block_len UInt8, "
	"proto UInt8, dport UInt16, syns UInt64, mirai UInt64, scanner UInt8, "
	"sample_size UInt32, slots Array(UInt32)) "
	"ENGINE = ReplacingMergeTree() PARTITION BY tuple() "
	"ORDER BY (period, block, proto, dport, appliance, boot, worker, seq)",
	/* per (source, hour, sensor, event type) of an epoch; inline: from the SRC record */
	"(" EXP_KEYCOLS "hour UInt32, date Date MATERIALIZED toDate(toDateTime(hour * 3600)), "
	"addr UInt32, sensor String, type UInt32, name String, category UInt8, inline UInt8, "
	"count UInt64, first_ns UInt64, last_ns UInt64) "
	"ENGINE = ReplacingMergeTree() PARTITION BY toYYYYMM(date) "
	"ORDER BY (hour, addr, sensor, type, inline, appliance, boot, worker, seq)",
	/* RESIP traffic per (proto, port, day) of an epoch */
	"(" EXP_KEYCOLS "day UInt32, date Date MATERIALIZED toDate(toDateTime(day * 86400)), "
	"proto UInt8, port UInt16, packets UInt64, sensor_mask UInt64) "
	"ENGINE = ReplacingMergeTree() PARTITION BY toYYYYMM(date) "
	"ORDER BY (day, proto, port, appliance, boot, worker, seq)",
	/* the loss stamp of every epoch: its counters */
	"(" EXP_KEYCOLS "t_first_ns UInt64, t_last_ns UInt64, published_wall_ns UInt64, "
	"flags UInt32, rx_packets UInt64, rx_bytes UInt64, tel_packets UInt64, tel_bytes UInt64, "
	"proto_packets Array(UInt64), drops Array(UInt64), lost_updates UInt64, "
	"time_backwards UInt64, forced_swaps UInt64, excluded_packets UInt64, "
	"resip_packets UInt64, scanner_packets UInt64, cov_syns UInt64, payload_packets UInt64, "
	"rule_matches UInt64) "
	"ENGINE = ReplacingMergeTree() PARTITION BY tuple() "
	"ORDER BY (appliance, boot, worker, seq)",
};

/* ------------------------------------------------------------------- encoding --- */

struct exp_buf {
	char *p;
	size_t len, cap;
	uint64_t rows;
	bool oom;
};

static void eb_printf(struct exp_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->oom)
		return;
	for (;;) {
		size_t room = b->cap - b->len;

		va_start(ap, fmt);
		n = vsnprintf(b->p ? b->p + b->len : NULL, room, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->oom = true;
			return;
		}
		if ((size_t)n < room) {
			b->len += (size_t)n;
			return;
		}
		size_t nc = b->cap ? b->cap * 2 : 65536;
		while (nc < b->len + (size_t)n + 1)
			nc *= 2;
		char *np = realloc(b->p, nc);
		if (np == NULL) {
			b->oom = true;
			return;
		}
		b->p = np;
		b->cap = nc;
	}
}

/* A string value: our names are CF_NAME-checked or the exchange's sensor names; escape
 * what TabSeparated would misread anyway. */
static void eb_str(struct exp_buf *b, const char *s, size_t max)
{
	for (size_t i = 0; i < max && s[i] != '\0'; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '\t')
			eb_printf(b, "\\t");
		else if (c == '\n')
			eb_printf(b, "\\n");
		else if (c == '\\')
			eb_printf(b, "\\\\");
		else if (c == '\'')
			eb_printf(b, "\\'");
		else if (c < 0x20 || c == 0x7f)
			eb_printf(b, "?");
		else
			eb_printf(b, "%c", c);
	}
}

static void eb_key(struct exp_buf *b, const struct cp_export *x, const struct cp_epoch *e)
{
	eb_str(b, x->appliance, sizeof(x->appliance));
	eb_printf(b, "\t%" PRIu64 "\t%" PRIu32 "\t%" PRIu64 "\t", e->boot_id, e->worker, e->seq);
}

/* Array(String) literal of the sensors in mask */
static void eb_sensors(struct exp_buf *b, const struct obx_header *h, uint64_t mask)
{
	bool first = true;

	eb_printf(b, "[");
	for (unsigned i = 0; i < 64 && i < h->n_sensors; i++) {
		if (!(mask >> i & 1))
			continue;
		eb_printf(b, "%s'", first ? "" : ",");
		eb_str(b, h->sensor_names[i], OBX_NAME_LEN);
		eb_printf(b, "'");
		first = false;
	}
	eb_printf(b, "]");
}

static void eb_sensor(struct exp_buf *b, const struct obx_header *h, unsigned s)
{
	if (s < h->n_sensors && s < 64)
		eb_str(b, h->sensor_names[s], OBX_NAME_LEN);
	else
		eb_printf(b, "sensor%u", s);
}

static void eb_event(struct exp_buf *b, const struct cp_export *x, const struct obx_header *h,
                     const struct cp_epoch *e, uint32_t addr, uint32_t hour, unsigned sensor,
                     uint32_t type, unsigned cat, int inl, uint64_t count, uint64_t first,
                     uint64_t last)
{
	char name[48];

	obs_ev_name(type, name, sizeof(name));
	eb_key(b, x, e);
	eb_printf(b, "%" PRIu32 "\t%" PRIu32 "\t", hour, addr);
	eb_sensor(b, h, sensor);
	eb_printf(b, "\t%" PRIu32 "\t", type);
	eb_str(b, name, sizeof(name));
	eb_printf(b, "\t%u\t%d\t%" PRIu64 "\t%" PRIu64 "\t%" PRIu64 "\n", cat, inl, count, first,
	          last);
	b->rows++;
}

static void exp_sources(struct cp_export *x, struct exp_buf *b, struct exp_buf *ev,
                        const struct obx_header *h, const struct cp_epoch *e,
                        const struct cp_tab *t)
{
	const struct obx_src_rec *r = t->recs;

	for (uint32_t i = 0; i < t->n; i++) {
		char name[48] = "";

		if (r[i].packets == 0)
			continue;
		if (r[i].ev_mode == OBX_SRC_EV_INLINE)
			obs_ev_name(r[i].ev_type, name, sizeof(name));
		eb_key(b, x, e);
		eb_printf(b, "%" PRIu32 "\t%" PRIu32 "\t%" PRIu64 "\t%" PRIu64 "\t%" PRIu64 "\t%" PRIu32
		          "\t%" PRIu64 "\t", r[i].hour, r[i].addr, r[i].first_ns, r[i].last_ns,
		          r[i].packets, r[i].resip_packets, r[i].sensor_mask);
		eb_sensors(b, h, r[i].sensor_mask);
		eb_printf(b, "\t%u\t%u\t%u\t%" PRIu32 "\t%s\n", !!(r[i].flags & OBX_SRC_F_SCANNER),
		          !!(r[i].flags & OBX_SRC_F_RESIP), !!(r[i].flags & OBX_SRC_F_EXCLUDED),
		          r[i].ev_mode == OBX_SRC_EV_INLINE ? r[i].ev_type : 0, name);
		b->rows++;
		if (r[i].ev_mode == OBX_SRC_EV_INLINE)
			eb_event(ev, x, h, e, r[i].addr, r[i].hour, r[i].ev_sensor, r[i].ev_type,
			         r[i].ev_category, 1, r[i].packets, r[i].first_ns, r[i].last_ns);
	}
}

static void exp_cells(struct cp_export *x, struct exp_buf *b, const struct obx_header *h,
                      const struct cp_epoch *e, const struct cp_tab *t)
{
	static const char *const units[] = { "hour", "day", "week", "month" };
	const struct cp_tab *bm = cp_epoch_tab(e, OBX_TAB_BITMAP);
	const struct obx_cell_rec *r = t->recs;
	uint32_t ss = h->cov_sample_size;

	for (uint32_t i = 0; i < t->n; i++) {
		bool first = true;

		if (r[i].syns == 0)
			continue;
		eb_key(b, x, e);
		eb_printf(b, "%" PRIu32 "\t%s\t%" PRIu32 "\t%u\t%u\t%u\t%" PRIu32 "\t%" PRIu32 "\t%u\t%"
		          PRIu32 "\t[", r[i].period, h->cov_period_unit < 4 ?
		          units[h->cov_period_unit] : "unknown", r[i].block, h->cov_block_len,
		          r[i].proto, r[i].dport, r[i].syns, r[i].mirai,
		          !!(r[i].flags & OBX_CELL_F_SCANNER), ss);
		if (r[i].flags & OBX_CELL_F_BITMAP) {
			/* the pool entry, bounded by what was copied and by its record size */
			if (bm != NULL && r[i].bitmap < bm->n) {
				const uint8_t *bits = (const uint8_t *)bm->recs +
				                      (size_t)r[i].bitmap * bm->rec_size;
				uint32_t nb = bm->rec_size * 8u;

				for (uint32_t s = 0; s < nb && s < ss; s++)
					if (bits[s / 8] >> (s % 8) & 1) {
						eb_printf(b, "%s%" PRIu32, first ? "" : ",", s);
						first = false;
					}
			} else {
				x->recs_skipped++;
			}
		} else {
			for (uint32_t s = 0; s < r[i].n_inline && s < OBX_CELL_INLINE; s++) {
				eb_printf(b, "%s%" PRIu32, first ? "" : ",", r[i].inline_slot[s]);
				first = false;
			}
		}
		eb_printf(b, "]\n");
		b->rows++;
	}
}

static void exp_events(struct cp_export *x, struct exp_buf *b, const struct obx_header *h,
                       const struct cp_epoch *e, const struct cp_tab *t)
{
	const struct obx_event_rec *r = t->recs;

	for (uint32_t i = 0; i < t->n; i++)
		if (r[i].count != 0)
			eb_event(b, x, h, e, r[i].addr, r[i].hour, r[i].sensor, r[i].type,
			         r[i].category, 0, r[i].count, r[i].first_ns, r[i].last_ns);
}

static void exp_resip_ports(struct cp_export *x, struct exp_buf *b, const struct cp_epoch *e,
                            const struct cp_tab *t)
{
	const struct obx_resip_port_rec *r = t->recs;

	for (uint32_t i = 0; i < t->n; i++) {
		if (r[i].packets == 0)
			continue;
		eb_key(b, x, e);
		eb_printf(b, "%" PRIu32 "\t%u\t%u\t%" PRIu64 "\t%" PRIu64 "\n", r[i].day, r[i].proto,
		          r[i].port, r[i].packets, r[i].sensor_mask);
		b->rows++;
	}
}

static void eb_u64s(struct exp_buf *b, const uint64_t *v, unsigned n)
{
	eb_printf(b, "[");
	for (unsigned i = 0; i < n; i++)
		eb_printf(b, "%s%" PRIu64, i ? "," : "", v[i]);
	eb_printf(b, "]");
}

static void exp_epoch(struct cp_export *x, struct exp_buf *b, const struct cp_epoch *e)
{
	const struct obx_counters *c = &e->delta;

	eb_key(b, x, e);
	eb_printf(b, "%" PRIu64 "\t%" PRIu64 "\t%" PRIu64 "\t%" PRIu32 "\t%" PRIu64 "\t%" PRIu64
	          "\t%" PRIu64 "\t%" PRIu64 "\t", e->t_first_ns, e->t_last_ns, e->published_wall_ns,
	          e->flags, c->rx_packets, c->rx_bytes, c->tel_packets, c->tel_bytes);
	eb_u64s(b, c->proto_packets, OBX_P_N);
	eb_printf(b, "\t");
	eb_u64s(b, c->drops, OBX_DROP_N);
	eb_printf(b, "\t%" PRIu64 "\t%" PRIu64 "\t%" PRIu64 "\t%" PRIu64 "\t%" PRIu64 "\t%" PRIu64
	          "\t%" PRIu64 "\t%" PRIu64 "\t%" PRIu64 "\n", c->lost_updates, c->time_backwards,
	          c->forced_swaps, c->excluded_packets, c->resip_packets, c->scanner_packets,
	          c->cov_syns, c->payload_packets, c->rule_matches);
	b->rows++;
}

/* A table of e whose records this build reads, or NULL (absent, or another size:
 * skipped and counted, as the store refuses them). */
static const struct cp_tab *exp_tab(struct cp_export *x, const struct cp_epoch *e, unsigned kind,
                                    uint32_t rec_size)
{
	const struct cp_tab *t = cp_epoch_tab(e, kind);

	if (t == NULL || t->n == 0)
		return NULL;
	if (t->rec_size != rec_size) {
		x->recs_skipped += t->n;
		return NULL;
	}
	return t;
}

/* ---------------------------------------------------------------------- spool --- */

static int exp_write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int cp_export_spool(struct cp_export *x, const struct obx_header *h,
                    const struct cp_epoch *const *e, uint32_t n)
{
	struct exp_buf b[EXP_T_N], out = { 0 };
	char tmp[700], fin[700];
	uint64_t rows = 0, bytes, have;
	int fd, ret = 0;

	if (!x->on || n == 0)
		return 0;
	memset(b, 0, sizeof(b));
	for (uint32_t i = 0; i < n; i++) {
		const struct cp_tab *t;

		if ((t = exp_tab(x, e[i], OBX_TAB_SRC, OBX_REC_SIZE_SRC)) != NULL)
			exp_sources(x, &b[EXP_T_SOURCES], &b[EXP_T_EVENTS], h, e[i], t);
		if ((t = exp_tab(x, e[i], OBX_TAB_CELL, OBX_REC_SIZE_CELL)) != NULL)
			exp_cells(x, &b[EXP_T_CELLS], h, e[i], t);
		if ((t = exp_tab(x, e[i], OBX_TAB_EVENT, OBX_REC_SIZE_EVENT)) != NULL)
			exp_events(x, &b[EXP_T_EVENTS], h, e[i], t);
		if ((t = exp_tab(x, e[i], OBX_TAB_RESIP_PORT, OBX_REC_SIZE_RESIP_PORT)) != NULL)
			exp_resip_ports(x, &b[EXP_T_RESIP_PORTS], e[i], t);
		exp_epoch(x, &b[EXP_T_EPOCHS], e[i]);
	}
	eb_printf(&out, "%s", EXP_MAGIC);
	for (unsigned k = 0; k < EXP_T_N; k++) {
		if (b[k].oom)
			out.oom = true;
		if (b[k].rows == 0)
			continue;
		eb_printf(&out, "T %s %" PRIu64 " %zu\n", exp_tname[k], b[k].rows, b[k].len);
		if (!out.oom && out.len + b[k].len + 1 > out.cap) {
			char *np = realloc(out.p, out.len + b[k].len + 64);

			if (np == NULL)
				out.oom = true;
			else {
				out.p = np;
				out.cap = out.len + b[k].len + 64;
			}
		}
		if (!out.oom) {
			memcpy(out.p + out.len, b[k].p, b[k].len);
			out.len += b[k].len;
		}
		rows += b[k].rows;
		free(b[k].p);
		b[k].p = NULL;
	}
	for (unsigned k = 0; k < EXP_T_N; k++)
		free(b[k].p);
	eb_printf(&out, "E\n");
	if (out.oom) {
		free(out.p);
		x->spool_errors++;
		CP_ERR("export: out of memory encoding a batch of %u epoch(s); the drain retries", n);
		return -ENOMEM;
	}
	bytes = out.len;

	pthread_mutex_lock(&x->mu);
	have = x->spool_bytes;
	pthread_mutex_unlock(&x->mu);
	if (have + bytes > x->max_bytes) {
		x->batches_dropped++;
		x->rows_dropped += rows;
		CP_ERR("export: spool %s full (%" PRIu64 " of %" PRIu64 " bytes, ClickHouse not "
		       "taking batches): dropped a batch of %u epoch(s), %" PRIu64 " rows (counted)",
		       x->dir, have, x->max_bytes, n, rows);
		free(out.p);
		return 0;
	}

	snprintf(tmp, sizeof(tmp), "%s/%016" PRIx64 ".tmp", x->dir, x->next_seq);
	snprintf(fin, sizeof(fin), "%s/%016" PRIx64 ".tsv", x->dir, x->next_seq);
	fd = cp_state_open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0640);
	if (fd < 0) {
		ret = fd;
		CP_ERR("export: cannot create %s: %s", tmp, strerror(-ret));
		goto out;
	}
	ret = exp_write_all(fd, out.p, out.len);
	if (ret == 0 && fsync(fd) != 0)
		ret = -errno;
	close(fd);
	if (ret == 0 && rename(tmp, fin) != 0)
		ret = -errno;
	if (ret == 0)
		ret = cp_fsync_dir(x->dir);
	if (ret != 0) {
		CP_ERR("export: cannot write %s: %s; the drain retries", fin, strerror(-ret));
		unlink(tmp);
		goto out;
	}
	x->next_seq++;
	x->batches_spooled++;
	x->rows_spooled += rows;
	pthread_mutex_lock(&x->mu);
	x->spool_files++;
	x->spool_bytes += bytes;
	pthread_cond_signal(&x->cv);
	pthread_mutex_unlock(&x->mu);
out:
	if (ret != 0)
		x->spool_errors++;
	free(out.p);
	return ret;
}

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

/* POST body to the HTTP interface with query; 0 or -1 with err set. */
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
			ret = -1;
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
	return 0;
}

static int exp_read_file(const char *path, char **out, size_t *len)
{
	struct stat st;
	char *p;
	int fd = cp_state_open(path, O_RDONLY, 0), ret = 0;

	if (fd < 0)
		return fd;
	if (fstat(fd, &st) != 0) {
		ret = -errno;
		close(fd);
		return ret;
	}
	p = malloc((size_t)st.st_size + 1);
	if (p == NULL) {
		close(fd);
		return -ENOMEM;
	}
	for (size_t got = 0; got < (size_t)st.st_size;) {
		ssize_t r = read(fd, p + got, (size_t)st.st_size - got);

		if (r <= 0) {
			ret = r < 0 ? -errno : -EIO;
			if (r < 0 && errno == EINTR)
				continue;
			free(p);
			close(fd);
			return ret;
		}
		got += (size_t)r;
	}
	close(fd);
	p[st.st_size] = '\0';
	*out = p;
	*len = (size_t)st.st_size;
	return 0;
}

static void eb_append(struct exp_buf *b, const char *p, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t nc = b->cap ? b->cap : 65536;
		char *np;

		while (nc < b->len + n + 1)
			nc *= 2;
		np = realloc(b->p, nc);
		if (np == NULL) {
			b->oom = true;
			return;
		}
		b->p = np;
		b->cap = nc;
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
}

/* Read one spool file and append its tables' rows to tb: 0, or -2 with err set when the
 * file is malformed or names a table that is not the export's (tb then unchanged). */
static int exp_parse_file(const char *path, struct exp_buf tb[EXP_T_N], uint64_t *rows,
                          char *err, size_t errlen)
{
	size_t mark[EXP_T_N], len = 0;
	char *buf = NULL, *p, *end;
	int r = exp_read_file(path, &buf, &len);

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

/* One insert per table of what tb holds: 0, or -1 with err set. */
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
		if (exp_post(x, c, q, tb[k].p, tb[k].len, err, errlen) != 0)
			return -1;
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

static void exp_set_aside(struct cp_export *x, const char *path, uint64_t bytes, const char *err)
{
	char bad[720];

	/* not ours to guess at: set aside, counted, and go on with the next */
	snprintf(bad, sizeof(bad), "%s.bad", path);
	CP_ERR("export: %s; set aside as %s", err, bad);
	if (rename(path, bad) != 0)
		unlink(path);
	pthread_mutex_lock(&x->mu);
	x->bad_files++;
	x->spool_files -= x->spool_files ? 1 : 0;
	x->spool_bytes -= bytes <= x->spool_bytes ? bytes : x->spool_bytes;
	pthread_mutex_unlock(&x->mu);
}

static void *exp_sender(void *arg)
{
	struct cp_export *x = arg;
	CURL *c = curl_easy_init();
	bool tables = false;
	unsigned pause = EXP_PAUSE_MIN_MS;
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
		while (n < EXP_GATHER_FILES && total < EXP_GATHER_BYTES &&
		       exp_next_file(x, &q, n == 0, paths[n], sizeof(paths[n]), &bytes)) {
			uint64_t frows;

			err[0] = '\0';
			if (exp_parse_file(paths[n], tb, &frows, err, sizeof(err)) != 0) {
				exp_set_aside(x, paths[n], bytes, err);
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

/* ---------------------------------------------------------------- life cycle --- */

int cp_export_open(struct cp_export *x, const struct obs_conf *c)
{
	DIR *dh;
	struct dirent *de;
	int ret;

	memset(x, 0, sizeof(*x));
	if (c->export_ch_url[0] == '\0')
		return 0;
	snprintf(x->url, sizeof(x->url), "%s", c->export_ch_url);
	snprintf(x->db, sizeof(x->db), "%s", c->export_ch_database);
	if (c->export_ch_appliance[0] != '\0')
		snprintf(x->appliance, sizeof(x->appliance), "%s", c->export_ch_appliance);
	else if (gethostname(x->appliance, sizeof(x->appliance) - 1) != 0)
		snprintf(x->appliance, sizeof(x->appliance), "unknown");
	x->max_bytes = (uint64_t)c->export_ch_spool_mb << 20;
	x->timeout_s = c->export_ch_timeout_s;
	if ((size_t)snprintf(x->dir, sizeof(x->dir), "%s/%s", c->state_dir, CP_EXPORT_DIR) >=
	    sizeof(x->dir))
		return -ENAMETOOLONG;
	if (mkdir(x->dir, 0750) != 0 && errno != EEXIST) {
		ret = -errno;
		CP_ERR("export: cannot create the spool %s: %s", x->dir, strerror(errno));
		return ret;
	}
	if (access(x->dir, R_OK | W_OK | X_OK) != 0) {
		/* a spool nobody can write would hold the drain (export.h): say so now */
		ret = -errno;
		CP_ERR("export: the spool %s is not writable by uid %u: %s", x->dir,
		       (unsigned)geteuid(), strerror(errno));
		return ret;
	}
	dh = opendir(x->dir);
	if (dh == NULL) {
		ret = -errno;
		CP_ERR("export: cannot open the spool %s: %s", x->dir, strerror(errno));
		return ret;
	}
	/* what a crash left: whole files (sent next), temporaries (never renamed: their
	 * epochs were not journalled either, the drain spools them again) */
	while ((de = readdir(dh)) != NULL) {
		char full[1024];
		unsigned long long v;
		struct stat st;
		int used = 0;

		if (sscanf(de->d_name, "%16llx.%n", &v, &used) != 1 || used == 0)
			continue;
		snprintf(full, sizeof(full), "%s/%s", x->dir, de->d_name);
		if (strcmp(de->d_name + used, "tmp") == 0) {
			unlink(full);
			continue;
		}
		if (v + 1 > x->next_seq)
			x->next_seq = v + 1;
		if (strcmp(de->d_name + used, "tsv") == 0 && lstat(full, &st) == 0) {
			x->spool_files++;
			x->spool_bytes += (uint64_t)st.st_size;
		}
	}
	closedir(dh);
	if (x->next_seq == 0)
		x->next_seq = 1;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		CP_ERR("export: curl_global_init failed");
		return -EIO;
	}
	pthread_mutex_init(&x->mu, NULL);
	pthread_cond_init(&x->cv, NULL);
	ret = pthread_create(&x->th, NULL, exp_sender, x);
	if (ret != 0) {
		CP_ERR("export: cannot start the sender thread: %s", strerror(ret));
		return -ret;
	}
	x->th_started = true;
	x->on = true;
	CP_NOTICE("export: to ClickHouse %s database %s as appliance %s; spool %s (%" PRIu64
	          " file(s), %" PRIu64 " bytes waiting, bound %u MiB)", x->url, x->db,
	          x->appliance, x->dir, x->spool_files, x->spool_bytes, c->export_ch_spool_mb);
	return 0;
}

void cp_export_close(struct cp_export *x)
{
	if (!x->th_started)
		return;
	pthread_mutex_lock(&x->mu);
	x->stop = true;
	pthread_cond_broadcast(&x->cv);
	pthread_mutex_unlock(&x->mu);
	pthread_join(x->th, NULL);
	x->th_started = false;
	curl_global_cleanup();
}

json_t *cp_export_status(struct cp_export *x, json_t *warn)
{
	json_t *o = json_object();
	uint64_t now = cp_wall_ns();

	json_object_set_new(o, "enabled", json_boolean(x->on));
	if (!x->on)
		return o;
	json_object_set_new(o, "url", json_string(x->url));
	json_object_set_new(o, "database", json_string(x->db));
	json_object_set_new(o, "appliance", json_string(x->appliance));
	json_object_set_new(o, "spool_dir", json_string(x->dir));
	json_object_set_new(o, "spool_max_bytes", cp_json_u64(x->max_bytes));
	json_object_set_new(o, "batches_spooled", cp_json_u64(x->batches_spooled));
	json_object_set_new(o, "rows_spooled", cp_json_u64(x->rows_spooled));
	json_object_set_new(o, "batches_dropped", cp_json_u64(x->batches_dropped));
	json_object_set_new(o, "rows_dropped", cp_json_u64(x->rows_dropped));
	json_object_set_new(o, "spool_errors", cp_json_u64(x->spool_errors));
	json_object_set_new(o, "records_skipped", cp_json_u64(x->recs_skipped));
	pthread_mutex_lock(&x->mu);
	json_object_set_new(o, "spool_files", cp_json_u64(x->spool_files));
	json_object_set_new(o, "spool_bytes", cp_json_u64(x->spool_bytes));
	json_object_set_new(o, "batches_sent", cp_json_u64(x->batches_sent));
	json_object_set_new(o, "rows_sent", cp_json_u64(x->rows_sent));
	json_object_set_new(o, "send_failures", cp_json_u64(x->send_failures));
	json_object_set_new(o, "bad_files", cp_json_u64(x->bad_files));
	json_object_set_new(o, "last_sent", cp_json_time(x->last_ok_wall_ns));
	json_object_set_new(o, "state", json_string(x->failing_since_wall_ns ? "failing" : "ok"));
	json_object_set_new(o, "last_error", x->last_error[0] && x->failing_since_wall_ns ?
	                    json_string(x->last_error) : json_null());
	if (x->failing_since_wall_ns != 0)
		json_array_append_new(warn, json_sprintf("export: ClickHouse not taking batches "
			"for %.0f s (%s); %llu batch(es), %llu bytes spooled in %s",
			now > x->failing_since_wall_ns ?
			(double)(now - x->failing_since_wall_ns) / 1e9 : 0.0, x->last_error,
			(unsigned long long)x->spool_files, (unsigned long long)x->spool_bytes,
			x->dir));
	if (x->bad_files != 0)
		json_array_append_new(warn, json_sprintf("export: %llu malformed spool file(s) set "
			"aside (*.bad in %s)", (unsigned long long)x->bad_files, x->dir));
	pthread_mutex_unlock(&x->mu);
	if (x->batches_dropped != 0)
		json_array_append_new(warn, json_sprintf("export: spool full: %llu batch(es), %llu "
			"rows dropped, not exported", (unsigned long long)x->batches_dropped,
			(unsigned long long)x->rows_dropped));
	return o;
}
