/* SPDX-License-Identifier: Apache-2.0 */
/*
 * events [--stats] [--interval D] ID: JSON lines, as runc writes them.  {"type":"stats","id":ID,
 * "data":{...}} every interval (--stats: one, then exit) and {"type":"oom","id":ID} as soon as
 * the kernel's OOM killer has killed a process of the container: the cgroup's OOM kill count is
 * read every OOM_POLL_MS and an event written whenever it has risen since events started.  Ends
 * when the container stops.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "base/banned.h"

#define OOM_POLL_MS 200

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

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int64_t ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* One event line; data may be NULL (an oom event has none). */
static int emit(const char *type, const char *id, json_t *data)
{
	_cleanup_json_ json_t *ev =
		data ? json_pack("{s:s, s:s, s:O}", "type", type, "id", id, "data", data)
		     : json_pack("{s:s, s:s}", "type", type, "id", id);

	if (!ev)
		return -ENOMEM;
	json_dumpf(ev, stdout, JSON_COMPACT);
	putchar('\n');
	fflush(stdout);
	return 0;
}

static int emit_stats(struct cli *cli, struct berth_container *c)
{
	_cleanup_error_ struct berth_error *err = NULL;
	_cleanup_json_ json_t *data = NULL;

	if (berth_cgroup_stats(c->cgroup, &data, &err) < 0)
		return cli_fail(cli, err);
	return emit("stats", c->id, data) < 0 ? 1 : 0;
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
	int64_t interval = 5000, next;
	uint64_t ooms = 0, n;
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
	if (once) {
		if (berth_container_status(c) == BERTH_STATUS_STOPPED)
			return cli_usage(cli, "container '%s' is not running", c->id);
		return emit_stats(cli, c);
	}
	/* kills before we started are not news; an unreadable count is taken as none */
	if (berth_cgroup_oom_kills(c->cgroup, &ooms, NULL) < 0)
		ooms = 0;
	next = now_ms();
	for (;;) {
		/* the count first: an OOM kill of the init shows before the container is stopped */
		if (berth_cgroup_oom_kills(c->cgroup, &n, NULL) == 0 && n > ooms) {
			ooms = n;
			if (emit("oom", c->id, NULL) < 0)
				return 1;
		}
		if (berth_container_status(c) == BERTH_STATUS_STOPPED)
			return 0;
		int64_t now = now_ms();
		if (now >= next) {
			int r = emit_stats(cli, c);
			if (r)
				return r;
			next = now + interval;
		}
		int64_t wait = next - now_ms();
		sleep_ms(wait < 0 ? 0 : wait < OOM_POLL_MS ? wait : OOM_POLL_MS);
	}
}
