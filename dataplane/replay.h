/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * replay.h — `obscura-dp --replay FILE...`: capture files in, as fast as the workers go.
 *
 * The main lcore is the reader here (the one exception to "the main lcore never touches
 * packets": there is no NIC, and reading is the main lcore's whole job).  It reads each
 * file through replay_in.h (pcap or pcapng, plain, gzip or zstd, told by magic; a
 * compressed file is decompressed on a thread of its own), builds mbufs from the pool,
 * stamps them with the record's time (ns) and wire length, and hands each to worker
 * obx_src_hash(source IPv4) % n_workers over a per-worker SP/SC ring — the software
 * equivalent of source-only RSS, so a source always lands on one worker.  A frame too
 * short to show a source (or not IPv4) goes to worker 0, whose parser counts it.
 * Backpressure, not loss: a full ring makes the reader wait.
 *
 * Waiting, both ways, blocks instead of spinning (the CPUs are shared with the control
 * plane, which the replay waits for in the end): a worker that finds its ring empty
 * polls it briefly, then sleeps on a futex until the reader has queued a quarter of the
 * ring (or reached the end, or is about to wait itself); a reader that finds a ring full
 * sleeps until the worker has emptied half of it.  Each side rings the other's bell
 * only when the other said it sleeps (one fence and one load per burst otherwise).
 * Sleeps are bounded (the reader still answers commands and beats the heartbeat; a
 * sleeping worker is offline for the tables' RCU), and what is waited for is only ring
 * space: packet times, epochs and what the workers record are exactly as without waits.
 *
 * Who calls what: main lcore: obs_replay_check() (before EAL), obs_replay_rings(),
 * obs_replay_run(); worker w: obs_replay_take() and obs_replay_idle() from its loop.
 */
#ifndef OBSCURA_REPLAY_H
#define OBSCURA_REPLAY_H

#include <stdbool.h>
#include <stdint.h>

struct rte_mbuf;
struct rte_mempool;
struct obs_worker;
struct obx_header;

/* Check every file opens as an Ethernet capture (before any worker starts; a pipe, which
 * can be read only once, just for being readable).  0 or -errno, logged with the file
 * and the reason. */
int obs_replay_check(char *const *files, unsigned n_files);

/* Create one ring per worker (w->ring) and its wait state.  0 or -errno. */
int obs_replay_rings(struct obs_worker *workers, uint32_t n_workers, uint32_t n_mbufs);

/* What one run did, for the log and the benchmark. */
struct obs_replay_stats {
	uint64_t frames;                /* dispatched to the workers */
	uint64_t room_waits;            /* reader slept on a full ring */
	uint64_t pool_waits;            /* reader slept on an empty pool */
	uint64_t wait_ns;               /* reader's time asleep, both kinds */
	uint64_t files_failed;          /* files that stopped on an error */
	uint64_t bad_time;              /* frames dropped: time < 0 or >= OBS_REPLAY_MAX_SEC */
};

/* The latest capture time replay accepts (year 2286, 10^10 s): the nanosecond clock of
 * uint64 holds up to 2554, and no capture is from after this. */
#define OBS_REPLAY_MAX_SEC 10000000000ll

/*
 * Read all files, dispatch, then set obs_replay_eof and wake the workers.  Stops early
 * when obs_stop is set.  A file that cannot be read to its end (bad record, corrupt or
 * truncated compression) is reported with the frames it gave, and the next file is read.
 * Refreshes h's heartbeat.  0, or -EIO when a file failed (what was read is still
 * dispatched and accounted).
 */
int obs_replay_run(char *const *files, unsigned n_files, struct rte_mempool *pool,
                   struct obs_worker *workers, uint32_t n_workers, struct obx_header *h,
                   struct obs_replay_stats *st);

/* Worker w: take up to n mbufs from its ring (and let a waiting reader go on). */
unsigned obs_replay_take(uint32_t w, struct rte_mbuf **pkts, unsigned n);

/*
 * Worker w found its ring empty: true when the replay is over for it (the reader
 * finished and the ring is empty); else it polled a little or slept (bounded) and the
 * caller tries again.
 */
bool obs_replay_idle(uint32_t w);

/* Worker w's sleeps so far (for its final log line). */
uint64_t obs_replay_worker_sleeps(uint32_t w);

/* Where the reader sends a frame: the worker for its source IPv4, 0 when it has none. */
uint32_t obs_replay_worker_of(const uint8_t *frame, uint32_t len, uint32_t n_workers);

#endif
