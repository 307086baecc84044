/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * prefix_file.h — loader for labelled IPv4 prefix lists: the scanner table (SPEC.md A8),
 * exclusion lists (SPEC.md C) and anything else that is "one CIDR a line".
 *
 * Pure C, no DPDK: the main lcore (table builds), obscura-cp (scanner overlap), the unit
 * tests and the fuzzers all call it.  Not thread-safe per struct; any number of structs
 * may be loaded concurrently.
 *
 * File format, line by line:
 *   - `#` starts a comment (at the start of a line, or after whitespace);
 *   - blank lines are ignored; a trailing CR (CRLF files) is ignored;
 *   - otherwise: `a.b.c.d/len` or `a.b.c.d` (= /32), optionally followed by whitespace
 *     and a label (the rest of the line, trimmed; at most OBS_PFX_LABEL_MAX bytes).
 * IPv6 lines are skipped (counted in n_skipped, reason "IPv6 prefix skipped").  Any other
 * malformed line — bad address, length above 32, host bits set, a NUL byte, an over-long
 * label — is rejected: counted in n_rejected, and reported with its line number and
 * reason (the first OBS_PFX_MAX_REPORT of them are kept in rej[]).  A rejected line never
 * stops the load: the caller decides whether any rejection makes the file unacceptable.
 * An unreadable file is an error (-errno).
 */
#ifndef OBSCURA_PREFIX_FILE_H
#define OBSCURA_PREFIX_FILE_H

#include <stddef.h>
#include <stdint.h>

#define OBS_PFX_NO_LABEL   UINT32_MAX
#define OBS_PFX_LABEL_MAX  63u
#define OBS_PFX_MAX_REPORT 64u
#define OBS_PFX_MAX_FILE   (64u << 20)   /* refuse files above 64 MiB */

struct obs_pfx {
	uint32_t addr;      /* network address, host byte order */
	uint8_t  len;       /* 0..32 */
	uint8_t  pad[3];
	uint32_t label;     /* index into labels[], or OBS_PFX_NO_LABEL */
	uint32_t line;      /* line number in the file, from 1 */
};

struct obs_pfx_reject {
	uint32_t line;
	const char *reason; /* static string */
};

struct obs_pfx_list {
	struct obs_pfx *pfx;          /* in file order */
	size_t n;
	char **labels;                /* distinct labels, first-seen order */
	size_t n_labels;
	size_t n_lines;               /* lines read */
	size_t n_skipped;             /* IPv6 lines */
	size_t n_rejected;            /* malformed lines */
	struct obs_pfx_reject rej[OBS_PFX_MAX_REPORT];  /* skipped and rejected, in order */
	size_t n_rej;                 /* entries used in rej[] */
};

/* Parse a buffer (need not be NUL-terminated).  Returns 0, or -ENOMEM (out is then
 * empty).  out is overwritten; free it with obs_pfx_list_free(). */
int obs_pfx_parse(const char *buf, size_t len, struct obs_pfx_list *out);

/* Read and parse a file.  Returns 0, or -errno when it cannot be read (ENOENT, EACCES,
 * EISDIR, EFBIG above OBS_PFX_MAX_FILE, ...) with err filled ("PATH: reason"). */
int obs_pfx_load(const char *path, struct obs_pfx_list *out, char *err, size_t errlen);

void obs_pfx_list_free(struct obs_pfx_list *l);

/* Parse "a.b.c.d/len" or "a.b.c.d" (whole string).  0, or -EINVAL with *why set. */
int obs_pfx_parse_cidr(const char *s, uint32_t *addr, uint8_t *len, const char **why);

/* The label of p, or "" when it has none. */
const char *obs_pfx_label(const struct obs_pfx_list *l, const struct obs_pfx *p);

#endif
