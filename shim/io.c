/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The stdio of one process (the init, or an exec'd one): its outputs are read as they come and
 * go to the log (the init's) and to every attach client that asked for that stream -- Docker's
 * multiplexed frames without a tty, raw bytes with one; what clients send goes to its stdin.
 * Nothing blocks: a client that does not read gets its output buffered up to
 * SHIM_CLIENT_BUF_MAX, and past that the process's output is not read until it drains (as a
 * full pipe would stop a writer); input the process does not take waits the same way.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "shim.h"
#include "base/banned.h"

#define IN_BUF_MAX (64 * 1024)

static void client_free(struct client *c);
static void update_outputs(struct pio *p);

static uint32_t client_events(const struct client *c)
{
	uint32_t ev = 0;

	if (!c->in_eof && !(c->want_in && c->p->in_len >= IN_BUF_MAX))
		ev |= EPOLLIN;
	if (c->out_len > c->out_off)
		ev |= EPOLLOUT;
	return ev;
}

static void client_update(struct client *c)
{
	if (c->src)
		berth_loop_io_set_events(c->src, client_events(c), NULL);
}

static void clients_update(struct pio *p)
{
	for (struct client *c = p->clients; c; c = c->next)
		client_update(c);
}

/* Try to send what the client has waiting; -errno when it is gone. */
static int client_flush(struct client *c)
{
	while (c->out_off < c->out_len) {
		ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n <= 0)
			return n < 0 ? -errno : -EPIPE;
		c->out_off += (size_t)n;
	}
	if (c->out_off == c->out_len)
		c->out_off = c->out_len = 0;
	else if (c->out_off > c->out_cap / 2) {
		memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
		c->out_len -= c->out_off;
		c->out_off = 0;
	}
	return 0;
}

static int client_queue(struct client *c, const void *data, size_t n)
{
	if (c->out_len + n > c->out_cap) {
		size_t cap = c->out_cap ? c->out_cap : 4096;
		while (cap < c->out_len + n)
			cap *= 2;
		char *b = realloc(c->out, cap);
		if (!b)
			return -ENOMEM;
		c->out = b;
		c->out_cap = cap;
	}
	memcpy(c->out + c->out_len, data, n);
	c->out_len += n;
	return 0;
}

static void client_send(struct client *c, int stream, const char *data, size_t n)
{
	if (!c->p->tty) {
		uint8_t hdr[8] = {
			(uint8_t)stream,   0,	      0, 0, (uint8_t)(n >> 24), (uint8_t)(n >> 16),
			(uint8_t)(n >> 8), (uint8_t)n};
		if (client_queue(c, hdr, sizeof(hdr)) < 0)
			return;
	}
	if (client_queue(c, data, n) < 0)
		return;
	if (client_flush(c) < 0) {
		/* gone: dropped at its next event (EPOLLHUP/EPOLLERR) */
		c->out_off = c->out_len = 0;
		c->in_eof = true;
	}
	client_update(c);
}

/* ---- stdin ------------------------------------------------------------------------------ */

static int stdin_drain(struct pio *p)
{
	while (p->in_len > 0 && p->in_fd >= 0) {
		ssize_t n = write(p->in_fd, p->inbuf, p->in_len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n <= 0) {
			/* nobody reads stdin any more: what waits is dropped */
			p->in_len = 0;
			close(p->in_fd);
			p->in_fd = -EBADF;
			break;
		}
		memmove(p->inbuf, p->inbuf + n, p->in_len - (size_t)n);
		p->in_len -= (size_t)n;
	}
	if (p->in_len == 0 && p->close_in_when_flushed && p->in_fd >= 0) {
		close(p->in_fd);
		p->in_fd = -EBADF;
	}
	if (p->in_src && (p->in_len == 0 || p->in_fd < 0))
		berth_loop_source_freep(&p->in_src);
	return 0;
}

static int on_stdin_writable(struct berth_loop_source *src, int fd, uint32_t revents, void *data,
			     struct berth_error **err)
{
	struct pio *p = data;

	stdin_drain(p);
	clients_update(p);
	return 0;
}

