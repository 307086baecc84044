/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * resip.h — the control plane's RESIP traffic state (SPEC.md B2), fed by two exchange
 * consumers, plus the control plane's own copy of the RESIP table (provider names,
 * B3 geography).  Main loop only.
 *
 * What goes in:
 *   - every SRC record with OBX_SRC_F_RESIP: its resip_packets are added to the source
 *     (address) and to the (address, UTC day = hour / 24) presence; a record flagged
 *     without RESIP packets, or with more RESIP packets than packets, is skipped and
 *     counted (bad_records);
 *   - every RESIP_PORT record (resip_port.h): packets added to (proto, port, day).
 * Merge order does not matter (sums and sets), so a journal replay after a snapshot
 * gives the same state.
 *
 * Definitions (the e2e test and obscura-gen's truth use the same):
 *   hosts of a day      distinct addresses with >= 1 RESIP packet that UTC day;
 *   days of a source    UTC days with >= 1 RESIP packet;
 *   providers of a source  the providers that list the address in the control plane's
 *                       copy of the RESIP table (every row, windows aside);
 *   ports               (proto, destination port) summed over days; port 0 for ICMP/other.
 */
#ifndef OBSCURA_CP_RESIP_H
#define OBSCURA_CP_RESIP_H

#include <stddef.h>
#include <stdint.h>

struct cp_resip;

struct cp_resip_totals {
	uint64_t packets;          /* RESIP packets (sum of SRC resip_packets) */
	uint64_t hosts;            /* distinct RESIP sources */
	uint64_t host_days;        /* (source, day) pairs */
	uint64_t port_packets;     /* sum of RESIP_PORT packets (equals packets unless lost) */
	uint64_t days;             /* distinct days with RESIP traffic */
	uint64_t src_records, port_records, bad_records;
};

struct cp_resip_src {
	uint32_t addr;
	uint32_t days;
	uint32_t first_day, last_day;
	uint64_t packets;
};

struct cp_resip_port {
	uint8_t proto;             /* enum obx_proto_idx */
	uint16_t port;
	uint64_t packets;
	uint32_t days;             /* days with packets on it */
};

struct cp_resip_day {
	uint32_t day;              /* UTC day number (ns / 86400e9) */
	uint64_t hosts;
	uint64_t packets;
};

struct cp_resip *cp_resip_new(void);
void cp_resip_free(struct cp_resip *r);
void cp_resip_reset(struct cp_resip *r);

/* Consumers' halves: reserve room for n more records (prepare), then add.  _src for
 * SRC records (sources, (source, day)), _port for RESIP_PORT records, both for tests. */
int cp_resip_reserve(struct cp_resip *r, uint32_t n);
int cp_resip_reserve_src(struct cp_resip *r, uint32_t n);
/* Room for what n SRC records add: the RESIP-flagged ones whose source or (source, day)
 * the tables do not hold yet (a read-only probe each).  0 or -ENOMEM. */
struct obx_src_rec;
int cp_resip_reserve_recs(struct cp_resip *r, const struct obx_src_rec *rec, uint32_t n);
int cp_resip_reserve_port(struct cp_resip *r, uint32_t n);
/* 0, or -EINVAL for a malformed record (counted in bad_records, nothing changed). */
int cp_resip_add_src(struct cp_resip *r, uint32_t addr, uint32_t hour, uint32_t flags,
                     uint64_t packets, uint64_t resip_packets);
int cp_resip_add_port(struct cp_resip *r, uint8_t proto, uint16_t port, uint32_t day,
                      uint64_t packets);

/* A chosen time range (SPEC B2): UTC days d0..d1 inclusive; CP_RESIP_ALL = every day. */
#define CP_RESIP_ALL 0u, UINT32_MAX

void cp_resip_totals(const struct cp_resip *r, struct cp_resip_totals *t);
/* totals restricted to days d0..d1 (packets, hosts, host_days, port_packets, days) */
int cp_resip_totals_range(const struct cp_resip *r, uint32_t d0, uint32_t d1,
                          struct cp_resip_totals *t);
/* Malloc'ed arrays (caller frees): */
/* days ascending */
int cp_resip_daily(const struct cp_resip *r, struct cp_resip_day **out, size_t *n);
/* sources by packets descending, then address; n_max 0 = all; packets and days counted
 * within days d0..d1 only */
int cp_resip_top(const struct cp_resip *r, size_t n_max, struct cp_resip_src **out, size_t *n);
int cp_resip_top_range(const struct cp_resip *r, uint32_t d0, uint32_t d1, size_t n_max,
                       struct cp_resip_src **out, size_t *n);
/* the days (ascending) of one source */
int cp_resip_src_days(const struct cp_resip *r, uint32_t addr, uint32_t **days, size_t *n);
/* ports by packets descending, then proto, port; n_max 0 = all */
int cp_resip_ports(const struct cp_resip *r, size_t n_max, struct cp_resip_port **out,
                   size_t *n);
int cp_resip_ports_range(const struct cp_resip *r, uint32_t d0, uint32_t d1, size_t n_max,
                         struct cp_resip_port **out, size_t *n);
/* packets of (proto, port) on day */
uint64_t cp_resip_port_day(const struct cp_resip *r, uint8_t proto, uint16_t port, uint32_t day);

/* Snapshot payload (malloc'ed) and load (-EBADMSG with err on a bad payload; r reset). */
int cp_resip_save(const struct cp_resip *r, uint8_t **buf, size_t *len);
int cp_resip_load(struct cp_resip *r, const uint8_t *p, size_t len, char *err, size_t errlen);

size_t cp_resip_mem(const struct cp_resip *r);

#endif
