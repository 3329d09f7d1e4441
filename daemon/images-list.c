/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The image listings: GET /images/json with Docker's filters (dangling, label, before, since,
 * reference -- Go's path.Match --, until, and the legacy filter= before API 1.41), all and
 * shared-size, and the image part of GET /system/df (container counts, shared sizes, the size
 * of every layer in use).  Shapes per API version as images.c describes.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "events-internal.h"
#include "images-internal.h"
#include "base/banned.h"

/* ---- GET /images/json --------------------------------------------------------------------- */

/*
 * Go's path.Match, by its algorithm (a chunk after a star is tried at each position, leftmost
 * first, without backtracking into earlier stars): linear in the name for each chunk, so a
 * pattern from a client cannot make it blow up.
 */

/* getEsc: one character of a class, possibly escaped; NULL for a malformed one */
static const char *class_char(const char *c, char *ret)
{
	if (!*c || *c == '-' || *c == ']')
		return NULL;
	if (*c == '\\' && !*++c)
		return NULL;
	*ret = *c++;
	return *c ? c : NULL;
}

/* matchChunk: 1 matched (*rest after it), 0 not, -EINVAL a malformed chunk */
static int match_chunk(const char *chunk, size_t len, const char *s, const char **rest)
{
	const char *end = chunk + len;
	bool failed = false;

	while (chunk < end) {
		if (!failed && !*s)
			failed = true;
		switch (*chunk) {
		case '[': {
			char c = failed ? 0 : *s;
			bool negated = false, match = false;
			int ranges = 0;
			if (!failed)
				s++;
			chunk++;
			if (chunk < end && *chunk == '^') {
				negated = true;
				chunk++;
			}
			for (;;) {
				char lo, hi;
				if (chunk < end && *chunk == ']' && ranges > 0) {
					chunk++;
					break;
				}
				if (chunk >= end || !(chunk = class_char(chunk, &lo)) ||
				    chunk > end)
					return -EINVAL;
				hi = lo;
				if (*chunk == '-' &&
				    (!(chunk = class_char(chunk + 1, &hi)) || chunk > end))
					return -EINVAL;
				if (lo <= c && c <= hi)
					match = true;
				ranges++;
			}
			if (match == negated)
				failed = true;
			break;
		}
		case '?':
			if (!failed) {
				if (*s == '/')
					failed = true;
				s++;
			}
			chunk++;
			break;
		case '\\':
			if (++chunk >= end)
				return -EINVAL;
			/* fall through */
		default:
			if (!failed) {
				if (*chunk != *s)
					failed = true;
				s++;
			}
			chunk++;
		}
	}
	if (failed)
		return 0;
	*rest = s;
	return 1;
}

/* scanChunk: the stars, then the chunk up to the next star outside a class */
static const char *scan_chunk(const char *p, bool *star, size_t *len)
{
	bool in_range = false;
	size_t i;

	*star = false;
	for (; *p == '*'; p++)
		*star = true;
	for (i = 0; p[i]; i++) {
		if (p[i] == '\\' && p[i + 1])
			i++;
		else if (p[i] == '[')
			in_range = true;
		else if (p[i] == ']')
			in_range = false;
		else if (p[i] == '*' && !in_range)
			break;
	}
	*len = i;
	return p;
}

int images_go_match(const char *pattern, const char *name)
{
	while (*pattern) {
		bool star;
		size_t len;
		const char *chunk = scan_chunk(pattern, &star, &len), *t;
		int r;

		pattern = chunk + len;
		if (star && len == 0)
			return strchr(name, '/') ==
			       NULL; /* a trailing star: the rest without '/' */
		r = match_chunk(chunk, len, name, &t);
		if (r == 1 && (!*t || *pattern)) {
			name = t;
			continue;
		}
		if (r < 0)
			return r;
		if (star) {
			bool found = false;
			for (size_t i = 0; name[i] && name[i] != '/'; i++) {
				r = match_chunk(chunk, len, name + i + 1, &t);
				if (r == 1) {
					if (!*pattern && *t)
						continue;
					name = t;
					found = true;
					break;
				}
				if (r < 0)
					return r;
			}
			if (found)
				continue;
		}
		/* no match: the rest of the pattern must still be well-formed */
		while (*pattern) {
			chunk = scan_chunk(pattern, &star, &len);
			pattern = chunk + len;
			if (match_chunk(chunk, len, "", &t) < 0)
				return -EINVAL;
		}
		return 0;
	}
	return *name == '\0';
}

