/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * conf.h — typed configuration shared by obscura-dp and obscura-cp.
 *
 * One YAML file (conf/obscura.yaml).  Every key is described once in a declarative
 * table in conf.c (dotted path, type, bounds, default, reloadable or restart-only,
 * help); parsing fills struct obs_conf, validation runs over the whole struct, and
 * only then does the caller apply it.  A bad key or value yields an error naming the
 * key, the value and the reason.  No DPDK calls; any thread may read a conf it owns.
 */
#ifndef OBSCURA_CONF_H
#define OBSCURA_CONF_H

#include <stdint.h>
#include <stdio.h>
#include <stdbool.h>

#include "exchange.h"

#define OBS_CONF_MAX_PORTS     16
#define OBS_CONF_MAX_SENSORS   64
#define OBS_CONF_MAX_PREFIXES  256   /* per sensor */
#define OBS_CONF_MAX_EAL_ARGS  32
#define OBS_CONF_STR           256
#define OBS_CONF_MAX_FILES     16    /* rules.files, exclude.files */
#define OBS_CONF_RESP_PREFIXES 16    /* responder.prefixes (= obx_resp_status) */

struct obs_conf_port {
	char     name[32];
	char     device[OBS_CONF_STR];   /* PCI address (0000:03:00.0) or vdev string (net_pcap0,rx_pcap=...) */
	uint32_t rx_queues;              /* 1..64 */
	uint32_t rx_desc;                /* 64..32768, power of two */
};

struct obs_conf_sensor {
	char     name[32];
	uint32_t n_prefixes;
	uint32_t prefix_addr[OBS_CONF_MAX_PREFIXES];  /* host order */
	uint8_t  prefix_len[OBS_CONF_MAX_PREFIXES];
};

enum obs_conf_hugepages { OBS_HUGE_AUTO = 0, OBS_HUGE_YES, OBS_HUGE_NO };
enum obs_conf_period { OBS_PERIOD_HOUR = 0, OBS_PERIOD_DAY, OBS_PERIOD_WEEK, OBS_PERIOD_MONTH };

struct obs_conf {
	/* dataplane */
	uint32_t workers;                /* worker lcores, 1..OBX_MAX_WORKERS */
	uint32_t burst;                  /* 1..64 */
	uint32_t mbufs;                  /* mempool size */
	enum obs_conf_hugepages hugepages;
	char     file_prefix[64];        /* EAL --file-prefix */
	uint32_t n_eal_args;
	char     eal_args[OBS_CONF_MAX_EAL_ARGS][OBS_CONF_STR];
	uint32_t n_ports;
	struct obs_conf_port ports[OBS_CONF_MAX_PORTS];
	bool     rss;                    /* RSS on the source IPv4 where the PMD supports it */

	/* telescope */
	uint32_t n_sensors;
	struct obs_conf_sensor sensors[OBS_CONF_MAX_SENSORS];
	uint32_t sample_cap;             /* 1..65536, default 4096 (SPEC.md A) */

	/* exchange */
	char     exchange_path[OBS_CONF_STR];
	uint32_t epoch_ms;               /* 10..60000, default 1000 */
	uint32_t src_capacity;           /* per slot, power of two, 1024..16777216 */
	uint32_t cell_capacity;          /* per slot; 0 = absent, else power of two */
	uint32_t bitmap_capacity;        /* per slot; 0 = absent */
	uint32_t resip_port_capacity;    /* per slot; 0 = absent, else power of two */
	uint32_t event_capacity;         /* per slot; 0 = absent, else power of two */
	uint32_t dos_capacity;           /* DoS backscatter (kind 6); 0 = absent, else pow2 */
	uint32_t fpsig_capacity;         /* fingerprint signatures (kind 7); 0 = absent, else pow2 */
	uint32_t drain_wait_s;           /* dataplane start: wait this long for an old exchange to drain */

	/* control */
	char     state_dir[OBS_CONF_STR];
	uint32_t snapshot_interval_s;    /* 1..86400 */
	char     socket_path[OBS_CONF_STR];
	char     socket_ro_path[OBS_CONF_STR];   /* "" = no read-only socket */
	char     socket_group[64];       /* "" = leave the group alone */
	char     socket_ro_group[64];    /* the read-only socket's; "" = socket_group's */
	char     user[64];               /* drop to this user after binding; "" = stay */
	uint32_t max_clients;            /* 1..1024 */
	uint32_t max_request;            /* bytes, 256..1048576 */
	uint32_t idle_timeout_s;         /* 1..86400 */
	char     metrics_listen[64];     /* HOST:PORT of GET /metrics; "" = no listener */

	/* analysis (SPEC.md); later issues add theirs here */
	enum obs_conf_period period;
	uint32_t block_len;              /* L, 8..32, default 16 */
	/* SPEC.md A defaults (per-query overridable): thresholds in per mille */
	uint32_t scan_alpha_pm;          /* alpha x 1000, 1..1000, default 800 */
	uint32_t scan_n;                 /* 1..65536, default 30 */
	uint32_t scan_m;                 /* 1..100000, default 6 */
	uint32_t scan_jstar_pm;          /* J* x 1000, 0..1000, default 800 */
	uint32_t scan_sstar_pm;          /* S* x 1000, 0..1000, default 700 */
	char     scanner_file[OBS_CONF_STR];   /* tables.scanner_file: "" = none */
	char     fingerprint_file[OBS_CONF_STR]; /* tables.fingerprint_file (issue 14): "" = none */
	char     city_mmdb[OBS_CONF_STR];      /* enrich.city_mmdb: GeoIP City/Country, "" = none */

