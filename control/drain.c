/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * drain.c — the exchange reader (drain.h).
 *
 * One drain pass over a mapping: collect the READY slots (acquire loads), order each
 * worker's by seq (a worker's final publish can leave both of its slots READY, and the
 * store's dedup assumes a worker's epochs arrive in order), copy every epoch out of
 * shared memory, append them all to the journal and sync once, then merge, clear and
 * release each slot.  A crash anywhere in between leaves the slot READY and the journal
 * either without the record or with it; both replay to the same store.
 *
 * The records of a READY slot are the control plane's until it stores FREE, but they
 * are still shared memory written by another process.  Before mapping, the file must be
 * a regular file (opened O_NOFOLLOW) that only root or this process's user can write.
 * After mapping, the header is copied once and validated as a copy (obx_geom_read()):
 * every table is found and bounded by that private geometry, never by the mapping's
 * header or the slot's own tabs[], so a header changed after the check changes nothing.
 * Each shared word the drain follows (n_used, every used-index entry) is read once per
 * use into a local and clamped to the validated capacity (the clamp is counted); the
 * used-index lists (exchange.h v4: the dataplane publishes what it used) are checked
 * entry by entry, a repeated index is read once.  So a drain copies and clears the
 * records the epoch used, and its cost follows them, not the tables' size.  Counters
 * the line rate could not have given (obx_counters_implausible()) drop the epoch,
 * counted, instead of reaching the journal.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <signal.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cp_log.h"
#include "drain.h"
#include "export.h"
#include "order.h"

#define CP_STAT_PERIOD_NS  (100ull * 1000000ull)   /* re-stat the path: restart detection */
#define CP_PREV_PERIOD_NS  (1000ull * 1000000ull)  /* look for .prev files */

uint64_t cp_wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t cp_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int cp_drain_init(struct cp_drain *d, const char *path, struct cp_store *s, struct cp_journal *j)
{
	memset(d, 0, sizeof(*d));
	if ((size_t)snprintf(d->path, sizeof(d->path), "%s", path) >= sizeof(d->path))
		return -ENAMETOOLONG;
	d->store = s;
	d->journal = j;
	snprintf(d->last_error, sizeof(d->last_error), "exchange %s not found yet", path);
	return 0;
}

static void cp_xmap_unmap(struct cp_xmap *m)
{
	if (m->h != NULL)
		munmap(m->h, m->size);
	memset(m, 0, sizeof(*m));
}

/* One read of a shared word: the compiler may not load it again later (the writer can
 * change it between two loads). */
static inline uint32_t cp_ld32(const uint32_t *p)
{
	return *(const volatile uint32_t *)p;
}

void cp_drain_fini(struct cp_drain *d)
{
	cp_xmap_unmap(&d->cur);
}

const char *cp_xfile_refused(const struct stat *st, uid_t euid)
{
	if (!S_ISREG(st->st_mode))
		return "not a regular file";
	if (st->st_uid != 0 && st->st_uid != euid)
		return "owned by another user than root or the control plane's: anyone could "
		       "have written it (the dataplane gives it to control.user)";
	if (st->st_mode & (S_IWGRP | S_IWOTH))
		return "writable by group or others: only the dataplane and the control plane "
		       "may write it (the dataplane creates it 0600)";
	if ((uint64_t)st->st_size < OBX_HEADER_SIZE)
		return "smaller than the exchange header";
	return NULL;
}

/* Open a file (never through a symlink), check who can write it, map it and copy and
 * validate its header.  0, or -errno with *why set. */
