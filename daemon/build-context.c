/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The build context of POST /build: the body received, unpacked, and removed at the end.
 *
 * With the context on the data root's disk, a cached build spent most of its time creating
 * the context's files and removing them again: ext4 makes every inode of it on each build,
 * and making inodes just after freeing others is its slow path (the allocator reads the inode
 * table to skip recently deleted ones).  So a small context lives in memory: the body goes
 * into a memfd and, when it stays within CONTEXT_MEM_MAX, is unpacked into a tmpfs mounted for
 * this build on <dir>/context (CONTEXT_TMPFS_SIZE at most: a compressed body that unpacks to
 * more is unpacked again on disk), which goes with one umount.  A larger body spills to
 * <dir>/context.tar on disk and is unpacked next to it, as remote= contexts are.
 *
 * What a step adds to the context for itself (a heredoc, an ADD download: <BUILD_URL_DIR>N)
 * goes beside the sources; a download, up to 8 GiB, is on disk even then: a directory of the
 * build bound onto the tmpfs.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "build-internal.h"
#include "runtime/linux.h"

#include "base/banned.h"

#define CONTEXT_MAX	   (16ULL << 30)
#define CONTEXT_MEM_MAX	   (64u << 20)
#define CONTEXT_TMPFS_SIZE "268435456" /* 256 MiB: a plain tar unpacks to less than itself */

static char *context_path(const struct build *b, const char *rel)
{
	char *p = NULL;

	return asprintf(&p, "%s/context%s%s", b->dir, rel ? "/" : "", rel ?: "") < 0 ? NULL : p;
}

