/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The config.json `berth-runtime spec` writes: runc's defaults (a busybox shell on a read-only
 * rootfs with the usual kernel filesystems, masked and read-only /proc paths, new namespaces),
 * named for berth.  --rootless adapts it as runc does for an unprivileged user: a user namespace
 * mapping the caller to root, the host network, /sys bound rather than mounted, no cgroup limits.
 */
#include <string.h>
#include <unistd.h>

#include "runtime/spec.h"
#include "base/banned.h"

static json_t *strv(const char *const *v)
{
	json_t *a = json_array();

	for (size_t i = 0; a && v[i]; i++)
		if (json_array_append_new(a, json_string(v[i])) < 0) {
			json_decref(a);
			return NULL;
		}
	return a;
}

static json_t *default_caps(void)
{
	static const char *const caps[] = {"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE",
					   NULL};

	return json_pack("{s:o, s:o, s:o}", "bounding", strv(caps), "effective", strv(caps),
			 "permitted", strv(caps));
}

static json_t *mount(const char *dest, const char *type, const char *source,
		     const char *const *options)
{
	if (!options)
		return json_pack("{s:s, s:s, s:s}", "destination", dest, "type", type, "source",
				 source);
	return json_pack("{s:s, s:s, s:s, s:o}", "destination", dest, "type", type, "source",
			 source, "options", strv(options));
}

static json_t *default_mounts(bool rootless)
{
	/* rootless: no uid=/gid= options (the ids may not be mapped), and /sys bound from the host
	 * because a user namespace without its own network namespace may not mount sysfs */
	static const char *const dev_opts[] = {"nosuid", "strictatime", "mode=755", "size=65536k",
					       NULL};
	static const char *const pts_opts[] = {
		"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5", NULL};
	static const char *const pts_opts_rootless[] = {"nosuid",	 "noexec",    "newinstance",
							"ptmxmode=0666", "mode=0620", NULL};
	static const char *const shm_opts[] = {"nosuid",    "noexec",	   "nodev",
					       "mode=1777", "size=65536k", NULL};
	static const char *const mqueue_opts[] = {"nosuid", "noexec", "nodev", NULL};
	static const char *const sys_opts[] = {"nosuid", "noexec", "nodev", "ro", NULL};
	static const char *const sys_bind_opts[] = {"rbind", "nosuid", "noexec",
						    "nodev", "ro",     NULL};
	static const char *const cgroup_opts[] = {"nosuid",   "noexec", "nodev",
						  "relatime", "ro",	NULL};

	return json_pack(
		"[o, o, o, o, o, o, o]", mount("/proc", "proc", "proc", NULL),
		mount("/dev", "tmpfs", "tmpfs", dev_opts),
		mount("/dev/pts", "devpts", "devpts", rootless ? pts_opts_rootless : pts_opts),
		mount("/dev/shm", "tmpfs", "shm", shm_opts),
		mount("/dev/mqueue", "mqueue", "mqueue", mqueue_opts),
		rootless ? mount("/sys", "none", "/sys", sys_bind_opts)
			 : mount("/sys", "sysfs", "sysfs", sys_opts),
		mount("/sys/fs/cgroup", "cgroup", "cgroup", cgroup_opts));
}

static json_t *namespaces(bool rootless)
{
	static const char *const rootful[] = {"pid",   "network", "ipc", "uts",
					      "mount", "cgroup",  NULL};
	static const char *const unprivileged[] = {"pid",    "ipc",  "uts", "mount",
						   "cgroup", "user", NULL};
	const char *const *names = rootless ? unprivileged : rootful;
	json_t *a = json_array();

	for (size_t i = 0; a && names[i]; i++)
		if (json_array_append_new(a, json_pack("{s:s}", "type", names[i])) < 0) {
			json_decref(a);
			return NULL;
		}
	return a;
}

static json_t *id_mapping(unsigned id)
{
	return json_pack("[{s:i, s:I, s:i}]", "containerID", 0, "hostID", (json_int_t)id, "size",
			 1);
}

json_t *berth_spec_default(bool rootless)
{
	static const char *const env[] = {
		"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm",
		NULL};
	static const char *const args[] = {"sh", NULL};
	static const char *const masked[] = {"/proc/acpi",
					     "/proc/asound",
					     "/proc/kcore",
					     "/proc/keys",
					     "/proc/latency_stats",
					     "/proc/timer_list",
					     "/proc/timer_stats",
					     "/proc/sched_debug",
					     "/sys/firmware",
					     "/proc/scsi",
					     "/sys/devices/virtual/powercap",
					     NULL};
	static const char *const readonly[] = {
		"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger", NULL};
	json_t *spec, *linux_;

	linux_ = json_pack("{s:o, s:o, s:o}", "namespaces", namespaces(rootless), "maskedPaths",
			   strv(masked), "readonlyPaths", strv(readonly));
	if (!linux_)
		return NULL;
	if (rootless) {
		if (json_object_set_new(linux_, "uidMappings", id_mapping(getuid())) < 0 ||
		    json_object_set_new(linux_, "gidMappings", id_mapping(getgid())) < 0)
			goto fail;
	} else {
		/* deny every device; the runtime allows its default /dev nodes itself */
		json_t *res = json_pack("{s:[{s:b, s:s}]}", "devices", "allow", 0, "access", "rwm");

		if (json_object_set_new(linux_, "resources", res) < 0)
			goto fail;
	}
	spec = json_pack("{s:s,"
			 " s:{s:b, s:{s:i, s:i}, s:o, s:o, s:s, s:o, s:[{s:s, s:i, s:i}], s:b},"
			 " s:{s:s, s:b}, s:s, s:o, s:o}",
			 "ociVersion", "1.2.0", "process", "terminal", 1, "user", "uid", 0, "gid",
			 0, "args", strv(args), "env", strv(env), "cwd", "/", "capabilities",
			 default_caps(), "rlimits", "type", "RLIMIT_NOFILE", "hard", 1024, "soft",
			 1024, "noNewPrivileges", 1, "root", "path", "rootfs", "readonly", 1,
			 "hostname", "berth", "mounts", default_mounts(rootless), "linux", linux_);
	return spec;
fail:
	json_decref(linux_);
	return NULL;
}
