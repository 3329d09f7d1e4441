/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * For tests whose subject changes the calling process (limits, identity, a seccomp filter): the
 * work runs in a forked child that writes what it saw to a pipe and _exit()s (no atexit, no LSan
 * pass), so the test process keeps its own state.
 */

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/types.h>
#include <unistd.h>

#include "base/core.h"

/* One finding, written to the pipe fd in one write (cut at 4 KiB). */
static inline void BERTH_PRINTF(2, 3) report(int fd, const char *fmt, ...)
{
	char buf[4096];
	va_list ap;

	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n > 0)
		berth_write_all(fd, buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}

/*
 * Runs fn(fd, arg) in a forked child (which then _exit(0)s) and returns its wait status, or -1
 * when it could not run; out gets what it wrote (NUL-terminated), *ret_pid its pid.
 */
static inline int run_reporting_child(void (*fn)(int fd, void *arg), void *arg, char *out,
				      size_t outlen, pid_t *ret_pid)
{
	int pfd[2], status = -1;
	size_t len = 0;

	out[0] = '\0';
	if (pipe2(pfd, O_CLOEXEC) < 0)
		return -1;
	pid_t pid = fork();
	if (pid < 0) {
		close(pfd[0]);
		close(pfd[1]);
		return -1;
	}
	*ret_pid = pid;
	if (pid == 0) {
		close(pfd[0]);
		fn(pfd[1], arg);
		_exit(0);
	}
	close(pfd[1]);
	for (;;) {
		ssize_t n = read(pfd[0], out + len, outlen - 1 - len);
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	out[len] = '\0';
	close(pfd[0]);
	if (berth_waitpid(pid, 0, &status) < 0)
		return -1;
	return status;
}
