/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * lib/api: the HTTP/1.1 server berthd serves the Docker Engine API with, the router in front of
 * it, Docker's query-string rules, Docker's stream framing, and the small HTTP client the CLI
 * talks to berthd with -- all over unix sockets.  Uses only lib/base.  docs/api-server.md is the
 * long form of this header.
 *
 * Threads.  The server runs one thread per connection: the handler of a request runs on that
 * connection's thread and may block as long as it likes (a stop waiting out its timeout, a
 * logs -f stream) without holding up any other request.  Everything reached through a
 * struct berth_http_request belongs to that one thread; nothing in it may be used after the
 * handler returns.  The server object itself is shared: berth_http_server_stop() may be called
 * from any thread.
 *
 * Responses.  A handler answers exactly once, in one of three ways:
 *   - whole: berth_http_respond*() (Content-Length, keep-alive);
 *   - streamed: berth_http_stream_begin(), then berth_http_stream_write()/_flush() as it goes,
 *     then berth_http_stream_end() (chunked encoding; an HTTP/1.0 client gets the raw bytes and
 *     the connection closes at the end);
 *   - hijacked: berth_http_hijack() answers 101 or 200 and hands the socket to the handler.
 * A handler that returns without answering gets a 500 sent for it.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/base.h"

/* ---- limits ----------------------------------------------------------------------------- */

#define BERTH_HTTP_MAX_LINE	 (8 * 1024)  /* the request line, and each header line */
#define BERTH_HTTP_MAX_HEADERS	 100	     /* header fields in one request or response */
#define BERTH_HTTP_MAX_HEAD	 (64 * 1024) /* the whole header block */
#define BERTH_HTTP_DEFAULT_CONNS 1024	     /* connections served at once; past it: 503 */

/* API versions, as BERTH_API_VERSION(1, 44): comparable with < and >. */
#define BERTH_API_VERSION(major, minor) ((unsigned)(major) << 16 | (unsigned)(minor))
#define BERTH_API_VERSION_MIN		BERTH_API_VERSION(1, 24)
#define BERTH_API_VERSION_MAX		BERTH_API_VERSION(1, 47)
#define BERTH_API_VERSION_MIN_STRING	"1.24"
#define BERTH_API_VERSION_MAX_STRING	"1.47"

/* Docker's content types for hijacked and multiplexed streams. */
#define BERTH_MEDIA_RAW_STREAM	       "application/vnd.docker.raw-stream"
#define BERTH_MEDIA_MULTIPLEXED_STREAM "application/vnd.docker.multiplexed-stream"

/* ---- the server ------------------------------------------------------------------------- */

struct berth_http_server;
struct berth_http_request;

/* Called on the connection's thread for every request. */
typedef void (*berth_http_handler_fn)(struct berth_http_request *req, void *userdata);

struct berth_http_server_config {
	berth_http_handler_fn handler; /* required */
	void *userdata;		       /* given to handler */
	/* the server's lines (base/core.h), called from any of its threads; zeroed: dropped */
	struct berth_log log;
	size_t max_connections;	  /* 0: BERTH_HTTP_DEFAULT_CONNS */
	int header_timeout_ms;	  /* first byte of a request head to its end; 0: 30 s */
	int idle_timeout_ms;	  /* keep-alive wait for the next request; 0: 120 s */
	int body_timeout_ms;	  /* longest silence while a handler reads the body; 0: 300 s */
	size_t thread_stack_size; /* 0: 1 MiB */
	/* "Name: value" lines sent with every response (Server, Api-Version, ...); copied. */
	char *const *default_headers;
};

/* Make a server; it serves nothing until listeners are added and berth_http_server_run(). */
int berth_http_server_new(const struct berth_http_server_config *config,
			  struct berth_http_server **ret, struct berth_error **err);

/* Serve connections accepted on a listening socket; the server takes fd (closes it at free). */
int berth_http_server_add_listener(struct berth_http_server *s, int fd, struct berth_error **err);

