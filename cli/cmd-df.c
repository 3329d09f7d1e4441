/* SPDX-License-Identifier: Apache-2.0 */
/*
 * berth system df: GET /system/df as docker shows it: one row per kind (images, containers, local
 * volumes, build cache) with totals, what is in use and what could be reclaimed; -v lists every
 * object per kind; --format runs a template per row (or, with -v, once over the whole).
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "format.h"
#include "reference.h"
#include "units.h"
#include "base/banned.h"

#define DF_TABLE "table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}"
#define DF_RAW                                                                                     \
	"type: {{.Type}}\ntotal: {{.TotalCount}}\nactive: {{.Active}}\nsize: "                     \
	"{{.Size}}\nreclaimable: {{.Reclaimable}}\n"
#define DF_IMAGES                                                                                  \
	"table "                                                                                   \
	"{{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}\t{{.SharedSize}}\t{{."   \
	"UniqueSize}}\t{{.Containers}}"
#define DF_CONTAINERS                                                                              \
	"table "                                                                                   \
	"{{.ID}}\t{{.Image}}\t{{.Command}}\t{{.LocalVolumes}}\t{{.Size}}\t{{.RunningFor}}\t{{."    \
	"Status}}\t{{.Names}}"
#define DF_VOLUMES "table {{.Name}}\t{{.Links}}\t{{.Size}}"
#define DF_BUILD_CACHE                                                                             \
	"table "                                                                                   \
	"{{.ID}}\t{{.CacheType}}\t{{.Size}}\t{{.CreatedSince}}\t{{.LastUsedSince}}\t{{."           \
	"UsageCount}}\t{{.Shared}}"

/* NewDiskUsageFormat(raw, verbose): every object of every kind, docker's raw forms */
#define DF_RAW_VERBOSE                                                                             \
	"{{range .Images}}type: Image\n"                                                           \
	"repository: {{ .Repository }}\ntag: {{.Tag}}\ndigest: {{.Digest}}\nimage_id: "            \
	"{{.ID}}\ncreated_at: {{.CreatedAt}}\nvirtual_size: {{.Size}}\n"                           \
	"\n{{end -}}\n"                                                                            \
	"{{range .Containers}}type: Container\n"                                                   \
	"container_id: {{.ID}}\nimage: {{.Image}}\ncommand: {{.Command}}\ncreated_at: "            \
	"{{.CreatedAt}}\nstate: {{- pad .State 1 0}}\nstatus: {{- pad .Status 1 0}}\nnames: "      \
	"{{.Names}}\nlabels: {{- pad .Labels 1 0}}\nports: {{- pad .Ports 1 0}}\nsize: "           \
	"{{.Size}}\\n\n{{end -}}\n"                                                                \
	"{{range .Volumes}}type: Volume\n"                                                         \
	"name: {{.Name}}\\ndriver: {{.Driver}}\\n\n{{end -}}\n"                                    \
	"{{range .BuildCache}}type: Build Cache\n"                                                 \
	"build_cache_id: {{.ID}}\nparent_id: {{.Parent}}\nbuild_cache_type: "                      \
	"{{.CacheType}}\ndescription: {{.Description}}\ncreated_at: {{.CreatedAt}}\n"              \
	"created_since: {{.CreatedSince}}\nlast_used_at: {{.LastUsedAt}}\nlast_used_since: "       \
	"{{.LastUsedSince}}\nusage_count: {{.UsageCount}}\nin_use: {{.InUse}}\nshared: "           \
	"{{.Shared}}\n\n{{end -}}"

static const char *const df_header_pairs[] = {
	"Type", "TYPE", "TotalCount",  "TOTAL",	      "Active", "ACTIVE",
	"Size", "SIZE", "Reclaimable", "RECLAIMABLE", NULL,
};

/* ---- the summary rows ------------------------------------------------------------------------------ */

static void set_human(struct ctx_obj *c, const char *method, int64_t v)
{
	_cleanup_sbuf_ struct sbuf b = SBUF_INIT;

	human_size(&b, (double)v, 4);
	ctx_set(c, method, sbuf_str(&b));
}

static void set_int(struct ctx_obj *c, const char *method, int64_t v)
{
	char b[32];

	snprintf(b, sizeof(b), "%" PRId64, v);
	ctx_set(c, method, b);
}

