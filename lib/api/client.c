/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The HTTP/1.1 client the CLI talks to berthd with: one connection, requests one after the
 * other on it (keep-alive), bodies whole or chunked, responses by Content-Length, chunked or
 * until EOF, and the hijack that attach and exec need.  No libcurl: it costs milliseconds to load
 * and cannot hand over its socket.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "server-internal.h"
#include "base/banned.h"

enum body_mode { BODY_NONE, BODY_LENGTH, BODY_CHUNKED, BODY_EOF };

struct berth_http_client {
	struct conn c; /* fd and read buffer (the server's connection type, no server) */
	int timeout_ms;
	bool in_request, chunked_req, head_req;
	bool send_failed; /* the server may have answered early (413) and closed */
	int64_t req_left;

	char *head_buf;
	struct http_head head;
	bool have_response;
	enum body_mode body;
	uint64_t body_left;
	struct http_chunked chunked;
	bool body_done;
};

static int64_t deadline_of(const struct berth_http_client *c)
{
	struct timespec ts;

	if (c->timeout_ms <= 0)
		return -1;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + c->timeout_ms;
}

int berth_http_client_new_fd(int fd, struct berth_http_client **ret, struct berth_error **err)
{
	struct berth_http_client *c = calloc(1, sizeof(*c));

	if (!c) {
		close(fd);
		return berth_error_set(err, ENOMEM, "out of memory");
	}
	c->c.fd = fd;
	*ret = c;
	return 0;
}

int berth_http_client_connect(const char *address, struct berth_http_client **ret,
			      struct berth_error **err)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	const char *path = address;
	int fd;

	if (berth_str_has_prefix(path, "unix://"))
		path += strlen("unix://");
	if (strlen(path) >= sizeof(sa.sun_path))
		return berth_error_set(err, ENAMETOOLONG, "socket path '%s' too long", path);
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return berth_error_sys(err, errno, "socket");
	while (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		if (errno == EINTR)
			continue;
		int r = berth_error_sys(err, errno, "connect to '%s'", path);
		close(fd);
		return r;
	}
	return berth_http_client_new_fd(fd, ret, err);
}

static void response_reset(struct berth_http_client *c)
{
	free(c->head_buf);
	c->head_buf = NULL;
	memset(&c->head, 0, sizeof(c->head));
	c->have_response = false;
	c->body = BODY_NONE;
	c->body_left = 0;
	memset(&c->chunked, 0, sizeof(c->chunked));
	c->body_done = true;
}

void berth_http_client_free(struct berth_http_client *c)
{
	if (!c)
		return;
	response_reset(c);
	if (c->c.fd >= 0)
		close(c->c.fd);
	free(c->c.buf);
	free(c);
}

void berth_http_client_set_timeout(struct berth_http_client *c, int timeout_ms)
{
	c->timeout_ms = timeout_ms;
}

static int client_send(struct berth_http_client *c, const void *data, size_t len,
		       struct berth_error **err)
{
	int r;

	if (c->c.fd < 0)
		return berth_error_set(err, ENOTCONN, "not connected");
	r = send_all(c->c.fd, data, len);
	if (r < 0) {
		c->send_failed = true;
		return berth_error_sys(err, -r, "send request");
	}
	return 0;
}

int berth_http_client_begin(struct berth_http_client *c, const char *method, const char *target,
			    const char *const *headers, int64_t body_length,
			    struct berth_error **err)
{
	struct obuf b = {0};
	bool host = false;
	int r = 0;

	if (c->c.fd < 0)
		return berth_error_set(err, ENOTCONN, "not connected");
	if (c->in_request)
		return berth_error_set(err, EBUSY, "a request is being sent");
	/* The last response's body must be read before the connection carries another. */
	if (c->have_response && !c->body_done) {
		char scratch[4096];
		ssize_t n;
		while ((n = berth_http_client_read(c, scratch, sizeof(scratch), err)) > 0)
			;
		if (n < 0)
			return (int)n;
	}
	if (c->have_response && !c->head.keep_alive)
		return berth_error_set(err, ENOTCONN, "the server closed the connection");
	response_reset(c);
	c->send_failed = false;

