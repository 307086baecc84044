/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * covstore.h — the coverage part of the period store (SPEC.md A1): per period t and
 * cell (block A = source /L, protocol, destination port p), the exact set of
 * coverage-sample slots that received at least one SYN (D_t(A->p) ∩ S), the SYN
 * packets and the Mirai-fingerprint SYNs (sequence number == destination, A10).
 *
 * A slot set starts inline in the cell (up to COV_INLINE slots, no allocation), then is a
 * sorted array of slot numbers, and becomes a bitmap of |S| bits once the array would be
 * larger than the bitmap (n > |S|/32), so a cell costs what it holds: a near-empty cell
 * nothing beyond its table entry, a full sweep |S|/8 bytes.  Everything is a
 * mergeable summary (set union, sums), so stores of several epochs, boots or boxes merge
 * exactly; serialisation is the snapshot section.
 *
 * Pure (no I/O, no exchange access), single-threaded: the cp main loop, the analyses
 * (scan.c) and the unit tests are the callers.  Cells sit dense in creation order (a
 * cell's position is its id) behind an index of 4-byte ids in the control plane's hash
 * table (htab.h); pointers to cells are valid until the next insertion.
 */
#ifndef OBSCURA_CP_COVSTORE_H
#define OBSCURA_CP_COVSTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "htab.h"

#define COV_F_USED  0x1u
#define COV_F_DENSE 0x2u
#define COV_INLINE  2u     /* a sparse set of n <= COV_INLINE slots lives in set.in[] */

struct cov_key {
	uint32_t period;   /* obs_period_index() of the store's unit */
	uint32_t block;    /* source address masked to /block_len, host order */
	uint16_t dport;
	uint8_t  proto;    /* IP protocol number (6 = TCP) */
};

struct cov_cell {
	uint32_t period;   /* the key: the first 11 bytes, as in struct cov_key */
	uint32_t block;
	uint16_t dport;
	uint8_t  proto;
	uint8_t  flags;    /* COV_F_*; COV_F_USED in every cell (the table's in-use mark) */
	uint32_t n;        /* distinct slots hit = |D_t(A->p) ∩ S|; sparse: n <= COV_INLINE in
	                    * in[], else exactly n slots in sparse[]; dense: |S| bits */
	uint64_t syns;     /* SYN packets to D */
	uint64_t mirai;    /* of which seq == dst */
	union {
		uint32_t in[COV_INLINE];   /* sorted, distinct: n <= COV_INLINE */
		uint32_t *sparse;   /* sorted, distinct: n > COV_INLINE */
		uint64_t *bits;     /* |S| bits */
	} set;
};

/* The dense cell array; on the heap so that the index's context pointer stays valid
 * when a struct cov_store is copied. */
struct cov_cells {
	struct cov_cell *a;     /* cells 0..n-1, n = the index's cells.n */
	size_t cap;
};

struct cov_store {
	uint32_t sample_size;   /* |S|: slots are 0..sample_size-1 */
	uint8_t  block_len;     /* L */
	uint8_t  unit;          /* enum obs_period_unit (period.h) */
	struct cp_ht cells;     /* index: uint32 id + 1 into arr->a by key; cells.n cells */
	struct cov_cells *arr;
	uint32_t n_dense;
	uint32_t period_min, period_max;   /* over cells; valid when n_cells > 0 */
	uint64_t set_bytes;     /* bytes held by slot sets (sparse capacity + bitmaps) */
};

/* 0, or -EINVAL (sample_size 0 or > 2^24, block_len not 1..32, unit not 0..3), -ENOMEM. */
int cov_store_init(struct cov_store *s, uint32_t sample_size, uint8_t block_len, uint8_t unit);
void cov_store_fini(struct cov_store *s);

/* Make room for n more cells without failing later (they may be new).  0 or -ENOMEM. */
int cov_store_reserve(struct cov_store *s, uint32_t n);
/* Would n more cells fit without growth? */
bool cov_store_has_room(const struct cov_store *s, uint32_t n);

/* The next cell at position *it or after it (*it moves past it), NULL at the end;
 * start with *it = 0.  Order: creation (callers must not rely on one). */
const struct cov_cell *cov_store_next(const struct cov_store *s, uint32_t *it);

/* The cell for k, created empty when create is set (NULL + errno ENOMEM), else NULL
 * when absent.  Creating may move every cell. */
struct cov_cell *cov_store_cell(struct cov_store *s, const struct cov_key *k, bool create);
const struct cov_cell *cov_store_find(const struct cov_store *s, const struct cov_key *k);

/* Add to cell k: syns/mirai, and the union with n slots (any order, duplicates fine).
 * 0, -ERANGE (a slot >= sample_size: nothing changed), -ENOMEM. */
int cov_store_add(struct cov_store *s, const struct cov_key *k, uint64_t syns, uint64_t mirai,
                  const uint32_t *slots, uint32_t n);
/* Same with the slots as a bitmap of sample_size bits (words = ceil(|S|/64)); bits past
 * sample_size must be clear (-ERANGE). */
int cov_store_add_bits(struct cov_store *s, const struct cov_key *k, uint64_t syns,
                       uint64_t mirai, const uint64_t *bits);

/* dst ∪= src.  -EINVAL when their sample_size, block_len or unit differ (nothing
 * changed), -ENOMEM (dst partly merged: callers merge into a scratch copy first when it
 * matters). */
int cov_store_merge(struct cov_store *dst, const struct cov_store *src);

bool cov_cell_has(const struct cov_store *s, const struct cov_cell *c, uint32_t slot);
/* Slots of c in ascending order into out (c->n entries). */
void cov_cell_slots(const struct cov_store *s, const struct cov_cell *c, uint32_t *out);

static inline uint32_t cov_store_words(const struct cov_store *s)
{
	return (s->sample_size + 63) / 64;
}

/* Bytes the store holds (table + sets). */
uint64_t cov_store_bytes(const struct cov_store *s);

/*
 * Serialise (native byte order; the snapshot's header refuses foreign files) into a new
 * buffer *out of *len bytes (caller frees).  0 or -ENOMEM.  Deserialise into s (fresh,
 * not initialised): 0, or -EBADMSG with *why (truncated, bad slot, unsorted list, bitmap
 * count mismatch, duplicate cell, trailing bytes), -ENOMEM.
 */
int cov_store_serialize(const struct cov_store *s, uint8_t **out, size_t *len);
int cov_store_deserialize(struct cov_store *s, const uint8_t *buf, size_t len, const char **why);
/* The same for a buffer the coverage only starts (the scan section: coverage, then the
 * block-tool part, blocktools.h): *used = the coverage's bytes. */
int cov_store_deserialize_part(struct cov_store *s, const uint8_t *buf, size_t len, size_t *used,
                               const char **why);

#endif
