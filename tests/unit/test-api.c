/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/api: the head parser, the chunked decoder, query strings, filters, times, framing, the
 * error table -- and the server, router and client against each other over a temporary socket.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "api/api.h"
#include "api/http-internal.h"
#include "tap.h"

/* ---- the head parser --------------------------------------------------------------------- */

static int parse(const char *text, struct http_head *h, int *status)
{
	static char buf[200 * 1024];
	struct berth_error *e = NULL;
	size_t len = strlen(text);
	int r;

	memcpy(buf, text, len + 1);
	r = http_parse_head(buf, len, true, h, status, &e);
	berth_error_free(e);
	return r;
}

static void test_head_end(void)
{
	size_t scan = 0;
	const char *a = "GET / HTTP/1.1\r\nHost: x\r\n\r\nBODY";
	is(http_head_end(a, strlen(a), &scan), strlen(a) - 4, "head ends before the body");
	scan = 0;
	const char *b = "\r\n\r\nGET / HTTP/1.1\n\n";
	is(http_head_end(b, strlen(b), &scan), strlen(b),
	   "leading empty lines are skipped, bare LF");
	scan = 0;
	const char *c = "GET / HTTP/1.1\r\nHost: x\r\n\r";
	is(http_head_end(c, strlen(c), &scan), 0, "incomplete head: 0");
	/* resume across reads */
	char buf[64] = "GET / HTTP/1.1\r\nA: b\r\n";
	scan = 0;
	is(http_head_end(buf, strlen(buf), &scan), 0, "first half");
	memcpy(buf + strlen(buf), "\r\n", 3);
	is(http_head_end(buf, strlen(buf), &scan), strlen(buf), "terminator split across reads");
}

