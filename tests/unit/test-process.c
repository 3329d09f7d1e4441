/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/runtime/process.c.  Whatever changes the calling process (limits, identity, scheduling)
 * runs in a forked child that reports over a pipe and _exit()s, so this process keeps its
 * privileges.  The identity checks read /proc/self/status, the kernel's own account.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "child.h"
#include "runtime/linux.h"
#include "tap.h"

#define CAP_NET_BIND_SERVICE_BIT (UINT64_C(1) << 10)
#define CAP_CHOWN_BIT		 (UINT64_C(1) << 0)

static struct berth_process new_process(void)
{
	static char *args[] = {"true", NULL};

	return (struct berth_process){
		.args = args,
		.umask = BERTH_UNSET,
		.oom_score_adj = BERTH_UNSET,
		.io_priority_class = -1,
	};
}

/* Run fn(fd, arg) in a child; returns its wait status and what it wrote. */
static pid_t last_child; /* the pid run_child's last child had */

static int run_child(void (*fn)(int fd, void *arg), void *arg, char *out, size_t outlen)
{
	return run_reporting_child(fn, arg, out, outlen, &last_child);
}

/* The value of "Key:" in a /proc status text, tabs turned to spaces; "" when absent. */
static const char *status_field(const char *text, const char *key, char *buf, size_t size)
{
	char k[64];
	const char *p;

	snprintf(k, sizeof(k), "\n%s:", key);
	p = strstr(text, k);
	buf[0] = '\0';
	if (!p)
		return buf;
	p += strlen(k);
	while (*p == '\t' || *p == ' ')
		p++;
	size_t i = 0;
	for (; p[i] && p[i] != '\n' && i + 1 < size; i++)
		buf[i] = p[i] == '\t' ? ' ' : p[i];
	buf[i] = '\0';
	while (i > 0 && buf[i - 1] == ' ')
		buf[--i] = '\0';
	return buf;
}

/* Child side: report "ERR <msg>" or "OK\n" followed by /proc/self/status. */
static void report_status(int fd, int r, struct berth_error *e)
{
	char *status = NULL;

	if (r < 0) {
		report(fd, "ERR %s", e ? e->msg : "?");
		return;
	}
	if (berth_read_file_at(AT_FDCWD, "/proc/self/status", 1 << 20, &status, NULL, NULL) < 0)
		return;
	report(fd, "OK\n%s", status);
	free(status);
}

/* Is capability cap in this process's effective set? */
static bool have_cap(int cap)
{
	char *status = NULL, buf[64];
	uint64_t eff = 0;

	if (berth_read_file_at(AT_FDCWD, "/proc/self/status", 1 << 20, &status, NULL, NULL) < 0)
		return false;
	eff = strtoull(status_field(status, "CapEff", buf, sizeof(buf)), NULL, 16);
	free(status);
	return eff & (UINT64_C(1) << cap);
}

/* ---- rlimits ----------------------------------------------------------------------------- */

static void child_rlimits(int fd, void *arg)
{
	const struct berth_process *p = arg;
	struct berth_error *e = NULL;
	struct rlimit lim;

	if (berth_process_apply_rlimits(p, &e) < 0) {
		report(fd, "ERR %s", e ? e->msg : "?");
		return;
	}
	getrlimit(RLIMIT_NOFILE, &lim);
	report(fd, "nofile %llu/%llu", (unsigned long long)lim.rlim_cur,
	       (unsigned long long)lim.rlim_max);
}

