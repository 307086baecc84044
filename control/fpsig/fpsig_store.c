/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fpsig_store.c — the bounded table of SYN signatures (fpsig_store.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fpsig_store.h"

#define FPSIG_HLL_MAX_RANK 59u      /* obx_fpsig_hll_add's largest rank */
#define FPSIG_SNAP_MAGIC   0x47495346u   /* "FSIG" */
#define FPSIG_SNAP_VERSION 1u

_Static_assert(sizeof(struct cp_fpsig_ent) == 128, "no padding in a signature entry (snapshot)");

static uint64_t fpsig_key_hash(const void *key, const void *ctx)
{
	(void)ctx;
	return obx_fpsig_hash(key);
}

static const struct cp_ht_type cp_fpsig_ht_type = {
	.size = sizeof(struct cp_fpsig_ent), .key_size = sizeof(struct obx_fpsig_key),
	.used_off = offsetof(struct cp_fpsig_ent, syns), .used_len = 8,
	.load_num = 7, .load_den = 10, .min_cap = 64, .hash = fpsig_key_hash,
};
#define TT (&cp_fpsig_ht_type)

int cp_fpsig_store_init(struct cp_fpsig_store *s, uint32_t max)
{
	memset(s, 0, sizeof(*s));
	cp_ht_init(&s->ht, NULL);
	s->max = max;
	return max == 0 ? 0 : cp_ht_reserve(&s->ht, TT, max);
}

void cp_fpsig_store_fini(struct cp_fpsig_store *s)
{
	free(s->pend);
	free(s->cand);
	free(s->gone);
	cp_ht_fini(&s->ht);
	memset(s, 0, sizeof(*s));
}

void cp_fpsig_store_clear(struct cp_fpsig_store *s)
{
	cp_ht_clear(&s->ht, TT);
	memset(&s->st, 0, sizeof(s->st));
}

static int key_ok(const struct obx_fpsig_key *k)
{
	if ((k->flags & ~(OBX_FPSIG_F_MSS | OBX_FPSIG_F_WS | OBX_FPSIG_F_BAD)) != 0)
		return 0;
	if (k->n_kinds > OBX_FPSIG_KINDS || k->n_eol > OBX_FPSIG_KINDS ||
	    (unsigned)k->n_kinds + k->n_eol > OBX_FPSIG_KINDS)
		return 0;
	if (!(k->flags & OBX_FPSIG_F_MSS) && k->mss != 0)
		return 0;
	if (!(k->flags & OBX_FPSIG_F_WS) && k->ws != 0)
		return 0;
	for (unsigned i = k->n_kinds; i < OBX_FPSIG_KINDS; i++)
		if (k->kinds[i] != 0)
			return 0;
	return 1;
}

/* Every register at most the largest rank, and one set at least: a record with SYNs
 * had a source added (obs_fpsig_add), whose rank is 1 or more. */
static int hll_ok(const uint8_t *h)
{
	unsigned set = 0;

	for (unsigned i = 0; i < OBX_FPSIG_HLL; i++) {
		if (h[i] > FPSIG_HLL_MAX_RANK)
			return 0;
		set |= h[i];
	}
	return set != 0;
}

int cp_fpsig_rec_ok(const struct obx_fpsig_rec *r)
{
	if (r->syns == 0)
		return 1;
	return key_ok(&r->key) && r->sig == obx_fpsig_hash(&r->key) && hll_ok(r->hll);
}

/* A held entry or a new record, ranked by SYNs when the table is full. */
struct cp_fpsig_cand {
	uint64_t syns;
	uint32_t sig;
	uint32_t held;                      /* 1: ent, 0: rec */
	union {
		const struct cp_fpsig_ent *ent;
		const struct obx_fpsig_rec *rec;
	} u;
};

int cp_fpsig_store_reserve(struct cp_fpsig_store *s, uint32_t n)
{
	void *p;

	if (n <= s->pend_cap)
		return 0;
	if ((p = realloc(s->pend, (size_t)n * sizeof(*s->pend))) == NULL)
		return -ENOMEM;
	s->pend = p;
	if ((p = realloc(s->cand, ((size_t)s->max + n) * sizeof(*s->cand))) == NULL)
		return -ENOMEM;
	s->cand = p;
	if ((p = realloc(s->gone, (size_t)n * sizeof(*s->gone))) == NULL)
		return -ENOMEM;
	s->gone = p;
	s->pend_cap = n;
	return 0;
}

static struct cp_fpsig_ent *smallest(const struct cp_fpsig_store *s)
{
	struct cp_fpsig_ent *e, *m = NULL;
	uint32_t it = 0;

	while ((e = cp_ht_next(&s->ht, TT, &it)) != NULL)
		if (m == NULL || e->syns < m->syns || (e->syns == m->syns && e->sig > m->sig))
			m = e;
	return m;
}

static void add_to(struct cp_fpsig_ent *e, const struct obx_fpsig_rec *r)
{
	e->syns += r->syns;
	for (unsigned i = 0; i < OBX_FPSIG_HLL; i++)
		if (e->hll[i] < r->hll[i])
			e->hll[i] = r->hll[i];
}

/* r into the table (its key absent or present); the table has room, or r's key is in. */
static void put(struct cp_fpsig_store *s, const struct obx_fpsig_rec *r)
{
	bool isnew;
	struct cp_fpsig_ent *e = cp_ht_insert(&s->ht, TT, &r->key, &isnew);

	if (e == NULL) {                    /* room reserved at init: never */
		s->st.evicted++;
		s->st.evicted_syns += r->syns;
		return;
	}
	if (isnew) {
		e->key = r->key;
		e->sig = r->sig;
	}
	add_to(e, r);
}

/* One record; false: its key is new and the table full (nothing done). */
static bool merge_held(struct cp_fpsig_store *s, const struct obx_fpsig_rec *r)
{
	struct cp_fpsig_ent *e = cp_ht_find(&s->ht, TT, &r->key);

	if (e != NULL) {
		add_to(e, r);
		return true;
	}
	if (s->ht.n >= s->max)
		return false;
	put(s, r);
	return true;
}

static int by_cand(const void *a, const void *b)
{
	const struct cp_fpsig_cand *x = a, *y = b;

	if (x->syns != y->syns)
		return x->syns > y->syns ? -1 : 1;
	return (x->sig > y->sig) - (x->sig < y->sig);
}

/* The held entries and the np new records ranked by SYNs; past max, out. */
static void settle(struct cp_fpsig_store *s, uint32_t np)
{
	struct cp_fpsig_cand *c = s->cand;
	struct cp_fpsig_ent *e;
	uint32_t it = 0, nc = 0, ngone = 0;

	while ((e = cp_ht_next(&s->ht, TT, &it)) != NULL)
		c[nc++] = (struct cp_fpsig_cand){ e->syns, e->sig, 1, { .ent = e } };
	for (uint32_t i = 0; i < np; i++)
		c[nc++] = (struct cp_fpsig_cand){ s->pend[i]->syns, s->pend[i]->sig, 0,
		                                  { .rec = s->pend[i] } };
	qsort(c, nc, sizeof(*c), by_cand);
	/* out: the ranks past max (held ones deleted by key: a delete moves entries) */
	for (uint32_t i = s->max; i < nc; i++) {
		s->st.evicted++;
		s->st.evicted_syns += c[i].syns;
		if (c[i].held)
			s->gone[ngone++] = c[i].u.ent->key;
	}
	for (uint32_t i = 0; i < ngone; i++)
		cp_ht_delete(&s->ht, TT, cp_ht_find(&s->ht, TT, &s->gone[i]));
	for (uint32_t i = 0; i < s->max && i < nc; i++)
		if (!c[i].held)
			put(s, c[i].u.rec);
}

/* Without room to rank: r (a new key, the table full) against the smallest held one. */
static void evict_one(struct cp_fpsig_store *s, const struct obx_fpsig_rec *r)
{
	struct cp_fpsig_ent *m = smallest(s);

	s->st.evicted++;
	if (m == NULL || m->syns > r->syns || (m->syns == r->syns && m->sig < r->sig)) {
		s->st.evicted_syns += r->syns;      /* r is the smallest */
		return;
	}
	s->st.evicted_syns += m->syns;
	cp_ht_delete(&s->ht, TT, m);
	put(s, r);
}

void cp_fpsig_store_merge(struct cp_fpsig_store *s, const struct obx_fpsig_rec *r, uint32_t n)
{
	uint32_t np = 0;

	for (uint32_t i = 0; i < n; i++) {
		if (r[i].syns == 0)
			continue;
		if (!cp_fpsig_rec_ok(&r[i])) {
			s->st.bad_records++;
			continue;
		}
		s->st.records++;
		s->st.syns += r[i].syns;
		if (merge_held(s, &r[i]))
			continue;
		if (np < s->pend_cap)
			s->pend[np++] = &r[i];
		else
			evict_one(s, &r[i]);
	}
	if (np != 0)
		settle(s, np);
}

static int by_syns(const void *a, const void *b)
{
	const struct cp_fpsig_ent *x = *(const struct cp_fpsig_ent *const *)a;
	const struct cp_fpsig_ent *y = *(const struct cp_fpsig_ent *const *)b;

	if (x->syns != y->syns)
		return x->syns > y->syns ? -1 : 1;
	return (x->sig > y->sig) - (x->sig < y->sig);
}

long cp_fpsig_store_top(const struct cp_fpsig_store *s, size_t n,
                        const struct cp_fpsig_ent ***out)
{
	const struct cp_fpsig_ent **v = malloc(((size_t)s->ht.n + 1) * sizeof(*v));
	struct cp_fpsig_ent *e;
	uint32_t it = 0;
	size_t k = 0;

	if (v == NULL)
		return -ENOMEM;
	while ((e = cp_ht_next(&s->ht, TT, &it)) != NULL)
		v[k++] = e;
	qsort(v, k, sizeof(*v), by_syns);
	*out = v;
	return (long)(k < n ? k : n);
}

/* The section: magic, version, the count, the counters, then the entries. */
struct fpsig_snap_head {
	uint32_t magic, version, n, pad;
	struct cp_fpsig_stats st;
};
_Static_assert(sizeof(struct fpsig_snap_head) == 56, "no padding in the section head");

int cp_fpsig_store_save(const struct cp_fpsig_store *s, uint8_t **buf, size_t *len)
{
	struct fpsig_snap_head h = { FPSIG_SNAP_MAGIC, FPSIG_SNAP_VERSION, s->ht.n, 0, s->st };
	size_t sz = sizeof(h) + (size_t)s->ht.n * sizeof(struct cp_fpsig_ent);
	uint8_t *b = malloc(sz), *p;
	struct cp_fpsig_ent *e;
	uint32_t it = 0;

	if (b == NULL)
		return -ENOMEM;
	memcpy(b, &h, sizeof(h));
	p = b + sizeof(h);
	while ((e = cp_ht_next(&s->ht, TT, &it)) != NULL) {
		memcpy(p, e, sizeof(*e));
		p += sizeof(*e);
	}
	*buf = b;
	*len = sz;
	return 0;
}

#define BAD(...) do { snprintf(err, errlen, __VA_ARGS__); rc = -EBADMSG; goto out; } while (0)

int cp_fpsig_store_load(struct cp_fpsig_store *s, const void *data, size_t len,
                        char *err, size_t errlen)
{
	struct fpsig_snap_head h;
	struct cp_fpsig_store t;
	const uint8_t *p = data;
	int rc;

	if (len < sizeof(h)) {
		snprintf(err, errlen, "fpsig section: %zu bytes, shorter than its head", len);
		return -EBADMSG;
	}
	memcpy(&h, p, sizeof(h));
	if (h.magic != FPSIG_SNAP_MAGIC || h.version != FPSIG_SNAP_VERSION) {
		snprintf(err, errlen, "fpsig section: magic %#x version %u (want %#x version %u)",
		         h.magic, h.version, FPSIG_SNAP_MAGIC, FPSIG_SNAP_VERSION);
		return -EBADMSG;
	}
	if ((len - sizeof(h)) % sizeof(struct cp_fpsig_ent) != 0 ||
	    (len - sizeof(h)) / sizeof(struct cp_fpsig_ent) != h.n) {
		snprintf(err, errlen, "fpsig section: %zu bytes for %u signatures", len, h.n);
		return -EBADMSG;
	}
	if (h.n > s->max) {
		snprintf(err, errlen, "fpsig section: %u signatures, more than the table's %u",
		         h.n, s->max);
		return -EBADMSG;
	}
	rc = cp_fpsig_store_init(&t, s->max);
	if (rc != 0)
		return rc;
	for (uint32_t i = 0; i < h.n; i++) {
		struct cp_fpsig_ent e, *d;
		bool isnew;

		memcpy(&e, p + sizeof(h) + (size_t)i * sizeof(e), sizeof(e));
		if (e.syns == 0 || e.pad != 0 || !key_ok(&e.key) || e.sig != obx_fpsig_hash(&e.key) ||
		    !hll_ok(e.hll))
			BAD("fpsig section: signature %u is malformed", i);
		d = cp_ht_insert(&t.ht, TT, &e.key, &isnew);
		if (d == NULL) {
			rc = -ENOMEM;
			goto out;
		}
		if (!isnew)
			BAD("fpsig section: signature %u repeats an earlier key", i);
		*d = e;
	}
	t.st = h.st;
	cp_fpsig_store_fini(s);
	*s = t;
	return 0;
out:
	cp_fpsig_store_fini(&t);
	return rc;
}
