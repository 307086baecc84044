/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_integ.c — unit tests of the loss-stamp ledger (control/integrity.c): the hour an
 * epoch counts in (records kept ascending whatever the arrival order), skipped seqs and
 * a boot's late first epoch, restarts inside an hour, epochs reaching into later hours
 * (overlap ranges, coalesced; a loss flags every hour touched; a year-long epoch), the NIC counters' growth per boot, spans
 * and periods summing the hours exactly, the complete-span lookup, and a snapshot round
 * trip that keeps every hour.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "cp.h"
#include "integrity.h"
#include "period.h"
#include "snapshot.h"
#include "store.h"
#include "../fixtures/test_main.h"

#define H  (OBX_HOUR_NS)
#define T0 (1700000000ull / 3600 * H)     /* the start of an hour */

static struct cp cp;   /* big: not on the stack */
static char dir[64];

static int setup(void **state)
{
	(void)state;
	memset(&cp, 0, sizeof(cp));
	snprintf(dir, sizeof(dir), "/tmp/cp-integ-XXXXXX");
	if (mkdtemp(dir) == NULL || cp_store_init(&cp.store) != 0)
		return -1;
	return cp_integrity_start(&cp);
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	cp_tab_unregister_all();
	cp_snapshot_section_unregister_all();
	cp_integrity_reset();
	cp_store_fini(&cp.store);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* One epoch of one source record: rx frames, lost updates, packet times t0..t1. */
static void epoch(uint64_t boot, uint32_t w, uint64_t seq, uint64_t t0, uint64_t t1,
                  uint64_t rx, uint64_t lost)
{
	struct obx_src_rec r;
	struct cp_epoch e;

	memset(&r, 0, sizeof(r));
	r.addr = 0x0a000001u + (uint32_t)seq;
	r.hour = (uint32_t)(t0 / H);
	r.first_ns = r.last_ns = t0;
	r.packets = rx;
	memset(&e, 0, sizeof(e));
	e.boot_id = boot;
	e.worker = w;
	e.seq = seq;
	e.t_first_ns = t0;
	e.t_last_ns = t1;
	e.delta.rx_packets = rx;
	e.delta.drops[OBX_DROP_FRAGMENT] = 1;
	e.delta.lost_updates = lost;
	assert_int_equal(cp_epoch_add_tab(&e, OBX_TAB_SRC, sizeof(r), &r, 1), 0);
	assert_int_equal(cp_store_apply(&cp.store, &e), 0);
}

static const struct cp_integ *hour_of(uint64_t t)
{
	uint32_t h;

	for (uint32_t i = 0; i < cp_integrity_hours(); i++) {
		const struct cp_integ *r = cp_integrity_hour(i, &h);

		if (h == t / H)
			return r;
	}
	return NULL;
}

static void test_hours_sum(void **state)
{
	struct cp_integ all, day;
	uint32_t h0, h1;

	(void)state;
	epoch(1, 0, 1, T0 + 2 * H + 5, T0 + 2 * H + 9, 10, 0);   /* a later hour first */
	epoch(1, 0, 2, T0 + 5, T0 + 9, 20, 0);
	epoch(1, 1, 1, T0 + 7, T0 + 8, 30, 0);
	assert_int_equal(cp_integrity_hours(), 2);
	cp_integrity_hour(0, &h0);
	cp_integrity_hour(1, &h1);
	assert_true(h0 < h1);
	assert_int_equal(hour_of(T0)->rx_packets, 50);
	assert_int_equal(hour_of(T0)->epochs, 2);
	assert_int_equal(hour_of(T0 + 2 * H)->rx_packets, 10);
	cp_integrity_span(0, 0, &all);
	assert_int_equal(all.rx_packets, cp.store.total.rx_packets);
	assert_int_equal(all.drops[OBX_DROP_FRAGMENT], 3);
	assert_int_equal(all.epochs, cp.store.epochs);
	assert_true(cp_integ_complete(&all));
	/* [T0+H, T0+2H) holds nothing: not complete (nothing measured) */
	cp_integrity_span(T0 + H, T0 + 2 * H, &day);
	assert_int_equal(day.epochs, 0);
	assert_false(cp_integ_complete(&day));
	cp_integrity_periods(OBS_PU_DAY, obs_period_index(OBS_PU_DAY, T0),
	                     obs_period_index(OBS_PU_DAY, T0 + 2 * H), &day);
	assert_int_equal(day.rx_packets, 60);
}

static void test_gap_restart(void **state)
{
	struct cp_integ in;
	char line[256];

	(void)state;
	epoch(1, 0, 1, T0 + 1, T0 + 2, 5, 0);
	epoch(1, 0, 3, T0 + 3, T0 + 4, 5, 0);        /* seq 2 skipped */
	epoch(2, 0, 4, T0 + H + 1, T0 + H + 2, 5, 0);  /* a boot whose first epoch is seq 4 */
	assert_int_equal(hour_of(T0)->epochs_missing, 1);
	assert_int_equal(hour_of(T0 + H)->epochs_missing, 3);
	cp_integrity_span(T0 + H, T0 + 2 * H, &in);
	assert_int_equal(cp_integ_restarts(&in), 0);   /* one boot in that hour */
	epoch(3, 0, 1, T0 + H + 5, T0 + H + 6, 5, 0);  /* another boot, same hour */
	cp_integrity_span(T0 + H, T0 + 2 * H, &in);
	assert_int_equal(cp_integ_restarts(&in), 1);
	cp_integrity_span(0, 0, &in);
	assert_int_equal(cp_integ_restarts(&in), 2);
	assert_int_equal(in.epochs_missing, 4);
	assert_false(cp_integ_complete(&in));
	cp_integ_line(&in, line, sizeof(line));
	assert_non_null(strstr(line, "INCOMPLETE: 2 dataplane restarts; 4 epochs missing"));
}

static void span_of(uint64_t t0, uint64_t t1, struct cp_integ *in)
{
	cp_integrity_span(t0, t1, in);
}

static void test_overlap(void **state)
{
	struct cp_integ in;
	uint32_t *ps;
	size_t n;

	(void)state;
	/* clean, reaching two hours on: noted there, complete; counters in the first hour */
	epoch(1, 0, 1, T0 + 10, T0 + 2 * H + 10, 7, 0);
	assert_int_equal(cp_integrity_hours(), 1);
	span_of(T0 + H, T0 + 2 * H, &in);
	assert_int_equal(in.overlap_epochs, 1);
	assert_int_equal(in.rx_packets, 0);
	assert_true(cp_integ_complete(&in));
	ps = cp_integrity_period_list(OBS_PU_HOUR, 0, UINT32_MAX, &n);
	assert_int_equal(n, 3);
	assert_int_equal(ps[2], (T0 + 2 * H) / H);
	free(ps);
	/* a lossy one from hour 2 to 4: hours 3 and 4 flagged, hour 1 untouched */
	epoch(1, 0, 2, T0 + 2 * H + 20, T0 + 4 * H + 1, 7, 2);
	assert_int_equal(hour_of(T0 + 2 * H)->lost_updates, 2);
	span_of(T0 + 3 * H, T0 + 4 * H, &in);
	assert_int_equal(in.overlap_losses, 1);
	span_of(T0 + 4 * H, T0 + 5 * H, &in);
	assert_int_equal(in.overlap_losses, 1);
	assert_false(cp_integ_complete(&in));
	span_of(T0 + H, T0 + 2 * H, &in);
	assert_true(cp_integ_complete(&in));
	/* a clean epoch of the same boot touching the first range: coalesced, still clean */
	epoch(1, 1, 1, T0 + 2 * H + 30, T0 + 3 * H - 1, 1, 0);
	span_of(T0 + H, T0 + 2 * H, &in);
	assert_true(cp_integ_complete(&in));
	/* a year-long epoch (a replay of a long capture): every day it reaches is covered */
	epoch(2, 0, 1, T0 + 10 * H, T0 + 10 * H + 365ull * 24 * H, 1, 0);
	ps = cp_integrity_period_list(OBS_PU_DAY, 0, UINT32_MAX, &n);
	assert_true(n >= 366);
	free(ps);
	span_of(T0 + 200ull * 24 * H, T0 + 201ull * 24 * H, &in);
	assert_true(cp_integ_complete(&in));
	assert_int_equal(in.overlap_epochs, 1);
}

static void test_ports(void **state)
{
	struct cp_store *s = &cp.store;

	(void)state;
	s->n_ports = 2;
	s->ports_boot_id = 1;
	s->ports[0].imissed = 4;
	s->ports[1].rx_nombuf = 1;
	epoch(1, 0, 1, T0 + 1, T0 + 2, 5, 0);
	s->ports[0].imissed = 10;
	epoch(1, 0, 2, T0 + H + 1, T0 + H + 2, 5, 0);
	s->ports[0].imissed = 10;
	epoch(1, 0, 3, T0 + H + 3, T0 + H + 4, 5, 0);
	assert_int_equal(hour_of(T0)->imissed, 4);
	assert_int_equal(hour_of(T0)->rx_nombuf, 1);
	assert_int_equal(hour_of(T0 + H)->imissed, 6);
	assert_int_equal(hour_of(T0 + H)->rx_nombuf, 0);
	/* a new boot's counters start at 0 */
	s->ports_boot_id = 2;
	s->ports[0].imissed = 3;
	s->ports[1].rx_nombuf = 0;
	epoch(2, 0, 1, T0 + 2 * H + 1, T0 + 2 * H + 2, 5, 0);
	assert_int_equal(hour_of(T0 + 2 * H)->imissed, 3);
	assert_false(cp_integ_complete(hour_of(T0 + 2 * H)));
}

static void test_ok_span(void **state)
{
	struct cp_integ span;
	struct cp_integ_ok ok;
	json_t *a;
	uint32_t d0 = obs_period_index(OBS_PU_DAY, T0);

	(void)state;
	epoch(1, 0, 1, T0 + 1, T0 + 2, 5, 0);                  /* day d0: clean */
	epoch(1, 0, 2, T0 + 24 * H + 1, T0 + 24 * H + 2, 5, 1); /* d0 + 1: lost */
	epoch(1, 0, 3, T0 + 48 * H + 1, T0 + 48 * H + 2, 5, 0); /* d0 + 2: clean */
	epoch(1, 0, 4, T0 + 96 * H + 1, T0 + 96 * H + 2, 5, 0); /* d0 + 4 (d0 + 3: none) */
	a = cp_integ_periods_json(OBS_PU_DAY, 0, UINT32_MAX, &span, &ok);
	assert_int_equal(json_array_size(a), 4);
	assert_int_equal(ok.n, 3);
	assert_true(cp_integ_ok_span(&ok, d0, d0));
	assert_false(cp_integ_ok_span(&ok, d0, d0 + 1));
	assert_true(cp_integ_ok_span(&ok, d0 + 2, d0 + 2));
	assert_false(cp_integ_ok_span(&ok, d0 + 2, d0 + 4));   /* d0 + 3 unknown */
	assert_true(cp_integ_ok_span(&ok, d0 + 4, d0 + 4));
	assert_false(cp_integ_ok_span(&ok, d0 + 5, d0 + 5));
	assert_int_equal(span.rx_packets, 20);
	json_decref(a);
	free(ok.p);
	/* a sub-range: only its periods */
	a = cp_integ_periods_json(OBS_PU_DAY, d0 + 1, d0 + 2, &span, NULL);
	assert_int_equal(json_array_size(a), 2);
	assert_int_equal(span.rx_packets, 10);
	json_decref(a);
}

static void test_snapshot(void **state)
{
	char path[128], err[512];
	struct cp_integ before, after;
	uint32_t n;

	(void)state;
	epoch(1, 0, 1, T0 + 1, T0 + 2 * H, 5, 1);
	epoch(2, 1, 3, T0 + 5 * H, T0 + 5 * H + 1, 9, 0);
	n = cp_integrity_hours();
	cp_integrity_span(0, 0, &before);
	snprintf(path, sizeof(path), "%s/snapshot", dir);
	assert_int_equal(cp_snapshot_write_file(path, &cp.store, err, sizeof(err)), 0);
	cp_integrity_reset();
	assert_int_equal(cp_integrity_hours(), 0);
	assert_int_equal(cp_snapshot_load_file(path, &cp.store, err, sizeof(err)), 0);
	assert_int_equal(cp_integrity_hours(), n);
	cp_integrity_span(0, 0, &after);
	assert_memory_equal(&before, &after, sizeof(before));
	/* and the ledger goes on from the loaded state: seq 2 of boot 1 is not missing */
	epoch(1, 0, 2, T0 + 3, T0 + 4, 1, 0);
	assert_int_equal(hour_of(T0)->epochs_missing, 0);
}

/* An epoch that holds no source table (no source seen, or only other tables) counts
 * too: the ledger is fed per epoch, not by the source table's consumer. */
static void test_no_src_table(void **state)
{
	struct cp_epoch e;
	struct cp_integ all;

	(void)state;
	epoch(1, 0, 1, T0 + 5, T0 + 9, 20, 0);
	memset(&e, 0, sizeof(e));
	e.boot_id = 1;
	e.worker = 0;
	e.seq = 3;                          /* seq 2 skipped */
	e.t_first_ns = T0 + 10;
	e.t_last_ns = T0 + 11;
	e.delta.rx_packets = 7;
	e.delta.drops[OBX_DROP_NOT_IPV4] = 7;
	assert_int_equal(e.n_tabs, 0);
	assert_int_equal(cp_store_apply(&cp.store, &e), 0);
	cp_integrity_span(0, 0, &all);
	assert_int_equal(all.epochs, 2);
	assert_int_equal(all.epochs, cp.store.epochs);
	assert_int_equal(all.rx_packets, 27);
	assert_int_equal(all.drops[OBX_DROP_NOT_IPV4], 7);
	assert_int_equal(all.epochs_missing, 1);
	assert_false(cp_integ_complete(&all));
}

#define TESTS(T) T(test_hours_sum) T(test_gap_restart) T(test_overlap) T(test_ports) \
	T(test_ok_span) T(test_snapshot) T(test_no_src_table)
OBS_TEST_MAIN_FX(TESTS)
