/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * exchange.h — the one contract between obscura-dp and obscura-cp (layout v2).
 *
 * A file-backed shared-memory region (default /dev/shm/obscura.exchange) that the
 * dataplane creates and the control plane maps read-write.  It holds offsets only,
 * never pointers, and is laid out as:
 *
 *   struct obx_header                         (one page, OBX_HEADER_SIZE)
 *   struct obx_port_stats   [OBX_MAX_PORTS]   (cumulative for this boot, main lcore writes;
 *                                              the first n_ports are used)
 *   struct obx_worker_live  [n_workers]       (64-byte aligned; cumulative for this boot,
 *                                              worker writes)
 *   slot[w][s]  for w < n_workers, s < 2      (the first page aligned; slot_size bytes
 *                                              each, a multiple of 64)
 * obx_layout_init() computes these offsets; obx_header_check() insists on exactly them.
 *
 * A slot is one epoch of everything a worker records: struct obx_slot_hdr, then one
 * table per present kind (enum obx_tab_kind), in kind order, each starting 64-byte
 * aligned at tab_off[kind] from the slot start:
 *
 *   slot:  obx_slot_hdr | tab SRC | tab CELL | tab BITMAP | ... (absent kinds take 0 bytes)
 *
 * Table geometry (capacity, rec_size, offset) is fixed per exchange: the header holds it
 * (tab_capacity[], tab_rec_size[], tab_off[]) and every slot header repeats it in
 * tabs[] (plus n_used, written at publish).  capacity 0 means the kind is absent.
 *
 *  - Hash kinds (every kind but BITMAP): power-of-two capacity, open addressing with
 *    linear probing on a hash of the record's key.  Each record type has a count field
 *    (packets, syns, ...) that is non-zero in every record in use; an unused record is
 *    all zero bytes (the control plane zeroes whole records when it frees a slot), so
 *    "count == 0" is the probe's empty test and "any non-zero byte" is the drain's.
 *    The dataplane publishes what it used (v4): right after a hash table's records
 *    (obx_tab_bytes()) comes its used-index list, uint32_t used[capacity]: the first
 *    n_used entries are the indices of the records in use, in the order the worker
 *    made them.  The control plane copies and clears exactly those records, so its
 *    drain costs what the epoch used, never a walk over the whole table.
 *  - BITMAP: a plain pool of rec_size-byte entries handed out in order 0, 1, ...;
 *    n_used entries are in use.  Other kinds refer to an entry by its index, valid in
 *    the same slot only (a swap starts a new pool, see epoch.h).
 *
 * Slot handshake (docs/exchange.md):
 *   FREE --worker takes it--> FILLING --worker publishes (release store)--> READY
 *   READY --control plane drains it, makes it durable, clears it (release)--> FREE
 * Only the owning worker writes a FILLING slot; only the control plane writes a READY
 * one.  Each side reads the state word with an acquire load before touching the body.
 *
 * A worker publishes at every epoch boundary (packet time) when its other slot is FREE,
 * and early ("forced") when any of its tables passes OBX_SRC_MAX_LOAD (hash kinds) or 3/4
 * of the pool (BITMAP).  A forced swap publishes all tables together.  If the other slot
 * is still READY it keeps filling; an update that finds no room is counted in
 * lost_updates.  Counter deltas never get lost: they accumulate in the worker and are
 * copied into whichever slot is published next.
 *
 * Sequence numbers: slot_hdr.seq is per worker, strictly increasing from 1 within one
 * boot.  (boot_id, worker, seq) identifies an epoch uniquely; the control plane's
 * journal deduplicates on it.
 *
 * Both sides include this header; it must stay free of DPDK and control-plane types.
 */
#ifndef OBSCURA_EXCHANGE_H
#define OBSCURA_EXCHANGE_H

#include <stdint.h>
#include <stddef.h>
#include <stdatomic.h>

#include "cmdbox.h"
#include <string.h>

#define OBX_MAGIC        0x3158434f53424fULL   /* "OBSOCX1" little-endian (kept: the version says v3) */
#define OBX_VERSION      4u   /* 4: every hash table carries its used-index list; 3: 64-byte
                                * SRC records with an inline event */
#define OBX_HEADER_SIZE  4096u
#define OBX_MAX_WORKERS  64u
#define OBX_MAX_PORTS    16u
#define OBX_SLOTS        2u
#define OBX_NAME_LEN     32u
/* early swap once a hash table is this full (per mille) */
#define OBX_SRC_MAX_LOAD 750u
#define OBX_TAB_MAX_LOAD OBX_SRC_MAX_LOAD

enum obx_dp_state {
	OBX_DP_STARTING = 0,
	OBX_DP_RUNNING  = 1,
	OBX_DP_FINISHED = 2, /* replay input exhausted or signal: last epochs are READY */
	OBX_DP_EXITED   = 3, /* dataplane process gone after FINISHED */
};

enum obx_slot_state {
	OBX_SLOT_FREE    = 0,
	OBX_SLOT_FILLING = 1,
	OBX_SLOT_READY   = 2,
};

