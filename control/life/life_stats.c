/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * life_stats.c — SPEC.md C's figures over the lifetime table (lifetime.h): Table 1 and
 * Figs 3-5 (buckets, sensors, countries, categories), the CDFs of Figs 1, 2, 6, 7, and
 * continuity (Dice, SPEC C5/C6, Fig. 8) with exact rational comparisons.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "geo.h"
#include "lifetime_int.h"
#include "order.h"

const uint32_t cp_life_grid_tl[CP_LIFE_GRID_L] = { 0, 1000, 3000, 5000, 7000, 9000, 10000 };

static unsigned cp_life_cc_index(const char cc[2])
{
	if (cc[0] >= 'A' && cc[0] <= 'Z' && cc[1] >= 'A' && cc[1] <= 'Z')
		return (unsigned)(cc[0] - 'A') * 26 + (unsigned)(cc[1] - 'A');
	return 26 * 26;   /* unknown */
}

int cp_life_report(struct cp_life *l, struct cp_geo *geo, struct cp_life_report *r)
{
	uint64_t (*cc)[26 * 26 + 1] = calloc(CP_LIFE_BUCKETS, sizeof(*cc));

	if (!cc)
		return -ENOMEM;
	memset(r, 0, sizeof(*r));
	r->n_sources = l->n;
	r->n_evicted = l->st.n_evicted;
	for (uint32_t i = 0; i < l->n; i++) {
		struct cp_life_src *s = &l->src[i];
		unsigned b = cp_life_bucket(cp_life_src_last(s) - cp_life_src_first(s));
		int pc = __builtin_popcountll(cp_life_src_sensors(s));

		r->bucket[b]++;
		r->sensors[b][pc >= 5 ? 4 : (pc <= 1 ? 0 : pc - 1)]++;
		if (pc <= 1)
			r->one_sensor++;
		for (unsigned c = 0; c < CP_LIFE_CAT_N; c++)
			if (s->cat_mask & (1u << c))
				r->cat[b][c]++;
		if (!(s->flags & CP_LIFE_F_GEO)) {
			char c2[3];

			if (geo && cp_geo_country(geo, s->addr, c2) == 0 && c2[0] && c2[1]) {
				s->cc[0] = c2[0];
				s->cc[1] = c2[1];
			} else {
				s->cc[0] = '-';
				s->cc[1] = '-';
			}
			/* an absent database is not cached: it may be configured later */
			if (geo)
				s->flags |= CP_LIFE_F_GEO;
		}
		cc[b][cp_life_cc_index(s->cc)]++;
	}
	for (unsigned b = 0; b < CP_LIFE_BUCKETS; b++) {
		uint64_t top_sum = 0;

		for (unsigned k = 0; k < CP_LIFE_TOP_CC; k++) {
			unsigned best = 26 * 26 + 1;

			for (unsigned c = 0; c <= 26 * 26; c++)
				if (cc[b][c] && (best > 26 * 26 || cc[b][c] > cc[b][best]))
					best = c;
			if (best > 26 * 26)
				break;
			if (best == 26 * 26) {
				strcpy(r->top[b][k].cc, "--");
			} else {
				r->top[b][k].cc[0] = (char)('A' + best / 26);
				r->top[b][k].cc[1] = (char)('A' + best % 26);
				r->top[b][k].cc[2] = 0;
			}
			r->top[b][k].n = cc[b][best];
			top_sum += cc[b][best];
			cc[b][best] = 0;
			r->n_top[b]++;
		}
		r->cc_rest[b] = r->bucket[b] - top_sum;
	}
	free(cc);
	return 0;
}

int cp_life_cdf(const struct cp_life *l, enum cp_life_unit u, struct cp_life_cdf_pt **pts,
                size_t *n_pts, uint64_t *n_pop)
{
	uint64_t *v = malloc(((size_t)l->n + 1) * sizeof(*v));
	uint64_t n = 0, max_x = 0, unit = 0;
	struct cp_life_cdf_pt *p = NULL;
	size_t np = 0, k = 0;

	*pts = NULL;
	*n_pts = 0;
	*n_pop = 0;
	if (!v)
		return -ENOMEM;
	for (uint32_t i = 0; i < l->n; i++) {
		const struct cp_life_src *s = &l->src[i];
		uint64_t per = cp_life_src_last(s) - cp_life_src_first(s);

		switch (u) {
		case CP_LIFE_DAYS:
			v[n++] = per;
			break;
		case CP_LIFE_MINUTES:
			if (per < 86400 * NS_S)
				v[n++] = per;
			break;
		case CP_LIFE_SECONDS:
			if (per < 60 * NS_S)
				v[n++] = per;
			break;
		case CP_LIFE_EVENTS:
			if (per < 60 * NS_S)
				v[n++] = cp_life_src_events(s);
			break;
		}
	}
	qsort(v, n, sizeof(*v), cp_cmp_u64);
	switch (u) {
	case CP_LIFE_DAYS:
		unit = 86400 * NS_S;
		max_x = n ? (v[n - 1] + unit - 1) / unit : 0;
		break;
	case CP_LIFE_MINUTES:
		unit = 60 * NS_S;
		max_x = 1440;
		break;
	case CP_LIFE_SECONDS:
		unit = NS_S;
		max_x = 60;
		break;
	case CP_LIFE_EVENTS:
		unit = 0;
		break;
	}
	if (unit) {
		p = malloc((size_t)(max_x + 1) * sizeof(*p));
		if (!p)
			goto nomem;
		for (uint64_t x = 0; x <= max_x; x++) {
			while (k < n && v[k] <= x * unit)
				k++;
			p[np].x = x;
			p[np].n_le = k;
			np++;
		}
	} else {
		p = malloc(((size_t)n + 1) * sizeof(*p));
		if (!p)
			goto nomem;
		for (k = 0; k < n; k++) {
			if (k + 1 < n && v[k + 1] == v[k])
				continue;
			p[np].x = v[k];
			p[np].n_le = k + 1;
			np++;
		}
	}
	free(v);
	*pts = p;
	*n_pts = np;
	*n_pop = n;
	return 0;
nomem:
	free(v);
	return -ENOMEM;
}

