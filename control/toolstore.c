/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * toolstore.c — per-source scanner-tool counts (toolstore.h) and the label names.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exchange.h"
#include "fingerprint.h"
#include "toolstore.h"

static uint64_t cp_tool_hash(const void *key, const void *ctx)
{
	uint32_t a;

	(void)ctx;
	memcpy(&a, key, sizeof(a));
	return obx_src_hash(a);
}

static const struct cp_ht_type cp_tool_ht_type = {
	.size = sizeof(struct cp_tool_src), .key_size = sizeof(uint32_t),
	.used_off = offsetof(struct cp_tool_src, tool), .used_len = 1,
	.load_num = 7, .load_den = 10, .min_cap = 64, .hash = cp_tool_hash,
};
#define TT (&cp_tool_ht_type)
_Static_assert(sizeof(struct cp_tool_src) == 48, "no padding in a tool entry (snapshot)");
_Static_assert(CP_TOOL_IDS == OBS_FP_MAX_ID + 1, "label ids as the fingerprint file's");

void cp_tools_init(struct cp_tools *t)
{
	memset(t, 0, sizeof(*t));
	cp_ht_init(&t->ht, NULL);
}

void cp_tools_fini(struct cp_tools *t)
{
	cp_ht_fini(&t->ht);
	memset(t, 0, sizeof(*t));
}

void cp_tools_clear(struct cp_tools *t)
{
	struct cp_ht ht = t->ht;

	cp_ht_clear(&ht, TT);
	memset(t, 0, sizeof(*t));
	t->ht = ht;
}

int cp_tools_reserve(struct cp_tools *t, uint32_t n)
{
	return n == 0 ? 0 : cp_ht_reserve(&t->ht, TT, n);
}

static void cp_tool_slot_add(struct cp_tool_src *e, unsigned id, uint64_t syns)
{
	unsigned i;

	if (syns == 0)
		return;
	for (i = 0; i < CP_TOOL_SLOTS && e->ids[i] != 0 && e->ids[i] != id; i++)
		;
	if (i == CP_TOOL_SLOTS) {
		e->other += syns;
		return;
	}
	e->ids[i] = (uint8_t)id;
	e->syns[i] += syns;
}

/* The entry of addr, created (tool still 0) when absent; room was reserved. */
static struct cp_tool_src *cp_tools_get(struct cp_tools *t, uint32_t addr)
{
	bool isnew = false;
	struct cp_tool_src *e = cp_ht_insert(&t->ht, TT, &addr, &isnew);

	if (isnew) {
		e->addr = addr;
		e->tool_first_ns = UINT64_MAX;
	}
	return e;
}

/* The source's tool: the earliest labelled record's (ties: the smaller id). */
static void cp_tool_pick(struct cp_tool_src *e, unsigned id, uint64_t first_ns)
{
	if (e->tool == 0 || first_ns < e->tool_first_ns ||
	    (first_ns == e->tool_first_ns && id < e->tool)) {
		e->tool = (uint8_t)id;
		e->tool_first_ns = first_ns;
	}
}

void cp_tools_add(struct cp_tools *t, uint32_t addr, uint64_t first_ns, unsigned tool,
                  uint64_t tool_syns, uint64_t tool_other)
{
	struct cp_tool_src *e;

	if (tool >= CP_TOOL_IDS) {
		t->bad++;
		return;
	}
	if (tool == 0 && tool_other == 0)
		return;
	if (tool == 0) {
		/* only other-labelled SYNs (the worker never sends that, a malformed record
		 * could): a known source keeps them, an unknown one is counted in the totals
		 * only, so every entry has a label */
		e = (struct cp_tool_src *)cp_tools_find(t, addr);
		t->other += tool_other;
		if (e != NULL)
			e->other += tool_other;
		return;
	}
	e = cp_tools_get(t, addr);
	cp_tool_pick(e, tool, first_ns);
	cp_tool_slot_add(e, tool, tool_syns);
	t->syns[tool] += tool_syns;
	e->other += tool_other;
	t->other += tool_other;
}

void cp_tools_merge_src(struct cp_tools *t, const struct cp_tool_src *in)
{
	struct cp_tool_src *e = cp_tools_get(t, in->addr);

	cp_tool_pick(e, in->tool, in->tool_first_ns);
	for (unsigned i = 0; i < CP_TOOL_SLOTS; i++)
		if (in->ids[i] != 0)
			cp_tool_slot_add(e, in->ids[i], in->syns[i]);
	e->other += in->other;
}

int cp_tools_merge(struct cp_tools *dst, const struct cp_tools *src)
{
	const struct cp_tool_src *e;
	int rc = cp_tools_reserve(dst, src->ht.n);

	if (rc != 0)
		return rc;
	for (uint32_t it = 0; (e = cp_tools_next(src, &it)) != NULL;)
		cp_tools_merge_src(dst, e);
	for (unsigned i = 0; i < CP_TOOL_IDS; i++)
		dst->syns[i] += src->syns[i];
	dst->other += src->other;
	dst->bad += src->bad;
	return 0;
}

const struct cp_tool_src *cp_tools_find(const struct cp_tools *t, uint32_t addr)
{
	return t->ht.cap != 0 ? cp_ht_find(&t->ht, TT, &addr) : NULL;
}

