/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/base's event loop, process handles and I/O pieces, against real kernel objects: pipes,
 * socketpairs, a pty pair, timerfds, signalfds and forked children that exit with codes and
 * signals.  Linked with berth-base-core alone: it also proves the core needs no jansson.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "base/core.h"
#include "base/loop.h"
#include "tap.h"

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static const char *msg(struct berth_error *e)
{
	return e && e->msg ? e->msg : "";
}

/* ---- the loop itself ---------------------------------------------------------------------- */

struct counter {
	int calls;
	int quit_at;
	int fail_at;
	char got[64];
	size_t len;
	struct berth_loop_source *other; /* freed by the first call */
};

static int read_some(struct berth_loop_source *s, int fd, uint32_t revents, void *data,
		     struct berth_error **err)
{
	struct counter *c = data;
	ssize_t n = read(fd, c->got + c->len, sizeof(c->got) - 1 - c->len);

	c->calls++;
	if (n > 0)
		c->len += (size_t)n;
	c->got[c->len] = '\0';
	if (c->other)
		berth_loop_source_freep(&c->other);
	if (c->fail_at && c->calls == c->fail_at)
		return berth_error_set(err, EPROTO, "callback %d says no", c->calls);
	if (n == 0 || (c->quit_at && c->calls >= c->quit_at))
		berth_loop_quit(berth_loop_source_loop(s), 7);
	return 0;
}

static void test_loop_basics(void)
{
	_cleanup_error_ struct berth_error *err = NULL;
	struct berth_loop *l = NULL;
	struct berth_loop_source *s = NULL;
	struct counter c = {.quit_at = 1};
	int p[2];

	is(berth_loop_new(&l, &err), 0, "loop: new %s", msg(err));
	is(berth_loop_run(l, &err), 0, "loop: run with no source returns at once");
	is(pipe2(p, O_CLOEXEC), 0, "pipe");
	is(berth_loop_add_io(l, p[0], EPOLLIN, read_some, &c, &s, &err), 0, "loop: add io");
	ok(write(p[1], "hello", 5) == 5, "write to the pipe");
	is(berth_loop_run(l, &err), 7, "loop: run returns the code given to quit");
	is(c.calls, 1, "loop: the callback ran once");
	is_str(c.got, "hello", "loop: the callback read what was written");

	/* paused: nothing is called, even with data waiting */
	is(berth_loop_io_set_events(s, 0, &err), 0, "loop: pause an io source");
	ok(write(p[1], "x", 1) == 1, "write again");
	is(berth_loop_iterate(l, 50, &err), 0, "loop: a paused source is not called");
	is(berth_loop_io_set_events(s, EPOLLIN, &err), 0, "loop: resume it");
	is(berth_loop_iterate(l, 1000, &err), 1, "loop: one call after resuming");
	is_str(c.got, "hellox", "loop: it read the byte that waited");

	/* a failing callback ends the run with its error */
	c.fail_at = c.calls + 1;
	c.quit_at = 0;
	ok(write(p[1], "y", 1) == 1, "write again");
	is(berth_loop_run(l, &err), -EPROTO, "loop: a callback's error ends the run");
	ok(err && strstr(err->msg, "says no"), "loop: with the callback's message: %s", msg(err));
	berth_error_freep(&err);

	berth_loop_source_free(s);
	is(berth_loop_run(l, &err), 0, "loop: no source left: run returns 0");
	close(p[0]);
	close(p[1]);
	berth_loop_free(l);
	berth_loop_free(NULL);
}

