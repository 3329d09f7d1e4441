/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unpacking a tar into a directory that a hostile archive must not leave.
 *
 * Every entry is written with *at() calls relative to its parent directory, and that parent is
 * opened inside the root (lib/base/inroot.c): openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS) where the kernel has
 * it (>= 5.6), else a walk of one component at a time that reads each symlink and splices its
 * target in (absolute targets restart at the root, ".." stops there).  So "a -> /etc" followed
 * by "a/passwd" writes root/etc/passwd, as docker's chrooted unpacker does, and nothing outside.
 * The last component is never followed: an existing entry of another type is unlinked and the
 * new one created with O_EXCL|O_NOFOLLOW.  Names are cleaned first and refused when ".." climbs
 * above the root; hard link targets are cleaned and resolved the same way.
 *
 * Only one writer works in a staging directory, so nothing changes under the walk: the fallback
 * is as safe here as openat2 is.  Directory modes and times are set at the end, deepest first,
 * so a read-only directory early in the tar cannot stop its own entries, and writing an entry
 * does not undo its parent's mtime.
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

/* ---- names ------------------------------------------------------------------------------ */

enum img_whiteout img_whiteout_classify(const char *base, const char **ret_target)
{
	if (!berth_str_has_prefix(base, ".wh."))
		return IMG_WH_NONE;
	if (strcmp(base, ".wh..wh..opq") == 0)
		return IMG_WH_OPAQUE;
	if (berth_str_has_prefix(base, ".wh..wh."))
		return IMG_WH_META;
	base += 4;
	if (!*base || strcmp(base, ".") == 0 || strcmp(base, "..") == 0)
		return IMG_WH_INVALID;
	if (ret_target)
		*ret_target = base;
	return IMG_WH_FILE;
}

int img_clean_path(const char *name, char **ret)
{
	size_t len = strlen(name);
	_cleanup_free_ char *out = malloc(len + 1);
	size_t o = 0;

	if (!out)
		return -ENOMEM;
	for (const char *p = name; *p;) {
		size_t n;

		while (*p == '/')
			p++;
		if (!*p)
			break;
		n = strcspn(p, "/");
		if (n == 1 && p[0] == '.') {
			/* nothing */
		} else if (n == 2 && p[0] == '.' && p[1] == '.') {
			if (o == 0)
				return -EINVAL;
			while (o > 0 && out[o - 1] != '/')
				o--;
			if (o > 0)
				o--; /* the '/' before the dropped component */
		} else {
			if (o > 0)
				out[o++] = '/';
			memcpy(out + o, p, n);
			o += n;
		}
		p += n;
	}
	out[o] = '\0';
	*ret = TAKE_PTR(out);
	return 0;
}

/* ---- resolving inside the root ---------------------------------------------------------- */

/*
 * An O_PATH fd to the directory path inside rootfd (symlinks resolved inside it), with missing
 * components made as directories (mode 0755, as docker makes a layer's implied parents; a
 * directory's own entry sets its mode later) when create.
 */
static int open_dir_in_root(int rootfd, const char *path, bool create, int *ret_fd)
{
	return create ? berth_root_mkpath(rootfd, path, O_DIRECTORY, false, ret_fd)
		      : berth_root_open(rootfd, path, O_DIRECTORY, ret_fd);
}

/*
 * The parent directory of an entry in a tree someone else writes at the same time (a running
 * container's root): every missing component is made with mkdirat() on a parent that openat2
 * resolved inside the root, and looked up again the same way, so a symlink swapped in between
 * is followed only inside the root.  Without openat2, the walk (not race-free: documented).
 */
