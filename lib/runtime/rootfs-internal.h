/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * Shared by rootfs.c, mounts.c and devices.c (and tests/unit/test-mounts.c): resolving paths
 * inside a container root without ever leaving it, and the mount steps prepare runs.
 */

#include <stdbool.h>
#include <sys/types.h>

#include "linux.h"

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
