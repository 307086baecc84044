/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rdns.c — PTR names from an operator file and from c-ares; see rdns.h.
 *
 * The cache is the control plane's hash table (htab.h) keyed by address, the entry's
 * state its in-use mark (grows at half load).  A live
 * run sends queries while the token bucket has tokens and fewer than max_inflight are out,
 * and drives c-ares with select() until every query has an answer or the budget ends;
 * then outstanding queries are cancelled (ARES_ECANCELLED, counted as deferred).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <time.h>

#include <ares.h>

#include "htab.h"
#include "rdns.h"

enum { RS_EMPTY = 0, RS_FILE, RS_NAME, RS_NEG, RS_PENDING, RS_FAILED };

struct rd_ent {
	uint32_t addr;
	uint8_t state;       /* RS_*; RS_EMPTY (0) only in a free slot */
	char *name;
};

struct cp_rdns {
	struct cp_ht tab;    /* struct rd_ent by addr */
	size_t n_file;
	bool live;
	ares_channel ch;
	double rate;
	double tokens;
	double t_tokens;     /* time of the last refill, s */
	unsigned max_inflight;
	unsigned inflight;
	bool cancelling;
	struct cp_rdns_stats st;
};

struct rd_query {
	struct cp_rdns *r;
	uint32_t addr;
};

static double rd_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint64_t rd_hash(const void *key, const void *ctx)
{
	uint32_t a;

	(void)ctx;
	memcpy(&a, key, sizeof(a));
	return (a * 2654435761u) ^ (a >> 16);
}

static const struct cp_ht_type rd_t = {
	.size = sizeof(struct rd_ent), .key_size = sizeof(uint32_t),
	.used_off = offsetof(struct rd_ent, state), .used_len = 1,
	.load_num = 1, .load_den = 2, .min_cap = 1024, .hash = rd_hash,
};

static struct rd_ent *rd_get(struct cp_rdns *r, uint32_t addr)
{
	return cp_ht_find(&r->tab, &rd_t, &addr);
}

/* Set addr's state and name (copied), creating its entry.  0 or -ENOMEM (nothing
 * changed). */
static int rd_set(struct cp_rdns *r, uint32_t addr, uint8_t state, const char *name)
{
	char *dup = NULL;
	struct rd_ent *e;
	bool isnew;

	if (name != NULL && (dup = strdup(name)) == NULL)
		return -ENOMEM;
	e = cp_ht_insert(&r->tab, &rd_t, &addr, &isnew);
	if (e == NULL) {
		free(dup);
		return -ENOMEM;
	}
	if (isnew)
		e->addr = addr;
	free(e->name);
	e->name = dup;
	e->state = state;
	return 0;
}

static int rd_load_file(struct cp_rdns *r, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	char line[1024];
	unsigned lineno = 0;
	if (f == NULL) {
		snprintf(err, errlen, "PTR file %s: %s", path, strerror(errno));
		return -errno;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		lineno++;
		char *s = line, *ip, *name, *end;
		s[strcspn(s, "\r\n")] = '\0';
		while (*s == ' ' || *s == '\t')
			s++;
		if (*s == '\0' || *s == '#')
			continue;
		ip = s;
		s += strcspn(s, " \t,");
		if (*s == '\0') {
			snprintf(err, errlen, "PTR file %s: line %u: expected 'ip name'", path, lineno);
			fclose(f);
			return -EINVAL;
		}
		*s++ = '\0';
		s += strspn(s, " \t,");
		name = s;
		end = name + strcspn(name, " \t#");
		*end = '\0';
		size_t nl = strlen(name);
		if (nl > 0 && name[nl - 1] == '.')
			name[--nl] = '\0';   /* absolute form */
		struct in_addr a;
		if (inet_pton(AF_INET, ip, &a) != 1 || nl == 0 || nl > 253) {
			snprintf(err, errlen, "PTR file %s: line %u: %s", path, lineno,
				 nl == 0 || nl > 253 ? "bad name" : "bad IPv4 address");
			fclose(f);
			return -EINVAL;
		}
		if (rd_set(r, ntohl(a.s_addr), RS_FILE, name) < 0) {
			snprintf(err, errlen, "PTR file %s: out of memory", path);
			fclose(f);
			return -ENOMEM;
		}
		r->n_file++;
	}
	fclose(f);
	return 0;
}

