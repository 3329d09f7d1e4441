/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The last steps before exec, in the container's init (or exec) process: resource limits,
 * scheduling and LSM attributes, finding the binary, and becoming the process's user with its
 * capabilities.  container.c calls them in that order; see linux.h for the contracts.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/capability.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "linux.h"
#include "base/banned.h"

#define DEFAULT_PATH	   "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define DEFAULT_UMASK	   0022
#define MAX_CPU		   (1 << 16) /* far above any kernel's NR_CPUS; bounds the cpu_set_t */
#define IOPRIO_WHO_PROCESS 1
#define IOPRIO_CLASS_SHIFT 13
#define SELINUX_MAGIC	   0xf97cff8c

/* ---- rlimits ----------------------------------------------------------------------------- */

static const char *const rlimit_names[] = {
	[RLIMIT_CPU] = "RLIMIT_CPU",	       [RLIMIT_FSIZE] = "RLIMIT_FSIZE",
	[RLIMIT_DATA] = "RLIMIT_DATA",	       [RLIMIT_STACK] = "RLIMIT_STACK",
	[RLIMIT_CORE] = "RLIMIT_CORE",	       [RLIMIT_RSS] = "RLIMIT_RSS",
	[RLIMIT_NPROC] = "RLIMIT_NPROC",       [RLIMIT_NOFILE] = "RLIMIT_NOFILE",
	[RLIMIT_MEMLOCK] = "RLIMIT_MEMLOCK",   [RLIMIT_AS] = "RLIMIT_AS",
	[RLIMIT_LOCKS] = "RLIMIT_LOCKS",       [RLIMIT_SIGPENDING] = "RLIMIT_SIGPENDING",
	[RLIMIT_MSGQUEUE] = "RLIMIT_MSGQUEUE", [RLIMIT_NICE] = "RLIMIT_NICE",
	[RLIMIT_RTPRIO] = "RLIMIT_RTPRIO",     [RLIMIT_RTTIME] = "RLIMIT_RTTIME",
};

int berth_process_apply_rlimits(const struct berth_process *p, struct berth_error **err)
{
	for (size_t i = 0; i < p->n_rlimits; i++) {
		const struct berth_rlimit *r = &p->rlimits[i];
		struct rlimit lim = {.rlim_cur = r->soft, .rlim_max = r->hard};
		const char *name = NULL;
		char num[32];

		if (r->resource >= 0 && (size_t)r->resource < ARRAY_SIZE(rlimit_names))
			name = rlimit_names[r->resource];
		if (!name) {
			snprintf(num, sizeof(num), "resource %d", r->resource);
			name = num;
		}
		if (r->resource < 0)
			return berth_error_set(err, EINVAL, "setrlimit %s: invalid resource", name);
		/* prlimit on ourselves: setrlimit's glibc wrapper may go through an older syscall */
		if (prlimit(0, (__rlimit_resource_t)r->resource, &lim, NULL) < 0)
			return berth_error_sys(err, errno, "setrlimit %s %" PRIu64 "/%" PRIu64,
					       name, r->soft, r->hard);
	}
	return 0;
}

/* ---- attributes -------------------------------------------------------------------------- */

/* Parse a cpu list ("0-1,3") into a CPU_ALLOC'd set; *ret_size is its byte size. */
static int parse_cpu_list(const char *list, cpu_set_t **ret, size_t *ret_size,
			  struct berth_error **err)
{
	unsigned long max = 0;
	const char *s;
	cpu_set_t *set = NULL;
	size_t size = 0;

