/* SPDX-License-Identifier: Apache-2.0 */
/*
 * berth run, create and start: the create request built from the flags as docker 28's CLI builds
 * it (runconfig's parse), the image pulled when berthd does not have it ("Unable to find image"),
 * and run's sequence: create, attach (before the start, so no byte is lost), wait (next-exit, or
 * removed for --rm, registered before the start), start, copy the streams, exit with the
 * container's status.  -t puts the terminal in raw mode and follows its size (SIGWINCH); ctrl-p
 * ctrl-q detaches.  Signals other than those the terminal handles are passed to the container
 * when it has no terminal (docker's --sig-proxy default).
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "jsonmessage.h"
#include "reference.h"
#include "runopts.h"
#include "units.h"
#include "base/banned.h"

/* ---- flag checks (docker's Value.Set) --------------------------------------------------------- */

static int chk_ulimit(const char *v, char **err)
{
	json_t *j = ulimit_parse(v, err);
	json_decref(j);
	return j ? 0 : -1;
}

static int chk_mount(const char *v, char **err)
{
	json_t *j = mount_parse(v, err);
	json_decref(j);
	return j ? 0 : -1;
}

static int chk_ip(const char *v, char **err)
{
	char *s = ip_check(v, err);
	free(s);
	return s ? 0 : -1;
}

static int chk_cpus(const char *v, char **err)
{
	int64_t n;
	return nano_cpus_parse(v, &n, err);
}

static int chk_duration(const char *v, char **err)
{
	int64_t ns;
	return go_parse_duration(v, &ns, err);
}

/* pflag's uint16: strconv.ParseUint(s, 0, 16) */
static int chk_uint16(const char *v, char **err)
{
	char *end;
	errno = 0;
	unsigned long long u = strtoull(v, &end, 0);
	if (!*v || *end || *v == '-' || *v == '+' || *v == ' ' || errno || u > UINT16_MAX) {
		*err = xasprintf("strconv.ParseUint: parsing \"%s\": %s", v,
				 !*v || *end || *v == '-' || *v == '+' || *v == ' '
					 ? "invalid syntax"
					 : "value out of range");
		return -1;
	}
	return 0;
}

static int chk_device(const char *v, char **err)
{
	json_t *j = device_parse(v, err);
	json_decref(j);
	return j ? 0 : -1;
}

/* ---- the flags ---------------------------------------------------------------------------------- */

/* run's flags; create has the same but -d, --rm... (see create_flags) */
#define CREATE_FLAGS                                                                                 \
	{                                                                                            \
		"add-host", 0,                                                                       \
		FK_LIST,    "list",                                                                  \
		NULL,	    "Add a custom host-to-IP mapping (host:ip)",                             \
		0,	    extra_host_check},                                                       \
		{"cap-add", 0, FK_LIST, "list", NULL, "Add Linux capabilities"},                     \
		{"cap-drop", 0, FK_LIST, "list", NULL, "Drop Linux capabilities"},                   \
		{"cpu-shares", 'c', FK_INT, "int", NULL, "CPU shares (relative weight)"},            \
		{"cpus", 0, FK_CUSTOM, "decimal", NULL, "Number of CPUs", 0, chk_cpus},              \
		{"cpuset-cpus", 0,    FK_STRING,                                                     \
		 "string",	NULL, "CPUs in which to allow execution (0-3, 0,1)"},                \
		{"device", 0,	      FK_LIST, "list", NULL, "Add a host device to the container",   \
		 0,	   chk_device},                                                              \
		{"dns", 0, FK_LIST, "list", NULL, "Set custom DNS servers", 0, chk_ip},              \
		{"dns-option", 0, FK_LIST, "list", NULL, "Set DNS options"},                         \
		{"dns-search", 0, FK_LIST, "list", NULL, "Set custom DNS search domains"},           \
		{"entrypoint", 0,    FK_STRING,                                                      \
		 "string",     NULL, "Overwrite the default ENTRYPOINT of the image"},               \
		{"env", 'e', FK_LIST, "list", NULL, "Set environment variables", 0, check_env},      \
		{"env-file", 0, FK_LIST, "list", NULL, "Read in a file of environment variables"},   \
		{"expose", 0, FK_LIST, "list", NULL, "Expose a port or a range of ports"},           \
		{"health-cmd", 0, FK_STRING, "string", NULL, "Command to run to check health"},      \
		{"health-interval",                                                                  \
		 0,                                                                                  \
		 FK_CUSTOM,                                                                          \
		 "duration",                                                                         \
		 "0s",                                                                               \
		 "Time between running the check (ms|s|m|h)",                                        \
		 0,                                                                                  \
		 chk_duration},                                                                      \
		{"health-retries",                                                                   \
		 0,                                                                                  \
		 FK_INT,                                                                             \
		 "int",                                                                              \
		 NULL,                                                                               \
		 "Consecutive failures needed to report unhealthy"},                                 \
		{"health-start-interval",                                                            \
		 0,                                                                                  \
		 FK_CUSTOM,                                                                          \
		 "duration",                                                                         \
		 "0s",                                                                               \
		 "Time between running the check during the start period (ms|s|m|h)",                \
		 0,                                                                                  \
		 chk_duration,                                                                       \
		 "1.44"},                                                                            \
		{"health-start-period",                                                              \
		 0,                                                                                  \
		 FK_CUSTOM,                                                                          \
		 "duration",                                                                         \
		 "0s",                                                                               \
		 "Start period for the container to initialize before starting health-retries "      \
		 "countdown (ms|s|m|h)",                                                             \
		 0,                                                                                  \
		 chk_duration},                                                                      \
		{"health-timeout",                                                                   \
		 0,                                                                                  \
		 FK_CUSTOM,                                                                          \
		 "duration",                                                                         \
		 "0s",                                                                               \
		 "Maximum time to allow one check to run (ms|s|m|h)",                                \
		 0,                                                                                  \
		 chk_duration},                                                                      \
		{"hostname", 'h', FK_STRING, "string", NULL, "Container host name"},                 \
		{"init",                                                                             \
		 0,                                                                                  \
		 FK_BOOL,                                                                            \
		 NULL,                                                                               \
		 NULL,                                                                               \
		 "Run an init inside the container that forwards signals and reaps processes"},      \
		{"interactive", 'i', FK_BOOL, NULL, NULL, "Keep STDIN open even if not attached"},   \
		{"ip", 0, FK_STRING, "string", NULL, "IPv4 address (e.g., 172.30.100.104)"},         \
		{"ip6", 0, FK_STRING, "string", NULL, "IPv6 address (e.g., 2001:db8::33)"},          \
		{"label", 'l',	      FK_LIST, "list", NULL, "Set meta data on a container",         \
		 0,	  check_label},                                                              \
		{"label-file", 0, FK_LIST, "list", NULL, "Read in a line delimited file of labels"}, \
		{"mac-address", 0,    FK_STRING,                                                     \
		 "string",	NULL, "Container MAC address (e.g., 92:d0:c6:0a:29:33)"},            \
		{"memory", 'm', FK_CUSTOM, "bytes", NULL, "Memory limit", 0, check_bytes},           \
		{"memory-swap",                                                                      \
		 0,                                                                                  \
		 FK_CUSTOM,                                                                          \
		 "bytes",                                                                            \
		 NULL,                                                                               \
		 "Swap limit equal to memory plus swap: '-1' to enable unlimited swap",              \
		 0,                                                                                  \
		 check_bytes_or_unlimited},                                                          \
		{"mount", 0,	    FK_LIST,                                                         \
		 "mount", NULL,	    "Attach a filesystem mount to the container",                    \
		 0,	  chk_mount},                                                                \
		{"name", 0, FK_STRING, "string", NULL, "Assign a name to the container"},            \
		{"network", 0, FK_STRING, "network", NULL, "Connect a container to a network"},      \
		{"no-healthcheck",                                                                   \
		 0,                                                                                  \
		 FK_BOOL,                                                                            \
		 NULL,                                                                               \
		 NULL,                                                                               \
		 "Disable any container-specified HEALTHCHECK"},                                     \
		{"network-alias", 0,	FK_LIST,                                                     \
		 "list",	  NULL, "Add network-scoped alias for the container"},               \
		{"pids-limit", 0,    FK_INT,                                                         \
		 "int",	       NULL, "Tune container pids limit (set -1 for unlimited)"},            \
		{"privileged", 0,    FK_BOOL,                                                        \
		 NULL,	       NULL, "Give extended privileges to this container"},                  \
		{"publish", 'p',  FK_LIST,                                                           \
		 "list",    NULL, "Publish a container's port(s) to the host"},                      \
		{"publish-all", 'P',  FK_BOOL,                                                       \
		 NULL,		NULL, "Publish all exposed ports to random ports"},                  \
		{"read-only", 0,    FK_BOOL,                                                         \
		 NULL,	      NULL, "Mount the container's root filesystem as read only"},           \
		{"restart", 0,	  FK_STRING,                                                         \
		 "string",  "no", "Restart policy to apply when a container exits"},                 \
		{"security-opt", 0, FK_LIST, "list", NULL, "Security Options"},                      \
		{"shm-size", 0, FK_CUSTOM, "bytes", NULL, "Size of /dev/shm", 0, check_bytes},       \
		{"stop-signal", 0, FK_STRING, "string", NULL, "Signal to stop the container"},       \
		{"stop-timeout", 0,    FK_INT,                                                       \
		 "int",		 NULL, "Timeout (in seconds) to stop a container"},                  \
		{"tmpfs", 0, FK_LIST, "list", NULL, "Mount a tmpfs directory"},                      \
		{"tty", 't', FK_BOOL, NULL, NULL, "Allocate a pseudo-TTY"},                          \
		{"ulimit", 0, FK_LIST, "ulimit", NULL, "Ulimit options", 0, chk_ulimit},             \
		{"user",   'u',	 FK_STRING,                                                          \
		 "string", NULL, "Username or UID (format: <name|uid>[:<group|gid>])"},              \
		{"volume", 'v', FK_LIST, "list", NULL, "Bind mount a volume"},                       \
		{"volumes-from", 0,    FK_LIST,                                                      \
		 "list",	 NULL, "Mount volumes from the specified container(s)"},             \
		{"workdir", 'w',  FK_STRING,                                                         \
		 "string",  NULL, "Working directory inside the container"},                         \
		{"net",	     0, FK_STRING, "network", NULL, "Connect a container to a network",      \
		 FLAG_HIDDEN},                                                                       \
	{                                                                                            \
		"net-alias", 0, FK_LIST, "list", NULL,                                               \
			"Add network-scoped alias for the container", FLAG_HIDDEN                    \
	}

