/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * export_int.h — what the export's three files share (export.h is the interface):
 * export.c the schema and the life cycle, export_spool.c the rows and the spool files
 * (main loop), export_send.c the sender thread.
 */
#ifndef OBSCURA_CP_EXPORT_INT_H
#define OBSCURA_CP_EXPORT_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "export.h"

#define EXP_MAGIC        "OBSX1\n"
#define EXP_PAUSE_MIN_MS 200u
#define EXP_PAUSE_MAX_MS 5000u

/* obscura_epochs stays last: a batch's epoch rows are inserted after its other rows, so
 * rows of a half-sent batch are rows without their epoch (fleet.h), never the reverse. */
enum { EXP_T_SOURCES, EXP_T_CELLS, EXP_T_EVENTS, EXP_T_RESIP_PORTS, EXP_T_DOS,
       /* fleetresp (issue 16): the responder's sessions and periods, the sources' tools */
       EXP_T_RESP_SESSIONS, EXP_T_RESP_PERIODS, EXP_T_SOURCE_TOOLS,
       EXP_T_EPOCHS, EXP_T_N };

/* The tables' names and column definitions (export.c). */
extern const char *const exp_tname[EXP_T_N];
extern const char *const exp_tcols[EXP_T_N];

/* obscura_epochs' last column: the counters' reserved[] words (exchange.h: fragments, DoS
 * backscatter, ...), added after the table's first version; exp_create_tables() adds it
 * to a table made before it. */
#define EXP_EPOCH_RESERVED "reserved Array(UInt64)"

/* One table's TabSeparated rows being built; out of memory is sticky. */
struct exp_buf {
	char *p;
	size_t len, cap;
	uint64_t rows;
	bool oom;
};

/* Append n bytes of p (export_spool.c). */
void eb_append(struct exp_buf *b, const char *p, size_t n);

/* What a reply to an insert says (export_send.c): taken (HTTP 200), retry (a server-side
 * or temporary failure), or the batch is bad (ClickHouse cannot parse or convert the rows:
 * a 4xx/5xx naming a parse or type error code; sent again it would fail again). */
enum { EXP_REPLY_OK, EXP_REPLY_RETRY, EXP_REPLY_BAD };
int exp_reply_class(long http, const char *body);

/* The sender thread (export_send.c): started by cp_export_open(). */
void *exp_sender(void *arg);

#endif
