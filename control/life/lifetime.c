/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lifetime.c — SPEC.md C (lifetime.h explains input, grouping, memory and ageing).
 *
 * Table: a dense array of struct cp_life_src (so eviction can sample uniformly and
 * remove by moving the last element into the hole) and an index of uint32 positions
 * + 1 (0: a free slot) in the control plane's hash table (htab.h, external keys: the
 * address is in the array), load at most 1/2.
 *
 * The figures over the table are life_stats.c, its snapshot blob life_save.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lifetime_int.h"
#include "order.h"
#include "store.h"       /* cp_span_widen() */

#define CP_LIFE_SAMPLES 16u

static inline uint32_t cp_life_hash(uint32_t a)
{
	a ^= a >> 16; a *= 0x7feb352du;
	a ^= a >> 15; a *= 0x846ca68bu;
	a ^= a >> 16;
	return a;
}

/* The index's entries: a position + 1 into l->src; the key (an address) lives there. */
static inline const struct cp_life_src *cp_life_at_ix(const void *e, const void *ctx)
{
	const struct cp_life *l = ctx;
	uint32_t pos;

	memcpy(&pos, e, sizeof(pos));
	return &l->src[pos - 1];
}

static uint64_t cp_life_ix_hash(const void *key, const void *ctx)
{
	uint32_t a;

	(void)ctx;
	memcpy(&a, key, sizeof(a));
	return cp_life_hash(a);
}

static uint64_t cp_life_ix_entry_hash(const void *e, const void *ctx)
{
	return cp_life_hash(cp_life_at_ix(e, ctx)->addr);
}

static bool cp_life_ix_match(const void *e, const void *key, const void *ctx)
{
	uint32_t a;

	memcpy(&a, key, sizeof(a));
	return cp_life_at_ix(e, ctx)->addr == a;
}

static const struct cp_ht_type cp_life_ix_t = {
	.size = sizeof(uint32_t), .key_size = 0, .used_off = 0, .used_len = 4,
	.load_num = 1, .load_den = 2, .min_cap = 1024, .hash = cp_life_ix_hash,
	.match = cp_life_ix_match, .entry_hash = cp_life_ix_entry_hash,
};
#define IX_T (&cp_life_ix_t)

static uint64_t cp_life_rand(struct cp_life *l)
{
	uint64_t x = l->rng;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	l->rng = x;
	return x;
}

struct cp_life *cp_life_new(const struct cp_life_conf *c)
{
	struct cp_life *l;

	if (!c || c->gap_ns < 3600ull * NS_S || c->max_sources == 0) {
		errno = EINVAL;
		return NULL;
	}
	l = calloc(1, sizeof(*l));
	if (!l)
		return NULL;
	l->c = *c;
	cp_ht_init(&l->idx, l);
	if (cp_ht_reserve(&l->idx, IX_T, 1) != 0) {
		free(l);
		errno = ENOMEM;
		return NULL;
	}
	l->rng = 0x9e3779b97f4a7c15ull;
	return l;
}

static inline struct cp_life_group *cp_life_g(struct cp_life_src *s)
{
	return s->cap_groups ? s->g.many : &s->g.one;
}

const struct cp_life_group *cp_life_groups(const struct cp_life_src *s)
{
	return s->cap_groups ? s->g.many : &s->g.one;
}

static inline uint32_t *cp_life_t(struct cp_life_group *g)
{
	return g->cap_types ? g->t.p : g->t.in;
}

const uint32_t *cp_life_group_types(const struct cp_life_group *g)
{
	return g->cap_types ? g->t.p : g->t.in;
}

static void cp_life_group_release(struct cp_life *l, struct cp_life_group *g)
{
	if (g->cap_types) {
		l->heap_bytes -= (uint64_t)g->cap_types * 4;
		free(g->t.p);
	}
	g->cap_types = 0;
	g->n_types = 0;
}

