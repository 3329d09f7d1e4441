/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Dockerfile text read by the rules of BuildKit's parser (its parser and shell packages, which
 * dockerd's builder uses): see dockerfile.h.  Pure string work; the text comes from a request,
 * so nothing in it is trusted and every loop is bounded by its length.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dockerfile.h"
#include "base/banned.h"

/* Go's %q of s, enough for messages: quotes, backslashes and control characters escaped. */
static char *go_quote(const char *s)
{
	struct sbuf b = {0};

	sb_addc(&b, '"');
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		char esc[8];
		switch (*p) {
		case '"':
			sb_adds(&b, "\\\"");
			break;
		case '\\':
			sb_adds(&b, "\\\\");
			break;
		case '\n':
			sb_adds(&b, "\\n");
			break;
		case '\t':
			sb_adds(&b, "\\t");
			break;
		case '\r':
			sb_adds(&b, "\\r");
			break;
		default:
			if (*p < 0x20 || *p == 0x7f) {
				snprintf(esc, sizeof(esc), "\\x%02x", *p);
				sb_adds(&b, esc);
			} else {
				sb_addc(&b, (char)*p);
			}
		}
	}
	sb_addc(&b, '"');
	return sb_take(&b);
}

/* ---- the shell lexer: ProcessWord / ProcessWords --------------------------------------------- */

struct lex {
	const char *p;	   /* next character */
	char escape;	   /* '\\' or '`' */
	const json_t *env; /* array of "K=V" */
	struct sbuf word;  /* the result as one word */
	char **words;	   /* the result split into words */
	struct sbuf cur;   /* the word being built for words */
	bool in_word;
	bool oom;
};

static void words_end(struct lex *l)
{
	if (l->cur.len) {
		_cleanup_free_ char *w = sb_take(&l->cur);
		if (!w || berth_strv_push(&l->words, w) < 0)
			l->oom = true;
	}
	l->in_word = false;
}

/* addChar: a space ends a word, anything else is added */
static void words_add_char(struct lex *l, char c)
{
	if (is_space(c)) {
		if (l->in_word)
			words_end(l);
		return;
	}
	sb_addc(&l->cur, c);
	l->in_word = true;
}

static void words_add_raw(struct lex *l, const char *s, size_t n)
{
	sb_addn(&l->cur, s, n);
	l->in_word = true;
}

/* The value of name in env ("" and false when unset). */
static const char *env_get(const json_t *env, const char *name, bool *set)
{
	size_t i, n = strlen(name);
	json_t *e;

	/* the last assignment wins, as a map built in order would have it */
	const char *found = NULL;
	json_array_foreach ((json_t *)env, i, e) {
		const char *s = json_string_value(e);
		if (s && strncmp(s, name, n) == 0 && (s[n] == '=' || s[n] == '\0'))
			found = s[n] == '=' ? s + n + 1 : "";
	}
	*set = found != NULL;
	return found ? found : "";
}

static int lex_until(struct lex *l, char stop, char **ret, struct berth_error **err);

static bool is_special_param(char c)
{
	return strchr("@*#?-$!0", c) != NULL && c != '\0';
}

static char *lex_name(struct lex *l)
{
	struct sbuf b = {0};

	if (isdigit((unsigned char)*l->p)) {
		while (isdigit((unsigned char)*l->p))
			sb_addc(&b, *l->p++);
		return sb_take(&b);
	}
	if (is_special_param(*l->p)) {
		sb_addc(&b, *l->p++);
		return sb_take(&b);
	}
	while (*l->p &&
	       (isalnum((unsigned char)*l->p) || *l->p == '_' || (unsigned char)*l->p >= 0x80))
		sb_addc(&b, *l->p++);
	return sb_take(&b);
}

