/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_parse.c — obs_parse(): good frames of every kind, every drop reason from a
 * crafted frame, and the truncation / mutation properties (every prefix of a valid
 * frame, in an exactly-sized heap buffer so ASan sees any over-read).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "dataplane/parse.h"
#include "dataplane/common/telescope.h"
#include "../fixtures/test_main.h"

#define SRC 0xc0000201u   /* 192.0.2.1 */
#define DST 0xc6120005u   /* 198.18.0.5 */

struct frame {
	uint8_t  b[1600];
	uint32_t len;
	uint32_t ip;    /* offset of the IPv4 header */
	uint32_t l4;    /* offset of the L4 header */
};

static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static void put32(uint8_t *p, uint32_t v) { put16(p, (uint16_t)(v >> 16)); put16(p + 2, (uint16_t)v); }

/*
 * Ethernet with n_tags tags (tpids[i]), IPv4 (IHL 5, DF), proto, then l4len bytes of
 * L4 from l4 (may be NULL: zeros), then pad bytes of Ethernet padding.
 */
static void build(struct frame *f, unsigned n_tags, const uint16_t *tpids, uint8_t proto,
                  const uint8_t *l4, uint32_t l4len, uint32_t pad)
{
	uint32_t o = 12;

	memset(f, 0, sizeof(*f));
	memcpy(f->b, "\x02\x00\x00\x00\x00\x01\x02\x00\x00\x00\x00\x02", 12);
	for (unsigned i = 0; i < n_tags; i++) {
		put16(f->b + o, tpids[i]);
		put16(f->b + o + 2, (uint16_t)(100 + i));
		o += 4;
	}
	put16(f->b + o, 0x0800);
	o += 2;
	f->ip = o;
	f->b[o] = 0x45;
	put16(f->b + o + 2, (uint16_t)(20 + l4len));
	put16(f->b + o + 4, 0x1234);
	put16(f->b + o + 6, 0x4000);   /* DF: not a fragment */
	f->b[o + 8] = 64;
	f->b[o + 9] = proto;
	put32(f->b + o + 12, SRC);
	put32(f->b + o + 16, DST);
	f->l4 = o + 20;
	if (l4 != NULL)
		memcpy(f->b + f->l4, l4, l4len);
	f->len = f->l4 + l4len + pad;
}

/* TCP header with data offset doff (words), flags, and plen payload bytes. */
static uint32_t tcp_hdr(uint8_t *t, uint16_t sp, uint16_t dp, uint32_t seq, uint8_t flags,
                        unsigned doff, uint32_t plen)
{
	memset(t, 0, doff * 4 + plen);
	put16(t, sp);
	put16(t + 2, dp);
	put32(t + 4, seq);
	t[12] = (uint8_t)(doff << 4);
	t[13] = flags;
	put16(t + 14, 1024);
	for (uint32_t i = 0; i < plen; i++)
		t[doff * 4 + i] = (uint8_t)('a' + i % 26);
	return doff * 4 + plen;
}

static uint32_t udp_hdr(uint8_t *u, uint16_t sp, uint16_t dp, uint32_t plen)
{
	memset(u, 0, 8 + plen);
	put16(u, sp);
	put16(u + 2, dp);
	put16(u + 4, (uint16_t)(8 + plen));
	for (uint32_t i = 0; i < plen; i++)
		u[8 + i] = (uint8_t)i;
	return 8 + plen;
}

static const uint16_t tags_q[] = { 0x8100 };
static const uint16_t tags_ad[] = { 0x88a8 };
static const uint16_t tags_qinq[] = { 0x88a8, 0x8100 };
static const uint16_t tags_3[] = { 0x88a8, 0x8100, 0x8100 };

static void frame_tcp(struct frame *f, uint8_t flags, unsigned n_tags, const uint16_t *tpids)
{
	uint8_t t[64];
	uint32_t n = tcp_hdr(t, 40000, 23, DST, flags, 5, 0);
	build(f, n_tags, tpids, 6, t, n, 0);
}