static void test_parse_request(void)
{
	struct http_head h;
	int st;

	is(parse("GET /v1.44/containers/json?all=1 HTTP/1.1\r\nHost: docker\r\nUser-Agent: "
		 "x\r\n\r\n",
		 &h, &st),
	   0, "a plain request parses");
	is_str(h.method, "GET", "method");
	is_str(h.target, "/v1.44/containers/json?all=1", "target");
	is(h.n_headers, 2, "two headers");
	is_str(http_head_get(&h, "user-agent"), "x", "header lookup is case-insensitive");
	ok(h.keep_alive && h.content_length == -1 && !h.chunked, "1.1: keep-alive, no body");

	is(parse("GET / HTTP/1.0\r\n\r\n", &h, &st), 0, "HTTP/1.0");
	ok(!h.keep_alive, "1.0 closes by default");
	is(parse("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", &h, &st), 0, "1.0 keep-alive");
	ok(h.keep_alive, "1.0 with Connection: keep-alive stays open");
	is(parse("GET / HTTP/1.1\r\nConnection: close\r\n\r\n", &h, &st), 0, "close");
	ok(!h.keep_alive, "Connection: close");
	is(parse("POST /x HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n", &h, &st), 0,
	   "upgrade");
	ok(h.upgrade_tcp, "Connection: Upgrade + Upgrade: tcp is seen");
	is(parse("POST /x HTTP/1.1\r\nUpgrade: tcp\r\n\r\n", &h, &st), 0,
	   "upgrade without connection");
	ok(!h.upgrade_tcp, "Upgrade without Connection: Upgrade is not an upgrade");
	is(parse("POST /x HTTP/1.1\r\nContent-Length: 12\r\nContent-Length: 12\r\n\r\n", &h, &st),
	   0, "the same Content-Length twice is fine");
	is(h.content_length, 12, "content length");
	is(parse("POST /x HTTP/1.1\r\nTransfer-Encoding: Chunked\r\nExpect: 100-continue\r\n\r\n",
		 &h, &st),
	   0, "chunked");
	ok(h.chunked && h.expect_continue, "chunked and expect");
	is(parse("GET / HTTP/1.1\r\nX-Empty:\r\nX-Pad:   v  \t\r\n\r\n", &h, &st), 0,
	   "OWS trimmed");
	is_str(http_head_get(&h, "X-Pad"), "v", "value without surrounding white space");
	is_str(http_head_get(&h, "X-Empty"), "", "empty value");

	struct {
		const char *text;
		int status;
		const char *what;
	} bad[] = {
		{"GET\r\n\r\n", 400, "request line without target"},
		{"GET /\r\n\r\n", 400, "request line without version"},
		{"G(T / HTTP/1.1\r\n\r\n", 400, "bad method token"},
		{"GET x HTTP/1.1\r\n\r\n", 400, "target not starting with /"},
		{"GET / HTTP/2.0\r\n\r\n", 505, "HTTP/2.0"},
		{"GET / HTTX/1.1\r\n\r\n", 400, "not HTTP"},
		{"GET / HTTP/1.1\r\n folded\r\n\r\n", 400, "obs-fold"},
		{"GET / HTTP/1.1\r\nHost : x\r\n\r\n", 400, "space before the colon"},
		{"GET / HTTP/1.1\r\nNoColon\r\n\r\n", 400, "header without colon"},
		{"GET / HTTP/1.1\r\nA: b\x01\r\n\r\n", 400, "control character in a value"},
		{"GET / HTTP/1.1\r\nA: b\rc\r\n\r\n", 400, "bare CR"},
		{"POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400,
		 "conflicting lengths"},
		{"POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400, "negative length"},
		{"POST / HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n", 400,
		 "huge length"},
		{"POST / HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n", 400,
		 "length and chunked"},
		{"POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", 501, "gzip coding"},
		{"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: "
		 "chunked\r\n\r\n",
		 501, "chunked twice"},
		{"POST / HTTP/1.1\r\nExpect: something\r\n\r\n", 417, "unknown expectation"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		st = 0;
		ok(parse(bad[i].text, &h, &st) < 0 && st == bad[i].status, "refused (%d): %s",
		   bad[i].status, bad[i].what);
	}

	/* sizes */
	static char big[140 * 1024];
	int n = snprintf(big, sizeof(big), "GET /");
	memset(big + n, 'a', BERTH_HTTP_MAX_LINE);
	snprintf(big + n + BERTH_HTTP_MAX_LINE, 64, " HTTP/1.1\r\n\r\n");
	ok(parse(big, &h, &st) < 0 && st == 414, "a request line over 8 KiB: 414");
	n = snprintf(big, sizeof(big), "GET / HTTP/1.1\r\nX: ");
	memset(big + n, 'a', BERTH_HTTP_MAX_LINE);
	snprintf(big + n + BERTH_HTTP_MAX_LINE, 64, "\r\n\r\n");
	ok(parse(big, &h, &st) < 0 && st == 431, "a header line over 8 KiB: 431");
	n = snprintf(big, sizeof(big), "GET / HTTP/1.1\r\n");
	for (int i = 0; i < BERTH_HTTP_MAX_HEADERS; i++)
		n += snprintf(big + n, sizeof(big) - (size_t)n, "X-%d: y\r\n", i);
	snprintf(big + n, sizeof(big) - (size_t)n, "\r\n");
	is(parse(big, &h, &st), 0, "exactly 100 headers parse");
	snprintf(big + n, sizeof(big) - (size_t)n, "X-last: y\r\n\r\n");
	ok(parse(big, &h, &st) < 0 && st == 431, "101 headers: 431");
}

static void test_parse_response(void)
{
	char buf[256];
	struct http_head h;
	struct berth_error *e = NULL;
	int st;

	snprintf(buf, sizeof(buf), "HTTP/1.1 101 UPGRADED\r\nContent-Type: x\r\n\r\n");
	is(http_parse_head(buf, strlen(buf), false, &h, &st, &e), 0, "status line parses");
	is(h.status, 101, "status");
	is_str(h.reason, "UPGRADED", "reason");
	snprintf(buf, sizeof(buf), "HTTP/1.1 2x0 OK\r\n\r\n");
	ok(http_parse_head(buf, strlen(buf), false, &h, &st, &e) < 0, "bad status code refused");
	berth_error_free(e);
}

/* ---- chunked ----------------------------------------------------------------------------- */

/* Decode all of in, feeding it step bytes at a time; returns the payload or NULL on error. */
static char *dechunk(const char *in, size_t step, size_t max_data, int *ret)
{
	struct http_chunked c = {0};
	static char out[65536];
	size_t olen = 0, pos = 0, len = strlen(in);
	int r = 0;

	while (pos < len) {
		size_t avail = len - pos < step ? len - pos : step, used = 0;
		while (used < avail) {
			size_t consumed, off, dlen;
			r = http_chunked_feed(&c, in + pos + used, avail - used, max_data,
					      &consumed, &off, &dlen);
			if (r < 0) {
				*ret = r;
				return NULL;
			}
			memcpy(out + olen, in + pos + used + off, dlen);
			olen += dlen;
			used += consumed;
			if (r == 1)
				break;
			if (consumed == 0)
				break;
		}
		pos += used;
		if (r == 1)
			break;
	}
	out[olen] = '\0';
	*ret = r;
	return out;
}

static void test_chunked(void)
{
	const char *good = "5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\nTrailer: x\r\n\r\n";
	int r;

	for (size_t step = 1; step <= strlen(good); step++) {
		char *out = dechunk(good, step, 3, &r);
		if (!out || strcmp(out, "hello, world") != 0 || r != 1) {
			ok(false, "chunked with %zu-byte reads: '%s' r=%d", step, out ? out : "",
			   r);
			return;
		}
	}
	ok(true, "chunked decodes the same at every read size, with extensions and trailers");
	is_str(dechunk("A\nabcdefghij\n0\n\n", 100, 100, &r), "abcdefghij", "bare LF and hex A");
	is(r, 1, "complete");
	is_str(dechunk("3\r\nabc\r\n", 100, 100, &r), "abc", "incomplete body");
	is(r, 0, "not complete yet");
	ok(!dechunk("x\r\n\r\n", 100, 100, &r) && r == -EBADMSG, "bad hex refused");
	ok(!dechunk("\r\n", 100, 100, &r) && r == -EBADMSG, "empty size refused");
	ok(!dechunk("1000000000000000\r\n", 100, 100, &r) && r == -EBADMSG,
	   "16 hex digits refused");
	ok(!dechunk("3\r\nabcX\r\n", 100, 100, &r) && r == -EBADMSG, "data longer than its size");
	ok(!dechunk("3\rX", 100, 100, &r) && r == -EBADMSG, "CR without LF after the size");
	static char longext[8000];
	snprintf(longext, sizeof(longext), "1;");
	memset(longext + 2, 'e', 5000);
	ok(!dechunk(longext, 100, 100, &r) && r == -EBADMSG, "a 5000-byte extension refused");
}

/* ---- query, filters, times, framing, errors ---------------------------------------------- */

static void test_query(void)
{
	struct http_query q;
	char *s = NULL;

	is(http_query_parse("a=1&b=x%20y+z&a=2&flag&&c=%7B%22k%22%3A1%7D", &q), 0, "query parses");
	ssize_t i = http_query_find(&q, "a");
	ok(i >= 0 && q.values[i][0] && strcmp(q.values[i][0], "1") == 0 && q.values[i][1] &&
		   strcmp(q.values[i][1], "2") == 0,
	   "repeated keys keep every value in order");
	i = http_query_find(&q, "b");
	is_str(i >= 0 ? q.values[i][0] : NULL, "x y z", "%%20 and + are spaces");
	i = http_query_find(&q, "flag");
	is_str(i >= 0 ? q.values[i][0] : NULL, "", "a key without = has an empty value");
	i = http_query_find(&q, "c");
	is_str(i >= 0 ? q.values[i][0] : NULL, "{\"k\":1}", "escaped JSON");
	http_query_release(&q);
	ok(http_query_parse("a=%zz", &q) == -EINVAL, "bad escape refused");
	ok(http_query_parse("a=%2", &q) == -EINVAL, "short escape refused");
	ok(http_query_parse("a=%00", &q) == -EINVAL, "escaped NUL refused");
	is(http_unescape("/images/a%2Fb/json", 18, false, &s), 0, "path unescape");
	is_str(s, "/images/a/b/json", "%%2F in a path");
	free(s);

	ok(!berth_api_parse_bool(NULL) && !berth_api_parse_bool("") && !berth_api_parse_bool("0") &&
		   !berth_api_parse_bool("False") && !berth_api_parse_bool(" no ") &&
		   !berth_api_parse_bool("NONE"),
	   "Docker's false values");
	ok(berth_api_parse_bool("1") && berth_api_parse_bool("true") &&
		   berth_api_parse_bool("True") && berth_api_parse_bool("yes") &&
		   berth_api_parse_bool("anything"),
	   "anything else is true");

	ok(berth_api_version_compare("1.9", "1.24") < 0, "1.9 < 1.24");
	ok(berth_api_version_compare("1.44", "1.44") == 0, "1.44 == 1.44");
	ok(berth_api_version_compare("1.44.0", "1.44") == 0, "missing parts are 0");
	ok(berth_api_version_compare("2", "1.44") > 0, "2 > 1.44");
	ok(berth_api_version_compare("1.x", "1.0") == 0, "non-numbers are 0");
}

static void test_filters(void)
{
	struct berth_filters *f = NULL;
	struct berth_error *e = NULL;
	bool b;

	is(berth_filters_parse(
		   "{\"type\":{\"container\":true},\"label\":{\"a=1\":true,\"b\":true}}", &f, &e),
	   0, "map form parses");
	is(berth_filters_count(f), 2, "two keys");
	ok(berth_filters_exact_match(f, "type", "container") &&
		   !berth_filters_exact_match(f, "type", "image"),
	   "exact match");
	ok(berth_filters_exact_match(f, "absent", "whatever"), "an absent key matches everything");
	struct berth_key_value kv[] = {{"a", "1"}, {"b", "x"}, {"c", ""}};
	ok(berth_filters_match_kv(f, "label", kv, 3), "labels a=1 and b present");
	kv[0].value = "2";
	ok(!berth_filters_match_kv(f, "label", kv, 3), "label a=2 does not match a=1");
	ok(!berth_filters_match_kv(f, "label", kv, 0), "no labels at all do not match");
	const char *accepted[] = {"type", "label", NULL};
	is(berth_filters_validate(f, accepted, &e), 0, "validate: known keys");
	const char *few[] = {"type", NULL};
	ok(berth_filters_validate(f, few, &e) == -EINVAL &&
		   strcmp(e->msg, "invalid filter 'label'") == 0,
	   "validate names the unknown key: %s", e ? e->msg : "");
	berth_error_free(e);
	e = NULL;
	berth_filters_free(f);

	is(berth_filters_parse("{\"name\":[\"web\",\"db\"],\"dangling\":[\"true\"]}", &f, &e), 0,
	   "legacy list form parses");
	ok(berth_filters_exact_match(f, "name", "db") &&
		   berth_filters_fuzzy_match(f, "name", "web-1") &&
		   !berth_filters_fuzzy_match(f, "name", "cache"),
	   "exact and prefix matches");
	is(berth_filters_bool(f, "dangling", false, &b, &e), 0, "bool filter");
	ok(b, "dangling=true");
	is(berth_filters_bool(f, "absent", true, &b, &e), 0, "absent bool: default");
	ok(b, "default kept");
	ok(berth_filters_bool(f, "name", false, &b, &e) == -EINVAL &&
		   strcmp(e->msg, "invalid filter 'name=[web db]'") == 0,
	   "a bool filter that is not one: %s", e ? e->msg : "");
	berth_error_free(e);
	e = NULL;
	berth_filters_free(f);

	const char *bad[] = {"{",	    "[1]",
			     "{\"a\":1}",   "{\"a\":{\"b\":\"x\"}}",
			     "{\"a\":[1]}", "{\"a\":{\"x\":true},\"b\":[\"y\"]}",
			     "\"str\""};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		f = NULL;
		ok(berth_filters_parse(bad[i], &f, &e) == -EINVAL && e &&
			   strcmp(e->msg, "invalid filter") == 0,
		   "refused: %s", bad[i]);
		berth_error_free(e);
		e = NULL;
		berth_filters_free(f);
	}
	is(berth_filters_parse("", &f, &e), 0, "empty: no filters");
	is(berth_filters_count(f), 0, "none");
	berth_filters_free(f);
	is(berth_filters_parse("null", &f, &e), 0, "null: no filters");
	berth_filters_free(f);
}

static void test_times(void)
{
	struct berth_error *e = NULL;
	int64_t now = 1700000000LL * 1000000000LL, t;

	is(berth_api_parse_time("1700000123", now, &t, &e), 0, "unix seconds");
	is(t, 1700000123LL * 1000000000LL, "value");
	is(berth_api_parse_time("1700000123.5", now, &t, &e), 0, "fraction");
	is(t, 1700000123LL * 1000000000LL + 500000000, "half a second");
	is(berth_api_parse_time("1700000123.000000001", now, &t, &e), 0, "nanoseconds");
	is(t % 1000000000, 1, "one nanosecond");
	is(berth_api_parse_time("10m", now, &t, &e), 0, "duration");
	is(t, now - 600LL * 1000000000LL, "ten minutes back");
	is(berth_api_parse_time("1h30m", now, &t, &e), 0, "compound duration");
	is(t, now - 5400LL * 1000000000LL, "an hour and a half back");
	is(berth_api_parse_time("1.5s", now, &t, &e), 0, "fractional duration");
	is(t, now - 1500000000LL, "1.5 s back");
	is(berth_api_parse_time("2023-11-14T22:13:20Z", now, &t, &e), 0, "RFC 3339 UTC");
	is(t, now, "the same instant as 1700000000");
	is(berth_api_parse_time("2023-11-14T23:13:20.25+01:00", now, &t, &e), 0, "with offset");
	is(t, now + 250000000, "offset applied, fraction kept");
	is(berth_api_parse_time("2023-11-14", now, &t, &e), 0, "date only (local time)");
	is(berth_api_parse_time("0", now, &t, &e), 0, "0 is the epoch, not a duration");
	is(t, 0, "epoch");
	/* past 2262 nanoseconds leave an int64: refused, not wrapped (found by fuzz-filters) */
	const char *bad[] = {
		"",	 "abc", "10x",	      "2023-13-01",	     "2023-11-14T25:00:00Z",
		"1.2.3", "-5",	"8023-11-14", "2263-01-01T00:00:00Z"};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		ok(berth_api_parse_time(bad[i], now, &t, &e) == -EINVAL, "refused: '%s'", bad[i]);
		berth_error_free(e);
		e = NULL;
	}
	berth_api_parse_time("garbage", now, &t, &e);
	is_str(e ? e->msg : "", "failed to parse value as time or duration: \"garbage\"",
	       "  in GetTimestamp's words");
	berth_error_free(e);
	e = NULL;
}

