/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pcap_loop — the yardstick of the replay rows of bench/run: a bare pcap_next_ex() loop
 * over a capture that counts packets per source address, the least any replay of the file
 * must do.  No DPDK, one thread.
 *
 *   pcap_loop FILE
 *
 * Each frame's source IPv4 (behind up to two 802.1Q/802.1ad tags, as the parser reads
 * it; other frames are counted apart) is counted in an open-addressing table that grows
 * at half load.  Prints "pl KEY VALUE" lines: packets, sources, no_source, seconds
 * (the loop only: open to last frame), mpps.  Exit 1 on a read error.
 */
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct pl_tab {
	uint32_t *key;          /* address + 1: 0 is empty */
	uint32_t *cnt;
	uint64_t mask, n;
};

static int pl_alloc(struct pl_tab *t, uint64_t cap)
{
	t->key = calloc(cap, sizeof(*t->key));
	t->cnt = calloc(cap, sizeof(*t->cnt));
	t->mask = cap - 1;
	t->n = 0;
	return t->key != NULL && t->cnt != NULL ? 0 : -1;
}

static inline uint64_t pl_hash(uint32_t a)
{
	return (uint64_t)a * 0x9e3779b97f4a7c15ull >> 20;
}

static void pl_put(struct pl_tab *t, uint32_t k, uint32_t c)
{
	uint64_t i = pl_hash(k) & t->mask;

	while (t->key[i] != 0 && t->key[i] != k)
		i = (i + 1) & t->mask;
	if (t->key[i] == 0) {
		t->key[i] = k;
		t->n++;
	}
	t->cnt[i] += c;
}

static int pl_count(struct pl_tab *t, uint32_t addr)
{
	if ((t->n + 1) * 2 > t->mask + 1) {
		struct pl_tab o = *t;

		if (pl_alloc(t, (o.mask + 1) * 2) != 0)
			return -1;
		for (uint64_t i = 0; i <= o.mask; i++)
			if (o.key[i] != 0)
				pl_put(t, o.key[i], o.cnt[i]);
		free(o.key);
		free(o.cnt);
	}
	pl_put(t, addr + 1u, 1);
	return 0;
}

/* The source IPv4 of an Ethernet frame, as obscura's parser finds it; 0 = none. */
static int pl_src(const uint8_t *f, uint32_t len, uint32_t *src)
{
	uint32_t off = 12;
	uint16_t et;

	if (len < 14)
		return 0;
	et = (uint16_t)(f[12] << 8 | f[13]);
	for (int d = 0; (et == 0x8100 || et == 0x88a8) && d < 2; d++) {
		off += 4;
		if (len < off + 2)
			return 0;
		et = (uint16_t)(f[off] << 8 | f[off + 1]);
	}
	off += 2;
	if (et != 0x0800 || len < off + 16)
		return 0;
	*src = (uint32_t)f[off + 12] << 24 | (uint32_t)f[off + 13] << 16 |
	       (uint32_t)f[off + 14] << 8 | f[off + 15];
	return 1;
}

int main(int argc, char **argv)
{
	char err[PCAP_ERRBUF_SIZE];
	struct pl_tab t;
	struct pcap_pkthdr *ph;
	const u_char *data;
	struct timespec t0, t1;
	uint64_t n = 0, none = 0;
	double dt;
	pcap_t *p;
	int r;

	if (argc != 2) {
		fprintf(stderr, "usage: pcap_loop FILE\n");
		return 2;
	}
	if (pl_alloc(&t, 1u << 20) != 0) {
		fprintf(stderr, "pcap_loop: out of memory\n");
		return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	p = pcap_open_offline_with_tstamp_precision(argv[1], PCAP_TSTAMP_PRECISION_NANO, err);
	if (p == NULL) {
		fprintf(stderr, "pcap_loop: %s: %s\n", argv[1], err);
		return 1;
	}
	while ((r = pcap_next_ex(p, &ph, &data)) == 1) {
		uint32_t src;

		n++;
		if (!pl_src(data, ph->caplen, &src))
			none++;
		else if (pl_count(&t, src) != 0) {
			fprintf(stderr, "pcap_loop: out of memory\n");
			return 1;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (r == PCAP_ERROR) {
		fprintf(stderr, "pcap_loop: %s: %s\n", argv[1], pcap_geterr(p));
		return 1;
	}
	pcap_close(p);
	dt = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("pl packets %llu\npl sources %llu\npl no_source %llu\npl seconds %.4f\n"
	       "pl mpps %.3f\n", (unsigned long long)n, (unsigned long long)t.n,
	       (unsigned long long)none, dt, dt > 0 ? (double)n / dt / 1e6 : 0.0);
	free(t.key);
	free(t.cnt);
	return 0;
}