static void check_common(const struct obs_pkt_meta *m, unsigned n_vlan)
{
	assert_int_equal(m->src, SRC);
	assert_int_equal(m->dst, DST);
	assert_int_equal(m->n_vlan, n_vlan);
}

static void test_tcp_syn(void **state)
{
	struct frame f;
	struct obs_pkt_meta m;

	frame_tcp(&f, OBS_TCP_SYN, 0, NULL);
	assert_int_equal(obs_parse(f.b, f.len, &m), -1);
	check_common(&m, 0);
	assert_int_equal(m.proto, 6);
	assert_int_equal(m.proto_idx, OBX_P_TCP);
	assert_int_equal(m.sport, 40000);
	assert_int_equal(m.dport, 23);
	assert_int_equal(m.tcp_seq, DST);   /* the Mirai fingerprint: seq == dst */
	assert_int_equal(m.tcp_flags, OBS_TCP_SYN);
	assert_int_equal(m.ip_len, 40);
	assert_int_equal(m.payload_off, 14 + 20 + 20);
	assert_int_equal(m.payload_len, 0);
	assert_int_equal(m.icmp_type, 0);
}

static void test_tcp_synack_rst(void **state)
{
	struct frame f;
	struct obs_pkt_meta m;

	frame_tcp(&f, OBS_TCP_SYN | OBS_TCP_ACK, 0, NULL);
	assert_int_equal(obs_parse(f.b, f.len, &m), -1);
	assert_int_equal(m.tcp_flags, OBS_TCP_SYN | OBS_TCP_ACK);
	frame_tcp(&f, OBS_TCP_RST, 0, NULL);
	assert_int_equal(obs_parse(f.b, f.len, &m), -1);
	assert_int_equal(m.tcp_flags, OBS_TCP_RST);
	assert_int_equal(m.proto_idx, OBX_P_TCP);
}

static void test_tcp_options_payload(void **state)
{
	struct frame f;
	struct obs_pkt_meta m;
	uint8_t t[128];
	uint32_t n = tcp_hdr(t, 1, 80, 7, 0x18, 8, 11);

	build(&f, 0, NULL, 6, t, n, 0);
	assert_int_equal(obs_parse(f.b, f.len, &m), -1);
	assert_int_equal(m.payload_off, 14 + 20 + 32);
	assert_int_equal(m.payload_len, 11);
	assert_memory_equal(f.b + m.payload_off, "abcdefghijk", 11);
}

static void test_udp(void **state)
{
	struct frame f;
	struct obs_pkt_meta m;
	uint8_t u[64];
	uint32_t n = udp_hdr(u, 5060, 5060, 20);

	build(&f, 0, NULL, 17, u, n, 0);
	assert_int_equal(obs_parse(f.b, f.len, &m), -1);
	check_common(&m, 0);
	assert_int_equal(m.proto_idx, OBX_P_UDP);
	assert_int_equal(m.sport, 5060);
	assert_int_equal(m.dport, 5060);
	assert_int_equal(m.payload_off, 14 + 20 + 8);
	assert_int_equal(m.payload_len, 20);
	assert_int_equal(m.tcp_flags, 0);
	assert_int_equal(m.tcp_seq, 0);
}

static void test_icmp_echo(void **state)
{
	struct frame f;
	struct obs_pkt_meta m;
	uint8_t ic[16] = { 8, 0, 0, 0, 0x12, 0x34, 0, 1, 'p', 'i', 'n', 'g' };

	build(&f, 0, NULL, 1, ic, 12, 0);
	assert_int_equal(obs_parse(f.b, f.len, &m), -1);
	check_common(&m, 0);
	assert_int_equal(m.proto_idx, OBX_P_ICMP);
	assert_int_equal(m.icmp_type, 8);
	assert_int_equal(m.icmp_code, 0);
	assert_int_equal(m.sport, 0);
	assert_int_equal(m.dport, 0);
	assert_int_equal(m.payload_off, 14 + 20 + 8);
	assert_int_equal(m.payload_len, 4);

	ic[0] = 3;
	ic[1] = 13;   /* unreachable, administratively prohibited */
	build(&f, 0, NULL, 1, ic, 8, 0);
	assert_int_equal(obs_parse(f.b, f.len, &m), -1);
	assert_int_equal(m.icmp_type, 3);
	assert_int_equal(m.icmp_code, 13);
}

