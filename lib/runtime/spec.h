/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * The OCI runtime configuration (config.json), Linux part, as typed C.  berth_spec_parse() checks
 * every field's type and range so that the code that applies a spec never meets a surprise.
 *
 * Optional integers use BERTH_UNSET (INT64_MIN) for "absent"; -1 keeps the spec's meaning
 * (unlimited) where the spec gives it one.
 */

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/base.h"
#include "cgroup/cgroup.h"

#define BERTH_SPEC_MAX_SIZE (16u << 20) /* config.json and process.json larger than this: refused */

struct berth_id_mapping {
	uint32_t container_id;
	uint32_t host_id;
	uint32_t size;
};

/* One entry of mounts[]; options are also decoded into flags for mount(2). */
struct berth_mount {
	char *destination;
	char *type;   /* may be NULL: a bind mount when options say bind/rbind */
	char *source; /* may be NULL */
	char **options;

	/* decoded from options */
	unsigned long flags;	   /* MS_* set for mount(2), e.g. MS_RDONLY|MS_NOSUID|MS_BIND */
	unsigned long clear_flags; /* MS_* explicitly cleared (rw, suid, dev, exec ...) */
	unsigned long propagation; /* MS_SHARED/MS_SLAVE/MS_PRIVATE/MS_UNBINDABLE [|MS_REC] */
	unsigned long attr_set;	   /* MOUNT_ATTR_* for mount_setattr (ro, nosuid ... on binds) */
	unsigned long attr_clr;	   /* MOUNT_ATTR_* to clear */
	bool bind;		   /* bind or rbind */
	bool recursive;		   /* rbind */
	bool idmap;		   /* idmap/ridmap: use uid_mappings/gid_mappings below */
	bool idmap_recursive;	   /* ridmap: idmap every mount of an rbind, not just the top */
	bool tmpcopyup;		   /* tmpfs: copy what the image has at destination into it */
	char *data;		   /* options mount(2) does not know, comma-joined, or NULL */
	struct berth_id_mapping *uid_mappings;
	size_t n_uid_mappings;
	struct berth_id_mapping *gid_mappings;
	size_t n_gid_mappings;
};

struct berth_rlimit {
	int resource; /* RLIMIT_* */
	uint64_t soft;
	uint64_t hard;
};

struct berth_capabilities {
	bool present; /* "capabilities" was given at all */
	uint64_t bounding, effective, inheritable, permitted, ambient; /* bit n = capability n */
};

struct berth_process {
	bool terminal;
	unsigned console_height, console_width; /* 0 when consoleSize is absent */
	uid_t uid;
	gid_t gid;
	int64_t umask; /* BERTH_UNSET: leave the runtime's default (0022) */
	gid_t *additional_gids;
	size_t n_additional_gids;
	char **args; /* at least one */
	char **env;
	char *cwd; /* absolute */
	struct berth_capabilities caps;
	struct berth_rlimit *rlimits;
	size_t n_rlimits;
	bool no_new_privileges;
	int64_t oom_score_adj; /* BERTH_UNSET or -1000..1000 */
	char *apparmor_profile;
	char *selinux_label;
	/* ioPriority */
	int io_priority_class; /* -1 when absent, else IOPRIO_CLASS_RT/BE/IDLE */
	int io_priority;
	/* scheduler */
	bool has_scheduler;
	int sched_policy; /* SCHED_* */
	int sched_nice;
	int sched_priority;
	uint64_t sched_flags;
	uint64_t sched_runtime, sched_deadline, sched_period;
	/* execCPUAffinity */
	char *exec_cpu_affinity_initial;
	char *exec_cpu_affinity_final;
};

struct berth_hook {
	char *path;
	char **args;
	char **env;
	int timeout; /* seconds; 0 = none */
};

struct berth_hook_list {
	struct berth_hook *hooks;
	size_t n;
};

struct berth_hooks {
	struct berth_hook_list prestart, create_runtime, create_container, start_container,
		poststart, poststop;
};

enum berth_ns_type {
	BERTH_NS_PID,
	BERTH_NS_NETWORK,
	BERTH_NS_MOUNT,
	BERTH_NS_IPC,
	BERTH_NS_UTS,
	BERTH_NS_USER,
	BERTH_NS_CGROUP,
	BERTH_NS_TIME,
	BERTH_NS_COUNT
};

struct berth_namespace {
	bool present;
	char *path; /* NULL: a new namespace; else join this one */
};

struct berth_device {
	char *path;
	char type; /* 'c', 'b', 'u' (== 'c'), 'p' */
	int64_t major, minor;
	int64_t file_mode; /* BERTH_UNSET: 0666 */
	int64_t uid, gid;  /* BERTH_UNSET: 0 */
};

struct berth_seccomp_arg {
	unsigned index;
	uint64_t value, value_two;
	int op; /* SCMP_CMP_* from libseccomp's enum scmp_compare */
};

