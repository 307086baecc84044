/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * parse.c — the L2-L4 parser of the hot path (see parse.h).
 *
 * Pure and stateless: any worker may call it on any frame, and it is the fuzz target.
 * Every read is preceded by a length check against what is known to be present, so a
 * frame of len bytes is never read past len whatever its contents.  Multi-byte fields
 * are read with fixed-size memcpy (one unaligned load after optimisation) and byte
 * swapped; there are no loops except the bounded VLAN tag walk.
 *
 * Checks follow RFC 791 (IPv4), RFC 9293 (TCP), RFC 768 (UDP), RFC 792 (ICMP) and
 * IEEE 802.1Q (0x8100 C-tag, 0x88a8 S-tag).  Fragments (RFC 791 MF / fragment
 * offset) are counted, not reassembled: a first fragment (MF, offset 0) is parsed like a
 * whole datagram, except that the UDP length may exceed the fragment and an L4 header not
 * whole on the wire is a malformed fragment; a later fragment (offset != 0) has no L4
 * header, so ports, flags and ICMP type/code are 0 and frag says so.  Rejected as
 * OBX_DROP_FRAGMENT ("malformed fragment") only: offset * 8 + data past 65535 bytes, or a
 * first fragment too short for its L4 header (RFC 1858's tiny-fragment case).
 */
#include <string.h>

#include "parse.h"

#define ETH_HLEN        14u
#define ETH_P_IPV4      0x0800u
#define ETH_P_8021Q     0x8100u
#define ETH_P_8021AD    0x88a8u
#define VLAN_HLEN       4u
#define VLAN_MAX_TAGS   2u

#define IP_MF           0x2000u
#define IP_OFFMASK      0x1fffu

#define PROTO_ICMP      1u
#define PROTO_TCP       6u
#define PROTO_UDP       17u

static inline uint16_t rd16(const uint8_t *p)
{
	uint16_t v;
	memcpy(&v, p, sizeof(v));
	return __builtin_bswap16(v);
}

static inline uint32_t rd32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, sizeof(v));
	return __builtin_bswap32(v);
}

int obs_parse(const uint8_t *frame, uint32_t len, struct obs_pkt_meta *m)
{
	return obs_parse_snap(frame, len, len, m);
}

