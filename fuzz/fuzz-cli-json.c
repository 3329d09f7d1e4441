/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The CLI's JSON reader against jansson's, differentially: whatever cli_json_load() takes,
 * json_loadb() takes too, to an equal value with its keys in the same order.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json-load.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *a = cli_json_load((const char *)data, size);
	json_t *b;

	if (!a)
		return 0;
	b = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL);
	if (!b || !json_equal(a, b))
		abort();
	char *da = json_dumps(a, JSON_COMPACT | JSON_ENCODE_ANY);
	char *db = json_dumps(b, JSON_COMPACT | JSON_ENCODE_ANY);
	if (!da || !db || strcmp(da, db) != 0)
		abort();
	free(da);
	free(db);
	json_decref(a);
	json_decref(b);
	return 0;
}
