/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_dos.c — the worker's DoS backscatter stage (dataplane/dos.h, docs/dos.md) on a
 * heap exchange, no EAL: the backscatter classification (every type of Moore et al.
 * Table I, and what is not: SYN, ACK, UDP, echo request, later fragments), records
 * keyed (victim, UTC minute), first/last, the victim-port list and its saturating count,
 * the protocol mask, the dark-address bitmap, and an absent kind counting nothing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "epoch.h"
#include "dos.h"
#include "../fixtures/heap_xchg.h"
#include "../fixtures/test_main.h"

#define T0 (28000000ull * OBX_MINUTE_NS + 7)

static struct obx_header *mk(uint32_t dos_cap, struct obs_epoch *e)
{
	uint32_t cap[OBX_TAB_MAX] = { 0 }, rs[OBX_TAB_MAX] = OBX_REC_SIZES;
	struct obx_header *h;

	cap[OBX_TAB_SRC] = 1024;
	cap[OBX_TAB_DOS] = dos_cap;
	h = heap_xchg(1, 1, cap, rs);
	assert_non_null(h);
	assert_int_equal(obs_epoch_init(e, h, 0, 3600ull * 1000000000ull * 1000), 0);
	obs_epoch_time(e, T0);
	return h;
}

static const struct obx_dos_rec *find(struct obx_slot_hdr *sh, uint32_t victim, uint32_t minute,
                                      uint32_t *n_recs)
{
	const struct obx_dos_rec *t = obx_slot_tab(sh, OBX_TAB_DOS), *hit = NULL;

	*n_recs = 0;
	for (uint32_t i = 0; i < sh->tabs[OBX_TAB_DOS].capacity; i++)
		if (t[i].packets) {
			(*n_recs)++;
			if (t[i].victim == victim && t[i].minute == minute)
				hit = &t[i];
		}
	return hit;
}

static void t_classify(void **state)
{
	(void)state;
	assert_true(obx_is_backscatter(6, 0x12, 0, 0));     /* SYN+ACK */
	assert_true(obx_is_backscatter(6, 0x04, 0, 0));     /* RST */
	assert_true(obx_is_backscatter(6, 0x14, 0, 0));     /* RST+ACK */
	assert_true(obx_is_backscatter(6, 0x16, 0, 0));
	assert_false(obx_is_backscatter(6, 0x02, 0, 0));    /* SYN: a scan */
	assert_false(obx_is_backscatter(6, 0x10, 0, 0));    /* ACK */
	assert_false(obx_is_backscatter(6, 0x11, 0, 0));    /* FIN+ACK */
	assert_false(obx_is_backscatter(6, 0x12, 0, 1));    /* a later fragment */
	for (unsigned ty = 0; ty < 256; ty++) {
		int want = ty == 0 || ty == 3 || ty == 4 || ty == 5 || ty == 11 || ty == 12 ||
		           ty == 14 || ty == 16 || ty == 18;
		assert_int_equal(obx_is_backscatter(1, 0, (uint8_t)ty, 0), want);
		assert_false(obx_is_backscatter(1, 0, (uint8_t)ty, 1));
	}
	assert_false(obx_is_backscatter(17, 0, 0, 0));      /* UDP */
	assert_false(obx_is_backscatter(47, 0x12, 0, 0));   /* GRE */
}