/* the namespace, resource, logging and image flags (kept apart from CREATE_FLAGS: help sorts) */
#define CREATE_FLAGS_MORE                                                                           \
	{"attach", 'a',		FK_LIST, "list", NULL, "Attach to STDIN, STDOUT or STDERR",         \
	 0,	   attach_check},                                                                   \
		{"annotation",                                                                      \
		 0,                                                                                 \
		 FK_LIST,                                                                           \
		 "map",                                                                             \
		 "map[]",                                                                           \
		 "Add an annotation to the container (passed through to the OCI runtime)",          \
		 0,                                                                                 \
		 NULL,                                                                              \
		 "1.43"},                                                                           \
		{"blkio-weight",                                                                    \
		 0,                                                                                 \
		 FK_CUSTOM,                                                                         \
		 "uint16",                                                                          \
		 NULL,                                                                              \
		 "Block IO (relative weight), between 10 and 1000, or 0 to disable (default 0)",    \
		 0,                                                                                 \
		 chk_uint16},                                                                       \
		{"blkio-weight-device",                                                             \
		 0,                                                                                 \
		 FK_LIST,                                                                           \
		 "list",                                                                            \
		 "[]",                                                                              \
		 "Block IO weight (relative device weight)",                                        \
		 0,                                                                                 \
		 weight_device_check},                                                              \
		{"device-cgroup-rule",                                                              \
		 0,                                                                                 \
		 FK_LIST,                                                                           \
		 "list",                                                                            \
		 NULL,                                                                              \
		 "Add a rule to the cgroup allowed devices list",                                   \
		 0,                                                                                 \
		 device_cgroup_rule_check},                                                         \
		{"device-read-bps",                                                                 \
		 0,                                                                                 \
		 FK_LIST,                                                                           \
		 "list",                                                                            \
		 "[]",                                                                              \
		 "Limit read rate (bytes per second) from a device",                                \
		 0,                                                                                 \
		 throttle_bps_check},                                                               \
		{"device-read-iops",                                                                \
		 0,                                                                                 \
		 FK_LIST,                                                                           \
		 "list",                                                                            \
		 "[]",                                                                              \
		 "Limit read rate (IO per second) from a device",                                   \
		 0,                                                                                 \
		 throttle_iops_check},                                                              \
		{"device-write-bps",                                                                \
		 0,                                                                                 \
		 FK_LIST,                                                                           \
		 "list",                                                                            \
		 "[]",                                                                              \
		 "Limit write rate (bytes per second) to a device",                                 \
		 0,                                                                                 \
		 throttle_bps_check},                                                               \
		{"device-write-iops",                                                               \
		 0,                                                                                 \
		 FK_LIST,                                                                           \
		 "list",                                                                            \
		 "[]",                                                                              \
		 "Limit write rate (IO per second) to a device",                                    \
		 0,                                                                                 \
		 throttle_iops_check},                                                              \
		{"gpus",  0,                                                                        \
		 FK_LIST, "gpu-request",                                                            \
		 NULL,	  "GPU devices to add to the container ('all' to pass all GPUs)",           \
		 0,	  gpus_check,                                                               \
		 "1.40"},                                                                           \
		{"runtime", 0, FK_STRING, "string", NULL, "Runtime to use for this container"},     \
		{"use-api-socket",                                                                  \
		 0,                                                                                 \
		 FK_BOOL,                                                                           \
		 NULL,                                                                              \
		 NULL,                                                                              \
		 "Bind mount Docker API socket and required auth"},                                 \
		{"storage-opt", 0,    FK_LIST,                                                      \
		 "list",	NULL, "Storage driver options for the container"},                  \
		{"volume-driver", 0,	FK_STRING,                                                  \
		 "string",	  NULL, "Optional volume driver for the container"},                \
		{"cgroup-parent", 0,	FK_STRING,                                                  \
		 "string",	  NULL, "Optional parent cgroup for the container"},                \
		{"cgroupns",                                                                        \
		 0,                                                                                 \
		 FK_STRING,                                                                         \
		 "string",                                                                          \
		 NULL,                                                                              \
		 "Cgroup namespace to use (host|private)\n'host':    Run the container in the "     \
		 "Docker host's cgroup namespace\n'private': Run the container in its own "         \
		 "private "                                                                         \
		 "cgroup namespace\n'':        Use the cgroup namespace as configured by the\n"     \
		 "           default-cgroupns-mode option on the daemon (default)"},                \
		{"cidfile", 0, FK_STRING, "string", NULL, "Write the container ID to the file"},    \
		{"cpu-period", 0,    FK_INT,                                                        \
		 "int",	       NULL, "Limit CPU CFS (Completely Fair Scheduler) period"},           \
		{"cpu-quota", 0,    FK_INT,                                                         \
		 "int",	      NULL, "Limit CPU CFS (Completely Fair Scheduler) quota"},             \
		{"cpu-rt-period", 0,	FK_INT,                                                     \
		 "int",		  NULL, "Limit CPU real-time period in microseconds"},              \
		{"cpu-rt-runtime",                                                                  \
		 0,                                                                                 \
		 FK_INT,                                                                            \
		 "int",                                                                             \
		 NULL,                                                                              \
		 "Limit CPU real-time runtime in microseconds"},                                    \
		{"cpuset-mems", 0,    FK_STRING,                                                    \
		 "string",	NULL, "MEMs in which to allow execution (0-3, 0,1)"},               \
		{"domainname", 0, FK_STRING, "string", NULL, "Container NIS domain name"},          \
		{"group-add", 0, FK_LIST, "list", NULL, "Add additional groups to join"},           \
		{"ipc", 0, FK_STRING, "string", NULL, "IPC mode to use"},                           \
		{"isolation", 0, FK_STRING, "string", NULL, "Container isolation technology"},      \
		{"kernel-memory",	0, FK_CUSTOM,  "bytes", NULL,                               \
		 "Kernel memory limit", 0, check_bytes},                                            \
		{"link", 0, FK_LIST, "list", NULL, "Add link to another container", 0, link_check}, \
		{"link-local-ip", 0,	FK_LIST,                                                    \
		 "list",	  NULL, "Container IPv4/IPv6 link-local addresses"},                \
		{"log-driver", 0, FK_STRING, "string", NULL, "Logging driver for the container"},   \
		{"log-opt", 0, FK_LIST, "list", NULL, "Log driver options"},                        \
		{"memory-reservation", 0, FK_CUSTOM,  "bytes", NULL,                                \
		 "Memory soft limit",  0, check_bytes},                                             \
		{"memory-swappiness",                                                               \
		 0,                                                                                 \
		 FK_INT,                                                                            \
		 "int",                                                                             \
		 "-1",                                                                              \
		 "Tune container memory swappiness (0 to 100)"},                                    \
		{"oom-kill-disable", 0, FK_BOOL, NULL, NULL, "Disable OOM Killer"},                 \
		{"oom-score-adj", 0,	FK_INT,                                                     \
		 "int",		  NULL, "Tune host's OOM preferences (-1000 to 1000)"},             \
		{"pid", 0, FK_STRING, "string", NULL, "PID namespace to use"},                      \
		{"platform", 0,	   FK_STRING,                                                       \
		 "string",   NULL, "Set platform if server is multi-platform capable"},             \
		{"quiet", 'q', FK_BOOL, NULL, NULL, "Suppress the pull output"},                    \
		{"pull",    0,                                                                      \
		 FK_STRING, "string",                                                               \
		 "missing", "Pull image before running (\"always\", \"missing\", \"never\")"},      \
		{"sysctl", 0, FK_LIST, "map", "map[]", "Sysctl options", 0, sysctl_check},          \
		{"userns", 0, FK_STRING, "string", NULL, "User namespace to use"},                  \
	{                                                                                           \
		"uts", 0, FK_STRING, "string", NULL, "UTS namespace to use"                         \
	}

