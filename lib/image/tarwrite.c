/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Writing tars of directory trees: an overlay upper directory as a layer (whiteouts in the OCI
 * form) and a whole tree (export).  The walk is deterministic -- names in byte order, depth
 * first, whole-second times, numeric owners, no atime/ctime -- so the same tree gives the same
 * bytes, hence the same diff id.  Nothing is followed: every open is relative to its parent with
 * O_NOFOLLOW.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "image-internal.h"

#include "base/banned.h"

#define MAX_DEPTH 2048

struct tw {
	struct archive *a;
	struct img_tar_writer *w;
	bool diff;
	unsigned flags;
	dev_t root_dev;
	json_t *links; /* "dev:ino" -> first path */
	char buf[64 * 1024];
};

/* ---- the archive writer, shared with save.c --------------------------------------------- */

static la_ssize_t write_cb(struct archive *a, void *ud, const void *buf, size_t len)
{
	struct img_tar_writer *w = ud;
	int r = berth_write_all(w->fd, buf, len);

	if (r < 0) {
		w->io_error = r;
		archive_set_error(a, -r, "write: %s", strerror(-r));
		return -1;
	}
	w->bytes += len;
	return (la_ssize_t)len;
}

int img_tar_writer_open(struct img_tar_writer *w, int fd, struct berth_error **err)
{
	memset(w, 0, sizeof(*w));
	w->fd = fd;
	w->a = archive_write_new();
	if (!w->a)
		return img_archive_new_failed(err);
	/* ustar headers, pax extensions only where needed (long names, xattrs, big ids) */
	if (archive_write_set_format_pax_restricted(w->a) != ARCHIVE_OK ||
	    archive_write_add_filter_none(w->a) != ARCHIVE_OK ||
	    archive_write_set_bytes_per_block(w->a, 10240) != ARCHIVE_OK ||
	    archive_write_set_bytes_in_last_block(w->a, 1) != ARCHIVE_OK ||
	    archive_write_open(w->a, w, NULL, write_cb, NULL) != ARCHIVE_OK)
		return img_tar_writer_error(w, "start tar", err);
	return 0;
}

int img_tar_writer_error(struct img_tar_writer *w, const char *what, struct berth_error **err)
{
	const char *msg = w->a ? archive_error_string(w->a) : NULL;

	if (w->io_error)
		return berth_error_sys(err, -w->io_error, "%s", what);
	return berth_error_set(err, EIO, "%s: %s", what, msg ? msg : "tar writer failed");
}

int img_tar_writer_close(struct img_tar_writer *w, struct berth_error **err)
{
	int r = 0;

	if (w->a && archive_write_close(w->a) != ARCHIVE_OK)
		r = img_tar_writer_error(w, "finish tar", err);
	if (w->a)
		archive_write_free(w->a);
	w->a = NULL;
	return r;
}

void img_tar_writer_release(struct img_tar_writer *w)
{
	if (w->a)
		archive_write_free(w->a);
	w->a = NULL;
}

/* ---- directory trees -------------------------------------------------------------------- */

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int img_dir_names(int dirfd, char ***ret, size_t *ret_n)
{
	int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	_cleanup_closedir_ DIR *d = NULL;
	char **v = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;

	if (fd < 0)
		return -errno;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -errno;
	}
	while ((errno = 0, de = readdir(d))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 32;
			char **nv = realloc(v, cap * sizeof(*v));
			if (!nv)
				goto oom;
			v = nv;
		}
		if (!(v[n] = strdup(de->d_name)))
			goto oom;
		n++;
	}
	if (errno) {
		int r = -errno;
		for (size_t i = 0; i < n; i++)
			free(v[i]);
		free(v);
		return r;
	}
	if (n)
		qsort(v, n, sizeof(*v), cmp_names);
	*ret = v;
	*ret_n = n;
	return 0;
oom:
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
	return -ENOMEM;
}

