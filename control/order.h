/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * order.h — the control plane's three-way comparison: CP_CMP for one key (records
 * ordered by several keys chain it), and qsort() callbacks for arrays of plain numbers.
 * Any thread; no state.
 */
#ifndef OBSCURA_CP_ORDER_H
#define OBSCURA_CP_ORDER_H

#include <stdint.h>
#include <stdlib.h>

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

/*
 * Sort a[0..n) ascending and drop repeats in place; the count kept.  What a drained
 * record carries (a few slots, a few event types) is sorted per record: below 32 an
 * insertion sort, as qsort()'s call overhead (glibc: a merge sort through a function
 * pointer) cost 10 % of the control plane's time at replay rates.
 */
static inline uint32_t cp_sort_unique_u32(uint32_t *a, uint32_t n)
{
	uint32_t m = 0;

	if (n < 32) {
		for (uint32_t i = 1; i < n; i++) {
			uint32_t v = a[i], j = i;

			for (; j > 0 && a[j - 1] > v; j--)
				a[j] = a[j - 1];
			a[j] = v;
		}
	} else {
		qsort(a, n, sizeof(*a), cp_cmp_u32);
	}
	for (uint32_t i = 0; i < n; i++)
		if (m == 0 || a[m - 1] != a[i])
			a[m++] = a[i];
	return m;
}

#endif