static int open_dir_in_root_hostile(int rootfd, const char *path, int *ret_fd)
{
	int r = open_dir_in_root(rootfd, path, false, ret_fd);
	_cleanup_free_ char *prefix = NULL;

	if (r != -ENOENT || !berth_root_uses_openat2())
		return r == -ENOENT ? open_dir_in_root(rootfd, path, true, ret_fd) : r;
	prefix = strdup(path);
	if (!prefix)
		return -ENOMEM;
	for (char *p = prefix;;) {
		char *slash = strchr(p, '/');
		char saved = 0;
		_cleanup_close_ int pfd = -EBADF, fd = -EBADF;
		const char *base;

		if (slash) {
			saved = *slash;
			*slash = '\0';
		}
		r = open_dir_in_root(rootfd, prefix, false, &fd);
		if (r == -ENOENT) {
			char *last = strrchr(prefix, '/');
			_cleanup_free_ char *dir =
				last ? strndup(prefix, (size_t)(last - prefix)) : strdup("");
			base = last ? last + 1 : prefix;
			if (!dir)
				return -ENOMEM;
			r = open_dir_in_root(rootfd, dir, false, &pfd);
			if (r < 0)
				return r;
			if (mkdirat(pfd, base, 0755) < 0 && errno != EEXIST)
				return -errno;
			r = open_dir_in_root(rootfd, prefix, false, &fd);
		}
		if (r < 0)
			return r;
		if (!slash) {
			*ret_fd = TAKE_FD(fd);
			return 0;
		}
		*slash = saved;
		p = slash + 1;
	}
}

/* ---- the unpacker ----------------------------------------------------------------------- */

struct deferred_dir {
	char *path;
	mode_t mode;
	struct timespec times[2];
	uint64_t seq;
};

struct apply {
	int rootfd;
	unsigned flags;
	const struct berth_tar_apply_opts *opts; /* NULL: a layer being unpacked */
	const struct berth_image_limits *lim;
	struct deferred_dir *dirs;
	size_t n_dirs, cap_dirs;
	uint64_t entries;
	uint64_t size;
};

static const char *opaque_xattr(unsigned flags)
{
	return flags & BERTH_TAR_USER_XATTR ? "user.overlay.opaque" : "trusted.overlay.opaque";
}