static const struct cli_flag create_flags[] = {CREATE_FLAGS, CREATE_FLAGS_MORE};

static const struct cli_flag run_flags[] = {
	CREATE_FLAGS,
	CREATE_FLAGS_MORE,
	{"detach", 'd', FK_BOOL, NULL, NULL, "Run container in background and print container ID"},
	{"detach-keys", 0, FK_STRING, "string", NULL,
	 "Override the key sequence for detaching a container"},
	{"sig-proxy", 0, FK_BOOL, NULL, "true", "Proxy received signals to the process"},
	{"rm", 0, FK_BOOL, NULL, NULL,
	 "Automatically remove the container and its associated "
	 "anonymous volumes when it exits"},
};

/* ---- the create request ------------------------------------------------------------------------ */

static void set_list(json_t *o, const char *key, const struct flag_value *v)
{
	if (!v->n)
		return;
	json_t *a = json_array();
	for (size_t i = 0; i < v->n; i++)
		json_array_append_new(a, json_string(v->v[i]));
	json_object_set_new(o, key, a);
}

/*
 * o[key]: each value of v through parse, in order (nothing when v has none); -1 with *err at the
 * first value parse refuses.
 */
static int set_parsed(json_t *o, const char *key, const struct flag_value *v,
		      json_t *(*parse)(const char *value, char **err), char **err)
{
	if (!v->n)
		return 0;
	json_t *l = json_array();
	json_object_set_new(o, key, l);
	for (size_t i = 0; i < v->n; i++) {
		json_t *x = parse(v->v[i], err);
		if (!x)
			return -1;
		json_array_append_new(l, x);
	}
	return 0;
}

/* ip_check's address (always ASCII) as a JSON string */
static json_t *ip_json(const char *value, char **err)
{
	char *ip = ip_check(value, err);
	json_t *j = ip ? json_string(ip) : NULL;

	free(ip);
	return j;
}

/* opts.NormalizeCapabilities: upper case, "CAP_" added (not to "ALL"), duplicates dropped */
static void caps(json_t *o, const char *key, const struct flag_value *v)
{
	if (!v->n)
		return;
	json_t *a = json_array();
	for (size_t i = 0; i < v->n; i++) {
		_cleanup_sbuf_ struct sbuf b = SBUF_INIT;
		const char *s = v->v[i];
		while (*s == ' ' || *s == '\t')
			s++;
		for (; *s && *s != ' ' && *s != '\t'; s++)
			sbuf_addc(&b, (char)(*s >= 'a' && *s <= 'z' ? *s - 32 : *s));
		if (!b.len)
			continue;
		_cleanup_free_ char *cap =
			strcmp(sbuf_str(&b), "ALL") == 0 ||
					berth_str_has_prefix(sbuf_str(&b), "CAP_")
				? xstrdup(sbuf_str(&b))
				: xasprintf("CAP_%s", sbuf_str(&b));
		bool dup = false;
		size_t k;
		json_t *e;
		json_array_foreach (a, k, e)
			dup = dup || strcmp(json_string_value(e), cap) == 0;
		if (!dup)
			json_array_append_new(a, json_string(cap));
	}
	json_object_set_new(o, key, a);
}

/* "docker: MSG\n\nRun 'docker run --help' for more information" (docker's reportError) */
static int report(const struct cli_args *a, const char *msg)
{
	err_printf("%s: %s\n\nRun '%s --help' for more information\n", CLI_NAME, msg, a->path);
	return EXIT_DAEMON_ERROR;
}

/* A 48-bit MAC as Go's net.ParseMAC takes it (aa:bb:.., aa-bb-.., aabb.ccdd.eeff), docker's check. */
static bool mac_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 17 && (s[2] == ':' || s[2] == '-')) {
		for (size_t i = 0; i < n; i++)
			if (i % 3 == 2 ? s[i] != s[2] : !isxdigit((unsigned char)s[i]))
				return false;
		return true;
	}
	if (n == 14) {
		for (size_t i = 0; i < n; i++)
			if (i % 5 == 4 ? s[i] != '.' : !isxdigit((unsigned char)s[i]))
				return false;
		return true;
	}
	return false;
}

static int report_free(const struct cli_args *a, char *msg)
{
	int r = report(a, msg);
	free(msg);
	return r;
}

static const struct flag_value *fv(const struct cli_args *a, const char *name)
{
	return flag_get(a, name);
}

/* container.*Mode.Valid() as docker's CLI checks them: "" or host, and container:<x> for PID */
static bool mode_valid(const char *m, bool container)
{
	return !*m || strcmp(m, "host") == 0 ||
	       (container && berth_str_has_prefix(m, "container:") && m[strlen("container:")]);
}

static void set_str_field(json_t *o, const char *key, const char *v)
{
	if (v && *v)
		json_object_set_new(o, key, json_string(v));
}

