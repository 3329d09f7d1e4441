/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * lib/dockerspec: what a Docker client asks for -> what lib/runtime runs.  Pure logic over
 * jansson documents, in four steps the daemon calls in order:
 *
 *   1. berth_dockerspec_create_normalize(): the body of POST /containers/create (Config fields at
 *      the top, HostConfig, NetworkingConfig) checked and completed as dockerd 28 does, with its
 *      messages; every refusal is a berth_error with code EINVAL (the API maps it to 400).
 *   2. berth_dockerspec_merge_image(): the image's config merged in (Env, ENTRYPOINT/CMD, User,
 *      WorkingDir, ExposedPorts, Volumes, Labels, StopSignal, Healthcheck); the result is what
 *      inspect shows as Config, and berth_dockerspec_path_args() gives Path and Args.
 *   3. berth_dockerspec_oci_spec(): the OCI runtime spec (config.json) for the container, with
 *      docker's defaults: capabilities, masked/read-only paths, mounts, devices and their cgroup
 *      rules, rlimits, resources, namespaces, sysctls, the user resolved inside the rootfs, and
 *      the seccomp profile (docker's default, a Docker-format file, or none).
 *   4. berth_dockerspec_seccomp_convert(): a Docker-format seccomp profile -> linux.seccomp
 *      (used by 3 for --security-opt seccomp=<file>; exported for the daemon's own
 *      --seccomp-profile check at start).
 *
 * Nothing here prints, forks or keeps state; the only I/O is reading the container's
 * /etc/passwd and /etc/group inside its rootfs, stat()ing device nodes for --device, and
 * berth_dockerspec_host_probe().  Documented in docs/dockerspec.md.
 */

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

#include "base/base.h"

/* Docker's defaults */
#define BERTH_DOCKERSPEC_DEFAULT_SHM_SIZE (64 * 1024 * 1024)
#define BERTH_DOCKERSPEC_MIN_MEMORY	  6291456 /* "Minimum memory limit allowed is 6MB" */
#define BERTH_DOCKERSPEC_DEFAULT_PATH	  "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define BERTH_DOCKERSPEC_INIT_PATH	  "/sbin/docker-init" /* where --init's binary is bound */
#define BERTH_DOCKERSPEC_API_VERSION	  "1.44" /* the newest API version berthd speaks */

/*
 * What the daemon knows about the host, found once at start (berth_dockerspec_host_probe) and
 * passed to every call: validation depends on it as dockerd's does on its sysinfo.  Tests fill
 * it by hand.
 */
struct berth_dockerspec_host {
	int ncpu;	   /* online CPUs ("Range of CPUs is from 0.01 to N.00") */
	char *cpus;	   /* cpuset the daemon may use, "0-1"; NULL: not checked */
	char *mems;	   /* memory nodes, "0"; NULL: not checked */
	bool cgroup2;	   /* a pure cgroup v2 host: cgroupns private by default */
	bool memory_limit; /* the memory controller is there */
	bool swap_limit;   /* memsw / memory.swap.max */
	bool memory_swappiness;
	bool memory_reservation;
	bool kernel_memory; /* v1 kmem.limit_in_bytes (gone since kernel 6.1) */
	bool oom_kill_disable;
	bool cpu_cfs; /* cpu quota/period */
	bool cpu_shares;
	bool cpuset;
	bool pids_limit;
	bool blkio_weight;	      /* v1 blkio.weight, v2 the io controller */
	bool seccomp;		      /* the kernel has seccomp filters */
	bool apparmor;		      /* AppArmor is enabled on the host */
	bool selinux;		      /* SELinux is enabled on the host */
	bool ping_group_range;	      /* /proc/sys/net/ipv4/ping_group_range exists */
	bool unprivileged_port_start; /* /proc/sys/net/ipv4/ip_unprivileged_port_start exists */
	unsigned kernel_major, kernel_minor; /* for seccomp minKernel */
	int cap_last_cap;		     /* highest capability number the kernel knows */
	/* the daemon's own effective set (bit n = capability n), as docker takes "all
	 * capabilities" from its own process; 0: every capability up to cap_last_cap */
	uint64_t cap_effective;
	char *arch;		 /* docker's (Go's) name of the native arch: "amd64", "arm64" ... */
	char *hostname;		 /* the host's, for NetworkMode host */
	char **thermal_throttle; /* /sys/devices/system/cpu/cpuN/thermal_throttle that exist */
};

/* Fill *ret from this host (/proc, /sys, uname).  Release with berth_dockerspec_host_release. */
int berth_dockerspec_host_probe(struct berth_dockerspec_host *ret, struct berth_error **err);
void berth_dockerspec_host_release(struct berth_dockerspec_host *h);

struct berth_dockerspec_ulimit {
	char *name; /* "nofile" (docker's names: RLIMIT_ without the prefix, lowercase) */
	int64_t soft, hard;
};

/* The daemon's options that shape containers (daemon.json / flags). */
struct berth_dockerspec_daemon {
	const char *cgroup_parent; /* --cgroup-parent; NULL: "/berth" (cgroupfs), "system.slice" */
	bool systemd_cgroup;	   /* cgroup driver systemd: cgroupsPath "<slice>:berth:<id>" */
	bool no_new_privileges;	   /* daemon default for no-new-privileges */
	bool init;		   /* daemon default for --init */
	const char *init_path;	   /* host path of the init bound at /sbin/docker-init */
	/* --seccomp-profile: NULL = docker's default; "unconfined"; else a Docker-format profile */
	const char *seccomp_profile;
	int64_t shm_size;	   /* 0: 64 MiB */
	const char *ipc_mode;	   /* NULL: "private" */
	const char *cgroupns_mode; /* NULL: "private" on cgroup v2, "host" on v1 */
	const struct berth_dockerspec_ulimit *default_ulimits;
	size_t n_default_ulimits;
};

/* ---- 1. the create request --------------------------------------------------------------- */

struct berth_dockerspec_create {
	json_t *config;		   /* Config (Image, Env, Cmd, ...), normalised */
	json_t *host_config;	   /* HostConfig with dockerd's defaults filled in */
	json_t *networking_config; /* as given (object), or an empty object */
	json_t *warnings;	   /* array of strings for the response's Warnings */
};

void berth_dockerspec_create_release(struct berth_dockerspec_create *c);

/*
 * Check and normalise the body of POST /containers/create (a JSON object: the Config fields at
 * the top level, "HostConfig", "NetworkingConfig") for API version api_version ("1.44"; NULL =
 * the newest).  Follows dockerd 28: field types (a wrong type is "invalid JSON: json: cannot
 * unmarshal ..."), restart policy, AutoRemove, capabilities, security options, resources
 * (memory, swap, reservation, kernel memory, swappiness, CPUs, CFS, cpusets, pids), IPC/PID/
 * UTS/user/cgroup namespace modes, network modes (none, host, default/bridge; container:<x>
 * and user networks are refused here until networking lands), tmpfs destinations, sysctls
 * (runc's namespaced list against the namespace modes), devices and device cgroup rules,
 * ulimits, env, working dir, stop signal, healthcheck.  Defaults filled as inspect shows them:
 * RestartPolicy {"no",0}, NetworkMode "bridge", ShmSize, IpcMode, CgroupnsMode, MemorySwap =
 * 2*Memory, OomKillDisable false, PidsLimit <= 0 -> null, KernelMemory dropped on API >= 1.42.
 *
 * On success *ret is filled (the caller releases it); the body is not changed.  On failure
 * returns -EINVAL with dockerd's message in *err (HTTP 400), -ENOMEM on allocation failure.
 * The Config's Hostname is left as given: the daemon sets the short id (or, with NetworkMode
 * host, host->hostname) once it has made the id.
 */
int berth_dockerspec_create_normalize(const json_t *body, const char *api_version,
				      const struct berth_dockerspec_host *host,
				      const struct berth_dockerspec_daemon *daemon,
				      struct berth_dockerspec_create *ret,
				      struct berth_error **err);

/*
 * Check and normalise the body of POST /containers/{id}/update (container.UpdateConfig: the
 * HostConfig's resource fields and RestartPolicy) as dockerd's verifyContainerSettings does with
 * update set: wrong types ("invalid JSON: json: cannot unmarshal string into Go struct field
 * UpdateConfig.Memory of type int64"), the resource limits' ranges, the restart policy when it
 * names one.  Keys outside UpdateConfig and nulls are dropped; PidsLimit <= 0 becomes 0
 * (unlimited), and is dropped before API 1.40.  *ret is the checked copy, *ret_warnings the
 * Warnings array (both the caller's).  -EINVAL with dockerd's message (HTTP 400).
 */
int berth_dockerspec_update_normalize(const json_t *body, const char *api_version,
				      const struct berth_dockerspec_host *host, json_t **ret,
				      json_t **ret_warnings, struct berth_error **err);

/*
 * Capability names as docker accepts them ("net_admin", "CAP_NET_ADMIN", "Net_Admin", "ALL")
 * -> "CAP_NET_ADMIN" / "ALL".  Returns a new string, or NULL with -EINVAL in *err: 'unknown
 * capability: "CAP_X"', or 'capability not supported by your kernel or not available in the
 * current environment: "CAP_X"' when host (may be NULL: not checked) lacks it.
 */
char *berth_dockerspec_cap_normalize(const char *name, const struct berth_dockerspec_host *host,
				     struct berth_error **err);

/*
 * Every capability host has ("CAP_..." names, docker's GetAllCapabilities): a new JSON array, or
 * NULL on ENOMEM.  What --privileged gives a container or an exec.
 */
json_t *berth_dockerspec_all_caps(const struct berth_dockerspec_host *host);

/* Is capability n available on host (cap_last_cap and cap_effective)? */
bool berth_dockerspec_cap_available(const struct berth_dockerspec_host *host, int n);

/* ---- 2. the image's config --------------------------------------------------------------- */

/*
 * Merge an image's config (its "config" object: Env, Cmd, Entrypoint, User, WorkingDir,
 * ExposedPorts, Volumes, Labels, StopSignal, Healthcheck; may be NULL) into a normalised Config,
 * in place, as dockerd's merge() does: User/WorkingDir/StopSignal when not given; Env: the
 * request's entries, then the image's whose key the request does not set; Labels, ExposedPorts
 * and Volumes: union, the request winning; Entrypoint/Cmd: when the request gives no
 * Entrypoint the image's Cmd is used unless the request gives Cmd, and the image's Entrypoint
 * unless the request gave an explicit empty Entrypoint ([] or [""]); a request Entrypoint drops
 * the image's Cmd.  Healthcheck: the request's fields, zero ones taken from the image.
 * Entrypoint [""] is then reset to null.  -EINVAL "no command specified" when neither
 * Entrypoint nor Cmd remains.
 */
int berth_dockerspec_merge_image(json_t *config, const json_t *image_config,
				 struct berth_error **err);

/*
 * Path and Args as inspect shows them: Entrypoint[0] and Entrypoint[1:] + Cmd, or Cmd[0] and
 * Cmd[1:] without Entrypoint.  *ret_path and *ret_args (NULL-terminated) are the caller's.
 */
int berth_dockerspec_path_args(const json_t *config, char **ret_path, char ***ret_args,
			       struct berth_error **err);

/*
 * The process environment as dockerd builds it: PATH=<default>, HOSTNAME=<Config.Hostname>,
 * TERM=xterm when Tty, then Config.Env replacing entries with the same key (an entry without
 * '=' removes the key).  Returns a JSON array of strings (new reference) or NULL on ENOMEM.
 */
json_t *berth_dockerspec_process_env(const json_t *config);

/* ---- 3. the OCI runtime spec ------------------------------------------------------------- */

/* A device node for the container, from a stat of the host's node. */
struct berth_dockerspec_device {
	char *path; /* inside the container */
	char type;  /* 'c' or 'b' */
	int64_t major, minor;
	uint32_t file_mode; /* st_mode & 07777 */
	uint32_t uid, gid;
	char permissions[4]; /* cgroup access: a subset of "rwm" */
};

void berth_dockerspec_devices_free(struct berth_dockerspec_device *d, size_t n);

/*
 * One HostConfig.Devices entry whose host path the daemon stat()ed (following a symlink, as
 * docker does): a character or block node -> *ret (the caller frees ret->path).  -EINVAL
 * "error gathering device information while adding custom device \"<host>\": not a device
 * node" for anything else; the permissions must be a non-empty subset of "rwm".
 */
int berth_dockerspec_device_from_stat(const char *path_on_host, const char *path_in_container,
				      const char *permissions, const struct stat *st,
				      struct berth_dockerspec_device *ret,
				      struct berth_error **err);

/*
 * The whole HostConfig.Devices entry as dockerd resolves it: stat the host path (a symlink is
 * followed), a device node gives one device, a directory gives every device node under it
 * (PathInContainer + the rest of the path).  *ret is appended to (realloc), *n updated.
 */
int berth_dockerspec_devices_from_host(const char *path_on_host, const char *path_in_container,
				       const char *permissions,
				       struct berth_dockerspec_device **ret, size_t *n,
				       struct berth_error **err);

/*
 * Every device node under dev_root ("/dev"), for --privileged, as containerd's HostDevices:
 * not under pts, shm, fd, mqueue, .lxc, .lxd-mounts, .udev, and not /dev/console.
 */
int berth_dockerspec_host_devices(const char *dev_root, struct berth_dockerspec_device **ret,
				  size_t *ret_n, struct berth_error **err);

/* A mount the daemon resolved (binds and volumes: later issues), in docker's terms. */
struct berth_dockerspec_mount {
	const char *source;	 /* host path */
	const char *destination; /* in the container */
	bool writable;
	bool non_recursive;	 /* "bind" instead of "rbind" */
	const char *propagation; /* NULL: "rprivate" */
};

/* The container the spec is made for. */
struct berth_dockerspec_container {
	const char *id;		      /* 64 hex digits */
	const json_t *config;	      /* merged Config (after step 2, Hostname set) */
	const json_t *host_config;    /* normalised HostConfig (step 1) */
	const char *rootfs;	      /* host path of the container's root (the merged overlay) */
	const char *hostname_path;    /* bound at /etc/hostname when not NULL */
	const char *hosts_path;	      /* bound at /etc/hosts when not NULL */
	const char *resolv_conf_path; /* bound at /etc/resolv.conf when not NULL */
	const char *shm_path;	      /* IpcMode shareable or container:X: the daemon's tmpfs (X's)
				       * bound at /dev/shm */
	const char *ipc_ns_path; /* IpcMode container:X: the path of X's IPC namespace, joined */
	const char *pid_ns_path; /* PidMode container:X: the path of X's PID namespace, joined */
	/* HostConfig.Devices resolved by the daemon (berth_dockerspec_devices_from_host), and for
	 * Privileged also the host's devices (berth_dockerspec_host_devices) */
	const struct berth_dockerspec_device *devices;
	size_t n_devices;
	const struct berth_dockerspec_mount *mounts;
	size_t n_mounts;
};

/*
 * The OCI runtime spec for a container (a new JSON object the caller owns), as dockerd 28 +
 * containerd generate it: process (args with --init, env, cwd, user resolved in the rootfs's
 * /etc/passwd and /etc/group opened inside the root, capabilities, rlimits from Ulimits and the
 * daemon's defaults, noNewPrivileges, oomScoreAdj, terminal, consoleSize), root, hostname,
 * mounts (proc, /dev, devpts, sysfs, cgroup, mqueue, shm, tmpfs mounts, the daemon's files and
 * mounts, the init), linux (cgroupsPath, resources, namespaces per mode, devices, sysctls,
 * maskedPaths, readonlyPaths, seccomp).  -EINVAL with a message naming the field when the
 * request cannot be applied (unknown user or group, a bad seccomp profile ...).
 */
int berth_dockerspec_oci_spec(const struct berth_dockerspec_container *c,
			      const struct berth_dockerspec_daemon *daemon,
			      const struct berth_dockerspec_host *host, json_t **ret_spec,
			      struct berth_error **err);

/* The user a container runs as, resolved as docker does. */
struct berth_dockerspec_user {
	uint32_t uid, gid;
	uint32_t *additional_gids; /* docker's order: gid, then /etc/group memberships, GroupAdd */
	size_t n_additional_gids;
	char *home; /* from passwd; "/" when not found */
};

void berth_dockerspec_user_release(struct berth_dockerspec_user *u);

/*
 * Resolve "name|uid[:group|gid]" (empty: root) and group_add (names or gids) against
 * etc/passwd and etc/group of the root at rootfd, both opened INSIDE that root (openat2
 * RESOLVE_IN_ROOT, or a walk that resolves each symlink against the root when openat2 is
 * missing): an absolute symlink or ../ never reaches the host's files.  Missing files are empty
 * databases.  Errors (-EINVAL): "unable to find user x: no matching entries in passwd file",
 * "unable to find group x: no matching entries in group file", "invalid ..." for out-of-range
 * numbers.
 */
int berth_dockerspec_resolve_user(int rootfd, const char *user, const json_t *group_add,
				  struct berth_dockerspec_user *ret, struct berth_error **err);

/* ---- 4. seccomp -------------------------------------------------------------------------- */

/* What a profile's includes/excludes are checked against. */
struct berth_dockerspec_seccomp_target {
	const char *arch;		     /* docker's arch name: "amd64" */
	char *const *caps;		     /* the process's bounding set, "CAP_..." names */
	unsigned kernel_major, kernel_minor; /* for minKernel */
};

/*
 * A Docker-format seccomp profile (defaultAction, defaultErrnoRet, architectures or archMap,
 * syscalls with name/names, action, errnoRet, args, includes/excludes by caps, arches and
 * minKernel, flags, listenerPath ...) -> the OCI linux.seccomp object for target, as moby's
 * profiles/seccomp does: archMap picks the native arch and its sub-arches; a rule is kept when
 * every include matches and no exclude does.  *ret is NULL (no seccomp) for a profile with
 * neither defaultAction nor syscalls.  -EINVAL "Decoding seccomp profile failed: ..." and the
 * other messages of dockerd for bad profiles.
 */
int berth_dockerspec_seccomp_convert(const char *profile, size_t len,
				     const struct berth_dockerspec_seccomp_target *target,
				     json_t **ret, struct berth_error **err);

/* docker's default profile (kept in seccomp-default.c as our own data) converted for target. */
int berth_dockerspec_seccomp_default(const struct berth_dockerspec_seccomp_target *target,
				     json_t **ret, struct berth_error **err);

/* docker's default capability set, NULL-terminated, static. */
extern const char *const berth_dockerspec_default_caps[];
