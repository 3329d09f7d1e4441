/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The library's log lines.  lib/ never prints: what a program may want to know goes to a callback
 * the program gives -- the context's struct berth_log where the code has one, else the
 * process-wide debug sink.  No callback: the line is dropped (and not even formatted).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "core.h"
#include "banned.h"

void berth_log(const struct berth_log *log, enum berth_log_level level, const char *fmt, ...)
{
	char *msg = NULL;
	va_list ap;

	if (!log || !log->fn || (level == BERTH_LOG_DEBUG && !log->debug))
		return;
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	if (msg)
		log->fn(log->data, level, msg);
	free(msg);
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

static berth_log_sink sink;
static void *sink_data;

void berth_log_set_debug_sink(berth_log_sink fn, void *userdata)
{
	sink = fn;
	sink_data = userdata;
}

void berth_log_debug(const char *fmt, ...)
{
	_cleanup_free_ char *msg = NULL;
	va_list ap;
	int r;

	if (!sink)
		return;
	va_start(ap, fmt);
	r = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (r < 0)
		return;
	sink(msg, sink_data);
}
