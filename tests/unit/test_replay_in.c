/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_replay_in.c — replay input files (dataplane/replay_in.h), no EAL: the magic table;
 * one capture written as pcap and as gzip (one and several members), zstd (several
 * frames) and piped through a FIFO gives the same records; truncated and corrupt
 * streams end with a read error and the decompressor's reason, never a clean end; files
 * that are no capture are refused at open with a reason.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
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
#include <zlib.h>
#include <zstd.h>

#include "../../dataplane/replay_in.h"
#include "../fixtures/test_main.h"

#define N_REC 30000u    /* ~2.5 MB of capture: several decompressor chunks */

static char dir[] = "/tmp/obs-replay-in.XXXXXX";
static uint8_t *cap;    /* the capture's bytes (nanosecond pcap) */
static size_t cap_len;

static void path_of(char *buf, size_t n, const char *name)
{
	snprintf(buf, n, "%s/%s", dir, name);
}

static void put32(uint8_t **p, uint32_t v)
{
	memcpy(*p, &v, 4);
	*p += 4;
}

/* A nanosecond pcap of N_REC records of varied lengths and times, in memory. */
static void make_capture(void)
{
	uint8_t *p;

	cap = malloc(24 + (size_t)N_REC * (16 + 120));
	assert_non_null(cap);
	p = cap;
	put32(&p, 0xa1b23c4du);
	memcpy(p, "\x02\x00\x04\x00", 4);
	p += 4;
	put32(&p, 0);
	put32(&p, 0);
	put32(&p, 262144);
	put32(&p, 1);
	for (uint32_t i = 0; i < N_REC; i++) {
		uint32_t len = 60 + i % 61;

		put32(&p, 1700000000u + i / 7);
		put32(&p, (i * 7919u) % 1000000000u);
		put32(&p, len);
		put32(&p, len + i % 3);         /* some records shorter than the wire */
		for (uint32_t k = 0; k < len; k++)
			*p++ = (uint8_t)(i * 31 + k * (i % 5 + 1));
	}
	cap_len = (size_t)(p - cap);
}

static void write_file(const char *name, const void *b, size_t n)
{
	char path[256];
	FILE *f;

	path_of(path, sizeof(path), name);
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(b, 1, n, f), n);
	assert_int_equal(fclose(f), 0);
}

/* gzip of the capture in `members` members one after the other. */
static size_t gzip_of(uint8_t *out, size_t cap_out, unsigned members)
{
	size_t pos = 0, step = (cap_len + members - 1) / members;

	for (size_t off = 0; off < cap_len; off += step) {
		z_stream zs = { 0 };
		size_t n = cap_len - off < step ? cap_len - off : step;

		assert_int_equal(deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY),
		                 Z_OK);
		zs.next_in = cap + off;
		zs.avail_in = (uInt)n;
		zs.next_out = out + pos;
		zs.avail_out = (uInt)(cap_out - pos);
		assert_int_equal(deflate(&zs, Z_FINISH), Z_STREAM_END);
		pos += zs.total_out;
		deflateEnd(&zs);
	}
	return pos;
}

/* zstd of the capture in `frames` frames, with checksums. */
static size_t zstd_of(uint8_t *out, size_t cap_out, unsigned frames)
{
	size_t pos = 0, step = (cap_len + frames - 1) / frames;
	ZSTD_CCtx *c = ZSTD_createCCtx();

	assert_non_null(c);
	ZSTD_CCtx_setParameter(c, ZSTD_c_checksumFlag, 1);
	for (size_t off = 0; off < cap_len; off += step) {
		size_t n = cap_len - off < step ? cap_len - off : step;
		size_t r = ZSTD_compress2(c, out + pos, cap_out - pos, cap + off, n);

		assert_false(ZSTD_isError(r));
		pos += r;
	}
	ZSTD_freeCCtx(c);
	return pos;
}

/* Read path to its end: the records must be the capture's first ones, in order, with
 * their times and lengths.  Returns the records read; *rc gets pcap_next_ex's last. */
