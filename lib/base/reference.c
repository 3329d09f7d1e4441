/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Image references, the grammar (distribution/reference's regexp.go, written out as a hand
 * matcher) and docker's splitDockerDomain; see reference.h.
 *
 *   reference  := name [ ":" tag ] [ "@" digest ]
 *   name       := [domain "/"] path-component ["/" path-component]*
 *   domain     := host [":" port]     host := domain-name | "[" ipv6 "]"
 *   domain-name:= component ("." component)*   component := [a-zA-Z0-9] | [a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]
 *   path-component := [a-z0-9]+ ((["._"] | "__" | "-"+) [a-z0-9]+)*
 *   tag        := [\w][\w.-]{0,127}
 *   digest     := algorithm ":" hex{32,}
 *
 * The grammar is unambiguous once split: a digest follows the only '@'; a tag follows the last
 * ':' when that comes after the last '/' (path components cannot hold ':'); the first component
 * is a domain when it matches the domain rule and the rest is a path.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "reference.h"

#include "banned.h"

static bool is_lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool is_alnum(char c)
{
	return is_lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

static bool is_word(char c)
{
	return is_alnum(c) || c == '_';
}

/* path-component over s[0..n) */
static bool match_path_component(const char *s, size_t n)
{
	size_t i = 0;

	if (n == 0 || !is_lower_alnum(s[0]))
		return false;
	while (i < n) {
		while (i < n && is_lower_alnum(s[i]))
			i++;
		if (i == n)
			return true;
		/* a separator: "." | "_" | "__" | "-"+ , then alnum */
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
		if (i == n || !is_lower_alnum(s[i]))
			return false;
	}
	return true;
}

/* path := component ("/" component)* */
static bool match_path(const char *s, size_t n)
{
	size_t start = 0;

	for (size_t i = 0; i <= n; i++) {
		if (i < n && s[i] != '/')
			continue;
		if (!match_path_component(s + start, i - start))
			return false;
		start = i + 1;
	}
	return true;
}

static bool match_domain_component(const char *s, size_t n)
{
	if (n == 0 || !is_alnum(s[0]) || !is_alnum(s[n - 1]))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!is_alnum(s[i]) && s[i] != '-')
			return false;
	return true;
}

/* host [":" port] */
static bool match_domain(const char *s, size_t n)
{
	size_t hostlen = n;

	if (n == 0)
		return false;
	if (s[0] == '[') {
		const char *close = memchr(s, ']', n);
		if (!close || close == s + 1)
			return false;
		for (const char *p = s + 1; p < close; p++)
			if (!isxdigit((unsigned char)*p) && *p != ':')
				return false;
		hostlen = (size_t)(close - s) + 1;
	} else {
		const char *colon = memchr(s, ':', n);
		if (colon)
			hostlen = (size_t)(colon - s);
		size_t start = 0;
		for (size_t i = 0; i <= hostlen; i++) {
			if (i < hostlen && s[i] != '.')
				continue;
			if (!match_domain_component(s + start, i - start))
				return false;
			start = i + 1;
		}
	}
	if (hostlen == n)
		return true;
	if (s[hostlen] != ':' || hostlen + 1 == n)
		return false;
	for (size_t i = hostlen + 1; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return false;
	return true;
}

static bool match_tag(const char *s, size_t n)
{
	if (n == 0 || n > 128 || !is_word(s[0]))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!is_word(s[i]) && s[i] != '.' && s[i] != '-')
			return false;
	return true;
}

/* the reference grammar's digest: [A-Za-z][A-Za-z0-9]*([-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,} */
bool berth_ref_digest_grammar(const char *s, size_t n)
{
	const char *colon = memchr(s, ':', n);
	bool need_alpha = true;

	if (!colon)
		return false;
	for (const char *p = s; p < colon; p++) {
		bool alpha = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z');
		if (need_alpha) {
			if (!alpha)
				return false;
			need_alpha = false;
		} else if (strchr("-_+.", *p)) {
			need_alpha = true;
		} else if (!is_alnum(*p)) {
			return false;
		}
	}
	if (need_alpha)
		return false;
	size_t hexlen = n - (size_t)(colon + 1 - s);
	if (hexlen < 32)
		return false;
	for (const char *p = colon + 1; p < s + n; p++)
		if (!isxdigit((unsigned char)*p))
			return false;
	return true;
}

