/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rules.c — payload rules compiled and scanned (rules.h): the parsed rules
 * (common/rules_parse.c) become ONE Hyperscan block-mode database; a scan maps its
 * pattern matches back to rules and checks their protocol, port and dsize constraints.
 * The main lcore builds (obs_rules_load), workers scan, each with its own scratch.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules.h"

struct obs_pat {
	uint32_t rule;              /* UINT32_MAX: its rule was refused */
	uint32_t bit;
};

struct obs_rules {
	struct obs_rule_list *l;    /* the rules; their rx[] are freed once compiled */
	hs_database_t *db;
	hs_scratch_t *proto_scratch;
	struct obs_pat *pats;       /* by Hyperscan expression id (= rx index) */
	uint32_t n_pats;
};

/* Hyperscan's flags and extended parameters for one parsed expression. */
static unsigned obs_hs_flags(const struct obs_rx *x, hs_expr_ext_t *ext, bool *has_ext)
{
	unsigned f = HS_FLAG_SINGLEMATCH;

	if (x->flags & OBS_RX_CASELESS)
		f |= HS_FLAG_CASELESS;
	if (x->flags & OBS_RX_DOTALL)
		f |= HS_FLAG_DOTALL;
	if (x->flags & OBS_RX_MULTILINE)
		f |= HS_FLAG_MULTILINE;
	memset(ext, 0, sizeof(*ext));
	if (x->flags & OBS_RX_MIN_OFFSET) {
		ext->flags |= HS_EXT_FLAG_MIN_OFFSET;
		ext->min_offset = x->min_offset;
	}
	if (x->flags & OBS_RX_MAX_OFFSET) {
		ext->flags |= HS_EXT_FLAG_MAX_OFFSET;
		ext->max_offset = x->max_offset;
	}
	*has_ext = ext->flags != 0;
	return f;
}

/* A rule Hyperscan refused: rejected (OBS_REJ_PCRE) with its message. */
static void obs_kill_rule(struct obs_rule_list *l, uint32_t ridx, const char *hs_msg)
{
	char why[600];

	snprintf(why, sizeof(why), "hyperscan: %s", hs_msg);
	obs_rule_list_kill(l, ridx, why);
}

static int obs_compile(struct obs_rules *r, char *err, size_t errlen)
{
	struct obs_rule_list *l = r->l;
	uint32_t i, n, *map_rule = NULL;
	const char **exprs = NULL;
	unsigned *flags = NULL, *ids = NULL, *all_flags = NULL;
	hs_expr_ext_t *ext = NULL;
	const hs_expr_ext_t **exts = NULL;
	bool *has_ext = NULL;
	hs_compile_error_t *cerr = NULL;
	int ret = -ENOMEM;

	exprs = calloc(l->n_rx + 1, sizeof(*exprs));
	flags = calloc(l->n_rx + 1, sizeof(*flags));
	ids = calloc(l->n_rx + 1, sizeof(*ids));
	exts = calloc(l->n_rx + 1, sizeof(*exts));
	all_flags = calloc(l->n_rx + 1, sizeof(*all_flags));
	ext = calloc(l->n_rx + 1, sizeof(*ext));
	has_ext = calloc(l->n_rx + 1, sizeof(*has_ext));
	if (!exprs || !flags || !ids || !exts || !all_flags || !ext || !has_ext)
		goto out;
	for (i = 0; i < l->n_rx; i++)
		all_flags[i] = obs_hs_flags(&l->rx[i], &ext[i], &has_ext[i]);
	/* per expression check first: cheap, and names the failing rule without a full
	 * compile per failure */
	for (i = 0; i < l->n_rx; i++) {
		hs_expr_info_t *info = NULL;
		const struct obs_rx *x = &l->rx[i];

		if (l->rules[x->rule].dead)
			continue;
		if (hs_expression_ext_info(x->re, all_flags[i], has_ext[i] ? &ext[i] : NULL, &info,
		                           &cerr) != HS_SUCCESS) {
			obs_kill_rule(l, x->rule, cerr ? cerr->message : "rejected");
			hs_free_compile_error(cerr);
			cerr = NULL;
			continue;
		}
		free(info);
	}
	for (;;) {
		n = 0;
		for (i = 0; i < l->n_rx; i++) {
			if (l->rules[l->rx[i].rule].dead)
				continue;
			exprs[n] = l->rx[i].re;
			flags[n] = all_flags[i];
			exts[n] = has_ext[i] ? &ext[i] : NULL;
			ids[n] = i;
			n++;
		}
		if (n == 0)
			break;
		if (hs_compile_ext_multi(exprs, flags, ids, exts, n, HS_MODE_BLOCK, NULL, &r->db,
		                         &cerr) == HS_SUCCESS)
			break;
		if (!cerr || cerr->expression < 0 || (unsigned)cerr->expression >= n) {
			snprintf(err, errlen, "hyperscan compile: %s", cerr ? cerr->message : "failed");
			hs_free_compile_error(cerr);
			ret = -EINVAL;
			goto out;
		}
		obs_kill_rule(l, l->rx[ids[cerr->expression]].rule, cerr->message);
		hs_free_compile_error(cerr);
		cerr = NULL;
	}
	/* drop refused rules, renumber; the database was compiled with ids = rx index: keep
	 * that numbering (expressions of refused rules never match) */
	map_rule = calloc(l->n_rules ? l->n_rules : 1, sizeof(*map_rule));
	if (!map_rule)
		goto out;
	obs_rule_list_compact(l, map_rule);
	r->pats = calloc(l->n_rx ? l->n_rx : 1, sizeof(*r->pats));
	if (!r->pats)
		goto out;
	if (r->db) {
		for (i = 0; i < l->n_rx; i++) {
			r->pats[i].rule = l->rx[i].rule;
			r->pats[i].bit = l->rx[i].bit;
			if (l->rx[i].rule != UINT32_MAX)
				l->st.n_patterns++;
		}
		r->n_pats = l->n_rx;
		if (hs_alloc_scratch(r->db, &r->proto_scratch) != HS_SUCCESS) {
			snprintf(err, errlen, "hyperscan: cannot allocate scratch");
			goto out;
		}
		hs_database_size(r->db, &l->st.db_bytes);
		hs_scratch_size(r->proto_scratch, &l->st.scratch_bytes);
	}
	obs_rule_list_drop_rx(l);
	ret = 0;
out:
	if (ret == -ENOMEM && err[0] == 0)
		snprintf(err, errlen, "out of memory");
	free(map_rule);
	free(exprs);
	free(flags);
	free(ids);
	free(exts);
	free(all_flags);
	free(ext);
	free(has_ext);
	return ret;
}

