/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lifetime_int.h — the lifetime table's layout, shared by the files that implement
 * lifetime.h (lifetime.c: the table and grouping; life_stats.c: the figures;
 * life_save.c: the snapshot blob).  Nothing outside control/life/ includes it.
 */
#ifndef OBSCURA_CP_LIFETIME_INT_H
#define OBSCURA_CP_LIFETIME_INT_H

#include <stdint.h>

#include "htab.h"
#include "lifetime.h"

#define NS_S 1000000000ull

struct cp_life {
	struct cp_life_conf c;
	struct cp_life_src *src;      /* dense: sources 0..n-1 */
	uint32_t n, cap;
	struct cp_ht idx;             /* uint32 position + 1 of each source in src[] */
	uint64_t rng;
	uint64_t heap_bytes;          /* group arrays and spilled type arrays */
	struct cp_life_stats st;
};

#endif
