/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * snapshot.h — the period store on disk (state_dir/snapshot).
 *
 * File = 64-byte header (magic "OBSCPSNP", format version, the store's schema version,
 * creation time, body length, CRC32C of the body, CRC32C of the header) then the body:
 * a sequence of sections, each { uint32 type, uint32 flags, uint64 length, payload }.
 * The store's sections are built in; modules add theirs through the section registry
 * below; a reader skips sections it does not know unless they carry CP_SNAP_F_REQUIRED.
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
#define CP_SNAP_FORMAT      2u     /* 2: section registry, store schema 2; 1 still loads */
#define CP_SNAP_NAME        "snapshot"

#define CP_SNAP_F_REQUIRED  0x1u   /* a reader that does not know this section must refuse */

/* Section types.  1..15 are the store's own; the analyses register theirs from
 * CP_SNAP_S_MODULE_BASE on, each defining its number in its own folder (scan 16, resip
 * 17, lifetime 18; 19 was set aside for event types and stays unused; a new analysis
 * takes the next free one, docs/DESIGN.md).  A number registered twice is refused
 * (-EEXIST), so two analyses that collide fail at start. */
enum cp_snap_section {
	CP_SNAP_S_META    = 1,   /* epochs, packet-time span, n_workers */
	CP_SNAP_S_TOTALS  = 2,   /* obx_counters, as counted uint64 words */
	CP_SNAP_S_WORKERS = 3,   /* per-worker obx_counters */
	CP_SNAP_S_BOOTS   = 4,   /* boot ids and the last seq applied per worker (dedup) */
	CP_SNAP_S_SOURCES = 5,   /* per-source records */
	CP_SNAP_S_PORTS   = 6,   /* last port counters seen */
	CP_SNAP_S_SENSORS = 7,   /* sensor names */

	CP_SNAP_S_MODULE_BASE = 16,
	CP_SNAP_S_TYPE_MAX = 255,
};

/*
 * Section registry: a module persists its own state in the snapshot as one section.
 *
 *   save(ctx, s, w)  appends the section payload with cp_snap_put(w, ...); 0 or -errno
 *                    (the whole snapshot write then fails, the old file stays).
 *   load(ctx, s, p, len, err, errlen)  parses one payload into the module's state;
 *                    0, or -EBADMSG with err set (bad length, bad value) / -ENOMEM.
 *   reset(ctx, s)    drops the module's state (to empty).
 * s is the store being saved or loaded (modules with their own state ignore it).
 *
 * Load is all-or-nothing over the whole file: every registered module is reset, then
 * each section present is loaded; if any section (store or module) fails, every module
 * is reset again and the load fails (the caller sets the file aside, as before).  A
 * module whose section is absent (an older snapshot) starts empty.  Module sections are
 * written without CP_SNAP_F_REQUIRED: a build without the module skips them.
 * Registration is process-wide and happens before the first load/save.  Returns 0,
 * -EINVAL (type < CP_SNAP_S_MODULE_BASE or > CP_SNAP_S_TYPE_MAX, NULL function),
 * -EEXIST (type taken), -ENOSPC (too many).
 */
struct cp_snap_w;
void cp_snap_put(struct cp_snap_w *w, const void *data, size_t len);
/* A payload serialised elsewhere into buf (malloc'ed) by a builder that returned rc:
 * appended and freed when rc is 0.  Returns rc. */
int cp_snap_put_built(struct cp_snap_w *w, int rc, uint8_t *buf, size_t len);

typedef int (*cp_snap_save_fn)(void *ctx, const struct cp_store *s, struct cp_snap_w *w);
typedef int (*cp_snap_load_fn)(void *ctx, struct cp_store *s, const void *data, size_t len,
                               char *err, size_t errlen);
typedef void (*cp_snap_reset_fn)(void *ctx, struct cp_store *s);

int cp_snapshot_section_register(uint32_t type, const char *name, cp_snap_save_fn save,
                                 cp_snap_load_fn load, cp_snap_reset_fn reset, void *ctx);
void cp_snapshot_section_unregister_all(void);   /* tests */
/* Every registered module's state back to empty, as a load starts (tests, fuzz targets). */
void cp_snapshot_sections_reset(struct cp_store *s);
#define CP_SNAP_MAX_SECTIONS 32

/* Write s atomically to path (tmp + fsync + rename + fsync dir).  0 or -errno, with a
 * message in err. */
int cp_snapshot_write_file(const char *path, const struct cp_store *s, char *err, size_t errlen);

/*
 * Load path into s (initialised; replaced only on success).  Returns 0, -ENOENT (no
 * file: a first start), -EBADMSG (corrupt, foreign, truncated, unsupported: err names the
 * file and the problem), or another -errno (I/O, ENOMEM).
 */
int cp_snapshot_load_file(const char *path, struct cp_store *s, char *err, size_t errlen);
/* The same checks and parse on a file's bytes already in memory (data, len; path only
 * names it in err): what cp_snapshot_load_file() does once it has read the file, and the
 * entry of the snapshot fuzz target.  0, -EBADMSG or -ENOMEM. */
int cp_snapshot_load_mem(const char *path, const uint8_t *data, size_t len, struct cp_store *s,
                         char *err, size_t errlen);

/* Rename a refused snapshot to "<path>.bad-<unix time>" (never overwriting one); the
 * new name goes to aside.  0 or -errno. */
int cp_snapshot_set_aside(const char *path, char *aside, size_t asidelen);

#endif