/* "1.2MB (50%)" when there is a total, else the size alone */
static void set_reclaimable(struct ctx_obj *c, int64_t reclaimable, int64_t total)
{
	_cleanup_sbuf_ struct sbuf b = SBUF_INIT;

	human_size(&b, (double)reclaimable, 4);
	if (total > 0)
		sbuf_printf(&b, " (%" PRId64 "%%)", reclaimable * 100 / total);
	ctx_set(c, "Reclaimable", sbuf_str(&b));
}

static int64_t ji(json_t *o, const char *k)
{
	return json_integer_value(json_object_get(o, k));
}

/* Each summary row starts with docker's context type, Type and TotalCount (list's size)... */
static void row_begin(struct ctx_obj *c, const char *go_type, const char *type, json_t *list)
{
	ctx_obj_init(c, go_type, NULL);
	ctx_set(c, "Type", type);
	set_int(c, "TotalCount", (int64_t)json_array_size(list));
}

/* ...and ends with Active, Size and Reclaimable (with its share of size when percent) */
static void row_end(struct ctx_obj *c, int64_t active, int64_t size, int64_t reclaimable,
		    bool percent)
{
	set_int(c, "Active", active);
	set_human(c, "Size", size);
	set_reclaimable(c, reclaimable, percent ? size : 0);
}

static void images_row(struct ctx_obj *c, json_t *du)
{
	json_t *images = json_object_get(du, "Images");
	int64_t total = ji(du, "LayersSize"), used = 0, active = 0;
	size_t i;
	json_t *e;

	row_begin(c, "*formatter.diskUsageImagesContext", "Images", images);
	json_array_foreach (images, i, e) {
		int64_t n = ji(e, "Containers"), size = ji(e, "Size"), shared = ji(e, "SharedSize");
		active += n > 0;
		if (n != 0 && size != -1 && shared != -1)
			used += size - shared;
	}
	row_end(c, active, total, total - used, true);
}

static bool container_active(json_t *ctr)
{
	const char *s = json_string_value(json_object_get(ctr, "State"));

	return s && (!strcmp(s, "running") || !strcmp(s, "paused") || !strcmp(s, "restarting"));
}

static void containers_row(struct ctx_obj *c, json_t *du)
{
	json_t *list = json_object_get(du, "Containers");
	int64_t size = 0, reclaimable = 0, active = 0;
	size_t i;
	json_t *e;

	row_begin(c, "*formatter.diskUsageContainersContext", "Containers", list);
	json_array_foreach (list, i, e) {
		bool on = container_active(e);
		active += on;
		size += ji(e, "SizeRw");
		if (!on)
			reclaimable += ji(e, "SizeRw");
	}
	row_end(c, active, size, reclaimable, true);
}

static void volumes_row(struct ctx_obj *c, json_t *du)
{
	json_t *list = json_object_get(du, "Volumes");
	int64_t size = 0, reclaimable = 0, active = 0;
	size_t i;
	json_t *e;

	row_begin(c, "*formatter.diskUsageVolumesContext", "Local Volumes", list);
	json_array_foreach (list, i, e) {
		json_t *u = json_object_get(e, "UsageData");
		int64_t refs = ji(u, "RefCount"), s = ji(u, "Size");
		active += refs > 0;
		if (s != -1) {
			size += s;
			if (refs == 0)
				reclaimable += s;
		}
	}
	row_end(c, active, size, reclaimable, true);
}

static int64_t builder_size(json_t *du)
{
	int64_t size = 0;
	size_t i;
	json_t *e;

	json_array_foreach (json_object_get(du, "BuildCache"), i, e)
		if (!json_is_true(json_object_get(e, "Shared")))
			size += ji(e, "Size");
	return size;
}

static void build_cache_row(struct ctx_obj *c, json_t *du)
{
	json_t *list = json_object_get(du, "BuildCache");
	int64_t size = builder_size(du), in_use = 0, active = 0;
	size_t i;
	json_t *e;

	row_begin(c, "*formatter.diskUsageBuilderContext", "Build Cache", list);
	json_array_foreach (list, i, e) {
		bool used = json_is_true(json_object_get(e, "InUse"));
		active += used;
		if (used && !json_is_true(json_object_get(e, "Shared")))
			in_use += ji(e, "Size");
	}
	/* docker gives the build cache's reclaimable space no percent */
	row_end(c, active, size, size - in_use, false);
}

