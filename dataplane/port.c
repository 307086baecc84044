/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * port.c — see port.h.  Main lcore only.
 *
 * RSS: DESIGN.md wants every packet of a source on one worker, so the hash is asked
 * for on the IPv4 source only (RTE_ETH_RSS_IPV4 | RTE_ETH_RSS_L3_SRC_ONLY), masked by
 * what the PMD offers.  Without L3_SRC_ONLY the PMD hashes source and destination: a
 * source then spreads over workers, which costs table space but stays correct (the
 * control plane merges records per source), so we warn and go on.  Without IPv4 RSS at
 * all a multi-queue port would spread sources arbitrarily; same warning.
 */
#include <ctype.h>
#include <errno.h>
#include <string.h>

#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "log.h"
#include "port.h"

#define OBS_POOL_CACHE 256u
#define OBS_TX_DESC    512u    /* responder TX ring per worker queue */

bool obs_dev_is_pci(const char *dev)
{
	/* [dddd:]bb:dd.f — all hex except the function digit */
	const char *p = dev;
	int i;

	for (i = 0; i < 4 && isxdigit((unsigned char)p[i]); i++)
		;
	if (i == 4 && p[4] == ':')
		p += 5;
	if (!isxdigit((unsigned char)p[0]) || !isxdigit((unsigned char)p[1]) || p[2] != ':' ||
	    !isxdigit((unsigned char)p[3]) || !isxdigit((unsigned char)p[4]) || p[5] != '.' ||
	    p[6] < '0' || p[6] > '7')
		return false;
	return p[7] == '\0' || p[7] == ',';
}

uint32_t obs_ports_mbufs_needed(const struct obs_conf *c)
{
	uint64_t n = 0;
	uint32_t i;

	for (i = 0; i < c->n_ports; i++) {
		n += (uint64_t)c->ports[i].rx_queues * c->ports[i].rx_desc;
		if (c->resp_n_prefixes != 0)    /* responder: replies waiting in TX rings */
			n += (uint64_t)c->workers * OBS_TX_DESC;
	}
	/* one burst in flight and one mempool cache per lcore, plus slack */
	n += (uint64_t)(c->workers + 1) * (c->burst + OBS_POOL_CACHE) + 1024;
	return n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
}

struct rte_mempool *obs_pool_create(const char *name, uint32_t n, uint32_t min_n)
{
	struct rte_mempool *mp;

	if (n < min_n) {
		OBS_NOTICE("dataplane.mbufs %u is below the %u the queues and workers need; "
		           "using %u", n, min_n, min_n);
		n = min_n;
	}
	mp = rte_pktmbuf_pool_create(name, n, OBS_POOL_CACHE, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
	                             (int)rte_socket_id());
	if (mp == NULL)
		OBS_ERR("cannot create mbuf pool %s of %u mbufs: %s", name, n,
		        rte_strerror(rte_errno));
	return mp;
}

/* The ethdev name DPDK gives a device string: the vdev name before its devargs, or
 * the PCI address in its full-domain form. */
static int obs_port_lookup(const char *dev, uint16_t *port_id)
{
	char name[RTE_ETH_NAME_MAX_LEN];
	size_t n = strcspn(dev, ",");

	if (n >= sizeof(name))
		return -ENAMETOOLONG;
	memcpy(name, dev, n);
	name[n] = '\0';
	if (rte_eth_dev_get_port_by_name(name, port_id) == 0)
		return 0;
	if (obs_dev_is_pci(dev) && n == 7) {
		char full[RTE_ETH_NAME_MAX_LEN + 8];

		snprintf(full, sizeof(full), "0000:%s", name);
		if (rte_eth_dev_get_port_by_name(full, port_id) == 0)
			return 0;
	}
	return -ENODEV;
}

static int obs_port_configure(const struct obs_conf *c, const struct obs_conf_port *cp,
                              struct obs_port *p)
{
	struct rte_eth_dev_info di;
	struct rte_eth_conf pc;
	uint64_t want;
	int ret;

