/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_exchange.c — obx_layout_init() produces a header obx_header_check() accepts and
 * that agrees with the header's inline layout helpers; every corrupted field is
 * rejected with its own message.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "dataplane/exchange.h"

static struct obx_header *new_header(void)
{
	/* the header owns a whole page; the checker may read all of it */
	struct obx_header *h = aligned_alloc(4096, OBX_HEADER_SIZE);
	assert_non_null(h);
	memset(h, 0xcc, OBX_HEADER_SIZE);
	return h;
}

static void test_layout_accepts(void **state)
{
	const uint32_t cases[][3] = {
		{ 1, 0, 1024 }, { 1, 1, 262144 }, { 4, 2, 65536 }, { 64, 16, 1u << 20 },
		{ 3, 16, 1u << 24 }, { 64, 0, 1 },
	};
	struct obx_header *h = new_header();

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *why = "unset";
		uint32_t w = cases[i][0], p = cases[i][1], cap = cases[i][2];

		assert_int_equal(obx_layout_init(h, w, p, cap), 0);
		assert_int_equal(h->magic, OBX_MAGIC);
		assert_int_equal(h->version, OBX_VERSION);
		assert_int_equal(h->n_workers, w);
		assert_int_equal(h->n_ports, p);
		assert_int_equal(h->src_capacity, cap);
		assert_int_equal(h->boot_id, 0);   /* non-layout fields zeroed */
		assert_int_equal(h->total_size, obx_total_size(w, p, cap));
		assert_int_equal(h->slot_size, obx_slot_size(cap));
		assert_int_equal(h->slot_size % 64, 0);
		assert_int_equal(h->slots_off % 4096, 0);
		assert_int_equal(h->worker_live_off % 64, 0);
		assert_true(h->port_stats_off >= OBX_HEADER_SIZE);
		assert_true(h->worker_live_off >= h->port_stats_off +
		            OBX_MAX_PORTS * sizeof(struct obx_port_stats));
		assert_true(h->slots_off >= h->worker_live_off + w * sizeof(struct obx_worker_live));
		/* the last slot ends exactly at the end of the mapping */
		assert_int_equal((uint64_t)((uint8_t *)obx_slot(h, w - 1, OBX_SLOTS - 1) - (uint8_t *)h) +
		                 h->slot_size, h->total_size);
		assert_int_equal(obx_header_check(h, h->total_size, &why), 0);
		assert_null(why);
	}
	free(h);
}

static void test_layout_init_rejects(void **state)
{
	struct obx_header *h = new_header();

	assert_int_equal(obx_layout_init(h, 0, 0, 1024), -EINVAL);
	assert_int_equal(obx_layout_init(h, OBX_MAX_WORKERS + 1, 0, 1024), -EINVAL);
	assert_int_equal(obx_layout_init(h, 1, OBX_MAX_PORTS + 1, 1024), -EINVAL);
	assert_int_equal(obx_layout_init(h, 1, 0, 1000), -EINVAL);
	assert_int_equal(obx_layout_init(h, 1, 0, 0), -EINVAL);
	free(h);
}

enum field {
	F_MAGIC, F_VERSION, F_HEADER_SIZE, F_TOTAL_SIZE, F_WORKERS_0, F_WORKERS_65, F_WORKERS_2,
	F_PORTS, F_SENSORS, F_CAP_NOT_POW2, F_CAP_ZERO, F_CAP_OTHER_POW2, F_SLOT_SIZE,
	F_PORT_OFF, F_LIVE_OFF, F_SLOTS_OFF, F_MAP_BIGGER, F_MAP_SMALLER, F_MAP_TINY,
};

static const struct {
	enum field f;
	const char *why;
} corruptions[] = {
	{ F_MAGIC, "magic" },
	{ F_VERSION, "version" },
	{ F_HEADER_SIZE, "header_size" },
	{ F_TOTAL_SIZE, "total_size differs from the mapping" },
	{ F_WORKERS_0, "n_workers" },
	{ F_WORKERS_65, "n_workers" },
	{ F_WORKERS_2, "total_size differs from the layout" },
	{ F_PORTS, "n_ports" },
	{ F_SENSORS, "n_sensors" },
	{ F_CAP_NOT_POW2, "src_capacity" },
	{ F_CAP_ZERO, "src_capacity" },
	{ F_CAP_OTHER_POW2, "slot_size" },
	{ F_SLOT_SIZE, "slot_size" },
	{ F_PORT_OFF, "port_stats_off" },
	{ F_LIVE_OFF, "worker_live_off" },
	{ F_SLOTS_OFF, "slots_off" },
	{ F_MAP_BIGGER, "total_size differs from the mapping" },
	{ F_MAP_SMALLER, "total_size differs from the mapping" },
	{ F_MAP_TINY, "smaller than the exchange header" },
};

static void test_corruptions(void **state)
{
	struct obx_header *h = new_header();

	for (size_t i = 0; i < sizeof(corruptions) / sizeof(corruptions[0]); i++) {
		const char *why = NULL;
		uint64_t map;
		int rc;

		assert_int_equal(obx_layout_init(h, 2, 1, 4096), 0);
		map = h->total_size;
		switch (corruptions[i].f) {
		case F_MAGIC: h->magic ^= 1; break;
		case F_VERSION: h->version = OBX_VERSION + 1; break;
		case F_HEADER_SIZE: h->header_size = 2048; break;
		case F_TOTAL_SIZE: h->total_size += 4096; break;
		case F_WORKERS_0: h->n_workers = 0; break;
		case F_WORKERS_65: h->n_workers = OBX_MAX_WORKERS + 1; break;
		case F_WORKERS_2: h->n_workers = 3; break;
		case F_PORTS: h->n_ports = OBX_MAX_PORTS + 1; break;
		case F_SENSORS: h->n_sensors = 65; break;
		case F_CAP_NOT_POW2: h->src_capacity = 4097; break;
		case F_CAP_ZERO: h->src_capacity = 0; break;
		case F_CAP_OTHER_POW2: h->src_capacity = 8192; break;
		case F_SLOT_SIZE: h->slot_size += 64; break;
		case F_PORT_OFF: h->port_stats_off += 64; break;
		case F_LIVE_OFF: h->worker_live_off -= 64; break;
		case F_SLOTS_OFF: h->slots_off += 4096; break;
		case F_MAP_BIGGER: map += 4096; break;
		case F_MAP_SMALLER: map -= 1; break;
		case F_MAP_TINY: map = 100; break;
		}
		rc = obx_header_check(h, map, &why);
		assert_true(rc < 0);
		assert_non_null(why);
		if (strstr(why, corruptions[i].why) == NULL)
			fail_msg("corruption %zu: why '%s' lacks '%s'", i, why, corruptions[i].why);
	}
	assert_true(obx_header_check(NULL, 1u << 20, NULL) < 0);
	free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_layout_accepts),
		cmocka_unit_test(test_layout_init_rejects),
		cmocka_unit_test(test_corruptions),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
