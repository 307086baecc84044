/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * resip_geo.h — the geography of the RESIP table itself (SPEC.md B3, the paper's Tables
 * 3-6 and A.1), no traffic needed: for one country (GeoIP country of each table address),
 * addresses per first-level subdivision, per registrable domain of the PTR name
 * (public-suffix aware, libpsl), per organisation (operator CIDR file first, else the AS
 * organisation of an ASN MMDB), per second-level label under the country TLD, each split
 * by provider; and the addresses whose GeoIP country disagrees with the PTR name's ccTLD.
 *
 * Control plane only, single thread (the geo, rdns and psl handles are not shared).
 *
 * Keys that mean "nothing known" are fixed strings so reports and tests can rely on them:
 * "not found" (no GeoIP subdivision / no organisation), "no PTR" (no reverse name),
 * "(no registrable domain)", "(not .cc)" (PTR under another TLD, in the sld view).
 * A ccTLD mismatch is: the PTR name ends in a two-letter ccTLD ("uk" read as GB) and
 * either GeoIP says the chosen country and the TLD is another, or the TLD is the chosen
 * country and GeoIP names another.  Generic TLDs (.com, .net) never mismatch.
 */
#ifndef OBSCURA_RESIP_GEO_H
#define OBSCURA_RESIP_GEO_H

#include <stddef.h>
#include <stdint.h>

#include "resip_load.h"

struct cp_geo;
struct cp_rdns;
struct resip_orgmap;

enum resip_geo_by { RESIP_GEO_REGION = 0, RESIP_GEO_DOMAIN, RESIP_GEO_ORG, RESIP_GEO_SLD, RESIP_GEO_N };
const char *resip_geo_by_name(enum resip_geo_by by);
int resip_geo_by_parse(const char *s, enum resip_geo_by *by);

#define RESIP_GEO_NOT_FOUND "not found"
#define RESIP_GEO_NO_PTR    "no PTR"
#define RESIP_GEO_NO_DOMAIN "(no registrable domain)"

struct resip_geo_ctx {
	struct cp_geo *geo;             /* City + ASN DBs (either may be absent) */
	struct cp_rdns *rdns;           /* PTR source; NULL: every address "no PTR" */
	struct resip_orgmap *orgs;      /* operator CIDR -> organisation, NULL for none */
	unsigned ptr_budget_ms;         /* live PTR time budget per query run */
};

struct resip_geo_row {
	char key[128];
	uint64_t n;                                 /* addresses */
	uint64_t per_provider[RESIP_MAX_PROVIDERS]; /* addresses with a row of provider i */
};

struct resip_geo_table {
	char cc[3];
	enum resip_geo_by by;
	uint64_t n_addrs;        /* table addresses GeoIP places in cc */
	uint64_t n_no_geo;       /* table addresses with no GeoIP country */
	uint64_t n_ptr;          /* of n_addrs, with a PTR name (domain/sld views) */
	size_t n_rows;
	struct resip_geo_row *rows;   /* by n descending, then key */
};

/* cc: two letters, any case.  0 or -errno with err set. */
int resip_geo_compute(const struct resip_table *t, struct resip_geo_ctx *ctx, const char *cc,
		      enum resip_geo_by by, struct resip_geo_table *out, char *err, size_t errlen);
void resip_geo_table_free(struct resip_geo_table *g);

struct resip_mismatch {
	uint32_t addr;
	char geo_cc[3];
	char ptr_tld[3];
	char name[254];
	uint64_t providers;
};

/* The ccTLD mismatch list for cc, sorted by address; *out is malloc'ed (free it). */
int resip_geo_mismatch(const struct resip_table *t, struct resip_geo_ctx *ctx, const char *cc,
		       struct resip_mismatch **out, size_t *n, char *err, size_t errlen);

/* Operator CIDR -> organisation file: "a.b.c.d/len organisation name" or
 * "a.b.c.d/len,organisation" per line, '#' comments; longest prefix wins. */
struct resip_orgmap *resip_orgmap_load(const char *path, char *err, size_t errlen);
const char *resip_orgmap_lookup(const struct resip_orgmap *m, uint32_t addr);
void resip_orgmap_free(struct resip_orgmap *m);

/* Registrable domain of name (lower-cased copy into out), or -ENOENT. */
int resip_geo_registrable(const char *name, char *out, size_t outlen);

#endif
