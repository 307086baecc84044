/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * respstore.c — the responder's handshakes per (period, block, port, address), the
 * periods the responder answered in, the first payloads per (block, port), and gamma
 * over them (respstore.h, SPEC.md A11).  Four control/htab.c tables; cells are derived
 * from pairs (a pair new to the store adds one distinct address to its cell).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "grow.h"
#include "period.h"
#include "respstore.h"

struct resp_pair {               /* key: period, block, dst, dport (14 bytes) */
	uint32_t period, block, dst;
	uint16_t dport;
	uint16_t reserved;
	uint64_t sessions;           /* in use: >= 1 */
};

struct resp_cell {               /* key: period, block, dport (10 bytes) */
	uint32_t period, block;
	uint16_t dport;
	uint16_t reserved;
	uint32_t n_dst;              /* in use: >= 1 */
	uint64_t sessions;
};

struct resp_period {             /* key: period */
	uint32_t period;
	uint32_t on;                 /* in use: 1 */
};

static uint64_t resp_mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	x ^= x >> 33;
	return x;
}

static uint64_t resp_pair_hash(const void *key, const void *ctx)
{
	const struct resp_pair *k = key;

	(void)ctx;
	return resp_mix(((uint64_t)k->block << 32 | k->dst) ^
	                resp_mix((uint64_t)k->period << 16 | k->dport));
}

static uint64_t resp_cell_hash(const void *key, const void *ctx)
{
	const struct resp_cell *k = key;

	(void)ctx;
	return resp_mix((uint64_t)k->block << 32 ^ (uint64_t)k->period << 16 ^ k->dport);
}

static uint64_t resp_period_hash(const void *key, const void *ctx)
{
	(void)ctx;
	return resp_mix(*(const uint32_t *)key);
}

static uint64_t resp_pay_hash(const void *key, const void *ctx)
{
	const struct resp_paycell *k = key;

	(void)ctx;
	return resp_mix((uint64_t)k->block << 32 | k->dport);
}

static const struct cp_ht_type resp_pair_t = {
	.size = sizeof(struct resp_pair), .key_size = offsetof(struct resp_pair, reserved),
	.used_off = offsetof(struct resp_pair, sessions), .used_len = 8,
	.load_num = 5, .load_den = 8, .min_cap = 64, .hash = resp_pair_hash,
};
static const struct cp_ht_type resp_cell_t = {
	.size = sizeof(struct resp_cell), .key_size = offsetof(struct resp_cell, reserved),
	.used_off = offsetof(struct resp_cell, n_dst), .used_len = 4,
	.load_num = 5, .load_den = 8, .min_cap = 64, .hash = resp_cell_hash,
};
static const struct cp_ht_type resp_period_t = {
	.size = sizeof(struct resp_period), .key_size = sizeof(uint32_t),
	.used_off = offsetof(struct resp_period, on), .used_len = 4,
	.load_num = 1, .load_den = 2, .min_cap = 16, .hash = resp_period_hash,
};
static const struct cp_ht_type resp_pay_t = {
	.size = sizeof(struct resp_paycell), .key_size = offsetof(struct resp_paycell, n),
	.used_off = offsetof(struct resp_paycell, n), .used_len = 4,
	.load_num = 5, .load_den = 8, .min_cap = 16, .hash = resp_pay_hash,
};

int resp_store_init(struct resp_store *s, uint8_t block_len, uint8_t unit)
{
	memset(s, 0, sizeof(*s));
	if (block_len < 1 || block_len > 32 || unit > 3)
		return -EINVAL;
	s->block_len = block_len;
	s->unit = unit;
	cp_ht_init(&s->pairs, NULL);
	cp_ht_init(&s->cells, NULL);
	cp_ht_init(&s->periods, NULL);
	cp_ht_init(&s->pays, NULL);
	return 0;
}

void resp_store_fini(struct resp_store *s)
{
	cp_ht_fini(&s->pairs);
	cp_ht_fini(&s->cells);
	cp_ht_fini(&s->periods);
	cp_ht_fini(&s->pays);
}

void resp_store_clear(struct resp_store *s)
{
	cp_ht_clear(&s->pairs, &resp_pair_t);
	cp_ht_clear(&s->cells, &resp_cell_t);
	cp_ht_clear(&s->periods, &resp_period_t);
	cp_ht_clear(&s->pays, &resp_pay_t);
	s->records = s->sessions = s->payloads = s->pay_dropped = s->bad_epochs = 0;
	memset(s->bad, 0, sizeof(s->bad));
}

