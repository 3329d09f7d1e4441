/* SPDX-License-Identifier: Apache-2.0 */
/*
 * berth images, berth image ls / list: GET /images/json in docker's table (a row per repository
 * and tag of each image, <none> for dangling ones), or -q, --digests, --no-trunc, --format with
 * docker's imageContext, and the config file's imagesFormat.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "format.h"
#include "reference.h"
#include "base/banned.h"

struct rows {
	struct fmt_list *f;
	bool trunc, digest, need_digest;
	char *err;
};

static int emit(struct rows *r, json_t *s, const char *repo, const char *tag, const char *digest)
{
	struct ctx_obj c;
	int ret;

	image_ctx_init(&c, s, repo, tag, digest, r->trunc);
	ret = fmt_list_row(r->f, tval_obj(&c.obj), &r->err);
	ctx_obj_release(&c);
	return ret;
}

/* a repository's tags or digests, in the order the image lists them */
struct repo_list {
	char *repo;
	const char **items;
	size_t n;
	bool tagged; /* has tags: its digests are shown beside them, not as rows */
};

static struct repo_list *repo_find(struct repo_list **l, size_t *n, const char *repo)
{
	for (size_t i = 0; i < *n; i++)
		if (strcmp((*l)[i].repo, repo) == 0)
			return &(*l)[i];
	*l = xrealloc(*l, (*n + 1) * sizeof(**l));
	(*l)[*n] = (struct repo_list){.repo = xstrdup(repo)};
	return &(*l)[(*n)++];
}

static void repo_add(struct repo_list *r, const char *item)
{
	r->items = xrealloc(r->items, (r->n + 1) * sizeof(*r->items));
	r->items[r->n++] = item;
}

static void repos_free(struct repo_list *l, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(l[i].repo);
		free(l[i].items);
	}
	free(l);
}

/* imageFormatTaggedAndDigest: a row per tag (times each digest when digests are shown), then the
 * repositories that have digests only */
static int tagged_rows(struct rows *r, json_t *s)
{
	struct repo_list *tags = NULL, *digests = NULL;
	size_t nt = 0, nd = 0, i;
	json_t *e;
	int ret = 0;
	/* the parsed references own the strings the lists point into */
	struct ref *refs = xcalloc(json_array_size(json_object_get(s, "RepoTags")) +
					   json_array_size(json_object_get(s, "RepoDigests")) + 1,
				   sizeof(*refs));
	char **names = xcalloc(json_array_size(json_object_get(s, "RepoTags")) +
				       json_array_size(json_object_get(s, "RepoDigests")) + 1,
			       sizeof(*names));
	size_t nrefs = 0;

	json_array_foreach (json_object_get(s, "RepoTags"), i, e) {
		char *err = NULL;
		const char *str = json_string_value(e);
		if (!str || ref_parse_normalized(str, &refs[nrefs], &err) < 0) {
			free(err);
			continue;
		}
		if (refs[nrefs].tag && !refs[nrefs].digest) {
			names[nrefs] = ref_familiar_name(&refs[nrefs]);
			repo_add(repo_find(&tags, &nt, names[nrefs]), refs[nrefs].tag);
		}
		nrefs++;
	}
	json_array_foreach (json_object_get(s, "RepoDigests"), i, e) {
		char *err = NULL;
		const char *str = json_string_value(e);
		if (!str || ref_parse_normalized(str, &refs[nrefs], &err) < 0) {
			free(err);
			continue;
		}
		if (refs[nrefs].digest) {
			names[nrefs] = ref_familiar_name(&refs[nrefs]);
			repo_add(repo_find(&digests, &nd, names[nrefs]), refs[nrefs].digest);
		}
		nrefs++;
	}
	for (size_t t = 0; t < nt && ret == 0; t++) {
		struct repo_list *d = NULL;
		for (size_t k = 0; k < nd; k++)
			if (strcmp(digests[k].repo, tags[t].repo) == 0)
				d = &digests[k];
		if (d)
			d->tagged = true; /* no rows of its own */
		for (size_t k = 0; k < tags[t].n && ret == 0; k++) {
			if (!r->need_digest || !d || d->n == 0) {
				ret = emit(r, s, tags[t].repo, tags[t].items[k], "<none>");
				continue;
			}
			for (size_t m = 0; m < d->n && ret == 0; m++)
				ret = emit(r, s, tags[t].repo, tags[t].items[k], d->items[m]);
		}
	}
	for (size_t k = 0; k < nd && ret == 0; k++) {
		if (digests[k].tagged)
			continue;
		if (r->digest) {
			for (size_t m = 0; m < digests[k].n && ret == 0; m++)
				ret = emit(r, s, digests[k].repo, "<none>", digests[k].items[m]);
		} else {
			ret = emit(r, s, digests[k].repo, "<none>", "");
		}
	}
	repos_free(tags, nt);
	repos_free(digests, nd);
	for (size_t k = 0; k < nrefs; k++) {
		ref_release(&refs[k]);
		free(names[k]);
	}
	free(refs);
	free(names);
	return ret;
}

