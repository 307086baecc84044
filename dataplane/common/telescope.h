/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * telescope.h — destination -> (sensor, coverage-sample slot), SPEC.md A "coverage sample".
 *
 * Built once at setup from the configured sensors' prefixes (no overlaps allowed),
 * immutable afterwards, so any number of workers may call obs_tel_lookup() at once.
 * D is the union of the prefixes.  S = D when |D| <= sample_cap; otherwise S is the
 * sample_cap addresses of D with the smallest obs_tel_sample_hash() (ties by address):
 * fixed and reproducible for a given D and cap.  Slots number S in ascending address order.
 */
#ifndef OBSCURA_TELESCOPE_H
#define OBSCURA_TELESCOPE_H

#include <stdint.h>

#define OBS_TEL_NO_SLOT   UINT32_MAX
#define OBS_TEL_MAX_SENSORS 64

struct obs_tel;   /* opaque */

struct obs_tel_prefix {
	uint32_t addr;    /* host order, network address */
	uint8_t  len;     /* 0..32 */
	uint8_t  sensor;  /* sensor index */
};

/* Returns NULL with errno set (EINVAL overlap/bad prefix: *why says which; ENOMEM). */
struct obs_tel *obs_tel_build(const struct obs_tel_prefix *p, unsigned n, uint32_t sample_cap,
                              const char **why);
void obs_tel_free(struct obs_tel *t);

/* The telescope of a configuration's sensors (telescope.sensors[].prefixes, sensor =
 * index), built as obs_tel_build() does; NULL with errno and *why as there. */
struct obs_conf;
struct obs_tel *obs_tel_from_conf(const struct obs_conf *c, const char **why);

/* Returns 0 and fills sensor/slot (slot = OBS_TEL_NO_SLOT if dst is not sampled), or -1 when
 * dst is outside D. */
int obs_tel_lookup(const struct obs_tel *t, uint32_t dst, uint8_t *sensor, uint32_t *slot);

uint64_t obs_tel_size(const struct obs_tel *t);        /* |D| */
uint32_t obs_tel_sample_size(const struct obs_tel *t); /* |S| */
uint32_t obs_tel_sample_hash(uint32_t addr);           /* the hash that picks S */

#endif
