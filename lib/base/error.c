/* SPDX-License-Identifier: Apache-2.0 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "banned.h"

static int make(struct berth_error **err, int errnum, char *msg)
{
	int code = errnum > 0 ? errnum : EIO;

	if (!err) {
		free(msg);
		return -code;
	}
	struct berth_error *e = calloc(1, sizeof(*e));
	if (!e || !msg) {
		/* Out of memory while reporting: keep the code, lose the words. */
		free(e);
		free(msg);
		*err = NULL;
		return -code;
	}
	berth_error_free(*err);
	e->code = code;
	e->msg = msg;
	*err = e;
	return -code;
}

int berth_error_set(struct berth_error **err, int errnum, const char *fmt, ...)
{
	va_list ap;
	char *msg = NULL;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	return make(err, errnum, msg);
}

int berth_error_sys(struct berth_error **err, int errnum, const char *fmt, ...)
{
	va_list ap;
	_cleanup_free_ char *what = NULL;
	char *msg = NULL;

	va_start(ap, fmt);
	if (vasprintf(&what, fmt, ap) < 0)
		what = NULL;
	va_end(ap);
	if (what && asprintf(&msg, "%s: %s", what, strerror(errnum)) < 0)
		msg = NULL;
	return make(err, errnum, msg);
}

int berth_error_wrap(struct berth_error **err, const char *fmt, ...)
{
	va_list ap;
	_cleanup_free_ char *what = NULL;
	char *msg = NULL;

	if (!err)
		return -EIO;
	va_start(ap, fmt);
	if (vasprintf(&what, fmt, ap) < 0)
		what = NULL;
	va_end(ap);
	/* the callee failed without saying why: keep at least the caller's context */
	if (!*err) {
		if (!what || asprintf(&msg, "%s: unknown error", what) < 0)
			msg = NULL;
		return make(err, EIO, msg ? msg : strdup("unknown error"));
	}
	if (what && asprintf(&msg, "%s: %s", what, (*err)->msg) >= 0) {
		free((*err)->msg);
		(*err)->msg = msg;
	}
	return -(*err)->code;
}

void berth_error_free(struct berth_error *e)
{
	if (!e)
		return;
	free(e->msg);
	free(e);
}
