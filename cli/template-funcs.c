/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The template functions (Go's builtins and docker's) and the Go formatting they rest on:
 * fmt's %v and Printf verbs, strconv's Quote and FormatFloat, encoding/json's encoder as docker's
 * json function configures it (no HTML escaping), and html/js/urlquery escaping.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "template-internal.h"
#include "units.h"
#include "base/banned.h"

/* ---- runes ----------------------------------------------------------------------------------- */

static int utf8_decode(const char *s, size_t n, int *w)
{
	const unsigned char *u = (const unsigned char *)s;
	int r, len;

	if (n == 0) {
		*w = 0;
		return -1;
	}
	if (u[0] < 0x80) {
		*w = 1;
		return u[0];
	}
	if ((u[0] & 0xe0) == 0xc0 && u[0] >= 0xc2) {
		len = 2;
		r = u[0] & 0x1f;
	} else if ((u[0] & 0xf0) == 0xe0) {
		len = 3;
		r = u[0] & 0x0f;
	} else if ((u[0] & 0xf8) == 0xf0 && u[0] <= 0xf4) {
		len = 4;
		r = u[0] & 0x07;
	} else {
		*w = 1;
		return -1;
	}
	if ((size_t)len > n) {
		*w = 1;
		return -1;
	}
	for (int i = 1; i < len; i++) {
		if ((u[i] & 0xc0) != 0x80) {
			*w = 1;
			return -1;
		}
		r = (r << 6) | (u[i] & 0x3f);
	}
	if ((len == 3 && r < 0x800) || (len == 4 && (r < 0x10000 || r > 0x10ffff)) ||
	    (r >= 0xd800 && r <= 0xdfff)) {
		*w = 1;
		return -1;
	}
	*w = len;
	return r;
}

static void utf8_put(struct sbuf *b, uint32_t r)
{
	char buf[4];
	size_t n;

	if (r > 0x10ffff || (r >= 0xd800 && r <= 0xdfff))
		r = 0xfffd;
	if (r < 0x80) {
		buf[0] = (char)r;
		n = 1;
	} else if (r < 0x800) {
		buf[0] = (char)(0xc0 | (r >> 6));
		buf[1] = (char)(0x80 | (r & 0x3f));
		n = 2;
	} else if (r < 0x10000) {
		buf[0] = (char)(0xe0 | (r >> 12));
		buf[1] = (char)(0x80 | ((r >> 6) & 0x3f));
		buf[2] = (char)(0x80 | (r & 0x3f));
		n = 3;
	} else {
		buf[0] = (char)(0xf0 | (r >> 18));
		buf[1] = (char)(0x80 | ((r >> 12) & 0x3f));
		buf[2] = (char)(0x80 | ((r >> 6) & 0x3f));
		buf[3] = (char)(0x80 | (r & 0x3f));
		n = 4;
	}
	sbuf_add(b, buf, n);
}

static size_t rune_count(const char *s, size_t n)
{
	size_t c = 0;

	for (size_t i = 0; i < n;) {
		int w;
		utf8_decode(s + i, n - i, &w);
		i += (size_t)w;
		c++;
	}
	return c;
}

/* ---- strconv ----------------------------------------------------------------------------------- */

/* unicode.IsPrint, close enough: controls and U+0080..U+009F and a few separators are not */
static bool rune_printable(int r)
{
	if (r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == 0xad)
		return false;
	if (r == 0x2028 || r == 0x2029 || r == 0xfeff || (r >= 0xfff9 && r <= 0xfffb))
		return false;
	return true;
}

/* The escape Go's strconv and encoding/json both write for \b \f \n \r \t; NULL for others. */
static const char *short_escape(int r)
{
	switch (r) {
	case '\b':
		return "\\b";
	case '\f':
		return "\\f";
	case '\n':
		return "\\n";
	case '\r':
		return "\\r";
	case '\t':
		return "\\t";
	}
	return NULL;
}

static void quote_with(struct sbuf *out, const char *s, size_t len, char q)
{
	static const char hex[] = "0123456789abcdef";

	sbuf_addc(out, q);
	for (size_t i = 0; i < len;) {
		int w, r = utf8_decode(s + i, len - i, &w);
		if (r < 0) {
			unsigned char c = (unsigned char)s[i];
			sbuf_printf(out, "\\x%c%c", hex[c >> 4], hex[c & 15]);
			i++;
			continue;
		}
		if (r == q || r == '\\') {
			sbuf_addc(out, '\\');
			sbuf_addc(out, (char)r);
		} else if (rune_printable(r)) {
			sbuf_add(out, s + i, (size_t)w);
		} else {
			const char *e = r == '\a' ? "\\a" : r == '\v' ? "\\v" : short_escape(r);
			if (e)
				sbuf_adds(out, e);
			else if (r < 0x20 || r == 0x7f)
				sbuf_printf(out, "\\x%c%c", hex[r >> 4], hex[r & 15]);
			else if (r < 0x10000)
				sbuf_printf(out, "\\u%04x", (unsigned)r);
			else
				sbuf_printf(out, "\\U%08x", (unsigned)r);
		}
		i += (size_t)w;
	}
	sbuf_addc(out, q);
}

void go_quote(struct sbuf *out, const char *s, size_t len)
{
	quote_with(out, s, len, '"');
}

/* The shortest decimal digits that read back as f: digits (no dot), and the decimal point
 * position dp (value = 0.digits * 10^dp). */
static void shortest_digits(double f, char *digits, int *nd, int *dp)
{
	char buf[64];

	for (int p = 0; p <= 17; p++) {
		snprintf(buf, sizeof(buf), "%.*e", p, f);
		if (strtod(buf, NULL) == f || p == 17)
			break;
	}
	/* buf: d.ddde[+-]XX */
	int n = 0, exp;
	char *e = strchr(buf, 'e');
	for (char *c = buf; c < e; c++)
		if (isdigit((unsigned char)*c))
			digits[n++] = *c;
	exp = (int)strtol(e + 1, NULL, 10);
	while (n > 1 && digits[n - 1] == '0')
		n--;
	digits[n] = '\0';
	*nd = n;
	*dp = exp + 1;
}

