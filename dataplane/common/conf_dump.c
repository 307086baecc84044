/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * conf_dump.c — the configuration written back out (conf.h): obs_conf_dump() (the
 * normalised YAML of -n and config.show, which re-parses to the identical struct),
 * obs_conf_describe() (the key reference), obs_conf_diff()/obs_conf_equal() and
 * obs_conf_key_reloadable() (what a reload may change).  All driven by the key rows of
 * conf_keys.c.  No global state: any thread, on a conf it owns.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "conf_int.h"

/* YAML double-quoted.  Loaded strings hold no control characters, but a struct
 * filled by code might: escape them so the output always parses back the same. */
static void conf_dump_str(FILE *out, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	fputc('"', out);
	while (*p) {
		size_t cl = obs_conf_ctl_len(p);
		if (cl == 1) {
			fprintf(out, "\\x%02x", *p);
		} else if (cl == 2) {
			fprintf(out, "\\x%02x", p[1]);   /* U+0080..U+009F */
		} else if (cl == 3) {
			fputs(p[2] == 0xa8 ? "\\L" : "\\P", out);
		} else {
			if (*p == '"' || *p == '\\')
				fputc('\\', out);
			fputc(*p, out);
			cl = 1;
		}
		p += cl;
	}
	fputc('"', out);
}

static void conf_dump_value(FILE *out, const struct conf_key *k, const void *base,
                            const char *ind)
{
	const char *p = (const char *)base + k->off;
	uint32_t n = k->cnt_off ? *(const uint32_t *)((const char *)base + k->cnt_off) : 0;
	char pb[24];
	int v;

	if (k->type != CT_MAPLIST || n == 0)
		fputc(' ', out);
	switch (k->type) {
	case CT_INT:
		fprintf(out, "%" PRIu32, *(const uint32_t *)p);
		break;
	case CT_BOOL:
		fputs(*(const bool *)p ? "true" : "false", out);
		break;
	case CT_ENUM:
		memcpy(&v, p, sizeof(v));
		fputs(k->names[v], out);
		break;
	case CT_STR:
		conf_dump_str(out, p);
		break;
	case CT_STRLIST:
		fputc('[', out);
		for (uint32_t i = 0; i < n; i++) {
			fputs(i ? ", " : "", out);
			conf_dump_str(out, p + i * k->size);
		}
		fputc(']', out);
		break;
	case CT_PREFIXLIST:
		fputc('[', out);
		for (uint32_t i = 0; i < n; i++) {
			obs_conf_fmt_prefix(pb, sizeof(pb), ((const uint32_t *)p)[i],
			                ((const uint8_t *)base + k->len_off)[i]);
			fprintf(out, "%s%s", i ? ", " : "", pb);
		}
		fputc(']', out);
		break;
	case CT_MAPLIST:
		if (n == 0) {
			fputs("[]", out);
			break;
		}
		for (uint32_t i = 0; i < n; i++) {
			const void *ib = p + i * k->size;
			for (unsigned j = 0; j < k->n_items; j++) {
				fprintf(out, "\n%s%s %s:", ind, j ? " " : "-", k->items[j].path);
				conf_dump_value(out, &k->items[j], ib, "");
			}
		}
		break;
	}
}

void obs_conf_dump(const struct obs_conf *c, FILE *out)
{
	const char *sec = NULL, *sub = NULL;
	size_t seclen = 0, sublen = 0;

	fputs("# obscura configuration, normalised: every key, explicit values\n", out);
	for (unsigned i = 0; i < obs_conf_n_keys; i++) {
		const struct conf_key *k = &obs_conf_keys[i];
		const char *dot = strchr(k->path, '.');
		const char *dot2 = strchr(dot + 1, '.');   /* a third level: export.clickhouse.url */

		if (sec == NULL || (size_t)(dot - k->path) != seclen ||
		    strncmp(sec, k->path, seclen) != 0) {
			sec = k->path;
			seclen = (size_t)(dot - k->path);
			sub = NULL;
			fprintf(out, "%.*s:\n", (int)seclen, sec);
		}
		if (dot2 == NULL) {
			sub = NULL;
			fprintf(out, "  %s:", dot + 1);
			conf_dump_value(out, k, c, "    ");
		} else {
			if (sub == NULL || (size_t)(dot2 - dot - 1) != sublen ||
			    strncmp(sub, dot + 1, sublen) != 0) {
				sub = dot + 1;
				sublen = (size_t)(dot2 - dot - 1);
				fprintf(out, "  %.*s:\n", (int)sublen, sub);
			}
			fprintf(out, "    %s:", dot2 + 1);
			conf_dump_value(out, k, c, "      ");
		}
		fputc('\n', out);
	}
}

