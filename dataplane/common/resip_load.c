/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * resip_load.c — RESIP table loaders (CSV and MaxMind residential-proxy MMDB); see
 * resip_load.h for the formats and the failure rules.
 *
 * Speed: the CSV is mmap'ed and parsed in place with hand-written field parsers (no
 * sscanf, no strptime, no per-line allocation); providers are interned by a linear search
 * behind a last-hit cache (≤ 64 names).  Rows are sorted by address with a two-pass LSD
 * radix sort (stable, so rows of one address keep file order), then each address's few
 * rows are insertion-sorted by (provider, first, last) and identical ones merged.
 * 6.2 million rows load in about a second (bench/README.md, "RESIP table").
 *
 * The MMDB has no iterator: the search tree is walked with MMDB_read_node from the IPv4
 * start node, depth-first, at most 32 levels; a node count bound catches cyclic trees in a
 * corrupt file, and every data record is decoded through libmaxminddb's checked API.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <maxminddb.h>

#include "resip_load.h"

static const char *const rej_names[RESIP_REJ_N] = {
	"bad IP", "bad date", "window ends before it starts", "missing fields",
	"too many fields", "bad provider name",
};

const char *resip_reject_name(enum resip_reject r)
{
	return (unsigned)r < RESIP_REJ_N ? rej_names[r] : "?";
}

/* ---------------------------------------------------------------- build state --- */

struct rl_build {
	struct resip_table *t;
	struct resip_load_report *rep;
	size_t cap;
	size_t n;
	struct resip_row *rows;
	unsigned last_prov;
	char *err;
	size_t errlen;
};

