/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Shell completion.  "berth completion bash" prints a bash script; the script asks
 * "berth __complete WORD..." (the words so far, the last one being completed) for candidates, one
 * per line: commands, flags, flag values (signals, networks, log levels, contexts), and the names
 * of containers, images, networks and volumes from berthd.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "base/banned.h"

static const char bash_script[] =
	"# bash completion for berth; load it with: source <(berth completion bash)\n"
	"_berth_complete() {\n"
	"\tlocal cur=\"${COMP_WORDS[COMP_CWORD]}\"\n"
	"\tlocal IFS=$'\\n'\n"
	"\tlocal words=(\"${COMP_WORDS[@]:1:COMP_CWORD}\")\n"
	"\t# bash splits --flag=value at '=': put it back together\n"
	"\tlocal line=\"${COMP_LINE:0:COMP_POINT}\" last=\"${line##* }\"\n"
	"\tif [[ \"$last\" == *=* && \"$last\" == -* ]]; then\n"
	"\t\tcur=\"${last#*=}\"\n"
	"\t\twords=($(printf '%s\\n' \"${line#* }\" | tr ' ' '\\n'))\n"
	"\tfi\n"
	"\tCOMPREPLY=($(\"${COMP_WORDS[0]}\" __complete \"${words[@]}\" 2>/dev/null))\n"
	"\tif [[ ${#COMPREPLY[@]} -eq 1 && \"${COMPREPLY[0]}\" == \":files\" ]]; then\n"
	"\t\tCOMPREPLY=($(compgen -f -- \"$cur\"))\n"
	"\tfi\n"
	"}\n"
	"complete -o default -o bashdefault -F _berth_complete berth\n";

static int run_completion(struct cli *c, struct cli_args *a)
{
	if (strcmp(a->argv[0], "bash") != 0) {
		err_printf("berth completion: unsupported shell '%s' (supported: bash)\n",
			   a->argv[0]);
		return 1;
	}
	out_puts(bash_script);
	return 0;
}

const struct cli_cmd cmd_completion = {
	.name = "completion",
	.use = "SHELL",
	.short_desc = "Print the shell completion script (bash)",
	.long_desc = "Print the shell completion script for SHELL (bash).\n\n"
		     "Load it in the current shell:\n\n"
		     "  source <(berth completion bash)\n\n"
		     "or install it for every shell:\n\n"
		     "  berth completion bash > /etc/bash_completion.d/berth",
	.args = ARGS_EXACT,
	.min_args = 1,
	.max_args = 1,
	.run = run_completion,
};

/* ---- __complete ------------------------------------------------------------------------------- */

static void emit(const char *cand, const char *prefix)
{
	if (berth_str_has_prefix(cand, prefix))
		out_printf("%s\n", cand);
}

static const struct cli_flag *find_flag(const struct cli_flag *f, size_t n, const char *word)
{
	if (word[0] != '-')
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (word[1] == '-' && strcmp(word + 2, f[i].name) == 0)
			return &f[i];
		if (word[1] != '-' && word[1] == f[i].shorthand && word[2] == '\0')
			return &f[i];
	}
	return NULL;
}

static void emit_flags(const struct cli_flag *f, size_t n, const char *prefix)
{
	for (size_t i = 0; i < n; i++) {
		char buf[128];
		if (flag_hidden(&f[i]))
			continue;
		snprintf(buf, sizeof(buf), "--%s", f[i].name);
		emit(buf, prefix);
	}
}

