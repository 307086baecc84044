/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * worker.h — the worker lcore: poll loop and the burst function.
 *
 * One struct obs_worker per worker lcore, cache aligned, written only by that lcore
 * once launched (the main lcore fills it before rte_eal_remote_launch and reads it
 * after rte_eal_wait_lcore).  obs_worker_burst() is a library function: the poll loop,
 * the replay loop and a benchmark on pre-built mbufs all call it.  The shared words a
 * worker touches: its two slot state words (epoch.h), its own obx_worker_live line
 * (heartbeat, written ~1 kHz), and the read-only stop/eof flags below.
 */
#ifndef OBSCURA_WORKER_H
#define OBSCURA_WORKER_H

#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <rte_common.h>

#include "coverage.h"
#include "epoch.h"
#include "port.h"
#include "responder.h"

#define OBS_BURST_MAX       64u
#define OBS_WORKER_MAX_RXQ  64u

struct rte_mbuf;
struct rte_ring;
struct obs_tel;

struct obs_rxq {
	uint16_t port_id;
	uint16_t queue;
	enum obs_ts_mode ts_mode;
	struct obs_resp_txq tx;         /* responder (issue 13): this worker's TX queue */
};

struct obs_worker {
	struct obs_epoch ep;            /* slot handshake and pending counters */
	const struct obs_tel *tel;      /* immutable telescope map */
	uint32_t id;
	uint32_t burst;                 /* 1..OBS_BURST_MAX */
	uint32_t n_rxq;
	uint32_t idle_sleep_us;         /* >0 when lcores share CPUs: yield when idle */
	struct obs_rxq rxq[OBS_WORKER_MAX_RXQ];
	struct rte_ring *ring;          /* replay: mbufs from the reader; else NULL */
	struct obx_worker_live *live;
	uint64_t hb_next_tsc;
	struct obs_cov cov;             /* coverage stage (SPEC.md A) */
	bool cov_on;                    /* the exchange has coverage cells */
	bool ev_on;                     /* the exchange has event records (SPEC.md C) */
	bool dos_on;                    /* the exchange has DoS records (docs/dos.md) */
	bool fpsig_on;                  /* the exchange has signature records (fpsig_dp.h) */
	bool resp_on;                   /* responder (issue 13): answering for H (live ports) */
	struct obs_resp resp;
} __rte_cache_aligned;

/* UTC clock from the TSC, set once by obs_clock_init() before any worker runs. */
struct obs_clock {
	uint64_t wall0_ns;
	uint64_t tsc0;
	uint64_t mult;      /* ns per cycle, 32.32 fixed point */
	uint64_t hz;
};
extern struct obs_clock obs_clock;
void obs_clock_init(void);
static inline uint64_t obs_clock_ns(uint64_t tsc)
{
	return obs_clock.wall0_ns +
		(uint64_t)(((unsigned __int128)(tsc - obs_clock.tsc0) * obs_clock.mult) >> 32);
}

/* Set by the signal handler (main.c); workers poll it.  obs_replay_eof: the replay
 * reader enqueued its last mbuf (release), workers drain their ring and finish. */
extern volatile sig_atomic_t obs_stop;
extern atomic_int obs_replay_eof;

/* Register the mbuf dynamic fields: the RX timestamp (shared with the PMDs) and the
 * wire length the replay reader stores (pcap len, when caplen is shorter).  Main lcore,
 * after EAL init, before any port setup.  0 or -errno. */
int obs_worker_dyn_init(void);
void obs_mbuf_set_replay_meta(struct rte_mbuf *m, uint64_t t_ns, uint32_t wire_len);

/* Burst flags */
#define OBS_BURST_F_WIRELEN 0x1u   /* mbufs carry the wire length in the dynfield */

/*
 * Process and free n mbufs: parse, telescope map, counters, source records, epoch
 * boundaries by packet time.  now_ns is the packet time of mbufs without a usable
 * timestamp.  Never fails: every frame is either counted accepted or counted dropped.
 */
void obs_worker_burst(struct obs_worker *w, struct rte_mbuf **pkts, uint16_t n,
                      uint64_t now_ns, enum obs_ts_mode ts_mode, uint32_t flags);

/* Prepare w (epoch bound to slot 0 of worker id).  0 or -errno. */
int obs_worker_init(struct obs_worker *w, uint32_t id, struct obx_header *h, uint64_t epoch_ns,
                    const struct obs_tel *tel, uint32_t burst);

/* lcore entry points (arg: struct obs_worker *).  Both publish the FINAL epoch before
 * returning. */
int obs_worker_poll_main(void *arg);
int obs_worker_replay_main(void *arg);

/*
 * Stage timing, for the benchmark only.  bench/meson.build compiles worker.c a second
 * time, with -DOBS_STAGE_TIMING, into bench/burst_bench_stages; obscura-dp and every
 * other program get OBS_STAGE_ON(s) == 1, and the same machine code as without it.
 * With it, the burst runs only the stages s < obs_stage_upto, in the pipeline's order
 * (each stage needs only those before it), and the benchmark times whole bursts with
 * 0, 1, 2 ... stages on: a stage costs what adding it to the ones before adds to the
 * real burst.  With FREE off the caller frees the mbufs.  One setting per process (the
 * benchmark's one worker), set between bursts.
 */
/*
 * -DOBS_NO_CAPTURE_CHECK (bench/burst_bench_nocap only, never obscura-dp): the burst
 * without the capture pointer's load and branch at all, the baseline against which
 * bench/run shows that a capture costs nothing while none runs.
 */
#ifdef OBS_STAGE_TIMING
enum obs_stage {
	OBS_STAGE_PARSE = 0, OBS_STAGE_TEL, OBS_STAGE_TIME, OBS_STAGE_EXCL, OBS_STAGE_SCAN,
	OBS_STAGE_FP, OBS_STAGE_RESIP, OBS_STAGE_SRC, OBS_STAGE_COV, OBS_STAGE_RESIP_PORT, OBS_STAGE_EVENTS,
	OBS_STAGE_FREE, OBS_STAGE_PAYLOAD, OBS_STAGE_N
};
extern unsigned obs_stage_upto;
#define OBS_STAGE_ON(s) (OBS_STAGE_##s < obs_stage_upto)
#else
#define OBS_STAGE_ON(s) 1
#endif

#endif
