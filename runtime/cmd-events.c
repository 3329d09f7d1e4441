/* SPDX-License-Identifier: Apache-2.0 */
/*
 * events [--stats] [--interval D] ID: resource statistics as JSON lines
 * {"type":"stats","id":ID,"data":{...}}; --stats prints one and exits, otherwise one every
 * interval until the container stops.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "base/banned.h"

/* "5s", "500ms", "1m", "2" (seconds) -> milliseconds; -1 when invalid. */
static int64_t parse_duration_ms(const char *s)
{
	char *end;
	double v = strtod(s, &end);

	if (end == s || v < 0)
		return -1;
	if (*end == '\0' || strcmp(end, "s") == 0)
		v *= 1000;
	else if (strcmp(end, "m") == 0)
		v *= 60000;
	else if (strcmp(end, "h") == 0)
		v *= 3600000;
	else if (strcmp(end, "ms") != 0)
		return -1;
	if (v < 1 || v > 86400000.0)
		return -1;
	return (int64_t)v;
}

int cmd_events(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{"stats", no_argument, NULL, 's'},
		{"interval", required_argument, NULL, 'i'},
		{},
	};
	_cleanup_error_ struct berth_error *err = NULL;
	_cleanup_container_ struct berth_container *c = NULL;
	int64_t interval = 5000;
	bool once = false;
	int ch;

	CLI_PARSE(argc, argv, "", opts, ch)
	{
		if (ch == 's') {
			once = true;
		} else if (ch == 'i') {
			interval = parse_duration_ms(optarg);
			if (interval < 0)
				return cli_usage(cli, "invalid interval '%s'", optarg);
		} else {
			return cli_usage(cli, "unknown flag '%s'", argv[optind - 1]);
		}
	}
	if (cli_expect_args(cli, argc, argv, 1, "container id"))
		return 1;
	if (berth_container_load(&cli->opts, argv[optind], &c, &err) < 0)
		return cli_fail(cli, err);
	for (;;) {
		if (berth_container_status(c) == BERTH_STATUS_STOPPED)
			return once ? cli_usage(cli, "container '%s' is not running", c->id) : 0;
		_cleanup_json_ json_t *data = NULL;
		if (berth_cgroup_stats(c->cgroup, &data, &err) < 0)
			return cli_fail(cli, err);
		_cleanup_json_ json_t *ev =
			json_pack("{s:s, s:s, s:O}", "type", "stats", "id", c->id, "data", data);
		if (!ev)
			return 1;
		json_dumpf(ev, stdout, JSON_COMPACT);
		putchar('\n');
		fflush(stdout);
		if (once)
			return 0;
		struct timespec ts = {interval / 1000, (interval % 1000) * 1000000};
		while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
			;
	}
}
