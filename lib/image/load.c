/* SPDX-License-Identifier: Apache-2.0 */
/*
 * docker load and docker import.
 *
 * A load reads the archive once, in whatever order its members come, into flat files under
 * tmp/load-<unique>/ (member i is file "m<i>"; the name in the archive is only a key, never a
 * path on disk, so a hostile name cannot place anything).  Every member is hashed on the way.
 * Then the documents are read (manifest.json, or index.json and the manifests it names), every
 * blob checked against its digest, every layer unpacked (or, when the store has it, checked)
 * against the config's diff ids, and at last the images and tags are added to the index in one
 * write.  Everything made before that write belongs to a lease: any failure releases it with
 * rollback, so the store is as it was.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "image-internal.h"

#include "base/banned.h"

#define MAX_LINK_HOPS	40
#define MAX_INDEX_DEPTH 4

struct member {
	char *path; /* cleaned name in the archive */
	char *file; /* spool file name, or NULL for a link */
	char *link; /* a link's target, cleaned, relative to the archive root */
	uint64_t size;
	char digest[BERTH_DIGEST_SIZE];
	bool adopted; /* moved into the blob store */
};

struct plan {
	char *id; /* the config's digest */
	struct member *config;
	struct member **layers;
	size_t n_layers;
	char **tags;  /* full references */
	char *parent; /* as the archive says (validated later) */
	struct img_config cfg;
	char **chains;
};

struct load {
	struct berth_image_store *s;
	char *dir; /* "tmp/load-..." relative to the data root */
	int dirfd;
	struct member *m;
	size_t n, cap;
	json_t *by_path; /* path -> index + 1 (a later member of the same name wins) */
	struct plan *plans;
	size_t n_plans;
	struct berth_image_lease *lease;
	const struct berth_image_progress_cb *progress;
};

static void plan_release(struct plan *p)
{
	free(p->id);
	free(p->layers);
	berth_strv_free(p->tags);
	free(p->parent);
	img_config_release(&p->cfg);
	berth_strv_free(p->chains);
}

static void load_release(struct load *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->m[i].path);
		free(l->m[i].file);
		free(l->m[i].link);
	}
	free(l->m);
	for (size_t i = 0; i < l->n_plans; i++)
		plan_release(&l->plans[i]);
	free(l->plans);
	json_decref(l->by_path);
	if (l->dirfd >= 0)
		close(l->dirfd);
	if (l->dir) {
		_cleanup_free_ char *path = NULL;
		if (asprintf(&path, "%s/%s", l->s->root, l->dir) >= 0)
			berth_rm_rf(path, NULL);
		free(l->dir);
	}
}

/* ---- reading the archive ---------------------------------------------------------------- */

static struct member *new_member(struct load *l, const char *path, struct berth_error **err)
{
	struct member *m;

	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		struct member *nm = realloc(l->m, cap * sizeof(*nm));
		if (!nm) {
			berth_error_set(err, ENOMEM, "out of memory");
			return NULL;
		}
		l->m = nm;
		l->cap = cap;
	}
	m = &l->m[l->n];
	memset(m, 0, sizeof(*m));
	if (!(m->path = strdup(path)) ||
	    json_object_set_new(l->by_path, path, json_integer((json_int_t)l->n + 1)) < 0) {
		free(m->path);
		berth_error_set(err, ENOMEM, "out of memory");
		return NULL;
	}
	l->n++;
	return m;
}

/* a link target as a path from the archive root: relative to the link's directory */
static int link_target(const char *member, const char *target, bool symlink, char **ret)
{
	_cleanup_free_ char *joined = NULL;
	const char *slash = strrchr(member, '/');

	if (!symlink || target[0] == '/')
		return img_clean_path(target, ret);
	if (asprintf(&joined, "%.*s/%s", slash ? (int)(slash - member) : 0, member, target) < 0)
		return -ENOMEM;
	return img_clean_path(joined, ret);
}

static int spool(struct load *l, struct img_tar_stream *ts, struct archive_entry *e,
		 struct member *m, struct berth_error **err)
{
	_cleanup_close_ int fd = -EBADF;
	struct img_sha256 h = {0};
	char name[32];
	int r = 0;

