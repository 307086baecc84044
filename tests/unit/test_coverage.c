/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_coverage.c — the worker's coverage stage (dataplane/coverage.c) on a heap
 * exchange, drained into the control plane's coverage store (cp_scan_apply_cells)
 * and compared with a plain model: inline slots, the spill into a bitmap, SYNs to
 * unsampled destinations, period boundaries inside one epoch, forced swaps when the
 * cell table or the bitmap pool fills (nothing lost, nothing counted twice, every SYN's
 * counter in the epoch of its cell), and
 * malformed records from a hostile exchange counted, never trusted.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "control/scan/scan_mod.h"
#include "control/scan/covstore.h"
#include "dataplane/coverage.h"
#include "dataplane/epoch.h"
#include "dataplane/common/period.h"
#include "dataplane/common/telescope.h"
#include "../fixtures/heap_xchg.h"
#include "../fixtures/test_main.h"

#define SS 100u   /* |S| */
#define T0 ((uint64_t)obs_days_from_civil(2024, 1, 31) * OBS_NS_PER_DAY)

static struct obx_header *mk(uint32_t cell_cap, uint32_t pool_cap, void **mem)
{
	uint32_t cap[OBX_TAB_MAX] = { 0 }, rs[OBX_TAB_MAX] = { 0 };
	struct obx_header *h;

	cap[OBX_TAB_SRC] = 1024;
	rs[OBX_TAB_SRC] = OBX_REC_SIZE_SRC;
	cap[OBX_TAB_CELL] = cell_cap;
	rs[OBX_TAB_CELL] = OBX_REC_SIZE_CELL;
	cap[OBX_TAB_BITMAP] = pool_cap;
	rs[OBX_TAB_BITMAP] = obx_bitmap_rec_size(SS);
	h = heap_xchg(1, 0, cap, rs);
	assert_non_null(h);
	*mem = h;
	return h;
}

/* Drain every READY slot of worker 0 into cs, freeing it (what the cp does). */
static uint64_t drain(struct obx_header *h, struct cov_store *cs, struct obx_counters *tot)
{
	uint64_t bad = 0, n = 0;
	for (uint32_t s = 0; s < OBX_SLOTS; s++) {
		struct obx_slot_hdr *sh = obx_slot(h, 0, s);
		if (atomic_load(&sh->state) != OBX_SLOT_READY)
			continue;
		/* a SYN's counter and its cell land in the same epoch, forced swaps or not */
		const struct obx_cell_rec *cr = obx_slot_tab(sh, OBX_TAB_CELL);
		uint64_t syns = 0;
		for (uint32_t i = 0; i < sh->tabs[OBX_TAB_CELL].capacity; i++)
			syns += cr[i].syns;
		if (sh->delta.lost_updates == 0)
			assert_int_equal(syns, sh->delta.cov_syns);
		long k = cp_scan_apply_cells(cs, obx_slot_tab(sh, OBX_TAB_CELL),
		                             sh->tabs[OBX_TAB_CELL].capacity,
		                             obx_slot_tab(sh, OBX_TAB_BITMAP),
		                             sh->tabs[OBX_TAB_BITMAP].n_used,
		                             sh->tabs[OBX_TAB_BITMAP].rec_size, &bad);
		assert_true(k >= 0);
		n += (uint64_t)k;
		obs_counters_add(tot, &sh->delta);
		/* clear and free it */
		for (unsigned kind = 0; kind < OBX_TAB_MAX; kind++) {
			void *base = obx_slot_tab(sh, kind);
			if (base)
				memset(base, 0, (size_t)sh->tabs[kind].capacity * sh->tabs[kind].rec_size);
			sh->tabs[kind].n_used = 0;
		}
		memset(&sh->delta, 0, sizeof(sh->delta));
		atomic_store(&sh->state, OBX_SLOT_FREE);
	}
	assert_int_equal(bad, 0);
	return n;
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)rng;
}

/* model: 4 blocks x 3 ports x 2 periods */
static uint8_t model[4][3][2][SS];
static uint64_t msyn[4][3][2], mmirai[4][3][2];

