/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_snapshot.c — libFuzzer target for the snapshot reader, cp_snapshot_load_mem()
 * (control/snapshot.h: the parse cp_snapshot_load_file() runs on the file's bytes), with
 * every analysis' section registered (fuzz_cp.h).
 *
 * Each input is loaded twice: as it is (the header checks), and "sealed" — magic, body
 * length and both CRC32Cs set right — so that mutations reach the sections and not only
 * the checksum test.  Contract: the result is 0, -EBADMSG (with a message naming the
 * file) or -ENOMEM; a refused file leaves the caller's store as it was; a loaded one
 * writes back (cp_snapshot_write_file) and loads again to the same totals.  A violation
 * aborts.  Corpus: tests/fuzz/corpus/snapshot (mkseeds.c).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "control/crc32c.h"
#include "control/snapshot.h"
#include "fuzz_cp.h"
#include "fuzz_text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* snapshot.c's struct cp_snap_hdr: magic[8], format, schema, created, body_len (24),
 * body_crc (32), hdr_crc (36, over the 36 bytes before it); 64 bytes. */
#define SNAP_HDR 64

static void seal(uint8_t *p, size_t len)
{
	uint64_t body = len - SNAP_HDR;
	uint32_t crc;

	memcpy(p, CP_SNAP_MAGIC, 8);
	memcpy(p + 24, &body, 8);
	crc = cp_crc32c(0, p + SNAP_HDR, (size_t)body);
	memcpy(p + 32, &crc, 4);
	crc = cp_crc32c(0, p, 36);
	memcpy(p + 36, &crc, 4);
}

static char tmp_dir[] = "/tmp/fuzz-snapshot-XXXXXX";
static char tmp_file[64];

static void tmp_remove(void)
{
	unlink(tmp_file);
	rmdir(tmp_dir);
}

/* A scratch file for the write-back, removed at exit. */
static const char *tmp_path(void)
{
	if (tmp_file[0] == '\0') {
		if (mkdtemp(tmp_dir) == NULL)
			abort();
		snprintf(tmp_file, sizeof(tmp_file), "%s/snapshot", tmp_dir);
		atexit(tmp_remove);
	}
	return tmp_file;
}

static void load_one(const uint8_t *p, size_t len)
{
	struct cp_store s, back;
	char err[1024];
	int rc;

	if (cp_store_init(&s) != 0)
		abort();
	s.epochs = 77;                 /* a refused file must leave this */
	err[0] = '\0';
	rc = cp_snapshot_load_mem("fuzz", p, len, &s, err, sizeof(err));
	if (rc != 0) {
		/* -ESTALE: whole, but kept under another analysis configuration */
		if ((rc != -EBADMSG && rc != -ENOMEM && rc != -ESTALE) || s.epochs != 77 ||
		    s.src.n != 0 ||
		    strncmp(err, "snapshot fuzz: ", 15) != 0)
			abort();
		cp_store_fini(&s);
		return;
	}
	/* what was accepted is a store: it writes out and reads back the same */
	if (cp_snapshot_write_file(tmp_path(), &s, err, sizeof(err)) != 0) {
		fprintf(stderr, "fuzz_snapshot: write back: %s\n", err);
		abort();
	}
	if (cp_store_init(&back) != 0)
		abort();
	if (cp_snapshot_load_file(tmp_path(), &back, err, sizeof(err)) != 0) {
		fprintf(stderr, "fuzz_snapshot: reload of what was written: %s\n", err);
		abort();
	}
	if (back.src.n != s.src.n || back.epochs != s.epochs || back.n_boots != s.n_boots ||
	    memcmp(&back.total, &s.total, sizeof(s.total)) != 0)
		abort();
	cp_store_fini(&back);
	cp_store_fini(&s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *p = (uint8_t *)obs_fuzz_text(data, size, (4u << 20));   /* writable copy */

	if (p == NULL)
		return 0;
	obs_fuzz_cp();
	load_one(p, size);
	if (size >= SNAP_HDR) {
		seal(p, size);
		load_one(p, size);
	}
	free(p);
	return 0;
}
