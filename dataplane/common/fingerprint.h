/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fingerprint.h — scanner-tool fingerprints of TCP SYNs (issue 14 item 1;
 * docs/fingerprints.md).  A fingerprint file (conf/fingerprints.txt) lists rules, each
 * a label id, a tool name, the versions it holds for, a conjunction of header tests and
 * the source-code citation it was derived from.  The first rule that matches a SYN
 * labels it; a SYN no rule matches has label 0 ("none").
 *
 * Pure C, no DPDK: the dataplane builds a set on the main lcore and publishes it through
 * the RCU holder (tables.h OBS_TABLE_FP); the control plane loads the same file for the
 * label names; the unit tests call obs_fp_match() directly.
 *
 * File format (one rule a line, '#' comments, blank lines ignored):
 *   version 1
 *   fp ID NAME VERSIONS TEST... | SOURCE-CITATION
 * ID 1..OBS_FP_MAX_ID, unique; NAME [a-z0-9_.-]{1,23}; VERSIONS free text without
 * blanks (e.g. "<4.1.0", ">=1.0", "all").  TESTs (all must hold):
 *   ipid=N            IP identification == N
 *   ipid=masscan      IP identification == (dst ^ dport ^ seq) & 0xffff
 *   seq=dst           TCP sequence number == destination address
 *   win=N[,N...]      TCP window is one of the values (at most 8)
 *   opts=K[,K...]     TCP option kinds, in order, exactly (NOP 1 included, EOL 0 and
 *                     what follows it not); opts=- : no option at all
 *   mss=N             an MSS option with value N
 *   ws=N              a window-scale option with shift N
 *   ttl<=N / ttl>=N   IP TTL bound
 *   sig=W_K-K.._M_S   the SYN's JA4T-style signature string is exactly this (fpsig.h):
 *                     window, option kinds with trailing EOL bytes as 0, MSS, scale
 * A rule needs at least one test and a citation after '|'.  The whole file is refused
 * (NULL and a "PATH:LINE: reason" error) on any bad line, a missing or unknown version
 * line, a duplicate id, or no rule at all.
 */
#ifndef OBSCURA_FINGERPRINT_H
#define OBSCURA_FINGERPRINT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "exchange_recs.h"

#define OBS_FP_FORMAT_VERSION 1
#define OBS_FP_MAX_ID    63u      /* label ids 1..63; 0 = no label */
#define OBS_FP_MAX_RULES 64u
#define OBS_FP_MAX_OPT   12u      /* option kinds kept per SYN (a 40-byte option area) */
#define OBS_FP_MAX_WIN   8u
#define OBS_FP_NAME_LEN  24u
#define OBS_FP_VER_LEN   24u
#define OBS_FP_CITE_LEN  160u

/* What a rule may test of one SYN (host byte order). */
struct obs_fp_probe {
	uint32_t dst, seq;
	uint16_t dport, ip_id, win, mss;
	uint8_t  ttl, ws;
	uint8_t  has_mss, has_ws;
	uint8_t  n_opt;               /* option kinds in kinds[] before an EOL */
	uint8_t  opt_bad;             /* the option area was malformed (no opts= rule holds) */
	uint8_t  n_eol;               /* bytes from an EOL to the area's end (0: no EOL) */
	uint8_t  kinds[OBX_FPSIG_KINDS];   /* every kind of a 40-byte area (signatures) */
};

#define OBS_FP_T_IPID     0x001u
#define OBS_FP_T_MASSCAN  0x002u
#define OBS_FP_T_SEQDST   0x004u
#define OBS_FP_T_WIN      0x008u
#define OBS_FP_T_OPTS     0x010u
#define OBS_FP_T_MSS      0x020u
#define OBS_FP_T_WS       0x040u
#define OBS_FP_T_TTLMAX   0x080u
#define OBS_FP_T_TTLMIN   0x100u
#define OBS_FP_T_SIG      0x200u  /* fingerprint signatures: sig= (fpsig.h) */

