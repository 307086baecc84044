/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * telescope.c — obscura-gen's address space (gen.h): the sensors' prefixes that make up
 * the telescope D, and the source addresses around it.
 *
 * --sensor NAME=PREFIX[,PREFIX...] adds one sensor; the prefixes, in the order given,
 * number D's addresses (gen_tel_addr() maps an offset to an address and its sensor, as
 * the scanners' permutations need).  Sources are public unicast addresses outside D, each
 * handed out once (a source has exactly one kind); scanner blocks reserve whole /16s no
 * other source may use.  Main thread only, like all of the generator.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gen.h"

char gen_sensor_name[GEN_MAX_SENSORS][32];
unsigned gen_n_sensors;
struct gen_prefix gen_pfx[GEN_MAX_PREFIXES];
unsigned gen_n_pfx;
uint64_t gen_tel_size;   /* |D| */

static int gen_parse_prefix(const char *s, uint32_t *addr, uint8_t *len)
{
	unsigned a, b, c, d, l;
	char tail;
	if (sscanf(s, "%u.%u.%u.%u/%u%c", &a, &b, &c, &d, &l, &tail) != 5 ||
	    a > 255 || b > 255 || c > 255 || d > 255 || l > 32 || l < 8)
		return -1;
	*addr = a << 24 | b << 16 | c << 8 | d;
	*len = (uint8_t)l;
	uint32_t mask = l ? ~0u << (32 - l) : 0;
	return (*addr & ~mask) ? -1 : 0;
}

int gen_add_sensor(const char *arg)
{
	const char *eq = strchr(arg, '=');
	if (!eq || eq == arg || eq - arg >= 32 || gen_n_sensors >= GEN_MAX_SENSORS)
		return -1;
	unsigned si = gen_n_sensors;
	memcpy(gen_sensor_name[si], arg, (size_t)(eq - arg));
	gen_sensor_name[si][eq - arg] = '\0';
	for (unsigned i = 0; i < si; i++)
		if (!strcmp(gen_sensor_name[i], gen_sensor_name[si]))
			return -1;
	char buf[4096];
	snprintf(buf, sizeof buf, "%s", eq + 1);
	for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (gen_n_pfx >= GEN_MAX_PREFIXES)
			return -1;
		struct gen_prefix *p = &gen_pfx[gen_n_pfx];
		if (gen_parse_prefix(tok, &p->addr, &p->len))
			return -1;
		p->sensor = (uint8_t)si;
		p->size = 1ULL << (32 - p->len);
		gen_n_pfx++;
	}
	gen_n_sensors++;
	return 0;
}

/* First octets of large residential (broadband/mobile) allocations, mostly APNIC/JP. */
static const uint8_t gen_resi_octets[] = { 1, 14, 27, 36, 39, 42, 49, 58, 59, 60, 61, 101, 106,
	110, 111, 112, 113, 114, 115, 116, 118, 119, 121, 122, 123, 124, 125, 126, 133, 153,
	175, 180, 182, 183, 210, 211, 218, 219, 220, 221, 222 };

bool gen_near_own;                         /* some prefix's own /16 has room */
uint32_t gen_near16[2 * GEN_MAX_PREFIXES];  /* else: /16s next to D that have room */
unsigned gen_n_near16;

/* Addresses of D in [lo, lo + n). */
static uint64_t gen_tel_count(uint64_t lo, uint64_t n)
{
	uint64_t c = 0, hi = lo + n;
	for (unsigned i = 0; i < gen_n_pfx; i++) {
		uint64_t a = gen_pfx[i].addr, b = a + gen_pfx[i].size;
		if (a < hi && lo < b)
			c += (b < hi ? b : hi) - (a > lo ? a : lo);
	}
	return c;
}

/* Can a not_telescope destination come from the /16 starting at b?  gen_not_telescope
 * wants one outside D, not in 0/8 and below 224/3. */
