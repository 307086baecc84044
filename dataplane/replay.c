/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * replay.c — the reader of --replay and its rings (replay.h).  The reader runs on the
 * main lcore; the workers see nothing of it but obs_replay_take(), obs_replay_idle() and
 * obs_replay_eof.
 *
 * The waits are eventcounts on futexes (futex(2), process-private: reader and workers are
 * threads of one process).  The sleeper reads the bell's sequence, says it sleeps
 * (waiting = 1), fences, and checks its condition once more before FUTEX_WAIT on that
 * sequence; the other side makes the condition true, fences, and rings only when it
 * sees waiting == 1 (bumping the sequence, so a sleep that had not begun returns at
 * once).  With both fences seq_cst one of the two always sees the other: no lost wakeup.
 */
#include <errno.h>
#include <linux/futex.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_pause.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>

#include "cmd.h"
#include "log.h"
#include "replay.h"
#include "replay_in.h"
#include "tables.h"
#include "worker.h"

#define OBS_REPLAY_BATCH 32u
#define OBS_REPLAY_RING_MAX 4096u
/* a worker polls its empty ring this long before it sleeps (about a context switch) */
#define OBS_REPLAY_SPIN_NS 5000u
/* bounded sleeps: the worker's (heartbeat, end check), the reader's (commands) */
#define OBS_REPLAY_WORKER_NAP_NS (10u * 1000u * 1000u)
#define OBS_REPLAY_READER_NAP_NS (10u * 1000u * 1000u)
#define OBS_REPLAY_POOL_NAP_MAX_NS (1000u * 1000u)

struct obs_bell {
	atomic_uint seq;                /* the futex word */
	atomic_uint waiting;            /* 1: the owner sleeps (or is about to) on seq */
};

/* One worker's ring and the two bells around it, each on its own line: "in" is written
 * by the worker (it sleeps on it) and rung by the reader, "room" the other way round. */
struct obs_rq {
	struct rte_ring *ring;
	uint32_t size;
	uint32_t wake_at;               /* reader rings "in" once this many are queued */
	uint32_t room_at;               /* worker rings "room" once this many are free */
	struct obs_bell in __rte_cache_aligned;
	uint64_t sleeps;                /* worker's, for its last log line */
	struct obs_bell room __rte_cache_aligned;
} __rte_cache_aligned;

static struct obs_rq obs_rq[OBX_MAX_WORKERS];
static uint32_t obs_rq_n;

static void obs_futex_wait(atomic_uint *w, unsigned val, uint64_t ns)
{
	struct timespec ts = { .tv_sec = (time_t)(ns / 1000000000u),
	                       .tv_nsec = (long)(ns % 1000000000u) };

	/* EAGAIN (the bell rang first), EINTR (a signal), ETIMEDOUT: the caller re-checks */
	syscall(SYS_futex, w, FUTEX_WAIT_PRIVATE, val, &ts, NULL, 0);
}

