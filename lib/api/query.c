/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Query parameters with Docker's rules (httputils.BoolValue, Int64ValueOrDefault), the filters=
 * argument in both of its JSON forms, and since/until times.
 */
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <math.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "server-internal.h"
#include "base/banned.h"

const char *berth_http_query(const struct berth_http_request *req, const char *name)
{
	ssize_t i = http_query_find(&req->query, name);

	return i < 0 ? NULL : req->query.values[i][0];
}

const char *const *berth_http_query_all(const struct berth_http_request *req, const char *name)
{
	ssize_t i = http_query_find(&req->query, name);

	return i < 0 ? NULL : (const char *const *)req->query.values[i];
}

bool berth_http_query_has(const struct berth_http_request *req, const char *name)
{
	return http_query_find(&req->query, name) >= 0;
}

bool berth_api_parse_bool(const char *s)
{
	static const char *const falsy[] = {"", "0", "no", "false", "none"};
	size_t n;

	if (!s)
		return false;
	while (isspace((unsigned char)*s))
		s++;
	n = strlen(s);
	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	for (size_t i = 0; i < ARRAY_SIZE(falsy); i++)
		if (strlen(falsy[i]) == n && strncasecmp(s, falsy[i], n) == 0)
			return false;
	return true;
}

bool berth_http_query_bool(const struct berth_http_request *req, const char *name)
{
	return berth_api_parse_bool(berth_http_query(req, name));
}

bool berth_http_query_bool_or_default(const struct berth_http_request *req, const char *name,
				      bool def)
{
	if (!berth_http_query_has(req, name))
		return def;
	return berth_http_query_bool(req, name);
}

int berth_http_query_int64(const struct berth_http_request *req, const char *name, int64_t def,
			   int64_t min, int64_t max, int64_t *ret, struct berth_error **err)
{
	const char *v = berth_http_query(req, name);
	int64_t n;
	int r;

	if (!v || !*v) {
		*ret = def;
		return 0;
	}
	r = berth_parse_int64(v, min, max, &n);
	if (r == -ERANGE)
		return berth_error_set(
			err, EINVAL, "invalid value for '%s': \"%s\" is out of range [%lld, %lld]",
			name, v, (long long)min, (long long)max);
	if (r < 0)
		return berth_error_set(err, EINVAL,
				       "invalid value for '%s': \"%s\" is not an integer", name, v);
	*ret = n;
	return 0;
}

/* ---- filters ----------------------------------------------------------------------------- */

struct berth_filters {
	size_t n;
	char **keys;
	char ***values; /* per key, NULL-terminated */
	bool **truth;	/* per value: the map form's bool (true in the legacy form) */
};

void berth_filters_free(struct berth_filters *f)
{
	if (!f)
		return;
	for (size_t i = 0; i < f->n; i++) {
		free(f->keys[i]);
		berth_strv_free(f->values[i]);
		free(f->truth[i]);
	}
	free(f->keys);
	free(f->values);
	free(f->truth);
	free(f);
}

