/* SPDX-License-Identifier: Apache-2.0 */
/*
 * distribution/reference's grammar and docker's normalization, by hand (see reference.h):
 *
 *   reference  := name [ ":" tag ] [ "@" digest ]
 *   name       := [ domain "/" ] component ( "/" component )*       (at most 255 bytes)
 *   domain     := host [ ":" digits ];  host := label ( "." label )* | "[" ipv6 "]"
 *   label      := [a-zA-Z0-9] | [a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]
 *   component  := [a-z0-9]+ ( ( "." | "_" | "__" | "-"+ ) [a-z0-9]+ )*
 *   tag        := [\w][\w.-]{0,127}
 *   digest     := algorithm ":" hex{32,};  algorithm := [A-Za-z][A-Za-z0-9]* ( [-_+.] ... )*
 *
 * A tag cannot hold '/', ':' or '@' and a digest no '@', so the parts split from the right
 * exactly where the library's anchored regular expression would match them.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "reference.h"
#include "sbuf.h"
#include "base/banned.h"

#define NAME_MAX_LEN 255

static bool alnum_lower(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool alnum(char c)
{
	return isalnum((unsigned char)c) != 0;
}

static bool word(char c)
{
	return alnum(c) || c == '_';
}

/* component := [a-z0-9]+ ( separator [a-z0-9]+ )* over s[0..n) */
static bool component_ok(const char *s, size_t n)
{
	size_t i = 0;

	if (n == 0 || !alnum_lower(s[0]))
		return false;
	while (i < n) {
		while (i < n && alnum_lower(s[i]))
			i++;
		if (i == n)
			return true;
		/* a separator: ".", "_", "__" or a run of "-" */
		if (s[i] == '.') {
			i++;
		} else if (s[i] == '_') {
			i++;
			if (i < n && s[i] == '_')
				i++;
		} else if (s[i] == '-') {
			while (i < n && s[i] == '-')
				i++;
		} else {
			return false;
		}
		if (i == n || !alnum_lower(s[i]))
			return false;
	}
	return true;
}

static bool path_ok(const char *s, size_t n)
{
	size_t start = 0;

	for (size_t i = 0; i <= n; i++) {
		if (i == n || s[i] == '/') {
			if (!component_ok(s + start, i - start))
				return false;
			start = i + 1;
		}
	}
	return true;
}

static bool label_ok(const char *s, size_t n)
{
	if (n == 0 || !alnum(s[0]) || !alnum(s[n - 1]))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!alnum(s[i]) && s[i] != '-')
			return false;
	return true;
}

static bool domain_ok(const char *s, size_t n)
{
	size_t host = n;

	/* the port: the last ':' outside brackets */
	for (size_t i = n; i-- > 0;) {
		if (s[i] == ']')
			break;
		if (s[i] == ':') {
			if (i + 1 == n)
				return false;
			for (size_t k = i + 1; k < n; k++)
				if (!isdigit((unsigned char)s[k]))
					return false;
			host = i;
			break;
		}
	}
	if (host >= 2 && s[0] == '[' && s[host - 1] == ']') {
		if (host == 2)
			return false;
		for (size_t i = 1; i + 1 < host; i++)
			if (!isxdigit((unsigned char)s[i]) && s[i] != ':')
				return false;
		return true;
	}
	size_t start = 0;
	for (size_t i = 0; i <= host; i++) {
		if (i == host || s[i] == '.') {
			if (!label_ok(s + start, i - start))
				return false;
			start = i + 1;
		}
	}
	return true;
}

static bool tag_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 128 || !word(s[0]))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!word(s[i]) && s[i] != '.' && s[i] != '-')
			return false;
	return true;
}

