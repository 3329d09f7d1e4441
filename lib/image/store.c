/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The store itself: opening a data root (lock, recovery, index, layer table), the index file
 * written whole, leases, and garbage collection.  See docs/image-store.md for the layout.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image-internal.h"

#include "base/banned.h"

void img_limits_fill(struct berth_image_limits *out, const struct berth_image_limits *in)
{
	static const struct berth_image_limits zero;

	if (!in)
		in = &zero;
	*out = *in;
	if (!out->max_json_size)
		out->max_json_size = IMG_DEFAULT_MAX_JSON;
	if (!out->max_layer_size)
		out->max_layer_size = IMG_DEFAULT_MAX_LAYER;
	if (!out->max_archive_size)
		out->max_archive_size = IMG_DEFAULT_MAX_ARCHIVE;
	if (!out->max_layers)
		out->max_layers = IMG_DEFAULT_MAX_LAYERS;
	if (!out->max_entries)
		out->max_entries = IMG_DEFAULT_MAX_ENTRIES;
	if (!out->max_images)
		out->max_images = IMG_DEFAULT_MAX_IMAGES;
	if (!out->max_path)
		out->max_path = IMG_DEFAULT_MAX_PATH;
}

char *img_temp_name(struct berth_image_store *s, const char *prefix)
{
	uint64_t seq = __atomic_fetch_add(&s->seq, 1, __ATOMIC_RELAXED);
	uint32_t rnd = 0;
	char *name = NULL;

	if (getrandom(&rnd, sizeof(rnd), GRND_NONBLOCK) != sizeof(rnd))
		rnd = (uint32_t)(uintptr_t)&rnd;
	if (asprintf(&name, "%s%d-%llu-%08x", prefix, (int)getpid(), (unsigned long long)seq, rnd) <
	    0)
		return NULL;
	return name;
}

/* ---- the layer table -------------------------------------------------------------------- */

json_t *img_layer_record(const char *chain_id, const char *diff_id, const char *parent,
			 const char *blob, uint64_t size, uint64_t tar_size)
{
	return json_pack("{s:s, s:s, s:o, s:s, s:I, s:I}", "chain_id", chain_id, "diff_id", diff_id,
			 "parent", parent ? json_string(parent) : json_null(), "blob", blob, "size",
			 (json_int_t)size, "tar_size", (json_int_t)tar_size);
}

/* Check a layer.json as read from disk; 0 or -EINVAL. */
static int check_layer_record(const char *chain_id, json_t *rec)
{
	json_t *parent = json_object_get(rec, "parent");

	if (!json_is_object(rec) ||
	    !berth_streq(json_string_value(json_object_get(rec, "chain_id")), chain_id) ||
	    !berth_digest_is_sha256(json_string_value(json_object_get(rec, "diff_id"))) ||
	    !berth_digest_is_sha256(json_string_value(json_object_get(rec, "blob"))) ||
	    !json_is_integer(json_object_get(rec, "size")) ||
	    !json_is_integer(json_object_get(rec, "tar_size")) ||
	    !(json_is_null(parent) || berth_digest_is_sha256(json_string_value(parent))))
		return -EINVAL;
	return 0;
}

