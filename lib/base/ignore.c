/* SPDX-License-Identifier: Apache-2.0 */
/*
 * .dockerignore as docker reads it (moby/patternmatcher and its ignorefile): see core.h.
 * Pure string work on text a user controls: every loop is bounded by its input, and the
 * matcher's backtracking is bounded by MATCH_STEPS so a hostile pattern cannot spin.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "banned.h"

#define MATCH_STEPS 1000000

/* one character class "[...]" at p against c; *len: its length; -1 malformed */
static int match_class(const char *p, char c, size_t *len)
{
	size_t i = 1;
	bool neg = false, hit = false;

	if (p[i] == '^' || p[i] == '!') {
		neg = true;
		i++;
	}
	for (bool first = true; p[i] && (first || p[i] != ']'); first = false) {
		char lo = p[i], hi;
		if (lo == '\\' && p[i + 1])
			lo = p[++i];
		i++;
		hi = lo;
		if (p[i] == '-' && p[i + 1] && p[i + 1] != ']') {
			hi = p[i + 1];
			i += 2;
			if (hi == '\\' && p[i])
				hi = p[i++];
		}
		if (lo <= c && c <= hi)
			hit = true;
	}
	if (p[i] != ']')
		return -1;
	*len = i + 1;
	return hit != neg && c != '/';
}

static bool match_at(const char *p, const char *s, unsigned *steps)
{
	while (*p) {
		if (++*steps > MATCH_STEPS)
			return false;
		if (p[0] == '*' && p[1] == '*') {
			p += 2;
			while (*p == '*')
				p++;
			if (!*p)
				return true; /* "**" at the end: anything */
			if (*p == '/') {
				/* "**" + "/": zero or more whole directories */
				p++;
				if (match_at(p, s, steps))
					return true;
				for (const char *q = s; *q; q++)
					if (*q == '/' && match_at(p, q + 1, steps))
						return true;
				return false;
			}
			for (const char *q = s;; q++) {
				if (match_at(p, q, steps))
					return true;
				if (!*q)
					return false;
			}
		}
		switch (*p) {
		case '*':
			for (const char *q = s;; q++) {
				if (match_at(p + 1, q, steps))
					return true;
				if (!*q || *q == '/')
					return false;
			}
		case '?':
			if (!*s || *s == '/')
				return false;
			p++;
			s++;
			break;
		case '[': {
			size_t len;
			int m;
			if (!*s)
				return false;
			m = match_class(p, *s, &len);
			if (m <= 0)
				return false;
			p += len;
			s++;
			break;
		}
		case '\\':
			if (p[1])
				p++;
			/* fall through */
		default:
			if (*p != *s)
				return false;
			p++;
			s++;
		}
	}
	return !*s;
}

bool berth_ignore_pattern_match(const char *pattern, const char *path)
{
	unsigned steps = 0;
	return match_at(pattern, path, &steps);
}

int berth_ignore_parse(const char *text, struct berth_ignore *ret, struct berth_error **err)
{
	struct berth_ignore ig = {0};
	const char *p = text;

	while (p && *p) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		_cleanup_free_ char *line = strndup(p, n);
		char *s, *e, *clean;
		bool excl = false;

		p = nl ? nl + 1 : NULL;
		if (!line)
			goto oom;
		if (line[0] == '#')
			continue;
		for (s = line; *s == ' ' || *s == '\t' || *s == '\r' || *s == '\v' || *s == '\f';)
			s++;
		e = s + strlen(s);
		while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\v' ||
				 e[-1] == '\f'))
			*--e = '\0';
		if (!*s)
			continue;
		if (*s == '!') {
			excl = true;
			s++;
			while (*s == ' ' || *s == '\t')
				s++;
		}
		clean = berth_path_clean(s);
		if (!clean)
			goto oom;
		if (clean[0] == '/' && clean[1])
			memmove(clean, clean + 1, strlen(clean));
		char **pv = realloc(ig.patterns, (ig.n + 2) * sizeof(char *));
		bool *ev = pv ? realloc(ig.exclusion, (ig.n + 1) * sizeof(bool)) : NULL;
		if (pv)
			ig.patterns = pv;
		if (!ev) {
			free(clean);
			goto oom;
		}
		ig.exclusion = ev;
		ig.patterns[ig.n] = clean;
		ig.exclusion[ig.n] = excl;
		ig.patterns[++ig.n] = NULL;
		ig.has_exclusions |= excl;
	}
	*ret = ig;
	return 0;
oom:
	berth_ignore_release(&ig);
	return berth_error_set(err, ENOMEM, "out of memory");
}

bool berth_ignore_match(const struct berth_ignore *ig, const char *path)
{
	bool matched = false;
	size_t n = strlen(path);

	for (size_t i = 0; i < ig->n; i++) {
		if (ig->exclusion[i] != matched)
			continue;
		bool m = berth_ignore_pattern_match(ig->patterns[i], path);
		/* a pattern that matches a parent directory matches what is in it */
		for (size_t k = 0; !m && k < n; k++) {
			if (path[k] != '/')
				continue;
			_cleanup_free_ char *parent = strndup(path, k);
			if (parent)
				m = berth_ignore_pattern_match(ig->patterns[i], parent);
		}
		if (m)
			matched = !ig->exclusion[i];
	}
	return matched;
}

void berth_ignore_release(struct berth_ignore *ig)
{
	for (size_t i = 0; i < ig->n; i++)
		free(ig->patterns[i]);
	free(ig->patterns);
	free(ig->exclusion);
	memset(ig, 0, sizeof(*ig));
}
