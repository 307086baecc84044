/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * export.c — the ClickHouse export (export.h, docs/export.md): its schema and its life
 * cycle (open, status, close); the rows and the spool in export_spool.c, the sender
 * thread in export_send.c.
 *
 * Spool file: "OBSX1\n", then per table "T <table> <rows> <bytes>\n" and <bytes> of
 * TabSeparated rows, then "E\n".  Written to "<seq>.tmp", fsynced, renamed to
 * "<seq16hex>.tsv", the directory fsynced: a file under its final name is whole.  The
 * sender gathers up to EXP_GATHER_FILES files in order, posts each table's rows of them
 * as one "INSERT INTO db.table FORMAT TabSeparated" and unlinks the files when all
 * succeeded; a failure keeps them and retries with a growing pause (the tables are
 * re-created first: a dropped table comes back).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "cp_log.h"
#include "drain.h"
#include "exchange_recs.h"
#include "export.h"
#include "export_int.h"
#include "json.h"
#include "statefile.h"


/* ------------------------------------------------------------------ the schema --- */

/* Every table starts with the epoch's key; the sorting key ends with the row's key
 * within the epoch, so the same row of the same epoch is one row after FINAL. */
#define EXP_KEYCOLS "appliance String, boot UInt64, worker UInt32, seq UInt64, "

const char *const exp_tname[EXP_T_N] = {
	"obscura_sources", "obscura_cells", "obscura_events", "obscura_resip_ports",
	"obscura_dos", "obscura_resp_sessions", "obscura_resp_periods", "obscura_source_tools",
	"obscura_epochs",
};

const char *const exp_tcols[EXP_T_N] = {
	/* per (source, hour) of an epoch (exchange.h struct obx_src_rec) */
	"(" EXP_KEYCOLS "hour UInt32, date Date MATERIALIZED toDate(toDateTime(hour * 3600)), "
	"addr UInt32, first_ns UInt64, last_ns UInt64, packets UInt64, resip_packets UInt64, "
	"sensor_mask UInt64, sensors Array(String), scanner UInt8, resip UInt8, excluded UInt8, "
	"ev_type UInt32, ev_name String) "
	"ENGINE = ReplacingMergeTree() PARTITION BY toYYYYMM(date) "
	"ORDER BY (hour, addr, appliance, boot, worker, seq)",
	/* per (period, block, proto, dport) of an epoch: the sample-slot set, mergeable */
	"(" EXP_KEYCOLS "period UInt32, period_unit String, block UInt32, block_len UInt8, "
	"proto UInt8, dport UInt16, syns UInt64, mirai UInt64, scanner UInt8, "
	"sample_size UInt32, slots Array(UInt32)) "
	"ENGINE = ReplacingMergeTree() PARTITION BY tuple() "
	"ORDER BY (period, block, proto, dport, appliance, boot, worker, seq)",
	/* per (source, hour, sensor, event type) of an epoch; inline: from the SRC record */
	"(" EXP_KEYCOLS "hour UInt32, date Date MATERIALIZED toDate(toDateTime(hour * 3600)), "
	"addr UInt32, sensor String, type UInt32, name String, category UInt8, inline UInt8, "
	"count UInt64, first_ns UInt64, last_ns UInt64) "
	"ENGINE = ReplacingMergeTree() PARTITION BY toYYYYMM(date) "
	"ORDER BY (hour, addr, sensor, type, inline, appliance, boot, worker, seq)",
	/* RESIP traffic per (proto, port, day) of an epoch */
	"(" EXP_KEYCOLS "day UInt32, date Date MATERIALIZED toDate(toDateTime(day * 86400)), "
	"proto UInt8, port UInt16, packets UInt64, sensor_mask UInt64) "
	"ENGINE = ReplacingMergeTree() PARTITION BY toYYYYMM(date) "
	"ORDER BY (day, proto, port, appliance, boot, worker, seq)",
	/* DoS backscatter per (victim, minute) of an epoch (exchange kind 6, struct
	 * obx_dos_rec); a table added after the first version: created when missing */
	"(" EXP_KEYCOLS "minute UInt32, date Date MATERIALIZED toDate(toDateTime(minute * 60)), "
	"victim UInt32, packets UInt64, first_ns UInt64, last_ns UInt64, dark Array(UInt64), "
	"ports Array(UInt16), n_ports UInt8, proto_mask UInt8) "
	"ENGINE = ReplacingMergeTree() PARTITION BY toYYYYMM(date) "
	"ORDER BY (minute, victim, appliance, boot, worker, seq)",
	/* fleetresp (issue 16), tables added after the first version (created when missing):
	 * the responder's completed handshakes per (hour, source, responder address, port,
	 * sensor) of an epoch (exchange kind 5, struct obx_resp_rec; payload in hex) */
	"(" EXP_KEYCOLS "hour UInt32, date Date MATERIALIZED toDate(toDateTime(hour * 3600)), "
	"src UInt32, block UInt32, block_len UInt8, dst UInt32, dport UInt16, sensor String, "
	"count UInt64, first_ns UInt64, last_ns UInt64, flags UInt8, sid UInt32, "
	"payload_len UInt16, seg_len UInt16, payload String) "
	"ENGINE = ReplacingMergeTree() PARTITION BY toYYYYMM(date) "
	"ORDER BY (hour, src, dst, dport, sensor, appliance, boot, worker, seq)",
	/* per (period, epoch) of an appliance with responder.prefixes set: whether its
	 * responder answered (the slot flag OBX_SLOT_F_RESP; 0: a --replay) and its H */
	"(" EXP_KEYCOLS "period UInt32, period_unit String, on UInt8, h_size UInt64, "
	"h_prefixes Array(String)) "
	"ENGINE = ReplacingMergeTree() PARTITION BY tuple() "
	"ORDER BY (period, appliance, boot, worker, seq)",
	/* per (hour, source) of an epoch with labelled SYNs: the SRC record's tool fields
	 * (docs/fingerprints.md) */
	"(" EXP_KEYCOLS "hour UInt32, date Date MATERIALIZED toDate(toDateTime(hour * 3600)), "
	"addr UInt32, tool UInt8, tool_name String, tool_syns UInt64, tool_other UInt64) "
	"ENGINE = ReplacingMergeTree() PARTITION BY toYYYYMM(date) "
	"ORDER BY (hour, addr, appliance, boot, worker, seq)",
	/* the loss stamp of every epoch: its counters */
	"(" EXP_KEYCOLS "t_first_ns UInt64, t_last_ns UInt64, published_wall_ns UInt64, "
	"flags UInt32, rx_packets UInt64, rx_bytes UInt64, tel_packets UInt64, tel_bytes UInt64, "
	"proto_packets Array(UInt64), drops Array(UInt64), lost_updates UInt64, "
	"time_backwards UInt64, forced_swaps UInt64, excluded_packets UInt64, "
	"resip_packets UInt64, scanner_packets UInt64, cov_syns UInt64, payload_packets UInt64, "
	"rule_matches UInt64, " EXP_EPOCH_RESERVED ") "
	"ENGINE = ReplacingMergeTree() PARTITION BY tuple() "
	"ORDER BY (appliance, boot, worker, seq)",
};