struct cp_rdns *cp_rdns_open(const struct cp_rdns_opts *o, char *err, size_t errlen)
{
	struct cp_rdns *r = calloc(1, sizeof(*r));
	if (errlen)
		err[0] = '\0';
	if (r == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	r->rate = o && o->rate > 0 ? o->rate : 50;
	r->max_inflight = o && o->max_inflight ? o->max_inflight : 32;
	cp_ht_init(&r->tab, NULL);
	if (cp_ht_reserve(&r->tab, &rd_t, 1) < 0)
		goto fail;
	if (o && o->file && o->file[0] && rd_load_file(r, o->file, err, errlen) < 0)
		goto fail;
	if (o && o->live) {
		struct ares_options ao;
		memset(&ao, 0, sizeof(ao));
		ao.timeout = o->timeout_ms ? (int)o->timeout_ms : 2000;
		ao.tries = 2;
		ao.lookups = (char *)"b";   /* DNS only: /etc/hosts is no PTR source */
		int st = ares_library_init(ARES_LIB_INIT_ALL);
		if (st == ARES_SUCCESS)
			st = ares_init_options(&r->ch, &ao, ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_LOOKUPS);
		if (st != ARES_SUCCESS) {
			snprintf(err, errlen, "c-ares: %s", ares_strerror(st));
			goto fail;
		}
		r->live = true;
		if (o->servers && o->servers[0] &&
		    (st = ares_set_servers_ports_csv(r->ch, o->servers)) != ARES_SUCCESS) {
			snprintf(err, errlen, "c-ares servers '%s': %s", o->servers, ares_strerror(st));
			goto fail;
		}
	}
	r->tokens = 1;
	r->t_tokens = rd_now();
	return r;
fail:
	cp_rdns_close(r);
	errno = EINVAL;
	return NULL;
}

void cp_rdns_close(struct cp_rdns *r)
{
	if (r == NULL)
		return;
	if (r->live) {
		r->cancelling = true;
		ares_destroy(r->ch);
		ares_library_cleanup();
	}
	struct rd_ent *e;

	for (uint32_t it = 0; (e = cp_ht_next(&r->tab, &rd_t, &it)) != NULL;)
		free(e->name);
	cp_ht_fini(&r->tab);
	free(r);
}

static void rd_callback(void *arg, int status, int timeouts, struct hostent *h)
{
	struct rd_query *q = arg;
	struct cp_rdns *r = q->r;
	r->inflight--;
	if (status == ARES_SUCCESS && h != NULL && h->h_name != NULL && h->h_name[0]) {
		r->st.n_answers++;
		if (rd_set(r, q->addr, RS_NAME, h->h_name) < 0)
			r->st.n_failed++;
	} else if (status == ARES_ENOTFOUND) {
		r->st.n_nxdomain++;
		rd_set(r, q->addr, RS_NEG, NULL);
	} else {
		if (status == ARES_ECANCELLED || status == ARES_EDESTRUCTION)
			r->st.n_deferred++;
		else
			r->st.n_failed++;
		rd_set(r, q->addr, RS_FAILED, NULL);
	}
	free(q);
}

static bool rd_known(struct cp_rdns *r, uint32_t addr)
{
	struct rd_ent *e = rd_get(r, addr);
	return e != NULL && (e->state == RS_FILE || e->state == RS_NAME || e->state == RS_NEG ||
			     e->state == RS_PENDING);
}

static void rd_live(struct cp_rdns *r, const uint32_t *addrs, size_t n, unsigned budget_ms)
{
	double deadline = rd_now() + budget_ms / 1000.0;
	size_t i = 0;
	while (i < n || r->inflight > 0) {
		double now = rd_now();
		if (now >= deadline)
			break;
		r->tokens += (now - r->t_tokens) * r->rate;
		double burst = r->rate < 1 ? 1 : r->rate;
		if (r->tokens > burst)
			r->tokens = burst;
		r->t_tokens = now;
		while (i < n && r->inflight < r->max_inflight && r->tokens >= 1) {
			uint32_t a = addrs[i++];
			if (rd_known(r, a))
				continue;
			struct rd_query *q = malloc(sizeof(*q));
			if (q == NULL || rd_set(r, a, RS_PENDING, NULL) < 0) {
				free(q);
				r->st.n_failed++;
				continue;
			}
			q->r = r;
			q->addr = a;
			struct in_addr ia = { .s_addr = htonl(a) };
			r->tokens -= 1;
			r->inflight++;
			r->st.n_queries++;
			ares_gethostbyaddr(r->ch, &ia, sizeof(ia), AF_INET, rd_callback, q);
		}
		/* wait for c-ares, the next token, or the deadline, whichever is first */
		double wait = deadline - now;
		if (i < n && r->inflight < r->max_inflight && r->tokens < 1) {
			double tw = (1 - r->tokens) / r->rate;
			if (tw < wait)
				wait = tw;
		}
		fd_set rfds, wfds;
		FD_ZERO(&rfds);
		FD_ZERO(&wfds);
		int nfds = ares_fds(r->ch, &rfds, &wfds);
		struct timeval maxtv = { .tv_sec = (time_t)wait, .tv_usec = (suseconds_t)((wait - (double)(time_t)wait) * 1e6) };
		struct timeval tv, *tvp = ares_timeout(r->ch, &maxtv, &tv);
		if (nfds == 0 && r->inflight == 0 && i >= n)
			break;
		select(nfds, &rfds, &wfds, NULL, tvp);
		ares_process(r->ch, &rfds, &wfds);
	}
	if (r->inflight > 0)
		ares_cancel(r->ch);   /* callbacks run now, counting deferred */
	for (; i < n; i++)
		if (!rd_known(r, addrs[i]))
			r->st.n_deferred++;
}

size_t cp_rdns_resolve(struct cp_rdns *r, const uint32_t *addrs, size_t n, const char **names,
		       unsigned budget_ms)
{
	size_t found = 0;
	if (r->live && budget_ms > 0)
		rd_live(r, addrs, n, budget_ms);
	for (size_t i = 0; i < n; i++) {
		struct rd_ent *e = rd_get(r, addrs[i]);
		names[i] = NULL;
		if (e == NULL)
			continue;
		if (e->state == RS_FILE)
			r->st.n_file++;
		else if (e->state == RS_NAME || e->state == RS_NEG)
			r->st.n_cached++;
		if ((e->state == RS_FILE || e->state == RS_NAME) && e->name) {
			names[i] = e->name;
			found++;
		}
	}
	return found;
}

const char *cp_rdns_cached(struct cp_rdns *r, uint32_t addr)
{
	struct rd_ent *e = rd_get(r, addr);
	return e != NULL && (e->state == RS_FILE || e->state == RS_NAME) ? e->name : NULL;
}

const struct cp_rdns_stats *cp_rdns_stats(const struct cp_rdns *r)
{
	return &r->st;
}

size_t cp_rdns_file_entries(const struct cp_rdns *r)
{
	return r->n_file;
}
