/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fp_probe.h — the fingerprint inputs of one parsed TCP SYN (issue 14): the worker's
 * fingerprint stage and the unit tests take them from here, so both test one thing.
 */
#ifndef OBSCURA_FP_PROBE_H
#define OBSCURA_FP_PROBE_H

#include "fingerprint.h"
#include "parse.h"

/* Fill p from meta and the TCP option area in frame[0..len) (the bytes present).  An
 * option area that is not all present reads as malformed (no opts= rule holds). */
static inline void obs_fp_probe_of(const uint8_t *frame, uint32_t len,
                                   const struct obs_pkt_meta *meta, struct obs_fp_probe *p)
{
	uint32_t o = (uint32_t)meta->tcp_off + 20u, e = (uint32_t)meta->tcp_off + meta->tcp_hlen;

	p->dst = meta->dst;
	p->seq = meta->tcp_seq;
	p->dport = meta->dport;
	p->ip_id = meta->ip_id;
	p->win = meta->tcp_win;
	p->ttl = meta->ttl;
	p->mss = 0;
	p->ws = 0;
	obs_fp_options(frame + (o <= len ? o : len), e <= len && e > o ? e - o : 0, p);
	if (e > len)
		p->opt_bad = 1;
}

/* The label of one SYN under set fs (0: none). */
static inline uint8_t obs_fp_label(const struct obs_fp_set *fs, const uint8_t *frame,
                                   uint32_t len, const struct obs_pkt_meta *meta)
{
	struct obs_fp_probe p;

	obs_fp_probe_of(frame, len, meta, &p);
	return obs_fp_match(fs, &p);
}

#endif
