/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A container's root filesystem: overlayfs with the image's layers read-only below and
 * <container>/upper as the writable layer, mounted on <container>/merged.
 *
 * mount(2) takes all options in one page, which 200 absolute lowerdir paths overflow.  Two ways
 * round it, behind one ops table chosen once:
 *   - fsconfig: the new mount API with one "lowerdir+" per layer (kernel >= 6.8); a path longer
 *     than fsconfig's 256-byte strings is given as /proc/self/fd/N of an O_PATH fd;
 *   - legacy: short links <container>/l/<n> -> each layer's diff, and mount(2) called by a
 *     child process that changed to <container>, so the option string holds only
 *     "lowerdir=l/0:l/1:...,upperdir=upper,workdir=work" (a child, because the daemon's other
 *     threads share its working directory); 500 layers take under 3000 bytes.
 * Both set index=off, redirect_dir=off and metacopy=off: upper/ is then always a plain diff
 * (whiteouts and opaque directories only), which is what commit and diff read.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "image-internal.h"

#include "base/banned.h"

#define FSCONFIG_STRING_MAX 256 /* fsconfig copies at most 256 bytes of a string value */

struct rootfs_ops {
	const char *name;
	/* lowers: absolute diff paths, topmost first; dirfd: the container directory */
	int (*mount)(int dirfd, const char *dir, char **lowers, size_t n, struct berth_error **err);
};

/* ---- the new mount API ------------------------------------------------------------------ */

/* what the kernel said about a failed fsconfig, from the context's message queue */
static void fs_messages(int fsfd, char *buf, size_t size)
{
	size_t used = 0;

	buf[0] = '\0';
	for (;;) {
		char line[512];
		ssize_t n = read(fsfd, line, sizeof(line) - 1);
		if (n <= 0)
			break;
		line[n] = '\0';
		if (used < size)
			used += (size_t)snprintf(buf + used, size - used, "%s%s", used ? "; " : "",
						 line);
	}
}

static int set_path(int fsfd, const char *key, const char *path)
{
	char proc[64];
	int fd, r;

	if (strlen(path) < FSCONFIG_STRING_MAX)
		return fsconfig(fsfd, FSCONFIG_SET_STRING, key, path, 0) < 0 ? -errno : 0;
	fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	r = fsconfig(fsfd, FSCONFIG_SET_STRING, key, proc, 0) < 0 ? -errno : 0;
	close(fd);
	return r;
}

/* kernels before 6.8 have no "lowerdir+": noticed once, then legacy */
static bool have_lowerdir_add = true;

/*
 * Does the VFS's legacy wrapper stand in for overlayfs' own parser?  Overlayfs speaks the new
 * mount API itself from 6.5 (and takes "lowerdir+" from 6.8); before, fsopen("overlay") works
 * but fsconfig takes any key into an option string that only the final mount parses, so
 * "lowerdir+" is accepted and the mount fails with a bare EINVAL (Debian 12's 6.1).  A key no
 * parser knows tells them apart: the wrapper takes it, overlayfs' own parser refuses it at once.
 */
static bool overlay_legacy_wrapper(void)
{
	_cleanup_close_ int fd = fsopen("overlay", FSOPEN_CLOEXEC);

	return fd >= 0 && fsconfig(fd, FSCONFIG_SET_STRING, "berth-probe", "x", 0) == 0;
}

static int mount_fsconfig(int dirfd, const char *dir, char **lowers, size_t n,
			  struct berth_error **err)
{
	_cleanup_close_ int fsfd = -EBADF, mfd = -EBADF;
	_cleanup_free_ char *upper = NULL, *work = NULL, *merged = NULL;
	char msg[1024];
	const char *step = "fsopen";
	int r;

