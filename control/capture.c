/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * capture.c — `capture start|stop|status` through the command mailbox (capture.h).
 */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <pcap/pcap.h>

#include "capture.h"
#include "commands.h"
#include "cp_log.h"
#include "json.h"

#define CP_CAP_W(n) { n, CP_ARG_STR, false, 0, OBX_CAP_FILTER_LEN - 1, "option words", true }
const struct cp_arg cp_args_capture_start[] = {
	CP_CAP_W("w1"), CP_CAP_W("w2"), CP_CAP_W("w3"), CP_CAP_W("w4"), CP_CAP_W("w5"),
	CP_CAP_W("w6"), CP_CAP_W("w7"), CP_CAP_W("w8"), CP_CAP_W("w9"), CP_CAP_W("w10"),
	CP_CAP_W("w11"),
	{ NULL, CP_ARG_STR, false, 0, 0, NULL, false }
};

static const char *const cp_cap_states[] = { "idle", "running", "stopped" };
static const char *const cp_cap_stops[OBX_CAP_STOP_N] = OBX_CAP_STOP_NAMES;

static bool cp_cap_dp_running(const struct obx_header *h)
{
	return h != NULL &&
	       atomic_load_explicit(&h->dp_state, memory_order_acquire) == OBX_DP_RUNNING;
}

/* A decimal option value (0 allowed: no limit). */
static int cp_cap_num(const char *opt, const char *v, uint64_t max, uint64_t *out,
                      struct cp_reply *r)
{
	char *end;
	unsigned long long n;

	errno = 0;
	n = strtoull(v, &end, 10);
	if (errno != 0 || end == v || *end != '\0' || v[0] == '-' || n > max) {
		cp_reply_err(r, CP_E_BAD_ARGS, "%s: '%s' is not a number in 0..%llu", opt, v,
		             (unsigned long long)max);
		return -1;
	}
	*out = n;
	return 0;
}

/* The file: absolute, short enough, its directory there and writable, not there yet. */
static int cp_cap_check_path(const char *path, struct cp_reply *r)
{
	char dir[OBX_CMD_ARG_LEN];
	struct stat st;

	if (path[0] != '/') {
		cp_reply_err(r, CP_E_BAD_ARGS, "capture file '%s': the path must be absolute", path);
		return -1;
	}
	if (strlen(path) >= OBX_CMD_ARG_LEN) {
		cp_reply_err(r, CP_E_BAD_ARGS, "capture file: path longer than %u bytes",
		             OBX_CMD_ARG_LEN - 1);
		return -1;
	}
	snprintf(dir, sizeof(dir), "%s", path);
	if (stat(dirname(dir), &st) != 0 || !S_ISDIR(st.st_mode)) {
		cp_reply_err(r, CP_E_BAD_ARGS, "capture file %s: directory %s %s", path, dir,
		             errno == ENOENT ? "does not exist" : "is not a directory");
		return -1;
	}
	if (access(dir, W_OK | X_OK) != 0) {
		cp_reply_err(r, CP_E_BAD_ARGS, "capture file %s: directory %s is not writable: %s",
		             path, dir, strerror(errno));
		return -1;
	}
	if (lstat(path, &st) == 0) {
		cp_reply_err(r, CP_E_BAD_ARGS, "capture file %s exists (not overwritten)", path);
		return -1;
	}
	return 0;
}

/* The filter compiles for Ethernet (the dataplane compiles it the same way). */
static int cp_cap_check_filter(const char *filter, struct cp_reply *r)
{
	pcap_t *ph = pcap_open_dead(DLT_EN10MB, 65535);
	struct bpf_program fp;
	int rc = 0;

	if (ph == NULL) {
		cp_reply_err(r, CP_E_INTERNAL, "capture filter: cannot open a libpcap handle");
		return -1;
	}
	if (pcap_compile(ph, &fp, filter, 1, PCAP_NETMASK_UNKNOWN) != 0) {
		cp_reply_err(r, CP_E_BAD_ARGS, "capture filter '%s' does not compile: %s", filter,
		             pcap_geterr(ph));
		rc = -1;
	} else {
		pcap_freecode(&fp);
	}
	pcap_close(ph);
	return rc;
}

