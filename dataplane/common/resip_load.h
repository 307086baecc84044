/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * resip_load.h — the RESIP table (SPEC.md B) read from a file into an immutable, sorted,
 * deduplicated array of rows, the one truth both processes build from: the dataplane
 * turns it into an rte_hash (resip_table.c), the control plane reads providers and
 * addresses for the geography (control/resip_geo.c).  Pure C, no DPDK; any thread may
 * load; a loaded table is read-only and may be shared by readers.
 *
 * Formats (chosen by the file's content: an MMDB has MaxMind's metadata marker):
 *
 *   CSV   a header naming the columns ip, provider, first_seen, last_seen (any order,
 *         case-insensitive), then one row per line.  Blank lines and lines starting with
 *         '#' are ignored; CRLF is accepted; a field may be double-quoted ("" escapes ").
 *         Times: epoch seconds (digits only), or ISO 8601 date (YYYY-MM-DD) or date-time
 *         (YYYY-MM-DD[T ]HH:MM[:SS[.frac]] with Z, ±HH, ±HHMM or ±HH:MM; none = UTC).
 *         A date alone means the whole UTC day: 00:00:00 as first_seen, 23:59:59.999999999
 *         as last_seen.  IPv6 rows are skipped and counted (the telescope is IPv4).
 *   MMDB  MaxMind's residential-proxy schema: provider_name, network_last_seen (a date).
 *         first_seen is unknown, so the window is open at the start; a record without
 *         network_last_seen is open at the end.  Only the IPv4 part of the tree is read
 *         (::/96 of an IPv6 tree, where MaxMind places IPv4; the ::ffff:0:0/96 and 2002::/16
 *         aliases point at the same nodes and are not walked again).  Networks wider than
 *         /32 are expanded to their addresses, up to opts.max_addrs in total.
 *
 * One address may have rows for several providers and several windows per provider; the
 * union of its windows counts (SPEC.md B1).  Identical rows are merged and counted.
 *
 * Rejected lines (bad IP, bad date, window ending before it starts, missing fields, too
 * many fields, bad provider name) are counted by reason, and the first RESIP_REPORT_MSGS
 * are kept with their line number.  The load FAILS (NULL, err set, the caller keeps its old
 * table) when: the file is missing or unreadable; the header is missing or wrong; a
 * corrupt MMDB; more than RESIP_MAX_PROVIDERS providers; more than opts.max_rejected
 * rejected lines (default 0: a file with a bad line is refused as a whole, so a half-read
 * table never replaces a good one); or no row is left ("empty table": an empty table would
 * silently switch the analysis off — unset resip.table for that).
 */
#ifndef OBSCURA_RESIP_LOAD_H
#define OBSCURA_RESIP_LOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RESIP_MAX_PROVIDERS    64   /* a provider set is a uint64_t mask */
#define RESIP_PROVIDER_MAXLEN  63
#define RESIP_REPORT_MSGS      16
#define RESIP_T_OPEN_START     INT64_MIN
#define RESIP_T_OPEN_END       INT64_MAX
#define RESIP_DEFAULT_MAX_ADDRS (64u * 1024 * 1024)

enum resip_format { RESIP_FMT_CSV = 0, RESIP_FMT_MMDB = 1 };

enum resip_reject {
	RESIP_REJ_BAD_IP = 0,
	RESIP_REJ_BAD_DATE,
	RESIP_REJ_WINDOW,        /* last_seen < first_seen */
	RESIP_REJ_MISSING,       /* fewer than 4 fields, or an empty one */
	RESIP_REJ_TOO_MANY,      /* more than 4 fields */
	RESIP_REJ_BAD_PROVIDER,  /* empty, too long, or a control character */
	RESIP_REJ_N
};
const char *resip_reject_name(enum resip_reject r);

/* One row: one provider's observation window for one address, times in ns since the
 * epoch (UTC), both ends inclusive.  24 bytes. */
struct resip_row {
	int64_t first_ns;
	int64_t last_ns;
	uint32_t addr;        /* host byte order */
	uint8_t provider;     /* index into resip_table.providers */
};

/* One address: its rows are rows[row0 .. next address's row0). */
struct resip_addr {
	uint32_t addr;
	uint32_t row0;
	uint64_t providers;   /* bit i = providers[i] has a row for this address */
};

struct resip_load_report {
	uint64_t n_lines;          /* CSV lines read / MMDB networks visited */
	uint64_t n_rows_in;        /* rows accepted before deduplication */
	uint64_t n_duplicates;     /* identical rows merged */
	uint64_t n_ipv6;           /* IPv6 rows skipped */
	uint64_t n_expanded;       /* MMDB: addresses added by expanding networks wider than /32 */
	uint64_t n_rejected;
	uint64_t rejected[RESIP_REJ_N];
	unsigned n_msgs;
	char msgs[RESIP_REPORT_MSGS][160];   /* "line 12: bad IP '1.2.3'" */
};

struct resip_table {
	uint32_t n_rows;
	uint32_t n_addrs;
	uint32_t n_providers;
	enum resip_format format;
	struct resip_row *rows;      /* sorted by (addr, provider, first, last), unique */
	struct resip_addr *addrs;    /* sorted by addr, unique */
	char providers[RESIP_MAX_PROVIDERS][RESIP_PROVIDER_MAXLEN + 1];
	char path[256];
	struct resip_load_report rep;
};

struct resip_load_opts {
	uint64_t max_rejected;     /* refuse the file above this many rejected lines */
	uint64_t max_addrs;        /* cap on addresses (MMDB expansion); 0 = default */
};

/* Load path; on failure NULL with err set (and *rep filled as far as read, if rep != NULL). */
struct resip_table *resip_load(const char *path, const struct resip_load_opts *opts,
			       struct resip_load_report *rep, char *err, size_t errlen);
/* The CSV format from memory (data, size: the file's bytes; name stands for its path in
 * err and t->path): the parse resip_load() runs on a CSV file, and the entry of the
 * RESIP fuzz target.  MMDB is read from a path only. */
struct resip_table *resip_load_csv_mem(const char *name, const char *data, size_t size,
				       const struct resip_load_opts *opts,
				       struct resip_load_report *rep, char *err, size_t errlen);
void resip_table_free(struct resip_table *t);

/* Bytes held by the table (rows + addresses + the struct). */
size_t resip_table_bytes(const struct resip_table *t);

/* The address record of addr, or NULL (binary search; control plane and tests). */
const struct resip_addr *resip_find(const struct resip_table *t, uint32_t addr);

/* Providers (mask) whose window holds t_ns; with window_check false every provider of
 * the address.  Zero means "not RESIP traffic at this time" (SPEC.md B1). */
uint64_t resip_match(const struct resip_table *t, const struct resip_addr *a, int64_t t_ns,
		     bool window_check);

/* Parse one time field (see above); end_of_day selects the end of a date-only day. */
int resip_parse_time(const char *s, size_t n, bool end_of_day, int64_t *ns);

#endif