static int summary(json_t *du, const char *format)
{
	void (*rows[])(struct ctx_obj *, json_t *) = {images_row, containers_row, volumes_row,
						      build_cache_row};
	struct fmt_list f;
	char *err = NULL;
	int ret = 0;

	if (strcmp(format, "table") == 0)
		format = DF_TABLE;
	else if (strcmp(format, "raw") == 0)
		format = DF_RAW;
	if (fmt_list_begin(&f, format, NULL, &err) < 0) {
		err_printf("%s\n", err);
		free(err);
		return 1;
	}
	for (size_t i = 0; i < ARRAY_SIZE(rows) && ret == 0; i++) {
		struct ctx_obj c;
		rows[i](&c, du);
		ret = fmt_list_row(&f, tval_obj(&c.obj), &err);
		ctx_obj_release(&c);
	}
	if (ret < 0) {
		err_printf("%s\n", err);
		free(err);
	} else {
		struct header_obj h;
		header_init(&h, df_header_pairs);
		fmt_list_end(&f, &h.obj);
	}
	fmt_list_release(&f);
	return ret < 0 ? 1 : 0;
}

/* ---- -v ------------------------------------------------------------------------------------------- */

/* the rows of each kind, as docker's verbose writer makes them */
struct df_rows {
	struct ctx_obj *images, *containers, *volumes, *cache;
	size_t n_images, n_containers, n_volumes, n_cache;
};

static int cmp_cache(const void *a, const void *b)
{
	json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
	const char *lx = json_string_value(json_object_get(x, "LastUsedAt"));
	const char *ly = json_string_value(json_object_get(y, "LastUsedAt"));
	const char *ix = json_string_value(json_object_get(x, "ID"));
	const char *iy = json_string_value(json_object_get(y, "ID"));
	int64_t sx = 0, sy = 0, nx = 0, ny = 0;
	int off;

	/* never used first, then oldest use first, ties by ID */
	if (!lx && ly)
		return -1;
	if (lx && !ly)
		return 1;
	if (lx && ly) {
		parse_rfc3339(lx, &sx, &nx, &off);
		parse_rfc3339(ly, &sy, &ny, &off);
		if (sx != sy || nx != ny)
			return sx < sy || (sx == sy && nx < ny) ? -1 : 1;
	}
	return strcmp(ix ? ix : "", iy ? iy : "");
}

static void df_rows_make(struct df_rows *r, json_t *du, bool trunc)
{
	json_t *images = json_object_get(du, "Images"),
	       *containers = json_object_get(du, "Containers");
	json_t *volumes = json_object_get(du, "Volumes"),
	       *cache = json_object_get(du, "BuildCache");
	size_t i;
	json_t *e;

	memset(r, 0, sizeof(*r));
	r->images = xcalloc(json_array_size(images) + 1, sizeof(*r->images));
	json_array_foreach (images, i, e) {
		_cleanup_free_ char *repo = xstrdup("<none>"), *tag = xstrdup("<none>");
		json_t *tags = json_object_get(e, "RepoTags");
		if (json_array_size(tags) && !image_dangling(e)) {
			struct ref ref;
			char *err = NULL;
			/* a first name that does not parse: the image is left out, as docker's */
			if (ref_parse_normalized(json_string_value(json_array_get(tags, 0)) ?: "",
						 &ref, &err) < 0) {
				free(err);
				continue;
			}
			if (ref.tag && !ref.digest) {
				free(repo);
				free(tag);
				repo = ref_familiar_name(&ref);
				tag = xstrdup(ref.tag);
			}
			ref_release(&ref);
		}
		image_ctx_init(&r->images[r->n_images++], e, repo, tag, "", trunc);
	}
	r->containers = xcalloc(json_array_size(containers) + 1, sizeof(*r->containers));
	json_array_foreach (containers, i, e) {
		/* docker zeroes SizeRootFs here */
		_cleanup_json_ json_t *copy = json_copy(e);
		json_object_set_new(copy, "SizeRootFs", json_integer(0));
		container_ctx_init(&r->containers[r->n_containers++], copy, trunc);
	}
	r->volumes = xcalloc(json_array_size(volumes) + 1, sizeof(*r->volumes));
	json_array_foreach (volumes, i, e)
		volume_ctx_init(&r->volumes[r->n_volumes++], e);
	size_t nc = json_array_size(cache);
	json_t **sorted = xcalloc(nc + 1, sizeof(*sorted));
	json_array_foreach (cache, i, e)
		sorted[i] = e;
	qsort(sorted, nc, sizeof(*sorted), cmp_cache);
	r->cache = xcalloc(nc + 1, sizeof(*r->cache));
	for (i = 0; i < nc; i++)
		build_cache_ctx_init(&r->cache[r->n_cache++], sorted[i], trunc);
	free(sorted);
}