/* Post cmd (the mailbox must be free); the caller's reply is deferred until it is
 * answered, when the loop collects deferred replies, else answered "posted". */
static void cp_cap_post(struct cp *cp, uint32_t cmd, const char *arg, struct cp_reply *r)
{
	struct cp_capture *c = &cp->capture;
	struct obx_header *h = cp->drain.cur.h;
	struct obx_cmd_box *b = &h->cmd;
	uint64_t seq = atomic_load_explicit(&b->req_seq, memory_order_acquire);

	b->cmd = cmd;
	memset(b->arg, 0, sizeof(b->arg));
	snprintf(b->arg, sizeof(b->arg), "%s", arg);
	atomic_store_explicit(&b->req_seq, seq + 1, memory_order_release);
	c->posted = true;
	c->cmd = cmd;
	c->seq = seq + 1;
	c->h = h;
	c->boot_id = h->boot_id;
	c->job = 0;
	if (cp->jobs.fork_ok && cp->jobs.answer != NULL) {
		c->job = cp_job_reserve_id(cp);
		cp_reply_defer(r, c->job);
		return;
	}
	r->data = json_pack("{s:s, s:I}", "state", "posted", "request", (json_int_t)c->seq);
}

/* The mailbox is free for us, or r says why not. */
static int cp_cap_box_free(struct cp *cp, struct cp_reply *r)
{
	const struct obx_header *h = cp->drain.cur.h;
	const struct obx_cmd_box *b;

	if (!cp_cap_dp_running(h)) {
		cp_reply_err(r, CP_E_UNAVAILABLE, "no running dataplane attached");
		return -1;
	}
	b = &h->cmd;
	if (cp->capture.posted || cp->reload.posted ||
	    atomic_load_explicit(&b->done_seq, memory_order_acquire) !=
	    atomic_load_explicit(&b->req_seq, memory_order_acquire)) {
		cp_reply_err(r, CP_E_BUSY, "the dataplane is answering another command (a table "
		             "reload or capture request): try again");
		return -1;
	}
	return 0;
}

