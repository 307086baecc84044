/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * store.h — the period store: everything the control plane has learnt from drained
 * epochs, as mergeable summaries (sums, min/max, OR, set union), so stores of several
 * boots, restarts or boxes merge exactly.
 *
 * For this issue it holds the counter totals (all boots, and per worker), the latest port
 * counters the dataplane published, the per-source records (first/last seen, packets,
 * sensor mask) in an open-addressing table that grows, and the set of dataplane boots
 * with, per worker, the last epoch seq applied — the key the journal deduplicates on.
 * Later issues add their own members (and snapshot sections, snapshot.h).
 *
 * Pure (no I/O, no exchange access), single-threaded: the cp main loop and the unit
 * tests are the only callers.
 */
#ifndef OBSCURA_CP_STORE_H
#define OBSCURA_CP_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "exchange.h"
#include "htab.h"
#include "toolstore.h"   /* fingerprint (issue 14) */

/* Bump when the meaning of a store section changes; snapshots carry it.  2: exchange v2
 * (per-(source, hour) epoch records; cp_src gained flags and resip_packets). */
#define CP_STORE_SCHEMA 2u

/* The merge of two time spans: the earlier first, the later last (the store's and the
 * analyses' summaries keep spans this way, so merge order never matters). */
static inline void cp_span_widen(uint64_t *first, uint64_t *last, uint64_t f, uint64_t l)
{
	if (f < *first)
		*first = f;
	if (l > *last)
		*last = l;
}

/* One source over everything drained: the merge of its (source, hour) epoch records. */
struct cp_src {
	uint32_t addr;          /* IPv4, host byte order */
	uint32_t flags;         /* OBX_SRC_F_*, OR */
	uint64_t first_ns;      /* min over epochs (packet time) */
	uint64_t last_ns;       /* max */
	uint64_t packets;       /* sum; 0 marks an empty table entry */
	uint64_t sensor_mask;   /* OR */
	uint64_t resip_packets; /* sum */
};

struct cp_boot {
	uint64_t boot_id;
	uint64_t boot_wall_ns;          /* the dataplane's start (0 if only known from a journal) */
	uint64_t epochs;                /* epochs applied from this boot */
	uint32_t n_workers;             /* highest worker index seen + 1 */
	uint32_t epochs_lost;           /* epochs it never published (it died with a slot
	                                 * FILLING, drain.h): its data is partial */
	uint64_t last_seq[OBX_MAX_WORKERS];  /* last seq applied per worker; 0 = none */
};

/* One table of a drained epoch: its in-use records, copied out of the slot.  Hash kinds
 * are compacted (empty records left out, order meaningless); BITMAP keeps pool order,
 * n = entries handed out, so an index another kind stored stays valid. */
struct cp_tab {
	uint32_t kind;                  /* enum obx_tab_kind */
	uint32_t rec_size;              /* bytes per record, as the dataplane laid it out */
	uint32_t n;                     /* records */
	uint32_t reserved;
	const void *recs;               /* n * rec_size bytes (8-byte aligned) */
};

/* A drained epoch, detached from the exchange memory it came from. */
struct cp_epoch {
	uint64_t boot_id;
	uint32_t worker;
	uint32_t flags;                 /* OBX_SLOT_F_* */
	uint64_t seq;
	uint64_t t_first_ns, t_last_ns;
	uint64_t published_wall_ns;
	struct obx_counters delta;
	uint32_t n_tabs;                /* tables present in the exchange, ascending kind */
	uint32_t reserved;
	struct cp_tab tabs[OBX_TAB_MAX];
};

/* The table of kind in e, or NULL when the kind was absent from the exchange. */
const struct cp_tab *cp_epoch_tab(const struct cp_epoch *e, unsigned kind);
/* Add a table to e, keeping tabs[] in ascending kind (tests, tools).  0, -EINVAL (bad or
 * duplicate kind, e full). */
int cp_epoch_add_tab(struct cp_epoch *e, unsigned kind, uint32_t rec_size, const void *recs,
                     uint32_t n);

/*
 * Per-kind consumers (analysis modules), process-wide.  cp_store_apply() calls every
 * consumer registered for a kind present in the epoch, in registration order, after
 * the store's own source merge; several consumers per kind are fine.  Each epoch
 * reaches a consumer exactly once per store it is applied to (duplicates are filtered
 * first), from the drain and from the journal replay alike.
 *
 * merge() is called twice per epoch, so an epoch is applied whole or not at all:
 *   1. prepare: recs == NULL, n and rec_size as they will come.  Check rec_size against
 *      your record (return -EPROTO when it differs: the epoch is logged and refused),
 *      reserve memory for n records (-ENOMEM), change nothing anyone can see.  Return 0.
 *   2. apply: recs != NULL.  Merge the n records; this must not fail (room was reserved
 *      in 1); its return value is ignored (failing here is a bug in the consumer).
 * Only when every consumer's prepare returned 0 does any apply run.
 */
typedef int (*cp_tab_merge_fn)(void *ctx, const struct cp_epoch *e, const void *recs,
                               uint32_t n, uint32_t rec_size);
/* 0, -EINVAL (bad kind, no merge), -ENOSPC (CP_TAB_MAX_CONSUMERS reached). */
int cp_tab_register(unsigned kind, const char *name, cp_tab_merge_fn merge, void *ctx);
/* A per-epoch hook: merge() as above for every epoch applied, whatever tables it holds
 * (n 0 and rec_size 0, recs a non-NULL empty table in the apply call); for what is kept
 * of each epoch itself (the loss-stamp ledger, integrity.h), not of one table. */
