/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * telescope.c — destination -> (sensor, coverage-sample slot); see telescope.h.
 *
 * Built once on the main lcore (obs_tel_build), read-only afterwards: obs_tel_lookup
 * may be called from any number of workers concurrently without synchronisation.
 *
 * D is kept as a sorted array of disjoint address ranges, found by binary search
 * (a telescope has at most 64 sensors x 256 prefixes; the array stays in L1/L2).
 * Each range carries base = number of D addresses before it, so when S = D the slot
 * is just base + (dst - first): address order across all prefixes, no extra table.
 *
 * When |D| > sample_cap, S is picked in one pass over D with a bounded max-heap of
 * cap (hash, addr) keys (O(|D| log cap) time, O(cap) memory: no per-address arrays,
 * so a /8 builds in well under a second), then sorted by address to number the slots,
 * and stored in a small open-addressing map addr -> slot at load <= 1/2.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "telescope.h"

/* Largest telescope we build: the sample selection walks every address of D once. */
#define OBS_TEL_MAX_D (1u << 24)

struct obs_tel_range {
	uint32_t first;
	uint32_t last;     /* inclusive */
	uint32_t base;     /* addresses of D before this range */
	uint32_t sensor;
};

struct obs_tel_ent {
	uint32_t addr;
	uint32_t slot;     /* OBS_TEL_NO_SLOT = empty */
};

struct obs_tel {
	uint64_t size;               /* |D| */
	uint32_t sample_size;        /* |S| */
	bool     full;               /* S == D: slot from the range base */
	unsigned n_ranges;
	unsigned map_shift;          /* 32 - log2(map capacity) */
	uint32_t map_mask;
	struct obs_tel_ent *map;     /* only when !full */
	struct obs_tel_range ranges[];
};

/*
 * lowbias32 (Chris Wellons' hash-prospector): a bijection on 32 bits with good
 * avalanche, so the sample is a fixed pseudo-random subset of D, independent of how
 * the prefixes are cut.  Being a bijection it never ties; ties by address are still
 * honoured in the comparison for the header's contract.
 */
uint32_t obs_tel_sample_hash(uint32_t x)
{
	x ^= x >> 16;
	x *= 0x7feb352du;
	x ^= x >> 15;
	x *= 0x846ca68bu;
	x ^= x >> 16;
	return x;
}

static inline uint32_t tel_map_index(const struct obs_tel *t, uint32_t addr)
{
	/* Fibonacci hashing; different from the sample hash, whose selected (small)
	 * values would otherwise crowd the low buckets. */
	return (uint32_t)((addr * 0x9e3779b1u) >> t->map_shift) & t->map_mask;
}

static int tel_range_cmp(const void *a, const void *b)
{
	const struct obs_tel_range *x = a, *y = b;
	return (x->first > y->first) - (x->first < y->first);
}

static int tel_u32_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return (x > y) - (x < y);
}

/* Heap of sample keys ordered by (hash, addr), largest at the root. */
static inline bool tel_key_gt(uint64_t a, uint64_t b)
{
	return a > b;
}

static inline uint64_t tel_key(uint32_t addr)
{
	return ((uint64_t)obs_tel_sample_hash(addr) << 32) | addr;
}

static void tel_heap_sift_down(uint64_t *h, uint32_t n, uint32_t i)
{
	uint64_t v = h[i];
	for (;;) {
		uint32_t c = 2 * i + 1;
		if (c >= n)
			break;
		if (c + 1 < n && tel_key_gt(h[c + 1], h[c]))
			c++;
		if (!tel_key_gt(h[c], v))
			break;
		h[i] = h[c];
		i = c;
	}
	h[i] = v;
}

static void tel_heap_sift_up(uint64_t *h, uint32_t i)
{
	uint64_t v = h[i];
	while (i > 0) {
		uint32_t p = (i - 1) / 2;
		if (!tel_key_gt(v, h[p]))
			break;
		h[i] = h[p];
		i = p;
	}
	h[i] = v;
}

static int tel_build_sample(struct obs_tel *t, uint32_t cap)
{
	uint64_t *heap;
	uint32_t *sel;
	uint32_t n = 0, mapcap, bits;

	heap = malloc((size_t)cap * sizeof(*heap));
	if (heap == NULL)
		return -ENOMEM;
	for (unsigned r = 0; r < t->n_ranges; r++) {
		uint32_t a = t->ranges[r].first;
		for (;;) {
			uint64_t k = tel_key(a);
			if (n < cap) {
				heap[n] = k;
				tel_heap_sift_up(heap, n++);
			} else if (k < heap[0]) {
				heap[0] = k;
				tel_heap_sift_down(heap, n, 0);
			}
			if (a == t->ranges[r].last)
				break;
			a++;
		}
	}
	/* Reuse the heap's memory for the chosen addresses, then number them. */
	sel = (uint32_t *)heap;
	for (uint32_t i = 0; i < n; i++)
		sel[i] = (uint32_t)heap[i];
	qsort(sel, n, sizeof(*sel), tel_u32_cmp);

	for (bits = 1; (1u << bits) < 2 * n; bits++)
		;
	mapcap = 1u << bits;
	t->map = malloc((size_t)mapcap * sizeof(*t->map));
	if (t->map == NULL) {
		free(heap);
		return -ENOMEM;
	}
	t->map_shift = 32 - bits;
	t->map_mask = mapcap - 1;
	for (uint32_t i = 0; i < mapcap; i++)
		t->map[i].slot = OBS_TEL_NO_SLOT;
	for (uint32_t i = 0; i < n; i++) {
		uint32_t j = tel_map_index(t, sel[i]);
		while (t->map[j].slot != OBS_TEL_NO_SLOT)
			j = (j + 1) & t->map_mask;
		t->map[j].addr = sel[i];
		t->map[j].slot = i;
	}
	t->sample_size = n;
	free(heap);
	return 0;
}

