/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Volume subpaths (API 1.45, `--mount type=volume,...,volume-subpath=DIR`): a directory or file
 * inside a volume mounted in place of the whole volume.
 *
 * The volume is the containers' to write, so the subpath is an attacker's path: a symlink in it
 * may point anywhere on the host, and may be swapped between a check and a mount.  At each start
 * the subpath is therefore opened beneath the volume's root (openat2 RESOLVE_BENEATH: a link
 * that leaves the volume is refused, as docker refuses it) and the open file is bind-mounted
 * onto a pin under the container's own directory; the spec names the pin, never a path inside
 * the volume.  Once the container's mounts are made the pins are taken down again (the
 * container's mount namespace keeps its own copy), as docker does with its safe paths.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "containers-internal.h"
#include "base/inroot.h"
#include "base/banned.h"

#define PINS_DIR "subpaths"

/*
 * Go's filepath.IsLocal on Linux, with filepath.Clean's result: the path cleaned lexically
 * ("x/../y" is "y", as docker joins it) into a new string, or NULL when it is empty, absolute
 * or would climb above its base.
 */
char *ctr_subpath_clean(const char *p)
{
	size_t len = p ? strlen(p) : 0, n = 0;
	char *out;

	if (!len || p[0] == '/' || !(out = malloc(len + 1)))
		return NULL;
	while (*p) {
		size_t k = strcspn(p, "/");

		if (k == 2 && p[0] == '.' && p[1] == '.') {
			if (n == 0) {
				free(out);
				return NULL;
			}
			while (n > 0 && out[n - 1] != '/')
				n--;
			n -= n > 0; /* the slash before the dropped component */
		} else if (k > 0 && !(k == 1 && p[0] == '.')) {
			if (n > 0)
				out[n++] = '/';
			memcpy(out + n, p, k);
			n += k;
		}
		p += k;
		p += strspn(p, "/");
	}
	if (n == 0)
		out[n++] = '.';
	out[n] = '\0';
	return out;
}

/* Go's words for an errno: strerror's, starting lowercase as the docker CLI shows them. */
static void go_words(int code, char *buf, size_t size)
{
	snprintf(buf, size, "%s", strerror(code));
	if (buf[0] >= 'A' && buf[0] <= 'Z' && !(buf[1] >= 'A' && buf[1] <= 'Z'))
		buf[0] = (char)(buf[0] - 'A' + 'a');
}

