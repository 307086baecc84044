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

#include "crc32c.h"
#include "journal.h"
#include "snapshot.h"
#include "store.h"
#include "../fixtures/test_main.h"

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
	const struct cp_src *x;

	assert_int_equal(a->src.n, b->src.n);
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
	for (uint32_t it = 0; (x = cp_store_src_next(a, &it)) != NULL;) {
		const struct cp_src *y = cp_store_src_find(b, x->addr);

		assert_non_null(y);
		assert_memory_equal(x, y, sizeof(*y));
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

/* The journal in dir (opened as j, left open) replayed into a fresh store b. */
static void replay_fresh(struct cp_journal *j, struct cp_store *b,
                         struct cp_journal_replay_stats *st)
{
	assert_int_equal(cp_store_init(b), 0);
	assert_int_equal(cp_journal_open(j, dir), 0);
	assert_int_equal(cp_journal_replay(j, b, st), 0);
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
	replay_fresh(&j, &b, &st);
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
		replay_fresh(&j, &b, &st);
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

/* One epoch of 20 distinct sources, for the journal damage test. */
static void jepoch(struct cp_epoch *x, struct obx_src_rec *r, uint32_t e)
{
	memset(x, 0, sizeof(*x));
	for (uint32_t i = 0; i < 20; i++) {
		memset(&r[i], 0, sizeof(r[i]));
		r[i].addr = 1000 + e * 20 + i;
		r[i].first_ns = 100 + e;
		r[i].last_ns = 200 + e;
		r[i].packets = e;
		r[i].sensor_mask = 1;
	}
	x->boot_id = 9;
	x->worker = 0;
	x->seq = e;
	cp_epoch_add_tab(x, OBX_TAB_SRC, sizeof(struct obx_src_rec), r, 20);
	x->delta.rx_packets = e * 20;
}

/* A damaged record costs only itself: a flipped bit in record 3 of 12, and 64 bytes of
 * garbage overwriting the start of record 8, are skipped and counted; every record after
 * them is replayed, nothing is cut; a damaged tail is copied aside before it is cut. */
static void test_journal_damaged_record(void **state)
{
	struct cp_journal j;
	struct cp_journal_replay_stats st;
	struct cp_store want, b;
	struct obx_src_rec r[20];
	uint64_t offs[13];
	char jp[160];
	struct stat sb;
	int fd;

	(void)state;
	snprintf(jp, sizeof(jp), "%s/journal", dir);
	unlink(jp);
	assert_int_equal(cp_store_init(&want), 0);
	assert_int_equal(cp_journal_open(&j, dir), 0);
	for (uint32_t e = 1; e <= 12; e++) {
		struct cp_epoch x;

		jepoch(&x, r, e);
		offs[e - 1] = j.size;
		assert_int_equal(cp_journal_append(&j, &x), 0);
		if (e != 3 && e != 8)
			assert_int_equal(cp_store_apply(&want, &x), 0);
	}
	offs[12] = j.size;
	assert_int_equal(cp_journal_sync(&j), 0);
	cp_journal_close(&j);

	fd = open(jp, O_RDWR);
	assert_true(fd >= 0);
	{
		uint8_t c, junk[64];
		off_t at = (off_t)(offs[2] + (offs[3] - offs[2]) / 2);   /* inside record 3 */

		assert_int_equal(pread(fd, &c, 1, at), 1);
		c ^= 0x10;
		assert_int_equal(pwrite(fd, &c, 1, at), 1);
		memset(junk, 0xa5, sizeof(junk));
		assert_int_equal(pwrite(fd, junk, sizeof(junk), (off_t)offs[7]), 64);
	}
	close(fd);

	replay_fresh(&j, &b, &st);
	assert_int_equal(st.records, 10);
	assert_int_equal(st.applied, 10);
	assert_int_equal(st.bad_regions, 2);
	assert_int_equal(st.bad_bytes, (offs[3] - offs[2]) + (offs[8] - offs[7]));
	assert_int_equal(st.torn_bytes, 0);
	assert_true(strstr(st.bad_why, "CRC") != NULL);
	assert_int_equal(st.set_aside[0], '\0');
	assert_stores_equal(&want, &b);
	assert_int_equal(b.total.rx_packets, want.total.rx_packets);
	assert_int_equal(stat(jp, &sb), 0);
	assert_int_equal((uint64_t)sb.st_size, offs[12]);   /* nothing cut */
	/* appends go on after the last record; a second replay sees the same */
	{
		struct cp_epoch x;

		jepoch(&x, r, 13);
		assert_int_equal(cp_journal_append(&j, &x), 0);
		assert_int_equal(cp_store_apply(&want, &x), 0);
		assert_int_equal(cp_journal_sync(&j), 0);
	}
	cp_journal_close(&j);
	cp_store_fini(&b);
	replay_fresh(&j, &b, &st);
	assert_int_equal(st.applied, 11);
	assert_int_equal(st.bad_regions, 2);
	assert_stores_equal(&want, &b);
	cp_journal_close(&j);
	cp_store_fini(&b);

	/* damage at the very end that is no short write: kept aside, then cut */
	{
		uint8_t junk[200];
		uint64_t size0;
		char aside[700];

		assert_int_equal(stat(jp, &sb), 0);
		size0 = (uint64_t)sb.st_size;
		memset(junk, 0x5a, sizeof(junk));
		fd = open(jp, O_WRONLY | O_APPEND);
		assert_true(fd >= 0);
		assert_int_equal(write(fd, junk, sizeof(junk)), (ssize_t)sizeof(junk));
		close(fd);
		replay_fresh(&j, &b, &st);
		assert_int_equal(st.applied, 11);
		assert_int_equal(st.bad_regions, 3);
		assert_int_equal(st.torn_bytes, 0);
		assert_true(st.set_aside[0] != '\0');
		assert_true(strstr(st.set_aside, "/journal.bad-") != NULL);
		snprintf(aside, sizeof(aside), "%s", st.set_aside);
		assert_int_equal(stat(aside, &sb), 0);
		assert_int_equal(sb.st_size, 200);
		assert_int_equal(stat(jp, &sb), 0);
		assert_int_equal((uint64_t)sb.st_size, size0);
		assert_stores_equal(&want, &b);
		cp_journal_close(&j);
		cp_store_fini(&b);
		/* the set-aside file is no journal segment: the next replay is clean */
		replay_fresh(&j, &b, &st);
		assert_int_equal(st.applied, 11);
		assert_int_equal(st.bad_regions, 2);
		cp_journal_close(&j);
		cp_store_fini(&b);
		unlink(aside);
	}
	unlink(jp);
	cp_store_fini(&want);
}

/* An empty first record (no counters, no tables) with a valid CRC replays cleanly. */
static void test_journal_empty_record(void **state)
{
	struct cp_journal j;
	struct cp_journal_replay_stats st;
	struct cp_store b;
	struct cp_epoch x;
	char jp[160];

	(void)state;
	snprintf(jp, sizeof(jp), "%s/journal", dir);
	unlink(jp);
	assert_int_equal(cp_journal_open(&j, dir), 0);
	memset(&x, 0, sizeof(x));
	x.boot_id = 3;
	x.seq = 1;
	assert_int_equal(cp_journal_append(&j, &x), 0);
	assert_int_equal(cp_journal_sync(&j), 0);
	cp_journal_close(&j);
	replay_fresh(&j, &b, &st);
	assert_int_equal(st.records, 1);
	assert_int_equal(st.bad_regions, 0);
	cp_journal_close(&j);
	cp_store_fini(&b);
	unlink(jp);
}

/* ---- v2: extra kinds in the journal, registered snapshot sections ---- */

struct ev_rec {                    /* a 24-byte test record of the EVENT kind */
	uint64_t count;
	uint64_t key;
	uint64_t extra;
};

struct collector {                 /* a consumer remembering what it was given */
	uint64_t n, sum_count, sum_key;
	uint32_t bitmap_n;
	uint64_t bitmap_first;         /* first word of pool entry 0, pool order */
};

static int collect(void *ctx, const struct cp_epoch *e, const void *recs, uint32_t n,
                   uint32_t rec_size)
{
	struct collector *c = ctx;

	(void)e;
	if (recs == NULL)
		return rec_size == sizeof(struct ev_rec) ? 0 : -EPROTO;
	for (uint32_t i = 0; i < n; i++) {
		const struct ev_rec *r = &((const struct ev_rec *)recs)[i];

		c->n++;
		c->sum_count += r->count;
		c->sum_key += r->key;
	}
	return 0;
}

static int collect_pool(void *ctx, const struct cp_epoch *e, const void *recs, uint32_t n,
                        uint32_t rec_size)
{
	struct collector *c = ctx;

	(void)e;
	if (recs == NULL)
		return rec_size == 64 ? 0 : -EPROTO;
	c->bitmap_n += n;
	if (n > 0)
		memcpy(&c->bitmap_first, recs, 8);
	return 0;
}

/* Journal records carry every table; replay hands each consumer exactly what the
 * drain would have (and the store ends up the same). */
static void test_journal_extra_kinds(void **state)
{
	struct collector live = { 0 }, replayed = { 0 }, pool_live = { 0 }, pool_rep = { 0 };
	struct cp_journal j;
	struct cp_journal_replay_stats st;
	struct cp_store a, b;
	struct obx_src_rec r[3];
	struct ev_rec ev[4];
	uint64_t pool[2][8];

	(void)state;
	cp_tab_unregister_all();
	assert_int_equal(cp_tab_register(OBX_TAB_EVENT, "ev", collect, &live), 0);
	assert_int_equal(cp_tab_register(OBX_TAB_BITMAP, "pool", collect_pool, &pool_live), 0);
	assert_int_equal(cp_store_init(&a), 0);
	assert_int_equal(cp_journal_open(&j, dir), 0);
	for (uint32_t e = 1; e <= 6; e++) {
		struct cp_epoch x;

		memset(&x, 0, sizeof(x));
		memset(r, 0, sizeof(r));
		for (uint32_t i = 0; i < 3; i++) {
			r[i].addr = 100 + i;
			r[i].hour = e;
			r[i].first_ns = e * 3600;
			r[i].last_ns = e * 3600 + i;
			r[i].packets = e;
			r[i].flags = i;
			r[i].resip_packets = i;
		}
		for (uint32_t i = 0; i < 4; i++)
			ev[i] = (struct ev_rec){ .count = e + i, .key = 1000 * e + i, .extra = 7 };
		memset(pool, 0, sizeof(pool));
		pool[0][0] = e;
		pool[1][0] = 100 + e;
		x.boot_id = 6;
		x.worker = 0;
		x.seq = e;
		x.delta.rx_packets = e;
		x.delta.rule_matches = 2 * e;        /* a v2 counter survives the journal */
		/* tables added out of order: cp_epoch_add_tab keeps them ascending */
		assert_int_equal(cp_epoch_add_tab(&x, OBX_TAB_EVENT, sizeof(ev[0]), ev,
		                                  e % 3 == 0 ? 0 : 4), 0);
		assert_int_equal(cp_epoch_add_tab(&x, OBX_TAB_BITMAP, 64, pool, 2), 0);
		assert_int_equal(cp_epoch_add_tab(&x, OBX_TAB_SRC, sizeof(r[0]), r, 3), 0);
		assert_int_equal(cp_epoch_add_tab(&x, OBX_TAB_SRC, sizeof(r[0]), r, 3), -EINVAL);
		assert_int_equal(x.tabs[0].kind, OBX_TAB_SRC);
		assert_int_equal(x.tabs[2].kind, OBX_TAB_EVENT);
		assert_int_equal(cp_journal_append(&j, &x), 0);
		assert_int_equal(cp_store_apply(&a, &x), 0);
	}
	assert_int_equal(cp_journal_sync(&j), 0);
	cp_journal_close(&j);
	assert_int_equal(live.n, 4 * 4);
	assert_int_equal(pool_live.bitmap_n, 12);

	cp_tab_unregister_all();
	assert_int_equal(cp_tab_register(OBX_TAB_EVENT, "ev", collect, &replayed), 0);
	assert_int_equal(cp_tab_register(OBX_TAB_BITMAP, "pool", collect_pool, &pool_rep), 0);
	replay_fresh(&j, &b, &st);
	assert_int_equal(st.records, 6);
	assert_int_equal(st.applied, 6);
	assert_int_equal(st.torn_bytes, 0);
	assert_memory_equal(&live, &replayed, sizeof(live));
	assert_memory_equal(&pool_live, &pool_rep, sizeof(pool_live));
	assert_int_equal(pool_rep.bitmap_first, 6);       /* pool order kept (last epoch) */
	assert_stores_equal(&a, &b);
	assert_int_equal(b.total.rule_matches, 2 * (1 + 2 + 3 + 4 + 5 + 6));
	{
		const struct cp_src *x = cp_store_src_find(&b, 102);

		assert_non_null(x);
		assert_int_equal(x->packets, 21);
		assert_int_equal(x->flags, 2);
		assert_int_equal(x->resip_packets, 12);
		assert_int_equal(x->first_ns, 3600);
		assert_int_equal(x->last_ns, 6 * 3600 + 2);
	}
	/* a consumer that cannot read the records refuses them on replay too: counted as
	 * skipped, the store unchanged by them */
	cp_journal_close(&j);
	cp_store_fini(&b);
	cp_tab_unregister_all();
	assert_int_equal(cp_tab_register(OBX_TAB_BITMAP, "pool32", collect, &replayed), 0);
	replay_fresh(&j, &b, &st);
	assert_int_equal(st.records, 6);
	assert_int_equal(st.applied, 0);
	assert_int_equal(b.epochs, 0);
	cp_journal_close(&j);
	cp_store_fini(&b);
	cp_store_fini(&a);
	cp_tab_unregister_all();
}

/* Replays the journal in dir into a fresh store b: one record applied, rx packets in the
 * counters, n_src sources, and source addr with its packets and sensor mask. */
static const struct cp_src *replay_check(struct cp_store *b, uint64_t rx, size_t n_src,
                                         uint32_t addr, uint64_t packets, uint64_t mask)
{
	struct cp_journal j;
	struct cp_journal_replay_stats st;
	const struct cp_src *x;

	replay_fresh(&j, b, &st);
	cp_journal_close(&j);
	assert_int_equal(st.applied, 1);
	assert_int_equal(b->total.rx_packets, rx);
	assert_int_equal(b->src.n, n_src);
	x = cp_store_src_find(b, addr);
	assert_non_null(x);
	assert_int_equal(x->packets, packets);
	assert_int_equal(x->sensor_mask, mask);
	return x;
}

/* A v1 journal record (exchange v1: 40-byte source records) still replays. */
static void test_journal_v1_record(void **state)
{
	struct cp_jrec h;
	uint64_t counters[27] = { 0 };
	uint8_t recs[2][40];
	struct cp_store b;
	char jp[160];
	uint32_t crc;
	int fd;

	(void)state;
	cp_tab_unregister_all();
	memset(recs, 0, sizeof(recs));
	for (uint32_t i = 0; i < 2; i++) {
		uint32_t addr = 77 + i;
		uint64_t first = 7200000000000ull, last = first + 5, pk = 3 + i, mask = 2;

		memcpy(recs[i], &addr, 4);
		memcpy(recs[i] + 8, &first, 8);
		memcpy(recs[i] + 16, &last, 8);
		memcpy(recs[i] + 24, &pk, 8);
		memcpy(recs[i] + 32, &mask, 8);
	}
	counters[0] = 9;   /* rx_packets */
	memset(&h, 0, sizeof(h));
	h.magic = CP_JREC_MAGIC_V1;
	h.hdr_len = sizeof(h);
	h.boot_id = 1;
	h.seq = 1;
	h.n_tabs = 2;      /* v1: n_src */
	h.n_counters = 27;
	h.length = sizeof(counters) + sizeof(recs);
	crc = cp_crc32c(0, &h, sizeof(h));
	crc = cp_crc32c(crc, counters, sizeof(counters));
	h.crc = cp_crc32c(crc, recs, sizeof(recs));
	snprintf(jp, sizeof(jp), "%s/journal", dir);
	fd = open(jp, O_WRONLY | O_CREAT | O_TRUNC, 0640);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, &h, sizeof(h)), (ssize_t)sizeof(h));
	assert_int_equal(write(fd, counters, sizeof(counters)), (ssize_t)sizeof(counters));
	assert_int_equal(write(fd, recs, sizeof(recs)), (ssize_t)sizeof(recs));
	close(fd);
	replay_check(&b, 9, 2, 78, 4, 2);
	cp_store_fini(&b);
}

