/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * resip.c — the control plane's RESIP traffic state (resip.h).
 *
 * Three hash tables (htab.h) of (u64 key -> u64 values): per source (addr -> RESIP
 * packets, plus its day count), per (addr, day) -> packets, per (proto, port, day) ->
 * packets.  v0 is never 0 in an entry (every key is added with packets > 0), so it is
 * the in-use mark: 24 bytes an entry, nothing beside.  Load at most 1/2;
 * cp_resip_reserve() grows them before an epoch is applied, so adding never fails.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exchange.h"
#include "htab.h"
#include "order.h"
#include "resip.h"

struct rh_ent {
	uint64_t key;
	uint64_t v0, v1;          /* v0 != 0: in use */
};


struct cp_resip {
	struct cp_ht src;            /* addr -> v0 packets, v1 days */
	struct cp_ht ad;             /* addr << 32 | day -> v0 packets */
	struct cp_ht pd;             /* proto << 48 | port << 32 | day -> v0 packets */
	uint64_t packets, port_packets, src_records, port_records, bad_records;
};

static inline uint64_t rh_mix(uint64_t k)
{
	k ^= k >> 33; k *= 0xff51afd7ed558ccdull;
	k ^= k >> 33; k *= 0xc4ceb9fe1a85ec53ull;
	k ^= k >> 33;
	return k;
}

static uint64_t rh_hash(const void *key, const void *ctx)
{
	uint64_t k;

	(void)ctx;
	memcpy(&k, key, sizeof(k));
	return rh_mix(k);
}

static const struct cp_ht_type rh_type = {
	.size = sizeof(struct rh_ent), .key_size = sizeof(uint64_t),
	.used_off = offsetof(struct rh_ent, v0), .used_len = 8,
	.load_num = 1, .load_den = 2, .min_cap = 64, .hash = rh_hash,
};
#define RH_T (&rh_type)

static void rh_free(struct cp_ht *h)
{
	cp_ht_fini(h);
}

/* Room for want entries in all (0 or -ENOMEM, nothing changed). */
static int rh_grow(struct cp_ht *h, size_t want)
{
	if (want > UINT32_MAX)
		return -ENOMEM;
	return want > h->n ? cp_ht_reserve(h, RH_T, (uint32_t)(want - h->n)) : 0;
}

/* Find or insert (room reserved before); *isnew set.  The caller adds packets > 0 to
 * v0 of a new entry before the next call (that marks it in use). */
static struct rh_ent *rh_get(struct cp_ht *h, uint64_t key, bool *isnew)
{
	struct rh_ent *e = cp_ht_insert(h, RH_T, &key, isnew);

	if (e != NULL && *isnew)
		e->key = key;
	return e;
}

static const struct rh_ent *rh_find(const struct cp_ht *h, uint64_t key)
{
	return cp_ht_find(h, RH_T, &key);
}

static const struct rh_ent *rh_next(const struct cp_ht *h, uint32_t *it)
{
	return cp_ht_next(h, RH_T, it);
}

struct cp_resip *cp_resip_new(void)
{
	return calloc(1, sizeof(struct cp_resip));
}

void cp_resip_reset(struct cp_resip *r)
{
	rh_free(&r->src);
	rh_free(&r->ad);
	rh_free(&r->pd);
	r->packets = r->port_packets = r->src_records = r->port_records = r->bad_records = 0;
}

void cp_resip_free(struct cp_resip *r)
{
	if (r == NULL)
		return;
	cp_resip_reset(r);
	free(r);
}

int cp_resip_reserve_src(struct cp_resip *r, uint32_t n)
{
	return rh_grow(&r->src, r->src.n + n) != 0 || rh_grow(&r->ad, r->ad.n + n) != 0 ?
		-ENOMEM : 0;
}

