/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Running a parsed template: Go's exec.go over JSON values.  Errors unwind with longjmp to
 * tmpl_exec() (Go panics the same way); every JSON value made while running is kept in the
 * state's list and released at the end, so values are borrowed everywhere in between.
 */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "template-internal.h"
#include "base/banned.h"

#define MAX_EXEC_DEPTH 1000

struct var {
	const char *name;
	struct tval v;
};

struct exec {
	const struct tmpl *t;
	const char *tree_name; /* the template being run (for "executing %q") */
	enum tmpl_funcset funcs;
	struct sbuf *out;
	struct var *vars;
	size_t n_vars, cap_vars;
	const struct node *node; /* where we are, for errors */
	json_t **owned;
	size_t n_owned, cap_owned;
	int depth;
	size_t steps;
	size_t var_base; /* a called template sees its variables only */
	void **tracked;	 /* memory freed at the end, whatever unwinds */
	size_t n_tracked;
	struct sbuf **scratch;
	size_t n_scratch;
	char *err;
	jmp_buf jb;
};

enum walk_result { WALK_OK, WALK_BREAK, WALK_CONTINUE };

size_t tmpl_max_output, tmpl_max_steps;

/* a value: the invalid one ("missing" final args use the same, with is_missing) */
static const struct tval INVALID = {0};

/* ---- bookkeeping ----------------------------------------------------------------------------- */

static json_t *own(struct exec *x, json_t *j)
{
	if (!j)
		cli_oom();
	if (x->n_owned == x->cap_owned) {
		x->cap_owned = x->cap_owned ? x->cap_owned * 2 : 32;
		x->owned = xrealloc(x->owned, x->cap_owned * sizeof(*x->owned));
	}
	x->owned[x->n_owned++] = j;
	return j;
}

static void *x_track(struct exec *x, void *ptr)
{
	x->tracked = xrealloc(x->tracked, (x->n_tracked + 1) * sizeof(*x->tracked));
	x->tracked[x->n_tracked++] = ptr;
	return ptr;
}

static struct sbuf *x_sbuf(struct exec *x)
{
	struct sbuf *b = xcalloc(1, sizeof(*b));

	x->scratch = xrealloc(x->scratch, (x->n_scratch + 1) * sizeof(*x->scratch));
	x->scratch[x->n_scratch++] = b;
	return b;
}

static struct tval mk(struct exec *x, json_t *j)
{
	return (struct tval){.j = own(x, j)};
}

static struct tval mk_str(struct exec *x, const char *s, size_t len)
{
	return mk(x, json_stringn_nocheck(s, len));
}

static struct tval mk_bool(struct exec *x, bool b)
{
	return mk(x, json_boolean(b));
}

static struct tval mk_int(struct exec *x, int64_t i)
{
	return mk(x, json_integer(i));
}

static bool is_valid(struct tval v)
{
	return v.j || v.o;
}

static _Noreturn void x_errorf(struct exec *x, const char *fmt, ...) BERTH_PRINTF(2, 3);
static _Noreturn void x_errorf(struct exec *x, const char *fmt, ...)
{
	struct sbuf b = SBUF_INIT;
	va_list ap;

	if (!x->node) {
		sbuf_printf(&b, "template: %s: ", x->tree_name);
	} else {
		/* Go's ErrorContext: line and byte column of the node, and its text */
		const char *text = x->t->text;
		size_t pos = x->node->pos, line = 1, col = pos;
		for (size_t i = 0; i < pos && text[i]; i++)
			if (text[i] == '\n') {
				line++;
				col = pos - i - 1;
			}
		struct sbuf *ctx = x_sbuf(x);
		node_string(ctx, x->node);
		sbuf_printf(&b, "template: %s:%zu:%zu: executing ", x->t->name, line, col);
		go_quote(&b, x->tree_name, strlen(x->tree_name));
		sbuf_printf(&b, " at <%s>: ", sbuf_str(ctx));
	}
	va_start(ap, fmt);
	sbuf_vprintf(&b, fmt, ap);
	va_end(ap);
	x->err = sbuf_detach(&b);
	longjmp(x->jb, 1);
}

static void at(struct exec *x, const struct node *n)
{
	x->node = n;
}

static void push_var(struct exec *x, const char *name, struct tval v)
{
	if (x->n_vars == x->cap_vars) {
		x->cap_vars = x->cap_vars ? x->cap_vars * 2 : 16;
		x->vars = xrealloc(x->vars, x->cap_vars * sizeof(*x->vars));
	}
	x->vars[x->n_vars].name = name;
	x->vars[x->n_vars].v = v;
	x->n_vars++;
}

static void set_var(struct exec *x, const char *name, struct tval v)
{
	for (size_t i = x->n_vars; i-- > x->var_base;)
		if (strcmp(x->vars[i].name, name) == 0) {
			x->vars[i].v = v;
			return;
		}
	x_errorf(x, "undefined variable: %s", name);
}

static void set_top_var(struct exec *x, size_t n, struct tval v)
{
	x->vars[x->n_vars - n].v = v;
}

static struct tval var_value(struct exec *x, const char *name)
{
	for (size_t i = x->n_vars; i-- > x->var_base;)
		if (strcmp(x->vars[i].name, name) == 0)
			return x->vars[i].v;
	x_errorf(x, "undefined variable: %s", name);
}

/* ---- types, as Go would name them ------------------------------------------------------------ */

static bool is_map(struct tval v)
{
	return v.j && json_is_object(v.j) && v.kind == 'm';
}

static bool is_struct(struct tval v)
{
	return v.j && json_is_object(v.j) && v.kind != 'm';
}

