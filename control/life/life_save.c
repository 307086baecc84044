/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * life_save.c — the lifetime table's snapshot blob (lifetime.h: cp_life_save/load): a
 * self-describing little-endian record per source and group; loading re-adds every
 * group through cp_life_add(), so a changed gap regroups correctly.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grow.h"
#include "lifetime_int.h"

#define CP_LIFE_MAGIC   0x3146494c424fULL   /* "OBLIF1" */
#define CP_LIFE_VERSION 1u

int cp_life_save(const struct cp_life *l, uint8_t **buf, size_t *len)
{
	struct cp_buf b = { 0 };
	uint64_t hdr[8] = { CP_LIFE_MAGIC, CP_LIFE_VERSION, l->c.gap_ns, l->n, l->st.n_evicted,
	                    l->st.n_types_truncated, l->st.n_groups_capped, 0 };

	cp_buf_put(&b, hdr, sizeof(hdr));
	for (uint32_t i = 0; i < l->n; i++) {
		const struct cp_life_src *s = &l->src[i];
		const struct cp_life_group *g = cp_life_groups(s);
		uint32_t h[3] = { s->addr, (uint32_t)s->cat_mask | (uint32_t)(s->flags &
		                  (CP_LIFE_F_TRUNC | CP_LIFE_F_CAPPED)) << 8, s->n_groups };

		cp_buf_put(&b, h, sizeof(h));
		for (uint32_t k = 0; k < s->n_groups; k++) {
			uint64_t gv[4] = { g[k].first_ns, g[k].last_ns, g[k].events, g[k].sensor_mask };

			cp_buf_put(&b, gv, sizeof(gv));
			cp_buf_put(&b, &g[k].n_types, 4);
			cp_buf_put(&b, cp_life_group_types(&g[k]), (size_t)g[k].n_types * 4);
		}
	}
	if (b.oom) {
		free(b.p);
		return -ENOMEM;
	}
	*buf = b.p;
	*len = b.len;
	return 0;
}

int cp_life_load(struct cp_life *l, const uint8_t *buf, size_t len, char *err, size_t errlen)
{
	uint64_t hdr[8];
	size_t off = sizeof(hdr);

	if (len < sizeof(hdr)) {
		snprintf(err, errlen, "lifetime section: %zu bytes, shorter than its header", len);
		return -EINVAL;
	}
	memcpy(hdr, buf, sizeof(hdr));
	if (hdr[0] != CP_LIFE_MAGIC || hdr[1] != CP_LIFE_VERSION) {
		snprintf(err, errlen, "lifetime section: bad magic or version %llu",
		         (unsigned long long)hdr[1]);
		return -EINVAL;
	}
	if (l->n) {
		snprintf(err, errlen, "lifetime section: target table is not empty");
		return -EBUSY;
	}
	for (uint64_t i = 0; i < hdr[3]; i++) {
		uint32_t h[3];

		if (len - off < sizeof(h))
			goto trunc;
		memcpy(h, buf + off, sizeof(h));
		off += sizeof(h);
		if (h[2] == 0 || h[2] > CP_LIFE_MAX_GROUPS) {
			snprintf(err, errlen, "lifetime section: source %llu has %u groups",
			         (unsigned long long)i, h[2]);
			return -EINVAL;
		}
		for (uint32_t k = 0; k < h[2]; k++) {
			uint64_t gv[4];
			uint32_t nt;
			struct cp_life_hour a;
			uint32_t *types;
			int ret;

			if (len - off < sizeof(gv) + 4)
				goto trunc;
			memcpy(gv, buf + off, sizeof(gv));
			memcpy(&nt, buf + off + sizeof(gv), 4);
			off += sizeof(gv) + 4;
			if (nt > CP_LIFE_MAX_TYPES || (len - off) / 4 < nt)
				goto trunc;
			if (gv[0] > gv[1]) {
				snprintf(err, errlen, "lifetime section: group with first > last");
				return -EINVAL;
			}
			types = malloc((size_t)nt * 4 + 4);
			if (!types)
				return -ENOMEM;
			memcpy(types, buf + off, (size_t)nt * 4);
			off += (size_t)nt * 4;
			a.addr = h[0];
			a.first_ns = gv[0];
			a.last_ns = gv[1];
			a.events = gv[2];
			a.sensor_mask = gv[3];
			a.cat_mask = (uint8_t)h[1];
			a.n_types = nt;
			a.types = types;
			ret = cp_life_add(l, &a);
			free(types);
			if (ret) {
				snprintf(err, errlen, "lifetime section: %s", strerror(-ret));
				return ret;
			}
		}
		{
			const struct cp_life_src *cs = cp_life_find(l, h[0]);

			if (cs)
				((struct cp_life_src *)cs)->flags |= (uint8_t)(h[1] >> 8) &
				                                     (CP_LIFE_F_TRUNC | CP_LIFE_F_CAPPED);
		}
	}
	if (off != len) {
		snprintf(err, errlen, "lifetime section: %zu trailing bytes", len - off);
		return -EINVAL;
	}
	l->st.n_evicted += hdr[4];
	l->st.n_types_truncated += hdr[5];
	l->st.n_groups_capped += hdr[6];
	return 0;
trunc:
	snprintf(err, errlen, "lifetime section: truncated at byte %zu of %zu", off, len);
	return -EINVAL;
}

