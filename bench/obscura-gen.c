/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * obscura-gen — synthetic network-telescope traffic with a known answer.
 *
 * Writes a nanosecond pcap (magic a1b23c4d, LINKTYPE_ETHERNET, caplen == wire length)
 * of realistic darknet traffic, and optionally the ground truth the appliance must
 * report for it.  Output is a pure function of the options (same --seed, same bytes).
 * Memory is bounded by the number of sources; packets are streamed, never held.
 *
 * Traffic kinds (the source's "kind" in the truth):
 *   background            many random, bursty, mostly short-lived sources; random
 *                         protocols and ports (TCP SYN, UDP, ICMP echo, GRE/ESP/IPv6-in-IPv4)
 *   backscatter           "victims" answering spoofed floods: SYN-ACK, RST, ICMP unreachable
 *   mirai                 TCP SYN to 23/2323 (a few to other Mirai ports) with seq == dst
 *   scanner-routine       a /16 sweeping all of D on >= 30 ports, same port set every month
 *   scanner-semi-routine  same, port set drifting (fixed core plus rotating extras)
 *   scanner-ad-hoc        same, unrelated port set every month
 *   scanner-near-miss     just below a SPEC A threshold: 26-29 ports, or 5 months, or
 *                         per-port coverage 0.55-0.7 (variant named in scanner_blocks)
 *   scanner-small         one host sweeping a few ports over part of D
 *   resip                 residential-looking hosts, low rate, many ports, scattered days
 *   payload-http          HTTP GET carrying SQLi / XSS / RFI / traversal strings
 *   payload-sip           SIP OPTIONS on udp/5060 (sipvicious style)
 * plus malformed frames, one family per obx_drop reason of dataplane/exchange.h, valid
 * packets to destinations outside every sensor (not_telescope), and valid frames with one
 * (802.1Q) or two (802.1ad + 802.1Q) VLAN tags.  Sources never lie inside the telescope
 * or in private/reserved space, and every source address has exactly one kind.
 *
 * Malformed frames are built so that every reasonable parse order gives the same single
 * reason (they all go to telescope destinations, a truncated frame is never padded, a
 * frame has exactly one defect), so the truth does not depend on how parse.c orders its
 * checks.  Valid frames shorter than 60 bytes are zero-padded to 60 as a NIC delivers them;
 * UDP length always equals the IP payload length and TCP options are always present.
 *
 * Time: packet times are non-decreasing.  With --backwards-share, a valid packet B is
 * sometimes emitted right after a packet A of the same source with A.time > B.time >
 * (that source's previous packet time), and the source has later packets; so B is
 * "before the previous packet" however that is read (file order, per worker with RSS on
 * the source, against the latest time seen), and min/max first/last per source are not
 * changed by it.
 *
 * Ground truth (--truth FILE), one JSON document:
 * {
 *   "params":  {"generator","seed","packets","start","start_ns","span_ns","end_ns",
 *               "mix":{kind:share},"malformed_share","backwards_share","vlan_share",
 *               "sensors":[{"name","prefixes":["a.b.c.d/len",...]}],"telescope_size",
 *               "scan_alpha","scan_n","scan_m"},
 *   "totals":  {"rx_packets","rx_bytes",        every frame; bytes = frame length
 *               "tel_packets","tel_bytes",      accepted telescope packets
 *               "proto":{"tcp","udp","icmp","other"},   accepted telescope packets
 *               "drops":{"trunc_l2",...,"not_telescope"},  every obx_drop reason
 *               "time_backwards"},
 *   "sensors": ["east","west"],                 config order = sensor_mask bit order
 *   "kinds":   {kind:{"sources","packets"}},
 *   "scanner_blocks": [{"block":"a.b.0.0/16","kind","variant","hosts","expected_class",
 *               "periods":[{"month":"YYYY-MM","start_ns","end_ns","ports":[...],
 *                           "coverage","packets"}]}],
 *   "sources_total": N,                         sources before --truth-sources-max
 *   "sources": [{"addr","kind","packets","bytes","first_ns","last_ns","sensors":[names]}]
 * }
 * rx_packets = tel_packets + sum(drops).  Sources are sorted by packets (desc), then
 * address; only accepted telescope packets count in them.  "expected_class" is what
 * SPEC.md A should conclude for the block with alpha/n/m at their defaults
 * ("routine", "semi-routine", "ad-hoc" or "none").  Times are ns since the Unix epoch, UTC.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dataplane/common/exchange.h"   /* obx_drop, obx_proto_idx: the truth uses the appliance's names */
#include "dataplane/parse.h"      /* OBS_TCP_* flag bits (header only; nothing linked) */

#define GEN_VERSION       "0.1.0"
#define GEN_MAX_SENSORS   64
#define GEN_MAX_PREFIXES  256
#define GEN_MAX_FRAME     1600
#define GEN_NS            1000000000ULL
#define GEN_DAY_NS        (86400ULL * GEN_NS)
#define GEN_OUTBUF        (4u << 20)

/* SPEC.md A defaults, used to say what the analysis should find. */
#define GEN_SCAN_ALPHA    0.8
#define GEN_SCAN_N        30
#define GEN_SCAN_M        6

/* ------------------------------------------------------------------ random */

/* xoshiro256**: fast, good, and fully determined by the seed. */
static uint64_t gen_rs[4];

static inline uint64_t gen_rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static inline uint64_t gen_rand(void)
{
	uint64_t r = gen_rotl(gen_rs[1] * 5, 7) * 9, t = gen_rs[1] << 17;
	gen_rs[2] ^= gen_rs[0]; gen_rs[3] ^= gen_rs[1];
	gen_rs[1] ^= gen_rs[2]; gen_rs[0] ^= gen_rs[3];
	gen_rs[2] ^= t; gen_rs[3] = gen_rotl(gen_rs[3], 45);
	return r;
}

static void gen_seed(uint64_t seed)
{
	for (int i = 0; i < 4; i++) {   /* splitmix64, as the xoshiro authors advise */
		uint64_t z = (seed += 0x9e3779b97f4a7c15ULL);
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
		z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
		gen_rs[i] = z ^ (z >> 31);
	}
}

static inline uint64_t gen_below(uint64_t n)   /* uniform in [0, n), n > 0 */
{
	return (uint64_t)(((unsigned __int128)gen_rand() * n) >> 64);
}

static inline uint64_t gen_range(uint64_t lo, uint64_t hi)   /* inclusive */
{
	return lo + gen_below(hi - lo + 1);
}

static inline double gen_unit(void) { return (double)(gen_rand() >> 11) * 0x1p-53; }

static inline double gen_exp(double mean) { return -mean * log1p(-gen_unit()); }

/* Heavy-tailed count >= 1: Pareto with shape a, scale xm, capped. */
static uint64_t gen_pareto(double xm, double a, uint64_t cap)
{
	double v = xm / pow(1.0 - gen_unit(), 1.0 / a);
	return v >= (double)cap ? cap : (v < 1.0 ? 1 : (uint64_t)v);
}

/* ------------------------------------------------------------------ time */

/* Howard Hinnant's civil-date algorithms: proleptic Gregorian, UTC, no libc time zones. */
static int64_t gen_days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static void gen_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int64_t)yoe + era * 400 + (*m <= 2);
}

/* YYYY-MM-DD[THH:MM[:SS[.frac]]][Z|+HH:MM|-HH:MM] -> ns since the epoch. */
static int gen_parse_iso(const char *s, uint64_t *out)
{
	int y, mo, d, h = 0, mi = 0, se = 0, n = 0;
	uint64_t frac = 0;
	if (sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &n) != 3 || y < 1970 || mo < 1 || mo > 12 ||
	    d < 1 || d > 31)
		return -1;
	s += n;
	if (*s == 'T' || *s == ' ') {
		n = 0;
		if (sscanf(s + 1, "%2d:%2d%n", &h, &mi, &n) != 2)
			return -1;
		s += 1 + n;
		if (*s == ':') {
			n = 0;
			if (sscanf(s + 1, "%2d%n", &se, &n) != 1)
				return -1;
			s += 1 + n;
			if (*s == '.') {
				uint64_t scale = GEN_NS / 10;
				for (s++; isdigit((unsigned char)*s); s++, scale /= 10)
					frac += (uint64_t)(*s - '0') * scale;
			}
		}
	}
	int64_t off = 0;
	if (*s == 'Z') {
		s++;
	} else if (*s == '+' || *s == '-') {
		int oh, om;
		if (sscanf(s + 1, "%2d:%2d", &oh, &om) != 2)
			return -1;
		off = (oh * 3600 + om * 60) * (*s == '+' ? 1 : -1);
		s += 6;
	}
	if (*s || h > 23 || mi > 59 || se > 60)
		return -1;
	int64_t t = gen_days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 + se - off;
	if (t < 0)
		return -1;
	*out = (uint64_t)t * GEN_NS + frac;
	return 0;
}

static void gen_fmt_iso(uint64_t ns, char *buf, size_t len)
{
	int64_t s = (int64_t)(ns / GEN_NS), y;
	unsigned m, d;
	gen_civil_from_days(s / 86400, &y, &m, &d);
	s %= 86400;
	snprintf(buf, len, "%04" PRId64 "-%02u-%02uT%02d:%02d:%02dZ", y, m, d,
	         (int)(s / 3600), (int)(s / 60 % 60), (int)(s % 60));
}

/* "400d", "12h", "90m", "30s", "2w", "1.5d" -> ns */
static int gen_parse_duration(const char *s, uint64_t *out)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || v <= 0)
		return -1;
	double mul;
	switch (*end) {
	case 's': mul = 1; break;
	case 'm': mul = 60; break;
	case 'h': mul = 3600; break;
	case 'd': mul = 86400; break;
	case 'w': mul = 7 * 86400; break;
	case '\0': mul = 1; end--; break;
	default: return -1;
	}
	if (end[1] != '\0' || v * mul > 100.0 * 365 * 86400)
		return -1;
	*out = (uint64_t)(v * mul * (double)GEN_NS);
	return *out ? 0 : -1;
}

