/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>

#include "json.h"
#include "banned.h"

int berth_json_parse(const char *data, size_t len, json_t **ret, struct berth_error **err)
{
	json_error_t je;
	json_t *j = json_loadb(data, len, JSON_REJECT_DUPLICATES, &je);

	if (!j)
		return berth_error_set(err, EINVAL, "invalid JSON at line %d column %d: %s",
				       je.line, je.column, je.text);
	*ret = j;
	return 0;
}

int berth_json_load_file(const char *path, size_t max_size, json_t **ret, struct berth_error **err)
{
	_cleanup_free_ char *data = NULL;
	size_t len;
	int r;

	r = berth_read_file_at(AT_FDCWD, path, max_size, &data, &len, err);
	if (r < 0)
		return r;
	r = berth_json_parse(data, len, ret, err);
	if (r < 0)
		return berth_error_wrap(err, "parse '%s'", path);
	return 0;
}

char *berth_json_dump(const json_t *j)
{
	return json_dumps(j, JSON_COMPACT);
}
