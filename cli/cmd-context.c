/* SPDX-License-Identifier: Apache-2.0 */
/*
 * berth context: ls, show, use, inspect, create, rm, update, export, import over docker's context
 * store, with
 * docker 28's flags, output, messages and files (cli/command/context).  The store is docker's:
 * <config>/contexts/meta/<sha256 hex of the name>/meta.json, so a context made by one CLI is
 * the other's.  Nothing here talks to berthd.  Files are written whole or not at all (a
 * temporary file renamed over the old one).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "format.h"
#include "context-tar.h"
#include "inspect.h"
#include "sha256.h"
#include "base/banned.h"

#define DEFAULT_NAME	    "default"
#define DEFAULT_DESCRIPTION "Current DOCKER_HOST based configuration"
#define NAME_PATTERN	    "^[a-zA-Z0-9][a-zA-Z0-9_.+-]+$"
#define META_MAX	    (1 << 20)
#define IMPORT_MAX	    (16 << 20)

/* ---- the store -------------------------------------------------------------------------------- */

/* <config>/contexts/<kind>/<sha256 hex of name> */
static char *ctx_dir(struct cli *c, const char *kind, const char *name)
{
	char id[SHA256_HEX_LEN + 1];

	sha256_hex(name, strlen(name), id);
	return xasprintf("%s/contexts/%s/%s", cli_config_dir(c), kind, id);
}

/* docker's store.ValidateContextName: 0, or -1 with its message printed */
static int name_check(const char *name)
{
	bool ok = (name[0] && name[1]);

	for (const char *p = name; ok && *p; p++) {
		char ch = *p;
		bool alnum = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
			     (ch >= '0' && ch <= '9');
		ok = alnum || (p != name && strchr("_.+-", ch));
	}
	if (!*name)
		err_printf("context name cannot be empty\n");
	else if (strcmp(name, DEFAULT_NAME) == 0)
		err_printf("\"%s\" is a reserved context name\n", DEFAULT_NAME);
	else if (!ok)
		err_printf("context name \"%s\" is invalid, names are validated against regexp "
			   "\"%s\"\n",
			   name, NAME_PATTERN);
	else
		return 0;
	return -1;
}

/*
 * Read a meta.json at path: 0 with *ret; -ENOENT when there is none; -1 with *ret_err (malloc'd)
 * when it cannot be read or is not a context's metadata.
 */
static int meta_read(const char *path, json_t **ret, char **ret_err)
{
	_cleanup_error_ struct berth_error *e = NULL;
	json_t *j = NULL;

	if (access(path, F_OK) < 0 && errno == ENOENT)
		return -ENOENT;
	if (berth_json_load_file(path, META_MAX, &j, &e) < 0) {
		*ret_err = xasprintf("failed to read metadata: parsing %s: %s", path,
				     e && e->msg ? e->msg : "unreadable");
		return -1;
	}
	if (!json_is_object(j) || !json_is_string(json_object_get(j, "Name"))) {
		json_decref(j);
		*ret_err = xasprintf("failed to read metadata: parsing %s: not a context's "
				     "metadata (no \"Name\")",
				     path);
		return -1;
	}
	*ret = j;
	return 0;
}

/* The host berth uses for the default context: -H, BERTH_HOST, DOCKER_HOST, berthd's socket. */
static const char *default_host(struct cli *c)
{
	const char *env = getenv("BERTH_HOST");

	if (c->n_hosts)
		return c->hosts[0];
	if (!env || !*env)
		env = getenv("DOCKER_HOST");
	return env && *env ? env : cli_default_host();
}

/* the environment variable that overrides the current context, or NULL */
static const char *host_env(void)
{
	const char *env = getenv("BERTH_HOST");

	if (env && *env)
		return "BERTH_HOST";
	env = getenv("DOCKER_HOST");
	return env && *env ? "DOCKER_HOST" : NULL;
}

/* The default context's metadata as docker makes it up (it is not stored). */
static json_t *default_meta(struct cli *c, bool with_description)
{
	return json_pack("{s:s,s:o,s:{s:{s:s,s:b}}}", "Name", DEFAULT_NAME, "Metadata",
			 with_description ? json_pack("{s:s}", "Description", DEFAULT_DESCRIPTION)
					  : json_object(),
			 "Endpoints", "docker", "Host", default_host(c), "SkipTLSVerify", 0);
}

/*
 * The metadata of context name (the default one made up): 0 with *ret, or -1 with docker's
 * message in *ret_err ('context "x": context not found: open ...: no such file or directory').
 */
