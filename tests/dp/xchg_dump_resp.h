/* SPDX-License-Identifier: BSD-3-Clause */
/* xchg_dump_resp.h — xchg_dump's responder part (xchg_dump_resp.c, issue 13). */
#ifndef OBSCURA_XCHG_DUMP_RESP_H
#define OBSCURA_XCHG_DUMP_RESP_H

#include "exchange.h"

/* Merge a READY slot's RESP records (before the drainer clears it). */
void resp_dump_slot(const struct obx_header *h, const struct obx_slot_hdr *sh);
/* The "responder" member of the JSON, with the drained totals c. */
void resp_dump_json(const struct obx_header *h, const struct obx_counters *c);

#endif