static void fmt_e(struct sbuf *out, const char *d, int nd, int dp, int prec)
{
	sbuf_addc(out, d[0]);
	if (prec > 0) {
		sbuf_addc(out, '.');
		for (int i = 1; i <= prec; i++)
			sbuf_addc(out, i < nd ? d[i] : '0');
	}
	int exp = nd == 0 || d[0] == '0' ? 0 : dp - 1;
	sbuf_printf(out, "e%c%02d", exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
}

static void fmt_f(struct sbuf *out, const char *d, int nd, int dp, int prec)
{
	if (dp > 0) {
		for (int i = 0; i < dp; i++)
			sbuf_addc(out, i < nd ? d[i] : '0');
	} else {
		sbuf_addc(out, '0');
	}
	if (prec > 0) {
		sbuf_addc(out, '.');
		for (int i = 0; i < prec; i++) {
			int j = dp + i;
			sbuf_addc(out, j >= 0 && j < nd ? d[j] : '0');
		}
	}
}

static bool float_special(struct sbuf *out, double f)
{
	if (isnan(f)) {
		sbuf_adds(out, "NaN");
		return true;
	}
	if (isinf(f)) {
		sbuf_adds(out, f > 0 ? "+Inf" : "-Inf");
		return true;
	}
	return false;
}

void go_format_float(struct sbuf *out, double f)
{
	char d[32];
	int nd, dp;

	if (float_special(out, f))
		return;
	if (f == 0) {
		sbuf_adds(out, signbit(f) ? "-0" : "0");
		return;
	}
	if (f < 0) {
		sbuf_addc(out, '-');
		f = -f;
	}
	shortest_digits(f, d, &nd, &dp);
	/* shortest 'g': %e when the exponent is < -4 or >= 6 (strconv's eprec for shortest) */
	int exp = dp - 1;
	if (exp < -4 || exp >= 6)
		fmt_e(out, d, nd, dp, nd - 1);
	else
		fmt_f(out, d, nd, dp, nd - dp > 0 ? nd - dp : 0);
}

/* encoding/json's float encoding: 'f' unless tiny or huge, then 'e' with e-07 -> e-7 */
static void json_float(struct sbuf *out, double f)
{
	char d[32];
	int nd, dp;
	double a = fabs(f);

	if (isnan(f) || isinf(f)) {
		sbuf_adds(out, "null");
		return;
	}
	if (f == 0) {
		sbuf_adds(out, signbit(f) ? "-0" : "0");
		return;
	}
	if (f < 0)
		sbuf_addc(out, '-');
	shortest_digits(a, d, &nd, &dp);
	if (a < 1e-6 || a >= 1e21) {
		size_t start = out->len;
		fmt_e(out, d, nd, dp, nd - 1);
		/* e-07 -> e-7 */
		size_t n = out->len - start;
		char *p = out->p + start;
		if (n >= 4 && p[n - 4] == 'e' && p[n - 3] == '-' && p[n - 2] == '0') {
			p[n - 2] = p[n - 1];
			out->len--;
			out->p[out->len] = '\0';
		}
	} else {
		fmt_f(out, d, nd, dp, nd - dp > 0 ? nd - dp : 0);
	}
}

/* ---- fmt's %v ---------------------------------------------------------------------------------- */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* An object's keys, sorted (caller frees the vector; the strings are the object's). */
static const char **sorted_keys(json_t *obj, size_t *ret_n)
{
	size_t n = json_object_size(obj), k = 0;
	const char **keys = xcalloc(n ? n : 1, sizeof(*keys));
	const char *key;
	json_t *v;

	json_object_foreach (obj, key, v)
		keys[k++] = key;
	qsort(keys, n, sizeof(*keys), cmp_str);
	*ret_n = n;
	return keys;
}

static void print_value(struct sbuf *out, struct tval v, int depth);

static void print_struct(struct sbuf *out, struct tval v, int depth)
{
	sbuf_addc(out, '{');
	if (v.sch && !v.sch->names_only) {
		for (size_t i = 0; i < v.sch->n_fields; i++) {
			const struct tschema_field *f = &v.sch->fields[i];
			json_t *e = json_object_get(v.j, f->json ? f->json : f->go);
			if (i)
				sbuf_addc(out, ' ');
			if (f->kind == 'e') {
				/* an embedded struct: a struct of its own, from the same object */
				print_value(out,
					    (struct tval){.j = v.j, .sch = f->sub, .kind = 'o'},
					    depth + 1);
				continue;
			}
			if (!e || json_is_null(e)) {
				switch (f->kind) {
				case 's':
					break;
				case 't':
					sbuf_adds(out, "0001-01-01 00:00:00 +0000 UTC");
					break;
				case 'd':
					sbuf_adds(out, "0s");
					break;
				case 'b':
					sbuf_adds(out, "false");
					break;
				case 'i':
				case 'f':
					sbuf_addc(out, '0');
					break;
				case 'a':
					sbuf_adds(out, "[]");
					break;
				case 'm':
					sbuf_adds(out, "map[]");
					break;
				case 'o': {
					json_t *empty = json_object();
					print_value(out,
						    (struct tval){
							    .j = empty, .sch = f->sub, .kind = 'o'},
						    depth + 1);
					json_decref(empty);
					break;
				}
				default:
					sbuf_adds(out, "<nil>");
				}
				continue;
			}
			print_value(out, (struct tval){.j = e, .sch = f->sub, .kind = f->kind},
				    depth + 1);
		}
	} else {
		const char *key;
		json_t *e;
		bool first = true;
		json_object_foreach (v.j, key, e) {
			if (!first)
				sbuf_addc(out, ' ');
			first = false;
			char k = 0;
			if (json_is_object(e))
				k = (strcmp(key, "Labels") == 0 || strcmp(key, "Options") == 0 ||
				     strcmp(key, "Attributes") == 0 ||
				     strcmp(key, "Details") == 0 || strcmp(key, "Data") == 0)
					    ? 'm'
					    : 'o';
			print_value(out, (struct tval){.j = e, .kind = k}, depth + 1);
		}
	}
	sbuf_addc(out, '}');
}

static void print_value(struct sbuf *out, struct tval v, int depth)
{
	if (v.o) {
		json_t *j = v.o->type->to_json(v.o);
		size_t n;
		const char **keys = sorted_keys(j, &n);
		sbuf_adds(out, "&{");
		for (size_t i = 0; i < n; i++) {
			if (i)
				sbuf_addc(out, ' ');
			print_value(out, (struct tval){.j = json_object_get(j, keys[i])},
				    depth + 1);
		}
		sbuf_addc(out, '}');
		free(keys);
		json_decref(j);
		return;
	}
	if (!v.j) {
		sbuf_adds(out, "<nil>");
		return;
	}
	if (v.kind == 't' && json_is_string(v.j)) {
		go_time_string_rfc3339(out, json_string_value(v.j));
		return;
	}
	if (v.kind == 'd' && json_is_integer(v.j)) {
		go_duration_string(out, json_integer_value(v.j));
		return;
	}
	switch (json_typeof(v.j)) {
	case JSON_STRING:
		sbuf_add(out, json_string_value(v.j), json_string_length(v.j));
		break;
	case JSON_INTEGER:
		sbuf_printf(out, "%" JSON_INTEGER_FORMAT, json_integer_value(v.j));
		break;
	case JSON_REAL:
		go_format_float(out, json_real_value(v.j));
		break;
	case JSON_TRUE:
		sbuf_adds(out, "true");
		break;
	case JSON_FALSE:
		sbuf_adds(out, "false");
		break;
	case JSON_NULL:
		sbuf_adds(out, v.kind == 'a' ? "[]" : v.kind == 'm' ? "map[]" : "<nil>");
		break;
	case JSON_ARRAY: {
		size_t i;
		json_t *e;
		sbuf_addc(out, '[');
		json_array_foreach (v.j, i, e) {
			if (i)
				sbuf_addc(out, ' ');
			print_value(out, tval_child(v, e, json_is_object(e) ? 'o' : 0), depth + 1);
		}
		sbuf_addc(out, ']');
		break;
	}
	case JSON_OBJECT:
		if (v.kind == 'm') {
			size_t n;
			const char **keys = sorted_keys(v.j, &n);
			sbuf_adds(out, "map[");
			for (size_t i = 0; i < n; i++) {
				json_t *e = json_object_get(v.j, keys[i]);
				if (i)
					sbuf_addc(out, ' ');
				sbuf_adds(out, keys[i]);
				sbuf_addc(out, ':');
				print_value(out, tval_child(v, e, json_is_object(e) ? 'o' : 0),
					    depth + 1);
			}
			sbuf_addc(out, ']');
			free(keys);
		} else {
			if (v.kind == 'p' && depth > 0)
				sbuf_addc(out, '&');
			print_struct(out, v, depth);
		}
		break;
	}
}