const struct tschema tschema_raw = {.type_name = "interface {}", .raw = true};

static bool is_raw(struct tval v)
{
	return v.sch && v.sch->raw;
}

static void type_name(struct sbuf *b, struct tval v)
{
	if (v.o) {
		sbuf_adds(b, v.o->type->name);
		return;
	}
	if (!v.j) {
		sbuf_adds(b, "<nil>");
		return;
	}
	if (v.kind == 't' || v.kind == 'd') {
		sbuf_adds(b, v.kind == 't' ? "time.Time" : "time.Duration");
		return;
	}
	if (is_raw(v)) {
		/* encoding/json's interface{} values (numbers as json.Number: docker's UseNumber) */
		switch (json_typeof(v.j)) {
		case JSON_OBJECT:
			sbuf_adds(b, "map[string]interface {}");
			return;
		case JSON_ARRAY:
			sbuf_adds(b, "[]interface {}");
			return;
		case JSON_INTEGER:
		case JSON_REAL:
			sbuf_adds(b, "json.Number");
			return;
		case JSON_NULL:
			sbuf_adds(b, "interface {}");
			return;
		default:
			break;
		}
	}
	switch (json_typeof(v.j)) {
	case JSON_STRING:
		sbuf_adds(b, "string");
		break;
	case JSON_INTEGER:
		sbuf_adds(b, v.kind == 'u' ? "uint8" : "int");
		break;
	case JSON_REAL:
		sbuf_adds(b, "float64");
		break;
	case JSON_TRUE:
	case JSON_FALSE:
		sbuf_adds(b, "bool");
		break;
	case JSON_NULL:
		if (v.kind == 'p' && v.sch)
			sbuf_printf(b, "*%s", v.sch->type_name);
		else if (v.kind == 'a')
			sbuf_adds(b, "[]string");
		else if (v.kind == 'm')
			sbuf_adds(b, "map[string]string");
		else
			sbuf_adds(b, "interface {}");
		break;
	case JSON_ARRAY: {
		size_t i;
		json_t *e;
		bool strings = json_array_size(v.j) > 0;
		json_array_foreach (v.j, i, e)
			strings &= json_is_string(e);
		if (v.sch)
			sbuf_printf(b, "[]%s", v.sch->type_name);
		else
			sbuf_adds(b, strings ? "[]string" : "[]interface {}");
		break;
	}
	case JSON_OBJECT:
		if (v.sch)
			sbuf_printf(b, "%s%s", v.kind == 'p' ? "*" : "", v.sch->type_name);
		else if (v.kind == 'm')
			sbuf_adds(b, "map[string]interface {}");
		else
			sbuf_adds(b, "struct");
		break;
	}
}

static const char *type_str(struct exec *x, struct tval v)
{
	struct sbuf *b = x_sbuf(x);

	type_name(b, v);
	return json_string_value(own(x, json_string(sbuf_str(b))));
}

/* reflect's error for a field the receiver's Go type lacks */
static _Noreturn void no_field(struct exec *x, struct tval recv, const char *name)
{
	x_errorf(x, "can't evaluate field %s in type %s", name, type_str(x, recv));
}

/* ---- fields --------------------------------------------------------------------------------- */

/* Keys whose object values are Go maps in docker's types (print map[..], range sorted, index). */
static bool map_key(const char *key)
{
	static const char *const maps[] = {
		"Labels",  "Attributes",   "Options",  "DriverOpts",  "Details", "Data",
		"Volumes", "ExposedPorts", "Ports",    "Networks",    "Sysctls", "StorageOpt",
		"Tmpfs",   "IndexConfigs", "Runtimes", "Annotations", "Config",	 "DriverData",
		"Status",  "Containers",   "Mirrors",  "Env",	      NULL};

	for (size_t i = 0; maps[i]; i++)
		if (strcmp(key, maps[i]) == 0)
			return true;
	return false;
}

/* The kind of a value reached through key (no schema): objects under map keys are maps. */
static char kind_for(const char *key, json_t *v)
{
	if (!v)
		return 0;
	if (json_is_object(v)) {
		/* "Config" and "Status" are maps only in LogConfig.Config and the like; a struct
		 * with upper-case keys in docker's types is recognised by its first key */
		if (map_key(key)) {
			if (strcmp(key, "Config") == 0 || strcmp(key, "Status") == 0 ||
			    strcmp(key, "Containers") == 0) {
				const char *k = json_object_iter_key(json_object_iter(v));
				if (k && (strcmp(k, "Hostname") == 0 || strcmp(k, "Name") == 0 ||
					  strcmp(k, "Id") == 0 || strcmp(k, "Image") == 0 ||
					  strcmp(k, "User") == 0))
					return 'o';
			}
			return 'm';
		}
		return 'o';
	}
	if (json_is_array(v))
		return 'a';
	return 0;
}

