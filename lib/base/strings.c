/* SPDX-License-Identifier: Apache-2.0 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core.h"
#include "banned.h"

size_t berth_strv_length(char *const *v)
{
	size_t n = 0;

	while (v && v[n])
		n++;
	return n;
}

void berth_strv_free(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

int berth_strv_push(char ***v, const char *s)
{
	size_t n = berth_strv_length(*v);
	char *copy = strdup(s);
	char **nv;

	if (!copy)
		return -ENOMEM;
	nv = realloc(*v, (n + 2) * sizeof(char *));
	if (!nv) {
		free(copy);
		return -ENOMEM;
	}
	nv[n] = copy;
	nv[n + 1] = NULL;
	*v = nv;
	return 0;
}

bool berth_strv_contains(char *const *v, const char *s)
{
	for (size_t i = 0; v && v[i]; i++)
		if (strcmp(v[i], s) == 0)
			return true;
	return false;
}

int berth_parse_int64(const char *s, int64_t min, int64_t max, int64_t *ret)
{
	char *end;
	long long v;

	if (!s || !*s || isspace((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno == ERANGE)
		return -ERANGE;
	if (*end)
		return -EINVAL;
	if (v < min || v > max)
		return -ERANGE;
	*ret = v;
	return 0;
}

int berth_parse_uint64(const char *s, uint64_t *ret)
{
	char *end;
	unsigned long long v;

	if (!s || !isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno == ERANGE)
		return -ERANGE;
	if (*end)
		return -EINVAL;
	*ret = v;
	return 0;
}

int berth_parse_size(const char *s, int64_t *ret)
{
	static const struct {
		const char *unit;
		int shift;
	} units[] = {
		{"", 0},    {"b", 0},	 {"k", 10}, {"kb", 10}, {"kib", 10}, {"m", 20},
		{"mb", 20}, {"mib", 20}, {"g", 30}, {"gb", 30}, {"gib", 30}, {"t", 40},
		{"tb", 40}, {"tib", 40}, {"p", 50}, {"pb", 50}, {"pib", 50},
	};
	char *end;
	double v;

	if (!s || !isdigit((unsigned char)*s))
		return -EINVAL;
	/* digits with at most one point between digits, as docker's units take them: strtod
	 * would also take "0x10", "1e3", "1p3" and "1." */
	size_t digits = strspn(s, "0123456789.");
	const char *point = memchr(s, '.', digits);
	if (point && (!isdigit((unsigned char)point[1]) ||
		      memchr(point + 1, '.', digits - (size_t)(point + 1 - s))))
		return -EINVAL;
	if (s[digits] == 'x' || s[digits] == 'X' || s[digits] == 'e' || s[digits] == 'E')
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (end != s + digits)
		return -EINVAL;
	if (errno == ERANGE || !isfinite(v) || v < 0)
		return -ERANGE;
	while (*end == ' ')
		end++;
	for (size_t i = 0; i < ARRAY_SIZE(units); i++) {
		if (strcasecmp(end, units[i].unit) != 0)
			continue;
		v = v * (double)(1ULL << units[i].shift);
		if (v >= 9.2e18)
			return -ERANGE;
		*ret = (int64_t)v;
		return 0;
	}
	return -EINVAL;
}

char *berth_rfc3339_now(void)
{
	struct timespec ts;
	struct tm tm;
	char buf[64];
	char *s = NULL;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
	if (asprintf(&s, "%s.%09ldZ", buf, ts.tv_nsec) < 0)
		return NULL;
	return s;
}

void berth_hex_encode(char *out, const void *in, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	const unsigned char *b = in;

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[b[i] >> 4];
		out[2 * i + 1] = digits[b[i] & 15];
	}
	out[2 * n] = '\0';
}

char *berth_path_clean(const char *path)
{
	char *out = malloc(strlen(path) + 2), *o = out, *start, *floor;
	bool abs = path[0] == '/';

	if (!out)
		return NULL;
	if (abs)
		*o++ = '/';
	start = floor = o; /* floor: what ".." cannot take back (a relative path's leading "..") */
	for (const char *p = path; *p;) {
		while (*p == '/')
			p++;
		const char *s = p;
		while (*p && *p != '/')
			p++;
		size_t n = (size_t)(p - s);
		if (n == 0 || (n == 1 && s[0] == '.'))
			continue;
		if (n == 2 && s[0] == '.' && s[1] == '.') {
			if (o > floor) {
				while (o > floor && o[-1] != '/')
					o--;
				if (o > floor)
					o--;
				continue;
			}
			if (abs)
				continue;
		}
		if (o > start)
			*o++ = '/';
		memcpy(o, s, n);
		o += n;
		if (n == 2 && s[0] == '.' && s[1] == '.')
			floor = o;
	}
	if (o == out)
		*o++ = '.';
	*o = '\0';
	return out;
}

char *berth_path_clean_abs(const char *path)
{
	char *rooted = NULL;

	if (asprintf(&rooted, "/%s", path) < 0)
		return NULL;
	char *c = berth_path_clean(rooted);
	free(rooted);
	return c;
}
