/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/runtime/seccomp.c: every filter is loaded in a forked child, so this process keeps its
 * syscalls; the child reports what it saw over a pipe and _exit()s (no atexit, no LSan pass
 * under a filter).
 */
#include <errno.h>
#include <fcntl.h>
#include <seccomp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "child.h"
#include "runtime/linux.h"
#include "tap.h"

static char *names_getcwd_mkdir[] = {"getcwd", "mkdir", NULL};

static struct berth_seccomp base_profile(void)
{
	return (struct berth_seccomp){
		.default_action = SCMP_ACT_ALLOW,
		.default_errno_ret = BERTH_UNSET,
	};
}

static struct berth_seccomp_rule rule(char **names, uint32_t action, int64_t errno_ret)
{
	return (struct berth_seccomp_rule){
		.names = names, .action = action, .errno_ret = errno_ret};
}

/* errno of a raw syscall, or 0 when it succeeded */
#define SYSERR(...) (syscall(__VA_ARGS__) < 0 ? errno : 0)

typedef void (*child_fn)(int fd, const struct berth_seccomp *s);

/*
 * Fork; the child compiles and loads s, then runs fn, which writes its findings to the pipe.
 * Returns the wait status; out receives what the child wrote.
 */
struct filtered {
	const struct berth_seccomp *s;
	child_fn fn;
};

static void filtered_child(int fd, void *arg)
{
	const struct filtered *x = arg;
	struct berth_seccomp_filter *f = NULL;
	struct berth_error *e = NULL;
	struct rlimit no_core = {0, 0};

	/* a SIGSYS kill should not leave a core file behind */
	setrlimit(RLIMIT_CORE, &no_core);
	if (berth_seccomp_compile(x->s, &f, &e) < 0) {
		report(fd, "compile: %s", e ? e->msg : "?");
		_exit(2);
	}
	if (berth_seccomp_load(f, NULL, &e) < 0) {
		report(fd, "load: %s", e ? e->msg : "?");
		_exit(2);
	}
	x->fn(fd, x->s);
}

static int run_filtered(const struct berth_seccomp *s, child_fn fn, char *out, size_t outlen)
{
	struct filtered x = {s, fn};
	pid_t pid;

	return run_reporting_child(filtered_child, &x, out, outlen, &pid);
}

static void child_cwd_mkdir(int fd, const struct berth_seccomp *s)
{
	char buf[256];

	report(fd, "getcwd=%d mkdir=%d getpid=%d", SYSERR(SYS_getcwd, buf, sizeof(buf)),
	       SYSERR(SYS_mkdir, "/nonexistent-berth/x", 0700), SYSERR(SYS_getpid));
}

static void test_errno_rule(void)
{
	struct berth_seccomp s = base_profile();
	struct berth_seccomp_rule r = rule(names_getcwd_mkdir, SCMP_ACT_ERRNO(0), 38);
	char out[512];

	s.syscalls = &r;
	s.n_syscalls = 1;
	int st = run_filtered(&s, child_cwd_mkdir, out, sizeof(out));
	ok(WIFEXITED(st) && WEXITSTATUS(st) == 0, "errno rule: child ran (%s)", out);
	is_str(out, "getcwd=38 mkdir=38 getpid=0", "getcwd and mkdir fail with errno 38");

	/* without errnoRet, ERRNO means EPERM */
	r.errno_ret = BERTH_UNSET;
	run_filtered(&s, child_cwd_mkdir, out, sizeof(out));
	is_str(out, "getcwd=1 mkdir=1 getpid=0", "errnoRet absent: EPERM");

	/* a name this kernel does not know is skipped; the rest of the rule still applies */
	char *names[] = {"no_such_syscall_berth", "getcwd", NULL};
	r = rule(names, SCMP_ACT_ERRNO(0), 38);
	st = run_filtered(&s, child_cwd_mkdir, out, sizeof(out));
	ok(WIFEXITED(st) && WEXITSTATUS(st) == 0, "unknown syscall name skipped (%s)", out);
	is_str(out, "getcwd=38 mkdir=2 getpid=0", "known names of the rule still filtered");

	/* a rule with the default action is dropped (libseccomp would refuse it) */
	r = rule(names_getcwd_mkdir, SCMP_ACT_ALLOW, BERTH_UNSET);
	st = run_filtered(&s, child_cwd_mkdir, out, sizeof(out));
	is_str(out, "getcwd=0 mkdir=2 getpid=0", "rule equal to the default action is skipped");
}

