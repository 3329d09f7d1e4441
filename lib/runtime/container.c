/* SPDX-License-Identifier: Apache-2.0 */
/*
 * create: bundle -> a container process waiting for `start`.
 *
 * The runtime (parent) and the new process (init) talk over a SOCK_SEQPACKET sync socket:
 *
 *   parent                                  init
 *   clone(new namespaces)  --------------->  waits for GO
 *   cgroup create + join, GO ------------->  [USERNS: parent writes uid/gid maps]
 *                                            [joins/unshares the rest; fork if pid/time ns
 *                                             must be entered by a child: PID]
 *                                            new cgroup namespace, session, keyring
 *                                            mounts (rootfs_prepare)
 *   prestart + createRuntime hooks <------  HOOKS
 *   HOOKS_DONE (init's host pid) -------->  createContainer hooks, pivot_root
 *   pty to the console socket   <--------  PTY (terminal: true)
 *                                            hostname, sysctl, rootfs_finalize, rlimits, attrs,
 *                                            executable lookup, cwd
 *   state.json, pid file        <--------  READY, then blocks opening exec.fifo for writing
 *
 * `start` opens the fifo for reading; init then runs the startContainer hooks, writes the
 * fifo's byte (`start` returns after it, then runs poststart), loads seccomp, becomes the
 * process's user and execs.
 *
 * Fast path: when no namespace is joined by path in a way that involves a user namespace, one
 * clone() with every CLONE_NEW* flag makes the namespaces (owned by the new user namespace, if
 * any).  Otherwise (joins with a user namespace, joining a pid namespace, a time namespace) the
 * child joins and unshares step by step and forks the real init, as the kernel only moves
 * children into a pid or time namespace.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/keyctl.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "container-internal.h"
#include "base/banned.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

struct init_ctx {
	struct berth_container *c;
	const struct berth_create_opts *co;
	int sync;
	int fifo_fd;
	int listener_sock; /* connected to linux.seccomp.listenerPath, or -EBADF */
	int ns_fds[BERTH_NS_COUNT];
	unsigned long new_ns; /* CLONE_NEW* of the namespaces to create */
	bool slow;
	int init_pidfd; /* parent side: the init's pidfd */
	struct berth_seccomp_filter *seccomp;
};

/* ---- the container side ----------------------------------------------------------------- */

static int become_root_in_userns(const struct berth_spec *s, struct berth_error **err)
{
	bool uid0 = false, gid0 = false;

	for (size_t i = 0; i < s->linux_.n_uid_mappings; i++)
		if (s->linux_.uid_mappings[i].container_id == 0)
			uid0 = true;
	for (size_t i = 0; i < s->linux_.n_gid_mappings; i++)
		if (s->linux_.gid_mappings[i].container_id == 0)
			gid0 = true;
	if (gid0 && setresgid(0, 0, 0) < 0)
		return berth_error_sys(err, errno, "setresgid 0 in the user namespace");
	if (uid0 && setresuid(0, 0, 0) < 0)
		return berth_error_sys(err, errno, "setresuid 0 in the user namespace");
	return berth_keep_nondumpable(err);
}

static int setns_one(struct init_ctx *x, enum berth_ns_type t, struct berth_error **err)
{
	if (x->ns_fds[t] < 0)
		return 0;
	if (setns(x->ns_fds[t], berth_ns_clone_flag(t)) < 0)
		return berth_error_sys(err, errno, "join %s namespace '%s'", berth_ns_name(t),
				       x->c->spec->linux_.namespaces[t].path);
	close(x->ns_fds[t]);
	x->ns_fds[t] = -EBADF;
	return 0;
}

static int userns_handshake(struct init_ctx *x, struct berth_error **err)
{
	struct berth_sync_msg m;
	int r;

	r = berth_sync_send(x->sync, BERTH_SYNC_USERNS, 0, NULL, -EBADF);
	if (r < 0)
		return berth_error_sys(err, -r, "sync");
	r = berth_sync_expect(x->sync, BERTH_SYNC_USERNS_DONE, &m, err);
	if (r < 0)
		return r;
	return become_root_in_userns(x->c->spec, err);
}

static int write_time_offsets(const struct berth_linux *l, struct berth_error **err)
{
	char buf[128];
	int n = 0;

	if (l->time_monotonic.present)
		n += snprintf(buf + n, sizeof(buf) - (size_t)n, "monotonic %lld %u\n",
			      (long long)l->time_monotonic.secs, l->time_monotonic.nanosecs);
	if (l->time_boottime.present)
		n += snprintf(buf + n, sizeof(buf) - (size_t)n, "boottime %lld %u\n",
			      (long long)l->time_boottime.secs, l->time_boottime.nanosecs);
	if (n == 0)
		return 0;
	return berth_write_file_at(AT_FDCWD, "/proc/self/timens_offsets", buf, (size_t)n, err);
}

