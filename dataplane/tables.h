/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tables.h — the RCU-managed holder of the dataplane's read-mostly tables (scanner
 * prefixes, RESIP set, exclusion prefixes, Hyperscan database; DESIGN.md "Read-mostly
 * tables ... replaced whole").
 *
 * A table is an immutable object behind one pointer per table id.  Who calls what:
 *
 *   main lcore (and only it): obs_tables_init() once before the workers start;
 *     obs_tables_swap(id, new, free_fn) to publish a freshly built table: it stores the
 *     new pointer (release) and retires the old one with an rte_rcu_qsbr token; the old
 *     table's free function runs once every online worker has reported a quiescent
 *     state after the store — from obs_tables_reclaim(), which the main loop calls
 *     (non-blocking: a worker waiting for the control plane in replay must not stall the
 *     main lcore, which answers the control plane's commands).  Only when
 *     OBS_TABLES_MAX_RETIRED tables are pending does a swap wait.
 *     obs_tables_fini() after the workers stopped frees every table.
 *
 *   each worker w: obs_tables_online(w) before its loop; once per burst loop
 *     obs_tables_get(id) at the top of the burst (one pointer for the whole burst) and
 *     obs_tables_quiescent(w) at the bottom, outside any use of a table pointer;
 *     obs_tables_offline(w) before it returns (so a finished worker never blocks a swap).
 *
 * Why that gives "never loses or double-counts a packet": a burst reads one table
 * pointer and classifies all its packets against that one table; the old table is freed
 * only after every worker has passed the end of the burst that may have used it.  A
 * packet is therefore counted exactly once, against the old table or the new one.
 *
 * To plug a table in: add an id to enum obs_table_id, build your immutable object on the
 * main lcore, obs_tables_swap() it in with its free function, read it in the worker with
 * obs_tables_get().  The holder never looks inside a table.
 */
#ifndef OBSCURA_TABLES_H
#define OBSCURA_TABLES_H

#include <stdatomic.h>
#include <stdint.h>

#include <rte_rcu_qsbr.h>

#include "exchange.h"

enum obs_table_id {
	OBS_TABLE_SCANNER = 0,   /* struct obs_scanner_tab (scanner_table.h) */
	OBS_TABLE_RESIP,         /* issue 4 */
	OBS_TABLE_EXCLUDE,       /* issue 5 */
	OBS_TABLE_RULES,         /* issue 5 */
	OBS_TABLE_CAPTURE,       /* struct obs_capture while a capture runs (capture.h) */
	OBS_TABLE_FP,            /* struct obs_fp_set (fingerprint.h), issue 14 */
	OBS_TABLE_N
};

typedef void (*obs_table_free_fn)(void *table);

#define OBS_TABLES_MAX_RETIRED 16

struct obs_tables_retired {
	void *t;
	obs_table_free_fn free_fn;
	uint64_t token;         /* rte_rcu_qsbr_start() at retirement */
};

struct obs_tables {
	struct rte_rcu_qsbr *qs;
	struct obs_tables_retired retired[OBS_TABLES_MAX_RETIRED];
	unsigned n_retired;
	uint32_t n_threads;
	_Atomic(void *) cur[OBS_TABLE_N];
	obs_table_free_fn free_fn[OBS_TABLE_N];
	uint64_t generation[OBS_TABLE_N];   /* swaps so far, per table (main lcore) */
	struct obx_table_versions *pub;     /* the exchange header's versions, or NULL */
};

extern struct obs_tables obs_tables;

/* Main lcore, before the workers start.  0 or -errno. */
int obs_tables_init(uint32_t n_workers);
/* Main lcore, after obs_tables_init(): from now on every swap that puts a table in use
 * counts its version in the exchange header (exchange.h struct obx_table_versions). */
void obs_tables_publish(struct obx_table_versions *v);
/* Main lcore, after the workers stopped: frees every table and the QSBR variable. */
void obs_tables_fini(void);

/* Main lcore: publish t (may be NULL: no table) for id and retire the old table (freed
 * with its free function after the grace period).  0, or -EINVAL (bad id). */
int obs_tables_swap(enum obs_table_id id, void *t, obs_table_free_fn free_fn);

/* Main lcore: free the retired tables whose grace period is over; returns how many. */
unsigned obs_tables_reclaim(void);

/* Workers. */
int obs_tables_online(uint32_t worker);
void obs_tables_offline(uint32_t worker);

static inline void *obs_tables_get(enum obs_table_id id)
{
	return atomic_load_explicit(&obs_tables.cur[id], memory_order_acquire);
}

static inline void obs_tables_quiescent(uint32_t worker)
{
	if (obs_tables.qs != NULL)
		rte_rcu_qsbr_quiescent(obs_tables.qs, worker);
}

#endif
