/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * life_check.c — drives control/life/lifetime.c the way the dataplane feeds it, for comparison
 * with tests/reference/life_ref.py: reads the same JSON-lines events, folds them into
 * per-(source, UTC hour) aggregates (what the exchange's EVENT/SRC records deliver), splits
 * every aggregate with several events into two partial deliveries, shuffles the delivery
 * order (seed), adds them, round-trips the table through the snapshot blob, and prints
 * life_ref.py's JSON schema.
 *
 *   life_check [--gap-s S] [--seed K] EVENTS.jsonl
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "control/life/lifetime.h"
#include "../fixtures/test_rand.h"

#define NS 1000000000ull
#define HOUR (3600 * NS)

struct ev {
	uint32_t src;
	uint64_t t;
	uint32_t sensor, type, cat;
};

static int ev_cmp(const void *a, const void *b)
{
	const struct ev *x = a, *y = b;

	if (x->src != y->src)
		return x->src < y->src ? -1 : 1;
	if (x->t / HOUR != y->t / HOUR)
		return x->t / HOUR < y->t / HOUR ? -1 : 1;
	return x->t < y->t ? -1 : x->t > y->t;
}

struct agg {
	struct cp_life_hour h;
	uint32_t *types;
};

static uint64_t rng = 88172645463325252ull;

static uint64_t rnd(void)
{
	return obs_xorshift(&rng);
}

static int add_agg(struct agg **a, size_t *n, size_t *cap, const struct ev *e, size_t k)
{
	struct agg *g;

	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 1024;
		*a = realloc(*a, *cap * sizeof(**a));
		if (!*a)
			return -1;
	}
	g = &(*a)[(*n)++];
	memset(g, 0, sizeof(*g));
	g->types = malloc(k * sizeof(uint32_t));
	if (!g->types)
		return -1;
	g->h.addr = e[0].src;
	g->h.first_ns = e[0].t;
	g->h.last_ns = e[0].t;
	for (size_t i = 0; i < k; i++) {
		if (e[i].t < g->h.first_ns)
			g->h.first_ns = e[i].t;
		if (e[i].t > g->h.last_ns)
			g->h.last_ns = e[i].t;
		g->h.events++;
		g->h.sensor_mask |= 1ull << (e[i].sensor & 63);
		g->h.cat_mask |= (uint8_t)(1u << (e[i].cat % CP_LIFE_CAT_N));
		g->types[i] = e[i].type;
	}
	g->h.n_types = (uint32_t)k;
	g->h.types = g->types;
	return 0;
}

static json_t *cdf_json(struct cp_life *l, enum cp_life_unit u, json_int_t *pop)
{
	struct cp_life_cdf_pt *p;
	size_t n;
	uint64_t np;
	json_t *a = json_array();

	if (cp_life_cdf(l, u, &p, &n, &np) != 0)
		exit(1);
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_pack("[II]", (json_int_t)p[i].x, (json_int_t)p[i].n_le));
	free(p);
	*pop = (json_int_t)np;
	return a;
}

/* rows x cols counters (row-major) as a JSON array of arrays, or one flat array. */
static json_t *ints(const uint64_t *v, int rows, int cols, bool flat)
{
	json_t *a = json_array();

	for (int i = 0; i < rows; i++) {
		json_t *x = flat ? a : json_array();

		for (int k = 0; k < cols; k++)
			json_array_append_new(x, json_integer((json_int_t)v[i * cols + k]));
		if (!flat)
			json_array_append_new(a, x);
	}
	return a;
}

