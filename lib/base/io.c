/* SPDX-License-Identifier: Apache-2.0 */
/* The I/O pieces over the loop: fd-to-fd copy, signal forwarding, terminal size and raw mode. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "loop.h"
#include "banned.h"

#define COPY_BUF 16384

struct berth_copy {
	struct berth_loop *loop;
	int in_fd, out_fd;
	struct berth_loop_source *in, *out; /* out: only while a write waits for room */
	berth_copy_done_fn done;
	void *data;
	bool finished;
	uint64_t bytes;
	size_t off, len; /* buf[off..len) still to write */
	char buf[COPY_BUF];
};

/* Stop both sources and tell the owner; the copy may be freed by done, so touch nothing after. */
static int finish(struct berth_copy *c, int error, struct berth_error **err)
{
	c->finished = true;
	berth_loop_source_freep(&c->in);
	berth_loop_source_freep(&c->out);
	if (!c->done)
		return 0;
	return c->done(c, error, c->data, err);
}

static int on_out(struct berth_loop_source *s, int fd, uint32_t revents, void *data,
		  struct berth_error **err);

/*
 * Write what the buffer holds.  Returns 1 when it is empty, 0 when out_fd is full (we now wait
 * for it to drain, with reading paused), or a negative errno, which ends the copy.
 */
static int flush(struct berth_copy *c)
{
	int r;

	while (c->off < c->len) {
		ssize_t n = write(c->out_fd, c->buf + c->off, c->len - c->off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			if (!c->out) {
				r = berth_loop_add_io(c->loop, c->out_fd, EPOLLOUT, on_out, c,
						      &c->out, NULL);
				if (r < 0)
					return r;
			}
			r = berth_loop_io_set_events(c->in, 0, NULL);
			return r < 0 ? r : 0;
		}
		if (n < 0)
			return -errno;
		c->off += (size_t)n;
		c->bytes += (uint64_t)n;
	}
	c->off = c->len = 0;
	if (c->out) {
		berth_loop_source_freep(&c->out);
		r = berth_loop_io_set_events(c->in, EPOLLIN, NULL);
		if (r < 0)
			return r;
	}
	return 1;
}

static int on_out(struct berth_loop_source *s, int fd, uint32_t revents, void *data,
		  struct berth_error **err)
{
	struct berth_copy *c = data;
	int r = flush(c);

	return r < 0 ? finish(c, r, err) : 0;
}

static int on_in(struct berth_loop_source *s, int fd, uint32_t revents, void *data,
		 struct berth_error **err)
{
	struct berth_copy *c = data;
	ssize_t n;
	int r;

	if (c->len > 0)
		return 0; /* still writing the last read (paused; an always-ready fd comes anyway) */
	n = read(c->in_fd, c->buf, sizeof(c->buf));
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return 0;
	if (n == 0 || (n < 0 && errno == EIO))
		return finish(c, 0, err); /* EIO: the pty's other side closed */
	if (n < 0)
		return finish(c, -errno, err);
	c->off = 0;
	c->len = (size_t)n;
	r = flush(c);
	return r < 0 ? finish(c, r, err) : 0;
}

int berth_copy_new(struct berth_loop *l, int in_fd, int out_fd, berth_copy_done_fn done, void *data,
		   struct berth_copy **ret, struct berth_error **err)
{
	struct berth_copy *c;
	int r;

	if (in_fd < 0 || out_fd < 0)
		return berth_error_set(err, EBADF, "copy fd %d to fd %d: not a file descriptor",
				       in_fd, out_fd);
	c = malloc(sizeof(*c));
	if (!c)
		return berth_error_set(err, ENOMEM, "out of memory");
	memset(c, 0, offsetof(struct berth_copy, buf));
	c->loop = l;
	c->in_fd = in_fd;
	c->out_fd = out_fd;
	c->done = done;
	c->data = data;
	r = berth_loop_add_io(l, in_fd, EPOLLIN, on_in, c, &c->in, err);
	if (r < 0) {
		free(c);
		return r;
	}
	*ret = c;
	return 0;
}

uint64_t berth_copy_bytes(const struct berth_copy *c)
{
	return c->bytes;
}

bool berth_copy_finished(const struct berth_copy *c)
{
	return c->finished;
}

void berth_copy_free(struct berth_copy *c)
{
	if (!c)
		return;
	berth_loop_source_free(c->in);
	berth_loop_source_free(c->out);
	free(c);
}

/* ---- signal forwarding -------------------------------------------------------------------- */

static int forward(struct berth_loop_source *s, const struct signalfd_siginfo *si, void *data,
		   struct berth_error **err)
{
	struct berth_pidfd *p = data;

	/* gone already: nobody to tell, and not a reason to stop the loop */
	if (!p->exited)
		berth_pidfd_signal(p, (int)si->ssi_signo, NULL);
	return 0;
}

int berth_loop_add_signal_forward(struct berth_loop *l, const sigset_t *set, struct berth_pidfd *p,
				  struct berth_loop_source **ret, struct berth_error **err)
{
	return berth_loop_add_signals(l, set, forward, p, ret, err);
}

/* ---- terminals ---------------------------------------------------------------------------- */

int berth_pty_get_size(int fd, unsigned *ret_rows, unsigned *ret_cols, struct berth_error **err)
{
	struct winsize ws;

	if (ioctl(fd, TIOCGWINSZ, &ws) < 0)
		return berth_error_sys(err, errno, "get the window size of fd %d", fd);
	*ret_rows = ws.ws_row;
	*ret_cols = ws.ws_col;
	return 0;
}

int berth_pty_set_size(int fd, unsigned rows, unsigned cols, struct berth_error **err)
{
	struct winsize ws = {.ws_row = (unsigned short)rows, .ws_col = (unsigned short)cols};

	if (rows > 0xffff || cols > 0xffff)
		return berth_error_set(err, EINVAL, "window size %ux%u: too large", rows, cols);
	if (ioctl(fd, TIOCSWINSZ, &ws) < 0)
		return berth_error_sys(err, errno, "set the window size of fd %d", fd);
	return 0;
}

void berth_pty_copy_size(int from, int to)
{
	struct winsize ws;

	if (ioctl(from, TIOCGWINSZ, &ws) == 0)
		ioctl(to, TIOCSWINSZ, &ws);
}

int berth_tty_set_raw(int fd, struct berth_tty_state *ret, struct berth_error **err)
{
	struct termios t;

	memset(ret, 0, sizeof(*ret));
	ret->fd = fd;
	if (!isatty(fd) || tcgetattr(fd, &ret->termios) < 0)
		return 0;
	t = ret->termios;
	cfmakeraw(&t);
	t.c_oflag = ret->termios.c_oflag; /* keep output processing: our output goes there too */
	if (tcsetattr(fd, TCSANOW, &t) < 0)
		return berth_error_sys(err, errno, "make the terminal raw");
	ret->saved = true;
	return 0;
}

void berth_tty_restore(struct berth_tty_state *st)
{
	if (!st->saved)
		return;
	tcsetattr(st->fd, TCSANOW, &st->termios);
	st->saved = false;
}