static void test_gre_other(void **state)
{
	struct frame f;
	struct obs_pkt_meta m;
	uint8_t g[24] = { 0, 0, 0x08, 0x00 };

	build(&f, 0, NULL, 47, g, 24, 0);
	assert_int_equal(obs_parse(f.b, f.len, &m), -1);
	check_common(&m, 0);
	assert_int_equal(m.proto, 47);
	assert_int_equal(m.proto_idx, OBX_P_OTHER);
	assert_int_equal(m.sport, 0);
	assert_int_equal(m.dport, 0);
	assert_int_equal(m.payload_off, 14 + 20);
	assert_int_equal(m.payload_len, 24);

	/* An "other" protocol with no L4 bytes at all is still a valid datagram. */
	build(&f, 0, NULL, 50, NULL, 0, 0);
	assert_int_equal(obs_parse(f.b, f.len, &m), -1);
	assert_int_equal(m.proto_idx, OBX_P_OTHER);
	assert_int_equal(m.payload_len, 0);
}

static void test_vlan(void **state)
{
	struct frame f;
	struct obs_pkt_meta m;

	frame_tcp(&f, OBS_TCP_SYN, 1, tags_q);
	assert_int_equal(obs_parse(f.b, f.len, &m), -1);
	check_common(&m, 1);
	assert_int_equal(m.dport, 23);
	assert_int_equal(m.payload_off, 18 + 40);

	frame_tcp(&f, OBS_TCP_SYN, 1, tags_ad);
	assert_int_equal(obs_parse(f.b, f.len, &m), -1);
	check_common(&m, 1);

	frame_tcp(&f, OBS_TCP_SYN, 2, tags_qinq);
	assert_int_equal(obs_parse(f.b, f.len, &m), -1);
	check_common(&m, 2);
	assert_int_equal(m.tcp_flags, OBS_TCP_SYN);
	assert_int_equal(m.payload_off, 22 + 40);
}

static void test_eth_padding(void **state)
{
	struct frame f;
	struct obs_pkt_meta m;
	uint8_t u[16];
	uint32_t n = udp_hdr(u, 53, 53, 2);

	/* 14 + 20 + 10 = 44 bytes, padded to the 60-byte minimum with non-zero junk */
	build(&f, 0, NULL, 17, u, n, 16);
	memset(f.b + 44, 0xee, 16);
	assert_int_equal(f.len, 60);
	assert_int_equal(obs_parse(f.b, f.len, &m), -1);
	assert_int_equal(m.ip_len, 30);
	assert_int_equal(m.payload_len, 2);
	assert_int_equal(m.payload_off, 42);

	frame_tcp(&f, OBS_TCP_SYN, 2, tags_qinq);
	f.len += 6;
	assert_int_equal(obs_parse(f.b, f.len, &m), -1);
	assert_int_equal(m.payload_len, 0);
}

/* ---- every drop reason ---- */

struct drop_case {
	const char *name;
	void (*make)(struct frame *f);
	int expect;
};

