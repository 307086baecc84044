/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dos_mod.c — the DoS backscatter analysis in the control plane (dos_mod.h): the
 * exchange's kind-6 records into dos.c, its snapshot section, its metrics and the ops
 * table.  Main loop only.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis.h"
#include "cp_log.h"
#include "dos_mod.h"
#include "grow.h"
#include "json.h"
#include "metrics.h"
#include "telescope.h"

#define NS 1000000000ull

struct cp_dos_mod cp_dos_mod;
static struct cp_dos_mod *const M = &cp_dos_mod;

static const char *const proto_names[OBX_P_N] = { "tcp", "udp", "icmp", "other" };

/* ---------------------------------------------------------------- consumer --- */

static int rec_order(const struct obx_dos_rec *x, const struct obx_dos_rec *y)
{
	if (x->victim != y->victim)
		return x->victim < y->victim ? -1 : 1;
	if (x->first_ns != y->first_ns)
		return x->first_ns < y->first_ns ? -1 : 1;
	return (x->last_ns > y->last_ns) - (x->last_ns < y->last_ns);
}

static int by_victim_minute(const void *a, const void *b)
{
	return rec_order(*(const struct obx_dos_rec *const *)a,
	                 *(const struct obx_dos_rec *const *)b);
}

static int rec_by_victim_minute(const void *a, const void *b)
{
	return rec_order(a, b);
}

/* --fleet: keep the epoch's records (room made in prepare) for dos_after_epochs. */
static int dos_hold(const struct cp_epoch *e, const struct obx_dos_rec *r, uint32_t n)
{
	if (r == NULL) {
		struct obx_dos_rec *p = cp_grow(M->held, &M->held_cap, M->n_held + n,
		                                sizeof(*p), 1024);

		if (p == NULL)
			return -ENOMEM;
		M->held = p;
		return 0;
	}
	if (M->n_held + n > M->held_cap) {
		M->dos->st.bad_records += n;
		return 0;
	}
	memcpy(M->held + M->n_held, r, (size_t)n * sizeof(*r));
	M->n_held += n;
	cp_dos_epoch(M->dos, e->worker, e->t_last_ns);
	return 0;
}

/* An epoch's records come in hash-table order; a victim's must be grouped in time
 * order (a later minute first would swallow an earlier one across a gap), so apply
 * sorts them by (victim, first packet) in room the prepare step made. */
static int dos_merge(const struct cp_epoch *e, const void *recs, uint32_t n)
{
	const struct obx_dos_rec *r = recs;

	if (M->cp->fleet.on)
		return dos_hold(e, r, n);
	if (recs == NULL) {
		const struct obx_dos_rec **p;

		if (n <= M->order_cap)
			return 0;
		p = cp_grow(M->order, &M->order_cap, n, sizeof(*p), 1024);
		if (p == NULL)
			return -ENOMEM;
		M->order = p;
		return 0;
	}
	if (n > M->order_cap) {      /* prepare makes room: never here; counted if it were */
		M->dos->st.bad_records += n;
		return 0;
	}
	for (uint32_t i = 0; i < n; i++)
		M->order[i] = &r[i];
	qsort(M->order, n, sizeof(*M->order), by_victim_minute);
	for (uint32_t i = 0; i < n; i++)
		cp_dos_add(M->dos, M->order[i]);
	cp_dos_epoch(M->dos, e->worker, e->t_last_ns);
	return 0;
}

static void dos_after_epochs(struct cp *cp)
{
	(void)cp;
	if (M->n_held != 0) {
		qsort(M->held, M->n_held, sizeof(*M->held), rec_by_victim_minute);
		for (size_t i = 0; i < M->n_held; i++)
			cp_dos_add(M->dos, &M->held[i]);
		M->n_held = 0;
	}
	cp_dos_sweep(M->dos);
}

/* ------------------------------------------------------------------ queries --- */

