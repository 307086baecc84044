/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * capture.c — selective pcapng capture (capture.h).
 */
/* rte_pcapng and rte_bpf_convert are experimental in DPDK 22.11 */
#define ALLOW_EXPERIMENTAL_API 1

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <pcap/pcap.h>
#include <rte_bpf.h>
#include <rte_dev.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_pcapng.h>
#include <rte_ring.h>

#include "capture.h"
#include "worker.h"   /* OBS_BURST_MAX */
#include "clock_ns.h"
#include "log.h"
#include "tables.h"

#define OBS_CAP_BATCH 64u
_Static_assert(OBS_CAP_BATCH >= OBS_BURST_MAX, "a burst's copies fit one batch");
#define OBS_CAP_NULL_PORT "net_null_capture"

/* The head of a pcapng Enhanced Packet Block (pcapng spec 4.3), which rte_pcapng_copy()
 * puts in front of the copy: its time and original length are set from the packet's. */
struct obs_cap_epb {
	uint32_t block_type, block_length, interface_id;
	uint32_t ts_hi, ts_lo;
	uint32_t cap_len, orig_len;
};

/* The one capture of this dataplane (main lcore, except where marked). */
struct obs_cap_run {
	struct obs_capture *cap;      /* published to the workers while running */
	rte_pcapng_t *pc;
	pthread_t writer;
	bool writer_up;
	_Atomic int retired;          /* the grace period is over: no worker enqueues */
	_Atomic int limit;            /* writer: enum obx_cap_stop it reached, 0: none */
	_Atomic int done;             /* writer: file closed */
	uint64_t max_packets, max_bytes;
	uint64_t start_ns;
	char path[PATH_MAX];
};

static struct obx_header *obs_cap_h;
static uint32_t obs_cap_n_workers;
static bool obs_cap_replay;
static struct obs_cap_run *obs_cap_run;   /* running or finishing, NULL: none */
static const char *const obs_cap_stop_names[OBX_CAP_STOP_N] = OBX_CAP_STOP_NAMES;

void obs_capture_init(struct obx_header *h, uint32_t n_workers, bool replay)
{
	obs_cap_h = h;
	obs_cap_n_workers = n_workers;
	obs_cap_replay = replay;
}

/* Worker side ------------------------------------------------------------------------ */

void obs_capture_burst(struct obs_capture *cap, uint32_t worker, struct rte_mbuf **pkts,
                       uint16_t n, const uint64_t *t_ns, const uint32_t *wire,
                       const uint8_t *take)
{
	struct rte_mbuf *cp[OBS_CAP_BATCH];
	struct obs_capture_wk *wk = &cap->wk[worker];
	uint64_t matched = 0, dropped = 0;
	unsigned k = 0, q;

	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *mc;
		struct obs_cap_epb *epb;

		if (!take[i])
			continue;
		if (cap->bpf != NULL &&
		    (cap->jit != NULL ? cap->jit(pkts[i]) : rte_bpf_exec(cap->bpf, pkts[i])) == 0)
			continue;
		matched++;
		/* the time rte_pcapng_copy() would take from the TSC is replaced below by the
		 * packet's own: 0, no rdtsc */
		mc = rte_pcapng_copy(cap->per_port ? pkts[i]->port : cap->port, 0, pkts[i],
		                     cap->pool, cap->snaplen, 0, RTE_PCAPNG_DIRECTION_IN);
		if (unlikely(mc == NULL)) {
			dropped++;      /* the pool is empty: the writer is behind */
			continue;
		}
		epb = rte_pktmbuf_mtod(mc, struct obs_cap_epb *);
		epb->ts_hi = (uint32_t)(t_ns[i] >> 32);
		epb->ts_lo = (uint32_t)t_ns[i];
		if (wire[i] > epb->orig_len)
			epb->orig_len = wire[i];  /* replay: the frame's length on the wire */
		cp[k++] = mc;
	}
	if (k > 0) {
		q = rte_ring_mp_enqueue_burst(cap->ring, (void **)cp, k, NULL);
		if (q < k) {
			dropped += k - q;       /* the ring is full: the writer is behind */
			rte_pktmbuf_free_bulk(cp + q, k - q);
		}
	}
	if (matched)
		__atomic_store_n(&wk->matched, wk->matched + matched, __ATOMIC_RELAXED);
	if (dropped)
		__atomic_store_n(&wk->dropped, wk->dropped + dropped, __ATOMIC_RELAXED);
}

