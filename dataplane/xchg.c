/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * xchg.c — the exchange file's life on the dataplane side (xchg.h).
 *
 * Main lcore only.  The undrained data of an earlier boot is the control plane's input,
 * so nothing here ever unlinks an exchange: an old file is either drained (then replaced
 * atomically by rename), or moved aside under a name the control plane looks for.
 */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "coverage.h"
#include "xchg.h"

bool obs_xchg_all_free(struct obx_header *h)
{
	uint32_t w, s;

	for (w = 0; w < h->n_workers; w++)
		for (s = 0; s < OBX_SLOTS; s++)
			if (atomic_load_explicit(&obx_slot(h, w, s)->state, memory_order_acquire) !=
			    OBX_SLOT_FREE)
				return false;
	return true;
}

static uint32_t obs_xchg_n_ready(struct obx_header *h)
{
	uint32_t w, s, n = 0;

	for (w = 0; w < h->n_workers; w++)
		for (s = 0; s < OBX_SLOTS; s++)
			if (atomic_load_explicit(&obx_slot(h, w, s)->state, memory_order_acquire) ==
			    OBX_SLOT_READY)
				n++;
	return n;
}

int obs_xchg_wait_drained(struct obx_header *h, uint32_t timeout_s, volatile sig_atomic_t *stop)
{
	uint64_t deadline = obs_wall_ns() + (uint64_t)timeout_s * 1000000000ull;

	for (;;) {
		if (obs_xchg_all_free(h))
			return 0;
		if (stop != NULL && *stop)
			return -EINTR;
		if (obs_wall_ns() >= deadline)
			return -ETIMEDOUT;
		obs_sleep_ms(20);
	}
}

void obs_xchg_set_state(struct obx_header *h, enum obx_dp_state s)
{
	atomic_store_explicit(&h->dp_state, (uint32_t)s, memory_order_release);
}

/* Is pid an obscura-dp other than us?  (A stale pid may have been reused.) */
static bool obs_pid_is_dp(uint32_t pid)
{
	char p[64], comm[64] = "";
	FILE *f;

	if (pid == 0 || pid == (uint32_t)getpid())
		return false;
	snprintf(p, sizeof(p), "/proc/%u/comm", pid);
	f = fopen(p, "r");
	if (f == NULL)
		return false;
	if (fgets(comm, sizeof(comm), f) == NULL)
		comm[0] = '\0';
	fclose(f);
	return strncmp(comm, "obscura-dp", 10) == 0;
}

static int obs_move_aside(const char *path, const char *suffix)
{
	char dst[OBS_CONF_STR + 64];
	unsigned i;

	for (i = 0; i < 1000; i++) {
		struct stat st;

		if (i == 0)
			snprintf(dst, sizeof(dst), "%s.%s", path, suffix);
		else
			snprintf(dst, sizeof(dst), "%s.%s.%u", path, suffix, i);
		if (stat(dst, &st) == 0)
			continue;   /* never overwrite an earlier aside file */
		if (rename(path, dst) != 0) {
			int err = -errno;

			OBS_ERR("exchange: cannot move %s aside to %s: %s", path, dst, strerror(errno));
			return err;
		}
		OBS_NOTICE("exchange: moved %s to %s (left for the control plane to drain)", path,
		           dst);
		return 0;
	}
	return -EEXIST;
}

