/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fingerprint.c — fingerprint files and TCP option parsing; see fingerprint.h.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fingerprint.h"
#include "fpsig.h"

#define FP_FILE_MAX (1u << 20)

void obs_fp_options(const uint8_t *opt, uint32_t len, struct obs_fp_probe *p)
{
	uint32_t i = 0;

	p->n_opt = 0;
	p->opt_bad = 0;
	p->has_mss = 0;
	p->has_ws = 0;
	p->n_eol = 0;
	while (i < len) {
		uint8_t k = opt[i];

		if (k == 0) {                   /* EOL: the rest is padding */
			p->n_eol = (uint8_t)(len - i < 255 ? len - i : 255);
			break;
		}
		if (p->n_opt == OBX_FPSIG_KINDS) {   /* only past a 40-byte area */
			p->opt_bad = 1;
			return;
		}
		p->kinds[p->n_opt++] = k;
		if (k == 1) {                   /* NOP */
			i++;
			continue;
		}
		if (i + 1 >= len || opt[i + 1] < 2 || i + opt[i + 1] > len) {
			p->opt_bad = 1;
			return;
		}
		if (k == 2 && opt[i + 1] == 4) {
			p->has_mss = 1;
			p->mss = (uint16_t)(opt[i + 2] << 8 | opt[i + 3]);
		} else if (k == 3 && opt[i + 1] == 3) {
			p->has_ws = 1;
			p->ws = opt[i + 2];
		}
		i += opt[i + 1];
	}
}

static bool fp_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* Next blank-separated word of *s (up to end), NUL-terminated in place; NULL at end. */
static char *fp_word(char **s)
{
	char *p = *s, *w;

	while (fp_space(*p))
		p++;
	if (*p == '\0')
		return NULL;
	w = p;
	while (*p != '\0' && !fp_space(*p))
		p++;
	if (*p != '\0')
		*p++ = '\0';
	*s = p;
	return w;
}

static int fp_uint(const char *s, unsigned long max, unsigned long *v)
{
	char *e;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	*v = strtoul(s, &e, 10);
	if (errno != 0 || *e != '\0' || *v > max)
		return -1;
	return 0;
}