int cp_resip_reserve_recs(struct cp_resip *r, const struct obx_src_rec *rec, uint32_t n)
{
	uint32_t flagged = 0, new_src = 0, new_ad = 0;

	for (uint32_t i = 0; i < n; i++)
		flagged += (rec[i].flags & OBX_SRC_F_RESIP) || rec[i].resip_packets;
	if (cp_ht_has_room(&r->src, RH_T, flagged) && cp_ht_has_room(&r->ad, RH_T, flagged))
		return 0;
	/* an upper bound on the entries they add (a new source with records in several
	 * hours counts more than once, which only over-reserves) */
	for (uint32_t i = 0; i < n; i++) {
		if (!((rec[i].flags & OBX_SRC_F_RESIP) || rec[i].resip_packets))
			continue;
		new_src += rh_find(&r->src, rec[i].addr) == NULL;
		new_ad += rh_find(&r->ad, (uint64_t)rec[i].addr << 32 | (rec[i].hour / 24u)) == NULL;
	}
	return rh_grow(&r->src, r->src.n + new_src) != 0 || rh_grow(&r->ad, r->ad.n + new_ad) != 0 ?
		-ENOMEM : 0;
}

int cp_resip_reserve_port(struct cp_resip *r, uint32_t n)
{
	return rh_grow(&r->pd, r->pd.n + n) != 0 ? -ENOMEM : 0;
}

int cp_resip_reserve(struct cp_resip *r, uint32_t n)
{
	if (rh_grow(&r->src, r->src.n + n) != 0 || rh_grow(&r->ad, r->ad.n + n) != 0 ||
	    rh_grow(&r->pd, r->pd.n + n) != 0)
		return -ENOMEM;
	return 0;
}

int cp_resip_add_src(struct cp_resip *r, uint32_t addr, uint32_t hour, uint32_t flags,
                     uint64_t packets, uint64_t resip_packets)
{
	struct rh_ent *s, *d;
	bool nd, ns;

	if (!(flags & OBX_SRC_F_RESIP)) {
		if (resip_packets != 0) {
			r->bad_records++;
			return -EINVAL;
		}
		return 0;
	}
	r->src_records++;
	if (resip_packets == 0 || resip_packets > packets) {
		r->bad_records++;
		return -EINVAL;
	}
	/* room in both first (no-op after cp_resip_reserve()), so neither half is left
	 * without the other */
	if (rh_grow(&r->ad, r->ad.n + 1) != 0 || rh_grow(&r->src, r->src.n + 1) != 0)
		return -ENOMEM;
	d = rh_get(&r->ad, (uint64_t)addr << 32 | (hour / 24u), &nd);
	s = rh_get(&r->src, addr, &ns);
	d->v0 += resip_packets;
	s->v0 += resip_packets;
	if (nd)
		s->v1++;
	r->packets += resip_packets;
	return 0;
}

int cp_resip_add_port(struct cp_resip *r, uint8_t proto, uint16_t port, uint32_t day,
                      uint64_t packets)
{
	struct rh_ent *e;
	bool nw;

	if (packets == 0 || proto >= OBX_P_N ||
	    (port != 0 && proto != OBX_P_TCP && proto != OBX_P_UDP)) {
		r->bad_records++;
		return -EINVAL;
	}
	r->port_records++;
	e = rh_get(&r->pd, (uint64_t)proto << 48 | (uint64_t)port << 32 | day, &nw);
	if (e == NULL)
		return -ENOMEM;
	e->v0 += packets;
	r->port_packets += packets;
	return 0;
}

static int cmp_day(const void *a, const void *b)
{
	const struct cp_resip_day *x = a, *y = b;

	return CP_CMP(x->day, y->day);
}

int cp_resip_daily(const struct cp_resip *r, struct cp_resip_day **out, size_t *n)
{
	struct cp_ht days = { 0 };
	const struct rh_ent *a;
	struct cp_resip_day *d;
	size_t k = 0;

	*out = NULL;
	*n = 0;
	for (uint32_t it = 0; (a = rh_next(&r->ad, &it)) != NULL;) {
		struct rh_ent *e;
		bool nw;

		e = rh_get(&days, (uint32_t)a->key, &nw);
		if (e == NULL) {
			rh_free(&days);
			return -ENOMEM;
		}
		e->v0++;
		e->v1 += a->v0;
	}
	d = calloc(days.n ? days.n : 1, sizeof(*d));
	if (d == NULL) {
		rh_free(&days);
		return -ENOMEM;
	}
	for (uint32_t it = 0; (a = rh_next(&days, &it)) != NULL; k++) {
		d[k].day = (uint32_t)a->key;
		d[k].hosts = a->v0;
		d[k].packets = a->v1;
	}
	rh_free(&days);
	qsort(d, k, sizeof(*d), cmp_day);
	*out = d;
	*n = k;
	return 0;
}

