/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * Image references as the docker CLI reads them (github.com/distribution/reference): the grammar
 * (domain, path components, tag, digest), docker's normalization (no domain: docker.io; docker.io
 * without a namespace: library/), the familiar form for display, and the library's error
 * wording, which docker prints as it is ("invalid reference format: repository name
 * (library/Bad) must be lowercase").
 */

#include <stdbool.h>

struct ref {
	char *domain; /* NULL: none */
	char *path;
	char *tag;    /* NULL: none */
	char *digest; /* NULL: none */
};

/* reference.Parse: the grammar only.  0, or -1 with the library's message in *err. */
int ref_parse(const char *s, struct ref *r, char **err);

/* reference.ParseNormalizedNamed: docker.io and library/ filled in, names lowercase, 64-hex ids
 * refused. */
int ref_parse_normalized(const char *s, struct ref *r, char **err);

/* reference.ParseAnyReference: a 64-hex id or a digest (*ret_digest_only set, r->digest it), else
 * a normalized name. */
int ref_parse_any(const char *s, struct ref *r, bool *ret_digest_only, char **err);

/* go-digest's Parse: "invalid checksum digest format" and friends; 0 when s is a digest. */
int digest_check(const char *s, char **err);

/* reference.FamiliarName ("busybox", "user/x", "localhost:5000/a"), malloc'd. */
char *ref_familiar_name(const struct ref *r);
/* Named.Name(): domain/path in full ("docker.io/library/busybox"), malloc'd. */
char *ref_name(const struct ref *r);

void ref_release(struct ref *r);
