/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * scanner_table.h — the scanner table in the dataplane (SPEC.md vocabulary "scanner
 * table"): labelled prefixes from a file (prefix_file.h) in an rte_lpm, looked up per
 * source to flag scanner sources and count their packets.
 *
 * Built on the main lcore (obs_scanner_build), immutable afterwards, published and
 * retired through the RCU holder (tables.h, OBS_TABLE_SCANNER).  Workers only call
 * obs_scanner_lookup_bulk() on the pointer they got from obs_tables_get().
 *
 * Reload policy: a file that cannot be read, has any rejected line, or has no prefix is
 * refused (the caller keeps the old table): a bad file never replaces a good table.
 * IPv6 lines are skipped and reported, not refused (the published lists mix them).
 */
#ifndef OBSCURA_SCANNER_TABLE_H
#define OBSCURA_SCANNER_TABLE_H

#include <stddef.h>
#include <stdint.h>

/* rte_lpm_lookup_bulk() is inline and sizes an array by its argument */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wvla"
#include <rte_lpm.h>
#pragma GCC diagnostic pop

#include "prefix_file.h"

#define OBS_SCANNER_NO_HIT UINT32_MAX

struct obs_scanner_tab {
	struct rte_lpm *lpm;        /* next hop: label index + 1 (0: no label) */
	struct obs_pfx_list list;   /* prefixes and labels, for reports */
	uint64_t generation;
	char path[256];
};

/* Build from path.  NULL with err set ("PATH:LINE: reason (N rejected lines)") when the
 * file is unreadable, has rejected lines or holds no IPv4 prefix. */
struct obs_scanner_tab *obs_scanner_build(const char *path, char *err, size_t errlen);
void obs_scanner_free(void *tab);

/* hits[i] = 1 when addr[i] (host order) lies in a scanner prefix, else 0. */
static inline void obs_scanner_lookup_bulk(const struct obs_scanner_tab *t, const uint32_t *addr,
                                           uint32_t *hop, unsigned n)
{
	rte_lpm_lookup_bulk(t->lpm, addr, hop, n);
}

static inline int obs_scanner_hit(uint32_t hop)
{
	return (hop & RTE_LPM_LOOKUP_SUCCESS) != 0;
}

#endif
