/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * Shared by rootfs.c, mounts.c and devices.c (and tests/unit/test-mounts.c): resolving paths
 * inside a container root without ever leaving it, and the mount steps prepare runs.
 */

#include <stdbool.h>
#include <sys/types.h>

#include "linux.h"

#define BERTH_ROOT_MAX_SYMLINKS 40 /* as the kernel's own limit for one path walk */

/*
 * Open path inside the tree at rootfd as if rootfd were "/": ".." stops at the root, absolute
 * symlinks restart from it, magic links (/proc/PID/fd/...) are refused.  flags are OR'ed into
 * O_PATH|O_CLOEXEC; O_NOFOLLOW leaves a final symlink unfollowed, O_DIRECTORY requires a
 * directory.  Uses openat2(RESOLVE_IN_ROOT) and falls back to berth_root_open_walk() when the
 * kernel lacks it.  Returns 0 and *ret_fd, or -errno (-ENOENT, -ELOOP, -ENOTDIR ...).
 */
int berth_root_open(int rootfd, const char *path, int flags, int *ret_fd);

/*
 * The fallback: walk path one component at a time with O_NOFOLLOW, reading each symlink and
 * splicing its target into what is left (absolute targets restart at rootfd).  Never follows a
 * link itself, so a magic link is only ever read as text.  With create, a missing component is
 * made: a directory (mode 0755), or for the last component an empty regular file when
 * create_file (mode 0644 before the umask is bypassed by fchmod), or a directory otherwise.
 */
int berth_root_open_walk(int rootfd, const char *path, int flags, bool create, bool create_file,
			 int *ret_fd);

/*
 * Make sure path exists inside rootfd (as a directory, or an empty file when file), creating
 * missing parents, and return an O_PATH fd to it.  Symlinks on the way are resolved inside
 * the root (a dangling one has its target created).
 */
int berth_root_mkpath(int rootfd, const char *path, bool file, int *ret_fd);

/* "/proc/self/fd/N" into buf (at least 32 bytes). */
const char *berth_fd_path(int fd, char *buf, size_t size);

/* The MS_RDONLY/MS_NOSUID/MS_NODEV/MS_NOEXEC/atime flags now set on the mount holding fd. */
int berth_mount_flags_of(int fd, unsigned long *ret);

/*
 * Remount the bind mount at fd (an O_PATH fd on the mount's top) with flags (MS_RDONLY ...).
 * In a user namespace the flags a less privileged mount locked cannot be cleared: on EPERM
 * the flags now set are added and it is tried once more, as runc does.  Returns 0 or -errno.
 */
int berth_remount_bind(int fd, unsigned long flags);

/* mounts.c: mount one mounts[] entry inside the root. */
int berth_mount_one(const struct berth_rootfs_ctx *ctx, int rootfd, const struct berth_mount *m,
		    struct berth_error **err);

/* devices.c: default devices, linux.devices, the /dev symlinks; rootfd is the rootfs. */
int berth_devices_create(const struct berth_rootfs_ctx *ctx, int rootfd, struct berth_error **err);

/* Does the spec mount something of its own (a bind) at /dev?  Then /dev is left as given. */
bool berth_rootfs_dev_is_bind(const struct berth_spec *spec);
