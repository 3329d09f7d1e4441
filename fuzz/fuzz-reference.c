/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The image reference parser.  Besides not crashing: whatever parses must print back to a string
 * that parses to the same reference, in its full and (where docker's grammar allows) its
 * familiar form.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "image/image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct berth_reference *ref = NULL;
	struct berth_error *err = NULL;
	char *s = malloc(size + 1), *full = NULL, *fam = NULL, *again = NULL, *again2 = NULL;

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (berth_reference_parse(s, &ref, &err) == 0) {
		full = berth_reference_string(ref);
		fam = berth_reference_familiar(ref);
		if (!full || !fam)
			abort();
		if (berth_reference_normalize(full, &again, NULL) < 0 ||
		    berth_reference_normalize(fam, &again2, NULL) < 0)
			abort();
		/*
		 * "docker.io/a.b/c" is familiar "a.b/c", which names the registry a.b: docker's
		 * grammar, not ours.  Elsewhere the familiar form means the same image.
		 */
		size_t first = strcspn(ref->path, "/");
		bool domain_like =
			strcmp(ref->domain, "docker.io") == 0 &&
			(memchr(ref->path, '.', first) || memchr(ref->path, ':', first) ||
			 (first == 9 && strncmp(ref->path, "localhost", 9) == 0));
		if (!domain_like && strcmp(again, again2) != 0)
			abort();
		if ((ref->tag || ref->digest) && strcmp(again, full) != 0)
			abort();
	} else if (!err || !err->msg || err->code != EINVAL) {
		abort();
	}
	free(full);
	free(fam);
	free(again);
	free(again2);
	berth_reference_free(ref);
	berth_error_free(err);
	free(s);
	return 0;
}
