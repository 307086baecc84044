/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * snapshot.c — sectioned, checksummed, atomically replaced snapshots of the period
 * store (snapshot.h).
 *
 * The body is built in memory and checksummed before a byte is written, and parsed in
 * full into a scratch store before the caller's store is touched: both directions are
 * all-or-nothing.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "crc32c.h"
#include "grow.h"
#include "snapshot.h"
#include "statefile.h"

struct cp_snap_hdr {
	char     magic[8];
	uint32_t format;
	uint32_t schema;
	uint64_t created_wall_ns;
	uint64_t body_len;
	uint32_t body_crc;
	uint32_t hdr_crc;          /* CRC32C of the bytes before this field */
	uint64_t reserved[3];
};
_Static_assert(sizeof(struct cp_snap_hdr) == 64, "snapshot header is 64 bytes");

struct cp_sec_hdr {
	uint32_t type;
	uint32_t flags;
	uint64_t length;
};

struct cp_snap_boot {          /* CP_SNAP_S_BOOTS entry */
	uint64_t boot_id;
	uint64_t boot_wall_ns;
	uint64_t epochs;
	uint32_t n_workers;
	uint32_t epochs_lost;     /* 0 in snapshots written before it was kept */
	uint64_t last_seq[OBX_MAX_WORKERS];
};

struct cp_snap_meta {
	uint64_t epochs;
	uint64_t t_first_ns, t_last_ns;
	uint32_t n_workers;
	uint32_t reserved;
};

#define CP_NWORDS (sizeof(struct obx_counters) / sizeof(uint64_t))

/* ---------------- building ---------------- */

struct cp_snap_w {
	struct cp_buf buf;            /* the body being built (grow.h) */
};

void cp_snap_put(struct cp_snap_w *b, const void *data, size_t len)
{
	cp_buf_put(&b->buf, data, len);
}

int cp_snap_put_built(struct cp_snap_w *w, int rc, uint8_t *buf, size_t len)
{
	if (rc != 0)
		return rc;
	cp_snap_put(w, buf, len);
	free(buf);
	return 0;
}

/* Open a section; returns the offset of its header to close it later. */
static size_t cp_sec_open(struct cp_snap_w *b, uint32_t type, uint32_t flags)
{
	struct cp_sec_hdr h = { .type = type, .flags = flags, .length = 0 };
	size_t at = b->buf.len;

	cp_snap_put(b, &h, sizeof(h));
	return at;
}

static void cp_sec_close(struct cp_snap_w *b, size_t at)
{
	struct cp_sec_hdr h;

	if (b->buf.oom)
		return;
	memcpy(&h, b->buf.p + at, sizeof(h));
	h.length = b->buf.len - at - sizeof(h);
	memcpy(b->buf.p + at, &h, sizeof(h));
}

static void cp_put_u32(struct cp_snap_w *b, uint32_t v)
{
	cp_snap_put(b, &v, sizeof(v));
}

/* ---- the store's sections (built in: the same save/load shape as modules') ---- */

static int cp_sv_meta(void *ctx, const struct cp_store *s, struct cp_snap_w *b)
{
	struct cp_snap_meta meta = {
		.epochs = s->epochs, .t_first_ns = s->t_first_ns, .t_last_ns = s->t_last_ns,
		.n_workers = s->n_workers,
	};

	(void)ctx;
	cp_snap_put(b, &meta, sizeof(meta));
	return 0;
}

static int cp_sv_totals(void *ctx, const struct cp_store *s, struct cp_snap_w *b)
{
	(void)ctx;
	cp_put_u32(b, CP_NWORDS);
	cp_put_u32(b, 0);
	cp_snap_put(b, &s->total, sizeof(s->total));
	return 0;
}

static int cp_sv_workers(void *ctx, const struct cp_store *s, struct cp_snap_w *b)
{
	(void)ctx;
	cp_put_u32(b, s->n_workers);
	cp_put_u32(b, CP_NWORDS);
	cp_snap_put(b, s->worker, (size_t)s->n_workers * sizeof(s->worker[0]));
	return 0;
}

