/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * prefix_file.c — labelled IPv4 prefix lists; see prefix_file.h for the format.
 *
 * One pass over the buffer, line by line; nothing is trusted: every field is checked
 * and every bad line is counted with its reason.  Labels are deduplicated with a linear
 * search over the distinct labels (lists carry a few dozen organisations).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "prefix_file.h"

static bool pfx_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

int obs_pfx_parse_cidr(const char *s, uint32_t *addr, uint8_t *len, const char **why)
{
	uint32_t a = 0;
	unsigned octets = 0, l = 32;
	const char *p = s;

	for (;;) {
		unsigned v = 0, digits = 0;
		while (*p >= '0' && *p <= '9') {
			v = v * 10 + (unsigned)(*p - '0');
			if (++digits > 3 || v > 255) {
				*why = "address octet above 255";
				return -EINVAL;
			}
			p++;
		}
		if (digits == 0) {
			*why = "not an IPv4 address";
			return -EINVAL;
		}
		a = a << 8 | v;
		octets++;
		if (octets == 4)
			break;
		if (*p != '.') {
			*why = "not an IPv4 address";
			return -EINVAL;
		}
		p++;
	}
	if (*p == '/') {
		unsigned digits = 0;
		p++;
		l = 0;
		while (*p >= '0' && *p <= '9') {
			l = l * 10 + (unsigned)(*p - '0');
			if (++digits > 2) {
				*why = "prefix length above 32";
				return -EINVAL;
			}
			p++;
		}
		if (digits == 0) {
			*why = "missing prefix length after '/'";
			return -EINVAL;
		}
		if (l > 32) {
			*why = "prefix length above 32";
			return -EINVAL;
		}
	}
	if (*p != '\0') {
		*why = "trailing characters after the prefix";
		return -EINVAL;
	}
	if (l < 32 && (a & (uint32_t)(0xffffffffu >> l))) {
		*why = "host bits set";
		return -EINVAL;
	}
	*addr = a;
	*len = (uint8_t)l;
	return 0;
}

static void pfx_report(struct obs_pfx_list *l, uint32_t line, const char *reason)
{
	if (l->n_rej < OBS_PFX_MAX_REPORT) {
		l->rej[l->n_rej].line = line;
		l->rej[l->n_rej].reason = reason;
		l->n_rej++;
	}
}

static int pfx_label_index(struct obs_pfx_list *l, const char *s, size_t n, uint32_t *idx)
{
	char **nl, *copy;

	for (size_t i = 0; i < l->n_labels; i++)
		if (strlen(l->labels[i]) == n && memcmp(l->labels[i], s, n) == 0) {
			*idx = (uint32_t)i;
			return 0;
		}
	copy = strndup(s, n);
	if (copy == NULL)
		return -ENOMEM;
	nl = realloc(l->labels, (l->n_labels + 1) * sizeof(*nl));
	if (nl == NULL) {
		free(copy);
		return -ENOMEM;
	}
	l->labels = nl;
	l->labels[l->n_labels] = copy;
	*idx = (uint32_t)l->n_labels++;
	return 0;
}

void obs_pfx_list_free(struct obs_pfx_list *l)
{
	if (l == NULL)
		return;
	for (size_t i = 0; i < l->n_labels; i++)
		free(l->labels[i]);
	free(l->labels);
	free(l->pfx);
	memset(l, 0, sizeof(*l));
}

const char *obs_pfx_label(const struct obs_pfx_list *l, const struct obs_pfx *p)
{
	return p->label == OBS_PFX_NO_LABEL || p->label >= l->n_labels ? "" : l->labels[p->label];
}