/* Two sources ready in one round; the first frees the second, which must not run (ASan). */
static void test_loop_free_in_callback(void)
{
	_cleanup_error_ struct berth_error *err = NULL;
	struct berth_loop *l = NULL;
	struct counter a = {.quit_at = 1}, b = {.quit_at = 1};
	struct berth_loop_source *sa = NULL, *sb = NULL;
	int p[2], q[2];

	berth_loop_new(&l, &err);
	is(pipe2(p, O_CLOEXEC) | pipe2(q, O_CLOEXEC), 0, "two pipes");
	berth_loop_add_io(l, p[0], EPOLLIN, read_some, &a, &sa, &err);
	berth_loop_add_io(l, q[0], EPOLLIN, read_some, &b, &sb, &err);
	/* whoever runs first frees the other */
	a.other = sb;
	b.other = sa;
	ok(write(p[1], "a", 1) == 1 && write(q[1], "b", 1) == 1, "both readable");
	is(berth_loop_iterate(l, 1000, &err), 1, "loop: one call in the round");
	is(a.calls + b.calls, 1, "loop: the freed source was not called");
	/* the survivor frees itself from inside its own callback */
	struct counter *alive = a.calls ? &a : &b;
	alive->other = a.calls ? sa : sb;
	ok(write(a.calls ? p[1] : q[1], "z", 1) == 1, "write to the survivor");
	is(berth_loop_iterate(l, 1000, &err), 1, "loop: the survivor runs and frees itself");
	is(berth_loop_run(l, &err), 0, "loop: nothing left");
	berth_loop_free(l);
	close(p[0]);
	close(p[1]);
	close(q[0]);
	close(q[1]);
}

static int on_w(struct berth_loop_source *s, int f, uint32_t ev, void *data,
		struct berth_error **e2)
{
	(*(int *)data)++;
	berth_loop_io_set_events(s, 0, NULL);
	return 0;
}

/* A regular file (epoll says EPERM) is always ready; the same fd in two sources (a dup). */
static void test_loop_always_ready_and_dup(void)
{
	_cleanup_error_ struct berth_error *err = NULL;
	struct berth_loop *l = NULL;
	struct counter c = {};
	char path[] = "/tmp/berth-test-loop-XXXXXX";
	int fd = mkostemp(path, O_CLOEXEC);

	unlink(path);
	ok(fd >= 0 && write(fd, "from a file", 11) == 11 && lseek(fd, 0, SEEK_SET) == 0,
	   "a regular file");
	berth_loop_new(&l, &err);
	is(berth_loop_add_io(l, fd, EPOLLIN, read_some, &c, NULL, &err), 0,
	   "loop: a regular file is accepted %s", msg(err));
	is(berth_loop_run(l, &err), 7, "loop: read to the end of the file");
	is_str(c.got, "from a file", "loop: always-ready source read the file");
	berth_loop_free(l);
	close(fd);

	int sp[2];
	struct counter r1 = {.quit_at = 1};
	int writable = 0;
	berth_loop_new(&l, &err);
	is(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp), 0, "socketpair");
	is(berth_loop_add_io(l, sp[0], EPOLLIN, read_some, &r1, NULL, &err), 0, "watch sp[0] in");
	is(berth_loop_add_io(l, sp[0], EPOLLOUT, on_w, &writable, NULL, &err), 0,
	   "loop: the same fd again (EEXIST -> a dup) %s", msg(err));
	ok(write(sp[1], "q", 1) == 1, "peer writes");
	for (int i = 0; i < 5 && !(writable && r1.calls); i++)
		berth_loop_iterate(l, 1000, &err);
	ok(writable > 0 && r1.calls == 1, "loop: both sources on one fd were called (%d, %d)",
	   writable, r1.calls);
	berth_loop_free(l);
	close(sp[0]);
	close(sp[1]);
}

struct ticks {
	int n, stop_at;
	uint64_t first;
};

static int on_tick(struct berth_loop_source *s, void *data, struct berth_error **err)
{
	struct ticks *t = data;

	if (t->n++ == 0)
		t->first = now_ms();
	if (t->n >= t->stop_at)
		berth_loop_quit(berth_loop_source_loop(s), 0);
	return 0;
}

