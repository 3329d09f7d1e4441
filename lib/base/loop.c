/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The event loop (see loop.h for the contract).  Every source sits on the loop's list of live
 * sources; epoll's data pointer is the source.  A freed source leaves epoll and the live list at
 * once but its memory waits on the dead list until the round that may still hold a pointer to
 * it (the rest of an epoll_wait batch) is over.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "loop.h"
#include "banned.h"

#define MAX_EVENTS 16

enum source_type {
	SOURCE_IO,
	SOURCE_TIMER,
	SOURCE_SIGNAL,
	SOURCE_CHILD,
};

struct berth_loop_source {
	struct berth_loop *loop;
	enum source_type type;
	int fd;		   /* what the caller gave (io), or own_fd */
	int own_fd;	   /* made by the loop (timerfd, signalfd, a dup): closed with the source */
	int poll_fd;	   /* what epoll watches: fd or own_fd */
	uint32_t events;   /* what it waits for; 0: paused */
	bool registered;   /* poll_fd is in epoll */
	bool always_ready; /* epoll refused poll_fd: dispatched every round */
	bool dead;
	bool fired; /* child: its callback ran */
	bool due;   /* always-ready: not yet called in this round */
	union {
		berth_loop_io_fn io;
		berth_loop_timer_fn timer;
		berth_loop_signal_fn signal;
		berth_loop_child_fn child;
	} cb;
	void *data;
	struct berth_pidfd *pidfd; /* child */
	bool reaper;		   /* signal: this is the reaper */
	struct berth_loop_source *prev, *next;
};

struct berth_loop {
	int epfd;
	struct berth_loop_source *live;
	struct berth_loop_source *dead; /* linked through next */
	unsigned dispatching;
	bool quit;
	int quit_code;
};

int berth_loop_new(struct berth_loop **ret, struct berth_error **err)
{
	struct berth_loop *l = calloc(1, sizeof(*l));

	if (!l)
		return berth_error_set(err, ENOMEM, "out of memory");
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0) {
		int e = errno;
		free(l);
		return berth_error_sys(err, e, "epoll_create1");
	}
	*ret = l;
	return 0;
}

static void reap_dead(struct berth_loop *l)
{
	while (l->dead) {
		struct berth_loop_source *s = l->dead;
		l->dead = s->next;
		free(s);
	}
}

static void detach(struct berth_loop_source *s)
{
	struct berth_loop *l = s->loop;

	if (s->registered)
		epoll_ctl(l->epfd, EPOLL_CTL_DEL, s->poll_fd, NULL);
	s->registered = false;
	if (s->own_fd >= 0)
		close(s->own_fd);
	s->own_fd = -EBADF;
	if (s->prev)
		s->prev->next = s->next;
	else
		l->live = s->next;
	if (s->next)
		s->next->prev = s->prev;
	s->prev = s->next = NULL;
	s->dead = true;
}

void berth_loop_source_free(struct berth_loop_source *s)
{
	struct berth_loop *l;

	if (!s || s->dead)
		return;
	l = s->loop;
	detach(s);
	s->next = l->dead;
	l->dead = s;
	if (!l->dispatching)
		reap_dead(l);
}

void berth_loop_free(struct berth_loop *l)
{
	if (!l)
		return;
	while (l->live)
		berth_loop_source_free(l->live);
	reap_dead(l);
	if (l->epfd >= 0)
		close(l->epfd);
	free(l);
}

struct berth_loop *berth_loop_source_loop(const struct berth_loop_source *s)
{
	return s->loop;
}

void berth_loop_quit(struct berth_loop *l, int code)
{
	l->quit = true;
	l->quit_code = code < 0 ? 0 : code;
}

static struct berth_loop_source *source_new(struct berth_loop *l, enum source_type type, void *data)
{
	struct berth_loop_source *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->loop = l;
	s->type = type;
	s->fd = s->own_fd = s->poll_fd = -EBADF;
	s->data = data;
	s->next = l->live;
	if (l->live)
		l->live->prev = s;
	l->live = s;
	return s;
}