static void test_framing(void)
{
	uint8_t h[8];
	enum berth_stream_id s;
	uint32_t len;

	berth_frame_header(h, BERTH_STREAM_STDERR, 0x01020304);
	ok(h[0] == 2 && !h[1] && !h[2] && !h[3] && h[4] == 1 && h[5] == 2 && h[6] == 3 && h[7] == 4,
	   "header bytes: stream, three zeros, big-endian size");
	is(berth_frame_header_parse(h, &s, &len), 0, "parses back");
	ok(s == BERTH_STREAM_STDERR && len == 0x01020304, "same stream and size");
	h[2] = 1;
	is(berth_frame_header_parse(h, &s, &len), -EINVAL, "non-zero padding refused");
	h[2] = 0;
	h[0] = 3;
	is(berth_frame_header_parse(h, &s, &len), -EINVAL, "stream 3 refused");

	is(berth_api_error_status(ENOENT), 404, "ENOENT 404");
	is(berth_api_error_status(EEXIST), 409, "EEXIST 409");
	is(berth_api_error_status(EINVAL), 400, "EINVAL 400");
	is(berth_api_error_status(EALREADY), 304, "EALREADY 304");
	is(berth_api_error_status(EIO), 500, "EIO 500");
}

/* ---- the server and the client ----------------------------------------------------------- */