static void test_rlimits(void)
{
	struct berth_process p = new_process();
	struct berth_rlimit lims[] = {{.resource = RLIMIT_NOFILE, .soft = 512, .hard = 1024}};
	struct rlimit cur;
	char out[4096], want[256];

	p.rlimits = lims;
	p.n_rlimits = 1;
	run_child(child_rlimits, &p, out, sizeof(out));
	is_str(out, "nofile 512/1024", "lowering RLIMIT_NOFILE works");

	/* raising the hard limit needs CAP_SYS_RESOURCE, which this machine does not give */
	getrlimit(RLIMIT_NOFILE, &cur);
	if (have_cap(24 /* CAP_SYS_RESOURCE */)) {
		ok(1, "# skip: CAP_SYS_RESOURCE present, cannot test raising the hard limit");
	} else {
		lims[0].soft = lims[0].hard = (uint64_t)cur.rlim_max + 1;
		run_child(child_rlimits, &p, out, sizeof(out));
		snprintf(want, sizeof(want), "ERR setrlimit RLIMIT_NOFILE %llu/%llu: %s",
			 (unsigned long long)cur.rlim_max + 1, (unsigned long long)cur.rlim_max + 1,
			 strerror(EPERM));
		is_str(out, want, "raising the hard limit fails naming the limit");
	}

	lims[0] = (struct berth_rlimit){.resource = 99, .soft = 1, .hard = 1};
	run_child(child_rlimits, &p, out, sizeof(out));
	snprintf(want, sizeof(want), "ERR setrlimit resource 99 1/1: %s", strerror(EINVAL));
	is_str(out, want, "an unknown resource is refused");

	lims[0] = (struct berth_rlimit){.resource = RLIMIT_NOFILE, .soft = 2048, .hard = 1024};
	run_child(child_rlimits, &p, out, sizeof(out));
	snprintf(want, sizeof(want), "ERR setrlimit RLIMIT_NOFILE 2048/1024: %s", strerror(EINVAL));
	is_str(out, want, "soft above hard is refused");
}

/* ---- attributes -------------------------------------------------------------------------- */

struct attrs_case {
	struct berth_process p;
	struct berth_linux l;
};

static void child_attrs(int fd, void *arg)
{
	struct attrs_case *c = arg;
	struct berth_error *e = NULL;
	char *oom = NULL;
	cpu_set_t set;
	struct utsname u;

	/* oomScoreAdj is written by the parent, to /proc/<child>; here we are both */
	if (berth_process_apply_oom_score_adj(getpid(), &c->p, &e) < 0 ||
	    berth_process_apply_attrs(&c->p, &c->l, &e) < 0) {
		report(fd, "ERR %s", e ? e->msg : "?");
		return;
	}
	berth_read_file_at(AT_FDCWD, "/proc/self/oom_score_adj", 64, &oom, NULL, NULL);
	if (oom)
		oom[strcspn(oom, "\n")] = '\0';
	CPU_ZERO(&set);
	sched_getaffinity(0, sizeof(set), &set);
	uname(&u);
	errno = 0;
	int nice = getpriority(PRIO_PROCESS, 0);
	report(fd, "oom=%s ioprio=%ld sched=%d nice=%d pers=0x%x machine=%s cpus=%d cpu0=%d",
	       oom ? oom : "?", syscall(SYS_ioprio_get, 1, 0), sched_getscheduler(0), nice,
	       (unsigned)personality(0xffffffff), u.machine, CPU_COUNT(&set),
	       CPU_ISSET(0, &set) ? 1 : 0);
	free(oom);
}

