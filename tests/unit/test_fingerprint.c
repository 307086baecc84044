/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_fingerprint.c — the fingerprint file (dataplane/common/fingerprint.h) and the
 * worker's fingerprint inputs (dataplane/fp_probe.h): every shipped rule on a frame
 * built the way its tool builds its SYN, the frames no rule may take, the option
 * parser on malformed areas, and the file refusals.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "dataplane/fp_probe.h"
#include "fpsig.h"
#include "../fixtures/test_main.h"

static struct obs_fp_set *shipped(void)
{
	char path[1024], err[512];
	const char *root = getenv("OBS_SRCDIR");
	struct obs_fp_set *s;

	snprintf(path, sizeof(path), "%s/conf/fingerprints.txt", root ? root : ".");
	s = obs_fp_load(path, err, sizeof(err));
	if (s == NULL)
		fail_msg("%s", err);
	return s;
}

/* An Ethernet/IPv4/TCP SYN with the given fields and option bytes; its length. */
struct syn {
	uint32_t src, dst, seq;
	uint16_t sport, dport, ip_id, win;
	uint8_t ttl, flags;
	const uint8_t *opt;
	unsigned opt_len;           /* a multiple of 4 */
};

static unsigned build(uint8_t *f, const struct syn *s)
{
	unsigned thl = 20 + s->opt_len, tot = 20 + thl;
	uint8_t *ip = f + 14, *t = ip + 20;

	memset(f, 0, 14 + tot);
	f[12] = 0x08;
	ip[0] = 0x45;
	ip[2] = (uint8_t)(tot >> 8);
	ip[3] = (uint8_t)tot;
	ip[4] = (uint8_t)(s->ip_id >> 8);
	ip[5] = (uint8_t)s->ip_id;
	ip[8] = s->ttl;
	ip[9] = 6;
	for (int i = 0; i < 4; i++) {
		ip[12 + i] = (uint8_t)(s->src >> (24 - 8 * i));
		ip[16 + i] = (uint8_t)(s->dst >> (24 - 8 * i));
		t[4 + i] = (uint8_t)(s->seq >> (24 - 8 * i));
	}
	t[0] = (uint8_t)(s->sport >> 8);
	t[1] = (uint8_t)s->sport;
	t[2] = (uint8_t)(s->dport >> 8);
	t[3] = (uint8_t)s->dport;
	t[12] = (uint8_t)((thl / 4) << 4);
	t[13] = s->flags ? s->flags : 0x02;
	t[14] = (uint8_t)(s->win >> 8);
	t[15] = (uint8_t)s->win;
	if (s->opt_len != 0)   /* no options: opt may be NULL */
		memcpy(t + 20, s->opt, s->opt_len);
	return 14 + tot;
}

static const char *label_of(const struct obs_fp_set *fs, const struct syn *s, unsigned cut)
{
	static char buf[32];
	uint8_t f[128];
	struct obs_pkt_meta m;
	unsigned n = build(f, s);

	assert_int_equal(obs_parse_snap(f, cut ? cut : n, n, &m), -1);
	return obs_fp_name(fs, obs_fp_label(fs, f, cut ? cut : n, &m), buf, sizeof(buf));
}

static const uint8_t O_MSS[] = { 2, 4, 0x05, 0xb4 };
static const uint8_t O_ZMAP_WIN[] = { 2, 4, 0x05, 0xb4, 1, 3, 3, 8, 1, 1, 4, 2 };
static const uint8_t O_ZMAP_LNX[] = { 2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0,
                                      1, 3, 3, 7 };
static const uint8_t O_ZMAP_BSD[] = { 2, 4, 0x05, 0xb4, 1, 3, 3, 6, 1, 1, 8, 10, 0, 0, 0, 1,
                                      0, 0, 0, 0, 4, 2, 0, 0 };
static const uint8_t O_LINUX[] = { 2, 4, 0x05, 0xb4, 4, 2, 8, 10, 1, 2, 3, 4, 0, 0, 0, 0,
                                   1, 3, 3, 7 };

