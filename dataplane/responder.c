/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * responder.c — the handshake responder's worker stage (responder.h).  Every function
 * but obs_resp_cfg_build()/obs_resp_status() runs on the worker owning the struct.
 *
 * The frames it reads were accepted by the parser (parse.c: lengths checked against
 * the bytes present), but this file reads its own fields (ack number, data offset) and
 * checks them against the first segment again, so it trusts nothing it did not check.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_byteorder.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

#include "exchange_recs.h"
#include "log.h"
#include "parse.h"
#include "resp_synack.h"
#include "responder.h"
#include "telescope.h"

/* Header fields at any alignment (behind a 14-byte Ethernet header a 32-bit field sits at
 * 2 mod 4): memcpy compiles to one load or store on x86, and is defined everywhere. */
static inline uint32_t ld_be32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return rte_be_to_cpu_32(v);
}

static inline uint16_t ld_be16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, 2);
	return rte_be_to_cpu_16(v);
}

static inline void st_be32(uint8_t *p, uint32_t v)
{
	v = rte_cpu_to_be_32(v);
	memcpy(p, &v, 4);
}

static inline void st_be16(uint8_t *p, uint16_t v)
{
	v = rte_cpu_to_be_16(v);
	memcpy(p, &v, 2);
}

#define ETH_P_IPV4 0x0800
#define ETH_P_ARP  0x0806
#define ETH_P_VLAN 0x8100
#define ETH_P_QINQ 0x88a8

int obs_resp_cfg_build(const struct obs_conf *c, const struct obs_tel *tel,
                       struct obs_resp_cfg **out)
{
	struct obs_resp_cfg *cfg;
	ssize_t got = 0;
	int fd;

	*out = NULL;
	if (c->resp_n_prefixes == 0)
		return 0;
	cfg = calloc(1, sizeof(*cfg));
	if (cfg == NULL)
		return -ENOMEM;
	cfg->n = c->resp_n_prefixes;
	for (uint32_t i = 0; i < cfg->n; i++) {
		uint8_t l = c->resp_prefix_len[i];

		cfg->lo[i] = c->resp_prefix_addr[i];
		cfg->hi[i] = cfg->lo[i] + (uint32_t)((1ull << (32 - l)) - 1);
	}
	cfg->payload_bytes = c->resp_payload_bytes;
	cfg->max_pps = c->resp_max_pps;
	cfg->arp = c->resp_arp;
	cfg->tel = tel;
	fd = open(c->resp_secret_file, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		while (got < (ssize_t)sizeof(cfg->key)) {
			ssize_t k = read(fd, cfg->key + got, sizeof(cfg->key) - (size_t)got);

			if (k <= 0)
				break;
			got += k;
		}
		close(fd);
	}
	if (fd < 0 || got < (ssize_t)sizeof(cfg->key)) {
		OBS_ERR("responder.secret_file %s: %s", c->resp_secret_file,
		        fd < 0 ? strerror(errno) : "fewer than 16 bytes");
		free(cfg);
		return -EINVAL;
	}
	*out = cfg;
	return 0;
}

void obs_resp_cfg_free(struct obs_resp_cfg *cfg)
{
	if (cfg != NULL)
		memset(cfg->key, 0, sizeof(cfg->key));
	free(cfg);
}

void obs_resp_status(struct obx_header *h, const struct obs_conf *c, bool replay)
{
	struct obx_resp_status *s = &h->resp;

	memset(s, 0, sizeof(*s));
	if (c->resp_n_prefixes == 0)
		return;
	s->flags = OBX_RESP_F_ON | (replay ? OBX_RESP_F_TX_OFF : 0) | (c->resp_arp ? OBX_RESP_F_ARP : 0);
	s->n_prefixes = c->resp_n_prefixes;
	for (uint32_t i = 0; i < c->resp_n_prefixes; i++) {
		s->n_addrs += 1ull << (32 - c->resp_prefix_len[i]);
		if (i < 16) {
			s->prefix_addr[i] = c->resp_prefix_addr[i];
			s->prefix_len[i] = c->resp_prefix_len[i];
		}
	}
	s->payload_bytes = c->resp_payload_bytes;
	s->max_pps = c->resp_max_pps;
}

void obs_resp_init(struct obs_resp *r, const struct obs_resp_cfg *cfg, uint64_t hz)
{
	memset(r, 0, sizeof(*r));
	r->cfg = cfg;
	r->hz = hz;
	if (cfg != NULL) {
		obs_cookie_init(&r->keys, cfg->key);
		r->tokens = (uint64_t)(cfg->max_pps < OBS_RESP_BUCKET ? cfg->max_pps : OBS_RESP_BUCKET) * hz;
	}
}

