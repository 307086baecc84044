/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bb_resp.h — burst_bench's responder mode (issue 13, bb_resp.c): the worker answers for
 * the whole bench telescope, its replies going to a net_null port (a TX sink that frees
 * what it is given, the cheapest possible ring), so the burst's cycles a packet carry the
 * SYN cookie, the SYN-ACK's build and checksums and the TX call of every clean SYN.
 */
#ifndef OBSCURA_BB_RESP_H
#define OBSCURA_BB_RESP_H

#include <stddef.h>

#include "conf.h"
#include "worker.h"

/* Bind w's responder: H = the telescope of c (its first sensor's prefixes), max_pps as
 * high as the key allows, a throw-away secret, TX on a net_null port made here, software
 * checksums unless offload is asked for (ol != 0).  0, or -1 with err filled. */
int bb_resp_setup(struct obs_worker *w, struct obs_conf *c, const struct obs_tel *tel,
                  char *err, size_t n);
/* "bb resp.* N" lines: what the responder did over the run (bench/run, report.py). */
void bb_resp_print(const struct obs_worker *w);

#endif