	r |= obuf_printf(&b, "%s %s HTTP/1.1\r\n", method, target);
	for (size_t i = 0; headers && headers[i]; i++) {
		if (strchr(headers[i], '\r') || strchr(headers[i], '\n')) {
			free(b.p);
			return berth_error_set(err, EINVAL, "header with a line break");
		}
		host |= strncasecmp(headers[i], "Host:", 5) == 0;
		r |= obuf_printf(&b, "%s\r\n", headers[i]);
	}
	if (!host)
		r |= obuf_printf(&b, "Host: docker\r\n");
	if (body_length == BERTH_HTTP_CHUNKED)
		r |= obuf_printf(&b, "Transfer-Encoding: chunked\r\n");
	else if (body_length > 0 || strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0)
		r |= obuf_printf(&b, "Content-Length: %lld\r\n", (long long)body_length);
	r |= obuf_printf(&b, "\r\n");
	if (r) {
		free(b.p);
		return berth_error_set(err, ENOMEM, "out of memory");
	}
	r = client_send(c, b.p, b.len, err);
	free(b.p);
	if (r < 0)
		return r;
	c->in_request = true;
	c->chunked_req = body_length == BERTH_HTTP_CHUNKED;
	c->req_left = body_length > 0 ? body_length : 0;
	c->head_req = strcmp(method, "HEAD") == 0;
	return 0;
}

int berth_http_client_write(struct berth_http_client *c, const void *data, size_t len,
			    struct berth_error **err)
{
	if (!c->in_request)
		return berth_error_set(err, EINVAL, "no request being sent");
	if (len == 0)
		return 0;
	if (c->chunked_req) {
		char size[32];
		int n = snprintf(size, sizeof(size), "%zx\r\n", len);
		int r = client_send(c, size, (size_t)n, err);
		if (r == 0)
			r = client_send(c, data, len, err);
		if (r == 0)
			r = client_send(c, "\r\n", 2, err);
		return r;
	}
	if ((int64_t)len > c->req_left)
		return berth_error_set(err, EINVAL, "body longer than its Content-Length");
	c->req_left -= (int64_t)len;
	return client_send(c, data, len, err);
}

static int read_head(struct berth_http_client *c, struct berth_error **err)
{
	for (;;) {
		size_t scan = 0, end;
		while (!(
			end = http_head_end(c->c.buf + c->c.start, c->c.end - c->c.start, &scan))) {
			if (c->c.end - c->c.start >= BERTH_HTTP_MAX_HEAD)
				return berth_error_set(err, EBADMSG, "response header too large");
			int r = conn_fill(&c->c, deadline_of(c));
			if (r == 0)
				return berth_error_set(err, ECONNRESET,
						       "the server closed the connection without "
						       "a response");
			if (r < 0)
				return berth_error_sys(err, -r, "read response");
		}
		free(c->head_buf);
		c->head_buf = strndup(c->c.buf + c->c.start, end);
		if (!c->head_buf)
			return berth_error_set(err, ENOMEM, "out of memory");
		c->c.start += end;
		int status;
		int r = http_parse_head(c->head_buf, end, false, &c->head, &status, err);
		if (r < 0)
			return berth_error_wrap(err, "bad response");
		/* 100 Continue and other interim answers come before the real one */
		if (c->head.status >= 100 && c->head.status < 200 && c->head.status != 101)
			continue;
		break;
	}
	c->have_response = true;
	c->body_done = false;
	if (c->head_req || c->head.status < 200 || c->head.status == 204 || c->head.status == 304) {
		c->body = BODY_NONE;
		c->body_done = true;
	} else if (c->head.chunked) {
		c->body = BODY_CHUNKED;
	} else if (c->head.content_length >= 0) {
		c->body = BODY_LENGTH;
		c->body_left = (uint64_t)c->head.content_length;
		c->body_done = c->body_left == 0;
	} else {
		c->body = BODY_EOF;
		c->head.keep_alive = false;
	}
	return 0;
}

int berth_http_client_finish(struct berth_http_client *c, struct berth_error **err)
{
	int r;

	if (!c->in_request)
		return berth_error_set(err, EINVAL, "no request being sent");
	c->in_request = false;
	/* After a failed send the answer may still be there to read: the server can refuse a
	 * body (413) before it has all of it, and close. */
	if (!c->send_failed && c->chunked_req) {
		r = client_send(c, "0\r\n\r\n", 5, NULL);
		(void)r;
	} else if (!c->send_failed && c->req_left > 0) {
		return berth_error_set(err, EINVAL, "body shorter than its Content-Length");
	}
	return read_head(c, err);
}

int berth_http_client_request(struct berth_http_client *c, const char *method, const char *target,
			      const char *const *headers, const void *body, size_t len,
			      struct berth_error **err)
{
	int r = berth_http_client_begin(c, method, target, headers, (int64_t)len, err);

	if (r == 0 && len)
		r = berth_http_client_write(c, body, len, err);
	/* a body the server refused half-way (413 and close) still has an answer to read */
	if (r == 0 || (c->in_request && c->send_failed))
		r = berth_http_client_finish(c, err);
	return r;
}

bool berth_http_client_reusable(const struct berth_http_client *c)
{
	return c->c.fd >= 0 && !(c->have_response && !c->head.keep_alive);
}

int berth_http_client_status(const struct berth_http_client *c)
{
	return c->have_response ? c->head.status : 0;
}