/*
 * Put s->poll_fd into epoll with s->events (or take it out when events is 0).  EPERM: a file
 * epoll cannot watch, which is always ready.  EEXIST: the fd is watched by another source of
 * this loop; watch a dup of it instead.
 */
static int arm(struct berth_loop_source *s, struct berth_error **err)
{
	struct berth_loop *l = s->loop;
	struct epoll_event ev = {.events = s->events, .data.ptr = s};

	if (s->always_ready)
		return 0;
	if (s->events == 0) {
		if (s->registered && epoll_ctl(l->epfd, EPOLL_CTL_DEL, s->poll_fd, NULL) < 0 &&
		    errno != EBADF && errno != ENOENT)
			return berth_error_sys(err, errno, "epoll_ctl del fd %d", s->fd);
		s->registered = false;
		return 0;
	}
	if (epoll_ctl(l->epfd, s->registered ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, s->poll_fd, &ev) ==
	    0) {
		s->registered = true;
		return 0;
	}
	if (errno == EPERM && !s->registered) {
		s->always_ready = true;
		return 0;
	}
	if (errno == EEXIST && !s->registered && s->own_fd < 0) {
		s->own_fd = fcntl(s->fd, F_DUPFD_CLOEXEC, 3);
		if (s->own_fd < 0)
			return berth_error_sys(err, errno, "dup fd %d", s->fd);
		s->poll_fd = s->own_fd;
		return arm(s, err);
	}
	return berth_error_sys(err, errno, "epoll_ctl fd %d", s->fd);
}

int berth_loop_add_io(struct berth_loop *l, int fd, uint32_t events, berth_loop_io_fn fn,
		      void *data, struct berth_loop_source **ret, struct berth_error **err)
{
	struct berth_loop_source *s;
	int r;

	if (fd < 0)
		return berth_error_set(err, EBADF, "watch fd %d: not a file descriptor", fd);
	s = source_new(l, SOURCE_IO, data);
	if (!s)
		return berth_error_set(err, ENOMEM, "out of memory");
	s->fd = s->poll_fd = fd;
	s->events = events;
	s->cb.io = fn;
	r = arm(s, err);
	if (r < 0) {
		berth_loop_source_free(s);
		return r;
	}
	if (ret)
		*ret = s;
	return 0;
}

int berth_loop_io_set_events(struct berth_loop_source *s, uint32_t events, struct berth_error **err)
{
	if (s->type != SOURCE_IO)
		return berth_error_set(err, EINVAL, "not an io source");
	if (s->events == events)
		return 0;
	s->events = events;
	return arm(s, err);
}

static void usec_to_timespec(uint64_t usec, struct timespec *ts)
{
	ts->tv_sec = (time_t)(usec / 1000000);
	ts->tv_nsec = (long)(usec % 1000000) * 1000;
}

int berth_loop_timer_set(struct berth_loop_source *s, uint64_t first_usec, uint64_t interval_usec,
			 struct berth_error **err)
{
	struct itimerspec its;

	if (s->type != SOURCE_TIMER)
		return berth_error_set(err, EINVAL, "not a timer source");
	memset(&its, 0, sizeof(its));
	usec_to_timespec(first_usec, &its.it_value);
	if (first_usec)
		usec_to_timespec(interval_usec, &its.it_interval);
	if (timerfd_settime(s->own_fd, 0, &its, NULL) < 0)
		return berth_error_sys(err, errno, "timerfd_settime");
	return 0;
}

int berth_loop_add_timer(struct berth_loop *l, uint64_t first_usec, uint64_t interval_usec,
			 berth_loop_timer_fn fn, void *data, struct berth_loop_source **ret,
			 struct berth_error **err)
{
	struct berth_loop_source *s = source_new(l, SOURCE_TIMER, data);
	int r;