static void child_args(int fd, const struct berth_seccomp *s)
{
	report(fd,
	       "pers=%d pers0=%d close1000=%d close1001=%d close1002=%d masked=%d "
	       "masked2=%d kill00=%d killself=%d",
	       SYSERR(SYS_personality, 0xffffffffUL), SYSERR(SYS_personality, PER_LINUX),
	       SYSERR(SYS_close, 1000), SYSERR(SYS_close, 1001), SYSERR(SYS_close, 1002),
	       SYSERR(SYS_close, 0x1234), SYSERR(SYS_close, 0x2234), SYSERR(SYS_kill, 0, 0),
	       SYSERR(SYS_kill, getpid(), 0));
}

static void test_arg_rules(void)
{
	static char *pers[] = {"personality", NULL}, *cl[] = {"close", NULL},
		    *kl[] = {"kill", NULL};
	struct berth_seccomp_arg a_pers = {.index = 0, .value = 0xffffffff, .op = SCMP_CMP_EQ};
	/* two conditions on one argument: separate rules, so either matches */
	struct berth_seccomp_arg a_close[] = {
		{.index = 0, .value = 1000, .op = SCMP_CMP_EQ},
		{.index = 0, .value = 1001, .op = SCMP_CMP_EQ},
	};
	struct berth_seccomp_arg a_masked = {
		.index = 0, .value = 0xff00, .value_two = 0x1200, .op = SCMP_CMP_MASKED_EQ};
	/* conditions on different arguments: one rule, all must hold */
	struct berth_seccomp_arg a_kill[] = {
		{.index = 0, .value = 0, .op = SCMP_CMP_EQ},
		{.index = 1, .value = 0, .op = SCMP_CMP_EQ},
	};
	struct berth_seccomp_rule rules[] = {
		{.names = pers,
		 .action = SCMP_ACT_ERRNO(0),
		 .errno_ret = BERTH_UNSET,
		 .args = &a_pers,
		 .n_args = 1},
		{.names = cl,
		 .action = SCMP_ACT_ERRNO(0),
		 .errno_ret = 77,
		 .args = a_close,
		 .n_args = 2},
		{.names = cl,
		 .action = SCMP_ACT_ERRNO(0),
		 .errno_ret = 78,
		 .args = &a_masked,
		 .n_args = 1},
		{.names = kl,
		 .action = SCMP_ACT_ERRNO(0),
		 .errno_ret = 79,
		 .args = a_kill,
		 .n_args = 2},
	};
	struct berth_seccomp s = base_profile();
	char out[512];

	s.syscalls = rules;
	s.n_syscalls = ARRAY_SIZE(rules);
	int st = run_filtered(&s, child_args, out, sizeof(out));
	ok(WIFEXITED(st) && WEXITSTATUS(st) == 0, "arg rules: child ran (%s)", out);
	is_str(out,
	       "pers=1 pers0=0 close1000=77 close1001=77 close1002=9 masked=78 masked2=9 "
	       "kill00=79 killself=0",
	       "argument conditions: EQ, repeated index (OR), MASKED_EQ, two indexes (AND)");
}

static void child_getcwd(int fd, const struct berth_seccomp *s)
{
	char buf[256];

	report(fd, "before ");
	syscall(SYS_getcwd, buf, sizeof(buf));
	report(fd, "survived");
}

static void test_kill(void)
{
	struct berth_seccomp s = base_profile();
	static char *names[] = {"getcwd", NULL};
	struct berth_seccomp_rule r = rule(names, SCMP_ACT_KILL, BERTH_UNSET);
	char out[512];

	s.syscalls = &r;
	s.n_syscalls = 1;
	int st = run_filtered(&s, child_getcwd, out, sizeof(out));
	ok(WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS, "SCMP_ACT_KILL kills with SIGSYS (%s)", out);
	is_str(out, "before ", "the child died at the filtered call");

	r.action = SCMP_ACT_KILL_PROCESS;
	st = run_filtered(&s, child_getcwd, out, sizeof(out));
	ok(WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS, "SCMP_ACT_KILL_PROCESS kills with SIGSYS");
}

static void child_allowlist(int fd, const struct berth_seccomp *s)
{
	char buf[256];

	report(fd, "getcwd=%d getpid=%d", SYSERR(SYS_getcwd, buf, sizeof(buf)), SYSERR(SYS_getpid));
}

