/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dos.c — grouping DoS backscatter records into flows and attacks (dos.h, docs/dos.md).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dos.h"
#include "grow.h"

_Static_assert(sizeof(struct cp_dos_flow) == 136, "cp_dos_flow has no padding");

#define CP_DOS_MAGIC   0x31534f44424fULL   /* "OBDOS1" */
#define CP_DOS_VERSION 1u
#define CP_DOS_SAMPLE  16u

/* victim -> index + 1 of its open flow */
struct dos_cur {
	uint32_t victim;
	uint32_t idx1;
};

static uint64_t dos_cur_hash(const void *key, const void *ctx)
{
	uint32_t v;

	(void)ctx;
	memcpy(&v, key, sizeof(v));
	return (uint64_t)obx_src_hash(v) * 0x9e3779b97f4a7c15ull;
}

static const struct cp_ht_type dos_cur_type = {
	.size = sizeof(struct dos_cur), .key_size = 4,
	.used_off = offsetof(struct dos_cur, idx1), .used_len = 4,
	.load_num = 3, .load_den = 4, .min_cap = 64, .hash = dos_cur_hash,
};

struct cp_dos *cp_dos_new(const struct cp_dos_conf *c)
{
	struct cp_dos *d = calloc(1, sizeof(*d));

	if (d == NULL || c->max_flows == 0)
		goto fail;
	d->c = *c;
	d->flow = calloc(c->max_flows, sizeof(*d->flow));
	cp_ht_init(&d->cur, NULL);
	/* every open flow has an entry, so max_flows entries never grow the table */
	if (d->flow == NULL || cp_ht_reserve(&d->cur, &dos_cur_type, c->max_flows) != 0)
		goto fail;
	d->rng = 0x243f6a8885a308d3ull;
	return d;
fail:
	cp_dos_free(d);
	return NULL;
}

void cp_dos_free(struct cp_dos *d)
{
	if (d == NULL)
		return;
	cp_ht_fini(&d->cur);
	free(d->flow);
	free(d);
}

void cp_dos_clear(struct cp_dos *d)
{
	cp_ht_clear(&d->cur, &dos_cur_type);
	memset(d->flow, 0, (size_t)d->c.max_flows * sizeof(*d->flow));
	d->n = d->n_open = 0;
	d->watermark_ns = 0;
	d->wk_seen = 0;
	memset(d->wk_last, 0, sizeof(d->wk_last));
	memset(&d->st, 0, sizeof(d->st));
}

size_t cp_dos_mem_bytes(const struct cp_dos *d)
{
	return sizeof(*d) + (size_t)d->c.max_flows * sizeof(*d->flow) +
	       cp_ht_bytes(&d->cur, &dos_cur_type);
}

bool cp_dos_rec_ok(const struct obx_dos_rec *r)
{
	unsigned distinct = 0;

	if (r->packets == 0 || r->first_ns > r->last_ns ||
	    r->first_ns / OBX_MINUTE_NS != r->minute || r->last_ns / OBX_MINUTE_NS != r->minute)
		return false;
	if (r->proto_mask & ~((1u << OBX_P_N) - 1u))
		return false;
	for (unsigned i = 0; i < OBX_DOS_PORTS; i++)
		distinct += r->ports[i] != 0;
	return r->n_ports >= distinct && (uint64_t)r->n_ports <= r->packets;
}

bool cp_dos_is_attack(const struct cp_dos *d, const struct cp_dos_flow *f)
{
	return f->packets >= d->c.min_packets && f->end_ns - f->start_ns >= d->c.min_duration_ns &&
	       f->peak >= d->c.min_peak;
}

uint64_t cp_dos_dark_estimate(const struct cp_dos_flow *f, bool *saturated)
{
	unsigned set = 0;
	double m = CP_DOS_DARK_M;

	for (unsigned w = 0; w < OBX_DOS_DARK_W; w++)
		set += (unsigned)__builtin_popcountll(f->dark[w]);
	*saturated = set == CP_DOS_DARK_M;
	if (*saturated)
		return (uint64_t)llround(m * log(m));
	return (uint64_t)llround(-m * log((m - set) / m));
}

double cp_dos_rate(const struct cp_dos_flow *f)
{
	double s = (double)(f->end_ns - f->start_ns) / 1e9;

	return (double)f->packets / (s < 1.0 ? 1.0 : s);
}

static struct dos_cur *cur_find(const struct cp_dos *d, uint32_t victim)
{
	return cp_ht_find(&d->cur, &dos_cur_type, &victim);
}

/* Remove flow i: its index entry goes, the last flow moves into its place. */
static void flow_remove(struct cp_dos *d, uint32_t i)
{
	struct cp_dos_flow *f = &d->flow[i];
	uint32_t last = d->n - 1;

	if (f->flags & CP_DOS_F_OPEN) {
		struct dos_cur *c = cur_find(d, f->victim);

		if (c != NULL && c->idx1 == i + 1)
			cp_ht_delete(&d->cur, &dos_cur_type, c);
		d->n_open--;
	}
	if (i != last) {
		d->flow[i] = d->flow[last];
		if (d->flow[i].flags & CP_DOS_F_OPEN) {
			struct dos_cur *c = cur_find(d, d->flow[i].victim);

			if (c != NULL && c->idx1 == last + 1)
				c->idx1 = i + 1;
		}
	}
	memset(&d->flow[last], 0, sizeof(d->flow[last]));
	d->n--;
}

