/* SPDX-License-Identifier: Apache-2.0 */
/*
 * POST /containers/create: the request checked and completed as dockerd 28 does
 * (api/server/router/container, runconfig, daemon/create.go, daemon/container.go,
 * daemon/daemon_unix.go).  Messages are dockerd's, word for word, so that clients and scripts
 * that match on them keep working.
 */
#include <errno.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "dockerspec-internal.h"
#include "base/banned.h"

/* ---- small accessors --------------------------------------------------------------------- */

const char *dockerspec_str(const json_t *obj, const char *key)
{
	const json_t *v = obj ? json_object_get(obj, key) : NULL;
	return json_is_string(v) ? json_string_value(v) : "";
}

int64_t dockerspec_int(const json_t *obj, const char *key)
{
	const json_t *v = obj ? json_object_get(obj, key) : NULL;
	return json_is_integer(v) ? (int64_t)json_integer_value(v) : 0;
}

bool dockerspec_bool(const json_t *obj, const char *key)
{
	const json_t *v = obj ? json_object_get(obj, key) : NULL;
	return json_is_true(v);
}

static int oom(struct berth_error **err)
{
	return berth_error_set(err, ENOMEM, "out of memory");
}

static int set_str(json_t *obj, const char *key, const char *s, struct berth_error **err)
{
	if (json_object_set_new(obj, key, json_string(s)) < 0)
		return oom(err);
	return 0;
}

static int set_int(json_t *obj, const char *key, int64_t v, struct berth_error **err)
{
	if (json_object_set_new(obj, key, json_integer(v)) < 0)
		return oom(err);
	return 0;
}

static int warn(json_t *warnings, const char *msg)
{
	return json_array_append_new(warnings, json_string(msg)) < 0 ? -ENOMEM : 0;
}

/* ---- field types, as Go's encoding/json would refuse them -------------------------------- */

enum kind {
	K_STR,	    /* string */
	K_BOOL,	    /* bool */
	K_BOOLP,    /* *bool */
	K_INT,	    /* int64 */
	K_INTP,	    /* *int64 */
	K_INT32,    /* int */
	K_UINT16,   /* uint16 */
	K_STRV,	    /* []string */
	K_STRSLICE, /* strslice.StrSlice: a string or []string */
	K_MAPSTR,   /* map[string]string */
	K_SET,	    /* map[string]struct{} */
	K_OBJ,	    /* a struct */
	K_ARR,	    /* a slice of structs */
	K_UINT2,    /* [2]uint */
};

struct field {
	const char *name;
	enum kind kind;
};

static const struct field config_fields[] = {
	{"Hostname", K_STR},	     {"Domainname", K_STR},    {"User", K_STR},
	{"AttachStdin", K_BOOL},     {"AttachStdout", K_BOOL}, {"AttachStderr", K_BOOL},
	{"ExposedPorts", K_SET},     {"Tty", K_BOOL},	       {"OpenStdin", K_BOOL},
	{"StdinOnce", K_BOOL},	     {"Env", K_STRV},	       {"Cmd", K_STRSLICE},
	{"Healthcheck", K_OBJ},	     {"ArgsEscaped", K_BOOL},  {"Image", K_STR},
	{"Volumes", K_SET},	     {"WorkingDir", K_STR},    {"Entrypoint", K_STRSLICE},
	{"NetworkDisabled", K_BOOL}, {"MacAddress", K_STR},    {"OnBuild", K_STRV},
	{"Labels", K_MAPSTR},	     {"StopSignal", K_STR},    {"StopTimeout", K_INTP},
	{"Shell", K_STRSLICE},
};

static const struct field host_fields[] = {
	{"Binds", K_STRV},
	{"ContainerIDFile", K_STR},
	{"LogConfig", K_OBJ},
	{"NetworkMode", K_STR},
	{"PortBindings", K_OBJ},
	{"RestartPolicy", K_OBJ},
	{"AutoRemove", K_BOOL},
	{"VolumeDriver", K_STR},
	{"VolumesFrom", K_STRV},
	{"ConsoleSize", K_UINT2},
	{"Annotations", K_MAPSTR},
	{"CapAdd", K_STRSLICE},
	{"CapDrop", K_STRSLICE},
	{"CgroupnsMode", K_STR},
	{"Dns", K_STRV},
	{"DnsOptions", K_STRV},
	{"DnsSearch", K_STRV},
	{"ExtraHosts", K_STRV},
	{"GroupAdd", K_STRV},
	{"IpcMode", K_STR},
	{"Cgroup", K_STR},
	{"Links", K_STRV},
	{"OomScoreAdj", K_INT32},
	{"PidMode", K_STR},
	{"Privileged", K_BOOL},
	{"PublishAllPorts", K_BOOL},
	{"ReadonlyRootfs", K_BOOL},
	{"SecurityOpt", K_STRV},
	{"StorageOpt", K_MAPSTR},
	{"Tmpfs", K_MAPSTR},
	{"UTSMode", K_STR},
	{"UsernsMode", K_STR},
	{"ShmSize", K_INT},
	{"Sysctls", K_MAPSTR},
	{"Runtime", K_STR},
	{"Isolation", K_STR},
	{"CpuShares", K_INT},
	{"Memory", K_INT},
	{"NanoCpus", K_INT},
	{"CgroupParent", K_STR},
	{"BlkioWeight", K_UINT16},
	{"BlkioWeightDevice", K_ARR},
	{"BlkioDeviceReadBps", K_ARR},
	{"BlkioDeviceWriteBps", K_ARR},
	{"BlkioDeviceReadIOps", K_ARR},
	{"BlkioDeviceWriteIOps", K_ARR},
	{"CpuPeriod", K_INT},
	{"CpuQuota", K_INT},
	{"CpuRealtimePeriod", K_INT},
	{"CpuRealtimeRuntime", K_INT},
	{"CpusetCpus", K_STR},
	{"CpusetMems", K_STR},
	{"Devices", K_ARR},
	{"DeviceCgroupRules", K_STRV},
	{"DeviceRequests", K_ARR},
	{"KernelMemory", K_INT},
	{"KernelMemoryTCP", K_INT},
	{"MemoryReservation", K_INT},
	{"MemorySwap", K_INT},
	{"MemorySwappiness", K_INTP},
	{"OomKillDisable", K_BOOLP},
	{"PidsLimit", K_INTP},
	{"Ulimits", K_ARR},
	{"CpuCount", K_INT},
	{"CpuPercent", K_INT},
	{"IOMaximumIOps", K_INT},
	{"IOMaximumBandwidth", K_INT},
	{"Mounts", K_ARR},
	{"MaskedPaths", K_STRV},
	{"ReadonlyPaths", K_STRV},
	{"Init", K_BOOLP},
};

static const char *json_kind(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "object";
	case JSON_ARRAY:
		return "array";
	case JSON_STRING:
		return "string";
	case JSON_INTEGER:
	case JSON_REAL:
		return "number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "bool";
	default:
		return "null";
	}
}

static int type_error(const json_t *v, const char *path, const char *gotype,
		      struct berth_error **err)
{
	if (json_is_real(v))
		return berth_error_set(
			err, EINVAL,
			"invalid JSON: json: cannot unmarshal number %g into Go struct "
			"field %s of type %s",
			json_real_value(v), path, gotype);
	return berth_error_set(err, EINVAL,
			       "invalid JSON: json: cannot unmarshal %s into Go struct field %s of "
			       "type %s",
			       json_kind(v), path, gotype);
}

static int check_strings(const json_t *arr, const char *path, struct berth_error **err)
{
	size_t i;
	json_t *e;

	json_array_foreach (arr, i, e)
		if (!json_is_string(e))
			return type_error(e, path, "string", err);
	return 0;
}

static int check_field(json_t *obj, const struct field *f, const char *path,
		       struct berth_error **err)
{
	json_t *v = json_object_get(obj, f->name);
	const char *key;
	json_t *e;