static int cp_xmap_open(const char *path, struct cp_xmap *m, const char **why)
{
	static _Thread_local char msg[200];
	struct stat st;
	void *p;
	int fd, ret;

	memset(m, 0, sizeof(*m));
	*why = NULL;
	fd = open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		*why = errno == ELOOP ? "a symbolic link (refused)" : strerror(errno);
		return ret;
	}
	if (fstat(fd, &st) != 0) {
		ret = -errno;
		*why = strerror(errno);
		goto out_close;
	}
	/* before a single byte of it is mapped: who could have written it */
	if ((*why = cp_xfile_refused(&st, geteuid())) != NULL) {
		snprintf(msg, sizeof(msg), "%s (owner uid %u, mode %04o)", *why,
		         (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777));
		*why = msg;
		ret = -EPERM;
		goto out_close;
	}
	p = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		ret = -errno;
		*why = strerror(errno);
		goto out_close;
	}
	ret = obx_geom_read(p, (uint64_t)st.st_size, &m->g, why);
	if (ret != 0) {
		munmap(p, (size_t)st.st_size);
		goto out_close;
	}
	m->h = p;
	m->size = (size_t)st.st_size;
	m->dev = st.st_dev;
	m->ino = st.st_ino;
	m->boot_id = m->g.boot_id;
	ret = 0;
out_close:
	close(fd);
	return ret;
}

struct cp_pending {
	uint32_t w, s;
	uint64_t seq;
	int skip;                  /* 0 journal+apply, 1 already applied, 2 invalid,
	                            * 3 implausible counters */
	struct cp_slot_copy c;
};

static int cp_pending_cmp(const void *a, const void *b)
{
	const struct cp_pending *x = a, *y = b;

	return x->w != y->w ? CP_CMP(x->w, y->w) : CP_CMP(x->seq, y->seq);
}

/* One bit per record of the largest table drained so far: which indices of a used
 * list were already taken (a buggy or hostile list must not make one record count
 * twice).  Bits are cleared after each list, so the cost is the list's, not the
 * table's.  The drain runs on one thread. */
static uint64_t *cp_seen;
static uint32_t cp_seen_cap;

static int cp_seen_reserve(uint32_t cap)
{
	uint64_t *n;

	if (cap <= cp_seen_cap)
		return 0;
	n = calloc(((size_t)cap + 63) / 64, sizeof(*n));
	if (n == NULL)
		return -ENOMEM;
	free(cp_seen);
	cp_seen = n;
	cp_seen_cap = cap;
	return 0;
}

/* The slot's used list of kind, checked: of its first n_used (<= cap, read once by the
 * caller) entries, each read once, the indices that are below cap, not repeated and
 * name a non-empty record, into idx (n_used entries); their number.  What it skipped is
 * counted in *bad. */
static uint32_t cp_used_list(const struct obx_geom *g, struct obx_slot_hdr *sh, unsigned kind,
                             uint32_t n_used, uint32_t *idx, uint32_t *bad)
{
	const uint8_t *tab = obx_geom_tab(g, sh, kind);
	const uint32_t *used = obx_geom_used(g, sh, kind);
	uint32_t cap = g->tab_capacity[kind], rs = g->tab_rec_size[kind], n = 0;

	for (uint32_t i = 0; i < n_used; i++) {
		uint32_t j = cp_ld32(&used[i]);

		if (j >= cap || (cp_seen[j / 64] >> (j % 64) & 1) ||
		    obx_rec_empty(tab + (size_t)j * rs, rs)) {
			(*bad)++;
			continue;
		}
		cp_seen[j / 64] |= 1ull << (j % 64);
		idx[n++] = j;
	}
	for (uint32_t i = 0; i < n; i++)
		cp_seen[idx[i] / 64] &= ~(1ull << (idx[i] % 64));
	return n;
}

/*
 * Copy the in-use records of table kind of a slot into a new array (bounded by the
 * validated geometry).  n_used was read once and clamped to the capacity.  Hash kinds:
 * the records its used-index list names, in that order.  BITMAP: the first n_used
 * entries in pool order (indices matter).
 */
