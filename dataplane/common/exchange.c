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
#include <stdio.h>
#include <string.h>

#include "exchange.h"

struct obx_layout {
	uint64_t port_stats_off;
	uint64_t worker_live_off;
	uint64_t slots_off;
	uint64_t slot_size;
	uint64_t total_size;
	uint64_t tab_off[OBX_TAB_MAX];
};

static inline uint64_t obx_align(uint64_t v, uint64_t a)
{
	return (v + a - 1) & ~(a - 1);
}

uint64_t obx_slot_layout(const uint32_t cap[OBX_TAB_MAX], const uint32_t rec_size[OBX_TAB_MAX],
                         uint64_t off[OBX_TAB_MAX])
{
	uint64_t at = sizeof(struct obx_slot_hdr);

	/* kind order, each table 64-byte aligned: a record never shares a cache line with
	 * the slot header or another table */
	for (unsigned k = 0; k < OBX_TAB_MAX; k++) {
		if (cap[k] == 0) {
			off[k] = 0;
			continue;
		}
		at = obx_align(at, 64);
		off[k] = at;
		at += obx_tab_bytes(k, cap[k], rec_size[k]);
	}
	return obx_align(at, 64);
}

uint64_t obx_slot_size(const uint32_t cap[OBX_TAB_MAX], const uint32_t rec_size[OBX_TAB_MAX])
{
	uint64_t off[OBX_TAB_MAX];

	return obx_slot_layout(cap, rec_size, off);
}

static void obx_layout(uint32_t n_workers, const uint32_t cap[OBX_TAB_MAX],
                       const uint32_t rec_size[OBX_TAB_MAX], struct obx_layout *l)
{
	l->port_stats_off = OBX_HEADER_SIZE;
	l->worker_live_off = obx_align(l->port_stats_off +
		(uint64_t)OBX_MAX_PORTS * sizeof(struct obx_port_stats), 64);
	l->slots_off = obx_align(l->worker_live_off +
		(uint64_t)n_workers * sizeof(struct obx_worker_live), 4096);
	l->slot_size = obx_slot_layout(cap, rec_size, l->tab_off);
	l->total_size = l->slots_off + (uint64_t)n_workers * OBX_SLOTS * l->slot_size;
}

uint64_t obx_total_size(uint32_t n_workers, uint32_t n_ports, const uint32_t cap[OBX_TAB_MAX],
                        const uint32_t rec_size[OBX_TAB_MAX])
{
	struct obx_layout l;

	(void)n_ports;   /* port stats have a fixed OBX_MAX_PORTS array */
	obx_layout(n_workers, cap, rec_size, &l);
	return l.total_size;
}

static inline int obx_pow2(uint32_t v)
{
	return v != 0 && (v & (v - 1)) == 0;
}

/* The table rules of exchange.h; NULL when cap/rec_size describe valid tables. */
static const char *obx_tabs_invalid(const uint32_t cap[OBX_TAB_MAX],
                                    const uint32_t rec_size[OBX_TAB_MAX])
{
	if (cap[OBX_TAB_SRC] == 0)
		return "source table absent";
	if (rec_size[OBX_TAB_SRC] != sizeof(struct obx_src_rec))
		return "source record size differs from struct obx_src_rec";
	for (unsigned k = 0; k < OBX_TAB_MAX; k++) {
		if (cap[k] == 0)
			continue;
		if (obx_tab_is_hash(k) && !obx_pow2(cap[k]))
			return "hash table capacity not a power of two";
		if (rec_size[k] < OBX_REC_SIZE_MIN || rec_size[k] > OBX_REC_SIZE_MAX ||
		    rec_size[k] % 8 != 0)
			return "table record size not a multiple of 8 in 16..65536";
	}
	return NULL;
}

