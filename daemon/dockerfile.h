/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * A Dockerfile read as BuildKit's parser reads it (dockerfile.c), for the instructions berthd
 * applies itself: docker import/commit --change today (image-changes.c), builds later.
 *
 *   lines: comments, the escape directive, continuation lines, a byte order mark;
 *   each instruction: its name as written, its --flags, its arguments as the parser's dispatch
 *   table splits them (key/value pairs for ENV and LABEL, the JSON or shell form for CMD,
 *   ENTRYPOINT, RUN, SHELL and HEALTHCHECK, words for EXPOSE, FROM, VOLUME, ...);
 *   the shell lexer that expands $VAR and ${VAR...} in words with an environment.
 *
 * Errors are -EINVAL with BuildKit's messages.
 */

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <errno.h>
#include <string.h>

#include "base/base.h"

/* One heredoc of a COPY or ADD ("<<EOF", "<<-'EOF'"): a file named by its word. */
struct df_heredoc {
	char *name;    /* the word that ends it ("EOF") */
	char *content; /* the lines up to it, each with its newline ("<<-": leading tabs gone) */
	bool expand;   /* the word was unquoted: $VAR in the content expands */
};

struct df_instr {
	char *cmd;	/* as written ("CMD", "cmd") */
	char *original; /* the whole line, continuations joined */
	char **flags;	/* "--interval=5s", ... */
	char **args;	/* the arguments (the parser's nodeArgs) */
	bool json;	/* the exec (JSON array) form */
	int line;	/* the line it starts on (1-based) */
	char *heredoc;	/* RUN <<WORD: the lines up to WORD, each with its newline; or NULL */
	char *heredoc_word;
	struct df_heredoc *heredocs; /* COPY/ADD <<WORD...: in the order of the line */
	size_t n_heredocs;
};

void df_instr_release(struct df_instr *in);

/* Parse text into instructions; *ret_escape is the escape token in force ('\\' or '`'). */
int df_parse(const char *text, struct df_instr **ret, size_t *ret_n, char *ret_escape,
	     struct berth_error **err);

/*
 * The shell lexer (ProcessWord / ProcessWords): quotes removed, escapes applied, $VAR,
 * ${VAR}, ${VAR:-w}, ${VAR-w}, ${VAR:+w}, ${VAR+w}, ${VAR:?w}, ${VAR?w} expanded from env (a JSON
 * array of "K=V"; may be NULL).  ret_word: the result as one word; ret_words: split into words
 * as the shell would (may be NULL each).  Errors: "failed to process \"...\": ...".
 */
int df_lex(const char *s, char escape, const json_t *env, char **ret_word, char ***ret_words,
	   struct berth_error **err);

/*
 * A COPY/ADD heredoc's content with unquoted word expanded as BuildKit does (raw quotes and
 * escapes): $VAR and ${VAR...} from env, quotes kept, an escaped character kept as written
 * (escape included) and never expanded.  *ret is new.
 */
int df_expand_heredoc(const char *content, char escape, const json_t *env, char **ret,
		      struct berth_error **err);

/*
 * BuildKit's BFlags for string flags: names the flags the instruction defines (NULL-terminated;
 * NULL: none), vals[i] receives the value of names[i] (pointing into flags; NULL when absent).
 */
int df_parse_flags(char *const *flags, const char *const *names, const char **vals,
		   struct berth_error **err);

/* Go's time.ParseDuration, in nanoseconds, with its error messages. */
int df_parse_duration(const char *s, int64_t *ret, struct berth_error **err);

/*
 * One metadata instruction (CMD, ENTRYPOINT, ENV, EXPOSE, HEALTHCHECK, LABEL, ONBUILD,
 * STOPSIGNAL, USER, VOLUME, WORKDIR) applied to a container config, as dockerd's dispatchers do
 * (image-changes.c): import/commit --change and the build's metadata steps share it.
 */
struct daemon_change_state {
	json_t *cfg;	   /* the config the instructions change (Env, Cmd, Shell, ...) */
	bool cmd_set;	   /* a CMD was given in this stage: an ENTRYPOINT keeps it */
	char escape;	   /* the escape token of the Dockerfile */
	const json_t *env; /* NULL: words expand with cfg's Env; else with this "K=V" array */
};

/* Another instruction is EINVAL "<INSTRUCTION> is not a valid change command". */
int daemon_image_change_apply(struct daemon_change_state *st, const struct df_instr *in,
			      struct berth_error **err);

/* ---- small string buffers shared by the two files ----------------------------------------- */

struct sbuf {
	char *p;
	size_t len, cap;
	bool oom;
};

static inline void sb_addn(struct sbuf *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 64;
		while (cap < b->len + n + 1)
			cap *= 2;
		char *p = realloc(b->p, cap);
		if (!p) {
			b->oom = true;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static inline void sb_addc(struct sbuf *b, char c)
{
	sb_addn(b, &c, 1);
}

static inline void sb_adds(struct sbuf *b, const char *s)
{
	sb_addn(b, s, strlen(s));
}

/* The text, or "" (a new string either way); NULL only when out of memory. */
static inline char *sb_take(struct sbuf *b)
{
	char *p;

	if (b->oom) {
		free(b->p);
		memset(b, 0, sizeof(*b));
		return NULL;
	}
	p = b->p ? b->p : strdup("");
	memset(b, 0, sizeof(*b));
	return p;
}

static inline bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

/* Go's regexp [\t\v\f\r ] (no newline): what the parser splits commands on */
static inline bool is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\v' || c == '\f' || c == '\r';
}

static inline int df_oom(struct berth_error **err)
{
	return berth_error_set(err, ENOMEM, "out of memory");
}
