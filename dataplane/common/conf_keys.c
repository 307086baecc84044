/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * conf_keys.c — every configuration key, one row each (conf.h): dotted path, type,
 * bounds, default, reloadable or restart-only, help, and where it lives in struct
 * obs_conf.  The list-of-maps sections (dataplane.ports, telescope.sensors) have their
 * own small row tables for the fields of one item.  Parsing and validation (conf.c) and
 * dump, describe and compare (conf_dump.c) are driven by these rows, so a key added here
 * is parsed, dumped, compared and documented without another edit.  Read-only data.
 */
#include <stddef.h>

#include "conf_int.h"

#define MSIZE(T, f) sizeof(((T *)0)->f)

#define K_INT(T, p, f, lo, hi, d, fl, h) { .path = p, .type = CT_INT, .flags = fl, \
	.min = lo, .max = hi, .def = d, .help = h, .off = offsetof(T, f), .size = MSIZE(T, f) }
#define K_BOOL(T, p, f, d, fl, h) { .path = p, .type = CT_BOOL, .flags = fl, .def = d, \
	.help = h, .off = offsetof(T, f), .size = MSIZE(T, f) }
#define K_STR(T, p, f, lo, d, fl, h) { .path = p, .type = CT_STR, .flags = fl, .min = lo, \
	.max = MSIZE(T, f) - 1, .def = d, .help = h, .off = offsetof(T, f), .size = MSIZE(T, f) }
#define K_ENUM(T, p, f, nm, d, fl, h) { .path = p, .type = CT_ENUM, .flags = fl, .def = d, \
	.help = h, .off = offsetof(T, f), .size = MSIZE(T, f), .names = nm }

static const char *const conf_huge_names[] = { "auto", "yes", "no", NULL };
static const char *const conf_period_names[] = { "hour", "day", "week", "month", NULL };

_Static_assert(sizeof(enum obs_conf_hugepages) == sizeof(int), "enums stored as int");
_Static_assert(sizeof(enum obs_conf_period) == sizeof(int), "enums stored as int");
_Static_assert(OBS_CONF_MAX_SENSORS <= 64, "sensor_mask is 64 bits");

static const struct conf_key conf_port_keys[] = {
	K_STR(struct obs_conf_port, "name", name, 1, NULL, CF_REQUIRED | CF_NAME,
	      "port name used in logs, stats and the exchange"),
	K_STR(struct obs_conf_port, "device", device, 1, NULL, CF_REQUIRED,
	      "PCI address (0000:03:00.0) or vdev string (net_pcap0,rx_pcap=x.pcap)"),
	K_INT(struct obs_conf_port, "rx_queues", rx_queues, 1, 64, "1", 0,
	      "RX queues on this port, spread over the workers"),
	K_INT(struct obs_conf_port, "rx_desc", rx_desc, 64, 32768, "1024", CF_POW2,
	      "RX descriptors per queue, power of two"),
};

static const struct conf_key conf_sensor_keys[] = {
	K_STR(struct obs_conf_sensor, "name", name, 1, NULL, CF_REQUIRED | CF_NAME,
	      "sensor name (SPEC.md: an environment of seed 003)"),
	{ .path = "prefixes", .type = CT_PREFIXLIST, .flags = CF_REQUIRED, .min = 1,
	  .max = OBS_CONF_MAX_PREFIXES, .help = "IPv4 prefixes of this sensor, a.b.c.d/len, no host bits",
	  .off = offsetof(struct obs_conf_sensor, prefix_addr),
	  .cnt_off = offsetof(struct obs_conf_sensor, n_prefixes),
	  .len_off = offsetof(struct obs_conf_sensor, prefix_len) },
};

