/* SPDX-License-Identifier: Apache-2.0 */
/*
 * docker save: a docker-archive as docker 25+ writes it, streamed to an fd.
 *
 *   blobs/sha256/<hex>   configs, uncompressed layer tars (named by diff id), OCI manifests
 *   index.json           an OCI index: one manifest descriptor per tag (untagged: one plain)
 *   manifest.json        [{"Config", "RepoTags", "Layers"}] -- what docker load reads
 *   oci-layout           {"imageLayoutVersion":"1.0.0"}
 *   repositories         {"name": {"tag": "<top layer's diff id hex>"}} (when anything is tagged)
 *
 * Everything is decided before the first byte (names resolved, layers and blobs found and held
 * by a lease), so a bad name fails cleanly.  Entries are in byte order of their names with fixed
 * owners, modes and times: the same images give the same bytes.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "image-internal.h"

#include "base/banned.h"

struct save_image {
	char *id;
	char **tags;	/* full name:tag references, in the order asked */
	json_t *layers; /* [{"diff_id","blob","tar_size"}] bottom first */
	json_t *config; /* parsed, for the platform */
	uint64_t config_size;
	char *manifest; /* the OCI manifest's bytes */
	char manifest_digest[BERTH_DIGEST_SIZE];
};

struct save {
	struct berth_image_store *s;
	struct save_image *img;
	size_t n;
	struct berth_image_lease *lease;
};

static void save_release(struct save *sv)
{
	for (size_t i = 0; i < sv->n; i++) {
		free(sv->img[i].id);
		berth_strv_free(sv->img[i].tags);
		json_decref(sv->img[i].layers);
		json_decref(sv->img[i].config);
		free(sv->img[i].manifest);
	}
	free(sv->img);
	if (sv->lease)
		berth_image_lease_release(sv->lease, false);
}

/* the image for id (added when new), tagged with ref when ref is a name:tag */
static int assoc(struct save *sv, const char *id, const char *ref, struct berth_error **err)
{
	struct save_image *img = NULL;

	for (size_t i = 0; i < sv->n; i++)
		if (strcmp(sv->img[i].id, id) == 0)
			img = &sv->img[i];
	if (!img) {
		struct save_image *v = realloc(sv->img, (sv->n + 1) * sizeof(*v));
		if (!v)
			return berth_error_set(err, ENOMEM, "out of memory");
		sv->img = v;
		img = &sv->img[sv->n++];
		memset(img, 0, sizeof(*img));
		img->id = strdup(id);
		img->tags = calloc(1, sizeof(char *));
		if (!img->id || !img->tags)
			return berth_error_set(err, ENOMEM, "out of memory");
	}
	if (ref && !strchr(ref, '@') && !berth_strv_contains(img->tags, ref) &&
	    berth_strv_push(&img->tags, ref) < 0)
		return berth_error_set(err, ENOMEM, "out of memory");
	return 0;
}

static const char *search(json_t *images, const char *term)
{
	const char *hexp = berth_str_has_prefix(term, "sha256:") ? term + 7 : term;
	size_t n = strlen(hexp);
	const char *found = NULL, *id;
	json_t *v;

	if (!n || n > 64 || strspn(hexp, "0123456789abcdef") != n)
		return NULL;
	json_object_foreach (images, id, v) {
		if (strncmp(id + 7, hexp, n) != 0)
			continue;
		if (found)
			return NULL;
		found = id;
	}
	return found;
}

