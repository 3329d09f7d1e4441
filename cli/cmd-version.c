/* SPDX-License-Identifier: Apache-2.0 */
/*
 * berth version: the client's and the daemon's versions, in docker's layout (a template run
 * through a tabwriter), or --format over docker's versionInfo {Client, Server}.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "tabwriter.h"
#include "units.h"
#include "base/banned.h"

/* ---- docker's types, as templates see them ----------------------------------------------------- */

static const struct tschema_field platform_fields[] = {{"Name", NULL, 's', false, NULL}};
static const struct tschema platform_schema = {"struct { Name string }", platform_fields, 1, false};
static const struct tschema platform_info_schema = {"system.platformInfo", platform_fields, 1,
						    false};

static const struct tschema_field component_fields[] = {
	{"Name", NULL, 's', false, NULL},
	{"Version", NULL, 's', false, NULL},
	{"Details", NULL, 'm', true, NULL},
};
static const struct tschema component_schema = {"types.ComponentVersion", component_fields, 3,
						false};

static const struct tschema_field server_fields[] = {
	{"Platform", NULL, 'o', false, &platform_schema},
	{"Components", NULL, 'a', true, &component_schema},
	{"Version", NULL, 's', false, NULL},
	{"APIVersion", "ApiVersion", 's', false, NULL},
	{"MinAPIVersion", NULL, 's', true, NULL},
	{"GitCommit", NULL, 's', false, NULL},
	{"GoVersion", NULL, 's', false, NULL},
	{"Os", NULL, 's', false, NULL},
	{"Arch", NULL, 's', false, NULL},
	{"KernelVersion", NULL, 's', true, NULL},
	{"Experimental", NULL, 'b', true, NULL},
	{"BuildTime", NULL, 's', true, NULL},
};
static const struct tschema server_schema = {"types.Version", server_fields,
					     ARRAY_SIZE(server_fields), false};

static const struct tschema_field client_fields[] = {
	{"Platform", NULL, 'p', true, &platform_info_schema},
	CLIENT_VERSION_FIELDS,
	{"Context", NULL, 's', false, NULL},
};
static const struct tschema client_schema = {"system.clientVersion", client_fields,
					     ARRAY_SIZE(client_fields), false};

static const struct tschema_field version_fields[] = {
	{"Client", NULL, 'o', false, &client_schema},
	{"Server", NULL, 'p', false, &server_schema},
};
const struct tschema version_schema = {"system.versionInfo", version_fields, 2, false};

/* ---- the client's facts ------------------------------------------------------------------------ */

const char *client_arch(void)
{
#if defined(__x86_64__)
	return "amd64";
#elif defined(__aarch64__)
	return "arm64";
#elif defined(__i386__)
	return "386";
#elif defined(__arm__)
	return "arm";
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	return "ppc64le";
#elif defined(__s390x__)
	return "s390x";
#elif defined(__riscv) && __riscv_xlen == 64
	return "riscv64";
#else
	return "unknown";
#endif
}

json_t *client_version_json(struct cli *c, const char *api_version)
{
	_cleanup_sbuf_ struct sbuf built = SBUF_INIT;
	json_t *j = json_object();

	ansic_date(&built, cli_build_time);
	json_object_set_new(j, "Version", json_string(BERTH_VERSION));
	if (api_version)
		json_object_set_new(j, "ApiVersion", json_string(api_version));
	json_object_set_new(j, "DefaultAPIVersion", json_string(BERTH_API_VERSION_MAX_STRING));
	json_object_set_new(j, "GitCommit", json_string(cli_git_commit));
	json_object_set_new(j, "GoVersion", json_string("n/a (C)"));
	json_object_set_new(j, "Os", json_string("linux"));
	json_object_set_new(j, "Arch", json_string(client_arch()));
	json_object_set_new(j, "BuildTime", json_string(sbuf_str(&built)));
	json_object_set_new(j, "Context",
			    json_string(c->context_name ? c->context_name : "default"));
	return j;
}

/* ---- the layout -------------------------------------------------------------------------------- */