static void test_attrs(void)
{
	struct attrs_case c = {.p = new_process()};
	char out[4096], want[512];
	struct utsname u;

	uname(&u);
	c.p.oom_score_adj = 500;
	c.p.io_priority_class = 2; /* IOPRIO_CLASS_BE */
	c.p.io_priority = 4;
	c.p.has_scheduler = true;
	c.p.sched_policy = SCHED_BATCH;
	c.p.sched_nice = 5;
	c.p.exec_cpu_affinity_initial = "0";
	c.l.has_personality = true;
	c.l.personality = PER_LINUX32;
	run_child(child_attrs, &c, out, sizeof(out));
	snprintf(want, sizeof(want),
		 "oom=500 ioprio=%d sched=%d nice=5 pers=0x%x machine=%s cpus=1 cpu0=1",
		 (2 << 13) | 4, SCHED_BATCH, PER_LINUX32,
		 strcmp(u.machine, "x86_64") == 0 ? "i686" : u.machine);
	is_str(out, want, "oomScoreAdj, ioPriority, scheduler, personality, cpu affinity applied");

	/* a cpu list with two cpus and a range, when the machine has them */
	if (sysconf(_SC_NPROCESSORS_ONLN) >= 2) {
		c = (struct attrs_case){.p = new_process()};
		c.p.exec_cpu_affinity_initial = "0-1";
		run_child(child_attrs, &c, out, sizeof(out));
		ok(strstr(out, "cpus=2 cpu0=1") != NULL, "cpu list '0-1' gives two cpus (%s)", out);
		c.p.exec_cpu_affinity_initial = "1,0";
		run_child(child_attrs, &c, out, sizeof(out));
		ok(strstr(out, "cpus=2 cpu0=1") != NULL, "cpu list '1,0' gives two cpus (%s)", out);
	}

	static const char *bad_lists[] = {
		"",	"0-", "-1",	  "a",	   "3-1",
		"1,,2", "0,", "99999999", "0 - 1", "18446744073709551617"};
	for (size_t i = 0; i < ARRAY_SIZE(bad_lists); i++) {
		c = (struct attrs_case){.p = new_process()};
		c.p.exec_cpu_affinity_initial = (char *)bad_lists[i];
		run_child(child_attrs, &c, out, sizeof(out));
		snprintf(want, sizeof(want), "ERR execCPUAffinity.initial: invalid cpu list '%s'",
			 bad_lists[i]);
		is_str(out, want, "bad cpu list '%s' refused", bad_lists[i]);
	}
	c = (struct attrs_case){.p = new_process()};
	c.p.exec_cpu_affinity_initial = "4000";
	run_child(child_attrs, &c, out, sizeof(out));
	snprintf(want, sizeof(want), "ERR execCPUAffinity.initial: set cpu affinity '4000': %s",
		 strerror(EINVAL));
	is_str(out, want, "a cpu the machine lacks is refused by the kernel");

	c = (struct attrs_case){.p = new_process()};
	c.p.oom_score_adj = 5000;
	run_child(child_attrs, &c, out, sizeof(out));
	snprintf(want, sizeof(want),
		 "ERR oomScoreAdj 5000: write '5000' to '/proc/%d/oom_score_adj': %s",
		 (int)last_child, strerror(EINVAL));
	is_str(out, want, "oomScoreAdj out of range: the error names the value");

	/* an LSM label the host cannot apply is refused, not ignored (runc and crun refuse) */
	if (access("/sys/module/apparmor/parameters/enabled", F_OK) != 0) {
		c = (struct attrs_case){.p = new_process()};
		c.p.apparmor_profile = "berth-test-profile";
		run_child(child_attrs, &c, out, sizeof(out));
		is_str(out,
		       "ERR process.apparmorProfile 'berth-test-profile' cannot be applied: "
		       "AppArmor is not enabled on this host",
		       "apparmorProfile without AppArmor refused");
	} else {
		ok(1, "# skip: AppArmor present");
	}
	if (access("/sys/fs/selinux/enforce", F_OK) != 0) {
		c = (struct attrs_case){.p = new_process()};
		c.p.selinux_label = "system_u:system_r:container_t:s0";
		run_child(child_attrs, &c, out, sizeof(out));
		is_str(out,
		       "ERR process.selinuxLabel 'system_u:system_r:container_t:s0' cannot be "
		       "applied: SELinux is not enabled on this host",
		       "selinuxLabel without SELinux refused");
	} else {
		ok(1, "# skip: SELinux present");
	}

	c = (struct attrs_case){.p = new_process()};
	c.p.io_priority_class = 2;
	c.p.io_priority = 9;
	run_child(child_attrs, &c, out, sizeof(out));
	is_str(out, "ERR ioPriority: priority 9 not in 0..7", "ioPriority out of range refused");
	c.p.io_priority_class = 7;
	c.p.io_priority = 0;
	run_child(child_attrs, &c, out, sizeof(out));
	snprintf(want, sizeof(want), "ERR ioprio_set class 7 priority 0: %s", strerror(EINVAL));
	is_str(out, want, "unknown ioPriority class refused by the kernel");

	c = (struct attrs_case){.p = new_process()};
	c.p.has_scheduler = true;
	c.p.sched_policy = 6; /* SCHED_DEADLINE with runtime > deadline */
	c.p.sched_runtime = 2000000;
	c.p.sched_deadline = 1000000;
	c.p.sched_period = 1000000;
	run_child(child_attrs, &c, out, sizeof(out));
	snprintf(want, sizeof(want), "ERR sched_setattr policy 6 nice 0 priority 0 flags 0x0: %s",
		 strerror(EINVAL));
	is_str(out, want, "impossible SCHED_DEADLINE parameters refused");

	/* personality flags travel with the domain */
	c = (struct attrs_case){.p = new_process()};
	c.l.has_personality = true;
	c.l.personality = PER_LINUX | ADDR_NO_RANDOMIZE;
	run_child(child_attrs, &c, out, sizeof(out));
	snprintf(want, sizeof(want), "pers=0x%x ", PER_LINUX | ADDR_NO_RANDOMIZE);
	ok(strstr(out, want) != NULL, "personality with a flag applied (%s)", out);
}

