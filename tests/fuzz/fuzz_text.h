/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_text.h — for the fuzz targets that parse text (config, rule files): the input as
 * a NUL-terminated copy, since libFuzzer's buffer is neither terminated nor writable (the
 * snapshot and journal targets use it for a writable copy they can seal).
 */
#ifndef OBSCURA_FUZZ_TEXT_H
#define OBSCURA_FUZZ_TEXT_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* A malloc'ed NUL-terminated copy of data, or NULL when size exceeds max (the target
 * skips inputs larger than any real file it stands for) or memory is short. */
static inline char *obs_fuzz_text(const uint8_t *data, size_t size, size_t max)
{
	char *text;

	if (size > max || (text = malloc(size + 1)) == NULL)
		return NULL;
	memcpy(text, data, size);
	text[size] = '\0';
	return text;
}

#endif
