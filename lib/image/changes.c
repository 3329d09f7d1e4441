/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What a container's writable layer changed: the overlay upper directory read as docker's
 * /containers/{id}/changes list (archive.OverlayChanges) and written into the store as a new
 * layer (docker commit; the Dockerfile build's RUN and COPY steps).  And the lookups that let
 * berthd read and write inside a container's root without leaving it.
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

#include "image-internal.h"

#include "base/banned.h"

#define MAX_DEPTH 2048

/* sha256 of a tar with no entries (two zero blocks): docker's layer.EmptyLayer diff id */
#define EMPTY_TAR_DIFF_ID "sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef"

/* ---- the change list -------------------------------------------------------------------- */

struct clist {
	struct berth_change *v;
	size_t n, cap;
	int *lower; /* diff directories of the layers below, topmost first */
	size_t n_lower;
	unsigned flags;
	json_t *changed_dirs; /* docker's changedDirs: paths with a record already */
};

static int add_change(struct clist *l, const char *path, enum berth_change_kind kind)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		struct berth_change *nv = realloc(l->v, cap * sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		l->v = nv;
		l->cap = cap;
	}
	l->v[l->n].path = strdup(path);
	if (!l->v[l->n].path)
		return -ENOMEM;
	l->v[l->n].kind = kind;
	l->n++;
	return 0;
}

/* The path (relative, no leading '/') in the first lower layer that has it; false for none. */
static bool lower_stat(struct clist *l, const char *rel, struct stat *ret)
{
	for (size_t i = 0; i < l->n_lower; i++)
		if (fstatat(l->lower[i], rel, ret, AT_SYMLINK_NOFOLLOW) == 0)
			return true;
	return false;
}

static bool is_opaque(struct clist *l, int dirfd, const char *name)
{
	char proc[64 + NAME_MAX], v[4];
	ssize_t n;

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d/%s", dirfd, name);
	n = lgetxattr(proc,
		      l->flags & BERTH_TAR_USER_XATTR ? "user.overlay.opaque"
						      : "trusted.overlay.opaque",
		      v, sizeof(v));
	return n == 1 && v[0] == 'y';
}

static int changes_walk(struct clist *l, int dirfd, const char *prefix, int depth)
{
	char **names = NULL;
	size_t n = 0;
	int r;

	if (depth > MAX_DEPTH)
		return -ELOOP;
	r = img_dir_names(dirfd, &names, &n);
	for (size_t i = 0; i < n && r == 0; i++) {
		_cleanup_free_ char *path = NULL;
		struct stat st, lst;
		enum berth_change_kind kind = BERTH_CHANGE_ADD;
		bool skip = false;

		if (asprintf(&path, "%s/%s", prefix, names[i]) < 0) {
			r = -ENOMEM;
			break;
		}
		if (fstatat(dirfd, names[i], &st, AT_SYMLINK_NOFOLLOW) < 0) {
			if (errno == ENOENT)
				continue; /* gone since the listing */
			r = -errno;
			break;
		}
		if (S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0)) {
			kind = BERTH_CHANGE_DELETE;
		} else if (S_ISDIR(st.st_mode) && is_opaque(l, dirfd, names[i]) &&
			   lower_stat(l, path + 1, &lst)) {
			kind = BERTH_CHANGE_DELETE;
		} else if (lower_stat(l, path + 1, &lst)) {
			kind = BERTH_CHANGE_MODIFY;
			/* docker: a directory the same in size, mode and mtime is no change */
			if (S_ISDIR(st.st_mode) && S_ISDIR(lst.st_mode) &&
			    st.st_size == lst.st_size && st.st_mode == lst.st_mode &&
			    st.st_mtim.tv_sec == lst.st_mtim.tv_sec &&
			    st.st_mtim.tv_nsec == lst.st_mtim.tv_nsec)
				skip = true;
		}
		if (!skip) {
			if (S_ISDIR(st.st_mode) &&
			    json_object_set_new(l->changed_dirs, path, json_true()) < 0) {
				r = -ENOMEM;
				break;
			}
			/* the parent of an added or deleted path is a change of its own */
			if (kind != BERTH_CHANGE_MODIFY && *prefix &&
			    !json_object_get(l->changed_dirs, prefix)) {
				r = add_change(l, prefix, BERTH_CHANGE_MODIFY);
				if (r == 0 &&
				    json_object_set_new(l->changed_dirs, prefix, json_true()) < 0)
					r = -ENOMEM;
				if (r < 0)
					break;
			}
			r = add_change(l, path, kind);
			if (r < 0)
				break;
		}
		if (S_ISDIR(st.st_mode)) {
			_cleanup_close_ int sub = openat(
				dirfd, names[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub < 0) {
				if (errno == ENOENT)
					continue;
				r = -errno;
				break;
			}
			r = changes_walk(l, sub, path, depth + 1);
		}
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return r;
}

/* The diff directories of top_layer's chain, topmost first, opened. */
static int open_lowers(struct berth_image_store *s, const char *top_layer, int **ret, size_t *ret_n,
		       struct berth_error **err)
{
	_cleanup_free_ char *chain = top_layer ? strdup(top_layer) : NULL;
	int *v = NULL;
	size_t n = 0;
	int r = 0;

	if (top_layer && !chain)
		return berth_error_set(err, ENOMEM, "out of memory");
	while (chain) {
		struct berth_layer_info *info = NULL;
		_cleanup_free_ char *path = NULL;
		int *nv;

		if (n >= 1000) {
			r = berth_error_set(err, ELOOP, "layer chain of '%s' too long", top_layer);
			break;
		}
		r = berth_layer_inspect(s, chain, &info, err);
		if (r < 0)
			break;
		if (asprintf(&path, "%s/layers/%s/diff", berth_image_store_root(s), chain + 7) <
			    0 ||
		    !(nv = realloc(v, (n + 1) * sizeof(*v)))) {
			berth_layer_info_free(info);
			r = berth_error_set(err, ENOMEM, "out of memory");
			break;
		}
		v = nv;
		v[n] = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (v[n] < 0) {
			r = berth_error_sys(err, errno, "open layer '%s'", chain);
			berth_layer_info_free(info);
			break;
		}
		n++;
		free(chain);
		chain = info->parent ? strdup(info->parent) : NULL;
		if (info->parent && !chain)
			r = berth_error_set(err, ENOMEM, "out of memory");
		berth_layer_info_free(info);
		if (r < 0)
			break;
	}
	if (r < 0) {
		for (size_t i = 0; i < n; i++)
			close(v[i]);
		free(v);
		return r;
	}
	*ret = v;
	*ret_n = n;
	return 0;
}

int berth_changes_list(struct berth_image_store *s, const char *top_layer, int upper_fd,
		       struct berth_change **ret, size_t *ret_n, struct berth_error **err)
{
	struct clist l = {.flags = img_layer_apply_flags()};
	int r;

	r = open_lowers(s, top_layer, &l.lower, &l.n_lower, err);
	if (r < 0)
		return r;
	l.changed_dirs = json_object();
	if (!l.changed_dirs)
		r = berth_error_set(err, ENOMEM, "out of memory");
	else if ((r = changes_walk(&l, upper_fd, "", 0)) < 0)
		r = berth_error_sys(err, -r, "read the container's layer");
	for (size_t i = 0; i < l.n_lower; i++)
		close(l.lower[i]);
	free(l.lower);
	json_decref(l.changed_dirs);
	if (r < 0) {
		berth_changes_free(l.v, l.n);
		return r;
	}
	*ret = l.v;
	*ret_n = l.n;
	return 0;
}

void berth_changes_free(struct berth_change *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].path);
	free(v);
}

