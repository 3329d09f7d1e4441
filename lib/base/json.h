/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * lib/base, its JSON part (the berth-base library, over berth-base-core): jansson helpers.  Only
 * code that already needs jansson includes this; core.h never does.
 */

#include <jansson.h>

#include "core.h"

/* ---- JSON ------------------------------------------------------------------------------- */

static inline void berth_json_decrefp(json_t **j)
{
	if (*j)
		json_decref(*j);
}
#define _cleanup_json_ _cleanup_(berth_json_decrefp)

/* Parse a JSON document of at most max_size bytes; the error gives line and column. */
int berth_json_parse(const char *data, size_t len, json_t **ret, struct berth_error **err);

/* Read and parse a JSON file of at most max_size bytes. */
int berth_json_load_file(const char *path, size_t max_size, json_t **ret, struct berth_error **err);

/* Serialize compactly; the caller frees the string. */
char *berth_json_dump(const json_t *j);