static int cp_copy_tab(const struct obx_geom *g, struct obx_slot_hdr *sh, unsigned kind,
                       uint32_t n_used, void **out, uint32_t *n_out, uint32_t *bad)
{
	const uint8_t *tab = obx_geom_tab(g, sh, kind);
	uint32_t cap = g->tab_capacity[kind], rs = g->tab_rec_size[kind];
	uint32_t n = n_used, *idx;
	uint8_t *recs;

	if (!obx_tab_is_hash(kind)) {
		recs = malloc((size_t)(n ? n : 1) * rs);
		if (recs == NULL)
			return -ENOMEM;
		memcpy(recs, tab, (size_t)n * rs);
		*out = recs;
		*n_out = n;
		return 0;
	}
	if (cp_seen_reserve(cap) != 0)
		return -ENOMEM;
	/* the indices first (into the head of the buffer), then the records */
	recs = malloc((size_t)(n ? n : 1) * (rs > sizeof(*idx) ? rs : sizeof(*idx)) +
	              (size_t)(n ? n : 1) * sizeof(*idx));
	if (recs == NULL)
		return -ENOMEM;
	idx = (uint32_t *)(recs + (size_t)(n ? n : 1) * rs);
	n = cp_used_list(g, sh, kind, n_used, idx, bad);
	for (uint32_t i = 0; i < n; i++)
		memcpy(recs + (size_t)i * rs, tab + (size_t)idx[i] * rs, rs);
	*out = recs;
	*n_out = n;
	return 0;
}

/* Copy every present table of a slot into p (p->e.tabs, p->recs). */
static int cp_copy_tabs(const struct obx_geom *g, struct obx_slot_hdr *sh, struct cp_slot_copy *p)
{
	p->e.n_tabs = 0;
	for (unsigned k = 0; k < OBX_TAB_MAX; k++) {
		struct cp_tab *t;
		int ret;

		if (g->tab_capacity[k] == 0)
			continue;
		t = &p->e.tabs[p->e.n_tabs];
		t->kind = k;
		t->rec_size = g->tab_rec_size[k];
		ret = cp_copy_tab(g, sh, k, p->n_used[k], &p->recs[p->e.n_tabs], &t->n,
		                  &p->bad_used);
		if (ret != 0)
			return ret;
		t->recs = p->recs[p->e.n_tabs];
		p->e.n_tabs++;
	}
	return 0;
}

void cp_slot_counts(const struct obx_geom *g, struct obx_slot_hdr *sh, struct cp_slot_copy *c)
{
	memset(c, 0, sizeof(*c));
	for (unsigned k = 0; k < OBX_TAB_MAX; k++) {
		uint32_t u = cp_ld32(&sh->tabs[k].n_used);

		if (u > g->tab_capacity[k]) {
			c->clamped++;
			u = g->tab_capacity[k];
		}
		c->n_used[k] = u;
	}
}

int cp_slot_copy(const struct obx_geom *g, struct obx_slot_hdr *sh, struct cp_slot_copy *c)
{
	struct cp_epoch *e = &c->e;
	const struct cp_tab *st;
	uint64_t src_pk = 0;
	int ret;

	e->flags = sh->flags;
	e->t_first_ns = sh->t_first_ns;
	e->t_last_ns = sh->t_last_ns;
	e->published_wall_ns = sh->published_wall_ns;
	memcpy(&e->delta, &sh->delta, sizeof(e->delta));
	ret = cp_copy_tabs(g, sh, c);
	if (ret != 0)
		return ret;
	/* what the copy holds, not the shared slot: possible at all? */
	c->max_packets = obx_epoch_max_packets(g, e->t_first_ns, e->t_last_ns,
	                                       e->published_wall_ns);
	c->implausible = obx_counters_implausible(&e->delta, c->max_packets);
	st = cp_epoch_tab(e, OBX_TAB_SRC);
	for (uint32_t r = 0; c->implausible == NULL && st != NULL && r < st->n; r++) {
		const struct obx_src_rec *sr = (const struct obx_src_rec *)st->recs + r;

		if (sr->packets > c->max_packets - src_pk)
			c->implausible = "more packets in its source records than the line rate "
			                 "could give in the epoch";
		else
			src_pk += sr->packets;
	}
	return 0;
}

void cp_slot_copy_free(struct cp_slot_copy *c)
{
	for (unsigned k = 0; k < OBX_TAB_MAX; k++) {
		free(c->recs[k]);
		c->recs[k] = NULL;
	}
}