static int filters_add_key(struct berth_filters *f, const char *key)
{
	char **k = realloc(f->keys, (f->n + 1) * sizeof(*k));
	if (!k)
		return -ENOMEM;
	f->keys = k;
	char ***v = realloc(f->values, (f->n + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	f->values = v;
	bool **t = realloc(f->truth, (f->n + 1) * sizeof(*t));
	if (!t)
		return -ENOMEM;
	f->truth = t;
	f->keys[f->n] = strdup(key);
	f->values[f->n] = calloc(1, sizeof(char *));
	f->truth[f->n] = NULL;
	if (!f->keys[f->n] || !f->values[f->n]) {
		free(f->keys[f->n]);
		free(f->values[f->n]);
		return -ENOMEM;
	}
	f->n++;
	return 0;
}

static int filters_add_value(struct berth_filters *f, const char *value, bool truth)
{
	size_t i = f->n - 1, n = berth_strv_length(f->values[i]);

	if (berth_strv_contains(f->values[i], value))
		return 0; /* a set, as Docker's map */
	bool *t = realloc(f->truth[i], (n + 1) * sizeof(*t));
	if (!t)
		return -ENOMEM;
	f->truth[i] = t;
	t[n] = truth;
	return berth_strv_push(&f->values[i], value);
}

/* form: 0 map of bools, 1 legacy lists.  -EINVAL when the document is not of that form. */
static int filters_from(json_t *j, int form, struct berth_filters **ret)
{
	struct berth_filters *f = calloc(1, sizeof(*f));
	const char *key;
	json_t *val;

	if (!f)
		return -ENOMEM;
	json_object_foreach (j, key, val) {
		int r = filters_add_key(f, key);
		if (r < 0)
			goto fail;
		if (json_is_null(val))
			continue;
		if (form == 0) {
			const char *v;
			json_t *b;
			if (!json_is_object(val))
				goto bad;
			json_object_foreach (val, v, b) {
				if (!json_is_boolean(b))
					goto bad;
				if (filters_add_value(f, v, json_is_true(b)) < 0)
					goto fail;
			}
		} else {
			size_t idx;
			json_t *s;
			if (!json_is_array(val))
				goto bad;
			json_array_foreach (val, idx, s) {
				if (!json_is_string(s))
					goto bad;
				if (filters_add_value(f, json_string_value(s), true) < 0)
					goto fail;
			}
		}
	}
	*ret = f;
	return 0;
bad:
	berth_filters_free(f);
	return -EINVAL;
fail:
	berth_filters_free(f);
	return -ENOMEM;
}

int berth_filters_parse(const char *text, struct berth_filters **ret, struct berth_error **err)
{
	_cleanup_json_ json_t *j = NULL;
	struct berth_filters *f = NULL;
	json_error_t je;
	int r;

	if (!text || !*text) {
		f = calloc(1, sizeof(*f));
		if (!f)
			return berth_error_set(err, ENOMEM, "out of memory");
		*ret = f;
		return 0;
	}
	j = json_loads(text, JSON_DECODE_ANY, &je);
	if (!j || !(json_is_object(j) || json_is_null(j)))
		return berth_error_set(err, EINVAL, "invalid filter");
	if (json_is_null(j)) {
		f = calloc(1, sizeof(*f));
		if (!f)
			return berth_error_set(err, ENOMEM, "out of memory");
		*ret = f;
		return 0;
	}
	r = filters_from(j, 0, &f);
	if (r == -EINVAL)
		r = filters_from(j, 1, &f);
	if (r == -EINVAL)
		return berth_error_set(err, EINVAL, "invalid filter");
	if (r < 0)
		return berth_error_set(err, ENOMEM, "out of memory");
	*ret = f;
	return 0;
}

int berth_http_query_filters(const struct berth_http_request *req, struct berth_filters **ret,
			     struct berth_error **err)
{
	return berth_filters_parse(berth_http_query(req, "filters"), ret, err);
}

static ssize_t filters_find(const struct berth_filters *f, const char *key)
{
	for (size_t i = 0; f && i < f->n; i++)
		if (strcmp(f->keys[i], key) == 0)
			return (ssize_t)i;
	return -1;
}

size_t berth_filters_count(const struct berth_filters *f)
{
	return f ? f->n : 0;
}

bool berth_filters_contains(const struct berth_filters *f, const char *key)
{
	return filters_find(f, key) >= 0;
}

const char *const *berth_filters_values(const struct berth_filters *f, const char *key)
{
	static const char *const empty[] = {NULL};
	ssize_t i = filters_find(f, key);

	return i < 0 ? empty : (const char *const *)f->values[i];
}

int berth_filters_validate(const struct berth_filters *f, const char *const *accepted,
			   struct berth_error **err)
{
	for (size_t i = 0; f && i < f->n; i++) {
		bool ok = false;
		for (size_t k = 0; accepted && accepted[k]; k++)
			if (strcmp(accepted[k], f->keys[i]) == 0)
				ok = true;
		if (!ok)
			return berth_error_set(err, EINVAL, "invalid filter '%s'", f->keys[i]);
	}
	return 0;
}

bool berth_filters_exact_match(const struct berth_filters *f, const char *key, const char *source)
{
	ssize_t i = filters_find(f, key);

	if (i < 0 || !f->values[i][0])
		return true;
	for (size_t k = 0; source && f->values[i][k]; k++)
		if (strcmp(f->values[i][k], source) == 0)
			return f->truth[i][k];
	return false;
}

bool berth_filters_fuzzy_match(const struct berth_filters *f, const char *key, const char *source)
{
	ssize_t i = filters_find(f, key);

	if (berth_filters_exact_match(f, key, source))
		return true;
	for (size_t k = 0; source && f->values[i][k]; k++)
		if (berth_str_has_prefix(source, f->values[i][k]))
			return true;
	return false;
}

bool berth_filters_match(const struct berth_filters *f, const char *key, const char *source)
{
	ssize_t i = filters_find(f, key);

	if (berth_filters_exact_match(f, key, source))
		return true;
	for (size_t k = 0; source && f->values[i][k]; k++) {
		regex_t re;

		/* Go's RE2 and POSIX ERE agree on what filters use; one that does not compile
		 * matches nothing, as in docker */
		if (regcomp(&re, f->values[i][k], REG_EXTENDED | REG_NOSUB) != 0)
			continue;
		bool ok = regexec(&re, source, 0, NULL, 0) == 0;
		regfree(&re);
		if (ok)
			return true;
	}
	return false;
}

bool berth_filters_match_kv(const struct berth_filters *f, const char *key,
			    const struct berth_key_value *kv, size_t n)
{
	ssize_t i = filters_find(f, key);

	if (i < 0 || !f->values[i][0])
		return true;
	if (n == 0)
		return false;
	for (size_t k = 0; f->values[i][k]; k++) {
		const char *want = f->values[i][k], *eq = strchr(want, '=');
		size_t klen = eq ? (size_t)(eq - want) : strlen(want);
		bool found = false;
		for (size_t m = 0; m < n && !found; m++) {
			if (strlen(kv[m].key) != klen || strncmp(kv[m].key, want, klen) != 0)
				continue;
			if (eq && strcmp(kv[m].value ? kv[m].value : "", eq + 1) != 0)
				return false;
			found = true;
		}
		if (!found)
			return false;
	}
	return true;
}

int berth_filters_bool(const struct berth_filters *f, const char *key, bool def, bool *ret,
		       struct berth_error **err)
{
	ssize_t i = filters_find(f, key);
	bool is_true = false, is_false = false;

	if (i < 0) {
		*ret = def;
		return 0;
	}
	if (!f->values[i][0])
		return berth_error_set(err, EINVAL, "invalid filter '%s'", key);
	for (size_t k = 0; f->values[i][k]; k++) {
		const char *v = f->values[i][k];
		if (!f->truth[i][k])
			continue;
		if (strcmp(v, "1") == 0 || strcmp(v, "true") == 0)
			is_true = true;
		if (strcmp(v, "0") == 0 || strcmp(v, "false") == 0)
			is_false = true;
	}
	if (is_true == is_false) {
		/* Go prints the values as "[a b]" */
		struct obuf b = {0};
		for (size_t k = 0; f->values[i][k]; k++)
			obuf_printf(&b, "%s%s", k ? " " : "", f->values[i][k]);
		int r = berth_error_set(err, EINVAL, "invalid filter '%s=[%s]'", key,
					b.p ? b.p : "");
		free(b.p);
		return r;
	}
	*ret = is_true;
	return 0;
}

/* ---- times ------------------------------------------------------------------------------- */

/* Go's time.ParseDuration: [-+]? (number unit)+, or "0". */
static int parse_go_duration(const char *s, int64_t *ret_ns)
{
	static const struct {
		const char *unit;
		double ns;
	} units[] = {
		{"ns", 1},   {"us", 1e3}, {"\xc2\xb5s", 1e3}, {"\xce\xbcs", 1e3},
		{"ms", 1e6}, {"s", 1e9},  {"m", 60e9},	      {"h", 3600e9},
	};
	bool neg = false;
	double total = 0;

	if (*s == '-' || *s == '+')
		neg = *s++ == '-';
	if (strcmp(s, "0") == 0) {
		*ret_ns = 0;
		return 0;
	}
	if (!*s)
		return -EINVAL;
	while (*s) {
		char *end;
		if (!isdigit((unsigned char)*s) && *s != '.')
			return -EINVAL;
		if (*s == '.' && !isdigit((unsigned char)s[1]))
			return -EINVAL;
		double v = strtod(s, &end);
		if (end == s)
			return -EINVAL;
		s = end;
		size_t best = 0, best_len = 0;
		for (size_t i = 0; i < ARRAY_SIZE(units); i++) {
			size_t l = strlen(units[i].unit);
			if (strncmp(s, units[i].unit, l) == 0 && l > best_len) {
				best = i;
				best_len = l;
			}
		}
		if (!best_len)
			return -EINVAL;
		total += v * units[best].ns;
		s += best_len;
	}
	if (total > 9.2e18)
		return -ERANGE;
	*ret_ns = (int64_t)(neg ? -total : total);
	return 0;
}

static int parse_unix(const char *s, int64_t *ret_ns)
{
	const char *dot = strchr(s, '.');
	int64_t sec = 0, nsec = 0;
	size_t n = dot ? (size_t)(dot - s) : strlen(s);

	if (n == 0 || n > 18)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -EINVAL;
		sec = sec * 10 + (s[i] - '0');
	}
	if (dot) {
		const char *f = dot + 1;
		size_t fl = strlen(f);
		if (fl > 20)
			return -EINVAL;
		for (size_t i = 0; i < fl; i++) {
			if (!isdigit((unsigned char)f[i]))
				return -EINVAL;
			if (i < 9)
				nsec = nsec * 10 + (f[i] - '0');
		}
		for (size_t i = fl; i < 9; i++)
			nsec *= 10;
	}
	if (sec > INT64_MAX / 1000000000 - 1)
		return -ERANGE;
	*ret_ns = sec * 1000000000 + nsec;
	return 0;
}

static int digits(const char **p, int n, int *ret)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)(*p)[i]))
			return -EINVAL;
		v = v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	*ret = v;
	return 0;
}

