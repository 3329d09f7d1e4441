/* SPDX-License-Identifier: Apache-2.0 */
/* update [flags] ID: new resource limits from flags or from -r FILE (linux.resources JSON). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "base/banned.h"

enum {
	OPT_MEM = 256,
	OPT_MEM_RES,
	OPT_SWAP,
	OPT_KMEM,
	OPT_KMEM_TCP,
	OPT_QUOTA,
	OPT_PERIOD,
	OPT_SHARES,
	OPT_RT_PERIOD,
	OPT_RT_RUNTIME,
	OPT_CPUS,
	OPT_MEMS,
	OPT_PIDS,
	OPT_BLKIO,
	OPT_L3,
	OPT_MBW,
};

static const struct {
	int opt;
	const char *group, *key;
	bool size; /* a memory size ("64m", -1) rather than a plain integer */
} fields[] = {
	{OPT_MEM, "memory", "limit", true},
	{OPT_MEM_RES, "memory", "reservation", true},
	{OPT_SWAP, "memory", "swap", true},
	{OPT_KMEM, "memory", "kernel", true},
	{OPT_KMEM_TCP, "memory", "kernelTCP", true},
	{OPT_QUOTA, "cpu", "quota", false},
	{OPT_PERIOD, "cpu", "period", false},
	{OPT_SHARES, "cpu", "shares", false},
	{OPT_RT_PERIOD, "cpu", "realtimePeriod", false},
	{OPT_RT_RUNTIME, "cpu", "realtimeRuntime", false},
	{OPT_PIDS, "pids", "limit", false},
	{OPT_BLKIO, "blockIO", "weight", false},
};

static json_t *group(json_t *res, const char *name)
{
	json_t *g = json_object_get(res, name);

	if (!g) {
		g = json_object();
		json_object_set_new(res, name, g);
	}
	return g;
}

/* The long option that maps to ch, for messages (optarg may be a separate argv element). */
static const char *flag_name(const struct option *opts, int ch)
{
	for (; opts->name; opts++)
		if (opts->val == ch)
			return opts->name;
	return "?";
}

int cmd_update(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{"resources", required_argument, NULL, 'r'},
		{"memory", required_argument, NULL, OPT_MEM},
		{"memory-reservation", required_argument, NULL, OPT_MEM_RES},
		{"memory-swap", required_argument, NULL, OPT_SWAP},
		{"kernel-memory", required_argument, NULL, OPT_KMEM},
		{"kernel-memory-tcp", required_argument, NULL, OPT_KMEM_TCP},
		{"cpu-quota", required_argument, NULL, OPT_QUOTA},
		{"cpu-period", required_argument, NULL, OPT_PERIOD},
		{"cpu-shares", required_argument, NULL, OPT_SHARES},
		{"cpu-share", required_argument, NULL, OPT_SHARES},
		{"cpu-rt-period", required_argument, NULL, OPT_RT_PERIOD},
		{"cpu-rt-runtime", required_argument, NULL, OPT_RT_RUNTIME},
		{"cpuset-cpus", required_argument, NULL, OPT_CPUS},
		{"cpuset-mems", required_argument, NULL, OPT_MEMS},
		{"pids-limit", required_argument, NULL, OPT_PIDS},
		{"blkio-weight", required_argument, NULL, OPT_BLKIO},
		{"l3-cache-schema", required_argument, NULL, OPT_L3},
		{"mem-bw-schema", required_argument, NULL, OPT_MBW},
		{},
	};
	_cleanup_error_ struct berth_error *err = NULL;
	_cleanup_container_ struct berth_container *c = NULL;
	_cleanup_json_ json_t *res = json_object();
	const char *file = NULL;
	bool flags = false;
	int ch;

	CLI_PARSE(argc, argv, "r:", opts, ch)
	{
		if (ch == 'r') {
			file = optarg;
			continue;
		}
		if (ch == OPT_L3 || ch == OPT_MBW)
			return cli_usage(cli, "Intel RDT is not supported by this runtime");
		if (ch == OPT_CPUS || ch == OPT_MEMS) {
			json_object_set_new(group(res, "cpu"), ch == OPT_CPUS ? "cpus" : "mems",
					    json_string(optarg));
			flags = true;
			continue;
		}
		size_t i;
		for (i = 0; i < ARRAY_SIZE(fields); i++)
			if (fields[i].opt == ch)
				break;
		if (i == ARRAY_SIZE(fields))
			return cli_bad_flag(cli, argv, ch);
		int64_t v;
		int r = strcmp(optarg, "-1") == 0 ? (v = -1, 0)
			: fields[i].size	  ? berth_parse_size(optarg, &v)
					 : berth_parse_int64(optarg, INT64_MIN + 1, INT64_MAX, &v);
		if (r < 0)
			return cli_usage(cli, "invalid value '%s' for --%s", optarg,
					 flag_name(opts, ch));
		json_object_set_new(group(res, fields[i].group), fields[i].key, json_integer(v));
		flags = true;
	}
	if (cli_expect_args(cli, argc, argv, 1, "container id"))
		return 1;
	if (file && flags)
		return cli_usage(cli, "-r and resource flags cannot go together");
	if (file) {
		_cleanup_free_ char *data = NULL;
		size_t len;
		int fd = strcmp(file, "-") == 0 ? 0 : open(file, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			berth_error_sys(&err, errno, "open '%s'", file);
			return cli_fail(cli, err);
		}
		int r = berth_read_fd(fd, BERTH_SPEC_MAX_SIZE, &data, &len, &err);
		if (fd > 0)
			close(fd);
		json_decref(TAKE_PTR(res));
		if (r < 0 || berth_spec_json_parse(data, len, &res, &err) < 0) {
			berth_error_wrap(&err, "resources '%s'", file);
			return cli_fail(cli, err);
		}
		if (!json_is_object(res))
			return cli_usage(cli, "resources '%s': expected a JSON object", file);
	} else if (!flags) {
		return cli_usage(cli, "nothing to update: give resource flags or -r FILE");
	}
	if (berth_container_load(&cli->opts, argv[optind], &c, &err) < 0)
		return cli_fail(cli, err);
	if (berth_container_update(c, res, &err) < 0)
		return cli_fail(cli, err);
	return 0;
}
