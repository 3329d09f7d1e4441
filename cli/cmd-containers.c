/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The container commands that act on containers by name or ID prefix (berthd resolves them as
 * docker does): stop, restart, kill, rm, wait, rename, port, logs, container inspect,
 * container prune, and ps / container ls.  Commands over several containers go through them in
 * order, print the name of each one that worked and join the errors at the end (exit 1), as
 * docker 28's CLI.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "format.h"
#include "inspect.h"
#include "units.h"
#include "base/banned.h"

void ctr_path(struct sbuf *b, const char *name, const char *suffix)
{
	sbuf_adds(b, "/containers/");
	url_path_escape(b, name);
	sbuf_adds(b, suffix);
}

int each_named(struct cli *c, struct cli_args *a, const char *method, const char *collection,
	       const char *suffix, const char *query)
{
	_cleanup_sbuf_ struct sbuf errs = SBUF_INIT;

	for (int i = 0; i < a->argc; i++) {
		_cleanup_sbuf_ struct sbuf t = SBUF_INIT;
		struct cli_response r;
		sbuf_adds(&t, collection);
		url_path_escape(&t, a->argv[i]);
		sbuf_adds(&t, suffix);
		if (query && *query)
			sbuf_printf(&t, "?%s", query);
		if (cli_call(c, method, sbuf_str(&t), NULL, &r) < 0) {
			sbuf_printf(&errs, "%s%s", errs.len ? "\n" : "", c->err);
			continue;
		}
		cli_response_release(&r);
		out_printf("%s\n", a->argv[i]);
	}
	if (errs.len) {
		err_printf("%s\n", sbuf_str(&errs));
		return 1;
	}
	return 0;
}

int each_container(struct cli *c, struct cli_args *a, const char *method, const char *suffix,
		   const char *query)
{
	return each_named(c, a, method, "/containers/", suffix, query);
}

/* stop and restart: ?signal=&t= (t only when -t was given) */
static void stop_query(struct sbuf *q, struct cli_args *a)
{
	const char *sig = flag_str(a, "signal");

	if (sig && *sig) {
		sbuf_adds(q, "signal=");
		url_escape(q, sig);
	}
	/* --time: docker's older name of --timeout (given both, --timeout counts here) */
	const char *t = flag_set(a, "timeout") ? "timeout" : flag_set(a, "time") ? "time" : NULL;
	if (t)
		sbuf_printf(q, "%st=%lld", q->len ? "&" : "", (long long)flag_get(a, t)->i);
}

static int run_stop(struct cli *c, struct cli_args *a)
{
	_cleanup_sbuf_ struct sbuf q = SBUF_INIT;

	stop_query(&q, a);
	return each_container(c, a, "POST", "/stop", sbuf_str(&q));
}

static int run_restart(struct cli *c, struct cli_args *a)
{
	_cleanup_sbuf_ struct sbuf q = SBUF_INIT;

	stop_query(&q, a);
	return each_container(c, a, "POST", "/restart", sbuf_str(&q));
}

static int run_kill(struct cli *c, struct cli_args *a)
{
	_cleanup_sbuf_ struct sbuf q = SBUF_INIT;
	const char *sig = flag_str(a, "signal");

	if (sig && *sig) {
		sbuf_adds(&q, "signal=");
		url_escape(&q, sig);
	}
	return each_container(c, a, "POST", "/kill", sbuf_str(&q));
}

