/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A faster reader of berthd's JSON answers into jansson values (json-load.h).  jansson's own
 * loader reads a byte at a time through a stream with a growing buffer: for the 40 KB of a ps
 * with 50 containers that was two thirds of the CLI's instructions.  This one scans spans with
 * plain loops and hands jansson the finished strings; it accepts exactly what jansson accepts
 * (RFC 8259, strict UTF-8, no NUL in strings, integers that fit in json_int_t) and, on anything
 * else, gives up so that the caller's json_loadb() can say what is wrong in its own words.
 */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "json-load.h"
#include "base/banned.h"

/* below jansson's JSON_PARSER_MAX_DEPTH (2048): deeper documents go to jansson */
#define MAX_DEPTH 512

struct reader {
	const unsigned char *p, *end;
	int depth;
	char *scratch; /* decoded strings with escapes */
	size_t cap;
};

static json_t *read_value(struct reader *r);

static void skip_ws(struct reader *r)
{
	while (r->p < r->end && (*r->p == ' ' || *r->p == '\n' || *r->p == '\r' || *r->p == '\t'))
		r->p++;
}

/* Length of the valid UTF-8 sequence at p (first byte >= 0x80), 0 when invalid (jansson's
 * rules: no overlong forms, no surrogates, nothing past U+10FFFF). */
static size_t utf8_len(const unsigned char *p, const unsigned char *end)
{
	unsigned c = p[0], n, v;

	if (c >= 0xC2 && c <= 0xDF)
		n = 2, v = c & 0x1F;
	else if (c >= 0xE0 && c <= 0xEF)
		n = 3, v = c & 0x0F;
	else if (c >= 0xF0 && c <= 0xF4)
		n = 4, v = c & 0x07;
	else
		return 0;
	if ((size_t)(end - p) < n)
		return 0;
	for (unsigned i = 1; i < n; i++) {
		if ((p[i] & 0xC0) != 0x80)
			return 0;
		v = (v << 6) | (p[i] & 0x3F);
	}
	if ((n == 3 && (v < 0x800 || (v >= 0xD800 && v <= 0xDFFF))) ||
	    (n == 4 && (v < 0x10000 || v > 0x10FFFF)))
		return 0;
	return n;
}

static int hex4(const unsigned char *p, const unsigned char *end, unsigned *ret)
{
	unsigned v = 0;

	if (end - p < 4)
		return -1;
	for (int i = 0; i < 4; i++) {
		unsigned c = p[i];
		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= c - '0';
		else if (c >= 'a' && c <= 'f')
			v |= c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v |= c - 'A' + 10;
		else
			return -1;
	}
	*ret = v;
	return 0;
}

static int scratch_put(struct reader *r, size_t *len, const void *s, size_t n)
{
	if (n == 0) /* nothing to copy; the buffer may not exist yet (memcpy wants it) */
		return 0;
	if (*len + n > r->cap) {
		size_t cap = r->cap ? r->cap : 256;
		while (cap < *len + n)
			cap *= 2;
		char *p = realloc(r->scratch, cap);
		if (!p)
			return -1;
		r->scratch = p;
		r->cap = cap;
	}
	memcpy(r->scratch + *len, s, n);
	*len += n;
	return 0;
}