/*
 * Accept and serve until berth_http_server_stop(): blocks the calling thread, which only
 * accepts; each connection gets a thread of its own.  Returns 0, or -errno when accepting
 * cannot go on.
 */
int berth_http_server_run(struct berth_http_server *s, struct berth_error **err);

/* Make berth_http_server_run() return (any thread, async-signal-safe: one write to an eventfd). */
void berth_http_server_stop(struct berth_http_server *s);

/* True once berth_http_server_stop() was called: long handlers end when they see it. */
bool berth_http_server_stopping(const struct berth_http_server *s);

/* Connections being served right now (hijacked ones are no longer counted). */
size_t berth_http_server_connections(struct berth_http_server *s);

/*
 * Stop accepting, shut down every open connection (blocked reads see EOF, writes EPIPE) and wait
 * up to timeout_ms for their threads to finish, then free.  A thread still running after that is
 * left to the process's exit: its memory is not freed.  Accepts NULL.
 */
void berth_http_server_free(struct berth_http_server *s, int timeout_ms);

/* ---- the request ------------------------------------------------------------------------ */

/* "GET", "POST", ... */
const char *berth_http_method(const struct berth_http_request *req);
/* The path as sent, percent-decoded, without the query and without a /vX.Y prefix. */
const char *berth_http_path(const struct berth_http_request *req);
/* The request target as sent (raw, with the query). */
const char *berth_http_target(const struct berth_http_request *req);
/* The first header of that name (case-insensitive), or NULL. */
const char *berth_http_header(const struct berth_http_request *req, const char *name);
/* Headers in order: index 0..n-1; false past the end. */
bool berth_http_header_at(const struct berth_http_request *req, size_t i, const char **ret_name,
			  const char **ret_value);
/* A path parameter set by the router ("{name}" in the pattern), or NULL. */
const char *berth_http_param(const struct berth_http_request *req, const char *name);
/*
 * The API version the client asked for (/vX.Y/...), BERTH_API_VERSION_MAX when it gave none.
 * Set by the router; the string form is "1.47" for an unversioned request.
 */
unsigned berth_http_api_version(const struct berth_http_request *req);
const char *berth_http_api_version_string(const struct berth_http_request *req);
/* The server's userdata (also given to the handler). */
void *berth_http_userdata(const struct berth_http_request *req);
/* The server this request came through. */
struct berth_http_server *berth_http_request_server(const struct berth_http_request *req);

/*
 * Set a response header before answering (any way of answering sends it).  A second call
 * with the same name replaces the value.  Returns 0 or -ENOMEM/-EINVAL (CR/LF in the value).
 */
int berth_http_set_header(struct berth_http_request *req, const char *name, const char *value);

/* ---- reading the request body ----------------------------------------------------------- */

/* The body's declared length: >= 0 for Content-Length, -1 for chunked. */
int64_t berth_http_body_length(const struct berth_http_request *req);

/*
 * Read up to len bytes of the body (Content-Length or chunked; an "Expect: 100-continue" is
 * answered on the first read).  Returns the count, 0 at the end of the body, or -errno:
 * -EFBIG when more than the request's body limit would be read (berth_http_set_body_limit),
 * -EBADMSG for malformed chunked encoding, -ETIMEDOUT after body_timeout_ms of silence,
 * -ECONNRESET when the client went away mid-body.  After an error the connection is closed
 * once the handler has answered.
 */
ssize_t berth_http_read_body(struct berth_http_request *req, void *buf, size_t len,
			     struct berth_error **err);

/* Cap the body bytes berth_http_read_body() hands out (default: unlimited). */
void berth_http_set_body_limit(struct berth_http_request *req, uint64_t max);

/*
 * Docker's ReadJSON: the Content-Type must be application/json (or absent with an empty body),
 * the body at most max bytes, one JSON value with nothing after it.  On success *ret is the
 * value, or NULL for an empty body (Docker treats it as the zero value).  On failure this has
 * answered already -- 400 "invalid JSON: ...", "unsupported Content-Type header (...): must be
 * 'application/json'", "unexpected content after JSON"; 413 past max (the connection is then
 * closed rather than drained) -- and returns a negative errno; the handler just returns.
 */
