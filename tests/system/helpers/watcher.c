/* SPDX-License-Identifier: Apache-2.0 */
/*
 * watcher: the attacker of tests/system/test_escapes.py, run inside a container.  It plays
 * CVE-2019-5736 and CVE-2016-9962 against the runtime, and never writes anything:
 *
 *   - it polls /proc for every process but itself;
 *   - on every round it tries to open /proc/PID/exe of each with O_PATH (until it gets one)
 *     and keeps what it got;
 *   - on every round it tries to reopen each kept fd (but the container's own files) through
 *     /proc/self/fd/N with O_WRONLY (what the attack needs once the runtime has exited: ETXTBSY
 *     goes away), where access(W_OK) says it may, and when that succeeds closes it at once
 *     without writing;
 *   - on every round it tries PTRACE_ATTACH on each (until it succeeds once; it detaches at
 *     once).
 *
 * Each success is one line in the log file (comm: the process's name when it was found):
 *   OPEN pid dev:ino comm target           /proc/PID/exe opened (O_PATH)
 *   WRITABLE pid dev:ino comm seals target reopened for writing; seals: F_GET_SEALS or -1
 *   PTRACED pid dev:ino comm target        ptrace attach succeeded
 * It runs until the file given as argv[2] exists, then prints "DONE rounds=N seen=M".
 *
 *   watcher LOG STOPFILE
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_PIDS 65536
#define MAX_HELD 512

static FILE *out;
/* per pid: SEEN once listed, OPENED once its exe was opened, TRACED once ptraced */
enum { SEEN = 1, OPENED = 2, TRACED = 4 };
static unsigned char state[MAX_PIDS];
static struct {
	int fd;
	int pid;
	bool reported;
	char comm[20];
} held[MAX_HELD];

/* /proc/PID/comm (readable whatever the process's dumpable flag), "?" when gone */
static void comm_of(int pid, char *buf, size_t size)
{
	char path[64];
	int fd;
	ssize_t n = -1;

	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		n = read(fd, buf, size - 1);
		close(fd);
	}
	if (n <= 0) {
		snprintf(buf, size, "?");
		return;
	}
	buf[n] = '\0';
	buf[strcspn(buf, "\n ")] = '\0';
}
static int n_held;

static void say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(out, fmt, ap);
	va_end(ap);
	fflush(out);
}

static void describe(int fd, char *buf, size_t size, char *id, size_t idsize)
{
	char link[64];
	struct stat st;
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, buf, size - 1);
	buf[n > 0 ? n : 0] = '\0';
	if (fstat(fd, &st) == 0)
		snprintf(id, idsize, "%u:%u:%llu", major(st.st_dev), minor(st.st_dev),
			 (unsigned long long)st.st_ino);
	else
		snprintf(id, idsize, "?");
}

static void try_open(int pid)
{
	char path[64], target[512], id[64], comm[20];
	int fd;

	if (n_held >= MAX_HELD || (state[pid] & OPENED))
		return;
	snprintf(path, sizeof(path), "/proc/%d/exe", pid);
	fd = open(path, O_PATH | O_CLOEXEC);
	if (fd < 0)
		return;
	state[pid] |= OPENED;
	comm_of(pid, comm, sizeof(comm));
	describe(fd, target, sizeof(target), id, sizeof(id));
	say("OPEN %d %s %s %s\n", pid, id, comm, target);
	held[n_held].fd = fd;
	held[n_held].pid = pid;
	held[n_held].reported = false;
	snprintf(held[n_held].comm, sizeof(held[n_held].comm), "%s", comm);
	n_held++;
}

/*
 * A file of the container's own (its busybox): not what the attack is after, and opening it for
 * writing would make the next exec of it fail with ETXTBSY.  Known by its path resolving, here,
 * to the same file; the runtime's binary on the host has no such path in the container.
 */
static bool own_file(int fd)
{
	char link[64], target[512];
	struct stat a, b;
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, target, sizeof(target) - 1);
	if (n <= 0)
		return false;
	target[n] = '\0';
	return target[0] == '/' && fstat(fd, &a) == 0 && stat(target, &b) == 0 &&
	       a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

