/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * plan.c — obscura-gen's plans (gen.h): from the packet budget of each kind to the
 * sources, the processes that will emit their packets, and the scanner blocks.
 *
 * Everything is planned before the first packet, in a fixed order (scanners, which
 * reserve their /16s, then the single-source kinds, then the malformed stream), so the
 * random stream is drawn in the same order for the same options.  Budgets are exact:
 * the processes' packet counts sum to --packets.  Lifetimes follow SPEC.md C's buckets
 * so every bucket has members; scanner blocks follow SPEC.md A's thresholds (n ports,
 * m months, coverage alpha), some just under one of them.  Main thread only.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gen.h"

/* Heavy-tailed count >= 1: Pareto with shape a, scale xm, capped. */
static uint64_t gen_pareto(double xm, double a, uint64_t cap)
{
	double v = xm / pow(1.0 - gen_unit(), 1.0 / a);
	return v >= (double)cap ? cap : (v < 1.0 ? 1 : (uint64_t)v);
}

const char *const gen_kind_name[GEN_K_N] = {
	"background", "backscatter", "mirai", "scanner-routine", "scanner-semi-routine",
	"scanner-ad-hoc", "scanner-near-miss", "scanner-small", "resip", "payload-http",
	"payload-sip", "malformed",
};

struct gen_src *gen_src;
uint64_t gen_n_src;
static uint64_t gen_cap_src;

static uint32_t gen_src_new(uint32_t addr, enum gen_kind kind)
{
	if (gen_n_src == gen_cap_src) {
		gen_cap_src = gen_cap_src ? gen_cap_src * 2 : 4096;
		gen_src = realloc(gen_src, gen_cap_src * sizeof *gen_src);
		if (!gen_src) {
			fprintf(stderr, "obscura-gen: out of memory\n");
			exit(1);
		}
	}
	static const uint8_t ttls[] = { 64, 128, 255, 64, 64, 128 };
	struct gen_src *s = &gen_src[gen_n_src];
	memset(s, 0, sizeof *s);
	s->addr = addr;
	s->kind = (uint8_t)kind;
	s->ttl = (uint8_t)(ttls[gen_below(sizeof ttls)] - gen_range(6, 28));
	s->ip_id = (uint16_t)gen_rand();
	s->first_ns = UINT64_MAX;
	return (uint32_t)gen_n_src++;
}

struct gen_month *gen_months;
unsigned gen_n_months;
struct gen_scan *gen_scans;
unsigned gen_n_scans;
static unsigned gen_cap_scans;

struct gen_proc *gen_proc;
uint32_t gen_n_proc;
static uint32_t gen_cap_proc;

static struct gen_proc *gen_proc_new(enum gen_kind kind)
{
	if (gen_n_proc == gen_cap_proc) {
		gen_cap_proc = gen_cap_proc ? gen_cap_proc * 2 : 4096;
		gen_proc = realloc(gen_proc, (size_t)gen_cap_proc * sizeof *gen_proc);
		if (!gen_proc) {
			fprintf(stderr, "obscura-gen: out of memory\n");
			exit(1);
		}
	}
	struct gen_proc *p = &gen_proc[gen_n_proc];
	memset(p, 0, sizeof *p);
	p->id = gen_n_proc++;
	p->kind = (uint8_t)kind;
	return p;
}

static void gen_sessions(struct gen_proc *p, uint64_t n, uint64_t life, uint32_t k, double gap_ns)
{
	if (life >= gen_opt.span_ns)
		life = gen_opt.span_ns - gen_opt.span_ns / 20;
	if (k > n)
		k = (uint32_t)n;
	if (k < 1)
		k = 1;
	p->left = n;
	p->life = life;
	p->t0 = gen_opt.start_ns + gen_below(gen_opt.span_ns - life);
	p->t = p->t0;
	p->n_sess = k;
	p->per_sess = n / k;
	p->extra_sess = n % k;
	p->left_sess = p->per_sess + (p->extra_sess > 0) - 1;
	p->gap_ns = gap_ns;
}