/* The familiar name of a familiar reference: "busybox" of "busybox:1" or "busybox@sha256:..". */
static char *familiar_name(const char *ref)
{
	const char *at = strchr(ref, '@'), *slash = strrchr(ref, '/'), *colon;
	size_t n = at ? (size_t)(at - ref) : strlen(ref);

	colon = memrchr(ref, ':', n);
	if (colon && (!slash || colon > slash))
		n = (size_t)(colon - ref);
	return strndup(ref, n);
}

/* reference.FamiliarMatch: the pattern against "name:tag" (or name@digest), then "name". */
static int familiar_match(const char *pattern, const char *ref)
{
	_cleanup_free_ char *name = NULL;
	int r = images_go_match(pattern, ref);

	if (r != 0)
		return r;
	name = familiar_name(ref);
	if (!name)
		return -ENOMEM;
	return images_go_match(pattern, name) == 1;
}

struct list_filter {
	bool dangling_only, dangling_given;
	int64_t before_ns, since_ns; /* 0: none */
	const char *const *patterns; /* reference= */
	const char *legacy_pattern;  /* filter= of API < 1.41 */
	const struct berth_filters *f;
};

static const char *const list_filters[] = {"dangling",	"label", "before", "since",
					   "reference", "until", NULL};

static int image_created_of(struct berthd *d, const char *name, int64_t *ret,
			    struct berth_error **err)
{
	struct berth_image_info *info = NULL;
	int r = berth_image_inspect(d->images.store, name, &info, err);

	if (r < 0)
		return r;
	*ret = images_created_ns(info->created);
	berth_image_info_free(info);
	return 0;
}

static int list_filter_parse(struct berthd *d, struct berth_http_request *req,
			     const struct berth_filters *f, struct list_filter *lf,
			     struct berth_error **err)
{
	const char *const *v;
	int r;

	memset(lf, 0, sizeof(*lf));
	lf->f = f;
	r = berth_filters_validate(f, list_filters, err);
	if (r < 0)
		return r;
	r = berth_filters_bool(f, "dangling", false, &lf->dangling_only, err);
	if (r < 0)
		return r;
	lf->dangling_given = berth_filters_contains(f, "dangling");
	/* several values: the oldest before, the newest since (ANDed) */
	v = berth_filters_values(f, "before");
	for (size_t i = 0; v[i]; i++) {
		int64_t t;
		r = image_created_of(d, v[i], &t, err);
		if (r < 0)
			return r;
		if (t && (!lf->before_ns || t < lf->before_ns))
			lf->before_ns = t;
	}
	v = berth_filters_values(f, "until");
	for (size_t i = 0; v[i]; i++) {
		int64_t t;
		r = berth_api_parse_time(v[i], daemon_now_ns(), &t, err);
		if (r < 0)
			return r;
		if (!lf->before_ns || t < lf->before_ns)
			lf->before_ns = t;
	}
	v = berth_filters_values(f, "since");
	for (size_t i = 0; v[i]; i++) {
		int64_t t;
		r = image_created_of(d, v[i], &t, err);
		if (r < 0)
			return r;
		if (t > lf->since_ns)
			lf->since_ns = t;
	}
	lf->patterns = berth_filters_values(f, "reference");
	if (berth_http_api_version(req) < BERTH_API_VERSION(1, 41)) {
		const char *legacy = berth_http_query(req, "filter");
		if (legacy && *legacy)
			lf->legacy_pattern = legacy;
	}
	/* a malformed pattern is an error even when no image has a reference to try it on */
	for (size_t i = 0; lf->patterns[i]; i++)
		if (images_go_match(lf->patterns[i], "") < 0)
			return berth_error_set(err, EINVAL, "syntax error in pattern: '%s'",
					       lf->patterns[i]);
	if (lf->legacy_pattern && images_go_match(lf->legacy_pattern, "") < 0)
		return berth_error_set(err, EINVAL, "syntax error in pattern: '%s'",
				       lf->legacy_pattern);
	return 0;
}

