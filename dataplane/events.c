/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * events.c — the worker's event stage (events.h).  Called only by the worker owning the
 * struct obs_epoch.
 */
#include <errno.h>
#include <string.h>

#include "epoch.h"
#include "events.h"

/*
 * Add count events of (addr, hour, sensor, type), seen from first to last, to the filling
 * slot's EVENT table: into the key's record, or into a new one reserved under the pointer
 * rule (epoch.h).  0 = done; 1 = the reservation swapped the slot and nothing was written
 * (the caller probes again or starts over); -ENOSPC = no table or no room, lost_updates
 * counted.
 */
static inline int ev_put(struct obs_epoch *e, uint32_t addr, uint32_t hour, uint8_t sensor,
                         uint32_t type, uint8_t category, uint64_t first, uint64_t last,
                         uint64_t count)
{
	uint32_t mask, i;
	struct obx_event_rec *tab = obs_epoch_tab(e, OBX_TAB_EVENT, &mask), *r;
	int rc;

	if (tab == NULL) {
		if (e->t[OBX_TAB_EVENT].capacity != 0)
			e->c.lost_updates++;    /* finished: nothing more is recorded */
		return -ENOSPC;
	}
	for (i = obx_event_hash(addr, hour, type, sensor) & mask;; i = (i + 1) & mask) {
		r = &tab[i];
		if (r->count == 0)
			break;
		if (r->addr == addr && r->hour == hour && r->type == type && r->sensor == sensor) {
			if (first < r->first_ns)
				r->first_ns = first;
			if (last > r->last_ns)
				r->last_ns = last;
			r->count += count;
			return 0;
		}
	}
	rc = obs_epoch_need(e, OBX_TAB_EVENT, 1);
	if (rc < 0) {
		e->c.lost_updates++;
		return rc;
	}
	if (rc == 1)
		return 1;
	r->addr = addr;
	r->hour = hour;
	r->type = type;
	r->sensor = sensor;
	r->category = category;
	r->reserved = 0;
	r->first_ns = first;
	r->last_ns = last;
	r->count = count;
	(*obs_epoch_n_used(e, OBX_TAB_EVENT))++;
	return 0;
}

void obs_event_add(struct obs_epoch *e, uint32_t src, uint64_t t, uint8_t sensor, uint32_t type,
                   uint8_t category)
{
	/* a swap makes every table new: probe the new slot */
	while (ev_put(e, src, obs_epoch_hour(e, t), sensor, type, category, t, t, 1) == 1)
		;
}

/* epoch.h: the record's inline event into the EVENT table, as it stands (before the
 * packet that breaks it is counted) — added to the key's table record if the slot has
 * one (a packet whose source update and event straddled a swap), else a new record. */
int obs_epoch_src_spill(struct obs_epoch *e, struct obx_src_rec *r)
{
	if (ev_put(e, r->addr, r->hour, r->ev_sensor, r->ev_type, r->ev_category, r->first_ns,
	           r->last_ns, r->packets) == 1)
		return 1;               /* swapped: r went out with the published slot, whole */
	r->ev_mode = OBX_SRC_EV_NONE;   /* spilled, or lost and counted */
	return 0;
}
