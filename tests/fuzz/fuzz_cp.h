/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_cp.h — for the fuzz targets of the control plane's readers (snapshot, journal, ctl
 * requests): one struct cp set up as obscura-cp's main() does before it restores its
 * state — a one-sensor configuration, an empty store, every analysis of the registry
 * started (their snapshot sections, table consumers and commands registered) — and no
 * state_dir, sockets or dataplane.  Built once per process; the targets reset what they
 * change.  Only errors are logged (a fuzzer feeds mostly bad input, each warned of).
 */
#ifndef OBSCURA_FUZZ_CP_H
#define OBSCURA_FUZZ_CP_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control/analysis.h"
#include "control/cp.h"
#include "control/cp_log.h"
#include "control/report.h"

static const char obs_fuzz_cp_conf[] =
	"telescope:\n"
	"  sensors:\n"
	"    - name: alpha\n"
	"      prefixes: [203.0.113.0/24, 198.51.100.0/25]\n"
	"    - name: beta\n"
	"      prefixes: [192.0.2.0/24]\n";

static inline struct cp *obs_fuzz_cp(void)
{
	static struct cp cp;
	static int ready;
	char err[512];

	if (ready)
		return &cp;
	cp_log_set_level(CP_LOG_ERR);
	memset(&cp, 0, sizeof(cp));
	if (obs_conf_load_string(obs_fuzz_cp_conf, &cp.conf, err, sizeof(err)) != 0) {
		fprintf(stderr, "fuzz_cp: configuration: %s\n", err);
		abort();
	}
	cp.journal.fd = -1;
	if (cp_store_init(&cp.store) != 0 || cp_report_register_builtin(&cp.store) != 0 ||
	    cp_analyses_start(&cp) != 0) {
		fprintf(stderr, "fuzz_cp: cannot start the control plane's analyses\n");
		abort();
	}
	ready = 1;
	return &cp;
}

#endif
