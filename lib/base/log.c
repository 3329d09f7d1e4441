/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The library's log lines.  lib/ never prints: what a program may want to know goes to the
 * callback of a context's struct berth_log (core.h).  No callback: the line is dropped (and not
 * even formatted).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "core.h"
#include "banned.h"

void berth_logv(const struct berth_log *log, enum berth_log_level level, const char *fmt,
		va_list ap)
{
	_cleanup_free_ char *msg = NULL;

	if (!log || !log->fn || (level == BERTH_LOG_DEBUG && !log->debug))
		return;
	if (vasprintf(&msg, fmt, ap) < 0) {
		msg = NULL; /* undefined after a failure */
		return;
	}
	log->fn(log->data, level, msg);
}

void berth_log(const struct berth_log *log, enum berth_log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	berth_logv(log, level, fmt, ap);
	va_end(ap);
}

const char *berth_log_level_name(enum berth_log_level level)
{
	switch (level) {
	case BERTH_LOG_ERROR:
		return "error";
	case BERTH_LOG_WARNING:
		return "warning";
	case BERTH_LOG_INFO:
		return "info";
	case BERTH_LOG_DEBUG:
		break;
	}
	return "debug";
}
