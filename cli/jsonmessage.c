/* SPDX-License-Identifier: Apache-2.0 */
/*
 * docker's jsonmessage rendering (see jsonmessage.h): Go's json.Decoder over the stream (values
 * one after the other, whitespace between), DisplayJSONMessagesStream's per-id terminal lines,
 * JSONMessage.Display, JSONProgress.String.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "jsonmessage.h"
#include "units.h"
#include "base/banned.h"

void jsonmsg_init(struct jsonmsg *m, bool terminal,
		  void (*write)(void *data, const char *s, size_t n), void *data)
{
	memset(m, 0, sizeof(*m));
	m->terminal = terminal;
	m->write = write;
	m->data = data;
}

static void forget_ids(struct jsonmsg *m)
{
	for (size_t i = 0; i < m->n_ids; i++)
		free(m->ids[i].id);
	free(m->ids);
	m->ids = NULL;
	m->n_ids = 0;
}

void jsonmsg_release(struct jsonmsg *m)
{
	forget_ids(m);
	sbuf_release(&m->in);
	free(m->error);
	m->error = NULL;
}

static int fail(struct jsonmsg *m, char *msg)
{
	free(m->error);
	m->error = msg;
	return -1;
}

/* ---- JSONProgress.String ---------------------------------------------------------------------- */

static void pad_left(struct sbuf *out, const char *s, size_t width)
{
	size_t n = strlen(s);

	if (n < width)
		sbuf_addn(out, ' ', width - n);
	sbuf_adds(out, s);
}

void jsonmsg_progress_string(struct sbuf *out, int width, int64_t current, int64_t total,
			     int64_t start, bool hide_counts, const char *units, int64_t now)
{
	_cleanup_sbuf_ struct sbuf a = SBUF_INIT, b = SBUF_INIT;
	int percentage;

	if (current <= 0 && total <= 0)
		return;
	if (total <= 0) {
		if (!units || !*units) {
			human_size(&a, (double)current, 4);
			pad_left(out, sbuf_str(&a), 8);
		} else {
			sbuf_printf(out, "%" PRId64 " %s", current, units);
		}
		return;
	}
	/* int(float64(current)/float64(total)*100) / 2, at most 50 (never below 0 here: Go would
	 * panic on a negative repeat count) */
	double pct = (double)current / (double)total * 100;
	percentage = pct >= 200 ? 100 : pct <= 0 ? 0 : (int)pct;
	percentage /= 2;
	if (percentage > 50)
		percentage = 50;
	if (width > 110) {
		sbuf_addc(out, '[');
		sbuf_addn(out, '=', (size_t)percentage);
		sbuf_addc(out, '>');
		sbuf_addn(out, ' ', (size_t)(50 - percentage));
		sbuf_adds(out, "] ");
	}
	if (hide_counts) {
		/* nothing */
	} else if (!units || !*units) {
		human_size(&a, (double)current, 4);
		human_size(&b, (double)total, 4);
		pad_left(out, sbuf_str(&a), 8);
		if (current <= total) {
			sbuf_addc(out, '/');
			sbuf_adds(out, sbuf_str(&b));
		}
	} else if (current > total) {
		sbuf_printf(out, "%" PRId64 " %s", current, units);
	} else {
		sbuf_printf(out, "%" PRId64 "/%" PRId64 " %s", current, total, units);
	}
	if (width > 50 && current > 0 && start > 0 && percentage < 50) {
		/* (now - start) / current per entry, times what is left, rounded to a second */
		int64_t from_start = (now - start) * 1000000000;
		int64_t per_entry = from_start / current;
		int64_t left = (total - current) * per_entry;
		int64_t rounded = left >= 0 ? (left + 500000000) / 1000000000 * 1000000000
					    : -((-left + 500000000) / 1000000000 * 1000000000);
		sbuf_addc(out, ' ');
		go_duration_string(out, rounded);
	}
}

/* ---- one message ------------------------------------------------------------------------------- */

static const char *str(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "";
}

static void put(struct jsonmsg *m, const char *s, size_t n)
{
	if (n)
		m->write(m->data, s, n);
}

static void puts_(struct jsonmsg *m, const char *s)
{
	put(m, s, strlen(s));
}

static void cursor(struct jsonmsg *m, unsigned n, char dir)
{
	char b[32];

	/* aec: no sequence at all for 0 */
	if (n)
		put(m, b, (size_t)snprintf(b, sizeof(b), "\x1b[%u%c", n, dir));
}