static void rl_msg(struct rl_build *b, enum resip_reject r, uint64_t line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void rl_msg(struct rl_build *b, enum resip_reject r, uint64_t line, const char *fmt, ...)
{
	struct resip_load_report *rep = b->rep;
	rep->n_rejected++;
	rep->rejected[r]++;
	if (rep->n_msgs >= RESIP_REPORT_MSGS)
		return;
	char *m = rep->msgs[rep->n_msgs++];
	size_t sz = sizeof(rep->msgs[0]);
	int k = snprintf(m, sz, "line %llu: %s", (unsigned long long)line, rej_names[r]);
	if (k < 0 || (size_t)k >= sz)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(m + k, sz - (size_t)k, fmt, ap);
	va_end(ap);
}

/* Intern a provider name; -E2BIG past RESIP_MAX_PROVIDERS. */
static int rl_provider(struct rl_build *b, const char *s, size_t n)
{
	struct resip_table *t = b->t;
	if (b->last_prov < t->n_providers && strlen(t->providers[b->last_prov]) == n &&
	    memcmp(t->providers[b->last_prov], s, n) == 0)
		return (int)b->last_prov;
	for (unsigned i = 0; i < t->n_providers; i++)
		if (t->providers[i][n] == '\0' && memcmp(t->providers[i], s, n) == 0) {
			b->last_prov = i;
			return (int)i;
		}
	if (t->n_providers >= RESIP_MAX_PROVIDERS)
		return -E2BIG;
	memcpy(t->providers[t->n_providers], s, n);
	t->providers[t->n_providers][n] = '\0';
	b->last_prov = t->n_providers;
	return (int)t->n_providers++;
}

static int rl_push(struct rl_build *b, uint32_t addr, unsigned prov, int64_t first, int64_t last)
{
	if (b->n == b->cap) {
		size_t nc = b->cap ? b->cap * 2 : 4096;
		struct resip_row *r = realloc(b->rows, nc * sizeof(*r));
		if (r == NULL)
			return -ENOMEM;
		b->rows = r;
		b->cap = nc;
	}
	struct resip_row *r = &b->rows[b->n++];
	memset(r, 0, sizeof(*r));
	r->addr = addr;
	r->provider = (uint8_t)prov;
	r->first_ns = first;
	r->last_ns = last;
	b->rep->n_rows_in++;
	return 0;
}

/* ------------------------------------------------------------- field parsers --- */

/* Strict dotted quad: 1-3 digits per octet, no leading zeros, value ≤ 255. */
static int rl_parse_ipv4(const char *s, size_t n, uint32_t *out)
{
	uint32_t a = 0;
	size_t i = 0;
	for (int oct = 0; oct < 4; oct++) {
		if (oct > 0) {
			if (i >= n || s[i] != '.')
				return -EINVAL;
			i++;
		}
		size_t st = i;
		unsigned v = 0;
		while (i < n && s[i] >= '0' && s[i] <= '9' && i - st < 3)
			v = v * 10 + (unsigned)(s[i++] - '0');
		if (i == st || v > 255 || (s[st] == '0' && i - st > 1))
			return -EINVAL;
		a = (a << 8) | v;
	}
	if (i != n)
		return -EINVAL;
	*out = a;
	return 0;
}

static int64_t rl_days_from_civil(int64_t y, unsigned m, unsigned d)
{
	/* H. Hinnant's days_from_civil: days since 1970-01-01 of a proleptic Gregorian date. */
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static int rl_num(const char *s, size_t n, size_t *i, unsigned digits, unsigned *v)
{
	unsigned x = 0;
	for (unsigned k = 0; k < digits; k++, (*i)++) {
		if (*i >= n || s[*i] < '0' || s[*i] > '9')
			return -EINVAL;
		x = x * 10 + (unsigned)(s[*i] - '0');
	}
	*v = x;
	return 0;
}

int resip_parse_time(const char *s, size_t n, bool end_of_day, int64_t *ns)
{
	size_t i = 0;
	bool digits = n > 0;
	for (size_t k = 0; k < n; k++)
		if (s[k] < '0' || s[k] > '9')
			digits = false;
	if (digits) {
		/* epoch seconds: ns fit in int64 until 2262-04-11 (9223372036 s); 10 digits
		 * go on to 9999999999, so the value is checked, not only its length */
		if (n > 10)
			return -ERANGE;
		int64_t v = 0;
		for (size_t k = 0; k < n; k++)
			v = v * 10 + (s[k] - '0');
		if (v > INT64_MAX / 1000000000LL)
			return -ERANGE;
		*ns = v * 1000000000LL;
		return 0;
	}
	unsigned y, mo, d, h = 0, mi = 0, se = 0;
	int64_t frac_ns = 0, off_s = 0;
	static const unsigned mdays[12] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	if (rl_num(s, n, &i, 4, &y) < 0 || i >= n || s[i++] != '-' ||
	    rl_num(s, n, &i, 2, &mo) < 0 || i >= n || s[i++] != '-' ||
	    rl_num(s, n, &i, 2, &d) < 0)
		return -EINVAL;
	if (y < 1970 || y > 2261 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] ||
	    (mo == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)))
		return -EINVAL;
	bool date_only = i == n;
	if (!date_only) {
		if (s[i] != 'T' && s[i] != 't' && s[i] != ' ')
			return -EINVAL;
		i++;
		if (rl_num(s, n, &i, 2, &h) < 0 || i >= n || s[i++] != ':' ||
		    rl_num(s, n, &i, 2, &mi) < 0)
			return -EINVAL;
		if (i < n && s[i] == ':') {
			i++;
			if (rl_num(s, n, &i, 2, &se) < 0)
				return -EINVAL;
			if (i < n && (s[i] == '.' || s[i] == ',')) {
				i++;
				int64_t scale = 100000000;
				size_t st = i;
				while (i < n && s[i] >= '0' && s[i] <= '9') {
					frac_ns += (s[i] - '0') * scale;
					scale /= 10;
					i++;
				}
				if (i == st)
					return -EINVAL;
			}
		}
		if (h > 23 || mi > 59 || se > 60)
			return -EINVAL;
		if (i < n && (s[i] == 'Z' || s[i] == 'z')) {
			i++;
		} else if (i < n && (s[i] == '+' || s[i] == '-')) {
			int sign = s[i++] == '-' ? -1 : 1;
			unsigned oh, om = 0;
			if (rl_num(s, n, &i, 2, &oh) < 0)
				return -EINVAL;
			if (i < n && s[i] == ':')
				i++;
			if (i < n && rl_num(s, n, &i, 2, &om) < 0)
				return -EINVAL;
			if (oh > 23 || om > 59)
				return -EINVAL;
			off_s = sign * (int64_t)(oh * 3600 + om * 60);
		}
		if (i != n)
			return -EINVAL;
	}
	int64_t secs = rl_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se - off_s;
	if (secs < 0)
		return -EINVAL;
	*ns = secs * 1000000000LL + frac_ns;
	if (date_only && end_of_day)
		*ns += 86400LL * 1000000000LL - 1;
	return 0;
}

/* ------------------------------------------------------------------ CSV --- */

#define RL_FIELDS 4
enum { F_IP, F_PROVIDER, F_FIRST, F_LAST };

struct rl_field {
	const char *s;
	size_t n;
	char buf[RESIP_PROVIDER_MAXLEN + 2];  /* unquoted copy when the field was quoted */
};