	/* two passes: the first validates and finds the highest cpu, the second fills the set */
	for (int pass = 0; pass < 2; pass++) {
		s = list;
		if (pass == 1) {
			set = CPU_ALLOC(max + 1);
			if (!set)
				return berth_error_set(err, ENOMEM, "out of memory");
			size = CPU_ALLOC_SIZE(max + 1);
			CPU_ZERO_S(size, set);
		}
		for (;;) {
			unsigned long lo, hi;
			char *end;

			if (*s < '0' || *s > '9')
				goto bad;
			errno = 0;
			lo = strtoul(s, &end, 10);
			if (errno || lo >= MAX_CPU)
				goto bad;
			hi = lo;
			s = end;
			if (*s == '-') {
				s++;
				if (*s < '0' || *s > '9')
					goto bad;
				errno = 0;
				hi = strtoul(s, &end, 10);
				if (errno || hi >= MAX_CPU || hi < lo)
					goto bad;
				s = end;
			}
			if (pass == 0 && hi > max)
				max = hi;
			if (pass == 1)
				for (unsigned long c = lo; c <= hi; c++)
					CPU_SET_S(c, size, set);
			if (*s == '\0')
				break;
			if (*s != ',')
				goto bad;
			s++;
		}
	}
	*ret = set;
	*ret_size = size;
	return 0;
bad:
	if (set)
		CPU_FREE(set);
	return berth_error_set(err, EINVAL, "invalid cpu list '%s'", list);
}

static int set_affinity(pid_t pid, const char *list, struct berth_error **err)
{
	cpu_set_t *set = NULL;
	size_t size = 0;
	int r;

	r = parse_cpu_list(list, &set, &size, err);
	if (r < 0)
		return r;
	r = sched_setaffinity(pid, size, set) < 0 ? -errno : 0;
	CPU_FREE(set);
	if (r < 0)
		return berth_error_sys(err, -r, "set cpu affinity '%s'", list);
	return 0;
}

int berth_process_apply_final_affinity(pid_t pid, const struct berth_process *p,
				       struct berth_error **err)
{
	if (!p->exec_cpu_affinity_final)
		return 0;
	return set_affinity(pid, p->exec_cpu_affinity_final, err);
}

int berth_process_apply_oom_score_adj(pid_t pid, const struct berth_process *p,
				      struct berth_error **err)
{
	char path[64], buf[32];
	int n, r;

	if (p->oom_score_adj == BERTH_UNSET)
		return 0;
	n = snprintf(buf, sizeof(buf), "%" PRId64, p->oom_score_adj);
	if (pid == 0)
		snprintf(path, sizeof(path), "/proc/self/oom_score_adj");
	else
		snprintf(path, sizeof(path), "/proc/%d/oom_score_adj", (int)pid);
	r = berth_write_file_at(AT_FDCWD, path, buf, (size_t)n, err);
	if (r < 0)
		return berth_error_wrap(err, "oomScoreAdj %" PRId64, p->oom_score_adj);
	return 0;
}

/* The kernel's struct sched_attr, first version (48 bytes); glibc may lack it. */
struct kernel_sched_attr {
	uint32_t size;
	uint32_t sched_policy;
	uint64_t sched_flags;
	int32_t sched_nice;
	uint32_t sched_priority;
	uint64_t sched_runtime;
	uint64_t sched_deadline;
	uint64_t sched_period;
};

static int set_scheduler(const struct berth_process *p, struct berth_error **err)
{
	struct kernel_sched_attr attr = {
		.size = sizeof(attr),
		.sched_policy = (uint32_t)p->sched_policy,
		.sched_flags = p->sched_flags,
		.sched_nice = p->sched_nice,
		.sched_priority = (uint32_t)p->sched_priority,
		.sched_runtime = p->sched_runtime,
		.sched_deadline = p->sched_deadline,
		.sched_period = p->sched_period,
	};

	if (syscall(SYS_sched_setattr, 0, &attr, 0) < 0)
		return berth_error_sys(
			err, errno, "sched_setattr policy %d nice %d priority %d flags 0x%" PRIx64,
			p->sched_policy, p->sched_nice, p->sched_priority, p->sched_flags);
	return 0;
}