static void cp_life_src_release(struct cp_life *l, struct cp_life_src *s)
{
	struct cp_life_group *g = cp_life_g(s);

	for (uint32_t i = 0; i < s->n_groups; i++)
		cp_life_group_release(l, &g[i]);
	if (s->cap_groups) {
		l->heap_bytes -= (uint64_t)s->cap_groups * sizeof(struct cp_life_group);
		free(s->g.many);
	}
	s->cap_groups = 0;
	s->n_groups = 0;
}

void cp_life_free(struct cp_life *l)
{
	if (!l)
		return;
	for (uint32_t i = 0; i < l->n; i++)
		cp_life_src_release(l, &l->src[i]);
	free(l->src);
	cp_ht_fini(&l->idx);
	free(l);
}

const struct cp_life_src *cp_life_find(const struct cp_life *l, uint32_t addr)
{
	const uint32_t *e = cp_ht_find(&l->idx, IX_T, &addr);

	return e == NULL ? NULL : &l->src[*e - 1];
}

static void cp_life_evict(struct cp_life *l)
{
	uint32_t victim = (uint32_t)(cp_life_rand(l) % l->n);
	uint64_t best = cp_life_src_last(&l->src[victim]);
	uint32_t last;

	/* a small table is scanned whole: exact LRU */
	for (uint32_t k = 1; k < (l->n <= CP_LIFE_SAMPLES ? l->n + 1 : CP_LIFE_SAMPLES); k++) {
		uint32_t c = l->n <= CP_LIFE_SAMPLES ? k - 1 : (uint32_t)(cp_life_rand(l) % l->n);
		uint64_t t = cp_life_src_last(&l->src[c]);

		if (t < best) {
			best = t;
			victim = c;
		}
	}
	/* the index entry goes while the victim's address is still in the array */
	cp_ht_delete(&l->idx, IX_T, cp_ht_find(&l->idx, IX_T, &l->src[victim].addr));
	cp_life_src_release(l, &l->src[victim]);
	last = l->n - 1;
	if (victim != last) {
		/* the last source moves into the hole; its index entry (found through the
		 * copy still at last) follows it */
		l->src[victim] = l->src[last];
		*(uint32_t *)cp_ht_find(&l->idx, IX_T, &l->src[victim].addr) = victim + 1;
	}
	l->n--;
	l->st.n_evicted++;
}

/* Merge sorted b (nb) into g's sorted type set, at most CP_LIFE_MAX_TYPES. */
static int cp_life_types_merge(struct cp_life *l, struct cp_life_src *s, struct cp_life_group *g,
                               const uint32_t *b, uint32_t nb)
{
	uint32_t *a = cp_life_t(g), na = g->n_types, n = 0, i = 0, j = 0, cap, *out;
	uint32_t tmp_in[2];
	uint64_t dropped = 0;

	/* the common case (one EVENT record): binary search, insert in place when it fits */
	if (nb == 1) {
		uint32_t lo = 0, hi = na;

		while (lo < hi) {
			uint32_t mid = (lo + hi) / 2;

			if (a[mid] < b[0])
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo < na && a[lo] == b[0])
			return 0;
		if (na >= CP_LIFE_MAX_TYPES) {
			l->st.n_types_truncated++;
			s->flags |= CP_LIFE_F_TRUNC;
			return 0;
		}
		if (na < (g->cap_types ? g->cap_types : 2) && na < CP_LIFE_MAX_TYPES) {
			memmove(&a[lo + 1], &a[lo], (size_t)(na - lo) * 4);
			a[lo] = b[0];
			g->n_types = na + 1;
			return 0;
		}
	}

	/* count the union */
	while (i < na || j < nb) {
		if (j == nb || (i < na && a[i] < b[j]))
			i++;
		else if (i == na || b[j] < a[i])
			j++;
		else {
			i++;
			j++;
		}
		n++;
	}
	if (n == na)
		return 0;
	if (n > CP_LIFE_MAX_TYPES) {
		dropped = n - CP_LIFE_MAX_TYPES;
		n = CP_LIFE_MAX_TYPES;
	}
	if (n <= 2 && !g->cap_types) {
		out = tmp_in;
		cap = 0;
	} else if (g->cap_types && n <= g->cap_types) {
		out = malloc((size_t)n * 4);   /* merge needs a second buffer */
		cap = g->cap_types;
		if (!out)
			return -ENOMEM;
	} else {
		/* geometric, so one-at-a-time inserts do not reallocate every time */
		cap = n < 8 ? 8 : n + n / 2;
		if (cap > CP_LIFE_MAX_TYPES)
			cap = n > CP_LIFE_MAX_TYPES ? n : CP_LIFE_MAX_TYPES;
		out = malloc((size_t)cap * 4);
		if (!out)
			return -ENOMEM;
	}
	{
		uint32_t k = 0;

		i = j = 0;
		while ((i < na || j < nb) && k < n) {
			if (j == nb || (i < na && a[i] < b[j]))
				out[k++] = a[i++];
			else if (i == na || b[j] < a[i])
				out[k++] = b[j++];
			else {
				out[k++] = a[i++];
				j++;
			}
		}
	}
	if (cap == 0) {
		memcpy(g->t.in, out, n * 4);
	} else if (g->cap_types && cap == g->cap_types) {
		memcpy(g->t.p, out, (size_t)n * 4);
		free(out);
	} else {
		if (g->cap_types) {
			l->heap_bytes -= (uint64_t)g->cap_types * 4;
			free(g->t.p);
		}
		g->t.p = out;
		g->cap_types = cap;
		l->heap_bytes += (uint64_t)cap * 4;
	}
	g->n_types = n;
	if (dropped) {
		l->st.n_types_truncated += dropped;
		s->flags |= CP_LIFE_F_TRUNC;
	}
	return 0;
}

