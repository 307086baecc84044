/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fpsig_mod.c — the SYN-signature analysis in the control plane (fpsig_mod.h): the
 * exchange's kind-7 records into the bounded table (fpsig_store.h), its snapshot
 * section 23, its metrics and the ops table.  Main loop only.
 */
#include <errno.h>
#include <string.h>

#include "analysis.h"
#include "cp_log.h"
#include "fpsig_mod.h"
#include "metrics.h"

struct cp_fpsig_store cp_fpsig_table;
static struct cp_fpsig_store *const S = &cp_fpsig_table;

/* The table's room is reserved at init; prepare makes room to rank an epoch's new
 * signatures against a full table, so apply cannot fail. */
static int fpsig_merge(const struct cp_epoch *e, const void *recs, uint32_t n)
{
	(void)e;
	if (recs == NULL)
		return cp_fpsig_store_reserve(S, n);
	cp_fpsig_store_merge(S, recs, n);
	return 0;
}

static int fpsig_snap_blob(uint8_t **buf, size_t *len)
{
	return cp_fpsig_store_save(S, buf, len);
}

static int fpsig_snap_load(const void *data, size_t len, char *err, size_t errlen)
{
	return cp_fpsig_store_load(S, data, len, err, errlen);
}

static void fpsig_snap_reset(void)
{
	cp_fpsig_store_clear(S);
}

static void fpsig_metrics(struct cp *cp, struct cp_mx *x)
{
	(void)cp;
	cp_mx_family(x, "obscura_fpsig_signatures", "gauge",
	             "SYN signatures held (docs/fingerprints.md \"Signatures\").");
	cp_mx_u64(x, S->ht.n, 0);
	cp_mx_family(x, "obscura_fpsig_syns_total", "counter",
	             "Unlabelled SYNs of the signature records merged.");
	cp_mx_u64(x, S->st.syns, 0);
	cp_mx_family(x, "obscura_fpsig_bad_records_total", "counter",
	             "Signature records (exchange kind 7) refused as malformed.");
	cp_mx_u64(x, S->st.bad_records, 0);
	cp_mx_family(x, "obscura_fpsig_evicted_total", "counter",
	             "Signatures dropped from the full table (the fewest SYNs).");
	cp_mx_u64(x, S->st.evicted, 0);
}

static int fpsig_init(struct cp *cp)
{
	int rc;

	(void)cp;
	rc = cp_fpsig_store_init(S, CP_FPSIG_MAX);
	if (rc != 0)
		CP_ERR("fpsig: cannot allocate %u signatures", CP_FPSIG_MAX);
	return rc;
}

static void fpsig_fini(void)
{
	cp_fpsig_store_fini(S);
}

const struct cp_analysis cp_analysis_fpsig = {
	.name = "fpsig", .init = fpsig_init, .fini = fpsig_fini,
	.consumers = { { OBX_TAB_FPSIG, sizeof(struct obx_fpsig_rec), fpsig_merge } },
	.snap = { .type = CP_SNAP_S_FPSIG, .blob = fpsig_snap_blob, .load = fpsig_snap_load,
	          .reset = fpsig_snap_reset },
	.commands = cp_fpsig_commands, .metrics = fpsig_metrics,
};