static bool apparmor_enabled(void)
{
	char buf[4] = "";
	_cleanup_close_ int fd =
		open("/sys/module/apparmor/parameters/enabled", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return false;
	return read(fd, buf, sizeof(buf)) > 0 && buf[0] == 'Y';
}

static bool selinux_enabled(void)
{
	struct statfs st;

	return statfs("/sys/fs/selinux", &st) == 0 && (uint32_t)st.f_type == SELINUX_MAGIC;
}

/*
 * A label the host cannot apply is refused, as runc and crun do: running the process unconfined
 * when the config asks for confinement would be a silent downgrade.
 */
static int check_lsm_labels(const struct berth_process *p, struct berth_error **err)
{
	if (p->apparmor_profile && p->apparmor_profile[0] && !apparmor_enabled())
		return berth_error_set(
			err, EINVAL,
			"process.apparmorProfile '%s' cannot be applied: AppArmor is "
			"not enabled on this host",
			p->apparmor_profile);
	if (p->selinux_label && p->selinux_label[0] && !selinux_enabled())
		return berth_error_set(
			err, EINVAL,
			"process.selinuxLabel '%s' cannot be applied: SELinux is not "
			"enabled on this host",
			p->selinux_label);
	return 0;
}

static int set_apparmor(const char *profile, struct berth_error **err)
{
	_cleanup_free_ char *cmd = NULL;
	_cleanup_error_ struct berth_error *e = NULL;
	int r;

	if (asprintf(&cmd, "exec %s", profile) < 0)
		return berth_error_set(err, ENOMEM, "out of memory");
	/* kernels since 5.8 give AppArmor its own directory; the shared file is the fallback */
	r = berth_write_file_at(AT_FDCWD, "/proc/self/attr/apparmor/exec", cmd, strlen(cmd), &e);
	if (r == -ENOENT)
		r = berth_write_file_at(AT_FDCWD, "/proc/self/attr/exec", cmd, strlen(cmd), &e);
	if (r < 0) {
		if (err) {
			berth_error_free(*err);
			*err = TAKE_PTR(e);
		}
		return berth_error_wrap(err, "apparmor profile '%s'", profile);
	}
	return 0;
}

int berth_process_apply_attrs(const struct berth_process *p, const struct berth_linux *linux_,
			      struct berth_error **err)
{
	int r;

	if (p->io_priority_class >= 0) {
		if (p->io_priority < 0 || p->io_priority > 7)
			return berth_error_set(err, EINVAL, "ioPriority: priority %d not in 0..7",
					       p->io_priority);
		int v = (p->io_priority_class << IOPRIO_CLASS_SHIFT) | p->io_priority;
		if (syscall(SYS_ioprio_set, IOPRIO_WHO_PROCESS, 0, v) < 0)
			return berth_error_sys(err, errno, "ioprio_set class %d priority %d",
					       p->io_priority_class, p->io_priority);
	}
	if (p->has_scheduler) {
		r = set_scheduler(p, err);
		if (r < 0)
			return r;
	}
	if (linux_ && linux_->has_personality) {
		if (personality(linux_->personality) < 0)
			return berth_error_sys(err, errno, "personality 0x%lx",
					       linux_->personality);
	}
	if (p->exec_cpu_affinity_initial) {
		r = set_affinity(0, p->exec_cpu_affinity_initial, err);
		if (r < 0)
			return berth_error_wrap(err, "execCPUAffinity.initial");
	}
	r = check_lsm_labels(p, err);
	if (r < 0)
		return r;
	if (p->apparmor_profile && p->apparmor_profile[0]) {
		r = set_apparmor(p->apparmor_profile, err);
		if (r < 0)
			return r;
	}
	if (p->selinux_label && p->selinux_label[0]) {
		r = berth_write_file_at(AT_FDCWD, "/proc/self/attr/exec", p->selinux_label,
					strlen(p->selinux_label), err);
		if (r < 0)
			return berth_error_wrap(err, "selinux label '%s'", p->selinux_label);
	}
	return 0;
}

/* ---- executable -------------------------------------------------------------------------- */

/* 0 when path is a regular file we may execute, else -errno. */
static int check_executable(const char *path)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return -errno;
	if (S_ISDIR(st.st_mode) || !(st.st_mode & 0111))
		return -EACCES;
	/* also catches noexec mounts and, after identity, the file's permission bits */
	if (faccessat(AT_FDCWD, path, X_OK, AT_EACCESS) < 0)
		return -errno;
	return 0;
}

