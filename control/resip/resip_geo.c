/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * resip_geo.c — SPEC.md B3 over a loaded RESIP table; see resip_geo.h.
 *
 * One pass places every table address by GeoIP country; the views then group the
 * addresses of the chosen country by a string key (rows in an array, indexed by the
 * control plane's hash table, htab.h), counting each address once in the row total and
 * once per provider it has rows for.  PTR names come from cp_rdns (file, cache, then live within the budget).
 * Public suffixes come from libpsl with Debian's list (psl_latest: the newest of the
 * distribution's files and libpsl's built-in copy).
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libpsl.h>

#include "geo.h"
#include "grow.h"
#include "htab.h"
#include "names.h"
#include "rdns.h"
#include "resip_geo.h"

static const char *const by_names[RESIP_GEO_N] = { "region", "domain", "org", "sld" };

const char *resip_geo_by_name(enum resip_geo_by by)
{
	return cp_name_of(by_names, RESIP_GEO_N, by);
}

int resip_geo_by_parse(const char *s, enum resip_geo_by *by)
{
	static const char *const region_names[] = { "prefecture", "subdivision" };
	int i = cp_name_find(by_names, RESIP_GEO_N, s);

	if (i < 0 && cp_name_find(region_names, 2, s) < 0)
		return -EINVAL;
	*by = i >= 0 ? (enum resip_geo_by)i : RESIP_GEO_REGION;
	return 0;
}

/* ------------------------------------------------------------- public suffix --- */

static const psl_ctx_t *rg_psl(void)
{
	static const psl_ctx_t *psl;
	static psl_ctx_t *loaded;
	if (psl == NULL) {
		loaded = psl_latest("/usr/share/publicsuffix/public_suffix_list.dat");
		psl = loaded ? loaded : psl_builtin();
	}
	return psl;
}

static void rg_lower(const char *in, char *out, size_t outlen)
{
	size_t i = 0;
	for (; in[i] && i + 1 < outlen; i++)
		out[i] = (char)tolower((unsigned char)in[i]);
	out[i] = '\0';
	if (i > 0 && out[i - 1] == '.')
		out[i - 1] = '\0';
}

int resip_geo_registrable(const char *name, char *out, size_t outlen)
{
	char low[256];
	const psl_ctx_t *psl = rg_psl();
	rg_lower(name, low, sizeof(low));
	const char *d = psl ? psl_registrable_domain(psl, low) : NULL;
	if (d == NULL || *d == '\0')
		return -ENOENT;
	snprintf(out, outlen, "%s", d);
	return 0;
}

/* Last label of name as an upper-case two-letter country code ("uk" -> "GB"), or "". */
static void rg_cctld(const char *name, char tld[3])
{
	const char *dot = strrchr(name, '.');
	const char *l = dot ? dot + 1 : name;
	size_t n = strlen(l);
	if (n > 0 && l[n - 1] == '.') {   /* absolute form: look before the root dot */
		n--;
	}
	tld[0] = '\0';
	if (n != 2 || !isalpha((unsigned char)l[0]) || !isalpha((unsigned char)l[1]))
		return;
	tld[0] = (char)toupper((unsigned char)l[0]);
	tld[1] = (char)toupper((unsigned char)l[1]);
	tld[2] = '\0';
	if (strcmp(tld, "UK") == 0)
		strcpy(tld, "GB");
}

/* -------------------------------------------------------------- org map --- */

struct rg_org {
	uint32_t net;
	uint8_t len;
	uint32_t name;   /* offset in names */
};

struct resip_orgmap {
	struct rg_org *v;
	size_t n;
	char *names;
	size_t names_len;
};

static int rg_org_cmp(const void *a, const void *b)
{
	const struct rg_org *x = a, *y = b;
	if (x->len != y->len)
		return x->len > y->len ? -1 : 1;   /* longest first */
	return x->net < y->net ? -1 : x->net > y->net;
}