void go_print_value(struct sbuf *out, struct tval v)
{
	print_value(out, v, 0);
}

/* ---- encoding/json ------------------------------------------------------------------------------- */

static void json_string_go(struct sbuf *out, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";

	sbuf_addc(out, '"');
	for (size_t i = 0; i < len;) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x80) {
			const char *e = short_escape(c);
			if (c == '\\' || c == '"') {
				sbuf_addc(out, '\\');
				sbuf_addc(out, (char)c);
			} else if (e) {
				sbuf_adds(out, e);
			} else if (c < 0x20) {
				sbuf_printf(out, "\\u00%c%c", hex[c >> 4], hex[c & 15]);
			} else {
				sbuf_addc(out, (char)c);
			}
			i++;
			continue;
		}
		int w, r = utf8_decode(s + i, len - i, &w);
		if (r < 0) {
			sbuf_adds(out, "\\ufffd");
			i++;
			continue;
		}
		if (r == 0x2028 || r == 0x2029)
			sbuf_printf(out, "\\u202%c", hex[r & 15]);
		else
			sbuf_add(out, s + i, (size_t)w);
		i += (size_t)w;
	}
	sbuf_addc(out, '"');
}

static bool json_map_key(const char *key)
{
	static const char *const maps[] = {"Labels",	 "Attributes", "Options", "Details",
					   "DriverOpts", "Data",       "Volumes", "ExposedPorts",
					   "Sysctls",	 "StorageOpt", "Tmpfs",	  "Annotations",
					   "Runtimes",	 NULL};

	for (size_t i = 0; maps[i]; i++)
		if (strcmp(key, maps[i]) == 0)
			return true;
	return false;
}

static bool json_is_zero(json_t *j)
{
	switch (json_typeof(j)) {
	case JSON_STRING:
		return json_string_length(j) == 0;
	case JSON_INTEGER:
		return json_integer_value(j) == 0;
	case JSON_REAL:
		return json_real_value(j) == 0;
	case JSON_FALSE:
	case JSON_NULL:
		return true;
	case JSON_ARRAY:
		return json_array_size(j) == 0;
	case JSON_OBJECT:
		return false; /* structs are never empty to encoding/json; maps rarely matter */
	default:
		return false;
	}
}

static void json_encode_tv(struct sbuf *out, json_t *j, char kind, const struct tschema *sch,
			   const char *key, bool sorted_all);

/* JSON text with <, > and & escaped as json.Marshal does (they occur only inside strings) */
static void html_escape_json(struct sbuf *out, const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '<')
			sbuf_adds(out, "\\u003c");
		else if (p[i] == '>')
			sbuf_adds(out, "\\u003e");
		else if (p[i] == '&')
			sbuf_adds(out, "\\u0026");
		else
			sbuf_addc(out, p[i]);
	}
}

/* The fields of struct sch from object j, embedded structs' in line; *first: no comma yet. */
static void json_encode_fields(struct sbuf *out, json_t *j, const struct tschema *sch, bool *first)
{
	for (size_t i = 0; i < sch->n_fields; i++) {
		const struct tschema_field *f = &sch->fields[i];
		const char *k = f->json ? f->json : f->go;
		json_t *e = json_object_get(j, k);
		if (f->kind == 'e') {
			if (f->sub)
				json_encode_fields(out, j, f->sub, first);
			continue;
		}
		/* time.Time is a struct: never empty to encoding/json */
		if (f->omitempty && f->kind != 't' && (!e || json_is_zero(e)))
			continue;
		if (!*first)
			sbuf_addc(out, ',');
		*first = false;
		json_string_go(out, k, strlen(k));
		sbuf_addc(out, ':');
		if (e && !(json_is_null(e) && (f->kind == 't' || f->kind == 'd'))) {
			json_encode_tv(out, e, f->kind, f->sub, f->go, false);
			continue;
		}
		switch (f->kind) {
		case 's':
			sbuf_adds(out, "\"\"");
			break;
		case 'b':
			sbuf_adds(out, "false");
			break;
		case 'i':
		case 'f':
		case 'd':
			sbuf_addc(out, '0');
			break;
		case 't':
			sbuf_adds(out, "\"0001-01-01T00:00:00Z\"");
			break;
		case 'o': {
			json_t *empty = json_object();
			json_encode_tv(out, empty, 'o', f->sub, f->go, false);
			json_decref(empty);
			break;
		}
		default:
			sbuf_adds(out, "null");
		}
	}
}

/*
 * encoding/json of a value Go holds as a typed struct (sch), a map (kind 'm': keys sorted), or
 * JSON as the daemon sent it (key order kept; docker's map-typed fields sorted; sorted_all: a
 * whole subtree Go re-encodes from a map, as the registry configuration).
 */
static void json_encode_tv(struct sbuf *out, json_t *j, char kind, const struct tschema *sch,
			   const char *key, bool sorted_all)
{
	switch (json_typeof(j)) {
	case JSON_STRING:
		json_string_go(out, json_string_value(j), json_string_length(j));
		break;
	case JSON_INTEGER:
		sbuf_printf(out, "%" JSON_INTEGER_FORMAT, json_integer_value(j));
		break;
	case JSON_REAL:
		json_float(out, json_real_value(j));
		break;
	case JSON_TRUE:
		sbuf_adds(out, "true");
		break;
	case JSON_FALSE:
		sbuf_adds(out, "false");
		break;
	case JSON_NULL:
		sbuf_adds(out, "null");
		break;
	case JSON_ARRAY: {
		size_t i;
		json_t *e;
		sbuf_addc(out, '[');
		json_array_foreach (j, i, e) {
			if (i)
				sbuf_addc(out, ',');
			json_encode_tv(out, e, 0, sch, "", sorted_all);
		}
		sbuf_addc(out, ']');
		break;
	}
	case JSON_OBJECT: {
		bool first = true;
		if (sch && sch->raw)
			kind = 'm';
		if (sch && sch->marshaler && kind != 'm') {
			_cleanup_sbuf_ struct sbuf b = SBUF_INIT;
			json_encode_tv(&b, j, 'o',
				       &(struct tschema){.type_name = sch->type_name,
							 .fields = sch->fields,
							 .n_fields = sch->n_fields},
				       key, sorted_all);
			html_escape_json(out, b.p, b.len);
			break;
		}
		sbuf_addc(out, '{');
		if (sch && kind != 'm') {
			json_encode_fields(out, j, sch, &first);
		} else if (sorted_all || kind == 'm' || kind == 'r' || json_map_key(key) ||
			   strcmp(key, "RegistryConfig") == 0) {
			bool all = sorted_all || kind == 'r' || strcmp(key, "RegistryConfig") == 0;
			size_t n;
			const char **keys = sorted_keys(j, &n);
			for (size_t i = 0; i < n; i++) {
				if (i)
					sbuf_addc(out, ',');
				json_string_go(out, keys[i], strlen(keys[i]));
				sbuf_addc(out, ':');
				json_encode_tv(out, json_object_get(j, keys[i]), 0,
					       kind == 'm' ? sch : NULL, keys[i], all);
			}
			free(keys);
		} else {
			const char *k;
			json_t *e;
			json_object_foreach (j, k, e) {
				if (!first)
					sbuf_addc(out, ',');
				first = false;
				json_string_go(out, k, strlen(k));
				sbuf_addc(out, ':');
				json_encode_tv(out, e, 0, NULL, k, false);
			}
		}
		sbuf_addc(out, '}');
		break;
	}
	}
}