static void d_runt(struct frame *f) { frame_tcp(f, 2, 0, NULL); f->len = 13; }
static void d_tag_cut(struct frame *f) { frame_tcp(f, 2, 1, tags_q); f->len = 17; }
static void d_ipv6(struct frame *f) { frame_tcp(f, 2, 0, NULL); put16(f->b + 12, 0x86dd); }
static void d_arp_tagged(struct frame *f) { frame_tcp(f, 2, 2, tags_qinq); put16(f->b + 20, 0x0806); }
static void d_three_tags(struct frame *f) { frame_tcp(f, 2, 3, tags_3); }
static void d_ip_short(struct frame *f) { frame_tcp(f, 2, 0, NULL); f->len = 14 + 19; }
static void d_ip_opts_cut(struct frame *f)
{
	/* IHL 15 (60 bytes of header) but only 40 bytes of IP present */
	frame_tcp(f, 2, 0, NULL);
	f->b[f->ip] = 0x4f;
}
static void d_version(struct frame *f) { frame_tcp(f, 2, 0, NULL); f->b[f->ip] = 0x65; }
static void d_ihl(struct frame *f) { frame_tcp(f, 2, 0, NULL); f->b[f->ip] = 0x44; }
static void d_totlen_small(struct frame *f) { frame_tcp(f, 2, 0, NULL); put16(f->b + f->ip + 2, 19); }
static void d_totlen_big(struct frame *f) { frame_tcp(f, 2, 0, NULL); put16(f->b + f->ip + 2, 41); }
/* malformed fragments: the datagram would end past 65535 bytes (offset 8184 * 8 = 65472,
 * plus 20 + 20 + 1 bytes of this fragment: 65533 is fine, 65536 is not) */
static void d_frag_past(struct frame *f)
{
	uint8_t t[64];
	uint32_t n = tcp_hdr(t, 1, 2, 3, 2, 5, 44);   /* 64 bytes of data */
	build(f, 0, NULL, 6, t, n, 0);                 /* 65472 + 20 + 64 = 65556 */
	put16(f->b + f->ip + 6, 0x1ff8);
}
/* a first fragment (MF) with 19 bytes of TCP on the wire: too short for its header */
static void d_frag_first_tiny(struct frame *f)
{
	uint8_t t[32];
	tcp_hdr(t, 1, 2, 3, 2, 5, 0);
	build(f, 0, NULL, 6, t, 19, 30);
	put16(f->b + f->ip + 6, 0x2000);
}
/* a first fragment whose TCP data offset (15 words) is past the fragment's data */
static void d_frag_first_opts(struct frame *f)
{
	frame_tcp(f, 2, 0, NULL);
	f->b[f->l4 + 12] = 0xf0;
	put16(f->b + f->ip + 6, 0x2000);
}
static void d_frag_first_udp7(struct frame *f)
{
	uint8_t u[8];
	udp_hdr(u, 1, 2, 0);
	build(f, 0, NULL, 17, u, 7, 20);
	put16(f->b + f->ip + 6, 0x2000);
}
static void d_tcp_short(struct frame *f)
{
	uint8_t t[32];
	tcp_hdr(t, 1, 2, 3, 2, 5, 0);
	build(f, 0, NULL, 6, t, 19, 30);   /* 19 bytes of TCP, then padding */
}
static void d_udp_short(struct frame *f)
{
	uint8_t u[8];
	udp_hdr(u, 1, 2, 0);
	build(f, 0, NULL, 17, u, 7, 20);
}
static void d_icmp_short(struct frame *f)
{
	uint8_t ic[8] = { 8 };
	build(f, 1, tags_q, 1, ic, 7, 0);
}
static void d_tcp_doff_small(struct frame *f) { frame_tcp(f, 2, 0, NULL); f->b[f->l4 + 12] = 0x40; }
static void d_tcp_doff_big(struct frame *f)
{
	/* data offset 15 (60 bytes) in a 20-byte segment, with junk after the datagram */
	frame_tcp(f, 2, 0, NULL);
	f->b[f->l4 + 12] = 0xf0;
	f->len += 40;
}
static void d_udp_len_small(struct frame *f)
{
	uint8_t u[16];
	uint32_t n = udp_hdr(u, 1, 2, 4);
	build(f, 0, NULL, 17, u, n, 0);
	put16(f->b + f->l4 + 4, 7);
}
static void d_udp_len_big(struct frame *f)
{
	uint8_t u[16];
	uint32_t n = udp_hdr(u, 1, 2, 4);
	build(f, 0, NULL, 17, u, n, 10);   /* the padding must not count as datagram */
	put16(f->b + f->l4 + 4, 13);
}