int berth_http_read_json(struct berth_http_request *req, size_t max, json_t **ret);

/* ---- answering whole -------------------------------------------------------------------- */

/*
 * Send a whole response: status, content type (NULL: none), body of len bytes.  A HEAD request
 * gets the same headers and no body.  Returns 0 or -errno when the client is gone (nothing left
 * to do but return).
 */
int berth_http_respond(struct berth_http_request *req, int status, const char *content_type,
		       const void *body, size_t len);

/* JSON body (application/json), encoded as Go's encoder does: compact, one "\n" after. */
int berth_http_respond_json(struct berth_http_request *req, int status, const json_t *body);

/* Docker's error body: {"message": "..."} with status. */
int berth_http_respond_error(struct berth_http_request *req, int status, const char *fmt, ...)
	BERTH_PRINTF(3, 4);

/* An error from the library: status and wording from the error table (berth_api_error_status). */
int berth_http_respond_berror(struct berth_http_request *req, const struct berth_error *e);

/* 204 No Content (and 304 etc.): status only. */
int berth_http_respond_status(struct berth_http_request *req, int status);

/* Has the handler answered (or begun a stream, or hijacked)? */
bool berth_http_responded(const struct berth_http_request *req);

/* ---- answering as a stream -------------------------------------------------------------- */

/*
 * Send the status and headers of a streamed response (chunked).  Data written after goes out
 * in chunks; nothing is sent until a flush or until the buffer (16 KiB) fills.
 */
int berth_http_stream_begin(struct berth_http_request *req, int status, const char *content_type);
int berth_http_stream_write(struct berth_http_request *req, const void *data, size_t len);
int berth_http_stream_printf(struct berth_http_request *req, const char *fmt, ...)
	BERTH_PRINTF(2, 3);
/* One JSON value and a newline ("\n"; progress streams use berth_http_stream_progress). */
int berth_http_stream_json(struct berth_http_request *req, const json_t *j);
/* Send what is buffered now. */
int berth_http_stream_flush(struct berth_http_request *req);
/* Flush and end the body (the last chunk).  Write errors return -EPIPE/-ECONNRESET. */
int berth_http_stream_end(struct berth_http_request *req);

/*
 * Copy fd (the read end of a pipe a worker writes) to the body until its end, the stream begun
 * (status 200, content_type) with the first bytes, so that a worker failing before any byte can
 * still answer with an error: *began says whether it did.  0 at the end of fd; a negative errno
 * when the client went away or fd failed.  The caller ends or aborts the stream.
 */
int berth_http_stream_from_fd(struct berth_http_request *req, int fd, const char *content_type,
			      bool *began);

/*
 * Give up a streamed response half-way (a docker save that failed after its first bytes): what
 * is buffered is sent, then the connection is closed without the last chunk, so the client sees
 * a truncated body rather than a complete one.  (An HTTP/1.0 client, which gets the body until
 * the close, cannot tell.)  The handler returns after this.
 */
void berth_http_stream_abort(struct berth_http_request *req);

/*
 * Has the client gone away (closed or half-closed its end, or reset)?  Never blocks; for
 * followers (events, logs -f) that would otherwise wait for the next thing to send forever.
 */
bool berth_http_client_gone(struct berth_http_request *req);

/*
 * Wait up to timeout_ms for the client to go away; true when it did.  A follower with nothing
 * to send can sleep here instead of polling.
 */
bool berth_http_wait_client_gone(struct berth_http_request *req, int timeout_ms);

/* ---- hijacking -------------------------------------------------------------------------- */

/*
 * Take the connection over, as dockerd does for attach and exec: when the request carried
 * "Connection: Upgrade" and "Upgrade: tcp", answer "101 UPGRADED" (Connection/Upgrade headers),
 * otherwise "200 OK"; with Content-Type content_type either way.  *ret_fd is then the caller's
 * (close it; it may move to another thread); bytes the client sent beyond the request (read
 * ahead by the server) are in *ret_pending (caller frees; NULL when none).  The client's
 * half-close (shutdown SHUT_WR) shows as EOF on reads while writes still work.
 */