	snprintf(name, sizeof(name), "m%zu", l->n - 1);
	if (!(m->file = strdup(name)))
		return berth_error_set(err, ENOMEM, "out of memory");
	fd = openat(l->dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return berth_error_sys(err, errno, "create '%s/%s'", l->dir, name);
	if (img_sha256_init(&h) < 0)
		return berth_error_set(err, ENOMEM, "out of memory");
	for (;;) {
		const void *buf;
		size_t size;
		la_int64_t offset;
		int a = archive_read_data_block(ts->tar, &buf, &size, &offset);
		if (a == ARCHIVE_EOF)
			break;
		if (a < ARCHIVE_WARN) {
			_cleanup_free_ char *what = NULL;
			if (asprintf(&what, "member '%s'", m->path) < 0)
				what = NULL;
			r = img_tar_stream_error(ts, ts->tar, what ? what : "member", err);
			break;
		}
		if ((uint64_t)offset != m->size) {
			/* a sparse member: docker archives have none */
			r = berth_error_set(err, EINVAL,
					    "member '%s': sparse members are not supported",
					    m->path);
			break;
		}
		r = berth_write_all(fd, buf, size);
		if (r < 0) {
			r = berth_error_sys(err, -r, "write '%s/%s'", l->dir, name);
			break;
		}
		img_sha256_update(&h, buf, size);
		m->size += size;
	}
	if (r == 0)
		img_sha256_final(&h, m->digest);
	img_sha256_release(&h);
	(void)e;
	return r;
}

static int read_archive(struct load *l, int fd, struct berth_error **err)
{
	const struct berth_image_limits *lim = &l->s->limits;
	struct img_tar_stream ts = {0};
	uint64_t entries = 0;
	int r;

	r = img_tar_stream_open(&ts, fd, lim->max_archive_size, true, err);
	while (r == 0) {
		struct archive_entry *e;
		_cleanup_free_ char *path = NULL;
		const char *raw;
		struct member *m;
		mode_t type;
		int a = archive_read_next_header(ts.tar, &e);

		if (a == ARCHIVE_EOF)
			break;
		if (a < ARCHIVE_WARN) {
			r = img_tar_stream_error(&ts, ts.tar, "read archive", err);
			break;
		}
		if (++entries > lim->max_entries) {
			r = berth_error_set(err, EFBIG, "archive: more than %u members",
					    lim->max_entries);
			break;
		}
		raw = archive_entry_pathname(e);
		if (!raw) {
			r = berth_error_set(err, EINVAL, "archive: member without a name");
			break;
		}
		if (strlen(raw) > lim->max_path) {
			r = berth_error_set(err, EFBIG, "archive: member name longer than %u bytes",
					    lim->max_path);
			break;
		}
		r = img_clean_path(raw, &path);
		if (r < 0) {
			r = berth_error_set(err, EINVAL, "archive: member '%s' leaves the archive",
					    raw);
			break;
		}
		type = archive_entry_filetype(e);
		if (type == AE_IFDIR || !*path)
			continue;
		if (archive_entry_hardlink(e) || type == AE_IFLNK) {
			const char *t = archive_entry_hardlink(e) ?: archive_entry_symlink(e);
			if (!t || strlen(t) > lim->max_path) {
				r = berth_error_set(err, EINVAL, "archive: member '%s': bad link",
						    path);
				break;
			}
			if (!(m = new_member(l, path, err))) {
				r = -ENOMEM;
				break;
			}
			r = link_target(path, t, type == AE_IFLNK && !archive_entry_hardlink(e),
					&m->link);
			if (r < 0) {
				r = berth_error_set(err, EINVAL,
						    "archive: member '%s': link to '%s' leaves the "
						    "archive",
						    path, t);
				break;
			}
			continue;
		}
		if (type != AE_IFREG) {
			r = berth_error_set(err, EINVAL,
					    "archive: member '%s': unsupported type 0%o", path,
					    (unsigned)type);
			break;
		}
		if (!(m = new_member(l, path, err))) {
			r = -ENOMEM;
			break;
		}
		r = spool(l, &ts, e, m, err);
	}
	if (r == 0)
		r = img_tar_stream_drain(&ts, err);
	img_tar_stream_close(&ts);
	return r;
}

/* A member by name, links followed; NULL with *err when absent. */
static struct member *member(struct load *l, const char *name, struct berth_error **err)
{
	_cleanup_free_ char *path = NULL;

