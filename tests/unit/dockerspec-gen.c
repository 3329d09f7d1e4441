/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dockerspec-gen: a test tool (never installed) that runs lib/dockerspec's steps on one JSON
 * document read from stdin and prints the result, so that the Python tests can compare what
 * berth would run with what dockerd generated.
 *
 * stdin:  {"body": <POST /containers/create body>, "api": "1.44", "image_config": {...},
 *          "id": "<64 hex>", "rootfs": "/path", "hostname_path": ..., "hosts_path": ...,
 *          "resolv_conf_path": ..., "shm_path": ..., "init_path": ..., "cgroup_parent": ...,
 *          "host": {overrides of the probed host: "ncpu", "arch", "seccomp", ...}}
 * stdout: {"config": ..., "host_config": ..., "warnings": [...], "path": ..., "args": [...],
 *          "spec": {...}}  or  {"error": "...", "code": N, "step": "create|merge|spec"}
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dockerspec/dockerspec.h"

static int fail(const char *step, struct berth_error *e)
{
	json_t *o = json_pack("{s:s,s:i,s:s}", "error", e ? e->msg : "?", "code", e ? e->code : 0,
			      "step", step);
	char *s = json_dumps(o, JSON_COMPACT);
	puts(s);
	free(s);
	json_decref(o);
	berth_error_free(e);
	return 0;
}

static const char *opt(const json_t *in, const char *key)
{
	const json_t *v = json_object_get(in, key);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

int main(void)
{
	struct berth_dockerspec_host host = {0};
	struct berth_dockerspec_create c = {0};
	struct berth_dockerspec_device *devs = NULL;
	struct berth_error *err = NULL;
	struct berth_dockerspec_daemon d = {0};
	json_t *in, *out, *spec = NULL, *hosto;
	json_error_t je;
	char *path = NULL, **args = NULL;
	size_t n_devs = 0, i;
	json_t *e;

	in = json_loadf(stdin, 0, &je);
	if (!in) {
		fprintf(stderr, "dockerspec-gen: bad input: %s\n", je.text);
		return 2;
	}
	if (berth_dockerspec_host_probe(&host, &err) < 0)
		return fail("probe", err);
	hosto = json_object_get(in, "host");
	if (json_is_integer(json_object_get(hosto, "ncpu")))
		host.ncpu = (int)json_integer_value(json_object_get(hosto, "ncpu"));
	if (json_is_boolean(json_object_get(hosto, "seccomp")))
		host.seccomp = json_is_true(json_object_get(hosto, "seccomp"));
	if (json_is_boolean(json_object_get(hosto, "cgroup2")))
		host.cgroup2 = json_is_true(json_object_get(hosto, "cgroup2"));
	if (json_is_boolean(json_object_get(hosto, "no_thermal")) &&
	    json_is_true(json_object_get(hosto, "no_thermal"))) {
		berth_strv_free(host.thermal_throttle);
		host.thermal_throttle = NULL;
	}
	d.cgroup_parent = opt(in, "cgroup_parent");
	d.init_path = opt(in, "init_path");

	if (berth_dockerspec_create_normalize(json_object_get(in, "body"), opt(in, "api"), &host,
					      &d, &c, &err) < 0)
		return fail("create", err);
	/* what the daemon does once it has the id: the short id, or the host's name for
	 * NetworkMode host ("hostname" in the input stands for the host's) */
	if (!*(json_string_value(json_object_get(c.config, "Hostname")) ?: "")) {
		const char *net = json_string_value(json_object_get(c.host_config, "NetworkMode"));
		if (net && strcmp(net, "host") == 0)
			json_object_set_new(c.config, "Hostname",
					    json_string(opt(in, "hostname") ?: host.hostname));
		else
			json_object_set_new(c.config, "Hostname",
					    json_stringn(opt(in, "id") ?: "000000000000", 12));
	}
	if (berth_dockerspec_merge_image(c.config, json_object_get(in, "image_config"), &err) < 0)
		return fail("merge", err);
	if (berth_dockerspec_path_args(c.config, &path, &args, &err) < 0)
		return fail("merge", err);

	if (json_is_true(json_object_get(c.host_config, "Privileged")) &&
	    berth_dockerspec_host_devices("/dev", &devs, &n_devs, &err) < 0)
		return fail("devices", err);
	json_array_foreach (json_object_get(c.host_config, "Devices"), i, e) {
		const char *h = json_string_value(json_object_get(e, "PathOnHost"));
		const char *p = json_string_value(json_object_get(e, "PathInContainer"));
		const char *perm = json_string_value(json_object_get(e, "CgroupPermissions"));
		if (json_is_true(json_object_get(c.host_config, "Privileged")) && strcmp(h, p) == 0)
			continue;
		if (berth_dockerspec_devices_from_host(h, p, perm, &devs, &n_devs, &err) < 0)
			return fail("devices", err);
	}
	{
		struct berth_dockerspec_container ct = {
			.id = opt(in, "id")
				      ?: "000000000000000000000000000000000000000000000000000000000"
					 "0000000",
			.config = c.config,
			.host_config = c.host_config,
			.rootfs = opt(in, "rootfs") ?: "/",
			.hostname_path = opt(in, "hostname_path"),
			.hosts_path = opt(in, "hosts_path"),
			.resolv_conf_path = opt(in, "resolv_conf_path"),
			.shm_path = opt(in, "shm_path"),
			.devices = devs,
			.n_devices = n_devs,
		};
		if (berth_dockerspec_oci_spec(&ct, &d, &host, &spec, &err) < 0)
			return fail("spec", err);
	}
	out = json_pack("{s:O,s:O,s:O,s:s,s:[],s:o}", "config", c.config, "host_config",
			c.host_config, "warnings", c.warnings, "path", path, "args", "spec", spec);
	for (char **a = args; a && *a; a++)
		json_array_append_new(json_object_get(out, "args"), json_string(*a));
	{
		char *s = json_dumps(out, JSON_COMPACT);
		puts(s);
		free(s);
	}
	json_decref(out);
	json_decref(in);
	free(path);
	berth_strv_free(args);
	berth_dockerspec_devices_free(devs, n_devs);
	berth_dockerspec_create_release(&c);
	berth_dockerspec_host_release(&host);
	return 0;
}