/* Why a packet was dropped before analysis.  Order is ABI: append only. */
enum obx_drop {
	OBX_DROP_TRUNC_L2 = 0,   /* shorter than an Ethernet header (or its VLAN tags) */
	OBX_DROP_NOT_IPV4,       /* ethertype not IPv4 (ARP, IPv6, LLDP, ...) */
	OBX_DROP_VLAN_DEPTH,     /* more than two VLAN tags */
	OBX_DROP_TRUNC_IP,       /* frame ends inside the IPv4 header */
	OBX_DROP_BAD_VERSION,    /* IPv4 ethertype but version != 4 */
	OBX_DROP_BAD_IHL,        /* IHL < 5 */
	OBX_DROP_BAD_TOTLEN,     /* total length < IHL*4 or > bytes present */
	OBX_DROP_FRAGMENT,       /* malformed fragment: offset*8 + length past 65535, or a first
	                          * fragment too short for its L4 header (well-formed fragments
	                          * are accepted and counted in obx_counters.fragments) */
	OBX_DROP_TRUNC_L4,       /* TCP/UDP/ICMP header not complete */
	OBX_DROP_BAD_L4,         /* TCP data offset < 5 or past the datagram; UDP length bad */
	OBX_DROP_NOT_TELESCOPE,  /* destination outside every telescope prefix */
	OBX_DROP_N
};

#define OBX_DROP_NAMES { "trunc_l2", "not_ipv4", "vlan_depth", "trunc_ip", "bad_version", \
	"bad_ihl", "bad_totlen", "fragment", "trunc_l4", "bad_l4", "not_telescope" }

enum obx_proto_idx {
	OBX_P_TCP = 0, OBX_P_UDP, OBX_P_ICMP, OBX_P_OTHER, OBX_P_N
};

/*
 * Table kinds of a slot.  The number is ABI (slot and header arrays, journal records):
 * never renumber; add kinds in the free numbers below OBX_TAB_MAX.  Record types: SRC is
 * struct obx_src_rec below; the others are in exchange_recs.h (beside this header), which
 * _Static_asserts their size against OBX_REC_SIZE_<KIND>.
 */
enum obx_tab_kind {
	OBX_TAB_SRC        = 0,  /* per (source, hour): struct obx_src_rec; always present */
	OBX_TAB_CELL       = 1,  /* coverage cells (SPEC A), hash */
	OBX_TAB_BITMAP     = 2,  /* bitmap pool for CELL (SPEC A), plain array */
	OBX_TAB_RESIP_PORT = 3,  /* RESIP per port/day counters (SPEC B), hash */
	OBX_TAB_EVENT      = 4,  /* event types / payload rule hits (SPEC C), hash */
	OBX_TAB_DOS        = 6,  /* DoS backscatter per (victim, minute) (docs/dos.md), hash */
	/* --- responder (issue 13) --- */
	OBX_TAB_RESP       = 5,  /* completed responder handshakes: struct obx_resp_rec, hash */
	/* --- fingerprint signatures (issue 14) --- */
	OBX_TAB_FPSIG      = 7,  /* JA4T-style SYN signatures: struct obx_fpsig_rec, hash */
	OBX_TAB_MAX        = 8,  /* array size */
};

#define OBX_TAB_NAMES { "src", "cell", "bitmap", "resip_port", "event", "resp", "dos", \
	"fpsig" }

/* Every kind is an open-addressing hash table except the BITMAP pool. */
static inline int obx_tab_is_hash(unsigned kind)
{
	return kind != OBX_TAB_BITMAP;
}

/* Bytes of table kind in a slot: its records, and for a hash kind its used-index list
 * right after them (one uint32_t a record). */
static inline uint64_t obx_tab_bytes(unsigned kind, uint32_t cap, uint32_t rec_size)
{
	return (uint64_t)cap * rec_size + (obx_tab_is_hash(kind) ? (uint64_t)cap * 4u : 0);
}

/* Record sizes, bytes (a multiple of 8, >= 16); the records are in exchange_recs.h (SRC:
 * below).  Change a size here, one line, with its record. */
#define OBX_REC_SIZE_SRC        64u
#define OBX_REC_SIZE_CELL       64u
#define OBX_REC_SIZE_BITMAP     512u   /* 4096 bits */
#define OBX_REC_SIZE_RESIP_PORT 32u
#define OBX_REC_SIZE_EVENT      40u   /* struct obx_event_rec (exchange_recs.h) */
#define OBX_REC_SIZE_DOS        64u   /* struct obx_dos_rec (exchange_recs.h), kind 6 */
#define OBX_REC_SIZE_RESP       128u  /* responder (issue 13): struct obx_resp_rec (exchange_recs.h) */
#define OBX_REC_SIZE_FPSIG      120u  /* fingerprint signatures (issue 14): struct obx_fpsig_rec, kind 7 */
#define OBX_REC_SIZES { OBX_REC_SIZE_SRC, OBX_REC_SIZE_CELL, OBX_REC_SIZE_BITMAP, \
	OBX_REC_SIZE_RESIP_PORT, OBX_REC_SIZE_EVENT, OBX_REC_SIZE_RESP, OBX_REC_SIZE_DOS, \
	OBX_REC_SIZE_FPSIG }
#define OBX_REC_SIZE_MIN        16u
#define OBX_REC_SIZE_MAX        65536u