/* ---------------------------------------------------------------- life cycle --- */

int cp_export_open(struct cp_export *x, const struct obs_conf *c)
{
	DIR *dh;
	struct dirent *de;
	int ret;

	memset(x, 0, sizeof(*x));
	if (c->export_ch_url[0] == '\0')
		return 0;
	snprintf(x->url, sizeof(x->url), "%s", c->export_ch_url);
	snprintf(x->db, sizeof(x->db), "%s", c->export_ch_database);
	if (c->export_ch_appliance[0] != '\0')
		snprintf(x->appliance, sizeof(x->appliance), "%s", c->export_ch_appliance);
	else if (gethostname(x->appliance, sizeof(x->appliance) - 1) != 0)
		snprintf(x->appliance, sizeof(x->appliance), "unknown");
	x->max_bytes = (uint64_t)c->export_ch_spool_mb << 20;
	x->timeout_s = c->export_ch_timeout_s;
	/* fleetresp (issue 16): H as configured (the prefixes do not overlap: conf_resp.c) */
	x->n_h = c->resp_n_prefixes;
	for (uint32_t i = 0; i < c->resp_n_prefixes && i < OBS_CONF_RESP_PREFIXES; i++) {
		x->h_addr[i] = c->resp_prefix_addr[i];
		x->h_len[i] = c->resp_prefix_len[i];
		x->h_size += 1ull << (32 - c->resp_prefix_len[i]);
	}
	if ((size_t)snprintf(x->dir, sizeof(x->dir), "%s/%s", c->state_dir, CP_EXPORT_DIR) >=
	    sizeof(x->dir))
		return -ENAMETOOLONG;
	if (mkdir(x->dir, 0750) != 0 && errno != EEXIST) {
		ret = -errno;
		CP_ERR("export: cannot create the spool %s: %s", x->dir, strerror(errno));
		return ret;
	}
	if (access(x->dir, R_OK | W_OK | X_OK) != 0) {
		/* a spool nobody can write would hold the drain (export.h): say so now */
		ret = -errno;
		CP_ERR("export: the spool %s is not writable by uid %u: %s", x->dir,
		       (unsigned)geteuid(), strerror(errno));
		return ret;
	}
	dh = opendir(x->dir);
	if (dh == NULL) {
		ret = -errno;
		CP_ERR("export: cannot open the spool %s: %s", x->dir, strerror(errno));
		return ret;
	}
	/* what a crash left: whole files (sent next), temporaries (never renamed: their
	 * epochs were not journalled either, the drain spools them again) */
	while ((de = readdir(dh)) != NULL) {
		char full[1024];
		unsigned long long v;
		struct stat st;
		int used = 0;

		if (sscanf(de->d_name, "%16llx.%n", &v, &used) != 1 || used == 0)
			continue;
		snprintf(full, sizeof(full), "%s/%s", x->dir, de->d_name);
		if (strcmp(de->d_name + used, "tmp") == 0) {
			unlink(full);
			continue;
		}
		if (v + 1 > x->next_seq)
			x->next_seq = v + 1;
		if (strcmp(de->d_name + used, "tsv") == 0 && lstat(full, &st) == 0) {
			x->spool_files++;
			x->spool_bytes += (uint64_t)st.st_size;
		}
	}
	closedir(dh);
	if (x->next_seq == 0)
		x->next_seq = 1;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		CP_ERR("export: curl_global_init failed");
		return -EIO;
	}
	pthread_mutex_init(&x->mu, NULL);
	pthread_cond_init(&x->cv, NULL);
	ret = pthread_create(&x->th, NULL, exp_sender, x);
	if (ret != 0) {
		CP_ERR("export: cannot start the sender thread: %s", strerror(ret));
		return -ret;
	}
	x->th_started = true;
	x->on = true;
	CP_NOTICE("export: to ClickHouse %s database %s as appliance %s; spool %s (%" PRIu64
	          " file(s), %" PRIu64 " bytes waiting, bound %u MiB)", x->url, x->db,
	          x->appliance, x->dir, x->spool_files, x->spool_bytes, c->export_ch_spool_mb);
	return 0;
}

