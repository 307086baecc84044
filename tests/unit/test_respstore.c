/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_respstore.c — the responder's handshake store and gamma (SPEC.md A11) with
 * constructed records: the ceil(|H|/2) threshold at exactly that many addresses and one
 * fewer, |H| odd and even, the responder off (gamma null), bad records counted and
 * dropped, payloads capped (the earliest kept, whatever the arrival order), the snapshot
 * payload round trip and damaged payloads.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "period.h"
#include "control/scan/respstore.h"

#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (d))
/* 2024-03-05 10:00 UTC, in ns */
#define T0 (1709632800ull * 1000000000ull)
#define MONTH_NS (31ull * 86400 * 1000000000ull)

static struct obx_resp_rec rec(uint32_t src, uint32_t dst, uint16_t port, uint64_t t)
{
	struct obx_resp_rec r;

	memset(&r, 0, sizeof(r));
	r.src = src;
	r.dst = dst;
	r.dport = port;
	r.count = 1;
	r.first_ns = r.last_ns = t;
	r.hour = (uint32_t)(t / OBX_HOUR_NS);
	return r;
}

/* H = 10.9.0.0/30 (4 addresses) and, with odd, 10.9.1.7/32 too (5). */
static void mk(struct resp_store *s, bool odd)
{
	uint32_t a[2] = { IP(10, 9, 0, 0), IP(10, 9, 1, 7) };
	uint8_t l[2] = { 30, 32 };

	assert_int_equal(resp_store_init(s, 16, OBS_PU_MONTH), 0);
	assert_int_equal(resp_store_set_h(s, a, l, odd ? 2 : 1), 0);
}

/* sessions from block 1.2.0.0/16 to the first k addresses of H on port, at t */
static void sessions(struct resp_store *s, uint16_t port, unsigned k, uint64_t t)
{
	static const uint32_t h[5] = { IP(10, 9, 0, 0), IP(10, 9, 0, 1), IP(10, 9, 0, 2),
	                               IP(10, 9, 0, 3), IP(10, 9, 1, 7) };

	assert_int_equal(resp_store_reserve(s, k, 0, 0), 0);
	for (unsigned i = 0; i < k; i++) {
		struct obx_resp_rec r = rec(IP(1, 2, 3, (uint8_t)(i + 1)), h[i], port, t);
		assert_int_equal(resp_store_add(s, &r), 0);
	}
}

static void threshold_even(void **st)
{
	struct resp_store s;
	uint16_t ports[3] = { 22, 80, 443 };
	uint32_t per = obs_period_index(OBS_PU_MONTH, T0), app;

	(void)st;
	mk(&s, false);
	assert_int_equal(s.h_size, 4);
	assert_int_equal(resp_store_threshold(&s), 2);
	sessions(&s, 22, 2, T0);     /* exactly ceil(4/2) */
	sessions(&s, 80, 1, T0);     /* one fewer */
	/* the same address again, another hour and source of the block: still one */
	{
		struct obx_resp_rec r = rec(IP(1, 2, 200, 9), IP(10, 9, 0, 0), 80,
		                            T0 + 3 * OBX_HOUR_NS);
		assert_int_equal(resp_store_add(&s, &r), 0);
	}
	assert_int_equal(resp_store_distinct(&s, per, IP(1, 2, 0, 0), 80, NULL), 1);
	assert_true(resp_store_gamma(&s, per, IP(1, 2, 0, 0), ports, 3, &app));
	assert_int_equal(app, 1);            /* 22 only; 443 had nothing */
	/* another block has nothing */
	assert_true(resp_store_gamma(&s, per, IP(1, 3, 0, 0), ports, 3, &app));
	assert_int_equal(app, 0);
	resp_store_fini(&s);
}

static void threshold_odd(void **st)
{
	struct resp_store s;
	uint16_t ports[2] = { 23, 8080 };
	uint32_t per = obs_period_index(OBS_PU_MONTH, T0), app;

	(void)st;
	mk(&s, true);
	assert_int_equal(s.h_size, 5);
	assert_int_equal(resp_store_threshold(&s), 3);
	sessions(&s, 23, 3, T0);      /* exactly ceil(5/2) */
	sessions(&s, 8080, 2, T0);    /* one fewer */
	assert_true(resp_store_gamma(&s, per, IP(1, 2, 0, 0), ports, 2, &app));
	assert_int_equal(app, 1);
	/* the next period is a period of its own: sessions there do not add up */
	sessions(&s, 8080, 1, T0 + MONTH_NS);
	assert_int_equal(resp_store_distinct(&s, per, IP(1, 2, 0, 0), 8080, NULL), 2);
	resp_store_fini(&s);
}