	if (!v || json_is_null(v))
		return 0;
	switch (f->kind) {
	case K_STR:
		return json_is_string(v) ? 0 : type_error(v, path, "string", err);
	case K_BOOL:
	case K_BOOLP:
		return json_is_boolean(v) ? 0 : type_error(v, path, "bool", err);
	case K_INT:
	case K_INTP:
		return json_is_integer(v) ? 0 : type_error(v, path, "int64", err);
	case K_INT32:
		if (!json_is_integer(v) || json_integer_value(v) < INT32_MIN ||
		    json_integer_value(v) > INT32_MAX)
			return type_error(v, path, "int", err);
		return 0;
	case K_UINT16:
		if (!json_is_integer(v) || json_integer_value(v) < 0 ||
		    json_integer_value(v) > UINT16_MAX)
			return type_error(v, path, "uint16", err);
		return 0;
	case K_STRV:
		if (!json_is_array(v))
			return type_error(v, path, "[]string", err);
		return check_strings(v, path, err);
	case K_STRSLICE:
		/* strslice.StrSlice takes "x" for ["x"]; keep one shape from here on */
		if (json_is_string(v)) {
			json_t *a = json_pack("[O]", v);
			if (!a || json_object_set_new(obj, f->name, a) < 0)
				return oom(err);
			return 0;
		}
		if (!json_is_array(v))
			return type_error(v, path, "strslice.StrSlice", err);
		return check_strings(v, path, err);
	case K_MAPSTR:
		if (!json_is_object(v))
			return type_error(v, path, "map[string]string", err);
		json_object_foreach (v, key, e)
			if (!json_is_string(e))
				return type_error(e, path, "string", err);
		return 0;
	case K_SET:
		if (!json_is_object(v))
			return type_error(v, path, "map[string]struct {}", err);
		json_object_foreach (v, key, e)
			if (!json_is_object(e) && !json_is_null(e))
				return type_error(e, path, "struct {}", err);
		return 0;
	case K_OBJ:
		return json_is_object(v) ? 0 : type_error(v, path, "struct", err);
	case K_ARR:
		return json_is_array(v) ? 0 : type_error(v, path, "slice", err);
	case K_UINT2:
		if (!json_is_array(v) || json_array_size(v) != 2)
			return type_error(v, path, "[2]uint", err);
		for (size_t i = 0; i < 2; i++) {
			e = json_array_get(v, i);
			if (!json_is_integer(e) || json_integer_value(e) < 0)
				return type_error(e, path, "uint", err);
		}
		return 0;
	}
	return 0;
}

static int check_fields(json_t *obj, const struct field *fields, size_t n, const char *prefix,
			struct berth_error **err)
{
	for (size_t i = 0; i < n; i++) {
		char path[128];
		int r;

		snprintf(path, sizeof(path), "%s%s", prefix, fields[i].name);
		r = check_field(obj, &fields[i], path, err);
		if (r < 0)
			return r;
	}
	return 0;
}

/* the members of an array of objects, each with its own typed fields */
static int check_array_of(json_t *hc, const char *name, const struct field *fields, size_t n,
			  struct berth_error **err)
{
	json_t *arr = json_object_get(hc, name);
	char prefix[96];
	size_t i;
	json_t *e;
	int r;

	if (!json_is_array(arr))
		return 0;
	snprintf(prefix, sizeof(prefix), "CreateRequest.HostConfig.%s.", name);
	json_array_foreach (arr, i, e) {
		if (!json_is_object(e))
			return type_error(e, prefix, "struct", err);
		r = check_fields(e, fields, n, prefix, err);
		if (r < 0)
			return r;
	}
	return 0;
}

static const struct field device_fields[] = {
	{"PathOnHost", K_STR}, {"PathInContainer", K_STR}, {"CgroupPermissions", K_STR}};
static const struct field ulimit_fields[] = {{"Name", K_STR}, {"Soft", K_INT}, {"Hard", K_INT}};
static const struct field restart_fields[] = {{"Name", K_STR}, {"MaximumRetryCount", K_INT32}};
static const struct field health_fields[] = {{"Test", K_STRV},	       {"Interval", K_INT},
					     {"Timeout", K_INT},       {"StartPeriod", K_INT},
					     {"StartInterval", K_INT}, {"Retries", K_INT32}};

/* ---- API versions ------------------------------------------------------------------------ */

/* "1.41" < "1.44": compare dotted numbers */
static int version_cmp(const char *a, const char *b)
{
	while (*a || *b) {
		long x = strtol(a, (char **)&a, 10), y = strtol(b, (char **)&b, 10);
		if (x != y)
			return x < y ? -1 : 1;
		if (*a == '.')
			a++;
		if (*b == '.')
			b++;
		if (!*a && !*b)
			break;
	}
	return 0;
}

static bool version_lt(const char *v, const char *than)
{
	return version_cmp(v, than) < 0;
}

/* ---- namespace modes --------------------------------------------------------------------- */

/* docker's network names: [a-zA-Z0-9][a-zA-Z0-9_.-]* */
static bool valid_network_name(const char *s)
{
	if (!s || !*s || strlen(s) > 128)
		return false;
	for (const char *p = s; *p; p++) {
		bool alnum = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			     (*p >= '0' && *p <= '9');
		if (!alnum && (p == s || !strchr("_.-", *p)))
			return false;
	}
	return true;
}

static bool is_container_mode(const char *m)
{
	return berth_str_has_prefix(m, "container:");
}

bool dockerspec_network_is_host(const json_t *hc)
{
	return strcmp(dockerspec_str(hc, "NetworkMode"), "host") == 0;
}

bool dockerspec_network_is_private(const json_t *hc)
{
	const char *m = dockerspec_str(hc, "NetworkMode");
	return strcmp(m, "host") != 0 && !is_container_mode(m);
}

/* ---- restart policy ---------------------------------------------------------------------- */

static int check_restart(json_t *hc, struct berth_error **err)
{
	json_t *rp = json_object_get(hc, "RestartPolicy");
	const char *name;
	int64_t count;

	if (!json_is_object(rp)) {
		rp = json_object();
		if (!rp || json_object_set_new(hc, "RestartPolicy", rp) < 0)
			return oom(err);
	}
	name = dockerspec_str(rp, "Name");
	count = dockerspec_int(rp, "MaximumRetryCount");
	if (strcmp(name, "always") == 0 || strcmp(name, "unless-stopped") == 0 ||
	    strcmp(name, "no") == 0) {
		if (count != 0)
			return berth_error_set(
				err, EINVAL,
				"invalid restart policy: maximum retry count can only "
				"be used with 'on-failure'%s",
				count < 0 ? " and cannot be negative" : "");
	} else if (strcmp(name, "on-failure") == 0) {
		if (count < 0)
			return berth_error_set(err, EINVAL,
					       "invalid restart policy: maximum retry count cannot "
					       "be negative");
	} else if (*name) {
		return berth_error_set(err, EINVAL,
				       "invalid restart policy: unknown policy '%s'; use one of "
				       "'no', 'always', 'on-failure', or 'unless-stopped'",
				       name);
	}
	/* dockerd sets the default name "no" before it checks */
	if (!*name && (set_str(rp, "Name", "no", err) < 0))
		return -ENOMEM;
	if (!json_object_get(rp, "MaximumRetryCount") && set_int(rp, "MaximumRetryCount", 0, err))
		return -ENOMEM;
	return 0;
}

/* ---- capabilities ------------------------------------------------------------------------ */

static int check_caps(json_t *hc, const char *field, const struct berth_dockerspec_host *host,
		      struct berth_error **err)
{
	json_t *arr = json_object_get(hc, field);
	size_t i;
	json_t *e;

	json_array_foreach (arr, i, e) {
		_cleanup_free_ char *n =
			berth_dockerspec_cap_normalize(json_string_value(e), host, err);
		if (!n)
			return berth_error_wrap(err, "invalid %s", field);
	}
	return 0;
}

/* ---- security options -------------------------------------------------------------------- */

static int parse_bool(const char *s, bool *ret)
{
	static const char *const t[] = {"1", "t", "T", "TRUE", "true", "True"};
	static const char *const f[] = {"0", "f", "F", "FALSE", "false", "False"};

	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		if (strcmp(s, t[i]) == 0) {
			*ret = true;
			return 0;
		}
		if (strcmp(s, f[i]) == 0) {
			*ret = false;
			return 0;
		}
	}
	return -EINVAL;
}

