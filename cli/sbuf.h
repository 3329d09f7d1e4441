/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * A growing byte buffer for the CLI's output and the template engine.  The CLI is a program, not
 * a library: running out of memory ends it (cli_oom(), git's xmalloc idea), so none of these
 * return an error.
 */

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include "base/base.h"

struct sbuf {
	char *p; /* NUL-terminated when not NULL */
	size_t len, cap;
};

#define SBUF_INIT                                                                                  \
	{                                                                                          \
		NULL, 0, 0                                                                         \
	}

_Noreturn void cli_oom(void);
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) BERTH_PRINTF(1, 2);

void sbuf_grow(struct sbuf *b, size_t extra);
void sbuf_add(struct sbuf *b, const void *data, size_t len);
void sbuf_adds(struct sbuf *b, const char *s);
void sbuf_addc(struct sbuf *b, char c);
void sbuf_addn(struct sbuf *b, char c, size_t n); /* c repeated n times */
void sbuf_printf(struct sbuf *b, const char *fmt, ...) BERTH_PRINTF(2, 3);
void sbuf_vprintf(struct sbuf *b, const char *fmt, va_list ap) BERTH_PRINTF(2, 0);
void sbuf_reset(struct sbuf *b); /* empty, keeps the memory */
void sbuf_release(struct sbuf *b);
/* The string (never NULL: "" when empty); still owned by b. */
const char *sbuf_str(const struct sbuf *b);
/* Hand the string over (never NULL); b is empty after. */
char *sbuf_detach(struct sbuf *b);

static inline void sbuf_releasep(struct sbuf *b)
{
	sbuf_release(b);
}
#define _cleanup_sbuf_ _cleanup_(sbuf_releasep)