static int term_cols(void)
{
	struct winsize ws;

	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0)
		return ws.ws_col;
	return 200;
}

static int64_t clock_now(void)
{
	return (int64_t)time(NULL);
}

/* JSONMessage.Display */
static void display(struct jsonmsg *m, json_t *msg)
{
	json_t *progress = json_object_get(msg, "progressDetail");
	const char *stream = str(msg, "stream"), *status = str(msg, "status");
	const char *id = str(msg, "id"), *from = str(msg, "from");
	const char *progress_msg = str(msg, "progress");
	int64_t time_nano = json_integer_value(json_object_get(msg, "timeNano"));
	int64_t secs = json_integer_value(json_object_get(msg, "time"));
	_cleanup_sbuf_ struct sbuf line = SBUF_INIT, bar = SBUF_INIT;
	const char *endl = "";
	bool has_progress = json_is_object(progress);

	if (has_progress) {
		const char *units = json_string_value(json_object_get(progress, "units"));
		jsonmsg_progress_string(&bar, m->width ? m->width : term_cols(),
					json_integer_value(json_object_get(progress, "current")),
					json_integer_value(json_object_get(progress, "total")),
					json_integer_value(json_object_get(progress, "start")),
					json_is_true(json_object_get(progress, "hidecounts")),
					units, m->now ? m->now() : clock_now());
	}
	if (m->terminal && !*stream && has_progress) {
		sbuf_adds(&line, "\x1b[2K\r");
		endl = "\r";
	} else if (has_progress && bar.len) {
		/* no progress bars but on a terminal */
		return;
	}
	if (time_nano) {
		go_time_rfc3339nano_fixed(&line, time_nano);
		sbuf_addc(&line, ' ');
	} else if (secs) {
		go_time_rfc3339nano_fixed(&line, secs * 1000000000);
		sbuf_addc(&line, ' ');
	}
	if (*id)
		sbuf_printf(&line, "%s: ", id);
	if (*from)
		sbuf_printf(&line, "(from %s) ", from);
	if (has_progress && m->terminal)
		sbuf_printf(&line, "%s %s%s", status, sbuf_str(&bar), endl);
	else if (*progress_msg)
		sbuf_printf(&line, "%s %s%s", status, progress_msg, endl);
	else if (*stream)
		sbuf_printf(&line, "%s%s", stream, endl);
	else
		sbuf_printf(&line, "%s%s\n", status, endl);
	put(m, line.p, line.len);
}

int jsonmsg_render(struct jsonmsg *m, json_t *msg)
{
	json_t *aux = json_object_get(msg, "aux");
	json_t *error = json_object_get(msg, "errorDetail");
	const char *id = str(msg, "id");
	bool progress =
		json_is_object(json_object_get(msg, "progressDetail")) || *str(msg, "progress");
	unsigned diff = 0;

	if (aux && !json_is_null(aux)) {
		if (m->aux)
			m->aux(m->data, aux);
		return 0;
	}
	if (*id && progress) {
		size_t line = m->n_ids;
		for (size_t i = 0; i < m->n_ids; i++)
			if (strcmp(m->ids[i].id, id) == 0)
				line = i;
		if (line == m->n_ids) {
			m->ids = xrealloc(m->ids, (m->n_ids + 1) * sizeof(*m->ids));
			m->ids[m->n_ids].id = xstrdup(id);
			m->ids[m->n_ids].line = (unsigned)m->n_ids;
			m->n_ids++;
			if (m->terminal)
				puts_(m, "\n");
		}
		diff = (unsigned)(m->n_ids - line);
		if (m->terminal)
			cursor(m, diff, 'A');
	} else {
		forget_ids(m);
	}
	if (error && !json_is_null(error)) {
		/* the error ends the stream; the cursor still goes back down first */
		if (*id && m->terminal)
			cursor(m, diff, 'B');
		m->error_code = (int)json_integer_value(json_object_get(error, "code"));
		return fail(m, xstrdup(str(error, "message")));
	}
	display(m, msg);
	if (*id && m->terminal)
		cursor(m, diff, 'B');
	return 0;
}

/* ---- the stream ------------------------------------------------------------------------------- */

/*
 * Go's encoding/json scanner over one value at p[0..n): 1 with *ret_end past the value, 0 when
 * the value goes on past n, -1 with Go's SyntaxError message ("invalid character 'x' in literal
 * true (expecting 'r')").  The decoder needs to know where a value ends before jansson parses it,
 * and docker prints the scanner's wording when a stream is not JSON.
 */
