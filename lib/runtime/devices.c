/* SPDX-License-Identifier: Apache-2.0 */
/*
 * /dev inside the rootfs: the default devices the runtime spec requires, linux.devices, and the
 * usual symlinks (fd, stdin/stdout/stderr, ptmx, core).  In a new user namespace mknod of a
 * device is refused, so the host's node is bound onto an empty file instead.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "linux.h"
#include "rootfs-internal.h"

#include "base/banned.h"

static const struct berth_device default_devices[] = {
	{.path = "/dev/null", .type = 'c', .major = 1, .minor = 3},
	{.path = "/dev/zero", .type = 'c', .major = 1, .minor = 5},
	{.path = "/dev/full", .type = 'c', .major = 1, .minor = 7},
	{.path = "/dev/random", .type = 'c', .major = 1, .minor = 8},
	{.path = "/dev/urandom", .type = 'c', .major = 1, .minor = 9},
	{.path = "/dev/tty", .type = 'c', .major = 5, .minor = 0},
};

bool berth_rootfs_dev_is_bind(const struct berth_spec *spec)
{
	for (size_t i = 0; i < spec->n_mounts; i++) {
		const struct berth_mount *m = &spec->mounts[i];
		const char *d = m->destination;
		if (!d)
			continue;
		while (d[0] == '/' && d[1] == '/')
			d++;
		if ((strcmp(d, "/dev") == 0 || strcmp(d, "/dev/") == 0) &&
		    (m->bind || berth_streq(m->type, "bind")))
			return true;
	}
	return false;
}

/* Split "/a/b/c" into an fd on "/a/b" (made when missing) and "c". */
static int open_parent(int rootfd, const char *path, int *ret_fd, char **ret_name)
{
	_cleanup_free_ char *dir = strdup(path);
	char *slash, *name;
	int r;

	if (!dir)
		return -ENOMEM;
	while (strlen(dir) > 1 && dir[strlen(dir) - 1] == '/')
		dir[strlen(dir) - 1] = '\0';
	slash = strrchr(dir, '/');
	if (!slash) {
		name = strdup(dir);
		dir[0] = '\0';
	} else {
		name = strdup(slash + 1);
		slash[1] = '\0';
	}
	if (!name)
		return -ENOMEM;
	if (!*name || strcmp(name, ".") == 0 || strcmp(name, "..") == 0) {
		free(name);
		return -EINVAL;
	}
	r = berth_root_mkpath(rootfd, *dir ? dir : "/", 0, false, ret_fd);
	if (r < 0) {
		free(name);
		return r;
	}
	*ret_name = name;
	return 0;
}

static mode_t node_type(char t)
{
	switch (t) {
	case 'b':
		return S_IFBLK;
	case 'p':
		return S_IFIFO;
	case 'c':
	case 'u':
		return S_IFCHR;
	default:
		return 0;
	}
}