static char sock_path[108];
static struct berth_http_server *server;

static void h_echo(struct berth_http_request *req, void *ud)
{
	json_t *j = json_pack("{s:s,s:s,s:i,s:s?}", "name", berth_http_param(req, "name"),
			      "version", berth_http_api_version_string(req), "v",
			      (int)berth_http_api_version(req), "q", berth_http_query(req, "q"));
	berth_http_set_header(req, "X-Test", "1");
	berth_http_respond_json(req, 200, j);
	json_decref(j);
}

static void h_json(struct berth_http_request *req, void *ud)
{
	json_t *j = NULL;

	if (berth_http_read_json(req, 1024, &j) < 0)
		return;
	json_t *out = json_pack("{s:O*}", "got", j);
	berth_http_respond_json(req, 201, out);
	json_decref(out);
	json_decref(j);
}

static void h_stream(struct berth_http_request *req, void *ud)
{
	berth_http_stream_begin(req, 200, "application/json");
	for (int i = 0; i < 3; i++) {
		berth_http_stream_printf(req, "{\"n\":%d}\n", i);
		berth_http_stream_flush(req);
	}
	berth_http_stream_frame(req, BERTH_STREAM_STDOUT, "out", 3);
	berth_http_stream_end(req);
}

static void h_hijack(struct berth_http_request *req, void *ud)
{
	int fd = -1;
	char *pending = NULL, buf[256];
	size_t plen = 0;
	ssize_t n;

	if (berth_http_hijack(req, BERTH_MEDIA_RAW_STREAM, &fd, &pending, &plen, NULL) < 0)
		return;
	if (plen)
		send(fd, pending, plen, MSG_NOSIGNAL);
	free(pending);
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		send(fd, buf, (size_t)n, MSG_NOSIGNAL);
	/* the client half-closed: we can still write */
	send(fd, "bye", 3, MSG_NOSIGNAL);
	close(fd);
}

