/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * What the server, the client and the fuzz targets share inside lib/api: the head parser, the
 * chunked decoder, query-string splitting and percent-decoding.  Not part of the public face.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "api.h"

struct http_header {
	const char *name;
	const char *value;
};

/* A parsed head.  Every string points into the buffer given to the parser (NUL-terminated in place). */
struct http_head {
	/* request */
	const char *method;
	const char *target;
	/* response */
	int status;
	const char *reason;
	/* both */
	int minor_version; /* HTTP/1.x */
	struct http_header headers[BERTH_HTTP_MAX_HEADERS];
	size_t n_headers;
	/* from the headers */
	int64_t content_length; /* -1 when absent */
	bool chunked;
	bool keep_alive;  /* by version and Connection */
	bool upgrade_tcp; /* Connection: Upgrade + Upgrade: tcp */
	bool expect_continue;
};

/*
 * Where a head ends: the offset just after the empty line ("\r\n\r\n" or "\n\n"), or 0 when the
 * buffer holds no complete head yet.  Leading empty lines are part of the head (skipped by the
 * parser).  *scan is where the next call resumes (start at 0).
 */
size_t http_head_end(const char *buf, size_t len, size_t *scan);

/*
 * Parse a complete head of len bytes (up to and including the empty line) in place.  On error:
 * negative errno, *ret_status the HTTP status to answer (400, 414, 431, 501, 505) and *err the
 * message.  request: true for a request head, false for a response head.
 */
int http_parse_head(char *buf, size_t len, bool request, struct http_head *h, int *ret_status,
		    struct berth_error **err);

/* The first header of that name (case-insensitive), or NULL. */
const char *http_head_get(const struct http_head *h, const char *name);

/* Does a comma-separated header value hold token (case-insensitive)? */
bool http_token_list_has(const char *value, const char *token);

/* ---- chunked transfer coding ------------------------------------------------------------- */

enum http_chunked_state {
	CHUNK_SIZE,
	CHUNK_EXT,
	CHUNK_SIZE_LF,
	CHUNK_DATA,
	CHUNK_DATA_CR,
	CHUNK_DATA_LF,
	CHUNK_TRAILER_START,
	CHUNK_TRAILER_LINE,
	CHUNK_TRAILER_LF,
	CHUNK_END_LF,
	CHUNK_DONE,
};

struct http_chunked {
	enum http_chunked_state state;
	uint64_t remaining; /* of the current chunk's data */
	unsigned digits;
	size_t line_len; /* extension or trailer line */
	size_t trailer_len;
};

/*
 * Feed encoded bytes.  Consumes framing bytes until payload is found: then *ret_data_off and
 * *ret_data_len give a span of in, at most max_data bytes, that is payload (already counted in
 * *ret_consumed).  Returns 0 (call again with the rest), 1 when the body is complete (the last
 * chunk and its trailers consumed), or -EBADMSG on malformed input.
 */
int http_chunked_feed(struct http_chunked *c, const char *in, size_t len, size_t max_data,
		      size_t *ret_consumed, size_t *ret_data_off, size_t *ret_data_len);

/* ---- query strings and paths ------------------------------------------------------------- */

/*
 * Percent-decode len bytes of s (plus: '+' is a space, as in a query) into a new string.
 * -EINVAL for a bad escape or an escaped NUL.
 */
int http_unescape(const char *s, size_t len, bool plus, char **ret);

struct http_query {
	char **keys;
	char ***values; /* per key, NULL-terminated */
	size_t n;
};

/* Split "a=1&b=2&a=3" into keys with their values; -EINVAL on a bad escape. */
int http_query_parse(const char *query, struct http_query *q);
void http_query_release(struct http_query *q);
ssize_t http_query_find(const struct http_query *q, const char *key);

/* RFC 7231 date of now into buf ("Sun, 06 Nov 1994 08:49:37 GMT"). */
void http_date(char *buf, size_t len);
