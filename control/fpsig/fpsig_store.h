/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fpsig_store.h — the control plane's table of SYN signatures (issue 14;
 * docs/fingerprints.md "Signatures"): the exchange's kind-7 records (struct
 * obx_fpsig_rec) merged by their 48-byte key — SYNs summed, HyperLogLog registers of the
 * sources merged by max per register.
 *
 * Bounded: at most `max` signatures (CP_FPSIG_MAX in the daemon).  A new signature when
 * the table is full evicts the one with the fewest SYNs (or is itself dropped when it
 * has fewer SYNs than that one); both are counted (evicted, evicted_syns), the SYNs
 * still in unlabelled SYNs (stats.syns).  A record
 * whose key cannot come from the worker (unknown flags, more kinds than the area holds,
 * bytes set past n_kinds, a hash that is not the key's, a register above the largest
 * rank, SYNs without any register set) is refused and counted (bad_records).  Main loop only.
 */
#ifndef OBSCURA_CP_FPSIG_STORE_H
#define OBSCURA_CP_FPSIG_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "exchange_recs.h"
#include "htab.h"

/* The daemon's bound on signatures held (about 0.5 MiB of table). */
#define CP_FPSIG_MAX 4096u

struct cp_fpsig_ent {
	struct obx_fpsig_key key;          /* the table's inline key: no padding */
	uint32_t sig;                      /* obx_fpsig_hash(&key) */
	uint32_t pad;                      /* 0 */
	uint64_t syns;                     /* non-zero: the slot is in use */
	uint8_t  hll[OBX_FPSIG_HLL];
};

struct cp_fpsig_stats {
	uint64_t syns;                     /* unlabelled SYNs of every record merged */
	uint64_t records;                  /* records merged (not empty, not bad) */
	uint64_t bad_records;              /* refused (see above) */
	uint64_t evicted;                  /* signatures dropped from the full table */
	uint64_t evicted_syns;             /* their SYNs */
};

struct cp_fpsig_cand;

struct cp_fpsig_store {
	struct cp_ht ht;
	uint32_t max;
	struct cp_fpsig_stats st;
	/* room for one epoch's new signatures past a full table (cp_fpsig_store_reserve) */
	const struct obx_fpsig_rec **pend;
	struct cp_fpsig_cand *cand;
	struct obx_fpsig_key *gone;
	size_t pend_cap;
};

/* An empty table of at most max signatures, its room reserved (so merges never
 * allocate): 0 or -ENOMEM. */
int cp_fpsig_store_init(struct cp_fpsig_store *s, uint32_t max);
void cp_fpsig_store_fini(struct cp_fpsig_store *s);
void cp_fpsig_store_clear(struct cp_fpsig_store *s);

/* Is r a record the worker could have written?  (syns 0 is an empty slot: valid.) */
int cp_fpsig_rec_ok(const struct obx_fpsig_rec *r);
/* Room to merge an epoch of n records without allocating: 0 or -ENOMEM (the drain's
 * prepare step). */
int cp_fpsig_store_reserve(struct cp_fpsig_store *s, uint32_t n);
/* Merge n records (empty ones skipped, bad ones counted).  Never fails.  New signatures
 * that find the table full are ranked once per call with the held ones by SYNs (ties:
 * the smaller hash first), and those past `max` are evicted; without the room reserved
 * for them, each evicts the smallest held one in turn (a scan of the table). */
void cp_fpsig_store_merge(struct cp_fpsig_store *s, const struct obx_fpsig_rec *r, uint32_t n);

/* The entries, most SYNs first (ties: smaller sig first), at most n of them, into a
 * malloc'ed array of pointers (*out; caller frees); returns how many, or -ENOMEM. */
long cp_fpsig_store_top(const struct cp_fpsig_store *s, size_t n,
                        const struct cp_fpsig_ent ***out);

/* Snapshot section 23: the whole table and its counters as one buffer (malloc'ed), and
 * back: 0, -EBADMSG with err set (the store unchanged), -ENOMEM. */
int cp_fpsig_store_save(const struct cp_fpsig_store *s, uint8_t **buf, size_t *len);
int cp_fpsig_store_load(struct cp_fpsig_store *s, const void *data, size_t len,
                        char *err, size_t errlen);

#endif
