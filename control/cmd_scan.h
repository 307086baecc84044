/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cmd_scan.h — SPEC.md A in the control plane: the coverage store (fed by the drain),
 * the analysis at period close, and the scan.* ctl handlers (cmd_scan.c).
 * Main loop only.
 */
#ifndef OBSCURA_CP_CMD_SCAN_H
#define OBSCURA_CP_CMD_SCAN_H

#include <stdint.h>

#include <jansson.h>

#include "commands.h"
#include "covstore.h"
#include "cp.h"

struct cp_geo;

/* The module: |S| from the config's telescope, the OBX_TAB_CELL consumer, the snapshot
 * section, the "scan" report writer, the scanner list and the country database.  Call
 * once before the snapshot is loaded.  0 or -errno (logged). */
int cp_scan_module_init(struct cp *cp);
void cp_scan_module_fini(void);

/* (Re)initialise the coverage store for |S| = sample_size with the config's L and period
 * unit (a no-op when they already match).  0 or -errno. */
int cp_scan_init(const struct cp *cp, uint32_t sample_size);
/* Take over cs (e.g. loaded from a snapshot); cs is left empty. */
int cp_scan_adopt(struct cov_store *cs);
void cp_scan_fini(void);
/* The store, or NULL before cp_scan_init. */
struct cov_store *cp_scan_cov(void);

/* The scanner table file for the overlap column.  0, or -errno / -EINVAL (rejected
 * lines) with err; the previous list stays. */
int cp_scan_load_scanners(const char *path, char *err, size_t errlen);
/* Country lookups (owned from now on; NULL: none). */
void cp_scan_set_geo(struct cp_geo *g);
void cp_scan_geo_close(void);

/* One drained slot's CELL table and BITMAP pool into cs (see cmd_scan.c).  Returns the
 * records applied or -ENOMEM; malformed records are skipped and counted in *bad. */
long cp_scan_apply_cells(struct cov_store *cs, const void *cells, uint32_t cap,
                         const void *pool, uint32_t n_pool, uint32_t rec_size, uint64_t *bad);

/* A cell of this period was drained: when it is newer than the open period, the older
 * periods are closed and analysed.  Returns 1 when an analysis ran, 0, or -ENOMEM. */
int cp_scan_period_seen(struct cp *cp, uint32_t period);
/* Drain instrumentation: one epoch's coverage records took ns. */
void cp_scan_note_drain(uint64_t ns, uint64_t records);

/* Argument specs for the command table (commands.c). */
extern const struct cp_arg cp_args_scan_list[], cp_args_scan_show[], cp_args_scan_ports[],
	cp_args_scan_cells[], cp_args_scan_report[];

void cp_cmd_scan_list(struct cp *cp, json_t *args, struct cp_reply *r);
void cp_cmd_scan_show(struct cp *cp, json_t *args, struct cp_reply *r);
void cp_cmd_scan_ports(struct cp *cp, json_t *args, struct cp_reply *r);
void cp_cmd_scan_params(struct cp *cp, json_t *args, struct cp_reply *r);
void cp_cmd_scan_cells(struct cp *cp, json_t *args, struct cp_reply *r);
void cp_cmd_scan_report(struct cp *cp, json_t *args, struct cp_reply *r);

#endif
