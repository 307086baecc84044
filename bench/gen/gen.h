/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * gen.h — obscura-gen, synthetic network-telescope traffic with a known answer: what
 * its modules share (bench/README.md describes the program, the traffic and the truth).
 *
 * The program writes a nanosecond pcap of darknet traffic and, optionally, the ground
 * truth the appliance must report for it (truth.c) and a RESIP table for its
 * residential sources (resip.c).  Output is a pure function of the options: one
 * xoshiro256** stream, seeded once, is drawn in a fixed order, so the same --seed gives
 * the same bytes.  Memory is bounded by the number of sources; packets are streamed.
 *
 * Modules, in the order the program runs them:
 *   cli.c        options, budgets per kind, main();
 *   telescope.c  the sensors' prefixes (D), address space for sources and scanner /16s;
 *   plan.c       budgets -> sources, processes and scanner plans (before any packet);
 *   run.c        the event loop: processes in time order, one packet at a time;
 *   traffic.c    what each kind's packets look like, malformed and not_telescope frames;
 *   frame.c      Ethernet/IPv4/L4 frame building, the output buffer and pcap records;
 *   truth.c      the ground-truth JSON;  resip.c  the RESIP table and its truth block.
 *
 * Single-threaded: every function runs on the main thread; the state below is global
 * because the whole program is one pass over it.  Only the drop-reason and protocol
 * names (dataplane/exchange.h), the TCP flag bits (dataplane/parse.h) and the civil-date
 * arithmetic (dataplane/period.h) come from the appliance, all header-only; the answers
 * in the truth are computed here, independently of the code they check (and
 * tests/e2e/pcap_truth.py recomputes them from the pcap in Python).
 */
#ifndef OBSCURA_GEN_H
#define OBSCURA_GEN_H

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "dataplane/common/exchange.h"   /* obx_drop, obx_proto_idx: the truth uses the appliance's names */
#include "dataplane/parse.h"      /* OBS_TCP_* flag bits (header only; nothing linked) */
#include "dataplane/common/period.h"     /* civil dates: obs_days_from_civil, obs_civil_from_days */

#define GEN_VERSION       "0.1.0"
#define GEN_MAX_SENSORS   64
#define GEN_MAX_PREFIXES  256
#define GEN_MAX_FRAME     1600
#define GEN_NS            1000000000ULL
#define GEN_DAY_NS        (86400ULL * GEN_NS)
#define GEN_OUTBUF        (4u << 20)

/* SPEC.md A defaults, used to say what the analysis should find. */
#define GEN_SCAN_ALPHA    0.8
#define GEN_SCAN_N        30
#define GEN_SCAN_M        6

/* ------------------------------------------------------------------ random */

/* xoshiro256**: fast, good, and fully determined by the seed (cli.c seeds it once). */
extern uint64_t gen_rs[4];

static inline uint64_t gen_rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static inline uint64_t gen_rand(void)
{
	uint64_t r = gen_rotl(gen_rs[1] * 5, 7) * 9, t = gen_rs[1] << 17;
	gen_rs[2] ^= gen_rs[0]; gen_rs[3] ^= gen_rs[1];
	gen_rs[1] ^= gen_rs[2]; gen_rs[0] ^= gen_rs[3];
	gen_rs[2] ^= t; gen_rs[3] = gen_rotl(gen_rs[3], 45);
	return r;
}

void gen_seed(uint64_t seed);

static inline uint64_t gen_below(uint64_t n)   /* uniform in [0, n), n > 0 */
{
	return (uint64_t)(((unsigned __int128)gen_rand() * n) >> 64);
}

static inline uint64_t gen_range(uint64_t lo, uint64_t hi)   /* inclusive */
{
	return lo + gen_below(hi - lo + 1);
}

static inline double gen_unit(void) { return (double)(gen_rand() >> 11) * 0x1p-53; }

static inline double gen_exp(double mean) { return -mean * log1p(-gen_unit()); }