static void test_final_affinity(void)
{
	struct berth_process p = new_process();
	struct berth_error *e = NULL;
	cpu_set_t set;
	int status;

	pid_t pid = fork();
	if (pid == 0) {
		pause();
		_exit(0);
	}
	p.exec_cpu_affinity_final = "0";
	is(berth_process_apply_final_affinity(pid, &p, &e), 0, "final affinity applied to a pid");
	CPU_ZERO(&set);
	sched_getaffinity(pid, sizeof(set), &set);
	ok(CPU_COUNT(&set) == 1 && CPU_ISSET(0, &set), "the other process now runs on cpu 0 only");
	p.exec_cpu_affinity_final = "x";
	is(berth_process_apply_final_affinity(pid, &p, &e), -EINVAL, "bad final list refused");
	is_str(e ? e->msg : NULL, "invalid cpu list 'x'", "message names the list");
	berth_error_free(e);
	e = NULL;
	p.exec_cpu_affinity_final = NULL;
	is(berth_process_apply_final_affinity(pid, &p, &e), 0, "no final list: nothing to do");
	kill(pid, SIGKILL);
	berth_waitpid(pid, 0, &status);
}

/* ---- identity ---------------------------------------------------------------------------- */

static void child_identity(int fd, void *arg)
{
	struct berth_error *e = NULL;
	int r = berth_process_apply_identity(arg, &e);

	report_status(fd, r, e);
}

static void check_status(const char *out, const char *key, const char *want, const char *what)
{
	char buf[256];

	is_str(status_field(out, key, buf, sizeof(buf)), want, "%s: %s", what, key);
}

