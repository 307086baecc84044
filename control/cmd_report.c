/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cmd_report.c — `report.write [dir]` (admin): run every registered report writer
 * (report.h) into dir, default <state_dir>/reports/<UTC timestamp>, and list the files.
 * Admin because it writes files wherever the control plane's user may.
 *
 * The writers run in a child process (jobs.h) over the state as it was when the command
 * came; the reply comes when they are done, and the loop serves everyone else meanwhile.
 * One report at a time.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "json.h"
#include "report.h"

struct cp_report_job {
	char dir[1024];
};

/* In the child (or inline): every writer into the directory. */
static void cp_report_job_run(struct cp *cp, void *arg, struct cp_reply *r)
{
	const struct cp_report_job *rj = arg;
	struct cp_report_result res;
	char err[512];
	json_t *files;
	int ret;

	(void)cp;
	ret = cp_report_run(rj->dir, &res, err, sizeof(err));
	if (ret != 0) {
		cp_reply_err(r, CP_E_INTERNAL, "report %s: %s", rj->dir, err);
		cp_report_result_free(&res);
		return;
	}
	files = json_array();
	for (size_t i = 0; i < res.n_files; i++)
		json_array_append_new(files, json_string(res.files[i]));
	r->data = json_pack("{s:s, s:o}", "dir", rj->dir, "files", files);
	cp_report_result_free(&res);
}

void cp_cmd_report_write(struct cp *cp, json_t *args, struct cp_reply *r)
{
	const char *dir_arg = json_string_value(json_object_get(args, "dir"));
	const struct cp_job *busy = cp_job_running(cp, "report");
	struct cp_report_job rj;
	uint64_t job;

	if (dir_arg != NULL && dir_arg[0] != '\0') {
		if (dir_arg[0] != '/') {
			cp_reply_err(r, CP_E_BAD_ARGS, "dir must be an absolute path");
			return;
		}
		snprintf(rj.dir, sizeof(rj.dir), "%s", dir_arg);
	} else if (cp_report_default_dir(cp->conf.state_dir, cp_wall_ns(), rj.dir,
	                                 sizeof(rj.dir)) != 0) {
		cp_reply_err(r, CP_E_INTERNAL, "state_dir too long for a report path");
		return;
	}
	if (busy != NULL) {
		cp_reply_err(r, CP_E_BUSY, "a report is being written (job %llu, %.0f ms so far); "
		             "try again when it is done", (unsigned long long)busy->id,
		             (double)(cp_mono_ns() - busy->started_mono_ns) / 1e6);
		return;
	}
	job = cp_job_start(cp, 0, "report", cp_report_job_run, NULL, &rj, sizeof(rj), r);
	if (job != 0)
		cp_reply_defer(r, job);
}
