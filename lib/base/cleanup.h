/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/*
 * Scope-bound resources, systemd style.  A variable marked with one of these is released when
 * it goes out of scope; TAKE_PTR/TAKE_FD hand ownership on and leave the variable empty.
 * File descriptors start at -EBADF; every destructor accepts an empty value.
 */
#define _cleanup_(f) __attribute__((cleanup(f)))

static inline void berth_freep(void *p)
{
	free(*(void **)p);
}

static inline void berth_closep(int *fd)
{
	if (*fd >= 0) {
		int saved = errno;
		close(*fd);
		errno = saved;
	}
}

static inline void berth_fclosep(FILE **f)
{
	if (*f)
		fclose(*f);
}

static inline void berth_closedirp(DIR **d)
{
	if (*d)
		closedir(*d);
}

#define _cleanup_free_	   _cleanup_(berth_freep)
#define _cleanup_close_	   _cleanup_(berth_closep)
#define _cleanup_fclose_   _cleanup_(berth_fclosep)
#define _cleanup_closedir_ _cleanup_(berth_closedirp)

#define TAKE_PTR(p)                                                                                \
	({                                                                                         \
		__typeof__(p) _p = (p);                                                            \
		(p) = NULL;                                                                        \
		_p;                                                                                \
	})

#define TAKE_FD(fd)                                                                                \
	({                                                                                         \
		int _fd = (fd);                                                                    \
		(fd) = -EBADF;                                                                     \
		_fd;                                                                               \
	})

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