static void test_identity(void)
{
	struct berth_process p = new_process();
	gid_t groups[] = {10, 20};
	char out[8192];

	if (getuid() != 0 || !have_cap(7 /* CAP_SETUID */)) {
		ok(1, "# skip identity tests: not root");
		return;
	}
	p.uid = 1000;
	p.gid = 1000;
	p.additional_gids = groups;
	p.n_additional_gids = 2;
	p.umask = 027;
	p.no_new_privileges = true;
	p.caps = (struct berth_capabilities){
		.present = true,
		.bounding = CAP_NET_BIND_SERVICE_BIT,
		.effective = CAP_NET_BIND_SERVICE_BIT,
		.permitted = CAP_NET_BIND_SERVICE_BIT,
		.inheritable = CAP_NET_BIND_SERVICE_BIT,
		.ambient = CAP_NET_BIND_SERVICE_BIT,
	};
	run_child(child_identity, &p, out, sizeof(out));
	ok(strncmp(out, "OK\n", 3) == 0, "uid 1000 with CAP_NET_BIND_SERVICE applied (%.*s)",
	   (int)strcspn(out, "\n"), out);
	check_status(out, "Uid", "1000 1000 1000 1000", "user");
	check_status(out, "Gid", "1000 1000 1000 1000", "user");
	check_status(out, "Groups", "10 20", "user");
	check_status(out, "CapInh", "0000000000000400", "user");
	check_status(out, "CapPrm", "0000000000000400", "user");
	check_status(out, "CapEff", "0000000000000400", "user");
	check_status(out, "CapBnd", "0000000000000400", "user");
	check_status(out, "CapAmb", "0000000000000400", "user");
	check_status(out, "NoNewPrivs", "1", "user");
	check_status(out, "Umask", "0027", "user");

	/* root keeping two capabilities, no ambient, no groups, default umask */
	p = new_process();
	p.caps = (struct berth_capabilities){
		.present = true,
		.bounding = CAP_NET_BIND_SERVICE_BIT | CAP_CHOWN_BIT,
		.effective = CAP_CHOWN_BIT,
		.permitted = CAP_NET_BIND_SERVICE_BIT | CAP_CHOWN_BIT,
	};
	run_child(child_identity, &p, out, sizeof(out));
	ok(strncmp(out, "OK\n", 3) == 0, "root with two capabilities applied");
	check_status(out, "Uid", "0 0 0 0", "root");
	check_status(out, "Groups", "", "root");
	check_status(out, "CapEff", "0000000000000001", "root");
	check_status(out, "CapPrm", "0000000000000401", "root");
	check_status(out, "CapBnd", "0000000000000401", "root");
	check_status(out, "CapInh", "0000000000000000", "root");
	check_status(out, "CapAmb", "0000000000000000", "root");
	check_status(out, "NoNewPrivs", "0", "root");
	check_status(out, "Umask", "0022", "root");

	/* no "capabilities" at all: even root keeps none */
	p = new_process();
	run_child(child_identity, &p, out, sizeof(out));
	ok(strncmp(out, "OK\n", 3) == 0, "absent capabilities applied");
	check_status(out, "CapEff", "0000000000000000", "absent caps");
	check_status(out, "CapPrm", "0000000000000000", "absent caps");
	check_status(out, "CapBnd", "0000000000000000", "absent caps");

	/* a capability this kernel lacks (bit 63) is left out instead of failing capset */
	p = new_process();
	p.caps = (struct berth_capabilities){.present = true,
					     .bounding = UINT64_C(1) << 63 | CAP_CHOWN_BIT,
					     .permitted = UINT64_C(1) << 63 | CAP_CHOWN_BIT,
					     .effective = UINT64_C(1) << 63 | CAP_CHOWN_BIT};
	run_child(child_identity, &p, out, sizeof(out));
	check_status(out, "CapEff", "0000000000000001", "unknown capability bit ignored");

	/* inconsistent sets are refused with the capability's name */
	p = new_process();
	p.caps = (struct berth_capabilities){.present = true,
					     .bounding = CAP_NET_BIND_SERVICE_BIT,
					     .effective = CAP_NET_BIND_SERVICE_BIT};
	run_child(child_identity, &p, out, sizeof(out));
	is_str(out, "ERR capability CAP_NET_BIND_SERVICE is effective but not permitted",
	       "effective outside permitted refused");
	/* ambient outside inheritable is left out (runc and crun), the other sets stay exact */
	p.caps.effective = 0;
	p.caps.permitted = CAP_NET_BIND_SERVICE_BIT;
	p.caps.ambient = CAP_NET_BIND_SERVICE_BIT;
	run_child(child_identity, &p, out, sizeof(out));
	ok(strncmp(out, "OK\n", 3) == 0, "ambient outside inheritable: applied without it");
	check_status(out, "CapAmb", "0000000000000000", "ambient dropped");
	check_status(out, "CapPrm", "0000000000000400", "ambient dropped");
	check_status(out, "CapBnd", "0000000000000400", "ambient dropped");

	/* inheritable outside the bounding set: the kernel refuses capset, the error says so */
	p = new_process();
	p.caps = (struct berth_capabilities){.present = true,
					     .bounding = CAP_CHOWN_BIT,
					     .inheritable = CAP_NET_BIND_SERVICE_BIT};
	run_child(child_identity, &p, out, sizeof(out));
	char want[256];
	snprintf(want, sizeof(want), "ERR capset effective 0x0 permitted 0x0 inheritable 0x400: %s",
		 strerror(EPERM));
	is_str(out, want, "inheritable outside bounding refused by capset");
}

/* ---- prepare: what the parent checks and trims before anything is made --------------------- */

static char debug_notes[1024];

static void note_fn(void *data, enum berth_log_level level, const char *msg)
{
	size_t len = strlen(debug_notes);

	snprintf(debug_notes + len, sizeof(debug_notes) - len, "%s\n", msg);
}