static int meta_get(struct cli *c, const char *name, bool default_description, json_t **ret,
		    char **ret_err)
{
	if (strcmp(name, DEFAULT_NAME) == 0) {
		*ret = default_meta(c, default_description);
		return 0;
	}
	_cleanup_free_ char *dir = ctx_dir(c, "meta", name);
	_cleanup_free_ char *path = xasprintf("%s/meta.json", dir);
	char *e = NULL;
	int r = meta_read(path, ret, &e);
	if (r == -ENOENT)
		*ret_err = xasprintf("context \"%s\": context not found: open %s: no such file or "
				     "directory",
				     name, path);
	else if (r < 0)
		*ret_err = xasprintf("context \"%s\": %s", name, e);
	free(e);
	return r < 0 ? -1 : 0;
}

/* Every stored context's metadata, and the default one first: 0, or -1 with *ret_err. */
static int meta_list(struct cli *c, json_t **ret, char **ret_err)
{
	_cleanup_free_ char *dir = xasprintf("%s/contexts/meta", cli_config_dir(c));
	_cleanup_closedir_ DIR *d = opendir(dir);
	_cleanup_json_ json_t *list = json_array();
	struct dirent *de;

	json_array_append_new(list, default_meta(c, true));
	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		_cleanup_free_ char *path = xasprintf("%s/%s/meta.json", dir, de->d_name);
		json_t *m = NULL;
		int r = meta_read(path, &m, ret_err);
		if (r == -ENOENT)
			continue; /* docker skips a directory without metadata too */
		if (r < 0)
			return -1;
		json_array_append_new(list, m);
	}
	*ret = TAKE_PTR(list);
	return 0;
}

/* docker's resolveContextName: --context, -H (default), BERTH_HOST/DOCKER_HOST (default),
 * DOCKER_CONTEXT, the config file's currentContext, default.  malloc'd. */
static char *current_name(struct cli *c)
{
	const char *env = getenv("DOCKER_CONTEXT");

	if (c->context_opt && *c->context_opt)
		return xstrdup(c->context_opt);
	if (c->n_hosts || host_env())
		return xstrdup(DEFAULT_NAME);
	if (env && *env)
		return xstrdup(env);
	const char *cur = json_string_value(json_object_get(cli_config_file(c), "currentContext"));
	return xstrdup(cur && *cur ? cur : DEFAULT_NAME);
}

/*
 * j as Go's json encoder writes it: '<', '>', '&' escaped (they only occur inside strings), and
 * with tabs, as json.MarshalIndent(v, "", "\t") (jansson indents with spaces: a line's leading
 * spaces are its indentation, as JSON strings hold no raw newline).  Appended to out.
 */
static void go_json(struct sbuf *out, const json_t *j, bool tabs)
{
	_cleanup_free_ char *s = json_dumps(j, tabs ? JSON_INDENT(1) : JSON_COMPACT);
	bool line_start = true;

	for (const char *p = s; p && *p; p++) {
		if (*p == '<' || *p == '>' || *p == '&') {
			sbuf_printf(out, "\\u%04x", (unsigned)*p);
		} else if (tabs && line_start && *p == ' ') {
			sbuf_addc(out, '\t');
			continue;
		} else {
			sbuf_addc(out, *p);
		}
		line_start = (*p == '\n');
	}
}

/* Write data to path whole or not at all (a temporary file renamed over it). */
static int write_file(const char *path, const char *data, size_t len, mode_t mode)
{
	_cleanup_error_ struct berth_error *e = NULL;

	if (berth_write_file_atomic_at(AT_FDCWD, path, data, len, mode, &e) < 0) {
		err_printf("%s\n", e && e->msg ? e->msg : path);
		return -1;
	}
	return 0;
}

/* Store meta (a context's metadata) as meta.json in its directory. */
static int meta_store(struct cli *c, const json_t *meta)
{
	_cleanup_free_ char *dir =
		ctx_dir(c, "meta", json_string_value(json_object_get(meta, "Name")));
	_cleanup_free_ char *path = xasprintf("%s/meta.json", dir);
	_cleanup_error_ struct berth_error *e = NULL;
	_cleanup_sbuf_ struct sbuf b = SBUF_INIT;

	if (berth_mkdir_p(dir, 0755, &e) < 0) {
		err_printf("%s\n", e && e->msg ? e->msg : dir);
		return -1;
	}
	go_json(&b, meta, false);
	return write_file(path, sbuf_str(&b), b.len, 0644);
}

