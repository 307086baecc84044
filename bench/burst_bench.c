/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * burst_bench — obs_worker_burst() on pre-built mbufs, no I/O: cycles per packet in
 * total and per stage, the figures that steer optimisation.
 *
 *   burst_bench [--sources N] [--packets P] [--passes K] [--stage-passes K]
 *               [--chunk C] [--epoch-ms E] [--seed S] [--huge 0|1] [--burst B]
 *               [--scanner-file F] [--exclude-file F] [--resip-file CSV]
 *               [--rules-file F] [-- EAL ARGS]
 *
 * Traffic: the pool of trafmix.h, the same frames bench/trafgen puts on the link.
 * State: one worker on a heap exchange sized like production for N sources per epoch
 * (src_capacity the power of two that keeps N below the early-swap load), the /20
 * telescope of the bench config with its 4096-slot sample, and a drainer stand-in that
 * frees a READY slot between chunks (untimed) as obscura-cp does.  Packet time advances
 * at 10 GbE line rate for 64-byte frames (67.2 ns a packet), so epochs close as they
 * would on a saturated link (default 1 s epochs: a fresh table every 14.88 M packets).
 *
 * Per chunk of C frames (default 1024, an RX ring's worth): untimed, C mbufs are taken
 * from the pool and the frames copied in (a copy-mode RX stand-in: data warm in cache);
 * timed, obs_worker_burst() over it 32 at a time.  A second run times each stage on the
 * same frames by calling the functions the worker calls, in the worker's pattern
 * (prefetch ahead, bulk lookups per burst, bucket prefetch then update): parse,
 * telescope map, time and counters, exclusion and scanner rte_lpm, RESIP rte_hash
 * (tables from --exclude-file / --scanner-file / --resip-file, published as obscura-dp
 * publishes them at start), source record, coverage
 * cell, event record, free.  Stages that do not exist yet (or whose table was not
 * given) print "n/a".
 *
 * Payload (--rules-file, published as obscura-dp publishes rules.files): the 64-byte mix
 * has no L4 payload, so Hyperscan never runs on it; the payload stage is timed apart as
 * cycles per PAYLOAD packet over a small set of payload frames (bb_chunk_payload), and
 * is not in stage_sum.
 *
 * Output: "bb KEY VALUE" lines (bench/run parses them), cycles per packet by the TSC:
 * the median over chunks (this kind of machine is shared; total_mean keeps the mean).
 */
#include <errno.h>
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
#include <rte_prefetch.h>

#include "conf.h"
#include "control/store.h"
#include "coverage.h"
#include "epoch.h"
#include "events.h"
#include "exclude.h"
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
};

static uint64_t bb_payload_in_mix;   /* accepted mix frames with an L4 payload */

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

/* What obscura-cp does to a READY slot (drain.c cp_slot_release: every table back to
 * empty, then FREE with a release store), untimed. */
static void bb_drain(struct bb *b)
{
	uint32_t s, k;

	for (s = 0; s < OBX_SLOTS; s++) {
		struct obx_slot_hdr *sh = obx_slot(b->h, 0, s);

		if (atomic_load_explicit(&sh->state, memory_order_acquire) != OBX_SLOT_READY)
			continue;
		for (k = 0; k < OBX_TAB_MAX; k++) {
			uint8_t *tab = obx_slot_tab_h(b->h, sh, k);

			if (tab != NULL)
				memset(tab, 0, (size_t)b->h->tab_capacity[k] * b->h->tab_rec_size[k]);
		}
		atomic_store_explicit(&sh->state, OBX_SLOT_FREE, memory_order_release);
		b->drained++;
	}
}

/* One chunk through obs_worker_burst(); returns the TSC cycles it took. */
static uint64_t bb_chunk_total(struct bb *b)
{
	uint64_t t0, t1;
	uint32_t i;

	if (bb_refill(b) != 0)
		return UINT64_MAX;
	t0 = rte_rdtsc_precise();
	for (i = 0; i < b->chunk; i += BB_BURST) {
		obs_worker_burst(b->w, b->m + i, BB_BURST, bb_now(b), OBS_TS_CLOCK, 0);
		b->n_pkt += BB_BURST;
	}
	t1 = rte_rdtsc_precise();
	bb_drain(b);
	return t1 - t0;
}