static int run_rm(struct cli *c, struct cli_args *a)
{
	_cleanup_sbuf_ struct sbuf q = SBUF_INIT, errs = SBUF_INIT;
	bool force = flag_bool(a, "force");

	if (flag_bool(a, "volumes"))
		sbuf_adds(&q, "&v=1");
	if (force)
		sbuf_adds(&q, "&force=1");
	for (int i = 0; i < a->argc; i++) {
		_cleanup_sbuf_ struct sbuf t = SBUF_INIT;
		struct cli_response r;
		/* strings.Trim(name, "/") */
		const char *name = a->argv[i];
		size_t len = strlen(name);
		while (*name == '/')
			name++, len--;
		while (len && name[len - 1] == '/')
			len--;
		if (!len) {
			sbuf_printf(&errs, "%sContainer name cannot be empty",
				    errs.len ? "\n" : "");
			continue;
		}
		_cleanup_free_ char *trimmed = xstrndup(name, len);
		ctr_path(&t, trimmed, "");
		if (q.len)
			sbuf_printf(&t, "?%s", q.p + 1);
		if (cli_call(c, "DELETE", sbuf_str(&t), NULL, &r) < 0) {
			if (force && c->err_status == 404) {
				err_printf("%s\n", c->err);
				continue;
			}
			sbuf_printf(&errs, "%s%s", errs.len ? "\n" : "", c->err);
			continue;
		}
		cli_response_release(&r);
		out_printf("%s\n", a->argv[i]);
	}
	if (errs.len) {
		err_printf("%s\n", sbuf_str(&errs));
		return 1;
	}
	return 0;
}

static int run_wait(struct cli *c, struct cli_args *a)
{
	_cleanup_sbuf_ struct sbuf errs = SBUF_INIT;

	for (int i = 0; i < a->argc; i++) {
		_cleanup_sbuf_ struct sbuf t = SBUF_INIT;
		struct cli_response r;
		ctr_path(&t, a->argv[i], "/wait");
		if (cli_call(c, "POST", sbuf_str(&t), NULL, &r) < 0) {
			sbuf_printf(&errs, "%s%s", errs.len ? "\n" : "", c->err);
			continue;
		}
		json_t *we = json_object_get(r.json, "Error");
		const char *msg = json_string_value(json_object_get(we, "Message"));
		if (msg && *msg) {
			sbuf_printf(&errs, "%s%s", errs.len ? "\n" : "", msg);
			cli_response_release(&r);
			continue;
		}
		out_printf("%lld\n",
			   (long long)json_integer_value(json_object_get(r.json, "StatusCode")));
		cli_response_release(&r);
	}
	if (errs.len) {
		err_printf("%s\n", sbuf_str(&errs));
		return 1;
	}
	return 0;
}

static char *trim_space(const char *s)
{
	size_t b = 0, e = strlen(s);

	while (b < e && strchr(" \t\r\n\v\f", s[b]))
		b++;
	while (e > b && strchr(" \t\r\n\v\f", s[e - 1]))
		e--;
	return xstrndup(s + b, e - b);
}

static int run_rename(struct cli *c, struct cli_args *a)
{
	_cleanup_free_ char *old = trim_space(a->argv[0]), *new = trim_space(a->argv[1]);
	_cleanup_sbuf_ struct sbuf t = SBUF_INIT;
	struct cli_response r;

	if (!*old || !*new) {
		err_printf("Error: Neither old nor new names may be empty\n");
		return 1;
	}
	ctr_path(&t, old, "/rename?name=");
	url_escape(&t, new);
	if (cli_call(c, "POST", sbuf_str(&t), NULL, &r) < 0) {
		/* docker prints the error, then returns one of its own */
		cli_fail(c, 1);
		err_printf("Error: failed to rename container named %s\n", old);
		return 1;
	}
	cli_response_release(&r);
	return 0;
}

/* GET /containers/{name}/json, or -1 with the error printed */
static int get_container(struct cli *c, const char *name, struct cli_response *r)
{
	_cleanup_sbuf_ struct sbuf t = SBUF_INIT;

	ctr_path(&t, name, "/json");
	if (cli_call(c, "GET", sbuf_str(&t), NULL, r) < 0 || !r->json) {
		if (!c->err)
			cli_errorf(c, "Error: the daemon's answer about %s is not JSON", name);
		return -1;
	}
	return 0;
}

/* ---- port -------------------------------------------------------------------------------------- */

static int cmp_keys(const void *x, const void *y)
{
	return strcmp(*(const char *const *)x, *(const char *const *)y);
}

