/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * integrity.h — loss stamps: what was lost while a period was measured.
 *
 * Every result about a stretch of time (a scan period, a RESIP day, the store's whole
 * span, a report) carries the integrity of that time: frames received, drops by reason,
 * the NIC's imissed and rx_nombuf, lost table updates, forced swaps, dataplane restarts,
 * epochs missing, and complete: true|false.  The ledger behind it keeps one record per
 * UTC hour of packet time, filled from every epoch applied to the store (a per-epoch
 * hook, cp_epoch_register(), store.h: drained and replayed epochs alike, exactly once each
 * whatever tables they hold) and saved
 * in the snapshot (section CP_SNAP_S_INTEGRITY), so a restarted control plane stamps as
 * before.  Hours sum exactly into days, weeks, months and any range.
 *
 *   An epoch's counters count in the hour of its first packet, so hours sum exactly.  An
 *     epoch whose packets reach into later hours (a replay cuts epochs by count, not by
 *     packet time) is also noted over those hours (a range, up to CP_INTEG_SPAN_MAX
 *     hours): as an overlap, with its boot, and as an overlap loss when it lost anything
 *     — a loss cannot be placed inside the epoch, so every hour it touched is flagged.
 *     A span counts the overlaps of every range it meets (an epoch whose first hour is
 *     in the span too is then both an epoch and an overlap of it).
 *   epochs missing: a worker's epoch seq that jumped (seq > last applied + 1 of its boot),
 *     in the hour of the epoch after the gap; a boot's first epoch with seq > 1 too.
 *   restarts: the distinct dataplane boots with epochs in the span, minus one.
 *   imissed, rx_nombuf: the growth of the port counters (exchange header, per boot) seen
 *     at each epoch applied, in that epoch's hour; a new boot starts from 0.
 *   complete: epochs measured the span, no lost update, no restart, no epoch missing, no
 *     overlap loss, no imissed, no rx_nombuf
 *     (drops by reason are malformed or foreign frames, not loss; forced swaps are the
 *     dataplane avoiding loss: both are shown, neither makes a span incomplete).
 *
 * Main loop only (single-threaded), like the store.
 */
#ifndef OBSCURA_CP_INTEGRITY_H
#define OBSCURA_CP_INTEGRITY_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "exchange.h"
#include "stamp.h"   /* CP_INTEG_SVG_H */

struct cp;
struct cp_store;

#define CP_SNAP_S_INTEGRITY 20     /* snapshot.h: the next free module section */
#define CP_INTEG_BOOTS      4      /* boot ids kept per record; more are counted */
#define CP_INTEG_SPAN_MAX   (5u * 366u * 24u)   /* later hours an epoch reaches, at most */

/* The integrity of one hour, or of a span (the sum of its hours). */
struct cp_integ {
	uint64_t epochs, epochs_missing;
	uint64_t rx_packets, tel_packets;
	uint64_t drops[OBX_DROP_N];
	uint64_t lost_updates, forced_swaps;
	uint64_t imissed, rx_nombuf;
	uint64_t overlap_epochs;            /* epochs counted in an earlier hour reaching here */
	uint64_t overlap_losses;            /* of those, the ones that lost updates or followed
	                                     * a skipped seq */
	uint32_t n_boots;                   /* distinct ids in boot[] */
	uint32_t boots_more;                /* further boots not kept in boot[] */
	uint64_t boot[CP_INTEG_BOOTS];
};

/* The consumer and the snapshot section, on the daemon's store.  0 or -errno. */
int cp_integrity_start(struct cp *cp);
/* Forget every hour (tests; the snapshot section's reset). */
void cp_integrity_reset(void);

/* The sum over the hours of packet time in [from_ns, to_ns) (to_ns 0: no end). */
void cp_integrity_span(uint64_t from_ns, uint64_t to_ns, struct cp_integ *out);
/* Dataplane restarts inside a span: boots - 1 (0 for none); in a fleet's store, boots
 * minus the appliances among them (their boot ids' top CP_INTEG_APP_BITS bits). */
