/* SPDX-License-Identifier: Apache-2.0 */
/*
 * docker import --change: the Dockerfile reader (berthd's dockerfile.c), the shell lexer and the
 * instructions applied to a config.  The input is split at NUL bytes into the list of changes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../daemon/daemon.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct berth_error *err = NULL;
	char *text = malloc(size + 1), **v = NULL;
	size_t n = 0;
	json_t *cfg = NULL;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	v = calloc(size + 2, sizeof(char *));
	if (!v) {
		free(text);
		return 0;
	}
	for (size_t i = 0, start = 0; i <= size; i++)
		if (i == size || text[i] == '\0') {
			v[n++] = text + start;
			start = i + 1;
		}
	if (daemon_image_changes(v, n, &cfg, &err) == 0)
		json_decref(cfg);
	berth_error_free(err);
	free(v);
	free(text);
	return 0;
}