/* In a child that first drops CAP_NET_RAW from its bounding set and its permitted set. */
static void child_prepare(int fd, void *arg)
{
	struct berth_process *p = arg;
	struct berth_error *e = NULL;

	prctl(PR_CAPBSET_DROP, 13 /* CAP_NET_RAW */, 0, 0, 0);
	debug_notes[0] = '\0';
	if (berth_process_prepare(p, false, &(struct berth_log){.fn = note_fn, .debug = true}, &e) <
	    0)
		report(fd, "ERR %s", e ? e->msg : "?");
	else
		report(fd, "OK amb=%llx notes=%s", (unsigned long long)p->caps.ambient,
		       debug_notes);
}

#define CAP_KILL_BIT	(UINT64_C(1) << 5)
#define CAP_NET_RAW_BIT (UINT64_C(1) << 13)

static void test_prepare(void)
{
	struct berth_process p = new_process();
	char out[4096];

	if (getuid() != 0 || !have_cap(8 /* CAP_SETPCAP */)) {
		ok(1, "# skip prepare tests: not root");
		return;
	}
	/* runc spec's sets: ambient CAP_KILL, inheritable empty -> dropped with a note */
	p.caps = (struct berth_capabilities){.present = true,
					     .bounding = CAP_KILL_BIT,
					     .effective = CAP_KILL_BIT,
					     .permitted = CAP_KILL_BIT,
					     .ambient = CAP_KILL_BIT};
	run_child(child_prepare, &p, out, sizeof(out));
	is_str(out,
	       "OK amb=0 notes=process.capabilities.ambient: CAP_KILL dropped: not both "
	       "permitted and inheritable\n",
	       "ambient outside inheritable dropped with a debug note");
	p.caps.inheritable = CAP_KILL_BIT;
	run_child(child_prepare, &p, out, sizeof(out));
	is_str(out, "OK amb=20 notes=", "ambient in both sets kept, no note");

	/* what the runtime does not hold cannot be granted: refused before anything is made */
	p.caps = (struct berth_capabilities){.present = true, .bounding = CAP_NET_RAW_BIT};
	run_child(child_prepare, &p, out, sizeof(out));
	is_str(out,
	       "ERR capability CAP_NET_RAW cannot be granted: it is not in the runtime's bounding "
	       "set",
	       "bounding capability the runtime lacks refused");
	p.caps = (struct berth_capabilities){.present = true, .permitted = CAP_NET_RAW_BIT};
	run_child(child_prepare, &p, out, sizeof(out));
	ok(strncmp(out, "OK", 2) == 0, "a permitted capability still held passes (%s)", out);
	p.caps = (struct berth_capabilities){
		.present = true, .bounding = CAP_KILL_BIT, .inheritable = CAP_NET_RAW_BIT};
	run_child(child_prepare, &p, out, sizeof(out));
	is_str(out,
	       "ERR capability CAP_NET_RAW cannot be inheritable: it is neither in the bounding "
	       "set asked for nor inheritable by the runtime",
	       "inheritable outside the bounding set refused before capset");
	p.caps = (struct berth_capabilities){
		.present = true, .bounding = CAP_KILL_BIT, .effective = CAP_KILL_BIT};
	run_child(child_prepare, &p, out, sizeof(out));
	is_str(out, "ERR capability CAP_KILL is effective but not permitted",
	       "effective outside permitted refused");
}

/* In a fresh user namespace mapping only root, with setgroups denied as rootless has it. */
static void child_userns(int fd, void *arg)
{
	struct berth_process *p = arg;
	struct berth_error *e = NULL;
	char map[64];
	uid_t uid = getuid();
	gid_t gid = getgid();

	if (unshare(CLONE_NEWUSER) < 0) {
		report(fd, "SKIP unshare: %s", strerror(errno));
		return;
	}
	snprintf(map, sizeof(map), "0 %u 1", (unsigned)uid);
	if (berth_write_file_at(AT_FDCWD, "/proc/self/setgroups", "deny", 4, &e) < 0 ||
	    berth_write_file_at(AT_FDCWD, "/proc/self/uid_map", map, strlen(map), &e) < 0) {
		report(fd, "SKIP %s", e ? e->msg : "?");
		return;
	}
	snprintf(map, sizeof(map), "0 %u 1", (unsigned)gid);
	if (berth_write_file_at(AT_FDCWD, "/proc/self/gid_map", map, strlen(map), &e) < 0) {
		report(fd, "SKIP %s", e ? e->msg : "?");
		return;
	}
	int r = berth_process_apply_identity(p, &e);

	report_status(fd, r, e);
}

