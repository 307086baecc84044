/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * obscuractl — the operator client of obscura-cp (DESIGN.md "CLI socket", docs/ctl-v1.md).
 *
 *   obscuractl [-s SOCKET] [-c CONF] [-t SECONDS] [--json] [COMMAND [ARGS...]]
 *
 * Words are mapped to a command of the server's `help` table by the longest prefix
 * (`sources top 5` -> sources.top ["5"]), so the client never hard-codes the command
 * list and a newer server's commands work at once.  Without a command it is an
 * interactive prompt (libedit: editing, history in ~/.obscuractl_history, `quit`).
 *
 * Exit status: 0 done; 1 the server answered with an error, or sent something that is
 * not ctl v1; 2 no connection (daemon not there, permissions) or bad usage.
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <editline/readline.h>

#include "conf.h"
#include "ctl_client.h"
#include "ctl_output.h"

#define OCTL_DEFAULT_SOCKET "/run/obscura/ctl.sock"
#define OCTL_MAX_WORDS      64

static bool octl_json;
static int octl_timeout_ms = 60000;

static void octl_usage(FILE *f)
{
	fprintf(f,
	        "usage: obscuractl [-s SOCKET] [-c CONF] [-t SECONDS] [--json] [COMMAND [ARGS...]]\n"
	        "  -s, --socket PATH    control socket (default " OCTL_DEFAULT_SOCKET ",\n"
	        "                       or control.socket of -c CONF)\n"
	        "  -c, --config FILE    read the socket path from this obscura config\n"
	        "  -t, --timeout SECS   wait at most this long for a reply (default 60; 0 = forever)\n"
	        "  -j, --json           print the reply data as JSON (for scripts)\n"
	        "  -h, --help           this text; `obscuractl help` lists the server's commands\n"
	        "Words map to a command by the longest prefix: `obscuractl sources top 5`.\n"
	        "Without a command: an interactive prompt (`quit` to leave).\n");
}

/* Print an error; returns the exit status it calls for. */
static int octl_report(const struct ctl_err *e)
{
	switch (e->kind) {
	case CTL_E_CONNECT:
		fprintf(stderr, "obscuractl: %s\n", e->msg);
		return 2;
	case CTL_E_SERVER:
		fprintf(stderr, "obscuractl: error %s: %s\n", e->code, e->msg);
		return 1;
	case CTL_E_PROTO:
		fprintf(stderr, "obscuractl: bad reply from the server: %s\n", e->msg);
		return 1;
	default:
		fprintf(stderr, "obscuractl: %s\n", e->msg);
		return 1;
	}
}

/* `help` for people: one line per command as it is typed ("sources top [n]"), not the
 * machine table with its argument specs (--json still prints that). */
static json_t *octl_help_text(json_t *cmds)
{
	json_t *rows = json_array();
	size_t i, j;
	json_t *c, *a;
	json_array_foreach(cmds, i, c) {
		const char *name = json_string_value(json_object_get(c, "cmd"));
		if (!name)
			continue;
		char words[256], args[512] = "";
		snprintf(words, sizeof words, "%s", name);
		for (char *p = words; *p; p++)
			if (*p == '.')
				*p = ' ';
		size_t used = 0;
		json_t *spec = json_object_get(c, "arg_spec");
		json_t *list = json_is_array(spec) && json_array_size(spec) ? spec : json_object_get(c, "args");
		bool in_words = false;
		json_array_foreach(list, j, a) {
			const char *an = json_is_string(a) ? json_string_value(a) : json_string_value(json_object_get(a, "name"));
			bool req = json_is_object(a) && json_is_true(json_object_get(a, "required"));
			/* free option words (--from X ...): one [OPTIONS...], the help line says which */
			bool opt_words = json_is_object(a) && json_is_true(json_object_get(a, "words"));
			if (opt_words && in_words)
				continue;
			in_words = opt_words;
			if (opt_words)
				an = "OPTIONS...";
			if (!an || used >= sizeof args)
				continue;
			int w = snprintf(args + used, sizeof args - used, "%s%s%s%s", used ? " " : "",
			                 req ? "<" : "[", an, req ? ">" : "]");
			if (w > 0)
				used += (size_t)w;
		}
		json_array_append_new(rows, json_pack("{ssssssss}", "command", words, "args", args,
			"access", json_string_value(json_object_get(c, "access")) ? json_string_value(json_object_get(c, "access")) : "",
			"help", json_string_value(json_object_get(c, "help")) ? json_string_value(json_object_get(c, "help")) : ""));
	}
	return rows;
}

/* Map words to a command and run it on c; prints the result.  Returns an exit status,
 * and leaves *e filled when it failed. */
static int octl_run(struct ctl_conn *c, char *const *words, int n, struct ctl_err *e)
{
	json_t *cmds = ctl_commands(c, e);
	if (!cmds)
		return octl_report(e);
	char cmd[256];
	int used = ctl_match(cmds, words, n, cmd, sizeof cmd);
	if (!used) {
		e->kind = CTL_E_SERVER;
		snprintf(e->code, sizeof e->code, "unknown_command");
		snprintf(e->msg, sizeof e->msg, "no command '%s'; try 'help'", words[0]);
		return octl_report(e);
	}
	json_t *argv = json_array();
	for (int i = used; i < n; i++)
		json_array_append_new(argv, json_string(words[i]));
	json_t *data;
	int r = ctl_call(c, cmd, argv, &data, e);
	json_decref(argv);
	if (r)
		return octl_report(e);
	if (octl_json) {
		ctl_print_json(stdout, data);
	} else if (!strcmp(cmd, "help") && json_is_array(data)) {
		json_t *rows = octl_help_text(data);
		ctl_print_text(stdout, rows);
		json_decref(rows);
	} else {
		ctl_print_text(stdout, data);
	}
	fflush(stdout);
	json_decref(data);
	return 0;
}

