/* SPDX-License-Identifier: Apache-2.0 */
/*
 * HTTP/1.1 message heads (RFC 9112) for the server and the client: strict where leniency lets
 * one message be read two ways (obs-fold, a space before the colon, Content-Length together with
 * Transfer-Encoding, two different lengths), lenient where it costs nothing (bare LF line ends,
 * as Go's net/http accepts them).  Parsing is in place: the strings of struct http_head point
 * into the caller's buffer.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "http-internal.h"
#include "base/banned.h"

size_t http_head_end(const char *buf, size_t len, size_t *scan)
{
	size_t start = 0, i;

	/* Empty lines before a request line are allowed (RFC 9112 2.2): not the end of a head. */
	while (start < len && (buf[start] == '\r' || buf[start] == '\n'))
		start++;
	i = *scan > start ? *scan : start;
	for (; i < len; i++) {
		if (buf[i] != '\n')
			continue;
		if (i + 1 < len && buf[i + 1] == '\n')
			return i + 2;
		if (i + 2 < len && buf[i + 1] == '\r' && buf[i + 2] == '\n')
			return i + 3;
	}
	/* Resume a little before the end: the terminator may be split across reads. */
	*scan = len > 3 ? len - 3 : 0;
	return 0;
}

static bool is_tchar(unsigned char c)
{
	return isalnum(c) || (c && strchr("!#$%&'*+-.^_`|~", c));
}

static bool is_token(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!is_tchar((unsigned char)*s))
			return false;
	return true;
}

bool http_token_list_has(const char *value, const char *token)
{
	size_t tlen = strlen(token);
	const char *p = value;

	while (p && *p) {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		const char *e = p;
		while (*e && *e != ',')
			e++;
		const char *t = e;
		while (t > p && (t[-1] == ' ' || t[-1] == '\t'))
			t--;
		if ((size_t)(t - p) == tlen && strncasecmp(p, token, tlen) == 0)
			return true;
		p = e;
	}
	return false;
}

const char *http_head_get(const struct http_head *h, const char *name)
{
	for (size_t i = 0; i < h->n_headers; i++)
		if (strcasecmp(h->headers[i].name, name) == 0)
			return h->headers[i].value;
	return NULL;
}

static int fail(struct berth_error **err, int *ret_status, int status, const char *msg)
{
	*ret_status = status;
	return berth_error_set(err, status == 431 || status == 414 ? E2BIG : EBADMSG, "%s", msg);
}

/* Next line of [*p, end): NUL-terminated in place, CR stripped; NULL at end. */
static char *next_line(char **p, char *end, size_t *ret_len, bool *bare_cr)
{
	char *s = *p, *nl;

	if (s >= end)
		return NULL;
	nl = memchr(s, '\n', (size_t)(end - s));
	if (!nl)
		nl = end;
	*p = nl < end ? nl + 1 : end;
	if (nl > s && nl[-1] == '\r')
		nl--;
	*nl = '\0';
	*ret_len = (size_t)(nl - s);
	*bare_cr = memchr(s, '\r', *ret_len) != NULL;
	return s;
}

static int parse_version(const char *v, int *ret_minor, int *ret_status)
{
	if (strncmp(v, "HTTP/", 5) != 0 || !isdigit((unsigned char)v[5]) || v[6] != '.' ||
	    !isdigit((unsigned char)v[7]) || v[8]) {
		*ret_status = 400;
		return -EINVAL;
	}
	if (v[5] != '1') {
		*ret_status = 505;
		return -EINVAL;
	}
	*ret_minor = v[7] - '0';
	return 0;
}

static int parse_request_line(char *line, struct http_head *h, int *ret_status,
			      struct berth_error **err)
{
	char *sp1 = strchr(line, ' '), *sp2;

	if (!sp1)
		return fail(err, ret_status, 400, "malformed request line");
	*sp1 = '\0';
	sp2 = strchr(sp1 + 1, ' ');
	if (!sp2)
		return fail(err, ret_status, 400, "malformed request line");
	*sp2 = '\0';
	h->method = line;
	h->target = sp1 + 1;
	if (!is_token(h->method))
		return fail(err, ret_status, 400, "malformed request line: bad method");
	if (h->target[0] != '/')
		return fail(err, ret_status, 400, "malformed request line: bad request target");
	for (const char *t = h->target; *t; t++)
		if ((unsigned char)*t <= ' ' || *t == 0x7f)
			return fail(err, ret_status, 400,
				    "malformed request line: bad request target");
	if (parse_version(sp2 + 1, &h->minor_version, ret_status) < 0)
		return fail(err, ret_status, *ret_status,
			    *ret_status == 505 ? "HTTP version not supported"
					       : "malformed request line: bad HTTP version");
	return 0;
}

