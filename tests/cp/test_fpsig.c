/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_fpsig.c — the SYN-signature analysis (control/fpsig/, docs/fingerprints.md
 * "Signatures"): kind-7 records of two epochs merged (SYNs summed, HyperLogLog registers
 * by max), fingerprints.signatures (order, N, share, strings), malformed records counted
 * and ignored, a full table evicting the fewest SYNs (counted), and snapshot section 23:
 * the round trip through a file, a snapshot without the section loading (empty table),
 * a malformed section refused with a reason, the section blob's checks.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "analysis.h"
#include "fpsig.h"
#include "fpsig_mod.h"
#include "snapshot.h"
#include "store.h"
#include "../fixtures/test_main.h"

static struct cp cp;
static char dir[64];

static int setup(void **state)
{
	(void)state;
	memset(&cp, 0, sizeof(cp));
	obs_conf_defaults(&cp.conf);
	snprintf(dir, sizeof(dir), "/tmp/fpsig-test-XXXXXX");
	assert_non_null(mkdtemp(dir));
	return 0;
}

static int teardown(void **state)
{
	char p[128];

	(void)state;
	snprintf(p, sizeof(p), "%s/snapshot", dir);
	unlink(p);
	rmdir(dir);
	return 0;
}

/* A record of signature string s: syns SYNs from the sources src[0..n_src). */
static struct obx_fpsig_rec rec(const char *s, uint32_t syns, const uint32_t *src, unsigned n_src)
{
	struct obx_fpsig_rec r;

	memset(&r, 0, sizeof(r));
	assert_int_equal(obs_fpsig_parse(s, &r.key), 0);
	r.sig = obx_fpsig_hash(&r.key);
	r.syns = syns;
	for (unsigned i = 0; i < n_src; i++)
		obx_fpsig_hll_add(r.hll, src[i]);
	return r;
}

static void apply(uint64_t seq, const struct obx_fpsig_rec *r, uint32_t n, int want)
{
	struct cp_epoch ep;

	memset(&ep, 0, sizeof(ep));
	ep.boot_id = 1;
	ep.seq = seq;
	cp_epoch_add_tab(&ep, OBX_TAB_FPSIG, sizeof(*r), r, n);
	assert_int_equal(cp_store_apply(&cp.store, &ep), want);
}

static json_t *cmd(json_t *args)
{
	const struct cp_cmd *c = cp_cmd_find("fingerprints.signatures");
	struct cp_reply r;

	assert_non_null(c);
	memset(&r, 0, sizeof(r));
	c->fn(&cp, args, &r);
	json_decref(args);
	assert_int_equal(r.err, CP_E_OK);
	json_decref(r.meta);
	return r.data;
}

static uint64_t num(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);

	assert_non_null(v);
	return (uint64_t)json_integer_value(v);
}

static void start(void)
{
	assert_int_equal(cp_store_init(&cp.store), 0);
	assert_int_equal(cp_analysis_start(&cp, &cp_analysis_fpsig), 0);
}

static void stop(void)
{
	cp_analyses_stop();
	cp_store_fini(&cp.store);
}

static const uint32_t A[3] = { 0x0a000001u, 0x0a000002u, 0x0a000003u };