/* ------------------------------------------------------------------ options, totals */

struct gen_opts {
	uint64_t seed, packets, start_ns, span_ns, end_ns;
	double   mix[6];           /* background backscatter mirai scanner resip payload */
	double   malformed_share, backwards_share, vlan_share;
	const char *out, *truth;
	uint64_t truth_sources_max;
	bool     quiet;
};
extern struct gen_opts gen_opt;                 /* cli.c */
extern const char *const gen_mix_name[6];
extern uint64_t gen_budget_kind[6];             /* packets per mix entry (cli.c) */
extern const char *gen_resip_path;              /* --resip-table, or NULL */

/* "2024-01-01T00:00:00Z" of ns since the epoch (UTC). */
void gen_fmt_iso(uint64_t ns, char *buf, size_t len);

/* ------------------------------------------------------------------ telescope (telescope.c) */

struct gen_prefix {
	uint32_t addr;     /* host order */
	uint8_t  len;
	uint8_t  sensor;
	uint64_t size;
	uint64_t cum;      /* addresses in the prefixes before this one */
};

extern char gen_sensor_name[GEN_MAX_SENSORS][32];
extern unsigned gen_n_sensors;
extern struct gen_prefix gen_pfx[GEN_MAX_PREFIXES];
extern unsigned gen_n_pfx;
extern uint64_t gen_tel_size;   /* |D| */

/* --sensor NAME=PREFIX[,PREFIX...]: 0, or -1 (bad value). */
int gen_add_sensor(const char *arg);
/* After the last sensor: D's size and offsets, the /16s gen_not_telescope draws from.
 * 0, or -1 with *why (no prefixes, overlapping ones, or a D too large to draw sources
 * and destinations outside it). */
int gen_tel_finish(const char **why);

/* gen_not_telescope's "near" destinations: a random prefix's own /16 when any has room
 * outside D (gen_near_own), else one of gen_near16 (the /16s next to D with room), else
 * none (then anywhere). */
extern bool gen_near_own;
extern uint32_t gen_near16[2 * GEN_MAX_PREFIXES];
extern unsigned gen_n_near16;

static inline int gen_tel_sensor(uint32_t a)   /* sensor index, or -1 outside D */
{
	for (unsigned i = 0; i < gen_n_pfx; i++)
		if ((uint64_t)(a - gen_pfx[i].addr) < gen_pfx[i].size && a >= gen_pfx[i].addr)
			return gen_pfx[i].sensor;
	return -1;
}

/* The off-th address of D (prefixes in the order given). */
static inline uint32_t gen_tel_addr(uint64_t off, unsigned *sensor)
{
	unsigned i = 0;
	if (gen_n_pfx > 1) {   /* binary search on cum */
		unsigned lo = 0, hi = gen_n_pfx - 1;
		while (lo < hi) {
			unsigned mid = (lo + hi + 1) / 2;
			if (gen_pfx[mid].cum <= off)
				lo = mid;
			else
				hi = mid - 1;
		}
		i = lo;
	}
	*sensor = gen_pfx[i].sensor;
	return gen_pfx[i].addr + (uint32_t)(off - gen_pfx[i].cum);
}

static inline uint32_t gen_tel_random(unsigned *sensor)
{
	return gen_tel_addr(gen_below(gen_tel_size), sensor);
}

/* Source addresses: public unicast outside D, each handed out once. */
bool gen_addr_public(uint32_t a);
uint32_t gen_addr_random(void);
uint32_t gen_addr_residential(void);
uint32_t gen_block_new(void);              /* a fresh /16 for a scanner block */
uint32_t gen_addr_in_block(uint32_t b);

/* ------------------------------------------------------------------ sources, plans (plan.c) */

