/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * docker's archive of one context (context export/import): a USTAR tar of meta.json and the tls
 * directory, as Go's archive/tar writes it (mtime 0, root-owned, no end-of-archive blocks).
 * berth's contexts hold no TLS material, so its tls directory is always empty.  Pure: no files.
 */

#include <jansson.h>
#include <stddef.h>

#include "sbuf.h"

/* The archive of a context whose meta.json is meta[0..len), byte for byte docker's, appended. */
void context_tar_write(struct sbuf *out, const char *meta, size_t len);

/*
 * The meta.json of an archive in data[0..len): 0 with *ret (a JSON object), or -1 with the
 * message in *ret_err (malloc'd): Go's tar reader's ("unexpected EOF", "archive/tar: invalid tar
 * header") for a broken archive, docker's "invalid context: no metadata found" for one without
 * it; a file under tls/ is refused (berth has nothing to present TLS material to).
 */
int context_tar_meta(const void *data, size_t len, json_t **ret, char **ret_err);
