/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Attached sessions, shared by run, start -a, attach and exec: docker's hijackedIOStreamer.  The
 * request is hijacked (Upgrade: tcp); with a tty and stdin a terminal, the terminal goes raw
 * (output processing kept, as docker's) and comes back at the end whatever happens; the size is
 * sent at once and again on every SIGWINCH (to /containers/ID/resize or /exec/ID/resize); other
 * signals go to the container when it has no terminal (--sig-proxy).  Input passes docker's
 * escape proxy: the detach keys (ctrl-p ctrl-q by default) are held back while they match and
 * end the session once complete; a partial match that breaks is sent on.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "base/banned.h"

static int sig_pipe[2] = {-1, -1};

static void on_signal(int sig)
{
	int saved = errno;
	unsigned char b = (unsigned char)sig;
	if (write(sig_pipe[1], &b, 1) < 0) {
		/* the pipe is full: the signal is dropped, as a busy terminal drops one */
	}
	errno = saved;
}

static void send_size(struct cli *c, const char *base, unsigned h, unsigned w)
{
	_cleanup_sbuf_ struct sbuf t = SBUF_INIT;
	struct cli_response r;

	sbuf_printf(&t, "%s/resize?h=%u&w=%u", base, h, w);
	if (cli_call(c, "POST", sbuf_str(&t), NULL, &r) == 0)
		cli_response_release(&r);
}

static void resize(struct cli *c, const char *base, int extra)
{
	struct winsize ws;

	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) < 0 || !ws.ws_row)
		return;
	send_size(c, base, ws.ws_row + (unsigned)extra, ws.ws_col + (unsigned)extra);
}

static void forward_signal(struct cli *c, const char *id, int sig)
{
	_cleanup_sbuf_ struct sbuf t = SBUF_INIT;
	struct cli_response r;

	sbuf_printf(&t, "/containers/%s/kill?signal=%d", id, sig);
	if (cli_call(c, "POST", sbuf_str(&t), NULL, &r) == 0)
		cli_response_release(&r);
}

/* docker's stdcopy: frames from buf (have bytes) written out; returns bytes consumed */
static size_t demux(const uint8_t *buf, size_t have)
{
	size_t used = 0;

	while (have - used >= 8) {
		uint32_t len = (uint32_t)buf[used + 4] << 24 | (uint32_t)buf[used + 5] << 16 |
			       (uint32_t)buf[used + 6] << 8 | buf[used + 7];
		if (have - used - 8 < len)
			break;
		int fd = buf[used] == 2 ? STDERR_FILENO : STDOUT_FILENO;
		if (berth_write_all(fd, buf + used + 8, len) < 0) {
			/* a closed stdout: the rest is dropped, as docker's copy stops */
		}
		used += 8 + (size_t)len;
	}
	return used;
}

int detach_keys_parse(const char *s, unsigned char *out, size_t cap, size_t *ret_n)
{
	size_t n = 0;

	if (!s)
		return -1;
	for (;;) {
		const char *end = strchr(s, ',');
		size_t len = end ? (size_t)(end - s) : strlen(s);
		if (n == cap)
			return -1;
		if (len == 1) {
			out[n++] = (unsigned char)s[0];
		} else if (len == 6 && strncmp(s, "ctrl-", 5) == 0) {
			char k = s[5];
			if (k >= 'a' && k <= 'z')
				out[n++] = (unsigned char)(k - 'a' + 1);
			else if (k == '@')
				out[n++] = 0;
			else if (k >= '[' && k <= '_')
				out[n++] = (unsigned char)(k - '[' + 27);
			else
				return -1;
		} else {
			return -1; /* docker: "Unknown character" (also an empty key: "a,") */
		}
		if (!end)
			break;
		s = end + 1;
	}
	*ret_n = n;
	return 0;
}