/* Set (or with value NULL remove) the config file's currentContext, keeping every other key. */
static int config_set_current(struct cli *c, const char *value)
{
	json_t *cfg = cli_config_file(c);
	_cleanup_json_ json_t *fresh = NULL;
	const char *dir = cli_config_dir(c);
	_cleanup_free_ char *path = xasprintf("%s/config.json", dir);
	_cleanup_error_ struct berth_error *e = NULL;
	_cleanup_sbuf_ struct sbuf b = SBUF_INIT;
	const char *cur = json_string_value(json_object_get(cfg, "currentContext"));

	/* nothing changes: nothing is written (docker neither creates the file then) */
	if (cur && !*cur)
		cur = NULL;
	if (cur == value || berth_streq(cur, value))
		return 0;
	if (!cfg) {
		if (access(path, F_OK) == 0) {
			err_printf("loading config file: %s: not a readable JSON object\n", path);
			return -1;
		}
		cfg = fresh = json_pack("{s:{}}", "auths");
	}
	if (value)
		json_object_set_new(cfg, "currentContext", json_string(value));
	else
		json_object_del(cfg, "currentContext");
	if (berth_mkdir_p(dir, 0700, &e) < 0) {
		err_printf("%s\n", e && e->msg ? e->msg : dir);
		return -1;
	}
	go_json(&b, cfg, true);
	return write_file(path, sbuf_str(&b), b.len, 0600);
}

/* ---- --docker: docker's endpoint options ---------------------------------------------------- */

/* The comma-separated fields of s ("" is one empty field, as Go's csv reader gives). */
static char **split_commas(const char *s)
{
	char **v = NULL;

	for (;;) {
		const char *comma = strchr(s, ',');
		_cleanup_free_ char *f = comma ? xstrndup(s, (size_t)(comma - s)) : xstrdup(s);
		if (berth_strv_push(&v, f) < 0)
			abort();
		if (!comma)
			return v;
		s = comma + 1;
	}
}

/* pflag's stringToString: each comma-separated field is key=value */
static int check_docker(const char *value, char **err)
{
	_cleanup_strv_ char **fields = split_commas(value);

	for (char **f = fields; f && *f; f++) {
		if (!strchr(*f, '=')) {
			*err = xasprintf("%s must be formatted as key=value", *f);
			return -1;
		}
	}
	return 0;
}

/* Go's strconv.ParseBool */
static int parse_bool(const char *s, bool *ret)
{
	static const char *const yes[] = {"1", "t", "T", "TRUE", "true", "True", NULL};
	static const char *const no[] = {"0", "f", "F", "FALSE", "false", "False", NULL};

	for (size_t i = 0; yes[i]; i++) {
		if (strcmp(s, yes[i]) == 0)
			return *ret = true, 0;
		if (strcmp(s, no[i]) == 0)
			return *ret = false, 0;
	}
	return -1;
}

/* docker's ParseHost as far as a context stores it: empty, or proto://address */
static bool host_ok(const char *h)
{
	static const char *const protos[] = {"unix://",	 "tcp://", "ssh://",
					     "npipe://", "fd://",  NULL};

	if (!*h)
		return true;
	for (size_t i = 0; protos[i]; i++)
		if (berth_str_has_prefix(h, protos[i]))
			return h[strlen(protos[i])] != '\0' || strcmp(protos[i], "unix://") == 0;
	return false;
}

/*
 * The docker endpoint {"Host", "SkipTLSVerify"} the --docker values describe: 0 with *ret, or -1
 * with the message printed.  TLS material (ca, cert, key) is refused: berth talks to berthd
 * over unix sockets only, so it has nothing to present them to.
 */
static int docker_endpoint(struct cli *c, const struct flag_value *v, json_t **ret)
{
	_cleanup_free_ char *host = NULL, *from = NULL;
	bool skip = false;

	for (size_t i = 0; i < v->n; i++) {
		_cleanup_strv_ char **fields = split_commas(v->v[i]);
		for (char **f = fields; f && *f; f++) {
			char *eq = strchr(*f, '=');
			*eq = '\0';
			const char *key = *f, *val = eq + 1;
			if (strcmp(key, "host") == 0) {
				free(host);
				host = xstrdup(val);
			} else if (strcmp(key, "from") == 0) {
				free(from);
				from = xstrdup(val);
			} else if (strcmp(key, "skip-tls-verify") == 0) {
				if (parse_bool(val, &skip) < 0) {
					err_printf(
						"unable to create docker endpoint config: "
						"skip-tls-verify: parsing \"%s\": invalid syntax\n",
						val);
					return -1;
				}
			} else if (strcmp(key, "ca") == 0 || strcmp(key, "cert") == 0 ||
				   strcmp(key, "key") == 0) {
				err_printf(
					"unable to create docker endpoint config: %s: berth "
					"contexts take no TLS material (berth reaches berthd over "
					"unix sockets only)\n",
					key);
				return -1;
			} else {
				err_printf("unable to create docker endpoint config: unrecognized "
					   "config key: %s\n",
					   key);
				return -1;
			}
		}
	}
	json_t *ep;
	if (from) {
		_cleanup_json_ json_t *src = NULL;
		char *e = NULL;
		if (meta_get(c, from, true, &src, &e) < 0) {
			err_printf("unable to create docker endpoint config: %s\n", e);
			free(e);
			return -1;
		}
		ep = json_object_get(json_object_get(src, "Endpoints"), "docker");
		ep = ep ? json_deep_copy(ep) : json_object();
	} else {
		ep = json_object();
	}
	if (host) {
		if (!host_ok(host)) {
			json_decref(ep);
			err_printf(
				"unable to create docker endpoint config: unable to apply docker "
				"endpoint options: unable to parse docker host `%s`\n",
				host);
			return -1;
		}
		if (*host)
			json_object_set_new(ep, "Host", json_string(host));
		else
			json_object_del(ep, "Host");
	}
	/* Go's struct order: Host, then SkipTLSVerify */
	json_object_del(ep, "SkipTLSVerify");
	json_object_set_new(ep, "SkipTLSVerify", json_boolean(skip));
	*ret = ep;
	return 0;
}

