/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * frame.c — obscura-gen's output (gen.h): the pcap file and the frames in it.
 *
 * The pcap is the nanosecond variant (magic a1b23c4d, version 2.4, LINKTYPE_ETHERNET,
 * snaplen 65535), every record with caplen == wire length, written through one 4 MiB
 * buffer: a frame is built in place (gen_frame_slot) and committed with its record
 * header (gen_frame_commit, which also counts rx_packets / rx_bytes for the truth).
 * Frames: Ethernet with 0-3 VLAN tags, a 20-byte IPv4 header, TCP/UDP/ICMP with their
 * checksums (RFC 791, 793, 768, 792), zero-padded to the 60-byte Ethernet minimum as a
 * NIC delivers them.  Main thread only.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gen.h"

struct gen_totals gen_tot;
FILE *gen_out;
uint8_t *gen_buf;
size_t gen_buf_pos;

void gen_flush(void)
{
	if (gen_buf_pos && fwrite(gen_buf, 1, gen_buf_pos, gen_out) != gen_buf_pos) {
		fprintf(stderr, "obscura-gen: write %s: %s\n", gen_opt.out, strerror(errno));
		exit(1);
	}
	gen_buf_pos = 0;
}

int gen_pcap_open(void)
{
	if (!strcmp(gen_opt.out, "-")) {
		gen_out = stdout;
	} else if (!(gen_out = fopen(gen_opt.out, "wb"))) {
		fprintf(stderr, "obscura-gen: %s: %s\n", gen_opt.out, strerror(errno));
		return -1;
	}
	gen_buf = malloc(GEN_OUTBUF);
	if (!gen_buf) {
		fprintf(stderr, "obscura-gen: out of memory\n");
		return -1;
	}
	/* pcap global header, nanosecond variant (magic a1b23c4d), LINKTYPE_ETHERNET */
	gen_put32le(gen_buf, 0xa1b23c4d);
	gen_buf[4] = 2; gen_buf[5] = 0; gen_buf[6] = 4; gen_buf[7] = 0;
	memset(gen_buf + 8, 0, 8);
	gen_put32le(gen_buf + 16, 65535);
	gen_put32le(gen_buf + 20, 1);
	gen_buf_pos = 24;
	return 0;
}

int gen_pcap_close(void)
{
	gen_flush();
	if (gen_out != stdout ? fclose(gen_out) : fflush(gen_out)) {
		fprintf(stderr, "obscura-gen: %s: %s\n", gen_opt.out, strerror(errno));
		return -1;
	}
	return 0;
}

uint32_t gen_csum_add(uint32_t sum, const uint8_t *p, size_t len)
{
	for (; len > 1; p += 2, len -= 2)
		sum += (uint32_t)p[0] << 8 | p[1];
	if (len)
		sum += (uint32_t)p[0] << 8;
	return sum;
}

uint16_t gen_csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* Ethernet + n_vlan tags (0..3; 2 = 802.1ad outer + 802.1Q inner).  Returns the L3 start. */
uint8_t *gen_eth(uint8_t *f, unsigned n_vlan, uint16_t ethertype, unsigned sensor)
{
	static const uint8_t mac[12] = { 0x02, 0x00, 0x5e, 0x0b, 0x5c, 0x01,     /* appliance port */
	                                 0x00, 0x1b, 0x21, 0x3a, 0x4f, 0x90 };   /* upstream router */
	memcpy(f, mac, 12);
	uint8_t *p = f + 12;
	for (unsigned i = 0; i < n_vlan; i++) {
		uint16_t tpid = (n_vlan == 2 && i == 0) ? 0x88a8 : 0x8100;
		gen_put16(p, tpid);
		gen_put16(p + 2, (uint16_t)(n_vlan == 2 && i == 0 ? 10 : 100 + sensor));
		p += 4;
	}
	gen_put16(p, ethertype);
	return p + 2;
}

