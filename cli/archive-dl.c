/* SPDX-License-Identifier: Apache-2.0 */
#include <dlfcn.h>

#include "archive-dl.h"
#include "sbuf.h"
#include "base/banned.h"

#define LA_SONAME "libarchive.so.13"

struct la_funcs la;

int la_load(char **err)
{
	static void *lib;

	if (lib)
		return 0;
	void *h = dlopen(LA_SONAME, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		*err = xasprintf("cannot load %s: %s", LA_SONAME, dlerror());
		return -1;
	}
#define LA_LOAD(f)                                                                                 \
	if (!(la.f = (__typeof__(la.f))dlsym(h, #f))) {                                            \
		*err = xasprintf("%s has no %s", LA_SONAME, #f);                                   \
		dlclose(h);                                                                        \
		return -1;                                                                         \
	}
	LA_FUNCS(LA_LOAD)
#undef LA_LOAD
	lib = h;
	return 0;
}