static int check_security_opts(json_t *hc, const struct berth_dockerspec_host *host,
			       struct berth_error **err)
{
	json_t *arr = json_object_get(hc, "SecurityOpt");
	size_t i;
	json_t *e;

	json_array_foreach (arr, i, e) {
		const char *opt = json_string_value(e);
		_cleanup_free_ char *k = NULL;
		const char *v, *sep;
		bool b;

		if (strcmp(opt, "no-new-privileges") == 0 || strcmp(opt, "writable-cgroups") == 0 ||
		    strcmp(opt, "disable") == 0)
			continue;
		sep = strchr(opt, '=');
		if (!sep)
			sep = strchr(opt, ':'); /* the deprecated "key:value" form */
		if (!sep)
			return berth_error_set(err, EINVAL, "invalid --security-opt 1: \"%s\"",
					       opt);
		k = strndup(opt, (size_t)(sep - opt));
		if (!k)
			return oom(err);
		v = sep + 1;
		if (strcmp(k, "label") == 0) {
			if (strcmp(v, "disable") != 0 && !host->selinux)
				return berth_error_set(
					err, EINVAL,
					"SELinux is not enabled on this host: cannot "
					"apply security option '%s'",
					opt);
			if (strcmp(v, "disable") != 0)
				return berth_error_set(
					err, EINVAL,
					"SELinux labels are not supported by berthd: "
					"cannot apply security option '%s'",
					opt);
		} else if (strcmp(k, "apparmor") == 0) {
			if (strcmp(v, "unconfined") != 0 && !host->apparmor)
				return berth_error_set(
					err, EINVAL,
					"AppArmor is not enabled on this host: cannot "
					"apply security option '%s'",
					opt);
		} else if (strcmp(k, "seccomp") == 0) {
			if (strcmp(v, "unconfined") == 0 || strcmp(v, "builtin") == 0)
				continue;
			if (!host->seccomp)
				return berth_error_set(
					err, EINVAL,
					"seccomp is not enabled in your kernel, cannot "
					"run a custom seccomp profile");
			/* the CLI sends the file's content: it must convert now, not at start */
			{
				const char *caps[] = {NULL};
				struct berth_dockerspec_seccomp_target t = {
					.arch = host->arch ? host->arch : "amd64",
					.caps = (char *const *)caps,
					.kernel_major = host->kernel_major,
					.kernel_minor = host->kernel_minor,
				};
				_cleanup_json_ json_t *s = NULL;
				int r = berth_dockerspec_seccomp_convert(v, strlen(v), &t, &s, err);
				if (r < 0)
					return r;
			}
		} else if (strcmp(k, "no-new-privileges") == 0 ||
			   strcmp(k, "writable-cgroups") == 0) {
			if (parse_bool(v, &b) < 0)
				return berth_error_set(err, EINVAL,
						       "invalid --security-opt 2: \"%s\"", opt);
		} else {
			return berth_error_set(err, EINVAL, "invalid --security-opt 2: \"%s\"",
					       opt);
		}
	}
	return 0;
}

/* ---- cpusets ----------------------------------------------------------------------------- */

#define CPUSET_MAX 8192

/* "0-3,5" -> bits; -EINVAL on a bad list */
static int parse_cpuset(const char *s, unsigned char *bits, size_t nbits)
{
	const char *p = s;

	if (!*s)
		return 0;
	for (;;) {
		char *end;
		unsigned long a, b;

		if (*p < '0' || *p > '9')
			return -EINVAL;
		a = strtoul(p, &end, 10);
		b = a;
		if (*end == '-') {
			p = end + 1;
			if (*p < '0' || *p > '9')
				return -EINVAL;
			b = strtoul(p, &end, 10);
			if (b < a)
				return -EINVAL;
		}
		if (b >= nbits)
			return -ERANGE;
		for (unsigned long i = a; i <= b; i++)
			bits[i / 8] |= (unsigned char)(1u << (i % 8));
		if (*end == '\0')
			return 0;
		if (*end != ',')
			return -EINVAL;
		p = end + 1;
	}
}

static int check_cpuset(const char *req, const char *avail, const char *what, const char *what2,
			struct berth_error **err)
{
	unsigned char want[CPUSET_MAX / 8] = {0}, have[CPUSET_MAX / 8] = {0};
	int r;

	if (!*req)
		return 0;
	r = parse_cpuset(req, want, CPUSET_MAX);
	if (r == -ERANGE)
		return berth_error_set(
			err, EINVAL,
			"Invalid value %s for cpuset %s: value of out range, maximum "
			"is %d",
			req, what, CPUSET_MAX);
	if (r < 0)
		return berth_error_set(err, EINVAL,
				       "Invalid value %s for cpuset %s: invalid format: %s", req,
				       what, req);
	if (!avail)
		return 0;
	if (parse_cpuset(avail, have, CPUSET_MAX) < 0)
		return 0;
	for (size_t i = 0; i < sizeof(want); i++)
		if (want[i] & ~have[i])
			return berth_error_set(err, EINVAL,
					       "Requested %s are not available - requested %s, "
					       "available: %s",
					       what2, req, avail);
	return 0;
}

/* ---- resources (verifyPlatformContainerResources) ---------------------------------------- */

