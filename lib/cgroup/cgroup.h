/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * lib/cgroup: one interface, two drivers.  berth_cgroup_new() looks at the hierarchy once (statfs
 * of its root) and picks the cgroup v2 driver (a cgroup2 mount) or the v1 driver (a tmpfs with one
 * mount per controller, optionally a cgroup2 "unified" mount beside them: a hybrid host).  The
 * rest of berth never asks which.
 *
 * Resource values arrive in the OCI spec's units (v1 flavoured: cpu shares, blkio weight ...); the
 * v2 driver converts them as runc and crun do (shares -> cpu.weight, blkio weight -> io.weight,
 * swap limit -> memory.swap.max = swap - limit).
 */

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/base.h"

/* linux.resources.devices[]: the device cgroup allow/deny list, in order. */
struct berth_device_rule {
	bool allow;
	char type;	      /* 'a', 'c', 'b' */
	int64_t major, minor; /* -1 = any */
	char access[4];	      /* subset of "rwm", NUL-terminated */
};

struct berth_weight_device {
	int64_t major, minor;
	int64_t weight, leaf_weight; /* BERTH_UNSET when absent */
};

struct berth_throttle_device {
	int64_t major, minor;
	uint64_t rate;
};

struct berth_hugepage_limit {
	char *page_size; /* "2MB", "1GB" */
	uint64_t limit;
};

/* linux.resources; every integer is BERTH_UNSET when absent. */
struct berth_resources {
	/* memory */
	int64_t memory_limit, memory_reservation, memory_swap, memory_kernel, memory_kernel_tcp;
	int64_t memory_swappiness; /* 0..100 */
	int disable_oom_killer;	   /* -1 absent, 0, 1 */
	int use_hierarchy;	   /* -1 absent, 0, 1 */
	/* cpu */
	int64_t cpu_shares, cpu_quota, cpu_period, cpu_burst, cpu_realtime_runtime,
		cpu_realtime_period, cpu_idle;
	char *cpu_cpus, *cpu_mems;
	/* pids */
	int64_t pids_limit; /* -1 or 0: unlimited */
	/* blockIO */
	int64_t blkio_weight, blkio_leaf_weight;
	struct berth_weight_device *blkio_weight_device;
	size_t n_blkio_weight_device;
	struct berth_throttle_device *throttle_read_bps, *throttle_write_bps, *throttle_read_iops,
		*throttle_write_iops;
	size_t n_throttle_read_bps, n_throttle_write_bps, n_throttle_read_iops,
		n_throttle_write_iops;
	/* hugepageLimits */
	struct berth_hugepage_limit *hugepage_limits;
	size_t n_hugepage_limits;
	/* devices */
	struct berth_device_rule *devices;
	size_t n_devices;
	/* network (cgroup v1 net_cls / net_prio) */
	int64_t net_class_id;
	struct berth_key_value *net_priorities; /* value is the priority as text */
	size_t n_net_priorities;
	/* rdma: key = device, value = "hca_handle=N hca_object=M" */
	struct berth_key_value *rdma;
	size_t n_rdma;
	/* unified: cgroup v2 files by name, written as given */
	struct berth_key_value *unified;
	size_t n_unified;
};

/* An empty resources object: every value absent, no lists.  NULL on ENOMEM. */
struct berth_resources *berth_resources_new(void);
void berth_resources_free(struct berth_resources *r);

struct berth_cgroup;

#define BERTH_CGROUP_ROOT "/sys/fs/cgroup"

/*
 * Describe the cgroup at path (absolute within the hierarchy, e.g. "/berth/abc") under the
 * hierarchy mounted at root (NULL: /sys/fs/cgroup).  Picks the driver; touches nothing.
 */
int berth_cgroup_new(const char *root, const char *path, struct berth_cgroup **ret,
		     struct berth_error **err);
void berth_cgroup_free(struct berth_cgroup *cg);

/*
 * The shallowest directory berth_cgroup_create made for this cgroup (its path, or a parent it
 * had to make first), NULL when it made none or this is not known.  berth_cgroup_destroy
 * removes the cgroup and then its empty parents up to this one.  A caller that records it (a
 * runtime's state) hands it back with berth_cgroup_set_made_from; EINVAL when path is neither
 * the cgroup's path nor one of its parents.
 */
const char *berth_cgroup_made_from(const struct berth_cgroup *cg);
int berth_cgroup_set_made_from(struct berth_cgroup *cg, const char *path, struct berth_error **err);

