/* SPDX-License-Identifier: Apache-2.0 */
/*
 * docker import --change (and, later, docker commit --change): Dockerfile instructions applied to
 * an empty container config, as dockerd's builder.BuildFromConfig does.  The changes are joined
 * with newlines and read as a Dockerfile (dockerfile.c: comments, line continuations, the escape
 * directive, --flags, the JSON or shell form, the quoting of ENV and LABEL words), then each
 * instruction's checks and the shell-style expansion ($VAR, ${VAR}, ${VAR:-x}, ${VAR:+x},
 * ${VAR?x} and their forms without ':') of ENV, LABEL, WORKDIR, USER, VOLUME, STOPSIGNAL and
 * EXPOSE with the ENV set before.  Messages are dockerd's (through BuildKit's).
 *
 * Everything here is pure: strings in, a JSON config out.  Inputs come from a query string, so
 * nothing is trusted: lengths are bounded by the request's (lib/api caps a request line).
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "daemon.h"
#include "dockerfile.h"
#include "base/banned.h"

/* ---- instructions applied to the config ------------------------------------------------------ */

static int no_flags(const struct df_instr *in, struct berth_error **err)
{
	const char *none[1] = {NULL};
	return df_parse_flags(in->flags, NULL, none, err);
}

/* the environment words are expanded with: the build's (ENV + build args) or the config's Env */
static const json_t *expand_env(const struct daemon_change_state *st)
{
	return st->env ? st->env : json_object_get(st->cfg, "Env");
}

static int expand(struct daemon_change_state *st, const char *word, char **ret,
		  struct berth_error **err)
{
	return df_lex(word, st->escape, expand_env(st), ret, NULL, err);
}

/* parseKvps + Expand: pairs of args, names not blank, both sides expanded */
static int kvps(struct daemon_change_state *st, const struct df_instr *in, const char *what,
		char ***ret, struct berth_error **err)
{
	size_t n = berth_strv_length(in->args);
	_cleanup_strv_ char **out = calloc(1, sizeof(char *));
	int r;

	if (!out)
		return df_oom(err);
	r = no_flags(in, err);
	if (r < 0)
		return r;
	if (n == 0)
		return berth_error_set(err, EINVAL, "%s requires at least one argument", what);
	if (n % 2)
		return berth_error_set(err, EINVAL, "Bad input to %s, too many arguments", what);
	for (size_t i = 0; i < n; i += 2)
		if (!in->args[i][0])
			return berth_error_set(err, EINVAL, "%s names can not be blank", what);
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *x = NULL;
		r = expand(st, in->args[i], &x, err);
		if (r < 0)
			return r;
		if (berth_strv_push(&out, x) < 0)
			return df_oom(err);
	}
	*ret = TAKE_PTR(out);
	return 0;
}

static int do_env(struct daemon_change_state *st, const struct df_instr *in,
		  struct berth_error **err)
{
	_cleanup_strv_ char **kv = NULL;
	json_t *env = json_object_get(st->cfg, "Env");
	int r = kvps(st, in, "ENV", &kv, err);

	if (r < 0)
		return r;
	if (!env) {
		env = json_array();
		if (!env || json_object_set_new(st->cfg, "Env", env) < 0)
			return df_oom(err);
	}
	for (size_t i = 0; kv[i]; i += 2) {
		_cleanup_free_ char *entry = NULL;
		size_t k, n = strlen(kv[i]);
		json_t *e;
		bool replaced = false;
		if (asprintf(&entry, "%s=%s", kv[i], kv[i + 1]) < 0)
			return df_oom(err);
		json_array_foreach (env, k, e) {
			const char *s = json_string_value(e);
			if (s && !strncmp(s, kv[i], n) && (s[n] == '=' || !s[n])) {
				json_array_set_new(env, k, json_string(entry));
				replaced = true;
				break;
			}
		}
		if (!replaced && json_array_append_new(env, json_string(entry)) < 0)
			return df_oom(err);
	}
	return 0;
}

