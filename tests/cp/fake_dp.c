/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fake_dp.c — a stand-in dataplane for the control-plane tests (no DPDK).
 *
 * Creates an exchange exactly as exchange.h describes (v2: obx_layout_init with an SRC
 * and a CELL table, see fd_cells(); obx_slots_init; built under a
 * temporary name and renamed into place, as obscura-dp does), then publishes scripted
 * epochs: N workers, K epochs each, source records and counter deltas derived from a
 * seed, so the same arguments always publish the same data.  Like a real worker it fills
 * a slot only once the control plane has freed it (state FREE, acquire), writes the
 * records and the deltas, and publishes with a release store.
 *
 * The expected totals are computed independently of the control plane's code (plain
 * arrays indexed by source number) and written as JSON, so a test can compare them with
 * what obscura-cp reports: nothing lost, nothing counted twice.
 *
 * With --serve-s it then stays running that long and answers the command mailbox
 * (cmdbox.h) as the dataplane's main lcore does: each request shows as running (run_seq)
 * for --cmd-ms, then is answered — loaded, or refused for the table named by --refuse —,
 * so the control plane's non-blocking reloads can be tested without DPDK.
 *
 *   fake_dp --path P [--workers N] [--epochs K] [--seed S] [--sources M] [--per-epoch R]
 *           [--src-capacity C] [--cell-capacity C2] [--sensors S] [--interval-ms I]
 *           [--boot-id HEX]
 *           [--stop-after E] [--no-finish] [--wait-drained SEC] [--timeout-s SEC]
 *           [--serve-s SEC] [--cmd-ms MS] [--refuse TABLE]
 *           [--expect FILE] [--print-expected] [--bad-used]
 *           [--mode OCTAL] [--owner UID] [--forge-capacity-after E] [--forge-packets E]
 *           [--forge-used-after E] [--leave-filling] [--hang-s SEC]
 *           [--no-loss] [--gap-at E] [--time-base SEC]
 *           [--dos-capacity C]
 * --bad-used: every SRC used-index list (exchange.h) also repeats its first index and
 * names one past the capacity: the control plane must count each record once anyway.
 *
 * A writer that lies (the control plane must refuse or count, never crash or journal
 * garbage):
 * --mode, --owner: the file's mode and owner before it is renamed into place (default
 *   0600, the creator): a file others could have written.
 * --forge-capacity-after E: once epoch E is drained, the header's SRC capacity becomes
 *   2^30 (still a power of two) while the slots stay as they are: a reader that re-reads
 *   the header after validating it follows offsets far past the mapping.
 * --forge-used-after E: epochs after E also claim n_used = 2^31 in every hash table's
 *   slot header (the used lists are as written).
 * --forge-packets E: epoch E carries no records and counters of 10^12 packets, more than
 *   any link gives in an epoch; it is left out of the expected totals.
 *
 * A dataplane that dies or hangs:
 * --leave-filling: after the epochs every worker takes its next slot, records a source
 *   in it (FILLING, with its live last_pkt_ns) and the process exits without publishing
 *   it or saying FINISHED, as a SIGKILLed dataplane does; those records are not expected.
 * --hang-s SEC: then (or after the epochs) write the expected totals and stay alive SEC
 *   seconds, state RUNNING, without a heartbeat.
 * --no-loss: no lost updates in the deltas (a clean period); --gap-at E: worker 0 skips
 * seq E (its epochs E.. carry seq E+1..: one epoch missing, as a lost slot would leave);
 * --time-base SEC: packet time of epoch e is SEC + e seconds (default 1700000000).
 *
 * DoS backscatter (kind 6, docs/dos.md) — --dos-capacity C (a power of two, 0: no table,
 * the default): every epoch of worker w holds one good record (victim 11.0.0.(w+1), 40
 * packets in the first half second of the epoch's second, port 80, TCP) and FD_DOS_FORGED
 * forged ones the dataplane cannot have written (first > last, the minute not the
 * packets', an unknown protocol bit, more ports listed than n_ports counts): the control
 * plane must count those as bad records and build one attack per worker from the rest.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "clock_ns.h"
#include "exchange.h"
#include "exchange_recs.h"

struct fd_opts {
	const char *path, *expect;
	uint32_t workers, epochs, sources, per_epoch, src_capacity, sensors, interval_ms;
	uint32_t cell_capacity;   /* the second kind's table (0: SRC only) */
	uint32_t stop_after;      /* 0: all */
	uint64_t seed, boot_id;
	bool finish, print_expected, bad_used, no_loss;
	uint32_t gap_at;          /* worker 0 skips this seq (0: none) */
	uint64_t time_base;       /* packet time of epoch 0, seconds */
	uint32_t wait_drained_s, timeout_s;
	uint32_t serve_s, cmd_ms;  /* the command mailbox (cmdbox.h) */
	const char *refuse;
	uint32_t mode;            /* file mode (--mode) */
	int64_t owner;            /* -1: the creator */
	uint32_t forge_cap_after, forge_packets, forge_used_after;  /* 0: off */
	bool leave_filling;
	uint32_t hang_s;
	uint32_t dos_capacity;    /* DoS backscatter table (kind 6); 0: none */
};

/* expected: one entry per pool source number (addr is a function of it) */
struct fd_src {
	uint64_t first_ns, last_ns, packets, mask;
};

static struct fd_opts o = {
	.workers = 2, .epochs = 20, .sources = 500, .per_epoch = 60, .src_capacity = 1024,
	.cell_capacity = 64,
	.sensors = 2, .interval_ms = 5, .seed = 1, .finish = true, .timeout_s = 120,
	.mode = 0600, .owner = -1,
	.time_base = 1700000000,
};

static uint64_t fd_splitmix(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Source number i -> address: a bijection on the low 24 bits (odd multiplier), so
 * distinct numbers never collide; the seed shifts it so boots overlap partly. */
static uint32_t fd_addr(uint64_t i)
{
	return 0x0b000000u | (uint32_t)(((i + o.seed * 7919u) * 2654435761u) & 0xffffffu);
}


/* Fill one epoch's records (into a slot table, or none) and deltas; update expected. */
static uint32_t fd_epoch(uint32_t w, uint32_t e, struct obx_src_rec *tab, uint32_t *used,
                         uint32_t cap, struct obx_counters *d, struct fd_src *exp)
{
	uint64_t rng = o.seed * 1000003u + (uint64_t)w * 7777u + (uint64_t)e * 131u;
	uint64_t base = 1700000000ull * 1000000000ull + (uint64_t)e * 1000000000ull;
	uint32_t n = (uint32_t)(o.per_epoch / 2 + fd_splitmix(&rng) % o.per_epoch), n_used = 0;
	uint32_t per_worker = o.sources / o.workers;

	memset(d, 0, sizeof(*d));
	if (n > cap * 7 / 10)
		n = cap * 7 / 10;
	for (uint32_t k = 0; k < n; k++) {
		/* a source belongs to one worker, as RSS on the source address does */
		uint64_t i = (fd_splitmix(&rng) % per_worker) * o.workers + w;
		uint32_t addr = fd_addr(i);
		uint64_t t = base + fd_splitmix(&rng) % 1000000000ull;
		uint64_t last = t + fd_splitmix(&rng) % 1000;
		uint64_t pk = 1 + fd_splitmix(&rng) % 50;
		uint64_t mask = 1ull << (fd_splitmix(&rng) % o.sensors);
		uint32_t j;

		if (tab != NULL) {
			/* keyed by address only (one second of packet time: the hour is that
			 * of its first packet); the control plane does not care where a record
			 * sits, only that it is one per key */
			for (j = obx_src_hash(addr) & (cap - 1); tab[j].packets != 0 &&
			     tab[j].addr != addr; j = (j + 1) & (cap - 1))
				;
			if (tab[j].packets == 0) {
				tab[j].addr = addr;
				tab[j].hour = (uint32_t)(t / OBX_HOUR_NS);
				tab[j].first_ns = t;
				tab[j].last_ns = last;
				used[n_used++] = j;   /* exchange.h: publish what is used */
			} else {
				if (t < tab[j].first_ns)
					tab[j].first_ns = t;
				if (last > tab[j].last_ns)
					tab[j].last_ns = last;
			}
			tab[j].packets += pk;
			tab[j].sensor_mask |= mask;
		}
		if (exp[i].packets == 0 || t < exp[i].first_ns)
			exp[i].first_ns = t;
		if (last > exp[i].last_ns)
			exp[i].last_ns = last;
		exp[i].packets += pk;
		exp[i].mask |= mask;

		d->tel_packets += pk;
		d->tel_bytes += pk * 60;
		d->proto_packets[fd_splitmix(&rng) % OBX_P_N] += pk;
	}
	for (uint32_t r = 0; r < OBX_DROP_N; r++)
		d->drops[r] = fd_splitmix(&rng) % 4;
	d->rx_packets = d->tel_packets;
	d->rx_bytes = d->tel_bytes;
	for (uint32_t r = 0; r < OBX_DROP_N; r++) {
		d->rx_packets += d->drops[r];
		d->rx_bytes += d->drops[r] * 64;
	}
	d->lost_updates = fd_splitmix(&rng) % 3;
	d->time_backwards = fd_splitmix(&rng) % 2;
	return n_used;
}

static void fd_counters_add(struct obx_counters *a, const struct obx_counters *b)
{
	uint64_t *x = (uint64_t *)a;
	const uint64_t *y = (const uint64_t *)b;

	for (size_t i = 0; i < sizeof(*a) / 8; i++)
		x[i] += y[i];
}

static void fd_print_counters(FILE *f, const struct obx_counters *c)
{
	static const char *const drops[OBX_DROP_N] = OBX_DROP_NAMES;
	static const char *const protos[OBX_P_N] = { "tcp", "udp", "icmp", "other" };

	fprintf(f, "{\"rx_packets\":%" PRIu64 ",\"rx_bytes\":%" PRIu64 ",\"tel_packets\":%" PRIu64
	        ",\"tel_bytes\":%" PRIu64 ",\"lost_updates\":%" PRIu64 ",\"time_backwards\":%" PRIu64
	        ",\"forced_swaps\":%" PRIu64 ",\"drops\":{", c->rx_packets, c->rx_bytes,
	        c->tel_packets, c->tel_bytes, c->lost_updates, c->time_backwards, c->forced_swaps);
	for (int i = 0; i < OBX_DROP_N; i++)
		fprintf(f, "%s\"%s\":%" PRIu64, i ? "," : "", drops[i], c->drops[i]);
	fprintf(f, "},\"protocols\":{");
	for (int i = 0; i < OBX_P_N; i++)
		fprintf(f, "%s\"%s\":%" PRIu64, i ? "," : "", protos[i], c->proto_packets[i]);
	fprintf(f, "}}");
}

static int fd_write_expected(FILE *f, const struct fd_src *exp, const struct obx_counters *tot,
                             const struct obx_counters *per, uint64_t epochs)
{
	bool first = true;

	fprintf(f, "{\"boot_id\":\"%016" PRIx64 "\",\"epochs\":%" PRIu64 ",\"total\":", o.boot_id,
	        epochs);
	fd_print_counters(f, tot);
	fprintf(f, ",\"workers\":[");
	for (uint32_t w = 0; w < o.workers; w++) {
		fprintf(f, "%s", w ? "," : "");
		fd_print_counters(f, &per[w]);
	}
	fprintf(f, "],\"sources\":[");
	for (uint64_t i = 0; i < o.sources; i++) {
		uint32_t a;

		if (exp[i].packets == 0)
			continue;
		a = fd_addr(i);
		fprintf(f, "%s{\"addr\":\"%u.%u.%u.%u\",\"first_ns\":%" PRIu64 ",\"last_ns\":%" PRIu64
		        ",\"packets\":%" PRIu64 ",\"sensor_mask\":%" PRIu64 "}", first ? "" : ",",
		        a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255, exp[i].first_ns,
		        exp[i].last_ns, exp[i].packets, exp[i].mask);
		first = false;
	}
	fprintf(f, "]}\n");
	return ferror(f) ? -EIO : 0;
}

/*
 * The second kind (v2 layout test): a CELL table of FD_CELL_SIZE-byte records, each
 * { u64 count (non-zero), u32 worker, u32 epoch, u64 seq-of-record, pad } — a few per
 * epoch, so a drained table is never just SRC.  The control plane journals and
 * snapshots them generically; without a consumer it drops them after the journal.
 */
#define FD_CELL_SIZE 64u

static uint32_t fd_cells(uint32_t w, uint32_t e, uint8_t *tab, uint32_t *used, uint32_t cap)
{
	uint32_t n = 1 + (w + e) % 4;

	if (tab == NULL || cap == 0)
		return 0;
	for (uint32_t k = 0; k < n && k < cap / 2; k++) {
		uint8_t *r = tab + (size_t)((e * 7u + k * 13u + w) & (cap - 1)) * FD_CELL_SIZE;
		uint64_t count = 1000ull * e + w + 1, id = k;
		uint32_t ww = w, ee = e;

		while (!obx_rec_empty(r, FD_CELL_SIZE))   /* linear probing */
			r = tab + (size_t)(((size_t)(r - tab) / FD_CELL_SIZE + 1) & (cap - 1)) *
			    FD_CELL_SIZE;
		memcpy(r, &count, 8);
		memcpy(r + 8, &ww, 4);
		memcpy(r + 12, &ee, 4);
		memcpy(r + 16, &id, 8);
		used[k] = (uint32_t)((size_t)(r - tab) / FD_CELL_SIZE);
	}
	return n < cap / 2 ? n : cap / 2;
}

#define FD_DOS_FORGED 4u

static uint32_t fd_dos(uint32_t w, uint64_t t_ns, uint8_t *tab, uint32_t *used, uint32_t cap)
{
	struct obx_dos_rec r[1 + FD_DOS_FORGED];
	uint32_t n = 0;

	if (tab == NULL || cap == 0)
		return 0;
	memset(r, 0, sizeof(r));
	for (unsigned k = 0; k <= FD_DOS_FORGED; k++) {
		r[k].victim = 0x0b000001u + w + (k ? 0x100u * k : 0);
		r[k].first_ns = t_ns;
		r[k].last_ns = t_ns + 500000000ull;
		r[k].minute = (uint32_t)(t_ns / OBX_MINUTE_NS);
		r[k].packets = 40;
		r[k].ports[0] = 80;
		r[k].n_ports = 1;
		r[k].proto_mask = 1u << OBX_P_TCP;
		r[k].dark[0] = 0x5;
	}
	r[1].first_ns = r[1].last_ns + 1;          /* first > last */
	r[2].minute++;                             /* not the packets' minute */
	r[3].proto_mask |= 0x40;                   /* no such protocol */
	r[4].ports[1] = 443;                       /* two ports listed, n_ports 1 */
	for (unsigned k = 0; k <= FD_DOS_FORGED && n < cap / 2; k++) {
		uint32_t i = obx_dos_hash(r[k].victim, r[k].minute) & (cap - 1);

		while (!obx_rec_empty(tab + (size_t)i * sizeof(r[0]), sizeof(r[0])))
			i = (i + 1) & (cap - 1);
		memcpy(tab + (size_t)i * sizeof(r[0]), &r[k], sizeof(r[0]));
		used[n++] = i;
	}
	return n;
}

/* The layout as created: what this writer follows, whatever --forge-* does to the
 * header in the mapping. */
static struct obx_header fd_geo;

static struct obx_header *fd_create(size_t *size_out)
{
	struct obx_header tmpl, *h;
	uint32_t cap[OBX_TAB_MAX] = { 0 }, rs[OBX_TAB_MAX] = OBX_REC_SIZES;
	char tmp[600];
	size_t size;
	int fd;

	cap[OBX_TAB_SRC] = o.src_capacity;
	cap[OBX_TAB_CELL] = o.cell_capacity;
	rs[OBX_TAB_CELL] = FD_CELL_SIZE;
	cap[OBX_TAB_DOS] = o.dos_capacity;
	if (obx_layout_init(&tmpl, o.workers, 1, cap, rs) != 0) {
		fprintf(stderr, "fake_dp: bad layout parameters\n");
		return NULL;
	}
	size = tmpl.total_size;
	snprintf(tmp, sizeof(tmp), "%s.tmp-%d", o.path, (int)getpid());
	fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || ftruncate(fd, (off_t)size) != 0 || fchmod(fd, (mode_t)o.mode) != 0 ||
	    (o.owner >= 0 && fchown(fd, (uid_t)o.owner, (gid_t)-1) != 0)) {
		perror("fake_dp: create");
		return NULL;
	}
	h = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (h == MAP_FAILED) {
		perror("fake_dp: mmap");
		return NULL;
	}
	obx_layout_init(h, o.workers, 1, cap, rs);
	obx_slots_init(h);
	fd_geo = *h;
	h->boot_id = o.boot_id;
	h->boot_wall_ns = obs_wall_ns();
	h->dp_pid = (uint32_t)getpid();
	h->n_sensors = o.sensors;
	h->epoch_ns = 1000000000ull;
	for (uint32_t i = 0; i < o.sensors; i++)
		snprintf(h->sensor_names[i], OBX_NAME_LEN, "%s", i == 0 ? "alpha" : i == 1 ? "beta" : "gamma");
	snprintf(obx_port_stats(h, 0)->name, OBX_NAME_LEN, "fake0");
	atomic_store_explicit(&h->dp_state, OBX_DP_RUNNING, memory_order_release);
	if (rename(tmp, o.path) != 0) {
		perror("fake_dp: rename");
		return NULL;
	}
	*size_out = size;
	return h;
}

/* Answer the command mailbox for o.serve_s seconds, one request at a time. */
static void fd_serve(struct obx_header *h)
{
	struct obx_cmd_box *b = &h->cmd;
	uint64_t end = obs_wall_ns() + (uint64_t)o.serve_s * 1000000000ull;

	while (obs_wall_ns() < end) {
		uint64_t req = atomic_load_explicit(&b->req_seq, memory_order_acquire);
		char arg[OBX_CMD_ARG_LEN];

		atomic_store_explicit(&h->heartbeat_ns, obs_wall_ns(), memory_order_relaxed);
		if (req == atomic_load_explicit(&b->done_seq, memory_order_relaxed)) {
			obs_sleep_ms(5);
			continue;
		}
		memcpy(arg, b->arg, sizeof(arg));
		arg[sizeof(arg) - 1] = '\0';
		b->run_wall_ns = obs_wall_ns();
		atomic_store_explicit(&b->run_seq, req, memory_order_release);
		obs_sleep_ms(o.cmd_ms);           /* the table being rebuilt */
		if (b->cmd != OBX_CMD_TABLES_RELOAD) {
			b->result = -ENOSYS;
			snprintf(b->msg, sizeof(b->msg), "unknown command %u", b->cmd);
		} else if (o.refuse != NULL && strcmp(arg, o.refuse) == 0) {
			b->result = -EINVAL;
			snprintf(b->msg, sizeof(b->msg), "%s table refused by fake_dp, old table kept",
			         arg);
		} else {
			b->result = 0;
			snprintf(b->msg, sizeof(b->msg), "%s table loaded by fake_dp (request %llu)",
			         arg, (unsigned long long)req);
		}
		fprintf(stderr, "fake_dp: request %llu (%s): %s\n", (unsigned long long)req, arg,
		        b->msg);
		atomic_store_explicit(&b->done_seq, req, memory_order_release);
	}
}

static int fd_wait_state(struct obx_slot_hdr *sh, uint32_t want, uint64_t deadline)
{
	while (atomic_load_explicit(&sh->state, memory_order_acquire) != want) {
		if (obs_wall_ns() > deadline)
			return -ETIMEDOUT;
		obs_sleep_ms(1);
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "path", 1, NULL, 'p' }, { "workers", 1, NULL, 'w' }, { "epochs", 1, NULL, 'k' },
		{ "seed", 1, NULL, 's' }, { "sources", 1, NULL, 'm' }, { "per-epoch", 1, NULL, 'r' },
		{ "src-capacity", 1, NULL, 'C' }, { "sensors", 1, NULL, 'S' },
		{ "cell-capacity", 1, NULL, 'L' },
		{ "interval-ms", 1, NULL, 'i' }, { "boot-id", 1, NULL, 'b' },
		{ "stop-after", 1, NULL, 'x' }, { "no-finish", 0, NULL, 'F' },
		{ "wait-drained", 1, NULL, 'W' }, { "timeout-s", 1, NULL, 'T' },
		{ "expect", 1, NULL, 'e' }, { "print-expected", 0, NULL, 'P' },
		{ "serve-s", 1, NULL, 'V' }, { "cmd-ms", 1, NULL, 'M' }, { "refuse", 1, NULL, 'R' },
		{ "bad-used", 0, NULL, 'U' }, { "mode", 1, NULL, 'o' }, { "owner", 1, NULL, 'O' },
		{ "forge-capacity-after", 1, NULL, 'c' }, { "forge-packets", 1, NULL, 'g' },
		{ "forge-used-after", 1, NULL, 'u' }, { "leave-filling", 0, NULL, 'l' },
		{ "hang-s", 1, NULL, 'H' }, { "no-loss", 0, NULL, 'N' },
		{ "gap-at", 1, NULL, 'G' }, { "time-base", 1, NULL, 'B' },
		{ "dos-capacity", 1, NULL, 'D' }, { NULL, 0, NULL, 0 },
	};
	struct obx_counters tot, *per;
	struct obx_header *h = NULL;
	struct fd_src *exp;
	uint32_t *cur, n_ep;
	uint64_t epochs = 0;
	size_t size = 0;
	int c, rc = 0;

	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'p': o.path = optarg; break;
		case 'w': o.workers = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 'k': o.epochs = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 's': o.seed = strtoull(optarg, NULL, 0); break;
		case 'm': o.sources = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 'r': o.per_epoch = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 'C': o.src_capacity = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 'L': o.cell_capacity = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 'S': o.sensors = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 'i': o.interval_ms = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 'b': o.boot_id = strtoull(optarg, NULL, 16); break;
		case 'x': o.stop_after = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 'N': o.no_loss = true; break;
		case 'G': o.gap_at = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 'B': o.time_base = strtoull(optarg, NULL, 0); break;
		case 'D': o.dos_capacity = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 'F': o.finish = false; break;
		case 'W': o.wait_drained_s = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 'T': o.timeout_s = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 'e': o.expect = optarg; break;
		case 'P': o.print_expected = true; break;
		case 'V': o.serve_s = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 'M': o.cmd_ms = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 'R': o.refuse = optarg; break;
		case 'U': o.bad_used = true; break;
		case 'o': o.mode = (uint32_t)strtoul(optarg, NULL, 8); break;
		case 'O': o.owner = strtoll(optarg, NULL, 0); break;
		case 'c': o.forge_cap_after = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 'g': o.forge_packets = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 'u': o.forge_used_after = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 'l': o.leave_filling = true; o.finish = false; break;
		case 'H': o.hang_s = (uint32_t)strtoul(optarg, NULL, 0); break;
		default:
			fprintf(stderr, "fake_dp: see the comment at the top of fake_dp.c\n");
			return 2;
		}
	}
	if ((!o.print_expected && o.path == NULL) || o.workers < 1 || o.workers > OBX_MAX_WORKERS ||
	    o.sensors < 1 || o.sensors > 64 || o.sources < o.workers || o.per_epoch < 2) {
		fprintf(stderr, "fake_dp: bad arguments\n");
		return 2;
	}
	if (o.boot_id == 0)
		o.boot_id = 0xb0070000ull + o.seed;
	exp = calloc(o.sources, sizeof(*exp));
	per = calloc(o.workers, sizeof(*per));
	cur = calloc(o.workers, sizeof(*cur));
	if (exp == NULL || per == NULL || cur == NULL)
		return 1;
	memset(&tot, 0, sizeof(tot));
	n_ep = o.stop_after != 0 && o.stop_after < o.epochs ? o.stop_after : o.epochs;

	if (!o.print_expected) {
		h = fd_create(&size);
		if (h == NULL)
			return 1;
		fprintf(stderr, "fake_dp: boot %016" PRIx64 " pid %d: %u worker(s) x %u epoch(s) on %s\n",
		        o.boot_id, (int)getpid(), o.workers, n_ep, o.path);
	}
	for (uint32_t e = 1; e <= n_ep; e++) {
		for (uint32_t w = 0; w < o.workers; w++) {
			struct obx_counters d;

			if (h == NULL) {
				fd_epoch(w, e, NULL, NULL, o.src_capacity, &d, exp);
				if (o.no_loss)
					d.lost_updates = 0;
			} else {
				struct obx_slot_hdr *sh = obx_slot(h, w, cur[w]);
				uint64_t deadline = obs_wall_ns() + (uint64_t)o.timeout_s * 1000000000ull;

				/* a worker takes a slot only once the control plane freed it */
				if (fd_wait_state(sh, OBX_SLOT_FREE, deadline) != 0) {
					fprintf(stderr, "fake_dp: worker %u: slot %u not freed within %u s\n",
					        w, cur[w], o.timeout_s);
					rc = 3;
					goto out;
				}
				if (o.forge_cap_after != 0 && e == o.forge_cap_after + 1 && w == 0) {
					/* every epoch up to E drained: the reader validated the header */
					for (uint32_t ww = 0; ww < o.workers; ww++)
						for (uint32_t ss = 0; ss < OBX_SLOTS; ss++)
							if (fd_wait_state(obx_slot(h, ww, ss), OBX_SLOT_FREE,
							                  deadline) != 0) {
								rc = 3;
								goto out;
							}
					h->tab_capacity[OBX_TAB_SRC] = 1u << 30;
					fprintf(stderr, "fake_dp: header SRC capacity forged to 2^30\n");
				}
				atomic_store_explicit(&sh->state, OBX_SLOT_FILLING, memory_order_relaxed);
				sh->worker = w;
				if (e == o.forge_packets) {
					/* forged: no records, impossible counters, not expected */
					memset(&d, 0, sizeof(d));
					d.rx_packets = d.tel_packets = 1000000000000ull;
					d.proto_packets[OBX_P_UDP] = d.tel_packets;
					d.rx_bytes = d.tel_bytes = d.tel_packets * 60;
					for (unsigned k = 0; k < OBX_TAB_MAX; k++)
						sh->tabs[k].n_used = 0;
					sh->seq = e;
					sh->t_first_ns = 1700000000ull * 1000000000ull +
					                 (uint64_t)e * 1000000000ull;
					sh->t_last_ns = sh->t_first_ns + 999999999ull;
					sh->flags = 0;
					sh->delta = d;
					sh->published_wall_ns = obs_wall_ns();
					atomic_store_explicit(&sh->state, OBX_SLOT_READY,
					                      memory_order_release);
					fprintf(stderr, "fake_dp: worker %u epoch %u forged: 10^12 packets\n",
					        w, e);
					cur[w] ^= 1u;
					continue;
				}
				sh->tabs[OBX_TAB_SRC].n_used = fd_epoch(w, e, obx_slot_src(sh),
				                                        obx_slot_used_h(&fd_geo, sh, OBX_TAB_SRC),
				                                        o.src_capacity, &d, exp);
				if (o.bad_used && sh->tabs[OBX_TAB_SRC].n_used > 0 &&
				    sh->tabs[OBX_TAB_SRC].n_used + 2 <= o.src_capacity) {
					uint32_t *u = obx_slot_used_h(&fd_geo, sh, OBX_TAB_SRC);
					uint32_t nu = sh->tabs[OBX_TAB_SRC].n_used;

					u[nu] = u[0];                  /* repeated */
					u[nu + 1] = o.src_capacity + 5; /* out of range */
					sh->tabs[OBX_TAB_SRC].n_used = nu + 2;
				}
				sh->tabs[OBX_TAB_CELL].n_used = fd_cells(w, e, obx_slot_tab(sh, OBX_TAB_CELL),
				                                         obx_slot_used_h(&fd_geo, sh, OBX_TAB_CELL),
				                                         o.cell_capacity);
				sh->tabs[OBX_TAB_DOS].n_used = fd_dos(w, o.time_base * 1000000000ull +
				                                      (uint64_t)e * 1000000000ull,
				                                      obx_slot_tab(sh, OBX_TAB_DOS),
				                                      obx_slot_used_h(&fd_geo, sh, OBX_TAB_DOS),
				                                      o.dos_capacity);
				if (o.forge_used_after != 0 && e > o.forge_used_after)
					for (unsigned k = 0; k < OBX_TAB_MAX; k++)
						if (obx_tab_is_hash(k) && fd_geo.tab_capacity[k] != 0)
							sh->tabs[k].n_used = 1u << 31;
				if (o.no_loss)
					d.lost_updates = 0;
				sh->seq = w == 0 && o.gap_at != 0 && e >= o.gap_at ? e + 1 : e;
				sh->t_first_ns = o.time_base * 1000000000ull + (uint64_t)e * 1000000000ull;
				sh->t_last_ns = sh->t_first_ns + 999999999ull;
				sh->flags = e == o.epochs ? OBX_SLOT_F_FINAL : 0;
				sh->delta = d;
				sh->published_wall_ns = obs_wall_ns();
				fd_counters_add(&obx_worker_live(h, w)->total, &d);
				obx_worker_live(h, w)->seq_published = sh->seq;
				obx_port_stats(h, 0)->ipackets += d.rx_packets;
				obx_port_stats(h, 0)->ibytes += d.rx_bytes;
				atomic_store_explicit(&h->heartbeat_ns, obs_wall_ns(), memory_order_relaxed);
				atomic_store_explicit(&sh->state, OBX_SLOT_READY, memory_order_release);
				cur[w] ^= 1u;
			}
			fd_counters_add(&tot, &d);
			fd_counters_add(&per[w], &d);
			epochs++;
		}
		if (h != NULL && o.interval_ms)
			obs_sleep_ms(o.interval_ms);
	}
	if (h != NULL && o.leave_filling) {
		for (uint32_t w = 0; w < o.workers; w++) {
			struct obx_slot_hdr *sh = obx_slot(h, w, cur[w]);
			uint64_t deadline = obs_wall_ns() + (uint64_t)o.timeout_s * 1000000000ull;
			uint64_t t = 1700000000ull * 1000000000ull + (uint64_t)(n_ep + 1) * 1000000000ull;
			struct obx_src_rec *r = obx_slot_src(sh);

			if (fd_wait_state(sh, OBX_SLOT_FREE, deadline) != 0) {
				rc = 3;
				goto out;
			}
			atomic_store_explicit(&sh->state, OBX_SLOT_FILLING, memory_order_relaxed);
			r->addr = 0x0b0000ffu + w;
			r->hour = (uint32_t)(t / OBX_HOUR_NS);
			r->first_ns = r->last_ns = t;
			r->packets = 7;
			obx_worker_live(h, w)->last_pkt_ns = t;
		}
		fprintf(stderr, "fake_dp: every worker's epoch %u left FILLING; exiting unpublished\n",
		        n_ep + 1);
	}
	if (h != NULL && o.hang_s) {
		/* the expected totals first: a test may kill a hung dataplane */
		if (o.expect != NULL) {
			FILE *f = fopen(o.expect, "w");

			if (f == NULL || fd_write_expected(f, exp, &tot, per, epochs) != 0 ||
			    fclose(f) != 0) {
				perror("fake_dp: expect file");
				rc = 1;
				goto out;
			}
		}
		fprintf(stderr, "fake_dp: hanging %u s without a heartbeat\n", o.hang_s);
		sleep(o.hang_s);
	}
	if (h != NULL && o.serve_s)
		fd_serve(h);
	if (h != NULL && o.finish && n_ep == o.epochs) {
		atomic_store_explicit(&h->dp_state, OBX_DP_FINISHED, memory_order_release);
		if (o.wait_drained_s) {
			uint64_t deadline = obs_wall_ns() + (uint64_t)o.wait_drained_s * 1000000000ull;

			for (uint32_t w = 0; w < o.workers; w++)
				for (uint32_t s = 0; s < OBX_SLOTS; s++)
					if (fd_wait_state(obx_slot(h, w, s), OBX_SLOT_FREE, deadline) != 0) {
						fprintf(stderr, "fake_dp: not drained within %u s\n",
						        o.wait_drained_s);
						rc = 4;
						goto out;
					}
			atomic_store_explicit(&h->dp_state, OBX_DP_EXITED, memory_order_release);
		}
	}
out:
	if (o.print_expected) {
		fd_write_expected(stdout, exp, &tot, per, epochs);
	} else if (o.expect != NULL) {
		FILE *f = fopen(o.expect, "w");

		if (f == NULL || fd_write_expected(f, exp, &tot, per, epochs) != 0 || fclose(f) != 0) {
			perror("fake_dp: expect file");
			rc = rc ? rc : 1;
		}
	}
	if (h != NULL)
		munmap(h, size);
	free(exp);
	free(per);
	free(cur);
	return rc;
}
