/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * resip_dp.c — load, build and swap the dataplane's RESIP table (resip_dp.h).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_lcore.h>

#include "log.h"
#include "resip_dp.h"
#include "resip_load.h"
#include "resip_table.h"
#include "tables.h"

static struct {
	char path[OBS_CONF_STR];
	bool window_check;
} R;

void obs_resip_dp_conf(const struct obs_conf *c)
{
	snprintf(R.path, sizeof(R.path), "%s", c->resip_table);
	R.window_check = c->resip_window_check;
}

int obs_resip_reload(const char *path, char *msg, size_t msglen)
{
	struct resip_load_report rep;
	struct resip_table *t;
	struct obs_resip_tab *tab;
	char err[384];

	if (path == NULL || path[0] == '\0')
		path = R.path;
	if (path[0] == '\0') {
		snprintf(msg, msglen, "resip: none configured (resip.table)");
		return 0;
	}
	memset(&rep, 0, sizeof(rep));
	t = resip_load(path, NULL, &rep, err, sizeof(err));
	if (t == NULL) {
		snprintf(msg, msglen, "resip table %s refused, old table kept: %s", path, err);
		OBS_WARN("%s", msg);
		return -EINVAL;
	}
	tab = obs_resip_tab_build(t, R.window_check, (int)rte_socket_id(), err, sizeof(err));
	if (tab == NULL) {
		snprintf(msg, msglen, "resip table %s: cannot build the hash, old table kept: %s",
		         path, err);
		OBS_WARN("%s", msg);
		resip_table_free(t);
		return -ENOMEM;
	}
	obs_tables_swap(OBS_TABLE_RESIP, tab, obs_resip_tab_free);
	snprintf(msg, msglen, "resip table %s: %u addresses, %u rows, %u providers, %llu "
	         "duplicates merged, %llu IPv6 skipped, window check %s (generation %llu)",
	         path, t->n_addrs, t->n_rows, t->n_providers,
	         (unsigned long long)t->rep.n_duplicates, (unsigned long long)t->rep.n_ipv6,
	         R.window_check ? "on" : "off",
	         (unsigned long long)obs_tables.generation[OBS_TABLE_RESIP]);
	OBS_NOTICE("%s", msg);
	resip_table_free(t);
	return 0;
}