int obx_layout_init(struct obx_header *h, uint32_t n_workers, uint32_t n_ports,
                    const uint32_t cap[OBX_TAB_MAX], const uint32_t rec_size[OBX_TAB_MAX])
{
	struct obx_layout l;

	if (n_workers < 1 || n_workers > OBX_MAX_WORKERS || n_ports > OBX_MAX_PORTS ||
	    cap == NULL || rec_size == NULL || obx_tabs_invalid(cap, rec_size) != NULL)
		return -EINVAL;
	obx_layout(n_workers, cap, rec_size, &l);
	memset(h, 0, sizeof(*h));
	h->magic = OBX_MAGIC;
	h->version = OBX_VERSION;
	h->header_size = OBX_HEADER_SIZE;
	h->total_size = l.total_size;
	h->n_workers = n_workers;
	h->n_ports = n_ports;
	for (unsigned k = 0; k < OBX_TAB_MAX; k++) {
		h->tab_capacity[k] = cap[k];
		h->tab_rec_size[k] = cap[k] != 0 ? rec_size[k] : 0;
		h->tab_off[k] = l.tab_off[k];
	}
	h->slot_size = l.slot_size;
	h->port_stats_off = l.port_stats_off;
	h->worker_live_off = l.worker_live_off;
	h->slots_off = l.slots_off;
	return 0;
}

void obx_slots_init(struct obx_header *h)
{
	for (uint32_t w = 0; w < h->n_workers; w++)
		for (uint32_t s = 0; s < OBX_SLOTS; s++) {
			struct obx_slot_hdr *sh = obx_slot(h, w, s);

			sh->worker = w;
			for (unsigned k = 0; k < OBX_TAB_MAX; k++) {
				sh->tabs[k].kind = k;
				sh->tabs[k].rec_size = h->tab_rec_size[k];
				sh->tabs[k].capacity = h->tab_capacity[k];
				sh->tabs[k].n_used = 0;
				sh->tabs[k].off = h->tab_off[k];
			}
			atomic_store_explicit(&sh->state, OBX_SLOT_FREE, memory_order_relaxed);
		}
}

/* Every header-page rule of obx_header_check() (not the slots): on the mapping itself, or
 * on a private copy of it (obx_geom_read()). */