/* g takes in o's span, events and sensors (its types are merged apart). */
static void cp_life_group_fold(struct cp_life_group *g, const struct cp_life_group *o)
{
	cp_span_widen(&g->first_ns, &g->last_ns, o->first_ns, o->last_ns);
	g->events += o->events;
	g->sensor_mask |= o->sensor_mask;
}

/* Merge group o (types sorted) into g. */
static int cp_life_group_absorb(struct cp_life *l, struct cp_life_src *s, struct cp_life_group *g,
                                const struct cp_life_group *o)
{
	int ret = cp_life_types_merge(l, s, g, cp_life_group_types(o), o->n_types);

	if (ret)
		return ret;
	cp_life_group_fold(g, o);
	return 0;
}

static int cp_life_groups_reserve(struct cp_life *l, struct cp_life_src *s, uint32_t need)
{
	struct cp_life_group *ng;
	uint32_t cap;

	if (need <= (s->cap_groups ? s->cap_groups : 1))
		return 0;
	cap = s->cap_groups ? s->cap_groups * 2 : 2;
	while (cap < need)
		cap *= 2;
	if (s->cap_groups) {
		ng = realloc(s->g.many, (size_t)cap * sizeof(*ng));
		if (!ng)
			return -ENOMEM;
		l->heap_bytes -= (uint64_t)s->cap_groups * sizeof(*ng);
	} else {
		ng = malloc((size_t)cap * sizeof(*ng));
		if (!ng)
			return -ENOMEM;
		ng[0] = s->g.one;
		/* inline types of the copied group stay inline (the union is copied) */
	}
	s->g.many = ng;
	s->cap_groups = cap;
	l->heap_bytes += (uint64_t)cap * sizeof(*ng);
	return 0;
}

int cp_life_has_room(const struct cp_life *l, uint32_t n)
{
	uint64_t want = (uint64_t)l->n + n;

	if (want > l->c.max_sources)
		want = l->c.max_sources;
	return want <= l->cap && cp_ht_has_room(&l->idx, IX_T, (uint32_t)(want - l->idx.n));
}

