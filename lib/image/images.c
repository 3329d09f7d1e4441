/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Images in the index: add, resolve, tag, untag, inspect, list, history, delete and prune, with
 * docker's rules and messages (daemon/images: image_delete.go, image_prune.go, the reference
 * store).  A change is made on a copy of the index, written whole, then swapped in.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image-internal.h"

#include "base/banned.h"

static const char *short_id(const char *id)
{
	static __thread char buf[16];

	snprintf(buf, sizeof(buf), "%.12s", berth_str_has_prefix(id, "sha256:") ? id + 7 : id);
	return buf;
}

static json_t *idx_images(json_t *idx)
{
	return json_object_get(idx, "images");
}

static json_t *idx_refs(json_t *idx)
{
	return json_object_get(idx, "references");
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The references naming id, sorted; NULL on ENOMEM. */
static char **refs_of(json_t *idx, const char *id)
{
	char **v = calloc(1, sizeof(char *));
	const char *ref;
	json_t *target;

	if (!v)
		return NULL;
	json_object_foreach (idx_refs(idx), ref, target) {
		if (berth_streq(json_string_value(target), id) && berth_strv_push(&v, ref) < 0) {
			berth_strv_free(v);
			return NULL;
		}
	}
	qsort(v, berth_strv_length(v), sizeof(char *), cmp_str);
	return v;
}

static size_t children_of(json_t *idx, const char *id)
{
	const char *key;
	json_t *rec;
	size_t n = 0;

	json_object_foreach (idx_images(idx), key, rec) {
		if (berth_streq(json_string_value(json_object_get(rec, "parent")), id))
			n++;
	}
	return n;
}

/* "name@digest" references carry a digest: reference.Canonical */
static bool ref_is_canonical(const char *ref)
{
	return strchr(ref, '@') != NULL;
}

/* The repository of a full reference: everything before its tag or digest. */
static char *ref_name(const char *ref)
{
	_cleanup_reference_ struct berth_reference *r = NULL;

	if (berth_reference_parse(ref, &r, NULL) < 0)
		return strdup(ref);
	return berth_reference_name(r);
}

/* ---- resolve ---------------------------------------------------------------------------- */

static int not_found(const char *what, struct berth_error **err)
{
	return berth_error_set(err, ENOENT, "No such image: %s", what);
}

/* Prefix search over image ids: hex (any length) or "sha256:<hex prefix>". */
static const char *search_id(json_t *idx, const char *term)
{
	const char *hexp = berth_str_has_prefix(term, "sha256:") ? term + 7 : term;
	size_t n = strlen(hexp);
	const char *found = NULL, *id;
	json_t *rec;

	if (n == 0 || n > 64)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (!((hexp[i] >= '0' && hexp[i] <= '9') || (hexp[i] >= 'a' && hexp[i] <= 'f')))
			return NULL;
	json_object_foreach (idx_images(idx), id, rec) {
		if (strncmp(id + 7, hexp, n) != 0)
			continue;
		if (found)
			return NULL; /* ambiguous: docker says "No such image" too */
		found = id;
	}
	return found;
}

/* docker's GetImage over idx; *ret_id is borrowed from idx. */
static int resolve_in(json_t *idx, const char *s, const char **ret_id, struct berth_error **err)
{
	_cleanup_reference_ struct berth_reference *ref = NULL;
	_cleanup_free_ char *full = NULL, *fam = NULL;
	char digest[BERTH_DIGEST_SIZE + 64];
	json_t *target;
	const char *id;
	int r;

	if (!s || !*s)
		return berth_error_set(err, EINVAL, "invalid reference format");
	/* ParseAnyReference: a 64-hex id, or a digest */
	if (img_is_identifier(s) ||
	    (strchr(s, ':') && !strchr(s, '/') && berth_digest_validate(s, NULL) == 0)) {
		json_t *it;
		snprintf(digest, sizeof(digest), "%s%s", img_is_identifier(s) ? "sha256:" : "", s);
		it = json_object_iter_at(idx_images(idx), digest);
		if (!it)
			return not_found(digest, err);
		*ret_id = json_object_iter_key(it);
		return 0;
	}
	r = berth_reference_parse(s, &ref, err);
	if (r < 0)
		return r;
	if (ref->tag && ref->digest) {
		/* a digest takes precedence over a tag */
		free(ref->tag);
		ref->tag = NULL;
	}
	if (berth_reference_default_tag(ref) < 0 || !(full = berth_reference_string(ref)) ||
	    !(fam = berth_reference_familiar(ref)))
		return berth_error_set(err, ENOMEM, "out of memory");
	target = json_object_get(idx_refs(idx), full);
	if (target && json_object_get(idx_images(idx), json_string_value(target))) {
		json_t *it = json_object_iter_at(idx_images(idx), json_string_value(target));
		*ret_id = json_object_iter_key(it);
		return 0;
	}
	id = search_id(idx, s);
	if (id) {
		*ret_id = id;
		return 0;
	}
	return not_found(fam, err);
}

int berth_image_resolve(struct berth_image_store *s, const char *ref_or_id, char **ret_id,
			struct berth_error **err)
{
	const char *id = NULL;
	int r;

	pthread_mutex_lock(&s->lock);
	r = resolve_in(s->index, ref_or_id, &id, err);
	if (r == 0 && !(*ret_id = strdup(id)))
		r = berth_error_set(err, ENOMEM, "out of memory");
	pthread_mutex_unlock(&s->lock);
	return r;
}

/* ---- add -------------------------------------------------------------------------------- */

static int read_config(struct berth_image_store *s, const char *id, struct img_config *ret,
		       size_t *ret_size, struct berth_error **err)
{
	_cleanup_free_ char *data = NULL;
	size_t len;
	int r;

	r = berth_blob_read(s, id, s->limits.max_json_size, &data, &len, err);
	if (r == -EFBIG)
		return r;
	if (r < 0)
		return r;
	r = img_parse_config(data, len, &s->limits, ret, err);
	if (r < 0)
		return r;
	if (ret_size)
		*ret_size = len;
	return 0;
}

/* A record for the index: the chain ids, the parent. */
static json_t *image_record(char **chains, const char *parent)
{
	json_t *layers = json_array();
	json_t *rec;

	for (size_t i = 0; layers && chains && chains[i]; i++)
		json_array_append_new(layers, json_string(chains[i]));
	rec = json_pack("{s:o}", "layers", layers);
	if (rec && parent)
		json_object_set_new(rec, "parent", json_string(parent));
	return rec;
}

/* every chain must exist with the diff id the config names; call with s->lock held */
static int check_layers_locked(struct berth_image_store *s, char **chains, char **diff_ids,
			       struct berth_error **err)
{
	for (size_t i = 0; chains[i]; i++) {
		json_t *rec = json_object_get(s->layers, chains[i]);
		if (!rec)
			return berth_error_set(err, ENOENT,
					       "layer %s (diff id %s) is not in the store",
					       chains[i], diff_ids[i]);
		if (!berth_streq(json_string_value(json_object_get(rec, "diff_id")), diff_ids[i]))
			return berth_error_set(
				err, EIO, "layer %s has diff id %s, not %s", chains[i],
				json_string_value(json_object_get(rec, "diff_id")), diff_ids[i]);
	}
	return 0;
}

int img_image_add_to(struct berth_image_store *s, json_t *idx, const char *id, char **chains,
		     char **diff_ids, const char *parent, struct berth_error **err)
{
	json_t *images = idx_images(idx);
	int r = check_layers_locked(s, chains, diff_ids, err);

	if (r < 0)
		return r;
	if (json_object_get(images, id))
		return 0;
	if (json_object_size(images) >= 1000000)
		return berth_error_set(err, EFBIG, "more than 1000000 images");
	if (parent && !json_object_get(images, parent))
		parent = NULL;
	if (json_object_set_new(images, id, image_record(chains, parent)) < 0)
		return berth_error_set(err, ENOMEM, "out of memory");
	return 0;
}

int berth_image_add(struct berth_image_store *s, const char *config_digest, const char *parent,
		    char **ret_id, struct berth_error **err)
{
	struct img_config c = {0};
	_cleanup_strv_ char **chains = NULL;
	json_t *idx = NULL;
	int r;

	if (!berth_digest_is_sha256(config_digest))
		return berth_error_set(err, EINVAL, "add image: '%s' is not a sha256 digest",
				       config_digest ? config_digest : "");
	r = read_config(s, config_digest, &c, NULL, err);
	if (r == 0)
		r = berth_chain_ids(c.diff_ids, c.n_diff_ids, &chains, err);
	if (r < 0)
		goto out;
	pthread_mutex_lock(&s->lock);
	idx = json_deep_copy(s->index);
	r = idx ? img_image_add_to(s, idx, config_digest, chains, c.diff_ids, parent, err)
		: berth_error_set(err, ENOMEM, "out of memory");
	if (r == 0 && !json_equal(idx, s->index))
		r = img_index_commit(s, idx, err);
	pthread_mutex_unlock(&s->lock);
	json_decref(idx);
	if (r == 0 && ret_id && !(*ret_id = strdup(config_digest)))
		r = berth_error_set(err, ENOMEM, "out of memory");
out:
	img_config_release(&c);
	return r < 0 ? berth_error_wrap(err, "add image %s", config_digest) : 0;
}

/* ---- tag, untag ------------------------------------------------------------------------- */

/* The reference a tag operation writes: docker's checks, ":latest" added. */
int img_tag_target(const char *target, char **ret, struct berth_error **err)
{
	_cleanup_reference_ struct berth_reference *ref = NULL;
	_cleanup_free_ char *fam = NULL;
	int r;

	r = berth_reference_parse(target, &ref, err);
	if (r < 0)
		return r;
	if (ref->digest)
		return berth_error_set(err, EINVAL,
				       "refusing to create a tag with a digest reference");
	fam = berth_reference_familiar_name(ref);
	if (!fam)
		return berth_error_set(err, ENOMEM, "out of memory");
	if (strcmp(fam, "sha256") == 0)
		return berth_error_set(
			err, EINVAL,
			"refusing to create an ambiguous tag using digest algorithm as name");
	if (berth_reference_default_tag(ref) < 0 || !(*ret = berth_reference_string(ref)))
		return berth_error_set(err, ENOMEM, "out of memory");
	return 0;
}

/* Point ref at id in idx; with stamp, set the image's last tag time to now. */
int img_set_ref(json_t *idx, const char *ref, const char *id, bool stamp)
{
	_cleanup_free_ char *now = stamp ? berth_rfc3339_now() : NULL;
	json_t *rec = json_object_get(idx_images(idx), id);

	if ((stamp && !now) || !rec ||
	    json_object_set_new(idx_refs(idx), ref, json_string(id)) < 0 ||
	    (stamp && json_object_set_new(rec, "last_tag_time", json_string(now)) < 0))
		return -ENOMEM;
	return 0;
}

int berth_image_tag(struct berth_image_store *s, const char *source, const char *target,
		    struct berth_error **err)
{
	_cleanup_free_ char *full = NULL;
	const char *id = NULL;
	json_t *idx = NULL;
	int r;

	r = img_tag_target(target, &full, err);
	if (r < 0)
		return r;
	pthread_mutex_lock(&s->lock);
	r = resolve_in(s->index, source, &id, err);
	if (r == 0) {
		idx = json_deep_copy(s->index);
		if (!idx || img_set_ref(idx, full, id, true) < 0)
			r = berth_error_set(err, ENOMEM, "out of memory");
	}
	if (r == 0)
		r = img_index_commit(s, idx, err);
	pthread_mutex_unlock(&s->lock);
	json_decref(idx);
	return r;
}

int berth_image_set_digest_ref(struct berth_image_store *s, const char *name, const char *digest,
			       const char *id, struct berth_error **err)
{
	_cleanup_reference_ struct berth_reference *ref = NULL;
	_cleanup_free_ char *full = NULL;
	json_t *idx = NULL;
	int r;

	r = berth_reference_parse(name, &ref, err);
	if (r < 0)
		return r;
	if (!berth_digest_is_sha256(digest))
		return berth_error_set(err, EINVAL, "'%s' is not a sha256 digest",
				       digest ? digest : "");
	free(ref->tag);
	ref->tag = NULL;
	free(ref->digest);
	if (!(ref->digest = strdup(digest)) || !(full = berth_reference_string(ref)))
		return berth_error_set(err, ENOMEM, "out of memory");
	pthread_mutex_lock(&s->lock);
	if (!img_index_image(s, id ? id : "")) {
		r = not_found(id ? id : "", err);
	} else {
		idx = json_deep_copy(s->index);
		if (!idx || json_object_set_new(idx_refs(idx), full, json_string(id)) < 0)
			r = berth_error_set(err, ENOMEM, "out of memory");
	}
	if (r == 0)
		r = img_index_commit(s, idx, err);
	pthread_mutex_unlock(&s->lock);
	json_decref(idx);
	return r;
}

int berth_image_untag(struct berth_image_store *s, const char *ref, struct berth_error **err)
{
	_cleanup_reference_ struct berth_reference *r_ = NULL;
	_cleanup_free_ char *full = NULL, *fam = NULL;
	json_t *idx = NULL;
	int r;

	r = berth_reference_parse(ref, &r_, err);
	if (r < 0)
		return r;
	if (berth_reference_default_tag(r_) < 0 || !(full = berth_reference_string(r_)) ||
	    !(fam = berth_reference_familiar(r_)))
		return berth_error_set(err, ENOMEM, "out of memory");
	pthread_mutex_lock(&s->lock);
	if (!json_object_get(idx_refs(s->index), full)) {
		r = not_found(fam, err);
	} else {
		idx = json_deep_copy(s->index);
		if (!idx)
			r = berth_error_set(err, ENOMEM, "out of memory");
		else
			json_object_del(idx_refs(idx), full);
	}
	if (r == 0)
		r = img_index_commit(s, idx, err);
	pthread_mutex_unlock(&s->lock);
	json_decref(idx);
	return r;
}

/* ---- inspect, list, config -------------------------------------------------------------- */

void berth_image_info_free(struct berth_image_info *i)
{
	if (!i)
		return;
	free(i->id);
	free(i->parent);
	berth_strv_free(i->repo_tags);
	berth_strv_free(i->repo_digests);
	berth_strv_free(i->diff_ids);
	berth_strv_free(i->layers);
	free(i->top_layer);
	free(i->created);
	free(i->last_tag_time);
	free(i->architecture);
	free(i->os);
	free(i);
}

void berth_image_info_list_free(struct berth_image_info **v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		berth_image_info_free(v[i]);
	free(v);
}

static char *dup_opt(const char *s)
{
	return s ? strdup(s) : NULL;
}

/* What the index says of id, copied under the lock: the record and its references. */
struct snapshot {
	json_t *rec;
	char **refs;
	uint64_t size;
};

static int snapshot_locked(struct berth_image_store *s, const char *id, struct snapshot *ret)
{
	json_t *rec = img_index_image(s, id);
	size_t i;
	json_t *l;

	if (!rec)
		return -ENOENT;
	ret->rec = json_deep_copy(rec);
	ret->refs = refs_of(s->index, id);
	ret->size = 0;
	json_array_foreach (json_object_get(rec, "layers"), i, l) {
		json_t *lr = json_object_get(s->layers, json_string_value(l));
		ret->size += (uint64_t)json_integer_value(json_object_get(lr, "size"));
	}
	if (!ret->rec || !ret->refs) {
		json_decref(ret->rec);
		berth_strv_free(ret->refs);
		return -ENOMEM;
	}
	return 0;
}

static int build_info(struct berth_image_store *s, const char *id, struct snapshot *snap,
		      struct berth_image_info **ret, struct berth_error **err)
{
	struct berth_image_info *i = calloc(1, sizeof(*i));
	struct img_config c = {0};
	size_t config_size = 0, n;
	json_t *layers = json_object_get(snap->rec, "layers");
	int r;

	if (!i)
		return berth_error_set(err, ENOMEM, "out of memory");
	r = read_config(s, id, &c, &config_size, err);
	if (r < 0)
		goto fail;
	i->id = strdup(id);
	i->parent = dup_opt(json_string_value(json_object_get(snap->rec, "parent")));
	i->repo_tags = calloc(1, sizeof(char *));
	i->repo_digests = calloc(1, sizeof(char *));
	if (!i->id || !i->repo_tags || !i->repo_digests)
		goto oom;
	for (size_t k = 0; snap->refs[k]; k++) {
		_cleanup_free_ char *fam = img_familiar_string(snap->refs[k]);
		if (!fam || berth_strv_push(ref_is_canonical(snap->refs[k]) ? &i->repo_digests
									    : &i->repo_tags,
					    fam) < 0)
			goto oom;
	}
	qsort(i->repo_tags, berth_strv_length(i->repo_tags), sizeof(char *), cmp_str);
	qsort(i->repo_digests, berth_strv_length(i->repo_digests), sizeof(char *), cmp_str);
	i->diff_ids = TAKE_PTR(c.diff_ids);
	n = json_array_size(layers);
	i->layers = calloc(n + 1, sizeof(char *));
	if (!i->layers)
		goto oom;
	for (size_t k = 0; k < n; k++)
		if (!(i->layers[k] = strdup(json_string_value(json_array_get(layers, k)))))
			goto oom;
	if (n && !(i->top_layer = strdup(i->layers[n - 1])))
		goto oom;
	i->created = dup_opt(c.created);
	if (c.created && img_parse_rfc3339(c.created, &i->created_unix) < 0)
		i->created_unix = 0;
	i->last_tag_time = dup_opt(json_string_value(json_object_get(snap->rec, "last_tag_time")));
	i->architecture = dup_opt(c.architecture);
	i->os = strdup(c.os);
	if (!i->os)
		goto oom;
	i->size = snap->size;
	i->config_size = config_size;
	img_config_release(&c);
	*ret = i;
	return 0;
oom:
	r = berth_error_set(err, ENOMEM, "out of memory");
fail:
	img_config_release(&c);
	berth_image_info_free(i);
	return r;
}

static void snapshot_release(struct snapshot *snap)
{
	json_decref(snap->rec);
	berth_strv_free(snap->refs);
}

static int info_of(struct berth_image_store *s, const char *id, struct berth_image_info **ret,
		   struct berth_error **err)
{
	struct snapshot snap;
	int r;

	pthread_mutex_lock(&s->lock);
	r = snapshot_locked(s, id, &snap);
	pthread_mutex_unlock(&s->lock);
	if (r == -ENOENT)
		return not_found(id, err);
	if (r < 0)
		return berth_error_set(err, -r, "out of memory");
	r = build_info(s, id, &snap, ret, err);
	snapshot_release(&snap);
	return r;
}

int berth_image_inspect(struct berth_image_store *s, const char *ref_or_id,
			struct berth_image_info **ret, struct berth_error **err)
{
	_cleanup_free_ char *id = NULL;
	int r = berth_image_resolve(s, ref_or_id, &id, err);

	return r < 0 ? r : info_of(s, id, ret, err);
}

int berth_image_list(struct berth_image_store *s, struct berth_image_info ***ret, size_t *ret_n,
		     struct berth_error **err)
{
	_cleanup_strv_ char **ids = calloc(1, sizeof(char *));
	struct berth_image_info **v = NULL;
	size_t n = 0;
	const char *id;
	json_t *rec;
	int r = 0;

	if (!ids)
		return berth_error_set(err, ENOMEM, "out of memory");
	pthread_mutex_lock(&s->lock);
	json_object_foreach (idx_images(s->index), id, rec) {
		if (berth_strv_push(&ids, id) < 0)
			r = -ENOMEM;
	}
	pthread_mutex_unlock(&s->lock);
	if (r < 0)
		return berth_error_set(err, ENOMEM, "out of memory");
	n = berth_strv_length(ids);
	qsort(ids, n, sizeof(char *), cmp_str);
	v = calloc(n ? n : 1, sizeof(*v));
	if (!v)
		return berth_error_set(err, ENOMEM, "out of memory");
	size_t got = 0;
	for (size_t i = 0; i < n; i++) {
		r = info_of(s, ids[i], &v[got], err);
		if (r == -ENOENT) {
			/* deleted since the listing */
			berth_error_freep(err);
			continue;
		}
		if (r < 0) {
			berth_image_info_list_free(v, got);
			return r;
		}
		got++;
	}
	*ret = v;
	*ret_n = got;
	return 0;
}

size_t berth_image_count(struct berth_image_store *s)
{
	size_t n;

	pthread_mutex_lock(&s->lock);
	n = json_object_size(idx_images(s->index));
	pthread_mutex_unlock(&s->lock);
	return n;
}

int berth_image_config(struct berth_image_store *s, const char *id, json_t **ret,
		       struct berth_error **err)
{
	struct img_config c = {0};
	int r = read_config(s, id, &c, NULL, err);

	if (r < 0)
		return r;
	*ret = json_incref(c.json);
	img_config_release(&c);
	return 0;
}

/* ---- history ---------------------------------------------------------------------------- */

void berth_image_history_free(struct berth_image_history *h, size_t n)
{
	for (size_t i = 0; h && i < n; i++) {
		free(h[i].id);
		free(h[i].created_by);
		free(h[i].comment);
		berth_strv_free(h[i].tags);
	}
	free(h);
}

static char **tags_of(json_t *idx, const char *id)
{
	_cleanup_strv_ char **refs = refs_of(idx, id);
	char **v = calloc(1, sizeof(char *));

	for (size_t i = 0; v && refs && refs[i]; i++) {
		if (ref_is_canonical(refs[i]))
			continue;
		_cleanup_free_ char *fam = img_familiar_string(refs[i]);
		if (!fam || berth_strv_push(&v, fam) < 0) {
			berth_strv_free(v);
			return NULL;
		}
	}
	return refs ? v : (berth_strv_free(v), NULL);
}

int berth_image_history(struct berth_image_store *s, const char *ref_or_id,
			struct berth_image_history **ret, size_t *ret_n, struct berth_error **err)
{
	_cleanup_free_ char *id = NULL;
	_cleanup_strv_ char **chains = NULL;
	struct img_config c = {0};
	struct berth_image_history *h = NULL;
	json_t *hist;
	size_t n = 0, layer = 0, i;
	json_t *x;
	int r;

	r = berth_image_resolve(s, ref_or_id, &id, err);
	if (r < 0)
		return r;
	r = read_config(s, id, &c, NULL, err);
	if (r == 0)
		r = berth_chain_ids(c.diff_ids, c.n_diff_ids, &chains, err);
	if (r < 0)
		goto out;
	hist = json_object_get(c.json, "history");
	n = json_array_size(hist);
	h = calloc(n ? n : 1, sizeof(*h));
	if (!h) {
		r = berth_error_set(err, ENOMEM, "out of memory");
		goto out;
	}
	pthread_mutex_lock(&s->lock);
	json_array_foreach (hist, i, x) {
		struct berth_image_history *e = &h[n - 1 - i]; /* newest first */
		const char *created = json_string_value(json_object_get(x, "created"));
		if (created && img_parse_rfc3339(created, &e->created) < 0)
			e->created = 0;
		e->created_by = strdup(json_string_value(json_object_get(x, "created_by")) ?: "");
		e->comment = strdup(json_string_value(json_object_get(x, "comment")) ?: "");
		if (!json_is_true(json_object_get(x, "empty_layer"))) {
			if (layer >= c.n_diff_ids) {
				r = berth_error_set(err, EINVAL,
						    "too many non-empty layers in History section");
				break;
			}
			json_t *lr = json_object_get(s->layers, chains[layer]);
			e->size = (uint64_t)json_integer_value(json_object_get(lr, "size"));
			layer++;
		}
		if (!e->created_by || !e->comment) {
			r = berth_error_set(err, ENOMEM, "out of memory");
			break;
		}
	}
	/* ids and tags: this image, then its recorded parents; "<missing>" below them */
	const char *cur = id;
	for (i = 0; r == 0 && i < n; i++) {
		h[i].id = strdup(cur ? cur : "<missing>");
		h[i].tags = cur ? tags_of(s->index, cur) : calloc(1, sizeof(char *));
		if (!h[i].id || !h[i].tags)
			r = berth_error_set(err, ENOMEM, "out of memory");
		if (cur)
			cur = json_string_value(json_object_get(img_index_image(s, cur), "parent"));
	}
	pthread_mutex_unlock(&s->lock);
	if (r < 0)
		goto out;
	*ret = TAKE_PTR(h);
	*ret_n = n;
out:
	berth_image_history_free(h, n);
	img_config_release(&c);
	return r;
}

/* ---- delete and prune ------------------------------------------------------------------- */

void berth_image_deleted_free(struct berth_image_deleted *d, size_t n)
{
	for (size_t i = 0; d && i < n; i++)
		free(d[i].value);
	free(d);
}

struct del {
	struct berth_image_store *s;
	json_t *idx; /* the working copy */
	const struct berth_image_users *users;
	struct berth_image_deleted *items;
	size_t n;
	json_t *deleted_chains; /* layers of the images deleted (reported when gc removes them) */
};

static int record(struct del *d, enum berth_image_deleted_kind kind, const char *value)
{
	struct berth_image_deleted *n = realloc(d->items, (d->n + 1) * sizeof(*n));

	if (!n)
		return -ENOMEM;
	d->items = n;
	d->items[d->n].kind = kind;
	d->items[d->n].value = strdup(value);
	if (!d->items[d->n].value)
		return -ENOMEM;
	d->n++;
	return 0;
}

static int record_untag(struct del *d, const char *full)
{
	_cleanup_free_ char *fam = img_familiar_string(full);
	return fam ? record(d, BERTH_IMAGE_UNTAGGED, fam) : -ENOMEM;
}

static int find_user(struct del *d, const char *id, enum berth_image_use which, char **ret_ctr)
{
	if (!d->users || !d->users->find)
		return 0;
	return d->users->find(d->users->userdata, id, which, ret_ctr);
}

/* all references in one repository (docker's isSingleReference) */
static bool is_single_reference(char **refs)
{
	size_t n = berth_strv_length(refs);
	const char *single = NULL;
	_cleanup_free_ char *single_name = NULL;
	bool found = false;
	size_t canonical_names = 0;
	_cleanup_strv_ char **names = calloc(1, sizeof(char *));

	if (n <= 1)
		return n == 1;
	if (!names)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (ref_is_canonical(refs[i])) {
			_cleanup_free_ char *nm = ref_name(refs[i]);
			if (nm && !berth_strv_contains(names, nm)) {
				berth_strv_push(&names, nm);
				canonical_names++;
			}
		} else if (!single) {
			single = refs[i];
		} else {
			return false;
		}
	}
	if (!single)
		single = refs[0];
	single_name = ref_name(single);
	found = single_name && berth_strv_contains(names, single_name);
	return canonical_names == 1 && found;
}

