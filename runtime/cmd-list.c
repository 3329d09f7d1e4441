/* SPDX-License-Identifier: Apache-2.0 */
/* list [--quiet] [--format table|json] */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "base/banned.h"

int cmd_list(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{"quiet", no_argument, NULL, 'q'},
		{"format", required_argument, NULL, 'f'},
		{},
	};
	_cleanup_error_ struct berth_error *err = NULL;
	struct berth_container **v = NULL;
	const char *format = "table";
	bool quiet = false;
	size_t n = 0;
	int ch, code = 0;

	CLI_PARSE(argc, argv, "qf:", opts, ch)
	{
		if (ch == 'q')
			quiet = true;
		else if (ch == 'f')
			format = optarg;
		else
			return cli_bad_flag(cli, argv, ch);
	}
	if (strcmp(format, "table") != 0 && strcmp(format, "json") != 0)
		return cli_usage(cli, "invalid format '%s': expected table or json", format);
	if (cli_expect_args(cli, argc, argv, 0, "nothing"))
		return 1;
	if (berth_container_list(&cli->opts, &v, &n, &err) < 0)
		return cli_fail(cli, err);

	if (quiet) {
		for (size_t i = 0; i < n; i++)
			printf("%s\n", v[i]->id);
	} else if (strcmp(format, "json") == 0) {
		_cleanup_json_ json_t *a = json_array();
		for (size_t i = 0; i < n; i++)
			json_array_append_new(a, berth_container_state_json(v[i]));
		json_dumpf(a, stdout, JSON_COMPACT);
		putchar('\n');
	} else {
		/* columns as wide as their widest cell, like runc's tabwriter */
		int w_id = 2, w_pid = 3, w_st = 6, w_b = 6, w_cr = 7;
		json_t **states = calloc(n ? n : 1, sizeof(json_t *));
		for (size_t i = 0; states && i < n; i++) {
			states[i] = berth_container_state_json(v[i]);
			char pid[16];
			snprintf(pid, sizeof(pid), "%lld",
				 json_integer_value(json_object_get(states[i], "pid")));
#define WIDEN(w, s) ((w) = (int)strlen(s) > (w) ? (int)strlen(s) : (w))
			WIDEN(w_id, v[i]->id);
			WIDEN(w_pid, pid);
			WIDEN(w_st, json_string_value(json_object_get(states[i], "status")));
			WIDEN(w_b, v[i]->bundle);
			WIDEN(w_cr, v[i]->created);
		}
		printf("%-*s   %-*s   %-*s   %-*s   %-*s   %s\n", w_id, "ID", w_pid, "PID", w_st,
		       "STATUS", w_b, "BUNDLE", w_cr, "CREATED", "OWNER");
		for (size_t i = 0; states && i < n; i++) {
			printf("%-*s   %-*lld   %-*s   %-*s   %-*s   %s\n", w_id, v[i]->id, w_pid,
			       json_integer_value(json_object_get(states[i], "pid")), w_st,
			       json_string_value(json_object_get(states[i], "status")), w_b,
			       v[i]->bundle, w_cr, v[i]->created,
			       json_string_value(json_object_get(states[i], "owner")));
			json_decref(states[i]);
		}
		free(states);
	}
	for (size_t i = 0; i < n; i++)
		berth_container_free(v[i]);
	free(v);
	return code;
}
