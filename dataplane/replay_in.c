/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * replay_in.c — replay input files: magic, decompression, the stream libpcap reads
 * (replay_in.h).
 *
 * A compressed (or non-seekable) file gets a decompressor thread that fills
 * OBS_RIN_NCHUNK chunks of OBS_RIN_CHUNK bytes in turn; the reader takes them in order
 * through the read function of a fopencookie() stream, which is what libpcap is given.
 * The two sides meet only at chunk boundaries (one mutex, two condition variables): a
 * full set of chunks makes the decompressor sleep, an empty one makes the reader sleep.
 * Neither spins.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <zlib.h>
#include <zstd.h>

#include "replay_in.h"

#define OBS_RIN_CHUNK   (1u << 20)      /* decompressed bytes per hand-over */
#define OBS_RIN_NCHUNK  4u
#define OBS_RIN_INBUF   (256u << 10)    /* compressed bytes per read */
#define OBS_RIN_PLAIN_BUF (1u << 20)    /* stdio buffer of a plain file */
#define OBS_RIN_COOKIE_BUF (256u << 10) /* stdio buffer libpcap reads chunks through */

enum { OBS_MAGIC_PCAP = 0, OBS_MAGIC_PCAPNG = 1, OBS_MAGIC_GZIP = 2, OBS_MAGIC_ZSTD = 3 };

struct obs_rin {
	const char *path;
	FILE *raw;                      /* the file itself */
	pcap_t *p;
	enum obs_rin_comp comp;
	int inner;                      /* OBS_MAGIC_PCAP or _PCAPNG, -1 unknown */
	char fmt[24];

	/* decompressor side (thread), hand-over under mu */
	pthread_t th;
	bool th_up;
	pthread_mutex_t mu;
	pthread_cond_t cv_full;         /* a chunk was filled, or the decompressor ended */
	pthread_cond_t cv_free;         /* a chunk was handed back, or the reader closes */
	uint8_t *buf[OBS_RIN_NCHUNK];
	size_t len[OBS_RIN_NCHUNK];
	unsigned head, tail, n_full;
	bool done, stop;
	int err;                        /* 0, or the decompressor stopped on bad input */
	char msg[320];
	uint64_t in_bytes, out_bytes;
	char *sbuf, *cbuf;              /* stdio buffers of raw and of the cookie stream */
	uint8_t magic[4];               /* the first bytes, already read from raw */
	size_t n_magic;

	/* reader side: the chunk being read */
	bool have_cur;
	size_t cur_off;
};

static const uint8_t obs_gzip_magic[2] = { 0x1f, 0x8b };

int obs_rin_magic(const uint8_t *b, size_t n)
{
	uint32_t le;

	if (n >= 2 && memcmp(b, obs_gzip_magic, 2) == 0)
		return OBS_MAGIC_GZIP;
	if (n < 4)
		return -1;
	le = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
	/* a zstd frame (RFC 8878 3.1.1) or a skippable frame (3.1.2) */
	if (le == 0xfd2fb528u || (le & 0xfffffff0u) == 0x184d2a50u)
		return OBS_MAGIC_ZSTD;
	/* pcap: micro- or nanosecond, either byte order */
	if (le == 0xa1b2c3d4u || le == 0xd4c3b2a1u || le == 0xa1b23c4du || le == 0x4d3cb2a1u)
		return OBS_MAGIC_PCAP;
	/* pcapng: a Section Header Block (block type 0x0a0d0d0a, a palindrome) */
	if (le == 0x0a0d0d0au)
		return OBS_MAGIC_PCAPNG;
	return -1;
}

/* ---- the decompressor thread ------------------------------------------------------- */

struct obs_rin_dec {
	struct obs_rin *in;
	uint8_t *ibuf;
	size_t i_len, i_pos;            /* compressed bytes in ibuf, consumed */
	bool in_eof;
	z_stream zs;
	bool zs_up, member_end;
	unsigned members;
	ZSTD_DStream *zd;
	size_t zlast;                   /* last ZSTD_decompressStream() hint: 0 = frame end */
	uint64_t out_base;              /* bytes decompressed before the chunk being filled */
};