/* One line [s, s+n) (no newline).  0, or -ENOMEM. */
static int pfx_line(struct obs_pfx_list *l, const char *s, size_t n, uint32_t lineno,
                    size_t *cap)
{
	char tok[64];
	const char *why, *e = s + n, *t, *lab, *labend;
	size_t tn;
	uint32_t addr, label = OBS_PFX_NO_LABEL;
	uint8_t len;

	if (memchr(s, '\0', n) != NULL) {
		l->n_rejected++;
		pfx_report(l, lineno, "NUL byte in line");
		return 0;
	}
	while (s < e && pfx_space(*s))
		s++;
	if (s == e || *s == '#')
		return 0;
	t = s;
	while (s < e && !pfx_space(*s) && *s != '#')
		s++;
	tn = (size_t)(s - t);
	if (memchr(t, ':', tn) != NULL) {
		l->n_skipped++;
		pfx_report(l, lineno, "IPv6 prefix skipped");
		return 0;
	}
	if (tn >= sizeof(tok)) {
		l->n_rejected++;
		pfx_report(l, lineno, "not an IPv4 address");
		return 0;
	}
	memcpy(tok, t, tn);
	tok[tn] = '\0';
	if (obs_pfx_parse_cidr(tok, &addr, &len, &why) != 0) {
		l->n_rejected++;
		pfx_report(l, lineno, why);
		return 0;
	}
	/* label: the rest up to a comment, trimmed */
	while (s < e && pfx_space(*s))
		s++;
	lab = s;
	labend = s;
	while (s < e) {
		if (*s == '#' && (s == lab || pfx_space(s[-1])))
			break;
		if (!pfx_space(*s))
			labend = s + 1;
		s++;
	}
	if (labend > lab) {
		size_t ln = (size_t)(labend - lab);
		if (ln > OBS_PFX_LABEL_MAX) {
			l->n_rejected++;
			pfx_report(l, lineno, "label longer than 63 bytes");
			return 0;
		}
		for (size_t i = 0; i < ln; i++)
			if ((unsigned char)lab[i] < 0x20 && lab[i] != '\t') {
				l->n_rejected++;
				pfx_report(l, lineno, "control character in label");
				return 0;
			}
		if (pfx_label_index(l, lab, ln, &label) != 0)
			return -ENOMEM;
	}
	if (l->n == *cap) {
		size_t nc = *cap ? *cap * 2 : 256;
		struct obs_pfx *np = realloc(l->pfx, nc * sizeof(*np));
		if (np == NULL)
			return -ENOMEM;
		l->pfx = np;
		*cap = nc;
	}
	l->pfx[l->n] = (struct obs_pfx){ .addr = addr, .len = len, .label = label, .line = lineno };
	l->n++;
	return 0;
}

int obs_pfx_parse(const char *buf, size_t len, struct obs_pfx_list *out)
{
	size_t cap = 0, i = 0;
	uint32_t lineno = 0;

	memset(out, 0, sizeof(*out));
	while (i < len) {
		const char *nl = memchr(buf + i, '\n', len - i);
		size_t n = nl ? (size_t)(nl - (buf + i)) : len - i;
		lineno++;
		if (pfx_line(out, buf + i, n, lineno, &cap) != 0) {
			obs_pfx_list_free(out);
			return -ENOMEM;
		}
		i += n + (nl != NULL);
	}
	out->n_lines = lineno;
	return 0;
}

int obs_pfx_load(const char *path, struct obs_pfx_list *out, char *err, size_t errlen)
{
	struct stat st;
	char *buf = NULL;
	size_t got = 0;
	int fd, rc;

	memset(out, 0, sizeof(*out));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(-rc));
		return rc;
	}
	if (fstat(fd, &st) != 0) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(-rc));
		goto close_fd;
	}
	if (S_ISDIR(st.st_mode)) {
		rc = -EISDIR;
		snprintf(err, errlen, "%s: is a directory", path);
		goto close_fd;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = -EINVAL;
		snprintf(err, errlen, "%s: not a regular file", path);
		goto close_fd;
	}
	if ((uint64_t)st.st_size > OBS_PFX_MAX_FILE) {
		rc = -EFBIG;
		snprintf(err, errlen, "%s: larger than %u bytes", path, OBS_PFX_MAX_FILE);
		goto close_fd;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (buf == NULL) {
		rc = -ENOMEM;
		snprintf(err, errlen, "%s: out of memory", path);
		goto close_fd;
	}
	while (got < (size_t)st.st_size) {
		ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			rc = -errno;
			snprintf(err, errlen, "%s: %s", path, strerror(-rc));
			goto free_buf;
		}
		if (r == 0)
			break;      /* shrank while reading: parse what is there */
		got += (size_t)r;
	}
	rc = obs_pfx_parse(buf, got, out);
	if (rc != 0)
		snprintf(err, errlen, "%s: out of memory", path);
free_buf:
	free(buf);
close_fd:
	close(fd);
	return rc;
}
