/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libcurl, loaded on the first registry request (base/dl.h says why and how).  Every libcurl
 * function lib/registry calls is in the table below; one that is not is a link error.
 */
#define CURL_DISABLE_TYPECHECK /* its macros would rename the definitions below */
#include <curl/curl.h>
#include <errno.h>
#include <stdarg.h>

#include "registry-internal.h"
#include "base/dl.h"

#include "base/banned.h"

/* clang-format off */
#define CURL_FUNCS(X)                                                                              \
	X(BERTH_DL_FN, CURLcode, curl_global_init, (long flags), (flags))                          \
	X(BERTH_DL_NEW, CURL *, curl_easy_init, (void), ())                                        \
	X(BERTH_DL_BYHAND, CURLcode, curl_easy_setopt, (), ())                                     \
	X(BERTH_DL_BYHAND, CURLcode, curl_easy_getinfo, (), ())                                    \
	X(BERTH_DL_FN, CURLcode, curl_easy_perform, (CURL *c), (c))                                \
	X(BERTH_DL_VOID, void, curl_easy_cleanup, (CURL *c), (c))                                  \
	X(BERTH_DL_FN, const char *, curl_easy_strerror, (CURLcode code), (code))                  \
	X(BERTH_DL_FN, char *, curl_easy_escape, (CURL *c, const char *s, int n), (c, s, n))       \
	X(BERTH_DL_VOID, void, curl_free, (void *p), (p))                                          \
	X(BERTH_DL_FN, struct curl_slist *, curl_slist_append,                                     \
	  (struct curl_slist *l, const char *s), (l, s))                                           \
	X(BERTH_DL_VOID, void, curl_slist_free_all, (struct curl_slist *l), (l))
/* clang-format on */

enum { CURL_FUNCS(BERTH_DL_INDEX) CURL_COUNT };

static const char *const names[] = {CURL_FUNCS(BERTH_DL_NAMES)};
static void *ptrs[CURL_COUNT];

static struct berth_dl berth_dl_self = {
	.soname = "libcurl.so.4",
	.names = names,
	.n = CURL_COUNT,
	.ptrs = ptrs,
	.lock = PTHREAD_MUTEX_INITIALIZER,
};

CURL_FUNCS(BERTH_DL_DEFINE)

/*
 * Variadic: the option's number says the argument's type (curl.h's CURLOPTTYPE_* ranges), as
 * libcurl itself reads it, so it is passed on with that type.
 */
CURLcode curl_easy_setopt(CURL *c, CURLoption opt, ...)
{
	__typeof__(curl_easy_setopt) *f =
		berth_dl_need(&berth_dl_self, BERTH_DL_I_curl_easy_setopt);
	CURLcode r;
	va_list ap;

	va_start(ap, opt);
	if (opt < CURLOPTTYPE_OBJECTPOINT)
		r = f(c, opt, va_arg(ap, long));
	else if (opt < CURLOPTTYPE_FUNCTIONPOINT)
		r = f(c, opt, va_arg(ap, void *));
	else if (opt < CURLOPTTYPE_OFF_T)
		r = f(c, opt, va_arg(ap, void (*)(void)));
	else if (opt < CURLOPTTYPE_BLOB)
		r = f(c, opt, va_arg(ap, curl_off_t));
	else
		r = f(c, opt, va_arg(ap, void *));
	va_end(ap);
	return r;
}

/* variadic: the argument is always a pointer to where the answer goes */
CURLcode curl_easy_getinfo(CURL *c, CURLINFO info, ...)
{
	__typeof__(curl_easy_getinfo) *f =
		berth_dl_need(&berth_dl_self, BERTH_DL_I_curl_easy_getinfo);
	CURLcode r;
	va_list ap;

	va_start(ap, info);
	r = f(c, info, va_arg(ap, void *));
	va_end(ap);
	return r;
}

int reg_curl_load(struct berth_error **err)
{
	return berth_dl_load(&berth_dl_self, err);
}