/* Stop with a reason (decompressor thread, before it publishes done): fmt has a %s for
 * what, then the compressed bytes read and the bytes decompressed so far. */
static void obs_rin_fail(struct obs_rin_dec *d, size_t pos, const char *fmt, const char *what)
{
	struct obs_rin *in = d->in;

	snprintf(in->msg, sizeof(in->msg), fmt, what,
	         (unsigned long long)__atomic_load_n(&in->in_bytes, __ATOMIC_RELAXED),
	         (unsigned long long)(d->out_base + pos));
	in->err = 1;
}

/* More compressed bytes into ibuf when it is used up.  0, or -1 (read error, set). */
static int obs_rin_refill(struct obs_rin_dec *d, size_t pos)
{
	struct obs_rin *in = d->in;
	size_t n;

	if (d->i_pos < d->i_len || d->in_eof)
		return 0;
	d->i_pos = 0;
	d->i_len = 0;
	if (in->n_magic > 0) {          /* the bytes open() looked at come first */
		memcpy(d->ibuf, in->magic, in->n_magic);
		d->i_len = in->n_magic;
		in->n_magic = 0;
	}
	n = fread(d->ibuf + d->i_len, 1, OBS_RIN_INBUF - d->i_len, in->raw);
	d->i_len += n;
	__atomic_add_fetch(&in->in_bytes, d->i_len, __ATOMIC_RELAXED);
	if (d->i_len == 0) {
		if (ferror(in->raw)) {
			obs_rin_fail(d, pos, "read error (%s) after %llu input bytes (%llu out)",
			             strerror(errno));
			return -1;
		}
		d->in_eof = true;
	}
	return 0;
}

/*
 * Fill out[0..cap) with decompressed bytes.  Returns the bytes written; *end is set when
 * the input is over (cleanly, or with in->err set).  A decoder call that makes no
 * progress at the end of the input means the stream stops inside a member or frame.
 */
static size_t obs_rin_fill(struct obs_rin_dec *d, uint8_t *out, size_t cap, bool *end)
{
	struct obs_rin *in = d->in;
	size_t pos = 0;

	*end = false;
	while (pos < cap && !*end) {
		size_t i0, o0 = pos;

		if (obs_rin_refill(d, pos) != 0) {
			*end = true;
			break;
		}
		i0 = d->i_pos;
		if (in->comp == OBS_RIN_PLAIN) {        /* non-seekable plain input: a copy */
			size_t n = d->i_len - d->i_pos < cap - pos ? d->i_len - d->i_pos : cap - pos;

			if (d->in_eof) {
				*end = true;
				break;
			}
			memcpy(out + pos, d->ibuf + d->i_pos, n);
			d->i_pos += n;
			pos += n;
		} else if (in->comp == OBS_RIN_GZIP) {
			int r;

			if (d->member_end) {
				/* RFC 1952 2.2: members may follow one another; anything else after
				 * a member is not gzip, which inflate's header check says */
				if (d->in_eof) {
					*end = true;
					break;
				}
				inflateReset(&d->zs);
				d->member_end = false;
			}
			d->zs.next_in = d->ibuf + d->i_pos;
			d->zs.avail_in = (uInt)(d->i_len - d->i_pos);
			d->zs.next_out = out + pos;
			d->zs.avail_out = (uInt)(cap - pos);
			r = inflate(&d->zs, Z_NO_FLUSH);
			d->i_pos = d->i_len - d->zs.avail_in;
			pos = cap - d->zs.avail_out;
			if (r == Z_STREAM_END) {
				d->member_end = true;
				d->members++;
			} else if (r != Z_OK && r != Z_BUF_ERROR) {
				char why[160];

				snprintf(why, sizeof(why), "%s%s", d->members > 0 &&
				         r == Z_DATA_ERROR && d->zs.total_out == 0 ?
				         "what follows the last gzip member is not gzip: " : "",
				         d->zs.msg != NULL ? d->zs.msg : zError(r));
				obs_rin_fail(d, pos, "corrupt gzip stream (%s) after %llu input bytes "
				             "(%llu decompressed)", why);
				*end = true;
			} else if (d->in_eof && d->i_pos == i0 && pos == o0) {
				obs_rin_fail(d, pos, "truncated %s stream: it ends inside a member, "
				             "after %llu input bytes (%llu decompressed)", "gzip");
				*end = true;
			}
		} else {
			ZSTD_inBuffer zi = { d->ibuf, d->i_len, d->i_pos };
			ZSTD_outBuffer zo = { out, cap, pos };
			size_t r;

			if (d->in_eof && d->zlast == 0) {       /* the last frame was whole */
				*end = true;
				break;
			}
			r = ZSTD_decompressStream(d->zd, &zo, &zi);
			d->i_pos = zi.pos;
			pos = zo.pos;
			if (ZSTD_isError(r)) {
				obs_rin_fail(d, pos, "corrupt zstd stream (%s) after %llu input bytes "
				             "(%llu decompressed)", ZSTD_getErrorName(r));
				*end = true;
			} else if (d->in_eof && d->i_pos == i0 && pos == o0) {
				obs_rin_fail(d, pos, "truncated %s stream: it ends inside a frame, "
				             "after %llu input bytes (%llu decompressed)", "zstd");
				*end = true;
			}
			d->zlast = r;
		}
	}
	return pos;
}

