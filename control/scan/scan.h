/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * scan.h — continuous Internet-wide scanner detection, SPEC.md part A, over the
 * coverage store (covstore.h).
 *
 * For every block A and period t in the query's range (only cells of protocol proto):
 *   A1-2  port p is a scan target port of A in t iff |hits in S| / |S| >= alpha;
 *         P_t(A) is the set of them;
 *   A3    t is a wide-area period of A iff |P_t(A)| >= n;  T(A) = those periods;
 *   A4    A is a continuous wide-area scanner iff |T(A)| >= m;
 *   A5    Jaccard and Simpson over every unordered pair of T(A); J, S = their medians
 *         (an even number of pairs: the mean of the two middle values);
 *   A6    routine: J > J* and S > S*; semi-routine: J <= J* and S > S*; ad-hoc: S <= S*.
 *         With |T(A)| = 1 (possible only with m <= 1) there is no pair: J and S are
 *         undefined and the class is "unclassified".
 *   A7    country of the busiest /24 inside A (enrichment callbacks, below);
 *   A9    port popularity over the port sets P_t(x), t in T(x), of every routine and
 *         semi-routine block x;
 *   A10   Mirai share = Mirai SYNs / SYNs of A over the query's periods.
 *   A11   gamma: filled by the control plane from the responder's handshakes
 *         (respstore.h, scan_resp.c) after the analysis; scan_analyze() leaves it
 *         absent (has_gamma = false).
 *
 * Pure, single-threaded per result; allocates its results (scan_result_free()).
 */
#ifndef OBSCURA_CP_SCAN_H
#define OBSCURA_CP_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "covstore.h"

#define SCAN_NO_PERIOD UINT32_MAX

enum scan_class {
	SCAN_C_NONE = 0,        /* not a continuous wide-area scanner (|T(A)| < m) */
	SCAN_C_ROUTINE,
	SCAN_C_SEMI,
	SCAN_C_ADHOC,
	SCAN_C_UNCLASSIFIED,    /* continuous, but a single wide-area period: no pairs */
	SCAN_C_N
};

const char *scan_class_name(enum scan_class c);          /* "routine", "semi-routine", ... */
int scan_class_parse(const char *s, enum scan_class *c); /* 0 or -EINVAL */

struct scan_params {
	double   alpha;        /* coverage threshold, (0, 1] */
	uint32_t n;            /* ports for a wide-area period, >= 1 */
	uint32_t m;            /* wide-area periods for a continuous scanner, >= 1 */
	double   jstar, sstar; /* routine thresholds, [0, 1] */
	uint32_t from, to;     /* period range, inclusive; SCAN_NO_PERIOD = open end */
	uint32_t current;      /* the open (incomplete) period, or SCAN_NO_PERIOD */
	uint8_t  proto;        /* IP protocol of the cells analysed: 6 */
};

/* The paper's defaults: alpha 0.8, n 30, m 6, J* 0.8, S* 0.7, whole range, TCP. */
void scan_params_default(struct scan_params *p);
/* 0, or -EINVAL with *why naming the parameter out of range. */
int scan_params_check(const struct scan_params *p, const char **why);

/* Enrichment: any callback may be NULL (then: no country, no overlap). */
struct scan_enrich {
	void *ctx;
	/* busiest /24 inside [block, block + 2^(32-len)): 0 and *net24, *pkts, or -ENOENT */
	int (*busiest24)(void *ctx, uint32_t block, uint8_t len, uint32_t *net24, uint64_t *pkts);
	/* ISO country of an address: 0, or -ENOENT */
	int (*country)(void *ctx, uint32_t addr, char cc[3]);
	/* label of a scanner-table prefix overlapping the block, or NULL */
	const char *(*scanner)(void *ctx, uint32_t block, uint8_t len);
};

