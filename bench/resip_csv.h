/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * resip_csv.h — the RESIP table's CSV as the bench tools write it (SPEC.md B; the
 * daemons read it with dataplane/resip_load.c): the header line, then one row per
 * (address, provider, window).  A window is given in epoch seconds (exact instants, both
 * ends inclusive) or in whole UTC days (YYYY-MM-DD: the first day from 00:00:00, the last
 * to 23:59:59.999999999), the two forms resip_load.c accepts.
 *
 * Header-only, no state, any thread: obscura-gen (bench/gen/resip.c) and trafgen's table
 * (bench/trafmix.c) write their rows with it, so both speak one format.  Day labels come
 * from dataplane/period.h, the calendar both daemons use.
 */
#ifndef OBSCURA_BENCH_RESIP_CSV_H
#define OBSCURA_BENCH_RESIP_CSV_H

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>

#include "dataplane/common/period.h"

static inline void bench_resip_csv_header(FILE *f)
{
	fputs("ip,provider,first_seen,last_seen\n", f);
}

/* "a.b.c.d" of a host-order address into buf (16 bytes); returns buf. */
static inline const char *bench_ip_str(uint32_t a, char *buf)
{
	snprintf(buf, 16, "%u.%u.%u.%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);
	return buf;
}

/* A row whose window is [first_s, last_s] in seconds since the epoch. */
static inline void bench_resip_csv_secs(FILE *f, uint32_t addr, const char *provider,
                                        int64_t first_s, int64_t last_s)
{
	char ip[16];

	fprintf(f, "%s,%s,%" PRId64 ",%" PRId64 "\n", bench_ip_str(addr, ip), provider,
	        first_s, last_s);
}

/* A row whose window is the whole UTC days first_day .. last_day (days since
 * 1970-01-01, both >= 0). */
static inline void bench_resip_csv_days(FILE *f, uint32_t addr, const char *provider,
                                        int64_t first_day, int64_t last_day)
{
	char ip[16], d0[OBS_PERIOD_LABEL_MAX], d1[OBS_PERIOD_LABEL_MAX];

	obs_period_label(OBS_PU_DAY, (uint32_t)first_day, d0, sizeof(d0));
	obs_period_label(OBS_PU_DAY, (uint32_t)last_day, d1, sizeof(d1));
	fprintf(f, "%s,%s,%s,%s\n", bench_ip_str(addr, ip), provider, d0, d1);
}

#endif