static void *obs_rin_thread(void *arg)
{
	struct obs_rin_dec d = { .in = arg, .zlast = 1 };
	struct obs_rin *in = arg;
	uint64_t out_total = 0;
	bool end = false;

	d.ibuf = malloc(OBS_RIN_INBUF);
	if (d.ibuf == NULL) {
		snprintf(in->msg, sizeof(in->msg), "out of memory for the decompressor");
		in->err = 1;
		end = true;
	} else if (in->comp == OBS_RIN_GZIP) {
		/* 15 + 16: gzip wrapper only (RFC 1952), the largest window */
		if (inflateInit2(&d.zs, 15 + 16) != Z_OK) {
			snprintf(in->msg, sizeof(in->msg), "cannot start zlib");
			in->err = 1;
			end = true;
		}
		d.zs_up = !end;
	} else if (in->comp == OBS_RIN_ZSTD) {
		d.zd = ZSTD_createDStream();
		if (d.zd == NULL || ZSTD_isError(ZSTD_initDStream(d.zd))) {
			snprintf(in->msg, sizeof(in->msg), "cannot start zstd");
			in->err = 1;
			end = true;
		}
	}
	while (!end) {
		unsigned idx;
		size_t n;

		pthread_mutex_lock(&in->mu);
		while (in->n_full == OBS_RIN_NCHUNK && !in->stop)
			pthread_cond_wait(&in->cv_free, &in->mu);
		idx = in->head;
		end = in->stop;
		pthread_mutex_unlock(&in->mu);
		if (end)
			break;
		d.out_base = out_total;
		n = obs_rin_fill(&d, in->buf[idx], OBS_RIN_CHUNK, &end);
		out_total += n;
		pthread_mutex_lock(&in->mu);
		in->out_bytes = out_total;
		if (n > 0) {
			in->len[idx] = n;
			in->head = (in->head + 1) % OBS_RIN_NCHUNK;
			in->n_full++;
		}
		/* the end with its last chunk, so a reader that sees the chunk sees why */
		in->done = end;
		pthread_cond_signal(&in->cv_full);
		pthread_mutex_unlock(&in->mu);
	}
	pthread_mutex_lock(&in->mu);
	in->done = true;
	pthread_cond_broadcast(&in->cv_full);
	pthread_mutex_unlock(&in->mu);
	if (d.zs_up)
		inflateEnd(&d.zs);
	ZSTD_freeDStream(d.zd);
	free(d.ibuf);
	return NULL;
}

