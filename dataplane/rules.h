/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rules.h — payload rules: the subset of Suricata/Snort rule syntax a telescope can honour
 * on a single packet's payload, compiled into ONE Hyperscan block-mode database.
 * Pure C + Hyperscan, no DPDK.
 *
 * Threads: obs_rules_load() and obs_rules_free() run on the main lcore (or the control
 * plane); the result is immutable, so any number of workers may call obs_rules_scan() on
 * it at once, each with its OWN scratch (obs_rules_scratch_clone(), Suricata's habit: one
 * prototype, one clone per worker).  Reloading builds a new struct obs_rules and swaps the
 * pointer under RCU (tables.c); a scratch cloned for one database is only valid for it.
 *
 * What is accepted (anything else rejects the rule with its line and reason, counted by
 * reason; nothing is silently misread):
 *   header   alert <tcp|tcp-pkt|udp|icmp|ip> <src> any -> <dst> <ports> ( options )
 *            src: any, $EXTERNAL_NET, !$HOME_NET (a telescope only receives);
 *            dst: any, $HOME_NET or a $*_SERVERS / $*_NET variable other than EXTERNAL_NET;
 *            ports: any, N, a:b, :b, a:, [lists], !negation, and the Suricata default
 *            port variables ($HTTP_PORTS = 80, $ORACLE_PORTS = 1521, $SSH_PORTS = 22, ...,
 *            see obs_rules_port_vars in rules.c); icmp/ip rules need `any` ports.
 *   content  "text|4a 4b|text", !negated, modifiers nocase, offset, depth, distance,
 *            within (Suricata semantics: a relative content starts >= prev_end + distance
 *            and ends <= prev_end + distance + within), fast_pattern, rawbytes (hints).
 *            A content with distance/within joins the previous content into one chain
 *            compiled as one regex ("A(?s:.{d,w-|B|})B"); a content without them starts a
 *            new pattern; a rule matches when ALL its positive patterns match somewhere in
 *            the payload and none of its negated ones does.  offset/depth of a chain head
 *            become Hyperscan's min_offset/max_offset (single literal) or a "^.{o,o+d-n}"
 *            prefix (chain).
 *   pcre     "/re/flags" with i s m (-> HS_FLAG_*), A (anchored), B O G (no effect on a
 *            raw packet: match existence only); R and the HTTP buffer flags are rejected;
 *            constructs Hyperscan cannot compile are rejected with its message.
 *   dsize    N, <N, >N, N<>M (on the payload length).
 *   flow     only to_server / from_client / stateless / no_stream (true of every
 *            telescope packet); established etc. need a handshake a telescope never sees.
 *   msg, sid, rev, gid:1, classtype, reference, metadata, priority, target: recorded or
 *            ignored.
 * Commented rules ("#alert ...") are counted apart, not rejected.
 *
 * Categories (SPEC.md C, Fig. 5) come from the msg first, then the classtype:
 *   msg contains "SQL Injection", "SQLi", "UNION SELECT"      -> SQL Injection
 *   msg contains "XSS", "Cross Site Scripting", "Cross-Site"   -> XSS
 *   msg contains "Remote File Inclusion", " RFI"               -> RFI
 *   classtype web-application-attack / web-application-activity -> Other Web Attack
 *   classtype attempted-recon, network-scan, successful-recon-*, icmp-event,
 *             not-suspicious, unknown, protocol-command-decode, misc-activity,
 *             tcp-connection, unusual-client-port-connection, non-standard-protocol,
 *             or no classtype with "SCAN" in the msg                -> Scan
 *   anything else                                                   -> General Attack
 * Packet classes without a rule are Scan (SPEC.md C); that is the caller's mapping.
 */
#ifndef OBSCURA_RULES_H
#define OBSCURA_RULES_H

#include <stdint.h>
#include <stddef.h>

#include <hs/hs.h>

enum obs_cat {
	OBS_CAT_SCAN = 0,
	OBS_CAT_ATTACK,      /* General Attack */
	OBS_CAT_SQLI,
	OBS_CAT_XSS,
	OBS_CAT_RFI,
	OBS_CAT_WEB,         /* Other Web Attack */
	OBS_CAT_N
};
#define OBS_CAT_NAMES { "Scan", "General Attack", "SQL Injection", "XSS", "RFI", \
	"Other Web Attack" }