static void print_bindings(const char *key, json_t *bindings, bool with_key)
{
	size_t i;
	json_t *b;

	json_array_foreach (bindings, i, b) {
		const char *ip = json_string_value(json_object_get(b, "HostIp"));
		const char *port = json_string_value(json_object_get(b, "HostPort"));
		_cleanup_sbuf_ struct sbuf hp = SBUF_INIT;
		ip = ip ? ip : "";
		/* net.JoinHostPort */
		if (strchr(ip, ':'))
			sbuf_printf(&hp, "[%s]:%s", ip, port ? port : "");
		else
			sbuf_printf(&hp, "%s:%s", ip, port ? port : "");
		if (with_key)
			out_printf("%s -> %s\n", key, sbuf_str(&hp));
		else
			out_printf("%s\n", sbuf_str(&hp));
	}
}

static int run_port(struct cli *c, struct cli_args *a)
{
	struct cli_response r;

	if (get_container(c, a->argv[0], &r) < 0)
		return cli_fail(c, 1);
	json_t *ports = json_object_get(json_object_get(r.json, "NetworkSettings"), "Ports");
	if (a->argc == 2) {
		/* PRIVATE_PORT[/PROTO], tcp by default */
		_cleanup_free_ char *want = NULL;
		const char *spec = a->argv[1], *slash = strchr(spec, '/');
		want = slash ? xstrdup(spec) : xasprintf("%s/tcp", spec);
		char *end;
		errno = 0;
		long p = strtol(spec, &end, 10);
		if (end == spec || (slash ? end != slash : *end) || errno || p < 0 || p > 65535) {
			err_printf("Error: invalid port (%s)\n", spec);
			cli_response_release(&r);
			return 1;
		}
		json_t *bindings = json_object_get(ports, want);
		if (json_array_size(bindings)) {
			print_bindings(want, bindings, false);
			cli_response_release(&r);
			return 0;
		}
		err_printf("Error: No public port '%s' published for %s\n", spec, a->argv[0]);
		cli_response_release(&r);
		return 1;
	}
	const char **keys = xcalloc(json_object_size(ports) + 1, sizeof(*keys));
	size_t n = 0;
	const char *k;
	json_t *v;
	json_object_foreach (ports, k, v)
		keys[n++] = k;
	qsort(keys, n, sizeof(*keys), cmp_keys);
	for (size_t i = 0; i < n; i++)
		print_bindings(keys[i], json_object_get(ports, keys[i]), true);
	free(keys);
	cli_response_release(&r);
	return 0;
}

/* ---- logs -------------------------------------------------------------------------------------- */

/* Copy docker's frames (or raw bytes for a tty) from the answer being read to stdout/stderr. */
static int copy_stream(struct cli *c, bool tty)
{
	char buf[65536];
	uint8_t hdr[8];
	size_t have = 0;

	out_flush();
	for (;;) {
		if (tty) {
			ssize_t n = cli_stream_read(c, buf, sizeof(buf));
			if (n < 0)
				return cli_fail(c, 1);
			if (n == 0)
				return 0;
			if (berth_write_all(STDOUT_FILENO, buf, (size_t)n) < 0)
				return 1;
			continue;
		}
		while (have < sizeof(hdr)) {
			ssize_t n = cli_stream_read(c, hdr + have, sizeof(hdr) - have);
			if (n < 0)
				return cli_fail(c, 1);
			if (n == 0) {
				if (have)
					err_printf("error from daemon in stream: unexpected EOF\n");
				return have ? 1 : 0;
			}
			have += (size_t)n;
		}
		have = 0;
		uint32_t len = (uint32_t)hdr[4] << 24 | (uint32_t)hdr[5] << 16 |
			       (uint32_t)hdr[6] << 8 | hdr[7];
		int fd = hdr[0] == 2 ? STDERR_FILENO : STDOUT_FILENO;
		while (len) {
			size_t want = len < sizeof(buf) ? len : sizeof(buf);
			ssize_t n = cli_stream_read(c, buf, want);
			if (n < 0)
				return cli_fail(c, 1);
			if (n == 0) {
				err_printf("error from daemon in stream: unexpected EOF\n");
				return 1;
			}
			if (hdr[0] == 3) {
				err_printf("error from daemon in stream: %.*s\n", (int)n, buf);
				return 1;
			}
			berth_write_all(fd, buf, (size_t)n);
			len -= (uint32_t)n;
		}
	}
}

