/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * truth.c — obscura-gen's ground truth (gen.h): what the appliance must report for the
 * pcap, exactly, as one JSON document (--truth FILE; format in bench/README.md):
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
 *   (, "resip": {...} with --resip-table: resip.c)
 * }
 * rx_packets = tel_packets + sum(drops).  Sources are sorted by packets (desc), then
 * address; only accepted telescope packets count in them.  "expected_class" is what
 * SPEC.md A should conclude for the block with alpha/n/m at their defaults
 * ("routine", "semi-routine", "ad-hoc" or "none").  Times are ns since the Unix epoch, UTC.
 * Written after the traffic (it sorts gen_src in place).  Main thread only.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gen.h"

void gen_json_str(FILE *f, const char *s)
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

void gen_json_addr(FILE *f, uint32_t a)
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

int gen_write_truth(const char *path)
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