static int cp_sv_boots(void *ctx, const struct cp_store *s, struct cp_snap_w *b)
{
	(void)ctx;
	cp_put_u32(b, s->n_boots);
	cp_put_u32(b, 0);
	for (uint32_t i = 0; i < s->n_boots; i++) {
		struct cp_snap_boot sb;

		memset(&sb, 0, sizeof(sb));
		sb.boot_id = s->boots[i].boot_id;
		sb.boot_wall_ns = s->boots[i].boot_wall_ns;
		sb.epochs = s->boots[i].epochs;
		sb.n_workers = s->boots[i].n_workers;
		sb.epochs_lost = s->boots[i].epochs_lost;
		memcpy(sb.last_seq, s->boots[i].last_seq, sizeof(sb.last_seq));
		cp_snap_put(b, &sb, sizeof(sb));
	}
	return 0;
}

static int cp_sv_sources(void *ctx, const struct cp_store *s, struct cp_snap_w *b)
{
	(void)ctx;
	const struct cp_src *r;

	cp_put_u32(b, s->src.n);
	cp_put_u32(b, sizeof(struct cp_src));
	for (uint32_t it = 0; (r = cp_store_src_next(s, &it)) != NULL;)
		cp_snap_put(b, r, sizeof(*r));
	return 0;
}

static int cp_sv_ports(void *ctx, const struct cp_store *s, struct cp_snap_w *b)
{
	(void)ctx;
	cp_snap_put(b, &s->ports_boot_id, sizeof(s->ports_boot_id));
	cp_put_u32(b, s->n_ports);
	cp_put_u32(b, sizeof(struct obx_port_stats));
	cp_snap_put(b, s->ports, (size_t)s->n_ports * sizeof(s->ports[0]));
	return 0;
}

static int cp_sv_sensors(void *ctx, const struct cp_store *s, struct cp_snap_w *b)
{
	(void)ctx;
	cp_put_u32(b, s->n_sensors);
	cp_put_u32(b, OBX_NAME_LEN);
	cp_snap_put(b, s->sensor_names, (size_t)s->n_sensors * OBX_NAME_LEN);
	return 0;
}

/* fingerprint (issue 14): the tool counts of the labelled sources (toolstore.h), type
 * 21, optional: a snapshot written before it loads with no tool counts. */
static int cp_sv_tools(void *ctx, const struct cp_store *s, struct cp_snap_w *b)
{
	size_t len = cp_tools_blob_len(&s->tools);
	uint8_t *buf = malloc(len);

	(void)ctx;
	if (buf != NULL)
		cp_tools_blob(&s->tools, buf);
	return cp_snap_put_built(b, buf != NULL ? 0 : -ENOMEM, buf, len);
}

/* One snapshot section: built in (the store's) or registered (a module's). */
struct cp_snap_sec {
	uint32_t type;
	uint32_t flags;
	const char *name;
	cp_snap_save_fn save;
	cp_snap_load_fn load;      /* NULL for built-ins: cp_parse_builtin() */
	cp_snap_reset_fn reset;
	void *ctx;
};

/* boots carry the dedup keys: losing them would double-count a journal replay, hence
 * REQUIRED with meta, totals, workers and sources */
static const struct cp_snap_sec cp_builtin[] = {
	{ CP_SNAP_S_META, CP_SNAP_F_REQUIRED, "meta", cp_sv_meta, NULL, NULL, NULL },
	{ CP_SNAP_S_TOTALS, CP_SNAP_F_REQUIRED, "totals", cp_sv_totals, NULL, NULL, NULL },
	{ CP_SNAP_S_WORKERS, CP_SNAP_F_REQUIRED, "workers", cp_sv_workers, NULL, NULL, NULL },
	{ CP_SNAP_S_BOOTS, CP_SNAP_F_REQUIRED, "boots", cp_sv_boots, NULL, NULL, NULL },
	{ CP_SNAP_S_SOURCES, CP_SNAP_F_REQUIRED, "sources", cp_sv_sources, NULL, NULL, NULL },
	{ CP_SNAP_S_PORTS, 0, "ports", cp_sv_ports, NULL, NULL, NULL },
	{ CP_SNAP_S_SENSORS, 0, "sensors", cp_sv_sensors, NULL, NULL, NULL },
	{ CP_SNAP_S_TOOLS, 0, "tools", cp_sv_tools, NULL, NULL, NULL },   /* fingerprint */
};
#define CP_N_BUILTIN (sizeof(cp_builtin) / sizeof(cp_builtin[0]))