/* ---- a layer from an upper directory ---------------------------------------------------- */

int berth_layer_create_from_diff(struct berth_image_store *s, int upper_fd, const char *parent,
				 struct berth_image_lease *lease, struct berth_layer_info **ret,
				 struct berth_error **err)
{
	_cleanup_free_ char *tmp = img_temp_name(s, "diff-");
	_cleanup_free_ char *path = NULL;
	_cleanup_close_ int fd = -EBADF;
	struct berth_layer_info *info = NULL;
	unsigned flags = img_layer_apply_flags() & BERTH_TAR_USER_XATTR;
	char head[1024];
	struct stat st;
	int r;

	if (!tmp || asprintf(&path, "%s/tmp/%s", berth_image_store_root(s), tmp) < 0)
		return berth_error_set(err, ENOMEM, "out of memory");
	/* the tar goes to a file of the store's tmp/ (removed at once; open removes leftovers) */
	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return berth_error_sys(err, errno, "create '%s'", path);
	unlink(path);
	r = berth_tar_write_diff(upper_fd, fd, flags, err);
	if (r < 0)
		return berth_error_wrap(err, "write the layer's tar"), r;
	if (fstat(fd, &st) < 0)
		return berth_error_sys(err, errno, "stat the layer's tar");
	if (st.st_size == (off_t)sizeof(head) && pread(fd, head, sizeof(head), 0) == sizeof(head)) {
		bool zero = true;
		for (size_t i = 0; i < sizeof(head) && zero; i++)
			zero = head[i] == 0;
		if (zero) {
			/* nothing changed: docker adds no layer (an empty_layer history row) */
			*ret = NULL;
			return 0;
		}
	}
	if (lseek(fd, 0, SEEK_SET) < 0)
		return berth_error_sys(err, errno, "seek the layer's tar");
	r = berth_layer_create(s, fd, parent, NULL, lease, NULL, &info, err);
	if (r < 0)
		return r;
	if (strcmp(info->diff_id, EMPTY_TAR_DIFF_ID) == 0) {
		berth_layer_info_free(info);
		info = NULL;
	}
	*ret = info;
	return 0;
}

/* ---- paths inside a root ---------------------------------------------------------------- */

int berth_open_in_root(int rootfd, const char *path, int flags, int *ret_fd,
		       struct berth_error **err)
{
	int r = berth_root_open_file(rootfd, path, flags, ret_fd);

	if (r < 0)
		return berth_error_sys(err, -r, "open '%s'", path);
	return 0;
}
