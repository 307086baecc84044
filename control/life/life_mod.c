/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * life_mod.c — the lifetime analysis (SPEC.md C) in the control plane (life_mod.h): the
 * exchange's SRC and EVENT records into the lifetime table (lifetime.c), its snapshot
 * section, its report writer ("lifetime": life_report.c) and the ops table.
 * Main loop only.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis.h"
#include "cp_log.h"
#include "exchange_recs.h"
#include "geo.h"
#include "life_mod.h"
#include "life_report.h"

#define NS 1000000000ull

struct cp_life_mod cp_life_mod;
/* the analysis' state (life_mod.h) */
static struct cp_life_mod *const M = &cp_life_mod;

struct cp_life *cp_life_module_table(void)
{
	return M->life;
}

/* ---------------------------------------------------------------- consumers --- */

static void life_add(const struct cp_life_hour *h)
{
	int rc = cp_life_add(M->life, h);

	if (rc == -ENOMEM)
		M->nomem++;      /* counted, never silent; the state stays consistent */
	else if (rc != 0)
		M->bad_records++;
}

/* One event record (the EVENT table's, or a source record's inline event): the hour's
 * sensor, category and type; the SRC record counts the packets.  The caller checked the
 * hour contract. */
static void life_event_add(uint32_t addr, uint64_t first_ns, uint64_t last_ns, uint8_t sensor,
                           uint8_t category, const uint32_t *type)
{
	struct cp_life_hour h;

	M->event_records++;
	if (sensor >= 64 || category >= CP_LIFE_CAT_N) {
		M->bad_records++;
		return;
	}
	/* a victim's replies to spoofed addresses are no scan: labelled (docs/dos.md) */
	if (category == 0 && obs_ev_is_backscatter(*type))
		category = CP_LIFE_CAT_BACKSCATTER;
	memset(&h, 0, sizeof(h));
	h.addr = addr;
	h.first_ns = first_ns;
	h.last_ns = last_ns;
	h.events = 0;
	h.sensor_mask = 1ull << sensor;
	h.cat_mask = (uint8_t)(1u << category);
	h.n_types = 1;
	h.types = type;
	life_add(&h);
}

/* Reserve room for the sources of an epoch's records (the address is every hour-keyed
 * record's first word) that the table does not hold yet — not for every record: an
 * epoch of known sources would otherwise grow the table each time (store.c, the same). */
static int life_reserve(const struct cp_epoch *e, unsigned kind, uint32_t n, uint32_t rec_size)
{
	const struct cp_tab *t = cp_epoch_tab(e, kind);
	uint32_t fresh = 0;

	if (cp_life_has_room(M->life, n) || t == NULL || t->recs == NULL)
		return cp_life_reserve(M->life, n);
	for (uint32_t i = 0; i < t->n; i++) {
		uint32_t addr;

		memcpy(&addr, (const uint8_t *)t->recs + (size_t)i * rec_size, sizeof(addr));
		if (cp_life_find(M->life, addr) == NULL)
			fresh++;
	}
	return cp_life_reserve(M->life, fresh);
}

static int life_src_merge(const struct cp_epoch *e, const void *recs, uint32_t n)
{
	const struct obx_src_rec *r = recs;

	if (recs == NULL)
		return life_reserve(e, OBX_TAB_SRC, n, sizeof(*r));
	for (uint32_t i = 0; i < n; i++) {
		struct cp_life_hour h;

		M->src_records++;
		if (r[i].flags & OBX_SRC_F_EXCLUDED) {
			M->excluded_records++;
			continue;
		}
		if (!obx_hour_rec_ok(r[i].first_ns, r[i].last_ns, r[i].hour)) {
			M->bad_records++;
			continue;
		}
		memset(&h, 0, sizeof(h));
		h.addr = r[i].addr;
		h.first_ns = r[i].first_ns;
		h.last_ns = r[i].last_ns;
		h.events = r[i].packets;
		h.sensor_mask = r[i].sensor_mask;
		life_add(&h);
		if (r[i].ev_mode == OBX_SRC_EV_INLINE)
			life_event_add(r[i].addr, r[i].first_ns, r[i].last_ns, r[i].ev_sensor,
			               r[i].ev_category, &r[i].ev_type);
		else if (r[i].ev_mode != OBX_SRC_EV_NONE)
			M->bad_records++;
	}
	return 0;
}

static int life_event_merge(const struct cp_epoch *e, const void *recs, uint32_t n)
{
	const struct obx_event_rec *r = recs;

	if (recs == NULL)
		return life_reserve(e, OBX_TAB_EVENT, n, sizeof(*r));
	for (uint32_t i = 0; i < n; i++) {
		if (!obx_hour_rec_ok(r[i].first_ns, r[i].last_ns, r[i].hour)) {
			M->event_records++;
			M->bad_records++;
			continue;
		}
		life_event_add(r[i].addr, r[i].first_ns, r[i].last_ns, r[i].sensor, r[i].category,
		               &r[i].type);
	}
	return 0;
}

/* responder (issue 13): SPEC C's refinement.  A completed handshake is an event of type
 * tcp-session/PORT (category Scan), a payload rule match on its first data segment one
 * of the rule's sid and category; the SYN before it came as a tcp-syn event already. */
