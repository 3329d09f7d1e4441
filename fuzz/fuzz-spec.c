/* SPDX-License-Identifier: Apache-2.0 */
#include <stdint.h>

#include "runtime/runtime.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct berth_spec *s = NULL;
	struct berth_error *err = NULL;

	if (berth_spec_parse((const char *)data, size, &s, &err) == 0)
		berth_spec_free(s);
	berth_error_free(err);
	return 0;
}
