/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bb_resp.c — burst_bench's responder mode (bb_resp.h).  The worker's responder is bound
 * as obscura-dp binds it (main.c: obs_resp_cfg_build, obs_resp_init, resp_on, the rx
 * queue's TX queue), the port being a net_null vdev with one TX queue.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_dev.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>

#include "bb_resp.h"
#include "responder.h"

static struct obs_resp_txq bb_txq;
static struct obs_resp_cfg *bb_cfg;

int bb_resp_setup(struct obs_worker *w, struct obs_conf *c, const struct obs_tel *tel,
                  char *err, size_t n)
{
	struct rte_eth_conf pc = { 0 };
	char path[] = "/tmp/obscura-bb-secretXXXXXX";
	uint8_t key[32];
	uint16_t port;
	int fd, ret;

	/* the secret: random, in a file as responder.secret_file wants it, removed at once */
	fd = mkstemp(path);
	if (fd < 0 || getrandom(key, sizeof(key), 0) != (ssize_t)sizeof(key) ||
	    write(fd, key, sizeof(key)) != (ssize_t)sizeof(key)) {
		snprintf(err, n, "secret file %s: %m", path);
		return -1;
	}
	close(fd);
	c->resp_n_prefixes = c->sensors[0].n_prefixes;
	memcpy(c->resp_prefix_addr, c->sensors[0].prefix_addr, sizeof(c->resp_prefix_addr[0]) *
	       c->resp_n_prefixes);
	memcpy(c->resp_prefix_len, c->sensors[0].prefix_len, c->resp_n_prefixes);
	c->resp_max_pps = 100000000u;   /* the key's maximum: cap what the bench cannot reach */
	snprintf(c->resp_secret_file, sizeof(c->resp_secret_file), "%s", path);
	ret = obs_resp_cfg_build(c, tel, &bb_cfg);
	unlink(path);
	if (ret != 0 || bb_cfg == NULL) {
		snprintf(err, n, "responder config: %s", strerror(-ret));
		return -1;
	}
	if (rte_dev_probe("net_null0,copy=0") != 0 ||
	    rte_eth_dev_get_port_by_name("net_null0", &port) != 0) {
		snprintf(err, n, "net_null0: cannot create the TX sink (the null PMD)");
		return -1;
	}
	if (rte_eth_dev_configure(port, 1, 1, &pc) != 0 ||
	    rte_eth_tx_queue_setup(port, 0, 1024, (unsigned)rte_socket_id(), NULL) != 0 ||
	    rte_eth_rx_queue_setup(port, 0, 64, (unsigned)rte_socket_id(), NULL,
	                           rte_pktmbuf_pool_create("bb_null_rx", 255, 0, 0,
	                                                   RTE_MBUF_DEFAULT_BUF_SIZE,
	                                                   (int)rte_socket_id())) != 0 ||
	    rte_eth_dev_start(port) != 0) {
		snprintf(err, n, "net_null0: port setup failed");
		return -1;
	}
	bb_txq = (struct obs_resp_txq){ .port_id = port, .queue = 0, .ok = true, .ol_flags = 0 };
	rte_eth_macaddr_get(port, &bb_txq.mac);
	obs_resp_init(&w->resp, bb_cfg, rte_get_tsc_hz());
	w->resp.txq = &bb_txq;
	w->resp_on = true;
	w->ep.slot_flags |= OBX_SLOT_F_RESP;
	return 0;
}

void bb_resp_print(const struct obs_worker *w)
{
	const struct obx_counters *t = &w->live->total, *e = &w->ep.c;

#define BB_R(i) (t->reserved[i] + e->reserved[i])
	printf("bb resp.rx_packets %llu\n", (unsigned long long)(t->rx_packets + e->rx_packets));
	printf("bb resp.synacks %llu\n", (unsigned long long)BB_R(OBX_CTR_RESP_SYNACKS));
	printf("bb resp.tx_refused %llu\n", (unsigned long long)BB_R(OBX_CTR_RESP_TX_REFUSED));
	printf("bb resp.capped %llu\n", (unsigned long long)BB_R(OBX_CTR_RESP_CAPPED));
	printf("bb resp.cov_syns %llu\n", (unsigned long long)(t->cov_syns + e->cov_syns));
#undef BB_R
}