static inline void obs_bell_ring(struct obs_bell *b)
{
	atomic_thread_fence(memory_order_seq_cst);
	if (atomic_load_explicit(&b->waiting, memory_order_relaxed) &&
	    atomic_exchange_explicit(&b->waiting, 0, memory_order_relaxed)) {
		atomic_fetch_add_explicit(&b->seq, 1, memory_order_release);
		syscall(SYS_futex, &b->seq, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
	}
}

/* The sleeper's half: first call obs_bell_prepare(), check the condition, then either
 * obs_bell_cancel() or obs_bell_sleep() with the sequence prepare returned. */
static inline unsigned obs_bell_prepare(struct obs_bell *b)
{
	unsigned seq = atomic_load_explicit(&b->seq, memory_order_acquire);

	atomic_store_explicit(&b->waiting, 1, memory_order_relaxed);
	atomic_thread_fence(memory_order_seq_cst);
	return seq;
}

static inline void obs_bell_cancel(struct obs_bell *b)
{
	atomic_store_explicit(&b->waiting, 0, memory_order_relaxed);
}

static void obs_bell_sleep(struct obs_bell *b, unsigned seq, uint64_t ns)
{
	obs_futex_wait(&b->seq, seq, ns);
	atomic_store_explicit(&b->waiting, 0, memory_order_relaxed);
}

uint32_t obs_replay_worker_of(const uint8_t *frame, uint32_t len, uint32_t n_workers)
{
	uint32_t off = 12, src, depth;
	uint16_t et;

	if (n_workers <= 1 || len < 14)
		return 0;
	et = (uint16_t)(frame[12] << 8 | frame[13]);
	/* the same two tag types the parser accepts (802.1Q, 802.1ad) */
	for (depth = 0; (et == 0x8100 || et == 0x88a8) && depth < 2; depth++) {
		off += 4;
		if (len < off + 2)
			return 0;
		et = (uint16_t)(frame[off] << 8 | frame[off + 1]);
	}
	off += 2;
	if (et != 0x0800 || len < off + 16)
		return 0;
	src = (uint32_t)frame[off + 12] << 24 | (uint32_t)frame[off + 13] << 16 |
	      (uint32_t)frame[off + 14] << 8 | frame[off + 15];
	return obx_src_hash(src) % n_workers;
}

int obs_replay_check(char *const *files, unsigned n_files)
{
	char err[512];
	unsigned i;

	for (i = 0; i < n_files; i++) {
		struct obs_rin *in;
		struct stat st;
		pcap_t *p;

		if (stat(files[i], &st) == 0 && (S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode))) {
			/* a pipe can be read once: it is checked when it is replayed */
			if (access(files[i], R_OK) != 0) {
				OBS_ERR("replay: cannot open %s: %s", files[i], strerror(errno));
				return -ENOENT;
			}
			continue;
		}
		in = obs_rin_open(files[i], err, sizeof(err));
		if (in == NULL) {
			OBS_ERR("replay: cannot open %s", err);
			return -ENOENT;
		}
		p = obs_rin_pcap(in);
		if (pcap_datalink(p) != DLT_EN10MB) {
			OBS_ERR("replay: %s (%s): link type %s, only Ethernet (EN10MB) is supported",
			        files[i], obs_rin_format(in),
			        pcap_datalink_val_to_name(pcap_datalink(p)) ?
			        pcap_datalink_val_to_name(pcap_datalink(p)) : "?");
			obs_rin_close(in);
			return -EPROTONOSUPPORT;
		}
		obs_rin_close(in);
	}
	return 0;
}

int obs_replay_rings(struct obs_worker *workers, uint32_t n_workers, uint32_t n_mbufs)
{
	uint32_t w, size = OBS_REPLAY_RING_MAX;
	char name[RTE_RING_NAMESIZE];

	if (n_workers > OBX_MAX_WORKERS)
		return -EINVAL;
	/* rings must not be able to hold the whole pool, or the reader could starve the
	 * workers' own frees; keep them at most half of it between them */
	while (size > 64 && (uint64_t)size * n_workers > n_mbufs / 2)
		size /= 2;
	for (w = 0; w < n_workers; w++) {
		struct obs_rq *q = &obs_rq[w];

		snprintf(name, sizeof(name), "obs_replay_%u", w);
		memset(q, 0, sizeof(*q));
		q->ring = rte_ring_create(name, size, (int)rte_socket_id(),
		                          RING_F_SP_ENQ | RING_F_SC_DEQ);
		if (q->ring == NULL) {
			OBS_ERR("replay: cannot create ring %s: %s", name, rte_strerror(rte_errno));
			return -rte_errno;
		}
		q->size = (uint32_t)rte_ring_get_capacity(q->ring);
		q->wake_at = q->size / 4;
		q->room_at = q->size / 2;
		workers[w].ring = q->ring;
	}
	obs_rq_n = n_workers;
	return 0;
}

/* ---- the worker's side ------------------------------------------------------------- */

unsigned obs_replay_take(uint32_t w, struct rte_mbuf **pkts, unsigned n)
{
	struct obs_rq *q = &obs_rq[w];
	unsigned got = rte_ring_sc_dequeue_burst(q->ring, (void **)pkts, n, NULL);

	/* the reader sleeps only on a full ring: let it go once half of it is free */
	if (got > 0 && rte_ring_free_count(q->ring) >= q->room_at)
		obs_bell_ring(&q->room);
	return got;
}