struct scan_pset {              /* one period of one block */
	uint32_t period;
	uint32_t n_ports;           /* |P_t(A)| */
	uint16_t *ports;            /* P_t(A), ascending */
	uint64_t syns, mirai;
	uint32_t n_cells;           /* destination ports with any SYN */
	bool wide;                  /* t in T(A) */
	bool has_gamma;             /* A11: the responder answered in t (and H is set) */
	uint32_t n_app;             /* ports of P_t(A) application-layer scanned */
	double gamma;               /* n_app / n_ports (0 when n_ports is 0) */
};

struct scan_block {
	uint32_t block;
	uint32_t n_wide;            /* |T(A)| */
	uint32_t first, last;       /* first/last period of T(A) */
	uint32_t pmax, pmin;        /* max/min |P_t(A)| over T(A) */
	uint64_t n_pairs;
	double   j, s;              /* medians; valid when n_pairs > 0 */
	enum scan_class cls;
	uint64_t syns, mirai;       /* over the query's periods */
	double   mirai_share;
	bool     has_country;
	char     cc[3];
	bool     has_busiest;
	uint32_t busiest24;
	uint64_t busiest24_pkts;
	const char *scanner_label;  /* NULL: no overlap with the scanner table */
	bool     partial;           /* T(A) includes the open period */
	bool     has_gamma;         /* A11: some period of T(A) had the responder on */
	uint32_t gamma_ports;       /* sum of |P_t(A)| over those periods */
	uint32_t gamma_app;         /* sum of their application-layer scanned ports */
	double   gamma;             /* gamma_app / gamma_ports (0 when gamma_ports is 0) */
	uint32_t n_psets;           /* the wide-area periods, ascending */
	struct scan_pset *psets;
};

struct scan_pop {
	uint16_t port;
	uint32_t sets;              /* port sets containing it */
	double   share;             /* sets / n_port_sets */
};

struct scan_result {
	struct scan_params p;
	uint32_t sample_size;       /* |S| */
	uint8_t  block_len;         /* L (fixed by the dataplane's cells) */
	uint8_t  unit;              /* period unit */
	bool     partial;           /* the range includes the open period */
	uint64_t n_cells;           /* cells analysed */
	size_t   n_blocks;          /* blocks with at least one wide-area period */
	struct scan_block *blocks;  /* ascending by block; cls NONE when not continuous */
	size_t   n_continuous;
	size_t   n_by_class[SCAN_C_N];
	uint64_t n_port_sets;       /* A9 denominator */
	size_t   n_pop;             /* ports in at least one counted set */
	struct scan_pop *pop;       /* by share descending, then port ascending */
	char     note[512];         /* a line the caller gives the report's Markdown tables,
	                             * under their title (the control plane: the loss stamp
	                             * of the periods covered); "" for none */
	char     stamp[2048];       /* lines the caller gives the CSV and SVG files (the control
	                             * plane: the loss stamp's text, integrity.h
	                             * cp_integ_stamp_text()): a CSV's leading '#' lines, an
	                             * SVG's <desc> and visible lines; "" for none */
};

/* Run the analysis.  0, -EINVAL (bad params), -ENOMEM.  out is filled on success. */
int scan_analyze(const struct cov_store *cs, const struct scan_params *p,
                 const struct scan_enrich *en, struct scan_result *out);
void scan_result_free(struct scan_result *r);

/*
 * One block's periods in the range (SPEC.md A figure "port set per period"): every
 * period with a cell of the block, with P_t(A) and whether it is wide-area, ascending.
 * *out (caller frees with scan_psets_free) may be empty.  0, -EINVAL, -ENOMEM.
 */
int scan_block_periods(const struct cov_store *cs, const struct scan_params *p, uint32_t block,
                       struct scan_pset **out, size_t *n);
void scan_psets_free(struct scan_pset *ps, size_t n);

/* Coverage of one cell: hits / |S| (A2's estimate). */
double scan_coverage(const struct cov_store *cs, const struct cov_cell *c);

#endif
