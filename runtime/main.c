/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "commit.h"
#include "base/banned.h"

extern char **environ;

/*
 * sealed: the command makes processes that enter a container's namespaces (and stay visible to
 * the container until they exec its process), so it runs from a sealed copy of this binary, never
 * from the host's file (docs/security.md).
 */
static const struct {
	const char *name;
	cli_cmd_fn fn;
	const char *help;
	bool sealed;
} commands[] = {
	{"create", cmd_create, "create a container", true},
	{"start", cmd_start, "start a created container", false},
	{"run", cmd_run, "create and start a container", true},
	{"state", cmd_state, "output the state of a container", false},
	{"kill", cmd_kill, "send a signal to the container's init process", false},
	{"delete", cmd_delete, "delete a container and what it holds", false},
	{"exec", cmd_exec, "run a new process inside a container", true},
	{"ps", cmd_ps, "list the processes of a container", false},
	{"pause", cmd_pause, "freeze every process of a container", false},
	{"resume", cmd_resume, "thaw a paused container", false},
	{"update", cmd_update, "change a container's resource limits", false},
	{"spec", cmd_spec, "write a new config.json", false},
	{"list", cmd_list, "list containers", false},
	{"features", cmd_features, "show what this runtime supports", false},
	{"events", cmd_events, "show a container's resource statistics and OOM events", false},
};

static void json_escape(FILE *f, const char *s)
{
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch == '"' || ch == '\\')
			fprintf(f, "\\%c", ch);
		else if (ch == '\n')
			fputs("\\n", f);
		else if (ch < 0x20)
			fprintf(f, "\\u%04x", ch);
		else
			fputc(ch, f);
	}
}

static void vlog(struct cli *cli, const char *level, const char *fmt, va_list ap)
{
	_cleanup_free_ char *msg = NULL, *now = NULL;
	_cleanup_fclose_ FILE *f = NULL;

	if (!cli->log_path || (!cli->debug && strcmp(level, "debug") == 0))
		return;
	if (vasprintf(&msg, fmt, ap) < 0) {
		msg = NULL; /* undefined after a failure */
		return;
	}
	f = fopen(cli->log_path, "ae");
	if (!f)
		return;
	now = berth_rfc3339_now();
	if (cli->log_json) {
		fprintf(f, "{\"level\":\"%s\",\"msg\":\"", level);
		json_escape(f, msg);
		fprintf(f, "\",\"time\":\"%s\"}\n", now ? now : "");
	} else {
		fprintf(f, "time=\"%s\" level=%s msg=\"", now ? now : "", level);
		json_escape(f, msg);
		fputs("\"\n", f);
	}
}

void cli_log(struct cli *cli, const char *level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(cli, level, fmt, ap);
	va_end(ap);
}

/* lib/runtime's log lines (struct berth_log) go to --log as our own do */
static void lib_log(void *data, enum berth_log_level level, const char *msg)
{
	cli_log(data, berth_log_level_name(level), "%s", msg);
}

int cli_fail(struct cli *cli, struct berth_error *err)
{
	const char *msg = err && err->msg ? err->msg : "unknown error";

	fprintf(stderr, "berth-runtime: %s\n", msg);
	cli_log(cli, "error", "%s", msg);
	return 1;
}

/* Say msg on stderr with a prefix and log it at level. */
static void say(struct cli *cli, const char *prefix, const char *level, const char *fmt, va_list ap)
{
	_cleanup_free_ char *msg = NULL;

	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	fprintf(stderr, "%s%s\n", prefix, msg ? msg : "");
	cli_log(cli, level, "%s", msg ? msg : "");
}

int cli_usage(struct cli *cli, const char *fmt, ...)
{
	_cleanup_free_ char *prefix = NULL;
	va_list ap;

	if (asprintf(&prefix, "berth-runtime %s: ", cli->cmd ? cli->cmd : "") < 0)
		prefix = NULL;
	va_start(ap, fmt);
	say(cli, prefix ? prefix : "berth-runtime: ", "error", fmt, ap);
	va_end(ap);
	return 1;
}

void cli_warn(struct cli *cli, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	say(cli, "berth-runtime: warning: ", "warning", fmt, ap);
	va_end(ap);
}

int cli_optword = 1;

int cli_bad_flag(struct cli *cli, char **argv, int c)
{
	if (c == ':')
		return cli_usage(cli, "flag '%s' needs an argument", argv[cli_optword]);
	return cli_usage(cli, "unknown flag '%s'", argv[cli_optword]);
}