static void test_timers(void)
{
	_cleanup_error_ struct berth_error *err = NULL;
	struct berth_loop *l = NULL;
	struct berth_loop_source *s = NULL;
	struct ticks once = {.stop_at = 1}, rep = {.stop_at = 3};
	uint64_t t0;

	berth_loop_new(&l, &err);
	t0 = now_ms();
	is(berth_loop_add_timer(l, 30000, 0, on_tick, &once, &s, &err), 0, "timer: one-shot 30 ms");
	is(berth_loop_run(l, &err), 0, "timer: run until it fires");
	ok(once.n == 1 && once.first - t0 >= 29, "timer: fired once after %llu ms",
	   (unsigned long long)(once.first - t0));
	is(berth_loop_iterate(l, 60, &err), 0, "timer: a one-shot does not fire again");
	is(berth_loop_timer_set(s, 10000, 10000, &err), 0, "timer: re-armed as 10 ms interval");
	once.stop_at = 4;
	t0 = now_ms();
	berth_loop_run(l, &err);
	ok(once.n == 4 && now_ms() - t0 >= 29, "timer: the interval fired 3 more times");
	is(berth_loop_timer_set(s, 0, 0, &err), 0, "timer: disarm");
	is(berth_loop_iterate(l, 40, &err), 0, "timer: a disarmed timer is quiet");
	berth_loop_source_free(s);

	is(berth_loop_add_timer(l, 5000, 5000, on_tick, &rep, NULL, &err), 0,
	   "timer: 5 ms repeating");
	berth_loop_run(l, &err);
	is(rep.n, 3, "timer: repeating timer ran three times");
	berth_loop_free(l);
}

struct sigs {
	int got[4];
	int n;
};

static int on_signal(struct berth_loop_source *s, const struct signalfd_siginfo *si, void *data,
		     struct berth_error **err)
{
	struct sigs *g = data;

	if (g->n < 4)
		g->got[g->n++] = (int)si->ssi_signo;
	if (si->ssi_signo == SIGUSR2)
		berth_loop_quit(berth_loop_source_loop(s), 0);
	return 0;
}

static void test_signals(void)
{
	_cleanup_error_ struct berth_error *err = NULL;
	struct berth_loop *l = NULL;
	struct sigs g = {};
	sigset_t set, cur;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	berth_loop_new(&l, &err);
	is(berth_loop_add_signals(l, &set, on_signal, &g, NULL, &err), 0, "signals: add");
	sigprocmask(SIG_BLOCK, NULL, &cur);
	ok(sigismember(&cur, SIGUSR1) && sigismember(&cur, SIGUSR2), "signals: the set is blocked");
	raise(SIGUSR1);
	raise(SIGUSR2);
	is(berth_loop_run(l, &err), 0, "signals: run until SIGUSR2");
	ok(g.n == 2 && g.got[0] + g.got[1] == SIGUSR1 + SIGUSR2, "signals: both arrived (%d)", g.n);
	berth_loop_free(l);
	sigprocmask(SIG_UNBLOCK, &set, NULL);

	sigset_t fwd;
	berth_signal_forwardable(&fwd);
	ok(sigismember(&fwd, SIGTERM) && sigismember(&fwd, SIGINT) && sigismember(&fwd, SIGHUP) &&
		   sigismember(&fwd, SIGUSR1) && sigismember(&fwd, SIGPIPE),
	   "forwardable: TERM INT HUP USR1 PIPE");
	ok(!sigismember(&fwd, SIGKILL) && !sigismember(&fwd, SIGSTOP) &&
		   !sigismember(&fwd, SIGCHLD) && !sigismember(&fwd, SIGWINCH) &&
		   !sigismember(&fwd, SIGSEGV),
	   "forwardable: not KILL STOP CHLD WINCH SEGV");
}

/* ---- process handles ---------------------------------------------------------------------- */

/* Fork a child that waits for a byte on a pipe, then does what `how` says. */
static pid_t child(int *go, int how)
{
	int p[2];
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		sigset_t none;
		char ch;
		struct rlimit no_core = {0, 0};

		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		setrlimit(RLIMIT_CORE, &no_core);
		close(p[1]);
		if (read(p[0], &ch, 1) != 1)
			_exit(99);
		if (how >= 0)
			_exit(how);
		/* a runner started in the background by a shell ignores SIGINT and SIGQUIT, and
		 * that is inherited: the signal must kill, whatever we were given */
		signal(-how, SIG_DFL);
		raise(-how);
		pause();
		_exit(98);
	}
	close(p[0]);
	*go = p[1];
	return pid;
}

struct exits {
	int n;
	struct berth_exit_status st[4];
	bool has[4];
	pid_t pid[4];
	int want;
};

