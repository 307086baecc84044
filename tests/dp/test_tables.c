/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_tables.c — dataplane/tables.c and scanner_table.c under EAL (--no-huge, no PCI).
 *
 * RCU: two worker lcores read the scanner slot in a loop (as a burst does: one pointer,
 * use it, report quiescent) while the main lcore swaps in 3000 new tables, reclaiming
 * as it goes.  Every table's free function checks that no reader holds it and poisons
 * it; a reader that ever sees a poisoned table fails the test.  Every retired table is
 * freed exactly once by the end.
 *
 * Scanner table: conf/scanner-ips.txt in an rte_lpm answers every address exactly as a
 * brute-force scan of the prefix list does (the prefixes' own addresses, their edges,
 * random addresses); a file with a bad line is refused naming the line.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <rte_eal.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_pause.h>

#include "scanner_table.h"
#include "tables.h"
#include "../fixtures/test_eal.h"

#define ALIVE 0xa11fe0a11fe0ull
#define DEAD  0xdeadbeefdeadull

struct fake_tab {
	_Atomic uint64_t magic;
	atomic_int readers;
	uint64_t id;
};

static atomic_int stop, bad_seen, freed_busy;
static atomic_ulong n_freed, reads[2];
static struct fake_tab *graveyard[4096];
static atomic_uint n_grave;

static void fake_free(void *p)
{
	struct fake_tab *t = p;
	if (atomic_load(&t->readers) != 0)
		atomic_fetch_add(&freed_busy, 1);
	atomic_store(&t->magic, DEAD);      /* poison, keep the memory: readers would see it */
	graveyard[atomic_fetch_add(&n_grave, 1) % 4096] = t;
	atomic_fetch_add(&n_freed, 1);
}

static int reader(void *arg)
{
	uint32_t w = (uint32_t)(uintptr_t)arg;

	obs_tables_online(w);
	while (!atomic_load(&stop)) {
		struct fake_tab *t = obs_tables_get(OBS_TABLE_SCANNER);   /* top of the burst */
		if (t != NULL) {
			atomic_fetch_add(&t->readers, 1);
			for (int i = 0; i < 50; i++) {
				if (atomic_load(&t->magic) != ALIVE)
					atomic_fetch_add(&bad_seen, 1);
				rte_pause();
			}
			atomic_fetch_sub(&t->readers, 1);
			atomic_fetch_add(&reads[w], 1);
		}
		obs_tables_quiescent(w);     /* bottom of the burst loop */
	}
	obs_tables_offline(w);
	return 0;
}

static void test_rcu(void **state)
{
	unsigned lc, k = 0;
	const unsigned swaps = 3000;

	(void)state;
	assert_int_equal(obs_tables_init(2), 0);
	RTE_LCORE_FOREACH_WORKER(lc) {
		if (k == 2)
			break;
		assert_int_equal(rte_eal_remote_launch(reader, (void *)(uintptr_t)k, lc), 0);
		k++;
	}
	assert_int_equal(k, 2);
	for (unsigned i = 0; i < swaps; i++) {
		struct fake_tab *t = calloc(1, sizeof(*t));
		assert_non_null(t);
		atomic_store(&t->magic, ALIVE);
		t->id = i;
		assert_int_equal(obs_tables_swap(OBS_TABLE_SCANNER, t, fake_free), 0);
		obs_tables_reclaim();
		if (i % 64 == 0)
			usleep(200);
	}
	/* let the readers pass a few more quiescent states, reclaim what is due */
	for (int i = 0; i < 1000 && atomic_load(&n_freed) < swaps - 1; i++) {
		obs_tables_reclaim();
		usleep(1000);
	}
	atomic_store(&stop, 1);
	rte_eal_mp_wait_lcore();
	assert_int_equal(atomic_load(&bad_seen), 0);
	assert_int_equal(atomic_load(&freed_busy), 0);
	assert_true(atomic_load(&reads[0]) > 0 && atomic_load(&reads[1]) > 0);
	assert_int_equal(atomic_load(&n_freed), swaps - 1);    /* every retired one, once */
	obs_tables_fini();                                       /* frees the live one */
	assert_int_equal(atomic_load(&n_freed), swaps);
	for (unsigned i = 0; i < atomic_load(&n_grave) && i < 4096; i++)
		free(graveyard[i]);
	printf("rcu: %u swaps, %lu + %lu reads, every table freed once, never while read\n",
	       swaps, atomic_load(&reads[0]), atomic_load(&reads[1]));
}