/* ---- ls ---------------------------------------------------------------------------------------- */

static const char *const context_header_pairs[] = {
	"Name",	 "NAME",  "Description", "DESCRIPTION", "DockerEndpoint", "DOCKER ENDPOINT",
	"Error", "ERROR", NULL,
};

static void context_row(struct ctx_obj *c, json_t *row, bool trunc)
{
	(void)trunc;
	ctx_obj_init(c, "*formatter.clientContextContext", json_incref(row));
}

static int run_context_ls(struct cli *c, struct cli_args *a)
{
	_cleanup_json_ json_t *metas = NULL, *rows = json_array();
	_cleanup_free_ char *cur = current_name(c);
	const char *format = flag_str(a, "format"), *env = host_env();
	char *err = NULL;
	size_t i;
	json_t *m;

	if (meta_list(c, &metas, &err) < 0) {
		err_printf("%s\n", err);
		free(err);
		return 1;
	}
	_cleanup_free_ char *cur_err = NULL;
	_cleanup_json_ json_t *cur_meta = NULL;
	if (meta_get(c, cur, false, &cur_meta, &cur_err) < 0)
		cur_meta = json_object();
	json_array_foreach (metas, i, m) {
		const char *name = json_string_value(json_object_get(m, "Name"));
		json_t *ep = json_object_get(json_object_get(m, "Endpoints"), "docker");
		const char *desc = json_string_value(
			json_object_get(json_object_get(m, "Metadata"), "Description"));
		const char *host = json_string_value(json_object_get(ep, "Host"));
		json_array_append_new(
			rows,
			json_pack("{s:s,s:s,s:b,s:s,s:s}", "Name", name, "Description",
				  desc ? desc : "", "Current", strcmp(name, cur) == 0,
				  "DockerEndpoint", host ? host : "", "Error",
				  json_is_object(ep) ? ""
						     : "cannot find docker endpoint in context"));
	}
	/* a current context that is not in the store is listed too, with why (docker's stub row) */
	if (strcmp(cur, DEFAULT_NAME) != 0 && !json_object_get(cur_meta, "Name")) {
		_cleanup_sbuf_ struct sbuf short_err = SBUF_INIT;
		ellipsis(&short_err, cur_err ? cur_err : "", 45);
		json_array_append_new(rows,
				      json_pack("{s:s,s:s,s:b,s:s,s:s}", "Name", cur, "Description",
						"", "Current", 1, "DockerEndpoint", "", "Error",
						sbuf_str(&short_err)));
	}
	if (flag_bool(a, "quiet"))
		format = "{{.Name}}";
	else if (!format || !*format || strcmp(format, "table") == 0)
		format = "table {{.Name}}{{if .Current}} "
			 "*{{end}}\t{{.Description}}\t{{.DockerEndpoint}}"
			 "\t{{.Error}}";
	int ret = list_rows(rows, format, context_header_pairs, context_row, false);
	if (!ret && env)
		err_printf(
			"Warning: %s environment variable overrides the active context. To use a "
			"context, either set the global --context flag, or unset %s environment "
			"variable.\n",
			env, env);
	return ret;
}

static const struct cli_flag ls_flags[] = {
	{"format", 0, FK_STRING, "string", NULL, FORMAT_HELP_LIST},
	{"quiet", 'q', FK_BOOL, NULL, NULL, "Only show context names"},
};

static const char *const ls_aliases[] = {"list", NULL};

static const struct cli_cmd cmd_context_ls = {
	.name = "ls",
	.use = "[OPTIONS]",
	.short_desc = "List contexts",
	.aliases_line = "berth context ls, berth context list",
	.aliases = ls_aliases,
	.flags = ls_flags,
	.n_flags = ARRAY_SIZE(ls_flags),
	.args = ARGS_NONE,
	.run = run_context_ls,
};

/* ---- show -------------------------------------------------------------------------------------- */

static int run_context_show(struct cli *c, struct cli_args *a)
{
	_cleanup_free_ char *cur = current_name(c);

	(void)a;
	out_printf("%s\n", cur);
	return 0;
}

