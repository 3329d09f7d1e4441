/* SPDX-License-Identifier: Apache-2.0 */
/*
 * berth compose: the files to the canonical model (compose.h).  libfyaml parses; a walk turns
 * the YAML into JSON (scalars interpolated, every key's line kept), then each service is checked
 * key by key against the Compose Specification and put into one form, the files are merged in
 * order, extends are resolved, and the references (depends_on, networks, volumes) checked.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "compose.h"
#include "compose-dl.h"
#include "runopts.h"
#include "units.h"
#include "base/banned.h"

extern char **environ;

#define MAX_FILE_SIZE (4 << 20)

/* ---- errors with a place ----------------------------------------------------------------------- */

struct ld {
	const char *file; /* the file being read (its display name) */
	const char *dir;  /* its directory (relative paths in it are relative to this) */
	json_t *env;
	json_t *unset; /* variables found unset (for the warning) */
	json_t *locs;  /* path -> "file:line" */
	char *err;
	int code;
};

/* A key's path in the model ("services.web.ports[0]"), cut to fit. */
static void BERTH_PRINTF(3, 4) subpath(char *buf, size_t n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, n, fmt, ap);
	va_end(ap);
}

/* The place of path, or of its nearest parent that has one. */
static const char *loc_of(const json_t *locs, const char *path)
{
	char buf[512];

	subpath(buf, sizeof(buf), "%s", path);
	for (;;) {
		const char *l = json_string_value(json_object_get(locs, buf));
		if (l)
			return l;
		char *cut = NULL;
		for (char *p = buf; *p; p++)
			if (*p == '.' || *p == '[')
				cut = p;
		if (!cut)
			return NULL;
		*cut = '\0';
	}
}

static int failv(struct ld *l, int code, const char *path, const char *fmt, va_list ap)
{
	struct sbuf b = SBUF_INIT;
	const char *where = path ? loc_of(l->locs, path) : NULL;

	if (l->err)
		return -1;
	if (where)
		sbuf_printf(&b, "%s: ", where);
	else if (l->file)
		sbuf_printf(&b, "%s: ", l->file);
	if (path && *path)
		sbuf_printf(&b, "%s: ", path);
	sbuf_vprintf(&b, fmt, ap);
	l->err = sbuf_detach(&b);
	l->code = code;
	return -1;
}

static int BERTH_PRINTF(3, 4) fail(struct ld *l, const char *path, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	failv(l, COMPOSE_EXIT_PARSE, path, fmt, ap);
	va_end(ap);
	return -1;
}

/* ---- interpolation ------------------------------------------------------------------------------ */

static bool name_start(char c)
{
	return c == '_' || isalpha((unsigned char)c);
}

static bool name_char(char c)
{
	return c == '_' || isalnum((unsigned char)c);
}

static const char *env_get(const json_t *env, const char *name)
{
	return json_string_value(json_object_get(env, name));
}

static int interp(const char *s, size_t len, const json_t *env, json_t *unset, struct sbuf *out,
		  char **err, int depth);

/* ${...}: body is what is between the braces. */
static int braced(const char *whole, const char *body, size_t len, const json_t *env, json_t *unset,
		  struct sbuf *out, char **err, int depth)
{
	size_t n = 0;

	while (n < len && name_char(body[n]))
		n++;
	if (n == 0 || !name_start(body[0]) || (n < len && !strchr(":-?+", body[n]))) {
		*err = xasprintf("invalid interpolation format for \"%s\": \"${%.*s}\"; you may "
				 "need to escape any $ with another $",
				 whole, (int)len, body);
		return -1;
	}
	char *name = xstrndup(body, n);
	const char *val = env_get(env, name);
	const char *op = body + n, *arg = NULL;
	size_t arglen = 0;
	bool colon = false;
	int r = 0;

	if (n < len) {
		colon = *op == ':';
		if (colon)
			op++;
		if (op >= body + len || !strchr("-?+", *op)) {
			*err = xasprintf("invalid interpolation format for \"%s\": \"${%.*s}\"",
					 whole, (int)len, body);
			free(name);
			return -1;
		}
		arg = op + 1;
		arglen = len - (size_t)(arg - body);
	}
	bool set = val != NULL, nonempty = val && *val;
	bool have = colon ? nonempty : set;
	if (!arg) {
		if (val)
			sbuf_adds(out, val);
		else if (unset)
			json_object_set_new(unset, name, json_true());
	} else if (*op == '-') {
		if (have)
			sbuf_adds(out, val);
		else
			r = interp(arg, arglen, env, unset, out, err, depth + 1);
	} else if (*op == '?') {
		if (have) {
			sbuf_adds(out, val);
		} else {
			struct sbuf m = SBUF_INIT;
			char *e2 = NULL;
			if (interp(arg, arglen, env, unset, &m, &e2, depth + 1) < 0) {
				*err = e2;
			} else {
				*err = xasprintf("required variable %s is missing a value%s%s",
						 name, m.len ? ": " : "", sbuf_str(&m));
			}
			sbuf_release(&m);
			r = -1;
		}
	} else { /* + */
		if (have)
			r = interp(arg, arglen, env, unset, out, err, depth + 1);
	}
	free(name);
	return r;
}

static int interp(const char *s, size_t len, const json_t *env, json_t *unset, struct sbuf *out,
		  char **err, int depth)
{
	const char *end = s + len;

	if (depth > 16) {
		*err = xstrdup("interpolation nested too deeply");
		return -1;
	}
	while (s < end) {
		if (*s != '$') {
			sbuf_addc(out, *s++);
			continue;
		}
		if (s + 1 < end && s[1] == '$') {
			sbuf_addc(out, '$');
			s += 2;
			continue;
		}
		if (s + 1 < end && s[1] == '{') {
			const char *b = s + 2, *p = b;
			int lvl = 1;
			for (; p < end; p++) {
				if (*p == '$' && p + 1 < end && p[1] == '$') {
					p++;
					continue;
				}
				if (*p == '{')
					lvl++;
				else if (*p == '}' && --lvl == 0)
					break;
			}
			if (p >= end) {
				*err = xasprintf(
					"invalid interpolation format for \"%.*s\": unclosed "
					"\"${\"",
					(int)(end - s), s);
				return -1;
			}
			if (braced(s, b, (size_t)(p - b), env, unset, out, err, depth) < 0)
				return -1;
			s = p + 1;
			continue;
		}
		if (s + 1 < end && name_start(s[1])) {
			const char *p = s + 1;
			while (p < end && name_char(*p))
				p++;
			char *name = xstrndup(s + 1, (size_t)(p - s - 1));
			const char *val = env_get(env, name);
			if (val)
				sbuf_adds(out, val);
			else if (unset)
				json_object_set_new(unset, name, json_true());
			free(name);
			s = p;
			continue;
		}
		*err = xasprintf("invalid interpolation format for \"%.*s\": a lone \"$\"; you may "
				 "need to escape any $ with another $",
				 (int)(end - s), s);
		return -1;
	}
	return 0;
}

char *compose_interpolate(const char *s, const json_t *env, json_t *unset, char **err)
{
	struct sbuf out = SBUF_INIT;

	*err = NULL;
	if (interp(s, strlen(s), env, unset, &out, err, 0) < 0) {
		sbuf_release(&out);
		return NULL;
	}
	return sbuf_detach(&out);
}

/* ---- YAML to JSON ------------------------------------------------------------------------------- */

static int token_line(struct fy_node *n)
{
	struct fy_token *t = n && (fy.fy_node_get_type(n) == FYNT_SCALAR)
				     ? fy.fy_node_get_scalar_token(n)
				     : NULL;
	const struct fy_mark *m = t ? fy.fy_token_start_mark(t) : NULL;

	return m ? m->line + 1 : 0;
}

static void set_loc(struct ld *l, const char *path, int line)
{
	if (line > 0)
		json_object_set_new(l->locs, path, json_sprintf("%s:%d", l->file, line));
}

static int to_json(struct ld *l, struct fy_node *n, const char *path, int line, bool interpolate,
		   json_t **ret)
{
	char sub[1024];

	if (!n || (fy.fy_node_get_type(n) == FYNT_SCALAR)) {
		size_t len = 0;
		const char *text = n ? fy.fy_node_get_scalar(n, &len) : NULL;
		enum fy_node_style st = n ? fy.fy_node_get_style(n) : FYNS_PLAIN;
		if (!text || (st == FYNS_PLAIN &&
			      (len == 0 || (len == 1 && *text == '~') ||
			       (len == 4 && (!memcmp(text, "null", 4) || !memcmp(text, "Null", 4) ||
					     !memcmp(text, "NULL", 4)))))) {
			*ret = json_null();
			return 0;
		}
		char *raw = xstrndup(text, len);
		if (interpolate) {
			char *e = NULL;
			char *v = compose_interpolate(raw, l->env, l->unset, &e);
			free(raw);
			if (!v) {
				fail(l, path, "%s", e);
				free(e);
				return -1;
			}
			raw = v;
		}
		*ret = json_string(raw);
		free(raw);
		if (!*ret)
			return fail(l, path, "not valid UTF-8");
		return 0;
	}
	if ((fy.fy_node_get_type(n) == FYNT_SEQUENCE)) {
		json_t *a = json_array();
		void *it = NULL;
		struct fy_node *item;
		size_t i = 0;
		while ((item = fy.fy_node_sequence_iterate(n, &it))) {
			json_t *v;
			subpath(sub, sizeof(sub), "%s[%zu]", path, i++);
			set_loc(l, sub, token_line(item) ?: line);
			if (to_json(l, item, sub, token_line(item) ?: line, interpolate, &v) < 0) {
				json_decref(a);
				return -1;
			}
			json_array_append_new(a, v);
		}
		*ret = a;
		return 0;
	}
	json_t *o = json_object();
	void *it = NULL;
	struct fy_node_pair *pair;
	while ((pair = fy.fy_node_mapping_iterate(n, &it))) {
		struct fy_node *k = fy.fy_node_pair_key(pair), *v = fy.fy_node_pair_value(pair);
		size_t klen = 0;
		const char *key = k && (fy.fy_node_get_type(k) == FYNT_SCALAR)
					  ? fy.fy_node_get_scalar(k, &klen)
					  : NULL;
		json_t *jv;
		int kl = token_line(k);
		if (!key) {
			json_decref(o);
			set_loc(l, path, line);
			return fail(l, path, "a mapping key must be a string");
		}
		char *ks = xstrndup(key, klen);
		subpath(sub, sizeof(sub), "%s%s%s", path, *path ? "." : "", ks);
		set_loc(l, sub, kl ?: line);
		/* extension fields (x-...) are not interpolated: they are anchors' material */
		bool x = berth_str_has_prefix(ks, "x-");
		if (to_json(l, v, sub, kl ?: line, interpolate && !x, &jv) < 0) {
			free(ks);
			json_decref(o);
			return -1;
		}
		json_object_set_new(o, ks, jv);
		free(ks);
	}
	*ret = o;
	return 0;
}