static int make_absolute(const char *path, char **ret)
{
	char cwd[PATH_MAX];

	if (path[0] == '/') {
		*ret = strdup(path);
		return *ret ? 0 : -ENOMEM;
	}
	if (!getcwd(cwd, sizeof(cwd)))
		return -errno;
	if (asprintf(ret, "%s/%s", strcmp(cwd, "/") == 0 ? "" : cwd, path) < 0)
		return -ENOMEM;
	return 0;
}

int berth_process_find_executable(const struct berth_process *p, char **ret_path,
				  struct berth_error **err)
{
	const char *name = p->args && p->args[0] ? p->args[0] : NULL;
	const char *path = NULL;
	int r;

	if (!name || !name[0])
		return berth_error_set(err, EINVAL, "exec: no command");

	if (strchr(name, '/')) {
		r = check_executable(name);
		if (r == -ENOENT || r == -ENOTDIR)
			return berth_error_sys(err, -r, "exec: \"%s\": stat %s", name, name);
		if (r < 0)
			return berth_error_sys(err, -r, "exec: \"%s\"", name);
		r = make_absolute(name, ret_path);
		if (r < 0)
			return berth_error_sys(err, -r, "exec: \"%s\"", name);
		return 0;
	}

	for (size_t i = 0; p->env && p->env[i]; i++)
		if (berth_str_has_prefix(p->env[i], "PATH="))
			path = p->env[i] + strlen("PATH=");
	if (!path)
		path = DEFAULT_PATH;

	/* the first executable match wins; a match we may not execute is reported if none is */
	int denied = 0;
	for (const char *s = path;;) {
		const char *colon = strchrnul(s, ':');
		int dirlen = (int)(colon - s);
		_cleanup_free_ char *candidate = NULL;

		/* an empty entry means the current directory, as in a shell */
		if (asprintf(&candidate, "%.*s%s%s", dirlen, s, dirlen ? "/" : "./", name) < 0)
			return berth_error_set(err, ENOMEM, "out of memory");
		if (strlen(candidate) < PATH_MAX) {
			r = check_executable(candidate);
			if (r == 0) {
				r = make_absolute(candidate, ret_path);
				if (r < 0)
					return berth_error_sys(err, -r, "exec: \"%s\"", name);
				return 0;
			}
			if (r == -EACCES || r == -EPERM)
				denied = r;
		}
		if (*colon == '\0')
			break;
		s = colon + 1;
	}
	if (denied)
		return berth_error_sys(err, -denied, "exec: \"%s\"", name);
	return berth_error_set(err, ENOENT, "exec: \"%s\": executable file not found in $PATH",
			       name);
}

/* ---- identity ---------------------------------------------------------------------------- */

static int cap_last(void)
{
	char buf[16] = "";
	int64_t v;
	_cleanup_close_ int fd = open("/proc/sys/kernel/cap_last_cap", O_RDONLY | O_CLOEXEC);

	if (fd >= 0 && read(fd, buf, sizeof(buf) - 1) > 0) {
		buf[strcspn(buf, "\n")] = '\0';
		if (berth_parse_int64(buf, 0, 63, &v) == 0)
			return (int)v;
	}
	/* no /proc (or a strange one): probe the bounding set, which fails past the last cap */
	int c = 0;
	while (c < 63 && prctl(PR_CAPBSET_READ, c + 1, 0, 0, 0) >= 0)
		c++;
	return c;
}

static const char *cap_label(int cap, char *buf, size_t size)
{
	const char *n = berth_cap_name(cap);

	if (n)
		return n;
	snprintf(buf, size, "capability %d", cap);
	return buf;
}

static bool setgroups_denied(void)
{
	char buf[16] = "";
	_cleanup_close_ int fd = open("/proc/self/setgroups", O_RDONLY | O_CLOEXEC);

	return fd >= 0 && read(fd, buf, sizeof(buf) - 1) > 0 && berth_str_has_prefix(buf, "deny");
}