enum {
	CONFLICT_CHILD = 1 << 0,
	CONFLICT_RUNNING = 1 << 1,
	CONFLICT_REFERENCE = 1 << 2,
	CONFLICT_STOPPED = 1 << 3,
	CONFLICT_HARD = CONFLICT_CHILD | CONFLICT_RUNNING,
	CONFLICT_SOFT = CONFLICT_REFERENCE | CONFLICT_STOPPED,
};

struct conflict {
	bool hard, used;
	char *message;
};

/* 1 with *c filled when there is a conflict, 0 none, <0 an error from the users callback */
static int check_conflict(struct del *d, const char *id, int mask, struct conflict *c)
{
	_cleanup_free_ char *ctr = NULL;
	_cleanup_strv_ char **refs = NULL;
	int r;

	memset(c, 0, sizeof(*c));
	if ((mask & CONFLICT_CHILD) && children_of(d->idx, id) > 0) {
		c->hard = true;
		c->message = strdup("image has dependent child images");
		return 1;
	}
	if (mask & CONFLICT_RUNNING) {
		r = find_user(d, id, BERTH_IMAGE_USED_BY_RUNNING, &ctr);
		if (r < 0)
			return r;
		if (r > 0) {
			c->hard = c->used = true;
			if (asprintf(&c->message, "image is being used by running container %s",
				     short_id(ctr ? ctr : "")) < 0)
				c->message = NULL;
			return 1;
		}
	}
	refs = refs_of(d->idx, id);
	if ((mask & CONFLICT_REFERENCE) && refs && refs[0]) {
		c->message = strdup("image is referenced in multiple repositories");
		return 1;
	}
	if (mask & CONFLICT_STOPPED) {
		free(ctr);
		ctr = NULL;
		r = find_user(d, id, BERTH_IMAGE_USED_BY_STOPPED, &ctr);
		if (r < 0)
			return r;
		if (r > 0) {
			c->used = true;
			if (asprintf(&c->message, "image is being used by stopped container %s",
				     short_id(ctr ? ctr : "")) < 0)
				c->message = NULL;
			return 1;
		}
	}
	return 0;
}