enum gen_kind {
	GEN_K_BACKGROUND = 0,
	GEN_K_BACKSCATTER,
	GEN_K_MIRAI,
	GEN_K_SCAN_ROUTINE,
	GEN_K_SCAN_SEMI,
	GEN_K_SCAN_ADHOC,
	GEN_K_SCAN_NEAR,
	GEN_K_SCAN_SMALL,
	GEN_K_RESIP,
	GEN_K_PAYLOAD_HTTP,
	GEN_K_PAYLOAD_SIP,
	GEN_K_MALFORMED,     /* process only; never a source */
	GEN_K_N
};

extern const char *const gen_kind_name[GEN_K_N];

struct gen_src {
	uint32_t addr;
	uint8_t  kind;
	uint8_t  ttl;        /* initial TTL minus hops: fixed per host, as on the wire */
	uint16_t ip_id;      /* next IP id (incrementing stacks) */
	uint64_t packets, bytes;
	uint64_t first_ns, last_ns;
	uint64_t sensor_mask;
};

extern struct gen_src *gen_src;
extern uint64_t gen_n_src;

struct gen_month {
	uint64_t start, end;   /* [start, end) within the span */
	int64_t  y;
	unsigned m;
};

extern struct gen_month *gen_months;
extern unsigned gen_n_months;

struct gen_scan_period {
	unsigned month;        /* index into gen_months */
	uint64_t w0, dur;      /* sweep window */
	uint64_t count;        /* packets in this period */
	uint64_t n_pairs;      /* n_ports * |D| */
	uint64_t mul, add;     /* affine permutation of the (port, dst) pairs (ZMap-like) */
	double   coverage;
	uint32_t n_ports;
	uint16_t *ports;
};

struct gen_scan {
	uint32_t block;        /* /16 network, host order; 0 for scanner-small */
	uint8_t  kind;
	const char *variant;
	uint32_t n_hosts;
	uint32_t src0;         /* first of n_hosts consecutive source records */
	unsigned n_periods;
	struct gen_scan_period *periods;
	uint16_t syn_opt;      /* 0: bare 20-byte SYN, else with MSS option */
	uint16_t win;
};

extern struct gen_scan *gen_scans;
extern unsigned gen_n_scans;

/*
 * A process emits one stream of packets in time order.  Single-source kinds use a
 * session schedule: n packets in k sessions spread over a lifetime, exponential gaps
 * inside a session.  Scanners walk their periods.  The malformed stream is uniform.
 */
struct gen_proc {
	uint64_t t;            /* time of the next packet */
	uint64_t left;         /* packets still to emit */
	uint32_t id;           /* tie-break: creation order */
	uint8_t  kind;
	uint8_t  mode;         /* kind-specific behaviour (backscatter reply type, ...) */
	uint16_t port;         /* kind-specific port */
	uint32_t src;          /* source record (scanners: scan index) */
	uint32_t n_sess, sess;
	uint64_t left_sess, per_sess, extra_sess;
	uint64_t t0, life;
	double   gap_ns;       /* mean gap inside a session */
	uint64_t j;            /* scanner: index within the period; malformed: frame number */
};

extern struct gen_proc *gen_proc;
extern uint32_t gen_n_proc;

/* Calendar months of the span (scanner periods), then the plans, in this order:
 * scanners first (they reserve their /16s), then the single-source kinds, then the
 * malformed stream of n frames. */
void gen_months_build(void);
void gen_plan_scanners(void);
void gen_plan_simple(void);
void gen_plan_malformed(uint64_t n);
bool gen_port_in(const uint16_t *set, unsigned n, uint16_t p);

/* ------------------------------------------------------------------ the event loop (run.c) */

/* Every process's packets in time order, written as they come. */
void gen_run(void);

/* ------------------------------------------------------------------ frames, output (frame.c) */

struct gen_totals {
	uint64_t rx_packets, rx_bytes, tel_packets, tel_bytes;
	uint64_t proto[OBX_P_N], drops[OBX_DROP_N], time_backwards;
	uint64_t kind_packets[GEN_K_N];
};
extern struct gen_totals gen_tot;