/* ------------------------------------------------------------------ telescope */

struct gen_prefix {
	uint32_t addr;     /* host order */
	uint8_t  len;
	uint8_t  sensor;
	uint64_t size;
	uint64_t cum;      /* addresses in the prefixes before this one */
};

static char gen_sensor_name[GEN_MAX_SENSORS][32];
static unsigned gen_n_sensors;
static struct gen_prefix gen_pfx[GEN_MAX_PREFIXES];
static unsigned gen_n_pfx;
static uint64_t gen_tel_size;   /* |D| */

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

/* --sensor NAME=PREFIX[,PREFIX...] */
static int gen_add_sensor(const char *arg)
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

static int gen_tel_finish(void)
{
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
	return gen_n_pfx ? 0 : -1;
}

static inline int gen_tel_sensor(uint32_t a)   /* sensor index, or -1 outside D */
{
	for (unsigned i = 0; i < gen_n_pfx; i++)
		if ((uint64_t)(a - gen_pfx[i].addr) < gen_pfx[i].size && a >= gen_pfx[i].addr)
			return gen_pfx[i].sensor;
	return -1;
}

/* The off-th address of D (prefixes in the order given). */
static inline uint32_t gen_tel_addr(uint64_t off, unsigned *sensor)
{
	unsigned i = 0;
	if (gen_n_pfx > 1) {   /* binary search on cum */
		unsigned lo = 0, hi = gen_n_pfx - 1;
		while (lo < hi) {
			unsigned mid = (lo + hi + 1) / 2;
			if (gen_pfx[mid].cum <= off)
				lo = mid;
			else
				hi = mid - 1;
		}
		i = lo;
	}
	*sensor = gen_pfx[i].sensor;
	return gen_pfx[i].addr + (uint32_t)(off - gen_pfx[i].cum);
}

static inline uint32_t gen_tel_random(unsigned *sensor)
{
	return gen_tel_addr(gen_below(gen_tel_size), sensor);
}

/* ------------------------------------------------------------------ addresses */

/* Public unicast space only: a telescope never sees itself, RFC 1918, CGN, loopback,
 * link-local, documentation, benchmarking (198.18/15, where the default telescope is)
 * or class D/E as a genuine source. */
static bool gen_addr_public(uint32_t a)
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

static uint32_t gen_addr_random(void)
{
	for (;;) {
		uint32_t a = (uint32_t)gen_rand();
		if (gen_addr_free(a)) {
			gen_set_add(&gen_used, a);
			return a;
		}
	}
}

/* First octets of large residential (broadband/mobile) allocations, mostly APNIC/JP. */
static const uint8_t gen_resi_octets[] = { 1, 14, 27, 36, 39, 42, 49, 58, 59, 60, 61, 101, 106,
	110, 111, 112, 113, 114, 115, 116, 118, 119, 121, 122, 123, 124, 125, 126, 133, 153,
	175, 180, 182, 183, 210, 211, 218, 219, 220, 221, 222 };

static uint32_t gen_addr_residential(void)
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
static uint32_t gen_block_new(void)
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

static uint32_t gen_addr_in_block(uint32_t b)
{
	for (;;) {
		uint32_t a = b | (uint32_t)gen_range(1, 0xfffe);
		if (gen_addr_public(a) && !gen_set_has(&gen_used, a)) {
			gen_set_add(&gen_used, a);
			return a;
		}
	}
}

/* ------------------------------------------------------------------ sources */

enum gen_kind {
	GEN_K_BACKGROUND = 0,
	GEN_K_BACKSCATTER,
	GEN_K_MIRAI,
	GEN_K_SCAN_ROUTINE,
	GEN_K_SCAN_SEMI,
	GEN_K_SCAN_ADHOC,
	GEN_K_SCAN_NEAR,
	GEN_K_SCAN_SMALL,
	GEN_K_RESIP,
	GEN_K_PAYLOAD_HTTP,
	GEN_K_PAYLOAD_SIP,
	GEN_K_MALFORMED,     /* process only; never a source */
	GEN_K_N
};

static const char *const gen_kind_name[GEN_K_N] = {
	"background", "backscatter", "mirai", "scanner-routine", "scanner-semi-routine",
	"scanner-ad-hoc", "scanner-near-miss", "scanner-small", "resip", "payload-http",
	"payload-sip", "malformed",
};

struct gen_src {
	uint32_t addr;
	uint8_t  kind;
	uint8_t  ttl;        /* initial TTL minus hops: fixed per host, as on the wire */
	uint16_t ip_id;      /* next IP id (incrementing stacks) */
	uint64_t packets, bytes;
	uint64_t first_ns, last_ns;
	uint64_t sensor_mask;
};

static struct gen_src *gen_src;
static uint64_t gen_n_src, gen_cap_src;

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

/* ------------------------------------------------------------------ scanner plans */

struct gen_month {
	uint64_t start, end;   /* [start, end) within the span */
	int64_t  y;
	unsigned m;
};

static struct gen_month *gen_months;
static unsigned gen_n_months;

struct gen_scan_period {
	unsigned month;        /* index into gen_months */
	uint64_t w0, dur;      /* sweep window */
	uint64_t count;        /* packets in this period */
	uint64_t n_pairs;      /* n_ports * |D| */
	uint64_t mul, add;     /* affine permutation of the (port, dst) pairs (ZMap-like) */
	double   coverage;
	uint32_t n_ports;
	uint16_t *ports;
};

struct gen_scan {
	uint32_t block;        /* /16 network, host order; 0 for scanner-small */
	uint8_t  kind;
	const char *variant;
	uint32_t n_hosts;
	uint32_t src0;         /* first of n_hosts consecutive source records */
	unsigned n_periods;
	struct gen_scan_period *periods;
	uint16_t syn_opt;      /* 0: bare 20-byte SYN, else with MSS option */
	uint16_t win;
};

static struct gen_scan *gen_scans;
static unsigned gen_n_scans, gen_cap_scans;

/* ------------------------------------------------------------------ processes */

/*
 * A process emits one stream of packets in time order.  Single-source kinds use a
 * session schedule: n packets in k sessions spread over a lifetime, exponential gaps
 * inside a session.  Scanners walk their periods.  The malformed stream is uniform.
 */
struct gen_proc {
	uint64_t t;            /* time of the next packet */
	uint64_t left;         /* packets still to emit */
	uint32_t id;           /* tie-break: creation order */
	uint8_t  kind;
	uint8_t  mode;         /* kind-specific behaviour (backscatter reply type, ...) */
	uint16_t port;         /* kind-specific port */
	uint32_t src;          /* source record (scanners: scan index) */
	uint32_t n_sess, sess;
	uint64_t left_sess, per_sess, extra_sess;
	uint64_t t0, life;
	double   gap_ns;       /* mean gap inside a session */
	uint64_t j;            /* scanner: index within the period; malformed: frame number */
};

static struct gen_proc *gen_proc;
static uint32_t gen_n_proc, gen_cap_proc;

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

/* ------------------------------------------------------------------ options, state */

static struct {
	uint64_t seed, packets, start_ns, span_ns, end_ns;
	double   mix[6];           /* background backscatter mirai scanner resip payload */
	double   malformed_share, backwards_share, vlan_share;
	const char *out, *truth;
	uint64_t truth_sources_max;
	bool     quiet;
} gen_opt;

static const char *const gen_mix_name[6] = { "background", "backscatter", "mirai", "scanner",
	"resip", "payload" };

static struct {
	uint64_t rx_packets, rx_bytes, tel_packets, tel_bytes;
	uint64_t proto[OBX_P_N], drops[OBX_DROP_N], time_backwards;
	uint64_t kind_packets[GEN_K_N];
} gen_tot;

/* ------------------------------------------------------------------ output */

static FILE *gen_out;
static uint8_t *gen_buf;
static size_t gen_buf_pos;

static void gen_flush(void)
{
	if (gen_buf_pos && fwrite(gen_buf, 1, gen_buf_pos, gen_out) != gen_buf_pos) {
		fprintf(stderr, "obscura-gen: write %s: %s\n", gen_opt.out, strerror(errno));
		exit(1);
	}
	gen_buf_pos = 0;
}

/* Room for one record; the frame is built in place at the returned pointer. */
static inline uint8_t *gen_frame_slot(void)
{
	if (gen_buf_pos + 16 + GEN_MAX_FRAME > GEN_OUTBUF)
		gen_flush();
	return gen_buf + gen_buf_pos + 16;
}

static inline void gen_put32le(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24);
}

/* Commit the frame built in gen_frame_slot(): record header, rx counters. */
static inline void gen_frame_commit(uint64_t t, uint32_t len)
{
	uint8_t *h = gen_buf + gen_buf_pos;
	gen_put32le(h, (uint32_t)(t / GEN_NS));
	gen_put32le(h + 4, (uint32_t)(t % GEN_NS));
	gen_put32le(h + 8, len);
	gen_put32le(h + 12, len);
	gen_buf_pos += 16 + len;
	gen_tot.rx_packets++;
	gen_tot.rx_bytes += len;
}

/* ------------------------------------------------------------------ frame building */

static inline void gen_put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static inline void gen_put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}

static uint32_t gen_csum_add(uint32_t sum, const uint8_t *p, size_t len)
{
	for (; len > 1; p += 2, len -= 2)
		sum += (uint32_t)p[0] << 8 | p[1];
	if (len)
		sum += (uint32_t)p[0] << 8;
	return sum;
}

static uint16_t gen_csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* Ethernet + n_vlan tags (0..3; 2 = 802.1ad outer + 802.1Q inner).  Returns the L3 start. */
static uint8_t *gen_eth(uint8_t *f, unsigned n_vlan, uint16_t ethertype, unsigned sensor)
{
	static const uint8_t mac[12] = { 0x02, 0x00, 0x5e, 0x0b, 0x5c, 0x01,     /* appliance port */
	                                 0x00, 0x1b, 0x21, 0x3a, 0x4f, 0x90 };   /* upstream router */
	memcpy(f, mac, 12);
	uint8_t *p = f + 12;
	for (unsigned i = 0; i < n_vlan; i++) {
		uint16_t tpid = (n_vlan == 2 && i == 0) ? 0x88a8 : 0x8100;
		gen_put16(p, tpid);
		gen_put16(p + 2, (uint16_t)(n_vlan == 2 && i == 0 ? 10 : 100 + sensor));
		p += 4;
	}
	gen_put16(p, ethertype);
	return p + 2;
}

