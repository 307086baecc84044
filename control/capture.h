/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * capture.h — `capture start|stop|status` (admin socket; docs/ctl-v1.md): selective pcapng
 * capture in the dataplane (dataplane/capture.h), asked for through the command mailbox
 * (cmdbox.h) without ever waiting for the dataplane.
 *
 * capture.start checks what it can itself first — the file's path (absolute, its
 * directory there and writable, the file not there yet), the filter (compiled with
 * libpcap for Ethernet), the sensor's name, no capture running — and answers any of
 * those at once with a clear error.  Then it writes the request into the header's
 * capture block, posts OBX_CMD_CAPTURE_START when the mailbox is free (busy with a
 * table reload: a busy error, try again) and defers its reply (jobs.h ids) until the
 * dataplane answered: started, or refused with its reason.  capture.stop likewise.
 * cp_capture_poll() from the main loop follows the posted request; a dataplane that
 * restarted or exited before answering makes it "unanswered".  capture.status reads
 * the header's capture block (state, matched, written, dropped, bytes) with the
 * request the control plane last made.
 *
 * Main loop only.
 */
#ifndef OBSCURA_CP_CAPTURE_H
#define OBSCURA_CP_CAPTURE_H

#include <stdbool.h>
#include <stdint.h>

#include "exchange.h"

struct cp;

struct cp_capture {
	/* the request posted and not answered yet */
	bool posted;
	uint32_t cmd;                 /* OBX_CMD_CAPTURE_START / _STOP */
	uint64_t seq;                 /* its mailbox number */
	uint64_t job;                 /* the deferred reply's id, 0: none waits */
	const struct obx_header *h;
	uint64_t boot_id;
	/* the last start asked for */
	char path[OBX_CMD_ARG_LEN];
	char filter[OBX_CAP_FILTER_LEN];
	char sensor[32];
	uint64_t max_packets, max_bytes;
	uint32_t snaplen;
	/* the dataplane's last answer */
	int32_t result;
	char msg[OBX_CMD_MSG_LEN];
};

/* One main-loop turn: the posted request's answer. */
void cp_capture_poll(struct cp *cp);

#endif
