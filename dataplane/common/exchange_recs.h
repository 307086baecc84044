/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * exchange_recs.h — the records of the exchange's analysis tables (exchange.h kinds
 * CELL, BITMAP, RESIP_PORT, EVENT) and the event type ids: the formats the control plane
 * decodes when it drains a slot.  Part of the exchange contract: both processes include
 * it; it holds no DPDK, worker or control-plane types and no code but pure helpers.
 *
 * How the worker fills these tables (hashes, probing, the pointer rule) is the
 * dataplane's own business: dataplane/coverage.h, resip_port.h, events.h.  The SRC record
 * is in exchange.h with the slot layout.
 *
 * Every record follows docs/exchange.md "Rules for a kind": rec_size a multiple of 8; a
 * count field (syns, packets, count) non-zero in every record in use; an unused record
 * all zero bytes.  Each size is _Static_assert'ed against OBX_REC_SIZE_<KIND>.
 */
#ifndef OBSCURA_EXCHANGE_RECS_H
#define OBSCURA_EXCHANGE_RECS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "exchange.h"

/* ------------------------------------------------------- CELL, BITMAP (SPEC A) --- */
/*
 * One coverage cell per (source block /L, IP protocol, destination port, period) per
 * epoch: SYN packets, Mirai-fingerprint SYNs (TCP sequence number == destination
 * address, SPEC A10), and the coverage-sample slots hit — inline while there are at most
 * OBX_CELL_INLINE of them, then in a BITMAP pool entry of |S| bits (rec_size = |S|/8
 * rounded up to 64 bytes, published in the header's tab_rec_size[OBX_TAB_BITMAP]; the
 * sample size, block length and period unit are in the header's cov_* fields).  The
 * period is in the key so an epoch that straddles a period boundary still splits exactly.
 *
 * What counts (SPEC.md A "Input"): TCP, SYN set, ACK clear, destination in D.  SYNs to
 * destinations outside the sample S count in syns/mirai but add no slot.
 */
#define OBX_CELL_INLINE    9u
#define OBX_CELL_F_BITMAP  0x1u   /* slots are in BITMAP entry `bitmap`, not inline */
#define OBX_CELL_F_SCANNER 0x2u   /* a packet of the cell came from a scanner-table source */

struct obx_cell_rec {
	uint32_t block;       /* source & /L mask, host order */
	uint32_t period;      /* obs_period_index() (period.h) of the packet time */
	uint16_t dport;
	uint8_t  proto;       /* 6 */
	uint8_t  flags;       /* OBX_CELL_F_* */
	uint32_t syns;        /* SYN packets in this epoch; 0 = empty record */
	uint32_t mirai;       /* of which seq == dst */
	uint16_t n_inline;    /* slots in inline[] (when not OBX_CELL_F_BITMAP) */
	uint16_t reserved;
	uint32_t bitmap;      /* BITMAP pool index (when OBX_CELL_F_BITMAP), this slot only */
	uint32_t inline_slot[OBX_CELL_INLINE];
};

_Static_assert(sizeof(struct obx_cell_rec) == OBX_REC_SIZE_CELL, "a cell record is one cache line");

/* BITMAP entry size for a sample of s slots: s bits rounded up to 64 bytes. */
static inline uint32_t obx_bitmap_rec_size(uint32_t s)
{
	uint32_t b = (s + 7) / 8;
	return b < 64 ? 64 : (b + 63) & ~63u;
}

/* ------------------------------------------------------------ RESIP_PORT (SPEC B2) --- */
/*
 * RESIP traffic (SPEC B1: the source is in the RESIP table and, with resip.window_check,
 * the packet time lies in one of its rows' observation windows) counted per (protocol,
 * destination port, UTC day).  port is the TCP/UDP destination port, 0 for ICMP and other
 * protocols; proto is enum obx_proto_idx.
 */
#define OBX_DAY_NS 86400000000000ull

struct obx_resip_port_rec {
	uint32_t day;           /* packet time / 86400 s, UTC */
	uint16_t port;          /* destination port; 0 for ICMP / other */
	uint8_t  proto;         /* enum obx_proto_idx */
	uint8_t  reserved0;
	uint64_t packets;       /* RESIP packets; 0 = empty record */
	uint64_t sensor_mask;   /* bit i: sensor i saw one of them */
	uint64_t reserved1;
};
_Static_assert(sizeof(struct obx_resip_port_rec) == OBX_REC_SIZE_RESIP_PORT,
               "exchange.h OBX_REC_SIZE_RESIP_PORT");

