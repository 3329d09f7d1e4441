/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Replays a fuzz target's checked-in corpus without libFuzzer: every file named on the command
 * line (or every file in a directory named there) is fed to LLVMFuzzerTestOneInput once.  The
 * normal test run does this under the sanitizers, so every crash once found stays fixed.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/base.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int replay_file(const char *path)
{
	_cleanup_free_ char *data = NULL;
	size_t len;

	if (berth_read_file_at(AT_FDCWD, path, 16u << 20, &data, &len, NULL) < 0) {
		fprintf(stderr, "cannot read '%s'\n", path);
		return 1;
	}
	LLVMFuzzerTestOneInput((const uint8_t *)data, len);
	return 0;
}

int main(int argc, char **argv)
{
	int failed = 0, n = 0;

	for (int i = 1; i < argc; i++) {
		struct stat st;
		if (stat(argv[i], &st) < 0) {
			fprintf(stderr, "cannot stat '%s'\n", argv[i]);
			return 1;
		}
		if (!S_ISDIR(st.st_mode)) {
			failed |= replay_file(argv[i]);
			n++;
			continue;
		}
		_cleanup_closedir_ DIR *d = opendir(argv[i]);
		struct dirent *de;
		while (d && (de = readdir(d))) {
			if (de->d_name[0] == '.')
				continue;
			_cleanup_free_ char *p = NULL;
			if (asprintf(&p, "%s/%s", argv[i], de->d_name) < 0)
				return 1;
			failed |= replay_file(p);
			n++;
		}
	}
	printf("replayed %d inputs\n", n);
	return failed;
}
