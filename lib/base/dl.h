/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * Libraries loaded on first use (dlopen) instead of at program start.  berthd needs libcurl for
 * the registry, libarchive for tars and libnftables for a network's rules, but most of its life
 * is spent serving none of them; linked in, they and what they pull in (krb5, ldap, gnutls, ICU,
 * libxml2, the compressors, libxtables, gmp: about forty shared objects) cost resident memory
 * and start-up work in every berthd.  docs/architecture.md, "Libraries loaded on first use".
 *
 * The mechanism: the folder that uses a library defines, with the library's own names and
 * prototypes, one small function per symbol it calls (BERTH_DL_* below), each of which calls the
 * real one through a pointer resolved when the library is first needed.  Call sites stay as they
 * are (they include the library's header and call archive_read_new()), the prototypes are checked
 * against the library's header by the compiler, and a symbol missing from a folder's table is a
 * link error.  The definitions are hidden (-fvisibility=hidden), so they never interpose on the
 * library's own calls.
 */

#include <pthread.h>
#include <stddef.h>

#include "error.h"

struct berth_dl {
	const char *soname;	  /* "libarchive.so.13" */
	const char *const *names; /* the symbols, in the order of ptrs */
	size_t n;		  /* how many */
	void **ptrs;		  /* filled by the first successful load */
	pthread_mutex_t lock;	  /* PTHREAD_MUTEX_INITIALIZER */
	int state;		  /* 0 not tried, 1 loaded, -1 failed (atomic) */
	char why[256];		  /* the failure, for every later caller */
};

/*
 * Load dl's library and resolve all its symbols, once for the process (later calls return the
 * first result).  0, or -ELIBACC with err saying "cannot load 'libcurl.so.4': <dlerror>" or
 * "'libcurl.so.4' has no curl_easy_init".  A failed load is not retried.  Thread-safe.
 */
int berth_dl_load(struct berth_dl *dl, struct berth_error **err);

/*
 * The resolved address of symbol i, loading the library if that was not done yet; NULL when it
 * cannot be loaded.  For the trampolines below.
 */
void *berth_dl_sym(struct berth_dl *dl, size_t i);

/*
 * As berth_dl_sym for a symbol that can only be reached through an object the library made
 * (archive_write_data needs the struct archive that archive_write_new returned): the library is
 * loaded then, so a NULL here is a bug in the table, and aborts.
 */
void *berth_dl_need(struct berth_dl *dl, size_t i);

/*
 * The table macros.  A folder lists its symbols once, as X(kind, ret, name, params, args):
 *   BERTH_DL_NEW   a constructor: returns NULL with errno ELIBACC when the library cannot be
 *                  loaded, so the caller's usual out-of-memory path applies (callers that want
 *                  the clear message call berth_dl_load first);
 *   BERTH_DL_FN    any other function returning a value;
 *   BERTH_DL_VOID  a function returning void;
 *   BERTH_DL_BYHAND a variadic function, whose trampoline the folder writes out itself.
 * and expands BERTH_DL_NAMES, BERTH_DL_INDEX and BERTH_DL_DEFINE over it (lib/image/archive-dl.c).
 */
#define BERTH_DL_NAMES(kind, ret, name, params, args)  #name,
#define BERTH_DL_INDEX(kind, ret, name, params, args)  BERTH_DL_I_##name,
#define BERTH_DL_DEFINE(kind, ret, name, params, args) kind(ret, name, params, args)

/* dl is the name of the folder's struct berth_dl, a file-scope variable named berth_dl_self. */
#define BERTH_DL_NEW(ret, name, params, args)                                                      \
	ret name params                                                                            \
	{                                                                                          \
		__typeof__(name) *f = berth_dl_sym(&berth_dl_self, BERTH_DL_I_##name);             \
		if (!f) {                                                                          \
			errno = ELIBACC;                                                           \
			return NULL;                                                               \
		}                                                                                  \
		return f args;                                                                     \
	}
#define BERTH_DL_FN(ret, name, params, args)                                                       \
	ret name params                                                                            \
	{                                                                                          \
		return ((__typeof__(name) *)berth_dl_need(&berth_dl_self, BERTH_DL_I_##name))args; \
	}
#define BERTH_DL_BYHAND(ret, name, params, args)
#define BERTH_DL_VOID(ret, name, params, args)                                                     \
	ret name params                                                                            \
	{                                                                                          \
		((__typeof__(name) *)berth_dl_need(&berth_dl_self, BERTH_DL_I_##name)) args;       \
	}
