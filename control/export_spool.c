/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * export_spool.c — the export's rows and spool files (export_int.h), on the main loop:
 * each drain pass's epochs as TabSeparated rows of the export's tables, written to one
 * spool file "<seq16hex>.tsv" (through "<seq>.tmp", fsynced, renamed, the directory
 * fsynced: a file under its final name is whole) that the sender posts.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cp_log.h"
#include "drain.h"
#include "exchange_recs.h"
#include "export_int.h"
#include "grow.h"
#include "period.h"
#include "statefile.h"
#include "store.h"
#include "toolstore.h"

/* What the rows need of the exchange: the sensor names (the store's checked copy) and
 * the coverage geometry (the drain's validated header copy), never the shared page. */
struct exp_meta {
	uint32_t n_sensors;
	const char (*sensor_names)[OBX_NAME_LEN];
	uint32_t cov_sample_size;
	uint8_t cov_block_len, cov_period_unit;
};

/* ------------------------------------------------------------------- encoding --- */


/* Room for need more bytes and the NUL vsnprintf writes (grow.h's rule). */
static bool eb_room(struct exp_buf *b, size_t need)
{
	char *p;

	if (b->oom)
		return false;
	p = cp_grow(b->p, &b->cap, b->len + need + 1, 1, 65536);
	if (p == NULL) {
		b->oom = true;
		return false;
	}
	b->p = p;
	return true;
}

void eb_append(struct exp_buf *b, const char *p, size_t n)
{
	if (!eb_room(b, n))
		return;
	memcpy(b->p + b->len, p, n);
	b->len += n;
}

static void eb_printf(struct exp_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->oom)
		return;
	va_start(ap, fmt);
	n = vsnprintf(b->p ? b->p + b->len : NULL, b->p ? b->cap - b->len : 0, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->oom = true;
		return;
	}
	if (b->p != NULL && (size_t)n < b->cap - b->len) {
		b->len += (size_t)n;
		return;
	}
	if (!eb_room(b, (size_t)n))
		return;
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
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
static void eb_sensors(struct exp_buf *b, const struct exp_meta *h, uint64_t mask)
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

static void eb_sensor(struct exp_buf *b, const struct exp_meta *h, unsigned s)
{
	if (s < h->n_sensors && s < 64)
		eb_str(b, h->sensor_names[s], OBX_NAME_LEN);
	else
		eb_printf(b, "sensor%u", s);
}

