/* SPDX-License-Identifier: Apache-2.0 */
/*
 * berth builder build (berth build) and berth builder prune: asks first (docker's prompt), then
 * POST /build/prune and docker's report ("Deleted build cache objects:", the keys, "Total
 * reclaimed space: ").  berthd removes the cached step images nothing else holds; --all also
 * forgets the keys of those it keeps (docs/build.md, "The cache").
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "units.h"
#include "base/banned.h"

static int run_builder_prune(struct cli *c, struct cli_args *a)
{
	bool all = flag_bool(a, "all");
	_cleanup_free_ char *fj = filters_json(flag_get(a, "filter"));
	_cleanup_sbuf_ struct sbuf out = SBUF_INIT, size = SBUF_INIT;
	struct cli_response r;
	size_t i;
	json_t *e;

	if (!flag_bool(a, "force") &&
	    !confirm(all ? "WARNING! This will remove all build cache. Are you sure you want to "
			   "continue?"
			 : "WARNING! This will remove all dangling build cache. Are you sure you "
			   "want to continue?"))
		return 0;
	if (cli_call_filtered(c, "POST", all ? "/build/prune?all=1" : "/build/prune", fj, &r) < 0)
		return cli_fail(c, 1);
	json_t *deleted = json_object_get(r.json, "CachesDeleted");
	if (json_array_size(deleted)) {
		sbuf_adds(&out, "Deleted build cache objects:\n");
		json_array_foreach (deleted, i, e) {
			sbuf_adds(&out, json_string_value(e) ?: "");
			sbuf_addc(&out, '\n');
		}
		out_printf("%s\n", sbuf_str(&out));
	}
	human_size(&size, (double)json_integer_value(json_object_get(r.json, "SpaceReclaimed")), 4);
	out_printf("Total reclaimed space: %s\n", sbuf_str(&size));
	cli_response_release(&r);
	return 0;
}

static const struct cli_flag prune_flags[] = {
	{"all", 'a', FK_BOOL, NULL, NULL, "Remove all unused build cache, not just dangling ones"},
	{"filter", 0, FK_LIST, "filter", NULL, "Provide filter values (e.g. \"until=24h\")", 0,
	 check_filter},
	{"force", 'f', FK_BOOL, NULL, NULL, "Do not prompt for confirmation"},
};

static const struct cli_cmd cmd_builder_prune = {
	.name = "prune",
	.use = "[OPTIONS]",
	.short_desc = "Remove build cache",
	.flags = prune_flags,
	.n_flags = ARRAY_SIZE(prune_flags),
	.args = ARGS_NONE,
	.run = run_builder_prune,
};

static const struct cli_cmd *const builder_subs[] = {&cmd_image_build, &cmd_builder_prune, NULL};

const struct cli_cmd cmd_builder = {
	.name = "builder",
	.short_desc = "Manage builds",
	.subs = builder_subs,
};
