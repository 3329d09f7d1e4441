/* SPDX-License-Identifier: Apache-2.0 */
/* create and run: the same flags; run goes on to start, wait and delete. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "cli.h"
#include "base/banned.h"

enum { OPT_NO_PIVOT = 256, OPT_NO_KEYRING, OPT_PRESERVE, OPT_NO_SUBREAPER, OPT_KEEP };

static const struct option create_opts[] = {
	{"bundle", required_argument, NULL, 'b'},
	{"console-socket", required_argument, NULL, 'c'},
	{"pid-file", required_argument, NULL, 'p'},
	{"no-pivot", no_argument, NULL, OPT_NO_PIVOT},
	{"no-new-keyring", no_argument, NULL, OPT_NO_KEYRING},
	{"preserve-fds", required_argument, NULL, OPT_PRESERVE},
	{"detach", no_argument, NULL, 'd'},
	{"no-subreaper", no_argument, NULL, OPT_NO_SUBREAPER},
	{"keep", no_argument, NULL, OPT_KEEP},
	{},
};

struct create_flags {
	struct berth_create_opts co;
	bool detach, no_subreaper, keep;
};

static int parse(struct cli *cli, int argc, char **argv, bool run, struct create_flags *f)
{
	int c;

	CLI_PARSE(argc, argv, "b:d", create_opts, c)
	{
		switch (c) {
		case 'b':
			f->co.bundle = optarg;
			break;
		case 'c':
			f->co.console_socket = optarg;
			break;
		case 'p':
			f->co.pid_file = optarg;
			break;
		case OPT_NO_PIVOT:
			f->co.no_pivot = true;
			break;
		case OPT_NO_KEYRING:
			f->co.no_new_keyring = true;
			break;
		case OPT_PRESERVE:
			if (cli_parse_uint(cli, "--preserve-fds", optarg, &f->co.preserve_fds))
				return 1;
			break;
		case 'd':
		case OPT_NO_SUBREAPER:
		case OPT_KEEP:
			if (!run)
				return cli_bad_flag(cli, argv, c);
			if (c == 'd')
				f->detach = true;
			else if (c == OPT_KEEP)
				f->keep = true;
			else
				f->no_subreaper = true;
			break;
		default:
			return cli_bad_flag(cli, argv, c);
		}
	}
	return cli_expect_args(cli, argc, argv, 1, "container id");
}

int cmd_create(struct cli *cli, int argc, char **argv)
{
	_cleanup_error_ struct berth_error *err = NULL;
	_cleanup_container_ struct berth_container *c = NULL;
	struct create_flags f = {};

	if (parse(cli, argc, argv, false, &f))
		return 1;
	if (berth_container_create(&cli->opts, argv[optind], &f.co, &c, &err) < 0)
		return cli_fail(cli, err);
	return 0;
}

int cmd_run(struct cli *cli, int argc, char **argv)
{
	_cleanup_error_ struct berth_error *err = NULL;
	_cleanup_container_ struct berth_container *c = NULL;
	_cleanup_pidfd_ struct berth_pidfd *init = NULL;
	struct create_flags f = {};
	int master = -EBADF, code, r;
	sigset_t fwd;

	if (parse(cli, argc, argv, true, &f))
		return 1;
	if (f.detach) {
		if (berth_container_create(&cli->opts, argv[optind], &f.co, &c, &err) < 0)
			return cli_fail(cli, err);
		r = berth_container_start(c, &err);
		if (r < 0) {
			_cleanup_error_ struct berth_error *derr = NULL;
			berth_container_delete(c, true, &derr);
			return cli_fail(cli, err);
		}
		if (r > 0)
			cli_warn(cli, "%s", err->msg);
		return 0;
	}

	/*
	 * Foreground: we stay the container's parent (or its subreaper), copy the terminal, pass
	 * signals on, and delete the container once it exits.  Signals are blocked from here so
	 * none is lost before the loop reads them; the container's processes unblock their own.
	 */
	cli_block_forwarded_signals(&fwd);
	if (!f.no_subreaper)
		prctl(PR_SET_CHILD_SUBREAPER, 1);
	if (!f.co.console_socket)
		f.co.ret_pty_master = &master;
	f.co.ret_pidfd = &init;
	if (berth_container_create(&cli->opts, argv[optind], &f.co, &c, &err) < 0)
		return cli_fail(cli, err);
	r = berth_container_start(c, &err);
	if (r < 0) {
		_cleanup_error_ struct berth_error *derr = NULL;
		if (master >= 0)
			close(master);
		berth_container_delete(c, true, &derr);
		return cli_fail(cli, err);
	}
	if (r > 0) {
		cli_warn(cli, "%s", err->msg);
		berth_error_freep(&err);
	}
	code = cli_foreground(cli, init, master, !f.no_subreaper);
	if (!f.keep) {
		r = berth_container_delete(c, true, &err);
		if (r < 0)
			cli_fail(cli, err);
		else if (r > 0)
			cli_warn(cli, "%s", err->msg);
	}
	return code;
}