	if (img_clean_path(name, &path) < 0) {
		berth_error_set(err, EINVAL, "'%s' leaves the archive", name);
		return NULL;
	}
	for (int hops = 0; hops < MAX_LINK_HOPS; hops++) {
		json_t *i = json_object_get(l->by_path, path);
		struct member *m;
		if (!i) {
			berth_error_set(err, EINVAL, "'%s' is not in the archive", name);
			return NULL;
		}
		m = &l->m[json_integer_value(i) - 1];
		if (m->file)
			return m;
		free(path);
		path = strdup(m->link);
		if (!path) {
			berth_error_set(err, ENOMEM, "out of memory");
			return NULL;
		}
	}
	berth_error_set(err, EINVAL, "'%s': too many levels of links", name);
	return NULL;
}

static int read_member(struct load *l, struct member *m, char **ret, size_t *ret_len,
		       struct berth_error **err)
{
	if (m->size > l->s->limits.max_json_size)
		return berth_error_set(err, EFBIG, "'%s': larger than %llu bytes", m->path,
				       (unsigned long long)l->s->limits.max_json_size);
	if (berth_read_file_at(l->dirfd, m->file, l->s->limits.max_json_size, ret, ret_len, err) <
	    0)
		return berth_error_wrap(err, "'%s'", m->path);
	return 0;
}

/* Every member named blobs/<alg>/<hex> must be what its name says. */
static int check_blob_names(struct load *l, struct berth_error **err)
{
	for (size_t i = 0; i < l->n; i++) {
		struct member *m = &l->m[i];
		if (!m->file || !berth_str_has_prefix(m->path, "blobs/"))
			continue;
		const char *alg = m->path + 6;
		const char *slash = strchr(alg, '/');
		if (!slash || strchr(slash + 1, '/'))
			continue;
		if (strncmp(alg, "sha256/", 7) != 0)
			continue; /* other algorithms: checked when used, never stored */
		if (strcmp(slash + 1, m->digest + 7) != 0)
			return berth_error_set(err, EINVAL,
					       "blob '%s': digest mismatch: its content is %s",
					       m->path, m->digest);
	}
	return 0;
}

/* ---- plans: what each image is made of -------------------------------------------------- */

static struct plan *new_plan(struct load *l, struct berth_error **err)
{
	struct plan *p;