enum { BB_S_PARSE = 0, BB_S_TEL, BB_S_TIME, BB_S_EXCL, BB_S_SCAN, BB_S_RESIP, BB_S_SRC,
       BB_S_COV, BB_S_EVENT, BB_S_FREE, BB_S_N };
static const char *const bb_stage_name[BB_S_N] = {
	"parse", "tel_map", "time_counters", "exclude_lpm", "scanner_lpm", "resip_lookup",
	"src_record", "coverage", "events", "free",
};

/* One chunk, stage by stage, in the worker's patterns; cycles added to cyc[].  Each
 * stage runs over the whole chunk, burst by burst where the worker works burst-wide
 * (bulk lookups, bucket prefetch then update), on the results of the stages before. */
static int bb_chunk_stages(struct bb *b, uint64_t cyc[BB_S_N])
{
	static struct obs_pkt_meta meta[4096];
	static int8_t verdict[4096];
	static uint8_t sensor[4096], scanner[4096], excluded[4096], ev_inline[4096];
	static uint32_t slot[4096];
	struct obs_worker *w = b->w;
	struct obx_counters *c = &w->ep.c;
	const struct obs_scanner_tab *scan_tab = obs_tables_get(OBS_TABLE_SCANNER);
	const struct obs_exclude_tab *excl_tab = obs_tables_get(OBS_TABLE_EXCLUDE);
	const struct obs_resip_tab *resip_tab = obs_tables_get(OBS_TABLE_RESIP);
	uint32_t src[OBS_BURST_MAX], hop[OBS_BURST_MAX];
	uint16_t idx[OBS_BURST_MAX];
	uint64_t t0, t1, now = bb_now(b);
	uint32_t i, j, k, n;

	if (bb_refill(b) != 0)
		return -ENOMEM;
	/* parse: prefetch 4 frames ahead, as pass 1 does */
	t0 = rte_rdtsc_precise();
	for (i = 0; i < 4 && i < b->chunk; i++)
		rte_prefetch0(rte_pktmbuf_mtod(b->m[i], void *));
	for (i = 0; i < b->chunk; i++) {
		struct rte_mbuf *m = b->m[i];

		if (i + 4 < b->chunk)
			rte_prefetch0(rte_pktmbuf_mtod(b->m[i + 4], void *));
		verdict[i] = (int8_t)obs_parse_snap(rte_pktmbuf_mtod(m, const uint8_t *),
		                                    m->data_len, m->pkt_len, &meta[i]);
	}
	t1 = rte_rdtsc_precise();
	cyc[BB_S_PARSE] += t1 - t0;
	for (i = 0; i < b->chunk; i++)            /* untimed: payload packets in the mix */
		bb_payload_in_mix += verdict[i] < 0 && meta[i].payload_len > 0;

	t0 = t1;
	for (i = 0; i < b->chunk; i++)
		if (verdict[i] < 0 &&
		    obs_tel_lookup(w->tel, meta[i].dst, &sensor[i], &slot[i]) != 0)
			verdict[i] = OBX_DROP_NOT_TELESCOPE;
	t1 = rte_rdtsc_precise();
	cyc[BB_S_TEL] += t1 - t0;

	/* time as the worker does it without RX timestamps: every packet of a burst has
	 * the poll's time (the one bb_chunk_total() gives a burst); counters per packet */
	t0 = t1;
	for (i = 0; i < b->chunk; i++) {
		obs_epoch_time(&w->ep, now + (uint64_t)(i / BB_BURST * BB_BURST) * BB_PKT_NS_X10 / 10u);
		c->rx_packets++;
		c->rx_bytes += b->m[i]->pkt_len;
		if (verdict[i] >= 0) {
			c->drops[verdict[i] < (int)OBX_DROP_N ? verdict[i] : OBX_DROP_NOT_IPV4]++;
			continue;
		}
		c->tel_packets++;
		c->tel_bytes += b->m[i]->pkt_len;
		c->proto_packets[meta[i].proto_idx < OBX_P_N ? meta[i].proto_idx : OBX_P_OTHER]++;
	}
	t1 = rte_rdtsc_precise();
	cyc[BB_S_TIME] += t1 - t0;

	/* the two rte_lpm bulk lookups on the accepted sources of each burst */
	memset(excluded, 0, b->chunk);
	memset(scanner, 0, b->chunk);
	for (k = 0; k < 2; k++) {
		t0 = rte_rdtsc_precise();
		for (i = 0; i < b->chunk; i += BB_BURST) {
			for (j = i, n = 0; j < i + BB_BURST; j++)
				if (verdict[j] < 0) {
					src[n] = meta[j].src;
					idx[n++] = (uint16_t)j;
				}
			if (n == 0)
				continue;
			if (k == 0 && excl_tab != NULL) {
				obs_exclude_lookup_bulk(excl_tab, src, hop, n);
				for (j = 0; j < n; j++)
					excluded[idx[j]] = (uint8_t)obs_exclude_hit(hop[j]);
			} else if (k == 1 && scan_tab != NULL) {
				obs_scanner_lookup_bulk(scan_tab, src, hop, n);
				for (j = 0; j < n; j++)
					scanner[idx[j]] = (uint8_t)obs_scanner_hit(hop[j]);
			}
		}
		t1 = rte_rdtsc_precise();
		cyc[k == 0 ? BB_S_EXCL : BB_S_SCAN] += t1 - t0;
	}

	/* RESIP: rte_hash bulk lookup and window check of the burst's sources, in bulks of
	 * OBS_RESIP_BULK (worker.c) */
	t0 = rte_rdtsc_precise();
	for (i = 0; resip_tab != NULL && i < b->chunk; i += BB_BURST) {
		int64_t tt[OBS_BURST_MAX];
		uint64_t rmask[OBS_BURST_MAX];

		for (j = i, n = 0; j < i + BB_BURST; j++)
			if (verdict[j] < 0) {
				src[n] = meta[j].src;
				tt[n++] = (int64_t)(now + (uint64_t)i * BB_PKT_NS_X10 / 10u);
			}
		for (k = 0; k < n; k += OBS_RESIP_BULK)
			obs_resip_classify_burst(resip_tab, src + k, tt + k,
			                         n - k < OBS_RESIP_BULK ? n - k : OBS_RESIP_BULK,
			                         rmask + k);
	}
	t1 = rte_rdtsc_precise();
	cyc[BB_S_RESIP] += t1 - t0;

	/* source record: per burst, bucket prefetch (pass 1) then update (pass 2) */
	t0 = t1;
	for (i = 0; i < b->chunk; i += BB_BURST) {
		uint64_t t = now + (uint64_t)i * BB_PKT_NS_X10 / 10u;

		for (j = i; j < i + BB_BURST; j++)
			if (verdict[j] < 0)
				rte_prefetch0(obs_epoch_bucket(&w->ep, meta[j].src, t));
		for (j = i; j < i + BB_BURST; j++) {
			if (verdict[j] >= 0)
				continue;
			if (scanner[j])
				c->scanner_packets++;
			if (excluded[j])
				c->excluded_packets++;
			/* with the packet's inline event, as the worker passes it */
			ev_inline[j] = (uint8_t)obs_epoch_src(
				&w->ep, meta[j].src, t, sensor[j] < 64 ? 1ull << sensor[j] : 0,
				(scanner[j] ? OBX_SRC_F_SCANNER : 0) |
				(excluded[j] ? OBX_SRC_F_EXCLUDED : 0), 0,
				w->ev_on && !excluded[j] && meta[j].payload_len == 0 ?
				obs_src_ev(obs_ev_class_of(&meta[j]), sensor[j], 0) : 0);
		}
	}
	t1 = rte_rdtsc_precise();
	cyc[BB_S_SRC] += t1 - t0;

	/* coverage (SYN without ACK) and event records, per burst as the worker does them:
	 * the buckets prefetched in pass 1, probed in pass 2 */
	t0 = t1;
	for (i = 0; w->cov_on && i < b->chunk; i += BB_BURST) {
		uint64_t t = now + (uint64_t)i * BB_PKT_NS_X10 / 10u;

		for (j = i; j < i + BB_BURST; j++)
			if (verdict[j] < 0 && meta[j].proto == 6 &&
			    (meta[j].tcp_flags & (OBS_TCP_SYN | OBS_TCP_ACK)) == OBS_TCP_SYN)
				obs_cov_prefetch(&w->cov, &w->ep, meta[j].src, meta[j].dport, t);
		for (j = i; j < i + BB_BURST; j++) {
			const struct obs_pkt_meta *mt = &meta[j];

			if (verdict[j] < 0 && mt->proto == 6 &&
			    (mt->tcp_flags & (OBS_TCP_SYN | OBS_TCP_ACK)) == OBS_TCP_SYN)
				obs_cov_syn(&w->cov, &w->ep, mt->src, mt->dport, t, slot[j],
				            mt->tcp_seq == mt->dst, scanner[j] ? OBX_CELL_F_SCANNER : 0);
		}
	}
	t1 = rte_rdtsc_precise();
	cyc[BB_S_COV] += t1 - t0;

	t0 = t1;
	for (i = 0; w->ev_on && i < b->chunk; i += BB_BURST) {
		uint64_t t = now + (uint64_t)i * BB_PKT_NS_X10 / 10u;

		/* only the events the source record did not take inline (worker.c) */
		for (j = i; j < i + BB_BURST; j++)
			if (verdict[j] < 0 && !excluded[j] && !ev_inline[j])
				obs_event_add(&w->ep, meta[j].src, t, sensor[j],
				              obs_ev_class_of(&meta[j]), 0);
	}
	t1 = rte_rdtsc_precise();
	cyc[BB_S_EVENT] += t1 - t0;

	t0 = t1;
	for (i = 0; i < b->chunk; i += BB_BURST)
		rte_pktmbuf_free_bulk(b->m + i, BB_BURST);
	t1 = rte_rdtsc_precise();
	cyc[BB_S_FREE] += t1 - t0;

	b->n_pkt += b->chunk;
	bb_drain(b);
	return 0;
}