static void conf_describe_key(FILE *out, const struct conf_key *k, const char *prefix)
{
	char path[CONF_PATH_LEN], type[96];

	snprintf(path, sizeof(path), "%s%s", prefix, k->path);
	switch (k->type) {
	case CT_INT:
		snprintf(type, sizeof(type), "int %" PRId64 "..%" PRId64 "%s", k->min, k->max,
		         (k->flags & CF_POW2) ? " pow2" : "");
		break;
	case CT_BOOL:
		snprintf(type, sizeof(type), "bool");
		break;
	case CT_ENUM: {
		size_t n = (size_t)snprintf(type, sizeof(type), "enum ");
		for (int i = 0; k->names[i] != NULL && n < sizeof(type); i++)
			n += (size_t)snprintf(type + n, sizeof(type) - n, "%s%s", i ? "|" : "",
			                      k->names[i]);
		break;
	}
	case CT_STR:
		snprintf(type, sizeof(type), "string %" PRId64 "..%" PRId64 "%s", k->min, k->max,
		         (k->flags & CF_ABSPATH) ? " path" : (k->flags & CF_NAME) ? " name" : "");
		break;
	case CT_STRLIST:
		snprintf(type, sizeof(type), "list of string, %" PRId64 "..%" PRId64, k->min, k->max);
		break;
	case CT_PREFIXLIST:
		snprintf(type, sizeof(type), "list of prefix, %" PRId64 "..%" PRId64, k->min, k->max);
		break;
	case CT_MAPLIST:
		snprintf(type, sizeof(type), "list of map, %" PRId64 "..%" PRId64, k->min, k->max);
		break;
	}
	fprintf(out, "%-36s %-28s %-28s %-7s %s\n", path, type,
	        k->def ? (k->def[0] ? k->def : "\"\"") :
	        (k->flags & CF_REQUIRED) ? "(required)" : "[]",
	        (k->flags & CF_RELOAD) ? "reload" : "restart", k->help);
	if (k->type == CT_MAPLIST) {
		char ip[CONF_PATH_LEN + 4];
		snprintf(ip, sizeof(ip), "%s[].", path);
		for (unsigned j = 0; j < k->n_items; j++)
			conf_describe_key(out, &k->items[j], ip);
	}
}

void obs_conf_describe(FILE *out)
{
	fprintf(out, "%-36s %-28s %-28s %-7s %s\n", "key", "type", "default", "apply", "help");
	for (unsigned i = 0; i < obs_conf_n_keys; i++)
		conf_describe_key(out, &obs_conf_keys[i], "");
}

/* Index of the first row whose value differs, or -1. */
static int conf_diff_tab(const struct conf_key *tab, unsigned n, const void *a, const void *b)
{
	for (unsigned i = 0; i < n; i++) {
		const struct conf_key *k = &tab[i];
		const char *pa = (const char *)a + k->off, *pb = (const char *)b + k->off;
		uint32_t na = 0, nb = 0;
		if (k->cnt_off) {
			na = *(const uint32_t *)((const char *)a + k->cnt_off);
			nb = *(const uint32_t *)((const char *)b + k->cnt_off);
			if (na != nb)
				return (int)i;
		}
		switch (k->type) {
		case CT_INT:
			if (*(const uint32_t *)pa != *(const uint32_t *)pb)
				return (int)i;
			break;
		case CT_BOOL:
			if (*(const bool *)pa != *(const bool *)pb)
				return (int)i;
			break;
		case CT_ENUM:
			if (memcmp(pa, pb, sizeof(int)) != 0)
				return (int)i;
			break;
		case CT_STR:
			if (strcmp(pa, pb) != 0)
				return (int)i;
			break;
		case CT_STRLIST:
			for (uint32_t j = 0; j < na; j++)
				if (strcmp(pa + j * k->size, pb + j * k->size) != 0)
					return (int)i;
			break;
		case CT_PREFIXLIST:
			if (memcmp(pa, pb, na * sizeof(uint32_t)) != 0 ||
			    memcmp((const char *)a + k->len_off, (const char *)b + k->len_off, na) != 0)
				return (int)i;
			break;
		case CT_MAPLIST:
			for (uint32_t j = 0; j < na; j++)
				if (conf_diff_tab(k->items, k->n_items, pa + j * k->size,
				                  pb + j * k->size) >= 0)
					return (int)i;
			break;
		}
	}
	return -1;
}

const char *obs_conf_diff(const struct obs_conf *a, const struct obs_conf *b)
{
	int i = conf_diff_tab(obs_conf_keys, obs_conf_n_keys, a, b);
	return i < 0 ? NULL : obs_conf_keys[i].path;
}

bool obs_conf_equal(const struct obs_conf *a, const struct obs_conf *b)
{
	return obs_conf_diff(a, b) == NULL;
}

bool obs_conf_key_reloadable(const char *path)
{
	for (unsigned i = 0; i < obs_conf_n_keys; i++)
		if (strcmp(obs_conf_keys[i].path, path) == 0)
			return (obs_conf_keys[i].flags & CF_RELOAD) != 0;
	return false;
}