static int conflict_error(const char *id, struct conflict *c, struct berth_error **err)
{
	int r = berth_error_set(err, EBUSY, "conflict: unable to delete %s (%s) - %s", short_id(id),
				c->hard ? "cannot be forced" : "must be forced",
				c->message ? c->message : "conflict");
	free(c->message);
	return r;
}

static bool is_dangling(struct del *d, const char *id)
{
	_cleanup_strv_ char **refs = refs_of(d->idx, id);
	return refs && !refs[0] && children_of(d->idx, id) == 0;
}

static int remove_all_refs(struct del *d, const char *id)
{
	_cleanup_strv_ char **refs = refs_of(d->idx, id);

	if (!refs)
		return -ENOMEM;
	for (size_t i = 0; refs[i]; i++) {
		json_object_del(idx_refs(d->idx), refs[i]);
		if (record_untag(d, refs[i]) < 0)
			return -ENOMEM;
	}
	return 0;
}

/* docker's imageDeleteHelper */
static int delete_helper(struct del *d, const char *id_in, bool force, bool prune, bool quiet,
			 struct berth_error **err)
{
	_cleanup_free_ char *id = strdup(id_in), *parent = NULL;
	struct conflict c;
	json_t *rec;
	size_t i;
	json_t *l;
	int r;