static int load_yaml(struct ld *l, const char *path, json_t **ret)
{
	struct fy_diag_cfg dcfg;
	struct fy_diag *diag;
	struct fy_parse_cfg cfg = {0};
	struct fy_document *doc;
	char *data = NULL;
	size_t len = 0;
	int r;

	r = berth_read_file_at(AT_FDCWD, path, MAX_FILE_SIZE, &data, &len, NULL);
	if (r < 0) {
		l->code = r == -ENOENT ? COMPOSE_EXIT_FILE_NOT_FOUND : 1;
		l->err = xasprintf("open %s: %s", path, strerror(-r));
		return -1;
	}
	fy.fy_diag_cfg_default(&dcfg);
	dcfg.fp = NULL;
	dcfg.output_fn = NULL;
	diag = fy.fy_diag_create(&dcfg);
	if (diag)
		fy.fy_diag_set_collect_errors(diag, true);
	cfg.flags = FYPCF_QUIET | FYPCF_RESOLVE_DOCUMENT;
	cfg.diag = diag;
	doc = fy.fy_document_build_from_string(&cfg, data, len);
	if (!doc || fy.fy_document_resolve(doc) < 0) {
		void *it = NULL;
		struct fy_diag_error *de = diag ? fy.fy_diag_errors_iterate(diag, &it) : NULL;
		if (de)
			l->err = xasprintf("%s:%d: invalid YAML: %s", l->file, de->line + 1,
					   de->msg);
		else
			l->err = xasprintf("%s: invalid YAML", l->file);
		l->code = COMPOSE_EXIT_PARSE;
		fy.fy_document_destroy(doc);
		fy.fy_diag_destroy(diag);
		free(data);
		return -1;
	}
	struct fy_node *root = fy.fy_document_root(doc);
	if (root && !(fy.fy_node_get_type(root) == FYNT_MAPPING)) {
		l->err = xasprintf("%s: top-level object must be a mapping", l->file);
		l->code = COMPOSE_EXIT_PARSE;
		r = -1;
	} else {
		r = root ? to_json(l, root, "", 1, true, ret) : 0;
		if (!root)
			*ret = json_object();
	}
	fy.fy_document_destroy(doc);
	fy.fy_diag_destroy(diag);
	free(data);
	return r;
}

/* ---- scalar types ------------------------------------------------------------------------------ */

static int want_string(struct ld *l, const char *path, json_t *v, const char **ret)
{
	if (!json_is_string(v))
		return fail(l, path, "must be a string");
	*ret = json_string_value(v);
	return 0;
}

static int want_bool(struct ld *l, const char *path, json_t *v, bool *ret)
{
	const char *s = json_string_value(v);

	if (s && (!strcmp(s, "true") || !strcmp(s, "True") || !strcmp(s, "TRUE")))
		*ret = true;
	else if (s && (!strcmp(s, "false") || !strcmp(s, "False") || !strcmp(s, "FALSE")))
		*ret = false;
	else
		return fail(l, path, "must be a boolean");
	return 0;
}

static int want_int(struct ld *l, const char *path, json_t *v, int64_t min, int64_t *ret)
{
	const char *s = json_string_value(v);

	if (!s || berth_parse_int64(s, min, INT64_MAX, ret) < 0)
		return fail(l, path, "must be an integer%s", min >= 0 ? " (0 or more)" : "");
	return 0;
}

static int want_duration(struct ld *l, const char *path, json_t *v, int64_t *ret)
{
	const char *s = json_string_value(v);
	char *e = NULL;

	if (!s)
		return fail(l, path, "must be a duration");
	if (go_parse_duration(s, ret, &e) < 0) {
		fail(l, path, "%s", e);
		free(e);
		return -1;
	}
	return 0;
}

static int want_size(struct ld *l, const char *path, json_t *v, int64_t *ret)
{
	const char *s = json_string_value(v);

	if (!s || ram_in_bytes(s, ret) < 0)
		return fail(l, path, "invalid size: \"%s\"", s ? s : "");
	return 0;
}

static int want_string_list(struct ld *l, const char *path, json_t *v, bool scalar_ok, json_t **ret)
{
	char sub[1024];
	size_t i;
	json_t *e;

	if (scalar_ok && json_is_string(v)) {
		*ret = json_pack("[O]", v);
		return 0;
	}
	if (!json_is_array(v))
		return fail(l, path, "must be a list of strings");
	json_array_foreach (v, i, e) {
		subpath(sub, sizeof(sub), "%s[%zu]", path, i);
		if (!json_is_string(e))
			return fail(l, sub, "must be a string");
	}
	*ret = json_incref(v);
	return 0;
}

/* A map of strings, or a list "k=v" (a bare "k": null value). */
static int want_dict(struct ld *l, const char *path, json_t *v, char sep, json_t **ret)
{
	char sub[1024];
	json_t *out = json_object();
	const char *k;
	json_t *e;
	size_t i;

	if (json_is_object(v)) {
		json_object_foreach (v, k, e) {
			subpath(sub, sizeof(sub), "%s.%s", path, k);
			if (!json_is_string(e) && !json_is_null(e)) {
				json_decref(out);
				return fail(l, sub, "must be a string, number, boolean or null");
			}
			json_object_set(out, k, e);
		}
	} else if (json_is_array(v)) {
		json_array_foreach (v, i, e) {
			const char *s = json_string_value(e);
			subpath(sub, sizeof(sub), "%s[%zu]", path, i);
			if (!s) {
				json_decref(out);
				return fail(l, sub, "must be a string");
			}
			const char *eq = strchr(s, sep);
			char *key = eq ? xstrndup(s, (size_t)(eq - s)) : xstrdup(s);
			json_object_set_new(out, key, eq ? json_string(eq + 1) : json_null());
			free(key);
		}
	} else {
		json_decref(out);
		return fail(l, path, "must be a mapping or a list");
	}
	*ret = out;
	return 0;
}

/* ---- shell words ---------------------------------------------------------------------------- */

json_t *compose_shell_split(const char *s, char **err)
{
	json_t *out = json_array();
	struct sbuf w = SBUF_INIT;
	bool in_word = false;

	*err = NULL;
	for (const char *p = s;; p++) {
		if (!*p || isspace((unsigned char)*p)) {
			if (in_word)
				json_array_append_new(out, json_string(sbuf_str(&w)));
			sbuf_reset(&w);
			in_word = false;
			if (!*p)
				break;
			continue;
		}
		in_word = true;
		if (*p == '\\' && p[1]) {
			sbuf_addc(&w, *++p);
		} else if (*p == '\'') {
			const char *q = strchr(p + 1, '\'');
			if (!q)
				goto unterminated;
			sbuf_add(&w, p + 1, (size_t)(q - p - 1));
			p = q;
		} else if (*p == '"') {
			for (p++; *p && *p != '"'; p++) {
				if (*p == '\\' && (p[1] == '"' || p[1] == '\\' || p[1] == '$'))
					p++;
				sbuf_addc(&w, *p);
			}
			if (!*p)
				goto unterminated;
		} else {
			sbuf_addc(&w, *p);
		}
	}
	sbuf_release(&w);
	return out;
unterminated:
	sbuf_release(&w);
	json_decref(out);
	*err = xstrdup("invalid command line string: unterminated quote");
	return NULL;
}

/* ---- dotenv ------------------------------------------------------------------------------------ */

int compose_dotenv_parse(const char *path, const json_t *env, json_t *out, char **err)
{
	char *data = NULL;
	size_t len = 0;
	int r = berth_read_file_at(AT_FDCWD, path, MAX_FILE_SIZE, &data, &len, NULL);
	unsigned lineno = 0;

	if (r < 0) {
		*err = xasprintf("couldn't read env file %s: %s", path, strerror(-r));
		return -1;
	}
	for (char *line = data, *next; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		lineno++;
		while (isspace((unsigned char)*line))
			line++;
		size_t n = strlen(line);
		while (n && isspace((unsigned char)line[n - 1]))
			line[--n] = '\0';
		if (!*line || *line == '#')
			continue;
		if (berth_str_has_prefix(line, "export "))
			line += 7;
		char *eq = strchr(line, '=');
		char *key = eq ? xstrndup(line, (size_t)(eq - line)) : xstrdup(line);
		size_t kl = strlen(key);
		while (kl && isspace((unsigned char)key[kl - 1]))
			key[--kl] = '\0';
		bool ok = kl > 0;
		for (size_t i = 0; i < kl; i++)
			if (!name_char(key[i]) && key[i] != '.' && key[i] != '-')
				ok = false;
		if (!ok) {
			*err = xasprintf("%s:%u: invalid variable name \"%s\"", path, lineno, key);
			free(key);
			free(data);
			return -1;
		}
		if (!eq) {
			const char *v = env_get(env, key);
			if (v)
				json_object_set_new(out, key, json_string(v));
			free(key);
			continue;
		}
		char *v = eq + 1;
		while (*v == ' ' || *v == '\t')
			v++;
		struct sbuf val = SBUF_INIT;
		if (*v == '\'' || *v == '"') {
			char q = *v++;
			char *end = strrchr(v, q);
			if (!end) {
				*err = xasprintf("%s:%u: %s: unterminated quote", path, lineno,
						 key);
				sbuf_release(&val);
				free(key);
				free(data);
				return -1;
			}
			for (char *p = v; p < end; p++) {
				if (q == '"' && *p == '\\' && p + 1 < end) {
					p++;
					sbuf_addc(&val, *p == 'n' ? '\n' : *p == 't' ? '\t' : *p);
				} else {
					sbuf_addc(&val, *p);
				}
			}
		} else {
			char *hash = strstr(v, " #");
			size_t vl = hash ? (size_t)(hash - v) : strlen(v);
			while (vl && isspace((unsigned char)v[vl - 1]))
				vl--;
			sbuf_add(&val, v, vl);
		}
		json_object_set_new(out, key, json_string(sbuf_str(&val)));
		sbuf_release(&val);
		free(key);
	}
	free(data);
	return 0;
}