/* docker's NewImageFormat */
static const char *image_format(const char *source, bool quiet, bool digest, char **owned)
{
	if (strcmp(source, "table") == 0)
		return quiet ? "{{.ID}}" : digest ? IMAGE_TABLE_FORMAT_DIGEST : IMAGE_TABLE_FORMAT;
	if (strcmp(source, "raw") == 0) {
		if (quiet)
			return "image_id: {{.ID}}";
		if (digest)
			return "repository: {{ .Repository }}\ntag: {{.Tag}}\ndigest: "
			       "{{.Digest}}\nimage_id: {{.ID}}\ncreated_at: "
			       "{{.CreatedAt}}\nvirtual_size: {{.Size}}\n";
		return "repository: {{ .Repository }}\ntag: {{.Tag}}\nimage_id: "
		       "{{.ID}}\ncreated_at: {{.CreatedAt}}\nvirtual_size: {{.Size}}\n";
	}
	if (berth_str_has_prefix(source, "table") && digest && !strstr(source, "{{.Digest}}")) {
		*owned = xasprintf("%s\t{{.Digest}}", source);
		return *owned;
	}
	return source;
}

/* printAmbiguousHint: "berth images ls" most likely meant "berth image ls" */
static void ambiguous_hint(const char *name)
{
	static const char *const subs[] = {"build", "history", "import", "inspect", "list",
					   "load",  "ls",      "prune",	 "pull",    "push",
					   "rm",    "save",    "tag",	 NULL};

	for (size_t i = 0; subs[i]; i++)
		if (strcmp(name, subs[i]) == 0) {
			_cleanup_sbuf_ struct sbuf q = SBUF_INIT;
			go_quote(&q, name, strlen(name));
			err_printf("\nNo images found matching %s: did you mean \"%s image %s\"?\n",
				   sbuf_str(&q), CLI_NAME, name);
		}
}