	(void)dirfd;
	if (asprintf(&upper, "%s/upper", dir) < 0 || asprintf(&work, "%s/work", dir) < 0 ||
	    asprintf(&merged, "%s/merged", dir) < 0)
		return berth_error_set(err, ENOMEM, "out of memory");
	fsfd = fsopen("overlay", FSOPEN_CLOEXEC);
	if (fsfd < 0) {
		r = -errno;
		goto fail;
	}
	if (overlay_legacy_wrapper()) {
		have_lowerdir_add = false;
		return -EOPNOTSUPP;
	}
	step = "source";
	if (fsconfig(fsfd, FSCONFIG_SET_STRING, "source", "overlay", 0) < 0) {
		r = -errno;
		goto fail;
	}
	for (size_t i = 0; i < n; i++) {
		step = "lowerdir+";
		r = set_path(fsfd, "lowerdir+", lowers[i]);
		if (r == -EINVAL && i == 0) {
			have_lowerdir_add = false;
			return -EOPNOTSUPP;
		}
		if (r < 0)
			goto fail;
	}
	step = "upperdir";
	r = set_path(fsfd, "upperdir", upper);
	if (r == 0) {
		step = "workdir";
		r = set_path(fsfd, "workdir", work);
	}
	static const char *const opts[][2] = {
		{"index", "off"}, {"redirect_dir", "off"}, {"metacopy", "off"}};
	for (size_t i = 0; r == 0 && i < ARRAY_SIZE(opts); i++) {
		step = opts[i][0];
		if (fsconfig(fsfd, FSCONFIG_SET_STRING, opts[i][0], opts[i][1], 0) < 0)
			r = -errno;
	}
	if (r < 0)
		goto fail;
	step = "create";
	if (fsconfig(fsfd, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0) {
		r = -errno;
		goto fail;
	}
	step = "fsmount";
	mfd = fsmount(fsfd, FSMOUNT_CLOEXEC, 0);
	if (mfd < 0) {
		r = -errno;
		goto fail;
	}
	step = "move_mount";
	if (move_mount(mfd, "", AT_FDCWD, merged, MOVE_MOUNT_F_EMPTY_PATH) < 0) {
		r = -errno;
		goto fail;
	}
	return 0;
fail:
	if (r == -ENOSYS && fsfd < 0)
		return -EOPNOTSUPP;
	msg[0] = '\0';
	if (fsfd >= 0)
		fs_messages(fsfd, msg, sizeof(msg));
	return berth_error_set(err, -r, "mount overlay on '%s' (%s): %s%s%s", merged, step,
			       strerror(-r), *msg ? ": " : "", msg);
}

/* ---- the legacy way: mount(2) from the container directory ------------------------------ */

static int make_links(int dirfd, char **lowers, size_t n, struct berth_error **err)
{
	_cleanup_close_ int lfd = -EBADF;

	if (mkdirat(dirfd, "l", 0700) < 0 && errno != EEXIST)
		return berth_error_sys(err, errno, "mkdir 'l'");
	lfd = openat(dirfd, "l", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (lfd < 0)
		return berth_error_sys(err, errno, "open 'l'");
	for (size_t i = 0; i < n; i++) {
		char name[24];
		snprintf(name, sizeof(name), "%zu", i);
		if (unlinkat(lfd, name, 0) < 0 && errno != ENOENT)
			return berth_error_sys(err, errno, "remove 'l/%s'", name);
		if (symlinkat(lowers[i], lfd, name) < 0)
			return berth_error_sys(err, errno, "link 'l/%s'", name);
	}
	return 0;
}

static int mount_legacy(int dirfd, const char *dir, char **lowers, size_t n,
			struct berth_error **err)
{
	_cleanup_free_ char *opts = NULL;
	size_t cap = 160 + n * 24, len;
	long page = sysconf(_SC_PAGESIZE);
	int status, r;
	pid_t pid;

	r = make_links(dirfd, lowers, n, err);
	if (r < 0)
		return r;
	opts = malloc(cap);
	if (!opts)
		return berth_error_set(err, ENOMEM, "out of memory");
	len = (size_t)snprintf(opts, cap, "lowerdir=");
	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(opts + len, cap - len, "%sl/%zu", i ? ":" : "", i);
	snprintf(opts + len, cap - len,
		 ",upperdir=upper,workdir=work,index=off,redirect_dir=off,"
		 "metacopy=off");
	if ((long)strlen(opts) >= page)
		return berth_error_set(err, E2BIG,
				       "mount overlay on '%s/merged': %zu layers need %zu bytes of "
				       "options, more than a page",
				       dir, n, strlen(opts));
	pid = fork();
	if (pid < 0)
		return berth_error_sys(err, errno, "fork");
	if (pid == 0) {
		/* only async-signal-safe calls: the parent may have threads */
		if (fchdir(dirfd) < 0)
			_exit(errno & 0xff);
		if (mount("overlay", "merged", "overlay", 0, opts) < 0)
			_exit(errno & 0xff);
		_exit(0);
	}
	r = berth_waitpid(pid, 0, &status);
	if (r < 0)
		return berth_error_sys(err, -r, "wait for the mount helper");
	if (!WIFEXITED(status))
		return berth_error_set(err, EIO, "mount overlay on '%s/merged': helper killed",
				       dir);
	if (WEXITSTATUS(status))
		return berth_error_sys(err, WEXITSTATUS(status), "mount overlay on '%s/merged'",
				       dir);
	return 0;
}

static const struct rootfs_ops fsconfig_ops = {"fsconfig", mount_fsconfig};
static const struct rootfs_ops legacy_ops = {"legacy", mount_legacy};

/* ---- the public side -------------------------------------------------------------------- */

/* diff directories of top's chain, topmost first */
static int lower_paths(struct berth_image_store *s, const char *top, char ***ret, size_t *ret_n,
		       struct berth_error **err)
{
	json_t *chain = NULL;
	char **v;
	size_t n;
	int r;

	if (!top) {
		*ret = calloc(1, sizeof(char *));
		*ret_n = 0;
		return *ret ? 0 : berth_error_set(err, ENOMEM, "out of memory");
	}
	pthread_mutex_lock(&s->lock);
	r = img_layer_chain_locked(s, top, &chain);
	pthread_mutex_unlock(&s->lock);
	if (r == -ENOENT)
		return berth_error_set(err, ENOENT, "layer %s (or one below it) does not exist",
				       top);
	if (r < 0)
		return berth_error_set(err, -r, "out of memory");
	n = json_array_size(chain);
	v = calloc(n + 1, sizeof(char *));
	for (size_t i = 0; v && i < n; i++) {
		const char *c = json_string_value(json_array_get(chain, n - 1 - i));
		if (asprintf(&v[i], "%s/layers/%s/diff", s->root, c + 7) < 0) {
			v[i] = NULL;
			berth_strv_free(v);
			v = NULL;
		}
	}
	json_decref(chain);
	if (!v)
		return berth_error_set(err, ENOMEM, "out of memory");
	*ret = v;
	*ret_n = n;
	return 0;
}

void berth_rootfs_paths_release(struct berth_rootfs_paths *p)
{
	free(p->lower_dir);
	free(p->upper_dir);
	free(p->work_dir);
	free(p->merged_dir);
	memset(p, 0, sizeof(*p));
}

int berth_rootfs_paths(struct berth_image_store *s, const char *top_layer,
		       const char *container_dir, struct berth_rootfs_paths *ret,
		       struct berth_error **err)
{
	_cleanup_strv_ char **lowers = NULL;
	struct berth_rootfs_paths p = {0};
	size_t n, len = 0;
	int r;

	r = lower_paths(s, top_layer, &lowers, &n, err);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++)
		len += strlen(lowers[i]) + 1;
	if (n) {
		p.lower_dir = malloc(len);
		if (!p.lower_dir)
			return berth_error_set(err, ENOMEM, "out of memory");
		p.lower_dir[0] = '\0';
		for (size_t i = 0, o = 0; i < n; i++)
			o += (size_t)snprintf(p.lower_dir + o, len - o, "%s%s", i ? ":" : "",
					      lowers[i]);
	}
	if (asprintf(&p.upper_dir, "%s/upper", container_dir) < 0 ||
	    asprintf(&p.work_dir, "%s/work", container_dir) < 0 ||
	    asprintf(&p.merged_dir, "%s/merged", container_dir) < 0) {
		berth_rootfs_paths_release(&p);
		return berth_error_set(err, ENOMEM, "out of memory");
	}
	*ret = p;
	return 0;
}

static int is_mount_point(int dirfd, const char *name)
{
	struct statx sx;
	struct stat parent, st;

	if (statx(dirfd, name, AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, &sx) == 0 &&
	    (sx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT))
		return !!(sx.stx_attributes & STATX_ATTR_MOUNT_ROOT);
	/* kernel < 5.8: another device is another mount */
	if (fstat(dirfd, &parent) < 0 || fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	return parent.st_dev != st.st_dev;
}

int berth_rootfs_mount(struct berth_image_store *s, const char *top_layer,
		       const char *container_dir, unsigned flags, struct berth_error **err)
{
	_cleanup_strv_ char **lowers = NULL;
	_cleanup_close_ int dirfd = -EBADF;
	const struct rootfs_ops *ops;
	size_t n;
	int r;

	r = lower_paths(s, top_layer, &lowers, &n, err);
	if (r < 0)
		return berth_error_wrap(err, "mount root of '%s'", container_dir);
	if (n > s->limits.max_layers)
		return berth_error_set(err, EFBIG, "mount root of '%s': more than %u layers",
				       container_dir, s->limits.max_layers);
	r = berth_mkdir_p(container_dir, 0700, err);
	if (r < 0)
		return r;
	dirfd = open(container_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		return berth_error_sys(err, errno, "open '%s'", container_dir);
	static const struct {
		const char *name;
		mode_t mode;
	} dirs[] = {{"upper", 0755}, {"work", 0700}, {"merged", 0755}};
	for (size_t i = 0; i < ARRAY_SIZE(dirs); i++)
		if (mkdirat(dirfd, dirs[i].name, dirs[i].mode) < 0 && errno != EEXIST)
			return berth_error_sys(err, errno, "mkdir '%s/%s'", container_dir,
					       dirs[i].name);
	r = is_mount_point(dirfd, "merged");
	if (r < 0)
		return berth_error_sys(err, -r, "stat '%s/merged'", container_dir);
	if (r > 0)
		return berth_error_set(err, EBUSY, "'%s/merged' is already a mount point",
				       container_dir);
	if (n == 0) {
		/* an image without layers: overlayfs still wants one lower, an empty one */
		if (mkdirat(dirfd, "empty", 0755) < 0 && errno != EEXIST)
			return berth_error_sys(err, errno, "mkdir '%s/empty'", container_dir);
		berth_strv_free(lowers);
		lowers = calloc(2, sizeof(char *));
		if (!lowers || asprintf(&lowers[0], "%s/empty", container_dir) < 0)
			return berth_error_set(err, ENOMEM, "out of memory");
		n = 1;
	}
	ops = (flags & BERTH_ROOTFS_LEGACY_MOUNT) || !have_lowerdir_add ? &legacy_ops
									: &fsconfig_ops;
	r = ops->mount(dirfd, container_dir, lowers, n, err);
	if (r == -EOPNOTSUPP && ops == &fsconfig_ops)
		r = legacy_ops.mount(dirfd, container_dir, lowers, n, err);
	return r;
}

int berth_rootfs_unmount(const char *container_dir, struct berth_error **err)
{
	_cleanup_free_ char *merged = NULL;

	if (asprintf(&merged, "%s/merged", container_dir) < 0)
		return berth_error_set(err, ENOMEM, "out of memory");
	if (umount2(merged, MNT_DETACH | UMOUNT_NOFOLLOW) < 0 && errno != EINVAL && errno != ENOENT)
		return berth_error_sys(err, errno, "unmount '%s'", merged);
	return 0;
}

int berth_rootfs_remove(const char *container_dir, struct berth_error **err)
{
	static const char *const parts[] = {"merged", "upper", "work", "l", "empty"};
	int r = berth_rootfs_unmount(container_dir, err);

	for (size_t i = 0; r == 0 && i < ARRAY_SIZE(parts); i++) {
		_cleanup_free_ char *p = NULL;
		if (asprintf(&p, "%s/%s", container_dir, parts[i]) < 0)
			return berth_error_set(err, ENOMEM, "out of memory");
		r = berth_rm_rf(p, err);
	}
	return r;
}
