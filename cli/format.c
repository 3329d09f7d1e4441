/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "format.h"
#include "base/banned.h"

int fmt_list_begin(struct fmt_list *f, const char *format, const struct tmpl_func *extra,
		   char **err)
{
	_cleanup_sbuf_ struct sbuf b = SBUF_INIT;
	const char *t = format;
	char *perr = NULL;

	memset(f, 0, sizeof(*f));
	f->format = format;
	if (berth_str_has_prefix(format, "table")) {
		f->table = true;
		t = format + 5;
	} else if (strcmp(format, "json") == 0) {
		t = "{{json .}}";
	}
	/* trim spaces, then "\t" and "\n" written out become the characters */
	while (*t == ' ')
		t++;
	size_t n = strlen(t);
	while (n && t[n - 1] == ' ')
		n--;
	for (size_t i = 0; i < n; i++) {
		if (t[i] == '\\' && i + 1 < n && (t[i + 1] == 't' || t[i + 1] == 'n')) {
			sbuf_addc(&b, t[i + 1] == 't' ? '\t' : '\n');
			i++;
		} else {
			sbuf_addc(&b, t[i]);
		}
	}
	if (tmpl_parse("", sbuf_str(&b), extra, &f->tmpl, &perr) < 0) {
		*err = xasprintf("template parsing error: %s", perr);
		free(perr);
		return -1;
	}
	return 0;
}

int fmt_list_row(struct fmt_list *f, struct tval row, char **err)
{
	char *e = NULL;

	if (tmpl_exec(f->tmpl, row, TMPL_FUNCS_BASIC, &f->rows, &e) < 0) {
		*err = xasprintf("template parsing error: %s", e);
		free(e);
		return -1;
	}
	sbuf_addc(&f->rows, '\n');
	f->any_row = true;
	return 0;
}

void fmt_list_end(struct fmt_list *f, const struct tobj *header)
{
	if (!f->table) {
		out_write(sbuf_str(&f->rows), f->rows.len);
		return;
	}
	_cleanup_sbuf_ struct sbuf out = SBUF_INIT, head = SBUF_INIT;
	struct tabwriter tw;
	char *e = NULL;

	tw_init(&tw, &out, 10, 1, 3, ' ');
	/* errors in the header are ignored, as docker does; what was written stays */
	if (header && tmpl_exec(f->tmpl, tval_obj(header), TMPL_FUNCS_HEADER, &head, &e) < 0)
		free(e);
	tw_write(&tw, sbuf_str(&head), head.len);
	tw_write(&tw, "\n", 1);
	tw_write(&tw, sbuf_str(&f->rows), f->rows.len);
	tw_flush(&tw);
	tw_release(&tw);
	out_write(sbuf_str(&out), out.len);
}

void fmt_list_release(struct fmt_list *f)
{
	tmpl_free(f->tmpl);
	f->tmpl = NULL;
	sbuf_release(&f->rows);
}

/* ---- header objects -------------------------------------------------------------------------- */

static int header_call(const struct tobj *o, const char *name, json_t *const *args, size_t n,
		       json_t **ret, char **err)
{
	const struct header_obj *h = (const struct header_obj *)o;

	if (strcmp(name, "Label") == 0) {
		/* SubHeaderContext.Label: the last dotted part, '-' and '_' as spaces */
		if (n != 1 || !json_is_string(args[0])) {
			*err = xasprintf("wrong number of args for Label: want 1 got %zu", n);
			return -EINVAL;
		}
		const char *s = json_string_value(args[0]), *dot = strrchr(s, '.');
		char *t = xstrdup(dot ? dot + 1 : s);
		for (char *p = t; *p; p++)
			if (*p == '-' || *p == '_')
				*p = ' ';
		*ret = json_string(t);
		free(t);
		return 0;
	}
	if (n > 0) {
		*err = xasprintf("%s is not a method but has arguments", name);
		return -EINVAL;
	}
	for (size_t i = 0; h->pairs[i]; i += 2)
		if (strcmp(h->pairs[i], name) == 0) {
			*ret = json_string(h->pairs[i + 1]);
			return 0;
		}
	/* a map without that key: Go's invalid value */
	*ret = NULL;
	return 0;
}

