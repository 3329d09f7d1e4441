/* SPDX-License-Identifier: Apache-2.0 */
/*
 * events [--stats] [--interval D] ID: runc's event stream as JSON lines.  --stats prints one
 * {"type":"stats","id":ID,"data":{...}} and exits.  Otherwise one event loop: stats every
 * interval, {"type":"oom","id":ID} as soon as the OOM killer has killed a process of the
 * container (lib/cgroup's OOM watch, woken by the kernel), until the container's init exits (its
 * pidfd).  The "data" object is built here from lib/cgroup's struct berth_cgroup_stats, in the
 * shape of runc's.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* JSON integers are signed: the kernel's "no limit" (UINT64_MAX) shows as INT64_MAX. */
static json_int_t jint(uint64_t v)
{
	return v > INT64_MAX ? INT64_MAX : (json_int_t)v;
}

static json_t *mem_counter(const struct berth_cgroup_mem_counter *m)
{
	return json_pack("{s:I,s:I,s:I,s:I}", "usage", jint(m->usage), "max", jint(m->max_usage),
			 "limit", jint(m->limit), "failcnt", jint(m->failcnt));
}

static json_t *io_entries(const struct berth_cgroup_io_entry *e, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < n; i++)
		json_array_append_new(a, json_pack("{s:I,s:I,s:s,s:I}", "major",
						   (json_int_t)e[i].major, "minor",
						   (json_int_t)e[i].minor, "op", e[i].op, "value",
						   jint(e[i].value)));
	return a;
}

/* runc's `events --stats` "data" object */
static json_t *stats_json(const struct berth_cgroup_stats *st)
{
	json_t *percpu = json_array(), *raw = json_object(), *hugetlb = json_object();

	for (size_t i = 0; percpu && i < st->cpu.n_percpu; i++)
		json_array_append_new(percpu, json_integer(jint(st->cpu.percpu[i])));
	for (size_t i = 0; raw && i < st->memory.n_stat; i++)
		json_object_set_new(raw, st->memory.stat[i].key,
				    json_integer(jint(st->memory.stat[i].value)));
	for (size_t i = 0; hugetlb && i < st->n_hugetlb; i++)
		json_object_set_new(hugetlb, st->hugetlb[i].page_size,
				    json_pack("{s:I,s:I,s:I}", "usage", jint(st->hugetlb[i].usage),
					      "max", jint(st->hugetlb[i].max_usage), "failcnt",
					      jint(st->hugetlb[i].failcnt)));
	return json_pack("{s:{s:{s:I,s:o*,s:I,s:I},s:{s:I,s:I,s:I}},"
			 "s:{s:I,s:o*,s:o*,s:o*,s:o*,s:o*},"
			 "s:{s:I,s:I},s:{s:o*,s:o*},s:o*}",
			 "cpu", "usage", "total", jint(st->cpu.total), "percpu", percpu, "kernel",
			 jint(st->cpu.system), "user", jint(st->cpu.user), "throttling", "periods",
			 jint(st->cpu.periods), "throttledPeriods", jint(st->cpu.throttled_periods),
			 "throttledTime", jint(st->cpu.throttled_time), "memory", "cache",
			 jint(st->memory.cache), "usage", mem_counter(&st->memory.usage), "swap",
			 mem_counter(&st->memory.swap), "kernel", mem_counter(&st->memory.kernel),
			 "kernelTCP", mem_counter(&st->memory.kernel_tcp), "raw", raw, "pids",
			 "current", jint(st->pids.current), "limit", jint(st->pids.limit), "blkio",
			 "ioServiceBytesRecursive", io_entries(st->io_bytes, st->n_io_bytes),
			 "ioServicedRecursive", io_entries(st->io_ops, st->n_io_ops), "hugetlb",
			 hugetlb);
}

static int print_event(const char *type, const char *id, json_t *data)
{
	_cleanup_json_ json_t *ev = json_pack("{s:s, s:s}", "type", type, "id", id);

	if (!ev)
		return -ENOMEM;
	if (data)
		json_object_set_new(ev, "data", data);
	json_dumpf(ev, stdout, JSON_COMPACT);
	putchar('\n');
	fflush(stdout);
	return 0;
}