	if (!s)
		return berth_error_set(err, ENOMEM, "out of memory");
	s->cb.timer = fn;
	s->own_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (s->own_fd < 0) {
		r = berth_error_sys(err, errno, "timerfd_create");
		goto fail;
	}
	s->fd = s->poll_fd = s->own_fd;
	s->events = EPOLLIN;
	r = berth_loop_timer_set(s, first_usec, interval_usec, err);
	if (r == 0)
		r = arm(s, err);
	if (r < 0)
		goto fail;
	if (ret)
		*ret = s;
	return 0;
fail:
	berth_loop_source_free(s);
	return r;
}

static int add_signalfd(struct berth_loop *l, const sigset_t *set, void *data,
			struct berth_loop_source **ret, struct berth_error **err)
{
	struct berth_loop_source *s;
	int r;

	if (sigprocmask(SIG_BLOCK, set, NULL) < 0)
		return berth_error_sys(err, errno, "sigprocmask");
	s = source_new(l, SOURCE_SIGNAL, data);
	if (!s)
		return berth_error_set(err, ENOMEM, "out of memory");
	s->own_fd = signalfd(-1, set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (s->own_fd < 0) {
		r = berth_error_sys(err, errno, "signalfd");
		berth_loop_source_free(s);
		return r;
	}
	s->fd = s->poll_fd = s->own_fd;
	s->events = EPOLLIN;
	r = arm(s, err);
	if (r < 0) {
		berth_loop_source_free(s);
		return r;
	}
	*ret = s;
	return 0;
}

int berth_loop_add_signals(struct berth_loop *l, const sigset_t *set, berth_loop_signal_fn fn,
			   void *data, struct berth_loop_source **ret, struct berth_error **err)
{
	struct berth_loop_source *s;
	int r = add_signalfd(l, set, data, &s, err);

	if (r < 0)
		return r;
	s->cb.signal = fn;
	if (ret)
		*ret = s;
	return 0;
}

int berth_loop_add_child(struct berth_loop *l, struct berth_pidfd *p, berth_loop_child_fn fn,
			 void *data, struct berth_loop_source **ret, struct berth_error **err)
{
	struct berth_loop_source *s;
	int r;

	if (!p || p->fd < 0)
		return berth_error_set(err, EBADF, "watch a process: no pidfd");
	s = source_new(l, SOURCE_CHILD, data);
	if (!s)
		return berth_error_set(err, ENOMEM, "out of memory");
	s->fd = s->poll_fd = p->fd;
	s->events = EPOLLIN;
	s->cb.child = fn;
	s->pidfd = p;
	r = arm(s, err);
	if (r < 0) {
		berth_loop_source_free(s);
		return r;
	}
	if (ret)
		*ret = s;
	return 0;
}

/* A child source's one call: pause it (a reaped pidfd stays readable), then the callback. */
static int child_fire(struct berth_loop_source *s, struct berth_error **err)
{
	int r;

	s->fired = true;
	s->events = 0;
	r = arm(s, err);
	if (r < 0)
		return r;
	return s->cb.child(s, s->pidfd, s->data, err);
}

static int reap_all(struct berth_loop *l, struct berth_loop_source *self, struct berth_error **err)
{
	for (;;) {
		siginfo_t si;
		struct berth_exit_status st;
		int r;

		memset(&si, 0, sizeof(si));
		r = waitid(P_ALL, 0, &si, WEXITED | WNOHANG);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 || si.si_pid == 0)
			return 0; /* ECHILD: no children at all */
		berth_exit_status_from_siginfo(&si, &st);
		for (struct berth_loop_source *s = l->live; s; s = s->next) {
			if (s->type != SOURCE_CHILD || s->fired || s->pidfd->pid != si.si_pid ||
			    s->pidfd->exited)
				continue;
			berth_pidfd_set_status(s->pidfd, &st);
			r = child_fire(s, err);
			if (r < 0)
				return r;
			break;
		}
		if (self->dead || l->quit)
			return 0;
	}
}

static int reaper_cb(struct berth_loop_source *s, const struct signalfd_siginfo *si, void *data,
		     struct berth_error **err)
{
	return reap_all(s->loop, s, err);
}

