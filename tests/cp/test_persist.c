/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_persist.c — unit tests of the snapshot (control/snapshot.c) and the journal
 * (control/journal.c): round trips, refusal of corrupt / truncated / foreign snapshots
 * without touching the caller's store, journal replay with dedup, and a torn tail.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "journal.h"
#include "snapshot.h"
#include "store.h"

static char dir[64];
static char snap[128];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/cp-unit-XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(snap, sizeof(snap), "%s/snapshot", dir);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void fill(struct cp_store *s, uint64_t boot, uint32_t n_epochs)
{
	struct obx_src_rec r[50];

	for (uint32_t e = 1; e <= n_epochs; e++) {
		struct cp_epoch x;

		memset(&x, 0, sizeof(x));
		for (uint32_t i = 0; i < 50; i++) {
			r[i].addr = e * 1000 + i;
			r[i].first_ns = e * 10 + i;
			r[i].last_ns = e * 10 + i + 5;
			r[i].packets = 1 + i;
			r[i].sensor_mask = 1ull << (i % 4);
		}
		x.boot_id = boot;
		x.worker = e % 4;
		x.seq = e;
		cp_epoch_add_tab(&x, OBX_TAB_SRC, sizeof(struct obx_src_rec), r, 50);
		x.delta.rx_packets = e;
		x.delta.proto_packets[OBX_P_UDP] = 2 * e;
		assert_int_equal(cp_store_apply(s, &x), 0);
	}
	s->n_ports = 2;
	snprintf(s->ports[0].name, OBX_NAME_LEN, "p0");
	s->ports[1].ipackets = 12345;
	s->ports_boot_id = boot;
	s->n_sensors = 2;
	snprintf(s->sensor_names[1], OBX_NAME_LEN, "beta");
}

static void assert_stores_equal(const struct cp_store *a, const struct cp_store *b)
{
	assert_int_equal(a->n_src, b->n_src);
	assert_int_equal(a->epochs, b->epochs);
	assert_int_equal(a->n_workers, b->n_workers);
	assert_int_equal(a->t_first_ns, b->t_first_ns);
	assert_int_equal(a->t_last_ns, b->t_last_ns);
	assert_memory_equal(&a->total, &b->total, sizeof(a->total));
	assert_memory_equal(a->worker, b->worker, sizeof(a->worker));
	assert_int_equal(a->n_boots, b->n_boots);
	for (uint32_t i = 0; i < a->n_boots; i++) {
		const struct cp_boot *y = cp_store_boot((struct cp_store *)b, a->boots[i].boot_id, false);

		assert_non_null(y);
		assert_memory_equal(a->boots[i].last_seq, y->last_seq, sizeof(y->last_seq));
		assert_int_equal(a->boots[i].epochs, y->epochs);
	}
	for (uint32_t i = 0; i <= a->src_mask; i++) {
		const struct cp_src *y;

		if (a->src[i].packets == 0)
			continue;
		y = cp_store_src_find(b, a->src[i].addr);
		assert_non_null(y);
		assert_memory_equal(&a->src[i], y, sizeof(*y));
	}
}

static void test_snapshot_round_trip(void **state)
{
	struct cp_store a, b;
	char err[512];

	(void)state;
	assert_int_equal(cp_store_init(&a), 0);
	assert_int_equal(cp_store_init(&b), 0);
	fill(&a, 0xabc, 40);
	assert_int_equal(cp_snapshot_write_file(snap, &a, err, sizeof(err)), 0);
	assert_int_equal(cp_snapshot_load_file(snap, &b, err, sizeof(err)), 0);
	assert_stores_equal(&a, &b);
	assert_int_equal(b.n_ports, 2);
	assert_string_equal(b.ports[0].name, "p0");
	assert_int_equal(b.ports[1].ipackets, 12345);
	assert_string_equal(b.sensor_names[1], "beta");
	/* no tmp file left behind */
	{
		char tmp[160];
		struct stat st;

		snprintf(tmp, sizeof(tmp), "%s.tmp", snap);
		assert_int_not_equal(stat(tmp, &st), 0);
	}
	cp_store_fini(&a);
	cp_store_fini(&b);
}

static void write_bytes(const char *path, const void *p, size_t n)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(p, 1, n, f), n);
	fclose(f);
}

static size_t read_bytes(const char *path, uint8_t **out)
{
	FILE *f = fopen(path, "rb");
	size_t n;

	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	n = (size_t)ftell(f);
	fseek(f, 0, SEEK_SET);
	*out = malloc(n);
	assert_int_equal(fread(*out, 1, n, f), n);
	fclose(f);
	return n;
}

