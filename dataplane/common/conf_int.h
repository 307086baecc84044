/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * conf_int.h — private to the configuration module's files (conf.c: parse and validate;
 * conf_keys.c: the key rows; conf_dump.c: dump, describe, compare).  Not part of the
 * contract: nothing else includes it.
 */
#ifndef OBSCURA_CONF_INT_H
#define OBSCURA_CONF_INT_H

#include <stddef.h>
#include <stdint.h>

#include "conf.h"

#define CONF_PATH_LEN   160
#define CONF_N_KEYS_MAX 96    /* rows of obs_conf_keys[] (asserted in conf_keys.c) */

enum conf_type { CT_INT, CT_BOOL, CT_STR, CT_ENUM, CT_STRLIST, CT_PREFIXLIST, CT_MAPLIST };

#define CF_RELOAD   0x01u  /* takes effect on reload; else restart-only */
#define CF_POW2     0x02u  /* int: power of two */
#define CF_REQUIRED 0x04u  /* item field: no default, must be given */
#define CF_ABSPATH  0x08u  /* string: empty or an absolute path */
#define CF_NAME     0x10u  /* string: letters, digits, '-', '_', '.' */
#define CF_SUNPATH  0x20u  /* string: fits sockaddr_un.sun_path (108 bytes with the NUL) */
#define CF_LISTEN   0x40u  /* string: empty or HOST:PORT (obs_conf_parse_listen) */

#define CONF_SUN_PATH_MAX 107

struct conf_key {
	const char *path;       /* dotted, relative to its table */
	enum conf_type type;
	unsigned flags;
	int64_t min, max;       /* int: value; string: length; lists: item count */
	const char *def;        /* default as written in YAML; NULL: empty / required */
	const char *help;
	size_t off;             /* the value; lists: first element; prefixes: addresses */
	size_t size;            /* string: buffer; string list: element stride; maplist: item stride */
	size_t cnt_off;         /* lists: uint32_t item count */
	size_t len_off;         /* prefix list: uint8_t lengths */
	const char *const *names;        /* enum: names by value, NULL-terminated */
	const struct conf_key *items;    /* maplist: item fields */
	unsigned n_items;
	unsigned list_id;                /* maplist: index into conf_ctx line tables */
};

#define CONF_LIST_PORTS   0
#define CONF_LIST_SENSORS 1
#define CONF_N_LISTS      2
#define CONF_MAX_ITEMS    64
#define CONF_MAX_ITEM_KEYS 4

extern const struct conf_key obs_conf_keys[];
extern const unsigned obs_conf_n_keys;

/* Bytes of a control character at s (UTF-8), or 0 (conf.c). */
size_t obs_conf_ctl_len(const unsigned char *s);
/* "a.b.c.d/l" (conf.c). */
void obs_conf_fmt_prefix(char *buf, size_t n, uint32_t a, uint8_t l);

/* responder (issue 13, conf_resp.c): NULL when the responder keys are consistent, else
 * why not, with *key the key to name (buf holds the text when it needs one). */
const char *obs_conf_resp_check(const struct obs_conf *c, const char **key, char *buf,
                                size_t n);

#endif /* OBSCURA_CONF_INT_H */