/* Counters a worker keeps.  In a slot they are deltas for that epoch; in
 * obx_worker_live they are cumulative since this boot (for live display only:
 * the control plane's totals come from drained slot deltas, which are exact).
 * All uint64_t, append only (the journal and snapshots store them as word arrays and
 * read older/newer layouts by the words both know): new counters take reserved words. */
struct obx_counters {
	uint64_t rx_packets;          /* every frame handed to the worker */
	uint64_t rx_bytes;            /* wire bytes of those frames */
	uint64_t tel_packets;         /* accepted telescope packets */
	uint64_t tel_bytes;
	uint64_t proto_packets[OBX_P_N];
	uint64_t drops[OBX_DROP_N];
	uint64_t lost_updates;        /* table updates (any kind) that found no room */
	uint64_t time_backwards;      /* packets whose time was before the previous packet's */
	uint64_t forced_swaps;        /* epochs published early because a table filled */
	/* --- v2: the analyses' stages count here (SPEC.md) --- */
	uint64_t excluded_packets;    /* telescope packets from an excluded source (SPEC C) */
	uint64_t resip_packets;       /* RESIP traffic packets (SPEC B1) */
	uint64_t scanner_packets;     /* packets from a scanner-table source */
	uint64_t cov_syns;            /* SYN-no-ACK packets fed to the coverage cells (SPEC A) */
	uint64_t payload_packets;     /* packets with an L4 payload offered to the rules */
	uint64_t rule_matches;        /* payload rule matches (SPEC C event types) */
	/* reserved[0..1]: fragments / backscatter (OBX_CTR_FRAGMENTS, OBX_CTR_BACKSCATTER);
	 * reserved[2]: fingerprint; reserved[3..7]: the responder (issue 13), named by the
	 * OBX_CTR_RESP_* indices below, continued in the responder block after the array */
	uint64_t reserved[8];
	/* --- responder (issue 13): appended block (append only, as every counter) --- */
	uint64_t resp_sessions;       /* completed handshakes (a RESP record's count) */
	uint64_t resp_payloads;       /* first data segments kept (payload_bytes > 0) */
	uint64_t resp_rsts;           /* RSTs transmitted (closing a completed handshake) */
	uint64_t resp_arps;           /* ARP replies transmitted (requests for an address of H) */
};

/* --- fragments / DoS backscatter: obx_counters.reserved[0..1] --- */
#define OBX_CTR_FRAGMENTS   0   /* reserved[0]: accepted telescope packets that are IP
                                 * fragments, first or later (parse.h enum obs_frag) */
#define OBX_CTR_BACKSCATTER 1   /* reserved[1]: accepted packets classed DoS backscatter
                                 * (docs/dos.md) */

/* responder (issue 13): its words of obx_counters.reserved[] */
#define OBX_CTR_RESP_SYNACKS       3   /* SYN-ACKs transmitted */
#define OBX_CTR_RESP_TX_REFUSED    4   /* replies the TX ring refused (ring full, no mbuf) */
#define OBX_CTR_RESP_CAPPED        5   /* replies not sent: the worker's max_pps bucket empty */
#define OBX_CTR_RESP_COOKIE_OK     6   /* ACK / data segments whose ack-1 validated */
#define OBX_CTR_RESP_COOKIE_BAD    7   /* ACK / data segments to H whose ack-1 did not */

/* --- fingerprint (issue 14, docs/fingerprints.md): reserved[2] --- */
#define OBX_CNT_FP_SYNS 2u   /* reserved[OBX_CNT_FP_SYNS]: SYNs a fingerprint labelled */


struct obx_port_stats {
	char     name[OBX_NAME_LEN];
	uint64_t ipackets, ibytes;
	uint64_t imissed;             /* dropped by the NIC: no descriptor */
	uint64_t ierrors;
	uint64_t rx_nombuf;           /* no mbuf in the pool */
	uint64_t reserved[3];
};

struct obx_worker_live {
	_Atomic uint64_t heartbeat_ns;  /* wall clock of the last loop iteration */
	uint64_t last_pkt_ns;           /* packet time of the last packet */
	uint64_t seq_published;         /* last epoch seq published */
	struct obx_counters total;      /* cumulative since boot */
	uint8_t  pad[64];
} __attribute__((aligned(64)));

/*
 * One record per (source, hour): 64 bytes, one cache line (tables start 64-byte
 * aligned).  packets == 0 means empty.
 * Why the hour in the key: in replay an epoch can grow to span days (the control plane
 * is slower than the file); with per-hour records no gap >= 24 h hides inside one
 * record, so the lifetime analysis (event groups split at 24 h gaps, SPEC C4) and the
 * per-day RESIP figures (SPEC B2) stay exact whatever the epoch length.
 *
 * The inline event (ev_mode == OBX_SRC_EV_INLINE): every packet of the record was
 * exactly one event of type ev_type at sensor ev_sensor (category ev_category), so that
 * event's EVENT record (exchange_recs.h) would be (addr, hour, ev_sensor, ev_type) with count =
 * packets, first/last = first_ns/last_ns; the consumer reads it from here and adds it
 * to whatever the slot's EVENT table holds for that key (normally nothing; one record
 * when a packet's source update and its event straddled a forced swap).  Most telescope sources send one kind of packet an hour,
 * so the worker's event stage costs no second random record for them.  The first packet
 * that breaks the rule (another type or sensor, an excluded packet, a payload packet)
 * makes the worker write the inline event into the EVENT table as it stands ("spill")
 * and set ev_mode to OBX_SRC_EV_NONE: from then on the record's events are all in the
 * EVENT table, as they are for a record that starts with ev_mode NONE.
 */