static bool ref_passes(const struct list_filter *lf, const char *ref)
{
	bool any = lf->patterns[0] || lf->legacy_pattern;
	if (!any)
		return true;
	for (size_t i = 0; lf->patterns[i]; i++)
		if (familiar_match(lf->patterns[i], ref) == 1)
			return true;
	return lf->legacy_pattern && familiar_match(lf->legacy_pattern, ref) == 1;
}

/* One summary (image.Summary) for API version api; NULL when the filters leave it out. */
static json_t *summary_json(const struct images_entry *e, const struct list_filter *lf, bool all,
			    unsigned api)
{
	const struct berth_image_info *info = e->info;
	_cleanup_strv_ char **tags = calloc(1, sizeof(char *));
	_cleanup_strv_ char **digests = calloc(1, sizeof(char *));
	bool has_ref_filter = lf && (lf->patterns[0] || lf->legacy_pattern);
	json_t *j, *rt, *rd;

	if (!tags || !digests)
		return NULL;
	if (lf) {
		if (lf->dangling_only && e->children)
			return NULL; /* heads only */
		if (lf->before_ns && (!e->created_ns || e->created_ns >= lf->before_ns))
			return NULL;
		if (lf->since_ns && (!e->created_ns || e->created_ns <= lf->since_ns))
			return NULL;
		if (berth_filters_contains(lf->f, "label")) {
			const json_t *labels = images_labels(e->config);
			struct berth_key_value *kv = NULL;
			size_t n = 0;
			const char *k;
			json_t *v;
			bool ok;
			if (!json_is_object(json_object_get(e->config, "config")))
				return NULL;
			kv = calloc(json_object_size(labels) + 1, sizeof(*kv));
			if (!kv)
				return NULL;
			json_object_foreach ((json_t *)labels, k, v) {
				kv[n++] = (struct berth_key_value){(char *)k,
								   (char *)json_string_value(v)};
			}
			ok = berth_filters_match_kv(lf->f, "label", kv, n);
			free(kv);
			if (!ok)
				return NULL;
		}
	}
	for (size_t i = 0; info->repo_digests[i]; i++)
		if ((!lf || ref_passes(lf, info->repo_digests[i])) &&
		    berth_strv_push(&digests, info->repo_digests[i]) < 0)
			return NULL;
	for (size_t i = 0; info->repo_tags[i]; i++)
		if ((!lf || ref_passes(lf, info->repo_tags[i])) &&
		    berth_strv_push(&tags, info->repo_tags[i]) < 0)
			return NULL;
	if (!tags[0] && !digests[0]) {
		if (all || !e->children) {
			if (lf && lf->dangling_given && !lf->dangling_only)
				return NULL; /* dangling=false */
			if (has_ref_filter)
				return NULL;
		} else {
			return NULL; /* an intermediate image without --all */
		}
	} else if (lf && lf->dangling_only && tags[0]) {
		return NULL;
	}

	if (api < BERTH_API_VERSION(1, 43)) {
		if (!tags[0] && !digests[0]) {
			rt = json_pack("[s]", "<none>:<none>");
			rd = json_pack("[s]", "<none>@<none>");
		} else {
			rt = images_strv_json(tags, true);
			rd = images_strv_json(digests, true);
		}
	} else {
		rt = images_strv_json(tags, false);
		rd = images_strv_json(digests, false);
	}
	const json_t *labels = images_labels(e->config);
	j = json_pack("{s:I,s:I,s:s,s:o,s:s,s:o,s:o,s:I,s:I}", "Containers", (json_int_t)-1,
		      "Created", (json_int_t)info->created_unix, "Id", info->id, "Labels",
		      labels ? images_sorted_object(labels, true) : json_null(), "ParentId",
		      info->parent ? info->parent : "", "RepoDigests", rd, "RepoTags", rt,
		      "SharedSize", (json_int_t)-1, "Size", (json_int_t)info->size);
	if (j && api < BERTH_API_VERSION(1, 44))
		json_object_set_new(j, "VirtualSize", json_integer((json_int_t)info->size));
	return j;
}