	if (l->n_plans >= l->s->limits.max_images) {
		berth_error_set(err, EFBIG, "more than %u images", l->s->limits.max_images);
		return NULL;
	}
	p = realloc(l->plans, (l->n_plans + 1) * sizeof(*p));
	if (!p) {
		berth_error_set(err, ENOMEM, "out of memory");
		return NULL;
	}
	l->plans = p;
	p = &l->plans[l->n_plans++];
	memset(p, 0, sizeof(*p));
	p->tags = calloc(1, sizeof(char *));
	if (!p->tags) {
		berth_error_set(err, ENOMEM, "out of memory");
		return NULL;
	}
	return p;
}

static int plans_from_docker_manifest(struct load *l, struct member *mf, struct berth_error **err)
{
	_cleanup_free_ char *data = NULL;
	struct img_archive_item *items = NULL;
	size_t len, n = 0;
	int r;

	r = read_member(l, mf, &data, &len, err);
	if (r == 0)
		r = img_parse_docker_manifest(data, len, &l->s->limits, &items, &n, err);
	for (size_t i = 0; r == 0 && i < n; i++) {
		struct plan *p = new_plan(l, err);
		if (!p) {
			r = -EINVAL;
			break;
		}
		p->config = member(l, items[i].config, err);
		if (!p->config) {
			r = berth_error_wrap(err, "manifest.json[%zu].Config", i);
			break;
		}
		p->n_layers = berth_strv_length(items[i].layers);
		p->layers = calloc(p->n_layers + 1, sizeof(*p->layers));
		if (!p->layers) {
			r = berth_error_set(err, ENOMEM, "out of memory");
			break;
		}
		for (size_t k = 0; r == 0 && k < p->n_layers; k++) {
			p->layers[k] = member(l, items[i].layers[k], err);
			if (!p->layers[k])
				r = berth_error_wrap(err, "manifest.json[%zu].Layers[%zu]", i, k);
		}
		for (size_t k = 0; r == 0 && items[i].repo_tags[k]; k++) {
			_cleanup_reference_ struct berth_reference *ref = NULL;
			_cleanup_free_ char *full = NULL;
			r = berth_reference_parse(items[i].repo_tags[k], &ref, err);
			if (r < 0) {
				r = berth_error_wrap(err, "manifest.json[%zu].RepoTags '%s'", i,
						     items[i].repo_tags[k]);
				break;
			}
			if (!ref->tag || ref->digest) {
				r = berth_error_set(err, EINVAL, "invalid tag \"%s\"",
						    items[i].repo_tags[k]);
				break;
			}
			if (!(full = berth_reference_string(ref)) ||
			    berth_strv_push(&p->tags, full) < 0)
				r = berth_error_set(err, ENOMEM, "out of memory");
		}
		if (r == 0 && items[i].parent)
			p->parent = strdup(items[i].parent);
	}
	img_archive_items_free(items, n);
	return r;
}

static struct member *blob_member(struct load *l, const struct img_descriptor *d,
				  struct berth_error **err)
{
	_cleanup_free_ char *path = NULL;
	const char *colon = strchr(d->digest, ':');
	struct member *m;

	if (!colon ||
	    asprintf(&path, "blobs/%.*s/%s", (int)(colon - d->digest), d->digest, colon + 1) < 0) {
		berth_error_set(err, ENOMEM, "out of memory");
		return NULL;
	}
	m = member(l, path, err);
	if (!m)
		return NULL;
	if (strcmp(m->digest, d->digest) != 0) {
		berth_error_set(err, EINVAL, "blob %s: digest mismatch: its content is %s",
				d->digest, m->digest);
		return NULL;
	}
	if (d->size >= 0 && (uint64_t)d->size != m->size) {
		berth_error_set(err, EINVAL, "blob %s: size mismatch: %llu bytes, %lld expected",
				d->digest, (unsigned long long)m->size, (long long)d->size);
		return NULL;
	}
	return m;
}

static bool is_index_type(const char *mt)
{
	return !strcmp(mt, "application/vnd.oci.image.index.v1+json") ||
	       !strcmp(mt, "application/vnd.docker.distribution.manifest.list.v2+json");
}

static bool is_manifest_type(const char *mt)
{
	return !strcmp(mt, "application/vnd.oci.image.manifest.v1+json") ||
	       !strcmp(mt, "application/vnd.docker.distribution.manifest.v2+json");
}

static bool is_layer_type(const char *mt)
{
	static const char *const ok[] = {
		"application/vnd.oci.image.layer.v1.tar",
		"application/vnd.oci.image.layer.v1.tar+gzip",
		"application/vnd.oci.image.layer.v1.tar+zstd",
		"application/vnd.docker.image.rootfs.diff.tar",
		"application/vnd.docker.image.rootfs.diff.tar.gzip",
		"application/vnd.docker.image.rootfs.diff.tar.zstd",
		"application/vnd.oci.image.layer.nondistributable.v1.tar",
		"application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
		"application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
		"application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
	};
	for (size_t i = 0; i < ARRAY_SIZE(ok); i++)
		if (strcmp(mt, ok[i]) == 0)
			return true;
	return false;
}

static int plan_from_manifest(struct load *l, const struct img_descriptor *md, const char *name,
			      struct berth_error **err)
{
	_cleanup_free_ char *data = NULL;
	struct img_descriptor config = {0}, *layers = NULL;
	size_t len, n = 0;
	struct member *mm;
	struct plan *p;
	int r;

