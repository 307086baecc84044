/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cp_log.c — stderr logger with UTC timestamps (cp_log.h).
 *
 * Each message is formatted into one buffer and written with a single write(2), so lines
 * from the daemon never interleave mid-line with anything else writing to the same file.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cp_log.h"

static enum cp_log_level cp_log_max = CP_LOG_INFO;

static const char *const cp_log_names[] = { "ERROR", "WARN", "NOTICE", "INFO", "DEBUG" };

void cp_log_set_level(enum cp_log_level lvl)
{
	cp_log_max = lvl;
}

void cp_log(enum cp_log_level lvl, const char *fmt, ...)
{
	char buf[2048];
	struct timespec ts;
	struct tm tm;
	size_t n;
	va_list ap;
	int r;

	if (lvl > cp_log_max)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
	r = snprintf(buf + n, sizeof(buf) - n, ".%03ldZ obscura-cp %s: ",
	             ts.tv_nsec / 1000000, cp_log_names[lvl <= CP_LOG_DEBUG ? lvl : CP_LOG_DEBUG]);
	if (r > 0)
		n += (size_t)r;
	va_start(ap, fmt);
	r = vsnprintf(buf + n, sizeof(buf) - n, fmt, ap);
	va_end(ap);
	if (r > 0)
		n += (size_t)r;
	if (n > sizeof(buf) - 2)
		n = sizeof(buf) - 2;
	buf[n++] = '\n';
	if (write(STDERR_FILENO, buf, n) < 0) {
		/* nowhere left to report it */
	}
}

void cp_log_rl(struct cp_log_rl *rl, unsigned interval_s, enum cp_log_level lvl,
               const char *fmt, ...)
{
	char msg[1800];
	struct timespec ts;
	unsigned long long now;
	va_list ap;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (unsigned long long)ts.tv_sec * 1000000000ull + (unsigned long long)ts.tv_nsec;
	if (rl->next_ns != 0 && now < rl->next_ns) {
		rl->held++;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (rl->held != 0)
		cp_log(lvl, "%s (and %llu more like it in the last %u s)", msg, rl->held,
		       interval_s);
	else
		cp_log(lvl, "%s", msg);
	rl->held = 0;
	rl->next_ns = now + (unsigned long long)interval_s * 1000000000ull;
}
