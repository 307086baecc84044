/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * journal.c — append, sync, replay and truncation of the drained-epoch journal
 * (journal.h).
 *
 * Appends are one writev() each; the file is O_APPEND so a record always lands at the
 * end even after truncation.  fdatasync() is the durability point the drain waits for.
 *
 * Segments: a snapshot written in the background (persist.c) covers what the journal
 * held when it started, while new epochs keep coming.  So the journal is rotated then
 * (journal -> journal.<n>, a fresh journal for what follows) and the segments up to n
 * are removed once that snapshot is durable.  Replay reads the segments in ascending n,
 * then the journal: a worker's epochs stay in seq order, which the store's dedup needs.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "cp_log.h"
#include "crc32c.h"
#include "grow.h"
#include "journal.h"
#include "order.h"
#include "statefile.h"

#define CP_JREC_NWORDS (sizeof(struct obx_counters) / sizeof(uint64_t))
/* A record holds at most one slot's tables; anything larger than this is garbage, not a
 * record (checked before any allocation, along with the file size). */
#define CP_JREC_MAX_LEN (1ull << 36)
#define CP_JREC_V1_SRC  40u   /* exchange v1 source record */
#define CP_JREC_X2_SRC  48u   /* layout v2 source record: no inline event (v3) */
#define CP_JOURNAL_ERR_S 10u  /* write errors (a full disk): one log line per 10 s */

uint64_t cp_journal_seg_number(const char *name)
{
	const char *p = name + sizeof(CP_JOURNAL_NAME);
	char *end;
	uint64_t n;

	if (strncmp(name, CP_JOURNAL_NAME ".", sizeof(CP_JOURNAL_NAME)) != 0 || *p < '1' ||
	    *p > '9')
		return 0;
	n = strtoull(p, &end, 10);
	return *end == '\0' ? n : 0;
}

/* The segment numbers in dir, ascending, into a new array (*n of them). */
static int cp_seg_list(const char *dir, uint64_t **out, size_t *n)
{
	uint64_t *v = NULL;
	size_t k = 0, cap = 0;
	struct dirent *de;
	DIR *d = opendir(dir);

	*out = NULL;
	*n = 0;
	if (d == NULL)
		return -errno;
	while ((de = readdir(d)) != NULL) {
		uint64_t s = cp_journal_seg_number(de->d_name);

		if (s == 0)
			continue;
		uint64_t *nv = cp_grow(v, &cap, k + 1, sizeof(*v), 8);

		if (nv == NULL) {
			free(v);
			closedir(d);
			return -ENOMEM;
		}
		v = nv;
		v[k++] = s;
	}
	closedir(d);
	if (k > 1)
		qsort(v, k, sizeof(*v), cp_cmp_u64);
	*out = v;
	*n = k;
	return 0;
}

static void cp_seg_path(const struct cp_journal *j, uint64_t seg, char *out, size_t len)
{
	snprintf(out, len, "%s.%" PRIu64, j->path, seg);
}

int cp_journal_open(struct cp_journal *j, const char *dir)
{
	struct stat st;
	bool created = false;
	uint64_t *segs;
	size_t n_segs;
	int ret;

	memset(j, 0, sizeof(*j));
	j->fd = -1;
	if ((size_t)snprintf(j->path, sizeof(j->path), "%s/%s", dir, CP_JOURNAL_NAME) >=
	    sizeof(j->path) || (size_t)snprintf(j->dir, sizeof(j->dir), "%s", dir) >= sizeof(j->dir))
		return -ENAMETOOLONG;
	ret = cp_seg_list(dir, &segs, &n_segs);
	if (ret != 0)
		return ret;
	j->n_segments = (uint32_t)n_segs;
	j->next_seg = n_segs ? segs[n_segs - 1] + 1 : 1;
	free(segs);
	if (stat(j->path, &st) != 0)
		created = true;
	j->fd = cp_state_open(j->path, O_RDWR | O_CREAT | O_APPEND, 0640);
	if (j->fd < 0) {
		ret = j->fd;
		j->fd = -1;
		CP_ERR("journal: cannot open %s: %s", j->path, strerror(-ret));
		return ret;
	}
	if (fstat(j->fd, &st) != 0) {
		ret = -errno;
		goto err_close;
	}
	j->size = (uint64_t)st.st_size;
	/* a new file's directory entry must be durable before we rely on the file */
	if (created && (ret = cp_fsync_dir(dir)) != 0) {
		CP_ERR("journal: cannot sync directory %s: %s", dir, strerror(-ret));
		goto err_close;
	}
	return 0;
err_close:
	close(j->fd);
	j->fd = -1;
	return ret;
}

