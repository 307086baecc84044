/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * trafmix.h — the benchmark's telescope traffic mix as a precomputed pool of 64-byte
 * frames (60 bytes + FCS on the wire), and the production-size tables that go with it.
 * Pure C, no DPDK, no state beyond what the caller holds: bench/trafgen plays the pool
 * over a link, bench/burst_bench feeds the same frames to obs_worker_burst() on
 * pre-built mbufs, so the micro and the link figures measure the same packets.
 *
 * The mix (shares of packets, configurable):
 *   scanner     whole-telescope sweepers: 64 hosts inside the first scanner prefixes,
 *               ZMap-like (IP id 54321, TCP SYN), every host walking all of D on 32 ports
 *   mirai       bots: SYN to 23 (90 %) or 2323, TCP seq == destination address
 *   resip       members of the RESIP table (the first rows of the CSV written by
 *               bm_write_resip_csv), SYN / UDP to scattered ports
 *   background  everything else: the rest of --sources distinct addresses, TCP SYN 60 %,
 *               UDP 30 %, ICMP echo 10 %
 * Addresses come from a seeded bijection on 32 bits, so every source index gives a
 * distinct address; addresses in 0/8, 10/8, 127/8, 224/3 and inside the telescope are
 * skipped.  Frames are shuffled, so sources interleave as on a real link.
 */
#ifndef OBSCURA_BENCH_TRAFMIX_H
#define OBSCURA_BENCH_TRAFMIX_H

#include <stdint.h>
#include <stdio.h>

#define BM_FRAME_LEN   60u   /* 64-byte Ethernet frames without the FCS */
#define BM_FRAME_SLOT  64u   /* bytes per frame in the pool */
#define BM_SCAN_HOSTS  64u

enum bm_kind { BM_K_SCANNER = 0, BM_K_MIRAI, BM_K_RESIP, BM_K_BACKGROUND, BM_K_N };

struct bm_mix_conf {
	uint64_t seed;
	uint32_t n_sources;      /* distinct sources in the pool */
	uint32_t n_packets;      /* frames in the pool (>= n_sources) */
	double share[BM_K_N];    /* of packets; background takes what is left */
	uint32_t tel_addr;       /* telescope prefix, host order */
	uint8_t tel_len;
	uint32_t n_resip_table;  /* rows of the RESIP table the members come from */
	/* realistic repeats (0 = off, the uniform worst case): hot_share of the background
	 * packets come from hot_sources heavy hitters, each probing one service (its own
	 * fixed protocol and destination port, from a small popular set), as most
	 * telescope sources do within an hour; the rest of the background stays uniform */
	double hot_share;
	uint32_t hot_sources;
	/* every frame a TCP SYN (RESIP members and background send no UDP or ICMP): the
	 * worst case of the SYN-only stages (fingerprint, coverage); 0 = the mix above */
	int all_syn;
};

struct bm_pool {
	uint8_t *frames;         /* n x BM_FRAME_SLOT bytes, frame i at i * BM_FRAME_SLOT */
	uint32_t n;
	uint32_t n_src[BM_K_N];  /* distinct sources per kind */
	uint32_t n_pkt[BM_K_N];  /* frames per kind */
	/* frames whose source was already seen within the 65 536 frames before it (in pool
	 * order, wrapping): the share of packets a cache-resident per-worker state could
	 * absorb */
	uint32_t n_repeat_64k;
};

/* Defaults: 1 M sources, 2 M frames, scanner 0.30 mirai 0.15 resip 0.05, a /20 at
 * 198.18.0.0, RESIP table of 6.2 M rows. */
void bm_mix_defaults(struct bm_mix_conf *c);

/* Build the pool (malloc'd).  0, or -errno (EINVAL: inconsistent shares/sizes). */
int bm_pool_build(const struct bm_mix_conf *c, struct bm_pool *p);
void bm_pool_free(struct bm_pool *p);

/* i-th RESIP table member (i < 2^28), the address the CSV's row i+1 holds. */
uint32_t bm_resip_addr(uint64_t seed, uint32_t i);

/* RESIP table: header + n rows "ip,provider,first_seen,last_seen" (whole UTC days,
 * resip_csv.h).  0 or -errno. */
int bm_write_resip_csv(const char *path, uint64_t seed, uint32_t n);

/* Scanner table: n lines "a.b.c.d/len label"; the first prefixes hold the scanner hosts
 * of the pool.  0 or -errno. */
int bm_write_scanner_prefixes(const char *path, uint64_t seed, uint32_t n);

#endif
