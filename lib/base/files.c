/* SPDX-License-Identifier: Apache-2.0 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core.h"
#include "banned.h"

static int set_cloexec(int fd)
{
	int f = fcntl(fd, F_GETFD);
	if (f < 0)
		return errno == EBADF ? 0 : -errno;
	if (!(f & FD_CLOEXEC) && fcntl(fd, F_SETFD, f | FD_CLOEXEC) < 0)
		return -errno;
	return 0;
}

int berth_fds_cloexec_from(int first)
{
	if (syscall(SYS_close_range, (unsigned)first, ~0U, 4 /* CLOSE_RANGE_CLOEXEC */) == 0)
		return 0;
	/* kernel < 5.9 has no close_range (ENOSYS), 5.9 and 5.10 no CLOSE_RANGE_CLOEXEC (EINVAL) */
	if (errno != ENOSYS && errno != EINVAL)
		return -errno;
	DIR *d = opendir("/proc/self/fd");
	if (d) {
		struct dirent *e;
		int r = 0, self = dirfd(d);
		while (r == 0 && (e = readdir(d))) {
			char *end;
			long fd = strtol(e->d_name, &end, 10);
			if (*end || end == e->d_name || fd < first || fd == self)
				continue;
			r = set_cloexec((int)fd);
		}
		closedir(d);
		return r;
	}
	/* no /proc (a container without it): every possible fd */
	struct rlimit rl;
	long max = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY
			   ? (long)rl.rlim_cur
			   : 1L << 20;
	for (long fd = first; fd < max; fd++) {
		int r = set_cloexec((int)fd);
		if (r < 0)
			return r;
	}
	return 0;
}

int berth_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int berth_read_fd(int fd, size_t max_size, char **ret_data, size_t *ret_len,
		  struct berth_error **err)
{
	size_t cap = 4096, len = 0;
	_cleanup_free_ char *buf = malloc(cap + 1);