static json_t *object_member(json_t *cfg, const char *key)
{
	json_t *o = json_object_get(cfg, key);

	if (!o) {
		o = json_object();
		if (!o || json_object_set_new(cfg, key, o) < 0)
			return NULL;
	}
	return o;
}

static int do_label(struct daemon_change_state *st, const struct df_instr *in,
		    struct berth_error **err)
{
	_cleanup_strv_ char **kv = NULL;
	json_t *labels;
	int r = kvps(st, in, "LABEL", &kv, err);

	if (r < 0)
		return r;
	labels = object_member(st->cfg, "Labels");
	if (!labels)
		return df_oom(err);
	for (size_t i = 0; kv[i]; i += 2)
		if (json_object_set_new(labels, kv[i], json_string(kv[i + 1])) < 0)
			return df_oom(err);
	return 0;
}

/* resolveCmdLine: the exec form as it is, the shell form after ["/bin/sh", "-c"] */
static json_t *cmdline(const struct df_instr *in, const json_t *shell, bool empty_as_null)
{
	json_t *a;

	if (in->json) {
		if (empty_as_null && !in->args[0])
			return json_null();
		a = json_array();
	} else {
		/* getShell: the SHELL in force, else ["/bin/sh", "-c"] */
		a = json_array_size(shell) ? json_deep_copy(shell)
					   : json_pack("[s,s]", "/bin/sh", "-c");
		/* handleJSONArgs: the words joined (the shell form has one) */
		if (a && in->args[0]) {
			struct sbuf b = {0};
			for (size_t i = 0; in->args[i]; i++) {
				if (i)
					sb_addc(&b, ' ');
				sb_adds(&b, in->args[i]);
			}
			_cleanup_free_ char *s = sb_take(&b);
			if (!s) {
				json_decref(a);
				return NULL;
			}
			json_array_append_new(a, json_string(s));
		}
		return a;
	}
	for (size_t i = 0; a && in->args[i]; i++)
		json_array_append_new(a, json_string(in->args[i]));
	return a;
}

static int do_cmd(struct daemon_change_state *st, const struct df_instr *in, bool entrypoint,
		  struct berth_error **err)
{
	int r = no_flags(in, err);
	json_t *c;

	if (r < 0)
		return r;
	c = cmdline(in, json_object_get(st->cfg, "Shell"), entrypoint);
	if (!c)
		return df_oom(err);
	json_object_set_new(st->cfg, entrypoint ? "Entrypoint" : "Cmd", c);
	if (entrypoint) {
		if (!st->cmd_set)
			json_object_set_new(st->cfg, "Cmd", json_null());
	} else if (in->args[0]) {
		st->cmd_set = true;
	}
	return 0;
}

static int exactly_one(const struct df_instr *in, const char *what, struct berth_error **err)
{
	if (berth_strv_length(in->args) != 1)
		return berth_error_set(err, EINVAL, "%s requires exactly one argument", what);
	return 0;
}

static int do_user(struct daemon_change_state *st, const struct df_instr *in,
		   struct berth_error **err)
{
	_cleanup_free_ char *u = NULL;
	int r = exactly_one(in, "USER", err);

	if (r == 0)
		r = no_flags(in, err);
	if (r == 0)
		r = expand(st, in->args[0], &u, err);
	if (r < 0)
		return r;
	return json_object_set_new(st->cfg, "User", json_string(u)) < 0 ? df_oom(err) : 0;
}

/* normalizeWorkdir: a relative path joins the current one; paths are cleaned as Go's Join */
static char *clean_join(const char *cur, const char *req)
{
	struct sbuf in = {0}, out = {0};
	_cleanup_free_ char *s = NULL;

	sb_addc(&in, '/');
	sb_adds(&in, cur);
	sb_addc(&in, '/');
	sb_adds(&in, req);
	s = sb_take(&in);
	if (!s)
		return NULL;
	/* Clean: drop empty and "." components, ".." removes the one before (never above /) */
	char **parts = calloc(1, sizeof(char *));
	if (!parts)
		return NULL;
	for (char *tok = s, *next; tok; tok = next) {
		next = strchr(tok, '/');
		if (next)
			*next++ = '\0';
		if (!*tok || !strcmp(tok, "."))
			continue;
		if (!strcmp(tok, "..")) {
			size_t n = berth_strv_length(parts);
			if (n) {
				free(parts[n - 1]);
				parts[n - 1] = NULL;
			}
			continue;
		}
		if (berth_strv_push(&parts, tok) < 0) {
			berth_strv_free(parts);
			return NULL;
		}
	}
	for (size_t i = 0; parts[i]; i++) {
		sb_addc(&out, '/');
		sb_adds(&out, parts[i]);
	}
	if (!parts[0])
		sb_addc(&out, '/');
	berth_strv_free(parts);
	return sb_take(&out);
}