static void off_is_null(void **st)
{
	struct resp_store s;
	uint16_t ports[1] = { 22 };
	uint32_t per = obs_period_index(OBS_PU_MONTH, T0), app = 99;

	(void)st;
	mk(&s, false);
	/* no epoch with the responder on, no record: null */
	assert_false(resp_store_gamma(&s, per, IP(1, 2, 0, 0), ports, 1, &app));
	assert_int_equal(app, 0);
	/* an epoch with the flag covers the period: gamma 0, not null */
	assert_int_equal(resp_store_reserve(&s, 0, T0, T0 + OBX_HOUR_NS), 0);
	resp_store_mark_on(&s, T0, T0 + OBX_HOUR_NS);
	assert_true(resp_store_gamma(&s, per, IP(1, 2, 0, 0), ports, 1, &app));
	assert_int_equal(app, 0);
	assert_false(resp_store_on(&s, per + 1));
	/* an absurd epoch span (a bad clock) is counted and marks nothing */
	resp_store_mark_on(&s, 0, T0);
	resp_store_mark_on(&s, T0, T0 - 1);
	assert_int_equal(s.bad_epochs, 2);
	assert_false(resp_store_on(&s, per - 1));
	/* H empty (responder.prefixes removed): null even where it was on */
	assert_int_equal(resp_store_set_h(&s, NULL, NULL, 0), 0);
	assert_false(resp_store_gamma(&s, per, IP(1, 2, 0, 0), ports, 1, &app));
	resp_store_fini(&s);
}

static void bad_records(void **st)
{
	struct resp_store s;
	struct obx_resp_rec r;

	(void)st;
	mk(&s, false);
	assert_int_equal(resp_store_reserve(&s, 8, 0, 0), 0);
	r = rec(IP(1, 2, 3, 4), IP(10, 9, 0, 4), 22, T0);      /* outside H */
	assert_int_equal(resp_store_add(&s, &r), 1);
	r = rec(IP(1, 2, 3, 4), IP(10, 9, 0, 1), 0, T0);       /* port 0 */
	assert_int_equal(resp_store_add(&s, &r), 1);
	r = rec(IP(1, 2, 3, 4), IP(10, 9, 0, 1), 22, T0);
	r.flags = OBX_RESP_F_PAYLOAD;
	r.payload_len = 65535;                                 /* huge payload_len */
	assert_int_equal(resp_store_add(&s, &r), 1);
	r = rec(IP(1, 2, 3, 4), IP(10, 9, 0, 1), 22, T0);
	r.hour++;                                              /* hour contract broken */
	assert_int_equal(resp_store_add(&s, &r), 1);
	r = rec(IP(1, 2, 3, 4), IP(10, 9, 0, 1), 22, T0);
	r.count = 0;                                           /* empty: not a record */
	assert_int_equal(resp_store_add(&s, &r), 0);
	assert_int_equal(s.bad[RESP_BAD_OUTSIDE], 1);
	assert_int_equal(s.bad[RESP_BAD_PORT], 1);
	assert_int_equal(s.bad[RESP_BAD_LEN], 1);
	assert_int_equal(s.bad[RESP_BAD_TIME], 1);
	assert_int_equal(s.records, 4);
	assert_int_equal(s.sessions, 0);
	assert_int_equal(resp_store_n_pairs(&s), 0);
	assert_int_equal(resp_store_n_on(&s), 0);
	/* bad H: overlapping prefixes, host bits, too many */
	{
		uint32_t a[2] = { IP(10, 9, 0, 0), IP(10, 9, 0, 2) };
		uint8_t l[2] = { 30, 32 };
		assert_int_equal(resp_store_set_h(&s, a, l, 2), -EINVAL);
		l[0] = 31;
		a[0] = IP(10, 9, 0, 1);
		assert_int_equal(resp_store_set_h(&s, a, l, 1), -EINVAL);
		assert_int_equal(resp_store_set_h(&s, a, l, RESP_H_MAX + 1), -EINVAL);
		assert_int_equal(s.h_size, 4);    /* unchanged */
	}
	resp_store_fini(&s);
}

/* five payload records on port 80 at T0 + 0..4, added in the order given */
static void add_payloads(struct resp_store *s, const unsigned order[5])
{
	assert_int_equal(resp_store_reserve(s, 5, 0, 0), 0);
	for (unsigned j = 0; j < 5; j++) {
		unsigned i = order[j];
		struct obx_resp_rec r = rec(IP(1, 2, 0, (uint8_t)(i + 1)), IP(10, 9, 0, i & 3), 80, T0 + i);
		r.flags = OBX_RESP_F_PAYLOAD | (i == 1 ? OBX_RESP_F_RULE : 0);
		r.sid = i == 1 ? 2010935 : 0;
		r.payload_len = (uint16_t)(i == 0 ? OBX_RESP_PAYLOAD : 4);
		memset(r.payload, 'A' + (int)i, r.payload_len);
		assert_int_equal(resp_store_add(s, &r), 0);
	}
}