/* ------------------------------------------------------------------ EVENT (SPEC C) --- */
/*
 * SPEC.md C "Input": every telescope packet is an event of its source, at a sensor, with
 * an event type; a payload rule match refines the type.  One record per (source, UTC
 * hour, sensor, event type) per epoch: count, first/last packet time, and the type's
 * category.  The hour is in the key for the same reason as in the SRC record: no 24 h
 * gap can hide inside one record however long an epoch grows.  A source record's inline
 * event (exchange.h, ev_mode OBX_SRC_EV_INLINE) is one more such record, carried in the
 * SRC table: a consumer reads both.
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
 * Excluded sources (exclusion lists, SPEC C) never get event records.  Their SRC records
 * still exist, flagged OBX_SRC_F_EXCLUDED; the lifetime consumer skips them.
 */
struct obx_event_rec {
	uint32_t addr;        /* IPv4 source, host order */
	uint32_t hour;        /* packet time / OBX_HOUR_NS */
	uint32_t type;        /* event type id (above) */
	uint8_t  sensor;      /* sensor index (config order) */
	uint8_t  category;    /* enum obs_cat (rules_parse.h order; 0 = Scan) */
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
	OBS_EVC_TCP_SESSION,  /* responder (issue 13): a completed handshake /dport (SPEC C) */
	OBS_EVC_N
};
#define OBS_EVC_NAMES { "none", "tcp-syn", "tcp-synack", "tcp-rst", "tcp", "udp", \
	"icmp-echo", "icmp-unreach", "icmp-timex", "icmp", "ip", \
	"tcp-session" /* responder (issue 13) */ }

static inline uint32_t obs_ev_class_id(unsigned cls, unsigned port)
{
	return OBS_EV_CLASS_BIT | (uint32_t)cls << 16 | (port & 0xffffu);
}

static inline int obs_ev_is_class(uint32_t type)
{
	return (type & OBS_EV_CLASS_BIT) != 0;
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

/* ------------------------------------------------ DOS backscatter (docs/dos.md) --- */
/*
 * Backscatter (Moore et al., ACM TOCS 24(2) 2006, Table I): the replies a victim of a
 * spoofed-source attack sends to the spoofed (here: dark) addresses.  A telescope packet
 * is backscatter when it is, with its L4 header present (not a later fragment):
 *   TCP with SYN and ACK set, or with RST set (RST, RST+ACK);
 *   ICMP of type 0 echo reply, 3 unreachable, 4 source quench, 5 redirect, 11 time
 *   exceeded, 12 parameter problem, 14 timestamp reply, 16 information reply, 18
 *   address mask reply.
 * Its source is the victim.  The worker counts it (counters reserved[OBX_CTR_BACKSCATTER])
 * and adds it to the record of (victim, UTC minute) below, unless the source is excluded.
 */
#define OBX_BS_ICMP_TYPES ((1u << 0) | (1u << 3) | (1u << 4) | (1u << 5) | (1u << 11) | \
	(1u << 12) | (1u << 14) | (1u << 16) | (1u << 18))
#define OBX_DOS_PORTS    3u     /* distinct victim ports kept per record */
#define OBX_DOS_DARK_W   3u     /* 64-bit words of the dark-address bitmap (192 bits) */
#define OBX_MINUTE_NS    60000000000ull

/* 1 when a packet of this protocol / TCP flags / ICMP type is backscatter (above);
 * later fragments are never (the caller passes later = 1). */
static inline int obx_is_backscatter(uint8_t proto, uint8_t tcp_flags, uint8_t icmp_type,
                                     int later)
{
	if (later)
		return 0;
	if (proto == 6)
		return (tcp_flags & 0x12) == 0x12 || (tcp_flags & 0x04) != 0;
	if (proto == 1)
		return icmp_type < 32 && ((OBX_BS_ICMP_TYPES >> icmp_type) & 1u);
	return 0;
}

