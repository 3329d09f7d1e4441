/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The DNS query parser, which reads what a container sends to berthd's name server.  Besides
 * not crashing: a query that parses has a name within the limits, and its answer (built into
 * a 512-byte buffer) echoes the question byte for byte.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net/net.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct berth_dns_query q;
	uint8_t out[512];
	uint32_t addrs[BERTH_DNS_MAX_ANSWERS] = {0x0a000001};

	if (berth_dns_parse_query(data, size, &q) != 0)
		return 0;
	if (strlen(q.name) > 253 || q.question_end > size || q.question_end < 17)
		abort();
	ssize_t n = berth_dns_build_answer(&q, data, 0, addrs, 1, 60, out, sizeof(out));
	if (n >= 0 && memcmp(out + 12, data + 12, q.question_end - 12) != 0)
		abort();
	return 0;
}