/* ---- services ---------------------------------------------------------------------------------- */

static char *abs_path(const char *dir, const char *p)
{
	if (p[0] == '/')
		return xstrdup(p);
	if (p[0] == '~' && (p[1] == '/' || !p[1])) {
		const char *home = getenv("HOME");
		return xasprintf("%s%s", home ? home : "", p + 1);
	}
	if (!strcmp(p, "."))
		return xstrdup(dir);
	if (berth_str_has_prefix(p, "./"))
		p += 2;
	return xasprintf("%s/%s", dir, p);
}

/*
 * build: a context string, or a mapping of context, dockerfile, args, target, labels, network,
 * no_cache, pull, shm_size.  Canonical: {context (absolute), dockerfile?, args?, target?, labels?,
 * network?, no_cache?, pull?, shm_size?}; args a map (a bare name takes the environment's value,
 * null when unset, as compose-go resolves it).
 */
static int norm_build(struct ld *l, const char *path, json_t *f, json_t **ret)
{
	char sub[1024];
	const char *k, *s;
	json_t *v, *j;
	bool b;
	int64_t n;

	if (json_is_string(f)) {
		char *actx = abs_path(l->dir, json_string_value(f));
		*ret = json_pack("{s:s}", "context", actx);
		free(actx);
		return 0;
	}
	if (!json_is_object(f))
		return fail(l, path, "must be a string or a mapping");
	json_t *out = json_object();
	json_object_foreach (f, k, v) {
		subpath(sub, sizeof(sub), "%s.%s", path, k);
		if (berth_str_has_prefix(k, "x-"))
			continue;
		if (!strcmp(k, "context") || !strcmp(k, "dockerfile") || !strcmp(k, "target") ||
		    !strcmp(k, "network")) {
			if (want_string(l, sub, v, &s) < 0)
				goto bad;
			json_object_set(out, k, v);
		} else if (!strcmp(k, "no_cache") || !strcmp(k, "pull")) {
			if (want_bool(l, sub, v, &b) < 0)
				goto bad;
			json_object_set_new(out, k, json_boolean(b));
		} else if (!strcmp(k, "shm_size")) {
			if (want_size(l, sub, v, &n) < 0)
				goto bad;
			json_object_set_new(out, k, json_integer(n));
		} else if (!strcmp(k, "args") || !strcmp(k, "labels")) {
			if (want_dict(l, sub, v, '=', &j) < 0)
				goto bad;
			const char *dk;
			json_t *dv;
			json_object_foreach (j, dk, dv) {
				if (!json_is_null(dv))
					continue;
				const char *e = !strcmp(k, "args") ? env_get(l->env, dk) : "";
				json_object_set_new(j, dk, e ? json_string(e) : json_null());
			}
			json_object_set_new(out, k, j);
		} else {
			fail(l, sub,
			     "additional property %s is not allowed (berth compose builds with "
			     "context, dockerfile, args, target, labels, network, no_cache, pull "
			     "and shm_size)",
			     k);
			goto bad;
		}
	}
	s = json_string_value(json_object_get(out, "context"));
	char *actx = abs_path(l->dir, s ? s : ".");
	json_object_set_new(out, "context", json_string(actx));
	free(actx);
	*ret = out;
	return 0;
bad:
	json_decref(out);
	return -1;
}

/* A list whose items each go through norm_item (at path sub: "ports[2]") into out. */
static int norm_list(struct ld *l, const char *path, json_t *v, json_t *out,
		     int (*norm_item)(struct ld *l, const char *sub, json_t *e, json_t *out))
{
	char sub[1024];
	size_t i;
	json_t *e;

	if (!json_is_array(v))
		return fail(l, path, "must be a list");
	json_array_foreach (v, i, e) {
		subpath(sub, sizeof(sub), "%s[%zu]", path, i);
		if (norm_item(l, sub, e, out) < 0)
			return -1;
	}
	return 0;
}

/* "[ip:][host[-range]:]container[-range][/proto]" or a number; long form as a map. */
static int port_item(struct ld *l, const char *sub, json_t *e, json_t *out)
{
	if (json_is_object(e)) {
		const char *k;
		json_t *f;
		int64_t target = -1;
		const char *published = "", *host_ip = "", *proto = "tcp";
		json_object_foreach (e, k, f) {
			char fp[1100];
			subpath(fp, sizeof(fp), "%s.%s", sub, k);
			if (!strcmp(k, "target")) {
				if (want_int(l, fp, f, 1, &target) < 0)
					return -1;
			} else if (!strcmp(k, "published")) {
				if (want_string(l, fp, f, &published) < 0)
					return -1;
			} else if (!strcmp(k, "host_ip")) {
				if (want_string(l, fp, f, &host_ip) < 0)
					return -1;
			} else if (!strcmp(k, "protocol")) {
				if (want_string(l, fp, f, &proto) < 0)
					return -1;
			} else if (!strcmp(k, "mode") || !strcmp(k, "name") ||
				   !strcmp(k, "app_protocol")) {
				continue;
			} else {
				return fail(l, fp, "additional property %s is not allowed", k);
			}
		}
		if (target < 0)
			return fail(l, sub, "target is required");
		json_array_append_new(out, json_pack("{s:I, s:s, s:s, s:s}", "target",
						     (json_int_t)target, "published", published,
						     "host_ip", host_ip, "protocol", proto));
		return 0;
	}
	const char *s = json_string_value(e);
	if (!s)
		return fail(l, sub, "must be a string or a number");
	json_t *exposed = json_object(), *bind = json_object();
	char *err = NULL;
	if (port_spec_parse(s, exposed, bind, &err) < 0) {
		fail(l, sub, "%s", err);
		free(err);
		json_decref(exposed);
		json_decref(bind);
		return -1;
	}
	const char *key;
	json_t *ign;
	json_object_foreach (exposed, key, ign) {
		int64_t port = strtoll(key, NULL, 10);
		const char *slash = strchr(key, '/');
		json_t *bl = json_object_get(bind, key);
		size_t bi;
		json_t *b;
		if (!json_array_size(bl)) {
			json_array_append_new(out, json_pack("{s:I, s:s, s:s, s:s}", "target",
							     (json_int_t)port, "published", "",
							     "host_ip", "", "protocol",
							     slash ? slash + 1 : "tcp"));
			continue;
		}
		json_array_foreach (bl, bi, b)
			json_array_append_new(
				out,
				json_pack("{s:I, s:s, s:s, s:s}", "target", (json_int_t)port,
					  "published",
					  json_string_value(json_object_get(b, "HostPort")) ?: "",
					  "host_ip",
					  json_string_value(json_object_get(b, "HostIp")) ?: "",
					  "protocol", slash ? slash + 1 : "tcp"));
	}
	json_decref(exposed);
	json_decref(bind);
	return 0;
}

static int norm_ports(struct ld *l, const char *path, json_t *v, json_t *out)
{
	return norm_list(l, path, v, out, port_item);
}

/* A tmpfs mode as compose writes it: octal with a leading 0 or 0o, else decimal (YAML's int). */
static int want_mode(struct ld *l, const char *path, json_t *v, int64_t *ret)
{
	const char *s = json_string_value(v);
	char *end = NULL;
	long long n;

	if (s && (!strncmp(s, "0o", 2) || !strncmp(s, "0O", 2)))
		s += 2, n = strtoll(s, &end, 8);
	else
		n = s ? strtoll(s, &end, s[0] == '0' ? 8 : 10) : -1;
	if (!s || !*s || *end || n < 0 || n > 07777)
		return fail(l, path, "must be a file mode (0 to 07777)");
	*ret = n;
	return 0;
}

/*
 * A long-syntax volume's options, compose's bind (propagation, create_host_path, selinux),
 * volume (nocopy, subpath) and tmpfs (size, mode) mappings, kept under the same keys in entry
 * for compose-cmd.c, which turns the entry into a HostConfig.Mounts item.
 */
static int volume_options(struct ld *l, const char *sub, const char *key, json_t *v, json_t *entry)
{
	static const char *const known[][5] = {
		{"bind", "propagation", "create_host_path", "selinux", NULL},
		{"volume", "nocopy", "subpath", NULL, NULL},
		{"tmpfs", "size", "mode", NULL, NULL},
	};
	char fp[1200];
	const char *k;
	json_t *f, *opts;
	size_t t = 0;

	subpath(fp, sizeof(fp), "%s.%s", sub, key);
	while (strcmp(known[t][0], key))
		t++;
	if (!json_is_object(v))
		return fail(l, fp, "must be a mapping");
	opts = json_object();
	json_object_set_new(entry, key, opts);
	json_object_foreach (v, k, f) {
		char kp[1300];
		const char *str = NULL;
		bool b = false;
		int64_t n = 0;
		size_t i = 1;

		subpath(kp, sizeof(kp), "%s.%s", fp, k);
		while (known[t][i] && strcmp(known[t][i], k))
			i++;
		if (!known[t][i])
			return fail(l, kp, "additional property %s is not allowed", k);
		if (!strcmp(k, "create_host_path") || !strcmp(k, "nocopy")) {
			if (want_bool(l, kp, f, &b) < 0)
				return -1;
			json_object_set_new(opts, k, json_boolean(b));
		} else if (!strcmp(k, "size") || !strcmp(k, "mode")) {
			if ((!strcmp(k, "size") ? want_size(l, kp, f, &n)
						: want_mode(l, kp, f, &n)) < 0)
				return -1;
			json_object_set_new(opts, k, json_integer(n));
		} else {
			if (want_string(l, kp, f, &str) < 0)
				return -1;
			if (!strcmp(k, "selinux") && strcmp(str, "z") && strcmp(str, "Z"))
				return fail(l, kp, "must be one of z, Z");
			json_object_set_new(opts, k, json_string(str));
		}
	}
	return 0;
}