/* ---- the reader's side: the stream libpcap reads ----------------------------------- */

/* Wait for the next chunk.  1 = there is one (in->tail), 0 = the end. */
static int obs_rin_next_chunk(struct obs_rin *in)
{
	int have;

	pthread_mutex_lock(&in->mu);
	while (in->n_full == 0 && !in->done)
		pthread_cond_wait(&in->cv_full, &in->mu);
	have = in->n_full > 0;
	pthread_mutex_unlock(&in->mu);
	return have;
}

static ssize_t obs_rin_cookie_read(void *cookie, char *buf, size_t size)
{
	struct obs_rin *in = cookie;
	size_t got = 0;

	while (got < size) {
		size_t n;

		if (!in->have_cur) {
			if (!obs_rin_next_chunk(in)) {
				if (got > 0)
					return (ssize_t)got;
				if (in->err) {
					/* stdio marks the stream in error: libpcap reports a read
					 * error, never a clean end of file */
					errno = EIO;
					return -1;
				}
				return 0;
			}
			in->have_cur = true;
			in->cur_off = 0;
		}
		/* the chunk at tail is the reader's until it hands it back */
		n = in->len[in->tail] - in->cur_off;
		if (n > size - got)
			n = size - got;
		memcpy(buf + got, in->buf[in->tail] + in->cur_off, n);
		in->cur_off += n;
		got += n;
		if (in->cur_off == in->len[in->tail]) {
			pthread_mutex_lock(&in->mu);
			in->tail = (in->tail + 1) % OBS_RIN_NCHUNK;
			in->n_full--;
			pthread_cond_signal(&in->cv_free);
			pthread_mutex_unlock(&in->mu);
			in->have_cur = false;
		}
	}
	return (ssize_t)got;
}

static int obs_rin_start_thread(struct obs_rin *in, char *err, size_t errlen)
{
	int r;

	for (unsigned i = 0; i < OBS_RIN_NCHUNK; i++) {
		in->buf[i] = malloc(OBS_RIN_CHUNK);
		if (in->buf[i] == NULL) {
			snprintf(err, errlen, "%s: out of memory for the decompression buffers",
			         in->path);
			return -ENOMEM;
		}
	}
	pthread_mutex_init(&in->mu, NULL);
	pthread_cond_init(&in->cv_full, NULL);
	pthread_cond_init(&in->cv_free, NULL);
	r = pthread_create(&in->th, NULL, obs_rin_thread, in);
	if (r != 0) {
		snprintf(err, errlen, "%s: cannot start the decompressor thread: %s", in->path,
		         strerror(r));
		return -r;
	}
	pthread_setname_np(in->th, "obs-decompress");
	in->th_up = true;
	return 0;
}

static const char *obs_rin_comp_ext(enum obs_rin_comp c)
{
	return c == OBS_RIN_GZIP ? ".gz" : c == OBS_RIN_ZSTD ? ".zst" : "";
}

struct obs_rin *obs_rin_open(const char *path, char *err, size_t errlen)
{
	static const cookie_io_functions_t io = { .read = obs_rin_cookie_read };
	char perr[PCAP_ERRBUF_SIZE], dmsg[320];
	struct obs_rin *in;
	struct stat st;
	FILE *stream = NULL;
	int magic;

