/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The command line as cobra runs docker's: global flags up to the first command, the command and
 * group lookup, the command's own flags, the argument count checks, and the help pages in
 * docker's layout (cli/cobra.go's usage template).  Nothing here talks to berthd: an invalid
 * command line ends before any connection is made.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "cli.h"
#include "units.h"
#include "base/banned.h"

/* ---- output ------------------------------------------------------------------------------------ */

int term_width(void)
{
	struct winsize ws;

	if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		return ws.ws_col;
	return 80;
}

bool is_terminal(int fd)
{
	return isatty(fd) == 1;
}

void out_write(const char *s, size_t len)
{
	fwrite(s, 1, len, stdout);
}

void out_puts(const char *s)
{
	fputs(s, stdout);
}

void out_printf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(stdout, fmt, ap);
	va_end(ap);
}

void out_flush(void)
{
	fflush(stdout);
}

void err_printf(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
}

/* ---- flag values ------------------------------------------------------------------------------- */

const struct flag_value *flag_get(const struct cli_args *a, const char *name)
{
	for (size_t i = 0; i < a->cmd->n_flags; i++)
		if (strcmp(a->cmd->flags[i].name, name) == 0)
			return &a->v[i];
	err_printf("berth: internal error: command '%s' has no flag '%s'\n", a->cmd->name, name);
	abort();
}

/* ---- help -------------------------------------------------------------------------------------- */

void cmd_use_line(struct sbuf *out, const struct cli_cmd *cmd, const char *path)
{
	sbuf_adds(out, path);
	if (cmd->use && *cmd->use) {
		sbuf_addc(out, ' ');
		sbuf_adds(out, cmd->use);
	}
}

static bool has_visible_flags(const struct cli_flag *f, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!flag_hidden(&f[i]))
			return true;
	return false;
}

static size_t name_padding(const struct cli_cmd *parent)
{
	size_t pad = 11;

	for (size_t i = 0; parent->subs[i]; i++)
		if (strlen(parent->subs[i]->name) > pad)
			pad = strlen(parent->subs[i]->name);
	return pad;
}

static int cmp_cmd(const void *a, const void *b)
{
	return strcmp((*(const struct cli_cmd *const *)a)->name,
		      (*(const struct cli_cmd *const *)b)->name);
}

static int cmp_top(const void *a, const void *b)
{
	return (*(const struct cli_cmd *const *)a)->top - (*(const struct cli_cmd *const *)b)->top;
}

static void list_commands(struct sbuf *out, const struct cli_cmd *parent, const char *title,
			  int which /* 0 top, 1 management, 2 operations */, bool is_root)
{
	const struct cli_cmd *sel[128];
	size_t n = 0, pad = name_padding(parent);

	for (size_t i = 0; parent->subs[i] && n < ARRAY_SIZE(sel); i++) {
		const struct cli_cmd *s = parent->subs[i];
		if (s->hidden)
			continue;
		if (which == 0 && s->top)
			sel[n++] = s;
		else if (which == 1 && s->subs)
			sel[n++] = s;
		else if (which == 2 && !s->subs && !(is_root && s->top))
			sel[n++] = s;
	}
	if (!n)
		return;
	qsort(sel, n, sizeof(*sel), which == 0 ? cmp_top : cmp_cmd);
	sbuf_printf(out, "\n\n%s:", title);
	for (size_t i = 0; i < n; i++)
		sbuf_printf(out, "\n  %-*s %s", (int)pad, sel[i]->name, sel[i]->short_desc);
}

static void trim_right(struct sbuf *b)
{
	while (b->len &&
	       (b->p[b->len - 1] == ' ' || b->p[b->len - 1] == '\n' || b->p[b->len - 1] == '\t'))
		b->p[--b->len] = '\0';
}

static char *config_default(void)
{
	const char *env = getenv("DOCKER_CONFIG");
	const char *home = getenv("HOME");

	if (env && *env)
		return xstrdup(env);
	return xasprintf("%s/.docker", home && *home ? home : "/root");
}