static int volume_item(struct ld *l, const char *sub, json_t *e, json_t *out)
{
	if (json_is_object(e)) {
		const char *type = NULL, *source = NULL, *target = NULL, *k;
		bool ro = false;
		json_t *f, *opts = json_object();
		json_object_foreach (e, k, f) {
			char fp[1100];
			subpath(fp, sizeof(fp), "%s.%s", sub, k);
			if (!strcmp(k, "type")) {
				if (want_string(l, fp, f, &type) < 0)
					return -1;
			} else if (!strcmp(k, "source")) {
				if (want_string(l, fp, f, &source) < 0)
					return -1;
			} else if (!strcmp(k, "target")) {
				if (want_string(l, fp, f, &target) < 0)
					return -1;
			} else if (!strcmp(k, "read_only")) {
				if (want_bool(l, fp, f, &ro) < 0)
					return -1;
			} else if (!strcmp(k, "bind") || !strcmp(k, "volume") ||
				   !strcmp(k, "tmpfs")) {
				if (volume_options(l, sub, k, f, opts) < 0) {
					json_decref(opts);
					return -1;
				}
			} else if (strcmp(k, "consistency")) { /* macOS's, ignored as by compose */
				json_decref(opts);
				return fail(l, fp, "additional property %s is not allowed", k);
			}
		}
		const char *bad = NULL;
		if (!type ||
		    (strcmp(type, "bind") && strcmp(type, "volume") && strcmp(type, "tmpfs")))
			bad = "type must be one of bind, volume, tmpfs";
		else if (!target || target[0] != '/')
			bad = "target must be an absolute path";
		else if (!strcmp(type, "bind") && !source)
			bad = "a bind mount needs a source";
		else if (json_object_size(opts) > 1 ||
			 (json_object_size(opts) == 1 && !json_object_get(opts, type)))
			bad = "options given for another type of mount";
		if (bad) {
			json_decref(opts);
			return fail(l, sub, "%s", bad);
		}
		char *src = source && !strcmp(type, "bind") ? abs_path(l->dir, source)
							    : xstrdup(source ? source : "");
		/* "long": made as a HostConfig.Mounts item, as compose makes the long syntax (a
		 * missing bind source is then an error unless create_host_path) */
		json_t *entry = json_pack("{s:s, s:s, s:s, s:b, s:b}", "type", type, "source", src,
					  "target", target, "read_only", ro, "long", 1);
		json_object_update(entry, opts);
		json_decref(opts);
		json_array_append_new(out, entry);
		free(src);
		return 0;
	}
	const char *s = json_string_value(e);
	if (!s || !*s)
		return fail(l, sub, "must be a string or a mapping");
	char *copy = xstrdup(s), *parts[3] = {0};
	int n = 0;
	for (char *p = copy, *c; p && n < 3; p = c) {
		c = strchr(p, ':');
		if (c)
			*c++ = '\0';
		parts[n++] = p;
		if (n == 3 && c) {
			free(copy);
			return fail(l, sub, "invalid volume specification \"%s\"", s);
		}
	}
	const char *src = n >= 2 ? parts[0] : "", *dst = n >= 2 ? parts[1] : parts[0];
	const char *mode = n == 3 ? parts[2] : "";
	bool ro = false;
	if (*mode) {
		for (char *m = (char *)mode, *c; m; m = c) {
			c = strchr(m, ',');
			if (c)
				*c++ = '\0';
			if (!strcmp(m, "ro"))
				ro = true;
			else if (strcmp(m, "rw") && strcmp(m, "z") && strcmp(m, "Z") &&
				 strcmp(m, "cached") && strcmp(m, "delegated") &&
				 strcmp(m, "consistent") && strcmp(m, "nocopy"))
				break;
		}
	}
	if (dst[0] != '/') {
		free(copy);
		return fail(l, sub,
			    "invalid volume specification \"%s\": the target must "
			    "be an absolute path",
			    s);
	}
	bool bind = src[0] == '/' || src[0] == '.' || src[0] == '~';
	char *source = bind ? abs_path(l->dir, src) : xstrdup(src);
	json_array_append_new(out,
			      json_pack("{s:s, s:s, s:s, s:b}", "type", bind ? "bind" : "volume",
					"source", source, "target", dst, "read_only", ro));
	free(source);
	free(copy);
	return 0;
}

static int norm_volumes(struct ld *l, const char *path, json_t *v, json_t *out)
{
	return norm_list(l, path, v, out, volume_item);
}

/*
 * A mapping whose keys each go through norm_key into a new object *ret. norm_key reads key k
 * (at path fp) from f into out and returns -1 after fail().
 */
static int norm_mapping(struct ld *l, const char *path, json_t *v,
			int (*norm_key)(struct ld *l, const char *fp, const char *k, json_t *f,
					json_t *out),
			json_t **ret)
{
	const char *k;
	json_t *f;

	if (!json_is_object(v))
		return fail(l, path, "must be a mapping");
	json_t *out = json_object();
	json_object_foreach (v, k, f) {
		char fp[1200];
		subpath(fp, sizeof(fp), "%s.%s", path, k);
		if (norm_key(l, fp, k, f, out) < 0) {
			json_decref(out);
			return -1;
		}
	}
	*ret = out;
	return 0;
}

static int healthcheck_key(struct ld *l, const char *fp, const char *k, json_t *f, json_t *out)
{
	int64_t n;
	bool b;

	if (!strcmp(k, "test")) {
		if (json_is_string(f)) {
			json_object_set_new(out, "test", json_pack("[s, O]", "CMD-SHELL", f));
		} else {
			json_t *list;
			if (want_string_list(l, fp, f, false, &list) < 0)
				return -1;
			const char *first = json_string_value(json_array_get(list, 0));
			if (!first || (strcmp(first, "NONE") && strcmp(first, "CMD") &&
				       strcmp(first, "CMD-SHELL"))) {
				json_decref(list);
				return fail(l, fp, "must begin with NONE, CMD or CMD-SHELL");
			}
			json_object_set_new(out, "test", list);
		}
	} else if (!strcmp(k, "interval") || !strcmp(k, "timeout") || !strcmp(k, "start_period") ||
		   !strcmp(k, "start_interval")) {
		if (want_duration(l, fp, f, &n) < 0)
			return -1;
		json_object_set_new(out, k, json_integer(n));
	} else if (!strcmp(k, "retries")) {
		if (want_int(l, fp, f, 0, &n) < 0)
			return -1;
		json_object_set_new(out, k, json_integer(n));
	} else if (!strcmp(k, "disable")) {
		if (want_bool(l, fp, f, &b) < 0)
			return -1;
		if (b)
			json_object_set_new(out, "test", json_pack("[s]", "NONE"));
	} else {
		return fail(l, fp, "additional property %s is not allowed", k);
	}
	return 0;
}

static int norm_healthcheck(struct ld *l, const char *path, json_t *v, json_t **ret)
{
	return norm_mapping(l, path, v, healthcheck_key, ret);
}

static int deploy_key(struct ld *l, const char *fp, const char *k, json_t *f, json_t *out)
{
	int64_t n;

	if (!strcmp(k, "replicas")) {
		if (want_int(l, fp, f, 0, &n) < 0)
			return -1;
		json_object_set_new(out, k, json_integer(n));
	} else if (!strcmp(k, "resources")) {
		const char *rk;
		json_t *rv, *res = json_object();
		json_object_set_new(out, k, res);
		if (!json_is_object(f))
			return fail(l, fp, "must be a mapping");
		json_object_foreach (f, rk, rv) {
			char rp[1300];
			subpath(rp, sizeof(rp), "%s.%s", fp, rk);
			if (strcmp(rk, "limits") && strcmp(rk, "reservations"))
				return fail(l, rp, "additional property %s is not allowed", rk);
			if (!json_is_object(rv))
				return fail(l, rp, "must be a mapping");
			json_t *lim = json_object();
			json_object_set_new(res, rk, lim);
			const char *lk;
			json_t *lv;
			json_object_foreach (rv, lk, lv) {
				char lp[1400];
				subpath(lp, sizeof(lp), "%s.%s", rp, lk);
				if (!strcmp(lk, "cpus")) {
					char *e = NULL;
					const char *s = json_string_value(lv);
					if (!s || nano_cpus_parse(s, &n, &e) < 0) {
						fail(l, lp, "invalid cpus \"%s\"", s ? s : "");
						free(e);
						return -1;
					}
					json_object_set_new(lim, lk, json_string(s));
				} else if (!strcmp(lk, "memory")) {
					if (want_size(l, lp, lv, &n) < 0)
						return -1;
					json_object_set_new(lim, lk, json_integer(n));
				} else if (!strcmp(lk, "pids")) {
					if (want_int(l, lp, lv, -1, &n) < 0)
						return -1;
					json_object_set_new(lim, lk, json_integer(n));
				} else {
					return fail(l, lp, "additional property %s is not allowed",
						    lk);
				}
			}
		}
	} else if (!strcmp(k, "restart_policy")) {
		const char *cond = json_string_value(json_object_get(f, "condition"));
		if (!json_is_object(f) || (cond && strcmp(cond, "none") &&
					   strcmp(cond, "on-failure") && strcmp(cond, "any")))
			return fail(l, fp, "condition must be none, on-failure or any");
		json_object_set(out, k, f);
	} else if (!strcmp(k, "labels")) {
		json_t *d;
		if (want_dict(l, fp, f, '=', &d) < 0)
			return -1;
		json_object_set_new(out, k, d);
	} else if (!strcmp(k, "mode")) {
		const char *s = json_string_value(f);
		if (!s || strcmp(s, "replicated"))
			return fail(l, fp, "only replicated is supported");
	} else {
		return fail(l, fp, "additional property %s is not allowed", k);
	}
	return 0;
}

static int norm_deploy(struct ld *l, const char *path, json_t *v, json_t **ret)
{
	return norm_mapping(l, path, v, deploy_key, ret);
}

enum kind {
	K_STR,
	K_BOOL,
	K_INT,
	K_DURATION,
	K_SIZE,
	K_STRLIST,     /* a list of strings */
	K_STR_OR_LIST, /* a string or a list of strings: a list */
	K_CMD,	       /* command/entrypoint: a string split as a shell does, or a list */
	K_DICT,	       /* labels, sysctls...: map or "k=v" list */
	K_SPECIAL,     /* handled by its own code below */
};

