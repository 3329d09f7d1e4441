/* SPDX-License-Identifier: Apache-2.0 */
/* The system resource: /_ping, /version, /info (and /events, from events.c). */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysinfo.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>
#include <linux/magic.h>

#include "daemon.h"
#include "events-internal.h"
#include "build-commit.h"
#include "build-time.h"
#include "base/banned.h"

/* ---- /_ping: never takes d->lock ---------------------------------------------------------- */

static void ping(struct berth_http_request *req, void *userdata)
{
	bool head = berth_streq(berth_http_method(req), "HEAD");

	berth_http_set_header(req, "API-Version", BERTH_API_VERSION_MAX_STRING);
	berth_http_set_header(req, "Builder-Version", "1");
	berth_http_set_header(req, "OSType", "linux");
	berth_http_set_header(req, "Docker-Experimental", "false");
	berth_http_set_header(req, "Swarm", "inactive");
	berth_http_set_header(req, "Cache-Control", "no-cache, no-store, must-revalidate");
	berth_http_set_header(req, "Pragma", "no-cache");
	berth_http_respond(req, 200, "text/plain; charset=utf-8", head ? "" : "OK", head ? 0 : 2);
}

/* ---- host facts ------------------------------------------------------------------------- */

const char *daemon_go_arch(const char *machine)
{
	static const struct {
		const char *uname, *go;
	} map[] = {{"x86_64", "amd64"},	  {"aarch64", "arm64"},	  {"i686", "386"},
		   {"armv7l", "arm"},	  {"ppc64le", "ppc64le"}, {"s390x", "s390x"},
		   {"riscv64", "riscv64"}};

	for (size_t i = 0; i < ARRAY_SIZE(map); i++)
		if (strcmp(machine, map[i].uname) == 0)
			return map[i].go;
	return machine;
}

/* A key of /etc/os-release (unquoted), or NULL. */
static char *os_release(const char *key)
{
	_cleanup_free_ char *data = NULL;
	size_t len, klen = strlen(key);

	if (berth_read_file_at(AT_FDCWD, "/etc/os-release", 65536, &data, &len, NULL) < 0 &&
	    berth_read_file_at(AT_FDCWD, "/usr/lib/os-release", 65536, &data, &len, NULL) < 0)
		return NULL;
	for (char *line = data; line && *line;) {
		char *nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		if (strncmp(line, key, klen) == 0 && line[klen] == '=') {
			char *v = line + klen + 1;
			size_t n = strlen(v);
			if (n >= 2 && (v[0] == '"' || v[0] == '\'') && v[n - 1] == v[0]) {
				v++;
				n -= 2;
			}
			return strndup(v, n);
		}
		line = nl ? nl + 1 : NULL;
	}
	return NULL;
}

static int count_dir(const char *path)
{
	_cleanup_closedir_ DIR *d = opendir(path);
	struct dirent *de;
	int n = 0;

	while (d && (de = readdir(d)))
		if (de->d_name[0] != '.')
			n++;
	return n;
}

static int proc_threads(void)
{
	_cleanup_free_ char *data = NULL;
	size_t len;
	char *p;

	if (berth_read_file_at(AT_FDCWD, "/proc/self/status", 65536, &data, &len, NULL) < 0)
		return 0;
	p = strstr(data, "\nThreads:");
	return p ? (int)strtol(p + 9, NULL, 10) : 0;
}

static bool path_exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

static bool file_is(const char *path, const char *want)
{
	_cleanup_free_ char *data = NULL;
	size_t len;

	if (berth_read_file_at(AT_FDCWD, path, 4096, &data, &len, NULL) < 0)
		return false;
	while (len && isspace((unsigned char)data[len - 1]))
		data[--len] = '\0';
	return strcmp(data, want) == 0;
}

static bool has_word(const char *list, const char *word)
{
	size_t n = strlen(word);

	for (const char *p = list; (p = strstr(p, word)); p += n)
		if ((p == list || isspace((unsigned char)p[-1])) &&
		    (!p[n] || isspace((unsigned char)p[n])))
			return true;
	return false;
}

/* What the cgroup hierarchy lets containers be limited by (Docker's sysinfo). */
struct cg_features {
	bool memory, swap, cfs_period, cfs_quota, shares, cpuset, pids, oom_kill_disable;
};