static int proc_path(char *buf, size_t size, int dirfd, const char *name)
{
	int n = snprintf(buf, size, "/proc/self/fd/%d/%s", dirfd, name);
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

static int defer_dir(struct apply *ap, const char *path, struct archive_entry *e)
{
	struct deferred_dir *d;

	if (ap->n_dirs == ap->cap_dirs) {
		size_t cap = ap->cap_dirs ? ap->cap_dirs * 2 : 64;
		struct deferred_dir *nd = realloc(ap->dirs, cap * sizeof(*nd));
		if (!nd)
			return -ENOMEM;
		ap->dirs = nd;
		ap->cap_dirs = cap;
	}
	d = &ap->dirs[ap->n_dirs];
	d->path = strdup(path);
	if (!d->path)
		return -ENOMEM;
	d->mode = archive_entry_perm(e) & 07777;
	d->times[1].tv_sec = archive_entry_mtime(e);
	d->times[1].tv_nsec = archive_entry_mtime_is_set(e) ? archive_entry_mtime_nsec(e) : 0;
	if (archive_entry_atime_is_set(e)) {
		d->times[0].tv_sec = archive_entry_atime(e);
		d->times[0].tv_nsec = archive_entry_atime_nsec(e);
	} else {
		d->times[0] = d->times[1];
	}
	d->seq = ap->n_dirs;
	ap->n_dirs++;
	return 0;
}

static int cmp_dirs(const void *a, const void *b)
{
	const struct deferred_dir *x = a, *y = b;
	int c = strcmp(x->path, y->path);
	if (c)
		return c;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Modes and times of directories, children before parents; a later entry for a path wins. */
static int finish_dirs(struct apply *ap, struct berth_error **err)
{
	if (ap->n_dirs)
		qsort(ap->dirs, ap->n_dirs, sizeof(*ap->dirs), cmp_dirs);
	for (size_t i = ap->n_dirs; i-- > 0;) {
		struct deferred_dir *d = &ap->dirs[i];
		_cleanup_close_ int fd = -EBADF;
		_cleanup_free_ char *parent = NULL;
		const char *base;
		int r;

		if (i + 1 < ap->n_dirs && strcmp(ap->dirs[i + 1].path, d->path) == 0)
			continue; /* an earlier entry of the same path; the later one was applied */
		if (!*d->path) {
			fd = openat(ap->rootfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		} else {
			_cleanup_close_ int pfd = -EBADF;
			base = strrchr(d->path, '/');
			parent = base ? strndup(d->path, (size_t)(base - d->path)) : strdup("");
			base = base ? base + 1 : d->path;
			if (!parent)
				return berth_error_set(err, ENOMEM, "out of memory");
			r = open_dir_in_root(ap->rootfd, parent, false, &pfd);
			if (r == -ENOENT || r == -ENOTDIR)
				continue; /* replaced by a later entry */
			if (r < 0)
				return berth_error_sys(err, -r, "entry '%s': open parent", d->path);
			fd = openat(pfd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		}
		if (fd < 0) {
			if (errno == ENOENT || errno == ENOTDIR || errno == ELOOP)
				continue;
			return berth_error_sys(err, errno, "entry '%s': open", d->path);
		}
		if (fchmod(fd, d->mode) < 0)
			return berth_error_sys(err, errno, "entry '%s': chmod", d->path);
		if (futimens(fd, d->times) < 0)
			return berth_error_sys(err, errno, "entry '%s': set times", d->path);
	}
	return 0;
}

static int set_owner(struct apply *ap, int pfd, const char *name, struct archive_entry *e,
		     const char *path, struct berth_error **err)
{
	la_int64_t uid = archive_entry_uid(e), gid = archive_entry_gid(e);

	if (ap->flags & BERTH_TAR_NO_OWNERS)
		return 0;
	if (ap->opts && ap->opts->chown) {
		uid = ap->opts->uid;
		gid = ap->opts->gid;
	}
	if (uid < 0 || gid < 0 || uid >= UINT32_MAX || gid >= UINT32_MAX)
		return berth_error_set(err, EINVAL, "entry '%s': owner %lld:%lld out of range",
				       path, (long long)uid, (long long)gid);
	if (fchownat(pfd, name, (uid_t)uid, (gid_t)gid, AT_SYMLINK_NOFOLLOW) < 0)
		return berth_error_sys(err, errno, "entry '%s': chown %lld:%lld", path,
				       (long long)uid, (long long)gid);
	return 0;
}

static int set_xattrs(struct apply *ap, int pfd, const char *name, struct archive_entry *e,
		      const char *path, struct berth_error **err)
{
	char p[64 + NAME_MAX];
	const char *key;
	const void *value;
	size_t size, total = 0;

	if (archive_entry_xattr_reset(e) == 0)
		return 0;
	if (proc_path(p, sizeof(p), pfd, name) < 0)
		return berth_error_set(err, ENAMETOOLONG, "entry '%s': name too long", path);
	while (archive_entry_xattr_next(e, &key, &value, &size) == ARCHIVE_OK) {
		total += size + strlen(key);
		if (total > IMG_MAX_XATTR_BYTES)
			return berth_error_set(err, EFBIG,
					       "entry '%s': more than %u bytes of xattrs", path,
					       IMG_MAX_XATTR_BYTES);
		/* overlayfs' own attributes would change what the mount shows: never from a tar */
		if (berth_str_has_prefix(key, "trusted.overlay.") ||
		    berth_str_has_prefix(key, "user.overlay."))
			continue;
		if (lsetxattr(p, key, value, size, 0) < 0) {
			/* as docker: a filesystem or a caller that cannot hold it does without */
			if (errno == ENOTSUP || errno == EPERM || errno == EOPNOTSUPP)
				continue;
			return berth_error_sys(err, errno, "entry '%s': set xattr '%s'", path, key);
		}
	}
	(void)ap;
	return 0;
}

static int set_times_at(int pfd, const char *name, struct archive_entry *e)
{
	struct timespec ts[2];

	ts[1].tv_sec = archive_entry_mtime(e);
	ts[1].tv_nsec = archive_entry_mtime_is_set(e) ? archive_entry_mtime_nsec(e) : 0;
	if (archive_entry_atime_is_set(e)) {
		ts[0].tv_sec = archive_entry_atime(e);
		ts[0].tv_nsec = archive_entry_atime_nsec(e);
	} else {
		ts[0] = ts[1];
	}
	return utimensat(pfd, name, ts, AT_SYMLINK_NOFOLLOW) < 0 ? -errno : 0;
}

static int write_data(struct img_tar_stream *ts, int fd, struct archive_entry *e, const char *path,
		      struct berth_error **err)
{
	const void *buf;
	size_t size;
	la_int64_t offset;

	for (;;) {
		int r = archive_read_data_block(ts->tar, &buf, &size, &offset);
		if (r == ARCHIVE_EOF)
			break;
		if (r < ARCHIVE_WARN) {
			_cleanup_free_ char *what = NULL;
			if (asprintf(&what, "entry '%s'", path) < 0)
				return berth_error_set(err, ENOMEM, "out of memory");
			return img_tar_stream_error(ts, ts->tar, what, err);
		}
		const char *p = buf;
		while (size > 0) {
			ssize_t n = pwrite(fd, p, size, offset);
			if (n < 0) {
				if (errno == EINTR)
					continue;
				return berth_error_sys(err, errno, "entry '%s': write", path);
			}
			p += n;
			size -= (size_t)n;
			offset += n;
		}
	}
	/* a sparse file's holes at its end */
	if (archive_entry_size_is_set(e) && ftruncate(fd, archive_entry_size(e)) < 0)
		return berth_error_sys(err, errno, "entry '%s': truncate", path);
	return 0;
}

static int apply_whiteout(struct apply *ap, const char *dir, const char *target, const char *path,
			  struct berth_error **err)
{
	_cleanup_close_ int pfd = -EBADF;
	struct stat st;
	int r;

	r = open_dir_in_root(ap->rootfd, dir, true, &pfd);
	if (r < 0)
		return berth_error_sys(err, -r, "entry '%s': open parent", path);
	/* A whiteout hides lower layers only: what this layer put there stays (OCI image spec). */
	if (fstatat(pfd, target, &st, AT_SYMLINK_NOFOLLOW) == 0)
		return 0;
	if (mknodat(pfd, target, S_IFCHR | 0, makedev(0, 0)) < 0)
		return berth_error_sys(err, errno, "entry '%s': make whiteout", path);
	return 0;
}

static int apply_opaque(struct apply *ap, const char *dir, const char *path,
			struct berth_error **err)
{
	_cleanup_close_ int fd = -EBADF;
	char p[64];
	int r;

	r = open_dir_in_root(ap->rootfd, dir, true, &fd);
	if (r < 0)
		return berth_error_sys(err, -r, "entry '%s': open directory", path);
	snprintf(p, sizeof(p), "/proc/self/fd/%d", fd);
	if (setxattr(p, opaque_xattr(ap->flags), "y", 1, 0) < 0)
		return berth_error_sys(err, errno, "entry '%s': set %s", path,
				       opaque_xattr(ap->flags));
	return 0;
}

static int apply_entry(struct apply *ap, struct img_tar_stream *ts, struct archive_entry *e,
		       struct berth_error **err)
{
	const char *raw = archive_entry_pathname(e);
	_cleanup_free_ char *path = NULL, *dir = NULL;
	_cleanup_close_ int pfd = -EBADF;
	const char *base;
	mode_t type = archive_entry_filetype(e);
	const char *hardlink = archive_entry_hardlink(e);
	struct stat st;
	bool exists;
	int r;

	if (!raw)
		return berth_error_set(err, EINVAL, "entry without a name");
	if (strlen(raw) > ap->lim->max_path)
		return berth_error_set(err, EFBIG, "entry name longer than %u bytes",
				       ap->lim->max_path);
	r = img_clean_path(raw, &path);
	if (r == -EINVAL)
		return berth_error_set(err, EINVAL, "entry '%s': path leaves the root", raw);
	if (r < 0)
		return berth_error_set(err, -r, "out of memory");

	base = strrchr(path, '/');
	dir = base ? strndup(path, (size_t)(base - path)) : strdup("");
	base = base ? base + 1 : path;
	if (!dir)
		return berth_error_set(err, ENOMEM, "out of memory");

	if (ap->flags & BERTH_TAR_WHITEOUTS) {
		const char *target = NULL;
		switch (img_whiteout_classify(base, &target)) {
		case IMG_WH_NONE:
			break;
		case IMG_WH_FILE:
			return apply_whiteout(ap, dir, target, path, err);
		case IMG_WH_OPAQUE:
			return apply_opaque(ap, dir, path, err);
		case IMG_WH_META:
			return 0;
		case IMG_WH_INVALID:
			return berth_error_set(err, EINVAL, "entry '%s': invalid whiteout name",
					       path);
		}
	}

	if (!*path && ap->opts)
		return 0; /* docker's Untar: "." is the extraction point itself, left alone */
	if (!*path) {
		/* the root itself: its owner now, its mode and times at the end */
		if (hardlink || type != AE_IFDIR)
			return berth_error_set(err, EINVAL,
					       "entry '%s': the root must be a directory", raw);
		r = set_owner(ap, ap->rootfd, ".", e, "/", err);
		if (r < 0)
			return r;
		r = set_xattrs(ap, ap->rootfd, ".", e, "/", err);
		if (r < 0)
			return r;
		return defer_dir(ap, "", e) < 0 ? berth_error_set(err, ENOMEM, "out of memory") : 0;
	}

	if (ap->opts)
		r = open_dir_in_root_hostile(ap->rootfd, dir, &pfd);
	else
		r = open_dir_in_root(ap->rootfd, dir, true, &pfd);
	if (r < 0)
		return berth_error_sys(err, -r, "entry '%s': open parent directory", path);

	exists = fstatat(pfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0;
	if (exists && ap->opts && ap->opts->no_overwrite_dir_non_dir) {
		bool is_dir = type == AE_IFDIR && !hardlink;
		if (S_ISDIR(st.st_mode) && !is_dir)
			return berth_error_set(
				err, EINVAL,
				"cannot overwrite directory \"/%s\" with non-directory "
				"\"%s\"",
				path, raw);
		if (!S_ISDIR(st.st_mode) && is_dir)
			return berth_error_set(
				err, EINVAL,
				"cannot overwrite non-directory \"/%s\" with directory "
				"\"%s\"",
				path, raw);
	}
	if (exists && !(S_ISDIR(st.st_mode) && type == AE_IFDIR && !hardlink)) {
		/* a layer's tree may nest deeper than the host paths berth_rm_rf is for */
		r = berth_rm_rf_at(pfd, base, 4096);
		if (r < 0)
			return berth_error_sys(err, -r, "entry '%s': remove what was there", path);
		exists = false;
	}

	if (hardlink) {
		_cleanup_free_ char *target = NULL, *tdir = NULL;
		_cleanup_close_ int tfd = -EBADF;
		const char *tbase;

		if (strlen(hardlink) > ap->lim->max_path)
			return berth_error_set(err, EFBIG, "entry '%s': link target too long",
					       path);
		r = img_clean_path(hardlink, &target);
		if (r == -EINVAL || (r == 0 && !*target))
			return berth_error_set(err, EINVAL,
					       "entry '%s': hard link to '%s' leaves the root",
					       path, hardlink);
		if (r < 0)
			return berth_error_set(err, ENOMEM, "out of memory");
		tbase = strrchr(target, '/');
		tdir = tbase ? strndup(target, (size_t)(tbase - target)) : strdup("");
		tbase = tbase ? tbase + 1 : target;
		if (!tdir)
			return berth_error_set(err, ENOMEM, "out of memory");
		r = open_dir_in_root(ap->rootfd, tdir, false, &tfd);
		if (r < 0)
			return berth_error_sys(err, -r, "entry '%s': hard link target '%s'", path,
					       hardlink);
		if (linkat(tfd, tbase, pfd, base, 0) < 0)
			return berth_error_sys(err, errno, "entry '%s': hard link to '%s'", path,
					       hardlink);
		return 0;
	}

	switch (type) {
	case AE_IFREG: {
		_cleanup_close_ int fd = openat(
			pfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0)
			return berth_error_sys(err, errno, "entry '%s': create", path);
		r = write_data(ts, fd, e, path, err);
		if (r < 0)
			return r;
		r = set_owner(ap, pfd, base, e, path, err);
		if (r < 0)
			return r;
		if (fchmod(fd, archive_entry_perm(e) & 07777) < 0)
			return berth_error_sys(err, errno, "entry '%s': chmod", path);
		r = set_xattrs(ap, pfd, base, e, path, err);
		if (r < 0)
			return r;
		if (archive_entry_size_is_set(e) && archive_entry_size(e) > 0)
			ap->size += (uint64_t)archive_entry_size(e);
		break;
	}
	case AE_IFDIR:
		if (!exists && mkdirat(pfd, base, 0700) < 0)
			return berth_error_sys(err, errno, "entry '%s': mkdir", path);
		r = set_owner(ap, pfd, base, e, path, err);
		if (r < 0)
			return r;
		r = set_xattrs(ap, pfd, base, e, path, err);
		if (r < 0)
			return r;
		return defer_dir(ap, path, e) < 0 ? berth_error_set(err, ENOMEM, "out of memory")
						  : 0;
	case AE_IFLNK: {
		const char *target = archive_entry_symlink(e);
		if (!target)
			return berth_error_set(err, EINVAL, "entry '%s': symlink without a target",
					       path);
		if (strlen(target) > ap->lim->max_path)
			return berth_error_set(err, EFBIG, "entry '%s': link target too long",
					       path);
		if (symlinkat(target, pfd, base) < 0)
			return berth_error_sys(err, errno, "entry '%s': symlink", path);
		r = set_owner(ap, pfd, base, e, path, err);
		if (r < 0)
			return r;
		r = set_xattrs(ap, pfd, base, e, path, err);
		if (r < 0)
			return r;
		ap->size += strlen(target);
		break;
	}
	case AE_IFCHR:
	case AE_IFBLK:
	case AE_IFIFO: {
		mode_t m = archive_entry_perm(e) & 07777;
		dev_t dev = type == AE_IFIFO ? 0 : archive_entry_rdev(e);
		if (mknodat(pfd, base, type | m, dev) < 0)
			return berth_error_sys(err, errno, "entry '%s': mknod", path);
		r = set_owner(ap, pfd, base, e, path, err);
		if (r < 0)
			return r;
		/* never follow: base may have been swapped for a symlink since the mknod */
		if (fchmodat(pfd, base, m, AT_SYMLINK_NOFOLLOW) < 0)
			return berth_error_sys(err, errno, "entry '%s': chmod", path);
		r = set_xattrs(ap, pfd, base, e, path, err);
		if (r < 0)
			return r;
		break;
	}
	default:
		return berth_error_set(err, EINVAL, "entry '%s': unsupported type 0%o", path,
				       (unsigned)type);
	}
	r = set_times_at(pfd, base, e);
	if (r < 0)
		return berth_error_sys(err, -r, "entry '%s': set times", path);
	return 0;
}

static int apply_stream(int dirfd, struct img_tar_stream *ts, unsigned flags,
			const struct berth_tar_apply_opts *opts,
			const struct berth_image_limits *limits, struct berth_tar_stats *ret,
			struct berth_error **err)
{
	struct berth_image_limits lim;
	struct apply ap = {.flags = flags, .lim = &lim, .opts = opts};
	int r = 0;

	img_limits_fill(&lim, limits);
	ap.rootfd = dirfd;
	for (;;) {
		struct archive_entry *e;
		int a = archive_read_next_header(ts->tar, &e);
		if (a == ARCHIVE_EOF)
			break;
		if (a < ARCHIVE_WARN) {
			r = img_tar_stream_error(ts, ts->tar, "read tar", err);
			goto out;
		}
		if (++ap.entries > lim.max_entries) {
			r = berth_error_set(err, EFBIG, "more than %u entries", lim.max_entries);
			goto out;
		}
		r = apply_entry(&ap, ts, e, err);
		if (r < 0)
			goto out;
	}
	r = img_tar_stream_drain(ts, err);
	if (r < 0)
		goto out;
	r = finish_dirs(&ap, err);
	if (r < 0)
		goto out;
	if (ret) {
		memset(ret, 0, sizeof(*ret));
		ret->entries = ap.entries;
		ret->size = ap.size;
		ret->tar_size = ts->tar_bytes;
		if (!ts->no_hash)
			memcpy(ret->diff_id, ts->tar_digest, BERTH_DIGEST_SIZE);
	}
out:
	for (size_t i = 0; i < ap.n_dirs; i++)
		free(ap.dirs[i].path);
	free(ap.dirs);
	return r;
}

int img_tar_apply_stream(int dirfd, struct img_tar_stream *ts, unsigned flags,
			 const struct berth_image_limits *limits, struct berth_tar_stats *ret,
			 struct berth_error **err)
{
	return apply_stream(dirfd, ts, flags, NULL, limits, ret, err);
}

int berth_tar_apply(int dirfd, int fd, unsigned flags, const struct berth_image_limits *limits,
		    struct berth_tar_stats *ret, struct berth_error **err)
{
	struct berth_image_limits lim;
	struct img_tar_stream ts = {0};
	int r;

	img_limits_fill(&lim, limits);
	ts.no_hash = flags & BERTH_TAR_NO_DIGEST;
	r = img_tar_stream_open(&ts, fd, lim.max_layer_size, true, err);
	if (r == 0)
		r = img_tar_apply_stream(dirfd, &ts, flags, &lim, ret, err);
	img_tar_stream_close(&ts);
	return r;
}

/* ---- into a live tree (docker cp) ------------------------------------------------------- */

/* Pass one: every name and link target stays inside, every type is one we write. */
static int check_stream(struct img_tar_stream *ts, const struct berth_image_limits *lim,
			const char *dest, struct berth_error **err)
{
	uint64_t entries = 0;

	for (;;) {
		struct archive_entry *e;
		_cleanup_free_ char *path = NULL, *target = NULL;
		const char *raw, *link;
		int a = archive_read_next_header(ts->tar, &e), r;

		if (a == ARCHIVE_EOF)
			break;
		if (a < ARCHIVE_WARN)
			return img_tar_stream_error(ts, ts->tar, "read tar", err);
		if (++entries > lim->max_entries)
			return berth_error_set(err, EFBIG, "more than %u entries",
					       lim->max_entries);
		raw = archive_entry_pathname(e);
		if (!raw)
			return berth_error_set(err, EINVAL, "entry without a name");
		if (strlen(raw) > lim->max_path)
			return berth_error_set(err, EFBIG, "entry name longer than %u bytes",
					       lim->max_path);
		r = img_clean_path(raw, &path);
		if (r == -EINVAL && dest)
			return berth_error_set(err, EINVAL, "\"%s\" is outside of \"%s\"", raw,
					       dest);
		if (r == -EINVAL)
			return berth_error_set(err, EINVAL, "entry '%s': path leaves the root",
					       raw);
		if (r < 0)
			return berth_error_set(err, ENOMEM, "out of memory");
		link = archive_entry_hardlink(e);
		if (link) {
			r = img_clean_path(link, &target);
			if ((r == -EINVAL || (r == 0 && !*target)) && dest)
				return berth_error_set(err, EINVAL, "\"%s\" is outside of \"%s\"",
						       link, dest);
			if (r == -EINVAL || (r == 0 && !*target))
				return berth_error_set(
					err, EINVAL,
					"entry '%s': hard link to '%s' leaves the root", raw, link);
			if (r < 0)
				return berth_error_set(err, ENOMEM, "out of memory");
			continue;
		}
		switch (archive_entry_filetype(e)) {
		case AE_IFREG:
		case AE_IFDIR:
		case AE_IFLNK:
		case AE_IFCHR:
		case AE_IFBLK:
		case AE_IFIFO:
			break;
		default:
			return berth_error_set(err, EINVAL, "entry '%s': unsupported type 0%o", raw,
					       (unsigned)archive_entry_filetype(e));
		}
		if (!*path && archive_entry_filetype(e) != AE_IFDIR)
			return berth_error_set(err, EINVAL,
					       "entry '%s': the root must be a directory", raw);
	}
	return img_tar_stream_drain(ts, err);
}

int berth_tar_apply_into(int dirfd, int fd, const struct berth_tar_apply_opts *opts,
			 struct berth_tar_stats *ret, struct berth_error **err)
{
	struct berth_image_limits lim;
	struct img_tar_stream ts = {0};
	int r;

	img_limits_fill(&lim, opts->limits);
	if (lseek(fd, 0, SEEK_SET) < 0)
		return berth_error_sys(err, errno, "tar: seek");
	ts.no_hash = true;
	r = img_tar_stream_open(&ts, fd, lim.max_layer_size, true, err);
	if (r == 0)
		r = check_stream(&ts, &lim, opts->dest_name, err);
	img_tar_stream_close(&ts);
	if (r < 0)
		return r;
	if (lseek(fd, 0, SEEK_SET) < 0)
		return berth_error_sys(err, errno, "tar: seek");
	memset(&ts, 0, sizeof(ts));
	ts.no_hash = true;
	r = img_tar_stream_open(&ts, fd, lim.max_layer_size, true, err);
	if (r == 0)
		r = apply_stream(dirfd, &ts, opts->flags & ~BERTH_TAR_WHITEOUTS, opts, &lim, ret,
				 err);
	img_tar_stream_close(&ts);
	return r;
}
