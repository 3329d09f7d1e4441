/* SPDX-License-Identifier: Apache-2.0 */
/*
 * berth info: the client's facts and the daemon's /info in docker's layout, or --format over
 * docker's dockerInfo (the daemon's Info with ClientInfo beside it).
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "units.h"
#include "base/banned.h"

/* ---- docker's types ------------------------------------------------------------------------------ */

static const struct tschema_field plugins_fields[] = {
	{"Volume", NULL, 'a', false, NULL},
	{"Network", NULL, 'a', false, NULL},
	{"Authorization", NULL, 'a', false, NULL},
	{"Log", NULL, 'a', false, NULL},
};
static const struct tschema plugins_schema = {"system.PluginsInfo", plugins_fields, 4, false};

static const struct tschema_field commit_fields[] = {
	{"ID", NULL, 's', false, NULL},
	{"Expected", NULL, 's', true, NULL},
};
static const struct tschema commit_schema = {"system.Commit", commit_fields, 2, false};

static const struct tschema_field swarm_fields[] = {
	{"NodeID", NULL, 's', false, NULL},	    {"NodeAddr", NULL, 's', false, NULL},
	{"LocalNodeState", NULL, 's', false, NULL}, {"ControlAvailable", NULL, 'b', false, NULL},
	{"Error", NULL, 's', false, NULL},	    {"RemoteManagers", NULL, 'a', false, NULL},
	{"Nodes", NULL, 'i', true, NULL},	    {"Managers", NULL, 'i', true, NULL},
	{"Cluster", NULL, 'p', true, NULL},	    {"Warnings", NULL, 'a', true, NULL},
};
static const struct tschema swarm_schema = {"swarm.Info", swarm_fields, ARRAY_SIZE(swarm_fields),
					    false};

/* system.RuntimeWithStatus: the embedded Runtime's fields, then Status */
static const struct tschema_field runtime_fields[] = {
	{"Path", "path", 's', true, NULL},	  {"Args", "runtimeArgs", 'a', true, NULL},
	{"Type", "runtimeType", 's', true, NULL}, {"Options", "options", 'm', true, NULL},
	{"Status", "status", 'm', true, NULL},
};
static const struct tschema runtime_schema = {"system.RuntimeWithStatus", runtime_fields,
					      ARRAY_SIZE(runtime_fields), false};

static const struct tschema_field client_info_fields[] = {
	{"Debug", NULL, 'b', false, NULL},
	/* the embedded clientVersion's fields */
	{"Platform", NULL, 'p', true, NULL},
	CLIENT_VERSION_FIELDS,
	{"Context", NULL, 's', false, NULL},
	{"Plugins", NULL, 'a', false, NULL},
	{"Warnings", NULL, 'a', false, NULL},
};
static const struct tschema client_info_schema = {"system.clientInfo", client_info_fields,
						  ARRAY_SIZE(client_info_fields), false};

#define F(go, kind)                                                                                \
	{                                                                                          \
		go, NULL, kind, false, NULL                                                        \
	}
#define FJ(go, json, kind)                                                                         \
	{                                                                                          \
		go, json, kind, false, NULL                                                        \
	}
#define FO(go, kind)                                                                               \
	{                                                                                          \
		go, NULL, kind, true, NULL                                                         \
	}