static bool gen_room16(uint64_t b)
{
	return b >= (1ull << 24) && b < (224ull << 24) && gen_tel_count(b, 1u << 16) < (1u << 16);
}

/* What gen_not_telescope draws "near" destinations from.  Normally the /16 of a random
 * prefix (retried while it lands in D); but when every prefix's own /16 is inside D (a
 * /16 sensor, or /8../15, or /17s filling their /16) that would retry forever, so then
 * the /16s just below and above each prefix are used instead.  The common case keeps
 * its draws exactly as before. */
static void gen_near_plan(void)
{
	gen_near_own = false;
	gen_n_near16 = 0;
	for (unsigned i = 0; i < gen_n_pfx; i++)
		if (gen_room16(gen_pfx[i].addr & 0xffff0000u))
			gen_near_own = true;
	if (gen_near_own)
		return;
	for (unsigned i = 0; i < gen_n_pfx; i++) {
		uint64_t lo = gen_pfx[i].addr >> 16, hi = (gen_pfx[i].addr + gen_pfx[i].size + 0xffff) >> 16;
		uint64_t cand[2] = { lo - 1, hi };   /* lo - 1 may wrap: refused below */
		for (unsigned k = 0; k < 2; k++) {
			bool dup = false;
			for (unsigned q = 0; q < gen_n_near16; q++)
				dup |= gen_near16[q] == (uint32_t)(cand[k] << 16);
			if (!dup && cand[k] < (1u << 16) && gen_room16(cand[k] << 16))
				gen_near16[gen_n_near16++] = (uint32_t)(cand[k] << 16);
		}
	}
}

int gen_tel_finish(const char **why)
{
	*why = "no prefixes";
	if (!gen_n_pfx)
		return -1;
	*why = "prefixes overlap";
	for (unsigned i = 0; i < gen_n_pfx; i++)
		for (unsigned j = 0; j < i; j++) {
			uint64_t a0 = gen_pfx[i].addr, a1 = a0 + gen_pfx[i].size;
			uint64_t b0 = gen_pfx[j].addr, b1 = b0 + gen_pfx[j].size;
			if (a0 < b1 && b0 < a1)
				return -1;
		}
	gen_tel_size = 0;
	for (unsigned i = 0; i < gen_n_pfx; i++) {
		gen_pfx[i].cum = gen_tel_size;
		gen_tel_size += gen_pfx[i].size;
	}
	/* Every source and not_telescope destination is drawn at random until it falls
	 * outside D: with D over half the unicast space, or over half the residential /8s
	 * the RESIP and Mirai sources come from, those draws would crawl or never end.  No
	 * real telescope is that large (a /8 is 1/223 of it). */
	uint64_t resi = 0;
	for (unsigned i = 0; i < sizeof gen_resi_octets; i++)
		resi += gen_tel_count((uint64_t)gen_resi_octets[i] << 24, 1u << 24);
	*why = "the sensors cover over half of the unicast space or of its residential /8s";
	if (gen_tel_count(1ull << 24, 223ull << 24) * 2 > (223ull << 24) ||
	    resi * 2 > (uint64_t)sizeof gen_resi_octets << 24)
		return -1;
	gen_near_plan();
	*why = NULL;
	return 0;
}

/* ------------------------------------------------------------------ addresses */

/* Public unicast space only: a telescope never sees itself, RFC 1918, CGN, loopback,
 * link-local, documentation, benchmarking (198.18/15, where the default telescope is)
 * or class D/E as a genuine source. */
bool gen_addr_public(uint32_t a)
{
	uint8_t o1 = (uint8_t)(a >> 24), o2 = (uint8_t)(a >> 16);
	if (o1 == 0 || o1 == 10 || o1 == 127 || o1 >= 224)
		return false;
	if ((o1 == 100 && (o2 & 0xc0) == 64) || (o1 == 169 && o2 == 254) ||
	    (o1 == 172 && (o2 & 0xf0) == 16) || (o1 == 192 && o2 == 168) ||
	    (o1 == 198 && (o2 & 0xfe) == 18))
		return false;
	uint32_t s24 = a >> 8;
	if (s24 == 0xc00000 || s24 == 0xc00002 || s24 == 0xc63364 || s24 == 0xcb0071)
		return false;
	return gen_tel_sensor(a) < 0;
}