static struct cp_snap_sec cp_registered[CP_SNAP_MAX_SECTIONS];
static unsigned cp_n_registered;

int cp_snapshot_section_register(uint32_t type, const char *name, cp_snap_save_fn save,
                                 cp_snap_load_fn load, cp_snap_reset_fn reset, void *ctx)
{
	if (type < CP_SNAP_S_MODULE_BASE || type > CP_SNAP_S_TYPE_MAX || save == NULL ||
	    load == NULL || reset == NULL)
		return -EINVAL;
	for (unsigned i = 0; i < cp_n_registered; i++)
		if (cp_registered[i].type == type)
			return -EEXIST;
	if (cp_n_registered == CP_SNAP_MAX_SECTIONS)
		return -ENOSPC;
	cp_registered[cp_n_registered++] = (struct cp_snap_sec){
		.type = type, .flags = 0, .name = name != NULL ? name : "?", .save = save,
		.load = load, .reset = reset, .ctx = ctx };
	return 0;
}

void cp_snapshot_section_unregister_all(void)
{
	memset(cp_registered, 0, sizeof(cp_registered));
	cp_n_registered = 0;
}

static int cp_build_sec(struct cp_snap_w *b, const struct cp_store *s, const struct cp_snap_sec *sec)
{
	size_t at = cp_sec_open(b, sec->type, sec->flags);
	int ret = sec->save(sec->ctx, s, b);

	if (ret != 0)
		return ret;
	cp_sec_close(b, at);
	return b->buf.oom ? -ENOMEM : 0;
}

static int cp_build_body(struct cp_snap_w *b, const struct cp_store *s, const char **failed)
{
	int ret;

	for (unsigned i = 0; i < CP_N_BUILTIN; i++)
		if ((ret = cp_build_sec(b, s, &cp_builtin[i])) != 0) {
			*failed = cp_builtin[i].name;
			return ret;
		}
	for (unsigned i = 0; i < cp_n_registered; i++)
		if ((ret = cp_build_sec(b, s, &cp_registered[i])) != 0) {
			*failed = cp_registered[i].name;
			return ret;
		}
	return 0;
}

static void cp_errf(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void cp_errf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static int cp_dir_of(const char *path, char *dir, size_t len)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL) {
		snprintf(dir, len, ".");
		return 0;
	}
	if ((size_t)(slash - path) + 1 > len)
		return -ENAMETOOLONG;
	if (slash == path)
		snprintf(dir, len, "/");
	else
		snprintf(dir, len, "%.*s", (int)(slash - path), path);
	return 0;
}