/* ---- payload stage (cycles per PAYLOAD packet) ----------------------------------------
 * The 64-byte mix has no payload (Hyperscan only sees L4 payload), so the payload stage
 * is timed apart, on a small set of payload frames: HTTP GET with SQLi (tcp/80, matches
 * sid 1000101), SIP OPTIONS from friendly-scanner (udp/5060, matches 1000001 and
 * 1000002), 256 random bytes (udp/40000, matches nothing), in turn.  Untimed: the frames
 * copied into mbufs and parsed (pass 1 of the worker).  Timed: obs_rules_scan() with
 * this worker's scratch of the published obs_rules_set and the worker's match callback
 * (a rule_matches count and one event record per matched rule), exactly as
 * obs_worker_events() calls it; the packet-class event of an unmatched payload belongs
 * to the events stage and is not in this figure. */
#define BB_PAY_N 3
static uint8_t bb_pay_frame[BB_PAY_N][1600];
static uint32_t bb_pay_len[BB_PAY_N];
static const char *const bb_pay_name[BB_PAY_N] = { "http_sqli", "sip_options", "random256" };
static uint64_t bb_pay_matches;

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

struct bb_hit_ctx {
	struct obs_worker *w;
	uint32_t src;
	uint64_t t;
	uint8_t sensor;
};

