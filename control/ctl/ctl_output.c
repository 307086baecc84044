/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl_output.c — render reply data as JSON or as aligned text (ctl_output.h).
 *
 * The text form is for people and may change; scripts use --json, whose shape is the
 * server's.  Strings from the server are printed with control characters replaced, so
 * a hostile or broken server cannot drive the terminal.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl_output.h"

int ctl_print_json(FILE *f, json_t *data)
{
	/* JSON_ENCODE_ANY: data may be a bare scalar or null, not only an object */
	int r = json_dumpf(data, f, JSON_INDENT(2) | JSON_ENCODE_ANY);
	fputc('\n', f);
	return r;
}

/* Display width of a UTF-8 string: code points, not bytes (no wide-glyph tables). */
static size_t ctl_width(const char *s)
{
	size_t w = 0;
	for (; *s; s++)
		w += ((unsigned char)*s & 0xc0) != 0x80;
	return w;
}

static bool ctl_is_time_key(const char *key, json_t *v)
{
	size_t n = key ? strlen(key) : 0;
	/* ns since the epoch: after 1973; smaller *_ns values are durations */
	return n > 3 && !strcmp(key + n - 3, "_ns") && json_is_integer(v) &&
	       json_integer_value(v) > 100000000000000000LL;
}

/* A raw "X_ns" next to a human form of the same time ("X", "X_seen", "X_at", "X_time")
 * is for scripts: text output shows only the human one. */
static bool ctl_is_shadowed(const char *key, bool (*has)(const void *, const char *), const void *ctx)
{
	size_t n = strlen(key);
	if (n < 4 || strcmp(key + n - 3, "_ns"))
		return false;
	static const char *const sfx[] = { "", "_seen", "_at", "_time" };
	for (size_t i = 0; i < sizeof sfx / sizeof sfx[0]; i++) {
		char alt[256];
		if ((size_t)snprintf(alt, sizeof alt, "%.*s%s", (int)(n - 3), key, sfx[i]) < sizeof alt &&
		    has(ctx, alt))
			return true;
	}
	return false;
}

static bool ctl_obj_has(const void *obj, const char *k)
{
	return json_object_get((json_t *)obj, k) != NULL;
}

static bool ctl_cols_has(const void *cols, const char *k)
{
	size_t i;
	json_t *c;
	json_array_foreach((json_t *)cols, i, c)
		if (!strcmp(json_string_value(c), k))
			return true;
	return false;
}

static bool ctl_is_scalar(json_t *v)
{
	return !json_is_object(v) && !json_is_array(v);
}

static bool ctl_is_table(json_t *v)
{
	if (!json_is_array(v) || !json_array_size(v))
		return false;
	size_t i;
	json_t *e;
	json_array_foreach(v, i, e)
		if (!json_is_object(e))
			return false;
	return true;
}

