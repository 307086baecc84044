/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fleet.h — `obscura-cp --fleet`: the analyses over every appliance that exported into
 * one ClickHouse (docs/export.md "Fleet").
 *
 * At start the fleet control plane reads the exported rows of every epoch
 * (SELECT ... FINAL from export.clickhouse.database, typically the Distributed tables
 * over the shards), rebuilds each epoch as the drain would have handed it over (struct
 * cp_epoch: its SRC records with their inline events, coverage cells with their slot
 * sets inline or in a BITMAP pool, events, RESIP ports, the loss stamp's counters) and
 * applies it to the store through cp_store_apply() — the same consumers the drain feeds —
 * then lets the analyses derive (after_epochs) and serves the ctl socket without a
 * dataplane.  An epoch is keyed (appliance, boot, worker, seq); the store sees boot ids
 * made distinct per appliance (a hash of both), so two appliances' epochs never collide.
 */
#ifndef OBSCURA_CP_FLEET_H
#define OBSCURA_CP_FLEET_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

struct cp;

struct cp_fleet {
	bool on;
	char url[512];
	char db[64];
	uint64_t epochs;              /* epochs applied */
	uint64_t epochs_refused;      /* cp_store_apply() refused them (logged) */
	uint64_t rows;                /* rows read, every table */
	uint64_t orphans;             /* rows whose epoch has no obscura_epochs row */
	uint64_t rows_bad;            /* rows that do not parse or break a record's rules */
	uint64_t appliances;          /* distinct appliance names */
	uint64_t tables_missing;      /* optional tables (obscura_dos) not in the database */
	/* fleetresp (issue 16) */
	bool dos_missing;             /* no obscura_dos table: dos commands refused */
	uint64_t resp_h_mismatch;     /* appliances whose responder |H| is not this config's */
	uint64_t loads;               /* successful loads (the start's, then each reload) */
	uint64_t reload_failures;     /* reloads that could not read ClickHouse (state kept) */
	uint64_t load_ms;
	uint64_t loaded_wall_ns;
};

/* Load every exported epoch from ClickHouse (cp->conf's export.clickhouse.url and
 * database) into cp->store and run the analyses' after_epochs hook.  0, or -errno with
 * a clear message logged (ClickHouse unreachable, a table missing, out of memory). */
int cp_fleet_load(struct cp *cp);

/* Why a fleet control plane refuses the ctl command name (the reply's message), or NULL
 * when it answers it: the commands that act on a dataplane or on local state. */
const char *cp_fleet_refuses(const struct cp_fleet *f, const char *name);

/* fleetresp (issue 16): `fleet reload` — read ClickHouse whole again and rebuild the store
 * from it (new exports seen; FINAL keeps every epoch once).  Every table is read before
 * the store is touched: ClickHouse down or a query failing leaves the last load's
 * answers (-EIO, err set, counted in reload_failures).  0, -EIO, -ENOMEM, -E2BIG. */
int cp_fleet_reload(struct cp *cp, char *err, size_t errlen);

/* The `status` block of a fleet control plane. */
json_t *cp_fleet_status(const struct cp_fleet *f);

#endif