static void test_allowlist(void)
{
	/* the shape of real profiles: deny by default, allow a list */
	/* what the child and, under ASan, the sanitizer runtime need to report and exit */
	static char *names[] = {"write",       "exit",	       "exit_group",   "getpid",
				"gettid",      "rt_sigreturn", "rt_sigaction", "rt_sigprocmask",
				"sigaltstack", "mmap",	       "munmap",       "mprotect",
				"madvise",     "brk",	       "futex",	       "sched_yield",
				"prctl",       "prlimit64",    "getrlimit",    "close",
				"read",	       "openat",       "readlink",     "fstat",
				"newfstatat",  "statx",	       "lseek",	       NULL};
	struct berth_seccomp s = {.default_action = SCMP_ACT_ERRNO(0),
				  .default_errno_ret = BERTH_UNSET};
	struct berth_seccomp_rule r = rule(names, SCMP_ACT_ALLOW, BERTH_UNSET);
	char out[512];

	s.syscalls = &r;
	s.n_syscalls = 1;
	int st = run_filtered(&s, child_allowlist, out, sizeof(out));
	ok(WIFEXITED(st) && WEXITSTATUS(st) == 0, "allowlist profile loads and exits");
	is_str(out, "getcwd=1 getpid=0", "default ERRNO without errnoRet denies with EPERM");

	s.default_errno_ret = 13;
	run_filtered(&s, child_allowlist, out, sizeof(out));
	is_str(out, "getcwd=13 getpid=0", "defaultErrnoRet is used");
}

static void child_nnp(int fd, const struct berth_seccomp *s)
{
	char *status = NULL;
	struct berth_error *e = NULL;

	if (berth_read_file_at(AT_FDCWD, "/proc/self/status", 65536, &status, NULL, &e) < 0)
		return;
	const char *l = strstr(status, "NoNewPrivs:");
	const char *m = strstr(status, "Seccomp:");
	report(fd, "%.13s %.10s", l ? l : "none", m ? m : "none");
}

