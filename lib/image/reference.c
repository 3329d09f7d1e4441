/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Docker image references as berthd reads them: lib/base's grammar (reference.h) with lib/image's
 * digest check, docker's normalisation (ParseNormalizedNamed) and the forms it prints.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image-internal.h"

#include "base/banned.h"

static char *dup_n(const char *s, size_t n)
{
	return s ? strndup(s, n) : NULL;
}

/* reference.Parse of a string that is already "domain/remainder" */
static int parse_strict(const char *s, struct berth_reference **ret, struct berth_error **err)
{
	struct berth_ref_parts sp;
	_cleanup_reference_ struct berth_reference *ref = NULL;
	int r;

	r = berth_ref_split(s, &sp, err);
	if (r < 0)
		return r;
	ref = calloc(1, sizeof(*ref));
	if (!ref)
		return berth_error_set(err, ENOMEM, "out of memory");
	if (sp.domain_len) {
		ref->domain = dup_n(sp.name, sp.domain_len);
		ref->path = dup_n(sp.name + sp.domain_len + 1, sp.name_len - sp.domain_len - 1);
	} else {
		ref->domain = strdup("");
		ref->path = dup_n(sp.name, sp.name_len);
	}
	if (!ref->domain || !ref->path)
		return berth_error_set(err, ENOMEM, "out of memory");
	if (sp.tag && !(ref->tag = dup_n(sp.tag, sp.tag_len)))
		return berth_error_set(err, ENOMEM, "out of memory");
	if (sp.digest) {
		ref->digest = dup_n(sp.digest, sp.digest_len);
		if (!ref->digest)
			return berth_error_set(err, ENOMEM, "out of memory");
		r = berth_digest_validate(ref->digest, err);
		if (r < 0)
			return r;
	}
	*ret = TAKE_PTR(ref);
	return 0;
}

bool img_is_identifier(const char *s)
{
	return img_is_hex64(s);
}

int berth_reference_parse(const char *s, struct berth_reference **ret, struct berth_error **err)
{
	_cleanup_free_ char *full = NULL;

	if (!s)
		return berth_error_set(err, EINVAL, "invalid reference format");
	int r = berth_ref_normalized_string(s, &full, err);
	return r < 0 ? r : parse_strict(full, ret, err);
}

void berth_reference_free(struct berth_reference *ref)
{
	if (!ref)
		return;
	free(ref->domain);
	free(ref->path);
	free(ref->tag);
	free(ref->digest);
	free(ref);
}

int berth_reference_default_tag(struct berth_reference *ref)
{
	if (ref->tag || ref->digest)
		return 0;
	ref->tag = strdup("latest");
	return ref->tag ? 0 : -ENOMEM;
}

char *berth_reference_name(const struct berth_reference *ref)
{
	char *s = NULL;

	if (asprintf(&s, "%s%s%s", ref->domain, *ref->domain ? "/" : "", ref->path) < 0)
		return NULL;
	return s;
}

static char *with_tag_digest(char *name, const struct berth_reference *ref)
{
	char *s = NULL;

	if (!name)
		return NULL;
	if (asprintf(&s, "%s%s%s%s%s", name, ref->tag ? ":" : "", ref->tag ? ref->tag : "",
		     ref->digest ? "@" : "", ref->digest ? ref->digest : "") < 0)
		s = NULL;
	free(name);
	return s;
}

char *berth_reference_string(const struct berth_reference *ref)
{
	return with_tag_digest(berth_reference_name(ref), ref);
}

char *berth_reference_familiar_name(const struct berth_reference *ref)
{
	if (strcmp(ref->domain, "docker.io") == 0) {
		const char *slash = strchr(ref->path, '/');
		/* "library/x" (one component after it) is familiar "x" */
		if (slash && (size_t)(slash - ref->path) == 7 &&
		    strncmp(ref->path, "library", 7) == 0 && !strchr(slash + 1, '/'))
			return strdup(slash + 1);
		return strdup(ref->path);
	}
	return berth_reference_name(ref);
}

char *berth_reference_familiar(const struct berth_reference *ref)
{
	return with_tag_digest(berth_reference_familiar_name(ref), ref);
}

int berth_reference_normalize(const char *s, char **ret, struct berth_error **err)
{
	_cleanup_reference_ struct berth_reference *ref = NULL;
	char *out;
	int r;

	r = berth_reference_parse(s, &ref, err);
	if (r < 0)
		return r;
	if (berth_reference_default_tag(ref) < 0 || !(out = berth_reference_string(ref)))
		return berth_error_set(err, ENOMEM, "out of memory");
	*ret = out;
	return 0;
}

char *img_familiar_string(const char *full)
{
	_cleanup_reference_ struct berth_reference *ref = NULL;

	if (berth_reference_parse(full, &ref, NULL) < 0)
		return strdup(full);
	return berth_reference_familiar(ref);
}