static void free_names(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static void entry_from_stat(struct archive_entry *e, const char *path, const struct stat *st)
{
	archive_entry_set_pathname(e, path);
	archive_entry_set_uid(e, st->st_uid);
	archive_entry_set_gid(e, st->st_gid);
	archive_entry_set_mtime(e, st->st_mtim.tv_sec, 0);
	archive_entry_set_perm(e, st->st_mode & 07777);
}

static int write_header(struct tw *t, struct archive_entry *e, const char *path,
			struct berth_error **err)
{
	if (archive_write_header(t->a, e) < ARCHIVE_WARN) {
		_cleanup_free_ char *what = NULL;
		if (asprintf(&what, "write '%s'", path) < 0)
			return berth_error_set(err, ENOMEM, "out of memory");
		return img_tar_writer_error(t->w, what, err);
	}
	return 0;
}

static int copy_file(struct tw *t, int dirfd, const char *name, const char *path,
		     const struct stat *want_st, struct berth_error **err)
{
	/*
	 * O_NONBLOCK: a tree someone else writes (a running container) may have swapped the file for
	 * a FIFO since the stat; the fstat below then refuses what is not the file we stat'd, so a
	 * device node put in its place is never read from the host's side.
	 */
	_cleanup_close_ int fd =
		openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	off_t size = want_st->st_size, left = size;
	struct stat st;

	if (fd < 0)
		return berth_error_sys(err, errno, "open '%s'", path);
	if (fstat(fd, &st) < 0)
		return berth_error_sys(err, errno, "stat '%s'", path);
	if (!S_ISREG(st.st_mode) || st.st_ino != want_st->st_ino || st.st_dev != want_st->st_dev)
		return berth_error_set(err, EAGAIN, "'%s' changed while it was read", path);
	while (left > 0) {
		size_t want = left < (off_t)sizeof(t->buf) ? (size_t)left : sizeof(t->buf);
		ssize_t n = read(fd, t->buf, want);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return berth_error_sys(err, errno, "read '%s'", path);
		}
		if (n == 0) {
			/* the file shrank while we read it: pad, so the header stays true */
			memset(t->buf, 0, want);
			n = (ssize_t)want;
		}
		if (archive_write_data(t->a, t->buf, (size_t)n) < 0)
			return img_tar_writer_error(t->w, "write data", err);
		left -= n;
	}
	return 0;
}

static int walk(struct tw *t, int dirfd, const char *prefix, int depth, struct berth_error **err);

static int write_one(struct tw *t, int dirfd, const char *name, const char *as, const char *prefix,
		     int depth, struct berth_error **err)
{
	_cleanup_free_ char *path = NULL;
	struct archive_entry *e = NULL;
	struct stat st;
	char proc[64 + NAME_MAX];
	int r = 0;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno == ENOENT)
			return 0; /* gone since the listing (a running container's upper) */
		return berth_error_sys(err, errno, "stat '%s%s'", prefix, name);
	}
	if (S_ISSOCK(st.st_mode))
		return 0;
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d/%s", dirfd, name);

	e = archive_entry_new();
	if (!e)
		return img_archive_new_failed(err);

	if (t->diff && S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0)) {
		/* an overlay whiteout: the OCI form is an empty file .wh.<name> */
		if (asprintf(&path, "%s.wh.%s", prefix, name) < 0) {
			r = berth_error_set(err, ENOMEM, "out of memory");
			goto out;
		}
		entry_from_stat(e, path, &st);
		archive_entry_set_filetype(e, AE_IFREG);
		archive_entry_set_perm(e, 0600);
		archive_entry_set_size(e, 0);
		r = write_header(t, e, path, err);
		goto out;
	}

	if (asprintf(&path, "%s%s%s", prefix, as ? as : name, S_ISDIR(st.st_mode) ? "/" : "") < 0) {
		r = berth_error_set(err, ENOMEM, "out of memory");
		goto out;
	}
	entry_from_stat(e, path, &st);
	archive_entry_set_filetype(e, st.st_mode & S_IFMT);

	if (!S_ISLNK(st.st_mode)) {
		char cap[1024];
		ssize_t n = lgetxattr(proc, "security.capability", cap, sizeof(cap));
		if (n > 0)
			archive_entry_xattr_add_entry(e, "security.capability", cap, (size_t)n);
	}

	if (S_ISREG(st.st_mode)) {
		if (st.st_nlink > 1) {
			char key[64];
			snprintf(key, sizeof(key), "%llu:%llu", (unsigned long long)st.st_dev,
				 (unsigned long long)st.st_ino);
			json_t *first = json_object_get(t->links, key);
			if (first) {
				archive_entry_set_hardlink(e, json_string_value(first));
				archive_entry_set_size(e, 0);
				r = write_header(t, e, path, err);
				goto out;
			}
			if (json_object_set_new(t->links, key, json_string(path)) < 0) {
				r = berth_error_set(err, ENOMEM, "out of memory");
				goto out;
			}
		}
		archive_entry_set_size(e, st.st_size);
		r = write_header(t, e, path, err);
		if (r == 0)
			r = copy_file(t, dirfd, name, path, &st, err);
	} else if (S_ISLNK(st.st_mode)) {
		char target[PATH_MAX];
		ssize_t n = readlinkat(dirfd, name, target, sizeof(target) - 1);
		if (n < 0) {
			r = berth_error_sys(err, errno, "readlink '%s'", path);
			goto out;
		}
		target[n] = '\0';
		archive_entry_set_symlink(e, target);
		archive_entry_set_size(e, 0);
		r = write_header(t, e, path, err);
	} else if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
		archive_entry_set_rdevmajor(e, major(st.st_rdev));
		archive_entry_set_rdevminor(e, minor(st.st_rdev));
		archive_entry_set_size(e, 0);
		r = write_header(t, e, path, err);
	} else if (S_ISFIFO(st.st_mode)) {
		archive_entry_set_size(e, 0);
		r = write_header(t, e, path, err);
	} else if (S_ISDIR(st.st_mode)) {
		archive_entry_set_size(e, 0);
		r = write_header(t, e, path, err);
		if (r < 0)
			goto out;
		if (t->diff) {
			char v[8];
			ssize_t n = lgetxattr(proc,
					      t->flags & BERTH_TAR_USER_XATTR
						      ? "user.overlay.opaque"
						      : "trusted.overlay.opaque",
					      v, sizeof(v));
			if (n == 1 && v[0] == 'y') {
				_cleanup_free_ char *opq = NULL;
				struct archive_entry *o = archive_entry_new();
				if (!o || asprintf(&opq, "%s.wh..wh..opq", path) < 0) {
					archive_entry_free(o);
					r = berth_error_set(err, ENOMEM, "out of memory");
					goto out;
				}
				entry_from_stat(o, opq, &st);
				archive_entry_set_filetype(o, AE_IFREG);
				archive_entry_set_perm(o, st.st_mode & 0777);
				archive_entry_set_size(o, 0);
				r = write_header(t, o, opq, err);
				archive_entry_free(o);
				if (r < 0)
					goto out;
			}
		}
		/* another filesystem mounted here (export of a tree with mounts): its mount point only */
		if (!t->diff && st.st_dev != t->root_dev)
			goto out;
		_cleanup_close_ int sub =
			openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (sub < 0) {
			r = berth_error_sys(err, errno, "open '%s'", path);
			goto out;
		}
		r = walk(t, sub, path, depth + 1, err);
	}