/* Two epochs (two workers' records of one shape each): summed, registers by max. */
static void test_merge(void **state)
{
	struct obx_fpsig_rec e1[3] = { rec("64240_2-4-8-1-3_1460_7", 5, A, 1),
	                               rec("1024_2_1460_00", 2, A + 1, 1),
	                               { .syns = 0 } };   /* + an empty slot */
	struct obx_fpsig_rec e2[1] = { rec("64240_2-4-8-1-3_1460_7", 4, A + 1, 2) };
	uint8_t hll[OBX_FPSIG_HLL] = { 0 };
	json_t *d, *rows, *row;

	(void)state;
	start();
	apply(1, e1, 3, 0);
	apply(2, e2, 1, 0);
	for (unsigned i = 0; i < 3; i++)
		obx_fpsig_hll_add(hll, A[i]);
	d = cmd(json_object());
	rows = json_object_get(d, "signatures");
	assert_int_equal(json_array_size(rows), 2);
	row = json_array_get(rows, 0);
	assert_string_equal(json_string_value(json_object_get(row, "signature")),
	                    "64240_2-4-8-1-3_1460_7");
	assert_int_equal(num(row, "syns"), 9);
	assert_int_equal(num(row, "sources"), 3);     /* A[1] in both epochs: counted once */
	assert_float_equal(json_real_value(json_object_get(row, "share")), 9.0 / 11, 1e-9);
	row = json_array_get(rows, 1);
	assert_string_equal(json_string_value(json_object_get(row, "signature")), "1024_2_1460_00");
	assert_int_equal(num(row, "syns"), 2);
	assert_int_equal(num(row, "sources"), 1);
	assert_int_equal(num(d, "unlabelled_syns"), 11);
	assert_int_equal(num(d, "records"), 3);
	assert_int_equal(num(d, "held"), 2);
	assert_int_equal(num(d, "capacity"), CP_FPSIG_MAX);
	assert_int_equal(num(d, "bad_records"), 0);
	json_decref(d);
	{   /* the merged registers are the max of the records' */
		struct obx_fpsig_key k;
		uint8_t got[OBX_FPSIG_HLL];
		const struct cp_fpsig_ent **v;
		long n = cp_fpsig_store_top(&cp_fpsig_table, 1, &v);

		assert_int_equal(n, 1);
		assert_int_equal(obs_fpsig_parse("64240_2-4-8-1-3_1460_7", &k), 0);
		assert_memory_equal(&v[0]->key, &k, sizeof(k));
		memcpy(got, v[0]->hll, sizeof(got));
		free(v);
		assert_memory_equal(got, hll, sizeof(hll));
	}
	/* N */
	d = cmd(json_pack("{s:i}", "n", 1));
	assert_int_equal(json_array_size(json_object_get(d, "signatures")), 1);
	json_decref(d);
	/* a kind-7 table of another record size: the epoch is refused whole */
	{
		uint8_t junk[64];
		struct cp_epoch ep;

		memset(junk, 0x5a, sizeof(junk));
		memset(&ep, 0, sizeof(ep));
		ep.boot_id = 1;
		ep.seq = 3;
		cp_epoch_add_tab(&ep, OBX_TAB_FPSIG, sizeof(junk), junk, 1);
		assert_int_equal(cp_store_apply(&cp.store, &ep), -EPROTO);
	}
	assert_int_equal(cp_fpsig_table.st.records, 3);
	stop();
}

/* Records the worker cannot write: counted, never merged. */
static void test_bad_records(void **state)
{
	struct obx_fpsig_rec r[7];

	(void)state;
	start();
	for (unsigned i = 0; i < 7; i++)
		r[i] = rec("1024_2_1460_00", 1, A, 1);
	r[0].key.flags |= 0x80;                  /* an unknown flag */
	r[1].key.n_kinds = OBX_FPSIG_KINDS + 1;  /* more kinds than the area holds */
	r[2].key.kinds[5] = 4;                   /* a byte past n_kinds */
	r[3].sig ^= 1;                           /* a hash that is not the key's */
	r[4].hll[7] = 60;                        /* above the largest rank */
	r[5].key.ws = 3;                         /* a scale without its flag */
	memset(r[6].hll, 0, sizeof(r[6].hll));   /* SYNs but no source */
	for (unsigned i = 0; i < 7; i++)
		if (i != 1 && i != 3)
			r[i].sig = obx_fpsig_hash(&r[i].key);   /* only the defect tested */
	apply(1, r, 7, 0);
	assert_int_equal(cp_fpsig_table.st.bad_records, 7);
	assert_int_equal(cp_fpsig_table.st.records, 0);
	assert_int_equal(cp_fpsig_table.ht.n, 0);
	stop();
}

/* A table of 2: a third shape evicts the one with the fewest SYNs, or is itself dropped
 * when it has fewer; both counted. */
