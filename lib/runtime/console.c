/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The container's terminal.  The pty is opened from the container's own devpts (after
 * pivot_root), so its slave belongs to the container; the master goes to whoever holds the
 * console socket (conmon, containerd's shim) or back to `run` in the foreground.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "container-internal.h"
#include "base/banned.h"

int berth_console_send(const char *path, int master, const char *name, struct berth_error **err)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	_cleanup_close_ int s = -EBADF;
	int r;

	if (strlen(path) >= sizeof(addr.sun_path))
		return berth_error_set(err, ENAMETOOLONG, "console socket '%s': path too long",
				       path);
	memcpy(addr.sun_path, path, strlen(path) + 1);
	s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return berth_error_sys(err, errno, "console socket '%s': socket", path);
	if (connect(s, (struct sockaddr *)&addr, sizeof(addr)) < 0)
		return berth_error_sys(err, errno, "connect to console socket '%s'", path);
	r = berth_send_fd(s, name, strlen(name), master);
	if (r < 0)
		return berth_error_sys(err, -r, "send pty to console socket '%s'", path);
	return 0;
}

int berth_console_setup(int sync, unsigned rows, unsigned cols, bool mount_console,
			struct berth_error **err)
{
	_cleanup_close_ int master = -EBADF, slave = -EBADF;
	_cleanup_free_ char *name = NULL;
	int unlock = 0, ptn = 0;

	master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (master < 0)
		return berth_error_sys(err, errno, "open '/dev/ptmx'");
	if (ioctl(master, TIOCSPTLCK, &unlock) < 0)
		return berth_error_sys(err, errno, "unlock pty");
	if (ioctl(master, TIOCGPTN, &ptn) < 0)
		return berth_error_sys(err, errno, "pty number");
	if (asprintf(&name, "/dev/pts/%d", ptn) < 0)
		return berth_error_set(err, ENOMEM, "out of memory");
	/* TIOCGPTPEER opens the slave through the master: no path lookup to race or fool */
	slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (slave < 0)
		slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (slave < 0)
		return berth_error_sys(err, errno, "open '%s'", name);
	if (rows || cols) {
		struct winsize ws = {.ws_row = (unsigned short)rows,
				     .ws_col = (unsigned short)cols};
		if (ioctl(slave, TIOCSWINSZ, &ws) < 0)
			return berth_error_sys(err, errno, "set console size");
	}
	if (mount_console) {
		/* /dev/console is the container's terminal: an empty file to bind the slave on */
		int fd = open("/dev/console", O_CREAT | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (fd >= 0)
			close(fd);
		if (mount(name, "/dev/console", NULL, MS_BIND, NULL) < 0)
			return berth_error_sys(err, errno, "mount '%s' on '/dev/console'", name);
	}
	for (int i = 0; i <= 2; i++)
		if (dup2(slave, i) < 0)
			return berth_error_sys(err, errno, "dup pty onto fd %d", i);
	if (ioctl(0, TIOCSCTTY, 0) < 0)
		return berth_error_sys(err, errno, "make '%s' the controlling terminal", name);
	int r = berth_sync_send(sync, BERTH_SYNC_PTY, 0, name, master);
	if (r < 0)
		return berth_error_sys(err, -r, "send the pty");
	return 0;
}