/* Slow path: join and unshare one at a time, then fork the real init if pid/time need it. */
static int enter_namespaces_slow(struct init_ctx *x, struct berth_error **err)
{
	static const enum berth_ns_type joins[] = {BERTH_NS_IPC, BERTH_NS_UTS, BERTH_NS_NETWORK,
						   BERTH_NS_MOUNT};
	unsigned long rest;
	bool fork_needed = false;
	int r;

	if (x->ns_fds[BERTH_NS_USER] >= 0) {
		r = setns_one(x, BERTH_NS_USER, err);
		if (r < 0)
			return r;
		/*
		 * setns keeps our host ids, which the joined namespace does not map: files made
		 * from here (mount points, /dev) would fail with EOVERFLOW.  Be its root.
		 */
		if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
			return berth_error_sys(err, errno,
					       "become root in user namespace '%s' (is 0 mapped?)",
					       x->c->spec->linux_.namespaces[BERTH_NS_USER].path);
		r = berth_keep_nondumpable(err);
		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < ARRAY_SIZE(joins); i++) {
		r = setns_one(x, joins[i], err);
		if (r < 0)
			return r;
	}
	if (x->new_ns & CLONE_NEWUSER) {
		if (unshare(CLONE_NEWUSER) < 0)
			return berth_error_sys(err, errno, "create user namespace");
		r = userns_handshake(x, err);
		if (r < 0)
			return r;
	}
	rest = x->new_ns & (CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWNET);
	if (rest && unshare((int)rest) < 0)
		return berth_error_sys(err, errno, "create namespaces");
	if (x->ns_fds[BERTH_NS_PID] >= 0) {
		r = setns_one(x, BERTH_NS_PID, err);
		if (r < 0)
			return r;
		fork_needed = true;
	}
	if (x->new_ns & CLONE_NEWPID) {
		if (unshare(CLONE_NEWPID) < 0)
			return berth_error_sys(err, errno, "create pid namespace");
		fork_needed = true;
	}
	if (x->ns_fds[BERTH_NS_TIME] >= 0) {
		r = setns_one(x, BERTH_NS_TIME, err);
		if (r < 0)
			return r;
		fork_needed = true;
	}
	if (x->new_ns & CLONE_NEWTIME) {
		if (unshare(CLONE_NEWTIME) < 0)
			return berth_error_sys(err, errno, "create time namespace");
		/*
		 * Our /proc files belong to the host's root while we are non-dumpable, which a new
		 * user namespace may not map: be dumpable for this one write.  We are still in the
		 * runtime's pid namespace (the init is forked below), invisible to any container.
		 */
		if (x->new_ns & CLONE_NEWUSER)
			prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
		r = write_time_offsets(&x->c->spec->linux_, err);
		if (berth_keep_nondumpable(r < 0 ? NULL : err) < 0)
			r = -EPERM;
		if (r < 0)
			return berth_error_wrap(err, "time namespace offsets");
		fork_needed = true;
	}
	if (!fork_needed)
		return 0;

	/*
	 * The init's pid must reach the runtime before anything the init sends on the same
	 * socket: were READY first, the runtime would record the intermediate's pid, and the
	 * init would be left running, unknown.  The init waits on gate until the intermediate,
	 * having sent PID, exits (closing the write end).
	 */
	int gate[2];
	if (pipe2(gate, O_CLOEXEC) < 0)
		return berth_error_sys(err, errno, "pipe");
	pid_t pid = fork();
	if (pid < 0) {
		close(gate[0]);
		close(gate[1]);
		return berth_error_sys(err, errno, "fork the container's init");
	}
	if (pid > 0) {
		/*
		 * The intermediate: report the init's pid, with a pidfd opened while it is still our
		 * child (so it cannot have been reaped and its pid reused), and leave; the runtime
		 * reaps us.
		 */
		int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
		berth_sync_send(x->sync, BERTH_SYNC_PID, pid, NULL, pidfd);
		_exit(0);
	}
	close(gate[1]);
	char c;
	while (read(gate[0], &c, 1) < 0 && errno == EINTR)
		;
	close(gate[0]);
	return 0;
}

static int enter_namespaces_fast(struct init_ctx *x, struct berth_error **err)
{
	static const enum berth_ns_type joins[] = {BERTH_NS_IPC, BERTH_NS_UTS, BERTH_NS_NETWORK,
						   BERTH_NS_MOUNT};
	int r;

	if (x->new_ns & CLONE_NEWUSER) {
		r = userns_handshake(x, err);
		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < ARRAY_SIZE(joins); i++) {
		r = setns_one(x, joins[i], err);
		if (r < 0)
			return r;
	}
	return 0;
}

static int set_sysctls(const struct berth_linux *l, struct berth_error **err)
{
	for (size_t i = 0; i < l->n_sysctl; i++) {
		_cleanup_free_ char *path = NULL;
		const char *key = l->sysctl[i].key;
		const char *val = l->sysctl[i].value;

		if (!*key || strstr(key, "..") || key[0] == '/' || key[0] == '.')
			return berth_error_set(err, EINVAL, "sysctl '%s': invalid name", key);
		if (asprintf(&path, "/proc/sys/%s", key) < 0)
			return berth_error_set(err, ENOMEM, "out of memory");
		/* net.ipv4.ip_forward -> net/ipv4/ip_forward; names with '/' keep their dots */
		if (!strchr(key, '/'))
			for (char *p = path + strlen("/proc/sys/"); *p; p++)
				if (*p == '.')
					*p = '/';
		int r = berth_write_file_at(AT_FDCWD, path, val, strlen(val), err);
		if (r < 0)
			return berth_error_wrap(err, "sysctl '%s'", key);
	}
	return 0;
}

/*
 * A sysctl is only the container's if it lives in one of its own namespaces; any other one
 * would change the host.  The namespaced sets are the kernel's (ipc: kernel.{msg,sem,shm}*,
 * fs.mqueue; network: net.*; uts: kernel.domainname).  Returns the namespace the key lives in,
 * -1 for kernel.hostname (use the hostname field) or -2 for a key in no namespace; key may use
 * '/' or '.' as separator.
 */
static int sysctl_namespace(const char *key)
{
	static const char *const ipc_keys[] = {
		"kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem",
		"kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced"};
	char k[256];
	size_t len = strlen(key);

	if (len >= sizeof(k))
		return -2;
	/* net/ipv4/ip_forward and net.ipv4.ip_forward name the same file */
	for (size_t i = 0; i <= len; i++)
		k[i] = key[i] == '/' ? '.' : key[i];
	for (size_t i = 0; i < ARRAY_SIZE(ipc_keys); i++)
		if (strcmp(k, ipc_keys[i]) == 0)
			return BERTH_NS_IPC;
	if (strncmp(k, "fs.mqueue.", 10) == 0)
		return BERTH_NS_IPC;
	if (strncmp(k, "net.", 4) == 0)
		return BERTH_NS_NETWORK;
	if (strcmp(k, "kernel.domainname") == 0)
		return BERTH_NS_UTS;
	if (strcmp(k, "kernel.hostname") == 0)
		return -1;
	return -2;
}

