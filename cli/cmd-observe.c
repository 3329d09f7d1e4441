/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Watching and changing running containers: top, stats, pause, unpause, update (and their
 * `berth container` forms), with docker 28's output, units and CPU % formula.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "format.h"
#include "runopts.h"
#include "tabwriter.h"
#include "units.h"
#include "base/banned.h"

/* ---- pause, unpause --------------------------------------------------------------------------- */

static int run_pause(struct cli *c, struct cli_args *a)
{
	return each_container(c, a, "POST", "/pause", NULL);
}

static int run_unpause(struct cli *c, struct cli_args *a)
{
	return each_container(c, a, "POST", "/unpause", NULL);
}

/* ---- top -------------------------------------------------------------------------------------- */

static int run_top(struct cli *c, struct cli_args *a)
{
	_cleanup_sbuf_ struct sbuf t = SBUF_INIT, args = SBUF_INIT, out = SBUF_INIT;
	struct cli_response r;
	struct tabwriter tw;
	size_t i, k;
	json_t *row, *v;

	for (int n = 1; n < a->argc; n++)
		sbuf_printf(&args, "%s%s", n > 1 ? " " : "", a->argv[n]);
	ctr_path(&t, a->argv[0], "/top");
	if (args.len) {
		sbuf_adds(&t, "?ps_args=");
		url_escape(&t, sbuf_str(&args));
	}
	if (cli_call(c, "GET", sbuf_str(&t), NULL, &r) < 0)
		return cli_fail(c, 1);
	tw_init(&tw, &out, 20, 1, 3, ' ');
	json_array_foreach (json_object_get(r.json, "Titles"), i, v) {
		if (i)
			tw_write(&tw, "\t", 1);
		tw_write(&tw, json_string_value(v) ?: "", strlen(json_string_value(v) ?: ""));
	}
	tw_write(&tw, "\n", 1);
	json_array_foreach (json_object_get(r.json, "Processes"), i, row) {
		json_array_foreach (row, k, v) {
			if (k)
				tw_write(&tw, "\t", 1);
			tw_write(&tw, json_string_value(v) ?: "",
				 strlen(json_string_value(v) ?: ""));
		}
		tw_write(&tw, "\n", 1);
	}
	tw_flush(&tw);
	tw_release(&tw);
	out_printf("%s", sbuf_str(&out));
	cli_response_release(&r);
	return 0;
}

/* ---- update ----------------------------------------------------------------------------------- */