/* docker's parseNames, with s->lock held */
static int parse_names(struct save *sv, char *const *names, struct berth_error **err)
{
	json_t *images = json_object_get(sv->s->index, "images");
	json_t *refs = json_object_get(sv->s->index, "references");

	for (size_t i = 0; names && names[i]; i++) {
		const char *name = names[i];
		_cleanup_reference_ struct berth_reference *ref = NULL;
		_cleanup_free_ char *full = NULL, *fam = NULL, *repo = NULL;
		char digest[BERTH_DIGEST_SIZE + 64];
		int r;

		if (img_is_identifier(name) || (strchr(name, ':') && !strchr(name, '/') &&
						berth_digest_validate(name, NULL) == 0)) {
			snprintf(digest, sizeof(digest), "%s%s",
				 img_is_identifier(name) ? "sha256:" : "", name);
			if (!json_object_get(images, digest))
				return berth_error_set(err, ENOENT, "No such image: %s", digest);
			r = assoc(sv, digest, NULL, err);
			if (r < 0)
				return r;
			continue;
		}
		r = berth_reference_parse(name, &ref, err);
		if (r < 0)
			return r;
		if (!(fam = berth_reference_familiar_name(ref)) ||
		    !(repo = berth_reference_name(ref)))
			return berth_error_set(err, ENOMEM, "out of memory");
		if (strcmp(fam, "sha256") == 0 || (!ref->tag && !ref->digest)) {
			/* a repository: every tag of it; else an id prefix */
			bool any = false;
			const char *key;
			json_t *v;
			size_t len = strlen(repo);
			if (strcmp(fam, "sha256") != 0) {
				_cleanup_strv_ char **keys = calloc(1, sizeof(char *));
				if (!keys)
					return berth_error_set(err, ENOMEM, "out of memory");
				json_object_foreach (refs, key, v) {
					if (strncmp(key, repo, len) == 0 &&
					    (key[len] == ':' || key[len] == '@') &&
					    berth_strv_push(&keys, key) < 0)
						return berth_error_set(err, ENOMEM,
								       "out of memory");
				}
				/* the index is a hash: sort for a stable order */
				size_t nk = berth_strv_length(keys);
				for (size_t a = 1; a < nk; a++)
					for (size_t b = a;
					     b > 0 && strcmp(keys[b - 1], keys[b]) > 0; b--) {
						char *t = keys[b];
						keys[b] = keys[b - 1];
						keys[b - 1] = t;
					}
				for (size_t k = 0; k < nk; k++) {
					r = assoc(sv,
						  json_string_value(json_object_get(refs, keys[k])),
						  keys[k], err);
					if (r < 0)
						return r;
					any = true;
				}
			}
			if (!any) {
				const char *id = search(images, name);
				if (!id)
					return berth_error_set(err, ENOENT, "No such image: %s",
							       name);
				r = assoc(sv, id, NULL, err);
				if (r < 0)
					return r;
			}
			continue;
		}
		if (ref->tag && ref->digest) {
			free(ref->tag);
			ref->tag = NULL;
		}
		if (!(full = berth_reference_string(ref)))
			return berth_error_set(err, ENOMEM, "out of memory");
		json_t *target = json_object_get(refs, full);
		if (!target) {
			_cleanup_free_ char *f = berth_reference_familiar(ref);
			return berth_error_set(err, ENOENT, "No such image: %s", f ? f : name);
		}
		r = assoc(sv, json_string_value(target), full, err);
		if (r < 0)
			return r;
	}
	if (sv->n == 0)
		return berth_error_set(err, EINVAL, "nothing to save");
	return 0;
}

/* the layers of each image from the layer table, with s->lock held; the lease holds them */
static int collect_layers(struct save *sv, struct berth_error **err)
{
	for (size_t i = 0; i < sv->n; i++) {
		struct save_image *img = &sv->img[i];
		json_t *rec = img_index_image(sv->s, img->id);
		size_t k;
		json_t *chain;

		img->layers = json_array();
		if (!img->layers || img_lease_hold_locked(sv->lease, img->id) < 0)
			return berth_error_set(err, ENOMEM, "out of memory");
		json_array_foreach (json_object_get(rec, "layers"), k, chain) {
			json_t *l = json_object_get(sv->s->layers, json_string_value(chain));
			if (!l)
				return berth_error_set(err, ENOENT, "image %s: layer %s is missing",
						       img->id, json_string_value(chain));
			if (json_array_append(img->layers, l) < 0 ||
			    img_lease_hold_locked(sv->lease, json_string_value(chain)) < 0)
				return berth_error_set(err, ENOMEM, "out of memory");
		}
	}
	return 0;
}

static json_t *platform_of(json_t *config)
{
	json_t *p = json_object();
	const char *arch = json_string_value(json_object_get(config, "architecture"));
	const char *os = json_string_value(json_object_get(config, "os"));
	const char *variant = json_string_value(json_object_get(config, "variant"));

	if (!p)
		return NULL;
	json_object_set_new(p, "architecture", json_string(arch ? arch : img_host_arch()));
	json_object_set_new(p, "os", json_string(os && *os ? os : "linux"));
	if (variant)
		json_object_set_new(p, "variant", json_string(variant));
	return p;
}

