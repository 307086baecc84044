/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * htab.h — the control plane's one hash table: open addressing with linear probing,
 * power-of-two capacity, fixed-size entries stored inline (no per-entry allocation, no
 * pointer per entry), growth by doubling before a load limit, iteration in slot order,
 * deletion by backward shift (no tombstones, so probe chains never rot).
 *
 * The table does not know what an entry holds; its type (struct cp_ht_type, a static
 * const of the user) says:
 *   - size: bytes per entry;
 *   - the in-use field (used_off, used_len of 1, 2, 4 or 8 bytes): non-zero in every
 *     entry in use, zero in a free slot.  Slots start zeroed and a deleted slot is
 *     zeroed again, so "free" costs no byte: the users' entries all have such a field
 *     already (a packet count, a flags byte, a state, an array index + 1);
 *   - the key: inline (key_size > 0: the entry's first key_size bytes, compared with
 *     memcmp, so they must hold no padding), or external (key_size 0: match() and
 *     entry_hash() find it, e.g. an index entry pointing into an array the user keeps);
 *   - hash(key, ctx): of a key; for an inline key the table hashes an entry by passing
 *     the entry itself, so hash() must read only the key bytes;
 *   - load_num / load_den: the table grows before n would pass cap * num / den (< 1);
 *     min_cap: the first capacity (a power of two).
 *
 * Insertion hands back either the entry holding the key or a zeroed free slot (isnew),
 * already counted in n: the caller writes the key (inline keys) and makes the in-use
 * field non-zero before it calls the table again.  cp_ht_reserve() makes room first, so
 * the inserts that follow neither allocate nor fail, nor move entries — the drain's
 * "prepare, then apply" (store.h) relies on that.  Pointers into the table are valid
 * until the next growth or deletion.
 *
 * The probe functions are inline and take the type as an argument: with the type a
 * compile-time constant, the compiler inlines hash() and the key compare into each
 * user's loop.  Not thread-safe (the control plane is single-threaded).
 */
#ifndef OBSCURA_CP_HTAB_H
#define OBSCURA_CP_HTAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct cp_ht_type {
	uint32_t size;                /* bytes per entry */
	uint32_t key_size;            /* inline key bytes at offset 0; 0: external key */
	uint16_t used_off;            /* the in-use field */
	uint8_t  used_len;            /* its width: 1, 2, 4 or 8 */
	uint8_t  load_num, load_den;  /* max load num/den, < 1 */
	uint32_t min_cap;             /* first capacity, a power of two */
	uint64_t (*hash)(const void *key, const void *ctx);
	/* external keys only: */
	bool (*match)(const void *entry, const void *key, const void *ctx);
	uint64_t (*entry_hash)(const void *entry, const void *ctx);
};

struct cp_ht {
	uint8_t *slots;               /* cap * type->size bytes; NULL while cap is 0 */
	uint32_t cap;                 /* 0 or a power of two */
	uint32_t n;                   /* entries in use */
	const void *ctx;              /* handed to the type's functions */
};

/* An empty table (no allocation until the first insert or reserve).  ctx goes to the
 * type's functions (external keys: whatever holds the keys). */
void cp_ht_init(struct cp_ht *h, const void *ctx);
void cp_ht_fini(struct cp_ht *h);
/* Every entry gone, the capacity kept. */
void cp_ht_clear(struct cp_ht *h, const struct cp_ht_type *t);

/* Room for `more` inserts without growth.  0, or -ENOMEM with the table unchanged. */
int cp_ht_reserve(struct cp_ht *h, const struct cp_ht_type *t, uint32_t more);

/* Would cp_ht_reserve(h, t, more) allocate nothing? */
static inline bool cp_ht_has_room(const struct cp_ht *h, const struct cp_ht_type *t,
                                  uint32_t more)
{
	/* load_num < load_den: a table within its load always keeps a free slot */
	return ((uint64_t)h->n + more) * t->load_den <= (uint64_t)h->cap * t->load_num;
}

/* Remove entry e (a pointer the table handed out): later entries of its probe run move
 * back, so every pointer into the table is stale afterwards. */
void cp_ht_delete(struct cp_ht *h, const struct cp_ht_type *t, void *e);

/* Bytes the slot array holds. */
static inline size_t cp_ht_bytes(const struct cp_ht *h, const struct cp_ht_type *t)
{
	return (size_t)h->cap * t->size;
}

static inline bool cp_ht_used(const struct cp_ht_type *t, const void *e)
{
	const uint8_t *f = (const uint8_t *)e + t->used_off;

	switch (t->used_len) {
	case 1:
		return *f != 0;
	case 2: {
		uint16_t v;

		memcpy(&v, f, 2);
		return v != 0;
	}
	case 4: {
		uint32_t v;

		memcpy(&v, f, 4);
		return v != 0;
	}
	default: {
		uint64_t v;

		memcpy(&v, f, 8);
		return v != 0;
	}
	}
}

static inline void *cp_ht_at(const struct cp_ht *h, const struct cp_ht_type *t, uint32_t i)
{
	return h->slots + (size_t)i * t->size;
}

/* The next entry in use at slot *i or after it (*i moves past it), or NULL at the end:
 *   uint32_t it = 0;  for (e = cp_ht_next(h, t, &it); e; e = cp_ht_next(h, t, &it)) */
static inline void *cp_ht_next(const struct cp_ht *h, const struct cp_ht_type *t, uint32_t *i)
{
	for (; *i < h->cap; (*i)++) {
		uint8_t *e = cp_ht_at(h, t, *i);

		if (cp_ht_used(t, e)) {
			(*i)++;
			return e;
		}
	}
	return NULL;
}

/* The slot holding key, or the free slot where it would go (*found false).  cap > 0 and
 * the load below 1 guarantee a free slot ends every probe. */
static inline uint8_t *cp_ht_probe(const struct cp_ht *h, const struct cp_ht_type *t,
                                   const void *key, bool *found)
{
	uint32_t m = h->cap - 1, i = (uint32_t)t->hash(key, h->ctx) & m;

	for (;; i = (i + 1) & m) {
		uint8_t *e = cp_ht_at(h, t, i);

		if (!cp_ht_used(t, e)) {
			*found = false;
			return e;
		}
		if (t->key_size ? memcmp(e, key, t->key_size) == 0 : t->match(e, key, h->ctx)) {
			*found = true;
			return e;
		}
	}
}

/* The entry holding key, or NULL. */
static inline void *cp_ht_find(const struct cp_ht *h, const struct cp_ht_type *t,
                               const void *key)
{
	bool found;
	uint8_t *e;

	if (h->cap == 0)
		return NULL;
	e = cp_ht_probe(h, t, key, &found);
	return found ? e : NULL;
}

/* The entry holding key (*isnew false), or a zeroed free slot counted in n (*isnew
 * true; fill it as the header says).  Grows when needed: NULL only then, on ENOMEM,
 * with the table unchanged. */
static inline void *cp_ht_insert(struct cp_ht *h, const struct cp_ht_type *t, const void *key,
                                 bool *isnew)
{
	bool found;
	uint8_t *e;

	if (!cp_ht_has_room(h, t, 1)) {
		/* found already?  then no room is needed */
		if (h->cap != 0 && (e = cp_ht_probe(h, t, key, &found), found)) {
			*isnew = false;
			return e;
		}
		if (cp_ht_reserve(h, t, 1) != 0)
			return NULL;
	}
	e = cp_ht_probe(h, t, key, &found);
	*isnew = !found;
	if (!found)
		h->n++;
	return e;
}

#endif