static void eb_event(struct exp_buf *b, const struct cp_export *x, const struct exp_meta *h,
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
                        const struct exp_meta *h, const struct cp_epoch *e,
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

static void exp_cells(struct cp_export *x, struct exp_buf *b, const struct exp_meta *h,
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

static void exp_events(struct cp_export *x, struct exp_buf *b, const struct exp_meta *h,
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

/* DoS backscatter (kind 6): ports as listed, the unused zeros left out */
static void exp_dos(struct cp_export *x, struct exp_buf *b, const struct cp_epoch *e,
                    const struct cp_tab *t)
{
	const struct obx_dos_rec *r = t->recs;

	for (uint32_t i = 0; i < t->n; i++) {
		bool first = true;

		if (r[i].packets == 0)
			continue;
		eb_key(b, x, e);
		eb_printf(b, "%" PRIu32 "\t%" PRIu32 "\t%" PRIu64 "\t%" PRIu64 "\t%" PRIu64 "\t",
		          r[i].minute, r[i].victim, r[i].packets, r[i].first_ns, r[i].last_ns);
		eb_u64s(b, r[i].dark, OBX_DOS_DARK_W);
		eb_printf(b, "\t[");
		for (unsigned k = 0; k < OBX_DOS_PORTS; k++) {
			if (r[i].ports[k] == 0)
				continue;
			eb_printf(b, "%s%u", first ? "" : ",", r[i].ports[k]);
			first = false;
		}
		eb_printf(b, "]\t%u\t%u\n", r[i].n_ports, r[i].proto_mask);
		b->rows++;
	}
}

/* ---- fleetresp (issue 16): responder sessions and periods, the sources' tools ---- */

/* The responder's completed handshakes (kind 5); the payload kept, as hex */
static void exp_resp_sessions(struct cp_export *x, struct exp_buf *b, const struct exp_meta *h,
                              const struct cp_epoch *e, const struct cp_tab *t)
{
	const struct obx_resp_rec *r = t->recs;
	uint32_t mask = h->cov_block_len == 0 ? 0 :
	                h->cov_block_len >= 32 ? ~0u : ~0u << (32 - h->cov_block_len);

	for (uint32_t i = 0; i < t->n; i++) {
		unsigned len = r[i].payload_len <= OBX_RESP_PAYLOAD ? r[i].payload_len : 0;

		if (r[i].count == 0)
			continue;
		eb_key(b, x, e);
		eb_printf(b, "%" PRIu32 "\t%" PRIu32 "\t%" PRIu32 "\t%u\t%" PRIu32 "\t%u\t", r[i].hour,
		          r[i].src, r[i].src & mask, h->cov_block_len, r[i].dst, r[i].dport);
		eb_sensor(b, h, r[i].sensor);
		eb_printf(b, "\t%" PRIu64 "\t%" PRIu64 "\t%" PRIu64 "\t%u\t%" PRIu32 "\t%u\t%u\t",
		          r[i].count, r[i].first_ns, r[i].last_ns, r[i].flags, r[i].sid,
		          r[i].payload_len, r[i].seg_len);
		for (unsigned k = 0; k < len; k++)
			eb_printf(b, "%02x", r[i].payload[k]);
		eb_printf(b, "\n");
		b->rows++;
	}
}

/* With H configured, one row per period the epoch's packets span: on (the responder
 * answered: OBX_SLOT_F_RESP) or off (a --replay), and H itself */
static void exp_resp_periods(struct cp_export *x, struct exp_buf *b, const struct exp_meta *h,
                             const struct cp_epoch *e)
{
	static const char *const units[] = { "hour", "day", "week", "month" };
	uint32_t p0, p1;

	if (x->n_h == 0 || e->t_last_ns == 0 || e->t_last_ns < e->t_first_ns ||
	    h->cov_period_unit >= 4)
		return;
	p0 = obs_period_index(h->cov_period_unit, e->t_first_ns);
	p1 = obs_period_index(h->cov_period_unit, e->t_last_ns);
	for (uint32_t p = p0; p <= p1 && p - p0 < 64; p++) {
		eb_key(b, x, e);
		eb_printf(b, "%" PRIu32 "\t%s\t%u\t%" PRIu64 "\t[", p, units[h->cov_period_unit],
		          !!(e->flags & OBX_SLOT_F_RESP), x->h_size);
		for (uint32_t k = 0; k < x->n_h; k++) {
			uint32_t a = x->h_addr[k];

			eb_printf(b, "%s'%u.%u.%u.%u/%u'", k ? "," : "", a >> 24, a >> 16 & 255,
			          a >> 8 & 255, a & 255, x->h_len[k]);
		}
		eb_printf(b, "]\n");
		b->rows++;
	}
}

/* The SRC records' tool fields, for the records that have any */
static void exp_source_tools(struct cp_export *x, struct exp_buf *b, const struct cp_epoch *e,
                             const struct cp_tab *t)
{
	const struct obx_src_rec *r = t->recs;

	for (uint32_t i = 0; i < t->n; i++) {
		char name[64];

		if (r[i].packets == 0 || (r[i].tool == 0 && r[i].tool_other == 0))
			continue;
		eb_key(b, x, e);
		eb_printf(b, "%" PRIu32 "\t%" PRIu32 "\t%u\t", r[i].hour, r[i].addr, r[i].tool);
		eb_str(b, r[i].tool ? cp_tool_name(r[i].tool, name, sizeof(name)) : "", sizeof(name));
		eb_printf(b, "\t%" PRIu32 "\t%u\n", r[i].tool_syns, r[i].tool_other);
		b->rows++;
	}
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
	          "\t%" PRIu64 "\t%" PRIu64 "\t%" PRIu64 "\t", c->lost_updates, c->time_backwards,
	          c->forced_swaps, c->excluded_packets, c->resip_packets, c->scanner_packets,
	          c->cov_syns, c->payload_packets, c->rule_matches);
	eb_u64s(b, c->reserved, sizeof(c->reserved) / sizeof(c->reserved[0]));
	eb_printf(b, "\n");
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

int cp_export_spool(struct cp_export *x, const struct obx_geom *g, const struct cp_store *st,
                    const struct cp_epoch *const *e, uint32_t n)
{
	const struct exp_meta meta = { .n_sensors = st->n_sensors, .sensor_names = st->sensor_names,
	                               .cov_sample_size = g->cov_sample_size,
	                               .cov_block_len = g->cov_block_len,
	                               .cov_period_unit = g->cov_period_unit };
	const struct exp_meta *h = &meta;
	struct exp_buf b[EXP_T_N], out = { 0 };
	char tmp[700], fin[700];
	uint64_t rows = 0, bytes, have;
	int fd, ret = 0;

	if (!x->on || n == 0)
		return 0;
	memset(b, 0, sizeof(b));
	for (uint32_t i = 0; i < n; i++) {
		const struct cp_tab *t;

		if ((t = exp_tab(x, e[i], OBX_TAB_SRC, OBX_REC_SIZE_SRC)) != NULL) {
			exp_sources(x, &b[EXP_T_SOURCES], &b[EXP_T_EVENTS], h, e[i], t);
			exp_source_tools(x, &b[EXP_T_SOURCE_TOOLS], e[i], t);   /* fleetresp */
		}
		if ((t = exp_tab(x, e[i], OBX_TAB_CELL, OBX_REC_SIZE_CELL)) != NULL)
			exp_cells(x, &b[EXP_T_CELLS], h, e[i], t);
		if ((t = exp_tab(x, e[i], OBX_TAB_EVENT, OBX_REC_SIZE_EVENT)) != NULL)
			exp_events(x, &b[EXP_T_EVENTS], h, e[i], t);
		if ((t = exp_tab(x, e[i], OBX_TAB_RESIP_PORT, OBX_REC_SIZE_RESIP_PORT)) != NULL)
			exp_resip_ports(x, &b[EXP_T_RESIP_PORTS], e[i], t);
		if ((t = exp_tab(x, e[i], OBX_TAB_DOS, OBX_REC_SIZE_DOS)) != NULL)
			exp_dos(x, &b[EXP_T_DOS], e[i], t);
		/* fleetresp (issue 16) */
		if ((t = exp_tab(x, e[i], OBX_TAB_RESP, OBX_REC_SIZE_RESP)) != NULL)
			exp_resp_sessions(x, &b[EXP_T_RESP_SESSIONS], h, e[i], t);
		exp_resp_periods(x, &b[EXP_T_RESP_PERIODS], h, e[i]);
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
	ret = cp_state_write_all(fd, out.p, out.len);
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
