/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cmd.h — the dataplane's command channel on the main lcore: the exchange's command
 * mailbox (cmdbox.h) and SIGHUP, both answered by reloading tables (tables.h).
 *
 * Main lcore only: obs_cmd_init() once after the exchange exists and before the workers
 * start (it loads the initial tables: a bad file then stops startup), obs_cmd_poll()
 * from the main loop (live: each 100 ms tick; replay: from the reader every few
 * thousand frames), obs_cmd_fini() after the workers stopped.  obs_cmd_hup() is the
 * async-signal-safe SIGHUP handler body.
 */
#ifndef OBSCURA_CMD_H
#define OBSCURA_CMD_H

#include "conf.h"
#include "exchange.h"

/* 0, or -errno when an initial table cannot be built (logged with the reason). */
int obs_cmd_init(struct obx_header *h, const struct obs_conf *c, uint32_t n_workers);
void obs_cmd_poll(void);
void obs_cmd_fini(void);
void obs_cmd_hup(void);

/* Reload the scanner table from path ("" = the configured file).  0, or -errno with msg
 * ("FILE:LINE: reason ... table not replaced"); the old table stays on error. */
int obs_cmd_reload_scanner(const char *path, char *msg, size_t msglen);
/* fingerprint (issue 14): reload tables.fingerprint_file; 0 or -errno with msg set */
int obs_cmd_reload_fp(char *msg, size_t msglen);

#endif