static int check_sysctls(const struct berth_linux *l, struct berth_error **err)
{
	for (size_t i = 0; i < l->n_sysctl; i++) {
		const char *key = l->sysctl[i].key;
		int t = sysctl_namespace(key);

		if (strlen(key) >= 256)
			return berth_error_set(err, EINVAL, "sysctl '%.64s...': name too long",
					       key);
		if (t == -1)
			return berth_error_set(err, EINVAL,
					       "sysctl '%s' is not allowed: use the hostname field",
					       key);
		if (t < 0)
			return berth_error_set(err, EINVAL,
					       "sysctl '%s' is not in a separate kernel namespace",
					       key);
		if (!l->namespaces[t].present)
			return berth_error_set(
				err, EINVAL,
				"sysctl '%s' is not allowed in the host's %s namespace", key,
				berth_ns_name((enum berth_ns_type)t));
	}
	return 0;
}

/*
 * Is the namespace we opened at path the runtime's own?  A namespace is its device and inode:
 * joining our own by path (/proc/1/ns/net, /proc/self/ns/net, a bind of either: what
 * `docker run --network host` produces) is not a namespace of the container's.
 */
static bool ns_is_ours(int fd, enum berth_ns_type t)
{
	char self[64];
	struct stat a, b;

	snprintf(self, sizeof(self), "/proc/self/ns/%s", berth_ns_proc_name(t));
	return fstat(fd, &a) == 0 && stat(self, &b) == 0 && a.st_dev == b.st_dev &&
	       a.st_ino == b.st_ino;
}

/* After open_ns_paths: what the config asks of a namespace must not land in the runtime's own. */
static int check_joined_namespaces(const struct init_ctx *x, struct berth_error **err)
{
	const struct berth_spec *s = x->c->spec;
	const struct berth_linux *l = &s->linux_;
	bool ours[BERTH_NS_COUNT] = {false};

	for (int t = 0; t < BERTH_NS_COUNT; t++)
		ours[t] = x->ns_fds[t] >= 0 && ns_is_ours(x->ns_fds[t], (enum berth_ns_type)t);
	for (size_t i = 0; i < l->n_sysctl; i++) {
		int t = sysctl_namespace(l->sysctl[i].key);
		if (t >= 0 && ours[t])
			return berth_error_set(
				err, EPERM,
				"sysctl '%s' is not allowed in the host's %s namespace "
				"('%s' is the runtime's own)",
				l->sysctl[i].key, berth_ns_name((enum berth_ns_type)t),
				l->namespaces[t].path);
	}
	if ((s->hostname || s->domainname) && ours[BERTH_NS_UTS])
		return berth_error_set(err, EPERM,
				       "unable to set %s in the host's uts namespace ('%s' is the "
				       "runtime's own)",
				       s->hostname ? "hostname" : "domainname",
				       l->namespaces[BERTH_NS_UTS].path);
	return 0;
}

static int set_names(const struct berth_spec *s, struct berth_error **err)
{
	if (s->hostname && sethostname(s->hostname, strlen(s->hostname)) < 0)
		return berth_error_sys(err, errno, "sethostname '%s'", s->hostname);
	if (s->domainname && setdomainname(s->domainname, strlen(s->domainname)) < 0)
		return berth_error_sys(err, errno, "setdomainname '%s'", s->domainname);
	return 0;
}

/*
 * Reopen the O_PATH fd of the exec fifo for writing: this blocks until `start` opens it for
 * reading.  The byte that lets `start` return is written later, by signal_started().
 */
static int open_exec_fifo(int *fifo_fd, struct berth_error **err)
{
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", *fifo_fd);
	do
		fd = open(path, O_WRONLY | O_CLOEXEC);
	while (fd < 0 && errno == EINTR);
	if (fd < 0)
		return berth_error_sys(err, errno, "open exec fifo");
	close(*fifo_fd);
	*fifo_fd = fd;
	return 0;
}

/*
 * After the startContainer hooks: the byte tells `start` they passed.  The fd stays open,
 * close-on-exec, so `start` sees EOF exactly when execve succeeds; a failure between the byte and
 * exec (seccomp, identity, exec itself) writes its message into the fifo first, and a failing
 * startContainer hook writes the byte and then its message.  The fifo is the only way back: the
 * init never writes to the container's stdio, which belongs to the container (a daemon's log).
 */
static int signal_started(int fifo_fd, struct berth_error **err)
{
	if (berth_write_all(fifo_fd, "0", 1) < 0)
		return berth_error_sys(err, errno, "write exec fifo");
	return 0;
}

/* Send the seccomp notification fd with the container process state (runtime-spec). */
static int send_seccomp_listener(struct init_ctx *x, int listener, struct berth_error **err)
{
	const struct berth_seccomp *s = x->c->spec->linux_.seccomp;
	_cleanup_free_ char *state = NULL, *text = NULL;
	_cleanup_json_ json_t *j = NULL, *st = NULL;
	int r;

	state = berth_hook_state(x->c, x->c->pid, "running");
	if (!state || berth_json_parse(state, strlen(state), &st, err) < 0)
		return berth_error_set(err, ENOMEM, "seccomp listener state");
	j = json_pack("{s:s, s:[s], s:I, s:s, s:O}", "ociVersion", "1.2.0", "fds", "seccompFd",
		      "pid", (json_int_t)x->c->pid, "metadata",
		      s->listener_metadata ? s->listener_metadata : "", "state", st);
	if (!j || !(text = json_dumps(j, JSON_COMPACT)))
		return berth_error_set(err, ENOMEM, "out of memory");
	r = berth_send_fd(x->listener_sock, text, strlen(text), listener);
	if (r < 0)
		return berth_error_sys(err, -r, "send seccomp fd to '%s'", s->listener_path);
	return 0;
}

static int load_seccomp(struct init_ctx *x, struct berth_error **err)
{
	_cleanup_close_ int listener = -EBADF;
	int r;

	if (!x->seccomp)
		return 0;
	r = berth_seccomp_load(x->seccomp, &listener, err);
	if (r < 0)
		return r;
	if (listener >= 0 && x->listener_sock >= 0)
		return send_seccomp_listener(x, listener, err);
	return 0;
}