static int on_exit_cb(struct berth_loop_source *s, struct berth_pidfd *p, void *data,
		      struct berth_error **err)
{
	struct exits *e = data;

	if (e->n < 4) {
		e->st[e->n] = p->status;
		e->has[e->n] = p->has_status;
		e->pid[e->n] = p->pid;
		e->n++;
	}
	if (e->n >= e->want)
		berth_loop_quit(berth_loop_source_loop(s), 0);
	return 0;
}

static void test_pidfd_codes_and_signals(void)
{
	_cleanup_error_ struct berth_error *err = NULL;
	struct berth_loop *l = NULL;
	struct {
		int how;
		int code, sig, shell;
	} cases[] = {
		{0, 0, 0, 0},
		{3, 3, 0, 3},
		{255, 255, 0, 255},
		{-SIGKILL, 0, SIGKILL, 137},
		{-SIGTERM, 0, SIGTERM, 143},
		{-SIGQUIT, 0, SIGQUIT, 131},
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		int go = -1;
		pid_t pid = child(&go, cases[i].how);
		struct berth_pidfd *p = NULL;
		struct exits e = {.want = 1};

		is(berth_pidfd_open(pid, &p, &err), 0, "pidfd: open %d %s", (int)pid, msg(err));
		if (!p)
			continue;
		struct pollfd pf = {.fd = p->fd, .events = POLLIN};
		is(poll(&pf, 1, 0), 0, "pidfd: not readable while the child runs");
		is(berth_pidfd_try_wait(p, &err), 0, "pidfd: try_wait says it runs");
		berth_loop_new(&l, &err);
		is(berth_loop_add_child(l, p, on_exit_cb, &e, NULL, &err), 0, "pidfd: watch it");
		ok(write(go, "g", 1) == 1, "let it go");
		close(go);
		is(berth_loop_run(l, &err), 0, "pidfd: run until it exits");
		ok(e.n == 1 && e.has[0], "pidfd: exit reported with a status");
		is(e.st[0].code, cases[i].code, "pidfd: how=%d: exit code", cases[i].how);
		is(e.st[0].signal, cases[i].sig, "pidfd: how=%d: signal", cases[i].how);
		is(berth_exit_status_code(&e.st[0]), cases[i].shell, "pidfd: how=%d: shell code",
		   cases[i].how);
		ok(!e.st[0].core_dumped, "pidfd: no core (RLIMIT_CORE 0)");
		/* reaped: the pid is no longer our child */
		ok(waitpid(pid, NULL, WNOHANG) < 0 && errno == ECHILD,
		   "pidfd: the child was reaped");
		is(berth_pidfd_try_wait(p, &err), 1, "pidfd: try_wait after exit says exited");
		berth_loop_free(l);
		berth_pidfd_free(p);
	}
	berth_pidfd_free(NULL);
	is(berth_pidfd_open(-5, &(struct berth_pidfd *){NULL}, &err), -EINVAL, "pidfd: bad pid");
	berth_error_freep(&err);
}

