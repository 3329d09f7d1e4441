/* SPDX-License-Identifier: Apache-2.0 */
/* --device and --privileged: device nodes of the host, as docker and containerd read them. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "dockerspec-internal.h"
#include "base/banned.h"

void berth_dockerspec_devices_free(struct berth_dockerspec_device *d, size_t n)
{
	for (size_t i = 0; d && i < n; i++)
		free(d[i].path);
	free(d);
}

int berth_dockerspec_device_from_stat(const char *path_on_host, const char *path_in_container,
				      const char *permissions, const struct stat *st,
				      struct berth_dockerspec_device *ret, struct berth_error **err)
{
	size_t n = strlen(permissions);

	if (!S_ISCHR(st->st_mode) && !S_ISBLK(st->st_mode))
		return berth_error_set(err, EINVAL,
				       "error gathering device information while adding custom "
				       "device \"%s\": not a device node",
				       path_on_host);
	if (n == 0 || n > 3 || strspn(permissions, "rwm") != n)
		return berth_error_set(err, EINVAL, "invalid device permissions '%s' for \"%s\"",
				       permissions, path_on_host);
	*ret = (struct berth_dockerspec_device){
		.type = S_ISCHR(st->st_mode) ? 'c' : 'b',
		.major = major(st->st_rdev),
		.minor = minor(st->st_rdev),
		.file_mode = st->st_mode & 07777,
		.uid = st->st_uid,
		.gid = st->st_gid,
	};
	memcpy(ret->permissions, permissions, n + 1);
	ret->path = strdup(path_in_container);
	if (!ret->path)
		return berth_error_set(err, ENOMEM, "out of memory");
	return 0;
}

static int append(struct berth_dockerspec_device **v, size_t *n,
		  const struct berth_dockerspec_device *d)
{
	struct berth_dockerspec_device *nv = realloc(*v, (*n + 1) * sizeof(**v));
	if (!nv)
		return -ENOMEM;
	*v = nv;
	nv[(*n)++] = *d;
	return 0;
}

/* every device node under dir (depth-first, sorted as WalkDir does), host -> container names */
static int walk(const char *dir, const char *host_root, const char *ctr_root,
		const char *permissions, bool skip_host_dirs, struct berth_dockerspec_device **v,
		size_t *n, unsigned depth, struct berth_error **err)
{
	static const char *const skip[] = {"pts",  "shm",	  "fd",	  "mqueue",
					   ".lxc", ".lxd-mounts", ".udev"};
	struct dirent **names = NULL;
	int count, r = 0;

	if (depth > 16)
		return 0;
	count = scandir(dir, &names, NULL, alphasort);
	if (count < 0)
		return 0; /* unreadable: skipped, as WalkDir's callback does */
	for (int i = 0; i < count; i++) {
		const char *name = names[i]->d_name;
		_cleanup_free_ char *path = NULL, *ctr = NULL;
		struct berth_dockerspec_device d;
		struct stat st;
		bool skipped = false;

		if (r < 0 || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
			continue;
		if (asprintf(&path, "%s/%s", dir, name) < 0 ||
		    asprintf(&ctr, "%s%s", ctr_root, path + strlen(host_root)) < 0) {
			r = berth_error_set(err, ENOMEM, "out of memory");
			continue;
		}
		if (lstat(path, &st) < 0)
			continue;
		if (S_ISDIR(st.st_mode)) {
			for (size_t k = 0; skip_host_dirs && k < ARRAY_SIZE(skip); k++)
				skipped |= strcmp(name, skip[k]) == 0;
			if (!skipped)
				r = walk(path, host_root, ctr_root, permissions, skip_host_dirs, v,
					 n, depth + 1, err);
			continue;
		}
		if (skip_host_dirs && strcmp(path + strlen(host_root), "/console") == 0)
			continue;
		if (!S_ISCHR(st.st_mode) && !S_ISBLK(st.st_mode))
			continue;
		if (berth_dockerspec_device_from_stat(path, ctr, permissions, &st, &d, err) < 0) {
			r = -EINVAL;
			continue;
		}
		if (append(v, n, &d) < 0) {
			free(d.path);
			r = berth_error_set(err, ENOMEM, "out of memory");
		}
	}
	for (int i = 0; i < count; i++)
		free(names[i]);
	free(names);
	return r;
}

int berth_dockerspec_devices_from_host(const char *path_on_host, const char *path_in_container,
				       const char *permissions,
				       struct berth_dockerspec_device **ret, size_t *n,
				       struct berth_error **err)
{
	_cleanup_free_ char *resolved = NULL;
	struct berth_dockerspec_device d;
	struct stat st;
	size_t before = *n;
	int r;

	/* a symlink (/dev/disk/by-id/...) is followed, as docker's DevicesFromPath */
	resolved = realpath(path_on_host, NULL);
	if (!resolved && !(resolved = strdup(path_on_host)))
		return berth_error_set(err, ENOMEM, "out of memory");
	if (stat(resolved, &st) < 0)
		return berth_error_set(err, EINVAL,
				       "error gathering device information while adding custom "
				       "device \"%s\": %s",
				       path_on_host,
				       strerror(errno) /* "no such file or directory" */);
	if (S_ISDIR(st.st_mode)) {
		r = walk(resolved, resolved, path_in_container, permissions, false, ret, n, 0, err);
		if (r < 0)
			return r;
		if (*n == before)
			return berth_error_set(err, EINVAL,
					       "error gathering device information while adding "
					       "custom device \"%s\": not a device node",
					       path_on_host);
		return 0;
	}
	r = berth_dockerspec_device_from_stat(path_on_host, path_in_container, permissions, &st, &d,
					      err);
	if (r < 0)
		return r;
	if (append(ret, n, &d) < 0) {
		free(d.path);
		return berth_error_set(err, ENOMEM, "out of memory");
	}
	return 0;
}

int berth_dockerspec_host_devices(const char *dev_root, struct berth_dockerspec_device **ret,
				  size_t *ret_n, struct berth_error **err)
{
	struct berth_dockerspec_device *v = NULL;
	size_t n = 0;
	int r = walk(dev_root, dev_root, dev_root, "rwm", true, &v, &n, 0, err);

	if (r < 0) {
		berth_dockerspec_devices_free(v, n);
		return r;
	}
	*ret = v;
	*ret_n = n;
	return 0;
}