/* After start: startContainer hooks, seccomp, identity, exec.  Errors go to `start`, via the fifo. */
static __attribute__((noreturn)) void init_exec(struct init_ctx *x, const char *path)
{
	struct berth_process *p = x->c->spec->process;
	_cleanup_error_ struct berth_error *err = NULL;
	_cleanup_free_ char *state = NULL;
	int r = 0;

	if (x->c->spec->hooks.start_container.n) {
		state = berth_hook_state(x->c, x->c->pid, "running");
		r = berth_hooks_run(&x->c->spec->hooks.start_container, "startContainer",
				    state ? state : "{}", &err);
	}
	if (r == 0)
		r = signal_started(x->fifo_fd, &err);
	bool started = r == 0;
	if (r == 0 && !p->no_new_privileges)
		r = load_seccomp(x, &err);
	if (r == 0)
		r = berth_process_apply_identity(p, &err);
	if (r == 0)
		r = berth_keep_nondumpable(&err);
	if (r == 0 && p->no_new_privileges)
		r = load_seccomp(x, &err);
	if (r == 0) {
		execve(path, p->args, p->env ? p->env : (char *[]){NULL});
		r = berth_error_sys(&err, errno, "exec '%s'", path);
	}
	const char *msg = err && err->msg ? err->msg : "container start failed";
	/*
	 * `start` reads the fifo: its first byte is the start byte, what follows is why.  A failure
	 * before the byte (a startContainer hook) writes it first, so the reason arrives whole.
	 */
	if (!started)
		berth_write_all(x->fifo_fd, "0", 1);
	berth_write_all(x->fifo_fd, msg, strlen(msg));
	_exit(r == -ENOENT || r == -EACCES ? 127 : 1);
}

static int init_setup(struct init_ctx *x, char **ret_path, struct berth_error **err)
{
	struct berth_spec *s = x->c->spec;
	struct berth_sync_msg m;
	struct berth_rootfs_ctx rc = {
		.spec = s,
		.rootfs = x->c->rootfs,
		.bundle = x->c->bundle,
		.cgroup = x->c->cgroup,
		.new_userns = s->linux_.namespaces[BERTH_NS_USER].present,
		.new_cgroupns = (x->new_ns & CLONE_NEWCGROUP) != 0,
		.no_pivot = x->co->no_pivot,
		.shared_mountns = !s->linux_.namespaces[BERTH_NS_MOUNT].present,
	};
	_cleanup_free_ char *state = NULL;
	int r;

	r = berth_sync_expect(x->sync, BERTH_SYNC_GO, &m, err);
	if (r < 0)
		return r;
	r = x->slow ? enter_namespaces_slow(x, err) : enter_namespaces_fast(x, err);
	if (r < 0)
		return r;
	/* After the cgroup join, so the cgroup namespace's root is the container's cgroup. */
	if (x->ns_fds[BERTH_NS_CGROUP] >= 0) {
		r = setns_one(x, BERTH_NS_CGROUP, err);
		if (r < 0)
			return r;
	} else if ((x->new_ns & CLONE_NEWCGROUP) && unshare(CLONE_NEWCGROUP) < 0) {
		return berth_error_sys(err, errno, "create cgroup namespace");
	}
	if (setsid() < 0)
		return berth_error_sys(err, errno, "setsid");
	if (!x->co->no_new_keyring) {
		char name[128];
		snprintf(name, sizeof(name), "_ses.%.100s", x->c->id);
		/* kernels without keyrings, or a keyring quota, are not a reason to fail */
		syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, name, 0, 0, 0);
	}

	r = berth_rootfs_prepare(&rc, err);
	if (r < 0)
		return r;
	r = berth_sync_send(x->sync, BERTH_SYNC_HOOKS, 0, NULL, -EBADF);
	if (r < 0)
		return berth_error_sys(err, -r, "sync");
	r = berth_sync_expect(x->sync, BERTH_SYNC_HOOKS_DONE, &m, err);
	if (r < 0)
		return r;
	x->c->pid = m.value;
	if (s->hooks.create_container.n) {
		state = berth_hook_state(x->c, x->c->pid, "created");
		r = berth_hooks_run(&s->hooks.create_container, "createContainer",
				    state ? state : "{}", err);
		if (r < 0)
			return r;
	}
	r = berth_rootfs_pivot(&rc, err);
	if (r < 0)
		return r;
	if (s->process->terminal) {
		r = berth_console_setup(x->sync, s->process->console_height,
					s->process->console_width, true, err);
		if (r < 0)
			return berth_error_wrap(err, "set up the terminal");
	}
	/* a cwd missing from the rootfs is made (as runc does), before the root turns read-only */
	if (s->process->cwd && access(s->process->cwd, F_OK) < 0 && errno == ENOENT) {
		r = berth_mkdir_p(s->process->cwd, 0755, err);
		if (r < 0)
			return berth_error_wrap(err, "create cwd '%s'", s->process->cwd);
	}
	/* sysctls before finalize: readonlyPaths usually makes /proc/sys read-only */
	r = set_names(s, err);
	if (r < 0)
		return r;
	r = set_sysctls(&s->linux_, err);
	if (r < 0)
		return r;
	r = berth_rootfs_finalize(&rc, err);
	if (r < 0)
		return r;
	r = berth_process_apply_rlimits(s->process, err);
	if (r < 0)
		return r;
	r = berth_process_apply_attrs(s->process, &s->linux_, err);
	if (r < 0)
		return r;
	if (chdir(s->process->cwd ? s->process->cwd : "/") < 0)
		return berth_error_sys(err, errno, "chdir to cwd '%s' set in config.json",
				       s->process->cwd);
	/* after chdir: a relative "./x" in args[0] is relative to the process's cwd */
	r = berth_process_find_executable(s->process, ret_path, err);
	if (r < 0)
		return r;
	/* Everything above the preserved fds closes at exec: sync socket, fifo, our own files. */
	r = berth_fds_cloexec_from(3 + x->co->preserve_fds);
	if (r < 0)
		return berth_error_sys(err, -r, "mark fds close-on-exec");
	return 0;
}

static __attribute__((noreturn)) void init_main(struct init_ctx *x)
{
	struct berth_error *err = NULL;
	_cleanup_free_ char *path = NULL;
	int r;

	/* While setting up, die with the runtime; once ready, the container outlives it. */
	sigset_t none;

	/* the runtime may block signals it forwards; the container starts with none blocked */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	r = berth_apply_stdio(x->co->stdio, &err);
	if (r == 0)
		r = init_setup(x, &path, &err);
	if (r < 0)
		berth_sync_fail(x->sync, r, err);
	prctl(PR_SET_PDEATHSIG, 0);
	if (berth_sync_send(x->sync, BERTH_SYNC_READY, 0, NULL, -EBADF) < 0)
		_exit(1);
	close(x->sync);
	x->sync = -EBADF;
	r = open_exec_fifo(&x->fifo_fd, &err);
	if (r < 0)
		_exit(1); /* no way to say why: `start` sees the init gone before its byte */
	init_exec(x, path);
}