/*
 * One record per (victim, UTC minute) per epoch.  ports: the victim's source ports of its
 * TCP replies, the first OBX_DOS_PORTS distinct ones in packet order (0 = none; ICMP
 * replies have no port); n_ports counts distinct ports (saturating at 255, exact while
 * <= OBX_DOS_PORTS, a lower bound after: a port not in ports[] is counted again).
 * proto_mask: bit per enum obx_proto_idx seen.  dark: a bitmap of 192 bits, bit
 * obx_dos_dark_bit(dst) set per dark address hit (mergeable by OR; docs/dos.md's
 * linear-counting estimate of the distinct addresses).
 */
struct obx_dos_rec {
	uint32_t victim;      /* IPv4 source, host order */
	uint32_t minute;      /* packet time / OBX_MINUTE_NS */
	uint64_t packets;     /* backscatter packets; 0 = empty record */
	uint64_t first_ns;
	uint64_t last_ns;
	uint64_t dark[OBX_DOS_DARK_W];
	uint16_t ports[OBX_DOS_PORTS];
	uint8_t  proto_mask;
	uint8_t  n_ports;
};

_Static_assert(sizeof(struct obx_dos_rec) == OBX_REC_SIZE_DOS, "dos record size");

static inline uint32_t obx_dos_hash(uint32_t victim, uint32_t minute)
{
	return obx_src_hash(victim) + minute * 0x9e3779b1u;
}

/* An event type (a packet class, above) that is backscatter: tcp-synack, tcp-rst,
 * icmp-unreach, icmp-timex, and icmp/TYPE of a reply type above.  The lifetime analysis
 * labels these "Backscatter", not "Scan" (docs/dos.md). */
static inline int obs_ev_is_backscatter(uint32_t type)
{
	unsigned cls = (type >> 16) & 0x7fffu, arg = type & 0xffffu;

	if (!obs_ev_is_class(type))
		return 0;
	if (cls == OBS_EVC_TCP_SYNACK || cls == OBS_EVC_TCP_RST || cls == OBS_EVC_ICMP_UNREACH ||
	    cls == OBS_EVC_ICMP_TIMEX)
		return 1;
	return cls == OBS_EVC_ICMP && arg < 32 && ((OBX_BS_ICMP_TYPES >> arg) & 1u);
}

/* The dark-address bitmap bit of destination dst: obx_src_hash(dst) mod 192. */
static inline unsigned obx_dos_dark_bit(uint32_t dst)
{
	return obx_src_hash(dst) % (64u * OBX_DOS_DARK_W);
}

/* ---------------------------------------------------- RESP (responder, issue 13) --- */
/*
 * One record per (source, responder address, destination port, UTC hour, sensor) per
 * epoch: completed handshakes of the all-port responder (docs/scan.md "Responder").  A
 * handshake is complete when an ACK or data segment from src to dst:dport carries
 * ack - 1 == the SYN cookie the responder sent; count is those segments that were the
 * handshake's ACK (or the first data segment when it carried the handshake).  With
 * responder.payload_bytes > 0 the first data segment's payload is scanned by the payload
 * rules and up to min(payload_bytes, OBX_RESP_PAYLOAD) of its bytes are kept in the
 * record the first time the key sees one in the epoch (OBX_RESP_F_PAYLOAD); the first
 * matching rule's sid goes to sid (OBX_RESP_F_RULE).  count == 0: empty record.
 */
#define OBX_RESP_PAYLOAD   80u
#define OBX_RESP_F_PAYLOAD 0x1u   /* payload[] holds payload_len bytes of a first data segment */
#define OBX_RESP_F_RULE    0x2u   /* a payload rule matched: sid is the first that did */

struct obx_resp_rec {
	uint32_t src;         /* client IPv4, host order */
	uint32_t dst;         /* responder address (in H), host order */
	uint16_t dport;       /* the port the client connected to */
	uint8_t  sensor;      /* sensor of dst (config order) */
	uint8_t  flags;       /* OBX_RESP_F_* */
	uint32_t hour;        /* packet time / OBX_HOUR_NS */
	uint64_t count;       /* completed handshakes in this epoch; 0 = empty record */
	uint64_t first_ns;    /* packet time of the first / last of them */
	uint64_t last_ns;
	uint32_t sid;         /* first matching rule's sid (OBX_RESP_F_RULE), else 0 */
	uint16_t payload_len; /* bytes in payload[] (0..OBX_RESP_PAYLOAD) */
	uint16_t seg_len;     /* that data segment's payload length as received */
	uint8_t  payload[OBX_RESP_PAYLOAD];
};
_Static_assert(sizeof(struct obx_resp_rec) == OBX_REC_SIZE_RESP, "exchange.h OBX_REC_SIZE_RESP");