static uint32_t resp_mask(unsigned len)
{
	return len == 0 ? 0 : 0xffffffffu << (32 - len);
}

int resp_store_set_h(struct resp_store *s, const uint32_t *addr, const uint8_t *len, uint32_t n)
{
	uint64_t size = 0;

	if (n > RESP_H_MAX)
		return -EINVAL;
	for (uint32_t i = 0; i < n; i++) {
		if (len[i] < 1 || len[i] > 32 || (addr[i] & ~resp_mask(len[i])) != 0)
			return -EINVAL;
		for (uint32_t j = 0; j < i; j++) {
			unsigned l = len[i] < len[j] ? len[i] : len[j];
			if (((addr[i] ^ addr[j]) & resp_mask(l)) == 0)
				return -EINVAL;   /* overlapping prefixes would count twice in |H| */
		}
		size += 1ull << (32 - len[i]);
	}
	s->n_h = n;
	if (n != 0) {   /* the responder off: addr and len may be NULL */
		memcpy(s->h_addr, addr, n * sizeof(*addr));
		memcpy(s->h_len, len, n * sizeof(*len));
	}
	s->h_size = size;
	return 0;
}

bool resp_store_in_h(const struct resp_store *s, uint32_t a)
{
	for (uint32_t i = 0; i < s->n_h; i++)
		if (((a ^ s->h_addr[i]) & resp_mask(s->h_len[i])) == 0)
			return true;
	return false;
}

uint64_t resp_store_threshold(const struct resp_store *s)
{
	return (s->h_size + 1) / 2;
}

static uint64_t resp_span(const struct resp_store *s, uint64_t t0, uint64_t t1)
{
	uint32_t a = obs_period_index(s->unit, t0), b = obs_period_index(s->unit, t1);

	if (t0 > t1 || b < a || t1 - t0 > RESP_MAX_EPOCH_NS)
		return UINT64_MAX;
	return (uint64_t)b - a + 1;
}

int resp_store_reserve(struct resp_store *s, uint32_t n, uint64_t t_first_ns, uint64_t t_last_ns)
{
	uint64_t span = resp_span(s, t_first_ns, t_last_ns);

	if (cp_ht_reserve(&s->pairs, &resp_pair_t, n) != 0 ||
	    cp_ht_reserve(&s->cells, &resp_cell_t, n) != 0 ||
	    cp_ht_reserve(&s->pays, &resp_pay_t, n < RESP_PAY_CELLS ? n : RESP_PAY_CELLS) != 0)
		return -ENOMEM;
	/* each record's own period, and the epoch's span */
	if (cp_ht_reserve(&s->periods, &resp_period_t,
	                  n + (uint32_t)(span != UINT64_MAX ? span : 0)) != 0)
		return -ENOMEM;
	return 0;
}

void resp_store_mark_on(struct resp_store *s, uint64_t t_first_ns, uint64_t t_last_ns)
{
	uint64_t span = resp_span(s, t_first_ns, t_last_ns);
	uint32_t p0 = obs_period_index(s->unit, t_first_ns);

	if (span == UINT64_MAX) {
		s->bad_epochs++;
		return;
	}
	for (uint64_t i = 0; i < span; i++) {
		uint32_t p = p0 + (uint32_t)i;
		bool isnew;
		struct resp_period *e = cp_ht_insert(&s->periods, &resp_period_t, &p, &isnew);

		if (e == NULL)
			return;      /* reserved by the caller: cannot happen */
		e->period = p;
		e->on = 1;
	}
}

/* Order of the payloads kept: earliest handshake first (then source, destination, bytes),
 * so that the RESP_PAY_PER kept per (block, port) and their order do not depend on the
 * order the records arrive in: an appliance's exchange order within an epoch, or the
 * rows of a fleet's ClickHouse load (tests/e2e/resp_gamma.sh compares the two). */
static int resp_pay_cmp(const struct resp_pay *a, const struct resp_pay *b)
{
	if (a->ts_ns != b->ts_ns)
		return a->ts_ns < b->ts_ns ? -1 : 1;
	if (a->src != b->src)
		return a->src < b->src ? -1 : 1;
	if (a->dst != b->dst)
		return a->dst < b->dst ? -1 : 1;
	if (a->len != b->len)
		return a->len < b->len ? -1 : 1;
	if (a->sid != b->sid)
		return a->sid < b->sid ? -1 : 1;
	return memcmp(a->bytes, b->bytes, a->len);
}

