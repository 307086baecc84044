/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * events.h — the event records of the exchange (OBX_TAB_EVENT) and the event type ids
 * (SPEC.md C "Input": every telescope packet is an event of its source, at a sensor, with
 * an event type; a payload rule match refines the type).
 *
 * Both processes include this header (no DPDK, no Hyperscan, no control-plane types):
 * the worker adds records with obs_event_add() (events.c), the control plane reads them
 * when it drains a slot and feeds the lifetime analysis (control/cmd_life.c).
 *
 * One record per (source, UTC hour, sensor, event type) per epoch: count, first/last
 * packet time, and the type's category.  The hour is in the key for the same reason as
 * in the SRC record: no 24 h gap can hide inside one record however long an epoch grows.
 *
 * Event type ids (uint32):
 *   bit 31 clear: a payload rule's sid (1 .. 2^31-1), category from the rule;
 *   bit 31 set:   a packet class, (class << 16) | port, category Scan (SPEC C: packet
 *                 classes without a rule count as Scan).  The port is the destination
 *                 port for probes (tcp-syn, tcp, udp), the source port for backscatter
 *                 (tcp-synack, tcp-rst: the victim's service), the ICMP type for icmp,
 *                 the IP protocol for ip, 0 for the named ICMP kinds.
 * A packet whose payload matched rules is one event per matched rule (its class is not
 * recorded then); otherwise one event of its class.
 *
 * Excluded sources (exclusion lists, SPEC C) never get event records: the worker checks
 * exclusion before this stage.  Their SRC records still exist, flagged
 * OBX_SRC_F_EXCLUDED, so `sources.top` shows them marked; the lifetime consumer skips
 * every flagged record, so they never enter the analysis.
 */
#ifndef OBSCURA_EVENTS_H
#define OBSCURA_EVENTS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "epoch.h"
#include "exchange.h"
#include "parse.h"

struct obx_event_rec {
	uint32_t addr;        /* IPv4 source, host order */
	uint32_t hour;        /* packet time / OBX_HOUR_NS */
	uint32_t type;        /* event type id (above) */
	uint8_t  sensor;      /* sensor index (config order) */
	uint8_t  category;    /* enum obs_cat (rules.h order; 0 = Scan) */
	uint16_t reserved;
	uint64_t count;       /* events in this epoch; 0 = empty record */
	uint64_t first_ns;    /* packet time of the first/last of them */
	uint64_t last_ns;
};

_Static_assert(sizeof(struct obx_event_rec) == OBX_REC_SIZE_EVENT, "event record size");

#define OBS_EV_CLASS_BIT 0x80000000u

enum obs_ev_class {
	OBS_EVC_NONE = 0,
	OBS_EVC_TCP_SYN,      /* SYN without ACK /dport */
	OBS_EVC_TCP_SYNACK,   /* backscatter /sport */
	OBS_EVC_TCP_RST,      /* backscatter /sport */
	OBS_EVC_TCP,          /* any other TCP /dport */
	OBS_EVC_UDP,          /* /dport */
	OBS_EVC_ICMP_ECHO,    /* echo request */
	OBS_EVC_ICMP_UNREACH, /* backscatter */
	OBS_EVC_ICMP_TIMEX,   /* backscatter */
	OBS_EVC_ICMP,         /* other ICMP /type */
	OBS_EVC_IP,           /* other IP protocol /proto */
	OBS_EVC_N
};
#define OBS_EVC_NAMES { "none", "tcp-syn", "tcp-synack", "tcp-rst", "tcp", "udp", \
	"icmp-echo", "icmp-unreach", "icmp-timex", "icmp", "ip" }

static inline uint32_t obs_ev_class_id(unsigned cls, unsigned port)
{
	return OBS_EV_CLASS_BIT | (uint32_t)cls << 16 | (port & 0xffffu);
}

static inline int obs_ev_is_class(uint32_t type)
{
	return (type & OBS_EV_CLASS_BIT) != 0;
}

/* The packet class event type of a parsed telescope packet. */
static inline uint32_t obs_ev_class_of(const struct obs_pkt_meta *m)
{
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

/* "tcp-syn/23", "icmp-echo", "sid:2010935".  Returns snprintf's value. */
static inline int obs_ev_name(uint32_t type, char *buf, size_t n)
{
	static const char *const names[] = OBS_EVC_NAMES;
	unsigned cls = (type >> 16) & 0x7fffu, port = type & 0xffffu;

	if (!obs_ev_is_class(type))
		return snprintf(buf, n, "sid:%u", type);
	if (cls >= OBS_EVC_N)
		return snprintf(buf, n, "class%u/%u", cls, port);
	if (cls == OBS_EVC_ICMP_ECHO || cls == OBS_EVC_ICMP_UNREACH || cls == OBS_EVC_ICMP_TIMEX)
		return snprintf(buf, n, "%s", names[cls]);
	return snprintf(buf, n, "%s/%u", names[cls], port);
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
