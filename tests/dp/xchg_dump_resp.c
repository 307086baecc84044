/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * xchg_dump_resp.c — xchg_dump's responder part (issue 13): the RESP records of every
 * drained slot merged per (client, responder address, port), the slots flagged
 * OBX_SLOT_F_RESP, the header's responder status and the responder's counters, as the
 * "responder" object of xchg_dump's JSON.  Records that break the contract (count 0 with
 * other bytes set, first/last outside the record's hour, payload_len past the array or the
 * segment) are counted in "bad_records", never merged.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "exchange.h"
#include "exchange_recs.h"
#include "xchg_dump_resp.h"

#define RESP_KEYS_MAX 65536u

static struct obx_resp_rec *keys;       /* merged: count summed, flags ORed, the first
                                         * payload and sid kept */
static uint32_t *key_recs;               /* records merged into each key (one a slot, or two
                                         * when the key's hour changes inside a slot) */
static uint32_t n_keys, n_dropped;
static uint64_t n_records, bad_records, resp_epochs;

static void resp_merge(const struct obx_resp_rec *in)
{
	for (uint32_t i = 0; i < n_keys; i++) {
		struct obx_resp_rec *r = &keys[i];

		if (r->src != in->src || r->dst != in->dst || r->dport != in->dport)
			continue;
		r->count += in->count;
		if (in->first_ns < r->first_ns)
			r->first_ns = in->first_ns;
		if (in->last_ns > r->last_ns)
			r->last_ns = in->last_ns;
		if (!(r->flags & OBX_RESP_F_PAYLOAD) && (in->flags & OBX_RESP_F_PAYLOAD)) {
			memcpy(r->payload, in->payload, sizeof(r->payload));
			r->payload_len = in->payload_len;
			r->seg_len = in->seg_len;
		}
		if (!(r->flags & OBX_RESP_F_RULE) && (in->flags & OBX_RESP_F_RULE))
			r->sid = in->sid;
		r->flags |= in->flags;
		key_recs[i]++;
		return;
	}
	if (keys == NULL && ((keys = calloc(RESP_KEYS_MAX, sizeof(*keys))) == NULL ||
	                     (key_recs = calloc(RESP_KEYS_MAX, sizeof(*key_recs))) == NULL)) {
		perror("xchg_dump: calloc");
		exit(1);
	}
	if (n_keys == RESP_KEYS_MAX) {
		n_dropped++;
		return;
	}
	key_recs[n_keys] = 1;
	keys[n_keys++] = *in;
}

void resp_dump_slot(const struct obx_header *h, const struct obx_slot_hdr *sh)
{
	const uint8_t *tab = obx_slot_tab_h(h, (struct obx_slot_hdr *)sh, OBX_TAB_RESP);

	if (sh->flags & OBX_SLOT_F_RESP)
		resp_epochs++;
	if (tab == NULL || h->tab_rec_size[OBX_TAB_RESP] != sizeof(struct obx_resp_rec))
		return;
	for (uint32_t i = 0; i < h->tab_capacity[OBX_TAB_RESP]; i++) {
		const struct obx_resp_rec *r = (const void *)(tab + (size_t)i * sizeof(*r));

		if (obx_rec_empty(r, sizeof(*r)))
			continue;
		n_records++;
		if (r->count == 0 || !obx_hour_rec_ok(r->first_ns, r->last_ns, r->hour) ||
		    r->payload_len > OBX_RESP_PAYLOAD || r->payload_len > r->seg_len ||
		    (!(r->flags & OBX_RESP_F_PAYLOAD) && r->payload_len != 0)) {
			bad_records++;
			continue;
		}
		resp_merge(r);
	}
}

static const char *ip4(uint32_t a, char *b)
{
	struct in_addr in = { htonl(a) };

	return inet_ntop(AF_INET, &in, b, INET_ADDRSTRLEN);
}

void resp_dump_json(const struct obx_header *h, const struct obx_counters *c)
{
	char a[INET_ADDRSTRLEN], b[INET_ADDRSTRLEN];

	printf("  \"responder\": {\n");
	printf("    \"flags\": %u, \"n_prefixes\": %u, \"n_addrs\": %" PRIu64 ", "
	       "\"payload_bytes\": %u, \"max_pps\": %u,\n", h->resp.flags, h->resp.n_prefixes,
	       h->resp.n_addrs, h->resp.payload_bytes, h->resp.max_pps);
	printf("    \"resp_epochs\": %" PRIu64 ", \"records\": %" PRIu64 ", \"bad_records\": %"
	       PRIu64 ", \"keys_dropped\": %u,\n", resp_epochs, n_records, bad_records, n_dropped);
	printf("    \"synacks\": %" PRIu64 ", \"tx_refused\": %" PRIu64 ", \"capped\": %" PRIu64
	       ", \"cookie_ok\": %" PRIu64 ", \"cookie_bad\": %" PRIu64 ",\n",
	       c->reserved[OBX_CTR_RESP_SYNACKS], c->reserved[OBX_CTR_RESP_TX_REFUSED],
	       c->reserved[OBX_CTR_RESP_CAPPED], c->reserved[OBX_CTR_RESP_COOKIE_OK],
	       c->reserved[OBX_CTR_RESP_COOKIE_BAD]);
	printf("    \"sessions\": %" PRIu64 ", \"payloads\": %" PRIu64 ", \"rsts\": %" PRIu64
	       ", \"arps\": %" PRIu64 ",\n", c->resp_sessions, c->resp_payloads, c->resp_rsts,
	       c->resp_arps);
	printf("    \"keys\": [");
	for (uint32_t i = 0; i < n_keys; i++) {
		const struct obx_resp_rec *r = &keys[i];

		printf("%s\n      {\"src\": \"%s\", \"dst\": \"%s\", \"dport\": %u, \"count\": %"
		       PRIu64 ", \"records\": %u, \"flags\": %u, \"sid\": %u, \"seg_len\": %u, "
		       "\"payload\": \"", i ? "," : "", ip4(r->src, a), ip4(r->dst, b), r->dport,
		       r->count, key_recs[i], r->flags, r->sid, r->seg_len);
		for (unsigned j = 0; j < r->payload_len; j++)
			printf("%02x", r->payload[j]);
		printf("\"}");
	}
	printf("%s]\n  },\n", n_keys ? "\n    " : "");
}
