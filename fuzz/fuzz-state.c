/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The state file (<root>/<id>/state.json) as every command loads it: the input is written as a
 * container's state in a private state root, then loaded.  A state file is written by us, but
 * whoever can write the state root must not be able to crash the runtime with it.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/runtime.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char root[] = "/tmp/berth-fuzz-state.XXXXXX";

static void cleanup(void)
{
	berth_rm_rf(root, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	struct berth_runtime_opts o = {.state_root = root};
	struct berth_container *c = NULL;

	if (!ready) {
		if (!mkdtemp(root))
			abort();
		char dir[sizeof(root) + 8];
		snprintf(dir, sizeof(dir), "%s/c", root);
		if (mkdir(dir, 0700) < 0)
			abort();
		atexit(cleanup);
		ready = true;
	}
	char path[sizeof(root) + 32];
	snprintf(path, sizeof(path), "%s/c/state.json", root);
	if (berth_write_file_replace_at(AT_FDCWD, path, data, size, 0600, NULL) < 0)
		abort();
	if (berth_container_load(&o, "c", &c, NULL) == 0) {
		json_decref(berth_container_state_json(c));
		berth_container_free(c);
	}
	return 0;
}
