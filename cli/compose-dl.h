/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * libfyaml and nettle's SHA-256, loaded when berth compose runs (as archive-dl.h loads
 * libarchive for cp) rather than linked into berth, whose every command would load them at
 * start.  Called as fy.fy_xxx(...) and ne.nettle_xxx(...); the prototypes are the libraries' own
 * (their headers, typeof), so a mismatch does not compile.
 */

#include <libfyaml.h>
#include <nettle/sha2.h>

#define FY_FUNCS(X)                                                                                \
	X(fy_diag_cfg_default)                                                                     \
	X(fy_diag_create)                                                                          \
	X(fy_diag_destroy)                                                                         \
	X(fy_diag_errors_iterate)                                                                  \
	X(fy_diag_set_collect_errors)                                                              \
	X(fy_document_build_from_string)                                                           \
	X(fy_document_destroy)                                                                     \
	X(fy_document_resolve)                                                                     \
	X(fy_document_root)                                                                        \
	X(fy_node_get_scalar)                                                                      \
	X(fy_node_get_scalar_token)                                                                \
	X(fy_node_get_style)                                                                       \
	X(fy_node_get_type)                                                                        \
	X(fy_node_mapping_iterate)                                                                 \
	X(fy_node_pair_key)                                                                        \
	X(fy_node_pair_value)                                                                      \
	X(fy_node_sequence_iterate)                                                                \
	X(fy_token_start_mark)

#define NE_FUNCS(X)                                                                                \
	X(nettle_sha256_init)                                                                      \
	X(nettle_sha256_update)                                                                    \
	X(nettle_sha256_digest)

struct fy_funcs {
#define DL_FIELD(f) __typeof__(f) *f;
	FY_FUNCS(DL_FIELD)
};

struct ne_funcs {
	NE_FUNCS(DL_FIELD)
#undef DL_FIELD
};

extern struct fy_funcs fy;
extern struct ne_funcs ne;

/* Load both once (dlopen of their sonames); 0, or -1 with the reason in *err (malloc'd). */
int compose_dl_load(char **err);
