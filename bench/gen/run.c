/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * run.c — obscura-gen's event loop (gen.h): every planned process's packets, merged in
 * time order and written as they come.
 *
 * Processes wait in start order and join a binary heap (keyed by next packet time, then
 * creation order) when they start, so the heap holds only the live ones.  One step emits
 * one packet of one process: the scanners walk their periods' (port, address)
 * permutations, the malformed stream spreads its frames evenly over the span, every other
 * kind follows its session schedule (plan.c).
 *
 * Time: packet times are non-decreasing.  With --backwards-share, a valid packet B is
 * sometimes emitted right after a packet A of the same source with A.time > B.time >
 * (that source's previous packet time), and the source has later packets; so B is
 * "before the previous packet" however that is read (file order, per worker with RSS on
 * the source, against the latest time seen), and min/max first/last per source are not
 * changed by it.  Main thread only.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gen.h"

static inline bool gen_before(uint32_t a, uint32_t b)
{
	const struct gen_proc *x = &gen_proc[a], *y = &gen_proc[b];
	return x->t < y->t || (x->t == y->t && x->id < y->id);
}

static uint32_t *gen_heap;
static uint32_t gen_heap_n;

static void gen_heap_down(uint32_t i)
{
	uint32_t v = gen_heap[i];
	for (;;) {
		uint32_t c = 2 * i + 1;
		if (c >= gen_heap_n)
			break;
		if (c + 1 < gen_heap_n && gen_before(gen_heap[c + 1], gen_heap[c]))
			c++;
		if (!gen_before(gen_heap[c], v))
			break;
		gen_heap[i] = gen_heap[c];
		i = c;
	}
	gen_heap[i] = v;
}

static void gen_heap_push(uint32_t v)
{
	uint32_t i = gen_heap_n++;
	while (i) {
		uint32_t par = (i - 1) / 2;
		if (!gen_before(v, gen_heap[par]))
			break;
		gen_heap[i] = gen_heap[par];
		i = par;
	}
	gen_heap[i] = v;
}

static int gen_cmp_start(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return gen_before(x, y) ? -1 : gen_before(y, x) ? 1 : 0;
}

/* Advance a session process after one packet; false when it is done. */
static bool gen_sess_next(struct gen_proc *p)
{
	if (!--p->left)
		return false;
	if (p->left_sess) {
		p->left_sess--;
		p->t += (uint64_t)gen_exp(p->gap_ns);
	} else {
		p->sess++;
		uint64_t plan = p->t0;
		if (p->n_sess > 1) {   /* session s starts in [s, s + 1/2) * life / k: all inside the lifetime */
			uint64_t step = p->life / p->n_sess;
			plan += step * p->sess + gen_below(step / 2 + 1);
		}
		if (plan > p->t)
			p->t = plan;
		p->left_sess = p->per_sess + (p->sess < p->extra_sess) - 1;
	}
	if (p->t >= gen_opt.end_ns)
		p->t = gen_opt.end_ns - 1;
	return true;
}

/* Emit the next packet of p at p->t; false when p is finished. */
static bool gen_step(struct gen_proc *p)
{
	struct gen_pkt k;
	unsigned sensor;
	uint32_t dst;
	switch ((enum gen_kind)p->kind) {
	case GEN_K_MALFORMED: {
		uint8_t *f = gen_frame_slot();
		unsigned fam = (unsigned)(p->j % OBX_DROP_N), proto;
		uint32_t len;
		if (fam == OBX_DROP_NOT_TELESCOPE)
			len = gen_not_telescope(f, p->j / OBX_DROP_N, &proto);
		else
			len = gen_malformed(f, fam, p->j / OBX_DROP_N);
		gen_frame_commit(p->t, len);
		gen_tot.drops[fam]++;
		p->j++;
		if (!--p->left)
			return false;
		/* even spread with jitter; never decreasing */
		uint64_t next = gen_opt.start_ns + (uint64_t)((unsigned __int128)gen_opt.span_ns * p->j / p->n_sess) +
		                gen_below(gen_opt.span_ns / p->n_sess + 1);
		if (next > p->t)
			p->t = next;
		if (p->t >= gen_opt.end_ns)
			p->t = gen_opt.end_ns - 1;
		return true;
	}
	case GEN_K_SCAN_ROUTINE: case GEN_K_SCAN_SEMI: case GEN_K_SCAN_ADHOC:
	case GEN_K_SCAN_NEAR: case GEN_K_SCAN_SMALL: {
		struct gen_scan *s = &gen_scans[p->src];
		struct gen_scan_period *pp = &s->periods[p->sess];
		uint64_t idx = (uint64_t)(((unsigned __int128)pp->mul * p->j + pp->add) % pp->n_pairs);
		uint32_t si = s->src0 + (uint32_t)(p->j % s->n_hosts);
		struct gen_src *src = &gen_src[si];
		dst = gen_tel_addr(idx % gen_tel_size, &sensor);
		memset(&k, 0, sizeof k);
		k.src = src->addr; k.dst = dst; k.proto = 6; k.flags = OBS_TCP_SYN;
		k.ttl = src->ttl; k.id = 54321;   /* ZMap's fixed IP id */
		k.sport = (uint16_t)(32768 + (src->ip_id & 0x3fff)); k.dport = pp->ports[idx / gen_tel_size];
		k.seq = (uint32_t)gen_rand(); k.win = s->win;
		if (s->syn_opt) { k.opt = gen_opt_mss; k.optlen = 4; }
		gen_emit_valid(p->t, si, &k, sensor);
		if (!--p->left)
			return false;
		if (++p->j == pp->count) {
			p->sess++;
			p->j = 0;
			pp = &s->periods[p->sess];
			if (pp->w0 > p->t)
				p->t = pp->w0;
		} else {
			uint64_t t = pp->w0 + (uint64_t)((unsigned __int128)pp->dur * p->j / pp->count);
			if (t > p->t)
				p->t = t;
		}
		return true;
	}
	default:
		break;
	}
	/* single-source kinds */
	struct gen_src *s = &gen_src[p->src];
	uint64_t prev_last = s->packets ? s->last_ns : 0;
	dst = gen_tel_random(&sensor);
	gen_shape(p, s, &k, dst);
	gen_emit_valid(p->t, p->src, &k, sensor);
	/* An out-of-order copy right behind it: see the file comment for why this shape. */
	if (gen_opt.backwards_share > 0 && p->left >= 3 && prev_last && p->t - prev_last >= 2 &&
	    gen_unit() < gen_opt.backwards_share) {
		uint64_t lo = prev_last + 1, span = p->t - lo;
		if (span > 10 * GEN_NS)
			lo = p->t - 10 * GEN_NS, span = 10 * GEN_NS;
		uint64_t tb = lo + gen_below(span);
		dst = gen_tel_random(&sensor);
		gen_shape(p, s, &k, dst);
		gen_emit_valid(tb, p->src, &k, sensor);
		gen_tot.time_backwards++;
		p->left--;
		/* keep the session bookkeeping consistent: B used one of this session's packets */
		if (p->left_sess)
			p->left_sess--;
	}
	return gen_sess_next(p);
}

void gen_run(void)
{
	uint32_t *order = malloc((size_t)gen_n_proc * sizeof *order);
	gen_heap = malloc((size_t)gen_n_proc * sizeof *gen_heap);
	if (!order || !gen_heap) {
		fprintf(stderr, "obscura-gen: out of memory\n");
		exit(1);
	}
	for (uint32_t i = 0; i < gen_n_proc; i++)
		order[i] = i;
	qsort(order, gen_n_proc, sizeof *order, gen_cmp_start);
	uint32_t pi = 0;
	/* Processes wait in start order and join the heap when they start: the heap holds
	 * only the live ones, which keeps it small and the loop fast. */
	while (pi < gen_n_proc || gen_heap_n) {
		uint32_t cur;
		bool from_heap;
		if (gen_heap_n && (pi == gen_n_proc || gen_before(gen_heap[0], order[pi]))) {
			cur = gen_heap[0];
			from_heap = true;
		} else {
			cur = order[pi++];
			from_heap = false;
		}
		bool more = gen_step(&gen_proc[cur]);
		if (from_heap) {
			if (more) {
				gen_heap_down(0);
			} else {
				gen_heap[0] = gen_heap[--gen_heap_n];
				if (gen_heap_n)
					gen_heap_down(0);
			}
		} else if (more) {
			gen_heap_push(cur);
		}
	}
	free(order);
}