void go_json_encode(struct sbuf *out, struct tval v)
{
	if (v.o) {
		/* docker's MarshalJSON is json.Marshal's, which escapes <, > and & (the template's
		 * own encoder would not) */
		json_t *j = v.o->type->to_json(v.o);
		_cleanup_sbuf_ struct sbuf b = SBUF_INIT;
		json_encode_tv(&b, j, 'm', NULL, "", false);
		json_decref(j);
		html_escape_json(out, b.p, b.len);
		return;
	}
	if (!v.j) {
		sbuf_adds(out, "null");
		return;
	}
	json_encode_tv(out, v.j, v.kind, v.sch && v.sch->names_only ? NULL : v.sch, "", false);
}

/* ---- fmt.Sprintf ------------------------------------------------------------------------------- */

struct fmtspec {
	bool minus, plus, sharp, space, zero;
	int width, prec; /* -1: none */
	char verb;
};

static void pad_to(struct sbuf *out, const struct fmtspec *sp, const char *s, size_t len)
{
	size_t runes = rune_count(s, len);
	size_t pad = sp->width > 0 && (size_t)sp->width > runes ? (size_t)sp->width - runes : 0;

	if (!sp->minus)
		sbuf_addn(out, sp->zero ? '0' : ' ', pad);
	sbuf_add(out, s, len);
	if (sp->minus)
		sbuf_addn(out, ' ', pad);
}

/* the type of a value as %!verb(type=value) names it */
static const char *go_type(struct tval v)
{
	if (v.o)
		return v.o->type->name;
	if (!v.j)
		return "<nil>";
	switch (json_typeof(v.j)) {
	case JSON_STRING:
		return "string";
	case JSON_INTEGER:
		return v.kind == 'u' ? "uint8" : "int";
	case JSON_REAL:
		return "float64";
	case JSON_TRUE:
	case JSON_FALSE:
		return "bool";
	case JSON_ARRAY:
		return "[]interface {}";
	case JSON_OBJECT:
		return v.kind == 'm' ? "map[string]interface {}" : "struct";
	default:
		return "<nil>";
	}
}

static void bad_verb(struct sbuf *out, char verb, struct tval v)
{
	sbuf_printf(out, "%%!%c(", verb);
	if (!v.j && !v.o) {
		sbuf_adds(out, "<nil>");
	} else {
		sbuf_printf(out, "%s=", go_type(v));
		print_value(out, v, 0);
	}
	sbuf_addc(out, ')');
}

static void fmt_integer(struct sbuf *out, const struct fmtspec *sp, int64_t i)
{
	_cleanup_sbuf_ struct sbuf b = SBUF_INIT;
	uint64_t mag = i < 0 ? (uint64_t)0 - (uint64_t)i : (uint64_t)i;
	unsigned base = 10;
	const char *digits = "0123456789abcdef";
	char tmp[80];
	int n = 0;

	switch (sp->verb) {
	case 'x':
		base = 16;
		break;
	case 'X':
		base = 16;
		digits = "0123456789ABCDEF";
		break;
	case 'o':
	case 'O':
		base = 8;
		break;
	case 'b':
		base = 2;
		break;
	default:
		break;
	}
	do {
		tmp[n++] = digits[mag % base];
		mag /= base;
	} while (mag);
	/* precision: minimum digits */
	while (sp->prec >= 0 && n < sp->prec && n < (int)sizeof(tmp) - 4)
		tmp[n++] = '0';
	if (i < 0)
		sbuf_addc(&b, '-');
	else if (sp->plus)
		sbuf_addc(&b, '+');
	else if (sp->space)
		sbuf_addc(&b, ' ');
	if (sp->sharp || sp->verb == 'O') {
		if (base == 16)
			sbuf_adds(&b, sp->verb == 'X' ? "0X" : "0x");
		else if (base == 8 && sp->verb == 'O')
			sbuf_adds(&b, "0o");
		else if (base == 8)
			sbuf_addc(&b, '0');
		else if (base == 2)
			sbuf_adds(&b, "0b");
	}
	size_t head = b.len;
	/* zero padding goes after the sign */
	if (sp->zero && !sp->minus && sp->prec < 0 && sp->width > 0 &&
	    (size_t)sp->width > head + (size_t)n)
		sbuf_addn(&b, '0', (size_t)sp->width - head - (size_t)n);
	while (n)
		sbuf_addc(&b, tmp[--n]);
	struct fmtspec plain = *sp;
	plain.zero = false;
	pad_to(out, &plain, b.p, b.len);
}

static void fmt_float(struct sbuf *out, const struct fmtspec *sp, double f)
{
	_cleanup_sbuf_ struct sbuf b = SBUF_INIT;
	char verb = sp->verb == 'v' ? 'g' : sp->verb;

	if (isnan(f) || isinf(f)) {
		float_special(&b, f);
		struct fmtspec plain = *sp;
		plain.zero = false;
		pad_to(out, &plain, b.p, b.len);
		return;
	}
	if ((verb == 'g' || verb == 'G') && sp->prec < 0) {
		if (f >= 0 && sp->plus)
			sbuf_addc(&b, '+');
		else if (f >= 0 && sp->space)
			sbuf_addc(&b, ' ');
		go_format_float(&b, f);
		if (verb == 'G')
			for (size_t i = 0; i < b.len; i++)
				b.p[i] = (char)toupper((unsigned char)b.p[i]);
	} else {
		char buf[512];
		int prec = sp->prec >= 0 ? sp->prec : 6;
		switch (verb) {
		case 'e':
			snprintf(buf, sizeof(buf), sp->sharp ? "%#.*e" : "%.*e", prec, f);
			break;
		case 'E':
			snprintf(buf, sizeof(buf), sp->sharp ? "%#.*E" : "%.*E", prec, f);
			break;
		case 'g':
			snprintf(buf, sizeof(buf), sp->sharp ? "%#.*g" : "%.*g", prec, f);
			break;
		case 'G':
			snprintf(buf, sizeof(buf), sp->sharp ? "%#.*G" : "%.*G", prec, f);
			break;
		default:
			snprintf(buf, sizeof(buf), sp->sharp ? "%#.*f" : "%.*f", prec, f);
		}
		if (f >= 0 && sp->plus)
			sbuf_addc(&b, '+');
		else if (f >= 0 && sp->space)
			sbuf_addc(&b, ' ');
		sbuf_adds(&b, buf);
	}
	if (sp->zero && !sp->minus && sp->width > 0 && (size_t)sp->width > b.len) {
		size_t sign = b.p[0] == '-' || b.p[0] == '+' || b.p[0] == ' ';
		_cleanup_sbuf_ struct sbuf z = SBUF_INIT;
		sbuf_add(&z, b.p, sign);
		sbuf_addn(&z, '0', (size_t)sp->width - b.len);
		sbuf_add(&z, b.p + sign, b.len - sign);
		sbuf_add(out, z.p, z.len);
		return;
	}
	pad_to(out, sp, b.p, b.len);
}