void cmd_help(struct cli *c, struct sbuf *out, const struct cli_cmd *cmd,
	      const struct cli_cmd *parent, const char *path)
{
	bool is_root = cmd == &cmd_root;
	int cols = term_width() - 1;
	_cleanup_free_ char *cfg = is_root ? config_default() : NULL;

	sbuf_adds(out, "Usage:  ");
	if (cmd->subs) {
		sbuf_adds(out, path);
		if (is_root)
			sbuf_adds(out, " [OPTIONS]");
		sbuf_adds(out, " COMMAND");
	} else {
		cmd_use_line(out, cmd, path);
	}
	sbuf_printf(out, "\n\n%s", cmd->long_desc ? cmd->long_desc : cmd->short_desc);
	trim_right(out);
	if (cmd->aliases_line)
		sbuf_printf(out, "\n\nAliases:\n  %s", cmd->aliases_line);
	if (cmd->example)
		sbuf_printf(out, "\n\nExamples:\n%s", cmd->example);
	if (!is_root && has_visible_flags(cmd->flags, cmd->n_flags)) {
		sbuf_adds(out, "\n\nOptions:\n");
		flags_usage(out, cmd->flags, cmd->n_flags, cols, NULL);
		trim_right(out);
	}
	if (cmd->subs) {
		if (is_root)
			list_commands(out, cmd, "Common Commands", 0, true);
		list_commands(out, cmd, "Management Commands", 1, is_root);
		list_commands(out, cmd, "Commands", 2, is_root);
	}
	if (is_root) {
		sbuf_adds(out, "\n\nGlobal Options:\n");
		flags_usage(out, root_flags, n_root_flags, cols, cfg);
		trim_right(out);
	}
	if (cmd->subs)
		sbuf_printf(out, "\n\nRun '%s COMMAND --help' for more information on a command.",
			    path);
	sbuf_addc(out, '\n');
	(void)c;
	(void)parent;
}

static void print_help(struct cli *c, const struct cli_cmd *cmd, const struct cli_cmd *parent,
		       const char *path, bool to_stderr)
{
	_cleanup_sbuf_ struct sbuf b = SBUF_INIT;

	cmd_help(c, &b, cmd, parent, path);
	if (to_stderr) {
		out_flush();
		fwrite(b.p, 1, b.len, stderr);
	} else {
		out_write(b.p, b.len);
	}
}

/* ---- errors of the command line ----------------------------------------------------------------- */

static int flag_error(const struct cli_cmd *cmd, const char *path, const char *msg)
{
	_cleanup_sbuf_ struct sbuf b = SBUF_INIT;

	if (cmd == &cmd_root)
		sbuf_printf(&b, "%s [OPTIONS] COMMAND [ARG...]", path);
	else
		cmd_use_line(&b, cmd, path); /* a group's is its own: "volume COMMAND", "system" */
	err_printf("%s\n\nUsage:  %s\n\nRun '%s --help' for more information\n", msg, sbuf_str(&b),
		   path);
	return EXIT_DAEMON_ERROR;
}

static int args_error(const struct cli_cmd *cmd, const char *path, int argc, char **argv)
{
	_cleanup_sbuf_ struct sbuf use = SBUF_INIT;
	const char *plural_min = cmd->min_args == 1 ? "argument" : "arguments";
	const char *plural_max = cmd->max_args == 1 ? "argument" : "arguments";

	cmd_use_line(&use, cmd, path);
	switch (cmd->args) {
	case ARGS_NONE:
		if (argc == 0)
			return 0;
		err_printf(
			"%s: '%s' accepts no arguments\n\nUsage:  %s\n\nRun '%s --help' for more "
			"information\n",
			CLI_NAME, path, sbuf_str(&use), path);
		return 1;
	case ARGS_EXACT:
		if (argc == cmd->min_args)
			return 0;
		err_printf("%s: '%s' requires %d %s\n\nUsage:  %s\n\nRun '%s --help' for more "
			   "information\n",
			   CLI_NAME, path, cmd->min_args, plural_min, sbuf_str(&use), path);
		return 1;
	case ARGS_MIN:
		if (argc >= cmd->min_args)
			return 0;
		err_printf("%s: '%s' requires at least %d %s\n\nUsage:  %s\n\nSee '%s --help' for "
			   "more information\n",
			   CLI_NAME, path, cmd->min_args, plural_min, sbuf_str(&use), path);
		return 1;
	case ARGS_MAX:
		if (argc <= cmd->max_args)
			return 0;
		err_printf("%s: '%s' requires at most %d %s\n\nUsage:  %s\n\nRun '%s --help' for "
			   "more information\n",
			   CLI_NAME, path, cmd->max_args, plural_max, sbuf_str(&use), path);
		return 1;
	case ARGS_RANGE:
		if (argc >= cmd->min_args && argc <= cmd->max_args)
			return 0;
		err_printf("%s: '%s' requires at least %d and at most %d %s\n\nUsage:  %s\n\nRun "
			   "'%s --help' for more information\n",
			   CLI_NAME, path, cmd->min_args, cmd->max_args, plural_max, sbuf_str(&use),
			   path);
		return 1;
	case ARGS_ANY:
		break;
	}
	(void)argv;
	return 0;
}