void cp_journal_close(struct cp_journal *j)
{
	if (j->fd >= 0)
		close(j->fd);
	j->fd = -1;
}

static uint32_t cp_jrec_crc(const struct cp_jrec *h, const void *payload, size_t len)
{
	struct cp_jrec tmp = *h;
	uint32_t crc;

	tmp.crc = 0;
	crc = cp_crc32c(0, &tmp, sizeof(tmp));
	return cp_crc32c(crc, payload, len);
}

int cp_journal_append(struct cp_journal *j, const struct cp_epoch *e)
{
	struct cp_jrec h;
	struct cp_jtab th[OBX_TAB_MAX];
	struct iovec iov[2 + 2 * OBX_TAB_MAX];
	size_t total = 0, done = 0;
	int n_iov = 0, ret;

	if (j->fd < 0)
		return -EBADF;
	if (e->n_tabs > OBX_TAB_MAX)
		return -EINVAL;
	memset(&h, 0, sizeof(h));
	h.magic = CP_JREC_MAGIC;
	h.hdr_len = sizeof(h);
	h.boot_id = e->boot_id;
	h.seq = e->seq;
	h.worker = e->worker;
	h.flags = e->flags;
	h.n_tabs = e->n_tabs;
	h.n_counters = CP_JREC_NWORDS;
	h.t_first_ns = e->t_first_ns;
	h.t_last_ns = e->t_last_ns;
	h.published_wall_ns = e->published_wall_ns;

	iov[n_iov].iov_base = &h;
	iov[n_iov++].iov_len = sizeof(h);
	iov[n_iov].iov_base = (void *)&e->delta;
	iov[n_iov++].iov_len = sizeof(e->delta);
	for (uint32_t i = 0; i < e->n_tabs; i++) {
		memset(&th[i], 0, sizeof(th[i]));
		th[i].kind = e->tabs[i].kind;
		th[i].rec_size = e->tabs[i].rec_size;
		th[i].n = e->tabs[i].n;
		iov[n_iov].iov_base = &th[i];
		iov[n_iov++].iov_len = sizeof(th[i]);
		iov[n_iov].iov_base = (void *)e->tabs[i].recs;
		iov[n_iov++].iov_len = (size_t)e->tabs[i].n * e->tabs[i].rec_size;
	}
	for (int i = 1; i < n_iov; i++)
		h.length += iov[i].iov_len;
	h.crc = cp_crc32c(0, &h, sizeof(h));   /* crc field is 0 here */
	for (int i = 1; i < n_iov; i++)
		h.crc = cp_crc32c(h.crc, iov[i].iov_base, iov[i].iov_len);
	total = sizeof(h) + (size_t)h.length;

	while (done < total) {
		struct iovec v[2 + 2 * OBX_TAB_MAX];
		size_t skip = done;
		int n = 0;
		ssize_t w;

		for (int i = 0; i < n_iov; i++) {
			if (skip >= iov[i].iov_len) {
				skip -= iov[i].iov_len;
				continue;
			}
			v[n].iov_base = (uint8_t *)iov[i].iov_base + skip;
			v[n].iov_len = iov[i].iov_len - skip;
			skip = 0;
			n++;
		}
		w = writev(j->fd, v, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			ret = -errno;
			goto err_cut;
		}
		done += (size_t)w;
	}
	j->size += total;
	j->n_records++;
	j->n_unsynced++;
	return 0;
err_cut:
	CP_ERR_RL(&j->err_rl, CP_JOURNAL_ERR_S, "journal: append to %s failed: %s", j->path,
	          strerror(-ret));
	/* drop the partial record so the next append does not follow garbage */
	if (ftruncate(j->fd, (off_t)j->size) != 0)
		CP_ERR_RL(&j->err_rl, CP_JOURNAL_ERR_S, "journal: cannot cut %s back to %llu bytes: %s", j->path,
		       (unsigned long long)j->size, strerror(errno));
	return ret;
}