/* 20-byte IPv4 header with checksum. frag: the flags+offset field. */
static void gen_ipv4(uint8_t *ip, uint32_t src, uint32_t dst, uint8_t proto, uint16_t totlen,
                     uint16_t id, uint8_t ttl, uint16_t frag)
{
	ip[0] = 0x45; ip[1] = 0;
	gen_put16(ip + 2, totlen);
	gen_put16(ip + 4, id);
	gen_put16(ip + 6, frag);
	ip[8] = ttl; ip[9] = proto;
	gen_put16(ip + 10, 0);
	gen_put32(ip + 12, src);
	gen_put32(ip + 16, dst);
	gen_put16(ip + 10, gen_csum_fold(gen_csum_add(0, ip, 20)));
}

/* TCP/UDP checksum over the pseudo header (RFC 793 / 768). */
static void gen_l4_csum(uint8_t *ip, uint8_t *l4, unsigned l4len, unsigned csum_off)
{
	uint32_t sum = gen_csum_add(0, ip + 12, 8);
	sum += ip[9];
	sum += l4len;
	gen_put16(l4 + csum_off, 0);
	uint16_t c = gen_csum_fold(gen_csum_add(sum, l4, l4len));
	if (ip[9] == 17 && c == 0)
		c = 0xffff;
	gen_put16(l4 + csum_off, c);
}

struct gen_pkt {
	uint32_t src, dst;
	uint8_t  proto, ttl, flags, icmp_type, icmp_code, optlen;
	bool     df;
	uint16_t id, sport, dport, win;
	uint32_t seq, ack, icmp_rest;
	const uint8_t *opt;
	const uint8_t *pl;
	uint16_t pllen;
};

static const uint8_t gen_opt_mss[4] = { 2, 4, 0x05, 0xb4 };
static const uint8_t gen_opt_linux[20] = { 2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 0, 0, 0, 0, 0,
	1, 3, 3, 7 };

/* A valid IPv4 frame; padded to the 60-byte Ethernet minimum. Returns its length. */
static uint32_t gen_build(uint8_t *f, unsigned n_vlan, unsigned sensor, const struct gen_pkt *k)
{
	uint8_t *ip = gen_eth(f, n_vlan, 0x0800, sensor), *l4 = ip + 20;
	unsigned l4len;
	switch (k->proto) {
	case 6: {
		unsigned hl = 20 + k->optlen;
		gen_put16(l4, k->sport); gen_put16(l4 + 2, k->dport);
		gen_put32(l4 + 4, k->seq); gen_put32(l4 + 8, k->ack);
		l4[12] = (uint8_t)((hl / 4) << 4); l4[13] = k->flags;
		gen_put16(l4 + 14, k->win); gen_put16(l4 + 18, 0);
		if (k->optlen)
			memcpy(l4 + 20, k->opt, k->optlen);
		if (k->pllen)
			memcpy(l4 + hl, k->pl, k->pllen);
		l4len = hl + k->pllen;
		break;
	}
	case 17:
		gen_put16(l4, k->sport); gen_put16(l4 + 2, k->dport);
		gen_put16(l4 + 4, (uint16_t)(8 + k->pllen));
		if (k->pllen)
			memcpy(l4 + 8, k->pl, k->pllen);
		l4len = 8u + k->pllen;
		break;
	case 1:
		l4[0] = k->icmp_type; l4[1] = k->icmp_code;
		gen_put16(l4 + 2, 0);
		gen_put32(l4 + 4, k->icmp_rest);
		if (k->pllen)
			memcpy(l4 + 8, k->pl, k->pllen);
		l4len = 8u + k->pllen;
		gen_put16(l4 + 2, gen_csum_fold(gen_csum_add(0, l4, l4len)));
		break;
	default:
		if (k->pllen)
			memcpy(l4, k->pl, k->pllen);
		l4len = k->pllen;
		break;
	}
	gen_ipv4(ip, k->src, k->dst, k->proto, (uint16_t)(20 + l4len), k->id, k->ttl, k->df ? 0x4000 : 0);
	if (k->proto == 6)
		gen_l4_csum(ip, l4, l4len, 16);
	else if (k->proto == 17)
		gen_l4_csum(ip, l4, l4len, 6);
	uint32_t len = (uint32_t)(l4 + l4len - f);
	if (len < 60) {
		memset(f + len, 0, 60 - len);
		len = 60;
	}
	return len;
}

static unsigned gen_vlan_pick(void)
{
	if (gen_opt.vlan_share <= 0)
		return 0;
	double u = gen_unit();
	return u < gen_opt.vlan_share * 2 / 3 ? 1 : u < gen_opt.vlan_share ? 2 : 0;
}

/* ------------------------------------------------------------------ per-kind packets */

static const uint16_t gen_common_ports[] = { 21, 22, 23, 25, 53, 80, 81, 110, 111, 123, 135,
	139, 143, 161, 389, 443, 445, 465, 502, 587, 631, 873, 993, 995, 1080, 1433, 1521, 1723,
	1883, 1900, 2000, 2049, 2082, 2083, 2222, 2323, 2375, 3000, 3128, 3306, 3389, 3690, 4443,
	4567, 5000, 5060, 5432, 5555, 5601, 5672, 5900, 5984, 6000, 6379, 6443, 7001, 7547, 8000,
	8008, 8009, 8080, 8081, 8088, 8443, 8888, 9000, 9001, 9090, 9100, 9200, 9300, 9443, 10000,
	10250, 11211, 20000, 27017, 37215, 47808, 49152, 50000, 50070, 52869, 60001, 61616 };
#define GEN_N_COMMON (sizeof gen_common_ports / sizeof gen_common_ports[0])

static uint16_t gen_port_random(void)
{
	return gen_unit() < 0.6 ? gen_common_ports[gen_below(GEN_N_COMMON)] : (uint16_t)gen_range(1, 65535);
}

static const char *const gen_http_paths[] = {
	"/index.php?id=1%27%20UNION%20SELECT%201,2,concat(user(),0x3a,version())--%20-",
	"/products.php?cat=1%20AND%201=1%20OR%20%271%27=%271",
	"/search?q=%3Cscript%3Ealert(document.cookie)%3C/script%3E",
	"/comment?text=<script>alert(1)</script>",
	"/index.php?page=http://203.0.113.66/shell.txt?",
	"/cgi-bin/../../../../etc/passwd",
	"/.env",
	"/",
	"/wp-login.php",
	"/login.php?user=admin%27--&pass=x",
};
#define GEN_N_HTTP (sizeof gen_http_paths / sizeof gen_http_paths[0])

static uint8_t gen_plbuf[1400];

static uint16_t gen_http_payload(uint32_t dst, unsigned variant)
{
	int n = snprintf((char *)gen_plbuf, sizeof gen_plbuf,
	                 "GET %s HTTP/1.1\r\nHost: %u.%u.%u.%u\r\nUser-Agent: Mozilla/5.0 (Windows NT 10.0; Win64; x64)\r\n"
	                 "Accept: */*\r\nConnection: close\r\n\r\n",
	                 gen_http_paths[variant % GEN_N_HTTP], dst >> 24, (dst >> 16) & 255, (dst >> 8) & 255, dst & 255);
	return (uint16_t)n;
}

static uint16_t gen_sip_payload(uint32_t src, uint32_t dst, uint16_t sport)
{
	uint32_t tag = (uint32_t)gen_rand();
	int n = snprintf((char *)gen_plbuf, sizeof gen_plbuf,
	                 "OPTIONS sip:100@%u.%u.%u.%u SIP/2.0\r\n"
	                 "Via: SIP/2.0/UDP %u.%u.%u.%u:%u;branch=z9hG4bK-%08x;rport\r\n"
	                 "Max-Forwards: 70\r\nTo: \"sipvicious\"<sip:100@1.1.1.1>\r\n"
	                 "From: \"sipvicious\"<sip:100@1.1.1.1>;tag=%08x\r\n"
	                 "User-Agent: friendly-scanner\r\nCall-ID: %u\r\nContact: sip:100@%u.%u.%u.%u:%u\r\n"
	                 "CSeq: 1 OPTIONS\r\nAccept: application/sdp\r\nContent-Length: 0\r\n\r\n",
	                 dst >> 24, (dst >> 16) & 255, (dst >> 8) & 255, dst & 255,
	                 src >> 24, (src >> 16) & 255, (src >> 8) & 255, src & 255, sport, tag, tag ^ 0x5a5a,
	                 tag * 7u, src >> 24, (src >> 16) & 255, (src >> 8) & 255, src & 255, sport);
	return (uint16_t)n;
}