static inline bool obs_replay_done(const struct obs_rq *q)
{
	/* eof is stored after the last enqueue: an empty ring after it is empty for good */
	return atomic_load_explicit(&obs_replay_eof, memory_order_acquire) &&
	       rte_ring_count(q->ring) == 0;
}

bool obs_replay_idle(uint32_t w)
{
	struct obs_rq *q = &obs_rq[w];
	uint64_t t0 = rte_rdtsc(), spin = rte_get_tsc_hz() / (1000000000u / OBS_REPLAY_SPIN_NS);
	unsigned seq;

	do {
		if (obs_replay_done(q))
			return true;
		if (rte_ring_count(q->ring) > 0)
			return false;
		rte_pause();
	} while (rte_rdtsc() - t0 < spin);
	seq = obs_bell_prepare(&q->in);
	if (rte_ring_count(q->ring) > 0 ||
	    atomic_load_explicit(&obs_replay_eof, memory_order_acquire)) {
		obs_bell_cancel(&q->in);
		return obs_replay_done(q);
	}
	/* asleep, this worker holds no table pointer: offline, so a table swap's grace
	 * period does not wait for it (tables.h) */
	if (obs_tables.qs != NULL)
		rte_rcu_qsbr_thread_offline(obs_tables.qs, w);
	obs_bell_sleep(&q->in, seq, OBS_REPLAY_WORKER_NAP_NS);
	if (obs_tables.qs != NULL)
		rte_rcu_qsbr_thread_online(obs_tables.qs, w);
	q->sleeps++;
	return false;
}

uint64_t obs_replay_worker_sleeps(uint32_t w)
{
	return w < OBX_MAX_WORKERS ? obs_rq[w].sleeps : 0;
}

/* ---- the reader's side ------------------------------------------------------------- */

struct obs_stage {
	struct rte_mbuf *m[OBS_REPLAY_BATCH];
	uint32_t n;
};

struct obs_reader {
	struct obs_stage *stage;
	uint32_t n_workers;
	struct obx_header *h;
	uint64_t hb_next, hb_period;
	struct obs_replay_stats *st;
};

/* The main lcore's own duties, ~10 Hz, also while it waits: heartbeat, commands. */
static void obs_reader_tick(struct obs_reader *r)
{
	uint64_t tsc = rte_rdtsc();

	if (tsc < r->hb_next)
		return;
	r->hb_next = tsc + r->hb_period;
	atomic_store_explicit(&r->h->heartbeat_ns, obs_clock_ns(tsc), memory_order_relaxed);
	obs_cmd_poll();   /* table reloads under traffic (cmd.h) */
}

/* Before the reader sleeps: a worker asleep below its wake mark must not wait for it. */
static void obs_reader_wake_all(struct obs_reader *r)
{
	for (uint32_t w = 0; w < r->n_workers; w++)
		if (rte_ring_count(obs_rq[w].ring) > 0)
			obs_bell_ring(&obs_rq[w].in);
}

/* Enqueue everything staged for worker w; waits (backpressure) but never drops. */
static void obs_stage_flush(struct obs_reader *r, uint32_t w)
{
	struct obs_stage *st = &r->stage[w];
	struct obs_rq *q = &obs_rq[w];
	uint32_t done = 0;

	for (;;) {
		unsigned seq;
		uint64_t t0;

		done += rte_ring_sp_enqueue_burst(q->ring, (void **)st->m + done, st->n - done,
		                                  NULL);
		if (rte_ring_count(q->ring) >= q->wake_at)
			obs_bell_ring(&q->in);
		if (done == st->n)
			break;
		/* full: sleep until the worker has emptied half of the ring */
		obs_reader_wake_all(r);
		seq = obs_bell_prepare(&q->room);
		if (rte_ring_free_count(q->ring) >= q->room_at) {
			obs_bell_cancel(&q->room);
			continue;
		}
		t0 = rte_rdtsc();
		obs_bell_sleep(&q->room, seq, OBS_REPLAY_READER_NAP_NS);
		r->st->room_waits++;
		r->st->wait_ns += (rte_rdtsc() - t0) * 1000000000ull / rte_get_tsc_hz();
		obs_reader_tick(r);
	}
	st->n = 0;
}

