/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dos_mod.h — the DoS backscatter analysis (docs/dos.md) inside the control plane,
 * shared by its files: dos_mod.c (the consumer of the exchange's kind-6 records into
 * dos.c, snapshot section CP_SNAP_S_DOS, /metrics, the ops table cp_analysis_dos),
 * cmd_dos.c (dos.list, dos.show) and dos_report.c (dos-attacks.csv/.md,
 * dos-timeline.svg).  Main loop only.
 *
 * Every kind-6 record is offered to cp_dos_add(); malformed ones (cp_dos_rec_ok) are
 * counted in bad_records and change nothing.  Journal replay after a snapshot re-adds
 * the epochs the snapshot does not hold, in their order, so a restart keeps the attacks.
 */
#ifndef OBSCURA_CP_DOS_MOD_H
#define OBSCURA_CP_DOS_MOD_H

#include <jansson.h>

#include "commands.h"
#include "dos.h"

/* The analysis' snapshot section (snapshot.h: the analyses' numbers). */
#define CP_SNAP_S_DOS 22

struct cp_dos_mod {
	struct cp *cp;
	struct cp_dos *dos;
	uint64_t dark_size;            /* |D|: the telescope's addresses */
	const struct obx_dos_rec **order;   /* an epoch's records in (victim, time) order */
	size_t order_cap;
	/* --fleet: every appliance's records held until the load ends, then grouped in one
	 * (victim, time) order — the epochs arrive appliance by appliance, not in time */
	struct obx_dos_rec *held;
	size_t n_held, held_cap;
};

extern struct cp_dos_mod cp_dos_mod;

struct cp_analysis;
extern const struct cp_analysis cp_analysis_dos;

/* The attack rate extrapolated to the whole IPv4 space: rate x 2^32 / |D|. */
double cp_dos_mod_extrapolated(const struct cp_dos_flow *f);
/* One flow as the ctl replies and the report show it (docs/ctl-v1.md "dos"). */
json_t *cp_dos_flow_json(const struct cp_dos_flow *f);
/* The attacks overlapping [from_ns, to_ns) with an extrapolated rate >= min_rate (and,
 * victim != 0, of that victim; with_open: also its flow not yet an attack), by start:
 * malloc'ed pointers into the table (valid until the next merge), *n of them. */
int cp_dos_select(uint64_t from_ns, uint64_t to_ns, double min_rate, uint32_t victim,
                  bool with_open, const struct cp_dos_flow ***out, size_t *n);

extern const struct cp_cmd cp_dos_commands[];

int cp_dos_report_files(const char *dir, char *err, size_t errlen);

#endif
