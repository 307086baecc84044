/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * statefile.h — opening the files of state_dir safely.
 *
 * state_dir belongs to the unprivileged control.user, so anything in it may have been
 * planted by that user: a symbolic link to a root-owned file, a hard link to one, a
 * FIFO.  Every state file (snapshot, its temporary, the journal and its segments) is
 * opened through cp_state_open(): never through a symbolic link (O_NOFOLLOW), and kept
 * only when it is a regular file with one link owned by the user we run as.  Before the
 * privilege drop, cp_state_give() hands state_dir and those files to the user through
 * descriptors (fchown on what was opened, checked first), never by path.
 */
#ifndef OBSCURA_CP_STATEFILE_H
#define OBSCURA_CP_STATEFILE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Check an open state file: a regular file, one link, owned by uid.  0 or -EPERM
 * (why: what is wrong, for the log). */
int cp_state_check_fd(int fd, const char *path, uid_t uid, char *why, size_t whylen);

/*
 * open(path, flags | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, mode), then the check above
 * against geteuid() (O_NONBLOCK is cleared again: it only keeps a planted FIFO from
 * blocking the open).  The fd, or -errno: -ELOOP a symbolic link, -EPERM refused by the
 * check; each refusal is logged with the path and the reason.
 */
int cp_state_open(const char *path, int flags, mode_t mode);

/*
 * As root, before dropping to uid/gid: hand dir and the state files in it (the
 * snapshot, its temporary, the journal and its segments, the export's spool directory
 * and its files) to uid:gid by fchown on descriptors opened with O_NOFOLLOW.  A state file that is a symbolic link, not a
 * regular file, has several links, or belongs to a third user is refused: -EPERM, the
 * reason logged; the start stops.  0 or -errno.
 */
int cp_state_give(const char *dir, uid_t uid, gid_t gid);

/* fsync a directory, so a file created, renamed or removed in it is durable.  0 or -errno. */
int cp_fsync_dir(const char *dir);

/* A whole state file (opened by cp_state_open, so checked the same way) into a new
 * buffer, NUL-terminated one past *len (caller frees).  0 or -errno. */
int cp_state_read_file(const char *path, uint8_t **out, size_t *len);
/* write() all of p to fd, through EINTR and short writes.  0 or -errno. */
int cp_state_write_all(int fd, const void *p, size_t len);

#endif