/* Why a rule was rejected.  Order is the stats ABI: append only. */
enum obs_rule_rej {
	OBS_REJ_SYNTAX = 0,     /* malformed header, option or value */
	OBS_REJ_ACTION,         /* not `alert` */
	OBS_REJ_PROTO,          /* application-layer or unknown protocol */
	OBS_REJ_ADDR,           /* addresses a telescope never sees as a receiver, or IP lists */
	OBS_REJ_PORT,           /* source port constraint, unknown variable, bad port */
	OBS_REJ_OPTION,         /* an option that needs state or parsers a packet lacks */
	OBS_REJ_MODIFIER,       /* content modifier that cannot be honoured exactly */
	OBS_REJ_PCRE,           /* pcre flags or construct Hyperscan cannot take */
	OBS_REJ_NO_PATTERN,     /* no positive content / pcre: nothing to scan */
	OBS_REJ_SID,            /* no sid, or a duplicate sid */
	OBS_REJ_LIMIT,          /* too many patterns in a rule, line too long */
	OBS_REJ_N
};
#define OBS_REJ_NAMES { "syntax", "action", "protocol", "address", "port", "option", \
	"modifier", "pcre", "no_pattern", "sid", "limit" }

struct obs_rules_stats {
	uint32_t n_files;
	uint32_t n_lines;
	uint32_t n_accepted;
	uint32_t n_rejected;
	uint32_t n_commented;        /* "#alert ..." lines */
	uint32_t n_patterns;         /* Hyperscan expressions in the database */
	uint32_t rejected[OBS_REJ_N];
	uint64_t db_bytes;           /* hs_database_size */
	uint64_t scratch_bytes;      /* hs_scratch_size of the prototype */
};

struct obs_rule_info {
	uint32_t sid;
	uint32_t rev;
	uint8_t  category;           /* enum obs_cat */
	uint8_t  proto;              /* IP protocol number, 0 = ip (any) */
	uint16_t line;               /* first line in its file (saturates) */
	const char *msg;
	const char *file;
};

/* One input: a file name, and its text (NULL: read the file). */
struct obs_rules_src {
	const char *name;
	const char *text;
};

/* Called once per rejected rule (reason includes file:line); may be NULL. */
typedef void (*obs_rules_log_fn)(void *arg, const char *file, unsigned line, const char *reason);

struct obs_rules;   /* opaque, immutable once built */

/*
 * Parse and compile.  Returns the database (possibly with zero rules: scans then match
 * nothing), or NULL with err filled when an input cannot be read, memory runs out or
 * Hyperscan fails as a whole.  Rejected rules are not errors: they are counted and logged.
 */
struct obs_rules *obs_rules_load(const struct obs_rules_src *src, unsigned n_src,
                                 obs_rules_log_fn log, void *log_arg, char *err, size_t errlen);
void obs_rules_free(struct obs_rules *r);

const struct obs_rules_stats *obs_rules_stats(const struct obs_rules *r);
uint32_t obs_rules_count(const struct obs_rules *r);
const struct obs_rule_info *obs_rules_info(const struct obs_rules *r, uint32_t idx);
/* Index of the rule with this sid, or -1. */
int obs_rules_find_sid(const struct obs_rules *r, uint32_t sid);

/* A scratch for one worker, cloned from the database's prototype.  *s may be NULL or an
 * existing scratch (then it is freed and replaced).  0 or -ENOMEM. With zero rules *s = NULL. */
int obs_rules_scratch_clone(const struct obs_rules *r, hs_scratch_t **s);
void obs_rules_scratch_free(hs_scratch_t *s);

typedef void (*obs_rules_match_fn)(void *arg, uint32_t rule_idx, const struct obs_rule_info *ri);

/*
 * Scan one payload (proto: IP protocol number; dport host order, 0 for non-TCP/UDP).
 * Calls on_match (may be NULL) once per matching rule that also satisfies its protocol,
 * destination port and dsize constraints.  Returns the number of matching rules, or
 * -EINVAL / -EIO (Hyperscan error).  Up to OBS_RULES_MAX_TOUCH distinct rules with a
 * partial match are tracked per scan; beyond that further candidates are skipped and
 * counted in *overflow (may be NULL).
 */
#define OBS_RULES_MAX_TOUCH 64
int obs_rules_scan(const struct obs_rules *r, hs_scratch_t *scratch, const uint8_t *payload,
                   uint32_t len, uint8_t proto, uint16_t dport, obs_rules_match_fn on_match,
                   void *arg);

/*
 * What the dataplane publishes under RCU (tables.h, OBS_TABLE_RULES): a database and one
 * scratch per worker cloned for it, so a worker always scans with a scratch that belongs
 * to the database it read in the same burst.  Built on the main lcore; takes ownership of
 * r (freed on failure too).  NULL with err set on allocation failure.
 */
struct obs_rules_set {
	struct obs_rules *rules;
	uint32_t n_workers;
	hs_scratch_t *scratch[];      /* [n_workers]; NULL when the database is empty */
};
struct obs_rules_set *obs_rules_set_new(struct obs_rules *r, uint32_t n_workers, char *err,
                                        size_t errlen);
void obs_rules_set_free(void *set);     /* an obs_table_free_fn */

const char *obs_cat_name(unsigned cat);
const char *obs_rules_rej_name(unsigned rej);

#endif /* OBSCURA_RULES_H */
