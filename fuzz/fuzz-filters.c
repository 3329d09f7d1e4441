/* SPDX-License-Identifier: Apache-2.0 */
/* Docker's filters= parser and its matchers, and the since/until time parser. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct berth_error *err = NULL;
	struct berth_filters *f = NULL;
	char *text = malloc(size + 1);
	int64_t t;
	bool b;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (berth_filters_parse(text, &f, &err) == 0) {
		const char *accepted[] = {"label", "name", NULL};
		struct berth_key_value kv[] = {{"a", "1"}, {"name", "x"}};
		berth_filters_validate(f, accepted, &err);
		berth_filters_exact_match(f, "name", "x");
		berth_filters_fuzzy_match(f, "name", "xyz");
		berth_filters_match_kv(f, "label", kv, 2);
		berth_filters_bool(f, "dangling", false, &b, &err);
		berth_filters_values(f, "label");
		berth_filters_free(f);
	}
	berth_api_parse_time(text, 1700000000LL * 1000000000LL, &t, &err);
	berth_error_free(err);
	free(text);
	return 0;
}
