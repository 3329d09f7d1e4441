/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Process handles over pidfds.  A pidfd names one process for good (no pid reuse race), polls
 * readable once that process has exited, and -- for our own children -- lets waitid(P_PIDFD) reap
 * exactly it, without touching any other child.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core.h"
#include "banned.h"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

void berth_exit_status_from_wait(int status, struct berth_exit_status *ret)
{
	memset(ret, 0, sizeof(*ret));
	if (WIFEXITED(status)) {
		ret->code = WEXITSTATUS(status);
	} else if (WIFSIGNALED(status)) {
		ret->signal = WTERMSIG(status);
		ret->core_dumped = WCOREDUMP(status);
	} else {
		ret->code = 255;
	}
}

void berth_exit_status_from_siginfo(const siginfo_t *si, struct berth_exit_status *ret)
{
	memset(ret, 0, sizeof(*ret));
	switch (si->si_code) {
	case CLD_EXITED:
		ret->code = si->si_status;
		break;
	case CLD_DUMPED:
		ret->core_dumped = true;
		/* fall through */
	case CLD_KILLED:
		ret->signal = si->si_status;
		break;
	default:
		ret->code = 255;
	}
}

int berth_exit_status_code(const struct berth_exit_status *s)
{
	return s->signal ? 128 + s->signal : s->code;
}

int berth_pidfd_adopt(pid_t pid, int fd, struct berth_pidfd **ret, struct berth_error **err)
{
	struct berth_pidfd *p = calloc(1, sizeof(*p));

	if (!p) {
		if (fd >= 0)
			close(fd);
		return berth_error_set(err, ENOMEM, "out of memory");
	}
	p->pid = pid;
	p->fd = fd;
	*ret = p;
	return 0;
}

int berth_pidfd_open(pid_t pid, struct berth_pidfd **ret, struct berth_error **err)
{
	int fd;

	if (pid <= 0)
		return berth_error_set(err, EINVAL, "pidfd_open: invalid pid %d", (int)pid);
	fd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (fd < 0) {
		/* kernel < 5.3: the message names the call and the kernel it needs */
		return berth_error_syscall(err, errno, "pidfd_open", "wait for pid %d", (int)pid);
	}
	/* pidfds are always close-on-exec */
	return berth_pidfd_adopt(pid, fd, ret, err);
}

static bool readable(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	int n;

	do
		n = poll(&p, 1, 0);
	while (n < 0 && errno == EINTR);
	return n > 0 && (p.revents & (POLLIN | POLLHUP));
}

void berth_pidfd_set_status(struct berth_pidfd *p, const struct berth_exit_status *st)
{
	p->exited = true;
	p->has_status = true;
	p->status = *st;
}

int berth_pidfd_try_wait(struct berth_pidfd *p, struct berth_error **err)
{
	siginfo_t si;
	int r;

	if (p->exited)
		return 1;
	memset(&si, 0, sizeof(si));
	do
		r = waitid((idtype_t)P_PIDFD, (id_t)p->fd, &si, WEXITED | WNOHANG);
	while (r < 0 && errno == EINTR);
	if (r == 0) {
		if (si.si_pid == 0)
			return 0; /* our child, still running */
		struct berth_exit_status st;
		berth_exit_status_from_siginfo(&si, &st);
		berth_pidfd_set_status(p, &st);
		return 1;
	}
	if (errno == EINVAL)
		/* kernel 5.3 has pidfd_open but no waitid(P_PIDFD) */
		return berth_error_set(
			err, EINVAL,
			"waitid(P_PIDFD) on pid %d: not supported by this kernel (berth "
			"needs Linux 5.4 or later)",
			(int)p->pid);
	if (errno != ECHILD)
		return berth_error_sys(err, errno, "waitid pid %d", (int)p->pid);
	/* not our child (or reaped by someone else): the pidfd still says whether it is gone */
	if (!readable(p->fd))
		return 0;
	p->exited = true;
	return 1;
}

int berth_pidfd_signal(struct berth_pidfd *p, int sig, struct berth_error **err)
{
	if (p->exited && p->has_status)
		return berth_error_set(err, ESRCH, "signal %d to pid %d: the process has exited",
				       sig, (int)p->pid);
	if (syscall(SYS_pidfd_send_signal, p->fd, sig, NULL, 0) < 0)
		return berth_error_sys(err, errno, "signal %d to pid %d", sig, (int)p->pid);
	return 0;
}

void berth_pidfd_free(struct berth_pidfd *p)
{
	if (!p)
		return;
	if (p->fd >= 0)
		close(p->fd);
	free(p);
}
