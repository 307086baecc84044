/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * exchange.h — the one contract between obscura-dp and obscura-cp.
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
 *   slot[w][s]  for w < n_workers, s < 2      (page aligned start; slot_size bytes each,
 *                                              a multiple of 64)
 * obx_layout_init() computes these offsets; obx_header_check() insists on exactly them.
 *
 * A slot is  struct obx_slot_hdr  followed by  src_capacity  x struct obx_src_rec,
 * an open-addressing table (linear probing on obx_src_hash(addr)); a record with
 * packets == 0 is empty.
 *
 * Slot handshake (DESIGN.md "The exchange"):
 *   FREE --worker takes it--> FILLING --worker publishes (release store)--> READY
 *   READY --control plane drains it, makes it durable, clears it (release)--> FREE
 * Only the owning worker writes a FILLING slot; only the control plane writes a READY
 * one.  Each side reads the state word with an acquire load before touching the body.
 *
 * A worker publishes at every epoch boundary (packet time) when its other slot is FREE,
 * and early when its source table passes OBX_SRC_MAX_LOAD.  If the other slot is still
 * READY it keeps filling; an update that finds no room is counted in lost_updates.
 * Counter deltas never get lost: they accumulate in the worker and are copied into
 * whichever slot is published next.
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

#define OBX_MAGIC        0x3158434f53424fULL   /* "OBSOCX1" little-endian */
#define OBX_VERSION      1u
#define OBX_HEADER_SIZE  4096u
#define OBX_MAX_WORKERS  64u
#define OBX_MAX_PORTS    16u
#define OBX_SLOTS        2u
#define OBX_NAME_LEN     32u
/* early swap once the source table is this full (per mille) */
#define OBX_SRC_MAX_LOAD 750u

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
	OBX_DROP_FRAGMENT,       /* MF set or fragment offset != 0 */
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

/* Counters a worker keeps.  In a slot they are deltas for that epoch; in
 * obx_worker_live they are cumulative since this boot (for live display only:
 * the control plane's totals come from drained slot deltas, which are exact). */
struct obx_counters {
	uint64_t rx_packets;          /* every frame handed to the worker */
	uint64_t rx_bytes;            /* wire bytes of those frames */
	uint64_t tel_packets;         /* accepted telescope packets */
	uint64_t tel_bytes;
	uint64_t proto_packets[OBX_P_N];
	uint64_t drops[OBX_DROP_N];
	uint64_t lost_updates;        /* source updates that found both slots full */
	uint64_t time_backwards;      /* packets whose time was before the previous packet's */
	uint64_t forced_swaps;        /* epochs published early because a table filled */
	uint64_t reserved[5];
};

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

/* One per-source record: 40 bytes.  packets == 0 means empty. */
struct obx_src_rec {
	uint32_t addr;         /* IPv4 source, host byte order */
	uint32_t reserved;
	uint64_t first_ns;     /* packet time, ns since the Unix epoch, UTC */
	uint64_t last_ns;
	uint64_t packets;
	uint64_t sensor_mask;  /* bit i: sensor i (config order) saw this source */
};

struct obx_slot_hdr {
	_Atomic uint32_t state;       /* enum obx_slot_state */
	uint32_t worker;
	uint64_t seq;                 /* per-worker epoch sequence, from 1 */
	uint64_t t_first_ns;          /* packet time of the first/last packet in it */
	uint64_t t_last_ns;
	uint32_t src_capacity;        /* power of two */
	uint32_t n_src;               /* records in use */
	uint32_t flags;               /* OBX_SLOT_F_* */
	uint32_t reserved0;
	uint64_t published_wall_ns;   /* wall clock when it went READY (drain lag) */
	struct obx_counters delta;    /* counters for this epoch */
	uint8_t  pad[64];
} __attribute__((aligned(64)));

