/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ps [--format table|json] ID [PS_ARGS...]: the container's processes.  json prints the pid
 * array; table runs ps(1) (default "-ef") and keeps its header and the container's lines.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "base/banned.h"

static bool has_pid(const pid_t *pids, size_t n, long pid)
{
	for (size_t i = 0; i < n; i++)
		if (pids[i] == pid)
			return true;
	return false;
}

/* Index of the PID column in ps's header line, or -1. */
static int pid_column(const char *header)
{
	_cleanup_free_ char *copy = strdup(header);
	char *save = NULL;
	int i = 0;

	for (char *w = copy ? strtok_r(copy, " \t", &save) : NULL; w;
	     w = strtok_r(NULL, " \t", &save), i++)
		if (strcmp(w, "PID") == 0)
			return i;
	return -1;
}

static int run_ps(struct cli *cli, char **ps_args, int n_args, const pid_t *pids, size_t n)
{
	_cleanup_free_ char *out = NULL;
	_cleanup_free_ char **argv = calloc((size_t)n_args + 2, sizeof(char *));
	_cleanup_error_ struct berth_error *err = NULL;
	int pfd[2], status = 0;
	pid_t child;

	if (!argv || pipe2(pfd, O_CLOEXEC) < 0)
		return cli_usage(cli, "ps: %s", strerror(errno));
	argv[0] = "ps";
	if (n_args == 0)
		argv[1] = "-ef";
	for (int i = 0; i < n_args; i++)
		argv[i + 1] = ps_args[i];
	child = fork();
	if (child == 0) {
		dup2(pfd[1], 1);
		execvp("ps", argv);
		_exit(127);
	}
	close(pfd[1]);
	if (child < 0 || berth_read_fd(pfd[0], 64u << 20, &out, NULL, &err) < 0) {
		close(pfd[0]);
		return cli_usage(cli, "ps: cannot read its output");
	}
	close(pfd[0]);
	berth_waitpid(child, 0, &status);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return cli_usage(cli, "ps failed (exit %d)", berth_exit_code(status));

	char *save = NULL, *line = strtok_r(out, "\n", &save);
	int col = line ? pid_column(line) : -1;
	if (col < 0)
		return cli_usage(cli, "ps: no PID column in its output");
	printf("%s\n", line);
	while ((line = strtok_r(NULL, "\n", &save))) {
		_cleanup_free_ char *copy = strdup(line);
		char *s2 = NULL, *w = copy ? strtok_r(copy, " \t", &s2) : NULL;
		for (int i = 0; w && i < col; i++)
			w = strtok_r(NULL, " \t", &s2);
		if (w && has_pid(pids, n, strtol(w, NULL, 10)))
			printf("%s\n", line);
	}
	return 0;
}

int cmd_ps(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {{"format", required_argument, NULL, 'f'}, {}};
	_cleanup_error_ struct berth_error *err = NULL;
	_cleanup_container_ struct berth_container *c = NULL;
	_cleanup_free_ pid_t *pids = NULL;
	const char *format = "table";
	size_t n = 0;
	int ch;

	CLI_PARSE(argc, argv, "f:", opts, ch)
	{
		if (ch != 'f')
			return cli_bad_flag(cli, argv, ch);
		format = optarg;
	}
	if (strcmp(format, "table") != 0 && strcmp(format, "json") != 0)
		return cli_usage(cli, "invalid format '%s': expected table or json", format);
	if (optind >= argc)
		return cli_usage(cli, "missing container id");
	if (berth_container_load(&cli->opts, argv[optind], &c, &err) < 0)
		return cli_fail(cli, err);
	if (berth_container_status(c) == BERTH_STATUS_STOPPED)
		return cli_usage(cli, "container '%s' is not running", c->id);
	if (berth_cgroup_pids(c->cgroup, &pids, &n, &err) < 0)
		return cli_fail(cli, err);
	if (strcmp(format, "json") == 0) {
		if (optind + 1 < argc)
			return cli_usage(cli, "ps arguments cannot be used with --format json");
		printf("[");
		for (size_t i = 0; i < n; i++)
			printf("%s%d", i ? "," : "", (int)pids[i]);
		printf("]\n");
		return 0;
	}
	return run_ps(cli, argv + optind + 1, argc - optind - 1, pids, n);
}