int obs_parse_snap(const uint8_t *frame, uint32_t len, uint32_t wire_len, struct obs_pkt_meta *m)
{
	uint32_t off = ETH_HLEN - 2;   /* offset of the (next) ethertype field */
	uint16_t et;
	unsigned n_vlan = 0;

	if (len < ETH_HLEN)
		return OBX_DROP_TRUNC_L2;
	et = rd16(frame + off);
	/* 802.1ad S-tag then 802.1Q C-tag (QinQ), or a single tag of either kind. */
	while (et == ETH_P_8021Q || et == ETH_P_8021AD) {
		if (n_vlan == VLAN_MAX_TAGS)
			return OBX_DROP_VLAN_DEPTH;
		off += VLAN_HLEN;
		if (len < off + 2)
			return OBX_DROP_TRUNC_L2;
		et = rd16(frame + off);
		n_vlan++;
	}
	if (et != ETH_P_IPV4)
		return OBX_DROP_NOT_IPV4;
	off += 2;

	/* IPv4 header: off is its start, len - off the bytes present from there.  The
	 * frame on the wire may be longer than what was captured (snaplen): lengths are
	 * checked against the wire, reads against what is present. */
	if (wire_len < len)
		wire_len = len;
	uint32_t avail = len - off;
	if (avail < 20)
		return OBX_DROP_TRUNC_IP;
	const uint8_t *ip = frame + off;
	if ((ip[0] >> 4) != 4)
		return OBX_DROP_BAD_VERSION;
	uint32_t ihl = (uint32_t)(ip[0] & 0x0f) * 4;
	if (ihl < 20)
		return OBX_DROP_BAD_IHL;
	if (ihl > avail)
		return OBX_DROP_TRUNC_IP;
	uint32_t tot = rd16(ip + 2);
	/* Bytes beyond tot are Ethernet padding (minimum frame size) and ignored. */
	if (tot < ihl || tot > wire_len - off)
		return OBX_DROP_BAD_TOTLEN;
	const uint32_t fo = rd16(ip + 6);
	const uint32_t frag_off = (fo & IP_OFFMASK) * 8u;
	if (frag_off + tot > 65535u)
		return OBX_DROP_FRAGMENT;   /* reassembled datagram past 65535 bytes */

	m->src = rd32(ip + 12);
	m->dst = rd32(ip + 16);
	m->proto = ip[9];
	m->n_vlan = (uint8_t)n_vlan;
	m->ip_len = (uint16_t)tot;
	m->sport = 0;
	m->dport = 0;
	m->tcp_flags = 0;
	m->tcp_seq = 0;
	m->icmp_type = 0;
	m->icmp_code = 0;
	m->frag = frag_off != 0 ? OBS_FRAG_LATER : (fo & IP_MF) ? OBS_FRAG_FIRST : OBS_FRAG_NONE;
	m->ip_id = (uint16_t)rd16(ip + 4);
	m->ttl = ip[8];
	m->tcp_hlen = 0;
	m->tcp_win = 0;
	m->tcp_off = 0;

	/* L4 lives in [l4, off + tot): l4len bytes on the wire, of which the bytes up to
	 * `end` are present.  A header field is read only when present (else trunc_l4). */
	const uint8_t *l4 = ip + ihl;
	uint32_t l4off = off + ihl;
	uint32_t l4len = tot - ihl;
	uint32_t end = off + tot < len ? off + tot : len;
	uint32_t hlen;

	if (m->frag == OBS_FRAG_LATER) {
		/* no L4 header here: nothing of it is read, and the data (the middle of an
		 * L4 payload) is not offered as a payload */
		m->proto_idx = m->proto == PROTO_TCP ? OBX_P_TCP : m->proto == PROTO_UDP ? OBX_P_UDP :
		               m->proto == PROTO_ICMP ? OBX_P_ICMP : OBX_P_OTHER;
		m->payload_off = (uint16_t)l4off;
		m->payload_len = 0;
		return -1;
	}
	/* a first fragment whose L4 header does not fit its own data on the wire is
	 * malformed (tiny fragment); one that fits but was captured short is trunc_l4 */
	const uint32_t need = m->proto == PROTO_TCP ? 20u :
	                      (m->proto == PROTO_UDP || m->proto == PROTO_ICMP) ? 8u : 0u;
	if (m->frag == OBS_FRAG_FIRST && l4len < need)
		return OBX_DROP_FRAGMENT;

	switch (m->proto) {
	case PROTO_TCP:
		if (l4len < 20 || l4off + 20 > end)
			return OBX_DROP_TRUNC_L4;
		hlen = (uint32_t)(l4[12] >> 4) * 4;
		if (hlen < 20)
			return OBX_DROP_BAD_L4;
		if (hlen > l4len)
			return m->frag == OBS_FRAG_FIRST ? OBX_DROP_FRAGMENT : OBX_DROP_BAD_L4;
		m->sport = rd16(l4);
		m->dport = rd16(l4 + 2);
		m->tcp_seq = rd32(l4 + 4);
		m->tcp_flags = l4[13];
		m->tcp_win = (uint16_t)rd16(l4 + 14);
		m->tcp_hlen = (uint8_t)hlen;
		m->tcp_off = (uint16_t)l4off;
		m->proto_idx = OBX_P_TCP;
		break;
	case PROTO_UDP: {
		if (l4len < 8 || l4off + 8 > end)
			return OBX_DROP_TRUNC_L4;
		uint32_t ulen = rd16(l4 + 4);
		/* a first fragment's UDP length is the whole datagram's: it may exceed
		 * the fragment, never the largest datagram */
		if (ulen < 8 || (m->frag == OBS_FRAG_NONE ? ulen > l4len : ulen > 65535u - ihl))
			return OBX_DROP_BAD_L4;
		hlen = 8;
		m->sport = rd16(l4);
		m->dport = rd16(l4 + 2);
		m->proto_idx = OBX_P_UDP;
		break;
	}
	case PROTO_ICMP:
		/* type, code, checksum and the 4-byte rest-of-header (id/seq for echo) */
		if (l4len < 8 || l4off + 8 > end)
			return OBX_DROP_TRUNC_L4;
		hlen = 8;
		m->icmp_type = l4[0];
		m->icmp_code = l4[1];
		m->proto_idx = OBX_P_ICMP;
		break;
	default:
		hlen = 0;
		m->proto_idx = OBX_P_OTHER;
		break;
	}
	/* l4off + hlen <= off + tot <= 22 + 65535: payload_off fits 16 bits only because
	 * it is at most l4off + 60 (off <= 22, ihl <= 60, hlen <= 60). */
	m->payload_off = (uint16_t)(l4off + hlen);
	m->payload_len = (uint16_t)(end > l4off + hlen ? end - (l4off + hlen) : 0);
	return -1;
}