/* names of containers or images, from berthd (quietly nothing when it does not answer) */
static void emit_names(struct cli *c, enum complete_kind kind, const char *prefix)
{
	struct cli_response r;
	size_t i;
	json_t *e;

	if (kind == COMPLETE_IMAGES || kind == COMPLETE_IMAGE_THEN_ANY) {
		if (cli_call(c, "GET", "/images/json", NULL, &r) < 0)
			return;
		json_array_foreach (r.json, i, e) {
			size_t k;
			json_t *tag;
			json_array_foreach (json_object_get(e, "RepoTags"), k, tag) {
				const char *s = json_string_value(tag);
				if (s && strcmp(s, "<none>:<none>") != 0)
					emit(s, prefix);
			}
		}
		cli_response_release(&r);
		return;
	}
	if (cli_call(c, "GET",
		     kind == COMPLETE_CONTAINERS_RUNNING ? "/containers/json"
							 : "/containers/json?all=1",
		     NULL, &r) < 0)
		return;
	json_array_foreach (r.json, i, e) {
		const char *state = json_string_value(json_object_get(e, "State"));
		if (kind == COMPLETE_CONTAINERS_STOPPED && berth_streq(state, "running"))
			continue;
		size_t k;
		json_t *name;
		json_array_foreach (json_object_get(e, "Names"), k, name) {
			const char *s = json_string_value(name);
			if (s)
				emit(s[0] == '/' ? s + 1 : s, prefix);
		}
	}
	cli_response_release(&r);
}

/* network or volume names, from berthd (quietly nothing when it does not answer) */
static void emit_objects(struct cli *c, bool networks, const char *prefix)
{
	struct cli_response r;
	size_t i;
	json_t *e;

	if (cli_call(c, "GET", networks ? "/networks" : "/volumes", NULL, &r) < 0)
		return;
	json_array_foreach (networks ? r.json : json_object_get(r.json, "Volumes"), i, e) {
		const char *s = json_string_value(json_object_get(e, "Name"));
		if (s)
			emit(s, prefix);
	}
	cli_response_release(&r);
}

/* the signals docker's completion offers for --signal: their names without "SIG" */
static void emit_signals(const char *prefix)
{
	for (int sig = 1; sig < SIGRTMIN; sig++) {
		const char *name = berth_signal_name(sig);
		if (name)
			emit(name, prefix);
	}
}

static void emit_contexts(struct cli *c, const char *prefix)
{
	(void)c;
	emit("default", prefix);
	/* named contexts are in the config's context store */
	const char *env = getenv("DOCKER_CONFIG"), *home = getenv("HOME");
	_cleanup_free_ char *dir =
		env && *env ? xasprintf("%s/contexts/meta", env)
			    : xasprintf("%s/.docker/contexts/meta", home ? home : "/root");
	_cleanup_closedir_ DIR *d = opendir(dir);
	struct dirent *de;
	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		_cleanup_free_ char *path = xasprintf("%s/%s/meta.json", dir, de->d_name);
		_cleanup_json_ json_t *meta = NULL;
		if (berth_json_load_file(path, 1 << 20, &meta, NULL) == 0) {
			const char *name = json_string_value(json_object_get(meta, "Name"));
			if (name)
				emit(name, prefix);
		}
	}
}