static void cgroup_features(int version, struct cg_features *f)
{
	memset(f, 0, sizeof(*f));
	if (version == 2) {
		_cleanup_free_ char *ctl = NULL;
		size_t len;
		if (berth_read_file_at(AT_FDCWD, "/sys/fs/cgroup/cgroup.controllers", 4096, &ctl,
				       &len, NULL) < 0)
			return;
		f->memory = has_word(ctl, "memory");
		f->swap = f->memory && path_exists("/sys/fs/cgroup/memory.swap.max");
		f->cfs_period = f->cfs_quota = f->shares = has_word(ctl, "cpu");
		f->cpuset = has_word(ctl, "cpuset");
		f->pids = has_word(ctl, "pids");
		return;
	}
	f->memory = path_exists("/sys/fs/cgroup/memory/memory.limit_in_bytes");
	f->swap = path_exists("/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes");
	f->oom_kill_disable = path_exists("/sys/fs/cgroup/memory/memory.oom_control");
	f->cfs_period = path_exists("/sys/fs/cgroup/cpu/cpu.cfs_period_us");
	f->cfs_quota = path_exists("/sys/fs/cgroup/cpu/cpu.cfs_quota_us");
	f->shares = path_exists("/sys/fs/cgroup/cpu/cpu.shares");
	f->cpuset = path_exists("/sys/fs/cgroup/cpuset/cpuset.cpus");
	f->pids = path_exists("/sys/fs/cgroup/pids/pids.max") || path_exists("/sys/fs/cgroup/pids");
}

static const char *fs_name(const char *path)
{
	struct statfs sf;

	if (statfs(path, &sf) < 0)
		return "<unknown>";
	switch ((unsigned long)sf.f_type) {
	case EXT4_SUPER_MAGIC:
		return "extfs";
	case XFS_SUPER_MAGIC:
		return "xfs";
	case BTRFS_SUPER_MAGIC:
		return "btrfs";
	case TMPFS_MAGIC:
		return "tmpfs";
	case OVERLAYFS_SUPER_MAGIC:
		return "overlayfs";
	case 0x2fc12fc1: /* ZFS */
		return "zfs";
	default:
		return "<unknown>";
	}
}

