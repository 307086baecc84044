/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * blocktools.c — scanner-tool SYNs per (source block, period) (blocktools.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "blocktools.h"
#include "exchange.h"
#include "period.h"

#define SCAN_BT_MAGIC   0x31544253u    /* "SBT1" */
#define SCAN_BT_VERSION 1u

struct scan_bt_hdr {
	uint32_t magic, version;
	uint64_t n;
};

static uint64_t scan_bt_hash(const void *key, const void *ctx)
{
	uint32_t k[2];

	(void)ctx;
	memcpy(k, key, sizeof(k));
	return obx_src_hash(k[1] ^ (k[0] * 0x9e3779b1u));
}

static const struct cp_ht_type scan_bt_type = {
	.size = sizeof(struct scan_bt), .key_size = 2 * sizeof(uint32_t),
	.used_off = offsetof(struct scan_bt, used), .used_len = 1,
	.load_num = 7, .load_den = 10, .min_cap = 64, .hash = scan_bt_hash,
};
#define BT (&scan_bt_type)
_Static_assert(sizeof(struct scan_bt) == 56, "no padding in a block-tool entry (snapshot)");

void scan_bts_init(struct scan_bts *t, uint8_t block_len, uint8_t unit)
{
	memset(t, 0, sizeof(*t));
	cp_ht_init(&t->ht, NULL);
	t->block_len = block_len;
	t->unit = unit;
}

void scan_bts_fini(struct scan_bts *t)
{
	cp_ht_fini(&t->ht);
	memset(t, 0, sizeof(*t));
}

void scan_bts_clear(struct scan_bts *t)
{
	cp_ht_clear(&t->ht, BT);
	t->bad = 0;
}

void scan_bts_key(const struct scan_bts *t, uint32_t addr, uint64_t first_ns, uint32_t *period,
                  uint32_t *block)
{
	uint32_t mask = t->block_len == 0 ? 0 : ~0u << (32 - t->block_len);

	*period = obs_period_index(t->unit, first_ns);
	*block = addr & mask;
}

int scan_bts_reserve(struct scan_bts *t, uint32_t n)
{
	return cp_ht_reserve(&t->ht, BT, n);
}

bool scan_bts_has_room(const struct scan_bts *t, uint32_t n)
{
	return cp_ht_has_room(&t->ht, BT, n);
}

void scan_bts_add(struct scan_bts *t, uint32_t addr, uint64_t first_ns, unsigned tool,
                  uint64_t tool_syns, uint64_t tool_other)
{
	uint32_t key[2];
	struct scan_bt *e;
	bool isnew;
	unsigned i;

	if (tool == 0)
		return;
	if (tool >= SCAN_BT_IDS) {
		t->bad++;
		return;
	}
	scan_bts_key(t, addr, first_ns, &key[0], &key[1]);
	e = cp_ht_insert(&t->ht, BT, key, &isnew);
	if (e == NULL) {           /* no room reserved: the caller's bug; counted, not lost silently */
		t->bad++;
		return;
	}
	if (isnew) {
		e->period = key[0];
		e->block = key[1];
		e->used = 1;
	}
	for (i = 0; i < SCAN_BT_SLOTS; i++)
		if (e->ids[i] == tool || e->ids[i] == 0)
			break;
	if (i < SCAN_BT_SLOTS) {
		e->ids[i] = (uint8_t)tool;
		e->syns[i] += tool_syns;
	} else {
		e->other += tool_syns;
	}
	e->other += tool_other;
}

const struct scan_bt *scan_bts_find(const struct scan_bts *t, uint32_t period, uint32_t block)
{
	uint32_t key[2] = { period, block };

	return cp_ht_find(&t->ht, BT, key);
}

const struct scan_bt *scan_bts_next(const struct scan_bts *t, uint32_t *it)
{
	return cp_ht_next(&t->ht, BT, it);
}

uint64_t scan_bt_labelled(const struct scan_bt *e)
{
	uint64_t n = e->other;

	for (unsigned i = 0; i < SCAN_BT_SLOTS; i++)
		n += e->syns[i];
	return n;
}

void scan_bts_sum(const struct scan_bts *t, uint32_t block, uint32_t from, uint32_t to,
                  uint64_t *syns)
{
	const struct scan_bt *e;

	memset(syns, 0, SCAN_BT_IDS * sizeof(*syns));
	for (uint32_t it = 0; (e = scan_bts_next(t, &it)) != NULL;) {
		if (e->block != block || e->period < from || e->period > to)
			continue;
		syns[0] += e->other;
		for (unsigned i = 0; i < SCAN_BT_SLOTS && e->ids[i] != 0; i++)
			syns[e->ids[i]] += e->syns[i];
	}
}

unsigned scan_bts_dominant(const uint64_t *syns)
{
	unsigned best = 0;

	for (unsigned id = 1; id < SCAN_BT_IDS; id++)
		if (syns[id] > 0 && (best == 0 || syns[id] > syns[best]))
			best = id;
	return best;
}

int scan_bts_serialize(const struct scan_bts *t, uint8_t **out, size_t *len)
{
	struct scan_bt_hdr h = { SCAN_BT_MAGIC, SCAN_BT_VERSION, t->ht.n };
	size_t size = sizeof(h) + (size_t)t->ht.n * sizeof(struct scan_bt), off = sizeof(h);
	const struct scan_bt *e;
	uint8_t *b = malloc(size);

	if (b == NULL)
		return -ENOMEM;
	memcpy(b, &h, sizeof(h));
	for (uint32_t it = 0; (e = scan_bts_next(t, &it)) != NULL; off += sizeof(*e))
		memcpy(b + off, e, sizeof(*e));
	*out = b;
	*len = off;
	return 0;
}

/* A snapshot's entry: label ids in range, used slots first and distinct. */
static bool scan_bt_ok(const struct scan_bt *e)
{
	if (e->used != 1 || e->ids[0] == 0)
		return false;
	for (unsigned i = 0; i < SCAN_BT_SLOTS; i++) {
		if (e->ids[i] >= SCAN_BT_IDS || (e->ids[i] == 0 && e->syns[i] != 0))
			return false;
		if (i > 0 && e->ids[i] != 0 && e->ids[i - 1] == 0)
			return false;
		for (unsigned j = 0; j < i; j++)
			if (e->ids[i] != 0 && e->ids[i] == e->ids[j])
				return false;
	}
	return true;
}

int scan_bts_deserialize(struct scan_bts *t, const uint8_t *buf, size_t len, const char **why)
{
	struct scan_bt_hdr h;
	size_t off = sizeof(h);

	if (len < sizeof(h)) {
		*why = "block-tool part truncated";
		return -EBADMSG;
	}
	memcpy(&h, buf, sizeof(h));
	if (h.magic != SCAN_BT_MAGIC || h.version != SCAN_BT_VERSION) {
		*why = "block-tool part: bad magic or version";
		return -EBADMSG;
	}
	if (h.n != (len - off) / sizeof(struct scan_bt) || (len - off) % sizeof(struct scan_bt)) {
		*why = "block-tool part: entry count does not match its size";
		return -EBADMSG;
	}
	if (h.n > UINT32_MAX / 2 || scan_bts_reserve(t, (uint32_t)h.n) != 0)
		return -ENOMEM;
	for (uint64_t i = 0; i < h.n; i++, off += sizeof(struct scan_bt)) {
		struct scan_bt r, *e;
		bool isnew;

		memcpy(&r, buf + off, sizeof(r));
		if (!scan_bt_ok(&r)) {
			*why = "block-tool part: bad entry (label id, slot order)";
			goto bad;
		}
		e = cp_ht_insert(&t->ht, BT, &r, &isnew);
		if (e == NULL || !isnew) {
			*why = "block-tool part: duplicate (block, period)";
			goto bad;
		}
		memcpy(e, &r, sizeof(r));
		memset(e->pad, 0, sizeof(e->pad));
	}
	return 0;
bad:
	scan_bts_clear(t);
	return -EBADMSG;
}

size_t scan_bts_bytes(const struct scan_bts *t)
{
	return cp_ht_bytes(&t->ht, BT);
}
