/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Paths inside a directory tree resolved as if the tree were "/" (inroot.c). */

#include <stdbool.h>

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
 * The same resolution, but the file itself opened with flags (openat's, without O_CREAT:
 * O_RDONLY, O_PATH, O_DIRECTORY, O_NONBLOCK; O_NOFOLLOW leaves a final symlink unfollowed), for
 * reading what is inside the root.  The walk opens the last component by name from its parent
 * with O_NOFOLLOW, so a symlink swapped in meanwhile is refused (-ELOOP).  0 and *ret_fd, or
 * -errno.
 */
int berth_root_open_file(int rootfd, const char *path, int flags, int *ret_fd);

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
 * missing parents, and return an O_PATH fd to it (flags as berth_root_open's).  Symlinks on the
 * way are resolved inside the root (a dangling one has its target created).
 */
int berth_root_mkpath(int rootfd, const char *path, int flags, bool file, int *ret_fd);

/* Whether berth_root_open uses openat2 (the kernel has it and no test forced the walk). */
bool berth_root_uses_openat2(void);
/* Tests set this to make berth_root_open always walk, as on a kernel without openat2. */
extern bool berth_root_force_walk;
