/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The query string of an API request (a=1&b=%20x&a=3) and what the routes read from it: the
 * decoded keys and values, Docker's booleans and integers, and filters= through the filters
 * parser.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/http-internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_query q;
	char *text = malloc(size + 1);

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (http_query_parse(text, &q) == 0) {
		ssize_t i = http_query_find(&q, "filters");
		if (i >= 0 && q.values[i] && q.values[i][0]) {
			struct berth_filters *f = NULL;
			if (berth_filters_parse(q.values[i][0], &f, NULL) == 0)
				berth_filters_free(f);
		}
		for (size_t k = 0; k < q.n; k++)
			for (char **v = q.values[k]; v && *v; v++)
				if (strlen(*v) > size)
					abort(); /* decoding never grows a value */
		http_query_release(&q);
	}
	free(text);
	return 0;
}