void obs_resp_begin(struct obs_resp *r, const struct obs_resp_txq *q, uint64_t tsc)
{
	const uint64_t cap = (uint64_t)(r->cfg->max_pps < OBS_RESP_BUCKET ? r->cfg->max_pps :
	                                OBS_RESP_BUCKET) * r->hz;
	uint64_t dt = tsc - r->last_tsc;

	r->txq = q;
	if (r->last_tsc == 0 || dt > r->hz)
		dt = r->hz;             /* idle a second or more: the bucket is full anyway */
	r->last_tsc = tsc;
	r->tokens += dt * r->cfg->max_pps;
	if (r->tokens > cap)
		r->tokens = cap;
}

/* A token for one packet, else counted capped. */
static inline bool resp_take(struct obs_resp *r, struct obx_counters *c)
{
	if (r->tokens < r->hz) {
		c->reserved[OBX_CTR_RESP_CAPPED]++;
		return false;
	}
	r->tokens -= r->hz;
	return true;
}

/* Sources never answered: martian, multicast, broadcast, one of the telescope's own. */
static inline bool resp_src_bad(const struct obs_resp_cfg *cfg, uint32_t src)
{
	uint8_t s;
	uint32_t slot;

	if ((src >> 24) == 0 || (src >> 24) == 127 || (src >> 28) >= 0xe ||
	    (src >> 16) == 0xa9fe)
		return true;
	return obs_tel_lookup(cfg->tel, src, &s, &slot) == 0;
}

/* Offset of the IPv4 / ARP header after up to two VLAN tags, and its ethertype. */
static inline uint32_t resp_l3(const uint8_t *f, uint32_t len, uint16_t *type)
{
	uint32_t off = 12;

	for (unsigned i = 0; i <= 2 && off + 2 <= len; i++) {
		uint16_t t = (uint16_t)(f[off] << 8 | f[off + 1]);

		if (t != ETH_P_VLAN && t != ETH_P_QINQ) {
			*type = t;
			return off + 2;
		}
		off += 4;
	}
	*type = 0;
	return 0;
}

static inline void resp_queue(struct obs_resp *r, struct obx_counters *c, struct rte_mbuf *m,
                              enum obs_resp_kind k)
{
	if (r->n_tx == OBS_RESP_TX_MAX) {    /* cannot happen: one reply per frame */
		c->reserved[OBX_CTR_RESP_TX_REFUSED]++;
		rte_pktmbuf_free(m);
		return;
	}
	r->kind[r->n_tx] = (uint8_t)k;
	r->tx[r->n_tx++] = m;
}

/* Both checksums of the reply o (IPv4 header ip at l3, without options; TCP header t)
 * computed anew: offloaded when the TX queue has it, else in software. */
static void resp_cksum(const struct obs_resp *r, struct rte_mbuf *o, struct rte_ipv4_hdr *ip,
                       uint8_t *t, uint32_t l3)
{
	ip->hdr_checksum = 0;
	*(uint16_t *)(t + 16) = 0;
	if (r->txq->ol_flags != 0) {
		o->l2_len = l3;
		o->l3_len = 20;
		o->ol_flags |= r->txq->ol_flags;
		*(uint16_t *)(t + 16) = rte_ipv4_phdr_cksum(ip, o->ol_flags);
	} else {
		ip->hdr_checksum = rte_ipv4_cksum(ip);
		*(uint16_t *)(t + 16) = rte_ipv4_udptcp_cksum(ip, t);
	}
}

/* The RST for the segment at f (l3 its IPv4 header offset), in a fresh mbuf: addresses
 * and ports swapped, the given seq/ack (a SYN-ACK is resp_synack()'s). */
