/* SPDX-License-Identifier: Apache-2.0 */
/*
 * berth exec and attach, as docker 28's CLI runs them.
 *
 * exec: the exec created (its errors are docker's; the container is inspected first only where
 * docker's order of errors needs it), with
 * docker's ExecOptions (stdout and stderr attached unless -d, stdin with -i, the console size
 * with -t, the env files then -e, --detach-keys or the config file's detachKeys), then started:
 * detached, or hijacked and streamed (attach.c) with its tty's size followed on
 * /exec/ID/resize; the exit code is the exec's own, read from /exec/ID/json once the stream
 * ends.
 *
 * attach: the wait registered first, the container checked (running, not paused or restarting),
 * the attach hijacked with stdin when the container has it open and --no-stdin is not given, the
 * size nudged (+1 then the real one, so the process sees a SIGWINCH), signals passed on without
 * a tty (--sig-proxy), and the container's exit code once it stops.  The detach keys end either
 * with docker's "read escape sequence" (exit 1, the container runs on).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "runopts.h"
#include "base/banned.h"

/* docker's term.EscapeError, printed as the command's error */
#define ESCAPE_ERROR "read escape sequence"

static const char *config_detach_keys(struct cli *c)
{
	return json_string_value(json_object_get(cli_config_file(c), "detachKeys"));
}

static int exec_exit_code(struct cli *c, const char *exec_id)
{
	_cleanup_sbuf_ struct sbuf t = SBUF_INIT;
	struct cli_response r;

	sbuf_printf(&t, "/exec/%s/json", exec_id);
	if (cli_call(c, "GET", sbuf_str(&t), NULL, &r) < 0)
		return cli_fail(c, 1);
	int code = (int)json_integer_value(json_object_get(r.json, "ExitCode"));
	cli_response_release(&r);
	return code;
}

static int run_exec(struct cli *c, struct cli_args *a)
{
	bool detach = flag_bool(a, "detach"), in = flag_bool(a, "interactive"),
	     tty = flag_bool(a, "tty");
	const char *keys = flag_set(a, "detach-keys") && *flag_str(a, "detach-keys")
				   ? flag_str(a, "detach-keys")
				   : NULL;
	const struct flag_value *ev = flag_get(a, "env"), *ef = flag_get(a, "env-file");
	_cleanup_json_ json_t *body = json_object(), *env = json_array();
	_cleanup_free_ char *err = NULL, *exec_id = NULL;
	_cleanup_sbuf_ struct sbuf t = SBUF_INIT;
	struct cli_response r;

	/* the env files, then -e (opts.ReadKVEnvStrings) */
	for (size_t i = 0; i < ef->n; i++)
		if (env_file_parse(ef->v[i], env, &err) < 0) {
			err_printf("%s\n", err);
			return 1;
		}
	for (size_t i = 0; i < ev->n; i++)
		env_value_add(ev->v[i], env);
	if (!keys)
		keys = config_detach_keys(c);

	/*
	 * docker inspects the container first so that its errors come before the TTY check's.
	 * Otherwise the exec's creation answers with the same errors (404 "No such container",
	 * 409 "is not running"), so the inspect is made only when the TTY check is to fail.
	 */
	if (!detach && in && tty && !is_terminal(STDIN_FILENO)) {
		sbuf_adds(&t, "/containers/");
		url_path_escape(&t, a->argv[0]);
		sbuf_adds(&t, "/json");
		if (cli_call(c, "GET", sbuf_str(&t), NULL, &r) < 0)
			return cli_fail(c, 1);
		cli_response_release(&r);
		err_printf("the input device is not a TTY\n");
		return 1;
	}

	json_t *cmd = json_array();
	for (int k = 1; k < a->argc; k++)
		json_array_append_new(cmd, json_string(a->argv[k]));
	json_object_set_new(body, "User", json_string(flag_str(a, "user") ?: ""));
	json_object_set_new(body, "Privileged", json_boolean(flag_bool(a, "privileged")));
	json_object_set_new(body, "Tty", json_boolean(tty));
	json_object_set_new(body, "AttachStdin", json_boolean(!detach && in));
	json_object_set_new(body, "AttachStdout", json_boolean(!detach));
	json_object_set_new(body, "AttachStderr", json_boolean(!detach));
	json_object_set_new(body, "DetachKeys", json_string(keys ? keys : ""));
	json_object_set(body, "Env", env);
	json_object_set_new(body, "WorkingDir", json_string(flag_str(a, "workdir") ?: ""));
	json_object_set_new(body, "Cmd", cmd);
	struct winsize ws;
	if (tty && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row)
		json_object_set_new(body, "ConsoleSize", json_pack("[i,i]", ws.ws_row, ws.ws_col));

	sbuf_reset(&t);
	sbuf_adds(&t, "/containers/");
	url_path_escape(&t, a->argv[0]);
	sbuf_adds(&t, "/exec");
	if (cli_call(c, "POST", sbuf_str(&t), body, &r) < 0)
		return cli_fail(c, 1);
	exec_id = xstrdup(json_string_value(json_object_get(r.json, "Id")) ?: "");
	cli_response_release(&r);
	if (!*exec_id) {
		err_printf("exec ID empty\n");
		return 1;
	}

	_cleanup_json_ json_t *start = json_pack("{s:b,s:b}", "Detach", detach, "Tty", tty);
	if (json_object_get(body, "ConsoleSize"))
		json_object_set(start, "ConsoleSize", json_object_get(body, "ConsoleSize"));
	sbuf_reset(&t);
	sbuf_printf(&t, "/exec/%s/start", exec_id);
	if (detach) {
		if (cli_call(c, "POST", sbuf_str(&t), start, &r) < 0)
			return cli_fail(c, 1);
		cli_response_release(&r);
		return 0;
	}
	_cleanup_sbuf_ struct sbuf rs = SBUF_INIT;
	sbuf_printf(&rs, "/exec/%s", exec_id);
	struct stream_opts o = {
		.method = "POST",
		.target = sbuf_str(&t),
		.body = start,
		.resize = is_terminal(STDIN_FILENO) ? sbuf_str(&rs) : NULL,
		.in = in,
		.tty = tty,
		.detach_keys = keys,
	};
	int rc = stream_session(c, &o, NULL, NULL);
	if (rc == 2) {
		err_printf("%s\n", ESCAPE_ERROR);
		return 1;
	}
	if (rc)
		return rc;
	return exec_exit_code(c, exec_id);
}