/* Fill the kind-specific fields of one packet from a single-source process. */
static void gen_shape(struct gen_proc *p, struct gen_src *s, struct gen_pkt *k, uint32_t dst)
{
	memset(k, 0, sizeof *k);
	k->src = s->addr;
	k->dst = dst;
	k->ttl = s->ttl;
	k->id = s->ip_id++;
	switch ((enum gen_kind)p->kind) {
	case GEN_K_BACKGROUND: {
		double u = gen_unit();
		k->df = gen_unit() < 0.5;
		if (u < 0.68) {
			k->proto = 6; k->flags = OBS_TCP_SYN; k->seq = (uint32_t)gen_rand();
			k->sport = (uint16_t)gen_range(1024, 65535);
			k->dport = p->mode ? p->port : gen_port_random();
			k->win = (uint16_t)(gen_unit() < 0.5 ? 65535 : 1024 * gen_range(1, 64));
			if (gen_unit() < 0.5) { k->opt = gen_opt_linux; k->optlen = sizeof gen_opt_linux; }
		} else if (u < 0.88) {
			k->proto = 17;
			k->sport = (uint16_t)gen_range(1024, 65535);
			k->dport = p->mode ? p->port : gen_port_random();
			k->pllen = (uint16_t)gen_below(65);
			for (unsigned i = 0; i < k->pllen; i++)
				gen_plbuf[i] = (uint8_t)gen_rand();
			k->pl = gen_plbuf;
		} else if (u < 0.97) {
			k->proto = 1; k->icmp_type = 8;
			k->icmp_rest = (uint32_t)gen_rand();
			k->pllen = (uint16_t)(8 * gen_range(0, 7));
			memset(gen_plbuf, 0x61, k->pllen);
			k->pl = gen_plbuf;
		} else {
			static const uint8_t other[] = { 47, 50, 41, 132, 103 };
			k->proto = other[gen_below(sizeof other)];
			k->pllen = (uint16_t)(k->proto == 41 ? 40 : gen_range(8, 64));
			for (unsigned i = 0; i < k->pllen; i++)
				gen_plbuf[i] = (uint8_t)gen_rand();
			if (k->proto == 41)
				gen_plbuf[0] = 0x60;
			k->pl = gen_plbuf;
		}
		break;
	}
	case GEN_K_BACKSCATTER:
		switch (p->mode) {
		case 0:   /* SYN-ACK from the attacked service */
			k->proto = 6; k->flags = OBS_TCP_SYN | OBS_TCP_ACK; k->df = true;
			k->sport = p->port; k->dport = (uint16_t)gen_range(1024, 65535);
			k->seq = (uint32_t)gen_rand(); k->ack = (uint32_t)gen_rand();
			k->win = 29200; k->opt = gen_opt_mss; k->optlen = 4;
			break;
		case 1:   /* RST / RST-ACK */
			k->proto = 6; k->flags = gen_unit() < 0.7 ? (OBS_TCP_RST | OBS_TCP_ACK) : OBS_TCP_RST;
			k->sport = p->port; k->dport = (uint16_t)gen_range(1024, 65535);
			k->seq = (uint32_t)gen_rand(); k->ack = (uint32_t)gen_rand();
			break;
		default: { /* ICMP unreachable / time exceeded quoting the spoofed packet */
			static const uint8_t codes[] = { 0, 1, 3, 3, 3, 13 };
			k->proto = 1;
			k->icmp_type = p->mode == 3 ? 11 : 3;
			k->icmp_code = p->mode == 3 ? 0 : codes[gen_below(sizeof codes)];
			uint8_t *in = gen_plbuf;
			uint32_t victim = s->addr ^ (uint32_t)gen_range(1, 255);
			gen_ipv4(in, dst, victim, 17, 28 + 32, (uint16_t)gen_rand(), (uint8_t)gen_range(40, 64), 0);
			gen_put16(in + 20, (uint16_t)gen_range(1024, 65535));
			gen_put16(in + 22, p->port);
			gen_put16(in + 24, 40);
			gen_put16(in + 26, (uint16_t)gen_rand());
			k->pl = in; k->pllen = 28;
			break;
		}
		}
		break;
	case GEN_K_MIRAI:
		/* Mirai scanner.c: raw SYN, no options, seq = daddr, random window and id. */
		k->proto = 6; k->flags = OBS_TCP_SYN;
		k->sport = (uint16_t)gen_range(1024, 65535);
		k->dport = p->mode ? p->port : (gen_unit() < 0.9 ? 23 : 2323);
		k->seq = dst; k->win = (uint16_t)gen_rand(); k->id = (uint16_t)gen_rand();
		break;
	case GEN_K_RESIP:
		if (gen_unit() < 0.85) {
			k->proto = 6; k->flags = OBS_TCP_SYN; k->df = true; k->seq = (uint32_t)gen_rand();
			k->sport = (uint16_t)gen_range(49152, 65535);
			k->dport = gen_unit() < 0.8 ? gen_common_ports[gen_below(GEN_N_COMMON)]
			                            : (uint16_t)gen_range(1, 65535);
			k->win = 64240; k->opt = gen_opt_linux; k->optlen = sizeof gen_opt_linux;
		} else {
			static const uint16_t up[] = { 53, 123, 161, 1900, 5060, 5353, 11211, 19 };
			k->proto = 17; k->sport = (uint16_t)gen_range(49152, 65535);
			k->dport = up[gen_below(sizeof up / sizeof up[0])];
			k->pllen = 16; memset(gen_plbuf, 0, 16); k->pl = gen_plbuf;
		}
		break;
	case GEN_K_PAYLOAD_HTTP:
		k->proto = 6; k->flags = 0x18; k->df = true;   /* PSH|ACK with the request */
		k->sport = (uint16_t)gen_range(32768, 60999); k->dport = p->port;
		k->seq = (uint32_t)gen_rand(); k->ack = (uint32_t)gen_rand(); k->win = 502;
		k->pllen = gen_http_payload(dst, p->mode + (unsigned)gen_below(3));
		k->pl = gen_plbuf;
		break;
	case GEN_K_PAYLOAD_SIP:
		k->proto = 17; k->sport = p->port; k->dport = 5060;
		k->pllen = gen_sip_payload(s->addr, dst, k->sport);
		k->pl = gen_plbuf;
		break;
	default:
		break;
	}
}

static inline unsigned gen_proto_idx(uint8_t proto)
{
	return proto == 6 ? OBX_P_TCP : proto == 17 ? OBX_P_UDP : proto == 1 ? OBX_P_ICMP : OBX_P_OTHER;
}

static const char *gen_resip_path;   /* --resip-table (RESIP table section below) */
static void gen_resip_log(uint64_t t, uint32_t addr, const struct gen_pkt *k);

/* Emit one accepted telescope packet of source s at time t. */
static void gen_emit_valid(uint64_t t, uint32_t si, const struct gen_pkt *k, unsigned sensor)
{
	uint8_t *f = gen_frame_slot();
	uint32_t len = gen_build(f, gen_vlan_pick(), sensor, k);
	gen_frame_commit(t, len);
	struct gen_src *s = &gen_src[si];
	s->packets++;
	s->bytes += len;
	if (t < s->first_ns)
		s->first_ns = t;
	if (t > s->last_ns)
		s->last_ns = t;
	s->sensor_mask |= 1ULL << sensor;
	gen_tot.tel_packets++;
	gen_tot.tel_bytes += len;
	gen_tot.proto[gen_proto_idx(k->proto)]++;
	gen_tot.kind_packets[s->kind]++;
	if (gen_resip_path)
		gen_resip_log(t, s->addr, k);
}

/* ------------------------------------------------------------------ malformed frames */

/* Families in the order of enum obx_drop: one frame with exactly one defect each. */
static uint32_t gen_malformed(uint8_t *f, unsigned fam, uint64_t j)
{
	unsigned sensor, nv = gen_below(10) == 0 ? 1 : 0;   /* some behind a VLAN tag */
	uint32_t dst = gen_tel_random(&sensor), src = 0;
	while (!gen_addr_public(src))
		src = (uint32_t)gen_rand();
	struct gen_pkt k = { .src = src, .dst = dst, .proto = 6, .ttl = 50, .id = (uint16_t)j,
		.flags = OBS_TCP_SYN, .sport = 40000, .dport = 80, .seq = 1, .win = 1024 };
	uint8_t *ip;
	uint32_t len;
	switch (fam) {
	case OBX_DROP_TRUNC_L2:
		if (j & 1) {                 /* ends inside the Ethernet header */
			gen_eth(f, 0, 0x0800, sensor);
			return (uint32_t)gen_range(1, 13);
		}
		gen_eth(f, 1, 0x0800, sensor);   /* ends inside the VLAN tag */
		return (uint32_t)gen_range(14, 17);
	case OBX_DROP_NOT_IPV4:
		switch (j % 3) {
		case 0:                      /* ARP who-has, padded */
			ip = gen_eth(f, nv, 0x0806, sensor);
			memcpy(ip, "\x00\x01\x08\x00\x06\x04\x00\x01", 8);
			memcpy(ip + 8, f + 6, 6); gen_put32(ip + 14, src);
			memset(ip + 18, 0, 6); gen_put32(ip + 24, dst);
			len = (uint32_t)(ip + 28 - f);
			break;
		case 1: {                    /* IPv6 TCP SYN */
			ip = gen_eth(f, nv, 0x86dd, sensor);
			memset(ip, 0, 60);
			ip[0] = 0x60; gen_put16(ip + 4, 20); ip[6] = 6; ip[7] = 57;
			ip[8] = 0x20; ip[9] = 0x01; ip[10] = 0x0d; ip[11] = 0xb8; gen_put32(ip + 20, src);
			ip[24] = 0x20; ip[25] = 0x01; ip[26] = 0x0d; ip[27] = 0xb8; gen_put32(ip + 36, dst);
			gen_put16(ip + 40, 40000); gen_put16(ip + 42, 22); ip[52] = 0x50; ip[53] = 0x02;
			len = (uint32_t)(ip + 60 - f);
			break;
		}
		default:                     /* LLDP */
			ip = gen_eth(f, 0, 0x88cc, sensor);
			memcpy(ip, "\x02\x07\x04\x00\x1b\x21\x3a\x4f\x90\x04\x03\x05\x65\x30\x06\x02\x00\x78\x00\x00", 20);
			len = (uint32_t)(ip + 20 - f);
			break;
		}
		return len < 60 ? (memset(f + len, 0, 60 - len), 60) : len;
	case OBX_DROP_VLAN_DEPTH:        /* three 802.1Q tags, then a valid packet */
		ip = gen_eth(f, 3, 0x0800, sensor);
		len = gen_build(ip - 14, 0, sensor, &k);   /* writes eth at ip-14: rewrite tags after */
		gen_eth(f, 3, 0x0800, sensor);
		return len + 12;
	case OBX_DROP_TRUNC_IP:          /* 1..19 bytes of a normal IPv4 header */
		ip = gen_eth(f, nv, 0x0800, sensor);
		gen_ipv4(ip, src, dst, 6, 40, (uint16_t)j, 50, 0);
		return (uint32_t)(ip - f) + (uint32_t)gen_range(1, 19);
	default:
		break;
	}
	/* The rest start from a complete valid frame and break one field. */
	if (fam == OBX_DROP_TRUNC_L4 || fam == OBX_DROP_BAD_L4) {
		static const uint8_t protos[] = { 6, 17, 1 };
		k.proto = protos[j % (fam == OBX_DROP_BAD_L4 ? 2 : 3)];
		k.icmp_type = 8;
	}
	if (fam == OBX_DROP_FRAGMENT && (j & 1)) {
		k.proto = 17; k.dport = 53; k.pllen = 40; memset(gen_plbuf, 0x41, 40); k.pl = gen_plbuf;
	}
	len = gen_build(f, nv, sensor, &k);
	ip = f + 14 + 4 * nv;
	uint8_t *l4 = ip + 20;
	switch (fam) {
	case OBX_DROP_BAD_VERSION: {
		static const uint8_t ver[] = { 6, 0, 5, 15 };
		ip[0] = (uint8_t)(ver[j % 4] << 4 | 5);
		break;
	}
	case OBX_DROP_BAD_IHL:
		ip[0] = (uint8_t)(0x40 | (j % 5));
		break;
	case OBX_DROP_BAD_TOTLEN:
		if (j & 1)
			gen_put16(ip + 2, (uint16_t)gen_range(0, 19));          /* < IHL*4 */
		else
			gen_put16(ip + 2, (uint16_t)gen_range(len - (uint32_t)(ip - f) + 1, 1500));  /* > present */
		break;
	case OBX_DROP_FRAGMENT:
		if ((j >> 1) % 3 == 0)
			gen_put16(ip + 6, 0x2000);                              /* first fragment, MF */
		else if ((j >> 1) % 3 == 1)
			gen_put16(ip + 6, (uint16_t)(0x2000 | gen_range(1, 180)));  /* middle */
		else
			gen_put16(ip + 6, (uint16_t)gen_range(1, 180));          /* last */
		break;
	case OBX_DROP_TRUNC_L4: {
		/* L4 header cut short in the datagram and in the frame (no padding to hide it). */
		unsigned keep = k.proto == 6 ? (unsigned)gen_range(0, 19) :
		                k.proto == 17 ? (unsigned)gen_range(0, 7) : (unsigned)gen_range(0, 3);
		gen_put16(ip + 2, (uint16_t)(20 + keep));
		len = (uint32_t)(l4 - f) + keep;
		break;
	}
	case OBX_DROP_BAD_L4:
		if (k.proto == 6) {
			/* data offset < 5, or pointing past the 20-byte segment */
			l4[12] = (uint8_t)(((j >> 1) & 1 ? gen_range(0, 4) : gen_range(6, 15)) << 4);
		} else {
			/* UDP length < 8, or longer than the datagram */
			gen_put16(l4 + 4, (uint16_t)((j >> 1) & 1 ? gen_range(0, 7) : gen_range(9, 1400)));
		}
		return len;   /* checksums are not what makes it bad; leave them */
	default:
		break;
	}
	gen_put16(ip + 10, 0);
	if ((ip[0] & 0x0f) >= 5)
		gen_put16(ip + 10, gen_csum_fold(gen_csum_add(0, ip, 20)));
	return len;
}

