/* SPDX-License-Identifier: Apache-2.0 */
/*
 * exec: a new process inside a running container.  The runtime opens the cgroup's cgroup.procs
 * files (once per container: the shim keeps them), enters the container's pid (and time)
 * namespace for its children only, and clones.  The child moves itself into the cgroup through
 * those files, then joins the other namespaces (user first, mount last), sets up its terminal,
 * limits and identity, and execs: the parent has nothing to do in between, so no message goes
 * to the child.  The sync socket is close-on-exec: EOF after a successful execve is the
 * "started" signal, an ERROR message the failure.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "container-internal.h"
#include "base/banned.h"

struct exec_ctx {
	struct berth_container *c;
	const struct berth_process *p;
	const struct berth_exec_opts *eo;
	int sync;
	int ns_fds[BERTH_NS_COUNT];
	int root_fd; /* the container's root when it shares our mount namespace, else -EBADF */
	struct berth_seccomp_filter *seccomp;
};

static int exec_setup(struct exec_ctx *x, char **ret_path, struct berth_error **err)
{
	/* user first (it grants the rights to join the rest), cgroup after the cgroup move, mnt last */
	static const enum berth_ns_type order[] = {BERTH_NS_USER,   BERTH_NS_IPC,
						   BERTH_NS_UTS,    BERTH_NS_NETWORK,
						   BERTH_NS_CGROUP, BERTH_NS_MOUNT};
	int r;

	/*
	 * The cgroup before any namespace of the container's, as the parent used to move us: all
	 * we do from here is charged to the container, and the cgroup namespace we join below
	 * has its root there.  The host's cgroupfs files are closed at once.
	 */
	r = berth_cgroup_join_self(x->c->cgroup, err);
	berth_cgroup_procs_close(x->c->cgroup);
	if (r < 0)
		return berth_error_wrap(err, "join cgroup '%s'", berth_cgroup_path(x->c->cgroup));
	/* still the host's root in the host's /proc: our own file, before any user namespace */
	r = berth_process_apply_oom_score_adj(0, x->p, err);
	if (r < 0)
		return r;
	for (size_t i = 0; i < ARRAY_SIZE(order); i++) {
		enum berth_ns_type t = order[i];
		if (x->ns_fds[t] < 0)
			continue;
		if (setns(x->ns_fds[t], berth_ns_clone_flag(t)) < 0)
			return berth_error_sys(err, errno, "join the container's %s namespace",
					       berth_ns_name(t));
		close(x->ns_fds[t]);
		x->ns_fds[t] = -EBADF;
	}
	/* joining the user namespace changed our credentials, which resets the flag */
	r = berth_keep_nondumpable(err);
	if (r < 0)
		return r;
	/* a container without a mount namespace lives in a chroot of ours: join that */
	if (x->root_fd >= 0 && (fchdir(x->root_fd) < 0 || chroot(".") < 0))
		return berth_error_sys(err, errno, "chroot into the container's root");
	if (chdir("/") < 0)
		return berth_error_sys(err, errno, "chdir '/'");
	if (setsid() < 0)
		return berth_error_sys(err, errno, "setsid");
	if (x->p->terminal) {
		r = berth_console_setup(x->sync, x->p->console_height, x->p->console_width, false,
					err);
		if (r < 0)
			return berth_error_wrap(err, "set up the terminal");
	}
	r = berth_process_apply_rlimits(x->p, err);
	if (r < 0)
		return r;
	r = berth_process_apply_attrs(x->p, &x->c->spec->linux_, err);
	if (r < 0)
		return r;
	if (chdir(x->p->cwd ? x->p->cwd : "/") < 0)
		return berth_error_sys(err, errno, "chdir to cwd '%s'", x->p->cwd);
	r = berth_process_find_executable(x->p, ret_path, err);
	if (r < 0)
		return r;
	if (x->seccomp && !x->p->no_new_privileges) {
		r = berth_seccomp_load(x->seccomp, NULL, err);
		if (r < 0)
			return r;
	}
	r = berth_process_apply_identity(x->p, err);
	if (r < 0)
		return r;
	r = berth_keep_nondumpable(err);
	if (r < 0)
		return r;
	if (x->seccomp && x->p->no_new_privileges) {
		r = berth_seccomp_load(x->seccomp, NULL, err);
		if (r < 0)
			return r;
	}
	r = berth_fds_cloexec_from(3 + x->eo->preserve_fds);
	if (r < 0)
		return berth_error_sys(err, -r, "mark fds close-on-exec");
	return 0;
}

