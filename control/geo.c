/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * geo.c — GeoIP enrichment by libmaxminddb; see geo.h.
 *
 * Two optional databases:
 *   city_path  a City- or Country-shaped MMDB (GeoIP2/GeoLite2 City, Country, Enterprise,
 *              or anything whose records carry country/iso_code): country and first
 *              subdivision;
 *   asn_path   an ASN- or ISP-shaped MMDB (GeoLite2-ASN, GeoIP2-ISP): AS number and
 *              organisation (ISP DBs without autonomous_system_organization fall back to
 *              organization, then isp).
 * The kind is checked from metadata.database_type when the file is opened, so a swapped
 * pair of paths is an error at startup rather than a silent "not found" forever.
 *
 * Lookups go through MMDB_lookup_sockaddr with an AF_INET address: libmaxminddb finds the
 * IPv4 subtree itself (::/96 in a mixed tree).  Errors from a corrupt database surface as
 * -EIO at the record that is bad; nothing here can crash on a bad file (libmaxminddb
 * bounds-checks every pointer and depth), and nothing allocates per lookup.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <maxminddb.h>

#include "geo.h"

struct cp_geo {
	MMDB_s city;
	MMDB_s asn;
	bool has_city;
	bool has_asn;
};

static bool geo_type_has(const MMDB_s *db, const char *const *words)
{
	const char *t = db->metadata.database_type;
	if (t == NULL)
		return false;
	for (; *words != NULL; words++)
		if (strstr(t, *words) != NULL)
			return true;
	return false;
}

static int geo_open_one(MMDB_s *db, const char *path, const char *kind,
			const char *const *types, char *err, size_t errlen)
{
	errno = 0;
	int st = MMDB_open(path, MMDB_MODE_MMAP, db);
	if (st != MMDB_SUCCESS) {
		int e = errno;
		if ((st == MMDB_IO_ERROR || st == MMDB_FILE_OPEN_ERROR) && e != 0)
			snprintf(err, errlen, "%s database %s: %s (%s)", kind, path,
				 MMDB_strerror(st), strerror(e));
		else
			snprintf(err, errlen, "%s database %s: %s", kind, path, MMDB_strerror(st));
		return -EINVAL;
	}
	if (!geo_type_has(db, types)) {
		snprintf(err, errlen, "%s database %s: database_type \"%s\" is not a %s database",
			 kind, path, db->metadata.database_type ? db->metadata.database_type : "",
			 kind);
		MMDB_close(db);
		return -EINVAL;
	}
	return 0;
}

struct cp_geo *cp_geo_open(const char *city_path, const char *asn_path, char *err, size_t errlen)
{
	static const char *const city_types[] = { "City", "Country", "Enterprise", NULL };
	static const char *const asn_types[] = { "ASN", "ISP", NULL };
	struct cp_geo *g = calloc(1, sizeof(*g));

	if (errlen > 0)
		err[0] = '\0';
	if (g == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (city_path != NULL && city_path[0] != '\0') {
		if (geo_open_one(&g->city, city_path, "city", city_types, err, errlen) < 0)
			goto fail_free;
		g->has_city = true;
	}
	if (asn_path != NULL && asn_path[0] != '\0') {
		if (geo_open_one(&g->asn, asn_path, "ASN", asn_types, err, errlen) < 0)
			goto fail_city;
		g->has_asn = true;
	}
	return g;

fail_city:
	if (g->has_city)
		MMDB_close(&g->city);
fail_free:
	free(g);
	errno = EINVAL;
	return NULL;
}

void cp_geo_close(struct cp_geo *g)
{
	if (g == NULL)
		return;
	if (g->has_city)
		MMDB_close(&g->city);
	if (g->has_asn)
		MMDB_close(&g->asn);
	free(g);
}

/* Find the record of addr in g's ASN database (asn) or its City/Country one.  0 with
 * *res filled, -ENOENT (no such database, no record), or -EIO. */
static int geo_lookup(struct cp_geo *g, bool asn, uint32_t addr, MMDB_lookup_result_s *res)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(addr) };
	int mmerr = MMDB_SUCCESS;

	if (g == NULL || !(asn ? g->has_asn : g->has_city))
		return -ENOENT;
	*res = MMDB_lookup_sockaddr(asn ? &g->asn : &g->city, (const struct sockaddr *)&sin, &mmerr);
	if (mmerr != MMDB_SUCCESS)
		return -EIO;
	return res->found_entry ? 0 : -ENOENT;
}

