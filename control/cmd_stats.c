/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cmd_stats.c — `stats`: the exact totals of every drained epoch (all boots), per
 * worker, with drop reasons and protocols by name, and the port counters (live from the
 * attached exchange, else the last ones seen), and the loss stamp of the whole span
 * (integrity.h).  Main loop only.
 */
#include "commands.h"
#include "integrity.h"
#include "json.h"

void cp_cmd_stats(struct cp *cp, json_t *args, struct cp_reply *r)
{
	const struct cp_store *s = &cp->store;
	json_t *o = json_object(), *workers = json_array(), *ports = json_array(), *span;

	json_object_set_new(o, "epochs", cp_json_u64(s->epochs));
	json_object_set_new(o, "boots", json_integer(s->n_boots));
	json_object_set_new(o, "sources", json_integer(s->src.n));
	span = json_object();
	json_object_set_new(span, "first", s->span_set ? cp_json_time_at(s->t_first_ns) : json_null());
	json_object_set_new(span, "last", s->span_set ? cp_json_time_at(s->t_last_ns) : json_null());
	json_object_set_new(o, "packet_time", span);
	json_object_set_new(o, "total", cp_json_counters(&s->total));
	/* epochs that never reached the store: the periods they fall in are partial */
	json_object_set_new(o, "epochs_lost", cp_json_u64(cp->drain.epochs_lost));
	json_object_set_new(o, "partial_periods", cp_json_partial_periods(cp));
	for (uint32_t w = 0; w < s->n_workers; w++) {
		json_t *c = cp_json_counters(&s->worker[w]);

		json_object_set_new(c, "worker", json_integer(w));
		json_array_append_new(workers, c);
	}
	json_object_set_new(o, "workers", workers);
	for (uint32_t p = 0; p < s->n_ports; p++) {
		const struct obx_port_stats *ps = &s->ports[p];

		json_array_append_new(ports, json_pack("{s:s, s:o, s:o, s:o, s:o, s:o}",
			"name", ps->name, "ipackets", cp_json_u64(ps->ipackets),
			"ibytes", cp_json_u64(ps->ibytes), "imissed", cp_json_u64(ps->imissed),
			"ierrors", cp_json_u64(ps->ierrors), "rx_nombuf", cp_json_u64(ps->rx_nombuf)));
	}
	json_object_set_new(o, "ports", ports);
	json_object_set_new(o, "ports_live", json_boolean(cp->drain.cur.h != NULL &&
		cp->drain.cur.boot_id == s->ports_boot_id));
	json_object_set_new(o, "ports_boot_id", s->n_ports ? cp_json_hex64(s->ports_boot_id)
	                                                  : json_null());
	{
		/* the loss stamp of everything drained (integrity.h) */
		struct cp_integ in;

		cp_integrity_span(0, 0, &in);
		json_object_set_new(o, "integrity", cp_integ_json(&in));
	}
	r->data = o;
}
