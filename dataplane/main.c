/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * main.c — obscura-dp: arguments, config, EAL, exchange, ports, worker launch, and the
 * main lcore's loop.
 *
 *   obscura-dp [-c CONF] [-n] [--replay FILE...] [--drain-timeout S] [-- EAL ARGS]
 *
 * The main lcore never touches packets in live mode: it refreshes the exchange
 * heartbeat (~10 Hz) and port counters (~1 Hz) and watches for SIGINT/SIGTERM.  In
 * replay mode it is the capture reader (replay.h).  Shutdown order, both modes: workers
 * finish their burst and publish their last epoch (FINAL), the main lcore waits for
 * them, sets dp_state FINISHED, (replay: waits, bounded, for the control plane to drain
 * every slot), sets EXITED and leaves.  The exchange file stays: it is the control
 * plane's input, and the next start deals with whatever is left in it.
 */
#include <errno.h>
#include <getopt.h>
#include <sched.h>
#include <sys/resource.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>

#include "capture.h"
#include "conf.h"
#include "cmd.h"
#include "log.h"
#include "port.h"
#include "replay.h"
#include "responder.h"
#include "telescope.h"
#include "worker.h"
#include "xchg.h"

#define OBS_DEFAULT_CONF "/etc/obscura/obscura.yaml"
#define OBS_EAL_MAX_ARGS (32 + OBS_CONF_MAX_EAL_ARGS + 2 * OBS_CONF_MAX_PORTS + 64)
#define OBS_MAX_REPLAY_FILES 4096

struct obs_args {
	const char *conf;
	bool check_only;
	char **replay;
	unsigned n_replay;
	uint32_t drain_timeout_s;
	const char *capture;          /* --capture FILE: capture from the first packet on */
	const char *capture_filter;   /* --capture-filter BPF ("" = every packet) */
	char **extra;
	int n_extra;
};

/* Second signal (or any signal during the final drain wait) abandons the wait. */
static volatile sig_atomic_t obs_abort;
static volatile sig_atomic_t obs_in_drain;

static void obs_on_hup(int sig)
{
	(void)sig;
	obs_cmd_hup();
}

static void obs_on_signal(int sig)
{
	(void)sig;
	if (obs_stop || obs_in_drain)
		obs_abort = 1;
	obs_stop = 1;
}

static void obs_usage(FILE *f)
{
	fprintf(f,
		"usage: obscura-dp [-c CONF] [-n] [--replay FILE...] [--drain-timeout S] "
		"[-- EAL ARGS]\n"
		"  -c, --config CONF      configuration file (default " OBS_DEFAULT_CONF ")\n"
		"  -n, --check            load and validate CONF, print it normalised, exit\n"
		"  --replay FILE...       read capture files (pcap, pcapng; plain, gzip or zstd)\n"
		"                         instead of the configured ports\n"
		"  --drain-timeout S      replay: wait at most S s for the control plane to drain "
		"the last epochs (default 60)\n"
		"  --capture FILE.pcapng  capture from the first packet on (as `obscuractl capture\n"
		"                         start`; stopped at exit)\n"
		"  --capture-filter BPF   the packets it takes (libpcap syntax; default: all)\n"
		"  -h, --help             this text\n");
}

