/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cmd_status.c — `status`: is the dataplane there, which boot, how far behind is the
 * drain, is anything being lost, is the state safe on disk.  Reads the exchange header
 * only through the drain's checked mapping.  Main loop only.
 */
#include <stdio.h>
#include <unistd.h>

#include "commands.h"
#include "json.h"
#include "period.h"
#include "metrics.h"

static const char *cp_dp_state(uint32_t s)
{
	static const char *const names[] = { "starting", "running", "finished", "exited" };

	return s < 4 ? names[s] : "unknown";
}

json_t *cp_json_partial_periods(const struct cp *cp)
{
	const struct cp_drain *d = &cp->drain;
	const unsigned unit = (unsigned)cp->conf.period;
	json_t *a = json_array();

	for (uint32_t i = 0; i < d->n_lost; i++) {
		const struct cp_lost_epoch *l = &d->lost[i];
		char label[OBS_PERIOD_LABEL_MAX];

		if (l->last_pkt_ns != 0)
			obs_period_label(unit, obs_period_index(unit, l->last_pkt_ns), label,
			                 sizeof(label));
		json_array_append_new(a, json_pack("{s:o, s:i, s:o, s:s, s:o, s:o}",
			"boot_id", cp_json_hex64(l->boot_id), "worker", (int)l->worker,
			"period", l->last_pkt_ns ? json_string(label) : json_null(),
			"unit", obs_period_unit_name(unit),
			"last_packet", l->last_pkt_ns ? cp_json_time(l->last_pkt_ns) : json_null(),
			"noticed", cp_json_time(l->noticed_wall_ns)));
	}
	return a;
}

static json_t *cp_status_dp(struct cp *cp, uint64_t now)
{
	struct obx_header *h = cp->drain.cur.h;
	const struct obx_geom *g = &cp->drain.cur.g;   /* counts and ids: the checked copy */
	json_t *o = json_object();
	uint64_t hb;

	json_object_set_new(o, "exchange", json_string(cp->drain.path));
	json_object_set_new(o, "attached", json_boolean(h != NULL));
	if (h == NULL) {
		json_object_set_new(o, "state", json_string("absent"));
		json_object_set_new(o, "error", json_string(cp->drain.last_error));
		return o;
	}
	json_object_set_new(o, "state", json_string(cp->drain.dp_lost ? "dataplane_lost" :
		cp_dp_state(atomic_load_explicit(&h->dp_state, memory_order_acquire))));
	json_object_set_new(o, "lost_reason", cp->drain.dp_lost ?
		json_string(cp->drain.dp_lost_why) : json_null());
	json_object_set_new(o, "boot_id", cp_json_hex64(g->boot_id));
	json_object_set_new(o, "pid", json_integer(g->dp_pid));
	json_object_set_new(o, "started", cp_json_time(g->boot_wall_ns));
	json_object_set_new(o, "uptime_s", json_real(g->boot_wall_ns && now > g->boot_wall_ns ?
		(double)(now - g->boot_wall_ns) / 1e9 : 0.0));
	hb = atomic_load_explicit(&h->heartbeat_ns, memory_order_relaxed);
	if (hb != 0)
		json_object_set_new(o, "heartbeat_age_ms", json_real(now > hb ?
			(double)(now - hb) / 1e6 : 0.0));
	else
		json_object_set_new(o, "heartbeat_age_ms", json_null());
	json_object_set_new(o, "workers", json_integer(g->n_workers));
	json_object_set_new(o, "ports", json_integer(g->n_ports));
	json_object_set_new(o, "sensors", json_integer(g->n_sensors));
	json_object_set_new(o, "src_capacity", json_integer(g->tab_capacity[OBX_TAB_SRC]));
	{
		/* every table of the exchange, absent ones as 0 (docs/exchange.md) */
		static const char *const names[OBX_TAB_MAX] = OBX_TAB_NAMES;
		json_t *tabs = json_object();

		for (unsigned k = 0; k < OBX_TAB_MAX; k++)
			if (g->tab_capacity[k] != 0 || k <= OBX_TAB_EVENT)
				json_object_set_new(tabs, names[k], json_pack("{s:i, s:i}",
					"capacity", (json_int_t)g->tab_capacity[k],
					"rec_size", (json_int_t)g->tab_rec_size[k]));
		json_object_set_new(o, "tables", tabs);
	}
	json_object_set_new(o, "epoch_ms", json_real((double)g->epoch_ns / 1e6));
	json_object_set_new(o, "replay", json_boolean(g->replay));
	{
		/* --- responder (issue 13): the header's responder status (docs/scan.md) --- */
		const struct obx_resp_status *rs = &h->resp;
		const bool on = (rs->flags & OBX_RESP_F_ON) != 0;
		const bool tx = on && !(rs->flags & OBX_RESP_F_TX_OFF);

		json_object_set_new(o, "responder", json_pack("{s:b, s:b, s:b, s:I, s:i, s:i, s:s}",
			"on", on, "transmitting", tx, "arp", tx && (rs->flags & OBX_RESP_F_ARP) != 0,
			"addresses", (json_int_t)rs->n_addrs, "payload_bytes", (int)rs->payload_bytes,
			"max_pps", (int)rs->max_pps,
			"note", !on ? "off (responder.prefixes empty)" : tx ? "answering for H" :
			"configured, nothing is transmitted (replay)"));
	}
	return o;
}

