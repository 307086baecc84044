/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cp_log.h — obscura-cp logging: one line per event on stderr, prefixed with a UTC
 * timestamp and the level, so a supervisor's log (journald, a test's file) can be read
 * and grepped without further framing.  The control plane is single-threaded; any
 * function may log.
 */
#ifndef OBSCURA_CP_LOG_H
#define OBSCURA_CP_LOG_H

enum cp_log_level { CP_LOG_ERR = 0, CP_LOG_WARN, CP_LOG_NOTICE, CP_LOG_INFO, CP_LOG_DEBUG };

/* Messages above this level are dropped (default CP_LOG_INFO). */
void cp_log_set_level(enum cp_log_level lvl);

void cp_log(enum cp_log_level lvl, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * A failure that repeats on every loop turn (a full disk, a flood of refused clients)
 * is logged at most once per interval by its own limiter: the first line at once, then
 * one line per interval saying how many like it were held back.  Zero-initialised.
 */
struct cp_log_rl {
	unsigned long long next_ns;        /* CLOCK_MONOTONIC before which lines are held */
	unsigned long long held;           /* held back since the last line */
};

void cp_log_rl(struct cp_log_rl *rl, unsigned interval_s, enum cp_log_level lvl,
               const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#define CP_ERR_RL(rl, s, ...)  cp_log_rl((rl), (s), CP_LOG_ERR, __VA_ARGS__)
#define CP_WARN_RL(rl, s, ...) cp_log_rl((rl), (s), CP_LOG_WARN, __VA_ARGS__)

#define CP_ERR(...)    cp_log(CP_LOG_ERR, __VA_ARGS__)
#define CP_WARN(...)   cp_log(CP_LOG_WARN, __VA_ARGS__)
#define CP_NOTICE(...) cp_log(CP_LOG_NOTICE, __VA_ARGS__)
#define CP_INFO(...)   cp_log(CP_LOG_INFO, __VA_ARGS__)
#define CP_DEBUG(...)  cp_log(CP_LOG_DEBUG, __VA_ARGS__)

#endif