/* docker's version layout; cells end with tabs so the tabwriter aligns the values */
static const char default_template[] =
	"{{with .Client -}}\n"
	"Client:{{if .Platform}}{{with .Platform.Name}} {{.}}{{end}}{{end}}\n"
	" Version:\t{{.Version}}\n"
	" API version:\t{{.APIVersion}}{{if ne .APIVersion .DefaultAPIVersion}} (downgraded from "
	"{{.DefaultAPIVersion}}){{end}}\n"
	" Go version:\t{{.GoVersion}}\n"
	" Git commit:\t{{.GitCommit}}\n"
	" Built:\t{{.BuildTime}}\n"
	" OS/Arch:\t{{.Os}}/{{.Arch}}\n"
	" Context:\t{{.Context}}\n"
	"{{- end}}\n"
	"{{- with .Server}}\n\n"
	"Server:{{with .Platform.Name}} {{.}}{{end}}\n"
	" {{- range $c := .Components}}\n"
	" {{$c.Name}}:\n"
	"  {{- if eq $c.Name \"Engine\"}}\n"
	"  Version:\t{{$c.Version}}\n"
	"  API version:\t{{index $c.Details \"ApiVersion\"}} (minimum version "
	"{{index $c.Details \"MinAPIVersion\"}})\n"
	"  Go version:\t{{index $c.Details \"GoVersion\"}}\n"
	"  Git commit:\t{{index $c.Details \"GitCommit\"}}\n"
	"  Built:\t{{index $c.Details \"BuildTime\"}}\n"
	"  OS/Arch:\t{{index $c.Details \"Os\"}}/{{index $c.Details \"Arch\"}}\n"
	"  Experimental:\t{{index $c.Details \"Experimental\"}}\n"
	"  {{- else}}\n"
	"  Version:\t{{$c.Version}}\n"
	"  {{- range $k := getDetailsOrder $c}}\n"
	"  {{$k}}:\t{{index $c.Details $k}}\n"
	"  {{- end}}\n"
	"  {{- end}}\n"
	" {{- end}}\n"
	"{{- end}}";

/* getDetailsOrder: a component's detail names, sorted */
static int details_order(json_t *const *args, size_t n, json_t **ret, char **err)
{
	json_t *details = json_object_get(args[0], "Details");
	const char *key;
	json_t *v;
	size_t k = 0;
	const char **keys = xcalloc(json_object_size(details) + 1, sizeof(*keys));

	json_object_foreach (details, key, v)
		keys[k++] = key;
	/* insertion sort: a handful of keys */
	for (size_t i = 1; i < k; i++)
		for (size_t m = i; m > 0 && strcmp(keys[m - 1], keys[m]) > 0; m--) {
			const char *t = keys[m];
			keys[m] = keys[m - 1];
			keys[m - 1] = t;
		}
	*ret = json_array();
	for (size_t i = 0; i < k; i++)
		json_array_append_new(*ret, json_string(keys[i]));
	free(keys);
	(void)n;
	(void)err;
	return 0;
}

const struct tmpl_func version_funcs[] = {
	{"getDetailsOrder", details_order, 1, 1},
	{NULL, NULL, 0, 0},
};

