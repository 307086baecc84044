/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * order.h — the control plane's three-way comparison: CP_CMP for one key (records
 * ordered by several keys chain it), and qsort() callbacks for arrays of plain numbers.
 * Any thread; no state.
 */
#ifndef OBSCURA_CP_ORDER_H
#define OBSCURA_CP_ORDER_H

#include <stdint.h>

/* -1, 0 or 1 as x is below, equal to or above y (no overflow, unlike x - y). */
#define CP_CMP(x, y) (((x) > (y)) - ((x) < (y)))

static inline int cp_cmp_u16(const void *a, const void *b)
{
	return CP_CMP(*(const uint16_t *)a, *(const uint16_t *)b);
}

static inline int cp_cmp_u32(const void *a, const void *b)
{
	return CP_CMP(*(const uint32_t *)a, *(const uint32_t *)b);
}

static inline int cp_cmp_u64(const void *a, const void *b)
{
	return CP_CMP(*(const uint64_t *)a, *(const uint64_t *)b);
}

static inline int cp_cmp_double(const void *a, const void *b)
{
	return CP_CMP(*(const double *)a, *(const double *)b);
}

#endif