static int open_context_dir(struct build *b, struct berth_error **err)
{
	_cleanup_free_ char *ctx = context_path(b, NULL);

	if (!ctx)
		return bld_oom(err);
	if (b->ctx_fd >= 0)
		close(b->ctx_fd);
	b->ctx_fd = open(ctx, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (b->ctx_fd < 0)
		return berth_error_sys(err, errno, "open '%s'", ctx);
	return 0;
}

int bld_apply_context_tar(struct build *b, int fd, struct berth_error **err)
{
	struct berth_tar_stats st;
	int r;

	off_t size = lseek(fd, 0, SEEK_END);
	if (size == 0)
		return 0; /* no context at all: the Dockerfile will be missing */
	/*
	 * The docker CLI's tar of a context with a Dockerfile from elsewhere ends without the last
	 * entry's padding and the end-of-archive blocks (Go's reader takes that): a plain tar is
	 * given them back.  Zeros after a whole tar change nothing.
	 */
	unsigned char magic[6] = {0};
	if (pread(fd, magic, sizeof(magic), 0) == (ssize_t)sizeof(magic) &&
	    !(magic[0] == 0x1f && magic[1] == 0x8b) && memcmp(magic, "BZh", 3) &&
	    memcmp(magic,
		   "\xfd"
		   "7zXZ",
		   5) &&
	    memcmp(magic, "\x28\xb5\x2f\xfd", 4)) {
		static const char zeros[1024 + 512];
		size_t pad = (size_t)((512 - size % 512) % 512) + 1024;
		if (berth_write_all(fd, zeros, pad) < 0)
			return berth_error_sys(err, errno, "write the context tar");
	}
	lseek(fd, 0, SEEK_SET);
	r = berth_tar_apply(b->ctx_fd, fd, BERTH_TAR_NO_DIGEST, NULL, &st, err);
	if (r < 0)
		return berth_error_wrap(err, "Error processing tar file"), r;
	return 0;
}

/* The body outgrew memory: what the memfd holds goes to <dir>/context.tar, which *fd becomes. */
static int spill(struct build *b, int *fd, struct berth_error **err)
{
	_cleanup_free_ char *tar = NULL;
	_cleanup_close_ int out = -EBADF;
	char buf[65536];
	off_t off = 0;
	ssize_t n;

	if (asprintf(&tar, "%s/context.tar", b->dir) < 0)
		return bld_oom(err);
	out = open(tar, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (out < 0)
		return berth_error_sys(err, errno, "create '%s'", tar);
	/* unlinked at once: it lives as long as the fd (until the context is unpacked) */
	unlink(tar);
	while ((n = pread(*fd, buf, sizeof(buf), off)) > 0) {
		if (berth_write_all(out, buf, (size_t)n) < 0)
			return berth_error_sys(err, errno, "write '%s'", tar);
		off += n;
	}
	if (n < 0)
		return berth_error_sys(err, errno, "read the context");
	close(*fd);
	*fd = TAKE_FD(out);
	return 0;
}

/* The body into *ret_fd: a memfd while it is small (*ret_in_memory), else a file on disk. */
static int read_body(struct build *b, int *ret_fd, bool *ret_in_memory, struct berth_error **err)
{
	_cleanup_close_ int fd = memfd_create("berth-build-context", MFD_CLOEXEC);
	bool in_memory = true;
	uint64_t total = 0;
	char buf[65536];
	ssize_t n;
	int r;

	if (fd < 0)
		return berth_error_sys(err, errno, "memfd_create");
	berth_http_set_body_limit(b->req, CONTEXT_MAX);
	while ((n = berth_http_read_body(b->req, buf, sizeof(buf), err)) > 0) {
		if (in_memory && total + (uint64_t)n > CONTEXT_MEM_MAX) {
			r = spill(b, &fd, err);
			if (r < 0)
				return r;
			in_memory = false;
		}
		if (berth_write_all(fd, buf, (size_t)n) < 0)
			return berth_error_sys(err, errno, "write the context");
		total += (uint64_t)n;
	}
	if (n < 0)
		return (int)n;
	*ret_fd = TAKE_FD(fd);
	*ret_in_memory = in_memory;
	return 0;
}

/* A tmpfs of this build's on <dir>/context; false when none could be mounted (then: disk). */
static bool mount_tmpfs(struct build *b)
{
	_cleanup_free_ char *ctx = context_path(b, NULL);
	_cleanup_error_ struct berth_error *e = NULL;

	if (!ctx)
		return false;
	if (mount("tmpfs", ctx, "tmpfs", MS_NOSUID | MS_NODEV,
		  "mode=0700,size=" CONTEXT_TMPFS_SIZE) < 0) {
		log_debug("build: tmpfs for the context: %s: the context goes on disk",
			  strerror(errno));
		return false;
	}
	b->ctx_tmpfs = true;
	if (open_context_dir(b, &e) < 0) {
		log_debug("build: %s: the context goes on disk", e->msg);
		bld_context_unmount(b);
		return false;
	}
	return true;
}

void bld_context_unmount(struct build *b)
{
	_cleanup_free_ char *ctx = NULL;

	if (!b->ctx_tmpfs)
		return;
	if (b->ctx_fd >= 0)
		close(b->ctx_fd);
	b->ctx_fd = -EBADF;
	b->ctx_tmpfs = false;
	ctx = context_path(b, NULL);
	/* lazily: the binds of ADD's downloads on it go with it */
	if (ctx && umount2(ctx, MNT_DETACH | UMOUNT_NOFOLLOW) < 0)
		log_warn("build: unmount '%s': %s", ctx, strerror(errno));
}

int bld_context_receive(struct build *b, struct berth_error **err)
{
	_cleanup_free_ char *ctx = context_path(b, NULL);
	_cleanup_close_ int fd = -EBADF;
	const char *remote = berth_http_query(b->req, "remote");
	bool in_memory = false;
	int r;

	if (!ctx)
		return bld_oom(err);
	if (mkdir(ctx, 0700) < 0 && errno != EEXIST)
		return berth_error_sys(err, errno, "mkdir '%s'", ctx);
	r = open_context_dir(b, err);
	if (r < 0)
		return r;
	if (remote && *remote)
		return build_remote_context(b, remote, b->o.dockerfile, err);
	r = read_body(b, &fd, &in_memory, err);
	if (r < 0)
		return r;
	if (in_memory && lseek(fd, 0, SEEK_END) > 0 && mount_tmpfs(b)) {
		_cleanup_error_ struct berth_error *e = NULL;
		r = bld_apply_context_tar(b, fd, &e);
		if (r != -ENOSPC) {
			if (r < 0)
				*err = TAKE_PTR(e);
			return r;
		}
		/* a compressed context larger than the tmpfs unpacked: again, on disk */
		log_debug("build: the context outgrew its tmpfs (%s): unpacked on disk", e->msg);
		bld_context_unmount(b);
	}
	/* the directory on disk, again when a tmpfs was mounted over it and went */
	if (b->ctx_fd < 0 && (r = open_context_dir(b, err)) < 0)
		return r;
	return bld_apply_context_tar(b, fd, err);
}

int bld_context_add_dir(struct build *b, bool on_disk, char **ret_rel, char **ret_dir,
			struct berth_error **err)
{
	_cleanup_free_ char *rel = NULL, *dir = NULL, *disk = NULL;

	if (asprintf(&rel, "%s%u", BUILD_URL_DIR, b->seq++) < 0 || !(dir = context_path(b, rel)))
		return bld_oom(err);
	if (mkdir(dir, 0700) < 0)
		return berth_error_sys(err, errno, "mkdir '%s'", dir);
	if (on_disk && b->ctx_tmpfs) {
		if (asprintf(&disk, "%s/%s", b->dir, rel) < 0)
			return bld_oom(err);
		if (mkdir(disk, 0700) < 0)
			return berth_error_sys(err, errno, "mkdir '%s'", disk);
		if (mount(disk, dir, NULL, MS_BIND, NULL) < 0)
			return berth_error_sys(err, errno, "bind '%s' on '%s'", disk, dir);
	}
	*ret_rel = TAKE_PTR(rel);
	*ret_dir = TAKE_PTR(dir);
	return 0;
}

void bld_context_drop(struct build *b, const char *rel)
{
	_cleanup_free_ char *dir = context_path(b, rel), *disk = NULL;

	if (!dir)
		return;
	if (b->ctx_tmpfs && asprintf(&disk, "%s/%s", b->dir, rel) > 0) {
		/* EINVAL: not a mount point (a heredoc's directory) */
		umount2(dir, MNT_DETACH | UMOUNT_NOFOLLOW);
		berth_rm_rf(disk, NULL);
	}
	berth_rm_rf(dir, NULL);
}

void bld_context_sweep(struct berthd *d)
{
	_cleanup_free_ char *tmp = NULL, *real = NULL, *prefix = NULL;
	_cleanup_free_ int *ids = NULL;
	_cleanup_strv_ char **paths = NULL, **mine = calloc(1, sizeof(char *)),
			    **dirs = calloc(1, sizeof(char *));
	_cleanup_error_ struct berth_error *e = NULL;
	size_t n = 0;

	if (!mine || !dirs || asprintf(&tmp, "%s/tmp", d->config.data_root) < 0 ||
	    !(real = realpath(tmp, NULL)) || asprintf(&prefix, "%s/build-", real) < 0)
		return;
	if (berth_mounts_below(real, &ids, &paths, &n, &e) < 0) {
		log_warn("build: leftover mounts: %s", e->msg);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		if (!berth_str_has_prefix(paths[i], prefix))
			continue;
		_cleanup_free_ char *top =
			strndup(paths[i], strlen(prefix) + strcspn(paths[i] + strlen(prefix), "/"));
		log_info("build: unmount '%s', left by an interrupted build", paths[i]);
		if (!top || berth_strv_push(&mine, paths[i]) < 0 ||
		    (!berth_strv_contains(dirs, top) && berth_strv_push(&dirs, top) < 0))
			return;
	}
	/* in reverse order of mounting: an overlay or a bind before the tmpfs below it */
	berth_unmount_all(mine);
	for (size_t i = 0; dirs[i]; i++)
		berth_rm_rf(dirs[i], NULL);
}
