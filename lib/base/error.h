/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include "cleanup.h"

/*
 * One error type, carried up with context (crun's libcrun_error_t idea).  A failing function
 * returns a negative errno and, when err is not NULL, stores a new error in *err.  A caller that
 * adds meaning wraps it: "create container 'x': mount '/proc': permission denied".
 *
 * code is a positive errno value; it is what callers branch on (ENOENT: not found, EEXIST: exists,
 * EINVAL: bad input, EBUSY/EPERM: conflict) and what the API layer maps to HTTP statuses.
 */
struct berth_error {
	int code;
	char *msg;
};

#define BERTH_PRINTF(a, b) __attribute__((format(printf, a, b)))

/* Store a new error with code errnum; returns -errnum (-EIO when errnum is 0). */
int berth_error_set(struct berth_error **err, int errnum, const char *fmt, ...) BERTH_PRINTF(3, 4);

/* As berth_error_set, with ": <strerror(errnum)>" appended to the message. */
int berth_error_sys(struct berth_error **err, int errnum, const char *fmt, ...) BERTH_PRINTF(3, 4);

/*
 * As berth_error_sys for a failed system call named `call` ("mount_setattr"); when errnum is
 * ENOSYS the kernel predates the call, and the message says so and which Linux it needs:
 * "<text>: mount_setattr: not supported by this kernel (Linux 5.12 or later)".  The kernel
 * versions are docs/runtime-api.md's table ("Minimum kernel").
 */
int berth_error_syscall(struct berth_error **err, int errnum, const char *call, const char *fmt,
			...) BERTH_PRINTF(4, 5);

/* The first Linux version that has the system call `call` ("5.12"), NULL when unknown. */
const char *berth_syscall_since(const char *call);

/*
 * Prefix the message of *err with the formatted text and ": "; returns -(*err)->code.  When *err is
 * NULL (the callee failed without saying why) a new error with code EIO is made, its message the
 * text and ": unknown error".
 */
int berth_error_wrap(struct berth_error **err, const char *fmt, ...) BERTH_PRINTF(2, 3);

/* Free an error; accepts NULL. */
void berth_error_free(struct berth_error *e);

static inline void berth_error_freep(struct berth_error **e)
{
	berth_error_free(*e);
	*e = NULL;
}
#define _cleanup_error_ _cleanup_(berth_error_freep)
