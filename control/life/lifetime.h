/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lifetime.h — SPEC.md part C: lifetime of attacking sources, event groups and their
 * continuity.  Pure C, control plane only, single-threaded (the cp main loop owns one
 * struct cp_life; nothing here blocks or touches the exchange).
 *
 * Input is what the dataplane delivers: per-(source, UTC hour) aggregates — events,
 * first/last event time, sensor mask, the hour's event types and their category mask
 * (struct cp_life_hour).  Because an aggregate spans at most one hour and the group gap
 * G (lifetime.gap_s) is at least one hour, no gap >= G can hide inside one aggregate, so
 * groups built from aggregates are exactly the groups built from single events.
 * Aggregates may arrive in any order and several times for the same hour (epochs, replays,
 * journal replay): a source keeps its groups sorted, and an aggregate joins every group
 * it comes within < G of (bridging them if it falls between), so the result does not
 * depend on arrival order.  Event counts add up, so deliver each event once (type-only
 * updates carry events = 0).
 *
 * Per source: first/last time, events, sensor set, category mask, and its event groups
 * (SPEC C4) each with first/last/events/sensor mask/event-type set.  Reports: Table 1
 * buckets, Figs 1,2,6,7 CDFs, Fig 3 sensors, Fig 4 countries, Fig 5 categories, the
 * one-sensor share and Fig 8 continuity (Dice, SPEC C5/C6, exact rational comparisons:
 * thresholds are given in units of 1/10000).
 *
 * Memory (64-bit): 64 bytes per source holding one group with <= 2 event types inline,
 * plus 4-8 bytes of hash index (load 1/4..1/2) and the array's growth slack: about
 * 80-100 MB per million such sources; each further group costs 48 bytes, each event type
 * beyond two per group 4 bytes (+ allocator overhead).  Bounded by lifetime.max_sources:
 * when a new source would exceed it, the least recently seen of 16 sampled sources
 * (Redis-style approximate LRU on last event time) is evicted and counted (n_evicted);
 * evicted sources are absent from every report, which says how many there were.
 * Per group at most CP_LIFE_MAX_TYPES event types are kept (further types are counted in
 * n_types_truncated and the source is flagged), and at most CP_LIFE_MAX_GROUPS groups per
 * source (an aggregate that would open one more is folded into the nearest group, the
 * source is flagged and left out of the continuity analysis, counted in n_groups_capped).
 */
#ifndef OBSCURA_CP_LIFETIME_H
#define OBSCURA_CP_LIFETIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cp_geo;

/* Categories: the same order as enum obs_cat in dataplane/common/rules_parse.h. */
#define CP_LIFE_CAT_N 7
#define CP_LIFE_CAT_BACKSCATTER 6   /* packet classes that are backscatter (docs/dos.md) */
#define CP_LIFE_CAT_NAMES { "Scan", "General Attack", "SQL Injection", "XSS", "RFI", \
	"Other Web Attack", "Backscatter" }
#define CP_LIFE_BUCKETS 4
#define CP_LIFE_BUCKET_NAMES { "< 1 min", "< 1 day", "< 30 days", ">= 30 days" }
#define CP_LIFE_MAX_TYPES  4096u
#define CP_LIFE_MAX_GROUPS 4096u
#define CP_LIFE_TOP_CC     10

#define CP_LIFE_F_TRUNC   0x01u   /* a group's type set was truncated */
#define CP_LIFE_F_CAPPED  0x02u   /* group count hit CP_LIFE_MAX_GROUPS */
#define CP_LIFE_F_GEO     0x04u   /* cc looked up */

struct cp_life_conf {
	uint64_t gap_ns;              /* group split gap; >= 3600 s (one aggregate's span) */
	uint32_t max_sources;         /* >= 1 */
};

struct cp_life_hour {
	uint32_t addr;                /* IPv4, host order */
	uint64_t first_ns, last_ns;   /* packet time, UTC; first <= last */
	uint64_t events;
	uint64_t sensor_mask;
	uint8_t  cat_mask;            /* bit c: category c */
	uint32_t n_types;
	const uint32_t *types;        /* any order, duplicates allowed */
};

struct cp_life_group {
	uint64_t first_ns, last_ns;
	uint64_t events;
	uint64_t sensor_mask;
	uint32_t n_types;
	uint32_t cap_types;           /* 0: types inline */
	union { uint32_t in[2]; uint32_t *p; } t;
};

struct cp_life_src {
	uint32_t addr;
	uint8_t  cat_mask;
	uint8_t  flags;               /* CP_LIFE_F_* */
	char     cc[2];               /* valid with CP_LIFE_F_GEO; "--" unknown */
	uint32_t n_groups;
	uint32_t cap_groups;          /* 0: the one group inline */
	union { struct cp_life_group one; struct cp_life_group *many; } g;
};

struct cp_life_stats {
	uint64_t n_sources;
	uint64_t n_adds;
	uint64_t n_evicted;
	uint64_t n_types_truncated;   /* event-type insertions dropped past CP_LIFE_MAX_TYPES */
	uint64_t n_groups_capped;     /* aggregates folded into a neighbour */
	uint64_t n_bad;               /* refused aggregates (first > last, no events nor types) */
	uint64_t mem_bytes;           /* what the table holds, allocator overhead excluded */
};