/*
 * docker's isSupported(): a command or a flag given that needs a newer API than the daemon's is
 * refused, every such flag named.  Asking the version connects (a ping), so only a command line
 * with such a flag or command pays for it.  When the daemon cannot be reached the check is left
 * to the command, which then fails to connect as any other.
 */
static int check_api_versions(struct cli *c, const struct cli_args *a)
{
	const struct cli_cmd *cmd = a->cmd;
	const char *v = NULL;
	bool any = false;

	for (size_t i = 0; i < cmd->n_flags; i++)
		any |= cmd->flags[i].min_api && a->v[i].set;
	if (!any && !cmd->min_api && !(a->parent && a->parent->min_api))
		return 0;
	v = cli_api_version(c);
	if (!v) {
		free(c->err);
		c->err = NULL;
		return 0;
	}
	for (const struct cli_cmd *k = cmd; k; k = k == cmd ? a->parent : NULL) {
		if (k->min_api && berth_api_version_compare(v, k->min_api) < 0) {
			err_printf(
				"%s requires API version %s, but the Docker daemon API version is "
				"%s\n",
				a->path, k->min_api, v);
			return 1;
		}
	}
	_cleanup_sbuf_ struct sbuf msg = SBUF_INIT;
	for (size_t i = 0; i < cmd->n_flags; i++) {
		const struct cli_flag *f = &cmd->flags[i];
		if (!f->min_api || !a->v[i].set || berth_api_version_compare(v, f->min_api) >= 0)
			continue;
		sbuf_printf(
			&msg,
			"\"--%s\" requires API version %s, but the Docker daemon API version is "
			"%s\n",
			f->name, f->min_api, v);
	}
	if (msg.len) {
		err_printf("%s", sbuf_str(&msg));
		return 1;
	}
	return 0;
}

/* ---- dispatch ----------------------------------------------------------------------------------- */

static const struct cli_cmd *find_sub(const struct cli_cmd *parent, const char *name)
{
	for (size_t i = 0; parent->subs[i]; i++) {
		const struct cli_cmd *s = parent->subs[i];
		if (strcmp(s->name, name) == 0)
			return s;
		for (size_t k = 0; s->aliases && s->aliases[k]; k++)
			if (strcmp(s->aliases[k], name) == 0)
				return s;
	}
	return NULL;
}

/* the global flags' values (root_flags' order) */
static struct flag_value gvals[16];

static int apply_globals(struct cli *c)
{
	static const char *const levels[] = {"panic", "fatal", "error", "warn", "warning",
					     "info",  "debug", "trace", NULL};

	for (size_t i = 0; i < n_root_flags; i++) {
		const struct cli_flag *f = &root_flags[i];
		const struct flag_value *v = &gvals[i];
		if (!v->set)
			continue;
		if (strcmp(f->name, "config") == 0)
			c->config_opt = v->s;
		else if (strcmp(f->name, "context") == 0)
			c->context_opt = v->s;
		else if (strcmp(f->name, "debug") == 0)
			c->debug = v->b;
		else if (strcmp(f->name, "host") == 0) {
			c->hosts = v->v;
			c->n_hosts = v->n;
		} else if (strcmp(f->name, "log-level") == 0) {
			bool ok = false;
			for (size_t k = 0; levels[k]; k++)
				ok |= strcasecmp(v->s, levels[k]) == 0;
			if (!ok) {
				err_printf("Unable to parse logging level: %s\n", v->s);
				return 1;
			}
			c->log_level = v->s;
		}
	}
	if (c->context_opt && *c->context_opt && c->n_hosts) {
		err_printf("conflicting options: cannot specify both --host and --context\n");
		return 1;
	}
	return 0;
}

static const struct flag_value *root_flag(const char *name)
{
	for (size_t i = 0; i < n_root_flags; i++)
		if (strcmp(root_flags[i].name, name) == 0)
			return &gvals[i];
	return NULL;
}

/* the root flags a command or group takes after its name: --help alone (root_flags[0]) */
static size_t n_persistent(void)
{
	return 1;
}

static int run_help_command(struct cli *c, int argc, char **argv)
{
	const struct cli_cmd *cmd = &cmd_root, *parent = NULL;
	char path[128];

	snprintf(path, sizeof(path), "%s", CLI_NAME);
	for (int i = 0; i < argc; i++) {
		const struct cli_cmd *s = cmd->subs ? find_sub(cmd, argv[i]) : NULL;
		if (!s) {
			_cleanup_sbuf_ struct sbuf b = SBUF_INIT;
			for (int k = 0; k < argc; k++)
				sbuf_printf(&b, "%s%s", k ? " " : "", argv[k]);
			err_printf("unknown help topic: %s\n", sbuf_str(&b));
			return 1;
		}
		parent = cmd;
		cmd = s;
		size_t l = strlen(path);
		snprintf(path + l, sizeof(path) - l, " %s", s->name);
	}
	print_help(c, cmd, parent, path, false);
	return 0;
}

