/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * covstore.c — coverage cells per period: exact slot sets, SYN and Mirai counts;
 * see covstore.h.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "covstore.h"
#include "grow.h"
#include "order.h"

#define COV_MAX_SAMPLE (1u << 24)
#define COV_SER_MAGIC  0x31564f43u   /* "COV1" */
#define COV_SER_VERSION 1u

static inline uint32_t cov_hash(const struct cov_key *k)
{
	uint64_t x = ((uint64_t)k->block << 32) ^ ((uint64_t)k->period << 24) ^
	             ((uint64_t)k->dport << 8) ^ k->proto;
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	x ^= x >> 33;
	return (uint32_t)x;
}

static uint64_t cov_key_hash(const void *key, const void *ctx)
{
	(void)ctx;
	return cov_hash(key);
}

static const struct cov_cell *cov_of_ix(const void *e, const void *ctx)
{
	uint32_t id1;

	memcpy(&id1, e, sizeof(id1));
	return &((const struct cov_cells *)ctx)->a[id1 - 1];
}

static uint64_t cov_ix_hash(const void *e, const void *ctx)
{
	return cov_hash((const struct cov_key *)(const void *)cov_of_ix(e, ctx));
}

/* the key's 11 bytes: a cell starts with them, laid out as in struct cov_key */
#define COV_KEY_BYTES (offsetof(struct cov_key, proto) + 1)

static bool cov_ix_match(const void *e, const void *key, const void *ctx)
{
	return memcmp(cov_of_ix(e, ctx), key, COV_KEY_BYTES) == 0;
}

/* load <= 5/8 keeps probes short */
static const struct cp_ht_type cov_ix_t = {
	.size = sizeof(uint32_t), .key_size = 0, .used_off = 0, .used_len = 4,
	.load_num = 5, .load_den = 8, .min_cap = 64, .hash = cov_key_hash,
	.match = cov_ix_match, .entry_hash = cov_ix_hash,
};
#define IX_T (&cov_ix_t)
_Static_assert(offsetof(struct cov_cell, period) == offsetof(struct cov_key, period) &&
               offsetof(struct cov_cell, block) == offsetof(struct cov_key, block) &&
               offsetof(struct cov_cell, dport) == offsetof(struct cov_key, dport) &&
               offsetof(struct cov_cell, proto) == offsetof(struct cov_key, proto),
               "a cell starts with its key");

/* A sparse cell's sorted slots: inline or on the heap. */
static const uint32_t *cov_sparse(const struct cov_cell *c)
{
	return c->n <= COV_INLINE ? c->set.in : c->set.sparse;
}

static bool cov_on_heap(const struct cov_cell *c)
{
	return (c->flags & COV_F_DENSE) || c->n > COV_INLINE;
}

const struct cov_cell *cov_store_next(const struct cov_store *s, uint32_t *it)
{
	return *it < s->cells.n ? &s->arr->a[(*it)++] : NULL;
}

int cov_store_init(struct cov_store *s, uint32_t sample_size, uint8_t block_len, uint8_t unit)
{
	memset(s, 0, sizeof(*s));
	if (sample_size == 0 || sample_size > COV_MAX_SAMPLE || block_len < 1 || block_len > 32 ||
	    unit > 3)
		return -EINVAL;
	s->sample_size = sample_size;
	s->block_len = block_len;
	s->unit = unit;
	s->arr = calloc(1, sizeof(*s->arr));
	if (s->arr == NULL)
		return -ENOMEM;
	cp_ht_init(&s->cells, s->arr);
	return cov_store_reserve(s, 1);
}

void cov_store_fini(struct cov_store *s)
{
	const struct cov_cell *c;

	for (uint32_t it = 0; (c = cov_store_next(s, &it)) != NULL;)
		if (cov_on_heap(c))
			free(c->set.sparse);
	cp_ht_fini(&s->cells);
	if (s->arr != NULL)
		free(s->arr->a);
	free(s->arr);
	memset(s, 0, sizeof(*s));
}

