/* SPDX-License-Identifier: Apache-2.0 */
/* The cgroup drivers' mountinfo parser: finds hierarchies under the cgroup root. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cgroup/cgroup-internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cg_hierarchy *h = NULL;
	struct berth_error *err = NULL;
	size_t n = 0;
	char *text = malloc(size + 1);

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (cg_parse_mountinfo(text, "/sys/fs/cgroup", &h, &n, &err) == 0)
		cg_hierarchies_free(h, n);
	berth_error_free(err);
	free(text);
	return 0;
}
