/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * mkseeds.c — writes the seed corpora of the snapshot and journal fuzz targets with the
 * control plane's own writers: a store fed a few epochs (source, coverage-cell,
 * RESIP-port and event tables) through cp_store_apply() with every analysis started
 * (fuzz_cp.h), saved by cp_snapshot_write_file() and appended by cp_journal_append();
 * then a few damaged copies (cut short, one byte flipped, a torn last record).
 *
 *   mkseeds OUTDIR      writes OUTDIR/snapshot/ and OUTDIR/journal/
 *
 * Not a test; rerun it into tests/fuzz/corpus when a format changes.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "control/journal.h"
#include "control/snapshot.h"
#include "dataplane/common/exchange_recs.h"
#include "dataplane/common/period.h"
#include "fuzz_cp.h"

#define T0 (1733000000ull * OBS_NS_PER_S)    /* 2024-11-30 */

static void die(const char *what, int rc)
{
	fprintf(stderr, "mkseeds: %s: %s\n", what, strerror(rc < 0 ? -rc : rc));
	exit(1);
}

/* Epoch e of worker w: n sources in 203.0.113/24 and 198.51.100/25, their cells,
 * RESIP port counters and events. */
static void epoch(struct cp_epoch *x, uint64_t boot, uint32_t w, uint64_t seq,
		  struct obx_src_rec *src, struct obx_cell_rec *cell,
		  struct obx_resip_port_rec *rp, struct obx_event_rec *ev, uint32_t n)
{
	uint64_t t = T0 + seq * 60 * OBS_NS_PER_S;

	memset(x, 0, sizeof(*x));
	memset(src, 0, n * sizeof(*src));
	memset(cell, 0, n * sizeof(*cell));
	memset(rp, 0, n * sizeof(*rp));
	memset(ev, 0, n * sizeof(*ev));
	for (uint32_t i = 0; i < n; i++) {
		uint64_t ti = t + i * OBS_NS_PER_S;

		src[i].addr = 0x0a000000u + seq * 16 + i;
		src[i].hour = (uint32_t)(ti / OBX_HOUR_NS);
		src[i].first_ns = ti;
		src[i].last_ns = ti;
		src[i].packets = 1 + i;
		src[i].sensor_mask = 1ull << (i & 1);
		src[i].resip_packets = i & 1;
		src[i].ev_mode = OBX_SRC_EV_NONE;
		cell[i].block = src[i].addr & 0xffff0000u;
		cell[i].period = obs_period_index(OBS_PU_MONTH, ti);
		cell[i].dport = (uint16_t)(22 + i);
		cell[i].proto = 6;
		cell[i].syns = 1 + i;
		cell[i].n_inline = 1;
		cell[i].inline_slot[0] = i;
		rp[i].day = (uint32_t)(ti / OBS_NS_PER_DAY);
		rp[i].port = (uint16_t)(80 + i);
		rp[i].proto = OBX_P_TCP;
		rp[i].packets = 1 + i;
		rp[i].sensor_mask = 1;
		ev[i].addr = src[i].addr;
		ev[i].hour = src[i].hour;
		ev[i].type = i % 3;
		ev[i].sensor = i & 1;
		ev[i].count = 1 + i;
		ev[i].first_ns = ti;
		ev[i].last_ns = ti;
	}
	x->boot_id = boot;
	x->worker = w;
	x->seq = seq;
	x->t_first_ns = t;
	x->t_last_ns = t + n * OBS_NS_PER_S;
	x->published_wall_ns = t + 1;
	x->delta.rx_packets = n;
	x->delta.proto_packets[OBX_P_TCP] = n;
	cp_epoch_add_tab(x, OBX_TAB_SRC, sizeof(*src), src, n);
	cp_epoch_add_tab(x, OBX_TAB_CELL, sizeof(*cell), cell, n);
	cp_epoch_add_tab(x, OBX_TAB_RESIP_PORT, sizeof(*rp), rp, n);
	cp_epoch_add_tab(x, OBX_TAB_EVENT, sizeof(*ev), ev, n);
}