/* Go field names that JSON spells otherwise in docker's types. */
json_t *tmpl_json_field(json_t *obj, const char *go)
{
	static const struct {
		const char *go, *json;
	} alias[] = {
		{"ID", "Id"},
		{"APIVersion", "ApiVersion"},
		{"HTTPProxy", "HttpProxy"},
		{"HTTPSProxy", "HttpsProxy"},
		{"CPUShares", "CpuShares"},
		{"CPUPeriod", "CpuPeriod"},
		{"CPUQuota", "CpuQuota"},
		{"CPURealtimePeriod", "CpuRealtimePeriod"},
		{"CPURealtimeRuntime", "CpuRealtimeRuntime"},
		{"CPUCount", "CpuCount"},
		{"CPUPercent", "CpuPercent"},
		{"DNS", "Dns"},
		{"DNSOptions", "DnsOptions"},
		{"DNSSearch", "DnsSearch"},
		{"IOMaximumIOps", "IOMaximumIOps"},
		{"IOMaximumBandwidth", "IOMaximumBandwidth"},
	};
	json_t *v = json_object_get(obj, go);

	if (v)
		return v;
	for (size_t i = 0; i < ARRAY_SIZE(alias); i++)
		if (strcmp(go, alias[i].go) == 0)
			return json_object_get(obj, alias[i].json);
	/* events.Message: Status -> "status", ID -> "id", TimeNano -> "timeNano" ... */
	if (go[0] >= 'A' && go[0] <= 'Z') {
		char lower[128];
		size_t n = strlen(go);
		if (n >= sizeof(lower))
			return NULL;
		memcpy(lower, go, n + 1);
		if (strcmp(go, "ID") == 0)
			memcpy(lower, "id", 3);
		else
			lower[0] = (char)(lower[0] - 'A' + 'a');
		return json_object_get(obj, lower);
	}
	return NULL;
}

/* The field go of s: its own fields first, then those its embedded structs promote. */
static const struct tschema_field *schema_field(const struct tschema *s, const char *go)
{
	for (size_t i = 0; i < s->n_fields; i++)
		if (strcmp(s->fields[i].go, go) == 0)
			return &s->fields[i];
	for (size_t i = 0; i < s->n_fields; i++) {
		if (s->fields[i].kind != 'e' || !s->fields[i].sub)
			continue;
		const struct tschema_field *f = schema_field(s->fields[i].sub, go);
		if (f)
			return f;
	}
	return NULL;
}

/* The zero value of a schema field the JSON lacks (or has as null). */
static struct tval zero_of(struct exec *x, const struct tschema_field *f)
{
	switch (f->kind) {
	case 's':
		return mk_str(x, "", 0);
	case 'b':
		return mk_bool(x, false);
	case 'i':
		return mk_int(x, 0);
	case 'f':
		return mk(x, json_real(0));
	case 't':
		return (struct tval){.j = own(x, json_string("0001-01-01T00:00:00Z")), .kind = 't'};
	case 'd':
		return (struct tval){.j = own(x, json_integer(0)), .kind = 'd'};
	case 'o':
	case 'e':
		return (struct tval){.j = own(x, json_object()), .sch = f->sub, .kind = 'o'};
	case 'a':
	case 'm':
	case 'p':
	case 'r':
		return (struct tval){.j = own(x, json_null()), .sch = f->sub, .kind = f->kind};
	default:
		return INVALID;
	}
}

static struct tval tobj_call(struct exec *x, const struct tobj *o, const char *name,
			     json_t *const *args, size_t n, bool *found)
{
	json_t *ret = NULL;
	char *err = NULL;
	int r = o->type->call(o, name, args, n, &ret, &err);

	*found = r != -ENOENT;
	if (r == -ENOENT)
		return INVALID;
	if (r < 0) {
		char *e = x_track(x, err);
		x_errorf(x, "%s", e ? e : "call failed");
	}
	if (!ret)
		return INVALID;
	own(x, ret);
	return (struct tval){.j = ret, .kind = kind_for(name, ret)};
}

static json_t *eval_arg_typed(struct exec *x, const struct tval dot, char want,
			      const struct node *n);
static struct tval validate(struct exec *x, struct tval v, char want);

/*
 * receiver.fieldName, with args (the command's nodes after the first) and final (the piped
 * value) for methods.
 */
