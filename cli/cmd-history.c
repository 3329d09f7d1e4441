/* SPDX-License-Identifier: Apache-2.0 */
/*
 * berth history, berth image history: GET /images/{name}/history in docker's table (IMAGE
 * CREATED CREATED BY SIZE COMMENT), or --human=false, --no-trunc, -q, --format with docker's
 * historyContext.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "format.h"
#include "platform.h"
#include "units.h"
#include "base/banned.h"

#define HISTORY_TABLE "table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}"
#define HISTORY_TABLE_NON_HUMAN                                                                    \
	"table {{.ID}}\t{{.CreatedAt}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}"
/* 2000-01-01T00:00:00Z: older is "N/A" (a layer without a real date) */
#define EPOCH_2000 946684800

static const char *const history_header_pairs[] = {
	"ID",	      "IMAGE", "CreatedSince", "CREATED", "CreatedAt", "CREATED AT", "CreatedBy",
	"CREATED BY", "Size",  "SIZE",	       "Comment", "COMMENT",   NULL,
};

static void history_ctx_init(struct ctx_obj *c, json_t *h, bool trunc, bool human)
{
	_cleanup_sbuf_ struct sbuf b = SBUF_INIT, at = SBUF_INIT;
	const char *id = json_string_value(json_object_get(h, "Id"));
	const char *by = json_string_value(json_object_get(h, "CreatedBy"));
	const char *comment = json_string_value(json_object_get(h, "Comment"));
	int64_t created = json_integer_value(json_object_get(h, "Created"));
	int64_t size = json_integer_value(json_object_get(h, "Size"));

	ctx_obj_init(c, "*image.historyContext", NULL);
	if (!id)
		id = "";
	if (trunc) {
		truncate_id(&b, id);
		ctx_set(c, "ID", sbuf_str(&b));
	} else {
		ctx_set(c, "ID", id);
	}
	go_time_rfc3339(&at, created);
	ctx_set(c, "CreatedAt", sbuf_str(&at));
	sbuf_reset(&b);
	if (!human) {
		sbuf_adds(&b, sbuf_str(&at));
	} else if (created <= EPOCH_2000) {
		sbuf_adds(&b, "N/A");
	} else {
		human_duration(&b, now_ns() - created * 1000000000);
		sbuf_adds(&b, " ago");
	}
	ctx_set(c, "CreatedSince", sbuf_str(&b));
	/* tabs would break the table */
	_cleanup_free_ char *flat = xstrdup(by ? by : "");
	for (char *p = flat; *p; p++)
		if (*p == '\t')
			*p = ' ';
	sbuf_reset(&b);
	if (trunc)
		ellipsis(&b, flat, 45);
	else
		sbuf_adds(&b, flat);
	ctx_set(c, "CreatedBy", sbuf_str(&b));
	sbuf_reset(&b);
	if (human)
		human_size(&b, (double)size, 3);
	else
		sbuf_printf(&b, "%" PRId64, size);
	ctx_set(c, "Size", sbuf_str(&b));
	ctx_set(c, "Comment", comment);
}

static int run_history(struct cli *c, struct cli_args *a)
{
	const char *format = flag_str(a, "format"), *platform = flag_str(a, "platform");
	bool human = !flag_set(a, "human") || flag_bool(a, "human");
	bool trunc = !flag_bool(a, "no-trunc");
	_cleanup_sbuf_ struct sbuf target = SBUF_INIT;
	_cleanup_free_ char *pjson = NULL;
	struct cli_response r;
	struct fmt_list f;
	char *err = NULL;
	size_t i;
	json_t *h;
	int ret = 0;

	if (platform_flag_query(platform, &pjson))
		return 1;
	sbuf_adds(&target, "/images/");
	url_path_escape(&target, a->argv[0]);
	sbuf_adds(&target, "/history");
	if (pjson) {
		sbuf_adds(&target, "?platform=");
		url_escape(&target, pjson);
	}
	if (cli_call(c, "GET", sbuf_str(&target), NULL, &r) < 0)
		return cli_fail(c, 1);

	if (!format || !*format)
		format = "table";
	if (strcmp(format, "table") == 0)
		format = flag_bool(a, "quiet") ? "{{.ID}}"
			 : human	       ? HISTORY_TABLE
					       : HISTORY_TABLE_NON_HUMAN;
	if (fmt_list_begin(&f, format, NULL, &err) < 0) {
		err_printf("%s\n", err);
		free(err);
		cli_response_release(&r);
		return 1;
	}
	json_array_foreach (r.json, i, h) {
		struct ctx_obj ctx;
		history_ctx_init(&ctx, h, trunc, human);
		ret = fmt_list_row(&f, tval_obj(&ctx.obj), &err);
		ctx_obj_release(&ctx);
		if (ret < 0)
			break;
	}
	if (ret < 0) {
		err_printf("%s\n", err);
		free(err);
	} else {
		struct header_obj hd;
		header_init(&hd, history_header_pairs);
		fmt_list_end(&f, &hd.obj);
	}
	fmt_list_release(&f);
	cli_response_release(&r);
	return ret < 0 ? 1 : 0;
}

static const struct cli_flag history_flags[] = {
	{"format", 0, FK_STRING, "string", NULL, FORMAT_HELP_LIST},
	{"human", 'H', FK_BOOL, NULL, "true", "Sizes and dates for people"},
	{"no-trunc", 0, FK_BOOL, NULL, NULL, "Show IDs and commands in full"},
	{"platform", 0, FK_STRING, "string", NULL,
	 "The history of this platform's image ('os[/arch[/variant]]')", .min_api = "1.48"},
	{"quiet", 'q', FK_BOOL, NULL, NULL, "Show image IDs only"},
};

const struct cli_cmd cmd_history = {
	.name = "history",
	.use = "[OPTIONS] IMAGE",
	.short_desc = "Show how an image was made, layer by layer",
	.aliases_line = "berth image history, berth history",
	.flags = history_flags,
	.n_flags = ARRAY_SIZE(history_flags),
	.args = ARGS_EXACT,
	.min_args = 1,
	.max_args = 1,
	.run = run_history,
	.complete = COMPLETE_IMAGES,
	.complete_max = 1,
};
CLI_CMD_TWIN(cmd_image_history, cmd_history);
