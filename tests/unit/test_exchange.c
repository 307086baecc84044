/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_exchange.c — obx_layout_init() produces a header obx_header_check() accepts and
 * that agrees with the header's inline layout helpers; every corrupted field is
 * rejected with its own message.  The rules status seqlock: nothing reported, a busy
 * writer, a long error string, and a reader racing a writer never sees a torn copy.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "dataplane/common/exchange.h"
#include "../fixtures/heap_xchg.h"
#include "../fixtures/test_main.h"

static struct obx_header *new_header(void)
{
	/* the header owns a whole page; the checker may read all of it */
	struct obx_header *h = aligned_alloc(4096, OBX_HEADER_SIZE);
	assert_non_null(h);
	memset(h, 0xcc, OBX_HEADER_SIZE);
	return h;
}

/* capacities: SRC, CELL, BITMAP, RESIP_PORT, EVENT */
static void caps(uint32_t cap[OBX_TAB_MAX], uint32_t rs[OBX_TAB_MAX], uint32_t src, uint32_t cell,
                 uint32_t bitmap, uint32_t rport, uint32_t event)
{
	static const uint32_t sizes[OBX_TAB_MAX] = OBX_REC_SIZES;

	memset(cap, 0, OBX_TAB_MAX * sizeof(cap[0]));
	memcpy(rs, sizes, sizeof(sizes));
	cap[OBX_TAB_SRC] = src;
	cap[OBX_TAB_CELL] = cell;
	cap[OBX_TAB_BITMAP] = bitmap;
	cap[OBX_TAB_RESIP_PORT] = rport;
	cap[OBX_TAB_EVENT] = event;
}

/* A whole mapping (header + slots) for checks that read the slot headers too. */
static struct obx_header *new_map(uint32_t w, const uint32_t cap[OBX_TAB_MAX],
                                  const uint32_t rs[OBX_TAB_MAX])
{
	struct obx_header *h = heap_xchg(w, 1, cap, rs);

	assert_non_null(h);
	return h;
}