struct obx_src_rec {
	uint32_t addr;          /* IPv4 source, host byte order */
	uint32_t hour;          /* packet time / 3600 s, UTC (OBX_HOUR_NS) */
	uint64_t first_ns;      /* packet time, ns since the Unix epoch, UTC */
	uint64_t last_ns;
	uint64_t packets;
	uint64_t sensor_mask;   /* bit i: sensor i (config order) saw this source */
	uint32_t flags;         /* OBX_SRC_F_*, ORed over the packets */
	uint32_t resip_packets; /* of packets, how many were RESIP traffic (SPEC B1) */
	uint32_t ev_type;       /* the inline event (above), when ev_mode is INLINE */
	uint8_t  ev_sensor;
	uint8_t  ev_category;
	uint8_t  ev_mode;       /* OBX_SRC_EV_* */
	uint8_t  wk;            /* the worker's own cache (epoch.h OBS_SRC_WK_*): consumers
	                         * ignore it */
	/* --- fingerprint (issue 14, docs/fingerprints.md): the former reserved1 --- */
	uint8_t  tool;          /* label id of the record's first labelled SYN; 0 = none */
	uint8_t  tool_rsv;
	uint16_t tool_other;    /* labelled SYNs with a label other than tool (saturating) */
	uint32_t tool_syns;     /* SYNs labelled tool */
};

#define OBX_SRC_EV_NONE     0u     /* the record's events (if any) are in the EVENT table */
#define OBX_SRC_EV_INLINE   1u     /* one event type, inline (above) */

#define OBX_HOUR_NS         3600000000000ull

/* The contract for every hour-keyed record (SRC, EVENT): first <= last, both inside the
 * record's UTC hour.  A consumer refuses (and counts) a record that breaks it. */
static inline int obx_hour_rec_ok(uint64_t first_ns, uint64_t last_ns, uint32_t hour)
{
	return first_ns <= last_ns && first_ns / OBX_HOUR_NS == hour && last_ns / OBX_HOUR_NS == hour;
}
#define OBX_SRC_F_SCANNER   0x1u   /* source is in the scanner table */
#define OBX_SRC_F_RESIP     0x2u   /* >= 1 packet was RESIP traffic (SPEC B1) */
#define OBX_SRC_F_EXCLUDED  0x4u   /* source is in an exclusion list (SPEC C) */
/* fragments: >= 1 packet of the record was an IP fragment (parse.h) */
#define OBX_SRC_F_FRAGMENT  0x8u
#define OBX_SRC_F_NAMES { "scanner", "resip", "excluded", "fragment" }

/* One table of a slot.  Geometry (kind, rec_size, capacity, off) is written once when
 * the exchange is created and equals the header's; n_used is written at publish. */
struct obx_tab {
	uint32_t kind;          /* enum obx_tab_kind (= its index in tabs[]) */
	uint32_t rec_size;      /* bytes per record */
	uint32_t capacity;      /* records; 0 = table absent */
	uint32_t n_used;        /* records in use (hash: non-empty; BITMAP: handed out) */
	uint64_t off;           /* from the slot start, 64-byte aligned */
};

struct obx_slot_hdr {
	_Atomic uint32_t state;       /* enum obx_slot_state */
	uint32_t worker;
	uint64_t seq;                 /* per-worker epoch sequence, from 1 */
	uint64_t t_first_ns;          /* packet time of the first/last packet in it */
	uint64_t t_last_ns;
	uint32_t flags;               /* OBX_SLOT_F_* */
	uint32_t reserved0;
	uint64_t published_wall_ns;   /* wall clock when it went READY (drain lag) */
	struct obx_counters delta;    /* counters for this epoch */
	struct obx_tab tabs[OBX_TAB_MAX];
	uint8_t  pad[64];
} __attribute__((aligned(64)));

#define OBX_SLOT_F_FORCED 0x1u   /* published early: a table was full */
#define OBX_SLOT_F_FINAL  0x2u   /* last epoch of this boot (end of replay, signal) */
#define OBX_SLOT_F_RESP   0x4u   /* responder (issue 13): the worker answered for H during
                                  * this epoch (prefixes set, live ports, not --replay) */

/*
 * The payload rules the dataplane scans with (SPEC.md C), as its main lcore last built
 * them: written at start and at every rules reload (`tables reload rules`, SIGHUP), read
 * by the control plane for `rules status`, so the control plane needs no Hyperscan.
 * Counts are the dataplane's (parse plus compile: a rule Hyperscan refuses is rejected,
 * reason pcre).  A refused reload keeps the database in use and its counts; error and
 * refused_wall_ns say why and when, until the next successful build clears them.
 *
 * A seqlock (the writer is one thread, the main lcore): obx_rules_status_publish() makes
 * seq odd, writes the body, makes seq even (release); obx_rules_status_read() copies the
 * body between two equal even loads of seq.  seq == 0: nothing reported yet (dataplane
 * starting).  Added in the header page's free tail: no existing field moved, so the
 * layout version is unchanged; a header from an older dataplane reads seq 0.
 */