static int put_code_point(struct reader *r, size_t *len, unsigned cp)
{
	unsigned char b[4];
	size_t n;

	if (cp < 0x80) {
		b[0] = (unsigned char)cp, n = 1;
	} else if (cp < 0x800) {
		b[0] = (unsigned char)(0xC0 | (cp >> 6));
		b[1] = (unsigned char)(0x80 | (cp & 0x3F)), n = 2;
	} else if (cp < 0x10000) {
		b[0] = (unsigned char)(0xE0 | (cp >> 12));
		b[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
		b[2] = (unsigned char)(0x80 | (cp & 0x3F)), n = 3;
	} else {
		b[0] = (unsigned char)(0xF0 | (cp >> 18));
		b[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
		b[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
		b[3] = (unsigned char)(0x80 | (cp & 0x3F)), n = 4;
	}
	return scratch_put(r, len, b, n);
}

/* the one-character escapes */
static const char unescape[128] = {
	['"'] = '"',  ['\\'] = '\\', ['/'] = '/',  ['b'] = '\b',
	['f'] = '\f', ['n'] = '\n',  ['r'] = '\r', ['t'] = '\t',
};

/*
 * The string at r->p (its opening quote): *ret points at its text, either in the input (no
 * escapes) or in r->scratch, *ret_len its length.  -1 on anything jansson refuses.
 */
static int read_string(struct reader *r, const char **ret, size_t *ret_len)
{
	const unsigned char *p = r->p + 1, *start = p;
	size_t len = 0;
	bool escaped = false;

	for (;;) {
		/* a run of plain bytes */
		const unsigned char *run = p;
		while (p < r->end && *p >= 0x20 && *p != '"' && *p != '\\' && *p < 0x80)
			p++;
		if (p >= r->end)
			return -1;
		if (*p >= 0x80) {
			size_t n = utf8_len(p, r->end);
			if (!n)
				return -1;
			p += n;
			if (escaped && scratch_put(r, &len, run, (size_t)(p - run)) < 0)
				return -1;
			continue;
		}
		if (escaped && p > run && scratch_put(r, &len, run, (size_t)(p - run)) < 0)
			return -1;
		if (*p == '"')
			break;
		if (*p < 0x20)
			return -1; /* a control character */
		/* an escape: from here on the text is built in the scratch buffer */
		if (!escaped) {
			escaped = true;
			if (scratch_put(r, &len, start, (size_t)(p - start)) < 0)
				return -1;
		}
		if (p + 1 >= r->end)
			return -1;
		unsigned char e = p[1];
		if (e < sizeof(unescape) && unescape[e]) {
			if (scratch_put(r, &len, &unescape[e], 1) < 0)
				return -1;
			p += 2;
			continue;
		}
		if (e != 'u')
			return -1;
		unsigned cp, lo;
		if (hex4(p + 2, r->end, &cp) < 0)
			return -1;
		p += 6;
		if (cp >= 0xDC00 && cp <= 0xDFFF)
			return -1; /* a lone low surrogate */
		if (cp >= 0xD800 && cp <= 0xDBFF) {
			if (r->end - p < 6 || p[0] != '\\' || p[1] != 'u' ||
			    hex4(p + 2, r->end, &lo) < 0 || lo < 0xDC00 || lo > 0xDFFF)
				return -1;
			p += 6;
			cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
		}
		if (cp == 0)
			return -1; /* jansson refuses NUL without JSON_ALLOW_NUL */
		if (put_code_point(r, &len, cp) < 0)
			return -1;
	}
	*ret = escaped ? r->scratch : (const char *)start;
	*ret_len = escaped ? len : (size_t)(p - start);
	r->p = p + 1;
	return 0;
}

/* -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?: an integer without fraction and exponent */
static json_t *read_number(struct reader *r)
{
	const unsigned char *p = r->p, *start = p;
	bool real = false;
	char buf[64];

	if (p < r->end && *p == '-')
		p++;
	if (p >= r->end || *p < '0' || *p > '9')
		return NULL;
	if (*p == '0') {
		p++;
		if (p < r->end && *p >= '0' && *p <= '9')
			return NULL;
	} else {
		while (p < r->end && *p >= '0' && *p <= '9')
			p++;
	}
	if (p < r->end && *p == '.') {
		real = true;
		p++;
		if (p >= r->end || *p < '0' || *p > '9')
			return NULL;
		while (p < r->end && *p >= '0' && *p <= '9')
			p++;
	}
	if (p < r->end && (*p == 'e' || *p == 'E')) {
		real = true;
		p++;
		if (p < r->end && (*p == '+' || *p == '-'))
			p++;
		if (p >= r->end || *p < '0' || *p > '9')
			return NULL;
		while (p < r->end && *p >= '0' && *p <= '9')
			p++;
	}
	size_t n = (size_t)(p - start);
	if (n >= sizeof(buf))
		return NULL; /* long numbers are rare: jansson reads them */
	memcpy(buf, start, n);
	buf[n] = '\0';
	r->p = p;
	errno = 0;
	if (!real) {
		long long v = strtoll(buf, NULL, 10);
		return errno == ERANGE ? NULL : json_integer((json_int_t)v);
	}
	double d = strtod(buf, NULL);
	if (errno == ERANGE && (d == HUGE_VAL || d == -HUGE_VAL))
		return NULL; /* jansson: "real number overflow" */
	return json_real(d);
}

static bool literal(struct reader *r, const char *word, size_t n)
{
	if ((size_t)(r->end - r->p) < n || memcmp(r->p, word, n) != 0)
		return false;
	r->p += n;
	return true;
}

static json_t *read_object(struct reader *r)
{
	json_t *o = json_object();

	r->p++;
	skip_ws(r);
	if (r->p < r->end && *r->p == '}') {
		r->p++;
		return o;
	}
	while (o) {
		const char *key;
		size_t klen;
		if (r->p >= r->end || *r->p != '"' || read_string(r, &key, &klen) < 0)
			break;
		/* a key decoded in the scratch buffer is copied: the value's strings reuse it */
		char kbuf[128], *k = (char *)key;
		if (key == r->scratch) {
			k = klen < sizeof(kbuf) ? kbuf : malloc(klen);
			if (!k)
				break;
			memcpy(k, key, klen);
		}
		skip_ws(r);
		json_t *v = NULL;
		if (r->p < r->end && *r->p == ':') {
			r->p++;
			v = read_value(r);
		}
		int bad = !v || json_object_setn_new_nocheck(o, k, klen, v) < 0;
		if (k != key && k != kbuf)
			free(k);
		if (bad)
			break;
		skip_ws(r);
		if (r->p < r->end && *r->p == ',') {
			r->p++;
			skip_ws(r);
			continue;
		}
		if (r->p < r->end && *r->p == '}') {
			r->p++;
			return o;
		}
		break;
	}
	json_decref(o);
	return NULL;
}

static json_t *read_array(struct reader *r)
{
	json_t *a = json_array();

	r->p++;
	skip_ws(r);
	if (r->p < r->end && *r->p == ']') {
		r->p++;
		return a;
	}
	while (a) {
		json_t *v = read_value(r);
		if (!v || json_array_append_new(a, v) < 0)
			break;
		skip_ws(r);
		if (r->p < r->end && *r->p == ',') {
			r->p++;
			continue;
		}
		if (r->p < r->end && *r->p == ']') {
			r->p++;
			return a;
		}
		break;
	}
	json_decref(a);
	return NULL;
}

static json_t *read_value(struct reader *r)
{
	json_t *v = NULL;
	const char *s;
	size_t n;

	skip_ws(r);
	if (r->p >= r->end)
		return NULL;
	switch (*r->p) {
	case '{':
	case '[':
		if (++r->depth > MAX_DEPTH)
			return NULL;
		v = *r->p == '{' ? read_object(r) : read_array(r);
		r->depth--;
		return v;
	case '"':
		return read_string(r, &s, &n) < 0 ? NULL : json_stringn_nocheck(s, n);
	case 't':
		return literal(r, "true", 4) ? json_true() : NULL;
	case 'f':
		return literal(r, "false", 5) ? json_false() : NULL;
	case 'n':
		return literal(r, "null", 4) ? json_null() : NULL;
	default:
		return read_number(r);
	}
}

json_t *cli_json_load(const char *buf, size_t len)
{
	struct reader r = {.p = (const unsigned char *)buf,
			   .end = (const unsigned char *)buf + len};
	json_t *v = read_value(&r);

	skip_ws(&r);
	if (v && r.p != r.end) {
		json_decref(v);
		v = NULL;
	}
	free(r.scratch);
	return v;
}
