/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cmd_sources.c — `sources.top [n]`: the sources with the most packets (ties by address
 * ascending, so the order is total and tests can compare it), with first/last seen in
 * packet time, sensors by name, flags (OBX_SRC_F_*) by name.  Streamed (the list can be
 * long).  Main loop only.
 */
#include <stdio.h>
#include <stdlib.h>

#include "commands.h"
#include "json.h"

/* Names of the sensors in mask, in config order: the dataplane's names from the exchange
 * header when known, else the config's, else sensorN.  Every command that shows sensors
 * uses this one. */
json_t *cp_sensor_names(const struct cp *cp, uint64_t mask)
{
	json_t *a = json_array();

	for (uint32_t i = 0; i < 64; i++) {
		char buf[40];

		if (!(mask & (1ull << i)))
			continue;
		if (i < cp->store.n_sensors && cp->store.sensor_names[i][0] != '\0')
			json_array_append_new(a, json_string(cp->store.sensor_names[i]));
		else if (i < cp->conf.n_sensors)
			json_array_append_new(a, json_string(cp->conf.sensors[i].name));
		else {
			snprintf(buf, sizeof(buf), "sensor%u", i);
			json_array_append_new(a, json_string(buf));
		}
	}
	return a;
}

/* OBX_SRC_F_* by name (exchange.h), unknown bits as "flag<N>". */
static json_t *cp_src_flag_names(uint32_t flags)
{
	static const char *const names[] = OBX_SRC_F_NAMES;
	json_t *a = json_array();

	for (uint32_t i = 0; i < 32; i++) {
		char buf[16];

		if (!(flags & (1u << i)))
			continue;
		if (i < sizeof(names) / sizeof(names[0])) {
			json_array_append_new(a, json_string(names[i]));
		} else {
			snprintf(buf, sizeof(buf), "flag%u", i);
			json_array_append_new(a, json_string(buf));
		}
	}
	return a;
}

void cp_cmd_sources_top(struct cp *cp, json_t *args, struct cp_reply *r)
{
	json_t *jn = json_object_get(args, "n"), *list;
	size_t n = jn != NULL ? (size_t)json_integer_value(jn) : 10;
	struct cp_src *top;
	long k;

	k = cp_store_top(&cp->store, n, &top);
	if (k < 0) {
		cp_reply_err(r, CP_E_INTERNAL, "out of memory sorting %u sources", cp->store.src.n);
		return;
	}
	list = json_array();
	for (long i = 0; i < k; i++) {
		const struct cp_src *s = &top[i];

		json_array_append_new(list, json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
			"addr", cp_json_ipv4(s->addr), "packets", cp_json_u64(s->packets),
			/* a stored source has packets: time 0 is a time here */
			"first_seen", cp_json_time_at(s->first_ns), "last_seen", cp_json_time_at(s->last_ns),
			"first_ns", cp_json_u64(s->first_ns), "last_ns", cp_json_u64(s->last_ns),
			"sensors", cp_sensor_names(cp, s->sensor_mask),
			"flags", cp_src_flag_names(s->flags)));
	}
	free(top);
	r->data = list;
}