#define OBX_RULES_REJ_MAX 16u     /* rejected[]: enum obs_rule_rej (rules_parse.h) fits */
#define OBX_RULES_ERR_LEN 256u

struct obx_rules_status {
	_Atomic uint64_t seq;         /* odd while being written; 0 = never written */
	uint64_t built_wall_ns;       /* wall clock when the database in use was built */
	uint64_t refused_wall_ns;     /* the latest reload was refused then; 0: it succeeded */
	uint64_t db_bytes;            /* Hyperscan database */
	uint64_t scratch_bytes;       /* its scratch prototype (one clone per worker) */
	uint32_t loaded;              /* 1: a database is in use (0 rules when none configured) */
	uint32_t n_files;
	uint32_t n_lines;
	uint32_t n_accepted;
	uint32_t n_rejected;
	uint32_t n_commented;         /* "#alert ..." lines */
	uint32_t n_patterns;          /* Hyperscan expressions */
	uint32_t reserved0;
	uint32_t rejected[OBX_RULES_REJ_MAX];  /* by reason */
	char     error[OBX_RULES_ERR_LEN];     /* why the latest reload was refused, else "" */
};

/* Selective capture (docs/exchange.md "Capture"): the request part is written by the
 * control plane before it posts OBX_CMD_CAPTURE_START; the rest by the dataplane. */
#define OBX_CAP_FILTER_LEN 256u

enum obx_cap_state {
	OBX_CAP_IDLE = 0,       /* none ran in this boot */
	OBX_CAP_RUNNING = 1,
	OBX_CAP_STOPPED = 2,    /* file closed: stop_why says why */
};

enum obx_cap_stop {
	OBX_CAP_STOP_NONE = 0,
	OBX_CAP_STOP_CTL,       /* capture stop */
	OBX_CAP_STOP_PACKETS,   /* max_packets written */
	OBX_CAP_STOP_BYTES,     /* max_bytes written */
	OBX_CAP_STOP_ERROR,     /* a write failed (full disk ...): error says which */
	OBX_CAP_STOP_EXIT,      /* the dataplane stopped (replay end, signal) */
	OBX_CAP_STOP_N
};
#define OBX_CAP_STOP_NAMES { "", "stopped", "max_packets", "max_bytes", "write_error", \
	"dataplane_exit" }

struct obx_capture {
	/* control plane -> dataplane, read when OBX_CMD_CAPTURE_START runs */
	char     req_filter[OBX_CAP_FILTER_LEN];  /* libpcap syntax; "" = every packet */
	uint64_t req_max_packets;     /* 0: no limit */
	uint64_t req_max_bytes;       /* bytes of packet data written; 0: no limit */
	uint32_t req_snaplen;         /* bytes kept per packet; 0: the whole frame */
	int32_t  req_sensor;          /* sensor index, -1: every packet */
	/* dataplane -> control plane (relaxed loads: counters, read for display) */
	_Atomic uint32_t state;       /* enum obx_cap_state */
	uint32_t stop_why;            /* enum obx_cap_stop, once STOPPED */
	uint64_t id;                  /* captures started in this boot (1, 2, ...) */
	uint64_t start_wall_ns, stop_wall_ns;
	_Atomic uint64_t matched;     /* packets the filter took */
	_Atomic uint64_t written;     /* packets in the file */
	_Atomic uint64_t dropped;     /* matched but not written: ring full, pool empty */
	_Atomic uint64_t bytes;       /* packet data written (captured lengths) */
	char     error[96];           /* the write error, if any */
};

/* --- responder (issue 13): the dataplane's responder as configured, written once at
 * start (header tail; an older dataplane leaves it zero = off) --- */
#define OBX_RESP_F_ON      0x1u   /* responder.prefixes non-empty: H is configured */
#define OBX_RESP_F_TX_OFF  0x2u   /* nothing is transmitted: a --replay run */
#define OBX_RESP_F_ARP     0x4u   /* ARP requests for H are answered */

struct obx_resp_status {
	uint32_t flags;               /* OBX_RESP_F_* */
	uint32_t n_prefixes;          /* prefixes of H */
	uint64_t n_addrs;             /* |H|: addresses in those prefixes (inside the telescope) */
	uint32_t payload_bytes;       /* responder.payload_bytes */
	uint32_t max_pps;             /* responder.max_pps, per worker */
	uint32_t prefix_addr[16];     /* the first 16 prefixes of H, host order */
	uint8_t  prefix_len[16];
};

/* --- table versions (issue 15, obscura_table_version) --- header tail ---
 * How many times the dataplane has put each read-mostly table in use since it started:
 * 1 after its start loaded the table, +1 for every reload it accepted; a refused reload
 * keeps the number (and the table); 0 = none in use (not configured, or an older
 * dataplane, which leaves the tail zero).  Written by the main lcore (release), read
 * (acquire) by the control plane.  Indexed by OBX_TVER_* (tables.c maps its table ids). */
