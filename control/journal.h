/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * journal.h — the drained-epoch journal (state_dir/journal).
 *
 * An epoch slot is freed only once what it held is durable: the drain appends every
 * epoch here and syncs before it releases a slot (drain.c); the snapshot truncates the
 * journal once everything in it is in a durable snapshot.  At start the journal is
 * replayed on top of the snapshot, deduplicated on (boot_id, worker, seq) by the store.
 *
 * Record = struct cp_jrec (header, CRC32C over header-with-crc-zero and payload) then the
 * payload: n_counters uint64 counter words (obx_counters), then n_tabs tables, each a
 * struct cp_jtab (kind, rec_size, n) followed by n records of rec_size bytes — the
 * epoch's tables generically, whatever kinds the exchange had (exchange.h v2).  Records
 * start on 8-byte boundaries.  A torn last record (a crash mid-append: the header or
 * the payload runs past the end) is logged and cut off, so later appends follow a clean
 * record.  A damaged record (bad magic, length or CRC) costs only itself: replay resyncs
 * to the next valid record and counts the damaged region (status warns of it); damage
 * at the very end that is not a short write is copied to journal.bad-<time> before it
 * is cut.
 *
 * Segments: while a snapshot is written in the background, new epochs go on being
 * appended; cp_journal_rotate() moves what the snapshot covers aside (journal.<n>) and
 * cp_journal_drop() removes it once the snapshot is durable.  Replay reads every segment
 * (ascending) before the journal.
 *
 * Format versions: records are "OBJ2" (this layout).  "OBJ1" records (exchange v1: n_src
 * 40-byte source records, no tables) are still replayed: each v1 source record becomes a
 * v2 one keyed by the hour of its first_ns (the store merges per address, so its totals
 * are unchanged).
 *
 * Single-threaded (the cp main loop).
 */
#ifndef OBSCURA_CP_JOURNAL_H
#define OBSCURA_CP_JOURNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

#include "cp_log.h"
#include "store.h"

#define CP_JREC_MAGIC    0x324a424fu   /* "OBJ2" little-endian */
#define CP_JREC_MAGIC_V1 0x314a424fu   /* "OBJ1": exchange v1 records, replay only */
#define CP_JOURNAL_NAME  "journal"

struct cp_jrec {
	uint32_t magic;
	uint32_t hdr_len;          /* sizeof(struct cp_jrec): lets the header grow */
	uint64_t boot_id;
	uint64_t seq;
	uint32_t worker;
	uint32_t flags;
	uint64_t length;           /* payload bytes */
	uint32_t n_tabs;           /* v2: tables in the payload (v1: n_src, 40-byte records) */
	uint32_t n_counters;       /* uint64 words of counters in the payload */
	uint64_t t_first_ns, t_last_ns, published_wall_ns;
	uint32_t crc;              /* CRC32C: this header with crc = 0, then the payload */
	uint32_t reserved;
};

/* One table in a v2 record's payload; n * rec_size record bytes follow. */
struct cp_jtab {
	uint32_t kind;
	uint32_t rec_size;
	uint32_t n;
	uint32_t reserved;
};

struct cp_journal {
	int fd;
	char path[512];
	char dir[512];
	uint64_t next_seg;         /* the number the next rotation gives its segment */
	uint32_t n_segments;       /* segments on disk (set aside, not yet dropped) */
	uint64_t size;             /* bytes in the file (all valid records) */
	uint64_t n_records;        /* records since the last truncation */
	uint64_t n_unsynced;       /* appended, not yet synced */
	struct cp_log_rl err_rl;   /* write errors repeat every drain pass: one line per 10 s */
};

struct cp_journal_replay_stats {
	uint64_t records;          /* valid records read */
	uint64_t applied;          /* of them, new to the store */
	uint64_t duplicates;       /* already in the store (snapshot taken before truncation) */
	uint64_t torn_bytes;       /* bytes cut off the tail */
	char torn_why[128];        /* why the tail was rejected ("" = clean) */
	uint64_t bad_regions;      /* damaged regions skipped (records after them kept) */
	uint64_t bad_bytes;        /* bytes in them */
	char bad_why[256];         /* the first one: file, offset, why ("" = none) */
	char set_aside[640];       /* a damaged tail copied here before it was cut ("") */
	uint64_t cut_bytes;        /* bytes cut off the end: a torn or a damaged tail */
};

/* Open (creating it durably) path/journal.  fd -1 on error; returns 0 or -errno. */
int cp_journal_open(struct cp_journal *j, const char *dir);
void cp_journal_close(struct cp_journal *j);

/* Apply every valid record to s (deduplicated), skipping damaged regions; cut a torn
 * or damaged tail.  0 or -errno (-ENOMEM, I/O errors); damage is counted in *st, not an
 * error. */
int cp_journal_replay(struct cp_journal *j, struct cp_store *s,
                      struct cp_journal_replay_stats *st);
/* One file of it: apply the valid records of fd (named path in messages) to s, adding to
 * *st, skipping damaged regions; what follows the last valid record is cut off
 * (ftruncate), a damaged tail first copied to path.bad-<time> when keep_damaged.
 * *end_ok gets the offset of the end of the last valid record.  What
 * cp_journal_replay() runs on every segment and the journal (keep_damaged), and the
 * entry of the journal fuzz target (not).  0 or -errno. */
int cp_journal_replay_fd(int fd, const char *path, struct cp_store *s,
                         struct cp_journal_replay_stats *st, uint64_t *end_ok,
                         bool keep_damaged);

/* Append one epoch (not yet durable).  On error the file is cut back to its previous
 * end, so the journal never holds half a record we know of.  0 or -errno. */
int cp_journal_append(struct cp_journal *j, const struct cp_epoch *e);
/* Make every appended record durable.  0 or -errno. */
int cp_journal_sync(struct cp_journal *j);
/* Empty the journal and drop every segment (after a durable snapshot of everything).
 * 0 or -errno. */
int cp_journal_truncate(struct cp_journal *j);
/* Set what the journal holds aside as segment *seg, go on in a fresh journal (an empty
 * journal is not rotated: *seg is then the last segment, 0 for none).  0 or -errno
 * (nothing moved). */
int cp_journal_rotate(struct cp_journal *j, uint64_t *seg);
/* Remove the segments up to upto (a durable snapshot covers them).  0 or -errno. */
int cp_journal_drop(struct cp_journal *j, uint64_t upto);
/* "journal.<n>" -> n, or 0 for any other name (a segment's file name). */
uint64_t cp_journal_seg_number(const char *name);
/* n_segments from the directory (another process dropped some).  0 or -errno. */
int cp_journal_recount(struct cp_journal *j);

#endif