/* Writer thread ---------------------------------------------------------------------- */

static void obs_cap_sums(const struct obs_capture *cap, uint64_t *matched, uint64_t *dropped)
{
	*matched = *dropped = 0;
	for (uint32_t w = 0; w < obs_cap_n_workers; w++) {
		*matched += __atomic_load_n(&cap->wk[w].matched, __ATOMIC_RELAXED);
		*dropped += __atomic_load_n(&cap->wk[w].dropped, __ATOMIC_RELAXED);
	}
}

static void obs_cap_publish(const struct obs_cap_run *run, uint64_t written, uint64_t bytes)
{
	struct obx_capture *x = &obs_cap_h->capture;
	uint64_t matched, dropped;

	obs_cap_sums(run->cap, &matched, &dropped);
	atomic_store_explicit(&x->matched, matched, memory_order_relaxed);
	atomic_store_explicit(&x->dropped, dropped, memory_order_relaxed);
	atomic_store_explicit(&x->written, written, memory_order_relaxed);
	atomic_store_explicit(&x->bytes, bytes, memory_order_relaxed);
}

static void *obs_cap_writer(void *arg)
{
	struct obs_cap_run *run = arg;
	struct obs_capture *cap = run->cap;
	struct obx_capture *x = &obs_cap_h->capture;
	struct rte_mbuf *m[OBS_CAP_BATCH];
	uint64_t written = 0, bytes = 0, over = 0, matched, dropped;
	bool failed = false;
	char comment[160];

	for (;;) {
		/* read before the dequeue: once retired, what the ring holds is all there is */
		int retired = atomic_load_explicit(&run->retired, memory_order_acquire);
		unsigned n = rte_ring_sc_dequeue_burst(cap->ring, (void **)m, OBS_CAP_BATCH, NULL);
		unsigned keep = 0;
		uint64_t b = 0;

		if (n == 0) {
			obs_cap_publish(run, written, bytes);
			if (retired)
				break;
			struct timespec ts = { 0, 1000000 };
			nanosleep(&ts, NULL);
			continue;
		}
		/* past a limit (or a failed write) the rest is let go: the capture is stopping */
		while (keep < n && !failed &&
		       (run->max_packets == 0 || written + keep < run->max_packets)) {
			uint32_t cl = rte_pktmbuf_mtod(m[keep], struct obs_cap_epb *)->cap_len;

			if (run->max_bytes != 0 && bytes + b + cl > run->max_bytes)
				break;
			b += cl;
			keep++;
		}
		if (keep > 0 && rte_pcapng_write_packets(run->pc, m, (uint16_t)keep) < 0) {
			snprintf(x->error, sizeof(x->error), "%.60s", strerror(rte_errno));
			OBS_ERR("capture: writing %s failed, capture stopped: %s", run->path,
			        strerror(rte_errno));
			failed = true;
			atomic_store_explicit(&run->limit, OBX_CAP_STOP_ERROR, memory_order_release);
		} else {
			written += keep;
			bytes += b;
		}
		over += n - keep;
		if (keep < n && !failed && atomic_load(&run->limit) == 0)
			atomic_store_explicit(&run->limit, run->max_packets != 0 &&
			                      written >= run->max_packets ? OBX_CAP_STOP_PACKETS :
			                      OBX_CAP_STOP_BYTES, memory_order_release);
		rte_pktmbuf_free_bulk(m, n);
		obs_cap_publish(run, written, bytes);
	}
	obs_cap_sums(cap, &matched, &dropped);
	snprintf(comment, sizeof(comment), "obscura capture: %llu matched, %llu written, %llu "
	         "dropped (writer behind), %llu past a limit", (unsigned long long)matched,
	         (unsigned long long)written, (unsigned long long)dropped,
	         (unsigned long long)over);
	if (!failed && rte_pcapng_write_stats(run->pc, cap->port, comment, run->start_ns,
	                                      obs_wall_ns(), matched, dropped) < 0)
		OBS_WARN("capture: %s: cannot write the statistics block: %s", run->path,
		         strerror(errno));
	rte_pcapng_close(run->pc);
	run->pc = NULL;
	OBS_NOTICE("capture %s closed: %s", run->path, comment);
	atomic_store_explicit(&run->done, 1, memory_order_release);
	return NULL;
}

