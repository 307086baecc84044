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

/* Bump when the meaning of a store section changes; snapshots carry it. */
#define CP_STORE_SCHEMA 1u

struct cp_src {
	uint32_t addr;          /* IPv4, host byte order */
	uint32_t reserved;
	uint64_t first_ns;      /* min over epochs (packet time) */
	uint64_t last_ns;       /* max */
	uint64_t packets;       /* sum; 0 marks an empty table entry */
	uint64_t sensor_mask;   /* OR */
};

struct cp_boot {
	uint64_t boot_id;
	uint64_t boot_wall_ns;          /* the dataplane's start (0 if only known from a journal) */
	uint64_t epochs;                /* epochs applied from this boot */
	uint32_t n_workers;             /* highest worker index seen + 1 */
	uint32_t reserved;
	uint64_t last_seq[OBX_MAX_WORKERS];  /* last seq applied per worker; 0 = none */
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
	uint32_t n_src;
	const struct obx_src_rec *src;  /* n_src records, none empty */
};

struct cp_store {
	struct obx_counters total;                    /* all boots, all workers */
	struct obx_counters worker[OBX_MAX_WORKERS];  /* all boots, per worker index */
	uint32_t n_workers;                           /* highest worker index seen + 1 */
	uint64_t epochs;                              /* epochs applied */
	uint64_t t_first_ns, t_last_ns;               /* packet-time span (0 = none) */

	struct cp_boot *boots;
	uint32_t n_boots, cap_boots;

	struct cp_src *src;                           /* open addressing, linear probing */
	uint32_t src_mask;                            /* capacity - 1 (power of two) */
	uint32_t n_src;

	/* latest port counters seen in an exchange header (live; kept so a restarted cp
	 * can show the last known values before the dataplane is back) */
	uint64_t ports_boot_id;
	uint32_t n_ports;
	struct obx_port_stats ports[OBX_MAX_PORTS];

	/* sensor names in config order, from the last exchange header seen */
	uint32_t n_sensors;
	char sensor_names[64][OBX_NAME_LEN];
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
 * Merge one epoch.  Returns 0 when applied, 1 when it was already applied (nothing
 * changes), -EINVAL for a bad worker index or seq 0, -ENOMEM (nothing changed: room is
 * reserved before anything is touched, so an epoch is applied whole or not at all).
 */
int cp_store_apply(struct cp_store *s, const struct cp_epoch *e);

/* Make room for n more sources without a rehash later.  0 or -ENOMEM. */
int cp_store_src_reserve(struct cp_store *s, uint32_t n);
/* Merge one source record (min/max/sum/OR).  0 or -ENOMEM. */
int cp_store_src_merge(struct cp_store *s, const struct cp_src *r);
const struct cp_src *cp_store_src_find(const struct cp_store *s, uint32_t addr);

/* dst += src: the exact merge of two stores (boots by union, per-worker seq by max). */
int cp_store_merge(struct cp_store *dst, const struct cp_store *src);

/*
 * The top n sources by packets (ties: address ascending) into a new array *out (caller
 * frees); n == 0 means all.  Returns the count, or -ENOMEM.
 */
long cp_store_top(const struct cp_store *s, size_t n, struct cp_src **out);

/* Record the live port counters and sensor names of an exchange header. */
void cp_store_note_header(struct cp_store *s, const struct obx_header *h);

#endif