int cp_snapshot_write_file(const char *path, const struct cp_store *s, char *err, size_t errlen)
{
	struct cp_snap_w b = { 0 };
	const char *failed = "?";
	struct cp_snap_hdr h;
	struct timespec ts;
	char tmp[600], dir[600];
	int fd = -1, dfd = -1, ret;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp) ||
	    cp_dir_of(path, dir, sizeof(dir)) != 0) {
		cp_errf(err, errlen, "snapshot path %s too long", path);
		return -ENAMETOOLONG;
	}
	ret = cp_build_body(&b, s, &failed);
	if (ret != 0) {
		cp_errf(err, errlen, "snapshot %s: cannot build section %s: %s", path, failed,
		        strerror(-ret));
		goto out;
	}
	memset(&h, 0, sizeof(h));
	memcpy(h.magic, CP_SNAP_MAGIC, 8);
	h.format = CP_SNAP_FORMAT;
	h.schema = CP_STORE_SCHEMA;
	clock_gettime(CLOCK_REALTIME, &ts);
	h.created_wall_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	h.body_len = b.buf.len;
	h.body_crc = cp_crc32c(0, b.buf.p, b.buf.len);
	h.hdr_crc = cp_crc32c(0, &h, offsetof(struct cp_snap_hdr, hdr_crc));

	/* a fresh file, never one planted at the temporary name (statefile.h) */
	if (unlink(tmp) != 0 && errno != ENOENT) {
		ret = -errno;
		cp_errf(err, errlen, "snapshot: cannot remove the old %s: %s", tmp, strerror(errno));
		goto out;
	}
	fd = cp_state_open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0640);
	if (fd < 0) {
		ret = fd;
		cp_errf(err, errlen, "snapshot: cannot create %s: %s", tmp, strerror(-fd));
		goto out;
	}
	if ((ret = cp_state_write_all(fd, &h, sizeof(h))) != 0 ||
	    (ret = cp_state_write_all(fd, b.buf.p, b.buf.len)) != 0) {
		cp_errf(err, errlen, "snapshot: writing %s: %s", tmp, strerror(-ret));
		goto out_unlink;
	}
	if (fsync(fd) != 0) {
		ret = -errno;
		cp_errf(err, errlen, "snapshot: fsync %s: %s", tmp, strerror(errno));
		goto out_unlink;
	}
	close(fd);
	fd = -1;
	if (rename(tmp, path) != 0) {
		ret = -errno;
		cp_errf(err, errlen, "snapshot: rename %s -> %s: %s", tmp, path, strerror(errno));
		goto out_unlink;
	}
	/* the rename is durable only once the directory is */
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || fsync(dfd) != 0) {
		ret = -errno;
		cp_errf(err, errlen, "snapshot: fsync directory %s: %s", dir, strerror(errno));
		goto out;
	}
	ret = 0;
	goto out;
out_unlink:
	unlink(tmp);
out:
	if (fd >= 0)
		close(fd);
	if (dfd >= 0)
		close(dfd);
	free(b.buf.p);
	return ret;
}

/* ---------------- loading ---------------- */

struct cp_rd {
	const uint8_t *p;
	size_t len, off;
};

static bool cp_rd_get(struct cp_rd *r, void *out, size_t len)
{
	if (r->len - r->off < len)
		return false;
	memcpy(out, r->p + r->off, len);
	r->off += len;
	return true;
}

