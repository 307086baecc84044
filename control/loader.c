/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * loader.c — a function on a thread of its own, collected by the main loop (loader.h).
 */
#include <errno.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "loader.h"

static void *cp_loader_main(void *p)
{
	struct cp_loader *l = p;

	/* the loop that serves clients goes first when CPUs are short (a thread's own nice
	 * value on Linux; raising it needs no privilege) */
	if (setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), 10) != 0) {
		/* no lower priority: the read still happens */
	}
	l->result = l->fn(l->arg);
	atomic_store_explicit(&l->done, 1, memory_order_release);
	return NULL;
}

int cp_loader_start(struct cp_loader *l, void *(*fn)(void *arg), void *arg)
{
	int rc;

	if (l->running)
		return -EBUSY;
	l->fn = fn;
	l->arg = arg;
	l->result = NULL;
	atomic_store_explicit(&l->done, 0, memory_order_relaxed);
	rc = pthread_create(&l->th, NULL, cp_loader_main, l);
	if (rc != 0)
		return -rc;
	l->running = true;
	return 0;
}

bool cp_loader_done(struct cp_loader *l, void **result)
{
	if (!l->running || !atomic_load_explicit(&l->done, memory_order_acquire))
		return false;
	pthread_join(l->th, NULL);
	l->running = false;
	*result = l->result;
	return true;
}

void *cp_loader_wait(struct cp_loader *l)
{
	if (!l->running)
		return NULL;
	pthread_join(l->th, NULL);
	l->running = false;
	return l->result;
}