int berth_http_hijack(struct berth_http_request *req, const char *content_type, int *ret_fd,
		      char **ret_pending, size_t *ret_pending_len, struct berth_error **err);

/* ---- the router ------------------------------------------------------------------------- */

struct berth_api_router;

/*
 * Routes: method + pattern.  A pattern is a path of segments; "{name}" matches one non-empty
 * segment, "{name*}" one or more segments (image names hold slashes: "/images/{name*}/json"),
 * found through berth_http_param().  Every route answers under "/vX.Y" too: the prefix is
 * stripped, checked against [1.24, 1.47] -- 400 "client version X is too old. Minimum supported
 * API version is 1.24, please upgrade your client to a newer version" (plain text below 1.24,
 * as dockerd) / "client version X is too new. Maximum supported API version is 1.47" -- and
 * given to the handler.  A path no route matches, or a method no route of that path takes,
 * answers 404 {"message":"page not found"} (dockerd sends 404 for both).
 */
int berth_api_router_new(struct berth_api_router **ret, struct berth_error **err);
void berth_api_router_free(struct berth_api_router *r);
int berth_api_router_add(struct berth_api_router *r, const char *method, const char *pattern,
			 berth_http_handler_fn fn, void *userdata, struct berth_error **err);
/* The server handler: config.handler = berth_api_router_serve, config.userdata = router. */
void berth_api_router_serve(struct berth_http_request *req, void *router);

/*
 * Compare dotted versions as Docker does ("1.9" < "1.24"; missing parts count as 0, parts that
 * are not numbers as 0): <0, 0, >0.
 */
int berth_api_version_compare(const char *a, const char *b);

/* ---- query parameters ------------------------------------------------------------------- */

/* The first value of a query parameter, percent-decoded ('+' is a space), or NULL. */
const char *berth_http_query(const struct berth_http_request *req, const char *name);
/* Every value given for name (a NULL-terminated vector owned by the request), or NULL. */
const char *const *berth_http_query_all(const struct berth_http_request *req, const char *name);
bool berth_http_query_has(const struct berth_http_request *req, const char *name);

/*
 * Docker's BoolValue: absent, "", "0", "no", "false", "none" (any case, trimmed) are false,
 * anything else true.  _or_default: def when the parameter is absent.
 */
bool berth_http_query_bool(const struct berth_http_request *req, const char *name);
bool berth_http_query_bool_or_default(const struct berth_http_request *req, const char *name,
				      bool def);

/*
 * An integer parameter: def when absent or empty; -EINVAL with an error naming the parameter
 * and the value when it is not a whole decimal number in [min, max].
 */
int berth_http_query_int64(const struct berth_http_request *req, const char *name, int64_t def,
			   int64_t min, int64_t max, int64_t *ret, struct berth_error **err);

/* The same parsing rules on a bare string (for values outside a request). */
bool berth_api_parse_bool(const char *s);

/* ---- filters ---------------------------------------------------------------------------- */

/*
 * Docker's filters=: a JSON object of key -> {value: bool} (the current form) or key ->
 * [values] (the legacy form).  Errors are -EINVAL with Docker's "invalid filter" wording.
 */
struct berth_filters;

int berth_filters_parse(const char *json_text, struct berth_filters **ret,
			struct berth_error **err);
/* Parse the request's "filters" parameter (absent: empty filters). */
int berth_http_query_filters(const struct berth_http_request *req, struct berth_filters **ret,
			     struct berth_error **err);
void berth_filters_free(struct berth_filters *f);
static inline void berth_filters_freep(struct berth_filters **f)
{
	berth_filters_free(*f);
	*f = NULL;
}
#define _cleanup_filters_ _cleanup_(berth_filters_freep)