/* ---- the runtime side ------------------------------------------------------------------- */

static int write_id_map(pid_t pid, const char *file, const struct berth_id_mapping *m, size_t n,
			struct berth_error **err)
{
	char path[64];
	_cleanup_free_ char *buf = NULL;
	size_t len = 0, cap = n * 40 + 1;

	buf = malloc(cap);
	if (!buf)
		return berth_error_set(err, ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(buf + len, cap - len, "%u %u %u\n", m[i].container_id,
					m[i].host_id, m[i].size);
	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
	return berth_write_file_at(AT_FDCWD, path, buf, len, err);
}

static int write_id_maps(pid_t pid, const struct berth_linux *l, struct berth_error **err)
{
	int r = write_id_map(pid, "uid_map", l->uid_mappings, l->n_uid_mappings, err);

	if (r < 0)
		return berth_error_wrap(err, "write uid mappings");
	r = write_id_map(pid, "gid_map", l->gid_mappings, l->n_gid_mappings, err);
	if (r < 0)
		return berth_error_wrap(err, "write gid mappings");
	return 0;
}

static int open_ns_paths(struct init_ctx *x, struct berth_error **err)
{
	for (int t = 0; t < BERTH_NS_COUNT; t++) {
		const struct berth_namespace *ns = &x->c->spec->linux_.namespaces[t];
		x->ns_fds[t] = -EBADF;
		if (!ns->present)
			continue;
		if (!ns->path) {
			x->new_ns |= (unsigned long)berth_ns_clone_flag(t);
			continue;
		}
		int fd = open(ns->path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return berth_error_sys(err, errno, "open %s namespace '%s'",
					       berth_ns_name(t), ns->path);
		x->ns_fds[t] = fd;
		int type = ioctl(fd, NS_GET_NSTYPE);
		if (type < 0)
			return berth_error_set(err, EINVAL, "'%s' is not a namespace", ns->path);
		if (type != berth_ns_clone_flag(t))
			return berth_error_set(err, EINVAL, "'%s' is not a %s namespace", ns->path,
					       berth_ns_name(t));
	}
	return 0;
}

static int check_spec(const struct berth_spec *s, const struct berth_create_opts *co,
		      const struct berth_log *log, struct berth_error **err)
{
	const struct berth_namespace *ns = s->linux_.namespaces;
	int r;

	if (!s->process)
		return berth_error_set(err, EINVAL, "config.json: process is required");
	/*
	 * No mount namespace: the container shares the caller's (the spec), as runc runs it.  What
	 * would change the caller's own mounts for good is refused, as runc refuses the masks.
	 */
	if (!ns[BERTH_NS_MOUNT].present) {
		const char *what = NULL;
		if (s->linux_.masked_paths && s->linux_.masked_paths[0])
			what = "linux.maskedPaths";
		else if (s->linux_.readonly_paths && s->linux_.readonly_paths[0])
			what = "linux.readonlyPaths";
		else if (s->root_readonly)
			what = "root.readonly";
		else if (s->linux_.rootfs_propagation)
			what = "linux.rootfsPropagation";
		if (what)
			return berth_error_set(
				err, EINVAL,
				"%s needs a private mount namespace (linux.namespaces "
				"has no \"mount\"): it would change the caller's mounts",
				what);
	}
	if ((s->hostname || s->domainname) && !ns[BERTH_NS_UTS].present)
		return berth_error_set(err, EINVAL,
				       "unable to set hostname without a private UTS namespace");
	if (ns[BERTH_NS_USER].present && !ns[BERTH_NS_USER].path &&
	    (!s->linux_.n_uid_mappings || !s->linux_.n_gid_mappings))
		return berth_error_set(err, EINVAL,
				       "user namespaces enabled, but no uid or gid mappings found");
	if (!ns[BERTH_NS_USER].present && (s->linux_.n_uid_mappings || s->linux_.n_gid_mappings))
		return berth_error_set(err, EINVAL,
				       "uid/gid mappings given, but no user namespace");
	if (check_sysctls(&s->linux_, err) < 0)
		return -EINVAL;
	r = berth_process_prepare(s->process, ns[BERTH_NS_USER].present, log, err);
	if (r < 0)
		return r;
	if ((s->linux_.time_monotonic.present || s->linux_.time_boottime.present) &&
	    (!ns[BERTH_NS_TIME].present || ns[BERTH_NS_TIME].path))
		return berth_error_set(err, EINVAL, "timeOffsets need a new time namespace");
	if (s->process->terminal && co->stdio)
		return berth_error_set(
			err, EINVAL,
			"stdio fds given, but process.terminal is true (the terminal "
			"is the process's stdio)");
	if (s->process->terminal && !co->console_socket && !co->ret_pty_master)
		return berth_error_set(err, EINVAL,
				       "cannot allocate a tty without a console socket "
				       "(process.terminal is true: pass --console-socket)");
	if (!s->process->terminal && co->console_socket)
		return berth_error_set(err, EINVAL,
				       "--console-socket given, but process.terminal is false");
	return 0;
}

static int connect_listener(const char *path, int *ret, struct berth_error **err)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	_cleanup_close_ int s = -EBADF;

	if (strlen(path) >= sizeof(addr.sun_path))
		return berth_error_set(err, ENAMETOOLONG, "listenerPath '%s': too long", path);
	memcpy(addr.sun_path, path, strlen(path) + 1);
	s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0 || connect(s, (struct sockaddr *)&addr, sizeof(addr)) < 0)
		return berth_error_sys(err, errno, "connect to seccomp listenerPath '%s'", path);
	*ret = TAKE_FD(s);
	return 0;
}

