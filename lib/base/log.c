/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Debug notes from the library.  lib/ never prints; what a program wants to know about a choice
 * the library made quietly (a capability dropped, a fallback taken) goes through a sink the
 * program installs.  No sink: the note is dropped.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "base.h"
#include "banned.h"

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
