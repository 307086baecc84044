/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * trafmix.c — see trafmix.h.  Single-threaded; the callers build the pool once at start.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "resip_csv.h"
#include "trafmix.h"

enum { BM_R_BACKGROUND = 0, BM_R_MIRAI, BM_R_RESIP, BM_R_SCANPFX };

static const uint16_t bm_scan_ports[32] = {
	21, 22, 23, 25, 53, 80, 110, 111, 135, 139, 143, 443, 445, 993, 995, 1433,
	1723, 2323, 3306, 3389, 5060, 5432, 5900, 6379, 8000, 8080, 8443, 8888, 9200,
	11211, 27017, 37215,
};

static const char *const bm_providers[] = {
	"bright", "oxylabs", "smartproxy", "iproyal", "netnut", "soax", "packetstream",
	"proxyrack", "geosurf", "infatica",
};

/* lowbias32: xorshift-multiply rounds, each a bijection on 32 bits */
static inline uint32_t bm_mix32(uint32_t x)
{
	x ^= x >> 16; x *= 0x7feb352du;
	x ^= x >> 15; x *= 0x846ca68bu;
	x ^= x >> 16;
	return x;
}

static inline uint32_t bm_perm(uint64_t seed, uint32_t x)
{
	return bm_mix32(bm_mix32(x ^ (uint32_t)seed) ^ (uint32_t)(seed >> 32));
}

