/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/image's container roots against the running kernel (root needed): a store in a temp dir,
 * layers made from directories, and berth_rootfs_mount's two ways (the new mount API with
 * "lowerdir+", the mount(2) option string) over one layer, three, and 200 (past one page of
 * options).  Each mount is checked by its effect: the topmost layer's file wins, a whiteout
 * hides, a write lands in upper/ and the layers stay untouched.  The cgroup v2 guest
 * (tests/guest) runs it on Debian 12's 6.1 kernel, where overlayfs has no parser of its own
 * for the new mount API.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "image/image.h"
#include "tap.h"
#include "base/banned.h"

static char tmp[] = "/tmp/berth-test-rootfs.XXXXXX";

static void put(const char *path, const char *content)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || berth_write_all(fd, content, strlen(content)) < 0) {
		perror(path);
		exit(2);
	}
	close(fd);
}

static char *get(const char *path)
{
	char *s = NULL;
	return berth_read_file_at(AT_FDCWD, path, 4096, &s, NULL, NULL) < 0 ? NULL : s;
}

/* A layer on parent from a directory holding "f" = content (and a whiteout of "gone" when
 * asked); *chain gets its chain id. */
static int make_layer(struct berth_image_store *st, struct berth_image_lease *lease,
		      const char *parent, int i, const char *content, bool whiteout, char **chain)
{
	char dir[512], f[600];
	struct berth_layer_info *info = NULL;
	struct berth_error *e = NULL;

	snprintf(dir, sizeof(dir), "%s/src%d", tmp, i);
	if (mkdir(dir, 0755) < 0)
		return -errno;
	snprintf(f, sizeof(f), "%s/f", dir);
	put(f, content);
	snprintf(f, sizeof(f), "%s/only%d", dir, i);
	put(f, "x");
	if (!parent) {
		snprintf(f, sizeof(f), "%s/gone", dir);
		put(f, "here");
	}
	if (whiteout) {
		snprintf(f, sizeof(f), "%s/gone", dir);
		if (mknod(f, S_IFCHR | 0000, makedev(0, 0)) < 0)
			return -errno;
	}
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int r = berth_layer_create_from_diff(st, fd, parent, lease, &info, &e);
	close(fd);
	if (r < 0) {
		printf("# layer %d: %s\n", i, e ? e->msg : "?");
		berth_error_free(e);
		return r;
	}
	*chain = strdup(info->chain_id);
	berth_layer_info_free(info);
	return 0;
}

static void check_mount(struct berth_image_store *st, const char *top, int n, unsigned flags,
			const char *how)
{
	char dir[512], p[600];
	struct berth_error *e = NULL;
	char *s;

	snprintf(dir, sizeof(dir), "%s/ctr-%d-%u", tmp, n, flags);
	if (mkdir(dir, 0700) < 0) {
		ok(0, "%s, %d layers: mkdir: %s", how, n, strerror(errno));
		return;
	}
	int r = berth_rootfs_mount(st, top, dir, flags, &e);
	if (!ok(r == 0, "%s, %d layers: mounted%s%s", how, n, e ? ": " : "", e ? e->msg : "")) {
		berth_error_free(e);
		return;
	}
	snprintf(p, sizeof(p), "%s/merged/f", dir);
	s = get(p);
	char want[32];
	snprintf(want, sizeof(want), "layer %d", n - 1);
	is_str(s, want, "%s, %d layers: the topmost layer's f", how, n);
	free(s);
	snprintf(p, sizeof(p), "%s/merged/only0", dir);
	ok(access(p, F_OK) == 0, "%s, %d layers: the bottom layer's own file is there", how, n);
	snprintf(p, sizeof(p), "%s/merged/gone", dir);
	ok((access(p, F_OK) < 0 && errno == ENOENT) == (n > 1),
	   "%s, %d layers: gone is hidden by the second layer's whiteout (when there is one)", how,
	   n);
	snprintf(p, sizeof(p), "%s/merged/new", dir);
	put(p, "written");
	snprintf(p, sizeof(p), "%s/upper/new", dir);
	s = get(p);
	is_str(s, "written", "%s, %d layers: a write lands in upper/", how, n);
	free(s);
	ok(berth_rootfs_unmount(dir, NULL) == 0, "%s, %d layers: unmounted", how, n);
	snprintf(p, sizeof(p), "%s/merged/f", dir);
	ok(access(p, F_OK) < 0, "%s, %d layers: merged/ is empty after", how, n);
	ok(berth_rootfs_remove(dir, NULL) == 0, "%s, %d layers: removed", how, n);
}

int main(void)
{
	struct berth_image_store *st = NULL;
	struct berth_image_lease *lease = NULL;
	struct berth_error *e = NULL;
	char *chain[200] = {0}, root[600];
	const int counts[] = {1, 3, 200};

	if (geteuid() != 0) {
		printf("ok 1 # skip overlay mounts need root\n");
		printf("1..1\n");
		return 0;
	}
	if (!mkdtemp(tmp)) {
		perror("mkdtemp");
		return 2;
	}
	/* a private mount of its own, so that nothing here shows in the host's table after */
	if (mount("tmpfs", tmp, "tmpfs", 0, "mode=0700") < 0) {
		perror("mount tmpfs");
		return 2;
	}
	snprintf(root, sizeof(root), "%s/data", tmp);
	if (!ok(berth_image_store_open(root, NULL, &st, &e) == 0, "store opened") ||
	    !ok(berth_image_lease_new(st, &lease, &e) == 0, "lease")) {
		printf("# %s\n", e ? e->msg : "?");
		return 1;
	}
	bool made = true;
	for (int i = 0; i < 200 && made; i++) {
		char content[32];
		snprintf(content, sizeof(content), "layer %d", i);
		made = make_layer(st, lease, i ? chain[i - 1] : NULL, i, content, i == 1,
				  &chain[i]) == 0;
	}
	if (ok(made, "200 layers made, each on the one before")) {
		for (size_t k = 0; k < ARRAY_SIZE(counts); k++) {
			check_mount(st, chain[counts[k] - 1], counts[k], 0, "default");
			check_mount(st, chain[counts[k] - 1], counts[k], BERTH_ROOTFS_LEGACY_MOUNT,
				    "mount(2)");
		}
	}
	for (int i = 0; i < 200; i++)
		free(chain[i]);
	berth_image_lease_release(lease, true);
	berth_image_store_free(st);
	umount2(tmp, MNT_DETACH);
	rmdir(tmp);
	return done_testing();
}