static const struct cli_cmd cmd_context_show = {
	.name = "show",
	.short_desc = "Print the name of the current context",
	.args = ARGS_NONE,
	.run = run_context_show,
};

/* ---- use --------------------------------------------------------------------------------------- */

static int run_context_use(struct cli *c, struct cli_args *a)
{
	const char *name, *env = host_env();

	if (a->argc != 1) {
		err_printf("accepts 1 arg(s), received %d\n", a->argc);
		return 1;
	}
	name = a->argv[0];
	if (strcmp(name, DEFAULT_NAME) != 0) {
		_cleanup_json_ json_t *m = NULL;
		char *err = NULL;
		if (name_check(name) < 0)
			return 1;
		if (meta_get(c, name, false, &m, &err) < 0) {
			err_printf("%s\n", err);
			free(err);
			return 1;
		}
	}
	if (config_set_current(c, strcmp(name, DEFAULT_NAME) == 0 ? NULL : name) < 0)
		return 1;
	out_printf("%s\n", name);
	out_flush();
	err_printf("Current context is now \"%s\"\n", name);
	if (strcmp(name, DEFAULT_NAME) != 0 && env)
		err_printf("Warning: %s environment variable overrides the active context. To use "
			   "\"%s\", either set the global --context flag, or unset %s environment "
			   "variable.\n",
			   env, name, env);
	return 0;
}

static const struct cli_cmd cmd_context_use = {
	.name = "use",
	.use = "CONTEXT",
	.short_desc = "Set the current berth context",
	.args = ARGS_ANY,
	.run = run_context_use,
	.complete = COMPLETE_CONTEXTS,
	.complete_max = 1,
};

/* ---- inspect ----------------------------------------------------------------------------------- */

/* TLSMaterial: the files under tls/<id>/<endpoint>/, by endpoint, as docker lists them */
static json_t *tls_material(const char *tls_dir)
{
	json_t *out = json_object();
	_cleanup_closedir_ DIR *d = opendir(tls_dir);
	struct dirent *de;

	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		_cleanup_free_ char *sub = xasprintf("%s/%s", tls_dir, de->d_name);
		_cleanup_closedir_ DIR *e = opendir(sub);
		struct dirent *fe;
		json_t *files = json_array();
		while (e && (fe = readdir(e)))
			if (fe->d_name[0] != '.')
				json_array_append_new(files, json_string(fe->d_name));
		json_object_set_new(out, de->d_name, files);
	}
	return out;
}

/* docker's Go type for inspect templates: context.contextWithTLSListing, which embeds
 * store.Metadata (so {{.Metadata}} is that whole struct, as in docker) */
static const struct tschema_field docker_context_fields[] = {
	{"Description", NULL, 's', true, NULL},
	/* the other keys, inline in the JSON (a context berth makes has none) */
	{"AdditionalFields", NULL, 'm', true, NULL},
};
static const struct tschema docker_context_schema = {"interface {}", docker_context_fields,
						     ARRAY_SIZE(docker_context_fields)};
static const struct tschema_field store_meta_fields[] = {
	{"Name", NULL, 's', false, NULL},
	/* an interface{} holding a command.DockerContext: errors name the interface */
	{"Metadata", NULL, 'o', false, &docker_context_schema},
	{"Endpoints", NULL, 'm', false, NULL},
};
static const struct tschema store_meta_schema = {"store.Metadata", store_meta_fields,
						 ARRAY_SIZE(store_meta_fields)};
static const struct tschema_field storage_fields[] = {
	{"MetadataPath", NULL, 's', false, NULL},
	{"TLSPath", NULL, 's', false, NULL},
};
static const struct tschema storage_schema = {"store.StorageInfo", storage_fields,
					      ARRAY_SIZE(storage_fields)};
static const struct tschema_field context_fields[] = {
	{"Metadata", NULL, 'e', false, &store_meta_schema},
	{"TLSMaterial", NULL, 'm', false, NULL},
	{"Storage", NULL, 'o', false, &storage_schema},
};
static const struct tschema context_schema = {"context.contextWithTLSListing", context_fields,
					      ARRAY_SIZE(context_fields)};

