/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * json.c — JSON builders for the command handlers (json.h).
 *
 * config.show reuses obs_conf_dump() (the -n output) and converts that YAML here, so the
 * socket shows exactly the normalised config the key table defines, with no second list
 * of keys to keep in step.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <yaml.h>

#include "json.h"

json_t *cp_json_u64(uint64_t v)
{
	return json_integer(v > (uint64_t)INT64_MAX ? INT64_MAX : (json_int_t)v);
}

void cp_fmt_time(uint64_t ns, char *buf, size_t len)
{
	time_t sec = (time_t)(ns / 1000000000ull);
	struct tm tm;
	size_t n;

	gmtime_r(&sec, &tm);
	n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, len - n, ".%09lluZ", (unsigned long long)(ns % 1000000000ull));
}

json_t *cp_json_time(uint64_t ns)
{
	return ns == 0 ? json_null() : cp_json_time_at(ns);
}

json_t *cp_json_time_at(uint64_t ns)
{
	char buf[64];

	cp_fmt_time(ns, buf, sizeof(buf));
	return json_string(buf);
}

json_t *cp_json_ipv4(uint32_t a)
{
	char buf[16];

	snprintf(buf, sizeof(buf), "%u.%u.%u.%u", a >> 24, (a >> 16) & 0xff, (a >> 8) & 0xff,
	         a & 0xff);
	return json_string(buf);
}

json_t *cp_json_prefix(uint32_t a, unsigned len)
{
	char buf[20];

	snprintf(buf, sizeof(buf), "%u.%u.%u.%u/%u", a >> 24, (a >> 16) & 0xff, (a >> 8) & 0xff,
	         a & 0xff, len);
	return json_string(buf);
}

json_t *cp_json_hex64(uint64_t v)
{
	char buf[20];

	snprintf(buf, sizeof(buf), "%016llx", (unsigned long long)v);
	return json_string(buf);
}

json_t *cp_json_counters(const struct obx_counters *c)
{
	static const char *const drop_names[OBX_DROP_N] = OBX_DROP_NAMES;
	static const char *const proto_names[OBX_P_N] = { "tcp", "udp", "icmp", "other" };
	json_t *o = json_object(), *drops = json_object(), *protos = json_object();
	uint64_t dropped = 0;

	for (int i = 0; i < OBX_DROP_N; i++) {
		json_object_set_new(drops, drop_names[i], cp_json_u64(c->drops[i]));
		dropped += c->drops[i];
	}
	for (int i = 0; i < OBX_P_N; i++)
		json_object_set_new(protos, proto_names[i], cp_json_u64(c->proto_packets[i]));
	json_object_set_new(o, "rx_packets", cp_json_u64(c->rx_packets));
	json_object_set_new(o, "rx_bytes", cp_json_u64(c->rx_bytes));
	json_object_set_new(o, "tel_packets", cp_json_u64(c->tel_packets));
	json_object_set_new(o, "tel_bytes", cp_json_u64(c->tel_bytes));
	json_object_set_new(o, "dropped", cp_json_u64(dropped));
	json_object_set_new(o, "drops", drops);
	json_object_set_new(o, "protocols", protos);
	json_object_set_new(o, "lost_updates", cp_json_u64(c->lost_updates));
	json_object_set_new(o, "time_backwards", cp_json_u64(c->time_backwards));
	json_object_set_new(o, "forced_swaps", cp_json_u64(c->forced_swaps));
	json_object_set_new(o, "excluded_packets", cp_json_u64(c->excluded_packets));
	json_object_set_new(o, "resip_packets", cp_json_u64(c->resip_packets));
	json_object_set_new(o, "scanner_packets", cp_json_u64(c->scanner_packets));
	json_object_set_new(o, "cov_syns", cp_json_u64(c->cov_syns));
	json_object_set_new(o, "payload_packets", cp_json_u64(c->payload_packets));
	json_object_set_new(o, "rule_matches", cp_json_u64(c->rule_matches));
	/* fragments / DoS backscatter (exchange.h OBX_CTR_*) */
	json_object_set_new(o, "fragments", cp_json_u64(c->reserved[OBX_CTR_FRAGMENTS]));
	json_object_set_new(o, "backscatter_packets",
	                    cp_json_u64(c->reserved[OBX_CTR_BACKSCATTER]));
	/* --- responder (issue 13): exchange.h OBX_CTR_RESP_* and the appended block --- */
	{
		json_t *r = json_object();

		json_object_set_new(r, "syn_acks", cp_json_u64(c->reserved[OBX_CTR_RESP_SYNACKS]));
		json_object_set_new(r, "tx_refused", cp_json_u64(c->reserved[OBX_CTR_RESP_TX_REFUSED]));
		json_object_set_new(r, "capped", cp_json_u64(c->reserved[OBX_CTR_RESP_CAPPED]));
		json_object_set_new(r, "cookies_valid", cp_json_u64(c->reserved[OBX_CTR_RESP_COOKIE_OK]));
		json_object_set_new(r, "cookies_invalid", cp_json_u64(c->reserved[OBX_CTR_RESP_COOKIE_BAD]));
		json_object_set_new(r, "sessions", cp_json_u64(c->resp_sessions));
		json_object_set_new(r, "payloads", cp_json_u64(c->resp_payloads));
		json_object_set_new(r, "rsts", cp_json_u64(c->resp_rsts));
		json_object_set_new(r, "arp_replies", cp_json_u64(c->resp_arps));
		json_object_set_new(o, "responder", r);
	}
	return o;
}

