/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * conf_resp.c — the responder's configuration checks (issue 13, conf_int.h), run by
 * conf_validate() over the whole struct: every prefix of H inside the telescope, no two
 * overlapping, and a secret file when H is set.  The secret file is only stat()ed here
 * (the control plane loads the same file and need not read the key); the dataplane reads
 * it at start (dataplane/responder.c).
 */
#include <stdio.h>
#include <sys/stat.h>

#include "conf_int.h"

static int conf_resp_in_telescope(const struct obs_conf *c, uint32_t a, uint8_t l)
{
	for (uint32_t s = 0; s < c->n_sensors; s++)
		for (uint32_t j = 0; j < c->sensors[s].n_prefixes; j++) {
			uint8_t sl = c->sensors[s].prefix_len[j];
			uint32_t m = sl == 0 ? 0 : UINT32_MAX << (32 - sl);

			if (sl <= l && (a & m) == c->sensors[s].prefix_addr[j])
				return 1;
		}
	return 0;
}

const char *obs_conf_resp_check(const struct obs_conf *c, const char **key, char *buf,
                                size_t n)
{
	struct stat st;
	char pb[24];

	*key = "responder.prefixes";
	if (c->resp_n_prefixes == 0)
		return NULL;
	for (uint32_t i = 0; i < c->resp_n_prefixes; i++) {
		uint32_t a = c->resp_prefix_addr[i];
		uint8_t l = c->resp_prefix_len[i];

		obs_conf_fmt_prefix(pb, sizeof(pb), a, l);
		if (!conf_resp_in_telescope(c, a, l)) {
			snprintf(buf, n, "value '%s' is not inside a telescope sensor's prefix", pb);
			return buf;
		}
		for (uint32_t j = 0; j < i; j++) {
			uint8_t ml = l < c->resp_prefix_len[j] ? l : c->resp_prefix_len[j];
			uint32_t m = ml == 0 ? 0 : UINT32_MAX << (32 - ml);

			if ((a & m) == (c->resp_prefix_addr[j] & m)) {
				snprintf(buf, n, "value '%s' overlaps prefixes[%u]", pb, j);
				return buf;
			}
		}
	}
	*key = "responder.secret_file";
	if (c->resp_secret_file[0] == '\0')
		return "missing: required when responder.prefixes is set (the SYN cookie key)";
	if (stat(c->resp_secret_file, &st) != 0) {
		snprintf(buf, n, "value '%.40s' cannot be read (%m)", c->resp_secret_file);
		return buf;
	}
	if (!S_ISREG(st.st_mode) || st.st_size < (off_t)OBS_CONF_RESP_SECRET_MIN) {
		snprintf(buf, n, "value '%.40s' is not a regular file of at least %u bytes",
		         c->resp_secret_file, OBS_CONF_RESP_SECRET_MIN);
		return buf;
	}
	return NULL;
}
