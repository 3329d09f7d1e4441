/* SPDX-License-Identifier: Apache-2.0 */
/*
 * berth system prune: docker's sweep of what nothing uses, in its order -- stopped containers,
 * unused networks, with --volumes anonymous volumes nothing mounts, dangling images (every unused
 * one with -a), build cache -- after one prompt listing them and the filters.  Each part is the
 * POST /.../prune its own prune command makes, with the flag's filters (docker 28 adds no config
 * file pruneFilters here: seen in its requests); the report is each part's "Deleted ...:"
 * section and the total.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "units.h"
#include "base/banned.h"

struct part {
	const char *path;	 /* the endpoint, its own query included */
	const char *extra[3];	 /* a filter it adds: key, value */
	const char *key, *title; /* the answer's list and the report's heading */
	const char *(*line)(json_t *e, struct sbuf *b); /* one deleted item's line */
	bool counts_always; /* SpaceReclaimed counts even when nothing was deleted */
};

static const char *plain_line(json_t *e, struct sbuf *b)
{
	sbuf_adds(b, json_string_value(e) ?: "");
	return sbuf_str(b);
}

static const char *image_line(json_t *e, struct sbuf *b)
{
	const char *u = json_string_value(json_object_get(e, "Untagged"));
	const char *d = json_string_value(json_object_get(e, "Deleted"));

	if (u && *u)
		sbuf_printf(b, "untagged: %s", u);
	else
		sbuf_printf(b, "deleted: %s", d ?: "");
	return sbuf_str(b);
}

/* "label=a", "label!=b", "until=1h" of the filters, sorted: docker's list under the prompt */
static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void prompt_filters(struct sbuf *q, json_t *filters)
{
	static const char *const shown[] = {"label", "label!", "until"};
	char **items = NULL;
	size_t n = 0;

	for (size_t k = 0; k < ARRAY_SIZE(shown); k++) {
		const char *v;
		json_t *t;
		json_object_foreach (json_object_get(filters, shown[k]), v, t) {
			items = xrealloc(items, (n + 1) * sizeof(*items));
			items[n++] = xasprintf("%s=%s", shown[k], v);
		}
	}
	if (n) {
		qsort(items, n, sizeof(*items), cmp_str);
		sbuf_adds(q, "\n  Items to be pruned will be filtered with:");
		for (size_t i = 0; i < n; i++)
			sbuf_printf(q, "\n  - %s", items[i]);
		sbuf_addc(q, '\n');
	}
	for (size_t i = 0; i < n; i++)
		free(items[i]);
	free(items);
}

/* one part: its request and report; adds what it reclaimed to *total */
static int prune_part(struct cli *c, const struct part *p, const struct flag_value *fv,
		      uint64_t *total)
{
	_cleanup_free_ char *fj = filters_json_with(fv, p->extra[0] ? p->extra : NULL);
	struct cli_response r;
	size_t i;
	json_t *e;

	if (cli_call_filtered(c, "POST", p->path, fj, &r) < 0)
		return cli_fail(c, 1);
	json_t *deleted = json_object_get(r.json, p->key);
	uint64_t space = (uint64_t)json_integer_value(json_object_get(r.json, "SpaceReclaimed"));
	if (json_array_size(deleted)) {
		out_printf("%s:\n", p->title);
		json_array_foreach (deleted, i, e) {
			_cleanup_sbuf_ struct sbuf b = SBUF_INIT;
			out_printf("%s\n", p->line(e, &b));
		}
		out_puts("\n");
		*total += space;
	} else if (p->counts_always) {
		*total += space;
	}
	cli_response_release(&r);
	return 0;
}

static int run_system_prune(struct cli *c, struct cli_args *a)
{
	bool all = flag_bool(a, "all"), volumes = flag_bool(a, "volumes");
	const struct flag_value *fv = flag_get(a, "filter");
	_cleanup_sbuf_ struct sbuf q = SBUF_INIT, size = SBUF_INIT;
	uint64_t total = 0;

	if (volumes)
		for (size_t i = 0; i < fv->n; i++)
			if (strncmp(fv->v[i], "until=", 6) == 0) {
				err_printf("ERROR: The \"until\" filter is not supported with "
					   "\"--volumes\"\n");
				return 1;
			}
	if (!flag_bool(a, "force")) {
		_cleanup_free_ char *fj = filters_json(fv);
		_cleanup_json_ json_t *filters = fj ? json_loads(fj, 0, NULL) : json_object();
		sbuf_adds(&q, "WARNING! This will remove:\n  - all stopped containers\n  - all "
			      "networks not used by at least one container");
		if (volumes)
			sbuf_adds(&q,
				  "\n  - all anonymous volumes not used by at least one container");
		sbuf_adds(&q, all ? "\n  - all images without at least one container associated to "
				    "them\n  - all build cache"
				  : "\n  - all dangling images\n  - unused build cache");
		sbuf_addc(&q, '\n');
		prompt_filters(&q, filters);
		sbuf_adds(&q, "\nAre you sure you want to continue?");
		if (!confirm(sbuf_str(&q)))
			return 0; /* cancelled: docker says nothing more */
	}
	const struct part parts[] = {
		{"/containers/prune",
		 {NULL},
		 "ContainersDeleted",
		 "Deleted Containers",
		 plain_line},
		{"/networks/prune", {NULL}, "NetworksDeleted", "Deleted Networks", plain_line},
		{"/volumes/prune", {NULL}, "VolumesDeleted", "Deleted Volumes", plain_line},
		{"/images/prune",
		 {"dangling", all ? "false" : "true", NULL},
		 "ImagesDeleted",
		 "Deleted Images",
		 image_line},
		{all ? "/build/prune?all=1" : "/build/prune",
		 {NULL},
		 "CachesDeleted",
		 "Deleted build cache objects",
		 plain_line,
		 true},
	};
	for (size_t i = 0; i < ARRAY_SIZE(parts); i++) {
		if (i == 2 && !volumes)
			continue;
		if (prune_part(c, &parts[i], fv, &total))
			return 1;
	}
	human_size(&size, (double)total, 4);
	out_printf("Total reclaimed space: %s\n", sbuf_str(&size));
	return 0;
}

static const struct cli_flag prune_flags[] = {
	{"all", 'a', FK_BOOL, NULL, NULL, "Every image no container uses, not only dangling ones"},
	{"filter", 0, FK_LIST, "filter", NULL,
	 "Which objects to consider (\"until=<timestamp>\", \"label=k=v\")", 0, check_filter},
	{"force", 'f', FK_BOOL, NULL, NULL, "Do not ask first"},
	{"volumes", 0, FK_BOOL, NULL, NULL, "Anonymous volumes nothing mounts too"},
};

const struct cli_cmd cmd_system_prune = {
	.name = "prune",
	.use = "[OPTIONS]",
	.short_desc = "Remove what nothing uses: stopped containers, networks, images, build cache",
	.flags = prune_flags,
	.n_flags = ARRAY_SIZE(prune_flags),
	.args = ARGS_NONE,
	.run = run_system_prune,
	.min_api = "1.25",
};