static int obs_parse_args(int argc, char **argv, struct obs_args *a)
{
	int i;

	memset(a, 0, sizeof(*a));
	a->conf = OBS_DEFAULT_CONF;
	a->drain_timeout_s = 60;
	a->replay = calloc(OBS_MAX_REPLAY_FILES, sizeof(char *));
	if (a->replay == NULL)
		return -ENOMEM;
	for (i = 1; i < argc; i++) {
		const char *s = argv[i];

		if (strcmp(s, "--") == 0) {
			a->extra = argv + i + 1;
			a->n_extra = argc - i - 1;
			break;
		} else if (strcmp(s, "-c") == 0 || strcmp(s, "--config") == 0) {
			if (++i >= argc)
				goto missing;
			a->conf = argv[i];
		} else if (strncmp(s, "--config=", 9) == 0) {
			a->conf = s + 9;
		} else if (strcmp(s, "-n") == 0 || strcmp(s, "--check") == 0) {
			a->check_only = true;
		} else if (strcmp(s, "--replay") == 0) {
			/* every following argument up to the next option is a file */
			while (i + 1 < argc && argv[i + 1][0] != '-') {
				if (a->n_replay == OBS_MAX_REPLAY_FILES) {
					fprintf(stderr, "obscura-dp: more than %u replay files\n",
					        OBS_MAX_REPLAY_FILES);
					return -E2BIG;
				}
				a->replay[a->n_replay++] = argv[++i];
			}
			if (a->n_replay == 0) {
				fprintf(stderr, "obscura-dp: --replay needs at least one file\n");
				return -EINVAL;
			}
		} else if (strcmp(s, "--drain-timeout") == 0 ||
		           strncmp(s, "--drain-timeout=", 16) == 0) {
			const char *v = s[15] == '=' ? s + 16 : NULL;
			char *end;
			unsigned long t;

			if (v == NULL) {
				if (++i >= argc)
					goto missing;
				v = argv[i];
			}
			errno = 0;
			t = strtoul(v, &end, 10);
			if (errno != 0 || *end != '\0' || end == v || t > 86400) {
				fprintf(stderr, "obscura-dp: --drain-timeout: '%s' is not 0..86400 "
				        "seconds\n", v);
				return -EINVAL;
			}
			a->drain_timeout_s = (uint32_t)t;
		} else if (strcmp(s, "--capture") == 0 || strcmp(s, "--capture-filter") == 0) {
			if (++i >= argc)
				goto missing;
			if (s[9] == '\0')
				a->capture = argv[i];
			else
				a->capture_filter = argv[i];
		} else if (strcmp(s, "-h") == 0 || strcmp(s, "--help") == 0) {
			obs_usage(stdout);
			exit(0);
		} else {
			fprintf(stderr, "obscura-dp: unknown argument '%s'\n", s);
			obs_usage(stderr);
			return -EINVAL;
		}
	}
	return 0;
missing:
	fprintf(stderr, "obscura-dp: %s needs a value\n", argv[argc - 1]);
	return -EINVAL;
}

/* Hugepages usable: some free and a hugetlbfs mounted. */
static bool obs_hugepages_usable(void)
{
	char line[512];
	long free_pages = 0;
	bool mounted = false;
	FILE *f;

	f = fopen("/proc/meminfo", "r");
	if (f != NULL) {
		while (fgets(line, sizeof(line), f))
			if (sscanf(line, "HugePages_Free: %ld", &free_pages) == 1)
				break;
		fclose(f);
	}
	f = fopen("/proc/mounts", "r");
	if (f != NULL) {
		while (fgets(line, sizeof(line), f))
			if (strstr(line, " hugetlbfs ") != NULL)
				mounted = true;
		fclose(f);
	}
	return free_pages > 0 && mounted;
}

struct obs_argv {
	char *v[OBS_EAL_MAX_ARGS + 1];
	int n;
	char buf[OBS_EAL_MAX_ARGS][OBS_CONF_STR + 16];
};

static int obs_argv_add(struct obs_argv *a, const char *s)
{
	if (a->n >= OBS_EAL_MAX_ARGS)
		return -E2BIG;
	snprintf(a->buf[a->n], sizeof(a->buf[a->n]), "%s", s);
	a->v[a->n] = a->buf[a->n];
	a->n++;
	a->v[a->n] = NULL;
	return 0;
}

/*
 * EAL arguments from the config.  *oversub is set when the machine has fewer CPUs than
 * lcores, so lcores share CPUs (--lcores mapping) and must yield when idle.
 */
