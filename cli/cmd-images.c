/* SPDX-License-Identifier: Apache-2.0 */
/*
 * berth images, berth image ls / list: GET /images/json in docker's table (a row per repository
 * and tag of each image, <none> for dangling ones), or -q, --digests, --no-trunc, --format with
 * docker's imageContext, and the config file's imagesFormat.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "format.h"
#include "reference.h"
#include "units.h"
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

/* ---- --tree (docker 28's tree view) ------------------------------------------------------- */

struct tree_details {
	const char *id;
	char disk[32], content[32];
	bool in_use;
};

struct tree_child {
	char *platform;
	bool available;
	struct tree_details d;
};

struct tree_image {
	const char **names; /* RepoTags, longest first */
	size_t n_names;
	struct tree_details d;
	struct tree_child *kids;
	size_t n_kids;
	int64_t created;
	size_t order;
};

struct tree_col {
	const char *title;
	int width;
	int align; /* 0 left, 1 right */
	int kind;  /* 0 image, 1 id, 2 disk usage, 3 content size, 4 extra */
};

struct tree_out {
	struct sbuf b;
	bool term;
	bool chip_in_use; /* some image or platform is in use: the column shows the chip */
};

#define TITLE_COLOR "\x1b[39m\x1b[1m"

/* tui.Width: the display width without escape sequences (one column per code point) */
static int tui_width(const char *s)
{
	int n = 0;

	while (*s) {
		if (*s == '\x1b') {
			const char *m = strchr(s, 'm');
			if (!m)
				break;
			s = m + 1;
			continue;
		}
		if (((unsigned char)*s & 0xC0) != 0x80)
			n++;
		s++;
	}
	return n;
}

/* tui.Ellipsis: the first length-1 code points and "…" when s reaches length */
static void tui_ellipsis(struct sbuf *b, const char *s, int length)
{
	int ln = 0;
	bool esc = false, too_long = false;

	for (const char *p = s; *p;) {
		size_t cl = 1;
		while (p[cl] && ((unsigned char)p[cl] & 0xC0) == 0x80)
			cl++;
		if (*p == '\x1b' || esc) {
			esc = *p != 'm';
			sbuf_add(b, p, cl);
			if (!esc && too_long)
				break;
			p += cl;
			continue;
		}
		if (++ln == length)
			too_long = true;
		if (!too_long)
			sbuf_add(b, p, cl);
		p += cl;
	}
	if (too_long)
		sbuf_adds(b, "…");
}

static void tree_apply(struct sbuf *b, const char *clr, const char *s)
{
	if (clr && *clr)
		sbuf_printf(b, "%s%s\x1b[0m", clr, s);
	else
		sbuf_adds(b, s);
}

static void tree_print(struct sbuf *b, const struct tree_col *col, const char *clr, const char *s)
{
	int ln = tui_width(s);

	if (ln > col->width) {
		_cleanup_sbuf_ struct sbuf e = SBUF_INIT;
		tui_ellipsis(&e, s, col->width);
		tree_apply(b, clr, sbuf_str(&e));
		return;
	}
	if (col->align)
		sbuf_printf(b, "%*s", col->width - ln, "");
	tree_apply(b, clr, s);
	if (!col->align)
		sbuf_printf(b, "%*s", col->width - ln, "");
}

static void tree_details_print(struct tree_out *o, const struct tree_col *cols, size_t n,
			       const char *clr, const struct tree_details *d)
{
	for (size_t i = 1; i < n; i++) {
		_cleanup_sbuf_ struct sbuf v = SBUF_INIT;
		const char *val = "";
		sbuf_adds(&o->b, "   ");
		switch (cols[i].kind) {
		case 1: {
			const char *id = d->id ? d->id : "";
			if (berth_str_has_prefix(id, "sha256:"))
				id += 7;
			sbuf_add(&v, id, strlen(id) > 12 ? 12 : strlen(id));
			val = sbuf_str(&v);
			break;
		}
		case 2:
			val = d->disk;
			break;
		case 3:
			val = d->content;
			break;
		case 4:
			if (o->chip_in_use)
				sbuf_adds(&v,
					  d->in_use
						  ? (o->term ? "\x1b[38;5;0m\x1b[48;5;14m U \x1b[0m"
							     : "U")
						  : (o->term ? "   " : " "));
			tree_print(&o->b, &cols[i], NULL, sbuf_str(&v));
			continue;
		}
		tree_print(&o->b, &cols[i], clr, val);
	}
}

static int cmp_name_len(const void *a, const void *b)
{
	size_t x = strlen(*(const char *const *)a), y = strlen(*(const char *const *)b);
	/* longest first; equal lengths keep their order (the caller sorts indexes, see below) */
	return x < y ? 1 : x > y ? -1 : 0;
}

