/* SPDX-License-Identifier: Apache-2.0 */
/* spec [--bundle DIR] [--rootless]: write a default config.json, never over an existing one. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "base/banned.h"

int cmd_spec(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{"bundle", required_argument, NULL, 'b'},
		{"rootless", no_argument, NULL, 'R'},
		{},
	};
	_cleanup_error_ struct berth_error *err = NULL;
	_cleanup_json_ json_t *spec = NULL;
	_cleanup_free_ char *text = NULL;
	_cleanup_close_ int dfd = -EBADF;
	const char *bundle = ".";
	bool rootless = false;
	int ch;

	CLI_PARSE(argc, argv, "b:", opts, ch)
	{
		if (ch == 'b')
			bundle = optarg;
		else if (ch == 'R')
			rootless = true;
		else
			return cli_bad_flag(cli, argv, ch);
	}
	if (cli_expect_args(cli, argc, argv, 0, "nothing"))
		return 1;
	dfd = open(bundle, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		berth_error_sys(&err, errno, "bundle '%s'", bundle);
		return cli_fail(cli, err);
	}
	if (faccessat(dfd, "config.json", F_OK, AT_SYMLINK_NOFOLLOW) == 0)
		return cli_usage(cli, "file '%s/config.json' exists: remove it first", bundle);
	spec = berth_spec_default(rootless);
	text = spec ? json_dumps(spec, JSON_INDENT(2)) : NULL;
	if (!text)
		return cli_usage(cli, "out of memory");
	size_t len = strlen(text);
	text[len] = '\0';
	if (berth_write_file_atomic_at(dfd, "config.json", text, len, 0644, &err) < 0)
		return cli_fail(cli, err);
	return 0;
}