static void fmt_string(struct sbuf *out, const struct fmtspec *sp, const char *s, size_t len)
{
	_cleanup_sbuf_ struct sbuf b = SBUF_INIT;

	if (sp->prec >= 0) {
		/* precision truncates to that many runes */
		size_t i = 0;
		for (int r = 0; r < sp->prec && i < len; r++) {
			int w;
			utf8_decode(s + i, len - i, &w);
			i += (size_t)w;
		}
		len = i;
	}
	switch (sp->verb) {
	case 'q':
		if (sp->sharp && !memchr(s, '`', len)) {
			sbuf_addc(&b, '`');
			sbuf_add(&b, s, len);
			sbuf_addc(&b, '`');
		} else {
			go_quote(&b, s, len);
		}
		break;
	case 'x':
	case 'X': {
		const char *hex = sp->verb == 'x' ? "0123456789abcdef" : "0123456789ABCDEF";
		for (size_t i = 0; i < len; i++) {
			if (sp->space && i)
				sbuf_addc(&b, ' ');
			if (sp->sharp && (sp->space || i == 0))
				sbuf_adds(&b, sp->verb == 'x' ? "0x" : "0X");
			sbuf_addc(&b, hex[(unsigned char)s[i] >> 4]);
			sbuf_addc(&b, hex[(unsigned char)s[i] & 15]);
		}
		break;
	}
	default:
		sbuf_add(&b, s, len);
	}
	pad_to(out, sp, b.p ? b.p : "", b.len);
}

static void fmt_arg(struct sbuf *out, const struct fmtspec *sp, struct tval v)
{
	char verb = sp->verb;

	if (!v.j && !v.o) {
		if (verb == 'v' || verb == 's') {
			pad_to(out, sp, "<nil>", 5);
			return;
		}
		sbuf_printf(out, "%%!%c(<nil>)", verb);
		return;
	}
	if (v.o || json_is_array(v.j) || json_is_object(v.j) || json_is_null(v.j)) {
		if (verb == 'v' || verb == 's' || verb == 'd' || verb == 'q') {
			_cleanup_sbuf_ struct sbuf b = SBUF_INIT;
			print_value(&b, v, 0);
			pad_to(out, sp, b.p ? b.p : "", b.len);
			return;
		}
		bad_verb(out, verb, v);
		return;
	}
	switch (json_typeof(v.j)) {
	case JSON_STRING:
		if (verb == 'v' || verb == 's' || verb == 'q' || verb == 'x' || verb == 'X') {
			fmt_string(out, sp, json_string_value(v.j), json_string_length(v.j));
			return;
		}
		break;
	case JSON_INTEGER: {
		int64_t i = json_integer_value(v.j);
		switch (verb) {
		case 'v':
		case 'd': {
			struct fmtspec d = *sp;
			d.verb = 'd';
			fmt_integer(out, &d, i);
			return;
		}
		case 'x':
		case 'X':
		case 'o':
		case 'O':
		case 'b':
			fmt_integer(out, sp, i);
			return;
		case 'c': {
			_cleanup_sbuf_ struct sbuf b = SBUF_INIT;
			utf8_put(&b, (uint32_t)i);
			pad_to(out, sp, b.p, b.len);
			return;
		}
		case 'q': {
			_cleanup_sbuf_ struct sbuf b = SBUF_INIT, r = SBUF_INIT;
			utf8_put(&r, (uint32_t)i);
			quote_with(&b, r.p, r.len, '\'');
			pad_to(out, sp, b.p, b.len);
			return;
		}
		case 'U': {
			char buf[32];
			snprintf(buf, sizeof(buf), "U+%04" PRIX64, (uint64_t)i);
			pad_to(out, sp, buf, strlen(buf));
			return;
		}
		case 'e':
		case 'E':
		case 'f':
		case 'F':
		case 'g':
		case 'G':
			break;
		}
		break;
	}
	case JSON_REAL:
		switch (verb) {
		case 'v':
		case 'e':
		case 'E':
		case 'f':
		case 'F':
		case 'g':
		case 'G':
			fmt_float(out, sp, json_real_value(v.j));
			return;
		}
		break;
	case JSON_TRUE:
	case JSON_FALSE:
		if (verb == 'v' || verb == 't') {
			const char *s = json_is_true(v.j) ? "true" : "false";
			pad_to(out, sp, s, strlen(s));
			return;
		}
		break;
	default:
		break;
	}
	bad_verb(out, verb, v);
}

/* fmt.Sprintf(format, args...) */
static void go_sprintf(struct sbuf *out, const char *f, size_t flen, struct tval *args, size_t n)
{
	size_t argi = 0;

	for (size_t i = 0; i < flen;) {
		if (f[i] != '%') {
			sbuf_addc(out, f[i++]);
			continue;
		}
		i++;
		if (i >= flen) {
			sbuf_adds(out, "%!(NOVERB)");
			break;
		}
		struct fmtspec sp = {.width = -1, .prec = -1};
		for (; i < flen; i++) {
			switch (f[i]) {
			case '-':
				sp.minus = true;
				continue;
			case '+':
				sp.plus = true;
				continue;
			case '#':
				sp.sharp = true;
				continue;
			case ' ':
				sp.space = true;
				continue;
			case '0':
				sp.zero = !sp.minus;
				continue;
			}
			break;
		}
		if (i < flen && f[i] == '*') {
			i++;
			if (argi < n && args[argi].j && json_is_integer(args[argi].j)) {
				int64_t w = json_integer_value(args[argi++].j);
				if (w < 0) {
					sp.minus = true;
					w = -w;
				}
				sp.width = w > 1000000 ? 1000000 : (int)w;
			} else {
				sbuf_adds(out, "%!(BADWIDTH)");
				if (argi < n)
					argi++;
			}
		} else {
			while (i < flen && isdigit((unsigned char)f[i]) && sp.width < 1000000)
				sp.width = (sp.width < 0 ? 0 : sp.width) * 10 + (f[i++] - '0');
		}
		if (i < flen && f[i] == '.') {
			i++;
			sp.prec = 0;
			if (i < flen && f[i] == '*') {
				i++;
				if (argi < n && args[argi].j && json_is_integer(args[argi].j)) {
					int64_t p = json_integer_value(args[argi++].j);
					sp.prec = p < 0 ? -1 : p > 1000000 ? 1000000 : (int)p;
				} else {
					sbuf_adds(out, "%!(BADPREC)");
					if (argi < n)
						argi++;
				}
			} else {
				while (i < flen && isdigit((unsigned char)f[i]) &&
				       sp.prec < 1000000)
					sp.prec = sp.prec * 10 + (f[i++] - '0');
			}
		}
		if (i >= flen) {
			sbuf_adds(out, "%!(NOVERB)");
			break;
		}
		int w;
		int verb = utf8_decode(f + i, flen - i, &w);
		i += (size_t)w;
		if (verb == '%') {
			sbuf_addc(out, '%');
			continue;
		}
		sp.verb = verb > 0 && verb < 0x80 ? (char)verb : '?';
		if (argi >= n) {
			sbuf_printf(out, "%%!%c(MISSING)", sp.verb);
			continue;
		}
		fmt_arg(out, &sp, args[argi++]);
	}
	if (argi < n) {
		sbuf_adds(out, "%!(EXTRA ");
		for (size_t k = argi; k < n; k++) {
			if (k > argi)
				sbuf_adds(out, ", ");
			sbuf_printf(out, "%s=", go_type(args[k]));
			print_value(out, args[k], 0);
		}
		sbuf_addc(out, ')');
	}
}

