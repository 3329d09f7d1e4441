/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stddef.h>

#include "base/base.h"

struct daemon_listener {
	int fd;
	char *path; /* a unix socket made here (removed at exit), or NULL for fd:// */
	char *name; /* as given: unix:///run/berth/berth.sock, fd://3 */
};

/* Open every -H host: unix://PATH, fd:// (all passed sockets), fd://N. */
int daemon_listen(char *const *hosts, struct daemon_listener **ret, size_t *ret_n,
		  struct berth_error **err);
/* Remove the sockets made here; close the fds too when close_fds (else the server owns them). */
void daemon_listeners_free(struct daemon_listener *l, size_t n, bool close_fds);

/*
 * systemd's protocols without libsystemd (sd-daemon.c).  daemon_notify: send a state
 * ("READY=1") to $NOTIFY_SOCKET, as sd_notify(3); nothing when it is unset, errors ignored.
 * daemon_listen_fds: the number of sockets passed by socket activation, from fd 3 on, marked
 * close-on-exec, as sd_listen_fds(1) (the variables are unset); 0 when none, -EINVAL when
 * $LISTEN_PID or $LISTEN_FDS is malformed.  daemon_fd_is_unix_listener: fd is a listening unix
 * stream socket.
 */
#define DAEMON_LISTEN_FDS_START 3
void daemon_notify(const char *fmt, ...) BERTH_PRINTF(1, 2);
int daemon_listen_fds(void);
bool daemon_fd_is_unix_listener(int fd);