/*
 * ImageSummary.Manifests (API 1.47, ?manifests=1).  berth's store keeps one platform's image per
 * id, addressed by its config (as dockerd's graph-driver store): one "image" manifest each, its
 * Descriptor the config blob's, its platform the config's, the containers that use it by id.
 */
static json_t *manifests_json(const struct images_entry *e, const struct daemon_image_users *u)
{
	const struct berth_image_info *info = e->info;
	const char *variant = json_string_value(json_object_get(e->config, "variant"));
	json_t *platform, *containers = json_array(), *m;
	json_int_t content = (json_int_t)(info->size + info->config_size);

	if (!containers)
		return NULL;
	for (size_t i = 0; i < u->n; i++)
		if (strcmp(u->v[i].image_id, info->id) == 0)
			json_array_append_new(containers, json_string(u->v[i].container_id));
	platform = json_pack("{s:s,s:s}", "architecture",
			     info->architecture ? info->architecture : "amd64", "os",
			     info->os ? info->os : "linux");
	if (platform && variant && *variant)
		json_object_set_new(platform, "variant", json_string(variant));
	m = json_pack("{s:s,s:{s:s,s:s,s:I},s:b,s:{s:I,s:I},s:s,s:{s:o,s:o,s:{s:I}}}", "ID",
		      info->id, "Descriptor", "mediaType",
		      "application/vnd.docker.container.image.v1+json", "digest", info->id, "size",
		      (json_int_t)info->config_size, "Available", 1, "Size", "Total", content,
		      "Content", content, "Kind", "image", "ImageData", "Platform", platform,
		      "Containers", containers, "Size", "Unpacked", (json_int_t)info->size);
	return m ? json_pack("[o]", m) : NULL;
}

static int cmp_created_desc(const void *a, const void *b)
{
	const struct images_entry *x = *(const struct images_entry *const *)a,
				  *y = *(const struct images_entry *const *)b;

	if (x->created_ns != y->created_ns)
		return x->created_ns > y->created_ns ? -1 : 1;
	return strcmp(x->info->id, y->info->id);
}

/* SharedSize: the sizes of the image's layers that another image also has. */
static void fill_shared_sizes(struct berthd *d, struct images_entry *v, size_t n,
			      json_t *const *summaries)
{
	_cleanup_json_ json_t *refs = json_object();

	if (!refs)
		return;
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; v[i].info->layers[k]; k++) {
			const char *c = v[i].info->layers[k];
			json_object_set_new(
				refs, c,
				json_integer(json_integer_value(json_object_get(refs, c)) + 1));
		}
	for (size_t i = 0; i < n; i++) {
		json_int_t shared = 0;
		if (!summaries[i])
			continue;
		for (size_t k = 0; v[i].info->layers[k]; k++) {
			struct berth_layer_info *l = NULL;
			const char *c = v[i].info->layers[k];
			if (json_integer_value(json_object_get(refs, c)) < 2)
				continue;
			if (berth_layer_inspect(d->images.store, c, &l, NULL) == 0)
				shared += (json_int_t)l->size;
			berth_layer_info_free(l);
		}
		json_object_set_new(summaries[i], "SharedSize", json_integer(shared));
	}
}