int cp_journal_sync(struct cp_journal *j)
{
	if (j->fd < 0)
		return -EBADF;
	if (j->n_unsynced == 0)
		return 0;
	if (fdatasync(j->fd) != 0) {
		int ret = -errno;

		CP_ERR_RL(&j->err_rl, CP_JOURNAL_ERR_S, "journal: fdatasync %s: %s", j->path,
		          strerror(errno));
		return ret;
	}
	j->n_unsynced = 0;
	return 0;
}

int cp_journal_truncate(struct cp_journal *j)
{
	if (j->fd < 0)
		return -EBADF;
	if (ftruncate(j->fd, 0) != 0 || fdatasync(j->fd) != 0) {
		int ret = -errno;

		CP_ERR("journal: cannot truncate %s: %s", j->path, strerror(errno));
		return ret;
	}
	j->size = 0;
	j->n_records = 0;
	j->n_unsynced = 0;
	return cp_journal_drop(j, UINT64_MAX);
}

int cp_journal_rotate(struct cp_journal *j, uint64_t *seg)
{
	char sp[600];
	int fd, ret;

	if (j->fd < 0)
		return -EBADF;
	if (j->size == 0) {          /* nothing since the last rotation: the segments suffice */
		*seg = j->next_seg - 1;
		return 0;
	}
	ret = cp_journal_sync(j);
	if (ret != 0)
		return ret;
	cp_seg_path(j, j->next_seg, sp, sizeof(sp));
	if (rename(j->path, sp) != 0) {
		ret = -errno;
		CP_ERR("journal: cannot rotate %s to %s: %s", j->path, sp, strerror(errno));
		return ret;
	}
	fd = cp_state_open(j->path, O_RDWR | O_CREAT | O_APPEND, 0640);
	if (fd < 0 || (ret = cp_fsync_dir(j->dir)) != 0) {
		ret = fd < 0 ? fd : ret;
		CP_ERR("journal: cannot start a new %s: %s", j->path, strerror(-ret));
		if (fd >= 0)
			close(fd);
		if (rename(sp, j->path) != 0)   /* back: appends go on where they were */
			CP_ERR("journal: cannot move %s back: %s", sp, strerror(errno));
		return ret;
	}
	close(j->fd);
	j->fd = fd;
	*seg = j->next_seg++;
	j->n_segments++;
	j->size = 0;
	j->n_records = 0;
	return 0;
}

int cp_journal_recount(struct cp_journal *j)
{
	uint64_t *segs;
	size_t n;
	int ret = cp_seg_list(j->dir, &segs, &n);

	if (ret == 0)
		j->n_segments = (uint32_t)n;
	free(segs);
	return ret;
}

int cp_journal_drop(struct cp_journal *j, uint64_t upto)
{
	uint64_t *segs;
	size_t n;
	int ret = cp_seg_list(j->dir, &segs, &n), kept = 0;

	if (ret != 0)
		return ret;
	for (size_t i = 0; i < n; i++) {
		char sp[600];

		if (segs[i] > upto) {
			kept++;
			continue;
		}
		cp_seg_path(j, segs[i], sp, sizeof(sp));
		if (unlink(sp) != 0 && errno != ENOENT) {
			/* harmless for correctness: replay deduplicates against the snapshot */
			CP_WARN("journal: cannot remove %s: %s", sp, strerror(errno));
			kept++;
		}
	}
	free(segs);
	j->n_segments = (uint32_t)kept;
	return n ? cp_fsync_dir(j->dir) : 0;
}

static int cp_pread_full(int fd, void *buf, size_t len, uint64_t off)
{
	size_t done = 0;

	while (done < len) {
		ssize_t r = pread(fd, (uint8_t *)buf + done, len - done, (off_t)(off + done));

		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (r == 0)
			return 0;   /* short: caller compares */
		done += (size_t)r;
	}
	return 1;
}

