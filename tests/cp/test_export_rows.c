/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_export_rows.c — the ClickHouse export's rows (control/export.c, docs/export.md),
 * checked in the spool file it writes: every table kind of an epoch (sources with an
 * inline event, coverage cells with inline and BITMAP slot sets, events, RESIP ports, the
 * epoch's counters), escaping of names that come from shared memory, records of a size
 * this build does not read, the spool bound, the spool handed to the service user, and
 * how a ClickHouse error reply is told: a bad batch (set aside) or a failure to retry.  The sender points at a closed port,
 * so the file stays for the test to read.
 */
#include <dirent.h>
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

#include "exchange_recs.h"
#include "export.h"
#include "export_int.h"
#include "statefile.h"
#include "../fixtures/test_main.h"

static char dir[] = "/tmp/cp-export-rows-XXXXXX";
static struct cp_export x;
static struct obx_header *h;
/* what the drain hands the export: the validated header copy and the store's names */
static struct obx_geom geo;
static struct cp_store names;

static int spool(struct cp_export *xp, const struct cp_epoch *const *ep, uint32_t n)
{
	geo.cov_sample_size = h->cov_sample_size;
	geo.cov_block_len = h->cov_block_len;
	geo.cov_period_unit = h->cov_period_unit;
	names.n_sensors = h->n_sensors;
	memcpy(names.sensor_names, h->sensor_names, sizeof(names.sensor_names));
	return cp_export_spool(xp, &geo, &names, ep, n);
}

static int setup(void **state)
{
	static struct obs_conf c;

	(void)state;
	assert_non_null(mkdtemp(dir));
	obs_conf_defaults(&c);
	snprintf(c.state_dir, sizeof(c.state_dir), "%s", dir);
	snprintf(c.export_ch_url, sizeof(c.export_ch_url), "http://127.0.0.1:1/");
	snprintf(c.export_ch_appliance, sizeof(c.export_ch_appliance), "box1");
	assert_int_equal(cp_export_open(&x, &c), 0);
	h = calloc(1, OBX_HEADER_SIZE);
	assert_non_null(h);
	h->n_sensors = 2;
	strcpy(h->sensor_names[0], "alpha");
	strcpy(h->sensor_names[1], "a'b\\c\t");   /* shared memory: escaped, never trusted */
	h->cov_sample_size = 4096;
	h->cov_block_len = 16;
	h->cov_period_unit = 3;
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	cp_export_close(&x);
	free(h);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* The spool's only file (removed after reading), NUL-terminated; NULL when none. */
static char *take_spool(void)
{
	char path[1024], *buf = NULL;
	struct dirent *de;
	DIR *dh = opendir(x.dir);
	FILE *f;
	long n;

	assert_non_null(dh);
	path[0] = '\0';
	while ((de = readdir(dh)) != NULL)
		if (strstr(de->d_name, ".tsv") != NULL) {
			assert_true(path[0] == '\0');
			snprintf(path, sizeof(path), "%s/%s", x.dir, de->d_name);
		}
	closedir(dh);
	if (path[0] == '\0')
		return NULL;
	f = fopen(path, "rb");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = calloc(1, (size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	unlink(path);
	return buf;
}

static void has(const char *text, const char *want)
{
	if (strstr(text, want) == NULL)
		fail_msg("spool lacks\n%s\nin\n%s", want, text);
}

static void test_every_kind(void **state)
{
	struct obx_src_rec s[1];
	struct obx_cell_rec cl[3];
	uint8_t bm[512];
	struct obx_event_rec ev[1];
	struct obx_resip_port_rec rp[1];
	struct cp_epoch e;
	const struct cp_epoch *ep = &e;
	uint32_t syn23 = obs_ev_class_id(OBS_EVC_TCP_SYN, 23);
	char want[512], *t;

	(void)state;
	memset(s, 0, sizeof(s));
	s[0] = (struct obx_src_rec){ .addr = 0x0a000001, .hour = 500000, .first_ns = 100,
		.last_ns = 200, .packets = 7, .sensor_mask = 3,
		.flags = OBX_SRC_F_SCANNER | OBX_SRC_F_RESIP, .resip_packets = 2,
		.ev_type = syn23, .ev_sensor = 1, .ev_mode = OBX_SRC_EV_INLINE };
	memset(cl, 0, sizeof(cl));
	cl[0] = (struct obx_cell_rec){ .block = 0x0a000000, .period = 671, .dport = 23, .proto = 6,
		.syns = 5, .mirai = 2, .n_inline = 2, .inline_slot = { 7, 9 } };
	cl[1] = (struct obx_cell_rec){ .block = 0x0a010000, .period = 671, .dport = 80, .proto = 6,
		.flags = OBX_CELL_F_BITMAP | OBX_CELL_F_SCANNER, .syns = 3, .bitmap = 0 };
	cl[2] = (struct obx_cell_rec){ .block = 0x0a020000, .period = 671, .dport = 81, .proto = 6,
		.flags = OBX_CELL_F_BITMAP, .syns = 1, .bitmap = 5 };   /* no such entry */
	memset(bm, 0, sizeof(bm));
	bm[3 / 8] |= 1u << (3 % 8);
	bm[4000 / 8] |= 1u << (4000 % 8);
	ev[0] = (struct obx_event_rec){ .addr = 2, .hour = 500000, .type = 2010935, .sensor = 0,
		.category = 2, .count = 4, .first_ns = 10, .last_ns = 20 };
	rp[0] = (struct obx_resip_port_rec){ .day = 20833, .port = 443, .proto = 0, .packets = 6,
		.sensor_mask = 1 };
	memset(&e, 0, sizeof(e));
	e.boot_id = 9;
	e.worker = 1;
	e.seq = 4;
	e.delta.rx_packets = 11;
	e.delta.tel_packets = 7;
	e.delta.proto_packets[OBX_P_TCP] = 7;
	e.delta.lost_updates = 1;
	assert_int_equal(cp_epoch_add_tab(&e, OBX_TAB_SRC, sizeof(s[0]), s, 1), 0);
	assert_int_equal(cp_epoch_add_tab(&e, OBX_TAB_CELL, sizeof(cl[0]), cl, 3), 0);
	assert_int_equal(cp_epoch_add_tab(&e, OBX_TAB_BITMAP, sizeof(bm), bm, 1), 0);
	assert_int_equal(cp_epoch_add_tab(&e, OBX_TAB_RESIP_PORT, sizeof(rp[0]), rp, 1), 0);
	assert_int_equal(cp_epoch_add_tab(&e, OBX_TAB_EVENT, sizeof(ev[0]), ev, 1), 0);

	assert_int_equal(spool(&x, &ep, 1), 0);
	t = take_spool();
	assert_non_null(t);
	assert_int_equal(strncmp(t, "OBSX1\n", 6), 0);
	has(t, "T obscura_sources 1 ");
	has(t, "T obscura_cells 3 ");
	has(t, "T obscura_events 2 ");
	has(t, "T obscura_resip_ports 1 ");
	has(t, "T obscura_epochs 1 ");
	snprintf(want, sizeof(want), "box1\t9\t1\t4\t500000\t167772161\t100\t200\t7\t2\t3\t"
	         "['alpha','a\\'b\\\\c\\t']\t1\t1\t0\t%u\ttcp-syn/23\n", syn23);
	has(t, want);
	/* the inline event is an event row too, at its sensor */
	snprintf(want, sizeof(want), "box1\t9\t1\t4\t500000\t167772161\ta\\'b\\\\c\\t\t%u\t"
	         "tcp-syn/23\t0\t1\t7\t100\t200\n", syn23);
	has(t, want);
	has(t, "box1\t9\t1\t4\t500000\t2\talpha\t2010935\tsid:2010935\t2\t0\t4\t10\t20\n");
	has(t, "box1\t9\t1\t4\t671\tmonth\t167772160\t16\t6\t23\t5\t2\t0\t4096\t[7,9]\n");
	has(t, "box1\t9\t1\t4\t671\tmonth\t167837696\t16\t6\t80\t3\t0\t1\t4096\t[3,4000]\n");
	has(t, "box1\t9\t1\t4\t671\tmonth\t167903232\t16\t6\t81\t1\t0\t0\t4096\t[]\n");
	has(t, "box1\t9\t1\t4\t20833\t0\t443\t6\t1\n");
	has(t, "box1\t9\t1\t4\t0\t0\t0\t0\t11\t0\t7\t0\t[7,0,0,0]\t[");
	assert_int_equal(strcmp(t + strlen(t) - 2, "E\n"), 0);
	assert_int_equal(x.recs_skipped, 1);   /* the cell naming a missing BITMAP entry */
	assert_int_equal(x.batches_spooled, 1);
	assert_int_equal(x.rows_spooled, 8);
	free(t);
}

static void test_foreign_size_and_bound(void **state)
{
	uint64_t recs[8] = { 1, 2, 3, 4 };
	struct cp_epoch e;
	const struct cp_epoch *ep = &e;
	uint64_t skipped = x.recs_skipped, max = x.max_bytes;
	char *t;

	(void)state;
	memset(&e, 0, sizeof(e));
	e.boot_id = 9;
	e.worker = 0;
	e.seq = 5;
	/* a SRC table of another record size: not guessed at, counted; the epoch's stamp
	 * is still exported */
	assert_int_equal(cp_epoch_add_tab(&e, OBX_TAB_SRC, 32, recs, 2), 0);
	assert_int_equal(spool(&x, &ep, 1), 0);
	t = take_spool();
	assert_non_null(t);
	assert_null(strstr(t, "obscura_sources"));
	has(t, "T obscura_epochs 1 ");
	assert_int_equal(x.recs_skipped, skipped + 2);
	free(t);

	/* a batch that would pass the bound: dropped and counted, no file */
	x.max_bytes = 16;
	assert_int_equal(spool(&x, &ep, 1), 0);
	x.max_bytes = max;
	assert_null(take_spool());
	assert_int_equal(x.batches_dropped, 1);
	assert_int_equal(x.rows_dropped, 1);
}

/* cp_state_give (statefile.h) hands the spool to the service user with the state files,
 * by descriptor, and refuses a planted symbolic link in it. */
static void test_give_spool(void **state)
{
	char d[] = "/tmp/cp-export-give-XXXXXX", p[256], cmd[300];
	struct stat st;
	int fd;

	(void)state;
	if (geteuid() != 0)
		skip();   /* chown needs root; the suite runs as root (deploy/setup) */
	assert_non_null(mkdtemp(d));
	snprintf(p, sizeof(p), "%s/%s", d, CP_EXPORT_DIR);
	assert_int_equal(mkdir(p, 0750), 0);
	snprintf(p, sizeof(p), "%s/%s/0000000000000001.tsv", d, CP_EXPORT_DIR);
	fd = open(p, O_WRONLY | O_CREAT, 0640);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(cp_state_give(d, 65534, 65534), 0);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_uid, 65534);
	snprintf(p, sizeof(p), "%s/%s", d, CP_EXPORT_DIR);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_uid, 65534);
	snprintf(p, sizeof(p), "%s/%s/0000000000000002.tsv", d, CP_EXPORT_DIR);
	assert_int_equal(symlink("/etc/passwd", p), 0);
	assert_int_equal(cp_state_give(d, 65534, 65534), -EPERM);
	assert_int_equal(stat("/etc/passwd", &st), 0);
	assert_int_equal(st.st_uid, 0);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", d);
	assert_int_equal(system(cmd), 0);
}

/* Replies as clickhouse-server 18.16 writes them (HTTP 500 for a parse error; later
 * releases say 400), and the server-side failures that must be retried. */
static void test_reply_class(void **state)
{
	(void)state;
	assert_int_equal(exp_reply_class(200, ""), EXP_REPLY_OK);
	assert_int_equal(exp_reply_class(500, "Code: 27, e.displayText() = DB::Exception: Cannot "
	                 "parse input: expected \\t before: x"), EXP_REPLY_BAD);
	assert_int_equal(exp_reply_class(400, "Code: 27, e.displayText() = DB::Exception: Cannot "
	                 "parse input"), EXP_REPLY_BAD);
	assert_int_equal(exp_reply_class(500, "Code: 130, e.displayText() = DB::Exception: Cannot "
	                 "read array from text"), EXP_REPLY_BAD);
	assert_int_equal(exp_reply_class(500, "Code: 53, e.displayText() = Type mismatch"),
	                 EXP_REPLY_BAD);
	/* the server's trouble, not the batch's */
	assert_int_equal(exp_reply_class(500, "Code: 164, e.displayText() = DB::Exception: Cannot "
	                 "execute query in readonly mode"), EXP_REPLY_RETRY);
	assert_int_equal(exp_reply_class(500, "Code: 252, e.displayText() = DB::Exception: Too many "
	                 "parts (300)"), EXP_REPLY_RETRY);
	assert_int_equal(exp_reply_class(500, "Code: 241, Memory limit exceeded"), EXP_REPLY_RETRY);
	assert_int_equal(exp_reply_class(404, "Code: 60, e.displayText() = DB::Exception: Table "
	                 "obs.obscura_sources doesn't exist."), EXP_REPLY_RETRY);
	assert_int_equal(exp_reply_class(503, "Service Unavailable"), EXP_REPLY_RETRY);
	assert_int_equal(exp_reply_class(502, "<html>Bad Gateway</html>"), EXP_REPLY_RETRY);
	assert_int_equal(exp_reply_class(500, "Code: x"), EXP_REPLY_RETRY);
	assert_int_equal(exp_reply_class(500, NULL), EXP_REPLY_RETRY);
	/* a parse code on a reply that is not an error status is not a refusal */
	assert_int_equal(exp_reply_class(302, "Code: 27"), EXP_REPLY_RETRY);
}

#define TESTS(T) T(test_every_kind) T(test_foreign_size_and_bound) T(test_give_spool) \
	T(test_reply_class)
OBS_TEST_MAIN(TESTS, setup, teardown)
