/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The request and connection objects, shared by server.c and router.c (not public). */

#include <stdarg.h>

#include "http-internal.h"

/* A growing output buffer, always NUL-terminated. */
struct obuf {
	char *p;
	size_t len, cap;
};

int obuf_grow(struct obuf *b, size_t more);
int obuf_add(struct obuf *b, const void *data, size_t len);
int obuf_printf(struct obuf *b, const char *fmt, ...) BERTH_PRINTF(2, 3);
int obuf_vprintf(struct obuf *b, const char *fmt, va_list ap) BERTH_PRINTF(2, 0);

/* send() all of len, without SIGPIPE; 0 or -errno. */
int send_all(int fd, const void *data, size_t len);

struct conn {
	struct berth_http_server *server;
	int fd;
	char *buf; /* read buffer: [start, end) not consumed yet */
	size_t cap, start, end;
	bool done; /* close after this request */
	bool tracked;
	struct conn *prev, *next;
};

/* Read more into c->buf before deadline (monotonic ms): >0 bytes, 0 EOF, -errno. */
int conn_fill(struct conn *c, int64_t deadline);

enum resp_state { RESP_NONE, RESP_WHOLE, RESP_STREAM, RESP_HIJACKED };

struct berth_http_request {
	struct conn *conn;
	char *head_buf; /* the head, parsed in place */
	struct http_head head;
	bool is_head;
	char *raw_path; /* as sent, without the query */
	char *path;	/* decoded; the router strips /vX.Y */
	struct http_query query;
	unsigned api_version;
	char api_version_str[16];
	struct berth_key_value params[8];
	size_t n_params;

	/* body */
	uint64_t body_read, body_limit;
	int body_timeout_ms;
	bool body_done, body_error, continue_sent;
	struct http_chunked chunked;

	/* response */
	enum resp_state resp;
	int status;
	char **resp_headers;
	bool close_after, chunked_out, stream_ended;
	int write_error;
	struct obuf out;
	char *error_message;
};

int request_set_param(struct berth_http_request *req, const char *name, const char *value,
		      size_t value_len);
void request_clear_params(struct berth_http_request *req);
