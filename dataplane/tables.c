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

void obs_tables_fini(void)
{
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
	if (old != NULL) {
		/* every online worker passes a quiescent state after the exchange above:
		 * no burst still holds old */
		if (obs_tables.qs != NULL)
			rte_rcu_qsbr_synchronize(obs_tables.qs, RTE_QSBR_THRID_INVALID);
		if (old_free != NULL)
			old_free(old);
	}
	return 0;
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