/* Valid, complete packet to an address outside every sensor. */
static uint32_t gen_not_telescope(uint8_t *f, uint64_t j, unsigned *proto_out)
{
	uint32_t dst, src;
	do {
		/* half near the telescope (same /16 as a prefix), half anywhere */
		dst = (j & 1) ? ((gen_pfx[gen_below(gen_n_pfx)].addr & 0xffff0000u) | (uint32_t)gen_below(65536))
		              : (uint32_t)gen_rand();
	} while (gen_tel_sensor(dst) >= 0 || (dst >> 28) >= 14 || !(dst >> 24));
	do
		src = (uint32_t)gen_rand();
	while (!gen_addr_public(src));
	struct gen_pkt k = { .src = src, .dst = dst, .ttl = 47, .id = (uint16_t)j };
	switch (j % 4) {
	case 0: case 1: k.proto = 6; k.flags = OBS_TCP_SYN; k.sport = 51000; k.dport = 445; k.win = 8192; break;
	case 2: k.proto = 17; k.sport = 5353; k.dport = 53; break;
	default: k.proto = 1; k.icmp_type = 8; break;
	}
	*proto_out = k.proto;
	return gen_build(f, gen_vlan_pick(), 0, &k);
}

/* ------------------------------------------------------------------ planning */

static uint64_t gen_budget_kind[6];

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

static void gen_plan_simple(void)
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