/* processDollar: at '$' */
static int lex_dollar(struct lex *l, char **ret, struct berth_error **err)
{
	_cleanup_free_ char *name = NULL, *word = NULL;
	bool set, null_is_unset = false;
	const char *value;
	char op;
	int r;

	l->p++;
	if (*l->p != '{') {
		name = lex_name(l);
		if (!name)
			return df_oom(err);
		if (!*name)
			return (*ret = strdup("$")) ? 0 : df_oom(err);
		value = env_get(l->env, name, &set);
		return (*ret = strdup(value)) ? 0 : df_oom(err);
	}
	l->p++;
	if (!*l->p)
		return berth_error_set(err, EINVAL, "syntax error: missing '}'");
	if (*l->p == '{' || *l->p == '}' || *l->p == ':')
		return berth_error_set(err, EINVAL, "syntax error: bad substitution");
	name = lex_name(l);
	if (!name)
		return df_oom(err);
	op = *l->p;
	if (op)
		l->p++;
	if (op == '}') {
		value = env_get(l->env, name, &set);
		return (*ret = strdup(value)) ? 0 : df_oom(err);
	}
	char ops[3] = {op, 0, 0};
	if (op == ':') {
		null_is_unset = true;
		op = *l->p;
		ops[1] = op;
		if (op)
			l->p++;
	}
	if (op != '+' && op != '-' && op != '?')
		/* at the end of the input Go's scanner gives EOF, which prints as U+FFFD */
		return berth_error_set(err, EINVAL, "unsupported modifier (%s%s) in substitution",
				       ops, op ? "" : "\xef\xbf\xbd");
	r = lex_until(l, '}', &word, err);
	if (r < 0) {
		if (!*l->p) {
			berth_error_freep(err);
			return berth_error_set(err, EINVAL, "syntax error: missing '}'");
		}
		return r;
	}
	value = env_get(l->env, name, &set);
	switch (op) {
	case '-':
		return (*ret = strdup(!set || (null_is_unset && !*value) ? word : value))
			       ? 0
			       : df_oom(err);
	case '+':
		return (*ret = strdup(!set || (null_is_unset && !*value) ? "" : word))
			       ? 0
			       : df_oom(err);
	default: /* '?' */
		if (!set)
			return berth_error_set(err, EINVAL, "%s: %s", name,
					       *word ? word : "is not allowed to be unset");
		if (null_is_unset && !*value)
			return berth_error_set(err, EINVAL, "%s: %s", name,
					       *word ? word : "is not allowed to be empty");
		return (*ret = strdup(value)) ? 0 : df_oom(err);
	}
}

/*
 * A quoted word from its opening quote q: nothing is special between single quotes; between
 * double quotes $ expands and the escape character keeps ", $ and itself.
 */
static int lex_quoted(struct lex *l, char q, char **ret, struct berth_error **err)
{
	struct sbuf b = {0};

	l->p++;
	for (;;) {
		if (!*l->p) {
			free(sb_take(&b));
			return berth_error_set(err, EINVAL,
					       "unexpected end of statement while looking for "
					       "matching %s-quote",
					       q == '\'' ? "single" : "double");
		}
		if (*l->p == q) {
			l->p++;
			break;
		}
		if (q == '"' && *l->p == '$') {
			_cleanup_free_ char *v = NULL;
			int r = lex_dollar(l, &v, err);
			if (r < 0) {
				free(sb_take(&b));
				return r;
			}
			sb_adds(&b, v);
			continue;
		}
		char c = *l->p++;
		if (q == '"' && c == l->escape) {
			if (!*l->p)
				continue;
			if (*l->p == '"' || *l->p == '$' || *l->p == l->escape)
				c = *l->p++;
		}
		sb_addc(&b, c);
	}
	*ret = sb_take(&b);
	return *ret ? 0 : df_oom(err);
}

/* processStopOn: stop is '\0' for the whole input, '}' inside ${...:-word} */
static int lex_until(struct lex *l, char stop, char **ret, struct berth_error **err)
{
	struct sbuf result = {0};
	int r;

	while (*l->p) {
		char c = *l->p;
		if (stop && c == stop) {
			l->p++;
			*ret = sb_take(&result);
			return *ret ? 0 : df_oom(err);
		}
		if (c == '$' || c == '\'' || c == '"') {
			_cleanup_free_ char *v = NULL;
			r = c == '$' ? lex_dollar(l, &v, err) : lex_quoted(l, c, &v, err);
			if (r < 0) {
				free(sb_take(&result));
				return r;
			}
			sb_adds(&result, v);
			if (!stop) {
				if (c == '$')
					for (const char *q = v; *q; q++)
						words_add_char(l, *q);
				else
					words_add_raw(l, v, strlen(v));
			}
			continue;
		}
		l->p++;
		if (c == l->escape) {
			if (!*l->p)
				break;
			c = *l->p++;
			if (!stop)
				words_add_raw(l, &c, 1);
		} else if (!stop) {
			words_add_char(l, c);
		}
		sb_addc(&result, c);
	}
	if (stop) {
		free(sb_take(&result));
		return berth_error_set(err, EINVAL,
				       "unexpected end of statement while looking for matching %c",
				       stop);
	}
	*ret = sb_take(&result);
	return *ret ? 0 : df_oom(err);
}

int df_lex(const char *s, char escape, const json_t *env, char **ret_word, char ***ret_words,
	   struct berth_error **err)
{
	struct lex l = {.p = s, .escape = escape, .env = env};
	_cleanup_free_ char *word = NULL;
	int r;

	l.words = calloc(1, sizeof(char *));
	if (!l.words)
		return df_oom(err);
	r = lex_until(&l, '\0', &word, err);
	if (r == 0)
		words_end(&l);
	free(sb_take(&l.cur));
	if (r == 0 && l.oom)
		r = df_oom(err);
	if (r < 0) {
		berth_strv_free(l.words);
		if (r != -ENOMEM) {
			_cleanup_free_ char *q = go_quote(s);
			berth_error_wrap(err, "failed to process %s", q ? q : s);
		}
		return r;
	}
	if (ret_word)
		*ret_word = TAKE_PTR(word);
	if (ret_words)
		*ret_words = TAKE_PTR(l.words);
	berth_strv_free(l.words);
	return 0;
}