static int get_context(struct cli *c, const char *ref, void *data, struct inspect_obj *ret,
		       char **ret_err)
{
	_cleanup_json_ json_t *m = NULL;
	_cleanup_sbuf_ struct sbuf b = SBUF_INIT;
	bool is_default = strcmp(ref, DEFAULT_NAME) == 0;

	(void)data;
	if (meta_get(c, ref, false, &m, ret_err) < 0)
		return -1;
	_cleanup_free_ char *meta_dir =
		is_default ? xstrdup("<IN MEMORY>") : ctx_dir(c, "meta", ref);
	_cleanup_free_ char *tls_dir = is_default ? xstrdup("<IN MEMORY>") : ctx_dir(c, "tls", ref);
	json_t *md = json_object_get(m, "Metadata"), *eps = json_object_get(m, "Endpoints");
	_cleanup_json_ json_t *obj =
		json_pack("{s:O,s:O,s:O,s:o,s:{s:s,s:s}}", "Name", json_object_get(m, "Name"),
			  "Metadata", md ? md : json_null(), "Endpoints", eps ? eps : json_object(),
			  "TLSMaterial", is_default ? json_object() : tls_material(tls_dir),
			  "Storage", "MetadataPath", meta_dir, "TLSPath", tls_dir);
	go_json(&b, obj, false);
	ret->len = b.len;
	ret->raw = sbuf_detach(&b);
	ret->json = TAKE_PTR(obj);
	ret->schema = &context_schema;
	ret->typed_only = true; /* docker's getRef gives no raw form to fall back on */
	return 0;
}

static int run_context_inspect(struct cli *c, struct cli_args *a)
{
	_cleanup_free_ char *cur = NULL;
	char *one[1];

	if (a->argc == 0) {
		one[0] = cur = current_name(c);
		return inspect_run(c, one, 1, flag_str(a, "format"), get_context, NULL);
	}
	return inspect_run(c, a->argv, a->argc, flag_str(a, "format"), get_context, NULL);
}

static const struct cli_flag inspect_flags[] = {
	{"format", 'f', FK_STRING, "string", NULL, FORMAT_HELP_INSPECT},
};

static const struct cli_cmd cmd_context_inspect = {
	.name = "inspect",
	.use = "[OPTIONS] [CONTEXT] [CONTEXT...]",
	.short_desc = "Display detailed information on one or more contexts",
	.flags = inspect_flags,
	.n_flags = ARRAY_SIZE(inspect_flags),
	.args = ARGS_ANY,
	.run = run_context_inspect,
	.complete = COMPLETE_CONTEXTS,
};

/* ---- create, update ---------------------------------------------------------------------------- */

#define ENDPOINT_HELP                                                                              \
	"Docker endpoint config:\n\n"                                                              \
	"NAME                DESCRIPTION\n"                                                        \
	"from                Copy named context's Docker endpoint configuration\n"                 \
	"host                Docker endpoint on which to connect (berth connects to unix:// "      \
	"ones)\n"                                                                                  \
	"skip-tls-verify     Skip TLS certificate validation\n\n"                                  \
	"TLS material (ca, cert, key) is refused: berth reaches berthd over unix sockets only."

static void set_description(json_t *meta, const char *desc)
{
	json_t *md = json_object_get(meta, "Metadata");

	if (!json_is_object(md)) {
		md = json_object();
		json_object_set_new(meta, "Metadata", md);
	}
	json_object_set_new(md, "Description", json_string(desc));
}

static int run_context_create(struct cli *c, struct cli_args *a)
{
	const char *name = a->argv[0], *from = flag_str(a, "from");
	const char *desc = flag_str(a, "description");
	const struct flag_value *docker = flag_get(a, "docker");
	_cleanup_free_ char *dir = NULL, *path = NULL, *err = NULL, *cur = NULL;
	_cleanup_json_ json_t *meta = NULL, *old = NULL;

	if (name_check(name) < 0)
		return 1;
	dir = ctx_dir(c, "meta", name);
	path = xasprintf("%s/meta.json", dir);
	int r = meta_read(path, &old, &err);
	if (r != -ENOENT) {
		if (r < 0)
			err_printf("error while getting existing contexts: %s\n", err);
		else
			err_printf("context \"%s\" already exists\n", name);
		return 1;
	}
	if ((from && *from) || !docker->n) {
		if (docker->n) {
			err_printf("cannot use --docker flag when --from is set\n");
			return 1;
		}
		if (!from || !*from)
			from = cur = current_name(c);
		/* the source's metadata and endpoint, under the new name */
		if (meta_get(c, from, true, &meta, &err) < 0) {
			err_printf("%s\n", err);
			return 1;
		}
		json_object_set_new(meta, "Name", json_string(name));
	} else {
		json_t *ep;
		if (docker_endpoint(c, docker, &ep) < 0)
			return 1;
		meta = json_pack("{s:s,s:{},s:{s:o}}", "Name", name, "Metadata", "Endpoints",
				 "docker", ep);
	}
	if (desc && *desc)
		set_description(meta, desc);
	if (meta_store(c, meta) < 0)
		return 1;
	out_printf("%s\n", name);
	out_flush();
	err_printf("Successfully created context \"%s\"\n", name);
	return 0;
}

static const struct cli_flag create_flags[] = {
	{"description", 0, FK_STRING, "string", NULL, "Description of the context"},
	{"docker", 0, FK_LIST, "stringToString", "[]", "set the docker endpoint", 0, check_docker},
	{"from", 0, FK_STRING, "string", NULL, "create context from a named context"},
};