	ret = rte_eth_dev_info_get(p->port_id, &di);
	if (ret != 0) {
		OBS_ERR("port %s: cannot get device info: %s", p->name, strerror(-ret));
		return ret;
	}
	if (cp->rx_queues > di.max_rx_queues) {
		OBS_ERR("port %s: rx_queues %u but %s offers at most %u", p->name, cp->rx_queues,
		        di.driver_name, di.max_rx_queues);
		return -EINVAL;
	}
	p->n_rxq = (uint16_t)cp->rx_queues;
	memset(&pc, 0, sizeof(pc));
	/* responder (issue 13): one TX queue for each worker polling the port (queue q goes
	 * to worker q % workers, so workers 0 .. min(rx queues, workers) - 1), checksums
	 * offloaded when the PMD has both IPv4 and TCP checksum offload */
	p->n_txq = 0;
	p->tx_ol = 0;
	/* PMDs fed by the kernel (a veth, a tap) pass frames sent from this host with the
	 * TCP checksum the sender's stack left partial (CHECKSUM_PARTIAL: the pseudo-header
	 * sum only, the NIC was to finish it), and DPDK 22.11's PMDs do not flag them: a
	 * SYN-ACK updated from such a SYN's checksum would be wrong, so the responder
	 * recomputes its checksums on these ports (docs/scan.md "Checksums") */
	p->rx_partial = strcmp(di.driver_name, "net_af_packet") == 0 ||
	                strcmp(di.driver_name, "net_tap") == 0 ||
	                strcmp(di.driver_name, "net_af_xdp") == 0;
	if (c->resp_n_prefixes != 0) {
		p->n_txq = (uint16_t)(p->n_rxq < c->workers ? p->n_rxq : c->workers);
		if (p->n_txq > di.max_tx_queues) {
			OBS_ERR("port %s: the responder needs %u tx queues (one per worker polling "
			        "it) but %s offers at most %u", p->name, p->n_txq, di.driver_name,
			        di.max_tx_queues);
			return -EINVAL;
		}
		if ((di.tx_offload_capa & (RTE_ETH_TX_OFFLOAD_IPV4_CKSUM | RTE_ETH_TX_OFFLOAD_TCP_CKSUM)) ==
		    (RTE_ETH_TX_OFFLOAD_IPV4_CKSUM | RTE_ETH_TX_OFFLOAD_TCP_CKSUM)) {
			pc.txmode.offloads = RTE_ETH_TX_OFFLOAD_IPV4_CKSUM | RTE_ETH_TX_OFFLOAD_TCP_CKSUM;
			p->tx_ol = RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_TCP_CKSUM;
		}
	}

	if (di.rx_offload_capa & RTE_ETH_RX_OFFLOAD_TIMESTAMP)
		pc.rxmode.offloads |= RTE_ETH_RX_OFFLOAD_TIMESTAMP;
	/* net_pcap stamps every mbuf with the pcap record time (µs, UTC) whether or not it
	 * advertises the offload; other PMDs stamp NIC time in ns, trusted only while it
	 * looks like UTC (worker.c). */
	if (strcmp(di.driver_name, "net_pcap") == 0)
		p->ts_mode = OBS_TS_US_UTC;
	else if (pc.rxmode.offloads & RTE_ETH_RX_OFFLOAD_TIMESTAMP)
		p->ts_mode = OBS_TS_NS_NIC;
	else
		p->ts_mode = OBS_TS_CLOCK;

	want = (RTE_ETH_RSS_IPV4 | RTE_ETH_RSS_L3_SRC_ONLY) & di.flow_type_rss_offloads;
	p->rss_hf = 0;
	if (c->rss && p->n_rxq > 1 && (want & RTE_ETH_RSS_IPV4)) {
		pc.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		pc.rx_adv_conf.rss_conf.rss_hf = want;
		ret = rte_eth_dev_configure(p->port_id, p->n_rxq, p->n_txq, &pc);
		if (ret != 0 && (want & RTE_ETH_RSS_L3_SRC_ONLY)) {
			OBS_WARN("port %s: RSS on the source only refused (%s); trying source+"
			         "destination", p->name, strerror(-ret));
			want &= ~RTE_ETH_RSS_L3_SRC_ONLY;
			pc.rx_adv_conf.rss_conf.rss_hf = want;
			ret = rte_eth_dev_configure(p->port_id, p->n_rxq, p->n_txq, &pc);
		}
		if (ret == 0)
			p->rss_hf = want;
		else
			OBS_WARN("port %s: RSS refused (%s); configuring without it", p->name,
			         strerror(-ret));
	}
	if (p->rss_hf == 0) {
		pc.rxmode.mq_mode = RTE_ETH_MQ_RX_NONE;
		pc.rx_adv_conf.rss_conf.rss_hf = 0;
		ret = rte_eth_dev_configure(p->port_id, p->n_rxq, p->n_txq, &pc);
		if (ret != 0) {
			OBS_ERR("port %s: configure (%u rx queues) failed: %s", p->name, p->n_rxq,
			        strerror(-ret));
			return ret;
		}
	}
	if (p->n_rxq > 1 && !(p->rss_hf & RTE_ETH_RSS_L3_SRC_ONLY))
		OBS_WARN("port %s (%s): %u queues without source-only RSS: a source may be seen "
		         "by several workers (records still merge per source)", p->name,
		         di.driver_name, p->n_rxq);
	OBS_INFO("port %s: %s, %u rx queue(s), %u tx queue(s)%s%s, rss 0x%llx, timestamps %s",
	         p->name, di.driver_name, p->n_rxq, p->n_txq,
	         p->n_txq == 0 ? "" : p->tx_ol != 0 ? " (checksum offload)" : " (software checksums)",
	         p->n_txq != 0 && p->rx_partial ? " (SYN-ACK checksums recomputed)" : "",
	         (unsigned long long)p->rss_hf,
	         p->ts_mode == OBS_TS_CLOCK ? "from the clock" :
	         p->ts_mode == OBS_TS_US_UTC ? "pcap (us)" : "NIC (ns)");
	return 0;
}

