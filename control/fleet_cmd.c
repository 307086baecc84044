/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fleet_cmd.c — what a fleet control plane answers about itself (fleet.h): the
 * `fleet.reload` command, the `status` block, and the commands it refuses.  The load is
 * fleet.c's.
 */
#include <errno.h>
#include <string.h>

#include "commands.h"
#include "cp.h"
#include "fleet.h"
#include "json.h"

void cp_cmd_fleet_reload(struct cp *cp, json_t *args, struct cp_reply *r)
{
	uint64_t before;
	char err[1024];
	int ret;

	(void)args;
	if (!cp->fleet.on) {
		cp_reply_err(r, CP_E_UNAVAILABLE, "fleet.reload: only obscura-cp --fleet reads "
		             "ClickHouse; an appliance's store is its own drain's");
		return;
	}
	before = cp->fleet.epochs;
	ret = cp_fleet_reload(cp, err, sizeof(err));
	if (ret != 0) {
		cp_reply_err(r, ret == -EIO ? CP_E_UNAVAILABLE : CP_E_INTERNAL,
		             "fleet.reload: %s%s", err, ret == -EIO ? "; the last load's answers "
		             "are kept" : "");
		return;
	}
	r->data = json_pack("{s:o, s:o, s:o}", "epochs_before", cp_json_u64(before),
	                    "epochs", cp_json_u64(cp->fleet.epochs),
	                    "fleet", cp_fleet_status(&cp->fleet));
}

json_t *cp_fleet_status(const struct cp_fleet *f)
{
	json_t *o = json_object();

	json_object_set_new(o, "url", json_string(f->url));
	json_object_set_new(o, "database", json_string(f->db));
	json_object_set_new(o, "appliances", cp_json_u64(f->appliances));
	json_object_set_new(o, "epochs", cp_json_u64(f->epochs));
	json_object_set_new(o, "epochs_refused", cp_json_u64(f->epochs_refused));
	json_object_set_new(o, "rows", cp_json_u64(f->rows));
	json_object_set_new(o, "rows_without_epoch", cp_json_u64(f->orphans));
	json_object_set_new(o, "rows_bad", cp_json_u64(f->rows_bad));
	json_object_set_new(o, "tables_missing", cp_json_u64(f->tables_missing));
	/* fleetresp (issue 16) */
	json_object_set_new(o, "dos_table", json_boolean(!f->dos_missing));
	json_object_set_new(o, "resp_h_mismatch", cp_json_u64(f->resp_h_mismatch));
	json_object_set_new(o, "loads", cp_json_u64(f->loads));
	json_object_set_new(o, "reload_failures", cp_json_u64(f->reload_failures));
	json_object_set_new(o, "load_ms", cp_json_u64(f->load_ms));
	json_object_set_new(o, "loaded", cp_json_time(f->loaded_wall_ns));
	return o;
}

/* The commands a fleet does not answer (docs/ctl-v1.md "Fleet"), and why. */
static const struct {
	const char *name, *why;
} fl_refused[] = {
	{ "capture.start", "there is no dataplane to capture from; start it on an appliance" },
	{ "capture.stop", "there is no dataplane to capture from; stop it on its appliance" },
	{ "tables.reload", "the scanner and RESIP tables are the appliances' dataplanes'; the "
	  "fleet reads the flags they recorded" },
	{ "rules.reload", "payload rules run in the appliances' dataplanes; the fleet reads "
	  "the rule matches they recorded" },
	{ "snapshot.now", "a fleet keeps no state of its own (it is read from ClickHouse at "
	  "start); snapshot an appliance" },
};

const char *cp_fleet_refuses(const struct cp_fleet *f, const char *name)
{
	/* fleetresp: a database exported before the DoS table has no DoS data to answer */
	if (f->dos_missing && strncmp(name, "dos.", 4) == 0)
		return "no DoS data: the fleet's database has no obscura_dos table (its "
		       "appliances exported before it)";
	for (size_t i = 0; i < sizeof(fl_refused) / sizeof(fl_refused[0]); i++)
		if (strcmp(fl_refused[i].name, name) == 0)
			return fl_refused[i].why;
	return NULL;
}