/* The namespace, resource and logging flags of CREATE_FLAGS_MORE (runconfig's parse). */
static int more_host_config(struct cli_args *a, json_t *body, json_t *hc, char **err)
{
	const char *pid = flag_str(a, "pid") ?: "", *uts = flag_str(a, "uts") ?: "";
	const char *userns = flag_str(a, "userns") ?: "", *cgns = flag_str(a, "cgroupns") ?: "";
	int64_t bytes;
	size_t i;

	if (flag_set(a, "memory-swappiness")) {
		int64_t sw = flag_get(a, "memory-swappiness")->i;
		if (sw != -1 && (sw < 0 || sw > 100)) {
			*err = xasprintf(
				"invalid value: %lld. Valid memory swappiness range is 0-100",
				(long long)sw);
			return -1;
		}
		if (sw != -1)
			json_object_set_new(hc, "MemorySwappiness", json_integer(sw));
	}
	if (!mode_valid(pid, true)) {
		*err = xstrdup("--pid: invalid PID mode");
		return -1;
	}
	if (!mode_valid(uts, false)) {
		*err = xstrdup("--uts: invalid UTS mode");
		return -1;
	}
	if (!mode_valid(userns, false)) {
		*err = xstrdup("--userns: invalid USER mode");
		return -1;
	}
	if (*cgns && strcmp(cgns, "host") != 0 && strcmp(cgns, "private") != 0) {
		*err = xstrdup("--cgroupns: invalid CGROUP mode");
		return -1;
	}
	set_str_field(hc, "PidMode", pid);
	set_str_field(hc, "UTSMode", uts);
	set_str_field(hc, "UsernsMode", userns);
	set_str_field(hc, "CgroupnsMode", cgns);
	set_str_field(hc, "IpcMode", flag_str(a, "ipc"));
	/* berthd answers as dockerd on Linux: only "default"; a kernel memory limit is dropped
	 * from API 1.42 on, and refused or warned about before (lib/dockerspec/create.c) */
	set_str_field(hc, "Isolation", flag_str(a, "isolation"));
	if (flag_set(a, "kernel-memory") && ram_in_bytes(flag_str(a, "kernel-memory"), &bytes) == 0)
		json_object_set_new(hc, "KernelMemory", json_integer(bytes));
	set_str_field(hc, "CgroupParent", flag_str(a, "cgroup-parent"));
	set_str_field(hc, "CpusetMems", flag_str(a, "cpuset-mems"));
	set_str_field(body, "Domainname", flag_str(a, "domainname"));
	set_str_field(hc, "ContainerIDFile", flag_str(a, "cidfile"));
	set_list(hc, "GroupAdd", fv(a, "group-add"));
	set_list(hc, "Links", fv(a, "link"));
	if (flag_set(a, "memory-reservation") &&
	    ram_in_bytes(flag_str(a, "memory-reservation"), &bytes) == 0)
		json_object_set_new(hc, "MemoryReservation", json_integer(bytes));
	static const char *const ints[][2] = {{"cpu-period", "CpuPeriod"},
					      {"cpu-quota", "CpuQuota"},
					      {"cpu-rt-period", "CpuRealtimePeriod"},
					      {"cpu-rt-runtime", "CpuRealtimeRuntime"},
					      {"oom-score-adj", "OomScoreAdj"}};
	for (i = 0; i < ARRAY_SIZE(ints); i++)
		if (flag_set(a, ints[i][0]))
			json_object_set_new(hc, ints[i][1],
					    json_integer(flag_get(a, ints[i][0])->i));
	if (flag_bool(a, "oom-kill-disable"))
		json_object_set_new(hc, "OomKillDisable", json_true());
	if (fv(a, "sysctl")->n) {
		json_t *m = json_object();
		json_object_set_new(hc, "Sysctls", m);
		for (i = 0; i < fv(a, "sysctl")->n; i++) {
			const char *kv = fv(a, "sysctl")->v[i], *eq = strchr(kv, '=');
			_cleanup_free_ char *k = xstrndup(kv, (size_t)(eq - kv));
			json_object_set_new(m, k, json_string(eq + 1));
		}
	}
	if (fv(a, "annotation")->n) {
		json_t *m = json_object();
		json_object_set_new(hc, "Annotations", m);
		for (i = 0; i < fv(a, "annotation")->n; i++) {
			const char *kv = fv(a, "annotation")->v[i], *eq = strchr(kv, '=');
			_cleanup_free_ char *k = eq ? xstrndup(kv, (size_t)(eq - kv)) : xstrdup(kv);
			json_object_set_new(m, k, json_string(eq ? eq + 1 : ""));
		}
	}
	if (flag_set(a, "blkio-weight"))
		json_object_set_new(
			hc, "BlkioWeight",
			json_integer((json_int_t)strtoull(flag_str(a, "blkio-weight"), NULL, 0)));
	{
		json_t *l = json_object_get(hc, "BlkioWeightDevice");
		for (i = 0; i < fv(a, "blkio-weight-device")->n; i++)
			json_array_append_new(
				l, weight_device_parse(fv(a, "blkio-weight-device")->v[i], err));
		static const char *const thr[][2] = {{"device-read-bps", "BlkioDeviceReadBps"},
						     {"device-write-bps", "BlkioDeviceWriteBps"},
						     {"device-read-iops", "BlkioDeviceReadIOps"},
						     {"device-write-iops", "BlkioDeviceWriteIOps"}};
		for (size_t t = 0; t < ARRAY_SIZE(thr); t++) {
			l = json_object_get(hc, thr[t][1]);
			for (i = 0; i < fv(a, thr[t][0])->n; i++)
				json_array_append_new(
					l, throttle_device_parse(fv(a, thr[t][0])->v[i],
								 strstr(thr[t][0], "iops") != NULL,
								 err));
		}
	}
	set_list(hc, "DeviceCgroupRules", fv(a, "device-cgroup-rule"));
	if (fv(a, "gpus")->n) {
		json_t *l = json_array();
		json_object_set_new(hc, "DeviceRequests", l);
		for (i = 0; i < fv(a, "gpus")->n; i++)
			json_array_append_new(l, gpus_parse(fv(a, "gpus")->v[i], err));
	}
	set_str_field(hc, "Runtime", flag_str(a, "runtime"));
	set_str_field(hc, "VolumeDriver", flag_str(a, "volume-driver"));
	if (fv(a, "storage-opt")->n) {
		json_t *m = json_object();
		json_object_set_new(hc, "StorageOpt", m);
		for (i = 0; i < fv(a, "storage-opt")->n; i++) {
			const char *kv = fv(a, "storage-opt")->v[i], *eq = strchr(kv, '=');
			if (!eq) {
				*err = xstrdup("invalid storage option");
				return -1;
			}
			_cleanup_free_ char *k = xstrndup(kv, (size_t)(eq - kv));
			json_object_set_new(m, k, json_string(eq + 1));
		}
	}
	/* parseLoggingOpts: "k=v" each ("k" alone is an empty value); none takes none */
	const char *driver = flag_str(a, "log-driver");
	const struct flag_value *lo = fv(a, "log-opt");
	if (driver && strcmp(driver, "none") == 0 && lo->n) {
		*err = xasprintf("invalid logging opts for driver %s", driver);
		return -1;
	}
	if ((driver && *driver) || lo->n) {
		json_t *cfg = json_object();
		for (i = 0; i < lo->n; i++) {
			const char *eq = strchr(lo->v[i], '=');
			_cleanup_free_ char *k = eq ? xstrndup(lo->v[i], (size_t)(eq - lo->v[i]))
						    : xstrdup(lo->v[i]);
			json_object_set_new(cfg, k, json_string(eq ? eq + 1 : ""));
		}
		json_object_set_new(hc, "LogConfig",
				    json_pack("{s:s,s:o}", "Type", driver ?: "", "Config", cfg));
	}
	return 0;
}