static void test_identity_userns(void)
{
	struct berth_process p = new_process();
	gid_t groups[] = {10, 20};
	char out[8192], before[8192], buf[256], want[256];

	run_child(child_identity,
		  &(struct berth_process){
			  .uid = 0, .umask = BERTH_UNSET, .oom_score_adj = BERTH_UNSET},
		  before, sizeof(before));
	p.additional_gids = groups;
	p.n_additional_gids = 2;
	p.caps = (struct berth_capabilities){.present = true,
					     .bounding = CAP_CHOWN_BIT,
					     .permitted = CAP_CHOWN_BIT,
					     .effective = CAP_CHOWN_BIT};
	run_child(child_userns, &p, out, sizeof(out));
	if (strncmp(out, "SKIP", 4) == 0) {
		ok(1, "# skip user namespace tests: %s", out);
		return;
	}
	ok(strncmp(out, "OK\n", 3) == 0,
	   "identity in a user namespace with setgroups denied (%.*s)", (int)strcspn(out, "\n"),
	   out);
	check_status(out, "CapEff", "0000000000000001", "userns");
	ok(strlen(status_field(out, "Groups", buf, sizeof(buf))) == 0 ||
		   strstr(buf, "10 20") == NULL,
	   "setgroups skipped where denied (Groups: %s)", buf);

	p.gid = 1000; /* not mapped in this namespace */
	run_child(child_userns, &p, out, sizeof(out));
	snprintf(want, sizeof(want), "ERR setresgid 1000: %s", strerror(EINVAL));
	is_str(out, want, "unmapped gid refused naming the step and the value");
	p.gid = 0;
	p.uid = 1000;
	run_child(child_userns, &p, out, sizeof(out));
	snprintf(want, sizeof(want), "ERR setresuid 1000: %s", strerror(EINVAL));
	is_str(out, want, "unmapped uid refused naming the step and the value");
}

/* ---- find_executable --------------------------------------------------------------------- */

static void expect_found(struct berth_process *p, const char *want, const char *what)
{
	struct berth_error *e = NULL;
	char *path = NULL;
	int r = berth_process_find_executable(p, &path, &e);

	is(r, 0, "%s: found (%s)", what, e ? e->msg : "");
	is_str(path, want, "%s: path", what);
	free(path);
	berth_error_free(e);
}

static void expect_not_found(struct berth_process *p, int code, const char *msg, const char *what)
{
	struct berth_error *e = NULL;
	char *path = NULL;
	int r = berth_process_find_executable(p, &path, &e);

	is(r, -code, "%s: refused", what);
	ok(path == NULL, "%s: no path returned", what);
	is_str(e ? e->msg : NULL, msg, "%s: message", what);
	free(path);
	berth_error_free(e);
}

static void touch(const char *dir, const char *name, mode_t mode)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, mode);
	if (fd >= 0) {
		(void)!write(fd, "#!/bin/sh\n", 10);
		close(fd);
	}
	chmod(path, mode);
}