static const struct key {
	const char *name;
	enum kind kind;
} service_keys[] = {
	{"image", K_STR},
	{"command", K_CMD},
	{"entrypoint", K_CMD},
	{"environment", K_SPECIAL},
	{"env_file", K_SPECIAL},
	{"labels", K_DICT},
	{"ports", K_SPECIAL},
	{"expose", K_STRLIST},
	{"volumes", K_SPECIAL},
	{"tmpfs", K_STR_OR_LIST},
	{"networks", K_SPECIAL},
	{"network_mode", K_STR},
	{"depends_on", K_SPECIAL},
	{"healthcheck", K_SPECIAL},
	{"restart", K_STR},
	{"deploy", K_SPECIAL},
	{"scale", K_INT},
	{"profiles", K_STRLIST},
	{"extends", K_SPECIAL},
	{"user", K_STR},
	{"working_dir", K_STR},
	{"hostname", K_STR},
	{"domainname", K_STR},
	{"container_name", K_STR},
	{"privileged", K_BOOL},
	{"read_only", K_BOOL},
	{"tty", K_BOOL},
	{"stdin_open", K_BOOL},
	{"init", K_BOOL},
	{"stop_signal", K_STR},
	{"stop_grace_period", K_DURATION},
	{"cap_add", K_STRLIST},
	{"cap_drop", K_STRLIST},
	{"dns", K_STR_OR_LIST},
	{"dns_search", K_STR_OR_LIST},
	{"extra_hosts", K_SPECIAL},
	{"mem_limit", K_SIZE},
	{"memswap_limit", K_SIZE},
	{"shm_size", K_SIZE},
	{"cpus", K_STR},
	{"pids_limit", K_INT},
	{"sysctls", K_DICT},
	{"ulimits", K_SPECIAL},
	{"logging", K_SPECIAL},
	{"pid", K_STR},
	{"ipc", K_STR},
	{"security_opt", K_STRLIST},
	{"devices", K_STRLIST},
	{"group_add", K_STRLIST},
	{"pull_policy", K_STR},
	{"platform", K_STR},
	{"build", K_SPECIAL},
	{"secrets", K_SPECIAL},
	{"configs", K_SPECIAL},
	{"links", K_STRLIST},
};

static int norm_service_refs(struct ld *l, const char *fp, json_t *f, const char *what,
			     json_t **ret)
{
	/* secrets/configs: ["name"] or [{source, target}] -> [{source, target}] */
	json_t *out = json_array();
	size_t i;
	json_t *e;

	if (!json_is_array(f)) {
		json_decref(out);
		return fail(l, fp, "must be a list");
	}
	json_array_foreach (f, i, e) {
		char ep[1200];
		const char *src = json_string_value(e), *tgt = NULL;
		subpath(ep, sizeof(ep), "%s[%zu]", fp, i);
		if (json_is_object(e)) {
			src = json_string_value(json_object_get(e, "source"));
			tgt = json_string_value(json_object_get(e, "target"));
		}
		if (!src) {
			json_decref(out);
			return fail(l, ep, "must name a %s", what);
		}
		char *t = tgt ? (tgt[0] == '/' ? xstrdup(tgt)
					       : xasprintf("%s%s",
							   !strcmp(what, "secret") ? "/run/secrets/"
										   : "/",
							   tgt))
			      : xasprintf("%s%s", !strcmp(what, "secret") ? "/run/secrets/" : "/",
					  src);
		json_array_append_new(out, json_pack("{s:s, s:s}", "source", src, "target", t));
		free(t);
	}
	*ret = out;
	return 0;
}

/* A list of names (of what: "network", "service") as the keys of map, each with a copy of value. */
static int names_as_keys(struct ld *l, const char *path, json_t *list, const char *what,
			 json_t *value, json_t *map)
{
	size_t i;
	json_t *e;

	json_array_foreach (list, i, e) {
		if (!json_is_string(e))
			return fail(l, path, "must be a list of %s names", what);
		json_object_set_new(map, json_string_value(e), json_deep_copy(value));
	}
	return 0;
}

static int norm_service(struct ld *l, const char *name, json_t *in, json_t **ret)
{
	char path[300];
	json_t *svc = json_object();
	json_t *env = NULL;
	const char *k;
	json_t *f;

	subpath(path, sizeof(path), "services.%s", name);
	if (json_is_null(in)) {
		*ret = svc;
		return 0;
	}
	if (!json_is_object(in)) {
		json_decref(svc);
		return fail(l, path, "must be a mapping");
	}
	json_object_foreach (in, k, f) {
		char fp[1100];
		const struct key *key = NULL;
		const char *s;
		int64_t n;
		bool b;
		json_t *j = NULL;

		subpath(fp, sizeof(fp), "%s.%s", path, k);
		if (berth_str_has_prefix(k, "x-"))
			continue;
		for (size_t i = 0; i < ARRAY_SIZE(service_keys); i++)
			if (!strcmp(service_keys[i].name, k))
				key = &service_keys[i];
		if (!key) {
			fail(l, fp, "additional property %s is not allowed", k);
			goto bad;
		}
		switch (key->kind) {
		case K_STR:
			if (want_string(l, fp, f, &s) < 0)
				goto bad;
			json_object_set(svc, k, f);
			break;
		case K_BOOL:
			if (want_bool(l, fp, f, &b) < 0)
				goto bad;
			json_object_set_new(svc, k, json_boolean(b));
			break;
		case K_INT:
			if (want_int(l, fp, f, -1, &n) < 0)
				goto bad;
			json_object_set_new(svc, k, json_integer(n));
			break;
		case K_DURATION:
			if (want_duration(l, fp, f, &n) < 0)
				goto bad;
			json_object_set_new(svc, k, json_integer(n));
			break;
		case K_SIZE:
			if (want_size(l, fp, f, &n) < 0)
				goto bad;
			json_object_set_new(svc, k, json_integer(n));
			break;
		case K_STRLIST:
		case K_STR_OR_LIST:
			if (want_string_list(l, fp, f, key->kind == K_STR_OR_LIST, &j) < 0)
				goto bad;
			json_object_set_new(svc, k, j);
			break;
		case K_CMD:
			if (json_is_null(f)) {
				json_object_set_new(svc, k, json_null());
			} else if (json_is_string(f)) {
				char *e = NULL;
				j = compose_shell_split(json_string_value(f), &e);
				if (!j) {
					fail(l, fp, "%s", e);
					free(e);
					goto bad;
				}
				json_object_set_new(svc, k, j);
			} else {
				if (want_string_list(l, fp, f, false, &j) < 0)
					goto bad;
				json_object_set_new(svc, k, j);
			}
			break;
		case K_DICT:
			if (want_dict(l, fp, f, '=', &j) < 0)
				goto bad;
			/* a label given without a value is an empty string */
			const char *dk;
			json_t *dv;
			json_object_foreach (j, dk, dv)
				if (json_is_null(dv))
					json_object_set_new(j, dk, json_string(""));
			json_object_set_new(svc, k, j);
			break;
		case K_SPECIAL:
			break;
		}
		if (key->kind != K_SPECIAL)
			continue;
		if (!strcmp(k, "environment")) {
			if (want_dict(l, fp, f, '=', &j) < 0)
				goto bad;
			if (!env)
				env = json_object();
			json_object_update(env, j);
			json_decref(j);
		} else if (!strcmp(k, "env_file")) {
			/* read in the order given; "environment" wins over them */
			json_t *files = json_is_array(f) ? json_incref(f) : json_pack("[O]", f);
			json_t *fe, *from_files = json_object();
			size_t i;
			json_array_foreach (files, i, fe) {
				const char *p = json_string_value(fe);
				bool required = true;
				if (json_is_object(fe)) {
					p = json_string_value(json_object_get(fe, "path"));
					json_t *rq = json_object_get(fe, "required");
					if (rq && want_bool(l, fp, rq, &required) < 0)
						break;
				}
				if (!p) {
					fail(l, fp, "must be a path or a list of paths");
					break;
				}
				char *ap = abs_path(l->dir, p), *e = NULL;
				if (access(ap, F_OK) < 0 && !required) {
					free(ap);
					continue;
				}
				if (access(ap, F_OK) < 0) {
					fail(l, fp, "env file %s not found", ap);
					free(ap);
					break;
				}
				if (compose_dotenv_parse(ap, l->env, from_files, &e) < 0) {
					fail(l, fp, "%s", e);
					free(e);
					free(ap);
					break;
				}
				free(ap);
			}
			json_decref(files);
			if (l->err) {
				json_decref(from_files);
				goto bad;
			}
			if (env)
				json_object_update_missing(env, from_files),
					json_decref(from_files);
			else
				env = from_files;
		} else if (!strcmp(k, "ports")) {
			j = json_array();
			json_object_set_new(svc, k, j);
			if (norm_ports(l, fp, f, j) < 0)
				goto bad;
		} else if (!strcmp(k, "volumes")) {
			j = json_array();
			json_object_set_new(svc, k, j);
			if (norm_volumes(l, fp, f, j) < 0)
				goto bad;
		} else if (!strcmp(k, "networks")) {
			j = json_object();
			json_object_set_new(svc, k, j);
			if (json_is_array(f)) {
				_cleanup_json_ json_t *none = json_object();
				if (names_as_keys(l, fp, f, "network", none, j) < 0)
					goto bad;
			} else if (json_is_object(f)) {
				const char *nk;
				json_t *nv;
				json_object_foreach (f, nk, nv) {
					char np[1200];
					subpath(np, sizeof(np), "%s.%s", fp, nk);
					json_t *ep = json_object();
					json_object_set_new(j, nk, ep);
					if (json_is_null(nv))
						continue;
					if (!json_is_object(nv)) {
						fail(l, np, "must be a mapping or null");
						goto bad;
					}
					const char *ek;
					json_t *ev;
					json_object_foreach (nv, ek, ev) {
						char xp[1300];
						subpath(xp, sizeof(xp), "%s.%s", np, ek);
						json_t *al;
						if (!strcmp(ek, "aliases")) {
							if (want_string_list(l, xp, ev, false,
									     &al) < 0)
								goto bad;
							json_object_set_new(ep, ek, al);
						} else if (!strcmp(ek, "ipv4_address") ||
							   !strcmp(ek, "ipv6_address")) {
							if (want_string(l, xp, ev, &s) < 0)
								goto bad;
							json_object_set(ep, ek, ev);
						} else if (!strcmp(ek, "priority")) {
							if (want_int(l, xp, ev, INT64_MIN + 1, &n) <
							    0)
								goto bad;
							json_object_set_new(ep, ek,
									    json_integer(n));
						} else {
							fail(l, xp,
							     "additional property %s is not "
							     "allowed",
							     ek);
							goto bad;
						}
					}
				}
			} else {
				fail(l, fp, "must be a list or a mapping");
				goto bad;
			}
		} else if (!strcmp(k, "depends_on")) {
			j = json_object();
			json_object_set_new(svc, k, j);
			if (json_is_array(f)) {
				_cleanup_json_ json_t *started =
					json_pack("{s:s, s:b, s:b}", "condition", "service_started",
						  "restart", false, "required", true);
				if (names_as_keys(l, fp, f, "service", started, j) < 0)
					goto bad;
			} else if (json_is_object(f)) {
				const char *dk;
				json_t *dv;
				json_object_foreach (f, dk, dv) {
					char dp[1200];
					subpath(dp, sizeof(dp), "%s.%s", fp, dk);
					const char *cond = "service_started";
					bool restart = false, required = true;
					const char *ck;
					json_t *cv;
					if (!json_is_object(dv) && !json_is_null(dv)) {
						fail(l, dp, "must be a mapping");
						goto bad;
					}
					json_object_foreach (dv, ck, cv) {
						char cp[1300];
						subpath(cp, sizeof(cp), "%s.%s", dp, ck);
						if (!strcmp(ck, "condition")) {
							if (want_string(l, cp, cv, &cond) < 0)
								goto bad;
							if (strcmp(cond, "service_started") &&
							    strcmp(cond, "service_healthy") &&
							    strcmp(cond, "service_completed_"
									 "successfully")) {
								fail(l, cp,
								     "must be one of "
								     "service_started, "
								     "service_healthy, "
								     "service_completed_"
								     "successfully");
								goto bad;
							}
						} else if (!strcmp(ck, "restart")) {
							if (want_bool(l, cp, cv, &restart) < 0)
								goto bad;
						} else if (!strcmp(ck, "required")) {
							if (want_bool(l, cp, cv, &required) < 0)
								goto bad;
						} else {
							fail(l, cp,
							     "additional property %s is not "
							     "allowed",
							     ck);
							goto bad;
						}
					}
					json_object_set_new(j, dk,
							    json_pack("{s:s, s:b, s:b}",
								      "condition", cond, "restart",
								      restart, "required",
								      required));
				}
			} else {
				fail(l, fp, "must be a list or a mapping");
				goto bad;
			}
		} else if (!strcmp(k, "healthcheck")) {
			if (norm_healthcheck(l, fp, f, &j) < 0)
				goto bad;
			json_object_set_new(svc, k, j);
		} else if (!strcmp(k, "deploy")) {
			if (norm_deploy(l, fp, f, &j) < 0)
				goto bad;
			json_object_set_new(svc, k, j);
		} else if (!strcmp(k, "extends")) {
			const char *es = json_string_value(f);
			if (es) {
				json_object_set_new(svc, k, json_pack("{s:s}", "service", es));
			} else if (json_is_object(f) &&
				   json_is_string(json_object_get(f, "service"))) {
				const char *file = json_string_value(json_object_get(f, "file"));
				char *af = file ? abs_path(l->dir, file) : NULL;
				json_object_set_new(svc, k,
						    json_pack("{s:O, s:s?}", "service",
							      json_object_get(f, "service"), "file",
							      af));
				free(af);
			} else {
				fail(l, fp, "must be a service name or {service, file}");
				goto bad;
			}
		} else if (!strcmp(k, "extra_hosts")) {
			if (json_is_object(f)) {
				const char *hk;
				json_t *hv;
				j = json_array();
				json_object_foreach (f, hk, hv)
					json_array_append_new(
						j, json_sprintf("%s:%s", hk,
								json_string_value(hv) ?: ""));
			} else if (want_string_list(l, fp, f, false, &j) < 0) {
				goto bad;
			}
			json_object_set_new(svc, k, j);
		} else if (!strcmp(k, "ulimits")) {
			const char *uk;
			json_t *uv;
			if (!json_is_object(f)) {
				fail(l, fp, "must be a mapping");
				goto bad;
			}
			j = json_object();
			json_object_set_new(svc, k, j);
			json_object_foreach (f, uk, uv) {
				char up[1200];
				int64_t soft, hard;
				subpath(up, sizeof(up), "%s.%s", fp, uk);
				if (json_is_object(uv)) {
					if (want_int(l, up, json_object_get(uv, "soft"), -1,
						     &soft) < 0 ||
					    want_int(l, up, json_object_get(uv, "hard"), -1,
						     &hard) < 0)
						goto bad;
				} else if (want_int(l, up, uv, -1, &soft) < 0) {
					goto bad;
				} else {
					hard = soft;
				}
				json_object_set_new(j, uk,
						    json_pack("{s:I, s:I}", "soft",
							      (json_int_t)soft, "hard",
							      (json_int_t)hard));
			}
		} else if (!strcmp(k, "logging")) {
			const char *drv = json_string_value(json_object_get(f, "driver"));
			json_t *opts = json_object_get(f, "options");
			if (!json_is_object(f) ||
			    (opts && !json_is_object(opts) && !json_is_null(opts))) {
				fail(l, fp, "must be a mapping of driver and options");
				goto bad;
			}
			json_object_set_new(
				svc, k, json_pack("{s:s?, s:O?}", "driver", drv, "options", opts));
		} else if (!strcmp(k, "build")) {
			if (norm_build(l, fp, f, &j) < 0)
				goto bad;
			json_object_set_new(svc, k, j);
		} else if (!strcmp(k, "secrets") || !strcmp(k, "configs")) {
			if (norm_service_refs(l, fp, f, !strcmp(k, "secrets") ? "secret" : "config",
					      &j) < 0)
				goto bad;
			json_object_set_new(svc, k, j);
		}
	}
	if (env) {
		/* a bare name takes its value from the environment, or is left out */
		const char *ek;
		json_t *ev;
		void *tmp;
		json_object_foreach_safe(env, tmp, ek, ev)
		{
			if (!json_is_null(ev))
				continue;
			const char *v = env_get(l->env, ek);
			if (v)
				json_object_set_new(env, ek, json_string(v));
			else
				json_object_del(env, ek);
		}
		json_object_set_new(svc, "environment", env);
	}
	*ret = svc;
	return 0;
bad:
	json_decref(env);
	json_decref(svc);
	return -1;
}

