/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rules_parse.h — payload rules, parsed: the subset of Suricata/Snort rule syntax a
 * telescope can honour on a single packet's payload, read into rules (sid, msg,
 * category, constraints) and the expressions a pattern compiler must match.  Pure C, no
 * Hyperscan: the dataplane compiles the expressions into one Hyperscan database
 * (dataplane/rules.h); the control plane parses the same files for sid -> msg and
 * category and for the rejection reasons (`rules status`).
 *
 * Threads: a struct obs_rule_list belongs to its caller; parsing touches no global state.
 *
 * What is accepted (anything else rejects the rule with its line and reason, counted by
 * reason; nothing is silently misread):
 *   header   alert <tcp|tcp-pkt|udp|icmp|ip> <src> any -> <dst> <ports> ( options )
 *            src: any, $EXTERNAL_NET, !$HOME_NET (a telescope only receives);
 *            dst: any, $HOME_NET or a $*_SERVERS / $*_NET variable other than EXTERNAL_NET;
 *            ports: any, N, a:b, :b, a:, [lists], !negation, and the Suricata default
 *            port variables ($HTTP_PORTS = 80, $ORACLE_PORTS = 1521, $SSH_PORTS = 22, ...,
 *            see obs_rules_port_vars in rules_expr.c); icmp/ip rules need `any` ports.
 *   content  "text|4a 4b|text", !negated, modifiers nocase, offset, depth, distance,
 *            within (Suricata semantics: a relative content starts >= prev_end + distance
 *            and ends <= prev_end + distance + within), fast_pattern, rawbytes (hints).
 *            A content with distance/within joins the previous content into one chain
 *            expressed as one regex ("A(?s:.{d,w-|B|})B"); a content without them starts a
 *            new pattern; a rule matches when ALL its positive patterns match somewhere in
 *            the payload and none of its negated ones does.  offset/depth of a chain head
 *            become the expression's min/max end offset (single literal) or a
 *            "^.{o,o+d-n}" prefix (chain).
 *   pcre     "/re/flags" with i s m (-> OBS_RX_*), A (anchored), B O G (no effect on a
 *            raw packet: match existence only); R and the HTTP buffer flags are rejected.
 *            Constructs the compiler cannot take are rejected by it (obs_rule_list_kill:
 *            the dataplane names Hyperscan's message), so the control plane's parse alone
 *            may accept a rule the dataplane's database refuses.
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
#ifndef OBSCURA_RULES_PARSE_H
#define OBSCURA_RULES_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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

/* Why a rule was rejected.  Order is the stats ABI (and the exchange's rules status):
 * append only. */
enum obs_rule_rej {
	OBS_REJ_SYNTAX = 0,     /* malformed header, option or value */
	OBS_REJ_ACTION,         /* not `alert` */
	OBS_REJ_PROTO,          /* application-layer or unknown protocol */
	OBS_REJ_ADDR,           /* addresses a telescope never sees as a receiver, or IP lists */
	OBS_REJ_PORT,           /* source port constraint, unknown variable, bad port */
	OBS_REJ_OPTION,         /* an option that needs state or parsers a packet lacks */
	OBS_REJ_MODIFIER,       /* content modifier that cannot be honoured exactly */
	OBS_REJ_PCRE,           /* pcre flags or construct the compiler cannot take */
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
	uint32_t n_patterns;         /* compiled expressions (0 after a parse alone) */
	uint32_t rejected[OBS_REJ_N];
	uint64_t db_bytes;           /* compiled database (0 after a parse alone) */
	uint64_t scratch_bytes;      /* its scratch prototype (0 after a parse alone) */
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

struct obs_port_range { uint16_t lo, hi; };

/* One accepted rule: what a match needs besides its patterns. */
struct obs_rule {
	struct obs_rule_info info;
	uint32_t pos_mask;          /* bits of the positive patterns */
	uint32_t neg_mask;          /* bits of the negated patterns */
	uint8_t  single;            /* one positive pattern, no negated: decided on its match */
	uint8_t  dsize_op;          /* 0 none, 1 ==, 2 <, 3 >, 4 a<>b (exclusive) */
	uint8_t  dead;              /* refused by the compiler (obs_rule_list_kill) */
	uint32_t dsize_a, dsize_b;
	uint32_t n_ranges;          /* destination port ranges; 0: any port */
	struct obs_port_range *ranges;
};

/* Expression flags, the compiler's to honour (Hyperscan: HS_FLAG_*, HS_EXT_FLAG_*). */
#define OBS_RX_CASELESS   0x01u
#define OBS_RX_DOTALL     0x02u
#define OBS_RX_MULTILINE  0x04u
#define OBS_RX_MIN_OFFSET 0x08u  /* min_offset bounds the END of a match */
#define OBS_RX_MAX_OFFSET 0x10u  /* max_offset bounds the END of a match */

/* One pattern of a rule: a regex in the PCRE subset Hyperscan takes (literal bytes as
 * \xHH, so nothing in a content is a metacharacter), matched for existence only. */
struct obs_rx {
	char *re;                   /* NUL-terminated, owned by the list */
	uint32_t flags;             /* OBS_RX_* */
	uint32_t rule;              /* index into rules[] */
	uint32_t bit;               /* the rule's pattern bit (pos_mask / neg_mask) */
	uint64_t min_offset, max_offset;
};

#define OBS_RULE_MAX_PATS 32u   /* patterns per rule: one bit each */

/* A parsed rule set.  Read-only for callers except through the functions below. */
struct obs_rule_list {
	struct obs_rule *rules;     /* accepted, in file order */
	uint32_t n_rules, cap_rules;
	struct obs_rx *rx;          /* every rule's patterns, rule by rule */
	uint32_t n_rx, cap_rx;
	char **strings;             /* msg and file names, owned */
	uint32_t n_strings, cap_strings;
	struct obs_rules_stats st;
	obs_rules_log_fn log;       /* kept for obs_rule_list_kill() */
	void *log_arg;
};

/*
 * Parse the inputs.  Returns the list (possibly with zero rules), or NULL with err
 * filled when an input cannot be read or memory runs out.  Rejected rules are not
 * errors: they are counted and logged.
 */
struct obs_rule_list *obs_rules_parse(const struct obs_rules_src *src, unsigned n_src,
                                      obs_rules_log_fn log, void *log_arg, char *err,
                                      size_t errlen);
void obs_rule_list_free(struct obs_rule_list *l);

const struct obs_rules_stats *obs_rule_list_stats(const struct obs_rule_list *l);
uint32_t obs_rule_list_count(const struct obs_rule_list *l);
const struct obs_rule_info *obs_rule_list_info(const struct obs_rule_list *l, uint32_t idx);
/* Index of the rule with this sid, or -1. */
int obs_rule_list_find_sid(const struct obs_rule_list *l, uint32_t sid);

/*
 * For a compiler: rule idx is refused after all ("sid N: <why>", OBS_REJ_PCRE): counted
 * as rejected instead of accepted and logged like a parse rejection.  Idempotent.
 */
void obs_rule_list_kill(struct obs_rule_list *l, uint32_t idx, const char *why);
/*
 * Drop the killed rules and renumber: map[old index] = new index (UINT32_MAX for a
 * dropped rule), map has the old n_rules entries; every rx[].rule is renumbered the same
 * way.  Then free the expressions' text with obs_rule_list_drop_rx() once compiled.
 */
void obs_rule_list_compact(struct obs_rule_list *l, uint32_t *map);
void obs_rule_list_drop_rx(struct obs_rule_list *l);

const char *obs_cat_name(unsigned cat);
const char *obs_rules_rej_name(unsigned rej);

#endif /* OBSCURA_RULES_PARSE_H */
