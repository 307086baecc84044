/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * scan_resp.c — the responder's completed handshakes in the scan analysis (SPEC.md A11):
 * the OBX_TAB_RESP consumer, gamma per period and per block over the result of
 * scan_analyze(), the first payloads per (block, port) for `scan show --payloads`, the
 * snapshot section 19 and the /metrics families.  The store is respstore.c.
 *
 * A period has gamma (not null) when an epoch covering it carried OBX_SLOT_F_RESP (the
 * dataplane's responder answered then) or a handshake record fell in it, and H
 * (responder.prefixes, from the config) is not empty.
 *
 * Main loop only (single-threaded).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis.h"
#include "cp_log.h"
#include "metrics.h"
#include "scan_mod.h"

int cp_scan_resp_init(const struct cp *cp)
{
	const struct obs_conf *c = &cp->conf;
	int rc;

	if (cp_scan.resp_ready)
		resp_store_fini(&cp_scan.resp);
	cp_scan.resp_ready = false;
	rc = resp_store_init(&cp_scan.resp, (uint8_t)c->block_len, (uint8_t)c->period);
	if (rc != 0)
		return rc;
	cp_scan.resp_ready = true;
	if (resp_store_set_h(&cp_scan.resp, c->resp_prefix_addr, c->resp_prefix_len,
	                     c->resp_n_prefixes) != 0) {
		CP_ERR("scan: responder.prefixes: more than %u prefixes, or overlapping ones",
		       RESP_H_MAX);
		return -EINVAL;
	}
	if (cp_scan.resp.h_size)
		CP_NOTICE("scan: responder |H| %llu (%u prefixes): a port is application-layer "
		          "scanned with handshakes on >= %llu addresses",
		          (unsigned long long)cp_scan.resp.h_size, cp_scan.resp.n_h,
		          (unsigned long long)resp_store_threshold(&cp_scan.resp));
	return 0;
}

void cp_scan_resp_fini(void)
{
	if (cp_scan.resp_ready)
		resp_store_fini(&cp_scan.resp);
	cp_scan.resp_ready = false;
}

/* OBX_TAB_RESP consumer (store.h's prepare/apply protocol). */
int cp_scan_resp_merge(const struct cp_epoch *e, const void *recs, uint32_t n)
{
	const struct obx_resp_rec *r = recs;
	bool on = (e->flags & OBX_SLOT_F_RESP) && e->t_last_ns != 0;

	if (!cp_scan.resp_ready)
		return 0;
	if (recs == NULL)
		return resp_store_reserve(&cp_scan.resp, n, on ? e->t_first_ns : 0,
		                          on ? e->t_last_ns : 0);
	if (on)
		resp_store_mark_on(&cp_scan.resp, e->t_first_ns, e->t_last_ns);
	for (uint32_t i = 0; i < n; i++)
		if (resp_store_add(&cp_scan.resp, &r[i]) < 0)
			cp_scan.resp_nomem++;     /* reserved in prepare: not expected */
	return 0;
}

/* ------------------------------------------------------------------ gamma */

void cp_scan_gamma_psets(uint32_t block, struct scan_pset *ps, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct scan_pset *p = &ps[i];

		p->has_gamma = cp_scan.resp_ready &&
			resp_store_gamma(&cp_scan.resp, p->period, block, p->ports, p->n_ports,
			                 &p->n_app);
		p->gamma = p->has_gamma && p->n_ports ? (double)p->n_app / p->n_ports : 0.0;
	}
}

void cp_scan_gamma_result(struct scan_result *res)
{
	for (size_t i = 0; i < res->n_blocks; i++) {
		struct scan_block *b = &res->blocks[i];

		cp_scan_gamma_psets(b->block, b->psets, b->n_psets);
		b->has_gamma = false;
		b->gamma_ports = b->gamma_app = 0;
		for (uint32_t k = 0; k < b->n_psets; k++) {
			if (!b->psets[k].wide || !b->psets[k].has_gamma)
				continue;
			b->has_gamma = true;
			b->gamma_ports += b->psets[k].n_ports;
			b->gamma_app += b->psets[k].n_app;
		}
		b->gamma = b->gamma_ports ? (double)b->gamma_app / b->gamma_ports : 0.0;
	}
}

/* ------------------------------------------------------------------ payloads */

