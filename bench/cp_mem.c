/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cp_mem.c — the control plane's memory per tracked source, deterministic: the store and
 * every analysis (as obscura-cp starts them) fed synthetic drained epochs, the resident
 * set measured around it, and the bytes each part says it holds.
 *
 *   cp_mem [SOURCES] [EPOCH_RECORDS] [PASSES]      (default 1000000 1000000 2)
 *
 * Each pass is one hour in which every source sends: one SRC record (1 in 16 flagged
 * RESIP), one EVENT record (a SYN class event) and one CELL record (its /L block, one
 * of 4096 ports, one sample slot), in epochs of EPOCH_RECORDS sources.  The first pass
 * adds every source; the later ones are the steady state (known sources, known cells,
 * same day), which must not grow anything.  Output: one "cpmem" line, MiB per million
 * sources: rss (RssAnon growth) and the parts (sources table, lifetime, resip,
 * coverage cells as their modules count them).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "analysis.h"
#include "commands.h"
#include "cp.h"
#include "exchange_recs.h"
#include "period.h"
#include "scan/covstore.h"
#include "scan/scan_mod.h"
#include "store.h"
#include "telescope.h"
#include "tests/fixtures/proc_status.h"

/* A number from a command's JSON answer: the first member named key, at any depth. */
static double find_num(json_t *j, const char *key)
{
	const char *k;
	json_t *v;
	size_t i;

	if (json_is_object(j)) {
		if ((v = json_object_get(j, key)) != NULL && json_is_number(v))
			return json_number_value(v);
		json_object_foreach(j, k, v) {
			double d = find_num(v, key);
			if (d >= 0)
				return d;
		}
	} else if (json_is_array(j)) {
		json_array_foreach(j, i, v) {
			double d = find_num(v, key);
			if (d >= 0)
				return d;
		}
	}
	return -1;
}

static double cmd_num(struct cp *cp, const char *name, const char *key)
{
	const struct cp_cmd *c = cp_cmd_find(name);
	struct cp_reply r;
	json_t *args = json_object();
	double v;

	if (c == NULL)
		return -1;
	memset(&r, 0, sizeof(r));
	c->fn(cp, args, &r);
	json_decref(args);
	v = r.err == 0 && r.data != NULL ? find_num(r.data, key) : -1;
	json_decref(r.data);
	return v;
}

