/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fpsig_dp.h — the worker's signature stage (issue 14; docs/fingerprints.md
 * "Signatures"): a SYN no fingerprint rule labels adds to the OBX_TAB_FPSIG record of
 * its shape (struct obx_fpsig_rec, common/exchange_recs.h): one SYN more, its source
 * into the record's HyperLogLog registers.  Pass 1 of a burst builds the key and its
 * hash (common/fpsig.h); pass 2 calls this, in packet order, so a record is in the
 * epoch of its SYNs.  Follows epoch.h's pointer rule.  Pure C (epoch.h).
 */
#ifndef OBSCURA_FPSIG_DP_H
#define OBSCURA_FPSIG_DP_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "epoch.h"
#include "exchange.h"
#include "exchange_recs.h"
#include "fpsig.h"

static inline bool obs_fpsig_match(const void *rec, const void *key)
{
	return memcmp(&((const struct obx_fpsig_rec *)rec)->key, key,
	              sizeof(struct obx_fpsig_key)) == 0;
}

static inline bool obs_fpsig_used(const void *rec)
{
	return ((const struct obx_fpsig_rec *)rec)->syns != 0;
}

/* One unlabelled SYN of source src with key k (hash h = obx_fpsig_hash(k)). */
static inline void obs_fpsig_add(struct obs_epoch *e, const struct obx_fpsig_key *k,
                                 uint32_t h, uint32_t src)
{
	struct obx_fpsig_rec *r;

	for (;;) {
		switch (obs_epoch_find_or_insert(e, OBX_TAB_FPSIG, h, k, obs_fpsig_match,
		                                 obs_fpsig_used, sizeof(*r), (void **)&r)) {
		case OBS_EPOCH_FOUND:
			if (r->syns != UINT32_MAX)
				r->syns++;
			break;
		case OBS_EPOCH_NEW:
			memset(r, 0, sizeof(*r));
			r->key = *k;
			r->sig = h;
			r->syns = 1;
			(*obs_epoch_n_used(e, OBX_TAB_FPSIG))++;
			break;
		case OBS_EPOCH_SWAPPED:
			continue;          /* every table is new: probe again */
		default:
			return;            /* absent kind (stage off) or lost (counted) */
		}
		obx_fpsig_hll_add(r->hll, src);
		return;
	}
}

#endif
