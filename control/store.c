/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * store.c — the period store (store.h).
 *
 * The sources are dense records (first-seen order, grown by doubling: the capacity past
 * src.n is never touched, so it costs address space, not memory) and an index on
 * obx_src_hash(), the same hash the dataplane slots use: the control plane's hash table
 * (htab.h) of 8-byte (address, id + 1) entries, grown by doubling at 70 % load.  A hit
 * compares the address in the index and touches its record once.  Growth happens before
 * an epoch is merged (cp_store_src_reserve), never half-way through one, so a failed
 * allocation leaves the store exactly as it was and the slot simply stays READY.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "grow.h"
#include "order.h"
#include "store.h"

static uint64_t cp_src_hash(const void *key, const void *ctx)
{
	uint32_t a;

	(void)ctx;
	memcpy(&a, key, sizeof(a));
	return obx_src_hash(a);
}

/* 7/10 load keeps linear-probe chains short (Knuth: ~2 probes per hit). */
const struct cp_ht_type cp_src_ht_type = {
	.size = sizeof(struct cp_src_ix), .key_size = sizeof(uint32_t),
	.used_off = offsetof(struct cp_src_ix, id1), .used_len = 4,
	.load_num = 7, .load_den = 10, .min_cap = 1024, .hash = cp_src_hash,
};
#define SRC_T (&cp_src_ht_type)
_Static_assert(offsetof(struct cp_src_ix, addr) == 0, "the address leads the index entry");

void cp_counters_add(struct obx_counters *dst, const struct obx_counters *src)
{
	/* all uint64_t by construction (exchange.h); summing as an array stays right when
	 * fields are appended */
	uint64_t *d = (uint64_t *)dst;
	const uint64_t *a = (const uint64_t *)src;

	_Static_assert(sizeof(struct obx_counters) % sizeof(uint64_t) == 0,
	               "obx_counters is an array of uint64_t");
	for (size_t i = 0; i < sizeof(*dst) / sizeof(uint64_t); i++)
		d[i] += a[i];
}

int cp_store_init(struct cp_store *s)
{
	memset(s, 0, sizeof(*s));
	cp_ht_init(&s->src, NULL);
	cp_tools_init(&s->tools);
	return cp_store_src_reserve(s, 1);
}

void cp_store_fini(struct cp_store *s)
{
	cp_ht_fini(&s->src);
	cp_tools_fini(&s->tools);
	free(s->src_recs);
	free(s->boots);
	memset(s, 0, sizeof(*s));
}

void cp_store_reset(struct cp_store *s)
{
	struct cp_ht src = s->src;
	struct cp_src *recs = s->src_recs;
	size_t recs_cap = s->src_recs_cap;
	struct cp_boot *boots = s->boots;
	uint32_t cap_boots = s->cap_boots;
	struct cp_tools tools = s->tools;

	cp_ht_clear(&src, SRC_T);
	cp_tools_clear(&tools);
	memset(s, 0, sizeof(*s));
	s->src = src;
	s->src_recs = recs;
	s->src_recs_cap = recs_cap;
	s->boots = boots;
	s->cap_boots = cap_boots;
	s->tools = tools;
}

struct cp_boot *cp_store_boot(struct cp_store *s, uint64_t boot_id, bool create)
{
	struct cp_boot *b;

	for (uint32_t i = 0; i < s->n_boots; i++)
		if (s->boots[i].boot_id == boot_id)
			return &s->boots[i];
	if (!create)
		return NULL;
	{
		size_t cap = s->cap_boots;

		b = cp_grow(s->boots, &cap, (size_t)s->n_boots + 1, sizeof(*b), 8);
		if (b == NULL || cap > UINT32_MAX) {
			errno = ENOMEM;
			return NULL;
		}
		s->boots = b;
		s->cap_boots = (uint32_t)cap;
	}
	b = &s->boots[s->n_boots++];
	memset(b, 0, sizeof(*b));
	b->boot_id = boot_id;
	return b;
}

