/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The documents berth-runtime reads beside config.json: exec's --process file (a process
 * object) and update's -r file (a resources object); one input is given to both.
 */
#include <stdint.h>

#include "runtime/runtime.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *j = NULL;
	struct berth_process *p = NULL;
	struct berth_resources *r = NULL;

	if (berth_spec_json_parse((const char *)data, size, &j, NULL) < 0)
		return 0;
	if (berth_process_parse(j, &p, NULL) == 0)
		berth_process_free(p);
	if (berth_resources_parse(j, &r, NULL) == 0)
		berth_resources_free(r);
	json_decref(j);
	return 0;
}
