/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * xchg_dump — a minimal exchange drainer for the dp tests.  No DPDK.
 *
 *   xchg_dump [--timeout S] [--once] [--delay-ms N] [--no-sources] PATH
 *
 * Waits for PATH to appear, maps it, and plays the control plane's part of the slot
 * handshake: every READY slot, lower seq first, is checked (seq strictly increasing
 * per worker, each hash table's n_used matching its records), accumulated (counters
 * summed, the (source, hour) records merged per source: min first, max last, packets
 * summed, sensor masks ORed; other tables counted), cleared and set FREE (release).
 * An epoch without lost updates whose source records do not hold exactly its
 * tel_packets, or whose coverage cells do not hold exactly its cov_syns, is reported on
 * stderr and counted in "epoch_split".
 * It stops when dp_state is FINISHED or EXITED and every slot is FREE (--once: after
 * one pass, for a file left behind), then prints the totals as JSON on stdout.
 * --delay-ms sleeps before each drain, to make the dataplane meet READY slots.
 * Exit: 0 done, 2 timeout (totals so far still printed), 1 error.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "clock_ns.h"
#include "epoch.h"
#include "exchange.h"
#include "exchange_recs.h"
#include "xchg_dump_resp.h"

struct src_map {
	struct obx_src_rec *r;
	uint64_t cap, n;
};

static struct src_map srcs;
static struct obx_counters tot;
static uint64_t n_epochs, n_final, n_forced, seq_errors, nsrc_mismatch, bad_worker;
/* epochs (without lost updates) whose SRC records hold another number of packets than
 * their tel_packets counter: a packet's counter and its record in different epochs */
static uint64_t epoch_split;
static uint64_t cov_syns_seen;   /* SYNs in the drained cells, all epochs */
static uint64_t last_seq[OBX_MAX_WORKERS];

static void map_grow(void);

static void map_merge(const struct obx_src_rec *in)
{
	uint64_t i;

	if ((srcs.n + 1) * 2 > srcs.cap)
		map_grow();
	for (i = obx_src_hash(in->addr) & (srcs.cap - 1);; i = (i + 1) & (srcs.cap - 1)) {
		struct obx_src_rec *r = &srcs.r[i];

		if (r->packets == 0) {
			*r = *in;
			srcs.n++;
			return;
		}
		if (r->addr == in->addr) {
			if (in->first_ns < r->first_ns)
				r->first_ns = in->first_ns;
			if (in->last_ns > r->last_ns)
				r->last_ns = in->last_ns;
			r->packets += in->packets;
			r->sensor_mask |= in->sensor_mask;
			/* fingerprint (issue 14): the first label, its SYNs, the rest apart */
			if (r->tool == 0)
				r->tool = in->tool;
			if (in->tool == r->tool)
				r->tool_syns += in->tool_syns;
			else
				r->tool_other = (uint16_t)(r->tool_other + in->tool_syns);
			r->tool_other = (uint16_t)(r->tool_other + in->tool_other);
			return;
		}
	}
}

static void map_grow(void)
{
	struct src_map old = srcs;
	uint64_t i;

	srcs.cap = old.cap ? old.cap * 2 : 1024;
	srcs.n = 0;
	srcs.r = calloc(srcs.cap, sizeof(*srcs.r));
	if (srcs.r == NULL) {
		perror("xchg_dump: calloc");
		exit(1);
	}
	for (i = 0; i < old.cap; i++)
		if (old.r[i].packets)
			map_merge(&old.r[i]);
	free(old.r);
}

static uint64_t n_src_records, n_tab_records[OBX_TAB_MAX];

/* Merge one (addr, hour) record into the per-address totals (the key is the address:
 * the JSON is per source, as the truth files are). */
static void merge_src(const struct obx_src_rec *in)
{
	n_src_records++;
	map_merge(in);
}