static struct tval eval_field(struct exec *x, struct tval dot, const char *name,
			      const struct node *node, struct node *const *args, size_t nargs,
			      const struct tval *final, struct tval recv)
{
	bool has_args = nargs > 0 || final;

	if (!is_valid(recv))
		return INVALID;
	if (recv.o) {
		/* a method: evaluate the arguments as strings/numbers */
		json_t *argv[8];
		size_t n = 0;
		bool found;
		for (size_t i = 0; i < nargs && n < ARRAY_SIZE(argv); i++)
			argv[n++] = eval_arg_typed(x, dot, 0, args[i]);
		if (final && n < ARRAY_SIZE(argv))
			argv[n++] = validate(x, *final, 0).j;
		at(x, node);
		struct tval r = tobj_call(x, recv.o, name, argv, n, &found);
		if (!found)
			x_errorf(x, "can't evaluate field %s in type %s", name, recv.o->type->name);
		return r;
	}
	if (is_raw(recv)) {
		/* interface{} values, missingkey=error */
		if (json_is_object(recv.j)) {
			if (has_args)
				x_errorf(x, "%s is not a method but has arguments", name);
			json_t *v = json_object_get(recv.j, name);
			if (!v)
				x_errorf(x, "map has no entry for key \"%s\"", name);
			return tval_raw(v);
		}
		/* Go names the static type: every value inside is an interface {} */
		if (json_is_null(recv.j))
			x_errorf(x, "nil pointer evaluating interface {}.%s", name);
		x_errorf(x, "can't evaluate field %s in type interface {}", name);
	}
	if (recv.kind == 't' || recv.kind == 'd')
		no_field(x, recv, name);
	if (json_is_null(recv.j) && recv.kind == 'm') {
		/* a nil map has no entries */
		if (has_args)
			x_errorf(x, "%s is not a method but has arguments", name);
		return INVALID;
	}
	if (json_is_null(recv.j) && recv.kind == 'a')
		no_field(x, recv, name);
	if (json_is_null(recv.j)) {
		struct sbuf *t = x_sbuf(x);
		type_name(t, recv);
		if (recv.kind == 'p' && recv.sch && !schema_field(recv.sch, name))
			x_errorf(x, "can't evaluate field %s in type %s", name, sbuf_str(t));
		x_errorf(x, "nil pointer evaluating %s.%s", sbuf_str(t), name);
	}
	if (json_is_object(recv.j)) {
		if (recv.sch && recv.sch->label_key && strcmp(name, "Label") == 0) {
			/* a context's Label(name string) method: Go's evalCall checks the count,
			 * then types each argument as the parameter's type */
			at(x, node);
			if (nargs + (final ? 1 : 0) != 1)
				x_errorf(x, "wrong number of args for Label: want 1 got %zu",
					 nargs + (final ? 1 : 0));
			json_t *key = nargs ? eval_arg_typed(x, dot, 's', args[0])
					    : validate(x, *final, 's').j;
			json_t *labels = json_object_get(recv.j, recv.sch->label_key);
			const char *v =
				json_string_value(json_object_get(labels, json_string_value(key)));
			return (struct tval){.j = own(x, json_string(v ? v : "")), .kind = 's'};
		}
		if (recv.sch && recv.sch->names_only) {
			const struct tschema_field *f = schema_field(recv.sch, name);
			if (!f)
				no_field(x, recv, name);
			if (has_args)
				x_errorf(x, "%s is not a method but has arguments", name);
			if (f->kind == 'e')
				/* an embedded struct by its type's name: the same object */
				return (struct tval){.j = recv.j, .kind = 'o'};
			json_t *v = tmpl_json_field(recv.j, name);
			if ((!v || json_is_null(v)) && f->kind)
				/* a field the daemon leaves out (or null) when empty: Go's zero value */
				return zero_of(x, f);
			if (!v)
				return INVALID;
			return (struct tval){.j = v,
					     .sch = f->sub && json_is_object(v) ? f->sub : NULL,
					     .kind = kind_for(name, v)};
		}
		if (recv.sch) {
			const struct tschema_field *f = schema_field(recv.sch, name);
			if (f) {
				json_t *v = json_object_get(recv.j, f->json ? f->json : f->go);
				if (has_args)
					x_errorf(x,
						 "%s has arguments but cannot be invoked as "
						 "function",
						 name);
				if (f->kind == 'e')
					/* the embedded struct itself: the same object */
					return (struct tval){
						.j = recv.j, .sch = f->sub, .kind = 'o'};
				if (!v || (json_is_null(v) && f->kind != 'x'))
					return zero_of(x, f);
				return (struct tval){.j = v, .sch = f->sub, .kind = f->kind};
			}
			if (!recv.sch->embedded_any)
				no_field(x, recv, name);
		}
		if (has_args)
			x_errorf(x, "%s is not a method but has arguments", name);
		json_t *v = is_map(recv) ? json_object_get(recv.j, name)
					 : tmpl_json_field(recv.j, name);
		if (!v)
			return INVALID;
		return (struct tval){.j = v, .kind = kind_for(name, v)};
	}
	no_field(x, recv, name);
}

static struct tval eval_field_chain(struct exec *x, struct tval dot, struct tval recv,
				    const struct node *node, char *const *ident, size_t n,
				    struct node *const *args, size_t nargs,
				    const struct tval *final)
{
	for (size_t i = 0; i + 1 < n; i++)
		recv = eval_field(x, dot, ident[i], node, NULL, 0, NULL, recv);
	return eval_field(x, dot, ident[n - 1], node, args, nargs, final, recv);
}

/* ---- evaluation ------------------------------------------------------------------------------ */

static struct tval eval_pipeline(struct exec *x, struct tval dot, const struct node *pipe);
static struct tval eval_function(struct exec *x, struct tval dot, const struct node *ident,
				 const struct node *cmd, struct node *const *args, size_t nargs,
				 const struct tval *final);
static enum walk_result walk(struct exec *x, struct tval dot, const struct node *n);

static void not_a_function(struct exec *x, struct node *const *args, size_t nargs,
			   const struct tval *final)
{
	if (nargs > 1 || final) {
		struct sbuf *b = x_sbuf(x);
		node_string(b, args[0]);
		x_errorf(x, "can't give argument to non-function %s", sbuf_str(b));
	}
}

static struct tval ideal_constant(struct exec *x, const struct node *n)
{
	at(x, n);
	bool looks_float = strpbrk(n->text, ".eEpP") && !(n->text_len > 1 && n->text[0] == '0' &&
							  (n->text[1] == 'x' || n->text[1] == 'X'));
	if (n->is_float && !n->is_rune && looks_float)
		return mk(x, json_real(n->fval));
	if (n->is_int && !n->is_uint_only)
		return mk_int(x, n->ival);
	x_errorf(x, "%s overflows int", n->text);
}

