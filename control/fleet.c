/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fleet.c — `obscura-cp --fleet` (fleet.h, docs/export.md "Fleet"): every exported epoch
 * read back from ClickHouse and applied to the store as the drain applies a drained one.
 *
 * Five queries, one per export table, each ordered by the epoch key (appliance, boot,
 * worker, seq) and read whole as TabSeparated; one walk over the epochs' rows takes each
 * epoch's rows of the other four tables (the same order), rebuilds its struct cp_epoch and
 * hands it to cp_store_apply().  Rows whose epoch row is missing (a refused or partly
 * taken batch) are counted, never applied.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "analysis.h"
#include "cp.h"
#include "cp_log.h"
#include "drain.h"
#include "exchange_recs.h"
#include "fleet.h"
#include "grow.h"
#include "integrity.h"
#include "commands.h"
#include "json.h"
#include "snapshot.h"

/* ------------------------------------------------------------------ fetching --- */

struct fl_buf {
	char *p;
	size_t len, cap;
	bool oom;
};

static size_t fl_write_cb(char *src, size_t size, size_t nmemb, void *arg)
{
	struct fl_buf *b = arg;
	size_t n = size * nmemb;
	char *p = cp_grow(b->p, &b->cap, b->len + n + 1, 1, 1 << 16);

	if (p == NULL) {
		b->oom = true;
		return 0;   /* curl stops: CURLE_WRITE_ERROR */
	}
	b->p = p;
	memcpy(b->p + b->len, src, n);
	b->len += n;
	b->p[b->len] = '\0';
	return n;
}

/* The query's TabSeparated answer into b (NUL-terminated): 0 or -1 with err set. */
static int fl_query(CURL *c, const char *url, const char *q, struct fl_buf *b, char *err,
                    size_t errlen)
{
	long code = 0;
	CURLcode rc;

	b->len = 0;
	b->oom = false;
	curl_easy_reset(c);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, q);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, fl_write_cb);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, b);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 5L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
	rc = curl_easy_perform(c);
	if (rc != CURLE_OK) {
		snprintf(err, errlen, "%s: %s", url, b->oom ? "out of memory reading the answer" :
		         curl_easy_strerror(rc));
		return -1;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	if (code != 200) {
		if (b->len > 300)
			b->p[300] = '\0';
		for (char *s = b->p; s != NULL && *s; s++)
			if (*s == '\n')
				*s = ' ';
		snprintf(err, errlen, "%s: HTTP %ld: %s", url, code, b->p ? b->p : "");
		return -1;
	}
	if (b->p == NULL) {
		b->p = calloc(1, 1);
		if (b->p == NULL)
			return snprintf(err, errlen, "out of memory"), -1;
		b->cap = 1;
	}
	return 0;
}

/* ------------------------------------------------------------------- parsing --- */

#define FL_MAXF 32

/* A cursor over one answer: the current line split into fields, in place. */
struct fl_cur {
	char *p, *end;
	char *f[FL_MAXF];
	unsigned n;
	bool have;                  /* f holds a row */
	uint64_t boot, seq;
	uint32_t worker;
};

static bool fl_u64(const char *s, uint64_t *v)
{
	char *e;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	*v = strtoull(s, &e, 10);
	return *e == '\0' && errno == 0;
}

/* TabSeparated string escapes, in place */
static void fl_unescape(char *s)
{
	char *d = s;

	for (; *s; s++) {
		if (*s == '\\' && s[1] != '\0') {
			s++;
			*d++ = *s == 't' ? '\t' : *s == 'n' ? '\n' : *s == '0' ? '?' : *s;
		} else {
			*d++ = *s;
		}
	}
	*d = '\0';
}

/* The next row with at least min fields and a key that parses; bad ones counted. */
static void fl_next(struct fl_cur *c, unsigned min, uint64_t *bad)
{
	c->have = false;
	while (c->p < c->end) {
		char *nl = memchr(c->p, '\n', (size_t)(c->end - c->p)), *s = c->p;
		uint64_t w;

		if (nl == NULL)
			nl = c->end;
		*nl = '\0';
		c->p = nl + 1;
		c->n = 0;
		for (;;) {
			char *t = strchr(s, '\t');

			if (c->n < FL_MAXF)
				c->f[c->n++] = s;
			if (t == NULL)
				break;
			*t = '\0';
			s = t + 1;
		}
		if (c->n >= min && c->n >= 4 && fl_u64(c->f[1], &c->boot) &&
		    fl_u64(c->f[2], &w) && w < OBX_MAX_WORKERS && fl_u64(c->f[3], &c->seq)) {
			fl_unescape(c->f[0]);
			c->worker = (uint32_t)w;
			c->have = true;
			return;
		}
		if (c->n > 1 || c->f[0][0] != '\0')
			(*bad)++;
	}
}

