/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * Shared by the config.json parser's files: spec.c (the document, mounts, hooks, and the helpers
 * below), spec-process.c, spec-linux.c and spec-resources.c.  Not an API: nothing outside
 * lib/runtime/spec*.c includes it.
 *
 * Every error is an EINVAL that names the field as a path, "linux.devices[2].type"; a path is
 * "" for the document itself, and each helper joins path and key with a '.' only when both are
 * non-empty.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "linux.h"

/* Caps that more than one file applies (the rest sit next to their only user). */
#define MAX_ARGS 100000
#define MAX_ENV	 100000

/* Sets ENOMEM on *err and returns -ENOMEM. */
int spec_oom(struct berth_error **err);

/* Sets EINVAL with "<path>.<key>: <message>" (key may be NULL) and returns -EINVAL. */
int spec_ferr(struct berth_error **err, const char *path, const char *key, const char *fmt, ...)
	BERTH_PRINTF(4, 5);

/* "<path>.<key>[i]" (or "<path>[i]" when key is NULL), malloc'ed; NULL on ENOMEM. */
char *spec_elem_path(const char *path, const char *key, size_t i);

/* "<path>.<key>", malloc'ed; NULL on ENOMEM. */
char *spec_sub_path(const char *path, const char *key);

/* obj[key], with JSON null read as absent (NULL). */
json_t *spec_member(json_t *obj, const char *key);

/*
 * Typed getters for obj[key].  Each returns 1 when the field was given (and *ret is set), 0 when
 * it is absent (*ret untouched, except that get_object and get_array set it to NULL), or a
 * negative errno with *err set: a wrong type, a value out of range, more than max entries, or a
 * required field missing.  Strings are copied: get_string frees the old *ret, get_strv the old
 * vector; on a failure halfway through get_strv or get_map, what was allocated is already in *ret
 * for the caller's cleanup.
 */
int spec_get_string(json_t *obj, const char *path, const char *key, bool required, char **ret,
		    struct berth_error **err);
int spec_get_bool(json_t *obj, const char *path, const char *key, bool *ret,
		  struct berth_error **err);
/* An integer in min..max. */
int spec_get_int(json_t *obj, const char *path, const char *key, bool required, int64_t min,
		 int64_t max, int64_t *ret, struct berth_error **err);
/* Any integer, read as uint64 (see rewrite_big_integers() in spec.c): -1 reads as UINT64_MAX. */
int spec_get_u64(json_t *obj, const char *path, const char *key, bool required, uint64_t *ret,
		 struct berth_error **err);
int spec_get_object(json_t *obj, const char *path, const char *key, bool required, json_t **ret,
		    struct berth_error **err);
int spec_get_array(json_t *obj, const char *path, const char *key, size_t max, json_t **ret,
		   struct berth_error **err);

/* A name in a list of flag names, and its bit(s). */
struct spec_flag_name {
	const char *name;
	uint64_t flag;
};

/*
 * obj[key], optional, an array of at most max flag names from table: *ret |= their bits.
 * An unknown name is EINVAL naming it.
 */
int spec_get_flag_names(json_t *obj, const char *path, const char *key, size_t max,
			const struct spec_flag_name *table, size_t n_table, uint64_t *ret,
			struct berth_error **err);
/* An array of strings -> a NULL-terminated vector. */
int spec_get_strv(json_t *obj, const char *path, const char *key, size_t max, char ***ret,
		  struct berth_error **err);
/* An object of strings -> key/value pairs in the document's order; none allocated when empty. */
int spec_get_map(json_t *obj, const char *path, const char *key, size_t max,
		 struct berth_key_value **ret, size_t *ret_n, struct berth_error **err);

/*
 * Element i of the array arr (found at path.key), which must be an object.  Sets *ret_path (the
 * caller frees it, on failure too) to its path for errors; returns 0 or a negative errno.
 */
int spec_array_elem(json_t *arr, size_t i, const char *path, const char *key, json_t **ret,
		    char **ret_path, struct berth_error **err);

/* Frees n key/value pairs and the array; accepts NULL. */
void spec_free_kv(struct berth_key_value *kv, size_t n);

/* uidMappings/gidMappings (mounts and linux): 1 when given (maybe empty), 0 when absent, or -errno. */
int spec_parse_id_mappings(json_t *obj, const char *path, const char *key,
			   struct berth_id_mapping **ret, size_t *ret_n, struct berth_error **err);

/* A cpu or memory-node list as the kernel writes it: "0-3,7". */
bool spec_valid_cpu_list(const char *s);

/*
 * The sections.  Each sets *ret as soon as it allocates, so that on failure the caller frees
 * what was parsed so far (berth_process_free, berth_resources_free, spec_linux_release).
 */
int spec_parse_process(json_t *j, const char *path, struct berth_process **ret,
		       struct berth_error **err);
int spec_parse_resources(json_t *j, const char *path, struct berth_resources **ret,
			 struct berth_error **err);
/* root.linux, if present, into *l (zeroed by the caller). */
int spec_parse_linux(json_t *root, struct berth_linux *l, struct berth_error **err);
/* Frees what *l points to, not l itself. */
void spec_linux_release(struct berth_linux *l);
