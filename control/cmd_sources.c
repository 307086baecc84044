/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cmd_sources.c — `sources.top [n]`: the sources with the most packets (ties by address
 * ascending, so the order is total and tests can compare it), with first/last seen in
 * packet time, sensors by name, flags (OBX_SRC_F_*) by name.  Streamed (the list can be
 * long), and produced in steps (commands.h cp_cursor): the request copies the sources
 * and makes a heap of them (linear time), then each step pops the next chunk, so the
 * work of one loop turn is a chunk's, however many sources there are and whatever n.
 * Main loop only.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "analysis.h"
#include "json.h"
#include "toolstore.h"

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

/* The order of cp_store_top(): packets descending, then address ascending. */
static bool cp_top_before(const struct cp_src *x, const struct cp_src *y)
{
	return cp_src_cmp(x, y) < 0;   /* the store's order (store.h) */
}

/* The sources copied at the request, a heap with the first of the order on top. */
struct cp_top_cursor {
	struct cp_src *h;
	size_t n;       /* in the heap */
	size_t left;    /* rows still to send (n, or the request's n) */
};

static void cp_top_sift(struct cp_src *h, size_t n, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		struct cp_src t;

		if (l < n && cp_top_before(&h[l], &h[m]))
			m = l;
		if (r < n && cp_top_before(&h[r], &h[m]))
			m = r;
		if (m == i)
			return;
		t = h[i];
		h[i] = h[m];
		h[m] = t;
		i = m;
	}
}

static json_t *cp_top_row(const struct cp *cp, const struct cp_src *s)
{
	return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
		"addr", cp_json_ipv4(s->addr), "packets", cp_json_u64(s->packets),
		/* a stored source has packets: time 0 is a time here */
		"first_seen", cp_json_time_at(s->first_ns), "last_seen", cp_json_time_at(s->last_ns),
		"first_ns", cp_json_u64(s->first_ns), "last_ns", cp_json_u64(s->last_ns),
		"sensors", cp_sensor_names(cp, s->sensor_mask),
		"flags", cp_src_flag_names(s->flags));
}

static long cp_top_next(struct cp *cp, void *state, json_t *rows, size_t max)
{
	struct cp_top_cursor *t = state;
	long k = 0;

	while (t->left > 0 && (size_t)k < max) {
		json_t *row = cp_top_row(cp, &t->h[0]);

		if (row == NULL || json_array_append_new(rows, row) != 0)
			return -ENOMEM;
		t->h[0] = t->h[--t->n];
		cp_top_sift(t->h, t->n, 0);
		t->left--;
		k++;
	}
	return k;
}

static void cp_top_fini(void *state)
{
	struct cp_top_cursor *t = state;

	free(t->h);
	free(t);
}

void cp_cmd_sources_top(struct cp *cp, json_t *args, struct cp_reply *r)
{
	json_t *jn = json_object_get(args, "n");
	size_t n = jn != NULL ? (size_t)json_integer_value(jn) : 10;
	struct cp_top_cursor *t;
	const struct cp_src *s;
	/* fingerprint (issue 14): --tool T / {"tool": T} */
	const char *tn = json_string_value(json_object_get(args, "tool"));
	const char *label = json_string_value(json_object_get(args, "label"));
	int tool = 0;

	if (tn != NULL && strcmp(tn, "--tool") == 0) {
		if (label == NULL) {
			cp_reply_err(r, CP_E_BAD_ARGS, "sources.top: --tool needs a tool label");
			return;
		}
		tn = label;
	} else if (label != NULL) {
		cp_reply_err(r, CP_E_BAD_ARGS, "sources.top: expected [n] [--tool T], got '%.32s'",
		             label);
		return;
	}
	if (tn != NULL && (tool = cp_tool_id(tn)) <= 0) {
		char names[512];

		cp_tool_names_list(names, sizeof(names));
		cp_reply_err(r, CP_E_BAD_ARGS, "sources.top: unknown tool '%.32s' (labels: %s)", tn,
		             names);
		return;
	}
	t = calloc(1, sizeof(*t));

	if (t != NULL)
		t->h = malloc(((size_t)cp->store.src.n + 1) * sizeof(*t->h));
	if (t == NULL || t->h == NULL) {
		free(t);
		cp_reply_err(r, CP_E_INTERNAL, "out of memory copying %u sources", cp->store.src.n);
		return;
	}
	for (uint32_t it = 0; (s = cp_store_src_next(&cp->store, &it)) != NULL;) {
		const struct cp_tool_src *e;

		if (tool != 0 && ((e = cp_tools_find(&cp->store.tools, s->addr)) == NULL ||
		                  e->tool != tool))
			continue;
		t->h[t->n++] = *s;
	}
	for (size_t i = t->n / 2; i-- > 0;)
		cp_top_sift(t->h, t->n, i);
	t->left = n != 0 && n < t->n ? n : t->n;
	r->cursor.next = cp_top_next;
	r->cursor.fini = cp_top_fini;
	r->cursor.state = t;
}