/* Lifetime classes after SPEC.md C's buckets, so each bucket has members. */
static void gen_plan_lifetime(uint64_t n, uint64_t *life, uint32_t *k)
{
	double u = gen_unit();
	if (u < 0.55 || n == 1) {
		*life = gen_range(0, 59) * GEN_NS + gen_below(GEN_NS);
		*k = 1;
	} else if (u < 0.80) {
		*life = gen_range(60, 86399) * GEN_NS;
		*k = (uint32_t)gen_range(1, 3);
	} else if (u < 0.93) {
		*life = gen_range(86400, 30 * 86400 - 1) * GEN_NS;
		*k = (uint32_t)gen_range(2, 6);
	} else {
		*life = gen_range(30 * 86400, 200 * 86400) * GEN_NS;
		*k = (uint32_t)gen_range(3, 12);
	}
}

void gen_plan_simple(void)
{
	/* background: heavy-tailed per-source counts, capped so no one source eats the budget */
	uint64_t bg_cap = gen_budget_kind[0] / 200 > 50 ? gen_budget_kind[0] / 200 : 50;
	for (uint64_t left = gen_budget_kind[0]; left;) {
		uint64_t n = gen_pareto(1.0, 1.1, bg_cap < 5000 ? bg_cap : 5000);
		if (n > left || left - n < 1)
			n = left;
		uint64_t life;
		uint32_t k;
		gen_plan_lifetime(n, &life, &k);
		struct gen_proc *p = gen_proc_new(GEN_K_BACKGROUND);
		p->src = gen_src_new(gen_addr_random(), GEN_K_BACKGROUND);
		if (gen_unit() < 0.3) {            /* a single-port scanner-ish source */
			p->mode = 1;
			p->port = gen_port_random();
		}
		gen_sessions(p, n, life, k, gen_exp(2.0) * GEN_NS + 1000);
		left -= n;
	}
	/* backscatter victims: one flood episode, sometimes a second one later */
	static const uint16_t svc[] = { 80, 443, 443, 22, 25, 53, 3389, 8080, 6667, 27015 };
	for (uint64_t left = gen_budget_kind[1]; left;) {
		uint64_t n = gen_pareto(30, 1.2, 200000);
		if (n > left)
			n = left;
		struct gen_proc *p = gen_proc_new(GEN_K_BACKSCATTER);
		p->src = gen_src_new(gen_addr_random(), GEN_K_BACKSCATTER);
		double u = gen_unit();
		p->mode = u < 0.45 ? 0 : u < 0.75 ? 1 : u < 0.95 ? 2 : 3;
		p->port = svc[gen_below(sizeof svc / sizeof svc[0])];
		uint64_t life = gen_unit() < 0.8 ? gen_range(30, 6 * 3600) * GEN_NS : gen_range(1, 60) * GEN_DAY_NS;
		gen_sessions(p, n, life, life > GEN_DAY_NS ? (uint32_t)gen_range(2, 4) : 1,
		             (double)(life / n) * 0.5 + 1000);
		left -= n;
	}
	/* Mirai bots: low and steady, hours to weeks */
	static const uint16_t mirai_other[] = { 5555, 37215, 52869, 8080, 7547, 81 };
	for (uint64_t left = gen_budget_kind[2]; left;) {
		uint64_t n = gen_range(5, 300);
		if (n > left)
			n = left;
		struct gen_proc *p = gen_proc_new(GEN_K_MIRAI);
		p->src = gen_src_new(gen_unit() < 0.7 ? gen_addr_residential() : gen_addr_random(), GEN_K_MIRAI);
		if (gen_unit() < 0.1) {
			p->mode = 1;
			p->port = mirai_other[gen_below(sizeof mirai_other / sizeof mirai_other[0])];
		}
		uint64_t life = gen_range(600, 21 * 86400) * GEN_NS;
		uint32_t k = (uint32_t)gen_range(1, 10);
		gen_sessions(p, n, life, k, (double)(life / n) * 0.3 + 1000);
		left -= n;
	}
	/* RESIP: scattered active days across the span, a handful of packets per day */
	for (uint64_t left = gen_budget_kind[4]; left;) {
		uint32_t days = (uint32_t)gen_range(3, 30);
		uint64_t n = days * gen_range(1, 4);
		if (n > left)
			n = left;
		struct gen_proc *p = gen_proc_new(GEN_K_RESIP);
		p->src = gen_src_new(gen_addr_residential(), GEN_K_RESIP);
		uint64_t life = (uint64_t)((double)gen_opt.span_ns * (0.3 + 0.65 * gen_unit()));
		gen_sessions(p, n, life, days, 300.0 * GEN_NS);
		left -= n;
	}
	/* payload senders: web attackers and SIP scanners */
	static const uint16_t web[] = { 80, 8080, 8000, 8888, 81 };
	for (uint64_t left = gen_budget_kind[5]; left;) {
		uint64_t n = gen_range(2, 25);
		if (n > left)
			n = left;
		bool sip = gen_unit() < 0.35;
		enum gen_kind kind = sip ? GEN_K_PAYLOAD_SIP : GEN_K_PAYLOAD_HTTP;
		struct gen_proc *p = gen_proc_new(kind);
		p->src = gen_src_new(gen_addr_random(), kind);
		p->port = sip ? (gen_unit() < 0.5 ? 5060 : (uint16_t)gen_range(1024, 65535))
		              : web[gen_below(sizeof web / sizeof web[0])];
		p->mode = (uint8_t)gen_below(GEN_N_HTTP);
		uint64_t life;
		uint32_t k;
		gen_plan_lifetime(n, &life, &k);
		gen_sessions(p, n, life, k, 5.0 * GEN_NS);
		left -= n;
	}
}

