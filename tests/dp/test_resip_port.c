/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_resip_port.c — the worker's RESIP port stage (dataplane/resip_port.h) on a heap
 * exchange, no EAL: records keyed (proto, port, UTC day), ICMP/other folded to port 0,
 * the forced swap at the soft limit re-probes into the new slot (pointer rule), no
 * packet lost or counted twice across it, the hard limit counts lost_updates, and an
 * absent kind switches the stage off without counting anything.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "epoch.h"
#include "resip_port.h"
#include "../fixtures/heap_xchg.h"
#include "../fixtures/test_main.h"

#define CAP 64u
#define SOFT (CAP * OBX_TAB_MAX_LOAD / 1000u)      /* 48 */
#define HARD (CAP * OBS_EPOCH_HARD_LOAD / 1000u)   /* 56 */
#define T0 (19800ull * OBX_DAY_NS + 5)

static struct obx_header *mk(uint32_t rp_cap, struct obs_epoch *e)
{
	uint32_t cap[OBX_TAB_MAX] = { 0 }, rs[OBX_TAB_MAX] = OBX_REC_SIZES;
	struct obx_header *h;

	cap[OBX_TAB_SRC] = 1024;
	cap[OBX_TAB_RESIP_PORT] = rp_cap;
	h = heap_xchg(1, 1, cap, rs);
	assert_non_null(h);
	assert_int_equal(obs_epoch_init(e, h, 0, 3600ull * 1000000000ull * 1000), 0);
	obs_epoch_time(e, T0);
	return h;
}

static uint64_t sum(struct obx_slot_hdr *sh, uint8_t proto, uint16_t port, uint32_t day,
                    uint32_t *n_recs)
{
	struct obx_resip_port_rec *t = obx_slot_tab(sh, OBX_TAB_RESIP_PORT);
	uint64_t s = 0;

	*n_recs = 0;
	for (uint32_t i = 0; i < sh->tabs[OBX_TAB_RESIP_PORT].capacity; i++)
		if (t[i].packets) {
			(*n_recs)++;
			if (t[i].proto == proto && t[i].port == port && t[i].day == day)
				s += t[i].packets;
		}
	return s;
}

static void t_keys(void **state)
{
	struct obs_epoch e;
	struct obx_header *h = mk(CAP, &e);
	uint32_t n;
	const uint32_t day = (uint32_t)(T0 / OBX_DAY_NS);

	(void)state;
	obs_resip_port_add(&e, OBX_P_TCP, 23, T0, 1);
	obs_resip_port_add(&e, OBX_P_TCP, 23, T0 + 1000, 2);
	obs_resip_port_add(&e, OBX_P_TCP, 23, T0 + OBX_DAY_NS, 1);      /* next day */
	obs_resip_port_add(&e, OBX_P_UDP, 23, T0, 1);                   /* other proto */
	obs_resip_port_add(&e, OBX_P_ICMP, 771, T0, 1);                 /* port folded */
	obs_resip_port_add(&e, OBX_P_OTHER, 5, T0, 1);
	assert_int_equal(*obs_epoch_n_used(&e, OBX_TAB_RESIP_PORT), 5);
	obs_epoch_finish(&e);
	assert_int_equal(sum(obx_slot(h, 0, 0), OBX_P_TCP, 23, day, &n), 2);
	assert_int_equal(n, 5);
	assert_int_equal(sum(obx_slot(h, 0, 0), OBX_P_TCP, 23, day + 1, &n), 1);
	assert_int_equal(sum(obx_slot(h, 0, 0), OBX_P_ICMP, 0, day, &n), 1);
	assert_int_equal(sum(obx_slot(h, 0, 0), OBX_P_OTHER, 0, day, &n), 1);
	struct obx_resip_port_rec *t = obx_slot_tab(obx_slot(h, 0, 0), OBX_TAB_RESIP_PORT);
	for (uint32_t i = 0; i < CAP; i++)
		if (t[i].packets && t[i].proto == OBX_P_TCP && t[i].day == day)
			assert_int_equal(t[i].sensor_mask, 3);
	assert_int_equal(e.c.lost_updates, 0);
	free(h);
}

static void t_swap_and_full(void **state)
{
	struct obs_epoch e;
	struct obx_header *h = mk(CAP, &e);
	uint32_t n, gen;
	uint64_t total = 0;

	(void)state;
	for (uint16_t p = 1; p <= SOFT; p++)
		obs_resip_port_add(&e, OBX_P_TCP, p, T0, 1);
	obs_resip_port_add(&e, OBX_P_TCP, 1, T0, 1);   /* update: no room needed */
	gen = obs_epoch_gen(&e);
	obs_resip_port_add(&e, OBX_P_TCP, 1000, T0, 1);   /* new: forced swap, re-probe */
	assert_int_not_equal(obs_epoch_gen(&e), gen);
	assert_int_equal(atomic_load(&obx_slot(h, 0, 0)->state), OBX_SLOT_READY);
	assert_int_equal(sum(obx_slot(h, 0, 0), OBX_P_TCP, 1, (uint32_t)(T0 / OBX_DAY_NS), &n), 2);
	assert_int_equal(n, SOFT);
	assert_int_equal(*obs_epoch_n_used(&e, OBX_TAB_RESIP_PORT), 1);
	/* other slot READY: fill to the hard limit, then new records are lost (counted) */
	for (uint16_t p = 2000; p < 2000 + HARD - 1; p++)
		obs_resip_port_add(&e, OBX_P_UDP, p, T0, 1);
	assert_int_equal(*obs_epoch_n_used(&e, OBX_TAB_RESIP_PORT), HARD);
	obs_resip_port_add(&e, OBX_P_UDP, 60000, T0, 1);
	assert_int_equal(e.c.lost_updates, 1);
	obs_resip_port_add(&e, OBX_P_TCP, 1000, T0, 1);   /* updates still land */
	obs_epoch_finish(&e);
	for (uint32_t s = 0; s < 2; s++) {
		struct obx_resip_port_rec *t = obx_slot_tab(obx_slot(h, 0, s), OBX_TAB_RESIP_PORT);
		for (uint32_t i = 0; i < CAP; i++)
			total += t[i].packets;
	}
	/* SOFT + 1 + 1 + (HARD - 1) + 1 packets added, one lost */
	assert_int_equal(total, SOFT + 1 + 1 + (HARD - 1) + 1);
	free(h);
}

static void t_absent(void **state)
{
	struct obs_epoch e;
	struct obx_header *h = mk(0, &e);

	(void)state;
	obs_resip_port_add(&e, OBX_P_TCP, 23, T0, 1);
	assert_int_equal(e.c.lost_updates, 0);
	obs_epoch_finish(&e);
	free(h);
}

#define TESTS(T) T(t_keys) T(t_swap_and_full) T(t_absent)
OBS_TEST_MAIN(TESTS, NULL, NULL)
