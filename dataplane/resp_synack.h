/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * resp_synack.h — the responder's SYN-ACK, built from the SYN in the SYN's own buffer
 * (issue 13, docs/scan.md "The responder"): pure C, no DPDK, so the unit test
 * (tests/unit/test_resp_synack.c) and the worker share it.
 *
 * Both checksums are updated incrementally from the SYN's own (RFC 1624, eqn. 3:
 * HC' = ~(~HC + ~m + m')), never recomputed over the reply: the addresses and ports
 * only swap places (their one's complement sum does not change), so the update touches
 * the words that change (lengths, TTL, id, flags, sequence and acknowledgement numbers,
 * window, urgent pointer) and removes the SYN's IP and TCP options and any payload.
 * A SYN whose checksum was right gets a SYN-ACK whose checksums are right; a SYN whose
 * checksum was wrong gets a SYN-ACK whose checksum is wrong by the same amount, which
 * the client's stack drops like any corrupted segment: no connection comes of it and no
 * verification pass is spent on the good ones.
 *
 * Words are loaded in memory order (native integers of network bytes) and stored the
 * same way: the one's complement sum does not depend on byte order (RFC 1071 §2(B)).
 */
#ifndef OBSCURA_RESP_SYNACK_H
#define OBSCURA_RESP_SYNACK_H

#include <stdint.h>
#include <string.h>

#define OBS_SYNACK_L34 44u      /* IPv4 header 20 + TCP header 20 + the MSS option 4 */

static inline uint16_t obs_synack_ld16(const uint8_t *p)
{
	uint16_t x;

	memcpy(&x, p, 2);
	return x;
}

static inline uint32_t obs_synack_ld32(const uint8_t *p)
{
	uint32_t x;

	memcpy(&x, p, 4);
	return x;
}

static inline void obs_synack_st16(uint8_t *p, uint16_t x)
{
	memcpy(p, &x, 2);
}

static inline void obs_synack_st32(uint8_t *p, uint32_t x)
{
	memcpy(p, &x, 4);
}

/* A 16-bit big-endian constant as memory-order word / a 32-bit one. */
static inline uint16_t obs_synack_be16(uint16_t v)
{
	const uint8_t b[2] = { (uint8_t)(v >> 8), (uint8_t)v };

	return obs_synack_ld16(b);
}

static inline uint32_t obs_synack_be32(uint32_t v)
{
	const uint8_t b[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8),
	                       (uint8_t)v };

	return obs_synack_ld32(b);
}

/* The one's complement sum of a 64-bit accumulator, folded to 16 bits. */
static inline uint16_t obs_synack_fold(uint64_t s)
{
	s = (s & 0xffffffffull) + (s >> 32);
	s = (s & 0xffffull) + (s >> 16);
	s = (s & 0xffffull) + (s >> 16);
	s = (s & 0xffffull) + (s >> 16);
	return (uint16_t)s;
}

/* The one's complement sum (unfolded) of n bytes at p, an odd last byte padded with 0. */
static inline uint64_t obs_synack_sum(const uint8_t *p, uint32_t n)
{
	uint64_t s = 0;
	uint32_t i = 0;

	for (; i + 4 <= n; i += 4)
		s += obs_synack_ld32(p + i);
	if (i + 2 <= n) {
		s += obs_synack_ld16(p + i);
		i += 2;
	}
	if (i < n) {
		uint8_t b[2] = { p[i], 0 };

		s += obs_synack_ld16(b);
	}
	return s;
}

/* -x in one's complement for a 16-bit / 32-bit word (0xffffffff = 0xffff * 0x10001). */
#define OBS_SYNACK_NEG16(x) ((uint64_t)(uint16_t)~(x))
#define OBS_SYNACK_NEG32(x) ((uint64_t)(uint32_t)~(x))

/*
 * Turn the SYN of frame f into its SYN-ACK, in place: f + l3 is its IPv4 header (ihl
 * bytes, 20..60), followed by a TCP segment of tcp_len bytes (the IP total length less
 * ihl; at least its 20-byte header).  The caller checked that those bytes are present
 * and that the buffer holds l3 + OBS_SYNACK_L34 bytes.  The reply: MAC addresses
 * swapped (to the sender's MAC, from the one it used), VLAN tags as received; IPv4
 * without options (DF, TTL 64, id 0), addresses swapped; TCP ports swapped, seq =
 * cookie, ack = the SYN's seq + 1, SYN|ACK, window 65535, the MSS option.  Returns the
 * reply's frame length, l3 + OBS_SYNACK_L34.
 */