/* Main lcore ------------------------------------------------------------------------- */

/* RCU free function of the published context: the grace period is over. */
static void obs_cap_retire(void *t)
{
	(void)t;
	if (obs_cap_run != NULL)
		atomic_store_explicit(&obs_cap_run->retired, 1, memory_order_release);
}

static void obs_cap_free(struct obs_cap_run *run)
{
	if (run == NULL)
		return;
	if (run->cap != NULL) {
		rte_bpf_destroy(run->cap->bpf);
		rte_ring_free(run->cap->ring);
		rte_mempool_free(run->cap->pool);
		rte_free(run->cap);
	}
	if (run->pc != NULL)
		rte_pcapng_close(run->pc);
	free(run);
}

/* The filter as an rte_bpf program (NULL + msg when it does not compile or convert). */
static struct rte_bpf *obs_cap_filter(const char *filter, char *msg, size_t msglen)
{
	struct bpf_program fp;
	struct rte_bpf_prm *prm;
	struct rte_bpf *bpf;
	pcap_t *ph = pcap_open_dead(DLT_EN10MB, 65535);

	if (ph == NULL) {
		snprintf(msg, msglen, "capture filter: cannot open a libpcap handle");
		return NULL;
	}
	if (pcap_compile(ph, &fp, filter, 1, PCAP_NETMASK_UNKNOWN) != 0) {
		snprintf(msg, msglen, "capture filter '%s' does not compile: %s", filter,
		         pcap_geterr(ph));
		pcap_close(ph);
		return NULL;
	}
	pcap_close(ph);
	prm = rte_bpf_convert(&fp);
	pcap_freecode(&fp);
	if (prm == NULL) {
		snprintf(msg, msglen, "capture filter '%s': cannot convert it to eBPF: %s", filter,
		         rte_strerror(rte_errno));
		return NULL;
	}
	bpf = rte_bpf_load(prm);
	rte_free(prm);
	if (bpf == NULL)
		snprintf(msg, msglen, "capture filter '%s': eBPF load refused it: %s", filter,
		         rte_strerror(rte_errno));
	return bpf;
}

/* The port the statistics block is written for: the first port, or in replay a null
 * port that stands for the capture files and every packet's interface (rte_pcapng
 * writes an interface block per port; live, each packet names its own). */
static int obs_cap_port(uint16_t *port, char *msg, size_t msglen)
{
	uint16_t p;
	int rc;

	RTE_ETH_FOREACH_DEV(p) {
		*port = p;
		return 0;
	}
	if (!obs_cap_replay) {
		snprintf(msg, msglen, "capture: no port to capture on");
		return -ENODEV;
	}
	rc = rte_dev_probe(OBS_CAP_NULL_PORT);
	if (rc != 0 && rc != -EEXIST) {
		snprintf(msg, msglen, "capture: cannot create the replay's interface (%s): %s",
		         OBS_CAP_NULL_PORT, strerror(-rc));
		return rc;
	}
	if (rte_eth_dev_get_port_by_name(OBS_CAP_NULL_PORT, port) != 0) {
		snprintf(msg, msglen, "capture: the replay's interface %s has no port",
		         OBS_CAP_NULL_PORT);
		return -ENODEV;
	}
	return 0;
}