	/* lifetime (SPEC.md C) and payload rules */
	uint32_t life_gap_s;             /* event group gap, 3600..31536000, default 86400 */
	uint32_t life_max_sources;       /* lifetime table bound, default 4194304 */
	uint32_t n_rules_files;
	char     rules_files[OBS_CONF_MAX_FILES][OBS_CONF_STR];
	uint32_t n_exclude_files;
	char     exclude_files[OBS_CONF_MAX_FILES][OBS_CONF_STR];

	/* RESIP (SPEC.md B) and the geography's enrichment sources */
	char     resip_table[OBS_CONF_STR];    /* resip.table: CSV or MMDB, "" = none */
	bool     resip_window_check;           /* resip.window_check, default true (B1) */
	char     resip_country[3];             /* resip.country, default JP (B3) */
	char     asn_mmdb[OBS_CONF_STR];       /* enrich.asn_mmdb: ASN/ISP MMDB, "" = none */
	char     org_file[OBS_CONF_STR];       /* enrich.org_file: CIDR -> organisation */
	char     ptr_file[OBS_CONF_STR];       /* enrich.ptr_file: ip -> PTR name */
	bool     ptr_live;                     /* enrich.ptr_live: c-ares PTR lookups */
	uint32_t ptr_rate;                     /* enrich.ptr_rate: live queries per second */

	/* export to ClickHouse (docs/export.md) */
	char     export_ch_url[OBS_CONF_STR];      /* export.clickhouse.url: http://host:port/, "" = off */
	char     export_ch_database[64];           /* export.clickhouse.database */
	char     export_ch_appliance[64];          /* export.clickhouse.appliance: "" = host name */
	uint32_t export_ch_spool_mb;               /* export.clickhouse.spool_max_mb */
	uint32_t export_ch_timeout_s;              /* export.clickhouse.timeout_s: one request */

	/* --- responder (issue 13, docs/scan.md "Responder") --- */
	uint32_t resp_n_prefixes;                  /* responder.prefixes: H; 0 = off */
	uint32_t resp_prefix_addr[OBS_CONF_RESP_PREFIXES];   /* host order */
	uint8_t  resp_prefix_len[OBS_CONF_RESP_PREFIXES];
	uint32_t resp_payload_bytes;               /* responder.payload_bytes, 0..1460 */
	uint32_t resp_max_pps;                     /* responder.max_pps: TX cap per worker */
	char     resp_secret_file[OBS_CONF_STR];   /* responder.secret_file: cookie key */
	uint32_t resp_capacity;                    /* exchange.resp_capacity; 0 = absent */
	bool     resp_arp;                         /* responder.arp: answer ARP for H */

	/* DoS backscatter attacks (docs/dos.md) */
	uint32_t dos_gap_s;              /* dos.gap_s: silence ending an attack, default 300 */
	uint32_t dos_min_packets;        /* dos.min_packets, default 25 */
	uint32_t dos_min_duration_s;     /* dos.min_duration_s, default 60 */
	uint32_t dos_min_peak_ppm;       /* dos.min_peak_ppm, default 30 */
	uint32_t dos_max_flows;          /* dos.max_flows, default 65536 */
};

/* responder (issue 13): the secret file holds at least this many bytes */
#define OBS_CONF_RESP_SECRET_MIN 16u

/* Defaults for every key (the key table's defaults). */
void obs_conf_defaults(struct obs_conf *c);

/*
 * Load and validate a YAML file.  Returns 0, or -1 with a one-line message in err
 * ("config.yaml:12: telescope.sample_cap: value '70000' out of range 1..65536").
 */
int obs_conf_load(const char *path, struct obs_conf *c, char *err, size_t errlen);
int obs_conf_load_string(const char *yaml, struct obs_conf *c, char *err, size_t errlen);

/* Write the normalised config (every key, explicit values, YAML) — the -n output.
 * Re-parsing it gives an identical struct. */
void obs_conf_dump(const struct obs_conf *c, FILE *out);

/* Field-by-field comparison driven by the key table (padding and bytes after a
 * string's NUL are ignored).  obs_conf_diff returns the dotted path of the first key
 * that differs (for a difference inside a list item, the list's path), or NULL. */
bool obs_conf_equal(const struct obs_conf *a, const struct obs_conf *b);
const char *obs_conf_diff(const struct obs_conf *a, const struct obs_conf *b);

/* true when the key (dotted path, e.g. "control.max_clients") takes effect on reload;
 * false for restart-only and unknown keys. */
bool obs_conf_key_reloadable(const char *path);

/* One line per key: path, type, default, reloadable|restart, help (for `config keys`). */
void obs_conf_describe(FILE *out);

/* The exchange table geometry this config asks for (exchange.h): capacities from the
 * exchange.*_capacity keys, record sizes from OBX_REC_SIZE_* (the record types' own
 * sizes, not configurable).  xchg.c and the test tools build the layout from it. */
void obs_conf_exchange_tabs(const struct obs_conf *c, uint32_t cap[OBX_TAB_MAX],
                            uint32_t rec_size[OBX_TAB_MAX]);

/*
 * Parse a TCP listener address: "a.b.c.d:PORT" or "[v6addr]:PORT", numeric only (no
 * name lookups at start-up), PORT 1..65535.  0 with *ss and *len set, or -1 with *why
 * (a static string) saying what is wrong.  control.metrics_listen is checked with it at
 * load, so obscura-cp -n refuses what the daemon could not bind.
 */
struct sockaddr_storage;
int obs_conf_parse_listen(const char *s, struct sockaddr_storage *ss, uint32_t *len,
                          const char **why);

/* Parse "a.b.c.d/len" into host-order address and length; -1 on error (host bits set is an error). */
int obs_conf_parse_prefix(const char *s, uint32_t *addr, uint8_t *len);

#endif