static int run_update(struct cli *c, struct cli_args *a)
{
	_cleanup_json_ json_t *body = json_object();
	_cleanup_sbuf_ struct sbuf errs = SBUF_INIT, warns = SBUF_INIT;
	int64_t v;
	char *err = NULL;
	bool any = false;

	static const char *const byte_flags[][2] = {{"memory", "Memory"},
						    {"memory-reservation", "MemoryReservation"}};
	for (size_t i = 0; i < ARRAY_SIZE(byte_flags); i++)
		if (flag_set(a, byte_flags[i][0]) &&
		    ram_in_bytes(flag_str(a, byte_flags[i][0]), &v) == 0) {
			json_object_set_new(body, byte_flags[i][1], json_integer(v));
			any = true;
		}
	if (flag_set(a, "memory-swap")) {
		const char *s = flag_str(a, "memory-swap");
		if (strcmp(s, "-1") == 0)
			v = -1;
		else
			ram_in_bytes(s, &v);
		json_object_set_new(body, "MemorySwap", json_integer(v));
		any = true;
	}
	if (flag_set(a, "cpus")) {
		if (nano_cpus_parse(flag_str(a, "cpus"), &v, &err) < 0) {
			err_printf("invalid argument \"%s\" for \"--cpus\" flag: %s\n",
				   flag_str(a, "cpus"), err);
			free(err);
			return 125;
		}
		json_object_set_new(body, "NanoCpus", json_integer(v));
		any = true;
	}
	static const char *const int_flags[][2] = {{"cpu-shares", "CpuShares"},
						   {"cpu-quota", "CpuQuota"},
						   {"cpu-period", "CpuPeriod"},
						   {"blkio-weight", "BlkioWeight"}};
	for (size_t i = 0; i < ARRAY_SIZE(int_flags); i++)
		if (flag_set(a, int_flags[i][0])) {
			json_object_set_new(body, int_flags[i][1],
					    json_integer(flag_get(a, int_flags[i][0])->i));
			any = true;
		}
	if (flag_set(a, "pids-limit")) {
		json_object_set_new(body, "PidsLimit", json_integer(flag_get(a, "pids-limit")->i));
		any = true;
	}
	static const char *const str_flags[][2] = {{"cpuset-cpus", "CpusetCpus"},
						   {"cpuset-mems", "CpusetMems"}};
	for (size_t i = 0; i < ARRAY_SIZE(str_flags); i++)
		if (flag_set(a, str_flags[i][0])) {
			json_object_set_new(body, str_flags[i][1],
					    json_string(flag_str(a, str_flags[i][0])));
			any = true;
		}
	if (flag_set(a, "restart")) {
		/* opts.ParseRestartPolicy: the name is berthd's to check (docker's update) */
		const char *rs = flag_str(a, "restart"), *colon = strchr(rs, ':');
		int64_t count = 0;
		if (colon && colon == rs) {
			err_printf(
				"invalid restart policy format: no policy provided before colon\n");
			return 1;
		}
		if (colon && colon[1] &&
		    berth_parse_int64(colon + 1, INT32_MIN, INT32_MAX, &count) < 0) {
			err_printf("invalid restart policy format: maximum retry count must be an "
				   "integer\n");
			return 1;
		}
		json_object_set_new(body, "RestartPolicy",
				    json_pack("{s:s%,s:I}", "Name", rs,
					      colon ? (size_t)(colon - rs) : strlen(rs),
					      "MaximumRetryCount", (json_int_t)count));
		any = true;
	}
	if (!any) {
		/* docker's update: at least one flag */
		err_printf("you must provide one or more flags when using this command\n");
		return 1;
	}
	for (int i = 0; i < a->argc; i++) {
		_cleanup_sbuf_ struct sbuf t = SBUF_INIT;
		struct cli_response r;
		ctr_path(&t, a->argv[i], "/update");
		if (cli_call(c, "POST", sbuf_str(&t), body, &r) < 0) {
			sbuf_printf(&errs, "%s%s", errs.len ? "\n" : "", c->err);
			continue;
		}
		size_t k;
		json_t *w;
		out_printf("%s\n", a->argv[i]);
		json_array_foreach (json_object_get(r.json, "Warnings"), k, w)
			sbuf_printf(&warns, "%s\n", json_string_value(w) ?: "");
		cli_response_release(&r);
	}
	/* docker prints the daemon's warnings after the names, on stdout */
	if (warns.len)
		out_printf("%s", sbuf_str(&warns));
	if (errs.len) {
		err_printf("%s\n", sbuf_str(&errs));
		return 1;
	}
	return 0;
}

/* opts.NanoCPUs: any rational number whose billionth is whole (a negative one is berthd's) */
static int check_nano_cpus(const char *value, char **err)
{
	int64_t v;

	return nano_cpus_parse(value, &v, err);
}

/* ---- stats ------------------------------------------------------------------------------------ */

static const char *const stats_header_pairs[] = {
	"Container", "CONTAINER", "ID",	   "CONTAINER ID", "Name",
	"NAME",	     "CPUPerc",	  "CPU %", "MemUsage",	   "MEM USAGE / LIMIT",
	"MemPerc",   "MEM %",	  "NetIO", "NET I/O",	   "BlockIO",
	"BLOCK I/O", "PIDs",	  "PIDS",  NULL,
};

#define STATS_TABLE                                                                                \
	"table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t"        \
	"{{.BlockIO}}\t{{.PIDs}}"

static uint64_t ju(const json_t *o, const char *key)
{
	return (uint64_t)json_integer_value(json_object_get(o, key));
}

/* docker's calculateCPUPercentUnix, with prev the sample before (or the daemon's precpu) */
static double cpu_percent(const json_t *cur, const json_t *pre_cpu)
{
	const json_t *cpu = json_object_get(cur, "cpu_stats");
	double cpu_delta = (double)ju(json_object_get(cpu, "cpu_usage"), "total_usage") -
			   (double)ju(json_object_get(pre_cpu, "cpu_usage"), "total_usage");
	double sys_delta =
		(double)ju(cpu, "system_cpu_usage") - (double)ju(pre_cpu, "system_cpu_usage");
	double online = (double)ju(cpu, "online_cpus");

	if (online == 0)
		online = (double)json_array_size(
			json_object_get(json_object_get(cpu, "cpu_usage"), "percpu_usage"));
	if (sys_delta > 0 && cpu_delta > 0)
		return cpu_delta / sys_delta * online * 100.0;
	return 0;
}