void gen_months_build(void)
{
	int64_t y, y0;
	unsigned m, d, m0;
	obs_civil_from_days((int64_t)(gen_opt.start_ns / GEN_DAY_NS), &y, &m, &d);
	y0 = y;
	m0 = m;
	for (;;) {
		uint64_t ms = (uint64_t)obs_days_from_civil(y, m, 1) * GEN_DAY_NS;
		int64_t ny = m == 12 ? y + 1 : y;
		unsigned nm = m == 12 ? 1 : m + 1;
		uint64_t me = (uint64_t)obs_days_from_civil(ny, nm, 1) * GEN_DAY_NS;
		if (ms >= gen_opt.end_ns)
			break;
		uint64_t a = ms < gen_opt.start_ns ? gen_opt.start_ns : ms;
		uint64_t b = me > gen_opt.end_ns ? gen_opt.end_ns : me;
		/* a month that is mostly outside the span is no use for a monthly sweep */
		if (b - a >= GEN_DAY_NS * 7 || (b - a) * 2 >= gen_opt.span_ns) {
			gen_months = realloc(gen_months, (gen_n_months + 1) * sizeof *gen_months);
			gen_months[gen_n_months++] = (struct gen_month){ a, b, y, m };
		}
		y = ny;
		m = nm;
	}
	if (!gen_n_months) {   /* tiny span: the span is the only period */
		gen_months = malloc(sizeof *gen_months);
		gen_months[0] = (struct gen_month){ gen_opt.start_ns, gen_opt.end_ns, y0, m0 };
		gen_n_months = 1;
	}
}

static uint64_t gen_gcd(uint64_t a, uint64_t b)
{
	while (b) {
		uint64_t t = a % b;
		a = b;
		b = t;
	}
	return a;
}

bool gen_port_in(const uint16_t *set, unsigned n, uint16_t p)
{
	for (unsigned i = 0; i < n; i++)
		if (set[i] == p)
			return true;
	return false;
}

/* n distinct ports: popular ones first (scanners favour them), then random. */
static void gen_portset(uint16_t *out, unsigned n, double popular, const uint16_t *avoid, unsigned n_avoid)
{
	for (unsigned i = 0; i < n;) {
		uint16_t p = gen_unit() < popular ? gen_common_ports[gen_below(GEN_N_COMMON)]
		                                  : (uint16_t)gen_range(1, 65535);
		if (!gen_port_in(out, i, p) && !gen_port_in(avoid, n_avoid, p))
			out[i++] = p;
	}
}

static struct gen_scan *gen_scan_new(enum gen_kind kind, const char *variant, uint32_t block,
                                     uint32_t n_hosts, unsigned n_periods)
{
	if (gen_n_scans == gen_cap_scans) {
		gen_cap_scans = gen_cap_scans ? gen_cap_scans * 2 : 64;
		gen_scans = realloc(gen_scans, gen_cap_scans * sizeof *gen_scans);
	}
	struct gen_scan *s = &gen_scans[gen_n_scans++];
	memset(s, 0, sizeof *s);
	s->kind = (uint8_t)kind;
	s->variant = variant;
	s->block = block;
	s->n_hosts = n_hosts;
	s->src0 = (uint32_t)gen_n_src;
	for (uint32_t h = 0; h < n_hosts; h++)
		gen_src_new(block ? gen_addr_in_block(block) : gen_addr_random(), kind);
	s->n_periods = n_periods;
	s->periods = calloc(n_periods, sizeof *s->periods);
	s->syn_opt = gen_unit() < 0.5;
	s->win = gen_unit() < 0.5 ? 65535 : 1024;
	return s;
}