static const struct drop_case drop_cases[] = {
	{ "runt", d_runt, OBX_DROP_TRUNC_L2 },
	{ "tag without ethertype", d_tag_cut, OBX_DROP_TRUNC_L2 },
	{ "ipv6", d_ipv6, OBX_DROP_NOT_IPV4 },
	{ "arp in qinq", d_arp_tagged, OBX_DROP_NOT_IPV4 },
	{ "three tags", d_three_tags, OBX_DROP_VLAN_DEPTH },
	{ "19 bytes of ip", d_ip_short, OBX_DROP_TRUNC_IP },
	{ "ip options cut", d_ip_opts_cut, OBX_DROP_TRUNC_IP },
	{ "version 6 in ipv4", d_version, OBX_DROP_BAD_VERSION },
	{ "ihl 4", d_ihl, OBX_DROP_BAD_IHL },
	{ "totlen < ihl", d_totlen_small, OBX_DROP_BAD_TOTLEN },
	{ "totlen > frame", d_totlen_big, OBX_DROP_BAD_TOTLEN },
	{ "fragment past 65535", d_frag_past, OBX_DROP_FRAGMENT },
	{ "first fragment, 19 bytes of tcp", d_frag_first_tiny, OBX_DROP_FRAGMENT },
	{ "first fragment, tcp options past it", d_frag_first_opts, OBX_DROP_FRAGMENT },
	{ "first fragment, 7 bytes of udp", d_frag_first_udp7, OBX_DROP_FRAGMENT },
	{ "tcp 19 bytes", d_tcp_short, OBX_DROP_TRUNC_L4 },
	{ "udp 7 bytes", d_udp_short, OBX_DROP_TRUNC_L4 },
	{ "icmp 7 bytes", d_icmp_short, OBX_DROP_TRUNC_L4 },
	{ "tcp doff 4", d_tcp_doff_small, OBX_DROP_BAD_L4 },
	{ "tcp doff past datagram", d_tcp_doff_big, OBX_DROP_BAD_L4 },
	{ "udp len 7", d_udp_len_small, OBX_DROP_BAD_L4 },
	{ "udp len past datagram", d_udp_len_big, OBX_DROP_BAD_L4 },
};

static void test_drop_reasons(void **state)
{
	unsigned seen = 0;
	struct obs_pkt_meta m;

	for (size_t i = 0; i < sizeof(drop_cases) / sizeof(drop_cases[0]); i++) {
		struct frame f;
		uint8_t *exact;
		int rc;
		drop_cases[i].make(&f);
		/* exactly sized: reading one byte past len is a heap overflow under ASan */
		exact = malloc(f.len ? f.len : 1);
		assert_non_null(exact);
		memcpy(exact, f.b, f.len);
		rc = obs_parse(exact, f.len, &m);
		free(exact);
		if (rc != drop_cases[i].expect)
			fail_msg("case '%s': got %d, expected %d", drop_cases[i].name, rc,
			         drop_cases[i].expect);
		seen |= 1u << rc;
	}

	/* not_telescope is decided after parsing, by the telescope map */
	static const struct obs_tel_prefix p = { .addr = 0xc6121000u, .len = 20, .sensor = 0 };
	struct obs_tel *t = obs_tel_build(&p, 1, 4096, NULL);
	struct frame f;
	uint8_t sensor;
	uint32_t slot;
	assert_non_null(t);
	frame_tcp(&f, OBS_TCP_SYN, 0, NULL);
	assert_int_equal(obs_parse(f.b, f.len, &m), -1);
	if (obs_tel_lookup(t, m.dst, &sensor, &slot) < 0)
		seen |= 1u << OBX_DROP_NOT_TELESCOPE;
	obs_tel_free(t);

	assert_int_equal(seen, (1u << OBX_DROP_N) - 1);
}