	if (!id)
		return berth_error_set(err, ENOMEM, "out of memory");
	r = check_conflict(d, id, CONFLICT_HARD | (force ? 0 : CONFLICT_SOFT), &c);
	if (r < 0)
		return berth_error_set(err, -r, "find the containers of %s", short_id(id));
	if (r > 0) {
		if (quiet && (!is_dangling(d, id) || c.used)) {
			free(c.message);
			return 0;
		}
		return conflict_error(id, &c, err);
	}
	rec = json_object_get(idx_images(d->idx), id);
	if (!rec)
		return not_found(id, err);
	parent = dup_opt(json_string_value(json_object_get(rec, "parent")));
	if (remove_all_refs(d, id) < 0)
		return berth_error_set(err, ENOMEM, "out of memory");
	json_array_foreach (json_object_get(rec, "layers"), i, l) {
		json_object_set(d->deleted_chains, json_string_value(l), json_true());
	}
	json_object_del(idx_images(d->idx), id);
	if (record(d, BERTH_IMAGE_DELETED, id) < 0)
		return berth_error_set(err, ENOMEM, "out of memory");
	if (!prune || !parent || !json_object_get(idx_images(d->idx), parent))
		return 0;
	return delete_helper(d, parent, false, true, true, err);
}

/* docker's ImageDelete over the working copy */
static int delete_one(struct del *d, const char *ref_or_id, bool force, bool prune,
		      struct berth_error **err)
{
	_cleanup_free_ char *id = NULL;
	_cleanup_strv_ char **refs = NULL;
	const char *found = NULL;
	bool removed_repository_ref = false;
	int r;

