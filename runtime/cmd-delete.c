/* SPDX-License-Identifier: Apache-2.0 */
/* delete [--force] ID */
#include <errno.h>

#include "cli.h"
#include "base/banned.h"

int cmd_delete(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {{"force", no_argument, NULL, 'f'}, {}};
	_cleanup_error_ struct berth_error *err = NULL;
	_cleanup_container_ struct berth_container *c = NULL;
	bool force = false;
	int ch, r;

	CLI_PARSE(argc, argv, "f", opts, ch)
	{
		if (ch != 'f')
			return cli_bad_flag(cli, argv, ch);
		force = true;
	}
	if (cli_expect_args(cli, argc, argv, 1, "container id"))
		return 1;
	r = berth_container_load(&cli->opts, argv[optind], &c, &err);
	if (r == -ENOENT && force) {
		/* runc: deleting what does not exist with --force is not an error */
		berth_error_freep(&err);
		if (berth_container_remove_stale(&cli->opts, argv[optind], &err) < 0 &&
		    err->code != ENOENT)
			return cli_fail(cli, err);
		return 0;
	}
	if (r < 0)
		return cli_fail(cli, err);
	r = berth_container_delete(c, force, &err);
	if (r < 0)
		return cli_fail(cli, err);
	if (r > 0)
		cli_warn(cli, "%s", err->msg);
	return 0;
}
