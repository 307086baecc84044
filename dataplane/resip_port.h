/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * resip_port.h — the worker's RESIP port stage (SPEC.md B): it fills the OBX_TAB_RESIP_PORT
 * records (struct obx_resip_port_rec, common/exchange_recs.h).
 *
 * Stage (2) of the burst (worker.c): obs_resip_classify_burst() (resip_table.h) gives,
 * per accepted packet, the provider mask for which it is RESIP traffic (SPEC B1: the
 * source is in the table and, with resip.window_check, the packet time lies in
 * [first_seen, last_seen] of one of its rows; bounds inclusive, ns).  For such a packet
 * the worker ORs OBX_SRC_F_RESIP into the source record and adds 1 to its
 * resip_packets (stage 3), bumps counters.resip_packets, and (stage 5) counts it here,
 * in the record of (protocol, destination port, UTC day).
 *
 * A new record is reserved with obs_epoch_need() first and written whole (docs/exchange.md
 * rules).
 * Pure C (epoch.h), so the unit tests drive it on a heap exchange.
 */
#ifndef OBSCURA_RESIP_PORT_H
#define OBSCURA_RESIP_PORT_H

#include <stdbool.h>
#include <stdint.h>

#include "epoch.h"
#include "exchange.h"
#include "exchange_recs.h"

static inline uint32_t obx_resip_port_hash(uint32_t day, uint16_t port, uint8_t proto)
{
	return obx_src_hash(((uint32_t)port << 8 | proto) ^ (day * 0x9e3779b1u));
}

struct obs_resip_port_key {
	uint32_t day;
	uint16_t port;
	uint8_t proto;
};

static inline bool obs_resip_port_match(const void *rec, const void *key)
{
	const struct obx_resip_port_rec *r = rec;
	const struct obs_resip_port_key *k = key;

	return r->day == k->day && r->port == k->port && r->proto == k->proto;
}

static inline bool obs_resip_port_used(const void *rec)
{
	return ((const struct obx_resip_port_rec *)rec)->packets != 0;
}

/* Count one RESIP packet (stage 5).  Follows epoch.h's pointer rule. */
static inline void obs_resip_port_add(struct obs_epoch *e, uint8_t proto_idx, uint16_t dport,
                                      uint64_t t, uint64_t sensor_bit)
{
	const struct obs_resip_port_key k = {
		.day = (uint32_t)(t / OBX_DAY_NS),
		.port = proto_idx == OBX_P_TCP || proto_idx == OBX_P_UDP ? dport : 0,
		.proto = proto_idx,
	};
	const uint32_t h = obx_resip_port_hash(k.day, k.port, k.proto);
	struct obx_resip_port_rec *r;

	for (;;) {
		switch (obs_epoch_find_or_insert(e, OBX_TAB_RESIP_PORT, h, &k, obs_resip_port_match,
		                                 obs_resip_port_used, sizeof(*r), (void **)&r)) {
		case OBS_EPOCH_FOUND:
			r->packets++;
			r->sensor_mask |= sensor_bit;
			return;
		case OBS_EPOCH_NEW:
			r->day = k.day;
			r->port = k.port;
			r->proto = k.proto;
			r->reserved0 = 0;
			r->sensor_mask = sensor_bit;
			r->reserved1 = 0;
			r->packets = 1;
			(*obs_epoch_n_used(e, OBX_TAB_RESIP_PORT))++;
			return;
		case OBS_EPOCH_SWAPPED:
			continue;          /* every table is new: probe again */
		default:
			return;            /* absent kind (stage off) or lost (counted) */
		}
	}
}

#endif