/*
 * Start-up ran out of DPDK memory (rc == -ENOMEM): say how much DPDK has and which knob
 * raises it, instead of leaving the operator with "Cannot allocate memory".  Without
 * hugepages obscura-dp gives DPDK 512 MiB, which a production-size RESIP table (6.2 M rows:
 * about 700 MiB of hash and records) does not fit.
 */
static void obs_memory_hint(int rc)
{
	struct rte_malloc_socket_stats st;
	size_t total = 0;

	if (rc != -ENOMEM)
		return;
	for (int sock = 0; sock < RTE_MAX_NUMA_NODES; sock++)
		if (rte_malloc_get_socket_stats(sock, &st) == 0)
			total += st.heap_totalsz_bytes;
	OBS_ERR("DPDK is out of memory (%zu MiB in its heap): without hugepages obscura-dp "
	        "gives it 512 MiB; raise it with dataplane.eal_args: [\"-m\", \"2048\"] (a "
	        "6.2 M-row RESIP table needs about 2 GiB in all) or reserve hugepages "
	        "(deploy/setup, dataplane.hugepages)", total >> 20);
}

static int obs_build_eal_args(const struct obs_conf *c, const struct obs_args *a,
                              struct obs_argv *ea, bool *oversub)
{
	char lc[OBS_CONF_STR + 16];
	cpu_set_t set;
	int cpus[CPU_SETSIZE], n_cpus = 0, i, ret = 0;
	uint32_t p, n_lcores = c->workers + 1, n_pci = 0;
	bool huge;

	ea->n = 0;
	ret |= obs_argv_add(ea, "obscura-dp");
	ret |= obs_argv_add(ea, "--file-prefix");
	ret |= obs_argv_add(ea, c->file_prefix);
	huge = c->hugepages == OBS_HUGE_YES ||
	       (c->hugepages == OBS_HUGE_AUTO && obs_hugepages_usable());
	if (!huge) {
		ret |= obs_argv_add(ea, "--no-huge");
		ret |= obs_argv_add(ea, "-m");
		ret |= obs_argv_add(ea, "512");
	}
	/* replay never opens the configured ports */
	for (p = 0; a->n_replay == 0 && p < c->n_ports; p++) {
		if (obs_dev_is_pci(c->ports[p].device)) {
			ret |= obs_argv_add(ea, "-a");
			n_pci++;
		} else {
			ret |= obs_argv_add(ea, "--vdev");
		}
		ret |= obs_argv_add(ea, c->ports[p].device);
	}
	if (n_pci == 0)
		ret |= obs_argv_add(ea, "--no-pci");

	if (sched_getaffinity(0, sizeof(set), &set) == 0) {
		for (i = 0; i < CPU_SETSIZE; i++)
			if (CPU_ISSET(i, &set))
				cpus[n_cpus++] = i;
	}
	if (n_cpus == 0)
		cpus[n_cpus++] = 0;
	lc[0] = '\0';
	*oversub = (uint32_t)n_cpus < n_lcores;
	for (p = 0; p < n_lcores; p++) {
		size_t l = strlen(lc);

		if (!*oversub)
			snprintf(lc + l, sizeof(lc) - l, "%s%d", p ? "," : "", cpus[p]);
		else
			snprintf(lc + l, sizeof(lc) - l, "%s%u@%d", p ? "," : "", p,
			         cpus[p % (uint32_t)n_cpus]);
		if (strlen(lc) + 16 >= sizeof(lc))
			return -E2BIG;
	}
	ret |= obs_argv_add(ea, *oversub ? "--lcores" : "-l");
	ret |= obs_argv_add(ea, lc);
	for (p = 0; p < c->n_eal_args; p++)
		ret |= obs_argv_add(ea, c->eal_args[p]);
	for (i = 0; i < a->n_extra; i++)
		ret |= obs_argv_add(ea, a->extra[i]);
	return ret ? -E2BIG : 0;
}