static char *bad_char(unsigned char c, const char *context)
{
	_cleanup_sbuf_ struct sbuf q = SBUF_INIT;

	/* Go's quoteChar */
	if (c == '\'')
		sbuf_adds(&q, "'\\''");
	else if (c == '"')
		sbuf_adds(&q, "'\"'");
	else if (c == '\n')
		sbuf_adds(&q, "'\\n'");
	else if (c == '\r')
		sbuf_adds(&q, "'\\r'");
	else if (c == '\t')
		sbuf_adds(&q, "'\\t'");
	else if (c < 0x20 || c == 0x7f)
		sbuf_printf(&q, "'\\x%02x'", c);
	else if (c < 0x80)
		sbuf_printf(&q, "'%c'", c);
	else /* the byte as a rune, U+0080..U+00FF, in UTF-8 */
		sbuf_printf(&q, "'%c%c'", 0xc0 | (c >> 6), 0x80 | (c & 0x3f));
	return xasprintf("invalid character %s %s", sbuf_str(&q), context);
}

static bool ws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool hex(char c)
{
	return digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* the depth of nesting the scanner follows (Go's maxNestingDepth) */
#define MAX_DEPTH 10000

static int scan_value(const char *p, size_t n, size_t *ret_end, char **err)
{
	/* a stack of containers: '{' in an object (before a key), ':' after its key, '[' array */
	char *stack = NULL;
	size_t depth = 0, i = 0;
	int r = 0;

#define NEED(k)                                                                                    \
	do {                                                                                       \
		if (i + (k) > n) {                                                                 \
			r = 0;                                                                     \
			goto out;                                                                  \
		}                                                                                  \
	} while (0)
#define FAIL(c, ctx)                                                                               \
	do {                                                                                       \
		*err = bad_char((unsigned char)(c), ctx);                                          \
		r = -1;                                                                            \
		goto out;                                                                          \
	} while (0)

value:
	while (i < n && ws(p[i]))
		i++;
	NEED(1);
	switch (p[i]) {
	case '{':
	case '[':
		if (depth == MAX_DEPTH) {
			*err = xstrdup("exceeded max depth");
			r = -1;
			goto out;
		}
		stack = xrealloc(stack, depth + 1);
		stack[depth++] = p[i++];
		/* empty? */
		while (i < n && ws(p[i]))
			i++;
		NEED(1);
		if (stack[depth - 1] == '{') {
			if (p[i] == '}') {
				i++;
				depth--;
				goto end_value;
			}
			if (p[i] != '"')
				FAIL(p[i], "looking for beginning of object key string");
			goto string;
		}
		if (p[i] == ']') {
			i++;
			depth--;
			goto end_value;
		}
		goto value;
	case '"':
		goto string;
	case '-':
		i++;
		NEED(1);
		if (!digit(p[i]))
			FAIL(p[i], "in numeric literal");
		goto number;
	case 't':
	case 'f':
	case 'n': {
		const char *lit = p[i] == 't' ? "true" : p[i] == 'f' ? "false" : "null";
		for (size_t k = 1; lit[k]; k++) {
			NEED(k + 1);
			if (p[i + k] != lit[k]) {
				char ctx[64];
				snprintf(ctx, sizeof(ctx), "in literal %s (expecting '%c')", lit,
					 lit[k]);
				i += k;
				FAIL(p[i], ctx);
			}
		}
		i += strlen(lit);
		goto end_value;
	}
	default:
		if (digit(p[i]))
			goto number;
		FAIL(p[i], "looking for beginning of value");
	}

number:
	/* at a digit: "0" or [1-9][0-9]*, then .digits, then e[+-]digits */
	if (p[i] == '0') {
		i++;
	} else {
		while (i < n && digit(p[i]))
			i++;
	}
	/* a number at the very end may go on: Go waits for the byte after it */
	if (i == n && depth == 0) {
		r = 0;
		goto out;
	}
	NEED(1);
	if (p[i] == '.') {
		i++;
		NEED(1);
		if (!digit(p[i]))
			FAIL(p[i], "after decimal point in numeric literal");
		while (i < n && digit(p[i]))
			i++;
		NEED(1);
	}
	if (p[i] == 'e' || p[i] == 'E') {
		i++;
		NEED(1);
		if (p[i] == '+' || p[i] == '-') {
			i++;
			NEED(1);
		}
		if (!digit(p[i]))
			FAIL(p[i], "in exponent of numeric literal");
		while (i < n && digit(p[i]))
			i++;
		NEED(1);
	}
	goto end_value;

string:
	i++; /* the opening quote */
	for (;;) {
		NEED(1);
		unsigned char c = (unsigned char)p[i];
		if (c == '"') {
			i++;
			break;
		}
		if (c < 0x20)
			FAIL(c, "in string literal");
		if (c == '\\') {
			i++;
			NEED(1);
			if (p[i] == 'u') {
				for (int k = 1; k <= 4; k++) {
					NEED((size_t)k + 1);
					if (!hex(p[i + k])) {
						i += (size_t)k;
						FAIL(p[i], "in \\u hexadecimal character escape");
					}
				}
				i += 5;
				continue;
			}
			if (!strchr("\"\\/bfnrt", p[i]) || !p[i])
				FAIL(p[i], "in string escape code");
		}
		i++;
	}
	/* a string that is an object's key wants a ':' */
	if (depth && stack[depth - 1] == '{') {
		while (i < n && ws(p[i]))
			i++;
		NEED(1);
		if (p[i] != ':')
			FAIL(p[i], "after object key");
		i++;
		stack[depth - 1] = ':';
		goto value;
	}

end_value:
	if (depth == 0) {
		*ret_end = i;
		r = 1;
		goto out;
	}
	while (i < n && ws(p[i]))
		i++;
	NEED(1);
	if (stack[depth - 1] == ':') {
		if (p[i] == ',') {
			i++;
			stack[depth - 1] = '{';
			while (i < n && ws(p[i]))
				i++;
			NEED(1);
			if (p[i] != '"')
				FAIL(p[i], "looking for beginning of object key string");
			goto string;
		}
		if (p[i] != '}')
			FAIL(p[i], "after object key:value pair");
	} else {
		if (p[i] == ',') {
			i++;
			goto value;
		}
		if (p[i] != ']')
			FAIL(p[i], "after array element");
	}
	i++;
	depth--;
	goto end_value;
out:
	free(stack);
	return r;
#undef NEED
#undef FAIL
}

/* Parse and render every whole value in m->in; at_end: the stream is over. */
static int drain(struct jsonmsg *m, bool at_end)
{
	size_t pos = 0;
	int r = 0;

	for (;;) {
		size_t end = 0;
		char *err = NULL;
		while (pos < m->in.len && ws(m->in.p[pos]))
			pos++;
		if (pos == m->in.len)
			break;
		int s = scan_value(m->in.p + pos, m->in.len - pos, &end, &err);
		if (s < 0) {
			r = fail(m, err);
			break;
		}
		if (s == 0) {
			/* a number that ends the stream is whole; anything else was cut short */
			if (at_end && end == 0 && (digit(m->in.p[m->in.len - 1]))) {
				end = m->in.len - pos;
			} else {
				if (at_end)
					r = fail(m, xstrdup("unexpected EOF"));
				break;
			}
		}
		json_t *v = json_loadb(m->in.p + pos, end, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
		pos += end;
		if (!v) {
			/* valid to Go's scanner, not to jansson (a number out of range) */
			r = fail(m, xstrdup("json: cannot unmarshal number into Go value"));
			break;
		}
		if (json_is_null(v)) {
			/* null decodes to an empty message, which prints as an empty status */
			json_decref(v);
			v = json_object();
		}
		if (!json_is_object(v)) {
			const char *what = json_is_array(v)    ? "array"
					   : json_is_string(v) ? "string"
					   : json_is_number(v) ? "number"
							       : "bool";
			json_decref(v);
			r = fail(m, xasprintf("json: cannot unmarshal %s into Go value of type "
					      "jsonmessage.JSONMessage",
					      what));
			break;
		}
		r = jsonmsg_render(m, v);
		json_decref(v);
		if (r < 0)
			break;
	}
	/* keep what was not used */
	memmove(m->in.p, m->in.p + pos, m->in.len - pos);
	m->in.len -= pos;
	if (m->in.p)
		m->in.p[m->in.len] = '\0';
	return r;
}

int jsonmsg_feed(struct jsonmsg *m, const char *buf, size_t n)
{
	if (m->error)
		return -1;
	sbuf_add(&m->in, buf, n);
	return drain(m, false);
}

int jsonmsg_end(struct jsonmsg *m)
{
	if (m->error)
		return -1;
	return drain(m, true);
}
