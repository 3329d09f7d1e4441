/* SPDX-License-Identifier: Apache-2.0 */
/*
 * OCI hooks: each runs with the container's state on stdin; its stdout and stderr are collected
 * (capped) so a failure can say why.  A hook that outlives its timeout is killed.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "container-internal.h"
#include "base/banned.h"

#define HOOK_OUTPUT_MAX 4096

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int run_one(const struct berth_hook *h, const char *kind, const char *state_json,
		   struct berth_error **err)
{
	int in[2], out[2];
	_cleanup_close_ int in_w = -EBADF, out_r = -EBADF, pidfd = -EBADF;
	char output[HOOK_OUTPUT_MAX + 1];
	size_t out_len = 0;
	int status = 0;
	bool timed_out = false;
	pid_t pid;

	if (pipe2(in, O_CLOEXEC) < 0)
		return berth_error_sys(err, errno, "%s hook '%s': pipe", kind, h->path);
	if (pipe2(out, O_CLOEXEC) < 0) {
		close(in[0]);
		close(in[1]);
		return berth_error_sys(err, errno, "%s hook '%s': pipe", kind, h->path);
	}
	pid = fork();
	if (pid < 0) {
		int e = errno;
		close(in[0]);
		close(in[1]);
		close(out[0]);
		close(out[1]);
		return berth_error_sys(err, e, "%s hook '%s': fork", kind, h->path);
	}
	if (pid == 0) {
		char *empty[] = {NULL};
		char *argv0[] = {h->path, NULL};
		dup2(in[0], 0);
		dup2(out[1], 1);
		dup2(out[1], 2);
		/* the hook must not die with the runtime's blocked signals or ignored SIGPIPE */
		sigset_t all;
		sigemptyset(&all);
		sigprocmask(SIG_SETMASK, &all, NULL);
		signal(SIGPIPE, SIG_DFL);
		execve(h->path, h->args ? h->args : argv0, h->env ? h->env : empty);
		dprintf(2, "exec: %s", strerror(errno));
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	in_w = in[1];
	out_r = out[0];
	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);

	/* The state is small: one write; a hook that does not read it gets EPIPE, which is fine. */
	{
		sigset_t pipe_set, old;
		sigemptyset(&pipe_set);
		sigaddset(&pipe_set, SIGPIPE);
		sigprocmask(SIG_BLOCK, &pipe_set, &old);
		berth_write_all(in_w, state_json, strlen(state_json));
		/* drain a SIGPIPE that the write may have raised, then restore the mask */
		struct timespec zero = {0, 0};
		sigtimedwait(&pipe_set, NULL, &zero);
		sigprocmask(SIG_SETMASK, &old, NULL);
	}
	close(TAKE_FD(in_w));

	int64_t deadline = h->timeout > 0 ? now_ms() + (int64_t)h->timeout * 1000 : -1;
	bool eof = false, exited = false;
	while (!exited) {
		struct pollfd p[2] = {{.fd = eof ? -1 : out_r, .events = POLLIN},
				      {.fd = pidfd, .events = POLLIN}};
		int timeout = -1;
		if (deadline >= 0) {
			int64_t left = deadline - now_ms();
			if (left <= 0) {
				kill(pid, SIGKILL);
				timed_out = true;
				break;
			}
			timeout = (int)left;
		}
		int n = poll(p, 2, timeout);
		if (n < 0 && errno != EINTR)
			break;
		if (n <= 0)
			continue;
		if (p[0].revents) {
			char buf[1024];
			ssize_t k = read(out_r, buf, sizeof(buf));
			if (k <= 0) {
				eof = true;
			} else {
				size_t take = (size_t)k;
				if (take > HOOK_OUTPUT_MAX - out_len)
					take = HOOK_OUTPUT_MAX - out_len;
				memcpy(output + out_len, buf, take);
				out_len += take;
			}
		}
		if (p[1].revents)
			exited = true;
		if (pidfd < 0 && eof)
			exited = true; /* no pidfd: fall back to waiting once output closes */
	}
	berth_waitpid(pid, 0, &status);
	/* collect what is left of the output without blocking */
	fcntl(out_r, F_SETFL, O_NONBLOCK);
	while (out_len < HOOK_OUTPUT_MAX) {
		ssize_t k = read(out_r, output + out_len, HOOK_OUTPUT_MAX - out_len);
		if (k <= 0)
			break;
		out_len += (size_t)k;
	}
	while (out_len > 0 && (output[out_len - 1] == '\n' || output[out_len - 1] == ' '))
		out_len--;
	output[out_len] = '\0';

	if (timed_out)
		return berth_error_set(err, ETIMEDOUT, "%s hook '%s': timed out after %d seconds",
				       kind, h->path, h->timeout);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (WIFSIGNALED(status))
		return berth_error_set(err, EIO, "%s hook '%s': killed by signal %d%s%s", kind,
				       h->path, WTERMSIG(status), out_len ? ": " : "", output);
	return berth_error_set(err, EIO, "%s hook '%s': exited with status %d%s%s", kind, h->path,
			       WEXITSTATUS(status), out_len ? ": " : "", output);
}

int berth_hooks_run(const struct berth_hook_list *hooks, const char *kind, const char *state_json,
		    struct berth_error **err)
{
	for (size_t i = 0; i < hooks->n; i++) {
		int r = run_one(&hooks->hooks[i], kind, state_json, err);
		if (r < 0)
			return r;
	}
	return 0;
}

int berth_hooks_run_all(const struct berth_hook_list *hooks, const char *kind,
			const char *state_json, struct berth_error **err)
{
	_cleanup_free_ char *msgs = NULL;
	int first = 0;

	for (size_t i = 0; i < hooks->n; i++) {
		_cleanup_error_ struct berth_error *e = NULL;
		int r = run_one(&hooks->hooks[i], kind, state_json, &e);
		if (r == 0)
			continue;
		char *joined = NULL;
		if (asprintf(&joined, "%s%s%s", msgs ? msgs : "", msgs ? "; " : "",
			     e && e->msg ? e->msg : "hook failed") >= 0) {
			free(msgs);
			msgs = joined;
		}
		if (!first)
			first = e ? e->code : EIO;
	}
	if (!first)
		return 0;
	return berth_error_set(err, first, "%s", msgs ? msgs : "hook failed");
}
