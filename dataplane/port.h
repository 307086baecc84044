/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * port.h — ethdev setup for obscura-dp: the mbuf pool, one ethdev per configured port
 * (PCI address or vdev string), its RX queues, source-IPv4 RSS where the PMD supports
 * it, RX timestamps where it offers them, and the port counters for the exchange.
 *
 * Main lcore only: obs_ports_setup()/start()/stop() before launch and after the workers
 * returned; obs_ports_stats() ~1 Hz while they run (rte_eth_stats_get is safe
 * concurrently with rx_burst).  obs_dev_is_pci() is pure and used before EAL init.
 */
#ifndef OBSCURA_PORT_H
#define OBSCURA_PORT_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_ether.h>

#include "conf.h"
#include "exchange.h"

struct rte_mempool;

/* How a port's packets get their time (worker.h uses it per queue). */
enum obs_ts_mode {
	OBS_TS_CLOCK = 0,  /* no usable RX timestamp: the worker's TSC-derived UTC clock */
	OBS_TS_US_UTC,     /* net_pcap: the pcap record time in microseconds */
	OBS_TS_NS_UTC,     /* replay: nanoseconds since the Unix epoch, trusted */
	OBS_TS_NS_NIC,     /* a NIC timestamp in ns, used only while it looks like UTC */
};

struct obs_port {
	char name[32];
	uint16_t port_id;
	uint16_t n_rxq;
	uint16_t rx_desc;
	enum obs_ts_mode ts_mode;
	uint64_t rss_hf;   /* what RSS was configured with; 0 = none */
	/* responder (issue 13): the workers' TX queues (0 when it is off) */
	uint16_t n_txq;
	uint64_t tx_ol;    /* mbuf checksum offload flags; 0 = software checksums */
	bool rx_partial;   /* may deliver a checksum the sender's kernel left partial */
	struct rte_ether_addr mac;
};

/* true for "0000:03:00.0" / "03:00.0" (optionally followed by ",devargs") */
bool obs_dev_is_pci(const char *dev);

/* The mbuf pool every RX queue (or the replay reader) allocates from.  n is raised to
 * at least min_n (logged).  NULL on failure, logged. */
struct rte_mempool *obs_pool_create(const char *name, uint32_t n, uint32_t min_n);

/* Mbufs the ports and workers of c need at least (descriptors + bursts + caches). */
uint32_t obs_ports_mbufs_needed(const struct obs_conf *c);

/* Find and configure every port of c (queues, RSS, timestamps); ports[] gets
 * c->n_ports entries.  Returns 0 or -errno, logged with the port's name. */
int obs_ports_setup(const struct obs_conf *c, struct rte_mempool *pool, struct obs_port *ports);
int obs_ports_start(struct obs_port *ports, uint32_t n);
void obs_ports_stop(struct obs_port *ports, uint32_t n);

/* Refresh the exchange's port counters (cumulative for this boot). */
void obs_ports_stats(const struct obs_port *ports, uint32_t n, struct obx_header *h);

#endif
