/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * resp_cookie.h — the responder's SYN cookies (issue 13, docs/scan.md "Responder"): pure
 * C, no DPDK, no state but the keys, so the unit test (tests/unit/test_resp_cookie.c)
 * and the worker share it.
 *
 * The keyed hash is SipHash-2-4 (Aumasson and Bernstein, 2012), written here from the
 * paper: a 128-bit key, 64-bit output.  obs_siphash24() takes any message; the cookie
 * uses obs_siphash24_2w(), the same function on a 16-byte message given as two
 * little-endian words (tested equal).
 *
 * Time is cut into windows of OBS_COOKIE_WINDOW_NS (packet time).  Window w has its own
 * key, derived from the master key of responder.secret_file: k_w = (SipHash(master, w ||
 * 1), SipHash(master, w || 2)), so the key rotates with every window and one window's key
 * tells nothing of another's.  The cookie (the SYN-ACK's sequence number) is
 *
 *     bit 31    = w & 1                                (which window made it)
 *     bits 0-30 = SipHash(k_w, src || dst, sport || dport || w) & 0x7fffffff
 *
 * An ACK validates when ack - 1 is the cookie of its 4-tuple in the current window or
 * the one before (bit 31 says which, so validation costs one hash); anything older, or
 * forged, does not.  A handshake therefore completes when its ACK comes within one to
 * two windows of the SYN.
 */
#ifndef OBSCURA_RESP_COOKIE_H
#define OBSCURA_RESP_COOKIE_H

#include <stddef.h>
#include <stdint.h>

#define OBS_COOKIE_WINDOW_NS (64ull * 1000000000ull)   /* 64 s */

static inline uint64_t obs_rotl64(uint64_t x, unsigned b)
{
	return (x << b) | (x >> (64 - b));
}

#define OBS_SIPROUND(v0, v1, v2, v3) do {                                        \
	v0 += v1; v1 = obs_rotl64(v1, 13); v1 ^= v0; v0 = obs_rotl64(v0, 32);     \
	v2 += v3; v3 = obs_rotl64(v3, 16); v3 ^= v2;                              \
	v0 += v3; v3 = obs_rotl64(v3, 21); v3 ^= v0;                              \
	v2 += v1; v1 = obs_rotl64(v1, 17); v1 ^= v2; v2 = obs_rotl64(v2, 32);     \
} while (0)

/* SipHash-2-4 of n bytes at p under the key (k0, k1) (the key's bytes 0-7, 8-15, read
 * little-endian). */
static inline uint64_t obs_siphash24(uint64_t k0, uint64_t k1, const uint8_t *p, size_t n)
{
	uint64_t v0 = 0x736f6d6570736575ull ^ k0, v1 = 0x646f72616e646f6dull ^ k1;
	uint64_t v2 = 0x6c7967656e657261ull ^ k0, v3 = 0x7465646279746573ull ^ k1;
	uint64_t b = (uint64_t)n << 56, m;
	size_t i = 0;

	for (; i + 8 <= n; i += 8) {
		m = 0;
		for (unsigned j = 0; j < 8; j++)
			m |= (uint64_t)p[i + j] << (8 * j);
		v3 ^= m;
		OBS_SIPROUND(v0, v1, v2, v3);
		OBS_SIPROUND(v0, v1, v2, v3);
		v0 ^= m;
	}
	for (unsigned j = 0; i + j < n; j++)
		b |= (uint64_t)p[i + j] << (8 * j);
	v3 ^= b;
	OBS_SIPROUND(v0, v1, v2, v3);
	OBS_SIPROUND(v0, v1, v2, v3);
	v0 ^= b;
	v2 ^= 0xff;
	for (unsigned r = 0; r < 4; r++)
		OBS_SIPROUND(v0, v1, v2, v3);
	return v0 ^ v1 ^ v2 ^ v3;
}

/* SipHash-2-4 of the 16-byte message m0 || m1 (each little-endian): no loops, no loads. */
static inline uint64_t obs_siphash24_2w(uint64_t k0, uint64_t k1, uint64_t m0, uint64_t m1)
{
	uint64_t v0 = 0x736f6d6570736575ull ^ k0, v1 = 0x646f72616e646f6dull ^ k1;
	uint64_t v2 = 0x6c7967656e657261ull ^ k0, v3 = 0x7465646279746573ull ^ k1;
	const uint64_t b = 16ull << 56;

	v3 ^= m0;
	OBS_SIPROUND(v0, v1, v2, v3);
	OBS_SIPROUND(v0, v1, v2, v3);
	v0 ^= m0;
	v3 ^= m1;
	OBS_SIPROUND(v0, v1, v2, v3);
	OBS_SIPROUND(v0, v1, v2, v3);
	v0 ^= m1;
	v3 ^= b;
	OBS_SIPROUND(v0, v1, v2, v3);
	OBS_SIPROUND(v0, v1, v2, v3);
	v0 ^= b;
	v2 ^= 0xff;
	OBS_SIPROUND(v0, v1, v2, v3);
	OBS_SIPROUND(v0, v1, v2, v3);
	OBS_SIPROUND(v0, v1, v2, v3);
	OBS_SIPROUND(v0, v1, v2, v3);
	return v0 ^ v1 ^ v2 ^ v3;
}

