/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_persist_ctr.c — the responder (issue 13) appended four counter words after
 * obx_counters.reserved[]: journals and snapshots written with the older word count (and
 * journals of a newer one) must still load, taking the words both layouts know
 * (control/journal.c, control/snapshot.c).  Split from test_persist.c (its size).
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
	snprintf(dir, sizeof(dir), "/tmp/cp-unit-resp-XXXXXX");
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

/* One epoch of worker 0 with one source and some counters applied to a fresh store. */
static void fill_one(struct cp_store *s)
{
	struct obx_src_rec r;
	struct cp_epoch x;

	memset(&r, 0, sizeof(r));
	r.addr = 4242;
	r.first_ns = 10;
	r.last_ns = 20;
	r.packets = 3;
	r.sensor_mask = 1;
	memset(&x, 0, sizeof(x));
	x.boot_id = 0xabc;
	x.seq = 1;
	cp_epoch_add_tab(&x, OBX_TAB_SRC, sizeof(r), &r, 1);
	x.delta.rx_packets = 3;
	assert_int_equal(cp_store_apply(s, &x), 0);
}

/* Replays the journal in dir into a fresh store b: one record applied, rx packets in the
 * counters, one source addr with its packets. */
static void replay_one(struct cp_store *b, uint64_t rx, uint32_t addr, uint64_t packets)
{
	struct cp_journal j;
	struct cp_journal_replay_stats st;
	const struct cp_src *x;

	assert_int_equal(cp_store_init(b), 0);
	assert_int_equal(cp_journal_open(&j, dir), 0);
	assert_int_equal(cp_journal_replay(&j, b, &st), 0);
	cp_journal_close(&j);
	assert_int_equal(st.applied, 1);
	assert_int_equal(b->total.rx_packets, rx);
	assert_int_equal(b->src.n, 1);
	x = cp_store_src_find(b, addr);
	assert_non_null(x);
	assert_int_equal(x->packets, packets);
}

/* responder (issue 13): journal records written before the counters block appended after
 * reserved[] (4 words fewer), and by a newer layout (2 words more), still replay: the
 * words both layouts know are taken, the rest is zero or ignored. */
static void write_jrec_words(const char *jp, uint32_t nwords, const uint64_t *words,
                             const struct obx_src_rec *r)
{
	struct cp_jrec h;
	struct cp_jtab th;
	uint32_t crc;
	int fd;

	memset(&h, 0, sizeof(h));
	memset(&th, 0, sizeof(th));
	th.kind = OBX_TAB_SRC;
	th.rec_size = sizeof(*r);
	th.n = 1;
	h.magic = CP_JREC_MAGIC;
	h.hdr_len = sizeof(h);
	h.boot_id = 5;
	h.seq = 1;
	h.n_tabs = 1;
	h.n_counters = nwords;
	h.length = (uint64_t)nwords * 8 + sizeof(th) + sizeof(*r);
	crc = cp_crc32c(0, &h, sizeof(h));
	crc = cp_crc32c(crc, words, (size_t)nwords * 8);
	crc = cp_crc32c(crc, &th, sizeof(th));
	h.crc = cp_crc32c(crc, r, sizeof(*r));
	fd = open(jp, O_WRONLY | O_CREAT | O_TRUNC, 0640);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, &h, sizeof(h)), (ssize_t)sizeof(h));
	assert_int_equal(write(fd, words, (size_t)nwords * 8), (ssize_t)nwords * 8);
	assert_int_equal(write(fd, &th, sizeof(th)), (ssize_t)sizeof(th));
	assert_int_equal(write(fd, r, sizeof(*r)), (ssize_t)sizeof(*r));
	close(fd);
}

static void test_journal_counters_layouts(void **state)
{
	const uint32_t nw = sizeof(struct obx_counters) / 8;
	const uint32_t before = (uint32_t)(offsetof(struct obx_counters, resp_sessions) / 8);
	uint64_t words[sizeof(struct obx_counters) / 8 + 2];
	struct obx_src_rec r;
	struct cp_store b;
	char jp[160];

	(void)state;
	assert_int_equal(before + 4, nw);   /* the responder block is the last one appended */
	cp_tab_unregister_all();
	memset(&r, 0, sizeof(r));
	r.addr = 900;
	r.hour = 3;
	r.first_ns = 3 * OBX_HOUR_NS + 1;
	r.last_ns = 3 * OBX_HOUR_NS + 2;
	r.packets = 4;
	r.sensor_mask = 1;
	for (uint32_t i = 0; i < nw + 2; i++)
		words[i] = 1000 + i;
	words[0] = 11;                                         /* rx_packets */
	snprintf(jp, sizeof(jp), "%s/journal", dir);

	write_jrec_words(jp, before, words, &r);                /* the older layout */
	replay_one(&b, 11, 900, 4);
	assert_int_equal(b.total.reserved[OBX_CTR_RESP_SYNACKS],
	                 1000 + offsetof(struct obx_counters, reserved[OBX_CTR_RESP_SYNACKS]) / 8);
	assert_int_equal(b.total.resp_sessions, 0);
	assert_int_equal(b.total.resp_arps, 0);
	cp_store_fini(&b);

	write_jrec_words(jp, nw + 2, words, &r);                /* a newer layout */
	replay_one(&b, 11, 900, 4);
	assert_int_equal(b.total.resp_sessions, 1000 + before);
	assert_int_equal(b.total.resp_arps, 1000 + before + 3);
	cp_store_fini(&b);
}

