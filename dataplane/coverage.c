/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * coverage.c — the worker's coverage stage (coverage.h): find or make the cell record,
 * count the SYN, add the sample slot inline or to the cell's bitmap.  Pure C: the unit
 * tests drive it on a heap exchange.
 *
 * Following epoch.h's pointer rule: everything a packet may need (a new cell record, a
 * bitmap entry for the spill) is reserved before anything is written (the cell by
 * obs_epoch_find_or_insert(), the bitmap by obs_epoch_need()), and the probe restarts
 * whenever a reservation swapped the slot.  So a packet is counted once, in one slot,
 * whole.
 */
#include <stdbool.h>

#include "coverage.h"
#include "period.h"
#include "telescope.h"

void obs_cov_init(struct obs_cov *cv, uint8_t block_len, uint8_t period_unit)
{
	cv->block_mask = block_len >= 32 ? 0xffffffffu : ~(0xffffffffu >> block_len);
	cv->period_unit = period_unit;
	cv->cached_period = 0;
	cv->p_lo = 1;   /* empty range: the first packet computes */
	cv->p_hi = 0;
}

static inline uint32_t cov_period(struct obs_cov *cv, uint64_t t)
{
	if (likely(t >= cv->p_lo && t < cv->p_hi))
		return cv->cached_period;
	cv->cached_period = obs_period_index(cv->period_unit, t);
	cv->p_lo = obs_period_start_ns(cv->period_unit, cv->cached_period);
	cv->p_hi = obs_period_start_ns(cv->period_unit, cv->cached_period + 1);
	return cv->cached_period;
}

/* Set a slot's bit.  Only when it is clear: a cell's slots repeat (every scanner of the
 * block hits the same few), and a store to a bit already set would dirty the pool line
 * for nothing (issue 17). */
static inline void cov_bit(uint8_t *bm, uint32_t slot)
{
	const uint8_t b = (uint8_t)(1u << (slot % 8));

	if (!(bm[slot / 8] & b))
		bm[slot / 8] |= b;
}

struct cov_key {
	uint32_t block, period;
	uint16_t dport;
};

static inline bool cov_match(const void *rec, const void *key)
{
	const struct obx_cell_rec *r = rec;
	const struct cov_key *k = key;

	return r->block == k->block && r->period == k->period && r->dport == k->dport &&
	       r->proto == 6;
}

static inline bool cov_used(const void *rec)
{
	return ((const struct obx_cell_rec *)rec)->syns != 0;
}

void obs_cov_syn(struct obs_cov *cv, struct obs_epoch *e, uint32_t src, uint16_t dport,
                 uint64_t t, uint32_t slot, int mirai, uint8_t flags)
{
	const struct cov_key k = { src & cv->block_mask, cov_period(cv, t), dport };
	const uint32_t h = obx_cell_hash(k.block, k.period, dport, 6);
	struct obx_cell_rec *r;
	int rc;

	/* cov_syns is counted where the SYN's cell is settled, never before: a forced swap
	 * inside the loop publishes the pending counters, and a SYN counted first would
	 * be in that epoch while its cell goes to the next */
	for (;;) {
		switch (obs_epoch_find_or_insert(e, OBX_TAB_CELL, h, &k, cov_match, cov_used,
		                                 sizeof(*r), (void **)&r)) {
		case OBS_EPOCH_NEW:
			/* a new cell (the first slot always fits inline) */
			r->block = k.block;
			r->period = k.period;
			r->dport = dport;
			r->proto = 6;
			r->flags = flags;
			r->syns = 1;
			r->mirai = mirai != 0;
			r->n_inline = 0;
			r->reserved = 0;
			r->bitmap = 0;
			if (slot != OBS_TEL_NO_SLOT)
				r->inline_slot[r->n_inline++] = slot;
			(*obs_epoch_n_used(e, OBX_TAB_CELL))++;
			e->c.cov_syns++;
			return;
		case OBS_EPOCH_SWAPPED:
			continue;          /* probe the new slot */
		case OBS_EPOCH_NONE:
			e->c.cov_syns++;
			return;            /* absent (stage off) or lost (counted) */
		default:
			break;             /* found */
		}
		if (slot == OBS_TEL_NO_SLOT || (r->flags & OBX_CELL_F_BITMAP))
			break;
		for (uint32_t i = 0; i < r->n_inline; i++)
			if (r->inline_slot[i] == slot)
				goto count;          /* already hit in this epoch */
		if (r->n_inline < OBX_CELL_INLINE) {
			r->inline_slot[r->n_inline++] = slot;
			goto count;
		}
		/* spill to a bitmap: reserve the pool entry first */
		rc = obs_epoch_need(e, OBX_TAB_BITMAP, 1);
		if (rc == 1)
			continue;                    /* swapped: the cell is new in the new slot */
		if (rc < 0) {
			e->c.lost_updates++;         /* the slot hit is lost; the SYN still counts */
			goto count;
		}
		{
			uint32_t idx;
			uint8_t *bm = obs_epoch_bitmap_alloc(e, &idx);   /* cannot swap now */
			if (bm == NULL) {
				e->c.lost_updates++;
				goto count;
			}
			for (uint32_t i = 0; i < r->n_inline; i++)
				cov_bit(bm, r->inline_slot[i]);
			r->flags |= OBX_CELL_F_BITMAP;
			r->bitmap = idx;
			r->n_inline = 0;
		}
		break;
	}
	if (slot != OBS_TEL_NO_SLOT && (r->flags & OBX_CELL_F_BITMAP)) {
		uint32_t pmask;
		uint8_t *pool = obs_epoch_tab(e, OBX_TAB_BITMAP, &pmask);
		cov_bit(pool + (uint64_t)r->bitmap * e->t[OBX_TAB_BITMAP].rec_size, slot);
	}
count:
	e->c.cov_syns++;
	r->syns++;
	r->mirai += mirai != 0;
	r->flags |= flags;
}