#define CP_INTEG_APP_BITS 16
void cp_integ_set_fleet(bool on);
uint64_t cp_integ_restarts(const struct cp_integ *i);
bool cp_integ_complete(const struct cp_integ *i);
/* The stamp as JSON (docs/ctl-v1.md "Loss stamps"). */
json_t *cp_integ_json(const struct cp_integ *i);
/* The stamp of period p of unit (enum obs_period_unit, period.h) with its "period"
 * label and "from"/"to" bounds. */
json_t *cp_integ_period_json(unsigned unit, uint32_t p);
/* The complete periods of a cp_integ_periods_json() call, ascending (free(p)). */
struct cp_integ_ok {
	uint32_t *p;
	size_t n, cap;
	bool oom;              /* some could not be recorded: nothing counts as complete */
};

/* The stamps of the periods of unit in [from, to] (inclusive) that hold epochs, as a
 * JSON array of cp_integ_period_json(); their sum into *span; the complete ones into
 * *ok when not NULL. */
json_t *cp_integ_periods_json(unsigned unit, uint32_t from, uint32_t to,
                              struct cp_integ *span, struct cp_integ_ok *ok);
/* true when every period first..last is among the complete ones (a period without any
 * epoch in the ledger is not known complete). */
bool cp_integ_ok_span(const struct cp_integ_ok *ok, uint32_t first, uint32_t last);
/* The sum over the periods of unit in [from, to] (inclusive). */
void cp_integrity_periods(unsigned unit, uint32_t from, uint32_t to, struct cp_integ *out);
/* A Markdown report's header line for a span's stamp ("**Integrity of the time covered:
 * complete (...)**" or "INCOMPLETE: ..."), then a blank line. */
void cp_integ_md(FILE *f, const struct cp_integ *i);
/* One line for a report header: "complete" or "INCOMPLETE: 3 lost updates, ..." */
void cp_integ_line(const struct cp_integ *i, char *buf, size_t len);

/* The stamp of a CSV or SVG report file (docs/ctl-v1.md "Loss stamps"): lines of
 * "key: value" — first "integrity of the time covered: <cp_integ_line>",
 * then "covers: FROM .. TO (packet time)" (from_ns/to_ns, 0 0: the ledger's first hour
 * to the end of the last hour a packet reached: hour records and ranges alike, not the
 * hour the last epoch started in), "complete: true|false", then packets, telescope_packets,
 * dropped (with the drops by reason), imissed, rx_nombuf, lost_updates, forced_swaps,
 * dp_restarts, epochs, epochs_missing, overlap_epochs, overlap_losses.  No '<', '>' or
 * '&' (safe in XML). */
#define CP_INTEG_STAMP_MAX 2048
void cp_integ_stamp_text(const struct cp_integ *i, uint64_t from_ns, uint64_t to_ns,
                         char *buf, size_t len);
/* A CSV file's stamp: the lines above as leading "# " comments (stamp.h). */
void cp_integ_csv(FILE *f, const struct cp_integ *i, uint64_t from_ns, uint64_t to_ns);
/* An SVG's stamp: <desc> and <metadata> holding the text, and its first two lines as
 * visible <text> at (x, y) and (x, y + 12), red when not complete (stamp.h). */
void cp_integ_svg(FILE *f, const struct cp_integ *i, uint64_t from_ns, uint64_t to_ns, int x,
                  int y);

/* The periods of unit in [from, to] that epochs reached (counted in or reaching into),
 * ascending, unique: a malloc'ed array of *n (NULL with *n 0 when none or out of
 * memory). */
uint32_t *cp_integrity_period_list(unsigned unit, uint32_t from, uint32_t to, size_t *n);

/* The hour records held, ascending: their number, and the record of the i-th (hour
 * index = packet time / 3600 s into *hour); hours only reached by an earlier epoch
 * have none (cp_integrity_span() counts them). */
uint32_t cp_integrity_hours(void);
const struct cp_integ *cp_integrity_hour(uint32_t i, uint32_t *hour);

#endif