static int do_workdir(struct daemon_change_state *st, const struct df_instr *in,
		      struct berth_error **err)
{
	_cleanup_free_ char *path = NULL, *wd = NULL;
	const char *cur = json_string_value(json_object_get(st->cfg, "WorkingDir"));
	int r = exactly_one(in, "WORKDIR", err);

	if (r == 0)
		r = no_flags(in, err);
	if (r == 0)
		r = expand(st, in->args[0], &path, err);
	if (r < 0)
		return r;
	if (!*path)
		return berth_error_set(err, EINVAL, "cannot normalize nothing");
	wd = path[0] == '/' ? strdup(path) : clean_join(cur ? cur : "", path);
	if (!wd)
		return df_oom(err);
	return json_object_set_new(st->cfg, "WorkingDir", json_string(wd)) < 0 ? df_oom(err) : 0;
}

static int do_stopsignal(struct daemon_change_state *st, const struct df_instr *in,
			 struct berth_error **err)
{
	_cleanup_free_ char *sig = NULL;
	int r = exactly_one(in, "STOPSIGNAL", err);

	if (r == 0)
		r = expand(st, in->args[0], &sig, err);
	if (r < 0)
		return r;
	if (berth_signal_parse(sig) < 0)
		return berth_error_set(err, EINVAL, "invalid signal: %s", sig);
	return json_object_set_new(st->cfg, "StopSignal", json_string(sig)) < 0 ? df_oom(err) : 0;
}

static int do_volume(struct daemon_change_state *st, const struct df_instr *in,
		     struct berth_error **err)
{
	json_t *vols;
	int r;

	if (!in->args[0])
		return berth_error_set(err, EINVAL, "VOLUME requires at least one argument");
	r = no_flags(in, err);
	if (r < 0)
		return r;
	for (size_t i = 0; in->args[i]; i++) {
		const char *v = in->args[i];
		while (*v && is_space(*v))
			v++;
		if (!*v)
			return berth_error_set(err, EINVAL,
					       "VOLUME specified can not be an empty string");
	}
	vols = object_member(st->cfg, "Volumes");
	if (!vols)
		return df_oom(err);
	for (size_t i = 0; in->args[i]; i++) {
		_cleanup_free_ char *trimmed = strdup(in->args[i]), *x = NULL;
		if (!trimmed)
			return df_oom(err);
		char *t = trimmed;
		while (*t && is_space(*t))
			t++;
		size_t n = strlen(t);
		while (n && is_space(t[n - 1]))
			t[--n] = '\0';
		r = expand(st, t, &x, err);
		if (r < 0)
			return r;
		if (!*x)
			return berth_error_set(err, EINVAL,
					       "VOLUME specified can not be an empty string");
		if (json_object_set_new(vols, x, json_object()) < 0)
			return df_oom(err);
	}
	return 0;
}

/* go-connections' ParsePortRange: "80" or "8000-8010", each a uint16 */
static int port_range(const char *s, unsigned *lo, unsigned *hi)
{
	const char *dash = strchr(s, '-');
	int64_t a, b;
	_cleanup_free_ char *first = dash ? strndup(s, (size_t)(dash - s)) : strdup(s);

	if (!first || berth_parse_int64(first, 0, 65535, &a) < 0)
		return -EINVAL;
	if (dash) {
		if (berth_parse_int64(dash + 1, 0, 65535, &b) < 0 || b < a)
			return -EINVAL;
	} else {
		b = a;
	}
	*lo = (unsigned)a;
	*hi = (unsigned)b;
	return 0;
}

