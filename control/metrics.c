/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * metrics.c — the Prometheus exposition of the control plane (metrics.h): the builder,
 * the families and the exchange fill consumer.  Main loop only; the HTTP side is
 * metrics_http.c.
 *
 * Every counter family is built from the numbers a ctl command shows, so a scrape and
 * `obscuractl stats` agree exactly on a quiet appliance: the per-worker counters and
 * ports of `stats` (store.h), the drain and dataplane figures of `status`, the reload
 * states of `tables status`, the rules in use of `rules status`.  Names follow the
 * Prometheus conventions: obscura_ prefix, base units (seconds, bytes), _total on
 * counters.  docs/ctl-v1.md and README (Metrics) list them.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "analysis.h"
#include "cmd_tables.h"
#include "cp.h"
#include "exchange_recs.h"
#include "metrics.h"
#include "toolstore.h"

/* ------------------------------------------------------------------ builder */

static void cp_mx_puts(struct cp_mx *x, const char *s)
{
	cp_buf_put(&x->b, s, strlen(s));
}

/* A label value or HELP text, escaped as the text format wants (HELP: backslash and
 * newline; label values also the double quote). */
static void cp_mx_escaped(struct cp_mx *x, const char *s, bool quote)
{
	for (; *s; s++) {
		if (*s == '\\')
			cp_mx_puts(x, "\\\\");
		else if (*s == '\n')
			cp_mx_puts(x, "\\n");
		else if (*s == '"' && quote)
			cp_mx_puts(x, "\\\"");
		else
			cp_buf_put(&x->b, s, 1);
	}
}

void cp_mx_family(struct cp_mx *x, const char *name, const char *type, const char *help)
{
	x->family = name;
	cp_mx_puts(x, "# HELP ");
	cp_mx_puts(x, name);
	cp_mx_puts(x, " ");
	cp_mx_escaped(x, help, false);
	cp_mx_puts(x, "\n# TYPE ");
	cp_mx_puts(x, name);
	cp_mx_puts(x, " ");
	cp_mx_puts(x, type);
	cp_mx_puts(x, "\n");
}

static void cp_mx_labels(struct cp_mx *x, unsigned n, va_list ap)
{
	cp_mx_puts(x, x->family);
	if (n == 0)
		return;
	cp_mx_puts(x, "{");
	for (unsigned i = 0; i < n; i++) {
		const char *k = va_arg(ap, const char *), *v = va_arg(ap, const char *);

		if (i)
			cp_mx_puts(x, ",");
		cp_mx_puts(x, k);
		cp_mx_puts(x, "=\"");
		cp_mx_escaped(x, v, true);
		cp_mx_puts(x, "\"");
	}
	cp_mx_puts(x, "}");
}

void cp_mx_u64(struct cp_mx *x, uint64_t v, unsigned n_labels, ...)
{
	char num[32];
	va_list ap;

	va_start(ap, n_labels);
	cp_mx_labels(x, n_labels, ap);
	va_end(ap);
	snprintf(num, sizeof(num), " %" PRIu64 "\n", v);
	cp_mx_puts(x, num);
}

void cp_mx_f64(struct cp_mx *x, double v, unsigned n_labels, ...)
{
	char num[48];
	va_list ap;

	va_start(ap, n_labels);
	cp_mx_labels(x, n_labels, ap);
	va_end(ap);
	snprintf(num, sizeof(num), " %.9g\n", v);
	cp_mx_puts(x, num);
}

/* ------------------------------------------------------------------ exchange fill */

/* Records used by the last epoch applied of each (worker, kind); main loop only. */
static struct {
	uint32_t n[OBX_MAX_WORKERS][OBX_TAB_MAX];
	bool seen[OBX_MAX_WORKERS][OBX_TAB_MAX];
} cp_fill;