static struct tval eval_command(struct exec *x, struct tval dot, const struct node *cmd,
				const struct tval *final)
{
	const struct node *first = cmd->kids[0];

	switch (first->type) {
	case N_FIELD:
		at(x, first);
		return eval_field_chain(x, dot, dot, first, first->ident, first->n_ident,
					cmd->kids + 1, cmd->n_kids - 1, final);
	case N_CHAIN: {
		at(x, first);
		if (first->chain_base->type == N_NIL) {
			struct sbuf *b = x_sbuf(x);
			node_string(b, first);
			x_errorf(x, "indirection through explicit nil in %s", sbuf_str(b));
		}
		struct tval base;
		if (first->chain_base->type == N_PIPE)
			base = eval_pipeline(x, dot, first->chain_base);
		else
			base = eval_function(x, dot, first->chain_base, first->chain_base, NULL, 0,
					     NULL);
		at(x, first);
		return eval_field_chain(x, dot, base, first, first->ident, first->n_ident,
					cmd->kids + 1, cmd->n_kids - 1, final);
	}
	case N_IDENTIFIER:
		return eval_function(x, dot, first, cmd, cmd->kids + 1, cmd->n_kids - 1, final);
	case N_PIPE:
		not_a_function(x, cmd->kids, cmd->n_kids, final);
		return eval_pipeline(x, dot, first);
	case N_VARIABLE: {
		at(x, first);
		struct tval v = var_value(x, first->ident[0]);
		if (first->n_ident == 1) {
			not_a_function(x, cmd->kids, cmd->n_kids, final);
			return v;
		}
		return eval_field_chain(x, dot, v, first, first->ident + 1, first->n_ident - 1,
					cmd->kids + 1, cmd->n_kids - 1, final);
	}
	default:
		break;
	}
	at(x, first);
	not_a_function(x, cmd->kids, cmd->n_kids, final);
	switch (first->type) {
	case N_BOOL:
		return mk_bool(x, first->bval);
	case N_DOT:
		return dot;
	case N_NIL:
		x_errorf(x, "nil is not a command");
	case N_NUMBER:
		return ideal_constant(x, first);
	case N_STRING:
		return mk_str(x, first->sval, first->sval_len);
	default:
		x_errorf(x, "can't evaluate command");
	}
}

static struct tval eval_pipeline(struct exec *x, struct tval dot, const struct node *pipe)
{
	struct tval v = INVALID;
	bool have = false;

	if (!pipe)
		return INVALID;
	at(x, pipe);
	for (size_t i = 0; i < pipe->n_kids; i++) {
		v = eval_command(x, dot, pipe->kids[i], have ? &v : NULL);
		have = true;
	}
	for (size_t i = 0; i < pipe->n_decl; i++) {
		if (pipe->is_assign)
			set_var(x, pipe->decl[i]->ident[0], v);
		else
			push_var(x, pipe->decl[i]->ident[0], v);
	}
	return v;
}

/*
 * Check a value against a parameter type: 's' string, 'i' integer, 'A' []string, 0 any.
 * Go's validateType wording.
 */
static struct tval validate(struct exec *x, struct tval v, char want)
{
	const char *tn = want == 's' ? "string" : want == 'i' ? "int" : "[]string";

	if (!want)
		return v;
	if (!is_valid(v))
		x_errorf(x, "invalid value; expected %s", tn);
	if (want == 's' && v.j && json_is_string(v.j))
		return v;
	if (want == 'i' && v.j && json_is_integer(v.j))
		return v;
	if (want == 'A' && v.j && (json_is_array(v.j) || json_is_null(v.j))) {
		bool all = true;
		size_t i;
		json_t *e;
		json_array_foreach (v.j, i, e)
			all &= json_is_string(e);
		if (all)
			return v;
	}
	x_errorf(x, "wrong type for value; expected %s; got %s", tn, type_str(x, v));
}

/* evalArg: a node as an argument of parameter type want. */
static struct tval eval_arg(struct exec *x, struct tval dot, char want, const struct node *n)
{
	at(x, n);
	switch (n->type) {
	case N_DOT:
		return validate(x, dot, want);
	case N_NIL:
		if (!want)
			return INVALID;
		x_errorf(x, "cannot assign nil to %s",
			 want == 's'   ? "string"
			 : want == 'i' ? "int"
				       : "[]string");
	case N_FIELD: {
		struct node *self = (struct node *)n;
		return validate(
			x, eval_field_chain(x, dot, dot, n, n->ident, n->n_ident, &self, 0, NULL),
			want);
	}
	case N_VARIABLE: {
		struct tval v = var_value(x, n->ident[0]);
		if (n->n_ident > 1)
			v = eval_field_chain(x, dot, v, n, n->ident + 1, n->n_ident - 1, NULL, 0,
					     NULL);
		return validate(x, v, want);
	}
	case N_PIPE:
		return validate(x, eval_pipeline(x, dot, n), want);
	case N_IDENTIFIER:
		return validate(x, eval_function(x, dot, n, n, NULL, 0, NULL), want);
	case N_CHAIN: {
		struct node *cmd_kids[1] = {(struct node *)n};
		struct node cmd = {.type = N_COMMAND, .kids = cmd_kids, .n_kids = 1, .pos = n->pos};
		return validate(x, eval_command(x, dot, &cmd, NULL), want);
	}
	default:
		break;
	}
	struct sbuf *b = x_sbuf(x);
	node_string(b, n);
	switch (want) {
	case 's':
		if (n->type == N_STRING)
			return mk_str(x, n->sval, n->sval_len);
		x_errorf(x, "expected string; found %s", sbuf_str(b));
	case 'i':
		if (n->type == N_NUMBER && n->is_int)
			return mk_int(x, n->ival);
		x_errorf(x, "expected integer; found %s", sbuf_str(b));
	case 'A':
		x_errorf(x, "can't handle %s for arg of type []string", sbuf_str(b));
	default:
		/* evalEmptyInterface */
		switch (n->type) {
		case N_BOOL:
			return mk_bool(x, n->bval);
		case N_NUMBER:
			return ideal_constant(x, n);
		case N_STRING:
			return mk_str(x, n->sval, n->sval_len);
		default:
			x_errorf(x, "can't handle assignment of %s to empty interface argument",
				 sbuf_str(b));
		}
	}
}