/* Each corruption is refused with its reason, and the caller's store is untouched. */
static void test_snapshot_refusals(void **state)
{
	struct cp_store a, b;
	uint8_t *good, *bad;
	size_t n;
	char err[512];
	struct { const char *why; size_t cut; size_t flip; const char *magic; } cases[] = {
		{ "truncated", 1, 0, NULL },
		{ "checksum mismatch", 0, 1, NULL },
		{ "bad magic", 0, 0, "FOREIGN!" },
		{ "truncated", 2, 0, NULL },     /* shorter than the header */
		{ "header checksum", 0, 2, NULL },
	};

	(void)state;
	assert_int_equal(cp_store_init(&a), 0);
	fill(&a, 0x77, 10);
	assert_int_equal(cp_snapshot_write_file(snap, &a, err, sizeof(err)), 0);
	n = read_bytes(snap, &good);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len = n;

		bad = malloc(n);
		memcpy(bad, good, n);
		if (cases[i].cut == 1)
			len = n - 100;
		if (cases[i].cut == 2)
			len = 30;
		if (cases[i].flip == 1)
			bad[n - 7] ^= 0x01;
		if (cases[i].flip == 2)
			bad[12] ^= 0x80;              /* the schema field */
		if (cases[i].magic)
			memcpy(bad, cases[i].magic, 8);
		write_bytes(snap, bad, len);
		assert_int_equal(cp_store_init(&b), 0);
		fill(&b, 0x99, 3);
		err[0] = '\0';
		assert_int_equal(cp_snapshot_load_file(snap, &b, err, sizeof(err)), -EBADMSG);
		assert_non_null(strstr(err, cases[i].why));
		assert_non_null(strstr(err, snap));
		/* untouched: still the 3 epochs of boot 0x99 */
		assert_int_equal(b.epochs, 3);
		assert_int_equal(b.n_boots, 1);
		assert_int_equal(b.boots[0].boot_id, 0x99);
		cp_store_fini(&b);
		free(bad);
	}
	/* set aside */
	{
		char aside[700];
		struct stat st;

		assert_int_equal(cp_snapshot_set_aside(snap, aside, sizeof(aside)), 0);
		assert_non_null(strstr(aside, "snapshot.bad-"));
		assert_int_equal(stat(aside, &st), 0);
		assert_int_not_equal(stat(snap, &st), 0);
		assert_int_equal(cp_snapshot_load_file(snap, &a, err, sizeof(err)), -ENOENT);
	}
	free(good);
	cp_store_fini(&a);
}

static void test_journal_round_trip_and_torn_tail(void **state)
{
	struct cp_journal j;
	struct cp_journal_replay_stats st;
	struct cp_store a, b;
	struct obx_src_rec r[20];
	struct stat sb;
	uint64_t good_size;
	int fd;

	(void)state;
	assert_int_equal(cp_store_init(&a), 0);
	assert_int_equal(cp_journal_open(&j, dir), 0);
	for (uint32_t e = 1; e <= 12; e++) {
		struct cp_epoch x;

		memset(&x, 0, sizeof(x));
		for (uint32_t i = 0; i < 20; i++) {
			r[i].addr = (e * 7 + i) % 30;
			r[i].first_ns = 100 + e;
			r[i].last_ns = 200 + e;
			r[i].packets = e;
			r[i].sensor_mask = 1;
		}
		/* addresses within one epoch are distinct: (e*7+i) % 30 for 20 i */
		x.boot_id = 5;
		x.worker = e % 2;
		x.seq = e;
		cp_epoch_add_tab(&x, OBX_TAB_SRC, sizeof(struct obx_src_rec), r, 20);
		x.delta.rx_packets = e;
		assert_int_equal(cp_journal_append(&j, &x), 0);
		assert_int_equal(cp_store_apply(&a, &x), 0);
	}
	assert_int_equal(cp_journal_sync(&j), 0);
	good_size = j.size;
	cp_journal_close(&j);

	/* replay into an empty store: the same store */
	assert_int_equal(cp_store_init(&b), 0);
	assert_int_equal(cp_journal_open(&j, dir), 0);
	assert_int_equal(cp_journal_replay(&j, &b, &st), 0);
	assert_int_equal(st.records, 12);
	assert_int_equal(st.applied, 12);
	assert_int_equal(st.torn_bytes, 0);
	assert_stores_equal(&a, &b);
	/* again on top: all duplicates, nothing counted twice */
	assert_int_equal(cp_journal_replay(&j, &b, &st), 0);
	assert_int_equal(st.duplicates, 12);
	assert_stores_equal(&a, &b);
	cp_journal_close(&j);
	cp_store_fini(&b);

	/* a torn tail: half of a copy of the first record */
	{
		char jp[160];
		uint8_t *all;
		size_t n;

		snprintf(jp, sizeof(jp), "%s/journal", dir);
		n = read_bytes(jp, &all);
		assert_int_equal(n, good_size);
		fd = open(jp, O_WRONLY | O_APPEND);
		assert_true(fd >= 0);
		assert_int_equal(write(fd, all, 150), 150);
		close(fd);
		free(all);
		assert_int_equal(cp_store_init(&b), 0);
		assert_int_equal(cp_journal_open(&j, dir), 0);
		assert_int_equal(cp_journal_replay(&j, &b, &st), 0);
		assert_int_equal(st.applied, 12);
		assert_int_equal(st.torn_bytes, 150);
		assert_true(st.torn_why[0] != '\0');
		assert_stores_equal(&a, &b);
		assert_int_equal(stat(jp, &sb), 0);
		assert_int_equal((uint64_t)sb.st_size, good_size);   /* cut back */
		/* truncation empties it */
		assert_int_equal(cp_journal_truncate(&j), 0);
		assert_int_equal(stat(jp, &sb), 0);
		assert_int_equal(sb.st_size, 0);
		cp_journal_close(&j);
		cp_store_fini(&b);
	}
	cp_store_fini(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_snapshot_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_snapshot_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_journal_round_trip_and_torn_tail, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