double cp_dos_mod_extrapolated(const struct cp_dos_flow *f)
{
	return M->dark_size ? cp_dos_rate(f) * 4294967296.0 / (double)M->dark_size : 0.0;
}

json_t *cp_dos_flow_json(const struct cp_dos_flow *f)
{
	json_t *ports = json_array(), *protos = json_array();
	unsigned listed = 0;
	bool sat;
	uint64_t dark = cp_dos_dark_estimate(f, &sat);

	for (unsigned i = 0; i < CP_DOS_PORTS && f->ports[i] != 0; i++, listed++)
		json_array_append_new(ports, json_integer(f->ports[i]));
	for (unsigned p = 0; p < OBX_P_N; p++)
		if (f->proto_mask & (1u << p))
			json_array_append_new(protos, json_string(proto_names[p]));
	return json_pack("{s:o, s:o, s:o, s:o, s:o, s:f, s:o, s:o, s:b, s:o, s:o, s:b, s:o, "
	                 "s:o, s:f, s:f, s:b, s:b, s:b}",
		"victim", cp_json_ipv4(f->victim),
		"start", cp_json_time_at(f->start_ns), "start_ns", cp_json_u64(f->start_ns),
		"end", cp_json_time_at(f->end_ns), "end_ns", cp_json_u64(f->end_ns),
		"duration_s", (double)(f->end_ns - f->start_ns) / 1e9,
		"packets", cp_json_u64(f->packets),
		"dark_addresses", cp_json_u64(dark), "dark_saturated", sat,
		"ports", ports, "n_ports", json_integer(f->n_ports),
		"ports_exact", f->n_ports == listed, "protocols", protos,
		"peak_ppm", cp_json_u64(f->peak),
		"rate_pps", cp_dos_rate(f), "extrapolated_pps", cp_dos_mod_extrapolated(f),
		"attack", cp_dos_is_attack(M->dos, f),
		"ongoing", (f->flags & CP_DOS_F_OPEN) != 0,
		"peak_late", (f->flags & CP_DOS_F_LATE) != 0);
}

static int by_start(const void *a, const void *b)
{
	const struct cp_dos_flow *x = *(const struct cp_dos_flow *const *)a;
	const struct cp_dos_flow *y = *(const struct cp_dos_flow *const *)b;

	if (x->start_ns != y->start_ns)
		return x->start_ns < y->start_ns ? -1 : 1;
	return x->victim < y->victim ? -1 : x->victim > y->victim;
}

int cp_dos_select(uint64_t from_ns, uint64_t to_ns, double min_rate, uint32_t victim,
                  bool with_open, const struct cp_dos_flow ***out, size_t *n)
{
	const struct cp_dos *d = M->dos;
	const struct cp_dos_flow **v = malloc(((size_t)d->n + 1) * sizeof(*v));
	size_t k = 0;

	if (v == NULL)
		return -ENOMEM;
	for (uint32_t i = 0; i < d->n; i++) {
		const struct cp_dos_flow *f = &d->flow[i];

		if (victim != 0 && f->victim != victim)
			continue;
		if (!cp_dos_is_attack(d, f) && !(with_open && (f->flags & CP_DOS_F_OPEN)))
			continue;
		if (f->end_ns < from_ns || (to_ns != 0 && f->start_ns >= to_ns))
			continue;
		if (cp_dos_mod_extrapolated(f) < min_rate)
			continue;
		v[k++] = f;
	}
	qsort(v, k, sizeof(*v), by_start);
	*out = v;
	*n = k;
	return 0;
}

/* ----------------------------------------------------------------- snapshot --- */

static int dos_snap_blob(uint8_t **buf, size_t *len)
{
	return cp_dos_save(M->dos, buf, len);
}

static void dos_snap_reset(void)
{
	cp_dos_clear(M->dos);
}

static int dos_snap_load(const void *data, size_t len, char *err, size_t errlen)
{
	int rc = cp_dos_load(M->dos, data, len, err, errlen);

	return rc == -EINVAL ? -EBADMSG : rc;
}