static int obx_header_fields_check(const struct obx_header *h, uint64_t map_size,
                                   const char **why)
{
	struct obx_layout l;

	if (h->magic != OBX_MAGIC) {
		*why = "bad magic: not an obscura exchange";
		return -EINVAL;
	}
	if (h->version != OBX_VERSION) {
		static _Thread_local char msg[160];

		snprintf(msg, sizeof(msg), "exchange layout version %u, this program reads version "
		         "%u: run obscura-dp and obscura-cp of the same build", h->version,
		         OBX_VERSION);
		*why = msg;
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
	if ((*why = obx_tabs_invalid(h->tab_capacity, h->tab_rec_size)) != NULL)
		return -EINVAL;
	obx_layout(h->n_workers, h->tab_capacity, h->tab_rec_size, &l);
	for (unsigned k = 0; k < OBX_TAB_MAX; k++) {
		if (h->tab_off[k] != l.tab_off[k]) {
			*why = "a table offset differs from the layout";
			return -EINVAL;
		}
		if (h->tab_capacity[k] == 0 && h->tab_rec_size[k] != 0) {
			*why = "an absent table has a record size";
			return -EINVAL;
		}
	}
	if (h->slot_size != l.slot_size) {
		*why = "slot_size differs from obx_slot_size(tables)";
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
	/* Tables in kind order, each inside the slot and after the previous one: implied by
	 * obx_slot_layout(), checked here because the control plane copies by them. */
	{
		uint64_t end = sizeof(struct obx_slot_hdr);

		for (unsigned k = 0; k < OBX_TAB_MAX; k++) {
			if (h->tab_capacity[k] == 0)
				continue;
			uint64_t bytes = obx_tab_bytes(k, h->tab_capacity[k], h->tab_rec_size[k]);

			if (h->tab_off[k] < end || h->tab_off[k] % 64 != 0 ||
			    h->tab_off[k] + bytes > h->slot_size) {
				*why = "tables overlap or leave the slot";
				return -EINVAL;
			}
			end = h->tab_off[k] + bytes;
		}
	}
	return 0;
}

/* Every slot repeats the geometry (obx_slot_tab() follows the slot's copy): each slot
 * header, found by the geometry given, must agree with it. */
static int obx_slots_check(const uint8_t *base, uint32_t n_workers, uint64_t slots_off,
                           uint64_t slot_size, const uint32_t cap[OBX_TAB_MAX],
                           const uint32_t rec_size[OBX_TAB_MAX], const uint64_t off[OBX_TAB_MAX],
                           const char **why)
{
	for (uint32_t w = 0; w < n_workers; w++)
		for (uint32_t s = 0; s < OBX_SLOTS; s++) {
			const struct obx_slot_hdr *sh = (const struct obx_slot_hdr *)(base +
				slots_off + ((uint64_t)w * OBX_SLOTS + s) * slot_size);

			for (unsigned k = 0; k < OBX_TAB_MAX; k++) {
				struct obx_tab t;

				memcpy(&t, &sh->tabs[k], sizeof(t));
				if (t.kind != k || t.capacity != cap[k] || t.rec_size != rec_size[k] ||
				    t.off != off[k]) {
					*why = "a slot's table geometry differs from the header";
					return -EINVAL;
				}
			}
		}
	return 0;
}

int obx_header_check(const struct obx_header *h, uint64_t map_size, const char **why)
{
	static const char *dummy;
	int ret;

	if (why == NULL)
		why = &dummy;
	*why = NULL;
	/* Nothing in the header may be read before we know the page is there. */
	if (h == NULL || map_size < OBX_HEADER_SIZE) {
		*why = "mapping smaller than the exchange header";
		return -EINVAL;
	}
	ret = obx_header_fields_check(h, map_size, why);
	if (ret != 0)
		return ret;
	return obx_slots_check((const uint8_t *)h, h->n_workers, h->slots_off, h->slot_size,
	                       h->tab_capacity, h->tab_rec_size, h->tab_off, why);
}

int obx_geom_read(const void *map, uint64_t map_size, struct obx_geom *g, const char **why)
{
	static const char *dummy;
	struct obx_header c, l;
	int ret;

	if (why == NULL)
		why = &dummy;
	*why = NULL;
	memset(g, 0, sizeof(*g));
	if (map == NULL || map_size < OBX_HEADER_SIZE) {
		*why = "mapping smaller than the exchange header";
		return -EINVAL;
	}
	/* one read of the whole header page: from here on the writer cannot change what we
	 * checked */
	memcpy(&c, map, sizeof(c));
	ret = obx_header_fields_check(&c, map_size, why);
	if (ret != 0)
		return ret;
	/* the geometry recomputed from the copied parameters, the one computation the
	 * dataplane used to build it: the reader follows only these numbers */
	if (obx_layout_init(&l, c.n_workers, c.n_ports, c.tab_capacity, c.tab_rec_size) != 0 ||
	    l.total_size != map_size) {
		*why = "the table parameters do not make this layout";
		return -EINVAL;
	}
	g->total_size = l.total_size;
	g->slot_size = l.slot_size;
	g->port_stats_off = l.port_stats_off;
	g->worker_live_off = l.worker_live_off;
	g->slots_off = l.slots_off;
	g->n_workers = l.n_workers;
	g->n_ports = l.n_ports;
	for (unsigned k = 0; k < OBX_TAB_MAX; k++) {
		g->tab_capacity[k] = l.tab_capacity[k];
		g->tab_rec_size[k] = l.tab_rec_size[k];
		g->tab_off[k] = l.tab_off[k];
	}
	g->boot_id = c.boot_id;
	g->boot_wall_ns = c.boot_wall_ns;
	g->epoch_ns = c.epoch_ns;
	g->dp_pid = c.dp_pid;
	g->n_sensors = c.n_sensors;
	g->replay = c.replay;
	g->cov_sample_size = c.cov_sample_size;
	g->cov_block_len = c.cov_block_len;
	g->cov_period_unit = c.cov_period_unit;
	return obx_slots_check(map, g->n_workers, g->slots_off, g->slot_size, g->tab_capacity,
	                       g->tab_rec_size, g->tab_off, why);
}

uint64_t obx_epoch_max_packets(const struct obx_geom *g, uint64_t t_first_ns,
                               uint64_t t_last_ns, uint64_t published_wall_ns)
{
	uint64_t span = t_last_ns > t_first_ns ? t_last_ns - t_first_ns : 0;
	uint64_t wall = published_wall_ns > g->boot_wall_ns ?
	                published_wall_ns - g->boot_wall_ns : 0;
	uint64_t floor = g->epoch_ns > OBX_NS_PER_S ? g->epoch_ns : OBX_NS_PER_S;
	unsigned __int128 ns, n;

	/* the epoch lasted at most its packet-time span, and at most the dataplane's
	 * uptime at publish; the epoch length (at least 1 s) is slack on top */
	if (wall < span)
		span = wall;
	ns = (unsigned __int128)span + floor;
	n = ns * OBX_MAX_PPS / OBX_NS_PER_S;
	return n > UINT64_MAX ? UINT64_MAX : (uint64_t)n;
}

const char *obx_counters_implausible(const struct obx_counters *c, uint64_t max_packets)
{
	/* Physical bounds only, never the relations between counters of one epoch: a
	 * packet's counters may straddle an epoch boundary (time_backwards is counted
	 * before the boundary it closes), and refusing a real epoch over that would lose
	 * real data.  Forged counts of any size fail these. */
	const uint64_t per_packet[] = {
		c->rx_packets, c->tel_packets, c->excluded_packets, c->resip_packets,
		c->scanner_packets, c->cov_syns, c->payload_packets, c->time_backwards,
		c->forced_swaps,
	};
	const unsigned __int128 max_bytes = (unsigned __int128)max_packets * OBX_MAX_FRAME;
	const unsigned __int128 max_updates = (unsigned __int128)max_packets *
	                                      OBX_MAX_UPDATES_PER_PKT;

	if (c->rx_packets > max_packets)
		return "more packets than the line rate could give in the epoch";
	for (unsigned i = 0; i < sizeof(per_packet) / sizeof(per_packet[0]); i++)
		if (per_packet[i] > max_packets)
			return "a per-packet counter above what the line rate could give";
	for (unsigned i = 0; i < OBX_P_N; i++)
		if (c->proto_packets[i] > max_packets)
			return "a protocol counter above what the line rate could give";
	for (unsigned i = 0; i < OBX_DROP_N; i++)
		if (c->drops[i] > max_packets)
			return "a drop counter above what the line rate could give";
	if (c->rx_bytes > max_bytes || c->tel_bytes > max_bytes)
		return "more bytes than the line rate could give";
	if (c->lost_updates > max_updates || c->rule_matches > max_updates)
		return "more table updates than the line rate could give";
	return NULL;
}

void obx_rules_status_publish(struct obx_header *h, const struct obx_rules_status *st)
{
	struct obx_rules_status *d = &h->rules;
	uint64_t seq = atomic_load_explicit(&d->seq, memory_order_relaxed);

	/* odd first, and no body store may move above it */
	atomic_store_explicit(&d->seq, seq + 1, memory_order_relaxed);
	atomic_thread_fence(memory_order_release);
	memcpy((uint8_t *)d + sizeof(d->seq), (const uint8_t *)st + sizeof(st->seq),
	       sizeof(*d) - sizeof(d->seq));
	d->error[OBX_RULES_ERR_LEN - 1] = '\0';
	atomic_store_explicit(&d->seq, seq + 2, memory_order_release);
}

int obx_rules_status_read(const struct obx_header *h, struct obx_rules_status *out)
{
	const struct obx_rules_status *s = &h->rules;

	/* the writer holds it for a memcpy of a few hundred bytes, once per reload */
	for (unsigned tries = 0; tries < 1000; tries++) {
		uint64_t a = atomic_load_explicit(&s->seq, memory_order_acquire), b;

		if (a == 0)
			return -ENODATA;
		if (a & 1)
			continue;
		memcpy((uint8_t *)out + sizeof(out->seq), (const uint8_t *)s + sizeof(s->seq),
		       sizeof(*out) - sizeof(out->seq));
		atomic_thread_fence(memory_order_acquire);
		b = atomic_load_explicit(&s->seq, memory_order_relaxed);
		if (a == b) {
			atomic_store_explicit(&out->seq, a, memory_order_relaxed);
			out->error[OBX_RULES_ERR_LEN - 1] = '\0';
			return 0;
		}
	}
	return -EAGAIN;
}