static json_t *cp_scan_jaddr(uint32_t a)
{
	char s[20];

	snprintf(s, sizeof(s), "%u.%u.%u.%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);
	return json_string(s);
}

static json_t *cp_scan_jpay(const struct resp_pay *p)
{
	char hex[2 * OBX_RESP_PAYLOAD + 1], txt[OBX_RESP_PAYLOAD + 1];

	for (uint32_t i = 0; i < p->len; i++) {
		snprintf(hex + 2 * i, 3, "%02x", p->bytes[i]);
		txt[i] = p->bytes[i] >= 0x20 && p->bytes[i] < 0x7f ? (char)p->bytes[i] : '.';
	}
	hex[2 * p->len] = '\0';
	txt[p->len] = '\0';
	return json_pack("{s:o, s:o, s:I, s:o, s:i, s:s, s:s}",
		"src", cp_scan_jaddr(p->src), "dst", cp_scan_jaddr(p->dst),
		"ts_ns", (json_int_t)p->ts_ns,
		"sid", p->sid ? json_integer(p->sid) : json_null(),
		"len", (json_int_t)p->len, "hex", hex, "text", txt);
}

static int cp_scan_pay_cmp(const void *a, const void *b)
{
	const struct resp_paycell *x = *(const struct resp_paycell *const *)a;
	const struct resp_paycell *y = *(const struct resp_paycell *const *)b;

	return (x->dport > y->dport) - (x->dport < y->dport);
}

json_t *cp_scan_resp_payloads_json(uint32_t block, uint32_t max_ports)
{
	const struct resp_paycell *c, **v = NULL;
	json_t *list = json_array();
	size_t n = 0, cap = 0;

	if (!cp_scan.resp_ready)
		return list;
	for (uint32_t it = 0; (c = resp_store_pay_next(&cp_scan.resp, &it)) != NULL;) {
		if (c->block != block)
			continue;
		if (n == cap) {
			const struct resp_paycell **nv = realloc(v, (cap ? cap * 2 : 16) * sizeof(*v));
			if (nv == NULL)
				break;
			v = nv;
			cap = cap ? cap * 2 : 16;
		}
		v[n++] = c;
	}
	if (n > 1)
		qsort(v, n, sizeof(*v), cp_scan_pay_cmp);
	for (size_t i = 0; i < n && i < max_ports; i++) {
		json_t *pays = json_array();

		for (uint32_t k = 0; k < v[i]->n; k++)
			json_array_append_new(pays, cp_scan_jpay(&v[i]->pay[k]));
		json_array_append_new(list, json_pack("{s:i, s:I, s:o}", "port", (json_int_t)v[i]->dport,
			"seen", (json_int_t)v[i]->seen, "payloads", pays));
	}
	free(v);
	return list;
}

json_t *cp_scan_resp_json(void)
{
	static const char *const bad[] = RESP_BAD_NAMES;
	const struct resp_store *s = &cp_scan.resp;
	json_t *b;

	if (!cp_scan.resp_ready)
		return json_null();
	b = json_object();
	for (int i = 0; i < RESP_BAD_N; i++)
		json_object_set_new(b, bad[i], json_integer((json_int_t)s->bad[i]));
	return json_pack("{s:I, s:i, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:o}",
		"h_size", (json_int_t)s->h_size, "h_prefixes", (json_int_t)s->n_h,
		"threshold", (json_int_t)resp_store_threshold(s),
		"records", (json_int_t)s->records, "sessions", (json_int_t)s->sessions,
		"pairs", (json_int_t)resp_store_n_pairs(s), "periods_on", (json_int_t)resp_store_n_on(s),
		"payloads", (json_int_t)s->payloads, "payloads_dropped", (json_int_t)s->pay_dropped,
		"bad_epochs", (json_int_t)s->bad_epochs, "bytes", (json_int_t)resp_store_bytes(s),
		"bad_records", b);
}

/* ------------------------------------------------------------------ snapshot, metrics */

int cp_scan_resp_blob(uint8_t **buf, size_t *len)
{
	*buf = NULL;
	*len = 0;
	return cp_scan.resp_ready ? resp_store_serialize(&cp_scan.resp, buf, len) : 0;
}

int cp_scan_resp_load(const void *data, size_t len, char *err, size_t errlen)
{
	const char *why = "";
	int rc;

	if (!cp_scan.resp_ready)
		return 0;
	rc = resp_store_deserialize(&cp_scan.resp, data, len, &why);
	if (rc != 0)
		snprintf(err, errlen, "%s", rc == -ENOMEM ? strerror(ENOMEM) : why);
	return rc;
}

void cp_scan_resp_reset(void)
{
	if (cp_scan.resp_ready)
		resp_store_clear(&cp_scan.resp);
}

void cp_scan_resp_metrics(struct cp_mx *x)
{
	static const char *const bad[] = RESP_BAD_NAMES;

	if (!cp_scan.resp_ready)
		return;
	cp_mx_family(x, "obscura_scan_responder_sessions_total", "counter",
	             "Completed responder handshakes merged (SPEC A11).");
	cp_mx_u64(x, cp_scan.resp.sessions, 0);
	cp_mx_family(x, "obscura_scan_responder_bad_records_total", "counter",
	             "Responder records dropped by the control plane, by reason.");
	for (int i = 0; i < RESP_BAD_N; i++)
		cp_mx_u64(x, cp_scan.resp.bad[i], 1, "reason", bad[i]);
	cp_mx_family(x, "obscura_scan_responder_pairs", "gauge",
	             "Distinct (period, block, port, responder address) with a handshake.");
	cp_mx_u64(x, resp_store_n_pairs(&cp_scan.resp), 0);
}
