/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * exchange.c — the exchange layout computation and header validation (exchange.h).
 *
 * Pure functions, no DPDK: the dataplane calls obx_layout_init() before publishing a
 * new mapping; the control plane (and every test tool) calls obx_header_check() before
 * following a single offset, because the mapping may be stale, truncated or written by
 * a different build.  Both derive the layout from one place (obx_layout below), so the
 * two sides cannot disagree on it.
 */
#include <errno.h>
#include <string.h>

#include "exchange.h"

struct obx_layout {
	uint64_t port_stats_off;
	uint64_t worker_live_off;
	uint64_t slots_off;
	uint64_t slot_size;
	uint64_t total_size;
};

static inline uint64_t obx_align(uint64_t v, uint64_t a)
{
	return (v + a - 1) & ~(a - 1);
}

static void obx_layout(uint32_t n_workers, uint32_t n_ports, uint32_t src_capacity,
                       struct obx_layout *l)
{
	l->port_stats_off = OBX_HEADER_SIZE;
	l->worker_live_off = obx_align(l->port_stats_off +
		(uint64_t)OBX_MAX_PORTS * sizeof(struct obx_port_stats), 64);
	l->slots_off = obx_align(l->worker_live_off +
		(uint64_t)n_workers * sizeof(struct obx_worker_live), 4096);
	l->slot_size = obx_slot_size(src_capacity);
	l->total_size = l->slots_off + (uint64_t)n_workers * OBX_SLOTS * l->slot_size;
	/* obx_total_size() is the inline the header publishes; they must agree. */
	(void)n_ports;
}

static inline int obx_pow2(uint32_t v)
{
	return v != 0 && (v & (v - 1)) == 0;
}

int obx_layout_init(struct obx_header *h, uint32_t n_workers, uint32_t n_ports,
                    uint32_t src_capacity)
{
	struct obx_layout l;

	if (n_workers < 1 || n_workers > OBX_MAX_WORKERS || n_ports > OBX_MAX_PORTS ||
	    !obx_pow2(src_capacity))
		return -EINVAL;
	obx_layout(n_workers, n_ports, src_capacity, &l);
	memset(h, 0, sizeof(*h));
	h->magic = OBX_MAGIC;
	h->version = OBX_VERSION;
	h->header_size = OBX_HEADER_SIZE;
	h->total_size = l.total_size;
	h->n_workers = n_workers;
	h->n_ports = n_ports;
	h->src_capacity = src_capacity;
	h->slot_size = l.slot_size;
	h->port_stats_off = l.port_stats_off;
	h->worker_live_off = l.worker_live_off;
	h->slots_off = l.slots_off;
	return 0;
}

int obx_header_check(const struct obx_header *h, uint64_t map_size, const char **why)
{
	static const char *dummy;
	struct obx_layout l;

	if (why == NULL)
		why = &dummy;
	*why = NULL;
	/* Nothing in the header may be read before we know the page is there. */
	if (h == NULL || map_size < OBX_HEADER_SIZE) {
		*why = "mapping smaller than the exchange header";
		return -EINVAL;
	}
	if (h->magic != OBX_MAGIC) {
		*why = "bad magic: not an obscura exchange";
		return -EINVAL;
	}
	if (h->version != OBX_VERSION) {
		*why = "exchange layout version mismatch";
		return -EPROTO;
	}
	if (h->header_size != OBX_HEADER_SIZE) {
		*why = "header_size differs from OBX_HEADER_SIZE";
		return -EINVAL;
	}
	if (h->total_size != map_size) {
		*why = "total_size differs from the mapping size";
		return -EINVAL;
	}
	if (h->n_workers < 1 || h->n_workers > OBX_MAX_WORKERS) {
		*why = "n_workers out of range 1..OBX_MAX_WORKERS";
		return -EINVAL;
	}
	if (h->n_ports > OBX_MAX_PORTS) {
		*why = "n_ports above OBX_MAX_PORTS";
		return -EINVAL;
	}
	if (h->n_sensors > sizeof(h->sensor_names) / sizeof(h->sensor_names[0])) {
		*why = "n_sensors above the sensor name table";
		return -EINVAL;
	}
	if (!obx_pow2(h->src_capacity)) {
		*why = "src_capacity not a power of two";
		return -EINVAL;
	}
	obx_layout(h->n_workers, h->n_ports, h->src_capacity, &l);
	if (h->slot_size != l.slot_size) {
		*why = "slot_size differs from obx_slot_size(src_capacity)";
		return -EINVAL;
	}
	if (h->port_stats_off != l.port_stats_off) {
		*why = "port_stats_off differs from the layout";
		return -EINVAL;
	}
	if (h->worker_live_off != l.worker_live_off) {
		*why = "worker_live_off differs from the layout";
		return -EINVAL;
	}
	if (h->slots_off != l.slots_off) {
		*why = "slots_off differs from the layout";
		return -EINVAL;
	}
	if (l.total_size != h->total_size) {
		*why = "total_size differs from the layout";
		return -EINVAL;
	}
	/* Implied by the equalities above; kept so the bound is explicit where offsets
	 * are trusted. */
	if (l.slots_off > map_size || l.total_size > map_size) {
		*why = "slots extend past the mapping";
		return -EINVAL;
	}
	return 0;
}