/* what docker does to the server's answer before printing it */
static void fix_server(json_t *sv)
{
	json_t *components = json_object_get(sv, "Components");
	bool engine = false;
	size_t i;
	json_t *comp;

	json_array_foreach (components, i, comp) {
		if (!berth_streq(json_string_value(json_object_get(comp, "Name")), "Engine"))
			continue;
		engine = true;
		json_t *details = json_object_get(comp, "Details");
		const char *bt = json_string_value(json_object_get(details, "BuildTime"));
		if (bt) {
			_cleanup_sbuf_ struct sbuf b = SBUF_INIT;
			ansic_date(&b, bt);
			json_object_set_new(details, "BuildTime", json_string(sbuf_str(&b)));
		}
	}
	if (engine)
		return;
	/* an old daemon without components: the Engine component from the top-level fields */
	_cleanup_sbuf_ struct sbuf bt = SBUF_INIT;
	const char *build = json_string_value(json_object_get(sv, "BuildTime"));
	ansic_date(&bt, build ? build : "");
#define S(k) json_string(json_string_value(json_object_get(sv, k)) ?: "")
	json_t *details = json_object();
	json_object_set_new(details, "ApiVersion", S("ApiVersion"));
	json_object_set_new(details, "MinAPIVersion", S("MinAPIVersion"));
	json_object_set_new(details, "GitCommit", S("GitCommit"));
	json_object_set_new(details, "GoVersion", S("GoVersion"));
	json_object_set_new(details, "Os", S("Os"));
	json_object_set_new(details, "Arch", S("Arch"));
	json_object_set_new(details, "BuildTime", json_string(sbuf_str(&bt)));
	json_object_set_new(
		details, "Experimental",
		json_string(json_is_true(json_object_get(sv, "Experimental")) ? "true" : "false"));
	json_t *engine_c = json_object();
	json_object_set_new(engine_c, "Name", json_string("Engine"));
	json_object_set_new(engine_c, "Version", S("Version"));
	json_object_set_new(engine_c, "Details", details);
#undef S
	if (!components) {
		components = json_array();
		json_object_set_new(sv, "Components", components);
	}
	json_array_append_new(components, engine_c);
}

static int run_version(struct cli *c, struct cli_args *a)
{
	const char *format = flag_str(a, "format");
	_cleanup_tmpl_ struct tmpl *t = NULL;
	_cleanup_json_ json_t *dot = json_object();
	_cleanup_sbuf_ struct sbuf out = SBUF_INIT;
	char *err = NULL;
	int code = 0;

	if (!format || !*format)
		format = default_template;
	else if (strcmp(format, "json") == 0)
		format = "{{json .}}";
	if (tmpl_parse("version", format, version_funcs, &t, &err) < 0) {
		err_printf("template parsing error: %s\n", err);
		free(err);
		return 64;
	}

	json_object_set_new(dot, "Client", client_version_json(c, BERTH_API_VERSION_MAX_STRING));
	/* the request settles the version the client's part shows (in its place: keys keep order) */
	struct cli_response resp;
	if (cli_call(c, "GET", "/version", NULL, &resp) == 0 && json_is_object(resp.json)) {
		fix_server(resp.json);
		json_object_set(dot, "Server", resp.json);
	} else if (!c->err) {
		cli_errorf(c, "Error response from daemon: the daemon's /version answer is "
			      "not a JSON object");
	}
	cli_response_release(&resp);
	if (c->version_known)
		json_object_set_new(json_object_get(dot, "Client"), "ApiVersion",
				    json_string(c->api_version));
	if (!json_object_get(dot, "Server")) {
		json_object_set_new(dot, "Server", json_null());
		code = 1;
	}
	/* the client's fields are there even when the daemon is not */
	json_object_set_new(json_object_get(dot, "Client"), "Context",
			    json_string(c->context_name ? c->context_name : "default"));

	struct tabwriter tw;
	_cleanup_sbuf_ struct sbuf rendered = SBUF_INIT;
	char *xerr = NULL;
	int r = tmpl_exec(t, tval_json(dot, &version_schema), TMPL_FUNCS_BASIC, &rendered, &xerr);
	tw_init(&tw, &out, 20, 1, 1, ' ');
	tw_write(&tw, sbuf_str(&rendered), rendered.len);
	tw_write(&tw, "\n", 1);
	tw_flush(&tw);
	tw_release(&tw);
	out_write(sbuf_str(&out), out.len);
	if (r < 0) {
		/* the daemon's error, if any, wins, as docker's */
		if (!code)
			err_printf("%s\n", xerr);
		else
			cli_fail(c, 1);
		free(xerr);
		return 1;
	}
	return code ? cli_fail(c, code) : 0;
}

static const struct cli_flag version_flags[] = {
	{"format", 'f', FK_STRING, "string", NULL, FORMAT_HELP_INSPECT},
};

const struct cli_cmd cmd_version = {
	.name = "version",
	.use = "[OPTIONS]",
	.short_desc = "Show the client's and the daemon's versions",
	.flags = version_flags,
	.n_flags = ARRAY_SIZE(version_flags),
	.args = ARGS_NONE,
	.run = run_version,
	.top = 10,
};