void daemon_images_list(struct berth_http_request *req, void *userdata)
{
	images_op_scope(userdata);
	struct berthd *d = userdata;
	unsigned api = berth_http_api_version(req);
	_cleanup_error_ struct berth_error *e = NULL;
	_cleanup_filters_ struct berth_filters *f = NULL;
	_cleanup_json_ json_t *out = NULL;
	struct images_entry *v = NULL;
	struct list_filter lf;
	size_t n = 0;
	bool all = berth_http_query_bool(req, "all");
	bool shared = api >= BERTH_API_VERSION(1, 42) && berth_http_query_bool(req, "shared-size");
	int r;

	r = berth_http_query_filters(req, &f, &e);
	if (r == 0)
		r = list_filter_parse(d, req, f, &lf, &e);
	if (r == 0)
		r = images_entries_load(d, &v, &n, &e);
	if (r < 0) {
		images_respond_error(req, e);
		return;
	}
	_cleanup_free_ struct images_entry **order = calloc(n ? n : 1, sizeof(*order));
	_cleanup_free_ json_t **summaries = calloc(n ? n : 1, sizeof(*summaries));
	out = json_array();
	if (!order || !summaries || !out) {
		images_entries_free(v, n);
		berth_http_respond_error(req, 500, "out of memory");
		return;
	}
	for (size_t i = 0; i < n; i++)
		summaries[i] = summary_json(&v[i], &lf, all, api);
	if (shared)
		fill_shared_sizes(d, v, n, summaries);
	if (api >= BERTH_API_VERSION(1, 47) && berth_http_query_bool(req, "manifests")) {
		struct daemon_image_users u;
		if (images_users_snapshot(d, &u) < 0) {
			for (size_t i = 0; i < n; i++)
				json_decref(summaries[i]);
			images_entries_free(v, n);
			berth_http_respond_error(req, 500, "out of memory");
			return;
		}
		for (size_t i = 0; i < n; i++)
			if (summaries[i])
				json_object_set_new(summaries[i], "Manifests",
						    manifests_json(&v[i], &u));
		daemon_image_users_release(&u);
	}
	size_t m = 0;
	for (size_t i = 0; i < n; i++) {
		if (summaries[i]) {
			v[i].summary = summaries[i];
			order[m++] = &v[i];
		}
	}
	qsort(order, m, sizeof(*order), cmp_created_desc);
	for (size_t i = 0; i < m; i++)
		json_array_append_new(out, order[i]->summary);
	images_entries_free(v, n);
	berth_http_respond_json(req, 200, out);
}

/* ---- GET /system/df (images) -------------------------------------------------------------- */

int daemon_images_disk_usage(struct berthd *d, unsigned api, json_t **ret, struct berth_error **err)
{
	images_op_scope(d);
	struct images_entry *v = NULL;
	struct daemon_image_users u;
	_cleanup_json_ json_t *seen = json_object();
	json_t *images = json_array(), *du = NULL;
	json_int_t layers_size = 0;
	size_t n = 0;
	int r;

	if (!images || !seen) {
		json_decref(images);
		return berth_error_set(err, ENOMEM, "out of memory");
	}
	r = images_entries_load(d, &v, &n, err);
	if (r < 0) {
		json_decref(images);
		return r;
	}
	r = images_users_snapshot(d, &u);
	if (r < 0) {
		images_entries_free(v, n);
		json_decref(images);
		return berth_error_set(err, ENOMEM, "out of memory");
	}
	_cleanup_free_ json_t **summaries = calloc(n ? n : 1, sizeof(*summaries));
	_cleanup_free_ struct images_entry **order = calloc(n ? n : 1, sizeof(*order));
	if (!summaries || !order) {
		images_entries_free(v, n);
		daemon_image_users_release(&u);
		json_decref(images);
		return berth_error_set(err, ENOMEM, "out of memory");
	}
	/* docker's default listing (no --all), with container counts and shared sizes */
	for (size_t i = 0; i < n; i++) {
		summaries[i] = summary_json(&v[i], NULL, false, api);
		if (summaries[i])
			json_object_set_new(summaries[i], "Containers",
					    json_integer((json_int_t)daemon_image_users_count(
						    &u, v[i].info->id)));
	}
	fill_shared_sizes(d, v, n, summaries);
	size_t m = 0;
	for (size_t i = 0; i < n; i++)
		if (summaries[i]) {
			v[i].summary = summaries[i];
			order[m++] = &v[i];
		}
	qsort(order, m, sizeof(*order), cmp_created_desc);
	for (size_t i = 0; i < m; i++)
		json_array_append_new(images, order[i]->summary);
	/* LayersSize: every layer some image uses, once */
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; v[i].info->layers[k]; k++) {
			const char *c = v[i].info->layers[k];
			struct berth_layer_info *l = NULL;
			if (json_object_get(seen, c))
				continue;
			json_object_set_new(seen, c, json_true());
			if (berth_layer_inspect(d->images.store, c, &l, NULL) == 0)
				layers_size += (json_int_t)l->size;
			berth_layer_info_free(l);
		}
	images_entries_free(v, n);
	daemon_image_users_release(&u);
	du = json_pack("{s:I,s:o}", "LayersSize", layers_size, "Images", images);
	if (!du)
		return berth_error_set(err, ENOMEM, "out of memory");
	*ret = du;
	return 0;
}
