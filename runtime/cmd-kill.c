/* SPDX-License-Identifier: Apache-2.0 */
/* kill [--all] ID [SIGNAL]: SIGNAL by name (KILL, SIGKILL) or number (0: probe); default SIGTERM. */
#include <signal.h>
#include <string.h>

#include "cli.h"
#include "base/banned.h"

int cmd_kill(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {{"all", no_argument, NULL, 'a'}, {}};
	_cleanup_error_ struct berth_error *err = NULL;
	_cleanup_container_ struct berth_container *c = NULL;
	bool all = false;
	int sig = SIGTERM, ch;

	CLI_PARSE(argc, argv, "a", opts, ch)
	{
		if (ch != 'a')
			return cli_bad_flag(cli, argv, ch);
		all = true;
	}
	if (argc - optind < 1)
		return cli_usage(cli, "missing container id");
	if (argc - optind > 2)
		return cli_usage(cli, "unexpected argument '%s'", argv[optind + 2]);
	if (argc - optind == 2) {
		/* 0: no signal, only "is it there?" (a liveness probe, as runc accepts) */
		sig = strcmp(argv[optind + 1], "0") == 0 ? 0 : berth_signal_parse(argv[optind + 1]);
		if (sig < 0)
			return cli_usage(cli, "unknown signal '%s'", argv[optind + 1]);
	}
	if (berth_container_load(&cli->opts, argv[optind], &c, &err) < 0)
		return cli_fail(cli, err);
	if (berth_container_kill(c, sig, all, &err) < 0)
		return cli_fail(cli, err);
	return 0;
}
