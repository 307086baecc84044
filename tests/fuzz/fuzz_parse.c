/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_parse.c — libFuzzer target for obs_parse() (parse.h).
 *
 * The input is one frame.  It is copied into an exactly-sized heap buffer so that
 * any read past len is an ASan report, and the returned meta is checked against the
 * parser's contract; a violation aborts.  The same function is linked into the
 * plain replay test (tests/fuzz/fuzz_replay.c), which runs tests/fuzz/corpus/parse.
 *
 * The libFuzzer build instruments the code under test too (meson.build -Dfuzz=true):
 *   CC=clang meson setup build-fuzz -Dfuzz=true && ninja -C build-fuzz
 *   meson test -C build-fuzz --suite fuzz            (every target, 15 s each)
 *   build-fuzz/tests/fuzz/fuzz_parse -max_len=256 NEW_DIR tests/fuzz/corpus/parse
 * Add any crashing input to the corpus once fixed.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dataplane/parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct obs_pkt_meta m;
	uint8_t *f;
	uint32_t len;
	int rc;

	if (size > 65536 + 64)
		return 0;
	len = (uint32_t)size;
	f = malloc(len ? len : 1);
	if (f == NULL)
		return 0;
	memcpy(f, data, len);
	rc = obs_parse(f, len, &m);
	if (rc < -1 || rc >= OBX_DROP_N)
		abort();
	if (rc == -1) {
		if ((uint32_t)m.payload_off + m.payload_len > len || m.n_vlan > 2 ||
		    m.proto_idx >= OBX_P_N || m.ip_len < 20 ||
		    14u + 4u * m.n_vlan + m.ip_len > len || m.frag > OBS_FRAG_LATER)
			abort();
		/* a later fragment offers no payload and has no ports (parse.h); any other
		 * packet's payload runs to the end of its IP datagram */
		if (m.frag == OBS_FRAG_LATER ?
		    (m.payload_len != 0 || m.sport != 0 || m.dport != 0) :
		    (uint32_t)m.payload_off + m.payload_len != 14u + 4u * m.n_vlan + m.ip_len)
			abort();
		if (m.proto_idx != OBX_P_TCP && m.proto_idx != OBX_P_UDP &&
		    (m.sport != 0 || m.dport != 0))
			abort();
	}
	free(f);
	return 0;
}