static int norm_top(struct ld *l, const char *section, json_t *in, json_t **ret)
{
	json_t *out = json_object();
	const char *k;
	json_t *f;

	if (json_is_null(in) || !in) {
		*ret = out;
		return 0;
	}
	if (!json_is_object(in)) {
		json_decref(out);
		return fail(l, section, "must be a mapping");
	}
	json_object_foreach (in, k, f) {
		char fp[1100];
		subpath(fp, sizeof(fp), "%s.%s", section, k);
		json_t *o = json_object();
		json_object_set_new(out, k, o);
		if (json_is_null(f))
			continue;
		if (!json_is_object(f)) {
			json_decref(out);
			return fail(l, fp, "must be a mapping or null");
		}
		const char *ek;
		json_t *ev;
		json_object_foreach (f, ek, ev) {
			char ep[1200];
			subpath(ep, sizeof(ep), "%s.%s", fp, ek);
			const char *s = NULL;
			bool b;
			json_t *d;
			if (!strcmp(ek, "name") || !strcmp(ek, "driver")) {
				if (want_string(l, ep, ev, &s) < 0)
					goto bad;
				json_object_set(o, ek, ev);
			} else if (!strcmp(ek, "external") || !strcmp(ek, "internal") ||
				   !strcmp(ek, "attachable") || !strcmp(ek, "enable_ipv6")) {
				if (json_is_object(ev)) { /* the old external: {name: x} */
					json_object_set_new(o, ek, json_true());
					json_object_set(o, "name", json_object_get(ev, "name"));
					continue;
				}
				if (want_bool(l, ep, ev, &b) < 0)
					goto bad;
				json_object_set_new(o, ek, json_boolean(b));
			} else if (!strcmp(ek, "labels") || !strcmp(ek, "driver_opts")) {
				if (want_dict(l, ep, ev, '=', &d) < 0)
					goto bad;
				json_object_set_new(o, ek, d);
			} else if (!strcmp(ek, "ipam") && !strcmp(section, "networks")) {
				json_object_set(o, ek, ev);
			} else if ((!strcmp(ek, "file") || !strcmp(ek, "environment")) &&
				   (!strcmp(section, "secrets") || !strcmp(section, "configs"))) {
				if (want_string(l, ep, ev, &s) < 0)
					goto bad;
				if (!strcmp(ek, "file")) {
					char *ap = abs_path(l->dir, s);
					json_object_set_new(o, ek, json_string(ap));
					free(ap);
				} else {
					json_object_set(o, ek, ev);
				}
			} else if (berth_str_has_prefix(ek, "x-")) {
				continue;
			} else {
				fail(l, ep, "additional property %s is not allowed", ek);
				goto bad;
			}
		}
	}
	*ret = out;
	return 0;
bad:
	json_decref(out);
	return -1;
}

/* One file into its canonical part. */
static int load_file(struct ld *l, const char *path, json_t **ret)
{
	json_t *raw = NULL, *out = json_object();
	const char *k;
	json_t *f;
	char *copy = xstrdup(path);

	l->file = path;
	l->dir = dirname(copy);
	if (load_yaml(l, path, &raw) < 0)
		goto bad;
	json_object_foreach (raw, k, f) {
		if (!strcmp(k, "services")) {
			json_t *svcs = json_object();
			const char *sk;
			json_t *sv;
			json_object_set_new(out, k, svcs);
			if (!json_is_object(f) && !json_is_null(f)) {
				fail(l, k, "must be a mapping");
				goto bad;
			}
			json_object_foreach (f, sk, sv) {
				json_t *s;
				if (norm_service(l, sk, sv, &s) < 0)
					goto bad;
				json_object_set_new(svcs, sk, s);
			}
		} else if (!strcmp(k, "networks") || !strcmp(k, "volumes") ||
			   !strcmp(k, "secrets") || !strcmp(k, "configs")) {
			json_t *o;
			if (norm_top(l, k, f, &o) < 0)
				goto bad;
			json_object_set_new(out, k, o);
		} else if (!strcmp(k, "name")) {
			const char *s;
			if (want_string(l, k, f, &s) < 0)
				goto bad;
			json_object_set(out, k, f);
		} else if (!strcmp(k, "version") || berth_str_has_prefix(k, "x-")) {
			continue; /* obsolete / extensions */
		} else {
			fail(l, k, "additional property %s is not allowed", k);
			goto bad;
		}
	}
	json_decref(raw);
	free(copy);
	l->dir = NULL;
	*ret = out;
	return 0;
bad:
	json_decref(raw);
	json_decref(out);
	free(copy);
	l->dir = NULL;
	return -1;
}