	r = resolve_in(d->idx, ref_or_id, &found, err);
	if (r < 0)
		return r;
	id = strdup(found);
	refs = refs_of(d->idx, id);
	if (!id || !refs)
		return berth_error_set(err, ENOMEM, "out of memory");

	bool id_prefix =
		berth_str_has_prefix(id, ref_or_id) || berth_str_has_prefix(id + 7, ref_or_id);
	if (!id_prefix) {
		/* a repository reference: untag it first */
		_cleanup_reference_ struct berth_reference *parsed = NULL;
		_cleanup_free_ char *full = NULL, *name = NULL;

		if (!force && is_single_reference(refs)) {
			_cleanup_free_ char *ctr = NULL;
			r = find_user(d, id, BERTH_IMAGE_USED_BY_ANY, &ctr);
			if (r < 0)
				return berth_error_set(err, -r, "find the containers of %s",
						       short_id(id));
			if (r > 0) {
				char cshort[16];
				snprintf(cshort, sizeof(cshort), "%s", short_id(ctr ? ctr : ""));
				return berth_error_set(
					err, EBUSY,
					"conflict: unable to remove repository reference \"%s\" "
					"(must force) - container %s is using its referenced image "
					"%s",
					ref_or_id, cshort, short_id(id));
			}
		}
		r = berth_reference_parse(ref_or_id, &parsed, err);
		if (r < 0)
			return r;
		if (parsed->tag && parsed->digest) {
			free(parsed->tag);
			parsed->tag = NULL;
		}
		if (berth_reference_default_tag(parsed) < 0 ||
		    !(full = berth_reference_string(parsed)) ||
		    !(name = berth_reference_name(parsed)))
			return berth_error_set(err, ENOMEM, "out of memory");
		if (!json_object_get(idx_refs(d->idx), full))
			return not_found(ref_or_id, err);
		json_object_del(idx_refs(d->idx), full);
		if (record_untag(d, full) < 0)
			return berth_error_set(err, ENOMEM, "out of memory");

		berth_strv_free(refs);
		refs = refs_of(d->idx, id);
		if (!refs)
			return berth_error_set(err, ENOMEM, "out of memory");
		/* the last tag of a repository gone: its digest references go too */
		if (!parsed->digest) {
			bool tag_left = false;
			for (size_t i = 0; refs[i]; i++) {
				_cleanup_free_ char *nm = ref_name(refs[i]);
				if (!ref_is_canonical(refs[i]) && berth_streq(nm, name))
					tag_left = true;
			}
			for (size_t i = 0; !tag_left && refs[i]; i++) {
				_cleanup_free_ char *nm = ref_name(refs[i]);
				if (!ref_is_canonical(refs[i]) || !berth_streq(nm, name))
					continue;
				json_object_del(idx_refs(d->idx), refs[i]);
				if (record_untag(d, refs[i]) < 0)
					return berth_error_set(err, ENOMEM, "out of memory");
			}
			berth_strv_free(refs);
			refs = refs_of(d->idx, id);
			if (!refs)
				return berth_error_set(err, ENOMEM, "out of memory");
		}
		if (refs[0])
			return 0; /* other references remain: the untag was the whole removal */
		removed_repository_ref = true;
	} else if (is_single_reference(refs)) {
		struct conflict c;
		int mask = CONFLICT_HARD | (force ? 0 : (CONFLICT_SOFT & ~CONFLICT_REFERENCE));
		r = check_conflict(d, id, mask, &c);
		if (r < 0)
			return berth_error_set(err, -r, "find the containers of %s", short_id(id));
		if (r > 0)
			return conflict_error(id, &c, err);
		if (remove_all_refs(d, id) < 0)
			return berth_error_set(err, ENOMEM, "out of memory");
	}
	return delete_helper(d, id, force, prune, removed_repository_ref, err);
}

