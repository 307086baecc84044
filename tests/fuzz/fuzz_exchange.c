/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_exchange.c — libFuzzer target for the control plane's exchange reader: the input
 * is a whole mapped exchange file (header page, port and worker stats, slots).
 *
 * It goes through what the drain does with a mapping (drain.h, exchange.h):
 * obx_geom_read() copies and validates the header; then, for every slot of every
 * worker, cp_slot_counts() reads the table counts once, cp_slot_copy() copies the slot
 * into a private epoch (used-index lists checked entry by entry, counters bounded),
 * cp_slot_release() clears what it named.  The buffer is copied into a page-aligned
 * heap buffer of exactly its size (posix_memalign: any read past the mapping size is an
 * ASan report).  Contract, else abort: a refusal names a
 * reason; an accepted geometry fits the buffer exactly; every copied table holds at
 * most its capacity of records of the header's size, no hash record is empty, and an
 * epoch not called implausible has at most max_packets packets.  Linked into the plain
 * replay test too, which runs tests/fuzz/corpus/exchange (exchanges fake_dp wrote:
 * tests/cp/fake_dp.c).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "control/drain.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fz_check_copy(const struct obx_geom *g, const struct cp_slot_copy *c)
{
	uint32_t prev_kind = 0;

	if (c->e.n_tabs > OBX_TAB_MAX)
		abort();
	for (uint32_t i = 0; i < c->e.n_tabs; i++) {
		const struct cp_tab *t = &c->e.tabs[i];

		if (t->kind >= OBX_TAB_MAX || (i > 0 && t->kind <= prev_kind) ||
		    g->tab_capacity[t->kind] == 0 || t->n > g->tab_capacity[t->kind] ||
		    t->n > c->n_used[t->kind] || t->rec_size != g->tab_rec_size[t->kind])
			abort();
		prev_kind = t->kind;
		if (obx_tab_is_hash(t->kind))
			for (uint32_t r = 0; r < t->n; r++)
				if (obx_rec_empty((const uint8_t *)t->recs + (size_t)r * t->rec_size,
				                  t->rec_size))
					abort();
	}
	if (c->implausible == NULL && c->e.delta.rx_packets > c->max_packets)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct obx_geom g;
	const char *why = NULL;
	uint8_t *map;

	if (size > (64u << 20))
		return 0;
	/* exactly size bytes: ASan reports a read one past the mapping */
	if (posix_memalign((void **)&map, 4096, size ? size : 1) != 0)
		return 0;
	memcpy(map, data, size);
	if (obx_geom_read(map, size, &g, &why) != 0) {
		if (why == NULL)
			abort();
		free(map);
		return 0;
	}
	if (g.total_size != size || g.n_workers < 1 || g.n_workers > OBX_MAX_WORKERS ||
	    g.slots_off + (uint64_t)g.n_workers * OBX_SLOTS * g.slot_size > size)
		abort();
	for (unsigned k = 0; k < OBX_TAB_MAX; k++)
		if (g.tab_capacity[k] != 0 &&
		    g.tab_off[k] + obx_tab_bytes(k, g.tab_capacity[k], g.tab_rec_size[k]) > g.slot_size)
			abort();
	for (uint32_t w = 0; w < g.n_workers; w++)
		for (uint32_t s = 0; s < OBX_SLOTS; s++) {
			struct obx_slot_hdr *sh = obx_geom_slot(&g, map, w, s);
			struct cp_slot_copy c;

			cp_slot_counts(&g, sh, &c);
			for (unsigned k = 0; k < OBX_TAB_MAX; k++)
				if (c.n_used[k] > g.tab_capacity[k])
					abort();
			c.e.boot_id = g.boot_id;
			c.e.worker = w;
			c.e.seq = sh->seq;
			if (cp_slot_copy(&g, sh, &c) == 0) {
				fz_check_copy(&g, &c);
				cp_slot_release(&g, sh, c.n_used);
			}
			cp_slot_copy_free(&c);
		}
	free(map);
	return 0;
}
