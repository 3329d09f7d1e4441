/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * Inside lib/cgroup: the driver table, the object both drivers share, and helpers for reading
 * and writing cgroup files.  Nothing outside lib/cgroup (except its unit test) includes this.
 */

#include <stdbool.h>

#include "cgroup.h"

/* Caps on what we read back from the kernel (cgroup.procs of a big cgroup can be long). */
#define CG_FILE_MAX  (256 * 1024)
#define CG_PROCS_MAX (16 * 1024 * 1024)

/* One cgroup v1 hierarchy (or the cgroup2 "unified" mount of a hybrid host). */
struct cg_hierarchy {
	char *mount;	    /* absolute mount point, "/sys/fs/cgroup/memory" */
	char *name;	    /* its directory name under root: "memory", "cpu,cpuacct", "unified" */
	char **controllers; /* "memory", "cpu", "name=systemd"; empty for the cgroup2 mount */
	bool unified;	    /* the cgroup2 mount of a hybrid host */
};

struct berth_cgroup_ops;

struct berth_cgroup {
	const struct berth_cgroup_ops *ops;
	char *root; /* the hierarchy root, "/sys/fs/cgroup" */
	char *path; /* "/berth/abc": starts with '/', no "." or ".." components, no "//" */
	/* the shallowest directory create made (path or a parent of it), NULL if none known */
	char *made_from;
	/* v1 only */
	struct cg_hierarchy *hier;
	size_t n_hier;
	/* the cgroup.procs files, once berth_cgroup_procs_open opened them (n_procs 0 before) */
	int *procs_fds;
	char **procs_paths; /* their paths, for errors */
	size_t n_procs;
};

/* One driver.  berth_cgroup_new picks the table once; cgroup.c only forwards. */
struct berth_cgroup_ops {
	const char *name;
	int (*create)(struct berth_cgroup *cg, const struct berth_resources *res, pid_t pid,
		      struct berth_error **err);
	int (*enter)(struct berth_cgroup *cg, pid_t pid, struct berth_error **err);
	int (*update)(struct berth_cgroup *cg, const struct berth_resources *res,
		      struct berth_error **err);
	int (*freeze)(struct berth_cgroup *cg, bool frozen, struct berth_error **err);
	int (*is_frozen)(struct berth_cgroup *cg, bool *ret, struct berth_error **err);
	int (*pids)(struct berth_cgroup *cg, pid_t **ret, size_t *ret_n, struct berth_error **err);
	int (*kill_all)(struct berth_cgroup *cg, int sig, struct berth_error **err);
	int (*stats)(struct berth_cgroup *cg, struct berth_cgroup_stats *st,
		     struct berth_error **err);
	int (*events_open)(struct berth_cgroup *cg, struct berth_cgroup_events **ret,
			   struct berth_error **err);
	int (*destroy)(struct berth_cgroup *cg, struct berth_error **err);
	int (*hierarchies)(const struct berth_cgroup *cg, char ***ret, struct berth_error **err);
	/* the directories a process is in when it is in the cgroup: one per hierarchy on v1 */
	int (*dirs)(const struct berth_cgroup *cg, char ***ret, struct berth_error **err);
};

extern const struct berth_cgroup_ops cg_v1_ops;
extern const struct berth_cgroup_ops cg_v2_ops;

enum cg_driver {
	CG_DRIVER_AUTO, /* statfs(root), as berth_cgroup_new does */
	CG_DRIVER_V1,
	CG_DRIVER_V2,
};

/*
 * berth_cgroup_new with the driver forced and the mount table taken from mountinfo (NULL:
 * /proc/self/mountinfo).  For unit tests that point the drivers at a fake tree in a temp dir,
 * where statfs cannot say which driver applies.
 */
int berth_cgroup_new_with_driver(const char *root, const char *path, enum cg_driver driver,
				 const char *mountinfo, struct berth_cgroup **ret,
				 struct berth_error **err);

/*
 * Parse mountinfo text: the cgroup (v1) and cgroup2 mounts directly below root, one entry per
 * hierarchy (a hierarchy mounted twice is listed once).  The caller frees with cg_hierarchies_free.
 */
int cg_parse_mountinfo(const char *text, const char *root, struct cg_hierarchy **ret, size_t *ret_n,
		       struct berth_error **err);
void cg_hierarchies_free(struct cg_hierarchy *h, size_t n);

/* ---- shared helpers (cgroup.c) ---------------------------------------------------------- */

/* Write value to dir/file (O_TRUNC, one write); the error names the file. */
int cg_write(const char *dir, const char *file, const char *value, struct berth_error **err);
int cg_writef(const char *dir, const char *file, struct berth_error **err, const char *fmt, ...)
	BERTH_PRINTF(4, 5);
/* Read dir/file whole, trailing newline removed. */
int cg_read(const char *dir, const char *file, char **ret, struct berth_error **err);
/* Read a single unsigned number; "max" reads as UINT64_MAX. */
int cg_read_u64(const char *dir, const char *file, uint64_t *ret);
bool cg_file_exists(const char *dir, const char *file);

/*
 * Make every missing directory of cg->path below base, in order; each one made is appended to
 * *made (absolute paths) so a failed create can remove them again, and the shallowest one (as a
 * cgroup path) becomes cg->made_from.  A parent removed under us (ENOENT) starts it again.
 */
int cg_mkdir_path(struct berth_cgroup *cg, const char *base, char ***made,
		  struct berth_error **err);

