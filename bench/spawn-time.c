/* SPDX-License-Identifier: Apache-2.0 */
/*
 * spawn-time: run a command once and print its wall time in microseconds.
 *
 *   spawn-time [VAR=VAL...] CMD [ARG...]
 *
 * The command is started with posix_spawnp() (glibc uses CLONE_VM|CLONE_VFORK: no copy of this
 * process's page tables, unlike a fork of a large shell), its stdout goes to /dev/null, and the
 * clock (CLOCK_MONOTONIC) runs from just before the spawn to the reaped exit.  Leading VAR=VAL
 * words are set in the command's environment.  Every client is timed alike by it: what is left
 * in the figure is the spawn, the client's own exec and run, and its exit.  Exit status: the
 * command's (1 when it could not start, 128+N when killed by signal N).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static long long now_us(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000000 + t.tv_nsec / 1000;
}

int main(int argc, char **argv)
{
	posix_spawn_file_actions_t fa;
	long long t0, t1;
	int i = 1, status, r;
	pid_t pid;

	for (; i < argc && argv[i][0] != '=' && strchr(argv[i], '='); i++)
		if (putenv(argv[i]) != 0) {
			perror("spawn-time: putenv");
			return 1;
		}
	if (i >= argc) {
		fprintf(stderr, "usage: spawn-time [VAR=VAL...] CMD [ARG...]\n");
		return 1;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
	t0 = now_us();
	r = posix_spawnp(&pid, argv[i], &fa, NULL, &argv[i], environ);
	if (r != 0) {
		fprintf(stderr, "spawn-time: %s: %s\n", argv[i], strerror(r));
		return 1;
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR) {
			perror("spawn-time: waitpid");
			return 1;
		}
	t1 = now_us();
	printf("%lld\n", t1 - t0);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}