/* docker's calculateMemUsageUnixNoCache */
static double mem_used(const json_t *m)
{
	const json_t *st = json_object_get(m, "stats");
	double usage = (double)ju(m, "usage");
	const json_t *v = json_object_get(st, "total_inactive_file");

	if (json_is_integer(v) && (double)json_integer_value(v) < usage)
		return usage - (double)json_integer_value(v);
	v = json_object_get(st, "inactive_file");
	if (json_is_integer(v) && (double)json_integer_value(v) < usage)
		return usage - (double)json_integer_value(v);
	return usage;
}

static void io_pair(struct sbuf *b, double x, double y)
{
	human_size(b, x, 3);
	sbuf_adds(b, " / ");
	human_size(b, y, 3);
}

/* One row's values: the methods of docker's statsContext */
static json_t *stats_values(const char *ref, const json_t *s, const json_t *pre_cpu, bool trunc)
{
	_cleanup_sbuf_ struct sbuf b = SBUF_INIT;
	const char *id = json_string_value(json_object_get(s, "id")) ?: "";
	const char *name = json_string_value(json_object_get(s, "name")) ?: "";
	const json_t *m = json_object_get(s, "memory_stats");
	double used = mem_used(m), limit = (double)ju(m, "limit");
	double rx = 0, tx = 0, br = 0, bw = 0;
	const char *key;
	json_t *v, *o = json_object();
	size_t i;
	bool running = strcmp(json_string_value(json_object_get(s, "read")) ?: "",
			      "0001-01-01T00:00:00Z") != 0;

	if (!o)
		return NULL;
	json_object_foreach ((json_t *)json_object_get(s, "networks"), key, v) {
		rx += (double)ju(v, "rx_bytes");
		tx += (double)ju(v, "tx_bytes");
	}
	json_array_foreach (
		json_object_get(json_object_get(s, "blkio_stats"), "io_service_bytes_recursive"), i,
		v) {
		const char *op = json_string_value(json_object_get(v, "op")) ?: "";
		if (*op == 'r' || *op == 'R')
			br += (double)ju(v, "value");
		else if (*op == 'w' || *op == 'W')
			bw += (double)ju(v, "value");
	}
	json_object_set_new(o, "Container", json_string(ref));
	json_object_set_new(o, "ID", json_string(trunc && strlen(id) > 12 ? "" : id));
	if (trunc && strlen(id) > 12)
		json_object_set_new(o, "ID", json_stringn(id, 12));
	json_object_set_new(o, "Name", json_string(*name == '/' ? name + 1 : name));
	if (!running) {
		/* docker shows dashes until a container has stats */
		json_object_set_new(o, "CPUPerc", json_string("0.00%"));
		json_object_set_new(o, "MemUsage", json_string("0B / 0B"));
		json_object_set_new(o, "MemPerc", json_string("0.00%"));
		json_object_set_new(o, "NetIO", json_string("0B / 0B"));
		json_object_set_new(o, "BlockIO", json_string("0B / 0B"));
		json_object_set_new(o, "PIDs", json_string("0"));
		return o;
	}
	sbuf_printf(&b, "%.2f%%", cpu_percent(s, pre_cpu));
	json_object_set_new(o, "CPUPerc", json_string(sbuf_str(&b)));
	b.len = 0;
	bytes_size(&b, used);
	sbuf_adds(&b, " / ");
	bytes_size(&b, limit);
	json_object_set_new(o, "MemUsage", json_string(sbuf_str(&b)));
	b.len = 0;
	sbuf_printf(&b, "%.2f%%", limit > 0 ? used / limit * 100.0 : 0.0);
	json_object_set_new(o, "MemPerc", json_string(sbuf_str(&b)));
	b.len = 0;
	io_pair(&b, rx, tx);
	json_object_set_new(o, "NetIO", json_string(sbuf_str(&b)));
	b.len = 0;
	io_pair(&b, br, bw);
	json_object_set_new(o, "BlockIO", json_string(sbuf_str(&b)));
	b.len = 0;
	sbuf_printf(&b, "%llu",
		    (unsigned long long)ju(json_object_get(s, "pids_stats"), "current"));
	json_object_set_new(o, "PIDs", json_string(sbuf_str(&b)));
	return o;
}

