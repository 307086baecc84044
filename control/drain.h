/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * drain.h — finding, mapping and draining the exchange (dataplane/exchange.h).
 *
 * cp_drain_poll() is called from the cp main loop at least every 50 ms.  It attaches to
 * the exchange file once it exists and passes obx_header_check() (no offset is followed
 * before that), drains READY slots — acquire-load the state, copy the epoch, append it to
 * the journal and sync, merge it into the store, clear the records, release-store FREE —
 * and notices a dataplane restart when the file at the path is replaced (another inode)
 * or carries another boot id: the old mapping is drained to the last READY slot before
 * the new one is taken.  It also drains "<path>.prev-*" files (epochs of old boots the
 * dataplane set aside because nobody drained them in time) and unlinks them once empty.
 *
 * Single-threaded: only the cp main loop calls these.
 */
#ifndef OBSCURA_CP_DRAIN_H
#define OBSCURA_CP_DRAIN_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "exchange.h"
#include "journal.h"
#include "store.h"

struct cp_xmap {
	struct obx_header *h;      /* NULL: not mapped; the shared mapping: follow no
	                            * offset, capacity or count read from it, use g */
	struct obx_geom g;         /* its header, copied and validated once at attach */
	size_t size;
	dev_t dev;
	ino_t ino;
	uint64_t boot_id;
};

struct cp_export;

struct cp_drain {
	char path[512];
	struct cp_store *store;
	struct cp_journal *journal;
	struct cp_export *export;  /* NULL or off: no export (export.h) */

	struct cp_xmap cur;        /* the exchange at path, when attached */
	/* the last file at path we refused, so we log it once, not at every poll */
	dev_t bad_dev;
	ino_t bad_ino;
	int64_t bad_mtime;
	char last_error[800];      /* why we are not attached ("" when attached) */
	bool waiting_logged;

	uint64_t next_stat_ns, next_prev_ns;
#define CP_PREV_BAD_MAX 16
	ino_t prev_bad[CP_PREV_BAD_MAX];   /* .prev files already reported unusable */
	uint32_t n_prev_bad;

	/* counters for `status` (this run) */
	uint64_t epochs_drained;   /* applied to the store */
	uint64_t epochs_dup;       /* READY slots already applied (journal replay), just freed */
	uint64_t epochs_invalid;   /* READY slots refused (bad seq): freed, counted */
	uint64_t epochs_implausible; /* READY slots whose counters the line rate could not
	                              * give (obx_counters_implausible()): dropped, freed */
	uint64_t clamped;          /* slot n_used words above their capacity, clamped */
	/* The attached dataplane is gone or hung (cp_drain_poll() checks every 100 ms):
	 * starting or running, and its pid no longer exists, or running and no heartbeat
	 * (the main lcore's or any worker's) for CP_DP_LOST_NS. */
#define CP_DP_LOST_NS (3ull * 1000000000ull)
	bool dp_lost;
	char dp_lost_why[160];
	/* Epochs lost with a dataplane that died: a slot still FILLING in a mapping the
	 * control plane let go of (the file was replaced at a restart, or an old boot's
	 * .prev file).  Its packets were never published; the period holding the worker's
	 * last packet time is partial.  The most recent CP_LOST_MAX are kept. */
	uint64_t epochs_lost;
#define CP_LOST_MAX 32
	struct cp_lost_epoch {
		uint64_t boot_id;
		uint32_t worker;
		uint32_t reserved;
		uint64_t last_pkt_ns;  /* the worker's last packet time (0: unknown) */
		uint64_t noticed_wall_ns;
	} lost[CP_LOST_MAX];
	uint32_t n_lost;           /* entries of lost[] in use (<= CP_LOST_MAX) */
	uint64_t bad_used;         /* used-list entries skipped (out of range, repeated) */
	uint64_t last_lag_ns, max_lag_ns;
	uint64_t last_drain_wall_ns;
	uint64_t attaches;         /* exchanges attached this run */
	uint64_t prev_files;       /* .prev files drained and removed */
	uint64_t journal_errors;
	bool dirty;                /* store changed since the last snapshot */
	/* drain time (CLOCK_MONOTONIC) of the passes that applied epochs: copy, journal +
	 * sync, merge into the store (every consumer), clear, release */
	uint64_t drain_ns_total;   /* sum over passes */
	uint64_t drain_epochs;     /* epochs applied by those passes */
	uint64_t drain_ns_max;     /* largest per-epoch time of one pass (pass time / epochs) */

};

/* NULL when a file with this fstat() may be mapped by a control plane running as euid:
 * a regular file of at least the header size, owned by root or euid, not writable by
 * group or others; else why not (a static message). */
const char *cp_xfile_refused(const struct stat *st, uid_t euid);

/*
 * One READY slot copied out of the exchange, the drain's first step (public for the
 * exchange fuzz target, tests/fuzz/fuzz_exchange.c).  cp_slot_counts() reads every
 * table's n_used once, clamped to the validated capacity (clamped counts them);
 * cp_slot_copy() copies the slot header fields and the records the used lists name
 * (bad_used: entries skipped) into e and recs, and says whether the counters are
 * possible (implausible: NULL, or why not; max_packets: the bound, exchange.h).  The
 * caller sets e.boot_id, e.worker and e.seq.  cp_slot_release() clears the records
 * those n_used name and stores FREE (release).  cp_slot_copy_free() frees recs.
 */
struct cp_slot_copy {
	struct cp_epoch e;
	void *recs[OBX_TAB_MAX];       /* owned, per e.tabs[] entry */
	uint32_t n_used[OBX_TAB_MAX];
	uint32_t clamped, bad_used;
	uint64_t max_packets;
	const char *implausible;
};

void cp_slot_counts(const struct obx_geom *g, struct obx_slot_hdr *sh, struct cp_slot_copy *c);
int cp_slot_copy(const struct obx_geom *g, struct obx_slot_hdr *sh, struct cp_slot_copy *c);
void cp_slot_release(const struct obx_geom *g, struct obx_slot_hdr *sh,
                     const uint32_t n_used[OBX_TAB_MAX]);
void cp_slot_copy_free(struct cp_slot_copy *c);

int cp_drain_init(struct cp_drain *d, const char *path, struct cp_store *s, struct cp_journal *j);
void cp_drain_fini(struct cp_drain *d);

/* One step: (re)attach, detect restarts, drain READY slots, handle .prev files.
 * now_ns is CLOCK_MONOTONIC.  Returns the number of epochs applied, or -errno when the
 * journal could not be written (slots then stay READY and are retried). */
int cp_drain_poll(struct cp_drain *d, uint64_t now_ns);

/* Drain the mapping fully now (shutdown). */
int cp_drain_flush(struct cp_drain *d);

uint64_t cp_wall_ns(void);
uint64_t cp_mono_ns(void);

#endif