int obs_ports_setup(const struct obs_conf *c, struct rte_mempool *pool, struct obs_port *ports)
{
	uint32_t i;
	uint16_t q;
	int ret;

	for (i = 0; i < c->n_ports; i++) {
		const struct obs_conf_port *cp = &c->ports[i];
		struct obs_port *p = &ports[i];
		struct rte_eth_dev_info di;
		struct rte_eth_rxconf rxc;
		uint16_t nb_rxd = (uint16_t)(cp->rx_desc > UINT16_MAX ? 32768 : cp->rx_desc);
		uint16_t nb_txd = OBS_TX_DESC;
		int sock;

		memset(p, 0, sizeof(*p));
		snprintf(p->name, sizeof(p->name), "%s", cp->name);
		ret = obs_port_lookup(cp->device, &p->port_id);
		if (ret != 0) {
			OBS_ERR("port %s: no ethdev for device '%s' (probe failed?)", p->name,
			        cp->device);
			return ret;
		}
		ret = obs_port_configure(c, cp, p);
		if (ret != 0)
			return ret;
		ret = rte_eth_dev_adjust_nb_rx_tx_desc(p->port_id, &nb_rxd, &nb_txd);
		if (ret != 0) {
			OBS_ERR("port %s: rx_desc %u not usable: %s", p->name, cp->rx_desc,
			        strerror(-ret));
			return ret;
		}
		p->rx_desc = nb_rxd;
		ret = rte_eth_dev_info_get(p->port_id, &di);
		if (ret != 0)
			return ret;
		rxc = di.default_rxconf;
		rxc.offloads = (di.rx_offload_capa & RTE_ETH_RX_OFFLOAD_TIMESTAMP);
		sock = rte_eth_dev_socket_id(p->port_id);
		if (sock < 0)
			sock = (int)rte_socket_id();
		for (q = 0; q < p->n_rxq; q++) {
			ret = rte_eth_rx_queue_setup(p->port_id, q, nb_rxd, (unsigned)sock, &rxc, pool);
			if (ret != 0) {
				OBS_ERR("port %s: rx queue %u setup failed: %s", p->name, q,
				        strerror(-ret));
				return ret;
			}
		}
		/* responder (issue 13): the workers' TX queues, and the MAC ARP replies carry */
		for (q = 0; q < p->n_txq; q++) {
			struct rte_eth_txconf txc = di.default_txconf;

			txc.offloads = p->tx_ol != 0 ?
				(RTE_ETH_TX_OFFLOAD_IPV4_CKSUM | RTE_ETH_TX_OFFLOAD_TCP_CKSUM) : 0;
			ret = rte_eth_tx_queue_setup(p->port_id, q, nb_txd, (unsigned)sock, &txc);
			if (ret != 0) {
				OBS_ERR("port %s: tx queue %u setup failed: %s", p->name, q,
				        strerror(-ret));
				return ret;
			}
		}
		if (p->n_txq > 0 && rte_eth_macaddr_get(p->port_id, &p->mac) != 0)
			OBS_WARN("port %s: no MAC address: ARP replies carry 00:00:00:00:00:00", p->name);
	}
	return 0;
}

int obs_ports_start(struct obs_port *ports, uint32_t n)
{
	uint32_t i;
	int ret;

	for (i = 0; i < n; i++) {
		ret = rte_eth_dev_start(ports[i].port_id);
		if (ret != 0) {
			OBS_ERR("port %s: start failed: %s", ports[i].name, strerror(-ret));
			return ret;
		}
		/* a telescope's frames are addressed to whatever MAC the router uses */
		ret = rte_eth_promiscuous_enable(ports[i].port_id);
		if (ret != 0 && ret != -ENOTSUP)
			OBS_WARN("port %s: promiscuous mode: %s", ports[i].name, strerror(-ret));
		rte_eth_stats_reset(ports[i].port_id);
	}
	return 0;
}

void obs_ports_stop(struct obs_port *ports, uint32_t n)
{
	uint32_t i;

	for (i = 0; i < n; i++) {
		rte_eth_dev_stop(ports[i].port_id);
		rte_eth_dev_close(ports[i].port_id);
	}
}

void obs_ports_stats(const struct obs_port *ports, uint32_t n, struct obx_header *h)
{
	struct rte_eth_stats st;
	uint32_t i;

	for (i = 0; i < n && i < OBX_MAX_PORTS; i++) {
		struct obx_port_stats *ps = obx_port_stats(h, i);

		if (rte_eth_stats_get(ports[i].port_id, &st) != 0)
			continue;
		ps->ipackets = st.ipackets;
		ps->ibytes = st.ibytes;
		ps->imissed = st.imissed;
		ps->ierrors = st.ierrors;
		ps->rx_nombuf = st.rx_nombuf;
	}
}