void cp_cmd_status(struct cp *cp, json_t *args, struct cp_reply *r)
{
	const struct cp_drain *d = &cp->drain;
	const struct cp_persist *p = &cp->persist;
	const struct cp_store *s = &cp->store;
	uint64_t now = cp_wall_ns(), mono = cp_mono_ns();
	json_t *o = json_object(), *boots = json_array(), *warn = json_array();
	json_t *drain, *snap, *jr, *cpo;

	json_object_set_new(o, "dp", cp_status_dp(cp, now));

	cpo = json_pack("{s:i, s:s, s:f, s:s}", "pid", (int)getpid(), "version", CP_VERSION,
	                "uptime_s", (double)(mono - cp->start_mono_ns) / 1e9,
	                "config", cp->conf_path);
	{
		/* background jobs (jobs.h): a snapshot or a report being written */
		json_t *jobs = json_array();

		for (unsigned i = 0; i < CP_JOBS_MAX; i++) {
			const struct cp_job *j = &cp->jobs.run[i];

			if (j->id != 0)
				json_array_append_new(jobs, json_pack("{s:I, s:s, s:i, s:f}", "job",
					(json_int_t)j->id, "what", j->what, "pid", (int)j->pid,
					"ms", (double)(mono - j->started_mono_ns) / 1e6));
		}
		json_object_set_new(cpo, "jobs", jobs);
	}
	json_object_set_new(o, "cp", cpo);
	{
		/* the socket server's clients and limits (ctl_server.c) */
		json_t *ctl = cp_cmd_status_hook();

		if (ctl != NULL)
			json_object_set_new(o, "ctl", ctl);
	}

	drain = json_object();
	json_object_set_new(drain, "epochs_drained", cp_json_u64(s->epochs));
	json_object_set_new(drain, "epochs_drained_run", cp_json_u64(d->epochs_drained));
	json_object_set_new(drain, "duplicates_freed", cp_json_u64(d->epochs_dup));
	json_object_set_new(drain, "invalid_freed", cp_json_u64(d->epochs_invalid));
	json_object_set_new(drain, "implausible_dropped", cp_json_u64(d->epochs_implausible));
	json_object_set_new(drain, "clamped_counts", cp_json_u64(d->clamped));
	json_object_set_new(drain, "bad_used_entries", cp_json_u64(d->bad_used));
	json_object_set_new(drain, "epochs_lost", cp_json_u64(d->epochs_lost));
	json_object_set_new(drain, "partial_periods", cp_json_partial_periods(cp));
	/* the warning below names the same periods: built once, read back from here */
	json_object_set_new(drain, "lag_last_ms", json_real((double)d->last_lag_ns / 1e6));
	json_object_set_new(drain, "lag_max_ms", json_real((double)d->max_lag_ns / 1e6));
	json_object_set_new(drain, "last_drain", cp_json_time(d->last_drain_wall_ns));
	json_object_set_new(drain, "prev_files_drained", cp_json_u64(d->prev_files));
	json_object_set_new(drain, "journal_errors", cp_json_u64(d->journal_errors));
	json_object_set_new(o, "drain", drain);
	/* the headline figures, flat, for scripts */
	json_object_set_new(o, "epochs_drained", cp_json_u64(s->epochs));
	json_object_set_new(o, "lost_updates", cp_json_u64(s->total.lost_updates));
	json_object_set_new(o, "dp_restarts", json_integer(s->n_boots > 0 ? s->n_boots - 1 : 0));
	json_object_set_new(o, "sources", json_integer(s->src.n));
	json_object_set_new(o, "sources_table_bytes",
	                    cp_json_u64(cp_store_src_bytes(s)));

	for (uint32_t i = 0; i < s->n_boots; i++)
		json_array_append_new(boots, json_pack("{s:o, s:o, s:I, s:i, s:i, s:b}",
			"boot_id", cp_json_hex64(s->boots[i].boot_id),
			"started", cp_json_time(s->boots[i].boot_wall_ns),
			"epochs", (json_int_t)s->boots[i].epochs,
			"workers", (int)s->boots[i].n_workers,
			"epochs_lost", (int)s->boots[i].epochs_lost,
			"partial", s->boots[i].epochs_lost != 0));
	json_object_set_new(o, "boots", boots);

	snap = json_object();
	json_object_set_new(snap, "path", json_string(p->snapshot_path));
	json_object_set_new(snap, "interval_s", json_integer(cp->conf.snapshot_interval_s));
	json_object_set_new(snap, "loaded_at_start", json_boolean(p->loaded));
	json_object_set_new(snap, "started_empty", json_boolean(p->started_empty));
	json_object_set_new(snap, "load_error", p->load_error[0] ? json_string(p->load_error)
	                                                         : json_null());
	json_object_set_new(snap, "set_aside", p->set_aside[0] ? json_string(p->set_aside)
	                                                       : json_null());
	json_object_set_new(snap, "last_write", cp_json_time(p->last_write_wall_ns));
	json_object_set_new(snap, "age_s", p->last_write_mono_ns ?
		json_real((double)(mono - p->last_write_mono_ns) / 1e9) : json_null());
	json_object_set_new(snap, "written", cp_json_u64(p->n_written));
	json_object_set_new(snap, "failed", cp_json_u64(p->n_failed));
	json_object_set_new(snap, "last_error", p->last_error[0] ? json_string(p->last_error)
	                                                         : json_null());
	{
		/* written by a child process (persist.c): in progress since */
		const struct cp_job *j = cp_job_running(cp, "snapshot");

		json_object_set_new(snap, "writing", j != NULL ? json_pack("{s:I, s:f}", "job",
			(json_int_t)j->id, "ms", (double)(mono - j->started_mono_ns) / 1e6) :
			json_null());
	}
	json_object_set_new(o, "snapshot", snap);

	jr = json_object();
	json_object_set_new(jr, "path", json_string(cp->journal.path));
	json_object_set_new(jr, "records", cp_json_u64(cp->journal.n_records));
	json_object_set_new(jr, "bytes", cp_json_u64(cp->journal.size));
	json_object_set_new(jr, "segments", json_integer(cp->journal.n_segments));
	json_object_set_new(jr, "replayed_at_start", cp_json_u64(p->replay.applied));
	json_object_set_new(jr, "replay_duplicates", cp_json_u64(p->replay.duplicates));
	json_object_set_new(jr, "torn_bytes_dropped", cp_json_u64(p->replay.torn_bytes));
	json_object_set_new(jr, "damaged_regions", cp_json_u64(p->replay.bad_regions));
	json_object_set_new(jr, "damaged_bytes", cp_json_u64(p->replay.bad_bytes));
	json_object_set_new(jr, "damaged_set_aside", p->replay.set_aside[0] ?
		json_string(p->replay.set_aside) : json_null());
	json_object_set_new(o, "journal", jr);
	/* the /metrics listener (metrics.h): where, how often scraped */
	json_object_set_new(o, "metrics", cp->metrics == NULL ? json_null() :
		json_pack("{s:s, s:o, s:o, s:o}", "listen", cp->metrics->listen,
		          "scrapes", cp_json_u64(cp_metrics_scrapes(cp->metrics)),
		          "renders", cp_json_u64(cp->metrics->renders),
		          "render_failures", cp_json_u64(cp->metrics->render_oom)));
	json_object_set_new(o, "export", cp_export_status(&cp->export, warn));
	/* fleet: the store was read from ClickHouse at start (fleet.h), no dataplane */
	json_object_set_new(o, "fleet", cp->fleet.on ? cp_fleet_status(&cp->fleet) : json_null());
	if (cp->fleet.on && (cp->fleet.orphans || cp->fleet.rows_bad || cp->fleet.epochs_refused))
		json_array_append_new(warn, json_sprintf("fleet: %llu row(s) without their epoch "
			"row, %llu bad row(s), %llu epoch(s) refused: not in the answers",
			(unsigned long long)cp->fleet.orphans, (unsigned long long)cp->fleet.rows_bad,
			(unsigned long long)cp->fleet.epochs_refused));

	if (p->started_empty)
		json_array_append_new(warn, json_sprintf("snapshot refused at start (%s); started "
			"from an EMPTY store", p->load_error));
	if (p->last_error[0])
		json_array_append_new(warn, json_sprintf("last snapshot failed: %s", p->last_error));
	if (p->replay.bad_regions)
		json_array_append_new(warn, json_sprintf("journal: %llu damaged region(s), %llu "
			"bytes, skipped at start (first: %s); the records after them were kept%s%s",
			(unsigned long long)p->replay.bad_regions,
			(unsigned long long)p->replay.bad_bytes, p->replay.bad_why,
			p->replay.set_aside[0] ? "; damaged tail kept in " : "", p->replay.set_aside));
	if (d->cur.h != NULL && d->dp_lost)
		json_array_append_new(warn, json_sprintf("dataplane lost (boot %016llx, pid %u): %s; "
			"nothing is being captured", (unsigned long long)d->cur.g.boot_id,
			d->cur.g.dp_pid, d->dp_lost_why));
	if (d->epochs_lost) {
		json_t *pp = json_object_get(drain, "partial_periods");
		char list[256] = "";
		size_t at = 0;

		for (size_t i = 0; i < json_array_size(pp) && at < sizeof(list) - 40; i++) {
			const char *lab = json_string_value(json_object_get(json_array_get(pp, i),
			                                                    "period"));

			at += (size_t)snprintf(list + at, sizeof(list) - at, "%s%s", i ? ", " : "",
			                       lab != NULL ? lab : "unknown");
		}
		json_array_append_new(warn, json_sprintf("%llu epoch(s) LOST with a dataplane that "
			"died before publishing them; partial period(s): %s",
			(unsigned long long)d->epochs_lost, list));
	}
	if (d->journal_errors)
		json_array_append_new(warn, json_sprintf("%llu journal write(s) failed (disk full or "
			"I/O error on %s): epochs wait in the exchange until it can be written",
			(unsigned long long)d->journal_errors, cp->journal.path));
	if (d->cur.h == NULL && d->bad_ino != 0)
		json_array_append_new(warn, json_sprintf("exchange refused: %s", d->last_error));
	if (d->epochs_implausible)
		json_array_append_new(warn, json_sprintf("%llu epoch(s) dropped: counters the line "
			"rate could not give (forged or corrupt exchange)",
			(unsigned long long)d->epochs_implausible));
	if (d->clamped || d->bad_used)
		json_array_append_new(warn, json_sprintf("exchange slots with %llu table count(s) "
			"above their capacity and %llu bad used-list entries (clamped, skipped)",
			(unsigned long long)d->clamped, (unsigned long long)d->bad_used));
	if (s->total.lost_updates)
		json_array_append_new(warn, json_sprintf("%llu source updates lost in the dataplane "
			"(slots full)", (unsigned long long)s->total.lost_updates));
	json_object_set_new(o, "warnings", warn);
	r->data = o;
}
