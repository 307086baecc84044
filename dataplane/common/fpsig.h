/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fpsig.h — JA4T-style TCP signatures of SYNs (issue 14; docs/fingerprints.md
 * "Signatures").  A SYN no fingerprint rule labels is summed up by its shape, the key
 * struct obx_fpsig_key (exchange_recs.h): window, option kinds in order, MSS, window
 * scale.  Its string is
 *
 *     W_K1-K2-..._M_S
 *
 * W the window in decimal; K the option kinds in order (NOP 1 included), then one 0 per
 * byte from an EOL to the end of the option area (as JA4T lists the padding); M the
 * MSS value; S the window-scale shift; a part that is absent is "00" (no option at all,
 * no MSS option, no window-scale option).  E.g. Nmap -sS "1024_2_1460_00", ZMap 2.x
 * "65535_00_00_00".  A malformed option area (fingerprint.h) keeps its own key (flag
 * OBX_FPSIG_F_BAD) and its string ends in "_bad".
 *
 * Pure C: the worker (pass 1: obs_fpsig_key_of, the hash), the control plane (strings,
 * estimates) and the rules' sig= test (obs_fpsig_parse) share it.
 */
#ifndef OBSCURA_FPSIG_H
#define OBSCURA_FPSIG_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "exchange_recs.h"
#include "fingerprint.h"

/* A signature string's longest form ("65535_" + 40 kinds of up to "254-" + "_65535_255_bad") */
#define OBS_FPSIG_STR_LEN 200u

/* The key of a parsed SYN (the probe of fingerprint.h): fixed packing, unused bytes 0. */
static inline void obs_fpsig_key_of(const struct obs_fp_probe *p, struct obx_fpsig_key *k)
{
	memset(k, 0, sizeof(*k));
	k->win = p->win;
	if (p->has_mss) {
		k->flags |= OBX_FPSIG_F_MSS;
		k->mss = p->mss;
	}
	if (p->has_ws) {
		k->flags |= OBX_FPSIG_F_WS;
		k->ws = p->ws;
	}
	if (p->opt_bad)
		k->flags |= OBX_FPSIG_F_BAD;
	k->n_kinds = p->n_opt <= OBX_FPSIG_KINDS ? p->n_opt : OBX_FPSIG_KINDS;
	k->n_eol = p->n_eol;
	memcpy(k->kinds, p->kinds, k->n_kinds);
}

/* The string of k into buf (OBS_FPSIG_STR_LEN bytes); returns buf. */
char *obs_fpsig_str(const struct obx_fpsig_key *k, char *buf, size_t len);
/* A string (as obs_fpsig_str writes, without "_bad") back into a key: 0 or -1. */
int obs_fpsig_parse(const char *s, struct obx_fpsig_key *k);
/* The distinct sources HyperLogLog registers estimate (64 registers: standard error
 * about 13 %; linear counting while the estimate is under 2.5 x 64). */
double obs_fpsig_hll_estimate(const uint8_t hll[OBX_FPSIG_HLL]);

#endif