static int make_manifests(struct save *sv, struct berth_error **err)
{
	for (size_t i = 0; i < sv->n; i++) {
		struct save_image *img = &sv->img[i];
		_cleanup_free_ char *data = NULL;
		size_t len, k;
		json_t *l, *layers = json_array(), *m;
		int r;

		r = berth_blob_read(sv->s, img->id, sv->s->limits.max_json_size, &data, &len, err);
		if (r < 0) {
			json_decref(layers);
			return r;
		}
		img->config_size = len;
		img->config = json_loadb(data, len, 0, NULL);
		json_array_foreach (img->layers, k, l) {
			json_array_append_new(layers,
					      json_pack("{s:s, s:O, s:O}", "mediaType",
							"application/vnd.oci.image.layer.v1.tar",
							"digest", json_object_get(l, "diff_id"),
							"size", json_object_get(l, "tar_size")));
		}
		m = json_pack("{s:i, s:s, s:{s:s, s:s, s:I}, s:o}", "schemaVersion", 2, "mediaType",
			      "application/vnd.oci.image.manifest.v1+json", "config", "mediaType",
			      "application/vnd.oci.image.config.v1+json", "digest", img->id, "size",
			      (json_int_t)len, "layers", layers);
		if (!m || !img->config || !(img->manifest = json_dumps(m, JSON_COMPACT))) {
			json_decref(m);
			return berth_error_set(err, ENOMEM, "out of memory");
		}
		json_decref(m);
		berth_sha256_digest(img->manifest, strlen(img->manifest), img->manifest_digest);
	}
	return 0;
}

/* ---- writing ---------------------------------------------------------------------------- */

static int put_header(struct img_tar_writer *w, const char *name, mode_t type, uint64_t size,
		      struct berth_error **err)
{
	struct archive_entry *e = archive_entry_new();
	int r = 0;

	if (!e)
		return img_archive_new_failed(err);
	archive_entry_set_pathname(e, name);
	archive_entry_set_filetype(e, type);
	archive_entry_set_perm(e, type == AE_IFDIR ? 0755 : 0644);
	archive_entry_set_size(e, (la_int64_t)size);
	archive_entry_set_mtime(e, 0, 0);
	archive_entry_set_uid(e, 0);
	archive_entry_set_gid(e, 0);
	if (archive_write_header(w->a, e) < ARCHIVE_WARN)
		r = img_tar_writer_error(w, name, err);
	archive_entry_free(e);
	return r;
}

static int put_file(struct img_tar_writer *w, const char *name, const void *data, size_t len,
		    struct berth_error **err)
{
	int r = put_header(w, name, AE_IFREG, len, err);

	if (r == 0 && len && archive_write_data(w->a, data, len) < 0)
		r = img_tar_writer_error(w, name, err);
	return r;
}

static int put_json(struct img_tar_writer *w, const char *name, json_t *j, bool newline,
		    struct berth_error **err)
{
	_cleanup_free_ char *text = json_dumps(j, JSON_COMPACT);
	_cleanup_free_ char *withnl = NULL;

	if (!text || (newline && asprintf(&withnl, "%s\n", text) < 0))
		return berth_error_set(err, ENOMEM, "out of memory");
	return put_file(w, name, newline ? withnl : text, strlen(newline ? withnl : text), err);
}

/* a blob copied as it is */
static int put_blob_raw(struct save *sv, struct img_tar_writer *w, const char *name,
			const char *digest, uint64_t want, struct berth_error **err)
{
	_cleanup_close_ int fd = -EBADF;
	uint64_t size = 0, left;
	char *buf;
	int r;

	r = berth_blob_open(sv->s, digest, &fd, &size, err);
	if (r < 0)
		return r;
	if (size != want)
		return berth_error_set(err, EIO, "blob %s: %llu bytes, %llu expected", digest,
				       (unsigned long long)size, (unsigned long long)want);
	r = put_header(w, name, AE_IFREG, size, err);
	if (r < 0)
		return r;
	buf = malloc(64 * 1024);
	if (!buf)
		return berth_error_set(err, ENOMEM, "out of memory");
	for (left = size; left > 0 && r == 0;) {
		ssize_t n = read(fd, buf, left < 65536 ? left : 65536);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			r = n < 0 ? berth_error_sys(err, errno, "read blob %s", digest)
				  : berth_error_set(err, EIO, "blob %s: shorter than it was",
						    digest);
			break;
		}
		if (archive_write_data(w->a, buf, (size_t)n) < 0)
			r = img_tar_writer_error(w, name, err);
		left -= (uint64_t)n;
	}
	free(buf);
	return r;
}

/* a layer as its uncompressed tar, whatever its blob's compression; checked against its diff id */
static int put_layer(struct save *sv, struct img_tar_writer *w, const char *name, json_t *l,
		     struct berth_error **err)
{
	const char *diff = json_string_value(json_object_get(l, "diff_id"));
	const char *blob = json_string_value(json_object_get(l, "blob"));
	uint64_t tar_size = (uint64_t)json_integer_value(json_object_get(l, "tar_size"));
	struct img_tar_stream ts = {0};
	_cleanup_close_ int fd = -EBADF;
	char *buf;
	int r;