static int set_groups(const struct berth_process *p, struct berth_error **err)
{
	char list[128];
	size_t len = 0, i;

	/* a rootless user namespace forbids setgroups; the groups stay what they are */
	if (setgroups_denied())
		return 0;
	if (setgroups(p->n_additional_gids, p->additional_gids) == 0)
		return 0;
	int e = errno;

	for (i = 0; i < p->n_additional_gids && len < sizeof(list) - 16; i++)
		len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%u", i ? "," : "",
					(unsigned)p->additional_gids[i]);
	if (i < p->n_additional_gids)
		snprintf(list + len, sizeof(list) - len, ",...");
	else
		list[len] = '\0';
	return berth_error_sys(err, e, "setgroups [%s]", list);
}

/* The capability sets of this process: bounding from prctl, the others from capget. */
static int own_caps(int last, struct berth_capabilities *ret, struct berth_error **err)
{
	struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct data[2] = {{0}};

	if (syscall(SYS_capget, &hdr, data) < 0)
		return berth_error_sys(err, errno, "capget");
	*ret = (struct berth_capabilities){
		.present = true,
		.permitted = data[0].permitted | (uint64_t)data[1].permitted << 32,
		.effective = data[0].effective | (uint64_t)data[1].effective << 32,
		.inheritable = data[0].inheritable | (uint64_t)data[1].inheritable << 32,
	};
	for (int c = 0; c <= last; c++)
		if (prctl(PR_CAPBSET_READ, c, 0, 0, 0) > 0)
			ret->bounding |= UINT64_C(1) << c;
	return 0;
}

/* The first capability in mask, as a name for messages. */
static const char *first_cap(uint64_t mask, char *buf, size_t size)
{
	for (int c = 0; c < 64; c++)
		if (mask & (UINT64_C(1) << c))
			return cap_label(c, buf, size);
	return "?";
}

int berth_process_prepare(struct berth_process *p, bool in_userns, const struct berth_log *log,
			  struct berth_error **err)
{
	struct berth_capabilities *caps = &p->caps, own = {0};
	int last = cap_last();
	uint64_t known = last >= 63 ? UINT64_MAX : (UINT64_C(1) << (last + 1)) - 1, drop, bad;
	char name[32];
	int r;

	r = check_lsm_labels(p, err);
	if (r < 0)
		return r;
	if (!caps->present)
		return 0;
	/*
	 * The kernel raises an ambient capability only when it is permitted and inheritable.  runc
	 * and crun drop the others (`runc spec` asks for ambient capabilities it leaves out of the
	 * inheritable set) and run the process: so do we, with a note.
	 */
	drop = caps->ambient & known & ~(caps->permitted & caps->inheritable);
	for (int c = 0; c <= last; c++)
		if (drop & (UINT64_C(1) << c))
			berth_log(log, BERTH_LOG_DEBUG,
				  "process.capabilities.ambient: %s dropped: not both permitted "
				  "and inheritable",
				  cap_label(c, name, sizeof(name)));
	caps->ambient &= ~drop;
	if ((bad = caps->effective & known & ~caps->permitted))
		return berth_error_set(err, EINVAL, "capability %s is effective but not permitted",
				       first_cap(bad, name, sizeof(name)));
	/*
	 * In a user namespace (new or joined) the process holds every capability of it.  Outside
	 * one it can keep only what the runtime holds: find out now, so create fails and leaves
	 * nothing rather than start failing in capset (the spec wants create to fail).
	 */
	if (in_userns)
		return 0;
	r = own_caps(last, &own, err);
	if (r < 0)
		return r;
	if ((bad = caps->bounding & known & ~own.bounding))
		return berth_error_set(
			err, EPERM,
			"capability %s cannot be granted: it is not in the runtime's "
			"bounding set",
			first_cap(bad, name, sizeof(name)));
	if ((bad = (caps->permitted | caps->effective) & known & ~own.permitted))
		return berth_error_set(
			err, EPERM, "capability %s cannot be granted: the runtime does not hold it",
			first_cap(bad, name, sizeof(name)));
	/* capset: inheritable within the old inheritable set plus the (new) bounding set */
	if ((bad = caps->inheritable & known &
		   ~(own.inheritable | (caps->bounding & own.permitted))))
		return berth_error_set(err, EPERM,
				       "capability %s cannot be inheritable: it is neither in the "
				       "bounding set asked for nor inheritable by the runtime",
				       first_cap(bad, name, sizeof(name)));
	return 0;
}