struct resip_orgmap *resip_orgmap_load(const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	struct resip_orgmap *m = calloc(1, sizeof(*m));
	char line[1024];
	size_t cap = 0, ncap = 0;
	unsigned lineno = 0;
	if (f == NULL || m == NULL) {
		snprintf(err, errlen, "organisation file %s: %s", path, strerror(f ? ENOMEM : errno));
		goto fail;
	}
	while (fgets(line, sizeof(line), f)) {
		lineno++;
		char *s = line;
		s[strcspn(s, "\r\n")] = '\0';
		s += strspn(s, " \t");
		if (*s == '\0' || *s == '#')
			continue;
		char *cidr = s;
		s += strcspn(s, " \t,");
		if (*s)
			*s++ = '\0';
		s += strspn(s, " \t,");
		char *slash = strchr(cidr, '/');
		struct in_addr a;
		char *endp = NULL;
		long len = 32;
		if (slash) {
			*slash = '\0';
			len = strtol(slash + 1, &endp, 10);
		}
		if (inet_pton(AF_INET, cidr, &a) != 1 || (slash && (*endp || len < 0 || len > 32)) || *s == '\0') {
			snprintf(err, errlen, "organisation file %s: line %u: expected 'a.b.c.d/len organisation'",
				 path, lineno);
			goto fail;
		}
		size_t sl = strlen(s);
		while (sl > 0 && (s[sl - 1] == ' ' || s[sl - 1] == '\t'))
			s[--sl] = '\0';
		void *pv = cp_grow(m->v, &cap, m->n + 1, sizeof(*m->v), 64);
		if (pv == NULL)
			goto oom;
		m->v = pv;
		pv = cp_grow(m->names, &ncap, m->names_len + sl + 1, 1, 4096);
		if (pv == NULL)
			goto oom;
		m->names = pv;
		uint32_t mask = len == 0 ? 0 : ~0u << (32 - len);
		m->v[m->n].net = ntohl(a.s_addr) & mask;
		m->v[m->n].len = (uint8_t)len;
		m->v[m->n].name = (uint32_t)m->names_len;
		memcpy(m->names + m->names_len, s, sl + 1);
		m->names_len += sl + 1;
		m->n++;
	}
	fclose(f);
	qsort(m->v, m->n, sizeof(*m->v), rg_org_cmp);
	return m;
oom:
	snprintf(err, errlen, "organisation file %s: out of memory", path);
fail:
	if (f)
		fclose(f);
	resip_orgmap_free(m);
	return NULL;
}

const char *resip_orgmap_lookup(const struct resip_orgmap *m, uint32_t addr)
{
	/* sorted by length descending, then net: binary search within each length run */
	size_t i = 0;
	while (m && i < m->n) {
		uint8_t len = m->v[i].len;
		size_t j = i;
		while (j < m->n && m->v[j].len == len)
			j++;
		uint32_t key = len == 0 ? 0 : addr & (~0u << (32 - len));
		size_t lo = i, hi = j;
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;
			if (m->v[mid].net < key)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo < j && m->v[lo].net == key)
			return m->names + m->v[lo].name;
		i = j;
	}
	return NULL;
}

void resip_orgmap_free(struct resip_orgmap *m)
{
	if (m == NULL)
		return;
	free(m->v);
	free(m->names);
	free(m);
}

/* --------------------------------------------------------------- grouping --- */

struct rg_group {
	struct resip_geo_row *rows;
	size_t n, cap;
	struct cp_ht idx;    /* uint32 row index + 1 (htab.h; the key is the row's) */
};

/* Keys are kept to the row's key length: a longer one is the row of its truncation
 * (hashed and compared on those bytes only). */
#define RG_KEY_MAX (sizeof(((struct resip_geo_row *)0)->key) - 1)

static uint64_t rg_hash(const void *key, const void *ctx)
{
	uint64_t h = 1469598103934665603ull;
	const char *s = key;

	(void)ctx;
	for (size_t i = 0; i < RG_KEY_MAX && s[i]; i++)
		h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
	return h;
}

static const struct resip_geo_row *rg_row_of(const void *e, const void *ctx)
{
	const struct rg_group *g = ctx;
	uint32_t r;

	memcpy(&r, e, sizeof(r));
	return &g->rows[r - 1];
}

static uint64_t rg_entry_hash(const void *e, const void *ctx)
{
	return rg_hash(rg_row_of(e, ctx)->key, NULL);
}

static bool rg_match(const void *e, const void *key, const void *ctx)
{
	return strncmp(rg_row_of(e, ctx)->key, key, RG_KEY_MAX) == 0;
}

static const struct cp_ht_type rg_idx_t = {
	.size = sizeof(uint32_t), .key_size = 0, .used_off = 0, .used_len = 4,
	.load_num = 1, .load_den = 2, .min_cap = 64, .hash = rg_hash, .match = rg_match,
	.entry_hash = rg_entry_hash,
};

