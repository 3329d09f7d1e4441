/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The template engine's insides: lexer items, parse tree, the function table. */

#include <stdint.h>

#include "template.h"

enum item_type {
	ITEM_ERROR,
	ITEM_BOOL,
	ITEM_CHAR, /* printable ASCII character; grab bag for comma etc. */
	ITEM_CHAR_CONSTANT,
	ITEM_COMPLEX,
	ITEM_ASSIGN,  /* = */
	ITEM_DECLARE, /* := */
	ITEM_EOF,
	ITEM_FIELD,
	ITEM_IDENTIFIER,
	ITEM_LEFT_DELIM,
	ITEM_LEFT_PAREN,
	ITEM_NUMBER,
	ITEM_PIPE,
	ITEM_RAW_STRING,
	ITEM_RIGHT_DELIM,
	ITEM_RIGHT_PAREN,
	ITEM_SPACE,
	ITEM_STRING,
	ITEM_TEXT,
	ITEM_VARIABLE,
	ITEM_KEYWORD, /* keywords after this */
	ITEM_BLOCK,
	ITEM_BREAK,
	ITEM_CONTINUE,
	ITEM_DOT,
	ITEM_DEFINE,
	ITEM_ELSE,
	ITEM_END,
	ITEM_IF,
	ITEM_NIL,
	ITEM_RANGE,
	ITEM_TEMPLATE,
	ITEM_WITH,
};

struct item {
	enum item_type type;
	size_t pos; /* byte offset in the input */
	const char *val;
	size_t len;
	int line;
	char *msg; /* ITEM_ERROR: the message (owned by the lexer's item list) */
};

enum node_type {
	N_TEXT,
	N_ACTION,
	N_BOOL,
	N_CHAIN,
	N_COMMAND,
	N_DOT,
	N_FIELD,
	N_IDENTIFIER,
	N_IF,
	N_LIST,
	N_NIL,
	N_NUMBER,
	N_PIPE,
	N_RANGE,
	N_STRING,
	N_TEMPLATE,
	N_VARIABLE,
	N_WITH,
	N_BREAK,
	N_CONTINUE,
	N_END,	/* parse only */
	N_ELSE, /* parse only */
};

struct node {
	enum node_type type;
	size_t pos;
	int line;
	/* LIST: nodes; COMMAND: args; PIPE: commands */
	struct node **kids;
	size_t n_kids;
	/* PIPE: declared variables */
	struct node **decl;
	size_t n_decl;
	bool is_assign;
	/* ACTION, IF, RANGE, WITH, TEMPLATE: the pipeline; IF/RANGE/WITH: list and else list */
	struct node *pipe, *list, *else_list;
	/* FIELD: names (without '.'); VARIABLE: "$x" then field names; CHAIN: field names */
	char **ident;
	size_t n_ident;
	struct node *chain_base; /* CHAIN */
	/* TEXT: the text; STRING: the quoted form; NUMBER: its text; IDENTIFIER, TEMPLATE: name */
	char *text;
	size_t text_len;
	char *sval; /* STRING: the value */
	size_t sval_len;
	bool bval; /* BOOL */
	/* NUMBER */
	bool is_int, is_float, is_rune;
	bool is_uint_only; /* fits uint64 but not int64: "overflows int" when used */
	int64_t ival;
	double fval;
};

struct tmpl_tree {
	char *name;
	struct node *root;
};

struct tmpl {
	char *name;
	char *text;
	struct tmpl_tree *trees; /* [0] is the top-level template; more from define/block */
	size_t n_trees;
	struct tmpl_func *extra; /* copied from tmpl_parse() */
	size_t n_extra;
	void **allocs; /* every node and string, freed together */
	size_t n_allocs, cap_allocs;
};

/* builtin and docker functions: index into the table in template-funcs.c */
enum builtin_fn {
	F_AND,
	F_OR,
	F_NOT,
	F_LEN,
	F_INDEX,
	F_SLICE,
	F_PRINT,
	F_PRINTF,
	F_PRINTLN,
	F_HTML,
	F_JS,
	F_URLQUERY,
	F_CALL,
	F_EQ,
	F_NE,
	F_LT,
	F_LE,
	F_GT,
	F_GE,
	F_JSON,
	F_SPLIT,
	F_JOIN,
	F_TITLE,
	F_LOWER,
	F_UPPER,
	F_PAD,
	F_TRUNCATE,
	F_N_BUILTIN,
};

extern const char *const tmpl_builtin_names[F_N_BUILTIN];

/* Is name a function the parser accepts (builtin or extra)? */
bool tmpl_has_function(const struct tmpl *t, const char *name);

/* Go's node.String(), appended (used in error contexts). */
void node_string(struct sbuf *out, const struct node *n);

/* An element or member e of a value: raw JSON stays raw (tschema.raw); otherwise as given. */
static inline struct tval tval_child(struct tval parent, json_t *e, char kind)
{
	if (parent.sch && parent.sch->raw)
		return tval_raw(e);
	return (struct tval){.j = e, .sch = parent.sch, .kind = kind};
}

/* Truth as Go's template "if" sees it. */
bool tval_truth(struct tval v);