/* Zero what the worker will refill (it relies on empty records, exchange.h), then hand
 * the slot back with a release store so the zeroes are visible before FREE is.  Hash
 * kinds: the records the used list names (indices below the capacity; the list itself
 * needs no clearing: the worker rewrites its head).  BITMAP: the entries handed out (the
 * pool is handed out in order, so nothing past n_used was written). */
void cp_slot_release(const struct obx_geom *g, struct obx_slot_hdr *sh,
                     const uint32_t n_used[OBX_TAB_MAX])
{
	for (unsigned k = 0; k < OBX_TAB_MAX; k++) {
		uint8_t *tab = obx_geom_tab(g, sh, k);
		const uint32_t *used = obx_geom_used(g, sh, k);
		uint32_t cap = g->tab_capacity[k], rs = g->tab_rec_size[k], n = n_used[k];

		if (tab == NULL)
			continue;
		if (!obx_tab_is_hash(k)) {
			memset(tab, 0, (size_t)n * rs);
			continue;
		}
		for (uint32_t i = 0; i < n; i++) {
			uint32_t j = cp_ld32(&used[i]);

			if (j < cap)
				memset(tab + (size_t)j * rs, 0, rs);
		}
	}
	atomic_store_explicit(&sh->state, OBX_SLOT_FREE, memory_order_release);
}

/*
 * Drain every READY slot of h once.  *left gets the READY slots left behind (journal
 * failure).  Returns the epochs applied, or -errno.
 */
