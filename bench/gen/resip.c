/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * resip.c — obscura-gen's RESIP table and its truth (gen.h).
 *
 * --resip-table FILE: a RESIP table (CSV ip,provider,first_seen,last_seen, SPEC.md B) for
 * the resip sources, written after the traffic so windows can be placed around each
 * source's packets: about half of them fully inside one window, some with a window that
 * opens in the middle of their traffic (earlier packets are not RESIP traffic), some with
 * two providers whose windows leave a gap (date-only rows: whole UTC days), some whose
 * only window ended before their first packet, a few not listed; plus a few background
 * sources listed for their whole life, and listed addresses that never send.  Times are
 * epoch seconds (exact instants, both ends inclusive, as dataplane/resip_load.c reads
 * them) or dates (00:00:00 .. 23:59:59.999999999 UTC), each row written by
 * bench/resip_csv.h.  The truth's "resip" block applies SPEC.md B1 to every accepted
 * packet, with and without the window check, from the rows planned here (never by
 * reading the CSV back).  Main thread only.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/resip_csv.h"
#include "gen.h"

struct gen_rpkt { uint64_t t; uint32_t addr; uint8_t proto; uint16_t port; };
struct gen_rrow { uint32_t addr; uint8_t prov; int64_t first_ns, last_ns; };

static struct gen_rpkt *gen_rpkt;
static uint64_t gen_n_rpkt, gen_cap_rpkt;
static struct gen_rrow *gen_rrow;
static uint64_t gen_n_rrow, gen_cap_rrow;
static const char *const gen_prov_name[6] = { "ProxyAlpha", "BrightNet", "Oxylabs-like",
	"IPRoyal-like", "Smartproxy-like", "NetNut-like" };

void gen_resip_log(uint64_t t, uint32_t addr, const struct gen_pkt *k)
{
	if (gen_n_rpkt == gen_cap_rpkt) {
		gen_cap_rpkt = gen_cap_rpkt ? gen_cap_rpkt * 2 : 65536;
		gen_rpkt = realloc(gen_rpkt, gen_cap_rpkt * sizeof *gen_rpkt);
		if (!gen_rpkt) { fprintf(stderr, "obscura-gen: out of memory\n"); exit(1); }
	}
	unsigned pi = gen_proto_idx(k->proto);
	gen_rpkt[gen_n_rpkt++] = (struct gen_rpkt){ t, addr, (uint8_t)pi,
		(uint16_t)(pi == OBX_P_TCP || pi == OBX_P_UDP ? k->dport : 0) };
}

static bool gen_resip_listed(const struct gen_src *s, uint64_t si)
{
	return s->kind == GEN_K_RESIP || (s->kind == GEN_K_BACKGROUND && si % 97 == 0);
}

static void gen_rrow_add(uint32_t addr, unsigned prov, int64_t f, int64_t l)
{
	if (gen_n_rrow == gen_cap_rrow) {
		gen_cap_rrow = gen_cap_rrow ? gen_cap_rrow * 2 : 4096;
		gen_rrow = realloc(gen_rrow, gen_cap_rrow * sizeof *gen_rrow);
		if (!gen_rrow) { fprintf(stderr, "obscura-gen: out of memory\n"); exit(1); }
	}
	gen_rrow[gen_n_rrow++] = (struct gen_rrow){ addr, (uint8_t)prov, f, l };
}