static int run_logs(struct cli *c, struct cli_args *a)
{
	_cleanup_sbuf_ struct sbuf t = SBUF_INIT;
	struct cli_response r;
	const char *since = flag_str(a, "since"), *until = flag_str(a, "until");
	const char *tail = flag_str(a, "tail"), *what;
	int64_t now = now_ns();
	char *err = NULL;

	if (get_container(c, a->argv[0], &r) < 0)
		return cli_fail(c, 1);
	bool tty = json_is_true(json_object_get(json_object_get(r.json, "Config"), "Tty"));
	cli_response_release(&r);
	ctr_path(&t, a->argv[0], "/logs?stdout=1&stderr=1");
	if (since && *since) {
		_cleanup_free_ char *ts = NULL;
		if (docker_timestamp(since, now, &ts, &err) < 0) {
			what = "since";
			goto bad_time;
		}
		sbuf_adds(&t, "&since=");
		url_escape(&t, ts);
	}
	if (until && *until) {
		_cleanup_free_ char *ts = NULL;
		if (docker_timestamp(until, now, &ts, &err) < 0) {
			what = "until";
			goto bad_time;
		}
		sbuf_adds(&t, "&until=");
		url_escape(&t, ts);
	}
	if (flag_bool(a, "timestamps"))
		sbuf_adds(&t, "&timestamps=1");
	if (flag_bool(a, "details"))
		sbuf_adds(&t, "&details=1");
	if (flag_bool(a, "follow"))
		sbuf_adds(&t, "&follow=1");
	if (tail && *tail) {
		sbuf_adds(&t, "&tail=");
		url_escape(&t, tail);
	}
	if (cli_call_stream(c, "GET", sbuf_str(&t), NULL) < 0)
		return cli_fail(c, 1);
	return copy_stream(c, tty);
bad_time:
	/* docker's client wraps the parser's error with the parameter's name */
	err_printf("invalid value for \"%s\": %s\n", what, err);
	free(err);
	return 1;
}

/* ---- container inspect ------------------------------------------------------------------------- */

static int get_ctr(struct cli *c, const char *ref, void *data, struct inspect_obj *ret,
		   char **ret_err)
{
	bool not_found, size = *(bool *)data;

	return inspect_fetch(c, inspect_type_find("container"), ref, size, ret, ret_err,
			     &not_found);
}

static int run_container_inspect(struct cli *c, struct cli_args *a)
{
	bool size = flag_bool(a, "size");

	return inspect_run(c, a->argv, a->argc, flag_str(a, "format"), get_ctr, &size);
}

/* ---- container prune --------------------------------------------------------------------------- */

static int run_prune(struct cli *c, struct cli_args *a)
{
	_cleanup_free_ char *fj = filters_json(flag_get(a, "filter"));
	_cleanup_sbuf_ struct sbuf t = SBUF_INIT, out = SBUF_INIT, size = SBUF_INIT;
	struct cli_response r;
	size_t i;
	json_t *e;

	if (!flag_bool(a, "force") &&
	    !confirm("WARNING! This will remove all stopped containers.\nAre you sure you want to "
		     "continue?"))
		return 0;
	sbuf_adds(&t, "/containers/prune");
	if (fj) {
		sbuf_adds(&t, "?filters=");
		url_escape(&t, fj);
	}
	if (cli_call(c, "POST", sbuf_str(&t), NULL, &r) < 0)
		return cli_fail(c, 1);
	json_t *deleted = json_object_get(r.json, "ContainersDeleted");
	int64_t reclaimed = json_integer_value(json_object_get(r.json, "SpaceReclaimed"));
	if (json_array_size(deleted)) {
		sbuf_adds(&out, "Deleted Containers:\n");
		json_array_foreach (deleted, i, e)
			sbuf_printf(&out, "%s\n", json_string_value(e) ? json_string_value(e) : "");
		out_printf("%s\n", sbuf_str(&out));
	}
	human_size(&size, (double)(uint64_t)reclaimed, 4);
	out_printf("Total reclaimed space: %s\n", sbuf_str(&size));
	cli_response_release(&r);
	return 0;
}

/* ---- ps ---------------------------------------------------------------------------------------- */

