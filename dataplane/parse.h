/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * parse.h — pure L2-L4 parser: Ethernet (802.1Q / 802.1ad, up to two tags), IPv4,
 * TCP / UDP / ICMP into a packet-meta record.  No DPDK, no allocation, no state:
 * callable from any thread, and the fuzz target.  Every rejection names its reason
 * (enum obx_drop in exchange.h); nothing past a failed check is read.
 */
#ifndef OBSCURA_PARSE_H
#define OBSCURA_PARSE_H

#include <stdint.h>
#include "exchange.h"

struct obs_pkt_meta {
	uint32_t src;          /* IPv4 source, host byte order */
	uint32_t dst;          /* IPv4 destination, host byte order */
	uint16_t sport;        /* TCP/UDP ports, host order; 0 for others */
	uint16_t dport;
	uint8_t  proto;        /* IP protocol number */
	uint8_t  proto_idx;    /* enum obx_proto_idx */
	uint8_t  tcp_flags;    /* TCP flags byte (FIN=0x01 SYN=0x02 RST=0x04 PSH=0x08 ACK=0x10 URG=0x20) */
	uint8_t  icmp_type;
	uint8_t  icmp_code;
	uint8_t  n_vlan;       /* 0, 1 or 2 */
	uint16_t ip_len;       /* IPv4 total length */
	uint32_t tcp_seq;      /* host order */
	uint16_t payload_off;  /* offset of the L4 payload from the frame start */
	uint16_t payload_len;  /* L4 payload bytes present (bounded by ip_len and the bytes captured) */
	uint32_t frag;         /* enum obs_frag: whole datagram, first or later fragment (a
	                        * whole word: the struct has no padding bytes to compare) */
	/* --- fingerprint inputs (issue 14; docs/fingerprints.md) --- */
	uint16_t ip_id;        /* IPv4 identification, host order */
	uint8_t  ttl;
	uint8_t  tcp_hlen;     /* TCP header bytes (20..60); 0 for other protocols */
	uint16_t tcp_win;      /* TCP window, host order */
	uint16_t tcp_off;      /* offset of the TCP header from the frame start */
};

/* IPv4 fragments (RFC 791): a first fragment (MF set, offset 0) carries the L4 header
 * and is parsed with it; a later one (offset != 0) has ports, flags, ICMP type/code 0 and
 * payload_len 0 (its bytes are the middle of a payload). */
enum obs_frag {
	OBS_FRAG_NONE  = 0,
	OBS_FRAG_FIRST = 1,
	OBS_FRAG_LATER = 2,
};

#define OBS_TCP_FIN 0x01
#define OBS_TCP_SYN 0x02
#define OBS_TCP_RST 0x04
#define OBS_TCP_ACK 0x10

/*
 * Parse one frame of len bytes.  Returns -1 on success (meta filled) or the
 * enum obx_drop reason (>= 0) on rejection, in which case meta is unspecified.
 */
int obs_parse(const uint8_t *frame, uint32_t len, struct obs_pkt_meta *meta);

/*
 * The same for a frame captured short (pcap snaplen, or an mbuf whose first segment
 * holds the headers): len bytes are present, wire_len were on the wire.  IPv4 lengths
 * are checked against wire_len, so a 96-byte capture of a 1500-byte packet is accepted;
 * fields are read only from the len present bytes (a missing L4 header is trunc_l4),
 * and payload_len counts present payload bytes only.  wire_len < len is taken as len.
 */
int obs_parse_snap(const uint8_t *frame, uint32_t len, uint32_t wire_len,
                   struct obs_pkt_meta *meta);

#endif