static void stdin_push(struct pio *p, const char *data, size_t n)
{
	if (p->in_fd < 0 || p->close_in_when_flushed || n == 0)
		return;
	if (!p->inbuf) {
		p->inbuf = malloc(IN_BUF_MAX);
		if (!p->inbuf)
			return;
	}
	if (n > IN_BUF_MAX - p->in_len)
		n = IN_BUF_MAX - p->in_len; /* callers stop reading before this happens */
	memcpy(p->inbuf + p->in_len, data, n);
	p->in_len += n;
	stdin_drain(p);
	if (p->in_len > 0 && p->in_fd >= 0 && !p->in_src)
		berth_loop_add_io(p->s->loop, p->in_fd, EPOLLOUT, on_stdin_writable, p, &p->in_src,
				  NULL);
}

void pio_close_stdin(struct pio *p)
{
	p->close_in_when_flushed = true;
	stdin_drain(p);
}

/* ---- clients ---------------------------------------------------------------------------- */

/* Input from a tty client passes through the detach-key matcher (docker: tty only). */
static bool client_input(struct client *c, const char *data, size_t n)
{
	struct pio *p = c->p;

	if (!c->want_in)
		return false;
	if (!p->tty || c->n_keys == 0) {
		stdin_push(p, data, n);
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		if ((unsigned char)data[i] == (unsigned char)c->keys[c->matched]) {
			c->matched++;
			if (c->matched == c->n_keys)
				return true; /* detach */
			continue;
		}
		if (c->matched) {
			stdin_push(p, c->keys, c->matched);
			c->matched = 0;
			if ((unsigned char)data[i] == (unsigned char)c->keys[0]) {
				c->matched = 1;
				continue;
			}
		}
		stdin_push(p, data + i, 1);
	}
	return false;
}

static void client_input_eof(struct client *c)
{
	c->in_eof = true;
	/* docker's CloseStdin: not with a terminal, whose stdin outlives a client (detach, attach) */
	if (c->want_in && c->p->stdin_once && !c->p->tty)
		pio_close_stdin(c->p);
}

static int on_client(struct berth_loop_source *src, int fd, uint32_t revents, void *data,
		     struct berth_error **err)
{
	struct client *c = data;
	struct pio *p = c->p;

	if (revents & EPOLLIN) {
		char buf[16384];
		ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return 0;
		if (n <= 0) {
			client_input_eof(c);
			if (n < 0) {
				client_free(c);
				update_outputs(p);
				return 0;
			}
		} else if (client_input(c, buf, (size_t)n)) {
			shim_logf(p->s, "debug", "attach client detached by its keys");
			if (p->on_detach)
				p->on_detach(p);
			client_free(c);
			update_outputs(p);
			return 0;
		}
	}
	if (revents & EPOLLOUT) {
		if (client_flush(c) < 0) {
			client_free(c);
			update_outputs(p);
			return 0;
		}
	}
	if (revents & (EPOLLHUP | EPOLLERR)) {
		/* the peer closed both ways (or reset): nothing more can be sent */
		if (!c->in_eof)
			client_input_eof(c);
		client_free(c);
		update_outputs(p);
		return 0;
	}
	client_update(c);
	update_outputs(p);
	return 0;
}

static void client_free(struct client *c)
{
	struct pio *p = c->p;

	for (struct client **pp = &p->clients; *pp; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	if (c->want_in && !c->in_eof && p->stdin_once && !p->tty)
		pio_close_stdin(p);
	berth_loop_source_freep(&c->src);
	if (c->fd >= 0)
		close(c->fd);
	free(c->out);
	free(c);
}

int pio_attach(struct pio *p, int fd, bool in, bool out, bool err_, const char *detach_keys,
	       const char *pending, size_t pending_len, struct berth_error **err)
{
	struct client *c = calloc(1, sizeof(*c));
	int r;

	if (!c) {
		close(fd);
		return berth_error_set(err, ENOMEM, "out of memory");
	}
	c->p = p;
	c->fd = fd;
	c->want_in = in && (p->in_fd >= 0 || p->in_len > 0);
	c->want_out = out;
	c->want_err = err_;
	if (detach_keys) {
		size_t n = strlen(detach_keys);
		if (n > sizeof(c->keys))
			n = sizeof(c->keys);
		memcpy(c->keys, detach_keys, n);
		c->n_keys = n;
	}
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	c->next = p->clients;
	p->clients = c;
	r = berth_loop_add_io(p->s->loop, fd, EPOLLIN, on_client, c, &c->src, err);
	if (r < 0) {
		client_free(c);
		return r;
	}
	if (pending_len && client_input(c, pending, pending_len)) {
		client_free(c);
		return 0;
	}
	/* a process whose outputs have ended has nothing more for it */
	if (pio_outputs_done(p) && !c->want_in) {
		client_free(c);
		return 0;
	}
	return 0;
}

void pio_close_clients(struct pio *p)
{
	while (p->clients) {
		struct client *c = p->clients;
		if (c->out_len > c->out_off) {
			/* the last output goes out even to a slow reader, for a bounded time */
			struct timeval tv = {2, 0};
			fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) & ~O_NONBLOCK);
			setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
			berth_write_all(c->fd, c->out + c->out_off, c->out_len - c->out_off);
			c->out_off = c->out_len = 0;
		}
		c->in_eof = true; /* the process is gone: no stdin to close */
		c->want_in = false;
		client_free(c);
	}
}