static __attribute__((noreturn)) void exec_main(struct exec_ctx *x)
{
	struct berth_error *err = NULL;
	char *path = NULL;
	int r;

	sigset_t none;

	/* the runtime may block signals it forwards; the container starts with none blocked */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	r = berth_apply_stdio(x->eo->stdio, &err);
	if (r == 0)
		r = exec_setup(x, &path, &err);
	if (r < 0)
		berth_sync_fail(x->sync, r, err);
	if (x->eo->detach)
		prctl(PR_SET_PDEATHSIG, 0);
	execve(path, x->p->args, x->p->env ? x->p->env : (char *[]){NULL});
	r = berth_error_sys(&err, errno, "exec '%s'", path);
	berth_sync_fail(x->sync, r, err);
}

static int restore_ns(int fd, int type)
{
	return fd >= 0 ? setns(fd, type) : 0;
}

int berth_container_exec(struct berth_container *c, const struct berth_process *p,
			 const struct berth_exec_opts *eo, pid_t *ret_pid, struct berth_error **err)
{
	/* a copy: prepare() trims its ambient set; the pointers stay the caller's */
	struct berth_process pc = *p;
	struct exec_ctx x = {.c = c, .p = &pc, .eo = eo, .sync = -EBADF, .root_fd = -EBADF};
	enum berth_status st = berth_container_status(c);
	_cleanup_close_ int own_pidns = -EBADF, own_timens = -EBADF, pidfd = -EBADF;
	int sv[2] = {-EBADF, -EBADF};
	pid_t child = 0;
	int r;

	for (int t = 0; t < BERTH_NS_COUNT; t++)
		x.ns_fds[t] = -EBADF;
	if (st == BERTH_STATUS_PAUSED)
		return berth_error_set(err, EINVAL, "cannot exec in a paused container");
	if (st != BERTH_STATUS_RUNNING && st != BERTH_STATUS_CREATED)
		return berth_error_set(err, EINVAL, "cannot exec in a stopped container");
	if (p->terminal && eo->stdio)
		return berth_error_set(err, EINVAL,
				       "stdio fds given, but the process has a terminal (the "
				       "terminal is its stdio)");
	if (p->terminal && !eo->console_socket && !eo->ret_pty_master)
		return berth_error_set(err, EINVAL,
				       "cannot allocate a tty without a console socket");
	if (!p->terminal && eo->console_socket)
		return berth_error_set(err, EINVAL, "--console-socket given, but no terminal");
	r = berth_process_prepare(&pc, c->spec->linux_.namespaces[BERTH_NS_USER].present, &c->log,
				  err);
	if (r < 0)
		return berth_error_wrap(err, "exec in container '%s'", c->id);
	for (int t = 0; t < BERTH_NS_COUNT; t++) {
		if (!c->spec->linux_.namespaces[t].present)
			continue;
		r = berth_open_ns_of(c->pid, (enum berth_ns_type)t, &x.ns_fds[t], err);
		if (r < 0)
			goto out;
	}
	if (!c->spec->linux_.namespaces[BERTH_NS_MOUNT].present) {
		char root[64];
		snprintf(root, sizeof(root), "/proc/%d/root", (int)c->pid);
		x.root_fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (x.root_fd < 0) {
			r = berth_error_sys(err, errno, "open '%s'", root);
			goto out;
		}
	}
	if (c->spec->linux_.seccomp) {
		if (!c->exec_seccomp) {
			r = berth_seccomp_compile(c->spec->linux_.seccomp, &c->exec_seccomp, err);
			if (r < 0)
				goto out;
			/* a failure here only costs speed: the load generates it then */
			berth_seccomp_prepare(c->exec_seccomp, NULL);
		}
		x.seccomp = c->exec_seccomp;
	}
	r = berth_cgroup_procs_open(c->cgroup, err);
	if (r < 0)
		goto out;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		r = berth_error_sys(err, errno, "socketpair");
		goto out;
	}

	/* pid and time namespaces apply to children: enter them for the clone, then come back */
	if (x.ns_fds[BERTH_NS_PID] >= 0)
		own_pidns = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
	if (x.ns_fds[BERTH_NS_TIME] >= 0)
		own_timens = open("/proc/self/ns/time", O_RDONLY | O_CLOEXEC);
	if (restore_ns(x.ns_fds[BERTH_NS_PID], CLONE_NEWPID) < 0 ||
	    restore_ns(x.ns_fds[BERTH_NS_TIME], CLONE_NEWTIME) < 0) {
		r = berth_error_sys(err, errno, "join the container's pid namespace");
		goto out;
	}
	child = berth_clone_pidfd(0, &pidfd);
	if (child == 0) {
		close(sv[0]);
		x.sync = sv[1];
		exec_main(&x);
	}
	r = -errno;
	restore_ns(own_pidns, CLONE_NEWPID);
	restore_ns(own_timens, CLONE_NEWTIME);
	if (child < 0) {
		child = 0;
		r = berth_error_sys(err, -r, "clone");
		goto out;
	}
	close(TAKE_FD(sv[1]));

	for (;;) {
		struct berth_sync_msg m;
		int fd = -EBADF;
		r = berth_sync_recv(sv[0], &m, &fd);
		if (r < 0) {
			r = berth_error_sys(err, -r, "sync socket");
			goto out;
		}
		if (r == 0)
			break; /* execve closed the socket: the process runs */
		if (m.type == BERTH_SYNC_PTY && fd >= 0) {
			r = berth_pty_forward(fd, m.text, eo->console_socket, eo->ret_pty_master,
					      err);
			if (r < 0)
				goto out;
			continue;
		}
		if (fd >= 0)
			close(fd);
		if (m.type == BERTH_SYNC_ERROR) {
			r = berth_error_set(err, m.value > 0 ? m.value : EIO, "%s", m.text);
			goto out;
		}
		r = berth_error_set(err, EPROTO, "sync: unexpected message %u", m.type);
		goto out;
	}
	r = berth_process_apply_final_affinity(child, p, err);
	if (r < 0)
		goto out;
	if (eo->pid_file) {
		char buf[32];
		snprintf(buf, sizeof(buf), "%d", (int)child);
		r = berth_write_file_replace_at(AT_FDCWD, eo->pid_file, buf, strlen(buf), 0644,
						err);
		if (r < 0)
			goto out;
	}
	if (eo->ret_pidfd) {
		r = berth_pidfd_adopt(child, TAKE_FD(pidfd), eo->ret_pidfd, err);
		if (r < 0)
			goto out;
	}
	berth_log(&c->log, BERTH_LOG_DEBUG, "exec in container '%s': pid %d", c->id, (int)child);
	*ret_pid = child;
	child = 0;
	r = 0;
out:
	if (r < 0) {
		berth_error_wrap(err, "exec in container '%s'", c->id);
		if (child > 0) {
			kill(child, SIGKILL);
			berth_waitpid(child, 0, NULL);
		}
		if (eo->ret_pty_master && *eo->ret_pty_master >= 0) {
			close(*eo->ret_pty_master);
			*eo->ret_pty_master = -EBADF;
		}
	}
	for (int t = 0; t < BERTH_NS_COUNT; t++)
		if (x.ns_fds[t] >= 0)
			close(x.ns_fds[t]);
	if (sv[0] >= 0)
		close(sv[0]);
	if (sv[1] >= 0)
		close(sv[1]);
	if (x.root_fd >= 0)
		close(x.root_fd);
	return r;
}