/* "v1" or "v2" */
const char *berth_cgroup_driver(const struct berth_cgroup *cg);
const char *berth_cgroup_path(const struct berth_cgroup *cg);

/*
 * Create the cgroup (parents included), apply res (may be NULL) and move pid into it.  On failure
 * nothing is left behind: directories this call made are removed.
 */
int berth_cgroup_create(struct berth_cgroup *cg, const struct berth_resources *res, pid_t pid,
			struct berth_error **err);

/* Move pid into the existing cgroup (exec). */
int berth_cgroup_enter(struct berth_cgroup *cg, pid_t pid, struct berth_error **err);

/*
 * For processes that move themselves into the existing cgroup (an exec's child, before it runs
 * anything of the container's): open its cgroup.procs files (one per hierarchy on v1) and keep
 * them with cg until berth_cgroup_procs_close or berth_cgroup_free.  Opened O_CLOEXEC; a child
 * cloned afterwards inherits them.  A no-op when they are open already.
 */
int berth_cgroup_procs_open(struct berth_cgroup *cg, struct berth_error **err);

/*
 * Move the calling process into cg through the files berth_cgroup_procs_open opened (EBADF when
 * it did not): "0" written to each, so the caller's pid namespace does not matter.  A failure
 * part way leaves the process in some of the hierarchies: for a child that then exits.
 */
int berth_cgroup_join_self(const struct berth_cgroup *cg, struct berth_error **err);

/* Close what berth_cgroup_procs_open opened (a child closes its copies once it has joined). */
void berth_cgroup_procs_close(struct berth_cgroup *cg);

/* Apply the values set in res to the existing cgroup (update); absent values are left alone. */
int berth_cgroup_update(struct berth_cgroup *cg, const struct berth_resources *res,
			struct berth_error **err);

/* Freeze or thaw every process in the cgroup; returns once the kernel reports the new state. */
int berth_cgroup_freeze(struct berth_cgroup *cg, bool frozen, struct berth_error **err);
int berth_cgroup_is_frozen(struct berth_cgroup *cg, bool *ret, struct berth_error **err);

/* Every pid in the cgroup and its descendants; the caller frees *ret. */
int berth_cgroup_pids(struct berth_cgroup *cg, pid_t **ret, size_t *ret_n,
		      struct berth_error **err);

/* Send sig to every process in the cgroup (thawing it first for SIGKILL so the kill lands). */
int berth_cgroup_kill_all(struct berth_cgroup *cg, int sig, struct berth_error **err);

/* ---- statistics --------------------------------------------------------------------------- */

/* One memory counter as v1 keeps it (usage, peak, limit, times the limit was hit). */
struct berth_cgroup_mem_counter {
	uint64_t usage;
	uint64_t max_usage; /* the peak; 0 where the kernel keeps none */
	uint64_t limit;	    /* UINT64_MAX, or v1's page-rounded INT64_MAX, when unlimited */
	uint64_t failcnt;
};

/* A line of blkio.throttle.io_service_bytes / io_serviced (v1) or a field of io.stat (v2). */
struct berth_cgroup_io_entry {
	uint32_t major, minor;
	char op[8]; /* v1: "Read" "Write" "Sync" "Async" "Discard"; v2: "Read" "Write" */
	uint64_t value;
};

struct berth_cgroup_hugetlb_stats {
	char page_size[16]; /* "2MB", "1GB" */
	uint64_t usage;
	uint64_t max_usage; /* v1's max_usage_in_bytes; 0 on v2, which keeps no peak */
	uint64_t failcnt;   /* v1 failcnt; v2 hugetlb.<size>.events "max" */
};

struct berth_cgroup_stat_value {
	char *key;
	uint64_t value;
};

/*
 * What the kernel counts for a cgroup, read from the v1 or v2 files into one shape (the one
 * runc's `events --stats` and Docker's stats API are built from).  Times are nanoseconds.  A file
 * the kernel does not offer (a controller not enabled, an older kernel) leaves its fields 0.
 */
