/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Flags as spf13/pflag parses them for docker: "--name=value", "--name value", "-n value",
 * "-nvalue", "-n=value", combined booleans "-it", "--" ends the flags, booleans take no value
 * but accept "--bool=false", repeated flags keep the last value (lists keep every one).  Messages
 * are pflag's ("unknown flag: --foo", "flag needs an argument: 'n' in -n", "invalid argument
 * \"x\" for \"-n, --last\" flag: strconv.ParseInt: parsing \"x\": invalid syntax").
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "runopts.h"
#include "units.h"
#include "base/banned.h"

struct parse_state {
	const struct cli_flag *flags;
	size_t n;
	struct flag_value *vals;
	const struct cli_flag *globals;
	size_t ng;
	struct flag_value *gvals;
	bool help;
};

static bool lookup(struct parse_state *ps, const char *name, size_t len, char shorthand,
		   const struct cli_flag **ret, struct flag_value **ret_v)
{
	for (size_t i = 0; i < ps->n; i++) {
		const struct cli_flag *f = &ps->flags[i];
		if ((name && strlen(f->name) == len && memcmp(f->name, name, len) == 0) ||
		    (!name && f->shorthand && f->shorthand == shorthand)) {
			*ret = f;
			*ret_v = &ps->vals[i];
			return true;
		}
	}
	for (size_t i = 0; i < ps->ng; i++) {
		const struct cli_flag *f = &ps->globals[i];
		if ((name && strlen(f->name) == len && memcmp(f->name, name, len) == 0) ||
		    (!name && f->shorthand && f->shorthand == shorthand)) {
			*ret = f;
			*ret_v = &ps->gvals[i];
			return true;
		}
	}
	return false;
}

/* strconv.ParseBool */
static int parse_bool(const char *s, bool *ret)
{
	static const char *const t[] = {"1", "t", "T", "TRUE", "true", "True"};
	static const char *const f[] = {"0", "f", "F", "FALSE", "false", "False"};

	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		if (strcmp(s, t[i]) == 0) {
			*ret = true;
			return 0;
		}
		if (strcmp(s, f[i]) == 0) {
			*ret = false;
			return 0;
		}
	}
	return -1;
}

/* strconv.ParseInt/ParseUint(s, 0, 64): base prefixes, underscores after a prefix */
static int parse_int_go(const char *s, bool is_signed, int64_t *ret_i, uint64_t *ret_u,
			const char **why)
{
	const char *p = s;
	bool neg = false, any = false, us_ok = false;
	unsigned base = 10;
	uint64_t v = 0, cutoff;

	*why = "invalid syntax";
	if (*p == '+' || *p == '-') {
		if (!is_signed && *p == '-')
			return -1;
		neg = *p++ == '-';
	}
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		base = 16;
		p += 2;
		us_ok = true;
	} else if (p[0] == '0' && (p[1] == 'o' || p[1] == 'O')) {
		base = 8;
		p += 2;
		us_ok = true;
	} else if (p[0] == '0' && (p[1] == 'b' || p[1] == 'B')) {
		base = 2;
		p += 2;
		us_ok = true;
	} else if (p[0] == '0' && p[1]) {
		base = 8;
		p++;
		us_ok = true;
		any = true;
	}
	cutoff = is_signed ? (neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX) : UINT64_MAX;
	bool range = false;
	for (; *p; p++) {
		int d;
		if (*p == '_' && us_ok)
			continue;
		if (isdigit((unsigned char)*p))
			d = *p - '0';
		else if (isalpha((unsigned char)*p))
			d = tolower((unsigned char)*p) - 'a' + 10;
		else
			return -1;
		if ((unsigned)d >= base)
			return -1;
		any = true;
		if (v > (cutoff - (unsigned)d) / base)
			range = true;
		else
			v = v * base + (unsigned)d;
	}
	if (!any)
		return -1;
	if (range) {
		*why = "value out of range";
		return -1;
	}
	if (is_signed)
		*ret_i = neg ? (int64_t)(0 - v) : (int64_t)v;
	else
		*ret_u = v;
	return 0;
}

