/* SPDX-License-Identifier: Apache-2.0 */
/*
 * berth inspect (any object: --type, or docker's search order) and berth image inspect.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "inspect.h"
#include "platform.h"
#include "base/banned.h"

/* ---- image inspect ------------------------------------------------------------------------------ */

static int get_image(struct cli *c, const char *ref, void *data, struct inspect_obj *ret,
		     char **ret_err)
{
	const char *platform = data;
	bool not_found;

	if (!platform)
		return inspect_fetch(c, inspect_type_find("image"), ref, false, ret, ret_err,
				     &not_found);
	/* ?platform= (1.49): the version was checked before the command ran */
	_cleanup_free_ char *path = NULL;
	_cleanup_sbuf_ struct sbuf target = SBUF_INIT;
	struct cli_response r;
	if (!*ref) {
		*ret_err = xstrdup("Error: No such image: ");
		return -1;
	}
	sbuf_adds(&target, "/images/");
	url_path_escape(&target, ref);
	sbuf_adds(&target, "/json?platform=");
	url_escape(&target, platform);
	if (cli_call(c, "GET", sbuf_str(&target), NULL, &r) < 0) {
		*ret_err = xstrdup(c->err);
		return -1;
	}
	ret->raw = TAKE_PTR(r.body);
	ret->len = r.len;
	ret->json = r.json ? r.json : json_loadb(ret->raw, ret->len, JSON_DECODE_ANY, NULL);
	r.json = NULL;
	ret->schema = &image_inspect_schema;
	cli_response_release(&r);
	return 0;
}

static int run_image_inspect(struct cli *c, struct cli_args *a)
{
	const char *platform = flag_str(a, "platform");
	_cleanup_free_ char *pjson = NULL;

	if (platform && *platform) {
		char *err = NULL;
		pjson = platform_query(platform, &err);
		if (!pjson) {
			err_printf("%s\n", err);
			free(err);
			return 1;
		}
	}
	return inspect_run(c, a->argv, a->argc, flag_str(a, "format"), get_image, pjson);
}

static const struct cli_flag image_inspect_flags[] = {
	{"format", 'f', FK_STRING, "string", NULL, FORMAT_HELP_INSPECT},
	{"platform", 0, FK_STRING, "string", NULL,
	 "Inspect one platform of a multi-platform image ('os[/arch[/variant]]')",
	 .min_api = "1.49"},
};

const struct cli_cmd cmd_image_inspect = {
	.name = "inspect",
	.use = "[OPTIONS] IMAGE [IMAGE...]",
	.short_desc = "Show the details of images",
	.flags = image_inspect_flags,
	.n_flags = ARRAY_SIZE(image_inspect_flags),
	.args = ARGS_MIN,
	.min_args = 1,
	.run = run_image_inspect,
	.complete = COMPLETE_IMAGES,
};

/* ---- inspect -------------------------------------------------------------------------------------- */

struct search {
	const struct inspect_type *only; /* --type */
	bool size;
	int swarm; /* unknown, yes, no */
};

static bool skippable(const char *err, bool not_found)
{
	return not_found || strstr(err, "not supported") || strstr(err, "invalid reference format");
}

/* Is berthd a swarm manager (docker asks /info before looking for swarm objects)? */
static bool swarm_manager(struct cli *c)
{
	struct cli_response r;
	bool yes;

	if (cli_call(c, "GET", "/info", NULL, &r) < 0) {
		err_printf("%s\n", c->err);
		return false;
	}
	yes = json_is_true(json_object_get(json_object_get(r.json, "Swarm"), "ControlAvailable"));
	cli_response_release(&r);
	return yes;
}

static int get_any(struct cli *c, const char *ref, void *data, struct inspect_obj *ret,
		   char **ret_err)
{
	struct search *s = data;
	int swarm = 0; /* per name, as docker's closure */

	for (size_t i = 0; i < n_inspect_types; i++) {
		const struct inspect_type *t = &inspect_types[i];
		bool not_found;
		char *err = NULL;
		if (s->only && s->only != t)
			continue;
		if (!s->only && t->swarm) {
			if (swarm == 0)
				swarm = swarm_manager(c) ? 1 : -1;
			if (swarm < 0)
				continue;
		}
		if (inspect_fetch(c, t, ref, s->size, ret, &err, &not_found) < 0) {
			if (!s->only && skippable(err, not_found)) {
				free(err);
				continue;
			}
			*ret_err = err;
			return -1;
		}
		if (s->size && !t->size_supported)
			err_printf("WARNING: --size ignored for %s\n", t->name);
		return 0;
	}
	*ret_err = xasprintf("Error: No such object: %s", ref);
	return -1;
}

static void type_list(struct sbuf *b)
{
	/* docker's list is alphabetical */
	static const char *const names[] = {"config", "container", "image",   "network", "node",
					    "plugin", "secret",	   "service", "task",	 "volume"};

	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		sbuf_printf(b, "%s%s", i ? "\", \"" : "", names[i]);
}

static int run_inspect(struct cli *c, struct cli_args *a)
{
	const char *type = flag_str(a, "type");
	struct search s = {.size = flag_bool(a, "size")};

	if (flag_set(a, "type") && (!type || !*type)) {
		_cleanup_sbuf_ struct sbuf b = SBUF_INIT;
		type_list(&b);
		err_printf("type is empty: must be one of \"%s\"\n", sbuf_str(&b));
		return 1;
	}
	if (type && *type) {
		s.only = inspect_type_find(type);
		if (!s.only) {
			_cleanup_sbuf_ struct sbuf b = SBUF_INIT, q = SBUF_INIT;
			type_list(&b);
			go_quote(&q, type, strlen(type));
			err_printf("unknown type: %s: must be one of \"%s\"\n", sbuf_str(&q),
				   sbuf_str(&b));
			return 1;
		}
	}
	return inspect_run(c, a->argv, a->argc, flag_str(a, "format"), get_any, &s);
}

static const struct cli_flag inspect_flags[] = {
	{"format", 'f', FK_STRING, "string", NULL, FORMAT_HELP_INSPECT},
	{"size", 's', FK_BOOL, NULL, NULL, "Show the sizes of containers' files"},
	{"type", 0, FK_STRING, "string", NULL, "Look only for objects of this type"},
};

const struct cli_cmd cmd_inspect = {
	.name = "inspect",
	.use = "[OPTIONS] NAME|ID [NAME|ID...]",
	.short_desc = "Show the details of berth's objects",
	.flags = inspect_flags,
	.n_flags = ARRAY_SIZE(inspect_flags),
	.args = ARGS_MIN,
	.min_args = 1,
	.run = run_inspect,
};
