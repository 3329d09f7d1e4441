/* SPDX-License-Identifier: Apache-2.0 */
/*
 * berth rmi, berth image rm / remove: DELETE /images/{name} for each name, docker's "Untagged:"
 * and "Deleted:" lines, every failure reported at the end (exit 1; with --force, names not found
 * are only reported).
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "platform.h"
#include "base/banned.h"

static int run_rmi(struct cli *c, struct cli_args *a)
{
	bool force = flag_bool(a, "force"), fatal = false;
	const struct flag_value *platforms = flag_get(a, "platform");
	_cleanup_sbuf_ struct sbuf query = SBUF_INIT, errs = SBUF_INIT;
	char *err = NULL;

	/* url.Values.Encode: force, noprune, platforms (sorted) */
	if (force)
		sbuf_adds(&query, "&force=1");
	if (flag_bool(a, "no-prune"))
		sbuf_adds(&query, "&noprune=1");
	for (size_t i = 0; i < platforms->n; i++) {
		/* a string slice: comma-separated values too */
		_cleanup_free_ char *copy = xstrdup(platforms->v[i]);
		for (char *save = NULL, *p = strtok_r(copy, ",", &save); p;
		     p = strtok_r(NULL, ",", &save)) {
			_cleanup_free_ char *pj = platform_query(p, &err);
			if (!pj) {
				err_printf("%s\n", err);
				free(err);
				return 1;
			}
			sbuf_adds(&query, "&platforms=");
			url_escape(&query, pj);
		}
	}
	for (int i = 0; i < a->argc; i++) {
		_cleanup_sbuf_ struct sbuf target = SBUF_INIT;
		struct cli_response r;
		size_t k;
		json_t *e;

		sbuf_adds(&target, "/images/");
		url_path_escape(&target, a->argv[i]);
		if (query.len) {
			sbuf_addc(&target, '?');
			sbuf_adds(&target, query.p + 1);
		}
		if (cli_call(c, "DELETE", sbuf_str(&target), NULL, &r) < 0) {
			if (c->err_status != 404)
				fatal = true;
			sbuf_printf(&errs, "%s%s", errs.len ? "\n" : "", c->err);
			continue;
		}
		json_array_foreach (r.json, k, e) {
			const char *deleted = json_string_value(json_object_get(e, "Deleted"));
			const char *untagged = json_string_value(json_object_get(e, "Untagged"));
			if (deleted && *deleted)
				out_printf("Deleted: %s\n", deleted);
			else
				out_printf("Untagged: %s\n", untagged ? untagged : "");
		}
		cli_response_release(&r);
	}
	if (errs.len) {
		err_printf("%s\n", sbuf_str(&errs));
		if (!force || fatal)
			return 1;
	}
	return 0;
}

static const struct cli_flag rmi_flags[] = {
	{"force", 'f', FK_BOOL, NULL, NULL,
	 "Remove it even while other names or containers use it"},
	{"no-prune", 0, FK_BOOL, NULL, NULL, "Keep the untagged parents"},
	{"platform", 0, FK_LIST, "strings", NULL,
	 "Remove only these platforms' images ('os[/arch[/variant]]')", .min_api = "1.50"},
};

const struct cli_cmd cmd_rmi = {
	.name = "rmi",
	.use = "[OPTIONS] IMAGE [IMAGE...]",
	.short_desc = "Remove images",
	.aliases_line = "berth image rm, berth image remove, berth rmi",
	.flags = rmi_flags,
	.n_flags = ARRAY_SIZE(rmi_flags),
	.args = ARGS_MIN,
	.min_args = 1,
	.run = run_rmi,
	.complete = COMPLETE_IMAGES,
};

static const char *const rm_aliases[] = {"rmi", "remove", NULL};

const struct cli_cmd cmd_image_rm = {
	.name = "rm",
	.use = "[OPTIONS] IMAGE [IMAGE...]",
	.short_desc = "Remove images",
	.aliases_line = "berth image rm, berth image remove, berth rmi",
	.aliases = rm_aliases,
	.flags = rmi_flags,
	.n_flags = ARRAY_SIZE(rmi_flags),
	.args = ARGS_MIN,
	.min_args = 1,
	.run = run_rmi,
	.complete = COMPLETE_IMAGES,
};
