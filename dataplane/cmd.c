/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cmd.c — the command channel on the main lcore; see cmd.h and cmdbox.h.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "capture.h"
#include "clock_ns.h"
#include "cmd.h"
#include "log.h"
#include "life_tables.h"
#include "resip_dp.h"
#include "fingerprint.h"
#include "scanner_table.h"
#include "tables.h"

static struct obx_header *obs_cmd_h;
static char obs_cmd_scanner_path[OBS_CONF_STR];
static char obs_cmd_fp_path[OBS_CONF_STR];          /* fingerprint (issue 14) */
static volatile sig_atomic_t obs_cmd_hup_flag;

void obs_cmd_hup(void)
{
	obs_cmd_hup_flag = 1;
}

int obs_cmd_reload_scanner(const char *path, char *msg, size_t msglen)
{
	struct obs_scanner_tab *t;
	char err[512];

	if (path == NULL || path[0] == '\0')
		path = obs_cmd_scanner_path;
	if (path[0] == '\0') {
		snprintf(msg, msglen, "no scanner table configured (tables.scanner_file)");
		return -ENOENT;
	}
	t = obs_scanner_build(path, err, sizeof(err));
	if (t == NULL) {
		snprintf(msg, msglen, "%s", err);
		OBS_WARN("scanner table reload refused, old table kept: %s", err);
		return -EINVAL;
	}
	t->generation = obs_tables.generation[OBS_TABLE_SCANNER] + 1;
	obs_tables_swap(OBS_TABLE_SCANNER, t, obs_scanner_free);
	snprintf(msg, msglen, "scanner table %s: %zu prefixes, %zu labels, %zu IPv6 lines skipped "
	         "(generation %llu)", path, t->list.n, t->list.n_labels, t->list.n_skipped,
	         (unsigned long long)t->generation);
	OBS_NOTICE("%s", msg);
	if (path != obs_cmd_scanner_path)
		snprintf(obs_cmd_scanner_path, sizeof(obs_cmd_scanner_path), "%s", path);
	return 0;
}

/* fingerprint (issue 14): build the set from the file and swap it in; a bad file is
 * refused with its reason and the old set kept. */
int obs_cmd_reload_fp(char *msg, size_t msglen)
{
	struct obs_fp_set *s;
	char err[512];

	if (obs_cmd_fp_path[0] == '\0') {
		/* like the other optional tables: nothing configured is an answer, not a
		 * refusal, so a reload of every table still succeeds */
		snprintf(msg, msglen, "fingerprints: none configured (tables.fingerprint_file)");
		return 0;
	}
	s = obs_fp_load(obs_cmd_fp_path, err, sizeof(err));
	if (s == NULL) {
		snprintf(msg, msglen, "%s", err);
		OBS_WARN("fingerprint reload refused, old set kept: %s", err);
		return -EINVAL;
	}
	s->generation = obs_tables.generation[OBS_TABLE_FP] + 1;
	obs_tables_swap(OBS_TABLE_FP, s, obs_fp_free);
	snprintf(msg, msglen, "fingerprints %s: %u rules, format version %u (generation %llu)",
	         obs_cmd_fp_path, s->n, s->version, (unsigned long long)s->generation);
	OBS_NOTICE("%s", msg);
	return 0;
}

int obs_cmd_init(struct obx_header *h, const struct obs_conf *c, uint32_t n_workers)
{
	char msg[OBX_CMD_MSG_LEN];
	int rc;

	obs_cmd_h = h;
	snprintf(obs_cmd_scanner_path, sizeof(obs_cmd_scanner_path), "%s", c->scanner_file);
	rc = obs_tables_init(n_workers);
	if (rc != 0) {
		OBS_ERR("cannot set up the table RCU: %s", strerror(-rc));
		return rc;
	}
	obs_tables_publish(&h->tables);
	if (obs_cmd_scanner_path[0] != '\0') {
		rc = obs_cmd_reload_scanner(NULL, msg, sizeof(msg));
		if (rc != 0) {
			OBS_ERR("tables.scanner_file: %s", msg);
			return rc;
		}
	}
	snprintf(obs_cmd_fp_path, sizeof(obs_cmd_fp_path), "%s", c->fingerprint_file);
	if (obs_cmd_fp_path[0] != '\0' && (rc = obs_cmd_reload_fp(msg, sizeof(msg))) != 0) {
		OBS_ERR("tables.fingerprint_file: %s", msg);
		return rc;
	}
	obs_life_tables_conf(c, n_workers, h);  /* SPEC C: rules.files, exclude.files */
	if ((rc = obs_life_reload_rules(msg, sizeof(msg))) != 0 ||
	    (rc = obs_life_reload_exclude(msg, sizeof(msg))) != 0) {
		OBS_ERR("%s", msg);
		return rc;
	}
	obs_resip_dp_conf(c);                   /* SPEC B: resip.table */
	if ((rc = obs_resip_reload(NULL, msg, sizeof(msg))) != 0) {
		OBS_ERR("resip.table: %s", msg);
		return rc;
	}
	return 0;
}