/* A comma list of numbers <= max into out[], at most cap; the count or -1. */
static int fp_list(char *s, unsigned long max, uint16_t *out16, uint8_t *out8, unsigned cap)
{
	unsigned n = 0;
	char *tok, *save = NULL;

	for (tok = strtok_r(s, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
		unsigned long v;

		if (n == cap || fp_uint(tok, max, &v) != 0)
			return -1;
		if (out16 != NULL)
			out16[n] = (uint16_t)v;
		else
			out8[n] = (uint8_t)v;
		n++;
	}
	return n == 0 ? -1 : (int)n;
}

static const char *fp_test(struct obs_fp_rule *r, char *w)
{
	unsigned long v;
	int n;

	if (strcmp(w, "ipid=masscan") == 0) {
		r->tests |= OBS_FP_T_MASSCAN;
	} else if (strncmp(w, "ipid=", 5) == 0) {
		if (fp_uint(w + 5, 65535, &v) != 0)
			return "ipid= wants 0..65535 or 'masscan'";
		r->tests |= OBS_FP_T_IPID;
		r->ip_id = (uint16_t)v;
	} else if (strcmp(w, "seq=dst") == 0) {
		r->tests |= OBS_FP_T_SEQDST;
	} else if (strncmp(w, "win=", 4) == 0) {
		if ((n = fp_list(w + 4, 65535, r->win, NULL, OBS_FP_MAX_WIN)) < 0)
			return "win= wants 1 to 8 comma-separated values 0..65535";
		r->tests |= OBS_FP_T_WIN;
		r->n_win = (uint8_t)n;
	} else if (strcmp(w, "opts=-") == 0) {
		r->tests |= OBS_FP_T_OPTS;
		r->n_opt = 0;
	} else if (strncmp(w, "opts=", 5) == 0) {
		if ((n = fp_list(w + 5, 254, NULL, r->kinds, OBS_FP_MAX_OPT)) < 0)
			return "opts= wants 1 to 12 comma-separated option kinds 1..254, or '-'";
		for (int k = 0; k < n; k++)
			if (r->kinds[k] == 0)
				return "opts= cannot name EOL (0)";
		r->tests |= OBS_FP_T_OPTS;
		r->n_opt = (uint8_t)n;
	} else if (strncmp(w, "mss=", 4) == 0) {
		if (fp_uint(w + 4, 65535, &v) != 0)
			return "mss= wants 0..65535";
		r->tests |= OBS_FP_T_MSS;
		r->mss = (uint16_t)v;
	} else if (strncmp(w, "ws=", 3) == 0) {
		if (fp_uint(w + 3, 255, &v) != 0)
			return "ws= wants 0..255";
		r->tests |= OBS_FP_T_WS;
		r->ws = (uint8_t)v;
	} else if (strncmp(w, "ttl<=", 5) == 0) {
		if (fp_uint(w + 5, 255, &v) != 0)
			return "ttl<= wants 0..255";
		r->tests |= OBS_FP_T_TTLMAX;
		r->ttl_max = (uint8_t)v;
	} else if (strncmp(w, "ttl>=", 5) == 0) {
		if (fp_uint(w + 5, 255, &v) != 0)
			return "ttl>= wants 0..255";
		r->tests |= OBS_FP_T_TTLMIN;
		r->ttl_min = (uint8_t)v;
	} else if (strncmp(w, "sig=", 4) == 0) {     /* fingerprint signatures (fpsig.h) */
		if (obs_fpsig_parse(w + 4, &r->sig) != 0)
			return "sig= wants a signature string W_K1-K2-.._M_S (00: absent)";
		r->tests |= OBS_FP_T_SIG;
	} else {
		return "unknown test (known: ipid= seq=dst win= opts= mss= ws= ttl<= ttl>= sig=)";
	}
	return NULL;
}

static bool fp_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= OBS_FP_NAME_LEN)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_' ||
		      *s == '-' || *s == '.'))
			return false;
	return true;
}

/* One "fp" line (after the keyword) into r; NULL or why it is refused. */
static const char *fp_rule(struct obs_fp_rule *r, char *s)
{
	char *bar = strchr(s, '|'), *w, *cite;
	unsigned long id;
	const char *why;

	if (bar == NULL)
		return "no '|' and source citation";
	*bar = '\0';
	cite = bar + 1;
	while (fp_space(*cite))
		cite++;
	for (char *e = cite + strlen(cite); e > cite && fp_space(e[-1]); )
		*--e = '\0';
	if (*cite == '\0')
		return "empty source citation after '|'";
	if (strlen(cite) >= OBS_FP_CITE_LEN)
		return "source citation longer than 159 bytes";
	memcpy(r->cite, cite, strlen(cite) + 1);
	if ((w = fp_word(&s)) == NULL || fp_uint(w, OBS_FP_MAX_ID, &id) != 0 || id == 0)
		return "label id must be 1..63";
	r->id = (uint8_t)id;
	if ((w = fp_word(&s)) == NULL || !fp_name_ok(w))
		return "tool name must be 1-23 of [a-z0-9_.-]";
	memcpy(r->name, w, strlen(w) + 1);
	if ((w = fp_word(&s)) == NULL || strlen(w) >= OBS_FP_VER_LEN)
		return "versions field missing or longer than 23 bytes";
	memcpy(r->versions, w, strlen(w) + 1);
	while ((w = fp_word(&s)) != NULL)
		if ((why = fp_test(r, w)) != NULL)
			return why;
	if (r->tests == 0)
		return "a rule needs at least one test";
	return NULL;
}