/*
 * The device cgroup rules in force: the spec's, then allow rules for the default devices (runc's
 * list, appended after the spec's as runc does).  A linux.devices entry gets no rule of its own:
 * as with runc, what the container may do with it is what linux.resources.devices says (docker
 * and podman write a rule with the access asked for, "r" for a read-only --device).
 * Returns a shallow copy of res whose devices array the caller frees.
 */
static int device_rules(const struct berth_spec *s, struct berth_resources *out,
			struct berth_error **err)
{
	static const struct berth_device_rule defaults[] = {
		{true, 'c', 1, 3, "rwm"},    /* null */
		{true, 'c', 1, 5, "rwm"},    /* zero */
		{true, 'c', 1, 7, "rwm"},    /* full */
		{true, 'c', 1, 8, "rwm"},    /* random */
		{true, 'c', 1, 9, "rwm"},    /* urandom */
		{true, 'c', 5, 0, "rwm"},    /* tty */
		{true, 'c', 5, 1, "rwm"},    /* console */
		{true, 'c', 5, 2, "rwm"},    /* ptmx */
		{true, 'c', 136, -1, "rwm"}, /* pts */
		/* mknod of any node is allowed, as runc does; using it still needs a rule above */
		{true, 'c', -1, -1, "m"},
		{true, 'b', -1, -1, "m"},
	};
	const struct berth_resources *res = s->linux_.resources;
	size_t n_spec = res ? res->n_devices : 0;
	struct berth_device_rule *v;

	if (res)
		*out = *res;
	else
		memset(out, 0, sizeof(*out));
	if (!res || n_spec == 0) {
		/* no device rules asked for: leave the device cgroup as it is */
		out->devices = NULL;
		out->n_devices = 0;
		return 0;
	}
	v = calloc(n_spec + ARRAY_SIZE(defaults), sizeof(*v));
	if (!v)
		return berth_error_set(err, ENOMEM, "out of memory");
	memcpy(v, res->devices, n_spec * sizeof(*v));
	memcpy(v + n_spec, defaults, sizeof(defaults));
	out->devices = v;
	out->n_devices = n_spec + ARRAY_SIZE(defaults);
	return 0;
}

/* Drive the child through its set-up; returns the init pid. */
static int parent_drive(struct init_ctx *x, pid_t child, const struct berth_create_opts *co,
			pid_t *ret_init, struct berth_error **err)
{
	pid_t init = child;
	struct berth_sync_msg m;
	int r;

	struct berth_resources res;
	r = device_rules(x->c->spec, &res, err);
	if (r < 0)
		return r;
	r = berth_cgroup_create(x->c->cgroup, x->c->spec->linux_.resources ? &res : NULL, child,
				err);
	if (res.devices !=
	    (x->c->spec->linux_.resources ? x->c->spec->linux_.resources->devices : NULL))
		free(res.devices);
	if (r < 0)
		return berth_error_wrap(err, "cgroup '%s'", berth_cgroup_path(x->c->cgroup));
	/*
	 * Without a cgroupsPath every container lives under /berth: that parent is shared and
	 * stays (removing it with the last container would make every next create make it again,
	 * in each hierarchy).  Parents of a cgroupsPath go with the container that made them.
	 */
	if (!x->c->spec->linux_.cgroups_path && berth_cgroup_made_from(x->c->cgroup) &&
	    strcmp(berth_cgroup_made_from(x->c->cgroup), berth_cgroup_path(x->c->cgroup)) != 0) {
		r = berth_cgroup_set_made_from(x->c->cgroup, berth_cgroup_path(x->c->cgroup), err);
		if (r < 0)
			return r;
	}
	r = berth_process_apply_oom_score_adj(child, x->c->spec->process, err);
	if (r < 0)
		return r;
	r = berth_sync_send(x->sync, BERTH_SYNC_GO, 0, NULL, -EBADF);
	if (r < 0)
		return berth_error_sys(err, -r, "sync");
	for (;;) {
		int fd = -EBADF;
		r = berth_sync_recv(x->sync, &m, &fd);
		if (r < 0)
			return berth_error_sys(err, -r, "sync socket");
		if (r == 0) {
			int status = 0;
			if (init == child && berth_waitpid(child, 0, &status) > 0)
				return berth_error_set(err, EIO,
						       "container init exited during set-up "
						       "(exit code %d)",
						       berth_exit_code(status));
			return berth_error_set(err, EIO, "container init exited during set-up");
		}
		switch (m.type) {
		case BERTH_SYNC_USERNS:
			r = write_id_maps(init, &x->c->spec->linux_, err);
			if (r < 0)
				return r;
			r = berth_sync_send(x->sync, BERTH_SYNC_USERNS_DONE, 0, NULL, -EBADF);
			break;
		case BERTH_SYNC_PID:
			init = m.value;
			berth_waitpid(child, 0, NULL); /* the intermediate leaves at once */
			/* from here on the handle names the init, not the intermediate */
			if (x->init_pidfd >= 0)
				close(x->init_pidfd);
			x->init_pidfd = fd;
			fd = -EBADF;
			if (x->init_pidfd < 0) {
				/* its pidfd_open failed; the init waits for us, so it is there */
				x->init_pidfd = (int)syscall(SYS_pidfd_open, init, 0);
				if (x->init_pidfd < 0)
					return berth_error_syscall(err, errno, "pidfd_open",
								   "the init (pid %d)", (int)init);
			}
			break;
		case BERTH_SYNC_HOOKS: {
			const struct berth_hooks *h = &x->c->spec->hooks;
			x->c->pid = init;
			if (h->prestart.n || h->create_runtime.n) {
				_cleanup_free_ char *state =
					berth_hook_state(x->c, init, "created");
				if (!state)
					return berth_error_set(err, ENOMEM, "out of memory");
				r = berth_hooks_run(&h->prestart, "prestart", state, err);
				if (r == 0)
					r = berth_hooks_run(&h->create_runtime, "createRuntime",
							    state, err);
				if (r < 0)
					return r;
			}
			r = berth_sync_send(x->sync, BERTH_SYNC_HOOKS_DONE, init, NULL, -EBADF);
			break;
		}
		case BERTH_SYNC_PTY:
			if (fd < 0)
				return berth_error_set(err, EPROTO, "pty message without a pty");
			r = berth_pty_forward(fd, m.text, co->console_socket, co->ret_pty_master,
					      err);
			if (r < 0)
				return r;
			break;
		case BERTH_SYNC_READY:
			/* execCPUAffinity.final: now that the process sits in its cgroup */
			r = berth_process_apply_final_affinity(init, x->c->spec->process, err);
			if (r < 0)
				return r;
			*ret_init = init;
			return 0;
		case BERTH_SYNC_ERROR:
			return berth_error_set(err, m.value > 0 ? m.value : EIO, "%s", m.text);
		default:
			if (fd >= 0)
				close(fd);
			return berth_error_set(err, EPROTO, "sync: unexpected message %u", m.type);
		}
		if (r < 0)
			return berth_error_sys(err, -r, "sync");
	}
}

