/* SPDX-License-Identifier: Apache-2.0 */
/* Per-thread visits to other network namespaces, and sysctls of a namespace. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "net/net-internal.h"
#include "base/banned.h"

int net_enter(int netns_fd, int *ret_self, struct berth_error **err)
{
	int self;

	*ret_self = -EBADF;
	if (netns_fd < 0)
		return 0;
	self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (self < 0)
		return berth_error_sys(err, errno, "open '/proc/thread-self/ns/net'");
	if (setns(netns_fd, CLONE_NEWNET) < 0) {
		int e = errno;

		close(self);
		return berth_error_sys(err, e, "enter network namespace");
	}
	*ret_self = self;
	return 0;
}

void net_leave(int self)
{
	if (self < 0)
		return;
	if (setns(self, CLONE_NEWNET) < 0)
		abort();
	close(self);
}

int berth_net_sysctl_write(int netns_fd, const char *key, const char *value,
			   struct berth_error **err)
{
	char path[256];
	int self, fd, r;

	/* keys are dotted names below net.; no '/' or '..' may walk out of /proc/sys/net */
	if (!key || !berth_str_has_prefix(key, "net.") || strchr(key, '/') || strstr(key, "..") ||
	    strlen(key) > 200)
		return berth_error_set(err, EINVAL, "invalid sysctl key '%s'", key ? key : "");
	snprintf(path, sizeof(path), "/proc/sys/%s", key);
	for (char *p = path + strlen("/proc/sys/"); *p; p++)
		if (*p == '.')
			*p = '/';
	r = net_enter(netns_fd, &self, err);
	if (r < 0)
		return r;
	/* /proc/sys/net shows the namespace of the thread that opens it */
	fd = open(path, O_WRONLY | O_CLOEXEC);
	int e = errno;
	net_leave(self);
	if (fd < 0)
		return berth_error_sys(err, e, "sysctl %s", key);
	r = berth_write_all(fd, value, strlen(value));
	close(fd);
	if (r < 0)
		return berth_error_sys(err, -r, "sysctl %s=%s", key, value);
	return 0;
}