uint64_t cp_tool_src_syns(const struct cp_tool_src *e, unsigned id)
{
	for (unsigned i = 0; i < CP_TOOL_SLOTS; i++)
		if (id != 0 && e->ids[i] == id)
			return e->syns[i];
	return 0;
}

uint64_t cp_tool_src_total(const struct cp_tool_src *e)
{
	uint64_t n = e->other;

	for (unsigned i = 0; i < CP_TOOL_SLOTS; i++)
		n += e->syns[i];
	return n;
}

const struct cp_tool_src *cp_tools_next(const struct cp_tools *t, uint32_t *it)
{
	return cp_ht_next(&t->ht, TT, it);
}

size_t cp_tools_bytes(const struct cp_tools *t)
{
	return cp_ht_bytes(&t->ht, TT);
}

uint32_t cp_tools_n(const struct cp_tools *t)
{
	return t->ht.n;
}

/* ---- snapshot: { u32 n, u32 entry size, u64 other, u64 bad, u64 syns[64] } entries ---- */

#define CP_TOOLS_HDR (8 + 16 + 8 * CP_TOOL_IDS)

size_t cp_tools_blob_len(const struct cp_tools *t)
{
	return CP_TOOLS_HDR + (size_t)t->ht.n * sizeof(struct cp_tool_src);
}

void cp_tools_blob(const struct cp_tools *t, uint8_t *out)
{
	uint32_t n = t->ht.n, sz = sizeof(struct cp_tool_src);
	const struct cp_tool_src *e;
	size_t off = CP_TOOLS_HDR;

	memcpy(out, &n, 4);
	memcpy(out + 4, &sz, 4);
	memcpy(out + 8, &t->other, 8);
	memcpy(out + 16, &t->bad, 8);
	memcpy(out + 24, t->syns, sizeof(t->syns));
	for (uint32_t it = 0; (e = cp_tools_next(t, &it)) != NULL; off += sz)
		memcpy(out + off, e, sz);
}

int cp_tools_load(struct cp_tools *t, const void *data, size_t len)
{
	const uint8_t *p = data;
	uint32_t n, sz;
	int rc;

	if (len < CP_TOOLS_HDR)
		return -EBADMSG;
	memcpy(&n, p, 4);
	memcpy(&sz, p + 4, 4);
	if (sz != sizeof(struct cp_tool_src) || len != CP_TOOLS_HDR + (size_t)n * sz)
		return -EBADMSG;
	rc = cp_tools_reserve(t, n);
	if (rc != 0)
		return rc;
	memcpy(&t->other, p + 8, 8);
	memcpy(&t->bad, p + 16, 8);
	memcpy(t->syns, p + 24, sizeof(t->syns));
	for (uint32_t i = 0; i < n; i++) {
		struct cp_tool_src e;

		memcpy(&e, p + CP_TOOLS_HDR + (size_t)i * sz, sz);
		/* an entry always has a label; one address once */
		if (e.tool == 0 || e.tool >= CP_TOOL_IDS || cp_tools_find(t, e.addr) != NULL)
			return -EBADMSG;
		for (unsigned k = 0; k < CP_TOOL_SLOTS; k++)
			if (e.ids[k] >= CP_TOOL_IDS)
				return -EBADMSG;
		cp_tools_merge_src(t, &e);
	}
	return 0;
}

/* ---- label names ---- */

static char cp_tool_names[CP_TOOL_IDS][OBS_FP_NAME_LEN];

int cp_tool_names_load(const char *path, char *err, size_t errlen)
{
	struct obs_fp_set *s;

	if (path == NULL || path[0] == '\0') {
		memset(cp_tool_names, 0, sizeof(cp_tool_names));
		return 0;
	}
	s = obs_fp_load(path, err, errlen);
	if (s == NULL)
		return -EINVAL;
	memset(cp_tool_names, 0, sizeof(cp_tool_names));
	for (unsigned i = 1; i < CP_TOOL_IDS; i++)
		if (s->name_of[i] != NULL)
			snprintf(cp_tool_names[i], sizeof(cp_tool_names[i]), "%s", s->name_of[i]);
	obs_fp_free(s);
	return 0;
}

const char *cp_tool_name(unsigned id, char *buf, size_t len)
{
	if (id == 0)
		return "none";
	if (id < CP_TOOL_IDS && cp_tool_names[id][0] != '\0')
		return cp_tool_names[id];
	snprintf(buf, len, "tool%u", id);
	return buf;
}

int cp_tool_id(const char *name)
{
	unsigned id;
	char tail;

	for (unsigned i = 1; i < CP_TOOL_IDS; i++)
		if (cp_tool_names[i][0] != '\0' && strcmp(cp_tool_names[i], name) == 0)
			return (int)i;
	if (sscanf(name, "tool%u%c", &id, &tail) == 1 && id >= 1 && id < CP_TOOL_IDS)
		return (int)id;
	return -1;
}

void cp_tool_names_list(char *out, size_t len)
{
	size_t k = 0;

	out[0] = '\0';
	for (unsigned i = 1; i < CP_TOOL_IDS && k < len; i++) {
		int w;

		if (cp_tool_names[i][0] == '\0')
			continue;
		w = snprintf(out + k, len - k, "%s%s", k ? ", " : "", cp_tool_names[i]);
		if (w < 0)
			break;
		k += (size_t)w;
	}
	if (out[0] == '\0')
		snprintf(out, len, "none configured (tables.fingerprint_file); ids as tool<N>");
}