/* Split a prompt line into words: whitespace separates, '...' and "..." group. */
static int octl_split(char *line, char **words, int max)
{
	int n = 0;
	char *p = line, *out;
	while (*p) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p)
			break;
		if (n == max)
			return -1;
		words[n++] = out = p;
		char q = 0;
		for (; *p && (q || (*p != ' ' && *p != '\t')); p++) {
			if (!q && (*p == '\'' || *p == '"'))
				q = *p;
			else if (q && *p == q)
				q = 0;
			else
				*out++ = *p;
		}
		if (*p)
			p++;
		*out = '\0';
	}
	return n;
}

static int octl_interactive(const char *path)
{
	struct ctl_conn c;
	struct ctl_err e;
	if (ctl_open(&c, path, octl_timeout_ms, &e))
		return octl_report(&e);
	bool tty = isatty(STDIN_FILENO);
	if (tty) {
		const char *srv = json_string_value(json_object_get(c.hello, "server"));
		const char *ver = json_string_value(json_object_get(c.hello, "version"));
		const char *acc = json_string_value(json_object_get(c.hello, "access"));
		printf("connected to %s %s on %s (%s access); 'help' lists commands, 'quit' leaves\n",
		       srv ? srv : "?", ver ? ver : "?", path, acc ? acc : "?");
	}
	char hist[4096] = "";
	const char *home = getenv("HOME");
	using_history();
	if (tty && home) {
		snprintf(hist, sizeof hist, "%s/.obscuractl_history", home);
		read_history(hist);
	}
	int status = 0;
	char *line;
	while ((line = readline(tty ? "obscura> " : "")) != NULL) {
		char *words[OCTL_MAX_WORDS];
		char *copy = strdup(line);
		int n = copy ? octl_split(copy, words, OCTL_MAX_WORDS) : -1;
		if (n > 0 && tty)
			add_history(line);
		free(line);
		if (n < 0) {
			fprintf(stderr, "obscuractl: too many words\n");
		} else if (n > 0 && (!strcmp(words[0], "quit") || !strcmp(words[0], "exit"))) {
			free(copy);
			break;
		} else if (n > 0) {
			/* the server closes idle connections: reconnect once and retry */
			if (c.fd < 0 && ctl_open(&c, path, octl_timeout_ms, &e)) {
				status = octl_report(&e);
			} else {
				status = octl_run(&c, words, n, &e);
				if (status && e.kind == CTL_E_IO) {
					ctl_close(&c);
					if (ctl_open(&c, path, octl_timeout_ms, &e))
						status = octl_report(&e);
					else
						status = octl_run(&c, words, n, &e);
				}
				if (status && e.kind != CTL_E_SERVER)
					ctl_close(&c);   /* the stream is out of step: start afresh */
			}
		}
		free(copy);
	}
	if (hist[0])
		write_history(hist);
	ctl_close(&c);
	return status;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "config", required_argument, NULL, 'c' },
		{ "timeout", required_argument, NULL, 't' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *sock = NULL, *conf_path = NULL;
	int ch;
	/* '+': options end at the first command word, so command arguments pass through */
	while ((ch = getopt_long(argc, argv, "+s:c:t:jh", longopts, NULL)) != -1) {
		switch (ch) {
		case 's': sock = optarg; break;
		case 'c': conf_path = optarg; break;
		case 't': {
			char *end;
			long v = strtol(optarg, &end, 10);
			if (*end || end == optarg || v < 0 || v > 86400) {
				fprintf(stderr, "obscuractl: --timeout: bad value '%s'\n", optarg);
				return 2;
			}
			octl_timeout_ms = (int)v * 1000;
			break;
		}
		case 'j': octl_json = true; break;
		case 'h': octl_usage(stdout); return 0;
		default: octl_usage(stderr); return 2;
		}
	}
	char path[OBS_CONF_STR];
	snprintf(path, sizeof path, "%s", OCTL_DEFAULT_SOCKET);
	if (sock) {
		snprintf(path, sizeof path, "%s", sock);
	} else if (conf_path) {
		static struct obs_conf conf;   /* large: keep it off the stack */
		char err[512];
		if (obs_conf_load(conf_path, &conf, err, sizeof err)) {
			fprintf(stderr, "obscuractl: %s\n", err);
			return 2;
		}
		snprintf(path, sizeof path, "%s", conf.socket_path);
	}
	if (optind == argc)
		return octl_interactive(path);
	if (argc - optind > OCTL_MAX_WORDS) {
		fprintf(stderr, "obscuractl: too many words\n");
		return 2;
	}
	struct ctl_conn c;
	struct ctl_err e;
	if (ctl_open(&c, path, octl_timeout_ms, &e))
		return octl_report(&e);
	int status = octl_run(&c, argv + optind, argc - optind, &e);
	ctl_close(&c);
	return status;
}