bool berth_ref_match(const char *s, struct berth_ref_parts *out)
{
	const char *at = strchr(s, '@');
	size_t left = at ? (size_t)(at - s) : strlen(s);
	const char *slash, *colon;

	memset(out, 0, sizeof(*out));
	if (at) {
		if (strchr(at + 1, '@') || !berth_ref_digest_grammar(at + 1, strlen(at + 1)))
			return false;
		out->digest = at + 1;
		out->digest_len = strlen(at + 1);
	}
	slash = memrchr(s, '/', left);
	colon = memrchr(s, ':', left);
	out->name = s;
	out->name_len = left;
	if (colon && (!slash || colon > slash)) {
		out->tag = colon + 1;
		out->tag_len = left - (size_t)(colon + 1 - s);
		out->name_len = (size_t)(colon - s);
		if (!match_tag(out->tag, out->tag_len))
			return false;
	}
	/* (domain "/")? path, the domain tried first as the regexp does */
	const char *first = memchr(s, '/', out->name_len);
	if (first && match_domain(s, (size_t)(first - s)) &&
	    match_path(first + 1, out->name_len - (size_t)(first + 1 - s))) {
		out->domain_len = (size_t)(first - s);
		return true;
	}
	return match_path(s, out->name_len);
}

int berth_ref_split(const char *s, struct berth_ref_parts *out, struct berth_error **err)
{
	if (berth_ref_match(s, out)) {
		if (out->name_len > BERTH_REF_NAME_MAX)
			return berth_error_set(
				err, EINVAL, "repository name must not be more than %d characters",
				BERTH_REF_NAME_MAX);
		return 0;
	}
	if (!*s)
		return berth_error_set(err, EINVAL,
				       "repository name must have at least one component");
	_cleanup_free_ char *lower = strdup(s);
	struct berth_ref_parts ignored;
	if (!lower)
		return berth_error_set(err, ENOMEM, "out of memory");
	for (char *p = lower; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	if (berth_ref_match(lower, &ignored))
		return berth_error_set(err, EINVAL, "repository name must be lowercase");
	return berth_error_set(err, EINVAL, "invalid reference format");
}

bool berth_ref_is_identifier(const char *s)
{
	size_t n = 0;

	for (; s[n]; n++)
		if (!((s[n] >= '0' && s[n] <= '9') || (s[n] >= 'a' && s[n] <= 'f')))
			return false;
	return n == 64;
}

int berth_ref_normalized_string(const char *s, char **ret, struct berth_error **err)
{
	const char *slash = strchr(s, '/');
	const char *domain = "docker.io";
	const char *remainder = s;
	size_t domain_len = strlen("docker.io");
	bool library = false;

	if (berth_ref_is_identifier(s))
		return berth_error_set(
			err, EINVAL,
			"invalid repository name (%s), cannot specify 64-byte hexadecimal strings",
			s);
	/* splitDockerDomain: the first component is a domain when it has a '.' or a ':', is
	 * localhost, or has an uppercase letter; index.docker.io is docker.io */
	if (slash) {
		size_t n = (size_t)(slash - s);
		bool upper = false, dotcolon = false;
		for (size_t i = 0; i < n; i++) {
			upper |= s[i] >= 'A' && s[i] <= 'Z';
			dotcolon |= s[i] == '.' || s[i] == ':';
		}
		if (n == strlen("index.docker.io") && strncmp(s, "index.docker.io", n) == 0) {
			remainder = slash + 1;
		} else if ((n == 9 && strncmp(s, "localhost", 9) == 0) || dotcolon || upper) {
			domain = s;
			domain_len = n;
			remainder = slash + 1;
		}
	}
	if (domain_len == 9 && strncmp(domain, "docker.io", 9) == 0 && !strchr(remainder, '/'))
		library = true;
	/* the remote name (up to a ':') must be lowercase */
	size_t n = strcspn(remainder, ":");
	for (size_t i = 0; i < n; i++)
		if (remainder[i] >= 'A' && remainder[i] <= 'Z')
			return berth_error_set(err, EINVAL,
					       "invalid reference format: repository name (%s%.*s) "
					       "must be lowercase",
					       library ? "library/" : "", (int)n, remainder);
	if (asprintf(ret, "%.*s/%s%s", (int)domain_len, domain, library ? "library/" : "",
		     remainder) < 0)
		return berth_error_set(err, ENOMEM, "out of memory");
	return 0;
}