int cp_life_reserve(struct cp_life *l, uint32_t n)
{
	uint64_t want = (uint64_t)l->n + n, need;

	if (want > l->c.max_sources)
		want = l->c.max_sources;
	need = want;
	if (want > l->cap) {
		/* geometric: a consumer reserves every epoch, which must not copy the table
		 * every epoch */
		uint64_t grow = (uint64_t)l->cap + l->cap / 2;
		struct cp_life_src *ns;

		if (want < grow)
			want = grow < l->c.max_sources ? grow : l->c.max_sources;
		ns = realloc(l->src, (size_t)want * sizeof(*ns));
		if (!ns)
			return -ENOMEM;
		l->src = ns;
		l->cap = (uint32_t)want;
	}
	/* the index grows geometrically on its own: reserve what can be added, not the
	 * array's slack (that would double the index a step early) */
	return need > l->idx.n ? cp_ht_reserve(&l->idx, IX_T, (uint32_t)(need - l->idx.n)) : 0;
}

int cp_life_add(struct cp_life *l, const struct cp_life_hour *h)
{
	struct cp_life_src *s;
	struct cp_life_group a, *g;
	uint32_t types_buf[64], *types = types_buf, nt = 0, *ix;
	uint64_t G = l->c.gap_ns;
	int32_t lo, hi;
	int ret = 0;

	if (h->first_ns > h->last_ns || (h->n_types && !h->types)) {
		l->st.n_bad++;
		return -EINVAL;
	}
	/* the aggregate as a group with a sorted, unique type set */
	if (h->n_types > 64) {
		types = malloc((size_t)h->n_types * 4);
		if (!types)
			return -ENOMEM;
	}
	if (h->n_types) {
		memcpy(types, h->types, (size_t)h->n_types * 4);
		nt = cp_sort_unique_u32(types, h->n_types);
	}
	memset(&a, 0, sizeof(a));
	a.first_ns = h->first_ns;
	a.last_ns = h->last_ns;
	a.events = h->events;
	a.sensor_mask = h->sensor_mask;

	ix = cp_ht_find(&l->idx, IX_T, &h->addr);
	if (ix == NULL) {
		bool isnew;

		if (l->n >= l->c.max_sources)
			cp_life_evict(l);
		if (l->n == l->cap) {
			uint32_t cap = l->cap ? l->cap + l->cap / 2 : 1024;
			struct cp_life_src *ns;

			if (cap > l->c.max_sources)
				cap = l->c.max_sources;
			ns = realloc(l->src, (size_t)cap * sizeof(*ns));
			if (!ns) {
				ret = -ENOMEM;
				goto out;
			}
			l->src = ns;
			l->cap = cap;
		}
		/* room in the index first: once the source is built, its insert cannot fail */
		if ((ret = cp_ht_reserve(&l->idx, IX_T, 1)) != 0)
			goto out;
		s = &l->src[l->n];
		memset(s, 0, sizeof(*s));
		s->addr = h->addr;
		s->n_groups = 1;
		s->g.one = a;
		s->cat_mask = h->cat_mask;
		if (nt && (ret = cp_life_types_merge(l, s, &s->g.one, types, nt)) != 0)
			goto out;
		ix = cp_ht_insert(&l->idx, IX_T, &h->addr, &isnew);
		*ix = ++l->n;      /* position + 1 */
		l->st.n_adds++;
		goto out;
	}
	s = &l->src[*ix - 1];
	s->cat_mask |= h->cat_mask;
	g = cp_life_g(s);
	/* groups connected to a: f < g.last + G and g.first < l + G; they are contiguous */
	hi = (int32_t)s->n_groups - 1;
	while (hi >= 0 && g[hi].first_ns >= a.last_ns + G)
		hi--;
	lo = hi;
	while (lo >= 0 && a.first_ns < g[lo].last_ns + G)
		lo--;
	lo++;
	if (lo > hi) {
		/* a new group at position lo */
		if (s->n_groups >= CP_LIFE_MAX_GROUPS) {
			/* fold into the nearest neighbour; the source leaves continuity */
			int32_t k = lo >= (int32_t)s->n_groups ? (int32_t)s->n_groups - 1 :
			            (lo == 0 ? 0 : (a.first_ns - g[lo - 1].last_ns <
			                            g[lo].first_ns - a.last_ns ? lo - 1 : lo));
			struct cp_life_group tmp = a;

			tmp.n_types = nt <= 2 ? nt : 0;
			if (nt <= 2)
				memcpy(tmp.t.in, types, nt * 4);
			if ((ret = cp_life_group_absorb(l, s, &g[k], &tmp)) == 0 && nt > 2)
				ret = cp_life_types_merge(l, s, &g[k], types, nt);
			s->flags |= CP_LIFE_F_CAPPED;
			l->st.n_groups_capped++;
			goto added;
		}
		if ((ret = cp_life_groups_reserve(l, s, s->n_groups + 1)) != 0)
			goto out;
		g = cp_life_g(s);
		memmove(&g[lo + 1], &g[lo], (size_t)(s->n_groups - (uint32_t)lo) * sizeof(*g));
		g[lo] = a;
		s->n_groups++;
		if (nt && (ret = cp_life_types_merge(l, s, &g[lo], types, nt)) != 0) {
			/* undo: keep the table consistent */
			memmove(&g[lo], &g[lo + 1], (size_t)(s->n_groups - 1 - (uint32_t)lo) * sizeof(*g));
			s->n_groups--;
		}
		goto added;
	}
	/* merge a and groups lo+1..hi into g[lo] */
	if (nt && (ret = cp_life_types_merge(l, s, &g[lo], types, nt)) != 0)
		goto out;
	cp_life_group_fold(&g[lo], &a);
	for (int32_t k = lo + 1; k <= hi; k++) {
		if ((ret = cp_life_group_absorb(l, s, &g[lo], &g[k])) != 0)
			goto out;   /* memory: the bridged groups stay apart, nothing lost */
		cp_life_group_release(l, &g[k]);
	}
	if (hi > lo) {
		memmove(&g[lo + 1], &g[hi + 1], (size_t)(s->n_groups - (uint32_t)hi - 1) * sizeof(*g));
		s->n_groups -= (uint32_t)(hi - lo);
	}
added:
	l->st.n_adds++;
out:
	if (types != types_buf)
		free(types);
	return ret;
}

