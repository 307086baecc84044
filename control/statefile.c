/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * statefile.c — state_dir files opened without following links, checked, and handed to
 * the service user by descriptor (statefile.h).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cp_log.h"
#include "export.h"
#include "journal.h"
#include "snapshot.h"
#include "statefile.h"

int cp_state_check_fd(int fd, const char *path, uid_t uid, char *why, size_t whylen)
{
	struct stat st;

	if (fstat(fd, &st) != 0) {
		snprintf(why, whylen, "fstat: %s", strerror(errno));
		return -errno;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(why, whylen, "not a regular file (mode %o)", (unsigned)st.st_mode);
		return -EPERM;
	}
	if (st.st_nlink != 1) {
		snprintf(why, whylen, "has %lu hard links (want 1)", (unsigned long)st.st_nlink);
		return -EPERM;
	}
	if (st.st_uid != uid) {
		snprintf(why, whylen, "owned by uid %u, not %u", (unsigned)st.st_uid, (unsigned)uid);
		return -EPERM;
	}
	return 0;
}

int cp_state_open(const char *path, int flags, mode_t mode)
{
	char why[128];
	int fd, ret, fl;

	fd = open(path, flags | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, mode);
	if (fd < 0) {
		ret = -errno;
		if (ret == -ELOOP)
			CP_ERR("state file %s is a symbolic link: refused (remove it)", path);
		return ret;
	}
	ret = cp_state_check_fd(fd, path, geteuid(), why, sizeof(why));
	if (ret != 0) {
		CP_ERR("state file %s refused: %s (remove it)", path, why);
		close(fd);
		return ret;
	}
	fl = fcntl(fd, F_GETFL);
	if (fl >= 0)
		fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
	return fd;
}

/* The names in state_dir that the control plane opens. */
static bool cp_state_name(const char *n)
{
	return strcmp(n, CP_SNAP_NAME) == 0 || strcmp(n, CP_SNAP_NAME ".tmp") == 0 ||
	       strcmp(n, CP_JOURNAL_NAME) == 0 || cp_journal_seg_number(n) != 0;
}

/* The export's spool files (export.h): <16 hex digits>.tsv, .tmp, .tsv.bad. */
static bool cp_spool_name(const char *n)
{
	return strspn(n, "0123456789abcdef") == 16 && (strcmp(n + 16, ".tsv") == 0 ||
	       strcmp(n + 16, ".tmp") == 0 || strcmp(n + 16, ".tsv.bad") == 0);
}

/* Hand dir and the files in it that name() accepts to uid:gid (cp_state_give). */
static int cp_give_dir(const char *dir, bool (*name)(const char *), uid_t uid, gid_t gid)
{
	struct stat lst, st;
	struct dirent *de;
	DIR *d;
	int dfd, ret = 0;

	/* the directory itself: a link to it is followed only when root made the link */
	if (lstat(dir, &lst) != 0) {
		ret = -errno;
		CP_ERR("control.state_dir %s: %s", dir, strerror(errno));
		return ret;
	}
	if (S_ISLNK(lst.st_mode) && lst.st_uid != 0) {
		CP_ERR("control.state_dir %s is a symbolic link owned by uid %u: refused", dir,
		       (unsigned)lst.st_uid);
		return -EPERM;
	}
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		ret = -errno;
		CP_ERR("control.state_dir %s: %s", dir, strerror(errno));
		return ret;
	}
	if (fstat(dfd, &st) != 0 || (st.st_uid != 0 && st.st_uid != uid)) {
		CP_ERR("control.state_dir %s is owned by uid %u, neither root nor the service "
		       "user: refused", dir, (unsigned)st.st_uid);
		close(dfd);
		return -EPERM;
	}
	if (fchown(dfd, uid, gid) != 0) {
		ret = -errno;
		CP_ERR("cannot chown %s: %s", dir, strerror(errno));
		close(dfd);
		return ret;
	}
	d = fdopendir(dup(dfd));
	if (d == NULL) {
		ret = -errno;
		close(dfd);
		return ret;
	}
	while (ret == 0 && (de = readdir(d)) != NULL) {
		char why[128];
		int fd;

		if (!name(de->d_name))
			continue;
		fd = openat(dfd, de->d_name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
		if (fd < 0) {
			if (errno == ENOENT)
				continue;
			ret = errno == ELOOP ? -EPERM : -errno;
			CP_ERR("state file %s/%s %s: refused (remove it)", dir, de->d_name,
			       errno == ELOOP ? "is a symbolic link" : strerror(errno));
			break;
		}
		/* root's own files (a run without control.user before) are taken over too */
		ret = cp_state_check_fd(fd, de->d_name, uid, why, sizeof(why));
		if (ret != 0 && fstat(fd, &st) == 0 && st.st_uid == 0)
			ret = cp_state_check_fd(fd, de->d_name, 0, why, sizeof(why));
		if (ret != 0)
			CP_ERR("state file %s/%s refused: %s (remove it)", dir, de->d_name, why);
		else if (fchown(fd, uid, gid) != 0) {
			ret = -errno;
			CP_ERR("cannot chown %s/%s: %s", dir, de->d_name, strerror(errno));
		}
		close(fd);
	}
	closedir(d);
	close(dfd);
	return ret;
}

int cp_state_give(const char *dir, uid_t uid, gid_t gid)
{
	char spool[1024];
	struct stat st;
	int ret = cp_give_dir(dir, cp_state_name, uid, gid);

	if (ret != 0)
		return ret;
	/* the export's spool (export.h), when a run made one: same rules, one level down */
	snprintf(spool, sizeof(spool), "%s/%s", dir, CP_EXPORT_DIR);
	if (lstat(spool, &st) != 0)
		return errno == ENOENT ? 0 : -errno;
	return cp_give_dir(spool, cp_spool_name, uid, gid);
}

int cp_fsync_dir(const char *dir)
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

int cp_state_read_file(const char *path, uint8_t **out, size_t *outlen)
{
	struct stat st;
	uint8_t *p = NULL;
	size_t done = 0;
	int fd, ret;

	fd = cp_state_open(path, O_RDONLY, 0);
	if (fd < 0)
		return fd;
	if (fstat(fd, &st) != 0) {
		ret = -errno;
		goto out;
	}
	p = malloc((size_t)st.st_size + 1);
	if (p == NULL) {
		ret = -ENOMEM;
		goto out;
	}
	while (done < (size_t)st.st_size) {
		ssize_t r = read(fd, p + done, (size_t)st.st_size - done);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			ret = -errno;
			goto out;
		}
		if (r == 0)
			break;
		done += (size_t)r;
	}
	p[done] = '\0';   /* text readers may rely on it */
	*out = p;
	*outlen = done;
	p = NULL;
	ret = 0;
out:
	free(p);
	close(fd);
	return ret;
}

int cp_state_write_all(int fd, const void *p, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t w = write(fd, (const uint8_t *)p + done, len - done);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		done += (size_t)w;
	}
	return 0;
}