static const struct cli_cmd cmd_context_create = {
	.name = "create",
	.use = "[OPTIONS] CONTEXT",
	.short_desc = "Create a context",
	.long_desc = "Create a context\n\n" ENDPOINT_HELP,
	.example = "$ berth context create my-context --description \"some description\" --docker "
		   "\"host=unix:///run/berth/other.sock\"",
	.flags = create_flags,
	.n_flags = ARRAY_SIZE(create_flags),
	.args = ARGS_EXACT,
	.min_args = 1,
	.run = run_context_create,
};

static int run_context_update(struct cli *c, struct cli_args *a)
{
	const char *name = a->argv[0], *desc = flag_str(a, "description");
	const struct flag_value *docker = flag_get(a, "docker");
	_cleanup_json_ json_t *meta = NULL;
	char *err = NULL;

	if (name_check(name) < 0)
		return 1;
	if (meta_get(c, name, false, &meta, &err) < 0) {
		err_printf("%s\n", err);
		free(err);
		return 1;
	}
	if (desc && *desc)
		set_description(meta, desc);
	if (docker->n) {
		json_t *ep, *eps = json_object_get(meta, "Endpoints");
		if (docker_endpoint(c, docker, &ep) < 0)
			return 1;
		if (!json_is_object(eps)) {
			eps = json_object();
			json_object_set_new(meta, "Endpoints", eps);
		}
		json_object_set_new(eps, "docker", ep);
	}
	if (!json_is_object(json_object_get(json_object_get(meta, "Endpoints"), "docker"))) {
		err_printf("cannot find docker endpoint in context\n");
		return 1;
	}
	if (meta_store(c, meta) < 0)
		return 1;
	out_printf("%s\n", name);
	out_flush();
	err_printf("Successfully updated context \"%s\"\n", name);
	return 0;
}

static const struct cli_flag update_flags[] = {
	{"description", 0, FK_STRING, "string", NULL, "Description of the context"},
	{"docker", 0, FK_LIST, "stringToString", "[]", "set the docker endpoint", 0, check_docker},
};

static const struct cli_cmd cmd_context_update = {
	.name = "update",
	.use = "[OPTIONS] CONTEXT",
	.short_desc = "Update a context",
	.long_desc = "Update a context\n\n" ENDPOINT_HELP,
	.example = "$ berth context update my-context --description \"some description\" --docker "
		   "\"host=unix:///run/berth/other.sock\"",
	.flags = update_flags,
	.n_flags = ARRAY_SIZE(update_flags),
	.args = ARGS_EXACT,
	.min_args = 1,
	.run = run_context_update,
	.complete = COMPLETE_CONTEXTS,
	.complete_max = 1,
};

/* ---- rm ---------------------------------------------------------------------------------------- */

static int remove_one(struct cli *c, const char *name, bool current, bool force)
{
	_cleanup_free_ char *meta = ctx_dir(c, "meta", name), *tls = ctx_dir(c, "tls", name);
	_cleanup_free_ char *path = xasprintf("%s/meta.json", meta);
	_cleanup_error_ struct berth_error *e = NULL;

	if (current) {
		if (!force) {
			err_printf("context \"%s\" is in use, set -f flag to force remove\n", name);
			return -1;
		}
		/* back to the default context (BERTH_HOST, DOCKER_HOST, berthd's socket) */
		if (config_set_current(c, NULL) < 0)
			return -1;
	}
	if (!force && access(path, F_OK) < 0) {
		err_printf("context \"%s\" does not exist\n", name);
		return -1;
	}
	if (berth_rm_rf(meta, &e) < 0 || berth_rm_rf(tls, &e) < 0) {
		err_printf("failed to remove context \"%s\": %s\n", name,
			   e && e->msg ? e->msg : "");
		return -1;
	}
	return 0;
}

static int run_context_rm(struct cli *c, struct cli_args *a)
{
	_cleanup_free_ char *cur = current_name(c);
	bool force = flag_bool(a, "force");
	int ret = 0;

	for (int i = 0; i < a->argc; i++) {
		const char *name = a->argv[i];
		if (strcmp(name, DEFAULT_NAME) == 0) {
			err_printf("context \"default\" cannot be removed\n");
			ret = 1;
		} else if (remove_one(c, name, strcmp(name, cur) == 0, force) < 0) {
			ret = 1;
		} else {
			out_printf("%s\n", name);
			out_flush();
		}
	}
	return ret;
}

static const struct cli_flag rm_flags[] = {
	{"force", 'f', FK_BOOL, NULL, NULL, "Force the removal of a context in use"},
};

static const char *const rm_aliases[] = {"remove", NULL};