int stream_session(struct cli *c, const struct stream_opts *o,
		   int (*then)(struct cli *c, void *data), void *data)
{
	struct berth_http_client *h = NULL;
	_cleanup_free_ char *pending = NULL;
	size_t plen = 0;
	int fd = -1, rc = 0;
	struct berth_error *e = NULL;
	struct termios saved_tio;
	bool raw = false;
	static const int proxied[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};
	struct sigaction sa = {.sa_handler = on_signal}, old[ARRAY_SIZE(proxied)], old_winch;
	unsigned char keys[16] = {0x10, 0x11};
	size_t n_keys = 2;

	if (o->detach_keys && *o->detach_keys &&
	    detach_keys_parse(o->detach_keys, keys, sizeof(keys), &n_keys) < 0) {
		/* docker: "invalid detach escape keys, using default" */
		keys[0] = 0x10;
		keys[1] = 0x11;
		n_keys = 2;
	}
	if (cli_call_on(c, &h, o->method, o->target, o->body, true) < 0) {
		berth_http_client_free(h);
		return cli_fail(c, 1);
	}
	if (berth_http_client_hijack(h, &fd, &pending, &plen, &e) < 0) {
		err_printf("%s\n", e && e->msg ? e->msg : "attach failed");
		berth_error_free(e);
		berth_http_client_free(h);
		return 1;
	}
	berth_http_client_free(h);

	if (pipe2(sig_pipe, O_CLOEXEC | O_NONBLOCK) < 0) {
		close(fd);
		err_printf("%s: pipe: %s\n", CLI_NAME, strerror(errno));
		return 1;
	}
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	bool proxy = !o->tty && o->signal_to;
	if (proxy)
		for (size_t i = 0; i < ARRAY_SIZE(proxied); i++)
			sigaction(proxied[i], &sa, &old[i]);
	if (o->tty) {
		sigaction(SIGWINCH, &sa, &old_winch);
		if (o->in && is_terminal(STDIN_FILENO) &&
		    tcgetattr(STDIN_FILENO, &saved_tio) == 0) {
			struct termios tio = saved_tio;
			cfmakeraw(&tio);
			tio.c_oflag = saved_tio.c_oflag; /* docker keeps output processing */
			if (tcsetattr(STDIN_FILENO, TCSANOW, &tio) == 0)
				raw = true;
		}
	}

	out_flush();
	if (then && then(c, data) != 0) {
		rc = -1;
		goto out;
	}
	if (o->tty && o->resize) {
		if (o->nudge)
			resize(c, o->resize, 1);
		resize(c, o->resize, 0);
	}

	/* the output: pending bytes first */
	uint8_t *buf = xmalloc(1 << 16);
	size_t have = 0, cap = 1 << 16;
	if (plen) {
		if (o->tty) {
			berth_write_all(STDOUT_FILENO, pending, plen);
		} else {
			if (plen > cap) {
				cap = plen;
				buf = xrealloc(buf, cap);
			}
			memcpy(buf, pending, plen);
			have = plen;
			size_t used = demux(buf, have);
			memmove(buf, buf + used, have - used);
			have -= used;
		}
	}
	bool in_open = o->in;
	size_t matched = 0; /* detach keys held back so far */
	for (;;) {
		struct pollfd p[3] = {
			{fd, POLLIN, 0},
			{sig_pipe[0], POLLIN, 0},
			{in_open ? STDIN_FILENO : -1, POLLIN, 0},
		};
		if (poll(p, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[1].revents & POLLIN) {
			unsigned char s;
			while (read(sig_pipe[0], &s, 1) == 1) {
				if (s == SIGWINCH) {
					if (o->resize)
						resize(c, o->resize, 0);
				} else if (o->signal_to) {
					forward_signal(c, o->signal_to, s);
				}
			}
		}
		if (p[2].revents & (POLLIN | POLLHUP | POLLERR)) {
			unsigned char ib[4096], ob[4096 + 16];
			ssize_t n = read(STDIN_FILENO, ib, sizeof(ib));
			if (n <= 0) {
				in_open = false;
				shutdown(fd, SHUT_WR);
			} else if (!o->tty) {
				berth_write_all(fd, ib, (size_t)n);
			} else {
				/* docker's escape proxy */
				size_t on = 0;
				for (ssize_t k = 0; k < n; k++) {
					if (ib[k] == keys[matched]) {
						if (++matched == n_keys) {
							berth_write_all(fd, ob, on);
							rc = 2;
							goto done;
						}
						continue;
					}
					memcpy(ob + on, keys, matched);
					on += matched;
					matched = 0;
					if (ib[k] == keys[0]) {
						matched = 1;
						continue;
					}
					ob[on++] = ib[k];
					if (on >= sizeof(ob) - 16) {
						berth_write_all(fd, ob, on);
						on = 0;
					}
				}
				berth_write_all(fd, ob, on);
			}
		}
		if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			if (have == cap) {
				cap *= 2;
				buf = xrealloc(buf, cap);
			}
			ssize_t n = read(fd, buf + have, cap - have);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				break;
			if (o->tty) {
				berth_write_all(STDOUT_FILENO, buf, (size_t)n);
				continue;
			}
			have += (size_t)n;
			size_t used = demux(buf, have);
			memmove(buf, buf + used, have - used);
			have -= used;
		}
	}
done:
	free(buf);
out:
	if (raw)
		tcsetattr(STDIN_FILENO, TCSANOW, &saved_tio);
	if (proxy)
		for (size_t i = 0; i < ARRAY_SIZE(proxied); i++)
			sigaction(proxied[i], &old[i], NULL);
	if (o->tty)
		sigaction(SIGWINCH, &old_winch, NULL);
	close(sig_pipe[0]);
	close(sig_pipe[1]);
	sig_pipe[0] = sig_pipe[1] = -1;
	close(fd);
	return rc < 0 ? 1 : rc;
}

struct then_ctx {
	const char *id;
	int (*then)(struct cli *c, const char *id, void *data);
	void *data;
};

static int call_then(struct cli *c, void *data)
{
	struct then_ctx *t = data;
	return t->then ? t->then(c, t->id, t->data) : 0;
}

int attach_streams_and(struct cli *c, const char *id, bool in, bool out, bool err, bool tty,
		       bool sig_proxy, const char *detach_keys,
		       int (*then)(struct cli *c, const char *id, void *data), void *data)
{
	_cleanup_sbuf_ struct sbuf t = SBUF_INIT, r = SBUF_INIT;
	struct then_ctx tc = {id, then, data};

	sbuf_printf(&t, "/containers/%s/attach?stream=1%s%s%s", id, out ? "&stdout=1" : "",
		    err ? "&stderr=1" : "", in ? "&stdin=1" : "");
	if (detach_keys && *detach_keys) {
		sbuf_adds(&t, "&detachKeys=");
		url_escape(&t, detach_keys);
	}
	sbuf_printf(&r, "/containers/%s", id);
	struct stream_opts o = {
		.method = "POST",
		.target = sbuf_str(&t),
		.resize = sbuf_str(&r),
		.signal_to = sig_proxy ? id : NULL,
		.in = in,
		.tty = tty,
		.detach_keys = detach_keys,
	};
	return stream_session(c, &o, call_then, &tc);
}

int attach_and(struct cli *c, const char *id, bool in, bool tty, bool sig_proxy,
	       const char *detach_keys, int (*then)(struct cli *c, const char *id, void *data),
	       void *data)
{
	return attach_streams_and(c, id, in, true, true, tty, sig_proxy, detach_keys, then, data);
}