/* A journal record of exchange layout v2 (48-byte source records, before the inline
 * event) still replays: same fields, no inline event. */
static void test_journal_layout_v2_src(void **state)
{
	uint8_t recs[3][48];
	struct cp_epoch x;
	struct cp_journal j;
	struct cp_store b;
	const struct cp_src *s;

	(void)state;
	cp_tab_unregister_all();
	memset(recs, 0xee, sizeof(recs));           /* nothing past 48 bytes is read */
	for (uint32_t i = 0; i < 3; i++) {
		struct obx_src_rec r;

		memset(&r, 0, sizeof(r));
		r.addr = 300 + i;
		r.hour = 2;
		r.first_ns = 2 * OBX_HOUR_NS + 10;
		r.last_ns = 2 * OBX_HOUR_NS + 20 + i;
		r.packets = 5 + i;
		r.sensor_mask = 4;
		r.flags = OBX_SRC_F_SCANNER;
		r.resip_packets = i;
		memcpy(recs[i], &r, 48);
	}
	memset(&x, 0, sizeof(x));
	x.boot_id = 9;
	x.seq = 1;
	x.delta.rx_packets = 18;
	assert_int_equal(cp_epoch_add_tab(&x, OBX_TAB_SRC, 48, recs, 3), 0);
	assert_int_equal(cp_journal_open(&j, dir), 0);
	assert_int_equal(cp_journal_append(&j, &x), 0);
	assert_int_equal(cp_journal_sync(&j), 0);
	cp_journal_close(&j);

	s = replay_check(&b, 18, 3, 302, 7, 4);
	assert_int_equal(s->last_ns, 2 * OBX_HOUR_NS + 22);
	cp_store_fini(&b);
}

