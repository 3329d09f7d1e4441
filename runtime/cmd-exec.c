/* SPDX-License-Identifier: Apache-2.0 */
/*
 * exec [flags] ID [COMMAND [ARG...]]: the process comes from --process FILE, or from the
 * container's own process with the command line and the flags laid over it (runc's rules).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "base/banned.h"

enum { OPT_CONSOLE = 256, OPT_CWD, OPT_PIDFILE, OPT_NNP, OPT_PRESERVE, OPT_LABEL, OPT_APPARMOR };

struct exec_flags {
	const char *process_file, *cwd, *user, *label, *apparmor;
	char **env, **caps, **gids;
	bool tty, tty_set, nnp;
	struct berth_exec_opts eo;
};

static void free_flags(struct exec_flags *f)
{
	berth_strv_free(f->env);
	berth_strv_free(f->caps);
	berth_strv_free(f->gids);
}

static int set_env(json_t *env, const char *kv)
{
	const char *eq = strchr(kv, '=');
	size_t klen = eq ? (size_t)(eq - kv) : strlen(kv);
	size_t i;
	json_t *v;

	json_array_foreach (env, i, v) {
		const char *s = json_string_value(v);
		if (s && strncmp(s, kv, klen) == 0 && (s[klen] == '=' || s[klen] == '\0'))
			return json_array_set_new(env, i, json_string(kv));
	}
	return json_array_append_new(env, json_string(kv));
}

/* The container's process with the flags laid over it, as JSON for berth_process_parse. */
static int build_process(struct cli *cli, struct berth_container *c, struct exec_flags *f, int argc,
			 char **argv, json_t **ret)
{
	_cleanup_json_ json_t *p = NULL;
	json_t *base = json_object_get(c->spec->json, "process"), *args, *env, *caps;

	p = base ? json_deep_copy(base) : json_object();
	if (!p)
		return cli_usage(cli, "out of memory");
	if (optind >= argc)
		return cli_usage(cli, "missing the command to run (or --process FILE)");
	args = json_array();
	for (int i = optind; i < argc; i++)
		json_array_append_new(args, json_string(argv[i]));
	json_object_set_new(p, "args", args);
	json_object_set_new(p, "terminal", json_boolean(f->tty));
	json_object_del(p, "consoleSize");
	if (f->cwd)
		json_object_set_new(p, "cwd", json_string(f->cwd));
	env = json_object_get(p, "env");
	if (!json_is_array(env)) {
		env = json_array();
		json_object_set_new(p, "env", env);
	}
	for (char **e = f->env; e && *e; e++)
		set_env(env, *e);
	if (f->user) {
		int64_t uid, gid = 0;
		_cleanup_free_ char *u = strdup(f->user);
		char *colon = u ? strchr(u, ':') : NULL;
		if (colon)
			*colon = '\0';
		if (!u || berth_parse_int64(u, 0, UINT32_MAX - 1, &uid) < 0 ||
		    (colon && berth_parse_int64(colon + 1, 0, UINT32_MAX - 1, &gid) < 0))
			return cli_usage(cli, "--user '%s': expected UID[:GID] as numbers",
					 f->user);
		json_t *user = json_object_get(p, "user");
		if (!json_is_object(user)) {
			user = json_object();
			json_object_set_new(p, "user", user);
		}
		json_object_set_new(user, "uid", json_integer(uid));
		json_object_set_new(user, "gid", json_integer(gid));
	}
	if (f->gids) {
		json_t *user = json_object_get(p, "user"), *g = json_array();
		if (!json_is_object(user)) {
			user = json_object();
			json_object_set_new(p, "user", user);
		}
		for (char **s = f->gids; *s; s++) {
			int64_t n;
			if (berth_parse_int64(*s, 0, UINT32_MAX - 1, &n) < 0) {
				json_decref(g);
				return cli_usage(cli, "--additional-gids '%s': not a number", *s);
			}
			json_array_append_new(g, json_integer(n));
		}
		json_object_set_new(user, "additionalGids", g);
	}
	if (f->caps) {
		static const char *const sets[] = {"bounding", "effective", "permitted"};
		caps = json_object_get(p, "capabilities");
		if (!json_is_object(caps)) {
			caps = json_object();
			json_object_set_new(p, "capabilities", caps);
		}
		for (size_t i = 0; i < ARRAY_SIZE(sets); i++) {
			json_t *set = json_object_get(caps, sets[i]);
			if (!json_is_array(set)) {
				set = json_array();
				json_object_set_new(caps, sets[i], set);
			}
			for (char **s = f->caps; *s; s++)
				json_array_append_new(set, json_string(*s));
		}
	}
	if (f->nnp)
		json_object_set_new(p, "noNewPrivileges", json_true());
	if (f->label)
		json_object_set_new(p, "selinuxLabel", json_string(f->label));
	if (f->apparmor)
		json_object_set_new(p, "apparmorProfile", json_string(f->apparmor));
	*ret = TAKE_PTR(p);
	return 0;
}