#define OBX_TVER_SCANNER 0u
#define OBX_TVER_RESIP   1u
#define OBX_TVER_EXCLUDE 2u
#define OBX_TVER_RULES   3u
#define OBX_TVER_FP      4u   /* the fingerprint rules (docs/fingerprints.md) */
#define OBX_TVER_N       5u   /* the header page has room for these words only */

struct obx_table_versions {
	_Atomic uint64_t version[OBX_TVER_N];
};

struct obx_header {
	uint64_t magic;               /* OBX_MAGIC */
	uint32_t version;             /* OBX_VERSION */
	uint32_t header_size;         /* OBX_HEADER_SIZE */
	uint64_t total_size;          /* bytes of the whole mapping */
	uint64_t boot_id;             /* random, new at every dataplane start */
	uint64_t boot_wall_ns;        /* wall clock at dataplane start */
	_Atomic uint32_t dp_state;    /* enum obx_dp_state */
	uint32_t dp_pid;
	_Atomic uint64_t heartbeat_ns;/* main lcore wall clock, refreshed ~10 Hz */
	uint32_t n_workers;
	uint32_t n_ports;
	uint32_t n_sensors;
	uint32_t reserved0;
	uint64_t epoch_ns;            /* epoch length, packet time */
	uint64_t slot_size;           /* bytes per slot, multiple of 64 */
	uint64_t port_stats_off;      /* offsets from the start of the mapping */
	uint64_t worker_live_off;
	uint64_t slots_off;
	uint8_t  replay;              /* 1: --replay run */
	uint8_t  pad0[7];
	uint32_t tab_capacity[OBX_TAB_MAX];  /* records per slot; 0 = absent; pow2 for hash */
	uint32_t tab_rec_size[OBX_TAB_MAX];  /* bytes per record */
	uint64_t tab_off[OBX_TAB_MAX];       /* from the slot start (0 when absent) */
	char     sensor_names[64][OBX_NAME_LEN];
	/* SPEC.md A coverage cells (exchange_recs.h), filled at dataplane start */
	uint32_t cov_sample_size;     /* |S|: slots are 0..|S|-1; 0 = no coverage cells */
	uint8_t  cov_block_len;       /* L of the cells' blocks */
	uint8_t  cov_period_unit;     /* enum obs_period_unit (period.h) of the cells' periods */
	uint8_t  pad1[2];
	struct obx_cmd_box cmd;       /* control plane -> main lcore commands (cmdbox.h) */
	struct obx_rules_status rules;/* dataplane -> control plane: payload rules in use */
	struct obx_capture capture;   /* selective capture (header tail, docs/exchange.md) */
	struct obx_resp_status resp;  /* responder (issue 13): its configuration, header tail */
	struct obx_table_versions tables;  /* table versions (issue 15), header tail */
};

_Static_assert(sizeof(struct obx_header) <= OBX_HEADER_SIZE, "header fits its page");
_Static_assert(sizeof(struct obx_src_rec) == OBX_REC_SIZE_SRC, "source record is one cache line");
_Static_assert(sizeof(struct obx_counters) % 8 == 0, "counters are uint64 words");
_Static_assert(sizeof(struct obx_slot_hdr) % 64 == 0, "tables start 64-byte aligned");

/*
 * The slot geometry for these capacities and record sizes: off[k] (0 for absent kinds)
 * and the slot size (multiple of 64).  Inputs are not validated here
 * (obx_layout_init/obx_header_check do that).
 */
uint64_t obx_slot_layout(const uint32_t cap[OBX_TAB_MAX], const uint32_t rec_size[OBX_TAB_MAX],
                         uint64_t off[OBX_TAB_MAX]);
uint64_t obx_slot_size(const uint32_t cap[OBX_TAB_MAX], const uint32_t rec_size[OBX_TAB_MAX]);
uint64_t obx_total_size(uint32_t n_workers, uint32_t n_ports, const uint32_t cap[OBX_TAB_MAX],
                        const uint32_t rec_size[OBX_TAB_MAX]);

static inline struct obx_slot_hdr *obx_slot(struct obx_header *h, uint32_t w, uint32_t s)
{
	return (struct obx_slot_hdr *)((uint8_t *)h + h->slots_off +
		((uint64_t)w * OBX_SLOTS + s) * h->slot_size);
}

/* Record base of table kind in a slot, or NULL when absent.  Follows the slot's own
 * tabs[].off: use it only on an exchange obx_header_check() accepted (it checks every
 * slot's geometry), and prefer obx_slot_tab_h() in the control plane, which takes the
 * offset from the header (a buggy writer cannot move it). */
static inline void *obx_slot_tab(struct obx_slot_hdr *sh, unsigned kind)
{
	if (kind >= OBX_TAB_MAX || sh->tabs[kind].capacity == 0)
		return NULL;
	return (uint8_t *)sh + sh->tabs[kind].off;
}

static inline void *obx_slot_tab_h(const struct obx_header *h, struct obx_slot_hdr *sh,
                                   unsigned kind)
{
	if (kind >= OBX_TAB_MAX || h->tab_capacity[kind] == 0)
		return NULL;
	return (uint8_t *)sh + h->tab_off[kind];
}

