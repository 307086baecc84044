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