static void t_records(void **state)
{
	struct obs_epoch e;
	struct obx_header *h = mk(64, &e);
	const uint32_t v = 0x0a000001u, m0 = (uint32_t)(T0 / OBX_MINUTE_NS);
	const struct obx_dos_rec *r;
	uint32_t n;

	(void)state;
	obs_dos_add(&e, v, 0xc6120001u, T0 + 5000, OBX_P_TCP, 80);
	obs_dos_add(&e, v, 0xc6120002u, T0 + 1000, OBX_P_TCP, 443);   /* earlier: first */
	obs_dos_add(&e, v, 0xc6120001u, T0 + 9000, OBX_P_TCP, 80);    /* same port, same dark */
	obs_dos_add(&e, v, 0xc6120003u, T0 + 8000, OBX_P_ICMP, 0);
	obs_dos_add(&e, v, 0xc6120003u, T0 + 7000, OBX_P_TCP, 22);
	obs_dos_add(&e, v, 0xc6120003u, T0 + 7000, OBX_P_TCP, 25);    /* 4th distinct port */
	obs_dos_add(&e, v, 0xc6120004u, T0 + OBX_MINUTE_NS, OBX_P_TCP, 80);   /* next minute */
	obs_dos_add(&e, v + 1, 0xc6120004u, T0, OBX_P_ICMP, 0);               /* other victim */
	assert_int_equal(*obs_epoch_n_used(&e, OBX_TAB_DOS), 3);
	obs_epoch_finish(&e);

	r = find(obx_slot(h, 0, 0), v, m0, &n);
	assert_int_equal(n, 3);
	assert_non_null(r);
	assert_int_equal(r->packets, 6);
	assert_int_equal(r->first_ns, T0 + 1000);
	assert_int_equal(r->last_ns, T0 + 9000);
	assert_int_equal(r->ports[0], 80);
	assert_int_equal(r->ports[1], 443);
	assert_int_equal(r->ports[2], 22);
	assert_int_equal(r->n_ports, 4);
	assert_int_equal(r->proto_mask, (1u << OBX_P_TCP) | (1u << OBX_P_ICMP));
	unsigned bits = 0;
	for (unsigned w = 0; w < OBX_DOS_DARK_W; w++)
		bits += (unsigned)__builtin_popcountll(r->dark[w]);
	/* three dark addresses: three bits unless two collide in the 192 */
	unsigned b1 = obx_dos_dark_bit(0xc6120001u), b2 = obx_dos_dark_bit(0xc6120002u),
	         b3 = obx_dos_dark_bit(0xc6120003u);
	assert_int_equal(bits, 1u + (b2 != b1) + (b3 != b1 && b3 != b2));
	assert_true(r->dark[b1 / 64] >> (b1 % 64) & 1);

	r = find(obx_slot(h, 0, 0), v, m0 + 1, &n);
	assert_non_null(r);
	assert_int_equal(r->packets, 1);
	assert_int_equal(r->proto_mask, 1u << OBX_P_TCP);
	r = find(obx_slot(h, 0, 0), v + 1, m0, &n);
	assert_non_null(r);
	assert_int_equal(r->n_ports, 0);
	assert_int_equal(r->ports[0], 0);
	free(h);
}

/* 300 distinct ports: the count saturates at 255, never wraps */
static void t_ports_saturate(void **state)
{
	struct obs_epoch e;
	struct obx_header *h = mk(64, &e);
	uint32_t n;

	(void)state;
	for (unsigned p = 1; p <= 300; p++)
		obs_dos_add(&e, 7, 0xc6120001u, T0, OBX_P_TCP, (uint16_t)p);
	obs_epoch_finish(&e);
	const struct obx_dos_rec *r = find(obx_slot(h, 0, 0), 7, (uint32_t)(T0 / OBX_MINUTE_NS), &n);
	assert_non_null(r);
	assert_int_equal(r->packets, 300);
	assert_int_equal(r->n_ports, 255);
	free(h);
}

/* no DOS kind in the exchange: nothing written, nothing counted lost */
static void t_absent(void **state)
{
	struct obs_epoch e;
	struct obx_header *h = mk(0, &e);

	(void)state;
	obs_dos_add(&e, 7, 0xc6120001u, T0, OBX_P_TCP, 80);
	assert_int_equal(e.c.lost_updates, 0);
	obs_epoch_finish(&e);
	free(h);
}

#define TESTS(T) T(t_classify) T(t_records) T(t_ports_saturate) T(t_absent)
OBS_TEST_MAIN(TESTS, NULL, NULL)