static int cp_fill_merge(void *ctx, const struct cp_epoch *e, const void *recs, uint32_t n,
                         uint32_t rec_size)
{
	unsigned kind = (unsigned)(uintptr_t)ctx;

	(void)rec_size;
	if (recs == NULL || e->worker >= OBX_MAX_WORKERS)
		return 0;    /* prepare: nothing to reserve */
	cp_fill.n[e->worker][kind] = n;
	cp_fill.seen[e->worker][kind] = true;
	return 0;
}

/* ------------------------------------------------------------------ rule matches */

/* Matches per payload rule sid since this start, ascending by sid: from the EVENT
 * records whose type is a sid (exchange_recs.h; bit 31 clear) and the SRC records'
 * inline events of such a type.  Rules are few (thousands), so a sorted array. */
static struct {
	uint32_t *sid;
	uint64_t *n;
	size_t len, cap, cap_n;
} cp_sids;

static size_t cp_sid_find(uint32_t sid)
{
	size_t lo = 0, hi = cp_sids.len;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (cp_sids.sid[mid] < sid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Room for n more sids (prepare); 0 or -ENOMEM. */
static int cp_sid_reserve(uint32_t n)
{
	uint32_t *s;
	uint64_t *c;

	if (n == 0)
		return 0;   /* cp_grow() of nothing on an empty array is NULL, not a failure */
	s = cp_grow(cp_sids.sid, &cp_sids.cap, cp_sids.len + n, sizeof(*s), 64);
	if (s == NULL)
		return -ENOMEM;
	cp_sids.sid = s;
	c = cp_grow(cp_sids.n, &cp_sids.cap_n, cp_sids.len + n, sizeof(*c), 64);
	if (c == NULL)
		return -ENOMEM;
	cp_sids.n = c;
	return 0;
}

static void cp_sid_add(uint32_t type, uint64_t count)
{
	size_t i;

	if ((type & OBS_EV_CLASS_BIT) || type == 0 || count == 0)
		return;     /* a packet class, not a rule */
	i = cp_sid_find(type);
	if (i == cp_sids.len || cp_sids.sid[i] != type) {
		memmove(&cp_sids.sid[i + 1], &cp_sids.sid[i], (cp_sids.len - i) * sizeof(uint32_t));
		memmove(&cp_sids.n[i + 1], &cp_sids.n[i], (cp_sids.len - i) * sizeof(uint64_t));
		cp_sids.sid[i] = type;
		cp_sids.n[i] = 0;
		cp_sids.len++;
	}
	cp_sids.n[i] += count;
}

static int cp_sid_merge(void *ctx, const struct cp_epoch *e, const void *recs, uint32_t n,
                        uint32_t rec_size)
{
	unsigned kind = (unsigned)(uintptr_t)ctx;

	(void)e;
	if (kind == OBX_TAB_EVENT && rec_size == sizeof(struct obx_event_rec)) {
		const struct obx_event_rec *r = recs;

		if (recs == NULL)
			return cp_sid_reserve(n);
		for (uint32_t i = 0; i < n; i++)
			cp_sid_add(r[i].type, r[i].count);
	} else if (kind == OBX_TAB_SRC && rec_size == sizeof(struct obx_src_rec)) {
		const struct obx_src_rec *r = recs;

		if (recs == NULL)
			return cp_sid_reserve(n);
		for (uint32_t i = 0; i < n; i++)
			if (r[i].ev_mode == OBX_SRC_EV_INLINE)
				cp_sid_add(r[i].ev_type, r[i].packets);
	}
	return 0;   /* another record size: the analyses refuse the epoch, not us */
}

int cp_metrics_register_fill(struct cp *cp)
{
	(void)cp;
	memset(&cp_fill, 0, sizeof(cp_fill));
	free(cp_sids.sid);
	free(cp_sids.n);
	memset(&cp_sids, 0, sizeof(cp_sids));
	for (unsigned k = 0; k < OBX_TAB_MAX; k++) {
		int rc;

		if (k > OBX_TAB_EVENT)
			break;
		rc = cp_tab_register(k, "metrics", cp_fill_merge, (void *)(uintptr_t)k);
		if (rc == 0 && (k == OBX_TAB_EVENT || k == OBX_TAB_SRC))
			rc = cp_tab_register(k, "metrics", cp_sid_merge, (void *)(uintptr_t)k);
		if (rc != 0)
			return rc;
	}
	return 0;
}

void cp_metrics_fini(void)
{
	free(cp_sids.sid);
	free(cp_sids.n);
	memset(&cp_sids, 0, sizeof(cp_sids));
}

/* ------------------------------------------------------------------ families */

#define CP_NS_S(ns) ((double)(ns) / 1e9)

/* The per-worker counters of `stats` (workers[]): one family per field. */
static void cp_mx_workers(struct cp_mx *x, const struct cp_store *s)
{
	static const char *const drop_names[OBX_DROP_N] = OBX_DROP_NAMES;
	static const char *const proto_names[OBX_P_N] = { "tcp", "udp", "icmp", "other" };
	static const struct {
		const char *name, *help;
		size_t off;
	} scalar[] = {
#define F(n, f, h) { "obscura_" n, h, offsetof(struct obx_counters, f) }
		F("rx_packets_total", rx_packets, "Frames handed to the worker (stats: rx_packets)."),
		F("rx_bytes_total", rx_bytes, "Wire bytes of those frames (stats: rx_bytes)."),
		F("telescope_packets_total", tel_packets,
		  "Accepted telescope packets (stats: tel_packets)."),
		F("telescope_bytes_total", tel_bytes, "Bytes of accepted telescope packets."),
		F("lost_updates_total", lost_updates,
		  "Table updates that found no room in the epoch slot: information lost."),
		F("time_backwards_total", time_backwards,
		  "Packets whose time was before the previous packet's."),
		F("forced_swaps_total", forced_swaps,
		  "Epochs published early because a table filled."),
		F("excluded_packets_total", excluded_packets,
		  "Telescope packets from an excluded source (SPEC C)."),
		F("resip_packets_total", resip_packets, "RESIP traffic packets (SPEC B1)."),
		F("scanner_packets_total", scanner_packets,
		  "Packets from a source of the scanner table."),
		F("coverage_syns_total", cov_syns,
		  "SYN-no-ACK packets fed to the coverage cells (SPEC A)."),
		F("payload_packets_total", payload_packets,
		  "Packets with an L4 payload offered to the payload rules."),
		F("rule_matches_total", rule_matches, "Payload rule matches (SPEC C event types)."),
		/* fragments / DoS backscatter (exchange.h OBX_CTR_*) */
		F("fragments_total", reserved[OBX_CTR_FRAGMENTS],
		  "Accepted telescope packets that are IP fragments (stats: fragments)."),
		F("backscatter_packets_total", reserved[OBX_CTR_BACKSCATTER],
		  "Accepted packets classed DoS backscatter."),
		/* --- responder (issue 13) --- */
		F("responder_syn_acks_total", reserved[OBX_CTR_RESP_SYNACKS],
		  "SYN-ACKs the responder transmitted (stats: responder.syn_acks)."),
		F("responder_tx_refused_total", reserved[OBX_CTR_RESP_TX_REFUSED],
		  "Responder replies the TX ring refused or that found no mbuf."),
		F("responder_capped_total", reserved[OBX_CTR_RESP_CAPPED],
		  "Responder replies not sent: the worker's responder.max_pps bucket was empty."),
		F("responder_cookies_valid_total", reserved[OBX_CTR_RESP_COOKIE_OK],
		  "ACK segments to H whose SYN cookie validated."),
		F("responder_cookies_invalid_total", reserved[OBX_CTR_RESP_COOKIE_BAD],
		  "ACK segments to H whose SYN cookie did not validate."),
		F("responder_sessions_total", resp_sessions, "Handshakes the responder completed."),
		F("responder_payloads_total", resp_payloads,
		  "First data segments the responder kept (responder.payload_bytes)."),
		F("responder_rsts_total", resp_rsts, "RSTs the responder transmitted."),
		F("responder_arp_replies_total", resp_arps, "ARP replies the responder transmitted."),
#undef F
	};
	char w[16];

	cp_mx_family(x, "obscura_packets_total", "counter",
	             "Accepted telescope packets by worker and protocol (stats: protocols).");
	for (uint32_t i = 0; i < s->n_workers; i++)
		for (int p = 0; p < OBX_P_N; p++) {
			snprintf(w, sizeof(w), "%u", i);
			cp_mx_u64(x, s->worker[i].proto_packets[p], 2, "worker", w,
			          "proto", proto_names[p]);
		}
	cp_mx_family(x, "obscura_drops_total", "counter",
	             "Frames dropped by the worker, by reason (stats: drops).");
	for (uint32_t i = 0; i < s->n_workers; i++)
		for (int d = 0; d < OBX_DROP_N; d++) {
			snprintf(w, sizeof(w), "%u", i);
			cp_mx_u64(x, s->worker[i].drops[d], 2, "worker", w, "reason", drop_names[d]);
		}
	for (size_t f = 0; f < sizeof(scalar) / sizeof(scalar[0]); f++) {
		cp_mx_family(x, scalar[f].name, "counter", scalar[f].help);
		for (uint32_t i = 0; i < s->n_workers; i++) {
			uint64_t v;

			memcpy(&v, (const uint8_t *)&s->worker[i] + scalar[f].off, sizeof(v));
			snprintf(w, sizeof(w), "%u", i);
			cp_mx_u64(x, v, 1, "worker", w);
		}
	}
}

/* The port counters of `stats` (ports[]): the dataplane's, live or the last seen. */
static void cp_mx_ports(struct cp_mx *x, struct cp *cp)
{
	const struct cp_store *s = &cp->store;
	static const struct {
		const char *name, *help;
		size_t off;
	} f[] = {
#define F(n, m, h) { "obscura_port_" n, h, offsetof(struct obx_port_stats, m) }
		F("received_packets_total", ipackets, "Packets the NIC received (ipackets)."),
		F("received_bytes_total", ibytes, "Bytes the NIC received (ibytes)."),
		F("imissed_total", imissed, "Packets the NIC dropped: no RX descriptor (imissed)."),
		F("ierrors_total", ierrors, "Erroneous packets the NIC received (ierrors)."),
		F("rx_nombuf_total", rx_nombuf, "RX failures for want of an mbuf (rx_nombuf)."),
#undef F
	};

	for (size_t k = 0; k < sizeof(f) / sizeof(f[0]); k++) {
		cp_mx_family(x, f[k].name, "counter", f[k].help);
		for (uint32_t p = 0; p < s->n_ports; p++) {
			uint64_t v;

			memcpy(&v, (const uint8_t *)&s->ports[p] + f[k].off, sizeof(v));
			cp_mx_u64(x, v, 1, "port", s->ports[p].name);
		}
	}
	cp_mx_family(x, "obscura_ports_live", "gauge",
	             "1: the port counters are live from the attached dataplane; 0: the last "
	             "ones seen.");
	cp_mx_u64(x, cp->drain.cur.h != NULL && cp->drain.cur.boot_id == s->ports_boot_id &&
	          s->n_ports != 0, 0);
}

/* `status`: the dataplane, the drain, the exchange, the state on disk. */
static void cp_mx_status(struct cp_mx *x, struct cp *cp, uint64_t wall, uint64_t mono)
{
	static const char *const tab_names[OBX_TAB_MAX] = OBX_TAB_NAMES;
	const struct cp_drain *d = &cp->drain;
	const struct cp_store *s = &cp->store;
	const struct obx_header *h = d->cur.h;
	/* sizes from the header as validated at attach (drain.h), never the shared page */
	const struct obx_geom *g = &d->cur.g;

	cp_mx_family(x, "obscura_build_info", "gauge", "The control plane's version.");
	cp_mx_u64(x, 1, 1, "version", CP_VERSION);
	cp_mx_family(x, "obscura_cp_start_time_seconds", "gauge",
	             "Wall clock when obscura-cp started, Unix seconds.");
	cp_mx_f64(x, CP_NS_S(cp->start_wall_ns), 0);
	cp_mx_family(x, "obscura_dataplane_attached", "gauge",
	             "1: an exchange of a dataplane is attached (status: dp.attached).");
	cp_mx_u64(x, h != NULL, 0);
	/* the families of an attached dataplane are always declared, their samples only
	 * while one is attached: a dashboard sees the series vanish, not the family */
	cp_mx_family(x, "obscura_dataplane_start_time_seconds", "gauge",
	             "Wall clock when the attached dataplane started, Unix seconds.");
	if (h != NULL)
		cp_mx_f64(x, CP_NS_S(g->boot_wall_ns), 0);
	cp_mx_family(x, "obscura_dataplane_heartbeat_age_seconds", "gauge",
	             "Age of the attached dataplane main lcore's heartbeat.");
	if (h != NULL) {
		uint64_t hb = atomic_load_explicit(&((struct obx_header *)h)->heartbeat_ns,
		                                   memory_order_relaxed);

		if (hb != 0)
			cp_mx_f64(x, wall > hb ? CP_NS_S(wall - hb) : 0.0, 0);
	}
	cp_mx_family(x, "obscura_exchange_capacity_records", "gauge",
	             "Records per epoch slot of each exchange table.");
	for (unsigned k = 0; h != NULL && k <= OBX_TAB_EVENT; k++)
		if (g->tab_capacity[k] != 0)
			cp_mx_u64(x, g->tab_capacity[k], 1, "table", tab_names[k]);
	cp_mx_family(x, "obscura_exchange_fill_ratio", "gauge",
	             "Records the last drained epoch of a worker used in a table / the "
	             "table's capacity (a forced swap comes near 1).");
	for (uint32_t w = 0; h != NULL && w < OBX_MAX_WORKERS && w < s->n_workers; w++)
		for (unsigned k = 0; k <= OBX_TAB_EVENT; k++) {
			char ws[16];

			if (g->tab_capacity[k] == 0 || !cp_fill.seen[w][k])
				continue;
			snprintf(ws, sizeof(ws), "%u", w);
			cp_mx_f64(x, (double)cp_fill.n[w][k] / g->tab_capacity[k], 2,
			          "worker", ws, "table", tab_names[k]);
		}
	cp_mx_family(x, "obscura_dataplane_boots", "gauge",
	             "Dataplane boots the store holds epochs of; restarts = boots - 1 (status: "
	             "dp_restarts).");
	cp_mx_u64(x, s->n_boots, 0);
	cp_mx_family(x, "obscura_epochs_drained_total", "counter",
	             "Epochs merged into the store, every boot (stats: epochs).");
	cp_mx_u64(x, s->epochs, 0);
	cp_mx_family(x, "obscura_sources", "gauge", "Distinct sources in the store (stats: sources).");
	cp_mx_u64(x, s->src.n, 0);
	cp_mx_family(x, "obscura_packet_time_last_seconds", "gauge",
	             "Packet time of the newest packet drained, Unix seconds (0: none).");
	cp_mx_f64(x, CP_NS_S(s->t_last_ns), 0);
	cp_mx_family(x, "obscura_drain_lag_seconds", "gauge",
	             "Publish-to-drain delay of the last epoch drained (status: lag_last_ms).");
	cp_mx_f64(x, CP_NS_S(d->last_lag_ns), 0);
	cp_mx_family(x, "obscura_drain_lag_max_seconds", "gauge",
	             "Largest publish-to-drain delay of this run (status: lag_max_ms).");
	cp_mx_f64(x, CP_NS_S(d->max_lag_ns), 0);
	cp_mx_family(x, "obscura_drain_busy_seconds_total", "counter",
	             "Time the drain spent applying epochs (copy, journal, merge), this run.");
	cp_mx_f64(x, CP_NS_S(d->drain_ns_total), 0);
	cp_mx_family(x, "obscura_drain_duplicates_total", "counter",
	             "READY slots already applied (journal replay) and just freed, this run.");
	cp_mx_u64(x, d->epochs_dup, 0);
	cp_mx_family(x, "obscura_drain_invalid_total", "counter",
	             "READY slots refused (bad sequence) and freed, this run.");
	cp_mx_u64(x, d->epochs_invalid, 0);
	cp_mx_family(x, "obscura_journal_errors_total", "counter",
	             "Journal writes that failed (the epochs stayed READY), this run.");
	cp_mx_u64(x, d->journal_errors, 0);
	cp_mx_family(x, "obscura_snapshots_written_total", "counter", "Snapshots written, this run.");
	cp_mx_u64(x, cp->persist.n_written, 0);
	cp_mx_family(x, "obscura_snapshots_failed_total", "counter",
	             "Snapshots that failed, this run.");
	cp_mx_u64(x, cp->persist.n_failed, 0);
	cp_mx_family(x, "obscura_snapshot_age_seconds", "gauge",
	             "Time since the last snapshot was written (no sample before the first).");
	if (cp->persist.last_write_mono_ns != 0)
		cp_mx_f64(x, CP_NS_S(mono - cp->persist.last_write_mono_ns), 0);
}

/* `tables status` and `rules status`: the state of each read-mostly table. */
static void cp_mx_tables(struct cp_mx *x, struct cp *cp)
{
	const struct obx_header *h = cp->drain.cur.h;
	struct obx_rules_status st;
	bool have;

	cp_mx_family(x, "obscura_table_reload_state", "gauge",
	             "1 for the state of each table's latest reload request (tables status); "
	             "state \"not reloaded\" when none was made this run.");
	for (uint32_t t = 0; t < CP_RT_N; t++) {
		const struct cp_reload_tab *rt = &cp->reload.tab[t];

		cp_mx_u64(x, 1, 2, "table", cp_reload_table_name(t), "state",
		          rt->hist[0].id ? cp_reload_state_name(rt->hist[0].state) : "not reloaded");
	}
	cp_mx_family(x, "obscura_table_reloads_total", "counter",
	             "Table reload requests answered this run, by outcome (loaded, refused, "
	             "unanswered: the dataplane restarted or left first).");
	for (uint32_t t = 0; t < CP_RT_N; t++) {
		static const uint32_t fin[] = { CP_RS_LOADED, CP_RS_REFUSED, CP_RS_UNANSWERED };

		for (size_t k = 0; k < sizeof(fin) / sizeof(fin[0]); k++)
			cp_mx_u64(x, cp->reload.tab[t].n_outcomes[fin[k]], 2, "table",
			          cp_reload_table_name(t), "outcome", cp_reload_state_name(fin[k]));
	}
	cp_mx_family(x, "obscura_table_last_loaded_time_seconds", "gauge",
	             "Wall clock of each table's last successful reload, Unix seconds.");
	for (uint32_t t = 0; t < CP_RT_N; t++)
		if (cp->reload.tab[t].loaded.id != 0)
			cp_mx_f64(x, CP_NS_S(cp->reload.tab[t].loaded.done_wall_ns), 1, "table",
			          cp_reload_table_name(t));
	/* the dataplane's report (no samples while none is attached or reported) */
	have = h != NULL && obx_rules_status_read(h, &st) == 0;
	/* issue 15: obscura_table_loaded.  The dataplane loads every configured table at
	 * its start or does not start, and a refused reload keeps the table in use: it
	 * holds a table when the configuration both read names its files; the rules as
	 * the dataplane reports them.  No samples while no dataplane is attached. */
	cp_mx_family(x, "obscura_table_loaded", "gauge",
	             "1: the attached dataplane holds the table (its files are configured: "
	             "loaded at its start, kept through a refused reload; rules: as rules "
	             "status reports); 0: none configured.");
	if (h != NULL)
		for (uint32_t t = 0; t < CP_RT_N; t++)
			cp_mx_u64(x, t == CP_RT_RULES && have ? st.loaded != 0 :
			          cp_tables_n_files(&cp->conf, t) != 0, 1, "table",
			          cp_reload_table_name(t));
	/* issue 15: obscura_table_version, the dataplane's count (exchange.h) */
	cp_mx_family(x, "obscura_table_version", "gauge",
	             "Version of each table in the attached dataplane: 1 when its start loaded "
	             "it, +1 per accepted reload (a refused one keeps it); 0: none in use.");
	if (h != NULL)
		for (uint32_t t = 0; t < CP_RT_N; t++)
			cp_mx_u64(x, (uint64_t)cp_tables_version(cp, t), 1, "table",
			          cp_reload_table_name(t));
	cp_mx_family(x, "obscura_rules_loaded", "gauge",
	             "1: the dataplane scans with a payload rules database (rules status).");
	if (have)
		cp_mx_u64(x, st.loaded != 0, 0);
	cp_mx_family(x, "obscura_rules", "gauge",
	             "Payload rules of the database in use, accepted and rejected.");
	if (have) {
		cp_mx_u64(x, st.n_accepted, 1, "state", "accepted");
		cp_mx_u64(x, st.n_rejected, 1, "state", "rejected");
	}
	cp_mx_family(x, "obscura_rules_built_time_seconds", "gauge",
	             "Wall clock when the rules database in use was built, Unix seconds.");
	if (have)
		cp_mx_f64(x, CP_NS_S(st.built_wall_ns), 0);
	cp_mx_family(x, "obscura_rules_reload_refused", "gauge",
	             "1: the latest rules reload was refused (the old database is kept).");
	if (have)
		cp_mx_u64(x, st.refused_wall_ns != 0, 0);
}

void cp_metrics_render(struct cp *cp, struct cp_mx *x)
{
	uint64_t wall = cp_wall_ns(), mono = cp_mono_ns();

	cp_mx_workers(x, &cp->store);
	cp_mx_ports(x, cp);
	cp_mx_status(x, cp, wall, mono);
	cp_mx_tables(x, cp);
	cp_mx_family(x, "obscura_rules_matches_total", "counter",
	             "Payload rule matches by rule sid, drained since obscura-cp started (their sum "
	             "is stats rule_matches for those epochs, less lost updates).");
	for (size_t i = 0; i < cp_sids.len; i++) {
		char sid[16];

		snprintf(sid, sizeof(sid), "%u", cp_sids.sid[i]);
		cp_mx_u64(x, cp_sids.n[i], 1, "sid", sid);
	}
	/* --- fingerprint (issue 14): SYNs per tool label (toolstore.h), all sources --- */
	cp_mx_family(x, "obscura_fingerprint_syns_total", "counter",
	             "TCP SYNs labelled with a scanner tool (docs/fingerprints.md), by the label "
	             "a source record named, over the store (rebuilt from snapshot and journal).");
	for (unsigned id = 1; id < CP_TOOL_IDS; id++) {
		char nb[32];

		if (cp->store.tools.syns[id] != 0)
			cp_mx_u64(x, cp->store.tools.syns[id], 1, "tool", cp_tool_name(id, nb, sizeof(nb)));
	}
	cp_mx_family(x, "obscura_fingerprint_other_syns_total", "counter",
	             "Labelled SYNs of a label other than the one their source record named "
	             "(the record's tool_other: the exchange does not say which).");
	cp_mx_u64(x, cp->store.tools.other, 0);
	cp_analyses_metrics(cp, x);
}