/* Keep r's payload if it is among the cell's RESP_PAY_PER earliest (resp_pay_cmp). */
static void resp_pay_keep(struct resp_paycell *y, const struct obx_resp_rec *r)
{
	struct resp_pay p;
	uint32_t i;

	memset(&p, 0, sizeof(p));     /* the snapshot writes the whole entry */
	p.src = r->src;
	p.dst = r->dst;
	p.ts_ns = r->first_ns;
	p.sid = (r->flags & OBX_RESP_F_RULE) ? r->sid : 0;
	p.flags = r->flags & (OBX_RESP_F_PAYLOAD | OBX_RESP_F_RULE);
	p.len = (r->flags & OBX_RESP_F_PAYLOAD) ? r->payload_len : 0;
	memcpy(p.bytes, r->payload, p.len);
	if (y->n == RESP_PAY_PER && resp_pay_cmp(&p, &y->pay[y->n - 1]) >= 0)
		return;
	i = y->n < RESP_PAY_PER ? y->n++ : y->n - 1;   /* full: the latest goes */
	for (; i > 0 && resp_pay_cmp(&p, &y->pay[i - 1]) < 0; i--)
		y->pay[i] = y->pay[i - 1];
	y->pay[i] = p;
}

int resp_store_add(struct resp_store *s, const struct obx_resp_rec *r)
{
	struct resp_pair pk;
	struct resp_pair *pe;
	struct resp_cell *ce;
	bool isnew;

	if (r->count == 0)
		return 0;
	s->records++;
	if (r->dport == 0) {
		s->bad[RESP_BAD_PORT]++;
		return 1;
	}
	if (!resp_store_in_h(s, r->dst)) {
		s->bad[RESP_BAD_OUTSIDE]++;
		return 1;
	}
	if (r->payload_len > OBX_RESP_PAYLOAD) {
		s->bad[RESP_BAD_LEN]++;
		return 1;
	}
	if (r->first_ns > r->last_ns || r->first_ns / OBX_HOUR_NS != r->hour ||
	    r->last_ns / OBX_HOUR_NS != r->hour) {
		s->bad[RESP_BAD_TIME]++;
		return 1;
	}
	memset(&pk, 0, sizeof(pk));
	pk.period = obs_period_index(s->unit, r->first_ns);
	pk.block = r->src & resp_mask(s->block_len);
	pk.dst = r->dst;
	pk.dport = r->dport;
	pe = cp_ht_insert(&s->pairs, &resp_pair_t, &pk, &isnew);
	if (pe == NULL)
		return -ENOMEM;
	if (isnew) {
		struct resp_cell ck;

		memcpy(pe, &pk, resp_pair_t.key_size);
		memset(&ck, 0, sizeof(ck));
		ck.period = pk.period;
		ck.block = pk.block;
		ck.dport = pk.dport;
		ce = cp_ht_insert(&s->cells, &resp_cell_t, &ck, &isnew);
		if (ce == NULL)
			return -ENOMEM;
		if (isnew)
			memcpy(ce, &ck, resp_cell_t.key_size);
		ce->n_dst++;
	} else {
		struct resp_cell ck = { .period = pk.period, .block = pk.block, .dport = pk.dport };

		ce = cp_ht_find(&s->cells, &resp_cell_t, &ck);
	}
	pe->sessions += r->count;
	if (ce != NULL)
		ce->sessions += r->count;
	s->sessions += r->count;

	if (r->flags & (OBX_RESP_F_PAYLOAD | OBX_RESP_F_RULE)) {
		struct resp_paycell yk = { .block = pk.block, .dport = pk.dport };
		struct resp_paycell *y = cp_ht_find(&s->pays, &resp_pay_t, &yk);

		s->payloads++;
		if (y == NULL && s->pays.n >= RESP_PAY_CELLS) {
			s->pay_dropped++;
			return 0;
		}
		if (y == NULL) {
			y = cp_ht_insert(&s->pays, &resp_pay_t, &yk, &isnew);
			if (y == NULL)
				return -ENOMEM;
			y->block = yk.block;
			y->dport = yk.dport;
		}
		y->seen++;
		resp_pay_keep(y, r);
	}
	{
		/* a record's own period was answered in, whatever the epoch's flag says */
		uint32_t p = pk.period;
		struct resp_period *e = cp_ht_insert(&s->periods, &resp_period_t, &p, &isnew);

		if (e == NULL)
			return -ENOMEM;
		e->period = p;
		e->on = 1;
	}
	return 0;
}

