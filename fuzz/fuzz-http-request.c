/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The server's request path without a socket: find the end of the head, parse it, then decode
 * the rest as a chunked body when the head says so, and split the target's query.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/http-internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct berth_error *err = NULL;
	struct http_head h;
	size_t scan = 0, end;
	int status;
	char *buf;

	if (size > BERTH_HTTP_MAX_HEAD + 4096)
		return 0;
	buf = malloc(size + 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	end = http_head_end(buf, size, &scan);
	if (end && http_parse_head(buf, end, true, &h, &status, &err) == 0) {
		const char *q = strchr(h.target, '?');
		struct http_query query;
		char *path = NULL;
		if (http_unescape(h.target, q ? (size_t)(q - h.target) : strlen(h.target), false,
				  &path) == 0)
			free(path);
		if (q && http_query_parse(q + 1, &query) == 0)
			http_query_release(&query);
		if (h.chunked) {
			/* the body follows the head in the same buffer; data points at the copy */
			struct http_chunked c = {0};
			const char *in = (const char *)data + end;
			size_t left = size - end;
			while (left) {
				size_t consumed, off, dlen;
				int r = http_chunked_feed(&c, in, left, 4096, &consumed, &off,
							  &dlen);
				if (r != 0 || consumed == 0)
					break;
				in += consumed;
				left -= consumed;
			}
		}
	}
	berth_error_free(err);
	free(buf);
	return 0;
}