/* 20-byte IPv4 header with checksum. frag: the flags+offset field. */
void gen_ipv4(uint8_t *ip, uint32_t src, uint32_t dst, uint8_t proto, uint16_t totlen,
              uint16_t id, uint8_t ttl, uint16_t frag)
{
	ip[0] = 0x45; ip[1] = 0;
	gen_put16(ip + 2, totlen);
	gen_put16(ip + 4, id);
	gen_put16(ip + 6, frag);
	ip[8] = ttl; ip[9] = proto;
	gen_put16(ip + 10, 0);
	gen_put32(ip + 12, src);
	gen_put32(ip + 16, dst);
	gen_put16(ip + 10, gen_csum_fold(gen_csum_add(0, ip, 20)));
}

/* TCP/UDP checksum over the pseudo header (RFC 793 / 768). */
static void gen_l4_csum(uint8_t *ip, uint8_t *l4, unsigned l4len, unsigned csum_off)
{
	uint32_t sum = gen_csum_add(0, ip + 12, 8);
	sum += ip[9];
	sum += l4len;
	gen_put16(l4 + csum_off, 0);
	uint16_t c = gen_csum_fold(gen_csum_add(sum, l4, l4len));
	if (ip[9] == 17 && c == 0)
		c = 0xffff;
	gen_put16(l4 + csum_off, c);
}

const uint8_t gen_opt_mss[4] = { 2, 4, 0x05, 0xb4 };
const uint8_t gen_opt_linux[20] = { 2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 0, 0, 0, 0, 0,
	1, 3, 3, 7 };

/* A valid IPv4 frame; padded to the 60-byte Ethernet minimum. Returns its length. */
uint32_t gen_build(uint8_t *f, unsigned n_vlan, unsigned sensor, const struct gen_pkt *k)
{
	uint8_t *ip = gen_eth(f, n_vlan, 0x0800, sensor), *l4 = ip + 20;
	unsigned l4len;
	switch (k->proto) {
	case 6: {
		unsigned hl = 20 + k->optlen;
		gen_put16(l4, k->sport); gen_put16(l4 + 2, k->dport);
		gen_put32(l4 + 4, k->seq); gen_put32(l4 + 8, k->ack);
		l4[12] = (uint8_t)((hl / 4) << 4); l4[13] = k->flags;
		gen_put16(l4 + 14, k->win); gen_put16(l4 + 18, 0);
		if (k->optlen)
			memcpy(l4 + 20, k->opt, k->optlen);
		if (k->pllen)
			memcpy(l4 + hl, k->pl, k->pllen);
		l4len = hl + k->pllen;
		break;
	}
	case 17:
		gen_put16(l4, k->sport); gen_put16(l4 + 2, k->dport);
		gen_put16(l4 + 4, (uint16_t)(8 + k->pllen));
		if (k->pllen)
			memcpy(l4 + 8, k->pl, k->pllen);
		l4len = 8u + k->pllen;
		break;
	case 1:
		l4[0] = k->icmp_type; l4[1] = k->icmp_code;
		gen_put16(l4 + 2, 0);
		gen_put32(l4 + 4, k->icmp_rest);
		if (k->pllen)
			memcpy(l4 + 8, k->pl, k->pllen);
		l4len = 8u + k->pllen;
		gen_put16(l4 + 2, gen_csum_fold(gen_csum_add(0, l4, l4len)));
		break;
	default:
		if (k->pllen)
			memcpy(l4, k->pl, k->pllen);
		l4len = k->pllen;
		break;
	}
	gen_ipv4(ip, k->src, k->dst, k->proto, (uint16_t)(20 + l4len), k->id, k->ttl, k->df ? 0x4000 : 0);
	if (k->proto == 6)
		gen_l4_csum(ip, l4, l4len, 16);
	else if (k->proto == 17)
		gen_l4_csum(ip, l4, l4len, 6);
	uint32_t len = (uint32_t)(l4 + l4len - f);
	if (len < 60) {
		memset(f + len, 0, 60 - len);
		len = 60;
	}
	return len;
}

unsigned gen_vlan_pick(void)
{
	if (gen_opt.vlan_share <= 0)
		return 0;
	double u = gen_unit();
	return u < gen_opt.vlan_share * 2 / 3 ? 1 : u < gen_opt.vlan_share ? 2 : 0;
}
