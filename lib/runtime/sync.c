/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "container-internal.h"
#include "base/banned.h"

int berth_sync_send(int sock, enum berth_sync_type type, int32_t value, const char *text, int fd)
{
	struct berth_sync_msg m = {.type = type, .value = value};
	size_t len = text ? strlen(text) : 0;

	if (len >= sizeof(m.text))
		len = sizeof(m.text) - 1;
	if (len)
		memcpy(m.text, text, len);
	m.text[len] = '\0';
	return berth_send_fd(sock, &m, offsetof(struct berth_sync_msg, text) + len + 1, fd);
}

int berth_sync_recv(int sock, struct berth_sync_msg *m, int *ret_fd)
{
	ssize_t n = berth_recv_fd(sock, m, sizeof(*m), ret_fd);

	if (n < 0)
		return (int)n;
	if (n == 0)
		return 0;
	if ((size_t)n < offsetof(struct berth_sync_msg, text))
		return -EBADMSG;
	m->text[(size_t)n - offsetof(struct berth_sync_msg, text) < sizeof(m->text)
			? (size_t)n - offsetof(struct berth_sync_msg, text)
			: sizeof(m->text) - 1] = '\0';
	return 1;
}

void berth_sync_fail(int sock, int r, struct berth_error *err)
{
	berth_sync_send(sock, BERTH_SYNC_ERROR, err ? err->code : (r < 0 ? -r : EIO),
			err && err->msg ? err->msg : "container setup failed", -EBADF);
	_exit(1);
}

int berth_sync_expect(int sock, enum berth_sync_type type, struct berth_sync_msg *m,
		      struct berth_error **err)
{
	int r = berth_sync_recv(sock, m, NULL);

	if (r < 0)
		return berth_error_sys(err, -r, "sync socket");
	if (r == 0)
		return berth_error_set(err, EPIPE, "the other end of the sync socket went away");
	if (m->type == BERTH_SYNC_ERROR)
		return berth_error_set(err, m->value > 0 ? m->value : EIO, "%s", m->text);
	if (m->type != type)
		return berth_error_set(err, EPROTO, "sync: expected message %u, got %u", type,
				       m->type);
	return 0;
}

#ifndef CLONE_PIDFD
#define CLONE_PIDFD 0x00001000
#endif

/* clone(2) like fork(); with pidfd, CLONE_PIDFD stores the child's pidfd there (parent only). */
static pid_t do_clone(unsigned long flags, int *pidfd)
{
	int was = prctl(PR_GET_DUMPABLE, 0, 0, 0, 0);
	pid_t pid;

	/*
	 * The child is born non-dumpable: no window in which a process of the container could
	 * open its /proc/PID files or ptrace it.  The caller gets its own setting back.
	 */
	if (was != 0)
		prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	/* x86_64/aarch64 argument order: flags, stack, parent_tid, child_tid, tls */
	pid = (pid_t)syscall(SYS_clone, flags | SIGCHLD | (pidfd ? CLONE_PIDFD : 0), NULL, pidfd,
			     NULL, 0);
	if (pid != 0 && was == 1) {
		int e = errno;
		prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
		errno = e;
	}
	return pid;
}

pid_t berth_clone(unsigned long flags)
{
	return do_clone(flags, NULL);
}

int berth_keep_nondumpable(struct berth_error **err)
{
	/*
	 * A change of credentials (setns into a user namespace, setresuid, capset) resets the flag
	 * to fs.suid_dumpable, which a host may have set to 1: set it again after each.
	 */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		return berth_error_sys(err, errno, "prctl PR_SET_DUMPABLE 0");
	return 0;
}

pid_t berth_clone_pidfd(unsigned long flags, int *ret_pidfd)
{
	int fd = -EBADF;
	pid_t pid;

	*ret_pidfd = -EBADF;
	pid = do_clone(flags, &fd);
	if (pid < 0 && errno == EINVAL) {
		/* kernel < 5.2: no CLONE_PIDFD */
		pid = do_clone(flags, NULL);
		if (pid > 0) {
			fd = (int)syscall(SYS_pidfd_open, pid, 0);
			if (fd < 0) {
				int e = errno;
				kill(pid, SIGKILL);
				berth_waitpid(pid, 0, NULL);
				errno = e;
				return -1;
			}
		}
	}
	if (pid > 0)
		*ret_pidfd = fd;
	return pid;
}

int berth_apply_stdio(const int *fds, struct berth_error **err)
{
	int tmp[3] = {-EBADF, -EBADF, -EBADF};
	int r = 0;

	if (!fds)
		return 0;
	/*
	 * Two steps, so that fds[1] == 0 (say) is not clobbered by the dup onto 0 first, and so
	 * that fds[i] == i still loses its close-on-exec flag: copies above 2 first, then dup2.
	 */
	for (int i = 0; i < 3; i++) {
		if (fds[i] < 0)
			continue;
		tmp[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, 3);
		if (tmp[i] < 0) {
			r = berth_error_sys(err, errno, "stdio: fd %d", fds[i]);
			goto out;
		}
	}
	for (int i = 0; i < 3; i++) {
		if (tmp[i] >= 0 && dup2(tmp[i], i) < 0) {
			r = berth_error_sys(err, errno, "stdio: dup fd %d onto %d", fds[i], i);
			goto out;
		}
	}
out:
	for (int i = 0; i < 3; i++)
		if (tmp[i] >= 0)
			close(tmp[i]);
	return r;
}

int berth_open_ns_of(pid_t pid, enum berth_ns_type t, int *ret_fd, struct berth_error **err)
{
	char path[64], self[64];
	struct stat a, b;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/ns/%s", (int)pid, berth_ns_proc_name(t));
	snprintf(self, sizeof(self), "/proc/self/ns/%s", berth_ns_proc_name(t));
	if (stat(path, &a) < 0)
		return berth_error_sys(err, errno, "stat '%s'", path);
	if (stat(self, &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev) {
		*ret_fd = -EBADF; /* we are in it already */
		return 0;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return berth_error_sys(err, errno, "open '%s'", path);
	*ret_fd = fd;
	return 0;
}

char *berth_hook_state(const struct berth_container *c, pid_t pid, const char *status)
{
	json_t *annotations = json_object_get(c->spec->json, "annotations");
	_cleanup_json_ json_t *j =
		json_pack("{s:s, s:s, s:s, s:I, s:s}", "ociVersion",
			  c->spec->oci_version ? c->spec->oci_version : "1.2.0", "id", c->id,
			  "status", status, "pid", (json_int_t)pid, "bundle", c->bundle);

	if (!j)
		return NULL;
	if (json_is_object(annotations))
		json_object_set(j, "annotations", annotations);
	return json_dumps(j, JSON_COMPACT);
}

int berth_pty_forward(int master, const char *name, const char *console_socket, int *ret_master,
		      struct berth_error **err)
{
	if (console_socket) {
		int r = berth_console_send(console_socket, master, name, err);
		close(master);
		return r;
	}
	if (ret_master) {
		*ret_master = master;
		return 0;
	}
	close(master);
	return berth_error_set(err, EINVAL, "a terminal was set up but nobody takes it");
}