	mm = blob_member(l, md, err);
	if (!mm)
		return -EINVAL;
	r = read_member(l, mm, &data, &len, err);
	if (r == 0)
		r = img_parse_oci_manifest(data, len, &l->s->limits, &config, &layers, &n, err);
	if (r < 0)
		return r;
	p = new_plan(l, err);
	if (!p) {
		r = -EINVAL;
		goto out;
	}
	if (*config.media_type &&
	    strcmp(config.media_type, "application/vnd.oci.image.config.v1+json") &&
	    strcmp(config.media_type, "application/vnd.docker.container.image.v1+json")) {
		r = berth_error_set(err, EINVAL,
				    "manifest %s: config media type '%s' is not an image",
				    md->digest, config.media_type);
		goto out;
	}
	p->config = blob_member(l, &config, err);
	if (!p->config) {
		r = berth_error_wrap(err, "manifest %s: config", md->digest);
		goto out;
	}
	p->n_layers = n;
	p->layers = calloc(n + 1, sizeof(*p->layers));
	if (!p->layers) {
		r = berth_error_set(err, ENOMEM, "out of memory");
		goto out;
	}
	for (size_t k = 0; k < n; k++) {
		if (*layers[k].media_type && !is_layer_type(layers[k].media_type)) {
			r = berth_error_set(err, EINVAL,
					    "manifest %s: layer %s: unsupported media type '%s'",
					    md->digest, layers[k].digest, layers[k].media_type);
			goto out;
		}
		p->layers[k] = blob_member(l, &layers[k], err);
		if (!p->layers[k]) {
			r = berth_error_wrap(err, "manifest %s: layer", md->digest);
			goto out;
		}
	}
	if (name) {
		_cleanup_reference_ struct berth_reference *ref = NULL;
		_cleanup_free_ char *full = NULL;
		r = berth_reference_parse(name, &ref, err);
		if (r < 0) {
			r = berth_error_wrap(err, "image name '%s'", name);
			goto out;
		}
		if (ref->tag && !ref->digest) {
			if (!(full = berth_reference_string(ref)) ||
			    berth_strv_push(&p->tags, full) < 0) {
				r = berth_error_set(err, ENOMEM, "out of memory");
				goto out;
			}
		}
	}
out:
	img_descriptor_release(&config);
	img_descriptors_free(layers, n);
	return r;
}

static bool platform_matches(const struct img_descriptor *d)
{
	if (!d->platform_os && !d->platform_arch)
		return true;
	return berth_streq(d->platform_os, "linux") &&
	       berth_streq(d->platform_arch, img_host_arch());
}

static int plans_from_index(struct load *l, const char *data, size_t len, const char *name,
			    int depth, struct berth_error **err)
{
	struct img_descriptor *d = NULL;
	size_t n = 0;
	bool nested_done = false;
	int r;

	if (depth > MAX_INDEX_DEPTH)
		return berth_error_set(err, EINVAL, "indexes nested more than %d deep",
				       MAX_INDEX_DEPTH);
	r = img_parse_oci_index(data, len, &l->s->limits, &d, &n, err);
	for (size_t i = 0; r == 0 && i < n; i++) {
		const char *nm = d[i].name ? d[i].name : name;
		if (is_manifest_type(d[i].media_type) || (!*d[i].media_type && depth == 0)) {
			if (depth > 0 && (nested_done || !platform_matches(&d[i])))
				continue; /* a multi-platform index: this machine's image only */
			r = plan_from_manifest(l, &d[i], nm, err);
			nested_done = depth > 0;
		} else if (is_index_type(d[i].media_type)) {
			_cleanup_free_ char *sub = NULL;
			size_t sublen;
			struct member *m = blob_member(l, &d[i], err);
			if (!m)
				r = -EINVAL;
			if (r == 0)
				r = read_member(l, m, &sub, &sublen, err);
			if (r == 0)
				r = plans_from_index(l, sub, sublen, nm, depth + 1, err);
		} else {
			r = berth_error_set(err, EINVAL,
					    "index: manifest %s: unsupported media type '%s'",
					    d[i].digest, d[i].media_type);
		}
	}
	img_descriptors_free(d, n);
	if (r == 0 && depth > 0 && !nested_done)
		return berth_error_set(err, EINVAL, "index: no image for linux/%s",
				       img_host_arch());
	return r;
}

/* Read each plan's config, match its diff ids to its layers, compute the chain. */
static int check_plans(struct load *l, struct berth_error **err)
{
	for (size_t i = 0; i < l->n_plans; i++) {
		struct plan *p = &l->plans[i];
		_cleanup_free_ char *data = NULL;
		size_t len;
		int r;

		r = read_member(l, p->config, &data, &len, err);
		if (r < 0)
			return r;
		r = img_parse_config(data, len, &l->s->limits, &p->cfg, err);
		if (r < 0)
			return berth_error_wrap(err, "image %s", p->config->digest);
		if (p->cfg.n_diff_ids != p->n_layers)
			return berth_error_set(
				err, EINVAL,
				"image %s: invalid manifest, layers length mismatch: "
				"expected %zu, got %zu",
				p->config->digest, p->n_layers, p->cfg.n_diff_ids);
		if (!(p->id = strdup(p->config->digest)))
			return berth_error_set(err, ENOMEM, "out of memory");
		r = berth_chain_ids(p->cfg.diff_ids, p->cfg.n_diff_ids, &p->chains, err);
		if (r < 0)
			return r;
	}
	return 0;
}

/* docker's validatedParentLinks + checkValidParent: a parent must be loaded with its child */
static const char *valid_parent(struct load *l, struct plan *p)
{
	json_t *hc, *hp;
	struct plan *parent = NULL;

	if (!p->parent || strcmp(p->parent, p->id) == 0)
		return NULL;
	for (size_t i = 0; i < l->n_plans; i++)
		if (strcmp(l->plans[i].id, p->parent) == 0)
			parent = &l->plans[i];
	if (!parent)
		return NULL;
	hc = json_object_get(p->cfg.json, "history");
	hp = json_object_get(parent->cfg.json, "history");
	if (json_array_size(hc) == 0 && json_array_size(hp) == 0)
		return parent->id;
	if (json_array_size(hc) != json_array_size(hp) + 1)
		return NULL;
	for (size_t i = 0; i < json_array_size(hp); i++)
		if (!json_equal(json_array_get(hc, i), json_array_get(hp, i)))
			return NULL;
	return parent->id;
}

/* ---- putting it in the store ------------------------------------------------------------ */

static int adopt(struct load *l, struct member *m, struct berth_error **err)
{
	int r;

	if (m->adopted)
		return 0;
	r = img_blob_adopt(l->s, l->dirfd, m->file, m->digest, l->lease, err);
	if (r < 0)
		return r;
	m->adopted = true;
	return 0;
}

static int unpack_layers(struct load *l, struct berth_error **err)
{
	for (size_t i = 0; i < l->n_plans; i++) {
		struct plan *p = &l->plans[i];
		int r = adopt(l, p->config, err);
		if (r < 0)
			return r;
		for (size_t k = 0; k < p->n_layers; k++) {
			struct member *m = p->layers[k];
			_cleanup_close_ int fd = -EBADF;

			r = adopt(l, m, err);
			if (r == 0)
				r = berth_blob_open(l->s, m->digest, &fd, NULL, err);
			if (r == 0)
				r = img_layer_create(l->s, fd, m->digest,
						     k ? p->chains[k - 1] : NULL,
						     p->cfg.diff_ids[k], l->lease, l->progress,
						     "Loading layer", m->size, NULL, err);
			if (r < 0)
				return berth_error_wrap(err, "layer '%s' (diff id %s)", m->path,
							p->cfg.diff_ids[k]);
		}
	}
	return 0;
}

static int commit(struct load *l, struct berth_image_load_result *res, struct berth_error **err)
{
	struct berth_image_store *s = l->s;
	json_t *idx;
	int r = 0;

	res->images = calloc(l->n_plans ? l->n_plans : 1, sizeof(*res->images));
	if (!res->images)
		return berth_error_set(err, ENOMEM, "out of memory");
	pthread_mutex_lock(&s->lock);
	idx = json_deep_copy(s->index);
	if (!idx)
		r = berth_error_set(err, ENOMEM, "out of memory");
	for (size_t i = 0; r == 0 && i < l->n_plans; i++) {
		struct plan *p = &l->plans[i];
		r = img_image_add_to(s, idx, p->id, p->chains, p->cfg.diff_ids, NULL, err);
		if (r < 0)
			r = berth_error_wrap(err, "image %s", p->id);
	}
	/* parents once every image of the archive is in */
	for (size_t i = 0; r == 0 && i < l->n_plans; i++) {
		const char *parent = valid_parent(l, &l->plans[i]);
		json_t *rec = json_object_get(json_object_get(idx, "images"), l->plans[i].id);
		if (parent && rec)
			json_object_set_new(rec, "parent", json_string(parent));
	}
	for (size_t i = 0; r == 0 && i < l->n_plans; i++) {
		struct plan *p = &l->plans[i];
		struct berth_image_loaded *out = &res->images[res->n_images++];
		size_t n = berth_strv_length(p->tags);

		out->id = strdup(p->id);
		out->tags = calloc(n + 1, sizeof(char *));
		out->previous_ids = calloc(n + 1, sizeof(char *));
		if (!out->id || !out->tags || !out->previous_ids) {
			r = berth_error_set(err, ENOMEM, "out of memory");
			break;
		}
		for (size_t k = 0; k < n; k++) {
			const char *prev = json_string_value(
				json_object_get(json_object_get(idx, "references"), p->tags[k]));
			out->tags[k] = strdup(p->tags[k]);
			out->previous_ids[k] = prev && strcmp(prev, p->id) ? strdup(prev) : NULL;
			out->n_tags++;
			if (!out->tags[k] || img_set_ref(idx, p->tags[k], p->id, false) < 0) {
				r = berth_error_set(err, ENOMEM, "out of memory");
				break;
			}
		}
	}
	if (r == 0 && !json_equal(idx, s->index))
		r = img_index_commit(s, idx, err);
	pthread_mutex_unlock(&s->lock);
	json_decref(idx);
	return r;
}

void berth_image_load_result_release(struct berth_image_load_result *r)
{
	for (size_t i = 0; r->images && i < r->n_images; i++) {
		free(r->images[i].id);
		for (size_t k = 0; k < r->images[i].n_tags; k++) {
			free(r->images[i].tags[k]);
			free(r->images[i].previous_ids[k]);
		}
		free(r->images[i].tags);
		free(r->images[i].previous_ids);
	}
	free(r->images);
	memset(r, 0, sizeof(*r));
}

int berth_image_load(struct berth_image_store *s, int fd,
		     const struct berth_image_progress_cb *progress,
		     struct berth_image_load_result *ret, struct berth_error **err)
{
	struct load l = {.s = s, .dirfd = -EBADF, .progress = progress};
	struct berth_image_load_result res = {0};
	_cleanup_free_ char *name = NULL;
	struct member *mf;
	int r;