struct obs_tel *obs_tel_build(const struct obs_tel_prefix *p, unsigned n, uint32_t sample_cap,
                              const char **why)
{
	static const char *dummy;
	struct obs_tel *t;
	uint64_t size = 0;
	int rc;

	if (why == NULL)
		why = &dummy;
	*why = NULL;
	if (n == 0 || p == NULL) {
		*why = "no telescope prefixes";
		errno = EINVAL;
		return NULL;
	}
	if (sample_cap == 0) {
		*why = "sample cap must be at least 1";
		errno = EINVAL;
		return NULL;
	}
	t = calloc(1, sizeof(*t) + (size_t)n * sizeof(t->ranges[0]));
	if (t == NULL)
		return NULL;
	for (unsigned i = 0; i < n; i++) {
		uint64_t span;
		if (p[i].len > 32) {
			*why = "prefix length above 32";
			goto einval;
		}
		if (p[i].sensor >= OBS_TEL_MAX_SENSORS) {
			*why = "sensor index above the sensor limit";
			goto einval;
		}
		span = 1ull << (32 - p[i].len);
		if (p[i].addr & (uint32_t)(span - 1)) {
			*why = "prefix has host bits set";
			goto einval;
		}
		t->ranges[i].first = p[i].addr;
		t->ranges[i].last = (uint32_t)(p[i].addr + span - 1);
		t->ranges[i].sensor = p[i].sensor;
		size += span;
	}
	t->n_ranges = n;
	if (size > OBS_TEL_MAX_D) {
		*why = "telescope larger than 2^24 addresses";
		goto einval;
	}
	qsort(t->ranges, n, sizeof(t->ranges[0]), tel_range_cmp);
	for (unsigned i = 0; i < n; i++) {
		if (i > 0 && t->ranges[i].first <= t->ranges[i - 1].last) {
			*why = "telescope prefixes overlap";
			goto einval;
		}
		t->ranges[i].base = i == 0 ? 0 :
			t->ranges[i - 1].base + (t->ranges[i - 1].last - t->ranges[i - 1].first + 1);
	}
	t->size = size;
	if (size <= sample_cap) {
		t->full = true;
		t->sample_size = (uint32_t)size;
		return t;
	}
	rc = tel_build_sample(t, sample_cap);
	if (rc < 0) {
		obs_tel_free(t);
		errno = -rc;
		return NULL;
	}
	return t;

einval:
	free(t);
	errno = EINVAL;
	return NULL;
}

void obs_tel_free(struct obs_tel *t)
{
	if (t == NULL)
		return;
	free(t->map);
	free(t);
}

int obs_tel_lookup(const struct obs_tel *t, uint32_t dst, uint8_t *sensor, uint32_t *slot)
{
	/* Find the last range whose first <= dst. */
	unsigned lo = 0, n = t->n_ranges;
	while (n > 1) {
		unsigned half = n / 2;
		if (t->ranges[lo + half].first <= dst)
			lo += half;
		n -= half;
	}
	const struct obs_tel_range *r = &t->ranges[lo];
	if (dst < r->first || dst > r->last)
		return -1;
	*sensor = (uint8_t)r->sensor;
	if (t->full) {
		*slot = r->base + (dst - r->first);
		return 0;
	}
	for (uint32_t j = tel_map_index(t, dst);; j = (j + 1) & t->map_mask) {
		if (t->map[j].slot == OBS_TEL_NO_SLOT) {
			*slot = OBS_TEL_NO_SLOT;
			return 0;
		}
		if (t->map[j].addr == dst) {
			*slot = t->map[j].slot;
			return 0;
		}
	}
}

uint64_t obs_tel_size(const struct obs_tel *t)
{
	return t->size;
}

uint32_t obs_tel_sample_size(const struct obs_tel *t)
{
	return t->sample_size;
}

struct obs_tel *obs_tel_from_conf(const struct obs_conf *c, const char **why)
{
	struct obs_tel_prefix *pf = calloc((size_t)OBS_CONF_MAX_SENSORS * OBS_CONF_MAX_PREFIXES,
	                                   sizeof(*pf));
	struct obs_tel *t;
	unsigned n = 0;

	if (pf == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	for (uint32_t s = 0; s < c->n_sensors; s++)
		for (uint32_t i = 0; i < c->sensors[s].n_prefixes; i++)
			pf[n++] = (struct obs_tel_prefix){ c->sensors[s].prefix_addr[i],
			                                   c->sensors[s].prefix_len[i], (uint8_t)s };
	t = obs_tel_build(pf, n, c->sample_cap, why);
	free(pf);
	return t;
}
