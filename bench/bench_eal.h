/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bench_eal.h — the EAL start of the bench programs: the arguments after "--" when the
 * command line has them (argv[eal_at] is "--"), else the program's defaults.
 */
#ifndef OBSCURA_BENCH_EAL_H
#define OBSCURA_BENCH_EAL_H

#include <stdio.h>

#include <rte_eal.h>
#include <rte_errno.h>

/* 0, or -1 with the reason printed under the program's name. */
static inline int bench_eal_init(const char *who, int argc, char **argv, int eal_at,
                                 char **def, int n_def)
{
	int ret;

	if (eal_at < argc) {
		argv[eal_at] = argv[0];
		ret = rte_eal_init(argc - eal_at, argv + eal_at);
	} else {
		ret = rte_eal_init(n_def, def);
	}
	if (ret < 0) {
		fprintf(stderr, "%s: EAL init failed: %s\n", who, rte_strerror(rte_errno));
		return -1;
	}
	return 0;
}

#endif
