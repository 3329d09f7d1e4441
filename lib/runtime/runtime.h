/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * lib/runtime: OCI bundle -> running, isolated, limited process.  Its public face is the spec
 * (spec.h) and the container lifecycle below; berth-runtime's commands and berthd's shim are thin
 * layers over it.  docs/runtime-api.md is the guide: who owns what, how a shim waits for its
 * processes (berth_pidfd, lib/base/loop.h), what the library logs.
 *
 * The library never prints and never blocks waiting for a container's process: create, start
 * and exec return once the process exists (or runs), and the caller waits for it through the
 * pidfd they hand out, in its own event loop.
 */

#include "spec.h"

#include <signal.h>

/*
 * The context of every call (crun's libcrun_context): runc's global options and where the
 * library's log lines go.  Every container loaded or created through it keeps a copy of log.
 */
struct berth_runtime_opts {
	const char *state_root;	 /* where containers' state lives; default /run/berth-runtime */
	const char *cgroup_root; /* NULL: /sys/fs/cgroup */
	bool systemd_cgroup;	 /* cgroupsPath is "slice:prefix:name" */
	/*
	 * NULL, or a root-only directory where compiled seccomp programs are kept by profile, so
	 * that containers with the same profile skip libseccomp's generation (the daemon's shims).
	 */
	const char *seccomp_cache;
	struct berth_log log; /* debug lines and warnings; zeroed: dropped (base/core.h) */
};

enum berth_status {
	BERTH_STATUS_CREATING,
	BERTH_STATUS_CREATED,
	BERTH_STATUS_RUNNING,
	BERTH_STATUS_PAUSED,
	BERTH_STATUS_STOPPED,
};

/* "creating", "created", "running", "paused", "stopped" */
const char *berth_status_name(enum berth_status s);

/*
 * A container as its state directory (<state_root>/<id>/) records it.  Loaded by every command;
 * only create and delete change the directory itself.
 */
struct berth_container {
	char *id;
	char *state_dir;
	char *bundle;
	char *rootfs;
	pid_t pid;		 /* the init process; 0 before it exists */
	uint64_t pid_start_time; /* guards against pid reuse */
	pid_t creator;		 /* the `create` process, while pid is 0 */
	uint64_t creator_start_time;
	char *created; /* RFC 3339, UTC, nanoseconds */
	uid_t owner;
	bool systemd_cgroup;
	struct berth_cgroup *cgroup;
	struct berth_spec *spec; /* the config.json the container was created from */
	json_t *annotations;	 /* kept as given, for the state */
	/* no mount namespace: the mounts its init made in ours, for delete to unmount (strv) */
	char **host_mounts;
	struct berth_log log; /* the context's, from create or load */
	/* the spec's seccomp filter as a ready program for exec: create's own (the shim that
	 * created the container never compiles it again), else compiled by the first exec and kept
	 * for the next ones (docker's profile takes ~20 ms in libseccomp) */
	struct berth_seccomp_filter *exec_seccomp;
};

/*
 * Options of create and run.
 *
 * stdio: NULL, or three fds that become the process's stdin, stdout and stderr (-1: that one is
 * inherited from the caller, as all three are with NULL).  The library dups them into the
 * process and never closes or keeps them: the caller closes its copies once create (or exec)
 * returns -- the write end of a stdout pipe, say, so that it sees EOF when the container's last
 * holder exits.  Not with process.terminal: a terminal is the process's stdio.
 */
struct berth_create_opts {
	/*
	 * The bundle directory: config.json is read from it (unless config is given), a relative
	 * root.path and relative hook and mount paths resolve against it, and the state records
	 * it.  Default: the current directory.
	 */
	const char *bundle;
	/*
	 * The container's config as a JSON object instead of <bundle>/config.json: the daemon's
	 * shim builds it in memory.  Borrowed: the library keeps its own copy.  NULL: read the file.
	 */
	const json_t *config;
	const char *pid_file;	    /* write the init pid here */
	const char *console_socket; /* send the pty master here (terminal: true) */
	int preserve_fds;	    /* pass fds 3 .. 3+N-1 on to the process */
	bool no_pivot;
	bool no_new_keyring;
	const int *stdio; /* see above */
	/*
	 * terminal: true and no console socket: the pty master comes back here instead (the caller
	 * copies I/O).  NULL otherwise.  The caller owns it.
	 */
	int *ret_pty_master;
	/*
	 * When not NULL, receives a wait handle for the init process (base/core.h), owned by the
	 * caller.  The init is the caller's child (the common case) or, when create had to fork it
	 * (joining a pid namespace, a time namespace, joins with a user namespace), its grandchild,
	 * which becomes the caller's child only when the caller is a subreaper
	 * (PR_SET_CHILD_SUBREAPER): only then does the handle give the exit status.
	 */
	struct berth_pidfd **ret_pidfd;
};