struct berth_cgroup_stats {
	struct {
		uint64_t total;	  /* cpuacct.usage; v2 cpu.stat usage_usec */
		uint64_t user;	  /* cpuacct.stat user (ticks -> ns); v2 user_usec */
		uint64_t system;  /* cpuacct.stat system; v2 system_usec */
		uint64_t *percpu; /* cpuacct.usage_percpu; none on v2 */
		size_t n_percpu;
		uint64_t periods, throttled_periods; /* cpu.stat nr_periods, nr_throttled */
		uint64_t throttled_time;	     /* cpu.stat throttled_time / throttled_usec */
	} cpu;
	struct {
		struct berth_cgroup_mem_counter usage; /* v2: memory.current/peak/max, events max */
		struct berth_cgroup_mem_counter swap;  /* v1 memsw (memory + swap); v2 swap alone */
		struct berth_cgroup_mem_counter kernel, kernel_tcp; /* v1 kmem only */
		uint64_t cache; /* memory.stat cache (v1) / file (v2) */
		uint64_t oom;	/* v2: memory.events "oom" (Docker's failcnt there); 0 on v1 */
		struct berth_cgroup_stat_value *stat; /* memory.stat, every key, in file order */
		size_t n_stat;
	} memory;
	struct {
		uint64_t current;
		uint64_t limit; /* 0: no limit (pids.max "max") */
	} pids;
	struct berth_cgroup_io_entry *io_bytes, *io_ops; /* per device and operation */
	size_t n_io_bytes, n_io_ops;
	struct berth_cgroup_hugetlb_stats *hugetlb; /* one per page size */
	size_t n_hugetlb;
};

/* Read the statistics of an existing cgroup; the caller frees *ret (berth_cgroup_stats_free). */
int berth_cgroup_stats(struct berth_cgroup *cg, struct berth_cgroup_stats **ret,
		       struct berth_error **err);
void berth_cgroup_stats_free(struct berth_cgroup_stats *s);
/* The value of key in memory.stat; 0 when absent. */
uint64_t berth_cgroup_stats_memory_stat(const struct berth_cgroup_stats *s, const char *key);

/* ---- events: out-of-memory ---------------------------------------------------------------- */

/*
 * A watch on a cgroup's out-of-memory events, for an event loop: its fd polls readable when
 * something may have happened, then berth_cgroup_events_read says what.  The one way berth learns
 * of OOMs (`berth-runtime events` and the shim use it); nothing polls on a timer.
 *   v1: an eventfd registered through cgroup.event_control for memory.oom_control (the kernel
 *       signals it when the OOM killer is invoked, and when the cgroup is removed), and a timer
 *       that re-reads memory.oom_control's oom_kill after a notification, because the kernel
 *       counts the kill only after it signalled;
 *   v2: inotify on memory.events (its "oom" and "oom_kill" counters, the subtree's).
 * Counters already above zero when the watch opens are its baseline, not events.  The watch owns
 * its fds; free it before the cgroup goes if you can (a removed cgroup is reported as gone, not
 * as an error).
 */
struct berth_cgroup_events;

struct berth_cgroup_event_counts {
	uint64_t oom;	   /* times the OOM killer was invoked in the cgroup since the last read */
	uint64_t oom_kill; /* processes the OOM killer killed in it since the last read */
	bool gone;	   /* the cgroup was removed: nothing more will come */
};

/* ENOTSUP (with a message) when the cgroup has no memory controller. */
int berth_cgroup_events_open(struct berth_cgroup *cg, struct berth_cgroup_events **ret,
			     struct berth_error **err);
/* The fd to poll for readability (EPOLLIN). */
int berth_cgroup_events_fd(const struct berth_cgroup_events *ev);
/*
 * What happened since the last read (all 0 when nothing did); never blocks.  A counter the kernel
 * shows malformed is an error naming it.
 */
int berth_cgroup_events_read(struct berth_cgroup_events *ev, struct berth_cgroup_event_counts *ret,
			     struct berth_error **err);
void berth_cgroup_events_free(struct berth_cgroup_events *ev);

/*
 * Remove the cgroup (all hierarchies, child cgroups first).  Processes still inside are killed
 * first.  A cgroup that does not exist is not an error.
 */
int berth_cgroup_destroy(struct berth_cgroup *cg, struct berth_error **err);

/*
 * The hierarchies a container's "cgroup" mount must show: for v2 a single entry "" (mount
 * cgroup2); for v1 one entry per mounted hierarchy, as its directory name under root
 * ("memory", "cpu,cpuacct", "systemd", "unified").  The caller frees with berth_strv_free.
 */
int berth_cgroup_hierarchies(const struct berth_cgroup *cg, char ***ret, struct berth_error **err);

/* What the host offers, for `features`: the v1/v2 layout and its controllers. */
int berth_cgroup_features(const char *root, json_t **ret, struct berth_error **err);
