/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * json.h — small JSON builders the command handlers share: counters, times as
 * ISO-8601 UTC with nanoseconds, IPv4 addresses, boot ids, and the YAML-to-JSON
 * conversion behind config.show.  Pure helpers; any caller.
 */
#ifndef OBSCURA_CP_JSON_H
#define OBSCURA_CP_JSON_H

#include <stdint.h>

#include <jansson.h>

#include "exchange.h"

/* uint64 as a JSON integer (clamped at INT64_MAX: JSON integers are signed here). */
json_t *cp_json_u64(uint64_t v);
/* "2026-11-23T11:57:00.123456789Z"; 0 gives null. */
json_t *cp_json_time(uint64_t ns);
/* The same, and time 0 is 1970-01-01T00:00:00Z (for times known to be set). */
json_t *cp_json_time_at(uint64_t ns);
void cp_fmt_time(uint64_t ns, char *buf, size_t len);
/* dotted quad of a host-order address */
json_t *cp_json_ipv4(uint32_t addr);
/* "a.b.c.d/len" */
json_t *cp_json_prefix(uint32_t addr, unsigned len);
/* 16 hex digits */
json_t *cp_json_hex64(uint64_t v);
/* every field of obx_counters, drops and protocols by name */
json_t *cp_json_counters(const struct obx_counters *c);
/* Parse a YAML document into JSON (mappings, sequences; plain scalars that read as
 * integers or booleans typed as such).  NULL on a parse error. */
json_t *cp_json_from_yaml(const char *yaml, size_t len);

#endif
