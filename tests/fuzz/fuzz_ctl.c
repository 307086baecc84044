/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_ctl.c — libFuzzer target for ctl v1 requests (docs/ctl-v1.md) as the control
 * plane reads them: the input is split into lines as the server frames a client's bytes
 * (ctl_server.c), and each line goes to cp_cmd_dispatch() (commands.c: JSON decode,
 * request and argument checks against the command table, the handler, the reply's
 * rendering) over the control plane of fuzz_cp.h with every analysis' commands.
 *
 * Requests come from the read-only socket (admin false): the admin commands are refused
 * after the same parse, and nothing a fuzzer sends writes files.  Contract: every reply
 * is one or more lines, each a JSON object with "id" and a boolean "ok", the last one
 * carrying "end": true, and an error carries a known code.  A violation aborts.
 * Corpus: tests/fuzz/corpus/ctl.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "control/commands.h"
#include "fuzz_cp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void bad(const char *why, const char *req, size_t reqlen, const char *out, size_t len)
{
	fprintf(stderr, "fuzz_ctl: %s\nrequest: %.*s\nreply: %.*s\n", why, (int)reqlen, req,
	        (int)len, out);
	abort();
}

static void check_reply(const char *req, size_t reqlen, const char *out, size_t len)
{
	const char *p = out, *end = out + len;
	int last_end = 0;

	if (len == 0 || out[len - 1] != '\n')
		bad("reply does not end in a newline", req, reqlen, out, len);
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		json_error_t je;
		json_t *o, *ok, *e;

		o = json_loadb(p, (size_t)(nl - p), 0, &je);
		if (!json_is_object(o) || json_object_get(o, "id") == NULL)
			bad("reply line is not an object with an id", req, reqlen, out, len);
		ok = json_object_get(o, "ok");
		if (!json_is_boolean(ok))
			bad("reply line without a boolean ok", req, reqlen, out, len);
		if (json_is_false(ok)) {
			const char *code = json_string_value(json_object_get(json_object_get(o, "error"), "code"));

			/* internal is a fault of the control plane, never of a request */
			if (code == NULL || strcmp(code, cp_err_code(CP_E_INTERNAL)) == 0)
				bad("error without a code, or internal", req, reqlen, out, len);
		}
		e = json_object_get(o, "end");
		last_end = json_is_true(e);
		if (last_end && nl + 1 != end)
			bad("lines after the end line", req, reqlen, out, len);
		json_decref(o);
		p = nl + 1;
	}
	if (!last_end)
		bad("no end line", req, reqlen, out, len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size;
	struct cp *cp = obs_fuzz_cp();

	if (size > (64u << 10))
		return 0;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *line = p;
		size_t len = (size_t)((nl ? nl : end) - p);
		struct cp_deferred defer;
		char *out = NULL;
		size_t outlen = 0;

		p = nl ? nl + 1 : end;
		if (len > cp->conf.max_request)
			continue;   /* the server refuses it unread (too_large) */
		if (cp_cmd_dispatch(cp, line, len, false, &out, &outlen, &defer) != 0)
			abort();
		if (defer.job != 0)
			abort();   /* no read-only command runs in the background */
		if (out == NULL && defer.cursor.next != NULL) {
			/* a reply in steps (a long list): produced to its end line as the server
			 * would, a step per turn; every line checked */
			bool done = false;

			for (unsigned steps = 0; !done; steps++) {
				char *chunk = NULL;
				size_t clen = 0;

				if (steps > 1000000 ||
				    cp_cmd_stream_step(cp, &defer, &chunk, &clen, &done) != 0)
					abort();
				check_reply(line, len, chunk, clen);
				free(chunk);
			}
			json_decref(defer.id);
			continue;
		}
		check_reply(line, len, out, outlen);
		free(out);
	}
	return 0;
}