/* ---- fingerprint (issue 14): sources.show ADDR ---- */

static json_t *cp_src_tool_json(const struct cp_tool_src *e)
{
	char b0[16], b1[16];
	json_t *per = json_array();

	for (unsigned i = 0; i < CP_TOOL_SLOTS; i++)
		if (e->ids[i] != 0)
			json_array_append_new(per, json_pack("{s:i, s:s, s:o}", "id", e->ids[i],
				"name", cp_tool_name(e->ids[i], b1, sizeof(b1)), "syns",
				cp_json_u64(e->syns[i])));
	return json_pack("{s:i, s:s, s:o, s:o, s:o}", "id", e->tool,
		"name", cp_tool_name(e->tool, b0, sizeof(b0)), "per_tool", per,
		"other_syns", cp_json_u64(e->other), "labelled_syns", cp_json_u64(cp_tool_src_total(e)));
}

void cp_cmd_sources_show(struct cp *cp, json_t *args, struct cp_reply *r)
{
	const char *a = json_string_value(json_object_get(args, "address"));
	const struct cp_tool_src *t;
	const struct cp_src *s;
	uint32_t addr;
	json_t *o;

	struct in_addr ia;

	if (a == NULL || inet_pton(AF_INET, a, &ia) != 1) {
		cp_reply_err(r, CP_E_BAD_ARGS, "sources.show: '%.32s' is not an IPv4 address",
		             a ? a : "");
		return;
	}
	addr = ntohl(ia.s_addr);
	s = cp_store_src_find(&cp->store, addr);
	t = cp_tools_find(&cp->store.tools, addr);
	o = json_pack("{s:o, s:b}", "addr", cp_json_ipv4(addr), "known", s != NULL);
	if (s != NULL) {
		json_object_set_new(o, "packets", cp_json_u64(s->packets));
		json_object_set_new(o, "first_seen", cp_json_time_at(s->first_ns));
		json_object_set_new(o, "last_seen", cp_json_time_at(s->last_ns));
		json_object_set_new(o, "first_ns", cp_json_u64(s->first_ns));
		json_object_set_new(o, "last_ns", cp_json_u64(s->last_ns));
		json_object_set_new(o, "sensors", cp_sensor_names(cp, s->sensor_mask));
		json_object_set_new(o, "flags", cp_src_flag_names(s->flags));
		json_object_set_new(o, "tables", json_pack("{s:b, s:b, s:b}",
			"scanner", (s->flags & OBX_SRC_F_SCANNER) != 0,
			"resip", (s->flags & OBX_SRC_F_RESIP) != 0,
			"excluded", (s->flags & OBX_SRC_F_EXCLUDED) != 0));
		json_object_set_new(o, "resip_packets", cp_json_u64(s->resip_packets));
	}
	json_object_set_new(o, "tool", t != NULL ? cp_src_tool_json(t) : json_null());
	cp_analyses_source_show(cp, addr, o);
	r->data = o;
}