/* ---- YAML -> JSON ---- */

static json_t *cp_yaml_scalar(const yaml_event_t *ev)
{
	const char *v = (const char *)ev->data.scalar.value;
	size_t len = ev->data.scalar.length;

	if (ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE) {
		char *end;
		long long x;

		if (strcmp(v, "true") == 0)
			return json_true();
		if (strcmp(v, "false") == 0)
			return json_false();
		if (strcmp(v, "null") == 0 || strcmp(v, "~") == 0 || len == 0)
			return json_null();
		errno = 0;
		x = strtoll(v, &end, 10);
		if (*end == '\0' && errno == 0 && (v[0] == '-' || (v[0] >= '0' && v[0] <= '9')))
			return json_integer(x);
	}
	return json_stringn(v, len);
}

static json_t *cp_yaml_node(yaml_parser_t *p, yaml_event_t *ev, int depth);

static json_t *cp_yaml_next(yaml_parser_t *p, int depth)
{
	yaml_event_t ev;
	json_t *j;

	if (!yaml_parser_parse(p, &ev))
		return NULL;
	j = cp_yaml_node(p, &ev, depth);
	yaml_event_delete(&ev);
	return j;
}

/* Build the node that starts with ev.  NULL on error or on an end event. */
static json_t *cp_yaml_node(yaml_parser_t *p, yaml_event_t *ev, int depth)
{
	json_t *j;

	if (depth > 64)
		return NULL;
	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		return cp_yaml_scalar(ev);
	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT: {
		/* a sequence's items are nodes; a mapping's are a scalar key, then its node */
		bool map = ev->type == YAML_MAPPING_START_EVENT;
		yaml_event_type_t end = map ? YAML_MAPPING_END_EVENT : YAML_SEQUENCE_END_EVENT;

		j = map ? json_object() : json_array();
		for (;;) {
			yaml_event_t e;
			json_t *v;
			char *key = NULL;

			if (!yaml_parser_parse(p, &e))
				goto err;
			if (e.type == end) {
				yaml_event_delete(&e);
				return j;
			}
			if (map) {
				if (e.type == YAML_SCALAR_EVENT)
					key = strndup((const char *)e.data.scalar.value,
					              e.data.scalar.length);
				yaml_event_delete(&e);
				if (key == NULL)
					goto err;
				v = cp_yaml_next(p, depth + 1);
			} else {
				v = cp_yaml_node(p, &e, depth + 1);
				yaml_event_delete(&e);
			}
			if (v == NULL) {
				free(key);
				goto err;
			}
			if (map)
				json_object_set_new(j, key, v);
			else
				json_array_append_new(j, v);
			free(key);
		}
	}
	default:
		return NULL;
	}
err:
	json_decref(j);
	return NULL;
}

json_t *cp_json_from_yaml(const char *yaml, size_t len)
{
	yaml_parser_t p;
	yaml_event_t ev;
	json_t *root = NULL;
	int done = 0;

	if (!yaml_parser_initialize(&p))
		return NULL;
	yaml_parser_set_input_string(&p, (const unsigned char *)yaml, len);
	while (!done) {
		if (!yaml_parser_parse(&p, &ev))
			break;
		switch (ev.type) {
		case YAML_STREAM_END_EVENT:
			done = 1;
			break;
		case YAML_STREAM_START_EVENT:
		case YAML_DOCUMENT_START_EVENT:
		case YAML_DOCUMENT_END_EVENT:
			break;
		default:
			if (root == NULL)
				root = cp_yaml_node(&p, &ev, 0);
			break;
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&p);
	if (!done) {
		json_decref(root);
		return NULL;
	}
	return root;
}