bool resp_store_on(const struct resp_store *s, uint32_t period)
{
	return cp_ht_find(&s->periods, &resp_period_t, &period) != NULL;
}

uint32_t resp_store_distinct(const struct resp_store *s, uint32_t period, uint32_t block,
                             uint16_t port, uint64_t *sessions)
{
	struct resp_cell k = { .period = period, .block = block, .dport = port };
	const struct resp_cell *c = cp_ht_find(&s->cells, &resp_cell_t, &k);

	if (sessions != NULL)
		*sessions = c ? c->sessions : 0;
	return c ? c->n_dst : 0;
}

bool resp_store_gamma(const struct resp_store *s, uint32_t period, uint32_t block,
                      const uint16_t *ports, uint32_t n, uint32_t *scanned)
{
	uint64_t need = resp_store_threshold(s);

	*scanned = 0;
	if (s->h_size == 0 || !resp_store_on(s, period))
		return false;
	for (uint32_t i = 0; i < n; i++)
		if (resp_store_distinct(s, period, block, ports[i], NULL) >= need)
			(*scanned)++;
	return true;
}

const struct resp_paycell *resp_store_pay_next(const struct resp_store *s, uint32_t *it)
{
	return cp_ht_next(&s->pays, &resp_pay_t, it);
}

const struct resp_paycell *resp_store_pay_get(const struct resp_store *s, uint32_t block,
                                              uint16_t port)
{
	struct resp_paycell k = { .block = block, .dport = port };

	return cp_ht_find(&s->pays, &resp_pay_t, &k);
}

size_t resp_store_bytes(const struct resp_store *s)
{
	return cp_ht_bytes(&s->pairs, &resp_pair_t) + cp_ht_bytes(&s->cells, &resp_cell_t) +
	       cp_ht_bytes(&s->periods, &resp_period_t) + cp_ht_bytes(&s->pays, &resp_pay_t);
}

uint32_t resp_store_n_pairs(const struct resp_store *s)
{
	return s->pairs.n;
}

uint32_t resp_store_n_on(const struct resp_store *s)
{
	return s->periods.n;
}

/* ------------------------------------------------------------------ serialisation */

#define RESP_SER_MAGIC   0x31505352u    /* "RSP1" */
#define RESP_SER_VERSION 1u
#define RESP_SER_NCNT    (5u + RESP_BAD_N)

struct resp_ser_hdr {
	uint32_t magic, version;
	uint8_t  block_len, unit;
	uint16_t reserved;
	uint32_t n_pairs, n_periods, n_pays;
	uint32_t reserved2;
	uint64_t cnt[RESP_SER_NCNT];
};

int resp_store_serialize(const struct resp_store *s, uint8_t **buf, size_t *len)
{
	struct resp_ser_hdr h = { RESP_SER_MAGIC, RESP_SER_VERSION, s->block_len, s->unit, 0,
	                          s->pairs.n, s->periods.n, s->pays.n, 0,
	                          { s->records, s->sessions, s->payloads, s->pay_dropped,
	                            s->bad_epochs } };
	struct cp_buf b = { 0 };
	const void *e;
	uint32_t it;

	memcpy(&h.cnt[5], s->bad, sizeof(s->bad));
	cp_buf_put(&b, &h, sizeof(h));
	for (it = 0; (e = cp_ht_next(&s->pairs, &resp_pair_t, &it)) != NULL;)
		cp_buf_put(&b, e, sizeof(struct resp_pair));
	for (it = 0; (e = cp_ht_next(&s->periods, &resp_period_t, &it)) != NULL;)
		cp_buf_put(&b, e, sizeof(struct resp_period));
	for (it = 0; (e = cp_ht_next(&s->pays, &resp_pay_t, &it)) != NULL;)
		cp_buf_put(&b, e, sizeof(struct resp_paycell));
	if (b.oom) {
		free(b.p);
		return -ENOMEM;
	}
	*buf = b.p;
	*len = b.len;
	return 0;
}