static int run_complete(struct cli *c, struct cli_args *a)
{
	const struct cli_cmd *cmd = &cmd_root;
	const char *cur = a->argc > 0 ? a->argv[a->argc - 1] : "";
	int nargs = 0; /* arguments given to the command so far */
	bool dashdash = false;

	/* every word before the last one: walk the tree as the parser would */
	for (int i = 0; i + 1 < a->argc; i++) {
		const char *w = a->argv[i];
		if (!dashdash && w[0] == '-' && w[1]) {
			if (strcmp(w, "--") == 0) {
				dashdash = true;
				continue;
			}
			const struct cli_flag *f = find_flag(cmd->flags, cmd->n_flags, w);
			/* the global flags come before the command's name only */
			if (!f && cmd == &cmd_root)
				f = find_flag(root_flags, n_root_flags, w);
			if (f && f->kind != FK_BOOL && !strchr(w, '='))
				i++; /* its value */
			continue;
		}
		if (cmd->subs && nargs == 0) {
			const struct cli_cmd *s = NULL;
			for (size_t k = 0; cmd->subs[k]; k++) {
				if (strcmp(cmd->subs[k]->name, w) == 0)
					s = cmd->subs[k];
				for (size_t m = 0;
				     cmd->subs[k]->aliases && cmd->subs[k]->aliases[m]; m++)
					if (strcmp(cmd->subs[k]->aliases[m], w) == 0)
						s = cmd->subs[k];
			}
			if (!s)
				return 0;
			cmd = s;
			continue;
		}
		nargs++;
	}
	/* the value of a flag? */
	if (a->argc >= 2) {
		const char *prev = a->argv[a->argc - 2];
		const struct cli_flag *f = find_flag(cmd->flags, cmd->n_flags, prev);
		if (!f && cmd == &cmd_root)
			f = find_flag(root_flags, n_root_flags, prev);
		if (f && f->kind != FK_BOOL && !strchr(prev, '=')) {
			if (strcmp(f->name, "log-level") == 0) {
				static const char *const levels[] = {"debug", "info", "warn",
								     "error", "fatal"};
				for (size_t k = 0; k < ARRAY_SIZE(levels); k++)
					emit(levels[k], cur);
			} else if (strcmp(f->name, "context") == 0) {
				emit_contexts(c, cur);
			} else if (strcmp(f->name, "signal") == 0) {
				emit_signals(cur);
			} else if (strcmp(f->name, "network") == 0 || strcmp(f->name, "net") == 0) {
				emit_objects(c, true, cur);
			} else if (strcmp(f->name, "config") == 0 ||
				   strcmp(f->name, "output") == 0 ||
				   strcmp(f->name, "input") == 0 ||
				   strcmp(f->name, "env-file") == 0) {
				out_puts(":files\n");
			}
			return 0;
		}
	}
	if (!dashdash && cur[0] == '-') {
		if (cmd != &cmd_root)
			emit_flags(cmd->flags, cmd->n_flags, cur);
		else
			emit_flags(root_flags, n_root_flags, cur);
		return 0;
	}
	if (cmd->subs) {
		for (size_t k = 0; cmd->subs[k]; k++)
			if (!cmd->subs[k]->hidden)
				emit(cmd->subs[k]->name, cur);
		if (cmd == &cmd_root)
			emit("help", cur);
		return 0;
	}
	/* docker's ImageNames(cli, limit): no more names past the arguments the command takes */
	if (cmd->complete_max > 0 && nargs >= cmd->complete_max)
		return 0;
	switch (cmd->complete) {
	case COMPLETE_CONTAINERS:
	case COMPLETE_CONTAINERS_RUNNING:
	case COMPLETE_CONTAINERS_STOPPED:
	case COMPLETE_IMAGES:
		emit_names(c, cmd->complete, cur);
		break;
	case COMPLETE_IMAGE_THEN_ANY:
		if (nargs == 0)
			emit_names(c, cmd->complete, cur);
		else
			out_puts(":files\n");
		break;
	case COMPLETE_FILES:
		out_puts(":files\n");
		break;
	case COMPLETE_NETWORKS:
	case COMPLETE_VOLUMES:
		emit_objects(c, cmd->complete == COMPLETE_NETWORKS, cur);
		break;
	case COMPLETE_NETWORK_THEN_CONTAINER:
		if (nargs == 0)
			emit_objects(c, true, cur);
		else
			emit_names(c, COMPLETE_CONTAINERS, cur);
		break;
	case COMPLETE_CONTEXTS:
		emit_contexts(c, cur);
		break;
	case COMPLETE_COMMANDS:
	case COMPLETE_NONE:
		break;
	}
	return 0;
}

const struct cli_cmd cmd_complete = {
	.name = "__complete",
	.use = "[WORD...]",
	.short_desc = "Candidates for shell completion",
	.args = ARGS_ANY,
	.run = run_complete,
	.hidden = true,
	.raw_args = true,
};
