/* SPDX-License-Identifier: Apache-2.0 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "units.h"
#include "base/banned.h"

int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void human_duration(struct sbuf *out, int64_t ns)
{
	int64_t seconds = ns / 1000000000;
	double hours_f = (double)ns / 3.6e12;

	if (seconds < 1) {
		sbuf_adds(out, "Less than a second");
	} else if (seconds == 1) {
		sbuf_adds(out, "1 second");
	} else if (seconds < 60) {
		sbuf_printf(out, "%" PRId64 " seconds", seconds);
	} else if (ns / 60000000000 == 1) {
		sbuf_adds(out, "About a minute");
	} else if (ns / 60000000000 < 60) {
		sbuf_printf(out, "%" PRId64 " minutes", ns / 60000000000);
	} else {
		int64_t hours = (int64_t)(hours_f + 0.5);
		if (hours == 1)
			sbuf_adds(out, "About an hour");
		else if (hours < 48)
			sbuf_printf(out, "%" PRId64 " hours", hours);
		else if (hours < 24 * 7 * 2)
			sbuf_printf(out, "%" PRId64 " days", hours / 24);
		else if (hours < 24 * 30 * 2)
			sbuf_printf(out, "%" PRId64 " weeks", hours / 24 / 7);
		else if (hours < 24 * 365 * 2)
			sbuf_printf(out, "%" PRId64 " months", hours / 24 / 30);
		else
			sbuf_printf(out, "%" PRId64 " years", (int64_t)hours_f / 24 / 365);
	}
}

static void custom_size(struct sbuf *out, double size, double base, const char *const *units,
			size_t n, int precision)
{
	size_t i = 0;

	while (size >= base && i < n - 1) {
		size /= base;
		i++;
	}
	sbuf_printf(out, "%.*g%s", precision, size, units[i]);
}

void human_size(struct sbuf *out, double size, int precision)
{
	static const char *const units[] = {"B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"};

	custom_size(out, size, 1000.0, units, 9, precision);
}

/* Go's fmtFrac: the fraction of v below 10^prec, without trailing zeros (none at all when 0) */
static void frac_digits(char *buf, size_t *w, uint64_t *v, int prec)
{
	bool print = false;

	for (int i = 0; i < prec; i++) {
		unsigned digit = (unsigned)(*v % 10);
		print = print || digit != 0;
		if (print)
			buf[--*w] = (char)('0' + digit);
		*v /= 10;
	}
	if (print)
		buf[--*w] = '.';
}

static void int_digits(char *buf, size_t *w, uint64_t v)
{
	if (v == 0) {
		buf[--*w] = '0';
		return;
	}
	while (v > 0) {
		buf[--*w] = (char)('0' + v % 10);
		v /= 10;
	}
}

void go_duration_string(struct sbuf *out, int64_t ns)
{
	char buf[40];
	size_t w = sizeof(buf);
	bool neg = ns < 0;
	uint64_t u = neg ? -(uint64_t)ns : (uint64_t)ns;

	if (u < 1000000000) {
		int prec;
		buf[--w] = 's';
		if (u == 0) {
			sbuf_adds(out, "0s");
			return;
		} else if (u < 1000) {
			prec = 0;
			buf[--w] = 'n';
		} else if (u < 1000000) {
			prec = 3;
			buf[--w] = '\xb5'; /* "µ" */
			buf[--w] = '\xc2';
		} else {
			prec = 6;
			buf[--w] = 'm';
		}
		frac_digits(buf, &w, &u, prec);
		int_digits(buf, &w, u);
	} else {
		buf[--w] = 's';
		frac_digits(buf, &w, &u, 9);
		int_digits(buf, &w, u % 60);
		u /= 60;
		if (u > 0) {
			buf[--w] = 'm';
			int_digits(buf, &w, u % 60);
			u /= 60;
			if (u > 0) {
				buf[--w] = 'h';
				int_digits(buf, &w, u);
			}
		}
	}
	if (neg)
		buf[--w] = '-';
	sbuf_add(out, buf + w, sizeof(buf) - w);
}

