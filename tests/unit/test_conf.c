/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_conf.c — the configuration loader: conf/obscura.yaml loads and shows the table
 * defaults; every file under tests/unit/conf/bad-*.yaml fails with its FILE:LINE and
 * reason; dump -> load gives an equal struct (and the same text again) for the example
 * and for a maximal config; a failed load leaves the caller's struct untouched.
 *
 * OBS_SRCDIR (set by tests/unit/meson.build) is the source root.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "dataplane/common/conf.h"
#include "dataplane/common/exchange_recs.h"
#include "../fixtures/test_main.h"

static char srcdir[1024];

static const char *src_path(const char *rel, char *buf, size_t n)
{
	if (snprintf(buf, n, "%s/%s", srcdir, rel) >= (int)n)
		fail_msg("path too long: %s/%s", srcdir, rel);
	return buf;
}

static struct obs_conf *conf_new(void)
{
	struct obs_conf *c = malloc(sizeof(*c));
	assert_non_null(c);
	obs_conf_defaults(c);
	return c;
}

/* obs_conf_dump into a malloc'd string */
static char *dump_str(const struct obs_conf *c)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	assert_non_null(f);
	obs_conf_dump(c, f);
	fclose(f);
	return buf;
}

static void test_example_loads(void **state)
{
	char p[1200], err[512] = "";
	struct obs_conf *c = conf_new(), *want = conf_new();

	if (obs_conf_load(src_path("conf/obscura.yaml", p, sizeof(p)), c, err, sizeof(err)) != 0)
		fail_msg("conf/obscura.yaml: %s", err);
	assert_int_equal(c->n_sensors, 2);
	assert_string_equal(c->sensors[0].name, "east");
	assert_string_equal(c->sensors[1].name, "west");
	assert_int_equal(c->sensors[0].n_prefixes, 1);
	assert_int_equal(c->sensors[0].prefix_addr[0], 0xc6120000u);
	assert_int_equal(c->sensors[0].prefix_len[0], 20);
	assert_int_equal(c->sensors[1].prefix_addr[0], 0xc6121000u);
	assert_int_equal(c->sensors[1].prefix_len[0], 20);
	assert_int_equal(c->n_ports, 0);

	/* the example shows every default: apart from the sensors it is the defaults */
	want->n_sensors = 2;
	memcpy(&want->sensors[0], &c->sensors[0], 2 * sizeof(c->sensors[0]));
	/* ... and the unprivileged user and socket group that deploy/setup creates */
	assert_string_equal(c->user, "obscura");
	assert_string_equal(c->socket_group, "obscura");
	strcpy(want->user, "obscura");
	strcpy(want->socket_group, "obscura");
	if (!obs_conf_equal(c, want))
		fail_msg("conf/obscura.yaml differs from the key table at %s", obs_conf_diff(c, want));

	/* defaults, spelled out */
	assert_int_equal(want->workers, 1);
	assert_int_equal(want->burst, 32);
	assert_int_equal(want->mbufs, 8191);
	assert_int_equal(want->hugepages, OBS_HUGE_AUTO);
	assert_string_equal(want->file_prefix, "obscura");
	assert_true(want->rss);
	assert_int_equal(want->sample_cap, 4096);
	assert_string_equal(want->exchange_path, "/dev/shm/obscura.exchange");
	assert_int_equal(want->epoch_ms, 1000);
	assert_int_equal(want->src_capacity, 262144);
	/* the analyses' tables are absent until their engineers set defaults */
	assert_int_equal(want->cell_capacity, 65536);    /* SPEC A coverage (issue 3) */
	assert_int_equal(want->bitmap_capacity, 4096);
	assert_int_equal(want->scan_alpha_pm, 800);
	assert_int_equal(want->scan_n, 30);
	assert_int_equal(want->scan_m, 6);
	assert_int_equal(want->scan_jstar_pm, 800);
	assert_int_equal(want->scan_sstar_pm, 700);
	assert_string_equal(want->scanner_file, "");
	assert_int_equal(want->resip_port_capacity, 65536);  /* SPEC B (issue 4) */
	assert_string_equal(want->resip_table, "");
	assert_true(want->resip_window_check);
	assert_string_equal(want->resip_country, "JP");
	assert_int_equal(want->event_capacity, 65536);   /* SPEC C events (issue 5) */
	assert_int_equal(want->life_gap_s, 86400);
	assert_int_equal(want->life_max_sources, 4194304);
	assert_int_equal(want->n_rules_files, 0);
	assert_int_equal(want->n_exclude_files, 0);
	assert_int_equal(want->drain_wait_s, 10);
	assert_string_equal(want->state_dir, "/var/lib/obscura");
	assert_int_equal(want->snapshot_interval_s, 300);
	assert_string_equal(want->socket_path, "/run/obscura/ctl.sock");
	assert_string_equal(want->socket_ro_path, "/run/obscura/ctl-ro.sock");
	assert_int_equal(want->max_clients, 32);
	assert_int_equal(want->max_request, 65536);
	assert_int_equal(want->idle_timeout_s, 300);
	assert_int_equal(want->period, OBS_PERIOD_MONTH);
	assert_int_equal(want->block_len, 16);
	free(c);
	free(want);
}