static void test_pidfd_signal_and_not_ours(void)
{
	_cleanup_error_ struct berth_error *err = NULL;
	struct berth_pidfd *p = NULL;
	int go = -1;
	pid_t pid = child(&go, 0);

	/* signal through the pidfd */
	berth_pidfd_open(pid, &p, &err);
	is(berth_pidfd_signal(p, SIGTERM, &err), 0, "pidfd: send SIGTERM");
	{
		struct berth_loop *l = NULL;
		struct exits e = {.want = 1};
		berth_loop_new(&l, &err);
		berth_loop_add_child(l, p, on_exit_cb, &e, NULL, &err);
		berth_loop_run(l, &err);
		is(e.st[0].signal, SIGTERM, "pidfd: it died of the signal sent");
		berth_loop_free(l);
	}
	is(berth_pidfd_signal(p, SIGTERM, &err), -ESRCH, "pidfd: signal after exit: ESRCH");
	berth_error_freep(&err);
	berth_pidfd_free(p);
	close(go);

	/* a process that is not our child: exited, status unknown */
	int pp[2], gp[2];
	pid_t mid, grand = 0;
	ok(pipe2(pp, O_CLOEXEC) == 0 && pipe2(gp, O_CLOEXEC) == 0, "pipes");
	mid = fork();
	if (mid == 0) {
		pid_t g = fork();
		if (g == 0) {
			char ch;
			close(gp[1]);
			close(pp[0]);
			close(pp[1]);
			/* wait until the test holds a pidfd (gp closes), then exit 4 */
			if (read(gp[0], &ch, 1) < 0)
				_exit(1);
			_exit(4);
		}
		if (write(pp[1], &g, sizeof(g)) != sizeof(g))
			_exit(1);
		_exit(0);
	}
	close(gp[0]);
	close(pp[1]);
	waitpid(mid, NULL, 0);
	ok(read(pp[0], &grand, sizeof(grand)) == sizeof(grand), "got the grandchild's pid");
	p = NULL;
	is(berth_pidfd_open(grand, &p, &err), 0, "pidfd: open a process that is not our child");
	is(berth_pidfd_try_wait(p, &err), 0, "pidfd: not our child, running: 0");
	close(gp[1]); /* the grandchild's read returns 0 -- it exits */
	{
		struct berth_loop *l = NULL;
		struct exits e = {.want = 1};
		berth_loop_new(&l, &err);
		berth_loop_add_child(l, p, on_exit_cb, &e, NULL, &err);
		is(berth_loop_run(l, &err), 0, "pidfd: run until the grandchild exits");
		ok(e.n == 1 && !e.has[0], "pidfd: exit seen, no status (not ours to reap)");
		berth_loop_free(l);
	}
	close(pp[0]);
	berth_pidfd_free(p);

	/* adopt: an fd we hold */
	go = -1;
	pid = child(&go, 6);
	int fd = (int)syscall(SYS_pidfd_open, pid, 0);
	p = NULL;
	is(berth_pidfd_adopt(pid, fd, &p, &err), 0, "pidfd: adopt an fd");
	ok(write(go, "g", 1) == 1, "let it go");
	close(go);
	while (berth_pidfd_try_wait(p, &err) == 0)
		usleep(1000);
	ok(p->has_status && p->status.code == 6, "pidfd: adopted handle reaps exit 6");
	berth_pidfd_free(p);
}

/* As a subreaper: orphans come to us; the reaper takes them, watched children keep statuses. */
static void test_reaper(void)
{
	_cleanup_error_ struct berth_error *err = NULL;
	struct berth_loop *l = NULL;
	struct berth_pidfd *p = NULL;
	struct exits e = {.want = 1};
	int pp[2], go = -1;
	pid_t mid, orphan = 0, watched;

	is(prctl(PR_SET_CHILD_SUBREAPER, 1), 0, "become a subreaper");
	ok(pipe2(pp, O_CLOEXEC) == 0, "pipe");
	mid = fork();
	if (mid == 0) {
		pid_t g = fork();
		if (g == 0)
			_exit(0); /* the orphan: exits at once, reparented to us */
		if (write(pp[1], &g, sizeof(g)) != sizeof(g))
			_exit(1);
		_exit(0);
	}
	close(pp[1]);
	ok(read(pp[0], &orphan, sizeof(orphan)) == sizeof(orphan), "the orphan's pid");
	watched = child(&go, 9);
	berth_pidfd_open(watched, &p, &err);
	berth_loop_new(&l, &err);
	is(berth_loop_add_reaper(l, NULL, &err), 0, "reaper: add %s", msg(err));
	is(berth_loop_add_child(l, p, on_exit_cb, &e, NULL, &err), 0, "reaper: watch a child");
	/* let the orphan and the middle die before the watched child exits */
	usleep(100 * 1000);
	ok(write(go, "g", 1) == 1, "let it go");
	close(go);
	is(berth_loop_run(l, &err), 0, "reaper: run until the watched child exits");
	ok(e.n == 1 && e.has[0] && e.st[0].code == 9, "reaper: the watched child's status kept");
	/* everything else was reaped by now, or is by one more round */
	berth_loop_iterate(l, 200, &err);
	ok(waitpid(mid, NULL, WNOHANG) < 0 && errno == ECHILD, "reaper: the middle was reaped");
	ok(waitpid(orphan, NULL, WNOHANG) < 0 && errno == ECHILD, "reaper: the orphan was reaped");
	berth_loop_free(l);
	berth_pidfd_free(p);
	close(pp[0]);
	prctl(PR_SET_CHILD_SUBREAPER, 0);
	sigset_t chld;
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_UNBLOCK, &chld, NULL);
}

