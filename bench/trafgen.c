/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * trafgen — the benchmark's traffic source: plays the telescope mix of trafmix.h over
 * an ethdev (net_memif in server role, normally) at the highest rate it can.
 *
 *   trafgen [--sources N] [--packets P] [--scanner-share X] [--mirai-share X]
 *           [--resip-share X] [--resip-rows N] [--seed S] [--duration S] [--burst B]
 *           [--warmup S] [--wait-link S] [--linger S] -- EAL ARGS (one port, e.g. --vdev
 *           net_memif0,role=server,...)
 *   trafgen --write-resip FILE [--resip-rows N] [--seed S]       (no EAL)
 *   trafgen --write-scanners FILE [--scanner-prefixes N] [--seed S]  (no EAL)
 *
 * Its own EAL instance (own --file-prefix), not a secondary process.  One lcore: the
 * main lcore builds the pool, waits for the link, then transmits for --duration seconds:
 * mbufs allocated in bursts, each filled with the next 60-byte frame of the pool (64 on
 * the wire with the FCS).  A burst the link does not take whole is retried from the
 * first frame not taken, so the receiver sees the pool's mix in order; tx_full counts
 * those refusals (the receiver is the bottleneck when it is large).  With --warmup W it
 * sends W seconds first and counts only the --duration seconds after them: with the
 * receiver the bottleneck, what the link takes in that window is what the receiver
 * handles in steady state.  The last line is "trafgen: sent=N seconds=T mpps=X
 * tx_full=F nombuf=M ..." (the measured window) for bench/run.  Then it waits, sending
 * nothing, for the receiver to disconnect (up to --linger seconds, default 30): a memif
 * client polling while its server closes can crash in the PMD (seen with DPDK 22.11).
 */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include "trafmix.h"

#define TG_BURST_MAX 64u
#define TG_MBUFS     8191u
#define TG_DESC      1024u

static volatile sig_atomic_t tg_stop;

static void tg_on_signal(int sig)
{
	(void)sig;
	tg_stop = 1;
}

static void tg_usage(FILE *f)
{
	fprintf(f,
		"usage: trafgen [--sources N] [--packets P] [--scanner-share X] [--mirai-share X]\n"
		"               [--resip-share X] [--resip-rows N] [--seed S] [--duration S]\n"
		"               [--burst B] [--wait-link S] -- EAL ARGS\n"
		"       trafgen --write-resip FILE [--resip-rows N] [--seed S]\n"
		"       trafgen --write-scanners FILE [--scanner-prefixes N] [--seed S]\n");
}

static int tg_num(const char *opt, const char *v, double lo, double hi, double *out)
{
	char *end;
	double d;

	errno = 0;
	d = strtod(v, &end);
	if (errno != 0 || end == v || *end != '\0' || d < lo || d > hi) {
		fprintf(stderr, "trafgen: %s: '%s' is not a number in %g..%g\n", opt, v, lo, hi);
		return -EINVAL;
	}
	*out = d;
	return 0;
}