/*
 * Without a mount namespace the init mounts in ours: what is below the rootfs now and was not
 * before is the container's, for delete (or a failed create) to unmount.
 */
static int new_mounts(struct berth_container *c, const int *before, size_t n_before,
		      struct berth_error **err)
{
	_cleanup_free_ int *ids = NULL;
	_cleanup_strv_ char **paths = NULL;
	size_t n = 0;
	int r;

	r = berth_mounts_below(c->rootfs, &ids, &paths, &n, err);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		bool old = false;
		for (size_t k = 0; k < n_before && !old; k++)
			old = before[k] == ids[i];
		if (!old && berth_strv_push(&c->host_mounts, paths[i]) < 0)
			return berth_error_set(err, ENOMEM, "out of memory");
	}
	return 0;
}

static int write_pid_file(const char *path, pid_t pid, struct berth_error **err)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%d", (int)pid);
	/* runc writes the pid file without a newline, atomically */
	return berth_write_file_replace_at(AT_FDCWD, path, buf, strlen(buf), 0644, err);
}

int berth_container_create(const struct berth_runtime_opts *o, const char *id,
			   const struct berth_create_opts *co, struct berth_container **ret,
			   struct berth_error **err)
{
	_cleanup_container_ struct berth_container *c = NULL;
	_cleanup_free_ char *root_path = NULL, *fifo = NULL, *cgpath = NULL;
	_cleanup_free_ int *mounts_before = NULL;
	_cleanup_strv_ char **mount_paths_before = NULL;
	size_t n_mounts_before = 0;
	struct init_ctx x = {
		.sync = -EBADF, .fifo_fd = -EBADF, .listener_sock = -EBADF, .init_pidfd = -EBADF};
	int sv[2] = {-EBADF, -EBADF};
	bool state_made = false;
	/* the cgroup is ours to remove on failure: it had no process of anyone else */
	bool cgroup_ours = false;
	pid_t child = 0, init = 0;
	int r;

	for (int t = 0; t < BERTH_NS_COUNT; t++)
		x.ns_fds[t] = -EBADF;
	r = berth_container_validate_id(id, err);
	if (r < 0)
		return r;
	c = calloc(1, sizeof(*c));
	if (!c || !(c->id = strdup(id)))
		return berth_error_set(err, ENOMEM, "out of memory");
	c->bundle = realpath(co->bundle ? co->bundle : ".", NULL);
	if (!c->bundle)
		return berth_error_sys(err, errno, "bundle '%s'", co->bundle ? co->bundle : ".");
	c->log = o->log;
	if (co->config)
		r = berth_spec_parse_json(co->config, &c->spec, err);
	else
		r = berth_spec_load_bundle(c->bundle, &c->spec, err);
	if (r < 0)
		return berth_error_wrap(err, "create container '%s'", id);
	r = check_spec(c->spec, co, &c->log, err);
	if (r < 0)
		return berth_error_wrap(err, "create container '%s'", id);
	if (!c->spec->root_path)
		return berth_error_set(err, EINVAL, "config.json: root.path is required");
	if (c->spec->root_path[0] == '/')
		root_path = strdup(c->spec->root_path);
	else if (asprintf(&root_path, "%s/%s", c->bundle, c->spec->root_path) < 0)
		root_path = NULL;
	if (!root_path)
		return berth_error_set(err, ENOMEM, "out of memory");
	c->rootfs = realpath(root_path, NULL);
	struct stat st;
	if (!c->rootfs || stat(c->rootfs, &st) < 0)
		return berth_error_sys(err, errno, "create container '%s': rootfs '%s'", id,
				       root_path);
	if (!S_ISDIR(st.st_mode))
		return berth_error_set(err, ENOTDIR,
				       "create container '%s': rootfs '%s' is not a directory", id,
				       root_path);

	x.c = c;
	x.co = co;
	r = open_ns_paths(&x, err);
	if (r < 0)
		goto fail;
	r = check_joined_namespaces(&x, err);
	if (r < 0)
		goto fail;
	{
		const struct berth_namespace *ns = c->spec->linux_.namespaces;
		bool any_join = false;
		for (int t = 0; t < BERTH_NS_COUNT; t++)
			if (x.ns_fds[t] >= 0)
				any_join = true;
		x.slow = (any_join && ns[BERTH_NS_USER].present) || x.ns_fds[BERTH_NS_PID] >= 0 ||
			 ns[BERTH_NS_TIME].present;
	}
	r = berth_cgroup_path_for(c->spec, id, o->systemd_cgroup, &cgpath, err);
	if (r < 0)
		goto fail;
	r = berth_cgroup_new(o->cgroup_root, cgpath, &c->cgroup, err);
	if (r < 0)
		goto fail;
	if (c->spec->linux_.seccomp) {
		r = berth_seccomp_compile_cached(c->spec->linux_.seccomp, o->seccomp_cache,
						 &x.seccomp, err);
		if (r < 0) {
			berth_error_wrap(err, "seccomp");
			goto fail;
		}
		if (c->spec->linux_.seccomp->listener_path) {
			r = connect_listener(c->spec->linux_.seccomp->listener_path,
					     &x.listener_sock, err);
			if (r < 0)
				goto fail;
		}
	}