static int load_layers(struct berth_image_store *s, struct berth_error **err)
{
	_cleanup_close_ int dfd = openat(s->rootfd, "layers", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *de;

	if (dfd < 0)
		return berth_error_sys(err, errno, "open '%s/layers'", s->root);
	d = fdopendir(dfd);
	if (!d)
		return berth_error_sys(err, errno, "open '%s/layers'", s->root);
	dfd = -EBADF;
	while ((de = readdir(d))) {
		_cleanup_free_ char *chain = NULL, *meta = NULL, *path = NULL;
		json_t *rec = NULL;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (asprintf(&path, "%s/layers/%s", s->root, de->d_name) < 0 ||
		    asprintf(&chain, "sha256:%s", de->d_name) < 0 ||
		    asprintf(&meta, "%s/layer.json", path) < 0)
			return berth_error_set(err, ENOMEM, "out of memory");
		/* staging and trash directories an interrupted operation left: never complete */
		if (de->d_name[0] == '.' || !img_is_hex64(de->d_name) ||
		    berth_json_load_file(meta, 1 << 20, &rec, NULL) < 0 ||
		    check_layer_record(chain, rec) < 0) {
			json_decref(rec);
			berth_rm_rf(path, NULL);
			continue;
		}
		if (json_object_set_new(s->layers, chain, rec) < 0)
			return berth_error_set(err, ENOMEM, "out of memory");
	}
	return 0;
}

/* ---- the index -------------------------------------------------------------------------- */

static int check_index(json_t *idx, struct berth_error **err)
{
	json_t *images = json_object_get(idx, "images");
	json_t *refs = json_object_get(idx, "references");
	const char *key;
	json_t *v;

	if (!json_is_object(idx) || json_integer_value(json_object_get(idx, "version")) != 1 ||
	    !json_is_object(images) || !json_is_object(refs))
		return berth_error_set(err, EINVAL, "not a version 1 index");
	json_object_foreach (images, key, v) {
		json_t *layers = json_object_get(v, "layers");
		size_t i;
		json_t *l;

		if (!berth_digest_is_sha256(key) || !json_is_array(layers))
			return berth_error_set(err, EINVAL, "image '%s': malformed record", key);
		json_array_foreach (layers, i, l) {
			if (!berth_digest_is_sha256(json_string_value(l)))
				return berth_error_set(err, EINVAL, "image '%s': malformed layer",
						       key);
		}
	}
	json_object_foreach (refs, key, v) {
		if (!json_object_get(images, json_string_value(v) ? json_string_value(v) : ""))
			return berth_error_set(err, EINVAL, "reference '%s' names no image", key);
	}
	return 0;
}

static int load_index(struct berth_image_store *s, struct berth_error **err)
{
	_cleanup_free_ char *path = NULL;
	json_t *idx = NULL;
	int r;

	if (asprintf(&path, "%s/images.json", s->root) < 0)
		return berth_error_set(err, ENOMEM, "out of memory");
	if (faccessat(s->rootfd, "images.json", F_OK, 0) < 0 && errno == ENOENT) {
		s->index = json_pack("{s:i, s:{}, s:{}}", "version", 1, "images", "references");
		return s->index ? 0 : berth_error_set(err, ENOMEM, "out of memory");
	}
	r = berth_json_load_file(path, IMG_MAX_INDEX_SIZE, &idx, err);
	if (r < 0)
		return r;
	r = check_index(idx, err);
	if (r < 0) {
		json_decref(idx);
		return berth_error_wrap(err, "'%s'", path);
	}
	s->index = idx;
	return 0;
}

int img_index_commit(struct berth_image_store *s, json_t *new_index, struct berth_error **err)
{
	_cleanup_free_ char *text = json_dumps(new_index, JSON_INDENT(1) | JSON_SORT_KEYS);
	int r;

	if (!text)
		return berth_error_set(err, ENOMEM, "out of memory");
	r = berth_write_file_atomic_at(s->rootfd, "images.json", text, strlen(text), 0600, err);
	if (r < 0)
		return berth_error_wrap(err, "write index");
	json_incref(new_index);
	json_decref(s->index);
	s->index = new_index;
	return 0;
}

json_t *img_index_image(struct berth_image_store *s, const char *id)
{
	return json_object_get(json_object_get(s->index, "images"), id);
}

/* ---- open and close --------------------------------------------------------------------- */

static int mkdir_at(int dirfd, const char *name, struct berth_error **err)
{
	if (mkdirat(dirfd, name, 0700) < 0 && errno != EEXIST)
		return berth_error_sys(err, errno, "mkdir '%s'", name);
	return 0;
}

static void clean_dir(int rootfd, const char *name)
{
	_cleanup_close_ int fd = openat(rootfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *de;
	char path[PATH_MAX];

	if (fd < 0 || !(d = fdopendir(fd)))
		return;
	fd = -EBADF;
	while ((de = readdir(d))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (snprintf(path, sizeof(path), "/proc/self/fd/%d/%s", dirfd(d), de->d_name) <
		    (int)sizeof(path))
			berth_rm_rf(path, NULL);
	}
}

int berth_image_store_open(const char *data_root, const struct berth_image_store_options *opts,
			   struct berth_image_store **ret, struct berth_error **err)
{
	struct berth_image_store *s;
	char real[PATH_MAX];
	int r;

	r = berth_mkdir_p(data_root, 0700, err);
	if (r < 0)
		return berth_error_wrap(err, "image store");
	if (!realpath(data_root, real))
		return berth_error_sys(err, errno, "image store: resolve '%s'", data_root);

	s = calloc(1, sizeof(*s));
	if (!s)
		return berth_error_set(err, ENOMEM, "out of memory");
	s->rootfd = s->lockfd = -EBADF;
	pthread_mutex_init(&s->lock, NULL);
	img_limits_fill(&s->limits, opts ? &opts->limits : NULL);
	s->root = strdup(real);
	s->layers = json_object();
	s->leases = json_object();
	if (!s->root || !s->layers || !s->leases) {
		r = berth_error_set(err, ENOMEM, "out of memory");
		goto fail;
	}
	s->rootfd = open(s->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s->rootfd < 0) {
		r = berth_error_sys(err, errno, "image store: open '%s'", s->root);
		goto fail;
	}
	s->lockfd = openat(s->rootfd, ".lock", O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (s->lockfd < 0) {
		r = berth_error_sys(err, errno, "image store: open '%s/.lock'", s->root);
		goto fail;
	}
	if (flock(s->lockfd, LOCK_EX | LOCK_NB) < 0) {
		r = errno == EWOULDBLOCK
			    ? berth_error_set(err, EBUSY,
					      "image store: '%s' is in use by another process",
					      s->root)
			    : berth_error_sys(err, errno, "image store: lock '%s'", s->root);
		goto fail;
	}
	if ((r = mkdir_at(s->rootfd, "blobs", err)) < 0 ||
	    (r = mkdir_at(s->rootfd, "blobs/sha256", err)) < 0 ||
	    (r = mkdir_at(s->rootfd, "layers", err)) < 0 ||
	    (r = mkdir_at(s->rootfd, "tmp", err)) < 0) {
		berth_error_wrap(err, "image store '%s'", s->root);
		goto fail;
	}
	/* what an interrupted operation left: temporary files and load directories */
	clean_dir(s->rootfd, "tmp");
	r = load_layers(s, err);
	if (r == 0)
		r = load_index(s, err);
	if (r < 0) {
		berth_error_wrap(err, "image store '%s'", s->root);
		goto fail;
	}
	*ret = s;
	return 0;
fail:
	berth_image_store_free(s);
	return r;
}

void berth_image_store_free(struct berth_image_store *s)
{
	if (!s)
		return;
	if (s->rootfd >= 0)
		close(s->rootfd);
	if (s->lockfd >= 0)
		close(s->lockfd);
	json_decref(s->index);
	json_decref(s->layers);
	json_decref(s->leases);
	pthread_mutex_destroy(&s->lock);
	free(s->root);
	free(s);
}

const char *berth_image_store_root(const struct berth_image_store *s)
{
	return s->root;
}

const struct berth_image_limits *berth_image_store_limits(const struct berth_image_store *s)
{
	return &s->limits;
}

/* ---- leases ----------------------------------------------------------------------------- */

int berth_image_lease_new(struct berth_image_store *s, struct berth_image_lease **ret,
			  struct berth_error **err)
{
	struct berth_image_lease *l = calloc(1, sizeof(*l));

	if (!l || !(l->held = json_object()) || !(l->created = json_object())) {
		if (l) {
			json_decref(l->held);
			free(l);
		}
		return berth_error_set(err, ENOMEM, "out of memory");
	}
	l->store = s;
	*ret = l;
	return 0;
}

int img_lease_hold_locked(struct berth_image_lease *l, const char *key)
{
	json_t *n;

	if (json_object_get(l->held, key))
		return 0;
	n = json_object_get(l->store->leases, key);
	if (json_object_set_new(l->held, key, json_true()) < 0 ||
	    json_object_set_new(l->store->leases, key,
				json_integer(n ? json_integer_value(n) + 1 : 1)) < 0)
		return -ENOMEM;
	return 0;
}

int berth_image_lease_add(struct berth_image_lease *l, const char *key)
{
	int r;

	pthread_mutex_lock(&l->store->lock);
	r = img_lease_hold_locked(l, key);
	pthread_mutex_unlock(&l->store->lock);
	return r;
}

int img_lease_created_locked(struct berth_image_lease *l, const char *key, const char *kind)
{
	char ckey[32 + BERTH_DIGEST_SIZE];
	int r = img_lease_hold_locked(l, key);

	/* "layer:<chain>", "blob:<digest>": a bottom layer's chain id is also its blob's digest */
	snprintf(ckey, sizeof(ckey), "%s:%s", kind, key);
	if (r == 0 && json_object_set_new(l->created, ckey, json_true()) < 0)
		r = -ENOMEM;
	return r;
}

int img_lease_add_created(struct berth_image_lease *l, const char *key, const char *kind)
{
	int r;

	pthread_mutex_lock(&l->store->lock);
	r = img_lease_created_locked(l, key, kind);
	pthread_mutex_unlock(&l->store->lock);
	return r;
}

static void unhold_locked(struct berth_image_store *s, const char *key)
{
	json_t *n = json_object_get(s->leases, key);

	if (!n)
		return;
	if (json_integer_value(n) <= 1)
		json_object_del(s->leases, key);
	else
		json_integer_set(n, json_integer_value(n) - 1);
}

/* ---- garbage ---------------------------------------------------------------------------- */

/* chain and the layers below it into keep */
static void keep_chain(struct berth_image_store *s, json_t *keep, const char *chain)
{
	for (int depth = 0; chain && depth < 10000; depth++) {
		json_t *rec = json_object_get(s->layers, chain);
		json_object_set_new(keep, chain, json_true());
		if (!rec)
			return;
		json_object_set_new(keep, json_string_value(json_object_get(rec, "blob")),
				    json_true());
		chain = json_string_value(json_object_get(rec, "parent"));
	}
}

static json_t *keep_set_locked(struct berth_image_store *s, const char *const *held_layers)
{
	json_t *keep = json_object();
	const char *id;
	json_t *rec;

	if (!keep)
		return NULL;
	json_object_foreach (json_object_get(s->index, "images"), id, rec) {
		size_t i;
		json_t *l;
		json_object_set_new(keep, id, json_true());
		json_array_foreach (json_object_get(rec, "layers"), i, l) {
			keep_chain(s, keep, json_string_value(l));
		}
	}
	for (size_t i = 0; held_layers && held_layers[i]; i++)
		keep_chain(s, keep, held_layers[i]);
	json_object_foreach (s->leases, id, rec) {
		if (json_object_get(s->layers, id))
			keep_chain(s, keep, id);
		else
			json_object_set_new(keep, id, json_true());
	}
	return keep;
}

static int trash_layer_locked(struct berth_image_store *s, const char *chain)
{
	_cleanup_free_ char *from = NULL, *tmp = NULL, *to = NULL;

	tmp = img_temp_name(s, ".trash-");
	if (!tmp || asprintf(&from, "layers/%s", chain + 7) < 0 ||
	    asprintf(&to, "layers/%s", tmp) < 0)
		return -ENOMEM;
	if (renameat(s->rootfd, from, s->rootfd, to) < 0 && errno != ENOENT)
		return -errno;
	json_object_del(s->layers, chain);
	return 0;
}

void img_empty_trash(struct berth_image_store *s)
{
	_cleanup_close_ int fd = openat(s->rootfd, "layers", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *de;

	if (fd < 0 || !(d = fdopendir(fd)))
		return;
	fd = -EBADF;
	while ((de = readdir(d))) {
		_cleanup_free_ char *path = NULL;
		if (!berth_str_has_prefix(de->d_name, ".trash-"))
			continue;
		if (asprintf(&path, "%s/layers/%s", s->root, de->d_name) >= 0)
			berth_rm_rf(path, NULL);
	}
}

static int remove_blob_locked(struct berth_image_store *s, const char *digest)
{
	char rel[128];

	if (img_blob_relpath(digest, rel, sizeof(rel)) < 0)
		return 0;
	if (unlinkat(s->rootfd, rel, 0) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

int img_gc_locked(struct berth_image_store *s, const char *const *held_layers, json_t *removed,
		  struct berth_error **err)
{
	json_t *keep = keep_set_locked(s, held_layers);
	_cleanup_close_ int bfd = -EBADF;
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *de;
	const char *chain;
	json_t *rec, *tmp;
	int r = 0;

	if (!keep)
		return berth_error_set(err, ENOMEM, "out of memory");
	json_object_foreach_safe(s->layers, tmp, chain, rec)
	{
		if (json_object_get(keep, chain))
			continue;
		_cleanup_free_ char *c = strdup(chain);
		if (!c) {
			r = berth_error_set(err, ENOMEM, "out of memory");
			goto out;
		}
		r = trash_layer_locked(s, c);
		if (r < 0) {
			r = berth_error_sys(err, -r, "remove layer '%s'", c);
			goto out;
		}
		if (removed) {
			char key[16 + BERTH_DIGEST_SIZE];
			snprintf(key, sizeof(key), "layer:%s", c);
			json_object_set_new(removed, key, json_true());
		}
	}
	bfd = openat(s->rootfd, "blobs/sha256", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (bfd < 0 || !(d = fdopendir(bfd))) {
		r = berth_error_sys(err, errno, "open '%s/blobs/sha256'", s->root);
		goto out;
	}
	bfd = -EBADF;
	while ((de = readdir(d))) {
		char digest[BERTH_DIGEST_SIZE];
		if (!img_is_hex64(de->d_name))
			continue;
		snprintf(digest, sizeof(digest), "sha256:%.64s", de->d_name);
		if (json_object_get(keep, digest))
			continue;
		if (unlinkat(dirfd(d), de->d_name, 0) < 0 && errno != ENOENT) {
			r = berth_error_sys(err, errno, "remove blob '%s'", digest);
			goto out;
		}
		if (removed) {
			char key[16 + BERTH_DIGEST_SIZE];
			snprintf(key, sizeof(key), "blob:%s", digest);
			json_object_set_new(removed, key, json_true());
		}
	}
out:
	json_decref(keep);
	return r;
}

void berth_image_lease_release(struct berth_image_lease *l, bool rollback)
{
	struct berth_image_store *s;
	const char *key;
	json_t *v;

	if (!l)
		return;
	s = l->store;
	pthread_mutex_lock(&s->lock);
	json_object_foreach (l->held, key, v) {
		unhold_locked(s, key);
	}
	if (rollback && json_object_size(l->created)) {
		json_t *keep = keep_set_locked(s, NULL);
		/* layers first: a layer's blob is kept while the layer is */
		json_object_foreach (l->created, key, v) {
			if (keep && berth_str_has_prefix(key, "layer:") &&
			    !json_object_get(keep, key + 6))
				trash_layer_locked(s, key + 6);
		}
		json_decref(keep);
		keep = keep_set_locked(s, NULL);
		json_object_foreach (l->created, key, v) {
			if (keep && berth_str_has_prefix(key, "blob:") &&
			    !json_object_get(keep, key + 5))
				remove_blob_locked(s, key + 5);
		}
		json_decref(keep);
	}
	pthread_mutex_unlock(&s->lock);
	if (rollback)
		img_empty_trash(s);
	json_decref(l->held);
	json_decref(l->created);
	free(l);
}

int berth_image_gc(struct berth_image_store *s, const struct berth_image_users *users,
		   size_t *ret_removed, struct berth_error **err)
{
	json_t *removed = json_object();
	int r;

	if (!removed)
		return berth_error_set(err, ENOMEM, "out of memory");
	pthread_mutex_lock(&s->lock);
	r = img_gc_locked(s, users ? users->held_layers : NULL, removed, err);
	pthread_mutex_unlock(&s->lock);
	img_empty_trash(s);
	if (r == 0 && ret_removed)
		*ret_removed = json_object_size(removed);
	json_decref(removed);
	return r < 0 ? berth_error_wrap(err, "gc") : 0;
}

int img_layer_chain_locked(struct berth_image_store *s, const char *top, json_t **ret)
{
	json_t *chain = json_array();
	const char *cur = top;

	if (!chain)
		return -ENOMEM;
	while (cur) {
		json_t *rec = json_object_get(s->layers, cur);
		if (!rec || json_array_size(chain) > 100000) {
			json_decref(chain);
			return -ENOENT;
		}
		json_array_insert_new(chain, 0, json_string(cur));
		cur = json_string_value(json_object_get(rec, "parent"));
	}
	*ret = chain;
	return 0;
}
