/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * grow.h — the one growth rule of the control plane's arrays and byte buffers: doubling
 * (from a first capacity) until what is needed fits, so n appends cost O(n) copies; and
 * the one append-only byte buffer (snapshot bodies, blobs, reply lines) built on it.
 * Any thread; no state.
 */
#ifndef OBSCURA_CP_GROW_H
#define OBSCURA_CP_GROW_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/*
 * Room for need elements of elem bytes in p, which holds *cap: p itself when it has
 * it, else p reallocated to the doubled capacity (at least first) and *cap updated.
 * NULL on a failed allocation or an overflow, with p and *cap unchanged (p still owned
 * by the caller).
 */
static inline void *cp_grow(void *p, size_t *cap, size_t need, size_t elem, size_t first)
{
	size_t c = *cap ? *cap : first;
	void *n;

	if (need <= *cap)
		return p;
	while (c < need) {
		if (c > SIZE_MAX / 2)
			return NULL;
		c *= 2;
	}
	if (elem != 0 && c > SIZE_MAX / elem)
		return NULL;
	n = realloc(p, c * elem);
	if (n != NULL)
		*cap = c;
	return n;
}

/* Bytes appended one piece after another; out of memory is sticky (oom), so a builder
 * appends unchecked and looks once at the end.  Zero-initialise; free(p) when done. */
struct cp_buf {
	uint8_t *p;
	size_t len, cap;
	bool oom;
};

static inline void cp_buf_put(struct cp_buf *b, const void *data, size_t n)
{
	uint8_t *p;

	if (b->oom || n == 0)
		return;
	p = cp_grow(b->p, &b->cap, b->len + n, 1, 4096);
	if (p == NULL) {
		b->oom = true;
		return;
	}
	b->p = p;
	memcpy(b->p + b->len, data, n);
	b->len += n;
}

#endif