static void df_rows_release(struct df_rows *r)
{
	struct ctx_obj *lists[] = {r->images, r->containers, r->volumes, r->cache};
	size_t ns[] = {r->n_images, r->n_containers, r->n_volumes, r->n_cache};

	for (size_t k = 0; k < 4; k++) {
		for (size_t i = 0; i < ns[k]; i++)
			ctx_obj_release(&lists[k][i]);
		free(lists[k]);
	}
}

/* One table of a kind (the header even when there is no row). */
static int table(const char *format, struct ctx_obj *rows, size_t n, const char *const *pairs)
{
	struct fmt_list f;
	char *err = NULL;
	int ret = 0;

	if (fmt_list_begin(&f, format, NULL, &err) < 0) {
		err_printf("%s\n", err);
		free(err);
		return 1;
	}
	for (size_t i = 0; i < n && ret == 0; i++)
		ret = fmt_list_row(&f, tval_obj(&rows[i].obj), &err);
	if (ret == 0) {
		struct header_obj h;
		header_init(&h, pairs);
		fmt_list_end(&f, &h.obj);
	} else {
		err_printf("%s\n", err);
		free(err);
	}
	fmt_list_release(&f);
	return ret < 0 ? 1 : 0;
}

/* the Go types a -v template sees: diskUsageContext and its rows (their methods as fields) */
#define M(name)                                                                                    \
	{                                                                                          \
		name, NULL, 's', false, NULL                                                       \
	}
static const struct tschema_field image_row_fields[] = {
	M("Containers"), M("CreatedAt"),  M("CreatedSince"), M("Digest"),
	M("ID"),	 M("Repository"), M("SharedSize"),   M("Size"),
	M("Tag"),	 M("UniqueSize"), M("VirtualSize"),
};
static const struct tschema image_row_schema = {"*formatter.imageContext", image_row_fields,
						ARRAY_SIZE(image_row_fields), .marshaler = true};
/* where a row keeps its labels for Label: no Go field has a space in its name */
#define DF_LABELS_KEY " labels"
static const struct tschema_field container_row_fields[] = {
	M("Command"),  M("CreatedAt"),
	M("ID"),       M("Image"),
	M("Labels"),   M("LocalVolumes"),
	M("Mounts"),   M("Names"),
	M("Networks"), {"Platform", NULL, 'x', false, NULL},
	M("Ports"),    M("RunningFor"),
	M("Size"),     M("State"),
	M("Status"),
};
static const struct tschema container_row_schema = {
	"*formatter.ContainerContext", container_row_fields, ARRAY_SIZE(container_row_fields),
	.marshaler = true, .label_key = DF_LABELS_KEY};
static const struct tschema_field volume_row_fields[] = {
	M("Availability"), M("Driver"), M("Group"), M("Labels"), M("Links"),
	M("Mountpoint"),   M("Name"),	M("Scope"), M("Size"),	 M("Status"),
};
static const struct tschema volume_row_schema = {"*formatter.volumeContext", volume_row_fields,
						 ARRAY_SIZE(volume_row_fields), .marshaler = true,
						 .label_key = DF_LABELS_KEY};
static const struct tschema_field cache_row_fields[] = {
	M("CacheType"), M("CreatedAt"), M("CreatedSince"), M("Description"),
	M("ID"),	M("InUse"),	M("LastUsedAt"),   M("LastUsedSince"),
	M("Parent"),	M("Shared"),	M("Size"),	   M("UsageCount"),
};
static const struct tschema cache_row_schema = {"*formatter.buildCacheContext", cache_row_fields,
						ARRAY_SIZE(cache_row_fields), .marshaler = true};
#undef M
static const struct tschema_field du_fields[] = {
	{"Images", NULL, 'a', false, &image_row_schema},
	{"Containers", NULL, 'a', false, &container_row_schema},
	{"Volumes", NULL, 'a', false, &volume_row_schema},
	{"BuildCache", NULL, 'a', false, &cache_row_schema},
};
static const struct tschema du_schema = {"formatter.diskUsageContext", du_fields,
					 ARRAY_SIZE(du_fields)};

static json_t *rows_json(struct ctx_obj *rows, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++) {
		json_t *row = json_deep_copy(rows[i].values);
		/* the labels the rows' Label method reads (ContainerContext, volumeContext) */
		json_t *labels = json_object_get(rows[i].src, "Labels");
		if (json_is_object(labels))
			json_object_set(row, DF_LABELS_KEY, labels);
		json_array_append_new(a, row);
	}
	return a;
}