int obs_xchg_handle_old(const char *path, uint32_t wait_s, volatile sig_atomic_t *stop)
{
	struct obx_header *h = MAP_FAILED;
	const char *why = NULL;
	char suffix[64];
	struct stat st;
	uint64_t deadline;
	uint32_t n_ready;
	int fd, ret = 0;

	fd = open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		if (errno == ELOOP) {
			/* never follow a link planted at the path: set it aside like any
			 * invalid file (rename moves the link itself) */
			OBS_WARN("exchange: existing %s is a symbolic link", path);
			snprintf(suffix, sizeof(suffix), "bad-%lld", (long long)time(NULL));
			return obs_move_aside(path, suffix);
		}
		ret = -errno;
		OBS_ERR("exchange: cannot open existing %s: %s", path, strerror(errno));
		return ret;
	}
	if (fstat(fd, &st) != 0) {
		ret = -errno;
		goto out_close;
	}
	if ((uint64_t)st.st_size >= OBX_HEADER_SIZE)
		h = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (h == MAP_FAILED || obx_header_check(h, (uint64_t)st.st_size, &why) != 0) {
		OBS_WARN("exchange: existing %s is not a valid exchange (%s)", path,
		         why != NULL ? why : "too small or unmappable");
		snprintf(suffix, sizeof(suffix), "bad-%lld", (long long)time(NULL));
		ret = obs_move_aside(path, suffix);
		goto out_unmap;
	}
	if (atomic_load_explicit(&h->dp_state, memory_order_acquire) < OBX_DP_FINISHED &&
	    obs_pid_is_dp(h->dp_pid)) {
		OBS_ERR("exchange: %s belongs to a running obscura-dp (pid %u)", path, h->dp_pid);
		ret = -EBUSY;
		goto out_unmap;
	}
	n_ready = obs_xchg_n_ready(h);
	if (n_ready == 0) {
		OBS_INFO("exchange: previous %s (boot %016llx) is drained; replacing it", path,
		         (unsigned long long)h->boot_id);
		goto out_unmap;
	}
	OBS_NOTICE("exchange: previous %s (boot %016llx) has %u undrained slot(s); waiting up to "
	           "%u s for the control plane", path, (unsigned long long)h->boot_id, n_ready,
	           wait_s);
	deadline = obs_wall_ns() + (uint64_t)wait_s * 1000000000ull;
	while (obs_xchg_n_ready(h) != 0 && obs_wall_ns() < deadline &&
	       (stop == NULL || !*stop))
		obs_sleep_ms(100);
	n_ready = obs_xchg_n_ready(h);
	if (n_ready == 0) {
		OBS_INFO("exchange: previous boot %016llx drained; replacing %s",
		         (unsigned long long)h->boot_id, path);
		goto out_unmap;
	}
	snprintf(suffix, sizeof(suffix), "prev-%016llx", (unsigned long long)h->boot_id);
	OBS_NOTICE("exchange: %u slot(s) of boot %016llx still undrained after %u s", n_ready,
	           (unsigned long long)h->boot_id, wait_s);
	ret = obs_move_aside(path, suffix);
out_unmap:
	if (h != MAP_FAILED)
		munmap(h, (size_t)st.st_size);
out_close:
	close(fd);
	return ret;
}

static uint64_t obs_boot_id(void)
{
	uint64_t id = 0;

	if (getrandom(&id, sizeof(id), 0) != (ssize_t)sizeof(id) || id == 0)
		id = obs_wall_ns() ^ ((uint64_t)getpid() << 32);
	return id;
}

uint32_t obs_xchg_cov_sample_size;

/*
 * Who may write the exchange: the dataplane and the control plane, nobody else.  Mode
 * 0600 whatever the umask; owned by control.user when set (the control plane runs as
 * that user and maps it read-write; it refuses a file root or its own user does not own,
 * or one writable by group or others — drain.c), else left to us.
 */
static int obs_xchg_give(int fd, const char *tmp, const struct obs_conf *c)
{
	struct passwd *pw;

	if (fchmod(fd, 0600) != 0) {
		int ret = -errno;

		OBS_ERR("exchange: cannot chmod %s 0600: %s", tmp, strerror(errno));
		return ret;
	}
	if (c->user[0] == '\0')
		return 0;
	pw = getpwnam(c->user);
	if (pw == NULL) {
		OBS_ERR("exchange: control.user '%s': no such user; the control plane could not "
		        "map the exchange", c->user);
		return -ENOENT;
	}
	if (fchown(fd, pw->pw_uid, (gid_t)-1) != 0) {
		int ret = -errno;

		OBS_ERR("exchange: cannot give %s to control.user %s (uid %u): %s; the control "
		        "plane could not map it", tmp, c->user, (unsigned)pw->pw_uid,
		        strerror(errno));
		return ret;
	}
	return 0;
}

