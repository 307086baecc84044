/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * main.c — obscura-cp: the control-plane daemon (no EAL).
 *
 *   obscura-cp [-c CONF] [-n] [-f] [--fleet]
 *
 * --fleet: no dataplane, no drain, no journal or snapshot restore, no export: the store
 * and the analyses are read from ClickHouse (export.clickhouse.url and database, the
 * union of every appliance that exported there; fleet.h) once at start, then served.
 *
 * Start-up order matters: load and validate the config; bind the ctl sockets and the
 * metrics listener (as root, so they can live under /run or on a low port); hand
 * state_dir to control.user and drop to it; load the snapshot (a bad one is set aside,
 * never half-loaded) and replay the journal on top; start serving /metrics; then one
 * poll() loop does everything — the drain at least every 50 ms, then the analyses'
 * after-epochs hook, the /metrics rendering, the table reloads' outcomes, the background
 * work's results, the ctl clients, the periodic snapshot.  Nothing in the loop waits:
 * reloads are posted and followed (reload.h), snapshots and reports are written by a
 * forked child (jobs.h), a large table copy is read on a thread (loader.h).
 * SIGTERM/SIGINT: drain what is READY, snapshot, exit.  The state is single-threaded by
 * design: its one lock guards the rendered /metrics text handed to the HTTP thread
 * (metrics.h), which reads nothing else; the export's sender thread shares a few
 * counters with the loop under its own mutex (export.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "analysis.h"
#include "commands.h"
#include "cp.h"
#include "cp_log.h"
#include "ctl_server.h"
#include "integrity.h"
#include "metrics.h"
#include "report.h"
#include "snapshot.h"
#include "statefile.h"

#define CP_DEFAULT_CONF  "/etc/obscura/obscura.yaml"
#define CP_DRAIN_NS      (50ull * 1000000ull)   /* drain at least this often */

static volatile sig_atomic_t cp_stop;

static void cp_on_signal(int sig)
{
	cp_stop = sig;
}

static void cp_usage(FILE *out)
{
	fprintf(out, "usage: obscura-cp [-c CONF] [-n] [-f] [--fleet]\n"
	        "  -c CONF  configuration file (default %s)\n"
	        "  -n       check the configuration, print it normalised, exit\n"
	        "  -f       stay in the foreground (the default; there is no daemon mode:\n"
	        "           run it under a supervisor)\n"
	        "  --fleet  answer from ClickHouse over every appliance that exported into\n"
	        "           export.clickhouse.url/database (read at start; no dataplane)\n",
	        CP_DEFAULT_CONF);
}

static int cp_mkdir_p(const char *path, mode_t mode)
{
	char buf[512];
	size_t len = strlen(path);

	if (len >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, path, len + 1);
	for (size_t i = 1; i <= len; i++) {
		if (buf[i] != '/' && buf[i] != '\0')
			continue;
		buf[i] = '\0';
		if (mkdir(buf, mode) != 0 && errno != EEXIST)
			return -errno;
		buf[i] = path[i];
	}
	return 0;
}

/* Give state_dir (and what is in it) to the user, then become that user. */
static int cp_drop_privileges(const struct obs_conf *c)
{
	struct passwd *pw;

	if (c->user[0] == '\0')
		return 0;
	pw = getpwnam(c->user);
	if (pw == NULL) {
		CP_ERR("control.user '%s': no such user", c->user);
		return -ENOENT;
	}
	if (geteuid() != 0) {
		if (geteuid() == pw->pw_uid)
			return 0;
		CP_ERR("control.user '%s' set but not started as root (uid %u): cannot switch",
		       c->user, (unsigned)geteuid());
		return -EPERM;
	}
	/* by descriptor, never following a link the service user planted (statefile.h) */
	if (cp_state_give(c->state_dir, pw->pw_uid, pw->pw_gid) != 0)
		return -EPERM;
	if (initgroups(pw->pw_name, pw->pw_gid) != 0 || setgid(pw->pw_gid) != 0 ||
	    setuid(pw->pw_uid) != 0) {
		CP_ERR("cannot switch to user %s: %s", c->user, strerror(errno));
		return -errno;
	}
	if (setuid(0) == 0) {
		CP_ERR("privilege drop to %s did not stick", c->user);
		return -EPERM;
	}
	CP_NOTICE("running as user %s (uid %u gid %u)", c->user, (unsigned)pw->pw_uid,
	          (unsigned)pw->pw_gid);
	return 0;
}

/* Snapshot, then journal on top.  A refused snapshot is loud, set aside, and we go on
 * from an empty store; only I/O and memory failures stop the start. */
static int cp_restore(struct cp *cp)
{
	struct cp_persist *p = &cp->persist;
	char err[512] = "";
	int ret;

	ret = cp_snapshot_load_file(p->snapshot_path, &cp->store, err, sizeof(err));
	if (ret == 0) {
		p->loaded = true;
		CP_NOTICE("snapshot: loaded %s: %llu epochs, %u sources, %u boot(s)",
		          p->snapshot_path, (unsigned long long)cp->store.epochs, cp->store.src.n,
		          cp->store.n_boots);
	} else if (ret == -ENOENT) {
		CP_NOTICE("snapshot: none at %s; starting with an empty store", p->snapshot_path);
	} else if (ret == -ESTALE) {
		/* whole and valid, kept under another analysis configuration: carrying on
		 * empty would silently drop it, so the start stops and says how to go on */
		CP_ERR("!!! %s", err);
		CP_ERR("!!! refusing to start. Either put the config back as it was, or keep the "
		       "old store and start a new one: stop obscura-cp, move %s/%s and %s/%s* to "
		       "another directory (the old config reads them there: control.state_dir), "
		       "and start again", cp->conf.state_dir, CP_SNAP_NAME, cp->conf.state_dir,
		       CP_JOURNAL_NAME);
		return ret;
	} else if (ret == -EBADMSG) {
		int r;

		p->started_empty = true;
		snprintf(p->load_error, sizeof(p->load_error), "%s", err);
		r = cp_snapshot_set_aside(p->snapshot_path, p->set_aside, sizeof(p->set_aside));
		CP_ERR("!!! SNAPSHOT REFUSED: %s", err);
		if (r == 0)
			CP_ERR("!!! moved it aside to %s; STARTING FROM AN EMPTY STORE (journal is "
			       "still replayed)", p->set_aside);
		else
			CP_ERR("!!! cannot move it aside (%s); STARTING FROM AN EMPTY STORE",
			       strerror(-r));
	} else {
		CP_ERR("%s", err);
		return ret;
	}

	ret = cp_journal_open(&cp->journal, cp->conf.state_dir);
	if (ret != 0)
		return ret;
	ret = cp_journal_replay(&cp->journal, &cp->store, &p->replay);
	if (ret != 0) {
		CP_ERR("journal: replay of %s failed: %s", cp->journal.path, strerror(-ret));
		return ret;
	}
	if (p->replay.applied != 0)
		cp_analyses_after_epochs(cp);
	if (p->replay.records != 0 || p->replay.torn_bytes != 0 || p->replay.bad_regions != 0)
		CP_NOTICE("journal: replayed %s: %llu record(s), %llu applied, %llu already in "
		          "the snapshot%s, %llu damaged region(s) skipped", cp->journal.path,
		          (unsigned long long)p->replay.records,
		          (unsigned long long)p->replay.applied,
		          (unsigned long long)p->replay.duplicates,
		          p->replay.torn_bytes ? ", torn tail dropped" : "",
		          (unsigned long long)p->replay.bad_regions);
	return 0;
}

static int cp_run(struct cp *cp, struct cp_ctl *ctl, struct cp_metrics *mx, bool fleet)
{
	size_t maxfd = cp_ctl_max_pollfds(ctl);
	struct pollfd *pfd = calloc(maxfd, sizeof(*pfd));
	uint64_t next_drain = 0, next_snap;

	if (pfd == NULL)
		return -ENOMEM;
	next_snap = cp_mono_ns() + (uint64_t)cp->conf.snapshot_interval_s * 1000000000ull;
	while (!cp_stop) {
		uint64_t now = cp_mono_ns();
		size_t n;
		int timeout, r;

		if (now >= next_drain) {
			uint64_t drained = cp->drain.epochs_drained;

			if (!fleet)   /* a fleet has no dataplane: its store came from ClickHouse */
				cp_drain_poll(&cp->drain, now);
			/* the analyses derive after a pass that merged epochs (any mapping's),
			 * never inside the merge */
			if (cp->drain.epochs_drained != drained)
				cp_analyses_after_epochs(cp);
			next_drain = now + CP_DRAIN_NS;
			/* a pass that merged epochs publishes at once, else every 500 ms */
			cp_metrics_poll(mx, cp, now, cp->drain.epochs_drained != drained);
		}
		/* outcomes of table reloads, background reads and jobs: never waited for */
		cp_reload_poll(cp);
		cp_capture_poll(cp);
		cp_analyses_poll(cp);
		cp_jobs_poll(cp);
		if (now >= next_snap && !fleet) {
			/* written by a child (persist.c): the loop goes on meanwhile */
			if (cp->drain.dirty || cp->persist.n_written == 0)
				cp_snapshot_start(cp, NULL);
			next_snap = now + (uint64_t)cp->conf.snapshot_interval_s * 1000000000ull;
		}
		n = cp_ctl_pollfds(ctl, pfd, maxfd);
		now = cp_mono_ns();
		timeout = next_drain > now ? (int)((next_drain - now) / 1000000ull) + 1 : 0;
		r = poll(pfd, n, timeout);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			CP_ERR("poll: %s", strerror(errno));
			free(pfd);
			return -errno;
		}
		cp_ctl_process(ctl, pfd, n, cp_mono_ns());
	}
	free(pfd);
	return 0;
}

