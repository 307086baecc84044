/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * log.c — see log.h.  obs_logtype is written once by obs_log_init() on the main lcore
 * before any worker is launched, and only read afterwards.
 */
#include <stdio.h>

#include <rte_log.h>

#include "log.h"

static int obs_logtype = -1;

void obs_log_init(void)
{
	int t = rte_log_register_type_and_pick_level("obscura.dp", RTE_LOG_INFO);

	if (t >= 0)
		obs_logtype = t;
}

void obs_log(enum obs_log_level lvl, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (obs_logtype < 0) {
		static const char *const names[] = { "", "", "", "", "error", "warning",
		                                     "notice", "info", "debug" };
		fprintf(stderr, "obscura-dp: %s: %s\n", names[lvl], buf);
		return;
	}
	rte_log((uint32_t)lvl, (uint32_t)obs_logtype, "obscura.dp: %s\n", buf);
}