int cp_epoch_register(const char *name, cp_tab_merge_fn merge, void *ctx);
/* Forget every consumer (tests; a restart of the module set). */
void cp_tab_unregister_all(void);
#define CP_TAB_MAX_CONSUMERS 32

struct cp_store {
	struct obx_counters total;                    /* all boots, all workers */
	struct obx_counters worker[OBX_MAX_WORKERS];  /* all boots, per worker index */
	uint32_t n_workers;                           /* highest worker index seen + 1 */
	uint64_t epochs;                              /* epochs applied */
	uint64_t t_first_ns, t_last_ns;               /* packet-time span (if span_set) */
	bool span_set;                                /* a packet was seen (time 0 is a time) */

	struct cp_boot *boots;
	uint32_t n_boots, cap_boots;

	/* the sources: dense records in first-seen order (a source's position is its
	 * dense id, stable until cp_store_reset) and an index of small fixed entries
	 * (struct cp_src_ix by addr, htab.h); src.n sources */
	struct cp_ht src;
	struct cp_src *src_recs;                      /* src.n records */
	size_t src_recs_cap;

	/* latest port counters seen in an exchange header (live; kept so a restarted cp
	 * can show the last known values before the dataplane is back) */
	uint64_t ports_boot_id;
	uint32_t n_ports;
	struct obx_port_stats ports[OBX_MAX_PORTS];

	/* sensor names in config order, from the last exchange header seen */
	uint32_t n_sensors;
	char sensor_names[64][OBX_NAME_LEN];

	/* --- fingerprint (issue 14): scanner-tool counts of the labelled sources only
	 * (toolstore.h), merged from the source records' tool fields --- */
	struct cp_tools tools;
};

int cp_store_init(struct cp_store *s);
void cp_store_fini(struct cp_store *s);
/* Drop everything (keeps the allocation state valid). */
void cp_store_reset(struct cp_store *s);

void cp_counters_add(struct obx_counters *dst, const struct obx_counters *src);

/* The boot record for id, or NULL; with create, added when missing (NULL + errno on ENOMEM). */
struct cp_boot *cp_store_boot(struct cp_store *s, uint64_t boot_id, bool create);

/* true when (boot, worker, seq) is already in the store. */
bool cp_store_applied(const struct cp_store *s, uint64_t boot_id, uint32_t worker, uint64_t seq);

/*
 * Merge one epoch: counters, the SRC records (merged per address: first min, last max,
 * packets/resip_packets summed, sensor_mask/flags ORed), then the registered consumers.
 * Returns 0 when applied, 1 when it was already applied (nothing changes), -EINVAL for
 * a bad worker index, seq 0 or malformed tables, -EPROTO when a table's rec_size is not
 * what its reader expects, -ENOMEM (nothing changed: room is reserved and every
 * consumer prepared before anything is touched, so an epoch is applied whole or not).
 */
int cp_store_apply(struct cp_store *s, const struct cp_epoch *e);

/* The source index's entry and type (htab.h): the address and the record's dense id + 1
 * (0: a free slot), hashed by obx_src_hash() as the exchange's slots are.  8 bytes a
 * slot, so the index costs a sixth of the records it points to. */
struct cp_src_ix {
	uint32_t addr;
	uint32_t id1;
};
extern const struct cp_ht_type cp_src_ht_type;

/* Bytes the sources hold: the index's slots and the records' capacity. */
size_t cp_store_src_bytes(const struct cp_store *s);
/* The dense id of addr's record (0..src.n-1), or UINT32_MAX when absent. */
uint32_t cp_store_src_id(const struct cp_store *s, uint32_t addr);

/* Make room for n more sources without a rehash later.  0 or -ENOMEM. */
int cp_store_src_reserve(struct cp_store *s, uint32_t n);
/* The next source at dense id *it or after it (*it moves past it); NULL at the end.
 * Start with *it = 0; first-seen order (callers must not rely on any order). */
const struct cp_src *cp_store_src_next(const struct cp_store *s, uint32_t *it);
/* Slots of the source index (its capacity). */
uint32_t cp_store_src_cap(const struct cp_store *s);
/* Merge one source record (min/max/sum/OR).  0 or -ENOMEM. */
int cp_store_src_merge(struct cp_store *s, const struct cp_src *r);
const struct cp_src *cp_store_src_find(const struct cp_store *s, uint32_t addr);

/* dst += src: the exact merge of two stores (boots by union, per-worker seq by max). */
int cp_store_merge(struct cp_store *dst, const struct cp_store *src);

/* The order of cp_store_top() and sources.top, a qsort() comparator: packets
 * descending, then address ascending (total, so tests can compare lists). */
int cp_src_cmp(const void *a, const void *b);

/*
 * The top n sources by packets (ties: address ascending) into a new array *out (caller
 * frees); n == 0 means all.  Returns the count, or -ENOMEM.
 */
long cp_store_top(const struct cp_store *s, size_t n, struct cp_src **out);

/* Record the live port counters and sensor names of an exchange header: the counts,
 * offsets and ids from g (its validated copy, exchange.h), the values from the mapping. */
void cp_store_note_header(struct cp_store *s, const struct obx_geom *g,
                          const struct obx_header *h);

#endif