struct obs_fp_set *obs_fp_parse(const char *buf, const char *name, char *err, size_t errlen)
{
	struct obs_fp_set *s = calloc(1, sizeof(*s));
	char *copy = strdup(buf), *line, *next;
	unsigned lineno = 0;
	const char *why = NULL;

	if (s == NULL || copy == NULL) {
		snprintf(err, errlen, "%s: out of memory", name);
		goto fail;
	}
	snprintf(s->path, sizeof(s->path), "%s", name);
	for (line = copy; line != NULL; line = next) {
		char *w, *p;

		lineno++;
		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		/* comments: a line starting with '#', or from '#' on in a line without a
		 * citation (a citation may hold '#', as URL fragments do) */
		if ((p = strchr(line, '#')) != NULL && strchr(line, '|') == NULL)
			*p = '\0';
		p = line;
		if ((w = fp_word(&p)) == NULL || w[0] == '#')
			continue;
		if (strcmp(w, "version") == 0) {
			unsigned long v;
			if (s->version != 0)
				why = "second version line";
			else if ((w = fp_word(&p)) == NULL || fp_uint(w, 1000, &v) != 0)
				why = "version wants a number";
			else if (v != OBS_FP_FORMAT_VERSION)
				why = "unsupported format version (this build reads version 1)";
			else if (fp_word(&p) != NULL)
				why = "text after the version";
			else
				s->version = (unsigned)v;
		} else if (strcmp(w, "fp") == 0) {
			struct obs_fp_rule *r;
			if (s->version == 0)
				why = "an fp line before the version line";
			else if (s->n == OBS_FP_MAX_RULES)
				why = "more than 64 rules";
			else if ((why = fp_rule(r = &s->rule[s->n], p)) == NULL) {
				if (s->name_of[r->id] != NULL &&
				    strcmp(s->name_of[r->id], r->name) != 0)
					why = "label id already used by another tool name";
				else {
					s->name_of[r->id] = r->name;
					s->n++;
				}
			}
		} else {
			why = "unknown keyword (known: version, fp)";
		}
		if (why != NULL)
			break;
	}
	if (why == NULL && s->version == 0) {
		why = "no version line";
		lineno = 0;
	}
	if (why == NULL && s->n == 0) {
		why = "no fingerprint rule";
		lineno = 0;
	}
	if (why != NULL) {
		snprintf(err, errlen, "%s:%u: %s", name, lineno, why);
		goto fail;
	}
	free(copy);
	return s;
fail:
	free(copy);
	free(s);
	return NULL;
}

struct obs_fp_set *obs_fp_load(const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	struct obs_fp_set *s;
	char *buf;
	size_t n;

	if (f == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	buf = malloc(FP_FILE_MAX + 1);
	if (buf == NULL) {
		fclose(f);
		snprintf(err, errlen, "%s: out of memory", path);
		return NULL;
	}
	n = fread(buf, 1, FP_FILE_MAX + 1, f);
	if (ferror(f) || n > FP_FILE_MAX) {
		snprintf(err, errlen, "%s: %s", path, ferror(f) ? "read error" : "larger than 1 MiB");
		fclose(f);
		free(buf);
		return NULL;
	}
	fclose(f);
	buf[n] = '\0';
	if (memchr(buf, '\0', n) != NULL) {
		snprintf(err, errlen, "%s: NUL byte in a text file", path);
		free(buf);
		return NULL;
	}
	s = obs_fp_parse(buf, path, err, errlen);
	free(buf);
	return s;
}

void obs_fp_free(void *set)
{
	free(set);
}

const char *obs_fp_name(const struct obs_fp_set *s, unsigned id, char *buf, size_t len)
{
	if (id == 0)
		return "none";
	if (s != NULL && id <= OBS_FP_MAX_ID && s->name_of[id] != NULL)
		return s->name_of[id];
	snprintf(buf, len, "tool%u", id);
	return buf;
}