static void test_zmap(void **st)
{
	struct obs_fp_set *fs = shipped();
	struct syn s = { 0x0a000001, 0xc0000201, 0x12345678, 40000, 80, 54321, 65535, 255, 0,
	                 O_MSS, sizeof(O_MSS) };

	(void)st;
	assert_string_equal(label_of(fs, &s, 0), "zmap");
	s.opt = NULL;                           /* 2.x: no option at all */
	s.opt_len = 0;
	assert_string_equal(label_of(fs, &s, 0), "zmap-2");
	s.opt = O_MSS;
	s.opt_len = sizeof(O_MSS);
	s.opt = O_ZMAP_WIN;
	s.opt_len = sizeof(O_ZMAP_WIN);
	assert_string_equal(label_of(fs, &s, 0), "zmap-4.1");
	s.opt = O_ZMAP_LNX;
	s.opt_len = sizeof(O_ZMAP_LNX);
	assert_string_equal(label_of(fs, &s, 0), "zmap-4.1");
	s.opt = O_ZMAP_BSD;
	s.opt_len = sizeof(O_ZMAP_BSD);
	assert_string_equal(label_of(fs, &s, 0), "zmap-4.1");
	s.ip_id = 54322;                        /* not ZMap's IP ID: nothing */
	assert_string_equal(label_of(fs, &s, 0), "none");
	s.ip_id = 54321;
	s.win = 65534;
	assert_string_equal(label_of(fs, &s, 0), "none");
	obs_fp_free(fs);
}

static void test_masscan(void **st)
{
	struct obs_fp_set *fs = shipped();
	struct syn s = { 0x0a000001, 0xc0000201, 0xdeadbeef, 61000, 443, 0, 1024, 255, 0,
	                 NULL, 0 };

	(void)st;
	s.ip_id = (uint16_t)((s.dst ^ s.dport ^ s.seq) & 0xffff);
	assert_string_equal(label_of(fs, &s, 0), "masscan");
	s.ip_id ^= 1;                           /* formula broken by one bit */
	assert_string_equal(label_of(fs, &s, 0), "none");
	s.ip_id ^= 1;
	s.win = 1025;                           /* the git template: window 1025 and MSS */
	assert_string_equal(label_of(fs, &s, 0), "none");
	s.opt = O_MSS;
	s.opt_len = sizeof(O_MSS);
	assert_string_equal(label_of(fs, &s, 0), "masscan-git");
	obs_fp_free(fs);
}

static void test_nmap_hping_mirai(void **st)
{
	struct obs_fp_set *fs = shipped();
	struct syn s = { 0x0a000001, 0xc0000201, 0x01020304, 52000, 22, 4711, 1024, 44, 0,
	                 O_MSS, sizeof(O_MSS) };
	const uint16_t other[] = { 2048, 3072, 4096, 5120 };

	(void)st;
	assert_string_equal(label_of(fs, &s, 0), "nmap-syn");   /* nmap.h, tcpip.cc: 1024 */
	for (unsigned i = 0; i < 4; i++) {
		s.win = other[i];
		assert_string_equal(label_of(fs, &s, 0), "none");
	}
	s.win = 512;                            /* hping3: window 512, no option */
	s.opt = NULL;
	s.opt_len = 0;
	assert_string_equal(label_of(fs, &s, 0), "hping3");
	s.win = 64;
	assert_string_equal(label_of(fs, &s, 0), "none");
	s.win = 29200;
	s.seq = s.dst;                          /* Mirai: seq = destination */
	assert_string_equal(label_of(fs, &s, 0), "mirai");
	s.seq = s.dst + 1;
	assert_string_equal(label_of(fs, &s, 0), "none");
	/* an ordinary Linux SYN is no tool */
	s.win = 64240;
	s.ttl = 64;
	s.opt = O_LINUX;
	s.opt_len = sizeof(O_LINUX);
	assert_string_equal(label_of(fs, &s, 0), "none");
	obs_fp_free(fs);
}

/* A capture cut inside the option area: the options read as malformed, so no opts= rule
 * holds (ZMap's window and IP ID alone do not label it). */
static void test_short_capture(void **st)
{
	struct obs_fp_set *fs = shipped();
	struct syn s = { 0x0a000001, 0xc0000201, 0x12345678, 40000, 80, 54321, 65535, 255, 0,
	                 O_ZMAP_WIN, sizeof(O_ZMAP_WIN) };

	(void)st;
	assert_string_equal(label_of(fs, &s, 14 + 20 + 20 + 6), "none");
	assert_string_equal(label_of(fs, &s, 0), "zmap-4.1");
	obs_fp_free(fs);
}

