/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The HTTP/1.1 server: one accepting thread (the caller of berth_http_server_run) and one thread
 * per connection.  A connection thread reads a head (with the idle and header timeouts), parses
 * it, runs the handler, makes sure an answer went out, finishes (or drains) the body and goes
 * round again while the connection is kept alive.
 *
 * Sockets stay blocking; every read is preceded by a poll() with the deadline that applies, so
 * a slow client costs its own thread and nothing else.  Writes block: a client that stops
 * reading a stream holds only its own thread.  berth_http_server_free() shuts every tracked
 * socket down, which wakes a thread blocked on it.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "http-internal.h"
#include "server-internal.h"
#include "base/banned.h"

#define READ_CHUNK	 8192
#define STREAM_BUF	 (16 * 1024)
#define FD_COPY_BUF	 (128 * 1024) /* a read of berth_http_stream_from_fd */
#define DRAIN_MAX	 (256 * 1024) /* unread body bytes we read to keep a connection (Go) */
#define DRAIN_TIMEOUT_MS 1000

struct berth_http_server {
	berth_http_handler_fn handler;
	void *userdata;
	struct berth_log log;
	size_t max_connections;
	int header_timeout_ms, idle_timeout_ms, body_timeout_ms;
	size_t stack_size;
	char **default_headers;

	int *listeners;
	size_t n_listeners;
	int wake_fd;
	atomic_bool stopping;

	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct conn *conns; /* tracked connections (not hijacked) */
	size_t n_conns;
	size_t n_threads; /* connection threads still running */
};

/* ---- small helpers ----------------------------------------------------------------------- */

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int obuf_grow(struct obuf *b, size_t more)
{
	if (b->len + more + 1 <= b->cap)
		return 0;
	size_t cap = b->cap ? b->cap : 256;
	while (cap < b->len + more + 1)
		cap *= 2;
	char *p = realloc(b->p, cap);
	if (!p)
		return -ENOMEM;
	b->p = p;
	b->cap = cap;
	return 0;
}

int obuf_add(struct obuf *b, const void *data, size_t len)
{
	if (obuf_grow(b, len) < 0)
		return -ENOMEM;
	memcpy(b->p + b->len, data, len);
	b->len += len;
	b->p[b->len] = '\0';
	return 0;
}

int obuf_vprintf(struct obuf *b, const char *fmt, va_list ap)
{
	va_list aq;
	int n;

	va_copy(aq, ap);
	n = vsnprintf(NULL, 0, fmt, aq);
	va_end(aq);
	if (n < 0 || obuf_grow(b, (size_t)n) < 0)
		return -ENOMEM;
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return 0;
}

int obuf_printf(struct obuf *b, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = obuf_vprintf(b, fmt, ap);
	va_end(ap);
	return r;
}

/* send() all of it; MSG_NOSIGNAL so a gone client is -EPIPE, not SIGPIPE. */
int send_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int sendv_all(int fd, struct iovec *iov, int n)
{
	while (n > 0) {
		struct msghdr m = {.msg_iov = iov, .msg_iovlen = (size_t)n};
		ssize_t w = sendmsg(fd, &m, MSG_NOSIGNAL);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		while (n > 0 && (size_t)w >= iov->iov_len) {
			w -= (ssize_t)iov->iov_len;
			iov++;
			n--;
		}
		if (n > 0) {
			iov->iov_base = (char *)iov->iov_base + w;
			iov->iov_len -= (size_t)w;
		}
	}
	return 0;
}

/* Wait for input until the absolute deadline (ms, monotonic; -1: none): 1 ready, 0 timeout. */
static int wait_readable(int fd, int64_t deadline)
{
	for (;;) {
		int timeout = -1;
		if (deadline >= 0) {
			int64_t left = deadline - now_ms();
			timeout = left > 0 ? (int)(left > INT32_MAX ? INT32_MAX : left) : 0;
		}
		struct pollfd p = {.fd = fd, .events = POLLIN};
		int r = poll(&p, 1, timeout);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		return r > 0 ? 1 : 0;
	}
}

/* ---- connections ------------------------------------------------------------------------- */

static void conn_track(struct conn *c)
{
	struct berth_http_server *s = c->server;

	c->next = s->conns;
	c->prev = NULL;
	if (s->conns)
		s->conns->prev = c;
	s->conns = c;
	s->n_conns++;
	c->tracked = true;
}

static void conn_untrack_locked(struct conn *c)
{
	struct berth_http_server *s = c->server;

	if (!c->tracked)
		return;
	if (c->prev)
		c->prev->next = c->next;
	else
		s->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	s->n_conns--;
	c->tracked = false;
}

/* Read more into the connection buffer, waiting until deadline; >0 bytes, 0 EOF, -ETIMEDOUT. */
int conn_fill(struct conn *c, int64_t deadline)
{
	if (c->start > 0 && c->start == c->end) {
		c->start = c->end = 0;
	} else if (c->start > 0 && c->cap - c->end < READ_CHUNK) {
		memmove(c->buf, c->buf + c->start, c->end - c->start);
		c->end -= c->start;
		c->start = 0;
	}
	if (c->cap - c->end < READ_CHUNK) {
		size_t cap = c->cap ? c->cap * 2 : READ_CHUNK * 2;
		if (cap > BERTH_HTTP_MAX_HEAD + 2 * READ_CHUNK)
			cap = BERTH_HTTP_MAX_HEAD + 2 * READ_CHUNK;
		if (cap > c->cap) {
			char *p = realloc(c->buf, cap);
			if (!p)
				return -ENOMEM;
			c->buf = p;
			c->cap = cap;
		}
		if (c->cap == c->end)
			return -ENOBUFS;
	}
	int r = wait_readable(c->fd, deadline);
	if (r < 0)
		return r;
	if (r == 0)
		return -ETIMEDOUT;
	for (;;) {
		ssize_t n = read(c->fd, c->buf + c->end, c->cap - c->end);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		c->end += (size_t)n;
		return (int)n;
	}
}