	if (!buf)
		return berth_error_set(err, ENOMEM, "out of memory");
	for (;;) {
		if (len == cap) {
			if (cap >= max_size + 1)
				return berth_error_set(err, EFBIG, "larger than %zu bytes",
						       max_size);
			size_t ncap = cap * 2 > max_size + 1 ? max_size + 1 : cap * 2;
			char *nbuf = realloc(buf, ncap + 1);
			if (!nbuf)
				return berth_error_set(err, ENOMEM, "out of memory");
			buf = nbuf;
			cap = ncap;
		}
		ssize_t n = read(fd, buf + len, cap - len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return berth_error_sys(err, errno, "read");
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len > max_size)
		return berth_error_set(err, EFBIG, "larger than %zu bytes", max_size);
	buf[len] = '\0';
	if (ret_len)
		*ret_len = len;
	*ret_data = TAKE_PTR(buf);
	return 0;
}

int berth_read_file_at(int dirfd, const char *path, size_t max_size, char **ret_data,
		       size_t *ret_len, struct berth_error **err)
{
	_cleanup_close_ int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	int r;

	if (fd < 0)
		return berth_error_sys(err, errno, "open '%s'", path);
	r = berth_read_fd(fd, max_size, ret_data, ret_len, err);
	if (r < 0)
		return berth_error_wrap(err, "read '%s'", path);
	return 0;
}

int berth_read_regular_file_at(int dirfd, const char *path, size_t max_size, char **ret_data,
			       size_t *ret_len, struct berth_error **err)
{
	/* O_NONBLOCK: opening a FIFO for reading must not wait for a writer */
	_cleanup_close_ int fd = openat(dirfd, path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	struct stat st;
	int r;

	if (fd < 0)
		return berth_error_sys(err, errno, "open '%s'", path);
	if (fstat(fd, &st) < 0)
		return berth_error_sys(err, errno, "stat '%s'", path);
	if (!S_ISREG(st.st_mode))
		return berth_error_set(err, EINVAL, "'%s' is not a regular file", path);
	if ((uint64_t)st.st_size > max_size)
		return berth_error_set(err, EFBIG, "'%s' is larger than %zu bytes", path, max_size);
	r = berth_read_fd(fd, max_size, ret_data, ret_len, err);
	if (r < 0)
		return berth_error_wrap(err, "read '%s'", path);
	return 0;
}

int berth_write_file_at(int dirfd, const char *path, const char *data, size_t len,
			struct berth_error **err)
{
	_cleanup_close_ int fd = openat(dirfd, path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
	ssize_t n;

	if (fd < 0)
		return berth_error_sys(err, errno, "open '%s'", path);
	do
		n = write(fd, data, len);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return berth_error_sys(err, errno, "write '%.*s' to '%s'",
				       (int)(len > 64 ? 64 : len), data, path);
	if ((size_t)n != len)
		return berth_error_set(err, EIO, "short write to '%s'", path);
	return 0;
}

static int write_replace(int dirfd, const char *path, const void *data, size_t len, mode_t mode,
			 bool sync, struct berth_error **err)
{
	_cleanup_free_ char *tmp = NULL;
	_cleanup_close_ int fd = -EBADF;
	int r;

	if (asprintf(&tmp, "%s.tmp-%d", path, (int)getpid()) < 0)
		return berth_error_set(err, ENOMEM, "out of memory");
	fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
	if (fd < 0)
		return berth_error_sys(err, errno, "create '%s'", tmp);
	r = berth_write_all(fd, data, len);
	if (r == 0 && sync && fsync(fd) < 0)
		r = -errno;
	if (r == 0 && renameat(dirfd, tmp, dirfd, path) < 0)
		r = -errno;
	if (r < 0) {
		unlinkat(dirfd, tmp, 0);
		return berth_error_sys(err, -r, "write '%s'", path);
	}
	return 0;
}

int berth_write_file_atomic_at(int dirfd, const char *path, const void *data, size_t len,
			       mode_t mode, struct berth_error **err)
{
	return write_replace(dirfd, path, data, len, mode, true, err);
}

int berth_write_file_replace_at(int dirfd, const char *path, const void *data, size_t len,
				mode_t mode, struct berth_error **err)
{
	return write_replace(dirfd, path, data, len, mode, false, err);
}

int berth_mkdir_p(const char *path, mode_t mode, struct berth_error **err)
{
	_cleanup_free_ char *p = strdup(path);
	char *s;

	if (!p)
		return berth_error_set(err, ENOMEM, "out of memory");
	for (s = p + 1;; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		char c = *s;
		*s = '\0';
		if (mkdir(p, mode) < 0 && errno != EEXIST)
			return berth_error_sys(err, errno, "mkdir '%s'", p);
		if (c == '\0')
			break;
		*s = c;
	}
	return 0;
}

/* Whether parent/name is the root of a mount (statx, Linux 5.8); false where that is unknown. */
static bool is_mount_root(int parent, const char *name)
{
	struct statx sx;

	if (statx(parent, name, AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT, 0, &sx) < 0)
		return false;
	return (sx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) &&
	       (sx.stx_attributes & STATX_ATTR_MOUNT_ROOT);
}

static int rm_rf_at(int parent, const char *name, dev_t dev, int depth, int max_depth)
{
	struct stat st;
	int r = 0;

	if (depth > max_depth)
		return -ELOOP;
	if (fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISDIR(st.st_mode))
		return unlinkat(parent, name, 0) < 0 && errno != ENOENT ? -errno : 0;
	if (st.st_dev != dev || (depth > 0 && is_mount_root(parent, name)))
		return -EXDEV; /* a mount point: never descend into another filesystem, nor into
				* a bind mount of this one (a volume bound somewhere inside) */

	int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	_cleanup_closedir_ DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -errno;
	}
	struct dirent *de;
	while ((de = readdir(d))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		int q = rm_rf_at(dirfd(d), de->d_name, dev, depth + 1, max_depth);
		if (q < 0 && r == 0)
			r = q;
	}
	if (r == 0 && unlinkat(parent, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
		r = -errno;
	return r;
}

int berth_rm_rf_at(int dirfd, const char *name, int max_depth)
{
	struct stat st;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -errno;
	return rm_rf_at(dirfd, name, st.st_dev, 0, max_depth);
}

int berth_rm_rf(const char *path, struct berth_error **err)
{
	struct stat st;
	int r;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : berth_error_sys(err, errno, "stat '%s'", path);
	r = rm_rf_at(AT_FDCWD, path, st.st_dev, 0, 256);
	if (r < 0)
		return berth_error_sys(err, -r, "remove '%s'", path);
	return 0;
}