static void drain_slot(const struct obx_header *h, struct obx_slot_hdr *sh, uint32_t w)
{
	uint64_t src_packets = 0, cell_syns = 0;

	if (sh->worker != w)
		bad_worker++;
	resp_dump_slot(h, sh);     /* responder (issue 13): before the records are cleared */
	if (sh->seq <= last_seq[w])
		seq_errors++;
	last_seq[w] = sh->seq;
	/* every table by the header's geometry: hash kinds are counted and checked against
	 * n_used, the SRC records merged; the BITMAP pool's first n_used entries cleared */
	for (unsigned k = 0; k < OBX_TAB_MAX; k++) {
		uint8_t *tab = obx_slot_tab_h(h, sh, k);
		uint32_t cap = h->tab_capacity[k], rs = h->tab_rec_size[k], n = 0;

		if (tab == NULL)
			continue;
		if (!obx_tab_is_hash(k)) {
			n = sh->tabs[k].n_used <= cap ? sh->tabs[k].n_used : cap;
			n_tab_records[k] += n;
			memset(tab, 0, (size_t)n * rs);
			continue;
		}
		for (uint32_t i = 0; i < cap; i++) {
			uint8_t *r = tab + (size_t)i * rs;

			if (obx_rec_empty(r, rs))
				continue;
			if (k == OBX_TAB_SRC) {
				merge_src((const struct obx_src_rec *)r);
				src_packets += ((const struct obx_src_rec *)r)->packets;
			} else if (k == OBX_TAB_CELL) {
				cell_syns += ((const struct obx_cell_rec *)r)->syns;
			}
			n++;
			memset(r, 0, rs);
		}
		n_tab_records[k] += n;
		if (n != sh->tabs[k].n_used)
			nsrc_mismatch++;
	}
	if (sh->delta.lost_updates == 0 && src_packets != sh->delta.tel_packets) {
		fprintf(stderr, "xchg_dump: worker %u epoch %" PRIu64 ": %" PRIu64 " packets in its "
		        "source records, %" PRIu64 " in tel_packets\n", w, sh->seq, src_packets,
		        sh->delta.tel_packets);
		epoch_split++;
	}
	if (h->tab_capacity[OBX_TAB_CELL] != 0 && sh->delta.lost_updates == 0 &&
	    cell_syns != sh->delta.cov_syns) {
		fprintf(stderr, "xchg_dump: worker %u epoch %" PRIu64 ": %" PRIu64 " SYNs in its "
		        "cells, %" PRIu64 " in cov_syns\n", w, sh->seq, cell_syns,
		        sh->delta.cov_syns);
		epoch_split++;
	}
	cov_syns_seen += cell_syns;
	obs_counters_add(&tot, &sh->delta);
	n_epochs++;
	if (sh->flags & OBX_SLOT_F_FINAL) {
		n_final++;
	}
	if (sh->flags & OBX_SLOT_F_FORCED)
		n_forced++;
	/* clear it as the control plane must: records (above), then the header, then FREE */
	for (unsigned k = 0; k < OBX_TAB_MAX; k++)
		sh->tabs[k].n_used = 0;
	sh->flags = 0;
	memset(&sh->delta, 0, sizeof(sh->delta));
	atomic_store_explicit(&sh->state, OBX_SLOT_FREE, memory_order_release);
}