int main(int argc, char **argv)
{
	unsigned long n_src = argc > 1 ? strtoul(argv[1], NULL, 10) : 1000000;
	unsigned long per = argc > 2 ? strtoul(argv[2], NULL, 10) : 1000000;
	unsigned long passes = argc > 3 ? strtoul(argv[3], NULL, 10) : 2;
	const uint64_t t0 = 472222ull * OBX_HOUR_NS;     /* an hour boundary, a day's start */
	static struct cp cp;
	struct obx_src_rec *sr;
	struct obx_event_rec *er;
	struct obx_cell_rec *cr;
	uint64_t seq = 0;
	uint32_t sample, mask;
	char err[256];
	long r0, r1;
	double part[4], m;

	if (n_src == 0 || n_src > 0xffffffffu || per == 0 || passes == 0 || passes > 24) {
		fprintf(stderr, "usage: cp_mem [SOURCES>0] [EPOCH_RECORDS>0] [PASSES 1..24]\n");
		return 2;
	}
	if (per > n_src)
		per = n_src;
	/* bench/run's live config: one /20 sensor, |S| 4096, every other key its default */
	if (obs_conf_load_string("telescope:\n  sample_cap: 4096\n  sensors:\n"
	                         "    - {name: bench, prefixes: [198.18.0.0/20]}\n",
	                         &cp.conf, err, sizeof(err)) != 0) {
		fprintf(stderr, "cp_mem: config: %s\n", err);
		return 1;
	}
	mask = cp.conf.block_len >= 32 ? ~0u : ~(~0u >> cp.conf.block_len);
	if (cp_store_init(&cp.store) != 0 || cp_analyses_start(&cp) != 0 || cp_scan_cov() == NULL) {
		fprintf(stderr, "cp_mem: cannot start the store and the analyses\n");
		return 1;
	}
	sample = cp_scan_cov()->sample_size;
	sr = calloc(per, sizeof(*sr));
	er = calloc(per, sizeof(*er));
	cr = calloc(per, sizeof(*cr));
	if (sr == NULL || er == NULL || cr == NULL)
		return 1;
	/* the record buffers resident before the first reading: only the cp's part counts */
	memset(sr, 1, per * sizeof(*sr));
	memset(er, 1, per * sizeof(*er));
	memset(cr, 1, per * sizeof(*cr));
	r0 = proc_status_kb("RssAnon");
	for (unsigned long p = 0; p < passes; p++) {
		uint64_t t = t0 + p * OBX_HOUR_NS;

		for (unsigned long b = 0; b < n_src; b += per) {
			uint32_t n = (uint32_t)(n_src - b < per ? n_src - b : per);
			struct cp_epoch e;
			int rc;

			for (uint32_t i = 0; i < n; i++) {
				uint32_t id = (uint32_t)(b + i);
				/* an odd multiplier: distinct sources, distinct addresses */
				uint32_t addr = id * 2654435761u ^ 0x5bd1e995u, h = obs_tel_sample_hash(id);
				bool resip = (id & 15) == 0;
				uint16_t port = (uint16_t)(1 + (h & 4095));

				sr[i] = (struct obx_src_rec){ .addr = addr, .hour = (uint32_t)(t / OBX_HOUR_NS),
				        .first_ns = t + (h & 0xffff), .last_ns = t + (h & 0xffff) + 1000,
				        .packets = 2, .sensor_mask = 1,
				        .flags = resip ? OBX_SRC_F_RESIP : 0, .resip_packets = resip ? 1 : 0 };
				er[i] = (struct obx_event_rec){ .addr = addr, .hour = sr[i].hour,
				        .type = obs_ev_class_id(OBS_EVC_TCP_SYN, port), .count = 2,
				        .first_ns = sr[i].first_ns, .last_ns = sr[i].last_ns };
				cr[i] = (struct obx_cell_rec){ .block = addr & mask,
				        .period = obs_period_index(cp.conf.period, t), .dport = port,
				        .proto = 6, .syns = 2, .n_inline = 1,
				        .inline_slot = { (h >> 12) % sample } };
			}
			memset(&e, 0, sizeof(e));
			e.boot_id = 1;
			e.seq = ++seq;
			e.t_first_ns = t;
			e.t_last_ns = t + OBX_HOUR_NS - 1;
			if (cp_epoch_add_tab(&e, OBX_TAB_SRC, sizeof(*sr), sr, n) != 0 ||
			    cp_epoch_add_tab(&e, OBX_TAB_CELL, sizeof(*cr), cr, n) != 0 ||
			    cp_epoch_add_tab(&e, OBX_TAB_EVENT, sizeof(*er), er, n) != 0)
				return 1;
			rc = cp_store_apply(&cp.store, &e);
			if (rc != 0) {
				fprintf(stderr, "cp_mem: epoch %llu refused: %s\n",
				        (unsigned long long)seq, strerror(-rc));
				return 1;
			}
		}
	}
	r1 = proc_status_kb("RssAnon");
	m = 1e6 / (double)n_src / 1048576.0;
	part[0] = (double)cp_store_src_bytes(&cp.store);
	part[1] = cmd_num(&cp, "life.summary", "memory_bytes");
	part[2] = cmd_num(&cp, "resip.summary", "memory_bytes");
	part[3] = (double)cov_store_bytes(cp_scan_cov());
	printf("cpmem sources %lu epoch %lu passes %lu tracked %u cells %u: rss %.1f MiB/M, "
	       "sources table %.1f, lifetime %.1f, resip %.1f, coverage cells %.1f\n",
	       n_src, per, passes, cp.store.src.n, cp_scan_cov()->cells.n,
	       (double)(r1 - r0) * 1024 * m, part[0] * m, part[1] * m, part[2] * m, part[3] * m);
	cp_analyses_stop();
	cp_store_fini(&cp.store);
	free(sr);
	free(er);
	free(cr);
	return 0;
}
