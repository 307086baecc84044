/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * toolstore.h — the store's scanner-tool counts per source (issue 14 item 1,
 * docs/fingerprints.md "In the control plane").
 *
 * The dataplane's source record carries, per (source, hour), the label of its first
 * labelled SYN (`tool`), the SYNs with that label (`tool_syns`) and the labelled SYNs
 * with another label (`tool_other`).  The store keeps, for the sources that ever had a
 * labelled SYN only, one 48-byte entry in a hash table of its own: a source that is never
 * labelled costs nothing here and cp_src (store.h) is unchanged.  Per entry:
 *   tool      the label of the earliest labelled record (smallest first_ns; ties: the
 *             smaller label id) — the source's tool;
 *   ids/syns  up to CP_TOOL_SLOTS labels with their SYN counts (a record's tool_syns
 *             go to its tool's slot);
 *   other     labelled SYNs no slot holds: the records' tool_other (the exchange does
 *             not say which label those had) plus the SYNs of labels past the slots.
 * Plus totals per label over all sources (what /metrics shows).  Everything is a sum or
 * a min, so merging stores is exact and order-free.  Pure, single-threaded.
 */
#ifndef OBSCURA_CP_TOOLSTORE_H
#define OBSCURA_CP_TOOLSTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "htab.h"

#define CP_TOOL_SLOTS 3
#define CP_TOOL_IDS   64u      /* label ids 0..63 (fingerprint.h OBS_FP_MAX_ID) */

struct cp_tool_src {
	uint32_t addr;                 /* the key */
	uint8_t  tool;                 /* non-zero: the in-use field */
	uint8_t  ids[CP_TOOL_SLOTS];   /* label of syns[i]; 0: slot unused */
	uint64_t tool_first_ns;        /* first_ns of the record that gave tool */
	uint64_t syns[CP_TOOL_SLOTS];
	uint64_t other;
};

struct cp_tools {
	struct cp_ht ht;               /* struct cp_tool_src by addr */
	uint64_t syns[CP_TOOL_IDS];    /* all sources: SYNs per label (records' tool_syns) */
	uint64_t other;                /* all sources: the records' tool_other */
	uint64_t bad;                  /* records with a label id past 63 (counted, ignored) */
};

void cp_tools_init(struct cp_tools *t);
void cp_tools_fini(struct cp_tools *t);
void cp_tools_clear(struct cp_tools *t);

/* Room for n more sources.  0 or -ENOMEM (nothing changed). */
int cp_tools_reserve(struct cp_tools *t, uint32_t n);
/* Add one record's labels (tool 0 with tool_other 0: nothing).  Needs room for one new
 * source (cp_tools_reserve); never fails then. */
void cp_tools_add(struct cp_tools *t, uint32_t addr, uint64_t first_ns, unsigned tool,
                  uint64_t tool_syns, uint64_t tool_other);
/* Merge one whole entry (another store's, a snapshot's); needs room for one. */
void cp_tools_merge_src(struct cp_tools *t, const struct cp_tool_src *e);
/* dst += src.  0 or -ENOMEM (nothing changed). */
int cp_tools_merge(struct cp_tools *dst, const struct cp_tools *src);

const struct cp_tool_src *cp_tools_find(const struct cp_tools *t, uint32_t addr);
/* SYNs of label id in e (0 when it has no slot of it). */
uint64_t cp_tool_src_syns(const struct cp_tool_src *e, unsigned id);
/* All labelled SYNs of e (slots + other). */
uint64_t cp_tool_src_total(const struct cp_tool_src *e);
/* The next entry (iteration in slot order): *it = 0 to start; NULL at the end. */
const struct cp_tool_src *cp_tools_next(const struct cp_tools *t, uint32_t *it);
size_t cp_tools_bytes(const struct cp_tools *t);
uint32_t cp_tools_n(const struct cp_tools *t);

/* The snapshot section (snapshot.c, type CP_SNAP_S_TOOLS): a buffer of the entries and
 * totals / its parse into an empty t (0, -EBADMSG, -ENOMEM). */
#define CP_SNAP_S_TOOLS 21
size_t cp_tools_blob_len(const struct cp_tools *t);
void cp_tools_blob(const struct cp_tools *t, uint8_t *out);
int cp_tools_load(struct cp_tools *t, const void *data, size_t len);

/* Label names, from the fingerprint file (tables.fingerprint_file) the control plane
 * reads for them at start and after a `tables reload` of fingerprints. */
/* (Re)read path ("" or NULL: no names).  0, or -EINVAL with err set (names kept). */
int cp_tool_names_load(const char *path, char *err, size_t errlen);
/* "none" for 0, the rule's name, or "tool<N>" for an id the file does not name. */
const char *cp_tool_name(unsigned id, char *buf, size_t len);
/* The id of name (a rule's name, "tool<N>"), or -1. */
int cp_tool_id(const char *name);
/* The names the file holds, "a, b, c" (for errors). */
void cp_tool_names_list(char *out, size_t len);

#endif