/* nat.ParsePortSpec, for the container ports EXPOSE takes from it */
static int expose_one(json_t *ports, const char *raw, struct berth_error **err)
{
	_cleanup_free_ char *copy = strdup(raw);
	char *ip = NULL, *host = NULL, *cport, *proto = NULL;
	unsigned lo, hi, hlo = 0, hhi = 0;

	if (!copy)
		return df_oom(err);
	/* ip:host:container, host:container, container; an IPv6 ip has more colons */
	char *last = strrchr(copy, ':');
	if (!last) {
		cport = copy;
	} else {
		*last = '\0';
		cport = last + 1;
		char *prev = strrchr(copy, ':');
		if (!prev) {
			host = copy;
		} else {
			*prev = '\0';
			host = prev + 1;
			ip = copy;
		}
	}
	char *slash = strchr(cport, '/');
	if (slash) {
		*slash = '\0';
		if (slash[1])
			proto = slash + 1;
	}
	if (ip && *ip) {
		unsigned char addr[16];
		size_t n = strlen(ip);
		if (ip[0] == '[' && n >= 2 && ip[n - 1] == ']') {
			ip[n - 1] = '\0';
			ip++;
		}
		if (inet_pton(AF_INET, ip, addr) != 1 && inet_pton(AF_INET6, ip, addr) != 1)
			return berth_error_set(err, EINVAL, "invalid IP address: %s", ip);
	}
	if (!*cport)
		return berth_error_set(err, EINVAL, "no port specified: %s<empty>", raw);
	if (port_range(cport, &lo, &hi) < 0)
		return berth_error_set(err, EINVAL, "invalid containerPort: %s", cport);
	if (host && *host) {
		if (port_range(host, &hlo, &hhi) < 0)
			return berth_error_set(err, EINVAL, "invalid hostPort: %s", host);
		if (hhi - hlo != 0 && hhi - hlo != hi - lo)
			return berth_error_set(
				err, EINVAL,
				"invalid ranges specified for container and host Ports: %s and %s",
				cport, host);
	}
	for (char *c = proto; c && *c; c++)
		*c = (char)tolower((unsigned char)*c);
	if (!proto)
		proto = "tcp";
	if (strcmp(proto, "tcp") && strcmp(proto, "udp") && strcmp(proto, "sctp"))
		return berth_error_set(err, EINVAL, "invalid proto: %s", proto);
	for (unsigned p = lo; p <= hi; p++) {
		char key[32];
		snprintf(key, sizeof(key), "%u/%s", p, proto);
		if (json_object_set_new(ports, key, json_object()) < 0)
			return df_oom(err);
	}
	return 0;
}

static int do_expose(struct daemon_change_state *st, const struct df_instr *in,
		     struct berth_error **err)
{
	json_t *ports;
	int r;

	if (!in->args[0])
		return berth_error_set(err, EINVAL, "EXPOSE requires at least one argument");
	r = no_flags(in, err);
	if (r < 0)
		return r;
	ports = object_member(st->cfg, "ExposedPorts");
	if (!ports)
		return df_oom(err);
	for (size_t i = 0; in->args[i]; i++) {
		_cleanup_strv_ char **words = NULL;
		r = df_lex(in->args[i], st->escape, expand_env(st), NULL, &words, err);
		for (size_t k = 0; r == 0 && words[k]; k++)
			r = expose_one(ports, words[k], err);
		if (r < 0)
			return r;
	}
	return 0;
}

static int do_onbuild(struct daemon_change_state *st, const struct df_instr *in,
		      struct berth_error **err)
{
	_cleanup_free_ char *trigger = NULL;
	json_t *ob;
	const char *expr;
	int r;