static char *flag_display_name(const struct cli_flag *f)
{
	if (f->shorthand)
		return xasprintf("-%c, --%s", f->shorthand, f->name);
	return xasprintf("--%s", f->name);
}

static int set_value(const struct cli_flag *f, struct flag_value *v, const char *value, char **err)
{
	char *why = NULL;
	const char *cwhy = NULL;
	int r = 0;

	switch (f->kind) {
	case FK_BOOL:
		if (parse_bool(value, &v->b) < 0) {
			_cleanup_sbuf_ struct sbuf q = SBUF_INIT;
			go_quote(&q, value, strlen(value));
			why = xasprintf("strconv.ParseBool: parsing %s: invalid syntax",
					sbuf_str(&q));
			r = -1;
		}
		break;
	case FK_INT:
		if (parse_int_go(value, true, &v->i, NULL, &cwhy) < 0) {
			_cleanup_sbuf_ struct sbuf q = SBUF_INIT;
			go_quote(&q, value, strlen(value));
			why = xasprintf("strconv.ParseInt: parsing %s: %s", sbuf_str(&q), cwhy);
			r = -1;
		}
		break;
	case FK_UINT:
		if (parse_int_go(value, false, NULL, &v->u, &cwhy) < 0) {
			_cleanup_sbuf_ struct sbuf q = SBUF_INIT;
			go_quote(&q, value, strlen(value));
			why = xasprintf("strconv.ParseUint: parsing %s: %s", sbuf_str(&q), cwhy);
			r = -1;
		}
		break;
	case FK_FLOAT: {
		char *end;
		errno = 0;
		v->f = strtod(value, &end);
		if (!*value || *end || errno || isspace((unsigned char)*value)) {
			_cleanup_sbuf_ struct sbuf q = SBUF_INIT;
			go_quote(&q, value, strlen(value));
			why = xasprintf("strconv.ParseFloat: parsing %s: %s", sbuf_str(&q),
					errno == ERANGE ? "value out of range" : "invalid syntax");
			r = -1;
		}
		break;
	}
	case FK_STRING:
	case FK_CUSTOM:
	case FK_LIST:
		if (f->check && f->check(value, &why) < 0)
			r = -1;
		break;
	}
	if (r < 0) {
		_cleanup_free_ char *name = flag_display_name(f);
		_cleanup_sbuf_ struct sbuf q = SBUF_INIT;
		go_quote(&q, value, strlen(value));
		*err = xasprintf("invalid argument %s for \"%s\" flag: %s", sbuf_str(&q), name,
				 why ? why : "invalid value");
		free(why);
		return -1;
	}
	v->set = true;
	v->s = value;
	if (f->kind == FK_LIST) {
		v->v = xrealloc(v->v, (v->n + 2) * sizeof(*v->v));
		v->v[v->n++] = value;
		v->v[v->n] = NULL;
	}
	return 0;
}

static int parse_long(struct parse_state *ps, const char *s, int *i, int argc, char **argv,
		      char **err)
{
	const char *name = s + 2, *eq;
	const struct cli_flag *f;
	struct flag_value *v;
	const char *value;

	if (!*name || *name == '-' || *name == '=') {
		*err = xasprintf("bad flag syntax: %s", s);
		return -1;
	}
	eq = strchr(name, '=');
	size_t len = eq ? (size_t)(eq - name) : strlen(name);
	if (!lookup(ps, name, len, 0, &f, &v)) {
		*err = xasprintf("unknown flag: --%.*s", (int)len, name);
		return -1;
	}
	if (eq) {
		value = eq + 1;
	} else if (f->kind == FK_BOOL) {
		value = "true";
	} else if (*i + 1 < argc) {
		value = argv[++*i];
	} else {
		*err = xasprintf("flag needs an argument: %s", s);
		return -1;
	}
	if (set_value(f, v, value, err) < 0)
		return -1;
	if (f->flags & FLAG_DEPRECATED)
		out_printf("Flag --%s has been deprecated, %s\n", f->name, f->usage);
	if (strcmp(f->name, "help") == 0 && v->b)
		ps->help = true;
	return 0;
}