static const struct cli_cmd cmd_context_rm = {
	.name = "rm",
	.use = "CONTEXT [CONTEXT...]",
	.short_desc = "Remove one or more contexts",
	.aliases_line = "berth context rm, berth context remove",
	.aliases = rm_aliases,
	.flags = rm_flags,
	.n_flags = ARRAY_SIZE(rm_flags),
	.args = ARGS_MIN,
	.min_args = 1,
	.run = run_context_rm,
	.complete = COMPLETE_CONTEXTS,
};

/* ---- export, import: docker's tar of a context (meta.json, then the tls directory) -------- */

static int run_context_export(struct cli *c, struct cli_args *a)
{
	const char *name = a->argv[0];
	_cleanup_free_ char *dest = NULL, *err = NULL;
	_cleanup_json_ json_t *meta = NULL;
	_cleanup_sbuf_ struct sbuf tar = SBUF_INIT, json = SBUF_INIT;

	if (meta_get(c, name, true, &meta, &err) < 0) {
		err_printf("%s\n", err);
		return 1;
	}
	go_json(&json, meta, false);
	context_tar_write(&tar, sbuf_str(&json), json.len);
	if (a->argc > 1 && strcmp(a->argv[1], "-") == 0) {
		out_write(sbuf_str(&tar), tar.len);
		return 0;
	}
	dest = a->argc > 1 ? xstrdup(a->argv[1]) : xasprintf("%s.dockercontext", name);
	_cleanup_close_ int fd = open(dest, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return open_error(dest, errno);
	int w = berth_write_all(fd, sbuf_str(&tar), tar.len);
	if (w < 0)
		return path_error("write", dest, -w);
	err_printf("Written file \"%s\"\n", dest);
	return 0;
}

static const struct cli_cmd cmd_context_export = {
	.name = "export",
	.use = "[OPTIONS] CONTEXT [FILE|-]",
	.short_desc = "Export a context to a tar archive FILE or a tar stream on STDOUT.",
	.args = ARGS_RANGE,
	.min_args = 1,
	.max_args = 2,
	.run = run_context_export,
	.complete = COMPLETE_CONTEXTS,
	.complete_max = 1,
};

static int run_context_import(struct cli *c, struct cli_args *a)
{
	const char *name = a->argv[0], *src = a->argv[1];
	_cleanup_free_ char *dir = NULL, *path = NULL, *err = NULL, *data = NULL;
	_cleanup_json_ json_t *old = NULL, *meta = NULL;
	_cleanup_error_ struct berth_error *e = NULL;
	_cleanup_close_ int fd = -EBADF;
	size_t len = 0;

	if (name_check(name) < 0)
		return 1;
	dir = ctx_dir(c, "meta", name);
	path = xasprintf("%s/meta.json", dir);
	int r = meta_read(path, &old, &err);
	if (r != -ENOENT) {
		if (r < 0)
			err_printf("error while getting existing contexts: %s\n", err);
		else
			err_printf("context \"%s\" already exists\n", name);
		return 1;
	}
	if (strcmp(src, "-") == 0)
		fd = dup(STDIN_FILENO);
	else if ((fd = open(src, O_RDONLY | O_CLOEXEC)) < 0)
		return open_error(src, errno);
	if (berth_read_fd(fd, IMPORT_MAX, &data, &len, &e) < 0) {
		err_printf("read %s: %s\n", src, e && e->msg ? e->msg : "failed");
		return 1;
	}
	if (len >= 4 && memcmp(data, "PK\3\4", 4) == 0) {
		err_printf("%s: a zip archive: berth imports docker's tar form of a context only\n",
			   src);
		return 1;
	}
	if (context_tar_meta(data, len, &meta, &err) < 0) {
		err_printf("%s\n", err);
		return 1;
	}
	json_object_set_new(meta, "Name", json_string(name));
	if (meta_store(c, meta) < 0)
		return 1;
	out_printf("%s\n", name);
	out_flush();
	err_printf("Successfully imported context \"%s\"\n", name);
	return 0;
}

static const struct cli_cmd cmd_context_import = {
	.name = "import",
	.use = "CONTEXT FILE|-",
	.short_desc = "Import a context from a tar file",
	.args = ARGS_EXACT,
	.min_args = 2,
	.run = run_context_import,
	.complete = COMPLETE_FILES,
};

/* ---- the group ---------------------------------------------------------------------------------- */

static const struct cli_cmd *const context_subs[] = {
	&cmd_context_create, &cmd_context_export,
	&cmd_context_import, &cmd_context_inspect,
	&cmd_context_ls,     &cmd_context_rm,
	&cmd_context_show,   &cmd_context_update,
	&cmd_context_use,    NULL,
};

const struct cli_cmd cmd_context = {
	.name = "context",
	.short_desc = "Manage contexts",
	.subs = context_subs,
};
