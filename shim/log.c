/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The json-file log, as docker's json-file driver writes it: one JSON object a line,
 * {"log":"<text>","stream":"stdout|stderr","time":"<RFC3339Nano>"}, a record per line of output
 * (the newline kept in "log"), a line longer than 16 KiB split into partial records without the
 * newline (docker's copier), text escaped as docker's writer does (<, >, & and U+2028/9 as \u,
 * invalid UTF-8 as U+FFFD).  Rotation as docker's LogFile: before a write, when the file has
 * reached max-size, <log>.N-1 ... <log>.1 move up one and the live file becomes <log>.1
 * (max-file 1: the live file is truncated).  Readers follow the rename (berthd's logs -f).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "shim.h"
#include "base/banned.h"

void shim_time_rfc3339nano(char *buf, size_t len)
{
	struct timespec ts;
	struct tm tm;
	char frac[16] = "";

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	if (ts.tv_nsec) {
		int n = snprintf(frac, sizeof(frac), ".%09ld", ts.tv_nsec);
		while (n > 1 && frac[n - 1] == '0')
			frac[--n] = '\0';
	}
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d%sZ", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
}

static int grow(char **buf, size_t *cap, size_t need)
{
	if (need <= *cap)
		return 0;
	size_t c = *cap ? *cap : 256;
	while (c < need)
		c *= 2;
	char *n = realloc(*buf, c);
	if (!n)
		return -ENOMEM;
	*buf = n;
	*cap = c;
	return 0;
}

/* Length of the valid UTF-8 sequence at s (n bytes left), or 0 when it is not one. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	unsigned c = s[0];
	size_t len;
	unsigned cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4, cp = c & 0x07;
	else
		return 0;
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return len;
}

int shim_json_quote(char **buf, size_t *len, size_t *cap, const char *str, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = (const unsigned char *)str;

	/* worst case: every byte becomes \ufffd (6) */
	if (grow(buf, cap, *len + n * 6 + 3) < 0)
		return -ENOMEM;
	char *o = *buf + *len;
	*o++ = '"';
	for (size_t i = 0; i < n;) {
		unsigned char c = s[i];
		if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\' && c != '<' && c != '>' &&
		    c != '&') {
			*o++ = (char)c;
			i++;
			continue;
		}
		if (c < 0x80) {
			*o++ = '\\';
			switch (c) {
			case '"':
			case '\\':
				*o++ = (char)c;
				break;
			case '\n':
				*o++ = 'n';
				break;
			case '\r':
				*o++ = 'r';
				break;
			case '\t':
				*o++ = 't';
				break;
			default:
				*o++ = 'u';
				*o++ = '0';
				*o++ = '0';
				*o++ = hex[c >> 4];
				*o++ = hex[c & 15];
			}
			i++;
			continue;
		}
		size_t l = utf8_len(s + i, n - i);
		if (l == 0) {
			memcpy(o, "\\ufffd", 6);
			o += 6;
			i++;
			continue;
		}
		if (l == 3 && s[i] == 0xe2 && s[i + 1] == 0x80 &&
		    (s[i + 2] == 0xa8 || s[i + 2] == 0xa9)) {
			memcpy(o, s[i + 2] == 0xa8 ? "\\u2028" : "\\u2029", 6);
			o += 6;
			i += 3;
			continue;
		}
		memcpy(o, s + i, l);
		o += l;
		i += l;
	}
	*o++ = '"';
	*len = (size_t)(o - *buf);
	return 0;
}

int shim_log_open(struct shim_log *l, const char *path, int64_t max_size, int max_file,
		  struct berth_error **err)
{
	struct stat st;

	memset(l, 0, sizeof(*l));
	l->fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0640);
	if (l->fd < 0)
		return berth_error_sys(err, errno, "open log '%s'", path);
	l->path = strdup(path);
	if (!l->path) {
		close(l->fd);
		l->fd = -EBADF;
		return berth_error_set(err, ENOMEM, "out of memory");
	}
	l->max_size = max_size;
	l->max_file = max_file < 1 ? 1 : max_file;
	l->size = fstat(l->fd, &st) == 0 ? st.st_size : 0;
	return 0;
}

static void rotate(struct shim_log *l)
{
	char from[4096], to[4096];
	int fd;

	if (l->max_file < 2) {
		if (ftruncate(l->fd, 0) == 0)
			l->size = 0;
		return;
	}
	for (int i = l->max_file - 1; i > 1; i--) {
		snprintf(from, sizeof(from), "%s.%d", l->path, i - 1);
		snprintf(to, sizeof(to), "%s.%d", l->path, i);
		if (rename(from, to) < 0 && errno != ENOENT)
			return;
	}
	snprintf(to, sizeof(to), "%s.1", l->path);
	if (rename(l->path, to) < 0)
		return;
	fd = open(l->path, O_WRONLY | O_APPEND | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0640);
	if (fd < 0)
		return;
	close(l->fd);
	l->fd = fd;
	l->size = 0;
}

static void record(struct shim_log *l, int stream, const char *data, size_t n)
{
	char *buf = NULL, ts[48];
	size_t len = 0, cap = 0;

	if (l->fd < 0 || n == 0)
		return;
	shim_time_rfc3339nano(ts, sizeof(ts));
	if (grow(&buf, &cap, 16) < 0)
		return;
	memcpy(buf, "{\"log\":", 7);
	len = 7;
	if (shim_json_quote(&buf, &len, &cap, data, n) < 0)
		goto out;
	int m = snprintf(NULL, 0, ",\"stream\":\"%s\",\"time\":\"%s\"}\n",
			 stream == 2 ? "stderr" : "stdout", ts);
	if (grow(&buf, &cap, len + (size_t)m + 1) < 0)
		goto out;
	snprintf(buf + len, (size_t)m + 1, ",\"stream\":\"%s\",\"time\":\"%s\"}\n",
		 stream == 2 ? "stderr" : "stdout", ts);
	len += (size_t)m;
	if (l->max_size > 0 && l->size >= l->max_size)
		rotate(l);
	if (berth_write_all(l->fd, buf, len) < 0)
		l->failed = true;
	else
		l->size += (int64_t)len;
out:
	free(buf);
}

void shim_log_write(struct shim_log *l, int stream, const char *data, size_t n)
{
	if (l->fd < 0 || stream < 1 || stream > 2)
		return;
	while (n > 0) {
		const char *nl = memchr(data, '\n', n);
		size_t take = nl ? (size_t)(nl - data) + 1 : n;

		if (l->len[stream] + take > SHIM_LINE_MAX)
			take = SHIM_LINE_MAX - l->len[stream];
		if (!l->line[stream]) {
			l->line[stream] = malloc(SHIM_LINE_MAX);
			if (!l->line[stream])
				return;
		}
		memcpy(l->line[stream] + l->len[stream], data, take);
		l->len[stream] += take;
		data += take;
		n -= take;
		if (l->line[stream][l->len[stream] - 1] == '\n' ||
		    l->len[stream] == SHIM_LINE_MAX) {
			record(l, stream, l->line[stream], l->len[stream]);
			l->len[stream] = 0;
		}
	}
}

void shim_log_close(struct shim_log *l)
{
	for (int i = 1; i <= 2; i++) {
		if (l->len[i])
			record(l, i, l->line[i], l->len[i]);
		free(l->line[i]);
		l->line[i] = NULL;
		l->len[i] = 0;
	}
	if (l->fd >= 0)
		close(l->fd);
	l->fd = -EBADF;
	free(l->path);
	l->path = NULL;
}