struct berth_seccomp_rule {
	char **names;
	uint32_t action;   /* SCMP_ACT_* without errno; see errno_ret */
	int64_t errno_ret; /* BERTH_UNSET: EPERM for SCMP_ACT_ERRNO, 0 for TRACE */
	struct berth_seccomp_arg *args;
	size_t n_args;
};

struct berth_seccomp {
	uint32_t default_action;
	int64_t default_errno_ret;
	char **architectures; /* "SCMP_ARCH_X86_64" ... */
	char **flags;	      /* "SECCOMP_FILTER_FLAG_LOG" ... */
	char *listener_path;
	char *listener_metadata;
	struct berth_seccomp_rule *syscalls;
	size_t n_syscalls;
};

struct berth_time_offset {
	bool present;
	int64_t secs;
	uint32_t nanosecs;
};

struct berth_linux {
	struct berth_id_mapping *uid_mappings;
	size_t n_uid_mappings;
	struct berth_id_mapping *gid_mappings;
	size_t n_gid_mappings;
	struct berth_key_value *sysctl;
	size_t n_sysctl;
	struct berth_resources *resources; /* NULL when absent */
	char *cgroups_path;
	struct berth_namespace namespaces[BERTH_NS_COUNT];
	struct berth_device *devices;
	size_t n_devices;
	struct berth_seccomp *seccomp;	  /* NULL when absent */
	unsigned long rootfs_propagation; /* 0 when absent, else MS_SHARED/... [|MS_REC] */
	char **masked_paths;
	char **readonly_paths;
	char *mount_label;
	bool has_personality;
	unsigned long personality; /* PER_LINUX or PER_LINUX32, with flags */
	struct berth_time_offset time_monotonic, time_boottime;
};

struct berth_spec {
	char *oci_version;
	char *root_path; /* as written; relative to the bundle when not absolute */
	bool root_readonly;
	struct berth_mount *mounts;
	size_t n_mounts;
	struct berth_process *process; /* NULL is allowed for create only when never started */
	char *hostname;
	char *domainname;
	struct berth_hooks hooks;
	struct berth_key_value *annotations;
	size_t n_annotations;
	struct berth_linux linux_;
	json_t *json; /* the document as given, kept for state and hooks */
};

/*
 * Parse config.json text.  Every type and range is checked; the error names the field
 * ("linux.resources.memory.limit: expected an integer").  The caller frees with berth_spec_free.
 */
int berth_spec_parse(const char *data, size_t len, struct berth_spec **ret,
		     struct berth_error **err);

/*
 * Parse a config already in memory as a JSON object (the shim's in-memory spec), with the same
 * checks.  j is borrowed: the spec keeps a deep copy.
 */
int berth_spec_parse_json(const json_t *j, struct berth_spec **ret, struct berth_error **err);

/* Read and parse the config.json of a bundle directory. */
int berth_spec_load_bundle(const char *bundle, struct berth_spec **ret, struct berth_error **err);

/*
 * Parse JSON text as berth_spec_parse does: at most BERTH_SPEC_MAX_SIZE bytes, and integer
 * literals up to 2^64-1 (jansson alone refuses those above INT64_MAX; they arrive as the int64 of
 * the same bits, which the uint64 fields read back).  Use these to load the JSON given to
 * berth_process_parse and berth_resources_parse: a process.json from podman may hold an rlimit of
 * 18446744073709551615.
 */
int berth_spec_json_parse(const char *data, size_t len, json_t **ret, struct berth_error **err);
int berth_spec_json_load_file(const char *path, json_t **ret, struct berth_error **err);

/* Parse a "process" object alone (berth-runtime exec --process FILE). */
int berth_process_parse(json_t *j, struct berth_process **ret, struct berth_error **err);

/* Parse a "linux.resources" object alone (berth-runtime update -r FILE). */
int berth_resources_parse(json_t *j, struct berth_resources **ret, struct berth_error **err);

void berth_spec_free(struct berth_spec *s);
void berth_process_free(struct berth_process *p);

static inline void berth_spec_freep(struct berth_spec **s)
{
	berth_spec_free(*s);
	*s = NULL;
}
#define _cleanup_spec_ _cleanup_(berth_spec_freep)

/* Namespace names as the spec writes them ("pid", "network", ...) and their CLONE_NEW* flag. */
const char *berth_ns_name(enum berth_ns_type t);
int berth_ns_clone_flag(enum berth_ns_type t);
/* "pid" -> BERTH_NS_PID; -1 when unknown. */
int berth_ns_from_name(const char *name);
/* The name /proc/PID/ns/<name> uses: "pid", "net", "mnt", "ipc", "uts", "user", "cgroup", "time". */
const char *berth_ns_proc_name(enum berth_ns_type t);

/* RLIMIT name ("RLIMIT_NOFILE") -> resource; -1 when unknown. */
int berth_rlimit_from_name(const char *name);

/*
 * The default config.json berth-runtime spec writes: busybox-friendly runc defaults (sh,
 * terminal, readonly root, the usual mounts, masked and readonly paths, namespaces).  With
 * rootless, a user namespace mapping the calling uid/gid and no network namespace.
 */
json_t *berth_spec_default(bool rootless);