/* ---- I/O pieces --------------------------------------------------------------------------- */

struct done_rec {
	int calls;
	int error;
	bool quit;
};

static int on_done(struct berth_copy *c, int error, void *data, struct berth_error **err)
{
	struct done_rec *d = data;

	d->calls++;
	d->error = error;
	return 0;
}

static void test_copy_socketpair(void)
{
	_cleanup_error_ struct berth_error *err = NULL;
	struct berth_loop *l = NULL;
	struct berth_copy *c = NULL;
	struct done_rec d = {};
	int a[2], b[2];
	char buf[64] = "";

	socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, a);
	socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, b);
	berth_loop_new(&l, &err);
	/* a[1] -> (a[0] -> b[0]) -> b[1] */
	is(berth_copy_new(l, a[0], b[0], on_done, &d, &c, &err), 0, "copy: new");
	ok(write(a[1], "ping", 4) == 4, "write into the copy");
	berth_loop_iterate(l, 1000, &err);
	ok(read(b[1], buf, sizeof(buf)) == 4 && memcmp(buf, "ping", 4) == 0,
	   "copy: arrived on the other side");
	is(berth_copy_bytes(c), 4, "copy: counted 4 bytes");
	shutdown(a[1], SHUT_WR);
	berth_loop_iterate(l, 1000, &err);
	ok(d.calls == 1 && d.error == 0, "copy: done at end of input, error 0");
	ok(berth_copy_finished(c), "copy: finished");
	berth_copy_free(c);
	is(berth_loop_run(l, &err), 0, "copy: its sources are gone");

	/* nobody reads the output: EPIPE */
	sigset_t pipe_set;
	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	sigprocmask(SIG_BLOCK, &pipe_set, NULL);
	int p[2], q[2];
	pipe2(p, O_CLOEXEC);
	pipe2(q, O_CLOEXEC);
	close(q[0]);
	d = (struct done_rec){};
	c = NULL;
	berth_copy_new(l, p[0], q[1], on_done, &d, &c, &err);
	ok(write(p[1], "x", 1) == 1, "write into a copy whose reader is gone");
	berth_loop_iterate(l, 1000, &err);
	ok(d.calls == 1 && d.error == -EPIPE, "copy: a write to a closed pipe ends it with EPIPE");
	berth_copy_free(c);
	struct timespec zero = {0, 0};
	sigtimedwait(&pipe_set, NULL, &zero);
	sigprocmask(SIG_UNBLOCK, &pipe_set, NULL);
	close(p[0]);
	close(p[1]);
	close(q[1]);
	close(a[0]);
	close(a[1]);
	close(b[0]);
	close(b[1]);
	berth_loop_free(l);
}

struct slow_reader {
	int fd;
	size_t total;
	bool bad;
	struct done_rec *d;
};

static int on_slow(struct berth_loop_source *s, int fd, uint32_t revents, void *data,
		   struct berth_error **err)
{
	struct slow_reader *r = data;
	unsigned char buf[700];
	ssize_t n = read(fd, buf, sizeof(buf));

	for (ssize_t i = 0; i < n; i++)
		if (buf[i] != (unsigned char)((r->total + (size_t)i) % 251))
			r->bad = true;
	if (n > 0)
		r->total += (size_t)n;
	if (n == 0) {
		berth_loop_source_free(s);
		berth_loop_quit(berth_loop_source_loop(s), 0);
	}
	return 0;
}

static int close_out_done(struct berth_copy *c, int error, void *data, struct berth_error **err)
{
	struct slow_reader *r = data;

	r->d->calls++;
	r->d->error = error;
	close(r->fd); /* the slow reader sees EOF once it has read everything */
	return 0;
}