	if (strcmp(diff, blob) == 0)
		return put_blob_raw(sv, w, name, blob, tar_size, err);
	r = berth_blob_open(sv->s, blob, &fd, NULL, err);
	if (r < 0)
		return r;
	r = put_header(w, name, AE_IFREG, tar_size, err);
	if (r < 0)
		return r;
	r = img_tar_stream_open(&ts, fd, tar_size, false, err);
	buf = malloc(64 * 1024);
	if (r == 0 && !buf)
		r = berth_error_set(err, ENOMEM, "out of memory");
	while (r == 0) {
		ssize_t n = img_tar_stream_read(&ts, buf, 64 * 1024);
		if (n < 0)
			r = img_tar_stream_error(&ts, ts.decomp, "layer", err);
		else if (n == 0)
			break;
		else if (archive_write_data(w->a, buf, (size_t)n) < 0)
			r = img_tar_writer_error(w, name, err);
	}
	if (r == 0)
		r = img_tar_stream_drain(&ts, err);
	if (r == 0 && (ts.tar_bytes != tar_size || strcmp(ts.tar_digest, diff) != 0))
		r = berth_error_set(err, EIO, "layer %s: its blob %s decompresses to %s", diff,
				    blob, ts.tar_digest);
	free(buf);
	img_tar_stream_close(&ts);
	return r;
}

enum blob_kind { BLOB_CONFIG, BLOB_MANIFEST, BLOB_LAYER };

struct out_blob {
	const char *digest;
	enum blob_kind kind;
	struct save_image *img;
	json_t *layer;
};

static int cmp_blobs(const void *a, const void *b)
{
	return strcmp(((const struct out_blob *)a)->digest, ((const struct out_blob *)b)->digest);
}