struct obs_rules *obs_rules_load(const struct obs_rules_src *src, unsigned n_src,
                                 obs_rules_log_fn log, void *log_arg, char *err, size_t errlen)
{
	struct obs_rules *r = calloc(1, sizeof(*r));

	if (errlen)
		err[0] = 0;
	if (!r) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	r->l = obs_rules_parse(src, n_src, log, log_arg, err, errlen);
	if (!r->l || obs_compile(r, err, errlen) != 0) {
		obs_rules_free(r);
		return NULL;
	}
	return r;
}

void obs_rules_free(struct obs_rules *r)
{
	if (!r)
		return;
	if (r->db)
		hs_free_database(r->db);
	if (r->proto_scratch)
		hs_free_scratch(r->proto_scratch);
	free(r->pats);
	obs_rule_list_free(r->l);
	free(r);
}

const struct obs_rules_stats *obs_rules_stats(const struct obs_rules *r)
{
	return obs_rule_list_stats(r->l);
}

uint32_t obs_rules_count(const struct obs_rules *r)
{
	return r ? obs_rule_list_count(r->l) : 0;
}

const struct obs_rule_info *obs_rules_info(const struct obs_rules *r, uint32_t idx)
{
	return r ? obs_rule_list_info(r->l, idx) : NULL;
}

int obs_rules_find_sid(const struct obs_rules *r, uint32_t sid)
{
	return r ? obs_rule_list_find_sid(r->l, sid) : -1;
}

int obs_rules_scratch_clone(const struct obs_rules *r, hs_scratch_t **s)
{
	if (*s) {
		hs_free_scratch(*s);
		*s = NULL;
	}
	if (!r || !r->proto_scratch)
		return 0;
	return hs_clone_scratch(r->proto_scratch, s) == HS_SUCCESS ? 0 : -ENOMEM;
}

void obs_rules_scratch_free(hs_scratch_t *s)
{
	if (s)
		hs_free_scratch(s);
}

/* ------------------------------------------------------------------ scanning --- */

struct obs_touch {
	uint32_t rule;
	uint32_t mask;
};

struct obs_scan_ctx {
	const struct obs_rules *r;
	uint32_t len;
	uint8_t proto;
	uint16_t dport;
	obs_rules_match_fn fn;
	void *arg;
	int n_match;
	bool overflow;
	uint32_t n_touch;
	struct obs_touch touch[OBS_RULES_MAX_TOUCH];
};