/* ---- the parser: lines, commands, flags, arguments ------------------------------------------ */

void df_instr_release(struct df_instr *in)
{
	free(in->cmd);
	free(in->original);
	free(in->heredoc);
	free(in->heredoc_word);
	for (size_t i = 0; i < in->n_heredocs; i++) {
		free(in->heredocs[i].name);
		free(in->heredocs[i].content);
	}
	free(in->heredocs);
	berth_strv_free(in->flags);
	berth_strv_free(in->args);
	memset(in, 0, sizeof(*in));
}

/* extractBuilderFlags: leading "--x" words; returns the rest (a pointer into line). */
static const char *extract_flags(const char *line, char ***flags, bool *oom_)
{
	const char *p = line;

	for (;;) {
		struct sbuf w = {0};
		char quote = 0;
		bool blank_ok = false;

		while (*p && is_space(*p))
			p++;
		if (!*p)
			return p;
		if (p[0] != '-' || p[1] != '-')
			return p;
		for (; *p; p++) {
			char c = *p;
			if (quote) {
				if (c == quote) {
					quote = 0;
					continue;
				}
				if (c == '\\') {
					if (!p[1]) {
						quote = 0;
						continue;
					}
					c = *++p;
				}
				sb_addc(&w, c);
				continue;
			}
			if (is_space(c))
				break;
			if (c == '\'' || c == '"') {
				quote = c;
				blank_ok = true;
				continue;
			}
			if (c == '\\') {
				if (!p[1])
					continue;
				c = *++p;
			}
			sb_addc(&w, c);
		}
		_cleanup_free_ char *word = sb_take(&w);
		if (!word) {
			*oom_ = true;
			return p;
		}
		if (strcmp(word, "--") == 0)
			return p;
		if ((blank_ok || *word) && berth_strv_push(flags, word) < 0) {
			*oom_ = true;
			return p;
		}
	}
}

/* parseWords: words with their quotes kept (stripped later by the lexer) */
static char **parse_words(const char *rest, char escape)
{
	char **words = calloc(1, sizeof(char *));
	struct sbuf w = {0};
	enum { SPACES, WORD, QUOTE } phase = SPACES;
	bool blank_ok = false;
	char quote = 0;

	if (!words)
		return NULL;
	for (const char *p = rest;; p++) {
		char c = *p;
		if (phase == SPACES) {
			if (!c)
				break;
			if (is_space(c))
				continue;
			phase = WORD;
		}
		if (!c) {
			if (blank_ok || w.len) {
				_cleanup_free_ char *s = sb_take(&w);
				if (!s || berth_strv_push(&words, s) < 0)
					goto fail;
			}
			break;
		}
		if (phase == WORD) {
			if (is_space(c)) {
				phase = SPACES;
				if (blank_ok || w.len) {
					_cleanup_free_ char *s = sb_take(&w);
					if (!s || berth_strv_push(&words, s) < 0)
						goto fail;
				}
				free(sb_take(&w));
				blank_ok = false;
				continue;
			}
			if (c == '\'' || c == '"') {
				quote = c;
				blank_ok = true;
				phase = QUOTE;
			}
			if (c == escape) {
				if (!p[1])
					continue;
				sb_addc(&w, c);
				c = *++p;
			}
			sb_addc(&w, c);
			continue;
		}
		/* QUOTE */
		if (c == quote)
			phase = WORD;
		if (c == escape && quote != '\'') {
			if (!p[1]) {
				phase = WORD;
				continue;
			}
			sb_addc(&w, c);
			c = *++p;
		}
		sb_addc(&w, c);
	}
	if (w.oom)
		goto fail;
	free(sb_take(&w));
	return words;
fail:
	free(sb_take(&w));
	berth_strv_free(words);
	return NULL;
}

/* parseNameVal (ENV, LABEL): "k v" (the old form) or k=v words -> [k, v, k, v, ...] */
static int parse_name_val(const char *rest, const char *key, char escape, char ***ret,
			  struct berth_error **err)
{
	_cleanup_strv_ char **words = parse_words(rest, escape);
	_cleanup_strv_ char **out = calloc(1, sizeof(char *));

