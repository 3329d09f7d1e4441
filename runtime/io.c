/* SPDX-License-Identifier: Apache-2.0 */
/* The foreground of run and exec: terminal copy, signal forwarding, waiting. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "cli.h"
#include "base/banned.h"

static void copy_winsize(int from, int to)
{
	struct winsize ws;

	if (ioctl(from, TIOCGWINSZ, &ws) == 0)
		ioctl(to, TIOCSWINSZ, &ws);
}

/* Move what is readable now from one fd to another; false at EOF or error. */
static bool pump(int from, int to)
{
	char buf[16384];
	ssize_t n = read(from, buf, sizeof(buf));

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return true;
	if (n <= 0)
		return false;
	return berth_write_all(to, buf, (size_t)n) == 0;
}

void cli_block_forwarded_signals(sigset_t *ret)
{
	sigemptyset(ret);
	for (int s = 1; s < SIGRTMIN; s++)
		/* not the ones the kernel raises for our own faults, nor the unblockable */
		if (s != SIGKILL && s != SIGSTOP && s != SIGSEGV && s != SIGBUS && s != SIGFPE &&
		    s != SIGILL && s != SIGTRAP && s != SIGABRT && s != SIGSYS)
			sigaddset(ret, s);
	sigprocmask(SIG_BLOCK, ret, NULL);
}

int cli_foreground(struct cli *cli, pid_t pid, int pty_master, bool reap_all)
{
	struct termios saved;
	bool raw = false, stdin_open = pty_master >= 0, master_open = pty_master >= 0;
	bool exited = false;
	int status = 0, sfd;
	sigset_t all;

	cli_block_forwarded_signals(&all);
	sfd = signalfd(-1, &all, SFD_CLOEXEC);

	if (pty_master >= 0 && isatty(0) && tcgetattr(0, &saved) == 0) {
		struct termios t = saved;
		cfmakeraw(&t);
		t.c_oflag = saved.c_oflag; /* keep output processing: our stdout is the same tty */
		tcsetattr(0, TCSANOW, &t);
		raw = true;
		copy_winsize(0, pty_master);
	}
	while (!exited || master_open) {
		struct pollfd p[3] = {
			{.fd = sfd, .events = POLLIN},
			{.fd = stdin_open ? 0 : -1, .events = POLLIN},
			{.fd = master_open ? pty_master : -1, .events = POLLIN},
		};
		if (exited) {
			/* the process is gone: drain what the pty still holds, then stop */
			p[0].fd = -1;
			p[1].fd = -1;
			if (poll(&p[2], 1, 100) <= 0 || !pump(pty_master, 1))
				break;
			continue;
		}
		if (poll(p, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[1].revents && !pump(0, pty_master))
			stdin_open = false;
		if (p[2].revents && !pump(pty_master, 1))
			master_open = false;
		if (p[0].revents) {
			struct signalfd_siginfo si;
			if (read(sfd, &si, sizeof(si)) != sizeof(si))
				continue;
			if (si.ssi_signo == SIGWINCH) {
				if (pty_master >= 0)
					copy_winsize(0, pty_master);
			} else if (si.ssi_signo != SIGCHLD) {
				kill(pid, (int)si.ssi_signo);
			}
			/* reap on every signal: SIGCHLDs coalesce */
			for (;;) {
				int st;
				pid_t w = waitpid(reap_all ? -1 : pid, &st, WNOHANG);
				if (w <= 0)
					break;
				if (w == pid) {
					status = st;
					exited = true;
				}
			}
		}
	}
	if (!exited) {
		while (berth_waitpid(pid, 0, &status) < 0 && errno == EINTR)
			;
	}
	if (raw)
		tcsetattr(0, TCSANOW, &saved);
	if (pty_master >= 0)
		close(pty_master);
	if (sfd >= 0)
		close(sfd);
	cli_log(cli, "debug", "process %d exited: %d", (int)pid, berth_exit_code(status));
	return berth_exit_code(status);
}
