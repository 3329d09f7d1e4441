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

/* The calls berth makes that are newer than 5.0, with the Linux that added them: the same as
 * docs/runtime-api.md's "Minimum kernel" table (tests/system/test_docs.py compares them). */
static const struct {
	const char *call, *since;
} syscalls[] = {
	{"pidfd_send_signal", "5.1"}, {"open_tree", "5.2"},
	{"move_mount", "5.2"},	      {"fsopen", "5.2"},
	{"fsconfig", "5.2"},	      {"fsmount", "5.2"},
	{"pidfd_open", "5.3"},	      {"openat2", "5.6"},
	{"close_range", "5.9"},	      {"mount_setattr", "5.12"},
};

const char *berth_syscall_since(const char *call)
{
	for (size_t i = 0; call && i < ARRAY_SIZE(syscalls); i++)
		if (strcmp(syscalls[i].call, call) == 0)
			return syscalls[i].since;
	return NULL;
}

int berth_error_syscall(struct berth_error **err, int errnum, const char *call, const char *fmt,
			...)
{
	va_list ap;
	_cleanup_free_ char *what = NULL;
	char *msg = NULL;
	const char *since = berth_syscall_since(call);
	int r;

	va_start(ap, fmt);
	if (vasprintf(&what, fmt, ap) < 0)
		what = NULL;
	va_end(ap);
	if (errnum == ENOSYS)
		r = since ? asprintf(&msg,
				     "%s: %s: not supported by this kernel (Linux %s or later)",
				     what ? what : "", call, since)
			  : asprintf(&msg, "%s: %s: not supported by this kernel", what ? what : "",
				     call);
	else
		r = asprintf(&msg, "%s: %s: %s", what ? what : "", call, strerror(errnum));
	if (r < 0)
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