#define PS_TABLE                                                                                   \
	"table "                                                                                   \
	"{{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}"

static int run_ps(struct cli *c, struct cli_args *a)
{
	bool quiet = flag_bool(a, "quiet"), size = flag_bool(a, "size");
	bool all = flag_bool(a, "all");
	int64_t last = flag_get(a, "last")->i;
	const char *format = flag_str(a, "format"), *user_format;
	_cleanup_free_ char *filters = filters_json(flag_get(a, "filter")), *owned = NULL;
	_cleanup_sbuf_ struct sbuf t = SBUF_INIT;
	struct cli_response r;
	struct fmt_list f;
	char *err = NULL;

	if (flag_bool(a, "latest"))
		last = 1;
	if (!format || !*format) {
		const char *cfg =
			json_string_value(json_object_get(cli_config_file(c), "psFormat"));
		format = cfg && *cfg && !quiet ? cfg : "table";
		user_format = cfg && *cfg ? cfg : NULL;
	} else {
		user_format = format;
		if (quiet)
			err_printf("WARNING: Ignoring custom format, because both --format and "
				   "--quiet are set.\n");
	}
	if (user_format) {
		bool reads_size;
		if (ps_template_check(user_format, &reads_size, &err) < 0) {
			err_printf("%s\n", err);
			free(err);
			return 1;
		}
		/* sizes are costly: asked for when the template reads them, unless --size=false */
		if (!quiet && reads_size && !flag_set(a, "size"))
			size = true;
	}
	/* docker's NewContainerFormat */
	if (strcmp(format, "table") == 0) {
		format = quiet ? "{{.ID}}" : size ? PS_TABLE "\t{{.Size}}" : PS_TABLE;
	} else if (strcmp(format, "raw") == 0) {
		format = quiet	? "container_id: {{.ID}}"
			 : size ? "container_id: {{.ID}}\nimage: {{.Image}}\ncommand: "
				  "{{.Command}}\ncreated_at: {{.CreatedAt}}\nstate: {{- pad .State "
				  "1 "
				  "0}}\nstatus: {{- pad .Status 1 0}}\nnames: {{.Names}}\nlabels: "
				  "{{- pad .Labels 1 0}}\nports: {{- pad .Ports 1 0}}\nsize: "
				  "{{.Size}}\n"
				: "container_id: {{.ID}}\nimage: {{.Image}}\ncommand: "
				  "{{.Command}}\ncreated_at: {{.CreatedAt}}\nstate: {{- pad .State "
				  "1 "
				  "0}}\nstatus: {{- pad .Status 1 0}}\nnames: {{.Names}}\nlabels: "
				  "{{- pad .Labels 1 0}}\nports: {{- pad .Ports 1 0}}\n";
	} else if (quiet) {
		format = "{{.ID}}";
	}
	if (fmt_list_begin(&f, format, NULL, &err) < 0) {
		err_printf("%s\n", err);
		free(err);
		return 1;
	}
	sbuf_adds(&t, "/containers/json");
	char sep = '?';
	if (all || last > 0) {
		sbuf_printf(&t, "%call=1", sep);
		sep = '&';
	}
	if (last > 0) {
		sbuf_printf(&t, "%climit=%lld", sep, (long long)last);
		sep = '&';
	}
	if (size) {
		sbuf_printf(&t, "%csize=1", sep);
		sep = '&';
	}
	if (filters) {
		sbuf_printf(&t, "%cfilters=", sep);
		url_escape(&t, filters);
	}
	if (cli_call(c, "GET", sbuf_str(&t), NULL, &r) < 0) {
		fmt_list_release(&f);
		return cli_fail(c, 1);
	}
	size_t i;
	json_t *s;
	int ret = 0;
	json_array_foreach (r.json, i, s) {
		struct ctx_obj o;
		container_ctx_init(&o, s, !flag_bool(a, "no-trunc"));
		ret = fmt_list_row(&f, tval_obj(&o.obj), &err);
		ctx_obj_release(&o);
		if (ret < 0)
			break;
	}
	cli_response_release(&r);
	if (ret < 0) {
		err_printf("%s\n", err);
		free(err);
		fmt_list_release(&f);
		return 1;
	}
	struct header_obj h;
	header_init(&h, container_header_pairs);
	fmt_list_end(&f, &h.obj);
	fmt_list_release(&f);
	return 0;
}