static int cmp_src(const void *a, const void *b)
{
	const struct cp_resip_src *x = a, *y = b;

	/* packets descending, then address */
	return x->packets != y->packets ? CP_CMP(y->packets, x->packets) : CP_CMP(x->addr, y->addr);
}

static inline bool in_range(uint32_t d, uint32_t d0, uint32_t d1)
{
	return d >= d0 && d <= d1;
}

int cp_resip_top(const struct cp_resip *r, size_t n_max, struct cp_resip_src **out, size_t *n)
{
	return cp_resip_top_range(r, CP_RESIP_ALL, n_max, out, n);
}

/*
 * The (key, day) entries of src within days d0..d1 summed by key (the entry's key >> 32)
 * into dst: v0 the packets, v1 the days.  0, or -ENOMEM with dst freed.
 */
static int rh_sum_days(struct cp_ht *dst, const struct cp_ht *src, uint32_t d0, uint32_t d1)
{
	const struct rh_ent *a;

	for (uint32_t it = 0; (a = rh_next(src, &it)) != NULL;) {
		struct rh_ent *e;
		bool nw;

		if (!in_range((uint32_t)a->key, d0, d1))
			continue;
		e = rh_get(dst, a->key >> 32, &nw);
		if (e == NULL) {
			rh_free(dst);
			return -ENOMEM;
		}
		e->v0 += a->v0;
		e->v1++;
	}
	return 0;
}

int cp_resip_top_range(const struct cp_resip *r, uint32_t d0, uint32_t d1, size_t n_max,
                       struct cp_resip_src **out, size_t *n)
{
	const bool all = d0 == 0 && d1 == UINT32_MAX;
	struct cp_ht sub = { 0 };
	const struct cp_ht *src = &r->src;
	const struct rh_ent *a;
	struct cp_resip_src *s;
	size_t k = 0;

	*out = NULL;
	*n = 0;
	if (!all) {     /* per source within the range, from (addr, day) */
		if (rh_sum_days(&sub, &r->ad, d0, d1) != 0)
			return -ENOMEM;
		src = &sub;
	}
	s = calloc(src->n ? src->n : 1, sizeof(*s));
	if (s == NULL) {
		rh_free(&sub);
		return -ENOMEM;
	}
	for (uint32_t it = 0; (a = rh_next(src, &it)) != NULL; k++) {
		s[k].addr = (uint32_t)a->key;
		s[k].packets = a->v0;
		s[k].days = (uint32_t)a->v1;
		s[k].first_day = UINT32_MAX;
	}
	rh_free(&sub);
	qsort(s, k, sizeof(*s), cmp_src);
	if (n_max != 0 && k > n_max)
		k = n_max;
	/* first/last day of the sources kept: one pass over (addr, day) */
	if (k > 0 && k <= 4096) {
		for (uint32_t it = 0; (a = rh_next(&r->ad, &it)) != NULL;) {
			uint32_t ad = (uint32_t)(a->key >> 32), d = (uint32_t)a->key;

			if (!in_range(d, d0, d1))
				continue;
			for (size_t j = 0; j < k; j++)
				if (s[j].addr == ad) {
					if (d < s[j].first_day)
						s[j].first_day = d;
					if (d > s[j].last_day)
						s[j].last_day = d;
					break;
				}
		}
	}
	*out = s;
	*n = k;
	return 0;
}

int cp_resip_src_days(const struct cp_resip *r, uint32_t addr, uint32_t **days, size_t *n)
{
	const struct rh_ent *s = rh_find(&r->src, addr), *a;
	uint32_t *d;
	size_t k = 0;

	*days = NULL;
	*n = 0;
	if (s == NULL)
		return 0;
	d = calloc(s->v1 ? s->v1 : 1, sizeof(*d));
	if (d == NULL)
		return -ENOMEM;
	for (uint32_t it = 0; k < s->v1 && (a = rh_next(&r->ad, &it)) != NULL;)
		if ((uint32_t)(a->key >> 32) == addr)
			d[k++] = (uint32_t)a->key;
	qsort(d, k, sizeof(*d), cp_cmp_u32);
	*days = d;
	*n = k;
	return 0;
}