static inline uint32_t obs_synack_build(uint8_t *f, uint32_t l3, uint32_t ihl, uint32_t tcp_len,
                                        uint32_t cookie, uint16_t mss)
{
	uint8_t *ip = f + l3, *t = ip + ihl, mac[6];
	const uint16_t i_tot = obs_synack_ld16(ip + 2), i_ck = obs_synack_ld16(ip + 10);
	const uint16_t i_w0 = obs_synack_ld16(ip + 0);          /* version/ihl, tos */
	const uint32_t i_w1 = obs_synack_ld32(ip + 4), i_ttlp = obs_synack_ld16(ip + 8);
	const uint32_t src = obs_synack_ld32(ip + 12), dst = obs_synack_ld32(ip + 16);
	const uint16_t sport = obs_synack_ld16(t), dport = obs_synack_ld16(t + 2);
	const uint32_t seq = obs_synack_ld32(t + 4), ack = obs_synack_ld32(t + 8);
	const uint32_t t_w3 = obs_synack_ld32(t + 12);          /* offset/flags, window */
	const uint16_t t_ck = obs_synack_ld16(t + 16), t_urp = obs_synack_ld16(t + 18);
	const uint16_t n_w0 = obs_synack_be16(0x4500u);
	const uint32_t n_w1 = obs_synack_be32(0x00004000u);     /* id 0, DF */
	const uint16_t n_tot = obs_synack_be16(OBS_SYNACK_L34), n_ttlp = obs_synack_be16(64u << 8 | 6);
	const uint32_t n_seq = obs_synack_be32(cookie);
	const uint32_t n_ack = obs_synack_be32(((uint32_t)t[4] << 24 | (uint32_t)t[5] << 16 | (uint32_t)t[6] << 8 |
	                                                   t[7]) + 1u);
	const uint32_t n_w3 = obs_synack_be32(0x6012ffffu);     /* 24 bytes, SYN|ACK, 65535 */
	const uint32_t n_mss = obs_synack_be32(0x02040000u | mss);
	uint64_t a;

	/* IPv4: the version/ihl/tos word, total length, id/fragment word, TTL/protocol
	 * change and the options go; the addresses only swap */
	a = OBS_SYNACK_NEG16(i_ck) + OBS_SYNACK_NEG16(i_w0) + OBS_SYNACK_NEG16(i_tot) +
	    OBS_SYNACK_NEG32(i_w1) + OBS_SYNACK_NEG16(i_ttlp) + n_w0 + n_tot + n_w1 + n_ttlp;
	if (ihl > 20)
		a += OBS_SYNACK_NEG16(obs_synack_fold(obs_synack_sum(ip + 20, ihl - 20)));
	const uint16_t n_ick = (uint16_t)~obs_synack_fold(a);

	/* TCP: the pseudo-header's length, seq, ack, offset/flags/window and urgent pointer
	 * change, options and payload go, the MSS option comes; ports and addresses swap */
	a = OBS_SYNACK_NEG16(t_ck) + OBS_SYNACK_NEG16(obs_synack_be16((uint16_t)tcp_len)) +
	    OBS_SYNACK_NEG32(seq) + OBS_SYNACK_NEG32(ack) + OBS_SYNACK_NEG32(t_w3) +
	    OBS_SYNACK_NEG16(t_urp) + obs_synack_be16(OBS_SYNACK_L34 - 20) + n_seq + n_ack + n_w3 +
	    n_mss;
	if (tcp_len > 20)
		a += OBS_SYNACK_NEG16(obs_synack_fold(obs_synack_sum(t + 20, tcp_len - 20)));
	const uint16_t n_tck = (uint16_t)~obs_synack_fold(a);

	memcpy(mac, f, 6);
	memcpy(f, f + 6, 6);
	memcpy(f + 6, mac, 6);
	obs_synack_st16(ip + 0, n_w0);
	obs_synack_st16(ip + 2, n_tot);
	obs_synack_st32(ip + 4, n_w1);
	obs_synack_st16(ip + 8, n_ttlp);
	obs_synack_st16(ip + 10, n_ick);
	obs_synack_st32(ip + 12, dst);
	obs_synack_st32(ip + 16, src);
	t = ip + 20;                    /* the SYN's IP options, if any, are gone */
	obs_synack_st16(t + 0, dport);
	obs_synack_st16(t + 2, sport);
	obs_synack_st32(t + 4, n_seq);
	obs_synack_st32(t + 8, n_ack);
	obs_synack_st32(t + 12, n_w3);
	obs_synack_st16(t + 16, n_tck);
	obs_synack_st16(t + 18, 0);
	obs_synack_st32(t + 20, n_mss);
	return l3 + OBS_SYNACK_L34;
}

#endif /* OBSCURA_RESP_SYNACK_H */