static void gen_period_init(struct gen_scan_period *pp, unsigned month, uint32_t n_ports,
                            double cov, uint64_t count, uint64_t max_dur)
{
	const struct gen_month *mo = &gen_months[month];
	uint64_t mlen = mo->end - mo->start;
	pp->month = month;
	pp->n_ports = n_ports;
	pp->coverage = cov;
	pp->n_pairs = (uint64_t)n_ports * gen_tel_size;
	pp->count = count;
	pp->dur = gen_range(GEN_DAY_NS / 2, max_dur);
	if (pp->dur > mlen)
		pp->dur = mlen;
	pp->w0 = mo->start + gen_below(mlen - pp->dur + 1);
	pp->mul = gen_range(pp->n_pairs / 3 + 1, pp->n_pairs / 3 * 2 + 1);
	while (gen_gcd(pp->mul, pp->n_pairs) != 1)
		pp->mul++;
	pp->add = gen_below(pp->n_pairs);
}

struct gen_scan_tpl {
	enum gen_kind kind;
	const char *variant;
	unsigned ports, months;
	double cov;
};

/* Cheapest first (just over n ports and m months), so a modest budget still gets one
 * block of each class; bigger and longer ones follow when the budget allows. */
static const struct gen_scan_tpl gen_tpls[] = {
	{ GEN_K_SCAN_ROUTINE, "routine",      32, 6,  1.0 },
	{ GEN_K_SCAN_SEMI,    "semi-routine", 32, 6,  1.0 },
	{ GEN_K_SCAN_ADHOC,   "ad-hoc",       30, 6,  1.0 },
	{ GEN_K_SCAN_NEAR,    "ports",        28, 6,  1.0 },   /* |P_t| just under n */
	{ GEN_K_SCAN_NEAR,    "months",       32, 5,  1.0 },   /* |T(A)| just under m */
	{ GEN_K_SCAN_NEAR,    "coverage",     32, 6,  0.65 },  /* per-port coverage under alpha */
	{ GEN_K_SCAN_ROUTINE, "routine",      40, 10, 1.0 },
	{ GEN_K_SCAN_SEMI,    "semi-routine", 38, 9,  1.0 },
	{ GEN_K_SCAN_ADHOC,   "ad-hoc",       36, 8,  1.0 },
	{ GEN_K_SCAN_ROUTINE, "routine",      31, 12, 1.0 },
	{ GEN_K_SCAN_SEMI,    "semi-routine", 34, 7,  1.0 },
	{ GEN_K_SCAN_ADHOC,   "ad-hoc",       45, 7,  1.0 },
};

static uint64_t gen_tpl_cost(const struct gen_scan_tpl *t)
{
	unsigned k = t->months < gen_n_months ? t->months : gen_n_months;
	uint64_t per = t->cov >= 1.0 ? t->ports * gen_tel_size : (uint64_t)llround(t->cov * (double)(t->ports * gen_tel_size));
	return per * k;
}

