/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_dos.c — the DoS backscatter analysis (control/dos/, docs/dos.md): the grouping
 * edges (a gap of exactly gap_s splits, 1 ns less does not; 24 vs 25 packets; 59 vs 60 s;
 * a peak of 29 vs 30 packets per minute, a minute split over records summed), malformed
 * records counted and ignored, a full table evicting (counted), the snapshot blob
 * round trip with an open flow continuing after it, the dark-address estimate, and the
 * module through the store (records in an epoch, dos.list / dos.show, a wrong record
 * size refused).
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "analysis.h"
#include "dos_mod.h"
#include "exchange_recs.h"
#include "store.h"
#include "../fixtures/test_main.h"

#define S  1000000000ull
#define MN OBX_MINUTE_NS
#define T0 (29000000ull * MN)        /* a minute boundary */
#define V1 0x0a000001u
#define V2 0x0a000002u

static struct cp cp;

static int setup(void **state)
{
	(void)state;
	memset(&cp, 0, sizeof(cp));
	obs_conf_defaults(&cp.conf);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	return 0;
}

static const struct cp_dos_conf defconf = {
	.gap_ns = 300 * S, .min_packets = 25, .min_duration_ns = 60 * S, .min_peak = 30,
	.max_flows = 1024,
};

/* pk packets of victim v from f to l (one minute), TCP port 80 */
static struct obx_dos_rec rec(uint32_t v, uint64_t f, uint64_t l, uint64_t pk)
{
	struct obx_dos_rec r;

	memset(&r, 0, sizeof(r));
	r.victim = v;
	r.minute = (uint32_t)(f / MN);
	r.packets = pk;
	r.first_ns = f;
	r.last_ns = l;
	r.ports[0] = 80;
	r.n_ports = 1;
	r.proto_mask = 1u << OBX_P_TCP;
	r.dark[0] = 1;
	return r;
}

static void add(struct cp_dos *d, uint32_t v, uint64_t f, uint64_t l, uint64_t pk)
{
	struct obx_dos_rec r = rec(v, f, l, pk);

	cp_dos_add(d, &r);
}

static uint32_t attacks(const struct cp_dos *d)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < d->n; i++)
		n += cp_dos_is_attack(d, &d->flow[i]);
	return n;
}

/* Packets at T0 (40) and 60 s later (40): one attack.  The next burst exactly gap_s
 * after the last packet is a new flow; gap_s - 1 ns is the same one. */
static void test_gap_edge(void **state)
{
	struct cp_dos *d = cp_dos_new(&defconf);
	const uint64_t last = T0 + 60 * S;

	(void)state;
	add(d, V1, T0, T0 + 10 * S, 40);
	add(d, V1, last, last, 40);
	add(d, V2, T0, T0 + 10 * S, 40);
	add(d, V2, last, last, 40);
	/* V1: the next packet 300 s - 1 ns after the last: the same flow */
	add(d, V1, last + 300 * S - 1, last + 300 * S - 1, 1);
	/* V2: exactly 300 s: a new flow */
	add(d, V2, last + 300 * S, last + 300 * S, 1);
	cp_dos_sweep(d);
	assert_int_equal(d->n, 3);       /* V1 one flow; V2 its attack and a new open flow */
	assert_int_equal(attacks(d), 2);
	for (uint32_t i = 0; i < d->n; i++) {
		const struct cp_dos_flow *f = &d->flow[i];

		if (f->victim == V1) {
			assert_int_equal(f->packets, 81);
			assert_true(f->flags & CP_DOS_F_OPEN);
		} else if (f->flags & CP_DOS_F_OPEN) {
			assert_int_equal(f->packets, 1);
		} else {
			assert_int_equal(f->packets, 80);
			assert_int_equal(f->end_ns, last);
		}
	}
	/* the watermark 300 s past the open flows closes them: V1's is an attack, V2's
	 * single packet goes, counted */
	add(d, 0x0a0000ffu, last + 600 * S, last + 600 * S, 1);
	cp_dos_sweep(d);
	assert_int_equal(attacks(d), 2);
	assert_int_equal(d->st.below_threshold, 1);
	assert_int_equal(d->n, 3);       /* the two attacks and the new flow */
	cp_dos_free(d);
}

/* A worker whose epochs lag keeps its flows open: the closing time is the oldest of
 * the workers' latest epoch ends, not the newest packet seen. */
