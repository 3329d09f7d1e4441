/* SPDX-License-Identifier: Apache-2.0 */
/*
 * berth diff, berth container diff: GET /containers/{id}/changes, one "C /path", "A /path" or
 * "D /path" line each, in the daemon's order (docker's).
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "base/banned.h"

static int run_diff(struct cli *c, struct cli_args *a)
{
	_cleanup_sbuf_ struct sbuf target = SBUF_INIT;
	struct cli_response resp = {0};
	size_t i;
	json_t *ch;

	if (!*a->argv[0]) { /* docker's diff checks this itself, before its client's check */
		err_printf("Container name cannot be empty\n");
		return 1;
	}
	sbuf_adds(&target, "/containers/");
	url_path_escape(&target, a->argv[0]);
	sbuf_adds(&target, "/changes");
	if (cli_call(c, "GET", sbuf_str(&target), NULL, &resp) < 0)
		return cli_fail(c, 1);
	json_array_foreach (resp.json, i, ch) {
		json_int_t kind = json_integer_value(json_object_get(ch, "Kind"));
		const char *letter = kind == 0 ? "C" : kind == 1 ? "A" : kind == 2 ? "D" : "?";
		out_printf("%s %s\n", letter, json_string_value(json_object_get(ch, "Path")) ?: "");
	}
	cli_response_release(&resp);
	return 0;
}

#define DIFF_CMD(var)                                                                              \
	const struct cli_cmd var = {                                                               \
		.name = "diff",                                                                    \
		.use = "CONTAINER",                                                                \
		.short_desc = "Inspect changes to files or directories on a container's "          \
			      "filesystem",                                                        \
		.aliases_line = "berth container diff, berth diff",                                \
		.args = ARGS_EXACT,                                                                \
		.min_args = 1,                                                                     \
		.run = run_diff,                                                                   \
		.complete = COMPLETE_CONTAINERS,                                                   \
		.complete_max = 1,                                                                 \
	}

DIFF_CMD(cmd_diff);
DIFF_CMD(cmd_container_diff);