/* The keys one worker holds: the master key and those of window `win` and the one
 * before.  Each worker keeps its own copy (no sharing, no locks). */
struct obs_cookie_keys {
	uint64_t master[2];
	uint64_t win;           /* window of cur[]; prev[] is win - 1 */
	uint64_t win_ns;        /* win's first nanosecond: a packet time t is in win when
	                         * t - win_ns < OBS_COOKIE_WINDOW_NS (no division per packet) */
	uint64_t cur[2];
	uint64_t prev[2];
	int      valid;         /* 0 until the first obs_cookie_at() */
};

static inline void obs_cookie_derive(const uint64_t master[2], uint64_t w, uint64_t out[2])
{
	out[0] = obs_siphash24_2w(master[0], master[1], w, 1);
	out[1] = obs_siphash24_2w(master[0], master[1], w, 2);
}

/* Master key from 16 key bytes (the first 16 of responder.secret_file). */
static inline void obs_cookie_init(struct obs_cookie_keys *k, const uint8_t key[16])
{
	k->master[0] = k->master[1] = 0;
	for (unsigned j = 0; j < 8; j++) {
		k->master[0] |= (uint64_t)key[j] << (8 * j);
		k->master[1] |= (uint64_t)key[8 + j] << (8 * j);
	}
	k->win = 0;
	k->valid = 0;
}

/* Make the keys current for packet time t_ns (a new window derives one or two keys). */
static inline void obs_cookie_at(struct obs_cookie_keys *k, uint64_t t_ns)
{
	uint64_t w;

	if (k->valid && t_ns - k->win_ns < OBS_COOKIE_WINDOW_NS)
		return;         /* the common case: still the current window */
	w = t_ns / OBS_COOKIE_WINDOW_NS;
	if (k->valid && w == k->win)
		return;
	if (k->valid && w == k->win + 1) {
		k->prev[0] = k->cur[0];
		k->prev[1] = k->cur[1];
	} else {
		obs_cookie_derive(k->master, w - 1, k->prev);
	}
	obs_cookie_derive(k->master, w, k->cur);
	k->win = w;
	k->win_ns = w * OBS_COOKIE_WINDOW_NS;
	k->valid = 1;
}

static inline uint32_t obs_cookie_hash(const uint64_t key[2], uint32_t src, uint32_t dst,
                                       uint16_t sport, uint16_t dport, uint64_t w)
{
	uint64_t m0 = (uint64_t)src << 32 | dst;
	uint64_t m1 = (uint64_t)sport << 48 | (uint64_t)dport << 32 | (uint32_t)w;

	return (uint32_t)obs_siphash24_2w(key[0], key[1], m0, m1) & 0x7fffffffu;
}

/* The cookie for a SYN src:sport -> dst:dport (host order) in the keys' current window
 * (call obs_cookie_at() first). */
static inline uint32_t obs_cookie_make(const struct obs_cookie_keys *k, uint32_t src,
                                       uint32_t dst, uint16_t sport, uint16_t dport)
{
	return (uint32_t)(k->win & 1) << 31 | obs_cookie_hash(k->cur, src, dst, sport, dport, k->win);
}

/* 1 when cookie (an ACK's ack - 1) was made for this 4-tuple in the current window or
 * the previous one, else 0 (call obs_cookie_at() first). */
static inline int obs_cookie_check(const struct obs_cookie_keys *k, uint32_t cookie, uint32_t src,
                                   uint32_t dst, uint16_t sport, uint16_t dport)
{
	const int cur = (cookie >> 31) == (uint32_t)(k->win & 1);
	const uint64_t w = cur ? k->win : k->win - 1;

	return (cookie & 0x7fffffffu) == obs_cookie_hash(cur ? k->cur : k->prev, src, dst, sport,
	                                                 dport, w);
}

#endif /* OBSCURA_RESP_COOKIE_H */