int berth_loop_add_reaper(struct berth_loop *l, struct berth_loop_source **ret,
			  struct berth_error **err)
{
	struct berth_loop_source *s;
	sigset_t set;
	int r;

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	r = add_signalfd(l, &set, NULL, &s, err);
	if (r < 0)
		return r;
	s->cb.signal = reaper_cb;
	s->reaper = true;
	if (ret)
		*ret = s;
	/*
	 * A child that exited before SIGCHLD was blocked left no signal behind: queue one, so the
	 * first round reaps whatever is already waiting.
	 */
	raise(SIGCHLD);
	return 0;
}

static int dispatch_signals(struct berth_loop_source *s, struct berth_error **err)
{
	for (;;) {
		struct signalfd_siginfo si;
		ssize_t n = read(s->own_fd, &si, sizeof(si));
		int r;

		if (n < 0 && errno == EINTR)
			continue;
		if (n != (ssize_t)sizeof(si))
			return 0; /* EAGAIN: all read */
		r = s->cb.signal(s, &si, s->data, err);
		if (r < 0 || s->dead || s->loop->quit)
			return r;
		if (s->reaper)
			return 0; /* one reap pass covers every SIGCHLD queued */
	}
}

static int dispatch(struct berth_loop_source *s, uint32_t revents, struct berth_error **err)
{
	switch (s->type) {
	case SOURCE_IO:
		return s->cb.io(s, s->fd, revents, s->data, err);
	case SOURCE_TIMER: {
		uint64_t n;
		if (read(s->own_fd, &n, sizeof(n)) != (ssize_t)sizeof(n))
			return 0; /* re-armed or disarmed since it became ready */
		return s->cb.timer(s, s->data, err);
	}
	case SOURCE_SIGNAL:
		return dispatch_signals(s, err);
	case SOURCE_CHILD: {
		int r;
		if (s->fired)
			return 0;
		r = berth_pidfd_try_wait(s->pidfd, err);
		if (r <= 0)
			return r;
		return child_fire(s, err);
	}
	}
	return 0;
}

static bool any_always_ready(const struct berth_loop *l)
{
	for (const struct berth_loop_source *s = l->live; s; s = s->next)
		if (s->always_ready && s->events)
			return true;
	return false;
}

int berth_loop_iterate(struct berth_loop *l, int timeout_ms, struct berth_error **err)
{
	struct epoll_event ev[MAX_EVENTS];
	int n, calls = 0, r = 0;

	l->quit = false;
	if (any_always_ready(l))
		timeout_ms = 0;
	n = epoll_wait(l->epfd, ev, MAX_EVENTS, timeout_ms);
	if (n < 0) {
		if (errno == EINTR)
			return 0;
		return berth_error_sys(err, errno, "epoll_wait");
	}
	l->dispatching++;
	for (int i = 0; i < n && !l->quit; i++) {
		struct berth_loop_source *s = ev[i].data.ptr;
		if (s->dead)
			continue;
		calls++;
		r = dispatch(s, ev[i].events, err);
		if (r < 0)
			goto out;
	}
	/*
	 * Always-ready sources, each once.  The list may change under a callback: walk a snapshot
	 * of who was due (marked), restarting from the head after each call.
	 */
	for (struct berth_loop_source *s = l->live; s; s = s->next)
		s->due = s->always_ready && s->events;
	for (bool again = true; again && !l->quit;) {
		again = false;
		for (struct berth_loop_source *s = l->live; s; s = s->next) {
			if (!s->due || !s->events)
				continue;
			s->due = false;
			calls++;
			r = dispatch(s, s->events & (EPOLLIN | EPOLLOUT), err);
			if (r < 0)
				goto out;
			again = true;
			break;
		}
	}
	r = calls;
out:
	l->dispatching--;
	if (!l->dispatching)
		reap_dead(l);
	return r;
}

int berth_loop_run(struct berth_loop *l, struct berth_error **err)
{
	l->quit_code = 0;
	do {
		int r;
		if (!l->live)
			return 0;
		r = berth_loop_iterate(l, -1, err);
		if (r < 0)
			return r;
	} while (!l->quit);
	return l->quit_code;
}
