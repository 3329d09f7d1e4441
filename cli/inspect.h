/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * docker's inspect (cli/command/inspect and system/inspect.go): look up each name, then print
 * the daemon's answers as one indented JSON array (no --format), one compact array (--format
 * json), or a template's output per object.  A template runs on the object as docker's Go type
 * (a schema), and when that fails, on the raw JSON with missingkey=error, as docker's
 * tryRawInspectFallback.  Names not found are errors joined at the end (exit 1) after what was
 * found is printed.
 *
 * The object types are a table (inspect_types[]) in docker's search order; `inspect` without
 * --type tries them in turn, skipping the ones that do not know the name.  A type gets its
 * template schema by filling .schema (the containers' type has none yet: its templates run on
 * the JSON as it is, fields found by name).
 */

#include "cli.h"

struct inspect_type {
	const char *name;    /* "container", "image" */
	const char *path;    /* the endpoint, "%s" for the escaped name: "/images/%s/json" */
	const char *query;   /* a query to add, or NULL */
	bool size_supported; /* --size means something for it */
	bool swarm;	     /* asked only of a swarm manager */
	/* docker's client trims the name and refuses an empty one as "invalid <trim_as> name or
	 * ID: value is empty" (NULL: the image's way, "Error: No such image: ", untrimmed) */
	const char *trim_as;
	const struct tschema *schema; /* docker's Go type for templates, or NULL */
};

/* docker's order: container, image, network, volume, service, task, node, plugin, secret, config */
extern const struct inspect_type inspect_types[];
extern const size_t n_inspect_types;
const struct inspect_type *inspect_type_find(const char *name);

/* docker's image.InspectResponse */
extern const struct tschema image_inspect_schema;

/* One object found: its raw answer and its type. */
struct inspect_obj {
	char *raw; /* the daemon's bytes (a cli_call body: freed with cli_arena_free) */
	size_t len;
	json_t *json;
	const struct tschema *schema;
	/* no raw JSON to try when the typed object fails the template (docker's getRef gave none:
	 * volume inspect): the typed error is the one */
	bool typed_only;
};

/*
 * Look up ref: fill *ret and return 0, or return -1 with the error's message in *ret_err
 * (malloc'd; docker's wording).
 */
typedef int (*inspect_get_fn)(struct cli *c, const char *ref, void *data, struct inspect_obj *ret,
			      char **ret_err);

/* Look every ref up and print them (see above); returns the exit code (64: a bad template). */
int inspect_run(struct cli *c, char *const *refs, int n, const char *format, inspect_get_fn get,
		void *data);

/* Fetch one object of type t ("Error: No such image: " for an empty name, as docker's client
 * says without asking).  *ret_not_found: docker's errdefs.IsNotFound (a 404, or that). */
int inspect_fetch(struct cli *c, const struct inspect_type *t, const char *ref, bool size,
		  struct inspect_obj *ret, char **ret_err, bool *ret_not_found);

void inspect_obj_release(struct inspect_obj *o);

/* Go's json.Indent (indent != NULL, prefix "") or json.Compact of src, appended: the bytes as the
 * daemon wrote them, spacing aside.  -1 when src is not JSON. */
int json_reformat(struct sbuf *out, const char *src, size_t n, const char *indent);
