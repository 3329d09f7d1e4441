/* SPDX-License-Identifier: Apache-2.0 */
/*
 * linux.seccomp of config.json: the section's parser, then the filter built from it with
 * libseccomp (built, never loaded).
 */
#include "runtime/linux.h"
#include "section.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct berth_spec *s = parse_with_section(data, size, "linux", "seccomp");
	struct berth_seccomp_filter *f = NULL;

	if (s && s->linux_.seccomp && berth_seccomp_compile(s->linux_.seccomp, &f, NULL) == 0)
		berth_seccomp_filter_free(f);
	berth_spec_free(s);
	return 0;
}
