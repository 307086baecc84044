/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * replay.h — `obscura-dp --replay FILE...`: pcap files in, as fast as the workers go.
 *
 * The main lcore is the pcap reader here (the one exception to "the main lcore never
 * touches packets": there is no NIC, and reading is the main lcore's whole job).  It
 * builds mbufs from the pool, stamps them with the record's time (ns) and wire length,
 * and hands each to worker obx_src_hash(source IPv4) % n_workers over a per-worker
 * SP/SC ring — the software equivalent of source-only RSS, so a source always lands on
 * one worker.  A frame too short to show a source (or not IPv4) goes to worker 0, whose
 * parser counts it.  Backpressure, not loss: a full ring makes the reader wait.
 */
#ifndef OBSCURA_REPLAY_H
#define OBSCURA_REPLAY_H

#include <stdint.h>

struct rte_mempool;
struct obs_worker;
struct obx_header;

/* Check every file opens as an Ethernet pcap (before any worker starts).  0 or -errno,
 * logged. */
int obs_replay_check(char *const *files, unsigned n_files);

/* Create one ring per worker (w->ring).  0 or -errno. */
int obs_replay_rings(struct obs_worker *workers, uint32_t n_workers, uint32_t n_mbufs);

/*
 * Read all files, dispatch, then set obs_replay_eof.  Stops early when obs_stop is set.
 * *frames gets the number of frames dispatched.  Refreshes h's heartbeat.  0, or
 * -errno on a read error (what was read so far is still dispatched and accounted).
 */
int obs_replay_run(char *const *files, unsigned n_files, struct rte_mempool *pool,
                   struct obs_worker *workers, uint32_t n_workers, struct obx_header *h,
                   uint32_t yield_us, uint64_t *frames);

/* Where the reader sends a frame: the worker for its source IPv4, 0 when it has none. */
uint32_t obs_replay_worker_of(const uint8_t *frame, uint32_t len, uint32_t n_workers);

#endif