/* mbufs for the next frames; waits (backing off, never spinning) while the workers still
 * hold them all. */
static void obs_reader_alloc(struct obs_reader *r, struct rte_mempool *pool,
                             struct rte_mbuf **mb)
{
	uint64_t nap = 20000, t0;

	if (rte_pktmbuf_alloc_bulk(pool, mb, OBS_REPLAY_BATCH) == 0)
		return;
	for (uint32_t w = 0; w < r->n_workers; w++)
		if (r->stage[w].n)
			obs_stage_flush(r, w);
	t0 = rte_rdtsc();
	while (rte_pktmbuf_alloc_bulk(pool, mb, OBS_REPLAY_BATCH) != 0) {
		struct timespec ts = { 0, (long)nap };

		obs_reader_wake_all(r);
		nanosleep(&ts, NULL);
		nap = nap * 2 > OBS_REPLAY_POOL_NAP_MAX_NS ? OBS_REPLAY_POOL_NAP_MAX_NS : nap * 2;
		r->st->pool_waits++;
		obs_reader_tick(r);
	}
	r->st->wait_ns += (rte_rdtsc() - t0) * 1000000000ull / rte_get_tsc_hz();
}

/* One file: every frame to its worker.  0, or -EIO when it could not be read to its end. */
static int obs_replay_file(struct obs_reader *r, const char *file, struct rte_mempool *pool,
                           struct rte_mbuf **mb, uint32_t *n_mb, uint32_t *i_mb)
{
	char err[512];
	struct obs_rin *in = obs_rin_open(file, err, sizeof(err));
	struct pcap_pkthdr *ph;
	const u_char *data;
	uint64_t nf = 0, in_b, out_b;
	pcap_t *p;
	int rc = 0, ret = 0;