void cp_cmd_capture_start(struct cp *cp, json_t *args, struct cp_reply *r)
{
	struct cp_capture *c = &cp->capture;
	const char *path = NULL, *filter = "", *sensor = NULL;
	uint64_t maxp = 0, maxb = 0, snap = 0;
	int32_t sensor_i = -1;
	struct obx_header *h;

	for (unsigned i = 0; cp_args_capture_start[i].name != NULL; i++) {
		json_t *jv = json_object_get(args, cp_args_capture_start[i].name);
		const char *w = jv != NULL && json_is_string(jv) ? json_string_value(jv) : NULL;
		const char *v;

		if (w == NULL)
			continue;
		if (w[0] != '-' || w[1] != '-') {
			if (path != NULL) {
				cp_reply_err(r, CP_E_BAD_ARGS, "capture start: one file only ('%s' and "
				             "'%s'); quote the filter", path, w);
				return;
			}
			path = w;
			continue;
		}
		jv = cp_args_capture_start[i + 1].name != NULL ?
		     json_object_get(args, cp_args_capture_start[i + 1].name) : NULL;
		v = jv != NULL && json_is_string(jv) ? json_string_value(jv) : NULL;
		if (v == NULL) {
			cp_reply_err(r, CP_E_BAD_ARGS, "%s needs a value", w);
			return;
		}
		i++;
		if (strcmp(w, "--filter") == 0)
			filter = v;
		else if (strcmp(w, "--sensor") == 0)
			sensor = v;
		else if (strcmp(w, "--max-packets") == 0) {
			if (cp_cap_num(w, v, UINT64_MAX, &maxp, r) != 0)
				return;
		} else if (strcmp(w, "--max-bytes") == 0) {
			if (cp_cap_num(w, v, UINT64_MAX, &maxb, r) != 0)
				return;
		} else if (strcmp(w, "--snaplen") == 0) {
			if (cp_cap_num(w, v, 65535, &snap, r) != 0)
				return;
			if (snap != 0 && snap < 14) {
				cp_reply_err(r, CP_E_BAD_ARGS, "--snaplen %llu: at least 14 (an Ethernet "
				             "header), 0 for whole frames", (unsigned long long)snap);
				return;
			}
		} else {
			cp_reply_err(r, CP_E_BAD_ARGS, "unknown option '%s' (known: --filter, --sensor, "
			             "--max-packets, --max-bytes, --snaplen)", w);
			return;
		}
	}
	if (path == NULL) {
		cp_reply_err(r, CP_E_BAD_ARGS, "capture start: which file? (capture start [--filter "
		             "BPF] ... FILE.pcapng)");
		return;
	}
	if (strlen(filter) >= OBX_CAP_FILTER_LEN) {
		cp_reply_err(r, CP_E_BAD_ARGS, "capture filter longer than %u bytes",
		             OBX_CAP_FILTER_LEN - 1);
		return;
	}
	if (cp_cap_check_path(path, r) != 0 || cp_cap_check_filter(filter, r) != 0)
		return;
	if (sensor != NULL) {
		for (uint32_t s = 0; s < cp->conf.n_sensors; s++)
			if (strcmp(cp->conf.sensors[s].name, sensor) == 0)
				sensor_i = (int32_t)s;
		if (sensor_i < 0) {
			cp_reply_err(r, CP_E_BAD_ARGS, "no sensor '%s' in the configuration", sensor);
			return;
		}
	}
	if (cp_cap_box_free(cp, r) != 0)
		return;
	h = cp->drain.cur.h;
	if (atomic_load_explicit(&h->capture.state, memory_order_acquire) == OBX_CAP_RUNNING) {
		cp_reply_err(r, CP_E_BUSY, "a capture is already running (%s): `capture stop` it "
		             "first", c->path[0] ? c->path : "started with obscura-dp --capture");
		return;
	}
	memset(h->capture.req_filter, 0, sizeof(h->capture.req_filter));
	snprintf(h->capture.req_filter, sizeof(h->capture.req_filter), "%s", filter);
	h->capture.req_max_packets = maxp;
	h->capture.req_max_bytes = maxb;
	h->capture.req_snaplen = (uint32_t)snap;
	h->capture.req_sensor = sensor_i;
	snprintf(c->path, sizeof(c->path), "%s", path);
	snprintf(c->filter, sizeof(c->filter), "%s", filter);
	snprintf(c->sensor, sizeof(c->sensor), "%s", sensor ? sensor : "");
	c->max_packets = maxp;
	c->max_bytes = maxb;
	c->snaplen = (uint32_t)snap;
	cp_cap_post(cp, OBX_CMD_CAPTURE_START, path, r);
}

void cp_cmd_capture_stop(struct cp *cp, json_t *args, struct cp_reply *r)
{
	(void)args;
	if (cp_cap_box_free(cp, r) != 0)
		return;
	if (atomic_load_explicit(&cp->drain.cur.h->capture.state, memory_order_acquire) !=
	    OBX_CAP_RUNNING) {
		cp_reply_err(r, CP_E_BAD_ARGS, "no capture running");
		return;
	}
	cp_cap_post(cp, OBX_CMD_CAPTURE_STOP, "", r);
}

/* The deferred reply, if one waits. */
static void cp_cap_answer(struct cp *cp, int result, const char *msg)
{
	struct cp_capture *c = &cp->capture;
	struct cp_reply rep;

	memset(&rep, 0, sizeof(rep));
	c->result = result;
	snprintf(c->msg, sizeof(c->msg), "%s", msg);
	cp_log(result == 0 ? CP_LOG_NOTICE : CP_LOG_WARN, "capture %s: %s: %s",
	       c->cmd == OBX_CMD_CAPTURE_START ? "start" : "stop",
	       result == 0 ? "done" : "refused", msg);
	c->posted = false;
	if (c->job == 0 || cp->jobs.answer == NULL)
		return;
	if (result == 0)
		rep.data = json_pack("{s:s, s:s}", "state", c->cmd == OBX_CMD_CAPTURE_START ?
		                     "running" : "stopping", "dataplane", msg);
	else
		/* -ENOSYS: a dataplane built before capture; -EPIPE: it went away */
		cp_reply_err(&rep, result == -EBUSY ? CP_E_BUSY : result == -EPIPE ||
		             result == -ENOSYS ? CP_E_UNAVAILABLE : CP_E_BAD_ARGS, "%s", msg);
	cp->jobs.answer(cp->jobs.answer_ctx, c->job, &rep);
	json_decref(rep.data);
	c->job = 0;
}