static int cmp_port(const void *a, const void *b)
{
	const struct cp_resip_port *x = a, *y = b;

	/* packets descending, then protocol and port */
	if (x->packets != y->packets)
		return CP_CMP(y->packets, x->packets);
	return x->proto != y->proto ? CP_CMP(x->proto, y->proto) : CP_CMP(x->port, y->port);
}

int cp_resip_ports(const struct cp_resip *r, size_t n_max, struct cp_resip_port **out,
                   size_t *n)
{
	return cp_resip_ports_range(r, CP_RESIP_ALL, n_max, out, n);
}

int cp_resip_ports_range(const struct cp_resip *r, uint32_t d0, uint32_t d1, size_t n_max,
                         struct cp_resip_port **out, size_t *n)
{
	struct cp_ht ports = { 0 };
	const struct rh_ent *a;
	struct cp_resip_port *p;
	size_t k = 0;

	*out = NULL;
	*n = 0;
	if (rh_sum_days(&ports, &r->pd, d0, d1) != 0)
		return -ENOMEM;
	p = calloc(ports.n ? ports.n : 1, sizeof(*p));
	if (p == NULL) {
		rh_free(&ports);
		return -ENOMEM;
	}
	for (uint32_t it = 0; (a = rh_next(&ports, &it)) != NULL; k++) {
		p[k].proto = (uint8_t)(a->key >> 16);
		p[k].port = (uint16_t)a->key;
		p[k].packets = a->v0;
		p[k].days = (uint32_t)a->v1;
	}
	rh_free(&ports);
	qsort(p, k, sizeof(*p), cmp_port);
	if (n_max != 0 && k > n_max)
		k = n_max;
	*out = p;
	*n = k;
	return 0;
}

uint64_t cp_resip_port_day(const struct cp_resip *r, uint8_t proto, uint16_t port, uint32_t day)
{
	const struct rh_ent *e = rh_find(&r->pd, (uint64_t)proto << 48 | (uint64_t)port << 32 | day);

	return e ? e->v0 : 0;
}

void cp_resip_totals(const struct cp_resip *r, struct cp_resip_totals *t)
{
	struct cp_resip_day *d;
	size_t n;

	memset(t, 0, sizeof(*t));
	t->packets = r->packets;
	t->hosts = r->src.n;
	t->host_days = r->ad.n;
	t->port_packets = r->port_packets;
	t->src_records = r->src_records;
	t->port_records = r->port_records;
	t->bad_records = r->bad_records;
	if (cp_resip_daily(r, &d, &n) == 0) {
		t->days = n;
		free(d);
	}
}

int cp_resip_totals_range(const struct cp_resip *r, uint32_t d0, uint32_t d1,
                          struct cp_resip_totals *t)
{
	const struct rh_ent *a;
	struct cp_resip_src *s;
	struct cp_resip_day *d;
	size_t n;

	cp_resip_totals(r, t);
	if (d0 == 0 && d1 == UINT32_MAX)
		return 0;
	if (cp_resip_top_range(r, d0, d1, 0, &s, &n) != 0)
		return -ENOMEM;
	t->hosts = n;
	t->packets = t->host_days = 0;
	for (size_t i = 0; i < n; i++) {
		t->packets += s[i].packets;
		t->host_days += s[i].days;
	}
	free(s);
	t->port_packets = 0;
	for (uint32_t it = 0; (a = rh_next(&r->pd, &it)) != NULL;)
		if (in_range((uint32_t)a->key, d0, d1))
			t->port_packets += a->v0;
	if (cp_resip_daily(r, &d, &n) != 0)
		return -ENOMEM;
	t->days = 0;
	for (size_t i = 0; i < n; i++)
		t->days += in_range(d[i].day, d0, d1);
	free(d);
	return 0;
}

