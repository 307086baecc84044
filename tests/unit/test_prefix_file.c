/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_prefix_file.c — the labelled prefix list loader: good lines (labels, comments,
 * CRLF, bare addresses), every rejection reason with its line number, IPv6 skipped,
 * unreadable files, and the shipped conf/scanner-ips.txt loading clean.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "dataplane/common/prefix_file.h"
#include "../fixtures/test_main.h"

#define IP(a, b, c, d) (((uint32_t)(a) << 24) | ((uint32_t)(b) << 16) | ((uint32_t)(c) << 8) | (d))

static void test_good(void **state)
{
	static const char f[] =
		"# header comment\n"
		"\n"
		"192.0.2.0/24 censys\n"
		"198.51.100.7\tshodan  # trailing comment\r\n"
		"   203.0.113.0/25   Rapid7 Project Sonar  \n"
		"10.0.0.0/8\n"
		"0.0.0.0/0 everything\n"
		"192.0.2.128/25 censys\n"
		"203.0.113.128/32#nolabel";
	struct obs_pfx_list l;

	(void)state;
	assert_int_equal(obs_pfx_parse(f, sizeof(f) - 1, &l), 0);
	assert_int_equal(l.n_lines, 9);
	assert_int_equal(l.n, 7);
	assert_int_equal(l.n_rejected, 0);
	assert_int_equal(l.n_skipped, 0);
	assert_int_equal(l.pfx[0].addr, IP(192, 0, 2, 0));
	assert_int_equal(l.pfx[0].len, 24);
	assert_int_equal(l.pfx[0].line, 3);
	assert_string_equal(obs_pfx_label(&l, &l.pfx[0]), "censys");
	assert_int_equal(l.pfx[1].addr, IP(198, 51, 100, 7));
	assert_int_equal(l.pfx[1].len, 32);
	assert_string_equal(obs_pfx_label(&l, &l.pfx[1]), "shodan");
	assert_string_equal(obs_pfx_label(&l, &l.pfx[2]), "Rapid7 Project Sonar");
	assert_int_equal(l.pfx[3].label, OBS_PFX_NO_LABEL);
	assert_string_equal(obs_pfx_label(&l, &l.pfx[3]), "");
	assert_int_equal(l.pfx[4].len, 0);
	assert_int_equal(l.pfx[5].label, l.pfx[0].label);     /* labels deduplicated */
	assert_int_equal(l.n_labels, 4);
	assert_int_equal(l.pfx[6].addr, IP(203, 0, 113, 128));
	assert_int_equal(l.pfx[6].label, OBS_PFX_NO_LABEL);
	obs_pfx_list_free(&l);
}

static void test_bad_lines(void **state)
{
	static const char f[] =
		"192.0.2.1/24 hostbits\n"          /* 1 host bits */
		"2001:db8::/32 v6\n"               /* 2 skipped */
		"256.0.0.0/8\n"                    /* 3 octet */
		"1.2.3/24\n"                       /* 4 not IPv4 */
		"1.2.3.4/33\n"                     /* 5 len */
		"1.2.3.4/\n"                       /* 6 missing len */
		"1.2.3.4/24x\n"                    /* 7 trailing */
		"censys 1.2.3.0/24\n"              /* 8 not an address */
		"1.2.3.0/24 ok\n"                  /* 9 good */
		"1.2.3.0/24 aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n" /* 10 */
		"::ffff:1.2.3.4\n"                 /* 11 skipped */
		"1.2.3.4/0100\n"                   /* 12 len digits */
		"-1.2.3.4\n";                      /* 13 */
	static const unsigned bad_lines[] = { 1, 2, 3, 4, 5, 6, 7, 8, 10, 11, 12, 13 };
	struct obs_pfx_list l;

	(void)state;
	assert_int_equal(obs_pfx_parse(f, sizeof(f) - 1, &l), 0);
	assert_int_equal(l.n, 1);
	assert_int_equal(l.pfx[0].line, 9);
	assert_int_equal(l.n_skipped, 2);
	assert_int_equal(l.n_rejected, 10);
	assert_int_equal(l.n_rej, 12);
	for (unsigned i = 0; i < 12; i++) {
		assert_int_equal(l.rej[i].line, bad_lines[i]);
		assert_non_null(l.rej[i].reason);
	}
	assert_string_equal(l.rej[0].reason, "host bits set");
	assert_string_equal(l.rej[1].reason, "IPv6 prefix skipped");
	assert_string_equal(l.rej[2].reason, "address octet above 255");
	assert_string_equal(l.rej[4].reason, "prefix length above 32");
	assert_string_equal(l.rej[8].reason, "label longer than 63 bytes");
	obs_pfx_list_free(&l);

	/* a NUL inside a line, and only rejects: loads, nothing accepted */
	static const char g[] = "1.2.3.0/24\0 x\n1.1.1.1/31\n";
	assert_int_equal(obs_pfx_parse(g, sizeof(g) - 1, &l), 0);
	assert_int_equal(l.n, 0);
	assert_int_equal(l.n_rejected, 2);
	assert_string_equal(l.rej[0].reason, "NUL byte in line");
	obs_pfx_list_free(&l);

	/* many bad lines: all counted, the report keeps the first OBS_PFX_MAX_REPORT */
	char big[200 * 8];
	size_t n = 0;
	for (int i = 0; i < 200; i++)
		n += (size_t)snprintf(big + n, sizeof(big) - n, "x.y.z\n");
	assert_int_equal(obs_pfx_parse(big, n, &l), 0);
	assert_int_equal(l.n_rejected, 200);
	assert_int_equal(l.n_rej, OBS_PFX_MAX_REPORT);
	obs_pfx_list_free(&l);

	/* empty input */
	assert_int_equal(obs_pfx_parse("", 0, &l), 0);
	assert_int_equal(l.n, 0);
	assert_int_equal(l.n_lines, 0);
	obs_pfx_list_free(&l);
}

static void test_files(void **state)
{
	struct obs_pfx_list l;
	char err[256], path[4096];
	const char *src = getenv("OBS_SRCDIR");

	(void)state;
	assert_int_equal(obs_pfx_load("/nonexistent/scanner.txt", &l, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "/nonexistent/scanner.txt"));
	assert_int_equal(obs_pfx_load("/", &l, err, sizeof(err)), -EISDIR);

	snprintf(path, sizeof(path), "%s/conf/scanner-ips.txt", src ? src : ".");
	assert_int_equal(obs_pfx_load(path, &l, err, sizeof(err)), 0);
	assert_true(l.n >= 300);
	assert_int_equal(l.n_rejected, 0);
	assert_int_equal(l.n_skipped, 0);
	for (size_t i = 0; i < l.n; i++)
		assert_int_not_equal(l.pfx[i].label, OBS_PFX_NO_LABEL);
	obs_pfx_list_free(&l);
}

#define TESTS(T) T(test_good) T(test_bad_lines) T(test_files)
OBS_TEST_MAIN(TESTS, NULL, NULL)