/* The body of POST /containers/create, or NULL with the error reported (exit 125). */
static json_t *build_create(struct cli_args *a, bool detach, int *ret)
{
	_cleanup_json_ json_t *body = json_object(), *lab = NULL;
	json_t *hc = json_object();
	json_t *exposed = json_object(), *bindings = json_object();
	char *err = NULL;
	size_t i;

	json_object_set_new(body, "HostConfig", hc);
	*ret = EXIT_DAEMON_ERROR;
	/* the lists docker's CLI always sends, empty (not null) when no flag fills them */
	static const char *const lists[] = {"BlkioWeightDevice",
					    "BlkioDeviceReadBps",
					    "BlkioDeviceWriteBps",
					    "BlkioDeviceReadIOps",
					    "BlkioDeviceWriteIOps",
					    "Devices",
					    "Ulimits",
					    "Dns",
					    "DnsOptions",
					    "DnsSearch"};
	for (i = 0; i < ARRAY_SIZE(lists); i++)
		json_object_set_new(hc, lists[i], json_array());

	const char *hostname = flag_str(a, "hostname");
	if (hostname && *hostname)
		json_object_set_new(body, "Hostname", json_string(hostname));
	const char *user = flag_str(a, "user");
	if (user && *user)
		json_object_set_new(body, "User", json_string(user));

	/* ports: -p, --expose */
	for (i = 0; i < fv(a, "publish")->n; i++)
		if (port_spec_parse(fv(a, "publish")->v[i], exposed, bindings, &err) < 0)
			goto fail;
	for (i = 0; i < fv(a, "expose")->n; i++)
		if (expose_parse(fv(a, "expose")->v[i], exposed, &err) < 0)
			goto fail;

	bool tty = flag_bool(a, "tty"), in = flag_bool(a, "interactive");
	if (tty)
		json_object_set_new(body, "Tty", json_true());
	if (in)
		json_object_set_new(body, "OpenStdin", json_true());
	if (!detach) {
		/* -a picks the streams (stdout and stderr without it); -i attaches stdin too */
		const struct flag_value *att = fv(a, "attach");
		bool att_in = in, att_out = !att->n, att_err = !att->n;
		for (i = 0; i < att->n; i++) {
			att_in = att_in || strcasecmp(att->v[i], "stdin") == 0;
			att_out = att_out || strcasecmp(att->v[i], "stdout") == 0;
			att_err = att_err || strcasecmp(att->v[i], "stderr") == 0;
		}
		if (att_in)
			json_object_set_new(body, "AttachStdin", json_true());
		if (att_in && in)
			json_object_set_new(body, "StdinOnce", json_true());
		if (att_out)
			json_object_set_new(body, "AttachStdout", json_true());
		if (att_err)
			json_object_set_new(body, "AttachStderr", json_true());
	}
	if (json_object_size(exposed))
		json_object_set(body, "ExposedPorts", exposed);

	/* env: the files first, then -e */
	json_t *env = json_array();
	json_object_set_new(body, "Env", env);
	for (i = 0; i < fv(a, "env-file")->n; i++)
		if (env_file_parse(fv(a, "env-file")->v[i], env, &err) < 0)
			goto fail;
	for (i = 0; i < fv(a, "env")->n; i++)
		env_value_add(fv(a, "env")->v[i], env);
	if (!json_array_size(env))
		json_object_del(body, "Env");

	/* the command */
	if (a->argc > 1) {
		json_t *cmd = json_array();
		for (int k = 1; k < a->argc; k++)
			json_array_append_new(cmd, json_string(a->argv[k]));
		json_object_set_new(body, "Cmd", cmd);
	}
	json_object_set_new(body, "Image", json_string(a->argv[0]));

	/* -v: binds, and anonymous volumes (no ':') as Config.Volumes */
	json_t *binds = json_array(), *volumes = json_object();
	for (i = 0; i < fv(a, "volume")->n; i++) {
		const char *v = fv(a, "volume")->v[i];
		if (!*v) {
			err = xstrdup("invalid empty volume spec");
			json_decref(binds);
			json_decref(volumes);
			goto fail;
		}
		if (strchr(v, ':'))
			json_array_append_new(binds, json_string(v));
		else
			json_object_set_new(volumes, v, json_object());
	}
	if (json_object_size(volumes))
		json_object_set(body, "Volumes", volumes);
	json_decref(volumes);

	const char *wd = flag_str(a, "workdir");
	if (wd && *wd)
		json_object_set_new(body, "WorkingDir", json_string(wd));
	if (flag_set(a, "entrypoint")) {
		const char *ep = flag_str(a, "entrypoint");
		json_object_set_new(body, "Entrypoint", json_pack("[s]", ep ? ep : ""));
	}

	/* labels: the files first, then -l; "k" alone is an empty value */
	lab = json_array();
	for (i = 0; i < fv(a, "label-file")->n; i++)
		if (env_file_parse(fv(a, "label-file")->v[i], lab, &err) < 0) {
			json_decref(binds);
			goto fail;
		}
	for (i = 0; i < fv(a, "label")->n; i++)
		json_array_append_new(lab, json_string(fv(a, "label")->v[i]));
	if (json_array_size(lab)) {
		json_t *labels = json_object();
		json_t *e;
		json_array_foreach (lab, i, e) {
			const char *s = json_string_value(e), *eq = strchr(s, '=');
			_cleanup_free_ char *k = eq ? xstrndup(s, (size_t)(eq - s)) : xstrdup(s);
			json_object_set_new(labels, k, json_string(eq ? eq + 1 : ""));
		}
		json_object_set_new(body, "Labels", labels);
	}
	/* the healthcheck (runconfig's parse) */
	{
		static const char *const durs[] = {"health-interval", "health-timeout",
						   "health-start-period", "health-start-interval"};
		static const char *const keys[] = {"Interval", "Timeout", "StartPeriod",
						   "StartInterval"};
		const char *hcmd = flag_str(a, "health-cmd");
		int64_t ns[4] = {0};
		bool have = (hcmd && *hcmd) || flag_get(a, "health-retries")->i != 0;
		for (size_t k = 0; k < 4; k++) {
			const char *v = flag_str(a, durs[k]);
			_cleanup_free_ char *derr = NULL;
			if (v && go_parse_duration(v, &ns[k], &derr) < 0)
				ns[k] = 0;
			have = have || ns[k] != 0;
		}
		if (flag_bool(a, "no-healthcheck")) {
			if (have) {
				err = xstrdup("--no-healthcheck conflicts with --health-* options");
				goto fail;
			}
			json_object_set_new(body, "Healthcheck",
					    json_pack("{s:[s]}", "Test", "NONE"));
		} else if (have) {
			json_t *health = json_object();
			json_object_set_new(body, "Healthcheck", health);
			if (hcmd && *hcmd)
				json_object_set_new(health, "Test",
						    json_pack("[s,s]", "CMD-SHELL", hcmd));
			for (size_t k = 0; k < 4; k++) {
				if (ns[k] < 0) {
					err = xasprintf("--%s cannot be negative", durs[k]);
					goto fail;
				}
				if (ns[k])
					json_object_set_new(health, keys[k], json_integer(ns[k]));
			}
			int64_t retries = flag_get(a, "health-retries")->i;
			if (retries < 0) {
				err = xstrdup("--health-retries cannot be negative");
				goto fail;
			}
			if (retries)
				json_object_set_new(health, "Retries", json_integer(retries));
		}
	}
	const char *ss = flag_str(a, "stop-signal");
	if (ss && *ss)
		json_object_set_new(body, "StopSignal", json_string(ss));
	if (flag_set(a, "stop-timeout"))
		json_object_set_new(body, "StopTimeout",
				    json_integer(flag_get(a, "stop-timeout")->i));

	/* HostConfig */
	if (json_array_size(binds))
		json_object_set(hc, "Binds", binds);
	json_decref(binds);
	int64_t bytes;
	if (flag_set(a, "memory") && ram_in_bytes(flag_str(a, "memory"), &bytes) == 0)
		json_object_set_new(hc, "Memory", json_integer(bytes));
	if (flag_set(a, "memory-swap")) {
		const char *s = flag_str(a, "memory-swap");
		if (strcmp(s, "-1") == 0)
			bytes = -1;
		else
			ram_in_bytes(s, &bytes);
		json_object_set_new(hc, "MemorySwap", json_integer(bytes));
	}
	if (flag_set(a, "cpus")) {
		int64_t n = 0;
		nano_cpus_parse(flag_str(a, "cpus"), &n, &err);
		json_object_set_new(hc, "NanoCpus", json_integer(n));
	}
	if (flag_set(a, "cpu-shares"))
		json_object_set_new(hc, "CpuShares", json_integer(flag_get(a, "cpu-shares")->i));
	const char *cpuset = flag_str(a, "cpuset-cpus");
	if (cpuset && *cpuset)
		json_object_set_new(hc, "CpusetCpus", json_string(cpuset));
	if (flag_set(a, "pids-limit"))
		json_object_set_new(hc, "PidsLimit", json_integer(flag_get(a, "pids-limit")->i));
	if (set_parsed(hc, "Ulimits", fv(a, "ulimit"), ulimit_parse, &err) < 0)
		goto fail;
	if (flag_bool(a, "read-only"))
		json_object_set_new(hc, "ReadonlyRootfs", json_true());
	if (fv(a, "tmpfs")->n) {
		json_t *t = json_object();
		json_object_set_new(hc, "Tmpfs", t);
		for (i = 0; i < fv(a, "tmpfs")->n; i++)
			if (tmpfs_parse(fv(a, "tmpfs")->v[i], t, &err) < 0)
				goto fail;
	}
	if (flag_set(a, "shm-size") && ram_in_bytes(flag_str(a, "shm-size"), &bytes) == 0)
		json_object_set_new(hc, "ShmSize", json_integer(bytes));
	if (flag_set(a, "init"))
		json_object_set_new(hc, "Init", json_boolean(flag_bool(a, "init")));
	if (flag_bool(a, "privileged"))
		json_object_set_new(hc, "Privileged", json_true());
	caps(hc, "CapAdd", fv(a, "cap-add"));
	caps(hc, "CapDrop", fv(a, "cap-drop"));
	if (fv(a, "security-opt")->n) {
		json_t *so = json_array();
		json_object_set_new(hc, "SecurityOpt", so);
		for (i = 0; i < fv(a, "security-opt")->n; i++) {
			char *s = security_opt_parse(fv(a, "security-opt")->v[i], &err);
			if (!s)
				goto fail;
			json_array_append_new(so, json_string(s));
			free(s);
		}
	}
	if (set_parsed(hc, "Devices", fv(a, "device"), device_parse, &err) < 0)
		goto fail;
	json_object_set(hc, "PortBindings", bindings);
	if (flag_bool(a, "publish-all"))
		json_object_set_new(hc, "PublishAllPorts", json_true());
	if (set_parsed(hc, "Mounts", fv(a, "mount"), mount_parse, &err) < 0)
		goto fail;
	set_list(hc, "VolumesFrom", fv(a, "volumes-from"));
	set_list(hc, "ExtraHosts", fv(a, "add-host"));
	if (set_parsed(hc, "Dns", fv(a, "dns"), ip_json, &err) < 0)
		goto fail;
	set_list(hc, "DnsSearch", fv(a, "dns-search"));
	set_list(hc, "DnsOptions", fv(a, "dns-option"));
	if (more_host_config(a, body, hc, &err) < 0)
		goto fail;

	/* --restart, --rm */
	const char *restart = flag_str(a, "restart");
	bool auto_remove = false;
	for (i = 0; i < a->cmd->n_flags; i++)
		if (strcmp(a->cmd->flags[i].name, "rm") == 0)
			auto_remove = flag_bool(a, "rm");
	json_t *rp = NULL;
	if (restart && *restart) {
		rp = restart_parse(restart, &err);
		if (!rp)
			goto fail;
		json_object_set_new(hc, "RestartPolicy", rp);
	}
	if (auto_remove) {
		const char *nm = rp ? json_string_value(json_object_get(rp, "Name")) : "";
		if (nm && *nm && strcmp(nm, "no") != 0) {
			err = xstrdup(
				"conflicting options: cannot specify both --restart and --rm");
			goto fail;
		}
		json_object_set_new(hc, "AutoRemove", json_true());
	}

	/* networks: --network (--net), --ip, --network-alias (--net-alias) */
	const char *net = flag_set(a, "network") ? flag_str(a, "network") : flag_str(a, "net");
	const char *ip = flag_str(a, "ip"), *ip6 = flag_str(a, "ip6");
	struct flag_value aliases = *fv(a, "network-alias");
	const struct flag_value *na2 = fv(a, "net-alias");
	const char **all_aliases = xcalloc(aliases.n + na2->n + 1, sizeof(*all_aliases));
	for (i = 0; i < aliases.n; i++)
		all_aliases[i] = aliases.v[i];
	for (size_t k = 0; k < na2->n; k++)
		all_aliases[i++] = na2->v[k];
	aliases.v = all_aliases;
	aliases.n = i;
	const char *mac = flag_str(a, "mac-address");
	if (mac && *mac && !mac_valid(mac)) {
		free(all_aliases);
		err = xasprintf("%s is not a valid mac address", mac);
		goto fail;
	}
	const char *mode = net && *net ? net : "default";
	json_object_set_new(hc, "NetworkMode", json_string(mode));
	const struct flag_value *lla = fv(a, "link-local-ip");
	if ((net && *net) || (ip && *ip) || (ip6 && *ip6) || aliases.n || (mac && *mac) || lla->n) {
		json_t *ep = json_object();
		if (mac && *mac)
			json_object_set_new(ep, "MacAddress", json_string(mac));
		if (ip && *ip) {
			char *canon = ip_check(ip, &err);
			if (!canon) {
				free(all_aliases);
				json_decref(ep);
				goto fail;
			}
			json_object_set_new(ep, "IPAMConfig",
					    json_pack("{s:s}", "IPv4Address", canon));
			free(canon);
		}
		if (ip6 && *ip6) {
			char *canon = ip_check(ip6, &err);
			if (!canon) {
				free(all_aliases);
				json_decref(ep);
				goto fail;
			}
			if (!json_object_get(ep, "IPAMConfig"))
				json_object_set_new(ep, "IPAMConfig", json_object());
			json_object_set_new(json_object_get(ep, "IPAMConfig"), "IPv6Address",
					    json_string(canon));
			free(canon);
		}
		if (lla->n) { /* checked by berthd, as docker's CLI leaves them to dockerd */
			if (!json_object_get(ep, "IPAMConfig"))
				json_object_set_new(ep, "IPAMConfig", json_object());
			set_list(json_object_get(ep, "IPAMConfig"), "LinkLocalIPs", lla);
		}
		set_list(ep, "Aliases", &aliases);
		json_object_set_new(body, "NetworkingConfig",
				    json_pack("{s:{s:o}}", "EndpointsConfig", mode, ep));
	}
	free(all_aliases);
	json_decref(exposed);
	json_decref(bindings);
	*ret = 0;
	return json_incref(body);
fail:
	json_decref(exposed);
	json_decref(bindings);
	*ret = report_free(a, err);
	return NULL;
}