static void test_flags_archs_nnp(void)
{
	char *flags[] = {"SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
			 "SECCOMP_FILTER_FLAG_TSYNC", NULL};
	char *archs[] = {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32", NULL};
	struct berth_seccomp_rule r = rule(names_getcwd_mkdir, SCMP_ACT_ERRNO(0), 38);
	struct berth_seccomp s = base_profile();
	char out[512];

	s.flags = flags;
	s.syscalls = &r;
	s.n_syscalls = 1;
	if (seccomp_arch_native() == SCMP_ARCH_X86_64)
		s.architectures = archs;
	int st = run_filtered(&s, child_cwd_mkdir, out, sizeof(out));
	ok(WIFEXITED(st) && WEXITSTATUS(st) == 0, "flags and architectures load (%s)", out);
	is_str(out, "getcwd=38 mkdir=38 getpid=0", "filter with flags and archs works");

	/* no_new_privs is noNewPrivileges' business, not the filter's */
	st = run_filtered(&s, child_nnp, out, sizeof(out));
	is_str(out, "NoNewPrivs:\t0 Seccomp:\t2", "loading the filter leaves no_new_privs unset");
}

static void child_nothing(int fd, const struct berth_seccomp *s)
{
	report(fd, "loaded");
}

static void test_other_arch_names(void)
{
	/* names Docker's default profile lists that exist on other architectures only */
	static char *names[] = {"socketcall",	    "ipc",	  "arm_fadvise64_64",
				"_llseek",	    "ugetrlimit", "s390_pci_mmio_read",
				"sync_file_range2", "breakpoint", "cacheflush",
				"set_tls",	    "arch_prctl", "modify_ldt",
				"umount",	    "getcwd",	  NULL};
	char *archs[] = {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32", NULL};
	struct berth_seccomp_rule r = rule(names, SCMP_ACT_ERRNO(0), 38);
	struct berth_seccomp s = base_profile();
	char out[512];

	s.syscalls = &r;
	s.n_syscalls = 1;
	int st = run_filtered(&s, child_nothing, out, sizeof(out));
	ok(WIFEXITED(st) && WEXITSTATUS(st) == 0 && strcmp(out, "loaded") == 0,
	   "names of other architectures compile and load (%s)", out);
	if (seccomp_arch_native() == SCMP_ARCH_X86_64) {
		s.architectures = archs;
		st = run_filtered(&s, child_cwd_mkdir, out, sizeof(out));
		is_str(out, "getcwd=38 mkdir=2 getpid=0",
		       "with x86, x32 archs added: names of other architectures still fine");
	}
}

static void expect_compile_error(const struct berth_seccomp *s, int code, const char *msg,
				 const char *what)
{
	struct berth_seccomp_filter *f = NULL;
	struct berth_error *e = NULL;
	int r = berth_seccomp_compile(s, &f, &e);

	is(r, -code, "%s: refused", what);
	ok(f == NULL, "%s: no filter returned", what);
	is_str(e ? e->msg : NULL, msg, "%s: message", what);
	berth_error_free(e);
	berth_seccomp_filter_free(f);
}

static void test_bad_input(void)
{
	struct berth_seccomp s = base_profile();
	static char *names[] = {"getcwd", NULL};
	struct berth_seccomp_rule r = rule(names, 0x12345678, BERTH_UNSET);

	s.default_action = 0x7ff10000;
	expect_compile_error(&s, EINVAL, "seccomp defaultAction: unknown action 0x7ff10000",
			     "bad default action");
	s.default_action = SCMP_ACT_NOTIFY;
	expect_compile_error(&s, EINVAL, "seccomp defaultAction: SCMP_ACT_NOTIFY is not allowed",
			     "notify as default action");
	s.default_action = SCMP_ACT_ALLOW;

	s.syscalls = &r;
	s.n_syscalls = 1;
	expect_compile_error(&s, EINVAL, "getcwd: unknown action 0x12345678", "bad rule action");
	r.action = SCMP_ACT_NOTIFY;
	expect_compile_error(&s, EINVAL,
			     "seccomp: SCMP_ACT_NOTIFY needs linux.seccomp.listenerPath",
			     "notify without a listenerPath");
	r.action = SCMP_ACT_ERRNO(0);
	r.errno_ret = 70000;
	expect_compile_error(&s, EINVAL, "getcwd: errnoRet 70000 out of range", "errnoRet too big");
	r.errno_ret = -1;
	expect_compile_error(&s, EINVAL, "getcwd: errnoRet -1 out of range", "negative errnoRet");
	r.errno_ret = BERTH_UNSET;

	struct berth_seccomp_arg a = {.index = 6, .value = 1, .op = SCMP_CMP_EQ};
	r.args = &a;
	r.n_args = 1;
	expect_compile_error(&s, EINVAL, "syscall 'getcwd': argument index 6 out of range",
			     "argument index 6");
	a.index = 0;
	a.op = 0;
	expect_compile_error(&s, EINVAL, "syscall 'getcwd': unknown operator 0", "operator 0");
	a.op = 99;
	expect_compile_error(&s, EINVAL, "syscall 'getcwd': unknown operator 99", "operator 99");
	r.args = NULL;
	r.n_args = 0;

	char *empty[] = {NULL};
	r.names = empty;
	expect_compile_error(&s, EINVAL, "seccomp rule without syscall names",
			     "rule without names");
	r.names = names;

	char *archs[] = {"SCMP_ARCH_NOPE", NULL};
	s.architectures = archs;
	expect_compile_error(&s, EINVAL, "unknown seccomp architecture 'SCMP_ARCH_NOPE'",
			     "unknown arch");
	char *archs2[] = {"x86_64", NULL};
	s.architectures = archs2;
	expect_compile_error(&s, EINVAL, "unknown seccomp architecture 'x86_64'",
			     "arch without SCMP_ARCH_ prefix");
	char longarch[200];
	memset(longarch, 'A', sizeof(longarch) - 1);
	longarch[sizeof(longarch) - 1] = '\0';
	memcpy(longarch, "SCMP_ARCH_", 10);
	char *archs3[] = {longarch, NULL};
	s.architectures = archs3;
	ok(berth_seccomp_compile(&s, &(struct berth_seccomp_filter *){NULL}, NULL) == -EINVAL,
	   "very long arch name refused (and a NULL err is fine)");
	s.architectures = NULL;

	char *flags[] = {"SECCOMP_FILTER_FLAG_BOGUS", NULL};
	s.flags = flags;
	expect_compile_error(&s, EINVAL, "unknown seccomp flag 'SECCOMP_FILTER_FLAG_BOGUS'",
			     "unknown flag");
	s.flags = NULL;
}

static void test_wait_killable(void)
{
	char *flags[] = {"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", NULL};
	struct berth_seccomp s = base_profile();
	struct berth_seccomp_filter *f = NULL;
	struct berth_error *e = NULL;
	json_t *features = berth_seccomp_features();
	json_t *sup = json_object_get(features, "supportedFlags");
	bool supported = false;
	size_t i;
	json_t *v;

	json_array_foreach (sup, i, v)
		if (berth_streq(json_string_value(v), flags[0]))
			supported = true;
	s.flags = flags;
	int r = berth_seccomp_compile(&s, &f, &e);
	if (supported)
		is(r, 0, "WAIT_KILLABLE_RECV compiles where supported");
	else
		ok(r == -EOPNOTSUPP && e && strstr(e->msg, "WAIT_KILLABLE_RECV"),
		   "WAIT_KILLABLE_RECV refused clearly where this libseccomp lacks it (%s)",
		   e ? e->msg : "");
	berth_error_free(e);
	berth_seccomp_filter_free(f);
	json_decref(features);
}

static void test_notify(void)
{
	static char *names[] = {"getcwd", NULL};
	struct berth_seccomp s = base_profile();
	struct berth_seccomp_rule r = rule(names, SCMP_ACT_NOTIFY, BERTH_UNSET);
	int pfd[2], status = 0;
	char out[64] = "";

	s.syscalls = &r;
	s.n_syscalls = 1;
	s.listener_path = "/unused.sock"; /* required with NOTIFY; the container side connects */
	if (pipe2(pfd, O_CLOEXEC) < 0)
		return;
	pid_t pid = fork();
	if (pid == 0) {
		struct berth_seccomp_filter *f = NULL;
		int fd = 12345;

		close(pfd[0]);
		if (berth_seccomp_compile(&s, &f, NULL) < 0 || berth_seccomp_load(f, &fd, NULL) < 0)
			_exit(2);
		int flags = fcntl(fd, F_GETFD);
		report(pfd[1], "fd=%s cloexec=%d", fd >= 0 ? "yes" : "no",
		       flags >= 0 && (flags & FD_CLOEXEC));
		_exit(0);
	}
	close(pfd[1]);
	ssize_t n = read(pfd[0], out, sizeof(out) - 1);
	out[n > 0 ? n : 0] = '\0';
	close(pfd[0]);
	berth_waitpid(pid, 0, &status);
	is_str(out, "fd=yes cloexec=1", "SCMP_ACT_NOTIFY: load returns the listener fd, cloexec");

	/* no notify action: no listener */
	r.action = SCMP_ACT_ERRNO(0);
	if (pipe2(pfd, O_CLOEXEC) < 0)
		return;
	pid = fork();
	if (pid == 0) {
		struct berth_seccomp_filter *f = NULL;
		int fd = 12345;

		close(pfd[0]);
		if (berth_seccomp_compile(&s, &f, NULL) < 0 || berth_seccomp_load(f, &fd, NULL) < 0)
			_exit(2);
		report(pfd[1], "fd=%d", fd);
		_exit(0);
	}
	close(pfd[1]);
	n = read(pfd[0], out, sizeof(out) - 1);
	out[n > 0 ? n : 0] = '\0';
	close(pfd[0]);
	berth_waitpid(pid, 0, &status);
	char want[32];
	snprintf(want, sizeof(want), "fd=%d", -EBADF);
	is_str(out, want, "no notify action: listener fd is -EBADF");
}

static bool json_has(json_t *arr, const char *s)
{
	size_t i;
	json_t *v;

	json_array_foreach (arr, i, v)
		if (berth_streq(json_string_value(v), s))
			return true;
	return false;
}

static void test_features(void)
{
	json_t *f = berth_seccomp_features();

	ok(f && json_is_true(json_object_get(f, "enabled")), "features: enabled");
	ok(json_has(json_object_get(f, "actions"), "SCMP_ACT_NOTIFY") &&
		   json_has(json_object_get(f, "actions"), "SCMP_ACT_KILL_PROCESS"),
	   "features: actions");
	is(json_array_size(json_object_get(f, "actions")), 9, "features: nine actions");
	ok(json_has(json_object_get(f, "operators"), "SCMP_CMP_MASKED_EQ"), "features: operators");
	is(json_array_size(json_object_get(f, "operators")), 7, "features: seven operators");
	ok(json_has(json_object_get(f, "archs"), "SCMP_ARCH_X86_64") &&
		   json_has(json_object_get(f, "archs"), "SCMP_ARCH_AARCH64"),
	   "features: archs");
	is(json_array_size(json_object_get(f, "knownFlags")), 4, "features: four known flags");
	ok(json_has(json_object_get(f, "supportedFlags"), "SECCOMP_FILTER_FLAG_LOG") &&
		   json_has(json_object_get(f, "supportedFlags"), "SECCOMP_FILTER_FLAG_TSYNC"),
	   "features: supported flags probed from the kernel");
	json_decref(f);
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	test_errno_rule();
	test_arg_rules();
	test_kill();
	test_allowlist();
	test_flags_archs_nnp();
	test_other_arch_names();
	test_bad_input();
	test_wait_killable();
	test_notify();
	test_features();
	return done_testing();
}
