/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * integrity.c — the loss-stamp ledger (integrity.h): one record per UTC hour of packet
 * time in an array sorted by hour, and the ranges of later hours that epochs reached
 * into (coalesced: same boot, same lossiness, touching), fed by a per-epoch hook of every
 * applied epoch, saved as a snapshot section.  Main loop only.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cp.h"
#include "grow.h"
#include "integrity.h"
#include "json.h"
#include "period.h"
#include "snapshot.h"
#include "stamp.h"
#include "store.h"

struct cp_integ_hour {
	uint32_t hour;                /* packet time / OBX_HOUR_NS */
	uint32_t reserved;
	struct cp_integ r;
};

/* Hours h0..h1 that epochs counted in an earlier hour reached into. */
struct cp_integ_range {
	uint32_t h0, h1;
	uint64_t boot;
	uint64_t epochs;              /* epochs noted in it */
	uint64_t losses;              /* of those, lossy; 0 or all of them (never mixed) */
};

#define CP_INTEG_COALESCE 16          /* recent ranges an epoch's range may extend */

static struct {
	struct cp_integ_hour *h;
	size_t n, cap;
	struct cp_integ_range *rg;    /* unordered */
	size_t n_rg, cap_rg;
	/* the port counters already counted: their boot and sums */
	uint64_t ports_boot_id, imissed, rx_nombuf;
	uint32_t last_hour;           /* of the last epoch with a packet time */
} L;

void cp_integrity_reset(void)
{
	free(L.h);
	L.h = NULL;
	L.n = L.cap = 0;
	free(L.rg);
	L.rg = NULL;
	L.n_rg = L.cap_rg = 0;
	L.ports_boot_id = L.imissed = L.rx_nombuf = 0;
	L.last_hour = 0;
}

