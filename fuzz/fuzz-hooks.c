/* SPDX-License-Identifier: Apache-2.0 */
/* The hooks section of config.json (six kinds, path/args/env/timeout each). */
#include "section.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	berth_spec_free(parse_with_section(data, size, "hooks", NULL));
	return 0;
}