static void payloads_capped(void **st)
{
	static const unsigned asc[5] = { 0, 1, 2, 3, 4 };
	struct resp_store s;
	const struct resp_paycell *c;

	(void)st;
	mk(&s, false);
	add_payloads(&s, asc);
	c = resp_store_pay_get(&s, IP(1, 2, 0, 0), 80);
	assert_non_null(c);
	assert_int_equal(c->n, RESP_PAY_PER);
	assert_int_equal(c->seen, 5);
	assert_int_equal(c->pay[0].len, OBX_RESP_PAYLOAD);
	assert_int_equal(c->pay[0].bytes[OBX_RESP_PAYLOAD - 1], 'A');
	assert_int_equal(c->pay[1].sid, 2010935);
	assert_int_equal(c->pay[2].bytes[0], 'C');
	assert_null(resp_store_pay_get(&s, IP(1, 2, 0, 0), 81));
	resp_store_fini(&s);
}

/* the payloads kept are the earliest three, in time order, whatever order the records
 * come in (an appliance's exchange order, a fleet's ClickHouse rows) */
static void payloads_order_free(void **st)
{
	static const unsigned asc[5] = { 0, 1, 2, 3, 4 };
	static const unsigned orders[3][5] = { { 4, 3, 2, 1, 0 }, { 3, 0, 4, 2, 1 }, { 2, 4, 1, 3, 0 } };
	struct resp_store a, b;
	const struct resp_paycell *x, *y;

	(void)st;
	mk(&a, false);
	add_payloads(&a, asc);
	x = resp_store_pay_get(&a, IP(1, 2, 0, 0), 80);
	assert_non_null(x);
	for (unsigned k = 0; k < RESP_PAY_PER; k++)
		assert_true(x->pay[k].ts_ns == T0 + k && x->pay[k].src == IP(1, 2, 0, k + 1));
	for (unsigned o = 0; o < 3; o++) {
		mk(&b, false);
		add_payloads(&b, orders[o]);
		y = resp_store_pay_get(&b, IP(1, 2, 0, 0), 80);
		assert_non_null(y);
		assert_int_equal(y->n, RESP_PAY_PER);
		assert_int_equal(y->seen, 5);
		assert_memory_equal(x->pay, y->pay, sizeof(x->pay));
		resp_store_fini(&b);
	}
	resp_store_fini(&a);
}

static void roundtrip(void **st)
{
	struct resp_store s, t;
	uint8_t *buf;
	size_t len;
	const char *why = NULL;
	uint16_t ports[2] = { 22, 80 };
	uint32_t per = obs_period_index(OBS_PU_MONTH, T0), app;

	(void)st;
	mk(&s, false);
	sessions(&s, 22, 3, T0);
	sessions(&s, 80, 1, T0);
	{
		struct obx_resp_rec r = rec(IP(1, 2, 9, 9), IP(10, 9, 0, 2), 80, T0);
		r.flags = OBX_RESP_F_PAYLOAD;
		r.payload_len = 3;
		memcpy(r.payload, "GET", 3);
		assert_int_equal(resp_store_reserve(&s, 1, 0, 0), 0);
		assert_int_equal(resp_store_add(&s, &r), 0);
	}
	assert_int_equal(resp_store_serialize(&s, &buf, &len), 0);
	mk(&t, false);
	assert_int_equal(resp_store_deserialize(&t, buf, len, &why), 0);
	assert_int_equal(resp_store_n_pairs(&t), resp_store_n_pairs(&s));
	assert_int_equal(t.sessions, s.sessions);
	assert_int_equal(resp_store_distinct(&t, per, IP(1, 2, 0, 0), 80, NULL), 2);
	assert_true(resp_store_gamma(&t, per, IP(1, 2, 0, 0), ports, 2, &app));
	assert_int_equal(app, 2);
	assert_memory_equal(resp_store_pay_get(&t, IP(1, 2, 0, 0), 80)->pay[0].bytes, "GET", 3);
	/* damaged: truncated, a count off, a zeroed pair, another L */
	assert_int_equal(resp_store_deserialize(&t, buf, len - 1, &why), -EBADMSG);
	assert_int_equal(resp_store_deserialize(&t, buf, 10, &why), -EBADMSG);
	{
		uint8_t *d = malloc(len);
		memcpy(d, buf, len);
		d[12]++;                                      /* n_pairs */
		assert_int_equal(resp_store_deserialize(&t, d, len, &why), -EBADMSG);
		memcpy(d, buf, len);
		memset(d + len - sizeof(struct resp_paycell) - 8 * resp_store_n_on(&s) - 8, 0, 8);
		assert_int_equal(resp_store_deserialize(&t, d, len, &why), -EBADMSG);
		memcpy(d, buf, len);
		d[8] = 24;                                    /* block_len */
		assert_int_equal(resp_store_deserialize(&t, d, len, &why), -ESTALE);
		free(d);
	}
	/* t unchanged by the refused loads */
	assert_int_equal(resp_store_n_pairs(&t), resp_store_n_pairs(&s));
	free(buf);
	resp_store_fini(&s);
	resp_store_fini(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(threshold_even),
		cmocka_unit_test(threshold_odd),
		cmocka_unit_test(off_is_null),
		cmocka_unit_test(bad_records),
		cmocka_unit_test(payloads_capped),
		cmocka_unit_test(payloads_order_free),
		cmocka_unit_test(roundtrip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