static void test_minimal_and_ports(void **state)
{
	char p[1200], err[512] = "";
	struct obs_conf *c = conf_new();

	if (obs_conf_load(src_path("tests/unit/conf/good-minimal.yaml", p, sizeof(p)), c, err,
	                  sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_int_equal(c->n_sensors, 1);
	assert_int_equal(c->sensors[0].prefix_addr[0], 0xcb007100u);

	static const char y[] =
		"dataplane:\n"
		"  workers: 2\n"
		"  hugepages: no\n"
		"  rss: off\n"
		"  eal_args: [\"-l\", \"0-2\", --log-level=pmd:8]\n"
		"  ports:\n"
		"    - name: p0\n"
		"      device: \"0000:03:00.0\"\n"
		"      rx_queues: 2\n"
		"    - {name: tap, device: \"net_af_packet0,iface=eth1\", rx_desc: 512}\n"
		"telescope:\n"
		"  sensors:\n"
		"    - name: a\n"
		"      prefixes: [10.0.0.0/24, 10.0.2.0/23, 10.0.1.0/32, 10.0.1.1/32, 9.255.255.255/32]\n"
		"control:\n"
		"  user: ~\n"
		"  socket_ro: \"\"\n"
		"analysis: {period: week, block_len: 24}\n";
	if (obs_conf_load_string(y, c, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_int_equal(c->workers, 2);
	assert_int_equal(c->hugepages, OBS_HUGE_NO);
	assert_false(c->rss);
	assert_int_equal(c->n_eal_args, 3);
	assert_string_equal(c->eal_args[2], "--log-level=pmd:8");
	assert_int_equal(c->n_ports, 2);
	assert_string_equal(c->ports[0].device, "0000:03:00.0");
	assert_int_equal(c->ports[0].rx_queues, 2);
	assert_int_equal(c->ports[0].rx_desc, 1024);
	assert_string_equal(c->ports[1].name, "tap");
	assert_int_equal(c->ports[1].rx_queues, 1);
	assert_int_equal(c->ports[1].rx_desc, 512);
	assert_int_equal(c->sensors[0].n_prefixes, 5);
	assert_int_equal(c->sensors[0].prefix_len[2], 32);
	assert_int_equal(c->sensors[0].prefix_addr[4], 0x09ffffffu);
	assert_string_equal(c->user, "");
	assert_string_equal(c->socket_ro_path, "");
	assert_int_equal(c->period, OBS_PERIOD_WEEK);
	assert_int_equal(c->block_len, 24);
	free(c);
}

struct bad_case {
	const char *file;
	unsigned line;      /* 0: the message carries no line */
	const char *want;
};

static const struct bad_case bad_cases[] = {
	{ "bad-unknown-key.yaml", 2, "dataplane.worker: unknown key" },
	{ "bad-unknown-item-key.yaml", 4, "telescope.sensors[0].prefix: unknown key" },
	{ "bad-range.yaml", 2, "telescope.sample_cap: value '70000' out of range 1..65536" },
	{ "bad-enum.yaml", 6, "analysis.period: value 'fortnight' not one of hour|day|week|month" },
	{ "bad-prefix.yaml", 6, "telescope.sensors[0].prefixes[1]: value '198.18.0/20' not an IPv4 prefix" },
	{ "bad-host-bits.yaml", 4, "telescope.sensors[0].prefixes[0]: value '198.18.0.1/20' has host bits set" },
	{ "bad-overlap.yaml", 8, "telescope.sensors[1].prefixes[1]: value '10.0.128.0/24' overlaps sensor 'a' prefix 10.0.0.0/16" },
	{ "bad-pow2.yaml", 2, "exchange.src_capacity: value '100000' not a power of two" },
	{ "bad-rx-desc.yaml", 5, "dataplane.ports[0].rx_desc: value '1000' not a power of two" },
	{ "bad-type.yaml", 2, "dataplane.workers: value 'four' not an integer" },
	{ "bad-type-list.yaml", 2, "dataplane.rss: expected a scalar value, got a list" },
	{ "bad-quoted-int.yaml", 2, "control.max_clients: value '32' not an integer" },
	{ "bad-section-scalar.yaml", 1, "dataplane: expected a mapping" },
	{ "bad-top-list.yaml", 1, "top level is a list" },
	{ "bad-dup-sensor.yaml", 7, "telescope.sensors[2].name: value 'tokyo' duplicate sensor name" },
	{ "bad-dup-key.yaml", 4, "dataplane.workers: duplicate key (first at line 2)" },
	{ "bad-no-sensors.yaml", 0, "telescope.sensors: no sensors configured, need at least 1" },
	{ "bad-empty-sensors.yaml", 2, "telescope.sensors: 0 items, need at least 1" },
	{ "bad-port-no-device.yaml", 3, "dataplane.ports[0].device: missing (required)" },
	{ "bad-sensor-name.yaml", 3, "telescope.sensors[0].name: value 'new york' not a valid name" },
	{ "bad-relative-path.yaml", 2, "control.state_dir: value 'var/lib/obscura' not an absolute path" },
	{ "bad-too-big.yaml", 2, "telescope has 16777472 addresses, more than 16777216" },
	{ "bad-mbufs.yaml", 3, "dataplane.mbufs: value '4095' too small for the RX rings and bursts (need at least 4224)" },
	{ "bad-two-docs.yaml", 5, "more than one YAML document" },
	{ "bad-malformed.yaml", 4, "YAML syntax error" },
	{ "bad-empty.yaml", 1, "empty configuration" },
	{ "does-not-exist.yaml", 0, "cannot open: No such file or directory" },
};

static void test_bad_files(void **state)
{
	struct obs_conf *c = malloc(sizeof(*c)), *before = malloc(sizeof(*c));

	assert_non_null(c);
	assert_non_null(before);
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		char rel[256], p[1200], err[512] = "", head[1300];
		snprintf(rel, sizeof(rel), "tests/unit/conf/%s", bad_cases[i].file);
		src_path(rel, p, sizeof(p));
		memset(c, 0x5a, sizeof(*c));
		memcpy(before, c, sizeof(*c));
		if (obs_conf_load(p, c, err, sizeof(err)) != -1)
			fail_msg("%s: loaded, expected '%s'", bad_cases[i].file, bad_cases[i].want);
		/* a failed load must not touch the caller's struct (reload keeps the old) */
		assert_memory_equal(c, before, sizeof(*c));
		if (bad_cases[i].line)
			snprintf(head, sizeof(head), "%s:%u: ", p, bad_cases[i].line);
		else
			snprintf(head, sizeof(head), "%s: ", p);
		if (strncmp(err, head, strlen(head)) != 0 || strstr(err, bad_cases[i].want) == NULL)
			fail_msg("%s: got '%s', expected '%s...%s'", bad_cases[i].file, err, head,
			         bad_cases[i].want);
		/* one line, no trailing newline */
		assert_null(strchr(err, '\n'));
	}
	free(c);
	free(before);
}

static void expect_string_error(const char *yaml, const char *want)
{
	char err[512] = "";
	struct obs_conf *c = conf_new();
	if (obs_conf_load_string(yaml, c, err, sizeof(err)) != -1)
		fail_msg("loaded, expected '%s'", want);
	if (strncmp(err, "<string>:", 9) != 0 || strstr(err, want) == NULL)
		fail_msg("got '%s', expected '%s'", err, want);
	free(c);
}

#define SENSOR_A "telescope:\n  sensors:\n    - name: a\n      prefixes: [10.0.0.0/16]\n"

static void test_bad_strings(void **state)
{
	/* static, not malloc'd: GCC's -Warray-bounds under LTO cannot see that cmocka's
	 * assert_non_null() does not return on NULL */
	static char y[1 << 20];
	size_t n;

	/* 65 sensors */
	n = (size_t)sprintf(y, "telescope:\n  sensors:\n");
	for (int i = 0; i < 65; i++)
		n += (size_t)sprintf(y + n, "    - {name: s%d, prefixes: [10.%d.0.0/16]}\n", i, i);
	expect_string_error(y, "telescope.sensors: 65 items, at most 64 allowed");
	/* 257 prefixes in one sensor */
	n = (size_t)sprintf(y, "telescope:\n  sensors:\n    - name: a\n      prefixes:\n");
	for (int i = 0; i < 257; i++)
		n += (size_t)sprintf(y + n, "        - 10.1.%d.%d/32\n", i / 256, i % 256);
	expect_string_error(y, "telescope.sensors[0].prefixes: 257 items, at most 256 allowed");
	/* the exchange tables: hash kinds 0 or a power of two, the bitmap pool any size */
	expect_string_error(SENSOR_A "exchange:\n  cell_capacity: 100\n",
	                    "exchange.cell_capacity: value '100' not a power of two");
	expect_string_error(SENSOR_A "exchange:\n  resip_port_capacity: 3\n",
	                    "exchange.resip_port_capacity: value '3' not a power of two");
	expect_string_error(SENSOR_A "exchange:\n  event_capacity: 33554432\n",
	                    "exchange.event_capacity: value '33554432' out of range");
	expect_string_error(SENSOR_A "exchange:\n  bitmap_capacity: 4194305\n",
	                    "exchange.bitmap_capacity: value '4194305' out of range");
	{
		struct obs_conf c;
		uint32_t cap[OBX_TAB_MAX], rs[OBX_TAB_MAX];
		char err[256];

		assert_int_equal(obs_conf_load_string(SENSOR_A "exchange:\n  cell_capacity: 0\n"
			"  bitmap_capacity: 100\n  event_capacity: 1024\n", &c, err, sizeof(err)), 0);
		obs_conf_exchange_tabs(&c, cap, rs);
		assert_int_equal(cap[OBX_TAB_SRC], 262144);
		assert_int_equal(cap[OBX_TAB_CELL], 0);
		assert_int_equal(cap[OBX_TAB_BITMAP], 100);
		assert_int_equal(cap[OBX_TAB_EVENT], 1024);
		assert_int_equal(rs[OBX_TAB_SRC], sizeof(struct obx_src_rec));
		assert_int_equal(rs[OBX_TAB_BITMAP], OBX_REC_SIZE_BITMAP);
	}
	/* export.clickhouse.url: the HTTP interface's root, nothing the exporter would mangle */
	expect_string_error(SENSOR_A "export:\n  clickhouse:\n    url: ftp://x/\n",
	                    "export.clickhouse.url: value 'ftp://x/' not an http:// URL");
	expect_string_error(SENSOR_A "export:\n  clickhouse:\n    url: http://:8123/\n",
	                    "export.clickhouse.url: value 'http://:8123/' no host");
	expect_string_error(SENSOR_A "export:\n  clickhouse:\n    url: http://h:99999/\n",
	                    "export.clickhouse.url: value 'http://h:99999/' bad port");
	expect_string_error(SENSOR_A "export:\n  clickhouse:\n    url: http://h:8123/?query=x\n",
	                    "export.clickhouse.url: value 'http://h:8123/?query=x' has a path");
	{
		struct obs_conf c;
		char err[256];

		assert_int_equal(obs_conf_load_string(SENSOR_A "export:\n  clickhouse:\n"
			"    url: http://127.0.0.1:8123/\n", &c, err, sizeof(err)), 0);
		assert_string_equal(c.export_ch_url, "http://127.0.0.1:8123/");
		assert_int_equal(c.export_ch_spool_mb, 1024);
		assert_int_equal(obs_conf_load_string(SENSOR_A "export:\n  clickhouse:\n"
			"    url: http://[::1]:8123\n", &c, err, sizeof(err)), 0);
	}
	/* a UNIX socket path that cannot be bound */
	n = (size_t)sprintf(y, SENSOR_A "control:\n  socket: /");
	memset(y + n, 'x', 120);
	strcpy(y + n + 120, "\n");
	expect_string_error(y, "control.socket: value '/xxx");
	expect_string_error(y, "too long for a UNIX socket path (at most 107)");
	/* a metrics listener the daemon could not bind: refused at load, naming the key */
	expect_string_error(SENSOR_A "control:\n  metrics_listen: localhost:9477\n",
	                    "control.metrics_listen: value 'localhost:9477' not a numeric IPv4");
	expect_string_error(SENSOR_A "control:\n  metrics_listen: 127.0.0.1\n",
	                    "not a.b.c.d:PORT");
	expect_string_error(SENSOR_A "control:\n  metrics_listen: \"127.0.0.1:0\"\n",
	                    "port not a number 1..65535");
	expect_string_error(SENSOR_A "control:\n  metrics_listen: \"127.0.0.1:65536\"\n",
	                    "port not a number 1..65535");
	expect_string_error(SENSOR_A "control:\n  metrics_listen: \"127.0.0.1:+80\"\n",
	                    "port not a number 1..65535");
	expect_string_error(SENSOR_A "control:\n  metrics_listen: \":9477\"\n",
	                    "no address before the port");
	expect_string_error(SENSOR_A "control:\n  metrics_listen: \"::1:9477\"\n",
	                    "in brackets");
	expect_string_error(SENSOR_A "control:\n  metrics_listen: \"[::1]9477\"\n",
	                    "not [v6addr]:PORT");
	expect_string_error(SENSOR_A "control:\n  metrics_listen: \"[1.2.3.4]:9477\"\n",
	                    "not a numeric IPv6 address");
	{
		struct sockaddr_storage ss;
		const char *why = NULL;
		uint32_t len = 0;

		assert_int_equal(obs_conf_parse_listen("127.0.0.1:9477", &ss, &len, &why), 0);
		assert_int_equal(ss.ss_family, AF_INET);
		assert_int_equal(len, sizeof(struct sockaddr_in));
		assert_int_equal(ntohs(((struct sockaddr_in *)&ss)->sin_port), 9477);
		assert_int_equal(ntohl(((struct sockaddr_in *)&ss)->sin_addr.s_addr), 0x7f000001);
		assert_int_equal(obs_conf_parse_listen("[::1]:1", &ss, &len, &why), 0);
		assert_int_equal(ss.ss_family, AF_INET6);
		assert_int_equal(len, sizeof(struct sockaddr_in6));
		assert_int_equal(ntohs(((struct sockaddr_in6 *)&ss)->sin6_port), 1);
		assert_int_equal(obs_conf_parse_listen("1.2.3.4:", &ss, &len, &why), -1);
		assert_non_null(why);
	}
	/* a string longer than its buffer */
	n = (size_t)sprintf(y, SENSOR_A "dataplane:\n  file_prefix: ");
	memset(y + n, 'p', 64);
	strcpy(y + n + 64, "\n");
	expect_string_error(y, "dataplane.file_prefix: value 'ppp");
	expect_string_error(y, "too long (at most 63 characters)");

	expect_string_error(SENSOR_A "dataplane:\n  rss: maybe\n",
	                    "<string>:6: dataplane.rss: value 'maybe' not a boolean");
	expect_string_error(SENSOR_A "dataplane:\n  workers: 65\n", "out of range 1..64");
	expect_string_error(SENSOR_A "dataplane:\n  workers: 0\n", "out of range 1..64");
	expect_string_error(SENSOR_A "dataplane:\n  workers: -1\n", "out of range 1..64");
	expect_string_error(SENSOR_A "dataplane:\n  workers: 99999999999999999999999\n", "out of range");
	expect_string_error(SENSOR_A "dataplane:\n  workers: 0x10\n", "not an integer");
	expect_string_error(SENSOR_A "dataplane:\n  workers: 4.0\n", "not an integer");
	expect_string_error(SENSOR_A "dataplane:\n  workers:\n", "value '' not an integer");
	expect_string_error(SENSOR_A "dataplane:\n  eal_args: [[a]]\n",
	                    "dataplane.eal_args[0]: expected a scalar value, got a list");
	expect_string_error(SENSOR_A "dataplane:\n  eal_args: --no-pci\n",
	                    "dataplane.eal_args: expected a list, got a scalar");
	expect_string_error(SENSOR_A "dataplane:\n  eal_args: [\"\"]\n", "must not be empty");
	expect_string_error(SENSOR_A "dataplane:\n  ports: [p0]\n",
	                    "dataplane.ports[0]: expected a mapping, got a scalar");
	expect_string_error(SENSOR_A "dataplane:\n  ports:\n    - {name: a, device: x}\n"
	                    "    - {name: b, device: x}\n", "duplicate device");
	expect_string_error(SENSOR_A "dataplane:\n  ports:\n    - {name: a, device: x}\n"
	                    "    - {name: a, device: y}\n",
	                    "dataplane.ports[1].name: value 'a' duplicate port name");
	expect_string_error(SENSOR_A "dataplane:\n  ports:\n    - {name: a, device: x, rx_queues: 65}\n",
	                    "dataplane.ports[0].rx_queues: value '65' out of range 1..64");
	expect_string_error(SENSOR_A "frobnicate: {}\n", "<string>:5: frobnicate: unknown key");
	expect_string_error(SENSOR_A "dataplane.workers: 2\n", "<string>:5: dataplane.workers: unknown key");
	expect_string_error(SENSOR_A "dataplane:\n  ports.name: 2\n", "dataplane.ports.name: unknown key");
	expect_string_error(SENSOR_A "dataplane:\n  \"\": 2\n", "unknown key");
	expect_string_error(SENSOR_A "dataplane:\n  workers: \"\\0\"\n", "NUL byte");
	expect_string_error(SENSOR_A "control:\n  user: \"a\\tb\"\n", "control character");
	/* YAML folds these as line breaks in quoted scalars: refused, never mangled */
	expect_string_error(SENSOR_A "control:\n  user: \"a\\Lb\"\n", "control character");
	expect_string_error(SENSOR_A "control:\n  user: \"a\\Pb\"\n", "control character");
	expect_string_error(SENSOR_A "control:\n  user: \"a\\Nb\"\n", "control character");
	expect_string_error(SENSOR_A "dataplane:\n  eal_args: [\"\\x85\"]\n", "control character");
	expect_string_error("telescope:\n  sensors:\n    - name: a\n      prefixes: [010.0.0.0/16]\n",
	                    "not an IPv4 prefix");
	expect_string_error("telescope:\n  sensors:\n    - name: a\n      prefixes: [10.0.0.0/33]\n",
	                    "not an IPv4 prefix");
	expect_string_error("telescope:\n  sensors:\n    - name: a\n      prefixes: [10.0.0.0]\n",
	                    "not an IPv4 prefix");
	expect_string_error("telescope:\n  sensors:\n    - name: a\n      prefixes: [256.0.0.0/8]\n",
	                    "not an IPv4 prefix");
	expect_string_error("telescope:\n  sensors:\n    - name: a\n      prefixes: [10.0.0.0/16, 10.0.0.0/16]\n",
	                    "telescope.sensors[0].prefixes[1]: value '10.0.0.0/16' overlaps sensor 'a' prefix 10.0.0.0/16");
	expect_string_error("telescope:\n  sensors:\n    - {name: a, prefixes: [10.0.0.0/31]}\n"
	                    "    - {name: b, prefixes: [10.0.0.2/31, 10.0.0.1/32]}\n",
	                    "telescope.sensors[1].prefixes[1]: value '10.0.0.1/32' overlaps sensor 'a' prefix 10.0.0.0/31");
	expect_string_error("telescope:\n  sensors:\n    - name: a\n", "telescope.sensors[0].prefixes: missing (required)");
	expect_string_error("telescope:\n  sensors:\n    - name: a\n      prefixes: []\n",
	                    "telescope.sensors[0].prefixes: 0 items, need at least 1");
	expect_string_error("{a: [}\n", "YAML syntax error");
	expect_string_error("# only a comment\n", "empty configuration");
	expect_string_error("just a scalar\n", "top level is a scalar");
}

/* the obs_conf_parse_prefix contract in conf.h */
static void test_parse_prefix(void **state)
{
	uint32_t a = 0;
	uint8_t l = 0;
	assert_int_equal(obs_conf_parse_prefix("198.18.16.0/20", &a, &l), 0);
	assert_int_equal(a, 0xc6121000u);
	assert_int_equal(l, 20);
	assert_int_equal(obs_conf_parse_prefix("0.0.0.0/0", &a, &l), 0);
	assert_int_equal(obs_conf_parse_prefix("255.255.255.255/32", &a, &l), 0);
	assert_int_equal(a, UINT32_MAX);
	assert_int_equal(obs_conf_parse_prefix("198.18.16.1/20", &a, &l), -1);   /* host bits */
	assert_int_equal(obs_conf_parse_prefix("1.0.0.0/0", &a, &l), -1);
	assert_int_equal(obs_conf_parse_prefix("1.2.3/24", &a, &l), -1);
	assert_int_equal(obs_conf_parse_prefix("1.2.3.4.5/32", &a, &l), -1);
	assert_int_equal(obs_conf_parse_prefix("1.2.3.4/", &a, &l), -1);
	assert_int_equal(obs_conf_parse_prefix("1.2.3.4/032", &a, &l), -1);
	assert_int_equal(obs_conf_parse_prefix(" 1.2.3.4/32", &a, &l), -1);
	assert_int_equal(obs_conf_parse_prefix("1.2.3.4/32 ", &a, &l), -1);
	assert_int_equal(obs_conf_parse_prefix("", &a, &l), -1);
}

static void round_trip(const struct obs_conf *c)
{
	char err[512] = "";
	struct obs_conf *d = malloc(sizeof(*d));
	char *t1 = dump_str(c), *t2;

	assert_non_null(d);
	memset(d, 0x77, sizeof(*d));
	if (obs_conf_load_string(t1, d, err, sizeof(err)) != 0)
		fail_msg("dump does not load: %s\n%s", err, t1);
	if (!obs_conf_equal(c, d))
		fail_msg("dump -> load differs at %s", obs_conf_diff(c, d));
	t2 = dump_str(d);
	assert_string_equal(t1, t2);   /* the normal form is a fixed point */
	free(t1);
	free(t2);
	free(d);
}

static void test_round_trip_example(void **state)
{
	char p[1200], err[512] = "";
	struct obs_conf *c = conf_new();
	if (obs_conf_load(src_path("conf/obscura.yaml", p, sizeof(p)), c, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	round_trip(c);
	free(c);
}

/* YAML double-quoted, written independently of the dumper */
static size_t yq(char *out, const char *s)
{
	size_t n = 0;
	out[n++] = '"';
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			out[n++] = '\\';
		out[n++] = *s;
	}
	out[n++] = '"';
	return n;
}

static void test_round_trip_maximal(void **state)
{
	static const char *tricky[] = {
		"a \"quoted\" \\ back\\slash", "# not a comment", ": colon", "- dash", "[x]", "{y}",
		"&anchor", "*alias", "!tag", "'single'", "--log-level=pmd.net:8", "\xe6\x97\xa5\xe6\x9c\xac",
		"true", "123", "null", "~", " leading and trailing ", "%percent", "@at", "`tick`",
	};
	char *y = malloc(4 << 20), err[512] = "", longs[300];
	struct obs_conf *c = conf_new();
	size_t n = 0;

	assert_non_null(y);
	n += (size_t)sprintf(y + n, "dataplane:\n  workers: 64\n  burst: 64\n  mbufs: 16777215\n"
	                     "  hugepages: no\n  rss: false\n  file_prefix: ");
	memset(longs, 'f', 63);
	longs[63] = '\0';
	n += yq(y + n, longs);
	n += (size_t)sprintf(y + n, "\n  eal_args:\n");
	for (int i = 0; i < 32; i++) {
		n += (size_t)sprintf(y + n, "    - ");
		if (i < (int)(sizeof(tricky) / sizeof(tricky[0]))) {
			n += yq(y + n, tricky[i]);
		} else {
			memset(longs, 'a' + i % 26, 255);
			longs[255] = '\0';
			n += yq(y + n, longs);
		}
		y[n++] = '\n';
	}
	n += (size_t)sprintf(y + n, "  ports:\n");
	for (int i = 0; i < 16; i++) {
		n += (size_t)sprintf(y + n, "    - name: port-%02d.abcdefghijklmnopqrstuv\n"
		                     "      device: \"net_pcap%d,rx_pcap=/tmp/%0200d.pcap\"\n"
		                     "      rx_queues: %d\n      rx_desc: %d\n",
		                     i, i, i, i == 0 ? 1 : 64, i == 0 ? 32768 : 64);
	}
	n += (size_t)sprintf(y + n, "telescope:\n  sample_cap: 65536\n  sensors:\n");
	for (int s = 0; s < 64; s++) {
		n += (size_t)sprintf(y + n, "    - name: sensor_%02d-ABCDEFGHIJKLMNOPQRSTU\n"
		                     "      prefixes: [", s);
		for (int i = 0; i < 256; i++) {
			if (s == 0 && i == 0)
				n += (size_t)sprintf(y + n, "1.0.0.0/9");   /* 2^23 addresses */
			else
				n += (size_t)sprintf(y + n, "%s10.%d.%d.0/%d", i ? ", " : "", s, i,
				                     24 + (i % 9));
		}
		n += (size_t)sprintf(y + n, "]\n");
	}
	n += (size_t)sprintf(y + n, "exchange:\n  path: /");
	memset(longs, 'e', 254);
	longs[254] = '\0';
	n += (size_t)sprintf(y + n, "%s\n  epoch_ms: 60000\n  src_capacity: 16777216\n"
	                     "  cell_capacity: 16777216\n  bitmap_capacity: 4194303\n"
	                     "  resip_port_capacity: 1\n  event_capacity: 65536\n"
	                     "  drain_wait_s: 3600\n", longs);
	n += (size_t)sprintf(y + n, "control:\n  state_dir: \"/var/lib/with space/and 'quote'\"\n"
	                     "  snapshot_interval_s: 86400\n  socket: /");
	memset(longs, 's', 106);
	longs[106] = '\0';
	n += (size_t)sprintf(y + n, "%s\n  socket_ro: \"\"\n  socket_group: obscura\n  user: ", longs);
	memset(longs, 'u', 63);
	longs[63] = '\0';
	n += (size_t)sprintf(y + n, "%s\n  max_clients: 1024\n  max_request: 1048576\n"
	                     "  idle_timeout_s: 86400\n"
	                     "  metrics_listen: \"[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535\"\n",
	                     longs);
	n += (size_t)sprintf(y + n, "analysis:\n  period: hour\n  block_len: 32\n");
	assert_true(n < (4u << 20));

	if (obs_conf_load_string(y, c, err, sizeof(err)) != 0)
		fail_msg("maximal config: %s", err);
	assert_int_equal(c->n_eal_args, 32);
	for (size_t i = 0; i < sizeof(tricky) / sizeof(tricky[0]); i++)
		assert_string_equal(c->eal_args[i], tricky[i]);
	assert_int_equal(strlen(c->eal_args[31]), 255);
	assert_int_equal(c->n_ports, 16);
	assert_int_equal(c->ports[15].rx_queues, 64);
	assert_int_equal(c->n_sensors, 64);
	assert_int_equal(c->sensors[63].n_prefixes, 256);
	assert_int_equal(c->sensors[0].prefix_len[0], 9);
	assert_int_equal(strlen(c->exchange_path), 255);
	assert_int_equal(strlen(c->socket_path), 107);
	assert_string_equal(c->metrics_listen, "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535");
	assert_int_equal(c->period, OBS_PERIOD_HOUR);
	assert_false(c->rss);
	round_trip(c);
	free(c);
	free(y);
}

static void test_equal_and_diff(void **state)
{
	char p[1200], err[512] = "";
	struct obs_conf *a = conf_new(), *b = malloc(sizeof(*b));

	assert_non_null(b);
	if (obs_conf_load(src_path("conf/obscura.yaml", p, sizeof(p)), a, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	memcpy(b, a, sizeof(*a));
	assert_true(obs_conf_equal(a, b));
	assert_null(obs_conf_diff(a, b));

	/* bytes after a string's NUL do not count */
	b->user[sizeof(b->user) - 2] = 'z';
	assert_true(obs_conf_equal(a, b));

	b->block_len = 24;
	assert_string_equal(obs_conf_diff(a, b), "analysis.block_len");
	memcpy(b, a, sizeof(*a));
	b->sensors[1].prefix_len[0] = 21;
	assert_string_equal(obs_conf_diff(a, b), "telescope.sensors");
	memcpy(b, a, sizeof(*a));
	b->rss = !b->rss;
	assert_string_equal(obs_conf_diff(a, b), "dataplane.rss");
	memcpy(b, a, sizeof(*a));
	b->n_eal_args = 1;
	assert_string_equal(obs_conf_diff(a, b), "dataplane.eal_args");
	memcpy(b, a, sizeof(*a));
	strcpy(b->socket_group, "wheel");
	assert_string_equal(obs_conf_diff(a, b), "control.socket_group");
	memcpy(b, a, sizeof(*a));
	b->period = OBS_PERIOD_DAY;
	assert_false(obs_conf_equal(a, b));

	assert_true(obs_conf_key_reloadable("control.max_clients"));
	assert_false(obs_conf_key_reloadable("telescope.sample_cap"));
	assert_false(obs_conf_key_reloadable("no.such.key"));
	free(a);
	free(b);
}

static void test_describe(void **state)
{
	static const char *keys[] = {
		"dataplane.workers", "dataplane.burst", "dataplane.mbufs", "dataplane.hugepages",
		"dataplane.file_prefix", "dataplane.eal_args", "dataplane.rss", "dataplane.ports",
		"dataplane.ports[].name", "dataplane.ports[].device", "dataplane.ports[].rx_queues",
		"dataplane.ports[].rx_desc", "telescope.sample_cap", "telescope.sensors",
		"telescope.sensors[].name", "telescope.sensors[].prefixes", "exchange.path",
		"exchange.epoch_ms", "exchange.src_capacity", "exchange.cell_capacity",
		"exchange.bitmap_capacity", "exchange.resip_port_capacity", "exchange.event_capacity",
		"exchange.dos_capacity",   /* DoS backscatter (docs/dos.md) */
		"exchange.fpsig_capacity",   /* fingerprint signatures (docs/fingerprints.md) */
		"exchange.drain_wait_s",
		"control.state_dir", "control.snapshot_interval_s", "control.socket",
		"control.socket_ro", "control.socket_group", "control.socket_ro_group",
		"control.user", "control.max_clients",
		"control.max_request", "control.idle_timeout_s", "control.metrics_listen",
		"analysis.period",
		"analysis.block_len", "analysis.scan_alpha_permille", "analysis.scan_n",
		"analysis.scan_m", "analysis.scan_jstar_permille", "analysis.scan_sstar_permille",
		"tables.scanner_file", "tables.fingerprint_file", "enrich.city_mmdb", "lifetime.gap_s", "lifetime.max_sources", "rules.files",
		"exclude.files", "resip.table", "resip.window_check", "resip.country",
		"enrich.asn_mmdb", "enrich.org_file", "enrich.ptr_file", "enrich.ptr_live",
		"enrich.ptr_rate", "export.clickhouse.url", "export.clickhouse.database",
		"export.clickhouse.appliance", "export.clickhouse.spool_max_mb",
		"export.clickhouse.timeout_s",
		/* responder (issue 13) */
		"exchange.resp_capacity", "responder.prefixes", "responder.payload_bytes",
		"responder.max_pps", "responder.secret_file", "responder.arp",
		/* DoS backscatter attacks (docs/dos.md) */
		"dos.gap_s", "dos.min_packets", "dos.min_duration_s", "dos.min_peak_ppm",
		"dos.max_flows",
	};
	char *buf = NULL;
	size_t len = 0, lines = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	obs_conf_describe(f);
	fclose(f);
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		char pat[128];
		snprintf(pat, sizeof(pat), "\n%s ", keys[i]);
		if (strstr(buf, pat) == NULL)
			fail_msg("describe lacks %s", keys[i]);
	}
	for (char *q = buf; *q; q++)
		lines += *q == '\n';
	assert_int_equal(lines, 1 + sizeof(keys) / sizeof(keys[0]));   /* header + keys */
	assert_non_null(strstr(buf, "int 1024..16777216 pow2"));
	assert_non_null(strstr(buf, "enum hour|day|week|month"));
	assert_non_null(strstr(buf, "reload"));
	assert_non_null(strstr(buf, "restart"));
	free(buf);
}

/* Mutated example files must load or fail with a message, never crash. */
static void test_mutations(void **state)
{
	char p[1200], err[512];
	FILE *f = fopen(src_path("conf/obscura.yaml", p, sizeof(p)), "rb");
	static char orig[16384];
	size_t len;
	uint64_t r = 0x243f6a8885a308d3ull;
	unsigned ok = 0;
	struct obs_conf *c = conf_new();

	assert_non_null(f);
	len = fread(orig, 1, sizeof(orig) - 1, f);
	fclose(f);
	for (unsigned it = 0; it < 3000; it++) {
		char *m = malloc(len + 1);
		assert_non_null(m);
		memcpy(m, orig, len + 1);
		m[len] = '\0';
		for (unsigned j = 0; j < 1 + it % 3; j++) {
			r ^= r << 13; r ^= r >> 7; r ^= r << 17;
			size_t pos = (size_t)(r % len);
			static const char pool[] = "\n :-[]{},#\"'0123456789./abc\t&*!|>";
			m[pos] = pool[(r >> 32) % (sizeof(pool) - 1)];
		}
		err[0] = '\0';
		if (obs_conf_load_string(m, c, err, sizeof(err)) == 0)
			ok++;
		else if (strncmp(err, "<string>", 8) != 0)
			fail_msg("failure without a message: '%s'", err);
		free(m);
	}
	/* mutations in comments are harmless: some must still load */
	assert_true(ok > 0);
	free(c);
}

/* responder (issue 13): H inside the telescope, no overlaps, a secret file of >= 16
 * bytes whenever H is set; the responder's table only when H is set */
static void test_responder(void **state)
{
	char path[] = "/tmp/obscura-resp-dp-secretXXXXXX", y[1024], err[512];
	struct obs_conf *c = conf_new();
	uint32_t cap[OBX_TAB_MAX], rs[OBX_TAB_MAX];
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "0123456789abcde", 15), 15);       /* one byte short */
	expect_string_error(SENSOR_A "responder:\n  prefixes: [10.0.1.0/24]\n",
	                    "responder.secret_file: missing: required");
	snprintf(y, sizeof(y), SENSOR_A "responder:\n  prefixes: [10.0.1.0/24]\n"
	         "  secret_file: %s\n", path);
	expect_string_error(y, "is not a regular file of at least 16 bytes");
	assert_int_equal(write(fd, "f", 1), 1);
	close(fd);
	assert_int_equal(obs_conf_load_string(y, c, err, sizeof(err)), 0);
	assert_int_equal(c->resp_n_prefixes, 1);
	assert_int_equal(c->resp_prefix_addr[0], 0x0a000100u);
	assert_int_equal(c->resp_payload_bytes, 0);
	obs_conf_exchange_tabs(c, cap, rs);
	assert_int_equal(cap[OBX_TAB_RESP], 4096);
	assert_int_equal(rs[OBX_TAB_RESP], sizeof(struct obx_resp_rec));
	round_trip(c);
	snprintf(y, sizeof(y), SENSOR_A "responder:\n  prefixes: [10.1.0.0/24]\n"
	         "  secret_file: %s\n", path);
	expect_string_error(y, "responder.prefixes: value '10.1.0.0/24' is not inside a telescope");
	snprintf(y, sizeof(y), SENSOR_A "responder:\n  prefixes: [10.0.0.0/8]\n"
	         "  secret_file: %s\n", path);
	expect_string_error(y, "responder.prefixes: value '10.0.0.0/8' is not inside a telescope");
	snprintf(y, sizeof(y), SENSOR_A "responder:\n  prefixes: [10.0.1.0/24, 10.0.1.128/25]\n"
	         "  secret_file: %s\n", path);
	expect_string_error(y, "value '10.0.1.128/25' overlaps prefixes[0]");
	expect_string_error(SENSOR_A "responder:\n  prefixes: [10.0.1.0/24]\n"
	                    "  secret_file: /nonexistent/obscura-secret\n",
	                    "responder.secret_file: value '/nonexistent/obscura-secret' cannot be read");
	expect_string_error(SENSOR_A "responder:\n  payload_bytes: 1461\n",
	                    "responder.payload_bytes: value '1461' out of range");
	expect_string_error(SENSOR_A "responder:\n  max_pps: 0\n",
	                    "responder.max_pps: value '0' out of range");
	/* off: no table, no secret needed */
	assert_int_equal(obs_conf_load_string(SENSOR_A, c, err, sizeof(err)), 0);
	obs_conf_exchange_tabs(c, cap, rs);
	assert_int_equal(cap[OBX_TAB_RESP], 0);
	unlink(path);
	free(c);
}

/* group setup: the source tree the example files are read from */
static int conf_group_setup(void **state)
{
	const char *s = getenv("OBS_SRCDIR");

	(void)state;
	snprintf(srcdir, sizeof(srcdir), "%s", s ? s : ".");
	return 0;
}

#define TESTS(T) T(test_example_loads) T(test_minimal_and_ports) T(test_bad_files) \
	T(test_bad_strings) T(test_parse_prefix) T(test_round_trip_example) \
	T(test_round_trip_maximal) T(test_equal_and_diff) T(test_describe) T(test_mutations) \
	T(test_responder)
OBS_TEST_MAIN(TESTS, conf_group_setup, NULL)