/* 1 MiB through a non-blocking pipe of 4 KiB: the copy must wait for room, losing nothing. */
static void test_copy_backpressure(void)
{
	_cleanup_error_ struct berth_error *err = NULL;
	struct berth_loop *l = NULL;
	struct berth_copy *c = NULL;
	struct done_rec d = {};
	int in[2], out[2];
	const size_t total = 1 << 20;
	pid_t writer;

	pipe2(in, O_CLOEXEC);
	pipe2(out, O_CLOEXEC | O_NONBLOCK);
	fcntl(out[1], F_SETPIPE_SZ, 4096);
	writer = fork();
	if (writer == 0) {
		unsigned char buf[4096];
		close(in[0]);
		for (size_t off = 0; off < total; off += sizeof(buf)) {
			for (size_t i = 0; i < sizeof(buf); i++)
				buf[i] = (unsigned char)((off + i) % 251);
			if (write(in[1], buf, sizeof(buf)) != (ssize_t)sizeof(buf))
				_exit(1);
		}
		_exit(0);
	}
	close(in[1]);
	struct slow_reader r = {.fd = out[1], .d = &d};
	berth_loop_new(&l, &err);
	is(berth_copy_new(l, in[0], out[1], close_out_done, &r, &c, &err), 0, "backpressure: copy");
	berth_loop_add_io(l, out[0], EPOLLIN, on_slow, &r, NULL, &err);
	is(berth_loop_run(l, &err), 0, "backpressure: run %s", msg(err));
	is(r.total, total, "backpressure: every byte arrived");
	ok(!r.bad, "backpressure: in order, unchanged");
	ok(d.calls == 1 && d.error == 0, "backpressure: copy done at EOF");
	is(berth_copy_bytes(c), total, "backpressure: copy counted 1 MiB");
	berth_copy_free(c);
	berth_loop_free(l);
	waitpid(writer, NULL, 0);
	close(in[0]);
	close(out[0]);
}

static void test_pty(void)
{
	_cleanup_error_ struct berth_error *err = NULL;
	struct berth_loop *l = NULL;
	struct berth_copy *c = NULL;
	struct done_rec d = {};
	unsigned rows = 0, cols = 0;
	int master, slave, p[2];
	char buf[64] = "";

	master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	ok(master >= 0 && grantpt(master) == 0 && unlockpt(master) == 0, "a pty");
	slave = open(ptsname(master), O_RDWR | O_NOCTTY | O_CLOEXEC);
	ok(slave >= 0, "its slave");

	is(berth_pty_set_size(master, 33, 111, &err), 0, "pty: set size");
	is(berth_pty_get_size(slave, &rows, &cols, &err), 0, "pty: get size");
	ok(rows == 33 && cols == 111, "pty: the slave sees 33x111 (%ux%u)", rows, cols);
	int m2 = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	berth_pty_copy_size(slave, m2);
	rows = cols = 0;
	berth_pty_get_size(m2, &rows, &cols, &err);
	ok(rows == 33 && cols == 111, "pty: copy_size passed 33x111 on");
	close(m2);
	pipe2(p, O_CLOEXEC);
	is(berth_pty_get_size(p[0], &rows, &cols, &err), -ENOTTY, "pty: a pipe has no size");
	berth_error_freep(&err);
	is(berth_pty_set_size(master, 70000, 1, &err), -EINVAL, "pty: 70000 rows refused");
	berth_error_freep(&err);

	/* raw mode on the slave, then back */
	struct berth_tty_state st, st2;
	struct termios t;
	is(berth_tty_set_raw(slave, &st, &err), 0, "tty: raw");
	tcgetattr(slave, &t);
	ok(st.saved && !(t.c_lflag & (ECHO | ICANON | ISIG)), "tty: no echo, no line editing");
	ok(t.c_oflag == st.termios.c_oflag, "tty: output processing kept");
	berth_tty_restore(&st);
	tcgetattr(slave, &t);
	ok(!st.saved && (t.c_lflag & ECHO) && (t.c_lflag & ICANON), "tty: restored");
	is(berth_tty_set_raw(p[0], &st2, &err), 0, "tty: a pipe is left alone");
	ok(!st2.saved, "tty: nothing saved for a pipe");
	berth_tty_restore(&st2);

	/* master -> pipe; the slave side closes: the copy ends with EIO as end of input */
	berth_loop_new(&l, &err);
	is(berth_copy_new(l, master, p[1], on_done, &d, &c, &err), 0, "pty: copy master -> pipe");
	ok(write(slave, "hi\n", 3) == 3, "write on the slave");
	berth_loop_iterate(l, 1000, &err);
	ssize_t n = read(p[0], buf, sizeof(buf) - 1);
	ok(n >= 2 && memcmp(buf, "hi", 2) == 0, "pty: what the slave wrote came out");
	close(slave);
	for (int i = 0; i < 5 && !d.calls; i++)
		berth_loop_iterate(l, 1000, &err);
	ok(d.calls == 1 && d.error == 0, "pty: slave closed -> copy done, error 0 (EIO is EOF)");
	berth_copy_free(c);
	berth_loop_free(l);
	close(master);
	close(p[0]);
	close(p[1]);
}