/* worker.c obs_worker_rule_hit(): the worker's callback, as it is */
static void bb_rule_hit(void *arg, uint32_t idx, const struct obs_rule_info *ri)
{
	struct bb_hit_ctx *h = arg;

	(void)idx;
	h->w->ep.c.rule_matches++;
	bb_pay_matches++;
	obs_event_add(&h->w->ep, h->src, h->t, h->sensor, ri->sid, ri->category);
}

/* One chunk of payload packets (kinds in turn, or only `kind` when < BB_PAY_N); returns
 * the TSC cycles of the scans, or UINT64_MAX. */
static uint64_t bb_chunk_payload(struct bb *b, int kind)
{
	static struct obs_pkt_meta meta[4096];
	static uint8_t sensor[4096];
	const struct obs_rules_set *rs = obs_tables_get(OBS_TABLE_RULES);
	struct obs_worker *w = b->w;
	uint64_t t0, t1, now = bb_now(b);
	uint32_t i, slot;

	if (rs == NULL || w->id >= rs->n_workers || rs->scratch[w->id] == NULL)
		return UINT64_MAX;
	if (rte_pktmbuf_alloc_bulk(b->mp, b->m, b->chunk) != 0)
		return UINT64_MAX;
	for (i = 0; i < b->chunk; i++) {
		struct rte_mbuf *m = b->m[i];
		uint32_t k = kind < BB_PAY_N ? (uint32_t)kind : i % BB_PAY_N;

		memcpy(rte_pktmbuf_mtod(m, uint8_t *), bb_pay_frame[k], bb_pay_len[k]);
		m->data_len = (uint16_t)bb_pay_len[k];
		m->pkt_len = bb_pay_len[k];
		if (obs_parse_snap(rte_pktmbuf_mtod(m, const uint8_t *), m->data_len, m->pkt_len,
		                   &meta[i]) >= 0 ||
		    obs_tel_lookup(w->tel, meta[i].dst, &sensor[i], &slot) != 0 ||
		    meta[i].payload_len == 0) {
			fprintf(stderr, "burst_bench: payload frame %s not accepted\n", bb_pay_name[k]);
			rte_pktmbuf_free_bulk(b->m, b->chunk);
			return UINT64_MAX;
		}
	}
	obs_epoch_time(&w->ep, now);
	t0 = rte_rdtsc_precise();
	for (i = 0; i < b->chunk; i++) {
		struct bb_hit_ctx h = { w, meta[i].src, now, sensor[i] };

		w->ep.c.payload_packets++;
		(void)obs_rules_scan(rs->rules, rs->scratch[w->id],
		                     rte_pktmbuf_mtod_offset(b->m[i], const uint8_t *,
		                                             meta[i].payload_off),
		                     meta[i].payload_len, meta[i].proto, meta[i].dport,
		                     bb_rule_hit, &h);
	}
	t1 = rte_rdtsc_precise();
	rte_pktmbuf_free_bulk(b->m, b->chunk);
	bb_drain(b);
	return t1 - t0;
}

