/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Image references as the docker CLI reads them (see reference.h): lib/base's grammar and
 * splitDockerDomain (base/reference.h), go-digest's checks and the library's messages as
 * malloc'd strings the commands print as they are.
 */
#include <stdlib.h>
#include <string.h>

#include "reference.h"
#include "sbuf.h"
#include "base/banned.h"

/* the message of e as a string of the caller's */
static int fail(struct berth_error *e, char **err)
{
	*err = xstrdup(e ? e->msg : "invalid reference format");
	berth_error_free(e);
	return -1;
}

int digest_check(const char *s, char **err)
{
	const char *colon = strchr(s, ':');
	size_t alg_len, hex_len;
	size_t want = 0;

	if (!colon || colon == s || !colon[1]) {
		*err = xstrdup("invalid checksum digest format");
		return -1;
	}
	alg_len = (size_t)(colon - s);
	hex_len = strlen(colon + 1);
	if (alg_len == 6 && memcmp(s, "sha256", 6) == 0)
		want = 64;
	else if (alg_len == 6 && memcmp(s, "sha384", 6) == 0)
		want = 96;
	else if (alg_len == 6 && memcmp(s, "sha512", 6) == 0)
		want = 128;
	if (!want) {
		*err = xstrdup(berth_ref_digest_grammar(s, strlen(s))
				       ? "unsupported digest algorithm"
				       : "invalid checksum digest format");
		return -1;
	}
	if (hex_len != want) {
		*err = xstrdup("invalid checksum digest length");
		return -1;
	}
	for (const char *p = colon + 1; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f'))) {
			*err = xstrdup("invalid checksum digest format");
			return -1;
		}
	return 0;
}

void ref_release(struct ref *r)
{
	free(r->domain);
	free(r->path);
	free(r->tag);
	free(r->digest);
	memset(r, 0, sizeof(*r));
}

int ref_parse(const char *s, struct ref *r, char **err)
{
	struct berth_error *e = NULL;
	struct berth_ref_parts p;

	memset(r, 0, sizeof(*r));
	if (berth_ref_split(s, &p, &e) < 0)
		return fail(e, err);
	if (p.digest && digest_check(p.digest, err) < 0)
		return -1;
	if (p.domain_len) {
		r->domain = xstrndup(p.name, p.domain_len);
		r->path = xstrndup(p.name + p.domain_len + 1, p.name_len - p.domain_len - 1);
	} else {
		r->path = xstrndup(p.name, p.name_len);
	}
	r->tag = p.tag ? xstrndup(p.tag, p.tag_len) : NULL;
	r->digest = p.digest ? xstrdup(p.digest) : NULL;
	return 0;
}

int ref_parse_normalized(const char *s, struct ref *r, char **err)
{
	struct berth_error *e = NULL;
	_cleanup_free_ char *full = NULL;

	memset(r, 0, sizeof(*r));
	if (berth_ref_normalized_string(s, &full, &e) < 0)
		return fail(e, err);
	return ref_parse(full, r, err);
}

int ref_parse_any(const char *s, struct ref *r, bool *ret_digest_only, char **err)
{
	char *derr = NULL;

	*ret_digest_only = false;
	memset(r, 0, sizeof(*r));
	if (berth_ref_is_identifier(s)) {
		r->digest = xasprintf("sha256:%s", s);
		*ret_digest_only = true;
		return 0;
	}
	if (digest_check(s, &derr) == 0) {
		r->digest = xstrdup(s);
		*ret_digest_only = true;
		return 0;
	}
	free(derr);
	return ref_parse_normalized(s, r, err);
}

char *ref_name(const struct ref *r)
{
	return r->domain ? xasprintf("%s/%s", r->domain, r->path) : xstrdup(r->path);
}

char *ref_familiar_name(const struct ref *r)
{
	if (r->domain && strcmp(r->domain, "docker.io") == 0) {
		if (strncmp(r->path, "library/", 8) == 0 && !strchr(r->path + 8, '/'))
			return xstrdup(r->path + 8);
		return xstrdup(r->path);
	}
	return ref_name(r);
}
