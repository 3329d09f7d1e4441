/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Docker API's container create request through lib/dockerspec, as berthd will take it:
 * the body checked and normalised (against a fixed host), merged with an image config, turned
 * into an OCI spec for a root with no /etc/passwd.  The first input byte picks the API version
 * (1.24 ... 1.44) so that the version-dependent rules are reached too.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dockerspec/dockerspec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char root[] = "/tmp/berth-fuzz-rootfs.XXXXXX";

static void cleanup(void)
{
	rmdir(root);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	struct berth_dockerspec_host h = {
		.ncpu = 2,
		.cpus = (char *)"0-1",
		.mems = (char *)"0",
		.memory_limit = true,
		.swap_limit = true,
		.memory_swappiness = true,
		.memory_reservation = true,
		.oom_kill_disable = true,
		.cpu_cfs = true,
		.cpu_shares = true,
		.cpuset = true,
		.pids_limit = true,
		.blkio_weight = true,
		.seccomp = true,
		.ping_group_range = true,
		.unprivileged_port_start = true,
		.kernel_major = 6,
		.kernel_minor = 1,
		.cap_last_cap = 40,
		.arch = (char *)"amd64",
		.hostname = (char *)"thehost",
	};
	struct berth_dockerspec_create c = {0};
	json_t *body = NULL, *spec = NULL;
	char version[8];

	if (!ready) {
		if (!mkdtemp(root))
			abort();
		atexit(cleanup);
		ready = true;
	}
	if (size < 1)
		return 0;
	snprintf(version, sizeof(version), "1.%u", 24 + data[0] % 21);
	if (berth_json_parse((const char *)data + 1, size - 1, &body, NULL) < 0)
		return 0;
	h.cgroup2 = data[0] & 0x80;
	if (berth_dockerspec_create_normalize(body, version, &h, NULL, &c, NULL) == 0) {
		json_t *image = json_pack("{s:[s], s:[s], s:s}", "Cmd", "sh", "Env", "PATH=/bin",
					  "WorkingDir", "/");
		if (berth_dockerspec_merge_image(c.config, image, NULL) == 0) {
			struct berth_dockerspec_container ct = {
				.id = "0123456789abcdef0123456789abcdef"
				      "0123456789abcdef0123456789abcdef",
				.config = c.config,
				.host_config = c.host_config,
				.rootfs = root,
			};
			if (berth_dockerspec_oci_spec(&ct, NULL, &h, &spec, NULL) == 0)
				json_decref(spec);
		}
		json_decref(image);
		berth_dockerspec_create_release(&c);
	}
	json_decref(body);
	return 0;
}
