/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * epoch.c — slot publish/take and the slow paths of epoch.h.
 *
 * Called only by the worker that owns the struct obs_epoch (the dataplane worker lcore,
 * or a unit test's single thread).  Publishing is the one point where the control plane
 * learns of a slot body, hence the release store; taking a slot is the one point where
 * we rely on the control plane having cleared it, hence the acquire load.
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "clock_ns.h"
#include "epoch.h"

#define OBS_EPOCH_NAP_MAX_NS 500000u

void obs_counters_add(struct obx_counters *dst, const struct obx_counters *src)
{
	/* The struct is all uint64_t by construction; summing it as an array keeps this
	 * correct when fields are appended. */
	uint64_t *d = (uint64_t *)dst;
	const uint64_t *s = (const uint64_t *)src;
	size_t i;

	_Static_assert(sizeof(struct obx_counters) % sizeof(uint64_t) == 0,
	               "obx_counters is an array of uint64_t");
	for (i = 0; i < sizeof(*dst) / sizeof(uint64_t); i++)
		d[i] += s[i];
}

static inline uint32_t obs_slot_state(struct obx_slot_hdr *sh)
{
	return atomic_load_explicit(&sh->state, memory_order_acquire);
}

/* Point t[] at slot sh's tables (geometry from the header, checked at attach). */
static void obs_epoch_bind_tabs(struct obs_epoch *e, struct obx_slot_hdr *sh)
{
	for (unsigned k = 0; k < OBX_TAB_MAX; k++) {
		struct obs_epoch_tab *t = &e->t[k];

		t->base = t->capacity != 0 ? (uint8_t *)obx_slot_tab_h(e->h, sh, k) : NULL;
		t->used = obx_slot_used_h(e->h, sh, k);
		t->n_used = 0;
	}
}

/* Start filling slot s, which the caller saw FREE (acquire). */
static void obs_epoch_take(struct obs_epoch *e, uint32_t s)
{
	struct obx_slot_hdr *sh = e->slot[s];

	/* The control plane cleared the records before freeing it (exchange.h); the
	 * header fields are ours to reset. */
	sh->worker = e->worker;
	sh->seq = 0;
	sh->flags = 0;
	for (unsigned k = 0; k < OBX_TAB_MAX; k++)
		sh->tabs[k].n_used = 0;
	atomic_store_explicit(&sh->state, OBX_SLOT_FILLING, memory_order_relaxed);
	e->cur = s;
	obs_epoch_bind_tabs(e, sh);
	e->gen++;
	e->swap_due = false;    /* every table is fresh */
	e->t_first_ns = UINT64_MAX;
	e->t_last_ns = 0;
}

/* Hand the filling slot to the control plane.  Pending deltas go with it. */
static void obs_epoch_publish(struct obs_epoch *e, uint32_t flags)
{
	struct obx_slot_hdr *sh = e->slot[e->cur];

	sh->worker = e->worker;
	sh->seq = ++e->seq;
	sh->t_first_ns = e->t_first_ns == UINT64_MAX ? 0 : e->t_first_ns;
	sh->t_last_ns = e->t_last_ns;
	for (unsigned k = 0; k < OBX_TAB_MAX; k++)
		sh->tabs[k].n_used = e->t[k].n_used;
	sh->flags = flags | e->slot_flags;
	sh->published_wall_ns = obs_wall_ns();
	sh->delta = e->c;
	if (e->live != NULL) {
		obs_counters_add(&e->live->total, &e->c);
		e->live->seq_published = e->seq;
		e->live->last_pkt_ns = e->last_ns;
	}
	memset(&e->c, 0, sizeof(e->c));
	atomic_store_explicit(&sh->state, OBX_SLOT_READY, memory_order_release);
}

/* Publish the filling slot and take the other one, if the other one is FREE. */
static int obs_epoch_swap(struct obs_epoch *e, uint32_t flags)
{
	uint32_t other = e->cur ^ 1u;

	if (obs_slot_state(e->slot[other]) != OBX_SLOT_FREE)
		return -EBUSY;
	obs_epoch_publish(e, flags);
	obs_epoch_take(e, other);
	return 0;
}

static inline int obs_pow2(uint32_t v)
{
	return v != 0 && (v & (v - 1)) == 0;
}

int obs_epoch_init(struct obs_epoch *e, struct obx_header *h, uint32_t w, uint64_t epoch_ns)
{
	uint32_t s;

	if (e == NULL || h == NULL || w >= h->n_workers || epoch_ns == 0 ||
	    !obs_pow2(h->tab_capacity[OBX_TAB_SRC]) ||
	    h->tab_rec_size[OBX_TAB_SRC] != sizeof(struct obx_src_rec))
		return -EINVAL;
	memset(e, 0, sizeof(*e));
	e->h = h;
	e->worker = w;
	e->epoch_ns = epoch_ns;
	for (unsigned k = 0; k < OBX_TAB_MAX; k++) {
		struct obs_epoch_tab *t = &e->t[k];
		uint32_t cap = h->tab_capacity[k];

		if (cap == 0)
			continue;
		if (obx_tab_is_hash(k) && !obs_pow2(cap))
			return -EINVAL;
		t->capacity = cap;
		t->rec_size = h->tab_rec_size[k];
		t->mask = cap - 1;
		if (obx_tab_is_hash(k)) {
			t->soft_limit = (uint32_t)((uint64_t)cap * OBX_TAB_MAX_LOAD / 1000u);
			t->hard_limit = (uint32_t)((uint64_t)cap * OBS_EPOCH_HARD_LOAD / 1000u);
		} else {
			t->soft_limit = (uint32_t)((uint64_t)cap * OBS_EPOCH_POOL_SOFT / 1000u);
			t->hard_limit = cap;
		}
	}
	e->live = obx_worker_live(h, w);
	for (s = 0; s < OBX_SLOTS; s++)
		e->slot[s] = obx_slot(h, w, s);
	for (s = 0; s < OBX_SLOTS; s++) {
		if (obs_slot_state(e->slot[s]) == OBX_SLOT_FREE) {
			obs_epoch_take(e, s);
			e->filling = true;
			return 0;
		}
	}
	return -EBUSY;
}

/* The next epoch end after t, aligned to multiples of epoch_ns so that replaying a
 * capture cuts it at the same instants as seeing it live. */
static inline uint64_t obs_epoch_next_end(const struct obs_epoch *e, uint64_t t)
{
	return (t / e->epoch_ns + 1) * e->epoch_ns;
}

static bool obs_epoch_any_used(const struct obs_epoch *e)
{
	for (unsigned k = 0; k < OBX_TAB_MAX; k++)
		if (e->t[k].n_used != 0)
			return true;
	return false;
}

void obs_epoch_boundary(struct obs_epoch *e, uint64_t t)
{
	if (!e->filling)
		return;
	if (e->epoch_end_ns == 0 || (e->c.rx_packets == 0 && !obs_epoch_any_used(e))) {
		/* first packet, or nothing happened in the closing epoch: nothing to hand
		 * over, just start the epoch t falls in */
		e->epoch_end_ns = obs_epoch_next_end(e, t);
		return;
	}
	if (obs_epoch_swap(e, 0) == 0)
		e->epoch_end_ns = obs_epoch_next_end(e, t);
	/* else the other slot is still READY: keep filling, the epoch grows, and the next
	 * packet (or tick) tries again */
}

/*
 * Replay only: wait, bounded by full_wait_ns and *stop, for the other slot to be FREE.
 * Returns true when it is.  What is waited for is the control plane's drain of that slot
 * (its poll period plus the drain itself: milliseconds), so the wait sleeps, backing off
 * from 20 us to 500 us: quick to notice a fast drain, and a few thousand wake-ups a
 * second at most, instead of a CPU the control plane needs.
 */
static bool obs_epoch_wait_free(struct obs_epoch *e)
{
	uint64_t t0 = obs_wall_ns(), deadline = t0 + e->full_wait_ns, nap = 20000;
	struct obx_slot_hdr *other = e->slot[e->cur ^ 1u];
	bool ok = true;

	e->full_waits++;
	while (obs_slot_state(other) != OBX_SLOT_FREE) {
		struct timespec ts = { 0, (long)nap };

		if ((e->stop != NULL && *e->stop) || obs_wall_ns() >= deadline) {
			ok = false;
			break;
		}
		nanosleep(&ts, NULL);
		nap = nap * 2 > OBS_EPOCH_NAP_MAX_NS ? OBS_EPOCH_NAP_MAX_NS : nap * 2;
	}
	e->full_wait_ns_total += obs_wall_ns() - t0;
	return ok;
}

/* The forced swap (a table full): publish everything, take the other slot if it is FREE
 * (replay: after waiting for it, bounded).  true when it happened. */
static bool obs_epoch_forced(struct obs_epoch *e)
{
	/* one slot = one epoch of everything: a full table publishes all of them */
	if (obs_epoch_swap(e, OBX_SLOT_F_FORCED) == 0 ||
	    (e->full_wait_ns != 0 && obs_epoch_wait_free(e) &&
	     obs_epoch_swap(e, OBX_SLOT_F_FORCED) == 0)) {
		/* the epoch goes on in the fresh slot; its end is unchanged */
		e->c.forced_swaps++;
		return true;
	}
	return false;
}

int obs_epoch_need_slow(struct obs_epoch *e, unsigned kind, uint32_t n_new)
{
	struct obs_epoch_tab *t;

	if (kind >= OBX_TAB_MAX)
		return -EINVAL;
	t = &e->t[kind];
	if (!e->filling || t->base == NULL || n_new > t->hard_limit)
		return -ENOSPC;
	if ((uint64_t)t->n_used + n_new <= t->soft_limit)
		return 0;
	if (e->hold)
		e->swap_due = true;     /* inside a packet: the next packet's hold swaps */
	else if (obs_epoch_forced(e))
		return 1;
	if ((uint64_t)t->n_used + n_new <= t->hard_limit)
		return 0;
	return -ENOSPC;
}

void obs_epoch_swap_due(struct obs_epoch *e)
{
	e->swap_due = false;
	if (e->filling)
		(void)obs_epoch_forced(e);
}

void *obs_epoch_bitmap_alloc(struct obs_epoch *e, uint32_t *index)
{
	struct obs_epoch_tab *t = &e->t[OBX_TAB_BITMAP];
	uint32_t i;

	if (obs_epoch_need(e, OBX_TAB_BITMAP, 1) < 0)
		return NULL;
	/* after need(): t describes the (possibly new) filling slot */
	i = t->n_used++;
	if (index != NULL)
		*index = i;
	return t->base + (uint64_t)i * t->rec_size;
}

void obs_epoch_tick(struct obs_epoch *e, uint64_t now_ns)
{
	if (e->filling && e->epoch_end_ns != 0 && now_ns >= e->epoch_end_ns)
		obs_epoch_boundary(e, now_ns);
}

int obs_epoch_finish(struct obs_epoch *e)
{
	if (!e->filling)
		return -EALREADY;
	obs_epoch_publish(e, OBX_SLOT_F_FINAL);
	e->filling = false;
	e->gen++;
	/* any later obs_epoch_src() finds an empty one-record table and a zero limit, so it
	 * takes the slow path and counts a loss; every other kind has no table (need()
	 * says -ENOSPC): nothing ever writes a published slot */
	memset(&e->empty, 0, sizeof(e->empty));
	for (unsigned k = 0; k < OBX_TAB_MAX; k++) {
		e->t[k].base = NULL;
		e->t[k].mask = 0;
		e->t[k].n_used = 0;
		e->t[k].soft_limit = 0;
		e->t[k].hard_limit = 0;
	}
	e->t[OBX_TAB_SRC].base = (uint8_t *)&e->empty;
	e->epoch_end_ns = UINT64_MAX;
	return 0;
}