/* Commit the working copy, collect garbage, and report the removed layers of deleted images. */
static int del_finish(struct del *d, uint64_t *ret_reclaimed, struct berth_error **err)
{
	json_t *removed = json_object();
	const char *key;
	json_t *v;
	uint64_t reclaimed = 0;
	int r = 0;

	if (!removed)
		return berth_error_set(err, ENOMEM, "out of memory");
	if (!json_equal(d->idx, d->s->index))
		r = img_index_commit(d->s, d->idx, err);
	if (r == 0) {
		/* sizes before the layers go */
		json_t *sizes = json_object();
		json_object_foreach (d->deleted_chains, key, v) {
			json_t *lr = json_object_get(d->s->layers, key);
			if (lr && sizes)
				json_object_set(sizes, key, json_object_get(lr, "size"));
		}
		/* garbage left behind is collected by the next gc: not an error of this delete */
		struct berth_error *gcerr = NULL;
		img_gc_locked(d->s, d->users ? d->users->held_layers : NULL, removed, &gcerr);
		berth_error_free(gcerr);
		/* chain ids bottom-up in each image; report in a stable order */
		json_object_foreach (d->deleted_chains, key, v) {
			char rkey[16 + BERTH_DIGEST_SIZE];
			snprintf(rkey, sizeof(rkey), "layer:%s", key);
			if (!json_object_get(removed, rkey))
				continue;
			reclaimed += (uint64_t)json_integer_value(json_object_get(sizes, key));
			if (record(d, BERTH_IMAGE_DELETED, key) < 0)
				r = berth_error_set(err, ENOMEM, "out of memory");
		}
		json_decref(sizes);
	}
	json_decref(removed);
	if (ret_reclaimed)
		*ret_reclaimed = reclaimed;
	return r;
}