int berth_process_apply_identity(const struct berth_process *p, struct berth_error **err)
{
	struct berth_capabilities caps = {0};
	struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct data[2] = {{0}};
	char name[32];
	int last = cap_last(), c;
	uint64_t known;

	/* absent "capabilities" means none at all, as runc does */
	if (p->caps.present)
		caps = p->caps;
	/* capabilities this kernel does not have are left out rather than failing capset */
	known = last >= 63 ? UINT64_MAX : (UINT64_C(1) << (last + 1)) - 1;
	caps.bounding &= known;
	caps.effective &= known;
	caps.permitted &= known;
	caps.inheritable &= known;
	caps.ambient &= known;

	for (c = 0; c <= last; c++) {
		uint64_t bit = UINT64_C(1) << c;

		if ((caps.effective & bit) && !(caps.permitted & bit))
			return berth_error_set(err, EINVAL,
					       "capability %s is effective but not permitted",
					       cap_label(c, name, sizeof(name)));
	}
	/* berth_process_prepare() dropped these already, with a note; a caller that did not
	 * call it gets the same behaviour */
	caps.ambient &= caps.permitted & caps.inheritable;

	/* keep the permitted set across setresuid; capset below then trims it to the spec */
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
		return berth_error_sys(err, errno, "prctl PR_SET_KEEPCAPS");

	for (c = 0; c <= last; c++) {
		if (caps.bounding & (UINT64_C(1) << c))
			continue;
		/* already gone: no need for CAP_SETPCAP, which a nested runtime may lack */
		if (prctl(PR_CAPBSET_READ, c, 0, 0, 0) == 0)
			continue;
		if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0)
			return berth_error_sys(err, errno, "drop %s from the bounding set",
					       cap_label(c, name, sizeof(name)));
	}

	int r = set_groups(p, err);
	if (r < 0)
		return r;
	if (setresgid(p->gid, p->gid, p->gid) < 0)
		return berth_error_sys(err, errno, "setresgid %u", (unsigned)p->gid);
	if (setresuid(p->uid, p->uid, p->uid) < 0)
		return berth_error_sys(err, errno, "setresuid %u", (unsigned)p->uid);
	if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
		return berth_error_sys(err, errno, "prctl PR_SET_KEEPCAPS");

	data[0].effective = (uint32_t)caps.effective;
	data[1].effective = (uint32_t)(caps.effective >> 32);
	data[0].permitted = (uint32_t)caps.permitted;
	data[1].permitted = (uint32_t)(caps.permitted >> 32);
	data[0].inheritable = (uint32_t)caps.inheritable;
	data[1].inheritable = (uint32_t)(caps.inheritable >> 32);
	if (syscall(SYS_capset, &hdr, data) < 0)
		return berth_error_sys(err, errno,
				       "capset effective 0x%" PRIx64 " permitted 0x%" PRIx64
				       " inheritable 0x%" PRIx64,
				       caps.effective, caps.permitted, caps.inheritable);

	/* ambient caps set by whoever started us must not leak into the container */
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && caps.ambient)
		return berth_error_sys(err, errno, "clear ambient capabilities");
	for (c = 0; c <= last; c++) {
		if (!(caps.ambient & (UINT64_C(1) << c)))
			continue;
		if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0) < 0)
			return berth_error_sys(err, errno, "raise ambient capability %s",
					       cap_label(c, name, sizeof(name)));
	}

	umask(p->umask == BERTH_UNSET ? DEFAULT_UMASK : (mode_t)(p->umask & 07777));

	if (p->no_new_privileges && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return berth_error_sys(err, errno, "prctl PR_SET_NO_NEW_PRIVS");
	return 0;
}