/* Answer an error on a connection without a request object (before or instead of parsing). */
static void conn_send_error(struct conn *c, int status, const char *msg)
{
	_cleanup_json_ json_t *j = json_pack("{s:s}", "message", msg);
	_cleanup_free_ char *body = j ? json_dumps(j, JSON_COMPACT) : NULL;
	struct obuf b = {0};
	char date[64];

	http_date(date, sizeof(date));
	if (obuf_printf(&b,
			"HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nDate: %s\r\n"
			"Content-Length: %zu\r\nConnection: close\r\n\r\n%s\n",
			status, berth_http_status_text(status), date, (body ? strlen(body) : 0) + 1,
			body ? body : "") == 0)
		send_all(c->fd, b.p, b.len);
	free(b.p);
}

/*
 * Read a request head into the buffer.  Returns its length (> 0); 0 when the connection should
 * just close (EOF, idle timeout, server stopping); < 0 when an error is to be answered first
 * (*ret_status, *ret_msg).
 */
static ssize_t conn_read_head(struct conn *c, int *ret_status, const char **ret_msg)
{
	struct berth_http_server *s = c->server;
	int64_t idle_deadline = now_ms() + s->idle_timeout_ms, head_deadline = -1;
	size_t scan = 0;

	for (;;) {
		size_t avail = c->end - c->start;
		if (avail) {
			size_t end = http_head_end(c->buf + c->start, avail, &scan);
			if (end)
				return (ssize_t)end;
			if (head_deadline < 0)
				head_deadline = now_ms() + s->header_timeout_ms;
			/* A request line longer than the cap: no need to wait for 64 KiB. */
			const char *p = c->buf + c->start;
			size_t skip = 0;
			while (skip < avail && (p[skip] == '\r' || p[skip] == '\n'))
				skip++;
			size_t look = avail - skip;
			if (look > BERTH_HTTP_MAX_LINE + 2 &&
			    !memchr(p + skip, '\n', BERTH_HTTP_MAX_LINE + 2)) {
				*ret_status = 414;
				*ret_msg = "request line too long";
				return -E2BIG;
			}
			if (avail >= BERTH_HTTP_MAX_HEAD) {
				*ret_status = 431;
				*ret_msg = "request header block too large";
				return -E2BIG;
			}
		}
		if (atomic_load(&s->stopping))
			return 0;
		int r = conn_fill(c, head_deadline >= 0 ? head_deadline : idle_deadline);
		if (r == -ETIMEDOUT && head_deadline >= 0) {
			*ret_status = 408;
			*ret_msg = "timed out reading the request header";
			return -ETIMEDOUT;
		}
		if (r <= 0)
			return 0; /* EOF, idle timeout, reset */
	}
}

/* ---- the request ------------------------------------------------------------------------- */

const char *berth_http_method(const struct berth_http_request *req)
{
	return req->head.method;
}

const char *berth_http_path(const struct berth_http_request *req)
{
	return req->path;
}

const char *berth_http_target(const struct berth_http_request *req)
{
	return req->head.target;
}

const char *berth_http_header(const struct berth_http_request *req, const char *name)
{
	return http_head_get(&req->head, name);
}

bool berth_http_header_at(const struct berth_http_request *req, size_t i, const char **ret_name,
			  const char **ret_value)
{
	if (i >= req->head.n_headers)
		return false;
	*ret_name = req->head.headers[i].name;
	*ret_value = req->head.headers[i].value;
	return true;
}

const char *berth_http_param(const struct berth_http_request *req, const char *name)
{
	for (size_t i = 0; i < req->n_params; i++)
		if (strcmp(req->params[i].key, name) == 0)
			return req->params[i].value;
	return NULL;
}

unsigned berth_http_api_version(const struct berth_http_request *req)
{
	return req->api_version;
}

const char *berth_http_api_version_string(const struct berth_http_request *req)
{
	return req->api_version_str;
}

void *berth_http_userdata(const struct berth_http_request *req)
{
	return req->conn->server->userdata;
}

struct berth_http_server *berth_http_request_server(const struct berth_http_request *req)
{
	return req->conn->server;
}

static bool header_value_ok(const char *v)
{
	for (; *v; v++)
		if (*v == '\r' || *v == '\n')
			return false;
	return true;
}

int berth_http_set_header(struct berth_http_request *req, const char *name, const char *value)
{
	char *line = NULL;
	size_t nlen = strlen(name);

	if (!header_value_ok(name) || !header_value_ok(value) || strchr(name, ':'))
		return -EINVAL;
	if (asprintf(&line, "%s: %s", name, value) < 0)
		return -ENOMEM;
	for (size_t i = 0; req->resp_headers && req->resp_headers[i]; i++) {
		if (strncasecmp(req->resp_headers[i], name, nlen) == 0 &&
		    req->resp_headers[i][nlen] == ':') {
			free(req->resp_headers[i]);
			req->resp_headers[i] = line;
			return 0;
		}
	}
	int r = berth_strv_push(&req->resp_headers, line);
	free(line);
	return r;
}

