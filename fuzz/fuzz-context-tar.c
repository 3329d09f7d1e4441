/* SPDX-License-Identifier: Apache-2.0 */
/*
 * context import's reader of docker's context archive.  Whatever it takes is a JSON object, and
 * the archive export writes of that object reads back to an equal one; whatever it refuses
 * comes with a message.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "context-tar.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *meta = NULL, *again = NULL;
	char *err = NULL;

	if (context_tar_meta(data, size, &meta, &err) < 0) {
		if (!err || !*err)
			abort();
		free(err);
		return 0;
	}
	if (!json_is_object(meta))
		abort();
	char *text = json_dumps(meta, JSON_COMPACT);
	struct sbuf tar = SBUF_INIT;
	context_tar_write(&tar, text, strlen(text));
	if (context_tar_meta(tar.p, tar.len, &again, &err) < 0 || !json_equal(meta, again))
		abort();
	sbuf_release(&tar);
	free(text);
	json_decref(meta);
	json_decref(again);
	return 0;
}