struct cp_life_report {
	uint64_t n_sources;
	uint64_t n_evicted;
	uint64_t bucket[CP_LIFE_BUCKETS];
	uint64_t sensors[CP_LIFE_BUCKETS][5];        /* 1, 2, 3, 4, >= 5 sensors */
	uint64_t one_sensor;
	uint64_t cat[CP_LIFE_BUCKETS][CP_LIFE_CAT_N];
	struct { char cc[3]; uint64_t n; } top[CP_LIFE_BUCKETS][CP_LIFE_TOP_CC];
	uint32_t n_top[CP_LIFE_BUCKETS];
	uint64_t cc_rest[CP_LIFE_BUCKETS];
};

enum cp_life_unit { CP_LIFE_DAYS = 0, CP_LIFE_MINUTES, CP_LIFE_SECONDS, CP_LIFE_EVENTS };

struct cp_life_cdf_pt {
	uint64_t x;                   /* days, minutes, seconds or events */
	uint64_t n_le;                /* sources with value <= x */
};

/* Fig. 8 grid: t_l in {0,.1,.3,.5,.7,.9,1}, t_e in {0,.05,...,1} (units of 1/10000). */
#define CP_LIFE_GRID_L 7
#define CP_LIFE_GRID_E 21
extern const uint32_t cp_life_grid_tl[CP_LIFE_GRID_L];

struct cp_life;

/* NULL with errno EINVAL (gap < 3600 s, max_sources 0) or ENOMEM. */
struct cp_life *cp_life_new(const struct cp_life_conf *c);
void cp_life_free(struct cp_life *l);

/* 0, -EINVAL (first > last; counted in n_bad), -ENOMEM (state unchanged). */
int cp_life_add(struct cp_life *l, const struct cp_life_hour *h);

/* Make room for n more sources (array and index) so that adding them allocates nothing
 * for the source table itself (group and type arrays still may).  0 or -ENOMEM. */
int cp_life_reserve(struct cp_life *l, uint32_t n);

/* Would cp_life_reserve(l, n) allocate nothing?  (Then a caller need not count which of
 * its n sources are new.) */
int cp_life_has_room(const struct cp_life *l, uint32_t n);

void cp_life_get_stats(const struct cp_life *l, struct cp_life_stats *s);
const struct cp_life_conf *cp_life_conf_get(const struct cp_life *l);

/* Lookups for `life show`; NULL if absent.  Pointers are valid until the next add. */
const struct cp_life_src *cp_life_find(const struct cp_life *l, uint32_t addr);
const struct cp_life_group *cp_life_groups(const struct cp_life_src *s);
const uint32_t *cp_life_group_types(const struct cp_life_group *g);
uint64_t cp_life_src_first(const struct cp_life_src *s);
uint64_t cp_life_src_last(const struct cp_life_src *s);
uint64_t cp_life_src_events(const struct cp_life_src *s);
uint64_t cp_life_src_sensors(const struct cp_life_src *s);
unsigned cp_life_bucket(uint64_t period_ns);

/* Table 1, Figs 3-5.  geo may be NULL (countries "--"); country lookups are cached per
 * source.  0 or -ENOMEM. */
int cp_life_report(struct cp_life *l, struct cp_geo *geo, struct cp_life_report *r);

/*
 * CDF points (malloc'ed, caller frees) and the population size:
 *   DAYS    all sources, x = 0..ceil(max period in days)       (Fig. 1)
 *   MINUTES sources with period < 1 day, x = 0..1440           (Fig. 2)
 *   SECONDS sources with period < 60 s, x = 0..60              (Fig. 6)
 *   EVENTS  sources with period < 60 s, x = each distinct events-per-source value (Fig. 7)
 * n_le counts sources whose value is <= x (period <= x units exactly).
 */
int cp_life_cdf(const struct cp_life *l, enum cp_life_unit u, struct cp_life_cdf_pt **pts,
                size_t *n_pts, uint64_t *n_pop);

/* Continuity (SPEC C6) over sources with period > 24 h and >= 2 groups (capped ones
 * excluded): how many are continuous at (tl, te) given in 1/10000. */
void cp_life_continuity(const struct cp_life *l, uint32_t tl_e4, uint32_t te_e4,
                        uint64_t *n_continuous, uint64_t *n_eligible);
void cp_life_continuity_grid(const struct cp_life *l,
                             uint64_t out[CP_LIFE_GRID_L][CP_LIFE_GRID_E], uint64_t *n_eligible);

/* Dice of two sorted type sets / two masks as a fraction num/den (0/0 -> 1/1). */
void cp_life_dice_sets(const uint32_t *a, uint32_t na, const uint32_t *b, uint32_t nb,
                       uint64_t *num, uint64_t *den);

/* Snapshot section: a self-describing little-endian blob.  cp_life_load() re-adds every
 * saved group through cp_life_add(), so a changed gap regroups correctly.  0 / -errno. */
int cp_life_save(const struct cp_life *l, uint8_t **buf, size_t *len);
int cp_life_load(struct cp_life *l, const uint8_t *buf, size_t len, char *err, size_t errlen);

/* Iterate over all sources (order unspecified). */
uint64_t cp_life_n_sources(const struct cp_life *l);
const struct cp_life_src *cp_life_at(const struct cp_life *l, uint64_t i);

#endif /* OBSCURA_CP_LIFETIME_H */
