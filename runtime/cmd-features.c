/* SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>

#include "cli.h"
#include "base/banned.h"

int cmd_features(struct cli *cli, int argc, char **argv)
{
	static const struct option no_opts[] = {{}};
	_cleanup_json_ json_t *j = NULL;
	int c;

	CLI_PARSE(argc, argv, "", no_opts, c)
	return cli_bad_flag(cli, argv, c);
	if (cli_expect_args(cli, argc, argv, 0, "nothing"))
		return 1;
	j = berth_runtime_features(&cli->opts);
	if (!j || json_dumpf(j, stdout, JSON_INDENT(4)) < 0)
		return 1;
	putchar('\n');
	return 0;
}