static const struct cli_flag exec_flags[] = {
	{"detach", 'd', FK_BOOL, NULL, NULL, "Detached mode: run command in the background"},
	{"detach-keys", 0, FK_STRING, "string", NULL,
	 "Override the key sequence for detaching a container"},
	{"env", 'e', FK_LIST, "list", NULL, "Set environment variables", 0, check_env, "1.25"},
	{"env-file", 0, FK_LIST, "list", NULL, "Read in a file of environment variables", 0, NULL,
	 "1.25"},
	{"interactive", 'i', FK_BOOL, NULL, NULL, "Keep STDIN open even if not attached"},
	{"privileged", 0, FK_BOOL, NULL, NULL, "Give extended privileges to the command"},
	{"tty", 't', FK_BOOL, NULL, NULL, "Allocate a pseudo-TTY"},
	{"user", 'u', FK_STRING, "string", NULL,
	 "Username or UID (format: \"<name|uid>[:<group|gid>]\")"},
	{"workdir", 'w', FK_STRING, "string", NULL, "Working directory inside the container", 0,
	 NULL, "1.35"},
};

const struct cli_cmd cmd_exec = {
	.name = "exec",
	.use = "[OPTIONS] CONTAINER COMMAND [ARG...]",
	.short_desc = "Execute a command in a running container",
	.aliases_line = "berth container exec, berth exec",
	.flags = exec_flags,
	.n_flags = ARRAY_SIZE(exec_flags),
	.args = ARGS_MIN,
	.min_args = 2,
	.run = run_exec,
	.no_interspersed = true,
	.complete = COMPLETE_CONTAINERS_RUNNING,
	.complete_max = 1,
	.top = 2,
};
CLI_CMD_TWIN(cmd_container_exec, cmd_exec);

/* ---- attach ------------------------------------------------------------------------------------ */