	if (!words || !out)
		return df_oom(err);
	if (!words[0]) {
		*ret = TAKE_PTR(out);
		return 0;
	}
	if (!strchr(words[0], '=')) {
		const char *p = rest;
		size_t n = 0;
		while (p[n] && !is_ws(p[n]))
			n++;
		const char *v = p + n;
		while (*v && is_ws(*v))
			v++;
		if (!p[n])
			return berth_error_set(err, EINVAL, "%s must have two arguments", key);
		_cleanup_free_ char *k = strndup(p, n);
		if (!k || berth_strv_push(&out, k) < 0 || berth_strv_push(&out, v) < 0)
			return df_oom(err);
		*ret = TAKE_PTR(out);
		return 0;
	}
	for (size_t i = 0; words[i]; i++) {
		char *eq = strchr(words[i], '=');
		if (!eq) {
			_cleanup_free_ char *q = go_quote(words[i]);
			return berth_error_set(err, EINVAL,
					       "Syntax error - can't find = in %s. Must be of the "
					       "form: name=value",
					       q ? q : words[i]);
		}
		*eq = '\0';
		if (berth_strv_push(&out, words[i]) < 0 || berth_strv_push(&out, eq + 1) < 0)
			return df_oom(err);
	}
	*ret = TAKE_PTR(out);
	return 0;
}

/* parseJSON: 1 an array of strings (*ret), 0 not JSON, <0 an array with a non-string */
static int parse_json_array(const char *rest, char ***ret, struct berth_error **err)
{
	_cleanup_json_ json_t *j = NULL;
	json_error_t je;
	size_t i;
	json_t *e;

	while (*rest && is_space(*rest))
		rest++;
	if (*rest != '[')
		return 0;
	/* Go's json.Decoder reads the first value and leaves what follows */
	j = json_loads(rest, JSON_DISABLE_EOF_CHECK | JSON_DECODE_ANY, &je);
	if (!json_is_array(j))
		return 0;
	_cleanup_strv_ char **out = calloc(1, sizeof(char *));
	if (!out)
		return df_oom(err);
	json_array_foreach (j, i, e) {
		if (!json_is_string(e))
			return berth_error_set(err, EINVAL,
					       "when using JSON array syntax, arrays must be "
					       "comprised of strings only");
		if (berth_strv_push(&out, json_string_value(e)) < 0)
			return df_oom(err);
	}
	*ret = TAKE_PTR(out);
	return 1;
}

static char **strv_of(const char *s)
{
	char **v = calloc(1, sizeof(char *));

	if (v && s && *s && berth_strv_push(&v, s) < 0) {
		berth_strv_free(v);
		return NULL;
	}
	return v;
}

static char **split_ws(const char *rest)
{
	char **v = calloc(1, sizeof(char *));

	if (!v)
		return NULL;
	if (!*rest)
		return v;
	/* reWhitespace.Split(rest, -1): empty fields between separators are kept */
	const char *p = rest;
	for (;;) {
		size_t n = 0;
		while (p[n] && !is_ws(p[n]))
			n++;
		_cleanup_free_ char *w = strndup(p, n);
		if (!w || berth_strv_push(&v, w) < 0) {
			berth_strv_free(v);
			return NULL;
		}
		if (!p[n])
			break;
		p += n;
		while (*p && is_ws(*p))
			p++;
		if (!*p) {
			if (berth_strv_push(&v, "") < 0) {
				berth_strv_free(v);
				return NULL;
			}
			break;
		}
	}
	return v;
}

static int parse_line(const char *line, char escape, struct df_instr *ret,
		      struct berth_error **err);

/* The dispatch parsers of the parser package, by instruction */
static int parse_args(const char *lc, const char *rest, char escape, struct df_instr *in,
		      struct berth_error **err)
{
	int r;

