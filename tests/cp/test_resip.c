/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_resip.c — control/resip/resip.c: the RESIP traffic state the SRC / RESIP_PORT consumers
 * feed.  Per-day hosts, per-source days and packets, ports summed over days, hostile
 * records skipped and counted, the snapshot payload round trip and every truncation of
 * it refused (state reset, never half loaded).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "exchange.h"
#include "resip.h"
#include "../fixtures/test_main.h"

#define DAY0 19800u   /* a UTC day number */

static void fill(struct cp_resip *r)
{
	assert_int_equal(cp_resip_reserve(r, 16), 0);
	/* 10.0.0.1: day0 hours 0 and 5 (one day), day0+2 -> 2 days, 7 packets */
	assert_int_equal(cp_resip_add_src(r, 0x0a000001, DAY0 * 24, OBX_SRC_F_RESIP, 5, 3), 0);
	assert_int_equal(cp_resip_add_src(r, 0x0a000001, DAY0 * 24 + 5, OBX_SRC_F_RESIP, 1, 1), 0);
	assert_int_equal(cp_resip_add_src(r, 0x0a000001, (DAY0 + 2) * 24 + 23,
	                                  OBX_SRC_F_RESIP | OBX_SRC_F_SCANNER, 9, 3), 0);
	/* 10.0.0.2: day0 only, 2 packets */
	assert_int_equal(cp_resip_add_src(r, 0x0a000002, DAY0 * 24 + 23, OBX_SRC_F_RESIP, 2, 2), 0);
	/* not RESIP: ignored, not counted */
	assert_int_equal(cp_resip_add_src(r, 0x0a000003, DAY0 * 24, 0, 4, 0), 0);
	assert_int_equal(cp_resip_add_port(r, OBX_P_TCP, 23, DAY0, 4), 0);
	assert_int_equal(cp_resip_add_port(r, OBX_P_TCP, 23, DAY0 + 2, 3), 0);
	assert_int_equal(cp_resip_add_port(r, OBX_P_UDP, 53, DAY0, 1), 0);
	assert_int_equal(cp_resip_add_port(r, OBX_P_ICMP, 0, DAY0, 1), 0);
}

static void check(const struct cp_resip *r)
{
	struct cp_resip_totals t;
	struct cp_resip_day *d;
	struct cp_resip_src *s;
	struct cp_resip_port *p;
	uint32_t *days;
	size_t n;

	cp_resip_totals(r, &t);
	assert_int_equal(t.packets, 9);
	assert_int_equal(t.port_packets, 9);
	assert_int_equal(t.hosts, 2);
	assert_int_equal(t.host_days, 3);
	assert_int_equal(t.days, 2);
	assert_int_equal(cp_resip_daily(r, &d, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(d[0].day, DAY0);
	assert_int_equal(d[0].hosts, 2);
	assert_int_equal(d[0].packets, 6);
	assert_int_equal(d[1].day, DAY0 + 2);
	assert_int_equal(d[1].hosts, 1);
	free(d);
	assert_int_equal(cp_resip_top(r, 0, &s, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(s[0].addr, 0x0a000001);
	assert_int_equal(s[0].packets, 7);
	assert_int_equal(s[0].days, 2);
	assert_int_equal(s[0].first_day, DAY0);
	assert_int_equal(s[0].last_day, DAY0 + 2);
	assert_int_equal(s[1].packets, 2);
	free(s);
	assert_int_equal(cp_resip_src_days(r, 0x0a000001, &days, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(days[0], DAY0);
	assert_int_equal(days[1], DAY0 + 2);
	free(days);
	assert_int_equal(cp_resip_ports(r, 0, &p, &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(p[0].proto, OBX_P_TCP);
	assert_int_equal(p[0].port, 23);
	assert_int_equal(p[0].packets, 7);
	assert_int_equal(p[0].days, 2);
	assert_int_equal(p[1].proto, OBX_P_UDP);   /* ties: proto, then port */
	free(p);
	assert_int_equal(cp_resip_port_day(r, OBX_P_TCP, 23, DAY0 + 2), 3);
	assert_int_equal(cp_resip_port_day(r, OBX_P_TCP, 23, DAY0 + 1), 0);
}

static void test_merge(void **state)
{
	struct cp_resip *r = cp_resip_new();

	(void)state;
	fill(r);
	check(r);
	cp_resip_free(r);
}

static void test_hostile(void **state)
{
	struct cp_resip *r = cp_resip_new();
	struct cp_resip_totals t;

	(void)state;
	fill(r);
	assert_int_equal(cp_resip_add_src(r, 1, DAY0 * 24, OBX_SRC_F_RESIP, 5, 0), -EINVAL);
	assert_int_equal(cp_resip_add_src(r, 1, DAY0 * 24, OBX_SRC_F_RESIP, 5, 6), -EINVAL);
	assert_int_equal(cp_resip_add_src(r, 1, DAY0 * 24, 0, 5, 1), -EINVAL);
	assert_int_equal(cp_resip_add_port(r, OBX_P_TCP, 80, DAY0, 0), -EINVAL);
	assert_int_equal(cp_resip_add_port(r, OBX_P_N, 80, DAY0, 1), -EINVAL);
	assert_int_equal(cp_resip_add_port(r, OBX_P_ICMP, 80, DAY0, 1), -EINVAL);
	cp_resip_totals(r, &t);
	assert_int_equal(t.bad_records, 6);
	t.bad_records = 0;
	check(r);    /* nothing else changed */
	cp_resip_free(r);
}

static void test_snapshot(void **state)
{
	struct cp_resip *r = cp_resip_new(), *q = cp_resip_new();
	uint8_t *buf;
	size_t len;
	char err[256];

	(void)state;
	fill(r);
	assert_int_equal(cp_resip_save(r, &buf, &len), 0);
	assert_int_equal(cp_resip_load(q, buf, len, err, sizeof(err)), 0);
	check(q);
	/* every truncation and a longer payload are refused, and leave q empty */
	for (size_t l = 0; l < len; l++) {
		struct cp_resip_totals t;

		assert_int_equal(cp_resip_load(q, buf, l, err, sizeof(err)), -EBADMSG);
		cp_resip_totals(q, &t);
		assert_int_equal(t.packets + t.hosts + t.host_days, 0);
	}
	uint8_t *big = calloc(1, len + 8);
	memcpy(big, buf, len);
	assert_int_equal(cp_resip_load(q, big, len + 8, err, sizeof(err)), -EBADMSG);
	/* a bad magic */
	memcpy(big, buf, len);
	big[0] ^= 1;
	assert_int_equal(cp_resip_load(q, big, len, err, sizeof(err)), -EBADMSG);
	free(big);
	free(buf);
	cp_resip_free(r);
	cp_resip_free(q);
}

#define TESTS(T) T(test_merge) T(test_hostile) T(test_snapshot)
OBS_TEST_MAIN(TESTS, NULL, NULL)