/* Room for n converted source records in *buf (older layouts, below). */
static int cp_jrec_srcbuf(struct obx_src_rec **buf, size_t *cap, size_t n)
{
	struct obx_src_rec *p;

	if (n <= *cap)
		return 0;
	p = realloc(*buf, n * sizeof(*p));
	if (p == NULL)
		return -ENOMEM;
	*buf = p;
	*cap = n;
	return 0;
}

/*
 * Point e's tables into a checked record payload (buf: nwords counter words, then the
 * tables).  A v1 record's 40-byte source records, and a layout-v2 record's 48-byte ones,
 * are converted into *v1buf (grown as needed).  0, -EBADMSG (the tables do not add up to
 * the length), -ENOMEM.
 */
static int cp_jrec_tables(const struct cp_jrec *h, const uint8_t *buf, uint64_t nwords,
                          struct cp_epoch *e, struct obx_src_rec **v1buf, size_t *v1cap)
{
	uint64_t at = nwords * 8;

	e->n_tabs = 0;
	if (h->magic == CP_JREC_MAGIC_V1) {
		/* v1: addr, reserved, first, last, packets, sensor_mask (40 bytes) */
		if (cp_jrec_srcbuf(v1buf, v1cap, h->n_tabs) != 0)
			return -ENOMEM;
		for (uint32_t i = 0; i < h->n_tabs; i++) {
			const uint8_t *p = buf + at + (uint64_t)i * CP_JREC_V1_SRC;
			struct obx_src_rec *r = &(*v1buf)[i];

			memset(r, 0, sizeof(*r));
			memcpy(&r->addr, p, 4);
			memcpy(&r->first_ns, p + 8, 8);
			memcpy(&r->last_ns, p + 16, 8);
			memcpy(&r->packets, p + 24, 8);
			memcpy(&r->sensor_mask, p + 32, 8);
			r->hour = (uint32_t)(r->first_ns / OBX_HOUR_NS);
		}
		e->n_tabs = 1;
		e->tabs[0] = (struct cp_tab){ .kind = OBX_TAB_SRC, .rec_size = sizeof(struct obx_src_rec),
		                              .n = h->n_tabs, .recs = *v1buf };
		return 0;
	}
	for (uint32_t i = 0; i < h->n_tabs; i++) {
		struct cp_jtab t;
		uint64_t bytes;

		if (h->length - at < sizeof(t))
			return -EBADMSG;
		memcpy(&t, buf + at, sizeof(t));
		at += sizeof(t);
		bytes = (uint64_t)t.n * t.rec_size;
		if (t.kind >= OBX_TAB_MAX || t.rec_size % 8 != 0 || h->length - at < bytes)
			return -EBADMSG;
		e->tabs[i] = (struct cp_tab){ .kind = t.kind, .rec_size = t.rec_size, .n = t.n,
		                              .recs = buf + at };
		if (t.kind == OBX_TAB_SRC && t.rec_size == CP_JREC_X2_SRC) {
			/* exchange v2's 48-byte source records: the same fields, no inline
			 * event (ev_mode NONE: their events are in the EVENT table) */
			if (cp_jrec_srcbuf(v1buf, v1cap, t.n) != 0)
				return -ENOMEM;
			for (uint32_t k = 0; k < t.n; k++) {
				memset(&(*v1buf)[k], 0, sizeof(**v1buf));
				memcpy(&(*v1buf)[k], buf + at + (uint64_t)k * CP_JREC_X2_SRC,
				       CP_JREC_X2_SRC);
			}
			e->tabs[i].rec_size = sizeof(struct obx_src_rec);
			e->tabs[i].recs = *v1buf;
		}
		at += bytes;
		e->n_tabs++;
	}
	return at == h->length ? 0 : -EBADMSG;
}

/*
 * Read and check the record at off (end = file size): header, length, CRC.  1 = a valid
 * record in h and *buf (grown as needed); 0 = not a valid record there, why says what,
 * *short_write = the header is plausible but the record runs past the end (or fewer
 * bytes than a header remain): what a crash mid-append leaves; <0 = -errno.
 */
