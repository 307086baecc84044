/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_rules.c — libFuzzer target for obs_rules_load() (dataplane/rules.h) on a text
 * buffer: any input loads (rejected lines counted) or fails with a message; the counts
 * must add up (accepted == rules in the database), and a scan of the input itself with
 * the compiled database must not fail.  Its corpus (tests/fuzz/corpus/rules) replays in
 * the plain unit run.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dataplane/rules.h"
#include "fuzz_text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct obs_rules_src src = { "fuzz.rules", NULL };
	struct obs_rules *r;
	hs_scratch_t *s = NULL;
	char err[256], *text;
	int n;

	text = obs_fuzz_text(data, size, (64u << 10));
	if (text == NULL)
		return 0;
	src.text = text;
	r = obs_rules_load(&src, 1, NULL, NULL, err, sizeof(err));
	if (r != NULL) {
		const struct obs_rules_stats *st = obs_rules_stats(r);

		if (st->n_accepted != obs_rules_count(r))
			abort();
		if (obs_rules_scratch_clone(r, &s) != 0)
			abort();
		n = obs_rules_scan(r, s, data, (uint32_t)size, 6, 80, NULL, NULL);
		if (n < 0 && n != -ENOSPC && !(s == NULL && obs_rules_count(r) == 0))
			abort();
		obs_rules_scratch_free(s);
		obs_rules_free(r);
	}
	free(text);
	return 0;
}
