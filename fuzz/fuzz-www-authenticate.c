/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The WWW-Authenticate parser (what a registry, hostile or not, sends with a 401) and the
 * X-Registry-Auth decoder (what an API client sends).  Besides not crashing: a parsed challenge
 * has a scheme, and every parameter a name and a value.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "registry/registry.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct berth_registry_challenge c = {0};
	struct berth_registry_auth a;
	struct berth_error *err = NULL;
	json_t *j = NULL;
	char *s = malloc(size + 1);

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (berth_registry_challenge_parse(s, &c, &err) == 0) {
		if (!c.scheme || !*c.scheme)
			abort();
		for (size_t i = 0; i < c.n_params; i++)
			if (!c.params[i].key || !*c.params[i].key || !c.params[i].value)
				abort();
		berth_registry_challenge_release(&c);
	} else if (!err || err->code != EINVAL) {
		abort();
	}
	berth_error_free(err);
	err = NULL;
	if (berth_registry_auth_decode(s, &a, &j, &err) == 0) {
		if (*s && !json_is_object(j))
			abort();
		json_decref(j);
	} else if (!err || err->code != EINVAL) {
		abort();
	}
	berth_error_free(err);
	free(s);
	return 0;
}
