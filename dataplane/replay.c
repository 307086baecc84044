/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * replay.c — the pcap reader of --replay (replay.h).  Main lcore only; the workers see
 * nothing of it but their rings and obs_replay_eof.
 */
#include <errno.h>
#include <pcap/pcap.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include "cmd.h"
#include "log.h"
#include "replay.h"
#include "worker.h"

#define OBS_REPLAY_BATCH 32u

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
	char err[PCAP_ERRBUF_SIZE];
	unsigned i;

	for (i = 0; i < n_files; i++) {
		pcap_t *p = pcap_open_offline_with_tstamp_precision(files[i],
			PCAP_TSTAMP_PRECISION_NANO, err);

		if (p == NULL) {
			OBS_ERR("replay: cannot open %s: %s", files[i], err);
			return -ENOENT;
		}
		if (pcap_datalink(p) != DLT_EN10MB) {
			OBS_ERR("replay: %s: link type %s, only Ethernet (EN10MB) is supported",
			        files[i], pcap_datalink_val_to_name(pcap_datalink(p)) ?
			        pcap_datalink_val_to_name(pcap_datalink(p)) : "?");
			pcap_close(p);
			return -EPROTONOSUPPORT;
		}
		pcap_close(p);
	}
	return 0;
}

int obs_replay_rings(struct obs_worker *workers, uint32_t n_workers, uint32_t n_mbufs)
{
	uint32_t w, size = 4096;
	char name[RTE_RING_NAMESIZE];

	/* rings must not be able to hold the whole pool, or the reader could starve the
	 * workers' own frees; keep them at most half of it between them */
	while (size > 64 && (uint64_t)size * n_workers > n_mbufs / 2)
		size /= 2;
	for (w = 0; w < n_workers; w++) {
		snprintf(name, sizeof(name), "obs_replay_%u", w);
		workers[w].ring = rte_ring_create(name, size, (int)rte_socket_id(),
		                                  RING_F_SP_ENQ | RING_F_SC_DEQ);
		if (workers[w].ring == NULL) {
			OBS_ERR("replay: cannot create ring %s: %s", name, rte_strerror(rte_errno));
			return -rte_errno;
		}
	}
	return 0;
}

struct obs_stage {
	struct rte_mbuf *m[OBS_REPLAY_BATCH];
	uint32_t n;
};

static void obs_wait_a_little(uint32_t yield_us)
{
	obs_cmd_poll();   /* the main lcore still answers commands while it waits */
	if (yield_us)
		rte_delay_us_sleep(yield_us);
	else
		rte_pause();
}

/* Enqueue everything staged for worker w; waits (backpressure) but never drops. */
static void obs_stage_flush(struct obs_stage *st, struct obs_worker *w, uint32_t yield_us)
{
	uint32_t done = 0;

	while (done < st->n) {
		done += rte_ring_sp_enqueue_burst(w->ring, (void **)st->m + done, st->n - done,
		                                  NULL);
		if (done < st->n)
			obs_wait_a_little(yield_us);
	}
	st->n = 0;
}

static uint64_t obs_now_ns(void)
{
	return obs_clock_ns(rte_rdtsc());
}

int obs_replay_run(char *const *files, unsigned n_files, struct rte_mempool *pool,
                   struct obs_worker *workers, uint32_t n_workers, struct obx_header *h,
                   uint32_t yield_us, uint64_t *frames)
{
	struct obs_stage *stage;
	struct rte_mbuf *mb[OBS_REPLAY_BATCH];
	uint32_t n_mb = 0, i_mb = 0, w;
	uint64_t n = 0, hb_next = 0, hb_period = rte_get_tsc_hz() / 10;
	char err[PCAP_ERRBUF_SIZE];
	unsigned f;
	int ret = 0;

	stage = calloc(n_workers, sizeof(*stage));
	if (stage == NULL)
		return -ENOMEM;
	for (f = 0; f < n_files && !obs_stop; f++) {
		pcap_t *p = pcap_open_offline_with_tstamp_precision(files[f],
			PCAP_TSTAMP_PRECISION_NANO, err);
		struct pcap_pkthdr *ph;
		const u_char *data;
		uint64_t nf = 0;
		int r = 0;

		if (p == NULL) {
			OBS_ERR("replay: cannot open %s: %s", files[f], err);
			ret = -ENOENT;
			continue;
		}
		OBS_INFO("replay: reading %s", files[f]);
		while (!obs_stop && (r = pcap_next_ex(p, &ph, &data)) == 1) {
			struct rte_mbuf *m;
			uint32_t len;

			if (i_mb == n_mb) {
				/* the workers free what they processed; wait for them */
				while (rte_pktmbuf_alloc_bulk(pool, mb, OBS_REPLAY_BATCH) != 0) {
					for (w = 0; w < n_workers; w++)
						if (stage[w].n)
							obs_stage_flush(&stage[w], &workers[w], yield_us);
					obs_wait_a_little(yield_us);
				}
				n_mb = OBS_REPLAY_BATCH;
				i_mb = 0;
			}
			m = mb[i_mb++];
			/* Frames longer than the data room keep their first bytes: every header
			 * the parser reads is there; wire bytes come from ph->len anyway. */
			len = ph->caplen;
			if (len > rte_pktmbuf_tailroom(m))
				len = rte_pktmbuf_tailroom(m);
			rte_memcpy(rte_pktmbuf_mtod(m, void *), data, len);
			m->data_len = (uint16_t)len;
			m->pkt_len = len;
			obs_mbuf_set_replay_meta(m, (uint64_t)ph->ts.tv_sec * 1000000000ull +
			                         (uint64_t)ph->ts.tv_usec, ph->len);
			w = obs_replay_worker_of(data, len, n_workers);
			stage[w].m[stage[w].n++] = m;
			if (stage[w].n == OBS_REPLAY_BATCH)
				obs_stage_flush(&stage[w], &workers[w], yield_us);
			nf++;
			if ((nf & 1023) == 0) {
				uint64_t tsc = rte_rdtsc();

				if (tsc >= hb_next) {
					hb_next = tsc + hb_period;
					atomic_store_explicit(&h->heartbeat_ns, obs_now_ns(),
					                      memory_order_relaxed);
					obs_cmd_poll();   /* table reloads under traffic (cmd.h) */
				}
			}
		}
		if (!obs_stop && r == PCAP_ERROR) {
			OBS_ERR("replay: %s: read error after %llu frames: %s", files[f],
			        (unsigned long long)nf, pcap_geterr(p));
			ret = -EIO;
		}
		OBS_INFO("replay: %s: %llu frames", files[f], (unsigned long long)nf);
		n += nf;
		pcap_close(p);
	}
	for (w = 0; w < n_workers; w++)
		if (stage[w].n)
			obs_stage_flush(&stage[w], &workers[w], yield_us);
	if (i_mb < n_mb)
		rte_pktmbuf_free_bulk(mb + i_mb, n_mb - i_mb);
	atomic_store_explicit(&obs_replay_eof, 1, memory_order_release);
	free(stage);
	*frames = n;
	return ret;
}