bool cp_store_applied(const struct cp_store *s, uint64_t boot_id, uint32_t worker, uint64_t seq)
{
	const struct cp_boot *b = cp_store_boot((struct cp_store *)s, boot_id, false);

	/* seq is strictly increasing per worker and the drain applies a worker's epochs in
	 * seq order (drain.c), so "at or below the last applied" is exactly "applied". */
	return b != NULL && worker < OBX_MAX_WORKERS && seq <= b->last_seq[worker];
}

int cp_store_src_reserve(struct cp_store *s, uint32_t n)
{
	size_t cap = s->src_recs_cap;
	struct cp_src *p;

	if ((uint64_t)s->src.n + n >= UINT32_MAX)
		return -ENOMEM;
	/* the records first: a failed index growth then leaves only unused capacity */
	p = cp_grow(s->src_recs, &cap, (size_t)s->src.n + n, sizeof(*p), 1024);
	if (p == NULL)
		return -ENOMEM;
	s->src_recs = p;
	s->src_recs_cap = cap;
	return cp_ht_reserve(&s->src, SRC_T, n);
}

size_t cp_store_src_bytes(const struct cp_store *s)
{
	return cp_ht_bytes(&s->src, SRC_T) + s->src_recs_cap * sizeof(struct cp_src);
}

uint32_t cp_store_src_id(const struct cp_store *s, uint32_t addr)
{
	const struct cp_src_ix *x = cp_ht_find(&s->src, SRC_T, &addr);

	return x != NULL ? x->id1 - 1 : UINT32_MAX;
}

const struct cp_src *cp_store_src_next(const struct cp_store *s, uint32_t *it)
{
	return *it < s->src.n ? &s->src_recs[(*it)++] : NULL;
}

uint32_t cp_store_src_cap(const struct cp_store *s)
{
	return s->src.cap;
}

/*
 * An upper bound on the sources an epoch's records add: all of them if they fit anyway,
 * else those not in the table yet (a read-only probe each; a new source with records in
 * several hours counts more than once, which only over-reserves).  Reserving for every
 * record doubled the table whenever an epoch of known sources came in (a 1 M-source run
 * ended at 4 M slots, 192 MiB, 25 % full).
 */
static uint32_t cp_src_new_upper(const struct cp_store *s, const struct cp_tab *src)
{
	const struct obx_src_rec *r = src->recs;
	uint32_t n = 0;

	if (cp_ht_has_room(&s->src, SRC_T, src->n) && (size_t)s->src.n + src->n <= s->src_recs_cap)
		return src->n;
	for (uint32_t i = 0; i < src->n; i++)
		if (r[i].packets != 0 && cp_store_src_find(s, r[i].addr) == NULL)
			n++;
	return n;
}

/* Merge into a table that is known to have room. */
static void cp_src_merge_nogrow(struct cp_store *s, const struct cp_src *in)
{
	bool isnew = false;
	/* room was reserved (index and records): the insert neither grows nor fails */
	struct cp_src_ix *x = cp_ht_insert(&s->src, SRC_T, &in->addr, &isnew);
	struct cp_src *r;

	if (isnew) {
		/* cp_ht_insert counted it: src.n - 1 is the new dense id */
		x->addr = in->addr;
		x->id1 = s->src.n;
		s->src_recs[s->src.n - 1] = *in;
		return;
	}
	r = &s->src_recs[x->id1 - 1];
	cp_span_widen(&r->first_ns, &r->last_ns, in->first_ns, in->last_ns);
	r->packets += in->packets;
	r->sensor_mask |= in->sensor_mask;
	r->flags |= in->flags;
	r->resip_packets += in->resip_packets;
}

int cp_store_src_merge(struct cp_store *s, const struct cp_src *r)
{
	int ret;

	if (r->packets == 0)
		return 0;
	ret = cp_store_src_reserve(s, 1);
	if (ret != 0)
		return ret;
	cp_src_merge_nogrow(s, r);
	return 0;
}

const struct cp_src *cp_store_src_find(const struct cp_store *s, uint32_t addr)
{
	const struct cp_src_ix *x = cp_ht_find(&s->src, SRC_T, &addr);

	return x != NULL ? &s->src_recs[x->id1 - 1] : NULL;
}

/* Widen s's packet-time span by [first, last] of something that held packets (a packet
 * at time 0 counts: the span is known by span_set, not by a non-zero time). */