static int print_stats(struct berth_container *c, struct berth_error **err)
{
	struct berth_cgroup_stats *st = NULL;
	json_t *data;
	int r = berth_cgroup_stats(c->cgroup, &st, err);

	if (r < 0)
		return r;
	data = stats_json(st);
	berth_cgroup_stats_free(st);
	if (!data)
		return berth_error_set(err, ENOMEM, "out of memory");
	return print_event("stats", c->id, data);
}

struct stream {
	struct cli *cli;
	struct berth_container *c;
	struct berth_cgroup_events *oom;
	struct berth_loop_source *oom_src;
};

static int on_tick(struct berth_loop_source *s, void *data, struct berth_error **err)
{
	struct stream *x = data;
	_cleanup_error_ struct berth_error *e = NULL;

	/* runc logs a stats error and goes on: the cgroup may be going away with the container */
	if (print_stats(x->c, &e) < 0)
		cli_log(x->cli, "error", "%s", e->msg);
	return 0;
}

static int on_oom(struct berth_loop_source *s, int fd, uint32_t revents, void *data,
		  struct berth_error **err)
{
	struct stream *x = data;
	struct berth_cgroup_event_counts n;
	int r = berth_cgroup_events_read(x->oom, &n, err);

	if (r < 0)
		return r;
	/*
	 * One "oom" event per wake-up that found processes killed, as containerd reports TaskOOM
	 * on v2: "oom" counts the charges that hit the limit, which may be several for one kill,
	 * while the kill count says what the container lost.  An OOM that kills nothing (v1 with
	 * the OOM killer disabled: the processes wait for memory) is not an event.
	 */
	if (n.oom_kill)
		print_event("oom", x->c->id, NULL);
	if (n.gone)
		berth_loop_source_freep(&x->oom_src);
	return 0;
}

static int on_exit_(struct berth_loop_source *s, struct berth_pidfd *p, void *data,
		    struct berth_error **err)
{
	struct stream *x = data;

	/* an OOM kill that ended the container is reported before we go */
	if (x->oom_src)
		on_oom(x->oom_src, -1, 0, x, err);
	berth_loop_quit(berth_loop_source_loop(s), 0);
	return 0;
}

static int stream(struct cli *cli, struct berth_container *c, int64_t interval_ms)
{
	_cleanup_error_ struct berth_error *err = NULL;
	_cleanup_pidfd_ struct berth_pidfd *init = NULL;
	_cleanup_loop_ struct berth_loop *l = NULL;
	struct stream x = {.cli = cli, .c = c};
	int r;

	r = berth_container_open_pidfd(c, &init, &err);
	if (r == -ESRCH)
		return 0; /* stopped already: nothing to stream */
	if (r < 0)
		return cli_fail(cli, err);
	r = berth_loop_new(&l, &err);
	if (r == 0)
		r = berth_loop_add_child(l, init, on_exit_, &x, NULL, &err);
	if (r < 0)
		return cli_fail(cli, err);
	if (berth_cgroup_events_open(c->cgroup, &x.oom, &err) == 0) {
		r = berth_loop_add_io(l, berth_cgroup_events_fd(x.oom), EPOLLIN, on_oom, &x,
				      &x.oom_src, &err);
	} else {
		/* no memory controller: stats only */
		cli_log(cli, "debug", "no OOM events: %s", err->msg);
		berth_error_freep(&err);
	}
	if (r == 0 && print_stats(c, &err) < 0) {
		cli_log(cli, "error", "%s", err->msg);
		berth_error_freep(&err);
	}
	if (r == 0)
		r = berth_loop_add_timer(l, (uint64_t)interval_ms * 1000,
					 (uint64_t)interval_ms * 1000, on_tick, &x, NULL, &err);
	if (r == 0)
		r = berth_loop_run(l, &err);
	berth_loop_source_freep(&x.oom_src);
	berth_cgroup_events_free(x.oom);
	if (r < 0)
		return cli_fail(cli, err);
	return 0;
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
			return cli_bad_flag(cli, argv, ch);
		}
	}
	if (cli_expect_args(cli, argc, argv, 1, "container id"))
		return 1;
	if (berth_container_load(&cli->opts, argv[optind], &c, &err) < 0)
		return cli_fail(cli, err);
	if (berth_container_status(c) == BERTH_STATUS_STOPPED)
		return once ? cli_usage(cli, "container '%s' is not running", c->id) : 0;
	if (!once)
		return stream(cli, c, interval);
	if (print_stats(c, &err) < 0)
		return cli_fail(cli, err);
	return 0;
}