/* Index of hour in L.h, or where it would go. */
static size_t cp_integ_find(uint32_t hour)
{
	size_t lo = 0, hi = L.n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (L.h[mid].hour < hour)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The record of hour, inserted when missing; room was reserved (cannot fail). */
static struct cp_integ *cp_integ_at(uint32_t hour)
{
	size_t i = cp_integ_find(hour);

	if (i == L.n || L.h[i].hour != hour) {
		memmove(&L.h[i + 1], &L.h[i], (L.n - i) * sizeof(L.h[0]));
		memset(&L.h[i], 0, sizeof(L.h[i]));
		L.h[i].hour = hour;
		L.n++;
	}
	return &L.h[i].r;
}

static void cp_integ_add_boot(struct cp_integ *r, uint64_t id)
{
	for (uint32_t i = 0; i < r->n_boots; i++)
		if (r->boot[i] == id)
			return;
	if (r->n_boots < CP_INTEG_BOOTS)
		r->boot[r->n_boots++] = id;
	else
		r->boots_more++;
}

/* dst += src, boots by union. */
static void cp_integ_add(struct cp_integ *dst, const struct cp_integ *src)
{
	dst->epochs += src->epochs;
	dst->epochs_missing += src->epochs_missing;
	dst->rx_packets += src->rx_packets;
	dst->tel_packets += src->tel_packets;
	for (int k = 0; k < OBX_DROP_N; k++)
		dst->drops[k] += src->drops[k];
	dst->lost_updates += src->lost_updates;
	dst->forced_swaps += src->forced_swaps;
	dst->imissed += src->imissed;
	dst->rx_nombuf += src->rx_nombuf;
	dst->overlap_epochs += src->overlap_epochs;
	dst->overlap_losses += src->overlap_losses;
	for (uint32_t i = 0; i < src->n_boots; i++)
		cp_integ_add_boot(dst, src->boot[i]);
	dst->boots_more += src->boots_more;
}

/* Note hours h0..h1 reached by an epoch of boot (lossy or not): a recent range of the
 * same boot and lossiness that touches them grows, else a new one (room reserved). */
static void cp_integ_note_range(uint32_t h0, uint32_t h1, uint64_t boot, bool lossy)
{
	for (size_t k = 0; k < L.n_rg && k < CP_INTEG_COALESCE; k++) {
		struct cp_integ_range *g = &L.rg[L.n_rg - 1 - k];

		if (g->boot != boot || (g->losses != 0) != lossy ||
		    (uint64_t)g->h0 > (uint64_t)h1 + 1 || (uint64_t)h0 > (uint64_t)g->h1 + 1)
			continue;
		if (h0 < g->h0)
			g->h0 = h0;
		if (h1 > g->h1)
			g->h1 = h1;
		g->epochs++;
		g->losses += lossy;
		return;
	}
	L.rg[L.n_rg++] = (struct cp_integ_range){ .h0 = h0, .h1 = h1, .boot = boot, .epochs = 1,
	                                          .losses = lossy };
}

/* The later hours the packets of e reach into (0..CP_INTEG_SPAN_MAX). */
static uint32_t cp_integ_span_hours(const struct cp_epoch *e)
{
	uint64_t h0, h1;

	if (e->t_first_ns == 0 || e->t_last_ns <= e->t_first_ns)
		return 0;
	h0 = e->t_first_ns / OBX_HOUR_NS;
	h1 = e->t_last_ns / OBX_HOUR_NS;
	return h1 - h0 > CP_INTEG_SPAN_MAX ? CP_INTEG_SPAN_MAX : (uint32_t)(h1 - h0);
}

/* The per-epoch hook (store.h): prepare reserves the records, apply counts the epoch. */
static int cp_integ_merge(void *ctx, const struct cp_epoch *e, const void *recs, uint32_t n,
                          uint32_t rec_size)
{
	const struct cp_store *s = ctx;
	const struct cp_boot *b;
	struct cp_integ *r;
	uint64_t t = e->t_first_ns ? e->t_first_ns : e->t_last_ns, prev, im = 0, nb = 0;
	uint32_t span = cp_integ_span_hours(e);
	struct cp_integ_hour *p;
	bool lost;

	(void)n;
	(void)rec_size;
	if (recs == NULL) {
		struct cp_integ_range *q;

		p = cp_grow(L.h, &L.cap, L.n + 1, sizeof(*L.h), 64);
		if (p == NULL)
			return -ENOMEM;
		L.h = p;
		q = cp_grow(L.rg, &L.cap_rg, L.n_rg + 1, sizeof(*L.rg), 16);
		if (q == NULL)
			return -ENOMEM;
		L.rg = q;
		return 0;
	}
	/* an epoch without packets (a final one) counts in the last hour seen */
	if (t != 0)
		L.last_hour = (uint32_t)(t / OBX_HOUR_NS);
	r = cp_integ_at(L.last_hour);
	r->epochs++;
	/* the store has not recorded this epoch's seq yet (store.h: consumers run first) */
	b = s != NULL ? cp_store_boot((struct cp_store *)s, e->boot_id, false) : NULL;
	prev = b != NULL ? b->last_seq[e->worker] : 0;
	if (e->seq > prev + 1)
		r->epochs_missing += e->seq - prev - 1;
	lost = e->seq > prev + 1 || e->delta.lost_updates != 0;
	r->rx_packets += e->delta.rx_packets;
	r->tel_packets += e->delta.tel_packets;
	for (int k = 0; k < OBX_DROP_N; k++)
		r->drops[k] += e->delta.drops[k];
	r->lost_updates += e->delta.lost_updates;
	r->forced_swaps += e->delta.forced_swaps;
	cp_integ_add_boot(r, e->boot_id);
	if (span != 0)
		cp_integ_note_range(L.last_hour + 1, L.last_hour + span, e->boot_id, lost);
	if (s == NULL || s->ports_boot_id == 0)
		return 0;
	for (uint32_t i = 0; i < s->n_ports; i++) {
		im += s->ports[i].imissed;
		nb += s->ports[i].rx_nombuf;
	}
	if (s->ports_boot_id != L.ports_boot_id) {
		/* a new boot's counters start at 0 */
		L.ports_boot_id = s->ports_boot_id;
		L.imissed = L.rx_nombuf = 0;
	}
	r->imissed += im >= L.imissed ? im - L.imissed : im;
	r->rx_nombuf += nb >= L.rx_nombuf ? nb - L.rx_nombuf : nb;
	L.imissed = im;
	L.rx_nombuf = nb;
	return 0;
}

/* ---- snapshot section: { u32 version, u32 n, u64 ports_boot, imissed, rx_nombuf,
 * u32 last_hour, u32 record size, u32 n_ranges, u32 range size } then n hour records,
 * then n_ranges ranges */

#define CP_INTEG_SNAP_VERSION 1u

struct cp_integ_snap_hdr {
	uint32_t version, n;
	uint64_t ports_boot_id, imissed, rx_nombuf;
	uint32_t last_hour, rec_size;
	uint32_t n_ranges, range_size;
};

static int cp_integ_save(void *ctx, const struct cp_store *s, struct cp_snap_w *w)
{
	struct cp_integ_snap_hdr hd = {
		.version = CP_INTEG_SNAP_VERSION, .n = (uint32_t)L.n,
		.ports_boot_id = L.ports_boot_id, .imissed = L.imissed, .rx_nombuf = L.rx_nombuf,
		.last_hour = L.last_hour, .rec_size = sizeof(struct cp_integ_hour),
		.n_ranges = (uint32_t)L.n_rg, .range_size = sizeof(struct cp_integ_range),
	};

	(void)ctx;
	(void)s;
	cp_snap_put(w, &hd, sizeof(hd));
	cp_snap_put(w, L.h, L.n * sizeof(L.h[0]));
	cp_snap_put(w, L.rg, L.n_rg * sizeof(L.rg[0]));
	return 0;
}

static int cp_integ_load(void *ctx, struct cp_store *s, const void *data, size_t len,
                         char *err, size_t errlen)
{
	struct cp_integ_snap_hdr hd;
	const struct cp_integ_hour *rec;
	const struct cp_integ_range *rg;

	(void)ctx;
	(void)s;
	if (len < sizeof(hd)) {
		snprintf(err, errlen, "integrity section: %zu bytes, shorter than its header", len);
		return -EBADMSG;
	}
	memcpy(&hd, data, sizeof(hd));
	if (hd.version != CP_INTEG_SNAP_VERSION || hd.rec_size != sizeof(struct cp_integ_hour) ||
	    hd.range_size != sizeof(struct cp_integ_range) ||
	    len != sizeof(hd) + (size_t)hd.n * hd.rec_size + (size_t)hd.n_ranges * hd.range_size) {
		snprintf(err, errlen, "integrity section: version %u, record sizes %u/%u, %u+%u "
		         "records in %zu bytes: not this build's", hd.version, hd.rec_size,
		         hd.range_size, hd.n, hd.n_ranges, len);
		return -EBADMSG;
	}
	rec = (const void *)((const uint8_t *)data + sizeof(hd));
	for (uint32_t i = 1; i < hd.n; i++)
		if (rec[i].hour <= rec[i - 1].hour) {
			snprintf(err, errlen, "integrity section: hours not ascending at record %u", i);
			return -EBADMSG;
		}
	rg = (const void *)(rec + hd.n);
	for (uint32_t i = 0; i < hd.n_ranges; i++)
		if (rg[i].h1 < rg[i].h0) {
			snprintf(err, errlen, "integrity section: range %u ends before it starts", i);
			return -EBADMSG;
		}
	cp_integrity_reset();
	if (hd.n != 0) {
		L.h = malloc((size_t)hd.n * sizeof(*L.h));
		if (L.h == NULL)
			return -ENOMEM;
		memcpy(L.h, rec, (size_t)hd.n * sizeof(*L.h));
	}
	L.n = L.cap = hd.n;
	if (hd.n_ranges != 0) {
		L.rg = malloc((size_t)hd.n_ranges * sizeof(*L.rg));
		if (L.rg == NULL) {
			cp_integrity_reset();
			return -ENOMEM;
		}
		memcpy(L.rg, rg, (size_t)hd.n_ranges * sizeof(*L.rg));
	}
	L.n_rg = L.cap_rg = hd.n_ranges;
	L.ports_boot_id = hd.ports_boot_id;
	L.imissed = hd.imissed;
	L.rx_nombuf = hd.rx_nombuf;
	L.last_hour = hd.last_hour;
	return 0;
}

static void cp_integ_snap_reset(void *ctx, struct cp_store *s)
{
	(void)ctx;
	(void)s;
	cp_integrity_reset();
}

int cp_integrity_start(struct cp *cp)
{
	int rc;

	cp_integrity_reset();
	/* every epoch, whatever tables it holds (one without a source table still counts) */
	rc = cp_epoch_register("integrity", cp_integ_merge, &cp->store);
	if (rc == 0)
		rc = cp_snapshot_section_register(CP_SNAP_S_INTEGRITY, "integrity", cp_integ_save,
		                                  cp_integ_load, cp_integ_snap_reset, NULL);
	return rc;
}

/* ---- queries */

void cp_integrity_span(uint64_t from_ns, uint64_t to_ns, struct cp_integ *out)
{
	uint32_t h0 = (uint32_t)(from_ns / OBX_HOUR_NS);
	uint64_t h1 = to_ns == 0 ? UINT32_MAX : (to_ns - 1) / OBX_HOUR_NS;   /* inclusive */

	memset(out, 0, sizeof(*out));
	if (to_ns != 0 && to_ns <= from_ns)
		return;
	for (size_t i = cp_integ_find(h0); i < L.n; i++) {
		if (L.h[i].hour > h1)
			break;
		cp_integ_add(out, &L.h[i].r);
	}
	for (size_t i = 0; i < L.n_rg; i++) {
		const struct cp_integ_range *g = &L.rg[i];

		if (g->h1 < h0 || g->h0 > h1)
			continue;
		out->overlap_epochs += g->epochs;
		out->overlap_losses += g->losses;
		cp_integ_add_boot(out, g->boot);
	}
}

static int cp_u32_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

uint32_t *cp_integrity_period_list(unsigned unit, uint32_t from, uint32_t to, size_t *n)
{
	uint32_t *a = NULL;
	size_t cap = 0, k = 0;

	*n = 0;
	/* the periods of the hour records, then those the ranges reach, sorted, unique */
	for (size_t i = 0; i < L.n; i++) {
		uint32_t p = obs_period_index(unit, (uint64_t)L.h[i].hour * OBX_HOUR_NS);
		uint32_t *g;

		if (p < from || p > to || (k > 0 && a[k - 1] == p))
			continue;
		g = cp_grow(a, &cap, k + 1, sizeof(*a), 64);
		if (g == NULL)
			goto oom;
		a = g;
		a[k++] = p;
	}
	for (size_t i = 0; i < L.n_rg; i++) {
		uint32_t p0 = obs_period_index(unit, (uint64_t)L.rg[i].h0 * OBX_HOUR_NS);
		uint32_t p1 = obs_period_index(unit, (uint64_t)L.rg[i].h1 * OBX_HOUR_NS);

		for (uint64_t p = p0 < from ? from : p0; p <= p1 && p <= to; p++) {
			uint32_t *g = cp_grow(a, &cap, k + 1, sizeof(*a), 64);

			if (g == NULL)
				goto oom;
			a = g;
			a[k++] = (uint32_t)p;
		}
	}
	if (k > 1) {
		size_t u = 1;

		qsort(a, k, sizeof(*a), cp_u32_cmp);
		for (size_t i = 1; i < k; i++)
			if (a[i] != a[u - 1])
				a[u++] = a[i];
		k = u;
	}
	*n = k;
	return a;
oom:
	free(a);
	return NULL;
}

/* A fleet's store (fleet.h) holds several appliances' boots: the top CP_INTEG_APP_BITS
 * bits of its boot ids name the appliance, and a restart is a second boot of one. */
static bool cp_integ_fleet;

void cp_integ_set_fleet(bool on)
{
	cp_integ_fleet = on;
}

uint64_t cp_integ_restarts(const struct cp_integ *i)
{
	uint64_t boots = (uint64_t)i->n_boots + i->boots_more, apps = boots > 0;

	if (cp_integ_fleet && i->n_boots > 1) {
		apps = 0;
		for (uint32_t k = 0; k < i->n_boots; k++) {
			uint32_t j;

			for (j = 0; j < k && i->boot[j] >> (64 - CP_INTEG_APP_BITS) !=
			                     i->boot[k] >> (64 - CP_INTEG_APP_BITS); j++)
				;
			apps += j == k;   /* the first boot of its appliance */
		}
	}
	/* boots not kept (boots_more) are counted as restarts: never a false "complete" */
	return boots > apps ? boots - apps : 0;
}

bool cp_integ_complete(const struct cp_integ *i)
{
	return i->epochs + i->overlap_epochs > 0 && i->lost_updates == 0 &&
	       i->epochs_missing == 0 && i->overlap_losses == 0 && cp_integ_restarts(i) == 0 &&
	       i->imissed == 0 && i->rx_nombuf == 0;
}

json_t *cp_integ_json(const struct cp_integ *i)
{
	static const char *const drop_names[OBX_DROP_N] = OBX_DROP_NAMES;
	json_t *o = json_object(), *drops = json_object();
	uint64_t dropped = 0;

	for (int k = 0; k < OBX_DROP_N; k++) {
		json_object_set_new(drops, drop_names[k], cp_json_u64(i->drops[k]));
		dropped += i->drops[k];
	}
	json_object_set_new(o, "complete", json_boolean(cp_integ_complete(i)));
	json_object_set_new(o, "packets", cp_json_u64(i->rx_packets));
	json_object_set_new(o, "telescope_packets", cp_json_u64(i->tel_packets));
	json_object_set_new(o, "dropped", cp_json_u64(dropped));
	json_object_set_new(o, "drops", drops);
	json_object_set_new(o, "imissed", cp_json_u64(i->imissed));
	json_object_set_new(o, "rx_nombuf", cp_json_u64(i->rx_nombuf));
	json_object_set_new(o, "lost_updates", cp_json_u64(i->lost_updates));
	json_object_set_new(o, "forced_swaps", cp_json_u64(i->forced_swaps));
	json_object_set_new(o, "dp_restarts", cp_json_u64(cp_integ_restarts(i)));
	json_object_set_new(o, "epochs", cp_json_u64(i->epochs));
	json_object_set_new(o, "epochs_missing", cp_json_u64(i->epochs_missing));
	json_object_set_new(o, "overlap_epochs", cp_json_u64(i->overlap_epochs));
	json_object_set_new(o, "overlap_losses", cp_json_u64(i->overlap_losses));
	return o;
}

void cp_integ_line(const struct cp_integ *i, char *buf, size_t len)
{
	size_t n;

	if (cp_integ_complete(i)) {
		snprintf(buf, len, "complete (%" PRIu64 " epochs, %" PRIu64 " frames, nothing lost)",
		         i->epochs, i->rx_packets);
		return;
	}
	n = (size_t)snprintf(buf, len, "INCOMPLETE:");
	if (i->epochs + i->overlap_epochs == 0 && n < len)
		n += (size_t)snprintf(buf + n, len - n, " no epoch drained");
	if (i->lost_updates && n < len)
		n += (size_t)snprintf(buf + n, len - n, " %" PRIu64 " lost updates;", i->lost_updates);
	if (cp_integ_restarts(i) && n < len)
		n += (size_t)snprintf(buf + n, len - n, " %" PRIu64 " dataplane restarts;",
		                      cp_integ_restarts(i));
	if (i->epochs_missing && n < len)
		n += (size_t)snprintf(buf + n, len - n, " %" PRIu64 " epochs missing;",
		                      i->epochs_missing);
	if (i->overlap_losses && n < len)
		n += (size_t)snprintf(buf + n, len - n, " %" PRIu64 " losses in epochs reaching in;",
		                      i->overlap_losses);
	if (i->imissed && n < len)
		n += (size_t)snprintf(buf + n, len - n, " %" PRIu64 " imissed;", i->imissed);
	if (i->rx_nombuf && n < len)
		n += (size_t)snprintf(buf + n, len - n, " %" PRIu64 " rx_nombuf;", i->rx_nombuf);
	if (n > 0 && n < len && buf[n - 1] == ';')
		buf[n - 1] = '\0';
}

/* One period's stamp: its label and bounds, then integrity.h's fields. */
json_t *cp_integ_period_json(unsigned unit, uint32_t p)
{
	char label[OBS_PERIOD_LABEL_MAX];
	uint64_t from = obs_period_start_ns(unit, p), to = obs_period_start_ns(unit, p + 1);
	struct cp_integ in;
	json_t *o;

	cp_integrity_span(from, to, &in);
	obs_period_label(unit, p, label, sizeof(label));
	o = cp_integ_json(&in);
	json_object_set_new(o, "period", json_string(label));
	json_object_set_new(o, "from", cp_json_time(from));
	json_object_set_new(o, "to", cp_json_time(to));
	return o;
}

json_t *cp_integ_periods_json(unsigned unit, uint32_t from, uint32_t to,
                              struct cp_integ *span, struct cp_integ_ok *ok)
{
	json_t *a = json_array();
	size_t n;
	uint32_t *ps = cp_integrity_period_list(unit, from, to, &n);

	cp_integrity_periods(unit, from, to, span);
	if (ok != NULL) {
		memset(ok, 0, sizeof(*ok));
		ok->p = malloc((n ? n : 1) * sizeof(*ok->p));
		if (ok->p == NULL)
			ok->oom = true;
		ok->cap = ok->p != NULL ? n : 0;
	}
	for (size_t i = 0; i < n; i++) {
		json_t *o = cp_integ_period_json(unit, ps[i]);

		if (ok != NULL && ok->p != NULL && json_is_true(json_object_get(o, "complete")))
			ok->p[ok->n++] = ps[i];
		json_array_append_new(a, o);
	}
	free(ps);
	return a;
}

bool cp_integ_ok_span(const struct cp_integ_ok *ok, uint32_t first, uint32_t last)
{
	size_t lo = 0, hi = ok->n;

	if (ok->oom || first > last)
		return false;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (ok->p[mid] < first)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* every period first..last present, consecutively (ascending, no repeats) */
	if ((uint64_t)lo + (last - first) >= ok->n)
		return false;
	return ok->p[lo] == first && ok->p[lo + (last - first)] == last;
}

void cp_integrity_periods(unsigned unit, uint32_t from, uint32_t to, struct cp_integ *out)
{
	cp_integrity_span(obs_period_start_ns(unit, from),
	                  to >= UINT32_MAX - 1 ? 0 : obs_period_start_ns(unit, to + 1), out);
}

void cp_integ_md(FILE *f, const struct cp_integ *i)
{
	char line[512];

	cp_integ_line(i, line, sizeof(line));
	fprintf(f, "**Integrity of the time covered: %s** (per period: `integrity.md`).\n\n",
	        line);
}

uint32_t cp_integrity_hours(void)
{
	return (uint32_t)L.n;
}

const struct cp_integ *cp_integrity_hour(uint32_t i, uint32_t *hour)
{
	if (i >= L.n)
		return NULL;
	*hour = L.h[i].hour;
	return &L.h[i].r;
}

/* ---- the stamp of a CSV or SVG report file (issue 15: every report file) ---- */

/* The last hour any packet reached: the last hour record's, or later the end of a range
 * (an epoch counts in the hour it started and notes the later hours it reached as a
 * range), so the end does not depend on where the epochs were cut. */
static uint32_t cp_integ_last_hour(void)
{
	uint32_t h = L.n > 0 ? L.h[L.n - 1].hour : 0;

	for (size_t i = 0; i < L.n_rg; i++)
		if (L.rg[i].h1 > h)
			h = L.rg[i].h1;
	return h;
}

void cp_integ_stamp_text(const struct cp_integ *i, uint64_t from_ns, uint64_t to_ns,
                         char *buf, size_t len)
{
	static const char *const drop_names[OBX_DROP_N] = OBX_DROP_NAMES;
	char line[512], t0[64] = "-", t1[64] = "-";
	uint64_t dropped = 0;
	size_t n = 0;

	if (len == 0)
		return;
	buf[0] = '\0';
	if (from_ns == 0 && to_ns == 0 && L.n > 0) {
		/* the whole ledger: its first hour to the end of the last hour a packet reached */
		from_ns = (uint64_t)L.h[0].hour * OBX_HOUR_NS;
		to_ns = ((uint64_t)cp_integ_last_hour() + 1) * OBX_HOUR_NS;
	}
	if (from_ns != 0)
		cp_fmt_time(from_ns, t0, sizeof(t0));
	if (to_ns != 0)
		cp_fmt_time(to_ns, t1, sizeof(t1));
	for (int k = 0; k < OBX_DROP_N; k++)
		dropped += i->drops[k];
	cp_integ_line(i, line, sizeof(line));
#define STAMP_ADD(...) do { \
		if (n < len) \
			n += (size_t)snprintf(buf + n, len - n, __VA_ARGS__); \
	} while (0)
	STAMP_ADD("integrity of the time covered: %s\n", line);
	STAMP_ADD("covers: %s .. %s (packet time)\n", t0, t1);
	STAMP_ADD("complete: %s\n", cp_integ_complete(i) ? "true" : "false");
	STAMP_ADD("packets: %" PRIu64 "\ntelescope_packets: %" PRIu64 "\n",
	          i->rx_packets, i->tel_packets);
	STAMP_ADD("dropped: %" PRIu64 " (", dropped);
	for (int k = 0; k < OBX_DROP_N; k++)
		STAMP_ADD("%s%s %" PRIu64, k ? ", " : "", drop_names[k], i->drops[k]);
	STAMP_ADD(")\nimissed: %" PRIu64 "\nrx_nombuf: %" PRIu64 "\n", i->imissed,
	          i->rx_nombuf);
	STAMP_ADD("lost_updates: %" PRIu64 "\nforced_swaps: %" PRIu64 "\n",
	          i->lost_updates, i->forced_swaps);
	STAMP_ADD("dp_restarts: %" PRIu64 "\nepochs: %" PRIu64 "\nepochs_missing: %"
	          PRIu64 "\n", cp_integ_restarts(i), i->epochs,
	          i->epochs_missing);
	STAMP_ADD("overlap_epochs: %" PRIu64 "\noverlap_losses: %" PRIu64 "\n",
	          i->overlap_epochs, i->overlap_losses);
#undef STAMP_ADD
	if (n >= len && len > 1)
		buf[len - 2] = '\n';    /* cut: still whole lines for a reader */
}

void cp_integ_csv(FILE *f, const struct cp_integ *i, uint64_t from_ns, uint64_t to_ns)
{
	char buf[CP_INTEG_STAMP_MAX];

	cp_integ_stamp_text(i, from_ns, to_ns, buf, sizeof(buf));
	cp_stamp_csv(f, buf);
}

void cp_integ_svg(FILE *f, const struct cp_integ *i, uint64_t from_ns, uint64_t to_ns, int x,
                  int y)
{
	char buf[CP_INTEG_STAMP_MAX];

	cp_integ_stamp_text(i, from_ns, to_ns, buf, sizeof(buf));
	cp_stamp_svg_desc(f, buf);
	cp_stamp_svg_line(f, buf, x, y);
}