static void gen_months_build(void)
{
	int64_t y, y0;
	unsigned m, d, m0;
	gen_civil_from_days((int64_t)(gen_opt.start_ns / GEN_DAY_NS), &y, &m, &d);
	y0 = y;
	m0 = m;
	for (;;) {
		uint64_t ms = (uint64_t)gen_days_from_civil(y, m, 1) * GEN_DAY_NS;
		int64_t ny = m == 12 ? y + 1 : y;
		unsigned nm = m == 12 ? 1 : m + 1;
		uint64_t me = (uint64_t)gen_days_from_civil(ny, nm, 1) * GEN_DAY_NS;
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

static bool gen_port_in(const uint16_t *set, unsigned n, uint16_t p)
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

static void gen_plan_scanners(void)
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

static void gen_plan_malformed(uint64_t n)
{
	if (!n)
		return;
	struct gen_proc *p = gen_proc_new(GEN_K_MALFORMED);
	p->left = n;
	p->n_sess = (uint32_t)n;   /* frames in all; j counts them */
	p->t = gen_opt.start_ns + gen_below(gen_opt.span_ns / n + 1);
}

/* ------------------------------------------------------------------ the event loop */

static inline bool gen_before(uint32_t a, uint32_t b)
{
	const struct gen_proc *x = &gen_proc[a], *y = &gen_proc[b];
	return x->t < y->t || (x->t == y->t && x->id < y->id);
}

static uint32_t *gen_heap;
static uint32_t gen_heap_n;

static void gen_heap_down(uint32_t i)
{
	uint32_t v = gen_heap[i];
	for (;;) {
		uint32_t c = 2 * i + 1;
		if (c >= gen_heap_n)
			break;
		if (c + 1 < gen_heap_n && gen_before(gen_heap[c + 1], gen_heap[c]))
			c++;
		if (!gen_before(gen_heap[c], v))
			break;
		gen_heap[i] = gen_heap[c];
		i = c;
	}
	gen_heap[i] = v;
}

static void gen_heap_push(uint32_t v)
{
	uint32_t i = gen_heap_n++;
	while (i) {
		uint32_t par = (i - 1) / 2;
		if (!gen_before(v, gen_heap[par]))
			break;
		gen_heap[i] = gen_heap[par];
		i = par;
	}
	gen_heap[i] = v;
}

static int gen_cmp_start(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return gen_before(x, y) ? -1 : gen_before(y, x) ? 1 : 0;
}

/* Advance a session process after one packet; false when it is done. */
static bool gen_sess_next(struct gen_proc *p)
{
	if (!--p->left)
		return false;
	if (p->left_sess) {
		p->left_sess--;
		p->t += (uint64_t)gen_exp(p->gap_ns);
	} else {
		p->sess++;
		uint64_t plan = p->t0;
		if (p->n_sess > 1) {   /* session s starts in [s, s + 1/2) * life / k: all inside the lifetime */
			uint64_t step = p->life / p->n_sess;
			plan += step * p->sess + gen_below(step / 2 + 1);
		}
		if (plan > p->t)
			p->t = plan;
		p->left_sess = p->per_sess + (p->sess < p->extra_sess) - 1;
	}
	if (p->t >= gen_opt.end_ns)
		p->t = gen_opt.end_ns - 1;
	return true;
}

/* Emit the next packet of p at p->t; false when p is finished. */
static bool gen_step(struct gen_proc *p)
{
	struct gen_pkt k;
	unsigned sensor;
	uint32_t dst;
	switch ((enum gen_kind)p->kind) {
	case GEN_K_MALFORMED: {
		uint8_t *f = gen_frame_slot();
		unsigned fam = (unsigned)(p->j % OBX_DROP_N), proto;
		uint32_t len;
		if (fam == OBX_DROP_NOT_TELESCOPE)
			len = gen_not_telescope(f, p->j / OBX_DROP_N, &proto);
		else
			len = gen_malformed(f, fam, p->j / OBX_DROP_N);
		gen_frame_commit(p->t, len);
		gen_tot.drops[fam]++;
		p->j++;
		if (!--p->left)
			return false;
		/* even spread with jitter; never decreasing */
		uint64_t next = gen_opt.start_ns + (uint64_t)((unsigned __int128)gen_opt.span_ns * p->j / p->n_sess) +
		                gen_below(gen_opt.span_ns / p->n_sess + 1);
		if (next > p->t)
			p->t = next;
		if (p->t >= gen_opt.end_ns)
			p->t = gen_opt.end_ns - 1;
		return true;
	}
	case GEN_K_SCAN_ROUTINE: case GEN_K_SCAN_SEMI: case GEN_K_SCAN_ADHOC:
	case GEN_K_SCAN_NEAR: case GEN_K_SCAN_SMALL: {
		struct gen_scan *s = &gen_scans[p->src];
		struct gen_scan_period *pp = &s->periods[p->sess];
		uint64_t idx = (uint64_t)(((unsigned __int128)pp->mul * p->j + pp->add) % pp->n_pairs);
		uint32_t si = s->src0 + (uint32_t)(p->j % s->n_hosts);
		struct gen_src *src = &gen_src[si];
		dst = gen_tel_addr(idx % gen_tel_size, &sensor);
		memset(&k, 0, sizeof k);
		k.src = src->addr; k.dst = dst; k.proto = 6; k.flags = OBS_TCP_SYN;
		k.ttl = src->ttl; k.id = 54321;   /* ZMap's fixed IP id */
		k.sport = (uint16_t)(32768 + (src->ip_id & 0x3fff)); k.dport = pp->ports[idx / gen_tel_size];
		k.seq = (uint32_t)gen_rand(); k.win = s->win;
		if (s->syn_opt) { k.opt = gen_opt_mss; k.optlen = 4; }
		gen_emit_valid(p->t, si, &k, sensor);
		if (!--p->left)
			return false;
		if (++p->j == pp->count) {
			p->sess++;
			p->j = 0;
			pp = &s->periods[p->sess];
			if (pp->w0 > p->t)
				p->t = pp->w0;
		} else {
			uint64_t t = pp->w0 + (uint64_t)((unsigned __int128)pp->dur * p->j / pp->count);
			if (t > p->t)
				p->t = t;
		}
		return true;
	}
	default:
		break;
	}
	/* single-source kinds */
	struct gen_src *s = &gen_src[p->src];
	uint64_t prev_last = s->packets ? s->last_ns : 0;
	dst = gen_tel_random(&sensor);
	gen_shape(p, s, &k, dst);
	gen_emit_valid(p->t, p->src, &k, sensor);
	/* An out-of-order copy right behind it: see the file comment for why this shape. */
	if (gen_opt.backwards_share > 0 && p->left >= 3 && prev_last && p->t - prev_last >= 2 &&
	    gen_unit() < gen_opt.backwards_share) {
		uint64_t lo = prev_last + 1, span = p->t - lo;
		if (span > 10 * GEN_NS)
			lo = p->t - 10 * GEN_NS, span = 10 * GEN_NS;
		uint64_t tb = lo + gen_below(span);
		dst = gen_tel_random(&sensor);
		gen_shape(p, s, &k, dst);
		gen_emit_valid(tb, p->src, &k, sensor);
		gen_tot.time_backwards++;
		p->left--;
		/* keep the session bookkeeping consistent: B used one of this session's packets */
		if (p->left_sess)
			p->left_sess--;
	}
	return gen_sess_next(p);
}

static void gen_run(void)
{
	uint32_t *order = malloc((size_t)gen_n_proc * sizeof *order);
	gen_heap = malloc((size_t)gen_n_proc * sizeof *gen_heap);
	if (!order || !gen_heap) {
		fprintf(stderr, "obscura-gen: out of memory\n");
		exit(1);
	}
	for (uint32_t i = 0; i < gen_n_proc; i++)
		order[i] = i;
	qsort(order, gen_n_proc, sizeof *order, gen_cmp_start);
	uint32_t pi = 0;
	/* Processes wait in start order and join the heap when they start: the heap holds
	 * only the live ones, which keeps it small and the loop fast. */
	while (pi < gen_n_proc || gen_heap_n) {
		uint32_t cur;
		bool from_heap;
		if (gen_heap_n && (pi == gen_n_proc || gen_before(gen_heap[0], order[pi]))) {
			cur = gen_heap[0];
			from_heap = true;
		} else {
			cur = order[pi++];
			from_heap = false;
		}
		bool more = gen_step(&gen_proc[cur]);
		if (from_heap) {
			if (more) {
				gen_heap_down(0);
			} else {
				gen_heap[0] = gen_heap[--gen_heap_n];
				if (gen_heap_n)
					gen_heap_down(0);
			}
		} else if (more) {
			gen_heap_push(cur);
		}
	}
	free(order);
}

/* ------------------------------------------------------------------ truth */

static void gen_json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(f, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			fprintf(f, "\\u%04x", *s);
		else
			fputc(*s, f);
	}
	fputc('"', f);
}

static void gen_json_addr(FILE *f, uint32_t a)
{
	fprintf(f, "\"%u.%u.%u.%u\"", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);
}

static void gen_json_sensors(FILE *f, uint64_t mask)
{
	fputc('[', f);
	bool first = true;
	for (unsigned i = 0; i < gen_n_sensors; i++)
		if (mask & (1ULL << i)) {
			if (!first)
				fputc(',', f);
			gen_json_str(f, gen_sensor_name[i]);
			first = false;
		}
	fputc(']', f);
}

static int gen_cmp_src(const void *a, const void *b)
{
	const struct gen_src *x = a, *y = b;
	if (x->packets != y->packets)
		return x->packets > y->packets ? -1 : 1;
	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

/* SPEC.md A on the planned port sets (exact when coverage is 1 or far from alpha). */
static const char *gen_expected_class(const struct gen_scan *s)
{
	unsigned t[64], nt = 0;
	for (unsigned i = 0; i < s->n_periods && nt < 64; i++)
		if (s->periods[i].n_ports >= GEN_SCAN_N && s->periods[i].coverage >= GEN_SCAN_ALPHA)
			t[nt++] = i;
	if (nt < GEN_SCAN_M)
		return "none";
	double js[64 * 63 / 2], ss[64 * 63 / 2];
	unsigned np = 0;
	for (unsigned a = 0; a < nt; a++)
		for (unsigned b = a + 1; b < nt; b++) {
			const struct gen_scan_period *x = &s->periods[t[a]], *y = &s->periods[t[b]];
			unsigned inter = 0;
			for (unsigned i = 0; i < x->n_ports; i++)
				inter += gen_port_in(y->ports, y->n_ports, x->ports[i]);
			unsigned uni = x->n_ports + y->n_ports - inter;
			unsigned mn = x->n_ports < y->n_ports ? x->n_ports : y->n_ports;
			js[np] = (double)inter / uni;
			ss[np] = (double)inter / mn;
			np++;
		}
	/* medians (simple insertion sort: at most 2016 pairs) */
	for (unsigned i = 1; i < np; i++)
		for (unsigned j = i; j > 0 && js[j] < js[j - 1]; j--) { double x = js[j]; js[j] = js[j - 1]; js[j - 1] = x; }
	for (unsigned i = 1; i < np; i++)
		for (unsigned j = i; j > 0 && ss[j] < ss[j - 1]; j--) { double x = ss[j]; ss[j] = ss[j - 1]; ss[j - 1] = x; }
	double mj = np % 2 ? js[np / 2] : (js[np / 2 - 1] + js[np / 2]) / 2;
	double ms = np % 2 ? ss[np / 2] : (ss[np / 2 - 1] + ss[np / 2]) / 2;
	if (ms <= 0.7)
		return "ad-hoc";
	return mj > 0.8 ? "routine" : "semi-routine";
}

/* ------------------------------------------------------------------ RESIP table */
/*
 * --resip-table FILE: a RESIP table (CSV ip,provider,first_seen,last_seen, SPEC.md B) for
 * the resip sources, written after the traffic so windows can be placed around each
 * source's packets: about half of them fully inside one window, some with a window that
 * opens in the middle of their traffic (earlier packets are not RESIP traffic), some with
 * two providers whose windows leave a gap (date-only rows: whole UTC days), some whose
 * only window ended before their first packet, a few not listed; plus a few background
 * sources listed for their whole life, and listed addresses that never send.  Times are
 * epoch seconds (exact instants, both ends inclusive, as dataplane/resip_load.c reads
 * them) or dates (00:00:00 .. 23:59:59.999999999 UTC).  The truth's "resip" block applies
 * SPEC.md B1 to every accepted packet, with and without the window check.
 */
struct gen_rpkt { uint64_t t; uint32_t addr; uint8_t proto; uint16_t port; };
struct gen_rrow { uint32_t addr; uint8_t prov; int64_t first_ns, last_ns; };

static struct gen_rpkt *gen_rpkt;
static uint64_t gen_n_rpkt, gen_cap_rpkt;
static struct gen_rrow *gen_rrow;
static uint64_t gen_n_rrow, gen_cap_rrow;
static const char *const gen_prov_name[6] = { "ProxyAlpha", "BrightNet", "Oxylabs-like",
	"IPRoyal-like", "Smartproxy-like", "NetNut-like" };

static void gen_resip_log(uint64_t t, uint32_t addr, const struct gen_pkt *k)
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
static int gen_resip_write(const char *path)
{
	FILE *f = fopen(path, "w");
	if (!f) {
		fprintf(stderr, "obscura-gen: %s: %s\n", path, strerror(errno));
		return -1;
	}
	const int64_t S = (int64_t)GEN_NS, D = (int64_t)GEN_DAY_NS;
	fprintf(f, "ip,provider,first_seen,last_seen\n");
	for (uint64_t si = 0; si < gen_n_src; si++) {
		const struct gen_src *s = &gen_src[si];
		if (!s->packets || !gen_resip_listed(s, si))
			continue;
		int64_t a = (int64_t)s->first_ns, b = (int64_t)s->last_ns, mid = a + (b - a) / 2;
		unsigned p = (unsigned)gen_below(6), q = (p + 1 + (unsigned)gen_below(5)) % 6;
		unsigned r = s->kind == GEN_K_RESIP ? (unsigned)gen_below(100) : 0;
		char addr[16];
		snprintf(addr, sizeof addr, "%u.%u.%u.%u", s->addr >> 24, (s->addr >> 16) & 255,
		         (s->addr >> 8) & 255, s->addr & 255);
		if (r < 50) {                      /* whole life inside one window */
			int64_t f0 = a / S - 86400, l0 = b / S + 86400;
			fprintf(f, "%s,%s,%" PRId64 ",%" PRId64 "\n", addr, gen_prov_name[p], f0, l0);
			gen_rrow_add(s->addr, p, f0 * S, l0 * S);
			if (r < 5) {               /* an identical duplicate row (merged) */
				fprintf(f, "%s,%s,%" PRId64 ",%" PRId64 "\n", addr, gen_prov_name[p], f0, l0);
			}
		} else if (r < 70) {               /* window opens mid-traffic, on a whole second */
			int64_t f0 = mid / S, l0 = b / S + 3600;
			fprintf(f, "%s,%s,%" PRId64 ",%" PRId64 "\n", addr, gen_prov_name[p], f0, l0);
			gen_rrow_add(s->addr, p, f0 * S, l0 * S);
		} else if (r < 85) {               /* two providers, a gap between (dates) */
			int64_t l0 = mid / S;          /* p: up to mid (epoch seconds) */
			fprintf(f, "%s,%s,%" PRId64 ",%" PRId64 "\n", addr, gen_prov_name[p], a / S - 10, l0);
			gen_rrow_add(s->addr, p, (a / S - 10) * S, l0 * S);
			int64_t d0 = mid / D + 2, d1 = b / D + 1;   /* q: whole days from mid + 2 d */
			if (d0 > d1)
				d0 = d1;
			char b0[16], b1[16];
			time_t t0 = (time_t)(d0 * 86400), t1 = (time_t)(d1 * 86400);
			struct tm tm0, tm1;
			gmtime_r(&t0, &tm0);
			gmtime_r(&t1, &tm1);
			strftime(b0, sizeof b0, "%Y-%m-%d", &tm0);
			strftime(b1, sizeof b1, "%Y-%m-%d", &tm1);
			fprintf(f, "%s,%s,%s,%s\n", addr, gen_prov_name[q], b0, b1);
			gen_rrow_add(s->addr, q, d0 * D, d1 * D + D - 1);
		} else if (r < 95) {               /* expired before its first packet */
			int64_t l0 = a / S - 1, f0 = l0 - 10 * 86400;
			fprintf(f, "%s,%s,%" PRId64 ",%" PRId64 "\n", addr, gen_prov_name[p], f0, l0);
			gen_rrow_add(s->addr, p, f0 * S, l0 * S);
		}                                  /* else: not listed */
	}
	/* listed addresses that never send (TEST-NET-3, which the generator never uses) */
	for (unsigned i = 0; i < 50; i++)
		fprintf(f, "203.0.113.%u,%s,2020-01-01,2030-12-31\n", i + 1, gen_prov_name[i % 6]);
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
		time_t t0 = (time_t)(dy[i].a * 86400);
		struct tm tm;
		char b[16];
		gmtime_r(&t0, &tm);
		strftime(b, sizeof b, "%Y-%m-%d", &tm);
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

static void gen_resip_truth(FILE *f)
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

static int gen_write_truth(const char *path)
{
	FILE *f = fopen(path, "w");
	if (!f) {
		fprintf(stderr, "obscura-gen: %s: %s\n", path, strerror(errno));
		return -1;
	}
	static const char *const drop_names[] = OBX_DROP_NAMES;
	static const char *const proto_names[] = { "tcp", "udp", "icmp", "other" };
	char iso[64];
	gen_fmt_iso(gen_opt.start_ns, iso, sizeof iso);
	fprintf(f, "{\n\"params\": {\"generator\": \"obscura-gen " GEN_VERSION "\", \"seed\": %" PRIu64
	        ", \"packets\": %" PRIu64 ", \"start\": \"%s\", \"start_ns\": %" PRIu64 ", \"span_ns\": %" PRIu64
	        ", \"end_ns\": %" PRIu64 ",\n  \"mix\": {", gen_opt.seed, gen_opt.packets, iso,
	        gen_opt.start_ns, gen_opt.span_ns, gen_opt.end_ns);
	for (unsigned i = 0; i < 6; i++)
		fprintf(f, "%s\"%s\": %.6g", i ? ", " : "", gen_mix_name[i], gen_opt.mix[i]);
	fprintf(f, "}, \"malformed_share\": %.6g, \"backwards_share\": %.6g, \"vlan_share\": %.6g,\n  \"sensors\": [",
	        gen_opt.malformed_share, gen_opt.backwards_share, gen_opt.vlan_share);
	for (unsigned si = 0; si < gen_n_sensors; si++) {
		fprintf(f, "%s{\"name\": ", si ? ", " : "");
		gen_json_str(f, gen_sensor_name[si]);
		fprintf(f, ", \"prefixes\": [");
		bool first = true;
		for (unsigned i = 0; i < gen_n_pfx; i++)
			if (gen_pfx[i].sensor == si) {
				uint32_t a = gen_pfx[i].addr;
				fprintf(f, "%s\"%u.%u.%u.%u/%u\"", first ? "" : ", ", a >> 24, (a >> 16) & 255,
				        (a >> 8) & 255, a & 255, gen_pfx[i].len);
				first = false;
			}
		fprintf(f, "]}");
	}
	fprintf(f, "], \"telescope_size\": %" PRIu64 ", \"scan_alpha\": %.2f, \"scan_n\": %d, \"scan_m\": %d},\n",
	        gen_tel_size, GEN_SCAN_ALPHA, GEN_SCAN_N, GEN_SCAN_M);

	fprintf(f, "\"totals\": {\"rx_packets\": %" PRIu64 ", \"rx_bytes\": %" PRIu64 ", \"tel_packets\": %" PRIu64
	        ", \"tel_bytes\": %" PRIu64 ",\n  \"proto\": {", gen_tot.rx_packets, gen_tot.rx_bytes,
	        gen_tot.tel_packets, gen_tot.tel_bytes);
	for (unsigned i = 0; i < OBX_P_N; i++)
		fprintf(f, "%s\"%s\": %" PRIu64, i ? ", " : "", proto_names[i], gen_tot.proto[i]);
	fprintf(f, "},\n  \"drops\": {");
	for (unsigned i = 0; i < OBX_DROP_N; i++)
		fprintf(f, "%s\"%s\": %" PRIu64, i ? ", " : "", drop_names[i], gen_tot.drops[i]);
	fprintf(f, "},\n  \"time_backwards\": %" PRIu64 "},\n\"sensors\": [", gen_tot.time_backwards);
	for (unsigned i = 0; i < gen_n_sensors; i++) {
		if (i)
			fputs(", ", f);
		gen_json_str(f, gen_sensor_name[i]);
	}
	fprintf(f, "],\n\"kinds\": {");
	uint64_t kind_src[GEN_K_N] = { 0 };
	for (uint64_t i = 0; i < gen_n_src; i++)
		if (gen_src[i].packets)
			kind_src[gen_src[i].kind]++;
	for (unsigned i = 0; i < GEN_K_MALFORMED; i++)
		fprintf(f, "%s\"%s\": {\"sources\": %" PRIu64 ", \"packets\": %" PRIu64 "}", i ? ", " : "",
		        gen_kind_name[i], kind_src[i], gen_tot.kind_packets[i]);
	fprintf(f, "},\n\"scanner_blocks\": [");
	bool first_block = true;
	for (unsigned i = 0; i < gen_n_scans; i++) {
		const struct gen_scan *s = &gen_scans[i];
		if (!s->block)
			continue;
		fprintf(f, "%s\n  {\"block\": \"%u.%u.0.0/16\", \"kind\": \"%s\", \"variant\": \"%s\", \"hosts\": %u, "
		        "\"expected_class\": \"%s\", \"periods\": [", first_block ? "" : ",", s->block >> 24,
		        (s->block >> 16) & 255, gen_kind_name[s->kind], s->variant, s->n_hosts, gen_expected_class(s));
		first_block = false;
		for (unsigned j = 0; j < s->n_periods; j++) {
			const struct gen_scan_period *pp = &s->periods[j];
			const struct gen_month *mo = &gen_months[pp->month];
			fprintf(f, "%s\n    {\"month\": \"%04" PRId64 "-%02u\", \"start_ns\": %" PRIu64 ", \"end_ns\": %" PRIu64
			        ", \"coverage\": %.4f, \"packets\": %" PRIu64 ", \"ports\": [", j ? "," : "", mo->y, mo->m,
			        pp->w0, pp->w0 + pp->dur, pp->coverage, pp->count);
			for (unsigned q = 0; q < pp->n_ports; q++)
				fprintf(f, "%s%u", q ? ", " : "", pp->ports[q]);
			fprintf(f, "]}");
		}
		fprintf(f, "]}");
	}
	/* sources: only those with accepted packets (all of them, by construction) */
	uint64_t n = 0;
	for (uint64_t i = 0; i < gen_n_src; i++)
		if (gen_src[i].packets)
			gen_src[n++] = gen_src[i];
	qsort(gen_src, n, sizeof *gen_src, gen_cmp_src);
	uint64_t lim = gen_opt.truth_sources_max && gen_opt.truth_sources_max < n ? gen_opt.truth_sources_max : n;
	fprintf(f, "],\n\"sources_total\": %" PRIu64 ",\n\"sources\": [", n);
	for (uint64_t i = 0; i < lim; i++) {
		const struct gen_src *s = &gen_src[i];
		fprintf(f, "%s\n  {\"addr\": ", i ? "," : "");
		gen_json_addr(f, s->addr);
		fprintf(f, ", \"kind\": \"%s\", \"packets\": %" PRIu64 ", \"bytes\": %" PRIu64 ", \"first_ns\": %" PRIu64
		        ", \"last_ns\": %" PRIu64 ", \"sensors\": ", gen_kind_name[s->kind], s->packets, s->bytes,
		        s->first_ns, s->last_ns);
		gen_json_sensors(f, s->sensor_mask);
		fputc('}', f);
	}
	fprintf(f, "\n]");
	gen_resip_truth(f);   /* --resip-table */
	fprintf(f, "\n}\n");
	if (fclose(f)) {
		fprintf(stderr, "obscura-gen: %s: %s\n", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------------ main */

static void gen_usage(FILE *f)
{
	fprintf(f,
	        "usage: obscura-gen --out FILE.pcap [options]\n"
	        "  -o, --out FILE            pcap to write (nanosecond, Ethernet); '-' for stdout\n"
	        "  -t, --truth FILE          ground-truth JSON (format: bench/README.md)\n"
	        "  -n, --packets N           frames to write (default 10000)\n"
	        "  -s, --seed N              random seed (default 1)\n"
	        "      --sensor NAME=PFX[,PFX]  a telescope sensor (repeatable; default\n"
	        "                            east=198.18.0.0/20 west=198.18.16.0/20)\n"
	        "      --start ISO8601       first packet time (default 2024-01-01T00:00:00Z)\n"
	        "      --span DURATION       time covered: 30s 90m 12h 400d 2w (default 400d)\n"
	        "      --mix K=S[,K=S]       shares of background backscatter mirai scanner resip payload\n"
	        "                            (default background=0.30,backscatter=0.12,mirai=0.15,\n"
	        "                            scanner=0.33,resip=0.06,payload=0.04; normalised)\n"
	        "      --malformed-share X   share of frames that are malformed or not_telescope (0.01)\n"
	        "      --vlan-share X        share of valid frames with 1 (2/3) or 2 (1/3) VLAN tags (0.03)\n"
	        "      --backwards-share X   share of packets emitted out of time order (0)\n"
	        "      --truth-sources-max N cap the truth's sources list (totals stay exact)\n"
	        "      --resip-table FILE    write a RESIP table (CSV) for the resip sources; the\n"
	        "                            truth gets a \"resip\" block (SPEC.md B1 answers)\n"
	        "  -q, --quiet               no summary on stderr\n");
}

static int gen_parse_u64(const char *s, uint64_t *v)
{
	char *end;
	errno = 0;
	unsigned long long x = strtoull(s, &end, 10);
	if (errno || end == s || *end || *s == '-')
		return -1;
	*v = x;
	return 0;
}

static int gen_parse_share(const char *s, double *v)
{
	char *end;
	errno = 0;
	double x = strtod(s, &end);
	if (errno || end == s || *end || !(x >= 0) || x > 1)
		return -1;
	*v = x;
	return 0;
}

static int gen_parse_mix(const char *arg)
{
	char buf[512];
	snprintf(buf, sizeof buf, "%s", arg);
	for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(tok, '=');
		if (!eq)
			return -1;
		*eq = '\0';
		unsigned i;
		for (i = 0; i < 6 && strcmp(tok, gen_mix_name[i]); i++)
			;
		char *end;
		double x = strtod(eq + 1, &end);
		if (i == 6 || *end || !(x >= 0))
			return -1;
		gen_opt.mix[i] = x;
	}
	return 0;
}

int main(int argc, char **argv)
{
	enum { O_SENSOR = 256, O_START, O_SPAN, O_MIX, O_MAL, O_BACK, O_VLAN, O_TSMAX, O_RESIP };
	static const struct option longopts[] = {
		{ "out", required_argument, NULL, 'o' },
		{ "truth", required_argument, NULL, 't' },
		{ "packets", required_argument, NULL, 'n' },
		{ "seed", required_argument, NULL, 's' },
		{ "sensor", required_argument, NULL, O_SENSOR },
		{ "start", required_argument, NULL, O_START },
		{ "span", required_argument, NULL, O_SPAN },
		{ "mix", required_argument, NULL, O_MIX },
		{ "malformed-share", required_argument, NULL, O_MAL },
		{ "backwards-share", required_argument, NULL, O_BACK },
		{ "vlan-share", required_argument, NULL, O_VLAN },
		{ "truth-sources-max", required_argument, NULL, O_TSMAX },
		{ "resip-table", required_argument, NULL, O_RESIP },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	gen_opt.seed = 1;
	gen_opt.packets = 10000;
	gen_parse_iso("2024-01-01T00:00:00Z", &gen_opt.start_ns);
	gen_opt.span_ns = 400 * GEN_DAY_NS;
	const double mix_default[6] = { 0.30, 0.12, 0.15, 0.33, 0.06, 0.04 };
	memcpy(gen_opt.mix, mix_default, sizeof mix_default);
	gen_opt.malformed_share = 0.01;
	gen_opt.vlan_share = 0.03;
	bool mix_set = false;
	int c;
	while ((c = getopt_long(argc, argv, "o:t:n:s:qh", longopts, NULL)) != -1) {
		const char *bad = NULL;
		switch (c) {
		case 'o': gen_opt.out = optarg; break;
		case 't': gen_opt.truth = optarg; break;
		case 'n': if (gen_parse_u64(optarg, &gen_opt.packets) || !gen_opt.packets) bad = "--packets"; break;
		case 's': if (gen_parse_u64(optarg, &gen_opt.seed)) bad = "--seed"; break;
		case O_SENSOR: if (gen_add_sensor(optarg)) bad = "--sensor"; break;
		case O_START: if (gen_parse_iso(optarg, &gen_opt.start_ns)) bad = "--start"; break;
		case O_SPAN: if (gen_parse_duration(optarg, &gen_opt.span_ns)) bad = "--span"; break;
		case O_MIX:
			if (!mix_set)
				memset(gen_opt.mix, 0, sizeof gen_opt.mix);
			mix_set = true;
			if (gen_parse_mix(optarg)) bad = "--mix";
			break;
		case O_MAL: if (gen_parse_share(optarg, &gen_opt.malformed_share)) bad = "--malformed-share"; break;
		case O_BACK:
			if (gen_parse_share(optarg, &gen_opt.backwards_share) || gen_opt.backwards_share > 0.2)
				bad = "--backwards-share";
			break;
		case O_VLAN: if (gen_parse_share(optarg, &gen_opt.vlan_share)) bad = "--vlan-share"; break;
		case O_RESIP: gen_resip_path = optarg; break;
		case O_TSMAX: if (gen_parse_u64(optarg, &gen_opt.truth_sources_max)) bad = "--truth-sources-max"; break;
		case 'q': gen_opt.quiet = true; break;
		case 'h': gen_usage(stdout); return 0;
		default: gen_usage(stderr); return 2;
		}
		if (bad) {
			fprintf(stderr, "obscura-gen: %s: bad value '%s'\n", bad, optarg);
			return 2;
		}
	}
	if (optind != argc || !gen_opt.out) {
		gen_usage(stderr);
		return 2;
	}
	if (!gen_n_sensors) {
		gen_add_sensor("east=198.18.0.0/20");
		gen_add_sensor("west=198.18.16.0/20");
	}
	if (gen_tel_finish()) {
		fprintf(stderr, "obscura-gen: --sensor: prefixes overlap\n");
		return 2;
	}
	double msum = 0;
	for (unsigned i = 0; i < 6; i++)
		msum += gen_opt.mix[i];
	if (!(msum > 0)) {
		fprintf(stderr, "obscura-gen: --mix: all shares are zero\n");
		return 2;
	}
	gen_opt.end_ns = gen_opt.start_ns + gen_opt.span_ns;
	if (gen_opt.end_ns / GEN_NS > UINT32_MAX) {
		fprintf(stderr, "obscura-gen: times past 2106 do not fit a pcap record\n");
		return 2;
	}

	struct timespec t_a, t_b;
	clock_gettime(CLOCK_MONOTONIC, &t_a);
	gen_seed(gen_opt.seed);
	gen_months_build();

	/* Budgets: exact integers that sum to --packets. */
	uint64_t n_mal = (uint64_t)llround(gen_opt.malformed_share * (double)gen_opt.packets);
	if (gen_opt.malformed_share > 0 && n_mal < OBX_DROP_N && gen_opt.packets >= 10 * OBX_DROP_N)
		n_mal = OBX_DROP_N;   /* at least one frame per reason */
	uint64_t n_valid = gen_opt.packets - n_mal, given = 0;
	int last = -1;
	for (unsigned i = 0; i < 6; i++) {
		gen_budget_kind[i] = (uint64_t)((double)n_valid * gen_opt.mix[i] / msum);
		given += gen_budget_kind[i];
		if (gen_opt.mix[i] > 0)
			last = (int)i;
	}
	gen_budget_kind[last] += n_valid - given;

	gen_plan_scanners();   /* first: it reserves the scanner /16s */
	gen_plan_simple();
	gen_plan_malformed(n_mal);

	if (!strcmp(gen_opt.out, "-")) {
		gen_out = stdout;
	} else if (!(gen_out = fopen(gen_opt.out, "wb"))) {
		fprintf(stderr, "obscura-gen: %s: %s\n", gen_opt.out, strerror(errno));
		return 1;
	}
	gen_buf = malloc(GEN_OUTBUF);
	if (!gen_buf) {
		fprintf(stderr, "obscura-gen: out of memory\n");
		return 1;
	}
	/* pcap global header, nanosecond variant (magic a1b23c4d), LINKTYPE_ETHERNET */
	gen_put32le(gen_buf, 0xa1b23c4d);
	gen_buf[4] = 2; gen_buf[5] = 0; gen_buf[6] = 4; gen_buf[7] = 0;
	memset(gen_buf + 8, 0, 8);
	gen_put32le(gen_buf + 16, 65535);
	gen_put32le(gen_buf + 20, 1);
	gen_buf_pos = 24;

	gen_run();
	gen_flush();
	if (gen_out != stdout ? fclose(gen_out) : fflush(gen_out)) {
		fprintf(stderr, "obscura-gen: %s: %s\n", gen_opt.out, strerror(errno));
		return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &t_b);
	if (gen_tot.rx_packets != gen_opt.packets) {   /* a planning bug, never the user's */
		fprintf(stderr, "obscura-gen: internal error: wrote %" PRIu64 " frames, planned %" PRIu64 "\n",
		        gen_tot.rx_packets, gen_opt.packets);
		return 1;
	}
	double secs = (double)(t_b.tv_sec - t_a.tv_sec) + (double)(t_b.tv_nsec - t_a.tv_nsec) / 1e9;
	uint64_t n_sources = gen_n_src;
	if (gen_resip_path && gen_resip_write(gen_resip_path))
		return 1;
	if (gen_opt.truth && gen_write_truth(gen_opt.truth))
		return 1;
	if (!gen_opt.quiet)
		fprintf(stderr, "obscura-gen: %" PRIu64 " frames (%" PRIu64 " telescope, %" PRIu64 " dropped), %" PRIu64
		        " sources, %u scanner blocks, %.2f s, %.0f frames/s\n", gen_tot.rx_packets, gen_tot.tel_packets,
		        gen_tot.rx_packets - gen_tot.tel_packets, n_sources, gen_n_scans, secs,
		        secs > 0 ? (double)gen_tot.rx_packets / secs : 0.0);
	return 0;
}
