/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_resip.c — libFuzzer target for the RESIP CSV reader, resip_load_csv_mem()
 * (dataplane/common/resip_load.h: the parse resip_load() runs on a CSV file).
 *
 * The input is loaded twice: with any number of rejected lines allowed (so a table is
 * built from whatever rows are good), and with none allowed (the default).  Contract: a
 * built table is sorted and unique (addresses; rows by address, provider, first, last),
 * every address' rows are its own and its provider mask is exactly theirs, every window
 * has first <= last, provider indexes are valid, resip_find() finds every address, the
 * rejected counts add up; the strict load succeeds exactly when the lenient one did and
 * rejected nothing.  A violation aborts.  Corpus: tests/fuzz/corpus/resip.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dataplane/common/resip_load.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const struct resip_table *t)
{
	const struct resip_load_report *r = &t->rep;
	uint64_t sum = 0;

	if (t->n_addrs == 0 || t->n_rows < t->n_addrs || t->n_providers > RESIP_MAX_PROVIDERS ||
	    t->format != RESIP_FMT_CSV || r->n_msgs > RESIP_REPORT_MSGS)
		abort();
	for (unsigned k = 0; k < RESIP_REJ_N; k++)
		sum += r->rejected[k];
	if (sum != r->n_rejected)
		abort();
	for (uint32_t i = 0; i < t->n_rows; i++) {
		const struct resip_row *w = &t->rows[i];

		if (w->first_ns > w->last_ns || w->provider >= t->n_providers)
			abort();
		if (i > 0) {
			const struct resip_row *v = &t->rows[i - 1];

			if (v->addr > w->addr || (v->addr == w->addr && (v->provider > w->provider ||
			    (v->provider == w->provider && (v->first_ns > w->first_ns ||
			     (v->first_ns == w->first_ns && v->last_ns >= w->last_ns))))))
				abort();
		}
	}
	for (uint32_t i = 0; i < t->n_addrs; i++) {
		const struct resip_addr *a = &t->addrs[i];
		uint32_t end = i + 1 < t->n_addrs ? a[1].row0 : t->n_rows;
		uint64_t mask = 0;

		if ((i > 0 && a[-1].addr >= a->addr) || a->row0 >= end || resip_find(t, a->addr) != a)
			abort();
		for (uint32_t k = a->row0; k < end; k++) {
			if (t->rows[k].addr != a->addr)
				abort();
			mask |= 1ull << t->rows[k].provider;
		}
		if (mask != a->providers || resip_match(t, a, 0, false) != mask)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct resip_load_opts lenient = { .max_rejected = UINT64_MAX };
	struct resip_load_report rep;
	struct resip_table *t, *strict;
	char err[512];

	if (size > (1u << 20))
		return 0;
	t = resip_load_csv_mem("fuzz.csv", (const char *)data, size, &lenient, &rep, err,
			       sizeof(err));
	if (t == NULL && strncmp(err, "RESIP table fuzz.csv: ", 22) != 0)
		abort();
	if (t != NULL)
		check(t);
	strict = resip_load_csv_mem("fuzz.csv", (const char *)data, size, NULL, NULL, err,
				    sizeof(err));
	if ((strict != NULL) != (t != NULL && t->rep.n_rejected == 0))
		abort();
	if (strict != NULL && (strict->n_rows != t->n_rows || strict->n_addrs != t->n_addrs ||
	    memcmp(strict->rows, t->rows, (size_t)t->n_rows * sizeof(t->rows[0])) != 0))
		abort();
	resip_table_free(strict);
	resip_table_free(t);
	return 0;
}
