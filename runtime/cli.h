/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * berth-runtime: runc's command line over lib/runtime.  One file per command; each command
 * parses its own flags and returns the process exit code.  Errors are reported once, by
 * cli_fail(), to stderr and to the --log file (text or JSON, as runc writes them).
 */

#include <getopt.h>
#include <signal.h>
#include <stdbool.h>

#include "runtime/runtime.h"

struct cli {
	struct berth_runtime_opts opts;
	const char *log_path;
	bool log_json;
	bool debug;
	const char *cmd;
};

/* Log one line at level ("error", "warning", "info", "debug") to the --log file. */
void cli_log(struct cli *cli, const char *level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Report err (prefixed by the command) on stderr and in the log; returns exit code 1. */
int cli_fail(struct cli *cli, struct berth_error *err);

/* Report a usage problem: `berth-runtime kill: <msg>`; returns 1 (runc's code for bad usage). */
int cli_usage(struct cli *cli, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Print a warning to stderr and the log. */
void cli_warn(struct cli *cli, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * Parse flags of a command: getopt_long_only over argv (argv[0] is the command name), silent
 * (":" first: a missing argument returns ':'); cli_optword is the index of the word each flag
 * came from, for cli_bad_flag.
 */
extern int cli_optword;
#define CLI_PARSE(argc, argv, shortopts, longopts, c)                                              \
	while ((cli_optword = optind > 0 ? optind : 1,                                             \
		(c) = getopt_long_only((argc), (argv), "+:" shortopts, (longopts), NULL)) != -1)

/*
 * Report the flag getopt stopped at (c is what it returned): `unknown flag '-dash'`, or
 * `flag '--bundle' needs an argument`; the word is the one the flag came from, not a neighbour
 * (inside "-dash" optind has not moved yet).  Returns 1.
 */
int cli_bad_flag(struct cli *cli, char **argv, int c);

/* Exactly n positional arguments remain, else a usage error. */
int cli_expect_args(struct cli *cli, int argc, char **argv, int n, const char *what);

/* Parse a --preserve-fds value. */
int cli_parse_uint(struct cli *cli, const char *flag, const char *v, int *ret);

/*
 * Foreground I/O for run and exec (io.c, over lib/base's loop): with a pty master, put our
 * terminal in raw mode and copy both ways, passing window size changes on; forward signals to
 * p; wait for it and return its exit code (128+N for a signal).  reap_all: we are a subreaper;
 * reap orphans too.  Closes pty_master.
 */
int cli_foreground(struct cli *cli, struct berth_pidfd *p, int pty_master, bool reap_all);

/*
 * Block the signals the foreground loop takes (those passed on to the container, SIGCHLD and
 * SIGWINCH); the set goes to *ret.  Blocked before the container exists, so none is lost; the
 * container's processes unblock their own.
 */
void cli_block_forwarded_signals(sigset_t *ret);

typedef int (*cli_cmd_fn)(struct cli *cli, int argc, char **argv);

int cmd_create(struct cli *cli, int argc, char **argv);
int cmd_start(struct cli *cli, int argc, char **argv);
int cmd_run(struct cli *cli, int argc, char **argv);
int cmd_state(struct cli *cli, int argc, char **argv);
int cmd_kill(struct cli *cli, int argc, char **argv);
int cmd_delete(struct cli *cli, int argc, char **argv);
int cmd_exec(struct cli *cli, int argc, char **argv);
int cmd_ps(struct cli *cli, int argc, char **argv);
int cmd_pause(struct cli *cli, int argc, char **argv);
int cmd_resume(struct cli *cli, int argc, char **argv);
int cmd_update(struct cli *cli, int argc, char **argv);
int cmd_spec(struct cli *cli, int argc, char **argv);
int cmd_list(struct cli *cli, int argc, char **argv);
int cmd_features(struct cli *cli, int argc, char **argv);
int cmd_events(struct cli *cli, int argc, char **argv);
