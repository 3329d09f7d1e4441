/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * What berth build and berth compose build share: the build context as a tar, and POST /build
 * with its JSON stream.  libarchive is loaded at run time: la_load() must have succeeded before
 * the context functions are called.
 */

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "cli.h"

struct berth_ignore;

/*
 * The context directory dir (NULL: none) as a tar in an unlinked temporary file (rewound), what
 * ig excludes left out (except dockerfile and .dockerignore, always sent), and extra (extra_len
 * bytes, a Dockerfile from elsewhere) added under extra_name when not NULL.  *ret_size: its
 * bytes.  0, or -1 with the error printed.
 */
int build_context_tar(const char *dir, const struct berth_ignore *ig, const char *dockerfile,
		      const char *extra, size_t extra_len, const char *extra_name, int *ret_fd,
		      off_t *ret_size);

/*
 * A directory context as docker build sends it: path (a directory), file the Dockerfile's path
 * (NULL or "": path/Dockerfile; "-": read from stdin), the context's .dockerignore applied.  A
 * Dockerfile outside the context is sent under a name of its own.  *ret_dockerfile: the
 * Dockerfile's name in the tar (malloc'd).  0, or -1 with the error printed.
 */
int build_context_dir(const char *path, const char *file, int *ret_fd, off_t *ret_size,
		      char **ret_dockerfile);

/* All of fd (to its end), malloc'd, *len its bytes; NULL with errno on a read error. */
char *build_read_all_fd(int fd, size_t *len);

enum build_output {
	BUILD_OUT_STREAM, /* the builder's stream rendered on stdout as docker does */
	BUILD_OUT_QUIET,  /* nothing until the end, then what the daemon said (the id, with q=1) */
	BUILD_OUT_SILENT, /* nothing on success; the stream on stderr on failure */
};

/*
 * POST target (/build?...) with the context tar and read the builder's stream to its end.
 * Returns 0 with the image id in *ret_id (malloc'd, NULL when the daemon gave none), or the
 * exit code (a failed RUN's code, else 1) with the error printed.
 */
int build_post(struct cli *c, const char *target, int tar, enum build_output out, char **ret_id);
