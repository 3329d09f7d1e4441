/* SPDX-License-Identifier: Apache-2.0 */
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "dl.h"

#include "banned.h"

static int load_locked(struct berth_dl *dl)
{
	/*
	 * RTLD_LOCAL: the library's symbols stay out of the global scope, so nothing loaded later
	 * binds to them by accident.  No RTLD_DEEPBIND: AddressSanitizer refuses it, and our own
	 * definitions of these names are hidden, so the library cannot bind to them anyway.
	 */
	void *h = dlopen(dl->soname, RTLD_NOW | RTLD_LOCAL);

	if (!h) {
		const char *why = dlerror();

		snprintf(dl->why, sizeof(dl->why), "cannot load '%s': %s", dl->soname,
			 why ? why : "unknown error");
		return -1;
	}
	for (size_t i = 0; i < dl->n; i++) {
		dl->ptrs[i] = dlsym(h, dl->names[i]);
		if (!dl->ptrs[i]) {
			snprintf(dl->why, sizeof(dl->why), "'%s' has no %s", dl->soname,
				 dl->names[i]);
			dlclose(h);
			return -1;
		}
	}
	/* never closed: the pointers are used for the rest of the process */
	return 1;
}

static int load(struct berth_dl *dl)
{
	int state = __atomic_load_n(&dl->state, __ATOMIC_ACQUIRE);

	if (state)
		return state;
	pthread_mutex_lock(&dl->lock);
	state = dl->state;
	if (!state) {
		state = load_locked(dl);
		__atomic_store_n(&dl->state, state, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&dl->lock);
	return state;
}

int berth_dl_load(struct berth_dl *dl, struct berth_error **err)
{
	if (load(dl) > 0)
		return 0;
	return berth_error_set(err, ELIBACC, "%s", dl->why);
}

void *berth_dl_sym(struct berth_dl *dl, size_t i)
{
	return load(dl) > 0 ? dl->ptrs[i] : NULL;
}

void *berth_dl_need(struct berth_dl *dl, size_t i)
{
	void *f = berth_dl_sym(dl, i);

	/* unreachable unless a table marks a constructor as BERTH_DL_FN: fail loudly, not at 0x0 */
	if (!f)
		abort();
	return f;
}