	if (!in->args[0])
		return berth_error_set(err, EINVAL, "ONBUILD requires at least one argument");
	r = no_flags(in, err);
	if (r < 0)
		return r;
	trigger = strdup(in->args[0]);
	if (!trigger)
		return df_oom(err);
	for (char *c = trigger; *c; c++)
		*c = (char)toupper((unsigned char)*c);
	if (!strcmp(trigger, "ONBUILD"))
		return berth_error_set(err, EINVAL,
				       "Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
	if (!strcmp(trigger, "MAINTAINER") || !strcmp(trigger, "FROM"))
		return berth_error_set(err, EINVAL, "%s isn't allowed as an ONBUILD trigger",
				       trigger);
	/* the line without "ONBUILD" and the blanks after it (case-insensitive) */
	expr = in->original;
	while (*expr && is_space(*expr))
		expr++;
	if (!strncasecmp(expr, "onbuild", 7))
		expr += 7;
	while (*expr && is_space(*expr))
		expr++;
	ob = json_object_get(st->cfg, "OnBuild");
	if (!ob) {
		ob = json_array();
		if (!ob || json_object_set_new(st->cfg, "OnBuild", ob) < 0)
			return df_oom(err);
	}
	return json_array_append_new(ob, json_string(expr)) < 0 ? df_oom(err) : 0;
}

static int interval(const char *name, const char *v, int64_t *ret, struct berth_error **err)
{
	int r;

	*ret = 0;
	if (!v || !*v)
		return 0;
	r = df_parse_duration(v, ret, err);
	if (r < 0)
		return r;
	if (*ret != 0 && *ret < 1000000)
		return berth_error_set(err, EINVAL, "Interval \"%s\" cannot be less than 1ms",
				       name);
	return 0;
}

static int do_healthcheck(struct daemon_change_state *st, const struct df_instr *in,
			  struct berth_error **err)
{
	static const char *const names[] = {"interval",	      "timeout", "start-period",
					    "start-interval", "retries", NULL};
	static const char *const keys[] = {"Interval", "Timeout", "StartPeriod", "StartInterval"};
	const char *vals[6] = {NULL};
	_cleanup_free_ char *typ = NULL;
	json_t *hc;
	int r;

	if (!in->args[0])
		return berth_error_set(err, EINVAL, "HEALTHCHECK requires at least one argument");
	typ = strdup(in->args[0]);
	if (!typ)
		return df_oom(err);
	for (char *c = typ; *c; c++)
		*c = (char)toupper((unsigned char)*c);
	if (!strcmp(typ, "NONE")) {
		if (in->args[1])
			return berth_error_set(err, EINVAL, "HEALTHCHECK NONE takes no arguments");
		hc = json_pack("{s:[s]}", "Test", "NONE");
		return !hc || json_object_set_new(st->cfg, "Healthcheck", hc) < 0 ? df_oom(err) : 0;
	}
	r = df_parse_flags(in->flags, names, vals, err);
	if (r < 0)
		return r;
	if (strcmp(typ, "CMD") != 0)
		return berth_error_set(err, EINVAL, "Unknown type \"%s\" in HEALTHCHECK (try CMD)",
				       typ);
	if (!in->args[1])
		return berth_error_set(err, EINVAL, "Missing command after HEALTHCHECK CMD");
	hc = json_object();
	if (!hc)
		return df_oom(err);
	json_t *test = json_pack("[s]", in->json ? "CMD" : "CMD-SHELL");
	struct sbuf joined = {0};
	for (size_t i = 1; test && in->args[i]; i++) {
		if (in->json) {
			json_array_append_new(test, json_string(in->args[i]));
		} else {
			if (i > 1)
				sb_addc(&joined, ' ');
			sb_adds(&joined, in->args[i]);
		}
	}
	if (!in->json) {
		_cleanup_free_ char *s = sb_take(&joined);
		if (test && s)
			json_array_append_new(test, json_string(s));
	}
	json_object_set_new(hc, "Test", test);
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		int64_t ns;
		r = interval(names[i], vals[i], &ns, err);
		if (r < 0) {
			json_decref(hc);
			return r;
		}
		if (ns)
			json_object_set_new(hc, keys[i], json_integer(ns));
	}
	if (vals[4] && *vals[4]) {
		int64_t retries;
		if (berth_parse_int64(vals[4], INT32_MIN, INT32_MAX, &retries) < 0) {
			json_decref(hc);
			return berth_error_set(err, EINVAL,
					       "strconv.ParseInt: parsing \"%s\": invalid syntax",
					       vals[4]);
		}
		if (retries < 0) {
			json_decref(hc);
			return berth_error_set(err, EINVAL, "--retries cannot be negative (%lld)",
					       (long long)retries);
		}
		if (retries)
			json_object_set_new(hc, "Retries", json_integer(retries));
	}
	return json_object_set_new(st->cfg, "Healthcheck", hc) < 0 ? df_oom(err) : 0;
}