static int run_images(struct cli *c, struct cli_args *a)
{
	const char *match = a->argc > 0 ? a->argv[0] : NULL;
	bool quiet = flag_bool(a, "quiet"), digests = flag_bool(a, "digests");
	const char *format = flag_str(a, "format");
	_cleanup_free_ char *filters = NULL, *owned = NULL, *legacy = NULL;
	_cleanup_sbuf_ struct sbuf target = SBUF_INIT;
	struct cli_response r = {0};
	struct fmt_list f;
	char *err = NULL;
	char sep = '?';

	if (flag_bool(a, "tree")) {
		/* past the API check (1.47): what docker refuses before listing as a tree */
		if (quiet)
			return err_printf("--quiet is not yet supported with --tree\n"), 1;
		if (flag_bool(a, "no-trunc"))
			return err_printf("--no-trunc is not yet supported with --tree\n"), 1;
		if (digests)
			return err_printf("--show-digest is not yet supported with --tree\n"), 1;
		if (format && *format)
			return err_printf("--format is not yet supported with --tree\n"), 1;
		err_printf("%s: the tree view of multi-platform images is not implemented: berthd "
			   "keeps one platform per image\n",
			   CLI_NAME);
		return 1;
	}

	const char *version = cli_api_version(c);
	if (!version)
		return cli_fail(c, 1);
	const struct flag_value *fv = flag_get(a, "filter");
	const char *extra[3] = {NULL, NULL, NULL};
	if (match) {
		extra[0] = "reference";
		extra[1] = match;
	}
	if (berth_api_version_compare(version, "1.25") < 0) {
		/* before 1.25 the name was the "filter" parameter, and only one */
		struct flag_value rest = *fv;
		const char **kept = xcalloc(fv->n + 1, sizeof(*kept));
		rest.v = kept;
		rest.n = 0;
		for (size_t i = 0; i < fv->n; i++) {
			const char *eq = strchr(fv->v[i], '=');
			_cleanup_free_ char *key =
				eq ? xstrndup(fv->v[i], (size_t)(eq - fv->v[i])) : NULL;
			if (key && strcasecmp(key, "reference") == 0) {
				if (!legacy)
					legacy = xstrdup(eq + 1);
				continue;
			}
			kept[rest.n++] = fv->v[i];
		}
		if (match && !legacy)
			legacy = xstrdup(match);
		filters = filters_json(&rest);
		free(kept);
	} else {
		filters = filters_json_with(fv, extra);
	}

	sbuf_adds(&target, "/images/json");
	if (legacy) {
		sbuf_printf(&target, "%cfilter=", sep);
		url_escape(&target, legacy);
		sep = '&';
	}
	if (filters) {
		sbuf_printf(&target, "%cfilters=", sep);
		url_escape(&target, filters);
		sep = '&';
	}
	if (flag_bool(a, "all"))
		sbuf_printf(&target, "%call=1", sep);
	if (cli_call(c, "GET", sbuf_str(&target), NULL, &r) < 0)
		return cli_fail(c, 1);

	if (!format || !*format) {
		const char *cfg =
			json_string_value(json_object_get(cli_config_file(c), "imagesFormat"));
		format = cfg && *cfg && !quiet ? cfg : "table";
	}
	format = image_format(format, quiet, digests, &owned);
	if (fmt_list_begin(&f, format, NULL, &err) < 0) {
		err_printf("%s\n", err);
		free(err);
		cli_response_release(&r);
		return 1;
	}
	struct rows rows = {
		.f = &f,
		.trunc = !flag_bool(a, "no-trunc"),
		.digest = digests,
		.need_digest = digests || strstr(format, "{{.Digest}}"),
	};
	size_t i;
	json_t *s;
	int ret = 0;
	json_array_foreach (r.json, i, s) {
		if (image_dangling(s))
			ret = emit(&rows, s, "<none>", "<none>", "<none>");
		else
			ret = tagged_rows(&rows, s);
		if (ret < 0)
			break;
	}
	if (ret < 0) {
		err_printf("%s\n", rows.err);
		free(rows.err);
		fmt_list_release(&f);
		cli_response_release(&r);
		return 1;
	}
	struct header_obj h;
	header_init(&h, image_header_pairs);
	fmt_list_end(&f, &h.obj);
	fmt_list_release(&f);
	if (match && json_array_size(r.json) == 0 && !a->parent)
		ambiguous_hint(match);
	cli_response_release(&r);
	return 0;
}

static const struct cli_flag images_flags[] = {
	{"all", 'a', FK_BOOL, NULL, NULL, "Show every image (intermediate ones too)"},
	{"digests", 0, FK_BOOL, NULL, NULL, "Show the digests"},
	{"filter", 'f', FK_LIST, "filter", NULL, "Show only the images that match (key=value)", 0,
	 check_filter},
	{"format", 0, FK_STRING, "string", NULL, FORMAT_HELP_LIST},
	{"no-trunc", 0, FK_BOOL, NULL, NULL, "Show IDs in full"},
	{"quiet", 'q', FK_BOOL, NULL, NULL, "Show image IDs only"},
	{"tree", 0, FK_BOOL, NULL, NULL, "Show multi-platform images as trees", .min_api = "1.47"},
};

const struct cli_cmd cmd_images = {
	.name = "images",
	.use = "[OPTIONS] [REPOSITORY[:TAG]]",
	.short_desc = "List the images",
	.aliases_line = "berth image ls, berth image list, berth images",
	.flags = images_flags,
	.n_flags = ARRAY_SIZE(images_flags),
	.args = ARGS_MAX,
	.max_args = 1,
	.run = run_images,
	.top = 7,
};

static const char *const ls_aliases[] = {"list", NULL};

const struct cli_cmd cmd_image_ls = {
	.name = "ls",
	.use = "[OPTIONS] [REPOSITORY[:TAG]]",
	.short_desc = "List the images",
	.aliases_line = "berth image ls, berth image list, berth images",
	.aliases = ls_aliases,
	.flags = images_flags,
	.n_flags = ARRAY_SIZE(images_flags),
	.args = ARGS_MAX,
	.max_args = 1,
	.run = run_images,
};