extern FILE *gen_out;
extern uint8_t *gen_buf;
extern size_t gen_buf_pos;

/* Open --out ('-': stdout) and put the pcap global header in the buffer.  0 or -1. */
int gen_pcap_open(void);
/* Flush and close the pcap.  0 or -1 (message printed). */
int gen_pcap_close(void);
void gen_flush(void);

/* Room for one record; the frame is built in place at the returned pointer. */
static inline uint8_t *gen_frame_slot(void)
{
	if (gen_buf_pos + 16 + GEN_MAX_FRAME > GEN_OUTBUF)
		gen_flush();
	return gen_buf + gen_buf_pos + 16;
}

static inline void gen_put32le(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24);
}

/* Commit the frame built in gen_frame_slot(): record header, rx counters. */
static inline void gen_frame_commit(uint64_t t, uint32_t len)
{
	uint8_t *h = gen_buf + gen_buf_pos;
	gen_put32le(h, (uint32_t)(t / GEN_NS));
	gen_put32le(h + 4, (uint32_t)(t % GEN_NS));
	gen_put32le(h + 8, len);
	gen_put32le(h + 12, len);
	gen_buf_pos += 16 + len;
	gen_tot.rx_packets++;
	gen_tot.rx_bytes += len;
}

static inline void gen_put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static inline void gen_put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}

uint32_t gen_csum_add(uint32_t sum, const uint8_t *p, size_t len);
uint16_t gen_csum_fold(uint32_t sum);
uint8_t *gen_eth(uint8_t *f, unsigned n_vlan, uint16_t ethertype, unsigned sensor);
void gen_ipv4(uint8_t *ip, uint32_t src, uint32_t dst, uint8_t proto, uint16_t totlen,
              uint16_t id, uint8_t ttl, uint16_t frag);

/* One valid IPv4 packet, as the kinds describe it (traffic.c) and gen_build writes it. */
struct gen_pkt {
	uint32_t src, dst;
	uint8_t  proto, ttl, flags, icmp_type, icmp_code, optlen;
	bool     df;
	uint16_t id, sport, dport, win;
	uint32_t seq, ack, icmp_rest;
	const uint8_t *opt;
	const uint8_t *pl;
	uint16_t pllen;
};

extern const uint8_t gen_opt_mss[4];
extern const uint8_t gen_opt_linux[20];

uint32_t gen_build(uint8_t *f, unsigned n_vlan, unsigned sensor, const struct gen_pkt *k);
unsigned gen_vlan_pick(void);

/* ------------------------------------------------------------------ the traffic model (traffic.c) */

#define GEN_N_COMMON 85
#define GEN_N_HTTP   10
extern const uint16_t gen_common_ports[];   /* GEN_N_COMMON of them */
uint16_t gen_port_random(void);

static inline unsigned gen_proto_idx(uint8_t proto)
{
	return proto == 6 ? OBX_P_TCP : proto == 17 ? OBX_P_UDP : proto == 1 ? OBX_P_ICMP : OBX_P_OTHER;
}

void gen_shape(struct gen_proc *p, struct gen_src *s, struct gen_pkt *k, uint32_t dst);
void gen_emit_valid(uint64_t t, uint32_t si, const struct gen_pkt *k, unsigned sensor);
uint32_t gen_malformed(uint8_t *f, unsigned fam, uint64_t j);
uint32_t gen_not_telescope(uint8_t *f, uint64_t j, unsigned *proto_out);

/* ------------------------------------------------------------------ truth (truth.c, resip.c) */

void gen_json_str(FILE *f, const char *s);
void gen_json_addr(FILE *f, uint32_t a);
int gen_write_truth(const char *path);

void gen_resip_log(uint64_t t, uint32_t addr, const struct gen_pkt *k);
int gen_resip_write(const char *path);
void gen_resip_truth(FILE *f);

#endif