static json_t *strv_json(char *const *v)
{
	json_t *a = json_array();

	for (size_t i = 0; a && v && v[i]; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

static const char *env_either(const char *a, const char *b)
{
	const char *v = getenv(a);

	if (!v || !*v)
		v = getenv(b);
	return v ? v : "";
}

/* ---- /version ----------------------------------------------------------------------------- */

static void version(struct berth_http_request *req, void *userdata)
{
	struct utsname u;
	_cleanup_json_ json_t *j = NULL;

	uname(&u);
	const char *arch = daemon_go_arch(u.machine);
	j = json_pack("{s:{s:s},s:[{s:s,s:s,s:{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}}],"
		      "s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}",
		      "Platform", "Name", "Berth Engine", "Components", "Name", "Engine", "Version",
		      BERTH_VERSION, "Details", "ApiVersion", BERTH_API_VERSION_MAX_STRING, "Arch",
		      arch, "BuildTime", BERTH_BUILD_TIME, "Experimental", "false", "GitCommit",
		      BERTH_GIT_COMMIT, "GoVersion", "n/a (C)", "KernelVersion", u.release,
		      "MinAPIVersion", BERTH_API_VERSION_MIN_STRING, "Os", "linux", "Version",
		      BERTH_VERSION, "ApiVersion", BERTH_API_VERSION_MAX_STRING, "MinAPIVersion",
		      BERTH_API_VERSION_MIN_STRING, "GitCommit", BERTH_GIT_COMMIT, "GoVersion",
		      "n/a (C)", "Os", "linux", "Arch", arch, "KernelVersion", u.release,
		      "BuildTime", BERTH_BUILD_TIME);
	if (!j) {
		berth_http_respond_error(req, 500, "out of memory");
		return;
	}
	berth_http_respond_json(req, 200, j);
}

/* ---- /info -------------------------------------------------------------------------------- */

static json_t *registry_config(const struct daemon_config *c)
{
	json_t *cidrs = json_pack("[s,s]", "::1/128", "127.0.0.0/8");
	json_t *index = json_object();
	json_t *mirrors = strv_json(c->registry_mirrors);

	for (size_t i = 0; c->insecure_registries && c->insecure_registries[i]; i++) {
		const char *r = c->insecure_registries[i];
		if (strchr(r, '/')) { /* a CIDR */
			json_array_append_new(cidrs, json_string(r));
			continue;
		}
		json_object_set_new(index, r,
				    json_pack("{s:s,s:[],s:b,s:b}", "Name", r, "Mirrors", "Secure",
					      0, "Official", 0));
	}
	json_object_set_new(index, "docker.io",
			    json_pack("{s:s,s:O,s:b,s:b}", "Name", "docker.io", "Mirrors", mirrors,
				      "Secure", 1, "Official", 1));
	return json_pack("{s:o,s:o,s:o}", "InsecureRegistryCIDRs", cidrs, "IndexConfigs", index,
			 "Mirrors", mirrors);
}

static void info(struct berth_http_request *req, void *userdata)
{
	struct berthd *d = userdata;
	struct daemon_counts counts;
	struct cg_features cg;
	struct sysinfo si;
	struct utsname u;
	char host[256] = "", now[64], cgv[4];
	_cleanup_free_ char *os = os_release("PRETTY_NAME"), *osv = os_release("VERSION_ID");
	_cleanup_json_ json_t *j = NULL;
	unsigned listeners;
	bool debug, live_restore;
	json_t *regcfg, *pools = NULL;

	uname(&u);
	gethostname(host, sizeof(host) - 1);
	sysinfo(&si);
	cgroup_features(d->cgroup_version, &cg);
	{
		struct timespec ts;
		struct tm tm;
		char base[40], zone[8];
		clock_gettime(CLOCK_REALTIME, &ts);
		localtime_r(&ts.tv_sec, &tm);
		strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
		strftime(zone, sizeof(zone), "%z", &tm);
		snprintf(now, sizeof(now), "%s.%09ld%.3s:%.2s", base, ts.tv_nsec, zone, zone + 3);
	}
	snprintf(cgv, sizeof(cgv), "%d", d->cgroup_version);

	/* one short hold of d->lock for what other threads change */
	pthread_mutex_lock(&d->lock);
	counts = d->counts;
	listeners = d->events.listeners;
	debug = d->config.log_level == DLOG_DEBUG;
	live_restore = d->config.live_restore;
	regcfg = registry_config(&d->config);
	if (d->config.default_address_pools)
		pools = json_deep_copy(d->config.default_address_pools);
	_cleanup_free_ char *log_driver = strdup(d->config.log_driver);
	pthread_mutex_unlock(&d->lock);

	json_t *driver_status =
		json_pack("[[s,s]]", "Backing Filesystem", fs_name(d->config.data_root));
	json_t *runtimes = json_pack("{s:{s:s}}", "berth", "path", "berth-runtime");
	json_t *security = json_pack("[s]", "name=seccomp,profile=builtin");
	if (d->cgroup_version == 2)
		json_array_append_new(security, json_string("name=cgroupns"));
	/* what berth has of each kind today; each feature adds itself when it lands */
	json_t *plugins =
		json_pack("{s:[],s:[],s:n,s:[]}", "Volume", "Network", "Authorization", "Log");
	json_t *swarm = json_pack("{s:s,s:s,s:s,s:b,s:s,s:n}", "NodeID", "", "NodeAddr", "",
				  "LocalNodeState", "inactive", "ControlAvailable", 0, "Error", "",
				  "RemoteManagers");
	json_t *commit = json_pack("{s:s}", "ID", "");

	j = json_object();
	if (!j || !driver_status || !runtimes || !security || !plugins || !swarm || !commit ||
	    !regcfg) {
		json_decref(driver_status);
		json_decref(runtimes);
		json_decref(security);
		json_decref(plugins);
		json_decref(swarm);
		json_decref(commit);
		json_decref(regcfg);
		json_decref(pools);
		berth_http_respond_error(req, 500, "out of memory");
		return;
	}
#define S(k, v) json_object_set_new(j, k, json_string(v))
#define I(k, v) json_object_set_new(j, k, json_integer(v))
#define B(k, v) json_object_set_new(j, k, json_boolean(v))
	S("ID", d->id);
	I("Containers", counts.containers);
	I("ContainersRunning", counts.running);
	I("ContainersPaused", counts.paused);
	I("ContainersStopped", counts.stopped);
	I("Images", counts.images);
	S("Driver", "overlay2");
	json_object_set_new(j, "DriverStatus", driver_status);
	json_object_set_new(j, "Plugins", plugins);
	B("MemoryLimit", cg.memory);
	B("SwapLimit", cg.swap);
	B("CpuCfsPeriod", cg.cfs_period);
	B("CpuCfsQuota", cg.cfs_quota);
	B("CPUShares", cg.shares);
	B("CPUSet", cg.cpuset);
	B("PidsLimit", cg.pids);
	B("IPv4Forwarding", file_is("/proc/sys/net/ipv4/ip_forward", "1"));
	B("Debug", debug);
	I("NFd", count_dir("/proc/self/fd"));
	B("OomKillDisable", cg.oom_kill_disable);
	I("NGoroutines", proc_threads());
	S("SystemTime", now);
	S("LoggingDriver", log_driver ? log_driver : "json-file");
	S("CgroupDriver", "cgroupfs");
	S("CgroupVersion", cgv);
	I("NEventsListener", listeners);
	S("KernelVersion", u.release);
	S("OperatingSystem", os ? os : "Linux");
	S("OSVersion", osv ? osv : "");
	S("OSType", "linux");
	S("Architecture", u.machine);
	S("IndexServerAddress", "https://index.docker.io/v1/");
	json_object_set_new(j, "RegistryConfig", regcfg);
	I("NCPU", sysconf(_SC_NPROCESSORS_ONLN));
	I("MemTotal", (json_int_t)si.totalram * si.mem_unit);
	json_object_set_new(j, "GenericResources", json_null());
	S("DockerRootDir", d->config.data_root);
	S("HttpProxy", env_either("HTTP_PROXY", "http_proxy"));
	S("HttpsProxy", env_either("HTTPS_PROXY", "https_proxy"));
	S("NoProxy", env_either("NO_PROXY", "no_proxy"));
	S("Name", host);
	json_object_set_new(j, "Labels", json_array());
	B("ExperimentalBuild", false);
	S("ServerVersion", BERTH_VERSION);
	json_object_set_new(j, "Runtimes", runtimes);
	S("DefaultRuntime", "berth");
	json_object_set_new(j, "Swarm", swarm);
	B("LiveRestoreEnabled", live_restore);
	S("Isolation", "");
	S("InitBinary", "");
	json_object_set_new(j, "ContainerdCommit", json_deep_copy(commit));
	json_object_set_new(j, "RuncCommit", json_deep_copy(commit));
	json_object_set_new(j, "InitCommit", commit);
	json_object_set_new(j, "SecurityOptions", security);
	if (pools)
		json_object_set_new(j, "DefaultAddressPools", pools);
	json_object_set_new(j, "CDISpecDirs", json_array());
	json_object_set_new(j, "Warnings", json_null());
#undef S
#undef I
#undef B
	berth_http_respond_json(req, 200, j);
}

/* ---- /system/df -------------------------------------------------------------------------- */

static const char *const df_types[] = {"container", "image", "volume", "build-cache"};

static void system_df(struct berth_http_request *req, void *userdata)
{
	struct berthd *d = userdata;
	unsigned api = berth_http_api_version(req);
	const char *const *types = berth_http_query_all(req, "type");
	bool want[ARRAY_SIZE(df_types)] = {true, true, true, true};
	_cleanup_error_ struct berth_error *e = NULL;
	_cleanup_json_ json_t *du = NULL;

	/* type= (API >= 1.42) picks what to report; the others are left out */
	if (api >= BERTH_API_VERSION(1, 42) && types) {
		memset(want, 0, sizeof(want));
		for (size_t i = 0; types[i]; i++) {
			size_t k;
			for (k = 0; k < ARRAY_SIZE(df_types); k++)
				if (strcmp(types[i], df_types[k]) == 0)
					break;
			if (k == ARRAY_SIZE(df_types)) {
				berth_http_respond_error(req, 400, "unknown object type: %s",
							 types[i]);
				return;
			}
			want[k] = true;
		}
	}
	if (want[1]) {
		if (daemon_images_disk_usage(d, api, &du, &e) < 0) {
			berth_http_respond_berror(req, e);
			return;
		}
	} else {
		du = json_pack("{s:I,s:n}", "LayersSize", (json_int_t)0, "Images");
	}
	if (!du) {
		berth_http_respond_error(req, 500, "out of memory");
		return;
	}
	/* the build cache has no table in berthd yet: its list is empty, which is what there is */
	json_object_set_new(du, "Containers",
			    want[0] ? daemon_containers_disk_usage(d, api) : json_null());
	json_object_set_new(du, "Volumes", want[2] ? daemon_volumes_disk_usage(d) : json_null());
	json_object_set_new(du, "BuildCache", want[3] ? json_array() : json_null());
	if (api < BERTH_API_VERSION(1, 42) && want[3])
		json_object_set_new(du, "BuilderSize", json_integer(0));
	berth_http_respond_json(req, 200, du);
}

int daemon_routes_system(struct berthd *d, struct berth_error **err)
{
	int r = 0;

	r = r ?: berth_api_router_add(d->router, "GET", "/_ping", ping, d, err);
	r = r ?: berth_api_router_add(d->router, "HEAD", "/_ping", ping, d, err);
	r = r ?: berth_api_router_add(d->router, "GET", "/version", version, d, err);
	r = r ?: berth_api_router_add(d->router, "GET", "/info", info, d, err);
	r = r ?: berth_api_router_add(d->router, "GET", "/system/df", system_df, d, err);
	r = r ?: daemon_routes_events(d, err);
	return r;
}