static int check_resources(json_t *hc, bool update, const struct berth_dockerspec_host *h,
			   json_t *warnings, struct berth_error **err)
{
	int64_t memory = dockerspec_int(hc, "Memory");
	int64_t swap = dockerspec_int(hc, "MemorySwap");
	int64_t reservation = dockerspec_int(hc, "MemoryReservation");
	int64_t kmem = dockerspec_int(hc, "KernelMemory");
	int64_t nano = dockerspec_int(hc, "NanoCpus");
	int64_t period = dockerspec_int(hc, "CpuPeriod");
	int64_t quota = dockerspec_int(hc, "CpuQuota");
	json_t *v;
	int r = 0;

	/* fixMemorySwappiness: -1 means unset */
	v = json_object_get(hc, "MemorySwappiness");
	if (json_is_integer(v) && json_integer_value(v) == -1)
		json_object_set_new(hc, "MemorySwappiness", json_null());

	if (memory != 0 && memory < BERTH_DOCKERSPEC_MIN_MEMORY)
		return berth_error_set(err, EINVAL, "Minimum memory limit allowed is 6MB");
	if (memory > 0 && !h->memory_limit) {
		r |= warn(warnings, "Your kernel does not support memory limit capabilities or the "
				    "cgroup is not mounted. Limitation discarded.");
		memory = 0;
		swap = -1;
		r |= set_int(hc, "Memory", 0, NULL) | set_int(hc, "MemorySwap", -1, NULL);
	}
	if (memory > 0 && swap != -1 && !h->swap_limit) {
		r |= warn(warnings, "Your kernel does not support swap limit capabilities or the "
				    "cgroup is not mounted. Memory limited without swap.");
		swap = -1;
		r |= set_int(hc, "MemorySwap", -1, NULL);
	}
	if (memory > 0 && swap > 0 && swap < memory)
		return berth_error_set(
			err, EINVAL,
			"Minimum memoryswap limit should be larger than memory limit, "
			"see usage");
	if (memory == 0 && swap > 0 && !update)
		return berth_error_set(
			err, EINVAL,
			"You should always set the Memory limit when using Memoryswap "
			"limit, see usage");
	v = json_object_get(hc, "MemorySwappiness");
	if (json_is_integer(v) && !h->memory_swappiness) {
		r |= warn(warnings,
			  "Your kernel does not support memory swappiness capabilities or "
			  "the cgroup is not mounted. Memory swappiness discarded.");
		json_object_set_new(hc, "MemorySwappiness", json_null());
		v = NULL;
	}
	if (json_is_integer(v) && (json_integer_value(v) < 0 || json_integer_value(v) > 100))
		return berth_error_set(
			err, EINVAL, "Invalid value: %lld, valid memory swappiness range is 0-100",
			(long long)json_integer_value(v));
	if (reservation > 0 && !h->memory_reservation) {
		r |= warn(warnings,
			  "Your kernel does not support memory soft limit capabilities or "
			  "the cgroup is not mounted. Limitation discarded.");
		reservation = 0;
		r |= set_int(hc, "MemoryReservation", 0, NULL);
	}
	if (reservation > 0 && reservation < BERTH_DOCKERSPEC_MIN_MEMORY)
		return berth_error_set(err, EINVAL, "Minimum memory reservation allowed is 6MB");
	if (memory > 0 && reservation > 0 && memory < reservation)
		return berth_error_set(
			err, EINVAL,
			"Minimum memory limit can not be less than memory reservation "
			"limit, see usage");
	/* API >= 1.42 drops KernelMemory before this (the route does); older clients get
	 * dockerd's checks.  berth never applies a kernel memory limit: the kernel deprecated it
	 * (5.4) and removed it with cgroup v1's kmem accounting. */
	if (kmem > 0) {
		if (!h->kernel_memory) {
			r |= warn(warnings, "Your kernel does not support kernel memory limit "
					    "capabilities or the cgroup is not mounted. Limitation "
					    "discarded.");
			kmem = 0;
			r |= set_int(hc, "KernelMemory", 0, NULL);
		}
		if (kmem > 0 && kmem < BERTH_DOCKERSPEC_MIN_MEMORY)
			return berth_error_set(err, EINVAL,
					       "Minimum kernel memory limit allowed is 6MB");
	}
	v = json_object_get(hc, "OomKillDisable");
	if (json_is_boolean(v) && !h->oom_kill_disable) {
		if (json_is_true(v))
			r |= warn(warnings, "Your kernel does not support OomKillDisable. "
					    "OomKillDisable discarded.");
		json_object_set_new(hc, "OomKillDisable", json_null());
		v = NULL;
	}
	if (json_is_true(v) && memory == 0)
		r |= warn(warnings,
			  "OOM killer is disabled for the container, but no memory limit "
			  "is set, this can result in the system running out of resources.");
	v = json_object_get(hc, "PidsLimit");
	if (json_is_integer(v) && !h->pids_limit) {
		if (json_integer_value(v) > 0)
			r |= warn(warnings,
				  "Your kernel does not support PIDs limit capabilities or "
				  "the cgroup is not mounted. PIDs limit discarded.");
		json_object_set_new(hc, "PidsLimit", json_null());
	}

	if (nano > 0 && period > 0)
		return berth_error_set(
			err, EINVAL,
			"Conflicting options: Nano CPUs and CPU Period cannot both be "
			"set");
	if (nano > 0 && quota > 0)
		return berth_error_set(
			err, EINVAL,
			"Conflicting options: Nano CPUs and CPU Quota cannot both be "
			"set");
	if (nano > 0 && !h->cpu_cfs)
		return berth_error_set(
			err, EINVAL,
			"NanoCPUs can not be set, as your kernel does not support CPU "
			"CFS scheduler or the cgroup is not mounted");
	if (nano != 0 && (nano < 0 || nano > (int64_t)h->ncpu * 1000000000LL))
		return berth_error_set(
			err, EINVAL,
			"range of CPUs is from 0.01 to %d.00, as there are only %d CPUs "
			"available",
			h->ncpu, h->ncpu);
	if (dockerspec_int(hc, "CpuShares") > 0 && !h->cpu_shares) {
		r |= warn(warnings, "Your kernel does not support CPU shares or the cgroup is not "
				    "mounted. Shares discarded.");
		r |= set_int(hc, "CpuShares", 0, NULL);
	}
	if ((period != 0 || quota != 0) && !h->cpu_cfs) {
		r |= warn(warnings, "Your kernel does not support CPU CFS scheduler. CPU "
				    "period/quota discarded.");
		period = quota = 0;
		r |= set_int(hc, "CpuPeriod", 0, NULL) | set_int(hc, "CpuQuota", 0, NULL);
	}
	if (period != 0 && (period < 1000 || period > 1000000))
		return berth_error_set(
			err, EINVAL,
			"CPU cfs period can not be less than 1ms (i.e. 1000) or larger "
			"than 1s (i.e. 1000000)");
	if (quota > 0 && quota < 1000)
		return berth_error_set(err, EINVAL,
				       "CPU cfs quota can not be less than 1ms (i.e. 1000)");
	if (dockerspec_int(hc, "CpuPercent") > 0) {
		r |= warn(warnings, "linux does not support CPU percent. Percent discarded.");
		r |= set_int(hc, "CpuPercent", 0, NULL);
	}
	if ((*dockerspec_str(hc, "CpusetCpus") || *dockerspec_str(hc, "CpusetMems")) &&
	    !h->cpuset) {
		r |= warn(warnings, "Your kernel does not support cpuset or the cgroup is not "
				    "mounted. Cpuset discarded.");
		r |= set_str(hc, "CpusetCpus", "", NULL) | set_str(hc, "CpusetMems", "", NULL);
	}
	if (check_cpuset(dockerspec_str(hc, "CpusetCpus"), h->cpus, "cpus", "CPUs", err) < 0 ||
	    check_cpuset(dockerspec_str(hc, "CpusetMems"), h->mems, "mems", "memory nodes", err) <
		    0)
		return -EINVAL;
	{
		int64_t w = dockerspec_int(hc, "BlkioWeight");
		if (w > 0 && !h->blkio_weight) {
			r |= warn(warnings, "Your kernel does not support Block I/O weight or the "
					    "cgroup is not mounted. Weight discarded.");
			w = 0;
			r |= set_int(hc, "BlkioWeight", 0, NULL);
		}
		if (w > 0 && (w < 10 || w > 1000))
			return berth_error_set(err, EINVAL,
					       "Range of blkio weight is from 10 to 1000");
		if (json_array_size(json_object_get(hc, "BlkioWeightDevice")) > 0 &&
		    !h->blkio_weight) {
			r |= warn(warnings,
				  "Your kernel does not support Block I/O weight_device "
				  "or the cgroup is not mounted. Weight-device discarded.");
			r |= json_object_set_new(hc, "BlkioWeightDevice", json_array());
		}
	}
	return r ? oom(err) : 0;
}

/* ---- sysctls (runc's rules: only what a namespace of the container's own isolates) -------- */

static int check_sysctls(const json_t *hc, struct berth_error **err)
{
	static const char *const ipc[] = {"kernel.msgmax", "kernel.msgmnb",	    "kernel.msgmni",
					  "kernel.sem",	   "kernel.shmall",	    "kernel.shmmax",
					  "kernel.shmmni", "kernel.shm_rmid_forced"};
	const json_t *s = json_object_get(hc, "Sysctls");
	const char *ipc_mode = dockerspec_str(hc, "IpcMode");
	bool host_ipc = strcmp(ipc_mode, "host") == 0;
	bool host_uts = strcmp(dockerspec_str(hc, "UTSMode"), "host") == 0;
	const char *key;
	json_t *v;

	json_object_foreach ((json_t *)s, key, v) {
		bool is_ipc = berth_str_has_prefix(key, "fs.mqueue.");

		for (size_t i = 0; i < ARRAY_SIZE(ipc) && !is_ipc; i++)
			is_ipc = strcmp(key, ipc[i]) == 0;
		if (is_ipc) {
			if (host_ipc)
				return berth_error_set(
					err, EINVAL,
					"sysctl \"%s\" is not allowed in the hosts ipc "
					"namespace",
					key);
			continue;
		}
		if (berth_str_has_prefix(key, "net.")) {
			if (dockerspec_network_is_host(hc))
				return berth_error_set(err, EINVAL,
						       "sysctl \"%s\" not allowed in host network "
						       "namespace",
						       key);
			continue;
		}
		if (!host_uts && strcmp(key, "kernel.domainname") == 0)
			continue;
		if (!host_uts && strcmp(key, "kernel.hostname") == 0)
			return berth_error_set(
				err, EINVAL,
				"sysctl \"%s\" is not allowed as it conflicts with the "
				"OCI \"hostname\" field",
				key);
		return berth_error_set(err, EINVAL,
				       "sysctl \"%s\" is not in a separate kernel namespace", key);
	}
	return 0;
}