/* ---- the commands ------------------------------------------------------------------------------ */

static const struct cli_flag stop_flags[] = {
	{"signal", 's', FK_STRING, "string", NULL, "Signal to send to the container"},
	{"timeout", 't', FK_INT, "int", NULL, "Seconds to wait before killing the container"},
	{"time", 0, FK_INT, "int", NULL, "use --timeout instead", FLAG_HIDDEN | FLAG_DEPRECATED},
};

static const struct cli_flag kill_flags[] = {
	{"signal", 's', FK_STRING, "string", NULL, "Signal to send to the container"},
};

static const struct cli_flag rm_flags[] = {
	{"force", 'f', FK_BOOL, NULL, NULL,
	 "Force the removal of a running container (uses SIGKILL)"},
	{"volumes", 'v', FK_BOOL, NULL, NULL,
	 "Remove anonymous volumes associated with the container"},
};

static const struct cli_flag logs_flags[] = {
	{"details", 0, FK_BOOL, NULL, NULL, "Show extra details provided to logs"},
	{"follow", 'f', FK_BOOL, NULL, NULL, "Follow log output"},
	{"since", 0, FK_STRING, "string", NULL,
	 "Show logs since timestamp (e.g. \"2013-01-02T13:23:37Z\") or relative (e.g. \"42m\" for "
	 "42 "
	 "minutes)"},
	{"tail", 'n', FK_STRING, "string", "all",
	 "Number of lines to show from the end of the logs"},
	{"timestamps", 't', FK_BOOL, NULL, NULL, "Show timestamps"},
	{"until", 0, FK_STRING, "string", NULL,
	 "Show logs before a timestamp (e.g. \"2013-01-02T13:23:37Z\") or relative (e.g. \"42m\" "
	 "for 42 minutes)"},
};

static const struct cli_flag inspect_flags[] = {
	{"format", 'f', FK_STRING, "string", NULL, FORMAT_HELP_INSPECT},
	{"size", 's', FK_BOOL, NULL, NULL, "Display total file sizes"},
};

static const struct cli_flag prune_flags[] = {
	{"filter", 0, FK_LIST, "filter", NULL, "Provide filter values (e.g. \"until=<timestamp>\")",
	 0, check_filter},
	{"force", 'f', FK_BOOL, NULL, NULL, "Do not prompt for confirmation"},
};

static const struct cli_flag ps_flags[] = {
	{"all", 'a', FK_BOOL, NULL, NULL, "Show all containers (default shows just running)"},
	{"filter", 'f', FK_LIST, "filter", NULL, "Filter output based on conditions provided", 0,
	 check_filter},
	{"format", 0, FK_STRING, "string", NULL, FORMAT_HELP_LIST},
	{"last", 'n', FK_INT, "int", "-1", "Show n last created containers (includes all states)"},
	{"latest", 'l', FK_BOOL, NULL, NULL,
	 "Show the latest created container (includes all states)"},
	{"no-trunc", 0, FK_BOOL, NULL, NULL, "Don't truncate output"},
	{"quiet", 'q', FK_BOOL, NULL, NULL, "Only display container IDs"},
	{"size", 's', FK_BOOL, NULL, NULL, "Display total file sizes"},
};

CTR_CMD(cmd_stop, cmd_container_stop, "stop", "[OPTIONS] CONTAINER [CONTAINER...]",
	"Stop one or more running containers", "berth container stop, berth stop", stop_flags,
	ARGS_MIN, 1, 0, run_stop, COMPLETE_CONTAINERS_RUNNING);
CTR_CMD(cmd_restart, cmd_container_restart, "restart", "[OPTIONS] CONTAINER [CONTAINER...]",
	"Restart one or more containers", "berth container restart, berth restart", stop_flags,
	ARGS_MIN, 1, 0, run_restart, COMPLETE_CONTAINERS);