static void try_reopen(void)
{
	for (int i = 0; i < n_held; i++) {
		char path[64], target[512], id[64];
		int fd;

		if (held[i].reported || own_file(held[i].fd))
			continue;
		snprintf(path, sizeof(path), "/proc/self/fd/%d", held[i].fd);
		/*
		 * Ask first, without opening: an open for writing takes the file's write access
		 * before it checks the mount, so even one that fails (EROFS: the busybox of another
		 * container that joined our pid namespace, on its read-only root) holds the file
		 * for an instant, and an exec of it at that instant fails with ETXTBSY.  access()
		 * checks the same mount and mode, and touches nothing; where it says yes (the
		 * runtime's binary on the host's writable disk, were we ever to hold it) we open.
		 */
		if (access(path, W_OK) < 0)
			continue;
		fd = open(path, O_WRONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		/* never write: note it and close at once (an open writer blocks exec: ETXTBSY) */
		int seals = fcntl(fd, F_GET_SEALS);
		describe(fd, target, sizeof(target), id, sizeof(id));
		close(fd);
		say("WRITABLE %d %s %s %d %s\n", held[i].pid, id, held[i].comm, seals, target);
		held[i].reported = true;
	}
}

static void try_ptrace(int pid)
{
	char path[64], target[512], id[64], comm[20];
	int fd, status;

	if (state[pid] & TRACED)
		return;
	/*
	 * PTRACE_SEIZE: the same permission check as PTRACE_ATTACH (what the attack needs), but no
	 * SIGSTOP and no SIGTRAP at execve that could leave the process stopped after we detach.
	 */
	if (ptrace(PTRACE_SEIZE, pid, NULL, NULL) < 0)
		return;
	state[pid] |= TRACED;
	/*
	 * Stop it (a tracee detaches only from a stop), and look at what it is while it cannot
	 * change: its name and its exe, which as its tracer we may open.
	 */
	bool stopped = ptrace(PTRACE_INTERRUPT, pid, NULL, NULL) == 0 &&
		       waitpid(pid, &status, __WALL) == pid && WIFSTOPPED(status);
	comm_of(pid, comm, sizeof(comm));
	snprintf(path, sizeof(path), "/proc/%d/exe", pid);
	fd = open(path, O_PATH | O_CLOEXEC);
	if (fd >= 0) {
		describe(fd, target, sizeof(target), id, sizeof(id));
		close(fd);
	} else {
		snprintf(target, sizeof(target), "?");
		snprintf(id, sizeof(id), "?");
	}
	if (stopped) {
		/* let it go with the signal it stopped for, if that is what it was */
		int sig = status >> 16 == PTRACE_EVENT_STOP ? 0 : WSTOPSIG(status);
		ptrace(PTRACE_DETACH, pid, NULL, (void *)(long)sig);
	}
	say("PTRACED %d %s %s %s\n", pid, id, comm, target);
}

int main(int argc, char **argv)
{
	unsigned long rounds = 0, n_seen = 0;
	int self = getpid();

	if (argc != 3) {
		fprintf(stderr, "usage: watcher LOG STOPFILE\n");
		return 2;
	}
	out = fopen(argv[1], "a");
	if (!out)
		return 2;
	signal(SIGCHLD, SIG_IGN); /* as PID 1, let orphans that land on us go */
	say("START %d\n", self);
	while (access(argv[2], F_OK) != 0) {
		DIR *d = opendir("/proc");
		struct dirent *de;

		if (!d)
			return 3;
		while ((de = readdir(d))) {
			char *end;
			long pid = strtol(de->d_name, &end, 10);
			if (*end || pid <= 0 || pid >= MAX_PIDS || pid == self)
				continue;
			if (!state[pid])
				n_seen++;
			state[pid] |= SEEN;
			try_open((int)pid);
			try_ptrace((int)pid);
		}
		closedir(d);
		try_reopen();
		rounds++;
		/* reap what our ptrace waits left */
		while (waitpid(-1, NULL, WNOHANG | __WALL) > 0)
			;
	}
	try_reopen();
	say("DONE rounds=%lu seen=%lu\n", rounds, n_seen);
	return 0;
}