/* Close flow i: it stays when it is an attack; else it goes, counted.  Returns whether
 * it stayed (a removal moves another flow into slot i). */
static bool flow_close(struct cp_dos *d, uint32_t i)
{
	struct cp_dos_flow *f = &d->flow[i];
	struct dos_cur *c = cur_find(d, f->victim);

	if (c != NULL && c->idx1 == i + 1)
		cp_ht_delete(&d->cur, &dos_cur_type, c);
	f->flags &= ~CP_DOS_F_OPEN;
	d->n_open--;
	if (cp_dos_is_attack(d, f))
		return true;
	d->st.below_threshold++;
	flow_remove(d, i);
	return false;
}

static uint64_t dos_rand(struct cp_dos *d)
{
	d->rng ^= d->rng << 13;
	d->rng ^= d->rng >> 7;
	d->rng ^= d->rng << 17;
	return d->rng;
}

/* A full table: the flow that ended first among CP_DOS_SAMPLE sampled goes. */
static void flow_evict(struct cp_dos *d)
{
	uint32_t best = (uint32_t)(dos_rand(d) % d->n);

	for (unsigned k = 1; k < CP_DOS_SAMPLE; k++) {
		uint32_t i = (uint32_t)(dos_rand(d) % d->n);

		if (d->flow[i].end_ns < d->flow[best].end_ns)
			best = i;
	}
	if (cp_dos_is_attack(d, &d->flow[best]))
		d->st.evicted_attacks++;
	else
		d->st.evicted_flows++;
	flow_remove(d, best);
}

static void flow_minute(struct cp_dos *d, struct cp_dos_flow *f, uint32_t minute, uint64_t pk)
{
	unsigned k = minute % CP_DOS_WIN;

	if (f->win_min[k] == minute + 1u) {
		f->win_cnt[k] += pk;
	} else if (f->win_min[k] == 0 || f->win_min[k] < minute + 1u) {
		f->win_min[k] = minute + 1u;
		f->win_cnt[k] = pk;
	} else {
		/* older than the minutes kept: counted, the peak may miss it */
		f->flags |= CP_DOS_F_LATE;
		d->st.late_records++;
		if (pk > f->peak)
			f->peak = pk;
		return;
	}
	if (f->win_cnt[k] > f->peak)
		f->peak = f->win_cnt[k];
}

static void flow_ports(struct cp_dos_flow *f, const struct obx_dos_rec *r)
{
	unsigned have = 0, added = 0;

	while (have < CP_DOS_PORTS && f->ports[have] != 0)
		have++;
	for (unsigned i = 0; i < OBX_DOS_PORTS; i++) {
		uint16_t p = r->ports[i];
		bool known = false;

		if (p == 0)
			continue;
		for (unsigned k = 0; k < have && !known; k++)
			known = f->ports[k] == p;
		if (known)
			continue;
		if (have < CP_DOS_PORTS)
			f->ports[have++] = p;
		added++;
	}
	/* exact while every port is listed; a record's n_ports beyond its list is a
	 * lower bound of what it adds */
	if ((unsigned)f->n_ports + added > UINT16_MAX)
		f->n_ports = UINT16_MAX;
	else
		f->n_ports = (uint16_t)(f->n_ports + added);
	if (r->n_ports > f->n_ports)
		f->n_ports = r->n_ports;
}

void cp_dos_add(struct cp_dos *d, const struct obx_dos_rec *r)
{
	struct dos_cur *c;
	struct cp_dos_flow *f = NULL;
	bool isnew;

	d->st.records++;
	if (!cp_dos_rec_ok(r)) {
		d->st.bad_records++;
		return;
	}
	if (r->last_ns > d->watermark_ns)
		d->watermark_ns = r->last_ns;
	c = cur_find(d, r->victim);
	if (c != NULL) {
		uint32_t i = c->idx1 - 1;

		f = &d->flow[i];
		if (r->first_ns >= f->end_ns && r->first_ns - f->end_ns >= d->c.gap_ns) {
			flow_close(d, i);
			f = NULL;
		}
	}
	if (f == NULL) {
		if (d->n == d->c.max_flows)
			flow_evict(d);
		f = &d->flow[d->n];
		memset(f, 0, sizeof(*f));
		f->victim = r->victim;
		f->flags = CP_DOS_F_OPEN;
		f->start_ns = r->first_ns;
		f->end_ns = r->last_ns;
		c = cp_ht_insert(&d->cur, &dos_cur_type, &r->victim, &isnew);
		/* reserved for max_flows entries at start: never NULL, never a growth */
		c->victim = r->victim;
		c->idx1 = ++d->n;
		d->n_open++;
	}
	if (r->first_ns < f->start_ns)
		f->start_ns = r->first_ns;
	if (r->last_ns > f->end_ns)
		f->end_ns = r->last_ns;
	f->packets += r->packets;
	for (unsigned w = 0; w < OBX_DOS_DARK_W; w++)
		f->dark[w] |= r->dark[w];
	f->proto_mask |= r->proto_mask;
	flow_ports(f, r);
	flow_minute(d, f, r->minute, r->packets);
}