int cov_store_reserve(struct cov_store *s, uint32_t n)
{
	size_t cap = s->arr->cap;
	struct cov_cell *a = cp_grow(s->arr->a, &cap, (size_t)s->cells.n + n, sizeof(*a), 64);

	if (a == NULL)
		return -ENOMEM;
	s->arr->a = a;
	s->arr->cap = cap;
	return cp_ht_reserve(&s->cells, IX_T, n);
}

bool cov_store_has_room(const struct cov_store *s, uint32_t n)
{
	return (size_t)s->cells.n + n <= s->arr->cap && cp_ht_has_room(&s->cells, IX_T, n);
}

const struct cov_cell *cov_store_find(const struct cov_store *s, const struct cov_key *k)
{
	const uint32_t *x = cp_ht_find(&s->cells, IX_T, k);

	return x != NULL ? &s->arr->a[*x - 1] : NULL;
}

struct cov_cell *cov_store_cell(struct cov_store *s, const struct cov_key *k, bool create)
{
	struct cov_cell *c;
	uint32_t *x;
	bool isnew;

	if (!create)
		return (struct cov_cell *)cov_store_find(s, k);
	/* room in the array first: a failed growth then leaves the index untouched */
	if (s->cells.n >= s->arr->cap && cov_store_reserve(s, 1) != 0) {
		errno = ENOMEM;
		return NULL;
	}
	x = cp_ht_insert(&s->cells, IX_T, k, &isnew);
	if (x == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	if (!isnew)
		return &s->arr->a[*x - 1];
	*x = s->cells.n;                  /* counted already: the new cell's id + 1 */
	c = &s->arr->a[*x - 1];
	memset(c, 0, sizeof(*c));
	c->period = k->period;
	c->block = k->block;
	c->dport = k->dport;
	c->proto = k->proto;
	c->flags = COV_F_USED;
	if (s->cells.n == 1 || k->period < s->period_min)
		s->period_min = k->period;
	if (s->cells.n == 1 || k->period > s->period_max)
		s->period_max = k->period;
	return c;
}

bool cov_cell_has(const struct cov_store *s, const struct cov_cell *c, uint32_t slot)
{
	if (slot >= s->sample_size)
		return false;
	if (c->flags & COV_F_DENSE)
		return (c->set.bits[slot / 64] >> (slot % 64)) & 1;
	const uint32_t *sp = cov_sparse(c);
	uint32_t lo = 0, hi = c->n;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (sp[mid] < slot)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < c->n && sp[lo] == slot;
}

void cov_cell_slots(const struct cov_store *s, const struct cov_cell *c, uint32_t *out)
{
	if (!(c->flags & COV_F_DENSE)) {
		if (c->n)
			memcpy(out, cov_sparse(c), (size_t)c->n * sizeof(*out));
		return;
	}
	uint32_t k = 0;
	for (uint32_t w = 0; w < cov_store_words(s); w++) {
		uint64_t x = c->set.bits[w];
		while (x) {
			out[k++] = w * 64 + (uint32_t)__builtin_ctzll(x);
			x &= x - 1;
		}
	}
}

/* Make c dense. */
static int cov_densify(struct cov_store *s, struct cov_cell *c)
{
	uint32_t words = cov_store_words(s);
	uint64_t *b = calloc(words, sizeof(*b));
	const uint32_t *sp = cov_sparse(c);

	if (b == NULL)
		return -ENOMEM;
	for (uint32_t i = 0; i < c->n; i++)
		b[sp[i] / 64] |= 1ull << (sp[i] % 64);
	if (cov_on_heap(c)) {
		s->set_bytes -= (uint64_t)c->n * sizeof(uint32_t);
		free(c->set.sparse);
	}
	c->set.bits = b;
	c->flags |= COV_F_DENSE;
	s->n_dense++;
	s->set_bytes += (uint64_t)words * sizeof(uint64_t);
	return 0;
}

/* c ∪= sorted distinct in[0..n). */
static int cov_union_sorted(struct cov_store *s, struct cov_cell *c, const uint32_t *in, uint32_t n)
{
	uint32_t *m, i = 0, j = 0, k = 0, cap, small[COV_INLINE];
	const uint32_t *sp;

	if (n == 0)
		return 0;
	if (c->flags & COV_F_DENSE) {
		for (i = 0; i < n; i++) {
			uint64_t bit = 1ull << (in[i] % 64), *w = &c->set.bits[in[i] / 64];
			c->n += !(*w & bit);
			*w |= bit;
		}
		return 0;
	}
	/* would the union pass the bitmap size?  (upper bound c->n + n) */
	if ((uint64_t)(c->n + n) * 32 > s->sample_size && (uint64_t)(c->n + n) > 2) {
		int rc = cov_densify(s, c);
		if (rc != 0)
			return rc;
		return cov_union_sorted(s, c, in, n);
	}
	cap = c->n + n;
	sp = cov_sparse(c);
	m = cap <= COV_INLINE ? small : malloc((size_t)cap * sizeof(*m));
	if (m == NULL)
		return -ENOMEM;
	while (i < c->n || j < n) {
		if (j == n || (i < c->n && sp[i] < in[j]))
			m[k++] = sp[i++];
		else if (i == c->n || in[j] < sp[i])
			m[k++] = in[j++];
		else {
			m[k++] = in[j++];
			i++;
		}
	}
	if (cov_on_heap(c)) {
		s->set_bytes -= (uint64_t)c->n * sizeof(uint32_t);
		free(c->set.sparse);
	}
	if (m != small && k <= COV_INLINE) {   /* duplicates: the union fits inline */
		memcpy(small, m, (size_t)k * sizeof(*small));
		free(m);
		m = small;
	} else if (m != small && k < cap) {    /* duplicates: give the slack back */
		uint32_t *shrunk = realloc(m, (size_t)k * sizeof(*m));
		if (shrunk != NULL)
			m = shrunk;
	}
	if (m == small) {
		memcpy(c->set.in, small, (size_t)k * sizeof(*small));
	} else {
		s->set_bytes += (uint64_t)k * sizeof(uint32_t);
		c->set.sparse = m;
	}
	c->n = k;
	return 0;
}

int cov_store_add(struct cov_store *s, const struct cov_key *k, uint64_t syns, uint64_t mirai,
                  const uint32_t *slots, uint32_t n)
{
	struct cov_cell *c;
	uint32_t *tmp = NULL, m = 0, small[8];
	int rc = 0;

	for (uint32_t i = 0; i < n; i++)
		if (slots[i] >= s->sample_size)
			return -ERANGE;
	if (n > 0) {
		tmp = n <= 8 ? small : malloc((size_t)n * sizeof(*tmp));
		if (tmp == NULL)
			return -ENOMEM;
		memcpy(tmp, slots, (size_t)n * sizeof(*tmp));
		m = cp_sort_unique_u32(tmp, n);
	}
	c = cov_store_cell(s, k, true);
	if (c == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	rc = cov_union_sorted(s, c, tmp, m);
	if (rc == 0) {
		c->syns += syns;
		c->mirai += mirai;
	}
out:
	if (tmp != small)
		free(tmp);
	return rc;
}

int cov_store_add_bits(struct cov_store *s, const struct cov_key *k, uint64_t syns,
                       uint64_t mirai, const uint64_t *bits)
{
	uint32_t words = cov_store_words(s), cnt = 0;
	struct cov_cell *c;

	if (s->sample_size % 64 && (bits[words - 1] >> (s->sample_size % 64)))
		return -ERANGE;
	c = cov_store_cell(s, k, true);
	if (c == NULL)
		return -ENOMEM;
	if (!(c->flags & COV_F_DENSE)) {
		int rc = cov_densify(s, c);
		if (rc != 0)
			return rc;
	}
	for (uint32_t w = 0; w < words; w++) {
		c->set.bits[w] |= bits[w];
		cnt += (uint32_t)__builtin_popcountll(c->set.bits[w]);
	}
	c->n = cnt;
	c->syns += syns;
	c->mirai += mirai;
	return 0;
}

int cov_store_merge(struct cov_store *dst, const struct cov_store *src)
{
	if (dst->sample_size != src->sample_size || dst->block_len != src->block_len ||
	    dst->unit != src->unit)
		return -EINVAL;
	const struct cov_cell *c;

	for (uint32_t it = 0; (c = cov_store_next(src, &it)) != NULL;) {
		struct cov_key k = { c->period, c->block, c->dport, c->proto };
		int rc;
		if (c->flags & COV_F_DENSE) {
			rc = cov_store_add_bits(dst, &k, c->syns, c->mirai, c->set.bits);
		} else {
			struct cov_cell *d = cov_store_cell(dst, &k, true);
			if (d == NULL)
				return -ENOMEM;
			rc = cov_union_sorted(dst, d, cov_sparse(c), c->n);
			if (rc == 0) {
				d->syns += c->syns;
				d->mirai += c->mirai;
			}
		}
		if (rc != 0)
			return rc;
	}
	return 0;
}

uint64_t cov_store_bytes(const struct cov_store *s)
{
	return cp_ht_bytes(&s->cells, IX_T) + s->arr->cap * sizeof(struct cov_cell) + s->set_bytes;
}

/* ------------------------------------------------------------------ serialisation */

struct cov_ser_hdr {
	uint32_t magic, version;
	uint32_t sample_size;
	uint8_t  block_len, unit, pad[2];
	uint64_t n_cells;
};

struct cov_ser_cell {
	uint32_t period, block;
	uint16_t dport;
	uint8_t  proto, dense;
	uint32_t n;
	uint64_t syns, mirai;
};

int cov_store_serialize(const struct cov_store *s, uint8_t **out, size_t *len)
{
	size_t size = sizeof(struct cov_ser_hdr), off;
	uint32_t words = cov_store_words(s);
	struct cov_ser_hdr h = { COV_SER_MAGIC, COV_SER_VERSION, s->sample_size, s->block_len,
	                         s->unit, { 0, 0 }, s->cells.n };
	const struct cov_cell *c;
	uint8_t *b;

	for (uint32_t it = 0; (c = cov_store_next(s, &it)) != NULL;)
		size += sizeof(struct cov_ser_cell) + ((c->flags & COV_F_DENSE) ?
			(size_t)words * 8 : (size_t)c->n * 4);
	b = malloc(size);
	if (b == NULL)
		return -ENOMEM;
	memcpy(b, &h, sizeof(h));
	off = sizeof(h);
	for (uint32_t it = 0; (c = cov_store_next(s, &it)) != NULL;) {
		struct cov_ser_cell sc;

		memset(&sc, 0, sizeof(sc));
		sc.period = c->period;
		sc.block = c->block;
		sc.dport = c->dport;
		sc.proto = c->proto;
		sc.dense = (c->flags & COV_F_DENSE) != 0;
		sc.n = c->n;
		sc.syns = c->syns;
		sc.mirai = c->mirai;
		memcpy(b + off, &sc, sizeof(sc));
		off += sizeof(sc);
		if (sc.dense) {
			memcpy(b + off, c->set.bits, (size_t)words * 8);
			off += (size_t)words * 8;
		} else if (c->n) {
			memcpy(b + off, cov_sparse(c), (size_t)c->n * 4);
			off += (size_t)c->n * 4;
		}
	}
	*out = b;
	*len = off;
	return 0;
}

/* used NULL: the buffer must hold the coverage and nothing else; else *used = its bytes */
static int cov_store_parse(struct cov_store *s, const uint8_t *buf, size_t len, size_t *used,
                           const char **why)
{
	struct cov_ser_hdr h;
	size_t off = sizeof(h);
	uint32_t words;
	uint32_t *slots = NULL;
	int rc;

	memset(s, 0, sizeof(*s));
	if (len < sizeof(h)) {
		*why = "coverage section truncated";
		return -EBADMSG;
	}
	memcpy(&h, buf, sizeof(h));
	if (h.magic != COV_SER_MAGIC || h.version != COV_SER_VERSION) {
		*why = "coverage section: bad magic or version";
		return -EBADMSG;
	}
	rc = cov_store_init(s, h.sample_size, h.block_len, h.unit);
	if (rc == -EINVAL) {
		*why = "coverage section: bad sample size, block length or period unit";
		return -EBADMSG;
	}
	if (rc != 0)
		return rc;
	words = cov_store_words(s);
	if (h.n_cells > (len - off) / sizeof(struct cov_ser_cell)) {
		*why = "coverage section: cell count past the end";
		goto bad;
	}
	for (uint64_t i = 0; i < h.n_cells; i++) {
		struct cov_ser_cell sc;
		struct cov_key k;
		if (len - off < sizeof(sc)) {
			*why = "coverage section truncated";
			goto bad;
		}
		memcpy(&sc, buf + off, sizeof(sc));
		off += sizeof(sc);
		k = (struct cov_key){ sc.period, sc.block, sc.dport, sc.proto };
		if (cov_store_find(s, &k) != NULL) {
			*why = "coverage section: duplicate cell";
			goto bad;
		}
		if (sc.dense > 1 || sc.n > s->sample_size) {
			*why = "coverage section: bad cell";
			goto bad;
		}
		if (sc.dense) {
			uint64_t *bits, cnt = 0;
			if (len - off < (size_t)words * 8) {
				*why = "coverage section truncated";
				goto bad;
			}
			bits = malloc((size_t)words * 8);
			if (bits == NULL) {
				rc = -ENOMEM;
				goto fail;
			}
			memcpy(bits, buf + off, (size_t)words * 8);
			off += (size_t)words * 8;
			for (uint32_t w = 0; w < words; w++)
				cnt += (uint64_t)__builtin_popcountll(bits[w]);
			if (cnt != sc.n) {
				free(bits);
				*why = "coverage section: bitmap count mismatch";
				goto bad;
			}
			rc = cov_store_add_bits(s, &k, sc.syns, sc.mirai, bits);
			free(bits);
		} else {
			if ((len - off) / 4 < sc.n) {
				*why = "coverage section truncated";
				goto bad;
			}
			free(slots);
			slots = malloc((size_t)(sc.n ? sc.n : 1) * 4);
			if (slots == NULL) {
				rc = -ENOMEM;
				goto fail;
			}
			memcpy(slots, buf + off, (size_t)sc.n * 4);
			off += (size_t)sc.n * 4;
			for (uint32_t j = 0; j < sc.n; j++)
				if (slots[j] >= s->sample_size || (j > 0 && slots[j] <= slots[j - 1])) {
					*why = "coverage section: slot list out of range or unsorted";
					goto bad;
				}
			rc = cov_store_add(s, &k, sc.syns, sc.mirai, slots, sc.n);
		}
		if (rc != 0) {
			if (rc == -ERANGE) {
				*why = "coverage section: slot out of range";
				goto bad;
			}
			goto fail;
		}
	}
	if (used != NULL) {
		*used = off;
	} else if (off != len) {
		*why = "coverage section: trailing bytes";
		goto bad;
	}
	free(slots);
	return 0;
bad:
	rc = -EBADMSG;
fail:
	free(slots);
	cov_store_fini(s);
	return rc;
}

int cov_store_deserialize(struct cov_store *s, const uint8_t *buf, size_t len, const char **why)
{
	return cov_store_parse(s, buf, len, NULL, why);
}

int cov_store_deserialize_part(struct cov_store *s, const uint8_t *buf, size_t len, size_t *used,
                               const char **why)
{
	return cov_store_parse(s, buf, len, used, why);
}