static void test_signal_forward(void)
{
	_cleanup_error_ struct berth_error *err = NULL;
	struct berth_loop *l = NULL;
	struct berth_pidfd *p = NULL;
	struct exits e = {.want = 1};
	sigset_t set;
	int go = -1;
	/* the child waits for its go byte forever; the forwarded SIGHUP ends it */
	pid_t pid = child(&go, 0);

	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	berth_pidfd_open(pid, &p, &err);
	berth_loop_new(&l, &err);
	is(berth_loop_add_signal_forward(l, &set, p, NULL, &err), 0, "forward: add");
	berth_loop_add_child(l, p, on_exit_cb, &e, NULL, &err);
	raise(SIGHUP);
	is(berth_loop_run(l, &err), 0, "forward: run until the child exits");
	is(e.st[0].signal, SIGHUP, "forward: our SIGHUP killed the child");
	berth_loop_free(l);
	berth_pidfd_free(p);
	close(go);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
}

struct log_rec {
	int n;
	enum berth_log_level level;
	char msg[64];
};

static void log_fn(void *data, enum berth_log_level level, const char *m)
{
	struct log_rec *r = data;

	r->n++;
	r->level = level;
	snprintf(r->msg, sizeof(r->msg), "%s", m);
}

static void test_log(void)
{
	struct log_rec r = {};
	struct berth_log log = {.fn = log_fn, .data = &r};

	berth_log(NULL, BERTH_LOG_WARNING, "nobody listens");
	berth_log(&(struct berth_log){}, BERTH_LOG_WARNING, "no callback");
	berth_log(&log, BERTH_LOG_DEBUG, "dropped: debug off");
	is(r.n, 0, "log: nothing passed without a callback or with debug off");
	berth_log(&log, BERTH_LOG_WARNING, "value %d", 42);
	ok(r.n == 1 && r.level == BERTH_LOG_WARNING && strcmp(r.msg, "value 42") == 0,
	   "log: a warning formatted and passed");
	log.debug = true;
	berth_log(&log, BERTH_LOG_DEBUG, "now %s", "on");
	ok(r.n == 2 && strcmp(r.msg, "now on") == 0, "log: debug passed with debug on");
	is_str(berth_log_level_name(BERTH_LOG_WARNING), "warning", "log: level names");
	is_str(berth_log_level_name(BERTH_LOG_DEBUG), "debug", "log: debug name");
}

int main(void)
{
	/* the loop's children (and the tests') must see our SIGCHLD handling, not an ignore */
	signal(SIGCHLD, SIG_DFL);
	setvbuf(stdout, NULL, _IOLBF, 0);
	test_loop_basics();
	test_loop_free_in_callback();
	test_loop_always_ready_and_dup();
	test_timers();
	test_signals();
	test_pidfd_codes_and_signals();
	test_pidfd_signal_and_not_ours();
	test_reaper();
	test_copy_socketpair();
	test_copy_backpressure();
	test_pty();
	test_signal_forward();
	test_log();
	return done_testing();
}