static void resp_tcp_reply(struct obs_resp *r, struct obx_counters *c, const struct rte_mbuf *m,
                           const uint8_t *f, uint32_t l3, uint32_t src, uint32_t dst,
                           uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack,
                           uint8_t flags)
{
	const uint32_t tcp_len = 20u;
	struct rte_mbuf *o;
	struct rte_ipv4_hdr *ip;
	uint8_t *p, *t;

	if (!resp_take(r, c))
		return;
	o = rte_pktmbuf_alloc(m->pool);
	if (o == NULL || (p = (uint8_t *)rte_pktmbuf_append(o, (uint16_t)(l3 + 20 + tcp_len))) == NULL) {
		c->reserved[OBX_CTR_RESP_TX_REFUSED]++;
		rte_pktmbuf_free(o);
		return;
	}
	memcpy(p, f + 6, 6);            /* to the sender's MAC, from the one it used */
	memcpy(p + 6, f, 6);
	memcpy(p + 12, f + 12, l3 - 12);    /* VLAN tags and ethertype as received */
	ip = (struct rte_ipv4_hdr *)(p + l3);
	ip->version_ihl = 0x45;
	ip->type_of_service = 0;
	ip->total_length = rte_cpu_to_be_16((uint16_t)(20 + tcp_len));
	ip->packet_id = 0;
	ip->fragment_offset = rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG);
	ip->time_to_live = 64;
	ip->next_proto_id = 6;
	ip->hdr_checksum = 0;
	ip->src_addr = rte_cpu_to_be_32(dst);
	ip->dst_addr = rte_cpu_to_be_32(src);
	t = p + l3 + 20;
	st_be16(t + 0, dport);
	st_be16(t + 2, sport);
	st_be32(t + 4, seq);
	st_be32(t + 8, ack);
	t[12] = (uint8_t)((tcp_len / 4) << 4);
	t[13] = flags;
	*(uint16_t *)(t + 14) = 0;
	*(uint16_t *)(t + 18) = 0;
	resp_cksum(r, o, ip, t, l3);
	resp_queue(r, c, o, OBS_RESP_K_RST);
}

/* The RESP record of (src, dst, dport, hour): a handshake (count_it) and/or a payload. */
struct resp_key {
	uint32_t src, dst, hour;
	uint16_t dport;
};

static inline bool resp_match(const void *rec, const void *key)
{
	const struct obx_resp_rec *a = rec;
	const struct resp_key *k = key;

	return a->src == k->src && a->dst == k->dst && a->dport == k->dport && a->hour == k->hour;
}

static inline bool resp_used(const void *rec)
{
	return ((const struct obx_resp_rec *)rec)->count != 0;
}

static inline uint32_t resp_hash(const struct resp_key *k)
{
	uint64_t x = ((uint64_t)k->src << 32 | k->dst) ^ ((uint64_t)k->hour * 0x9e3779b97f4a7c15ull) ^
	             ((uint64_t)k->dport << 47);

	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	return (uint32_t)x;
}

/* Returns 1 when this segment counted as a new session (a pure ACK always does; a data
 * segment only when its key had no record yet in the epoch). */
static int resp_record(struct obs_resp *r, struct obs_epoch *ep, uint32_t src, uint32_t dst,
                       uint16_t dport, uint64_t t, uint8_t sensor, const uint8_t *pay,
                       uint16_t pay_len, uint32_t sid)
{
	struct obx_resp_rec *a;
	struct resp_key k;
	int rc, counted = 0;

	do {
		k = (struct resp_key){ src, dst, obs_epoch_hour(ep, t), dport };
		rc = obs_epoch_find_or_insert(ep, OBX_TAB_RESP, resp_hash(&k), &k, resp_match,
		                              resp_used, sizeof(*a), (void **)&a);
	} while (rc == OBS_EPOCH_SWAPPED);
	if (rc == OBS_EPOCH_NEW) {
		memset(a, 0, sizeof(*a));
		a->src = src;
		a->dst = dst;
		a->dport = dport;
		a->sensor = sensor;
		a->hour = k.hour;
		a->first_ns = a->last_ns = t;
		a->count = 1;
		counted = 1;
		(*obs_epoch_n_used(ep, OBX_TAB_RESP))++;
	} else if (rc == OBS_EPOCH_FOUND) {
		if (pay_len == 0) {
			a->count++;
			counted = 1;
		}
		if (t < a->first_ns)
			a->first_ns = t;
		if (t > a->last_ns)
			a->last_ns = t;
	} else {
		return pay_len == 0;    /* no room: lost_updates counted by the epoch */
	}
	if (pay_len > 0 && r->cfg->payload_bytes > 0 && !(a->flags & OBX_RESP_F_PAYLOAD)) {
		uint32_t keep = pay_len < r->cfg->payload_bytes ? pay_len : r->cfg->payload_bytes;

		if (keep > OBX_RESP_PAYLOAD)
			keep = OBX_RESP_PAYLOAD;
		memcpy(a->payload, pay, keep);
		a->payload_len = (uint16_t)keep;
		a->seg_len = pay_len;
		a->flags |= OBX_RESP_F_PAYLOAD;
		ep->c.resp_payloads++;
		if (sid != 0 && !(a->flags & OBX_RESP_F_RULE)) {
			a->sid = sid;
			a->flags |= OBX_RESP_F_RULE;
		}
	}
	return counted;
}

