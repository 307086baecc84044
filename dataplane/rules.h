/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rules.h — payload rules compiled into ONE Hyperscan block-mode database and scanned.
 * The syntax, the chain semantics and the categories are the parser's
 * (common/rules_parse.h): obs_rules_load() parses, then compiles; a rule whose
 * expression Hyperscan refuses is rejected there (OBS_REJ_PCRE, with Hyperscan's
 * message).  Pure C + Hyperscan, no DPDK.
 *
 * Threads: obs_rules_load() and obs_rules_free() run on the main lcore (or a tool); the
 * result is immutable, so any number of workers may call obs_rules_scan() on it at once,
 * each with its OWN scratch (obs_rules_scratch_clone(), Suricata's habit: one prototype,
 * one clone per worker).  Reloading builds a new struct obs_rules and swaps the pointer
 * under RCU (tables.c); a scratch cloned for one database is only valid for it.
 */
#ifndef OBSCURA_RULES_H
#define OBSCURA_RULES_H

#include <stdint.h>
#include <stddef.h>

#include <hs/hs.h>

#include "rules_parse.h"

struct obs_rules;   /* opaque, immutable once built */

/*
 * Parse (obs_rules_parse) and compile.  Returns the database (possibly with zero rules:
 * scans then match nothing), or NULL with err filled when an input cannot be read,
 * memory runs out or Hyperscan fails as a whole.  Rejected rules are not errors: they
 * are counted and logged.
 */
struct obs_rules *obs_rules_load(const struct obs_rules_src *src, unsigned n_src,
                                 obs_rules_log_fn log, void *log_arg, char *err, size_t errlen);
void obs_rules_free(struct obs_rules *r);

const struct obs_rules_stats *obs_rules_stats(const struct obs_rules *r);
uint32_t obs_rules_count(const struct obs_rules *r);
const struct obs_rule_info *obs_rules_info(const struct obs_rules *r, uint32_t idx);
/* Index of the rule with this sid, or -1. */
int obs_rules_find_sid(const struct obs_rules *r, uint32_t sid);

/* A scratch for one worker, cloned from the database's prototype.  *s may be NULL or an
 * existing scratch (then it is freed and replaced).  0 or -ENOMEM. With zero rules *s = NULL. */
int obs_rules_scratch_clone(const struct obs_rules *r, hs_scratch_t **s);
void obs_rules_scratch_free(hs_scratch_t *s);

typedef void (*obs_rules_match_fn)(void *arg, uint32_t rule_idx, const struct obs_rule_info *ri);

/*
 * Scan one payload (proto: IP protocol number; dport host order, 0 for non-TCP/UDP).
 * Calls on_match (may be NULL) once per matching rule that also satisfies its protocol,
 * destination port and dsize constraints.  Returns the number of matching rules, or
 * -EINVAL / -EIO (Hyperscan error).  Up to OBS_RULES_MAX_TOUCH distinct rules with a
 * partial match are tracked per scan; beyond that further candidates are skipped and
 * counted in *overflow (may be NULL).
 */
#define OBS_RULES_MAX_TOUCH 64
int obs_rules_scan(const struct obs_rules *r, hs_scratch_t *scratch, const uint8_t *payload,
                   uint32_t len, uint8_t proto, uint16_t dport, obs_rules_match_fn on_match,
                   void *arg);

/*
 * What the dataplane publishes under RCU (tables.h, OBS_TABLE_RULES): a database and one
 * scratch per worker cloned for it, so a worker always scans with a scratch that belongs
 * to the database it read in the same burst.  Built on the main lcore; takes ownership of
 * r (freed on failure too).  NULL with err set on allocation failure.
 */
struct obs_rules_set {
	struct obs_rules *rules;
	uint32_t n_workers;
	hs_scratch_t *scratch[];      /* [n_workers]; NULL when the database is empty */
};
struct obs_rules_set *obs_rules_set_new(struct obs_rules *r, uint32_t n_workers, char *err,
                                        size_t errlen);
void obs_rules_set_free(void *set);     /* an obs_table_free_fn */

#endif /* OBSCURA_RULES_H */
