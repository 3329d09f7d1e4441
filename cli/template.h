/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * Go's text/template, the part of it docker's --format uses, evaluated over JSON values.
 *
 * The language is Go's: text and {{actions}}; {{- -}} trim markers; comments ({{/-star...});
 * pipelines with '|'; variables ($x := ..., $x = ..., range $i, $v := ...); if / else if / else,
 * range (over lists, maps in key order, integers) with else, break and continue; with / else with;
 * define, template and block; parenthesised pipelines; constants (strings, raw strings, numbers,
 * characters, true, false, nil).  Functions: Go's builtins (and or not len index slice print
 * printf println html js urlquery call eq ne lt le gt ge) and docker's (json split join title lower
 * upper pad truncate), plus extra ones a command adds.  Errors carry Go's wording
 * ("template: :1: unexpected \"}\" in operand", "template: :1:2: executing \"\" at <.Foo>: can't
 * evaluate field Foo in type ...").
 *
 * Values are JSON (jansson).  Go evaluates over typed structs, so three things are added to make
 * JSON behave like them:
 *   - a schema (struct tschema) for the objects whose Go type docker's formatter uses: field names
 *     as Go spells them ({{.APIVersion}} reads "ApiVersion"), the zero value of a field the daemon
 *     left out, and an error for a field the type does not have;
 *   - for objects without a schema, Go field names are matched to JSON keys (ID -> Id, APIVersion
 *     -> ApiVersion, Status -> status) and a small table tells maps (Labels, Options...) from
 *     structs, which print ("map[a:b]" vs "{a b}"), range and index differently;
 *   - objects with methods (struct tobj): docker's formatter contexts (ps, images...), whose
 *     fields are computed (.Status, .RunningFor, .Label "k").
 */

#include <stdbool.h>
#include <stddef.h>

#include "base/base.h"
#include "sbuf.h"

/* ---- schemas ----------------------------------------------------------------------------- */

/*
 * Field kinds: 's' string, 'b' bool, 'i' integer, 'f' float, 'a' slice, 'm' map, 'o' struct,
 * 'p' pointer to struct, 'x' interface (any), 'r' a pointer to a struct Go encodes as a map (its
 * JSON keys sorted all the way down: the registry configuration), 't' time.Time (an RFC 3339
 * string; prints as Go's Time.String()), 'd' time.Duration (nanoseconds; prints "1m30s"), 'e' an
 * embedded struct (sub: its type): its fields are the outer struct's too and come from the same
 * JSON object, it prints as a struct of its own inside the outer one, and {{json}} writes its
 * fields in line.  A missing or null field reads as the kind's zero value: "", false, 0, 0, []
 * (nil slice), map[] (nil map), the struct's zero value, <nil>, <nil>, 0001-01-01 00:00:00 +0000
 * UTC, 0s.
 */
struct tschema;
struct tschema_field {
	const char *go;	  /* the Go field name templates use */
	const char *json; /* the JSON key (NULL: same as go) */
	char kind;
	bool omitempty;		   /* json:",omitempty": left out of {{json}} when zero */
	const struct tschema *sub; /* the schema of a struct/pointer/slice element/map value */
};
struct tschema {
	const char *type_name; /* Go's type name in errors: "system.versionInfo" */
	const struct tschema_field *fields;
	size_t n_fields;
	bool embedded_any; /* unknown fields fall through to the JSON (embedded structs) */
	/*
	 * JSON decoded into Go's interface{} (map[string]interface{} all the way down), run with
	 * text/template's missingkey=error: a key an object lacks is an error ("map has no entry
	 * for key"), as docker's inspect runs a template over the raw answer when its typed struct
	 * does not fit the template.  No fields: tschema_raw is the one such schema.
	 */
	bool raw;
	/*
	 * A docker formatter context as a struct of its methods' values (system df -v's rows):
	 * {{json}} writes it as its MarshalJSON does, through json.Marshal, which escapes <, > and
	 * & (list the fields in sorted order: it is a map there).
	 */
	bool marshaler;
	/*
	 * Such a context's Label method ({{.Label "k"}}: ContainerContext's, volumeContext's): the
	 * key of the object under which the row keeps its labels (an object; {{json}} leaves it
	 * out, as it is no field).  NULL: no Label method.
	 */
	const char *label_key;
	/*
	 * Only the names of a Go struct's fields (json unused): a name not listed is Go's "can't
	 * evaluate field X in type T"; a listed one reads the JSON as an object without a schema
	 * does, its sub (names-only too) going with an object.  A missing key is no value, or (null
	 * too) the zero value of the field's kind when it has one (fields the daemon omits); kind
	 * 'e' names the embedded struct: the same object.
	 * The object prints and encodes as one without a schema.  For the large types docker's
	 * inspect reads (container.InspectResponse) whose fields berth does not type one by one.
	 */
	bool names_only;
};
extern const struct tschema tschema_raw;

/* ---- objects with methods ----------------------------------------------------------------- */

struct tobj;
struct tobj_type {
	const char *name; /* Go's type name: "*formatter.ContainerContext" */
	/*
	 * Call the method name with n args (strings, numbers... as JSON).  Return 0 with *ret (a new
	 * reference; NULL reads as Go's invalid value), -ENOENT when the type has no such method, or
	 * -EINVAL with *err (malloc'd) when the call fails ("wrong number of args for Label: want 1
	 * got 0").
	 */
	int (*call)(const struct tobj *o, const char *name, json_t *const *args, size_t n,
		    json_t **ret, char **err);
	/* {{json .}}: every method without arguments, as docker's MarshalJSON does (new ref). */
	json_t *(*to_json)(const struct tobj *o);
};
struct tobj {
	const struct tobj_type *type;
	void *data;
};

/* ---- the value a template runs on ---------------------------------------------------------- */

struct tval {
	json_t *j;	      /* borrowed; NULL with o == NULL: Go's invalid value (<no value>) */
	const struct tobj *o; /* an object with methods */
	const struct tschema *sch; /* the schema of j (an object), or NULL */
	char kind;		   /* schema kind of j when known (see above), else 0 */
};

static inline struct tval tval_json(json_t *j, const struct tschema *sch)
{
	return (struct tval){.j = j, .sch = sch, .kind = sch ? 'o' : 0};
}
/* A JSON value as Go's interface{} from encoding/json (see tschema.raw). */
static inline struct tval tval_raw(json_t *j)
{
	return (struct tval){.j = j,
			     .sch = &tschema_raw,
			     .kind = json_is_object(j)	? 'm'
				     : json_is_array(j) ? 'a'
							: 0};
}
static inline struct tval tval_obj(const struct tobj *o)
{
	return (struct tval){.o = o};
}

/* ---- functions a caller adds -------------------------------------------------------------- */

/*
 * A function with JSON arguments and one JSON result.  Return 0 and *ret (new reference), or -1
 * with *err (malloc'd) -- reported as "error calling NAME: ERR".  nargs is checked before the call
 * against min_args/max_args (-1: any).
 */
typedef int (*tmpl_fn)(json_t *const *args, size_t nargs, json_t **ret, char **err);
struct tmpl_func {
	const char *name;
	tmpl_fn fn;
	int min_args, max_args;
};

/* ---- templates ---------------------------------------------------------------------------- */

struct tmpl;

enum tmpl_funcset {
	TMPL_FUNCS_BASIC,  /* docker's basicFunctions */
	TMPL_FUNCS_HEADER, /* docker's HeaderFunctions: json/split/join/... leave their argument */
};

/*
 * Parse text as template name (docker: "" for --format, "version" for version).  extra: more
 * functions (NULL-terminated by name == NULL; may be NULL).  On error returns -EINVAL and *ret_err
 * is Go's message ("template: :1: unclosed action"), caller frees.
 */
int tmpl_parse(const char *name, const char *text, const struct tmpl_func *extra, struct tmpl **ret,
	       char **ret_err);
void tmpl_free(struct tmpl *t);
static inline void tmpl_freep(struct tmpl **t)
{
	tmpl_free(*t);
	*t = NULL;
}
#define _cleanup_tmpl_ _cleanup_(tmpl_freep)

/*
 * Run the template on dot, appending to out.  Output written before an error stays in out (as
 * Go's writer keeps it).  On error returns -EINVAL with Go's message in *ret_err.
 */
int tmpl_exec(const struct tmpl *t, struct tval dot, enum tmpl_funcset funcs, struct sbuf *out,
	      char **ret_err);

/*
 * Bounds on one execution (0: none, the default, as Go has none): the output's size in bytes and
 * the steps taken (nodes walked, range iterations).  Past either, tmpl_exec() fails with
 * "template: ...: execution stopped: ...".  The fuzz target sets them.
 */
extern size_t tmpl_max_output;
extern size_t tmpl_max_steps;

/* ---- Go's formatting, shared with the commands ------------------------------------------- */

/* fmt.Sprint of one value (what {{.}} prints), appended. */
void go_print_value(struct sbuf *out, struct tval v);
/* encoding/json as docker's json function: compact, maps sorted, no HTML escaping. */
void go_json_encode(struct sbuf *out, struct tval v);
/* strconv.Quote */
void go_quote(struct sbuf *out, const char *s, size_t len);
/* strconv.FormatFloat(f, 'g', -1, 64) (fmt's %v of a float64) */
void go_format_float(struct sbuf *out, double f);

/* The Go field name for a JSON key lookup: the key itself, or its alias ("ID" -> "Id"...). */
json_t *tmpl_json_field(json_t *obj, const char *go_name);