	in = calloc(1, sizeof(*in));
	if (in == NULL) {
		snprintf(err, errlen, "%s: out of memory", path);
		return NULL;
	}
	in->path = path;
	in->inner = -1;
	in->raw = fopen(path, "rb");
	if (in->raw == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto fail;
	}
	/* before any read: stdio takes a buffer only then (a plain file is read by libpcap
	 * through it; 4 KiB reads would cost a system call every ~50 frames) */
	in->sbuf = malloc(OBS_RIN_PLAIN_BUF);     /* glibc ignores the size without one */
	if (in->sbuf != NULL)
		setvbuf(in->raw, in->sbuf, _IOFBF, OBS_RIN_PLAIN_BUF);
	if (fstat(fileno(in->raw), &st) == 0 && S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "%s: is a directory", path);
		goto fail;
	}
	in->n_magic = fread(in->magic, 1, sizeof(in->magic), in->raw);
	if (in->n_magic == 0) {
		snprintf(err, errlen, "%s: %s", path, ferror(in->raw) ? strerror(errno) :
		         "empty file, not a capture");
		goto fail;
	}
	magic = obs_rin_magic(in->magic, in->n_magic);
	if (magic < 0) {
		snprintf(err, errlen, "%s: not a pcap, pcapng, gzip or zstd file (it starts "
		         "with %02x %02x %02x %02x)", path, in->magic[0],
		         in->n_magic > 1 ? in->magic[1] : 0, in->n_magic > 2 ? in->magic[2] : 0,
		         in->n_magic > 3 ? in->magic[3] : 0);
		goto fail;
	}
	in->comp = magic == OBS_MAGIC_GZIP ? OBS_RIN_GZIP :
	           magic == OBS_MAGIC_ZSTD ? OBS_RIN_ZSTD : OBS_RIN_PLAIN;
	if (in->comp == OBS_RIN_PLAIN && S_ISREG(st.st_mode) &&
	    fseek(in->raw, 0, SEEK_SET) == 0) {
		/* a plain regular file: libpcap reads it directly, through a large buffer */
		in->inner = magic;
		in->n_magic = 0;
		posix_fadvise(fileno(in->raw), 0, 0, POSIX_FADV_SEQUENTIAL);
		stream = in->raw;
	} else {
		/* compressed, or a pipe: through the decompressor thread (a pipe's first
		 * bytes are already read, so it cannot be handed to libpcap as it is) */
		if (S_ISREG(st.st_mode))
			posix_fadvise(fileno(in->raw), 0, 0, POSIX_FADV_SEQUENTIAL);
		if (obs_rin_start_thread(in, err, errlen) != 0)
			goto fail;
		if (obs_rin_next_chunk(in)) {
			const uint8_t *b = in->buf[in->tail];

			in->inner = obs_rin_magic(b, in->len[in->tail]);
			if (in->inner != OBS_MAGIC_PCAP && in->inner != OBS_MAGIC_PCAPNG &&
			    obs_rin_error(in, dmsg, sizeof(dmsg))) {
				/* a stream cut or broken in its first bytes: that is the reason */
				snprintf(err, errlen, "%s: %s", path, dmsg);
				goto fail;
			}
			if (in->inner != OBS_MAGIC_PCAP && in->inner != OBS_MAGIC_PCAPNG) {
				snprintf(err, errlen, "%s: %s data that is not a pcap or pcapng "
				         "capture (it starts with %02x %02x %02x %02x)", path,
				         in->comp == OBS_RIN_GZIP ? "gzip" : in->comp == OBS_RIN_ZSTD ?
				         "zstd" : "piped", b[0], in->len[in->tail] > 1 ? b[1] : 0,
				         in->len[in->tail] > 2 ? b[2] : 0,
				         in->len[in->tail] > 3 ? b[3] : 0);
				goto fail;
			}
		} else {
			snprintf(err, errlen, "%s: %s", path, in->err ? in->msg :
			         "nothing inside the compressed stream");
			goto fail;
		}
		stream = fopencookie(in, "rb", io);
		if (stream == NULL) {
			snprintf(err, errlen, "%s: cannot open a stream: %s", path, strerror(errno));
			goto fail;
		}
		in->cbuf = malloc(OBS_RIN_COOKIE_BUF);
		if (in->cbuf != NULL)
			setvbuf(stream, in->cbuf, _IOFBF, OBS_RIN_COOKIE_BUF);
	}
	snprintf(in->fmt, sizeof(in->fmt), "%s%s", in->inner == OBS_MAGIC_PCAPNG ? "pcapng" :
	         "pcap", obs_rin_comp_ext(in->comp));
	in->p = pcap_fopen_offline_with_tstamp_precision(stream, PCAP_TSTAMP_PRECISION_NANO, perr);
	if (in->p == NULL) {
		/* libpcap does not close a stream it refused */
		if (obs_rin_error(in, dmsg, sizeof(dmsg)))
			snprintf(err, errlen, "%s: %s", path, dmsg);
		else
			snprintf(err, errlen, "%s (%s): %s", path, in->fmt, perr);
		if (stream != in->raw)
			fclose(stream);         /* the cookie stream; raw is closed below */
		goto fail;
	}
	if (stream == in->raw)
		in->raw = NULL;         /* libpcap owns it now */
	return in;