static void test_options(void **st)
{
	struct obs_fp_probe p;
	const uint8_t bad_len[] = { 2, 1, 5, 0xb4 };         /* length < 2 */
	const uint8_t past[] = { 1, 1, 2, 8, 5, 0xb4 };      /* length runs past the area */
	const uint8_t eol[] = { 2, 4, 5, 0xb4, 0, 9, 9, 9 }; /* bytes after EOL ignored */
	const uint8_t nops[16] = { 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1 };

	(void)st;
	obs_fp_options(bad_len, sizeof(bad_len), &p);
	assert_true(p.opt_bad);
	obs_fp_options(past, sizeof(past), &p);
	assert_true(p.opt_bad);
	obs_fp_options(eol, sizeof(eol), &p);
	assert_false(p.opt_bad);
	assert_int_equal(p.n_opt, 1);
	assert_true(p.has_mss);
	assert_int_equal(p.mss, 1460);
	obs_fp_options(nops, sizeof(nops), &p);   /* 16 kinds: well formed, all kept */
	assert_false(p.opt_bad);
	assert_int_equal(p.n_opt, 16);
	obs_fp_options(O_ZMAP_WIN, sizeof(O_ZMAP_WIN), &p);
	assert_false(p.opt_bad);
	assert_int_equal(p.n_opt, 6);
	assert_true(p.has_ws);
	assert_int_equal(p.ws, 8);
}

static void refused(const char *text, const char *why)
{
	char err[512];
	struct obs_fp_set *s = obs_fp_parse(text, "t", err, sizeof(err));

	if (s != NULL)
		fail_msg("accepted: %s", text);
	if (strstr(err, why) == NULL)
		fail_msg("error '%s' lacks '%s'", err, why);
}

static void test_bad_files(void **st)
{
	char err[512];
	struct obs_fp_set *s;

	(void)st;
	refused("", "no version line");
	refused("# only a comment\n", "no version line");
	refused("version 1\n", "no fingerprint rule");
	refused("version 2\nfp 1 a all win=1 | x\n", "unsupported format version");
	refused("fp 1 a all win=1 | x\n", "before the version line");
	refused("version 1\nfp 1 a all win=1\n", "t:2: no '|'");
	refused("version 1\nfp 1 a all win=1 |   \n", "empty source citation");
	refused("version 1\nfp 0 a all win=1 | x\n", "label id must be 1..63");
	refused("version 1\nfp 64 a all win=1 | x\n", "label id must be 1..63");
	refused("version 1\nfp 1 A all win=1 | x\n", "tool name");
	refused("version 1\nfp 1 a all | x\n", "at least one test");
	refused("version 1\nfp 1 a all win=70000 | x\n", "win=");
	refused("version 1\nfp 1 a all win=1,2,3,4,5,6,7,8,9 | x\n", "win=");
	refused("version 1\nfp 1 a all opts=2,0 | x\n", "EOL");
	refused("version 1\nfp 1 a all colour=red | x\n", "unknown test");
	refused("version 1\nfp 1 a all ipid=x | x\n", "ipid=");
	refused("version 1\nfp 1 a all win=1 | x\nfp 1 b all win=2 | y\n",
	        "t:3: label id already used");
	refused("version 1\nrule 1 a all win=1 | x\n", "unknown keyword");
	refused("version 1\nversion 1\n", "second version line");
	/* a good one: comments, CRLF, two rules of one id and name */
	s = obs_fp_parse("# c\r\nversion 1\r\n\r\nfp 9 t ok win=1 | a # b\r\n"
	                 "fp 9 t ok win=2 ttl<=64 | c\r\n", "t", err, sizeof(err));
	if (s == NULL)
		fail_msg("%s", err);
	assert_int_equal(s->n, 2);
	assert_string_equal(s->rule[0].cite, "a # b");
	obs_fp_free(s);
	assert_null(obs_fp_load("/nonexistent/fp.txt", err, sizeof(err)));
	assert_non_null(strstr(err, "No such file"));
}


/* fingerprint signatures: the JA4T-style string of hand-built SYN option areas */
static void sig_of(const uint8_t *opt, uint32_t len, uint16_t win, const char *want)
{
	struct obs_fp_probe p;
	struct obx_fpsig_key k, back;
	char buf[OBS_FPSIG_STR_LEN];

	memset(&p, 0, sizeof(p));
	p.win = win;
	obs_fp_options(opt, len, &p);
	obs_fpsig_key_of(&p, &k);
	assert_string_equal(obs_fpsig_str(&k, buf, sizeof(buf)), want);
	if (!(k.flags & OBX_FPSIG_F_BAD)) {       /* the string names the key exactly */
		assert_int_equal(obs_fpsig_parse(want, &back), 0);
		assert_memory_equal(&back, &k, sizeof(k));
		assert_int_equal(obx_fpsig_hash(&back), obx_fpsig_hash(&k));
	}
}