static int rg_add(struct rg_group *g, const char *key, uint64_t providers)
{
	struct resip_geo_row *row;
	uint32_t *ix;
	bool isnew;

	row = cp_grow(g->rows, &g->cap, g->n + 1, sizeof(*g->rows), 32);
	if (row == NULL)
		return -ENOMEM;
	g->rows = row;
	ix = cp_ht_insert(&g->idx, &rg_idx_t, key, &isnew);
	if (ix == NULL)
		return -ENOMEM;
	if (isnew) {
		row = &g->rows[g->n];
		memset(row, 0, sizeof(*row));
		size_t kl = strnlen(key, RG_KEY_MAX);   /* long keys truncate */
		memcpy(row->key, key, kl);
		row->key[kl] = '\0';
		*ix = (uint32_t)++g->n;
	} else {
		row = &g->rows[*ix - 1];
	}
	row->n++;
	for (uint64_t m = providers; m; m &= m - 1)
		row->per_provider[__builtin_ctzll(m)]++;
	return 0;
}

static int rg_row_cmp(const void *a, const void *b)
{
	const struct resip_geo_row *x = a, *y = b;
	if (x->n != y->n)
		return x->n > y->n ? -1 : 1;
	return strcmp(x->key, y->key);
}

static int rg_cc_norm(const char *cc, char out[3], char *err, size_t errlen)
{
	if (cc == NULL || strlen(cc) != 2 || !isalpha((unsigned char)cc[0]) || !isalpha((unsigned char)cc[1])) {
		snprintf(err, errlen, "country '%s': expected a two-letter ISO 3166-1 code", cc ? cc : "");
		return -EINVAL;
	}
	out[0] = (char)toupper((unsigned char)cc[0]);
	out[1] = (char)toupper((unsigned char)cc[1]);
	out[2] = '\0';
	return 0;
}

/* Addresses (indexes into t->addrs) GeoIP places in cc. */
static int rg_in_country(const struct resip_table *t, struct resip_geo_ctx *ctx, const char *cc,
			 uint32_t **out, size_t *n, uint64_t *n_no_geo)
{
	uint32_t *v = malloc((t->n_addrs ? t->n_addrs : 1) * sizeof(*v));
	size_t k = 0;
	char c[3];
	if (v == NULL)
		return -ENOMEM;
	*n_no_geo = 0;
	for (uint32_t i = 0; i < t->n_addrs; i++) {
		int rc = cp_geo_country(ctx->geo, t->addrs[i].addr, c);
		if (rc < 0)
			(*n_no_geo)++;
		else if (strcmp(c, cc) == 0)
			v[k++] = i;
	}
	*out = v;
	*n = k;
	return 0;
}

/* PTR names for the given table addresses (NULL where none). */
static const char **rg_names(const struct resip_table *t, struct resip_geo_ctx *ctx,
			     const uint32_t *ix, size_t n, uint64_t *n_ptr)
{
	const char **names = calloc(n ? n : 1, sizeof(*names));
	uint32_t *addrs = malloc((n ? n : 1) * sizeof(*addrs));
	if (names == NULL || addrs == NULL) {
		free(names);
		free(addrs);
		return NULL;
	}
	for (size_t i = 0; i < n; i++)
		addrs[i] = t->addrs[ix[i]].addr;
	*n_ptr = ctx->rdns ? cp_rdns_resolve(ctx->rdns, addrs, n, names, ctx->ptr_budget_ms) : 0;
	free(addrs);
	return names;
}

int resip_geo_compute(const struct resip_table *t, struct resip_geo_ctx *ctx, const char *cc_in,
		      enum resip_geo_by by, struct resip_geo_table *out, char *err, size_t errlen)
{
	struct rg_group g = { 0 };
	uint32_t *ix = NULL;
	const char **names = NULL;
	size_t n = 0;
	char cc[3], key[256], low[256];
	int rc;

