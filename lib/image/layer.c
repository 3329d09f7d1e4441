/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Layers: <data-root>/layers/<chain-id hex>/{diff/, layer.json}.  A layer is unpacked into
 * layers/.staging-<unique>/diff, its layer.json written beside it, the tree synced, and the
 * staging directory renamed to its chain id in one step: a layer under its name is always
 * complete.  A staging directory left by a crash is removed when the store is opened.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image-internal.h"

#include "base/banned.h"

unsigned img_layer_apply_flags(void)
{
	/* an unprivileged store cannot chown or set trusted.* xattrs: overlayfs' userxattr form */
	if (geteuid() == 0)
		return BERTH_TAR_WHITEOUTS;
	return BERTH_TAR_WHITEOUTS | BERTH_TAR_NO_OWNERS | BERTH_TAR_USER_XATTR;
}

void berth_layer_info_free(struct berth_layer_info *i)
{
	if (!i)
		return;
	free(i->chain_id);
	free(i->diff_id);
	free(i->parent);
	free(i->blob);
	free(i);
}

static int info_from_record(const char *chain, json_t *rec, struct berth_layer_info **ret,
			    struct berth_error **err)
{
	struct berth_layer_info *i = calloc(1, sizeof(*i));
	const char *parent = json_string_value(json_object_get(rec, "parent"));

	if (!i)
		return berth_error_set(err, ENOMEM, "out of memory");
	i->chain_id = strdup(chain);
	i->diff_id = strdup(json_string_value(json_object_get(rec, "diff_id")));
	i->blob = strdup(json_string_value(json_object_get(rec, "blob")));
	i->parent = parent ? strdup(parent) : NULL;
	i->size = (uint64_t)json_integer_value(json_object_get(rec, "size"));
	i->tar_size = (uint64_t)json_integer_value(json_object_get(rec, "tar_size"));
	if (!i->chain_id || !i->diff_id || !i->blob || (parent && !i->parent)) {
		berth_layer_info_free(i);
		return berth_error_set(err, ENOMEM, "out of memory");
	}
	*ret = i;
	return 0;
}

int berth_layer_inspect(struct berth_image_store *s, const char *chain_id,
			struct berth_layer_info **ret, struct berth_error **err)
{
	json_t *rec;
	int r;

	pthread_mutex_lock(&s->lock);
	rec = chain_id ? json_object_get(s->layers, chain_id) : NULL;
	r = rec ? info_from_record(chain_id, rec, ret, err)
		: berth_error_set(err, ENOENT, "no such layer: %s", chain_id ? chain_id : "");
	pthread_mutex_unlock(&s->lock);
	return r;
}

static void chain_of(const char *parent, const char *diff_id, char out[BERTH_DIGEST_SIZE])
{
	char buf[2 * BERTH_DIGEST_SIZE];

	if (!parent) {
		memcpy(out, diff_id, BERTH_DIGEST_SIZE);
		return;
	}
	berth_sha256_digest(buf, (size_t)snprintf(buf, sizeof(buf), "%s %s", parent, diff_id), out);
}

/* Read and hash a stream whose layer exists already: the archive must still be what it says. */
static int verify_only(struct berth_image_store *s, int fd, const char *expected,
		       struct img_tar_stream *ts, struct berth_error **err)
{
	int r = img_tar_stream_open(ts, fd, s->limits.max_layer_size, false, err);

	if (r == 0)
		r = img_tar_stream_drain(ts, err);
	if (r < 0)
		return r;
	if (strcmp(ts->tar_digest, expected) != 0)
		return berth_error_set(err, EINVAL, "diff id mismatch: the layer's tar is %s",
				       ts->tar_digest);
	return 0;
}