static int brute(const struct obs_pfx_list *l, uint32_t a)
{
	for (size_t i = 0; i < l->n; i++) {
		uint32_t m = l->pfx[i].len ? 0xffffffffu << (32 - l->pfx[i].len) : 0;
		if ((a & m) == l->pfx[i].addr)
			return 1;
	}
	return 0;
}

static void test_scanner(void **state)
{
	char path[4096], err[512];
	const char *src = getenv("OBS_SRCDIR");
	struct obs_scanner_tab *t;
	uint32_t addr[64], hop[64];
	uint64_t x = 12345, hits = 0;

	(void)state;
	snprintf(path, sizeof(path), "%s/conf/scanner-ips.txt", src ? src : ".");
	t = obs_scanner_build(path, err, sizeof(err));
	assert_non_null(t);
	for (size_t i = 0; i < t->list.n; i++) {
		const struct obs_pfx *p = &t->list.pfx[i];
		uint32_t last = p->addr | (p->len < 32 ? 0xffffffffu >> p->len : 0);
		addr[0] = p->addr;
		addr[1] = last;
		addr[2] = p->addr - 1;
		addr[3] = last + 1;
		obs_scanner_lookup_bulk(t, addr, hop, 4);
		for (int k = 0; k < 4; k++)
			assert_int_equal(obs_scanner_hit(hop[k]), brute(&t->list, addr[k]));
	}
	for (int round = 0; round < 20000; round++) {
		for (int k = 0; k < 64; k++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			/* half near listed prefixes, half anywhere */
			addr[k] = k % 2 ? (uint32_t)x :
				t->list.pfx[x % t->list.n].addr + (uint32_t)((x >> 32) & 0x3ff);
		}
		obs_scanner_lookup_bulk(t, addr, hop, 64);
		for (int k = 0; k < 64; k++) {
			int want = brute(&t->list, addr[k]);
			assert_int_equal(obs_scanner_hit(hop[k]), want);
			hits += (uint64_t)want;
		}
	}
	assert_true(hits > 0);
	obs_scanner_free(t);

	/* refusals: a bad line (named), no file, no prefix, /0 */
	char bad[] = "/tmp/obs_scan_badXXXXXX";
	int fd = mkstemp(bad);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "# x\n1.2.3.0/24 ok\n1.2.3.4/24 oops\n", 34), 34);
	close(fd);
	assert_null(obs_scanner_build(bad, err, sizeof(err)));
	assert_non_null(strstr(err, ":3: host bits set"));
	fd = open(bad, O_WRONLY | O_TRUNC);
	assert_int_equal(write(fd, "# only comments\n2001:db8::/32 v6\n", 33), 33);
	close(fd);
	assert_null(obs_scanner_build(bad, err, sizeof(err)));
	assert_non_null(strstr(err, "no IPv4 prefix"));
	fd = open(bad, O_WRONLY | O_TRUNC);
	assert_int_equal(write(fd, "0.0.0.0/0 all\n", 14), 14);
	close(fd);
	assert_null(obs_scanner_build(bad, err, sizeof(err)));
	assert_non_null(strstr(err, "/0"));
	unlink(bad);
	assert_null(obs_scanner_build("/nonexistent/scanners.txt", err, sizeof(err)));
	assert_non_null(strstr(err, "/nonexistent/scanners.txt"));
}

#define TESTS(T) T(test_scanner) T(test_rcu)
OBS_TEST_MAIN_EAL(TESTS, "obs-tabs", "256", "--lcores", "0@0,1@1,2@0")
