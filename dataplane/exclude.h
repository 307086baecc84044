/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * exclude.h — exclusion lists in the dataplane (SPEC.md C: assessment vendors, CDNs, own
 * networks "remove sources before analysis and are counted separately").  Prefix files
 * (prefix_file.h format, config `exclude.files`) merged into one rte_lpm, published and
 * retired through the RCU holder (tables.h, OBS_TABLE_EXCLUDE).
 *
 * An excluded source's packets count in excluded_packets, its SRC records carry
 * OBX_SRC_F_EXCLUDED, and it gets no EVENT records (events.h says why SRC stays).
 *
 * Built on the main lcore (obs_exclude_build); workers only call obs_exclude_lookup_bulk()
 * on the pointer obs_tables_get() gave them for the burst.  Reload policy as the scanner
 * table: an unreadable file, any rejected line, or a /0 refuses the whole build (the
 * caller keeps the old table); IPv6 lines are skipped and counted.
 *
 * The /16 prefilter of scanner_table.h (issue 6) sits in front of the rte_lpm: bit a >> 16
 * is set for every /16 a listed prefix meets; a source outside all of them gets hop 0
 * without an LPM probe, the same value rte_lpm would give (scanner_table.h says why).
 */
#ifndef OBSCURA_EXCLUDE_H
#define OBSCURA_EXCLUDE_H

#include <stddef.h>
#include <stdint.h>

#include <rte_lpm.h>

#include "prefix_file.h"
#include "scanner_table.h"      /* the /16 prefilter: obs_pf16_* */

#define OBS_EXCLUDE_MAX_FILES 16

struct obs_exclude_tab {
	struct rte_lpm *lpm;        /* next hop: file index */
	uint32_t n_files;
	uint64_t n_prefixes;
	uint64_t n_skipped;         /* IPv6 lines */
	char path[OBS_EXCLUDE_MAX_FILES][256];
	uint64_t file_prefixes[OBS_EXCLUDE_MAX_FILES];
	uint64_t pf16[OBS_PF16_WORDS];  /* bit a >> 16: some prefix intersects that /16 */
};

/* NULL with err set ("PATH:LINE: reason") when a file is refused; with n == 0 the table
 * is empty (nothing excluded) and still valid. */
struct obs_exclude_tab *obs_exclude_build(const char *const *paths, unsigned n, char *err,
                                          size_t errlen);
void obs_exclude_free(void *tab);

/* hop[i] has RTE_LPM_LOOKUP_SUCCESS when addr[i] (host order) is excluded. */
static inline void obs_exclude_lookup_bulk(const struct obs_exclude_tab *t, const uint32_t *addr,
                                           uint32_t *hop, unsigned n)
{
	if (t->lpm == NULL) {
		for (unsigned i = 0; i < n; i++)
			hop[i] = 0;
		return;
	}
	obs_pf16_lpm_lookup_bulk(t->lpm, t->pf16, addr, hop, n);
}

static inline int obs_exclude_hit(uint32_t hop)
{
	return (hop & RTE_LPM_LOOKUP_SUCCESS) != 0;
}

#endif