struct obs_fp_rule {
	uint32_t tests;               /* OBS_FP_T_* */
	uint16_t ip_id, mss;
	uint16_t win[OBS_FP_MAX_WIN];
	uint8_t  n_win;
	uint8_t  ws, ttl_max, ttl_min;
	uint8_t  n_opt;
	uint8_t  kinds[OBS_FP_MAX_OPT];
	uint8_t  id;
	struct obx_fpsig_key sig;     /* OBS_FP_T_SIG: the shape named (flags MSS/WS only) */
	char     name[OBS_FP_NAME_LEN];
	char     versions[OBS_FP_VER_LEN];
	char     cite[OBS_FP_CITE_LEN];
};

struct obs_fp_set {
	unsigned n;
	unsigned version;             /* the file's format version */
	uint64_t generation;          /* set by the dataplane's reload */
	char path[256];
	struct obs_fp_rule rule[OBS_FP_MAX_RULES];
	const char *name_of[OBS_FP_MAX_ID + 1];   /* label id -> rule name; NULL: unused */
};

/* Parse the TCP option area opt[0..len) into p (kinds, MSS, window scale). */
void obs_fp_options(const uint8_t *opt, uint32_t len, struct obs_fp_probe *p);

/* Load a fingerprint file: the set (free with obs_fp_free) or NULL with err set. */
struct obs_fp_set *obs_fp_load(const char *path, char *err, size_t errlen);
/* The same from a NUL-terminated buffer (what obs_fp_load reads); name is for errors. */
struct obs_fp_set *obs_fp_parse(const char *buf, const char *name, char *err, size_t errlen);
void obs_fp_free(void *set);

static inline int obs_fp_rule_match(const struct obs_fp_rule *r, const struct obs_fp_probe *p)
{
	uint32_t t = r->tests;

	if ((t & OBS_FP_T_IPID) && p->ip_id != r->ip_id)
		return 0;
	if ((t & OBS_FP_T_MASSCAN) &&
	    p->ip_id != (uint16_t)((p->dst ^ p->dport ^ p->seq) & 0xffffu))
		return 0;
	if ((t & OBS_FP_T_SEQDST) && p->seq != p->dst)
		return 0;
	if (t & OBS_FP_T_WIN) {
		unsigned k;
		for (k = 0; k < r->n_win && r->win[k] != p->win; k++)
			;
		if (k == r->n_win)
			return 0;
	}
	if ((t & OBS_FP_T_OPTS) &&
	    (p->opt_bad || p->n_opt != r->n_opt || memcmp(p->kinds, r->kinds, r->n_opt) != 0))
		return 0;
	if ((t & OBS_FP_T_MSS) && (!p->has_mss || p->mss != r->mss))
		return 0;
	if ((t & OBS_FP_T_WS) && (!p->has_ws || p->ws != r->ws))
		return 0;
	if ((t & OBS_FP_T_TTLMAX) && p->ttl > r->ttl_max)
		return 0;
	if ((t & OBS_FP_T_TTLMIN) && p->ttl < r->ttl_min)
		return 0;
	if ((t & OBS_FP_T_SIG) &&      /* fingerprint signatures: the whole shape */
	    (p->opt_bad || p->win != r->sig.win || p->n_opt != r->sig.n_kinds ||
	     p->n_eol != r->sig.n_eol || p->has_mss != !!(r->sig.flags & OBX_FPSIG_F_MSS) ||
	     p->has_ws != !!(r->sig.flags & OBX_FPSIG_F_WS) ||
	     (p->has_mss && p->mss != r->sig.mss) || (p->has_ws && p->ws != r->sig.ws) ||
	     memcmp(p->kinds, r->sig.kinds, p->n_opt) != 0))
		return 0;
	return 1;
}

/* The label of one SYN: the first matching rule's id, 0 when none matches. */
static inline uint8_t obs_fp_match(const struct obs_fp_set *s, const struct obs_fp_probe *p)
{
	for (unsigned i = 0; i < s->n; i++)
		if (obs_fp_rule_match(&s->rule[i], p))
			return s->rule[i].id;
	return 0;
}

/* Name of a label id ("none" for 0, "tool<N>" for an id the set does not hold). */
const char *obs_fp_name(const struct obs_fp_set *s, unsigned id, char *buf, size_t len);

#endif