static int cmp_rec(const void *a, const void *b)
{
	const struct obx_src_rec *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

static void print_json(const struct obx_header *h, int with_sources)
{
	static const char *const drop_names[] = OBX_DROP_NAMES;
	static const char *const proto_names[] = { "tcp", "udp", "icmp", "other" };
	struct obx_src_rec *list;
	uint64_t i, k = 0;
	unsigned d;

	printf("{\n  \"boot_id\": \"%016" PRIx64 "\",\n", h->boot_id);
	resp_dump_json(h, &tot);   /* responder (issue 13) */
	printf("  \"workers\": %u,\n  \"dp_state\": %u,\n", h->n_workers,
	       atomic_load(&((struct obx_header *)h)->dp_state));
	printf("  \"epochs\": %" PRIu64 ",\n  \"final_epochs\": %" PRIu64 ",\n", n_epochs, n_final);
	printf("  \"forced_epochs\": %" PRIu64 ",\n  \"seq_errors\": %" PRIu64 ",\n", n_forced,
	       seq_errors);
	printf("  \"n_src_mismatch\": %" PRIu64 ",\n  \"bad_worker\": %" PRIu64 ",\n",
	       nsrc_mismatch, bad_worker);
	printf("  \"epoch_split\": %" PRIu64 ",\n  \"cell_syns\": %" PRIu64 ",\n", epoch_split,
	       cov_syns_seen);
	printf("  \"src_records\": %" PRIu64 ",\n  \"tab_records\": [", n_src_records);
	for (d = 0; d < OBX_TAB_MAX; d++)
		printf("%s%" PRIu64, d ? ", " : "", n_tab_records[d]);
	printf("],\n");
	printf("  \"counters\": {\n");
	printf("    \"rx_packets\": %" PRIu64 ",\n    \"rx_bytes\": %" PRIu64 ",\n", tot.rx_packets,
	       tot.rx_bytes);
	printf("    \"tel_packets\": %" PRIu64 ",\n    \"tel_bytes\": %" PRIu64 ",\n",
	       tot.tel_packets, tot.tel_bytes);
	printf("    \"lost_updates\": %" PRIu64 ",\n    \"time_backwards\": %" PRIu64 ",\n",
	       tot.lost_updates, tot.time_backwards);
	printf("    \"forced_swaps\": %" PRIu64 ",\n", tot.forced_swaps);
	printf("    \"fragments\": %" PRIu64 ",\n", tot.reserved[OBX_CTR_FRAGMENTS]);
	printf("    \"fp_syns\": %" PRIu64 ",\n", tot.reserved[OBX_CNT_FP_SYNS]);
	printf("    \"proto\": {");
	for (d = 0; d < OBX_P_N; d++)
		printf("%s\"%s\": %" PRIu64, d ? ", " : "", proto_names[d], tot.proto_packets[d]);
	printf("},\n    \"drops\": {");
	for (d = 0; d < OBX_DROP_N; d++)
		printf("%s\"%s\": %" PRIu64, d ? ", " : "", drop_names[d], tot.drops[d]);
	printf("}\n  },\n  \"ports\": [");
	for (d = 0; d < h->n_ports; d++) {
		const struct obx_port_stats *ps = obx_port_stats((struct obx_header *)h, d);

		printf("%s\n    {\"name\": \"%.*s\", \"ipackets\": %" PRIu64 ", \"ibytes\": %"
		       PRIu64 ", \"imissed\": %" PRIu64 ", \"ierrors\": %" PRIu64
		       ", \"rx_nombuf\": %" PRIu64 "}", d ? "," : "", (int)OBX_NAME_LEN,
		       ps->name, ps->ipackets, ps->ibytes, ps->imissed, ps->ierrors, ps->rx_nombuf);
	}
	printf("%s],\n  \"n_sources\": %" PRIu64 ",\n  \"sources\": [", h->n_ports ? "\n  " : "",
	       srcs.n);
	if (with_sources && srcs.n) {
		list = malloc(srcs.n * sizeof(*list));
		if (list == NULL)
			exit(1);
		for (i = 0; i < srcs.cap; i++)
			if (srcs.r[i].packets)
				list[k++] = srcs.r[i];
		qsort(list, k, sizeof(*list), cmp_rec);
		for (i = 0; i < k; i++) {
			struct in_addr a = { .s_addr = htonl(list[i].addr) };

			printf("%s\n    {\"src\": \"%s\", \"first_ns\": %" PRIu64 ", \"last_ns\": %"
			       PRIu64 ", \"packets\": %" PRIu64 ", \"sensor_mask\": %" PRIu64
			       ", \"tool\": %u, \"tool_syns\": %u, \"tool_other\": %u}",
			       i ? "," : "", inet_ntoa(a), list[i].first_ns, list[i].last_ns,
			       list[i].packets, list[i].sensor_mask, list[i].tool, list[i].tool_syns,
			       list[i].tool_other);
		}
		free(list);
		printf("\n  ");
	}
	printf("]\n}\n");
}

int main(int argc, char **argv)
{
	const char *path = NULL, *why = NULL;
	double timeout_s = 60;
	unsigned delay_ms = 0;
	int once = 0, with_sources = 1, i, fd = -1, rc = 0;
	struct obx_header *h;
	struct stat st;
	uint64_t deadline;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--timeout") == 0 && i + 1 < argc)
			timeout_s = atof(argv[++i]);
		else if (strcmp(argv[i], "--delay-ms") == 0 && i + 1 < argc)
			delay_ms = (unsigned)atoi(argv[++i]);
		else if (strcmp(argv[i], "--once") == 0)
			once = 1;
		else if (strcmp(argv[i], "--no-sources") == 0)
			with_sources = 0;
		else if (argv[i][0] != '-' && path == NULL)
			path = argv[i];
		else {
			fprintf(stderr, "usage: xchg_dump [--timeout S] [--once] [--delay-ms N] "
			        "[--no-sources] PATH\n");
			return 1;
		}
	}
	if (path == NULL) {
		fprintf(stderr, "xchg_dump: no path\n");
		return 1;
	}
	deadline = obs_mono_ns() + (uint64_t)(timeout_s * 1e9);
	while ((fd = open(path, O_RDWR)) < 0) {
		if (errno != ENOENT || obs_mono_ns() > deadline) {
			fprintf(stderr, "xchg_dump: %s: %s\n", path, strerror(errno));
			return 1;
		}
		obs_sleep_ms(5);
	}
	if (fstat(fd, &st) != 0 || st.st_size < (off_t)OBX_HEADER_SIZE) {
		fprintf(stderr, "xchg_dump: %s: too small\n", path);
		return 1;
	}
	h = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (h == MAP_FAILED || obx_header_check(h, (uint64_t)st.st_size, &why) != 0) {
		fprintf(stderr, "xchg_dump: %s: %s\n", path, why ? why : strerror(errno));
		return 1;
	}
	for (;;) {
		uint32_t state = atomic_load_explicit(&h->dp_state, memory_order_acquire);
		int busy = 0;
		uint32_t w, s;

		for (w = 0; w < h->n_workers; w++) {
			struct obx_slot_hdr *ready[OBX_SLOTS];
			uint32_t n_ready = 0;

			for (s = 0; s < OBX_SLOTS; s++) {
				struct obx_slot_hdr *sh = obx_slot(h, w, s);
				uint32_t ss = atomic_load_explicit(&sh->state, memory_order_acquire);

				if (ss == OBX_SLOT_READY)
					ready[n_ready++] = sh;
				else if (ss != OBX_SLOT_FREE)
					busy = 1;
			}
			/* Both slots are READY at once only at the end (the FINAL epoch is
			 * published without waiting for the other slot): lower seq first. */
			if (n_ready == 2 && ready[1]->seq < ready[0]->seq) {
				struct obx_slot_hdr *t = ready[0];

				ready[0] = ready[1];
				ready[1] = t;
			}
			for (s = 0; s < n_ready; s++) {
				if (delay_ms)
					obs_sleep_ms(delay_ms);
				drain_slot(h, ready[s], w);
			}
		}
		if (once)
			break;
		if (state >= OBX_DP_FINISHED && !busy) {
			/* FINISHED is stored after the final publishes: one more pass above
			 * saw them all; confirm nothing is left */
			int left = 0;

			for (w = 0; w < h->n_workers; w++)
				for (s = 0; s < OBX_SLOTS; s++)
					if (atomic_load_explicit(&obx_slot(h, w, s)->state,
					                         memory_order_acquire) != OBX_SLOT_FREE)
						left = 1;
			if (!left)
				break;
		}
		if (obs_mono_ns() > deadline) {
			fprintf(stderr, "xchg_dump: timeout (dp_state %u)\n", state);
			rc = 2;
			break;
		}
		obs_sleep_ms(1);
	}
	print_json(h, with_sources);
	return rc;
}