static int dos_report(void *ctx, const char *dir, char *err, size_t errlen)
{
	(void)ctx;
	return cp_dos_report_files(dir, err, errlen);
}

/* ------------------------------------------------------------------ metrics --- */

static void dos_metrics(struct cp *cp, struct cp_mx *x)
{
	const struct cp_dos *d = M->dos;
	uint64_t attacks = 0;

	(void)cp;
	for (uint32_t i = 0; i < d->n; i++)
		attacks += cp_dos_is_attack(d, &d->flow[i]);
	cp_mx_family(x, "obscura_dos_attacks", "gauge",
	             "DoS attacks held (docs/dos.md), closed and ongoing.");
	cp_mx_u64(x, attacks, 0);
	cp_mx_family(x, "obscura_dos_flows", "gauge",
	             "Victims' backscatter flows held, attacks and candidates.");
	cp_mx_u64(x, d->n, 0);
	cp_mx_family(x, "obscura_dos_records_total", "counter",
	             "DoS backscatter records (exchange kind 6) merged or refused.");
	cp_mx_u64(x, d->st.records, 0);
	cp_mx_family(x, "obscura_dos_bad_records_total", "counter",
	             "Malformed DoS backscatter records refused by the drain.");
	cp_mx_u64(x, d->st.bad_records, 0);
	cp_mx_family(x, "obscura_dos_below_threshold_total", "counter",
	             "Backscatter flows that ended below the attack thresholds.");
	cp_mx_u64(x, d->st.below_threshold, 0);
	cp_mx_family(x, "obscura_dos_evicted_total", "counter",
	             "Flows evicted from the full DoS table, by what they were.");
	cp_mx_u64(x, d->st.evicted_flows, 1, "kind", "flow");
	cp_mx_u64(x, d->st.evicted_attacks, 1, "kind", "attack");
}

/* ------------------------------------------------------------------- module --- */

static uint64_t dos_dark_size(const struct obs_conf *c)
{
	const char *why = NULL;
	struct obs_tel *tel = obs_tel_from_conf(c, &why);
	uint64_t size;

	if (tel == NULL) {
		CP_WARN("dos: no telescope (%s): no extrapolated rates", why ? why : strerror(errno));
		return 0;
	}
	size = obs_tel_size(tel);
	obs_tel_free(tel);
	return size;
}

static int cp_dos_module_init(struct cp *cp)
{
	const struct obs_conf *c = &cp->conf;
	struct cp_dos_conf dc = {
		.gap_ns = (uint64_t)c->dos_gap_s * NS,
		.min_packets = c->dos_min_packets,
		.min_duration_ns = (uint64_t)c->dos_min_duration_s * NS,
		.min_peak = c->dos_min_peak_ppm,
		.max_flows = c->dos_max_flows,
	};

	memset(M, 0, sizeof(*M));
	M->cp = cp;
	M->dos = cp_dos_new(&dc);
	if (M->dos == NULL) {
		CP_ERR("dos: cannot allocate %u flows", c->dos_max_flows);
		return -ENOMEM;
	}
	M->dark_size = dos_dark_size(c);
	return 0;
}

static void cp_dos_module_fini(void)
{
	free(M->order);
	free(M->held);
	cp_dos_free(M->dos);
	memset(M, 0, sizeof(*M));
}

const struct cp_analysis cp_analysis_dos = {
	.name = "dos", .init = cp_dos_module_init, .fini = cp_dos_module_fini,
	.consumers = { { OBX_TAB_DOS, sizeof(struct obx_dos_rec), dos_merge } },
	.snap = { .type = CP_SNAP_S_DOS, .blob = dos_snap_blob, .load = dos_snap_load,
	          .reset = dos_snap_reset },
	.report = dos_report, .commands = cp_dos_commands,
	.after_epochs = dos_after_epochs, .metrics = dos_metrics,
};
