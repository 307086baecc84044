/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tables.c — RCU holder of the read-mostly tables; see tables.h for who calls what.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_malloc.h>

#include "log.h"
#include "tables.h"

struct obs_tables obs_tables;

int obs_tables_init(uint32_t n_workers)
{
	size_t sz;

	memset(&obs_tables, 0, sizeof(obs_tables));
	if (n_workers == 0)
		return -EINVAL;
	sz = rte_rcu_qsbr_get_memsize(n_workers);
	obs_tables.qs = rte_zmalloc("obs_tables_qsbr", sz, RTE_CACHE_LINE_SIZE);
	if (obs_tables.qs == NULL)
		return -ENOMEM;
	if (rte_rcu_qsbr_init(obs_tables.qs, n_workers) != 0) {
		rte_free(obs_tables.qs);
		obs_tables.qs = NULL;
		return -rte_errno;
	}
	obs_tables.n_threads = n_workers;
	return 0;
}

/* Each table's word in the header's versions; the capture is not a table of rows. */
static const int obs_tables_tver[OBS_TABLE_N] = {
	[OBS_TABLE_SCANNER] = OBX_TVER_SCANNER, [OBS_TABLE_RESIP] = OBX_TVER_RESIP,
	[OBS_TABLE_EXCLUDE] = OBX_TVER_EXCLUDE, [OBS_TABLE_RULES] = OBX_TVER_RULES,
	[OBS_TABLE_CAPTURE] = -1, [OBS_TABLE_FP] = OBX_TVER_FP,
};

void obs_tables_publish(struct obx_table_versions *v)
{
	obs_tables.pub = v;
}

/* A table was put in use (t != NULL): its next version, in the header when published. */
static void obs_tables_count_version(enum obs_table_id id)
{
	struct obx_table_versions *v = obs_tables.pub;
	int k = obs_tables_tver[id];

	if (v == NULL || k < 0)
		return;
	atomic_store_explicit(&v->version[k],
	                      atomic_load_explicit(&v->version[k], memory_order_relaxed) + 1,
	                      memory_order_release);
}

void obs_tables_fini(void)
{
	/* the workers have stopped: nothing holds a retired table any more */
	for (unsigned i = 0; i < obs_tables.n_retired; i++)
		if (obs_tables.retired[i].free_fn != NULL)
			obs_tables.retired[i].free_fn(obs_tables.retired[i].t);
	obs_tables.n_retired = 0;
	for (unsigned i = 0; i < OBS_TABLE_N; i++) {
		void *t = atomic_exchange(&obs_tables.cur[i], NULL);
		if (t != NULL && obs_tables.free_fn[i] != NULL)
			obs_tables.free_fn[i](t);
	}
	rte_free(obs_tables.qs);
	memset(&obs_tables, 0, sizeof(obs_tables));
}

int obs_tables_swap(enum obs_table_id id, void *t, obs_table_free_fn free_fn)
{
	void *old;
	obs_table_free_fn old_free;

	if ((unsigned)id >= OBS_TABLE_N)
		return -EINVAL;
	old = atomic_exchange_explicit(&obs_tables.cur[id], t, memory_order_acq_rel);
	old_free = obs_tables.free_fn[id];
	obs_tables.free_fn[id] = free_fn;
	obs_tables.generation[id]++;
	if (t != NULL)
		obs_tables_count_version(id);
	if (old == NULL)
		return 0;
	if (obs_tables.qs == NULL) {
		if (old_free != NULL)
			old_free(old);
		return 0;
	}
	/* retire: free once every online worker has passed a quiescent state after the
	 * exchange above (token from rte_rcu_qsbr_start) */
	if (obs_tables.n_retired == OBS_TABLES_MAX_RETIRED) {
		/* too many pending: wait for the oldest (bounded by one burst loop) */
		rte_rcu_qsbr_check(obs_tables.qs, obs_tables.retired[0].token, true);
		obs_tables_reclaim();
	}
	if (obs_tables.n_retired == OBS_TABLES_MAX_RETIRED) {
		rte_rcu_qsbr_synchronize(obs_tables.qs, RTE_QSBR_THRID_INVALID);
		obs_tables_reclaim();
	}
	obs_tables.retired[obs_tables.n_retired].t = old;
	obs_tables.retired[obs_tables.n_retired].free_fn = old_free;
	obs_tables.retired[obs_tables.n_retired].token = rte_rcu_qsbr_start(obs_tables.qs);
	obs_tables.n_retired++;
	obs_tables_reclaim();
	return 0;
}

unsigned obs_tables_reclaim(void)
{
	unsigned k = 0, freed = 0;

	for (unsigned i = 0; i < obs_tables.n_retired; i++) {
		struct obs_tables_retired *r = &obs_tables.retired[i];
		if (obs_tables.qs == NULL || rte_rcu_qsbr_check(obs_tables.qs, r->token, false) == 1) {
			if (r->free_fn != NULL)
				r->free_fn(r->t);
			freed++;
		} else {
			obs_tables.retired[k++] = *r;
		}
	}
	obs_tables.n_retired = k;
	return freed;
}

int obs_tables_online(uint32_t worker)
{
	int rc;

	if (obs_tables.qs == NULL)
		return 0;
	rc = rte_rcu_qsbr_thread_register(obs_tables.qs, worker);
	if (rc != 0)
		return -rte_errno;
	rte_rcu_qsbr_thread_online(obs_tables.qs, worker);
	return 0;
}

void obs_tables_offline(uint32_t worker)
{
	if (obs_tables.qs == NULL)
		return;
	rte_rcu_qsbr_thread_offline(obs_tables.qs, worker);
	rte_rcu_qsbr_thread_unregister(obs_tables.qs, worker);
}