static int parse(struct cli *cli, int argc, char **argv, struct exec_flags *f)
{
	static const struct option opts[] = {
		{"console-socket", required_argument, NULL, OPT_CONSOLE},
		{"cwd", required_argument, NULL, OPT_CWD},
		{"env", required_argument, NULL, 'e'},
		{"tty", no_argument, NULL, 't'},
		{"user", required_argument, NULL, 'u'},
		{"additional-gids", required_argument, NULL, 'g'},
		{"process", required_argument, NULL, 'p'},
		{"detach", no_argument, NULL, 'd'},
		{"pid-file", required_argument, NULL, OPT_PIDFILE},
		{"process-label", required_argument, NULL, OPT_LABEL},
		{"apparmor", required_argument, NULL, OPT_APPARMOR},
		{"no-new-privs", no_argument, NULL, OPT_NNP},
		{"cap", required_argument, NULL, 'c'},
		{"preserve-fds", required_argument, NULL, OPT_PRESERVE},
		{},
	};
	int ch;

	CLI_PARSE(argc, argv, "e:tu:g:p:dc:", opts, ch)
	{
		switch (ch) {
		case OPT_CONSOLE:
			f->eo.console_socket = optarg;
			break;
		case OPT_CWD:
			f->cwd = optarg;
			break;
		case 'e':
			if (!strchr(optarg, '='))
				return cli_usage(cli, "--env '%s': expected NAME=VALUE", optarg);
			berth_strv_push(&f->env, optarg);
			break;
		case 't':
			f->tty = f->tty_set = true;
			break;
		case 'u':
			f->user = optarg;
			break;
		case 'g':
			berth_strv_push(&f->gids, optarg);
			break;
		case 'p':
			f->process_file = optarg;
			break;
		case 'd':
			f->eo.detach = true;
			break;
		case OPT_PIDFILE:
			f->eo.pid_file = optarg;
			break;
		case OPT_LABEL:
			f->label = optarg;
			break;
		case OPT_APPARMOR:
			f->apparmor = optarg;
			break;
		case OPT_NNP:
			f->nnp = true;
			break;
		case 'c':
			if (berth_cap_from_name(optarg) < 0)
				return cli_usage(cli, "--cap: unknown capability '%s'", optarg);
			berth_strv_push(&f->caps, optarg);
			break;
		case OPT_PRESERVE:
			if (cli_parse_uint(cli, "--preserve-fds", optarg, &f->eo.preserve_fds))
				return 1;
			break;
		default:
			return cli_bad_flag(cli, argv, ch);
		}
	}
	if (optind >= argc)
		return cli_usage(cli, "missing container id");
	return 0;
}

int cmd_exec(struct cli *cli, int argc, char **argv)
{
	_cleanup_error_ struct berth_error *err = NULL;
	_cleanup_container_ struct berth_container *c = NULL;
	_cleanup_json_ json_t *pj = NULL;
	_cleanup_pidfd_ struct berth_pidfd *pidfd = NULL;
	struct berth_process *p = NULL;
	struct exec_flags f = {};
	int master = -EBADF, code = 1, r;
	pid_t pid;
	sigset_t fwd;

	if (parse(cli, argc, argv, &f))
		goto out;
	const char *id = argv[optind++];
	if (berth_container_load(&cli->opts, id, &c, &err) < 0) {
		code = cli_fail(cli, err);
		goto out;
	}
	if (f.process_file) {
		if (optind < argc) {
			code = cli_usage(cli, "--process and a command line cannot go together");
			goto out;
		}
		r = berth_spec_json_load_file(f.process_file, &pj, &err);
		if (r < 0) {
			code = cli_fail(cli, err);
			goto out;
		}
		if (f.tty_set)
			json_object_set_new(pj, "terminal", json_true());
	} else if (build_process(cli, c, &f, argc, argv, &pj)) {
		goto out;
	}
	if (berth_process_parse(pj, &p, &err) < 0) {
		berth_error_wrap(&err, "process");
		code = cli_fail(cli, err);
		goto out;
	}
	if (!f.eo.detach) {
		cli_block_forwarded_signals(&fwd);
		if (!f.eo.console_socket)
			f.eo.ret_pty_master = &master;
		f.eo.ret_pidfd = &pidfd;
	}
	if (berth_container_exec(c, p, &f.eo, &pid, &err) < 0) {
		code = cli_fail(cli, err);
		goto out;
	}
	code = f.eo.detach ? 0 : cli_foreground(cli, pidfd, master, false);
out:
	berth_process_free(p);
	free_flags(&f);
	return code;
}