/*
 * Start-up phases, for the "running" line: where the time from exec to the first packet
 * goes (EAL, exchange, tables, pool ...), so a slow start is visible without a profiler.
 */
struct obs_phases {
	struct timespec t0, last;
	char line[256];
};

static double obs_ts_diff_ms(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) * 1e3 + (double)(b->tv_nsec - a->tv_nsec) / 1e6;
}

/* CPU seconds this process used so far, every thread (reader, workers, decompressor). */
static double obs_cpu_s(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru) != 0)
		return 0;
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static void obs_phase(struct obs_phases *ph, const char *name)
{
	struct timespec now;
	size_t l = strlen(ph->line);

	clock_gettime(CLOCK_MONOTONIC, &now);
	snprintf(ph->line + l, sizeof(ph->line) - l, "%s%s %.0f", l ? ", " : "", name,
	         obs_ts_diff_ms(&ph->last, &now));
	ph->last = now;
}

static struct obs_tel *obs_build_tel(const struct obs_conf *c)
{
	const char *why = NULL;
	struct obs_tel *t = obs_tel_from_conf(c, &why);

	if (t == NULL)
		fprintf(stderr, "obscura-dp: telescope: %s\n", why != NULL ? why : strerror(errno));
	return t;
}

int main(int argc, char **argv)
{
	static struct obs_conf conf;
	static struct obs_argv ea;
	static struct obs_port ports[OBS_CONF_MAX_PORTS];
	struct obs_worker *workers = NULL;
	struct rte_mempool *pool = NULL;
	struct obs_xchg xchg = { 0 };
	struct obs_tel *tel = NULL;
	struct obs_resp_cfg *resp_cfg = NULL;   /* responder (issue 13): NULL = off */
	bool cmd_up = false;
	struct obs_args args;
	struct obs_phases ph = { .line = "" };
	struct sigaction sa;
	char err[512];
	bool oversub = false, ports_started = false, eal_up = false, launched = false;
	struct obs_replay_stats rst = { 0 };
	struct timespec rp_t0 = { 0, 0 };
	double startup_s = 0, startup_cpu = 0;
	uint32_t w, p, q, lcore_ids[OBX_MAX_WORKERS], n_lc = 0;
	unsigned lcore;
	int ret, rc = 1;

	clock_gettime(CLOCK_MONOTONIC, &ph.t0);
	ph.last = ph.t0;
	/* until the EAL starts, every exit goes through out (nothing to stop yet) so the
	 * arguments are freed on each path */
	if (obs_parse_args(argc, argv, &args) != 0)
		goto out;
	if (obs_conf_load(args.conf, &conf, err, sizeof(err)) != 0) {
		fprintf(stderr, "obscura-dp: %s\n", err);
		goto out;
	}
	if (args.check_only) {
		obs_conf_dump(&conf, stdout);
		rc = fflush(stdout) == 0 ? 0 : 1;
		goto out;
	}
	if (conf.workers > OBX_MAX_WORKERS) {
		fprintf(stderr, "obscura-dp: dataplane.workers %u above %u\n", conf.workers,
		        OBX_MAX_WORKERS);
		goto out;
	}
	if (args.n_replay == 0 && conf.n_ports == 0) {
		fprintf(stderr, "obscura-dp: no ports configured (and no --replay)\n");
		goto out;
	}
	tel = obs_build_tel(&conf);
	if (tel == NULL)
		goto out;
	obs_phase(&ph, "config");
	if (args.n_replay > 0 && obs_replay_check(args.replay, args.n_replay) != 0)
		goto out;
	if (args.n_replay > 0)
		obs_phase(&ph, "input check");
	if (obs_build_eal_args(&conf, &args, &ea, &oversub) != 0) {
		fprintf(stderr, "obscura-dp: too many EAL arguments\n");
		goto out;
	}

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = obs_on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sa.sa_handler = obs_on_hup;      /* reload the tables (cmd.h) */
	sigaction(SIGHUP, &sa, NULL);

	{
		char line[2048] = "";
		int i;

		for (i = 1; i < ea.n; i++) {
			size_t l = strlen(line);

			snprintf(line + l, sizeof(line) - l, " %s", ea.v[i]);
		}
		fprintf(stderr, "obscura-dp: EAL args:%s\n", line);
	}
	ret = rte_eal_init(ea.n, ea.v);
	if (ret < 0) {
		fprintf(stderr, "obscura-dp: EAL init failed: %s\n", rte_strerror(rte_errno));
		goto out;
	}
	eal_up = true;
	obs_log_init();
	obs_phase(&ph, "EAL");
	if (rte_lcore_count() < conf.workers + 1) {
		OBS_ERR("%u lcores for 1 main + %u workers", rte_lcore_count(), conf.workers);
		goto out;
	}
	obs_clock_init();
	if (obs_worker_dyn_init() != 0)
		goto out;

	if (obs_xchg_handle_old(conf.exchange_path, conf.drain_wait_s, &obs_stop) != 0)
		goto out;
	if (obs_stop) {
		OBS_NOTICE("signal during start; exiting");
		rc = 0;
		goto out;
	}
	obs_xchg_cov_sample_size = obs_tel_sample_size(tel);
	if (obs_xchg_create(&xchg, &conf, args.n_replay > 0) != 0)
		goto out;
	obs_phase(&ph, "exchange");
	if ((ret = obs_cmd_init(xchg.h, &conf, conf.workers)) != 0) {   /* tables, command mailbox */
		obs_memory_hint(ret);
		goto out;
	}
	cmd_up = true;
	obs_capture_init(xchg.h, conf.workers, args.n_replay > 0);
	obs_phase(&ph, "tables");
	/* responder (issue 13): the key is read even for --replay (a bad file is an error
	 * either way), but a replay transmits nothing: the header says so */
	if (obs_resp_cfg_build(&conf, tel, &resp_cfg) != 0)
		goto out;
	obs_resp_status(xchg.h, &conf, args.n_replay > 0);
	if (resp_cfg != NULL)
		OBS_NOTICE("responder: %u prefix(es), %llu address(es)%s", resp_cfg->n,
		           (unsigned long long)xchg.h->resp.n_addrs,
		           args.n_replay > 0 ? "; --replay: nothing is transmitted" : "");

	workers = rte_zmalloc("obs_workers", sizeof(*workers) * conf.workers, RTE_CACHE_LINE_SIZE);
	if (workers == NULL) {
		OBS_ERR("cannot allocate %u workers", conf.workers);
		goto out;
	}
	for (w = 0; w < conf.workers; w++) {
		if (obs_worker_init(&workers[w], w, xchg.h, xchg.h->epoch_ns, tel, conf.burst) != 0)
			goto out;
		workers[w].idle_sleep_us = oversub ? 20 : 0;
		if (resp_cfg != NULL && args.n_replay == 0) {
			obs_resp_init(&workers[w].resp, resp_cfg, rte_get_tsc_hz());
			workers[w].resp_on = true;
			workers[w].ep.slot_flags |= OBX_SLOT_F_RESP;
		}
		if (args.n_replay > 0) {
			/* a file can wait for the control plane; a wire cannot (epoch.h) */
			workers[w].ep.full_wait_ns = (uint64_t)args.drain_timeout_s * 1000000000ull;
			workers[w].ep.stop = &obs_stop;
		}
	}

	if (args.n_replay > 0) {
		pool = obs_pool_create("obs_replay", conf.mbufs,
		                       conf.workers * (4096 + conf.burst + 512) + 1024);
		if (pool == NULL || obs_replay_rings(workers, conf.workers,
		                                     (uint32_t)rte_mempool_avail_count(pool)) != 0) {
			obs_memory_hint(pool == NULL ? -rte_errno : 0);
			goto out;
		}
	} else {
		pool = obs_pool_create("obs_rx", conf.mbufs, obs_ports_mbufs_needed(&conf));
		if (pool == NULL || obs_ports_setup(&conf, pool, ports) != 0) {
			obs_memory_hint(pool == NULL ? -rte_errno : 0);
			goto out;
		}
		/* queue q of every port goes to worker q % workers: with equal RSS on every
		 * port, one source lands on one worker whatever port it arrives on */
		for (p = 0; p < conf.n_ports; p++)
			for (q = 0; q < ports[p].n_rxq; q++) {
				struct obs_worker *wk = &workers[q % conf.workers];

				if (wk->n_rxq == OBS_WORKER_MAX_RXQ) {
					OBS_ERR("worker %u: more than %u queues", wk->id,
					        OBS_WORKER_MAX_RXQ);
					goto out;
				}
				wk->rxq[wk->n_rxq].port_id = ports[p].port_id;
				wk->rxq[wk->n_rxq].queue = q;
				wk->rxq[wk->n_rxq].ts_mode = ports[p].ts_mode;
				/* responder: the worker's own TX queue on this port */
				wk->rxq[wk->n_rxq].tx = (struct obs_resp_txq){
					.port_id = ports[p].port_id, .queue = (uint16_t)wk->id,
					.ok = wk->id < ports[p].n_txq, .ol_flags = ports[p].tx_ol,
					.csum_full = ports[p].rx_partial, .mac = ports[p].mac };
				wk->n_rxq++;
			}
		for (w = 0; w < conf.workers; w++)
			if (workers[w].n_rxq == 0)
				OBS_WARN("worker %u has no queue (fewer queues than workers)", w);
		if (obs_ports_start(ports, conf.n_ports) != 0)
			goto out;
		ports_started = true;
	}

	obs_phase(&ph, args.n_replay > 0 ? "pool and rings" : "pool and ports");
	if (args.capture != NULL) {
		char msg[OBX_CMD_MSG_LEN];

		if (obs_capture_start(args.capture, args.capture_filter ? args.capture_filter : "",
		                      0, 0, 0, -1, msg, sizeof(msg)) != 0) {
			OBS_ERR("--capture: %s", msg);
			goto out;
		}
	}
	obs_xchg_set_state(xchg.h, OBX_DP_RUNNING);
	RTE_LCORE_FOREACH_WORKER(lcore) {
		if (n_lc == conf.workers)
			break;
		lcore_ids[n_lc] = lcore;
		ret = rte_eal_remote_launch(args.n_replay > 0 ? obs_worker_replay_main :
		                            obs_worker_poll_main, &workers[n_lc], lcore);
		if (ret != 0) {
			OBS_ERR("cannot launch worker %u on lcore %u: %s", n_lc, lcore,
			        strerror(-ret));
			obs_stop = 1;
			atomic_store(&obs_replay_eof, 1);
			break;
		}
		n_lc++;
	}
	launched = true;
	obs_phase(&ph, "launch");
	OBS_NOTICE("running: %u worker(s), %s, boot %016llx, exchange %s", n_lc,
	           args.n_replay > 0 ? "replay" : "live", (unsigned long long)xchg.h->boot_id,
	           xchg.path);
	{
		struct timespec now;

		clock_gettime(CLOCK_MONOTONIC, &now);
		startup_s = obs_ts_diff_ms(&ph.t0, &now) / 1e3;
		OBS_NOTICE("start-up: %.3f s (ms: %s)", startup_s, ph.line);
	}

	if (args.n_replay > 0) {
		struct timespec t1;
		double dt;

		clock_gettime(CLOCK_MONOTONIC, &rp_t0);
		startup_cpu = obs_cpu_s();
		ret = obs_replay_run(args.replay, args.n_replay, pool, workers, n_lc, xchg.h, &rst);
		for (w = 0; w < n_lc; w++)
			rte_eal_wait_lcore(lcore_ids[w]);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		dt = obs_ts_diff_ms(&rp_t0, &t1) / 1e3;
		OBS_NOTICE("replay: %llu frames in %.3f s (%.0f frames/s)%s; the reader slept %llu "
		           "times on a full ring, %llu on an empty pool (%.3f s)",
		           (unsigned long long)rst.frames, dt, dt > 0 ? (double)rst.frames / dt : 0.0,
		           obs_stop ? ", stopped by signal" : "",
		           (unsigned long long)rst.room_waits, (unsigned long long)rst.pool_waits,
		           (double)rst.wait_ns / 1e9);
		if (rst.bad_time > 0)
			OBS_WARN("replay: %llu frame(s) dropped: a capture time before 1970 or after "
			         "%lld s", (unsigned long long)rst.bad_time, OBS_REPLAY_MAX_SEC);
		if (rst.files_failed > 0)
			OBS_ERR("replay: %llu of %u file(s) could not be read to their end (see above)",
			        (unsigned long long)rst.files_failed, args.n_replay);
		rc = ret == 0 ? 0 : 1;
	} else {
		uint32_t tick = 0;

		while (!obs_stop) {
			atomic_store_explicit(&xchg.h->heartbeat_ns, obs_wall_ns(),
			                      memory_order_relaxed);
			if (tick++ % 10 == 0)
				obs_ports_stats(ports, conf.n_ports, xchg.h);
			obs_cmd_poll();
			obs_sleep_ms(100);
		}
		OBS_NOTICE("signal: stopping workers");
		for (w = 0; w < n_lc; w++)
			rte_eal_wait_lcore(lcore_ids[w]);
		obs_ports_stats(ports, conf.n_ports, xchg.h);
		rc = 0;
	}
	obs_capture_fini();     /* the workers are done: the file gets all they matched */
	obs_xchg_set_state(xchg.h, OBX_DP_FINISHED);
	atomic_store_explicit(&xchg.h->heartbeat_ns, obs_wall_ns(), memory_order_relaxed);
	OBS_NOTICE("finished: last epochs published");

	if (args.n_replay > 0) {
		obs_in_drain = 1;
		ret = obs_xchg_wait_drained(xchg.h, args.drain_timeout_s, &obs_abort);
		if (ret == 0) {
			struct timespec t2;
			double dt;

			clock_gettime(CLOCK_MONOTONIC, &t2);
			dt = obs_ts_diff_ms(&rp_t0, &t2) / 1e3;
			OBS_NOTICE("every slot drained by the control plane");
			/* the end-to-end figure: first frame read to the last epoch drained */
			OBS_NOTICE("replay: end to end %llu frames in %.3f s (%.0f frames/s), start-up "
			           "%.3f s, dataplane CPU %.3f s", (unsigned long long)rst.frames, dt,
			           dt > 0 ? (double)rst.frames / dt : 0.0, startup_s,
			           obs_cpu_s() - startup_cpu);
		} else
			OBS_WARN("giving up waiting for the control plane (%s after %u s): the "
			         "undrained epochs stay READY in %s for a later control plane",
			         ret == -EINTR ? "interrupted" : "timeout", args.drain_timeout_s,
			         xchg.path);
	}
out:
	if (launched)
		rte_eal_mp_wait_lcore();
	obs_capture_fini();
	if (cmd_up)
		obs_cmd_fini();
	if (xchg.h != NULL) {
		obs_xchg_set_state(xchg.h, OBX_DP_EXITED);
		obs_xchg_close(&xchg);
	}
	if (ports_started)
		obs_ports_stop(ports, conf.n_ports);
	if (eal_up) {
		rte_free(workers);
		rte_mempool_free(pool);
		rte_eal_cleanup();
	}
	obs_tel_free(tel);
	obs_resp_cfg_free(resp_cfg);
	free(args.replay);
	return rc;
}