static void test_find_executable(void)
{
	char tmpl[] = "/tmp/berth-test-process-XXXXXX";
	char *dir = mkdtemp(tmpl);
	char env_path[3 * PATH_MAX], want[PATH_MAX + 64], sub[PATH_MAX], oldcwd[PATH_MAX];
	char *env[] = {"HOME=/", env_path, NULL};
	char *args[] = {"tool", NULL};
	struct berth_process p = new_process();

	if (!dir || !getcwd(oldcwd, sizeof(oldcwd))) {
		ok(0, "mkdtemp: %s", strerror(errno));
		return;
	}
	snprintf(sub, sizeof(sub), "%s/sub", dir);
	mkdir(sub, 0755);
	touch(dir, "tool", 0755);
	touch(sub, "tool", 0755);
	touch(dir, "data", 0644);
	touch(sub, "other", 0644);
	touch(dir, "other", 0755);
	char adir[PATH_MAX + 16];
	snprintf(adir, sizeof(adir), "%s/adir", dir);
	mkdir(adir, 0755);
	p.args = args;
	p.env = env;

	snprintf(env_path, sizeof(env_path), "PATH=/nonexistent:%s:%s", dir, sub);
	snprintf(want, sizeof(want), "%s/tool", dir);
	expect_found(&p, want, "first PATH entry holding it");

	snprintf(env_path, sizeof(env_path), "PATH=%s:%s", sub, dir);
	snprintf(want, sizeof(want), "%s/tool", sub);
	expect_found(&p, want, "PATH order respected");

	/* a non-executable match earlier in PATH is passed over */
	args[0] = "other";
	snprintf(want, sizeof(want), "%s/other", dir);
	expect_found(&p, want, "non-executable earlier match skipped");

	args[0] = "data";
	snprintf(want, sizeof(want), "exec: \"data\": %s", strerror(EACCES));
	expect_not_found(&p, EACCES, want, "only a non-executable match");

	args[0] = "adir";
	snprintf(env_path, sizeof(env_path), "PATH=%s", dir);
	snprintf(want, sizeof(want), "exec: \"adir\": %s", strerror(EACCES));
	expect_not_found(&p, EACCES, want, "a directory is not an executable");

	args[0] = "missing";
	expect_not_found(&p, ENOENT, "exec: \"missing\": executable file not found in $PATH",
			 "not in PATH");

	/* PATH set but empty: nothing to search */
	snprintf(env_path, sizeof(env_path), "PATH=");
	args[0] = "sh";
	expect_not_found(&p, ENOENT, "exec: \"sh\": executable file not found in $PATH",
			 "empty PATH");

	/* no PATH at all: the default one */
	env[1] = NULL;
	{
		struct berth_error *e = NULL;
		char *path = NULL;
		is(berth_process_find_executable(&p, &path, &e), 0, "default PATH finds sh");
		ok(path && path[0] == '/' && strlen(path) > 3 &&
			   strcmp(path + strlen(path) - 3, "/sh") == 0,
		   "default PATH gives an absolute path (%s)", path ? path : "");
		free(path);
		berth_error_free(e);
	}
	env[1] = env_path;

	/* names with a slash are not searched */
	snprintf(want, sizeof(want), "%s/tool", dir);
	args[0] = want;
	expect_found(&p, want, "absolute path");
	args[0] = "/nonexistent/x";
	snprintf(want, sizeof(want), "exec: \"/nonexistent/x\": stat /nonexistent/x: %s",
		 strerror(ENOENT));
	expect_not_found(&p, ENOENT, want, "absolute path that does not exist");
	char datapath[PATH_MAX + 16];
	snprintf(datapath, sizeof(datapath), "%s/data", dir);
	args[0] = datapath;
	snprintf(want, sizeof(want), "exec: \"%s\": %s", datapath, strerror(EACCES));
	expect_not_found(&p, EACCES, want, "absolute path not executable");

	if (chdir(dir) == 0) {
		args[0] = "./tool";
		snprintf(want, sizeof(want), "%s/./tool", dir);
		expect_found(&p, want, "relative path with a slash, made absolute");
		args[0] = "sub/tool";
		snprintf(want, sizeof(want), "%s/sub/tool", dir);
		expect_found(&p, want, "relative path into a subdirectory");
		/* an empty PATH entry is the current directory */
		snprintf(env_path, sizeof(env_path), "PATH=/nonexistent::/nonexistent2");
		args[0] = "tool";
		snprintf(want, sizeof(want), "%s/./tool", dir);
		expect_found(&p, want, "empty PATH entry means the current directory");
		(void)!chdir(oldcwd);
	}

	args[0] = "";
	expect_not_found(&p, EINVAL, "exec: no command", "empty args[0]");
	p.args = NULL;
	expect_not_found(&p, EINVAL, "exec: no command", "no args");

	berth_rm_rf(dir, NULL);
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	test_rlimits();
	test_attrs();
	test_final_affinity();
	test_identity();
	test_prepare();
	test_identity_userns();
	test_find_executable();
	return done_testing();
}