static int write_meta(int dirfd, json_t *rec, struct berth_error **err)
{
	_cleanup_free_ char *text = json_dumps(rec, JSON_COMPACT | JSON_SORT_KEYS);
	_cleanup_close_ int fd = -EBADF;
	int r;

	if (!text)
		return berth_error_set(err, ENOMEM, "out of memory");
	fd = openat(dirfd, "layer.json", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return berth_error_sys(err, errno, "create layer.json");
	r = berth_write_all(fd, text, strlen(text));
	if (r < 0)
		return berth_error_sys(err, -r, "write layer.json");
	return 0;
}

int img_layer_create(struct berth_image_store *s, int fd, const char *blob_digest,
		     const char *parent, const char *expected, struct berth_image_lease *lease,
		     const struct berth_image_progress_cb *progress, const char *action,
		     uint64_t total, struct berth_layer_info **ret, struct berth_error **err)
{
	struct img_tar_stream ts = {0};
	struct berth_blob_writer *tee = NULL;
	struct berth_tar_stats stats;
	_cleanup_free_ char *staging = NULL, *staging_path = NULL, *blob = NULL;
	_cleanup_close_ int stagefd = -EBADF, difffd = -EBADF;
	char chain[BERTH_DIGEST_SIZE];
	json_t *rec = NULL;
	bool exists = false;
	int r;

	if (!lease)
		return berth_error_set(err, EINVAL, "layer: a lease is required");
	if (parent && !berth_digest_is_sha256(parent))
		return berth_error_set(err, EINVAL, "layer: parent '%s' is not a chain id", parent);
	if (expected && !berth_digest_is_sha256(expected))
		return berth_error_set(err, EINVAL, "layer: diff id '%s' is not a sha256 digest",
				       expected);

	pthread_mutex_lock(&s->lock);
	r = 0;
	if (parent) {
		if (!json_object_get(s->layers, parent))
			r = berth_error_set(err, ENOENT, "layer: parent %s does not exist", parent);
		else if (img_lease_hold_locked(lease, parent) < 0)
			r = berth_error_set(err, ENOMEM, "out of memory");
	}
	if (r == 0 && expected) {
		chain_of(parent, expected, chain);
		exists = json_object_get(s->layers, chain) != NULL;
		if (exists && img_lease_hold_locked(lease, chain) < 0)
			r = berth_error_set(err, ENOMEM, "out of memory");
	}
	pthread_mutex_unlock(&s->lock);
	if (r < 0)
		return r;

	/* docker reports a layer it already has with no progress at all: only unpacking shows */
	ts.progress = exists ? NULL : progress;
	ts.prog.action = action;
	ts.prog.total = total;
	snprintf(ts.prog_id, sizeof(ts.prog_id), "%.12s", expected ? expected + 7 : "");
	ts.prog.id = ts.prog_id;
	img_progress(&ts, true);

	if (exists) {
		r = verify_only(s, fd, expected, &ts, err);
		img_tar_stream_close(&ts);
		if (r < 0)
			return r;
		return ret ? berth_layer_inspect(s, chain, ret, err) : 0;
	}

	staging = img_temp_name(s, ".staging-");
	if (!staging || asprintf(&staging_path, "%s/layers/%s", s->root, staging) < 0) {
		r = berth_error_set(err, ENOMEM, "out of memory");
		goto out;
	}
	if (mkdir(staging_path, 0700) < 0) {
		r = berth_error_sys(err, errno, "mkdir '%s'", staging_path);
		goto out;
	}
	stagefd = open(staging_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (stagefd < 0 || mkdirat(stagefd, "diff", 0755) < 0 ||
	    (difffd = openat(stagefd, "diff", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		r = berth_error_sys(err, errno, "make '%s/diff'", staging_path);
		goto out;
	}
	if (!blob_digest) {
		r = berth_blob_writer_new(s, NULL, -1, &tee, err);
		if (r < 0)
			goto out;
		ts.tee = tee;
	}
	r = img_tar_stream_open(&ts, fd, s->limits.max_layer_size, true, err);
	if (r == 0)
		r = img_tar_apply_stream(difffd, &ts, img_layer_apply_flags(), &s->limits, &stats,
					 err);
	if (r < 0)
		goto out;
	if (expected && strcmp(stats.diff_id, expected) != 0) {
		r = berth_error_set(err, EINVAL, "diff id mismatch: the layer's tar is %s",
				    stats.diff_id);
		goto out;
	}
	chain_of(parent, stats.diff_id, chain);
	if (blob_digest) {
		if (strcmp(ts.raw_digest, blob_digest) != 0) {
			r = berth_error_set(err, EIO, "blob %s changed: it hashes to %s",
					    blob_digest, ts.raw_digest);
			goto out;
		}
		blob = strdup(blob_digest);
	} else {
		r = berth_blob_writer_commit(tee, lease, &blob, err);
		if (r < 0)
			goto out;
	}
	if (!blob) {
		r = berth_error_set(err, ENOMEM, "out of memory");
		goto out;
	}
	rec = img_layer_record(chain, stats.diff_id, parent, blob, stats.size, stats.tar_size);
	if (!rec) {
		r = berth_error_set(err, ENOMEM, "out of memory");
		goto out;
	}
	r = write_meta(stagefd, rec, err);
	if (r < 0)
		goto out;
	/* the whole tree on disk before its name is */
	if (syncfs(stagefd) < 0) {
		r = berth_error_sys(err, errno, "sync '%s'", staging_path);
		goto out;
	}

	pthread_mutex_lock(&s->lock);
	if (json_object_get(s->layers, chain)) {
		/* made meanwhile by another operation: the same content, keep that one */
		r = img_lease_hold_locked(lease, chain);
	} else {
		char to[128];
		snprintf(to, sizeof(to), "layers/%s", chain + 7);
		r = img_lease_hold_locked(lease, chain);
		if (r == 0 && renameat2(s->rootfd, staging_path + strlen(s->root) + 1, s->rootfd,
					to, RENAME_NOREPLACE) < 0)
			r = -errno;
		if (r == 0) {
			json_object_set(s->layers, chain, rec);
			r = img_lease_created_locked(lease, chain, "layer");
			free(staging_path);
			staging_path = NULL;
		}
	}
	pthread_mutex_unlock(&s->lock);
	if (r < 0) {
		r = berth_error_sys(err, -r, "layer %s: move into place", chain);
		goto out;
	}
	if (ret)
		r = berth_layer_inspect(s, chain, ret, err);
out:
	img_tar_stream_close(&ts);
	berth_blob_writer_free(tee);
	json_decref(rec);
	if (staging_path)
		berth_rm_rf(staging_path, NULL);
	return r;
}

int berth_layer_create(struct berth_image_store *s, int fd, const char *parent,
		       const char *expected_diff_id, struct berth_image_lease *lease,
		       const struct berth_image_progress_cb *progress,
		       struct berth_layer_info **ret, struct berth_error **err)
{
	struct stat st;
	uint64_t total = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) ? (uint64_t)st.st_size : 0;
	int r;

	r = img_layer_create(s, fd, NULL, parent, expected_diff_id, lease, progress, "Extracting",
			     total, ret, err);
	return r < 0 ? berth_error_wrap(err, "layer") : 0;
}

struct berth_layer_staged {
	char *path; /* absolute: <root>/layers/.staging-... */
	char *blob;
	char diff_id[BERTH_DIGEST_SIZE];
	uint64_t size, tar_size;
};

void berth_layer_staged_free(struct berth_layer_staged *st)
{
	if (!st)
		return;
	if (st->path)
		berth_rm_rf(st->path, NULL);
	free(st->path);
	free(st->blob);
	free(st);
}

int berth_layer_unpack_blob(struct berth_image_store *s, const char *blob_digest,
			    const char *expected, struct berth_image_lease *lease,
			    const struct berth_image_progress_cb *progress,
			    struct berth_layer_staged **ret, struct berth_error **err)
{
	struct img_tar_stream ts = {0};
	struct berth_tar_stats stats;
	struct berth_layer_staged *st = NULL;
	_cleanup_free_ char *staging = NULL;
	_cleanup_close_ int fd = -EBADF, stagefd = -EBADF, difffd = -EBADF;
	uint64_t size = 0;
	int r;

	if (!lease)
		return berth_error_set(err, EINVAL, "layer: a lease is required");
	if (!expected || !berth_digest_is_sha256(expected))
		return berth_error_set(err, EINVAL, "layer: diff id '%s' is not a sha256 digest",
				       expected ? expected : "");
	if (berth_image_lease_add(lease, blob_digest) < 0)
		return berth_error_set(err, ENOMEM, "out of memory");
	r = berth_blob_open(s, blob_digest, &fd, &size, err);
	if (r < 0)
		return berth_error_wrap(err, "layer %s", blob_digest);
	st = calloc(1, sizeof(*st));
	staging = img_temp_name(s, ".staging-");
	if (!st || !staging || !(st->blob = strdup(blob_digest)) ||
	    asprintf(&st->path, "%s/layers/%s", s->root, staging) < 0) {
		if (st)
			st->path = NULL;
		berth_layer_staged_free(st);
		return berth_error_set(err, ENOMEM, "out of memory");
	}
	if (mkdir(st->path, 0700) < 0) {
		r = berth_error_sys(err, errno, "mkdir '%s'", st->path);
		free(st->path);
		st->path = NULL;
		goto out;
	}
	stagefd = open(st->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (stagefd < 0 || mkdirat(stagefd, "diff", 0755) < 0 ||
	    (difffd = openat(stagefd, "diff", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		r = berth_error_sys(err, errno, "make '%s/diff'", st->path);
		goto out;
	}
	ts.progress = progress;
	ts.prog.action = "Extracting";
	ts.prog.total = size;
	snprintf(ts.prog_id, sizeof(ts.prog_id), "%.12s", expected + 7);
	ts.prog.id = ts.prog_id;
	img_progress(&ts, true);
	r = img_tar_stream_open(&ts, fd, s->limits.max_layer_size, true, err);
	if (r == 0)
		r = img_tar_apply_stream(difffd, &ts, img_layer_apply_flags(), &s->limits, &stats,
					 err);
	if (r < 0)
		goto out;
	if (strcmp(stats.diff_id, expected) != 0) {
		r = berth_error_set(err, EINVAL, "diff id mismatch: the layer's tar is %s",
				    stats.diff_id);
		goto out;
	}
	if (strcmp(ts.raw_digest, blob_digest) != 0) {
		r = berth_error_set(err, EIO, "blob %s changed: it hashes to %s", blob_digest,
				    ts.raw_digest);
		goto out;
	}
	memcpy(st->diff_id, stats.diff_id, sizeof(st->diff_id));
	st->size = stats.size;
	st->tar_size = stats.tar_size;
	*ret = st;
	st = NULL;
out:
	img_tar_stream_close(&ts);
	berth_layer_staged_free(st);
	return r < 0 ? berth_error_wrap(err, "layer %s", blob_digest) : 0;
}

int berth_layer_commit(struct berth_image_store *s, struct berth_layer_staged *st,
		       const char *parent, struct berth_image_lease *lease,
		       struct berth_layer_info **ret, struct berth_error **err)
{
	_cleanup_close_ int stagefd = -EBADF;
	char chain[BERTH_DIGEST_SIZE];
	json_t *rec = NULL;
	bool moved = false;
	int r = 0;

	if (!lease)
		return berth_error_set(err, EINVAL, "layer: a lease is required");
	if (parent && !berth_digest_is_sha256(parent))
		return berth_error_set(err, EINVAL, "layer: parent '%s' is not a chain id", parent);
	pthread_mutex_lock(&s->lock);
	if (parent) {
		if (!json_object_get(s->layers, parent))
			r = berth_error_set(err, ENOENT, "layer: parent %s does not exist", parent);
		else if (img_lease_hold_locked(lease, parent) < 0)
			r = berth_error_set(err, ENOMEM, "out of memory");
	}
	pthread_mutex_unlock(&s->lock);
	if (r < 0)
		return r;
	chain_of(parent, st->diff_id, chain);
	rec = img_layer_record(chain, st->diff_id, parent, st->blob, st->size, st->tar_size);
	if (!rec)
		return berth_error_set(err, ENOMEM, "out of memory");
	stagefd = open(st->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (stagefd < 0) {
		json_decref(rec);
		return berth_error_sys(err, errno, "open '%s'", st->path);
	}
	r = write_meta(stagefd, rec, err);
	/* the whole tree on disk before its name is */
	if (r == 0 && syncfs(stagefd) < 0)
		r = berth_error_sys(err, errno, "sync '%s'", st->path);
	if (r < 0) {
		json_decref(rec);
		return r;
	}
	pthread_mutex_lock(&s->lock);
	r = img_lease_hold_locked(lease, chain);
	if (r == 0 && !json_object_get(s->layers, chain)) {
		char to[128];
		snprintf(to, sizeof(to), "layers/%s", chain + 7);
		if (renameat2(s->rootfd, st->path + strlen(s->root) + 1, s->rootfd, to,
			      RENAME_NOREPLACE) < 0)
			r = -errno;
		if (r == 0) {
			moved = true;
			json_object_set(s->layers, chain, rec);
			r = img_lease_created_locked(lease, chain, "layer");
		}
	}
	pthread_mutex_unlock(&s->lock);
	json_decref(rec);
	if (moved) {
		free(st->path);
		st->path = NULL;
	}
	if (r < 0)
		return berth_error_sys(err, -r, "layer %s: move into place", chain);
	return ret ? berth_layer_inspect(s, chain, ret, err) : 0;
}

int berth_layer_create_from_blob(struct berth_image_store *s, const char *blob_digest,
				 const char *parent, const char *expected_diff_id,
				 struct berth_image_lease *lease,
				 const struct berth_image_progress_cb *progress,
				 struct berth_layer_info **ret, struct berth_error **err)
{
	struct berth_layer_staged *st = NULL;
	int r = berth_layer_unpack_blob(s, blob_digest, expected_diff_id, lease, progress, &st,
					err);

	if (r == 0)
		r = berth_layer_commit(s, st, parent, lease, ret, err);
	berth_layer_staged_free(st);
	return r;
}