	if (in == NULL) {
		OBS_ERR("replay: cannot open %s", err);
		return -EIO;
	}
	p = obs_rin_pcap(in);
	OBS_INFO("replay: reading %s (%s)", file, obs_rin_format(in));
	if (pcap_datalink(p) != DLT_EN10MB) {
		/* checked at start; a file replaced since then is refused the same way */
		OBS_ERR("replay: %s: link type %d, only Ethernet (EN10MB) is supported", file,
		        pcap_datalink(p));
		obs_rin_close(in);
		return -EIO;
	}
	while (!obs_stop && (rc = pcap_next_ex(p, &ph, &data)) == 1) {
		struct rte_mbuf *m;
		uint32_t len, w;

		/* pcapng carries 64-bit times: one before 1970 or after OBS_REPLAY_MAX_SEC
		 * would wrap in the nanosecond clock (and land in a wrong period): dropped,
		 * counted, and said at the end */
		if (ph->ts.tv_sec < 0 || ph->ts.tv_sec >= OBS_REPLAY_MAX_SEC ||
		    ph->ts.tv_usec < 0 || ph->ts.tv_usec >= 1000000000) {
			if (r->st->bad_time++ == 0)
				OBS_WARN("replay: %s: a frame after %llu has an impossible time "
				         "(%lld.%09ld s); such frames are dropped and counted", file,
				         (unsigned long long)nf, (long long)ph->ts.tv_sec,
				         (long)ph->ts.tv_usec);
			continue;
		}
		if (*i_mb == *n_mb) {
			obs_reader_alloc(r, pool, mb);
			*n_mb = OBS_REPLAY_BATCH;
			*i_mb = 0;
		}
		m = mb[(*i_mb)++];
		/* Frames longer than the data room keep their first bytes: every header the
		 * parser reads is there; wire bytes come from ph->len anyway. */
		len = ph->caplen;
		if (len > rte_pktmbuf_tailroom(m))
			len = rte_pktmbuf_tailroom(m);
		rte_memcpy(rte_pktmbuf_mtod(m, void *), data, len);
		m->data_len = (uint16_t)len;
		m->pkt_len = len;
		obs_mbuf_set_replay_meta(m, (uint64_t)ph->ts.tv_sec * 1000000000ull +
		                         (uint64_t)ph->ts.tv_usec, ph->len);
		w = obs_replay_worker_of(data, len, r->n_workers);
		r->stage[w].m[r->stage[w].n++] = m;
		if (r->stage[w].n == OBS_REPLAY_BATCH)
			obs_stage_flush(r, w);
		nf++;
		if ((nf & 1023) == 0)
			obs_reader_tick(r);
	}
	if (!obs_stop && rc == PCAP_ERROR) {
		char why[400];

		/* the decompressor's reason first: libpcap only saw the stream end early, or
		 * read damaged bytes as a bad record (then the rest of the stream says which) */
		if (!obs_rin_error(in, why, sizeof(why))) {
			char dmg[320];
			const char *comp = obs_rin_comp(in) == OBS_RIN_GZIP ? "gzip" : "zstd";

			if (obs_rin_comp(in) == OBS_RIN_PLAIN)
				snprintf(why, sizeof(why), "%s", pcap_geterr(p));
			else if (obs_rin_finish(in, dmg, sizeof(dmg)))
				snprintf(why, sizeof(why), "%s, and the %s stream is damaged: %s",
				         pcap_geterr(p), comp, dmg);
			else
				snprintf(why, sizeof(why), "%s (the %s stream itself is whole: the "
				         "capture inside it is bad)", pcap_geterr(p), comp);
		}
		OBS_ERR("replay: %s (%s): stopped after %llu frames: %s; the frames before it "
		        "are replayed and counted", file, obs_rin_format(in),
		        (unsigned long long)nf, why);
		ret = -EIO;
	}
	obs_rin_bytes(in, &in_b, &out_b);
	if (obs_rin_comp(in) != OBS_RIN_PLAIN)
		OBS_INFO("replay: %s: %llu frames, %.1f MB decompressed from %.1f MB", file,
		         (unsigned long long)nf, (double)out_b / 1e6, (double)in_b / 1e6);
	else
		OBS_INFO("replay: %s: %llu frames", file, (unsigned long long)nf);
	r->st->frames += nf;
	obs_rin_close(in);
	return ret;
}

int obs_replay_run(char *const *files, unsigned n_files, struct rte_mempool *pool,
                   struct obs_worker *workers, uint32_t n_workers, struct obx_header *h,
                   struct obs_replay_stats *st)
{
	struct obs_reader r = { .n_workers = n_workers, .h = h, .st = st,
	                        .hb_period = rte_get_tsc_hz() / 10 };
	struct rte_mbuf *mb[OBS_REPLAY_BATCH];
	uint32_t n_mb = 0, i_mb = 0, w;
	unsigned f;
	int ret = 0;

	(void)workers;
	memset(st, 0, sizeof(*st));
	r.stage = calloc(n_workers, sizeof(*r.stage));
	if (r.stage == NULL || n_workers > obs_rq_n) {
		free(r.stage);
		atomic_store_explicit(&obs_replay_eof, 1, memory_order_release);
		return -ENOMEM;
	}
	for (f = 0; f < n_files && !obs_stop; f++) {
		if (obs_replay_file(&r, files[f], pool, mb, &n_mb, &i_mb) != 0) {
			st->files_failed++;
			ret = -EIO;
		}
	}
	for (w = 0; w < n_workers; w++)
		if (r.stage[w].n)
			obs_stage_flush(&r, w);
	if (i_mb < n_mb)
		rte_pktmbuf_free_bulk(mb + i_mb, n_mb - i_mb);
	atomic_store_explicit(&obs_replay_eof, 1, memory_order_release);
	for (w = 0; w < n_workers; w++)
		obs_bell_ring(&obs_rq[w].in);   /* sleepers see eof */
	free(r.stage);
	return ret;
}
