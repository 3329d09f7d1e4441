/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The router: method + path pattern -> handler, with Docker's /vX.Y prefix.  dockerd registers
 * every route twice (with and without the prefix), checks the version in a middleware that runs
 * only for a matched route, and answers 404 "page not found" for an unknown path and for a
 * known path with another method; this does the same.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server-internal.h"
#include "base/banned.h"

struct route {
	char *method;
	char **segments; /* "containers", "{id}", "{name*}" */
	berth_http_handler_fn fn;
	void *userdata;
};

struct berth_api_router {
	struct route *routes;
	size_t n;
};

int berth_api_router_new(struct berth_api_router **ret, struct berth_error **err)
{
	struct berth_api_router *r = calloc(1, sizeof(*r));

	if (!r)
		return berth_error_set(err, ENOMEM, "out of memory");
	*ret = r;
	return 0;
}

void berth_api_router_free(struct berth_api_router *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n; i++) {
		free(r->routes[i].method);
		berth_strv_free(r->routes[i].segments);
	}
	free(r->routes);
	free(r);
}

static int split_path(const char *path, char ***ret)
{
	char **v = calloc(1, sizeof(char *));
	const char *p = path;

	if (!v)
		return -ENOMEM;
	if (*p == '/')
		p++;
	while (*p) {
		const char *slash = strchr(p, '/');
		size_t n = slash ? (size_t)(slash - p) : strlen(p);
		_cleanup_free_ char *seg = strndup(p, n);
		if (!seg || berth_strv_push(&v, seg) < 0) {
			berth_strv_free(v);
			return -ENOMEM;
		}
		if (!slash)
			break;
		p = slash + 1;
		if (!*p) { /* a trailing slash is an empty last segment */
			if (berth_strv_push(&v, "") < 0) {
				berth_strv_free(v);
				return -ENOMEM;
			}
		}
	}
	*ret = v;
	return 0;
}

static bool is_param(const char *seg, bool *greedy)
{
	size_t n = strlen(seg);

	if (n < 3 || seg[0] != '{' || seg[n - 1] != '}')
		return false;
	*greedy = seg[n - 2] == '*';
	return true;
}

int berth_api_router_add(struct berth_api_router *r, const char *method, const char *pattern,
			 berth_http_handler_fn fn, void *userdata, struct berth_error **err)
{
	struct route *nr;
	char **segs = NULL;
	bool greedy;

	if (pattern[0] != '/')
		return berth_error_set(err, EINVAL, "route '%s': must start with '/'", pattern);
	if (split_path(pattern, &segs) < 0)
		return berth_error_set(err, ENOMEM, "out of memory");
	for (size_t i = 0; segs[i]; i++) {
		if (!segs[i][0] || (strchr(segs[i], '{') && !is_param(segs[i], &greedy))) {
			berth_strv_free(segs);
			return berth_error_set(err, EINVAL, "route '%s': bad segment '%s'", pattern,
					       segs[i]);
		}
	}
	nr = realloc(r->routes, (r->n + 1) * sizeof(*nr));
	if (!nr) {
		berth_strv_free(segs);
		return berth_error_set(err, ENOMEM, "out of memory");
	}
	r->routes = nr;
	nr[r->n].method = strdup(method);
	if (!nr[r->n].method) {
		berth_strv_free(segs);
		return berth_error_set(err, ENOMEM, "out of memory");
	}
	nr[r->n].segments = segs;
	nr[r->n].fn = fn;
	nr[r->n].userdata = userdata;
	r->n++;
	return 0;
}

/*
 * Match pattern segments against path segments; on success the request's params are set.
 * A greedy parameter takes one or more segments, as few as let the rest match.
 */
static bool match(struct berth_http_request *req, char **pat, char **segs)
{
	bool greedy;

	if (!*pat)
		return !*segs;
	if (!*segs)
		return false;
	if (!is_param(*pat, &greedy)) {
		if (strcmp(*pat, *segs) != 0)
			return false;
		return match(req, pat + 1, segs + 1);
	}
	if (!(*segs)[0])
		return false;
	size_t nlen = strlen(*pat) - (greedy ? 3 : 2);
	char name[64];
	snprintf(name, sizeof(name), "%.*s", (int)nlen, *pat + 1);
	if (!greedy) {
		size_t before = req->n_params;
		if (request_set_param(req, name, *segs, strlen(*segs)) < 0)
			return false;
		if (match(req, pat + 1, segs + 1))
			return true;
		/* undo */
		while (req->n_params > before) {
			req->n_params--;
			free(req->params[req->n_params].key);
			free(req->params[req->n_params].value);
		}
		return false;
	}
	for (size_t take = 1; segs[take - 1]; take++) {
		if (!segs[take - 1][0])
			return false;
		size_t before = req->n_params;
		/* the value is the segments joined with '/' */
		size_t len = 1;
		for (size_t i = 0; i < take; i++)
			len += strlen(segs[i]) + 1;
		_cleanup_free_ char *v = malloc(len);
		if (!v)
			return false;
		v[0] = '\0';
		size_t off = 0;
		for (size_t i = 0; i < take; i++)
			off += (size_t)snprintf(v + off, len - off, "%s%s", i ? "/" : "", segs[i]);
		if (request_set_param(req, name, v, off) < 0)
			return false;
		if (match(req, pat + 1, segs + take))
			return true;
		while (req->n_params > before) {
			req->n_params--;
			free(req->params[req->n_params].key);
			free(req->params[req->n_params].value);
		}
	}
	return false;
}

