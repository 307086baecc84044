/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_conf.c — libFuzzer target for obs_conf_load_string() (conf.h).
 *
 * Any input either fails with a "<string>..." message or loads; a loaded config must
 * survive dump -> load and compare equal (the -n round trip), else abort.  Linked
 * into the plain replay test too, which runs tests/fuzz/corpus/conf.  Build as in
 * fuzz_parse.c; crash-u2028-fold.yaml in the corpus is its first find (U+2028 inside
 * a quoted string was folded to a line break on re-load).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dataplane/common/conf.h"
#include "fuzz_text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct obs_conf a, b;
	char err[512];
	char *text, *dump = NULL;
	size_t dlen = 0;
	FILE *f;

	text = obs_fuzz_text(data, size, (1u << 20));
	if (text == NULL)
		return 0;
	err[0] = '\0';
	if (obs_conf_load_string(text, &a, err, sizeof(err)) != 0) {
		if (strncmp(err, "<string>", 8) != 0)
			abort();
		free(text);
		return 0;
	}
	f = open_memstream(&dump, &dlen);
	if (f == NULL)
		abort();
	obs_conf_dump(&a, f);
	fclose(f);
	if (obs_conf_load_string(dump, &b, err, sizeof(err)) != 0 || !obs_conf_equal(&a, &b))
		abort();
	free(dump);
	free(text);
	return 0;
}