static int create_device(const struct berth_rootfs_ctx *ctx, int rootfd,
			 const struct berth_device *d, struct berth_error **err)
{
	_cleanup_close_ int dirfd = -EBADF, node = -EBADF;
	_cleanup_free_ char *name = NULL;
	mode_t type = node_type(d->type);
	mode_t mode = d->file_mode == BERTH_UNSET ? 0666 : (mode_t)(d->file_mode & 07777);
	uid_t uid = d->uid == BERTH_UNSET ? 0 : (uid_t)d->uid;
	gid_t gid = d->gid == BERTH_UNSET ? 0 : (gid_t)d->gid;
	int r;

	if (!d->path || !type)
		return berth_error_set(err, EINVAL, "device '%s': bad type '%c'",
				       d->path ? d->path : "", d->type ? d->type : '?');
	if (type != S_IFIFO &&
	    (d->major < 0 || d->minor < 0 || d->major > UINT32_MAX || d->minor > UINT32_MAX))
		return berth_error_set(err, EINVAL, "device '%s': bad major/minor", d->path);
	r = open_parent(rootfd, d->path, &dirfd, &name);
	if (r < 0)
		return berth_error_sys(err, -r, "device '%s'", d->path);

	/* whatever the image has there is replaced */
	if (unlinkat(dirfd, name, 0) < 0 && errno != ENOENT)
		return berth_error_sys(err, errno, "device '%s': remove the existing file",
				       d->path);

	if (ctx->new_userns && type != S_IFIFO) {
		char p[32];
		int fd = openat(dirfd, name, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC,
				0600);
		if (fd < 0)
			return berth_error_sys(err, errno, "device '%s': create", d->path);
		close(fd);
		node = openat(dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (node < 0)
			return berth_error_sys(err, errno, "device '%s': open", d->path);
		/* the host's node at the same path: a user namespace may not mknod */
		if (mount(d->path, berth_fd_path(node, p, sizeof(p)), NULL, MS_BIND, NULL) < 0)
			return berth_error_sys(err, errno, "mount '%s' on '%s'", d->path, d->path);
		return 0;
	}

	dev_t dev = type == S_IFIFO ? 0 : makedev((unsigned)d->major, (unsigned)d->minor);
	if (mknodat(dirfd, name, type | mode, dev) < 0)
		return berth_error_sys(err, errno, "mknod '%s'", d->path);
	/* the umask took bits away from mknod's mode: fileMode is applied exactly */
	if (fchmodat(dirfd, name, mode, 0) < 0)
		return berth_error_sys(err, errno, "chmod '%s'", d->path);
	if (fchownat(dirfd, name, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
		return berth_error_sys(err, errno, "chown '%s'", d->path);
	return 0;
}

static bool spec_has_device(const struct berth_linux *l, const char *path)
{
	for (size_t i = 0; i < l->n_devices; i++)
		if (berth_streq(l->devices[i].path, path))
			return true;
	return false;
}

static int dev_symlinks(int rootfd, struct berth_error **err)
{
	static const char *const links[][2] = {
		{"/proc/self/fd", "fd"},
		{"/proc/self/fd/0", "stdin"},
		{"/proc/self/fd/1", "stdout"},
		{"/proc/self/fd/2", "stderr"},
	};
	_cleanup_close_ int dev = -EBADF;
	int r;

	r = berth_root_mkpath(rootfd, "/dev", 0, false, &dev);
	if (r < 0)
		return berth_error_sys(err, -r, "create '/dev'");
	for (size_t i = 0; i < ARRAY_SIZE(links); i++)
		if (symlinkat(links[i][0], dev, links[i][1]) < 0 && errno != EEXIST)
			return berth_error_sys(err, errno, "symlink '/dev/%s'", links[i][1]);
	/* /proc/kcore exists only with CONFIG_PROC_KCORE */
	if (access("/proc/kcore", F_OK) == 0 && symlinkat("/proc/kcore", dev, "core") < 0 &&
	    errno != EEXIST)
		return berth_error_sys(err, errno, "symlink '/dev/core'");
	/* the devpts instance mounted at /dev/pts has its own ptmx: point at it */
	if (unlinkat(dev, "ptmx", 0) < 0 && errno != ENOENT)
		return berth_error_sys(err, errno, "remove '/dev/ptmx'");
	if (symlinkat("pts/ptmx", dev, "ptmx") < 0)
		return berth_error_sys(err, errno, "symlink '/dev/ptmx'");
	return 0;
}

int berth_devices_create(const struct berth_rootfs_ctx *ctx, int rootfd, struct berth_error **err)
{
	const struct berth_linux *l = &ctx->spec->linux_;
	int r;

	/* a /dev bound from the host is the user's: nothing is added to it */
	if (berth_rootfs_dev_is_bind(ctx->spec))
		return 0;
	for (size_t i = 0; i < ARRAY_SIZE(default_devices); i++) {
		if (spec_has_device(l, default_devices[i].path))
			continue;
		struct berth_device d = default_devices[i];
		d.file_mode = 0666;
		d.uid = 0;
		d.gid = 0;
		r = create_device(ctx, rootfd, &d, err);
		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < l->n_devices; i++) {
		r = create_device(ctx, rootfd, &l->devices[i], err);
		if (r < 0)
			return r;
	}
	return dev_symlinks(rootfd, err);
}