#define C struct obs_conf
const struct conf_key obs_conf_keys[] = {
	K_INT(C, "dataplane.workers", workers, 1, 64, "1", 0,
	      "worker lcores polling the ports (at most OBX_MAX_WORKERS)"),
	K_INT(C, "dataplane.burst", burst, 1, 64, "32", 0, "packets per RX burst"),
	K_INT(C, "dataplane.mbufs", mbufs, 255, 16777215, "8191", 0,
	      "mbufs in the packet pool (best 2^n - 1); must cover all RX rings plus bursts"),
	K_ENUM(C, "dataplane.hugepages", hugepages, conf_huge_names, "auto", 0,
	       "use hugepages: auto (if mounted), yes (required), no (--no-huge)"),
	K_STR(C, "dataplane.file_prefix", file_prefix, 1, "obscura", CF_NAME,
	      "EAL --file-prefix, separates this instance's hugepage files"),
	{ .path = "dataplane.eal_args", .type = CT_STRLIST, .min = 0, .max = OBS_CONF_MAX_EAL_ARGS,
	  .help = "extra EAL arguments, appended verbatim", .off = offsetof(C, eal_args),
	  .size = MSIZE(C, eal_args[0]), .cnt_off = offsetof(C, n_eal_args) },
	K_BOOL(C, "dataplane.rss", rss, "true", 0,
	       "RSS on the source IPv4 where the PMD supports it"),
	{ .path = "dataplane.ports", .type = CT_MAPLIST, .min = 0, .max = OBS_CONF_MAX_PORTS,
	  .help = "capture ports; empty for replay mode", .off = offsetof(C, ports),
	  .size = sizeof(struct obs_conf_port), .cnt_off = offsetof(C, n_ports),
	  .items = conf_port_keys, .n_items = sizeof(conf_port_keys) / sizeof(conf_port_keys[0]),
	  .list_id = CONF_LIST_PORTS },

	K_INT(C, "telescope.sample_cap", sample_cap, 1, 65536, "4096", 0,
	      "coverage sample size cap (SPEC.md A); S = D when |D| <= cap"),
	{ .path = "telescope.sensors", .type = CT_MAPLIST, .min = 1, .max = OBS_CONF_MAX_SENSORS,
	  .help = "named parts of the telescope; their prefixes must not overlap",
	  .off = offsetof(C, sensors), .size = sizeof(struct obs_conf_sensor),
	  .cnt_off = offsetof(C, n_sensors), .items = conf_sensor_keys,
	  .n_items = sizeof(conf_sensor_keys) / sizeof(conf_sensor_keys[0]),
	  .list_id = CONF_LIST_SENSORS },

	K_STR(C, "exchange.path", exchange_path, 1, "/dev/shm/obscura.exchange", CF_ABSPATH,
	      "shared-memory file between dataplane and control plane"),
	K_INT(C, "exchange.epoch_ms", epoch_ms, 10, 60000, "1000", 0,
	      "epoch length in packet time"),
	K_INT(C, "exchange.src_capacity", src_capacity, 1024, 16777216, "262144", CF_POW2,
	      "source records per epoch slot, power of two"),
	K_INT(C, "exchange.cell_capacity", cell_capacity, 0, 16777216, "65536", CF_POW2,
	      "coverage cell records per epoch slot (SPEC.md A), power of two; 0 = none"),
	K_INT(C, "exchange.bitmap_capacity", bitmap_capacity, 0, 4194304, "4096", 0,
	      "coverage bitmaps per epoch slot (SPEC.md A); 0 = none"),
	K_INT(C, "exchange.resip_port_capacity", resip_port_capacity, 0, 16777216, "65536", CF_POW2,
	      "RESIP port/day records per epoch slot (SPEC.md B), power of two; 0 = none"),
	K_INT(C, "exchange.event_capacity", event_capacity, 0, 16777216, "65536", CF_POW2,
	      "event-type records per epoch slot (SPEC.md C), power of two; 0 = none"),
	K_INT(C, "exchange.dos_capacity", dos_capacity, 0, 16777216, "16384", CF_POW2,
	      "DoS backscatter (victim, minute) records per epoch slot (docs/dos.md); 0 = none"),
	/* fingerprint signatures (issue 14) */
	K_INT(C, "exchange.fpsig_capacity", fpsig_capacity, 0, 1048576, "16384", CF_POW2,
	      "JA4T-style SYN signature records per epoch slot (docs/fingerprints.md); 0 = none"),
	K_INT(C, "exchange.drain_wait_s", drain_wait_s, 0, 3600, "10", 0,
	      "at dataplane start, wait this long for an old exchange to drain"),
	/* responder (issue 13) */
	K_INT(C, "exchange.resp_capacity", resp_capacity, 0, 16777216, "4096", CF_POW2,
	      "responder handshake records per epoch slot, power of two; 0 = none"),

	K_STR(C, "control.state_dir", state_dir, 1, "/var/lib/obscura", CF_ABSPATH,
	      "snapshots and journal of the control plane"),
	K_INT(C, "control.snapshot_interval_s", snapshot_interval_s, 1, 86400, "300", CF_RELOAD,
	      "seconds between period-store snapshots"),
	K_STR(C, "control.socket", socket_path, 1, "/run/obscura/ctl.sock", CF_ABSPATH | CF_SUNPATH,
	      "ctl v1 read-write socket"),
	K_STR(C, "control.socket_ro", socket_ro_path, 0, "/run/obscura/ctl-ro.sock",
	      CF_ABSPATH | CF_SUNPATH,
	      "ctl v1 read-only socket; empty: none"),
	K_STR(C, "control.socket_group", socket_group, 0, "", 0,
	      "group owning the admin socket (mode 0660) and the exchange; empty: leave it"),
	K_STR(C, "control.socket_ro_group", socket_ro_group, 0, "", 0,
	      "group owning the read-only socket (mode 0660); empty: socket_group"),
	K_STR(C, "control.user", user, 0, "", 0,
	      "drop privileges to this user after binding (the dataplane gives the exchange "
	      "file to it); empty: stay"),
	K_INT(C, "control.max_clients", max_clients, 1, 1024, "32", CF_RELOAD,
	      "concurrent ctl clients per socket (admin and read-only each have their own)"),
	K_INT(C, "control.max_request", max_request, 256, 1048576, "65536", CF_RELOAD,
	      "largest ctl request line in bytes"),
	K_INT(C, "control.idle_timeout_s", idle_timeout_s, 1, 86400, "300", CF_RELOAD,
	      "close ctl clients that complete no request this long"),
	K_STR(C, "control.metrics_listen", metrics_listen, 0, "127.0.0.1:9477", CF_LISTEN,
	      "Prometheus GET /metrics listener, a.b.c.d:PORT or [v6]:PORT, bound before "
	      "the privilege drop; empty: none"),

	K_ENUM(C, "analysis.period", period, conf_period_names, "month", 0,
	       "analysis period, UTC calendar unit (SPEC.md)"),
	K_INT(C, "analysis.block_len", block_len, 8, 32, "16", 0,
	      "source block prefix length L (SPEC.md A)"),
	K_INT(C, "analysis.scan_alpha_permille", scan_alpha_pm, 1, 1000, "800", CF_RELOAD,
	      "SPEC.md A alpha x 1000: a port is a scan target at coverage >= alpha"),
	K_INT(C, "analysis.scan_n", scan_n, 1, 65536, "30", CF_RELOAD,
	      "SPEC.md A n: ports for a wide-area period"),
	K_INT(C, "analysis.scan_m", scan_m, 1, 100000, "6", CF_RELOAD,
	      "SPEC.md A m: wide-area periods for a continuous scanner"),
	K_INT(C, "analysis.scan_jstar_permille", scan_jstar_pm, 0, 1000, "800", CF_RELOAD,
	      "SPEC.md A J* x 1000 (routine: J > J*)"),
	K_INT(C, "analysis.scan_sstar_permille", scan_sstar_pm, 0, 1000, "700", CF_RELOAD,
	      "SPEC.md A S* x 1000 (routine/semi-routine: S > S*)"),
	K_STR(C, "tables.scanner_file", scanner_file, 0, "", 0,
	      "scanner table: one IPv4 CIDR a line, optional label (conf/scanner-ips.txt); "
	      "\"\" = none; reload with `tables reload` or SIGHUP"),
	/* fingerprint (issue 14) */
	K_STR(C, "tables.fingerprint_file", fingerprint_file, 0, "", 0,
	      "scanner-tool fingerprints of SYNs (conf/fingerprints.txt, docs/fingerprints.md); "
	      "\"\" = none; reload with `tables reload fingerprints` or SIGHUP"),
	K_STR(C, "enrich.city_mmdb", city_mmdb, 0, "", 0,
	      "GeoIP City or Country MMDB for countries (SPEC.md A7); \"\" = none"),
	K_STR(C, "enrich.asn_mmdb", asn_mmdb, 0, "", 0,
	      "GeoIP ASN/ISP MMDB for organisations (SPEC.md B3); \"\" = none"),
	K_STR(C, "enrich.org_file", org_file, 0, "", 0,
	      "operator CIDR -> organisation file (SPEC.md B3), before the ASN MMDB; \"\" = none"),
	K_STR(C, "enrich.ptr_file", ptr_file, 0, "", 0,
	      "operator ip -> PTR name file (SPEC.md B3); \"\" = none"),
	K_BOOL(C, "enrich.ptr_live", ptr_live, "false", 0,
	       "resolve PTR names live through the system resolver (c-ares, cached)"),
	K_INT(C, "enrich.ptr_rate", ptr_rate, 1, 100000, "50", 0,
	      "live PTR queries per second at most"),
	K_STR(C, "resip.table", resip_table, 0, "", 0,
	      "RESIP table (SPEC.md B): CSV ip,provider,first_seen,last_seen or a MaxMind "
	      "residential-proxy MMDB (by content); \"\" = none; reload with `tables reload` or SIGHUP"),
	K_BOOL(C, "resip.window_check", resip_window_check, "true", 0,
	       "SPEC.md B1: a packet is RESIP traffic only inside one of its rows' windows"),
	K_STR(C, "resip.country", resip_country, 2, "JP", CF_RELOAD,
	      "SPEC.md B3: default country of `resip geo` and the report (two letters)"),

	K_INT(C, "lifetime.gap_s", life_gap_s, 3600, 31536000, "86400", 0,
	      "split a source's events into groups at idle gaps >= this (SPEC.md C4); >= 1 h"),
	K_INT(C, "lifetime.max_sources", life_max_sources, 1, 268435456, "4194304", 0,
	      "sources the lifetime analysis keeps; beyond, the least recently seen is evicted"),
	K_STR(C, "export.clickhouse.url", export_ch_url, 0, "", 0,
	      "ClickHouse HTTP interface, http://host:port/ (docs/export.md); \"\" = no export"),
	K_STR(C, "export.clickhouse.database", export_ch_database, 1, "default", CF_NAME,
	      "ClickHouse database of the export tables (created if missing)"),
	K_STR(C, "export.clickhouse.appliance", export_ch_appliance, 0, "", 0,
	      "this appliance's name in the exported rows; \"\" = the host name"),
	K_INT(C, "export.clickhouse.spool_max_mb", export_ch_spool_mb, 1, 1048576, "1024", 0,
	      "spool in state_dir for batches not yet in ClickHouse; beyond, batches are dropped, counted"),
	K_INT(C, "export.clickhouse.timeout_s", export_ch_timeout_s, 1, 3600, "30", 0,
	      "seconds one insert into ClickHouse may take before it is retried"),
	/* DoS backscatter attacks (docs/dos.md) */
	K_INT(C, "dos.gap_s", dos_gap_s, 1, 86400, "300", 0,
	      "a victim's backscatter after this many seconds of silence is a new attack"),
	K_INT(C, "dos.min_packets", dos_min_packets, 1, 1000000000, "25", 0,
	      "an attack has at least this many backscatter packets"),
	K_INT(C, "dos.min_duration_s", dos_min_duration_s, 0, 31536000, "60", 0,
	      "an attack lasts at least this many seconds, first to last packet"),
	K_INT(C, "dos.min_peak_ppm", dos_min_peak_ppm, 1, 1000000000, "30", 0,
	      "an attack's busiest UTC minute has at least this many packets"),
	K_INT(C, "dos.max_flows", dos_max_flows, 16, 16777216, "65536", 0,
	      "flows and attacks kept (136 B each, allocated at start); beyond, evicted, counted"),
	{ .path = "rules.files", .type = CT_STRLIST, .min = 0, .max = OBS_CONF_MAX_FILES,
	  .help = "payload rule files (Suricata subset, dataplane/rules.h), Hyperscan",
	  .off = offsetof(C, rules_files), .size = MSIZE(C, rules_files[0]),
	  .cnt_off = offsetof(C, n_rules_files) },
	{ .path = "exclude.files", .type = CT_STRLIST, .min = 0, .max = OBS_CONF_MAX_FILES,
	  .help = "exclusion prefix files (SPEC.md C): sources left out of the lifetime analysis",
	  .off = offsetof(C, exclude_files), .size = MSIZE(C, exclude_files[0]),
	  .cnt_off = offsetof(C, n_exclude_files) },
	/* --- responder (issue 13) --- */
	{ .path = "responder.prefixes", .type = CT_PREFIXLIST, .min = 0, .max = OBS_CONF_RESP_PREFIXES,
	  .help = "addresses H of the telescope that complete TCP handshakes on every port "
	          "(docs/scan.md \"Responder\"); empty = responder off",
	  .off = offsetof(C, resp_prefix_addr), .cnt_off = offsetof(C, resp_n_prefixes),
	  .len_off = offsetof(C, resp_prefix_len) },
	K_INT(C, "responder.payload_bytes", resp_payload_bytes, 0, 1460, "0", 0,
	      "first bytes of a session's first data segment scanned and kept; 0 = RST at the ACK"),
	K_INT(C, "responder.max_pps", resp_max_pps, 1, 100000000, "10000", 0,
	      "packets a worker transmits per second at most (SYN-ACK, RST, ARP)"),
	K_STR(C, "responder.secret_file", resp_secret_file, 0, "", CF_ABSPATH,
	      "SYN cookie key file (>= 16 bytes, e.g. head -c 32 /dev/urandom); required with prefixes"),
	K_BOOL(C, "responder.arp", resp_arp, "true", 0,
	       "answer ARP requests for the addresses of H on the ports (false: the router has "
	       "static ARP entries for them)"),
};
#undef C

const unsigned obs_conf_n_keys = sizeof(obs_conf_keys) / sizeof(obs_conf_keys[0]);
_Static_assert(sizeof(obs_conf_keys) / sizeof(obs_conf_keys[0]) <= CONF_N_KEYS_MAX,
               "conf_int.h: CONF_N_KEYS_MAX");

/* conf_ctx keeps a line per item field; validation finds "name" at index 0 and
 * "device" at index 1 of their item tables. */
_Static_assert(sizeof(conf_port_keys) / sizeof(conf_port_keys[0]) <= CONF_MAX_ITEM_KEYS, "item lines");
_Static_assert(sizeof(conf_sensor_keys) / sizeof(conf_sensor_keys[0]) <= CONF_MAX_ITEM_KEYS, "item lines");
_Static_assert(OBS_CONF_MAX_PORTS <= CONF_MAX_ITEMS && OBS_CONF_MAX_SENSORS <= CONF_MAX_ITEMS, "items");
