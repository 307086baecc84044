/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cmd_report.c — `report.write [dir]` (admin): run every registered report writer
 * (report.h) into dir, default <state_dir>/reports/<UTC timestamp>, and list the files.
 * Admin because it writes files wherever the control plane's user may.  Main loop only.
 */
#include <errno.h>
#include <string.h>

#include "commands.h"
#include "json.h"
#include "report.h"

void cp_cmd_report_write(struct cp *cp, json_t *args, struct cp_reply *r)
{
	const char *dir_arg = json_string_value(json_object_get(args, "dir"));
	struct cp_report_result res;
	char dir[1024], err[512];
	json_t *files;
	int ret;

	if (dir_arg != NULL && dir_arg[0] != '\0') {
		if (dir_arg[0] != '/') {
			cp_reply_err(r, CP_E_BAD_ARGS, "dir must be an absolute path");
			return;
		}
		snprintf(dir, sizeof(dir), "%s", dir_arg);
	} else if (cp_report_default_dir(cp->conf.state_dir, cp_wall_ns(), dir, sizeof(dir)) != 0) {
		cp_reply_err(r, CP_E_INTERNAL, "state_dir too long for a report path");
		return;
	}
	ret = cp_report_run(dir, &res, err, sizeof(err));
	if (ret != 0) {
		cp_reply_err(r, CP_E_INTERNAL, "report %s: %s", dir, err);
		cp_report_result_free(&res);
		return;
	}
	files = json_array();
	for (size_t i = 0; i < res.n_files; i++)
		json_array_append_new(files, json_string(res.files[i]));
	r->data = json_pack("{s:s, s:o}", "dir", dir, "files", files);
	cp_report_result_free(&res);
}