/* ---- the body ---------------------------------------------------------------------------- */

int64_t berth_http_body_length(const struct berth_http_request *req)
{
	return req->head.chunked ? -1
				 : (req->head.content_length < 0 ? 0 : req->head.content_length);
}

void berth_http_set_body_limit(struct berth_http_request *req, uint64_t max)
{
	req->body_limit = max;
}

static int send_continue(struct berth_http_request *req)
{
	static const char msg[] = "HTTP/1.1 100 Continue\r\n\r\n";

	if (!req->head.expect_continue || req->continue_sent || req->resp != RESP_NONE)
		return 0;
	req->continue_sent = true;
	return send_all(req->conn->fd, msg, sizeof(msg) - 1);
}

static ssize_t body_fail(struct berth_http_request *req, int r, struct berth_error **err)
{
	req->body_error = true;
	req->close_after = true;
	switch (r) {
	case -EFBIG:
		return berth_error_set(err, EFBIG, "request body larger than %llu bytes",
				       (unsigned long long)req->body_limit);
	case -EBADMSG:
		return berth_error_set(err, EBADMSG, "malformed chunked request body");
	case -ETIMEDOUT:
		return berth_error_set(err, ETIMEDOUT, "timed out reading the request body");
	case 0:
		return berth_error_set(err, ECONNRESET, "client closed the connection mid-body");
	default:
		return berth_error_sys(err, -r, "read request body");
	}
}

ssize_t berth_http_read_body(struct berth_http_request *req, void *buf, size_t len,
			     struct berth_error **err)
{
	struct conn *c = req->conn;
	char *out = buf;
	int r;

	if (req->body_error)
		return berth_error_set(err, EIO, "request body unreadable after an earlier error");
	if (req->body_done || len == 0)
		return 0;
	if (req->resp == RESP_HIJACKED)
		return berth_error_set(err, EBADF, "connection hijacked");
	if (send_continue(req) < 0)
		return body_fail(req, -EPIPE, err);

	if (!req->head.chunked) {
		uint64_t total =
			req->head.content_length < 0 ? 0 : (uint64_t)req->head.content_length;
		uint64_t left = total - req->body_read;
		if (left == 0) {
			req->body_done = true;
			return 0;
		}
		if (req->body_read + 1 > req->body_limit || total > req->body_limit)
			return body_fail(req, -EFBIG, err);
		if (len > left)
			len = (size_t)left;
		if (c->end == c->start) {
			r = wait_readable(c->fd, now_ms() + req->body_timeout_ms);
			if (r <= 0)
				return body_fail(req, r == 0 ? -ETIMEDOUT : r, err);
			ssize_t n;
			do
				n = read(c->fd, out, len);
			while (n < 0 && errno == EINTR);
			if (n <= 0)
				return body_fail(req, n < 0 ? -errno : 0, err);
			req->body_read += (uint64_t)n;
			if (req->body_read == total)
				req->body_done = true;
			return n;
		}
		size_t n = c->end - c->start;
		if (n > len)
			n = len;
		memcpy(out, c->buf + c->start, n);
		c->start += n;
		req->body_read += n;
		if (req->body_read == total)
			req->body_done = true;
		return (ssize_t)n;
	}

	/* chunked: decode what is buffered; read more when it gives nothing */
	for (;;) {
		size_t consumed, off, dlen;
		r = http_chunked_feed(&req->chunked, c->buf + c->start, c->end - c->start, len,
				      &consumed, &off, &dlen);
		if (r < 0)
			return body_fail(req, r, err);
		if (dlen) {
			if (req->body_read + dlen > req->body_limit)
				return body_fail(req, -EFBIG, err);
			memcpy(out, c->buf + c->start + off, dlen);
		}
		c->start += consumed;
		if (r == 1)
			req->body_done = true;
		if (dlen) {
			req->body_read += dlen;
			return (ssize_t)dlen;
		}
		if (r == 1)
			return 0;
		r = conn_fill(c, now_ms() + req->body_timeout_ms);
		if (r <= 0)
			return body_fail(req, r, err);
	}
}

static bool media_type_is_json(const char *ct, bool *malformed)
{
	const char *semi = strchr(ct, ';');
	size_t n = semi ? (size_t)(semi - ct) : strlen(ct);

	while (n && (ct[n - 1] == ' ' || ct[n - 1] == '\t'))
		n--;
	while (n && (*ct == ' ' || *ct == '\t')) {
		ct++;
		n--;
	}
	*malformed = n == 0 || !memchr(ct, '/', n);
	return n == strlen("application/json") && strncasecmp(ct, "application/json", n) == 0;
}