	memset(out, 0, sizeof(*out));
	cp_ht_init(&g.idx, &g);   /* the index reads the keys in g.rows */
	if ((rc = rg_cc_norm(cc_in, cc, err, errlen)) < 0)
		return rc;
	if ((unsigned)by >= RESIP_GEO_N) {
		snprintf(err, errlen, "unknown view");
		return -EINVAL;
	}
	if ((rc = rg_in_country(t, ctx, cc, &ix, &n, &out->n_no_geo)) < 0)
		goto oom;
	if (by == RESIP_GEO_DOMAIN || by == RESIP_GEO_SLD) {
		names = rg_names(t, ctx, ix, n, &out->n_ptr);
		if (names == NULL)
			goto oom;
	}
	for (size_t i = 0; i < n; i++) {
		const struct resip_addr *a = &t->addrs[ix[i]];
		uint32_t asn;
		switch (by) {
		case RESIP_GEO_REGION:
			if (cp_geo_subdivision(ctx->geo, a->addr, key, sizeof(key)) < 0 || key[0] == '\0')
				snprintf(key, sizeof(key), "%s", RESIP_GEO_NOT_FOUND);
			break;
		case RESIP_GEO_ORG: {
			const char *o = ctx->orgs ? resip_orgmap_lookup(ctx->orgs, a->addr) : NULL;
			if (o != NULL)
				snprintf(key, sizeof(key), "%s", o);
			else if (cp_geo_asn(ctx->geo, a->addr, &asn, key, sizeof(key)) < 0 || key[0] == '\0')
				snprintf(key, sizeof(key), "%s", RESIP_GEO_NOT_FOUND);
			break;
		}
		case RESIP_GEO_DOMAIN:
			if (names[i] == NULL)
				snprintf(key, sizeof(key), "%s", RESIP_GEO_NO_PTR);
			else if (resip_geo_registrable(names[i], key, sizeof(key)) < 0)
				snprintf(key, sizeof(key), "%s", RESIP_GEO_NO_DOMAIN);
			break;
		case RESIP_GEO_SLD: {
			if (names[i] == NULL) {
				snprintf(key, sizeof(key), "%s", RESIP_GEO_NO_PTR);
				break;
			}
			rg_lower(names[i], low, sizeof(low));
			char *last = strrchr(low, '.');
			if (last == NULL || strcasecmp(last + 1, cc) != 0) {
				snprintf(key, sizeof(key), "(not .%c%c)", tolower(cc[0]), tolower(cc[1]));
				break;
			}
			*last = '\0';
			char *prev = strrchr(low, '.');
			snprintf(key, sizeof(key), "%s", prev ? prev + 1 : low);
			break;
		}
		default:
			break;
		}
		if (rg_add(&g, key, a->providers) < 0)
			goto oom;
	}
	qsort(g.rows, g.n, sizeof(*g.rows), rg_row_cmp);
	memcpy(out->cc, cc, 3);
	out->by = by;
	out->n_addrs = n;
	out->rows = g.rows;
	out->n_rows = g.n;
	cp_ht_fini(&g.idx);
	free(ix);
	free(names);
	return 0;
oom:
	snprintf(err, errlen, "out of memory");
	free(g.rows);
	cp_ht_fini(&g.idx);
	free(ix);
	free(names);
	return -ENOMEM;
}

void resip_geo_table_free(struct resip_geo_table *g)
{
	if (g == NULL)
		return;
	free(g->rows);
	g->rows = NULL;
	g->n_rows = 0;
}

int resip_geo_mismatch(const struct resip_table *t, struct resip_geo_ctx *ctx, const char *cc_in,
		       struct resip_mismatch **out, size_t *n_out, char *err, size_t errlen)
{
	char cc[3], gcc[3], tld[3];
	uint32_t *ix = NULL;
	const char **names = NULL;
	size_t n = 0, k = 0;
	uint64_t no_geo, n_ptr;
	struct resip_mismatch *v = NULL;
	int rc;

	*out = NULL;
	*n_out = 0;
	if ((rc = rg_cc_norm(cc_in, cc, err, errlen)) < 0)
		return rc;
	/* live PTRs only for the chosen country (the budget); others from file and cache */
	if (rg_in_country(t, ctx, cc, &ix, &n, &no_geo) < 0)
		goto oom;
	names = rg_names(t, ctx, ix, n, &n_ptr);
	free(ix);
	ix = NULL;
	if (names == NULL)
		goto oom;
	free(names);
	names = NULL;
	size_t cap = 0;
	for (uint32_t i = 0; i < t->n_addrs; i++) {
		const struct resip_addr *a = &t->addrs[i];
		const char *name = ctx->rdns ? cp_rdns_cached(ctx->rdns, a->addr) : NULL;
		if (name == NULL)
			continue;
		rg_cctld(name, tld);
		if (tld[0] == '\0' || cp_geo_country(ctx->geo, a->addr, gcc) < 0)
			continue;
		bool mis = (strcmp(gcc, cc) == 0 && strcmp(tld, cc) != 0) ||
			   (strcmp(tld, cc) == 0 && strcmp(gcc, cc) != 0);
		if (!mis)
			continue;
		void *pv = cp_grow(v, &cap, k + 1, sizeof(*v), 16);
		if (pv == NULL)
			goto oom;
		v = pv;
		struct resip_mismatch *m = &v[k++];
		memset(m, 0, sizeof(*m));
		m->addr = a->addr;
		memcpy(m->geo_cc, gcc, 3);
		memcpy(m->ptr_tld, tld, 3);
		snprintf(m->name, sizeof(m->name), "%s", name);
		m->providers = a->providers;
	}
	*out = v;
	*n_out = k;
	return 0;
oom:
	snprintf(err, errlen, "out of memory");
	free(ix);
	free(names);
	free(v);
	return -ENOMEM;
}
