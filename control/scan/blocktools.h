/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * blocktools.h — scanner-tool SYNs per (source block, period) for the scan views (issue
 * 14 item 1, docs/fingerprints.md "Tool shares per block"): `scan show` (per period: SYNs
 * per tool label and their share of the period's SYNs) and `scan list` (the dominant
 * tool of the query's periods).
 *
 * The drained source records carry, per (source, hour), the label of the record's first
 * labelled SYN (`tool`), that label's SYNs (`tool_syns`) and the labelled SYNs of other
 * labels (`tool_other`).  A record goes to the entry of (period of its first_ns, its
 * address masked to /L): up to SCAN_BT_SLOTS labels with their SYNs, and `other` — the
 * records' tool_other (the exchange does not name their label) plus the SYNs of labels
 * past the slots.  Only (block, period) pairs with a labelled SYN have an entry.  Every
 * field is a sum, so the order of the records does not change the counts (which label
 * gets a slot when more than SCAN_BT_SLOTS meet does).  Pure, single-threaded.
 */
#ifndef OBSCURA_CP_SCAN_BLOCKTOOLS_H
#define OBSCURA_CP_SCAN_BLOCKTOOLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "htab.h"

#define SCAN_BT_SLOTS 4
#define SCAN_BT_IDS   64u     /* label ids 1..63 (toolstore.h CP_TOOL_IDS) */

struct scan_bt {
	uint32_t period;              /* the key: obs_period_index() of the store's unit */
	uint32_t block;               /* source address masked to /L */
	uint8_t  ids[SCAN_BT_SLOTS];  /* label of syns[i]; 0: slot free */
	uint8_t  used;                /* 1: the in-use field */
	uint8_t  pad[3];
	uint64_t syns[SCAN_BT_SLOTS];
	uint64_t other;               /* labelled SYNs no slot names */
};

struct scan_bts {
	struct cp_ht ht;              /* struct scan_bt by (period, block) */
	uint8_t  block_len, unit;     /* L and the period unit of the coverage store */
	uint64_t bad;                 /* records with a label id past 63 (counted, ignored) */
};

void scan_bts_init(struct scan_bts *t, uint8_t block_len, uint8_t unit);
void scan_bts_fini(struct scan_bts *t);
void scan_bts_clear(struct scan_bts *t);

/* The key a source record goes to. */
void scan_bts_key(const struct scan_bts *t, uint32_t addr, uint64_t first_ns, uint32_t *period,
                  uint32_t *block);
/* Room for n more entries.  0 or -ENOMEM (nothing changed). */
int scan_bts_reserve(struct scan_bts *t, uint32_t n);
bool scan_bts_has_room(const struct scan_bts *t, uint32_t n);
/* One record's labels (tool 0: nothing).  Needs room for one new entry; never fails
 * then. */
void scan_bts_add(struct scan_bts *t, uint32_t addr, uint64_t first_ns, unsigned tool,
                  uint64_t tool_syns, uint64_t tool_other);

const struct scan_bt *scan_bts_find(const struct scan_bts *t, uint32_t period, uint32_t block);
/* The next entry (slot order): *it = 0 to start; NULL at the end. */
const struct scan_bt *scan_bts_next(const struct scan_bts *t, uint32_t *it);
/* All labelled SYNs of e (slots + other). */
uint64_t scan_bt_labelled(const struct scan_bt *e);

/* Per label SYNs of block over the periods from..to (inclusive) into syns[SCAN_BT_IDS]
 * (index 0: the `other` SYNs), zeroed first. */
void scan_bts_sum(const struct scan_bts *t, uint32_t block, uint32_t from, uint32_t to,
                  uint64_t *syns);
/* The label with the most SYNs in syns[1..63] (ties: the smaller id), 0 when none. */
unsigned scan_bts_dominant(const uint64_t *syns);

/* The snapshot part (after the coverage in the scan section, scan_mod.c): magic,
 * version, count, entries.  Serialise into a new buffer (caller frees): 0 or -ENOMEM.
 * Parse into t (initialised, empty): 0, -EBADMSG with *why, -ENOMEM. */
int scan_bts_serialize(const struct scan_bts *t, uint8_t **out, size_t *len);
int scan_bts_deserialize(struct scan_bts *t, const uint8_t *buf, size_t len, const char **why);

size_t scan_bts_bytes(const struct scan_bts *t);

#endif