#define OBX_SLOT_F_FORCED 0x1u   /* published early: a table was full */
#define OBX_SLOT_F_FINAL  0x2u   /* last epoch of this boot (end of replay, signal) */

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
	uint32_t src_capacity;        /* per slot, power of two */
	uint32_t n_sensors;
	uint64_t epoch_ns;            /* epoch length, packet time */
	uint64_t slot_size;           /* bytes per slot, multiple of 64 */
	uint64_t port_stats_off;      /* offsets from the start of the mapping */
	uint64_t worker_live_off;
	uint64_t slots_off;
	uint8_t  replay;              /* 1: --replay run */
	uint8_t  pad0[7];
	char     sensor_names[64][OBX_NAME_LEN];
};

_Static_assert(sizeof(struct obx_header) <= OBX_HEADER_SIZE, "header fits its page");
_Static_assert(sizeof(struct obx_src_rec) == 40, "source record is 40 bytes");

static inline uint64_t obx_slot_size(uint32_t src_capacity)
{
	uint64_t s = sizeof(struct obx_slot_hdr) + (uint64_t)src_capacity * sizeof(struct obx_src_rec);
	return (s + 63) & ~(uint64_t)63;
}

static inline uint64_t obx_total_size(uint32_t n_workers, uint32_t n_ports, uint32_t src_capacity)
{
	uint64_t off = OBX_HEADER_SIZE;
	off += (uint64_t)OBX_MAX_PORTS * sizeof(struct obx_port_stats);
	off = (off + 63) & ~(uint64_t)63;
	off += (uint64_t)n_workers * sizeof(struct obx_worker_live);
	off = (off + 4095) & ~(uint64_t)4095;
	off += (uint64_t)n_workers * OBX_SLOTS * obx_slot_size(src_capacity);
	(void)n_ports;
	return off;
}

static inline struct obx_slot_hdr *obx_slot(struct obx_header *h, uint32_t w, uint32_t s)
{
	return (struct obx_slot_hdr *)((uint8_t *)h + h->slots_off +
		((uint64_t)w * OBX_SLOTS + s) * h->slot_size);
}

static inline struct obx_src_rec *obx_slot_src(struct obx_slot_hdr *sh)
{
	return (struct obx_src_rec *)(sh + 1);
}

static inline struct obx_port_stats *obx_port_stats(struct obx_header *h, uint32_t p)
{
	return (struct obx_port_stats *)((uint8_t *)h + h->port_stats_off) + p;
}

static inline struct obx_worker_live *obx_worker_live(struct obx_header *h, uint32_t w)
{
	return (struct obx_worker_live *)((uint8_t *)h + h->worker_live_off) + w;
}

/* Hash of a source address for the slot tables (murmur3 finalizer: cheap, full avalanche). */
static inline uint32_t obx_src_hash(uint32_t a)
{
	a ^= a >> 16; a *= 0x85ebca6bu;
	a ^= a >> 13; a *= 0xc2b2ae35u;
	a ^= a >> 16;
	return a;
}

/*
 * Fill the layout fields of a fresh header (magic, version, header_size, n_workers,
 * n_ports, src_capacity, slot_size, the three offsets and total_size) exactly as the
 * layout above and obx_total_size() describe; every other field is zeroed.  The one
 * layout computation both the dataplane and the test tools use.  Returns 0, or -EINVAL
 * when n_workers is not 1..OBX_MAX_WORKERS, n_ports > OBX_MAX_PORTS or src_capacity is
 * not a power of two.
 */
int obx_layout_init(struct obx_header *h, uint32_t n_workers, uint32_t n_ports,
                    uint32_t src_capacity);

/*
 * Validate a mapped header against the mapping size.  Returns 0 or a negative errno
 * with *why set to a static message.  Both sides call it; the control plane must never
 * trust offsets it has not checked.
 */
int obx_header_check(const struct obx_header *h, uint64_t map_size, const char **why);

#endif /* OBSCURA_EXCHANGE_H */