static void cp_span(struct cp_store *s, bool packets, uint64_t first, uint64_t last)
{
	if (!packets)
		return;
	if (!s->span_set) {
		s->t_first_ns = first;
		s->t_last_ns = last;
		s->span_set = true;
		return;
	}
	cp_span_widen(&s->t_first_ns, &s->t_last_ns, first, last);
}

/* ---- per-kind consumers ---- */

struct cp_tab_consumer {
	unsigned kind;
	const char *name;
	cp_tab_merge_fn merge;
	void *ctx;
};

static struct cp_tab_consumer cp_consumers[CP_TAB_MAX_CONSUMERS];
static unsigned cp_n_consumers;

/* The kind of a per-epoch hook's entry: no table's. */
#define CP_TAB_EVERY_EPOCH OBX_TAB_MAX

static int cp_consumer_add(unsigned kind, const char *name, cp_tab_merge_fn merge, void *ctx)
{
	if (merge == NULL)
		return -EINVAL;
	if (cp_n_consumers == CP_TAB_MAX_CONSUMERS)
		return -ENOSPC;
	cp_consumers[cp_n_consumers++] = (struct cp_tab_consumer){
		.kind = kind, .name = name != NULL ? name : "?", .merge = merge, .ctx = ctx };
	return 0;
}

int cp_tab_register(unsigned kind, const char *name, cp_tab_merge_fn merge, void *ctx)
{
	return kind >= OBX_TAB_MAX ? -EINVAL : cp_consumer_add(kind, name, merge, ctx);
}

int cp_epoch_register(const char *name, cp_tab_merge_fn merge, void *ctx)
{
	return cp_consumer_add(CP_TAB_EVERY_EPOCH, name, merge, ctx);
}

/* The table consumer c sees of e: its kind's, an empty one for a per-epoch hook, NULL
 * when e holds none of its kind. */
static const struct cp_tab *cp_consumer_tab(const struct cp_epoch *e, unsigned c)
{
	static const struct cp_tab empty = { .kind = CP_TAB_EVERY_EPOCH };

	return cp_consumers[c].kind == CP_TAB_EVERY_EPOCH ? &empty :
	       cp_epoch_tab(e, cp_consumers[c].kind);
}

void cp_tab_unregister_all(void)
{
	memset(cp_consumers, 0, sizeof(cp_consumers));
	cp_n_consumers = 0;
}

const struct cp_tab *cp_epoch_tab(const struct cp_epoch *e, unsigned kind)
{
	for (uint32_t i = 0; i < e->n_tabs && i < OBX_TAB_MAX; i++)
		if (e->tabs[i].kind == kind)
			return &e->tabs[i];
	return NULL;
}

int cp_epoch_add_tab(struct cp_epoch *e, unsigned kind, uint32_t rec_size, const void *recs,
                     uint32_t n)
{
	uint32_t i;

	if (kind >= OBX_TAB_MAX || e->n_tabs >= OBX_TAB_MAX || cp_epoch_tab(e, kind) != NULL)
		return -EINVAL;
	for (i = e->n_tabs; i > 0 && e->tabs[i - 1].kind > kind; i--)
		e->tabs[i] = e->tabs[i - 1];
	e->tabs[i] = (struct cp_tab){ .kind = kind, .rec_size = rec_size, .n = n, .recs = recs };
	e->n_tabs++;
	return 0;
}

/* The tables of e are well formed: kinds known, ascending (so distinct), sizes sane. */
static int cp_epoch_tabs_check(const struct cp_epoch *e)
{
	if (e->n_tabs > OBX_TAB_MAX)
		return -EINVAL;
	for (uint32_t i = 0; i < e->n_tabs; i++) {
		const struct cp_tab *t = &e->tabs[i];

		if (t->kind >= OBX_TAB_MAX || (i > 0 && t->kind <= e->tabs[i - 1].kind) ||
		    t->rec_size < OBX_REC_SIZE_MIN || t->rec_size > OBX_REC_SIZE_MAX ||
		    t->rec_size % 8 != 0 || (t->n != 0 && t->recs == NULL))
			return -EINVAL;
	}
	return 0;
}

