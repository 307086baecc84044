/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * responder.h — the all-port handshake responder (issue 13, docs/scan.md "Responder"),
 * a worker stage.
 *
 * For the addresses H of responder.prefixes the worker answers, on its own TX queue of
 * the port the packet came in on:
 *   - a clean SYN (SYN without ACK, RST or FIN; unicast frame; a source that is not
 *     excluded, not martian, not one of the telescope's own addresses) with a SYN-ACK
 *     whose sequence number is a SYN cookie (resp_cookie.h) and an MSS option — no state
 *     is kept, one reply per SYN, nothing is retransmitted;
 *   - an ACK (or data segment) whose ack - 1 validates the cookie: a completed handshake,
 *     recorded in the slot's RESP table (exchange_recs.h); without payload_bytes the
 *     responder resets at once; with it, it waits for the first data segment, keeps up to
 *     OBX_RESP_PAYLOAD of its bytes with the first payload rule it matched, and resets;
 *   - ARP requests for an address of H (responder.arp), so a router can resolve them.
 * Nothing else is answered.  Every transmitted packet takes a token of the worker's
 * max_pps bucket (none left: counted "capped"); a TX ring that refuses, or no mbuf,
 * is counted "tx refused" — the worker never waits.
 *
 * Threads: obs_resp_cfg_build() and obs_resp_status() on the main lcore before launch;
 * the cfg is immutable after, shared by the workers; each worker owns its struct obs_resp.
 */
#ifndef OBSCURA_RESPONDER_H
#define OBSCURA_RESPONDER_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_ether.h>

#include "conf.h"
#include "epoch.h"
#include "resp_cookie.h"

struct rte_mbuf;
struct obs_tel;

#define OBS_RESP_TX_MAX   64u      /* replies per burst chunk: at most one per frame */
#define OBS_RESP_MSS      1460u
#define OBS_RESP_BUCKET   64u      /* tokens the bucket holds at most (a burst's worth) */

/* The responder as configured: immutable once built, shared by every worker. */
struct obs_resp_cfg {
	uint32_t n;                                 /* prefixes of H */
	uint32_t lo[OBS_CONF_RESP_PREFIXES];        /* first and last address, host order */
	uint32_t hi[OBS_CONF_RESP_PREFIXES];
	uint32_t payload_bytes;
	uint32_t max_pps;
	bool     arp;
	uint8_t  key[16];                           /* SYN cookie master key */
	const struct obs_tel *tel;                  /* the telescope: "our own" addresses */
};

/* Where the replies of a burst go: the RX queue's port, the worker's TX queue on it. */
struct obs_resp_txq {
	uint16_t port_id;
	uint16_t queue;
	bool     ok;                 /* the port has a TX queue for this worker */
	uint64_t ol_flags;           /* checksum offload flags, 0 = software checksums */
	bool     csum_full;          /* SYN-ACK checksums computed anew, not updated from the
	                              * SYN's (port.h rx_partial) */
	struct rte_ether_addr mac;   /* the port's MAC (ARP replies) */
};

enum obs_resp_kind { OBS_RESP_K_SYNACK = 0, OBS_RESP_K_RST, OBS_RESP_K_ARP };

/* One worker's responder. */
struct obs_resp {
	const struct obs_resp_cfg *cfg;    /* NULL: off (no H, or --replay) */
	const struct obs_resp_txq *txq;    /* of the burst being processed */
	struct obs_cookie_keys keys;
	uint64_t hz;
	uint64_t tokens;                   /* x hz */
	uint64_t last_tsc;
	uint16_t n_tx;
	uint8_t  kind[OBS_RESP_TX_MAX];
	struct rte_mbuf *tx[OBS_RESP_TX_MAX];
};

/* Build the cfg from c (H, payload_bytes, max_pps, arp) and the key file's first 16
 * bytes.  *out = NULL when H is empty.  0 or -errno, logged with the file named. */
int obs_resp_cfg_build(const struct obs_conf *c, const struct obs_tel *tel,
                       struct obs_resp_cfg **out);
void obs_resp_cfg_free(struct obs_resp_cfg *cfg);

/* The header tail the control plane shows (exchange.h struct obx_resp_status). */
struct obx_header;
void obs_resp_status(struct obx_header *h, const struct obs_conf *c, bool replay);

/* Bind a worker's responder to cfg (NULL: off); hz = TSC frequency. */
void obs_resp_init(struct obs_resp *r, const struct obs_resp_cfg *cfg, uint64_t hz);

static inline bool obs_resp_in_h(const struct obs_resp_cfg *cfg, uint32_t a)
{
	for (uint32_t i = 0; i < cfg->n; i++)
		if (a - cfg->lo[i] <= cfg->hi[i] - cfg->lo[i])
			return true;
	return false;
}

/* Start a burst from queue q at TSC tsc: refill the bucket. */
void obs_resp_begin(struct obs_resp *r, const struct obs_resp_txq *q, uint64_t tsc);

/* A TCP packet to H (*mp its frame, t its packet time, sensor of the destination, its L4
 * payload at pay_off/pay_len, sid the first payload rule it matched or 0).  With own the
 * caller lets a SYN's mbuf carry the SYN-ACK: then *mp becomes NULL (the burst frees the
 * rest; rte_pktmbuf_free_bulk skips NULL). */
void obs_resp_tcp(struct obs_resp *r, struct obs_epoch *ep, struct rte_mbuf **mp, bool own,
                  uint64_t t, uint8_t sensor, uint16_t pay_off, uint16_t pay_len, uint32_t sid);

/* A frame the parser refused as not IPv4: answered when it is an ARP request for H. */
void obs_resp_arp(struct obs_resp *r, struct obx_counters *c, const struct rte_mbuf *m);

/* Transmit what the burst queued; count what went and what the ring refused. */
void obs_resp_flush(struct obs_resp *r, struct obx_counters *c);

#endif /* OBSCURA_RESPONDER_H */