static void test_evict(void **state)
{
	struct cp_fpsig_store s;
	struct obx_fpsig_rec a = rec("1_00_00_00", 5, A, 1), b = rec("2_00_00_00", 3, A, 1),
	                     c = rec("3_00_00_00", 4, A, 1), d = rec("4_00_00_00", 1, A, 1);
	const struct cp_fpsig_ent **v;

	(void)state;
	assert_int_equal(cp_fpsig_store_init(&s, 2), 0);
	cp_fpsig_store_merge(&s, &a, 1);
	cp_fpsig_store_merge(&s, &b, 1);
	cp_fpsig_store_merge(&s, &c, 1);        /* b (3) out */
	assert_int_equal(s.st.evicted, 1);
	assert_int_equal(s.st.evicted_syns, 3);
	cp_fpsig_store_merge(&s, &d, 1);        /* d (1) has fewer than c (4): dropped */
	assert_int_equal(s.st.evicted, 2);
	assert_int_equal(s.st.evicted_syns, 4);
	cp_fpsig_store_merge(&s, &a, 1);        /* held: merged, no eviction */
	assert_int_equal(s.st.evicted, 2);
	assert_int_equal(s.st.syns, 5 + 3 + 4 + 1 + 5);
	assert_int_equal(cp_fpsig_store_top(&s, 10, &v), 2);
	assert_int_equal(v[0]->syns, 10);
	assert_int_equal(v[0]->key.win, 1);
	assert_int_equal(v[1]->syns, 4);
	assert_int_equal(v[1]->key.win, 3);
	free(v);
	cp_fpsig_store_fini(&s);

	/* the same with room reserved (as the drain's prepare makes it): one epoch's new
	 * signatures ranked once against the held ones */
	{
		struct obx_fpsig_rec e1[2] = { a, b }, e2[3] = { c, d, rec("5_00_00_00", 9, A, 1) };

		assert_int_equal(cp_fpsig_store_init(&s, 2), 0);
		assert_int_equal(cp_fpsig_store_reserve(&s, 3), 0);
		cp_fpsig_store_merge(&s, e1, 2);            /* a 5, b 3 */
		cp_fpsig_store_merge(&s, e2, 3);            /* c 4, d 1, e 9: a and e stay */
		assert_int_equal(s.st.evicted, 3);
		assert_int_equal(s.st.evicted_syns, 3 + 4 + 1);
		assert_int_equal(s.st.syns, 5 + 3 + 4 + 1 + 9);
		assert_int_equal(cp_fpsig_store_top(&s, 10, &v), 2);
		assert_int_equal(v[0]->key.win, 5);
		assert_int_equal(v[0]->syns, 9);
		assert_int_equal(v[1]->key.win, 1);
		assert_int_equal(v[1]->syns, 5);
		free(v);
		cp_fpsig_store_merge(&s, e2, 3);            /* e held: 18; c 4, d 1 still out */
		assert_int_equal(s.st.evicted, 5);
		assert_int_equal(cp_fpsig_store_top(&s, 10, &v), 2);
		assert_int_equal(v[0]->syns, 18);
		assert_int_equal(v[1]->syns, 5);
		free(v);
		cp_fpsig_store_fini(&s);
	}
}