static json_t *eval_arg_typed(struct exec *x, const struct tval dot, char want,
			      const struct node *n)
{
	struct tval v = eval_arg(x, dot, want, n);

	return v.j;
}

/* ---- functions --------------------------------------------------------------------------------- */

const char *const tmpl_builtin_names[F_N_BUILTIN] = {
	[F_AND] = "and",     [F_OR] = "or",	    [F_NOT] = "not",
	[F_LEN] = "len",     [F_INDEX] = "index",   [F_SLICE] = "slice",
	[F_PRINT] = "print", [F_PRINTF] = "printf", [F_PRINTLN] = "println",
	[F_HTML] = "html",   [F_JS] = "js",	    [F_URLQUERY] = "urlquery",
	[F_CALL] = "call",   [F_EQ] = "eq",	    [F_NE] = "ne",
	[F_LT] = "lt",	     [F_LE] = "le",	    [F_GT] = "gt",
	[F_GE] = "ge",	     [F_JSON] = "json",	    [F_SPLIT] = "split",
	[F_JOIN] = "join",   [F_TITLE] = "title",   [F_LOWER] = "lower",
	[F_UPPER] = "upper", [F_PAD] = "pad",	    [F_TRUNCATE] = "truncate",
};

/* Parameter types: fixed ones, then the variadic one ('\0' none); 'v' = reflect.Value (any). */
struct sig {
	const char *fixed; /* one char per fixed parameter: s i A v (v/0 = any) */
	char variadic;	   /* 0 none, else the element type */
};

static const struct sig basic_sigs[F_N_BUILTIN] = {
	[F_AND] = {"v", 'v'},  [F_OR] = {"v", 'v'},	[F_NOT] = {"v", 0},
	[F_LEN] = {"v", 0},    [F_INDEX] = {"v", 'v'},	[F_SLICE] = {"v", 'v'},
	[F_PRINT] = {"", 'v'}, [F_PRINTF] = {"s", 'v'}, [F_PRINTLN] = {"", 'v'},
	[F_HTML] = {"", 'v'},  [F_JS] = {"", 'v'},	[F_URLQUERY] = {"", 'v'},
	[F_CALL] = {"v", 'v'}, [F_EQ] = {"v", 'v'},	[F_NE] = {"vv", 0},
	[F_LT] = {"vv", 0},    [F_LE] = {"vv", 0},	[F_GT] = {"vv", 0},
	[F_GE] = {"vv", 0},    [F_JSON] = {"v", 0},	[F_SPLIT] = {"ss", 0},
	[F_JOIN] = {"As", 0},  [F_TITLE] = {"s", 0},	[F_LOWER] = {"s", 0},
	[F_UPPER] = {"s", 0},  [F_PAD] = {"sii", 0},	[F_TRUNCATE] = {"si", 0},
};

/* docker's HeaderFunctions: the same names taking strings (pad is not replaced) */
static const struct sig header_sigs[F_N_BUILTIN] = {
	[F_JSON] = {"s", 0},  [F_SPLIT] = {"ss", 0}, [F_JOIN] = {"ss", 0},     [F_TITLE] = {"s", 0},
	[F_LOWER] = {"s", 0}, [F_UPPER] = {"s", 0},  [F_TRUNCATE] = {"si", 0},
};

bool tmpl_has_function(const struct tmpl *t, const char *name)
{
	for (size_t i = 0; i < t->n_extra; i++)
		if (strcmp(t->extra[i].name, name) == 0)
			return true;
	for (size_t i = 0; i < F_N_BUILTIN; i++)
		if (strcmp(tmpl_builtin_names[i], name) == 0)
			return true;
	return false;
}

/* implemented in template-funcs.c */
int tmpl_call_builtin(enum builtin_fn f, bool header, struct tval *argv, size_t argc,
		      struct tval *ret, json_t **made, char **err);

