/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The root filesystem of a container: preparing it in the new mount namespace, pivot_root, and
 * the last read-only/masking steps (paths inside it are resolved by lib/base/inroot.c).
 * mounts.c mounts the mounts[] entries and devices.c fills /dev.  docs/rootfs.md describes the
 * order and the reasons.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "linux.h"
#include "rootfs-internal.h"

#include "base/banned.h"

#define PROPAGATION_MASK (MS_SHARED | MS_SLAVE | MS_PRIVATE | MS_UNBINDABLE)

const char *berth_fd_path(int fd, char *buf, size_t size)
{
	snprintf(buf, size, "/proc/self/fd/%d", fd);
	return buf;
}

/* ---- mount flag helpers ------------------------------------------------------------------ */

int berth_mount_flags_of(int fd, unsigned long *ret)
{
	static const struct {
		unsigned long st, ms;
	} map[] = {
		{ST_RDONLY, MS_RDONLY},	    {ST_NOSUID, MS_NOSUID},
		{ST_NODEV, MS_NODEV},	    {ST_NOEXEC, MS_NOEXEC},
		{ST_NOATIME, MS_NOATIME},   {ST_NODIRATIME, MS_NODIRATIME},
		{ST_RELATIME, MS_RELATIME},
	};
	struct statvfs sv;
	unsigned long flags = 0;

	if (fstatvfs(fd, &sv) < 0)
		return -errno;
	for (size_t i = 0; i < ARRAY_SIZE(map); i++)
		if (sv.f_flag & map[i].st)
			flags |= map[i].ms;
	*ret = flags;
	return 0;
}

static int remount_bind_at(const char *target, int fd, unsigned long flags, bool keep)
{
	unsigned long cur = 0;

	flags &= ~(PROPAGATION_MASK | MS_REC | MS_BIND | MS_REMOUNT);
	if (keep && berth_mount_flags_of(fd, &cur) == 0)
		flags |= cur & (MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME | MS_NODIRATIME |
				MS_RELATIME);
	if (mount(NULL, target, NULL, MS_REMOUNT | MS_BIND | flags, NULL) == 0)
		return 0;
	if (errno != EPERM || berth_mount_flags_of(fd, &cur) < 0)
		return -errno;
	/*
	 * A mount inherited from a more privileged namespace has its nosuid/nodev/noexec/ro/atime
	 * flags locked; keep the ones set and the remount is allowed.
	 */
	if (!(flags & (MS_NOATIME | MS_RELATIME | MS_STRICTATIME)))
		flags |= cur & (MS_NOATIME | MS_NODIRATIME | MS_RELATIME);
	if ((flags | (cur & (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC))) == flags)
		return -EPERM;
	flags |= cur & (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC);
	if (mount(NULL, target, NULL, MS_REMOUNT | MS_BIND | flags, NULL) < 0)
		return -errno;
	return 0;
}

int berth_remount_bind(int fd, unsigned long flags)
{
	char p[32];
	return remount_bind_at(berth_fd_path(fd, p, sizeof(p)), fd, flags, false);
}

/* ---- prepare ----------------------------------------------------------------------------- */

/* Undo the \ooo escapes of a mountinfo field, in place. */
static void mountinfo_unescape(char *s)
{
	char *w = s;
	for (char *r = s; *r;) {
		if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' && r[2] <= '7' &&
		    r[3] >= '0' && r[3] <= '7') {
			*w++ = (char)((r[1] - '0') * 64 + (r[2] - '0') * 8 + (r[3] - '0'));
			r += 4;
		} else {
			*w++ = *r++;
		}
	}
	*w = '\0';
}

/*
 * pivot_root refuses a new root whose mount, or whose parent mount, is shared.  With a shared
 * rootfsPropagation "/" is shared; make the mount that holds the rootfs private first so that
 * the bind of the rootfs made from it is private too.
 */