int ctr_subpath_open(const json_t *point, int *ret_fd, struct berth_error **err)
{
	const char *base = json_string_value(json_object_get(point, "Source"));
	const char *sub = json_string_value(json_object_get(point, "Subpath"));
	struct open_how how = {.flags = O_PATH | O_CLOEXEC,
			       .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS};
	_cleanup_close_ int root = -EBADF;
	char why[128];
	int fd, r;

	if (!base || !sub)
		return berth_error_set(err, EINVAL, "mount point without a volume or a subpath");
	root = open(base, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (root < 0) {
		go_words(errno, why, sizeof(why));
		return berth_error_set(err, ENOENT, "cannot access path %s: %s", base, why);
	}
	fd = (int)syscall(SYS_openat2, root, sub, &how, sizeof(how));
	r = fd < 0 ? -errno : 0;
	if (r ==
	    -ENOSYS) /* a kernel before 5.6: resolved inside the volume instead, as in a root */
		r = berth_root_open(root, sub, 0, &fd);
	if (r == -EXDEV)
		return berth_error_set(err, EINVAL,
				       "path concatenation escapes the base directory, base: %s, "
				       "subpath: %s",
				       base, sub);
	if (r < 0) {
		go_words(-r, why, sizeof(why));
		return berth_error_set(err, ENOENT, "cannot access path %s/%s: %s", base, sub, why);
	}
	*ret_fd = fd;
	return 0;
}

static char *pins_dir(const struct daemon_container *c)
{
	char *p = NULL;

	return asprintf(&p, "%s/" PINS_DIR, c->dir) < 0 ? NULL : p;
}

static bool has_subpaths(const struct daemon_container *c)
{
	size_t i;
	json_t *m;

	json_array_foreach (c->mount_points, i, m)
		if (json_object_get(m, "Subpath"))
			return true;
	return false;
}

void ctr_subpaths_unpin(struct berthd *d, struct daemon_container *c, bool leftovers)
{
	_cleanup_free_ char *dir = NULL;
	_cleanup_close_ int dfd = -EBADF;
	_cleanup_closedir_ DIR *dp = NULL;
	struct dirent *de;
	size_t i;
	json_t *m;

	/* a start without subpaths has nothing pinned: no directory to look for */
	if (!leftovers && !has_subpaths(c))
		return;
	pthread_mutex_lock(&d->lock); /* the points are read by inspect meanwhile */
	json_array_foreach (c->mount_points, i, m)
		json_object_del(m, "SubpathPin");
	pthread_mutex_unlock(&d->lock);
	dir = pins_dir(c);
	if (!dir)
		return;
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0)
		return;
	dp = fdopendir(dfd);
	if (!dp)
		return;
	dfd = -EBADF; /* the stream owns it now */
	/* every pin there, also one a crash left: detached before anything is removed, so that
	 * no removal ever reaches into a volume */
	while ((de = readdir(dp))) {
		_cleanup_free_ char *pin = NULL;

		if (de->d_name[0] == '.' || asprintf(&pin, "%s/%s", dir, de->d_name) < 0)
			continue;
		while (umount2(pin, MNT_DETACH | UMOUNT_NOFOLLOW) == 0)
			;
		if (unlinkat(dirfd(dp), de->d_name, 0) < 0 && errno == EISDIR)
			unlinkat(dirfd(dp), de->d_name, AT_REMOVEDIR);
	}
	rmdir(dir);
}

int ctr_subpaths_pin(struct berthd *d, struct daemon_container *c, struct berth_error **err)
{
	_cleanup_free_ char *dir = NULL;
	size_t i;
	json_t *m;
	int r = 0;

	if (!has_subpaths(c))
		return 0;
	ctr_subpaths_unpin(d, c, true);
	json_array_foreach (c->mount_points, i, m) {
		_cleanup_free_ char *pin = NULL;
		_cleanup_close_ int fd = -EBADF;
		char proc[64];
		struct stat st;

		if (!json_object_get(m, "Subpath"))
			continue;
		if (!dir) {
			dir = pins_dir(c);
			if (!dir)
				return berth_error_set(err, ENOMEM, "out of memory");
			if (mkdir(dir, 0700) < 0 && errno != EEXIST)
				return berth_error_sys(err, errno, "mkdir '%s'", dir);
		}
		r = ctr_subpath_open(m, &fd, err);
		if (r < 0)
			break;
		if (fstat(fd, &st) < 0 || asprintf(&pin, "%s/%zu", dir, i) < 0) {
			r = berth_error_sys(err, errno, "subpath of %s",
					    json_string_value(json_object_get(m, "Destination")));
			break;
		}
		/* a directory is pinned on a directory, anything else on a file */
		if (S_ISDIR(st.st_mode) ? mkdir(pin, 0700) < 0
					: mknodat(AT_FDCWD, pin, S_IFREG | 0600, 0) < 0) {
			r = berth_error_sys(err, errno, "make '%s'", pin);
			break;
		}
		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
		if (mount(proc, pin, NULL, MS_BIND | MS_REC, NULL) < 0) {
			r = berth_error_sys(err, errno, "bind the subpath %s",
					    json_string_value(json_object_get(m, "Subpath")));
			break;
		}
		pthread_mutex_lock(&d->lock);
		json_object_set_new(m, "SubpathPin", json_string(pin));
		pthread_mutex_unlock(&d->lock);
	}
	if (r < 0)
		ctr_subpaths_unpin(d, c, true);
	return r;
}
