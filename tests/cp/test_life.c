/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_life.c — the control plane's lifetime analysis (control/life/) as the store
 * drives it: SRC records become lifetime aggregates unless flagged excluded (skipped and
 * counted), EVENT records add types and categories without adding events, hostile records
 * (hour not matching the time, first > last, sensor >= 64, category out of range) are
 * skipped and counted, a table with the wrong record size refuses the whole epoch, and
 * life.show / life.summary answer from it.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "analysis.h"
#include "life_mod.h"
#include "exchange_recs.h"
#include "report.h"
#include "snapshot.h"
#include "store.h"
#include "../fixtures/test_main.h"

#define H  OBX_HOUR_NS
#define T0 (472222ull * H)          /* an hour boundary */

static struct cp cp;

static int setup(void **state)
{
	(void)state;
	memset(&cp, 0, sizeof(cp));
	obs_conf_defaults(&cp.conf);
	assert_int_equal(cp_store_init(&cp.store), 0);
	assert_int_equal(cp_analysis_start(&cp, &cp_analysis_life), 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	cp_analyses_stop();      /* fini, and every registration dropped */
	cp_store_fini(&cp.store);
	return 0;
}

static struct obx_src_rec src(uint32_t addr, uint64_t f, uint64_t l, uint64_t pk, uint32_t flags)
{
	return (struct obx_src_rec){ .addr = addr, .hour = (uint32_t)(f / H), .first_ns = f,
	                             .last_ns = l, .packets = pk, .sensor_mask = 1, .flags = flags };
}

static struct obx_event_rec evr(uint32_t addr, uint64_t t, uint32_t type, uint8_t sensor,
                                uint8_t cat)
{
	return (struct obx_event_rec){ .addr = addr, .hour = (uint32_t)(t / H), .type = type,
	                               .sensor = sensor, .category = cat, .count = 1,
	                               .first_ns = t, .last_ns = t };
}

/* The command's handler, as the analysis registered it (analysis.h). */
static json_t *cmd(const char *name, json_t *args, enum cp_err want)
{
	const struct cp_cmd *c = cp_cmd_find(name);
	struct cp_reply r;

	assert_non_null(c);
	memset(&r, 0, sizeof(r));
	c->fn(&cp, args, &r);
	json_decref(args);
	assert_int_equal(r.err, want);
	return r.data;
}

/* The source record's inline event (exchange.h) is an event like a table record; and
 * epochs of known sources do not grow the table (the reserve counts new sources only). */
static void test_inline_event_and_reserve(void **state)
{
	enum { N = 5000 };
	struct obx_src_rec *s = calloc(N, sizeof(*s));
	const uint32_t syn23 = obs_ev_class_id(OBS_EVC_TCP_SYN, 23);
	const struct cp_life_src *ls;
	uint64_t mem1, mem;
	json_t *d;

	(void)state;
	assert_non_null(s);
	for (uint64_t seq = 1; seq <= 5; seq++) {
		struct cp_epoch ep;

		for (uint32_t i = 0; i < N; i++) {
			s[i] = src(0x0b000000u + i, T0 + (seq - 1) * H + i, T0 + (seq - 1) * H + i + 9,
			           3, 0);
			s[i].ev_mode = OBX_SRC_EV_INLINE;
			s[i].ev_type = syn23;
			s[i].ev_sensor = 1;
		}
		s[7].ev_mode = 7;                                  /* not a mode: counted bad */
		memset(&ep, 0, sizeof(ep));
		ep.boot_id = 1;
		ep.seq = seq;
		cp_epoch_add_tab(&ep, OBX_TAB_SRC, sizeof(*s), s, N);
		assert_int_equal(cp_store_apply(&cp.store, &ep), 0);
		d = cmd("life.summary", json_object(), CP_E_OK);
		mem = (uint64_t)json_integer_value(json_object_get(d, "memory_bytes"));
		assert_int_equal(json_integer_value(json_object_get(d, "event_records")),
		                 seq * (N - 1));
		assert_int_equal(json_integer_value(json_object_get(d, "bad_records")), seq);
		json_decref(d);
		if (seq == 1)
			mem1 = mem;
		assert_int_equal(mem, mem1);                       /* same sources: no growth */
	}
	ls = cp_life_find(cp_life_module_table(), 0x0b000001u);
	assert_non_null(ls);
	assert_int_equal(cp_life_src_events(ls), 15);
	assert_int_equal(cp_life_src_sensors(ls), 1u | 2u);   /* SRC mask | inline sensor */
	assert_int_equal(cp_life_groups(ls)[0].n_types, 1);
	assert_int_equal(cp_life_group_types(&cp_life_groups(ls)[0])[0], syn23);
	ls = cp_life_find(cp_life_module_table(), 0x0b000007u);
	assert_non_null(ls);                                     /* the source still counts */
	assert_int_equal(cp_life_groups(ls)[0].n_types, 0);      /* its bad event does not */
	free(s);
}

static void test_consume(void **state)
{
	struct obx_src_rec s[5] = {
		src(0x0a000001, T0 + 10, T0 + 20, 7, 0),
		src(0x0a000002, T0 + 10, T0 + 20, 3, OBX_SRC_F_EXCLUDED),
		src(0x0a000003, T0 + 10, T0 + 20, 1, 0),
		src(0x0a000004, T0 + 30, T0 + 10, 1, 0),               /* first > last */
		src(0x0a000001, T0 + 2 * H, T0 + 2 * H + 5, 2, OBX_SRC_F_SCANNER),
	};
	struct obx_event_rec e[4] = {
		evr(0x0a000001, T0 + 15, 1000101, 2, 2),               /* SQLi rule */
		evr(0x0a000001, T0 + 2 * H + 1, obs_ev_class_id(OBS_EVC_TCP_SYN, 23), 0, 0),
		evr(0x0a000005, T0 + 1, 7, 70, 0),                     /* sensor >= 64 */
		evr(0x0a000005, T0 + 1, 7, 0, 9),                      /* category out of range */
	};
	struct cp_epoch ep;
	const struct cp_life_src *ls;
	json_t *d;

	(void)state;
	s[2].hour += 1;                                            /* hour not matching */
	memset(&ep, 0, sizeof(ep));
	ep.boot_id = 1;
	ep.seq = 1;
	cp_epoch_add_tab(&ep, OBX_TAB_SRC, sizeof(struct obx_src_rec), s, 5);
	cp_epoch_add_tab(&ep, OBX_TAB_EVENT, sizeof(struct obx_event_rec), e, 4);
	assert_int_equal(cp_store_apply(&cp.store, &ep), 0);

	ls = cp_life_find(cp_life_module_table(), 0x0a000001);
	assert_non_null(ls);
	assert_int_equal(cp_life_src_events(ls), 9);              /* SRC packets only */
	assert_int_equal(ls->n_groups, 1);
	assert_int_equal(ls->cat_mask, (1u << 2) | 1u);
	assert_int_equal(cp_life_groups(ls)[0].n_types, 2);
	assert_int_equal(cp_life_src_sensors(ls), 1u | 4u);
	assert_null(cp_life_find(cp_life_module_table(), 0x0a000002));   /* excluded */
	assert_null(cp_life_find(cp_life_module_table(), 0x0a000003));   /* bad hour */
	assert_null(cp_life_find(cp_life_module_table(), 0x0a000004));
	assert_null(cp_life_find(cp_life_module_table(), 0x0a000005));

	d = cmd("life.summary", json_object(), CP_E_OK);
	assert_int_equal(json_integer_value(json_object_get(d, "sources")), 1);
	assert_int_equal(json_integer_value(json_object_get(d, "excluded_records")), 1);
	assert_int_equal(json_integer_value(json_object_get(d, "bad_records")), 4);
	assert_int_equal(json_integer_value(json_object_get(d, "src_records")), 5);
	assert_int_equal(json_integer_value(json_object_get(d, "event_records")), 4);
	json_decref(d);

	d = cmd("life.show", json_pack("{s:s}", "address", "10.0.0.1"), CP_E_OK);
	assert_int_equal(json_integer_value(json_object_get(d, "events")), 9);
	assert_string_equal(json_string_value(json_array_get(json_object_get(d, "categories"), 1)),
	                    "SQL Injection");
	json_decref(d);
	json_decref(cmd("life.show", json_pack("{s:s}", "address", "10.0.0.2"),
	                CP_E_UNAVAILABLE));
	json_decref(cmd("life.show", json_pack("{s:s}", "address", "10.0.0.300"),
	                CP_E_BAD_ARGS));
	json_decref(cmd("life.cdf", json_pack("{s:s}", "unit", "fortnights"), CP_E_BAD_ARGS));
	json_decref(cmd("life.continuity", json_pack("{s:s, s:s}", "a", "--tl", "b", "1.5"),
	                CP_E_BAD_ARGS));
	json_decref(cmd("life.continuity", json_pack("{s:s, s:s}", "a", "0.12345", "b", "0"),
	                CP_E_BAD_ARGS));
	d = cmd("life.continuity", json_pack("{s:s, s:s, s:s, s:s}", "a", "--tl", "b", "1",
	                                          "c", "--te", "d", ".05"), CP_E_OK);
	assert_int_equal(json_integer_value(json_object_get(d, "eligible")), 0);
	json_decref(d);
}

static void test_wrong_record_size(void **state)
{
	struct obx_src_rec s = src(0x0a000009, T0, T0, 1, 0);
	uint8_t junk[32 * 2];
	struct cp_epoch ep;

	(void)state;
	memset(junk, 0x5a, sizeof(junk));
	memset(&ep, 0, sizeof(ep));
	ep.boot_id = 1;
	ep.seq = 2;
	cp_epoch_add_tab(&ep, OBX_TAB_SRC, sizeof(struct obx_src_rec), &s, 1);
	cp_epoch_add_tab(&ep, OBX_TAB_EVENT, 32, junk, 2);        /* an older layout */
	assert_int_equal(cp_store_apply(&cp.store, &ep), -EPROTO);
	assert_null(cp_life_find(cp_life_module_table(), 0x0a000009));   /* nothing applied */
}

/* responder (issue 13): a completed handshake refines the source's event types (SPEC
 * C): tcp-session/PORT, and a rule match on its payload the rule's sid; no events are
 * added (the SRC record counts packets); a record with port 0 or a broken hour is bad. */
static void test_resp_refines(void **state)
{
	struct obx_src_rec s = src(0x0a000010, T0 + 5, T0 + 9, 4, 0);
	struct obx_resp_rec r[3];
	const uint32_t sess80 = obs_ev_class_id(OBS_EVC_TCP_SESSION, 80);
	const struct cp_life_src *ls;
	struct cp_epoch ep;
	uint32_t n, t0, t1;

	(void)state;
	memset(r, 0, sizeof(r));
	for (int i = 0; i < 3; i++) {
		r[i].src = 0x0a000010;
		r[i].dst = 0x0a090001;
		r[i].dport = 80;
		r[i].count = 1;
		r[i].first_ns = r[i].last_ns = T0 + 7;
		r[i].hour = (uint32_t)(T0 / H);
	}
	r[0].flags = OBX_RESP_F_PAYLOAD | OBX_RESP_F_RULE;
	r[0].sid = 1000101;
	r[1].dport = 0;                                            /* bad */
	r[2].hour += 1;                                            /* bad */
	memset(&ep, 0, sizeof(ep));
	ep.boot_id = 1;
	ep.seq = 1;
	cp_epoch_add_tab(&ep, OBX_TAB_SRC, sizeof(s), &s, 1);
	cp_epoch_add_tab(&ep, OBX_TAB_RESP, sizeof(struct obx_resp_rec), r, 3);
	assert_int_equal(cp_store_apply(&cp.store, &ep), 0);
	ls = cp_life_find(cp_life_module_table(), 0x0a000010);
	assert_non_null(ls);
	assert_int_equal(cp_life_src_events(ls), 4);              /* SRC packets only */
	n = cp_life_groups(ls)[0].n_types;
	assert_int_equal(n, 2);
	t0 = cp_life_group_types(&cp_life_groups(ls)[0])[0];
	t1 = cp_life_group_types(&cp_life_groups(ls)[0])[1];
	assert_true((t0 == sess80 && t1 == 1000101) || (t1 == sess80 && t0 == 1000101));
	{
		json_t *d = cmd("life.summary", json_object(), CP_E_OK);
		assert_int_equal(json_integer_value(json_object_get(d, "bad_records")), 2);
		json_decref(d);
	}
}

/* Backscatter packet classes are labelled Backscatter, not Scan (docs/dos.md); a SYN
 * and an echo request stay Scan; a rule match keeps its category. */
static void test_backscatter_label(void **state)
{
	struct obx_event_rec e[6] = {
		evr(0x0a000020, T0, obs_ev_class_id(OBS_EVC_TCP_SYNACK, 80), 0, 0),
		evr(0x0a000021, T0, obs_ev_class_id(OBS_EVC_TCP_RST, 443), 0, 0),
		evr(0x0a000022, T0, obs_ev_class_id(OBS_EVC_ICMP, 0), 0, 0),        /* echo reply */
		evr(0x0a000023, T0, obs_ev_class_id(OBS_EVC_ICMP_UNREACH, 0), 0, 0),
		evr(0x0a000024, T0, obs_ev_class_id(OBS_EVC_TCP_SYN, 23), 0, 0),
		evr(0x0a000025, T0, obs_ev_class_id(OBS_EVC_ICMP_ECHO, 0), 0, 0),
	};
	struct cp_epoch ep;

	(void)state;
	memset(&ep, 0, sizeof(ep));
	ep.boot_id = 1;
	ep.seq = 1;
	cp_epoch_add_tab(&ep, OBX_TAB_EVENT, sizeof(e[0]), e, 6);
	assert_int_equal(cp_store_apply(&cp.store, &ep), 0);
	for (unsigned i = 0; i < 6; i++) {
		const struct cp_life_src *ls = cp_life_find(cp_life_module_table(), e[i].addr);

		assert_non_null(ls);
		assert_int_equal(ls->cat_mask, i < 4 ? 1u << CP_LIFE_CAT_BACKSCATTER : 1u);
	}
}

#define TESTS(T) T(test_consume) T(test_inline_event_and_reserve) \
	T(test_wrong_record_size) T(test_resp_refines) T(test_backscatter_label)
OBS_TEST_MAIN_FX(TESTS)
