/* SPDX-License-Identifier: Apache-2.0 */
/*
 * berth search: GET /images/search?term=&limit=&filters= with the config file's credentials for
 * the term's index in X-Registry-Auth, the results in the index's order as docker 28 shows them
 * (cli/command/registry/search.go, formatter_search.go): NAME DESCRIPTION STARS OFFICIAL, the
 * description on one line and cut at 45 columns unless --no-trunc, "[OK]" for official (docker 28 has no .IsAutomated any more).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "format.h"
#include "base/banned.h"

static const char *const search_header_pairs[] = {
	"Name",	 "NAME",       "Description", "DESCRIPTION", "StarCount",
	"STARS", "IsOfficial", "OFFICIAL",    NULL,
};

/* .IsOfficial is "[OK]" or "" in a template, "true"/"false" in {{json .}} (as docker 28's) */
static int search_call(const struct ctx_obj *c, const char *name, json_t *const *args, size_t n,
		       json_t **ret, char **err)
{
	if (strcmp(name, "IsOfficial") != 0)
		return -ENOENT;
	if (n > 0) {
		*err = xasprintf("wrong number of args for %s: want 0 got %zu", name, n);
		return -EINVAL;
	}
	*ret = json_string(json_is_true(json_object_get(c->src, "is_official")) ? "[OK]" : "");
	return 0;
}

static void search_ctx_init(struct ctx_obj *c, json_t *r, bool trunc)
{
	_cleanup_sbuf_ struct sbuf b = SBUF_INIT;
	_cleanup_free_ char *desc =
		xstrdup(json_string_value(json_object_get(r, "description")) ?: "");

	ctx_obj_init(c, "*registry.searchContext", NULL);
	ctx_set(c, "Name", json_string_value(json_object_get(r, "name")) ?: "");
	for (char *p = desc; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	if (trunc)
		ellipsis(&b, desc, 45);
	else
		sbuf_adds(&b, desc);
	ctx_set(c, "Description", sbuf_str(&b));
	sbuf_reset(&b);
	sbuf_printf(&b, "%" JSON_INTEGER_FORMAT,
		    json_integer_value(json_object_get(r, "star_count")));
	ctx_set(c, "StarCount", sbuf_str(&b));
	c->call_args = search_call;
	c->src = json_incref(r);
	ctx_set(c, "IsOfficial",
		json_is_true(json_object_get(r, "is_official")) ? "true" : "false");
}

/* dockerd's splitReposSearchTerm: the index a term names ("docker.io" for Docker Hub's). */
static char *index_of(const char *term)
{
	const char *slash = strchr(term, '/');
	_cleanup_free_ char *first = slash ? xstrndup(term, (size_t)(slash - term)) : NULL;

	if (first && (strchr(first, '.') || strchr(first, ':') || strcmp(first, "localhost") == 0))
		return TAKE_PTR(first);
	return xstrdup("docker.io");
}

static int run_search(struct cli *c, struct cli_args *a)
{
	const char *term = a->argv[0], *format = flag_str(a, "format");
	_cleanup_free_ char *fj = filters_json(flag_get(a, "filter")), *index = index_of(term);
	_cleanup_free_ char *auth = registry_auth_header(c, index);
	_cleanup_sbuf_ struct sbuf t = SBUF_INIT, body = SBUF_INIT;
	bool trunc = !flag_bool(a, "no-trunc");
	struct fmt_list f;
	char *err = NULL;
	int ret = 0;

	/* url.Values.Encode: filters, limit, term */
	sbuf_adds(&t, "/images/search?");
	if (fj) {
		sbuf_adds(&t, "filters=");
		url_escape(&t, fj);
		sbuf_adds(&t, "&");
	}
	if (flag_get(a, "limit")->i)
		sbuf_printf(&t, "limit=%lld&", (long long)flag_get(a, "limit")->i);
	sbuf_adds(&t, "term=");
	url_escape(&t, term);
	if (cli_call_stream_h(c, "GET", sbuf_str(&t), NULL, auth) < 0)
		return cli_fail(c, 1);
	for (;;) {
		char buf[16384];
		ssize_t n = cli_stream_read(c, buf, sizeof(buf));
		if (n < 0)
			return cli_fail(c, 1);
		if (n == 0)
			break;
		sbuf_add(&body, buf, (size_t)n);
	}
	_cleanup_json_ json_t *results = json_loads(sbuf_str(&body), 0, NULL);
	if (!json_is_array(results)) {
		err_printf("error decoding the daemon's answer\n");
		return 1;
	}
	if (!format || !*format || strcmp(format, "table") == 0)
		format = "table {{.Name}}\t{{.Description}}\t{{.StarCount}}\t{{.IsOfficial}}";
	if (fmt_list_begin(&f, format, NULL, &err) < 0) {
		err_printf("%s\n", err);
		free(err);
		return 1;
	}
	size_t i;
	json_t *one;
	json_array_foreach (results, i, one) {
		struct ctx_obj o;
		search_ctx_init(&o, one, trunc);
		if (fmt_list_row(&f, tval_obj(&o.obj), &err) < 0) {
			err_printf("%s\n", err);
			free(err);
			ret = 1;
		}
		ctx_obj_release(&o);
		if (ret)
			break;
	}
	if (!ret) {
		struct header_obj h;
		header_init(&h, search_header_pairs);
		fmt_list_end(&f, &h.obj);
	}
	fmt_list_release(&f);
	return ret;
}

static const struct cli_flag search_flags[] = {
	{"filter", 'f', FK_LIST, "filter", NULL, "Filter output based on conditions provided", 0,
	 check_filter},
	{"format", 0, FK_STRING, "string", NULL, "Pretty-print search using a Go template"},
	{"limit", 0, FK_INT, "int", NULL, "Max number of search results"},
	{"no-trunc", 0, FK_BOOL, NULL, NULL, "Don't truncate output"},
};

const struct cli_cmd cmd_search = {
	.name = "search",
	.use = "[OPTIONS] TERM",
	.short_desc = "Search Docker Hub for images",
	.flags = search_flags,
	.n_flags = ARRAY_SIZE(search_flags),
	.args = ARGS_EXACT,
	.min_args = 1,
	.run = run_search,
	.top = 11,
};