/* ---- outputs ---------------------------------------------------------------------------- */

static size_t client_backlog(const struct pio *p)
{
	size_t most = 0;

	for (const struct client *c = p->clients; c; c = c->next)
		if (c->out_len - c->out_off > most)
			most = c->out_len - c->out_off;
	return most;
}

static void update_outputs(struct pio *p)
{
	bool pause = client_backlog(p) >= SHIM_CLIENT_BUF_MAX;

	if (pause == p->paused)
		return;
	p->paused = pause;
	for (int i = 0; i < 2; i++)
		if (p->out_src[i])
			berth_loop_io_set_events(p->out_src[i], pause ? 0 : EPOLLIN, NULL);
}

bool pio_outputs_done(const struct pio *p)
{
	return p->out_fd[0] < 0 && p->out_fd[1] < 0;
}

static void output_end(struct pio *p, int i)
{
	berth_loop_source_freep(&p->out_src[i]);
	if (p->out_fd[i] >= 0)
		close(p->out_fd[i]);
	p->out_fd[i] = -EBADF;
	if (pio_outputs_done(p) && p->on_eof)
		p->on_eof(p);
}

static int on_output(struct berth_loop_source *src, int fd, uint32_t revents, void *data,
		     struct berth_error **err)
{
	struct pio *p = data;
	int i = fd == p->out_fd[0] ? 0 : 1;
	int stream = p->tty ? 1 : i + 1;
	char buf[32768];
	ssize_t n;

	n = read(fd, buf, sizeof(buf));
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n <= 0) {
		/* EOF; EIO from a pty master whose other side is closed */
		output_end(p, i);
		return 0;
	}
	if (p->log)
		shim_log_write(p->log, stream, buf, (size_t)n);
	for (struct client *c = p->clients; c; c = c->next)
		if (stream == 1 ? c->want_out : c->want_err)
			client_send(c, stream, buf, (size_t)n);
	update_outputs(p);
	return 0;
}

int pio_start(struct pio *p, struct berth_error **err)
{
	for (int i = 0; i < 2; i++) {
		if (p->out_fd[i] < 0)
			continue;
		fcntl(p->out_fd[i], F_SETFL, fcntl(p->out_fd[i], F_GETFL) | O_NONBLOCK);
		int r = berth_loop_add_io(p->s->loop, p->out_fd[i], EPOLLIN, on_output, p,
					  &p->out_src[i], err);
		if (r < 0)
			return r;
	}
	if (p->in_fd >= 0)
		fcntl(p->in_fd, F_SETFL, fcntl(p->in_fd, F_GETFL) | O_NONBLOCK);
	return 0;
}

void pio_close_outputs(struct pio *p)
{
	for (int i = 0; i < 2; i++) {
		/* what is readable now still goes out */
		while (p->out_fd[i] >= 0 && p->out_src[i]) {
			char buf[32768];
			ssize_t n = read(p->out_fd[i], buf, sizeof(buf));
			if (n <= 0)
				break;
			int stream = p->tty ? 1 : i + 1;
			if (p->log)
				shim_log_write(p->log, stream, buf, (size_t)n);
			for (struct client *c = p->clients; c; c = c->next)
				if (stream == 1 ? c->want_out : c->want_err)
					client_send(c, stream, buf, (size_t)n);
		}
		berth_loop_source_freep(&p->out_src[i]);
		if (p->out_fd[i] >= 0)
			close(p->out_fd[i]);
		p->out_fd[i] = -EBADF;
	}
}

void pio_release(struct pio *p)
{
	pio_close_clients(p);
	pio_close_outputs(p);
	berth_loop_source_freep(&p->in_src);
	if (p->in_fd >= 0)
		close(p->in_fd);
	p->in_fd = -EBADF;
	free(p->inbuf);
	p->inbuf = NULL;
}
