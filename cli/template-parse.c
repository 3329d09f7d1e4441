/* SPDX-License-Identifier: Apache-2.0 */
/*
 * text/template's lexer and parser, following Go's grammar and error wording (Go 1.24, the Go
 * docker 28 is built with): the lexer hands out one item at a time from a state machine, the
 * parser is recursive descent with three tokens of look-ahead.  Parse errors unwind with
 * longjmp; every node and string is recorded in the template's allocation list, so nothing leaks.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "template-internal.h"
#include "base/banned.h"

/* ---- allocation ---------------------------------------------------------------------------- */

static void *t_track(struct tmpl *t, void *p)
{
	if (t->n_allocs == t->cap_allocs) {
		t->cap_allocs = t->cap_allocs ? t->cap_allocs * 2 : 64;
		t->allocs = xrealloc(t->allocs, t->cap_allocs * sizeof(*t->allocs));
	}
	t->allocs[t->n_allocs++] = p;
	return p;
}

/* a template's nodes and texts live as long as it does: from the CLI's arena (arena.h) */
static void *t_alloc(struct tmpl *t, size_t n)
{
	void *p = cli_arena_take(n);

	if (!p)
		cli_oom();
	return t_track(t, p);
}

static char *t_strndup(struct tmpl *t, const char *s, size_t n)
{
	char *p = t_alloc(t, n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

/* ---- runes --------------------------------------------------------------------------------- */

#define EOF_RUNE (-1)

/* Decode one UTF-8 rune at s (n bytes left); invalid bytes are U+FFFD of width 1. */
static int decode_rune(const char *s, size_t n, int *width)
{
	const unsigned char *u = (const unsigned char *)s;
	int r, w;

	if (n == 0) {
		*width = 0;
		return EOF_RUNE;
	}
	if (u[0] < 0x80) {
		*width = 1;
		return u[0];
	}
	if ((u[0] & 0xe0) == 0xc0) {
		w = 2;
		r = u[0] & 0x1f;
	} else if ((u[0] & 0xf0) == 0xe0) {
		w = 3;
		r = u[0] & 0x0f;
	} else if ((u[0] & 0xf8) == 0xf0) {
		w = 4;
		r = u[0] & 0x07;
	} else {
		*width = 1;
		return 0xfffd;
	}
	if ((size_t)w > n) {
		*width = 1;
		return 0xfffd;
	}
	for (int i = 1; i < w; i++) {
		if ((u[i] & 0xc0) != 0x80) {
			*width = 1;
			return 0xfffd;
		}
		r = (r << 6) | (u[i] & 0x3f);
	}
	*width = w;
	return r;
}

static bool is_space(int r)
{
	return r == ' ' || r == '\t' || r == '\r' || r == '\n';
}

/* unicode.IsLetter / IsDigit: exact for ASCII; every non-ASCII rune counts as a letter. */
static bool is_alnum(int r)
{
	return r == '_' || (r >= 0 && r < 0x80 && isalnum(r)) || r >= 0x80;
}

/* fmt's %#U: U+007D '}' */
static void fmt_U(char *buf, size_t size, int r)
{
	if (r >= 0x20 && r < 0x7f)
		snprintf(buf, size, "U+%04X '%c'", (unsigned)r, r);
	else if (r >= 0x80 && r != 0xfffd)
		snprintf(buf, size, "U+%04X", (unsigned)r);
	else
		snprintf(buf, size, "U+%04X", (unsigned)(r < 0 ? 0xfffd : r));
}

/* ---- the lexer ----------------------------------------------------------------------------- */

enum lex_state {
	LS_TEXT,
	LS_LEFT_DELIM,
	LS_COMMENT,
	LS_RIGHT_DELIM,
	LS_INSIDE,
	LS_SPACE,
	LS_IDENT,
	LS_FIELD,
	LS_VARIABLE,
	LS_CHAR,
	LS_NUMBER,
	LS_QUOTE,
	LS_RAW,
	LS_DONE,
};

struct lexer {
	struct tmpl *t;
	const char *input;
	size_t len;
	size_t pos, start;
	int width;
	int line, start_line;
	int paren_depth;
	enum lex_state state;
	bool at_eof;
};

static const char LEFT_DELIM[] = "{{", RIGHT_DELIM[] = "}}";

static int l_next(struct lexer *l)
{
	int w, r;

	if (l->pos >= l->len) {
		l->at_eof = true;
		return EOF_RUNE;
	}
	r = decode_rune(l->input + l->pos, l->len - l->pos, &w);
	l->pos += (size_t)w;
	if (r == '\n')
		l->line++;
	return r;
}

/* Step back over the rune before pos (Go's backup after next; a no-op once EOF was seen). */
static void l_backup(struct lexer *l)
{
	if (!l->at_eof && l->pos > 0) {
		/* utf8.DecodeLastRuneInString: an invalid sequence is one byte */
		size_t p = l->pos - 1;
		int w;
		while (p > 0 && l->pos - p < 4 && ((unsigned char)l->input[p] & 0xc0) == 0x80)
			p--;
		decode_rune(l->input + p, l->pos - p, &w);
		if ((size_t)w != l->pos - p)
			p = l->pos - 1;
		l->pos = p;
		if (l->input[p] == '\n')
			l->line--;
	}
}

static int l_peek(struct lexer *l)
{
	int r = l_next(l);

	l_backup(l);
	return r;
}

static bool l_has_prefix(const struct lexer *l, size_t at, const char *p)
{
	size_t n = strlen(p);

	return at <= l->len && l->len - at >= n && memcmp(l->input + at, p, n) == 0;
}

static void l_item(struct lexer *l, struct item *it, enum item_type type)
{
	it->type = type;
	it->pos = l->start;
	it->val = l->input + l->start;
	it->len = l->pos - l->start;
	it->line = l->start_line;
	it->msg = NULL;
	l->start = l->pos;
	l->start_line = l->line;
}

/* Skip what is between start and pos (moved there directly: its newlines are counted here). */
static void l_ignore(struct lexer *l)
{
	for (size_t i = l->start; i < l->pos; i++)
		if (l->input[i] == '\n')
			l->line++;
	l->start = l->pos;
	l->start_line = l->line;
}

static void l_error(struct lexer *l, struct item *it, const char *fmt, ...) BERTH_PRINTF(3, 4);
static void l_error(struct lexer *l, struct item *it, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		cli_oom();
	va_end(ap);
	it->type = ITEM_ERROR;
	it->pos = l->start;
	it->val = msg;
	it->len = strlen(msg);
	it->line = l->start_line;
	it->msg = t_track(l->t, msg);
	l->state = LS_DONE;
	l->start = l->pos = l->len;
}

static bool has_left_trim(const struct lexer *l, size_t at)
{
	return l->len > at + 1 && l->input[at] == '-' && is_space((unsigned char)l->input[at + 1]);
}

static bool has_right_trim(const struct lexer *l, size_t at)
{
	return l->len > at + 1 && is_space((unsigned char)l->input[at]) && l->input[at + 1] == '-';
}

static bool at_right_delim(const struct lexer *l, bool *trim)
{
	if (has_right_trim(l, l->pos) && l_has_prefix(l, l->pos + 2, RIGHT_DELIM)) {
		*trim = true;
		return true;
	}
	*trim = false;
	return l_has_prefix(l, l->pos, RIGHT_DELIM);
}

static bool at_terminator(struct lexer *l)
{
	int r = l_peek(l);

	if (is_space(r))
		return true;
	switch (r) {
	case EOF_RUNE:
	case '.':
	case ',':
	case '|':
	case ':':
	case ')':
	case '(':
		return true;
	}
	return l_has_prefix(l, l->pos, RIGHT_DELIM);
}

static void count_lines(struct lexer *l, size_t from, size_t to)
{
	for (size_t i = from; i < to; i++)
		if (l->input[i] == '\n')
			l->line++;
}

static bool accept(struct lexer *l, const char *valid)
{
	int r = l_next(l);

	if (r != EOF_RUNE && r < 0x80 && strchr(valid, r))
		return true;
	l_backup(l);
	return false;
}

static void accept_run(struct lexer *l, const char *valid)
{
	int r;

	while ((r = l_next(l)) != EOF_RUNE && r < 0x80 && strchr(valid, r))
		;
	l_backup(l);
}

static bool scan_number(struct lexer *l)
{
	const char *digits = "0123456789_";

	accept(l, "+-");
	if (accept(l, "0")) {
		if (accept(l, "xX"))
			digits = "0123456789abcdefABCDEF_";
		else if (accept(l, "oO"))
			digits = "01234567_";
		else if (accept(l, "bB"))
			digits = "01_";
	}
	accept_run(l, digits);
	if (accept(l, "."))
		accept_run(l, digits);
	if (strlen(digits) == 11 && accept(l, "eE")) {
		accept(l, "+-");
		accept_run(l, "0123456789_");
	}
	if (strlen(digits) == 23 && accept(l, "pP")) {
		accept(l, "+-");
		accept_run(l, "0123456789_");
	}
	accept(l, "i");
	if (is_alnum(l_peek(l))) {
		l_next(l);
		return false;
	}
	return true;
}

/* The spaces a "-}}" trims after it (text after an action or a comment). */
static void skip_spaces(struct lexer *l)
{
	while (l->pos < l->len && is_space((unsigned char)l->input[l->pos]))
		l->pos++;
}

/* The rest of an identifier, field or variable name; false after an error item in it. */
static bool scan_word(struct lexer *l, struct item *it)
{
	int r;

	while (is_alnum(r = l_next(l)))
		;
	l_backup(l);
	if (!at_terminator(l)) {
		char u[32];
		fmt_U(u, sizeof(u), r);
		l_error(l, it, "bad character %s", u);
		return false;
	}
	return true;
}

/* Produce the next item. */
static void lex_item(struct lexer *l, struct item *it)
{
	for (;;) {
		switch (l->state) {
		case LS_DONE:
			l_item(l, it, ITEM_EOF);
			return;
		case LS_TEXT: {
			const char *x = NULL;
			if (l->pos < l->len)
				x = memmem(l->input + l->pos, l->len - l->pos, LEFT_DELIM, 2);
			if (x) {
				size_t at = (size_t)(x - l->input), trim = 0;
				l->state = LS_LEFT_DELIM;
				if (at > l->pos) {
					struct item text;
					l->pos = at;
					if (has_left_trim(l, at + 2))
						while (l->pos - trim > l->start &&
						       is_space((unsigned char)l
									->input[l->pos - trim - 1]))
							trim++;
					l->pos -= trim;
					count_lines(l, l->start, l->pos);
					l_item(l, &text, ITEM_TEXT);
					l->pos += trim;
					l_ignore(l);
					if (text.len > 0) {
						*it = text;
						return;
					}
				}
				continue;
			}
			l->pos = l->len;
			l->state = LS_DONE;
			if (l->pos > l->start) {
				count_lines(l, l->start, l->pos);
				l_item(l, it, ITEM_TEXT);
				return;
			}
			l_item(l, it, ITEM_EOF);
			return;
		}
		case LS_LEFT_DELIM: {
			size_t after = 0;
			l->pos += 2;
			if (has_left_trim(l, l->pos))
				after = 2;
			if (l_has_prefix(l, l->pos + after, "/*")) {
				l->pos += after;
				l_ignore(l);
				l->state = LS_COMMENT;
				continue;
			}
			l_item(l, it, ITEM_LEFT_DELIM);
			l->pos += after;
			l_ignore(l);
			l->paren_depth = 0;
			l->state = LS_INSIDE;
			return;
		}
		case LS_COMMENT: {
			bool trim;
			const char *x;
			l->pos += 2;
			x = memmem(l->input + l->pos, l->len - l->pos, "*/", 2);
			if (!x) {
				l_error(l, it, "unclosed comment");
				return;
			}
			l->pos = (size_t)(x - l->input) + 2;
			if (!at_right_delim(l, &trim)) {
				l_error(l, it, "comment ends before closing delimiter");
				return;
			}
			/* Go does not count a comment's own lines */
			l->start = l->pos;
			if (trim)
				l->pos += 2;
			l->pos += 2;
			if (trim)
				skip_spaces(l);
			l_ignore(l);
			l->state = LS_TEXT;
			continue;
		}
		case LS_RIGHT_DELIM: {
			bool trim;
			at_right_delim(l, &trim);
			if (trim) {
				l->pos += 2;
				l_ignore(l);
			}
			l->pos += 2;
			l_item(l, it, ITEM_RIGHT_DELIM);
			if (trim) {
				skip_spaces(l);
				l_ignore(l);
			}
			l->state = LS_TEXT;
			return;
		}
		case LS_INSIDE: {
			bool trim;
			int r;
			if (at_right_delim(l, &trim)) {
				if (l->paren_depth == 0) {
					l->state = LS_RIGHT_DELIM;
					continue;
				}
				l_error(l, it, "unclosed left paren");
				return;
			}
			r = l_next(l);
			if (r == EOF_RUNE) {
				l_error(l, it, "unclosed action");
				return;
			}
			if (is_space(r)) {
				l_backup(l);
				l->state = LS_SPACE;
				continue;
			}
			switch (r) {
			case '=':
				l_item(l, it, ITEM_ASSIGN);
				return;
			case ':':
				if (l_next(l) != '=') {
					l_error(l, it, "expected :=");
					return;
				}
				l_item(l, it, ITEM_DECLARE);
				return;
			case '|':
				l_item(l, it, ITEM_PIPE);
				return;
			case '"':
				l->state = LS_QUOTE;
				continue;
			case '`':
				l->state = LS_RAW;
				continue;
			case '$':
				l->state = LS_VARIABLE;
				continue;
			case '\'':
				l->state = LS_CHAR;
				continue;
			case '(':
				l->paren_depth++;
				l_item(l, it, ITEM_LEFT_PAREN);
				return;
			case ')':
				l->paren_depth--;
				if (l->paren_depth < 0) {
					l_error(l, it, "unexpected right paren");
					return;
				}
				l_item(l, it, ITEM_RIGHT_PAREN);
				return;
			}
			if (r == '.') {
				if (l->pos < l->len &&
				    (l->input[l->pos] < '0' || l->input[l->pos] > '9')) {
					l->state = LS_FIELD;
					continue;
				}
			}
			if (r == '.' || r == '+' || r == '-' || (r >= '0' && r <= '9')) {
				l_backup(l);
				l->state = LS_NUMBER;
				continue;
			}
			if (is_alnum(r)) {
				l_backup(l);
				l->state = LS_IDENT;
				continue;
			}
			if (r < 0x80 && isprint(r)) {
				l_item(l, it, ITEM_CHAR);
				return;
			}
			char u[32];
			fmt_U(u, sizeof(u), r);
			l_error(l, it, "unrecognized character in action: %s", u);
			return;
		}
		case LS_SPACE: {
			int n = 0;
			while (is_space(l_peek(l))) {
				l_next(l);
				n++;
			}
			l->state = LS_INSIDE;
			if (has_right_trim(l, l->pos - 1) &&
			    l_has_prefix(l, l->pos + 1, RIGHT_DELIM)) {
				l_backup(l);
				if (n == 1) {
					l->state = LS_RIGHT_DELIM;
					continue;
				}
			}
			l_item(l, it, ITEM_SPACE);
			return;
		}
		case LS_IDENT: {
			if (!scan_word(l, it))
				return;
			static const struct {
				const char *w;
				enum item_type t;
			} keys[] = {{"block", ITEM_BLOCK},
				    {"break", ITEM_BREAK},
				    {"continue", ITEM_CONTINUE},
				    {"define", ITEM_DEFINE},
				    {"else", ITEM_ELSE},
				    {"end", ITEM_END},
				    {"if", ITEM_IF},
				    {"range", ITEM_RANGE},
				    {"nil", ITEM_NIL},
				    {"template", ITEM_TEMPLATE},
				    {"with", ITEM_WITH}};
			size_t n = l->pos - l->start;
			const char *w = l->input + l->start;
			enum item_type type = ITEM_IDENTIFIER;
			for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
				if (strlen(keys[i].w) == n && memcmp(keys[i].w, w, n) == 0)
					type = keys[i].t;
			if ((type == ITEM_BREAK && tmpl_has_function(l->t, "break")) ||
			    (type == ITEM_CONTINUE && tmpl_has_function(l->t, "continue")))
				type = ITEM_IDENTIFIER;
			if (type == ITEM_IDENTIFIER && ((n == 4 && memcmp(w, "true", 4) == 0) ||
							(n == 5 && memcmp(w, "false", 5) == 0)))
				type = ITEM_BOOL;
			l_item(l, it, type);
			l->state = LS_INSIDE;
			return;
		}
		case LS_FIELD:
		case LS_VARIABLE: {
			enum item_type type = l->state == LS_FIELD ? ITEM_FIELD : ITEM_VARIABLE;
			l->state = LS_INSIDE;
			if (at_terminator(l)) {
				l_item(l, it, type == ITEM_VARIABLE ? ITEM_VARIABLE : ITEM_DOT);
				return;
			}
			if (!scan_word(l, it))
				return;
			l_item(l, it, type);
			return;
		}
		case LS_CHAR:
		case LS_QUOTE: {
			int q = l->state == LS_CHAR ? '\'' : '"';
			for (;;) {
				int r = l_next(l);
				if (r == '\\') {
					r = l_next(l);
					if (r != EOF_RUNE && r != '\n')
						continue;
				}
				if (r == EOF_RUNE || r == '\n') {
					l_error(l, it,
						q == '"' ? "unterminated quoted string"
							 : "unterminated character constant");
					return;
				}
				if (r == q)
					break;
			}
			l_item(l, it, q == '"' ? ITEM_STRING : ITEM_CHAR_CONSTANT);
			l->state = LS_INSIDE;
			return;
		}
		case LS_RAW: {
			int r;
			while ((r = l_next(l)) != '`') {
				if (r == EOF_RUNE) {
					l_error(l, it, "unterminated raw quoted string");
					return;
				}
			}
			l_item(l, it, ITEM_RAW_STRING);
			l->state = LS_INSIDE;
			return;
		}
		case LS_NUMBER: {
			if (!scan_number(l)) {
				l_error(l, it, "bad number syntax: \"%.*s\"",
					(int)(l->pos - l->start), l->input + l->start);
				return;
			}
			int sign = l_peek(l);
			if (sign == '+' || sign == '-') {
				if (!scan_number(l) || l->input[l->pos - 1] != 'i') {
					l_error(l, it, "bad number syntax: \"%.*s\"",
						(int)(l->pos - l->start), l->input + l->start);
					return;
				}
				l_item(l, it, ITEM_COMPLEX);
			} else {
				l_item(l, it, ITEM_NUMBER);
			}
			l->state = LS_INSIDE;
			return;
		}
		}
	}
}

/* ---- the parser ---------------------------------------------------------------------------- */

struct parser {
	struct tmpl *t;
	struct lexer lex;
	struct item token[3];
	int peek_count;
	char **vars;
	size_t n_vars, cap_vars;
	int range_depth;
	const char *tree_name; /* the tree being parsed (for define) */
	struct sbuf **scratch; /* buffers for messages: freed at the end, whatever unwinds */
	size_t n_scratch;
	char *err;
	jmp_buf jb;
};

static struct sbuf *p_sbuf(struct parser *p)
{
	struct sbuf *b = xcalloc(1, sizeof(*b));

	p->scratch = xrealloc(p->scratch, (p->n_scratch + 1) * sizeof(*p->scratch));
	p->scratch[p->n_scratch++] = b;
	return b;
}

static _Noreturn void p_errorf(struct parser *p, const char *fmt, ...) BERTH_PRINTF(2, 3);
static _Noreturn void p_errorf(struct parser *p, const char *fmt, ...)
{
	struct sbuf b = SBUF_INIT;
	va_list ap;

	sbuf_printf(&b, "template: %s:%d: ", p->t->name, p->token[0].line);
	va_start(ap, fmt);
	sbuf_vprintf(&b, fmt, ap);
	va_end(ap);
	p->err = sbuf_detach(&b);
	longjmp(p->jb, 1);
}

static struct item p_next(struct parser *p)
{
	if (p->peek_count > 0)
		p->peek_count--;
	else
		lex_item(&p->lex, &p->token[0]);
	return p->token[p->peek_count];
}

static void p_backup(struct parser *p)
{
	p->peek_count++;
}

static void p_backup2(struct parser *p, struct item t1)
{
	p->token[1] = t1;
	p->peek_count = 2;
}

static void p_backup3(struct parser *p, struct item t2, struct item t1)
{
	p->token[1] = t1;
	p->token[2] = t2;
	p->peek_count = 3;
}

static struct item p_peek(struct parser *p)
{
	if (p->peek_count > 0)
		return p->token[p->peek_count - 1];
	p->peek_count = 1;
	lex_item(&p->lex, &p->token[0]);
	return p->token[0];
}

static struct item p_next_non_space(struct parser *p)
{
	struct item it;

	do
		it = p_next(p);
	while (it.type == ITEM_SPACE);
	return it;
}

static struct item p_peek_non_space(struct parser *p)
{
	struct item it = p_next_non_space(p);

	p_backup(p);
	return it;
}

/* item.String() */
static void item_string(struct sbuf *b, const struct item *it)
{
	if (it->type == ITEM_EOF) {
		sbuf_adds(b, "EOF");
	} else if (it->type == ITEM_ERROR) {
		sbuf_add(b, it->val, it->len);
	} else if (it->type > ITEM_KEYWORD) {
		sbuf_printf(b, "<%.*s>", (int)it->len, it->val);
	} else {
		/* %q, or %.10q... when longer than 10 bytes (Go counts runes; close enough) */
		size_t n = it->len, runes = 0, cut = n;
		for (size_t i = 0; i < n; i++)
			if (((unsigned char)it->val[i] & 0xc0) != 0x80 && ++runes == 11) {
				cut = i;
				break;
			}
		go_quote(b, it->val, cut);
		if (it->len > 10 && cut < n)
			sbuf_adds(b, "...");
	}
}

static _Noreturn void p_unexpected(struct parser *p, struct item it, const char *context)
{
	struct sbuf *b = p_sbuf(p);

	if (it.type == ITEM_ERROR)
		p_errorf(p, "%.*s", (int)it.len, it.val);
	item_string(b, &it);
	p_errorf(p, "unexpected %s in %s", sbuf_str(b), context);
}

static struct item p_expect(struct parser *p, enum item_type type, const char *context)
{
	struct item it = p_next_non_space(p);

	if (it.type != type)
		p_unexpected(p, it, context);
	return it;
}

static struct node *new_node(struct parser *p, enum node_type type, size_t pos, int line)
{
	struct node *n = t_alloc(p->t, sizeof(*n));

	n->type = type;
	n->pos = pos;
	n->line = line;
	return n;
}

static void push_node(struct parser *p, struct node ***v, size_t *n, struct node *x)
{
	/* grows by doubling; the vector itself is tracked once, old blocks stay tracked (small) */
	if ((*n & (*n - 1)) == 0) {
		size_t cap = *n ? *n * 2 : 1;
		struct node **nv = t_alloc(p->t, cap * sizeof(*nv));
		if (*n)
			memcpy(nv, *v, *n * sizeof(*nv));
		*v = nv;
	}
	(*v)[(*n)++] = x;
}

static void push_ident(struct parser *p, struct node *n, const char *s, size_t len)
{
	if ((n->n_ident & (n->n_ident - 1)) == 0) {
		size_t cap = n->n_ident ? n->n_ident * 2 : 1;
		char **nv = t_alloc(p->t, cap * sizeof(*nv));
		if (n->n_ident)
			memcpy(nv, n->ident, n->n_ident * sizeof(*nv));
		n->ident = nv;
	}
	n->ident[n->n_ident++] = t_strndup(p->t, s, len);
}

/* "a.b.c" (without the leading '.' for fields) split into idents */
static void add_idents(struct parser *p, struct node *n, const char *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		size_t j = i;
		while (j < len && s[j] != '.')
			j++;
		if (j > i)
			push_ident(p, n, s + i, j - i);
		i = j + 1;
	}
}

static void push_var(struct parser *p, const char *s, size_t len)
{
	if (p->n_vars == p->cap_vars) {
		p->cap_vars = p->cap_vars ? p->cap_vars * 2 : 8;
		p->vars = xrealloc(p->vars, p->cap_vars * sizeof(*p->vars));
	}
	p->vars[p->n_vars++] = t_strndup(p->t, s, len);
}

/* ---- strings and numbers ------------------------------------------------------------------- */

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static void put_utf8(struct sbuf *b, uint32_t r)
{
	if (r > 0x10ffff || (r >= 0xd800 && r <= 0xdfff))
		r = 0xfffd;
	if (r < 0x80) {
		sbuf_addc(b, (char)r);
	} else if (r < 0x800) {
		sbuf_addc(b, (char)(0xc0 | (r >> 6)));
		sbuf_addc(b, (char)(0x80 | (r & 0x3f)));
	} else if (r < 0x10000) {
		sbuf_addc(b, (char)(0xe0 | (r >> 12)));
		sbuf_addc(b, (char)(0x80 | ((r >> 6) & 0x3f)));
		sbuf_addc(b, (char)(0x80 | (r & 0x3f)));
	} else {
		sbuf_addc(b, (char)(0xf0 | (r >> 18)));
		sbuf_addc(b, (char)(0x80 | ((r >> 12) & 0x3f)));
		sbuf_addc(b, (char)(0x80 | ((r >> 6) & 0x3f)));
		sbuf_addc(b, (char)(0x80 | (r & 0x3f)));
	}
}

/*
 * strconv.UnquoteChar: one (possibly escaped) character of a quoted literal at s[*i]; quote is the
 * literal's quote character.  Appends it to out; false on invalid syntax.
 */
static bool unquote_char(const char *s, size_t len, size_t *i, char quote, struct sbuf *out,
			 uint32_t *ret_rune)
{
	unsigned char c = (unsigned char)s[*i];
	uint32_t v = 0;
	int n = 0;

	if (c == (unsigned char)quote && (quote == '\'' || quote == '"'))
		return false;
	if (c >= 0x80) {
		int w;
		int r = decode_rune(s + *i, len - *i, &w);
		sbuf_add(out, s + *i, (size_t)w);
		*i += (size_t)w;
		*ret_rune = (uint32_t)r;
		return true;
	}
	if (c != '\\') {
		sbuf_addc(out, (char)c);
		(*i)++;
		*ret_rune = c;
		return true;
	}
	if (*i + 1 >= len)
		return false;
	c = (unsigned char)s[*i + 1];
	*i += 2;
	switch (c) {
	case 'a':
		v = '\a';
		break;
	case 'b':
		v = '\b';
		break;
	case 'f':
		v = '\f';
		break;
	case 'n':
		v = '\n';
		break;
	case 'r':
		v = '\r';
		break;
	case 't':
		v = '\t';
		break;
	case 'v':
		v = '\v';
		break;
	case '\\':
		v = '\\';
		break;
	case '\'':
	case '"':
		if (c != (unsigned char)quote)
			return false;
		v = c;
		break;
	case 'x':
		n = 2;
		break;
	case 'u':
		n = 4;
		break;
	case 'U':
		n = 8;
		break;
	case '0':
	case '1':
	case '2':
	case '3':
	case '4':
	case '5':
	case '6':
	case '7':
		v = c - '0';
		for (int k = 0; k < 2; k++) {
			if (*i >= len || s[*i] < '0' || s[*i] > '7')
				return false;
			v = v * 8 + (uint32_t)(s[(*i)++] - '0');
		}
		if (v > 255)
			return false;
		sbuf_addc(out, (char)v);
		*ret_rune = v;
		return true;
	default:
		return false;
	}
	if (n) {
		for (int k = 0; k < n; k++) {
			int h = *i < len ? hexval((unsigned char)s[*i]) : -1;
			if (h < 0)
				return false;
			v = v * 16 + (uint32_t)h;
			(*i)++;
		}
		if (c == 'x') {
			sbuf_addc(out, (char)v);
			*ret_rune = v;
			return true;
		}
		if (v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
			return false;
	}
	put_utf8(out, v);
	*ret_rune = v;
	return true;
}

/* strconv.Unquote of a "..." or `...` literal; false on invalid syntax. */
static bool unquote(const char *s, size_t len, struct sbuf *out)
{
	if (len < 2)
		return false;
	if (s[0] == '`') {
		if (s[len - 1] != '`')
			return false;
		for (size_t i = 1; i < len - 1; i++)
			if (s[i] != '\r')
				sbuf_addc(out, s[i]);
		sbuf_grow(out, 0);
		return true;
	}
	if (s[0] != '"' || s[len - 1] != '"')
		return false;
	sbuf_grow(out, 0);
	for (size_t i = 1; i < len - 1;) {
		uint32_t r;
		if (s[i] == '\n')
			return false;
		if (!unquote_char(s, len - 1, &i, '"', out, &r))
			return false;
	}
	return true;
}

/* strconv.ParseInt/ParseUint(s, 0, 64) with Go's literal syntax (base prefixes, underscores) */
static bool parse_go_int(const char *s, size_t len, bool *neg, uint64_t *mag)
{
	size_t i = 0;
	unsigned base = 10;
	bool prefix = false, last_us = false, any = false;
	uint64_t v = 0;

	*neg = false;
	if (i < len && (s[i] == '+' || s[i] == '-'))
		*neg = s[i++] == '-';
	if (i + 1 < len && s[i] == '0') {
		char c = (char)tolower((unsigned char)s[i + 1]);
		if (c == 'x' || c == 'o' || c == 'b') {
			base = c == 'x' ? 16 : c == 'o' ? 8 : 2;
			i += 2;
			prefix = true;
			last_us = true; /* an underscore may follow the prefix */
		} else {
			base = 8;
			i++;
			any = true;
			last_us = false;
		}
	}
	for (; i < len; i++) {
		int d;
		if (s[i] == '_') {
			if (last_us && !prefix)
				return false;
			last_us = true;
			prefix = false;
			continue;
		}
		d = hexval((unsigned char)s[i]);
		if (d < 0 || (unsigned)d >= base)
			return false;
		if (v > (UINT64_MAX - (unsigned)d) / base)
			return false; /* out of range */
		v = v * base + (unsigned)d;
		last_us = false;
		prefix = false;
		any = true;
	}
	if (!any || last_us)
		return false;
	*mag = v;
	return true;
}

static void new_number(struct parser *p, struct node *n, struct item it)
{
	const char *s = it.val;
	size_t len = it.len;

	n->text = t_strndup(p->t, s, len);
	n->text_len = len;
	if (it.type == ITEM_CHAR_CONSTANT) {
		struct sbuf *b = p_sbuf(p);
		uint32_t r = 0;
		size_t i = 1;
		if (!unquote_char(s, len, &i, '\'', b, &r))
			p_errorf(p, "invalid syntax");
		if (i != len - 1)
			p_errorf(p, "malformed character constant: %s", n->text);
		n->is_int = n->is_float = n->is_rune = true;
		n->ival = r;
		n->fval = r;
		return;
	}
	if (it.type == ITEM_COMPLEX || (len && s[len - 1] == 'i'))
		p_errorf(p, "complex constants are not supported: %s", n->text);
	bool neg;
	uint64_t mag;
	if (parse_go_int(s, len, &neg, &mag)) {
		if (neg && mag > (uint64_t)INT64_MAX + 1)
			p_errorf(p, "integer overflow: \"%s\"", n->text);
		if (!neg && mag > INT64_MAX) {
			n->is_uint_only = n->is_float = true;
			n->fval = (double)mag;
			return;
		}
		n->is_int = true;
		n->ival = neg ? (int64_t)(0 - mag) : (int64_t)mag;
		n->is_float = true;
		n->fval = (double)n->ival;
		return;
	}
	/* a float: Go's syntax minus hex floats' rarer forms */
	char buf[128], *end;
	size_t k = 0;
	if (len >= sizeof(buf))
		p_errorf(p, "illegal number syntax: \"%s\"", n->text);
	for (size_t i = 0; i < len; i++)
		if (s[i] != '_')
			buf[k++] = s[i];
	buf[k] = '\0';
	errno = 0;
	double f = strtod(buf, &end);
	if (end == buf || *end || isinf(f))
		p_errorf(p, "illegal number syntax: \"%s\"", n->text);
	if (!strpbrk(buf, ".eEpP") && !(buf[0] == '0' && (buf[1] == 'x' || buf[1] == 'X')))
		p_errorf(p, "integer overflow: \"%s\"", n->text);
	n->is_float = true;
	n->fval = f;
	if (fabs(f) < 9.2e18 && f == (double)(int64_t)f) {
		n->is_int = true;
		n->ival = (int64_t)f;
	}
}

/* ---- grammar -------------------------------------------------------------------------------- */

static struct node *p_pipeline(struct parser *p, const char *context, enum item_type end);
static struct node *p_item_list(struct parser *p, struct node **ret_next);
static struct node *p_if(struct parser *p);

static void p_add_tree(struct parser *p, const char *name, struct node *root);

static struct node *p_use_var(struct parser *p, struct item it)
{
	struct node *v = new_node(p, N_VARIABLE, it.pos, it.line);
	size_t dot = 0;

	add_idents(p, v, it.val, it.len);
	while (dot < it.len && it.val[dot] != '.')
		dot++;
	for (size_t i = p->n_vars; i-- > 0;)
		if (strlen(p->vars[i]) == dot && memcmp(p->vars[i], it.val, dot) == 0)
			return v;
	p_errorf(p, "undefined variable \"%.*s\"", (int)dot, it.val);
}

static struct node *p_term(struct parser *p)
{
	struct item it = p_next_non_space(p);
	struct node *n;

	switch (it.type) {
	case ITEM_ERROR:
		p_errorf(p, "%.*s", (int)it.len, it.val);
	case ITEM_IDENTIFIER: {
		char *name = t_strndup(p->t, it.val, it.len);
		if (!tmpl_has_function(p->t, name))
			p_errorf(p, "function \"%s\" not defined", name);
		n = new_node(p, N_IDENTIFIER, it.pos, it.line);
		n->text = name;
		n->text_len = it.len;
		return n;
	}
	case ITEM_DOT:
		return new_node(p, N_DOT, it.pos, it.line);
	case ITEM_NIL:
		return new_node(p, N_NIL, it.pos, it.line);
	case ITEM_VARIABLE:
		return p_use_var(p, it);
	case ITEM_FIELD:
		n = new_node(p, N_FIELD, it.pos, it.line);
		add_idents(p, n, it.val + 1, it.len - 1);
		return n;
	case ITEM_BOOL:
		n = new_node(p, N_BOOL, it.pos, it.line);
		n->bval = it.len == 4;
		return n;
	case ITEM_CHAR_CONSTANT:
	case ITEM_COMPLEX:
	case ITEM_NUMBER:
		n = new_node(p, N_NUMBER, it.pos, it.line);
		new_number(p, n, it);
		return n;
	case ITEM_LEFT_PAREN:
		return p_pipeline(p, "parenthesized pipeline", ITEM_RIGHT_PAREN);
	case ITEM_STRING:
	case ITEM_RAW_STRING: {
		struct sbuf *b = p_sbuf(p);
		if (!unquote(it.val, it.len, b))
			p_errorf(p, "invalid syntax");
		n = new_node(p, N_STRING, it.pos, it.line);
		n->text = t_strndup(p->t, it.val, it.len);
		n->text_len = it.len;
		n->sval = t_strndup(p->t, sbuf_str(b), b->len);
		n->sval_len = b->len;
		return n;
	}
	default:
		p_backup(p);
		return NULL;
	}
}

static struct node *p_operand(struct parser *p)
{
	struct node *n = p_term(p);

	if (!n)
		return NULL;
	if (p_peek(p).type == ITEM_FIELD) {
		struct node *chain = new_node(p, N_CHAIN, p_peek(p).pos, p_peek(p).line);
		chain->chain_base = n;
		while (p_peek(p).type == ITEM_FIELD) {
			struct item f = p_next(p);
			add_idents(p, chain, f.val + 1, f.len - 1);
		}
		switch (n->type) {
		case N_FIELD:
		case N_VARIABLE: {
			/* more fields on the original, at the chain's position */
			struct node *m = new_node(p, n->type, chain->pos, chain->line);
			for (size_t i = 0; i < n->n_ident; i++)
				push_ident(p, m, n->ident[i], strlen(n->ident[i]));
			for (size_t i = 0; i < chain->n_ident; i++)
				push_ident(p, m, chain->ident[i], strlen(chain->ident[i]));
			return m;
		}
		case N_BOOL:
		case N_STRING:
		case N_NUMBER:
		case N_NIL:
		case N_DOT: {
			struct sbuf *b = p_sbuf(p);
			struct sbuf *q = p_sbuf(p);
			node_string(b, n);
			go_quote(q, b->p, b->len);
			p_errorf(p, "unexpected . after term %s", sbuf_str(q));
		}
		default:
			return chain;
		}
	}
	return n;
}

static struct node *p_command(struct parser *p)
{
	struct node *cmd =
		new_node(p, N_COMMAND, p_peek_non_space(p).pos, p_peek_non_space(p).line);

	for (;;) {
		p_peek_non_space(p);
		struct node *op = p_operand(p);
		if (op)
			push_node(p, &cmd->kids, &cmd->n_kids, op);
		struct item it = p_next(p);
		switch (it.type) {
		case ITEM_SPACE:
			continue;
		case ITEM_RIGHT_DELIM:
		case ITEM_RIGHT_PAREN:
			p_backup(p);
			break;
		case ITEM_PIPE:
			break;
		case ITEM_ERROR:
			p_errorf(p, "%.*s", (int)it.len, it.val);
		default:
			p_unexpected(p, it, "operand");
		}
		break;
	}
	if (cmd->n_kids == 0)
		p_errorf(p, "empty command");
	return cmd;
}

static void p_check_pipeline(struct parser *p, struct node *pipe, const char *context)
{
	if (pipe->n_kids == 0)
		p_errorf(p, "missing value for %s", context);
	for (size_t i = 1; i < pipe->n_kids; i++) {
		switch (pipe->kids[i]->kids[0]->type) {
		case N_BOOL:
		case N_DOT:
		case N_NIL:
		case N_NUMBER:
		case N_STRING:
			p_errorf(p, "non executable command in pipeline stage %zu", i + 1);
		default:
			break;
		}
	}
}

static struct node *p_pipeline(struct parser *p, const char *context, enum item_type end)
{
	struct item tok = p_peek_non_space(p);
	struct node *pipe = new_node(p, N_PIPE, tok.pos, tok.line);
	struct item v;

decls:
	v = p_peek_non_space(p);
	if (v.type == ITEM_VARIABLE) {
		p_next(p);
		struct item after = p_peek(p);
		struct item next = p_peek_non_space(p);
		if (next.type == ITEM_ASSIGN || next.type == ITEM_DECLARE) {
			pipe->is_assign = next.type == ITEM_ASSIGN;
			p_next_non_space(p);
			struct node *var = new_node(p, N_VARIABLE, v.pos, v.line);
			add_idents(p, var, v.val, v.len);
			push_node(p, &pipe->decl, &pipe->n_decl, var);
			push_var(p, v.val, v.len);
		} else if (next.type == ITEM_CHAR && next.len == 1 && next.val[0] == ',') {
			p_next_non_space(p);
			struct node *var = new_node(p, N_VARIABLE, v.pos, v.line);
			add_idents(p, var, v.val, v.len);
			push_node(p, &pipe->decl, &pipe->n_decl, var);
			push_var(p, v.val, v.len);
			if (strcmp(context, "range") == 0 && pipe->n_decl < 2) {
				switch (p_peek_non_space(p).type) {
				case ITEM_VARIABLE:
				case ITEM_RIGHT_DELIM:
				case ITEM_RIGHT_PAREN:
					goto decls;
				default:
					p_errorf(p, "range can only initialize variables");
				}
			}
			p_errorf(p, "too many declarations in %s", context);
		} else if (after.type == ITEM_SPACE) {
			p_backup3(p, v, after);
		} else {
			p_backup2(p, v);
		}
	}
	for (;;) {
		struct item it = p_next_non_space(p);
		if (it.type == end) {
			p_check_pipeline(p, pipe, context);
			return pipe;
		}
		switch (it.type) {
		case ITEM_BOOL:
		case ITEM_CHAR_CONSTANT:
		case ITEM_COMPLEX:
		case ITEM_DOT:
		case ITEM_FIELD:
		case ITEM_IDENTIFIER:
		case ITEM_NUMBER:
		case ITEM_NIL:
		case ITEM_RAW_STRING:
		case ITEM_STRING:
		case ITEM_VARIABLE:
		case ITEM_LEFT_PAREN:
			p_backup(p);
			push_node(p, &pipe->kids, &pipe->n_kids, p_command(p));
			break;
		default:
			p_unexpected(p, it, context);
		}
	}
}

static void p_pop_vars(struct parser *p, size_t n)
{
	p->n_vars = n;
}

static struct node *p_control(struct parser *p, enum node_type type, const char *context,
			      bool allow_else_if)
{
	size_t nvars = p->n_vars;
	struct node *n, *next = NULL;

	if (type == N_RANGE)
		p->range_depth++;
	struct node *pipe = p_pipeline(p, context, ITEM_RIGHT_DELIM);
	n = new_node(p, type, pipe->pos, pipe->line);
	n->pipe = pipe;
	n->list = p_item_list(p, &next);
	if (type == N_RANGE)
		p->range_depth--;
	if (next->type == N_ELSE) {
		/* {{else if}} / {{else with}} stand for {{else}}{{if ...}}...{{end}}{{end}} */
		if (allow_else_if && p_peek(p).type == (type == N_IF ? ITEM_IF : ITEM_WITH)) {
			p_next(p);
			n->else_list = new_node(p, N_LIST, next->pos, next->line);
			struct node *inner =
				type == N_IF ? p_if(p) : p_control(p, N_WITH, "with", true);
			push_node(p, &n->else_list->kids, &n->else_list->n_kids, inner);
		} else {
			n->else_list = p_item_list(p, &next);
			if (next->type != N_END) {
				struct sbuf *b = p_sbuf(p);
				node_string(b, next);
				p_errorf(p, "expected end; found %s", sbuf_str(b));
			}
		}
	}
	p_pop_vars(p, nvars);
	return n;
}

static struct node *p_if(struct parser *p)
{
	return p_control(p, N_IF, "if", true);
}

static char *p_template_name(struct parser *p, struct item it, const char *context)
{
	struct sbuf *b = p_sbuf(p);

	if (it.type != ITEM_STRING && it.type != ITEM_RAW_STRING)
		p_unexpected(p, it, context);
	if (!unquote(it.val, it.len, b))
		p_errorf(p, "invalid syntax");
	return t_strndup(p->t, sbuf_str(b), b->len);
}

static struct node *p_action(struct parser *p)
{
	struct item it = p_next_non_space(p);
	struct node *n;

	switch (it.type) {
	case ITEM_BLOCK: {
		struct item name_tok = p_next_non_space(p);
		char *name = p_template_name(p, name_tok, "block clause");
		struct node *pipe = p_pipeline(p, "block clause", ITEM_RIGHT_DELIM);
		struct node *next = NULL;
		size_t nvars = p->n_vars;
		int depth = p->range_depth;
		p->n_vars = 1; /* a block's body sees only $ */
		p->range_depth = 0;
		struct node *body = p_item_list(p, &next);
		if (next->type != N_END) {
			struct sbuf *b = p_sbuf(p);
			node_string(b, next);
			p_errorf(p, "unexpected %s in block clause", sbuf_str(b));
		}
		p->n_vars = nvars;
		p->range_depth = depth;
		p_add_tree(p, name, body);
		n = new_node(p, N_TEMPLATE, name_tok.pos, name_tok.line);
		n->text = name;
		n->pipe = pipe;
		return n;
	}
	case ITEM_BREAK:
	case ITEM_CONTINUE: {
		bool brk = it.type == ITEM_BREAK;
		struct item nx = p_next_non_space(p);
		if (nx.type != ITEM_RIGHT_DELIM)
			p_unexpected(p, nx, brk ? "{{break}}" : "{{continue}}");
		if (p->range_depth == 0)
			p_errorf(p, "%s outside {{range}}", brk ? "{{break}}" : "{{continue}}");
		return new_node(p, brk ? N_BREAK : N_CONTINUE, it.pos, it.line);
	}
	case ITEM_ELSE: {
		struct item pk = p_peek_non_space(p);
		if (pk.type == ITEM_IF || pk.type == ITEM_WITH)
			return new_node(p, N_ELSE, pk.pos, pk.line);
		struct item t = p_expect(p, ITEM_RIGHT_DELIM, "else");
		return new_node(p, N_ELSE, t.pos, t.line);
	}
	case ITEM_END: {
		struct item t = p_expect(p, ITEM_RIGHT_DELIM, "end");
		return new_node(p, N_END, t.pos, t.line);
	}
	case ITEM_IF:
		return p_if(p);
	case ITEM_RANGE:
		return p_control(p, N_RANGE, "range", false);
	case ITEM_WITH:
		return p_control(p, N_WITH, "with", true);
	case ITEM_TEMPLATE: {
		struct item name_tok = p_next_non_space(p);
		char *name = p_template_name(p, name_tok, "template clause");
		n = new_node(p, N_TEMPLATE, name_tok.pos, name_tok.line);
		n->text = name;
		if (p_next_non_space(p).type != ITEM_RIGHT_DELIM) {
			p_backup(p);
			n->pipe = p_pipeline(p, "template clause", ITEM_RIGHT_DELIM);
		}
		return n;
	}
	default:
		break;
	}
	p_backup(p);
	it = p_peek(p);
	n = new_node(p, N_ACTION, it.pos, it.line);
	n->pipe = p_pipeline(p, "command", ITEM_RIGHT_DELIM);
	return n;
}

static struct node *p_text_or_action(struct parser *p)
{
	struct item it = p_next_non_space(p);
	struct node *n;

	switch (it.type) {
	case ITEM_TEXT:
		n = new_node(p, N_TEXT, it.pos, it.line);
		n->text = t_strndup(p->t, it.val, it.len);
		n->text_len = it.len;
		return n;
	case ITEM_LEFT_DELIM:
		return p_action(p);
	case ITEM_ERROR:
		p_errorf(p, "%.*s", (int)it.len, it.val);
	default:
		p_unexpected(p, it, "input");
	}
}

static struct node *p_item_list(struct parser *p, struct node **ret_next)
{
	struct node *list = new_node(p, N_LIST, p_peek_non_space(p).pos, p_peek_non_space(p).line);

	while (p_peek_non_space(p).type != ITEM_EOF) {
		struct node *n = p_text_or_action(p);
		if (n->type == N_END || n->type == N_ELSE) {
			*ret_next = n;
			return list;
		}
		push_node(p, &list->kids, &list->n_kids, n);
	}
	p_errorf(p, "unexpected EOF");
}

static bool is_empty_tree(const struct node *n)
{
	if (!n)
		return true;
	switch (n->type) {
	case N_LIST:
		for (size_t i = 0; i < n->n_kids; i++)
			if (!is_empty_tree(n->kids[i]))
				return false;
		return true;
	case N_TEXT:
		for (size_t i = 0; i < n->text_len; i++)
			if (!isspace((unsigned char)n->text[i]))
				return false;
		return true;
	default:
		return false;
	}
}

static void p_add_tree(struct parser *p, const char *name, struct node *root)
{
	struct tmpl *t = p->t;

	for (size_t i = 0; i < t->n_trees; i++) {
		if (strcmp(t->trees[i].name, name) != 0)
			continue;
		if (is_empty_tree(t->trees[i].root)) {
			t->trees[i].root = root;
			return;
		}
		if (!is_empty_tree(root))
			p_errorf(p, "template: multiple definition of template \"%s\"", name);
		return;
	}
	t->trees = xrealloc(t->trees, (t->n_trees + 1) * sizeof(*t->trees));
	t->trees[t->n_trees].name = t_strndup(t, name, strlen(name));
	t->trees[t->n_trees].root = root;
	t->n_trees++;
}

static void p_parse(struct parser *p)
{
	struct node *root = new_node(p, N_LIST, p_peek(p).pos, p_peek(p).line);

	/* the top-level tree first, so it is trees[0] */
	p_add_tree(p, p->t->name, NULL);
	while (p_peek(p).type != ITEM_EOF) {
		if (p_peek(p).type == ITEM_LEFT_DELIM) {
			struct item delim = p_next(p);
			if (p_next_non_space(p).type == ITEM_DEFINE) {
				const char *context = "define clause";
				struct item name_tok = p_next_non_space(p);
				char *name = p_template_name(p, name_tok, context);
				struct node *next = NULL;
				size_t nvars = p->n_vars;
				p_expect(p, ITEM_RIGHT_DELIM, context);
				p->n_vars = 1;
				struct node *body = p_item_list(p, &next);
				if (next->type != N_END) {
					struct sbuf *b = p_sbuf(p);
					node_string(b, next);
					p_errorf(p, "unexpected %s in %s", sbuf_str(b), context);
				}
				p->n_vars = nvars;
				p_add_tree(p, name, body);
				continue;
			}
			p_backup2(p, delim);
		}
		struct node *n = p_text_or_action(p);
		if (n->type == N_END || n->type == N_ELSE) {
			struct sbuf *b = p_sbuf(p);
			node_string(b, n);
			p_errorf(p, "unexpected %s", sbuf_str(b));
		}
		push_node(p, &root->kids, &root->n_kids, n);
	}
	/* the top-level template, unless a define of the same name already gave it a body */
	if (!is_empty_tree(root) || !p->t->trees[0].root)
		p->t->trees[0].root = root;
}

void tmpl_free(struct tmpl *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n_allocs; i++)
		cli_arena_free(t->allocs[i]);
	free(t->allocs);
	free(t->trees);
	free(t->extra);
	free(t->name);
	free(t->text);
	free(t);
}

int tmpl_parse(const char *name, const char *text, const struct tmpl_func *extra, struct tmpl **ret,
	       char **ret_err)
{
	struct tmpl *t = xcalloc(1, sizeof(*t));
	struct parser *p = xcalloc(1, sizeof(*p));
	int r = 0;

	t->name = xstrdup(name);
	t->text = xstrdup(text);
	for (size_t i = 0; extra && extra[i].name; i++) {
		t->extra = xrealloc(t->extra, (t->n_extra + 1) * sizeof(*t->extra));
		t->extra[t->n_extra++] = extra[i];
	}
	p->t = t;
	p->lex.t = t;
	p->lex.input = t->text;
	p->lex.len = strlen(t->text);
	p->lex.line = p->lex.start_line = 1;
	p->lex.state = LS_TEXT;
	push_var(p, "$", 1);
	if (setjmp(p->jb) == 0) {
		p_parse(p);
		*ret = t;
	} else {
		*ret_err = p->err;
		tmpl_free(t);
		r = -EINVAL;
	}
	for (size_t i = 0; i < p->n_scratch; i++) {
		sbuf_release(p->scratch[i]);
		free(p->scratch[i]);
	}
	free(p->scratch);
	free(p->vars);
	free(p);
	return r;
}

/* ---- node strings (Go's String methods) -------------------------------------------------- */

void node_string(struct sbuf *out, const struct node *n)
{
	if (!n)
		return;
	switch (n->type) {
	case N_TEXT:
		sbuf_add(out, n->text, n->text_len);
		break;
	case N_LIST:
		for (size_t i = 0; i < n->n_kids; i++)
			node_string(out, n->kids[i]);
		break;
	case N_ACTION:
		sbuf_adds(out, "{{");
		node_string(out, n->pipe);
		sbuf_adds(out, "}}");
		break;
	case N_PIPE:
		for (size_t i = 0; i < n->n_decl; i++) {
			if (i)
				sbuf_adds(out, ", ");
			node_string(out, n->decl[i]);
		}
		if (n->n_decl)
			sbuf_adds(out, n->is_assign ? " = " : " := ");
		for (size_t i = 0; i < n->n_kids; i++) {
			if (i)
				sbuf_adds(out, " | ");
			node_string(out, n->kids[i]);
		}
		break;
	case N_COMMAND:
		for (size_t i = 0; i < n->n_kids; i++) {
			if (i)
				sbuf_addc(out, ' ');
			if (n->kids[i]->type == N_PIPE) {
				sbuf_addc(out, '(');
				node_string(out, n->kids[i]);
				sbuf_addc(out, ')');
			} else {
				node_string(out, n->kids[i]);
			}
		}
		break;
	case N_IDENTIFIER:
		sbuf_adds(out, n->text);
		break;
	case N_VARIABLE:
		for (size_t i = 0; i < n->n_ident; i++) {
			if (i)
				sbuf_addc(out, '.');
			sbuf_adds(out, n->ident[i]);
		}
		break;
	case N_DOT:
		sbuf_addc(out, '.');
		break;
	case N_NIL:
		sbuf_adds(out, "nil");
		break;
	case N_FIELD:
		for (size_t i = 0; i < n->n_ident; i++) {
			sbuf_addc(out, '.');
			sbuf_adds(out, n->ident[i]);
		}
		break;
	case N_CHAIN:
		if (n->chain_base->type == N_PIPE) {
			sbuf_addc(out, '(');
			node_string(out, n->chain_base);
			sbuf_addc(out, ')');
		} else {
			node_string(out, n->chain_base);
		}
		for (size_t i = 0; i < n->n_ident; i++) {
			sbuf_addc(out, '.');
			sbuf_adds(out, n->ident[i]);
		}
		break;
	case N_BOOL:
		sbuf_adds(out, n->bval ? "true" : "false");
		break;
	case N_NUMBER:
	case N_STRING:
		sbuf_add(out, n->text, n->text_len);
		break;
	case N_IF:
	case N_RANGE:
	case N_WITH:
		sbuf_adds(out, n->type == N_IF	    ? "{{if "
			       : n->type == N_RANGE ? "{{range "
						    : "{{with ");
		node_string(out, n->pipe);
		sbuf_adds(out, "}}");
		node_string(out, n->list);
		if (n->else_list) {
			sbuf_adds(out, "{{else}}");
			node_string(out, n->else_list);
		}
		sbuf_adds(out, "{{end}}");
		break;
	case N_TEMPLATE:
		sbuf_adds(out, "{{template ");
		go_quote(out, n->text, strlen(n->text));
		if (n->pipe) {
			sbuf_addc(out, ' ');
			node_string(out, n->pipe);
		}
		sbuf_adds(out, "}}");
		break;
	case N_BREAK:
		sbuf_adds(out, "{{break}}");
		break;
	case N_CONTINUE:
		sbuf_adds(out, "{{continue}}");
		break;
	case N_END:
		sbuf_adds(out, "{{end}}");
		break;
	case N_ELSE:
		sbuf_adds(out, "{{else}}");
		break;
	}
}