static bool is_string(struct tval v)
{
	return v.j && json_is_string(v.j);
}

/* fmt.Sprint: spaces between operands when neither is a string */
static void go_sprint(struct sbuf *out, struct tval *args, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (i > 0 && !is_string(args[i]) && !is_string(args[i - 1]))
			sbuf_addc(out, ' ');
		if (!args[i].j && !args[i].o)
			sbuf_adds(out, "<nil>");
		else
			print_value(out, args[i], 0);
	}
}

static void go_sprintln(struct sbuf *out, struct tval *args, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (i)
			sbuf_addc(out, ' ');
		if (!args[i].j && !args[i].o)
			sbuf_adds(out, "<nil>");
		else
			print_value(out, args[i], 0);
	}
	sbuf_addc(out, '\n');
}

/* html/js/urlquery's evalArgs */
static void eval_args(struct sbuf *out, struct tval *args, size_t n)
{
	if (n == 1 && is_string(args[0]))
		sbuf_add(out, json_string_value(args[0].j), json_string_length(args[0].j));
	else
		go_sprint(out, args, n);
}

/* ---- comparisons --------------------------------------------------------------------------------- */

enum basic_kind { K_INVALID, K_BOOL, K_INT, K_FLOAT, K_STRING };

static enum basic_kind basic_kind(struct tval v)
{
	if (!v.j)
		return K_INVALID;
	switch (json_typeof(v.j)) {
	case JSON_TRUE:
	case JSON_FALSE:
		return K_BOOL;
	case JSON_INTEGER:
		return K_INT;
	case JSON_REAL:
		return K_FLOAT;
	case JSON_STRING:
		return K_STRING;
	default:
		return K_INVALID;
	}
}

static bool is_nil(struct tval v)
{
	return !v.o && (!v.j || json_is_null(v.j));
}

static int go_eq(struct tval a, struct tval b, bool *ret, char **err)
{
	enum basic_kind k1 = basic_kind(a), k2 = basic_kind(b);

	if (k1 != k2) {
		if (!is_nil(a) && !is_nil(b) && !(k1 == K_INVALID && k2 == K_INVALID)) {
			*err = xstrdup("incompatible types for comparison");
			return -1;
		}
		*ret = false;
		return 0;
	}
	switch (k1) {
	case K_BOOL:
		*ret = json_is_true(a.j) == json_is_true(b.j);
		return 0;
	case K_INT:
		*ret = json_integer_value(a.j) == json_integer_value(b.j);
		return 0;
	case K_FLOAT:
		*ret = json_real_value(a.j) == json_real_value(b.j);
		return 0;
	case K_STRING:
		*ret = json_string_length(a.j) == json_string_length(b.j) &&
		       memcmp(json_string_value(a.j), json_string_value(b.j),
			      json_string_length(a.j)) == 0;
		return 0;
	default:
		if (is_nil(a) || is_nil(b)) {
			*ret = is_nil(a) == is_nil(b);
			return 0;
		}
		if ((a.j && (json_is_array(a.j) || (json_is_object(a.j) && a.kind == 'm'))) ||
		    a.o || b.o) {
			_cleanup_sbuf_ struct sbuf s = SBUF_INIT;
			print_value(&s, b, 0);
			*err = xasprintf("non-comparable type %s: %s", sbuf_str(&s), go_type(b));
			return -1;
		}
		*ret = json_equal(a.j, b.j);
		return 0;
	}
}

static int go_lt(struct tval a, struct tval b, bool *ret, char **err)
{
	enum basic_kind k1 = basic_kind(a), k2 = basic_kind(b);

	if (k1 == K_INVALID || k2 == K_INVALID) {
		*err = xstrdup("invalid type for comparison");
		return -1;
	}
	if (k1 != k2) {
		*err = xstrdup("incompatible types for comparison");
		return -1;
	}
	switch (k1) {
	case K_BOOL:
		*err = xstrdup("invalid type for comparison");
		return -1;
	case K_INT:
		*ret = json_integer_value(a.j) < json_integer_value(b.j);
		return 0;
	case K_FLOAT:
		*ret = json_real_value(a.j) < json_real_value(b.j);
		return 0;
	default: {
		size_t la = json_string_length(a.j), lb = json_string_length(b.j);
		int c = memcmp(json_string_value(a.j), json_string_value(b.j), la < lb ? la : lb);
		*ret = c < 0 || (c == 0 && la < lb);
		return 0;
	}
	}
}

/* ---- the builtins ------------------------------------------------------------------------------ */

/*
 * Go's indexArg: an index up to len passes; index's one at len then panics in reflect's Index,
 * and that panic is the call's error ("reflect: string index out of range").  elem: "string" or
 * "slice" for index, NULL for slice.
 */
static int index_arg(struct tval idx, size_t len, const char *elem, int64_t *ret, char **err)
{
	int64_t x;

	if (!idx.j) {
		*err = xstrdup("cannot index slice/array with nil");
		return -1;
	}
	if (!json_is_integer(idx.j)) {
		*err = xasprintf("cannot index slice/array with type %s", go_type(idx));
		return -1;
	}
	x = json_integer_value(idx.j);
	if (x < 0 || (uint64_t)x > len) {
		*err = xasprintf("index out of range: %" PRId64, x);
		return -1;
	}
	if (elem && (uint64_t)x == len) {
		*err = xasprintf("reflect: %s index out of range", elem);
		return -1;
	}
	*ret = x;
	return 0;
}