static int cp_drain_map(struct cp_drain *d, struct cp_xmap *m, const char *name,
                        uint32_t *left)
{
	struct cp_pending p[OBX_MAX_WORKERS * OBX_SLOTS];
	const struct obx_geom *g = &m->g;
	uint32_t n = 0, n_workers = g->n_workers;
	uint64_t now_wall, t0 = cp_mono_ns();
	int ret = 0, applied = 0;

	*left = 0;
	for (uint32_t w = 0; w < n_workers; w++) {
		for (uint32_t s = 0; s < OBX_SLOTS; s++) {
			struct obx_slot_hdr *sh = obx_geom_slot(g, m->h, w, s);

			if (atomic_load_explicit(&sh->state, memory_order_acquire) != OBX_SLOT_READY)
				continue;
			memset(&p[n], 0, sizeof(p[n]));
			p[n].w = w;
			p[n].s = s;
			p[n].seq = sh->seq;
			/* once, for the copy and the clearing alike */
			cp_slot_counts(g, sh, &p[n].c);
			n++;
		}
	}
	if (n == 0)
		return 0;
	qsort(p, n, sizeof(p[0]), cp_pending_cmp);

	/* 1: copy out, spool for the export, journal */
	for (uint32_t i = 0; i < n; i++) {
		struct obx_slot_hdr *sh = obx_geom_slot(g, m->h, p[i].w, p[i].s);
		struct cp_slot_copy *c = &p[i].c;
		struct cp_epoch *e = &c->e;

		e->boot_id = g->boot_id;
		e->worker = p[i].w;   /* the slot's position is authoritative */
		e->seq = p[i].seq;
		if (sh->worker != p[i].w)
			CP_WARN("exchange %s: slot %u/%u says worker %u; using its position", name,
			        p[i].w, p[i].s, sh->worker);
		if (e->seq == 0) {
			CP_ERR("exchange %s: READY slot %u/%u has seq 0 (dataplane bug); freeing it "
			       "unread", name, p[i].w, p[i].s);
			p[i].skip = 2;
			continue;
		}
		if (cp_store_applied(d->store, e->boot_id, e->worker, e->seq)) {
			p[i].skip = 1;
			continue;
		}
		ret = cp_slot_copy(g, sh, c);
		if (ret != 0)
			goto out_stop;
		d->clamped += c->clamped;
		d->bad_used += c->bad_used;
		if (c->bad_used != 0 || c->clamped != 0)
			CP_WARN("exchange %s: slot %u/%u (seq %llu): %u table count(s) above the "
			        "capacity (clamped), %u used-list entries out of range, repeated or "
			        "naming an empty record (dataplane bug); skipped", name, p[i].w,
			        p[i].s, (unsigned long long)p[i].seq, c->clamped, c->bad_used);
		if (c->implausible != NULL) {
			CP_ERR("exchange %s: slot %u/%u (seq %llu) refused: %s (%llu packets, at "
			       "most %llu possible); epoch dropped, counted in "
			       "drain.implausible_dropped", name, p[i].w, p[i].s,
			       (unsigned long long)p[i].seq, c->implausible,
			       (unsigned long long)e->delta.rx_packets,
			       (unsigned long long)c->max_packets);
			p[i].skip = 3;
			continue;
		}
	}
	/* the export's spool before the journal (even its unsynced write, which a killed
	 * process leaves for the replay): an epoch the store will have is already in the
	 * spool (or ClickHouse), and one spooled but not journalled is drained and spooled
	 * again under the same epoch key, which ClickHouse collapses (export.h) */
	if (d->export != NULL) {
		const struct cp_epoch *ex[OBX_MAX_WORKERS * OBX_SLOTS];
		uint32_t nx = 0;

		for (uint32_t i = 0; i < n; i++)
			if (p[i].skip == 0)
				ex[nx++] = &p[i].c.e;
		ret = cp_export_spool(d->export, g, d->store, ex, nx);
		if (ret != 0)
			goto out_stop;
	}
	for (uint32_t i = 0; i < n; i++) {
		if (p[i].skip != 0)
			continue;
		ret = cp_journal_append(d->journal, &p[i].c.e);
		if (ret != 0)
			goto out_stop;
	}
	ret = cp_journal_sync(d->journal);
	if (ret != 0)
		goto out_stop;

	/* 2: durable — merge, clear, release */
	now_wall = cp_wall_ns();
	for (uint32_t i = 0; i < n; i++) {
		struct obx_slot_hdr *sh = obx_geom_slot(g, m->h, p[i].w, p[i].s);

		if (p[i].skip == 0) {
			int r = cp_store_apply(d->store, &p[i].c.e);

			if (r == -EPROTO || r == -EINVAL) {
				/* it will never apply (a table this build cannot read): refuse it
				 * whole, free the slot so the worker goes on; the journal keeps it
				 * and its replay refuses it the same way */
				CP_ERR("store: refusing epoch %016llx/%u/%llu: %s",
				       (unsigned long long)p[i].c.e.boot_id, p[i].w,
				       (unsigned long long)p[i].seq, r == -EPROTO ?
				       "a table's record size differs from what its reader expects" :
				       "malformed tables");
				d->epochs_invalid++;
				cp_slot_release(g, sh, p[i].c.n_used);
				continue;
			}
			if (r < 0) {
				/* journalled but not merged: leave it and everything after it
				 * READY (a later seq of the worker must not be applied before
				 * it, or dedup would skip it); the retry is deduplicated on
				 * replay */
				CP_ERR("store: cannot merge epoch %016llx/%u/%llu: %s",
				       (unsigned long long)p[i].c.e.boot_id, p[i].w,
				       (unsigned long long)p[i].seq, strerror(-r));
				*left = n - i;
				ret = r;
				break;
			}
			if (r == 0) {
				uint64_t pub = p[i].c.e.published_wall_ns;

				applied++;
				d->epochs_drained++;
				d->dirty = true;
				if (pub != 0 && pub <= now_wall) {
					d->last_lag_ns = now_wall - pub;
					if (d->last_lag_ns > d->max_lag_ns)
						d->max_lag_ns = d->last_lag_ns;
				}
			} else {
				d->epochs_dup++;
			}
		} else if (p[i].skip == 1) {
			d->epochs_dup++;
		} else if (p[i].skip == 3) {
			d->epochs_implausible++;
		} else {
			d->epochs_invalid++;
		}
		cp_slot_release(g, sh, p[i].c.n_used);
	}
	d->last_drain_wall_ns = now_wall;
	if (applied > 0) {
		uint64_t dt = cp_mono_ns() - t0;

		d->drain_ns_total += dt;
		d->drain_epochs += (uint64_t)applied;
		if (dt / (uint64_t)applied > d->drain_ns_max)
			d->drain_ns_max = dt / (uint64_t)applied;
	}
	goto out_free;

out_stop:
	/* nothing released: every READY slot stays for the next pass */
	d->journal_errors++;
	*left = n;
out_free:
	for (uint32_t i = 0; i < n; i++)
		cp_slot_copy_free(&p[i].c);
	return ret < 0 && applied == 0 ? ret : applied;
}