static uint8_t *slurp(const char *path, size_t *len)
{
	struct stat st;
	uint8_t *p;
	int fd = open(path, O_RDONLY);

	if (fd < 0 || fstat(fd, &st) != 0)
		die(path, errno);
	p = malloc((size_t)st.st_size + 1);
	if (p == NULL || read(fd, p, (size_t)st.st_size) != st.st_size)
		die(path, EIO);
	close(fd);
	*len = (size_t)st.st_size;
	return p;
}

static void spit(const char *dir, const char *name, const uint8_t *p, size_t len)
{
	char path[1024];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (f == NULL || fwrite(p, 1, len, f) != len || fclose(f) != 0)
		die(path, errno);
}

/* The file at path as seed name, and its damaged copies. */
static void seeds(const char *dir, const char *name, const char *path, size_t cut_at)
{
	char n[256];
	uint8_t *p;
	size_t len;

	p = slurp(path, &len);
	spit(dir, name, p, len);
	snprintf(n, sizeof(n), "%s-cut", name);
	spit(dir, n, p, cut_at < len ? cut_at : len / 2);
	p[len / 3] ^= 0x10;
	snprintf(n, sizeof(n), "%s-flip", name);
	spit(dir, n, p, len);
	free(p);
}

int main(int argc, char **argv)
{
	struct obx_src_rec src[6];
	struct obx_cell_rec cell[6];
	struct obx_resip_port_rec rp[6];
	struct obx_event_rec ev[6];
	struct cp_journal j;
	struct cp *cp;
	char tmp[] = "/tmp/mkseeds-XXXXXX", d[1024], path[1100], err[512];
	uint64_t first_len = 0;
	int rc;

	if (argc != 2) {
		fprintf(stderr, "usage: mkseeds OUTDIR\n");
		return 2;
	}
	cp = obs_fuzz_cp();
	if (mkdtemp(tmp) == NULL)
		die("mkdtemp", errno);
	j.fd = -1;
	rc = cp_journal_open(&j, tmp);
	if (rc != 0)
		die("journal open", rc);
	for (uint64_t seq = 1; seq <= 3; seq++)
		for (uint32_t w = 0; w < 2; w++) {
			struct cp_epoch x;

			epoch(&x, 0xb007, w, seq, src, cell, rp, ev, 2 + (uint32_t)seq);
			rc = cp_store_apply(&cp->store, &x);
			if (rc != 0)
				die("store apply", rc);
			rc = cp_journal_append(&j, &x);
			if (rc != 0)
				die("journal append", rc);
			if (first_len == 0)
				first_len = j.size;
		}
	rc = cp_journal_sync(&j);
	if (rc != 0)
		die("journal sync", rc);
	cp->store.n_sensors = 2;
	snprintf(cp->store.sensor_names[0], OBX_NAME_LEN, "alpha");
	snprintf(cp->store.sensor_names[1], OBX_NAME_LEN, "beta");
	snprintf(path, sizeof(path), "%s/snapshot", tmp);
	rc = cp_snapshot_write_file(path, &cp->store, err, sizeof(err));
	if (rc != 0) {
		fprintf(stderr, "mkseeds: %s\n", err);
		return 1;
	}

	snprintf(d, sizeof(d), "%s/snapshot", argv[1]);
	mkdir(d, 0755);
	seeds(d, "store", path, 64 + 40);
	snprintf(d, sizeof(d), "%s/journal", argv[1]);
	mkdir(d, 0755);
	/* cut: the first record whole, the second torn */
	seeds(d, "epochs", j.path, (size_t)first_len + 100);
	cp_journal_close(&j);
	snprintf(path, sizeof(path), "rm -rf %s", tmp);
	return system(path) == 0 ? 0 : 1;
}
