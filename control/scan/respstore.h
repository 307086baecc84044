/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * respstore.h — what the control plane keeps of the responder's completed handshakes
 * (SPEC.md A11), over the OBX_TAB_RESP records (exchange_recs.h):
 *
 *   pairs    (period, block, dport, responder address) -> sessions: the distinct
 *            responder addresses A completed handshakes with, per port and period;
 *   cells    (period, block, dport) -> distinct addresses, sessions (derived from pairs;
 *            rebuilt at load, never serialised);
 *   periods  period -> on: the responder answered during an epoch covering it (the
 *            slot flag OBX_SLOT_F_RESP); gamma is null for a period not on;
 *   payloads (block, dport) -> the RESP_PAY_PER earliest payloads (in time order,
 *            whatever order the records come in), capped at RESP_PAY_CELLS cells (more:
 *            counted in pay_dropped).
 *
 * H (the responder's prefixes) comes from the config: |H| is the threshold's base
 * (port p of A is application-layer scanned in t iff distinct(t, A, p) >= ceil(|H|/2))
 * and a record whose destination lies outside H is dropped and counted.
 *
 * Nothing in a record is trusted: a record with port 0, a destination outside H, a
 * payload_len over OBX_RESP_PAYLOAD, or times that break the hour contract is
 * counted in bad[] and skipped.  Single-threaded (the cp main loop).
 */
#ifndef OBSCURA_CP_RESPSTORE_H
#define OBSCURA_CP_RESPSTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "exchange_recs.h"
#include "htab.h"

#define RESP_H_MAX     256u      /* responder prefixes (OBS_CONF_MAX_PREFIXES) */
#define RESP_PAY_PER   3u        /* payloads kept per (block, port) */
#define RESP_PAY_CELLS 65536u    /* (block, port) cells with payloads, at most */
/* packet time one epoch may span when it marks periods on (longer: a bad epoch) */
#define RESP_MAX_EPOCH_NS (32ull * 86400 * 1000000000ull)

enum resp_bad {
	RESP_BAD_PORT = 0,           /* dport 0 */
	RESP_BAD_OUTSIDE,            /* destination outside H (or H empty) */
	RESP_BAD_LEN,                /* payload_len > OBX_RESP_PAYLOAD */
	RESP_BAD_TIME,               /* first/last/hour inconsistent */
	RESP_BAD_N
};
#define RESP_BAD_NAMES { "port_zero", "outside_h", "payload_len", "time" }

struct resp_pay {                /* one payload kept */
	uint32_t src, dst;
	uint64_t ts_ns;
	uint32_t sid;                /* 0: no rule matched */
	uint16_t len;
	uint8_t  flags;              /* OBX_RESP_F_* of the record */
	uint8_t  reserved;
	uint8_t  bytes[OBX_RESP_PAYLOAD];
};

struct resp_paycell {            /* key: block, dport */
	uint32_t block;
	uint32_t dport;
	uint32_t n;                  /* payloads in pay[] (in use: >= 1) */
	uint32_t reserved;
	uint64_t seen;               /* records with a payload for this cell */
	struct resp_pay pay[RESP_PAY_PER];
};

struct resp_store {
	uint8_t  block_len, unit;    /* L and the period unit (the config's, like the scan's) */
	uint32_t n_h;
	uint32_t h_addr[RESP_H_MAX];
	uint8_t  h_len[RESP_H_MAX];
	uint64_t h_size;             /* |H| */
	struct cp_ht pairs, cells, periods, pays;
	/* counters (kept in the snapshot) */
	uint64_t records, sessions, payloads, pay_dropped, bad_epochs;
	uint64_t bad[RESP_BAD_N];
};

int  resp_store_init(struct resp_store *s, uint8_t block_len, uint8_t unit);
void resp_store_fini(struct resp_store *s);
/* Every entry and counter gone (H, L and the unit kept). */
void resp_store_clear(struct resp_store *s);
/* H: n prefixes (host order, len 1..32, addr with no bits past len).  0 or -EINVAL. */
int  resp_store_set_h(struct resp_store *s, const uint32_t *addr, const uint8_t *len, uint32_t n);
bool resp_store_in_h(const struct resp_store *s, uint32_t addr);
/* ceil(|H| / 2): the distinct responder addresses a port needs; 0 with H empty. */
uint64_t resp_store_threshold(const struct resp_store *s);

/* Room for n records and an epoch's period span (prepare: nothing visible changes).
 * 0 or -ENOMEM. */
int  resp_store_reserve(struct resp_store *s, uint32_t n, uint64_t t_first_ns, uint64_t t_last_ns);
/* The periods of [t_first_ns, t_last_ns] are ones the responder answered in.  A span
 * reversed or over RESP_MAX_EPOCH_NS is counted in bad_epochs and ignored.  After reserve: no failure. */
void resp_store_mark_on(struct resp_store *s, uint64_t t_first_ns, uint64_t t_last_ns);
/* One record.  0 (applied, or empty: count 0), 1 (bad: counted), -ENOMEM (no reserve). */
int  resp_store_add(struct resp_store *s, const struct obx_resp_rec *r);

bool resp_store_on(const struct resp_store *s, uint32_t period);
/* Distinct responder addresses of (period, block, port) and their sessions. */
uint32_t resp_store_distinct(const struct resp_store *s, uint32_t period, uint32_t block,
                             uint16_t port, uint64_t *sessions);
/*
 * SPEC A11 for one period of one block: of ports[0..n) (P_t(A)), how many are
 * application-layer scanned (*scanned).  Returns false when gamma is undefined: the
 * responder was not on in that period, or H is empty.  n == 0 gives gamma 0 (on).
 */
bool resp_store_gamma(const struct resp_store *s, uint32_t period, uint32_t block,
                      const uint16_t *ports, uint32_t n, uint32_t *scanned);

/* Iteration: payload cells (any order) and on-periods. */
const struct resp_paycell *resp_store_pay_next(const struct resp_store *s, uint32_t *it);
const struct resp_paycell *resp_store_pay_get(const struct resp_store *s, uint32_t block,
                                              uint16_t port);
size_t resp_store_bytes(const struct resp_store *s);
uint32_t resp_store_n_pairs(const struct resp_store *s);
uint32_t resp_store_n_on(const struct resp_store *s);

/* The snapshot payload (malloc'ed) and back.  Load replaces s's entries and counters
 * (H kept); -EBADMSG with *why on a damaged payload, -ENOMEM; s unchanged on error. */
int resp_store_serialize(const struct resp_store *s, uint8_t **buf, size_t *len);
int resp_store_deserialize(struct resp_store *s, const void *data, size_t len, const char **why);

#endif