/* A hash table's used-index list (exchange.h top: the first n_used entries are the
 * indices of the records in use), or NULL when the kind is absent or not a hash.  From
 * the checked header's geometry, as obx_slot_tab_h(). */
static inline uint32_t *obx_slot_used_h(const struct obx_header *h, struct obx_slot_hdr *sh,
                                        unsigned kind)
{
	if (kind >= OBX_TAB_MAX || h->tab_capacity[kind] == 0 || !obx_tab_is_hash(kind))
		return NULL;
	return (uint32_t *)((uint8_t *)sh + h->tab_off[kind] +
	                    (uint64_t)h->tab_capacity[kind] * h->tab_rec_size[kind]);
}

/* The source table of a slot (always present). */
static inline struct obx_src_rec *obx_slot_src(struct obx_slot_hdr *sh)
{
	return (struct obx_src_rec *)obx_slot_tab(sh, OBX_TAB_SRC);
}

static inline struct obx_port_stats *obx_port_stats(struct obx_header *h, uint32_t p)
{
	return (struct obx_port_stats *)((uint8_t *)h + h->port_stats_off) + p;
}

static inline struct obx_worker_live *obx_worker_live(struct obx_header *h, uint32_t w)
{
	return (struct obx_worker_live *)((uint8_t *)h + h->worker_live_off) + w;
}

/* Hash of a source address (murmur3 finalizer: cheap, full avalanche).  The control
 * plane's per-address tables and the replay worker spread use it. */
static inline uint32_t obx_src_hash(uint32_t a)
{
	a ^= a >> 16; a *= 0x85ebca6bu;
	a ^= a >> 13; a *= 0xc2b2ae35u;
	a ^= a >> 16;
	return a;
}

/*
 * Hash of a slot's source key (addr, hour): obx_src_hash(addr) + hour * 0x9e3779b1
 * (golden-ratio multiplier).  The records of one address in consecutive hours land far
 * apart (the offsets differ by an odd constant), so they do not lengthen one probe run.
 * Why additive, not hashed together: within one hour the slot order is a rotation of
 * obx_src_hash(addr) order, the order of the control plane's per-address tables, so a
 * drain that scans a slot and merges per address walks its table almost sequentially
 * (measured: a hashed-together key made the drain ~3x slower, cache misses).
 */
static inline uint32_t obx_src_key_hash(uint32_t addr, uint32_t hour)
{
	return obx_src_hash(addr) + hour * 0x9e3779b1u;
}

/* Is this record all zero bytes (unused)?  rec_size is a multiple of 8.  Read by
 * memcpy: the record has its own type, and a uint64_t view would break aliasing rules
 * (the compiler folds the loads into plain word reads). */
static inline int obx_rec_empty(const void *rec, uint32_t rec_size)
{
	const uint8_t *p = (const uint8_t *)rec;
	uint64_t acc = 0;

	for (uint32_t i = 0; i < rec_size; i += 8) {
		uint64_t q;

		memcpy(&q, p + i, sizeof(q));
		acc |= q;
	}
	return acc == 0;
}

/*
 * Fill the layout fields of a fresh header (magic, version, header_size, n_workers,
 * n_ports, tab_capacity/tab_rec_size/tab_off, slot_size, the three offsets and
 * total_size); every other field is zeroed.  The one layout computation both the
 * dataplane and the test tools use.  Returns 0, or -EINVAL when n_workers is not
 * 1..OBX_MAX_WORKERS, n_ports > OBX_MAX_PORTS, SRC is absent or its rec_size is not
 * sizeof(struct obx_src_rec), a hash kind's capacity is not 0 or a power of two, or a
 * present kind's rec_size is not a multiple of 8 in OBX_REC_SIZE_MIN..OBX_REC_SIZE_MAX.
 */
int obx_layout_init(struct obx_header *h, uint32_t n_workers, uint32_t n_ports,
                    const uint32_t cap[OBX_TAB_MAX], const uint32_t rec_size[OBX_TAB_MAX]);

/*
 * Write every slot header of a mapping whose header obx_layout_init() filled: state
 * FREE, worker index, and tabs[] geometry (n_used 0).  Records must already be zero
 * (a fresh file is).  The dataplane and the test tools call it once after mapping.
 */
void obx_slots_init(struct obx_header *h);

/*
 * The dataplane's main lcore (the only writer): publish *st (its seq ignored) as the
 * header's rules status.
 */
void obx_rules_status_publish(struct obx_header *h, const struct obx_rules_status *st);

/*
 * A consistent copy of the header's rules status into *out.  0; -ENODATA when nothing
 * was reported yet (seq 0); -EAGAIN when the writer kept it busy (a reload finishing:
 * ask again).  error[] is NUL-terminated in the copy whatever the mapping holds.
 */
int obx_rules_status_read(const struct obx_header *h, struct obx_rules_status *out);

/*
 * Validate a mapped header (and every slot header's table geometry) against the
 * mapping size.  Returns 0 or a negative errno with *why set to a static message.  Both
 * sides call it; the control plane must never trust offsets it has not checked.
 */
int obx_header_check(const struct obx_header *h, uint64_t map_size, const char **why);