int daemon_image_change_apply(struct daemon_change_state *st, const struct df_instr *in,
			      struct berth_error **err)
{
	const char *c = in->cmd;

	if (!strcasecmp(c, "env"))
		return do_env(st, in, err);
	if (!strcasecmp(c, "label"))
		return do_label(st, in, err);
	if (!strcasecmp(c, "cmd"))
		return do_cmd(st, in, false, err);
	if (!strcasecmp(c, "entrypoint"))
		return do_cmd(st, in, true, err);
	if (!strcasecmp(c, "user"))
		return do_user(st, in, err);
	if (!strcasecmp(c, "workdir"))
		return do_workdir(st, in, err);
	if (!strcasecmp(c, "stopsignal"))
		return do_stopsignal(st, in, err);
	if (!strcasecmp(c, "volume"))
		return do_volume(st, in, err);
	if (!strcasecmp(c, "expose"))
		return do_expose(st, in, err);
	if (!strcasecmp(c, "onbuild"))
		return do_onbuild(st, in, err);
	if (!strcasecmp(c, "healthcheck"))
		return do_healthcheck(st, in, err);
	return berth_error_set(err, EINVAL, "%s is not a valid change command", c);
}

static const char *const valid_commands[] = {"cmd",    "entrypoint", "healthcheck", "env",
					     "expose", "label",	     "onbuild",	    "stopsignal",
					     "user",   "volume",     "workdir",	    NULL};

int daemon_image_changes(char *const *changes, size_t n, json_t **ret, struct berth_error **err)
{
	return daemon_image_changes_on(NULL, changes, n, ret, err);
}

int daemon_image_changes_on(const json_t *base, char *const *changes, size_t n, json_t **ret,
			    struct berth_error **err)
{
	struct daemon_change_state st = {.escape = '\\'};
	struct df_instr *v = NULL;
	size_t nv = 0;
	struct sbuf text = {0};
	int r = 0;

	if (n == 0) {
		*ret = daemon_container_config_json(base);
		return *ret ? 0 : df_oom(err);
	}
	for (size_t i = 0; i < n; i++) {
		if (i)
			sb_addc(&text, '\n');
		sb_adds(&text, changes[i]);
	}
	_cleanup_free_ char *joined = sb_take(&text);
	if (!joined)
		return df_oom(err);
	r = df_parse(joined, &v, &nv, &st.escape, err);
	if (r < 0)
		return r;
	for (size_t i = 0; i < nv && r == 0; i++) {
		bool valid = false;
		for (size_t k = 0; valid_commands[k]; k++)
			valid |= strcasecmp(v[i].cmd, valid_commands[k]) == 0;
		if (!valid)
			r = berth_error_set(err, EINVAL, "%s is not a valid change command",
					    v[i].cmd);
	}
	st.cfg = base ? json_deep_copy(base) : json_object();
	if (r == 0 && !st.cfg)
		r = df_oom(err);
	if (st.cfg) {
		/* a config as inspect shows it has nulls ("Env": null): the instructions start empty */
		const char *key;
		json_t *val;
		void *tmp;
		json_object_foreach_safe(st.cfg, tmp, key, val) if (json_is_null(val))
			json_object_del(st.cfg, key);
	}
	for (size_t i = 0; i < nv && r == 0; i++)
		r = daemon_image_change_apply(&st, &v[i], err);
	for (size_t i = 0; i < nv; i++)
		df_instr_release(&v[i]);
	free(v);
	if (r == 0) {
		*ret = daemon_container_config_json(st.cfg);
		if (!*ret)
			r = df_oom(err);
	}
	json_decref(st.cfg);
	return r;
}