int berth_http_read_json(struct berth_http_request *req, size_t max, json_t **ret)
{
	const char *ct = berth_http_header(req, "Content-Type");
	int64_t declared = berth_http_body_length(req);
	_cleanup_error_ struct berth_error *e = NULL;
	_cleanup_free_ char *data = NULL;
	size_t len = 0, cap = 0;
	bool malformed = false;

	*ret = NULL;
	if ((!ct || !*ct) && declared == 0)
		return 0;
	if (!ct || !media_type_is_json(ct, &malformed)) {
		ct = ct ? ct : "";
		if (!*ct || malformed)
			berth_http_respond_error(req, 400,
						 "malformed Content-Type header (%s): mime: no "
						 "media type",
						 ct);
		else
			berth_http_respond_error(
				req, 400,
				"unsupported Content-Type header (%s): must be 'application/json'",
				ct);
		return -EINVAL;
	}
	if (declared > 0 && (uint64_t)declared > max) {
		req->close_after = true; /* not worth draining */
		berth_http_respond_error(req, 413,
					 "request body too large: %lld bytes, the limit is %zu",
					 (long long)declared, max);
		return -EFBIG;
	}
	berth_http_set_body_limit(req, max);
	for (;;) {
		if (cap - len < 4096) {
			size_t ncap = cap ? cap * 2 : 4096;
			if (ncap > max + 4096)
				ncap = max + 4096;
			char *p = realloc(data, ncap + 1);
			if (!p) {
				berth_http_respond_error(req, 500, "out of memory");
				return -ENOMEM;
			}
			data = p;
			cap = ncap;
		}
		ssize_t n = berth_http_read_body(req, data + len, cap - len, &e);
		if (n == -EFBIG) {
			berth_http_respond_error(
				req, 413, "request body too large: the limit is %zu bytes", max);
			return -EFBIG;
		}
		if (n < 0) {
			berth_http_respond_error(req, 400, "%s", e->msg);
			return (int)n;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len == 0)
		return 0;
	data[len] = '\0';

	json_error_t je;
	json_t *j = json_loadb(data, len, JSON_DECODE_ANY | JSON_DISABLE_EOF_CHECK, &je);
	if (!j) {
		if ((size_t)je.position >= len)
			berth_http_respond_error(
				req, 400, "invalid JSON: got EOF while reading request body");
		else
			berth_http_respond_error(req, 400, "invalid JSON: %s at line %d column %d",
						 je.text, je.line, je.column);
		return -EINVAL;
	}
	/* jansson stops after the value; anything but white space after it is an error. */
	for (size_t i = (size_t)je.position; i < len; i++) {
		if (!strchr(" \t\r\n", data[i])) {
			json_decref(j);
			berth_http_respond_error(req, 400, "unexpected content after JSON");
			return -EINVAL;
		}
	}
	*ret = j;
	return 0;
}

/* ---- answering --------------------------------------------------------------------------- */

static bool has_header(char *const *v, const char *name)
{
	size_t n = strlen(name);

	for (size_t i = 0; v && v[i]; i++)
		if (strncasecmp(v[i], name, n) == 0 && v[i][n] == ':')
			return true;
	return false;
}

/* body_mode: >= 0 Content-Length, -1 chunked, -2 until close, -3 no body (1xx, 204, 304) */
static int build_head(struct berth_http_request *req, struct obuf *b, int status,
		      const char *content_type, int64_t body_mode)
{
	struct berth_http_server *s = req->conn->server;
	char date[64];
	int r = 0;

	/* an unread body too large to drain: the connection cannot carry another request */
	if (!req->body_done &&
	    (req->head.chunked || (uint64_t)req->head.content_length - req->body_read > DRAIN_MAX))
		req->close_after = true;
	http_date(date, sizeof(date));
	r |= obuf_printf(b, "HTTP/1.1 %d %s\r\n", status, berth_http_status_text(status));
	for (size_t i = 0; s->default_headers && s->default_headers[i]; i++) {
		const char *line = s->default_headers[i];
		const char *colon = strchr(line, ':');
		_cleanup_free_ char *name = colon ? strndup(line, (size_t)(colon - line)) : NULL;
		if (name && has_header(req->resp_headers, name))
			continue; /* the handler's own value wins */
		r |= obuf_printf(b, "%s\r\n", line);
	}
	for (size_t i = 0; req->resp_headers && req->resp_headers[i]; i++)
		r |= obuf_printf(b, "%s\r\n", req->resp_headers[i]);
	if (content_type && !has_header(req->resp_headers, "Content-Type"))
		r |= obuf_printf(b, "Content-Type: %s\r\n", content_type);
	r |= obuf_printf(b, "Date: %s\r\n", date);
	if (body_mode >= 0)
		r |= obuf_printf(b, "Content-Length: %lld\r\n", (long long)body_mode);
	else if (body_mode == -1)
		r |= obuf_printf(b, "Transfer-Encoding: chunked\r\n");
	if (req->close_after || !req->head.keep_alive || body_mode == -2 ||
	    atomic_load(&s->stopping))
		r |= obuf_printf(b, "Connection: close\r\n");
	else if (req->head.minor_version == 0)
		r |= obuf_printf(b, "Connection: keep-alive\r\n");
	r |= obuf_printf(b, "\r\n");
	return r ? -ENOMEM : 0;
}

static int write_failed(struct berth_http_request *req, int r)
{
	req->write_error = r;
	req->close_after = true;
	return r;
}

int berth_http_respond(struct berth_http_request *req, int status, const char *content_type,
		       const void *body, size_t len)
{
	struct obuf b = {0};
	bool no_body = status < 200 || status == 204 || status == 304;
	int r;

	if (req->resp != RESP_NONE)
		return -EALREADY;
	req->resp = RESP_WHOLE;
	req->status = status;
	r = build_head(req, &b, status, no_body ? NULL : content_type, no_body ? -3 : (int64_t)len);
	if (r < 0) {
		free(b.p);
		return write_failed(req, r);
	}
	struct iovec iov[2] = {{b.p, b.len}, {(void *)body, len}};
	bool send_body = !no_body && !req->is_head && len > 0;
	r = sendv_all(req->conn->fd, iov, send_body ? 2 : 1);
	free(b.p);
	return r < 0 ? write_failed(req, r) : 0;
}

int berth_http_respond_json(struct berth_http_request *req, int status, const json_t *body)
{
	_cleanup_free_ char *text = json_dumps(body, JSON_COMPACT | JSON_ENCODE_ANY);
	size_t len = text ? strlen(text) : 0;
	/* the newline docker's encoder ends with, added in place: a large body is not copied */
	char *p = text ? realloc(text, len + 2) : NULL;

	if (!p)
		return berth_http_respond(req, 500, "application/json",
					  "{\"message\":\"out of memory\"}\n", 28);
	text = p;
	text[len++] = '\n';
	text[len] = '\0';
	return berth_http_respond(req, status, "application/json", text, len);
}

static int respond_verror(struct berth_http_request *req, int status, const char *fmt, va_list ap)
{
	_cleanup_free_ char *msg = NULL;

	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	_cleanup_json_ json_t *j = json_pack("{s:s}", "message", msg ? msg : "out of memory");
	if (!j)
		return berth_http_respond(req, 500, "application/json",
					  "{\"message\":\"out of memory\"}\n", 28);
	req->error_message = TAKE_PTR(msg);
	return berth_http_respond_json(req, status, j);
}

int berth_http_respond_error(struct berth_http_request *req, int status, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = respond_verror(req, status, fmt, ap);
	va_end(ap);
	return r;
}

int berth_http_respond_berror(struct berth_http_request *req, const struct berth_error *e)
{
	if (!e)
		return berth_http_respond_error(req, 500, "internal error");
	int status = berth_api_error_status(e->code);
	if (status == 304)
		return berth_http_respond_status(req, 304);
	return berth_http_respond_error(req, status, "%s", e->msg ? e->msg : "internal error");
}

int berth_http_respond_status(struct berth_http_request *req, int status)
{
	return berth_http_respond(req, status, NULL, NULL, 0);
}

bool berth_http_responded(const struct berth_http_request *req)
{
	return req->resp != RESP_NONE;
}

/* ---- streams ----------------------------------------------------------------------------- */

int berth_http_stream_begin(struct berth_http_request *req, int status, const char *content_type)
{
	struct obuf b = {0};
	int r;

	if (req->resp != RESP_NONE)
		return -EALREADY;
	req->resp = RESP_STREAM;
	req->status = status;
	req->chunked_out = req->head.minor_version >= 1;
	if (!req->chunked_out)
		req->close_after = true;
	r = build_head(req, &b, status, content_type, req->chunked_out ? -1 : -2);
	if (r == 0)
		r = send_all(req->conn->fd, b.p, b.len);
	free(b.p);
	return r < 0 ? write_failed(req, r) : 0;
}

int berth_http_stream_flush(struct berth_http_request *req)
{
	int r;

	if (req->resp != RESP_STREAM)
		return -EINVAL;
	if (req->write_error)
		return req->write_error;
	if (!req->out.len || req->is_head) {
		req->out.len = 0;
		return 0;
	}
	if (req->chunked_out) {
		char size[32];
		int n = snprintf(size, sizeof(size), "%zx\r\n", req->out.len);
		struct iovec iov[3] = {{size, (size_t)n}, {req->out.p, req->out.len}, {"\r\n", 2}};
		r = sendv_all(req->conn->fd, iov, 3);
	} else {
		r = send_all(req->conn->fd, req->out.p, req->out.len);
	}
	req->out.len = 0;
	return r < 0 ? write_failed(req, r) : 0;
}

int berth_http_stream_write(struct berth_http_request *req, const void *data, size_t len)
{
	if (req->resp != RESP_STREAM)
		return -EINVAL;
	if (req->write_error)
		return req->write_error;
	if (obuf_add(&req->out, data, len) < 0)
		return -ENOMEM;
	if (req->out.len >= STREAM_BUF)
		return berth_http_stream_flush(req);
	return 0;
}

int berth_http_stream_printf(struct berth_http_request *req, const char *fmt, ...)
{
	va_list ap;
	int r;

	if (req->resp != RESP_STREAM)
		return -EINVAL;
	if (req->write_error)
		return req->write_error;
	va_start(ap, fmt);
	r = obuf_vprintf(&req->out, fmt, ap);
	va_end(ap);
	if (r < 0)
		return r;
	if (req->out.len >= STREAM_BUF)
		return berth_http_stream_flush(req);
	return 0;
}

int berth_http_stream_json(struct berth_http_request *req, const json_t *j)
{
	_cleanup_free_ char *text = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);

	if (!text)
		return -ENOMEM;
	return berth_http_stream_printf(req, "%s\n", text);
}