out:
	archive_entry_free(e);
	return r;
}

static int walk(struct tw *t, int dirfd, const char *prefix, int depth, struct berth_error **err)
{
	char **names = NULL;
	size_t n = 0;
	int r;

	if (depth > MAX_DEPTH)
		return berth_error_set(err, ELOOP, "'%s': deeper than %d levels", prefix,
				       MAX_DEPTH);
	r = img_dir_names(dirfd, &names, &n);
	if (r < 0)
		return berth_error_sys(err, -r, "read directory '%s'", *prefix ? prefix : "/");
	for (size_t i = 0; i < n && r == 0; i++)
		r = write_one(t, dirfd, names[i], NULL, prefix, depth, err);
	free_names(names, n);
	return r;
}

/* name == NULL: the tree of dirfd; else the entry name of dirfd (and its tree) called as */
static int write_tree(int dirfd, const char *name, const char *as, int out_fd, bool diff,
		      unsigned flags, struct berth_error **err)
{
	struct img_tar_writer w;
	struct stat st;
	struct tw *t = calloc(1, sizeof(*t));
	int r;

	if (!t)
		return berth_error_set(err, ENOMEM, "out of memory");
	if (fstat(dirfd, &st) < 0) {
		free(t);
		return berth_error_sys(err, errno, "stat");
	}
	t->diff = diff;
	t->flags = flags;
	t->root_dev = st.st_dev;
	/* one entry: the walk stays on its filesystem (a volume copied whole, not the mounts below) */
	if (name && fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0)
		t->root_dev = st.st_dev;
	t->links = json_object();
	r = img_tar_writer_open(&w, out_fd, err);
	if (r == 0 && !t->links)
		r = berth_error_set(err, ENOMEM, "out of memory");
	if (r == 0) {
		t->a = w.a;
		t->w = &w;
		r = name ? write_one(t, dirfd, name, as, "", 0, err) : walk(t, dirfd, "", 0, err);
	}
	if (r == 0)
		r = img_tar_writer_close(&w, err);
	img_tar_writer_release(&w);
	json_decref(t->links);
	free(t);
	return r;
}

int berth_tar_write_diff(int dirfd, int out_fd, unsigned flags, struct berth_error **err)
{
	return write_tree(dirfd, NULL, NULL, out_fd, true, flags, err);
}

int berth_tar_write_dir(int dirfd, int out_fd, struct berth_error **err)
{
	return write_tree(dirfd, NULL, NULL, out_fd, false, 0, err);
}

int berth_tar_write_path(int dirfd, const char *name, const char *as, int out_fd,
			 struct berth_error **err)
{
	return write_tree(dirfd, name, as, out_fd, false, 0, err);
}