static int life_resp_merge(const struct cp_epoch *e, const void *recs, uint32_t n)
{
	const struct obx_resp_rec *r = recs;

	if (recs == NULL)
		return life_reserve(e, OBX_TAB_RESP, n, sizeof(*r));
	for (uint32_t i = 0; i < n; i++) {
		uint32_t type;

		if (r[i].count == 0)
			continue;
		if (!obx_hour_rec_ok(r[i].first_ns, r[i].last_ns, r[i].hour) || r[i].dport == 0) {
			M->event_records++;
			M->bad_records++;
			continue;
		}
		type = obs_ev_class_id(OBS_EVC_TCP_SESSION, r[i].dport);
		life_event_add(r[i].src, r[i].first_ns, r[i].last_ns, r[i].sensor, 0, &type);
		if ((r[i].flags & OBX_RESP_F_RULE) && r[i].sid != 0 && !obs_ev_is_class(r[i].sid)) {
			unsigned cat = cp_life_rule_category(r[i].sid);

			life_event_add(r[i].src, r[i].first_ns, r[i].last_ns, r[i].sensor,
			               (uint8_t)cat, &r[i].sid);
		}
	}
	return 0;
}

/* ------------------------------------------------------------ snapshot, report --- */

static int life_snap_save(struct cp_snap_w *w)
{
	uint8_t *buf;
	size_t len;
	int rc;

	rc = cp_life_save(M->life, &buf, &len);
	if (rc != 0)
		return rc;
	{
		/* section: u64 blob length, the lifetime blob, then the consumer counters */
		uint64_t blen = len, cnt[5] = { M->src_records, M->excluded_records, M->event_records,
		                                M->bad_records, M->nomem };

		cp_snap_put(w, &blen, sizeof(blen));
		cp_snap_put(w, buf, len);
		cp_snap_put(w, cnt, sizeof(cnt));
	}
	free(buf);
	return 0;
}

static void life_snap_reset(void)
{
	struct cp_life *fresh = cp_life_new(&M->lc);

	M->src_records = M->excluded_records = M->event_records = M->bad_records = M->nomem = 0;
	if (fresh == NULL) {
		CP_ERR("lifetime: out of memory resetting the table");
		return;
	}
	cp_life_free(M->life);
	M->life = fresh;
}

static int life_snap_load(const void *data, size_t len, char *err, size_t errlen)
{
	uint64_t blen, cnt[5];
	int rc;

	life_snap_reset();
	if (len < sizeof(blen) + sizeof(cnt)) {
		snprintf(err, errlen, "lifetime section: %zu bytes, too short", len);
		return -EBADMSG;
	}
	memcpy(&blen, data, sizeof(blen));
	if (blen != len - sizeof(blen) - sizeof(cnt)) {
		snprintf(err, errlen, "lifetime section: blob length %llu in %zu bytes",
		         (unsigned long long)blen, len);
		return -EBADMSG;
	}
	rc = cp_life_load(M->life, (const uint8_t *)data + sizeof(blen), (size_t)blen, err, errlen);
	if (rc != 0) {
		life_snap_reset();
		return rc == -EINVAL ? -EBADMSG : rc;
	}
	memcpy(cnt, (const uint8_t *)data + sizeof(blen) + blen, sizeof(cnt));
	M->src_records = cnt[0];
	M->excluded_records = cnt[1];
	M->event_records = cnt[2];
	M->bad_records = cnt[3];
	M->nomem = cnt[4];
	return 0;
}

static int life_report(void *ctx, const char *dir, char *err, size_t errlen)
{
	(void)ctx;
	return cp_life_report_files(M->life, M->geo, dir, err, errlen);
}


/* ------------------------------------------------------------------ module --- */

static int cp_life_module_init(struct cp *cp)
{
	memset(M, 0, sizeof(*M));
	M->cp = cp;
	M->lc.gap_ns = (uint64_t)cp->conf.life_gap_s * NS;
	M->lc.max_sources = cp->conf.life_max_sources;
	M->life = cp_life_new(&M->lc);
	if (M->life == NULL) {
		CP_ERR("lifetime: cannot create the table (gap %u s, max %u sources)",
		       cp->conf.life_gap_s, cp->conf.life_max_sources);
		return -ENOMEM;
	}
	if (cp_life_rules_load(&cp->conf) != 0)
		CP_WARN("rules: %s (no rule messages in life.show, no rejections in rules.status)",
		        cp_life_rules_error());
	if (cp->conf.city_mmdb[0] != '\0') {
		char err[512];

		M->geo = cp_geo_open(cp->conf.city_mmdb, NULL, err, sizeof(err));
		if (M->geo == NULL)
			CP_WARN("lifetime: countries unavailable: %s", err);
	}
	return 0;
}

static void cp_life_module_fini(void)
{
	cp_life_free(M->life);
	cp_life_rules_free();
	cp_geo_close(M->geo);
	memset(M, 0, sizeof(*M));
}


/* sources.show: the source's lifetime, null when the table does not hold it */
static void life_source_show(struct cp *cp, uint32_t addr, json_t *obj)
{
	json_t *l = cp_life_src_json(cp, addr);

	json_object_set_new(obj, "lifetime", l != NULL ? l : json_null());
}

const struct cp_analysis cp_analysis_life = {
	.name = "lifetime", .init = cp_life_module_init, .fini = cp_life_module_fini,
	.consumers = { { OBX_TAB_SRC, sizeof(struct obx_src_rec), life_src_merge },
	               { OBX_TAB_EVENT, sizeof(struct obx_event_rec), life_event_merge },
	               /* responder (issue 13) */
	               { OBX_TAB_RESP, sizeof(struct obx_resp_rec), life_resp_merge } },
	.snap = { .type = CP_SNAP_S_LIFETIME, .save = life_snap_save, .load = life_snap_load,
	          .reset = life_snap_reset },
	.report = life_report, .commands = cp_life_commands,
	.source_show = life_source_show,
};