	/* The state directory: its creation is what makes the id ours. */
	r = berth_mkdir_p(o->state_root, 0700, err);
	if (r < 0)
		goto fail;
	if (asprintf(&c->state_dir, "%s/%s", o->state_root, id) < 0) {
		r = berth_error_set(err, ENOMEM, "out of memory");
		goto fail;
	}
	if (mkdir(c->state_dir, 0711) < 0) {
		r = errno == EEXIST
			    ? berth_error_set(err, EEXIST, "container with id exists: %s", id)
			    : berth_error_sys(err, errno, "mkdir '%s'", c->state_dir);
		goto fail;
	}
	state_made = true;
	{
		/*
		 * A cgroup with processes in it belongs to someone else (another container with
		 * the same cgroupsPath, under another --root): sharing it would let our delete, or
		 * the clean-up of a failed create, kill their processes.
		 */
		_cleanup_free_ pid_t *busy = NULL;
		size_t n_busy = 0;
		r = berth_cgroup_pids(c->cgroup, &busy, &n_busy, err);
		if (r == -ENOENT) {
			if (err)
				berth_error_freep(err);
			r = 0;
		}
		if (r >= 0 && n_busy > 0)
			r = berth_error_set(err, EBUSY,
					    "cgroup '%s' is not empty: %zu process(es) in it",
					    berth_cgroup_path(c->cgroup), n_busy);
		if (r < 0)
			goto fail;
	}
	cgroup_ours = true;
	c->created = berth_rfc3339_now();
	c->owner = getuid();
	c->systemd_cgroup = o->systemd_cgroup;
	c->creator = getpid();
	c->creator_start_time = berth_proc_start_time(c->creator);
	if (!c->created || asprintf(&fifo, "%s/" BERTH_EXEC_FIFO, c->state_dir) < 0) {
		r = berth_error_set(err, ENOMEM, "out of memory");
		goto fail;
	}
	/* pid 0 + creator: `state` says "creating"; if we die, `delete` cleans up */
	r = berth_state_save(c, err);
	if (r < 0)
		goto fail;
	if (mkfifo(fifo, 0622) < 0 || chmod(fifo, 0622) < 0) {
		r = berth_error_sys(err, errno, "mkfifo '%s'", fifo);
		goto fail;
	}
	x.fifo_fd = open(fifo, O_PATH | O_CLOEXEC);
	if (x.fifo_fd < 0) {
		r = berth_error_sys(err, errno, "open '%s'", fifo);
		goto fail;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		r = berth_error_sys(err, errno, "socketpair");
		goto fail;
	}

	if (!c->spec->linux_.namespaces[BERTH_NS_MOUNT].present) {
		/* the mounts the init makes land in our namespace: note what is there before */
		r = berth_mounts_below(c->rootfs, &mounts_before, &mount_paths_before,
				       &n_mounts_before, err);
		if (r < 0)
			goto fail;
	}
	child = berth_clone_pidfd(
		x.slow ? 0 : x.new_ns & ~(unsigned long)(CLONE_NEWCGROUP | CLONE_NEWTIME),
		&x.init_pidfd);
	if (child < 0) {
		r = berth_error_sys(err, errno, "clone the container's init");
		child = 0;
		goto fail;
	}
	if (child == 0) {
		close(sv[0]);
		x.sync = sv[1];
		init_main(&x);
	}
	close(TAKE_FD(sv[1]));
	x.sync = sv[0];
	sv[0] = -EBADF;

	r = parent_drive(&x, child, co, &init, err);
	if (mount_paths_before) {
		int q = new_mounts(c, mounts_before, n_mounts_before, r < 0 ? NULL : err);
		if (q < 0 && r == 0)
			r = q;
	}
	if (r < 0)
		goto fail;
	c->pid = init;
	c->pid_start_time = berth_proc_start_time(init);
	c->creator = 0;
	c->creator_start_time = 0;
	r = berth_state_save(c, err);
	if (r < 0)
		goto fail;
	if (co->pid_file) {
		r = write_pid_file(co->pid_file, init, err);
		if (r < 0)
			goto fail;
	}
	if (co->ret_pidfd) {
		r = berth_pidfd_adopt(init, TAKE_FD(x.init_pidfd), co->ret_pidfd, err);
		if (r < 0)
			goto fail;
	}
	/*
	 * The init loaded its own copy; ours serves the execs of a holder that keeps c (the shim),
	 * so that the first exec neither reads the cache nor has libseccomp generate the program.
	 * Not with a listener: an exec's filter would need one of its own.
	 */
	if (x.seccomp && !c->spec->linux_.seccomp->listener_path &&
	    berth_seccomp_prepare(x.seccomp, NULL) == 0)
		c->exec_seccomp = TAKE_PTR(x.seccomp);
	berth_log(&c->log, BERTH_LOG_DEBUG,
		  "container '%s' created: init pid %d (%s), cgroup %s '%s'", id, (int)init,
		  x.slow ? "forked after joining namespaces" : "one clone",
		  berth_cgroup_driver(c->cgroup), berth_cgroup_path(c->cgroup));
	r = 0;
	*ret = TAKE_PTR(c);
	goto out;

fail:
	berth_error_wrap(err, "create container '%s'", id);
	if (init > 0 && init != child)
		kill(init, SIGKILL);
	if (child > 0) {
		kill(child, SIGKILL);
		berth_waitpid(child, 0, NULL);
	}
	if (child > 0 || init > 0)
		berth_unmount_all(c->host_mounts);
	if (c->cgroup && cgroup_ours)
		berth_cgroup_destroy(c->cgroup, NULL);
	if (state_made)
		berth_rm_rf(c->state_dir, NULL);
	if (co->ret_pty_master && *co->ret_pty_master >= 0) {
		close(*co->ret_pty_master);
		*co->ret_pty_master = -EBADF;
	}
out:
	for (int t = 0; t < BERTH_NS_COUNT; t++)
		if (x.ns_fds[t] >= 0)
			close(x.ns_fds[t]);
	if (x.sync >= 0)
		close(x.sync);
	if (x.fifo_fd >= 0)
		close(x.fifo_fd);
	if (x.listener_sock >= 0)
		close(x.listener_sock);
	if (x.init_pidfd >= 0)
		close(x.init_pidfd);
	if (sv[0] >= 0)
		close(sv[0]);
	if (sv[1] >= 0)
		close(sv[1]);
	berth_seccomp_filter_free(x.seccomp);
	return r;
}