static inline uint64_t bm_splitmix(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static bool bm_reserved(uint32_t a)
{
	uint32_t o = a >> 24;

	return o == 0 || o == 10 || o == 127 || o >= 224 ||
	       (a & 0xffc00000u) == 0x64400000u ||   /* 100.64/10 */
	       (a & 0xffff0000u) == 0xa9fe0000u ||   /* 169.254/16 */
	       (a & 0xfff00000u) == 0xac100000u ||   /* 172.16/12 */
	       (a & 0xffff0000u) == 0xc0a80000u ||   /* 192.168/16 */
	       (a & 0xfffe0000u) == 0xc6120000u;     /* 198.18/15: the bench telescope */
}

/* Source i of region r: distinct over every (r, i) with i < 2^28, never reserved
 * (the inputs of the bijection differ, so the outputs do). */
static uint32_t bm_addr(uint64_t seed, uint32_t r, uint32_t i)
{
	uint32_t round, a = 0;

	for (round = 0; round < 4; round++) {
		a = bm_perm(seed, (round << 30) | (r << 28) | (i & 0x0fffffffu));
		if (!bm_reserved(a))
			return a;
	}
	return a;
}

uint32_t bm_resip_addr(uint64_t seed, uint32_t i)
{
	return bm_addr(seed, BM_R_RESIP, i);
}

/* Scanner prefix k: the first BM_SCAN_HOSTS/4 are /24s holding 4 scanner hosts each. */
static uint32_t bm_scan_prefix(uint64_t seed, uint32_t k, uint8_t *len)
{
	uint32_t a = bm_addr(seed, BM_R_SCANPFX, k), h = bm_mix32(k ^ 0x5ca11e5u) % 100;

	*len = k < BM_SCAN_HOSTS / 4 ? 24 : h < 70 ? 24 : h < 85 ? 32 : h < 95 ? 28 : 16;
	return *len == 32 ? a : a & ~((1u << (32 - *len)) - 1u);
}

static uint32_t bm_scan_host(uint64_t seed, uint32_t h)
{
	uint8_t len;

	return bm_scan_prefix(seed, h / 4, &len) + 1u + h % 4u;
}

void bm_mix_defaults(struct bm_mix_conf *c)
{
	memset(c, 0, sizeof(*c));
	c->seed = 6;
	c->n_sources = 1000000;
	c->n_packets = 2000000;
	c->share[BM_K_SCANNER] = 0.30;
	c->share[BM_K_MIRAI] = 0.15;
	c->share[BM_K_RESIP] = 0.05;
	c->tel_addr = 0xc6120000u;   /* 198.18.0.0/20 */
	c->tel_len = 20;
	c->n_resip_table = 6200000;
}

static uint16_t bm_csum(const uint8_t *p, unsigned n)
{
	uint32_t s = 0;
	unsigned i;

	for (i = 0; i + 1 < n; i += 2)
		s += (uint32_t)p[i] << 8 | p[i + 1];
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static void bm_put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static void bm_put32(uint8_t *p, uint32_t v)
{
	bm_put16(p, (uint16_t)(v >> 16));
	bm_put16(p + 2, (uint16_t)v);
}

/* proto 6: TCP with flags; 17: UDP; 1: ICMP echo.  The frame is zero-padded to 60. */
static void bm_frame(uint8_t *f, uint32_t src, uint32_t dst, uint8_t proto, uint16_t sport,
                     uint16_t dport, uint8_t tcp_flags, uint32_t seq, uint16_t ip_id)
{
	static const uint8_t mac[12] = { 2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2 };
	uint8_t *ip = f + 14, *l4 = ip + 20;
	uint16_t l4len = proto == 6 ? 20 : 8;

	memset(f, 0, BM_FRAME_SLOT);
	memcpy(f, mac, sizeof(mac));
	bm_put16(f + 12, 0x0800);
	ip[0] = 0x45;
	bm_put16(ip + 2, (uint16_t)(20 + l4len));
	bm_put16(ip + 4, ip_id);
	ip[8] = 64;
	ip[9] = proto;
	bm_put32(ip + 12, src);
	bm_put32(ip + 16, dst);
	bm_put16(ip + 10, bm_csum(ip, 20));
	if (proto == 6) {
		bm_put16(l4, sport);
		bm_put16(l4 + 2, dport);
		bm_put32(l4 + 4, seq);
		l4[12] = 5 << 4;
		l4[13] = tcp_flags;
		bm_put16(l4 + 14, 65535);
	} else if (proto == 17) {
		bm_put16(l4, sport);
		bm_put16(l4 + 2, dport);
		bm_put16(l4 + 4, 8);
	} else {
		l4[0] = 8;   /* echo request */
		bm_put16(l4 + 4, sport);
		bm_put16(l4 + 6, dport);
	}
}

int bm_pool_build(const struct bm_mix_conf *c, struct bm_pool *p)
{
	uint64_t rng = c->seed * 0x2545f4914f6cdd1dull + 1;
	uint32_t tel_n = c->tel_len >= 32 ? 1u : 1u << (32 - c->tel_len);
	uint32_t k, i, j, cnt[BM_K_N] = { 0 }, n_hot_pkt, n_hot, *sid, *last;
	double other = 0;

	memset(p, 0, sizeof(*p));
	for (k = 0; k < BM_K_BACKGROUND; k++) {
		if (c->share[k] < 0 || c->share[k] > 1)
			return -EINVAL;
		other += c->share[k];
	}
	if (other > 1 || c->n_packets < c->n_sources || c->n_sources < 4 * BM_SCAN_HOSTS ||
	    c->tel_len < 8 || c->tel_len > 30)
		return -EINVAL;
	for (k = 0; k < BM_K_BACKGROUND; k++)
		p->n_pkt[k] = (uint32_t)(c->share[k] * c->n_packets);
	p->n_pkt[BM_K_BACKGROUND] = c->n_packets - p->n_pkt[0] - p->n_pkt[1] - p->n_pkt[2];
	/* sources: 64 scanners; mirai bots and RESIP members at a third of their packets
	 * (a few packets each), capped by the RESIP table; background takes the rest */
	p->n_src[BM_K_SCANNER] = p->n_pkt[BM_K_SCANNER] ? BM_SCAN_HOSTS : 0;
	p->n_src[BM_K_MIRAI] = (p->n_pkt[BM_K_MIRAI] + 2) / 3;
	p->n_src[BM_K_RESIP] = (p->n_pkt[BM_K_RESIP] + 2) / 3;
	if (p->n_src[BM_K_RESIP] > c->n_resip_table)
		p->n_src[BM_K_RESIP] = c->n_resip_table;
	j = p->n_src[0] + p->n_src[1] + p->n_src[2];
	if (j >= c->n_sources) {
		/* few sources asked for: shrink the bot and member populations */
		p->n_src[BM_K_MIRAI] = p->n_src[BM_K_MIRAI] ? (c->n_sources - p->n_src[0]) / 4 : 0;
		p->n_src[BM_K_RESIP] = p->n_src[BM_K_RESIP] ? (c->n_sources - p->n_src[0]) / 4 : 0;
		j = p->n_src[0] + p->n_src[1] + p->n_src[2];
	}
	p->n_src[BM_K_BACKGROUND] = c->n_sources - j;
	if (c->hot_share < 0 || c->hot_share >= 1 ||
	    (c->hot_share > 0 && (c->hot_sources == 0 ||
	                          c->hot_sources >= p->n_src[BM_K_BACKGROUND])))
		return -EINVAL;
	n_hot_pkt = c->hot_share > 0 ? (uint32_t)(c->hot_share * p->n_pkt[BM_K_BACKGROUND]) : 0;
	n_hot = n_hot_pkt ? c->hot_sources : 0;
	if (p->n_src[BM_K_BACKGROUND] - n_hot > p->n_pkt[BM_K_BACKGROUND] - n_hot_pkt ||
	    n_hot > n_hot_pkt)
		return -EINVAL;   /* every background source needs a frame */
	for (k = 0; k < BM_K_N; k++)
		if ((p->n_pkt[k] == 0) != (p->n_src[k] == 0))
			return -EINVAL;

	p->frames = malloc((size_t)c->n_packets * BM_FRAME_SLOT);
	sid = malloc((size_t)c->n_packets * sizeof(*sid));
	last = malloc((size_t)c->n_sources * sizeof(*last));
	if (p->frames == NULL || sid == NULL || last == NULL) {
		free(p->frames);
		free(sid);
		free(last);
		p->frames = NULL;
		return -ENOMEM;
	}
	p->n = c->n_packets;
	for (i = 0; i < p->n; i++) {
		uint8_t *f = p->frames + (size_t)i * BM_FRAME_SLOT;
		uint64_t r = bm_splitmix(&rng);
		uint32_t dst, src, n_k;

		/* kinds laid out in runs, shuffled below */
		for (k = 0, n_k = 0; k < BM_K_N; k++) {
			n_k += p->n_pkt[k];
			if (i < n_k)
				break;
		}
		j = cnt[k]++;
		dst = c->tel_addr + (uint32_t)(r % tel_n);
		/* a dense source id for the repeat count: kinds' sources one after another */
		sid[i] = (k > 0 ? p->n_src[0] : 0) + (k > 1 ? p->n_src[1] : 0) +
		         (k > 2 ? p->n_src[2] : 0);
		switch (k) {
		case BM_K_SCANNER: {
			uint32_t h = j % BM_SCAN_HOSTS, step = j / BM_SCAN_HOSTS;
			uint32_t idx = (step * 2654435761u + h * 7919u) & (tel_n - 1);

			sid[i] += h;
			src = bm_scan_host(c->seed, h);
			bm_frame(f, src, c->tel_addr + idx, 6, (uint16_t)(40000 + h),
			         bm_scan_ports[(step / tel_n + h) % 32], 0x02, (uint32_t)r, 54321);
			break;
		}
		case BM_K_MIRAI:
			sid[i] += j % p->n_src[k];
			src = bm_addr(c->seed, BM_R_MIRAI, j % p->n_src[k]);
			bm_frame(f, src, dst, 6, (uint16_t)(1024 + (r >> 32) % 60000),
			         (r >> 20) % 10 ? 23 : 2323, 0x02, dst, (uint16_t)(r >> 48));
			break;
		case BM_K_RESIP:
			sid[i] += j % p->n_src[k];
			src = bm_resip_addr(c->seed, j % p->n_src[k]);
			bm_frame(f, src, dst, !c->all_syn && (r >> 60) & 1 ? 17 : 6, (uint16_t)(1024 + (r >> 32) % 60000),
			         (uint16_t)(1 + (r >> 16) % 65535), 0x02, (uint32_t)(r >> 8),
			         (uint16_t)(r >> 48));
			break;
		default: {
			unsigned pr = (unsigned)((r >> 56) % 10);
			uint32_t s;

			if (j >= p->n_pkt[k] - n_hot_pkt) {
				/* a heavy hitter: its own protocol and one popular port */
				s = (uint32_t)(r % n_hot);
				pr = bm_mix32(s) % 10;
				sid[i] += s;
				src = bm_addr(c->seed, BM_R_BACKGROUND, s);
				bm_frame(f, src, dst, c->all_syn || pr < 6 ? 6 : pr < 9 ? 17 : 1,
				         (uint16_t)(1024 + (r >> 32) % 60000),
				         bm_scan_ports[bm_mix32(s ^ 0x5bd1e995u) % 32], 0x02,
				         (uint32_t)(r >> 8), (uint16_t)(r >> 48));
				break;
			}
			s = n_hot + j % (p->n_src[k] - n_hot);
			sid[i] += s;
			src = bm_addr(c->seed, BM_R_BACKGROUND, s);
			bm_frame(f, src, dst, c->all_syn || pr < 6 ? 6 : pr < 9 ? 17 : 1,
			         (uint16_t)(1024 + (r >> 32) % 60000), (uint16_t)(1 + (r >> 16) % 65535),
			         0x02, (uint32_t)(r >> 8), (uint16_t)(r >> 48));
			break;
		}
		}
	}
	/* Fisher-Yates: sources interleave as on a link */
	for (i = p->n - 1; i > 0; i--) {
		uint8_t tmp[BM_FRAME_SLOT];

		j = (uint32_t)(bm_splitmix(&rng) % ((uint64_t)i + 1));
		memcpy(tmp, p->frames + (size_t)i * BM_FRAME_SLOT, BM_FRAME_SLOT);
		memcpy(p->frames + (size_t)i * BM_FRAME_SLOT, p->frames + (size_t)j * BM_FRAME_SLOT,
		       BM_FRAME_SLOT);
		memcpy(p->frames + (size_t)j * BM_FRAME_SLOT, tmp, BM_FRAME_SLOT);
		k = sid[i];
		sid[i] = sid[j];
		sid[j] = k;
	}
	/* repeats within 65 536 frames, the pool played in a loop (two rounds: the second
	 * sees the first's positions) */
	for (i = 0; i < c->n_sources; i++)
		last[i] = UINT32_MAX;
	for (uint64_t q = 0; q < 2ull * p->n; q++) {
		uint32_t f = (uint32_t)(q % p->n);

		if (q >= p->n && last[sid[f]] != UINT32_MAX && q - last[sid[f]] <= 65536)
			p->n_repeat_64k++;
		last[sid[f]] = (uint32_t)q;
	}
	free(sid);
	free(last);
	return 0;
}

void bm_pool_free(struct bm_pool *p)
{
	free(p->frames);
	memset(p, 0, sizeof(*p));
}

int bm_write_resip_csv(const char *path, uint64_t seed, uint32_t n)
{
	const int64_t day0 = 19358;   /* 2023-01-01 */
	uint32_t i;
	FILE *f = fopen(path, "w");

	if (f == NULL)
		return -errno;
	bench_resip_csv_header(f);
	for (i = 0; i < n; i++) {
		uint32_t h = bm_mix32(i ^ 0xc5f0u);
		/* windows open in 2023-2024 and still open years ahead: the benchmark's
		 * packets (stamped now) fall inside them, as live RESIP traffic does */
		int64_t d1 = day0 + h % 500, d2 = d1 + 5000 + (h >> 9) % 200;

		bench_resip_csv_days(f, bm_resip_addr(seed, i),
		                     bm_providers[(h >> 20) % (sizeof(bm_providers) / sizeof(bm_providers[0]))],
		                     d1, d2);
	}
	if (fclose(f) != 0)
		return -errno;
	return 0;
}

int bm_write_scanner_prefixes(const char *path, uint64_t seed, uint32_t n)
{
	char ip[16];
	uint32_t k;
	FILE *f = fopen(path, "w");

	if (f == NULL)
		return -errno;
	fputs("# obscura bench: generated scanner prefixes (bench/trafmix.c)\n", f);
	for (k = 0; k < n; k++) {
		uint8_t len;
		uint32_t a = bm_scan_prefix(seed, k, &len);

		fprintf(f, "%s/%u bench-scanner-%u\n", bench_ip_str(a, ip), len, k % 40);
	}
	if (fclose(f) != 0)
		return -errno;
	return 0;
}