static struct tval eval_call(struct exec *x, struct tval dot, int builtin,
			     const struct tmpl_func *extra, const struct node *node,
			     const char *name, struct node *const *args, size_t nargs,
			     const struct tval *final)
{
	size_t num_in = nargs + (final ? 1 : 0);
	struct sig sig = {"", 'v'};
	bool header = false;

	if (builtin >= 0) {
		header = x->funcs == TMPL_FUNCS_HEADER && header_sigs[builtin].fixed;
		sig = header ? header_sigs[builtin] : basic_sigs[builtin];
	}
	size_t nfixed = strlen(sig.fixed);
	if (extra) {
		if ((extra->min_args >= 0 && num_in < (size_t)extra->min_args) ||
		    (extra->max_args >= 0 && num_in > (size_t)extra->max_args)) {
			if (extra->min_args == extra->max_args)
				x_errorf(x, "wrong number of args for %s: want %d got %zu", name,
					 extra->min_args, num_in);
			x_errorf(x, "wrong number of args for %s: want at least %d got %zu", name,
				 extra->min_args, nargs);
		}
		nfixed = num_in;
		sig.variadic = 'v';
	} else if (sig.variadic) {
		if (num_in < nfixed)
			x_errorf(x, "wrong number of args for %s: want at least %zu got %zu", name,
				 nfixed, nargs);
	} else if (num_in != nfixed) {
		x_errorf(x, "wrong number of args for %s: want %zu got %zu", name, nfixed, num_in);
	}

	/* call: there are no function values in JSON, so it always fails as Go's does */
	if (builtin == F_CALL) {
		struct sbuf *what = x_sbuf(x);
		struct tval fn = nargs ? eval_arg(x, dot, 0, args[0]) : (final ? *final : INVALID);
		if (nargs)
			node_string(what, args[0]);
		at(x, node);
		if (!is_valid(fn))
			x_errorf(x, "error calling call: call of nil");
		x_errorf(x, "error calling call: non-function %s of type %s", sbuf_str(what),
			 type_str(x, fn));
	}

	/* and/or short-circuit */
	if (builtin == F_AND || builtin == F_OR) {
		struct tval v = INVALID;
		for (size_t i = 0; i < nargs; i++) {
			v = eval_arg(x, dot, 0, args[i]);
			if (tval_truth(v) == (builtin == F_OR))
				return v;
		}
		if (final)
			v = *final;
		return v;
	}

	struct tval argv[32];
	if (num_in > ARRAY_SIZE(argv))
		x_errorf(x, "too many arguments for %s", name);
	size_t i = 0;
	for (; i < nargs; i++) {
		char want = i < nfixed && !extra ? sig.fixed[i] : sig.variadic;
		argv[i] = eval_arg(x, dot, want == 'v' ? 0 : want, args[i]);
	}
	if (final) {
		char want = i < nfixed && !extra ? sig.fixed[i] : sig.variadic;
		at(x, node);
		argv[i] = validate(x, *final, want == 'v' ? 0 : want);
	}

	struct tval ret = INVALID;
	char *err = NULL;
	int r;
	if (extra) {
		json_t *jargs[32], *out = NULL;
		for (size_t k = 0; k < num_in; k++)
			jargs[k] = argv[k].j;
		r = extra->fn(jargs, num_in, &out, &err);
		if (r == 0 && out)
			ret = (struct tval){.j = own(x, out), .kind = kind_for("", out)};
	} else {
		json_t *made = NULL;
		r = tmpl_call_builtin(builtin, header, argv, num_in, &ret, &made, &err);
		if (made)
			own(x, made);
	}
	if (r < 0) {
		char *e = x_track(x, err);
		at(x, node);
		x_errorf(x, "error calling %s: %s", name, e ? e : "failed");
	}
	return ret;
}

static struct tval eval_function(struct exec *x, struct tval dot, const struct node *ident,
				 const struct node *cmd, struct node *const *args, size_t nargs,
				 const struct tval *final)
{
	const char *name = ident->text;

	at(x, ident);
	for (size_t i = 0; i < x->t->n_extra; i++)
		if (strcmp(x->t->extra[i].name, name) == 0)
			return eval_call(x, dot, -1, &x->t->extra[i], cmd, name, args, nargs,
					 final);
	for (int i = 0; i < F_N_BUILTIN; i++)
		if (strcmp(tmpl_builtin_names[i], name) == 0)
			return eval_call(x, dot, i, NULL, cmd, name, args, nargs, final);
	x_errorf(x, "\"%s\" is not a defined function", name);
}

/* ---- truth and walking ------------------------------------------------------------------------ */

bool tval_truth(struct tval v)
{
	if (v.o || v.kind == 't')
		return true;
	if (!v.j)
		return false;
	switch (json_typeof(v.j)) {
	case JSON_STRING:
		return json_string_length(v.j) > 0;
	case JSON_INTEGER:
		return json_integer_value(v.j) != 0;
	case JSON_REAL:
		return json_real_value(v.j) != 0;
	case JSON_TRUE:
		return true;
	case JSON_FALSE:
	case JSON_NULL:
		return false;
	case JSON_ARRAY:
		return json_array_size(v.j) > 0;
	case JSON_OBJECT:
		return is_struct(v) || json_object_size(v.j) > 0;
	}
	return false;
}

static enum walk_result walk_if_or_with(struct exec *x, struct tval dot, const struct node *n)
{
	size_t mark = x->n_vars;
	enum walk_result r = WALK_OK;
	struct tval v = eval_pipeline(x, dot, n->pipe);

	if (tval_truth(v))
		r = walk(x, n->type == N_WITH ? v : dot, n->list);
	else if (n->else_list)
		r = walk(x, dot, n->else_list);
	x->n_vars = mark;
	return r;
}

