/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * replay_in.h — one replay input file: its format told by its first bytes, and a pcap_t
 * to read it with, whatever the compression.
 *
 * Formats (by magic, never by the name alone: a renamed file still reads, a .pcap that is
 * really gzip is decompressed): pcap (either byte order, micro- or nanosecond), pcapng
 * (libpcap reads both), and either of them compressed with gzip (RFC 1952, several
 * members allowed) or zstd (RFC 8878, several frames allowed).  A compressed file is
 * decompressed by a thread of its own into a few large chunks; libpcap reads those
 * through a stdio stream (fopencookie), so decompression and the reader's dispatch
 * overlap when a core is free for it.
 *
 * A corrupt or truncated compressed stream ends the file's frames where the damage is:
 * libpcap then sees a read error, and obs_rin_error() says what went wrong (the
 * decompressor's reason and offsets) — the caller reports it and counts the frames read
 * before it.  Nothing here crashes on bad bytes or stops silently.
 *
 * Thread use: one thread (the replay reader) owns a struct obs_rin from open to close;
 * the decompressor thread is private to it.  Pure C, no DPDK.
 */
#ifndef OBSCURA_REPLAY_IN_H
#define OBSCURA_REPLAY_IN_H

#include <pcap/pcap.h>
#include <stddef.h>
#include <stdint.h>

enum obs_rin_comp {
	OBS_RIN_PLAIN = 0,
	OBS_RIN_GZIP,
	OBS_RIN_ZSTD,
};

struct obs_rin;

/*
 * Open path, tell its format, and open it for libpcap with nanosecond timestamps.
 * Returns the input, or NULL with err filled ("FILE: reason").  The pcap_t belongs to
 * the input (obs_rin_close closes it).
 */
struct obs_rin *obs_rin_open(const char *path, char *err, size_t errlen);
pcap_t *obs_rin_pcap(struct obs_rin *in);
/* "pcap", "pcapng", "pcap.gz", "pcapng.zst" ... (after the first frames were read: the
 * inner format of a compressed file is libpcap's to tell, and it is known from open) */
const char *obs_rin_format(const struct obs_rin *in);
enum obs_rin_comp obs_rin_comp(const struct obs_rin *in);
/* 1 and msg filled when the decompressor stopped on bad or missing input, else 0. */
int obs_rin_error(struct obs_rin *in, char *msg, size_t msglen);
/*
 * After libpcap stopped on a bad record of a compressed file: decompress the rest
 * (discarding it) to tell a damaged stream from an intact stream holding a bad capture.
 * 1 and msg filled when the stream is damaged, 0 when it is whole (or plain); the input
 * gives no more frames afterwards.
 */
int obs_rin_finish(struct obs_rin *in, char *msg, size_t msglen);
/* Compressed bytes read so far and bytes handed to libpcap (0 / 0 for a plain file). */
void obs_rin_bytes(struct obs_rin *in, uint64_t *in_bytes, uint64_t *out_bytes);
void obs_rin_close(struct obs_rin *in);

/* What the first bytes b[0..n) say: 0 plain pcap, 1 plain pcapng, 2 gzip, 3 zstd, -1
 * none of them (exposed for the tests). */
int obs_rin_magic(const uint8_t *b, size_t n);

#endif
