/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/*
 * For targets that fuzz one section of config.json: the input, parsed as JSON, is put into
 * berth_spec_default()'s config at a path ("linux", "seccomp"), so that every input reaches the
 * section's parser instead of dying on a missing root or process.
 */
#include <stdint.h>
#include <string.h>

#include "runtime/runtime.h"

static inline struct berth_spec *parse_with_section(const uint8_t *data, size_t size,
						    const char *outer, const char *inner)
{
	static json_t *base;
	json_t *j = NULL, *v = NULL, *at;
	struct berth_spec *s = NULL;

	if (!base)
		base = berth_spec_default(false);
	if (!base || berth_spec_json_parse((const char *)data, size, &v, NULL) < 0)
		return NULL;
	j = json_deep_copy(base);
	at = inner ? json_object_get(j, outer) : j;
	if (at && json_object_set_new(at, inner ? inner : outer, v) == 0)
		berth_spec_parse_json(j, &s, NULL);
	else
		json_decref(v);
	json_decref(j);
	return s;
}