static int fn_index(struct tval *argv, size_t argc, struct tval *ret, json_t **made, char **err)
{
	struct tval item = argv[0];

	if (!item.j && !item.o) {
		*err = xstrdup("index of untyped nil");
		return -1;
	}
	for (size_t k = 1; k < argc; k++) {
		struct tval idx = argv[k];
		int64_t x;
		if (item.o) {
			*err = xasprintf("can't index item of type %s", item.o->type->name);
			return -1;
		}
		if (json_is_null(item.j) && item.kind == 'p') {
			*err = xstrdup("index of nil pointer");
			return -1;
		}
		if (json_is_string(item.j)) {
			if (index_arg(idx, json_string_length(item.j), "string", &x, err) < 0)
				return -1;
			json_decref(*made);
			*made = json_integer((unsigned char)json_string_value(item.j)[x]);
			item = (struct tval){.j = *made, .kind = 'u'};
		} else if (json_is_array(item.j) || (json_is_null(item.j) && item.kind == 'a')) {
			if (index_arg(idx, json_array_size(item.j), "slice", &x, err) < 0)
				return -1;
			json_t *e = json_array_get(item.j, (size_t)x);
			item = tval_child(item, e, json_is_object(e) ? 'o' : 0);
		} else if ((json_is_object(item.j) && item.kind == 'm') ||
			   (json_is_null(item.j) && item.kind == 'm')) {
			if (!is_string(idx)) {
				*err = xasprintf("value has type %s; should be string",
						 go_type(idx));
				return -1;
			}
			json_t *e = json_object_get(item.j, json_string_value(idx.j));
			if (e) {
				item = tval_child(item, e, json_is_object(e) ? 'o' : 0);
			} else if (item.sch && item.sch->raw) {
				/* interface{}'s zero value: no value */
				item = (struct tval){0};
			} else {
				/* the zero value of a map[string]string, docker's usual map */
				json_decref(*made);
				*made = json_string("");
				item = (struct tval){.j = *made};
			}
		} else {
			*err = xasprintf("can't index item of type %s", go_type(item));
			return -1;
		}
	}
	*ret = item;
	return 0;
}

static int fn_slice(struct tval *argv, size_t argc, struct tval *ret, json_t **made, char **err)
{
	struct tval item = argv[0];
	int64_t idx[3] = {0, 0, 0};
	size_t len, cap;

	if (!item.j) {
		*err = xstrdup("slice of untyped nil");
		return -1;
	}
	if (argc - 1 > 3) {
		*err = xasprintf("too many slice indexes: %zu", argc - 1);
		return -1;
	}
	if (json_is_string(item.j)) {
		if (argc - 1 == 3) {
			*err = xstrdup("cannot 3-index slice a string");
			return -1;
		}
		len = cap = json_string_length(item.j);
	} else if (json_is_array(item.j)) {
		len = cap = json_array_size(item.j);
	} else {
		*err = xasprintf("can't slice item of type %s", go_type(item));
		return -1;
	}
	idx[1] = (int64_t)len;
	for (size_t k = 1; k < argc; k++)
		if (index_arg(argv[k], cap, NULL, &idx[k - 1], err) < 0)
			return -1;
	if (idx[0] > idx[1]) {
		*err = xasprintf("invalid slice index: %" PRId64 " > %" PRId64, idx[0], idx[1]);
		return -1;
	}
	if (argc - 1 == 3 && idx[1] > idx[2]) {
		*err = xasprintf("invalid slice index: %" PRId64 " > %" PRId64, idx[1], idx[2]);
		return -1;
	}
	if (json_is_string(item.j)) {
		*made = json_stringn_nocheck(json_string_value(item.j) + idx[0],
					     (size_t)(idx[1] - idx[0]));
	} else {
		*made = json_array();
		for (int64_t i = idx[0]; i < idx[1]; i++)
			json_array_append(*made, json_array_get(item.j, (size_t)i));
	}
	*ret = (struct tval){.j = *made, .sch = item.sch, .kind = item.kind};
	return 0;
}

static int fn_len(struct tval v, int64_t *ret, char **err)
{
	if (v.j && json_is_string(v.j))
		*ret = (int64_t)json_string_length(v.j);
	else if (v.j && json_is_array(v.j))
		*ret = (int64_t)json_array_size(v.j);
	else if (v.j && json_is_object(v.j) && v.kind == 'm')
		*ret = (int64_t)json_object_size(v.j);
	else if (v.j && json_is_null(v.j) && (v.kind == 'a' || v.kind == 'm'))
		*ret = 0;
	else if (v.j && json_is_null(v.j)) {
		*err = xstrdup("len of nil pointer");
		return -1;
	} else if (!v.j && !v.o) {
		*err = xstrdup("len of untyped nil");
		return -1;
	} else {
		*err = xasprintf("len of type %s", go_type(v));
		return -1;
	}
	return 0;
}

static void html_escape(struct sbuf *out, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		switch (s[i]) {
		case '"':
			sbuf_adds(out, "&#34;");
			break;
		case '\'':
			sbuf_adds(out, "&#39;");
			break;
		case '&':
			sbuf_adds(out, "&amp;");
			break;
		case '<':
			sbuf_adds(out, "&lt;");
			break;
		case '>':
			sbuf_adds(out, "&gt;");
			break;
		case '\0':
			sbuf_adds(out, "\xef\xbf\xbd");
			break;
		default:
			sbuf_addc(out, s[i]);
		}
	}
}

static void js_escape(struct sbuf *out, const char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x80) {
			switch (c) {
			case '\\':
				sbuf_adds(out, "\\\\");
				break;
			case '\'':
				sbuf_adds(out, "\\'");
				break;
			case '"':
				sbuf_adds(out, "\\\"");
				break;
			case '<':
				sbuf_adds(out, "\\u003C");
				break;
			case '>':
				sbuf_adds(out, "\\u003E");
				break;
			case '&':
				sbuf_adds(out, "\\u0026");
				break;
			case '=':
				sbuf_adds(out, "\\u003D");
				break;
			default:
				if (c < ' ')
					sbuf_printf(out, "\\u%04X", c);
				else
					sbuf_addc(out, (char)c);
			}
			i++;
			continue;
		}
		int w, r = utf8_decode(s + i, n - i, &w);
		if (r >= 0 && rune_printable(r))
			sbuf_add(out, s + i, (size_t)w);
		else
			sbuf_printf(out, "\\u%04X", (unsigned)(r < 0 ? 0xfffd : r));
		i += (size_t)w;
	}
}

static void url_query_escape(struct sbuf *out, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~')
			sbuf_addc(out, (char)c);
		else if (c == ' ')
			sbuf_addc(out, '+');
		else
			sbuf_printf(out, "%%%02X", c);
	}
}

/* strings.Title: the first letter of each word (words split at non-letters) in upper case */
static void title_case(struct sbuf *out, const char *s, size_t n)
{
	bool sep = true;

	for (size_t i = 0; i < n;) {
		int w, r = utf8_decode(s + i, n - i, &w);
		if (sep && r >= 'a' && r <= 'z')
			sbuf_addc(out, (char)(r - 'a' + 'A'));
		else
			sbuf_add(out, s + i, (size_t)w);
		if (r >= 0 && r < 0x80)
			sep = !(isalnum(r) || r == '_');
		else
			sep = r == 0x85 || r == 0xa0 || r == 0x1680 ||
			      (r >= 0x2000 && r <= 0x200a) || r == 0x2028 || r == 0x2029 ||
			      r == 0x202f || r == 0x205f || r == 0x3000;
		i += (size_t)w;
	}
}