static int parse_short(struct parse_state *ps, const char *s, int *i, int argc, char **argv,
		       char **err)
{
	const char *sh = s + 1;
	int next = *i; /* pflag hands every shorthand the same remaining args */

	while (*sh) {
		const struct cli_flag *f;
		struct flag_value *v;
		const char *value;
		char c = *sh;

		if (!lookup(ps, NULL, 0, c, &f, &v)) {
			_cleanup_sbuf_ struct sbuf q = SBUF_INIT;
			char cs[2] = {c, 0};
			/* Go's %q of a byte: 'x' */
			sbuf_addc(&q, '\'');
			if (c == '\'' || c == '\\')
				sbuf_addc(&q, '\\');
			sbuf_adds(&q, cs);
			sbuf_addc(&q, '\'');
			*err = xasprintf("unknown shorthand flag: %s in -%s", sbuf_str(&q), s + 1);
			return -1;
		}
		if (sh[1] == '=') {
			value = sh + 2;
			sh += strlen(sh);
		} else if (f->kind == FK_BOOL) {
			value = "true";
			sh++;
		} else if (sh[1]) {
			value = sh + 1;
			sh += strlen(sh);
		} else if (*i + 1 < argc) {
			value = argv[*i + 1];
			next = *i + 1;
			sh++;
		} else {
			*err = xasprintf("flag needs an argument: '%c' in -%s", c, s + 1);
			return -1;
		}
		if (c == 'h' && strcmp(f->name, "help") == 0) {
			/* docker's root command writes pflag's notice to stderr, its commands to
			 * stdout */
			if (ps->flags == root_flags)
				err_printf("Flag shorthand -h has been deprecated, use --help\n");
			else
				out_puts("Flag shorthand -h has been deprecated, use --help\n");
		}
		if (set_value(f, v, value, err) < 0)
			return -1;
		if (strcmp(f->name, "help") == 0 && v->b)
			ps->help = true;
	}
	*i = next;
	return 0;
}

int flags_parse(const struct cli_flag *flags, size_t n, struct flag_value *vals,
		const struct cli_flag *globals, size_t ng, struct flag_value *gvals,
		bool interspersed, int argc, char **argv, char ***ret_args, int *ret_argc,
		int *ret_dash_at, bool *ret_help, char **err)
{
	struct parse_state ps = {flags, n, vals, globals, ng, gvals, false};
	char **rest = xcalloc((size_t)argc + 1, sizeof(*rest));
	int nrest = 0;

	*ret_dash_at = -1;
	for (int i = 0; i < argc; i++) {
		const char *s = argv[i];
		if (s[0] != '-' || s[1] == '\0') {
			if (!interspersed) {
				while (i < argc)
					rest[nrest++] = argv[i++];
				break;
			}
			rest[nrest++] = argv[i];
			continue;
		}
		if (s[1] == '-') {
			if (s[2] == '\0') {
				*ret_dash_at = nrest;
				while (++i < argc)
					rest[nrest++] = argv[i];
				break;
			}
			if (parse_long(&ps, s, &i, argc, argv, err) < 0)
				goto fail;
		} else if (parse_short(&ps, s, &i, argc, argv, err) < 0) {
			goto fail;
		}
	}
	rest[nrest] = NULL;
	*ret_args = rest;
	*ret_argc = nrest;
	*ret_help = ps.help;
	return 0;
fail:
	free(rest);
	return -1;
}

/* ---- help ------------------------------------------------------------------------------------- */

/* pflag's wrapN: up to i bytes at a space, slop more allowed to finish the text */
static void wrap_n(const char *s, size_t len, size_t i, size_t slop, size_t *ret_line,
		   size_t *ret_rest)
{
	if (i + slop > len) {
		*ret_line = len;
		*ret_rest = len;
		return;
	}
	ssize_t w = -1, nl = -1;
	for (size_t k = 0; k < i && k < len; k++) {
		if (s[k] == ' ' || s[k] == '\t' || s[k] == '\n')
			w = (ssize_t)k;
		if (s[k] == '\n')
			nl = (ssize_t)k;
	}
	if (w <= 0) {
		*ret_line = len;
		*ret_rest = len;
		return;
	}
	if (nl > 0 && nl < w) {
		*ret_line = (size_t)nl;
		*ret_rest = (size_t)nl + 1;
		return;
	}
	*ret_line = (size_t)w;
	*ret_rest = (size_t)w + 1;
}