/* A delete's working copy of the index (and its list of deleted chains), s->lock held. */
static int del_begin(struct del *d, struct berth_error **err)
{
	d->idx = json_deep_copy(d->s->index);
	d->deleted_chains = json_object();
	if (!d->idx || !d->deleted_chains)
		return berth_error_set(err, ENOMEM, "out of memory");
	return 0;
}

/*
 * The end of a delete that got as far as r: the working copy committed when r is 0, s->lock let
 * go, the trash emptied; the deleted items in *ret, *ret_n on success.
 */
static int del_end(struct del *d, int r, uint64_t *ret_reclaimed, struct berth_image_deleted **ret,
		   size_t *ret_n, struct berth_error **err)
{
	if (r == 0)
		r = del_finish(d, ret_reclaimed, err);
	pthread_mutex_unlock(&d->s->lock);
	img_empty_trash(d->s);
	json_decref(d->idx);
	json_decref(d->deleted_chains);
	if (r < 0) {
		berth_image_deleted_free(d->items, d->n);
		return r;
	}
	*ret = d->items;
	*ret_n = d->n;
	return 0;
}

int berth_image_delete(struct berth_image_store *s, const char *ref_or_id, unsigned flags,
		       const struct berth_image_users *users, struct berth_image_deleted **ret,
		       size_t *ret_n, struct berth_error **err)
{
	struct del d = {.s = s, .users = users};
	int r;

	pthread_mutex_lock(&s->lock);
	r = del_begin(&d, err);
	if (r == 0)
		r = delete_one(&d, ref_or_id, flags & BERTH_IMAGE_DELETE_FORCE,
			       !(flags & BERTH_IMAGE_DELETE_NO_PRUNE), err);
	return del_end(&d, r, NULL, ret, ret_n, err);
}