int tmpl_call_builtin(enum builtin_fn f, bool header, struct tval *argv, size_t argc,
		      struct tval *ret, json_t **made, char **err);
int tmpl_call_builtin(enum builtin_fn f, bool header, struct tval *argv, size_t argc,
		      struct tval *ret, json_t **made, char **err)
{
	_cleanup_sbuf_ struct sbuf b = SBUF_INIT;
	bool truth = false;
	int64_t n;

	*made = NULL;
	if (header) {
		/* docker's HeaderFunctions return their (string) argument */
		*ret = argv[0];
		return 0;
	}
	switch (f) {
	case F_NOT:
		*made = json_boolean(!tval_truth(argv[0]));
		break;
	case F_LEN:
		if (fn_len(argv[0], &n, err) < 0)
			return -1;
		*made = json_integer(n);
		break;
	case F_INDEX:
		return fn_index(argv, argc, ret, made, err);
	case F_SLICE:
		return fn_slice(argv, argc, ret, made, err);
	case F_PRINT:
		go_sprint(&b, argv, argc);
		*made = json_stringn_nocheck(sbuf_str(&b), b.len);
		break;
	case F_PRINTLN:
		go_sprintln(&b, argv, argc);
		*made = json_stringn_nocheck(sbuf_str(&b), b.len);
		break;
	case F_PRINTF:
		go_sprintf(&b, json_string_value(argv[0].j), json_string_length(argv[0].j),
			   argv + 1, argc - 1);
		*made = json_stringn_nocheck(sbuf_str(&b), b.len);
		break;
	case F_HTML:
	case F_JS:
	case F_URLQUERY: {
		_cleanup_sbuf_ struct sbuf s = SBUF_INIT;
		eval_args(&s, argv, argc);
		if (f == F_HTML)
			html_escape(&b, sbuf_str(&s), s.len);
		else if (f == F_JS)
			js_escape(&b, sbuf_str(&s), s.len);
		else
			url_query_escape(&b, sbuf_str(&s), s.len);
		*made = json_stringn_nocheck(sbuf_str(&b), b.len);
		break;
	}
	case F_CALL:
		if (!argv[0].j && !argv[0].o)
			*err = xstrdup("call of nil");
		else
			*err = xasprintf("non-function of type %s", go_type(argv[0]));
		return -1;
	case F_EQ:
		if (argc < 2) {
			*err = xstrdup("missing argument for comparison");
			return -1;
		}
		for (size_t i = 1; i < argc && !truth; i++)
			if (go_eq(argv[0], argv[i], &truth, err) < 0)
				return -1;
		*made = json_boolean(truth);
		break;
	case F_NE:
		if (go_eq(argv[0], argv[1], &truth, err) < 0)
			return -1;
		*made = json_boolean(!truth);
		break;
	case F_LT:
	case F_GE:
		if (go_lt(argv[0], argv[1], &truth, err) < 0)
			return -1;
		*made = json_boolean(f == F_LT ? truth : !truth);
		break;
	case F_LE:
	case F_GT: {
		bool eq = false;
		if (go_lt(argv[0], argv[1], &truth, err) < 0)
			return -1;
		if (!truth && go_eq(argv[0], argv[1], &eq, err) < 0)
			return -1;
		truth = truth || eq;
		*made = json_boolean(f == F_LE ? truth : !truth);
		break;
	}
	case F_JSON:
		go_json_encode(&b, argv[0]);
		*made = json_stringn_nocheck(sbuf_str(&b), b.len);
		break;
	case F_SPLIT: {
		const char *s = json_string_value(argv[0].j), *sep = json_string_value(argv[1].j);
		size_t sl = json_string_length(argv[0].j), pl = json_string_length(argv[1].j);
		*made = json_array();
		if (pl == 0) {
			for (size_t i = 0; i < sl;) {
				int w;
				utf8_decode(s + i, sl - i, &w);
				json_array_append_new(*made,
						      json_stringn_nocheck(s + i, (size_t)w));
				i += (size_t)w;
			}
		} else {
			size_t i = 0;
			for (;;) {
				const char *x = i <= sl ? memmem(s + i, sl - i, sep, pl) : NULL;
				size_t end = x ? (size_t)(x - s) : sl;
				json_array_append_new(*made, json_stringn_nocheck(s + i, end - i));
				if (!x)
					break;
				i = end + pl;
			}
		}
		*ret = (struct tval){.j = *made, .kind = 'a'};
		return 0;
	}
	case F_JOIN: {
		size_t i;
		json_t *e;
		json_array_foreach (argv[0].j, i, e) {
			if (i)
				sbuf_add(&b, json_string_value(argv[1].j),
					 json_string_length(argv[1].j));
			sbuf_add(&b, json_string_value(e), json_string_length(e));
		}
		*made = json_stringn_nocheck(sbuf_str(&b), b.len);
		break;
	}
	case F_TITLE:
		title_case(&b, json_string_value(argv[0].j), json_string_length(argv[0].j));
		*made = json_stringn_nocheck(sbuf_str(&b), b.len);
		break;
	case F_LOWER:
	case F_UPPER: {
		const char *s = json_string_value(argv[0].j);
		size_t sl = json_string_length(argv[0].j);
		for (size_t i = 0; i < sl; i++)
			sbuf_addc(&b, (char)(f == F_LOWER ? tolower((unsigned char)s[i])
							  : toupper((unsigned char)s[i])));
		*made = json_stringn_nocheck(sbuf_str(&b), b.len);
		break;
	}
	case F_PAD: {
		int64_t pre = json_integer_value(argv[1].j), suf = json_integer_value(argv[2].j);
		if (json_string_length(argv[0].j) == 0) {
			*ret = argv[0];
			return 0;
		}
		if (pre < 0 || suf < 0) {
			*err = xstrdup("strings: negative Repeat count");
			return -1;
		}
		if (pre > 1 << 20 || suf > 1 << 20) {
			*err = xstrdup("padding too large");
			return -1;
		}
		sbuf_addn(&b, ' ', (size_t)pre);
		sbuf_add(&b, json_string_value(argv[0].j), json_string_length(argv[0].j));
		sbuf_addn(&b, ' ', (size_t)suf);
		*made = json_stringn_nocheck(sbuf_str(&b), b.len);
		break;
	}
	case F_TRUNCATE: {
		int64_t l = json_integer_value(argv[1].j);
		size_t sl = json_string_length(argv[0].j);
		if ((int64_t)sl < l) {
			*ret = argv[0];
			return 0;
		}
		if (l < 0) {
			*err = xasprintf("runtime error: slice bounds out of range [:%" PRId64 "]",
					 l);
			return -1;
		}
		*made = json_stringn_nocheck(json_string_value(argv[0].j), (size_t)l);
		break;
	}
	default:
		*err = xstrdup("not a function");
		return -1;
	}
	if (!*made)
		cli_oom();
	*ret = (struct tval){.j = *made};
	return 0;
}