/* Parse the sections of body into s; -EBADMSG with err set on any inconsistency. */
static int cp_parse_body(const char *path, const uint8_t *body, size_t len, struct cp_store *s,
                         char *err, size_t errlen)
{
	struct cp_rd r = { .p = body, .len = len };
	bool seen_meta = false, seen_boots = false;
	uint32_t seen[CP_SNAP_MAX_SECTIONS];
	unsigned n_seen = 0;

	if (err != NULL && errlen != 0)
		err[0] = '\0';

	while (r.off < r.len) {
		struct cp_sec_hdr sh;
		struct cp_rd sec;
		uint32_t n, sz;

		if (!cp_rd_get(&r, &sh, sizeof(sh)) || sh.length > r.len - r.off) {
			cp_errf(err, errlen, "snapshot %s: section at body offset %zu runs past the body",
			        path, r.off);
			return -EBADMSG;
		}
		sec.p = r.p + r.off;
		sec.len = (size_t)sh.length;
		sec.off = 0;
		r.off += (size_t)sh.length;

		switch (sh.type) {
		case CP_SNAP_S_META: {
			struct cp_snap_meta m;

			if (!cp_rd_get(&sec, &m, sizeof(m)) || m.n_workers > OBX_MAX_WORKERS)
				goto bad_section;
			s->epochs = m.epochs;
			s->t_first_ns = m.t_first_ns;
			s->t_last_ns = m.t_last_ns;
			/* the format has no flag: a store that drained packets has a span */
			s->span_set = m.t_first_ns != 0 || m.t_last_ns != 0 || m.epochs != 0;
			s->n_workers = m.n_workers;
			seen_meta = true;
			break;
		}
		case CP_SNAP_S_TOTALS:
			if (!cp_rd_get(&sec, &n, 4) || !cp_rd_get(&sec, &sz, 4) || n > 4096 ||
			    sec.len - sec.off != (size_t)n * 8)
				goto bad_section;
			memcpy(&s->total, sec.p + sec.off, (n < CP_NWORDS ? n : CP_NWORDS) * 8);
			break;
		case CP_SNAP_S_WORKERS: {
			uint32_t words;

			if (!cp_rd_get(&sec, &n, 4) || !cp_rd_get(&sec, &words, 4) ||
			    n > OBX_MAX_WORKERS || words > 4096 ||
			    sec.len - sec.off != (size_t)n * words * 8)
				goto bad_section;
			for (uint32_t w = 0; w < n; w++)
				memcpy(&s->worker[w], sec.p + sec.off + (size_t)w * words * 8,
				       (words < CP_NWORDS ? words : CP_NWORDS) * 8);
			break;
		}
		case CP_SNAP_S_BOOTS:
			if (!cp_rd_get(&sec, &n, 4) || !cp_rd_get(&sec, &sz, 4) ||
			    sec.len - sec.off != (size_t)n * sizeof(struct cp_snap_boot))
				goto bad_section;
			for (uint32_t i = 0; i < n; i++) {
				struct cp_snap_boot sb;
				struct cp_boot *b;

				cp_rd_get(&sec, &sb, sizeof(sb));
				if (cp_store_boot(s, sb.boot_id, false) != NULL ||
				    sb.n_workers > OBX_MAX_WORKERS)
					goto bad_section;
				b = cp_store_boot(s, sb.boot_id, true);
				if (b == NULL)
					return -ENOMEM;
				b->boot_wall_ns = sb.boot_wall_ns;
				b->epochs = sb.epochs;
				b->n_workers = sb.n_workers;
				b->epochs_lost = sb.epochs_lost;
				memcpy(b->last_seq, sb.last_seq, sizeof(b->last_seq));
			}
			seen_boots = true;
			break;
		case CP_SNAP_S_SOURCES: {
			/* 48-byte cp_src (schema 2), or the 32-byte one of schema 1 (addr,
			 * reserved, first, last, packets, sensor_mask: no flags, no RESIP) */
			int ret;

			if (!cp_rd_get(&sec, &n, 4) || !cp_rd_get(&sec, &sz, 4) ||
			    (sz != sizeof(struct cp_src) && sz != 32) ||
			    sec.len - sec.off != (size_t)n * sz)
				goto bad_section;
			ret = cp_store_src_reserve(s, n);
			if (ret != 0)
				return ret;
			for (uint32_t i = 0; i < n; i++) {
				struct cp_src src;

				memset(&src, 0, sizeof(src));
				cp_rd_get(&sec, &src, sz);
				if (sz == 32)
					src.flags = 0;
				/* a duplicate address or an empty record cannot come from a store */
				if (src.packets == 0 || cp_store_src_find(s, src.addr) != NULL)
					goto bad_section;
				ret = cp_store_src_merge(s, &src);
				if (ret != 0)
					return ret;
			}
			break;
		}
		case CP_SNAP_S_PORTS:
			if (!cp_rd_get(&sec, &s->ports_boot_id, 8) || !cp_rd_get(&sec, &n, 4) ||
			    !cp_rd_get(&sec, &sz, 4) || n > OBX_MAX_PORTS ||
			    sz != sizeof(struct obx_port_stats) ||
			    sec.len - sec.off != (size_t)n * sz)
				goto bad_section;
			s->n_ports = n;
			memcpy(s->ports, sec.p + sec.off, (size_t)n * sz);
			for (uint32_t p = 0; p < n; p++)
				s->ports[p].name[OBX_NAME_LEN - 1] = '\0';
			break;
		case CP_SNAP_S_SENSORS:
			if (!cp_rd_get(&sec, &n, 4) || !cp_rd_get(&sec, &sz, 4) || n > 64 ||
			    sz != OBX_NAME_LEN || sec.len - sec.off != (size_t)n * sz)
				goto bad_section;
			s->n_sensors = n;
			memcpy(s->sensor_names, sec.p + sec.off, (size_t)n * sz);
			for (uint32_t i = 0; i < n; i++)
				s->sensor_names[i][OBX_NAME_LEN - 1] = '\0';
			break;
		case CP_SNAP_S_TOOLS: {   /* fingerprint (issue 14) */
			int ret;

			if (cp_tools_n(&s->tools) != 0)
				goto bad_section;   /* twice */
			ret = cp_tools_load(&s->tools, sec.p, sec.len);
			if (ret == -ENOMEM)
				return ret;
			if (ret != 0)
				goto bad_section;
			break;
		}
		default: {
			const struct cp_snap_sec *mod = NULL;
			int ret;

			for (unsigned i = 0; i < cp_n_registered; i++)
				if (cp_registered[i].type == sh.type)
					mod = &cp_registered[i];
			if (mod != NULL) {
				for (unsigned i = 0; i < n_seen; i++)
					if (seen[i] == sh.type)
						goto bad_section;   /* twice: which one is right? */
				if (n_seen < CP_SNAP_MAX_SECTIONS)
					seen[n_seen++] = sh.type;
				ret = mod->load(mod->ctx, s, sec.p, sec.len, err, errlen);
				if (ret == -ENOMEM)
					return ret;
				if (ret == -ESTALE) {
					/* whole, but kept under another configuration */
					char why[256];

					snprintf(why, sizeof(why), "%s", err != NULL && errlen ? err : "");
					cp_errf(err, errlen, "snapshot %s: %s", path, why);
					return ret;
				}
				if (ret != 0) {
					char why[256];

					snprintf(why, sizeof(why), "%s", err != NULL && errlen ? err : "");
					cp_errf(err, errlen, "snapshot %s: section %s (type %u, %llu bytes) "
					        "refused%s%s", path, mod->name, sh.type,
					        (unsigned long long)sh.length, why[0] ? ": " : "", why);
					return -EBADMSG;
				}
				break;
			}
			if (sh.flags & CP_SNAP_F_REQUIRED) {
				cp_errf(err, errlen, "snapshot %s: required section type %u unknown to "
				        "this build", path, sh.type);
				return -EBADMSG;
			}
			break;   /* a later build's optional state: skip it */
		}
		}
		continue;
bad_section:
		cp_errf(err, errlen, "snapshot %s: section type %u (%llu bytes) is malformed",
		        path, sh.type, (unsigned long long)sh.length);
		return -EBADMSG;
	}
	if (!seen_meta || !seen_boots) {
		cp_errf(err, errlen, "snapshot %s: required section missing (%s)", path,
		        !seen_meta ? "meta" : "boots");
		return -EBADMSG;
	}
	return 0;
}