void cp_life_dice_sets(const uint32_t *a, uint32_t na, const uint32_t *b, uint32_t nb,
                       uint64_t *num, uint64_t *den)
{
	uint32_t i = 0, j = 0, inter = 0;

	if (na + nb == 0) {
		*num = 1;
		*den = 1;
		return;
	}
	while (i < na && j < nb) {
		if (a[i] < b[j])
			i++;
		else if (b[j] < a[i])
			j++;
		else {
			inter++;
			i++;
			j++;
		}
	}
	*num = 2ull * inter;
	*den = (uint64_t)na + nb;
}

/* min over consecutive pairs of r_l and r_e as fractions; false when not eligible */
static bool cp_life_src_minr(const struct cp_life_src *s, uint64_t *ln, uint64_t *ld,
                             uint64_t *en, uint64_t *ed)
{
	const struct cp_life_group *g = cp_life_groups(s);

	if (s->n_groups < 2 || (s->flags & CP_LIFE_F_CAPPED) ||
	    cp_life_src_last(s) - cp_life_src_first(s) <= 86400 * NS_S)
		return false;
	*ln = *en = 1;
	*ld = *ed = 1;
	for (uint32_t i = 0; i + 1 < s->n_groups; i++) {
		uint64_t n, d;
		int pa = __builtin_popcountll(g[i].sensor_mask);
		int pb = __builtin_popcountll(g[i + 1].sensor_mask);

		if (pa + pb == 0) {
			n = 1;
			d = 1;
		} else {
			n = 2ull * (uint64_t)__builtin_popcountll(g[i].sensor_mask & g[i + 1].sensor_mask);
			d = (uint64_t)(pa + pb);
		}
		if (n * *ld < *ln * d) {
			*ln = n;
			*ld = d;
		}
		cp_life_dice_sets(cp_life_group_types(&g[i]), g[i].n_types,
		                  cp_life_group_types(&g[i + 1]), g[i + 1].n_types, &n, &d);
		if (n * *ed < *en * d) {
			*en = n;
			*ed = d;
		}
	}
	return true;
}

/* r = num/den >= t/10000 exactly */
static inline bool cp_life_ge(uint64_t num, uint64_t den, uint32_t t_e4)
{
	return num * 10000u >= (uint64_t)t_e4 * den;
}

void cp_life_continuity(const struct cp_life *l, uint32_t tl_e4, uint32_t te_e4,
                        uint64_t *n_continuous, uint64_t *n_eligible)
{
	uint64_t c = 0, e = 0;

	for (uint32_t i = 0; i < l->n; i++) {
		uint64_t ln, ld, en, ed;

		if (!cp_life_src_minr(&l->src[i], &ln, &ld, &en, &ed))
			continue;
		e++;
		if (cp_life_ge(ln, ld, tl_e4) && cp_life_ge(en, ed, te_e4))
			c++;
	}
	*n_continuous = c;
	*n_eligible = e;
}

void cp_life_continuity_grid(const struct cp_life *l,
                             uint64_t out[CP_LIFE_GRID_L][CP_LIFE_GRID_E], uint64_t *n_eligible)
{
	uint64_t e = 0;

	memset(out, 0, sizeof(uint64_t) * CP_LIFE_GRID_L * CP_LIFE_GRID_E);
	for (uint32_t i = 0; i < l->n; i++) {
		uint64_t ln, ld, en, ed;

		if (!cp_life_src_minr(&l->src[i], &ln, &ld, &en, &ed))
			continue;
		e++;
		for (unsigned a = 0; a < CP_LIFE_GRID_L; a++) {
			if (!cp_life_ge(ln, ld, cp_life_grid_tl[a]))
				continue;
			for (unsigned b = 0; b < CP_LIFE_GRID_E; b++)
				if (cp_life_ge(en, ed, 500u * b))
					out[a][b]++;
		}
	}
	*n_eligible = e;
}

