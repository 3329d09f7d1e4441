/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The chunked decoder, fed in pieces whose sizes come from the input's first byte: the result
 * must not depend on how the bytes arrive.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/http-internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int decode(const uint8_t *data, size_t size, size_t step, size_t max, uint8_t *out,
		  size_t *out_len)
{
	struct http_chunked c = {0};
	size_t pos = 0;
	int r = 0;

	*out_len = 0;
	while (pos < size) {
		size_t avail = size - pos < step ? size - pos : step, used = 0;
		while (used < avail) {
			size_t consumed, off, dlen;
			r = http_chunked_feed(&c, (const char *)data + pos + used, avail - used,
					      max, &consumed, &off, &dlen);
			if (r < 0)
				return r;
			memcpy(out + *out_len, data + pos + used + off, dlen);
			*out_len += dlen;
			used += consumed;
			if (r == 1 || consumed == 0)
				break;
		}
		if (r == 1)
			return 1;
		if (used == 0)
			return -1; /* no progress: the decoder must always consume something */
		pos += used;
	}
	return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *a, *b;
	size_t alen, blen;
	int ra, rb;

	if (size < 1 || size > 1 << 20)
		return 0;
	size_t step = (size_t)data[0] % 17 + 1;
	a = malloc(size);
	b = malloc(size);
	if (!a || !b) {
		free(a);
		free(b);
		return 0;
	}
	ra = decode(data + 1, size - 1, size, SIZE_MAX, a, &alen);
	rb = decode(data + 1, size - 1, step, step, b, &blen);
	if (ra != rb || (ra >= 0 && (alen != blen || memcmp(a, b, alen) != 0)))
		abort(); /* the same bytes in other pieces decoded differently */
	free(a);
	free(b);
	return 0;
}