static int cmp_keys(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* One iteration of range; true when the range must stop (break). */
static bool range_one(struct exec *x, const struct node *r, struct tval index, struct tval elem)
{
	size_t mark = x->n_vars;
	const struct node *pipe = r->pipe;
	enum walk_result w;

	if (pipe->n_decl > 0) {
		if (pipe->is_assign)
			set_var(x, pipe->decl[0]->ident[0], pipe->n_decl > 1 ? index : elem);
		else
			set_top_var(x, 1, elem);
	}
	if (pipe->n_decl > 1) {
		if (pipe->is_assign)
			set_var(x, pipe->decl[1]->ident[0], elem);
		else
			set_top_var(x, 2, index);
	}
	w = walk(x, elem, r->list);
	x->n_vars = mark;
	return w == WALK_BREAK;
}

static void walk_range(struct exec *x, struct tval dot, const struct node *r)
{
	size_t mark = x->n_vars;
	struct tval v;

	at(x, r);
	v = eval_pipeline(x, dot, r->pipe);
	bool ran = false;
	if (v.j && json_is_array(v.j)) {
		for (size_t i = 0; i < json_array_size(v.j); i++) {
			json_t *e = json_array_get(v.j, i);
			struct tval ev = {.j = e, .sch = v.sch, .kind = kind_for("", e)};
			if (v.sch && json_is_object(e))
				ev.kind = 'o';
			if (is_raw(v))
				ev = tval_raw(e);
			ran = true;
			if (range_one(x, r, mk_int(x, (int64_t)i), ev))
				break;
		}
	} else if (v.j && json_is_integer(v.j)) {
		if (r->pipe->n_decl > 1) {
			struct sbuf *b = x_sbuf(x);
			go_print_value(b, v);
			x_errorf(x, "can't use %s to iterate over more than one variable",
				 sbuf_str(b));
		}
		for (int64_t i = 0; i < json_integer_value(v.j); i++) {
			ran = true;
			if (range_one(x, r, INVALID, mk_int(x, i)))
				break;
		}
	} else if (is_map(v)) {
		size_t n = json_object_size(v.j), k = 0;
		const char *key;
		json_t *e;
		const char **keys = x_track(x, xcalloc(n ? n : 1, sizeof(*keys)));
		json_object_foreach (v.j, key, e)
			keys[k++] = key;
		qsort(keys, n, sizeof(*keys), cmp_keys);
		for (size_t i = 0; i < n; i++) {
			json_t *ev = json_object_get(v.j, keys[i]);
			ran = true;
			if (range_one(x, r, mk_str(x, keys[i], strlen(keys[i])),
				      tval_child(v, ev, kind_for("", ev))))
				break;
		}
	} else if (!is_valid(v) || (v.j && json_is_null(v.j) && v.kind != 'p')) {
		/* nil maps and slices: nothing to iterate, not an error */
	} else {
		struct sbuf *b = x_sbuf(x);
		go_print_value(b, v);
		x_errorf(x, "range can't iterate over %s", sbuf_str(b));
	}
	x->n_vars = mark;
	if (!ran && r->else_list)
		walk(x, dot, r->else_list);
}

static void walk_template(struct exec *x, struct tval dot, const struct node *n)
{
	const struct tmpl_tree *tree = NULL;

	at(x, n);
	for (size_t i = 0; i < x->t->n_trees; i++)
		if (strcmp(x->t->trees[i].name, n->text) == 0 && x->t->trees[i].root)
			tree = &x->t->trees[i];
	if (!tree)
		x_errorf(x, "template \"%s\" not defined", n->text);
	if (x->depth == MAX_EXEC_DEPTH)
		x_errorf(x, "exceeded maximum template depth (%d)", MAX_EXEC_DEPTH);
	dot = eval_pipeline(x, dot, n->pipe);

	/* no dynamic scoping: the callee sees only its own $ */
	size_t saved_n = x->n_vars, saved_base = x->var_base;
	const char *saved_name = x->tree_name;
	x->var_base = x->n_vars;
	push_var(x, "$", dot);
	x->depth++;
	x->tree_name = tree->name;
	walk(x, dot, tree->root);
	x->depth--;
	x->tree_name = saved_name;
	x->n_vars = saved_n;
	x->var_base = saved_base;
}

static enum walk_result walk(struct exec *x, struct tval dot, const struct node *n)
{
	at(x, n);
	if (tmpl_max_steps && ++x->steps > tmpl_max_steps)
		x_errorf(x, "execution stopped: more than %zu steps", tmpl_max_steps);
	if (tmpl_max_output && x->out->len > tmpl_max_output)
		x_errorf(x, "execution stopped: more than %zu bytes of output", tmpl_max_output);
	switch (n->type) {
	case N_ACTION: {
		struct tval v = eval_pipeline(x, dot, n->pipe);
		if (n->pipe->n_decl == 0) {
			at(x, n);
			if (!is_valid(v))
				sbuf_adds(x->out, "<no value>");
			else
				go_print_value(x->out, v);
		}
		return WALK_OK;
	}
	case N_BREAK:
		return WALK_BREAK;
	case N_CONTINUE:
		return WALK_CONTINUE;
	case N_IF:
	case N_WITH:
		return walk_if_or_with(x, dot, n);
	case N_LIST:
		for (size_t i = 0; i < n->n_kids; i++) {
			enum walk_result r = walk(x, dot, n->kids[i]);
			if (r != WALK_OK)
				return r;
		}
		return WALK_OK;
	case N_RANGE:
		walk_range(x, dot, n);
		return WALK_OK;
	case N_TEMPLATE:
		walk_template(x, dot, n);
		return WALK_OK;
	case N_TEXT:
		sbuf_add(x->out, n->text, n->text_len);
		return WALK_OK;
	default: {
		struct sbuf *b = x_sbuf(x);
		node_string(b, n);
		x_errorf(x, "unknown node: %s", sbuf_str(b));
	}
	}
}

int tmpl_exec(const struct tmpl *t, struct tval dot, enum tmpl_funcset funcs, struct sbuf *out,
	      char **ret_err)
{
	struct exec *x = xcalloc(1, sizeof(*x));
	int r = 0;

	x->t = t;
	x->tree_name = t->name;
	x->funcs = funcs;
	x->out = out;
	push_var(x, "$", dot);
	if (setjmp(x->jb) == 0) {
		if (!t->n_trees || !t->trees[0].root)
			x_errorf(x, "\"%s\" is an incomplete or empty template", t->name);
		walk(x, dot, t->trees[0].root);
	} else {
		*ret_err = x->err;
		r = -EINVAL;
	}
	for (size_t i = 0; i < x->n_owned; i++)
		json_decref(x->owned[i]);
	free(x->owned);
	for (size_t i = 0; i < x->n_tracked; i++)
		free(x->tracked[i]);
	free(x->tracked);
	for (size_t i = 0; i < x->n_scratch; i++) {
		sbuf_release(x->scratch[i]);
		free(x->scratch[i]);
	}
	free(x->scratch);
	free(x->vars);
	free(x);
	return r;
}