static void add_indented(struct sbuf *out, const char *s, size_t len, size_t indent)
{
	for (size_t k = 0; k < len; k++) {
		sbuf_addc(out, s[k]);
		if (s[k] == '\n')
			sbuf_addn(out, ' ', indent);
	}
}

/* pflag's wrap(i, w, s): the first line is not indented (the caller did it) */
static void wrap(struct sbuf *out, size_t i, int w, const char *s)
{
	size_t len = strlen(s);

	if (w == 0) {
		add_indented(out, s, len, i);
		return;
	}
	long wr = (long)w - (long)i;
	if (wr < 24) {
		i = 16;
		wr = (long)w - (long)i;
		sbuf_addc(out, '\n');
		sbuf_addn(out, ' ', i);
	}
	if (wr < 24) {
		/* no room to wrap: newlines become newline + the 16-column indent */
		for (size_t k = 0; k < len; k++) {
			if (s[k] == '\n') {
				sbuf_addc(out, '\n');
				sbuf_addn(out, ' ', i);
			} else {
				sbuf_addc(out, s[k]);
			}
		}
		return;
	}
	size_t slop = 5, width = (size_t)wr - slop, line, rest;
	wrap_n(s, len, width, slop, &line, &rest);
	add_indented(out, s, line, i);
	s += rest;
	len -= rest;
	while (len > 0) {
		wrap_n(s, len, width, slop, &line, &rest);
		sbuf_addc(out, '\n');
		sbuf_addn(out, ' ', i);
		add_indented(out, s, line, i);
		s += rest;
		len -= rest;
	}
}

bool flag_hidden(const struct cli_flag *f)
{
	/* a flag that needs a newer API than berth speaks: docker hides it from an older daemon */
	return (f->flags & FLAG_HIDDEN) ||
	       (f->min_api &&
		berth_api_version_compare(f->min_api, BERTH_API_VERSION_MAX_STRING) > 0);
}

static int cmp_flag(const void *a, const void *b)
{
	return strcmp((*(const struct cli_flag *const *)a)->name,
		      (*(const struct cli_flag *const *)b)->name);
}

void flags_usage(struct sbuf *out, const struct cli_flag *flags, size_t n, int cols,
		 const char *config_default)
{
	const struct cli_flag **sorted = xcalloc(n ? n : 1, sizeof(*sorted));
	struct sbuf *lines = xcalloc(n ? n : 1, sizeof(*lines));
	size_t *sidx = xcalloc(n ? n : 1, sizeof(*sidx));
	size_t k = 0, maxlen = 0;

	for (size_t i = 0; i < n; i++)
		if (!flag_hidden(&flags[i]))
			sorted[k++] = &flags[i];
	qsort(sorted, k, sizeof(*sorted), cmp_flag);
	for (size_t i = 0; i < k; i++) {
		const struct cli_flag *f = sorted[i];
		struct sbuf *l = &lines[i];
		if (f->shorthand)
			sbuf_printf(l, "  -%c, --%s", f->shorthand, f->name);
		else
			sbuf_printf(l, "      --%s", f->name);
		if (f->kind != FK_BOOL && f->type)
			sbuf_printf(l, " %s", f->type);
		sidx[i] = l->len;
		/* pflag counts the separator it puts there */
		if (l->len + 1 > maxlen)
			maxlen = l->len + 1;
		sbuf_adds(l, f->usage);
		const char *def = f->def;
		if (strcmp(f->name, "config") == 0 && config_default)
			def = config_default;
		if (def) {
			if (f->kind == FK_STRING) {
				sbuf_adds(l, " (default ");
				go_quote(l, def, strlen(def));
				sbuf_addc(l, ')');
			} else {
				sbuf_printf(l, " (default %s)", def);
			}
		}
	}
	for (size_t i = 0; i < k; i++) {
		struct sbuf *l = &lines[i];
		sbuf_add(out, l->p, sidx[i]);
		sbuf_addc(out, ' ');
		sbuf_addn(out, ' ', maxlen - sidx[i]);
		sbuf_addc(out, ' ');
		wrap(out, maxlen + 2, cols, l->p + sidx[i]);
		sbuf_addc(out, '\n');
		sbuf_release(l);
	}
	free(lines);
	free(sidx);
	free(sorted);
}