	if (!strcmp(lc, "env") || !strcmp(lc, "label"))
		return parse_name_val(rest, !strcmp(lc, "env") ? "ENV" : "LABEL", escape, &in->args,
				      err);
	if (!strcmp(lc, "cmd") || !strcmp(lc, "entrypoint") || !strcmp(lc, "run") ||
	    !strcmp(lc, "shell")) {
		if (!*rest)
			return (in->args = calloc(1, sizeof(char *))) ? 0 : df_oom(err);
		r = parse_json_array(rest, &in->args, err);
		if (r < 0)
			return r;
		in->json = r == 1;
		if (!in->json && !(in->args = strv_of(rest)))
			return df_oom(err);
		return 0;
	}
	if (!strcmp(lc, "volume") || !strcmp(lc, "add") || !strcmp(lc, "copy")) {
		r = parse_json_array(rest, &in->args, err);
		if (r < 0)
			return r;
		in->json = r == 1;
		if (!in->json && !(in->args = split_ws(rest)))
			return df_oom(err);
		return 0;
	}
	if (!strcmp(lc, "expose") || !strcmp(lc, "from"))
		return (in->args = split_ws(rest)) ? 0 : df_oom(err);
	if (!strcmp(lc, "user") || !strcmp(lc, "workdir") || !strcmp(lc, "stopsignal") ||
	    !strcmp(lc, "maintainer"))
		return (in->args = strv_of(rest)) ? 0 : df_oom(err);
	if (!strcmp(lc, "arg"))
		return (in->args = parse_words(rest, escape)) ? 0 : df_oom(err);
	if (!strcmp(lc, "healthcheck")) {
		size_t sep = 0, next;
		while (rest[sep] && !is_space(rest[sep]))
			sep++;
		next = sep;
		while (rest[next] && is_space(rest[next]))
			next++;
		in->args = calloc(1, sizeof(char *));
		if (!in->args)
			return df_oom(err);
		if (sep == 0)
			return 0;
		_cleanup_free_ char *typ = strndup(rest, sep);
		_cleanup_strv_ char **cmd = NULL;
		if (!typ || berth_strv_push(&in->args, typ) < 0)
			return df_oom(err);
		if (rest[next]) {
			r = parse_json_array(rest + next, &cmd, err);
			if (r < 0)
				return r;
			in->json = r == 1;
			if (!in->json && !(cmd = strv_of(rest + next)))
				return df_oom(err);
			for (size_t i = 0; cmd[i]; i++)
				if (berth_strv_push(&in->args, cmd[i]) < 0)
					return df_oom(err);
		}
		return 0;
	}
	if (!strcmp(lc, "onbuild")) {
		in->args = calloc(1, sizeof(char *));
		if (!in->args)
			return df_oom(err);
		if (!*rest)
			return 0;
		struct df_instr child = {0};
		r = parse_line(rest, escape, &child, err);
		if (r < 0)
			return r;
		r = berth_strv_push(&in->args, child.cmd);
		for (size_t i = 0; r == 0 && child.args && child.args[i]; i++)
			r = berth_strv_push(&in->args, child.args[i]);
		df_instr_release(&child);
		return r < 0 ? df_oom(err) : 0;
	}
	/* an instruction the parser does not know: its arguments are ignored */
	return (in->args = calloc(1, sizeof(char *))) ? 0 : df_oom(err);
}