/* ---- merge -------------------------------------------------------------------------------------- */

static bool array_has(const json_t *a, const json_t *v)
{
	size_t i;
	json_t *e;

	json_array_foreach (a, i, e)
		if (json_equal(e, v))
			return true;
	return false;
}

void compose_merge_service(json_t *base, const json_t *over)
{
	const char *k;
	json_t *v;

	json_object_foreach ((json_t *)over, k, v) {
		json_t *b = json_object_get(base, k);
		if (!b || json_is_null(v) || !strcmp(k, "command") || !strcmp(k, "entrypoint") ||
		    !strcmp(k, "extends")) {
			json_object_set(base, k, v);
		} else if (!strcmp(k, "volumes") && json_is_array(b)) {
			/* by target: the override's mount replaces the base's at the same place */
			size_t i;
			json_t *e;
			json_array_foreach (v, i, e) {
				const char *t = json_string_value(json_object_get(e, "target"));
				size_t j;
				json_t *be;
				bool done = false;
				json_array_foreach (b, j, be)
					if (berth_streq(json_string_value(
								json_object_get(be, "target")),
							t)) {
						json_array_set(b, j, e);
						done = true;
						break;
					}
				if (!done)
					json_array_append(b, e);
			}
		} else if (json_is_array(b) && json_is_array(v)) {
			size_t i;
			json_t *e;
			json_array_foreach (v, i, e)
				if (!array_has(b, e))
					json_array_append(b, e);
		} else if (json_is_object(b) && json_is_object(v) && strcmp(k, "healthcheck") &&
			   strcmp(k, "build")) {
			json_t *copy = json_deep_copy(b);
			compose_merge_service(copy, v);
			json_object_set_new(base, k, copy);
		} else if (json_is_object(b) && json_is_object(v)) {
			json_t *copy = json_deep_copy(b);
			json_object_update(copy, v);
			json_object_set_new(base, k, copy);
		} else {
			json_object_set(base, k, v);
		}
	}
}

static void merge_file(json_t *model, json_t *file)
{
	const char *sec;
	json_t *v;

	json_object_foreach (file, sec, v) {
		json_t *m = json_object_get(model, sec);
		if (!json_is_object(v) || !m) {
			json_object_set(model, sec, v);
			continue;
		}
		const char *k;
		json_t *e;
		json_object_foreach (v, k, e) {
			json_t *b = json_object_get(m, k);
			if (b && !strcmp(sec, "services"))
				compose_merge_service(b, e);
			else if (b)
				json_object_update(b, e);
			else
				json_object_set(m, k, e);
		}
	}
}

/* ---- extends, references, order --------------------------------------------------------------- */

static int resolve_extends(struct ld *l, json_t *services, const char *name, int depth)
{
	char path[300];
	json_t *svc = json_object_get(services, name);
	json_t *ext = json_object_get(svc, "extends");

	subpath(path, sizeof(path), "services.%s.extends", name);
	if (!ext)
		return 0;
	if (depth > 16)
		return fail(l, path, "extends forms a cycle");
	const char *base_name = json_string_value(json_object_get(ext, "service"));
	const char *file = json_string_value(json_object_get(ext, "file"));
	json_t *base = NULL;
	if (file) {
		json_t *other = NULL;
		struct ld sub = {.env = l->env, .unset = l->unset, .locs = l->locs};
		if (load_file(&sub, file, &other) < 0) {
			l->err = sub.err;
			l->code = sub.code;
			return -1;
		}
		json_t *os = json_object_get(other, "services");
		if (json_object_get(json_object_get(os, base_name), "extends") &&
		    resolve_extends(&sub, os, base_name, depth + 1) < 0) {
			l->err = sub.err;
			l->code = sub.code;
			json_decref(other);
			return -1;
		}
		base = json_deep_copy(json_object_get(os, base_name));
		json_decref(other);
	} else {
		if (resolve_extends(l, services, base_name, depth + 1) < 0)
			return -1;
		base = json_deep_copy(json_object_get(services, base_name));
	}
	if (!base)
		return fail(l, path, "cannot extend service \"%s\": no such service", base_name);
	json_object_del(base, "depends_on"); /* compose: not inherited */
	json_object_del(svc, "extends");
	compose_merge_service(base, svc);
	json_object_set_new(services, name, base);
	return 0;
}

char **compose_order(const json_t *model)
{
	const json_t *services = json_object_get(model, "services");
	size_t n = json_object_size(services), done_n = 0;
	char **out = NULL;
	json_t *done = json_object();

	while (done_n < n) {
		size_t before = done_n;
		const char *k;
		json_t *s;
		json_object_foreach ((json_t *)services, k, s) {
			if (json_object_get(done, k))
				continue;
			const char *d;
			json_t *dv;
			bool ready = true;
			json_object_foreach (json_object_get(s, "depends_on"), d, dv)
				if (json_object_get(services, d) && !json_object_get(done, d))
					ready = false;
			if (!ready)
				continue;
			berth_strv_push(&out, k);
			json_object_set_new(done, k, json_true());
			done_n++;
		}
		if (done_n == before)
			break; /* a cycle: checked at load */
	}
	json_decref(done);
	if (!out)
		out = xcalloc(1, sizeof(char *));
	return out;
}

static int check_cycles(struct ld *l, const json_t *services)
{
	json_t *m = json_pack("{s:O}", "services", services);
	char **order = compose_order(m);
	size_t n = berth_strv_length(order);
	int r = 0;

	if (n < json_object_size(services)) {
		const char *k;
		json_t *s;
		json_object_foreach ((json_t *)services, k, s)
			if (!berth_strv_contains(order, k)) {
				char path[300];
				subpath(path, sizeof(path), "services.%s.depends_on", k);
				r = fail(l, path, "dependency cycle detected involving service %s",
					 k);
				break;
			}
	}
	berth_strv_free(order);
	json_decref(m);
	return r;
}

static int check_refs(struct ld *l, json_t *model)
{
	json_t *services = json_object_get(model, "services");
	json_t *networks = json_object_get(model, "networks");
	json_t *volumes = json_object_get(model, "volumes");
	const char *k;
	json_t *s;

	json_object_foreach (services, k, s) {
		char path[600];
		const char *r;
		json_t *v;
		size_t i;

		if (!json_object_get(s, "image") && !json_object_get(s, "build")) {
			subpath(path, sizeof(path), "services.%s", k);
			return fail(l, path, "has neither an image nor a build context specified");
		}
		json_object_foreach (json_object_get(s, "depends_on"), r, v) {
			subpath(path, sizeof(path), "services.%s.depends_on.%s", k, r);
			if (!json_object_get(services, r) &&
			    json_is_true(json_object_get(v, "required")))
				return fail(l, path, "depends on undefined service \"%s\"", r);
		}
		json_object_foreach (json_object_get(s, "networks"), r, v) {
			subpath(path, sizeof(path), "services.%s.networks.%s", k, r);
			if (strcmp(r, "default") && !json_object_get(networks, r))
				return fail(l, path, "refers to undefined network %s", r);
		}
		json_array_foreach (json_object_get(s, "volumes"), i, v) {
			const char *src = json_string_value(json_object_get(v, "source"));
			subpath(path, sizeof(path), "services.%s.volumes[%zu]", k, i);
			if (berth_streq(json_string_value(json_object_get(v, "type")), "volume") &&
			    src && *src && !json_object_get(volumes, src))
				return fail(l, path, "refers to undefined volume %s", src);
		}
		const char *nm = json_string_value(json_object_get(s, "network_mode"));
		if (nm && json_object_get(s, "networks")) {
			subpath(path, sizeof(path), "services.%s.network_mode", k);
			return fail(l, path, "network_mode and networks cannot be combined");
		}
		if (nm && berth_str_has_prefix(nm, "service:") &&
		    !json_object_get(services, nm + 8)) {
			subpath(path, sizeof(path), "services.%s.network_mode", k);
			return fail(l, path, "refers to undefined service %s", nm + 8);
		}
		for (int w = 0; w < 2; w++) {
			const char *sec = w ? "configs" : "secrets";
			json_array_foreach (json_object_get(s, sec), i, v) {
				const char *src = json_string_value(json_object_get(v, "source"));
				subpath(path, sizeof(path), "services.%s.%s[%zu]", k, sec, i);
				json_t *def = json_object_get(json_object_get(model, sec), src);
				if (!def)
					return fail(l, path, "refers to undefined %s %s",
						    w ? "config" : "secret", src);
				if (!json_object_get(def, "file"))
					return fail(l, path,
						    "%s %s has no file (only files are "
						    "supported)",
						    w ? "config" : "secret", src);
			}
		}
		/* a service on no network of its own is on the project's default network */
		if (!nm && !json_object_get(s, "networks"))
			json_object_set_new(s, "networks", json_pack("{s:{}}", "default"));
	}
	return check_cycles(l, services);
}

/* ---- the project -------------------------------------------------------------------------------- */

static char *normalize_name(const char *s)
{
	struct sbuf b = SBUF_INIT;

	for (; *s; s++) {
		char c = (char)tolower((unsigned char)*s);
		if (isalnum((unsigned char)c) || ((c == '_' || c == '-') && b.len))
			sbuf_addc(&b, c);
	}
	return sbuf_detach(&b);
}

static const char *const default_files[] = {"compose.yaml", "compose.yml", "docker-compose.yml",
					    "docker-compose.yaml"};

void compose_project_release(struct compose_project *p)
{
	free(p->name);
	free(p->workdir);
	free(p->config_files);
	json_decref(p->model);
	json_decref(p->env);
	json_decref(p->locs);
	memset(p, 0, sizeof(*p));
}

static bool profiles_active(const json_t *svc, const struct compose_opts *o)
{
	json_t *pr = json_object_get(svc, "profiles");
	size_t i;
	json_t *e;

	if (!json_array_size(pr))
		return true;
	json_array_foreach (pr, i, e)
		for (size_t k = 0; k < o->n_profiles; k++)
			if (berth_streq(json_string_value(e), o->profiles[k]) ||
			    !strcmp(o->profiles[k], "*"))
				return true;
	return false;
}

