/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The foreground of run and exec, put together from lib/base's pieces (loop.h): one event loop
 * with the process's pidfd, signal forwarding, a reaper when we are a subreaper, and -- with a
 * terminal -- our terminal in raw mode, copies both ways between it and the pty master, and
 * window size changes passed on.  The shim composes the same pieces differently.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include "cli.h"
#include "base/banned.h"

/* After the process exits, what the pty still holds is drained until it is quiet this long. */
#define DRAIN_QUIET_USEC (100 * 1000)

struct foreground {
	struct cli *cli;
	struct berth_loop *loop;
	struct berth_pidfd *p;
	int master;
	struct berth_copy *in, *out; /* stdin -> master, master -> stdout */
	struct berth_loop_source *drain;
	uint64_t drained; /* bytes copied out when the drain timer last looked */
};

static int on_input_done(struct berth_copy *c, int error, void *data, struct berth_error **err)
{
	struct foreground *fg = data;

	/* our stdin ended (or failed): stop reading it; the container's terminal stays */
	berth_copy_free(fg->in);
	fg->in = NULL;
	return 0;
}

static int on_output_done(struct berth_copy *c, int error, void *data, struct berth_error **err)
{
	struct foreground *fg = data;

	/* the pty's other side is gone: once the process has exited too, we are done */
	if (fg->p->exited)
		berth_loop_quit(fg->loop, 0);
	return 0;
}

static int on_drain_tick(struct berth_loop_source *s, void *data, struct berth_error **err)
{
	struct foreground *fg = data;
	uint64_t now = berth_copy_bytes(fg->out);

	/* quiet for a whole tick (a process the container left behind may hold the pty open) */
	if (now == fg->drained)
		berth_loop_quit(berth_loop_source_loop(s), 0);
	fg->drained = now;
	return 0;
}

static int on_exit_(struct berth_loop_source *s, struct berth_pidfd *p, void *data,
		    struct berth_error **err)
{
	struct foreground *fg = data;
	struct berth_loop *l = berth_loop_source_loop(s);

	if (p->has_status)
		cli_log(fg->cli, "debug", "process %d exited: %d", (int)p->pid,
			berth_exit_status_code(&p->status));
	/* no more input for a process that is gone */
	berth_copy_free(fg->in);
	fg->in = NULL;
	if (!fg->out || berth_copy_finished(fg->out)) {
		berth_loop_quit(l, 0);
		return 0;
	}
	fg->drained = berth_copy_bytes(fg->out);
	return berth_loop_add_timer(l, DRAIN_QUIET_USEC, DRAIN_QUIET_USEC, on_drain_tick, fg,
				    &fg->drain, err);
}

static int on_winch(struct berth_loop_source *s, const struct signalfd_siginfo *si, void *data,
		    struct berth_error **err)
{
	struct foreground *fg = data;

	berth_pty_copy_size(0, fg->master);
	return 0;
}

void cli_block_forwarded_signals(sigset_t *ret)
{
	berth_signal_forwardable(ret);
	sigaddset(ret, SIGCHLD);
	sigaddset(ret, SIGWINCH);
	sigprocmask(SIG_BLOCK, ret, NULL);
}

static int setup(struct foreground *fg, struct berth_loop *l, bool reap_all,
		 struct berth_error **err)
{
	sigset_t fwd, winch;
	int r;

	berth_signal_forwardable(&fwd);
	r = berth_loop_add_signal_forward(l, &fwd, fg->p, NULL, err);
	if (r < 0)
		return r;
	if (reap_all) {
		r = berth_loop_add_reaper(l, NULL, err);
		if (r < 0)
			return r;
	}
	r = berth_loop_add_child(l, fg->p, on_exit_, fg, NULL, err);
	if (r < 0)
		return r;
	if (fg->master < 0)
		return 0;
	sigemptyset(&winch);
	sigaddset(&winch, SIGWINCH);
	r = berth_loop_add_signals(l, &winch, on_winch, fg, NULL, err);
	if (r < 0)
		return r;
	r = berth_copy_new(l, fg->master, 1, on_output_done, fg, &fg->out, err);
	if (r < 0)
		return r;
	/* no stdin at all (closed): the container's terminal just gets no input */
	_cleanup_error_ struct berth_error *in_err = NULL;
	if (berth_copy_new(l, 0, fg->master, on_input_done, fg, &fg->in, &in_err) < 0)
		cli_log(fg->cli, "debug", "no input for the terminal: %s", in_err->msg);
	return 0;
}

int cli_foreground(struct cli *cli, struct berth_pidfd *p, int pty_master, bool reap_all)
{
	_cleanup_error_ struct berth_error *err = NULL;
	struct foreground fg = {.cli = cli, .p = p, .master = pty_master};
	struct berth_tty_state tty = {.saved = false};
	struct berth_loop *l = NULL;
	int r;

	r = berth_loop_new(&l, &err);
	fg.loop = l;
	if (r == 0 && pty_master >= 0) {
		/*
		 * The master is ours alone: non-blocking, so that input the container does not
		 * read yet waits in the copy instead of stalling its output (and our signals).
		 * Our own stdin and stdout stay as they are: other processes share them.
		 */
		fcntl(pty_master, F_SETFL, fcntl(pty_master, F_GETFL) | O_NONBLOCK);
		r = berth_tty_set_raw(0, &tty, &err);
		berth_pty_copy_size(0, pty_master);
	}
	if (r == 0)
		r = setup(&fg, l, reap_all, &err);
	if (r == 0)
		r = berth_loop_run(l, &err);
	berth_tty_restore(&tty);
	berth_copy_free(fg.in);
	berth_copy_free(fg.out);
	berth_loop_free(l);
	if (pty_master >= 0)
		close(pty_master);
	if (r < 0) {
		/* the loop failed: the process may still run; it is the container's to stop */
		cli_fail(cli, err);
		return 1;
	}
	if (!p->has_status) {
		cli_warn(cli,
			 "process %d exited, but its exit status is not ours to read (it is not "
			 "our child: run without --no-subreaper)",
			 (int)p->pid);
		return 255;
	}
	return berth_exit_status_code(&p->status);
}