static const struct tschema_field info_fields[] = {
	F("ID", 's'),
	F("Containers", 'i'),
	F("ContainersRunning", 'i'),
	F("ContainersPaused", 'i'),
	F("ContainersStopped", 'i'),
	F("Images", 'i'),
	F("Driver", 's'),
	F("DriverStatus", 'a'),
	FO("SystemStatus", 'a'),
	{"Plugins", NULL, 'o', false, &plugins_schema},
	F("MemoryLimit", 'b'),
	F("SwapLimit", 'b'),
	FO("KernelMemory", 'b'),
	FO("KernelMemoryTCP", 'b'),
	FJ("CPUCfsPeriod", "CpuCfsPeriod", 'b'),
	FJ("CPUCfsQuota", "CpuCfsQuota", 'b'),
	F("CPUShares", 'b'),
	F("CPUSet", 'b'),
	F("PidsLimit", 'b'),
	F("IPv4Forwarding", 'b'),
	F("Debug", 'b'),
	F("NFd", 'i'),
	F("OomKillDisable", 'b'),
	F("NGoroutines", 'i'),
	F("SystemTime", 's'),
	F("LoggingDriver", 's'),
	F("CgroupDriver", 's'),
	FO("CgroupVersion", 's'),
	F("NEventsListener", 'i'),
	F("KernelVersion", 's'),
	F("OperatingSystem", 's'),
	F("OSVersion", 's'),
	F("OSType", 's'),
	F("Architecture", 's'),
	F("IndexServerAddress", 's'),
	F("RegistryConfig", 'r'),
	F("NCPU", 'i'),
	F("MemTotal", 'i'),
	F("GenericResources", 'a'),
	F("DockerRootDir", 's'),
	FJ("HTTPProxy", "HttpProxy", 's'),
	FJ("HTTPSProxy", "HttpsProxy", 's'),
	F("NoProxy", 's'),
	F("Name", 's'),
	F("Labels", 'a'),
	F("ExperimentalBuild", 'b'),
	F("ServerVersion", 's'),
	{"Runtimes", NULL, 'm', false, &runtime_schema},
	F("DefaultRuntime", 's'),
	{"Swarm", NULL, 'o', false, &swarm_schema},
	F("LiveRestoreEnabled", 'b'),
	F("Isolation", 's'),
	F("InitBinary", 's'),
	{"ContainerdCommit", NULL, 'o', false, &commit_schema},
	{"RuncCommit", NULL, 'o', false, &commit_schema},
	{"InitCommit", NULL, 'o', false, &commit_schema},
	F("SecurityOptions", 'a'),
	FO("ProductLicense", 's'),
	FO("DefaultAddressPools", 'a'),
	FO("FirewallBackend", 'p'),
	F("CDISpecDirs", 'a'),
	FO("DiscoveredDevices", 'a'),
	FO("Containerd", 'p'),
	F("Warnings", 'a'),
	FO("ServerErrors", 'a'),
	{"ClientInfo", NULL, 'p', true, &client_info_schema},
	FO("ClientErrors", 'a'),
};
#undef F
#undef FJ
#undef FO
const struct tschema info_schema = {"system.dockerInfo", info_fields, ARRAY_SIZE(info_fields),
				    false};

/* needsServerInfo's trial object: only the client's part */
static const struct tschema_field sparse_fields[] = {
	{"ClientInfo", NULL, 'p', true, &client_info_schema},
	{"ClientErrors", NULL, 'a', true, NULL},
};
static const struct tschema sparse_schema = {"system.sparseInfo", sparse_fields, 2, false};

/* ---- docker's layout ----------------------------------------------------------------------------- */

static const char *js(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s ? s : "";
}

static int64_t ji(json_t *o, const char *k)
{
	return json_integer_value(json_object_get(o, k));
}

static const char *jb(json_t *o, const char *k)
{
	return json_is_true(json_object_get(o, k)) ? "true" : "false";
}

static void println_nonempty(const char *label, const char *value)
{
	if (*value)
		out_printf("%s %s\n", label, value);
}