void gen_plan_scanners(void)
{
	uint64_t left = gen_budget_kind[3];
	for (unsigned ti = 0; ti < sizeof gen_tpls / sizeof gen_tpls[0]; ti++) {
		const struct gen_scan_tpl *t = &gen_tpls[ti];
		uint64_t cost = gen_tpl_cost(t);
		if (cost > left)
			continue;
		left -= cost;
		unsigned k = t->months < gen_n_months ? t->months : gen_n_months;
		struct gen_scan *s = gen_scan_new(t->kind, t->variant, gen_block_new(),
		                                  (uint32_t)gen_range(t->kind == GEN_K_SCAN_ADHOC ? 1 : 3, 12), k);
		unsigned m0 = (unsigned)gen_below(gen_n_months - k + 1);
		enum { GEN_POOL = 36, GEN_EXTRA = 6 };   /* semi-routine: 6 of 36 rotating extras */
		uint16_t core[64], extra_pool[GEN_POOL];
		unsigned n_core = t->kind == GEN_K_SCAN_SEMI ? t->ports - GEN_EXTRA : t->ports;
		gen_portset(core, n_core, 0.8, NULL, 0);
		if (t->kind == GEN_K_SCAN_SEMI)
			gen_portset(extra_pool, GEN_POOL, 0.3, core, n_core);
		for (unsigned i = 0; i < k; i++) {
			struct gen_scan_period *pp = &s->periods[i];
			uint64_t count = t->cov >= 1.0 ? t->ports * gen_tel_size
			                               : (uint64_t)llround(t->cov * (double)(t->ports * gen_tel_size));
			gen_period_init(pp, m0 + i, t->ports, t->cov, count, 4 * GEN_DAY_NS);
			pp->ports = malloc(t->ports * sizeof *pp->ports);
			if (t->kind == GEN_K_SCAN_ADHOC) {
				gen_portset(pp->ports, t->ports, 0.15, NULL, 0);
			} else {
				memcpy(pp->ports, core, n_core * sizeof *core);
				if (t->kind == GEN_K_SCAN_SEMI) {
					/* Simpson >= core/ports > S*, Jaccard ~ 0.75 <= J* (SPEC.md A 6) */
					uint16_t tmp[GEN_POOL];
					memcpy(tmp, extra_pool, sizeof tmp);
					for (unsigned e = 0; e < GEN_EXTRA; e++) {
						unsigned r = e + (unsigned)gen_below(GEN_POOL - e);
						uint16_t x = tmp[e]; tmp[e] = tmp[r]; tmp[r] = x;
						pp->ports[n_core + e] = tmp[e];
					}
				}
			}
		}
	}
	/* What is left: small scanners, one host each, a few ports over part of D. */
	uint64_t cap = gen_budget_kind[3] / 6 > 50 ? gen_budget_kind[3] / 6 : 50;
	while (left) {
		unsigned q = (unsigned)gen_range(1, 6);
		unsigned k = (unsigned)gen_range(1, 3);
		if (k > gen_n_months)
			k = gen_n_months;
		double cov = 0.05 + 0.95 * gen_unit();
		uint64_t per_cap = (uint64_t)q * gen_tel_size;
		uint64_t want = (uint64_t)(cov * (double)per_cap) * k;
		if (want > cap)
			want = cap;
		if (want < 1)
			want = 1;
		if (want > left || left - want < 10)
			want = left;
		/* more periods or ports when the remainder does not fit */
		while (want > per_cap * k && q < 64) {
			q++;
			per_cap = (uint64_t)q * gen_tel_size;
		}
		if (want > per_cap * k) {
			want = per_cap * k;
		}
		struct gen_scan *s = gen_scan_new(GEN_K_SCAN_SMALL, "small", 0, 1, k);
		unsigned m0 = (unsigned)gen_below(gen_n_months - k + 1);
		uint64_t done = 0;
		for (unsigned i = 0; i < k; i++) {
			uint64_t c = (want - done) / (k - i);
			if (c > per_cap)
				c = per_cap;
			gen_period_init(&s->periods[i], m0 + i, q, (double)c / (double)per_cap, c, 2 * GEN_DAY_NS);
			s->periods[i].ports = malloc(q * sizeof(uint16_t));
			gen_portset(s->periods[i].ports, q, 0.9, NULL, 0);
			done += c;
		}
		/* rounding: give any rest to the last period that has room */
		for (unsigned i = k; i-- > 0 && done < want;) {
			uint64_t room = per_cap - s->periods[i].count, add = want - done < room ? want - done : room;
			s->periods[i].count += add;
			s->periods[i].coverage = (double)s->periods[i].count / (double)per_cap;
			done += add;
		}
		/* zero-count periods cannot exist: c >= 1 whenever want >= k; drop them otherwise */
		unsigned w = 0;
		for (unsigned i = 0; i < k; i++)
			if (s->periods[i].count)
				s->periods[w++] = s->periods[i];
			else
				free(s->periods[i].ports);
		s->n_periods = w;
		left -= done;
	}
	for (unsigned i = 0; i < gen_n_scans; i++) {
		struct gen_proc *p = gen_proc_new((enum gen_kind)gen_scans[i].kind);
		struct gen_scan *s = &gen_scans[i];
		p->src = i;
		p->left = 0;
		for (unsigned j = 0; j < s->n_periods; j++)
			p->left += s->periods[j].count;
		p->sess = 0;
		p->j = 0;
		p->t = s->periods[0].w0;
	}
}

void gen_plan_malformed(uint64_t n)
{
	if (!n)
		return;
	struct gen_proc *p = gen_proc_new(GEN_K_MALFORMED);
	p->left = n;
	p->n_sess = (uint32_t)n;   /* frames in all; j counts them */
	p->t = gen_opt.start_ns + gen_below(gen_opt.span_ns / n + 1);
}