static void test_layout_accepts(void **state)
{
	const uint32_t cases[][7] = {
		/* workers, ports, src, cell, bitmap, resip_port, event */
		{ 1, 0, 1024, 0, 0, 0, 0 }, { 1, 1, 262144, 0, 0, 0, 0 }, { 4, 2, 65536, 0, 0, 0, 0 },
		{ 3, 16, 1u << 16, 1u << 12, 100, 256, 1024 }, { 64, 0, 1, 0, 0, 0, 0 },
		{ 2, 1, 1024, 64, 3, 0, 8 }, { 5, 4, 4096, 0, 17, 0, 0 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *why = "unset";
		uint32_t w = cases[i][0], p = cases[i][1];
		uint32_t cap[OBX_TAB_MAX], rs[OBX_TAB_MAX];
		struct obx_header *h;
		uint64_t end = sizeof(struct obx_slot_hdr);

		caps(cap, rs, cases[i][2], cases[i][3], cases[i][4], cases[i][5], cases[i][6]);
		h = new_map(w, cap, rs);
		assert_int_equal(h->magic, OBX_MAGIC);
		assert_int_equal(h->version, OBX_VERSION);
		assert_int_equal(h->n_workers, w);
		assert_int_equal(h->n_ports, p == 0 ? 1 : 1);
		assert_int_equal(h->boot_id, 0);   /* non-layout fields zeroed */
		assert_int_equal(h->total_size, obx_total_size(w, p, cap, rs));
		assert_int_equal(h->slot_size, obx_slot_size(cap, rs));
		assert_int_equal(h->slot_size % 64, 0);
		assert_int_equal(h->slots_off % 4096, 0);
		assert_int_equal(h->worker_live_off % 64, 0);
		assert_true(h->port_stats_off >= OBX_HEADER_SIZE);
		assert_true(h->worker_live_off >= h->port_stats_off +
		            OBX_MAX_PORTS * sizeof(struct obx_port_stats));
		assert_true(h->slots_off >= h->worker_live_off + w * sizeof(struct obx_worker_live));
		/* tables: in kind order, 64-byte aligned, disjoint, inside the slot; absent
		 * ones have no offset, no record size, and no pointer */
		for (unsigned k = 0; k < OBX_TAB_MAX; k++) {
			struct obx_slot_hdr *sh = obx_slot(h, w - 1, 1);

			assert_int_equal(h->tab_capacity[k], cap[k]);
			assert_int_equal(sh->tabs[k].kind, k);
			assert_int_equal(sh->tabs[k].capacity, cap[k]);
			if (cap[k] == 0) {
				assert_int_equal(h->tab_off[k], 0);
				assert_int_equal(h->tab_rec_size[k], 0);
				assert_null(obx_slot_tab(sh, k));
				continue;
			}
			assert_int_equal(h->tab_rec_size[k], rs[k]);
			assert_int_equal(h->tab_off[k] % 64, 0);
			assert_true(h->tab_off[k] >= end);
			end = h->tab_off[k] + (uint64_t)cap[k] * rs[k];
			assert_true(end <= h->slot_size);
			assert_ptr_equal(obx_slot_tab(sh, k), (uint8_t *)sh + h->tab_off[k]);
			assert_ptr_equal(obx_slot_tab_h(h, sh, k), (uint8_t *)sh + h->tab_off[k]);
		}
		assert_ptr_equal(obx_slot_src(obx_slot(h, 0, 0)),
		                 (uint8_t *)obx_slot(h, 0, 0) + h->tab_off[OBX_TAB_SRC]);
		/* the last slot ends exactly at the end of the mapping */
		assert_int_equal((uint64_t)((uint8_t *)obx_slot(h, w - 1, OBX_SLOTS - 1) - (uint8_t *)h) +
		                 h->slot_size, h->total_size);
		assert_int_equal(obx_header_check(h, h->total_size, &why), 0);
		assert_null(why);
		free(h);
	}
}

static void test_layout_init_rejects(void **state)
{
	struct obx_header *h = new_header();
	uint32_t cap[OBX_TAB_MAX], rs[OBX_TAB_MAX];

	caps(cap, rs, 1024, 0, 0, 0, 0);
	assert_int_equal(obx_layout_init(h, 0, 0, cap, rs), -EINVAL);
	assert_int_equal(obx_layout_init(h, OBX_MAX_WORKERS + 1, 0, cap, rs), -EINVAL);
	assert_int_equal(obx_layout_init(h, 1, OBX_MAX_PORTS + 1, cap, rs), -EINVAL);
	assert_int_equal(obx_layout_init(h, 1, 0, NULL, rs), -EINVAL);
	caps(cap, rs, 1000, 0, 0, 0, 0);
	assert_int_equal(obx_layout_init(h, 1, 0, cap, rs), -EINVAL);
	caps(cap, rs, 0, 0, 0, 0, 0);        /* SRC is mandatory */
	assert_int_equal(obx_layout_init(h, 1, 0, cap, rs), -EINVAL);
	caps(cap, rs, 1024, 100, 0, 0, 0);   /* hash kinds: power of two */
	assert_int_equal(obx_layout_init(h, 1, 0, cap, rs), -EINVAL);
	caps(cap, rs, 1024, 0, 0, 0, 1000);
	assert_int_equal(obx_layout_init(h, 1, 0, cap, rs), -EINVAL);
	caps(cap, rs, 1024, 0, 100, 0, 0);   /* the pool need not be */
	assert_int_equal(obx_layout_init(h, 1, 0, cap, rs), 0);
	caps(cap, rs, 1024, 64, 0, 0, 0);
	rs[OBX_TAB_CELL] = 60;               /* not a multiple of 8 */
	assert_int_equal(obx_layout_init(h, 1, 0, cap, rs), -EINVAL);
	rs[OBX_TAB_CELL] = 8;                /* below 16 */
	assert_int_equal(obx_layout_init(h, 1, 0, cap, rs), -EINVAL);
	rs[OBX_TAB_CELL] = OBX_REC_SIZE_MAX + 8;
	assert_int_equal(obx_layout_init(h, 1, 0, cap, rs), -EINVAL);
	caps(cap, rs, 1024, 0, 0, 0, 0);
	rs[OBX_TAB_SRC] = 40;                /* the v1 source record */
	assert_int_equal(obx_layout_init(h, 1, 0, cap, rs), -EINVAL);
	free(h);
}

enum field {
	F_MAGIC, F_VERSION, F_HEADER_SIZE, F_TOTAL_SIZE, F_WORKERS_0, F_WORKERS_65, F_WORKERS_2,
	F_PORTS, F_SENSORS, F_CAP_NOT_POW2, F_CAP_ZERO, F_CAP_OTHER_POW2, F_SLOT_SIZE,
	F_PORT_OFF, F_LIVE_OFF, F_SLOTS_OFF, F_MAP_BIGGER, F_MAP_SMALLER, F_MAP_TINY,
	/* per table (kind in .k) */
	F_T_CAP_NOT_POW2, F_T_CAP_OTHER, F_T_REC_ODD, F_T_REC_SMALL, F_T_REC_OTHER, F_T_OFF,
	F_T_OFF_UNALIGNED, F_T_ABSENT_REC, F_T_SLOT_OFF, F_T_SLOT_CAP, F_T_SLOT_REC, F_T_SLOT_KIND,
	F_SRC_REC,
};

static const struct {
	enum field f;
	unsigned k;
	const char *why;
} corruptions[] = {
	{ F_MAGIC, 0, "magic" },
	{ F_VERSION, 0, "this program reads version" },
	{ F_HEADER_SIZE, 0, "header_size" },
	{ F_TOTAL_SIZE, 0, "total_size differs from the mapping" },
	{ F_WORKERS_0, 0, "n_workers" },
	{ F_WORKERS_65, 0, "n_workers" },
	{ F_WORKERS_2, 0, "total_size differs from the layout" },
	{ F_PORTS, 0, "n_ports" },
	{ F_SENSORS, 0, "n_sensors" },
	{ F_CAP_NOT_POW2, 0, "power of two" },
	{ F_CAP_ZERO, 0, "source table absent" },
	{ F_CAP_OTHER_POW2, 0, "offset differs" },
	{ F_SLOT_SIZE, 0, "slot_size" },
	{ F_PORT_OFF, 0, "port_stats_off" },
	{ F_LIVE_OFF, 0, "worker_live_off" },
	{ F_SLOTS_OFF, 0, "slots_off" },
	{ F_MAP_BIGGER, 0, "total_size differs from the mapping" },
	{ F_MAP_SMALLER, 0, "total_size differs from the mapping" },
	{ F_MAP_TINY, 0, "smaller than the exchange header" },
	{ F_SRC_REC, 0, "source record size" },
	/* every other table, corrupted each way */
#define TAB_CORRUPTIONS(K) \
	{ F_T_CAP_OTHER, K, "" }, { F_T_REC_ODD, K, "record size" }, \
	{ F_T_REC_SMALL, K, "record size" }, { F_T_REC_OTHER, K, "" }, \
	{ F_T_OFF, K, "offset differs" }, { F_T_OFF_UNALIGNED, K, "offset differs" }, \
	{ F_T_SLOT_OFF, K, "slot's table geometry" }, { F_T_SLOT_CAP, K, "slot's table geometry" }, \
	{ F_T_SLOT_REC, K, "slot's table geometry" }, { F_T_SLOT_KIND, K, "slot's table geometry" }
	TAB_CORRUPTIONS(OBX_TAB_SRC), TAB_CORRUPTIONS(OBX_TAB_CELL),
	TAB_CORRUPTIONS(OBX_TAB_BITMAP), TAB_CORRUPTIONS(OBX_TAB_RESIP_PORT),
	TAB_CORRUPTIONS(OBX_TAB_EVENT),
	{ F_T_CAP_NOT_POW2, OBX_TAB_CELL, "power of two" },
	{ F_T_CAP_NOT_POW2, OBX_TAB_RESIP_PORT, "power of two" },
	{ F_T_CAP_NOT_POW2, OBX_TAB_EVENT, "power of two" },
	{ F_T_ABSENT_REC, 5, "absent table has a record size" },
	{ F_T_CAP_OTHER, 6, "" },            /* a free kind suddenly present */
};

static void test_corruptions(void **state)
{
	uint32_t cap[OBX_TAB_MAX], rs[OBX_TAB_MAX];

	caps(cap, rs, 4096, 256, 40, 128, 512);
	for (size_t i = 0; i < sizeof(corruptions) / sizeof(corruptions[0]); i++) {
		struct obx_header *h = new_map(2, cap, rs);
		struct obx_slot_hdr *last = obx_slot(h, 1, 1);
		unsigned k = corruptions[i].k;
		const char *why = NULL;
		uint64_t map = h->total_size;
		int rc;

		switch (corruptions[i].f) {
		case F_MAGIC: h->magic ^= 1; break;
		case F_VERSION: h->version = OBX_VERSION - 1; break;   /* a v3 exchange */
		case F_HEADER_SIZE: h->header_size = 2048; break;
		case F_TOTAL_SIZE: h->total_size += 4096; break;
		case F_WORKERS_0: h->n_workers = 0; break;
		case F_WORKERS_65: h->n_workers = OBX_MAX_WORKERS + 1; break;
		case F_WORKERS_2: h->n_workers = 1; break;
		case F_PORTS: h->n_ports = OBX_MAX_PORTS + 1; break;
		case F_SENSORS: h->n_sensors = 65; break;
		case F_CAP_NOT_POW2: h->tab_capacity[OBX_TAB_SRC] = 4097; break;
		case F_CAP_ZERO: h->tab_capacity[OBX_TAB_SRC] = 0; break;
		case F_CAP_OTHER_POW2: h->tab_capacity[OBX_TAB_SRC] = 8192; break;
		case F_SLOT_SIZE: h->slot_size += 64; break;
		case F_PORT_OFF: h->port_stats_off += 64; break;
		case F_LIVE_OFF: h->worker_live_off -= 64; break;
		case F_SLOTS_OFF: h->slots_off += 4096; break;
		case F_MAP_BIGGER: map += 4096; break;
		case F_MAP_SMALLER: map -= 1; break;
		case F_MAP_TINY: map = 100; break;
		case F_SRC_REC: h->tab_rec_size[OBX_TAB_SRC] = 40; break;
		case F_T_CAP_NOT_POW2: h->tab_capacity[k] += 1; break;
		case F_T_CAP_OTHER: h->tab_capacity[k] = h->tab_capacity[k] ? h->tab_capacity[k] * 2 : 64;
			if (h->tab_rec_size[k] == 0)
				h->tab_rec_size[k] = 64;
			break;
		case F_T_REC_ODD: h->tab_rec_size[k] += 4; break;
		case F_T_REC_SMALL: h->tab_rec_size[k] = 8; break;
		case F_T_REC_OTHER: h->tab_rec_size[k] += 8; break;
		case F_T_OFF: h->tab_off[k] += 64; break;
		case F_T_OFF_UNALIGNED: h->tab_off[k] += 8; break;
		case F_T_ABSENT_REC: h->tab_rec_size[k] = 64; break;
		case F_T_SLOT_OFF: last->tabs[k].off += 64; break;
		case F_T_SLOT_CAP: last->tabs[k].capacity *= 2; break;
		case F_T_SLOT_REC: last->tabs[k].rec_size += 8; break;
		case F_T_SLOT_KIND: last->tabs[k].kind = k + 1; break;
		}
		rc = obx_header_check(h, map, &why);
		if (rc >= 0)
			fail_msg("corruption %zu (field %d, kind %u) accepted", i, corruptions[i].f, k);
		assert_non_null(why);
		if (strstr(why, corruptions[i].why) == NULL)
			fail_msg("corruption %zu: why '%s' lacks '%s'", i, why, corruptions[i].why);
		free(h);
	}
	assert_true(obx_header_check(NULL, 1u << 20, NULL) < 0);
}

/* The source key hash spreads one address's hours and the record is what exchange.h
 * says: 64 bytes, one cache line, addr and hour adjacent (the worker compares them as one word). */
static void test_src_key(void **state)
{
	struct obx_src_rec r;
	uint32_t same = 0;

	assert_int_equal(sizeof(r), 64);
	assert_int_equal(offsetof(struct obx_src_rec, hour), 4);
	assert_int_equal(obx_src_key_hash(0x0a000001, 0), obx_src_hash(0x0a000001));
	for (uint32_t hr = 1; hr < 1000; hr++)
		same += (obx_src_key_hash(0x0a000001, hr) & 1023) ==
		        (obx_src_key_hash(0x0a000001, hr - 1) & 1023);
	assert_true(same < 10);
	memset(&r, 0, sizeof(r));
	assert_true(obx_rec_empty(&r, sizeof(r)));
	r.resip_packets = 1;
	assert_false(obx_rec_empty(&r, sizeof(r)));
}

/* A status whose every field says k (a torn copy mixes two k). */
static void status_of(struct obx_rules_status *st, uint32_t k)
{
	memset(st, 0, sizeof(*st));
	st->loaded = 1;
	st->built_wall_ns = st->refused_wall_ns = st->db_bytes = st->scratch_bytes = k;
	st->n_files = st->n_lines = st->n_accepted = st->n_rejected = k;
	st->n_commented = st->n_patterns = k;
	for (unsigned i = 0; i < OBX_RULES_REJ_MAX; i++)
		st->rejected[i] = k;
	memset(st->error, 'a' + (int)(k % 26), OBX_RULES_ERR_LEN - 1);
}

static int status_is(const struct obx_rules_status *st, uint32_t k)
{
	struct obx_rules_status want;

	status_of(&want, k);
	return memcmp((const uint8_t *)st + 8, (const uint8_t *)&want + 8, sizeof(want) - 8) == 0;
}

struct race {
	struct obx_header *h;
	_Atomic int stop;
	unsigned long published;
};

static void *race_writer(void *arg)
{
	struct race *r = arg;
	struct obx_rules_status st;

	for (uint32_t k = 1; !atomic_load(&r->stop); k++) {
		status_of(&st, k);
		obx_rules_status_publish(r->h, &st);
		r->published++;
	}
	return NULL;
}

static void test_rules_status(void **state)
{
	uint32_t cap[OBX_TAB_MAX], rs[OBX_TAB_MAX];
	struct obx_rules_status st, got;
	struct race race = { 0 };
	unsigned long reads = 0, busy = 0;
	pthread_t t;
	struct obx_header *h;

	(void)state;
	caps(cap, rs, 64, 0, 0, 0, 0);
	h = heap_xchg(1, 1, cap, rs);
	assert_non_null(h);
	assert_int_equal(obx_rules_status_read(h, &got), -ENODATA);   /* nothing reported yet */

	status_of(&st, 7);
	st.error[OBX_RULES_ERR_LEN - 1] = 'z';                   /* unterminated: cut */
	st.seq = 12345;                                          /* ignored */
	obx_rules_status_publish(h, &st);
	assert_int_equal(atomic_load(&h->rules.seq), 2);
	assert_int_equal(obx_rules_status_read(h, &got), 0);
	assert_true(status_is(&got, 7));
	assert_int_equal(strlen(got.error), OBX_RULES_ERR_LEN - 1);
	obx_rules_status_publish(h, &st);
	assert_int_equal(atomic_load(&h->rules.seq), 4);

	atomic_store(&h->rules.seq, 5);                          /* a writer mid-way */
	assert_int_equal(obx_rules_status_read(h, &got), -EAGAIN);
	atomic_store(&h->rules.seq, 6);
	assert_int_equal(obx_header_check(h, h->total_size, NULL), 0);   /* not layout */

	race.h = h;
	assert_int_equal(pthread_create(&t, NULL, race_writer, &race), 0);
	while (reads < 20000 || race.published < 1000) {
		int rc = obx_rules_status_read(h, &got);

		if (rc == -EAGAIN) {
			busy++;
			continue;
		}
		assert_int_equal(rc, 0);
		assert_int_equal(got.seq & 1, 0);
		assert_true(status_is(&got, got.n_files));       /* one state, whole */
		reads++;
	}
	atomic_store(&race.stop, 1);
	pthread_join(t, NULL);
	printf("rules status race: %lu consistent reads, %lu busy, %lu publishes\n", reads, busy,
	       race.published);
	free(h);
}

#define TESTS(T) T(test_layout_accepts) T(test_layout_init_rejects) T(test_corruptions) \
	T(test_src_key) T(test_rules_status)
OBS_TEST_MAIN(TESTS, NULL, NULL)