static void cp_src_from_rec(struct cp_src *d, const struct obx_src_rec *r)
{
	d->addr = r->addr;
	d->flags = r->flags;
	d->first_ns = r->first_ns;
	d->last_ns = r->last_ns;
	d->packets = r->packets;
	d->sensor_mask = r->sensor_mask;
	d->resip_packets = r->resip_packets;
}

/* fingerprint (issue 14): an upper bound on the labelled sources an epoch adds to the
 * tool table (a labelled record of a source not in it yet; a source labelled in several
 * hours counts more than once, which only over-reserves). */
static uint32_t cp_tools_new_upper(const struct cp_store *s, const struct cp_tab *src)
{
	const struct obx_src_rec *r = src->recs;
	uint32_t n = 0;

	for (uint32_t i = 0; i < src->n; i++)
		if (r[i].packets != 0 && r[i].tool != 0 && cp_tools_find(&s->tools, r[i].addr) == NULL)
			n++;
	return n;
}

int cp_store_apply(struct cp_store *s, const struct cp_epoch *e)
{
	const struct cp_tab *src;
	struct cp_boot *b;
	int ret;

	if (e->worker >= OBX_MAX_WORKERS || e->seq == 0 || cp_epoch_tabs_check(e) != 0)
		return -EINVAL;
	if (cp_store_applied(s, e->boot_id, e->worker, e->seq))
		return 1;
	src = cp_epoch_tab(e, OBX_TAB_SRC);
	if (src != NULL && src->rec_size != sizeof(struct obx_src_rec))
		return -EPROTO;
	/* every allocation and every consumer's check first, so nothing below can fail
	 * half-way */
	b = cp_store_boot(s, e->boot_id, true);
	if (b == NULL)
		return -ENOMEM;
	ret = cp_store_src_reserve(s, src != NULL ? cp_src_new_upper(s, src) : 0);
	if (ret != 0)
		return ret;
	ret = cp_tools_reserve(&s->tools, src != NULL ? cp_tools_new_upper(s, src) : 0);
	if (ret != 0)
		return ret;
	for (unsigned c = 0; c < cp_n_consumers; c++) {
		const struct cp_tab *t = cp_consumer_tab(e, c);

		if (t == NULL)
			continue;
		ret = cp_consumers[c].merge(cp_consumers[c].ctx, e, NULL, t->n, t->rec_size);
		if (ret != 0)
			return ret < 0 ? ret : -EPROTO;
	}

	if (src != NULL) {
		const struct obx_src_rec *r = src->recs;

		for (uint32_t i = 0; i < src->n; i++) {
			struct cp_src x;

			if (r[i].packets == 0)
				continue;
			cp_src_from_rec(&x, &r[i]);
			cp_src_merge_nogrow(s, &x);
			cp_tools_add(&s->tools, r[i].addr, r[i].first_ns, r[i].tool, r[i].tool_syns,
			             r[i].tool_other);
		}
	}
	for (unsigned c = 0; c < cp_n_consumers; c++) {
		const struct cp_tab *t = cp_consumer_tab(e, c);
		static const uint8_t none[8];

		if (t == NULL)
			continue;
		/* recs is never NULL here: NULL means "prepare" */
		cp_consumers[c].merge(cp_consumers[c].ctx, e, t->n != 0 ? t->recs : none, t->n,
		                      t->rec_size);
	}
	cp_counters_add(&s->total, &e->delta);
	cp_counters_add(&s->worker[e->worker], &e->delta);
	if (e->worker + 1 > s->n_workers)
		s->n_workers = e->worker + 1;
	if (e->worker + 1 > b->n_workers)
		b->n_workers = e->worker + 1;
	b->last_seq[e->worker] = e->seq;
	b->epochs++;
	s->epochs++;
	/* the dataplane sends 0..0 for an epoch without packets */
	cp_span(s, e->delta.rx_packets != 0 || e->t_first_ns != 0 || e->t_last_ns != 0,
	        e->t_first_ns, e->t_last_ns);
	return 0;
}

