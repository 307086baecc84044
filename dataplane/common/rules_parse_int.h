/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rules_parse_int.h — private to the rule parser's two files: rules_parse.c (the rule
 * grammar: header, options, files, the list) and rules_expr.c (a rule's contents and
 * pcres turned into expressions, port sets, option values).  Not part of the contract:
 * nothing else includes it.
 */
#ifndef OBSCURA_RULES_PARSE_INT_H
#define OBSCURA_RULES_PARSE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rules_parse.h"

#define OBS_RULE_MAX_LINE   65536u  /* bytes of one (joined) rule */
#define OBS_RULE_MAX_CONT   64u     /* contents + pcres per rule */
#define OBS_PORT_WORDS      (65536u / 64u)

/* One content or pcre of the rule being parsed. */
struct obs_item {
	bool is_pcre;
	bool negated;
	bool nocase;
	bool has_offset, has_depth, has_distance, has_within;
	long offset, depth, distance, within;
	uint8_t *bytes;       /* content bytes / pcre expression (NUL-terminated) */
	size_t len;
	unsigned rx_flags;    /* pcre: OBS_RX_CASELESS / DOTALL / MULTILINE */
	bool anchored;        /* pcre A */
};

struct obs_builder {
	struct obs_rule_list *r;
	const char *file;
	unsigned line;
	char reason[512];
	/* the rule being parsed */
	struct obs_item items[OBS_RULE_MAX_CONT];
	unsigned n_items;
	uint64_t ports[OBS_PORT_WORDS];
};

/* rules_parse.c */
void obs_rp_reject(struct obs_builder *b, enum obs_rule_rej why, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
const char *obs_rp_skip_ws(const char *p);
bool obs_rp_ulong(const char *s, long lo, long hi, long *out);

/* rules_expr.c */
/* A port spec into bits (65536); 0, or -1 with the reason in why. */
int obs_rp_port_eval(const char *s, size_t n, uint64_t *out, int depth, char *why, size_t wl);
/* Bits -> ranges; any (all set) -> n = 0.  -1 when the set is empty, -2 out of memory. */
int obs_rp_port_ranges(const uint64_t *bits, struct obs_port_range **out, uint32_t *n);
/* Strip surrounding quotes (unescape: resolve \" \\ \; \:).  Length, or -1. */
int obs_rp_unquote(const char *v, char *out, size_t cap, bool unescape);
/* content / pcre / a content modifier into b->items: 0, -1 rejected, -2 out of memory. */
int obs_rp_content(struct obs_builder *b, const char *val);
int obs_rp_pcre(struct obs_builder *b, const char *val, bool negated);
int obs_rp_modifier(struct obs_builder *b, const char *name, const char *val);
/* The rule's expressions from b->items into the list: 0, -1 rejected, -2 out of memory. */
int obs_rp_emit(struct obs_builder *b, uint32_t ridx, struct obs_rule *ru);

#endif /* OBSCURA_RULES_PARSE_INT_H */
