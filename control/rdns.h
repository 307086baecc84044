/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rdns.h — reverse-DNS (PTR) names for the RESIP geography (SPEC.md B3), from an operator
 * file and/or live through the resolver with c-ares.  Control plane only; not
 * thread-safe (one struct per thread); never called per packet.
 *
 * Operator file: one "ip name" or "ip,name" per line, '#' comments; the file wins over a
 * live answer.  Live: PTR queries (in-addr.arpa, DNS only — never /etc/hosts) to the
 * system resolver (/etc/resolv.conf) or to the servers given ("127.0.0.1:5353,..."),
 * rate-limited (queries per second, token bucket) and bounded per call by a time budget;
 * answers and NXDOMAINs are cached for the life of the struct, transient failures
 * (timeouts, SERVFAIL, REFUSED) are not, so a later call tries again.
 */
#ifndef OBSCURA_RDNS_H
#define OBSCURA_RDNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cp_rdns;

struct cp_rdns_opts {
	const char *file;        /* operator PTR file, NULL or "" for none */
	bool live;               /* query the resolver for addresses the file lacks */
	const char *servers;     /* NULL: system resolver; else c-ares "host:port,..." */
	double rate;             /* queries per second (default 50) */
	unsigned timeout_ms;     /* per query try (default 2000) */
	unsigned max_inflight;   /* default 32 */
};

struct cp_rdns_stats {
	uint64_t n_file;         /* names from the operator file */
	uint64_t n_cached;       /* answered from the cache (positive or negative) */
	uint64_t n_queries;      /* PTR queries sent */
	uint64_t n_answers;      /* names received */
	uint64_t n_nxdomain;     /* no PTR (cached) */
	uint64_t n_failed;       /* timeouts, SERVFAIL, REFUSED... (not cached) */
	uint64_t n_deferred;     /* not asked: the time budget ran out */
};

struct cp_rdns *cp_rdns_open(const struct cp_rdns_opts *o, char *err, size_t errlen);
void cp_rdns_close(struct cp_rdns *r);

/* Resolve addrs[0..n) (host byte order) within budget_ms (0: no live queries, file and
 * cache only).  names[i] points into the struct (valid until close) or is NULL when no
 * name is known.  Returns the number of names found. */
size_t cp_rdns_resolve(struct cp_rdns *r, const uint32_t *addrs, size_t n, const char **names,
		       unsigned budget_ms);

/* One address, file and cache only (no query). */
const char *cp_rdns_cached(struct cp_rdns *r, uint32_t addr);

const struct cp_rdns_stats *cp_rdns_stats(const struct cp_rdns *r);
size_t cp_rdns_file_entries(const struct cp_rdns *r);

#endif
