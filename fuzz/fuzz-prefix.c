/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The IPv4 prefix parser (--subnet, --ip-range, daemon.json's pools).  Whatever parses must
 * format back to the same text, and a pool made from it must hand out addresses inside it.
 * The IPv6 one too, except that its text is formatted canonically: the canonical text must
 * parse to the same prefix.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net/net.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct berth_net_prefix p;
	struct berth_error *err = NULL;
	char *s = malloc(size + 1), back[19];

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (berth_net_prefix_parse(s, &p, &err) == 0) {
		struct berth_ipam_pool pool;
		uint32_t a;

		berth_net_prefix_format(&p, back);
		if (strcmp(back, s) != 0)
			abort();
		if (p.len >= 16 && berth_ipam_pool_init(&pool, &p, NULL, 0, NULL) == 0) {
			if (berth_ipam_alloc(&pool, &a, NULL) == 0 &&
			    !berth_net_prefix_contains(&p, a))
				abort();
			berth_ipam_pool_release(&pool);
		}
	}
	berth_error_free(err);
	err = NULL;

	struct berth_net6_prefix p6, again;
	char back6[BERTH_NET6_PREFIX_MAX];
	if (berth_net6_prefix_parse(s, &p6, &err) == 0) {
		struct berth_ipam6_pool pool6;
		uint8_t a6[16];

		berth_net6_prefix_format(&p6, back6);
		if (berth_net6_prefix_parse(back6, &again, NULL) != 0 || again.len != p6.len ||
		    memcmp(again.addr, p6.addr, 16) != 0)
			abort();
		if (berth_ipam6_pool_init(&pool6, &p6, NULL, NULL, NULL) == 0) {
			if (berth_ipam6_alloc(&pool6, a6, NULL) == 0 &&
			    !berth_net6_prefix_contains(&p6, a6))
				abort();
			berth_ipam6_pool_release(&pool6);
		}
	}
	berth_error_free(err);
	free(s);
	return 0;
}
