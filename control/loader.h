/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * loader.h — one function run on a thread of its own, its result collected by the main
 * loop: how the control plane reads a large table file (its RESIP copy: millions of
 * rows, seconds) without blocking its loop.
 *
 * The control plane's state stays single-threaded: the function gets its own inputs
 * (copied by the caller) and returns a result nothing else sees until the main loop has
 * collected it (cp_loader_done: an acquire load of the thread's release store, then the
 * join).  The function must touch nothing the main loop uses.
 *
 * Main loop only, for the start/done/wait calls.
 */
#ifndef OBSCURA_CP_LOADER_H
#define OBSCURA_CP_LOADER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

struct cp_loader {
	pthread_t th;
	bool running;              /* started, not collected yet */
	_Atomic int done;          /* set by the thread once fn returned */
	void *(*fn)(void *arg);
	void *arg;
	void *result;
};

/* Start fn(arg).  0, -EBUSY (one is running), -errno (no thread). */
int cp_loader_start(struct cp_loader *l, void *(*fn)(void *arg), void *arg);
/* true once fn returned: the thread is joined, *result is what it returned. */
bool cp_loader_done(struct cp_loader *l, void **result);
/* Wait for a running one (shutdown): its result, or NULL when none ran. */
void *cp_loader_wait(struct cp_loader *l);

static inline bool cp_loader_busy(const struct cp_loader *l)
{
	return l->running;
}

#endif