void cp_export_close(struct cp_export *x)
{
	if (!x->th_started)
		return;
	pthread_mutex_lock(&x->mu);
	x->stop = true;
	pthread_cond_broadcast(&x->cv);
	pthread_mutex_unlock(&x->mu);
	pthread_join(x->th, NULL);
	x->th_started = false;
	curl_global_cleanup();
}

json_t *cp_export_status(struct cp_export *x, json_t *warn)
{
	json_t *o = json_object();
	uint64_t now = cp_wall_ns();

	json_object_set_new(o, "enabled", json_boolean(x->on));
	if (!x->on)
		return o;
	json_object_set_new(o, "url", json_string(x->url));
	json_object_set_new(o, "database", json_string(x->db));
	json_object_set_new(o, "appliance", json_string(x->appliance));
	json_object_set_new(o, "spool_dir", json_string(x->dir));
	json_object_set_new(o, "spool_max_bytes", cp_json_u64(x->max_bytes));
	json_object_set_new(o, "batches_spooled", cp_json_u64(x->batches_spooled));
	json_object_set_new(o, "rows_spooled", cp_json_u64(x->rows_spooled));
	json_object_set_new(o, "batches_dropped", cp_json_u64(x->batches_dropped));
	json_object_set_new(o, "rows_dropped", cp_json_u64(x->rows_dropped));
	json_object_set_new(o, "spool_errors", cp_json_u64(x->spool_errors));
	json_object_set_new(o, "records_skipped", cp_json_u64(x->recs_skipped));
	pthread_mutex_lock(&x->mu);
	json_object_set_new(o, "spool_files", cp_json_u64(x->spool_files));
	json_object_set_new(o, "spool_bytes", cp_json_u64(x->spool_bytes));
	json_object_set_new(o, "batches_sent", cp_json_u64(x->batches_sent));
	json_object_set_new(o, "rows_sent", cp_json_u64(x->rows_sent));
	json_object_set_new(o, "send_failures", cp_json_u64(x->send_failures));
	json_object_set_new(o, "bad_files", cp_json_u64(x->bad_files));
	json_object_set_new(o, "batches_rejected", cp_json_u64(x->batches_rejected));
	json_object_set_new(o, "last_rejected", x->last_rejected[0] ?
	                    json_string(x->last_rejected) : json_null());
	json_object_set_new(o, "last_sent", cp_json_time(x->last_ok_wall_ns));
	json_object_set_new(o, "state", json_string(x->failing_since_wall_ns ? "failing" : "ok"));
	json_object_set_new(o, "last_error", x->last_error[0] && x->failing_since_wall_ns ?
	                    json_string(x->last_error) : json_null());
	if (x->failing_since_wall_ns != 0)
		json_array_append_new(warn, json_sprintf("export: ClickHouse not taking batches "
			"for %.0f s (%s); %llu batch(es), %llu bytes spooled in %s",
			now > x->failing_since_wall_ns ?
			(double)(now - x->failing_since_wall_ns) / 1e9 : 0.0, x->last_error,
			(unsigned long long)x->spool_files, (unsigned long long)x->spool_bytes,
			x->dir));
	if (x->bad_files != 0)
		json_array_append_new(warn, json_sprintf("export: %llu malformed spool file(s) set "
			"aside (*.bad in %s)", (unsigned long long)x->bad_files, x->dir));
	if (x->batches_rejected != 0)
		json_array_append_new(warn, json_sprintf("export: ClickHouse refused %llu spool "
			"file(s), set aside (*.rejected in %s): %s",
			(unsigned long long)x->batches_rejected, x->dir, x->last_rejected));
	pthread_mutex_unlock(&x->mu);
	if (x->batches_dropped != 0)
		json_array_append_new(warn, json_sprintf("export: spool full: %llu batch(es), %llu "
			"rows dropped, not exported", (unsigned long long)x->batches_dropped,
			(unsigned long long)x->rows_dropped));
	return o;
}
