/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cmd_integrity.c — `integrity [hour|day|week|month]`: the loss stamp (integrity.h) of
 * every period of that unit (default analysis.period) that holds drained epochs, and of
 * the whole span.  Main loop only.
 */
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "integrity.h"
#include "json.h"
#include "period.h"

const struct cp_arg cp_args_integrity[] = {
	{ "by", CP_ARG_STR, false, 0, 8, "hour, day, week or month (default: analysis.period)",
	  false },
	{ NULL, CP_ARG_STR, false, 0, 0, NULL, false }
};

void cp_cmd_integrity(struct cp *cp, json_t *args, struct cp_reply *r)
{
	static const char *const units[] = { "hour", "day", "week", "month" };
	json_t *jb = json_object_get(args, "by"), *periods = json_array();
	unsigned unit = (unsigned)cp->conf.period;
	struct cp_integ all;
	uint32_t *ps;
	size_t n;

	if (jb != NULL) {
		const char *by = json_string_value(jb);

		for (unit = 0; unit < 4 && strcmp(by, units[unit]) != 0; unit++)
			;
		if (unit == 4) {
			cp_reply_err(r, CP_E_BAD_ARGS, "by '%s': not hour, day, week or month", by);
			json_decref(periods);
			return;
		}
	}
	/* every period epochs reached */
	ps = cp_integrity_period_list(unit, 0, UINT32_MAX, &n);
	for (size_t i = 0; i < n; i++)
		json_array_append_new(periods, cp_integ_period_json(unit, ps[i]));
	free(ps);
	cp_integrity_span(0, 0, &all);
	r->data = json_pack("{s:s, s:o, s:o}", "by", units[unit], "total", cp_integ_json(&all),
	                    "periods", periods);
}
