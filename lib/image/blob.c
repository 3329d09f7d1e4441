/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Blobs: <data-root>/blobs/sha256/<hex>.  A blob is written to tmp/ first, hashed as it comes,
 * fsync'd, and renamed into place with RENAME_NOREPLACE once its digest is known to be right: a
 * blob under its name is always whole and always what its name says.
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

int img_blob_relpath(const char *digest, char *buf, size_t size)
{
	if (!berth_digest_is_sha256(digest))
		return -EINVAL;
	if ((size_t)snprintf(buf, size, "blobs/sha256/%s", digest + 7) >= size)
		return -ENAMETOOLONG;
	return 0;
}

static int check_digest(const char *digest, struct berth_error **err)
{
	if (berth_digest_is_sha256(digest))
		return 0;
	if (berth_digest_validate(digest, err) < 0)
		return berth_error_wrap(err, "digest '%s'", digest ? digest : "");
	return berth_error_set(err, EINVAL, "digest '%s': only sha256 blobs are stored", digest);
}

bool berth_blob_exists(struct berth_image_store *s, const char *digest)
{
	char rel[128];

	return img_blob_relpath(digest, rel, sizeof(rel)) == 0 &&
	       faccessat(s->rootfd, rel, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
}

int berth_blob_open(struct berth_image_store *s, const char *digest, int *ret_fd,
		    uint64_t *ret_size, struct berth_error **err)
{
	char rel[128];
	struct stat st;
	int fd, r;

	r = check_digest(digest, err);
	if (r < 0)
		return r;
	img_blob_relpath(digest, rel, sizeof(rel));
	fd = openat(s->rootfd, rel, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
	if (fd < 0)
		return berth_error_sys(err, errno, "blob '%s'", digest);
	if (fstat(fd, &st) < 0) {
		r = berth_error_sys(err, errno, "blob '%s'", digest);
		close(fd);
		return r;
	}
	if (ret_size)
		*ret_size = (uint64_t)st.st_size;
	*ret_fd = fd;
	return 0;
}

int berth_blob_read(struct berth_image_store *s, const char *digest, size_t max, char **ret,
		    size_t *ret_len, struct berth_error **err)
{
	_cleanup_close_ int fd = -EBADF;
	_cleanup_free_ char *data = NULL;
	char got[BERTH_DIGEST_SIZE];
	size_t len;
	int r;

	r = berth_blob_open(s, digest, &fd, NULL, err);
	if (r < 0)
		return r;
	r = berth_read_fd(fd, max, &data, &len, err);
	if (r < 0)
		return berth_error_wrap(err, "blob '%s'", digest);
	berth_sha256_digest(data, len, got);
	if (strcmp(got, digest) != 0)
		return berth_error_set(err, EIO, "blob '%s': content on disk hashes to %s", digest,
				       got);
	if (ret_len)
		*ret_len = len;
	*ret = TAKE_PTR(data);
	return 0;
}

struct berth_blob_writer {
	struct berth_image_store *s;
	int fd;
	char *tmp; /* relative to the data root */
	struct img_sha256 hash;
	uint64_t bytes;
	int64_t expected_size;
	char *expected;
};

int berth_blob_writer_new(struct berth_image_store *s, const char *expected_digest,
			  int64_t expected_size, struct berth_blob_writer **ret,
			  struct berth_error **err)
{
	struct berth_blob_writer *w;
	_cleanup_free_ char *name = NULL;
	int r;

	if (expected_digest && (r = check_digest(expected_digest, err)) < 0)
		return r;
	w = calloc(1, sizeof(*w));
	if (!w)
		return berth_error_set(err, ENOMEM, "out of memory");
	w->s = s;
	w->fd = -EBADF;
	w->expected_size = expected_size;
	name = img_temp_name(s, "blob-");
	if (!name || asprintf(&w->tmp, "tmp/%s", name) < 0 ||
	    (expected_digest && !(w->expected = strdup(expected_digest))) ||
	    img_sha256_init(&w->hash) < 0) {
		berth_blob_writer_free(w);
		return berth_error_set(err, ENOMEM, "out of memory");
	}
	w->fd = openat(s->rootfd, w->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
		       0644);
	if (w->fd < 0) {
		r = berth_error_sys(err, errno, "create '%s/%s'", s->root, w->tmp);
		berth_blob_writer_free(w);
		return r;
	}
	*ret = w;
	return 0;
}

int berth_blob_writer_write(struct berth_blob_writer *w, const void *data, size_t len,
			    struct berth_error **err)
{
	int r;

	if (w->fd < 0)
		return berth_error_set(err, EINVAL, "blob writer already finished");
	if (w->expected_size >= 0 && w->bytes + len > (uint64_t)w->expected_size)
		return berth_error_set(err, EINVAL, "blob %s: more than the %lld bytes expected",
				       w->expected ? w->expected : "", (long long)w->expected_size);
	r = berth_write_all(w->fd, data, len);
	if (r < 0)
		return berth_error_sys(err, -r, "write '%s/%s'", w->s->root, w->tmp);
	img_sha256_update(&w->hash, data, len);
	w->bytes += len;
	return 0;
}

int img_blob_adopt(struct berth_image_store *s, int dirfd, const char *name, const char *digest,
		   struct berth_image_lease *lease, struct berth_error **err)
{
	char rel[128];
	_cleanup_close_ int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	if (img_blob_relpath(digest, rel, sizeof(rel)) < 0)
		return berth_error_set(err, EINVAL, "'%s' is not a sha256 digest", digest);
	if (fd < 0 || fsync(fd) < 0)
		return berth_error_sys(err, errno, "blob %s: sync", digest);
	if (lease && berth_image_lease_add(lease, digest) < 0)
		return berth_error_set(err, ENOMEM, "out of memory");
	if (renameat2(dirfd, name, s->rootfd, rel, RENAME_NOREPLACE) < 0) {
		if (errno == EEXIST)
			return 0; /* the same content is there already */
		return berth_error_sys(err, errno, "blob %s: rename into place", digest);
	}
	{
		/* the new name itself survives a crash once its directory is synced */
		_cleanup_close_ int dfd =
			openat(s->rootfd, "blobs/sha256", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd >= 0)
			fsync(dfd);
	}
	if (lease && img_lease_add_created(lease, digest, "blob") < 0)
		return berth_error_set(err, ENOMEM, "out of memory");
	return 0;
}

int berth_blob_writer_commit(struct berth_blob_writer *w, struct berth_image_lease *lease,
			     char **ret_digest, struct berth_error **err)
{
	char digest[BERTH_DIGEST_SIZE];
	int r;

	if (w->fd < 0)
		return berth_error_set(err, EINVAL, "blob writer already finished");
	img_sha256_final(&w->hash, digest);
	if (w->expected && strcmp(digest, w->expected) != 0)
		return berth_error_set(err, EINVAL, "blob %s: digest mismatch: content is %s",
				       w->expected, digest);
	if (w->expected_size >= 0 && w->bytes != (uint64_t)w->expected_size)
		return berth_error_set(err, EINVAL,
				       "blob %s: size mismatch: %llu bytes, %lld expected", digest,
				       (unsigned long long)w->bytes, (long long)w->expected_size);
	close(w->fd);
	w->fd = -EBADF;
	r = img_blob_adopt(w->s, w->s->rootfd, w->tmp, digest, lease, err);
	if (r < 0)
		return r;
	if (ret_digest && !(*ret_digest = strdup(digest)))
		return berth_error_set(err, ENOMEM, "out of memory");
	return 0;
}

void berth_blob_writer_free(struct berth_blob_writer *w)
{
	if (!w)
		return;
	if (w->fd >= 0)
		close(w->fd);
	if (w->tmp)
		unlinkat(w->s->rootfd, w->tmp, 0); /* gone already when committed */
	img_sha256_release(&w->hash);
	free(w->tmp);
	free(w->expected);
	free(w);
}

int berth_blob_write(struct berth_image_store *s, const void *data, size_t len,
		     const char *expected_digest, struct berth_image_lease *lease,
		     char **ret_digest, struct berth_error **err)
{
	struct berth_blob_writer *w = NULL;
	int r;

	r = berth_blob_writer_new(s, expected_digest, (int64_t)len, &w, err);
	if (r == 0)
		r = berth_blob_writer_write(w, data, len, err);
	if (r == 0)
		r = berth_blob_writer_commit(w, lease, ret_digest, err);
	berth_blob_writer_free(w);
	return r;
}

int berth_blob_delete(struct berth_image_store *s, const char *digest, struct berth_error **err)
{
	char rel[128];
	int r = check_digest(digest, err);

	if (r < 0)
		return r;
	img_blob_relpath(digest, rel, sizeof(rel));
	if (unlinkat(s->rootfd, rel, 0) < 0 && errno != ENOENT)
		return berth_error_sys(err, errno, "remove blob '%s'", digest);
	return 0;
}
