/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cmdbox.h — the command mailbox in the exchange header (part of the exchange contract,
 * included by exchange.h): the control plane asks the dataplane's main lcore to do
 * something (reload a table) and collects the answer later; it never waits for it.
 *
 * Protocol (one request at a time; the control plane is single-threaded):
 *   cp:  posts only when done_seq == req_seq (no request pending): writes cmd and arg,
 *        then stores req_seq + 1 with release, and goes on serving;
 *   dp main lcore: polls req_seq (acquire, ~10 Hz live, every few bursts in replay);
 *        when req_seq != done_seq it stores run_wall_ns, then run_seq = req_seq with
 *        release (the request is running), runs the command, writes result and msg,
 *        then stores done_seq = req_seq with release;
 *   cp:  polls run_seq and done_seq (acquire) from its loop: run_seq == its seq shows
 *        the request in progress since run_wall_ns, done_seq == its seq its outcome.
 * A dataplane restart zeroes the box with the rest of the header; a request posted to
 * the old mapping is then reported unanswered.
 */
#ifndef OBSCURA_CMDBOX_H
#define OBSCURA_CMDBOX_H

#include <stdatomic.h>
#include <stdint.h>

#define OBX_CMD_ARG_LEN 256u
#define OBX_CMD_MSG_LEN 512u

enum obx_cmd {
	OBX_CMD_NONE = 0,
	OBX_CMD_TABLES_RELOAD = 1,   /* arg: table name ("scanner", "" = all) */
	OBX_CMD_CAPTURE_START = 2,   /* arg: the pcapng file's absolute path; filter and limits
	                              * in the header's capture block (exchange.h) */
	OBX_CMD_CAPTURE_STOP = 3,    /* arg: unused */
};

struct obx_cmd_box {
	_Atomic uint64_t req_seq;     /* cp: last request posted */
	_Atomic uint64_t done_seq;    /* dp: last request answered */
	uint32_t cmd;                 /* enum obx_cmd of request req_seq */
	int32_t  result;              /* 0 or -errno of request done_seq */
	char     arg[OBX_CMD_ARG_LEN];
	char     msg[OBX_CMD_MSG_LEN];  /* human-readable outcome, NUL-terminated */
	uint64_t run_wall_ns;         /* dp: wall clock when request run_seq started */
	_Atomic uint64_t run_seq;     /* dp: the request running (or run last) */
};

#endif