static void test_lagging_worker(void **state)
{
	struct cp_dos *d = cp_dos_new(&defconf);

	(void)state;
	add(d, V1, T0, T0 + 10 * S, 40);              /* worker 1's victim */
	cp_dos_epoch(d, 1, T0 + 10 * S);
	add(d, V2, T0 + 1000 * S, T0 + 1000 * S, 1);  /* worker 0, far ahead */
	cp_dos_epoch(d, 0, T0 + 1000 * S);
	cp_dos_sweep(d);
	assert_int_equal(d->n_open, 2);               /* V1's flow not closed under it */
	add(d, V1, T0 + 70 * S, T0 + 70 * S, 1);
	cp_dos_epoch(d, 1, T0 + 70 * S);
	cp_dos_sweep(d);
	assert_int_equal(d->n, 2);
	for (uint32_t i = 0; i < d->n; i++)
		if (d->flow[i].victim == V1)
			assert_int_equal(d->flow[i].packets, 41);
	/* worker 1 catches up: now the closing time passes V1's flow */
	cp_dos_epoch(d, 1, T0 + 1000 * S);
	cp_dos_sweep(d);
	assert_int_equal(d->n_open, 1);
	assert_int_equal(attacks(d), 1);
	cp_dos_free(d);
}

/* Each threshold at its edge, the others relaxed. */
static void test_thresholds(void **state)
{
	struct cp_dos_conf c = defconf;
	struct cp_dos *d;

	(void)state;
	/* 24 vs 25 packets (duration and peak not in the way) */
	c.min_peak = 1;
	d = cp_dos_new(&c);
	add(d, V1, T0, T0 + 1 * S, 12);
	add(d, V1, T0 + 60 * S, T0 + 61 * S, 12);
	add(d, V2, T0, T0 + 1 * S, 12);
	add(d, V2, T0 + 60 * S, T0 + 61 * S, 13);
	assert_int_equal(attacks(d), 1);
	for (uint32_t i = 0; i < d->n; i++)
		assert_int_equal(cp_dos_is_attack(d, &d->flow[i]), d->flow[i].victim == V2);
	cp_dos_free(d);

	/* 59 vs 60 s, first to last packet */
	d = cp_dos_new(&defconf);
	add(d, V1, T0 + 1 * S, T0 + 50 * S, 40);
	add(d, V1, T0 + 60 * S, T0 + 60 * S, 1);        /* 59 s */
	add(d, V2, T0, T0 + 50 * S, 40);
	add(d, V2, T0 + 60 * S, T0 + 60 * S, 1);        /* 60 s */
	assert_int_equal(attacks(d), 1);
	for (uint32_t i = 0; i < d->n; i++)
		assert_int_equal(cp_dos_is_attack(d, &d->flow[i]), d->flow[i].victim == V2);
	cp_dos_free(d);

	/* a peak of 29 vs 30 packets in one UTC minute; a minute split over two records
	 * (two epochs) is one minute */
	d = cp_dos_new(&defconf);
	for (int m = 0; m < 3; m++) {
		add(d, V1, T0 + m * MN, T0 + m * MN + 10 * S, 29);
		add(d, V2, T0 + m * MN, T0 + m * MN + 10 * S, m == 1 ? 20 : 29);
	}
	add(d, V2, T0 + MN + 20 * S, T0 + MN + 30 * S, 10);   /* minute 1: 20 + 10 */
	assert_int_equal(attacks(d), 1);
	for (uint32_t i = 0; i < d->n; i++) {
		assert_int_equal(d->flow[i].peak, d->flow[i].victim == V1 ? 29 : 30);
		assert_int_equal(cp_dos_is_attack(d, &d->flow[i]), d->flow[i].victim == V2);
	}
	cp_dos_free(d);
}

/* Records the dataplane cannot have written: counted, nothing else changes. */
static void test_bad_records(void **state)
{
	struct cp_dos *d = cp_dos_new(&defconf);
	struct obx_dos_rec r[7];

	(void)state;
	for (int i = 0; i < 7; i++)
		r[i] = rec(V1, T0, T0 + S, 5);
	r[0].packets = 0;                         /* empty */
	r[1].first_ns = T0 + 2 * S;               /* first > last */
	r[2].minute++;                            /* not the packets' minute */
	r[3].last_ns = T0 + MN;                   /* last in the next minute */
	r[4].proto_mask = 0x80;                   /* an unknown protocol */
	r[5].ports[1] = 443;                      /* two ports, n_ports 1 */
	r[6].n_ports = 9;                         /* more ports than packets */
	for (int i = 0; i < 7; i++)
		cp_dos_add(d, &r[i]);
	assert_int_equal(d->st.records, 7);
	assert_int_equal(d->st.bad_records, 7);
	assert_int_equal(d->n, 0);
	assert_int_equal(d->watermark_ns, 0);
	cp_dos_free(d);
}

