/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * journal.c — append, sync, replay and truncation of the drained-epoch journal
 * (journal.h).
 *
 * Appends are one writev() each; the file is O_APPEND so a record always lands at the
 * end even after truncation.  fdatasync() is the durability point the drain waits for.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "cp_log.h"
#include "crc32c.h"
#include "journal.h"

#define CP_JREC_NWORDS (sizeof(struct obx_counters) / sizeof(uint64_t))
/* A record can hold at most one slot's table: 2^24 records (conf bound) x 40 bytes,
 * plus counters.  Anything larger is garbage, not a record. */
#define CP_JREC_MAX_LEN ((uint64_t)(1u << 24) * sizeof(struct obx_src_rec) + 4096)

static int cp_fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int ret = 0;

	if (fd < 0)
		return -errno;
	if (fsync(fd) != 0)
		ret = -errno;
	close(fd);
	return ret;
}

int cp_journal_open(struct cp_journal *j, const char *dir)
{
	struct stat st;
	bool created = false;
	int ret;

	memset(j, 0, sizeof(*j));
	j->fd = -1;
	if ((size_t)snprintf(j->path, sizeof(j->path), "%s/%s", dir, CP_JOURNAL_NAME) >=
	    sizeof(j->path))
		return -ENAMETOOLONG;
	if (stat(j->path, &st) != 0)
		created = true;
	j->fd = open(j->path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	if (j->fd < 0) {
		ret = -errno;
		CP_ERR("journal: cannot open %s: %s", j->path, strerror(errno));
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
	struct iovec iov[3];
	size_t total, done = 0;
	uint32_t crc;
	int ret;

	if (j->fd < 0)
		return -EBADF;
	memset(&h, 0, sizeof(h));
	h.magic = CP_JREC_MAGIC;
	h.hdr_len = sizeof(h);
	h.boot_id = e->boot_id;
	h.seq = e->seq;
	h.worker = e->worker;
	h.flags = e->flags;
	h.n_src = e->n_src;
	h.n_counters = CP_JREC_NWORDS;
	h.length = sizeof(e->delta) + (uint64_t)e->n_src * sizeof(struct obx_src_rec);
	h.t_first_ns = e->t_first_ns;
	h.t_last_ns = e->t_last_ns;
	h.published_wall_ns = e->published_wall_ns;
	crc = cp_jrec_crc(&h, &e->delta, sizeof(e->delta));
	h.crc = cp_crc32c(crc, e->src, (size_t)e->n_src * sizeof(struct obx_src_rec));

	iov[0].iov_base = &h;
	iov[0].iov_len = sizeof(h);
	iov[1].iov_base = (void *)&e->delta;
	iov[1].iov_len = sizeof(e->delta);
	iov[2].iov_base = (void *)e->src;
	iov[2].iov_len = (size_t)e->n_src * sizeof(struct obx_src_rec);
	total = sizeof(h) + (size_t)h.length;

	while (done < total) {
		struct iovec v[3];
		size_t skip = done;
		int n = 0;
		ssize_t w;

		for (int i = 0; i < 3; i++) {
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
	CP_ERR("journal: append to %s failed: %s", j->path, strerror(-ret));
	/* drop the partial record so the next append does not follow garbage */
	if (ftruncate(j->fd, (off_t)j->size) != 0)
		CP_ERR("journal: cannot cut %s back to %llu bytes: %s", j->path,
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

		CP_ERR("journal: fdatasync %s: %s", j->path, strerror(errno));
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
	return 0;
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

int cp_journal_replay(struct cp_journal *j, struct cp_store *s,
                      struct cp_journal_replay_stats *st)
{
	uint8_t *buf = NULL;
	size_t cap = 0;
	uint64_t off = 0, end;
	struct stat sb;
	int ret = 0;

	memset(st, 0, sizeof(*st));
	if (j->fd < 0)
		return -EBADF;
	if (fstat(j->fd, &sb) != 0)
		return -errno;
	end = (uint64_t)sb.st_size;

	while (off < end) {
		struct cp_jrec h;
		struct cp_epoch e;
		uint64_t nwords;
		int r;

		if (end - off < sizeof(h)) {
			snprintf(st->torn_why, sizeof(st->torn_why),
			         "%llu trailing bytes, shorter than a record header",
			         (unsigned long long)(end - off));
			break;
		}
		r = cp_pread_full(j->fd, &h, sizeof(h), off);
		if (r < 0) {
			ret = r;
			goto out;
		}
		if (h.magic != CP_JREC_MAGIC || h.hdr_len != sizeof(h)) {
			snprintf(st->torn_why, sizeof(st->torn_why), "bad record magic/header size");
			break;
		}
		nwords = h.n_counters;
		if (h.length > CP_JREC_MAX_LEN || nwords > 4096 ||
		    h.length != nwords * 8 + (uint64_t)h.n_src * sizeof(struct obx_src_rec)) {
			snprintf(st->torn_why, sizeof(st->torn_why),
			         "record length %llu inconsistent", (unsigned long long)h.length);
			break;
		}
		if (h.length > end - off - sizeof(h)) {
			snprintf(st->torn_why, sizeof(st->torn_why),
			         "record of %llu bytes runs past the end of the file",
			         (unsigned long long)h.length);
			break;
		}
		if (h.length > cap) {
			uint8_t *nb = realloc(buf, (size_t)h.length);

			if (nb == NULL) {
				ret = -ENOMEM;
				goto out;
			}
			buf = nb;
			cap = (size_t)h.length;
		}
		r = cp_pread_full(j->fd, buf, (size_t)h.length, off + sizeof(h));
		if (r < 0) {
			ret = r;
			goto out;
		}
		if (r == 0 && h.length != 0) {
			snprintf(st->torn_why, sizeof(st->torn_why), "short read");
			break;
		}
		if (cp_jrec_crc(&h, buf, (size_t)h.length) != h.crc) {
			snprintf(st->torn_why, sizeof(st->torn_why), "record CRC mismatch");
			break;
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
		memcpy(&e.delta, buf, (size_t)(nwords < CP_JREC_NWORDS ? nwords : CP_JREC_NWORDS) * 8);
		e.n_src = h.n_src;
		e.src = (const struct obx_src_rec *)(buf + nwords * 8);
		st->records++;
		r = cp_store_apply(s, &e);
		if (r == 1) {
			st->duplicates++;
		} else if (r == 0) {
			st->applied++;
		} else if (r == -EINVAL) {
			CP_WARN("journal: %s: skipping invalid record at offset %llu (worker %u seq %llu)",
			        j->path, (unsigned long long)off, h.worker, (unsigned long long)h.seq);
		} else {
			ret = r;
			goto out;
		}
		off += sizeof(h) + h.length;
	}
	if (off < end) {
		st->torn_bytes = end - off;
		CP_WARN("journal: %s: ignoring torn tail at offset %llu (%llu bytes): %s", j->path,
		        (unsigned long long)off, (unsigned long long)st->torn_bytes, st->torn_why);
		if (ftruncate(j->fd, (off_t)off) != 0 || fdatasync(j->fd) != 0) {
			ret = -errno;
			CP_ERR("journal: cannot cut the torn tail of %s: %s", j->path, strerror(errno));
			goto out;
		}
	}
	j->size = off;
	j->n_records = st->records;
out:
	free(buf);
	return ret;
}