static int verbose(json_t *du, const char *format)
{
	bool is_table = strcmp(format, "table") == 0;
	struct df_rows r;
	int ret = 0;

	df_rows_make(&r, du, berth_str_has_prefix(format, "table"));
	if (is_table) {
		_cleanup_sbuf_ struct sbuf size = SBUF_INIT;
		out_puts("Images space usage:\n\n");
		ret = table(DF_IMAGES, r.images, r.n_images, image_header_pairs);
		if (ret == 0) {
			out_puts("\nContainers space usage:\n\n");
			ret = table(DF_CONTAINERS, r.containers, r.n_containers,
				    container_header_pairs);
		}
		if (ret == 0) {
			out_puts("\nLocal Volumes space usage:\n\n");
			ret = table(DF_VOLUMES, r.volumes, r.n_volumes, volume_header_pairs);
		}
		if (ret == 0) {
			human_size(&size, (double)builder_size(du), 4);
			out_printf("\nBuild cache usage: %s\n\n", sbuf_str(&size));
			ret = table(DF_BUILD_CACHE, r.cache, r.n_cache, build_cache_header_pairs);
		}
		df_rows_release(&r);
		return ret;
	}
	/* one template over the whole, written as it runs, no newline added */
	_cleanup_sbuf_ struct sbuf t = SBUF_INIT, out = SBUF_INIT;
	_cleanup_tmpl_ struct tmpl *tp = NULL;
	_cleanup_json_ json_t *dot = json_object();
	char *err = NULL;
	const char *src = strcmp(format, "raw") == 0 ? DF_RAW_VERBOSE : format;
	if (berth_str_has_prefix(src, "table"))
		src += 5;
	else if (strcmp(src, "json") == 0)
		src = "{{json .}}";
	/* docker's preFormat: trimmed, "\t" and "\n" written out become the characters */
	while (*src == ' ')
		src++;
	size_t n = strlen(src);
	while (n && src[n - 1] == ' ')
		n--;
	for (size_t i = 0; i < n; i++) {
		if (src[i] == '\\' && i + 1 < n && (src[i + 1] == 't' || src[i + 1] == 'n')) {
			sbuf_addc(&t, src[i + 1] == 't' ? '\t' : '\n');
			i++;
		} else {
			sbuf_addc(&t, src[i]);
		}
	}
	json_object_set_new(dot, "Images", rows_json(r.images, r.n_images));
	json_object_set_new(dot, "Containers", rows_json(r.containers, r.n_containers));
	json_object_set_new(dot, "Volumes", rows_json(r.volumes, r.n_volumes));
	json_object_set_new(dot, "BuildCache", rows_json(r.cache, r.n_cache));
	df_rows_release(&r);
	if (tmpl_parse("", sbuf_str(&t), NULL, &tp, &err) < 0) {
		err_printf("template parsing error: %s\n", err);
		free(err);
		return 1;
	}
	ret = tmpl_exec(tp, (struct tval){.j = dot, .sch = &du_schema, .kind = 'p'},
			TMPL_FUNCS_BASIC, &out, &err);
	out_write(out.p ? out.p : "", out.len);
	if (ret < 0) {
		err_printf("%s\n", err);
		free(err);
		return 1;
	}
	return 0;
}

static int run_df(struct cli *c, struct cli_args *a)
{
	const char *format = flag_str(a, "format");
	struct cli_response r;
	int ret;

	if (cli_call(c, "GET", "/system/df", NULL, &r) < 0)
		return cli_fail(c, 1);
	if (!format || !*format)
		format = "table";
	ret = flag_bool(a, "verbose") ? verbose(r.json, format) : summary(r.json, format);
	cli_response_release(&r);
	return ret;
}

static const struct cli_flag df_flags[] = {
	{"format", 0, FK_STRING, "string", NULL, FORMAT_HELP_LIST},
	{"verbose", 'v', FK_BOOL, NULL, NULL, "Every image, container, volume and cache record"},
};

const struct cli_cmd cmd_system_df = {
	.name = "df",
	.use = "[OPTIONS]",
	.short_desc = "Show the disk space berthd uses",
	.flags = df_flags,
	.n_flags = ARRAY_SIZE(df_flags),
	.args = ARGS_NONE,
	.run = run_df,
	.min_api = "1.25",
};
