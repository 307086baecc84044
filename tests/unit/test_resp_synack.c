/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_resp_synack.c — the responder's SYN-ACK built in the SYN's buffer
 * (dataplane/resp_synack.h, issue 13).  SYNs of many shapes (VLAN tags, IP options,
 * TCP options of every length, a payload of odd length, Ethernet padding, random
 * addresses, ports and sequence numbers) are turned into SYN-ACKs, and the reply is
 * checked field by field and its IPv4 and TCP checksums recomputed here from scratch,
 * byte by byte; a SYN with a wrong checksum (either one, or a corrupted byte under it)
 * gives a reply whose checksum fails the same way.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "dataplane/resp_synack.h"
#include "../fixtures/test_main.h"

/* The one's complement sum of n bytes as big-endian 16-bit words (RFC 1071), folded. */
static uint32_t sum_be(const uint8_t *p, uint32_t n, uint32_t s)
{
	for (uint32_t i = 0; i < n; i += 2)
		s += (uint32_t)p[i] << 8 | (i + 1 < n ? p[i + 1] : 0);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return s;
}

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* The TCP checksum of the segment of tcp_len bytes at ip + ihl: the pseudo-header, then
 * the segment (checksum field included: a right one makes the sum 0xffff). */
static uint32_t tcp_sum(const uint8_t *ip, uint32_t ihl, uint32_t tcp_len)
{
	uint8_t ph[12];

	memcpy(ph, ip + 12, 8);
	ph[8] = 0;
	ph[9] = 6;
	put16(ph + 10, (uint16_t)tcp_len);
	return sum_be(ip + ihl, tcp_len, sum_be(ph, 12, 0));
}

struct syn {
	uint32_t l3, ihl, tcp_len, frame_len;
	uint32_t src, dst, seq;
	uint16_t sport, dport;
	uint8_t smac[6], dmac[6];
};

/* A SYN with n_vlan tags, ip_opt bytes of IP options, tcp_opt bytes of TCP options,
 * pay bytes of payload and pad bytes of Ethernet padding, checksums right. */
static void make_syn(uint8_t *f, struct syn *s, unsigned n_vlan, uint32_t ip_opt,
                     uint32_t tcp_opt, uint32_t pay, uint32_t pad)
{
	uint8_t *ip, *t;
	uint32_t i;

	memset(f, 0, 2048);
	for (i = 0; i < 6; i++) {
		s->dmac[i] = f[i] = (uint8_t)rand();
		s->smac[i] = f[6 + i] = (uint8_t)rand();
	}
	s->l3 = 12;
	for (i = 0; i < n_vlan; i++) {
		put16(f + s->l3, i == 0 && n_vlan == 2 ? 0x88a8 : 0x8100);
		put16(f + s->l3 + 2, (uint16_t)(rand() & 0xfff));
		s->l3 += 4;
	}
	put16(f + s->l3, 0x0800);
	s->l3 += 2;
	s->ihl = 20 + ip_opt;
	s->tcp_len = 20 + tcp_opt + pay;
	ip = f + s->l3;
	ip[0] = (uint8_t)(0x40 | s->ihl / 4);
	ip[1] = (uint8_t)rand();
	put16(ip + 2, (uint16_t)(s->ihl + s->tcp_len));
	put16(ip + 4, (uint16_t)rand());
	put16(ip + 6, rand() & 1 ? 0x4000 : 0);
	ip[8] = (uint8_t)(1 + rand() % 255);
	ip[9] = 6;
	s->src = (uint32_t)rand() << 1 ^ (uint32_t)rand();
	s->dst = (uint32_t)rand() << 1 ^ (uint32_t)rand();
	for (i = 0; i < 4; i++) {
		ip[12 + i] = (uint8_t)(s->src >> (24 - 8 * i));
		ip[16 + i] = (uint8_t)(s->dst >> (24 - 8 * i));
	}
	for (i = 20; i < s->ihl; i++)
		ip[i] = (uint8_t)rand();
	put16(ip + 10, (uint16_t)~sum_be(ip, s->ihl, 0));
	t = ip + s->ihl;
	s->sport = (uint16_t)rand();
	s->dport = (uint16_t)rand();
	s->seq = (uint32_t)rand() << 1 ^ (uint32_t)rand();
	put16(t, s->sport);
	put16(t + 2, s->dport);
	for (i = 0; i < 4; i++) {
		t[4 + i] = (uint8_t)(s->seq >> (24 - 8 * i));
		t[8 + i] = (uint8_t)rand();     /* a SYN's ack field: whatever the sender left */
	}
	t[12] = (uint8_t)((20 + tcp_opt) / 4 << 4);
	t[13] = 0x02;
	put16(t + 14, (uint16_t)rand());
	put16(t + 18, (uint16_t)rand());
	for (i = 20; i < s->tcp_len; i++)
		t[i] = (uint8_t)rand();
	put16(t + 16, (uint16_t)~tcp_sum(ip, s->ihl, s->tcp_len));
	s->frame_len = s->l3 + s->ihl + s->tcp_len + pad;
	for (i = s->l3 + s->ihl + s->tcp_len; i < s->frame_len; i++)
		f[i] = (uint8_t)rand();         /* padding: outside both checksums */
	assert_int_equal(sum_be(ip, s->ihl, 0), 0xffff);
	assert_int_equal(tcp_sum(ip, s->ihl, s->tcp_len), 0xffff);
}

