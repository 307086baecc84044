/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * clock_ns.h — the wall and monotonic clocks in nanoseconds and a sleep in
 * milliseconds, for code off the packet path (the dataplane's main lcore, the epoch
 * slow paths, the control plane, the test tools).  The packet path keeps its TSC clock
 * (worker.h).  Any thread.
 */
#ifndef OBSCURA_CLOCK_NS_H
#define OBSCURA_CLOCK_NS_H

#include <stdint.h>
#include <time.h>

/* Wall clock (CLOCK_REALTIME), ns since the Unix epoch: what the exchange records. */
static inline uint64_t obs_wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Monotonic clock, ns: for deadlines and intervals. */
static inline uint64_t obs_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static inline void obs_sleep_ms(unsigned ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

#endif /* OBSCURA_CLOCK_NS_H */