int berth_http_stream_end(struct berth_http_request *req)
{
	int r = berth_http_stream_flush(req);

	if (r < 0)
		return r;
	req->stream_ended = true;
	if (req->chunked_out && !req->is_head) {
		r = send_all(req->conn->fd, "0\r\n\r\n", 5);
		if (r < 0)
			return write_failed(req, r);
	}
	return 0;
}

int berth_http_stream_from_fd(struct berth_http_request *req, int fd, const char *content_type,
			      bool *began)
{
	_cleanup_free_ char *buf = malloc(FD_COPY_BUF);
	int r;

	if (!buf)
		return -ENOMEM;
	for (;;) {
		ssize_t n = read(fd, buf, FD_COPY_BUF);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return 0;
		if (!*began) {
			r = berth_http_stream_begin(req, 200, content_type);
			if (r < 0)
				return r;
			*began = true;
		}
		r = berth_http_stream_write(req, buf, (size_t)n);
		if (r < 0)
			return r;
	}
}

void berth_http_stream_abort(struct berth_http_request *req)
{
	if (req->resp != RESP_STREAM || req->stream_ended)
		return;
	berth_http_stream_flush(req);
	/* no "0\r\n\r\n": the server closes the connection as after a write error */
	req->stream_ended = true;
	write_failed(req, -ECONNABORTED);
}

