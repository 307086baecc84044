/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * burst_bench — obs_worker_burst() on pre-built mbufs, no I/O: cycles per packet in
 * total and per stage, the figures that steer optimisation.
 *
 *   burst_bench | burst_bench_stages
 *       [--sources N] [--packets P] [--passes K] [--stage-passes K] [--chunk C]
 *       [--epoch-ms E] [--seed S] [--huge 0|1] [--burst B] [--scanner-file F]
 *       [--hot-share X --hot-sources K]
 *       [--exclude-file F] [--resip-file CSV] [--rules-file F] [--responder 0|1]
 *       [--fp-file F] [--all-syn 0|1] [-- EAL ARGS]
 *
 * One source, two programs (bench/meson.build), both driving the real
 * obs_worker_burst() of dataplane/worker.c, never a copy of it:
 *   burst_bench         links the worker exactly as obscura-dp does and times whole
 *                       chunks (--passes of them): the total, the figure to hold against
 *                       14.88 Mpps, and the memory figures;
 *   burst_bench_stages  links worker.c compiled with -DOBS_STAGE_TIMING (worker.h), where
 *                       the burst can run with only its first j stages on, in pipeline
 *                       order: parse, telescope map, time and counters, exclusion and
 *                       scanner rte_lpm, RESIP bucket table (tables from --exclude-file /
 *                       --scanner-file / --resip-file, published as obscura-dp publishes
 *                       them at start), source record, coverage cell, RESIP port counter,
 *                       event record, free.  It times chunks of the mix through each of
 *                       those 12 variants (--stage-passes passes over the pool each,
 *                       interleaved chunk by chunk); a stage costs what it adds to the
 *                       median of the variant before it, so the stages sum to the full
 *                       burst and each is measured where it runs, overlapped with its
 *                       neighbours as the worker overlaps them (marks inside the burst
 *                       were tried: reading the TSC ~11 times a packet doubled what it
 *                       measured).  parse also carries the burst with no stage on (its
 *                       loops, packet time, frame prefetch: stages.no_stage).  Stages that
 *                       do not run (their table not given, cells or events off) print
 *                       "n/a".  And the payload stage, below.
 * Each accepts the other's options (bench/run gives both the same line).
 *
 * Traffic: the pool of trafmix.h, the same frames bench/trafgen puts on the link;
 * --hot-share/--hot-sources turn on its realistic repeats (heavy hitters probing one
 * service each), and repeat_64k_share says what share of the frames had their source
 * among the 65 536 frames before.
 * State: one worker on a heap exchange sized like production for N sources per epoch
 * (src_capacity the power of two that keeps N below the early-swap load), the /20
 * telescope of the bench config with its 4096-slot sample, and a drainer stand-in that
 * frees a READY slot between chunks (untimed) as obscura-cp does.  Packet time advances
 * at 10 GbE line rate for 64-byte frames (67.2 ns a packet), so epochs close as they
 * would on a saturated link (default 1 s epochs: a fresh table every 14.88 M packets).
 * Per chunk of C frames (default 1024, an RX ring's worth): untimed, C mbufs are taken
 * from the pool and the frames copied in (a copy-mode RX stand-in: data warm in cache);
 * timed, obs_worker_burst() over it B at a time.
 *
 * Payload (--rules-file, published as obscura-dp publishes rules.files): the 64-byte mix
 * has no L4 payload, so Hyperscan never runs on it; burst_bench_stages times the payload
 * stage apart, as cycles per PAYLOAD packet: chunks of payload frames through the same
 * obs_worker_burst() with and without its obs_rules_scan() call (the worker's scratch
 * and match callback, one event record per matched rule, in place of the packet-class
 * event an unscanned payload gets).  Not in stage_sum.
 *
 * Fingerprints (--fp-file, conf/fingerprints.txt; issue 14): the set published as
 * obscura-dp publishes tables.fingerprint_file at start, so the fingerprint stage runs
 * its rules on every SYN (without the file the stage has nothing to do and prints
 * "n/a").  --all-syn 1 makes every frame of the mix a TCP SYN (trafmix.h all_syn), the
 * worst case of the SYN-only stages; "bb fp_syns" is how many SYNs a rule labelled.
 *
 * Responder (--responder 1, bb_resp.h; issue 13): the worker answers every clean SYN to
 * the telescope with a SYN-ACK sent to a net_null port, as obscura-dp's responder stage
 * does on a live port; bench/run runs it beside the plain total, and the difference per
 * answered SYN is the responder's cost on top of receive ("bb resp.*" lines).
 *
 * Output: "bb KEY VALUE" lines (bench/run parses them), cycles per packet by the TSC:
 * the median over chunks (this kind of machine is shared; total_mean keeps the mean).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include "bb_digest.h"
#include "bb_resp.h"
#include "bench_eal.h"
#include "conf.h"
#include "control/store.h"
#include "exclude.h"
#include "fingerprint.h"
#include "log.h"
#include "parse.h"
#include "resip_load.h"
#include "resip_table.h"
#include "rules.h"
#include "scanner_table.h"
#include "tables.h"
#include "telescope.h"
#include "trafmix.h"
#include "worker.h"
#include "xchg.h"

#define BB_BURST bb_burst   /* obscura-dp's dataplane.burst (default 32) */
static uint32_t bb_burst = 32;
#define BB_PKT_NS_X10 672u   /* 67.2 ns: 64 B + 20 B preamble/IFG at 10 Gbit/s */

struct bb {
	struct bm_pool pool;
	struct rte_mempool *mp;
	struct rte_mbuf **m;
	uint32_t chunk;
	uint32_t pos;            /* next frame of the pool */
	uint64_t n_pkt;          /* packets fed so far (packet time) */
	uint64_t t0_ns;
	struct obx_header *h;
	struct obs_worker *w;
	uint64_t drained;
	struct bb_digest *dg;    /* --digest: every drained slot folded in (bb_digest.h) */
};

/* A counter of the worker so far: what it published (its live total) plus what is
 * pending in the filling epoch (epoch.c moves the one into the other at each swap). */
#define BB_COUNTER(b, f) ((b)->w->live->total.f + (b)->w->ep.c.f)

static uint64_t bb_now(const struct bb *b)
{
	return b->t0_ns + b->n_pkt * BB_PKT_NS_X10 / 10u;
}

/* The copy-mode RX stand-in: C mbufs holding the next C frames. */
static int bb_refill(struct bb *b)
{
	uint32_t i;

	if (rte_pktmbuf_alloc_bulk(b->mp, b->m, b->chunk) != 0)
		return -ENOMEM;
	for (i = 0; i < b->chunk; i++) {
		struct rte_mbuf *m = b->m[i];

		memcpy(rte_pktmbuf_mtod(m, uint8_t *), b->pool.frames +
		       (size_t)b->pos * BM_FRAME_SLOT, BM_FRAME_SLOT);
		m->data_len = BM_FRAME_LEN;
		m->pkt_len = BM_FRAME_LEN;
		if (++b->pos == b->pool.n)
			b->pos = 0;
	}
	return 0;
}

/* What obscura-cp does to a READY slot (drain.c cp_slot_release: the records each used
 * list names back to empty, the pool's handed-out entries too, then FREE with a release
 * store), untimed. */
static void bb_drain(struct bb *b)
{
	uint32_t s, k;

	for (s = 0; s < OBX_SLOTS; s++) {
		struct obx_slot_hdr *sh = obx_slot(b->h, 0, s);

		if (atomic_load_explicit(&sh->state, memory_order_acquire) != OBX_SLOT_READY)
			continue;
		if (b->dg != NULL && bb_digest_slot(b->dg, b->h, sh) != 0) {
			fprintf(stderr, "burst_bench: --digest: out of memory\n");
			exit(1);
		}
		for (k = 0; k < OBX_TAB_MAX; k++) {
			uint8_t *tab = obx_slot_tab_h(b->h, sh, k);
			const uint32_t *used = obx_slot_used_h(b->h, sh, k);
			uint32_t rs = b->h->tab_rec_size[k];

			if (tab == NULL)
				continue;
			if (used == NULL)
				memset(tab, 0, (size_t)sh->tabs[k].n_used * rs);
			for (uint32_t i = 0; used != NULL && i < sh->tabs[k].n_used; i++)
				memset(tab + (size_t)used[i] * rs, 0, rs);
		}
		atomic_store_explicit(&sh->state, OBX_SLOT_FREE, memory_order_release);
		b->drained++;
	}
}

/* One chunk (already in b->m) through obs_worker_burst(), B mbufs at a time, as the
 * poll loop hands it bursts; returns the TSC cycles it took.  Then the drainer. */
static uint64_t bb_chunk(struct bb *b)
{
	uint64_t t0, t1;
	uint32_t i;

	t0 = rte_rdtsc_precise();
	for (i = 0; i < b->chunk; i += BB_BURST) {
		obs_worker_burst(b->w, b->m + i, BB_BURST, bb_now(b), OBS_TS_CLOCK, 0);
		b->n_pkt += BB_BURST;
	}
	t1 = rte_rdtsc_precise();
	bb_drain(b);
	return t1 - t0;
}

/* The next chunk of the mix through obs_worker_burst(); cycles, or UINT64_MAX. */
static uint64_t bb_chunk_mix(struct bb *b)
{
	if (bb_refill(b) != 0)
		return UINT64_MAX;
	return bb_chunk(b);
}

static int bb_cmp_dbl(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Median of n values (sorts them). */
static double bb_median(double *v, uint32_t n)
{
	if (n == 0)
		return 0;
	qsort(v, n, sizeof(*v), bb_cmp_dbl);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0;
}

#ifdef OBS_STAGE_TIMING
/* ---- burst_bench_stages: the stages of the real burst --------------------------------
 * Names as bench/run prints them, in enum obs_stage order (worker.h). */
static const char *const bb_stage_name[OBS_STAGE_N] = {
	"parse", "tel_map", "time_counters", "exclude_lpm", "scanner_lpm", "fingerprint",
	"resip_lookup",
	"src_record", "coverage", "resip_port", "events", "free", "payload",
};

/* The mix runs in BB_V variants of the burst: variant j has the stages before j on
 * (j <= FREE), the last one every stage (as obscura-dp runs). */
#define BB_V (OBS_STAGE_FREE + 2)

static unsigned bb_upto(unsigned j)
{
	return j <= OBS_STAGE_FREE ? j : OBS_STAGE_N;
}

/* Fisher-Yates with xorshift64: the order of a round of variants. */
static void bb_shuffle(uint32_t *v, uint32_t n, uint64_t *rng)
{
	for (uint32_t i = n - 1; i > 0; i--) {
		uint32_t j, x;

		*rng ^= *rng << 13;
		*rng ^= *rng >> 7;
		*rng ^= *rng << 17;
		j = (uint32_t)(*rng % (i + 1));
		x = v[i];
		v[i] = v[j];
		v[j] = x;
	}
}

/* The chunk in b->m through the burst with the stages before `upto` on; its cycles.
 * The mbufs a burst without FREE left are freed here, untimed. */
static uint64_t bb_chunk_upto(struct bb *b, unsigned upto)
{
	uint64_t c;

	obs_stage_upto = upto;
	c = bb_chunk(b);
	obs_stage_upto = OBS_STAGE_N;
	if (upto <= OBS_STAGE_FREE)
		rte_pktmbuf_free_bulk(b->m, b->chunk);
	return c;
}

/* ---- payload stage (cycles per PAYLOAD packet) ----------------------------------------
 * The 64-byte mix has no payload (Hyperscan only sees L4 payload), so the payload stage
 * is timed apart, on a small set of payload frames: HTTP GET with SQLi (tcp/80, matches
 * sid 1000101), SIP OPTIONS from friendly-scanner (udp/5060, matches 1000001 and
 * 1000002), 256 random bytes (udp/40000, matches nothing), in turn.  They go through the
 * same obs_worker_burst(), chunk by chunk with and without its obs_rules_scan() call;
 * the stage is the difference: the scan with this worker's scratch of the published
 * obs_rules_set and the worker's match callback (a rule_matches count and one event
 * record per matched rule), as obs_worker_events() makes it, in place of the
 * packet-class event a payload gets when it is not scanned. */
#define BB_PAY_N 3
static uint8_t bb_pay_frame[BB_PAY_N][1600];
static uint32_t bb_pay_len[BB_PAY_N];
static const char *const bb_pay_name[BB_PAY_N] = { "http_sqli", "sip_options", "random256" };

static uint16_t bb_csum(const uint8_t *p, uint32_t n)
{
	uint32_t s = 0;

	for (uint32_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)p[i] << 8 | p[i + 1];
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/* Ethernet + IPv4 (src 203.0.113.7 -> 198.18.0.9) + TCP PSH-ACK or UDP + payload. */
static uint32_t bb_pay_build(uint8_t *f, uint8_t proto, uint16_t dport, const uint8_t *pl,
                             uint32_t n)
{
	uint32_t l4 = proto == 6 ? 20 : 8, ip_len = 20 + l4 + n;
	uint8_t *ip = f + 14, *t = ip + 20;
	uint16_t c;

	memset(f, 0, 14 + ip_len);
	f[12] = 0x08;                                  /* IPv4 */
	ip[0] = 0x45;
	ip[2] = (uint8_t)(ip_len >> 8);
	ip[3] = (uint8_t)ip_len;
	ip[8] = 64;
	ip[9] = proto;
	ip[12] = 203; ip[13] = 0; ip[14] = 113; ip[15] = 7;
	ip[16] = 198; ip[17] = 18; ip[18] = 0; ip[19] = 9;
	c = bb_csum(ip, 20);
	ip[10] = (uint8_t)(c >> 8);
	ip[11] = (uint8_t)c;
	t[0] = 0xc3; t[1] = 0x51;                      /* sport 50001 */
	t[2] = (uint8_t)(dport >> 8);
	t[3] = (uint8_t)dport;
	if (proto == 6) {
		t[7] = 1;                                  /* seq 1 */
		t[11] = 1;                                 /* ack 1 */
		t[12] = 5 << 4;                            /* data offset 5 */
		t[13] = 0x18;                              /* PSH ACK */
		t[14] = 0xff; t[15] = 0xff;
	} else {
		t[4] = (uint8_t)((8 + n) >> 8);
		t[5] = (uint8_t)(8 + n);
	}
	memcpy(t + l4, pl, n);
	return 14 + ip_len < 60 ? 60 : 14 + ip_len;
}

static void bb_pay_init(void)
{
	static const char sqli[] =
		"GET /item.php?id=1%20UNION%20SELECT%20user,password%20FROM%20users-- HTTP/1.1\r\n"
		"Host: 198.18.0.9\r\nUser-Agent: Mozilla/5.0\r\nAccept: */*\r\n\r\n";
	static const char sip[] =
		"OPTIONS sip:100@198.18.0.9 SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 203.0.113.7:5060;branch=z9hG4bK-1\r\n"
		"From: \"sipvicious\"<sip:100@1.1.1.1>;tag=1\r\nTo: <sip:100@1.1.1.1>\r\n"
		"Call-ID: 1234567890\r\nCSeq: 1 OPTIONS\r\n"
		"User-Agent: friendly-scanner\r\nContent-Length: 0\r\n\r\n";
	uint8_t rnd[256];
	uint32_t x = 2463534242u;

	for (uint32_t i = 0; i < sizeof(rnd); i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		rnd[i] = (uint8_t)x;
	}
	bb_pay_len[0] = bb_pay_build(bb_pay_frame[0], 6, 80, (const uint8_t *)sqli, sizeof(sqli) - 1);
	bb_pay_len[1] = bb_pay_build(bb_pay_frame[1], 17, 5060, (const uint8_t *)sip, sizeof(sip) - 1);
	bb_pay_len[2] = bb_pay_build(bb_pay_frame[2], 17, 40000, rnd, sizeof(rnd));
}

/* C payload frames (kinds in turn, or only `kind` when < BB_PAY_N) into b->m. */
static int bb_pay_refill(struct bb *b, int kind)
{
	uint32_t i;

	if (rte_pktmbuf_alloc_bulk(b->mp, b->m, b->chunk) != 0)
		return -ENOMEM;
	for (i = 0; i < b->chunk; i++) {
		struct rte_mbuf *m = b->m[i];
		uint32_t k = kind < BB_PAY_N ? (uint32_t)kind : i % BB_PAY_N;

		memcpy(rte_pktmbuf_mtod(m, uint8_t *), bb_pay_frame[k], bb_pay_len[k]);
		m->data_len = (uint16_t)bb_pay_len[k];
		m->pkt_len = bb_pay_len[k];
	}
	return 0;
}

/* The payload stage over nc chunk pairs of `kind` (after 4 of warm-up): each pair one
 * chunk with every stage and one without the rules scan, in turn; the difference of
 * their medians per packet into *cyc, the rule matches per packet into *mpp.  -EPROTO
 * when the worker did not offer every frame to the rules (a frame not accepted). */
static int bb_payload(struct bb *b, int kind, uint32_t nc, double *pc, double *cyc,
                      double *mpp)
{
	uint64_t pay = 0, match = 0;
	double all;
	uint32_t k, j;

	for (k = 0; k < 4 + nc; k++)
		for (j = 0; j < 2; j++) {
			uint64_t p0 = BB_COUNTER(b, payload_packets), m0 = BB_COUNTER(b, rule_matches);
			double c;

			if (bb_pay_refill(b, kind) != 0)
				return -ENOMEM;
			c = (double)bb_chunk_upto(b, j == 0 ? OBS_STAGE_N : OBS_STAGE_PAYLOAD) /
			    (double)b->chunk;
			if (k < 4)
				continue;
			pc[(size_t)j * nc + k - 4] = c;
			if (j == 0) {
				pay += BB_COUNTER(b, payload_packets) - p0;
				match += BB_COUNTER(b, rule_matches) - m0;
			}
		}
	if (pay != (uint64_t)nc * b->chunk)
		return -EPROTO;
	all = bb_median(pc, nc);
	*cyc = all - bb_median(pc + nc, nc);
	*mpp = (double)match / (double)pay;
	return 0;
}

/* Every stage of the mix over `chunks` chunks a variant, then the payload stage;
 * prints them.  The variants are interleaved, in rounds of one chunk each in a fresh
 * random order, so every variant meets the same tables and the same machine, and none
 * always follows the same other one (the state a burst leaves in the caches). */
static int bb_run_stages(struct bb *b, uint32_t chunks, uint32_t stage_passes,
                         const bool have[OBS_STAGE_N], bool rules)
{
	double *per = calloc((size_t)BB_V * chunks, sizeof(double)), t[BB_V], sum = 0;
	double med[OBS_STAGE_N] = { 0 };
	uint64_t pay = 0, rng = 0x9e3779b97f4a7c15ull;
	uint32_t k, s, order[BB_V];

	for (k = 0; k < BB_V; k++)
		order[k] = k;

	if (per == NULL)
		return -ENOMEM;
	for (k = 0; k < chunks * BB_V; k++) {
		uint64_t p0 = BB_COUNTER(b, payload_packets);
		uint32_t j;

		if (k % BB_V == 0)
			bb_shuffle(order, BB_V, &rng);
		j = order[k % BB_V];

		if (bb_refill(b) != 0) {
			free(per);
			return -ENOMEM;
		}
		per[(size_t)j * chunks + k / BB_V] =
			(double)bb_chunk_upto(b, bb_upto(j)) / (double)b->chunk;
		if (j == BB_V - 1)
			pay += BB_COUNTER(b, payload_packets) - p0;
	}
	for (k = 0; k < BB_V; k++)
		t[k] = bb_median(per + (size_t)k * chunks, chunks);
	free(per);
	/* a stage costs what it adds to the stages before it; parse also carries the
	 * burst with no stage at all (its loops, the packet time) */
	for (s = 0; s <= OBS_STAGE_FREE; s++)
		med[s] = s == OBS_STAGE_PARSE ? t[1] : t[s + 1] - t[s];
	printf("bb stages.packets %llu\n", (unsigned long long)chunks * BB_V * b->chunk);
	printf("bb stages.total %.1f\n", t[BB_V - 1]);
	printf("bb stages.no_stage %.1f\n", t[0]);
	for (s = 0; s <= OBS_STAGE_FREE; s++) {
		if (!have[s]) {
			printf("bb stage.%s n/a\n", bb_stage_name[s]);
			continue;
		}
		printf("bb stage.%s %.1f\n", bb_stage_name[s], med[s]);
		sum += med[s];
	}
	printf("bb stage_sum %.1f\n", sum);
	printf("bb minimal %.1f\n", med[OBS_STAGE_PARSE] + med[OBS_STAGE_TEL] +
	       med[OBS_STAGE_TIME] + med[OBS_STAGE_FREE]);
	/* payload: the 64-byte mix has none (Hyperscan only sees L4 payload), so it is not
	 * in the sum; timed apart per payload packet */
	printf("bb payload_in_mix %llu\n", (unsigned long long)pay);
	if (!rules) {
		printf("bb stage.payload n/a\n");
		return 0;
	}
	uint32_t nc = 32 * stage_passes;             /* chunk pairs a kind */
	double *pc = calloc(2 * (size_t)nc, sizeof(double)), cyc, mpp;
	int kind, ret = 0;

	if (pc == NULL)
		return -ENOMEM;
	for (kind = BB_PAY_N; kind >= 0 && ret == 0; kind--) {   /* the mix last: it is the row */
		ret = bb_payload(b, kind, nc, pc, &cyc, &mpp);
		if (ret != 0) {
			fprintf(stderr, "burst_bench: payload frames %s were not all offered to "
			        "the rules\n", kind < BB_PAY_N ? bb_pay_name[kind] : "(mix)");
		} else if (kind == BB_PAY_N) {
			printf("bb stage.payload %.1f\n", cyc);
			printf("bb payload.matches_per_pkt %.2f\n", mpp);
			printf("bb payload.packets %llu\n", (unsigned long long)nc * b->chunk);
		} else {
			printf("bb payload.%s %.1f\n", bb_pay_name[kind], cyc);
			printf("bb payload.%s.frame_bytes %u\n", bb_pay_name[kind], bb_pay_len[kind]);
			printf("bb payload.%s.matches_per_pkt %.2f\n", bb_pay_name[kind], mpp);
		}
	}
	free(pc);
	return ret;
}
#else
/* ---- burst_bench: the total, on the production build of the worker -------------------- */
static int bb_run_total(struct bb *b, uint32_t chunks, uint32_t cap, uint32_t n_sources,
                        uint64_t hz)
{
	double *per = calloc(chunks, sizeof(double)), med;
	uint64_t cyc = 0, n = 0, t0 = rte_rdtsc();
	uint32_t k;

	if (per == NULL)
		return -ENOMEM;
	for (k = 0; k < chunks; k++) {
		uint64_t c = bb_chunk_mix(b);

		if (c == UINT64_MAX) {
			free(per);
			return -ENOMEM;
		}
		cyc += c;
		per[k] = (double)c;
		n += b->chunk;
	}
	/* this machine is shared: the median chunk is what the code costs, the mean also
	 * carries every preemption and interrupt that landed in the run */
	med = bb_median(per, chunks) / (double)b->chunk;
	free(per);
	printf("bb tsc_ghz %.3f\n", (double)hz / 1e9);
	printf("bb sources %u\n", n_sources);
	printf("bb frames %u\n", b->pool.n);
	printf("bb repeat_64k_share %.3f\n", (double)b->pool.n_repeat_64k / b->pool.n);
	printf("bb packets %llu\n", (unsigned long long)n);
	printf("bb wall_s %.2f\n", (double)(rte_rdtsc() - t0) / (double)hz);
	printf("bb src_capacity %u\n", cap);
	printf("bb n_src_filling %u\n", *obs_epoch_n_used(&b->w->ep, OBX_TAB_SRC));
	printf("bb epochs_drained %llu\n", (unsigned long long)b->drained);
	printf("bb lost_updates %llu\n", (unsigned long long)BB_COUNTER(b, lost_updates));
	printf("bb fp_syns %llu\n", (unsigned long long)BB_COUNTER(b, reserved[OBX_CNT_FP_SYNS]));
	printf("bb total %.1f\n", med);
	printf("bb total_mean %.1f\n", (double)cyc / (double)n);
	printf("bb total_mpps %.2f\n", (double)hz / med / 1e6);
	printf("bb mem.src_rec_bytes %zu\n", sizeof(struct obx_src_rec));
	printf("bb mem.cp_src_bytes %zu\n", sizeof(struct cp_src));
	/* exchange: two slots a worker, filled to at most OBX_SRC_MAX_LOAD before a swap;
	 * per million sources at the load a power-of-two capacity actually gives */
	printf("bb mem.xchg_bytes_per_src %.1f\n",
	       (double)OBX_SLOTS * obx_tab_bytes(OBX_TAB_SRC, cap, sizeof(struct obx_src_rec)) /
	       n_sources);
	printf("bb mem.xchg_bytes_per_src_at_max_load %.1f\n",
	       (double)OBX_SLOTS * obx_tab_bytes(OBX_TAB_SRC, 1, sizeof(struct obx_src_rec)) *
	       1000.0 / OBX_SRC_MAX_LOAD);
	return 0;
}
#endif

static double bb_arg(const char *o, const char *v, double lo, double hi)
{
	char *end;
	double d = strtod(v, &end);

	if (end == v || *end != '\0' || d < lo || d > hi) {
		fprintf(stderr, "burst_bench: %s: '%s' is not in %g..%g\n", o, v, lo, hi);
		exit(1);
	}
	return d;
}

int main(int argc, char **argv)
{
	static struct bb b;
	static struct obs_conf conf;
	char yaml[512], yerr[256];
	uint32_t tcap[OBX_TAB_MAX], trec[OBX_TAB_MAX];
	uint64_t xchg_size;
	const char *scan_file = NULL, *excl_file = NULL, *resip_file = NULL, *rules_file = NULL;
	const char *fp_file = NULL;
	struct bm_mix_conf mc;
	struct obs_tel_prefix tp = { .addr = 0xc6120000u, .len = 20, .sensor = 0 };
	struct obx_header proto;
	struct obs_tel *tel;
	const char *why = NULL;
	char prefix[64];
	char *def_eal[] = { argv[0], "--no-huge", "-m", "1024", "--no-pci", "-l", "0",
	                    "--file-prefix", prefix, "--log-level", "lib.eal:error", NULL };
	uint32_t passes = 12, stage_passes = 2, epoch_ms = 1000, cap, k, chunks, digest = 0;
	struct bb_digest dg;
	int i, eal_at = argc, ret, huge = 0, responder = 0;

	bm_mix_defaults(&mc);
	b.chunk = 1024;
	for (i = 1; i < argc; i++) {
		const char *o = argv[i];

		if (strcmp(o, "--") == 0) {
			eal_at = i;
			break;
		}
		if (i + 1 >= argc) {
			fprintf(stderr, "burst_bench: %s needs a value\n", o);
			return 1;
		}
		if (strcmp(o, "--sources") == 0)
			mc.n_sources = (uint32_t)bb_arg(o, argv[++i], 1024, 1 << 26);
		else if (strcmp(o, "--packets") == 0)
			mc.n_packets = (uint32_t)bb_arg(o, argv[++i], 1024, 1 << 27);
		else if (strcmp(o, "--passes") == 0)
			passes = (uint32_t)bb_arg(o, argv[++i], 1, 1000);
		else if (strcmp(o, "--stage-passes") == 0)
			stage_passes = (uint32_t)bb_arg(o, argv[++i], 1, 1000);
		else if (strcmp(o, "--chunk") == 0)
			b.chunk = (uint32_t)bb_arg(o, argv[++i], BB_BURST, 4096) / BB_BURST * BB_BURST;
		else if (strcmp(o, "--epoch-ms") == 0)
			epoch_ms = (uint32_t)bb_arg(o, argv[++i], 10, 60000);
		else if (strcmp(o, "--seed") == 0)
			mc.seed = (uint64_t)bb_arg(o, argv[++i], 0, 1e18);
		else if (strcmp(o, "--scanner-file") == 0)
			scan_file = argv[++i];
		else if (strcmp(o, "--resip-file") == 0)
			resip_file = argv[++i];
		else if (strcmp(o, "--exclude-file") == 0)
			excl_file = argv[++i];
		else if (strcmp(o, "--rules-file") == 0)
			rules_file = argv[++i];
		else if (strcmp(o, "--hot-share") == 0)
			mc.hot_share = bb_arg(o, argv[++i], 0, 0.99);
		else if (strcmp(o, "--hot-sources") == 0)
			mc.hot_sources = (uint32_t)bb_arg(o, argv[++i], 1, 1 << 24);
		else if (strcmp(o, "--burst") == 0)
			bb_burst = (uint32_t)bb_arg(o, argv[++i], 1, OBS_BURST_MAX);
		else if (strcmp(o, "--huge") == 0)
			huge = (int)bb_arg(o, argv[++i], 0, 1);
		else if (strcmp(o, "--responder") == 0)           /* issue 13 */
			responder = (int)bb_arg(o, argv[++i], 0, 1);
		else if (strcmp(o, "--fp-file") == 0)             /* issue 14 */
			fp_file = argv[++i];
		else if (strcmp(o, "--all-syn") == 0)
			mc.all_syn = (int)bb_arg(o, argv[++i], 0, 1);
		else if (strcmp(o, "--digest") == 0)              /* bb_digest.h */
			digest = (uint32_t)bb_arg(o, argv[++i], 0, 1000);
		else {
			fprintf(stderr, "usage: burst_bench [--sources N] [--packets P] [--passes K] "
			        "[--stage-passes K] [--chunk C] [--epoch-ms E] [--seed S] [--huge 0|1] "
			        "[--burst B] [--hot-share X --hot-sources K] [--scanner-file F] "
			        "[--exclude-file F] [--resip-file CSV] [--rules-file F] "
			        "[--responder 0|1] [--fp-file F] [--all-syn 0|1] [--digest PASSES] "
			        "[-- EAL]\n");
			return 1;
		}
	}
	if (mc.n_packets < mc.n_sources)
		mc.n_packets = mc.n_sources;
	if ((ret = bm_pool_build(&mc, &b.pool)) != 0) {
		fprintf(stderr, "burst_bench: packet pool: %s\n", strerror(-ret));
		return 1;
	}
	snprintf(prefix, sizeof(prefix), "burst_bench_%d", (int)getpid());
	if (bench_eal_init("burst_bench", argc, argv, eal_at, def_eal,
	                   (int)(sizeof(def_eal) / sizeof(def_eal[0])) - 1) != 0)
		return 1;
	obs_log_init();
	obs_clock_init();
	if (obs_worker_dyn_init() != 0)
		return 1;

	tel = obs_tel_build(&tp, 1, 4096, &why);
	if (tel == NULL) {
		fprintf(stderr, "burst_bench: telescope: %s\n", why ? why : strerror(errno));
		return 1;
	}
	/* production sizing: N sources per epoch stay under the early-swap load */
	for (cap = 1024; (uint64_t)cap * OBX_SRC_MAX_LOAD / 1000 < mc.n_sources; cap <<= 1)
		;
	/* the exchange obscura-dp would create for this config (conf.c, xchg.c) */
	/* production-size per-epoch tables: cells and events sized like the sources, RESIP
	 * ports for every (proto, port) of a day (bench/run; the mix's RESIP packets go to
	 * random ports, and a small table would force a swap every few thousand) */
	snprintf(yaml, sizeof(yaml),
	         "dataplane: {workers: 1}\n"
	         "telescope: {sample_cap: 4096, sensors: [{name: bench, prefixes: [198.18.0.0/20]}]}\n"
	         "exchange: {epoch_ms: %u, src_capacity: %u, cell_capacity: %u,\n"
	         "           bitmap_capacity: 16384, event_capacity: %u,\n"
	         "           resip_port_capacity: 524288}\n",
	         epoch_ms, cap, cap, cap);
	if (obs_conf_load_string(yaml, &conf, yerr, sizeof(yerr)) != 0) {
		fprintf(stderr, "burst_bench: config: %s\n", yerr);
		return 1;
	}
	obs_conf_exchange_tabs(&conf, tcap, trec);
	/* SPEC.md A: a bitmap entry holds |S| bits (xchg.c does the same) */
	obs_xchg_cov_sample_size = obs_tel_sample_size(tel);
	if (tcap[OBX_TAB_BITMAP] != 0)
		trec[OBX_TAB_BITMAP] = obx_bitmap_rec_size(obs_xchg_cov_sample_size);
	if (obx_layout_init(&proto, 1, 0, tcap, trec) != 0) {
		fprintf(stderr, "burst_bench: exchange of %u records per slot\n", cap);
		return 1;
	}
	/* --huge 1: the exchange on 2 MB pages, as obscura-dp maps it from hugetlbfs
	 * (exchange.path under /dev/hugepages); 0: 4 KB pages, as from /dev/shm */
	xchg_size = (proto.total_size + (2u << 20) - 1) & ~(uint64_t)((2u << 20) - 1);
	b.h = mmap(NULL, xchg_size, PROT_READ | PROT_WRITE,
	           MAP_PRIVATE | MAP_ANONYMOUS | (huge ? MAP_HUGETLB : 0), -1, 0);
	if (b.h == MAP_FAILED) {
		fprintf(stderr, "burst_bench: exchange of %llu bytes%s: %s\n",
		        (unsigned long long)xchg_size, huge ? " on 2 MB pages" : "", strerror(errno));
		return 1;
	}
	memset(b.h, 0, proto.total_size);
	memcpy(b.h, &proto, sizeof(proto));
	if (tcap[OBX_TAB_CELL] != 0) {
		b.h->cov_sample_size = obs_xchg_cov_sample_size;
		b.h->cov_block_len = (uint8_t)conf.block_len;
		b.h->cov_period_unit = (uint8_t)conf.period;
	}
	/* the read-mostly tables, published as cmd.c does at start */
	if (obs_tables_init(1) != 0)
		return 1;
	if (scan_file != NULL) {
		struct obs_scanner_tab *st = obs_scanner_build(scan_file, yerr, sizeof(yerr));

		if (st == NULL || obs_tables_swap(OBS_TABLE_SCANNER, st, obs_scanner_free) != 0) {
			fprintf(stderr, "burst_bench: scanner table: %s\n", yerr);
			return 1;
		}
	}
	if (excl_file != NULL) {
		struct obs_exclude_tab *et = obs_exclude_build(&excl_file, 1, yerr, sizeof(yerr));

		if (et == NULL || obs_tables_swap(OBS_TABLE_EXCLUDE, et, obs_exclude_free) != 0) {
			fprintf(stderr, "burst_bench: exclude table: %s\n", yerr);
			return 1;
		}
	}
	if (resip_file != NULL) {
		struct resip_load_opts ro = { 0 };
		struct resip_table *rt = resip_load(resip_file, &ro, NULL, yerr, sizeof(yerr));
		struct obs_resip_tab *xt = rt == NULL ? NULL :
			obs_resip_tab_build(rt, true, (int)rte_socket_id(), yerr, sizeof(yerr));

		if (xt == NULL || obs_tables_swap(OBS_TABLE_RESIP, xt, obs_resip_tab_free) != 0) {
			fprintf(stderr, "burst_bench: RESIP table: %s\n", yerr);
			return 1;
		}
#ifndef OBS_STAGE_TIMING
		printf("bb mem.resip_load_bytes %zu\n", resip_table_bytes(rt));
		printf("bb mem.resip_tab_bytes %zu\n", xt->bytes);
#endif
	}
	if (rules_file != NULL) {
		/* as obscura-dp publishes rules.files at start (life.c): one database, one
		 * scratch per worker */
		struct obs_rules_src rsrc = { rules_file, NULL };
		struct obs_rules *rr = obs_rules_load(&rsrc, 1, NULL, NULL, yerr, sizeof(yerr));
		struct obs_rules_set *rset = rr == NULL ? NULL :
			obs_rules_set_new(rr, 1, yerr, sizeof(yerr));

		if (rset == NULL || obs_tables_swap(OBS_TABLE_RULES, rset, obs_rules_set_free) != 0) {
			fprintf(stderr, "burst_bench: rules: %s\n", yerr);
			return 1;
		}
#ifdef OBS_STAGE_TIMING
		printf("bb rules.accepted %u\n", obs_rules_stats(rr)->n_accepted);
		printf("bb rules.rejected %u\n", obs_rules_stats(rr)->n_rejected);
		bb_pay_init();
#endif
	}
	if (fp_file != NULL) {
		/* as obscura-dp publishes tables.fingerprint_file at start (cmd.c) */
		struct obs_fp_set *fs = obs_fp_load(fp_file, yerr, sizeof(yerr));

		if (fs == NULL || obs_tables_swap(OBS_TABLE_FP, fs, obs_fp_free) != 0) {
			fprintf(stderr, "burst_bench: fingerprints: %s\n", fs == NULL ? yerr : "swap");
			return 1;
		}
		printf("bb fp.rules %u\n", fs->n);
	}
	obs_tables_online(0);
	b.h->epoch_ns = (uint64_t)epoch_ms * 1000000u;
	if (posix_memalign((void **)&b.w, RTE_CACHE_LINE_SIZE, sizeof(*b.w)) != 0 ||
	    obs_worker_init(b.w, 0, b.h, b.h->epoch_ns, tel, BB_BURST) != 0)
		return 1;
	if (responder && bb_resp_setup(b.w, &conf, tel, yerr, sizeof(yerr)) != 0) {
		fprintf(stderr, "burst_bench: --responder: %s\n", yerr);
		return 1;
	}
	b.mp = rte_pktmbuf_pool_create("bb_pool", b.chunk + 1023, 256, 0,
	                               RTE_MBUF_DEFAULT_BUF_SIZE, (int)rte_socket_id());
	b.m = calloc(b.chunk, sizeof(*b.m));
	if (b.mp == NULL || b.m == NULL) {
		fprintf(stderr, "burst_bench: mbuf pool: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	/* start on an epoch boundary: the swaps fall at the same packets in every run */
	b.t0_ns = obs_clock_ns(rte_rdtsc()) / b.h->epoch_ns * b.h->epoch_ns;
	if (digest > 0) {
		/* --digest P: P passes over the pool at a fixed packet time, untimed, every
		 * published slot and the final one folded into one fingerprint */
		b.t0_ns = 1700000000000000000ull / b.h->epoch_ns * b.h->epoch_ns;
		bb_digest_init(&dg);
		b.dg = &dg;
		chunks = (b.pool.n + b.chunk - 1) / b.chunk;
		for (k = 0; k < digest * chunks; k++)
			if (bb_chunk_mix(&b) == UINT64_MAX)
				return 1;
		obs_epoch_finish(&b.w->ep);
		bb_drain(&b);
		bb_digest_print(&dg);
		printf("bb digest.packets %llu\n", (unsigned long long)b.n_pkt);
		return 0;
	}

	/* warm-up: one pass, every source in the table */
	chunks = (b.pool.n + b.chunk - 1) / b.chunk;
	for (k = 0; k < chunks; k++)
		if (bb_chunk_mix(&b) == UINT64_MAX)
			return 1;
#ifdef OBS_STAGE_TIMING
	{
		bool have[OBS_STAGE_N];

		for (k = 0; k < OBS_STAGE_N; k++)
			have[k] = true;
		have[OBS_STAGE_EXCL] = excl_file != NULL;
		have[OBS_STAGE_SCAN] = scan_file != NULL;
		have[OBS_STAGE_RESIP] = have[OBS_STAGE_RESIP_PORT] = resip_file != NULL;
		have[OBS_STAGE_COV] = b.w->cov_on;
		have[OBS_STAGE_FP] = fp_file != NULL;
		have[OBS_STAGE_EVENTS] = b.w->ev_on;
		(void)passes;                  /* burst_bench's */
		ret = bb_run_stages(&b, stage_passes * chunks, stage_passes, have, rules_file != NULL);
	}
#else
	(void)stage_passes;                    /* burst_bench_stages' */
	ret = bb_run_total(&b, passes * chunks, cap, mc.n_sources, rte_get_tsc_hz());
	if (responder)
		bb_resp_print(b.w);
#endif
	fflush(stdout);
	rte_mempool_free(b.mp);
	obs_tel_free(tel);
	munmap(b.h, xchg_size);
	bm_pool_free(&b.pool);
	rte_eal_cleanup();
	return ret == 0 ? 0 : 1;
}
