/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * period.h — analysis periods (SPEC.md vocabulary "period, t"): UTC calendar units,
 * numbered so both processes agree on which period a packet time falls in.
 *
 * Index of the period holding packet time t (ns since the Unix epoch, UTC):
 *   hour   t / 3600 s                      label 2024-03-05T07
 *   day    t / 86400 s                     label 2024-03-05
 *   week   ISO weeks, Monday 00:00 UTC:    label 2024-W10 (ISO 8601 week-numbering year)
 *          (days + 3) / 7, since 1970-01-01 was a Thursday
 *   month  (year - 1970) * 12 + month - 1  label 2024-03
 * Pure, header-only, no state: any thread may call anything.  The unit numbers equal
 * enum obs_conf_period (conf.h).  Civil dates after Howard Hinnant's days_from_civil /
 * civil_from_days (proleptic Gregorian).
 */
#ifndef OBSCURA_PERIOD_H
#define OBSCURA_PERIOD_H

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum obs_period_unit {
	OBS_PU_HOUR = 0, OBS_PU_DAY = 1, OBS_PU_WEEK = 2, OBS_PU_MONTH = 3, OBS_PU_N
};

#define OBS_PERIOD_LABEL_MAX 24

static inline const char *obs_period_unit_name(unsigned u)
{
	static const char *const n[] = { "hour", "day", "week", "month" };
	return u < OBS_PU_N ? n[u] : "?";
}

static inline int64_t obs_days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static inline void obs_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int64_t)yoe + era * 400 + (*m <= 2);
}

#define OBS_NS_PER_S   1000000000ull
#define OBS_NS_PER_DAY (86400ull * OBS_NS_PER_S)

static inline uint32_t obs_period_index(unsigned unit, uint64_t t_ns)
{
	uint64_t days = t_ns / OBS_NS_PER_DAY;
	int64_t y;
	unsigned m, d;

	switch (unit) {
	case OBS_PU_HOUR:
		return (uint32_t)(t_ns / (3600ull * OBS_NS_PER_S));
	case OBS_PU_DAY:
		return (uint32_t)days;
	case OBS_PU_WEEK:
		return (uint32_t)((days + 3) / 7);
	default:
		obs_civil_from_days((int64_t)days, &y, &m, &d);
		return (uint32_t)((y - 1970) * 12 + (m - 1));
	}
}

/* First ns of period idx. */
static inline uint64_t obs_period_start_ns(unsigned unit, uint32_t idx)
{
	switch (unit) {
	case OBS_PU_HOUR:
		return (uint64_t)idx * 3600ull * OBS_NS_PER_S;
	case OBS_PU_DAY:
		return (uint64_t)idx * OBS_NS_PER_DAY;
	case OBS_PU_WEEK:
		/* week 0 is the one holding 1970-01-01; it starts on Monday 1969-12-29, before
		 * the epoch: clamp to 0 */
		return idx == 0 ? 0 : ((uint64_t)idx * 7 - 3) * OBS_NS_PER_DAY;
	default:
		return (uint64_t)obs_days_from_civil(1970 + idx / 12, idx % 12 + 1, 1) * OBS_NS_PER_DAY;
	}
}

/* Label of period idx into buf (>= OBS_PERIOD_LABEL_MAX bytes). */
static inline void obs_period_label(unsigned unit, uint32_t idx, char *buf, size_t n)
{
	int64_t y;
	unsigned m, d;

	switch (unit) {
	case OBS_PU_HOUR:
		obs_civil_from_days((int64_t)(idx / 24), &y, &m, &d);
		snprintf(buf, n, "%04lld-%02u-%02uT%02u", (long long)y, m, d, idx % 24);
		return;
	case OBS_PU_DAY:
		obs_civil_from_days((int64_t)idx, &y, &m, &d);
		snprintf(buf, n, "%04lld-%02u-%02u", (long long)y, m, d);
		return;
	case OBS_PU_WEEK: {
		/* ISO 8601: the week belongs to the year of its Thursday */
		int64_t thu = (int64_t)idx * 7;   /* day 0 is a Thursday: Thursday of week idx */
		int64_t jan1;
		obs_civil_from_days(thu, &y, &m, &d);
		jan1 = obs_days_from_civil(y, 1, 1);
		snprintf(buf, n, "%04lld-W%02u", (long long)y, (unsigned)((thu - jan1) / 7 + 1));
		return;
	}
	default:
		snprintf(buf, n, "%04u-%02u", 1970 + idx / 12, idx % 12 + 1);
		return;
	}
}

/* Parse a label of the given unit (the forms above; for every unit a plain decimal
 * index "#N" is accepted too).  0, or -EINVAL. */
static inline int obs_period_parse(unsigned unit, const char *s, uint32_t *idx)
{
	unsigned y, m = 1, d = 1, h = 0, w = 0;
	char tail;

	if (s[0] == '#') {
		unsigned long v;
		char *end;
		errno = 0;
		v = strtoul(s + 1, &end, 10);
		if (errno || end == s + 1 || *end || v > UINT32_MAX)
			return -EINVAL;
		*idx = (uint32_t)v;
		return 0;
	}
	switch (unit) {
	case OBS_PU_HOUR:
		if (sscanf(s, "%4u-%2u-%2uT%2u%c", &y, &m, &d, &h, &tail) != 4 || h > 23)
			return -EINVAL;
		break;
	case OBS_PU_DAY:
		if (sscanf(s, "%4u-%2u-%2u%c", &y, &m, &d, &tail) != 3)
			return -EINVAL;
		break;
	case OBS_PU_WEEK:
		if (sscanf(s, "%4u-W%2u%c", &y, &w, &tail) != 2 || w < 1 || w > 53 || y < 1970)
			return -EINVAL;
		{
			/* Monday of ISO week 1 = the Monday of the week holding Jan 4 */
			int64_t jan4 = obs_days_from_civil(y, 1, 4);
			int64_t mon1 = jan4 - ((jan4 + 3) % 7);
			int64_t mon = mon1 + (int64_t)(w - 1) * 7;
			char chk[OBS_PERIOD_LABEL_MAX];
			if (mon + 3 < 0)
				return -EINVAL;
			*idx = (uint32_t)((mon + 3) / 7);
			obs_period_label(unit, *idx, chk, sizeof(chk));
			return strcmp(chk, s) == 0 ? 0 : -EINVAL;   /* W53 of a 52-week year */
		}
	default:
		if (sscanf(s, "%4u-%2u%c", &y, &m, &tail) != 2)
			return -EINVAL;
		break;
	}
	if (y < 1970 || y > 9999 || m < 1 || m > 12 || d < 1 || d > 31)
		return -EINVAL;
	{
		int64_t days = obs_days_from_civil(y, m, d);
		int64_t y2;
		unsigned m2, d2;
		obs_civil_from_days(days, &y2, &m2, &d2);
		if (m2 != m || d2 != d)
			return -EINVAL;                          /* 2023-02-30 */
		switch (unit) {
		case OBS_PU_HOUR: *idx = (uint32_t)(days * 24 + h); break;
		case OBS_PU_DAY:  *idx = (uint32_t)days; break;
		default:          *idx = (uint32_t)((y - 1970) * 12 + m - 1); break;
		}
	}
	return 0;
}

#endif
