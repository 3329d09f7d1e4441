/* SPDX-License-Identifier: Apache-2.0 */
#include <dlfcn.h>

#include "compose-dl.h"
#include "sbuf.h"
#include "base/banned.h"

#define FY_SONAME "libfyaml.so.0"
#define NE_SONAME "libnettle.so.8"

struct fy_funcs fy;
struct ne_funcs ne;

int compose_dl_load(char **err)
{
	static void *fyh, *neh;

	if (fyh && neh)
		return 0;
	void *h1 = dlopen(FY_SONAME, RTLD_NOW | RTLD_LOCAL);
	void *h2 = h1 ? dlopen(NE_SONAME, RTLD_NOW | RTLD_LOCAL) : NULL;
	if (!h1 || !h2) {
		*err = xasprintf("cannot load %s: %s", h1 ? NE_SONAME : FY_SONAME, dlerror());
		if (h1)
			dlclose(h1);
		return -1;
	}
#define DL_LOAD(tab, h, so, f)                                                                     \
	if (!(tab.f = (__typeof__(tab.f))dlsym(h, #f))) {                                          \
		*err = xasprintf("%s has no %s", so, #f);                                          \
		dlclose(h1);                                                                       \
		dlclose(h2);                                                                       \
		return -1;                                                                         \
	}
#define FY_LOAD(f) DL_LOAD(fy, h1, FY_SONAME, f)
#define NE_LOAD(f) DL_LOAD(ne, h2, NE_SONAME, f)
	FY_FUNCS(FY_LOAD)
	NE_FUNCS(NE_LOAD)
#undef FY_LOAD
#undef NE_LOAD
#undef DL_LOAD
	fyh = h1;
	neh = h2;
	return 0;
}
