/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * The classic builder's parts (build.c: POST /build, the stages and steps, the cache;
 * build-copy.c: COPY and ADD).  docs/build.md is the long form.
 */

#include <stdbool.h>
#include <sys/stat.h>

#include "daemon.h"
#include "image/image.h"

/* Where ADD puts what it downloads, in the context, for the one step (never unpacked there). */
#define BUILD_URL_DIR ".berth-add-"

/* One file, directory or link a COPY takes from its source tree. */
struct build_copy_entry {
	char *src;  /* path in the source tree ("a/b"), resolved */
	char *name; /* its name under the destination ("b", "b/c"; "" for the top of a dir) */
	struct stat st;
	char *link; /* a symlink's target */
	bool top;   /* the top of a source (a file, or the directory whose contents are copied) */
};

/* The sources of one COPY/ADD, resolved and hashed before the step runs (the cache key). */
struct build_copy {
	struct build_copy_entry *v;
	size_t n, cap;
	size_t n_sources; /* after wildcards */
	bool single_file; /* exactly one source, a file */
	char *hash;	  /* "file:<hex>", "dir:<hex>", "multi:<hex>" */
};

/*
 * Resolve srcs (already expanded) inside the tree src_fd (the build context, or the root of a
 * stage or an image for --from): wildcards (path.Match per component), each path resolved in
 * the tree, a directory walked (its contents are what is copied).  in_context: a path leaving
 * the tree ("../x") is docker's "forbidden path outside the build context" instead of clamped.
 * Docker's messages for a missing file and an empty wildcard.  The content hash ignores times
 * and owners: touching a file keeps the cache.
 */
int build_copy_collect(int src_fd, char *const *srcs, bool in_context, const char *cmd,
		       struct build_copy *ret, struct berth_error **err);

/*
 * Copy what build_copy_collect found into the root root_fd (the step's mounted overlay) at
 * dest (absolute, cleaned; dest_dir: it ended with "/" or names several sources): files keep
 * their modes and times, owners become uid:gid, chmod (>= 0) replaces every mode.  add: a
 * local tar archive (plain or compressed) is unpacked at dest instead of copied.
 */
int build_copy_apply(const struct build_copy *c, int src_fd, int root_fd, const char *dest,
		     bool dest_dir, uid_t uid, gid_t gid, int chmod, bool add, const char *cmd,
		     struct berth_error **err);

void build_copy_release(struct build_copy *c);

/* Make path (absolute) and its missing parents inside root_fd, new ones owned by uid:gid. */
int build_mkdir_in_root(int root_fd, const char *path, uid_t uid, gid_t gid,
			struct berth_error **err);

/*
 * --chown's "user[:group]" in the root root_fd: numbers as they are, names looked up in its
 * /etc/passwd and /etc/group (docker's messages when absent).
 */
int build_chown_parse(int root_fd, const char *spec, uid_t *ret_uid, gid_t *ret_gid,
		      struct berth_error **err);

/*
 * A step's cache key: the hex sha256 of the parent image id ("" for none), the container
 * config the step commits with (keys sorted: the same config gives the same key whatever
 * order it was built in) and extra (what the config does not show: COPY's --from, --chown,
 * --chmod).  NULL on ENOMEM.
 */
char *build_cache_key(const char *parent, const json_t *cc, const char *extra);