/* A full table evicts the flow that ended first of those sampled, counted. */
static void test_evict(void **state)
{
	struct cp_dos_conf c = defconf;
	struct cp_dos *d;

	(void)state;
	c.max_flows = 16;
	d = cp_dos_new(&c);
	for (uint32_t v = 1; v <= 40; v++)
		add(d, v, T0 + v * S, T0 + v * S, 1);
	assert_int_equal(d->n, 16);
	assert_int_equal(d->n_open, 16);
	assert_int_equal(d->st.evicted_flows, 24);
	assert_int_equal(d->st.evicted_attacks, 0);
	/* every flow kept is findable as its victim's open flow: adding to it grows it */
	for (uint32_t i = 0; i < d->n; i++) {
		uint32_t v = d->flow[i].victim;

		add(d, v, T0 + 50 * S, T0 + 50 * S, 1);
	}
	assert_int_equal(d->n, 16);
	for (uint32_t i = 0; i < d->n; i++)
		assert_int_equal(d->flow[i].packets, 2);
	cp_dos_free(d);
}

/* Save, load into a new table: the same flows; the open one continues. */
static void test_snapshot(void **state)
{
	struct cp_dos *d = cp_dos_new(&defconf), *e = cp_dos_new(&defconf);
	uint8_t *buf;
	size_t len;
	char err[256];

	(void)state;
	add(d, V1, T0, T0 + 10 * S, 40);
	add(d, V1, T0 + MN, T0 + MN, 40);
	add(d, V2, T0 + 1000 * S, T0 + 1000 * S, 3);
	cp_dos_sweep(d);                           /* V1's attack closed, V2's flow open */
	assert_int_equal(d->n, 2);
	assert_int_equal(cp_dos_save(d, &buf, &len), 0);
	assert_int_equal(cp_dos_load(e, buf, len, err, sizeof(err)), 0);
	assert_int_equal(e->n, 2);
	assert_int_equal(e->n_open, 1);
	assert_memory_equal(e->flow, d->flow, 2 * sizeof(*d->flow));
	assert_int_equal(e->watermark_ns, d->watermark_ns);
	add(e, V2, T0 + 1001 * S, T0 + 1001 * S, 2);
	assert_int_equal(e->n, 2);
	for (uint32_t i = 0; i < e->n; i++)
		if (e->flow[i].victim == V2)
			assert_int_equal(e->flow[i].packets, 5);
	/* truncated and bad blobs are refused */
	assert_int_equal(cp_dos_load(e, buf, len - 1, err, sizeof(err)), -EINVAL);
	buf[0] ^= 1;
	assert_int_equal(cp_dos_load(e, buf, len, err, sizeof(err)), -EINVAL);
	free(buf);
	cp_dos_free(d);
	cp_dos_free(e);
}

/* Linear counting: k set bits of 192 -> -192 ln(1 - k/192); all set: saturated. */
static void test_dark_estimate(void **state)
{
	struct cp_dos_flow f;
	bool sat;

	(void)state;
	memset(&f, 0, sizeof(f));
	f.dark[0] = 0xff;                          /* 8 bits */
	assert_int_equal(cp_dos_dark_estimate(&f, &sat), (uint64_t)llround(-192 * log(184.0 / 192)));
	assert_false(sat);
	memset(f.dark, 0xff, sizeof(f.dark));
	assert_int_equal(cp_dos_dark_estimate(&f, &sat), (uint64_t)llround(192 * log(192.0)));
	assert_true(sat);
}

static json_t *cmd(const char *name, json_t *args, enum cp_err want, json_t **meta)
{
	const struct cp_cmd *c = cp_cmd_find(name);
	struct cp_reply r;

	assert_non_null(c);
	memset(&r, 0, sizeof(r));
	c->fn(&cp, args, &r);
	json_decref(args);
	assert_int_equal(r.err, want);
	if (meta != NULL)
		*meta = r.meta;
	else
		json_decref(r.meta);
	return r.data;
}

