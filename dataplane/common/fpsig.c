/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fpsig.c — signature strings and source estimates; see fpsig.h.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "fpsig.h"

char *obs_fpsig_str(const struct obx_fpsig_key *k, char *buf, size_t len)
{
	size_t o = 0;
	unsigned n = 0;

#define PUT(...) do { int w_ = snprintf(buf + o, o < len ? len - o : 0, __VA_ARGS__); \
	if (w_ > 0) o += (size_t)w_; } while (0)
	PUT("%u_", k->win);
	for (unsigned i = 0; i < k->n_kinds && i < OBX_FPSIG_KINDS; i++, n++)
		PUT("%s%u", n ? "-" : "", k->kinds[i]);
	for (unsigned i = 0; i < k->n_eol; i++, n++)
		PUT("%s0", n ? "-" : "");
	if (n == 0)
		PUT("00");
	if (k->flags & OBX_FPSIG_F_MSS)
		PUT("_%u", k->mss);
	else
		PUT("_00");
	if (k->flags & OBX_FPSIG_F_WS)
		PUT("_%u", k->ws);
	else
		PUT("_00");
	if (k->flags & OBX_FPSIG_F_BAD)
		PUT("_bad");
#undef PUT
	if (o >= len && len > 0)
		buf[len - 1] = '\0';
	return buf;
}

/* A decimal 0..max at *s up to a delimiter in delims (or the end): 0 or -1; *s moves. */
static int sig_num(const char **s, unsigned long max, const char *delims, unsigned long *v)
{
	char *e;

	if (**s < '0' || **s > '9')
		return -1;
	*v = strtoul(*s, &e, 10);
	if (*v > max || e - *s > 5 || (*e != '\0' && strchr(delims, *e) == NULL))
		return -1;
	*s = e;
	return 0;
}

/* "00" (absent) or a number, then the delimiter or end. */
static int sig_opt(const char **s, unsigned long max, int last, unsigned long *v, int *present)
{
	if (strncmp(*s, "00", 2) == 0 && ((*s)[2] == (last ? '\0' : '_'))) {
		*s += 2;
		*present = 0;
		*v = 0;
	} else {
		if (sig_num(s, max, last ? "" : "_", v) != 0)
			return -1;
		*present = 1;
	}
	if (!last) {
		if (**s != '_')
			return -1;
		(*s)++;
	}
	return **s == '\0' || !last ? 0 : -1;
}

int obs_fpsig_parse(const char *s, struct obx_fpsig_key *k)
{
	unsigned long v;
	int present;

	memset(k, 0, sizeof(*k));
	if (sig_num(&s, 65535, "_", &v) != 0 || *s != '_')
		return -1;
	k->win = (uint16_t)v;
	s++;
	if (strncmp(s, "00_", 3) == 0) {
		s += 3;
	} else {
		for (;;) {
			if (sig_num(&s, 254, "-_", &v) != 0)
				return -1;
			if (v == 0) {
				k->n_eol++;
			} else {
				if (k->n_eol != 0 || k->n_kinds == OBX_FPSIG_KINDS)
					return -1;       /* a kind after EOL padding; too many */
				k->kinds[k->n_kinds++] = (uint8_t)v;
			}
			if (k->n_kinds + k->n_eol > OBX_FPSIG_KINDS)
				return -1;
			if (*s++ == '_')
				break;
		}
	}
	if (sig_opt(&s, 65535, 0, &v, &present) != 0)
		return -1;
	if (present) {
		k->flags |= OBX_FPSIG_F_MSS;
		k->mss = (uint16_t)v;
	}
	if (sig_opt(&s, 255, 1, &v, &present) != 0)
		return -1;
	if (present) {
		k->flags |= OBX_FPSIG_F_WS;
		k->ws = (uint8_t)v;
	}
	return 0;
}

double obs_fpsig_hll_estimate(const uint8_t hll[OBX_FPSIG_HLL])
{
	const double m = OBX_FPSIG_HLL, alpha = 0.709;   /* Flajolet et al. 2007, m = 64 */
	double sum = 0.0, e;
	unsigned zeros = 0;

	for (unsigned i = 0; i < OBX_FPSIG_HLL; i++) {
		sum += ldexp(1.0, -(int)hll[i]);
		zeros += hll[i] == 0;
	}
	e = alpha * m * m / sum;
	if (e <= 2.5 * m && zeros != 0)
		e = m * log(m / zeros);
	return e;
}
