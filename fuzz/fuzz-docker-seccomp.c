/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A Docker-format seccomp profile (a create request's `seccomp=<profile>` security option,
 * berthd's --seccomp-profile) converted to the OCI section, for two targets so that the
 * includes/excludes by arch, capability and kernel are taken both ways.
 */
#include <stdint.h>

#include "dockerspec/dockerspec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char *const caps[] = {"CAP_SYS_ADMIN", "CAP_NET_ADMIN", NULL};
	const struct berth_dockerspec_seccomp_target targets[] = {
		{.arch = "amd64", .caps = caps, .kernel_major = 6, .kernel_minor = 1},
		{.arch = "arm64", .caps = caps + 2, .kernel_major = 4, .kernel_minor = 14},
	};
	for (size_t i = 0; i < 2; i++) {
		json_t *out = NULL;
		if (berth_dockerspec_seccomp_convert((const char *)data, size, &targets[i], &out,
						     NULL) == 0)
			json_decref(out);
	}
	return 0;
}