void bytes_size(struct sbuf *out, double size)
{
	static const char *const units[] = {"B",   "KiB", "MiB", "GiB", "TiB",
					    "PiB", "EiB", "ZiB", "YiB"};

	custom_size(out, size, 1024.0, units, 9, 4);
}

static void zone_offset(struct sbuf *out, long off, bool colon, bool z)
{
	if (z && off == 0) {
		sbuf_addc(out, 'Z');
		return;
	}
	char sign = off < 0 ? '-' : '+';
	if (off < 0)
		off = -off;
	sbuf_printf(out, colon ? "%c%02ld:%02ld" : "%c%02ld%02ld", sign, off / 3600,
		    (off / 60) % 60);
}

void go_time_string(struct sbuf *out, int64_t sec, int64_t nsec)
{
	time_t t = (time_t)sec;
	struct tm tm;
	char buf[64];

	localtime_r(&t, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S", &tm);
	sbuf_adds(out, buf);
	if (nsec) {
		char frac[16];
		snprintf(frac, sizeof(frac), "%09" PRId64, nsec);
		size_t n = strlen(frac);
		while (n && frac[n - 1] == '0')
			n--;
		sbuf_addc(out, '.');
		sbuf_add(out, frac, n);
	}
	sbuf_addc(out, ' ');
	zone_offset(out, tm.tm_gmtoff, false, false);
	sbuf_addc(out, ' ');
	if (tm.tm_zone && *tm.tm_zone) {
		sbuf_adds(out, tm.tm_zone);
	} else {
		zone_offset(out, tm.tm_gmtoff, false, false);
	}
}

void go_time_rfc3339nano_fixed(struct sbuf *out, int64_t ns)
{
	int64_t sec = ns / 1000000000, frac = ns % 1000000000;
	time_t t;
	struct tm tm;
	char buf[64];

	if (frac < 0) {
		frac += 1000000000;
		sec--;
	}
	t = (time_t)sec;
	localtime_r(&t, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
	sbuf_printf(out, "%s.%09" PRId64, buf, frac);
	zone_offset(out, tm.tm_gmtoff, true, true);
}

void go_time_rfc3339(struct sbuf *out, int64_t sec)
{
	time_t t = (time_t)sec;
	struct tm tm;
	char buf[64];

	localtime_r(&t, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
	sbuf_adds(out, buf);
	zone_offset(out, tm.tm_gmtoff, true, true);
}

/* days since the epoch of a civil date (Howard Hinnant's algorithm) */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static bool days_in_month_ok(int y, int m, int d)
{
	static const int dm[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int max;

	if (m < 1 || m > 12 || d < 1)
		return false;
	max = dm[m - 1];
	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		max = 29;
	return d <= max;
}

static bool digits(const char *s, int n, int *ret)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*ret = v;
	return true;
}

/*
 * A time in the shapes docker's GetTimestamp selects: date, then optionally 'T' and hours,
 * minutes, seconds (need_colons of them: 0 = hour only, 1 = hh:mm, 2 = hh:mm:ss) with an optional
 * fraction (allow_frac), then a zone (want_zone) or none (the local zone).
 */
static bool parse_time_shape(const char *s, bool want_t, int colons, bool allow_frac,
			     bool want_zone, int64_t *ret_sec, int64_t *ret_nsec, int *ret_off)
{
	int y, mo, d, h = 0, mi = 0, se = 0, off = 0;
	int64_t nsec = 0;
	const char *p = s;

	if (!digits(p, 4, &y) || p[4] != '-' || !digits(p + 5, 2, &mo) || p[7] != '-' ||
	    !digits(p + 8, 2, &d))
		return false;
	p += 10;
	if (want_t) {
		if (*p != 'T' || !digits(p + 1, 2, &h))
			return false;
		p += 3;
		if (colons >= 1) {
			if (*p != ':' || !digits(p + 1, 2, &mi))
				return false;
			p += 3;
		}
		if (colons >= 2) {
			if (*p != ':' || !digits(p + 1, 2, &se))
				return false;
			p += 3;
			if (allow_frac && *p == '.') {
				int n = 0;
				p++;
				while (isdigit((unsigned char)*p)) {
					if (n < 9)
						nsec = nsec * 10 + (*p - '0');
					n++;
					p++;
				}
				if (n == 0)
					return false;
				for (; n < 9; n++)
					nsec *= 10;
			}
		}
	}
	if (want_zone) {
		if (*p == 'Z' || *p == 'z') {
			p++;
		} else if (*p == '+' || *p == '-') {
			int zh, zm;
			if (!digits(p + 1, 2, &zh) || p[3] != ':' || !digits(p + 4, 2, &zm))
				return false;
			off = (zh * 3600 + zm * 60) * (*p == '-' ? -1 : 1);
			p += 6;
		} else {
			return false;
		}
	}
	if (*p || !days_in_month_ok(y, mo, d) || h > 23 || mi > 59 || se > 59)
		return false;
	int64_t secs =
		days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 + se;
	if (!want_zone) {
		/* local time: the offset in force at that moment (two passes settle DST edges) */
		struct tm tm;
		time_t t = (time_t)secs;
		localtime_r(&t, &tm);
		t = (time_t)(secs - tm.tm_gmtoff);
		localtime_r(&t, &tm);
		off = (int)tm.tm_gmtoff;
	}
	*ret_sec = secs - off;
	*ret_nsec = nsec;
	if (ret_off)
		*ret_off = off;
	return true;
}

bool parse_rfc3339(const char *s, int64_t *ret_sec, int64_t *ret_nsec, int *ret_offset)
{
	return parse_time_shape(s, true, 2, true, true, ret_sec, ret_nsec, ret_offset);
}

void go_time_string_rfc3339(struct sbuf *out, const char *s)
{
	int64_t sec, nsec;
	int off;
	struct tm tm, local;
	time_t t;
	size_t n = strlen(s);

	if (!parse_rfc3339(s, &sec, &nsec, &off)) {
		sbuf_adds(out, s);
		return;
	}
	t = (time_t)(sec + off);
	gmtime_r(&t, &tm);
	sbuf_printf(out, "%04d-%02d-%02d %02d:%02d:%02d", tm.tm_year + 1900, tm.tm_mon + 1,
		    tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
	if (nsec) {
		char frac[16];
		snprintf(frac, sizeof(frac), "%09" PRId64, nsec);
		size_t k = strlen(frac);
		while (k && frac[k - 1] == '0')
			k--;
		sbuf_addc(out, '.');
		sbuf_add(out, frac, k);
	}
	sbuf_addc(out, ' ');
	zone_offset(out, off, false, false);
	sbuf_addc(out, ' ');
	if (n && (s[n - 1] == 'Z' || s[n - 1] == 'z')) {
		sbuf_adds(out, "UTC");
		return;
	}
	t = (time_t)sec;
	localtime_r(&t, &local);
	if (local.tm_gmtoff == off && local.tm_zone && *local.tm_zone)
		sbuf_adds(out, local.tm_zone);
	else
		zone_offset(out, off, false, false);
}

void ansic_date(struct sbuf *out, const char *s)
{
	static const char *const wd[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
	static const char *const mon[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
					  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	int64_t sec, nsec;
	int off;
	struct tm tm;
	time_t t;

	if (!parse_rfc3339(s, &sec, &nsec, &off)) {
		sbuf_adds(out, s);
		return;
	}
	t = (time_t)(sec + off);
	gmtime_r(&t, &tm);
	sbuf_printf(out, "%s %s %2d %02d:%02d:%02d %d", wd[tm.tm_wday], mon[tm.tm_mon], tm.tm_mday,
		    tm.tm_hour, tm.tm_min, tm.tm_sec, tm.tm_year + 1900);
}

int go_parse_duration(const char *orig, int64_t *ret_ns, char **err)
{
	static const struct {
		const char *name;
		double ns;
	} units[] = {{"ns", 1},	  {"us", 1e3}, {"\xc2\xb5s", 1e3}, {"\xce\xbcs", 1e3},
		     {"ms", 1e6}, {"s", 1e9},  {"m", 60e9},	   {"h", 3600e9}};
	const char *s = orig;
	double total = 0;
	bool neg = false;

	if (*s == '-' || *s == '+')
		neg = *s++ == '-';
	if (strcmp(s, "0") == 0) {
		*ret_ns = 0;
		return 0;
	}
	if (!*s)
		goto invalid;
	while (*s) {
		double v = 0, scale = 1;
		bool any = false;
		while (isdigit((unsigned char)*s)) {
			v = v * 10 + (*s++ - '0');
			any = true;
		}
		if (*s == '.') {
			s++;
			while (isdigit((unsigned char)*s)) {
				scale /= 10;
				v += (*s++ - '0') * scale;
				any = true;
			}
		}
		if (!any)
			goto invalid;
		const char *u = s;
		while (*s && *s != '.' && !isdigit((unsigned char)*s))
			s++;
		if (u == s) {
			*err = xasprintf("time: missing unit in duration \"%s\"", orig);
			return -EINVAL;
		}
		size_t ul = (size_t)(s - u);
		size_t k;
		for (k = 0; k < ARRAY_SIZE(units); k++)
			if (strlen(units[k].name) == ul && memcmp(units[k].name, u, ul) == 0)
				break;
		if (k == ARRAY_SIZE(units)) {
			*err = xasprintf("time: unknown unit \"%.*s\" in duration \"%s\"", (int)ul,
					 u, orig);
			return -EINVAL;
		}
		total += v * units[k].ns;
		if (total > 9.223372036854775807e18)
			goto invalid;
	}
	*ret_ns = (int64_t)(neg ? -total : total);
	return 0;
invalid:
	*err = xasprintf("time: invalid duration \"%s\"", orig);
	return -EINVAL;
}

/* docker's parseTimestamp: "seconds" or "seconds.nanoseconds", both decimal integers */
static bool unix_timestamp(const char *s)
{
	const char *dot = strchr(s, '.');
	char *end;
	size_t n = dot ? (size_t)(dot - s) : strlen(s);

	if (n == 0)
		return false;
	errno = 0;
	strtoll(s, &end, 10);
	if (errno || end != s + n)
		return false;
	if (dot) {
		if (!dot[1])
			return false;
		strtoll(dot + 1, &end, 10);
		if (errno || *end)
			return false;
	}
	return true;
}

int docker_timestamp(const char *value, int64_t now, char **ret, char **err)
{
	int64_t d, sec, nsec;
	char *derr = NULL;

	if (strcmp(value, "0") != 0 && go_parse_duration(value, &d, &derr) == 0) {
		int64_t t = now - d;
		/* time.Time.Unix(): floor division */
		int64_t secs = t / 1000000000;
		if (t % 1000000000 < 0)
			secs--;
		*ret = xasprintf("%" PRId64, secs);
		return 0;
	}
	free(derr);

	bool in_location = !strpbrk(value, "zZ+");
	size_t dashes = 0;
	for (const char *p = value; *p; p++)
		dashes += *p == '-';
	if (dashes == 3)
		in_location = false;

	bool ok, want_t = false, frac = false;
	int colons = 0;
	if (strchr(value, '.')) {
		want_t = true;
		frac = true;
		colons = 2;
	} else if (strchr(value, 'T')) {
		int tc = 0;
		want_t = true;
		for (const char *p = value; *p; p++)
			tc += *p == ':';
		if (!in_location && !strpbrk(value, "zZ") && tc > 0)
			tc--;
		colons = tc > 2 ? 2 : tc;
	}
	ok = parse_time_shape(value, want_t, colons, frac, !in_location, &sec, &nsec, NULL);
	if (!ok) {
		if (strchr(value, '-')) {
			*err = xasprintf("parsing time \"%s\": not a valid RFC 3339 time", value);
			return -EINVAL;
		}
		if (!unix_timestamp(value)) {
			*err = xasprintf("failed to parse value as time or duration: \"%s\"",
					 value);
			return -EINVAL;
		}
		*ret = xstrdup(value);
		return 0;
	}
	*ret = xasprintf("%" PRId64 ".%09" PRId64, sec, nsec);
	return 0;
}