/* newNodeFromLine */
static int parse_line(const char *line, char escape, struct df_instr *ret, struct berth_error **err)
{
	struct df_instr in = {0};
	const char *p = line, *rest = "";
	size_t n = 0;
	bool oom_ = false;
	int r;

	while (*p && is_space(*p))
		p++;
	while (p[n] && !is_ws(p[n]))
		n++;
	in.cmd = strndup(p, n);
	in.original = strdup(line);
	in.flags = calloc(1, sizeof(char *));
	if (!in.cmd || !in.original || !in.flags) {
		df_instr_release(&in);
		return df_oom(err);
	}
	if (p[n]) {
		const char *a = p + n;
		while (*a && is_ws(*a))
			a++;
		rest = extract_flags(a, &in.flags, &oom_);
		if (oom_) {
			df_instr_release(&in);
			return df_oom(err);
		}
	}
	/* the arguments, trimmed */
	_cleanup_free_ char *trimmed = strdup(rest);
	if (!trimmed) {
		df_instr_release(&in);
		return df_oom(err);
	}
	char *t = trimmed;
	while (*t && is_space(*t))
		t++;
	size_t tl = strlen(t);
	while (tl && is_space(t[tl - 1]))
		t[--tl] = '\0';
	_cleanup_free_ char *lc = strdup(in.cmd);
	if (!lc) {
		df_instr_release(&in);
		return df_oom(err);
	}
	for (char *c = lc; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	r = parse_args(lc, t, escape, &in, err);
	if (r < 0) {
		df_instr_release(&in);
		return r;
	}
	*ret = in;
	return 0;
}

static bool is_comment(const char *line)
{
	while (*line && is_space(*line))
		line++;
	return *line == '#';
}

/* The line without a trailing continuation (escape + blanks); true when it continues. */
static bool continues(char *line, char escape)
{
	size_t n = strlen(line);

	while (n && (line[n - 1] == ' ' || line[n - 1] == '\t'))
		n--;
	if (!n || line[n - 1] != escape)
		return false;
	if (n >= 2 && line[n - 2] == escape)
		return false; /* an escaped escape */
	line[n - 1] = '\0';
	return true;
}

/* "# escape=`" at the top; 1 when line is one, 0 not, <0 a bad token */
static int escape_directive(const char *line, char *escape, struct berth_error **err)
{
	const char *p = line;
	size_t n;

	if (*p++ != '#')
		return 0;
	while (*p && is_space(*p))
		p++;
	if (strncasecmp(p, "escape", 6) != 0)
		return 0;
	p += 6;
	while (*p && is_space(*p))
		p++;
	if (*p++ != '=')
		return 0;
	while (*p && is_space(*p))
		p++;
	n = strlen(p);
	while (n && is_space(p[n - 1]))
		n--;
	if (n == 1 && (*p == '`' || *p == '\\')) {
		*escape = *p;
		return 1;
	}
	return berth_error_set(err, EINVAL, "invalid escape token '%.*s' does not match ` or \\",
			       (int)n, p);
}

/*
 * Go's bufio.Scanner stops at a line longer than its 64 KiB buffer: the parser then has the
 * instructions before it, or none at all.
 */
#define DF_MAX_LINE 65535

static int too_long(size_t n_before, struct berth_error **err)
{
	if (n_before == 0)
		return berth_error_set(err, EINVAL, "file with no instructions");
	return berth_error_set(err, EINVAL, "dockerfile line greater than max allowed size of %d",
			       DF_MAX_LINE);
}

/*
 * A shell-form RUN that names a heredoc ("RUN <<EOF", "RUN python3 <<-'EOF'"): *ret_word is the
 * word that ends it (NULL: none), *strip_tabs for "<<-".
 */
static int heredoc_marker(const char *line, char **ret_word, bool *strip_tabs)
{
	const char *p = line, *w;
	char quote = 0;

	*ret_word = NULL;
	while (*p && is_space(*p))
		p++;
	if (strncasecmp(p, "run", 3) || !is_space(p[3]))
		return 0;
	p += 3;
	while (*p && is_space(*p))
		p++;
	if (*p == '[')
		return 0; /* the exec form */
	for (; *p; p++) {
		if (quote) {
			if (*p == quote)
				quote = 0;
			continue;
		}
		if (*p == '"' || *p == '\'') {
			quote = *p;
			continue;
		}
		if (p[0] != '<' || p[1] != '<' || p[2] == '<')
			continue;
		w = p + 2;
		*strip_tabs = *w == '-';
		if (*w == '-')
			w++;
		char q = (*w == '"' || *w == '\'') ? *w++ : 0;
		size_t n = 0;
		while (w[n] && (isalnum((unsigned char)w[n]) || w[n] == '_'))
			n++;
		if (!n || (q && w[n] != q))
			continue;
		*ret_word = strndup(w, n);
		return *ret_word ? 0 : -ENOMEM;
	}
	return 0;
}

/*
 * COPY and ADD take any number of heredocs, each a word "<<[-]WORD" or "<<[-]'WORD'"/"\"WORD\""
 * outside quotes: *ret gets them in order (names, strip-tabs flags, quoted), *ret_n their count.
 */
struct marker {
	char *word;
	bool strip_tabs, quoted;
};

static void markers_free(struct marker *m, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(m[i].word);
	free(m);
}

static int copy_heredoc_markers(const char *line, struct marker **ret, size_t *ret_n)
{
	const char *p = line;
	struct marker *v = NULL;
	size_t n = 0;

	*ret = NULL;
	*ret_n = 0;
	while (*p && is_space(*p))
		p++;
	if (!((!strncasecmp(p, "copy", 4) && is_space(p[4])) ||
	      (!strncasecmp(p, "add", 3) && is_space(p[3]))))
		return 0;
	p += strcspn(p, " \t");
	while (*p) {
		while (*p && is_space(*p))
			p++;
		const char *w = p;
		size_t len = strcspn(p, " \t\n\v\f\r");
		p += len;
		if (*w == '[' && n == 0)
			return 0; /* the JSON form */
		if (len < 3 || w[0] != '<' || w[1] != '<' || w[2] == '<')
			continue;
		const char *q = w + 2, *end = w + len;
		bool strip = *q == '-';
		if (strip)
			q++;
		char quote = (*q == '"' || *q == '\'') ? *q++ : 0;
		if (quote) {
			if (end - q < 2 || end[-1] != quote)
				continue;
			end--;
		}
		if (end <= q)
			continue;
		struct marker *bigger = realloc(v, (n + 1) * sizeof(*v));
		if (!bigger)
			goto oom;
		v = bigger;
		v[n] = (struct marker){strndup(q, (size_t)(end - q)), strip, quote != 0};
		if (!v[n++].word)
			goto oom;
	}
	*ret = v;
	*ret_n = n;
	return 0;
oom:
	markers_free(v, n);
	return -ENOMEM;
}

/* The next line of *save, cut there and counted in *lineno; *save moves past it (NULL at the end). */
static char *next_line(char **save, int *lineno)
{
	char *line = *save, *nl = strchr(line, '\n');

	*save = nl ? nl + 1 : NULL;
	if (nl)
		*nl = '\0';
	(*lineno)++;
	return line;
}

/* A CRLF line without its '\r' */
static void strip_cr(char *line)
{
	size_t n = strlen(line);

	if (n && line[n - 1] == '\r')
		line[n - 1] = '\0';
}

/* The body of one heredoc: the lines after *save up to word; NULL content when unterminated. */
static int read_heredoc(char **save, int *lineno, const char *word, bool strip_tabs, char **ret_doc,
			bool *ret_closed)
{
	struct sbuf body = {0};
	bool closed = false;

	while (*save && !closed) {
		char *next = next_line(save, lineno);
		strip_cr(next);
		const char *cmp = next;
		while (strip_tabs && *cmp == '\t')
			cmp++;
		if (!strcmp(cmp, word)) {
			closed = true;
			break;
		}
		sb_adds(&body, strip_tabs ? cmp : next);
		sb_addc(&body, '\n');
	}
	*ret_closed = closed;
	*ret_doc = sb_take(&body);
	return *ret_doc ? 0 : -ENOMEM;
}

int df_expand_heredoc(const char *content, char escape, const json_t *env, char **ret,
		      struct berth_error **err)
{
	struct sbuf out = {0};
	const char *p = content;

	while (*p) {
		if (*p == escape && p[1]) {
			sb_addn(&out, p, 2);
			p += 2;
			continue;
		}
		if (*p != '$') {
			sb_addc(&out, *p++);
			continue;
		}
		size_t len = 0;
		if (p[1] == '{') {
			int depth = 0;
			for (len = 1; p[len]; len++) {
				if (p[len] == '{')
					depth++;
				else if (p[len] == '}' && --depth == 0)
					break;
			}
			if (!p[len]) {
				free(sb_take(&out));
				return berth_error_set(err, EINVAL,
						       "failed to process \"%s\": missing '}'", p);
			}
			len++;
		} else if (isalpha((unsigned char)p[1]) || p[1] == '_') {
			for (len = 1; isalnum((unsigned char)p[len]) || p[len] == '_'; len++)
				;
		} else {
			sb_addc(&out, *p++);
			continue;
		}
		_cleanup_free_ char *var = strndup(p, len), *val = NULL;
		if (!var) {
			free(sb_take(&out));
			return df_oom(err);
		}
		int r = df_lex(var, escape, env, &val, NULL, err);
		if (r < 0) {
			free(sb_take(&out));
			return r;
		}
		sb_adds(&out, val);
		p += len;
	}
	*ret = sb_take(&out);
	return *ret ? 0 : df_oom(err);
}

/* parser.Parse: the instructions of text, in order */
int df_parse(const char *text, struct df_instr **ret, size_t *ret_n, char *ret_escape,
	     struct berth_error **err)
{
	_cleanup_free_ char *copy = strdup(text);
	struct df_instr *v = NULL;
	size_t n = 0;
	char escape = '\\';
	bool directives = true;
	char *save = copy;
	int lineno = 0;
	int r = 0;

	if (!copy)
		return df_oom(err);
	/* a UTF-8 byte order mark at the very start */
	if (!strncmp(save, "\xef\xbb\xbf", 3))
		save += 3;
	while (save && r == 0) {
		char *line = next_line(&save, &lineno);
		if (strlen(line) > DF_MAX_LINE) {
			r = too_long(n, err);
			break;
		}
		int start = lineno;
		strip_cr(line);
		while (*line && is_space(*line))
			line++;
		if (directives) {
			int d = escape_directive(line, &escape, err);
			if (d < 0) {
				r = d;
				break;
			}
			if (d == 0)
				directives = false;
		}
		if (*line == '#')
			line += strlen(line); /* a comment */
		if (!*line)
			continue;
		struct sbuf joined = {0};
		bool more = continues(line, escape);
		sb_adds(&joined, line);
		while (more && save) {
			char *next = next_line(&save, &lineno);
			if (strlen(next) > DF_MAX_LINE) {
				r = too_long(n, err);
				break;
			}
			strip_cr(next);
			if (is_comment(next))
				continue;
			const char *q = next;
			while (*q && is_space(*q))
				q++;
			if (!*q)
				continue; /* an empty continuation line */
			more = continues(next, escape);
			sb_adds(&joined, next);
		}
		_cleanup_free_ char *full = sb_take(&joined);
		if (r < 0)
			break;
		if (!full) {
			r = df_oom(err);
			break;
		}
		struct df_instr *bigger = realloc(v, (n + 1) * sizeof(*v));
		if (!bigger) {
			r = df_oom(err);
			break;
		}
		v = bigger;
		/* RUN <<WORD: the lines up to WORD are the heredoc */
		_cleanup_free_ char *word = NULL, *doc = NULL;
		bool strip_tabs = false;
		if (heredoc_marker(full, &word, &strip_tabs) < 0) {
			r = df_oom(err);
			break;
		}
		if (word) {
			bool closed = false;
			if (read_heredoc(&save, &lineno, word, strip_tabs, &doc, &closed) < 0) {
				r = df_oom(err);
				break;
			}
			if (!closed) {
				r = berth_error_set(err, EINVAL,
						    "unterminated heredoc %s on line %d", word,
						    start);
				break;
			}
		}
		struct marker *marks = NULL;
		size_t n_marks = 0;
		struct df_heredoc *docs = NULL;
		if (!word && copy_heredoc_markers(full, &marks, &n_marks) < 0) {
			r = df_oom(err);
			break;
		}
		if (n_marks && !(docs = calloc(n_marks, sizeof(*docs))))
			r = df_oom(err);
		for (size_t i = 0; r == 0 && i < n_marks; i++) {
			bool closed = false;
			if (read_heredoc(&save, &lineno, marks[i].word, marks[i].strip_tabs,
					 &docs[i].content, &closed) < 0)
				r = df_oom(err);
			else if (!closed)
				r = berth_error_set(err, EINVAL,
						    "unterminated heredoc %s on line %d",
						    marks[i].word, start);
			docs[i].name = TAKE_PTR(marks[i].word);
			docs[i].expand = !marks[i].quoted;
		}
		markers_free(marks, n_marks);
		if (r == 0)
			r = parse_line(full, escape, &v[n], err);
		if (r < 0) {
			for (size_t i = 0; i < n_marks; i++) {
				free(docs[i].name);
				free(docs[i].content);
			}
			free(docs);
			break;
		}
		v[n].heredocs = docs;
		v[n].n_heredocs = n_marks;
		if (r == 0) {
			v[n].heredoc = TAKE_PTR(doc);
			v[n].heredoc_word = TAKE_PTR(word);
			v[n++].line = start;
		}
	}
	if (r == 0 && n == 0)
		r = berth_error_set(err, EINVAL, "file with no instructions");
	if (r < 0) {
		for (size_t i = 0; i < n; i++)
			df_instr_release(&v[i]);
		free(v);
		return r;
	}
	*ret = v;
	*ret_n = n;
	*ret_escape = escape;
	return 0;
}

/* ---- flags (BFlags) --------------------------------------------------------------------------- */

/*
 * Parse the flags against the string flags an instruction defines (names, NULL-terminated;
 * values into vals[i], NULL when not given).
 */
int df_parse_flags(char *const *flags, const char *const *names, const char **vals,
		   struct berth_error **err)
{
	for (size_t i = 0; flags && flags[i]; i++) {
		const char *arg = flags[i];
		size_t k;

		if (!berth_str_has_prefix(arg, "--"))
			return berth_error_set(err, EINVAL, "arg should start with -- : %s", arg);
		if (!strcmp(arg, "--"))
			return 0;
		const char *name = arg + 2, *eq = strchr(name, '=');
		size_t nl = eq ? (size_t)(eq - name) : strlen(name);
		for (k = 0; names && names[k]; k++)
			if (strlen(names[k]) == nl && !strncmp(names[k], name, nl))
				break;
		if (!names || !names[k])
			return berth_error_set(err, EINVAL, "unknown flag: %.*s", (int)nl, name);
		if (vals[k])
			return berth_error_set(err, EINVAL, "duplicate flag specified: %.*s",
					       (int)nl, name);
		if (!eq)
			return berth_error_set(err, EINVAL, "missing a value on flag: %.*s",
					       (int)nl, name);
		vals[k] = eq + 1;
	}
	return 0;
}

/* ---- Go's time.ParseDuration ---------------------------------------------------------------- */

int df_parse_duration(const char *s, int64_t *ret, struct berth_error **err)
{
	static const struct {
		const char *unit;
		double ns;
	} units[] = {{"ns", 1},	  {"us", 1e3}, {"\xc2\xb5s", 1e3}, {"\xce\xbcs", 1e3},
		     {"ms", 1e6}, {"s", 1e9},  {"m", 60e9},	   {"h", 3600e9}};
	const char *p = s;
	double total = 0;
	bool neg = false;

	if (*p == '-' || *p == '+')
		neg = *p++ == '-';
	if (!strcmp(p, "0")) {
		*ret = 0;
		return 0;
	}
	if (!*p)
		goto invalid;
	while (*p) {
		const char *start = p;
		double v = 0, frac = 0, scale = 1;
		bool digits = false;
		while (isdigit((unsigned char)*p)) {
			v = v * 10 + (*p++ - '0');
			digits = true;
		}
		if (*p == '.') {
			p++;
			while (isdigit((unsigned char)*p)) {
				frac = frac * 10 + (*p++ - '0');
				scale *= 10;
				digits = true;
			}
		}
		if (!digits || p == start)
			goto invalid;
		const char *u = p;
		while (*p && *p != '.' && !isdigit((unsigned char)*p))
			p++;
		if (u == p)
			return berth_error_set(err, EINVAL, "time: missing unit in duration \"%s\"",
					       s);
		size_t ul = (size_t)(p - u), k;
		for (k = 0; k < ARRAY_SIZE(units); k++)
			if (strlen(units[k].unit) == ul && !strncmp(units[k].unit, u, ul))
				break;
		if (k == ARRAY_SIZE(units))
			return berth_error_set(err, EINVAL,
					       "time: unknown unit \"%.*s\" in duration \"%s\"",
					       (int)ul, u, s);
		total += (v + frac / scale) * units[k].ns;
		if (total > 9.2e18)
			goto invalid;
	}
	*ret = (int64_t)(neg ? -total : total);
	return 0;
invalid:
	return berth_error_set(err, EINVAL, "time: invalid duration \"%s\"", s);
}
