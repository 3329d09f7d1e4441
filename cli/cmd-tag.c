/* SPDX-License-Identifier: Apache-2.0 */
/*
 * berth tag, berth image tag: both names checked as docker's client checks them, then
 * POST /images/{source}/tag?repo=<full name>&tag=<tag, "latest" when none>.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "reference.h"
#include "base/banned.h"

static int bad_reference(const char *name, char *err)
{
	_cleanup_sbuf_ struct sbuf q = SBUF_INIT;

	go_quote(&q, name, strlen(name));
	err_printf("Error parsing reference: %s is not a valid repository/tag: %s\n", sbuf_str(&q),
		   err);
	free(err);
	return 1;
}

static int run_tag(struct cli *c, struct cli_args *a)
{
	const char *source = a->argv[0], *target = a->argv[1];
	struct ref src = {0}, dst = {0};
	_cleanup_sbuf_ struct sbuf path = SBUF_INIT;
	_cleanup_free_ char *repo = NULL;
	struct cli_response r;
	bool digest_only;
	char *err = NULL;

	if (ref_parse_any(source, &src, &digest_only, &err) < 0)
		return bad_reference(source, err);
	ref_release(&src);
	if (ref_parse_normalized(target, &dst, &err) < 0)
		return bad_reference(target, err);
	if (dst.digest) {
		ref_release(&dst);
		err_printf("refusing to create a tag with a digest reference\n");
		return 1;
	}
	repo = ref_name(&dst);
	sbuf_adds(&path, "/images/");
	url_path_escape(&path, source);
	sbuf_adds(&path, "/tag?repo=");
	url_escape(&path, repo);
	sbuf_adds(&path, "&tag=");
	url_escape(&path, dst.tag ? dst.tag : "latest");
	ref_release(&dst);
	if (cli_call(c, "POST", sbuf_str(&path), NULL, &r) < 0)
		return cli_fail(c, 1);
	cli_response_release(&r);
	return 0;
}

const struct cli_cmd cmd_tag = {
	.name = "tag",
	.use = "SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]",
	.short_desc = "Give an image another name (TARGET_IMAGE for SOURCE_IMAGE)",
	.aliases_line = "berth image tag, berth tag",
	.args = ARGS_EXACT,
	.min_args = 2,
	.max_args = 2,
	.run = run_tag,
	.no_interspersed = true,
	.complete = COMPLETE_IMAGES,
	.complete_max = 2,
};
CLI_CMD_TWIN(cmd_image_tag, cmd_tag);