/* One value at a path; a path that does not exist in this record is -ENOENT. */
static int geo_value(MMDB_lookup_result_s *res, MMDB_entry_data_s *d, const char *const *path)
{
	int st = MMDB_aget_value(&res->entry, d, path);
	if (st == MMDB_LOOKUP_PATH_DOES_NOT_MATCH_DATA_ERROR || st == MMDB_INVALID_LOOKUP_PATH_ERROR)
		return -ENOENT;
	if (st != MMDB_SUCCESS)
		return -EIO;
	return d->has_data ? 0 : -ENOENT;
}

static int geo_string(MMDB_lookup_result_s *res, const char *const *path, char *out, size_t outlen)
{
	MMDB_entry_data_s d;
	int rc = geo_value(res, &d, path);
	if (rc < 0)
		return rc;
	if (d.type != MMDB_DATA_TYPE_UTF8_STRING)
		return -EIO;
	if (outlen == 0)
		return 0;
	size_t n = d.data_size < outlen - 1 ? d.data_size : outlen - 1;
	memcpy(out, d.utf8_string, n);
	out[n] = '\0';
	return 0;
}

int cp_geo_country(struct cp_geo *g, uint32_t addr, char cc[3])
{
	static const char *const p_country[] = { "country", "iso_code", NULL };
	static const char *const p_registered[] = { "registered_country", "iso_code", NULL };
	MMDB_lookup_result_s res;
	char buf[8];
	int rc = geo_lookup(g, false, addr, &res);

	if (rc < 0)
		return rc;
	rc = geo_string(&res, p_country, buf, sizeof(buf));
	if (rc == -ENOENT)
		rc = geo_string(&res, p_registered, buf, sizeof(buf));
	if (rc < 0)
		return rc;
	if (strlen(buf) != 2)
		return -EIO;
	cc[0] = buf[0];
	cc[1] = buf[1];
	cc[2] = '\0';
	return 0;
}

int cp_geo_subdivision(struct cp_geo *g, uint32_t addr, char *out, size_t outlen)
{
	static const char *const p_sub[] = { "subdivisions", "0", "names", "en", NULL };
	MMDB_lookup_result_s res;
	int rc = geo_lookup(g, false, addr, &res);

	return rc < 0 ? rc : geo_string(&res, p_sub, out, outlen);
}

int cp_geo_asn(struct cp_geo *g, uint32_t addr, uint32_t *asn, char *org, size_t orglen)
{
	static const char *const p_num[] = { "autonomous_system_number", NULL };
	static const char *const p_org[] = { "autonomous_system_organization", NULL };
	static const char *const p_org2[] = { "organization", NULL };
	static const char *const p_isp[] = { "isp", NULL };
	MMDB_lookup_result_s res;
	MMDB_entry_data_s d;
	int rc = geo_lookup(g, true, addr, &res), rc_org;

	if (rc < 0)
		return rc;
	rc = geo_value(&res, &d, p_num);
	if (rc == -EIO)
		return rc;
	if (asn != NULL) {
		*asn = 0;
		if (rc == 0) {
			if (d.type == MMDB_DATA_TYPE_UINT32)
				*asn = d.uint32;
			else if (d.type == MMDB_DATA_TYPE_UINT16)
				*asn = d.uint16;
			else if (d.type == MMDB_DATA_TYPE_UINT64 && d.uint64 <= UINT32_MAX)
				*asn = (uint32_t)d.uint64;
			else
				return -EIO;
		}
	}
	rc_org = -ENOENT;
	if (org != NULL && orglen > 0) {
		org[0] = '\0';
		rc_org = geo_string(&res, p_org, org, orglen);
		if (rc_org == -ENOENT)
			rc_org = geo_string(&res, p_org2, org, orglen);
		if (rc_org == -ENOENT)
			rc_org = geo_string(&res, p_isp, org, orglen);
		if (rc_org == -EIO)
			return rc_org;
	}
	/* An entry with neither a number nor a name carries nothing we can report. */
	if (rc == -ENOENT && rc_org == -ENOENT)
		return -ENOENT;
	return 0;
}