static int resp_load_entries(struct resp_store *t, const uint8_t *p, const struct resp_ser_hdr *h,
                             const char **why)
{
	bool isnew = false;

	if (cp_ht_reserve(&t->pairs, &resp_pair_t, h->n_pairs) != 0 ||
	    cp_ht_reserve(&t->cells, &resp_cell_t, h->n_pairs) != 0 ||
	    cp_ht_reserve(&t->periods, &resp_period_t, h->n_periods) != 0 ||
	    cp_ht_reserve(&t->pays, &resp_pay_t, h->n_pays) != 0)
		return -ENOMEM;
	for (uint32_t i = 0; i < h->n_pairs; i++, p += sizeof(struct resp_pair)) {
		struct resp_pair x;
		struct resp_cell ck = { 0 };
		struct resp_pair *e;
		struct resp_cell *c;

		memcpy(&x, p, sizeof(x));
		if (x.sessions == 0 || x.dport == 0 || x.reserved != 0 ||
		    (x.block & ~resp_mask(t->block_len)) != 0) {
			*why = "responder section: a bad pair entry";
			return -EBADMSG;
		}
		e = cp_ht_insert(&t->pairs, &resp_pair_t, &x, &isnew);
		if (e == NULL || !isnew) {
			*why = "responder section: a duplicate pair";
			return -EBADMSG;
		}
		*e = x;
		ck.period = x.period;
		ck.block = x.block;
		ck.dport = x.dport;
		c = cp_ht_insert(&t->cells, &resp_cell_t, &ck, &isnew);
		if (c == NULL)
			return -ENOMEM;
		if (isnew)
			memcpy(c, &ck, resp_cell_t.key_size);
		c->n_dst++;
		c->sessions += x.sessions;
	}
	for (uint32_t i = 0; i < h->n_periods; i++, p += sizeof(struct resp_period)) {
		struct resp_period x, *e;

		memcpy(&x, p, sizeof(x));
		if (x.on != 1) {
			*why = "responder section: a bad period entry";
			return -EBADMSG;
		}
		e = cp_ht_insert(&t->periods, &resp_period_t, &x, &isnew);
		if (e == NULL || !isnew) {
			*why = "responder section: a duplicate period";
			return -EBADMSG;
		}
		*e = x;
	}
	for (uint32_t i = 0; i < h->n_pays; i++, p += sizeof(struct resp_paycell)) {
		struct resp_paycell x, *e;
		bool ok;

		memcpy(&x, p, sizeof(x));
		ok = x.n >= 1 && x.n <= RESP_PAY_PER && x.seen >= x.n && x.dport != 0 &&
		     x.dport <= 0xffff;
		for (uint32_t k = 0; ok && k < x.n; k++)
			ok = x.pay[k].len <= OBX_RESP_PAYLOAD;
		if (!ok) {
			*why = "responder section: a bad payload entry";
			return -EBADMSG;
		}
		e = cp_ht_insert(&t->pays, &resp_pay_t, &x, &isnew);
		if (e == NULL || !isnew) {
			*why = "responder section: a duplicate payload cell";
			return -EBADMSG;
		}
		*e = x;
	}
	return 0;
}

int resp_store_deserialize(struct resp_store *s, const void *data, size_t len, const char **why)
{
	struct resp_ser_hdr h;
	struct resp_store t;
	uint64_t need;
	int rc;

	if (len < sizeof(h)) {
		*why = "responder section: truncated header";
		return -EBADMSG;
	}
	memcpy(&h, data, sizeof(h));
	if (h.magic != RESP_SER_MAGIC || h.version != RESP_SER_VERSION) {
		*why = "responder section: bad magic or version";
		return -EBADMSG;
	}
	if (h.block_len != s->block_len || h.unit != s->unit) {
		*why = "responder section: kept for another analysis.block_len or analysis.period";
		return -ESTALE;
	}
	need = sizeof(h) + (uint64_t)h.n_pairs * sizeof(struct resp_pair) +
	       (uint64_t)h.n_periods * sizeof(struct resp_period) +
	       (uint64_t)h.n_pays * sizeof(struct resp_paycell);
	if (need != len) {
		*why = "responder section: length does not match its counts";
		return -EBADMSG;
	}
	if (resp_store_init(&t, s->block_len, s->unit) != 0)
		return -EINVAL;
	rc = resp_load_entries(&t, (const uint8_t *)data + sizeof(h), &h, why);
	if (rc != 0) {
		resp_store_fini(&t);
		return rc;
	}
	t.records = h.cnt[0];
	t.sessions = h.cnt[1];
	t.payloads = h.cnt[2];
	t.pay_dropped = h.cnt[3];
	t.bad_epochs = h.cnt[4];
	memcpy(t.bad, &h.cnt[5], sizeof(t.bad));
	t.n_h = s->n_h;
	memcpy(t.h_addr, s->h_addr, sizeof(t.h_addr));
	memcpy(t.h_len, s->h_len, sizeof(t.h_len));
	t.h_size = s->h_size;
	resp_store_fini(s);
	*s = t;
	return 0;
}