fail:
	obs_rin_close(in);
	return NULL;
}

pcap_t *obs_rin_pcap(struct obs_rin *in)
{
	return in->p;
}

const char *obs_rin_format(const struct obs_rin *in)
{
	return in->fmt;
}

enum obs_rin_comp obs_rin_comp(const struct obs_rin *in)
{
	return in->comp;
}

int obs_rin_error(struct obs_rin *in, char *msg, size_t msglen)
{
	int e = 0;

	if (!in->th_up)
		return 0;
	pthread_mutex_lock(&in->mu);
	if (in->done && in->err) {
		snprintf(msg, msglen, "%s", in->msg);
		e = 1;
	}
	pthread_mutex_unlock(&in->mu);
	return e;
}

int obs_rin_finish(struct obs_rin *in, char *msg, size_t msglen)
{
	if (!in->th_up)
		return 0;
	/* hand back whatever the reader holds, then let the decompressor run to its end */
	pthread_mutex_lock(&in->mu);
	for (;;) {
		if (in->n_full > 0) {
			in->tail = (in->tail + 1) % OBS_RIN_NCHUNK;
			in->n_full--;
			pthread_cond_signal(&in->cv_free);
			continue;
		}
		if (in->done)
			break;
		pthread_cond_wait(&in->cv_full, &in->mu);
	}
	in->have_cur = false;
	pthread_mutex_unlock(&in->mu);
	return obs_rin_error(in, msg, msglen);
}

void obs_rin_bytes(struct obs_rin *in, uint64_t *in_bytes, uint64_t *out_bytes)
{
	*in_bytes = 0;
	*out_bytes = 0;
	if (!in->th_up)
		return;
	pthread_mutex_lock(&in->mu);
	*out_bytes = in->out_bytes;
	pthread_mutex_unlock(&in->mu);
	*in_bytes = __atomic_load_n(&in->in_bytes, __ATOMIC_RELAXED);
}

void obs_rin_close(struct obs_rin *in)
{
	if (in == NULL)
		return;
	if (in->p != NULL)
		pcap_close(in->p);      /* closes the stream it reads (raw, or the cookie) */
	if (in->th_up) {
		pthread_mutex_lock(&in->mu);
		in->stop = true;
		pthread_cond_broadcast(&in->cv_free);
		pthread_mutex_unlock(&in->mu);
		pthread_join(in->th, NULL);
		pthread_mutex_destroy(&in->mu);
		pthread_cond_destroy(&in->cv_full);
		pthread_cond_destroy(&in->cv_free);
	}
	if (in->raw != NULL)
		fclose(in->raw);
	for (unsigned i = 0; i < OBS_RIN_NCHUNK; i++)
		free(in->buf[i]);
	free(in->sbuf);                 /* after every stream using them is closed */
	free(in->cbuf);
	free(in);
}