void cp_dos_epoch(struct cp_dos *d, uint32_t w, uint64_t t_last_ns)
{
	if (w >= CP_DOS_WORKERS || t_last_ns == 0)
		return;
	if (!(d->wk_seen & (1ull << w)) || t_last_ns > d->wk_last[w])
		d->wk_last[w] = t_last_ns;
	d->wk_seen |= 1ull << w;
}

void cp_dos_sweep(struct cp_dos *d)
{
	uint64_t now = d->watermark_ns;

	for (unsigned w = 0; w < CP_DOS_WORKERS; w++)
		if ((d->wk_seen & (1ull << w)) && d->wk_last[w] < now)
			now = d->wk_last[w];
	for (uint32_t i = 0; i < d->n && d->n_open > 0;) {
		struct cp_dos_flow *f = &d->flow[i];

		if ((f->flags & CP_DOS_F_OPEN) && now >= f->end_ns &&
		    now - f->end_ns >= d->c.gap_ns && !flow_close(d, i))
			continue;      /* another flow moved into slot i */
		i++;
	}
}

/* ------------------------------------------------------------------ snapshot --- */

int cp_dos_save(const struct cp_dos *d, uint8_t **buf, size_t *len)
{
	struct cp_buf b = { 0 };
	uint64_t hdr[12] = { CP_DOS_MAGIC, CP_DOS_VERSION, sizeof(struct cp_dos_flow), d->n,
	                     d->watermark_ns, d->st.records, d->st.bad_records,
	                     d->st.below_threshold, d->st.evicted_flows, d->st.evicted_attacks,
	                     d->st.late_records, 0 };

	cp_buf_put(&b, hdr, sizeof(hdr));
	cp_buf_put(&b, d->flow, (size_t)d->n * sizeof(*d->flow));
	if (b.oom) {
		free(b.p);
		return -ENOMEM;
	}
	*buf = b.p;
	*len = b.len;
	return 0;
}

int cp_dos_load(struct cp_dos *d, const uint8_t *buf, size_t len, char *err, size_t errlen)
{
	uint64_t hdr[12];
	size_t off = sizeof(hdr);

	if (len < sizeof(hdr)) {
		snprintf(err, errlen, "dos section: %zu bytes, shorter than its header", len);
		return -EINVAL;
	}
	memcpy(hdr, buf, sizeof(hdr));
	if (hdr[0] != CP_DOS_MAGIC || hdr[1] != CP_DOS_VERSION ||
	    hdr[2] != sizeof(struct cp_dos_flow)) {
		snprintf(err, errlen, "dos section: bad magic, version %llu or flow size %llu",
		         (unsigned long long)hdr[1], (unsigned long long)hdr[2]);
		return -EINVAL;
	}
	if ((len - off) / sizeof(struct cp_dos_flow) != hdr[3] ||
	    (len - off) % sizeof(struct cp_dos_flow) != 0) {
		snprintf(err, errlen, "dos section: %llu flows in %zu bytes",
		         (unsigned long long)hdr[3], len - off);
		return -EINVAL;
	}
	cp_dos_clear(d);
	d->watermark_ns = hdr[4];
	d->st.records = hdr[5];
	d->st.bad_records = hdr[6];
	d->st.below_threshold = hdr[7];
	d->st.evicted_flows = hdr[8];
	d->st.evicted_attacks = hdr[9];
	d->st.late_records = hdr[10];
	for (uint64_t i = 0; i < hdr[3]; i++) {
		struct cp_dos_flow f;
		struct dos_cur *c;
		bool isnew;

		memcpy(&f, buf + off + i * sizeof(f), sizeof(f));
		if (f.packets == 0 || f.start_ns > f.end_ns || (f.flags & ~3u) != 0) {
			snprintf(err, errlen, "dos section: flow %llu is malformed",
			         (unsigned long long)i);
			cp_dos_clear(d);
			return -EINVAL;
		}
		if (f.flags & CP_DOS_F_OPEN) {
			c = cur_find(d, f.victim);
			if (c != NULL) {
				snprintf(err, errlen, "dos section: victim of flow %llu has two "
				         "open flows", (unsigned long long)i);
				cp_dos_clear(d);
				return -EINVAL;
			}
		}
		if (d->n == d->c.max_flows)   /* a smaller dos.max_flows than before */
			flow_evict(d);
		d->flow[d->n] = f;
		d->n++;
		if (f.flags & CP_DOS_F_OPEN) {
			c = cp_ht_insert(&d->cur, &dos_cur_type, &f.victim, &isnew);
			c->victim = f.victim;
			c->idx1 = d->n;
			d->n_open++;
		}
	}
	return 0;
}