/* The SYN-ACK for the clean SYN m (f its frame, IPv4 header at l3, ihl, tcp_len bytes of
 * TCP), built where it lies (resp_synack.h: checksums updated from the SYN's own) when
 * the burst may give the mbuf away (own: *mp = NULL, the worker frees the rest), else in
 * a fresh mbuf holding a copy of the SYN. */
static void resp_synack(struct obs_resp *r, struct obx_counters *c, struct rte_mbuf **mp,
                        bool own, const uint8_t *f, uint32_t l3, uint32_t ihl, uint32_t tcp_len,
                        uint32_t cookie)
{
	struct rte_mbuf *m = *mp, *o = m;
	const uint32_t syn_len = l3 + ihl + tcp_len;
	uint8_t *p;

	if (!resp_take(r, c))
		return;
	if (likely(own && RTE_MBUF_DIRECT(m) && m->nb_segs == 1 && rte_mbuf_refcnt_read(m) == 1 &&
	           (uint32_t)rte_pktmbuf_tailroom(m) + m->data_len >= l3 + OBS_SYNACK_L34)) {
		*mp = NULL;             /* the reply travels in the SYN's mbuf */
		p = rte_pktmbuf_mtod(m, uint8_t *);
	} else {
		o = rte_pktmbuf_alloc(m->pool);
		if (o == NULL || rte_pktmbuf_tailroom(o) < RTE_MAX(syn_len, l3 + OBS_SYNACK_L34)) {
			c->reserved[OBX_CTR_RESP_TX_REFUSED]++;
			rte_pktmbuf_free(o);
			return;
		}
		p = rte_pktmbuf_mtod(o, uint8_t *);
		memcpy(p, f, syn_len);
	}
	o->data_len = (uint16_t)obs_synack_build(p, l3, ihl, tcp_len, cookie, OBS_RESP_MSS);
	o->pkt_len = o->data_len;
	o->ol_flags = 0;                /* checksums done: nothing for the PMD to offload */
	if (unlikely(r->txq->csum_full))        /* the SYN's may be partial: port.h */
		resp_cksum(r, o, (struct rte_ipv4_hdr *)(p + l3), p + l3 + 20, l3);
	resp_queue(r, c, o, OBS_RESP_K_SYNACK);
}

void obs_resp_tcp(struct obs_resp *r, struct obs_epoch *ep, struct rte_mbuf **mp, bool own,
                  uint64_t t, uint8_t sensor, uint16_t pay_off, uint16_t pay_len, uint32_t sid)
{
	struct obx_counters *c = &ep->c;
	const struct rte_mbuf *m = *mp;
	const uint8_t *f = rte_pktmbuf_mtod(m, const uint8_t *);
	const uint32_t len = m->data_len;
	uint32_t l3, ihl, src, dst, seq, ack, tot;
	uint16_t type, sport, dport;
	const uint8_t *ip, *tcp;
	uint8_t fl;

	if (r->txq == NULL || !r->txq->ok || (f[0] & 1))   /* no TX queue; L2 multicast/broadcast */
		return;
	l3 = resp_l3(f, len, &type);
	if (type != ETH_P_IPV4 || l3 + 20 > len)
		return;
	ip = f + l3;
	ihl = (ip[0] & 0xfu) * 4u;
	if (ihl < 20 || l3 + ihl + 20 > len)
		return;
	tcp = ip + ihl;
	src = ld_be32(ip + 12);
	dst = ld_be32(ip + 16);
	sport = rte_be_to_cpu_16(*(const uint16_t *)tcp);
	dport = ld_be16(tcp + 2);
	seq = ld_be32(tcp + 4);
	ack = ld_be32(tcp + 8);
	fl = tcp[13];
	if (src == dst || resp_src_bad(r->cfg, src))
		return;
	obs_cookie_at(&r->keys, t);
	if ((fl & (OBS_TCP_SYN | OBS_TCP_ACK | OBS_TCP_RST | OBS_TCP_FIN)) == OBS_TCP_SYN) {
		/* the TCP segment by the IP total length (not the frame: Ethernet pads), all of
		 * it present; a checksum the NIC found bad gets no answer (without RX offload a
		 * bad one gets a SYN-ACK as bad: resp_synack.h) */
		tot = ld_be16(ip + 2);
		if (tot < ihl + 20 || l3 + tot > len || ((tcp[12] >> 4) * 4u) < 20 ||
		    ((tcp[12] >> 4) * 4u) > tot - ihl ||
		    (m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK) == RTE_MBUF_F_RX_L4_CKSUM_BAD ||
		    (m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK) == RTE_MBUF_F_RX_IP_CKSUM_BAD)
			return;
		resp_synack(r, c, mp, own, f, l3, ihl, tot - ihl,
		            obs_cookie_make(&r->keys, src, dst, sport, dport));
		return;
	}
	if ((fl & (OBS_TCP_SYN | OBS_TCP_ACK | OBS_TCP_RST)) != OBS_TCP_ACK)
		return;         /* RST, SYN-ACK, FIN without ACK ...: never answered */
	if (!obs_cookie_check(&r->keys, ack - 1, src, dst, sport, dport)) {
		c->reserved[OBX_CTR_RESP_COOKIE_BAD]++;
		return;
	}
	c->reserved[OBX_CTR_RESP_COOKIE_OK]++;
	if (pay_len > 0 && (uint32_t)pay_off + pay_len > len)
		pay_len = (uint16_t)(pay_off < len ? len - pay_off : 0);
	if (resp_record(r, ep, src, dst, dport, t, sensor, f + pay_off, pay_len, sid))
		c->resp_sessions++;
	if (pay_len == 0 && r->cfg->payload_bytes > 0)
		return;         /* wait for the first data segment */
	resp_tcp_reply(r, c, m, f, l3, src, dst, sport, dport, ack,
	               seq + pay_len + ((fl & OBS_TCP_FIN) ? 1u : 0u), OBS_TCP_RST | OBS_TCP_ACK);
}