static int parse_status_line(char *line, struct http_head *h, int *ret_status,
			     struct berth_error **err)
{
	char *sp = strchr(line, ' ');

	if (!sp)
		return fail(err, ret_status, 400, "malformed status line");
	*sp = '\0';
	if (parse_version(line, &h->minor_version, ret_status) < 0)
		return fail(err, ret_status, 400, "malformed status line: bad HTTP version");
	const char *code = sp + 1;
	if (!isdigit((unsigned char)code[0]) || !isdigit((unsigned char)code[1]) ||
	    !isdigit((unsigned char)code[2]) || (code[3] && code[3] != ' '))
		return fail(err, ret_status, 400, "malformed status line: bad status code");
	h->status = (code[0] - '0') * 100 + (code[1] - '0') * 10 + (code[2] - '0');
	h->reason = code[3] ? code + 4 : "";
	return 0;
}

static int parse_header_line(char *line, struct http_head *h, int *ret_status,
			     struct berth_error **err)
{
	char *colon, *v, *e;

	if (line[0] == ' ' || line[0] == '\t')
		return fail(err, ret_status, 400, "malformed header: line folding is not allowed");
	colon = strchr(line, ':');
	if (!colon)
		return fail(err, ret_status, 400, "malformed header: no colon");
	*colon = '\0';
	if (!is_token(line))
		return fail(err, ret_status, 400, "malformed header: bad field name");
	v = colon + 1;
	while (*v == ' ' || *v == '\t')
		v++;
	e = v + strlen(v);
	while (e > v && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	*e = '\0';
	for (const char *c = v; *c; c++)
		if (((unsigned char)*c < ' ' && *c != '\t') || *c == 0x7f)
			return fail(err, ret_status, 400, "malformed header: control character");
	if (h->n_headers >= BERTH_HTTP_MAX_HEADERS)
		return fail(err, ret_status, 431, "too many header fields");
	h->headers[h->n_headers].name = line;
	h->headers[h->n_headers].value = v;
	h->n_headers++;
	return 0;
}

static int parse_length(const char *v, int64_t *ret)
{
	int64_t n = 0;

	if (!*v)
		return -EINVAL;
	for (; *v; v++) {
		if (!isdigit((unsigned char)*v))
			return -EINVAL;
		if (n > (INT64_MAX - 9) / 10)
			return -ERANGE;
		n = n * 10 + (*v - '0');
	}
	*ret = n;
	return 0;
}

/* What the headers say about the body and the connection. */
static int interpret(struct http_head *h, bool request, int *ret_status, struct berth_error **err)
{
	bool close = false, keep = false, conn_upgrade = false, te = false;

	h->content_length = -1;
	for (size_t i = 0; i < h->n_headers; i++) {
		const char *n = h->headers[i].name, *v = h->headers[i].value;

		if (strcasecmp(n, "Content-Length") == 0) {
			int64_t len;
			if (parse_length(v, &len) < 0)
				return fail(err, ret_status, 400, "bad Content-Length");
			if (h->content_length >= 0 && h->content_length != len)
				return fail(err, ret_status, 400,
					    "conflicting Content-Length headers");
			h->content_length = len;
		} else if (strcasecmp(n, "Transfer-Encoding") == 0) {
			if (te || strcasecmp(v, "chunked") != 0) {
				*ret_status = 501;
				return berth_error_set(err, EOPNOTSUPP,
						       "unsupported transfer encoding: \"%s\"", v);
			}
			te = true;
		} else if (strcasecmp(n, "Connection") == 0) {
			close |= http_token_list_has(v, "close");
			keep |= http_token_list_has(v, "keep-alive");
			conn_upgrade |= http_token_list_has(v, "upgrade");
		} else if (request && strcasecmp(n, "Expect") == 0) {
			if (strcasecmp(v, "100-continue") != 0) {
				*ret_status = 417;
				return berth_error_set(err, EINVAL, "unsupported Expect: \"%s\"",
						       v);
			}
			h->expect_continue = true;
		}
	}
	if (te && h->content_length >= 0)
		return fail(err, ret_status, 400,
			    "both Transfer-Encoding and Content-Length are given");
	h->chunked = te;
	h->keep_alive = h->minor_version >= 1 ? !close : (keep && !close);
	if (conn_upgrade) {
		const char *up = http_head_get(h, "Upgrade");
		h->upgrade_tcp = up && http_token_list_has(up, "tcp");
	}
	return 0;
}

int http_parse_head(char *buf, size_t len, bool request, struct http_head *h, int *ret_status,
		    struct berth_error **err)
{
	char *p = buf, *end = buf + len, *line;
	size_t llen;
	bool bare_cr;
	int r;

