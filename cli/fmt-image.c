/* SPDX-License-Identifier: Apache-2.0 */
/*
 * docker's imageContext (cli/command/formatter/image.go): one row of `images` or of `system df
 * -v`'s images, its methods computed from an image.Summary.
 */
#include <inttypes.h>
#include <string.h>

#include "format.h"
#include "units.h"
#include "base/banned.h"

const char *const image_header_pairs[] = {
	"ID",	      "IMAGE ID",    "Repository",   "REPOSITORY",  "Tag",	   "TAG",
	"Digest",     "DIGEST",	     "CreatedSince", "CREATED",	    "CreatedAt",   "CREATED AT",
	"Size",	      "SIZE",	     "Containers",   "CONTAINERS",  "VirtualSize", "SIZE",
	"SharedSize", "SHARED SIZE", "UniqueSize",   "UNIQUE SIZE", NULL,
};

bool image_dangling(json_t *s)
{
	json_t *tags = json_object_get(s, "RepoTags"), *digests = json_object_get(s, "RepoDigests");

	if (json_array_size(tags) == 0 && json_array_size(digests) == 0)
		return true;
	return json_array_size(tags) == 1 &&
	       berth_streq(json_string_value(json_array_get(tags, 0)), "<none>:<none>") &&
	       json_array_size(digests) == 1 &&
	       berth_streq(json_string_value(json_array_get(digests, 0)), "<none>@<none>");
}

static void set_size(struct ctx_obj *c, const char *method, int64_t size, int precision)
{
	_cleanup_sbuf_ struct sbuf b = SBUF_INIT;

	human_size(&b, (double)size, precision);
	ctx_set(c, method, sbuf_str(&b));
}

void image_ctx_init(struct ctx_obj *c, json_t *s, const char *repo, const char *tag,
		    const char *digest, bool trunc)
{
	_cleanup_sbuf_ struct sbuf b = SBUF_INIT;
	const char *id = json_string_value(json_object_get(s, "Id"));
	int64_t created = json_integer_value(json_object_get(s, "Created"));
	int64_t size = json_integer_value(json_object_get(s, "Size"));
	json_t *jshared = json_object_get(s, "SharedSize"),
	       *jcont = json_object_get(s, "Containers");
	/* a field the daemon left out is Go's zero */
	int64_t shared = json_integer_value(jshared), containers = json_integer_value(jcont);

	ctx_obj_init(c, "*formatter.imageContext", NULL);
	if (!id)
		id = "";
	if (trunc) {
		truncate_id(&b, id);
		ctx_set(c, "ID", sbuf_str(&b));
	} else {
		ctx_set(c, "ID", id);
	}
	ctx_set(c, "Repository", repo);
	ctx_set(c, "Tag", tag);
	ctx_set(c, "Digest", digest);
	/* time.Unix(created, 0) is never the zero time: always "... ago" */
	sbuf_reset(&b);
	human_duration(&b, now_ns() - created * 1000000000);
	sbuf_adds(&b, " ago");
	ctx_set(c, "CreatedSince", sbuf_str(&b));
	sbuf_reset(&b);
	go_time_string(&b, created, 0);
	ctx_set(c, "CreatedAt", sbuf_str(&b));
	set_size(c, "Size", size, 3);
	set_size(c, "VirtualSize", size, 4);
	if (containers == -1) {
		ctx_set(c, "Containers", "N/A");
	} else {
		sbuf_reset(&b);
		sbuf_printf(&b, "%" PRId64, containers);
		ctx_set(c, "Containers", sbuf_str(&b));
	}
	if (shared == -1)
		ctx_set(c, "SharedSize", "N/A");
	else
		set_size(c, "SharedSize", shared, 4);
	if (size == -1 || shared == -1)
		ctx_set(c, "UniqueSize", "N/A");
	else
		set_size(c, "UniqueSize", size - shared, 4);
}