void cp_life_get_stats(const struct cp_life *l, struct cp_life_stats *s)
{
	*s = l->st;
	s->n_sources = l->n;
	s->mem_bytes = (uint64_t)l->cap * sizeof(struct cp_life_src) +
	               cp_ht_bytes(&l->idx, IX_T) + l->heap_bytes + sizeof(*l);
}

const struct cp_life_conf *cp_life_conf_get(const struct cp_life *l)
{
	return &l->c;
}

uint64_t cp_life_src_first(const struct cp_life_src *s)
{
	return cp_life_groups(s)[0].first_ns;
}

uint64_t cp_life_src_last(const struct cp_life_src *s)
{
	return cp_life_groups(s)[s->n_groups - 1].last_ns;
}

uint64_t cp_life_src_events(const struct cp_life_src *s)
{
	const struct cp_life_group *g = cp_life_groups(s);
	uint64_t e = 0;

	for (uint32_t i = 0; i < s->n_groups; i++)
		e += g[i].events;
	return e;
}

uint64_t cp_life_src_sensors(const struct cp_life_src *s)
{
	const struct cp_life_group *g = cp_life_groups(s);
	uint64_t m = 0;

	for (uint32_t i = 0; i < s->n_groups; i++)
		m |= g[i].sensor_mask;
	return m;
}

unsigned cp_life_bucket(uint64_t p)
{
	if (p < 60 * NS_S)
		return 0;
	if (p < 86400 * NS_S)
		return 1;
	if (p < 30 * 86400 * NS_S)
		return 2;
	return 3;
}

uint64_t cp_life_n_sources(const struct cp_life *l)
{
	return l->n;
}

const struct cp_life_src *cp_life_at(const struct cp_life *l, uint64_t i)
{
	return i < l->n ? &l->src[i] : NULL;
}

