/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_journal.c — libFuzzer target for the journal reader, cp_journal_replay_fd()
 * (control/journal.h: what the replay runs on each segment and the journal), on an
 * in-memory file (memfd) holding the input, into a fresh store with every analysis'
 * table consumers registered (fuzz_cp.h).
 *
 * Each input is replayed as it is, then "sealed" — every record header that fits gets
 * its CRC32C recomputed — so that mutations reach the tables and the consumers, not only
 * the checksum test.  Contract: 0 (the file is never unreadable here); the end of the
 * last valid record plus the bytes cut after it (a torn or a damaged tail; damaged
 * regions between valid records are skipped, not cut) is the file's size, and the file
 * is cut there; a second replay of the cut file into the same store reads the same
 * records, applies none (all duplicates) and cuts nothing.  A violation aborts.  Corpus:
 * tests/fuzz/corpus/journal (mkseeds.c).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "control/crc32c.h"
#include "control/journal.h"
#include "control/snapshot.h"
#include "fuzz_cp.h"
#include "fuzz_text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* journal.c's record CRC: the header with crc 0, then the payload. */
static void seal(uint8_t *p, size_t len)
{
	size_t off = 0;

	while (len - off >= sizeof(struct cp_jrec)) {
		struct cp_jrec h;

		memcpy(&h, p + off, sizeof(h));
		if (h.length > len - off - sizeof(h))
			break;
		h.crc = 0;
		h.crc = cp_crc32c(cp_crc32c(0, &h, sizeof(h)), p + off + sizeof(h), (size_t)h.length);
		memcpy(p + off, &h, sizeof(h));
		off += sizeof(h) + (size_t)h.length;
	}
}

static void replay_one(const uint8_t *p, size_t len)
{
	struct cp_journal_replay_stats a, b;
	struct cp_store s;
	struct stat sb;
	uint64_t end = 0, end2 = 0;
	int fd, rc;

	fd = memfd_create("fuzz-journal", MFD_CLOEXEC);
	if (fd < 0 || (len && write(fd, p, len) != (ssize_t)len))
		abort();
	if (cp_store_init(&s) != 0)
		abort();
	memset(&a, 0, sizeof(a));
	rc = cp_journal_replay_fd(fd, "fuzz", &s, &a, &end, false);
	if (rc == -ENOMEM)
		goto out;
	if (rc != 0 || fstat(fd, &sb) != 0 || end + a.cut_bytes != len ||
	    (uint64_t)sb.st_size != end || (a.torn_bytes != 0) != (a.torn_why[0] != '\0') ||
	    a.torn_bytes > a.cut_bytes || a.bad_bytes > len ||
	    a.applied + a.duplicates > a.records)
		abort();
	memset(&b, 0, sizeof(b));
	rc = cp_journal_replay_fd(fd, "fuzz", &s, &b, &end2, false);
	if (rc == -ENOMEM)
		goto out;
	/* what is left after the cut replays the same, and nothing is cut again */
	if (rc != 0 || end2 != end || b.cut_bytes != 0 || b.records != a.records ||
	    b.applied != 0 || b.bad_regions > a.bad_regions)
		abort();
out:
	cp_snapshot_sections_reset(&s);
	cp_store_fini(&s);
	close(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *p = (uint8_t *)obs_fuzz_text(data, size, (4u << 20));   /* writable copy */

	if (p == NULL)
		return 0;
	obs_fuzz_cp();
	replay_one(p, size);
	seal(p, size);
	replay_one(p, size);
	free(p);
	return 0;
}
