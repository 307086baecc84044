/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * xchg.h — creating and mapping the exchange file (exchange.h), and what to do with the
 * file an earlier boot left behind.
 *
 * Main lcore only, at start and at exit; workers get the mapped header and never call
 * these.  No DPDK beyond logging.
 */
#ifndef OBSCURA_XCHG_H
#define OBSCURA_XCHG_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "clock_ns.h"
#include "conf.h"
#include "exchange.h"

struct obs_xchg {
	struct obx_header *h;   /* the MAP_SHARED mapping */
	size_t size;
	char path[OBS_CONF_STR];
};

/*
 * Deal with an exchange file already at path.  A file of a live obscura-dp is refused
 * (-EBUSY).  A file with READY slots (an earlier boot's undrained epochs) gets up to
 * wait_s seconds to be drained by the control plane; if it is still not drained it is
 * renamed to "<path>.prev-<boot id hex>" for the control plane to drain later — never
 * deleted.  A file that is not a valid exchange is renamed to "<path>.bad-<unix time>".
 * Otherwise it is left for obs_xchg_create() to replace atomically.  *stop (may be NULL)
 * cuts the wait short (signal).  Returns 0 or -errno.
 */
int obs_xchg_handle_old(const char *path, uint32_t wait_s, volatile sig_atomic_t *stop);

/*
 * Create the exchange for config c: "<path>.tmp-<pid>", sized and laid out by
 * obx_layout_init(), header filled (new random boot id, sensors, epoch length, port
 * names, dp_state STARTING), then renamed over path, so a reader never sees a half-built
 * file.  Returns 0 or -errno (the message is logged).
 */
/* |S| of the telescope (SPEC.md A), set by main before obs_xchg_create(): sizes the
 * BITMAP entries and is published in the header with the cells' L and period unit. */
extern uint32_t obs_xchg_cov_sample_size;
int obs_xchg_create(struct obs_xchg *x, const struct obs_conf *c, bool replay);

/* true when no slot of any worker is READY or FILLING */
bool obs_xchg_all_free(struct obx_header *h);

/*
 * Wait until every slot is FREE (the control plane drained them), up to timeout_s;
 * *stop cuts it short.  Returns 0 when drained, -ETIMEDOUT or -EINTR.
 */
int obs_xchg_wait_drained(struct obx_header *h, uint32_t timeout_s, volatile sig_atomic_t *stop);

void obs_xchg_set_state(struct obx_header *h, enum obx_dp_state s);

/* Unmap (the file stays: it is the control plane's input). */
void obs_xchg_close(struct obs_xchg *x);

#endif