bool berth_http_client_gone(struct berth_http_request *req)
{
	return berth_http_wait_client_gone(req, 0);
}

bool berth_http_wait_client_gone(struct berth_http_request *req, int timeout_ms)
{
	struct pollfd p = {.fd = req->conn->fd, .events = POLLRDHUP};

	if (req->conn->fd < 0 || req->write_error)
		return true;
	for (;;) {
		int r = poll(&p, 1, timeout_ms);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return false;
		return (p.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL)) != 0;
	}
}

/* ---- hijacking --------------------------------------------------------------------------- */

int berth_http_hijack(struct berth_http_request *req, const char *content_type, int *ret_fd,
		      char **ret_pending, size_t *ret_pending_len, struct berth_error **err)
{
	struct conn *c = req->conn;
	struct berth_http_server *s = c->server;
	struct obuf b = {0};
	int r;

	if (req->resp != RESP_NONE)
		return berth_error_set(err, EALREADY, "response already started");
	if (req->head.upgrade_tcp) {
		r = obuf_printf(&b,
				"HTTP/1.1 101 UPGRADED\r\nContent-Type: %s\r\nConnection: "
				"Upgrade\r\nUpgrade: tcp\r\n",
				content_type);
		req->status = 101;
	} else {
		r = obuf_printf(&b, "HTTP/1.1 200 OK\r\nContent-Type: %s\r\n", content_type);
		req->status = 200;
	}
	for (size_t i = 0; r == 0 && s->default_headers && s->default_headers[i]; i++)
		r = obuf_printf(&b, "%s\r\n", s->default_headers[i]);
	for (size_t i = 0; r == 0 && req->resp_headers && req->resp_headers[i]; i++)
		r = obuf_printf(&b, "%s\r\n", req->resp_headers[i]);
	if (r == 0)
		r = obuf_printf(&b, "\r\n");
	if (r < 0) {
		free(b.p);
		return berth_error_set(err, ENOMEM, "out of memory");
	}
	r = send_all(c->fd, b.p, b.len);
	free(b.p);
	req->resp = RESP_HIJACKED;
	if (r < 0) {
		req->close_after = true;
		return berth_error_sys(err, -r, "hijack: write response");
	}

	char *pending = NULL;
	size_t plen = c->end - c->start;
	if (plen) {
		pending = malloc(plen);
		if (!pending) {
			req->close_after = true;
			return berth_error_set(err, ENOMEM, "out of memory");
		}
		memcpy(pending, c->buf + c->start, plen);
		c->start = c->end;
	}
	pthread_mutex_lock(&s->lock);
	conn_untrack_locked(c);
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->lock);
	*ret_fd = TAKE_FD(c->fd);
	*ret_pending = pending;
	*ret_pending_len = plen;
	return 0;
}

/* ---- serving a connection ---------------------------------------------------------------- */

static void request_release(struct berth_http_request *req)
{
	free(req->head_buf);
	free(req->path);
	free(req->raw_path);
	http_query_release(&req->query);
	for (size_t i = 0; i < req->n_params; i++) {
		free(req->params[i].key);
		free(req->params[i].value);
	}
	berth_strv_free(req->resp_headers);
	free(req->out.p);
	free(req->error_message);
	memset(req, 0, sizeof(*req));
}

int request_set_param(struct berth_http_request *req, const char *name, const char *value,
		      size_t value_len)
{
	if (req->n_params >= ARRAY_SIZE(req->params))
		return -E2BIG;
	char *k = strdup(name), *v = strndup(value, value_len);
	if (!k || !v) {
		free(k);
		free(v);
		return -ENOMEM;
	}
	req->params[req->n_params].key = k;
	req->params[req->n_params].value = v;
	req->n_params++;
	return 0;
}

void request_clear_params(struct berth_http_request *req)
{
	for (size_t i = 0; i < req->n_params; i++) {
		free(req->params[i].key);
		free(req->params[i].value);
	}
	req->n_params = 0;
}

/* Read what is left of the body so the connection can serve the next request. */
static bool drain_body(struct berth_http_request *req)
{
	char scratch[8192];
	size_t total = 0;

	if (req->body_done)
		return true;
	if (req->body_error)
		return false;
	req->body_limit = UINT64_MAX;
	req->body_timeout_ms = DRAIN_TIMEOUT_MS;
	while (total < DRAIN_MAX) {
		ssize_t n = berth_http_read_body(req, scratch, sizeof(scratch), NULL);
		if (n < 0)
			return false;
		if (n == 0)
			return true;
		total += (size_t)n;
	}
	return false;
}