/* Count the FILLING slots of a mapping being let go of: epochs its dead dataplane never
 * published.  A (boot, worker) already counted is not counted again (an undrained file
 * may come back as a .prev file). */
static uint32_t cp_count_lost(struct cp_drain *d, struct cp_xmap *m, const char *name)
{
	const struct obx_geom *g = &m->g;
	uint32_t n = 0;

	for (uint32_t w = 0; w < g->n_workers; w++)
		for (uint32_t s = 0; s < OBX_SLOTS; s++) {
			struct obx_slot_hdr *sh = obx_geom_slot(g, m->h, w, s);
			struct cp_lost_epoch *l;
			bool known = false;

			if (atomic_load_explicit(&sh->state, memory_order_acquire) != OBX_SLOT_FILLING)
				continue;
			for (uint32_t i = 0; i < d->n_lost; i++)
				known |= d->lost[i].boot_id == g->boot_id && d->lost[i].worker == w;
			if (known)
				continue;
			if (d->n_lost == CP_LOST_MAX) {
				memmove(&d->lost[0], &d->lost[1], sizeof(d->lost[0]) * (CP_LOST_MAX - 1));
				d->n_lost--;
			}
			l = &d->lost[d->n_lost++];
			memset(l, 0, sizeof(*l));
			l->boot_id = g->boot_id;
			l->worker = w;
			l->last_pkt_ns = obx_geom_worker_live(g, m->h, w)->last_pkt_ns;
			l->noticed_wall_ns = cp_wall_ns();
			d->epochs_lost++;
			{
				/* the boot's own record of it goes into the snapshots */
				struct cp_boot *b = cp_store_boot(d->store, g->boot_id, true);

				if (b != NULL) {
					b->epochs_lost++;
					d->dirty = true;
				}
			}
			n++;
			CP_WARN("exchange %s: boot %016llx worker %u: its epoch in progress was never "
			        "published (slot left FILLING: the dataplane died); epoch LOST, the "
			        "period of packet time %llu ns is partial", name,
			        (unsigned long long)g->boot_id, w, (unsigned long long)l->last_pkt_ns);
		}
	return n;
}

/* Is the attached dataplane still there?  (drain.h: dp_lost) */
static void cp_dp_health(struct cp_drain *d)
{
	const struct cp_xmap *m = &d->cur;
	uint64_t hb, now;
	uint32_t st;
	char why[sizeof(d->dp_lost_why)] = "";

	if (m->h == NULL) {
		d->dp_lost = false;
		return;
	}
	st = atomic_load_explicit(&m->h->dp_state, memory_order_acquire);
	if (st == OBX_DP_STARTING || st == OBX_DP_RUNNING) {
		/* EPERM: there, but not ours to signal (a root dataplane) */
		if (m->g.dp_pid != 0 && kill((pid_t)m->g.dp_pid, 0) != 0 && errno == ESRCH)
			snprintf(why, sizeof(why), "its process (pid %u) is gone", m->g.dp_pid);
	}
	if (why[0] == '\0' && st == OBX_DP_RUNNING) {
		/* starting may take long (tables load before the workers run): only a
		 * running dataplane must beat */
		hb = atomic_load_explicit(&m->h->heartbeat_ns, memory_order_relaxed);
		for (uint32_t w = 0; w < m->g.n_workers; w++) {
			uint64_t t = atomic_load_explicit(
				&obx_geom_worker_live(&m->g, m->h, w)->heartbeat_ns, memory_order_relaxed);

			if (t > hb)
				hb = t;
		}
		now = cp_wall_ns();
		if (hb != 0 && now > hb + CP_DP_LOST_NS)
			snprintf(why, sizeof(why), "no heartbeat for %.1f s", (double)(now - hb) / 1e9);
	}
	if (why[0] != '\0' && !d->dp_lost)
		CP_WARN("exchange: DATAPLANE LOST (boot %016llx, pid %u): %s", 
		        (unsigned long long)m->g.boot_id, m->g.dp_pid, why);
	else if (why[0] == '\0' && d->dp_lost)
		CP_NOTICE("exchange: dataplane (boot %016llx) beats again",
		          (unsigned long long)m->g.boot_id);
	d->dp_lost = why[0] != '\0';
	snprintf(d->dp_lost_why, sizeof(d->dp_lost_why), "%s", why);
}