int obs_xchg_create(struct obs_xchg *x, const struct obs_conf *c, bool replay)
{
	char tmp[OBS_CONF_STR + 32];
	struct obx_header *h = MAP_FAILED;
	struct obx_header proto;
	uint32_t cap[OBX_TAB_MAX], rec_size[OBX_TAB_MAX];
	uint64_t size;
	uint32_t i;
	int fd, ret;

	memset(x, 0, sizeof(*x));
	/* Compute the layout first: its size is the file size. */
	obs_conf_exchange_tabs(c, cap, rec_size);
	/* SPEC.md A: a bitmap entry holds |S| bits, so its size follows the telescope */
	if (obs_xchg_cov_sample_size != 0)
		rec_size[OBX_TAB_BITMAP] = obx_bitmap_rec_size(obs_xchg_cov_sample_size);
	ret = obx_layout_init(&proto, c->workers, c->n_ports, cap, rec_size);
	if (ret != 0) {
		OBS_ERR("exchange: bad layout (workers %u, ports %u, capacities src %u cell %u "
		        "bitmap %u resip_port %u event %u)", c->workers, c->n_ports, cap[0], cap[1],
		        cap[2], cap[3], cap[4]);
		return ret;
	}
	size = proto.total_size;
	snprintf(x->path, sizeof(x->path), "%s", c->exchange_path);
	snprintf(tmp, sizeof(tmp), "%s.tmp-%d", c->exchange_path, (int)getpid());
	unlink(tmp);   /* ours by pid: a leftover of a crashed start, never data */
	fd = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		ret = -errno;
		OBS_ERR("exchange: cannot create %s: %s", tmp, strerror(errno));
		return ret;
	}
	ret = obs_xchg_give(fd, tmp, c);
	if (ret != 0)
		goto out_unlink;
	if (ftruncate(fd, (off_t)size) != 0) {
		ret = -errno;
		OBS_ERR("exchange: cannot size %s to %llu bytes: %s", tmp,
		        (unsigned long long)size, strerror(errno));
		goto out_unlink;
	}
	h = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, 0);
	if (h == MAP_FAILED) {
		ret = -errno;
		OBS_ERR("exchange: cannot map %s: %s", tmp, strerror(errno));
		goto out_unlink;
	}
	memcpy(h, &proto, sizeof(proto));
	h->boot_id = obs_boot_id();
	h->boot_wall_ns = obs_wall_ns();
	h->dp_pid = (uint32_t)getpid();
	h->n_sensors = c->n_sensors;
	for (i = 0; i < c->n_sensors && i < 64; i++)
		snprintf(h->sensor_names[i], OBX_NAME_LEN, "%s", c->sensors[i].name);
	h->epoch_ns = (uint64_t)c->epoch_ms * 1000000ull;
	h->replay = replay ? 1 : 0;
	if (cap[OBX_TAB_CELL] != 0) {
		h->cov_sample_size = obs_xchg_cov_sample_size;
		h->cov_block_len = (uint8_t)c->block_len;
		h->cov_period_unit = (uint8_t)c->period;
	}
	for (i = 0; i < c->n_ports && i < OBX_MAX_PORTS; i++)
		snprintf(obx_port_stats(h, i)->name, OBX_NAME_LEN, "%s", c->ports[i].name);
	/* a fresh file is zero: every record empty; the slot headers get the geometry */
	obx_slots_init(h);
	atomic_store_explicit(&h->heartbeat_ns, h->boot_wall_ns, memory_order_relaxed);
	obs_xchg_set_state(h, OBX_DP_STARTING);
	if (rename(tmp, c->exchange_path) != 0) {
		ret = -errno;
		OBS_ERR("exchange: cannot rename %s to %s: %s", tmp, c->exchange_path,
		        strerror(errno));
		goto out_unmap;
	}
	close(fd);
	x->h = h;
	x->size = (size_t)size;
	OBS_INFO("exchange: %s created, boot %016llx, %llu bytes, %u workers x %u slots x %llu "
	         "bytes (src %u, cell %u, bitmap %u, resip_port %u, event %u records)", x->path,
	         (unsigned long long)h->boot_id, (unsigned long long)size, c->workers, OBX_SLOTS,
	         (unsigned long long)h->slot_size, cap[0], cap[1], cap[2], cap[3], cap[4]);
	return 0;
out_unmap:
	munmap(h, (size_t)size);
out_unlink:
	unlink(tmp);
	close(fd);
	return ret;
}

void obs_xchg_close(struct obs_xchg *x)
{
	if (x->h != NULL)
		munmap(x->h, x->size);
	x->h = NULL;
}
