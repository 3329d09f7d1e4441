/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Internal to lib/runtime: the state directory and hooks, shared by container.c and exec.c. */

#include "linux.h"

#define BERTH_STATE_FILE     "state.json"
#define BERTH_EXEC_FIFO	     "exec.fifo"
#define BERTH_STATE_MAX_SIZE (BERTH_SPEC_MAX_SIZE + (1u << 20))

/* Write c's state.json whole (tmp + fsync + rename). */
int berth_state_save(const struct berth_container *c, struct berth_error **err);

/*
 * The cgroup path a container gets: linux.cgroupsPath when given (absolute, or relative to the
 * runtime's own cgroup), else /berth/<id>; with systemd, "slice:prefix:name" means
 * /<slice path>/<prefix>-<name>.scope.
 */
int berth_cgroup_path_for(const struct berth_spec *spec, const char *id, bool systemd, char **ret,
			  struct berth_error **err);

/*
 * Run a list of hooks in order, each with state_json on its stdin, killing one that outlives its
 * timeout.  The first failure stops the list: `hook '/x' exited with status 1: <its stderr>`.
 */
int berth_hooks_run(const struct berth_hook_list *hooks, const char *kind, const char *state_json,
		    struct berth_error **err);

/*
 * For the hooks whose failure is only a warning (poststart, poststop): run every hook of the list
 * whatever the others did.  Returns 0, or the first failure's code with every failure's message
 * ("; " between them).
 */
int berth_hooks_run_all(const struct berth_hook_list *hooks, const char *kind,
			const char *state_json, struct berth_error **err);

/* Send the pty master to the unix socket at path (runc's --console-socket protocol). */
int berth_console_send(const char *path, int master, const char *name, struct berth_error **err);

/*
 * In the container: open a new pty from /dev/ptmx, size it, make its slave our stdio and
 * controlling terminal, bind it onto /dev/console when mount_console, and send the master to the
 * runtime over the sync socket (BERTH_SYNC_PTY).
 */
int berth_console_setup(int sync, unsigned rows, unsigned cols, bool mount_console,
			struct berth_error **err);

/* Is the container's init process alive (not exited, not a zombie, not a reused pid)? */
bool berth_container_alive(const struct berth_container *c);

/*
 * The sync socket between the runtime and a process it is setting up (SOCK_SEQPACKET: one
 * message per send).  Each message is a type, an integer and optional text, and may carry one fd.
 */
enum berth_sync_type {
	BERTH_SYNC_GO = 1,	/* parent: the cgroup is ready, go on */
	BERTH_SYNC_USERNS,	/* child: I made a user namespace, write its maps */
	BERTH_SYNC_USERNS_DONE, /* parent: maps written */
	BERTH_SYNC_PID,		/* child: value is the container's init pid (after a fork) */
	BERTH_SYNC_HOOKS,	/* child: mounts done, run prestart + createRuntime hooks */
	BERTH_SYNC_HOOKS_DONE,	/* parent: done; value is the init's pid as the host sees it */
	BERTH_SYNC_PTY,		/* child: fd is the pty master, text its name */
	BERTH_SYNC_READY,	/* child: set up; now waiting for start */
	BERTH_SYNC_ERROR,	/* child: value is an errno, text the message */
};

#define BERTH_SYNC_TEXT_MAX 8192

struct berth_sync_msg {
	uint32_t type;
	int32_t value;
	char text[BERTH_SYNC_TEXT_MAX];
};

int berth_sync_send(int sock, enum berth_sync_type type, int32_t value, const char *text, int fd);

/* Receive one message; 0 at EOF, 1 on a message, negative errno. *ret_fd gets a passed fd. */
int berth_sync_recv(int sock, struct berth_sync_msg *m, int *ret_fd);

/* In a child: report err to the parent as BERTH_SYNC_ERROR and _exit(1). */
__attribute__((noreturn)) void berth_sync_fail(int sock, int r, struct berth_error *err);

/* Wait for a message of this type; an ERROR, EOF or other type is an error. */
int berth_sync_expect(int sock, enum berth_sync_type type, struct berth_sync_msg *m,
		      struct berth_error **err);

/*
 * clone(2) without a new stack, like fork() with namespace flags; returns as fork() does.  The
 * child is non-dumpable from its first instruction (CVE-2016-9962, docs/security.md): its /proc
 * files are root's and it cannot be ptraced by the container it enters.  It stays so until it
 * execs the container's process (call berth_keep_nondumpable() after each credential change).
 */
pid_t berth_clone(unsigned long flags);

/* PR_SET_DUMPABLE 0 again: after setns into a user namespace, setresuid/gid, capset. */
int berth_keep_nondumpable(struct berth_error **err);
/*
 * berth_clone (non-dumpable child included) with CLONE_PIDFD: in the parent, *ret_pidfd is the
 * child's pidfd (close-on-exec).
 * Kernels before 5.2 refuse the flag: then a pidfd_open of the new child, which cannot have been
 * reaped yet (it is our child and we have not waited), or an ENOSYS error.
 */
pid_t berth_clone_pidfd(unsigned long flags, int *ret_pidfd);

/*
 * Make fds[0..2] (when not NULL; -1 entries skipped) the calling process's stdin, stdout and
 * stderr, without closing the originals (they are close-on-exec anyway).  Runs in a child.
 */
int berth_apply_stdio(const int *fds, struct berth_error **err);

/* Open /proc/<pid>/ns/<name> for every namespace kind; -EBADF where the kind is shared with us. */
int berth_open_ns_of(pid_t pid, enum berth_ns_type t, int *ret_fd, struct berth_error **err);

/* The state JSON text a hook gets, with the status given. */
char *berth_hook_state(const struct berth_container *c, pid_t pid, const char *status);

/* Send a pty master on to its destination: the console socket, or ret_master. */
int berth_pty_forward(int master, const char *name, const char *console_socket, int *ret_master,
		      struct berth_error **err);