/* The reply of s in f: every field, and whether each checksum is right. */
static void check_reply(const uint8_t *f, const struct syn *s, uint32_t len, uint32_t cookie,
                        int ip_ok, int tcp_ok)
{
	const uint8_t *ip = f + s->l3, *t = ip + 20;

	assert_int_equal(len, s->l3 + 44);
	assert_memory_equal(f, s->smac, 6);
	assert_memory_equal(f + 6, s->dmac, 6);
	assert_int_equal(ip[0], 0x45);
	assert_int_equal(ip[1], 0);
	assert_int_equal(be16(ip + 2), 44);
	assert_int_equal(be16(ip + 4), 0);
	assert_int_equal(be16(ip + 6), 0x4000);
	assert_int_equal(ip[8], 64);
	assert_int_equal(ip[9], 6);
	assert_int_equal(be32(ip + 12), s->dst);
	assert_int_equal(be32(ip + 16), s->src);
	assert_int_equal(be16(t), s->dport);
	assert_int_equal(be16(t + 2), s->sport);
	assert_int_equal(be32(t + 4), cookie);
	assert_int_equal(be32(t + 8), s->seq + 1);
	assert_int_equal(t[12], 0x60);
	assert_int_equal(t[13], 0x12);
	assert_int_equal(be16(t + 14), 65535);
	assert_int_equal(be16(t + 18), 0);
	assert_int_equal(be32(t + 20), 0x020405b4u);
	assert_int_equal(sum_be(ip, 20, 0) == 0xffff, ip_ok);
	assert_int_equal(tcp_sum(ip, 20, 24) == 0xffff, tcp_ok);
}

static const uint32_t tcp_opts[] = { 0, 4, 8, 12, 20, 40 };

static void test_synack_shapes(void **state)
{
	static uint8_t f[2048];
	unsigned n = 0;

	(void)state;
	srand(13);
	for (unsigned vl = 0; vl <= 2; vl++)
		for (uint32_t io = 0; io <= 40; io += 4)
			for (unsigned k = 0; k < sizeof(tcp_opts) / sizeof(tcp_opts[0]); k++)
				for (uint32_t pay = 0; pay <= 7; pay += (pay < 3 ? 1 : 4)) {
					struct syn s;
					uint32_t cookie = (uint32_t)rand() << 1 ^ (uint32_t)rand(), len;

					make_syn(f, &s, vl, io, tcp_opts[k], pay, (uint32_t)(rand() % 3) * 7);
					len = obs_synack_build(f, s.l3, s.ihl, s.tcp_len, cookie, 1460);
					check_reply(f, &s, len, cookie, 1, 1);
					n++;
				}
	assert_true(n > 500);
	/* many random ones in the common shapes: a kernel SYN (20 bytes of options), a
	 * scanner's (none, or MSS only), to cover the carries of the sums */
	for (unsigned i = 0; i < 200000; i++) {
		struct syn s;
		uint32_t cookie = (uint32_t)rand() << 1 ^ (uint32_t)rand(), len;

		make_syn(f, &s, 0, 0, tcp_opts[i % 3 == 0 ? 4 : i % 3], 0, 0);
		len = obs_synack_build(f, s.l3, s.ihl, s.tcp_len, cookie, 1460);
		check_reply(f, &s, len, cookie, 1, 1);
	}
}

/* A SYN whose checksum is wrong gets a reply whose checksum is wrong: the client drops
 * it.  Each way of being wrong: the checksum field itself, a byte under it (header,
 * option, payload, address), for IPv4 and TCP. */
static void test_synack_bad_stays_bad(void **state)
{
	static uint8_t f[2048];

	(void)state;
	srand(17);
	for (unsigned i = 0; i < 20000; i++) {
		struct syn s;
		uint32_t cookie = (uint32_t)rand(), len, off;
		uint8_t *ip;
		int which = (int)(i % 4);
		uint8_t flip = (uint8_t)(1u << (rand() % 8));

		make_syn(f, &s, i % 2, (i % 3) * 4, tcp_opts[i % 6], i % 5, 0);
		ip = f + s.l3;
		switch (which) {
		case 0:                         /* the TCP checksum field */
			ip[s.ihl + 16 + rand() % 2] ^= flip;
			break;
		case 1:                         /* window, urgent pointer, an option or payload byte
		                                 * (not what the reply copies: ports, seq, offset) */
			off = 14 + (uint32_t)rand() % (s.tcp_len - 14);
			if (off == 16 || off == 17)
				off = 14;
			ip[s.ihl + off] ^= flip;
			break;
		case 2:                         /* the IPv4 checksum field */
			ip[10 + rand() % 2] ^= flip;
			break;
		default:                        /* a byte of the IPv4 header past the addresses */
			off = (uint32_t)rand() % s.ihl;
			if (off == 0 || off == 2 || off == 3 || (off >= 10 && off < 20))
				off = 8;                /* TTL (not ihl, length, checksum, addresses) */
			ip[off] ^= flip;
			break;
		}
		len = obs_synack_build(f, s.l3, s.ihl, s.tcp_len, cookie, 1460);
		check_reply(f, &s, len, cookie, which < 2, which >= 2);
	}
}

#define TESTS(T) T(test_synack_shapes) T(test_synack_bad_stays_bad)
OBS_TEST_MAIN(TESTS, NULL, NULL)
