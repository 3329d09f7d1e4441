/* SPDX-License-Identifier: Apache-2.0 */
/*
 * berth commit, berth container commit: POST /commit?container=&repo=&tag=&comment=&author=
 * &changes=&pause= (docker's client), the new image's ID on stdout.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "reference.h"
#include "base/banned.h"

static int run_commit(struct cli *c, struct cli_args *a)
{
	const char *name = a->argv[0], *reference = a->argc > 1 ? a->argv[1] : NULL;
	const struct flag_value *changes = flag_get(a, "change");
	const char *author = flag_str(a, "author"), *message = flag_str(a, "message");
	_cleanup_sbuf_ struct sbuf target = SBUF_INIT;
	_cleanup_free_ char *repo = NULL, *tag = NULL;
	struct cli_response resp = {0};

	if (reference && *reference) {
		struct ref r;
		char *err = NULL;
		if (ref_parse_normalized(reference, &r, &err) < 0) {
			err_printf("%s\n", err);
			free(err);
			return 1;
		}
		if (r.digest) {
			ref_release(&r);
			err_printf("refusing to create a tag with a digest reference\n");
			return 1;
		}
		repo = ref_familiar_name(&r);
		tag = r.tag ? xstrdup(r.tag) : NULL;
		ref_release(&r);
	}
	/* url.Values.Encode(): keys in order */
	sbuf_adds(&target, "/commit?");
	if (author && *author) {
		sbuf_adds(&target, "author=");
		url_escape(&target, author);
		sbuf_addc(&target, '&');
	}
	for (size_t i = 0; i < changes->n; i++) {
		sbuf_adds(&target, "changes=");
		url_escape(&target, changes->v[i]);
		sbuf_addc(&target, '&');
	}
	if (message && *message) {
		sbuf_adds(&target, "comment=");
		url_escape(&target, message);
		sbuf_addc(&target, '&');
	}
	sbuf_adds(&target, "container=");
	url_escape(&target, name);
	if (flag_set(a, "pause") && !flag_bool(a, "pause")) /* true by default */
		sbuf_adds(&target, "&pause=0");
	if (repo) {
		sbuf_adds(&target, "&repo=");
		url_escape(&target, repo);
	}
	if (tag) {
		sbuf_adds(&target, "&tag=");
		url_escape(&target, tag);
	}
	if (cli_call(c, "POST", sbuf_str(&target), NULL, &resp) < 0)
		return cli_fail(c, 1);
	out_printf("%s\n", json_string_value(json_object_get(resp.json, "Id")) ?: "");
	cli_response_release(&resp);
	return 0;
}

static const struct cli_flag commit_flags[] = {
	{"author", 'a', FK_STRING, "string", NULL,
	 "Author (e.g., \"John Hannibal Smith <hannibal@a-team.com>\")"},
	{"change", 'c', FK_LIST, "list", NULL, "Apply Dockerfile instruction to the created image"},
	{"message", 'm', FK_STRING, "string", NULL, "Commit message"},
	{"pause", 'p', FK_BOOL, NULL, "true", "Pause container during commit"},
};

#define COMMIT_CMD(var)                                                                            \
	const struct cli_cmd var = {                                                               \
		.name = "commit",                                                                  \
		.use = "[OPTIONS] CONTAINER [REPOSITORY[:TAG]]",                                   \
		.short_desc = "Create a new image from a container's changes",                     \
		.aliases_line = "berth container commit, berth commit",                            \
		.flags = commit_flags,                                                             \
		.n_flags = ARRAY_SIZE(commit_flags),                                               \
		.args = ARGS_RANGE,                                                                \
		.min_args = 1,                                                                     \
		.max_args = 2,                                                                     \
		.run = run_commit,                                                                 \
		.no_interspersed = true,                                                           \
		.complete = COMPLETE_CONTAINERS,                                                   \
		.complete_max = 1,                                                                 \
	}

COMMIT_CMD(cmd_commit);
COMMIT_CMD(cmd_container_commit);