static int cp_jrec_read(int fd, uint64_t off, uint64_t end, struct cp_jrec *h, uint8_t **buf,
                        size_t *cap, char *why, size_t whylen, bool *short_write)
{
	uint64_t nwords;
	int r;

	*short_write = false;
	if (end - off < sizeof(*h)) {
		*short_write = true;
		snprintf(why, whylen, "%llu trailing bytes, shorter than a record header",
		         (unsigned long long)(end - off));
		return 0;
	}
	r = cp_pread_full(fd, h, sizeof(*h), off);
	if (r < 0)
		return r;
	if ((h->magic != CP_JREC_MAGIC && h->magic != CP_JREC_MAGIC_V1) ||
	    h->hdr_len != sizeof(*h)) {
		snprintf(why, whylen, "bad record magic/header size");
		return 0;
	}
	nwords = h->n_counters;
	if (h->length > CP_JREC_MAX_LEN || nwords > 4096 || h->length < nwords * 8 ||
	    h->length % 8 != 0 ||
	    (h->magic == CP_JREC_MAGIC_V1 &&
	     h->length != nwords * 8 + (uint64_t)h->n_tabs * CP_JREC_V1_SRC) ||
	    (h->magic == CP_JREC_MAGIC && h->n_tabs > OBX_TAB_MAX)) {
		snprintf(why, whylen, "record length %llu inconsistent",
		         (unsigned long long)h->length);
		return 0;
	}
	if (h->length > end - off - sizeof(*h)) {
		*short_write = true;
		snprintf(why, whylen, "record of %llu bytes runs past the end of the file",
		         (unsigned long long)h->length);
		return 0;
	}
	if (h->length > *cap) {
		uint8_t *nb = realloc(*buf, (size_t)h->length);

		if (nb == NULL)
			return -ENOMEM;
		*buf = nb;
		*cap = (size_t)h->length;
	}
	r = cp_pread_full(fd, *buf, (size_t)h->length, off + sizeof(*h));
	if (r < 0)
		return r;
	if (r == 0 && h->length != 0) {
		*short_write = true;
		snprintf(why, whylen, "short read");
		return 0;
	}
	if (cp_jrec_crc(h, *buf, (size_t)h->length) != h->crc) {
		snprintf(why, whylen, "record CRC mismatch");
		return 0;
	}
	return 1;
}

/*
 * The offset of the next valid record after a bad one at off (records start on 8-byte
 * boundaries: the header and every payload are multiples of 8), or end when none
 * follows.  A candidate must carry the magic before its CRC is computed, so a damaged
 * region costs one read of it.  <0 = -errno.
 */
static int64_t cp_jrec_resync(int fd, uint64_t off, uint64_t end, uint8_t **buf, size_t *cap)
{
	uint8_t win[65536];

	for (uint64_t at = off + 8; at + sizeof(struct cp_jrec) <= end; ) {
		size_t len = (size_t)(end - at < sizeof(win) ? end - at : sizeof(win));
		int r = cp_pread_full(fd, win, len, at);

		if (r < 0)
			return r;
		for (size_t k = 0; k + 4 <= len; k += 8) {
			uint32_t m;
			struct cp_jrec h;
			char why[128];
			bool sw;

			memcpy(&m, win + k, 4);
			if (m != CP_JREC_MAGIC && m != CP_JREC_MAGIC_V1)
				continue;
			r = cp_jrec_read(fd, at + k, end, &h, buf, cap, why, sizeof(why), &sw);
			if (r < 0)
				return r;
			if (r == 1)
				return (int64_t)(at + k);
		}
		at += len & ~(size_t)7;
		if (len < 8)
			break;
	}
	return (int64_t)end;
}

