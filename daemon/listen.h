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
