/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rxdrop — the I/O ceiling of a link: receive and drop, nothing else.
 *
 *   rxdrop -c CONF [--idle-exit S] [--max-seconds S] -- EAL ARGS
 *
 * The ports come from obscura-dp's own config file and are set up by the dataplane's
 * own code (port.c: the same mbuf pool, queues, descriptors and RSS), so the only
 * difference from obscura-dp is what the worker does with a burst: here
 * rte_pktmbuf_free_bulk() and a counter.  Give it the EAL arguments obscura-dp prints
 * ("EAL args:"), with a --file-prefix of its own.  One worker lcore polls every queue
 * of every port (the first worker lcore); the main lcore watches.
 *
 * It stops on SIGINT/SIGTERM, after --max-seconds, or once packets have come and the
 * link has then been idle for --idle-exit seconds.  The last line is
 * "rxdrop: packets=N seconds=T mpps=X cycles_per_pkt=C busy_cycles_per_pkt=B" where
 * seconds runs from the first to the last packet, C is the worker's TSC over that window
 * per packet, and B counts only the polls that brought packets: the receive-and-drop
 * cost of a packet on this core, whether or not the sender kept it busy.
 */
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include "conf.h"
#include "log.h"
#include "port.h"

struct rd_state {
	struct obs_port *ports;
	uint32_t n_ports;
	uint32_t burst;
	_Atomic uint64_t packets;
	_Atomic uint64_t first_tsc, last_tsc;
	_Atomic uint64_t busy_tsc;      /* TSC spent in polls that returned packets */
	_Atomic int stop;
};

static volatile sig_atomic_t rd_signal;

static void rd_on_signal(int sig)
{
	(void)sig;
	rd_signal = 1;
}

static int rd_worker(void *arg)
{
	struct rd_state *s = arg;
	struct rte_mbuf *pkts[64];
	uint64_t n_pkts = 0, first = 0, last = 0, busy = 0, t_prev = rte_rdtsc();
	uint32_t p, q, iter = 0;

	while (!atomic_load_explicit(&s->stop, memory_order_relaxed)) {
		uint64_t got = n_pkts, t;

		for (p = 0; p < s->n_ports; p++)
			for (q = 0; q < s->ports[p].n_rxq; q++) {
				uint16_t n = rte_eth_rx_burst(s->ports[p].port_id, (uint16_t)q, pkts,
				                              (uint16_t)s->burst);

				if (n == 0)
					continue;
				rte_pktmbuf_free_bulk(pkts, n);
				n_pkts += n;
				last = rte_rdtsc();
				if (first == 0)
					first = last;
			}
		/* an iteration that brought packets is I/O work; an empty one is waiting for
		 * the sender */
		t = rte_rdtsc();
		if (n_pkts != got)
			busy += t - t_prev;
		t_prev = t;
		if ((++iter & 1023) == 0) {
			atomic_store_explicit(&s->busy_tsc, busy, memory_order_relaxed);
			atomic_store_explicit(&s->packets, n_pkts, memory_order_relaxed);
			atomic_store_explicit(&s->first_tsc, first, memory_order_relaxed);
			atomic_store_explicit(&s->last_tsc, last, memory_order_relaxed);
		}
	}
	atomic_store_explicit(&s->busy_tsc, busy, memory_order_relaxed);
	atomic_store_explicit(&s->packets, n_pkts, memory_order_relaxed);
	atomic_store_explicit(&s->first_tsc, first, memory_order_relaxed);
	atomic_store_explicit(&s->last_tsc, last, memory_order_relaxed);
	return 0;
}

int main(int argc, char **argv)
{
	static struct obs_conf conf;
	static struct obs_port ports[OBS_CONF_MAX_PORTS];
	static struct rd_state st;
	struct rte_mempool *pool;
	const char *conf_path = NULL;
	double idle_exit = 2, max_s = 600;
	char err[512];
	unsigned lcore;
	uint64_t hz, n, first, last;
	int i, ret, eal_at = argc;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0) {
			eal_at = i;
			break;
		}
		if (i + 1 >= argc) {
			fprintf(stderr, "rxdrop: %s needs a value\n", argv[i]);
			return 1;
		}
		if (strcmp(argv[i], "-c") == 0)
			conf_path = argv[++i];
		else if (strcmp(argv[i], "--idle-exit") == 0)
			idle_exit = atof(argv[++i]);
		else if (strcmp(argv[i], "--max-seconds") == 0)
			max_s = atof(argv[++i]);
		else {
			fprintf(stderr, "usage: rxdrop -c CONF [--idle-exit S] [--max-seconds S] "
			        "-- EAL ARGS\n");
			return 1;
		}
	}
	if (conf_path == NULL || obs_conf_load(conf_path, &conf, err, sizeof(err)) != 0) {
		fprintf(stderr, "rxdrop: %s\n", conf_path == NULL ? "-c CONF is required" : err);
		return 1;
	}
	if (eal_at < argc)
		argv[eal_at] = argv[0];
	ret = rte_eal_init(argc - eal_at, argv + eal_at);
	if (ret < 0) {
		fprintf(stderr, "rxdrop: EAL init failed: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	obs_log_init();
	signal(SIGINT, rd_on_signal);
	signal(SIGTERM, rd_on_signal);
	pool = obs_pool_create("rd_rx", conf.mbufs, obs_ports_mbufs_needed(&conf));
	if (pool == NULL || obs_ports_setup(&conf, pool, ports) != 0 ||
	    obs_ports_start(ports, conf.n_ports) != 0)
		goto fail;
	st.ports = ports;
	st.n_ports = conf.n_ports;
	st.burst = conf.burst;
	lcore = rte_get_next_lcore(-1, 1, 0);
	if (lcore >= RTE_MAX_LCORE) {
		fprintf(stderr, "rxdrop: needs a worker lcore (-l MAIN,WORKER)\n");
		goto fail;
	}
	rte_eal_remote_launch(rd_worker, &st, lcore);
	hz = rte_get_tsc_hz();
	{
		uint64_t t_start = rte_rdtsc();

		while (!rd_signal) {
			uint64_t now = rte_rdtsc();

			rte_delay_us_sleep(50000);
			last = atomic_load_explicit(&st.last_tsc, memory_order_relaxed);
			if (last != 0 && now > last && (double)(now - last) > idle_exit * (double)hz)
				break;
			if ((double)(now - t_start) > max_s * (double)hz)
				break;
		}
	}
	atomic_store(&st.stop, 1);
	rte_eal_wait_lcore(lcore);
	n = atomic_load(&st.packets);
	first = atomic_load(&st.first_tsc);
	last = atomic_load(&st.last_tsc);
	{
		double secs = last > first ? (double)(last - first) / (double)hz : 0;

		printf("rxdrop: packets=%llu seconds=%.3f mpps=%.3f cycles_per_pkt=%.1f "
		       "busy_cycles_per_pkt=%.1f\n",
		       (unsigned long long)n, secs, secs > 0 ? (double)n / secs / 1e6 : 0.0,
		       n > 0 ? (double)(last - first) / (double)n : 0.0,
		       n > 0 ? (double)atomic_load(&st.busy_tsc) / (double)n : 0.0);
		fflush(stdout);
	}
	obs_ports_stop(ports, conf.n_ports);
	rte_eal_cleanup();
	return 0;
fail:
	rte_eal_cleanup();
	return 1;
}