/*
 * The exchange as a reader may trust it.  The mapping stays writable by the dataplane
 * (and by whoever else could write the file), so a reader never follows a number it
 * reads there twice: obx_geom_read() copies the header page ONCE, validates the copy
 * (every rule of obx_header_check()), recomputes the layout with obx_layout_init() from
 * the copied table parameters and keeps only that.  Every offset, capacity, record size
 * and worker count the reader uses afterwards comes from struct obx_geom, never from the
 * mapping: a header changed after the check changes nothing the reader does.
 */
struct obx_geom {
	uint64_t total_size;          /* = the mapping size */
	uint64_t slot_size;
	uint64_t port_stats_off, worker_live_off, slots_off;
	uint64_t tab_off[OBX_TAB_MAX];
	uint32_t tab_capacity[OBX_TAB_MAX];
	uint32_t tab_rec_size[OBX_TAB_MAX];
	uint32_t n_workers, n_ports, n_sensors;
	uint32_t dp_pid;              /* as written at the dataplane's start */
	uint64_t boot_id, boot_wall_ns, epoch_ns;
	uint32_t cov_sample_size;
	uint8_t  cov_block_len, cov_period_unit, replay, pad0;
};

/*
 * Copy and validate the header of a mapping of map_size bytes into *g (above).  0, or a
 * negative errno with *why set to a static message (obx_header_check()'s, or "the table
 * parameters do not make this layout").  It also checks every slot header's geometry
 * once, found by *g.
 */
int obx_geom_read(const void *map, uint64_t map_size, struct obx_geom *g, const char **why);

/* Slot s of worker w (w < g->n_workers, s < OBX_SLOTS), by the validated geometry. */
static inline struct obx_slot_hdr *obx_geom_slot(const struct obx_geom *g, void *map,
                                                 uint32_t w, uint32_t s)
{
	return (struct obx_slot_hdr *)((uint8_t *)map + g->slots_off +
		((uint64_t)w * OBX_SLOTS + s) * g->slot_size);
}

/* Record base of table kind in a slot, or NULL when absent (validated geometry). */
static inline uint8_t *obx_geom_tab(const struct obx_geom *g, struct obx_slot_hdr *sh,
                                    unsigned kind)
{
	if (kind >= OBX_TAB_MAX || g->tab_capacity[kind] == 0)
		return NULL;
	return (uint8_t *)sh + g->tab_off[kind];
}

/* A hash table's used-index list (capacity entries), or NULL (validated geometry). */
static inline uint32_t *obx_geom_used(const struct obx_geom *g, struct obx_slot_hdr *sh,
                                      unsigned kind)
{
	if (kind >= OBX_TAB_MAX || g->tab_capacity[kind] == 0 || !obx_tab_is_hash(kind))
		return NULL;
	return (uint32_t *)((uint8_t *)sh + g->tab_off[kind] +
	                    (uint64_t)g->tab_capacity[kind] * g->tab_rec_size[kind]);
}

static inline struct obx_port_stats *obx_geom_port_stats(const struct obx_geom *g, void *map,
                                                         uint32_t p)
{
	return (struct obx_port_stats *)((uint8_t *)map + g->port_stats_off) + p;
}

static inline struct obx_worker_live *obx_geom_worker_live(const struct obx_geom *g, void *map,
                                                           uint32_t w)
{
	return (struct obx_worker_live *)((uint8_t *)map + g->worker_live_off) + w;
}

/*
 * What an epoch's counters can physically hold.  A worker takes at most OBX_MAX_PPS
 * packets a second: 10^9, about 7 times a 100 Gb/s link of 64-byte frames (148.8 Mpps)
 * and far above what one worker core parses (tens of Mpps), so a real epoch never comes
 * near it.  An epoch lasted at most its packet-time span (t_last - t_first) and at most
 * the dataplane's uptime when it was published (published_wall_ns - boot_wall_ns); the
 * epoch length, at least 1 s, is added as slack.  A frame is at most OBX_MAX_FRAME
 * bytes (the largest pcap snapshot length), a packet makes at most
 * OBX_MAX_UPDATES_PER_PKT table updates or rule matches.
 */
#define OBX_NS_PER_S             1000000000ull
#define OBX_MAX_PPS              1000000000ull
#define OBX_MAX_FRAME            262144ull
#define OBX_MAX_UPDATES_PER_PKT  65536ull

/* The most packets (rx_packets, and packets in the epoch's source records) an epoch
 * with this time span can hold (above). */
uint64_t obx_epoch_max_packets(const struct obx_geom *g, uint64_t t_first_ns,
                               uint64_t t_last_ns, uint64_t published_wall_ns);

/* NULL when the counters are possible for an epoch of at most max_packets packets (every
 * packet counter <= max_packets, bytes <= max_packets x OBX_MAX_FRAME, updates and rule
 * matches <= max_packets x OBX_MAX_UPDATES_PER_PKT), else why not (a static message).
 * Physical bounds only, not the relations between one epoch's counters (a packet's
 * counters may straddle an epoch boundary). */
const char *obx_counters_implausible(const struct obx_counters *c, uint64_t max_packets);

#endif /* OBSCURA_EXCHANGE_H */