static json_t *header_json(const struct tobj *o)
{
	const struct header_obj *h = (const struct header_obj *)o;
	json_t *j = json_object();

	for (size_t i = 0; h->pairs[i]; i += 2)
		json_object_set_new(j, h->pairs[i], json_string(h->pairs[i + 1]));
	return j;
}

static const struct tobj_type header_type = {
	.name = "formatter.SubHeaderContext",
	.call = header_call,
	.to_json = header_json,
};

void header_init(struct header_obj *h, const char *const *pairs)
{
	h->obj.type = &header_type;
	h->obj.data = h;
	h->pairs = pairs;
}

/* ---- display helpers --------------------------------------------------------------------------- */

void ellipsis(struct sbuf *out, const char *s, size_t max)
{
	size_t len = strlen(s), cols = display_width(s, len);

	if (max == 0)
		return;
	if (cols <= max) {
		sbuf_adds(out, s);
		return;
	}
	/* runes up to max-1 columns, then "…" */
	size_t w = 0, i = 0;
	if (max == 1) {
		/* the first rune */
		size_t n = 1;
		while (n < len && ((unsigned char)s[n] & 0xc0) == 0x80)
			n++;
		sbuf_add(out, s, n);
		return;
	}
	while (i < len) {
		size_t n = 1;
		while (i + n < len && ((unsigned char)s[i + n] & 0xc0) == 0x80)
			n++;
		size_t rw = display_width(s + i, n);
		if (w + rw > max - 1)
			break;
		w += rw;
		i += n;
	}
	sbuf_add(out, s, i);
	sbuf_adds(out, "\xe2\x80\xa6");
}

/* ---- contexts with methods ---------------------------------------------------------------------- */

static int ctx_call(const struct tobj *o, const char *name, json_t *const *args, size_t n,
		    json_t **ret, char **err)
{
	const struct ctx_obj *c = o->data;
	json_t *v = json_object_get(c->values, name);

	if (c->call_args) {
		int r = c->call_args(c, name, args, n, ret, err);
		if (r != -ENOENT)
			return r;
	}
	if (!v)
		return -ENOENT;
	if (n > 0) {
		*err = xasprintf("wrong number of args for %s: want 0 got %zu", name, n);
		return -EINVAL;
	}
	*ret = json_incref(v);
	return 0;
}

static json_t *ctx_json(const struct tobj *o)
{
	const struct ctx_obj *c = o->data;

	return json_deep_copy(c->values);
}

void ctx_obj_init(struct ctx_obj *c, const char *type_name, json_t *values)
{
	/* one tobj_type per Go type name: the types are few and live as long as the program */
	static struct {
		const char *name;
		struct tobj_type type;
	} types[16];
	static size_t n_types;
	const struct tobj_type *t = NULL;

	for (size_t i = 0; i < n_types && !t; i++)
		if (strcmp(types[i].name, type_name) == 0)
			t = &types[i].type;
	if (!t) {
		if (n_types == ARRAY_SIZE(types))
			cli_oom();
		types[n_types].name = type_name;
		types[n_types].type = (struct tobj_type){type_name, ctx_call, ctx_json};
		t = &types[n_types++].type;
	}
	memset(c, 0, sizeof(*c));
	c->obj.type = t;
	c->obj.data = c;
	c->values = values ? values : json_object();
}

void ctx_obj_release(struct ctx_obj *c)
{
	if (c->values)
		json_decref(c->values);
	if (c->src)
		json_decref(c->src);
	c->values = c->src = NULL;
}

void ctx_set(struct ctx_obj *c, const char *method, const char *value)
{
	json_object_set_new(c->values, method, json_string(value ? value : ""));
}

void truncate_id(struct sbuf *out, const char *id)
{
	const char *colon = strchr(id, ':');

	if (colon)
		id = colon + 1;
	sbuf_add(out, id, strlen(id) > 12 ? 12 : strlen(id));
}