int berth_api_version_compare(const char *a, const char *b)
{
	/* Docker's versions.compare: split on '.', Atoi each part (0 on error), missing parts 0 */
	while (*a || *b) {
		long x = 0, y = 0;
		const char *ea = strchr(a, '.'), *eb = strchr(b, '.');
		size_t la = ea ? (size_t)(ea - a) : strlen(a),
		       lb = eb ? (size_t)(eb - b) : strlen(b);
		bool okx = la > 0 && la<10, oky = lb> 0 && lb < 10;

		for (size_t i = 0; okx && i < la; i++)
			if (!isdigit((unsigned char)a[i]))
				okx = false;
		for (size_t i = 0; oky && i < lb; i++)
			if (!isdigit((unsigned char)b[i]))
				oky = false;
		for (size_t i = 0; okx && i < la; i++)
			x = x * 10 + (a[i] - '0');
		for (size_t i = 0; oky && i < lb; i++)
			y = y * 10 + (b[i] - '0');
		if (x != y)
			return x < y ? -1 : 1;
		a = ea ? ea + 1 : a + la;
		b = eb ? eb + 1 : b + lb;
	}
	return 0;
}

static unsigned encode_version(const char *v)
{
	unsigned major = 0, minor = 0;
	const char *p = v;

	while (isdigit((unsigned char)*p) && major < 10000)
		major = major * 10 + (unsigned)(*p++ - '0');
	if (*p == '.')
		p++;
	while (isdigit((unsigned char)*p) && minor < 10000)
		minor = minor * 10 + (unsigned)(*p++ - '0');
	return BERTH_API_VERSION(major, minor);
}

static void not_found(struct berth_http_request *req)
{
	berth_http_respond_error(req, 404, "page not found");
}

void berth_api_router_serve(struct berth_http_request *req, void *userdata)
{
	struct berth_api_router *r = userdata;
	const char *path = req->path;
	_cleanup_free_ char *version = NULL;
	_cleanup_strv_ char **segs = NULL;
	struct route *found = NULL;

	/* "/v" [0-9.]+ "/" ... */
	if (path[0] == '/' && path[1] == 'v' &&
	    (isdigit((unsigned char)path[2]) || path[2] == '.')) {
		const char *e = path + 2;
		while (isdigit((unsigned char)*e) || *e == '.')
			e++;
		if (*e == '/') {
			version = strndup(path + 2, (size_t)(e - path - 2));
			if (!version) {
				berth_http_respond_error(req, 500, "out of memory");
				return;
			}
			path = e;
		}
	}
	if (split_path(path, &segs) < 0) {
		berth_http_respond_error(req, 500, "out of memory");
		return;
	}
	for (size_t i = 0; i < r->n && !found; i++) {
		if (strcmp(r->routes[i].method, req->head.method) != 0)
			continue;
		request_clear_params(req);
		if (match(req, r->routes[i].segments, segs))
			found = &r->routes[i];
	}
	if (!found) {
		request_clear_params(req);
		not_found(req);
		return;
	}
	if (version) {
		if (berth_api_version_compare(version, BERTH_API_VERSION_MIN_STRING) < 0) {
			/* dockerd answers clients older than 1.24 in plain text, which they print */
			_cleanup_free_ char *msg = NULL;
			if (asprintf(&msg,
				     "client version %s is too old. Minimum supported API version "
				     "is "
				     "%s, please upgrade your client to a newer version\n",
				     version, BERTH_API_VERSION_MIN_STRING) < 0)
				msg = NULL;
			berth_http_set_header(req, "X-Content-Type-Options", "nosniff");
			berth_http_respond(req, 400, "text/plain; charset=utf-8", msg ? msg : "",
					   msg ? strlen(msg) : 0);
			return;
		}
		if (berth_api_version_compare(version, BERTH_API_VERSION_MAX_STRING) > 0) {
			berth_http_respond_error(
				req, 400,
				"client version %s is too new. Maximum supported API version is %s",
				version, BERTH_API_VERSION_MAX_STRING);
			return;
		}
		req->api_version = encode_version(version);
		snprintf(req->api_version_str, sizeof(req->api_version_str), "%s", version);
		/* "1.044" or "1.40.5": keep the string short and canonical for handlers */
		if (strlen(version) >= sizeof(req->api_version_str) ||
		    strchr(strchr(version, '.') ? strchr(version, '.') + 1 : version, '.'))
			snprintf(req->api_version_str, sizeof(req->api_version_str), "%u.%u",
				 req->api_version >> 16, req->api_version & 0xffff);
	}
	found->fn(req, found->userdata);
}