static volatile int gone_seen;
static void h_follow(struct berth_http_request *req, void *ud)
{
	berth_http_stream_begin(req, 200, "text/plain");
	berth_http_stream_flush(req);
	for (int i = 0; i < 100; i++) {
		if (berth_http_wait_client_gone(req, 50)) {
			gone_seen = 1;
			return;
		}
	}
}

static void h_body(struct berth_http_request *req, void *ud)
{
	char buf[7];
	size_t total = 0;
	ssize_t n;

	while ((n = berth_http_read_body(req, buf, sizeof(buf), NULL)) > 0)
		total += (size_t)n;
	if (n < 0) {
		berth_http_respond_error(req, 400, "body error");
		return;
	}
	berth_http_set_header(req, "X-Total", "");
	char s[32];
	snprintf(s, sizeof(s), "%zu", total);
	berth_http_respond(req, 200, "text/plain", s, strlen(s));
}

static void h_silent(struct berth_http_request *req, void *ud)
{
	/* answers nothing: the server must send a 500 */
}

static void *serve(void *arg)
{
	berth_http_server_run(server, NULL);
	return NULL;
}

static int listen_at(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	unlink(path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 64) < 0)
		return -1;
	return fd;
}

static int raw_connect(void)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock_path);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Send raw bytes, read until EOF or timeout; returns the reply (static). */
static const char *raw(const char *req, size_t len, int timeout_ms)
{
	static char reply[65536];
	size_t got = 0;
	int fd = raw_connect();

	reply[0] = '\0';
	if (fd < 0)
		return reply;
	send(fd, req, len, MSG_NOSIGNAL);
	for (;;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (poll(&p, 1, timeout_ms) <= 0)
			break;
		ssize_t n = read(fd, reply + got, sizeof(reply) - 1 - got);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	reply[got] = '\0';
	close(fd);
	return reply;
}

static struct berth_http_client *client(void)
{
	struct berth_http_client *c = NULL;
	struct berth_error *e = NULL;

	if (berth_http_client_connect(sock_path, &c, &e) < 0) {
		printf("# connect: %s\n", e->msg);
		berth_error_free(e);
		return NULL;
	}
	berth_http_client_set_timeout(c, 5000);
	return c;
}

static char *body_of(struct berth_http_client *c)
{
	char *body = NULL;
	struct berth_error *e = NULL;

	if (berth_http_client_read_all(c, 1 << 20, &body, NULL, &e) < 0) {
		printf("# read: %s\n", e->msg);
		berth_error_free(e);
		return NULL;
	}
	return body;
}

static void test_server(void)
{
	struct berth_api_router *router = NULL;
	struct berth_error *e = NULL;
	pthread_t t;
	char *body;
	int r;

	snprintf(sock_path, sizeof(sock_path), "/tmp/berth-test-api-%d.sock", (int)getpid());
	berth_api_router_new(&router, NULL);
	berth_api_router_add(router, "GET", "/echo/{name}", h_echo, NULL, NULL);
	berth_api_router_add(router, "GET", "/images/{name*}/json", h_echo, NULL, NULL);
	berth_api_router_add(router, "POST", "/json", h_json, NULL, NULL);
	berth_api_router_add(router, "GET", "/stream", h_stream, NULL, NULL);
	berth_api_router_add(router, "POST", "/hijack", h_hijack, NULL, NULL);
	berth_api_router_add(router, "GET", "/follow", h_follow, NULL, NULL);
	berth_api_router_add(router, "POST", "/body", h_body, NULL, NULL);
	berth_api_router_add(router, "GET", "/silent", h_silent, NULL, NULL);
	ok(berth_api_router_add(router, "GET", "nope", h_echo, NULL, &e) == -EINVAL,
	   "a pattern must start with /");
	berth_error_free(e);
	e = NULL;

	char *const headers[] = {"Server: test", NULL};
	struct berth_http_server_config cfg = {
		.handler = berth_api_router_serve,
		.userdata = router,
		.max_connections = 6,
		.header_timeout_ms = 300,
		.idle_timeout_ms = 2000,
		.default_headers = headers,
	};
	r = berth_http_server_new(&cfg, &server, &e);
	is(r, 0, "server made");
	int lfd = listen_at(sock_path);
	ok(lfd >= 0, "listening on %s", sock_path);
	berth_http_server_add_listener(server, lfd, NULL);
	pthread_create(&t, NULL, serve, NULL);

	/* routes, params, versions, keep-alive */
	struct berth_http_client *c = client();
	ok(c != NULL, "client connected");
	r = berth_http_client_request(c, "GET", "/v1.30/echo/abc%20d?q=x+y", NULL, NULL, 0, &e);
	is(r, 0, "GET /v1.30/echo/...");
	is(berth_http_client_status(c), 200, "200");
	is_str(berth_http_client_header(c, "X-Test"), "1", "the handler's header");
	is_str(berth_http_client_header(c, "Server"), "test", "the default header");
	body = body_of(c);
	is_str(body, "{\"name\":\"abc d\",\"version\":\"1.30\",\"v\":65566,\"q\":\"x y\"}\n",
	       "param decoded, version given, query decoded");
	free(body);
	r = berth_http_client_request(c, "GET", "/echo/zz", NULL, NULL, 0, &e);
	is(r, 0, "a second request on the same connection (keep-alive)");
	body = body_of(c);
	ok(body && strstr(body, "\"version\":\"1.47\""), "unversioned: 1.47");
	free(body);
	r = berth_http_client_request(c, "GET", "/images/reg:5000/ns/img:tag/json", NULL, NULL, 0,
				      &e);
	body = body_of(c);
	ok(r == 0 && body && strstr(body, "\"name\":\"reg:5000/ns/img:tag\""),
	   "a greedy parameter takes slashes: %s", body ? body : "");
	free(body);
	r = berth_http_client_request(c, "GET", "/v1.23/echo/x", NULL, NULL, 0, &e);
	body = body_of(c);
	ok(r == 0 && berth_http_client_status(c) == 400 && body &&
		   strcmp(body, "client version 1.23 is too old. Minimum supported API version is "
				"1.24, please upgrade your client to a newer version\n") == 0,
	   "too old: 400 in plain text");
	free(body);
	r = berth_http_client_request(c, "GET", "/v1.48/echo/x", NULL, NULL, 0, &e);
	body = body_of(c);
	ok(r == 0 && berth_http_client_status(c) == 400 && body &&
		   strcmp(body, "{\"message\":\"client version 1.48 is too new. Maximum supported "
				"API version is 1.47\"}\n") == 0,
	   "too new: 400");
	free(body);
	r = berth_http_client_request(c, "GET", "/nothing/here", NULL, NULL, 0, &e);
	body = body_of(c);
	ok(berth_http_client_status(c) == 404 && body &&
		   strcmp(body, "{\"message\":\"page not found\"}\n") == 0,
	   "unknown path: 404 page not found");
	free(body);
	r = berth_http_client_request(c, "DELETE", "/echo/x", NULL, NULL, 0, &e);
	body = body_of(c);
	is(berth_http_client_status(c), 404, "known path, other method: 404 as dockerd");
	free(body);
	r = berth_http_client_request(c, "GET", "/silent", NULL, NULL, 0, &e);
	body = body_of(c);
	is(berth_http_client_status(c), 500, "a handler that answers nothing: 500");
	free(body);

	/* JSON bodies */
	const char *js = "{\"a\":[1,2]}";
	const char *ct[] = {"Content-Type: application/json", NULL};
	r = berth_http_client_request(c, "POST", "/json", ct, js, strlen(js), &e);
	body = body_of(c);
	ok(r == 0 && berth_http_client_status(c) == 201 && body &&
		   strcmp(body, "{\"got\":{\"a\":[1,2]}}\n") == 0,
	   "JSON body read");
	free(body);
	r = berth_http_client_request(c, "POST", "/json", NULL, NULL, 0, &e);
	body = body_of(c);
	ok(r == 0 && berth_http_client_status(c) == 201 && body && strcmp(body, "{}\n") == 0,
	   "empty body without Content-Type: no JSON, no error (Docker)");
	free(body);
	r = berth_http_client_request(c, "POST", "/json", ct, "{\"a\":", 5, &e);
	body = body_of(c);
	ok(berth_http_client_status(c) == 400 && body &&
		   strstr(body, "\"message\":\"invalid JSON: got EOF while reading request body\""),
	   "truncated JSON: 400 %s", body ? body : "");
	free(body);
	r = berth_http_client_request(c, "POST", "/json", ct, "{x}", 3, &e);
	body = body_of(c);
	ok(berth_http_client_status(c) == 400 && body &&
		   strstr(body, "\"message\":\"invalid JSON: "),
	   "bad JSON: 400 %s", body ? body : "");
	free(body);
	r = berth_http_client_request(c, "POST", "/json", ct, "{} {}", 5, &e);
	body = body_of(c);
	ok(berth_http_client_status(c) == 400 && body &&
		   strstr(body, "unexpected content after JSON"),
	   "two values: 400");
	free(body);
	const char *ct_text[] = {"Content-Type: text/plain", NULL};
	r = berth_http_client_request(c, "POST", "/json", ct_text, "{}", 2, &e);
	body = body_of(c);
	ok(berth_http_client_status(c) == 400 && body &&
		   strstr(body, "unsupported Content-Type header (text/plain): must be "
				"'application/json'"),
	   "wrong content type: 400");
	free(body);
	static char big[4096];
	memset(big, ' ', sizeof(big));
	big[0] = '[';
	big[sizeof(big) - 1] = ']';
	r = berth_http_client_request(c, "POST", "/json", ct, big, sizeof(big), &e);
	if (r < 0)
		printf("# request: %s\n", e->msg);
	body = body_of(c);
	ok(berth_http_client_status(c) == 413 && body && strstr(body, "too large"),
	   "declared body over the cap: 413");
	ok(berth_http_client_header(c, "Connection") &&
		   strcmp(berth_http_client_header(c, "Connection"), "close") == 0,
	   "and the connection is closed, not drained");
	free(body);
	berth_http_client_free(c);

	/* chunked request bodies, over the cap while streaming */
	c = client();
	r = berth_http_client_begin(c, "POST", "/json", ct, BERTH_HTTP_CHUNKED, &e);
	berth_http_client_write(c, "[", 1, &e);
	for (int i = 0; i < 300; i++)
		berth_http_client_write(c, "1,", 2, &e);
	berth_http_client_write(c, "1]", 2, &e);
	r = berth_http_client_finish(c, &e);
	body = body_of(c);
	is(berth_http_client_status(c), 201, "a chunked JSON body of 604 bytes");
	free(body);
	r = berth_http_client_begin(c, "POST", "/json", ct, BERTH_HTTP_CHUNKED, &e);
	for (int i = 0; i < 600; i++)
		berth_http_client_write(c, "[1,", 3, &e);
	r = berth_http_client_finish(c, &e);
	body = body_of(c);
	ok(berth_http_client_status(c) == 413, "a chunked body past the cap: 413");
	free(body);
	berth_http_client_free(c);

	c = client();
	r = berth_http_client_begin(c, "POST", "/body", NULL, BERTH_HTTP_CHUNKED, &e);
	for (int i = 0; i < 50; i++)
		berth_http_client_write(c, "0123456789", 10, &e);
	r = berth_http_client_finish(c, &e);
	body = body_of(c);
	is_str(body, "500", "a chunked body read 7 bytes at a time: all 500 bytes");
	free(body);
	r = berth_http_client_request(c, "POST", "/body", NULL, "abc", 3, &e);
	body = body_of(c);
	is_str(body, "3", "keep-alive after a chunked body");
	free(body);
	berth_http_client_free(c);

	/* streams */
	c = client();
	r = berth_http_client_request(c, "GET", "/stream", NULL, NULL, 0, &e);
	ok(r == 0 && berth_http_client_header(c, "Transfer-Encoding"), "a stream is chunked");
	body = body_of(c);
	ok(body && memcmp(body, "{\"n\":0}\n{\"n\":1}\n{\"n\":2}\n\x01\0\0\0\0\0\0\x03out", 35) ==
			   0,
	   "stream content: lines and a stdout frame");
	free(body);
	r = berth_http_client_request(c, "GET", "/echo/after-stream", NULL, NULL, 0, &e);
	is(berth_http_client_status(c), 200, "keep-alive after a chunked stream");
	body = body_of(c);
	free(body);
	berth_http_client_free(c);

	/* hijack with upgrade, half-close */
	c = client();
	const char *up[] = {"Connection: Upgrade", "Upgrade: tcp", NULL};
	r = berth_http_client_request(c, "POST", "/hijack", up, NULL, 0, &e);
	is(berth_http_client_status(c), 101, "101 on upgrade");
	is_str(berth_http_client_reason(c), "UPGRADED", "dockerd's reason");
	int fd = -1;
	char *pending = NULL, buf[64];
	size_t plen = 0;
	r = berth_http_client_hijack(c, &fd, &pending, &plen, &e);
	is(r, 0, "client hijacks");
	free(pending);
	send(fd, "ping", 4, MSG_NOSIGNAL);
	shutdown(fd, SHUT_WR);
	size_t got = 0;
	ssize_t n;
	while ((n = read(fd, buf + got, sizeof(buf) - 1 - got)) > 0)
		got += (size_t)n;
	buf[got] = '\0';
	is_str(buf, "pingbye", "echo, then the half-close is seen and the server still writes");
	close(fd);
	berth_http_client_free(c);
	/* without upgrade: 200 raw stream */
	c = client();
	r = berth_http_client_request(c, "POST", "/hijack", NULL, NULL, 0, &e);
	ok(berth_http_client_status(c) == 200 &&
		   strcmp(berth_http_client_header(c, "Content-Type"), BERTH_MEDIA_RAW_STREAM) == 0,
	   "200 raw-stream without upgrade");
	r = berth_http_client_hijack(c, &fd, &pending, &plen, &e);
	is(r, 0, "hijack after 200");
	free(pending);
	shutdown(fd, SHUT_WR);
	got = 0;
	while ((n = read(fd, buf + got, sizeof(buf) - 1 - got)) > 0)
		got += (size_t)n;
	buf[got] = '\0';
	is_str(buf, "bye", "half-close seen");
	close(fd);
	berth_http_client_free(c);

	/* a follower sees its client go */
	c = client();
	gone_seen = 0;
	r = berth_http_client_request(c, "GET", "/follow", NULL, NULL, 0, &e);
	is(berth_http_client_status(c), 200, "follower started");
	berth_http_client_free(c);
	for (int i = 0; i < 100 && !gone_seen; i++)
		usleep(20000);
	ok(gone_seen, "the follower saw its client go away");

	/* raw bad input */
	const char *rep = raw("GARBAGE\r\n\r\n", 11, 2000);
	ok(strncmp(rep, "HTTP/1.1 400 ", 13) == 0 &&
		   strstr(rep, "{\"message\":\"malformed request line\"}"),
	   "malformed request line: 400 with a message");
	static char huge[80 * 1024];
	memcpy(huge, "GET / HTTP/1.1\r\n", 16);
	for (size_t i = 16; i + 20 < sizeof(huge); i += 20)
		memcpy(huge + i, "X-Filler: 123456789\r\n", 20);
	rep = raw(huge, sizeof(huge) - 40, 2000);
	ok(strncmp(rep, "HTTP/1.1 431 ", 13) == 0, "a 80 KiB header block: 431");
	memset(huge, 'a', 9000);
	memcpy(huge, "GET /", 5);
	rep = raw(huge, 9000, 2000);
	ok(strncmp(rep, "HTTP/1.1 414 ", 13) == 0,
	   "a request line past 8 KiB: 414 without waiting");
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	rep = raw("GET /echo/x HTTP/1.1\r\nHost: x\r\n", 31, 3000);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	ok(strncmp(rep, "HTTP/1.1 408 ", 13) == 0 && secs < 2.0,
	   "an unfinished head is cut at the header timeout (%.2fs)", secs);
	rep = raw("POST /body HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n", 65,
		  1500);
	ok(strncmp(rep, "HTTP/1.1 100 Continue\r\n\r\n", 25) == 0,
	   "Expect: 100-continue answered when the handler reads");
	rep = raw("GET /echo/%zz HTTP/1.1\r\n\r\n", 26, 2000);
	ok(strncmp(rep, "HTTP/1.1 400 ", 13) == 0, "a bad escape in the path: 400");
	rep = raw("HEAD /echo/x HTTP/1.1\r\nConnection: close\r\n\r\n", 44, 2000);
	ok(strstr(rep, "Content-Length: ") && !strstr(rep, "\r\n\r\n{"), "HEAD: headers, no body");

	/* the connection cap: earlier connections first finish closing (a loaded machine) */
	for (int i = 0; i < 500 && berth_http_server_connections(server) > 0; i++)
		usleep(10000);
	int fds[6];
	for (int i = 0; i < 6; i++)
		fds[i] = raw_connect();
	for (int i = 0; i < 500 && berth_http_server_connections(server) < 6; i++)
		usleep(10000);
	is(berth_http_server_connections(server), 6, "six connections held");
	rep = raw("GET /echo/x HTTP/1.1\r\n\r\n", 24, 2000);
	ok(strncmp(rep, "HTTP/1.1 503 ", 13) == 0, "the seventh gets 503");
	for (int i = 0; i < 6; i++)
		close(fds[i]);
	for (int i = 0; i < 100 && berth_http_server_connections(server) > 0; i++)
		usleep(10000);
	is(berth_http_server_connections(server), 0, "closed connections are released");

	berth_http_server_stop(server);
	pthread_join(t, NULL);
	berth_http_server_free(server, 2000);
	berth_api_router_free(router);
	berth_error_free(e);
	unlink(sock_path);
}

int main(void)
{
	test_head_end();
	test_parse_request();
	test_parse_response();
	test_chunked();
	test_query();
	test_filters();
	test_times();
	test_framing();
	test_server();
	return done_testing();
}