void cp_capture_poll(struct cp *cp)
{
	struct cp_capture *c = &cp->capture;
	const struct obx_header *h = cp->drain.cur.h;
	const struct obx_cmd_box *b;
	char msg[OBX_CMD_MSG_LEN];

	if (!c->posted)
		return;
	if (h != c->h || h == NULL || h->boot_id != c->boot_id) {
		cp_cap_answer(cp, -EPIPE, "the dataplane restarted before answering");
		return;
	}
	b = &h->cmd;
	if (atomic_load_explicit(&b->done_seq, memory_order_acquire) == c->seq) {
		memcpy(msg, b->msg, sizeof(msg));
		msg[sizeof(msg) - 1] = '\0';
		cp_cap_answer(cp, b->result, msg);
		return;
	}
	/* a SIGKILLed dataplane never says EXITED: the drain's liveness check tells */
	if (atomic_load_explicit(&h->dp_state, memory_order_acquire) == OBX_DP_EXITED)
		cp_cap_answer(cp, -EPIPE, "the dataplane exited before answering");
	else if (cp->drain.dp_lost)
		cp_cap_answer(cp, -EPIPE, "the dataplane went away (killed, hung or restarted) "
		              "before answering");
}

void cp_cmd_capture_status(struct cp *cp, json_t *args, struct cp_reply *r)
{
	const struct cp_capture *c = &cp->capture;
	const struct obx_header *h = cp->drain.cur.h;
	const struct obx_capture *x;
	uint32_t st, why;
	json_t *o;

	(void)args;
	if (h == NULL) {
		cp_reply_err(r, CP_E_UNAVAILABLE, "no dataplane attached");
		return;
	}
	x = &h->capture;
	st = atomic_load_explicit(&x->state, memory_order_acquire);
	why = x->stop_why;
	o = json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:o, s:o}",
		"state", st < 3 ? cp_cap_states[st] : "?",
		"capture", (json_int_t)x->id,
		"matched", (json_int_t)atomic_load_explicit(&x->matched, memory_order_relaxed),
		"written", (json_int_t)atomic_load_explicit(&x->written, memory_order_relaxed),
		"dropped", (json_int_t)atomic_load_explicit(&x->dropped, memory_order_relaxed),
		"bytes", (json_int_t)atomic_load_explicit(&x->bytes, memory_order_relaxed),
		"started", cp_json_time(x->start_wall_ns), "stopped", cp_json_time(x->stop_wall_ns));
	if (why != OBX_CAP_STOP_NONE)
		json_object_set_new(o, "stop_reason", json_string(why < OBX_CAP_STOP_N ?
		                    cp_cap_stops[why] : "?"));
	if (x->error[0] != '\0')
		json_object_set_new(o, "error", json_stringn(x->error, strnlen(x->error,
		                    sizeof(x->error))));
	if (c->path[0] != '\0')
		json_object_set_new(o, "request", json_pack("{s:s, s:s, s:s, s:I, s:I, s:i}",
			"file", c->path, "filter", c->filter, "sensor", c->sensor,
			"max_packets", (json_int_t)c->max_packets,
			"max_bytes", (json_int_t)c->max_bytes, "snaplen", (int)c->snaplen));
	if (c->msg[0] != '\0')
		json_object_set_new(o, c->result == 0 ? "last_answer" : "last_refusal",
		                    json_string(c->msg));
	json_object_set_new(o, "pending", json_boolean(c->posted));
	r->data = o;
}
