/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * htab.c — growth, clearing and deletion of the control plane's hash table (htab.h);
 * the probes are inline in the header.
 *
 * Growth allocates the doubled slot array first and moves the entries only once it
 * exists, so a failed allocation leaves the table as it was.  Deletion is the backward
 * shift of Knuth's Algorithm R (TAOCP vol. 3, 6.4): the entries after the hole in its
 * probe run move back when their home slot allows it, so no tombstone ever lengthens a
 * probe.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "htab.h"

void cp_ht_init(struct cp_ht *h, const void *ctx)
{
	memset(h, 0, sizeof(*h));
	h->ctx = ctx;
}

void cp_ht_fini(struct cp_ht *h)
{
	free(h->slots);
	h->slots = NULL;
	h->cap = 0;
	h->n = 0;
}

void cp_ht_clear(struct cp_ht *h, const struct cp_ht_type *t)
{
	if (h->slots != NULL)
		memset(h->slots, 0, cp_ht_bytes(h, t));
	h->n = 0;
}

static uint64_t cp_ht_entry_hash(const struct cp_ht *h, const struct cp_ht_type *t,
                                 const void *e)
{
	/* an inline key is the entry's first bytes: hash() of the entry reads just those */
	return t->key_size ? t->hash(e, h->ctx) : t->entry_hash(e, h->ctx);
}

static int cp_ht_rehash(struct cp_ht *h, const struct cp_ht_type *t, uint64_t cap)
{
	uint8_t *ns;
	uint32_t m = (uint32_t)cap - 1;

	if (cap > (1ull << 31) || cap * t->size > SIZE_MAX / 2)
		return -ENOMEM;
	ns = calloc((size_t)cap, t->size);
	if (ns == NULL)
		return -ENOMEM;
	for (uint32_t i = 0; i < h->cap; i++) {
		const uint8_t *e = cp_ht_at(h, t, i);
		uint32_t j;

		if (!cp_ht_used(t, e))
			continue;
		for (j = (uint32_t)cp_ht_entry_hash(h, t, e) & m;
		     cp_ht_used(t, ns + (size_t)j * t->size); j = (j + 1) & m)
			;
		memcpy(ns + (size_t)j * t->size, e, t->size);
	}
	free(h->slots);
	h->slots = ns;
	h->cap = (uint32_t)cap;
	return 0;
}

int cp_ht_reserve(struct cp_ht *h, const struct cp_ht_type *t, uint32_t more)
{
	uint64_t need = (uint64_t)h->n + more, cap = h->cap ? h->cap : t->min_cap;

	if (cp_ht_has_room(h, t, more))
		return 0;
	while (need * t->load_den > cap * t->load_num)
		cap *= 2;
	return cp_ht_rehash(h, t, cap);
}

void cp_ht_delete(struct cp_ht *h, const struct cp_ht_type *t, void *e)
{
	uint32_t m = h->cap - 1, i = (uint32_t)(((uint8_t *)e - h->slots) / t->size), j = i;

	for (;;) {
		uint8_t *x;
		uint32_t home;

		j = (j + 1) & m;
		x = cp_ht_at(h, t, j);
		if (!cp_ht_used(t, x))
			break;
		home = (uint32_t)cp_ht_entry_hash(h, t, x) & m;
		/* x may fill the hole at i unless its home lies cyclically in (i, j] */
		if ((j > i && (home <= i || home > j)) || (j < i && home <= i && home > j)) {
			memcpy(cp_ht_at(h, t, i), x, t->size);
			i = j;
		}
	}
	memset(cp_ht_at(h, t, i), 0, t->size);
	h->n--;
}
