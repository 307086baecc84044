/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * export.h — what the control plane drains, into ClickHouse (docs/export.md).
 *
 * With export.clickhouse.url set, every drain pass's new epochs become one batch: the
 * rows of the export tables as TabSeparated text, written to a spool file in
 * <state_dir>/export-spool (named by a sequence number, fsynced, renamed into place)
 * BEFORE the drain syncs its journal — so every epoch the store has is in the spool or
 * already in ClickHouse, whatever crash comes.  A sender thread posts the spool files in
 * order over ClickHouse's HTTP interface (libcurl) and removes each once every table's
 * insert succeeded; the drain never waits for it.  Each row carries its epoch's key
 * (appliance, boot, worker, seq) in a ReplacingMergeTree's sorting key, so a batch sent
 * twice (a crash between the insert and the unlink, an epoch re-drained after a crash
 * before the journal sync) collapses to one: queries use FINAL or GROUP BY the key.
 *
 * The spool is bounded (export.clickhouse.spool_max_mb): a batch that does not fit is
 * dropped and counted, and `status` warns.  Main loop: cp_export_open, cp_export_spool,
 * cp_export_status, cp_export_close; the rest is the sender thread's.
 */
#ifndef OBSCURA_CP_EXPORT_H
#define OBSCURA_CP_EXPORT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "conf.h"
#include "exchange.h"
#include "store.h"

#define CP_EXPORT_DIR "export-spool"

struct cp_export {
	bool on;
	char url[512];
	char db[64];
	char appliance[64];
	char dir[600];
	uint64_t max_bytes;
	uint32_t timeout_s;
	/* fleetresp (issue 16): the responder's H (responder.prefixes) for obscura_resp_periods */
	uint64_t h_size;
	uint32_t n_h;
	uint32_t h_addr[OBS_CONF_RESP_PREFIXES];
	uint8_t h_len[OBS_CONF_RESP_PREFIXES];

	/* main loop only */
	uint64_t next_seq;            /* the next spool file's number */
	uint64_t batches_spooled, rows_spooled;
	uint64_t batches_dropped, rows_dropped;   /* spool full */
	uint64_t spool_errors;        /* a spool file could not be written (drain retries) */
	uint64_t recs_skipped;        /* records of a size this build does not read */

	/* shared with the sender, under mu */
	pthread_t th;
	bool th_started;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stop;
	uint64_t spool_files, spool_bytes;
	uint64_t batches_sent, rows_sent, send_failures, bad_files;
	uint64_t batches_rejected;    /* spool files ClickHouse refused (*.rejected) */
	char last_rejected[1024];     /* its answer to the last of them */
	uint64_t last_ok_wall_ns, failing_since_wall_ns;   /* 0: not failing */
	char last_error[1024];
};

/* Start the export when the config asks for it (after the privilege drop: the spool is
 * the service user's): create or scan the spool, start the sender.  0, or -errno (a
 * clear message logged). */
int cp_export_open(struct cp_export *x, const struct obs_conf *c);

/* One batch: the epochs of one drain pass (g: their exchange's validated header copy,
 * for the coverage geometry; s: the store, for the sensor names it checked), durable in
 * the spool on return 0; -errno when the spool file could not be written (the drain
 * leaves the slots READY and retries).  A batch that would overflow the spool is
 * dropped, counted, and 0 is returned.  A no-op when the export is off. */
struct obx_geom;
struct cp_store;
int cp_export_spool(struct cp_export *x, const struct obx_geom *g, const struct cp_store *s,
                    const struct cp_epoch *const *e, uint32_t n);

/* The `status` block, and its warnings appended to warn. */
json_t *cp_export_status(struct cp_export *x, json_t *warn);

/* Stop the sender (an insert in flight is abandoned; its file stays for next time). */
void cp_export_close(struct cp_export *x);

#endif