/* A module's snapshot section: its own state, saved and loaded with the store's. */
struct mod {
	uint64_t v[4];
	uint32_t n;
	int corrupt;                   /* save a bad payload (3 bytes) */
	uint32_t resets, loads;
};

/* two analyses' section numbers (snapshot.h: from CP_SNAP_S_MODULE_BASE on) */
enum { SEC_M1 = CP_SNAP_S_MODULE_BASE, SEC_M2 = CP_SNAP_S_MODULE_BASE + 2 };

static int mod_save(void *ctx, const struct cp_store *s, struct cp_snap_w *w)
{
	struct mod *m = ctx;

	(void)s;
	if (m->corrupt) {
		cp_snap_put(w, "bad", 3);
		return 0;
	}
	cp_snap_put(w, m->v, (size_t)m->n * 8);
	return 0;
}

static int mod_load(void *ctx, struct cp_store *s, const void *p, size_t len, char *err,
                    size_t errlen)
{
	struct mod *m = ctx;

	(void)s;
	m->loads++;
	if (len % 8 != 0 || len > sizeof(m->v)) {
		snprintf(err, errlen, "length %zu not a multiple of 8 up to 32", len);
		return -EBADMSG;
	}
	memcpy(m->v, p, len);
	m->n = (uint32_t)(len / 8);
	return 0;
}

