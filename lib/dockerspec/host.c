/* SPDX-License-Identifier: Apache-2.0 */
/* What dockerd's sysinfo finds, found the same way. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <linux/magic.h>

#include "dockerspec-internal.h"
#include "base/banned.h"

static bool exists(const char *path)
{
	return access(path, F_OK) == 0;
}

static char *read_line(const char *path)
{
	char *data = NULL;
	size_t len;

	if (berth_read_file_at(AT_FDCWD, path, 65536, &data, &len, NULL) < 0)
		return NULL;
	data[strcspn(data, "\n")] = '\0';
	return data;
}

/*
 * Is swap accounted on this cgroup2 host?  The root group has no memory.swap.max, so look where
 * the memory controller is on: systemd's init.scope and system.slice, and the caller's own group
 * ("0::/path" in /proc/self/cgroup: berthd's service, or any group it was started in).
 */
static bool cgroup2_swap_accounted(void)
{
	_cleanup_free_ char *self = read_line("/proc/self/cgroup");
	_cleanup_free_ char *own = NULL;

	if (exists("/sys/fs/cgroup/init.scope/memory.swap.max") ||
	    exists("/sys/fs/cgroup/system.slice/memory.swap.max"))
		return true;
	if (!self || !berth_str_has_prefix(self, "0::/") || !self[4])
		return false;
	return asprintf(&own, "/sys/fs/cgroup/%s/memory.swap.max", self + 4) > 0 && exists(own);
}

void berth_dockerspec_host_release(struct berth_dockerspec_host *h)
{
	if (!h)
		return;
	free(h->cpus);
	free(h->mems);
	free(h->arch);
	free(h->hostname);
	berth_strv_free(h->thermal_throttle);
	*h = (struct berth_dockerspec_host){0};
}

static const char *go_arch(const char *machine)
{
	static const char *const map[][2] = {
		{"x86_64", "amd64"},	{"aarch64", "arm64"}, {"armv7l", "arm"},
		{"armv6l", "arm"},	{"i686", "386"},      {"i386", "386"},
		{"ppc64le", "ppc64le"}, {"s390x", "s390x"},   {"riscv64", "riscv64"},
		{"mips64", "mips64"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(map); i++)
		if (strcmp(map[i][0], machine) == 0)
			return map[i][1];
	return machine;
}

int berth_dockerspec_host_probe(struct berth_dockerspec_host *ret, struct berth_error **err)
{
	struct berth_dockerspec_host h = {0};
	struct utsname u;
	struct statfs sfs;
	char hostname[256];
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	_cleanup_free_ char *last = NULL;

	h.ncpu = ncpu > 0 ? (int)ncpu : 1;
	if (uname(&u) == 0) {
		sscanf(u.release, "%u.%u", &h.kernel_major, &h.kernel_minor);
		h.arch = strdup(go_arch(u.machine));
	}
	if (gethostname(hostname, sizeof(hostname)) == 0) {
		hostname[sizeof(hostname) - 1] = '\0';
		h.hostname = strdup(hostname);
	}
	h.cgroup2 = statfs("/sys/fs/cgroup", &sfs) == 0 && sfs.f_type == CGROUP2_SUPER_MAGIC;
	if (h.cgroup2) {
		_cleanup_free_ char *ctl = read_line("/sys/fs/cgroup/cgroup.controllers");
		const char *c = ctl ? ctl : "";
		h.memory_limit = h.memory_reservation = strstr(c, "memory") != NULL;
		h.oom_kill_disable = false; /* cgroup v2 has no oom_control */
		h.swap_limit = h.memory_limit && cgroup2_swap_accounted();
		_cleanup_strv_ char **words = NULL;
		_cleanup_free_ char *copy = strdup(c);
		for (char *s = NULL, *w = copy ? strtok_r(copy, " ", &s) : NULL; w;
		     w = strtok_r(NULL, " ", &s))
			if (berth_strv_push(&words, w) < 0)
				return berth_error_set(err, ENOMEM, "out of memory");
		h.cpu_cfs = h.cpu_shares = berth_strv_contains(words, "cpu");
		h.cpuset = berth_strv_contains(words, "cpuset");
		h.pids_limit = berth_strv_contains(words, "pids");
		h.blkio_weight = berth_strv_contains(words, "io");
		h.cpus = read_line("/sys/fs/cgroup/cpuset.cpus.effective");
		h.mems = read_line("/sys/fs/cgroup/cpuset.mems.effective");
	} else {
		h.memory_limit = exists("/sys/fs/cgroup/memory/memory.limit_in_bytes");
		h.swap_limit = exists("/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes");
		h.memory_swappiness = exists("/sys/fs/cgroup/memory/memory.swappiness");
		h.memory_reservation = exists("/sys/fs/cgroup/memory/memory.soft_limit_in_bytes");
		h.kernel_memory = exists("/sys/fs/cgroup/memory/memory.kmem.limit_in_bytes");
		h.oom_kill_disable = exists("/sys/fs/cgroup/memory/memory.oom_control");
		h.cpu_cfs = exists("/sys/fs/cgroup/cpu/cpu.cfs_quota_us");
		h.cpu_shares = exists("/sys/fs/cgroup/cpu/cpu.shares");
		h.cpuset = exists("/sys/fs/cgroup/cpuset/cpuset.cpus");
		h.pids_limit = exists("/sys/fs/cgroup/pids");
		h.blkio_weight = exists("/sys/fs/cgroup/blkio/blkio.weight");
		h.cpus = read_line("/sys/fs/cgroup/cpuset/cpuset.effective_cpus");
		h.mems = read_line("/sys/fs/cgroup/cpuset/cpuset.effective_mems");
	}
	h.seccomp = exists("/proc/sys/kernel/seccomp/actions_avail");
	{
		_cleanup_free_ char *aa = read_line("/sys/module/apparmor/parameters/enabled");
		h.apparmor = aa && aa[0] == 'Y' && exists("/sys/kernel/security/apparmor");
	}
	h.selinux = exists("/sys/fs/selinux/enforce");
	h.ping_group_range = exists("/proc/sys/net/ipv4/ping_group_range");
	h.unprivileged_port_start = exists("/proc/sys/net/ipv4/ip_unprivileged_port_start");
	last = read_line("/proc/sys/kernel/cap_last_cap");
	{
		int64_t n;
		h.cap_last_cap =
			last && berth_parse_int64(last, 0, 63, &n) == 0 ? (int)n : berth_cap_last();
	}
	{
		_cleanup_free_ char *status = NULL;
		size_t len;
		if (berth_read_file_at(AT_FDCWD, "/proc/self/status", 1 << 16, &status, &len,
				       NULL) == 0) {
			const char *c = strstr(status, "\nCapEff:");
			if (c)
				h.cap_effective = strtoull(c + 8, NULL, 16);
		}
	}
	for (int i = 0; i < h.ncpu && i < 4096; i++) {
		char path[96];
		snprintf(path, sizeof(path), "/sys/devices/system/cpu/cpu%d/thermal_throttle", i);
		if (exists(path) && berth_strv_push(&h.thermal_throttle, path) < 0)
			goto enomem;
	}
	if (!h.arch || !h.hostname)
		goto enomem;
	*ret = h;
	return 0;
enomem:
	berth_dockerspec_host_release(&h);
	return berth_error_set(err, ENOMEM, "out of memory");
}
