/* SPDX-License-Identifier: Apache-2.0 */
/*
 * berth-init: the PID 1 of a container run with --init (bound at /sbin/docker-init, as docker
 * binds its tini).  It runs the command given after "--" as its child, forwards every signal it
 * may catch to that child, reaps every orphan the container's processes leave, and exits with
 * the child's status (128 + the signal when a signal killed it).  Statically linked: the
 * container's root need not have a libc.  No berth library: this file is the whole program.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void say(const char *what, const char *arg, int error)
{
	/* the container's stderr is the only place to say it, as tini does */
	dprintf(2, "berth-init: %s '%s': %s\n", what, arg, strerror(error));
}

int main(int argc, char **argv)
{
	sigset_t all, old;
	int first = 1, status = 0;
	pid_t child;

	if (argc > 1 && strcmp(argv[1], "--") == 0)
		first = 2;
	if (first >= argc) {
		dprintf(2, "usage: berth-init [--] command [args...]\n");
		return 2;
	}
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, &old);
	child = fork();
	if (child < 0) {
		say("fork for", argv[first], errno);
		return 1;
	}
	if (child == 0) {
		/* its own process group, in the foreground of a terminal when there is one */
		setpgid(0, 0);
		if (isatty(0)) {
			signal(SIGTTOU, SIG_IGN);
			tcsetpgrp(0, getpid());
			signal(SIGTTOU, SIG_DFL);
		}
		sigprocmask(SIG_SETMASK, &old, NULL);
		execvp(argv[first], argv + first);
		say("exec", argv[first], errno);
		_exit(errno == ENOENT ? 127 : 126);
	}
	for (;;) {
		siginfo_t si;
		int sig = sigwaitinfo(&all, &si);

		if (sig < 0)
			continue;
		if (sig != SIGCHLD) {
			/* SIGKILL and SIGSTOP never get here; the rest is the child's */
			kill(child, sig);
			continue;
		}
		for (;;) {
			int st;
			pid_t p = waitpid(-1, &st, WNOHANG);
			if (p <= 0)
				break;
			if (p == child) {
				status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
				child = -1;
			}
		}
		if (child < 0)
			return status;
	}
}