static int write_archive(struct save *sv, int fd, struct berth_error **err)
{
	struct img_tar_writer w;
	struct out_blob *blobs = NULL;
	size_t nb = 0, cap = 0;
	json_t *manifest = json_array(), *repos = json_object(), *index_manifests = json_array();
	json_t *index = NULL;
	int r;

	if (!manifest || !repos || !index_manifests) {
		r = berth_error_set(err, ENOMEM, "out of memory");
		goto out;
	}
	/* every blob once, sorted */
	for (size_t i = 0; i < sv->n; i++) {
		struct save_image *img = &sv->img[i];
		size_t need = nb + 2 + json_array_size(img->layers);
		if (need > cap) {
			cap = need * 2;
			struct out_blob *nv = realloc(blobs, cap * sizeof(*nv));
			if (!nv) {
				r = berth_error_set(err, ENOMEM, "out of memory");
				goto out;
			}
			blobs = nv;
		}
		blobs[nb++] = (struct out_blob){img->id, BLOB_CONFIG, img, NULL};
		blobs[nb++] = (struct out_blob){img->manifest_digest, BLOB_MANIFEST, img, NULL};
		size_t k;
		json_t *l;
		json_array_foreach (img->layers, k, l) {
			blobs[nb++] =
				(struct out_blob){json_string_value(json_object_get(l, "diff_id")),
						  BLOB_LAYER, img, l};
		}
	}
	if (nb)
		qsort(blobs, nb, sizeof(*blobs), cmp_blobs);

	/* the documents */
	for (size_t i = 0; i < sv->n; i++) {
		struct save_image *img = &sv->img[i];
		json_t *layers = json_array(), *tags = json_array(), *item;
		size_t k, ntags = berth_strv_length(img->tags);
		json_t *l;
		char path[128];

		json_array_foreach (img->layers, k, l) {
			snprintf(path, sizeof(path), "blobs/sha256/%s",
				 json_string_value(json_object_get(l, "diff_id")) + 7);
			json_array_append_new(layers, json_string(path));
		}
		for (k = 0; k < ntags; k++) {
			_cleanup_reference_ struct berth_reference *ref = NULL;
			_cleanup_free_ char *fam = NULL, *famname = NULL;
			if (berth_reference_parse(img->tags[k], &ref, NULL) < 0 ||
			    !(fam = berth_reference_familiar(ref)) ||
			    !(famname = berth_reference_familiar_name(ref))) {
				r = berth_error_set(err, ENOMEM, "out of memory");
				goto out;
			}
			json_array_append_new(tags, json_string(fam));
			if (json_array_size(img->layers)) {
				json_t *repo = json_object_get(repos, famname);
				if (!repo)
					json_object_set_new(repos, famname, repo = json_object());
				json_object_set_new(
					repo, ref->tag,
					json_string(
						json_string_value(json_object_get(
							json_array_get(
								img->layers,
								json_array_size(img->layers) - 1),
							"diff_id")) +
						7));
			}
			json_array_append_new(
				index_manifests,
				json_pack("{s:s, s:s, s:I, s:{s:s, s:s}, s:o}", "mediaType",
					  "application/vnd.oci.image.manifest.v1+json", "digest",
					  img->manifest_digest, "size",
					  (json_int_t)strlen(img->manifest), "annotations",
					  "io.containerd.image.name", img->tags[k],
					  "org.opencontainers.image.ref.name", ref->tag, "platform",
					  platform_of(img->config)));
		}
		if (ntags == 0)
			json_array_append_new(
				index_manifests,
				json_pack("{s:s, s:s, s:I, s:o}", "mediaType",
					  "application/vnd.oci.image.manifest.v1+json", "digest",
					  img->manifest_digest, "size",
					  (json_int_t)strlen(img->manifest), "platform",
					  platform_of(img->config)));
		snprintf(path, sizeof(path), "blobs/sha256/%s", img->id + 7);
		item = json_pack("{s:s, s:o, s:o}", "Config", path, "RepoTags",
				 ntags ? tags : (json_decref(tags), json_null()), "Layers", layers);
		if (!item || json_array_append_new(manifest, item) < 0) {
			r = berth_error_set(err, ENOMEM, "out of memory");
			goto out;
		}
	}
	index = json_pack("{s:i, s:s, s:O}", "schemaVersion", 2, "mediaType",
			  "application/vnd.oci.image.index.v1+json", "manifests", index_manifests);
	if (!index) {
		r = berth_error_set(err, ENOMEM, "out of memory");
		goto out;
	}

	r = img_tar_writer_open(&w, fd, err);
	if (r < 0)
		goto out;
	r = put_header(&w, "blobs/", AE_IFDIR, 0, err);
	if (r == 0)
		r = put_header(&w, "blobs/sha256/", AE_IFDIR, 0, err);
	for (size_t i = 0; r == 0 && i < nb; i++) {
		char name[128];
		if (i > 0 && strcmp(blobs[i].digest, blobs[i - 1].digest) == 0)
			continue;
		snprintf(name, sizeof(name), "blobs/sha256/%s", blobs[i].digest + 7);
		switch (blobs[i].kind) {
		case BLOB_CONFIG:
			r = put_blob_raw(sv, &w, name, blobs[i].digest, blobs[i].img->config_size,
					 err);
			break;
		case BLOB_MANIFEST:
			r = put_file(&w, name, blobs[i].img->manifest,
				     strlen(blobs[i].img->manifest), err);
			break;
		case BLOB_LAYER:
			r = put_layer(sv, &w, name, blobs[i].layer, err);
			break;
		}
	}
	if (r == 0)
		r = put_json(&w, "index.json", index, false, err);
	if (r == 0)
		r = put_json(&w, "manifest.json", manifest, true, err);
	if (r == 0) {
		static const char layout[] = "{\"imageLayoutVersion\":\"1.0.0\"}";
		r = put_file(&w, "oci-layout", layout, strlen(layout), err);
	}
	if (r == 0 && json_object_size(repos))
		r = put_json(&w, "repositories", repos, true, err);
	if (r == 0)
		r = img_tar_writer_close(&w, err);
	img_tar_writer_release(&w);
out:
	free(blobs);
	json_decref(manifest);
	json_decref(repos);
	json_decref(index_manifests);
	json_decref(index);
	return r;
}

int berth_image_save(struct berth_image_store *s, char *const *names, int out_fd,
		     struct berth_error **err)
{
	struct save sv = {.s = s};
	bool named = false;
	int r;

	r = berth_image_lease_new(s, &sv.lease, err);
	if (r == 0) {
		pthread_mutex_lock(&s->lock);
		r = parse_names(&sv, names, err);
		named = r == 0;
		if (r == 0)
			r = collect_layers(&sv, err);
		pthread_mutex_unlock(&s->lock);
	}
	if (r == 0)
		r = make_manifests(&sv, err);
	if (r == 0)
		r = write_archive(&sv, out_fd, err);
	save_release(&sv);
	/* the names' errors are docker's own words ("No such image: x"): passed on as they are */
	return r < 0 && named ? berth_error_wrap(err, "save") : r;
}