/* Options of exec: as for create (stdio, ret_pty_master, ret_pidfd); the process is our child. */
struct berth_exec_opts {
	const char *pid_file;
	const char *console_socket;
	int preserve_fds;
	bool detach; /* the process outlives us (no parent-death signal) */
	const int *stdio;
	int *ret_pty_master;
	struct berth_pidfd **ret_pidfd;
};

/* ID rules as runc's: [A-Za-z0-9][A-Za-z0-9_+.-]*, at most 1024 bytes, not "." or "..". */
int berth_container_validate_id(const char *id, struct berth_error **err);

/*
 * Create the container: state directory, namespaces, cgroup, mounts, hooks up to
 * createContainer; the process then waits for berth_container_start().  On failure everything
 * made so far is undone (process, cgroup, state directory) and the error says what failed.
 */
int berth_container_create(const struct berth_runtime_opts *o, const char *id,
			   const struct berth_create_opts *co, struct berth_container **ret,
			   struct berth_error **err);

/* Load the state of an existing container: ENOENT "container 'x' does not exist". */
int berth_container_load(const struct berth_runtime_opts *o, const char *id,
			 struct berth_container **ret, struct berth_error **err);

/* Every container under state_root, sorted by id; unreadable entries are skipped. */
int berth_container_list(const struct berth_runtime_opts *o, struct berth_container ***ret,
			 size_t *ret_n, struct berth_error **err);

/*
 * A wait handle for the init of a container loaded from its state (events, a shim that
 * restarted): pidfd_open, then the start time checked so that the handle cannot name a process
 * that reused the pid.  ESRCH when the init is gone.  Gives the exit status only to the init's
 * parent or subreaper.
 */
int berth_container_open_pidfd(struct berth_container *c, struct berth_pidfd **ret,
			       struct berth_error **err);

/* The status now (looks at the process, the exec fifo and the freezer). */
enum berth_status berth_container_status(struct berth_container *c);

/* The OCI state document: ociVersion, id, status, pid, bundle, annotations (+ runc's extras). */
json_t *berth_container_state_json(struct berth_container *c);

/*
 * Let a created container run its process (its startContainer hooks run inside it first), then
 * run the poststart hooks.  Returns 0; 1 when only a poststart hook failed (the container runs;
 * *err says what failed, for a warning); negative on failure.
 */
int berth_container_start(struct berth_container *c, struct berth_error **err);

/* Send sig to the init process, or with all to every process in the container. */
int berth_container_kill(struct berth_container *c, int sig, bool all, struct berth_error **err);

/*
 * Remove a stopped container (with force: kill it first): cgroup, state directory, poststop
 * hooks.
 */
int berth_container_delete(struct berth_container *c, bool force, struct berth_error **err);

/*
 * Run p inside the running container; *ret_pid is its pid.  Returns once it has exec'd (or
 * failed: the error says why).  Wait for it through eo->ret_pidfd.
 */
int berth_container_exec(struct berth_container *c, const struct berth_process *p,
			 const struct berth_exec_opts *eo, pid_t *ret_pid,
			 struct berth_error **err);

int berth_container_pause(struct berth_container *c, struct berth_error **err);
int berth_container_resume(struct berth_container *c, struct berth_error **err);

/*
 * Apply new resource limits (a linux.resources object; absent values are left alone) and record
 * them in the container's config.
 */
int berth_container_update(struct berth_container *c, json_t *resources, struct berth_error **err);

/*
 * Remove what a create that died half-way left: the state directory of id and its cgroup.
 * Only for containers whose state says no process was ever started.
 */
int berth_container_remove_stale(const struct berth_runtime_opts *o, const char *id,
				 struct berth_error **err);

void berth_container_free(struct berth_container *c);
static inline void berth_container_freep(struct berth_container **c)
{
	berth_container_free(*c);
	*c = NULL;
}
#define _cleanup_container_ _cleanup_(berth_container_freep)

/* The `features` document (runtime-spec features.md). */
json_t *berth_runtime_features(const struct berth_runtime_opts *o);
