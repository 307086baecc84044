/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bb_digest.c — burst_bench --digest (bb_digest.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bb_digest.h"
#include "exchange_recs.h"

#define FNV_OFF   0xcbf29ce484222325ull
#define FNV_PRIME 0x100000001b3ull

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * FNV_PRIME;
	return h;
}

void bb_digest_init(struct bb_digest *d)
{
	memset(d, 0, sizeof(*d));
	d->h = FNV_OFF;
}

static size_t bb_blob_len;      /* qsort's comparator: the blob size of the table */

static int bb_blob_cmp(const void *a, const void *b)
{
	return memcmp(a, b, bb_blob_len);
}

int bb_digest_slot(struct bb_digest *d, const struct obx_header *h, struct obx_slot_hdr *sh)
{
	const uint32_t bm_rs = h->tab_rec_size[OBX_TAB_BITMAP];
	uint8_t *pool = obx_slot_tab_h(h, sh, OBX_TAB_BITMAP);

	d->slots++;
	d->h = fnv(d->h, &sh->seq, sizeof(sh->seq));
	d->h = fnv(d->h, &sh->t_first_ns, sizeof(sh->t_first_ns));
	d->h = fnv(d->h, &sh->t_last_ns, sizeof(sh->t_last_ns));
	d->h = fnv(d->h, &sh->flags, sizeof(sh->flags));
	d->h = fnv(d->h, &sh->delta, sizeof(sh->delta));
	for (unsigned k = 0; k < OBX_TAB_MAX; k++) {
		const uint8_t *tab = obx_slot_tab_h(h, sh, k);
		const uint32_t *used = obx_slot_used_h(h, sh, k);
		const uint32_t rs = h->tab_rec_size[k], n = sh->tabs[k].n_used;
		size_t blob;
		uint8_t *v;

		d->h = fnv(d->h, &n, sizeof(n));
		if (tab == NULL || k == OBX_TAB_BITMAP || n == 0)
			continue;                  /* the bitmaps are hashed with their cells */
		if (used == NULL)
			return -EINVAL;            /* every other kind is a hash table */
		blob = rs + (k == OBX_TAB_CELL && pool != NULL ? bm_rs : 0);
		v = calloc(n, blob);
		if (v == NULL)
			return -ENOMEM;
		for (uint32_t i = 0; i < n; i++) {
			uint8_t *o = v + (size_t)i * blob;

			memcpy(o, tab + (size_t)used[i] * rs, rs);
			if (k == OBX_TAB_CELL && pool != NULL) {
				struct obx_cell_rec *c = (struct obx_cell_rec *)o;

				if (c->flags & OBX_CELL_F_BITMAP) {
					memcpy(o + rs, pool + (size_t)c->bitmap * bm_rs, bm_rs);
					c->bitmap = 0;
				}
			}
		}
		bb_blob_len = blob;
		qsort(v, n, blob, bb_blob_cmp);
		d->h = fnv(d->h, v, (size_t)n * blob);
		d->recs[k] += n;
		free(v);
	}
	return 0;
}

void bb_digest_print(const struct bb_digest *d)
{
	static const char *const names[OBX_TAB_MAX] = OBX_TAB_NAMES;

	printf("bb digest.slots %" PRIu64 "\n", d->slots);
	for (unsigned k = 0; k < OBX_TAB_MAX; k++)
		if (k != OBX_TAB_BITMAP && names[k] != NULL)
			printf("bb digest.records.%s %" PRIu64 "\n", names[k], d->recs[k]);
	printf("bb digest %016" PRIx64 "\n", d->h);
}
