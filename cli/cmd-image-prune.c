/* SPDX-License-Identifier: Apache-2.0 */
/*
 * berth image prune: asks first (docker's prompt, on stdout; anything but "y" cancels, quietly),
 * then POST /images/prune?filters={dangling, --filter, the config file's pruneFilters} and
 * docker's report: "Deleted Images:", "untagged:"/"deleted:" lines, "Total reclaimed space: ".
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "units.h"
#include "base/banned.h"

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

/*
 * docker's prompt.Confirm: the question and " [y/N] " on stdout, one line from stdin; "y" or "Y"
 * (spaces aside) is yes.  An interrupt while waiting prints a newline: a no.
 */
bool confirm(const char *question)
{
	struct sigaction sa = {.sa_handler = on_signal}, old_int, old_term;
	_cleanup_sbuf_ struct sbuf line = SBUF_INIT;
	bool yes = false, cut = false;

	out_printf("%s [y/N] ", question);
	out_flush();
	/* no SA_RESTART: the read returns at the signal */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	for (;;) {
		char ch;
		ssize_t n = read(STDIN_FILENO, &ch, 1);
		if (n < 0 && errno == EINTR && !interrupted)
			continue;
		if (n < 0) {
			cut = interrupted;
			break;
		}
		if (n == 0 || ch == '\n')
			break;
		sbuf_addc(&line, ch);
	}
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	if (cut) {
		out_puts("\n");
		return false;
	}
	/* strings.TrimSpace, then EqualFold "y" */
	const char *s = sbuf_str(&line);
	size_t b = 0, e = line.len;
	while (b < e && strchr(" \t\r\n\v\f", s[b]))
		b++;
	while (e > b && strchr(" \t\r\n\v\f", s[e - 1]))
		e--;
	yes = e - b == 1 && (s[b] == 'y' || s[b] == 'Y');
	return yes;
}

/* command.PruneFilters: the config file's pruneFilters join the flag's ("label" and "label!" of
 * the same value do not both stay) */
static void add_config_filters(struct cli *c, json_t *filters)
{
	json_t *list = json_object_get(cli_config_file(c), "pruneFilters");
	size_t i;
	json_t *e;

	json_array_foreach (list, i, e) {
		const char *f = json_string_value(e), *eq = f ? strchr(f, '=') : NULL;
		if (!eq)
			continue;
		_cleanup_free_ char *key = xstrndup(f, (size_t)(eq - f));
		const char *val = eq + 1;
		const char *other = strcmp(key, "label") == 0	 ? "label!"
				    : strcmp(key, "label!") == 0 ? "label"
								 : NULL;
		if (other && json_object_get(json_object_get(filters, other), val))
			continue;
		json_t *m = json_object_get(filters, key);
		if (!m) {
			m = json_object();
			json_object_set_new(filters, key, m);
		}
		json_object_set_new(m, val, json_true());
	}
}

static int run_image_prune(struct cli *c, struct cli_args *a)
{
	bool all = flag_bool(a, "all");
	const char *extra[] = {"dangling", all ? "false" : "true", NULL};
	_cleanup_free_ char *fj = filters_json_with(flag_get(a, "filter"), extra);
	_cleanup_json_ json_t *filters = json_loads(fj, 0, NULL);
	_cleanup_free_ char *fs = NULL;
	_cleanup_sbuf_ struct sbuf target = SBUF_INIT, out = SBUF_INIT, size = SBUF_INIT;
	struct cli_response r;
	size_t i;
	json_t *e;

	add_config_filters(c, filters);
	if (!flag_bool(a, "force") &&
	    !confirm(all ? "WARNING! This will remove all images without at least one container "
			   "associated to them.\nAre you sure you want to continue?"
			 : "WARNING! This will remove all dangling images.\nAre you sure you want "
			   "to continue?"))
		return 0; /* cancelled: docker says nothing more */
	fs = json_dumps(filters, JSON_COMPACT | JSON_SORT_KEYS);
	if (!fs)
		cli_oom();
	sbuf_adds(&target, "/images/prune?filters=");
	url_escape(&target, fs);
	if (cli_call(c, "POST", sbuf_str(&target), NULL, &r) < 0)
		return cli_fail(c, 1);
	json_t *deleted = json_object_get(r.json, "ImagesDeleted");
	int64_t reclaimed = 0;
	if (json_array_size(deleted)) {
		sbuf_adds(&out, "Deleted Images:\n");
		json_array_foreach (deleted, i, e) {
			const char *u = json_string_value(json_object_get(e, "Untagged"));
			const char *d = json_string_value(json_object_get(e, "Deleted"));
			if (u && *u)
				sbuf_printf(&out, "untagged: %s\n", u);
			else
				sbuf_printf(&out, "deleted: %s\n", d ? d : "");
		}
		reclaimed = json_integer_value(json_object_get(r.json, "SpaceReclaimed"));
		out_printf("%s\n", sbuf_str(&out));
	}
	human_size(&size, (double)(uint64_t)reclaimed, 4);
	out_printf("Total reclaimed space: %s\n", sbuf_str(&size));
	cli_response_release(&r);
	return 0;
}

static const struct cli_flag prune_flags[] = {
	{"all", 'a', FK_BOOL, NULL, NULL, "Every image no container uses, not only dangling ones"},
	{"filter", 0, FK_LIST, "filter", NULL,
	 "Which images to consider (\"until=<timestamp>\", "
	 "\"label=k=v\")",
	 0, check_filter},
	{"force", 'f', FK_BOOL, NULL, NULL, "Do not ask first"},
};

const struct cli_cmd cmd_image_prune = {
	.name = "prune",
	.use = "[OPTIONS]",
	.short_desc = "Remove the images nothing uses",
	.flags = prune_flags,
	.n_flags = ARRAY_SIZE(prune_flags),
	.args = ARGS_NONE,
	.run = run_image_prune,
	.min_api = "1.25",
};