/* Copy [off, end) of fd to path.bad-<time> before it is cut off.  0 or -errno. */
static int cp_journal_keep_damaged(int fd, const char *path, uint64_t off, uint64_t end,
                                   char *aside, size_t asidelen)
{
	char dst[640];
	long long now = (long long)time(NULL);
	uint8_t blk[65536];
	int out = -1, ret = 0;

	for (unsigned i = 0; i < 1000 && out < 0; i++) {
		if (i == 0)
			snprintf(dst, sizeof(dst), "%s.bad-%lld", path, now);
		else
			snprintf(dst, sizeof(dst), "%s.bad-%lld.%u", path, now, i);
		out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0640);
		if (out < 0 && errno != EEXIST)
			return -errno;
	}
	if (out < 0)
		return -EEXIST;
	while (off < end) {
		size_t len = (size_t)(end - off < sizeof(blk) ? end - off : sizeof(blk));
		int r = cp_pread_full(fd, blk, len, off);

		if (r <= 0) {
			ret = r < 0 ? r : -EIO;
			break;
		}
		if (write(out, blk, len) != (ssize_t)len) {
			ret = -errno;
			break;
		}
		off += len;
	}
	if (ret == 0 && fdatasync(out) != 0)
		ret = -errno;
	close(out);
	if (ret != 0)
		unlink(dst);
	else
		snprintf(aside, asidelen, "%s", dst);
	return ret;
}

/*
 * Apply the valid records of one file (fd, named path) to s, adding to *st.  A bad
 * record costs only itself: replay resumes at the next valid record, and the damaged
 * region is counted.  Only what follows the last valid record is cut off: a short
 * write there is a torn tail (a crash mid-append); anything else is damage, copied
 * aside to path.bad-<time> first (when keep_damaged).  *end_ok gets the offset after the
 * last valid record.  0 or -errno.
 */
