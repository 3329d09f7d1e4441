/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * Image references, the grammar only: distribution/reference's anchored ReferenceRegexp and
 * docker's splitDockerDomain, with the library's messages.  Shared by the CLI (cli/reference.c,
 * which reports as the docker CLI does) and lib/image (berthd's references); what a digest must
 * be beyond the grammar (its algorithm and length) is each caller's.  Pure: no allocation but
 * the string berth_ref_normalized_string returns.
 */

#include <stdbool.h>
#include <stddef.h>

struct berth_error;

#define BERTH_REF_NAME_MAX 255 /* bytes of a name, domain included */

/* The parts of a reference, pointers into the string matched. */
struct berth_ref_parts {
	const char *name; /* domain "/" path */
	size_t name_len;
	size_t domain_len; /* of name; 0: no domain */
	const char *tag;   /* NULL: none */
	size_t tag_len;
	const char *digest; /* NULL: none */
	size_t digest_len;
};

/* Does s match the reference grammar?  *out gets its parts when it does. */
bool berth_ref_match(const char *s, struct berth_ref_parts *out);

/* The grammar's digest over s[0..n): algorithm ":" 32 hex digits or more. */
bool berth_ref_digest_grammar(const char *s, size_t n);

/*
 * reference.Parse's checks: the grammar and the name's length, with the library's messages
 * ("repository name must have at least one component", "... must be lowercase", "invalid
 * reference format", "... must not be more than 255 characters"); -EINVAL.
 */
int berth_ref_split(const char *s, struct berth_ref_parts *out, struct berth_error **err);

/* s is 64 lowercase hex digits: an image id, never a name. */
bool berth_ref_is_identifier(const char *s);

/*
 * ParseNormalizedNamed's front: s as "domain/remainder" (docker.io and library/ filled in,
 * index.docker.io read as docker.io), malloc'd in *ret; -EINVAL for a 64-hex id ("invalid
 * repository name (x), cannot specify 64-byte hexadecimal strings") or an uppercase remote name
 * ("invalid reference format: repository name (library/Bad) must be lowercase").
 */
int berth_ref_normalized_string(const char *s, char **ret, struct berth_error **err);