static int make_parent_mount_private(const char *rootfs, struct berth_error **err)
{
	_cleanup_fclose_ FILE *f = fopen("/proc/self/mountinfo", "re");
	_cleanup_free_ char *line = NULL, *best = NULL;
	size_t cap = 0, best_len = 0;

	if (!f)
		return berth_error_sys(err, errno, "open '/proc/self/mountinfo'");
	while (getline(&line, &cap, f) > 0) {
		char *save = NULL, *mp = NULL, *tok = strtok_r(line, " ", &save);
		for (int i = 0; tok && i < 4; i++)
			tok = strtok_r(NULL, " ", &save);
		mp = tok;
		if (!mp)
			continue;
		mountinfo_unescape(mp);
		size_t len = strlen(mp);
		bool prefix = strcmp(mp, "/") == 0 || (strncmp(rootfs, mp, len) == 0 &&
						       (rootfs[len] == '/' || rootfs[len] == '\0'));
		if (prefix && (len >= best_len || !best)) {
			free(best);
			best = strdup(mp);
			if (!best)
				return berth_error_set(err, ENOMEM, "out of memory");
			best_len = len;
		}
	}
	if (best && mount(NULL, best, NULL, MS_PRIVATE, NULL) < 0)
		return berth_error_sys(err, errno, "make '%s' private", best);
	return 0;
}

int berth_mounts_below(const char *dir, int **ret_ids, char ***ret_paths, size_t *ret_n,
		       struct berth_error **err)
{
	_cleanup_fclose_ FILE *f = fopen("/proc/self/mountinfo", "re");
	_cleanup_free_ char *line = NULL;
	_cleanup_free_ int *ids = NULL;
	_cleanup_strv_ char **paths = NULL;
	size_t cap = 0, n = 0, dlen = strlen(dir);

	if (!f)
		return berth_error_sys(err, errno, "open '/proc/self/mountinfo'");
	paths = calloc(1, sizeof(char *));
	if (!paths)
		return berth_error_set(err, ENOMEM, "out of memory");
	while (getline(&line, &cap, f) > 0) {
		char *save = NULL, *id = strtok_r(line, " ", &save), *mp = id;
		int64_t v;
		for (int i = 0; mp && i < 4; i++)
			mp = strtok_r(NULL, " ", &save);
		if (!id || !mp || berth_parse_int64(id, 0, INT32_MAX, &v) < 0)
			continue;
		mountinfo_unescape(mp);
		if (strncmp(mp, dir, dlen) != 0 || (mp[dlen] != '/' && mp[dlen] != '\0'))
			continue;
		int *nids = reallocarray(ids, n + 1, sizeof(*ids));
		if (!nids || berth_strv_push(&paths, mp) < 0) {
			if (nids)
				ids = nids;
			return berth_error_set(err, ENOMEM, "out of memory");
		}
		ids = nids;
		ids[n++] = (int)v;
	}
	*ret_ids = TAKE_PTR(ids);
	*ret_paths = TAKE_PTR(paths);
	*ret_n = n;
	return 0;
}

void berth_unmount_all(char **paths)
{
	for (size_t n = berth_strv_length(paths); n > 0; n--) {
		_cleanup_free_ int *ids = NULL;
		_cleanup_strv_ char **now = NULL;
		size_t k = 0;
		/* only what is still a mount point: the same path may be a plain directory now */
		if (berth_mounts_below(paths[n - 1], &ids, &now, &k, NULL) < 0)
			continue;
		for (size_t i = 0; i < k; i++)
			if (strcmp(now[i], paths[n - 1]) == 0) {
				umount2(paths[n - 1], MNT_DETACH | UMOUNT_NOFOLLOW);
				break;
			}
	}
}