int main(int argc, char **argv)
{
	uint64_t gap_s = 86400;
	const char *path = NULL;
	FILE *f;
	char line[4096];
	struct ev *ev = NULL;
	size_t n_ev = 0, cap_ev = 0, n_agg = 0, cap_agg = 0;
	struct agg *agg = NULL;
	struct cp_life_conf c;
	struct cp_life *l, *m;
	struct cp_life_report r;
	json_t *out, *srcs;
	uint64_t grid[CP_LIFE_GRID_L][CP_LIFE_GRID_E], elig;
	static const char *const units[] = { "days", "minutes", "seconds", "events" };
	uint8_t *blob;
	size_t blen;
	char err[256];

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--gap-s") == 0 && i + 1 < argc)
			gap_s = strtoull(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc)
			rng = strtoull(argv[++i], NULL, 10) * 2654435761u + 1;
		else
			path = argv[i];
	}
	if (!path || !(f = fopen(path, "r"))) {
		fprintf(stderr, "usage: life_check [--gap-s S] [--seed K] EVENTS.jsonl\n");
		return 2;
	}
	while (fgets(line, sizeof(line), f)) {
		json_error_t je;
		json_t *o = json_loads(line, 0, &je);
		struct in_addr ia;
		json_t *cat;

		if (!o)
			continue;
		if (n_ev == cap_ev) {
			cap_ev = cap_ev ? cap_ev * 2 : 4096;
			ev = realloc(ev, cap_ev * sizeof(*ev));
			if (!ev)
				return 1;
		}
		if (inet_pton(AF_INET, json_string_value(json_object_get(o, "src")), &ia) != 1) {
			fprintf(stderr, "bad src in %s", line);
			return 1;
		}
		ev[n_ev].src = ntohl(ia.s_addr);
		ev[n_ev].t = (uint64_t)json_integer_value(json_object_get(o, "t"));
		ev[n_ev].sensor = (uint32_t)json_integer_value(json_object_get(o, "sensor"));
		ev[n_ev].type = (uint32_t)json_integer_value(json_object_get(o, "type"));
		cat = json_object_get(o, "cat");
		ev[n_ev].cat = cat ? (uint32_t)json_integer_value(cat) : 0;
		n_ev++;
		json_decref(o);
	}
	fclose(f);
	qsort(ev, n_ev, sizeof(*ev), ev_cmp);
	for (size_t i = 0; i < n_ev;) {
		size_t j = i;

		while (j < n_ev && ev[j].src == ev[i].src && ev[j].t / HOUR == ev[i].t / HOUR)
			j++;
		/* two partial deliveries of one hour, as two epochs would give */
		if (j - i >= 2) {
			size_t k = 1 + rnd() % (j - i - 1);

			if (add_agg(&agg, &n_agg, &cap_agg, ev + i, k) ||
			    add_agg(&agg, &n_agg, &cap_agg, ev + i + k, j - i - k))
				return 1;
		} else if (add_agg(&agg, &n_agg, &cap_agg, ev + i, j - i)) {
			return 1;
		}
		i = j;
	}
	for (size_t i = n_agg; i > 1; i--) {
		size_t k = rnd() % i;
		struct agg t = agg[i - 1];

		agg[i - 1] = agg[k];
		agg[k] = t;
	}
	c.gap_ns = gap_s * NS;
	c.max_sources = 1u << 24;
	l = cp_life_new(&c);
	m = cp_life_new(&c);
	if (!l || !m)
		return 1;
	for (size_t i = 0; i < n_agg; i++)
		if (cp_life_add(l, &agg[i].h) != 0)
			return 1;
	/* what is reported comes from a snapshot round trip */
	if (cp_life_save(l, &blob, &blen) || cp_life_load(m, blob, blen, err, sizeof(err))) {
		fprintf(stderr, "snapshot round trip: %s\n", err);
		return 1;
	}
	free(blob);
	cp_life_free(l);
	l = m;

	cp_life_report(l, NULL, &r);
	out = json_object();
	json_object_set_new(out, "n_sources", json_integer((json_int_t)r.n_sources));
	json_object_set_new(out, "buckets", ints(r.bucket, 1, CP_LIFE_BUCKETS, true));
	json_object_set_new(out, "sensors", ints(&r.sensors[0][0], CP_LIFE_BUCKETS, 5, false));
	json_object_set_new(out, "one_sensor", json_integer((json_int_t)r.one_sensor));
	json_object_set_new(out, "cats", ints(&r.cat[0][0], CP_LIFE_BUCKETS, CP_LIFE_CAT_N, false));
	cp_life_continuity_grid(l, grid, &elig);
	json_object_set_new(out, "grid", ints(&grid[0][0], CP_LIFE_GRID_L, CP_LIFE_GRID_E, false));
	json_object_set_new(out, "eligible", json_integer((json_int_t)elig));
	{
		json_t *cdf = json_object(), *pop = json_object();

		for (int u = 0; u < 4; u++) {
			json_int_t np;

			json_object_set_new(cdf, units[u], cdf_json(l, (enum cp_life_unit)u, &np));
			json_object_set_new(pop, units[u], json_integer(np));
		}
		json_object_set_new(out, "cdf", cdf);
		json_object_set_new(out, "pop", pop);
	}
	srcs = json_object();
	for (uint64_t i = 0; i < cp_life_n_sources(l); i++) {
		const struct cp_life_src *s = cp_life_at(l, i);
		const struct cp_life_group *g = cp_life_groups(s);
		struct in_addr ia = { htonl(s->addr) };
		char abuf[INET_ADDRSTRLEN];
		json_t *gs = json_array();

		inet_ntop(AF_INET, &ia, abuf, sizeof(abuf));
		for (uint32_t k = 0; k < s->n_groups; k++) {
			json_t *sens = json_array(), *ty = json_array();

			for (int b = 0; b < 64; b++)
				if (g[k].sensor_mask >> b & 1)
					json_array_append_new(sens, json_integer(b));
			for (uint32_t t = 0; t < g[k].n_types; t++)
				json_array_append_new(ty, json_integer(cp_life_group_types(&g[k])[t]));
			json_array_append_new(gs, json_pack("[IIIoo]", (json_int_t)g[k].first_ns,
			                      (json_int_t)g[k].last_ns, (json_int_t)g[k].events, sens, ty));
		}
		json_object_set_new(srcs, abuf, json_pack("{sIsIsIso}",
		                    "first", (json_int_t)cp_life_src_first(s),
		                    "last", (json_int_t)cp_life_src_last(s),
		                    "events", (json_int_t)cp_life_src_events(s), "groups", gs));
	}
	json_object_set_new(out, "sources", srcs);
	json_dumpf(out, stdout, JSON_SORT_KEYS | JSON_COMPACT);
	putchar('\n');
	json_decref(out);
	cp_life_free(l);
	for (size_t i = 0; i < n_agg; i++)
		free(agg[i].types);
	free(agg);
	free(ev);
	return 0;
}