static int run_attach(struct cli *c, struct cli_args *a)
{
	_cleanup_sbuf_ struct sbuf t = SBUF_INIT;
	struct cli_response r;
	struct berth_http_client *w = NULL;
	const char *keys = flag_str(a, "detach-keys");

	if (!keys || !*keys)
		keys = config_detach_keys(c);
	/* the wait first (docker's ContainerWait before the inspect) */
	sbuf_adds(&t, "/containers/");
	url_path_escape(&t, a->argv[0]);
	sbuf_adds(&t, "/wait");
	if (cli_call_on(c, &w, "POST", sbuf_str(&t), NULL, false) < 0) {
		berth_http_client_free(w);
		return cli_fail(c, 1);
	}
	sbuf_reset(&t);
	sbuf_adds(&t, "/containers/");
	url_path_escape(&t, a->argv[0]);
	sbuf_adds(&t, "/json");
	if (cli_call(c, "GET", sbuf_str(&t), NULL, &r) < 0) {
		berth_http_client_free(w);
		return cli_fail(c, 1);
	}
	json_t *st = json_object_get(r.json, "State"), *cfg = json_object_get(r.json, "Config");
	const char *bad = !json_is_true(json_object_get(st, "Running"))
				  ? "You cannot attach to a stopped container, start it first"
			  : json_is_true(json_object_get(st, "Paused"))
				  ? "You cannot attach to a paused container, unpause it first"
			  : json_is_true(json_object_get(st, "Restarting"))
				  ? "You cannot attach to a restarting container, wait until it is "
				    "running"
				  : NULL;
	bool tty = json_is_true(json_object_get(cfg, "Tty"));
	bool in = !flag_bool(a, "no-stdin") && json_is_true(json_object_get(cfg, "OpenStdin"));
	_cleanup_free_ char *id = xstrdup(json_string_value(json_object_get(r.json, "Id")) ?: "");
	cli_response_release(&r);
	if (bad) {
		berth_http_client_free(w);
		err_printf("%s\n", bad);
		return 1;
	}
	if (tty && !flag_bool(a, "no-stdin") && !is_terminal(STDIN_FILENO)) {
		berth_http_client_free(w);
		err_printf("the input device is not a TTY\n");
		return 1;
	}
	bool proxy = !flag_set(a, "sig-proxy") || flag_bool(a, "sig-proxy");
	_cleanup_sbuf_ struct sbuf at = SBUF_INIT, rs = SBUF_INIT;
	sbuf_printf(&at, "/containers/%s/attach?stream=1&stdout=1&stderr=1%s", id,
		    in ? "&stdin=1" : "");
	if (keys && *keys) {
		sbuf_adds(&at, "&detachKeys=");
		url_escape(&at, keys);
	}
	sbuf_printf(&rs, "/containers/%s", id);
	struct stream_opts o = {
		.method = "POST",
		.target = sbuf_str(&at),
		.resize = is_terminal(STDOUT_FILENO) ? sbuf_str(&rs) : NULL,
		.signal_to = proxy ? id : NULL,
		.in = in,
		.tty = tty,
		.nudge = true,
		.detach_keys = keys,
	};
	int rc = stream_session(c, &o, NULL, NULL);
	if (rc == 2) {
		berth_http_client_free(w);
		err_printf("%s\n", ESCAPE_ERROR);
		return 1;
	}
	if (rc) {
		berth_http_client_free(w);
		return rc;
	}
	int status = read_wait(c, w);
	berth_http_client_free(w);
	return status;
}

static const struct cli_flag attach_flags[] = {
	{"detach-keys", 0, FK_STRING, "string", NULL,
	 "Override the key sequence for detaching a container"},
	{"no-stdin", 0, FK_BOOL, NULL, NULL, "Do not attach STDIN"},
	{"sig-proxy", 0, FK_BOOL, NULL, "true", "Proxy all received signals to the process"},
};

const struct cli_cmd cmd_attach = {
	.name = "attach",
	.use = "[OPTIONS] CONTAINER",
	.short_desc = "Attach local standard input, output, and error streams to a running "
		      "container",
	.aliases_line = "berth container attach, berth attach",
	.flags = attach_flags,
	.n_flags = ARRAY_SIZE(attach_flags),
	.args = ARGS_EXACT,
	.min_args = 1,
	.run = run_attach,
	.complete = COMPLETE_CONTAINERS_RUNNING,
};

CLI_CMD_TWIN(cmd_container_attach, cmd_attach);
