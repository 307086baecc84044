/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dos.h — the worker's DoS backscatter stage (docs/dos.md): it fills the OBX_TAB_DOS
 * records (struct obx_dos_rec, common/exchange_recs.h), one per (victim, UTC minute).
 *
 * A backscatter packet (obx_is_backscatter) of a source not excluded is counted in
 * counters reserved[OBX_CTR_BACKSCATTER] by the worker and added here.  A new record is
 * reserved with obs_epoch_need() first and written whole (docs/exchange.md rules).
 * Pure C (epoch.h), so the unit tests drive it on a heap exchange.
 */
#ifndef OBSCURA_DOS_H
#define OBSCURA_DOS_H

#include <stdbool.h>
#include <stdint.h>

#include "epoch.h"
#include "exchange.h"
#include "exchange_recs.h"

struct obs_dos_key {
	uint32_t victim, minute;
};

static inline bool obs_dos_match(const void *rec, const void *key)
{
	const struct obx_dos_rec *r = rec;
	const struct obs_dos_key *k = key;

	return r->victim == k->victim && r->minute == k->minute;
}

static inline bool obs_dos_used(const void *rec)
{
	return ((const struct obx_dos_rec *)rec)->packets != 0;
}

static inline void obs_dos_port(struct obx_dos_rec *r, uint16_t port)
{
	unsigned i;

	for (i = 0; i < OBX_DOS_PORTS && r->ports[i] != 0; i++)
		if (r->ports[i] == port)
			return;
	if (i < OBX_DOS_PORTS)
		r->ports[i] = port;
	if (r->n_ports < 255)
		r->n_ports++;
}

/* One backscatter packet of victim to dark address dst at time t: proto_idx, and port
 * the victim's source port (TCP; 0 for ICMP: no port).  Follows epoch.h's pointer rule. */
static inline void obs_dos_add(struct obs_epoch *e, uint32_t victim, uint32_t dst, uint64_t t,
                               uint8_t proto_idx, uint16_t port)
{
	const struct obs_dos_key k = { victim, (uint32_t)(t / OBX_MINUTE_NS) };
	const uint32_t h = obx_dos_hash(k.victim, k.minute);
	const unsigned bit = obx_dos_dark_bit(dst);
	struct obx_dos_rec *r;

	for (;;) {
		switch (obs_epoch_find_or_insert(e, OBX_TAB_DOS, h, &k, obs_dos_match, obs_dos_used,
		                                 sizeof(*r), (void **)&r)) {
		case OBS_EPOCH_FOUND:
			r->packets++;
			if (t < r->first_ns)
				r->first_ns = t;
			if (t > r->last_ns)
				r->last_ns = t;
			break;
		case OBS_EPOCH_NEW:
			memset(r, 0, sizeof(*r));
			r->victim = k.victim;
			r->minute = k.minute;
			r->packets = 1;
			r->first_ns = t;
			r->last_ns = t;
			(*obs_epoch_n_used(e, OBX_TAB_DOS))++;
			break;
		case OBS_EPOCH_SWAPPED:
			continue;          /* every table is new: probe again */
		default:
			return;            /* absent kind (stage off) or lost (counted) */
		}
		r->dark[bit / 64] |= 1ull << (bit % 64);
		r->proto_mask |= (uint8_t)(1u << (proto_idx & 7));
		if (port != 0)
			obs_dos_port(r, port);
		return;
	}
}

#endif