/* Number of keys. */
size_t berth_filters_count(const struct berth_filters *f);
/* Is key given at all? */
bool berth_filters_contains(const struct berth_filters *f, const char *key);
/* The values of key (a NULL-terminated vector owned by f; empty vector when absent). */
const char *const *berth_filters_values(const struct berth_filters *f, const char *key);
/* Every key is one of accepted (NULL-terminated); else -EINVAL "invalid filter 'key'". */
int berth_filters_validate(const struct berth_filters *f, const char *const *accepted,
			   struct berth_error **err);
/* Docker's ExactMatch: true when key is absent or has no values, or source is one of them. */
bool berth_filters_exact_match(const struct berth_filters *f, const char *key, const char *source);
/* FuzzyMatch: ExactMatch, or source starts with one of the values. */
bool berth_filters_fuzzy_match(const struct berth_filters *f, const char *key, const char *source);
/* Match: ExactMatch, or one of the values, as an extended regular expression, matches
 * somewhere in source (a value that does not compile matches nothing). */
bool berth_filters_match(const struct berth_filters *f, const char *key, const char *source);
/*
 * MatchKVList for labels: every value "k" or "k=v" of key must be among the n key/value pairs
 * (the label must exist; with "=v" have that value).  True when key is absent.
 */
bool berth_filters_match_kv(const struct berth_filters *f, const char *key,
			    const struct berth_key_value *kv, size_t n);
/* GetBoolOrDefault: "1"/"true" or "0"/"false"; -EINVAL "invalid filter 'key=[v]'" otherwise. */
int berth_filters_bool(const struct berth_filters *f, const char *key, bool def, bool *ret,
		       struct berth_error **err);

/* ---- times ------------------------------------------------------------------------------ */

/*
 * A point in time as docker's since/until take it: a unix timestamp "1700000000" or
 * "1700000000.123456789"; RFC 3339 with or without a zone ("2026-11-23T10:00:00Z",
 * "2026-11-23T10:00:00.5+01:00", "2026-11-23", local time without a zone); or a Go duration
 * back from now ("10m", "1h30m", "1.5s").  Result in nanoseconds since the epoch.  -EINVAL
 * with the value named.
 */
int berth_api_parse_time(const char *s, int64_t now_ns, int64_t *ret_ns, struct berth_error **err);

/* ---- stream framing --------------------------------------------------------------------- */

enum berth_stream_id { BERTH_STREAM_STDIN = 0, BERTH_STREAM_STDOUT = 1, BERTH_STREAM_STDERR = 2 };

#define BERTH_FRAME_HEADER_SIZE 8

/* Docker's multiplexed frame header: stream id, three zero bytes, big-endian uint32 length. */
void berth_frame_header(uint8_t hdr[BERTH_FRAME_HEADER_SIZE], enum berth_stream_id stream,
			uint32_t len);
/* Parse one; -EINVAL when the stream id is not 0-2 or the padding is not zero. */
int berth_frame_header_parse(const uint8_t hdr[BERTH_FRAME_HEADER_SIZE],
			     enum berth_stream_id *ret_stream, uint32_t *ret_len);
/* Write data as frames (split at 1 MiB) into a streamed response or onto a hijacked fd. */
int berth_http_stream_frame(struct berth_http_request *req, enum berth_stream_id stream,
			    const void *data, size_t len);
int berth_frame_write_fd(int fd, enum berth_stream_id stream, const void *data, size_t len);

/*
 * Docker's json-lines progress messages (load, pull, push, build), each line ending "\r\n":
 * {"status":S,"id":ID,"progressDetail":{"current":C,"total":T},"progress":P}; fields left out
 * when NULL / negative.  _error sends {"errorDetail":{"message":M},"error":M}.
 */
int berth_http_stream_progress(struct berth_http_request *req, const char *id, const char *status,
			       const char *progress, int64_t current, int64_t total);
int berth_http_stream_progress_error(struct berth_http_request *req, const char *fmt, ...)
	BERTH_PRINTF(2, 3);

/* ---- the error table -------------------------------------------------------------------- */

