/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * snapshot.h — the period store on disk (state_dir/snapshot).
 *
 * File = 64-byte header (magic "OBSCPSNP", format version, the store's schema version,
 * creation time, body length, CRC32C of the body, CRC32C of the header) then the body:
 * a sequence of sections, each { uint32 type, uint32 flags, uint64 length, payload }.
 * Later issues add their state as new section types; a reader skips sections it does
 * not know unless they carry CP_SNAP_F_REQUIRED.
 *
 * Writes are atomic: snapshot.tmp, fsync, rename, fsync of the directory.  A load
 * parses into a fresh store and replaces the caller's only when every check passed, so
 * a bad file is never half-loaded.  Native byte order: the magic reads differently on a
 * foreign-endian machine, so such a file is refused as foreign.
 *
 * Single-threaded (the cp main loop, the unit tests).
 */
#ifndef OBSCURA_CP_SNAPSHOT_H
#define OBSCURA_CP_SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"

#define CP_SNAP_MAGIC       "OBSCPSNP"
#define CP_SNAP_FORMAT      1u
#define CP_SNAP_NAME        "snapshot"

#define CP_SNAP_F_REQUIRED  0x1u   /* a reader that does not know this section must refuse */

enum cp_snap_section {
	CP_SNAP_S_META    = 1,   /* epochs, packet-time span, n_workers */
	CP_SNAP_S_TOTALS  = 2,   /* obx_counters, as counted uint64 words */
	CP_SNAP_S_WORKERS = 3,   /* per-worker obx_counters */
	CP_SNAP_S_BOOTS   = 4,   /* boot ids and the last seq applied per worker (dedup) */
	CP_SNAP_S_SOURCES = 5,   /* per-source records */
	CP_SNAP_S_PORTS   = 6,   /* last port counters seen */
	CP_SNAP_S_SENSORS = 7,   /* sensor names */
};

/* Write s atomically to path (tmp + fsync + rename + fsync dir).  0 or -errno, with a
 * message in err. */
int cp_snapshot_write_file(const char *path, const struct cp_store *s, char *err, size_t errlen);

/*
 * Load path into s (initialised; replaced only on success).  Returns 0, -ENOENT (no
 * file: a first start), -EBADMSG (corrupt, foreign, truncated, unsupported: err names the
 * file and the problem), or another -errno (I/O, ENOMEM).
 */
int cp_snapshot_load_file(const char *path, struct cp_store *s, char *err, size_t errlen);

/* Rename a refused snapshot to "<path>.bad-<unix time>" (never overwriting one); the
 * new name goes to aside.  0 or -errno. */
int cp_snapshot_set_aside(const char *path, char *aside, size_t asidelen);

#endif