/* ---- docker's option types ------------------------------------------------------------------------ */

int check_filter(const char *value, char **err)
{
	if (*value && !strchr(value, '=')) {
		*err = xasprintf("bad format of filter (expected name=value)");
		return -1;
	}
	return 0;
}

/* go-units RAMInBytes: "32m", "1.5g", "512", binary multiples; "invalid size: 'x'" */
int ram_in_bytes(const char *s, int64_t *ret)
{
	char *end;
	double v;

	errno = 0;
	if (!*s || isspace((unsigned char)*s))
		return -1;
	v = strtod(s, &end);
	if (end == s || errno || v < 0 || isnan(v))
		return -1;
	const char *u = end;
	double mul = 1;
	if (*u) {
		char c = (char)tolower((unsigned char)*u);
		const char *rest = u + 1;
		switch (c) {
		case 'b':
			mul = 1;
			rest = u + 1;
			if (*rest)
				return -1;
			break;
		case 'k':
			mul = 1024.0;
			break;
		case 'm':
			mul = 1024.0 * 1024;
			break;
		case 'g':
			mul = 1024.0 * 1024 * 1024;
			break;
		case 't':
			mul = 1024.0 * 1024 * 1024 * 1024;
			break;
		case 'p':
			mul = 1024.0 * 1024 * 1024 * 1024 * 1024;
			break;
		default:
			return -1;
		}
		if (c != 'b') {
			/* "k", "kb", "kib" (any case) */
			if (*rest && strcasecmp(rest, "b") != 0 && strcasecmp(rest, "ib") != 0)
				return -1;
		}
	}
	v *= mul;
	if (v > 9.2e18)
		return -1;
	*ret = (int64_t)v;
	return 0;
}

int check_bytes(const char *value, char **err)
{
	int64_t v;

	if (ram_in_bytes(value, &v) < 0) {
		*err = xasprintf("invalid size: '%s'", value);
		return -1;
	}
	return 0;
}

int check_bytes_or_unlimited(const char *value, char **err)
{
	if (strcmp(value, "-1") == 0)
		return 0;
	return check_bytes(value, err);
}

int check_decimal(const char *value, char **err)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(value, &end);
	if (!*value || *end || errno || isnan(v) || isinf(v)) {
		*err = xasprintf("failed to parse %s as a rational number", value);
		return -1;
	}
	if (v * 1e9 > 9.2e18 || v < 0) {
		*err = xstrdup("value is too precise");
		return -1;
	}
	return 0;
}

int check_duration(const char *value, char **err)
{
	int64_t ns;

	return go_parse_duration(value, &ns, err) < 0 ? -1 : 0;
}

int check_env(const char *value, char **err)
{
	if (value[0] == '=') {
		*err = xasprintf("invalid environment variable: %s", value);
		return -1;
	}
	return 0;
}

int check_label(const char *value, char **err)
{
	if (value[0] == '=') {
		*err = xasprintf("invalid label '%s': empty name", value);
		return -1;
	}
	return 0;
}

int check_key_value(const char *value, char **err)
{
	const char *eq = strchr(value, '=');

	if (!eq || eq == value) {
		*err = xasprintf("bad format for key-value: %s", value);
		return -1;
	}
	return 0;
}

int check_ulimit(const char *value, char **err)
{
	json_t *u = ulimit_parse(value, err);

	json_decref(u);
	return u ? 0 : -1;
}