/* ClickHouse's order of the key: String bytewise, then the numbers */
static int fl_key_cmp(const struct fl_cur *a, const struct fl_cur *b)
{
	int r = strcmp(a->f[0], b->f[0]);

	if (r != 0)
		return r;
	if (a->boot != b->boot)
		return a->boot < b->boot ? -1 : 1;
	if (a->worker != b->worker)
		return a->worker < b->worker ? -1 : 1;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* Fields from first on as numbers: false when one does not parse. */
static bool fl_nums(const struct fl_cur *c, unsigned first, uint64_t *v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (first + i >= c->n || !fl_u64(c->f[first + i], &v[i]))
			return false;
	return true;
}

/* An Array(UInt*) literal "[1,2,3]" into v (at most max): the count, or -1. */
static long fl_array(const char *s, uint64_t *v, size_t max)
{
	size_t n = 0;

	if (*s++ != '[')
		return -1;
	if (*s == ']')
		return s[1] == '\0' ? 0 : -1;
	for (;;) {
		char *e;

		if (*s < '0' || *s > '9' || n == max)
			return -1;
		v[n++] = strtoull(s, &e, 10);
		if (*e == ']')
			return e[1] == '\0' ? (long)n : -1;
		if (*e != ',')
			return -1;
		s = e + 1;
	}
}

/* --------------------------------------------------------------- rebuilding --- */

/* Growing record arrays, reused from epoch to epoch. */
struct fl_arr {
	void *p;
	size_t n, cap;
};

static void *fl_push(struct fl_arr *a, size_t size)
{
	void *p = cp_grow(a->p, &a->cap, a->n + 1, size, 256);

	if (p == NULL)
		return NULL;
	a->p = p;
	memset((char *)p + a->n * size, 0, size);
	return (char *)p + a->n++ * size;
}

struct fl_ctx {
	struct cp *cp;
	struct cp_fleet *f;
	struct fl_arr src, ev, inl, cell, bits;
	struct fl_arr resp, tools;   /* fleetresp (issue 16) */
	uint32_t bm_size;   /* BITMAP record size of this epoch's cells */
};

static int fl_sensor(const struct cp *cp, const char *name)
{
	for (uint32_t i = 0; i < cp->conf.n_sensors; i++)
		if (strcmp(cp->conf.sensors[i].name, name) == 0)
			return (int)i;
	return -1;
}

/* sources: hour addr first last packets resip_packets mask scanner resip excluded ev_type */
static int fl_take_src(struct fl_ctx *x, const struct fl_cur *c)
{
	uint64_t v[11];
	struct obx_src_rec *r;

	if (!fl_nums(c, 4, v, 11) || v[0] > UINT32_MAX || v[1] > UINT32_MAX || v[4] == 0 ||
	    v[5] > UINT32_MAX || !obx_hour_rec_ok(v[2], v[3], (uint32_t)v[0]))
		return 1;
	r = fl_push(&x->src, sizeof(*r));
	if (r == NULL)
		return -ENOMEM;
	r->hour = (uint32_t)v[0];
	r->addr = (uint32_t)v[1];
	r->first_ns = v[2];
	r->last_ns = v[3];
	r->packets = v[4];
	r->resip_packets = (uint32_t)v[5];
	r->sensor_mask = v[6];
	r->flags = (v[7] ? OBX_SRC_F_SCANNER : 0) | (v[8] ? OBX_SRC_F_RESIP : 0) |
	           (v[9] ? OBX_SRC_F_EXCLUDED : 0);
	r->ev_type = (uint32_t)v[10];
	r->ev_mode = OBX_SRC_EV_NONE;   /* until its inline event row is met */
	return 0;
}

/* events: inline hour addr sensor type category count first last */
static int fl_take_ev(struct fl_ctx *x, const struct fl_cur *c)
{
	uint64_t a[3], b[4], inl;
	struct obx_event_rec *r;
	int s;

	if (c->n < 13 || !fl_u64(c->f[4], &inl) || !fl_nums(c, 5, a, 2) || !fl_nums(c, 8, b, 2) ||
	    !fl_nums(c, 10, a + 2, 1) || !fl_nums(c, 11, b + 2, 2))
		return 1;
	fl_unescape(c->f[7]);
	s = fl_sensor(x->cp, c->f[7]);
	if (s < 0 || a[0] > UINT32_MAX || a[1] > UINT32_MAX || b[0] > UINT32_MAX || b[1] > 255 ||
	    a[2] == 0 || !obx_hour_rec_ok(b[2], b[3], (uint32_t)a[0]))
		return 1;
	r = fl_push(inl ? &x->inl : &x->ev, sizeof(*r));
	if (r == NULL)
		return -ENOMEM;
	r->hour = (uint32_t)a[0];
	r->addr = (uint32_t)a[1];
	r->sensor = (uint8_t)s;
	r->type = (uint32_t)b[0];
	r->category = (uint8_t)b[1];
	r->count = a[2];
	r->first_ns = b[2];
	r->last_ns = b[3];
	return 0;
}

/* cells: period block proto dport syns mirai scanner sample_size slots */
static int fl_take_cell(struct fl_ctx *x, const struct fl_cur *c)
{
	static uint64_t slots[1u << 16];   /* one loading thread */
	uint64_t v[8];
	struct obx_cell_rec *r;
	long n;

	if (c->n < 13 || !fl_nums(c, 4, v, 8) || v[0] > UINT32_MAX || v[1] > UINT32_MAX ||
	    v[2] > 255 || v[3] > 65535 || v[4] == 0 || v[4] > UINT32_MAX || v[5] > v[4] ||
	    v[7] == 0 || v[7] > sizeof(slots) / sizeof(slots[0]))
		return 1;
	n = fl_array(c->f[12], slots, sizeof(slots) / sizeof(slots[0]));
	if (n < 0)
		return 1;
	for (long i = 0; i < n; i++)
		if (slots[i] >= v[7])
			return 1;
	r = fl_push(&x->cell, sizeof(*r));
	if (r == NULL)
		return -ENOMEM;
	r->period = (uint32_t)v[0];
	r->block = (uint32_t)v[1];
	r->proto = (uint8_t)v[2];
	r->dport = (uint16_t)v[3];
	r->syns = (uint32_t)v[4];
	r->mirai = (uint32_t)v[5];
	r->flags = v[6] ? OBX_CELL_F_SCANNER : 0;
	if (n <= OBX_CELL_INLINE) {
		r->n_inline = (uint16_t)n;
		for (long i = 0; i < n; i++)
			r->inline_slot[i] = (uint32_t)slots[i];
		return 0;
	}
	/* more than fit inline: a BITMAP pool entry, as the dataplane hands them over */
	if (x->bm_size == 0)
		x->bm_size = obx_bitmap_rec_size((uint32_t)v[7]);
	if (x->bm_size != obx_bitmap_rec_size((uint32_t)v[7])) {
		x->cell.n--;
		return 1;
	}
	{
		uint8_t *bits = fl_push(&x->bits, x->bm_size);

		if (bits == NULL)
			return -ENOMEM;
		for (long i = 0; i < n; i++)
			bits[slots[i] / 8] |= (uint8_t)(1u << (slots[i] % 8));
		r->flags |= OBX_CELL_F_BITMAP;
		r->bitmap = (uint32_t)(x->bits.n - 1);
	}
	return 0;
}

/* resip ports: day proto port packets sensor_mask */
static int fl_take_rp(struct fl_arr *a, const struct fl_cur *c)
{
	uint64_t v[5];
	struct obx_resip_port_rec *r;

	if (!fl_nums(c, 4, v, 5) || v[0] > UINT32_MAX || v[1] > 255 || v[2] > 65535 || v[3] == 0)
		return 1;
	r = fl_push(a, sizeof(*r));
	if (r == NULL)
		return -ENOMEM;
	r->day = (uint32_t)v[0];
	r->proto = (uint8_t)v[1];
	r->port = (uint16_t)v[2];
	r->packets = v[3];
	r->sensor_mask = v[4];
	return 0;
}

/* dos: minute victim packets first last dark ports n_ports proto_mask (exchange kind 6) */
static int fl_take_dos(struct fl_arr *a, const struct fl_cur *c)
{
	uint64_t v[5], dark[OBX_DOS_DARK_W + 1], ports[OBX_DOS_PORTS + 1], m[2];
	struct obx_dos_rec *r;
	long np;

	if (c->n < 13 || !fl_nums(c, 4, v, 5) || !fl_nums(c, 11, m, 2) || v[0] > UINT32_MAX ||
	    v[1] > UINT32_MAX || m[0] > 255 || m[1] > 255 ||
	    fl_array(c->f[9], dark, OBX_DOS_DARK_W + 1) != OBX_DOS_DARK_W ||
	    (np = fl_array(c->f[10], ports, OBX_DOS_PORTS + 1)) < 0 || np > OBX_DOS_PORTS)
		return 1;
	for (long i = 0; i < np; i++)
		if (ports[i] == 0 || ports[i] > 65535)
			return 1;
	r = fl_push(a, sizeof(*r));
	if (r == NULL)
		return -ENOMEM;
	r->minute = (uint32_t)v[0];
	r->victim = (uint32_t)v[1];
	r->packets = v[2];
	r->first_ns = v[3];
	r->last_ns = v[4];
	memcpy(r->dark, dark, sizeof(r->dark));
	for (long i = 0; i < np; i++)
		r->ports[i] = (uint16_t)ports[i];
	r->n_ports = (uint8_t)m[0];
	r->proto_mask = (uint8_t)m[1];
	return 0;   /* the DoS consumer checks the rest (cp_dos_rec_ok: bad records counted) */
}

static int fl_src_cmp(uint32_t h1, uint32_t a1, uint32_t h2, uint32_t a2)
{
	return h1 != h2 ? (h1 < h2 ? -1 : 1) : a1 < a2 ? -1 : a1 > a2;
}

/* ---- fleetresp (issue 16): responder sessions, the sources' tools ---- */

static int fl_hex(int c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* resp sessions: hour src dst dport sensor count first last flags sid payload_len seg_len
 * payload (hex) */
static int fl_take_resp(struct fl_ctx *x, const struct fl_cur *c)
{
	uint64_t v[4], w[7];
	struct obx_resp_rec *r;
	const char *hx;
	size_t hl;
	int s;

	if (c->n < 17 || !fl_nums(c, 4, v, 4) || !fl_nums(c, 9, w, 7) || v[0] > UINT32_MAX ||
	    v[1] > UINT32_MAX || v[2] > UINT32_MAX || v[3] == 0 || v[3] > 65535 || w[0] == 0 ||
	    w[3] > 255 || w[4] > UINT32_MAX || w[5] > OBX_RESP_PAYLOAD || w[6] > 65535 ||
	    !obx_hour_rec_ok(w[1], w[2], (uint32_t)v[0]))
		return 1;
	fl_unescape(c->f[8]);
	s = fl_sensor(x->cp, c->f[8]);
	hx = c->f[16];
	hl = strlen(hx);
	if (s < 0 || hl != 2 * w[5])
		return 1;
	r = fl_push(&x->resp, sizeof(*r));
	if (r == NULL)
		return -ENOMEM;
	for (size_t k = 0; k < w[5]; k++) {
		int hi = fl_hex(hx[2 * k]), lo = fl_hex(hx[2 * k + 1]);

		if (hi < 0 || lo < 0) {
			x->resp.n--;
			return 1;
		}
		r->payload[k] = (uint8_t)(hi << 4 | lo);
	}
	r->hour = (uint32_t)v[0];
	r->src = (uint32_t)v[1];
	r->dst = (uint32_t)v[2];
	r->dport = (uint16_t)v[3];
	r->sensor = (uint8_t)s;
	r->count = w[0];
	r->first_ns = w[1];
	r->last_ns = w[2];
	r->flags = (uint8_t)w[3];
	r->sid = (uint32_t)w[4];
	r->payload_len = (uint16_t)w[5];
	r->seg_len = (uint16_t)w[6];
	return 0;   /* the responder consumers check the rest (respstore.h: bad[] counted) */
}

/* source tools: hour addr tool tool_syns tool_other, kept until the epoch's sources are in */
static int fl_take_tool(struct fl_ctx *x, const struct fl_cur *c)
{
	uint64_t v[5];
	struct obx_src_rec *r;

	if (!fl_nums(c, 4, v, 5) || v[0] > UINT32_MAX || v[1] > UINT32_MAX || v[2] > 255 ||
	    v[3] > UINT32_MAX || v[4] > 65535 || (v[2] == 0 && v[4] == 0))
		return 1;
	r = fl_push(&x->tools, sizeof(*r));
	if (r == NULL)
		return -ENOMEM;
	r->hour = (uint32_t)v[0];
	r->addr = (uint32_t)v[1];
	r->tool = (uint8_t)v[2];
	r->tool_syns = (uint32_t)v[3];
	r->tool_other = (uint16_t)v[4];
	return 0;
}

/* The tool rows (sorted as the sources: hour, addr) onto their source records: the
 * number of rows without their source record (bad rows). */
static uint64_t fl_tools(struct fl_ctx *x)
{
	struct obx_src_rec *s = x->src.p;
	const struct obx_src_rec *t = x->tools.p;
	uint64_t bad = 0;
	size_t i = 0;

	for (size_t k = 0; k < x->tools.n; k++) {
		int r = 1;

		while (i < x->src.n &&
		       (r = fl_src_cmp(s[i].hour, s[i].addr, t[k].hour, t[k].addr)) < 0)
			i++;
		if (i < x->src.n && r == 0) {
			s[i].tool = t[k].tool;
			s[i].tool_syns = t[k].tool_syns;
			s[i].tool_other = t[k].tool_other;
		} else {
			bad++;
		}
	}
	return bad;
}

/* epochs: t_first t_last published flags rx_packets rx_bytes tel_packets tel_bytes
 * proto_packets drops lost_updates time_backwards forced_swaps excluded_packets
 * resip_packets scanner_packets cov_syns payload_packets rule_matches reserved */
static bool fl_epoch_row(const struct fl_cur *c, struct cp_epoch *e)
{
	uint64_t v[8], w[9], pp[OBX_P_N + 1], dr[OBX_DROP_N + 1];
	struct obx_counters *d = &e->delta;
	enum { NRES = sizeof(d->reserved) / sizeof(d->reserved[0]) };
	uint64_t rs[NRES + 1];
	long nr;

	if (c->n < 24 || !fl_nums(c, 4, v, 8) || !fl_nums(c, 14, w, 9) || v[3] > UINT32_MAX ||
	    fl_array(c->f[12], pp, OBX_P_N + 1) != OBX_P_N ||
	    fl_array(c->f[13], dr, OBX_DROP_N + 1) != OBX_DROP_N)
		return false;
	/* reserved[]: empty in rows exported before the column (ClickHouse's default) */
	nr = fl_array(c->f[23], rs, NRES + 1);
	if (nr != 0 && nr != NRES)
		return false;
	for (long i = 0; i < nr; i++)
		d->reserved[i] = rs[i];
	e->t_first_ns = v[0];
	e->t_last_ns = v[1];
	e->published_wall_ns = v[2];
	e->flags = (uint32_t)v[3];
	d->rx_packets = v[4];
	d->rx_bytes = v[5];
	d->tel_packets = v[6];
	d->tel_bytes = v[7];
	memcpy(d->proto_packets, pp, sizeof(d->proto_packets));
	memcpy(d->drops, dr, sizeof(d->drops));
	d->lost_updates = w[0];
	d->time_backwards = w[1];
	d->forced_swaps = w[2];
	d->excluded_packets = w[3];
	d->resip_packets = w[4];
	d->scanner_packets = w[5];
	d->cov_syns = w[6];
	d->payload_packets = w[7];
	d->rule_matches = w[8];
	return true;
}

/* The store's boot id of an appliance's boot: the appliance's number (its order in the
 * epochs' answer, from 1) in the top CP_INTEG_APP_BITS bits, which the loss stamps read
 * (a second boot of one appliance is a restart, two appliances are not), and a hash of
 * the boot id below: distinct per appliance and boot, never 0. */
static uint64_t fl_boot(uint64_t app, uint64_t boot)
{
	uint64_t h = boot * 0x9e3779b97f4a7c15ull;

	h ^= h >> 29;
	return app << (64 - CP_INTEG_APP_BITS) | (h & (~0ull >> CP_INTEG_APP_BITS));
}

/* The inline events (sorted as the sources: hour, addr) onto their source records; one
 * without its record goes to the EVENT table (the same facts, read by the same
 * consumers: exchange_recs.h). */
static int fl_inline(struct fl_ctx *x)
{
	struct obx_src_rec *s = x->src.p;
	const struct obx_event_rec *v = x->inl.p;
	size_t i = 0;

	for (size_t k = 0; k < x->inl.n; k++) {
		int r = 1;

		while (i < x->src.n &&
		       (r = fl_src_cmp(s[i].hour, s[i].addr, v[k].hour, v[k].addr)) < 0)
			i++;
		if (i < x->src.n && r == 0 && s[i].ev_mode == OBX_SRC_EV_NONE &&
		    s[i].ev_type == v[k].type) {
			s[i].ev_mode = OBX_SRC_EV_INLINE;
			s[i].ev_sensor = v[k].sensor;
			s[i].ev_category = v[k].category;
			continue;
		}
		struct obx_event_rec *d = fl_push(&x->ev, sizeof(*d));

		if (d == NULL)
			return -ENOMEM;
		*d = v[k];
	}
	return 0;
}

enum { FL_EP, FL_SRC, FL_EV, FL_CELL, FL_RP, FL_DOS, FL_RESP, FL_TOOLS, FL_N };

static const char *const fl_q[FL_N] = {
	"SELECT appliance, boot, worker, seq, t_first_ns, t_last_ns, published_wall_ns, flags, "
	"rx_packets, rx_bytes, tel_packets, tel_bytes, proto_packets, drops, lost_updates, "
	"time_backwards, forced_swaps, excluded_packets, resip_packets, scanner_packets, "
	"cov_syns, payload_packets, rule_matches, reserved FROM `%s`.obscura_epochs FINAL "
	"ORDER BY appliance, boot, worker, seq FORMAT TabSeparated",
	"SELECT appliance, boot, worker, seq, hour, addr, first_ns, last_ns, packets, "
	"resip_packets, sensor_mask, scanner, resip, excluded, ev_type "
	"FROM `%s`.obscura_sources FINAL ORDER BY appliance, boot, worker, seq, hour, addr "
	"FORMAT TabSeparated",
	"SELECT appliance, boot, worker, seq, inline, hour, addr, sensor, type, category, count, "
	"first_ns, last_ns FROM `%s`.obscura_events FINAL "
	"ORDER BY appliance, boot, worker, seq, inline, hour, addr, sensor, type "
	"FORMAT TabSeparated",
	"SELECT appliance, boot, worker, seq, period, block, proto, dport, syns, mirai, scanner, "
	"sample_size, slots FROM `%s`.obscura_cells FINAL ORDER BY appliance, boot, worker, seq "
	"FORMAT TabSeparated",
	"SELECT appliance, boot, worker, seq, day, proto, port, packets, sensor_mask "
	"FROM `%s`.obscura_resip_ports FINAL ORDER BY appliance, boot, worker, seq "
	"FORMAT TabSeparated",
	"SELECT appliance, boot, worker, seq, minute, victim, packets, first_ns, last_ns, dark, "
	"ports, n_ports, proto_mask FROM `%s`.obscura_dos FINAL "
	"ORDER BY appliance, boot, worker, seq, minute, victim FORMAT TabSeparated",
	/* fleetresp (issue 16) */
	"SELECT appliance, boot, worker, seq, hour, src, dst, dport, sensor, count, first_ns, "
	"last_ns, flags, sid, payload_len, seg_len, payload FROM `%s`.obscura_resp_sessions FINAL "
	"ORDER BY appliance, boot, worker, seq FORMAT TabSeparated",
	"SELECT appliance, boot, worker, seq, hour, addr, tool, tool_syns, tool_other "
	"FROM `%s`.obscura_source_tools FINAL ORDER BY appliance, boot, worker, seq, hour, addr "
	"FORMAT TabSeparated",
};
static const unsigned fl_minf[FL_N] = { 24, 15, 13, 13, 9, 13, 17, 9 };
/* tables added after the first schema: a database exported before them loads without */
static const char *const fl_optional[FL_N] = {
	[FL_DOS] = "obscura_dos", [FL_RESP] = "obscura_resp_sessions",
	[FL_TOOLS] = "obscura_source_tools",
};

/* One epoch: take the rows of c[1..] with ep's key (rows before it have no epoch row:
 * orphans), rebuild, apply.  0 or -ENOMEM. */
static int fl_epoch(struct fl_ctx *x, struct fl_cur c[FL_N])
{
	struct cp_fleet *f = x->f;
	struct fl_arr rp = { 0 }, dos = { 0 };
	struct cp_epoch e;
	int ret = 0, r;

	memset(&e, 0, sizeof(e));
	if (!fl_epoch_row(&c[FL_EP], &e)) {
		f->rows_bad++;
		return 0;
	}
	e.boot_id = fl_boot(f->appliances, c[FL_EP].boot);
	e.worker = c[FL_EP].worker;
	e.seq = c[FL_EP].seq;
	x->src.n = x->ev.n = x->inl.n = x->cell.n = x->bits.n = 0;
	x->resp.n = x->tools.n = 0;
	for (unsigned t = FL_SRC; t < FL_N; t++) {
		for (; c[t].have; fl_next(&c[t], fl_minf[t], &f->rows_bad)) {
			int k = fl_key_cmp(&c[t], &c[FL_EP]);

			if (k > 0)
				break;
			f->rows++;
			if (k < 0) {
				f->orphans++;
				continue;
			}
			r = t == FL_SRC ? fl_take_src(x, &c[t]) : t == FL_EV ? fl_take_ev(x, &c[t]) :
			    t == FL_CELL ? fl_take_cell(x, &c[t]) : t == FL_RP ? fl_take_rp(&rp, &c[t]) :
			    t == FL_RESP ? fl_take_resp(x, &c[t]) : t == FL_TOOLS ? fl_take_tool(x, &c[t]) :
			    fl_take_dos(&dos, &c[t]);
			if (r < 0) {
				ret = r;
				goto out;
			}
			f->rows_bad += (uint64_t)r;
		}
	}
	ret = fl_inline(x);
	if (ret != 0)
		goto out;
	f->rows_bad += fl_tools(x);   /* fleetresp */
	/* the tables as a drained epoch has them; BITMAP only when a cell points into it */
	cp_epoch_add_tab(&e, OBX_TAB_SRC, sizeof(struct obx_src_rec), x->src.p,
	                 (uint32_t)x->src.n);
	cp_epoch_add_tab(&e, OBX_TAB_CELL, sizeof(struct obx_cell_rec), x->cell.p,
	                 (uint32_t)x->cell.n);
	if (x->bits.n != 0)
		cp_epoch_add_tab(&e, OBX_TAB_BITMAP, x->bm_size, x->bits.p, (uint32_t)x->bits.n);
	cp_epoch_add_tab(&e, OBX_TAB_RESIP_PORT, sizeof(struct obx_resip_port_rec), rp.p,
	                 (uint32_t)rp.n);
	cp_epoch_add_tab(&e, OBX_TAB_EVENT, sizeof(struct obx_event_rec), x->ev.p,
	                 (uint32_t)x->ev.n);
	if (dos.n != 0)
		cp_epoch_add_tab(&e, OBX_TAB_DOS, sizeof(struct obx_dos_rec), dos.p,
		                 (uint32_t)dos.n);
	/* fleetresp: always, so that the epoch's OBX_SLOT_F_RESP marks its periods on, as
	 * the drain's RESP table does */
	cp_epoch_add_tab(&e, OBX_TAB_RESP, sizeof(struct obx_resp_rec), x->resp.p,
	                 (uint32_t)x->resp.n);
	r = cp_store_apply(&x->cp->store, &e);
	if (r == 0) {
		f->epochs++;
	} else if (r < 0) {
		f->epochs_refused++;
		CP_ERR("fleet: epoch %s/%" PRIu64 "/%u/%" PRIu64 " refused: %s", c[FL_EP].f[0],
		       c[FL_EP].boot, e.worker, e.seq, strerror(-r));
		if (r == -ENOMEM)
			ret = r;
	}
out:
	free(rp.p);
	free(dos.p);
	return ret;
}

/* Every table's answer into b: 0, or -errno with err set (b freed by the caller).  An
 * optional table that does not exist (ClickHouse's UNKNOWN_TABLE, code 60) reads as empty,
 * named in *missing. */
static int fl_fetch(CURL *h, struct cp_fleet *f, struct fl_buf b[FL_N], unsigned *missing,
                    char *err, size_t errlen)
{
	char q[1024];

	*missing = 0;
	for (unsigned t = 0; t < FL_N; t++) {
		snprintf(q, sizeof(q), fl_q[t], f->db);
		int qr = fl_query(h, f->url, q, &b[t], err, errlen);

		if (qr != 0 && fl_optional[t] != NULL && !b[t].oom && strstr(err, "Code: 60,") != NULL) {
			free(b[t].p);
			b[t].p = calloc(1, 1);
			b[t].len = 0;
			*missing |= 1u << t;
			qr = b[t].p == NULL ? (b[t].oom = true, -1) : 0;
		}
		if (qr != 0)
			return b[t].oom ? -ENOMEM : -EIO;
	}
	return 0;
}

/* fleetresp: the |H| each appliance's responder had (obscura_resp_periods) against this
 * config's: gamma's threshold is the fleet's (docs/export.md "Fleet"). */
static void fl_check_h(CURL *h, struct cp *cp, struct cp_fleet *f)
{
	struct fl_buf b = { 0 };
	char q[512], err[512];
	uint64_t mine = 0;

	for (uint32_t i = 0; i < cp->conf.resp_n_prefixes; i++)
		mine += 1ull << (32 - cp->conf.resp_prefix_len[i]);
	f->resp_h_mismatch = 0;
	snprintf(q, sizeof(q), "SELECT DISTINCT appliance, h_size FROM `%s`.obscura_resp_periods "
	         "FORMAT TabSeparated", f->db);
	if (fl_query(h, f->url, q, &b, err, sizeof(err)) != 0) {
		if (strstr(err, "Code: 60,") == NULL)
			CP_WARN("fleet: cannot read the responders' H: %s", err);
		free(b.p);
		return;
	}
	for (char *l = b.p, *nl; l != NULL && *l; l = nl ? nl + 1 : NULL) {
		char *tab = strchr(l, '\t');
		uint64_t v;

		nl = strchr(l, '\n');
		if (nl != NULL)
			*nl = '\0';
		if (tab == NULL || !fl_u64(tab + 1, &v) || v == mine)
			continue;
		*tab = '\0';
		f->resp_h_mismatch++;
		CP_WARN("fleet: appliance %s's responder had |H| %" PRIu64 ", this config's "
		        "responder.prefixes %" PRIu64 ": its gamma uses this config's threshold",
		        l, v, mine);
	}
	free(b.p);
}

/* Apply what fl_fetch read to cp's store (emptied first when reload). */
static int fl_apply(struct cp *cp, struct fl_buf b[FL_N], bool reload)
{
	struct cp_fleet *f = &cp->fleet;
	struct fl_cur c[FL_N];
	struct fl_ctx x = { .cp = cp, .f = f };
	char last_app[64] = "";
	int ret = 0;

	memset(c, 0, sizeof(c));
	if (reload) {
		/* every module emptied, as a snapshot load does before it fills them */
		cp_store_reset(&cp->store);
		cp_snapshot_sections_reset(&cp->store);
		cp->store.n_sensors = cp->conf.n_sensors;
		for (uint32_t i = 0; i < cp->conf.n_sensors && i < 64; i++)
			snprintf(cp->store.sensor_names[i], OBX_NAME_LEN, "%s", cp->conf.sensors[i].name);
	}
	f->epochs = f->epochs_refused = f->rows = f->orphans = f->rows_bad = f->appliances = 0;
	for (unsigned t = 0; t < FL_N; t++) {
		c[t].p = b[t].p;
		c[t].end = b[t].p + b[t].len;
		fl_next(&c[t], fl_minf[t], &f->rows_bad);
	}
	for (; c[FL_EP].have; fl_next(&c[FL_EP], fl_minf[FL_EP], &f->rows_bad)) {
		f->rows++;
		if (strcmp(last_app, c[FL_EP].f[0]) != 0) {
			if (++f->appliances >= 1u << CP_INTEG_APP_BITS) {
				CP_ERR("fleet: more than %u appliances", (1u << CP_INTEG_APP_BITS) - 1);
				ret = -E2BIG;
				goto out;
			}
			snprintf(last_app, sizeof(last_app), "%s", c[FL_EP].f[0]);
		}
		ret = fl_epoch(&x, c);
		if (ret != 0) {
			CP_ERR("fleet: %s loading the epochs", strerror(-ret));
			goto out;
		}
	}
	for (unsigned t = FL_SRC; t < FL_N; t++)   /* past the last epoch: no epoch row */
		for (; c[t].have; fl_next(&c[t], fl_minf[t], &f->rows_bad))
			f->rows++, f->orphans++;
	cp_analyses_after_epochs(cp);
out:
	free(x.src.p);
	free(x.ev.p);
	free(x.inl.p);
	free(x.cell.p);
	free(x.bits.p);
	free(x.resp.p);
	free(x.tools.p);
	return ret;
}

/* Read ClickHouse whole and (re)build the store from it.  reload: the store holds an
 * earlier load, kept unless every table could be read. */
static int fl_load(struct cp *cp, bool reload, char *err, size_t errlen)
{
	struct cp_fleet *f = &cp->fleet;
	struct fl_buf b[FL_N];
	struct timespec t0, t1;
	unsigned missing = 0;
	CURL *h;
	int ret;

	memset(b, 0, sizeof(b));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if ((h = curl_easy_init()) == NULL) {
		snprintf(err, errlen, "libcurl initialisation failed");
		return -EIO;
	}
	ret = fl_fetch(h, f, b, &missing, err, errlen);
	if (ret == 0) {
		f->tables_missing = 0;
		f->dos_missing = missing >> FL_DOS & 1;
		for (unsigned t = 0; t < FL_N; t++)
			if (missing >> t & 1) {
				f->tables_missing++;
				CP_WARN("fleet: %s.%s does not exist (exported before it): the fleet "
				        "has none of its rows", f->db, fl_optional[t]);
			}
		ret = fl_apply(cp, b, reload);
		if (ret != 0)
			snprintf(err, errlen, "%s applying the epochs", strerror(-ret));
		else
			fl_check_h(h, cp, f);
	}
	for (unsigned t = 0; t < FL_N; t++)
		free(b[t].p);
	curl_easy_cleanup(h);
	if (ret != 0)
		return ret;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	f->load_ms = (uint64_t)(t1.tv_sec - t0.tv_sec) * 1000u +
	             (uint64_t)((t1.tv_nsec - t0.tv_nsec) / 1000000);
	f->loaded_wall_ns = cp_wall_ns();
	f->loads++;
	CP_NOTICE("fleet: %s %" PRIu64 " epoch(s) of %" PRIu64 " appliance(s) from %s database %s "
	          "in %" PRIu64 " ms: %" PRIu64 " rows, %" PRIu64 " without their epoch row, %"
	          PRIu64 " bad, %" PRIu64 " epoch(s) refused", reload ? "reloaded" : "loaded",
	          f->epochs, f->appliances, f->url, f->db, f->load_ms, f->rows, f->orphans,
	          f->rows_bad, f->epochs_refused);
	return 0;
}

int cp_fleet_load(struct cp *cp)
{
	struct cp_fleet *f = &cp->fleet;
	char err[1024];
	int ret;

	f->on = true;
	snprintf(f->url, sizeof(f->url), "%s", cp->conf.export_ch_url);
	snprintf(f->db, sizeof(f->db), "%s", cp->conf.export_ch_database);
	if (f->url[0] == '\0') {
		CP_ERR("fleet: export.clickhouse.url is not set: nothing to read the fleet from");
		return -EINVAL;
	}
	/* the sensor names the events are matched by: this config's (the appliances' must
	 * list the same sensors in the same order: sensor_mask bits are indices) */
	cp->store.n_sensors = cp->conf.n_sensors;
	for (uint32_t i = 0; i < cp->conf.n_sensors && i < 64; i++)
		snprintf(cp->store.sensor_names[i], OBX_NAME_LEN, "%s", cp->conf.sensors[i].name);
	cp_integ_set_fleet(true);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		CP_ERR("fleet: libcurl initialisation failed");
		return -EIO;
	}
	ret = fl_load(cp, false, err, sizeof(err));
	if (ret != 0)
		CP_ERR("fleet: cannot read the fleet's rows from ClickHouse: %s", err);
	return ret;
}

int cp_fleet_reload(struct cp *cp, char *err, size_t errlen)
{
	int ret = fl_load(cp, true, err, errlen);

	if (ret == -EIO) {
		/* nothing was changed: the answers stay those of the last load */
		cp->fleet.reload_failures++;
		CP_WARN("fleet: reload failed, keeping the last load: %s", err);
	}
	return ret;
}
