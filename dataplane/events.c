/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * events.c — the worker's event stage (events.h).  Called only by the worker owning the
 * struct obs_epoch.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "epoch.h"
#include "events.h"

struct ev_key {
	uint32_t addr, hour, type;
	uint8_t sensor;
};

static inline bool ev_match(const void *rec, const void *key)
{
	const struct obx_event_rec *r = rec;
	const struct ev_key *k = key;

	return r->addr == k->addr && r->hour == k->hour && r->type == k->type &&
	       r->sensor == k->sensor;
}

static inline bool ev_used(const void *rec)
{
	return ((const struct obx_event_rec *)rec)->count != 0;
}

/*
 * Add count events of (addr, hour, sensor, type), seen from first to last, to the filling
 * slot's EVENT table: into the key's record, or into a new one (epoch.h's
 * find-or-insert).  0 = done; 1 = the reservation swapped the slot and nothing was
 * written (the caller probes again or starts over); -ENOSPC = no table or no room
 * (lost_updates counted when there is a table).
 */
static inline __attribute__((always_inline)) int
ev_put(struct obs_epoch *e, uint32_t addr, uint32_t hour, uint8_t sensor, uint32_t type,
       uint8_t category, uint64_t first, uint64_t last, uint64_t count)
{
	const struct ev_key k = { addr, hour, type, sensor };
	struct obx_event_rec *r;

	switch (obs_epoch_find_or_insert(e, OBX_TAB_EVENT, obx_event_hash(addr, hour, type, sensor),
	                                 &k, ev_match, ev_used, sizeof(*r), (void **)&r)) {
	case OBS_EPOCH_FOUND:
		if (first < r->first_ns)
			r->first_ns = first;
		if (last > r->last_ns)
			r->last_ns = last;
		r->count += count;
		return 0;
	case OBS_EPOCH_NEW:
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
	case OBS_EPOCH_SWAPPED:
		return 1;
	default:
		return -ENOSPC;
	}
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
