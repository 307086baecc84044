/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cli.c — obscura-gen's command line and main() (gen.h; usage in bench/README.md).
 *
 * Parses and checks every option before anything is generated (a bad value exits 2
 * naming the option), turns --packets and --mix into exact per-kind budgets, then runs
 * the program's one pass: plan (plan.c), emit (run.c), RESIP table (resip.c), truth
 * (truth.c).  Also the time syntax of the options (ISO 8601 instants, durations; civil
 * dates by dataplane/period.h) and the random stream's seeding.  Main thread only.
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

#include "gen.h"

struct gen_opts gen_opt;
const char *const gen_mix_name[6] = { "background", "backscatter", "mirai", "scanner",
	"resip", "payload" };
uint64_t gen_budget_kind[6];
const char *gen_resip_path;

/* xoshiro256** state (gen.h), seeded once by main(). */
uint64_t gen_rs[4];

void gen_seed(uint64_t seed)
{
	for (int i = 0; i < 4; i++) {   /* splitmix64, as the xoshiro authors advise */
		uint64_t z = (seed += 0x9e3779b97f4a7c15ULL);
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
		z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
		gen_rs[i] = z ^ (z >> 31);
	}
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
	int64_t t = obs_days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 + se - off;
	if (t < 0)
		return -1;
	*out = (uint64_t)t * GEN_NS + frac;
	return 0;
}

void gen_fmt_iso(uint64_t ns, char *buf, size_t len)
{
	int64_t s = (int64_t)(ns / GEN_NS), y;
	unsigned m, d;
	obs_civil_from_days(s / 86400, &y, &m, &d);
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
	const char *why;
	if (gen_tel_finish(&why)) {
		fprintf(stderr, "obscura-gen: --sensor: %s\n", why);
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

	if (gen_pcap_open())
		return 1;
	gen_run();
	if (gen_pcap_close())
		return 1;
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
