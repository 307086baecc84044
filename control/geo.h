/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * geo.h — enrichment by libmaxminddb: country, first-level subdivision and AS
 * organisation of an IPv4 address.  Control plane only (never per packet): looked up
 * once per source or block.  Databases are optional; a missing one answers "not found".
 *
 * Shared by the scanner analysis (country of a block's busiest /24, SPEC.md A7) and the
 * RESIP geography (SPEC.md B3).  Not thread-safe: one struct per thread.
 */
#ifndef OBSCURA_GEO_H
#define OBSCURA_GEO_H

#include <stdint.h>
#include <stddef.h>

struct cp_geo;

/* Open the databases; any path may be NULL or "" (absent).  A path that is set but
 * cannot be opened or is not the expected kind (City/Country for city_path, ASN or ISP
 * for asn_path) fails with err naming the file and libmaxminddb's reason. */
struct cp_geo *cp_geo_open(const char *city_path, const char *asn_path, char *err, size_t errlen);
void cp_geo_close(struct cp_geo *g);

/* Each returns 0 and fills the output, or -ENOENT (no database or no entry), or -EIO
 * (the database is corrupt at that record). addr is host byte order. */
int cp_geo_country(struct cp_geo *g, uint32_t addr, char cc[3]);                 /* ISO 3166-1 alpha-2 */
int cp_geo_subdivision(struct cp_geo *g, uint32_t addr, char *out, size_t outlen); /* English name of the first subdivision */
int cp_geo_asn(struct cp_geo *g, uint32_t addr, uint32_t *asn, char *org, size_t orglen);

#endif
