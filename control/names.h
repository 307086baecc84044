/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * names.h — an enum's names as an array indexed by its values: the name of a value, and
 * the value of a name (the words of commands and configuration).  Any thread; no state.
 */
#ifndef OBSCURA_CP_NAMES_H
#define OBSCURA_CP_NAMES_H

#include <string.h>

/* names[v], or "?" for a value past the n names. */
static inline const char *cp_name_of(const char *const *names, unsigned n, unsigned v)
{
	return v < n ? names[v] : "?";
}

/* The index of s among the n names, -1 when it is none of them. */
static inline int cp_name_find(const char *const *names, unsigned n, const char *s)
{
	for (unsigned i = 0; i < n; i++)
		if (strcmp(s, names[i]) == 0)
			return (int)i;
	return -1;
}

#endif