static inline bool obs_rule_fits(const struct obs_rule *ru, uint32_t len, uint8_t proto,
                                 uint16_t dport)
{
	if (ru->info.proto && ru->info.proto != proto)
		return false;
	switch (ru->dsize_op) {
	case 1: if (len != ru->dsize_a) return false; break;
	case 2: if (len >= ru->dsize_a) return false; break;
	case 3: if (len <= ru->dsize_a) return false; break;
	case 4: if (len <= ru->dsize_a || len >= ru->dsize_b) return false; break;
	default: break;
	}
	if (ru->n_ranges) {
		uint32_t i;

		for (i = 0; i < ru->n_ranges; i++)
			if (dport >= ru->ranges[i].lo && dport <= ru->ranges[i].hi)
				break;
		if (i == ru->n_ranges)
			return false;
	}
	return true;
}

static int obs_on_hs(unsigned int id, unsigned long long from, unsigned long long to,
                     unsigned int flags, void *ctx)
{
	struct obs_scan_ctx *c = ctx;
	const struct obs_pat *pt;
	const struct obs_rule *ru;
	uint32_t i;

	(void)from;
	(void)to;
	(void)flags;
	if (id >= c->r->n_pats)
		return 0;
	pt = &c->r->pats[id];
	if (pt->rule == UINT32_MAX)
		return 0;
	ru = &c->r->l->rules[pt->rule];
	if (!obs_rule_fits(ru, c->len, c->proto, c->dport))
		return 0;
	if (ru->single) {
		c->n_match++;
		if (c->fn)
			c->fn(c->arg, pt->rule, &ru->info);
		return 0;
	}
	for (i = 0; i < c->n_touch; i++)
		if (c->touch[i].rule == pt->rule)
			break;
	if (i == c->n_touch) {
		if (c->n_touch == OBS_RULES_MAX_TOUCH) {
			c->overflow = true;
			return 0;
		}
		c->touch[i].rule = pt->rule;
		c->touch[i].mask = 0;
		c->n_touch++;
	}
	c->touch[i].mask |= 1u << pt->bit;
	return 0;
}

int obs_rules_scan(const struct obs_rules *r, hs_scratch_t *scratch, const uint8_t *payload,
                   uint32_t len, uint8_t proto, uint16_t dport, obs_rules_match_fn on_match,
                   void *arg)
{
	struct obs_scan_ctx c;

	if (!r || !r->db || len == 0)
		return 0;
	if (!scratch || !payload)
		return -EINVAL;
	c.r = r;
	c.len = len;
	c.proto = proto;
	c.dport = dport;
	c.fn = on_match;
	c.arg = arg;
	c.n_match = 0;
	c.overflow = false;
	c.n_touch = 0;
	if (hs_scan(r->db, (const char *)payload, len, 0, scratch, obs_on_hs, &c) != HS_SUCCESS)
		return -EIO;
	for (uint32_t i = 0; i < c.n_touch; i++) {
		const struct obs_rule *ru = &r->l->rules[c.touch[i].rule];

		if ((c.touch[i].mask & ru->pos_mask) == ru->pos_mask &&
		    (c.touch[i].mask & ru->neg_mask) == 0) {
			c.n_match++;
			if (on_match)
				on_match(arg, c.touch[i].rule, &ru->info);
		}
	}
	return c.overflow ? -ENOSPC : c.n_match;
}

struct obs_rules_set *obs_rules_set_new(struct obs_rules *r, uint32_t n_workers, char *err,
                                        size_t errlen)
{
	struct obs_rules_set *set = calloc(1, sizeof(*set) + (size_t)n_workers * sizeof(hs_scratch_t *));

	if (!set) {
		snprintf(err, errlen, "rules: out of memory");
		obs_rules_free(r);
		return NULL;
	}
	set->rules = r;
	set->n_workers = n_workers;
	for (uint32_t w = 0; w < n_workers; w++) {
		if (obs_rules_scratch_clone(r, &set->scratch[w]) != 0) {
			snprintf(err, errlen, "rules: cannot clone a Hyperscan scratch for worker %u", w);
			obs_rules_set_free(set);
			return NULL;
		}
	}
	return set;
}

void obs_rules_set_free(void *p)
{
	struct obs_rules_set *set = p;

	if (!set)
		return;
	for (uint32_t w = 0; w < set->n_workers; w++)
		obs_rules_scratch_free(set->scratch[w]);
	obs_rules_free(set->rules);
	free(set);
}