/* The containers to show: the arguments, or those berthd lists (running, or all). */
static int stats_targets(struct cli *c, struct cli_args *a, json_t **ret)
{
	json_t *ids = json_array();
	struct cli_response r;
	size_t i;
	json_t *s;

	if (!ids)
		return -1;
	if (a->argc) {
		for (int k = 0; k < a->argc; k++)
			json_array_append_new(ids, json_string(a->argv[k]));
		*ret = ids;
		return 0;
	}
	if (cli_call(c, "GET", flag_bool(a, "all") ? "/containers/json?all=1" : "/containers/json",
		     NULL, &r) < 0) {
		json_decref(ids);
		return -1;
	}
	json_array_foreach (r.json, i, s)
		json_array_append(ids, json_object_get(s, "Id"));
	cli_response_release(&r);
	*ret = ids;
	return 0;
}

/* One one-shot sample of each target (NULL where it failed: c->err says why). */
static json_t *stats_sample(struct cli *c, const json_t *ids, struct sbuf *errs)
{
	json_t *out = json_array();
	size_t i;
	json_t *id;

	json_array_foreach (ids, i, id) {
		_cleanup_sbuf_ struct sbuf t = SBUF_INIT;
		struct cli_response r;
		ctr_path(&t, json_string_value(id), "/stats?stream=false&one-shot=true");
		if (cli_call(c, "GET", sbuf_str(&t), NULL, &r) < 0) {
			if (errs)
				sbuf_printf(errs, "%s%s", errs->len ? "\n" : "", c->err);
			json_array_append_new(out, json_null());
			continue;
		}
		json_array_append(out, r.json);
		cli_response_release(&r);
	}
	return out;
}

static const json_t *pre_of(const json_t *prev, const json_t *cur)
{
	size_t i;
	json_t *p;
	const char *id = json_string_value(json_object_get(cur, "id"));

	json_array_foreach (prev, i, p)
		if (id && berth_streq(json_string_value(json_object_get(p, "id")), id))
			return json_object_get(p, "cpu_stats");
	return json_object_get(cur, "precpu_stats");
}

static int stats_render(struct cli_args *a, const char *format, const json_t *ids,
			const json_t *cur, const json_t *prev, bool clear)
{
	struct fmt_list f;
	struct header_obj h;
	char *err = NULL;
	size_t i;
	json_t *s;

	if (fmt_list_begin(&f, format, NULL, &err) < 0) {
		err_printf("%s\n", err);
		free(err);
		return -1;
	}
	json_array_foreach (cur, i, s) {
		if (!json_is_object(s))
			continue;
		struct ctx_obj o;
		json_t *vals = stats_values(json_string_value(json_array_get(ids, i)) ?: "", s,
					    pre_of(prev, s), !flag_bool(a, "no-trunc"));
		if (!vals)
			continue;
		ctx_obj_init(&o, "*container.statsContext", vals);
		int r = fmt_list_row(&f, tval_obj(&o.obj), &err);
		ctx_obj_release(&o);
		if (r < 0) {
			err_printf("%s\n", err);
			free(err);
			fmt_list_release(&f);
			return -1;
		}
	}
	if (clear)
		out_printf("\033[2J\033[H");
	header_init(&h, stats_header_pairs);
	fmt_list_end(&f, &h.obj);
	fmt_list_release(&f);
	out_flush();
	return 0;
}

static int run_stats(struct cli *c, struct cli_args *a)
{
	const char *format = flag_str(a, "format");
	bool stream = !flag_bool(a, "no-stream");
	bool tty = isatty(STDOUT_FILENO);
	_cleanup_json_ json_t *ids = NULL, *prev = NULL;

	if (!format || !*format) {
		const char *cfg =
			json_string_value(json_object_get(cli_config_file(c), "statsFormat"));
		format = cfg && *cfg ? cfg : "table";
	}
	if (strcmp(format, "table") == 0)
		format = STATS_TABLE;
	if (stats_targets(c, a, &ids) < 0)
		return cli_fail(c, 1);
	/* a first sample, then one a second later: CPU % is the change between the two */
	{
		_cleanup_sbuf_ struct sbuf errs = SBUF_INIT;
		prev = stats_sample(c, ids, &errs);
		if (errs.len) {
			err_printf("%s\n", sbuf_str(&errs));
			return 1;
		}
	}
	for (;;) {
		struct timespec ts = {1, 0};
		nanosleep(&ts, NULL);
		if (stream && !a->argc) {
			json_t *fresh = NULL;
			if (stats_targets(c, a, &fresh) == 0) {
				json_decref(ids);
				ids = fresh;
			}
		}
		json_t *cur = stats_sample(c, ids, NULL);
		if (!cur)
			return 1;
		int r = stats_render(a, format, ids, cur, prev, stream && tty);
		json_decref(prev);
		prev = cur;
		if (r < 0)
			return 1;
		if (!stream)
			return 0;
	}
}