size_t cp_resip_mem(const struct cp_resip *r)
{
	return cp_ht_bytes(&r->src, RH_T) + cp_ht_bytes(&r->ad, RH_T) + cp_ht_bytes(&r->pd, RH_T) +
	       sizeof(*r);
}

/* ---- snapshot: "RSP1", 5 counters, then per hash n and n x (key, v0, v1) ---- */

#define RSP_MAGIC 0x31505352u   /* "RSP1" */

int cp_resip_save(const struct cp_resip *r, uint8_t **buf, size_t *len)
{
	const struct cp_ht *hs[3] = { &r->src, &r->ad, &r->pd };
	const struct rh_ent *e;
	size_t sz = 4 + 5 * 8, off = 0;
	uint8_t *p;
	uint32_t magic = RSP_MAGIC;
	uint64_t cnt[5] = { r->packets, r->port_packets, r->src_records, r->port_records,
	                    r->bad_records };

	for (int k = 0; k < 3; k++)
		sz += 8 + hs[k]->n * sizeof(struct rh_ent);
	p = malloc(sz);
	if (p == NULL)
		return -ENOMEM;
	memcpy(p, &magic, 4);
	off = 4;
	memcpy(p + off, cnt, sizeof(cnt));
	off += sizeof(cnt);
	for (int k = 0; k < 3; k++) {
		uint64_t n = hs[k]->n;

		memcpy(p + off, &n, 8);
		off += 8;
		for (uint32_t it = 0; (e = rh_next(hs[k], &it)) != NULL; off += sizeof(*e))
			memcpy(p + off, e, sizeof(*e));
	}
	*buf = p;
	*len = off;
	return 0;
}

int cp_resip_load(struct cp_resip *r, const uint8_t *p, size_t len, char *err, size_t errlen)
{
	struct cp_ht *hs[3] = { &r->src, &r->ad, &r->pd };
	uint32_t magic;
	uint64_t cnt[5];
	size_t off = 0;

	cp_resip_reset(r);
	if (len < 4 + sizeof(cnt)) {
		snprintf(err, errlen, "resip section: %zu bytes, too short", len);
		return -EBADMSG;
	}
	memcpy(&magic, p, 4);
	if (magic != RSP_MAGIC) {
		snprintf(err, errlen, "resip section: bad magic 0x%08x", magic);
		return -EBADMSG;
	}
	memcpy(cnt, p + 4, sizeof(cnt));
	off = 4 + sizeof(cnt);
	for (int k = 0; k < 3; k++) {
		uint64_t n;

		if (len - off < 8)
			goto short_;
		memcpy(&n, p + off, 8);
		off += 8;
		if (n > (len - off) / sizeof(struct rh_ent))
			goto short_;
		if (rh_grow(hs[k], (size_t)n) != 0) {
			cp_resip_reset(r);
			snprintf(err, errlen, "resip section: out of memory");
			return -ENOMEM;
		}
		for (uint64_t i = 0; i < n; i++) {
			struct rh_ent e;
			struct rh_ent *d;
			bool nw;

			memcpy(&e, p + off, sizeof(e));
			off += sizeof(e);
			/* an empty entry would not even be in use: refuse it before inserting */
			d = e.v0 != 0 ? rh_get(hs[k], e.key, &nw) : NULL;
			if (d == NULL || !nw) {
				cp_resip_reset(r);
				snprintf(err, errlen, "resip section: %s entry %llu",
				         e.v0 != 0 && d == NULL ? "no memory for" : "duplicate or empty",
				         (unsigned long long)i);
				return e.v0 != 0 && d == NULL ? -ENOMEM : -EBADMSG;
			}
			d->v0 = e.v0;
			d->v1 = e.v1;
		}
	}
	if (off != len)
		goto short_;
	r->packets = cnt[0];
	r->port_packets = cnt[1];
	r->src_records = cnt[2];
	r->port_records = cnt[3];
	r->bad_records = cnt[4];
	return 0;
short_:
	cp_resip_reset(r);
	snprintf(err, errlen, "resip section: length %zu does not match its counts", len);
	return -EBADMSG;
}