static const char *cp_dp_state_name(uint32_t s)
{
	static const char *const names[] = { "starting", "running", "finished", "exited" };

	return s < 4 ? names[s] : "unknown";
}

/* The file at path is not ours any more (replaced or gone): drain what the old mapping
 * still holds, then let go of it. */
static void cp_detach(struct cp_drain *d, const char *why)
{
	uint32_t left = 0;
	int r;

	r = cp_drain_map(d, &d->cur, d->path, &left);
	cp_count_lost(d, &d->cur, d->path);
	CP_NOTICE("exchange: %s (boot %016llx) %s; drained %d last epoch(s) from the old "
	          "mapping%s", d->path, (unsigned long long)d->cur.boot_id, why, r > 0 ? r : 0,
	          left ? ", some left READY (journal error)" : "");
	cp_xmap_unmap(&d->cur);
	d->dp_lost = false;
	snprintf(d->last_error, sizeof(d->last_error), "exchange %s %s", d->path, why);
}

/* No exchange file refused any more (attached one, or the refused one is gone). */
static void cp_forget_refused(struct cp_drain *d)
{
	d->bad_dev = 0;
	d->bad_ino = 0;
	d->bad_mtime = 0;
}

static void cp_try_attach(struct cp_drain *d, const struct stat *st)
{
	struct cp_xmap m;
	const char *why;
	uint32_t n_known;
	int r;

	if (st->st_dev == d->bad_dev && st->st_ino == d->bad_ino &&
	    (int64_t)st->st_mtime == d->bad_mtime)
		return;   /* already refused; wait for the dataplane to replace it */
	r = cp_xmap_open(d->path, &m, &why);
	if (r != 0) {
		CP_WARN("exchange: %s is not usable: %s; waiting for a valid one", d->path,
		        why != NULL ? why : strerror(-r));
		snprintf(d->last_error, sizeof(d->last_error), "exchange %s: %s", d->path,
		         why != NULL ? why : strerror(-r));
		d->bad_dev = st->st_dev;
		d->bad_ino = st->st_ino;
		d->bad_mtime = (int64_t)st->st_mtime;
		return;
	}
	n_known = d->store->n_boots;
	cp_forget_refused(d);
	d->cur = m;
	d->attaches++;
	d->last_error[0] = '\0';
	d->waiting_logged = false;
	if (cp_store_boot(d->store, m.boot_id, false) == NULL) {
		d->dirty = true;
		if (n_known > 0)
			CP_NOTICE("exchange: dataplane restart: new boot %016llx (boots seen: %u)",
			          (unsigned long long)m.boot_id, n_known + 1);
	}
	cp_store_note_header(d->store, &m.g, m.h);
	CP_NOTICE("exchange: attached %s: boot %016llx, dp pid %u, %u worker(s), capacities "
	          "src %u cell %u bitmap %u resip_port %u event %u, state %s", d->path,
	          (unsigned long long)m.boot_id, m.g.dp_pid, m.g.n_workers,
	          m.g.tab_capacity[0], m.g.tab_capacity[1], m.g.tab_capacity[2],
	          m.g.tab_capacity[3], m.g.tab_capacity[4],
	          cp_dp_state_name(atomic_load_explicit(&m.h->dp_state, memory_order_acquire)));
}