/* RFC 3339 and the shortened forms docker accepts; local time when there is no zone. */
static int parse_rfc3339(const char *s, int64_t *ret_ns)
{
	struct tm tm = {0};
	int y, mo, d, h = 0, mi = 0, sec = 0;
	int64_t nsec = 0, offset = 0;
	bool zone = false;
	const char *p = s;

	if (digits(&p, 4, &y) < 0 || *p++ != '-' || digits(&p, 2, &mo) < 0 || *p++ != '-' ||
	    digits(&p, 2, &d) < 0)
		return -EINVAL;
	if (*p == 'T') {
		p++;
		if (digits(&p, 2, &h) < 0)
			return -EINVAL;
		if (*p == ':') {
			p++;
			if (digits(&p, 2, &mi) < 0)
				return -EINVAL;
			if (*p == ':') {
				p++;
				if (digits(&p, 2, &sec) < 0)
					return -EINVAL;
				if (*p == '.') {
					p++;
					int nd = 0;
					if (!isdigit((unsigned char)*p))
						return -EINVAL;
					while (isdigit((unsigned char)*p)) {
						if (nd++ < 9)
							nsec = nsec * 10 + (*p - '0');
						p++;
					}
					for (; nd < 9; nd++)
						nsec *= 10;
				}
			}
		}
	}
	if (*p == 'Z' || *p == 'z') {
		zone = true;
		p++;
	} else if (*p == '+' || *p == '-') {
		int sign = *p++ == '-' ? -1 : 1, oh, om;
		if (digits(&p, 2, &oh) < 0 || *p++ != ':' || digits(&p, 2, &om) < 0)
			return -EINVAL;
		zone = true;
		offset = sign * ((int64_t)oh * 3600 + om * 60);
	}
	if (*p || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
		return -EINVAL;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	time_t t;
	if (zone) {
		t = timegm(&tm);
		t -= (time_t)offset;
	} else {
		tm.tm_isdst = -1;
		t = mktime(&tm);
	}
	if (t == (time_t)-1 && !(y == 1969 && mo == 12 && d == 31))
		return -EINVAL;
	/* nanoseconds in an int64 reach from 1677 to 2262 (Go's UnixNano has the same range) */
	if ((int64_t)t < INT64_MIN / 1000000000 + 1 || (int64_t)t > INT64_MAX / 1000000000 - 1)
		return -ERANGE;
	*ret_ns = (int64_t)t * 1000000000 + nsec;
	return 0;
}

int berth_api_parse_time(const char *s, int64_t now_ns, int64_t *ret_ns, struct berth_error **err)
{
	int64_t v;

	if (!s || !*s)
		return berth_error_set(err, EINVAL,
				       "failed to parse value as time or duration: value is empty");
	if (strcmp(s, "0") != 0 && parse_go_duration(s, &v) == 0) {
		*ret_ns = now_ns - v;
		return 0;
	}
	if (parse_unix(s, &v) == 0) {
		*ret_ns = v;
		return 0;
	}
	if (parse_rfc3339(s, &v) == 0) {
		*ret_ns = v;
		return 0;
	}
	/* api/types/time.GetTimestamp's words (a value with a dash that fails RFC 3339 gets Go's
	 * parse error there; this one for all) */
	return berth_error_set(err, EINVAL, "failed to parse value as time or duration: \"%s\"", s);
}