/* The module through the store: an epoch's kind-6 records, then the commands. */
static void test_module(void **state)
{
	struct obx_dos_rec r[3] = { rec(V1, T0, T0 + 30 * S, 40), rec(V1, T0 + MN, T0 + MN, 10),
	                            rec(V2, T0, T0, 3) };
	struct cp_epoch ep;
	json_t *d, *meta, *row;
	uint8_t junk[48];

	(void)state;
	assert_int_equal(cp_store_init(&cp.store), 0);
	assert_int_equal(cp_analysis_start(&cp, &cp_analysis_dos), 0);
	memset(&ep, 0, sizeof(ep));
	ep.boot_id = 1;
	ep.seq = 1;
	cp_epoch_add_tab(&ep, OBX_TAB_DOS, sizeof(struct obx_dos_rec), r, 3);
	assert_int_equal(cp_store_apply(&cp.store, &ep), 0);
	cp_analyses_after_epochs(&cp);

	d = cmd("dos.list", json_object(), CP_E_OK, &meta);
	assert_int_equal(json_array_size(d), 1);
	row = json_array_get(d, 0);
	assert_string_equal(json_string_value(json_object_get(row, "victim")), "10.0.0.1");
	assert_int_equal(json_integer_value(json_object_get(row, "packets")), 50);
	assert_int_equal(json_integer_value(json_object_get(row, "peak_ppm")), 40);
	assert_true(json_is_true(json_object_get(row, "ongoing")));
	assert_non_null(json_object_get(meta, "integrity"));
	json_decref(d);
	json_decref(meta);
	/* a range after it, a rate above it: nothing */
	d = cmd("dos.list", json_pack("{s:s, s:s}", "w0", "--from", "w1", "2030-01-01"), CP_E_OK,
	        NULL);
	assert_int_equal(json_array_size(d), 0);
	json_decref(d);
	d = cmd("dos.list", json_pack("{s:s}", "w0", "--min-rate=1e30"), CP_E_OK, NULL);
	assert_int_equal(json_array_size(d), 0);
	json_decref(d);
	json_decref(cmd("dos.list", json_pack("{s:s, s:s}", "w0", "--from", "w1", "yesterday"),
	                CP_E_BAD_ARGS, NULL));
	json_decref(cmd("dos.list", json_pack("{s:s}", "w0", "--bogus=1"), CP_E_BAD_ARGS, NULL));
	json_decref(cmd("dos.list", json_pack("{s:s}", "w0", "--min-rate=-1"), CP_E_BAD_ARGS,
	                NULL));
	/* V2's flow is no attack but dos.show shows it */
	d = cmd("dos.show", json_pack("{s:s}", "victim", "10.0.0.2"), CP_E_OK, NULL);
	row = json_array_get(json_object_get(d, "attacks"), 0);
	assert_false(json_is_true(json_object_get(row, "attack")));
	assert_non_null(json_object_get(d, "integrity"));
	json_decref(d);
	json_decref(cmd("dos.show", json_pack("{s:s}", "victim", "10.0.0"), CP_E_BAD_ARGS, NULL));

	/* one epoch holding a victim's minutes out of order (hash-table order) across a
	 * gap: grouped in time order all the same — two flows, not one */
	{
		struct obx_dos_rec o[3] = { rec(0x0a000003u, T0 + 10 * MN, T0 + 10 * MN, 40),
		                            rec(0x0a000003u, T0, T0 + 10 * S, 40),
		                            rec(0x0a000003u, T0 + MN, T0 + MN + 30 * S, 40) };

		memset(&ep, 0, sizeof(ep));
		ep.boot_id = 1;
		ep.seq = 2;
		cp_epoch_add_tab(&ep, OBX_TAB_DOS, sizeof(struct obx_dos_rec), o, 3);
		assert_int_equal(cp_store_apply(&cp.store, &ep), 0);
		d = cmd("dos.show", json_pack("{s:s}", "victim", "10.0.0.3"), CP_E_OK, NULL);
		assert_int_equal(json_array_size(json_object_get(d, "attacks")), 2);
		row = json_array_get(json_object_get(d, "attacks"), 0);
		assert_int_equal(json_integer_value(json_object_get(row, "packets")), 80);
		assert_true(json_is_true(json_object_get(row, "attack")));
		json_decref(d);
	}

	/* a kind-6 table of another record size: the epoch is refused whole */
	memset(junk, 0x5a, sizeof(junk));
	memset(&ep, 0, sizeof(ep));
	ep.boot_id = 1;
	ep.seq = 3;
	cp_epoch_add_tab(&ep, OBX_TAB_DOS, 48, junk, 1);
	assert_int_equal(cp_store_apply(&cp.store, &ep), -EPROTO);
	assert_int_equal(cp_dos_mod.dos->st.records, 6);
	cp_analyses_stop();
	cp_store_fini(&cp.store);
}

#define TESTS(T) T(test_gap_edge) T(test_lagging_worker) T(test_thresholds) T(test_bad_records) T(test_evict) \
	T(test_snapshot) T(test_dark_estimate) T(test_module)
OBS_TEST_MAIN_FX(TESTS)