int compose_load(const struct compose_opts *o, struct compose_project *p, char **err)
{
	struct ld l = {0};
	char cwd[PATH_MAX];
	char **files = NULL;
	json_t *model = json_pack("{s:{}, s:{}, s:{}, s:{}, s:{}}", "services", "networks",
				  "volumes", "secrets", "configs");
	int code = 0;

	memset(p, 0, sizeof(*p));
	*err = NULL;
	if (compose_dl_load(err) < 0) {
		json_decref(model);
		return 1;
	}
	if (!getcwd(cwd, sizeof(cwd))) {
		*err = xasprintf("getwd: %s", strerror(errno));
		json_decref(model);
		return 1;
	}
	/* the files: -f, COMPOSE_FILE, or the first default name found */
	const char *cf = getenv("COMPOSE_FILE");
	for (size_t i = 0; i < o->n_files; i++) {
		char *a = abs_path(cwd, o->files[i]);
		berth_strv_push(&files, a);
		free(a);
	}
	if (!files && cf && *cf) {
		char *copy = xstrdup(cf);
		for (char *s = copy, *c; s; s = c) {
			c = strchr(s, ':');
			if (c)
				*c++ = '\0';
			if (*s) {
				char *a = abs_path(cwd, s);
				berth_strv_push(&files, a);
				free(a);
			}
		}
		free(copy);
	}
	if (!files) {
		const char *dir = o->project_directory ? o->project_directory : cwd;
		for (size_t i = 0; i < ARRAY_SIZE(default_files) && !files; i++) {
			char *a = xasprintf("%s/%s", dir, default_files[i]);
			if (access(a, F_OK) == 0)
				berth_strv_push(&files, a);
			free(a);
		}
		if (!files) {
			*err = xstrdup("no configuration file provided: not found");
			json_decref(model);
			return COMPOSE_EXIT_FILE_NOT_FOUND;
		}
	}
	/* the project directory: --project-directory, else the first file's */
	if (o->project_directory) {
		p->workdir = abs_path(cwd, o->project_directory);
	} else {
		char *copy = xstrdup(files[0]);
		p->workdir = xstrdup(dirname(copy));
		free(copy);
	}
	/* the environment: the process's over .env's */
	l.env = json_object();
	l.unset = json_object();
	l.locs = json_object();
	char *dotenv = o->env_file ? abs_path(cwd, o->env_file) : xasprintf("%s/.env", p->workdir);
	json_t *proc_env = json_object();
	for (char **e = o->environ ? o->environ : environ; e && *e; e++) {
		const char *eq = strchr(*e, '=');
		if (!eq)
			continue;
		char *k = xstrndup(*e, (size_t)(eq - *e));
		json_object_set_new(proc_env, k, json_string(eq + 1));
		free(k);
	}
	if (access(dotenv, F_OK) == 0 || o->env_file) {
		if (compose_dotenv_parse(dotenv, proc_env, l.env, err) < 0) {
			code = 1;
			goto out;
		}
	}
	json_object_update(l.env, proc_env);

	for (size_t i = 0; files[i]; i++) {
		json_t *part;
		if (load_file(&l, files[i], &part) < 0) {
			code = l.code ? l.code : COMPOSE_EXIT_PARSE;
			*err = l.err;
			goto out;
		}
		merge_file(model, part);
		json_decref(part);
	}
	l.file = NULL;
	json_t *services = json_object_get(model, "services");
	const char *k;
	json_t *s;
	json_object_foreach (services, k, s)
		if (resolve_extends(&l, services, k, 0) < 0) {
			code = l.code;
			*err = l.err;
			goto out;
		}
	/* profiles: services not enabled are left out */
	void *tmp;
	json_object_foreach_safe(services, tmp, k, s)
	{
		if (!profiles_active(s, o))
			json_object_del(services, k);
	}
	if (check_refs(&l, model) < 0) {
		code = l.code;
		*err = l.err;
		goto out;
	}
	/* the name: -p, COMPOSE_PROJECT_NAME, the files' name:, the directory */
	const char *name = o->project_name;
	if (!name || !*name)
		name = env_get(l.env, "COMPOSE_PROJECT_NAME");
	if (!name || !*name)
		name = json_string_value(json_object_get(model, "name"));
	char *copy = xstrdup(p->workdir);
	p->name = normalize_name(name && *name ? name : basename(copy));
	free(copy);
	if (!*p->name) {
		*err = xstrdup("project name must not be empty");
		code = 1;
		goto out;
	}
	if (o->project_name && strcmp(o->project_name, p->name)) {
		*err = xasprintf(
			"invalid project name \"%s\": must consist only of lowercase "
			"alphanumeric characters, hyphens, and underscores as well as start "
			"with a letter or number",
			o->project_name);
		code = 1;
		goto out;
	}
	json_object_set_new(model, "name", json_string(p->name));
	struct sbuf b = SBUF_INIT;
	for (size_t i = 0; files[i]; i++)
		sbuf_printf(&b, "%s%s", i ? "," : "", files[i]);
	p->config_files = sbuf_detach(&b);
	/* the warning compose prints for variables found unset */
	json_t *uv;
	json_object_foreach (l.unset, k, uv)
		err_printf("WARN[0000] The \"%s\" variable is not set. Defaulting to a blank "
			   "string. \n",
			   k);
	p->model = model;
	model = NULL;
	p->env = l.env;
	l.env = NULL;
	p->locs = l.locs;
	l.locs = NULL;
out:
	free(dotenv);
	json_decref(proc_env);
	json_decref(l.env);
	json_decref(l.unset);
	json_decref(l.locs);
	json_decref(model);
	berth_strv_free(files);
	if (code)
		compose_project_release(p);
	return code;
}

/* ---- hash, YAML out ----------------------------------------------------------------------------- */

char *compose_config_hash(const json_t *service)
{
	json_t *copy = json_deep_copy(service);
	struct sha256_ctx ctx;
	char *e = NULL;

	if (compose_dl_load(&e) < 0) {
		free(e);
		json_decref(copy);
		return NULL;
	}
	uint8_t digest[SHA256_DIGEST_SIZE];
	char *hex = xmalloc(SHA256_DIGEST_SIZE * 2 + 1);

	json_object_del(json_object_get(copy, "deploy"), "replicas");
	json_object_del(copy, "scale");
	json_object_del(copy, "profiles");
	char *text = json_dumps(copy, JSON_COMPACT | JSON_SORT_KEYS);
	ne.nettle_sha256_init(&ctx);
	ne.nettle_sha256_update(&ctx, strlen(text), (const uint8_t *)text);
	ne.nettle_sha256_digest(&ctx, sizeof(digest), digest);
	berth_hex_encode(hex, digest, sizeof(digest));
	free(text);
	json_decref(copy);
	return hex;
}

/* Can s be written as a plain YAML scalar and read back as this same string? */
static bool plain_ok(const char *s)
{
	static const char *const special[] = {"true", "false", "True", "False", "TRUE", "FALSE",
					      "null", "Null",  "NULL", "~",	"yes",	"no",
					      "on",   "off",   "Yes",  "No",	"On",	"Off",
					      "YES",  "NO",    "ON",   "OFF"};
	size_t n = strlen(s);

	if (!n || isspace((unsigned char)s[0]) || isspace((unsigned char)s[n - 1]) ||
	    strchr("-?:,[]{}#&*!|>'\"%@`", s[0]))
		return false;
	for (size_t i = 0; i < ARRAY_SIZE(special); i++)
		if (!strcmp(s, special[i]))
			return false;
	/* anything a YAML reader could take for a number */
	bool numeric = true, digit = false;
	for (const char *p = s; *p; p++) {
		if (isdigit((unsigned char)*p))
			digit = true;
		else if (!strchr(".+-eE_xXoObBaAcCdDfF:", *p))
			numeric = false;
	}
	numeric = numeric && digit;
	if (numeric || !strcmp(s, ".inf") || !strcmp(s, ".nan"))
		return false;
	for (const char *p = s; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f ||
		    (*p == ':' && (p[1] == ' ' || !p[1])) || (*p == '#' && p > s && p[-1] == ' '))
			return false;
	return true;
}

static void yaml_scalar(struct sbuf *out, const json_t *j)
{
	if (json_is_string(j) && plain_ok(json_string_value(j))) {
		sbuf_adds(out, json_string_value(j));
		return;
	}
	char *t = json_dumps(j, JSON_ENCODE_ANY | JSON_COMPACT);
	sbuf_adds(out, t ? t : "null");
	free(t);
}

static void yaml_value(struct sbuf *out, const json_t *j, int indent);

static void yaml_key(struct sbuf *out, const char *k)
{
	json_t *s = json_string(k);
	yaml_scalar(out, s);
	json_decref(s);
}

/* j at indent: a mapping's keys or a sequence's items, one a line */
static void yaml_block(struct sbuf *out, const json_t *j, int indent)
{
	const char *k;
	json_t *v;
	size_t i;

	if (json_is_object(j)) {
		json_object_foreach ((json_t *)j, k, v) {
			sbuf_addn(out, ' ', (size_t)indent);
			yaml_key(out, k);
			sbuf_addc(out, ':');
			yaml_value(out, v, indent);
		}
	} else {
		json_array_foreach (j, i, v) {
			sbuf_addn(out, ' ', (size_t)indent);
			sbuf_addc(out, '-');
			if (json_is_object(v) && json_object_size(v)) {
				/* the first key on the dash's line, the others under it */
				sbuf_addc(out, ' ');
				bool first = true;
				const char *fk;
				json_t *fv;
				json_object_foreach (v, fk, fv) {
					if (!first)
						sbuf_addn(out, ' ', (size_t)indent + 2);
					first = false;
					yaml_key(out, fk);
					sbuf_addc(out, ':');
					yaml_value(out, fv, indent + 2);
				}
			} else {
				yaml_value(out, v, indent);
			}
		}
	}
}

/* after "key:" or "-": the value on the line, or a block under it */
static void yaml_value(struct sbuf *out, const json_t *j, int indent)
{
	if ((json_is_object(j) || json_is_array(j)) &&
	    (json_is_object(j) ? json_object_size(j) : json_array_size(j))) {
		sbuf_addc(out, '\n');
		yaml_block(out, j, indent + 2);
		return;
	}
	sbuf_addc(out, ' ');
	if (json_is_object(j))
		sbuf_adds(out, "{}");
	else if (json_is_array(j))
		sbuf_adds(out, "[]");
	else
		yaml_scalar(out, j);
	sbuf_addc(out, '\n');
}

char *compose_to_yaml(const json_t *j)
{
	struct sbuf out = SBUF_INIT;

	yaml_block(&out, j, 0);
	return out.p ? sbuf_detach(&out) : xstrdup("");
}