static void cp_snap_reset_modules(struct cp_store *s)
{
	for (unsigned i = 0; i < cp_n_registered; i++)
		cp_registered[i].reset(cp_registered[i].ctx, s);
}

void cp_snapshot_sections_reset(struct cp_store *s)
{
	cp_snap_reset_modules(s);
}

int cp_snapshot_load_file(const char *path, struct cp_store *s, char *err, size_t errlen)
{
	uint8_t *data = NULL;
	size_t len = 0;
	int ret;

	ret = cp_state_read_file(path, &data, &len);
	if (ret == -ENOENT)
		return ret;
	if (ret != 0) {
		cp_errf(err, errlen, "snapshot %s: cannot read: %s", path, strerror(-ret));
		return ret;
	}
	ret = cp_snapshot_load_mem(path, data, len, s, err, errlen);
	free(data);
	return ret;
}

int cp_snapshot_load_mem(const char *path, const uint8_t *data, size_t len, struct cp_store *s,
                         char *err, size_t errlen)
{
	struct cp_snap_hdr h;
	struct cp_store tmp;
	uint32_t crc;
	int ret;

	if (len < sizeof(h)) {
		cp_errf(err, errlen, "snapshot %s: truncated: %zu bytes, shorter than the "
		        "%zu-byte header", path, len, sizeof(h));
		ret = -EBADMSG;
		goto out;
	}
	memcpy(&h, data, sizeof(h));
	if (memcmp(h.magic, CP_SNAP_MAGIC, 8) != 0) {
		cp_errf(err, errlen, "snapshot %s: bad magic (not an obscura-cp snapshot, or "
		        "written on a machine of other byte order)", path);
		ret = -EBADMSG;
		goto out;
	}
	crc = cp_crc32c(0, &h, offsetof(struct cp_snap_hdr, hdr_crc));
	if (crc != h.hdr_crc) {
		cp_errf(err, errlen, "snapshot %s: header checksum mismatch (stored 0x%08x, "
		        "computed 0x%08x)", path, h.hdr_crc, crc);
		ret = -EBADMSG;
		goto out;
	}
	if (h.format != CP_SNAP_FORMAT && h.format != 1) {
		cp_errf(err, errlen, "snapshot %s: unsupported format version %u (this build "
		        "reads %u)", path, h.format, CP_SNAP_FORMAT);
		ret = -EBADMSG;
		goto out;
	}
	if (h.schema != CP_STORE_SCHEMA && h.schema != 1) {
		cp_errf(err, errlen, "snapshot %s: store schema version %u unsupported (this "
		        "build has %u)", path, h.schema, CP_STORE_SCHEMA);
		ret = -EBADMSG;
		goto out;
	}
	if (h.body_len != len - sizeof(h)) {
		cp_errf(err, errlen, "snapshot %s: %s: header says %llu body bytes, file holds "
		        "%zu", path, h.body_len > len - sizeof(h) ? "truncated" : "trailing garbage",
		        (unsigned long long)h.body_len, len - sizeof(h));
		ret = -EBADMSG;
		goto out;
	}
	crc = cp_crc32c(0, data + sizeof(h), len - sizeof(h));
	if (crc != h.body_crc) {
		cp_errf(err, errlen, "snapshot %s: body checksum mismatch (CRC32C stored 0x%08x, "
		        "computed 0x%08x)", path, h.body_crc, crc);
		ret = -EBADMSG;
		goto out;
	}
	ret = cp_store_init(&tmp);
	if (ret != 0)
		goto out;
	/* modules start empty; a file without their section leaves them so */
	cp_snap_reset_modules(&tmp);
	ret = cp_parse_body(path, data + sizeof(h), len - sizeof(h), &tmp, err, errlen);
	if (ret != 0) {
		if (ret == -ENOMEM)
			cp_errf(err, errlen, "snapshot %s: out of memory", path);
		/* all or nothing: no module keeps a part of a refused file */
		cp_snap_reset_modules(&tmp);
		cp_store_fini(&tmp);
		goto out;
	}
	/* every check passed: only now does the caller's store change */
	cp_store_fini(s);
	*s = tmp;
out:
	return ret;
}

int cp_snapshot_set_aside(const char *path, char *aside, size_t asidelen)
{
	char dst[640];
	long long now = (long long)time(NULL);

	for (unsigned i = 0; i < 1000; i++) {
		struct stat st;

		if (i == 0)
			snprintf(dst, sizeof(dst), "%s.bad-%lld", path, now);
		else
			snprintf(dst, sizeof(dst), "%s.bad-%lld.%u", path, now, i);
		if (stat(dst, &st) == 0)
			continue;
		if (rename(path, dst) != 0)
			return -errno;
		if (aside != NULL && asidelen != 0)
			snprintf(aside, asidelen, "%s", dst);
		return 0;
	}
	return -EEXIST;
}