/*
 * berth_error code -> HTTP status, Docker's classes: EINVAL/ERANGE/EDOM/EBADMSG/ENAMETOOLONG
 * 400; ENOENT/ESRCH/ENXIO 404; EEXIST/EBUSY/ENOTEMPTY 409; EALREADY 304 (already started /
 * stopped); EACCES 403; EKEYREJECTED 401; EFBIG/E2BIG/EMSGSIZE 413; ENOSYS/EOPNOTSUPP 501;
 * EAGAIN 503; ETIMEDOUT 504; anything else 500.
 */
int berth_api_error_status(int code);
/* The reason phrase of an HTTP status ("Not Found"). */
const char *berth_http_status_text(int status);

/* ---- the client ------------------------------------------------------------------------- */

struct berth_http_client;

/* Connect to a unix socket (a path, or "unix://PATH"). */
int berth_http_client_connect(const char *address, struct berth_http_client **ret,
			      struct berth_error **err);
/* A client on a connected socket (takes fd). */
int berth_http_client_new_fd(int fd, struct berth_http_client **ret, struct berth_error **err);
void berth_http_client_free(struct berth_http_client *c);
static inline void berth_http_client_freep(struct berth_http_client **c)
{
	berth_http_client_free(*c);
	*c = NULL;
}
#define _cleanup_http_client_ _cleanup_(berth_http_client_freep)

/* Give up a read or write after timeout_ms of silence (-ETIMEDOUT); 0 or negative: never. */
void berth_http_client_set_timeout(struct berth_http_client *c, int timeout_ms);

#define BERTH_HTTP_CHUNKED (-1)

/*
 * Send a request head.  headers: "Name: value" strings, NULL-terminated, may be NULL (Host,
 * and Content-Length or Transfer-Encoding from body_length, are added).  body_length: the
 * bytes that berth_http_client_write() will send, or BERTH_HTTP_CHUNKED.
 */
int berth_http_client_begin(struct berth_http_client *c, const char *method, const char *target,
			    const char *const *headers, int64_t body_length,
			    struct berth_error **err);
int berth_http_client_write(struct berth_http_client *c, const void *data, size_t len,
			    struct berth_error **err);
/* End the body (the last chunk) and read the response head. */
int berth_http_client_finish(struct berth_http_client *c, struct berth_error **err);
/* All of the above with a whole body (may be NULL/0). */
int berth_http_client_request(struct berth_http_client *c, const char *method, const char *target,
			      const char *const *headers, const void *body, size_t len,
			      struct berth_error **err);

/*
 * Can the connection carry another request?  false once the server said "Connection: close" (or
 * answered HTTP/1.0 without keep-alive, or ended a body by closing), or when it is gone.
 */
bool berth_http_client_reusable(const struct berth_http_client *c);

/* The last response's status, reason and headers (valid until the next request). */
int berth_http_client_status(const struct berth_http_client *c);
const char *berth_http_client_reason(const struct berth_http_client *c);
const char *berth_http_client_header(const struct berth_http_client *c, const char *name);

/* Read the response body: by Content-Length, chunked, or until EOF.  0 at its end. */
ssize_t berth_http_client_read(struct berth_http_client *c, void *buf, size_t len,
			       struct berth_error **err);
/* The whole body, at most max bytes (-EFBIG past it); NUL-terminated, caller frees. */
int berth_http_client_read_all(struct berth_http_client *c, size_t max, char **ret, size_t *ret_len,
			       struct berth_error **err);

/*
 * After a 101, or a 200 with a raw/multiplexed stream content type: the connection is now a
 * byte stream.  *ret_fd is the caller's; bytes read ahead are in *ret_pending (caller frees;
 * NULL when none).  shutdown(fd, SHUT_WR) is how the caller says "no more input".  The client
 * object is left without a connection (free it).
 */
int berth_http_client_hijack(struct berth_http_client *c, int *ret_fd, char **ret_pending,
			     size_t *ret_pending_len, struct berth_error **err);