int cli_expect_args(struct cli *cli, int argc, char **argv, int n, const char *what)
{
	int have = argc - optind;

	if (have < n)
		return cli_usage(cli, "missing %s", what);
	if (have > n)
		return cli_usage(cli, "unexpected argument '%s'", argv[optind + n]);
	return 0;
}

int cli_parse_uint(struct cli *cli, const char *flag, const char *v, int *ret)
{
	int64_t n;

	if (berth_parse_int64(v, 0, 1 << 20, &n) < 0)
		return cli_usage(cli, "invalid value '%s' for %s", v, flag);
	*ret = (int)n;
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f, "Usage: berth-runtime [global options] COMMAND [options] [ID]\n\n"
		   "An OCI runtime with runc's command line.\n\nCommands:\n");
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].help);
	fprintf(f, "\nGlobal options:\n"
		   "  --root DIR            state directory (default /run/berth-runtime)\n"
		   "  --log FILE            write log lines to FILE\n"
		   "  --log-format FORMAT   text or json (default text)\n"
		   "  --debug               log debug lines too\n"
		   "  --systemd-cgroup      cgroupsPath is \"slice:prefix:name\"\n"
		   "  --version, --help\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"root", required_argument, NULL, 'r'},
		{"log", required_argument, NULL, 'l'},
		{"log-format", required_argument, NULL, 'f'},
		{"debug", no_argument, NULL, 'd'},
		{"systemd-cgroup", no_argument, NULL, 's'},
		{"criu", required_argument, NULL, 'C'},
		{"version", no_argument, NULL, 'v'},
		{"help", no_argument, NULL, 'h'},
		{},
	};
	struct cli cli = {.opts.state_root = "/run/berth-runtime"};
	_cleanup_free_ char **orig_argv = NULL;
	_cleanup_free_ char *log_abs = NULL;
	int c;

	/* the command line as given, for a re-exec from the sealed copy (getopt may permute) */
	orig_argv = calloc((size_t)argc + 1, sizeof(char *));
	if (!orig_argv)
		return 1;
	memcpy(orig_argv, argv, (size_t)argc * sizeof(char *));

	/* never let an inherited SIG_IGN for SIGCHLD make waitpid() lie */
	signal(SIGCHLD, SIG_DFL);
	while ((c = getopt_long_only(argc, argv, "+vh", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			cli.opts.state_root = optarg;
			break;
		case 'l':
			cli.log_path = optarg;
			break;
		case 'f':
			if (strcmp(optarg, "json") == 0)
				cli.log_json = true;
			else if (strcmp(optarg, "text") != 0)
				return cli_usage(&cli, "unknown log format '%s'", optarg);
			break;
		case 'd':
			cli.debug = true;
			break;
		case 's':
			cli.opts.systemd_cgroup = true;
			break;
		case 'C':
			return cli_usage(&cli, "--criu: checkpoint/restore is not supported");
		case 'v':
			/* dockerd and containerd read "commit:" (docker info's runtime version) */
			printf("berth-runtime version %s\ncommit: %s\nspec: 1.2.0\n", BERTH_VERSION,
			       BERTH_COMMIT);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 1;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 1;
	}
	if (cli.log_path) {
		/* relative log paths would move with the container's cwd; pin them now */
		log_abs = realpath(cli.log_path, NULL);
		if (log_abs)
			cli.log_path = log_abs;
	}
	cli.opts.log = (struct berth_log){.fn = lib_log, .data = &cli, .debug = cli.debug};
	cli.cmd = argv[optind];
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++) {
		if (strcmp(commands[i].name, cli.cmd) != 0)
			continue;
		int sub_argc = argc - optind;
		char **sub_argv = argv + optind;
		if (commands[i].sealed) {
			_cleanup_error_ struct berth_error *err = NULL;
			/* returns only when already sealed, or on failure */
			if (berth_reexec_sealed_copy(orig_argv, environ, &err) < 0)
				return cli_fail(&cli, err);
		}
		optind = 0; /* full reset of getopt for the command's own flags */
		cli_log(&cli, "debug", "%s", cli.cmd);
		return commands[i].fn(&cli, sub_argc, sub_argv);
	}
	fprintf(stderr, "berth-runtime: unknown command '%s'\n", cli.cmd);
	cli_log(&cli, "error", "unknown command '%s'", cli.cmd);
	usage(stderr);
	return 1;
}