static void mod_reset(void *ctx, struct cp_store *s)
{
	struct mod *m = ctx;

	(void)s;
	memset(m->v, 0, sizeof(m->v));
	m->n = 0;
	m->resets++;
}

static void test_snapshot_registered_sections(void **state)
{
	struct mod m1 = { .v = { 1, 2, 3 }, .n = 3 }, m2 = { .v = { 42 }, .n = 1 };
	struct cp_store a, b;
	char err[512];

	(void)state;
	cp_snapshot_section_unregister_all();
	assert_int_equal(cp_snapshot_section_register(SEC_M1, "m1", mod_save, mod_load,
	                                              mod_reset, &m1), 0);
	assert_int_equal(cp_snapshot_section_register(SEC_M2, "m2", mod_save, mod_load,
	                                              mod_reset, &m2), 0);
	assert_int_equal(cp_snapshot_section_register(SEC_M1, "dup", mod_save, mod_load,
	                                              mod_reset, &m1), -EEXIST);
	assert_int_equal(cp_snapshot_section_register(CP_SNAP_S_SOURCES, "store", mod_save,
	                                              mod_load, mod_reset, &m1), -EINVAL);
	assert_int_equal(cp_snapshot_section_register(300, "big", mod_save, mod_load, mod_reset,
	                                              &m1), -EINVAL);
	assert_int_equal(cp_store_init(&a), 0);
	assert_int_equal(cp_store_init(&b), 0);
	fill(&a, 0xabc, 10);
	assert_int_equal(cp_snapshot_write_file(snap, &a, err, sizeof(err)), 0);
	/* the modules' state changes after the save; the load brings the saved one back */
	m1.v[0] = 99;
	m1.n = 4;
	m2.n = 0;
	assert_int_equal(cp_snapshot_load_file(snap, &b, err, sizeof(err)), 0);
	assert_stores_equal(&a, &b);
	assert_int_equal(m1.n, 3);
	assert_int_equal(m1.v[0], 1);
	assert_int_equal(m1.v[2], 3);
	assert_int_equal(m1.v[3], 0);
	assert_int_equal(m2.n, 1);
	assert_int_equal(m2.v[0], 42);

	/* a module section with a bad length: the whole file is refused, every module is
	 * empty again (none keeps a part), the caller's store untouched */
	m2.corrupt = 1;
	assert_int_equal(cp_snapshot_write_file(snap, &a, err, sizeof(err)), 0);
	m2.corrupt = 0;
	cp_store_fini(&b);
	assert_int_equal(cp_store_init(&b), 0);
	fill(&b, 0xdef, 3);
	m1.loads = m2.loads = 0;
	assert_int_equal(cp_snapshot_load_file(snap, &b, err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "m2"));
	assert_non_null(strstr(err, "not a multiple of 8"));
	assert_int_equal(m1.loads, 1);    /* it was loaded ... */
	assert_int_equal(m1.n, 0);        /* ... and reset with the failure */
	assert_int_equal(m2.n, 0);
	assert_int_equal(b.epochs, 3);    /* the caller's store as it was */
	assert_int_equal(b.boots[0].boot_id, 0xdef);

	/* a file without a module's section (written before it registered): it starts
	 * empty, the rest loads */
	cp_snapshot_section_unregister_all();
	assert_int_equal(cp_snapshot_write_file(snap, &a, err, sizeof(err)), 0);
	assert_int_equal(cp_snapshot_section_register(SEC_M1, "m1", mod_save, mod_load,
	                                              mod_reset, &m1), 0);
	m1.n = 2;
	cp_store_fini(&b);
	assert_int_equal(cp_store_init(&b), 0);
	assert_int_equal(cp_snapshot_load_file(snap, &b, err, sizeof(err)), 0);
	assert_int_equal(m1.n, 0);
	assert_stores_equal(&a, &b);
	/* and a section of a module this build lacks is skipped (optional) */
	m1.n = 2;
	assert_int_equal(cp_snapshot_write_file(snap, &a, err, sizeof(err)), 0);
	cp_snapshot_section_unregister_all();
	cp_store_fini(&b);
	assert_int_equal(cp_store_init(&b), 0);
	assert_int_equal(cp_snapshot_load_file(snap, &b, err, sizeof(err)), 0);
	assert_stores_equal(&a, &b);
	cp_store_fini(&a);
	cp_store_fini(&b);
}

