/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * events.h — the worker's event stage (OBX_TAB_EVENT, SPEC.md C): the packet-class event
 * type of a parsed packet and obs_event_add() (events.c).  The record and the event type
 * ids are part of the exchange contract (common/exchange_recs.h); the hash is how the
 * worker probes its table.  Worker only.
 *
 * Excluded sources (exclusion lists, SPEC C) never get event records: the worker checks
 * exclusion before this stage.
 */
#ifndef OBSCURA_EVENTS_H
#define OBSCURA_EVENTS_H

#include <stdint.h>

#include "epoch.h"
#include "exchange.h"
#include "exchange_recs.h"
#include "parse.h"

/* The packet class event type of a parsed telescope packet. */
static inline uint32_t obs_ev_class_of(const struct obs_pkt_meta *m)
{
	/* a later fragment has no L4 header: "ip/<proto>", never a SYN or a reply type */
	if (m->frag == OBS_FRAG_LATER)
		return obs_ev_class_id(OBS_EVC_IP, m->proto);
	switch (m->proto) {
	case 6:
		if ((m->tcp_flags & (OBS_TCP_SYN | OBS_TCP_ACK)) == OBS_TCP_SYN)
			return obs_ev_class_id(OBS_EVC_TCP_SYN, m->dport);
		if ((m->tcp_flags & (OBS_TCP_SYN | OBS_TCP_ACK)) == (OBS_TCP_SYN | OBS_TCP_ACK))
			return obs_ev_class_id(OBS_EVC_TCP_SYNACK, m->sport);
		if (m->tcp_flags & OBS_TCP_RST)
			return obs_ev_class_id(OBS_EVC_TCP_RST, m->sport);
		return obs_ev_class_id(OBS_EVC_TCP, m->dport);
	case 17:
		return obs_ev_class_id(OBS_EVC_UDP, m->dport);
	case 1:
		switch (m->icmp_type) {
		case 8: return obs_ev_class_id(OBS_EVC_ICMP_ECHO, 0);
		case 3: return obs_ev_class_id(OBS_EVC_ICMP_UNREACH, 0);
		case 11: return obs_ev_class_id(OBS_EVC_ICMP_TIMEX, 0);
		default: return obs_ev_class_id(OBS_EVC_ICMP, m->icmp_type);
		}
	default:
		return obs_ev_class_id(OBS_EVC_IP, m->proto);
	}
}

static inline uint32_t obx_event_hash(uint32_t addr, uint32_t hour, uint32_t type, uint8_t sensor)
{
	uint64_t x = ((uint64_t)addr << 32 | type) ^ ((uint64_t)hour * 0x9e3779b97f4a7c15ull) ^
	             ((uint64_t)sensor << 56);

	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	return (uint32_t)x;
}

struct obs_epoch;

/*
 * Worker: one event of src at packet time t, by sensor, of type and category, into the
 * filling slot's EVENT table (epoch.h's pointer rule: reserve before a new record, re-probe
 * after a swap).  No room: counted in lost_updates.  Absent table: nothing (the exchange
 * was created without events).
 */
void obs_event_add(struct obs_epoch *e, uint32_t src, uint64_t t, uint8_t sensor, uint32_t type,
                   uint8_t category);

#endif /* OBSCURA_EVENTS_H */