static void rl_trim(const char **s, size_t *n)
{
	while (*n > 0 && (**s == ' ' || **s == '\t')) {
		(*s)++;
		(*n)--;
	}
	while (*n > 0 && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t' || (*s)[*n - 1] == '\r'))
		(*n)--;
}

/* Split one line into fields; returns the field count (counting past RL_FIELDS), or -1
 * for an unterminated quote. */
static int rl_split(const char *s, size_t n, struct rl_field f[RL_FIELDS])
{
	size_t i = 0;
	int nf = 0;
	for (;;) {
		const char *fs = s + i;
		size_t fn;
		bool quoted = false;
		/* skip leading blanks to see a quote */
		size_t j = i;
		while (j < n && (s[j] == ' ' || s[j] == '\t'))
			j++;
		if (j < n && s[j] == '"') {
			quoted = true;
			size_t k = j + 1, o = 0;
			char *buf = nf < RL_FIELDS ? f[nf].buf : NULL;
			for (;;) {
				if (k >= n)
					return -1;
				if (s[k] == '"') {
					if (k + 1 < n && s[k + 1] == '"') {
						if (buf && o < sizeof(f[0].buf) - 1)
							buf[o] = '"';
						o++;
						k += 2;
						continue;
					}
					k++;
					break;
				}
				if (buf && o < sizeof(f[0].buf) - 1)
					buf[o] = s[k];
				o++;
				k++;
			}
			while (k < n && s[k] != ',')
				k++;   /* junk after the closing quote is ignored up to the comma */
			if (nf < RL_FIELDS) {
				f[nf].s = buf;
				/* an over-long quoted value keeps its true length for the checks */
				f[nf].n = o;
				if (o >= sizeof(f[0].buf))
					f[nf].n = sizeof(f[0].buf);   /* flagged as too long below */
			}
			i = k;
		} else {
			while (i < n && s[i] != ',')
				i++;
			fn = (size_t)(s + i - fs);
			if (nf < RL_FIELDS) {
				f[nf].s = fs;
				f[nf].n = fn;
				rl_trim(&f[nf].s, &f[nf].n);
			}
		}
		(void)quoted;
		nf++;
		if (i >= n)
			return nf;
		i++;   /* the comma */
	}
}

static bool rl_is_ipv6(const char *s, size_t n)
{
	return memchr(s, ':', n) != NULL;
}

static int rl_csv_header(const char *s, size_t n, int col[RL_FIELDS], char *err, size_t errlen)
{
	static const char *const names[RL_FIELDS] = { "ip", "provider", "first_seen", "last_seen" };
	struct rl_field f[RL_FIELDS];
	int nf = rl_split(s, n, f);
	bool seen[RL_FIELDS] = { false };
	if (nf != RL_FIELDS) {
		snprintf(err, errlen, "line 1: header must name the 4 columns ip,provider,first_seen,last_seen (found %d fields)", nf);
		return -EINVAL;
	}
	for (int i = 0; i < RL_FIELDS; i++) {
		int k = -1;
		for (int c = 0; c < RL_FIELDS; c++)
			if (strlen(names[c]) == f[i].n && strncasecmp(names[c], f[i].s, f[i].n) == 0)
				k = c;
		if (k < 0 || seen[k]) {
			snprintf(err, errlen, "line 1: header column %d '%.*s' is not one of ip,provider,first_seen,last_seen%s",
				 i + 1, (int)(f[i].n > 40 ? 40 : f[i].n), f[i].s, k >= 0 ? " (twice)" : "");
			return -EINVAL;
		}
		seen[k] = true;
		col[k] = i;
	}
	return 0;
}

static int rl_csv_line(struct rl_build *b, const char *s, size_t n, uint64_t lineno,
		       const int col[RL_FIELDS])
{
	struct rl_field f[RL_FIELDS];
	int nf = rl_split(s, n, f);
	uint32_t addr;
	int64_t first, last;

	if (nf < 0) {
		rl_msg(b, RESIP_REJ_MISSING, lineno, " (unterminated quote)");
		return 0;
	}
	if (nf > RL_FIELDS) {
		rl_msg(b, RESIP_REJ_TOO_MANY, lineno, " (%d, expected 4)", nf);
		return 0;
	}
	if (nf < RL_FIELDS) {
		rl_msg(b, RESIP_REJ_MISSING, lineno, " (%d, expected 4)", nf);
		return 0;
	}
	const struct rl_field *fi = &f[col[F_IP]], *fp = &f[col[F_PROVIDER]];
	const struct rl_field *ff = &f[col[F_FIRST]], *fl = &f[col[F_LAST]];
	if (fi->n == 0 || fp->n == 0 || ff->n == 0 || fl->n == 0) {
		rl_msg(b, RESIP_REJ_MISSING, lineno, " (empty %s)",
		       fi->n == 0 ? "ip" : fp->n == 0 ? "provider" : ff->n == 0 ? "first_seen" : "last_seen");
		return 0;
	}
	if (rl_parse_ipv4(fi->s, fi->n, &addr) < 0) {
		if (rl_is_ipv6(fi->s, fi->n)) {
			b->rep->n_ipv6++;
			return 0;
		}
		rl_msg(b, RESIP_REJ_BAD_IP, lineno, " '%.*s'", (int)(fi->n > 48 ? 48 : fi->n), fi->s);
		return 0;
	}
	if (fp->n > RESIP_PROVIDER_MAXLEN) {
		rl_msg(b, RESIP_REJ_BAD_PROVIDER, lineno, " (longer than %d bytes)", RESIP_PROVIDER_MAXLEN);
		return 0;
	}
	for (size_t k = 0; k < fp->n; k++)
		if ((unsigned char)fp->s[k] < 0x20 || fp->s[k] == 0x7f) {
			rl_msg(b, RESIP_REJ_BAD_PROVIDER, lineno, " (control character)");
			return 0;
		}
	if (resip_parse_time(ff->s, ff->n, false, &first) < 0) {
		rl_msg(b, RESIP_REJ_BAD_DATE, lineno, " first_seen '%.*s'", (int)(ff->n > 40 ? 40 : ff->n), ff->s);
		return 0;
	}
	if (resip_parse_time(fl->s, fl->n, true, &last) < 0) {
		rl_msg(b, RESIP_REJ_BAD_DATE, lineno, " last_seen '%.*s'", (int)(fl->n > 40 ? 40 : fl->n), fl->s);
		return 0;
	}
	if (last < first) {
		rl_msg(b, RESIP_REJ_WINDOW, lineno, " (%.*s > %.*s)", (int)(ff->n > 40 ? 40 : ff->n), ff->s,
		       (int)(fl->n > 40 ? 40 : fl->n), fl->s);
		return 0;
	}
	int prov = rl_provider(b, fp->s, fp->n);
	if (prov < 0) {
		snprintf(b->err, b->errlen, "line %llu: more than %d providers (provider '%.*s'): the table holds a provider set per address in 64 bits",
			 (unsigned long long)lineno, RESIP_MAX_PROVIDERS, (int)fp->n, fp->s);
		return prov;
	}
	return rl_push(b, addr, (unsigned)prov, first, last);
}

static int rl_load_csv(struct rl_build *b, const char *data, size_t size)
{
	const char *p = data, *end = data + size;
	uint64_t lineno = 0;
	bool have_header = false;
	int col[RL_FIELDS];
	int rc;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		const char *s = p;
		size_t n = (size_t)(le - p);
		p = nl ? nl + 1 : end;
		lineno++;
		rl_trim(&s, &n);
		if (n == 0 || s[0] == '#')
			continue;
		if (memchr(s, '\0', n) != NULL) {
			snprintf(b->err, b->errlen, "line %llu: NUL byte (not a text CSV file)",
				 (unsigned long long)lineno);
			return -EINVAL;
		}
		if (!have_header) {
			uint32_t a;
			const char *c = memchr(s, ',', n);
			if (rl_parse_ipv4(s, c ? (size_t)(c - s) : n, &a) == 0) {
				snprintf(b->err, b->errlen, "line %llu: missing header (expected ip,provider,first_seen,last_seen)",
					 (unsigned long long)lineno);
				return -EINVAL;
			}
			rc = rl_csv_header(s, n, col, b->err, b->errlen);
			if (rc < 0)
				return rc;
			have_header = true;
			continue;
		}
		b->rep->n_lines++;
		rc = rl_csv_line(b, s, n, lineno, col);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* ----------------------------------------------------------------- MMDB --- */

struct rl_mmdb {
	struct rl_build *b;
	MMDB_s *db;
	uint64_t visits;
	uint64_t max_visits;
	uint64_t max_addrs;
	uint64_t n_addrs;
};

static void rl_fmt_net(char *buf, size_t sz, uint32_t a, unsigned len)
{
	snprintf(buf, sz, "%u.%u.%u.%u/%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255, len);
}

static int rl_mmdb_string(MMDB_entry_s *e, const char *key, MMDB_entry_data_s *d)
{
	const char *path[] = { key, NULL };
	int st = MMDB_aget_value(e, d, path);
	if (st == MMDB_LOOKUP_PATH_DOES_NOT_MATCH_DATA_ERROR || st == MMDB_INVALID_LOOKUP_PATH_ERROR)
		return -ENOENT;
	if (st != MMDB_SUCCESS)
		return -EIO;
	if (!d->has_data)
		return -ENOENT;
	return d->type == MMDB_DATA_TYPE_UTF8_STRING ? 0 : -EINVAL;
}

static int rl_mmdb_record(struct rl_mmdb *w, MMDB_entry_s *e, uint32_t net, unsigned len)
{
	struct rl_build *b = w->b;
	MMDB_entry_data_s d;
	char nbuf[24], date[32];
	int64_t last = RESIP_T_OPEN_END;
	int rc;

	b->rep->n_lines++;
	rl_fmt_net(nbuf, sizeof(nbuf), net, len);
	rc = rl_mmdb_string(e, "provider_name", &d);
	if (rc == -EIO) {
		snprintf(b->err, b->errlen, "corrupt data record for %s: %s", nbuf,
			 MMDB_strerror(MMDB_INVALID_DATA_ERROR));
		return -EIO;
	}
	if (rc < 0) {
		rl_msg(b, RESIP_REJ_MISSING, b->rep->n_lines, " (network %s: no provider_name)", nbuf);
		return 0;
	}
	if (d.data_size == 0 || d.data_size > RESIP_PROVIDER_MAXLEN) {
		rl_msg(b, RESIP_REJ_BAD_PROVIDER, b->rep->n_lines, " (network %s)", nbuf);
		return 0;
	}
	for (uint32_t k = 0; k < d.data_size; k++)
		if ((unsigned char)d.utf8_string[k] < 0x20) {
			rl_msg(b, RESIP_REJ_BAD_PROVIDER, b->rep->n_lines, " (network %s)", nbuf);
			return 0;
		}
	const char *pname = d.utf8_string;
	size_t plen = d.data_size;

	rc = rl_mmdb_string(e, "network_last_seen", &d);
	if (rc == -EIO) {
		snprintf(b->err, b->errlen, "corrupt data record for %s", nbuf);
		return -EIO;
	}
	if (rc == -EINVAL || (rc == 0 && (d.data_size >= sizeof(date) ||
					  resip_parse_time(d.utf8_string, d.data_size, true, &last) < 0))) {
		rl_msg(b, RESIP_REJ_BAD_DATE, b->rep->n_lines, " (network %s: network_last_seen)", nbuf);
		return 0;
	}
	int prov = rl_provider(b, pname, plen);
	if (prov < 0) {
		snprintf(b->err, b->errlen, "network %s: more than %d providers (provider '%.*s')",
			 nbuf, RESIP_MAX_PROVIDERS, (int)plen, pname);
		return prov;
	}
	uint64_t count = 1ull << (32 - len);
	if (w->n_addrs + count > w->max_addrs) {
		snprintf(b->err, b->errlen, "network %s: networks expand to more than %llu addresses (the cap)",
			 nbuf, (unsigned long long)w->max_addrs);
		return -E2BIG;
	}
	w->n_addrs += count;
	if (count > 1)
		b->rep->n_expanded += count;
	for (uint64_t k = 0; k < count; k++) {
		rc = rl_push(b, net + (uint32_t)k, (unsigned)prov, RESIP_T_OPEN_START, last);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* Depth-first walk below node; depth = IPv4 bits already fixed in net. */
static int rl_mmdb_walk(struct rl_mmdb *w, uint32_t node, unsigned depth, uint32_t net)
{
	MMDB_search_node_s sn;
	struct rl_build *b = w->b;
	if (++w->visits > w->max_visits) {
		snprintf(b->err, b->errlen, "corrupt search tree (a cycle: more nodes visited than the tree holds)");
		return -EIO;
	}
	if (MMDB_read_node(w->db, node, &sn) != MMDB_SUCCESS) {
		snprintf(b->err, b->errlen, "corrupt search tree (node %u unreadable)", node);
		return -EIO;
	}
	for (unsigned bit = 0; bit < 2; bit++) {
		uint8_t type = bit ? sn.right_record_type : sn.left_record_type;
		uint64_t rec = bit ? sn.right_record : sn.left_record;
		MMDB_entry_s *ent = bit ? &sn.right_record_entry : &sn.left_record_entry;
		uint32_t child = net | (bit ? 1u << (31 - depth) : 0);
		int rc = 0;
		switch (type) {
		case MMDB_RECORD_TYPE_EMPTY:
			break;
		case MMDB_RECORD_TYPE_SEARCH_NODE:
			if (depth + 1 >= 32) {
				snprintf(b->err, b->errlen, "corrupt search tree (deeper than 32 bits in the IPv4 part)");
				return -EIO;
			}
			rc = rl_mmdb_walk(w, (uint32_t)rec, depth + 1, child);
			break;
		case MMDB_RECORD_TYPE_DATA:
			rc = rl_mmdb_record(w, ent, child, depth + 1);
			break;
		default:
			snprintf(b->err, b->errlen, "corrupt search tree (invalid record at node %u)", node);
			return -EIO;
		}
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int rl_load_mmdb(struct rl_build *b, const char *path, uint64_t max_addrs)
{
	MMDB_s db;
	MMDB_search_node_s sn;
	errno = 0;
	int st = MMDB_open(path, MMDB_MODE_MMAP, &db);
	if (st != MMDB_SUCCESS) {
		snprintf(b->err, b->errlen, "%s", MMDB_strerror(st));
		return -EINVAL;
	}
	struct rl_mmdb w = { .b = b, .db = &db, .max_addrs = max_addrs,
			     .max_visits = (uint64_t)db.metadata.node_count * 2 + 64 };
	uint32_t node = 0;
	int rc = 0;
	if (db.metadata.node_count == 0) {
		snprintf(b->err, b->errlen, "corrupt search tree (no nodes)");
		rc = -EIO;
		goto out;
	}
	if (db.metadata.ip_version == 6) {
		/* IPv4 lives at ::/96: follow 96 left branches (MaxMind DB spec, "IPv4 addresses
		 * in an IPv6 tree"). */
		for (unsigned i = 0; i < 96; i++) {
			if (MMDB_read_node(&db, node, &sn) != MMDB_SUCCESS) {
				snprintf(b->err, b->errlen, "corrupt search tree (node %u unreadable)", node);
				rc = -EIO;
				goto out;
			}
			if (sn.left_record_type == MMDB_RECORD_TYPE_EMPTY)
				goto out;       /* no IPv4 data at all: "empty table" below */
			if (sn.left_record_type == MMDB_RECORD_TYPE_DATA) {
				rc = rl_mmdb_record(&w, &sn.left_record_entry, 0, 0);
				goto out;
			}
			if (sn.left_record_type != MMDB_RECORD_TYPE_SEARCH_NODE) {
				snprintf(b->err, b->errlen, "corrupt search tree (invalid record at node %u)", node);
				rc = -EIO;
				goto out;
			}
			node = (uint32_t)sn.left_record;
		}
	} else if (db.metadata.ip_version != 4) {
		snprintf(b->err, b->errlen, "unsupported ip_version %u", db.metadata.ip_version);
		rc = -EINVAL;
		goto out;
	}
	rc = rl_mmdb_walk(&w, node, 0, 0);
out:
	MMDB_close(&db);
	return rc;
}

/* --------------------------------------------------------- sort and finish --- */

static int rl_row_cmp(const struct resip_row *a, const struct resip_row *b)
{
	if (a->provider != b->provider)
		return a->provider < b->provider ? -1 : 1;
	if (a->first_ns != b->first_ns)
		return a->first_ns < b->first_ns ? -1 : 1;
	if (a->last_ns != b->last_ns)
		return a->last_ns < b->last_ns ? -1 : 1;
	return 0;
}

static int rl_finish(struct rl_build *b)
{
	struct resip_table *t = b->t;
	size_t n = b->n;
	struct resip_row *rows = b->rows;

	if (n > UINT32_MAX) {
		snprintf(b->err, b->errlen, "more than 2^32 rows");
		return -E2BIG;
	}
	/* LSD radix by address, 16 bits per pass: stable, O(n). */
	struct resip_row *tmp = malloc(n * sizeof(*tmp) + 1);
	uint32_t *cnt = malloc(65536 * sizeof(*cnt));
	if (tmp == NULL || cnt == NULL) {
		free(tmp);
		free(cnt);
		snprintf(b->err, b->errlen, "out of memory sorting %zu rows", n);
		return -ENOMEM;
	}
	for (unsigned shift = 0; shift < 32; shift += 16) {
		memset(cnt, 0, 65536 * sizeof(*cnt));
		for (size_t i = 0; i < n; i++)
			cnt[(rows[i].addr >> shift) & 0xffff]++;
		uint32_t sum = 0;
		for (unsigned k = 0; k < 65536; k++) {
			uint32_t c = cnt[k];
			cnt[k] = sum;
			sum += c;
		}
		for (size_t i = 0; i < n; i++)
			tmp[cnt[(rows[i].addr >> shift) & 0xffff]++] = rows[i];
		struct resip_row *sw = rows;
		rows = tmp;
		tmp = sw;
	}
	free(tmp);
	free(cnt);
	b->rows = rows;

	/* Per address: insertion sort (few rows), merge identical rows, count addresses. */
	size_t out = 0, n_addrs = 0;
	for (size_t i = 0; i < n;) {
		size_t j = i + 1;
		while (j < n && rows[j].addr == rows[i].addr)
			j++;
		for (size_t k = i + 1; k < j; k++) {
			struct resip_row r = rows[k];
			size_t m = k;
			while (m > i && rl_row_cmp(&rows[m - 1], &r) > 0) {
				rows[m] = rows[m - 1];
				m--;
			}
			rows[m] = r;
		}
		for (size_t k = i; k < j; k++) {
			if (k > i && rl_row_cmp(&rows[k], &rows[k - 1]) == 0) {
				b->rep->n_duplicates++;
				continue;
			}
			rows[out++] = rows[k];
		}
		n_addrs++;
		i = j;
	}
	struct resip_row *shr = out ? realloc(rows, out * sizeof(*rows)) : NULL;
	if (shr != NULL)
		rows = shr;
	b->rows = rows;
	b->n = out;
	t->rows = rows;
	t->n_rows = (uint32_t)out;
	t->addrs = malloc((n_addrs ? n_addrs : 1) * sizeof(*t->addrs));
	if (t->addrs == NULL) {
		snprintf(b->err, b->errlen, "out of memory");
		return -ENOMEM;
	}
	size_t a = 0;
	for (size_t i = 0; i < out; i++) {
		if (i == 0 || rows[i].addr != rows[i - 1].addr) {
			t->addrs[a].addr = rows[i].addr;
			t->addrs[a].row0 = (uint32_t)i;
			t->addrs[a].providers = 0;
			a++;
		}
		t->addrs[a - 1].providers |= 1ull << rows[i].provider;
	}
	t->n_addrs = (uint32_t)a;
	return 0;
}

static bool rl_is_mmdb(const char *data, size_t size)
{
	static const char marker[] = "\xab\xcd\xefMaxMind.com";
	size_t ml = sizeof(marker) - 1;
	size_t look = size < 128 * 1024 ? size : 128 * 1024;
	const char *p = data + size - look;
	return look >= ml && memmem(p, look, marker, ml) != NULL;
}

/* A new table named path, and the build state that fills it (why: its error text). */
static struct resip_table *rl_begin(struct rl_build *b, const char *path,
				    struct resip_load_report *rep, char *why, size_t whylen)
{
	struct resip_table *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return NULL;
	snprintf(t->path, sizeof(t->path), "%s", path);
	memset(b, 0, sizeof(*b));
	b->t = t;
	b->rep = rep;
	b->last_prov = UINT32_MAX;
	b->err = why;
	b->errlen = whylen;
	return t;
}

/* After the loader returned rc: the rejected-line limit, the empty table, the sort and
 * merge (rl_finish).  The finished table, or NULL with err set and everything freed. */
static struct resip_table *rl_end(struct rl_build *b, const char *path, int rc,
				  uint64_t max_rejected, char *err, size_t errlen)
{
	struct resip_table *t = b->t;
	struct resip_load_report *rep = b->rep;

	if (rc < 0) {
		snprintf(err, errlen, "RESIP table %s: %s", path, b->err[0] ? b->err : strerror(-rc));
		goto fail;
	}
	if (rep->n_rejected > max_rejected) {
		snprintf(err, errlen, "RESIP table %s: %llu rejected line%s (limit %llu), first: %s",
			 path, (unsigned long long)rep->n_rejected, rep->n_rejected == 1 ? "" : "s",
			 (unsigned long long)max_rejected, rep->n_msgs ? rep->msgs[0] : "?");
		goto fail;
	}
	if (b->n == 0) {
		snprintf(err, errlen, "RESIP table %s: empty table (no %s)", path,
			 t->format == RESIP_FMT_MMDB ? "IPv4 network" : "data row");
		goto fail;
	}
	rc = rl_finish(b);
	if (rc < 0) {
		snprintf(err, errlen, "RESIP table %s: %s", path, b->err);
		goto fail;
	}
	t->rep = *rep;
	return t;

fail:
	if (t->rows == b->rows)
		t->rows = NULL;
	free(b->rows);
	resip_table_free(t);
	errno = EINVAL;
	return NULL;
}

struct resip_table *resip_load(const char *path, const struct resip_load_opts *opts,
			       struct resip_load_report *rep_out, char *err, size_t errlen)
{
	struct resip_load_report rep_local;
	struct resip_load_report *rep = rep_out ? rep_out : &rep_local;
	struct resip_table *t;
	struct rl_build b;
	char why[400] = "";
	struct stat st;
	void *map = NULL;
	size_t size = 0;
	int fd = -1, rc;
	uint64_t max_rejected = opts ? opts->max_rejected : 0;
	uint64_t max_addrs = opts && opts->max_addrs ? opts->max_addrs : RESIP_DEFAULT_MAX_ADDRS;

	memset(rep, 0, sizeof(*rep));
	if (errlen > 0)
		err[0] = '\0';
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "RESIP table %s: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "RESIP table %s: %s", path,
			 S_ISDIR(st.st_mode) ? "is a directory" : "not a regular file");
		close(fd);
		return NULL;
	}
	size = (size_t)st.st_size;
	if (size > 0) {
		map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
		if (map == MAP_FAILED) {
			snprintf(err, errlen, "RESIP table %s: mmap: %s", path, strerror(errno));
			close(fd);
			return NULL;
		}
		madvise(map, size, MADV_SEQUENTIAL);
	}
	close(fd);

	t = rl_begin(&b, path, rep, why, sizeof(why));
	if (t == NULL) {
		snprintf(err, errlen, "RESIP table %s: out of memory", path);
		if (map != NULL)
			munmap(map, size);
		errno = EINVAL;
		return NULL;
	}
	if (size > 0 && rl_is_mmdb(map, size)) {
		t->format = RESIP_FMT_MMDB;
		munmap(map, size);
		rc = rl_load_mmdb(&b, path, max_addrs);
	} else {
		t->format = RESIP_FMT_CSV;
		rc = rl_load_csv(&b, map, size);
		/* the rows are copied out: drop the file's pages before the sort's peak */
		if (map != NULL)
			munmap(map, size);
	}
	return rl_end(&b, path, rc, max_rejected, err, errlen);
}

struct resip_table *resip_load_csv_mem(const char *name, const char *data, size_t size,
				       const struct resip_load_opts *opts,
				       struct resip_load_report *rep_out, char *err, size_t errlen)
{
	struct resip_load_report rep_local;
	struct resip_load_report *rep = rep_out ? rep_out : &rep_local;
	struct resip_table *t;
	struct rl_build b;
	char why[400] = "";

	memset(rep, 0, sizeof(*rep));
	if (errlen > 0)
		err[0] = '\0';
	t = rl_begin(&b, name, rep, why, sizeof(why));
	if (t == NULL) {
		snprintf(err, errlen, "RESIP table %s: out of memory", name);
		errno = EINVAL;
		return NULL;
	}
	t->format = RESIP_FMT_CSV;
	return rl_end(&b, name, rl_load_csv(&b, data, size), opts ? opts->max_rejected : 0, err,
		      errlen);
}

void resip_table_free(struct resip_table *t)
{
	if (t == NULL)
		return;
	free(t->rows);
	free(t->addrs);
	free(t);
}

size_t resip_table_bytes(const struct resip_table *t)
{
	return sizeof(*t) + (size_t)t->n_rows * sizeof(t->rows[0]) +
	       (size_t)t->n_addrs * sizeof(t->addrs[0]);
}

const struct resip_addr *resip_find(const struct resip_table *t, uint32_t addr)
{
	size_t lo = 0, hi = t->n_addrs;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (t->addrs[mid].addr < addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < t->n_addrs && t->addrs[lo].addr == addr ? &t->addrs[lo] : NULL;
}

uint64_t resip_match(const struct resip_table *t, const struct resip_addr *a, int64_t t_ns,
		     bool window_check)
{
	if (!window_check)
		return a->providers;
	size_t i = a->row0;
	size_t end = (size_t)(a - t->addrs) + 1 < t->n_addrs ? a[1].row0 : t->n_rows;
	uint64_t m = 0;
	for (; i < end; i++)
		if (t->rows[i].first_ns <= t_ns && t_ns <= t->rows[i].last_ns)
			m |= 1ull << t->rows[i].provider;
	return m;
}