int berth_rootfs_prepare(const struct berth_rootfs_ctx *ctx, struct berth_error **err)
{
	const struct berth_spec *spec = ctx->spec;
	unsigned long prop = spec->linux_.rootfs_propagation;
	_cleanup_close_ int rootfd = -EBADF;
	int r;

	if (ctx->shared_mountns) {
		/* the caller's mount namespace: "/" stays as it is; chroot needs no mount point */
		rootfd = open(ctx->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (rootfd < 0)
			return berth_error_sys(err, errno, "open rootfs '%s'", ctx->rootfs);
		for (size_t i = 0; i < spec->n_mounts; i++) {
			r = berth_mount_one(ctx, rootfd, &spec->mounts[i], err);
			if (r < 0)
				return r;
		}
		return berth_devices_create(ctx, rootfd, err);
	}

	/*
	 * rslave unless rootfsPropagation says otherwise: nothing the container mounts may
	 * propagate back to the host, while the host's later mounts may still reach it.
	 */
	if (!prop)
		prop = MS_SLAVE | MS_REC;
	if (mount(NULL, "/", NULL, prop, NULL) < 0)
		return berth_error_sys(err, errno, "set propagation of '/'");
	/* a non-recursive value leaves the mount holding the rootfs as the host had it */
	if ((prop & MS_SHARED) || !(prop & MS_REC)) {
		r = make_parent_mount_private(ctx->rootfs, err);
		if (r < 0)
			return r;
	}

	/* pivot_root needs the new root to be a mount point */
	if (mount(ctx->rootfs, ctx->rootfs, NULL, MS_BIND | MS_REC, NULL) < 0)
		return berth_error_sys(err, errno, "bind rootfs '%s'", ctx->rootfs);
	rootfd = open(ctx->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return berth_error_sys(err, errno, "open rootfs '%s'", ctx->rootfs);

	for (size_t i = 0; i < spec->n_mounts; i++) {
		r = berth_mount_one(ctx, rootfd, &spec->mounts[i], err);
		if (r < 0)
			return r;
	}
	return berth_devices_create(ctx, rootfd, err);
}

/* ---- pivot ------------------------------------------------------------------------------- */

int berth_rootfs_pivot(const struct berth_rootfs_ctx *ctx, struct berth_error **err)
{
	_cleanup_close_ int oldroot = -EBADF, newroot = -EBADF;

	if (ctx->shared_mountns) {
		/* pivot_root would turn the caller's own root around: chroot, as runc does */
		if (chdir(ctx->rootfs) < 0)
			return berth_error_sys(err, errno, "chdir '%s'", ctx->rootfs);
		if (chroot(".") < 0)
			return berth_error_sys(err, errno, "chroot '%s'", ctx->rootfs);
		if (chdir("/") < 0)
			return berth_error_sys(err, errno, "chdir '/'");
		return 0;
	}
	if (ctx->no_pivot) {
		/* --no-pivot (e.g. a ramfs root, where pivot_root is refused): move + chroot */
		if (chdir(ctx->rootfs) < 0)
			return berth_error_sys(err, errno, "chdir '%s'", ctx->rootfs);
		if (mount(ctx->rootfs, "/", NULL, MS_MOVE, NULL) < 0)
			return berth_error_sys(err, errno, "move '%s' to '/'", ctx->rootfs);
		if (chroot(".") < 0)
			return berth_error_sys(err, errno, "chroot '%s'", ctx->rootfs);
		if (chdir("/") < 0)
			return berth_error_sys(err, errno, "chdir '/'");
		return 0;
	}

	oldroot = open("/", O_DIRECTORY | O_RDONLY | O_CLOEXEC);
	if (oldroot < 0)
		return berth_error_sys(err, errno, "open '/'");
	newroot = open(ctx->rootfs, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
	if (newroot < 0)
		return berth_error_sys(err, errno, "open rootfs '%s'", ctx->rootfs);
	if (fchdir(newroot) < 0)
		return berth_error_sys(err, errno, "chdir '%s'", ctx->rootfs);
	/*
	 * pivot_root(".", "."): the old root ends up stacked on top of the new one, so no
	 * directory for it is needed inside the rootfs; it is then detached from underneath.
	 */
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		return berth_error_sys(err, errno, "pivot_root '%s'", ctx->rootfs);
	if (fchdir(oldroot) < 0)
		return berth_error_sys(err, errno, "chdir to the old root");
	/* slave first, or the unmount would propagate to the host's mounts */
	if (mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0)
		return berth_error_sys(err, errno, "make the old root a slave");
	if (umount2(".", MNT_DETACH) < 0)
		return berth_error_sys(err, errno, "unmount the old root");
	if (chdir("/") < 0)
		return berth_error_sys(err, errno, "chdir '/'");
	return 0;
}

/* ---- finalize ---------------------------------------------------------------------------- */

/*
 * After pivot_root "/" is the container's own, so a path can no longer leave it; resolving
 * inside the root still refuses magic links.  /proc may not be mounted: then mount by path.
 */
static const char *target_path(int fd, const char *path, char *buf, size_t size)
{
	berth_fd_path(fd, buf, size);
	if (access(buf, F_OK) < 0)
		return path;
	return buf;
}

static int readonly_path(int rootfd, const char *path, struct berth_error **err)
{
	_cleanup_close_ int fd = -EBADF, top = -EBADF;
	char buf[32];
	int r;

	r = berth_root_open(rootfd, path, 0, &fd);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return berth_error_sys(err, -r, "readonly path '%s'", path);
	if (mount(path, target_path(fd, path, buf, sizeof(buf)), NULL, MS_BIND | MS_REC, NULL) < 0)
		return berth_error_sys(err, errno, "bind readonly path '%s'", path);
	/* the bind's top, not the directory it covers */
	r = berth_root_open(rootfd, path, 0, &top);
	if (r < 0)
		return berth_error_sys(err, -r, "readonly path '%s'", path);
	/* keep what the bind inherited (proc's nosuid,nodev,noexec), add ro */
	r = remount_bind_at(target_path(top, path, buf, sizeof(buf)), top, MS_RDONLY, true);
	if (r < 0)
		return berth_error_sys(err, -r, "remount '%s' read-only", path);
	return 0;
}

static int masked_path(int rootfd, const char *path, struct berth_error **err)
{
	_cleanup_close_ int fd = -EBADF;
	struct stat sb;
	char buf[32];
	const char *target;
	int r;

	r = berth_root_open(rootfd, path, 0, &fd);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return berth_error_sys(err, -r, "masked path '%s'", path);
	if (fstat(fd, &sb) < 0)
		return berth_error_sys(err, errno, "stat masked path '%s'", path);
	target = target_path(fd, path, buf, sizeof(buf));
	if (S_ISDIR(sb.st_mode)) {
		if (mount("tmpfs", target, "tmpfs", MS_RDONLY, NULL) < 0)
			return berth_error_sys(err, errno, "mount 'tmpfs' on '%s'", path);
	} else if (mount("/dev/null", target, NULL, MS_BIND, NULL) < 0) {
		return berth_error_sys(err, errno, "mount '/dev/null' on '%s'", path);
	}
	return 0;
}

int berth_rootfs_finalize(const struct berth_rootfs_ctx *ctx, struct berth_error **err)
{
	const struct berth_linux *l = &ctx->spec->linux_;
	_cleanup_close_ int rootfd = -EBADF;
	int r;

	rootfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return berth_error_sys(err, errno, "open '/'");

	if (ctx->spec->root_readonly) {
		unsigned long cur = 0;
		r = berth_mount_flags_of(rootfd, &cur);
		if (r < 0)
			return berth_error_sys(err, -r, "statvfs '/'");
		/* keep nosuid/nodev/noexec/atime as they are: only ro is asked for */
		if (mount(NULL, "/", NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | cur, NULL) < 0)
			return berth_error_sys(err, errno, "remount '/' read-only");
	}
	for (char **p = l->readonly_paths; p && *p; p++) {
		r = readonly_path(rootfd, *p, err);
		if (r < 0)
			return r;
	}
	for (char **p = l->masked_paths; p && *p; p++) {
		r = masked_path(rootfd, *p, err);
		if (r < 0)
			return r;
	}
	if (l->rootfs_propagation && mount(NULL, "/", NULL, l->rootfs_propagation, NULL) < 0)
		return berth_error_sys(err, errno, "set propagation of '/'");
	return 0;
}