/* the digest grammar of the reference expression (the algorithm, ':', 32 hex or more) */
static bool digest_grammar_ok(const char *s)
{
	const char *colon = strchr(s, ':');
	size_t i = 0, n;

	if (!colon)
		return false;
	n = (size_t)(colon - s);
	/* [A-Za-z][A-Za-z0-9]* ( [-_+.] [A-Za-z][A-Za-z0-9]* )* */
	while (i < n) {
		if (!isalpha((unsigned char)s[i]))
			return false;
		i++;
		while (i < n && alnum(s[i]))
			i++;
		if (i < n) {
			if (!strchr("-_+.", s[i]))
				return false;
			i++;
			if (i == n)
				return false;
		}
	}
	if (n == 0 || strlen(colon + 1) < 32)
		return false;
	for (const char *p = colon + 1; *p; p++)
		if (!isxdigit((unsigned char)*p))
			return false;
	return true;
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
		*err = xstrdup(digest_grammar_ok(s) ? "unsupported digest algorithm"
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

/* Does s match the reference grammar?  Fills r when it does. */
static bool match(const char *s, struct ref *r)
{
	const char *at = strchr(s, '@');
	size_t name_end = at ? (size_t)(at - s) : strlen(s);
	const char *colon = NULL, *slash = NULL;

	memset(r, 0, sizeof(*r));
	if (at && !digest_grammar_ok(at + 1))
		return false;
	for (size_t i = 0; i < name_end; i++) {
		if (s[i] == ':')
			colon = s + i;
		if (s[i] == '/')
			slash = s + i;
	}
	if (colon && (!slash || colon > slash)) {
		_cleanup_free_ char *tag = xstrndup(colon + 1, (size_t)(s + name_end - colon - 1));
		if (!tag_ok(tag))
			return false;
		name_end = (size_t)(colon - s);
		r->tag = TAKE_PTR(tag);
	}
	const char *first = memchr(s, '/', name_end);
	if (first && domain_ok(s, (size_t)(first - s)) &&
	    path_ok(first + 1, name_end - (size_t)(first - s) - 1)) {
		r->domain = xstrndup(s, (size_t)(first - s));
		r->path = xstrndup(first + 1, name_end - (size_t)(first - s) - 1);
	} else if (path_ok(s, name_end)) {
		r->path = xstrndup(s, name_end);
	} else {
		free(r->tag);
		r->tag = NULL;
		return false;
	}
	if (at)
		r->digest = xstrdup(at + 1);
	return true;
}

int ref_parse(const char *s, struct ref *r, char **err)
{
	if (!match(s, r)) {
		_cleanup_free_ char *lower = xstrdup(s);
		struct ref tmp;
		for (char *p = lower; *p; p++)
			*p = (char)tolower((unsigned char)*p);
		if (!*s)
			*err = xstrdup("repository name must have at least one component");
		else if (match(lower, &tmp)) {
			ref_release(&tmp);
			*err = xstrdup("repository name must be lowercase");
		} else
			*err = xstrdup("invalid reference format");
		return -1;
	}
	size_t name_len = (r->domain ? strlen(r->domain) + 1 : 0) + strlen(r->path);
	if (name_len > NAME_MAX_LEN) {
		ref_release(r);
		*err = xasprintf("repository name must not be more than %d characters",
				 NAME_MAX_LEN);
		return -1;
	}
	if (r->digest && digest_check(r->digest, err) < 0) {
		ref_release(r);
		return -1;
	}
	return 0;
}

static bool is_identifier(const char *s)
{
	size_t n = strlen(s);

	if (n != 64)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

int ref_parse_normalized(const char *s, struct ref *r, char **err)
{
	const char *slash = strchr(s, '/');
	_cleanup_free_ char *domain = NULL, *rest = NULL, *full = NULL;

	if (is_identifier(s)) {
		*err = xasprintf("invalid repository name (%s), cannot specify 64-byte hexadecimal "
				 "strings",
				 s);
		return -1;
	}
	/* splitDockerDomain */
	bool is_domain = false;
	if (slash) {
		size_t n = (size_t)(slash - s);
		_cleanup_free_ char *d = xstrndup(s, n);
		bool lower = true;
		for (char *p = d; *p; p++)
			lower &= !(*p >= 'A' && *p <= 'Z');
		is_domain = strpbrk(d, ".:") || strcmp(d, "localhost") == 0 || !lower;
	}
	if (is_domain) {
		domain = xstrndup(s, (size_t)(slash - s));
		rest = xstrdup(slash + 1);
	} else {
		domain = xstrdup("docker.io");
		rest = xstrdup(s);
	}
	if (strcmp(domain, "index.docker.io") == 0) {
		free(domain);
		domain = xstrdup("docker.io");
	}
	if (strcmp(domain, "docker.io") == 0 && !strchr(rest, '/')) {
		char *lib = xasprintf("library/%s", rest);
		free(rest);
		rest = lib;
	}
	/* the remote name (up to a ':') must be lowercase */
	const char *tagsep = strchr(rest, ':');
	_cleanup_free_ char *remote =
		tagsep ? xstrndup(rest, (size_t)(tagsep - rest)) : xstrdup(rest);
	for (const char *p = remote; *p; p++)
		if (*p >= 'A' && *p <= 'Z') {
			*err = xasprintf("invalid reference format: repository name (%s) must be "
					 "lowercase",
					 remote);
			return -1;
		}
	full = xasprintf("%s/%s", domain, rest);
	return ref_parse(full, r, err);
}

int ref_parse_any(const char *s, struct ref *r, bool *ret_digest_only, char **err)
{
	char *derr = NULL;

	*ret_digest_only = false;
	memset(r, 0, sizeof(*r));
	if (is_identifier(s)) {
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