const char *berth_http_client_reason(const struct berth_http_client *c)
{
	return c->have_response ? c->head.reason : NULL;
}

const char *berth_http_client_header(const struct berth_http_client *c, const char *name)
{
	return c->have_response ? http_head_get(&c->head, name) : NULL;
}

ssize_t berth_http_client_read(struct berth_http_client *c, void *buf, size_t len,
			       struct berth_error **err)
{
	struct conn *cn = &c->c;
	int r;

	if (!c->have_response)
		return berth_error_set(err, EINVAL, "no response");
	if (c->body_done || len == 0)
		return 0;
	for (;;) {
		size_t avail = cn->end - cn->start;
		if (c->body == BODY_CHUNKED && avail) {
			size_t consumed, off, dlen;
			r = http_chunked_feed(&c->chunked, cn->buf + cn->start, avail, len,
					      &consumed, &off, &dlen);
			if (r < 0)
				return berth_error_set(err, EBADMSG,
						       "malformed chunked response body");
			if (dlen)
				memcpy(buf, cn->buf + cn->start + off, dlen);
			cn->start += consumed;
			if (r == 1)
				c->body_done = true;
			if (dlen)
				return (ssize_t)dlen;
			if (r == 1)
				return 0;
		} else if (c->body != BODY_CHUNKED && avail) {
			size_t n = avail < len ? avail : len;
			if (c->body == BODY_LENGTH && n > c->body_left)
				n = (size_t)c->body_left;
			memcpy(buf, cn->buf + cn->start, n);
			cn->start += n;
			if (c->body == BODY_LENGTH) {
				c->body_left -= n;
				c->body_done = c->body_left == 0;
			}
			return (ssize_t)n;
		}
		r = conn_fill(cn, deadline_of(c));
		if (r == 0) {
			if (c->body == BODY_EOF) {
				c->body_done = true;
				return 0;
			}
			return berth_error_set(err, ECONNRESET,
					       "the server closed the connection mid-body");
		}
		if (r < 0)
			return berth_error_sys(err, -r, "read response body");
	}
}

int berth_http_client_read_all(struct berth_http_client *c, size_t max, char **ret, size_t *ret_len,
			       struct berth_error **err)
{
	struct obuf b = {0};
	const char *cl = berth_http_client_header(c, "Content-Length");
	unsigned long long want = cl ? strtoull(cl, NULL, 10) : 0;

	/* a body of known length in one buffer of its size (+ a byte to see its end, + the NUL):
	 * no copies while it grows, no pages touched past it */
	if (want && want <= max) {
		b.p = malloc((size_t)want + 2);
		if (b.p)
			b.cap = (size_t)want + 2;
	}
	for (;;) {
		if (b.cap - b.len < 2 && obuf_grow(&b, 8192) < 0) {
			free(b.p);
			return berth_error_set(err, ENOMEM, "out of memory");
		}
		ssize_t n = berth_http_client_read(c, b.p + b.len, b.cap - b.len - 1, err);
		if (n < 0) {
			free(b.p);
			return (int)n;
		}
		if (n == 0)
			break;
		b.len += (size_t)n;
		if (b.len > max) {
			free(b.p);
			return berth_error_set(err, EFBIG, "response body larger than %zu bytes",
					       max);
		}
	}
	if (obuf_grow(&b, 0) < 0) {
		free(b.p);
		return berth_error_set(err, ENOMEM, "out of memory");
	}
	b.p[b.len] = '\0';
	*ret = b.p;
	if (ret_len)
		*ret_len = b.len;
	return 0;
}

int berth_http_client_hijack(struct berth_http_client *c, int *ret_fd, char **ret_pending,
			     size_t *ret_pending_len, struct berth_error **err)
{
	const char *ct = berth_http_client_header(c, "Content-Type");
	struct conn *cn = &c->c;
	char *pending = NULL;
	size_t plen;

	if (!c->have_response)
		return berth_error_set(err, EINVAL, "no response");
	if (c->head.status != 101 && !(c->head.status == 200 && ct &&
				       (berth_str_has_prefix(ct, BERTH_MEDIA_RAW_STREAM) ||
					berth_str_has_prefix(ct, BERTH_MEDIA_MULTIPLEXED_STREAM))))
		return berth_error_set(err, EPROTO,
				       "the server did not hand over the connection (%d)",
				       c->head.status);
	plen = cn->end - cn->start;
	if (plen) {
		pending = malloc(plen);
		if (!pending)
			return berth_error_set(err, ENOMEM, "out of memory");
		memcpy(pending, cn->buf + cn->start, plen);
		cn->start = cn->end;
	}
	*ret_fd = TAKE_FD(cn->fd);
	*ret_pending = pending;
	*ret_pending_len = plen;
	return 0;
}
