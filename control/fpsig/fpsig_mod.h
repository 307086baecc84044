/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fpsig_mod.h — the SYN-signature analysis (issue 14; docs/fingerprints.md
 * "Signatures"): the consumer of exchange kind 7, snapshot section CP_SNAP_S_FPSIG, the
 * fingerprints.signatures command (cmd_fpsig.c), the ops table cp_analysis_fpsig.
 * Main loop only.
 */
#ifndef OBSCURA_CP_FPSIG_MOD_H
#define OBSCURA_CP_FPSIG_MOD_H

#include "commands.h"
#include "fpsig_store.h"

#define CP_SNAP_S_FPSIG 23

/* The analysis' table (valid between its init and fini). */
extern struct cp_fpsig_store cp_fpsig_table;
extern const struct cp_cmd cp_fpsig_commands[];
struct cp_analysis;
extern const struct cp_analysis cp_analysis_fpsig;

#endif
