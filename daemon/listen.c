/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The API's sockets: unix://PATH (made here: mode 0660, group berth when it exists) and fd://
 * or fd://N (sockets systemd passed, socket activation, sd_listen_fds(3)'s protocol).
 */
#include <errno.h>
#include <grp.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "daemon.h"
#include "listen.h"
#include "base/banned.h"

static int group_id(const char *name, gid_t *ret)
{
	struct group g, *res = NULL;
	char buf[4096];

	if (getgrnam_r(name, &g, buf, sizeof(buf), &res) != 0 || !res)
		return -ENOENT;
	*ret = res->gr_gid;
	return 0;
}

static int listen_unix(const char *path, struct berth_error **err)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	_cleanup_close_ int fd = -EBADF;
	_cleanup_free_ char *dir = strdup(path);
	struct stat st;
	gid_t gid;

	if (path[0] != '/')
		return berth_error_set(err, EINVAL, "socket path '%s' is not absolute", path);
	if (strlen(path) >= sizeof(sa.sun_path))
		return berth_error_set(err, ENAMETOOLONG, "socket path '%s' too long", path);
	if (!dir)
		return berth_error_set(err, ENOMEM, "out of memory");
	if (berth_mkdir_p(dirname(dir), 0755, err) < 0)
		return berth_error_wrap(err, "socket '%s'", path);
	memcpy(sa.sun_path, path, strlen(path) + 1);

	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode))
			return berth_error_set(err, EEXIST, "'%s' exists and is not a socket",
					       path);
		/* a socket someone still answers on is another daemon's */
		_cleanup_close_ int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (probe >= 0 && connect(probe, (struct sockaddr *)&sa, sizeof(sa)) == 0)
			return berth_error_set(err, EADDRINUSE, "'%s' is in use by another process",
					       path);
		unlink(path);
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return berth_error_sys(err, errno, "socket");
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return berth_error_sys(err, errno, "bind '%s'", path);
	if (chmod(path, 0660) < 0) {
		int r = berth_error_sys(err, errno, "chmod '%s'", path);
		unlink(path);
		return r;
	}
	if (group_id("berth", &gid) == 0 && chown(path, 0, gid) < 0) {
		int r = berth_error_sys(err, errno, "chown '%s' to group berth", path);
		unlink(path);
		return r;
	}
	if (listen(fd, SOMAXCONN) < 0) {
		int r = berth_error_sys(err, errno, "listen '%s'", path);
		unlink(path);
		return r;
	}
	return TAKE_FD(fd);
}

static int push(struct daemon_listener **l, size_t *n, int fd, const char *path, const char *name)
{
	struct daemon_listener *nl = realloc(*l, (*n + 1) * sizeof(**l));

	if (!nl)
		return -ENOMEM;
	*l = nl;
	nl[*n].fd = fd;
	nl[*n].path = path ? strdup(path) : NULL;
	nl[*n].name = strdup(name);
	if ((path && !nl[*n].path) || !nl[*n].name) {
		free(nl[*n].path);
		free(nl[*n].name);
		return -ENOMEM;
	}
	(*n)++;
	return 0;
}

int daemon_listen(char *const *hosts, struct daemon_listener **ret, size_t *ret_n,
		  struct berth_error **err)
{
	struct daemon_listener *l = NULL;
	size_t n = 0;
	int n_fds = -1;
	bool *used = NULL;
	int r = 0;

	for (size_t i = 0; hosts[i]; i++) {
		const char *h = hosts[i];
		if (berth_str_has_prefix(h, "unix://")) {
			int fd = listen_unix(h + strlen("unix://"), err);
			if (fd < 0) {
				r = fd;
				goto fail;
			}
			if (push(&l, &n, fd, h + strlen("unix://"), h) < 0) {
				unlink(h + strlen("unix://"));
				close(fd);
				r = berth_error_set(err, ENOMEM, "out of memory");
				goto fail;
			}
			continue;
		}
		if (!berth_str_has_prefix(h, "fd://")) {
			r = berth_error_set(
				err, EINVAL,
				"invalid host '%s': berthd listens on unix://PATH, fd:// "
				"and fd://N",
				h);
			goto fail;
		}
		if (n_fds < 0) {
			n_fds = daemon_listen_fds();
			if (n_fds < 0) {
				r = berth_error_sys(err, -n_fds, "socket activation ($LISTEN_FDS)");
				goto fail;
			}
			used = calloc((size_t)n_fds + 1, sizeof(bool));
			if (!used) {
				r = berth_error_set(err, ENOMEM, "out of memory");
				goto fail;
			}
		}
		if (n_fds == 0) {
			r = berth_error_set(err, EINVAL,
					    "%s: no sockets found via socket activation: make sure "
					    "the service was started by systemd",
					    h);
			goto fail;
		}
		const char *which = h + strlen("fd://");
		int first = DAEMON_LISTEN_FDS_START, last = DAEMON_LISTEN_FDS_START + n_fds - 1;
		if (*which) {
			int64_t want;
			if (berth_parse_int64(which, first, last, &want) < 0) {
				r = berth_error_set(err, EINVAL,
						    "%s: systemd passed fds %d to %d, not %s", h,
						    first, last, which);
				goto fail;
			}
			first = last = (int)want;
		}
		for (int fd = first; fd <= last; fd++) {
			if (used[fd - DAEMON_LISTEN_FDS_START])
				continue;
			if (!daemon_fd_is_unix_listener(fd)) {
				r = berth_error_set(
					err, EINVAL,
					"%s: fd %d is not a listening unix stream socket", h, fd);
				goto fail;
			}
			used[fd - DAEMON_LISTEN_FDS_START] = true;
			char name[32];
			snprintf(name, sizeof(name), "fd://%d", fd);
			if (push(&l, &n, fd, NULL, name) < 0) {
				r = berth_error_set(err, ENOMEM, "out of memory");
				goto fail;
			}
		}
	}
	free(used);
	*ret = l;
	*ret_n = n;
	return 0;
fail:
	daemon_listeners_free(l, n, true);
	free(used);
	return r;
}

void daemon_listeners_free(struct daemon_listener *l, size_t n, bool close_fds)
{
	for (size_t i = 0; i < n; i++) {
		if (close_fds && l[i].fd >= 0)
			close(l[i].fd);
		if (l[i].path)
			unlink(l[i].path);
		free(l[i].path);
		free(l[i].name);
	}
	free(l);
}