/* ---- properties ---- */

static void valid_frames(struct frame *fs, unsigned *n)
{
	uint8_t b[256];
	uint32_t l;
	unsigned i = 0;

	l = tcp_hdr(b, 1234, 445, 99, OBS_TCP_SYN, 10, 17);
	build(&fs[i++], 2, tags_qinq, 6, b, l, 0);
	l = udp_hdr(b, 123, 161, 33);
	build(&fs[i++], 1, tags_q, 17, b, l, 0);
	memcpy(b, "\x08\x00\x00\x00\x00\x01\x00\x02hello", 13);
	build(&fs[i++], 0, NULL, 1, b, 13, 0);
	memset(b, 0x55, 40);
	build(&fs[i++], 1, tags_ad, 47, b, 40, 0);
	l = udp_hdr(b, 53, 53, 1);
	build(&fs[i++], 0, NULL, 17, b, l, 17);     /* padded */
	*n = i;
}

/* Parse the first len bytes of f from an exact-size heap copy (ASan sees any read past
 * the cut), wire length wire (0: obs_parse, the cut is the wire length); m is poisoned
 * first so a field the parser leaves unset shows. */
static int parse_cut(const struct frame *f, uint32_t len, uint32_t wire, struct obs_pkt_meta *m)
{
	uint8_t *exact = malloc(len ? len : 1);
	int rc;

	assert_non_null(exact);
	memcpy(exact, f->b, len);
	memset(m, 0xa5, sizeof(*m));
	rc = wire ? obs_parse_snap(exact, len, wire, m) : obs_parse(exact, len, m);
	free(exact);
	return rc;
}

static void test_truncation_property(void **state)
{
	struct frame fs[8];
	unsigned n;

	valid_frames(fs, &n);
	for (unsigned k = 0; k < n; k++) {
		struct obs_pkt_meta full, m;
		const struct frame *f = &fs[k];
		uint32_t need;

		assert_int_equal(obs_parse(f->b, f->len, &full), -1);
		need = f->ip + full.ip_len;   /* through the end of the datagram */
		for (uint32_t len = 0; len <= f->len; len++) {
			int rc = parse_cut(f, len, 0, &m);

			assert_true(rc >= -1 && rc < OBX_DROP_N);
			if (len >= need) {
				/* padding may go, the datagram may not */
				if (rc != -1)
					fail_msg("frame %u len %u: drop %d", k, len, rc);
				assert_memory_equal(&m, &full, sizeof(m));
			} else if (rc == -1) {
				fail_msg("frame %u cut to %u of %u bytes parsed as whole", k, len, need);
			}
		}
	}
}

/*
 * A capture cut short by its snaplen (pcap caplen < len) is not a malformed packet:
 * with the wire length given, every cut that keeps the L4 header (8 bytes of it for
 * UDP/ICMP, 20 for TCP, none for other protocols) parses to the same fields, with the
 * payload shortened to what is present; a shorter cut is trunc_l2/trunc_ip/trunc_l4,
 * never bad_totlen, and never reads past the cut (exact-size heap buffers, ASan).
 */
