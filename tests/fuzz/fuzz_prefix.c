/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_prefix.c — libFuzzer target for obs_pfx_parse() (prefix_file.h), the loader of
 * the scanner table and exclusion lists.
 *
 * Any input parses (bad lines are counted, never fatal); every accepted prefix must
 * have no host bits and a length <= 32, every label index must be valid, the counts
 * must add up (accepted + skipped + rejected <= lines), and the report must hold at most
 * OBS_PFX_MAX_REPORT entries with line numbers inside the file — else abort.  Linked
 * into the plain replay test too, which runs tests/fuzz/corpus/prefix.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dataplane/common/prefix_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct obs_pfx_list l;

	if (size > (1u << 20))
		return 0;
	if (obs_pfx_parse((const char *)data, size, &l) != 0)
		return 0;   /* ENOMEM */
	for (size_t i = 0; i < l.n; i++) {
		const struct obs_pfx *p = &l.pfx[i];
		if (p->len > 32 || (p->len < 32 && (p->addr & (0xffffffffu >> p->len))))
			abort();
		if (p->label != OBS_PFX_NO_LABEL && p->label >= l.n_labels)
			abort();
		if (p->line == 0 || p->line > l.n_lines)
			abort();
		if (strlen(obs_pfx_label(&l, p)) > OBS_PFX_LABEL_MAX)
			abort();
	}
	if (l.n + l.n_skipped + l.n_rejected > l.n_lines || l.n_rej > OBS_PFX_MAX_REPORT ||
	    l.n_rej > l.n_skipped + l.n_rejected)
		abort();
	for (size_t i = 0; i < l.n_rej; i++)
		if (l.rej[i].line == 0 || l.rej[i].line > l.n_lines || l.rej[i].reason == NULL)
			abort();
	obs_pfx_list_free(&l);
	return 0;
}