int berth_image_prune(struct berth_image_store *s, bool all,
		      bool (*filter)(void *userdata, const struct berth_image_info *info,
				     json_t *config),
		      void *filter_userdata, const struct berth_image_users *users,
		      struct berth_image_deleted **ret, size_t *ret_n, uint64_t *ret_reclaimed,
		      struct berth_error **err)
{
	struct berth_image_info **infos = NULL;
	size_t n = 0;
	_cleanup_strv_ char **top = calloc(1, sizeof(char *));
	struct del d = {.s = s, .users = users};
	int r;

	if (!top)
		return berth_error_set(err, ENOMEM, "out of memory");
	/* the candidates and the filter's verdicts, outside the lock (configs are read) */
	r = berth_image_list(s, &infos, &n, err);
	if (r < 0)
		return r;
	pthread_mutex_lock(&s->lock);
	for (size_t i = 0; i < n; i++) {
		struct berth_image_info *info = infos[i];
		size_t children = children_of(s->index, info->id);
		_cleanup_strv_ char **refs = refs_of(s->index, info->id);
		if (!img_index_image(s, info->id) || !refs)
			continue;
		if (!all && children > 0)
			continue; /* only heads when pruning dangling images */
		if (!refs[0] && children > 0)
			continue;
		if (filter) {
			_cleanup_json_ json_t *config = NULL;
			struct img_config c = {0};
			if (read_config(s, info->id, &c, NULL, NULL) == 0) {
				config = json_incref(c.json);
				img_config_release(&c);
			}
			if (!filter(filter_userdata, info, config))
				continue;
		}
		if (berth_strv_push(&top, info->id) < 0) {
			r = berth_error_set(err, ENOMEM, "out of memory");
			break;
		}
	}
	berth_image_info_list_free(infos, n);
	if (r == 0)
		r = del_begin(&d, err);
	for (size_t i = 0; r == 0 && top[i]; i++) {
		_cleanup_strv_ char **refs = NULL;
		struct berth_error *e = NULL;
		int q = 0;

		if (!json_object_get(idx_images(d.idx), top[i]))
			continue; /* went with an earlier one (a parent) */
		refs = refs_of(d.idx, top[i]);
		if (!refs) {
			r = berth_error_set(err, ENOMEM, "out of memory");
			break;
		}
		if (refs[0]) {
			bool has_tag = false;
			for (size_t k = 0; refs[k]; k++)
				has_tag |= !ref_is_canonical(refs[k]);
			if (!all && has_tag)
				continue;
			for (size_t k = 0; refs[k] && q >= 0; k++) {
				q = delete_one(&d, refs[k], false, true, &e);
				/* a conflict skips the image, as docker's prune does */
				if (q == -EBUSY || q == -ENOENT) {
					berth_error_freep(&e);
					q = 0;
				}
			}
		} else {
			q = delete_one(&d, top[i] + 7, false, true, &e);
			if (q == -EBUSY || q == -ENOENT) {
				berth_error_freep(&e);
				q = 0;
			}
		}
		if (q < 0) {
			r = q;
			if (err)
				*err = e;
			else
				berth_error_free(e);
		}
	}
	return del_end(&d, r, ret_reclaimed, ret, ret_n, err);
}