int main(int argc, char **argv)
{
	struct bm_mix_conf mc;
	struct bm_pool pool;
	const char *w_resip = NULL, *w_scan = NULL;
	double duration = 10, wait_link = 30, burst_d = 32, scan_pfx = 20000, warmup = 0, d;
	double linger = 30;
	struct rte_mempool *mp;
	struct rte_eth_conf pc;
	struct rte_eth_link link;
	struct rte_mbuf *m[TG_BURST_MAX];
	uint64_t sent = 0, tx_full = 0, nombuf = 0, hz, t0, t_end, t1, t_warm;
	uint64_t warm_sent = 0, warm_full = 0;
	bool warm = true;
	uint32_t pos = 0, burst, iter = 0;
	int i, ret, eal_argc;
	uint16_t port = 0;

	bm_mix_defaults(&mc);
	for (i = 1; i < argc; i++) {
		const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(o, "--") == 0)
			break;
		if (strcmp(o, "-h") == 0 || strcmp(o, "--help") == 0) {
			tg_usage(stdout);
			return 0;
		}
		if (v == NULL) {
			fprintf(stderr, "trafgen: %s needs a value\n", o);
			return 1;
		}
		i++;
		if (strcmp(o, "--write-resip") == 0) {
			w_resip = v;
			continue;
		} else if (strcmp(o, "--write-scanners") == 0) {
			w_scan = v;
			continue;
		}
		if (strcmp(o, "--sources") == 0 && tg_num(o, v, 1024, 1 << 27, &d) == 0)
			mc.n_sources = (uint32_t)d;
		else if (strcmp(o, "--packets") == 0 && tg_num(o, v, 1024, 1 << 27, &d) == 0)
			mc.n_packets = (uint32_t)d;
		else if (strcmp(o, "--scanner-share") == 0 && tg_num(o, v, 0, 1, &d) == 0)
			mc.share[BM_K_SCANNER] = d;
		else if (strcmp(o, "--mirai-share") == 0 && tg_num(o, v, 0, 1, &d) == 0)
			mc.share[BM_K_MIRAI] = d;
		else if (strcmp(o, "--resip-share") == 0 && tg_num(o, v, 0, 1, &d) == 0)
			mc.share[BM_K_RESIP] = d;
		else if (strcmp(o, "--resip-rows") == 0 && tg_num(o, v, 1, 1 << 28, &d) == 0)
			mc.n_resip_table = (uint32_t)d;
		else if (strcmp(o, "--scanner-prefixes") == 0 && tg_num(o, v, 16, 1 << 24, &d) == 0)
			scan_pfx = d;
		else if (strcmp(o, "--seed") == 0 && tg_num(o, v, 0, 1e18, &d) == 0)
			mc.seed = (uint64_t)d;
		else if (strcmp(o, "--duration") == 0 && tg_num(o, v, 0.1, 86400, &d) == 0)
			duration = d;
		else if (strcmp(o, "--linger") == 0 && tg_num(o, v, 0, 3600, &d) == 0)
			linger = d;
		else if (strcmp(o, "--warmup") == 0 && tg_num(o, v, 0, 3600, &d) == 0)
			warmup = d;
		else if (strcmp(o, "--wait-link") == 0 && tg_num(o, v, 0, 3600, &d) == 0)
			wait_link = d;
		else if (strcmp(o, "--burst") == 0 && tg_num(o, v, 1, TG_BURST_MAX, &d) == 0)
			burst_d = d;
		else {
			fprintf(stderr, "trafgen: bad option %s %s\n", o, v);
			tg_usage(stderr);
			return 1;
		}
	}
	if (w_resip != NULL || w_scan != NULL) {
		if (w_resip != NULL && (ret = bm_write_resip_csv(w_resip, mc.seed,
		                                                 mc.n_resip_table)) != 0) {
			fprintf(stderr, "trafgen: %s: %s\n", w_resip, strerror(-ret));
			return 1;
		}
		if (w_scan != NULL && (ret = bm_write_scanner_prefixes(w_scan, mc.seed,
		                                                       (uint32_t)scan_pfx)) != 0) {
			fprintf(stderr, "trafgen: %s: %s\n", w_scan, strerror(-ret));
			return 1;
		}
		return 0;
	}
	burst = (uint32_t)burst_d;
	if (mc.n_packets < mc.n_sources)
		mc.n_packets = mc.n_sources;
	ret = bm_pool_build(&mc, &pool);
	if (ret != 0) {
		fprintf(stderr, "trafgen: cannot build the packet pool: %s\n", strerror(-ret));
		return 1;
	}
	fprintf(stderr, "trafgen: pool of %u frames, %u sources (scanner %u/%u, mirai %u/%u, "
	        "resip %u/%u, background %u/%u sources/frames)\n", pool.n, mc.n_sources,
	        pool.n_src[0], pool.n_pkt[0], pool.n_src[1], pool.n_pkt[1], pool.n_src[2],
	        pool.n_pkt[2], pool.n_src[3], pool.n_pkt[3]);

	/* EAL gets argv[0] and everything after "--" */
	for (i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		;
	eal_argc = argc - i;
	if (i < argc)
		argv[i] = argv[0];
	ret = rte_eal_init(eal_argc > 0 ? eal_argc : 1, eal_argc > 0 ? argv + i : argv);
	if (ret < 0) {
		fprintf(stderr, "trafgen: EAL init failed: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	signal(SIGINT, tg_on_signal);
	signal(SIGTERM, tg_on_signal);
	if (rte_eth_dev_count_avail() < 1) {
		fprintf(stderr, "trafgen: no ethdev (give one with --vdev)\n");
		goto fail;
	}
	mp = rte_pktmbuf_pool_create("tg_pool", TG_MBUFS, 256, 0,
	                             RTE_PKTMBUF_HEADROOM + 128, (int)rte_socket_id());
	if (mp == NULL) {
		fprintf(stderr, "trafgen: mbuf pool: %s\n", rte_strerror(rte_errno));
		goto fail;
	}
	memset(&pc, 0, sizeof(pc));
	if ((ret = rte_eth_dev_configure(port, 1, 1, &pc)) != 0 ||
	    (ret = rte_eth_rx_queue_setup(port, 0, TG_DESC, (unsigned)rte_socket_id(), NULL,
	                                  mp)) != 0 ||
	    (ret = rte_eth_tx_queue_setup(port, 0, TG_DESC, (unsigned)rte_socket_id(),
	                                  NULL)) != 0 ||
	    (ret = rte_eth_dev_start(port)) != 0) {
		fprintf(stderr, "trafgen: port setup: %s\n", strerror(-ret));
		goto fail;
	}

	hz = rte_get_tsc_hz();
	t0 = rte_rdtsc();
	fprintf(stderr, "trafgen: port started, waiting for the link\n");
	for (;;) {
		memset(&link, 0, sizeof(link));
		rte_eth_link_get_nowait(port, &link);
		if (link.link_status == RTE_ETH_LINK_UP)
			break;
		if (tg_stop || rte_rdtsc() - t0 > (uint64_t)(wait_link * (double)hz)) {
			fprintf(stderr, "trafgen: link not up within %.0f s\n", wait_link);
			goto fail;
		}
		rte_delay_us_sleep(1000);
	}
	fprintf(stderr, "trafgen: link up, sending for %.1f s after %.1f s of warm-up, burst %u\n",
	        duration, warmup, burst);

	t_warm = rte_rdtsc() + (uint64_t)(warmup * (double)hz);
	warm = warmup > 0;
	t0 = warm ? t_warm : rte_rdtsc();
	t_end = t0 + (uint64_t)(duration * (double)hz);
	t1 = t0;
	while (!tg_stop) {
		uint32_t k, n;

		if ((++iter & 255) == 0) {
			t1 = rte_rdtsc();
			if (t1 >= t_end)
				break;
			if (warm && t1 >= t_warm) {
				/* the measured window starts: the receiver is past its start-up
				 * (first touch of its tables) */
				warm = false;
				warm_sent = sent;
				warm_full = tx_full;
				sent = tx_full = 0;
				t0 = t1;
				fprintf(stderr, "trafgen: warm-up done (%llu sent), measuring\n",
				        (unsigned long long)warm_sent);
			}
			/* the receiver went away (memif disconnect) */
			if ((iter & 0xfffff) == 0) {
				rte_eth_link_get_nowait(port, &link);
				if (link.link_status != RTE_ETH_LINK_UP) {
					fprintf(stderr, "trafgen: link went down\n");
					break;
				}
			}
		}
		if (rte_pktmbuf_alloc_bulk(mp, m, burst) != 0) {
			nombuf++;
			continue;
		}
		for (k = 0; k < burst; k++) {
			uint8_t *dst = rte_pktmbuf_mtod(m[k], uint8_t *);

			memcpy(dst, pool.frames + (size_t)pos * BM_FRAME_SLOT, BM_FRAME_SLOT);
			m[k]->data_len = BM_FRAME_LEN;
			m[k]->pkt_len = BM_FRAME_LEN;
			if (++pos == pool.n)
				pos = 0;
		}
		n = rte_eth_tx_burst(port, 0, m, (uint16_t)burst);
		sent += n;
		if (n < burst) {
			tx_full += burst - n;
			rte_pktmbuf_free_bulk(m + n, burst - n);
			/* resend the frames not taken next time: the mix stays in order */
			pos = (uint32_t)(((uint64_t)pos + pool.n - (burst - n)) % pool.n);
		}
	}
	t1 = rte_rdtsc();
	{
		double secs = (double)(t1 - t0) / (double)hz;

		printf("trafgen: sent=%llu seconds=%.3f mpps=%.3f tx_full=%llu nombuf=%llu "
		       "sources=%u frames=%u warmup_sent=%llu warmup_tx_full=%llu\n",
		       (unsigned long long)sent, secs,
		       secs > 0 ? (double)sent / secs / 1e6 : 0.0, (unsigned long long)tx_full,
		       (unsigned long long)nombuf, mc.n_sources, pool.n,
		       (unsigned long long)warm_sent, (unsigned long long)warm_full);
		fflush(stdout);
	}
	/* The receiver goes first: a net_memif client still polling when the server
	 * closes can fault in its rx path (DPDK 22.11: the regions are unmapped under it),
	 * so wait, sending nothing, until the peer has disconnected (or --linger s). */
	t1 = rte_rdtsc();
	while (!tg_stop && rte_rdtsc() - t1 < (uint64_t)(linger * (double)hz)) {
		rte_eth_link_get_nowait(port, &link);
		if (link.link_status != RTE_ETH_LINK_UP)
			break;
		rte_delay_us_sleep(10000);
	}
	rte_eth_dev_stop(port);
	rte_eth_dev_close(port);
	rte_eal_cleanup();
	bm_pool_free(&pool);
	return 0;
fail:
	rte_eal_cleanup();
	bm_pool_free(&pool);
	return 1;
}