/* ---- tmpfs ------------------------------------------------------------------------------- */

static bool clean_is_root(const char *p)
{
	/* path.Clean(p) == "/": only slashes, dots and ".." components */
	if (*p != '/')
		return false;
	for (const char *c = p; *c; c++)
		if (*c != '/' && *c != '.')
			return false;
	/* "/." "/.." "//" ... all clean to "/"; a name like "/..." does not */
	for (const char *c = p; *c;) {
		size_t len;
		while (*c == '/')
			c++;
		len = strcspn(c, "/");
		if (len > 2)
			return false;
		c += len;
	}
	return true;
}

/* docker's MergeTmpfsOptions: the last of each flag (or of each key=) wins */
static const char *const tmpfs_flags[][2] = {
	{"ro", "rdonly"},
	{"rw", "rdonly"},
	{"suid", "nosuid"},
	{"nosuid", "nosuid"},
	{"dev", "nodev"},
	{"nodev", "nodev"},
	{"exec", "noexec"},
	{"noexec", "noexec"},
	{"sync", "sync"},
	{"async", "sync"},
	{"dirsync", "dirsync"},
	{"remount", "remount"},
	{"mand", "mand"},
	{"nomand", "mand"},
	{"atime", "noatime"},
	{"noatime", "noatime"},
	{"diratime", "nodiratime"},
	{"nodiratime", "nodiratime"},
	{"bind", "prop"},
	{"rbind", "prop"},
	{"unbindable", "prop"},
	{"runbindable", "prop"},
	{"private", "prop"},
	{"rprivate", "prop"},
	{"shared", "prop"},
	{"rshared", "prop"},
	{"slave", "prop"},
	{"rslave", "prop"},
	{"relatime", "relatime"},
	{"norelatime", "relatime"},
	{"strictatime", "strictatime"},
	{"nostrictatime", "strictatime"},
};

static const char *tmpfs_flag_key(const char *o)
{
	for (size_t i = 0; i < ARRAY_SIZE(tmpfs_flags); i++)
		if (strcmp(tmpfs_flags[i][0], o) == 0)
			return tmpfs_flags[i][1];
	return NULL;
}

int dockerspec_tmpfs_options(const char *data, char ***ret, struct berth_error **err);

int dockerspec_tmpfs_options(const char *data, char ***ret, struct berth_error **err)
{
	static const char *const data_keys[] = {"",    "size",	    "mode",	 "uid",
						"gid", "nr_inodes", "nr_blocks", "mpol"};
	_cleanup_strv_ char **in = NULL, **out = NULL, **seen = NULL;
	_cleanup_free_ char *copy = NULL;
	size_t n;

	/* the defaults first, then the user's, as daemon/oci_linux.go does */
	if (berth_strv_push(&in, "noexec") < 0 || berth_strv_push(&in, "nosuid") < 0 ||
	    berth_strv_push(&in, "nodev") < 0 || berth_strv_push(&in, "rprivate") < 0)
		return oom(err);
	if (data && *data) {
		copy = strdup(data);
		if (!copy)
			return oom(err);
		for (char *save = NULL, *tok = strtok_r(copy, ",", &save); tok;
		     tok = strtok_r(NULL, ",", &save))
			if (berth_strv_push(&in, tok) < 0)
				return oom(err);
		/* strings.Split keeps empty fields: "a,,b" has "" between; Go then fails on it */
		if (strstr(data, ",,") || data[0] == ',' || data[strlen(data) - 1] == ',')
			return berth_error_set(err, EINVAL, "invalid tmpfs option [\"\"]");
	}
	n = berth_strv_length(in);
	out = calloc(n + 1, sizeof(char *));
	if (!out)
		return oom(err);
	{
		size_t k = n; /* fill from the back, as the reverse walk prepends */
		for (size_t i = n; i-- > 0;) {
			const char *o = in[i];
			const char *key = tmpfs_flag_key(o);
			_cleanup_free_ char *dk = NULL;
			bool valid = false;

			if (strcmp(o, "defaults") == 0)
				continue;
			if (!key) {
				const char *eq = strchr(o, '=');
				if (!eq)
					return berth_error_set(err, EINVAL,
							       "invalid tmpfs option [\"%s\"]", o);
				dk = strndup(o, (size_t)(eq - o));
				if (!dk)
					return oom(err);
				for (size_t j = 0; j < ARRAY_SIZE(data_keys); j++)
					valid |= strcmp(data_keys[j], dk) == 0;
				if (!valid)
					return berth_error_set(
						err, EINVAL, "invalid tmpfs option [\"%s\" \"%s\"]",
						dk, eq + 1);
				key = dk;
			}
			{
				_cleanup_free_ char *tag = NULL;
				if (asprintf(&tag, "%s%s", strchr(o, '=') ? "=" : "", key) < 0)
					return oom(err);
				if (berth_strv_contains(seen, tag))
					continue;
				if (berth_strv_push(&seen, tag) < 0)
					return oom(err);
			}
			out[--k] = strdup(o);
			if (!out[k])
				return oom(err);
		}
		if (k > 0) {
			memmove(out, out + k, (n - k) * sizeof(char *));
			memset(out + (n - k), 0, k * sizeof(char *));
		}
	}
	*ret = TAKE_PTR(out);
	return 0;
}

static int check_tmpfs(const json_t *hc, struct berth_error **err)
{
	const json_t *t = json_object_get(hc, "Tmpfs");
	const char *dest;
	json_t *v;

	json_object_foreach ((json_t *)t, dest, v) {
		_cleanup_strv_ char **opts = NULL;
		if (clean_is_root(dest))
			return berth_error_set(err, EINVAL,
					       "invalid specification: destination can't be '/'");
		if (dest[0] != '/')
			return berth_error_set(
				err, EINVAL, "invalid mount path: '%s' mount path must be absolute",
				dest);
		if (dockerspec_tmpfs_options(json_string_value(v), &opts, err) < 0)
			return -EINVAL;
	}
	return 0;
}

/* ---- ulimits ----------------------------------------------------------------------------- */

static const struct {
	const char *name;
	int resource;
} ulimits[] = {
	{"as", RLIMIT_AS},
	{"core", RLIMIT_CORE},
	{"cpu", RLIMIT_CPU},
	{"data", RLIMIT_DATA},
	{"fsize", RLIMIT_FSIZE},
	{"locks", RLIMIT_LOCKS},
	{"memlock", RLIMIT_MEMLOCK},
	{"msgqueue", RLIMIT_MSGQUEUE},
	{"nice", RLIMIT_NICE},
	{"nofile", RLIMIT_NOFILE},
	{"nproc", RLIMIT_NPROC},
	{"rss", RLIMIT_RSS},
	{"rtprio", RLIMIT_RTPRIO},
	{"rttime", RLIMIT_RTTIME},
	{"sigpending", RLIMIT_SIGPENDING},
	{"stack", RLIMIT_STACK},
};

int dockerspec_rlimit(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(ulimits); i++)
		if (strcmp(ulimits[i].name, name) == 0)
			return ulimits[i].resource;
	return -1;
}

static int check_ulimits(const json_t *hc, struct berth_error **err)
{
	const json_t *arr = json_object_get(hc, "Ulimits");
	size_t i;
	json_t *e;

	json_array_foreach (arr, i, e) {
		const char *name = dockerspec_str(e, "Name");
		int64_t soft = dockerspec_int(e, "Soft"), hard = dockerspec_int(e, "Hard");

		if (dockerspec_rlimit(name) < 0)
			return berth_error_set(err, EINVAL, "invalid ulimit type: %s", name);
		if (soft > hard)
			return berth_error_set(
				err, EINVAL,
				"ulimit soft limit must be less than or equal to hard "
				"limit: %lld > %lld",
				(long long)soft, (long long)hard);
	}
	return 0;
}

/* ---- devices ----------------------------------------------------------------------------- */