/* The file: absolute, in an existing writable directory, not there yet. */
static int obs_cap_open(const char *path, char *msg, size_t msglen)
{
	int fd;

	if (path[0] != '/') {
		snprintf(msg, msglen, "capture file '%s': the path must be absolute", path);
		return -EINVAL;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
	if (fd < 0) {
		int e = errno;

		snprintf(msg, msglen, "capture file %s: %s%s", path, strerror(e),
		         e == EEXIST ? " (not overwritten)" : "");
		return -e;
	}
	return fd;
}

int obs_capture_start(const char *path, const char *filter, uint64_t max_packets,
                      uint64_t max_bytes, uint32_t snaplen, int32_t sensor,
                      char *msg, size_t msglen)
{
	struct obx_capture *x = &obs_cap_h->capture;
	struct obs_cap_run *run;
	struct obs_capture *cap;
	struct rte_bpf_jit jit;
	struct utsname un;
	char os[200], name[RTE_MEMZONE_NAMESIZE];
	int fd, rc;

	if (obs_cap_h == NULL)
		return -ENODEV;
	if (obs_cap_run != NULL) {
		snprintf(msg, msglen, "a capture is already running (%s): `capture stop` it first",
		         obs_cap_run->path);
		return -EBUSY;
	}
	if (strlen(path) >= sizeof(obs_cap_run->path)) {
		snprintf(msg, msglen, "capture file: path too long");
		return -ENAMETOOLONG;
	}
	if (sensor >= 0 && (uint32_t)sensor >= obs_cap_h->n_sensors) {
		snprintf(msg, msglen, "capture: no sensor %d (%u configured)", sensor,
		         obs_cap_h->n_sensors);
		return -EINVAL;
	}
	run = calloc(1, sizeof(*run));
	cap = rte_zmalloc("obs_capture", sizeof(*cap), RTE_CACHE_LINE_SIZE);
	if (run == NULL || cap == NULL) {
		free(run);
		rte_free(cap);
		snprintf(msg, msglen, "capture: out of memory");
		return -ENOMEM;
	}
	run->cap = cap;
	snprintf(run->path, sizeof(run->path), "%s", path);
	run->max_packets = max_packets;
	run->max_bytes = max_bytes;
	cap->snaplen = snaplen ? snaplen : UINT32_MAX;
	cap->sensor = sensor;
	if (filter[0] != '\0') {
		cap->bpf = obs_cap_filter(filter, msg, msglen);
		if (cap->bpf == NULL) {
			rc = -EINVAL;
			goto fail;
		}
		if (rte_bpf_get_jit(cap->bpf, &jit) == 0 && jit.func != NULL)
			cap->jit = jit.func;
	}
	if ((rc = obs_cap_port(&cap->port, msg, msglen)) != 0)
		goto fail;
	cap->per_port = !obs_cap_replay;
	/* names are per boot unique: a finishing capture's may still exist */
	snprintf(name, sizeof(name), "obs_cap_p%llu", (unsigned long long)x->id + 1);
	cap->pool = rte_pktmbuf_pool_create(name, OBS_CAPTURE_POOL, 256, 0,
	                                    rte_pcapng_mbuf_size(RTE_MBUF_DEFAULT_DATAROOM),
	                                    rte_socket_id());
	snprintf(name, sizeof(name), "obs_cap_r%llu", (unsigned long long)x->id + 1);
	cap->ring = rte_ring_create(name, OBS_CAPTURE_RING, rte_socket_id(), RING_F_SC_DEQ);
	if (cap->pool == NULL || cap->ring == NULL) {
		snprintf(msg, msglen, "capture: cannot create its %s: %s", cap->pool == NULL ?
		         "mbuf pool" : "ring", rte_strerror(rte_errno));
		rc = -ENOMEM;
		goto fail;
	}
	fd = obs_cap_open(path, msg, msglen);
	if (fd < 0) {
		rc = fd;
		goto fail;
	}
	if (uname(&un) == 0)
		snprintf(os, sizeof(os), "%s %s", un.sysname, un.release);
	else
		snprintf(os, sizeof(os), "Linux");
	run->pc = rte_pcapng_fdopen(fd, os, NULL, "obscura-dp", filter[0] ? filter : NULL);
	if (run->pc == NULL) {
		snprintf(msg, msglen, "capture file %s: cannot write its header: %s", path,
		         rte_strerror(rte_errno));
		close(fd);
		unlink(path);
		rc = -EIO;
		goto fail;
	}
	run->start_ns = obs_wall_ns();
	memset(x->error, 0, sizeof(x->error));
	atomic_store_explicit(&x->matched, 0, memory_order_relaxed);
	atomic_store_explicit(&x->written, 0, memory_order_relaxed);
	atomic_store_explicit(&x->dropped, 0, memory_order_relaxed);
	atomic_store_explicit(&x->bytes, 0, memory_order_relaxed);
	x->start_wall_ns = run->start_ns;
	x->stop_wall_ns = 0;
	x->stop_why = OBX_CAP_STOP_NONE;
	rc = pthread_create(&run->writer, NULL, obs_cap_writer, run);
	if (rc != 0) {
		snprintf(msg, msglen, "capture: cannot start its writer thread: %s", strerror(rc));
		unlink(path);
		rc = -rc;
		goto fail;
	}
	x->id++;                /* a capture that started: the number its status shows */
	pthread_setname_np(run->writer, "obs-capture");
	run->writer_up = true;
	obs_cap_run = run;
	atomic_store_explicit(&x->state, OBX_CAP_RUNNING, memory_order_release);
	obs_tables_swap(OBS_TABLE_CAPTURE, cap, obs_cap_retire);
	snprintf(msg, msglen, "capture %llu into %s: filter '%s'%s, sensor %s, max %llu "
	         "packets, %llu bytes, snaplen %u", (unsigned long long)x->id, path, filter,
	         cap->bpf == NULL ? "" : cap->jit != NULL ? " (JIT)" : " (interpreted)",
	         sensor < 0 ? "any" : obs_cap_h->sensor_names[sensor],
	         (unsigned long long)max_packets, (unsigned long long)max_bytes, snaplen);
	OBS_NOTICE("%s", msg);
	return 0;
fail:
	OBS_WARN("capture not started: %s", msg);
	obs_cap_free(run);
	return rc;
}

int obs_capture_stop(uint32_t why, char *msg, size_t msglen)
{
	struct obx_capture *x = &obs_cap_h->capture;

	if (obs_cap_run == NULL || obs_tables_get(OBS_TABLE_CAPTURE) == NULL) {
		snprintf(msg, msglen, "no capture running");
		return -ENOENT;
	}
	/* the old context is retired: its free function (obs_cap_retire) runs once every
	 * worker has passed a burst end, and the writer then finishes the file */
	obs_tables_swap(OBS_TABLE_CAPTURE, NULL, NULL);
	x->stop_why = why < OBX_CAP_STOP_N ? why : OBX_CAP_STOP_CTL;
	x->stop_wall_ns = obs_wall_ns();
	snprintf(msg, msglen, "capture %llu into %s stopping (%s): the file is closed once the "
	         "copies in flight are written", (unsigned long long)x->id, obs_cap_run->path,
	         obs_cap_stop_names[x->stop_why]);
	OBS_NOTICE("%s", msg);
	return 0;
}

void obs_capture_poll(void)
{
	struct obs_cap_run *run = obs_cap_run;
	char msg[256];
	int lim;

	if (run == NULL)
		return;
	lim = atomic_load_explicit(&run->limit, memory_order_acquire);
	if (lim != 0 && obs_tables_get(OBS_TABLE_CAPTURE) != NULL)
		obs_capture_stop((uint32_t)lim, msg, sizeof(msg));
	/* the grace period of a stopped capture ends in obs_tables_reclaim(), which the
	 * main loop calls before this (cmd.c), obs_capture_fini() itself */
	if (!atomic_load_explicit(&run->done, memory_order_acquire))
		return;
	pthread_join(run->writer, NULL);
	obs_cap_run = NULL;
	obs_cap_publish(run, atomic_load(&obs_cap_h->capture.written),
	                atomic_load(&obs_cap_h->capture.bytes));
	atomic_store_explicit(&obs_cap_h->capture.state, OBX_CAP_STOPPED, memory_order_release);
	obs_cap_free(run);
}

void obs_capture_fini(void)
{
	char msg[256];

	if (obs_cap_run == NULL)
		return;
	if (obs_tables_get(OBS_TABLE_CAPTURE) != NULL)
		obs_capture_stop(OBX_CAP_STOP_EXIT, msg, sizeof(msg));
	while (obs_cap_run != NULL) {
		struct timespec ts = { 0, 1000000 };

		obs_tables_reclaim();   /* lets the grace period end (obs_cap_retire) */
		obs_capture_poll();
		if (obs_cap_run != NULL)
			nanosleep(&ts, NULL);
	}
}