static void test_signatures(void **st)
{
	static const uint8_t nmap[] = { 2, 4, 5, 0xb4 };
	static const uint8_t linux_[] = { 2, 4, 5, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0,
	                                  1, 3, 3, 7 };
	static const uint8_t macos[] = { 2, 4, 5, 0xb4, 1, 3, 3, 6, 1, 1, 8, 10, 0, 0, 0, 1,
	                                 0, 0, 0, 0, 4, 2, 0, 0 };
	static const uint8_t bad[] = { 2, 4, 5, 0xb4, 3, 9 };
	static const uint8_t ws0[] = { 3, 3, 0, 0 };
	struct obx_fpsig_key k;
	struct obs_fp_set *s;
	struct obs_fp_probe p;
	char err[256];
	uint8_t hll[OBX_FPSIG_HLL] = { 0 };
	double e;

	(void)st;
	sig_of(nmap, sizeof(nmap), 1024, "1024_2_1460_00");            /* Nmap -sS */
	sig_of(NULL, 0, 65535, "65535_00_00_00");                      /* ZMap 2.x */
	sig_of(linux_, sizeof(linux_), 64240, "64240_2-4-8-1-3_1460_7");  /* Linux 6.x */
	sig_of(macos, sizeof(macos), 65535, "65535_2-1-3-1-1-8-4-0-0_1460_6");   /* macOS */
	sig_of(ws0, sizeof(ws0), 512, "512_3-0_00_0");        /* a scale of 0 is not absent */
	sig_of(bad, sizeof(bad), 1, "1_2-3_1460_00_bad");
	/* refused strings */
	assert_int_equal(obs_fpsig_parse("1024_2_1460", &k), -1);
	assert_int_equal(obs_fpsig_parse("65536_00_00_00", &k), -1);
	assert_int_equal(obs_fpsig_parse("1024_0-2_1460_00", &k), -1);   /* kind after EOL */
	assert_int_equal(obs_fpsig_parse("1024__1460_00", &k), -1);
	assert_int_equal(obs_fpsig_parse("1024_2_1460_00x", &k), -1);
	assert_int_equal(obs_fpsig_parse("x_2_1460_00", &k), -1);
	/* a sig= rule names a shape as a tool; a near miss (other window) is not it */
	s = obs_fp_parse("version 1\nfp 9 osx all sig=65535_2-1-3-1-1-8-4-0-0_1460_6 | t\n",
	                 "t", err, sizeof(err));
	assert_non_null(s);
	memset(&p, 0, sizeof(p));
	p.win = 65535;
	obs_fp_options(macos, sizeof(macos), &p);
	assert_int_equal(obs_fp_match(s, &p), 9);
	p.win = 65534;
	assert_int_equal(obs_fp_match(s, &p), 0);
	p.win = 65535;
	obs_fp_options(macos, sizeof(macos) - 1, &p);   /* one EOL byte less */
	assert_int_equal(obs_fp_match(s, &p), 0);
	obs_fp_free(s);
	assert_null(obs_fp_parse("version 1\nfp 9 x all sig=1024_2 | t\n", "t", err,
	                         sizeof(err)));
	/* the source estimate: exact-ish for a few, within 30 % for 10 000 */
	assert_true(obs_fpsig_hll_estimate(hll) < 0.5);
	for (uint32_t a = 1; a <= 3; a++)
		obx_fpsig_hll_add(hll, 0x0a000000u + a);
	e = obs_fpsig_hll_estimate(hll);
	assert_true(e > 2.5 && e < 3.5);
	for (uint32_t a = 0; a < 10000; a++)
		obx_fpsig_hll_add(hll, 0xc0000000u + a * 7919u);
	e = obs_fpsig_hll_estimate(hll);
	assert_true(e > 7000 && e < 13000);
}

#define TESTS(T) T(test_zmap) T(test_masscan) T(test_nmap_hping_mirai) T(test_short_capture) \
	T(test_options) T(test_bad_files) T(test_signatures)
OBS_TEST_MAIN(TESTS, NULL, NULL)
