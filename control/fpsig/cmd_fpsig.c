/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cmd_fpsig.c — `fingerprints signatures [N]` (ctl fingerprints.signatures,
 * docs/ctl-v1.md): the signatures of the SYNs no rule labels, most SYNs first, with
 * their sources (HyperLogLog estimate) and share of the unlabelled SYNs, and the table's
 * evicted and refused counters.  Main loop only.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "fpsig.h"
#include "fpsig_mod.h"
#include "json.h"

#define FPSIG_N_DEFAULT 20

static const struct cp_arg cp_args_fpsig[] = {
	{ "n", CP_ARG_INT, false, 1, CP_FPSIG_MAX, "signatures listed (default 20)", false },
	{ NULL, CP_ARG_STR, false, 0, 0, NULL, false },
};

static void cp_cmd_fpsig(struct cp *cp, json_t *args, struct cp_reply *r)
{
	const struct cp_fpsig_store *s = &cp_fpsig_table;
	json_t *jn = json_object_get(args, "n");
	size_t n = jn != NULL ? (size_t)json_integer_value(jn) : FPSIG_N_DEFAULT;
	const struct cp_fpsig_ent **v;
	long k = cp_fpsig_store_top(s, n, &v);
	json_t *rows;

	(void)cp;
	if (k < 0) {
		cp_reply_err(r, CP_E_INTERNAL, "out of memory");
		return;
	}
	rows = json_array();
	for (long i = 0; i < k; i++) {
		char str[OBS_FPSIG_STR_LEN], id[16];

		snprintf(id, sizeof(id), "%08x", v[i]->sig);
		json_array_append_new(rows, json_pack("{s:s, s:s, s:o, s:o, s:f}",
			"signature", obs_fpsig_str(&v[i]->key, str, sizeof(str)), "id", id,
			"syns", cp_json_u64(v[i]->syns),
			"sources", cp_json_u64((uint64_t)llround(obs_fpsig_hll_estimate(v[i]->hll))),
			"share", s->st.syns ? (double)v[i]->syns / (double)s->st.syns : 0.0));
	}
	free(v);
	r->data = json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
		"signatures", rows, "held", cp_json_u64(s->ht.n), "capacity", cp_json_u64(s->max),
		"unlabelled_syns", cp_json_u64(s->st.syns), "records", cp_json_u64(s->st.records),
		"bad_records", cp_json_u64(s->st.bad_records), "evicted", cp_json_u64(s->st.evicted),
		"evicted_syns", cp_json_u64(s->st.evicted_syns));
}

const struct cp_cmd cp_fpsig_commands[] = {
	{ "fingerprints.signatures", cp_cmd_fpsig, cp_args_fpsig, CP_ACCESS_READ, false,
	  "signatures of the SYNs no rule labels (docs/fingerprints.md), most SYNs first: [N]" },
	{ NULL, NULL, NULL, CP_ACCESS_READ, false, NULL },
};