void obs_cmd_fini(void)
{
	obs_tables_fini();
	obs_cmd_h = NULL;
}

void obs_cmd_poll(void)
{
	struct obx_cmd_box *b;
	uint64_t req;
	char msg[OBX_CMD_MSG_LEN];
	int rc;

	obs_tables_reclaim();
	obs_capture_poll();
	if (obs_cmd_hup_flag) {
		obs_cmd_hup_flag = 0;
		OBS_NOTICE("SIGHUP: reloading tables");
		obs_cmd_reload_scanner(NULL, msg, sizeof(msg));
		obs_life_reload_rules(msg, sizeof(msg));
		obs_life_reload_exclude(msg, sizeof(msg));
		obs_resip_reload(NULL, msg, sizeof(msg));
		if (obs_cmd_fp_path[0] != '\0')
			obs_cmd_reload_fp(msg, sizeof(msg));
	}
	if (obs_cmd_h == NULL)
		return;
	b = &obs_cmd_h->cmd;
	req = atomic_load_explicit(&b->req_seq, memory_order_acquire);
	if (req == atomic_load_explicit(&b->done_seq, memory_order_relaxed))
		return;
	/* in progress, for the control plane's `tables status` (cmdbox.h) */
	b->run_wall_ns = obs_wall_ns();
	atomic_store_explicit(&b->run_seq, req, memory_order_release);
	switch (b->cmd) {
	case OBX_CMD_TABLES_RELOAD: {
		char arg[OBX_CMD_ARG_LEN];
		memcpy(arg, b->arg, sizeof(arg));
		arg[sizeof(arg) - 1] = '\0';
		if (strcmp(arg, "rules") == 0)
			rc = obs_life_reload_rules(msg, sizeof(msg));
		else if (strcmp(arg, "exclude") == 0)
			rc = obs_life_reload_exclude(msg, sizeof(msg));
		else if (strcmp(arg, "resip") == 0)
			rc = obs_resip_reload(NULL, msg, sizeof(msg));
		else if (strcmp(arg, "fingerprints") == 0)
			rc = obs_cmd_reload_fp(msg, sizeof(msg));
		else if (arg[0] == '\0' || strcmp(arg, "scanner") == 0 || strcmp(arg, "all") == 0) {
			rc = obs_cmd_reload_scanner(NULL, msg, sizeof(msg));
			if (strcmp(arg, "scanner") != 0) {
				char m2[OBX_CMD_MSG_LEN / 2];
				size_t l = strlen(msg);
				int r2 = obs_life_reload_rules(m2, sizeof(m2));

				snprintf(msg + l, sizeof(msg) - l, "; %s", m2);
				rc = rc ? rc : r2;
				l = strlen(msg);
				r2 = obs_life_reload_exclude(m2, sizeof(m2));
				snprintf(msg + l, sizeof(msg) - l, "; %s", m2);
				rc = rc ? rc : r2;
				l = strlen(msg);
				r2 = obs_resip_reload(NULL, m2, sizeof(m2));
				snprintf(msg + l, sizeof(msg) - l, "; %s", m2);
				rc = rc ? rc : r2;
				if (obs_cmd_fp_path[0] != '\0') {
					l = strlen(msg);
					r2 = obs_cmd_reload_fp(m2, sizeof(m2));
					snprintf(msg + l, sizeof(msg) - l, "; %s", m2);
					rc = rc ? rc : r2;
				}
			}
		} else {
			snprintf(msg, sizeof(msg), "unknown table '%s' (known: scanner, rules, exclude, resip, fingerprints)",
			         arg);
			rc = -EINVAL;
		}
		break;
	}
	case OBX_CMD_CAPTURE_START: {
		/* the path in arg, the rest in the header's capture block (cmdbox.h) */
		struct obx_capture *x = &obs_cmd_h->capture;
		char path[OBX_CMD_ARG_LEN], filter[OBX_CAP_FILTER_LEN];

		memcpy(path, b->arg, sizeof(path));
		path[sizeof(path) - 1] = '\0';
		memcpy(filter, x->req_filter, sizeof(filter));
		filter[sizeof(filter) - 1] = '\0';
		rc = obs_capture_start(path, filter, x->req_max_packets, x->req_max_bytes,
		                       x->req_snaplen, x->req_sensor, msg, sizeof(msg));
		break;
	}
	case OBX_CMD_CAPTURE_STOP:
		rc = obs_capture_stop(OBX_CAP_STOP_CTL, msg, sizeof(msg));
		break;
	default:
		snprintf(msg, sizeof(msg), "unknown command %u", b->cmd);
		rc = -ENOSYS;
		break;
	}
	b->result = rc;
	snprintf(b->msg, sizeof(b->msg), "%s", msg);
	atomic_store_explicit(&b->done_seq, req, memory_order_release);
}