	memset(h, 0, sizeof(*h));
	*ret_status = 400;
	while (p < end && (*p == '\r' || *p == '\n'))
		p++;
	line = next_line(&p, end, &llen, &bare_cr);
	if (!line || !llen)
		return fail(err, ret_status, 400,
			    request ? "malformed request line" : "malformed status line");
	if (llen > BERTH_HTTP_MAX_LINE)
		return fail(err, ret_status, request ? 414 : 400, "request line too long");
	if (bare_cr)
		return fail(err, ret_status, 400, "malformed request line");
	r = request ? parse_request_line(line, h, ret_status, err)
		    : parse_status_line(line, h, ret_status, err);
	if (r < 0)
		return r;
	while ((line = next_line(&p, end, &llen, &bare_cr))) {
		if (!llen)
			break;
		if (llen > BERTH_HTTP_MAX_LINE)
			return fail(err, ret_status, 431, "header field too large");
		if (bare_cr)
			return fail(err, ret_status, 400, "malformed header: bare CR");
		r = parse_header_line(line, h, ret_status, err);
		if (r < 0)
			return r;
	}
	if (!line)
		return fail(err, ret_status, 400, "incomplete header block");
	return interpret(h, request, ret_status, err);
}

/* ---- chunked ----------------------------------------------------------------------------- */

#define CHUNK_MAX_EXT	  4096
#define CHUNK_MAX_TRAILER 8192

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)tolower((unsigned char)c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int http_chunked_feed(struct http_chunked *c, const char *in, size_t len, size_t max_data,
		      size_t *ret_consumed, size_t *ret_data_off, size_t *ret_data_len)
{
	size_t i = 0;

	*ret_data_off = 0;
	*ret_data_len = 0;
	while (i < len) {
		char ch = in[i];

		switch (c->state) {
		case CHUNK_SIZE: {
			int v = hexval(ch);
			if (v >= 0) {
				if (++c->digits > 15)
					return -EBADMSG; /* 2^60 bytes is enough for one chunk */
				c->remaining = c->remaining * 16 + (uint64_t)v;
				i++;
				break;
			}
			if (!c->digits)
				return -EBADMSG;
			if (ch == ';' || ch == ' ' || ch == '\t') {
				c->state = CHUNK_EXT;
				c->line_len = 0;
			} else if (ch == '\r') {
				c->state = CHUNK_SIZE_LF;
			} else if (ch == '\n') {
				c->state = CHUNK_SIZE_LF;
				continue; /* handled there */
			} else {
				return -EBADMSG;
			}
			i++;
			break;
		}
		case CHUNK_EXT:
			if (ch == '\r' || ch == '\n') {
				c->state = CHUNK_SIZE_LF;
				if (ch == '\n')
					continue;
			} else if (++c->line_len > CHUNK_MAX_EXT) {
				return -EBADMSG;
			}
			i++;
			break;
		case CHUNK_SIZE_LF:
			if (ch != '\n')
				return -EBADMSG;
			i++;
			c->digits = 0;
			if (c->remaining == 0) {
				c->state = CHUNK_TRAILER_START;
				c->trailer_len = 0;
			} else {
				c->state = CHUNK_DATA;
			}
			break;
		case CHUNK_DATA: {
			size_t n = len - i;
			if (n > c->remaining)
				n = (size_t)c->remaining;
			if (n > max_data)
				n = max_data;
			if (n == 0) {
				*ret_consumed = i;
				return 0;
			}
			c->remaining -= n;
			if (c->remaining == 0)
				c->state = CHUNK_DATA_CR;
			*ret_data_off = i;
			*ret_data_len = n;
			*ret_consumed = i + n;
			return 0;
		}
		case CHUNK_DATA_CR:
			if (ch == '\r') {
				c->state = CHUNK_DATA_LF;
				i++;
			} else if (ch == '\n') {
				c->state = CHUNK_SIZE;
				i++;
			} else {
				return -EBADMSG;
			}
			break;
		case CHUNK_DATA_LF:
			if (ch != '\n')
				return -EBADMSG;
			c->state = CHUNK_SIZE;
			i++;
			break;
		case CHUNK_TRAILER_START:
			/* An empty line ends the body; anything else is a trailer field. */
			if (ch == '\r') {
				c->state = CHUNK_END_LF;
			} else if (ch == '\n') {
				c->state = CHUNK_DONE;
				*ret_consumed = i + 1;
				return 1;
			} else {
				c->state = CHUNK_TRAILER_LINE;
				continue;
			}
			i++;
			break;
		case CHUNK_TRAILER_LINE:
			if (++c->trailer_len > CHUNK_MAX_TRAILER)
				return -EBADMSG;
			if (ch == '\n')
				c->state = CHUNK_TRAILER_START;
			i++;
			break;
		case CHUNK_TRAILER_LF:
		case CHUNK_END_LF:
			if (ch != '\n')
				return -EBADMSG;
			c->state = CHUNK_DONE;
			*ret_consumed = i + 1;
			return 1;
		case CHUNK_DONE:
			*ret_consumed = i;
			return 1;
		}
	}
	*ret_consumed = i;
	return c->state == CHUNK_DONE ? 1 : 0;
}

/* ---- query strings ----------------------------------------------------------------------- */

int http_unescape(const char *s, size_t len, bool plus, char **ret)
{
	char *out = malloc(len + 1), *o = out;

	if (!out)
		return -ENOMEM;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '%') {
			int hi, lo;
			if (i + 2 >= len) {
				free(out);
				return -EINVAL;
			}
			hi = hexval(s[i + 1]);
			lo = hexval(s[i + 2]);
			if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
				free(out);
				return -EINVAL;
			}
			*o++ = (char)(hi * 16 + lo);
			i += 2;
		} else if (plus && s[i] == '+') {
			*o++ = ' ';
		} else {
			*o++ = s[i];
		}
	}
	*o = '\0';
	*ret = out;
	return 0;
}

