/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * Internal to lib/runtime: the steps that turn a parsed spec into a running process, one file a
 * concern.  container.c calls them in order; the order and the reasons for it are explained
 * there.  Every function here runs in the container's init (or exec) process unless it says
 * otherwise, so none may allocate through anything that takes locks shared with another thread
 * (there are none: no threads in a process that clones).
 */

#include "runtime.h"

/* ---- rootfs.c / mounts.c / devices.c ---------------------------------------------------- */

struct berth_rootfs_ctx {
	const struct berth_spec *spec;
	const char *rootfs;	     /* absolute host path of the root filesystem */
	const char *bundle;	     /* absolute bundle directory */
	struct berth_cgroup *cgroup; /* the container's cgroup, for "cgroup" mounts; may be NULL */
	bool new_userns;	     /* created a user namespace: no mknod, bind host devices */
	bool new_cgroupns;
	bool no_pivot; /* --no-pivot: MS_MOVE + chroot instead of pivot_root */
	/*
	 * No mount namespace in the config: the container shares the caller's.  The mounts are
	 * made there (the parent records them and delete removes them), "/" keeps its
	 * propagation, and the process is chroot'ed into the rootfs.
	 */
	bool shared_mountns;
};

/*
 * Mount points at or below dir in our mount namespace, from /proc/self/mountinfo: their mount
 * ids and paths, deepest last as the kernel lists them.  The caller frees *ret_paths (strv) and
 * *ret_ids.
 */
int berth_mounts_below(const char *dir, int **ret_ids, char ***ret_paths, size_t *ret_n,
		       struct berth_error **err);

/* Unmount (lazily) each path of the strv that is still a mount point, the last one first. */
void berth_unmount_all(char **paths);

/*
 * In the container's (new) mount namespace, before pivot_root: make / non-shared, bind the
 * rootfs onto itself, mount every mounts[] entry inside it (destinations resolved inside the
 * rootfs, never escaping through symlinks or ".."), create the default /dev and linux.devices.
 */
int berth_rootfs_prepare(const struct berth_rootfs_ctx *ctx, struct berth_error **err);

/* pivot_root into the rootfs (or move + chroot) and detach the old root; cwd becomes "/". */
int berth_rootfs_pivot(const struct berth_rootfs_ctx *ctx, struct berth_error **err);

/*
 * After pivot and after the console: remount / read-only when root.readonly, apply
 * readonlyPaths and maskedPaths, set rootfsPropagation.
 */
int berth_rootfs_finalize(const struct berth_rootfs_ctx *ctx, struct berth_error **err);

/* Mount options this build understands, for `features` (NULL-terminated, static). */
const char *const *berth_mount_known_options(void);

/*
 * Decode m->options into m's flag fields (spec parsing calls it for every mount); unknown
 * options are kept in m->data for the filesystem.  EINVAL names the bad option.
 */
int berth_mount_parse_options(struct berth_mount *m, struct berth_error **err);

/* ---- process.c / caps.c ------------------------------------------------------------------ */

/*
 * Runs in the parent (runtime) process, before anything is made: refuse what cannot be applied
 * (an LSM label the host lacks, capabilities the process could not be granted -- unless it gets
 * a user namespace, in_userns, where it holds all of them) and drop ambient capabilities that are
 * not both permitted and inheritable, as runc and crun do, with a debug line on log (the
 * context's; may be NULL) for each.
 */
int berth_process_prepare(struct berth_process *p, bool in_userns, const struct berth_log *log,
			  struct berth_error **err);

/* setrlimit for each process.rlimits entry. */
int berth_process_apply_rlimits(const struct berth_process *p, struct berth_error **err);

/*
 * ioPriority, scheduler, personality, execCPUAffinity.initial, apparmor and selinux labels
 * (refused with the reason when the host cannot apply them).
 */
int berth_process_apply_attrs(const struct berth_process *p, const struct berth_linux *linux_,
			      struct berth_error **err);

/*
 * Write oomScoreAdj to /proc/<pid>/oom_score_adj of the child being set up, from the parent
 * (runtime) process: the child is non-dumpable, so once in a user namespace that does not map
 * the host's root it could not write its own /proc files.  pid 0: /proc/self, for a child that
 * has not joined any namespace yet (exec's).
 */
int berth_process_apply_oom_score_adj(pid_t pid, const struct berth_process *p,
				      struct berth_error **err);

/*
 * Runs in the parent (runtime) process: set execCPUAffinity.final on pid once it is in the
 * container's cgroup (the cgroup's cpuset would otherwise override it).  No-op when absent.
 */
int berth_process_apply_final_affinity(pid_t pid, const struct berth_process *p,
				       struct berth_error **err);

/*
 * Become the process's user: drop the bounding set, setgroups(additionalGids), setresgid,
 * setresuid keeping capabilities, then set effective/permitted/inheritable and raise ambient;
 * umask; noNewPrivileges.  After this only seccomp and exec remain.
 */
int berth_process_apply_identity(const struct berth_process *p, struct berth_error **err);

/*
 * Resolve args[0] the way runc does: a name without '/' is looked up in the PATH of the
 * process's env (default "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin").
 * ENOENT: `exec: "x": executable file not found in $PATH`; EACCES when not executable.
 */
int berth_process_find_executable(const struct berth_process *p, char **ret_path,
				  struct berth_error **err);

/* ---- seccomp.c --------------------------------------------------------------------------- */

struct berth_seccomp_filter;

/* Build (not load) the filter described by s.  Unknown syscalls on this arch are skipped. */
int berth_seccomp_compile(const struct berth_seccomp *s, struct berth_seccomp_filter **ret,
			  struct berth_error **err);

/*
 * Load the filter into this process.  When the spec asked for a listener (SCMP_ACT_NOTIFY or
 * listenerPath), *ret_listener_fd receives the notification fd, else -EBADF.
 */
int berth_seccomp_load(struct berth_seccomp_filter *f, int *ret_listener_fd,
		       struct berth_error **err);

/*
 * Generate the filter's BPF program once (not with SCMP_ACT_NOTIFY), so that later loads are a
 * bare seccomp(2): libseccomp generates it again on each load, ~20 ms for docker's profile.  For
 * a filter loaded many times (every exec of a container).
 */
int berth_seccomp_prepare(struct berth_seccomp_filter *f, struct berth_error **err);

/*
 * berth_seccomp_compile, then berth_seccomp_prepare, with the program kept in cache_dir (made
 * 0700 when missing): a later container with the same profile reads the program instead of
 * having libseccomp generate it (~10 ms of every container with docker's profile).  A file holds
 * the profile's whole text and is used only when that text is equal.  cache_dir NULL, a
 * listener, or any failure of the cache: as berth_seccomp_compile alone.
 */
int berth_seccomp_compile_cached(const struct berth_seccomp *s, const char *cache_dir,
				 struct berth_seccomp_filter **ret, struct berth_error **err);

void berth_seccomp_filter_free(struct berth_seccomp_filter *f);

/* The seccomp part of `features`: actions, operators, archs, flags. */
json_t *berth_seccomp_features(void);