/* ---- create, with the pull docker does for a missing image ------------------------------------ */

static int pull_image(struct cli *c, const char *image, const char *platform, bool quiet)
{
	struct ref r = {0};
	char *err = NULL;
	_cleanup_sbuf_ struct sbuf t = SBUF_INIT;

	if (ref_parse_normalized(image, &r, &err) < 0) {
		free(err);
		return cli_errorf(c, "invalid reference format");
	}
	_cleanup_free_ char *name = ref_name(&r);
	sbuf_adds(&t, "/images/create?fromImage=");
	url_escape(&t, name);
	sbuf_adds(&t, "&tag=");
	url_escape(&t, r.digest ? r.digest : r.tag ? r.tag : "latest");
	if (platform) {
		sbuf_adds(&t, "&platform=");
		url_escape(&t, platform);
	}
	ref_release(&r);
	if (cli_call_stream(c, "POST", sbuf_str(&t), NULL) < 0)
		return -1;
	/* progress to stderr, as docker's run does: the stream rendered with stdout redirected */
	out_flush();
	int saved = dup(STDOUT_FILENO);
	int sink = quiet ? open("/dev/null", O_WRONLY | O_CLOEXEC) : -1;
	if (saved >= 0)
		dup2(sink >= 0 ? sink : STDERR_FILENO, STDOUT_FILENO);
	if (sink >= 0)
		close(sink);
	int rc = render_json_stream(c);
	out_flush();
	if (saved >= 0) {
		dup2(saved, STDOUT_FILENO);
		close(saved);
	}
	return rc ? -2 : 0;
}

/*
 * --cidfile (docker's cidFile): refused when the file is there, made empty before the create,
 * the id written once there is one, removed again when there is none.
 */
struct cidfile {
	char *path;
	int fd;
	bool written;
};

static int cidfile_open(struct cidfile *f, const char *path, char **err)
{
	struct stat st;

	if (!path || !*path)
		return 0;
	if (stat(path, &st) == 0) {
		*err = xasprintf("container ID file found, make sure the other container isn't "
				 "running or delete %s",
				 path);
		return -1;
	}
	f->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
	if (f->fd < 0) {
		_cleanup_sbuf_ struct sbuf e = SBUF_INIT;
		sbuf_printf(&e, "failed to create the container ID file: open %s: ", path);
		go_errno(&e, errno);
		*err = xstrdup(sbuf_str(&e));
		return -1;
	}
	f->path = xstrdup(path);
	return 0;
}

static void cidfile_write(struct cidfile *f, const char *id)
{
	if (f->fd < 0)
		return;
	if (berth_write_all(f->fd, id, strlen(id)) < 0)
		err_printf("%s: failed to write the container ID to the file: %s\n", CLI_NAME,
			   strerror(errno));
	else
		f->written = true;
}

static void cidfile_release(struct cidfile *f)
{
	if (f->fd >= 0)
		close(f->fd);
	if (f->path && !f->written && unlink(f->path) < 0)
		err_printf("failed to remove the CID file '%s': %s\n", f->path, strerror(errno));
	free(f->path);
}

/* docker's reportError for run, the message as it is (exit 1) for create */
static int create_failed(struct cli_args *a, const char *msg, int *ret)
{
	if (strcmp(a->cmd->name, "create") == 0) {
		err_printf("%s\n", msg);
		*ret = 1;
	} else {
		*ret = report(a, msg);
	}
	return *ret;
}

static const char *create_container(struct cli *c, struct cli_args *a, json_t *body,
				    const char *platform, char **ret_id, int *ret)
{
	_cleanup_sbuf_ struct sbuf t = SBUF_INIT;
	struct cli_response r;
	const char *name = flag_str(a, "name");
	const char *pull = flag_str(a, "pull") ?: "missing";

	sbuf_adds(&t, "/containers/create");
	if (name && *name) {
		sbuf_adds(&t, "?name=");
		url_escape(&t, name);
	}
	if (platform) {
		sbuf_adds(&t, name && *name ? "&platform=" : "?platform=");
		url_escape(&t, platform);
	}
	if (strcmp(pull, "always") == 0) {
		int pr = pull_image(c, a->argv[0], platform, flag_bool(a, "quiet"));
		if (pr == -2) {
			*ret = EXIT_DAEMON_ERROR;
			return NULL;
		}
		if (pr < 0) {
			create_failed(a, c->err, ret);
			return NULL;
		}
	}
	for (int attempt = 0;; attempt++) {
		if (cli_call(c, "POST", sbuf_str(&t), body, &r) == 0)
			break;
		if (attempt == 0 && c->err_status == 404 && strcmp(pull, "missing") == 0 &&
		    (strstr(c->err, "No such image") || strstr(c->err, "does not match the "
								       "specified platform"))) {
			struct ref rf = {0};
			char *err = NULL;
			_cleanup_sbuf_ struct sbuf fam = SBUF_INIT;
			if (ref_parse_normalized(a->argv[0], &rf, &err) == 0) {
				_cleanup_free_ char *f = ref_familiar_name(&rf);
				sbuf_adds(&fam, f);
				if (rf.digest)
					sbuf_printf(&fam, "@%s", rf.digest);
				else
					sbuf_printf(&fam, ":%s", rf.tag ? rf.tag : "latest");
				ref_release(&rf);
			} else {
				free(err);
				sbuf_adds(&fam, a->argv[0]);
			}
			err_printf("Unable to find image '%s' locally\n", sbuf_str(&fam));
			int pr = pull_image(c, a->argv[0], platform, flag_bool(a, "quiet"));
			if (pr == -2) {
				*ret = EXIT_DAEMON_ERROR;
				return NULL;
			}
			if (pr < 0)
				break;
			continue;
		}
		break;
	}
	if (!r.json && c->err) {
		/* docker's create returns the daemon's error as it is (exit 1); run reports it */
		create_failed(a, c->err, ret);
		return NULL;
	}
	json_t *w;
	size_t i;
	json_array_foreach (json_object_get(r.json, "Warnings"), i, w)
		err_printf("WARNING: %s\n", json_string_value(w));
	*ret_id = xstrdup(json_string_value(json_object_get(r.json, "Id")));
	cli_response_release(&r);
	*ret = 0;
	return *ret_id;
}