static uint32_t read_all(const char *path, const char *fmt, int *rc)
{
	char err[512];
	struct obs_rin *in = obs_rin_open(path, err, sizeof(err));
	struct pcap_pkthdr *ph;
	const u_char *data;
	const uint8_t *p = cap + 24;
	uint32_t n = 0;

	if (in == NULL)
		fail_msg("%s", err);
	if (fmt != NULL)
		assert_string_equal(obs_rin_format(in), fmt);
	while ((*rc = pcap_next_ex(obs_rin_pcap(in), &ph, &data)) == 1) {
		uint32_t sec, ns, caplen, wire;

		memcpy(&sec, p, 4);
		memcpy(&ns, p + 4, 4);
		memcpy(&caplen, p + 8, 4);
		memcpy(&wire, p + 12, 4);
		assert_int_equal(ph->ts.tv_sec, sec);
		assert_int_equal(ph->ts.tv_usec, ns);   /* nanoseconds: opened with NANO */
		assert_int_equal(ph->caplen, caplen);
		assert_int_equal(ph->len, wire);
		assert_memory_equal(data, p + 16, caplen);
		p += 16 + caplen;
		n++;
	}
	obs_rin_close(in);
	return n;
}

static int setup(void **state)
{
	(void)state;
	if (mkdtemp(dir) == NULL)
		return -1;
	make_capture();
	return 0;
}

static int teardown(void **state)
{
	char cmd[300];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	free(cap);
	return system(cmd) == 0 ? 0 : -1;
}