static void serve_one(struct conn *c, size_t head_len)
{
	struct berth_http_server *s = c->server;
	struct berth_http_request req = {0};
	_cleanup_error_ struct berth_error *e = NULL;
	int status = 400;

	req.conn = c;
	req.body_limit = UINT64_MAX;
	req.api_version = BERTH_API_VERSION_MAX;
	snprintf(req.api_version_str, sizeof(req.api_version_str), "%s",
		 BERTH_API_VERSION_MAX_STRING);
	req.head_buf = malloc(head_len + 1);
	if (!req.head_buf) {
		conn_send_error(c, 500, "out of memory");
		c->done = true;
		return;
	}
	memcpy(req.head_buf, c->buf + c->start, head_len);
	req.head_buf[head_len] = '\0';
	c->start += head_len;

	if (http_parse_head(req.head_buf, head_len, true, &req.head, &status, &e) < 0) {
		berth_log(&s->log, BERTH_LOG_DEBUG, "bad request: %s", e ? e->msg : "?");
		conn_send_error(c, status, e ? e->msg : "bad request");
		c->done = true;
		request_release(&req);
		return;
	}
	req.is_head = strcmp(req.head.method, "HEAD") == 0;
	req.body_done = !req.head.chunked && req.head.content_length <= 0;
	req.body_timeout_ms = s->body_timeout_ms;

	/* path and query */
	const char *target = req.head.target, *q = strchr(target, '?');
	size_t plen = q ? (size_t)(q - target) : strlen(target);
	req.raw_path = strndup(target, plen);
	if (!req.raw_path || http_unescape(target, plen, false, &req.path) < 0 ||
	    (q && http_query_parse(q + 1, &req.query) < 0)) {
		conn_send_error(c, 400, "invalid URL escape in the request target");
		c->done = true;
		request_release(&req);
		return;
	}

	s->handler(&req, s->userdata);

	if (req.resp == RESP_HIJACKED) {
		c->done = true;
		if (c->fd >= 0) /* the hijack failed half-way */
			req.close_after = true;
	} else if (req.resp == RESP_NONE) {
		berth_log(&s->log, BERTH_LOG_ERROR, "%s %s: the handler sent no response",
			  req.head.method, req.head.target);
		berth_http_respond_error(&req, 500, "internal error: no response");
	} else if (req.resp == RESP_STREAM && !req.stream_ended && !req.write_error) {
		berth_http_stream_end(&req);
	}
	berth_log(&s->log, BERTH_LOG_DEBUG, "%s %s -> %d", req.head.method, req.head.target,
		  req.status);

	if (!c->done) {
		if (req.close_after || !req.head.keep_alive || req.write_error ||
		    (req.resp == RESP_STREAM && !req.chunked_out) || !drain_body(&req))
			c->done = true;
	}
	request_release(&req);
}

/*
 * Closing while the client may still be sending (an error answered before its body was read):
 * a close() with unread input resets the connection, and the client may lose our answer.  Say
 * we are done writing, then read and drop what still comes for a short while (Go's
 * closeWriteAndWait does the same).
 */
static void conn_close_gracefully(struct conn *c)
{
	int64_t deadline = now_ms() + 500;
	size_t total = 0;
	char scratch[16384];

	if (c->fd < 0)
		return;
	shutdown(c->fd, SHUT_WR);
	while (total < 4 * 1024 * 1024 && wait_readable(c->fd, deadline) > 0) {
		ssize_t n = read(c->fd, scratch, sizeof(scratch));
		if (n <= 0)
			break;
		total += (size_t)n;
	}
}

static void *conn_main(void *arg)
{
	struct conn *c = arg;
	struct berth_http_server *s = c->server;
	bool graceful = false;

	while (!c->done && !atomic_load(&s->stopping)) {
		int status = 0;
		const char *msg = NULL;
		ssize_t head_len = conn_read_head(c, &status, &msg);
		if (head_len == 0)
			break;
		if (head_len < 0) {
			berth_log(&s->log, BERTH_LOG_DEBUG, "bad request: %s", msg);
			conn_send_error(c, status, msg);
			graceful = true;
			break;
		}
		serve_one(c, (size_t)head_len);
		graceful = c->done;
	}
	if (graceful && !atomic_load(&s->stopping))
		conn_close_gracefully(c);

	pthread_mutex_lock(&s->lock);
	conn_untrack_locked(c);
	if (c->fd >= 0)
		close(c->fd);
	free(c->buf);
	free(c);
	s->n_threads--;
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

/* ---- the server -------------------------------------------------------------------------- */

int berth_http_server_new(const struct berth_http_server_config *config,
			  struct berth_http_server **ret, struct berth_error **err)
{
	struct berth_http_server *s;

	if (!config->handler)
		return berth_error_set(err, EINVAL, "http server: no handler");
	s = calloc(1, sizeof(*s));
	if (!s)
		return berth_error_set(err, ENOMEM, "out of memory");
	s->handler = config->handler;
	s->userdata = config->userdata;
	s->log = config->log;
	s->max_connections =
		config->max_connections ? config->max_connections : BERTH_HTTP_DEFAULT_CONNS;
	s->header_timeout_ms = config->header_timeout_ms > 0 ? config->header_timeout_ms : 30000;
	s->idle_timeout_ms = config->idle_timeout_ms > 0 ? config->idle_timeout_ms : 120000;
	s->body_timeout_ms = config->body_timeout_ms > 0 ? config->body_timeout_ms : 300000;
	s->stack_size = config->thread_stack_size ? config->thread_stack_size : 1024 * 1024;
	for (size_t i = 0; config->default_headers && config->default_headers[i]; i++) {
		if (!header_value_ok(config->default_headers[i]) ||
		    berth_strv_push(&s->default_headers, config->default_headers[i]) < 0) {
			berth_strv_free(s->default_headers);
			free(s);
			return berth_error_set(err, EINVAL, "http server: bad default header");
		}
	}
	s->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (s->wake_fd < 0) {
		int r = berth_error_sys(err, errno, "eventfd");
		berth_strv_free(s->default_headers);
		free(s);
		return r;
	}
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->cond, NULL);
	atomic_init(&s->stopping, false);
	*ret = s;
	return 0;
}