/* CRC-32C: the RFC 3720 B.4 vectors, and the hardware path equals the table on every
 * length and alignment, in one call and continued over two. */
static void test_crc32c(void **state)
{
	static const char nine[] = "123456789";
	uint8_t buf[4096 + 16], zeros[32], ones[32];
	uint32_t x = 12345;

	(void)state;
	memset(zeros, 0, sizeof(zeros));
	memset(ones, 0xff, sizeof(ones));
	assert_int_equal(cp_crc32c(0, nine, 9), 0xe3069283u);
	assert_int_equal(cp_crc32c(0, zeros, 32), 0x8a9136aau);
	assert_int_equal(cp_crc32c(0, ones, 32), 0x62a8ab43u);
	assert_int_equal(cp_crc32c_sw(0, nine, 9), 0xe3069283u);
	for (size_t i = 0; i < sizeof(buf); i++) {
		x = x * 1103515245u + 12345u;
		buf[i] = (uint8_t)(x >> 16);
	}
	for (size_t off = 0; off < 16; off++)
		for (size_t len = 0; len + off <= sizeof(buf); len += len < 64 ? 1 : 61) {
			uint32_t want = cp_crc32c_sw(7, buf + off, len);

			assert_int_equal(cp_crc32c(7, buf + off, len), want);
			assert_int_equal(cp_crc32c(cp_crc32c(7, buf + off, len / 3), buf + off + len / 3,
			                           len - len / 3), want);
		}
}

#define TESTS(T) T(test_snapshot_round_trip) T(test_snapshot_refusals) \
	T(test_journal_round_trip_and_torn_tail) T(test_journal_extra_kinds) \
	T(test_journal_v1_record) T(test_journal_layout_v2_src) \
	T(test_snapshot_registered_sections) T(test_journal_damaged_record) \
	T(test_journal_empty_record) T(test_crc32c)
OBS_TEST_MAIN_FX(TESTS)