/* ---- start ------------------------------------------------------------------------------------ */

/* docker's runStartContainerErr: 127 for a missing program, 126 for one that cannot run */
static int start_error_code(const char *msg)
{
	if (strstr(msg, "executable file not found") || strstr(msg, "no such file or directory"))
		return EXIT_NOT_FOUND;
	if (strstr(msg, "permission denied") || strstr(msg, "is a directory"))
		return EXIT_CANNOT_INVOKE;
	return EXIT_DAEMON_ERROR;
}

struct start_ctx {
	int code; /* set when the start failed */
	const struct cli_args *a;
	bool report; /* run: docker's reportError form */
	bool tried;  /* the start was asked for (an attach refused first never gets there) */
};

static int do_start(struct cli *c, const char *id, void *data)
{
	struct start_ctx *s = data;
	_cleanup_sbuf_ struct sbuf t = SBUF_INIT;
	struct cli_response r;

	s->tried = true;
	sbuf_printf(&t, "/containers/%s/start", id);
	if (cli_call(c, "POST", sbuf_str(&t), NULL, &r) < 0) {
		s->code = start_error_code(c->err);
		if (s->report)
			report(s->a, c->err);
		else
			err_printf("%s\n", c->err);
		return -1;
	}
	cli_response_release(&r);
	return 0;
}

/* the wait connection's answer: {"StatusCode":N,"Error":...} */
int read_wait(struct cli *c, struct berth_http_client *w)
{
	_cleanup_free_ char *body = NULL;
	size_t len = 0;
	struct berth_error *e = NULL;

	if (berth_http_client_read_all(w, 1 << 20, &body, &len, &e) < 0) {
		err_printf("%s: error waiting for container: %s\n", CLI_NAME,
			   e && e->msg ? e->msg : "connection lost");
		berth_error_free(e);
		return EXIT_DAEMON_ERROR;
	}
	_cleanup_json_ json_t *j = json_loadb(body, len, 0, NULL);
	const char *msg =
		json_string_value(json_object_get(json_object_get(j, "Error"), "Message"));
	if (msg && *msg) {
		err_printf("%s: error waiting for container: %s\n", CLI_NAME, msg);
		return EXIT_DAEMON_ERROR;
	}
	if (!json_is_integer(json_object_get(j, "StatusCode"))) {
		err_printf("%s: error waiting for container: unexpected EOF\n", CLI_NAME);
		return EXIT_DAEMON_ERROR;
	}
	return (int)json_integer_value(json_object_get(j, "StatusCode"));
}

/* --use-api-socket: where the CLI's credentials go in the container (docker's path) */
#define API_SOCKET_CONFIG "run/secrets/docker/config.json"

/*
 * --use-api-socket (docker 28): the daemon's socket (the CLI's own unix endpoint) bind-mounted
 * at /var/run/docker.sock, and unless the container's environment names a DOCKER_CONFIG, the
 * CLI's registry credentials (config.json's "auths") as *ret_auths, for the container's
 * /run/secrets/docker/config.json, with DOCKER_CONFIG pointing there.
 */
static int api_socket_prepare(struct cli *c, json_t *body, json_t **ret_auths, char **err)
{
	json_t *hc = json_object_get(body, "HostConfig");
	json_t *ms = json_object_get(hc, "Mounts");
	const json_t *auths = json_object_get(cli_config_file(c), "auths");
	json_t *env = json_object_get(body, "Env");
	size_t i;
	json_t *e;

	if (!berth_str_has_prefix(c->host, "unix://")) {
		*err = xasprintf("flag --use-api-socket can only be used with unix sockets: docker "
				 "endpoint %s incompatible",
				 c->host);
		return -1;
	}
	if (!json_is_array(ms)) {
		ms = json_array();
		json_object_set_new(hc, "Mounts", ms);
	}
	json_array_append_new(ms, json_pack("{s:s,s:s,s:s,s:{}}", "Type", "bind", "Source",
					    c->host + strlen("unix://"), "Target",
					    "/var/run/docker.sock", "BindOptions"));
	json_array_foreach (env, i, e)
		if (berth_str_has_prefix(json_string_value(e) ?: "", "DOCKER_CONFIG="))
			return 0;
	if (json_object_size(auths) == 0)
		return 0;
	if (!json_is_array(env)) {
		env = json_array();
		json_object_set_new(body, "Env", env);
	}
	json_array_append_new(env, json_string("DOCKER_CONFIG=/run/secrets/docker"));
	*ret_auths = json_deep_copy(auths);
	return 0;
}

/* a ustar number field: len - 1 octal digits and a NUL (v fits: a config file's size) */
static void tar_octal(char *field, size_t len, uint64_t v)
{
	for (size_t i = len - 1; i-- > 0; v >>= 3)
		field[i] = (char)('0' + (v & 7));
	field[len - 1] = '\0';
}

/* PUT /containers/{id}/archive?path=/ of a one-file tar: {"auths": ...} at API_SOCKET_CONFIG */
static int api_socket_copy_auths(struct cli *c, const char *id, const json_t *auths)
{
	_cleanup_json_ json_t *cfg = json_pack("{s:O}", "auths", auths);
	_cleanup_free_ char *text = json_dumps(cfg, JSON_INDENT(1) | JSON_SORT_KEYS);
	size_t n = text ? strlen(text) : 0, padded = (n + 511) / 512 * 512;
	size_t total = 512 + padded + 1024;
	_cleanup_free_ char *tar = calloc(1, total);
	_cleanup_close_ int fd = -1;
	unsigned sum = 0;

	if (!text || !tar)
		return cli_errorf(c, "out of memory");
	snprintf(tar, 100, "%s", API_SOCKET_CONFIG);
	tar_octal(tar + 100, 8, 0600);
	tar_octal(tar + 108, 8, 0);
	tar_octal(tar + 116, 8, 0);
	tar_octal(tar + 124, 12, n);
	tar_octal(tar + 136, 12, 0);
	memset(tar + 148, ' ', 8);
	tar[156] = '0';
	memcpy(tar + 257, "ustar", 6);
	memcpy(tar + 263, "00", 2);
	for (size_t i = 0; i < 512; i++)
		sum += (unsigned char)tar[i];
	snprintf(tar + 148, 8, "%06o", sum);
	memcpy(tar + 512, text, n);
	fd = memfd_create("config-tar", MFD_CLOEXEC);
	if (fd < 0 || write(fd, tar, total) != (ssize_t)total || lseek(fd, 0, SEEK_SET) < 0)
		return cli_errorf(c, "copying config.json into container failed: %s",
				  strerror(errno));
	_cleanup_sbuf_ struct sbuf t = SBUF_INIT;
	sbuf_printf(&t, "/containers/%s/archive?path=%%2F", id);
	if (cli_call_upload(c, "PUT", sbuf_str(&t), "application/x-tar", fd, "config") < 0)
		return -1;
	char buf[512];
	while (cli_stream_read(c, buf, sizeof(buf)) > 0)
		;
	return 0;
}