int cli_main(struct cli *c, int argc, char **argv)
{
	_cleanup_free_ char **rest = NULL;
	_cleanup_free_ char *err = NULL;
	int nrest, dash, r;
	bool help;
	struct cli_args a = {.dash_at = -1};
	const struct cli_cmd *cmd, *parent = NULL;

	/* global flags, up to the first command (pflag, not interspersed) */
	if (flags_parse(root_flags, n_root_flags, gvals, NULL, 0, NULL, false, argc - 1, argv + 1,
			&rest, &nrest, &dash, &help, &err) < 0)
		return flag_error(&cmd_root, CLI_NAME, err);
	if ((r = apply_globals(c)))
		return r;
	if (help) {
		print_help(c, &cmd_root, NULL, CLI_NAME, false);
		return 0;
	}
	if (root_flag("version")->b && nrest == 0) {
		out_printf("Berth version %s, build %s\n", BERTH_VERSION, cli_git_commit);
		return 0;
	}
	if (nrest == 0) {
		print_help(c, &cmd_root, NULL, CLI_NAME, true);
		return 0;
	}
	if (strcmp(rest[0], "help") == 0)
		return run_help_command(c, nrest - 1, rest + 1);

	cmd = find_sub(&cmd_root, rest[0]);
	if (!cmd) {
		err_printf("%s: unknown command: %s %s\n\nRun '%s --help' for more information\n",
			   CLI_NAME, CLI_NAME, rest[0], CLI_NAME);
		return 1;
	}
	snprintf(a.path, sizeof(a.path), "%s %s", CLI_NAME, cmd->name);
	char **args = rest + 1;
	int nargs = nrest - 1;
	_cleanup_free_ char **grest = NULL;

	if (cmd->subs) {
		/* a group: its (global) flags, then a command of the group */
		_cleanup_free_ char *gerr = NULL;
		int ng, gdash;
		bool ghelp;
		if (flags_parse(NULL, 0, NULL, root_flags, n_persistent(), gvals, false, nargs,
				args, &grest, &ng, &gdash, &ghelp, &gerr) < 0)
			return flag_error(cmd, a.path, gerr);
		if ((r = apply_globals(c)))
			return r;
		const struct cli_cmd *sub = ng > 0 ? find_sub(cmd, grest[0]) : NULL;
		if (!sub) {
			if (ng > 0) {
				/* cobra's UseLine: the group's Use ("volume COMMAND") */
				_cleanup_sbuf_ struct sbuf use = SBUF_INIT;
				cmd_use_line(&use, cmd, a.path);
				err_printf("%s: unknown command: %s %s\n\nUsage:  %s\n\nRun '%s "
					   "--help' for more information\n",
					   CLI_NAME, a.path, grest[0], sbuf_str(&use), a.path);
				return 1;
			}
			print_help(c, cmd, &cmd_root, a.path, !ghelp);
			return 0;
		}
		parent = cmd;
		cmd = sub;
		size_t l = strlen(a.path);
		snprintf(a.path + l, sizeof(a.path) - l, " %s", cmd->name);
		args = grest + 1;
		nargs = ng - 1;
	}

	a.cmd = cmd;
	a.parent = parent;
	a.v = xcalloc(cmd->n_flags + 1, sizeof(*a.v));
	if (cmd->raw_args) {
		a.argv = xcalloc((size_t)nargs + 1, sizeof(*a.argv));
		memcpy(a.argv, args, (size_t)nargs * sizeof(*args));
		a.argc = nargs;
		r = cmd->run(c, &a);
		goto out;
	}
	if (flags_parse(cmd->flags, cmd->n_flags, a.v, root_flags, n_persistent(), gvals,
			!cmd->no_interspersed, nargs, args, &a.argv, &a.argc, &a.dash_at, &help,
			&err) < 0) {
		r = flag_error(cmd, a.path, err);
		goto out;
	}
	if ((r = apply_globals(c)))
		goto out;
	if (help) {
		print_help(c, cmd, parent, a.path, false);
		r = 0;
		goto out;
	}
	if ((r = args_error(cmd, a.path, a.argc, a.argv)))
		goto out;
	if ((r = check_api_versions(c, &a)))
		goto out;
	r = cmd->run(c, &a);
out:
	for (size_t i = 0; i < cmd->n_flags; i++)
		free(a.v[i].v);
	free(a.v);
	free(a.argv);
	return r;
}