CTR_CMD(cmd_kill, cmd_container_kill, "kill", "[OPTIONS] CONTAINER [CONTAINER...]",
	"Kill one or more running containers", "berth container kill, berth kill", kill_flags,
	ARGS_MIN, 1, 0, run_kill, COMPLETE_CONTAINERS_RUNNING);
CTR_CMD(cmd_logs, cmd_container_logs, "logs", "[OPTIONS] CONTAINER",
	"Fetch the logs of a container", "berth container logs, berth logs", logs_flags, ARGS_EXACT,
	1, 1, run_logs, COMPLETE_CONTAINERS);

static const char *const rm_aliases[] = {"remove", NULL};
static const struct cli_flag no_flags[0];

const struct cli_cmd cmd_rm = {
	.name = "rm",
	.use = "[OPTIONS] CONTAINER [CONTAINER...]",
	.short_desc = "Remove one or more containers",
	.aliases_line = "berth container rm, berth container remove, berth rm",
	.flags = rm_flags,
	.n_flags = ARRAY_SIZE(rm_flags),
	.args = ARGS_MIN,
	.min_args = 1,
	.run = run_rm,
	.complete = COMPLETE_CONTAINERS,
};

const struct cli_cmd cmd_container_rm = {
	.name = "rm",
	.use = "[OPTIONS] CONTAINER [CONTAINER...]",
	.short_desc = "Remove one or more containers",
	.aliases_line = "berth container rm, berth container remove, berth rm",
	.aliases = rm_aliases,
	.flags = rm_flags,
	.n_flags = ARRAY_SIZE(rm_flags),
	.args = ARGS_MIN,
	.min_args = 1,
	.run = run_rm,
	.complete = COMPLETE_CONTAINERS,
};

CTR_CMD(cmd_wait, cmd_container_wait, "wait", "CONTAINER [CONTAINER...]",
	"Block until one or more containers stop, then print their exit codes",
	"berth container wait, berth wait", no_flags, ARGS_MIN, 1, 0, run_wait,
	COMPLETE_CONTAINERS);
CTR_CMD(cmd_rename, cmd_container_rename, "rename", "CONTAINER NEW_NAME", "Rename a container",
	"berth container rename, berth rename", no_flags, ARGS_EXACT, 2, 2, run_rename,
	COMPLETE_CONTAINERS);
CTR_CMD(cmd_port, cmd_container_port, "port", "CONTAINER [PRIVATE_PORT[/PROTO]]",
	"List port mappings or a specific mapping for the container",
	"berth container port, berth port", no_flags, ARGS_RANGE, 1, 2, run_port,
	COMPLETE_CONTAINERS);

const struct cli_cmd cmd_container_inspect = {
	.name = "inspect",
	.use = "[OPTIONS] CONTAINER [CONTAINER...]",
	.short_desc = "Display detailed information on one or more containers",
	.flags = inspect_flags,
	.n_flags = ARRAY_SIZE(inspect_flags),
	.args = ARGS_MIN,
	.min_args = 1,
	.run = run_container_inspect,
	.complete = COMPLETE_CONTAINERS,
};

const struct cli_cmd cmd_container_prune = {
	.name = "prune",
	.use = "[OPTIONS]",
	.short_desc = "Remove all stopped containers",
	.flags = prune_flags,
	.n_flags = ARRAY_SIZE(prune_flags),
	.args = ARGS_NONE,
	.run = run_prune,
};

static const char *const ls_aliases[] = {"list", "ps", NULL};

const struct cli_cmd cmd_ps = {
	.name = "ps",
	.use = "[OPTIONS]",
	.short_desc = "List containers",
	.aliases_line = "berth container ls, berth container list, berth container ps, berth ps",
	.flags = ps_flags,
	.n_flags = ARRAY_SIZE(ps_flags),
	.args = ARGS_NONE,
	.run = run_ps,
	.top = 3,
};

const struct cli_cmd cmd_container_ls = {
	.name = "ls",
	.use = "[OPTIONS]",
	.short_desc = "List containers",
	.aliases_line = "berth container ls, berth container list, berth container ps, berth ps",
	.aliases = ls_aliases,
	.flags = ps_flags,
	.n_flags = ARRAY_SIZE(ps_flags),
	.args = ARGS_NONE,
	.run = run_ps,
};