int main(int argc, char **argv)
{
	const char *conf_path = CP_DEFAULT_CONF;
	static struct cp cp;   /* big (store, conf): not on the stack */
	struct cp_ctl ctl;
	struct cp_metrics mx;
	struct sigaction sa;
	bool check_only = false, fleet = false;
	static const struct option lopts[] = {
		{ "fleet", no_argument, NULL, 'F' },
		{ NULL, 0, NULL, 0 },
	};
	char err[512];
	int opt, ret, rc = 1;

	while ((opt = getopt_long(argc, argv, "c:nfh", lopts, NULL)) != -1) {
		switch (opt) {
		case 'F':
			fleet = true;
			break;
		case 'c':
			conf_path = optarg;
			break;
		case 'n':
			check_only = true;
			break;
		case 'f':
			break;
		case 'h':
			cp_usage(stdout);
			return 0;
		default:
			cp_usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		cp_usage(stderr);
		return 2;
	}

	if (obs_conf_load(conf_path, &cp.conf, err, sizeof(err)) != 0) {
		fprintf(stderr, "obscura-cp: %s\n", err);
		return 1;
	}
	if (check_only) {
		obs_conf_dump(&cp.conf, stdout);
		return fflush(stdout) == 0 ? 0 : 1;
	}
	snprintf(cp.conf_path, sizeof(cp.conf_path), "%s", conf_path);
	cp.start_wall_ns = cp_wall_ns();
	cp.start_mono_ns = cp_mono_ns();
	snprintf(cp.persist.snapshot_path, sizeof(cp.persist.snapshot_path), "%s/%s",
	         cp.conf.state_dir, CP_SNAP_NAME);
	cp.journal.fd = -1;
	CP_NOTICE("obscura-cp %s starting (config %s, pid %d)", CP_VERSION, conf_path,
	          (int)getpid());

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = cp_on_signal;   /* no SA_RESTART: poll() must return */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (cp_store_init(&cp.store) != 0) {
		CP_ERR("out of memory");
		return 1;
	}
	/* the store's own report, then every analysis of the registry (analysis.h): its
	 * consumers, snapshot section, report and commands, before cp_restore() */
	cp_report_register_builtin(&cp.store);
	/* the loss-stamp ledger: a consumer and a snapshot section of the core's */
	if (cp_integrity_start(&cp) != 0) {
		CP_ERR("integrity: registration failed");
		goto out_store;
	}
	if (cp_analyses_start(&cp) != 0)
		goto out_store;
	{
		/* fingerprint (issue 14): the tool labels' names (toolstore.h); a bad file only
		 * costs the names (ids show as tool<N>), the dataplane refuses it anyway */
		char fperr[256];

		if (cp_tool_names_load(cp.conf.fingerprint_file, fperr, sizeof(fperr)) != 0)
			CP_WARN("fingerprints: no tool names: %s", fperr);
	}
	ret = cp_mkdir_p(cp.conf.state_dir, 0750);
	if (ret != 0) {
		CP_ERR("cannot create control.state_dir %s: %s", cp.conf.state_dir, strerror(-ret));
		goto out_store;
	}
	ret = cp_ctl_open(&ctl, &cp);
	if (ret != 0)
		goto out_store;
	if (cp_metrics_bind(&mx, cp.conf.metrics_listen) != 0)
		goto out_ctl;
	if (cp_drop_privileges(&cp.conf) != 0)
		goto out_metrics;
	if (access(cp.conf.state_dir, W_OK | X_OK) != 0) {
		CP_ERR("control.state_dir %s is not writable by uid %u: %s", cp.conf.state_dir,
		       (unsigned)geteuid(), strerror(errno));
		goto out_metrics;
	}
	if (fleet) {
		/* the fleet's store is ClickHouse's rows, read whole at start: nothing of
		 * this state_dir's own (no snapshot, journal or spool is read or written) */
		if (cp_fleet_load(&cp) != 0)
			goto out_metrics;
	} else if (cp_restore(&cp) != 0) {
		goto out_journal;
	}
	if (cp_drain_init(&cp.drain, cp.conf.exchange_path, &cp.store, &cp.journal) != 0) {
		CP_ERR("exchange.path too long");
		goto out_journal;
	}
	if (!fleet && cp_export_open(&cp.export, &cp.conf) != 0)
		goto out_journal;
	cp.drain.export = &cp.export;
	/* after the journal replay: the fill is of epochs drained live */
	if (cp_metrics_register_fill(&cp) != 0 || cp_metrics_start(&mx, &cp) != 0)
		goto out_drain;
	cp.metrics = mx.mhd != NULL ? &mx : NULL;   /* for `status` */

	cp.jobs.fork_ok = true;   /* the loop collects background jobs from here on */
	ret = cp_run(&cp, &ctl, &mx, fleet);
	if (cp_stop)
		CP_NOTICE("signal %d: draining, writing the final snapshot", (int)cp_stop);
	/* a snapshot being written is finished, reports are abandoned, then the final one */
	cp_jobs_finish(&cp, "snapshot");
	if (!fleet)
		cp_drain_flush(&cp.drain);
	if (!fleet && cp_snapshot_now(&cp) == 0)
		CP_NOTICE("snapshot: wrote %s; bye", cp.persist.snapshot_path);
	rc = ret == 0 ? 0 : 1;
out_drain:
	cp_drain_fini(&cp.drain);
out_journal:
	cp_export_close(&cp.export);
	cp_journal_close(&cp.journal);
out_metrics:
	cp.metrics = NULL;
	cp_metrics_stop(&mx);
	cp_metrics_fini();
out_ctl:
	cp_ctl_close(&ctl);
out_store:
	cp_analyses_stop();
	cp_store_fini(&cp.store);
	return rc;
}
