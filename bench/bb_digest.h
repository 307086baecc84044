/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bb_digest.h — burst_bench --digest: a fingerprint of everything the worker published
 * (every slot's counters, time range, flags and records), so an optimisation of the
 * burst can be shown to leave the exchange contents byte-identical for the same input
 * (tests/dp/burst_digest.sh against tests/dp/burst_digest.expected).
 *
 * Records are hashed as the control plane reads them, independent of where the probe
 * put them: per slot and table, the records the used list names, sorted by their bytes;
 * a coverage cell that spilled to a bitmap is hashed with its bitmap's bytes in place of
 * the pool index (the index is only an allocation order).
 */
#ifndef OBSCURA_BB_DIGEST_H
#define OBSCURA_BB_DIGEST_H

#include <stdint.h>

#include "exchange.h"

struct bb_digest {
	uint64_t h;                      /* FNV-1a 64 over the slots in publish order */
	uint64_t slots;
	uint64_t recs[OBX_TAB_MAX];      /* records hashed, per kind */
};

void bb_digest_init(struct bb_digest *d);
/* Fold one READY slot into d (call before it is cleared).  0, or -ENOMEM. */
int bb_digest_slot(struct bb_digest *d, const struct obx_header *h, struct obx_slot_hdr *sh);
/* "bb digest ..." lines on stdout. */
void bb_digest_print(const struct bb_digest *d);

#endif
