/* SPDX-License-Identifier: Apache-2.0 */
/* The commands that take only an id: start, state, pause, resume. */
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "base/banned.h"

static const struct option no_opts[] = {{}};

/* Parse no flags and one id; load that container. */
static int load_one(struct cli *cli, int argc, char **argv, struct berth_container **ret)
{
	_cleanup_error_ struct berth_error *err = NULL;
	int c;

	CLI_PARSE(argc, argv, "", no_opts, c)
	return cli_bad_flag(cli, argv, c);
	if (cli_expect_args(cli, argc, argv, 1, "container id"))
		return 1;
	if (berth_container_load(&cli->opts, argv[optind], ret, &err) < 0)
		return cli_fail(cli, err);
	return 0;
}

int cmd_start(struct cli *cli, int argc, char **argv)
{
	_cleanup_error_ struct berth_error *err = NULL;
	_cleanup_container_ struct berth_container *c = NULL;
	int r;

	if (load_one(cli, argc, argv, &c))
		return 1;
	r = berth_container_start(c, &err);
	if (r < 0)
		return cli_fail(cli, err);
	if (r > 0)
		cli_warn(cli, "%s", err->msg);
	return 0;
}

int cmd_state(struct cli *cli, int argc, char **argv)
{
	_cleanup_container_ struct berth_container *c = NULL;
	_cleanup_json_ json_t *j = NULL;

	if (load_one(cli, argc, argv, &c))
		return 1;
	j = berth_container_state_json(c);
	if (!j || json_dumpf(j, stdout, JSON_INDENT(2)) < 0)
		return 1;
	putchar('\n');
	return 0;
}

int cmd_pause(struct cli *cli, int argc, char **argv)
{
	_cleanup_error_ struct berth_error *err = NULL;
	_cleanup_container_ struct berth_container *c = NULL;

	if (load_one(cli, argc, argv, &c))
		return 1;
	if (berth_container_pause(c, &err) < 0)
		return cli_fail(cli, err);
	return 0;
}

int cmd_resume(struct cli *cli, int argc, char **argv)
{
	_cleanup_error_ struct berth_error *err = NULL;
	_cleanup_container_ struct berth_container *c = NULL;

	if (load_one(cli, argc, argv, &c))
		return 1;
	if (berth_container_resume(c, &err) < 0)
		return cli_fail(cli, err);
	return 0;
}