/* responder (issue 13): a snapshot written before the counters block appended after
 * reserved[] (TOTALS and WORKERS with 4 words fewer) still loads, the block at 0.  The
 * file is rewritten here in that older shape: snapshot.c's layout (64-byte header with
 * body_len at 24, body_crc at 32, hdr_crc over the first 36 bytes; sections of
 * {u32 type, u32 flags, u64 length} and their payload). */
static void test_snapshot_counters_layout(void **state)
{
	const uint32_t nw = sizeof(struct obx_counters) / 8, old = nw - 4;
	struct cp_store a, b;
	char err[512];
	uint8_t *in, *out;
	size_t n, m = 64, off = 64;
	uint64_t body_len;
	uint32_t crc;
	FILE *fp;

	(void)state;
	assert_int_equal(cp_store_init(&a), 0);
	assert_int_equal(cp_store_init(&b), 0);
	fill_one(&a);
	a.total.reserved[OBX_CTR_RESP_SYNACKS] = 77;
	a.total.resp_sessions = 5;                 /* not in the older layout: must load as 0 */
	a.worker[0].reserved[OBX_CTR_RESP_COOKIE_BAD] = 9;
	a.worker[0].resp_arps = 3;
	assert_int_equal(cp_snapshot_write_file(snap, &a, err, sizeof(err)), 0);
	fp = fopen(snap, "rb");
	assert_non_null(fp);
	in = malloc(1 << 24);
	out = malloc(1 << 24);
	assert_non_null(in);
	assert_non_null(out);
	n = fread(in, 1, 1 << 24, fp);
	fclose(fp);
	memcpy(&body_len, in + 24, 8);
	assert_int_equal(64 + body_len, n);
	memcpy(out, in, 64);
	while (off < n) {
		uint32_t type;
		uint64_t len;

		memcpy(&type, in + off, 4);
		memcpy(&len, in + off + 8, 8);
		const uint8_t *p = in + off + 16;
		if (type == CP_SNAP_S_TOTALS || type == CP_SNAP_S_WORKERS) {
			uint32_t k, words;
			uint64_t nl;

			memcpy(&k, p, 4);
			memcpy(&words, p + 4, 4);
			if (type == CP_SNAP_S_TOTALS) {
				assert_int_equal(k, nw);
				k = old;
				nl = 8 + (uint64_t)old * 8;
				memcpy(out + m + 16 + 8, p + 8, (size_t)old * 8);
			} else {
				assert_int_equal(words, nw);
				words = old;
				nl = 8 + (uint64_t)k * old * 8;
				for (uint32_t w = 0; w < k; w++)
					memcpy(out + m + 16 + 8 + (size_t)w * old * 8,
					       p + 8 + (size_t)w * nw * 8, (size_t)old * 8);
			}
			memcpy(out + m, in + off, 8);
			memcpy(out + m + 8, &nl, 8);
			memcpy(out + m + 16, &k, 4);
			memcpy(out + m + 20, &words, 4);
			m += 16 + nl;
		} else {
			memcpy(out + m, in + off, 16 + len);
			m += 16 + len;
		}
		off += 16 + len;
	}
	body_len = m - 64;
	memcpy(out + 24, &body_len, 8);
	crc = cp_crc32c(0, out + 64, m - 64);
	memcpy(out + 32, &crc, 4);
	crc = cp_crc32c(0, out, 36);
	memcpy(out + 36, &crc, 4);
	fp = fopen(snap, "wb");
	assert_non_null(fp);
	assert_int_equal(fwrite(out, 1, m, fp), m);
	fclose(fp);
	assert_int_equal(m, n - 4 * 8 - (size_t)a.n_workers * 4 * 8);

	assert_int_equal(cp_snapshot_load_file(snap, &b, err, sizeof(err)), 0);
	assert_int_equal(b.total.rx_packets, a.total.rx_packets);
	assert_int_equal(b.total.reserved[OBX_CTR_RESP_SYNACKS], 77);
	assert_int_equal(b.total.resp_sessions, 0);
	assert_int_equal(b.worker[0].reserved[OBX_CTR_RESP_COOKIE_BAD], 9);
	assert_int_equal(b.worker[0].resp_arps, 0);
	assert_int_equal(b.src.n, a.src.n);
	free(in);
	free(out);
	cp_store_fini(&a);
	cp_store_fini(&b);
}

#define TESTS(T) T(test_journal_counters_layouts) T(test_snapshot_counters_layout)
OBS_TEST_MAIN_FX(TESTS)