void obs_resp_arp(struct obs_resp *r, struct obx_counters *c, const struct rte_mbuf *m)
{
	const uint8_t *f = rte_pktmbuf_mtod(m, const uint8_t *);
	const uint32_t len = m->data_len;
	uint32_t l3, tpa, spa;
	uint16_t type;
	const uint8_t *a;
	struct rte_mbuf *o;
	uint8_t *p;

	if (!r->cfg->arp || r->txq == NULL || !r->txq->ok)
		return;
	l3 = resp_l3(f, len, &type);
	if (type != ETH_P_ARP || l3 + 28 > len)
		return;
	a = f + l3;
	/* Ethernet/IPv4 request: htype 1, ptype 0x0800, hlen 6, plen 4, op 1 */
	if (a[0] != 0 || a[1] != 1 || a[2] != 8 || a[3] != 0 || a[4] != 6 || a[5] != 4 ||
	    a[6] != 0 || a[7] != 1)
		return;
	spa = ld_be32(a + 14);
	tpa = ld_be32(a + 24);
	if (!obs_resp_in_h(r->cfg, tpa) || spa == 0 || spa == tpa || resp_src_bad(r->cfg, spa) ||
	    (a[8] & 1))
		return;         /* not ours; a probe or announcement; a bogus sender */
	if (!resp_take(r, c))
		return;
	o = rte_pktmbuf_alloc(m->pool);
	if (o == NULL || (p = (uint8_t *)rte_pktmbuf_append(o, (uint16_t)(l3 + 28))) == NULL) {
		c->reserved[OBX_CTR_RESP_TX_REFUSED]++;
		rte_pktmbuf_free(o);
		return;
	}
	memcpy(p, a + 8, 6);                        /* to the sender's hardware address */
	memcpy(p + 6, r->txq->mac.addr_bytes, 6);
	memcpy(p + 12, f + 12, l3 - 12);
	memcpy(p + l3, a, 6);                       /* htype, ptype, hlen, plen */
	p[l3 + 6] = 0;
	p[l3 + 7] = 2;                              /* reply */
	memcpy(p + l3 + 8, r->txq->mac.addr_bytes, 6);
	memcpy(p + l3 + 14, a + 24, 4);             /* sender: the address asked for */
	memcpy(p + l3 + 18, a + 8, 10);             /* target: the asker's MAC and address */
	resp_queue(r, c, o, OBS_RESP_K_ARP);
}

void obs_resp_flush(struct obs_resp *r, struct obx_counters *c)
{
	uint16_t sent = rte_eth_tx_burst(r->txq->port_id, r->txq->queue, r->tx, r->n_tx);

	for (uint16_t i = 0; i < r->n_tx; i++) {
		if (i >= sent) {
			c->reserved[OBX_CTR_RESP_TX_REFUSED]++;
			rte_pktmbuf_free(r->tx[i]);
			continue;
		}
		switch (r->kind[i]) {
		case OBS_RESP_K_SYNACK:
			c->reserved[OBX_CTR_RESP_SYNACKS]++;
			break;
		case OBS_RESP_K_RST:
			c->resp_rsts++;
			break;
		default:
			c->resp_arps++;
			break;
		}
	}
	r->n_tx = 0;
}
