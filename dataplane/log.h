/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * log.h — obscura-dp logging: one rte_log type, "obscura.dp".
 *
 * Before rte_eal_init() (argument and config errors) messages go to stderr; after it,
 * obs_log_init() registers the type and everything goes through rte_log, so EAL's
 * --log-level=obscura.dp:debug works.  Any thread may log; the packet path must not
 * (it counts instead).
 */
#ifndef OBSCURA_LOG_H
#define OBSCURA_LOG_H

#include <stdarg.h>

enum obs_log_level { OBS_LOG_ERR = 4, OBS_LOG_WARNING = 5, OBS_LOG_NOTICE = 6,
                     OBS_LOG_INFO = 7, OBS_LOG_DEBUG = 8 };  /* = RTE_LOG_* */

/* Register the rte_log type; call once, on the main lcore, right after rte_eal_init. */
void obs_log_init(void);

void obs_log(enum obs_log_level lvl, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define OBS_ERR(...)    obs_log(OBS_LOG_ERR, __VA_ARGS__)
#define OBS_WARN(...)   obs_log(OBS_LOG_WARNING, __VA_ARGS__)
#define OBS_NOTICE(...) obs_log(OBS_LOG_NOTICE, __VA_ARGS__)
#define OBS_INFO(...)   obs_log(OBS_LOG_INFO, __VA_ARGS__)
#define OBS_DEBUG(...)  obs_log(OBS_LOG_DEBUG, __VA_ARGS__)

#endif
