/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * lib/base/loop: a small event loop for one thread (epoll, level-triggered), and the I/O pieces
 * a foreground runtime and the shim build on it: a one-way copy between fds, terminal size and raw
 * mode, signal forwarding, child exit and reaping.  Part of berth-base-core: no jansson.
 *
 * A loop holds sources.  Each source is one thing to wait for -- an fd becoming readable or
 * writable, a timer, a set of signals (a signalfd), a process exiting (its pidfd) -- and a
 * callback.  berth_loop_run() waits (epoll_wait) and calls the callbacks of what is ready, one at
 * a time, until one of them calls berth_loop_quit() or returns a negative errno.  Nothing in the
 * loop blocks except epoll_wait itself; a callback that blocks stalls everything else.
 *
 * Callbacks return 0 to go on.  A negative errno ends berth_loop_run, which returns it (with the
 * error the callback stored in *err, which is berth_loop_run's own err).
 *
 * Ownership: a source never owns the fd it watches -- free the source (berth_loop_source_free)
 * before closing that fd, or epoll may keep reporting a file another process still holds.  fds
 * the loop makes itself (timerfd, signalfd) are its own.  A source may be freed at any time,
 * including from inside any callback (its own too): the loop defers the free until no callback
 * of the current round can still see it.  berth_loop_free frees the sources still attached,
 * without calling them.
 *
 * fds epoll cannot watch (regular files, /dev/null: epoll_ctl says EPERM) are accepted as
 * "always ready": their callback runs on every round with the events asked for, as poll(2) would
 * report them.  The same fd may be watched by two sources (the pty master read by one copy and
 * written by another): the second watches a dup of it.
 */

#include <signal.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <termios.h>

#include "core.h"

struct berth_loop;
struct berth_loop_source;

typedef int (*berth_loop_io_fn)(struct berth_loop_source *s, int fd, uint32_t revents, void *data,
				struct berth_error **err);
typedef int (*berth_loop_timer_fn)(struct berth_loop_source *s, void *data,
				   struct berth_error **err);
typedef int (*berth_loop_signal_fn)(struct berth_loop_source *s, const struct signalfd_siginfo *si,
				    void *data, struct berth_error **err);
/* p->exited is set; p->has_status says whether p->status holds how it ended (see core.h). */
typedef int (*berth_loop_child_fn)(struct berth_loop_source *s, struct berth_pidfd *p, void *data,
				   struct berth_error **err);

int berth_loop_new(struct berth_loop **ret, struct berth_error **err);
void berth_loop_free(struct berth_loop *l);
static inline void berth_loop_freep(struct berth_loop **l)
{
	berth_loop_free(*l);
	*l = NULL;
}
#define _cleanup_loop_ _cleanup_(berth_loop_freep)

/*
 * Run until a callback calls berth_loop_quit (returns its code, >= 0) or fails (returns its
 * negative errno), or no source is left (returns 0).  Signals interrupting epoll_wait are fine.
 */
int berth_loop_run(struct berth_loop *l, struct berth_error **err);

/*
 * One round: wait at most timeout_ms (-1: no limit, 0: poll) and dispatch what is ready.
 * Returns the number of callbacks made (>= 0), or a callback's negative errno.  For callers
 * that embed the loop in their own; berth_loop_run is this in a loop.
 */
int berth_loop_iterate(struct berth_loop *l, int timeout_ms, struct berth_error **err);

/* Make berth_loop_run return code (>= 0) once the current callback returns. */
void berth_loop_quit(struct berth_loop *l, int code);

/* The loop a source belongs to (to quit it from a callback). */
struct berth_loop *berth_loop_source_loop(const struct berth_loop_source *s);

/* Remove a source and free it (deferred while callbacks run).  Accepts NULL. */
void berth_loop_source_free(struct berth_loop_source *s);
static inline void berth_loop_source_freep(struct berth_loop_source **s)
{
	berth_loop_source_free(*s);
	*s = NULL;
}

/*
 * Watch fd for events (EPOLLIN, EPOLLOUT, ...; EPOLLHUP and EPOLLERR are always reported).  fn
 * gets the events that occurred.
 */
int berth_loop_add_io(struct berth_loop *l, int fd, uint32_t events, berth_loop_io_fn fn,
		      void *data, struct berth_loop_source **ret, struct berth_error **err);

/* Change what an io source waits for; 0 pauses it (it stays attached). */
int berth_loop_io_set_events(struct berth_loop_source *s, uint32_t events,
			     struct berth_error **err);

/*
 * A timer on CLOCK_MONOTONIC (a timerfd): first fires after first_usec, then every interval_usec
 * (0: once).  first_usec 0 makes a disarmed timer.
 */
int berth_loop_add_timer(struct berth_loop *l, uint64_t first_usec, uint64_t interval_usec,
			 berth_loop_timer_fn fn, void *data, struct berth_loop_source **ret,
			 struct berth_error **err);

/* Re-arm (or, with first_usec 0, disarm) a timer source. */
int berth_loop_timer_set(struct berth_loop_source *s, uint64_t first_usec, uint64_t interval_usec,
			 struct berth_error **err);

/*
 * Receive the signals of set through a signalfd.  The set is blocked in the calling thread
 * (sigprocmask): block it yourself before you start the processes whose signals you must not
 * miss, and unblock it in children you fork (lib/runtime's children do).  A signal can only go to
 * one signalfd: do not put one signal in two sources (SIGCHLD belongs to the reaper).
 */
int berth_loop_add_signals(struct berth_loop *l, const sigset_t *set, berth_loop_signal_fn fn,
			   void *data, struct berth_loop_source **ret, struct berth_error **err);

/*
 * Call fn once, when p's process has exited: polls its pidfd, then reaps it (waitid P_PIDFD)
 * when it is our child, so p->status says how it ended.  The source then stays attached but
 * idle; p stays the caller's.
 */
int berth_loop_add_child(struct berth_loop *l, struct berth_pidfd *p, berth_loop_child_fn fn,
			 void *data, struct berth_loop_source **ret, struct berth_error **err);

/*
 * Reap every child that exits (a SIGCHLD signalfd, then waitid(P_ALL, WNOHANG) until none is
 * left), as a subreaper must for the orphans it inherits.  A child watched by berth_loop_add_child
 * gets its status through its own callback.  Rule: register a child you care about with
 * berth_loop_add_child before your callback returns to the loop, or the reaper may take its
 * status first.
 */
int berth_loop_add_reaper(struct berth_loop *l, struct berth_loop_source **ret,
			  struct berth_error **err);

/* ---- I/O pieces over the loop ------------------------------------------------------------- */

/*
 * A one-way copy: whatever becomes readable on in_fd is written to out_fd.  Blocking or
 * non-blocking fds both work: with a non-blocking out_fd that fills up, reading pauses until it
 * drains (no unbounded buffering).  done is called once, when the copy ends: error 0 at end of
 * input (read returns 0, or EIO: a pty master whose other side is gone), else the negative errno
 * of the failed read or write (-EPIPE: nobody reads out_fd any more; SIGPIPE must be blocked or
 * ignored for that).  The copy never closes in_fd or out_fd; done may do so, and may free the
 * copy.
 */
struct berth_copy;
typedef int (*berth_copy_done_fn)(struct berth_copy *c, int error, void *data,
				  struct berth_error **err);

int berth_copy_new(struct berth_loop *l, int in_fd, int out_fd, berth_copy_done_fn done, void *data,
		   struct berth_copy **ret, struct berth_error **err);
/* Bytes moved so far. */
uint64_t berth_copy_bytes(const struct berth_copy *c);
/* Has it ended (done was called)? */
bool berth_copy_finished(const struct berth_copy *c);
void berth_copy_free(struct berth_copy *c);

/*
 * Forward each signal of set that we receive to p's process (pidfd_send_signal).  Blocks set,
 * as berth_loop_add_signals does.  Signals that arrive after the process is gone are dropped.
 */
int berth_loop_add_signal_forward(struct berth_loop *l, const sigset_t *set, struct berth_pidfd *p,
				  struct berth_loop_source **ret, struct berth_error **err);

/* The window size of a terminal (or pty master): ENOTTY when fd is none. */
int berth_pty_get_size(int fd, unsigned *ret_rows, unsigned *ret_cols, struct berth_error **err);

/* Set the window size of a pty (its master or slave): the process on it gets SIGWINCH. */
int berth_pty_set_size(int fd, unsigned rows, unsigned cols, struct berth_error **err);

/* Give pty `to` the window size of terminal `from`; nothing when from is not a terminal. */
void berth_pty_copy_size(int from, int to);

/* A terminal's settings, saved to be restored. */
struct berth_tty_state {
	int fd;
	bool saved; /* fd is a terminal and termios holds its settings from before */
	struct termios termios;
};

/*
 * Put terminal fd into raw mode for a pty copy (input: no echo, no line editing, no signal keys;
 * output processing kept, as the same terminal shows the container's output), saving its
 * settings in *ret.  A fd that is not a terminal is left alone (ret->saved false, returns 0).
 */
int berth_tty_set_raw(int fd, struct berth_tty_state *ret, struct berth_error **err);

/* Restore what berth_tty_set_raw saved (nothing when it saved nothing). */
void berth_tty_restore(struct berth_tty_state *st);