ssize_t http_query_find(const struct http_query *q, const char *key)
{
	for (size_t i = 0; i < q->n; i++)
		if (strcmp(q->keys[i], key) == 0)
			return (ssize_t)i;
	return -1;
}

void http_query_release(struct http_query *q)
{
	for (size_t i = 0; i < q->n; i++) {
		free(q->keys[i]);
		berth_strv_free(q->values[i]);
	}
	free(q->keys);
	free(q->values);
	memset(q, 0, sizeof(*q));
}

static int query_add(struct http_query *q, char *key, const char *value)
{
	ssize_t i = http_query_find(q, key);

	if (i < 0) {
		char **nk = realloc(q->keys, (q->n + 1) * sizeof(*nk));
		if (!nk) {
			free(key);
			return -ENOMEM;
		}
		q->keys = nk;
		char ***nv = realloc(q->values, (q->n + 1) * sizeof(*nv));
		if (!nv) {
			free(key);
			return -ENOMEM;
		}
		q->values = nv;
		q->keys[q->n] = key;
		q->values[q->n] = NULL;
		i = (ssize_t)q->n++;
	} else {
		free(key);
	}
	return berth_strv_push(&q->values[i], value);
}

int http_query_parse(const char *query, struct http_query *q)
{
	const char *p = query;

	memset(q, 0, sizeof(*q));
	while (p && *p) {
		const char *amp = strchr(p, '&'), *end = amp ? amp : p + strlen(p);
		const char *eq = memchr(p, '=', (size_t)(end - p));
		char *key = NULL;
		_cleanup_free_ char *value = NULL;
		int r;

		if (end == p) {
			p = amp ? amp + 1 : end;
			continue;
		}
		r = http_unescape(p, (size_t)((eq ? eq : end) - p), true, &key);
		if (r == 0 && eq)
			r = http_unescape(eq + 1, (size_t)(end - eq - 1), true, &value);
		if (r < 0) {
			free(key);
			http_query_release(q);
			return r;
		}
		r = query_add(q, key, value ? value : "");
		if (r < 0) {
			http_query_release(q);
			return r;
		}
		p = amp ? amp + 1 : end;
	}
	return 0;
}

void http_date(char *buf, size_t len)
{
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	strftime(buf, len, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}