/* Section 23 through a snapshot file; a file without it; a malformed one refused. */
static void test_snapshot_file(void **state)
{
	struct obx_fpsig_rec r[2] = { rec("64240_2-4-8-1-3_1460_7", 7, A, 3),
	                              rec("1024_2_1460_00", 2, A, 1) };
	char path[128], err[512];
	struct cp_fpsig_stats st;
	struct cp_fpsig_ent *e;
	json_t *d;

	(void)state;
	snprintf(path, sizeof(path), "%s/snapshot", dir);
	/* a snapshot written without the analysis (an older daemon): loads, table empty */
	assert_int_equal(cp_store_init(&cp.store), 0);
	assert_int_equal(cp_snapshot_write_file(path, &cp.store, err, sizeof(err)), 0);
	cp_store_fini(&cp.store);
	start();
	assert_int_equal(cp_snapshot_load_file(path, &cp.store, err, sizeof(err)), 0);
	assert_int_equal(cp_fpsig_table.ht.n, 0);
	/* the round trip */
	apply(1, r, 2, 0);
	st = cp_fpsig_table.st;
	assert_int_equal(cp_snapshot_write_file(path, &cp.store, err, sizeof(err)), 0);
	cp_fpsig_store_clear(&cp_fpsig_table);
	assert_int_equal(cp_snapshot_load_file(path, &cp.store, err, sizeof(err)), 0);
	assert_memory_equal(&cp_fpsig_table.st, &st, sizeof(st));
	d = cmd(json_object());
	assert_int_equal(json_array_size(json_object_get(d, "signatures")), 2);
	assert_int_equal(num(json_array_get(json_object_get(d, "signatures"), 0), "syns"), 7);
	assert_int_equal(num(json_array_get(json_object_get(d, "signatures"), 0), "sources"), 3);
	json_decref(d);
	/* a malformed entry written into the section: the file is refused, with a reason,
	 * and (the snapshot's all-or-nothing rule, snapshot.h) every module is left empty */
	{
		const struct cp_fpsig_ent **v;

		assert_int_equal(cp_fpsig_store_top(&cp_fpsig_table, 1, &v), 1);
		e = (struct cp_fpsig_ent *)v[0];
		free(v);
	}
	e->pad = 1;
	assert_int_equal(cp_snapshot_write_file(path, &cp.store, err, sizeof(err)), 0);
	e->pad = 0;
	err[0] = '\0';
	assert_int_equal(cp_snapshot_load_file(path, &cp.store, err, sizeof(err)), -EBADMSG);
	if (strstr(err, "fpsig section: signature") == NULL || strstr(err, "is malformed") == NULL)
		fail_msg("unclear refusal: %s", err);
	assert_int_equal(cp_fpsig_table.ht.n, 0);
	stop();
}

/* The section blob's checks, one by one: each refused with its reason, the store kept. */
static void test_snapshot_blob(void **state)
{
	struct obx_fpsig_rec r[2] = { rec("1_00_00_00", 3, A, 1), rec("2_00_00_00", 2, A, 1) };
	struct cp_fpsig_store s, small;
	uint8_t *buf, *b2;
	size_t len;
	char err[256];

	(void)state;
	assert_int_equal(cp_fpsig_store_init(&s, 16), 0);
	cp_fpsig_store_merge(&s, r, 2);
	assert_int_equal(cp_fpsig_store_save(&s, &buf, &len), 0);
	assert_int_equal(len, 56 + 2 * sizeof(struct cp_fpsig_ent));
	b2 = malloc(len + 128);
	assert_non_null(b2);
	/* too short */
	assert_int_equal(cp_fpsig_store_load(&s, buf, 20, err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "shorter than its head"));
	/* a wrong version */
	memcpy(b2, buf, len);
	b2[4] = 9;
	assert_int_equal(cp_fpsig_store_load(&s, b2, len, err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "version 9"));
	/* a length that is not the count's */
	assert_int_equal(cp_fpsig_store_load(&s, buf, len - 1, err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "for 2 signatures"));
	/* the same key twice */
	memcpy(b2, buf, len);
	memcpy(b2 + 56 + sizeof(struct cp_fpsig_ent), b2 + 56, sizeof(struct cp_fpsig_ent));
	assert_int_equal(cp_fpsig_store_load(&s, b2, len, err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "repeats an earlier key"));
	/* an empty entry */
	memcpy(b2, buf, len);
	memset(b2 + 56 + offsetof(struct cp_fpsig_ent, syns), 0, 8);
	assert_int_equal(cp_fpsig_store_load(&s, b2, len, err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "signature 0 is malformed"));
	/* more than the table holds */
	assert_int_equal(cp_fpsig_store_init(&small, 1), 0);
	assert_int_equal(cp_fpsig_store_load(&small, buf, len, err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "more than the table's 1"));
	cp_fpsig_store_fini(&small);
	/* all of that left s as it was; a good blob loads */
	assert_int_equal(s.ht.n, 2);
	assert_int_equal(cp_fpsig_store_load(&s, buf, len, err, sizeof(err)), 0);
	assert_int_equal(s.ht.n, 2);
	assert_int_equal(s.st.syns, 5);
	free(b2);
	free(buf);
	cp_fpsig_store_fini(&s);
}

#define TESTS(T) T(test_merge) T(test_bad_records) T(test_evict) T(test_snapshot_file) \
	T(test_snapshot_blob)
OBS_TEST_MAIN_FX(TESTS)