	memset(ret, 0, sizeof(*ret));
	name = img_temp_name(s, "load-");
	l.by_path = json_object();
	if (!name || !l.by_path || asprintf(&l.dir, "tmp/%s", name) < 0) {
		r = berth_error_set(err, ENOMEM, "out of memory");
		goto out;
	}
	if (mkdirat(s->rootfd, l.dir, 0700) < 0 ||
	    (l.dirfd = openat(s->rootfd, l.dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		r = berth_error_sys(err, errno, "mkdir '%s/%s'", s->root, l.dir);
		goto out;
	}
	r = berth_image_lease_new(s, &l.lease, err);
	if (r == 0)
		r = read_archive(&l, fd, err);
	if (r == 0)
		r = check_blob_names(&l, err);
	if (r < 0)
		goto out;

	if (json_object_get(l.by_path, "manifest.json")) {
		mf = member(&l, "manifest.json", err);
		r = mf ? plans_from_docker_manifest(&l, mf, err) : -EINVAL;
	} else if (json_object_get(l.by_path, "index.json")) {
		_cleanup_free_ char *data = NULL;
		size_t len;
		if (!json_object_get(l.by_path, "oci-layout")) {
			r = berth_error_set(err, EINVAL, "index.json without oci-layout");
			goto out;
		}
		mf = member(&l, "index.json", err);
		r = mf ? read_member(&l, mf, &data, &len, err) : -EINVAL;
		if (r == 0)
			r = plans_from_index(&l, data, len, NULL, 0, err);
	} else {
		r = berth_error_set(err, EINVAL,
				    "neither manifest.json nor index.json: not an image archive");
	}
	if (r == 0 && l.n_plans == 0)
		r = berth_error_set(err, EINVAL, "no images in the archive");
	if (r == 0)
		r = check_plans(&l, err);
	if (r == 0)
		r = unpack_layers(&l, err);
	if (r == 0)
		r = commit(&l, &res, err);
out:
	if (l.lease)
		berth_image_lease_release(l.lease, r < 0);
	load_release(&l);
	if (r < 0) {
		berth_image_load_result_release(&res);
		return berth_error_wrap(err, "load");
	}
	*ret = res;
	return 0;
}

/* ---- import ----------------------------------------------------------------------------- */

int berth_image_import(struct berth_image_store *s, int fd, const json_t *config, const char *ref,
		       const struct berth_image_progress_cb *progress, char **ret_id,
		       struct berth_error **err)
{
	struct berth_image_lease *lease = NULL;
	struct berth_layer_info *layer = NULL;
	_cleanup_free_ char *full = NULL, *text = NULL, *id = NULL;
	_cleanup_strv_ char **chains = NULL;
	struct img_config parsed = {0};
	json_t *cfg = NULL, *idx = NULL;
	struct stat st;
	int r;

	if (!json_is_object(config))
		return berth_error_set(err, EINVAL, "import: the config is not an object");
	if (ref && (r = img_tag_target(ref, &full, err)) < 0)
		return r;
	r = berth_image_lease_new(s, &lease, err);
	if (r == 0)
		r = img_layer_create(
			s, fd, NULL, NULL, NULL, lease, progress, "Importing",
			fstat(fd, &st) == 0 && S_ISREG(st.st_mode) ? (uint64_t)st.st_size : 0,
			&layer, err);
	if (r < 0)
		goto out;
	cfg = json_deep_copy(config);
	if (!cfg ||
	    json_object_set_new(
		    cfg, "rootfs",
		    json_pack("{s:s, s:[s]}", "type", "layers", "diff_ids", layer->diff_id)) < 0 ||
	    !(text = json_dumps(cfg, JSON_COMPACT))) {
		r = berth_error_set(err, ENOMEM, "out of memory");
		goto out;
	}
	r = img_parse_config(text, strlen(text), &s->limits, &parsed, err);
	if (r == 0)
		r = berth_chain_ids(parsed.diff_ids, parsed.n_diff_ids, &chains, err);
	if (r == 0)
		r = berth_blob_write(s, text, strlen(text), NULL, lease, &id, err);
	if (r < 0)
		goto out;

	pthread_mutex_lock(&s->lock);
	idx = json_deep_copy(s->index);
	r = idx ? img_image_add_to(s, idx, id, chains, parsed.diff_ids, NULL, err)
		: berth_error_set(err, ENOMEM, "out of memory");
	if (r == 0 && full && img_set_ref(idx, full, id, true) < 0)
		r = berth_error_set(err, ENOMEM, "out of memory");
	if (r == 0)
		r = img_index_commit(s, idx, err);
	pthread_mutex_unlock(&s->lock);
	if (r == 0 && ret_id)
		*ret_id = TAKE_PTR(id);
out:
	if (lease)
		berth_image_lease_release(lease, r < 0);
	berth_layer_info_free(layer);
	img_config_release(&parsed);
	json_decref(cfg);
	json_decref(idx);
	return r < 0 ? berth_error_wrap(err, "import") : 0;
}