static int gen_cmp_rrow(const void *a, const void *b)
{
	const struct gen_rrow *x = a, *y = b;
	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

/* Plan the rows and write the CSV (after the traffic, before the truth sorts gen_src). */
int gen_resip_write(const char *path)
{
	FILE *f = fopen(path, "w");
	if (!f) {
		fprintf(stderr, "obscura-gen: %s: %s\n", path, strerror(errno));
		return -1;
	}
	const int64_t S = (int64_t)GEN_NS, D = (int64_t)GEN_DAY_NS;
	bench_resip_csv_header(f);
	for (uint64_t si = 0; si < gen_n_src; si++) {
		const struct gen_src *s = &gen_src[si];
		if (!s->packets || !gen_resip_listed(s, si))
			continue;
		int64_t a = (int64_t)s->first_ns, b = (int64_t)s->last_ns, mid = a + (b - a) / 2;
		unsigned p = (unsigned)gen_below(6), q = (p + 1 + (unsigned)gen_below(5)) % 6;
		unsigned r = s->kind == GEN_K_RESIP ? (unsigned)gen_below(100) : 0;
		if (r < 50) {                      /* whole life inside one window */
			int64_t f0 = a / S - 86400, l0 = b / S + 86400;
			bench_resip_csv_secs(f, s->addr, gen_prov_name[p], f0, l0);
			gen_rrow_add(s->addr, p, f0 * S, l0 * S);
			if (r < 5)                 /* an identical duplicate row (merged) */
				bench_resip_csv_secs(f, s->addr, gen_prov_name[p], f0, l0);
		} else if (r < 70) {               /* window opens mid-traffic, on a whole second */
			int64_t f0 = mid / S, l0 = b / S + 3600;
			bench_resip_csv_secs(f, s->addr, gen_prov_name[p], f0, l0);
			gen_rrow_add(s->addr, p, f0 * S, l0 * S);
		} else if (r < 85) {               /* two providers, a gap between (dates) */
			int64_t l0 = mid / S;          /* p: up to mid (epoch seconds) */
			bench_resip_csv_secs(f, s->addr, gen_prov_name[p], a / S - 10, l0);
			gen_rrow_add(s->addr, p, (a / S - 10) * S, l0 * S);
			int64_t d0 = mid / D + 2, d1 = b / D + 1;   /* q: whole days from mid + 2 d */
			if (d0 > d1)
				d0 = d1;
			bench_resip_csv_days(f, s->addr, gen_prov_name[q], d0, d1);
			gen_rrow_add(s->addr, q, d0 * D, d1 * D + D - 1);
		} else if (r < 95) {               /* expired before its first packet */
			int64_t l0 = a / S - 1, f0 = l0 - 10 * 86400;
			bench_resip_csv_secs(f, s->addr, gen_prov_name[p], f0, l0);
			gen_rrow_add(s->addr, p, f0 * S, l0 * S);
		}                                  /* else: not listed */
	}
	/* listed addresses that never send (TEST-NET-3, which the generator never uses) */
	for (unsigned i = 0; i < 50; i++)
		bench_resip_csv_days(f, 0xcb007100u + i + 1, gen_prov_name[i % 6],
		                     obs_days_from_civil(2020, 1, 1), obs_days_from_civil(2030, 12, 31));
	if (fclose(f)) {
		fprintf(stderr, "obscura-gen: %s: %s\n", path, strerror(errno));
		return -1;
	}
	qsort(gen_rrow, gen_n_rrow, sizeof *gen_rrow, gen_cmp_rrow);
	return 0;
}

/* Providers mask of addr for packet time t (window check) or any time (wc false). */
static uint64_t gen_resip_match(uint32_t addr, uint64_t t, bool wc)
{
	uint64_t lo = 0, hi = gen_n_rrow, m = 0;
	while (lo < hi) {
		uint64_t mid = (lo + hi) / 2;
		if (gen_rrow[mid].addr < addr) lo = mid + 1; else hi = mid;
	}
	for (uint64_t i = lo; i < gen_n_rrow && gen_rrow[i].addr == addr; i++)
		if (!wc || ((int64_t)t >= gen_rrow[i].first_ns && (int64_t)t <= gen_rrow[i].last_ns))
			m |= 1ull << gen_rrow[i].prov;
	return m;
}

struct gen_rkey { uint64_t a, b; uint64_t n; };

static int gen_cmp_rkey(const void *x, const void *y)
{
	const struct gen_rkey *p = x, *q = y;
	if (p->a != q->a) return p->a < q->a ? -1 : 1;
	return p->b < q->b ? -1 : p->b > q->b;
}

/* Sort and merge equal (a, b) keys, summing n. */
static uint64_t gen_rkey_uniq(struct gen_rkey *k, uint64_t n)
{
	uint64_t o = 0;
	qsort(k, n, sizeof *k, gen_cmp_rkey);
	for (uint64_t i = 0; i < n; i++) {
		if (o && k[o - 1].a == k[i].a && k[o - 1].b == k[i].b)
			k[o - 1].n += k[i].n;
		else
			k[o++] = k[i];
	}
	return o;
}

static void gen_resip_truth_one(FILE *f, bool wc)
{
	static const char *const pn[] = { "tcp", "udp", "icmp", "other" };
	struct gen_rkey *ad = malloc((gen_n_rpkt + 1) * sizeof *ad);
	struct gen_rkey *pt = malloc((gen_n_rpkt + 1) * sizeof *pt);
	if (!ad || !pt) { fprintf(stderr, "obscura-gen: out of memory\n"); exit(1); }
	uint64_t n = 0, total = 0;
	for (uint64_t i = 0; i < gen_n_rpkt; i++) {
		const struct gen_rpkt *p = &gen_rpkt[i];
		if (!gen_resip_match(p->addr, p->t, wc))
			continue;
		ad[n] = (struct gen_rkey){ p->addr, p->t / GEN_DAY_NS, 1 };
		pt[n] = (struct gen_rkey){ (uint64_t)p->proto << 16 | p->port, 0, 1 };
		n++;
		total++;
	}
	uint64_t nad = gen_rkey_uniq(ad, n), npt = gen_rkey_uniq(pt, n);
	/* per day: distinct hosts and packets */
	struct gen_rkey *dy = malloc((nad + 1) * sizeof *dy);
	for (uint64_t i = 0; i < nad; i++)
		dy[i] = (struct gen_rkey){ ad[i].b, ad[i].a, ad[i].n };
	uint64_t hosts = 0;
	fprintf(f, "{\"packets\": %" PRIu64 ", \"host_days\": %" PRIu64, total, nad);
	/* sources */
	fprintf(f, ",\n    \"sources\": [");
	for (uint64_t i = 0; i < nad;) {
		uint64_t j = i, pk = 0;
		while (j < nad && ad[j].a == ad[i].a)
			pk += ad[j++].n;
		fprintf(f, "%s\n      {\"addr\": ", hosts ? "," : "");
		gen_json_addr(f, (uint32_t)ad[i].a);
		fprintf(f, ", \"packets\": %" PRIu64 ", \"days\": %" PRIu64 ", \"providers\": [", pk, j - i);
		uint64_t m = gen_resip_match((uint32_t)ad[i].a, 0, false);
		bool first = true;
		/* providers by name, as a set (the appliance lists them in table order) */
		const char *names[6]; unsigned nn = 0;
		for (unsigned b = 0; b < 6; b++)
			if (m & (1ull << b)) names[nn++] = gen_prov_name[b];
		for (unsigned x = 1; x < nn; x++)
			for (unsigned y = x; y > 0 && strcmp(names[y], names[y - 1]) < 0; y--) {
				const char *t = names[y]; names[y] = names[y - 1]; names[y - 1] = t;
			}
		for (unsigned x = 0; x < nn; x++) {
			fprintf(f, "%s\"%s\"", first ? "" : ", ", names[x]);
			first = false;
		}
		fprintf(f, "]}");
		hosts++;
		i = j;
	}
	/* per day: each (addr, day) is one host that day */
	uint64_t ndy = nad;
	qsort(dy, ndy, sizeof *dy, gen_cmp_rkey);
	fprintf(f, "],\n    \"hosts\": %" PRIu64 ",\n    \"daily\": [", hosts);
	uint64_t nd = 0;
	for (uint64_t i = 0; i < ndy;) {
		uint64_t j = i, h = 0, pk = 0;
		while (j < ndy && dy[j].a == dy[i].a) { h++; pk += dy[j].n; j++; }
		char b[OBS_PERIOD_LABEL_MAX];
		obs_period_label(OBS_PU_DAY, (uint32_t)dy[i].a, b, sizeof b);
		fprintf(f, "%s\n      {\"day\": \"%s\", \"hosts\": %" PRIu64 ", \"packets\": %" PRIu64 "}",
		        nd++ ? "," : "", b, h, pk);
		i = j;
	}
	fprintf(f, "],\n    \"days\": %" PRIu64 ",\n    \"ports\": [", nd);
	for (uint64_t i = 0; i < npt; i++)
		fprintf(f, "%s\n      {\"proto\": \"%s\", \"port\": %u, \"packets\": %" PRIu64 "}", i ? "," : "",
		        pn[pt[i].a >> 16], (unsigned)(pt[i].a & 0xffff), pt[i].n);
	fprintf(f, "]}");
	free(ad);
	free(pt);
	free(dy);
}

void gen_resip_truth(FILE *f)
{
	if (!gen_resip_path)
		return;
	fprintf(f, ",\n\"resip\": {\"table\": ");
	gen_json_str(f, gen_resip_path);
	fprintf(f, ", \"rows\": %" PRIu64 ",\n  \"window_check\": ", gen_n_rrow);
	gen_resip_truth_one(f, true);
	fprintf(f, ",\n  \"no_window_check\": ");
	gen_resip_truth_one(f, false);
	fprintf(f, "}");
}