static void test_snaplen_property(void **state)
{
	struct frame fs[8];
	unsigned n;

	valid_frames(fs, &n);
	for (unsigned k = 0; k < n; k++) {
		struct obs_pkt_meta full, m;
		const struct frame *f = &fs[k];
		uint32_t hdr;

		assert_int_equal(obs_parse(f->b, f->len, &full), -1);
		hdr = full.proto == 6 ? 20 : (full.proto == 17 || full.proto == 1) ? 8 : 0;
		for (uint32_t len = 0; len <= f->len; len++) {
			int rc = parse_cut(f, len, f->len, &m);

			if (len >= f->l4 + hdr) {
				uint32_t end = f->ip + full.ip_len < len ? f->ip + full.ip_len : len;
				if (rc != -1)
					fail_msg("frame %u snap %u: drop %d", k, len, rc);
				assert_int_equal(m.src, full.src);
				assert_int_equal(m.dst, full.dst);
				assert_int_equal(m.dport, full.dport);
				assert_int_equal(m.tcp_flags, full.tcp_flags);
				assert_int_equal(m.tcp_seq, full.tcp_seq);
				assert_int_equal(m.ip_len, full.ip_len);
				assert_int_equal(m.payload_off, full.payload_off);
				assert_int_equal(m.payload_len,
				                 end > full.payload_off ? end - full.payload_off : 0);
			} else {
				if (rc == -1 || rc == OBX_DROP_BAD_TOTLEN)
					fail_msg("frame %u snap %u of %u: rc %d", k, len, f->len, rc);
			}
		}
	}
	/* the wire length is still checked: a datagram longer than the wire is bad_totlen */
	{
		struct frame f;
		struct obs_pkt_meta m2;
		frame_tcp(&f, OBS_TCP_SYN, 0, NULL);
		assert_int_equal(obs_parse_snap(f.b, f.len, f.len - 1, &m2), -1);  /* wire < len: taken as len */
		put16(f.b + f.ip + 2, (uint16_t)(f.len - f.ip + 1));
		assert_int_equal(obs_parse_snap(f.b, f.len, f.len, &m2), OBX_DROP_BAD_TOTLEN);
		assert_int_equal(obs_parse_snap(f.b, f.len, f.len + 1, &m2), -1);
	}
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(void)
{
	/* xorshift64*: reproducible, no libc state */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (uint32_t)((rng_state * 0x2545f4914f6cdd1dull) >> 32);
}

static void test_mutation_property(void **state)
{
	struct frame fs[8];
	unsigned n, ok = 0;

	valid_frames(fs, &n);
	for (unsigned it = 0; it < 200000; it++) {
		struct frame f = fs[it % n];
		struct obs_pkt_meta m;
		unsigned flips = 1 + rnd() % 4;
		uint32_t len;
		uint8_t *exact;
		int rc;

		for (unsigned j = 0; j < flips; j++) {
			/* bias towards the headers, where the checks are */
			uint32_t pos = rnd() % (f.len < 64 ? f.len : 64);
			f.b[pos] = (uint8_t)rnd();
		}
		len = (rnd() & 1) ? f.len : rnd() % (f.len + 1);
		exact = malloc(len ? len : 1);
		assert_non_null(exact);
		memcpy(exact, f.b, len);
		rc = obs_parse(exact, len, &m);
		assert_true(rc >= -1 && rc < OBX_DROP_N);
		if (rc == -1) {
			ok++;
			assert_true((uint32_t)m.payload_off + m.payload_len <= len);
			assert_true(m.n_vlan <= 2);
			assert_true(m.proto_idx < OBX_P_N);
		}
		free(exact);
	}
	/* the mutations must not all be rejected, or the success path went untested */
	assert_true(ok > 1000);
}

/* Well-formed fragments are accepted: a first fragment with its L4 header and ports, a
 * later one with ports, flags and ICMP type 0 and no payload; the 65535 edge exactly. */
static void test_fragments(void **state)
{
	struct frame f;
	struct obs_pkt_meta m;
	uint8_t u[64];
	uint32_t n;

	(void)state;
	/* whole datagram: frag NONE */
	n = udp_hdr(u, 53, 4444, 16);
	build(&f, 0, NULL, 17, u, n, 0);
	assert_int_equal(obs_parse(f.b, f.len, &m), -1);
	assert_int_equal(m.frag, OBS_FRAG_NONE);

	/* first fragment of a 3000-byte UDP datagram: UDP length > fragment data is fine */
	build(&f, 1, tags_q, 17, u, n, 0);
	put16(f.b + f.l4 + 4, 3000);
	put16(f.b + f.ip + 6, 0x2000);
	assert_int_equal(obs_parse(f.b, f.len, &m), -1);
	check_common(&m, 1);
	assert_int_equal(m.frag, OBS_FRAG_FIRST);
	assert_int_equal(m.proto_idx, OBX_P_UDP);
	assert_int_equal(m.sport, 53);
	assert_int_equal(m.dport, 4444);
	assert_int_equal(m.payload_len, 16);
	/* ... a UDP length of 7 is still bad, whatever the fragment */
	put16(f.b + f.l4 + 4, 7);
	assert_int_equal(obs_parse(f.b, f.len, &m), OBX_DROP_BAD_L4);

	/* first fragment of a TCP SYN: flags kept */
	frame_tcp(&f, OBS_TCP_SYN, 0, NULL);
	put16(f.b + f.ip + 6, 0x2000);
	assert_int_equal(obs_parse(f.b, f.len, &m), -1);
	assert_int_equal(m.frag, OBS_FRAG_FIRST);
	assert_int_equal(m.tcp_flags, OBS_TCP_SYN);
	assert_int_equal(m.dport, 23);

	/* a later fragment of that SYN (offset 1 = 8 bytes, even with DF): no header read */
	put16(f.b + f.ip + 6, 0x4001);
	assert_int_equal(obs_parse(f.b, f.len, &m), -1);
	assert_int_equal(m.frag, OBS_FRAG_LATER);
	assert_int_equal(m.proto, 6);
	assert_int_equal(m.proto_idx, OBX_P_TCP);
	assert_int_equal(m.sport, 0);
	assert_int_equal(m.dport, 0);
	assert_int_equal(m.tcp_flags, 0);
	assert_int_equal(m.tcp_seq, 0);
	assert_int_equal(m.payload_len, 0);

	/* a later ICMP fragment of 3 bytes (shorter than any ICMP header): accepted,
	 * type/code 0 (not an echo reply: events.h classes it ip/1) */
	build(&f, 0, NULL, 1, (const uint8_t *)"\x08\x00\x00", 3, 0);
	put16(f.b + f.ip + 6, 0x00b9);
	assert_int_equal(obs_parse(f.b, f.len, &m), -1);
	assert_int_equal(m.frag, OBS_FRAG_LATER);
	assert_int_equal(m.proto_idx, OBX_P_ICMP);
	assert_int_equal(m.icmp_type, 0);

	/* the 65535 edge: offset 8185 * 8 = 65480, + 20 + 35 = 65535 accepted, 36 not */
	memset(u, 'x', sizeof(u));
	build(&f, 0, NULL, 17, u, 35, 0);
	put16(f.b + f.ip + 6, 0x1ff9);
	assert_int_equal(obs_parse(f.b, f.len, &m), -1);
	assert_int_equal(m.frag, OBS_FRAG_LATER);
	build(&f, 0, NULL, 17, u, 36, 0);
	put16(f.b + f.ip + 6, 0x1ff9);
	assert_int_equal(obs_parse(f.b, f.len, &m), OBX_DROP_FRAGMENT);

	/* a first fragment captured short (96-byte snaplen of a 1500-byte fragment) whose
	 * header is present: accepted; with the header cut by the capture: trunc_l4 */
	n = udp_hdr(u, 7, 9, 40);
	build(&f, 0, NULL, 17, u, n, 0);
	put16(f.b + f.ip + 2, 1480);
	put16(f.b + f.l4 + 4, 3000);
	put16(f.b + f.ip + 6, 0x2000);
	assert_int_equal(obs_parse_snap(f.b, f.len, 1494, &m), -1);
	assert_int_equal(obs_parse_snap(f.b, f.ip + 24, 1494, &m), OBX_DROP_TRUNC_L4);
}

#define TESTS(T) T(test_fragments) T(test_tcp_syn) T(test_tcp_synack_rst) T(test_tcp_options_payload) \
	T(test_udp) T(test_icmp_echo) T(test_gre_other) T(test_vlan) T(test_eth_padding) \
	T(test_drop_reasons) T(test_truncation_property) T(test_snaplen_property) \
	T(test_mutation_property)
OBS_TEST_MAIN(TESTS, NULL, NULL)