/* A cell or value as text (malloc'd).  Arrays of scalars are joined with ", ". */
static char *ctl_cell(const char *key, json_t *v)
{
	char *s = NULL;
	if (ctl_is_time_key(key, v)) {
		long long ns = json_integer_value(v);
		time_t t = (time_t)(ns / 1000000000LL);
		struct tm tm;
		char b[64];
		gmtime_r(&t, &tm);
		strftime(b, sizeof b, "%Y-%m-%dT%H:%M:%S", &tm);
		if (asprintf(&s, "%s.%09lldZ", b, ns % 1000000000LL) < 0)
			s = NULL;
	} else if (json_is_string(v)) {
		s = strdup(json_string_value(v));
		for (char *p = s; p && *p; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				*p = '?';
	} else if (json_is_integer(v)) {
		if (asprintf(&s, "%" JSON_INTEGER_FORMAT, json_integer_value(v)) < 0)
			s = NULL;
	} else if (json_is_real(v)) {
		if (asprintf(&s, "%.6g", json_real_value(v)) < 0)
			s = NULL;
	} else if (json_is_true(v)) {
		s = strdup("true");
	} else if (json_is_false(v)) {
		s = strdup("false");
	} else if (json_is_null(v)) {
		s = strdup("-");
	} else if (json_is_array(v)) {
		bool flat = true;
		size_t i;
		json_t *e;
		json_array_foreach(v, i, e)
			flat = flat && ctl_is_scalar(e);
		if (flat) {
			size_t len = 0;
			s = strdup(json_array_size(v) ? "" : "-");
			json_array_foreach(v, i, e) {
				char *c = ctl_cell(NULL, e);
				size_t cl = c ? strlen(c) : 0;
				char *ns = s ? realloc(s, len + cl + 3) : NULL;
				if (!ns) {
					free(c);
					free(s);
					return strdup("?");
				}
				s = ns;
				len += (size_t)sprintf(s + len, "%s%s", i ? ", " : "", c ? c : "");
				free(c);
			}
		} else {
			s = json_dumps(v, JSON_COMPACT);
		}
	} else {
		s = json_dumps(v, JSON_COMPACT);
	}
	return s ? s : strdup("?");
}

static bool ctl_is_num(const char *key, json_t *v)
{
	return json_is_number(v) && !ctl_is_time_key(key, v);
}

static void ctl_pad(FILE *f, size_t n)
{
	while (n--)
		fputc(' ', f);
}

static void ctl_table(FILE *f, json_t *arr, int indent)
{
	/* columns: every key, in order of first appearance */
	json_t *cols = json_array();
	size_t i, j;
	json_t *row, *v;
	const char *k;
	json_array_foreach(arr, i, row) {
		json_object_foreach(row, k, v) {
			bool have = false;
			json_t *c;
			json_array_foreach(cols, j, c)
				if (!strcmp(json_string_value(c), k)) {
					have = true;
					break;
				}
			if (!have)
				json_array_append_new(cols, json_string(k));
		}
	}
	/* drop raw times the rows also carry in human form */
	for (j = json_array_size(cols); j-- > 0;)
		if (ctl_is_shadowed(json_string_value(json_array_get(cols, j)), ctl_cols_has, cols))
			json_array_remove(cols, j);
	size_t nc = json_array_size(cols), nr = json_array_size(arr);
	size_t *width = calloc(nc, sizeof *width);
	bool *num = calloc(nc, sizeof *num);
	char **cell = calloc(nc * nr + 1, sizeof *cell);
	if (!width || !num || !cell)
		goto out;
	for (j = 0; j < nc; j++) {
		const char *name = json_string_value(json_array_get(cols, j));
		width[j] = ctl_width(name);
		num[j] = true;
		for (i = 0; i < nr; i++) {
			v = json_object_get(json_array_get(arr, i), name);
			cell[i * nc + j] = v ? ctl_cell(name, v) : strdup("-");
			if (v && !json_is_null(v) && !ctl_is_num(name, v))
				num[j] = false;
			size_t w = cell[i * nc + j] ? ctl_width(cell[i * nc + j]) : 0;
			if (w > width[j])
				width[j] = w;
		}
	}
	for (size_t r = 0; r <= nr; r++) {
		ctl_pad(f, (size_t)indent);
		for (j = 0; j < nc; j++) {
			const char *s = r ? cell[(r - 1) * nc + j] : json_string_value(json_array_get(cols, j));
			if (!s)
				s = "?";
			size_t w = ctl_width(s), gap = width[j] - w;
			bool last = j + 1 == nc;
			if (num[j]) {
				ctl_pad(f, gap);
				fputs(s, f);
			} else {
				fputs(s, f);
				if (!last)
					ctl_pad(f, gap);
			}
			if (!last)
				fputs("  ", f);
		}
		fputc('\n', f);
	}
out:
	for (i = 0; cell && i < nc * nr; i++)
		free(cell[i]);
	free(cell);
	free(num);
	free(width);
	json_decref(cols);
}

static void ctl_value(FILE *f, json_t *v, int indent);

static bool ctl_is_section(json_t *v)
{
	return (json_is_object(v) && json_object_size(v)) || ctl_is_table(v);
}

static void ctl_object(FILE *f, json_t *obj, int indent)
{
	const char *k;
	json_t *v;
	size_t kw = 0;
	json_object_foreach(obj, k, v)
		if (!ctl_is_section(v) && !ctl_is_shadowed(k, ctl_obj_has, obj) && ctl_width(k) > kw)
			kw = ctl_width(k);
	/* Numbers are right-aligned within each run of consecutive numeric lines, so a block
	 * of counters reads as a column without pushing a lone number far right. */
	size_t nw = 0;
	void *it = json_object_iter(obj);
	while (it) {
		k = json_object_iter_key(it);
		v = json_object_iter_value(it);
		if (ctl_is_shadowed(k, ctl_obj_has, obj)) {
			it = json_object_iter_next(obj, it);
			continue;
		}
		if (ctl_is_section(v)) {
			ctl_pad(f, (size_t)indent);
			fprintf(f, "%s:\n", k);
			ctl_value(f, v, indent + 2);
			nw = 0;
			it = json_object_iter_next(obj, it);
			continue;
		}
		if (ctl_is_num(k, v) && !nw) {   /* start of a run: measure it */
			for (void *r = it; r; r = json_object_iter_next(obj, r)) {
				const char *rk = json_object_iter_key(r);
				json_t *rv = json_object_iter_value(r);
				if (ctl_is_shadowed(rk, ctl_obj_has, obj))
					continue;
				if (!ctl_is_num(rk, rv))
					break;
				char *c = ctl_cell(rk, rv);
				if (strlen(c) > nw)
					nw = strlen(c);
				free(c);
			}
		} else if (!ctl_is_num(k, v)) {
			nw = 0;
		}
		char *c = ctl_cell(k, v);
		ctl_pad(f, (size_t)indent);
		fputs(k, f);
		ctl_pad(f, kw - ctl_width(k) + 2);
		if (ctl_is_num(k, v))
			ctl_pad(f, nw - strlen(c));
		fprintf(f, "%s\n", c);
		free(c);
		it = json_object_iter_next(obj, it);
	}
}

/* Rows with nested sections make an unreadable table: print them as a list instead,
 * each element an object whose first line is marked "- ". */
static bool ctl_rows_nested(json_t *arr)
{
	size_t i;
	json_t *row, *v;
	const char *k;
	json_array_foreach(arr, i, row)
		json_object_foreach(row, k, v)
			if (ctl_is_section(v))
				return true;
	return false;
}

static void ctl_list(FILE *f, json_t *arr, int indent)
{
	size_t i;
	json_t *row;
	json_array_foreach(arr, i, row) {
		char *buf = NULL;
		size_t len = 0;
		FILE *m = open_memstream(&buf, &len);
		if (!m)
			return;
		ctl_object(m, row, 0);
		fclose(m);
		bool first = true;
		for (char *save = NULL, *line = strtok_r(buf, "\n", &save); line;
		     line = strtok_r(NULL, "\n", &save)) {
			ctl_pad(f, (size_t)indent);
			fprintf(f, "%s%s\n", first ? "- " : "  ", line);
			first = false;
		}
		free(buf);
	}
}

static void ctl_value(FILE *f, json_t *v, int indent)
{
	if (ctl_is_table(v) && ctl_rows_nested(v)) {
		ctl_list(f, v, indent);
	} else if (ctl_is_table(v)) {
		ctl_table(f, v, indent);
	} else if (json_is_object(v)) {
		if (json_object_size(v))
			ctl_object(f, v, indent);
		else {
			ctl_pad(f, (size_t)indent);
			fputs("(empty)\n", f);
		}
	} else if (json_is_array(v)) {
		size_t i;
		json_t *e;
		if (!json_array_size(v)) {
			ctl_pad(f, (size_t)indent);
			fputs("(none)\n", f);
		}
		json_array_foreach(v, i, e) {
			if (ctl_is_scalar(e)) {
				char *c = ctl_cell(NULL, e);
				ctl_pad(f, (size_t)indent);
				fprintf(f, "%s\n", c);
				free(c);
			} else {
				ctl_value(f, e, indent);
			}
		}
	} else {
		char *c = ctl_cell(NULL, v);
		ctl_pad(f, (size_t)indent);
		fprintf(f, "%s\n", c);
		free(c);
	}
}

void ctl_print_text(FILE *f, json_t *data)
{
	ctl_value(f, data, 0);
}