static void test_magic(void **state)
{
	static const struct { const char *b; size_t n; int want; } t[] = {
		{ "\xd4\xc3\xb2\xa1", 4, 0 }, { "\xa1\xb2\xc3\xd4", 4, 0 },
		{ "\x4d\x3c\xb2\xa1", 4, 0 }, { "\xa1\xb2\x3c\x4d", 4, 0 },
		{ "\x0a\x0d\x0d\x0a", 4, 1 }, { "\x1f\x8b", 2, 2 }, { "\x1f\x8b\x08\x00", 4, 2 },
		{ "\x28\xb5\x2f\xfd", 4, 3 }, { "\x50\x2a\x4d\x18", 4, 3 },
		{ "\x5f\x2a\x4d\x18", 4, 3 }, { "\x60\x2a\x4d\x18", 4, -1 },
		{ "PK\x03\x04", 4, -1 }, { "\xd4\xc3\xb2", 3, -1 }, { "", 0, -1 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		assert_int_equal(obs_rin_magic((const uint8_t *)t[i].b, t[i].n), t[i].want);
}

static void test_formats_same_records(void **state)
{
	size_t zcap = cap_len + cap_len / 8 + 4096, n;
	uint8_t *z = malloc(zcap);
	char path[256];
	int rc;

	(void)state;
	assert_non_null(z);
	write_file("c.pcap", cap, cap_len);
	path_of(path, sizeof(path), "c.pcap");
	assert_int_equal(read_all(path, "pcap", &rc), N_REC);
	assert_int_equal(rc, PCAP_ERROR_BREAK);
	for (unsigned m = 1; m <= 5; m += 4) {
		n = gzip_of(z, zcap, m);
		write_file("c.gz", z, n);
		path_of(path, sizeof(path), "c.gz");
		assert_int_equal(read_all(path, "pcap.gz", &rc), N_REC);
		assert_int_equal(rc, PCAP_ERROR_BREAK);
		/* by magic, whatever the name */
		write_file("really-gzip.pcap", z, n);
		path_of(path, sizeof(path), "really-gzip.pcap");
		assert_int_equal(read_all(path, "pcap.gz", &rc), N_REC);
	}
	n = zstd_of(z, zcap, 3);
	write_file("c.zst", z, n);
	path_of(path, sizeof(path), "c.zst");
	assert_int_equal(read_all(path, "pcap.zst", &rc), N_REC);
	assert_int_equal(rc, PCAP_ERROR_BREAK);
	free(z);
}

static void *fifo_writer(void *arg)
{
	int fd = open(arg, O_WRONLY);

	if (fd >= 0) {
		size_t off = 0;

		while (off < cap_len) {
			ssize_t w = write(fd, cap + off, cap_len - off);

			if (w <= 0)
				break;
			off += (size_t)w;
		}
		close(fd);
	}
	return NULL;
}

static void test_fifo(void **state)
{
	char path[256];
	pthread_t th;
	int rc;

	(void)state;
	/* a pipe cannot go back to its start after the magic: the copy path reads it */
	path_of(path, sizeof(path), "fifo");
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_int_equal(pthread_create(&th, NULL, fifo_writer, path), 0);
	assert_int_equal(read_all(path, "pcap", &rc), N_REC);
	assert_int_equal(rc, PCAP_ERROR_BREAK);
	pthread_join(th, NULL);
}

/* A damaged stream: some records, then PCAP_ERROR and the decompressor's reason. */
static void damaged(const char *name, const uint8_t *b, size_t n, const char *want)
{
	char path[256], err[512], why[400];
	struct obs_rin *in;
	struct pcap_pkthdr *ph;
	const u_char *data;
	uint32_t got = 0;
	int rc;

	write_file(name, b, n);
	path_of(path, sizeof(path), name);
	in = obs_rin_open(path, err, sizeof(err));
	if (in == NULL)
		fail_msg("%s: %s", name, err);
	while ((rc = pcap_next_ex(obs_rin_pcap(in), &ph, &data)) == 1)
		got++;
	assert_int_equal(rc, PCAP_ERROR);
	assert_true(got > 0 && got < N_REC);
	if (!obs_rin_error(in, why, sizeof(why)))
		assert_int_equal(obs_rin_finish(in, why, sizeof(why)), 1);
	if (strstr(why, want) == NULL)
		fail_msg("%s: '%s' does not say '%s'", name, why, want);
	obs_rin_close(in);
}

static void test_damaged_streams(void **state)
{
	size_t zcap = cap_len + cap_len / 8 + 4096, n;
	uint8_t *z = malloc(zcap);

	(void)state;
	assert_non_null(z);
	n = gzip_of(z, zcap, 1);
	damaged("cut.gz", z, n * 2 / 3, "truncated gzip stream");
	for (size_t i = n * 2 / 3; i < n * 2 / 3 + 16; i++)
		z[i] ^= 0x5a;
	damaged("flip.gz", z, n, "corrupt gzip stream");
	n = zstd_of(z, zcap, 4);
	damaged("cut.zst", z, n - 7, "truncated zstd stream");
	for (size_t i = n * 3 / 4; i < n * 3 / 4 + 16; i++)
		z[i] ^= 0x5a;
	damaged("flip.zst", z, n, "corrupt zstd stream");
	/* gzip, then bytes that are not another member */
	n = gzip_of(z, zcap, 2);
	memcpy(z + n, "trailing bytes, not gzip", 24);
	{
		char path[256], err[512], why[400];
		struct obs_rin *in;
		struct pcap_pkthdr *ph;
		const u_char *data;
		uint32_t got = 0;
		int rc;

		write_file("trail.gz", z, n + 24);
		path_of(path, sizeof(path), "trail.gz");
		in = obs_rin_open(path, err, sizeof(err));
		assert_non_null(in);
		while ((rc = pcap_next_ex(obs_rin_pcap(in), &ph, &data)) == 1)
			got++;
		assert_int_equal(got, N_REC);             /* every record, then the error */
		assert_int_equal(rc, PCAP_ERROR);
		assert_int_equal(obs_rin_error(in, why, sizeof(why)), 1);
		assert_non_null(strstr(why, "not gzip"));
		obs_rin_close(in);
	}
	free(z);
}

static void refused(const char *name, const void *b, size_t n, const char *want)
{
	char path[256], err[512];
	struct obs_rin *in;

	if (b != NULL)
		write_file(name, b, n);
	path_of(path, sizeof(path), name);
	in = obs_rin_open(path, err, sizeof(err));
	assert_null(in);
	if (strstr(err, want) == NULL)
		fail_msg("%s: '%s' does not say '%s'", name, err, want);
}

static void test_refused(void **state)
{
	uint8_t z[4096];
	size_t n;

	(void)state;
	refused("empty", "", 0, "empty file");
	refused("text", "hello, world\n", 13, "not a pcap, pcapng, gzip or zstd file");
	refused("missing", NULL, 0, "No such file");
	{
		/* gzip of something that is not a capture */
		z_stream zs = { 0 };

		deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
		zs.next_in = (Bytef *)"just some text, no capture at all";
		zs.avail_in = 33;
		zs.next_out = z;
		zs.avail_out = sizeof(z);
		deflate(&zs, Z_FINISH);
		n = zs.total_out;
		deflateEnd(&zs);
		refused("text.gz", z, n, "gzip data that is not a pcap or pcapng capture");
		refused("head.gz", z, 12, "truncated gzip stream");
	}
	refused("magic.zst", "\x28\xb5\x2f\xfd", 4, "truncated zstd stream");
	refused("pcaphdr", cap, 10, "truncated");
	{
		char path[256];

		path_of(path, sizeof(path), "adir");
		assert_int_equal(mkdir(path, 0700), 0);
		refused("adir", NULL, 0, "is a directory");
	}
}

#define TESTS(T) T(test_magic) T(test_formats_same_records) T(test_fifo) \
	T(test_damaged_streams) T(test_refused)
OBS_TEST_MAIN(TESTS, setup, teardown)
