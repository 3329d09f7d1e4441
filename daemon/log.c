/* SPDX-License-Identifier: Apache-2.0 */
/* berthd's log: stderr (journald under systemd), one line per message, logrus's text format. */
#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon.h"
#include "base/banned.h"

static const char *const names[] = {"debug", "info", "warn", "error", "fatal"};
static atomic_int level = DLOG_INFO;

int daemon_log_level_parse(const char *s)
{
	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (berth_streq(s, names[i]))
			return (int)i;
	if (berth_streq(s, "warning")) /* logrus's other spelling */
		return DLOG_WARN;
	return -EINVAL;
}

const char *daemon_log_level_name(int l)
{
	return l >= 0 && (size_t)l < ARRAY_SIZE(names) ? names[l] : "info";
}

void daemon_log_set_level(int l)
{
	atomic_store(&level, l);
}

int daemon_log_get_level(void)
{
	return atomic_load(&level);
}

void daemon_log(int l, const char *fmt, ...)
{
	_cleanup_free_ char *msg = NULL;
	struct timespec ts;
	struct tm tm;
	char when[64];
	va_list ap;

	if (l < atomic_load(&level))
		return;
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	clock_gettime(CLOCK_REALTIME, &ts);
	localtime_r(&ts.tv_sec, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	/* quote the message as logrus does: backslash and double quote escaped */
	_cleanup_free_ char *q = malloc(msg ? strlen(msg) * 2 + 1 : 1);
	if (q) {
		char *o = q;
		for (const char *p = msg ? msg : ""; *p; p++) {
			if (*p == '"' || *p == '\\')
				*o++ = '\\';
			*o++ = *p == '\n' ? ' ' : *p;
		}
		*o = '\0';
	}
	/* one fprintf: stdio locks the stream, so lines from threads do not interleave */
	fprintf(stderr, "time=\"%s.%09ld\" level=%s msg=\"%s\"\n", when, ts.tv_nsec,
		daemon_log_level_name(l), q ? q : "(out of memory)");
}