int cp_store_merge(struct cp_store *dst, const struct cp_store *src)
{
	const struct cp_src *r;
	int ret;

	ret = cp_store_src_reserve(dst, src->src.n);
	if (ret != 0)
		return ret;
	ret = cp_tools_merge(&dst->tools, &src->tools);   /* fingerprint (issue 14) */
	if (ret != 0)
		return ret;
	for (uint32_t i = 0; i < src->n_boots; i++) {
		const struct cp_boot *sb = &src->boots[i];
		struct cp_boot *db = cp_store_boot(dst, sb->boot_id, true);

		if (db == NULL)
			return -ENOMEM;
		if (db->boot_wall_ns == 0)
			db->boot_wall_ns = sb->boot_wall_ns;
		db->epochs += sb->epochs;
		if (sb->n_workers > db->n_workers)
			db->n_workers = sb->n_workers;
		/* one control plane saw a boot die: the same count, not more, in a copy */
		if (sb->epochs_lost > db->epochs_lost)
			db->epochs_lost = sb->epochs_lost;
		for (uint32_t w = 0; w < OBX_MAX_WORKERS; w++)
			if (sb->last_seq[w] > db->last_seq[w])
				db->last_seq[w] = sb->last_seq[w];
	}
	for (uint32_t it = 0; (r = cp_store_src_next(src, &it)) != NULL;)
		cp_src_merge_nogrow(dst, r);
	cp_counters_add(&dst->total, &src->total);
	for (uint32_t w = 0; w < OBX_MAX_WORKERS; w++)
		cp_counters_add(&dst->worker[w], &src->worker[w]);
	if (src->n_workers > dst->n_workers)
		dst->n_workers = src->n_workers;
	dst->epochs += src->epochs;
	cp_span(dst, src->span_set, src->t_first_ns, src->t_last_ns);
	if (dst->n_ports == 0 && src->n_ports != 0) {
		dst->ports_boot_id = src->ports_boot_id;
		dst->n_ports = src->n_ports;
		memcpy(dst->ports, src->ports, sizeof(dst->ports));
	}
	if (dst->n_sensors == 0 && src->n_sensors != 0) {
		dst->n_sensors = src->n_sensors;
		memcpy(dst->sensor_names, src->sensor_names, sizeof(dst->sensor_names));
	}
	return 0;
}

int cp_src_cmp(const void *a, const void *b)
{
	const struct cp_src *x = a, *y = b;

	/* packets descending, then address */
	return x->packets != y->packets ? CP_CMP(y->packets, x->packets) : CP_CMP(x->addr, y->addr);
}

long cp_store_top(const struct cp_store *s, size_t n, struct cp_src **out)
{
	const struct cp_src *r;
	struct cp_src *all;
	size_t k = 0;

	*out = NULL;
	all = malloc(((size_t)s->src.n + 1) * sizeof(*all));
	if (all == NULL)
		return -ENOMEM;
	for (uint32_t it = 0; (r = cp_store_src_next(s, &it)) != NULL;)
		all[k++] = *r;
	qsort(all, k, sizeof(*all), cp_src_cmp);
	if (n != 0 && n < k)
		k = n;
	*out = all;
	return (long)k;
}

void cp_store_note_header(struct cp_store *s, const struct obx_geom *g,
                          const struct obx_header *h)
{
	uint32_t np = g->n_ports <= OBX_MAX_PORTS ? g->n_ports : OBX_MAX_PORTS;
	uint32_t ns = g->n_sensors <= 64 ? g->n_sensors : 64;

	s->ports_boot_id = g->boot_id;
	s->n_ports = np;
	/* the dataplane writes these concurrently; a torn value is only a display glitch
	 * and the next refresh fixes it */
	memcpy(s->ports, obx_geom_port_stats(g, (void *)h, 0), np * sizeof(s->ports[0]));
	for (uint32_t p = 0; p < np; p++)
		s->ports[p].name[OBX_NAME_LEN - 1] = '\0';
	if (ns != 0) {
		s->n_sensors = ns;
		memcpy(s->sensor_names, h->sensor_names, sizeof(s->sensor_names));
		for (uint32_t i = 0; i < 64; i++)
			s->sensor_names[i][OBX_NAME_LEN - 1] = '\0';
	}
	{
		struct cp_boot *b = cp_store_boot(s, g->boot_id, true);

		if (b != NULL && b->boot_wall_ns == 0)
			b->boot_wall_ns = g->boot_wall_ns;
	}
}