int cp_journal_replay_fd(int fd, const char *path, struct cp_store *s,
                         struct cp_journal_replay_stats *st, uint64_t *end_ok,
                         bool keep_damaged)
{
	uint8_t *buf = NULL;
	struct obx_src_rec *v1buf = NULL;
	size_t cap = 0, v1cap = 0;
	uint64_t off = 0, end;
	struct stat sb;
	char why[128] = "";
	bool torn = false;
	int ret = 0;

	if (fstat(fd, &sb) != 0)
		return -errno;
	end = (uint64_t)sb.st_size;

	while (off < end) {
		struct cp_jrec h;
		struct cp_epoch e;
		int64_t next;
		int r;

		r = cp_jrec_read(fd, off, end, &h, &buf, &cap, why, sizeof(why), &torn);
		if (r < 0) {
			ret = r;
			goto out;
		}
		if (r == 0) {
			next = cp_jrec_resync(fd, off, end, &buf, &cap);
			if (next < 0) {
				ret = (int)next;
				goto out;
			}
			if ((uint64_t)next == end)
				break;   /* nothing valid after it: the tail, below */
			st->bad_regions++;
			st->bad_bytes += (uint64_t)next - off;
			if (st->bad_why[0] == '\0')
				snprintf(st->bad_why, sizeof(st->bad_why), "%s: offset %llu: %s", path,
				         (unsigned long long)off, why);
			CP_ERR("journal: %s: damaged region at offset %llu (%llu bytes: %s) "
			       "skipped; replay resumes at the next valid record", path,
			       (unsigned long long)off, (unsigned long long)((uint64_t)next - off), why);
			off = (uint64_t)next;
			continue;
		}

		memset(&e, 0, sizeof(e));
		e.boot_id = h.boot_id;
		e.worker = h.worker;
		e.flags = h.flags;
		e.seq = h.seq;
		e.t_first_ns = h.t_first_ns;
		e.t_last_ns = h.t_last_ns;
		e.published_wall_ns = h.published_wall_ns;
		/* an older or newer counters layout: take the words both know (append-only ABI) */
		if (h.n_counters != 0)
			memcpy(&e.delta, buf, (size_t)(h.n_counters < CP_JREC_NWORDS ? h.n_counters
			                                                    : CP_JREC_NWORDS) * 8);
		r = cp_jrec_tables(&h, buf, h.n_counters, &e, &v1buf, &v1cap);
		if (r == -ENOMEM) {
			ret = r;
			goto out;
		}
		if (r != 0) {
			/* CRC-valid but its tables do not add up: written that way, skip it */
			st->bad_regions++;
			st->bad_bytes += sizeof(h) + h.length;
			if (st->bad_why[0] == '\0')
				snprintf(st->bad_why, sizeof(st->bad_why), "%s: offset %llu: record "
				         "tables inconsistent with its length", path,
				         (unsigned long long)off);
			CP_ERR("journal: %s: record at offset %llu: tables inconsistent with its "
			       "length; skipped", path, (unsigned long long)off);
			off += sizeof(h) + h.length;
			continue;
		}
		st->records++;
		r = cp_store_apply(s, &e);
		if (r == 1) {
			st->duplicates++;
		} else if (r == 0) {
			st->applied++;
		} else if (r == -EINVAL || r == -EPROTO) {
			CP_WARN("journal: %s: skipping %s record at offset %llu (worker %u seq %llu)",
			        path, r == -EPROTO ? "unreadable (record size)" : "invalid",
			        (unsigned long long)off, h.worker, (unsigned long long)h.seq);
		} else {
			ret = r;
			goto out;
		}
		off += sizeof(h) + h.length;
	}
	if (off < end) {
		if (torn) {
			st->torn_bytes += end - off;
			snprintf(st->torn_why, sizeof(st->torn_why), "%s", why);
			CP_WARN("journal: %s: ignoring torn tail at offset %llu (%llu bytes): %s",
			        path, (unsigned long long)off, (unsigned long long)(end - off), why);
		} else {
			/* complete-looking bytes that are no record: damage, not a short write;
			 * kept aside for inspection before the journal goes on after them */
			char aside[640] = "";
			int r = keep_damaged ? cp_journal_keep_damaged(fd, path, off, end, aside,
			                                               sizeof(aside)) : 0;

			st->bad_regions++;
			st->bad_bytes += end - off;
			if (st->bad_why[0] == '\0')
				snprintf(st->bad_why, sizeof(st->bad_why), "%s: offset %llu: %s", path,
				         (unsigned long long)off, why);
			if (r != 0) {
				ret = r;
				CP_ERR("journal: %s: cannot keep the damaged tail at offset %llu aside: "
				       "%s; not cutting it", path, (unsigned long long)off, strerror(-r));
				goto out;
			}
			snprintf(st->set_aside, sizeof(st->set_aside), "%s", aside);
			CP_ERR("journal: %s: damaged tail at offset %llu (%llu bytes: %s) cut%s%s",
			       path, (unsigned long long)off, (unsigned long long)(end - off), why,
			       aside[0] ? ", kept in " : "", aside);
		}
		st->cut_bytes += end - off;
		if (ftruncate(fd, (off_t)off) != 0 || fdatasync(fd) != 0) {
			ret = -errno;
			CP_ERR("journal: cannot cut the tail of %s: %s", path, strerror(errno));
			goto out;
		}
	}
	*end_ok = off;
out:
	free(buf);
	free(v1buf);
	return ret;
}

int cp_journal_replay(struct cp_journal *j, struct cp_store *s,
                      struct cp_journal_replay_stats *st)
{
	uint64_t *segs, end = 0;
	size_t n;
	int ret;

	memset(st, 0, sizeof(*st));
	if (j->fd < 0)
		return -EBADF;
	/* the segments first, oldest first: a worker's epochs in seq order */
	ret = cp_seg_list(j->dir, &segs, &n);
	if (ret != 0)
		return ret;
	for (size_t i = 0; i < n && ret == 0; i++) {
		char sp[600];
		int fd;

		cp_seg_path(j, segs[i], sp, sizeof(sp));
		fd = cp_state_open(sp, O_RDWR, 0);
		if (fd < 0) {
			ret = fd;
			CP_ERR("journal: cannot open %s: %s", sp, strerror(-fd));
			break;
		}
		ret = cp_journal_replay_fd(fd, sp, s, st, &end, true);
		close(fd);
	}
	free(segs);
	if (ret != 0)
		return ret;
	{
		uint64_t before = st->records;

		ret = cp_journal_replay_fd(j->fd, j->path, s, st, &end, true);
		if (ret != 0)
			return ret;
		j->size = end;
		j->n_records = st->records - before;
	}
	return 0;
}