static int cmp_tree_created(const void *a, const void *b)
{
	const struct tree_image *x = a, *y = b;

	if (x->created != y->created)
		return x->created > y->created ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

static void tree_size(char *buf, size_t n, double v)
{
	_cleanup_sbuf_ struct sbuf b = SBUF_INIT;

	human_size(&b, v, 3);
	snprintf(buf, n, "%s", sbuf_str(&b));
}

/* runTree and printImageTree of docker 28.2 over GET /images/json?manifests=1 */
static int images_tree(json_t *list, bool all)
{
	struct tree_out o = {.b = SBUF_INIT, .term = is_terminal(STDOUT_FILENO)};
	struct tree_image *v = xcalloc(json_array_size(list) + 1, sizeof(*v));
	size_t n = 0, i, k;
	bool spacing = false;
	json_t *s;
	int width = 80, full_width = 0;
	struct winsize ws;

	if (o.term && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		width = full_width = ws.ws_col;
	if (width < 20)
		width = 20;
	json_array_foreach (list, i, s) {
		struct tree_image *t = &v[n];
		json_t *tags = json_object_get(s, "RepoTags"), *m, *tag;
		int64_t content = 0;
		if (!all && image_dangling(s))
			continue;
		t->order = n;
		t->created = json_integer_value(json_object_get(s, "Created"));
		t->d.id = json_string_value(json_object_get(s, "Id"));
		tree_size(t->d.disk, sizeof(t->d.disk),
			  (double)json_integer_value(json_object_get(s, "Size")));
		t->d.in_use = json_integer_value(json_object_get(s, "Containers")) > 0;
		t->names = xcalloc(json_array_size(tags) + 1, sizeof(*t->names));
		json_array_foreach (tags, k, tag)
			t->names[t->n_names++] = json_string_value(tag) ?: "";
		/* sort.Slice of a short list is an insertion sort: stable */
		for (size_t x = 1; x < t->n_names; x++)
			for (size_t y = x;
			     y > 0 && cmp_name_len(&t->names[y - 1], &t->names[y]) > 0; y--) {
				const char *tmp = t->names[y];
				t->names[y] = t->names[y - 1];
				t->names[y - 1] = tmp;
			}
		json_t *ms = json_object_get(s, "Manifests");
		t->kids = xcalloc(json_array_size(ms) + 1, sizeof(*t->kids));
		json_array_foreach (ms, k, m) {
			const json_t *size = json_object_get(m, "Size");
			const json_t *idata = json_object_get(m, "ImageData");
			const json_t *pl = json_object_get(idata, "Platform");
			const char *os = json_string_value(json_object_get(pl, "os"));
			const char *arch = json_string_value(json_object_get(pl, "architecture"));
			const char *variant = json_string_value(json_object_get(pl, "variant"));
			content += json_integer_value(json_object_get(size, "Content"));
			if (!berth_streq(json_string_value(json_object_get(m, "Kind")), "image"))
				continue;
			struct tree_child *ch = &t->kids[t->n_kids++];
			ch->platform =
				xasprintf("%s/%s%s%s", os && *os ? os : "unknown", arch ? arch : "",
					  variant && *variant ? "/" : "", variant ? variant : "");
			ch->available = json_is_true(json_object_get(m, "Available"));
			ch->d.id = json_string_value(json_object_get(m, "ID"));
			tree_size(ch->d.disk, sizeof(ch->d.disk),
				  (double)json_integer_value(json_object_get(size, "Total")));
			tree_size(ch->d.content, sizeof(ch->d.content),
				  (double)json_integer_value(json_object_get(size, "Content")));
			ch->d.in_use = json_array_size(json_object_get(idata, "Containers")) > 0;
			if (ch->d.in_use)
				t->d.in_use = true;
			spacing = true;
			if (ch->d.in_use)
				o.chip_in_use = true;
		}
		tree_size(t->d.content, sizeof(t->d.content), (double)content);
		if (t->d.in_use)
			o.chip_in_use = true;
		n++;
	}
	qsort(v, n, sizeof(*v), cmp_tree_created);

	const char *top_color = o.term ? "\x1b[34m\x1b[1m" : NULL;
	const char *normal = o.term ? "\x1b[39m" : NULL;
	const char *untagged = o.term ? "\x1b[39m\x1b[2m" : NULL;
	const char *faint = o.term ? "\x1b[39m\x1b[2m" : NULL;

	tree_apply(&o.b, o.term ? "\x1b[93m" : NULL,
		   "WARNING: This is an experimental feature. The output may change and shouldn't "
		   "be depended on.");
	sbuf_addc(&o.b, '\n');
	{
		_cleanup_sbuf_ struct sbuf l = SBUF_INIT;
		if (o.term)
			sbuf_adds(&l, "\x1b[1m\x1b[106m\x1b[30mi\x1b[0m\x1b[0m \x1b[96mInfo → "
				      "\x1b[0m\x1b[0m");
		else
			sbuf_adds(&l, " Info -> ");
		sbuf_printf(&l, " %s In Use ",
			    o.term ? "\x1b[38;5;0m\x1b[48;5;14m U \x1b[0m" : "U");
		int pad = width - tui_width(sbuf_str(&l));
		sbuf_printf(&o.b, "%*s%s\n\n", pad > 0 ? pad : 0, "", sbuf_str(&l));
	}
	int chips = o.chip_in_use ? (o.term ? 3 : 1) : 0;
	struct tree_col cols[] = {{"Image", 0, 0, 0},
				  {"ID", 12, 0, 1},
				  {"Disk usage", 10, 1, 2},
				  {"Content size", 12, 1, 3},
				  {"Extra", chips > 5 ? chips : 5, 0, 4}};
	size_t ncols = ARRAY_SIZE(cols);
	int name_width = width;
	for (i = 1; i < ncols; i++) {
		int d = cols[i].width + 3;
		if (name_width - d < 12) {
			ncols = i;
			break;
		}
		name_width -= d;
	}
	int widest = (int)strlen("Image");
	for (i = 0; i < n; i++) {
		for (k = 0; k < v[i].n_names; k++)
			if ((int)strlen(v[i].names[k]) > widest)
				widest = (int)strlen(v[i].names[k]);
		for (k = 0; k < v[i].n_kids; k++)
			if ((int)(strlen(v[i].kids[k].platform) + strlen("└─ ")) > widest)
				widest = (int)(strlen(v[i].kids[k].platform) + strlen("└─ "));
	}
	cols[0].width = name_width > widest ? widest : name_width;

	for (i = 0; i < ncols; i++) {
		char up[32];
		size_t x;
		for (x = 0; cols[i].title[x] && x < sizeof(up) - 1; x++)
			up[x] = (char)(cols[i].title[x] >= 'a' && cols[i].title[x] <= 'z'
					       ? cols[i].title[x] - 32
					       : cols[i].title[x]);
		up[x] = '\0';
		if (i)
			sbuf_adds(&o.b, "   ");
		tree_print(&o.b, &cols[i], TITLE_COLOR, up);
	}
	sbuf_addc(&o.b, '\n');
	for (i = 0; i < n; i++) {
		struct tree_image *t = &v[i];
		if (!t->n_names)
			tree_print(&o.b, &cols[0], untagged, "<untagged>");
		for (k = 0; k < t->n_names; k++) {
			if (k < t->n_names - 1) {
				_cleanup_sbuf_ struct sbuf e = SBUF_INIT;
				tui_ellipsis(&e, t->names[k], full_width);
				tree_apply(&o.b, top_color, sbuf_str(&e));
				sbuf_addc(&o.b, '\n');
			} else {
				tree_print(&o.b, &cols[0], top_color, t->names[k]);
			}
		}
		tree_details_print(&o, cols, ncols, normal, &t->d);
		if (t->n_kids || spacing)
			sbuf_addc(&o.b, '\n');
		for (k = 0; k < t->n_kids; k++) {
			const char *clr = t->kids[k].available ? normal : faint;
			_cleanup_free_ char *label = xasprintf(
				"%s%s", k + 1 < t->n_kids ? "├─ " : "└─ ", t->kids[k].platform);
			tree_print(&o.b, &cols[0], clr, label);
			tree_details_print(&o, cols, ncols, clr, &t->kids[k].d);
			sbuf_addc(&o.b, '\n');
		}
		sbuf_addc(&o.b, '\n');
	}
	out_write(sbuf_str(&o.b), o.b.len);
	for (i = 0; i < n; i++) {
		for (k = 0; k < v[i].n_kids; k++)
			free(v[i].kids[k].platform);
		free(v[i].kids);
		free(v[i].names);
	}
	free(v);
	sbuf_release(&o.b);
	return 0;
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
	if (flag_bool(a, "all")) {
		sbuf_printf(&target, "%call=1", sep);
		sep = '&';
	}
	if (flag_bool(a, "tree"))
		sbuf_printf(&target, "%cmanifests=1", sep);
	if (cli_call(c, "GET", sbuf_str(&target), NULL, &r) < 0)
		return cli_fail(c, 1);
	if (flag_bool(a, "tree")) {
		int tr = images_tree(r.json, flag_bool(a, "all"));
		cli_response_release(&r);
		return tr;
	}

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