/* Open-addressing set of uint32 (0 is never stored: 0/8 is not public). */
struct gen_set {
	uint32_t *v;
	uint64_t cap, n;
};

static uint32_t gen_hash32(uint32_t a) { return obx_src_hash(a); }

static bool gen_set_has(const struct gen_set *s, uint32_t k)
{
	if (!s->cap)
		return false;
	for (uint64_t i = gen_hash32(k) & (s->cap - 1);; i = (i + 1) & (s->cap - 1)) {
		if (s->v[i] == k)
			return true;
		if (!s->v[i])
			return false;
	}
}

static void gen_set_add(struct gen_set *s, uint32_t k);

static void gen_set_grow(struct gen_set *s)
{
	struct gen_set o = *s;
	s->cap = o.cap ? o.cap * 2 : 1024;
	s->n = 0;
	s->v = calloc(s->cap, sizeof *s->v);
	if (!s->v) {
		fprintf(stderr, "obscura-gen: out of memory\n");
		exit(1);
	}
	for (uint64_t i = 0; i < o.cap; i++)
		if (o.v[i])
			gen_set_add(s, o.v[i]);
	free(o.v);
}

static void gen_set_add(struct gen_set *s, uint32_t k)
{
	if ((s->n + 1) * 2 > s->cap)
		gen_set_grow(s);
	uint64_t i = gen_hash32(k) & (s->cap - 1);
	while (s->v[i] && s->v[i] != k)
		i = (i + 1) & (s->cap - 1);
	if (!s->v[i]) {
		s->v[i] = k;
		s->n++;
	}
}

static struct gen_set gen_used;      /* every source address handed out */
static struct gen_set gen_blocks;    /* /16s reserved for scanner blocks (value: a>>16 | 1<<16) */

static bool gen_addr_free(uint32_t a)
{
	return gen_addr_public(a) && !gen_set_has(&gen_used, a) &&
	       !gen_set_has(&gen_blocks, (a >> 16) | 0x10000u);
}

uint32_t gen_addr_random(void)
{
	for (;;) {
		uint32_t a = (uint32_t)gen_rand();
		if (gen_addr_free(a)) {
			gen_set_add(&gen_used, a);
			return a;
		}
	}
}

uint32_t gen_addr_residential(void)
{
	for (;;) {
		uint32_t a = (uint32_t)gen_resi_octets[gen_below(sizeof gen_resi_octets)] << 24 |
		             ((uint32_t)gen_rand() & 0xffffffu);
		if (gen_addr_free(a)) {
			gen_set_add(&gen_used, a);
			return a;
		}
	}
}

/* A fresh /16 for a scanner block: no source handed out so far lies in it. */
uint32_t gen_block_new(void)
{
	for (;;) {
		uint32_t b = (uint32_t)gen_rand() & 0xffff0000u;
		bool ok = !gen_set_has(&gen_blocks, (b >> 16) | 0x10000u);
		for (uint32_t probe = 0; ok && probe < 16; probe++)   /* cheap spot checks */
			ok = gen_addr_public(b | (probe << 12) | 1);
		for (uint64_t i = 0; ok && i < gen_used.cap; i++)
			if (gen_used.v[i] && (gen_used.v[i] & 0xffff0000u) == b)
				ok = false;
		if (ok) {
			gen_set_add(&gen_blocks, (b >> 16) | 0x10000u);
			return b;
		}
	}
}

uint32_t gen_addr_in_block(uint32_t b)
{
	for (;;) {
		uint32_t a = b | (uint32_t)gen_range(1, 0xfffe);
		if (gen_addr_public(a) && !gen_set_has(&gen_used, a)) {
			gen_set_add(&gen_used, a);
			return a;
		}
	}
}