/* ------------------------ FPSIG: JA4T-style SYN signatures (issue 14, fingerprint) --- */
/*
 * The TCP shape of a SYN no fingerprint rule labels (docs/fingerprints.md "Signatures"):
 * window, the option kinds in order, MSS, window scale.  Its string is JA4T-style
 * W_K1-K2-..._M_S (common/fpsig.h).  The key is a fixed packing with no padding: two
 * equal shapes have equal bytes, and the records compare keys with memcmp.
 */
#define OBX_FPSIG_KINDS  40u     /* a 40-byte option area holds at most 40 kinds */
#define OBX_FPSIG_HLL    64u     /* HyperLogLog registers of a record's sources */
#define OBX_FPSIG_F_MSS  0x1u    /* an MSS option (kind 2, length 4) carried mss */
#define OBX_FPSIG_F_WS   0x2u    /* a window-scale option (kind 3, length 3) carried ws */
#define OBX_FPSIG_F_BAD  0x4u    /* the option area was malformed (a length byte of 0 or
                                  * 1, past the area, or cut by the capture): kinds[]
                                  * stops at the kind whose length was bad */

struct obx_fpsig_key {
	uint16_t win;         /* TCP window (host order) */
	uint16_t mss;         /* with OBX_FPSIG_F_MSS, else 0 */
	uint8_t  ws;          /* with OBX_FPSIG_F_WS, else 0 */
	uint8_t  flags;       /* OBX_FPSIG_F_* */
	uint8_t  n_kinds;     /* kinds before EOL (NOP = 1 included) */
	uint8_t  n_eol;       /* bytes from an EOL to the end of the option area (0: no EOL) */
	uint8_t  kinds[OBX_FPSIG_KINDS];   /* the first n_kinds used, the rest 0 */
};
_Static_assert(sizeof(struct obx_fpsig_key) == 48, "fpsig key: no padding");

/*
 * One record per signature per epoch and worker.  sig = obx_fpsig_hash(&key) (the
 * probe's hash, and the 32-bit id ctl shows); syns: SYNs with this shape in the epoch
 * (0: empty record); hll: HyperLogLog registers of their sources (register
 * obx_fpsig_hll_reg(src), value the rank, mergeable by max; common/fpsig.h estimates).
 */
struct obx_fpsig_rec {
	struct obx_fpsig_key key;
	uint32_t sig;
	uint32_t syns;
	uint8_t  hll[OBX_FPSIG_HLL];
};
_Static_assert(sizeof(struct obx_fpsig_rec) == OBX_REC_SIZE_FPSIG, "exchange.h OBX_REC_SIZE_FPSIG");

/* The 32-bit mix of a key: its six 64-bit words, multiply-xorshift. */
static inline uint32_t obx_fpsig_hash(const struct obx_fpsig_key *k)
{
	uint64_t w, h = 0x9e3779b97f4a7c15ull;

	for (unsigned i = 0; i < sizeof(*k) / 8; i++) {
		memcpy(&w, (const uint8_t *)k + 8 * i, 8);
		h = (h ^ w) * 0xff51afd7ed558ccdull;
		h ^= h >> 32;
	}
	return (uint32_t)(h ^ (h >> 29));
}

/* A source's HyperLogLog register update: r[idx] = max(r[idx], rank). */
static inline void obx_fpsig_hll_add(uint8_t *hll, uint32_t src)
{
	uint64_t h = ((uint64_t)src + 0x632be59bd9b4e019ull) * 0x9e3779b97f4a7c15ull;
	unsigned idx, rank;

	h ^= h >> 31;
	h *= 0xbf58476d1ce4e5b9ull;
	h ^= h >> 29;
	idx = (unsigned)(h >> 58);                       /* 6 bits: 64 registers */
	rank = (unsigned)__builtin_clzll((h << 6) | (1ull << 5)) + 1u;   /* 1..59 */
	if (hll[idx] < rank)
		hll[idx] = (uint8_t)rank;
}

#endif /* OBSCURA_EXCHANGE_RECS_H */
