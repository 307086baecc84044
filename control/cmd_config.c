/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cmd_config.c — `config.show`: the running configuration, normalised, as JSON.  It is
 * the -n output (obs_conf_dump) converted, so both show the same keys and values.  Main
 * loop only.
 */
#include <stdio.h>
#include <stdlib.h>

#include "commands.h"
#include "json.h"

void cp_cmd_config_show(struct cp *cp, json_t *args, struct cp_reply *r)
{
	char *yaml = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&yaml, &len);
	json_t *j;

	if (f == NULL) {
		cp_reply_err(r, CP_E_INTERNAL, "out of memory");
		return;
	}
	obs_conf_dump(&cp->conf, f);
	fclose(f);
	j = cp_json_from_yaml(yaml, len);
	free(yaml);
	if (j == NULL) {
		cp_reply_err(r, CP_E_INTERNAL, "cannot convert the normalised config to JSON");
		return;
	}
	r->data = json_pack("{s:s, s:o}", "path", cp->conf_path, "config", j);
}
