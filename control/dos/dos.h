/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dos.h — DoS backscatter attacks (docs/dos.md): the exchange's (victim, minute) records
 * of kind 6 grouped per victim into flows, a flow ends after gap_ns of silence, and a
 * flow that reaches the thresholds (packets, duration, peak packets per minute) is an
 * attack.  Pure state, no I/O; main loop only (dos_mod.c feeds it).
 *
 * A flow is the run of one victim's backscatter with no silence of gap_ns or more:
 * a record whose first packet is at least gap_ns after the flow's last packet starts a
 * new flow.  A flow is closed once the closing time is at least gap_ns past its last
 * packet: the newest packet time seen, or, once epochs told it (cp_dos_epoch), the
 * oldest of the workers' latest epoch ends — a victim's packets all go to one worker, so
 * a worker whose epochs lag does not see its flows closed under it; a closed flow below a threshold is dropped
 * (counted), a closed attack is kept.  Memory: max_flows flows, allocated at start; a
 * full table evicts the flow that ended first among 16 sampled (counted).
 */
#ifndef OBSCURA_CP_DOS_H
#define OBSCURA_CP_DOS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "exchange_recs.h"
#include "htab.h"

#define CP_DOS_PORTS   8u      /* distinct victim ports kept per flow */
#define CP_DOS_WIN     4u      /* recent minutes whose counts are kept for the peak */
#define CP_DOS_DARK_M  (64u * OBX_DOS_DARK_W)   /* bits of the dark-address sketch */

#define CP_DOS_WORKERS 64u     /* workers whose epoch ends are followed (OBX_MAX_WORKERS) */
#define CP_DOS_F_OPEN  0x1u    /* not closed yet (the victim's current flow) */
#define CP_DOS_F_LATE  0x2u    /* a record came more than CP_DOS_WIN minutes late: its
                                * packets count, its minute may be missing from peak */

struct cp_dos_conf {
	uint64_t gap_ns;           /* silence that ends a flow (dos.gap_s) */
	uint64_t min_packets;      /* dos.min_packets */
	uint64_t min_duration_ns;  /* dos.min_duration_s */
	uint64_t min_peak;         /* dos.min_peak_ppm: packets in the busiest minute */
	uint32_t max_flows;        /* dos.max_flows */
};

/* One flow; fixed layout without padding (the snapshot writes it as it is). */
struct cp_dos_flow {
	uint32_t victim;
	uint32_t flags;                    /* CP_DOS_F_* */
	uint64_t start_ns, end_ns;         /* first and last packet */
	uint64_t packets;
	uint64_t peak;                     /* packets of the busiest minute */
	uint64_t dark[OBX_DOS_DARK_W];     /* OR of the records' dark bitmaps */
	uint64_t win_cnt[CP_DOS_WIN];      /* packets of minute win_min[k] - 1 */
	uint32_t win_min[CP_DOS_WIN];      /* minute + 1 at slot minute % CP_DOS_WIN; 0 empty */
	uint16_t ports[CP_DOS_PORTS];      /* distinct victim ports, 0 = none */
	uint16_t n_ports;                  /* distinct ports, a lower bound (docs/dos.md) */
	uint8_t  proto_mask;               /* bit per enum obx_proto_idx */
	uint8_t  pad[5];
};

struct cp_dos_stats {
	uint64_t records;          /* records offered */
	uint64_t bad_records;      /* refused (cp_dos_rec_ok) */
	uint64_t below_threshold;  /* flows closed without reaching the thresholds */
	uint64_t evicted_flows;    /* flows evicted from a full table before they qualified */
	uint64_t evicted_attacks;  /* attacks evicted from a full table */
	uint64_t late_records;     /* records more than CP_DOS_WIN minutes behind their flow */
};

struct cp_dos {
	struct cp_dos_conf c;
	struct cp_dos_flow *flow;          /* max_flows, n in use */
	uint32_t n, n_open;
	struct cp_ht cur;                  /* victim -> index + 1 of its open flow */
	uint64_t watermark_ns;             /* newest packet time seen */
	uint64_t wk_last[CP_DOS_WORKERS];  /* each worker's latest epoch end (packet time) */
	uint64_t wk_seen;                  /* bit w: wk_last[w] is set (this run) */
	uint64_t rng;
	struct cp_dos_stats st;
};

struct cp_dos *cp_dos_new(const struct cp_dos_conf *c);
void cp_dos_free(struct cp_dos *d);
/* Every flow gone, counters zeroed (the configuration kept). */
void cp_dos_clear(struct cp_dos *d);

/* A record the dataplane could have written: packets > 0, first <= last, both in its
 * minute, n_ports not below its distinct ports, only known protocol bits. */
bool cp_dos_rec_ok(const struct obx_dos_rec *r);
/* Add one record (refused ones are counted in bad_records).  Never fails (the table
 * is allocated whole at start). */
void cp_dos_add(struct cp_dos *d, const struct obx_dos_rec *r);
/* An epoch of worker w with packets up to t_last_ns was merged (0: none). */
void cp_dos_epoch(struct cp_dos *d, uint32_t w, uint64_t t_last_ns);
/* Close the flows the closing time has passed by gap_ns (after every drain pass). */
void cp_dos_sweep(struct cp_dos *d);

/* Bytes the table holds: the flows (allocated whole) and the victim index. */
size_t cp_dos_mem_bytes(const struct cp_dos *d);

bool cp_dos_is_attack(const struct cp_dos *d, const struct cp_dos_flow *f);
/* Distinct dark addresses hit: linear counting over the 192-bit sketch, -m ln(z/m)
 * rounded; *saturated when no bit is zero (then m ln m, a lower bound). */
uint64_t cp_dos_dark_estimate(const struct cp_dos_flow *f, bool *saturated);
/* Mean packets per second over the flow (duration at least 1 s). */
double cp_dos_rate(const struct cp_dos_flow *f);

/* Snapshot blob (malloc'ed) and its load into an empty table: 0, -ENOMEM, -EINVAL with
 * err set. */
int cp_dos_save(const struct cp_dos *d, uint8_t **buf, size_t *len);
int cp_dos_load(struct cp_dos *d, const uint8_t *buf, size_t len, char *err, size_t errlen);

#endif
