/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * capture.h — selective pcapng capture (`obscuractl capture start|stop|status`,
 * `obscura-dp --capture FILE`): the packets a libpcap filter takes, copied off the
 * workers onto a ring and written to a pcapng file by a writer thread.
 *
 * Who does what:
 *   main lcore: obs_capture_start() compiles the filter (pcap_compile on a DLT_EN10MB
 *     dead handle, rte_bpf_convert, rte_bpf_load, the JIT when there is one), creates
 *     the file (rte_pcapng_fdopen: a section block and an interface block per port; in
 *     replay a null port stands for the capture files), the copy pool and the MP/SC ring,
 *     starts the writer and publishes the capture context as table OBS_TABLE_CAPTURE
 *     (tables.h, RCU).  obs_capture_stop() unpublishes it; the writer finishes only
 *     once the grace period is over (no worker can enqueue any more): it writes what
 *     is left, an interface statistics block (matched, dropped), and closes.
 *     obs_capture_poll() from the main loop: stops a capture that reached a limit or
 *     failed to write, reaps a finished writer.  obs_capture_fini() at exit: stops
 *     and waits.
 *   worker: obs_tables_get(OBS_TABLE_CAPTURE) once per burst — NULL (one predictable
 *     branch) when no capture runs — then obs_capture_burst() on the burst's frames.
 *     A match that finds the pool empty or the ring full is counted as a capture drop,
 *     never waited for.
 *   writer (a plain pthread, not an lcore): dequeues, rte_pcapng_write_packets(),
 *     publishes the counters into the exchange header (struct obx_capture).
 *
 * The packet's time (replay: the record's, live: the NIC's or the clock) and its wire
 * length are what the file says, so a replayed capture compares exactly with the input.
 */
#ifndef OBSCURA_CAPTURE_H
#define OBSCURA_CAPTURE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_common.h>

#include "exchange.h"

struct rte_mbuf;
struct rte_bpf;
struct rte_ring;
struct rte_mempool;

#define OBS_CAPTURE_RING   8192u     /* packets between the workers and the writer */
#define OBS_CAPTURE_POOL  12287u     /* copies in flight (ring, writer's batch, caches) */

struct obs_capture_wk {
	uint64_t matched, dropped;    /* this worker's; the writer sums them (relaxed) */
} __rte_cache_aligned;

struct obs_capture {
	struct rte_bpf *bpf;          /* NULL: every packet */
	uint64_t (*jit)(void *);      /* the JIT-compiled filter, NULL: interpreted */
	struct rte_ring *ring;        /* MP/SC: workers -> writer */
	struct rte_mempool *pool;     /* the copies */
	uint32_t snaplen;             /* UINT32_MAX: whole frames */
	int32_t sensor;               /* -1: every packet; else accepted packets of it */
	uint16_t port;                /* replay: the pcapng interface of every packet */
	bool per_port;                /* live: each packet's own port (mbuf->port) */
	struct obs_capture_wk wk[OBX_MAX_WORKERS];
};

/* Main lcore, once after the exchange exists (before the workers start). */
void obs_capture_init(struct obx_header *h, uint32_t n_workers, bool replay);

/* Main lcore: start a capture into path (absolute; created, must not exist) of the
 * packets filter takes ("" = all).  0, or -errno with msg saying why (a filter that
 * does not compile, an unwritable path, a capture already running, ...). */
int obs_capture_start(const char *path, const char *filter, uint64_t max_packets,
                      uint64_t max_bytes, uint32_t snaplen, int32_t sensor,
                      char *msg, size_t msglen);
/* Main lcore: stop the running capture (the file is closed shortly after, by the
 * writer).  0, or -ENOENT (none running). */
int obs_capture_stop(uint32_t why, char *msg, size_t msglen);
/* Main lcore, from its loop: limits reached, write errors, finished writers. */
void obs_capture_poll(void);
/* Main lcore, at exit (workers stopped): stop, wait for the file to be closed. */
void obs_capture_fini(void);

/* Worker: the burst's frames against the capture; t_ns/wire/take per frame (take 0:
 * the sensor test left it out). */
void obs_capture_burst(struct obs_capture *cap, uint32_t worker, struct rte_mbuf **pkts,
                       uint16_t n, const uint64_t *t_ns, const uint32_t *wire,
                       const uint8_t *take);

#endif
