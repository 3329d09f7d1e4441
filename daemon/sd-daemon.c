/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The two systemd protocols berthd speaks, written out instead of linking libsystemd: with it
 * came libgcrypt, libgpg-error, liblzma, libzstd and liblz4, about 0.9 MiB resident in every
 * berthd for three calls.  Both protocols are documented interfaces: sd_notify(3) (one datagram
 * of "KEY=VALUE" lines to $NOTIFY_SOCKET) and sd_listen_fds(3) ($LISTEN_PID, $LISTEN_FDS, the fds
 * from 3 on).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "listen.h"
#include "base/banned.h"

void daemon_notify(const char *fmt, ...)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	_cleanup_close_ int fd = -EBADF;
	char msg[512];
	socklen_t len;
	size_t n;
	va_list ap;
	int r;

	if (!path || (path[0] != '/' && path[0] != '@'))
		return;
	n = strlen(path);
	if (n >= sizeof(sa.sun_path))
		return;
	memcpy(sa.sun_path, path, n);
	if (path[0] == '@') /* the abstract namespace */
		sa.sun_path[0] = '\0';
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + (path[0] == '/'));
	va_start(ap, fmt);
	r = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (r < 0 || (size_t)r >= sizeof(msg))
		return;
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	/* like sd_notify: best effort, the service manager may be gone */
	(void)sendto(fd, msg, (size_t)r, MSG_NOSIGNAL, (struct sockaddr *)&sa, len);
}

int daemon_listen_fds(void)
{
	const char *pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS");
	int64_t p, n;
	int r = 0;

	if (!pid || !fds)
		goto out;
	if (berth_parse_int64(pid, 1, INT32_MAX, &p) < 0 ||
	    berth_parse_int64(fds, 0, 4096, &n) < 0) {
		r = -EINVAL;
		goto out;
	}
	if (p != getpid()) /* meant for another process */
		goto out;
	for (int fd = DAEMON_LISTEN_FDS_START; fd < DAEMON_LISTEN_FDS_START + (int)n; fd++) {
		int flags = fcntl(fd, F_GETFD);

		if (flags < 0 || fcntl(fd, F_SETFD, flags | FD_CLOEXEC) < 0) {
			r = -errno;
			goto out;
		}
	}
	r = (int)n;
out:
	/* as sd_listen_fds(1): our children must not take the sockets for theirs */
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	return r;
}

bool daemon_fd_is_unix_listener(int fd)
{
	struct sockaddr_un sa;
	socklen_t len = sizeof(sa);
	int type = 0, listening = 0;
	socklen_t l = sizeof(int);
	struct stat st;

	if (fstat(fd, &st) < 0 || !S_ISSOCK(st.st_mode))
		return false;
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &l) < 0 || type != SOCK_STREAM)
		return false;
	l = sizeof(int);
	if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &l) < 0 || !listening)
		return false;
	if (getsockname(fd, (struct sockaddr *)&sa, &len) < 0)
		return false;
	return len >= sizeof(sa_family_t) && sa.sun_family == AF_UNIX;
}