static void run_traffic(uint32_t cell_cap, uint32_t pool_cap, int drain_every)
{
	void *mem;
	struct obx_header *h = mk(cell_cap, pool_cap, &mem);
	struct obs_epoch e;
	struct obs_cov cv;
	struct cov_store cs;
	struct obx_counters tot;
	static const uint16_t ports[3] = { 22, 23, 445 };
	uint64_t n_syn = 0;

	memset(model, 0, sizeof(model));
	memset(msyn, 0, sizeof(msyn));
	memset(mmirai, 0, sizeof(mmirai));
	memset(&tot, 0, sizeof(tot));
	assert_int_equal(cov_store_init(&cs, SS, 16, OBS_PU_MONTH), 0);
	assert_int_equal(obs_epoch_init(&e, h, 0, 3600ull * OBS_NS_PER_S * 100), 0);
	obs_cov_init(&cv, 16, OBS_PU_MONTH);
	for (int i = 0; i < 20000; i++) {
		uint32_t b = rnd() % 4, p = rnd() % 3;
		/* the last hour of January and the first of February, in one epoch */
		uint64_t t = T0 + 23ull * 3600 * OBS_NS_PER_S + (uint64_t)i * 360000000ull;
		uint32_t per = t >= (uint64_t)obs_days_from_civil(2024, 2, 1) * OBS_NS_PER_DAY;
		/* block 0 hits few slots (stays inline), the others many (spill) */
		uint32_t slot = b == 0 ? rnd() % 5 : rnd() % (SS + 20);
		int mirai = rnd() % 7 == 0;
		if (slot >= SS)
			slot = OBS_TEL_NO_SLOT;       /* an unsampled destination */
		obs_epoch_time(&e, t);
		obs_cov_syn(&cv, &e, ((b + 1) << 16) | (rnd() & 0xffff), ports[p], t, slot, mirai, 0);
		n_syn++;
		if (slot != OBS_TEL_NO_SLOT)
			model[b][p][per][slot] = 1;
		msyn[b][p][per]++;
		mmirai[b][p][per] += mirai;
		if (drain_every && i % drain_every == 0)
			drain(h, &cs, &tot);
	}
	obs_epoch_finish(&e);
	drain(h, &cs, &tot);
	assert_int_equal(tot.cov_syns, n_syn);
	assert_int_equal(tot.lost_updates, 0);
	for (uint32_t b = 0; b < 4; b++)
		for (uint32_t p = 0; p < 3; p++)
			for (uint32_t per = 0; per < 2; per++) {
				struct cov_key k = { (2024 - 1970) * 12 + per, (b + 1) << 16, ports[p], 6 };
				const struct cov_cell *c = cov_store_find(&cs, &k);
				uint32_t n = 0;
				for (uint32_t s = 0; s < SS; s++)
					n += model[b][p][per][s];
				if (msyn[b][p][per] == 0) {
					assert_null(c);
					continue;
				}
				assert_non_null(c);
				assert_int_equal(c->syns, msyn[b][p][per]);
				assert_int_equal(c->mirai, mmirai[b][p][per]);
				assert_int_equal(c->n, n);
				for (uint32_t s = 0; s < SS; s++)
					assert_int_equal(cov_cell_has(&cs, c, s), model[b][p][per][s]);
			}
	cov_store_fini(&cs);
	free(mem);
}

static void test_roomy(void **state)
{
	(void)state;
	run_traffic(1024, 64, 0);
}

static void test_forced_swaps(void **state)
{
	(void)state;
	/* 8 cell records, 2 bitmaps per slot: swaps all the time; the cp drains often
	 * enough that nothing is lost (a live dataplane would count lost_updates instead) */
	run_traffic(8, 2, 1);
}

static void test_hostile_records(void **state)
{
	struct cov_store cs;
	struct obx_cell_rec r[3];
	uint8_t pool[64];
	uint64_t bad = 0;

	(void)state;
	assert_int_equal(cov_store_init(&cs, SS, 16, OBS_PU_MONTH), 0);
	memset(r, 0, sizeof(r));
	memset(pool, 0, sizeof(pool));
	r[0] = (struct obx_cell_rec){ .block = 1 << 16, .dport = 1, .proto = 6, .syns = 1,
	                              .n_inline = 10 };                      /* > 9 */
	r[1] = (struct obx_cell_rec){ .block = 1 << 16, .dport = 2, .proto = 6, .syns = 1,
	                              .flags = OBX_CELL_F_BITMAP, .bitmap = 1 };  /* past the pool */
	r[2] = (struct obx_cell_rec){ .block = 1 << 16, .dport = 3, .proto = 6, .syns = 1,
	                              .n_inline = 1, .inline_slot = { SS } };    /* slot >= |S| */
	assert_int_equal(cp_scan_apply_cells(&cs, r, 3, pool, 1, 64, &bad), 0);
	assert_int_equal(bad, 3);
	pool[SS / 8] = 1u << (SS % 8);                                       /* bit SS set */
	r[1].bitmap = 0;
	bad = 0;
	assert_int_equal(cp_scan_apply_cells(&cs, &r[1], 1, pool, 1, 64, &bad), 0);
	assert_int_equal(bad, 1);
	assert_int_equal(cs.cells.n, 0);
	cov_store_fini(&cs);
}

#define TESTS(T) T(test_roomy) T(test_forced_swaps) T(test_hostile_records)
OBS_TEST_MAIN(TESTS, NULL, NULL)