static bool valid_permissions(const char *p)
{
	size_t n = strlen(p);
	if (n == 0 || n > 3 || strspn(p, "rwm") != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (strchr(p + i + 1, p[i]))
			return false;
	return true;
}

static int check_devices(json_t *hc, struct berth_error **err)
{
	json_t *arr = json_object_get(hc, "Devices");
	const json_t *rules = json_object_get(hc, "DeviceCgroupRules");
	regex_t re;
	size_t i;
	json_t *e;
	int r = 0;

	json_array_foreach (arr, i, e) {
		const char *host = dockerspec_str(e, "PathOnHost");
		const char *ctr = dockerspec_str(e, "PathInContainer");
		const char *perm = dockerspec_str(e, "CgroupPermissions");

		if (!*host)
			return berth_error_set(err, EINVAL, "invalid device: PathOnHost is empty");
		if (host[0] != '/')
			return berth_error_set(err, EINVAL,
					       "invalid device '%s': PathOnHost must be absolute",
					       host);
		if (!*ctr && set_str(e, "PathInContainer", host, err) < 0)
			return -ENOMEM;
		ctr = dockerspec_str(e, "PathInContainer");
		if (ctr[0] != '/')
			return berth_error_set(err, EINVAL,
					       "invalid device '%s': %s is not an absolute path",
					       host, ctr);
		if (!*perm && set_str(e, "CgroupPermissions", "rwm", err) < 0)
			return -ENOMEM;
		perm = dockerspec_str(e, "CgroupPermissions");
		if (!valid_permissions(perm))
			return berth_error_set(err, EINVAL,
					       "invalid device '%s': bad mode specified: %s", host,
					       perm);
	}
	if (regcomp(&re, "^([acb]) ([0-9]+|\\*):([0-9]+|\\*) ([rwm]{1,3})$", REG_EXTENDED) != 0)
		return oom(err);
	json_array_foreach (rules, i, e) {
		if (regexec(&re, json_string_value(e), 0, NULL, 0) != 0) {
			r = berth_error_set(err, EINVAL, "invalid device cgroup rule format: '%s'",
					    json_string_value(e));
			break;
		}
	}
	regfree(&re);
	return r;
}

/* ---- the Config part (validateContainerConfig) ------------------------------------------- */

static int check_config(json_t *cfg, json_t *warnings, struct berth_error **err)
{
	const char *wd = dockerspec_str(cfg, "WorkingDir");
	const char *sig = dockerspec_str(cfg, "StopSignal");
	const json_t *env = json_object_get(cfg, "Env");
	json_t *hc = json_object_get(cfg, "Healthcheck");
	size_t i;
	json_t *e;

	if (*wd) {
		_cleanup_free_ char *c = NULL;
		if (wd[0] != '/')
			return berth_error_set(
				err, EINVAL,
				"the working directory '%s' is invalid, it needs to be "
				"an absolute path",
				wd);
		c = berth_path_clean_abs(wd);
		if (!c || set_str(cfg, "WorkingDir", c, err) < 0)
			return oom(err);
	}
	if (*sig) {
		char *end;
		long n = strtol(sig, &end, 10);
		bool numeric = *end == '\0';
		if ((numeric && n == 0) || (!numeric && berth_signal_parse(sig) < 0) ||
		    (!numeric && sig[0] >= '0' && sig[0] <= '9'))
			return berth_error_set(err, EINVAL, "Invalid signal: %s", sig);
	}
	json_array_foreach (env, i, e) {
		const char *s = json_string_value(e);
		if (s[0] == '=' || s[0] == '\0')
			return berth_error_set(err, EINVAL, "invalid environment variable: %s", s);
	}
	if (json_is_object(hc)) {
		static const char *const durations[] = {"Interval", "Timeout", "StartPeriod",
							"StartInterval"};
		int r = check_fields(hc, health_fields, ARRAY_SIZE(health_fields),
				     "CreateRequest.Healthcheck.", err);
		if (r < 0)
			return r;
		for (size_t k = 0; k < ARRAY_SIZE(durations); k++) {
			int64_t d = dockerspec_int(hc, durations[k]);
			if (d != 0 && d < 1000000)
				return berth_error_set(err, EINVAL,
						       "%s in Healthcheck cannot be less than 1ms",
						       durations[k]);
			if (k == 1 && dockerspec_int(hc, "Retries") < 0)
				return berth_error_set(err, EINVAL,
						       "Retries in Healthcheck cannot be negative");
		}
	}
	(void)warnings;
	return 0;
}

/* ---- namespace modes --------------------------------------------------------------------- */

static int check_modes(json_t *hc, json_t *cfg, const struct berth_dockerspec_host *h,
		       struct berth_error **err)
{
	const char *net = dockerspec_str(hc, "NetworkMode");
	const char *ipc = dockerspec_str(hc, "IpcMode");
	const char *pid = dockerspec_str(hc, "PidMode");
	const char *uts = dockerspec_str(hc, "UTSMode");
	const char *userns = dockerspec_str(hc, "UsernsMode");
	const char *cgns = dockerspec_str(hc, "CgroupnsMode");

	if (strcmp(net, "container") == 0 || is_container_mode(net)) {
		if (!net[sizeof("container:") - 1] || strcmp(net, "container") == 0)
			return berth_error_set(err, EINVAL,
					       "invalid network mode: invalid container format "
					       "container:<name|id>");
		/* dockerd's validateNetContainerMode: what the joined namespace already decides */
		if (*dockerspec_str(cfg, "Hostname"))
			return berth_error_set(
				err, EINVAL, "conflicting options: hostname and the network mode");
		if (json_array_size(json_object_get(hc, "Links")) > 0)
			return berth_error_set(
				err, EINVAL,
				"conflicting options: container type network can't be "
				"used with links. This would result in undefined "
				"behavior");
		if (json_array_size(json_object_get(hc, "Dns")) > 0)
			return berth_error_set(err, EINVAL,
					       "conflicting options: dns and the network mode");
		if (json_array_size(json_object_get(hc, "ExtraHosts")) > 0)
			return berth_error_set(err, EINVAL,
					       "conflicting options: custom host-to-IP mapping and "
					       "the network mode");
		if (*dockerspec_str(cfg, "MacAddress"))
			return berth_error_set(err, EINVAL,
					       "conflicting options: mac-address and the network "
					       "mode");
		if (json_object_size(json_object_get(hc, "PortBindings")) > 0 ||
		    json_is_true(json_object_get(hc, "PublishAllPorts")))
			return berth_error_set(err, EINVAL,
					       "conflicting options: port publishing and the "
					       "container type network mode");
		if (json_object_size(json_object_get(cfg, "ExposedPorts")) > 0)
			return berth_error_set(
				err, EINVAL,
				"conflicting options: port exposing and the container "
				"type network mode");
	}
	/* any other name is a user network: the daemon checks that it exists */
	if (!is_container_mode(net) && !valid_network_name(net))
		return berth_error_set(err, ENOENT, "network %s not found", net);
	if (strcmp(uts, "host") == 0 && *dockerspec_str(cfg, "Hostname"))
		return berth_error_set(err, EINVAL,
				       "conflicting options: hostname and the UTS mode");
	if (strcmp(net, "host") == 0 && json_array_size(json_object_get(hc, "Links")) > 0)
		return berth_error_set(err, EINVAL,
				       "conflicting options: host type networking can't be used "
				       "with links. This would result in undefined behavior");

	if (!(*ipc == '\0' || strcmp(ipc, "none") == 0 || strcmp(ipc, "private") == 0 ||
	      strcmp(ipc, "host") == 0 || strcmp(ipc, "shareable") == 0 || is_container_mode(ipc)))
		return berth_error_set(err, EINVAL, "invalid IPC mode: %s", ipc);
	if (is_container_mode(ipc) && !ipc[sizeof("container:") - 1])
		return berth_error_set(err, EINVAL, "invalid IPC mode: %s", ipc);
	/* container:<name|id> (IPC and PID): the daemon resolves the donor at each start */
	if (!(*pid == '\0' || strcmp(pid, "host") == 0 ||
	      (is_container_mode(pid) && pid[sizeof("container:") - 1])))
		return berth_error_set(err, EINVAL, "invalid PID mode: %s", pid);
	if (dockerspec_int(hc, "ShmSize") < 0)
		return berth_error_set(err, EINVAL, "SHM size can not be less than 0");
	if (!(*uts == '\0' || strcmp(uts, "host") == 0))
		return berth_error_set(err, EINVAL, "invalid UTS mode: %s", uts);
	if (!(*userns == '\0' || strcmp(userns, "host") == 0))
		return berth_error_set(err, EINVAL, "invalid user namespace mode: %s", userns);
	{
		int64_t adj = dockerspec_int(hc, "OomScoreAdj");
		if (adj < -1000 || adj > 1000)
			return berth_error_set(
				err, EINVAL,
				"Invalid value %lld, range for oom score adj is [-1000, "
				"1000]",
				(long long)adj);
	}
	if (!(*cgns == '\0' || strcmp(cgns, "private") == 0 || strcmp(cgns, "host") == 0))
		return berth_error_set(err, EINVAL, "invalid cgroup namespace mode: %s", cgns);
	(void)h;
	return 0;
}

/* ---- the whole request ------------------------------------------------------------------- */

void berth_dockerspec_create_release(struct berth_dockerspec_create *c)
{
	if (!c)
		return;
	if (c->config)
		json_decref(c->config);
	if (c->host_config)
		json_decref(c->host_config);
	if (c->networking_config)
		json_decref(c->networking_config);
	if (c->warnings)
		json_decref(c->warnings);
	*c = (struct berth_dockerspec_create){0};
}

int berth_dockerspec_create_normalize(const json_t *body, const char *api_version,
				      const struct berth_dockerspec_host *host,
				      const struct berth_dockerspec_daemon *daemon,
				      struct berth_dockerspec_create *ret, struct berth_error **err)
{
	_cleanup_json_ json_t *cfg = NULL, *hc = NULL, *nc = NULL, *warnings = NULL;
	const char *api = api_version ? api_version : BERTH_DOCKERSPEC_API_VERSION;
	const struct berth_dockerspec_daemon none = {0};
	bool any_config = false;
	const char *key;
	json_t *v;
	int r;

	if (!daemon)
		daemon = &none;
	if (!json_is_object(body))
		return berth_error_set(
			err, EINVAL,
			"invalid JSON: json: cannot unmarshal %s into Go value of type "
			"container.CreateRequest",
			body ? json_kind(body) : "null");

	/* the Config fields are the body's top level; HostConfig and NetworkingConfig apart */
	cfg = json_object();
	warnings = json_array();
	if (!cfg || !warnings)
		return oom(err);
	json_object_foreach ((json_t *)body, key, v) {
		if (strcmp(key, "HostConfig") == 0 || strcmp(key, "NetworkingConfig") == 0)
			continue;
		any_config = true;
		if (json_object_set_new(cfg, key, json_deep_copy(v)) < 0)
			return oom(err);
	}
	if (!any_config)
		return berth_error_set(err, EINVAL,
				       "config cannot be empty in order to create a container");
	r = check_fields(cfg, config_fields, ARRAY_SIZE(config_fields), "CreateRequest.", err);
	if (r < 0)
		return r;

	v = json_object_get(body, "HostConfig");
	if (v && !json_is_null(v) && !json_is_object(v))
		return type_error(v, "CreateRequest.HostConfig", "container.HostConfig", err);
	hc = json_is_object(v) ? json_deep_copy(v) : json_object();
	v = json_object_get(body, "NetworkingConfig");
	if (v && !json_is_null(v) && !json_is_object(v))
		return type_error(v, "CreateRequest.NetworkingConfig", "network.NetworkingConfig",
				  err);
	nc = json_is_object(v) ? json_deep_copy(v) : json_object();
	if (!hc || !nc)
		return oom(err);
	r = check_fields(hc, host_fields, ARRAY_SIZE(host_fields), "CreateRequest.HostConfig.",
			 err);
	if (r < 0)
		return r;
	if (check_array_of(hc, "Devices", device_fields, ARRAY_SIZE(device_fields), err) < 0 ||
	    check_array_of(hc, "Ulimits", ulimit_fields, ARRAY_SIZE(ulimit_fields), err) < 0)
		return -EINVAL;
	if (json_is_object(json_object_get(hc, "RestartPolicy")) &&
	    check_fields(json_object_get(hc, "RestartPolicy"), restart_fields,
			 ARRAY_SIZE(restart_fields), "CreateRequest.HostConfig.RestartPolicy.",
			 err) < 0)
		return -EINVAL;

	/* runconfig's decode-time checks */
	if (!*dockerspec_str(hc, "NetworkMode") && set_str(hc, "NetworkMode", "default", err) < 0)
		return -ENOMEM;
	{
		const char *iso = dockerspec_str(hc, "Isolation");
		if (*iso && strcasecmp(iso, "default") != 0)
			return berth_error_set(
				err, EINVAL,
				"invalid isolation (%s): linux only supports 'default'", iso);
	}
	if (dockerspec_int(hc, "IOMaximumBandwidth") != 0)
		return berth_error_set(err, EINVAL,
				       "invalid option: QoS maximum bandwidth configuration is not "
				       "supported on linux");
	if (dockerspec_int(hc, "IOMaximumIOps") != 0)
		return berth_error_set(err, EINVAL,
				       "invalid option: QoS maximum IOPs configuration is not "
				       "supported on linux");
	if (dockerspec_int(hc, "CpuRealtimePeriod") != 0 ||
	    dockerspec_int(hc, "CpuRealtimeRuntime") != 0)
		return berth_error_set(err, EINVAL,
				       "kernel does not support CPU real-time scheduler");
	if (host->cpu_shares && dockerspec_int(hc, "CpuShares") < 0)
		return berth_error_set(
			err, EINVAL, "invalid CPU shares (%lld): value must be a positive integer",
			(long long)dockerspec_int(hc, "CpuShares"));

	/* the route's version adjustments */
	{
		const char *net = dockerspec_str(hc, "NetworkMode");
		if (strcmp(net, "default") == 0 && set_str(hc, "NetworkMode", "bridge", err) < 0)
			return -ENOMEM;
	}
	if (version_lt(api, "1.25") && json_object_set_new(hc, "AutoRemove", json_false()) < 0)
		return oom(err);
	if (version_lt(api, "1.40")) {
		json_object_del(hc, "KernelMemoryTCP");
		if (!*dockerspec_str(hc, "IpcMode") && set_str(hc, "IpcMode", "shareable", err) < 0)
			return -ENOMEM;
	}
	if (version_lt(api, "1.41") && !host->cgroup2 && !*dockerspec_str(hc, "CgroupnsMode") &&
	    set_str(hc, "CgroupnsMode", "host", err) < 0)
		return -ENOMEM;
	if (version_lt(api, "1.42"))
		json_object_del(hc, "ConsoleSize");
	else
		json_object_del(hc, "KernelMemory"); /* removed in API 1.42: ignored */
	if (version_lt(api, "1.43"))
		json_object_del(hc, "Annotations");
	if (version_lt(api, "1.46")) { /* TmpfsOptions.Options came with 1.46 */
		size_t mi;
		json_t *m;
		json_array_foreach (json_object_get(hc, "Mounts"), mi, m)
			json_object_del(json_object_get(m, "TmpfsOptions"), "Options");
	}
	if (version_lt(api, "1.44")) {
		json_t *h = json_object_get(cfg, "Healthcheck");
		if (json_is_object(h))
			json_object_del(h, "StartInterval");
	}
	v = json_object_get(hc, "PidsLimit");
	if (json_is_integer(v) && json_integer_value(v) <= 0)
		json_object_set_new(hc, "PidsLimit", json_null());

	/* ContainerCreate */
	r = check_restart(hc, err);
	if (r < 0)
		return r;
	r = check_config(cfg, warnings, err);
	if (r < 0)
		return r;
	if (dockerspec_bool(hc, "AutoRemove") &&
	    strcmp(dockerspec_str(json_object_get(hc, "RestartPolicy"), "Name"), "no") != 0)
		return berth_error_set(err, EINVAL,
				       "can't create 'AutoRemove' container with restart policy");
	if (check_caps(hc, "CapAdd", host, err) < 0 || check_caps(hc, "CapDrop", host, err) < 0)
		return -EINVAL;
	{
		const json_t *ann = json_object_get(hc, "Annotations");
		json_object_foreach ((json_t *)ann, key, v)
			if (!*key)
				return berth_error_set(
					err, EINVAL,
					"invalid Annotations: the empty string is not "
					"permitted as an annotation key");
	}
	r = check_resources(hc, false, host, warnings, err);
	if (r < 0)
		return r;
	r = check_modes(hc, cfg, host, err);
	if (r < 0)
		return r;
	{
		const char *parent = dockerspec_str(hc, "CgroupParent");
		size_t n = strlen(parent);
		if (*parent && daemon->systemd_cgroup &&
		    (n <= 6 || strcmp(parent + n - 6, ".slice") != 0))
			return berth_error_set(err, EINVAL,
					       "cgroup-parent for systemd cgroup should be a valid "
					       "slice named as \"xxx.slice\"");
	}
	{
		/* "berth" is the runtime info's Runtimes lists; "runc" the name docker's requests
		 * and inspect use for the default: both are berth-runtime */
		const char *rt = dockerspec_str(hc, "Runtime");
		if (*rt && strcmp(rt, "runc") != 0 && strcmp(rt, "berth") != 0)
			return berth_error_set(err, EINVAL, "unknown or invalid runtime name: %s",
					       rt);
		if (!*rt && set_str(hc, "Runtime", "runc", err) < 0)
			return -ENOMEM;
	}
	if (json_object_size(json_object_get(hc, "StorageOpt")) > 0)
		/* overlay2 takes size= only on xfs mounted with pquota, which berth's root is not
		 * (dockerd's message for that case) */
		return berth_error_set(err, EINVAL,
				       "--storage-opt is supported only for overlay over xfs with "
				       "'pquota' mount option");
	r = check_tmpfs(hc, err);
	if (r < 0)
		return r;
	r = check_security_opts(hc, host, err);
	if (r < 0)
		return r;
	r = check_ulimits(hc, err);
	if (r < 0)
		return r;
	r = check_devices(hc, err);
	if (r < 0)
		return r;

	/* adaptContainerSettings: the defaults inspect shows */
	{
		int64_t memory = dockerspec_int(hc, "Memory");
		if (memory > 0 && dockerspec_int(hc, "MemorySwap") == 0 &&
		    set_int(hc, "MemorySwap", memory * 2, err) < 0)
			return -ENOMEM;
		if (dockerspec_int(hc, "ShmSize") == 0 &&
		    set_int(hc, "ShmSize",
			    daemon->shm_size > 0 ? daemon->shm_size
						 : BERTH_DOCKERSPEC_DEFAULT_SHM_SIZE,
			    err) < 0)
			return -ENOMEM;
		if (!*dockerspec_str(hc, "IpcMode") &&
		    set_str(hc, "IpcMode", daemon->ipc_mode ? daemon->ipc_mode : "private", err) <
			    0)
			return -ENOMEM;
		if (!*dockerspec_str(hc, "CgroupnsMode")) {
			const char *m;
			if (dockerspec_bool(hc, "Privileged") && !host->cgroup2)
				m = "host";
			else if (daemon->cgroupns_mode)
				m = daemon->cgroupns_mode;
			else
				m = host->cgroup2 ? "private" : "host";
			if (set_str(hc, "CgroupnsMode", m, err) < 0)
				return -ENOMEM;
		}
		if (!json_is_boolean(json_object_get(hc, "OomKillDisable")) &&
		    json_object_set_new(hc, "OomKillDisable", json_false()) < 0)
			return oom(err);
	}
	/* sysctls last: they are checked against the namespace modes as they will be */
	r = check_sysctls(hc, err);
	if (r < 0)
		return r;

	ret->config = TAKE_PTR(cfg);
	ret->host_config = TAKE_PTR(hc);
	ret->networking_config = TAKE_PTR(nc);
	ret->warnings = TAKE_PTR(warnings);
	return 0;
}

/* ---- 1b. the update request (POST /containers/{id}/update) --------------------------------- */

/* The members of container.UpdateConfig: Resources (embedded) and RestartPolicy. */
static const char *const update_keys[] = {
	"CgroupParent",
	"BlkioWeight",
	"BlkioWeightDevice",
	"BlkioDeviceReadBps",
	"BlkioDeviceWriteBps",
	"BlkioDeviceReadIOps",
	"BlkioDeviceWriteIOps",
	"CpuShares",
	"Memory",
	"NanoCpus",
	"CpuPeriod",
	"CpuQuota",
	"CpuRealtimePeriod",
	"CpuRealtimeRuntime",
	"CpusetCpus",
	"CpusetMems",
	"Devices",
	"DeviceCgroupRules",
	"DeviceRequests",
	"KernelMemory",
	"KernelMemoryTCP",
	"MemoryReservation",
	"MemorySwap",
	"MemorySwappiness",
	"OomKillDisable",
	"PidsLimit",
	"Ulimits",
	"CpuCount",
	"CpuPercent",
	"IOMaximumIOps",
	"IOMaximumBandwidth",
	"RestartPolicy",
};

int berth_dockerspec_update_normalize(const json_t *body, const char *api_version,
				      const struct berth_dockerspec_host *host, json_t **ret,
				      json_t **ret_warnings, struct berth_error **err)
{
	const char *api = api_version ? api_version : BERTH_DOCKERSPEC_API_VERSION;
	_cleanup_json_ json_t *u = NULL, *warnings = json_array();
	json_t *v, *rp;
	int r;

	if (!warnings)
		return oom(err);
	if (body && !json_is_object(body))
		return berth_error_set(
			err, EINVAL,
			"invalid JSON: json: cannot unmarshal %s into Go value of type "
			"container.UpdateConfig",
			json_kind(body));
	u = body ? json_deep_copy(body) : json_object();
	if (!u)
		return oom(err);
	for (size_t i = 0; i < ARRAY_SIZE(host_fields); i++) {
		bool member = false;
		char path[128];

		for (size_t k = 0; k < ARRAY_SIZE(update_keys) && !member; k++)
			member = strcmp(host_fields[i].name, update_keys[k]) == 0;
		if (!member)
			continue;
		snprintf(path, sizeof(path), "UpdateConfig.%s", host_fields[i].name);
		r = check_field(u, &host_fields[i], path, err);
		if (r < 0)
			return r;
	}
	rp = json_object_get(u, "RestartPolicy");
	if (rp && !json_is_null(rp)) {
		r = check_fields(rp, restart_fields, ARRAY_SIZE(restart_fields),
				 "UpdateConfig.RestartPolicy.", err);
		if (r < 0)
			return r;
	}
	/* what dockerd's decoder leaves out of the struct: other keys, nulls */
	{
		const char *key;
		void *tmp;
		json_object_foreach_safe(u, tmp, key, v)
		{
			bool member = false;
			for (size_t k = 0; k < ARRAY_SIZE(update_keys) && !member; k++)
				member = strcmp(key, update_keys[k]) == 0;
			if (!member || json_is_null(v))
				json_object_del(u, key);
		}
	}
	if (version_lt(api, "1.40"))
		json_object_del(u, "PidsLimit");
	/* both 0 and -1 (historically any negative value) mean "unlimited" for an update */
	v = json_object_get(u, "PidsLimit");
	if (json_is_integer(v) && json_integer_value(v) <= 0 && set_int(u, "PidsLimit", 0, err) < 0)
		return -ENOMEM;
	r = check_resources(u, true, host, warnings, err);
	if (r < 0)
		return r;
	rp = json_object_get(u, "RestartPolicy");
	if (json_is_object(rp) && *dockerspec_str(rp, "Name")) {
		r = check_restart(u, err);
		if (r < 0)
			return r;
	}
	*ret = TAKE_PTR(u);
	*ret_warnings = TAKE_PTR(warnings);
	return 0;
}
