/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * events.c — the worker's event stage (events.h).  Called only by the worker owning the
 * struct obs_epoch.
 */
#include <errno.h>
#include <string.h>

#include "epoch.h"
#include "events.h"

void obs_event_add(struct obs_epoch *e, uint32_t src, uint64_t t, uint8_t sensor, uint32_t type,
                   uint8_t category)
{
	for (;;) {
		uint32_t mask, i, hour;
		struct obx_event_rec *tab = obs_epoch_tab(e, OBX_TAB_EVENT, &mask), *r;
		int rc;

		if (tab == NULL) {
			if (e->t[OBX_TAB_EVENT].capacity != 0)
				e->c.lost_updates++;    /* finished: nothing more is recorded */
			return;
		}
		hour = obs_epoch_hour(e, t);
		i = obx_event_hash(src, hour, type, sensor) & mask;
		for (;;) {
			r = &tab[i];
			if (r->count == 0)
				break;
			if (r->addr == src && r->hour == hour && r->type == type && r->sensor == sensor) {
				if (t < r->first_ns)
					r->first_ns = t;
				if (t > r->last_ns)
					r->last_ns = t;
				r->count++;
				return;
			}
			i = (i + 1) & mask;
		}
		rc = obs_epoch_need(e, OBX_TAB_EVENT, 1);
		if (rc < 0) {
			e->c.lost_updates++;
			return;
		}
		if (rc == 1)
			continue;   /* swapped: every table is new, probe again */
		r->addr = src;
		r->hour = hour;
		r->type = type;
		r->sensor = sensor;
		r->category = category;
		r->reserved = 0;
		r->first_ns = t;
		r->last_ns = t;
		r->count = 1;
		(*obs_epoch_n_used(e, OBX_TAB_EVENT))++;
		return;
	}
}

/* epoch.h: the record's inline event into the EVENT table, as it stands (before the
 * packet that breaks it is counted).  Usually the table holds no record of that key in
 * this slot; it can (one packet whose source update and event straddled a swap), and
 * then the spill adds to it. */
int obs_epoch_src_spill(struct obs_epoch *e, struct obx_src_rec *r)
{
	struct obx_event_rec *tab, *v;
	uint32_t mask, i;
	int rc = obs_epoch_need(e, OBX_TAB_EVENT, 1);

	if (rc == 1)
		return 1;               /* swapped: r went out with the published slot, whole */
	r->ev_mode = OBX_SRC_EV_NONE;
	if (rc < 0) {
		e->c.lost_updates++;    /* the inline event's packets lose their event */
		return 0;
	}
	tab = obs_epoch_tab(e, OBX_TAB_EVENT, &mask);
	i = obx_event_hash(r->addr, r->hour, r->ev_type, r->ev_sensor) & mask;
	for (;; i = (i + 1) & mask) {
		v = &tab[i];
		if (v->count == 0)
			break;
		if (v->addr == r->addr && v->hour == r->hour && v->type == r->ev_type &&
		    v->sensor == r->ev_sensor) {
			if (r->first_ns < v->first_ns)
				v->first_ns = r->first_ns;
			if (r->last_ns > v->last_ns)
				v->last_ns = r->last_ns;
			v->count += r->packets;
			return 0;
		}
	}
	v->addr = r->addr;
	v->hour = r->hour;
	v->type = r->ev_type;
	v->sensor = r->ev_sensor;
	v->category = r->ev_category;
	v->reserved = 0;
	v->first_ns = r->first_ns;
	v->last_ns = r->last_ns;
	v->count = r->packets;
	(*obs_epoch_n_used(e, OBX_TAB_EVENT))++;
	return 0;
}
