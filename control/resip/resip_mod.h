/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * resip_mod.h — the RESIP analysis (SPEC.md B) inside the control plane, shared by its
 * files: resip_mod.c (SRC (RESIP-flagged) and RESIP_PORT consumers into resip.c, the
 * snapshot section CP_SNAP_S_RESIP, the control plane's copy of the RESIP table —
 * resip.table, re-read when the file changes; a bad file keeps the old copy and its
 * error is shown —, the B3 geography sources enrich.*, the ops table
 * cp_analysis_resip), cmd_resip.c (the resip.* commands) and resip_report.c (the
 * "resip" report writer: Tables 3-8, A.1 as CSV + Markdown, Figures 4-6 as SVG).
 * Main loop only.
 */
#ifndef OBSCURA_CP_RESIP_MOD_H
#define OBSCURA_CP_RESIP_MOD_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include <jansson.h>

#include "commands.h"
#include "exchange.h"
#include "loader.h"
#include "resip.h"
#include "resip_geo.h"
#include "resip_load.h"

/* The analysis' snapshot section (snapshot.h: the analyses' numbers). */
#define CP_SNAP_S_RESIP 17

struct cp_resip_mod {
	struct cp *cp;
	struct cp_resip *st;
	/* the control plane's copy of the RESIP table */
	struct resip_table *tab;
	char tab_err[512];
	struct timespec tab_mtime;
	off_t tab_size;
	uint64_t tab_loaded_wall_ns;
	struct cp_loader loader;        /* a read of resip.table, or the old copy's free, under
	                                 * way (loader.h) */
	bool refresh_pending;           /* a refresh came while the loader was busy */
	/* geography sources (opened lazily, kept) */
	struct cp_geo *geo;
	struct cp_rdns *rdns;
	struct resip_orgmap *orgs;
	bool geo_tried;
	char geo_err[512];
	uint64_t nomem;
};

extern struct cp_resip_mod cp_resip_mod;

/* The ops table (analysis.h) this folder registers through. */
struct cp_analysis;
extern const struct cp_analysis cp_analysis_resip;

extern const char *const cp_resip_proto_names[OBX_P_N];

/* Live PTR lookups a geography query may spend (rdns.h's budget). */
#define RESIP_PTR_BUDGET_MS 5000u

/* (Re)read resip.table when it changed on disk; a bad file keeps the old copy.  With
 * wait (start-up) the read happens now; otherwise on the loader's thread, and the copy
 * in use stays until the poll hook adopts the new one. */
void cp_resip_table_refresh(bool wait);
/* The copy as `resip summary` and `tables status` show it. */
json_t *cp_resip_table_json(void);
/* The providers listing addr in the copy: a JSON array / "a;b" into out. */
json_t *cp_resip_providers_json(uint32_t addr);
void cp_resip_providers_str(uint32_t addr, char *out, size_t len);

/* The geography's databases and PTR source, opened at first use.  0 or -ENOENT with
 * err set. */
int cp_resip_geo_open(char *err, size_t errlen);
/* One geography view of the copy (SPEC B3).  0 or -errno with err set. */
int cp_resip_geo_compute(const char *cc, enum resip_geo_by by, struct resip_geo_table *g,
                         char *err, size_t errlen);

/* Helpers the commands and the report share. */
void cp_resip_day_str(uint32_t day, char *buf, size_t len);   /* YYYY-MM-DD */
json_t *cp_resip_day_json(uint32_t day);
const char *cp_resip_service_name(uint8_t proto, uint16_t port);
double cp_resip_share(uint64_t a, uint64_t b);

/* The report writer (report.h). */
int cp_resip_report(void *ctx, const char *dir, char *err, size_t errlen);

/* ---- cmd_resip.c: the resip.* commands (their handlers are its own) ---- */

extern const struct cp_cmd cp_resip_commands[];

#endif