/* ---- the commands ----------------------------------------------------------------------------- */

static const struct cli_flag no_flags[0];

static const struct cli_flag top_flags[0];

static const struct cli_flag stats_flags[] = {
	{"all", 'a', FK_BOOL, NULL, NULL, "Show all containers (default shows just running)"},
	{"format", 0, FK_STRING, "string", NULL,
	 "Format output using a custom template:\n'table':            Print output in table "
	 "format with column headers (default)\n'table TEMPLATE':   Print output in table format "
	 "using the given Go template\n'json':             Print in JSON format\n'TEMPLATE':       "
	 " "
	 " Print output using the given Go template."},
	{"no-stream", 0, FK_BOOL, NULL, NULL,
	 "Disable streaming stats and only pull the first result"},
	{"no-trunc", 0, FK_BOOL, NULL, NULL, "Do not truncate output"},
};

static const struct cli_flag update_flags[] = {
	{"blkio-weight", 0, FK_INT, "uint16", NULL,
	 "Block IO (relative weight), between 10 and 1000, or 0 to disable (default 0)"},
	{"cpu-period", 0, FK_INT, "int", NULL, "Limit CPU CFS (Completely Fair Scheduler) period"},
	{"cpu-quota", 0, FK_INT, "int", NULL, "Limit CPU CFS (Completely Fair Scheduler) quota"},
	{"cpu-shares", 'c', FK_INT, "int", NULL, "CPU shares (relative weight)"},
	{"cpus", 0, FK_CUSTOM, "decimal", NULL, "Number of CPUs", 0, check_nano_cpus},
	{"cpuset-cpus", 0, FK_STRING, "string", NULL,
	 "CPUs in which to allow execution (0-3, 0,1)"},
	{"cpuset-mems", 0, FK_STRING, "string", NULL,
	 "MEMs in which to allow execution (0-3, 0,1)"},
	{"memory", 'm', FK_CUSTOM, "bytes", NULL, "Memory limit", 0, check_bytes},
	{"memory-reservation", 0, FK_CUSTOM, "bytes", NULL, "Memory soft limit", 0, check_bytes},
	{"memory-swap", 0, FK_CUSTOM, "bytes", NULL,
	 "Swap limit equal to memory plus swap: -1 to enable unlimited swap", 0,
	 check_bytes_or_unlimited},
	{"pids-limit", 0, FK_INT, "int", NULL, "Tune container pids limit (set -1 for unlimited)"},
	{"restart", 0, FK_STRING, "string", NULL, "Restart policy to apply when a container exits"},
};

CTR_CMD(cmd_pause, cmd_container_pause, "pause", "CONTAINER [CONTAINER...]",
	"Pause all processes within one or more containers", "berth container pause, berth pause",
	no_flags, ARGS_MIN, 1, 0, run_pause, COMPLETE_CONTAINERS);
CTR_CMD(cmd_unpause, cmd_container_unpause, "unpause", "CONTAINER [CONTAINER...]",
	"Unpause all processes within one or more containers",
	"berth container unpause, berth unpause", no_flags, ARGS_MIN, 1, 0, run_unpause,
	COMPLETE_CONTAINERS);
/* one initializer for both names (a const object is no constant expression in C: clang
 * refuses to copy one at file scope); no_interspersed: what follows the container is ps's */
#define TOP_CMD                                                                                    \
	{                                                                                          \
		.name = "top", .use = "CONTAINER [ps OPTIONS]",                                    \
		.short_desc = "Display the running processes of a container",                      \
		.aliases_line = "berth container top, berth top", .flags = top_flags,              \
		.n_flags = 0, .args = ARGS_MIN, .min_args = 1, .run = run_top,                     \
		.no_interspersed = true, .complete = COMPLETE_CONTAINERS, .complete_max = 1,       \
	}
const struct cli_cmd cmd_top = TOP_CMD;
const struct cli_cmd cmd_container_top = TOP_CMD;
CTR_CMD(cmd_stats, cmd_container_stats, "stats", "[OPTIONS] [CONTAINER...]",
	"Display a live stream of container(s) resource usage statistics",
	"berth container stats, berth stats", stats_flags, ARGS_ANY, 0, 0, run_stats,
	COMPLETE_CONTAINERS);
CTR_CMD(cmd_update, cmd_container_update, "update", "[OPTIONS] CONTAINER [CONTAINER...]",
	"Update configuration of one or more containers", "berth container update, berth update",
	update_flags, ARGS_MIN, 1, 0, run_update, COMPLETE_CONTAINERS);