static int run_or_create(struct cli *c, struct cli_args *a, bool run)
{
	bool detach = run && flag_bool(a, "detach");
	bool in = flag_bool(a, "interactive"), tty = flag_bool(a, "tty");
	bool auto_remove = run && flag_bool(a, "rm");
	int ret;

	if (run && !detach && in && tty && !is_terminal(STDIN_FILENO)) {
		err_printf("the input device is not a TTY\n");
		return 1;
	}
	_cleanup_json_ json_t *body = build_create(a, detach, &ret);
	if (!body)
		return ret;
	/* validatePullOpt, then runContainer's and createContainer's checks, in docker's order */
	const char *pull = flag_str(a, "pull");
	if (pull && strcmp(pull, "always") != 0 && strcmp(pull, "missing") != 0 &&
	    strcmp(pull, "never") != 0)
		return report_free(a, xasprintf("invalid pull option: '%s': must be one of "
						"\"always\", \"missing\" or \"never\"",
						pull));
	if (detach && fv(a, "attach")->n) {
		err_printf("conflicting options: cannot specify both --attach and --detach\n");
		return 1;
	}
	if (!cli_api_version(c))
		return report(a, c->err);
	_cleanup_free_ char *platform = NULL, *id = NULL;
	_cleanup_(cidfile_release) struct cidfile cid = {.fd = -1};
	char *perr = NULL;
	if (cidfile_open(&cid, flag_str(a, "cidfile"), &perr) < 0 ||
	    run_platform_parse(flag_str(a, "platform"), &platform, &perr) < 0) {
		create_failed(a, perr, &ret);
		free(perr);
		return ret;
	}
	_cleanup_json_ json_t *auths = NULL;
	if (flag_bool(a, "use-api-socket") && api_socket_prepare(c, body, &auths, &perr) < 0) {
		create_failed(a, perr, &ret);
		free(perr);
		return ret;
	}
	if (!create_container(c, a, body, platform, &id, &ret))
		return ret;
	if (auths && api_socket_copy_auths(c, id, auths) < 0)
		return report(a, c->err);
	cidfile_write(&cid, id);
	if (!run) {
		out_printf("%s\n", id);
		return 0;
	}
	if (detach) {
		struct start_ctx s = {.a = a, .report = true};
		if (do_start(c, id, &s) < 0)
			return s.code;
		out_printf("%s\n", id);
		return 0;
	}
	/* the wait first, on a connection of its own: registered before the start */
	struct berth_http_client *w = NULL;
	_cleanup_sbuf_ struct sbuf t = SBUF_INIT;
	sbuf_printf(&t, "/containers/%s/wait?condition=%s", id,
		    auto_remove ? "removed" : "next-exit");
	if (cli_call_on(c, &w, "POST", sbuf_str(&t), NULL, false) < 0) {
		berth_http_client_free(w);
		return report(a, c->err);
	}
	struct start_ctx s = {.a = a, .report = true};
	bool proxy = !flag_set(a, "sig-proxy") || flag_bool(a, "sig-proxy");
	json_t *want = body;
	const char *keys = flag_str(a, "detach-keys");
	if (!keys || !*keys)
		keys = json_string_value(json_object_get(cli_config_file(c), "detachKeys"));
	int arc = attach_streams_and(c, id, json_is_true(json_object_get(want, "AttachStdin")),
				     json_is_true(json_object_get(want, "AttachStdout")),
				     json_is_true(json_object_get(want, "AttachStderr")), tty,
				     proxy, keys, do_start, &s);
	if (s.code) {
		if (auto_remove)
			read_wait(c, w);
		berth_http_client_free(w);
		return s.code;
	}
	if (!s.tried) {
		/* the attach was refused (its error printed): the container never started, so no
		 * exit (nor --rm's removal) will answer the wait; docker exits 1 and leaves it */
		berth_http_client_free(w);
		return 1;
	}
	if (arc == 2) {
		/* detached: the container runs on */
		berth_http_client_free(w);
		return 0;
	}
	int status = read_wait(c, w);
	berth_http_client_free(w);
	return status;
}

static int run_run(struct cli *c, struct cli_args *a)
{
	return run_or_create(c, a, true);
}

static int run_create(struct cli *c, struct cli_args *a)
{
	return run_or_create(c, a, false);
}

static int run_start(struct cli *c, struct cli_args *a)
{
	bool att = flag_bool(a, "attach"), in = flag_bool(a, "interactive");

	if (att || in) {
		if (a->argc > 1) {
			err_printf("you cannot start and attach multiple containers at once\n");
			return 1;
		}
		_cleanup_sbuf_ struct sbuf t = SBUF_INIT;
		struct cli_response r;
		sbuf_adds(&t, "/containers/");
		url_path_escape(&t, a->argv[0]);
		sbuf_adds(&t, "/json");
		if (cli_call(c, "GET", sbuf_str(&t), NULL, &r) < 0)
			return cli_fail(c, 1);
		json_t *cfg = json_object_get(r.json, "Config");
		bool tty = json_is_true(json_object_get(cfg, "Tty"));
		bool open_in = json_is_true(json_object_get(cfg, "OpenStdin"));
		_cleanup_free_ char *id = xstrdup(json_string_value(json_object_get(r.json, "Id")));
		cli_response_release(&r);
		if (tty && in && !is_terminal(STDIN_FILENO)) {
			err_printf("the input device is not a TTY\n");
			return 1;
		}
		struct berth_http_client *w = NULL;
		_cleanup_sbuf_ struct sbuf wt = SBUF_INIT;
		sbuf_printf(&wt, "/containers/%s/wait?condition=next-exit", id);
		if (cli_call_on(c, &w, "POST", sbuf_str(&wt), NULL, false) < 0) {
			berth_http_client_free(w);
			return cli_fail(c, 1);
		}
		struct start_ctx s = {.a = a};
		bool proxy = !flag_set(a, "sig-proxy") || flag_bool(a, "sig-proxy");
		const char *keys = flag_str(a, "detach-keys");
		if (!keys || !*keys)
			keys = json_string_value(json_object_get(cli_config_file(c), "detachKeys"));
		int arc = attach_and(c, id, in && open_in, tty, proxy, keys, do_start, &s);
		if (s.code || arc == 1) {
			berth_http_client_free(w);
			return 1;
		}
		if (arc == 2) {
			berth_http_client_free(w);
			return 0;
		}
		int status = read_wait(c, w);
		berth_http_client_free(w);
		return status;
	}
	_cleanup_sbuf_ struct sbuf failed = SBUF_INIT;
	for (int i = 0; i < a->argc; i++) {
		_cleanup_sbuf_ struct sbuf t = SBUF_INIT;
		struct cli_response r;
		sbuf_adds(&t, "/containers/");
		url_path_escape(&t, a->argv[i]);
		sbuf_adds(&t, "/start");
		if (cli_call(c, "POST", sbuf_str(&t), NULL, &r) < 0) {
			err_printf("%s\n", c->err);
			sbuf_printf(&failed, "%s%s", failed.len ? ", " : "", a->argv[i]);
			continue;
		}
		cli_response_release(&r);
		out_printf("%s\n", a->argv[i]);
	}
	if (failed.len) {
		err_printf("Error: failed to start containers: %s\n", sbuf_str(&failed));
		return 1;
	}
	return 0;
}

static const struct cli_flag start_flags[] = {
	{"attach", 'a', FK_BOOL, NULL, NULL, "Attach STDOUT/STDERR and forward signals"},
	{"detach-keys", 0, FK_STRING, "string", NULL, "The keys that detach from the container"},
	{"interactive", 'i', FK_BOOL, NULL, NULL, "Attach container's STDIN"},
	{"sig-proxy", 0, FK_BOOL, NULL, "true", "Proxy received signals to the process"},
};

const struct cli_cmd cmd_run = {
	.name = "run",
	.use = "[OPTIONS] IMAGE [COMMAND] [ARG...]",
	.short_desc = "Create and run a new container from an image",
	.aliases_line = "berth container run, berth run",
	.flags = run_flags,
	.n_flags = ARRAY_SIZE(run_flags),
	.args = ARGS_MIN,
	.min_args = 1,
	.run = run_run,
	.no_interspersed = true,
	.complete = COMPLETE_IMAGE_THEN_ANY,
	.top = 1,
};
CLI_CMD_TWIN(cmd_container_run, cmd_run);

const struct cli_cmd cmd_create = {
	.name = "create",
	.use = "[OPTIONS] IMAGE [COMMAND] [ARG...]",
	.short_desc = "Create a new container",
	.aliases_line = "berth container create, berth create",
	.flags = create_flags,
	.n_flags = ARRAY_SIZE(create_flags),
	.args = ARGS_MIN,
	.min_args = 1,
	.run = run_create,
	.no_interspersed = true,
	.complete = COMPLETE_IMAGE_THEN_ANY,
};
CLI_CMD_TWIN(cmd_container_create, cmd_create);

const struct cli_cmd cmd_start = {
	.name = "start",
	.use = "[OPTIONS] CONTAINER [CONTAINER...]",
	.short_desc = "Start one or more stopped containers",
	.aliases_line = "berth container start, berth start",
	.flags = start_flags,
	.n_flags = ARRAY_SIZE(start_flags),
	.args = ARGS_MIN,
	.min_args = 1,
	.run = run_start,
	.complete = COMPLETE_CONTAINERS_STOPPED,
};
CLI_CMD_TWIN(cmd_container_start, cmd_start);
