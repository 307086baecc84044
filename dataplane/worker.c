/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * worker.c — the worker lcore's poll loop and burst function (worker.h).
 *
 * Each worker runs obs_worker_poll_main() (live ports) or obs_worker_replay_main()
 * (mbufs from the replay reader's ring) on its own lcore and touches only its own
 * struct obs_worker.  The burst is two passes, l3fwd style: pass 1 parses every frame
 * (prefetching frames ahead) and prefetches the source-table bucket each accepted
 * packet will touch; pass 2 applies time, counters and records in order, so the
 * bucket loads overlap instead of serialising.
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>
#include <rte_prefetch.h>
#include <rte_ring.h>

#include "capture.h"
#include "events.h"
#include "exclude.h"
#include "log.h"
#include "parse.h"
#include "replay.h"
#include "resip_port.h"
#include "dos.h"
#include "resip_table.h"
#include "rules.h"
#include "scanner_table.h"
#include "tables.h"
#include "fp_probe.h"
#include "fpsig_dp.h"
#include "telescope.h"
#include "worker.h"

#define OBS_PREFETCH_AHEAD 4u
/* 2000-01-01: a NIC timestamp below this is a free-running clock, not UTC */
#define OBS_TS_SANE_NS 946684800000000000ull

struct obs_clock obs_clock;
volatile sig_atomic_t obs_stop;
atomic_int obs_replay_eof;
#ifdef OBS_STAGE_TIMING
unsigned obs_stage_upto = OBS_STAGE_N;    /* worker.h: the benchmark's build only */
#endif

static int obs_ts_off = -1;
static uint64_t obs_ts_flag;
static int obs_wirelen_off = -1;

static const struct rte_mbuf_dynfield obs_wirelen_desc = {
	.name = "obscura_dynfield_wire_len",
	.size = sizeof(uint32_t),
	.align = __alignof__(uint32_t),
};

void obs_clock_init(void)
{
	struct timespec ts;

	obs_clock.hz = rte_get_tsc_hz();
	clock_gettime(CLOCK_REALTIME, &ts);
	obs_clock.tsc0 = rte_rdtsc();
	obs_clock.wall0_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	obs_clock.mult = (uint64_t)(((unsigned __int128)1000000000ull << 32) / obs_clock.hz);
}

int obs_worker_dyn_init(void)
{
	int ret = rte_mbuf_dyn_rx_timestamp_register(&obs_ts_off, &obs_ts_flag);

	if (ret != 0) {
		OBS_ERR("cannot register the mbuf timestamp field: %s", rte_strerror(rte_errno));
		return -rte_errno;
	}
	obs_wirelen_off = rte_mbuf_dynfield_register(&obs_wirelen_desc);
	if (obs_wirelen_off < 0) {
		OBS_ERR("cannot register the wire length field: %s", rte_strerror(rte_errno));
		return -rte_errno;
	}
	return 0;
}

void obs_mbuf_set_replay_meta(struct rte_mbuf *m, uint64_t t_ns, uint32_t wire_len)
{
	*RTE_MBUF_DYNFIELD(m, obs_ts_off, rte_mbuf_timestamp_t *) = t_ns;
	m->ol_flags |= obs_ts_flag;
	*RTE_MBUF_DYNFIELD(m, obs_wirelen_off, uint32_t *) = wire_len;
}

int obs_worker_init(struct obs_worker *w, uint32_t id, struct obx_header *h, uint64_t epoch_ns,
                    const struct obs_tel *tel, uint32_t burst)
{
	int ret;

	memset(w, 0, sizeof(*w));
	w->id = id;
	w->tel = tel;
	w->burst = burst == 0 || burst > OBS_BURST_MAX ? OBS_BURST_MAX : burst;
	w->live = obx_worker_live(h, id);
	w->cov_on = h->cov_sample_size != 0 && h->tab_capacity[OBX_TAB_CELL] != 0;
	w->ev_on = h->tab_capacity[OBX_TAB_EVENT] != 0;
	w->dos_on = h->tab_capacity[OBX_TAB_DOS] != 0;
	w->fpsig_on = h->tab_capacity[OBX_TAB_FPSIG] != 0;
	obs_cov_init(&w->cov, h->cov_block_len, h->cov_period_unit);
	ret = obs_epoch_init(&w->ep, h, id, epoch_ns);
	if (ret != 0)
		OBS_ERR("worker %u: cannot take an epoch slot: %s", id, strerror(-ret));
	return ret;
}

/* Packet time of one mbuf. */
static inline uint64_t obs_pkt_time(const struct rte_mbuf *m, uint64_t now_ns,
                                    enum obs_ts_mode mode)
{
	uint64_t ts;

	if (mode == OBS_TS_CLOCK || !(m->ol_flags & obs_ts_flag))
		return now_ns;
	ts = *RTE_MBUF_DYNFIELD(m, obs_ts_off, const rte_mbuf_timestamp_t *);
	switch (mode) {
	case OBS_TS_US_UTC:
		return ts * 1000u;
	case OBS_TS_NS_UTC:
		return ts;
	default:
		return ts >= OBS_TS_SANE_NS ? ts : now_ns;
	}
}

/* What pass 1 learned about a frame. */
struct obs_verdict {
	uint64_t t;
	uint32_t src;
	uint32_t wire;
	int8_t drop;        /* enum obx_drop, or -1: accepted */
	uint8_t sensor;
	uint8_t proto_idx;
	uint8_t cov;        /* SPEC A input: TCP SYN without ACK (to D) */
	uint8_t mirai;      /* seq == dst */
	uint8_t tool;       /* fingerprint label of a SYN (fingerprint.h), 0 = none */
	uint8_t scanner;    /* source in the scanner table */
	uint16_t dport;
	uint32_t slot;      /* coverage-sample slot or OBS_TEL_NO_SLOT */
	uint8_t excluded;   /* source in an exclusion list (SPEC C) */
	uint8_t proto;      /* IP protocol (rules' protocol constraint) */
	uint16_t pay_off;   /* L4 payload in the first segment (parse.h) */
	uint16_t pay_len;
	uint32_t ev_type;   /* packet-class event type (events.h) */
	uint8_t frag;       /* enum obs_frag (parse.h) */
	uint8_t bs;         /* DoS backscatter (exchange_recs.h obx_is_backscatter) */
	uint16_t sport;     /* the victim's port of a backscatter packet (TCP), else 0 */
	uint32_t dst;
	uint8_t resp;       /* responder (issue 13): TCP to an address of H */
	uint8_t sig;        /* fingerprint signatures: an unlabelled SYN, key in sig_key[] */
};

/* (6) one rule match: an event of the rule's sid and category (events.h) */
struct obs_rule_hit_ctx {
	struct obs_worker *w;
	const struct obs_verdict *vi;
	uint32_t first_sid;     /* the first rule that matched (the responder's record) */
};

static void obs_worker_rule_hit(void *arg, uint32_t idx, const struct obs_rule_info *ri)
{
	struct obs_rule_hit_ctx *h = arg;

	(void)idx;
	if (h->first_sid == 0)
		h->first_sid = ri->sid;
	h->w->ep.c.rule_matches++;
	obs_event_add(&h->w->ep, h->vi->src, h->vi->t, h->vi->sensor, ri->sid, ri->category);
}

/* (6) event types: payload packets through Hyperscan with this worker's scratch (one
 * event per matched rule), everything else (and unmatched payloads) one packet-class
 * event.  Excluded sources never get here.  Returns the first matched rule's sid, 0 for
 * none. */
static inline uint32_t obs_worker_events(struct obs_worker *w, const struct obs_rules_set *rs,
                                         struct rte_mbuf *m, const struct obs_verdict *vi)
{
	if (vi->pay_len > 0) {
		w->ep.c.payload_packets++;
		if (rs != NULL && w->id < rs->n_workers && rs->scratch[w->id] != NULL &&
		    OBS_STAGE_ON(PAYLOAD)) {
			struct obs_rule_hit_ctx h = { w, vi, 0 };
			int k = obs_rules_scan(rs->rules, rs->scratch[w->id],
			                       rte_pktmbuf_mtod_offset(m, const uint8_t *, vi->pay_off),
			                       vi->pay_len, vi->proto, vi->dport, obs_worker_rule_hit, &h);

			if (k > 0 || k == -ENOSPC)
				return h.first_sid;
		}
	}
	obs_event_add(&w->ep, vi->src, vi->t, vi->sensor, vi->ev_type, 0);
	return 0;
}

static void obs_rule_sid_only(void *arg, uint32_t idx, const struct obs_rule_info *ri)
{
	uint32_t *sid = arg;

	(void)idx;
	if (*sid == 0)
		*sid = ri->sid;
}

/* (8) the responder's payload without an event stage (no EVENT table): the rules only
 * name the record's first matching sid. */
static uint32_t __rte_noinline obs_worker_resp_sid(const struct obs_worker *w,
                                                   const struct obs_rules_set *rs,
                                                   struct rte_mbuf *m, const struct obs_verdict *vi)
{
	uint32_t sid = 0;

	if (rs != NULL && w->id < rs->n_workers && rs->scratch[w->id] != NULL)
		obs_rules_scan(rs->rules, rs->scratch[w->id],
		               rte_pktmbuf_mtod_offset(m, const uint8_t *, vi->pay_off), vi->pay_len,
		               vi->proto, vi->dport, obs_rule_sid_only, &sid);
	return sid;
}

#ifndef OBS_NO_CAPTURE_CHECK
/* A capture runs (capture.h): the burst's frames, with --sensor only that sensor's
 * accepted packets.  Out of line: the burst without a capture pays the pointer's load
 * and one predictable branch (bench/results.md "Capture off": against a build without
 * them, +0.28 % instructions in the release build, from register allocation around the
 * call; the time within noise). */
static void __rte_noinline obs_worker_capture(struct obs_capture *cap, struct obs_worker *w,
                                              struct rte_mbuf **pkts, uint16_t n,
                                              const struct obs_verdict *v)
{
	uint64_t t[OBS_BURST_MAX];
	uint32_t wire[OBS_BURST_MAX];
	uint8_t take[OBS_BURST_MAX];

	for (uint16_t i = 0; i < n; i++) {
		t[i] = v[i].t;
		wire[i] = v[i].wire;
		take[i] = cap->sensor < 0 || (v[i].drop < 0 && v[i].sensor == cap->sensor);
	}
	obs_capture_burst(cap, w->id, pkts, n, t, wire, take);
}
#endif

static void obs_worker_burst_chunk(struct obs_worker *w, struct rte_mbuf **pkts, uint16_t n,
                                   uint64_t now_ns, enum obs_ts_mode ts_mode, uint32_t flags)
{
	struct obs_verdict v[OBS_BURST_MAX];
	struct obx_counters *c = &w->ep.c;
	struct obs_pkt_meta meta;
	/* one scanner table for the whole burst (tables.h: read once, quiescent after) */
	const struct obs_scanner_tab *scan_tab = obs_tables_get(OBS_TABLE_SCANNER);
	const struct obs_exclude_tab *excl_tab = obs_tables_get(OBS_TABLE_EXCLUDE);
	const struct obs_rules_set *rules = obs_tables_get(OBS_TABLE_RULES);
	const struct obs_resip_tab *resip_tab = obs_tables_get(OBS_TABLE_RESIP);
#ifndef OBS_NO_CAPTURE_CHECK
	struct obs_capture *cap = obs_tables_get(OBS_TABLE_CAPTURE);
	const bool resp_own = cap == NULL;      /* (8) a SYN-ACK may take its SYN's mbuf */
#else
	const bool resp_own = true;
#endif
	const struct obs_fp_set *fp_tab = obs_tables_get(OBS_TABLE_FP);
	uint64_t resip_mask[OBS_BURST_MAX];     /* (2) SPEC B1, per look_idx entry */
	uint8_t is_resip[OBS_BURST_MAX];        /* per packet */
	uint8_t src_wk[OBS_BURST_MAX];          /* per packet: the record's cache (epoch.h) */
	int64_t resip_t[OBS_BURST_MAX];
	uint32_t look_src[OBS_BURST_MAX];
	uint16_t look_idx[OBS_BURST_MAX];
	uint32_t scan_src[OBS_BURST_MAX], scan_hop[OBS_BURST_MAX];
	uint16_t scan_idx[OBS_BURST_MAX], n_scan = 0;
	struct obx_fpsig_key sig_key[OBS_BURST_MAX];   /* per packet with v[i].sig */
	uint32_t sig_hash[OBS_BURST_MAX];
	uint16_t i;

	if (unlikely(w->resp_on))
		obs_resp_begin(&w->resp, w->resp.txq, rte_rdtsc());
	for (i = 0; i < n && i < OBS_PREFETCH_AHEAD; i++)
		rte_prefetch0(rte_pktmbuf_mtod(pkts[i], void *));

	/* pass 1: parse, map, prefetch the record bucket */
	for (i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		struct obs_verdict *vi = &v[i];
		uint32_t slot;
		int r;

		if (i + OBS_PREFETCH_AHEAD < n)
			rte_prefetch0(rte_pktmbuf_mtod(pkts[i + OBS_PREFETCH_AHEAD], void *));
		vi->t = obs_pkt_time(m, now_ns, ts_mode);
		vi->wire = (flags & OBS_BURST_F_WIRELEN) ?
			*RTE_MBUF_DYNFIELD(m, obs_wirelen_off, const uint32_t *) : m->pkt_len;
		if (!OBS_STAGE_ON(PARSE))
			continue;
		/* the first segment holds every header we read (RTE_MBUF_DEFAULT_BUF_SIZE);
		 * lengths are checked against the wire length (short snaplen captures) */
		r = obs_parse_snap(rte_pktmbuf_mtod(m, const uint8_t *), m->data_len, vi->wire,
		                   &meta);
		if (r >= 0) {
			vi->drop = (int8_t)(r < (int)OBX_DROP_N ? r : OBX_DROP_NOT_IPV4);
			if (unlikely(w->resp_on) && vi->drop == OBX_DROP_NOT_IPV4)
				obs_resp_arp(&w->resp, &w->ep.c, m);    /* (8) ARP for H */
			continue;
		}
		if (!OBS_STAGE_ON(TEL))
			continue;
		if (obs_tel_lookup(w->tel, meta.dst, &vi->sensor, &slot) != 0) {
			vi->drop = OBX_DROP_NOT_TELESCOPE;
			continue;
		}
		vi->drop = -1;
		vi->src = meta.src;
		vi->proto_idx = meta.proto_idx < OBX_P_N ? meta.proto_idx : OBX_P_OTHER;
		vi->cov = meta.proto == 6 &&
		          (meta.tcp_flags & (OBS_TCP_SYN | OBS_TCP_ACK)) == OBS_TCP_SYN;
		vi->mirai = meta.tcp_seq == meta.dst;
		vi->tool = 0;
		vi->sig = 0;
		if (vi->cov && (fp_tab != NULL || w->fpsig_on) && OBS_STAGE_ON(FP)) {
			struct obs_fp_probe p;

			obs_fp_probe_of(rte_pktmbuf_mtod(m, const uint8_t *), m->data_len, &meta, &p);
			if (fp_tab != NULL)
				vi->tool = obs_fp_match(fp_tab, &p);
			if (vi->tool == 0 && w->fpsig_on) {   /* the rest: its signature */
				obs_fpsig_key_of(&p, &sig_key[i]);
				sig_hash[i] = obx_fpsig_hash(&sig_key[i]);
				vi->sig = 1;
			}
		}
		vi->dport = meta.dport;
		vi->slot = slot;
		vi->scanner = 0;
		vi->excluded = 0;
		vi->proto = meta.proto;
		vi->pay_off = meta.payload_off;
		vi->pay_len = meta.payload_len;
		vi->ev_type = obs_ev_class_of(&meta);
		vi->frag = meta.frag;
		vi->bs = (uint8_t)obx_is_backscatter(meta.proto, meta.tcp_flags, meta.icmp_type,
		                                     meta.frag == OBS_FRAG_LATER);
		vi->sport = meta.proto == 6 ? meta.sport : 0;
		vi->dst = meta.dst;
		vi->resp = unlikely(w->resp_on) && meta.proto == 6 &&
		           obs_resp_in_h(w->resp.cfg, meta.dst);
		scan_src[n_scan] = meta.src;
		scan_idx[n_scan++] = i;
		if (resip_tab != NULL && OBS_STAGE_ON(RESIP))   /* (2): its member filter word */
			obs_resip_filt_prefetch(resip_tab, meta.src);
		if (!OBS_STAGE_ON(SRC))
			continue;
		rte_prefetch0(obs_epoch_bucket(&w->ep, meta.src, vi->t));
		/* and the coverage cell pass 2 will probe: a random record of a table of
		 * ~100 MB, a DRAM miss when probed cold.  No event bucket: most packets'
		 * events ride inline in the source record (exchange.h), and prefetching a
		 * line per packet that is rarely read costs memory bandwidth */
		if (vi->cov && w->cov_on && OBS_STAGE_ON(COV))
			obs_cov_prefetch(&w->cov, &w->ep, meta.src, meta.dport, vi->t);
	}
	if (scan_tab != NULL && n_scan > 0 && OBS_STAGE_ON(SCAN)) {
		obs_scanner_lookup_bulk(scan_tab, scan_src, scan_hop, n_scan);
		for (i = 0; i < n_scan; i++)
			v[scan_idx[i]].scanner = obs_scanner_hit(scan_hop[i]);
	}
	if (excl_tab != NULL && n_scan > 0 && OBS_STAGE_ON(EXCL)) {   /* (1) exclude.h, same sources */
		obs_exclude_lookup_bulk(excl_tab, scan_src, scan_hop, n_scan);
		for (i = 0; i < n_scan; i++)
			v[scan_idx[i]].excluded = obs_exclude_hit(scan_hop[i]);
	}
	if (resip_tab != NULL && OBS_STAGE_ON(RESIP)) {   /* (2) resip_table.h, bulk */
		/* A source already recorded in this epoch whose record says "not in this
		 * table" (epoch.h OBS_SRC_WK_NOT_RESIP: its bucket line is the one pass 1
		 * prefetched, and pass 2 reads it anyway) needs no lookup: only the epoch's
		 * first packet of a source, and members, pay the RESIP lookup; of those, the
		 * member filter (prefetched in pass 1) sends only members and 2-4 % of the
		 * others on to the bucket line. */
		const uint8_t nm = obs_src_wk_not_resip(resip_tab->generation);
		uint16_t n_look = 0;

		memset(is_resip, 0, n);
		memset(src_wk, 0, n);
		for (i = 0; i < n_scan; i++) {
			const struct obs_verdict *vi = &v[scan_idx[i]];

			if (OBS_STAGE_ON(SRC) && obs_epoch_src_wk(&w->ep, vi->src, vi->t) == nm)
				continue;
			/* the filter's "no" is exact (resip_table.h): not a member, no bucket */
			if (!obs_resip_maybe(resip_tab, vi->src)) {
				src_wk[scan_idx[i]] = nm;
				continue;
			}
			obs_resip_prefetch(resip_tab, vi->src);
			look_src[n_look] = vi->src;
			resip_t[n_look] = (int64_t)vi->t;
			look_idx[n_look++] = scan_idx[i];
		}
		for (uint16_t k = 0; k < n_look; k += OBS_RESIP_BULK) {
			unsigned m = n_look - k < OBS_RESIP_BULK ? n_look - k : OBS_RESIP_BULK;
			uint64_t members;

			obs_resip_classify_members(resip_tab, look_src + k, resip_t + k, m,
			                           resip_mask + k, &members);
			for (unsigned j = 0; j < m; j++) {
				is_resip[look_idx[k + j]] = resip_mask[k + j] != 0;
				src_wk[look_idx[k + j]] = (members >> j & 1) ? 0 : nm;
			}
		}
	}

	/* pass 2: in packet order, so epoch boundaries fall between the right packets.  No
	 * forced swap inside a packet (epoch.h): the burst holds them off, and one a table
	 * asked for is made at the top of the next packet, before anything of it is
	 * counted, so its counters, source record, cell and events share one slot */
	w->ep.hold = true;
	for (i = 0; i < n; i++) {
		const struct obs_verdict *vi = &v[i];

		if (!OBS_STAGE_ON(TIME))
			break;
		obs_epoch_time(&w->ep, vi->t);
		if (unlikely(w->ep.swap_due))
			obs_epoch_swap_due(&w->ep);
		c->rx_packets++;
		c->rx_bytes += vi->wire;
		if (vi->drop >= 0) {
			c->drops[vi->drop]++;
			continue;
		}
		c->tel_packets++;
		c->tel_bytes += vi->wire;
		c->proto_packets[vi->proto_idx]++;
		if (vi->frag != OBS_FRAG_NONE)
			c->reserved[OBX_CTR_FRAGMENTS]++;
		if (!OBS_STAGE_ON(SRC))
			continue;
		/*
		 * Analysis stages, in this order (docs/exchange.md; each stage owns its
		 * counters in *c and its table kind; every insert follows the pointer rule of
		 * epoch.h: obs_epoch_need() before a new record, re-probe after a swap):
		 *   (1) exclusion check — an excluded source counts excluded_packets and gets
		 *       OBX_SRC_F_EXCLUDED (SPEC C: removed before analysis, counted apart);
		 *   (2) scanner / RESIP lookups — OBX_SRC_F_SCANNER / OBX_SRC_F_RESIP and the
		 *       per-packet resip bit (SPEC B1), scanner_packets / resip_packets;
		 *   (3) source record — obs_epoch_src() below, with those flags;
		 *   (4) coverage cell — SYN without ACK: OBX_TAB_CELL + OBX_TAB_BITMAP
		 *       (SPEC A), cov_syns;
		 *   (5) RESIP port counters — OBX_TAB_RESIP_PORT (SPEC B2);
		 *   (6) event types / payload rules — OBX_TAB_EVENT, payload_packets,
		 *       rule_matches (SPEC C);
		 *   (7) DoS backscatter — OBX_TAB_DOS, reserved[OBX_CTR_BACKSCATTER]
		 *       (docs/dos.md);
		 *   (8) the responder (issue 13, responder.h): a SYN-ACK for a clean SYN to H,
		 *       a RESP record and an RST for an ACK whose cookie validates; ARP
		 *       requests for H are answered in pass 1 (the parser refuses them);
		 *   (9) fingerprint signatures — a SYN no rule labels: OBX_TAB_FPSIG
		 *       (fpsig_dp.h, docs/fingerprints.md "Signatures").
		 * Stages needing pass-1 work (a lookup to prefetch, a payload to scan) put
		 * their results in struct obs_verdict.
		 */
		if (vi->scanner)
			c->scanner_packets++;
		if (vi->tool != 0)                                   /* fingerprint.h */
			c->reserved[OBX_CNT_FP_SYNS]++;
		if (vi->excluded)
			c->excluded_packets++;
		const uint32_t resip = resip_tab != NULL && is_resip[i];
		if (resip)
			c->resip_packets++;
		/* (6) a packet-class event (no payload, not excluded) can ride inline in the
		 * source record: then the event stage has nothing to do for it */
		const uint64_t ev = w->ev_on && !vi->excluded && vi->pay_len == 0 ?
		                    obs_src_ev(vi->ev_type, vi->sensor, 0) : 0;
		const int ev_inline = obs_epoch_src_fp(&w->ep, vi->src, vi->t,
		                                       vi->sensor < 64 ? 1ull << vi->sensor : 0,
		                                       (vi->scanner ? OBX_SRC_F_SCANNER : 0) |
		                                       (vi->excluded ? OBX_SRC_F_EXCLUDED : 0) |
		                                       (resip ? OBX_SRC_F_RESIP : 0) |
		                                       (vi->frag ? OBX_SRC_F_FRAGMENT : 0), resip, ev,
		                                       resip_tab != NULL ? src_wk[i] : 0, vi->tool);
		if (vi->cov && w->cov_on && OBS_STAGE_ON(COV))       /* (4) coverage.h */
			obs_cov_syn(&w->cov, &w->ep, vi->src, vi->dport, vi->t, vi->slot, vi->mirai,
			            vi->scanner ? OBX_CELL_F_SCANNER : 0);
		if (resip && OBS_STAGE_ON(RESIP_PORT))               /* (5) resip_port.h */
			obs_resip_port_add(&w->ep, vi->proto_idx, vi->dport, vi->t,
			                   vi->sensor < 64 ? 1ull << vi->sensor : 0);
		uint32_t sid = 0;
		if (!vi->excluded && w->ev_on && !ev_inline && OBS_STAGE_ON(EVENTS))   /* (6) */
			sid = obs_worker_events(w, rules, pkts[i], vi);
		/* (7) DoS backscatter (dos.h, docs/dos.md): timed with the events stage */
		if (vi->bs && !vi->excluded && OBS_STAGE_ON(EVENTS)) {
			c->reserved[OBX_CTR_BACKSCATTER]++;
			if (w->dos_on)
				obs_dos_add(&w->ep, vi->src, vi->dst, vi->t, vi->proto_idx, vi->sport);
		}
		/* (9) fingerprint signatures (fpsig_dp.h): timed with the fingerprint stage */
		if (vi->sig && !vi->excluded)
			obs_fpsig_add(&w->ep, &sig_key[i], sig_hash[i], vi->src);
		if (unlikely(vi->resp) && !vi->excluded) {          /* (8) responder.h */
			if (vi->pay_len > 0 && !w->ev_on && w->resp.cfg->payload_bytes > 0)
				sid = obs_worker_resp_sid(w, rules, pkts[i], vi);
			obs_resp_tcp(&w->resp, &w->ep, &pkts[i], resp_own, vi->t, vi->sensor,
			             vi->pay_off, vi->pay_len, sid);
		}
	}
	w->ep.hold = false;
	if (unlikely(w->resp.n_tx > 0))
		obs_resp_flush(&w->resp, c);
#ifndef OBS_NO_CAPTURE_CHECK
	if (unlikely(cap != NULL))
		obs_worker_capture(cap, w, pkts, n, v);
#endif
	if (OBS_STAGE_ON(FREE))
		rte_pktmbuf_free_bulk(pkts, n);
}

void obs_worker_burst(struct obs_worker *w, struct rte_mbuf **pkts, uint16_t n,
                      uint64_t now_ns, enum obs_ts_mode ts_mode, uint32_t flags)
{
	while (n > 0) {
		uint16_t k = n > OBS_BURST_MAX ? OBS_BURST_MAX : n;

		obs_worker_burst_chunk(w, pkts, k, now_ns, ts_mode, flags);
		pkts += k;
		n -= k;
	}
}

static inline void obs_worker_heartbeat(struct obs_worker *w, uint64_t tsc)
{
	if (tsc < w->hb_next_tsc)
		return;
	w->hb_next_tsc = tsc + obs_clock.hz / 1000u;
	atomic_store_explicit(&w->live->heartbeat_ns, obs_clock_ns(tsc), memory_order_relaxed);
	w->live->last_pkt_ns = w->ep.last_ns;
}

static void obs_worker_idle(const struct obs_worker *w)
{
	if (w->idle_sleep_us)
		rte_delay_us_sleep(w->idle_sleep_us);
	else
		rte_pause();
}

/* Out of the loop: no table pointer held any more, the last epoch published (FINAL), and
 * a last heartbeat so the control plane sees the final packet time. */
static void obs_worker_done(struct obs_worker *w, const char *how)
{
	obs_tables_offline(w->id);
	obs_epoch_finish(&w->ep);
	w->hb_next_tsc = 0;
	obs_worker_heartbeat(w, rte_rdtsc());
	OBS_INFO("worker %u: %s, last epoch %llu published", w->id, how,
	         (unsigned long long)w->ep.seq);
}

int obs_worker_poll_main(void *arg)
{
	struct obs_worker *w = arg;
	struct rte_mbuf *pkts[OBS_BURST_MAX];
	uint32_t q;

	OBS_INFO("worker %u: polling %u queue(s) on lcore %u", w->id, w->n_rxq, rte_lcore_id());
	obs_tables_online(w->id);
	while (!obs_stop) {
		uint64_t tsc = rte_rdtsc();
		uint64_t now = obs_clock_ns(tsc);
		uint32_t got = 0;

		for (q = 0; q < w->n_rxq; q++) {
			const struct obs_rxq *rq = &w->rxq[q];
			uint16_t n = rte_eth_rx_burst(rq->port_id, rq->queue, pkts,
			                              (uint16_t)w->burst);

			if (n == 0)
				continue;
			w->resp.txq = &rq->tx;
			obs_worker_burst(w, pkts, n, now, rq->ts_mode, 0);
			got += n;
		}
		if (got == 0) {
			/* an idle link still closes its epochs, by the clock */
			obs_epoch_tick(&w->ep, now);
			obs_worker_idle(w);
		}
		obs_worker_heartbeat(w, tsc);
		obs_tables_quiescent(w->id);    /* no table pointer held past here */
	}
	obs_worker_done(w, "stopped");
	return 0;
}

int obs_worker_replay_main(void *arg)
{
	struct obs_worker *w = arg;
	struct rte_mbuf *pkts[OBS_BURST_MAX];

	obs_tables_online(w->id);
	for (;;) {
		unsigned n = obs_replay_take(w->id, pkts, w->burst);

		if (n > 0) {
			uint64_t tsc = rte_rdtsc();

			obs_worker_burst(w, pkts, (uint16_t)n, obs_clock_ns(tsc), OBS_TS_NS_UTC,
			                 OBS_BURST_F_WIRELEN);
			obs_worker_heartbeat(w, tsc);
		} else if (obs_replay_idle(w->id)) {
			break;          /* the reader is done and the ring is empty */
		} else {
			obs_worker_heartbeat(w, rte_rdtsc());
		}
		obs_tables_quiescent(w->id);    /* no table pointer held past here */
	}
	OBS_INFO("worker %u: slept %llu times waiting for the reader; waited %llu times "
	         "(%.3f s) for the control plane to free a slot", w->id,
	         (unsigned long long)obs_replay_worker_sleeps(w->id),
	         (unsigned long long)w->ep.full_waits, (double)w->ep.full_wait_ns_total / 1e9);
	obs_worker_done(w, "replay done");
	return 0;
}