/* rmdir the parents of cg's directory under base that create made (up to cg->made_from). */
void cg_rmdir_parents(const struct berth_cgroup *cg, const char *base);
/* rmdir the directories in made, last first (ignoring errors). */
void cg_rmdir_made(char **made);

/* Append every pid in dir/cgroup.procs and in every child cgroup's (recursively) to *pids. */
int cg_collect_pids(const char *dir, pid_t **pids, size_t *n, struct berth_error **err);
/* rmdir dir and its child cgroups depth first, retrying EBUSY briefly; missing is fine. */
int cg_rmdir_tree(const char *dir, struct berth_error **err);

/* Validate the unified map: plain file names only. */
int cg_check_unified(const struct berth_resources *res, struct berth_error **err);

/*
 * The values of keys (NULL-terminated) in the flat-keyed file dir/file ("key value" lines), read
 * at once into vals (one per key; 0 for a key the file does not have).  A value of one of keys
 * that is not a number is an error naming it; a missing file is -ENOENT.
 */
int cg_read_keyed(const char *dir, const char *file, const char *const *keys, uint64_t *vals,
		  struct berth_error **err);

/*
 * Read a flat-keyed file ("key value" lines) of dir into a vector of key/value pairs (appended
 * to *v, *n); values that are not numbers are skipped.  A missing file adds nothing.
 */
int cg_read_flat_keyed(const char *dir, const char *file, struct berth_cgroup_stat_value **v,
		       size_t *n);
/* The value of key among v[0..n), 0 when absent. */
uint64_t cg_keyed(const struct berth_cgroup_stat_value *v, size_t n, const char *key);
void cg_stat_values_free(struct berth_cgroup_stat_value *v, size_t n);
/* Append an io entry; -ENOMEM on failure. */
int cg_push_io(struct berth_cgroup_io_entry **v, size_t *n, uint32_t major, uint32_t minor,
	       const char *op, uint64_t value);

/*
 * The OOM watch: one struct for both drivers.  The driver's events_open fills it and sets read;
 * cgroup.c calls read and frees it.
 */
struct berth_cgroup_events {
	int fd;		   /* what the caller polls (v2: the inotify fd; v1: an epoll fd) */
	char *dir;	   /* the cgroup directory (the memory hierarchy's on v1) */
	uint64_t oom;	   /* v2: last seen "oom" of memory.events */
	uint64_t oom_kill; /* last seen oom_kill (v1: memory.oom_control; v2: memory.events) */
	bool gone;
	/* what happened since the last read, into *ret (zeroed by the caller); sets gone */
	int (*read)(struct berth_cgroup_events *ev, struct berth_cgroup_event_counts *ret,
		    struct berth_error **err);
	/* v1 */
	int event_fd;	  /* the eventfd registered through cgroup.event_control */
	int control_fd;	  /* memory.oom_control, open while registered */
	int timer_fd;	  /* re-reads oom_kill after a notification (see cgroup-v1.c) */
	unsigned recheck; /* re-reads left */
};

/* An empty watch of dir (every fd -EBADF), for the driver's events_open to fill. */
int cg_events_new(const char *dir, struct berth_cgroup_events **ret, struct berth_error **err);

/* sleep for ms milliseconds */
void cg_sleep_ms(unsigned ms);

/* ---- cgroup-v2.c, also used by the v1 driver for a hybrid host's unified mount ---------- */

/*
 * Enable each controller in needed in the cgroup.subtree_control of root and of every ancestor
 * of path below it, checking each is listed in cgroup.controllers first; with all, every other
 * controller listed there too where the kernel allows it (the v2 driver's accounting).
 */
int cg_v2_enable_controllers(const char *root, const char *path, char *const *needed, bool all,
			     struct berth_error **err);
/*
 * hugetlb.<size>.<limit_file> for each hugepage limit in dir, its page size checked first:
 * "max" in a cgroup2 directory, "limit_in_bytes" in a v1 hugetlb one.
 */
int cg_write_hugetlb(const char *dir, const struct berth_resources *res, const char *limit_file,
		     struct berth_error **err);
/* Check a hugepage size name ("2MB") before it becomes part of a file name. */
int cg_check_page_size(const char *size, struct berth_error **err);
/* v2 freeze through cgroup.freeze, waiting for cgroup.events to agree */
int cg_v2_freeze_dir(const char *dir, bool frozen, struct berth_error **err);
int cg_v2_is_frozen_dir(const char *dir, bool *ret, struct berth_error **err);
/* hugetlb statistics of a cgroup2 directory, appended to st->hugetlb */
int cg_v2_hugetlb_stats(const char *dir, struct berth_cgroup_stats *st);

/* ---- cgroup-bpf.c ----------------------------------------------------------------------- */

/*
 * Build the BPF_PROG_TYPE_CGROUP_DEVICE program for rules (last matching rule wins, nothing
 * matching is denied).  *ret is malloc'd struct bpf_insn[*ret_n].
 */
int cg_bpf_device_program(const struct berth_device_rule *rules, size_t n, void **ret,
			  size_t *ret_n, struct berth_error **err);

/*
 * Load the program for rules and attach it to the cgroup directory dir (BPF_F_ALLOW_MULTI),
 * then detach any device program berth attached there before.
 */
int cg_bpf_apply_devices(const char *dir, const struct berth_device_rule *rules, size_t n,
			 struct berth_error **err);