static void cp_check_path(struct cp_drain *d)
{
	struct stat st;
	int r = stat(d->path, &st);

	if (d->cur.h != NULL) {
		if (r != 0)
			cp_detach(d, "was removed or moved aside");
		else if (st.st_dev != d->cur.dev || st.st_ino != d->cur.ino)
			cp_detach(d, "was replaced by a new file");
		else if (d->cur.h->boot_id != d->cur.boot_id)
			cp_detach(d, "changed boot id in place");
	}
	if (d->cur.h == NULL) {
		if (r == 0) {
			cp_try_attach(d, &st);
		} else {
			if (d->bad_ino != 0) {
				/* the refused file is gone: nothing to refuse any more */
				cp_forget_refused(d);
				snprintf(d->last_error, sizeof(d->last_error),
				         "exchange %s not found", d->path);
			}
			if (!d->waiting_logged) {
				CP_INFO("exchange: waiting for %s to appear", d->path);
				d->waiting_logged = true;
			}
		}
	}
}

/* Drain and remove "<path>.prev-*" files: old boots' epochs the dataplane set aside. */
static void cp_scan_prev(struct cp_drain *d)
{
	char dir[512], prefix[300];
	const char *slash = strrchr(d->path, '/');
	struct dirent *de;
	DIR *dh;

	if (slash == NULL)
		return;   /* conf insists on an absolute path */
	snprintf(dir, sizeof(dir), "%.*s", slash == d->path ? 1 : (int)(slash - d->path), d->path);
	snprintf(prefix, sizeof(prefix), "%s.prev-", slash + 1);
	dh = opendir(dir);
	if (dh == NULL)
		return;
	while ((de = readdir(dh)) != NULL) {
		char full[1024];
		struct cp_xmap m;
		const char *why;
		uint32_t left = 0, filling = 0;
		int r;

		if (strncmp(de->d_name, prefix, strlen(prefix)) != 0)
			continue;
		snprintf(full, sizeof(full), "%s/%s", strcmp(dir, "/") ? dir : "", de->d_name);
		r = cp_xmap_open(full, &m, &why);
		if (r != 0) {
			/* leave the file: it may be data; say so once per file */
			bool known = false;

			for (uint32_t k = 0; k < CP_PREV_BAD_MAX; k++)
				known |= d->prev_bad[k] == de->d_ino;
			if (!known) {
				CP_WARN("exchange: cannot drain %s: %s; leaving it", full,
				        why != NULL ? why : strerror(-r));
				d->prev_bad[d->n_prev_bad++ % CP_PREV_BAD_MAX] = de->d_ino;
			}
			continue;
		}
		if (cp_store_boot(d->store, m.boot_id, true) != NULL)
			d->dirty = true;
		r = cp_drain_map(d, &m, full, &left);
		if (left == 0) {
			filling = cp_count_lost(d, &m, full);
			if (unlink(full) != 0) {
				CP_WARN("exchange: drained %s but cannot remove it: %s", full,
				        strerror(errno));
			} else {
				d->prev_files++;
				CP_NOTICE("exchange: drained %d epoch(s) of boot %016llx from %s and "
				          "removed it%s", r > 0 ? r : 0, (unsigned long long)m.boot_id,
				          full, filling ? " (its unpublished FILLING slots were lost "
				          "with that dataplane)" : "");
			}
		}
		cp_xmap_unmap(&m);
	}
	closedir(dh);
}

int cp_drain_poll(struct cp_drain *d, uint64_t now_ns)
{
	uint32_t left;
	int r = 0;

	if (now_ns >= d->next_stat_ns) {
		d->next_stat_ns = now_ns + CP_STAT_PERIOD_NS;
		cp_check_path(d);
		if (d->cur.h != NULL)
			cp_store_note_header(d->store, &d->cur.g, d->cur.h);
		cp_dp_health(d);
	}
	if (now_ns >= d->next_prev_ns) {
		d->next_prev_ns = now_ns + CP_PREV_PERIOD_NS;
		cp_scan_prev(d);
	}
	if (d->cur.h != NULL)
		r = cp_drain_map(d, &d->cur, d->path, &left);
	return r;
}

int cp_drain_flush(struct cp_drain *d)
{
	uint32_t left;

	if (d->cur.h == NULL)
		return 0;
	return cp_drain_map(d, &d->cur, d->path, &left);
}