static void join_strings(json_t *arr, const char *sep)
{
	size_t i;
	json_t *e;

	json_array_foreach (arr, i, e)
		out_printf("%s%s", i ? sep : "", json_string_value(e) ? json_string_value(e) : "");
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void print_server(struct cli *c, json_t *info)
{
	size_t i;
	json_t *e;

	out_printf(" Containers: %" PRId64 "\n", ji(info, "Containers"));
	out_printf("  Running: %" PRId64 "\n", ji(info, "ContainersRunning"));
	out_printf("  Paused: %" PRId64 "\n", ji(info, "ContainersPaused"));
	out_printf("  Stopped: %" PRId64 "\n", ji(info, "ContainersStopped"));
	out_printf(" Images: %" PRId64 "\n", ji(info, "Images"));
	println_nonempty(" Server Version:", js(info, "ServerVersion"));
	println_nonempty(" Storage Driver:", js(info, "Driver"));
	json_array_foreach (json_object_get(info, "DriverStatus"), i, e)
		out_printf("  %s: %s\n", json_string_value(json_array_get(e, 0)) ?: "",
			   json_string_value(json_array_get(e, 1)) ?: "");
	json_array_foreach (json_object_get(info, "SystemStatus"), i, e)
		out_printf(" %s: %s\n", json_string_value(json_array_get(e, 0)) ?: "",
			   json_string_value(json_array_get(e, 1)) ?: "");
	println_nonempty(" Logging Driver:", js(info, "LoggingDriver"));
	println_nonempty(" Cgroup Driver:", js(info, "CgroupDriver"));
	println_nonempty(" Cgroup Version:", js(info, "CgroupVersion"));

	json_t *plugins = json_object_get(info, "Plugins");
	out_puts(" Plugins:\n  Volume: ");
	join_strings(json_object_get(plugins, "Volume"), " ");
	out_puts("\n  Network: ");
	join_strings(json_object_get(plugins, "Network"), " ");
	out_puts("\n");
	if (json_array_size(json_object_get(plugins, "Authorization"))) {
		out_puts("  Authorization: ");
		join_strings(json_object_get(plugins, "Authorization"), " ");
		out_puts("\n");
	}
	out_puts("  Log: ");
	join_strings(json_object_get(plugins, "Log"), " ");
	out_puts("\n");
	if (json_array_size(json_object_get(info, "CDISpecDirs"))) {
		out_puts(" CDI spec directories:\n");
		json_array_foreach (json_object_get(info, "CDISpecDirs"), i, e)
			out_printf("  %s\n", json_string_value(e) ?: "");
	}
	json_t *swarm = json_object_get(info, "Swarm");
	out_printf(" Swarm: %s\n", js(swarm, "LocalNodeState"));
	json_t *runtimes = json_object_get(info, "Runtimes");
	if (json_object_size(runtimes)) {
		size_t n = 0;
		const char *key;
		const char **names = xcalloc(json_object_size(runtimes), sizeof(*names));
		json_object_foreach (runtimes, key, e)
			names[n++] = key;
		qsort(names, n, sizeof(*names), cmp_str);
		out_puts(" Runtimes:");
		for (size_t k = 0; k < n; k++)
			out_printf(" %s", names[k]);
		out_printf("\n Default Runtime: %s\n", js(info, "DefaultRuntime"));
		free(names);
	}
	if (strcmp(js(info, "OSType"), "linux") == 0) {
		out_printf(" Init Binary: %s\n", js(info, "InitBinary"));
		out_printf(" containerd version: %s\n",
			   js(json_object_get(info, "ContainerdCommit"), "ID"));
		out_printf(" runc version: %s\n", js(json_object_get(info, "RuncCommit"), "ID"));
		out_printf(" init version: %s\n", js(json_object_get(info, "InitCommit"), "ID"));
		json_t *so = json_object_get(info, "SecurityOptions");
		if (json_array_size(so)) {
			out_puts(" Security Options:\n");
			json_array_foreach (so, i, e) {
				const char *opt = json_string_value(e) ?: "";
				if (!strchr(opt, '=')) {
					out_printf("  %s\n", opt);
					continue;
				}
				/* "name=seccomp,profile=builtin" */
				_cleanup_free_ char *copy = xstrdup(opt);
				const char *name = "", *profile = NULL;
				for (char *save = NULL, *kv = strtok_r(copy, ",", &save); kv;
				     kv = strtok_r(NULL, ",", &save)) {
					char *eq = strchr(kv, '=');
					if (!eq)
						continue;
					*eq = '\0';
					if (strcmp(kv, "name") == 0)
						name = eq + 1;
					else if (strcmp(kv, "profile") == 0)
						profile = eq + 1;
				}
				out_printf("  %s\n", name);
				if (profile)
					out_printf("   Profile: %s\n", profile);
			}
		}
	}
	if (strcmp(js(info, "OSType"), "windows") == 0)
		out_printf(" Default Isolation: %s\n", js(info, "Isolation"));
	println_nonempty(" Kernel Version:", js(info, "KernelVersion"));
	println_nonempty(" Operating System:", js(info, "OperatingSystem"));
	println_nonempty(" OSType:", js(info, "OSType"));
	println_nonempty(" Architecture:", js(info, "Architecture"));
	out_printf(" CPUs: %" PRId64 "\n", ji(info, "NCPU"));
	_cleanup_sbuf_ struct sbuf mem = SBUF_INIT;
	bytes_size(&mem, (double)ji(info, "MemTotal"));
	out_printf(" Total Memory: %s\n", sbuf_str(&mem));
	println_nonempty(" Name:", js(info, "Name"));
	println_nonempty(" ID:", js(info, "ID"));
	out_printf(" Docker Root Dir: %s\n", js(info, "DockerRootDir"));
	out_printf(" Debug Mode: %s\n", jb(info, "Debug"));
	if (json_is_true(json_object_get(info, "Debug")) || c->debug) {
		out_printf("  File Descriptors: %" PRId64 "\n", ji(info, "NFd"));
		out_printf("  Goroutines: %" PRId64 "\n", ji(info, "NGoroutines"));
		out_printf("  System Time: %s\n", js(info, "SystemTime"));
		out_printf("  EventsListeners: %" PRId64 "\n", ji(info, "NEventsListener"));
	}
	println_nonempty(" HTTP Proxy:", js(info, "HttpProxy"));
	println_nonempty(" HTTPS Proxy:", js(info, "HttpsProxy"));
	println_nonempty(" No Proxy:", js(info, "NoProxy"));
	json_t *labels = json_object_get(info, "Labels");
	if (json_array_size(labels)) {
		out_puts(" Labels:\n");
		json_array_foreach (labels, i, e)
			out_printf("  %s\n", json_string_value(e) ?: "");
	}
	out_printf(" Experimental: %s\n", jb(info, "ExperimentalBuild"));
	json_t *reg = json_object_get(info, "RegistryConfig");
	json_t *cidrs = json_object_get(reg, "InsecureRegistryCIDRs");
	json_t *indexes = json_object_get(reg, "IndexConfigs");
	if (json_array_size(cidrs) || json_object_size(indexes)) {
		const char *key;
		out_puts(" Insecure Registries:\n");
		json_object_foreach (indexes, key, e)
			if (!json_is_true(json_object_get(e, "Secure")))
				out_printf("  %s\n", js(e, "Name"));
		json_array_foreach (cidrs, i, e)
			out_printf("  %s\n", json_string_value(e) ?: "");
	}
	json_t *mirrors = json_object_get(reg, "Mirrors");
	if (json_array_size(mirrors)) {
		out_puts(" Registry Mirrors:\n");
		json_array_foreach (mirrors, i, e)
			out_printf("  %s\n", json_string_value(e) ?: "");
	}
	out_printf(" Live Restore Enabled: %s\n", jb(info, "LiveRestoreEnabled"));
	if (*js(info, "ProductLicense"))
		out_printf(" Product License: %s\n", js(info, "ProductLicense"));
	json_t *pools = json_object_get(info, "DefaultAddressPools");
	if (json_array_size(pools)) {
		out_puts(" Default Address Pools:\n");
		json_array_foreach (pools, i, e)
			out_printf("   Base: %s, Size: %" PRId64 "\n", js(e, "Base"),
				   ji(e, "Size"));
	}
	out_puts("\n");
	json_array_foreach (json_object_get(info, "Warnings"), i, e)
		err_printf("%s\n", json_string_value(e) ?: "");
}

static json_t *client_info(struct cli *c, bool with_api)
{
	json_t *ci = json_object(), *v = client_version_json(c, NULL);
	const char *key;
	json_t *e;

	json_object_set_new(ci, "Debug", json_boolean(c->debug));
	json_object_foreach (v, key, e)
		json_object_set(ci, key, e);
	json_decref(v);
	if (with_api && c->version_known)
		json_object_set_new(ci, "ApiVersion", json_string(c->api_version));
	json_object_set_new(ci, "Plugins", json_array());
	json_object_set_new(ci, "Warnings", json_null());
	return ci;
}

/* Can the template be rendered from the client's part alone?  Then berthd is not asked. */
static bool needs_server(struct cli *c, const struct tmpl *t, const char *format)
{
	bool placeholder = false;

	for (const char *p = format; *p; p++)
		if (p[0] == '.' && ((p[1] >= 'a' && p[1] <= 'z') || (p[1] >= 'A' && p[1] <= 'Z')))
			placeholder = true;
	if (!placeholder)
		return true;
	_cleanup_json_ json_t *sparse = json_object();
	_cleanup_sbuf_ struct sbuf sink = SBUF_INIT;
	char *err = NULL;
	json_object_set_new(sparse, "ClientInfo", client_info(c, false));
	if (tmpl_exec(t, tval_json(sparse, &sparse_schema), TMPL_FUNCS_BASIC, &sink, &err) < 0) {
		free(err);
		return true;
	}
	return false;
}

static int run_info(struct cli *c, struct cli_args *a)
{
	const char *format = flag_str(a, "format");
	struct cli_response r = {0};
	int code = 0;

	if (format && *format) {
		_cleanup_tmpl_ struct tmpl *t = NULL;
		_cleanup_json_ json_t *dot = NULL;
		_cleanup_sbuf_ struct sbuf out = SBUF_INIT;
		char *err = NULL;
		if (strcmp(format, "json") == 0)
			format = "{{json .}}";
		if (tmpl_parse("", format, NULL, &t, &err) < 0) {
			err_printf("template parsing error: %s\n", err);
			free(err);
			return 64;
		}
		if (needs_server(c, t, format)) {
			if (cli_call(c, "GET", "/info", NULL, &r) < 0) {
				if (c->err_status) {
					/* a daemon error shows beside the output, as docker's */
					err_printf("%s\n", c->err);
				} else {
					return cli_fail(c, 1);
				}
			}
		}
		dot = json_is_object(r.json) ? json_incref(r.json) : json_object();
		cli_response_release(&r);
		if (c->err_status) {
			json_t *errs = json_array();
			json_array_append_new(errs, json_string(c->err));
			json_object_set_new(dot, "ServerErrors", errs);
		}
		json_object_set_new(dot, "ClientInfo", client_info(c, false));
		if (tmpl_exec(t, tval_json(dot, &info_schema), TMPL_FUNCS_BASIC, &out, &err) < 0) {
			out_write(sbuf_str(&out), out.len);
			out_puts("\n");
			err_printf("%s\n", err);
			free(err);
			return 1;
		}
		out_write(sbuf_str(&out), out.len);
		out_puts("\n");
		return 0;
	}

	int rc = cli_call(c, "GET", "/info", NULL, &r);
	bool conn_failed = rc < 0 && !c->err_status;
	out_puts("Client:\n");
	out_printf(" Version:    %s\n", BERTH_VERSION);
	out_printf(" Context:    %s\n", c->context_name ? c->context_name : "default");
	out_printf(" Debug Mode: %s\n", c->debug ? "true" : "false");
	out_puts("\nServer:\n");
	if (rc == 0 && json_is_object(r.json)) {
		print_server(c, r.json);
	} else if (!conn_failed) {
		err_printf("ERROR: %s\n", c->err ? c->err : "the daemon's /info is not JSON");
		err_printf("errors pretty printing info\n");
		code = 1;
	}
	cli_response_release(&r);
	if (conn_failed)
		return cli_fail(c, 1);
	return code;
}

static const struct cli_flag info_flags[] = {
	{"format", 'f', FK_STRING, "string", NULL, FORMAT_HELP_INSPECT},
};

const struct cli_cmd cmd_info = {
	.name = "info",
	.use = "[OPTIONS]",
	.short_desc = "Show what the daemon runs on and holds",
	.aliases_line = "berth system info, berth info",
	.flags = info_flags,
	.n_flags = ARRAY_SIZE(info_flags),
	.args = ARGS_NONE,
	.run = run_info,
	.top = 12,
};
CLI_CMD_TWIN(cmd_system_info, cmd_info);