static int bb_cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Median of n values (sorts them). */
static double bb_median(uint64_t *v, uint32_t n)
{
	if (n == 0)
		return 0;
	qsort(v, n, sizeof(*v), bb_cmp_u64);
	return n % 2 ? (double)v[n / 2] : ((double)v[n / 2 - 1] + (double)v[n / 2]) / 2.0;
}

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
	struct bm_mix_conf mc;
	struct obs_tel_prefix tp = { .addr = 0xc6120000u, .len = 20, .sensor = 0 };
	struct obx_header proto;
	struct obs_tel *tel;
	const char *why = NULL;
	char prefix[64];
	char *def_eal[] = { argv[0], "--no-huge", "-m", "1024", "--no-pci", "-l", "0",
	                    "--file-prefix", prefix, "--log-level", "lib.eal:error", NULL };
	uint32_t passes = 12, stage_passes = 2, epoch_ms = 1000, cap, k, chunks, n_total;
	uint64_t cyc_total = 0, n_meas = 0, cyc[BB_S_N] = { 0 }, n_stage = 0, hz, t0;
	double ghz, sum = 0, med_total, med_stage[BB_S_N];
	uint64_t *per_chunk;
	int i, eal_at = argc, ret, huge = 0;

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
		else if (strcmp(o, "--burst") == 0)
			bb_burst = (uint32_t)bb_arg(o, argv[++i], 1, OBS_BURST_MAX);
		else if (strcmp(o, "--huge") == 0)
			huge = (int)bb_arg(o, argv[++i], 0, 1);
		else {
			fprintf(stderr, "usage: burst_bench [--sources N] [--packets P] [--passes K] "
			        "[--stage-passes K] [--chunk C] [--epoch-ms E] [--seed S] [--huge 0|1] "
			        "[--burst B] [--scanner-file F] [--exclude-file F] [--resip-file CSV] "
			        "[--rules-file F] [-- EAL]\n");
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
	if (eal_at < argc) {
		argv[eal_at] = argv[0];
		ret = rte_eal_init(argc - eal_at, argv + eal_at);
	} else {
		ret = rte_eal_init((int)(sizeof(def_eal) / sizeof(def_eal[0])) - 1, def_eal);
	}
	if (ret < 0) {
		fprintf(stderr, "burst_bench: EAL init failed: %s\n", rte_strerror(rte_errno));
		return 1;
	}
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
		printf("bb mem.resip_load_bytes %zu\n", resip_table_bytes(rt));
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
		printf("bb rules.accepted %u\n", obs_rules_stats(rr)->n_accepted);
		printf("bb rules.rejected %u\n", obs_rules_stats(rr)->n_rejected);
		bb_pay_init();
	}
	obs_tables_online(0);
	b.h->epoch_ns = (uint64_t)epoch_ms * 1000000u;
	if (posix_memalign((void **)&b.w, RTE_CACHE_LINE_SIZE, sizeof(*b.w)) != 0 ||
	    obs_worker_init(b.w, 0, b.h, b.h->epoch_ns, tel, BB_BURST) != 0)
		return 1;
	b.mp = rte_pktmbuf_pool_create("bb_pool", b.chunk + 1023, 256, 0,
	                               RTE_MBUF_DEFAULT_BUF_SIZE, (int)rte_socket_id());
	b.m = calloc(b.chunk, sizeof(*b.m));
	if (b.mp == NULL || b.m == NULL) {
		fprintf(stderr, "burst_bench: mbuf pool: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	/* start on an epoch boundary: the swaps fall at the same packets in every run */
	b.t0_ns = obs_clock_ns(rte_rdtsc()) / b.h->epoch_ns * b.h->epoch_ns;
	hz = rte_get_tsc_hz();
	ghz = (double)hz / 1e9;

	/* warm-up: one pass, every source in the table */
	chunks = (b.pool.n + b.chunk - 1) / b.chunk;
	for (k = 0; k < chunks; k++)
		if (bb_chunk_total(&b) == UINT64_MAX)
			return 1;
	t0 = rte_rdtsc();
	n_total = passes * chunks;
	per_chunk = calloc((size_t)(n_total > stage_passes * chunks ? n_total :
	                            stage_passes * chunks) * (BB_S_N + 1), sizeof(uint64_t));
	if (per_chunk == NULL)
		return 1;
	for (k = 0; k < n_total; k++) {
		uint64_t c = bb_chunk_total(&b);

		if (c == UINT64_MAX)
			return 1;
		cyc_total += c;
		per_chunk[k] = c;
		n_meas += b.chunk;
	}
	/* this machine is shared: the median chunk is what the code costs, the mean also
	 * carries every preemption and interrupt that landed in the run */
	med_total = bb_median(per_chunk, n_total) / (double)b.chunk;
	for (k = 0; k < stage_passes * chunks; k++) {
		uint64_t c1[BB_S_N] = { 0 };
		uint32_t st;

		if (bb_chunk_stages(&b, c1) != 0)
			return 1;
		for (st = 0; st < BB_S_N; st++) {
			cyc[st] += c1[st];
			per_chunk[(size_t)st * stage_passes * chunks + k] = c1[st];
		}
		n_stage += b.chunk;
	}
	for (k = 0; k < BB_S_N; k++)
		med_stage[k] = bb_median(per_chunk + (size_t)k * stage_passes * chunks,
		                         stage_passes * chunks) / (double)b.chunk;

	printf("bb tsc_ghz %.3f\n", ghz);
	printf("bb sources %u\n", mc.n_sources);
	printf("bb frames %u\n", b.pool.n);
	printf("bb packets %llu\n", (unsigned long long)n_meas);
	printf("bb wall_s %.2f\n", (double)(rte_rdtsc() - t0) / (double)hz);
	printf("bb src_capacity %u\n", cap);
	printf("bb n_src_filling %u\n", *obs_epoch_n_used(&b.w->ep, OBX_TAB_SRC));
	printf("bb epochs_drained %llu\n", (unsigned long long)b.drained);
	printf("bb lost_updates %llu\n", (unsigned long long)b.w->ep.c.lost_updates);
	printf("bb total %.1f\n", med_total);
	printf("bb total_mean %.1f\n", (double)cyc_total / (double)n_meas);
	printf("bb total_mpps %.2f\n", (double)hz / med_total / 1e6);
	for (k = 0; k < BB_S_N; k++) {
		double v = med_stage[k];

		if ((k == BB_S_EXCL && excl_file == NULL) || (k == BB_S_SCAN && scan_file == NULL) ||
		    (k == BB_S_RESIP && resip_file == NULL) ||
		    (k == BB_S_COV && !b.w->cov_on) || (k == BB_S_EVENT && !b.w->ev_on)) {
			printf("bb stage.%s n/a\n", bb_stage_name[k]);
			continue;
		}
		printf("bb stage.%s %.1f\n", bb_stage_name[k], v);
		sum += v;
	}
	printf("bb stage_sum %.1f\n", sum);
	/* payload: the 64-byte mix has none (Hyperscan only sees L4 payload), so it is not
	 * in the sum; timed apart per payload packet (bb_chunk_payload) */
	printf("bb payload_in_mix %llu\n", (unsigned long long)bb_payload_in_mix);
	if (rules_file == NULL) {
		printf("bb stage.payload n/a\n");
	} else {
		uint32_t nc = 32 * stage_passes, kk;
		uint64_t *pc = calloc(nc, sizeof(*pc));
		int kind;

		if (pc == NULL)
			return 1;
		for (kind = BB_PAY_N; kind >= 0; kind--) {     /* the mix last: it is the row */
			bb_pay_matches = 0;
			for (kk = 0; kk < 4; kk++)                 /* warm-up */
				if (bb_chunk_payload(&b, kind) == UINT64_MAX)
					return 1;
			bb_pay_matches = 0;
			for (kk = 0; kk < nc; kk++)
				if ((pc[kk] = bb_chunk_payload(&b, kind)) == UINT64_MAX)
					return 1;
			if (kind == BB_PAY_N) {
				printf("bb stage.payload %.1f\n", bb_median(pc, nc) / (double)b.chunk);
				printf("bb payload.matches_per_pkt %.2f\n",
				       (double)bb_pay_matches / ((double)nc * b.chunk));
				printf("bb payload.packets %llu\n", (unsigned long long)nc * b.chunk);
			} else {
				printf("bb payload.%s %.1f\n", bb_pay_name[kind],
				       bb_median(pc, nc) / (double)b.chunk);
				printf("bb payload.%s.frame_bytes %u\n", bb_pay_name[kind],
				       bb_pay_len[kind]);
				printf("bb payload.%s.matches_per_pkt %.2f\n", bb_pay_name[kind],
				       (double)bb_pay_matches / ((double)nc * b.chunk));
			}
		}
		free(pc);
	}
	printf("bb minimal %.1f\n", med_stage[BB_S_PARSE] + med_stage[BB_S_TEL] +
	       med_stage[BB_S_TIME] + med_stage[BB_S_FREE]);
	printf("bb mem.src_rec_bytes %zu\n", sizeof(struct obx_src_rec));
	printf("bb mem.cp_src_bytes %zu\n", sizeof(struct cp_src));
	/* exchange: two slots a worker, filled to at most OBX_SRC_MAX_LOAD before a swap;
	 * per million sources at the load a power-of-two capacity actually gives */
	printf("bb mem.xchg_bytes_per_src %.1f\n",
	       (double)OBX_SLOTS * sizeof(struct obx_src_rec) * cap / mc.n_sources);
	printf("bb mem.xchg_bytes_per_src_at_max_load %.1f\n",
	       (double)OBX_SLOTS * sizeof(struct obx_src_rec) * 1000.0 / OBX_SRC_MAX_LOAD);
	fflush(stdout);
	rte_mempool_free(b.mp);
	obs_tel_free(tel);
	munmap(b.h, xchg_size);
	bm_pool_free(&b.pool);
	rte_eal_cleanup();
	return 0;
}
