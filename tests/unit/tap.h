/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * A very small TAP producer for unit tests: ok()/is()/is_str() print "ok N - what" or
 * "not ok N - what" with the values that differed; done_testing() prints the plan and returns
 * the exit code.  meson's test runner reads TAP (protocol: 'tap').
 */

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static int tap_n, tap_failed;

/* Line-buffered even into meson's pipe: a test killed at its timeout still shows how far it got. */
__attribute__((constructor)) static void tap_line_buffered(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
}

#define ok(cond, ...)                                                                              \
	({                                                                                         \
		int _c = !!(cond);                                                                 \
		tap_n++;                                                                           \
		if (!_c)                                                                           \
			tap_failed++;                                                              \
		printf("%sok %d - ", _c ? "" : "not ", tap_n);                                     \
		printf(__VA_ARGS__);                                                               \
		printf("\n");                                                                      \
		if (!_c)                                                                           \
			printf("#   at %s:%d\n", __FILE__, __LINE__);                              \
		_c;                                                                                \
	})

#define is(got, want, ...)                                                                         \
	({                                                                                         \
		int64_t _g = (int64_t)(got), _w = (int64_t)(want);                                 \
		int _same = ok(_g == _w, __VA_ARGS__);                                             \
		if (!_same)                                                                        \
			printf("#   got %" PRId64 ", want %" PRId64 "\n", _g, _w);                 \
		_same;                                                                             \
	})

#define is_str(got, want, ...)                                                                     \
	({                                                                                         \
		const char *_g = (got), *_w = (want);                                              \
		int _same = ok((_g == NULL && _w == NULL) || (_g && _w && strcmp(_g, _w) == 0),    \
			       __VA_ARGS__);                                                       \
		if (!_same)                                                                        \
			printf("#   got '%s', want '%s'\n", _g ? _g : "(null)",                    \
			       _w ? _w : "(null)");                                                \
		_same;                                                                             \
	})

static inline int done_testing(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed ? 1 : 0;
}