int berth_http_server_add_listener(struct berth_http_server *s, int fd, struct berth_error **err)
{
	int *l = realloc(s->listeners, (s->n_listeners + 1) * sizeof(*l));

	if (!l) {
		close(fd);
		return berth_error_set(err, ENOMEM, "out of memory");
	}
	s->listeners = l;
	/* accept() after poll() must not block when another thread won the race */
	int flags = fcntl(fd, F_GETFL);
	if (flags >= 0)
		fcntl(fd, F_SETFL, flags | O_NONBLOCK);
	fcntl(fd, F_SETFD, FD_CLOEXEC);
	s->listeners[s->n_listeners++] = fd;
	return 0;
}

static void refuse_busy(int fd)
{
	static const char msg[] = "HTTP/1.1 503 Service Unavailable\r\n"
				  "Content-Type: application/json\r\nContent-Length: 52\r\n"
				  "Connection: close\r\n\r\n"
				  "{\"message\":\"too many connections, try again later\"}\n";
	ssize_t n = send(fd, msg, sizeof(msg) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
	(void)n;
	/* let the client read it before it sees the close */
	shutdown(fd, SHUT_WR);
	close(fd);
}

static void accept_one(struct berth_http_server *s, int lfd)
{
	int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

	if (fd < 0) {
		if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
			berth_log(&s->log, BERTH_LOG_ERROR, "accept: %s", strerror(errno));
			usleep(100 * 1000); /* no spinning while out of descriptors */
		}
		return;
	}
	pthread_mutex_lock(&s->lock);
	if (s->n_conns >= s->max_connections) {
		pthread_mutex_unlock(&s->lock);
		berth_log(&s->log, BERTH_LOG_WARNING, "%zu connections open: refusing one",
			  s->max_connections);
		refuse_busy(fd);
		return;
	}
	struct conn *c = calloc(1, sizeof(*c));
	if (!c) {
		pthread_mutex_unlock(&s->lock);
		refuse_busy(fd);
		return;
	}
	c->server = s;
	c->fd = fd;
	conn_track(c);
	s->n_threads++;

	pthread_attr_t attr;
	pthread_t t;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, s->stack_size);
	int r = pthread_create(&t, &attr, conn_main, c);
	pthread_attr_destroy(&attr);
	if (r != 0) {
		conn_untrack_locked(c);
		s->n_threads--;
		pthread_mutex_unlock(&s->lock);
		berth_log(&s->log, BERTH_LOG_ERROR, "cannot start a connection thread: %s",
			  strerror(r));
		free(c);
		refuse_busy(fd);
		return;
	}
	pthread_mutex_unlock(&s->lock);
}

int berth_http_server_run(struct berth_http_server *s, struct berth_error **err)
{
	_cleanup_free_ struct pollfd *p = calloc(s->n_listeners + 1, sizeof(*p));

	if (!p)
		return berth_error_set(err, ENOMEM, "out of memory");
	p[0].fd = s->wake_fd;
	p[0].events = POLLIN;
	for (size_t i = 0; i < s->n_listeners; i++) {
		p[i + 1].fd = s->listeners[i];
		p[i + 1].events = POLLIN;
	}
	while (!atomic_load(&s->stopping)) {
		int r = poll(p, s->n_listeners + 1, -1);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return berth_error_sys(err, errno, "poll");
		}
		for (size_t i = 0; i < s->n_listeners; i++) {
			if (p[i + 1].revents & (POLLERR | POLLNVAL))
				return berth_error_set(err, EIO, "listening socket %d failed",
						       s->listeners[i]);
			if (p[i + 1].revents & POLLIN)
				accept_one(s, s->listeners[i]);
		}
	}
	return 0;
}

void berth_http_server_stop(struct berth_http_server *s)
{
	uint64_t one = 1;

	atomic_store(&s->stopping, true);
	ssize_t n = write(s->wake_fd, &one, sizeof(one));
	(void)n;
}

bool berth_http_server_stopping(const struct berth_http_server *s)
{
	return atomic_load(&((struct berth_http_server *)s)->stopping);
}

size_t berth_http_server_connections(struct berth_http_server *s)
{
	size_t n;

	pthread_mutex_lock(&s->lock);
	n = s->n_conns;
	pthread_mutex_unlock(&s->lock);
	return n;
}

void berth_http_server_free(struct berth_http_server *s, int timeout_ms)
{
	struct timespec deadline;
	bool done;

	if (!s)
		return;
	berth_http_server_stop(s);
	for (size_t i = 0; i < s->n_listeners; i++)
		close(s->listeners[i]);
	s->n_listeners = 0;

	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += timeout_ms / 1000;
	deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&s->lock);
	for (struct conn *c = s->conns; c; c = c->next)
		shutdown(c->fd, SHUT_RDWR);
	while (s->n_threads > 0) {
		if (pthread_cond_timedwait(&s->cond, &s->lock, &deadline) == ETIMEDOUT)
			break;
		/* a thread that was between accept and its first read may need another nudge */
		for (struct conn *c = s->conns; c; c = c->next)
			shutdown(c->fd, SHUT_RDWR);
	}
	done = s->n_threads == 0;
	pthread_mutex_unlock(&s->lock);
	if (!done) {
		berth_log(&s->log, BERTH_LOG_WARNING,
			  "connection threads still running at shutdown");
		return; /* they still use s: left to the process's exit */
	}
	close(s->wake_fd);
	pthread_mutex_destroy(&s->lock);
	pthread_cond_destroy(&s->cond);
	berth_strv_free(s->default_headers);
	free(s->listeners);
	free(s);
}
