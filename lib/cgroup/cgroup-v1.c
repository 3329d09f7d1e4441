/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The cgroup v1 driver: one hierarchy per mount found under root (a controller or a set of
 * them, name=systemd, and on a hybrid host the cgroup2 "unified" mount).  The cgroup is made in
 * every hierarchy; each resource goes to the hierarchy that has its controller.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "cgroup-internal.h"
#include "base/banned.h"

static char *hdir(const struct berth_cgroup *cg, const struct cg_hierarchy *h)
{
	char *d = NULL;

	if (asprintf(&d, "%s%s", h->mount, cg->path) < 0)
		return NULL;
	return d;
}

static const struct cg_hierarchy *find(const struct berth_cgroup *cg, const char *controller)
{
	for (size_t i = 0; i < cg->n_hier; i++)
		if (berth_strv_contains(cg->hier[i].controllers, controller))
			return &cg->hier[i];
	return NULL;
}

static const struct cg_hierarchy *find_unified(const struct berth_cgroup *cg)
{
	for (size_t i = 0; i < cg->n_hier; i++)
		if (cg->hier[i].unified)
			return &cg->hier[i];
	return NULL;
}

static int unavailable(struct berth_error **err, const char *controller)
{
	return berth_error_set(err, ENOTSUP, "cgroup controller '%s' is not available", controller);
}

/* The directory of the cgroup in the hierarchy of controller; an error when there is none. */
static int cdir(const struct berth_cgroup *cg, const char *controller, char **ret,
		struct berth_error **err)
{
	const struct cg_hierarchy *h = find(cg, controller);

	if (!h)
		return unavailable(err, controller);
	*ret = hdir(cg, h);
	return *ret ? 0 : berth_error_set(err, ENOMEM, "out of memory");
}

/* ---- what a resources object needs ------------------------------------------------------ */

static bool memory_set(const struct berth_resources *r)
{
	return r->memory_limit != BERTH_UNSET || r->memory_reservation != BERTH_UNSET ||
	       r->memory_swap != BERTH_UNSET || r->memory_kernel != BERTH_UNSET ||
	       r->memory_kernel_tcp != BERTH_UNSET || r->memory_swappiness != BERTH_UNSET ||
	       r->disable_oom_killer >= 0 || r->use_hierarchy >= 0;
}

static bool cpu_set(const struct berth_resources *r)
{
	return r->cpu_shares != BERTH_UNSET || r->cpu_quota != BERTH_UNSET ||
	       r->cpu_period != BERTH_UNSET || r->cpu_burst != BERTH_UNSET ||
	       r->cpu_realtime_runtime != BERTH_UNSET || r->cpu_realtime_period != BERTH_UNSET ||
	       r->cpu_idle != BERTH_UNSET;
}

static bool blkio_set(const struct berth_resources *r)
{
	return r->blkio_weight != BERTH_UNSET || r->blkio_leaf_weight != BERTH_UNSET ||
	       r->n_blkio_weight_device || r->n_throttle_read_bps || r->n_throttle_write_bps ||
	       r->n_throttle_read_iops || r->n_throttle_write_iops;
}

/* Controllers of the unified map's files ("memory.high" -> memory) for a hybrid host. */
static int unified_controllers(const struct berth_resources *r, bool hugetlb, char ***ret,
			       struct berth_error **err)
{
	_cleanup_strv_ char **v = calloc(1, sizeof(char *));

	if (!v)
		return berth_error_set(err, ENOMEM, "out of memory");
	if (hugetlb && r->n_hugepage_limits && berth_strv_push(&v, "hugetlb") < 0)
		return berth_error_set(err, ENOMEM, "out of memory");
	for (size_t i = 0; i < r->n_unified; i++) {
		const char *k = r->unified[i].key;
		_cleanup_free_ char *c = strndup(k, strcspn(k, "."));
		if (!c)
			return berth_error_set(err, ENOMEM, "out of memory");
		if (*c && strcmp(c, "cgroup") != 0 && !berth_strv_contains(v, c) &&
		    berth_strv_push(&v, c) < 0)
			return berth_error_set(err, ENOMEM, "out of memory");
	}
	*ret = TAKE_PTR(v);
	return 0;
}

/* Everything that can be checked before a directory is made. */
static int preflight(const struct berth_cgroup *cg, const struct berth_resources *r,
		     struct berth_error **err)
{
	int q;

	if (!r)
		return 0;
	if ((q = cg_check_unified(r, err)) < 0)
		return q;
	if (memory_set(r) && !find(cg, "memory"))
		return unavailable(err, "memory");
	if (cpu_set(r) && !find(cg, "cpu"))
		return unavailable(err, "cpu");
	if ((r->cpu_cpus || r->cpu_mems) && !find(cg, "cpuset"))
		return unavailable(err, "cpuset");
	if (r->pids_limit != BERTH_UNSET && !find(cg, "pids"))
		return unavailable(err, "pids");
	if (blkio_set(r) && !find(cg, "blkio"))
		return unavailable(err, "blkio");
	if (r->n_hugepage_limits && !find(cg, "hugetlb") && !find_unified(cg))
		return unavailable(err, "hugetlb");
	if (r->n_devices && !find(cg, "devices"))
		return unavailable(err, "devices");
	if (r->net_class_id != BERTH_UNSET && !find(cg, "net_cls"))
		return unavailable(err, "net_cls");
	if (r->n_net_priorities && !find(cg, "net_prio"))
		return unavailable(err, "net_prio");
	if (r->n_rdma && !find(cg, "rdma"))
		return unavailable(err, "rdma");
	if (r->n_unified && !find_unified(cg))
		return berth_error_set(err, ENOTSUP,
				       "cgroup v2 files ('unified') need a cgroup2 hierarchy");
	if (r->memory_swappiness != BERTH_UNSET &&
	    (r->memory_swappiness < 0 || r->memory_swappiness > 100))
		return berth_error_set(err, EINVAL, "invalid memory swappiness %" PRId64,
				       r->memory_swappiness);
	for (size_t i = 0; i < r->n_hugepage_limits; i++)
		if ((q = cg_check_page_size(r->hugepage_limits[i].page_size, err)) < 0)
			return q;
	return 0;
}

/* ---- applying resources ----------------------------------------------------------------- */

static int write_i64(const char *dir, const char *file, int64_t v, struct berth_error **err)
{
	return cg_writef(dir, file, err, "%" PRId64, v);
}

static int write_memory(const struct berth_cgroup *cg, const struct berth_resources *r,
			struct berth_error **err)
{
	_cleanup_free_ char *d = NULL;
	int64_t limit = r->memory_limit, swap = r->memory_swap;
	int q;

	if (!memory_set(r))
		return 0;
	if ((q = cdir(cg, "memory", &d, err)) < 0)
		return q;
	bool memsw = cg_file_exists(d, "memory.memsw.limit_in_bytes");
	/* memory+swap must stay >= memory: lifting the memory limit lifts swap with it */
	if (limit == -1 && swap == BERTH_UNSET && memsw)
		swap = -1;
	if (swap != BERTH_UNSET && !memsw && swap != -1 && swap != limit)
		return berth_error_set(err, ENOTSUP,
				       "swap limit: the kernel has no swap accounting "
				       "('memory.memsw.limit_in_bytes')");
	if (swap != BERTH_UNSET && memsw) {
		/*
		 * The kernel keeps memory.limit <= memsw.limit at every step: write memsw
		 * first when it does not go below the limit in force (raising), else last.
		 */
		uint64_t cur = UINT64_MAX;
		cg_read_u64(d, "memory.limit_in_bytes", &cur);
		bool swap_first = swap == -1 || (uint64_t)swap >= cur;
		if (swap_first && (q = write_i64(d, "memory.memsw.limit_in_bytes", swap, err)) < 0)
			return q;
		if (limit != BERTH_UNSET &&
		    (q = write_i64(d, "memory.limit_in_bytes", limit, err)) < 0)
			return q;
		if (!swap_first && (q = write_i64(d, "memory.memsw.limit_in_bytes", swap, err)) < 0)
			return q;
	} else if (limit != BERTH_UNSET &&
		   (q = write_i64(d, "memory.limit_in_bytes", limit, err)) < 0) {
		return q;
	}
	if (r->memory_reservation != BERTH_UNSET &&
	    (q = write_i64(d, "memory.soft_limit_in_bytes", r->memory_reservation, err)) < 0)
		return q;
	/* kernel memory limits are gone from newer kernels; where the file is, it is honoured */
	if (r->memory_kernel != BERTH_UNSET && cg_file_exists(d, "memory.kmem.limit_in_bytes") &&
	    (q = write_i64(d, "memory.kmem.limit_in_bytes", r->memory_kernel, err)) < 0)
		return q;
	if (r->memory_kernel_tcp != BERTH_UNSET &&
	    cg_file_exists(d, "memory.kmem.tcp.limit_in_bytes") &&
	    (q = write_i64(d, "memory.kmem.tcp.limit_in_bytes", r->memory_kernel_tcp, err)) < 0)
		return q;
	if (r->memory_swappiness != BERTH_UNSET &&
	    (q = write_i64(d, "memory.swappiness", r->memory_swappiness, err)) < 0)
		return q;
	if (r->disable_oom_killer >= 0 &&
	    (q = cg_write(d, "memory.oom_control", r->disable_oom_killer ? "1" : "0", err)) < 0)
		return q;
	if (r->use_hierarchy >= 0 &&
	    (q = cg_write(d, "memory.use_hierarchy", r->use_hierarchy ? "1" : "0", err)) < 0)
		return q;
	return 0;
}

/* Two values bound together (quota/period): try one order, and the other if the kernel balks. */
static int write_pair(const char *d, const char *f1, int64_t v1, const char *f2, int64_t v2,
		      struct berth_error **err)
{
	int q;

	if (v1 == BERTH_UNSET || v2 == BERTH_UNSET) {
		if (v1 != BERTH_UNSET)
			return write_i64(d, f1, v1, err);
		if (v2 != BERTH_UNSET)
			return write_i64(d, f2, v2, err);
		return 0;
	}
	if (write_i64(d, f1, v1, NULL) == 0 && write_i64(d, f2, v2, NULL) == 0)
		return 0;
	if ((q = write_i64(d, f2, v2, err)) < 0 || (q = write_i64(d, f1, v1, err)) < 0)
		return q;
	return 0;
}

static int write_cpu(const struct berth_cgroup *cg, const struct berth_resources *r,
		     struct berth_error **err)
{
	_cleanup_free_ char *d = NULL;
	int q;

	if (cpu_set(r)) {
		if ((q = cdir(cg, "cpu", &d, err)) < 0)
			return q;
		if (r->cpu_shares != BERTH_UNSET && r->cpu_shares != 0 &&
		    (q = write_i64(d, "cpu.shares", r->cpu_shares, err)) < 0)
			return q;
		if ((q = write_pair(d, "cpu.cfs_period_us", r->cpu_period, "cpu.cfs_quota_us",
				    r->cpu_quota < 0 && r->cpu_quota != BERTH_UNSET ? -1
										    : r->cpu_quota,
				    err)) < 0)
			return q;
		if (r->cpu_burst != BERTH_UNSET) {
			if (!cg_file_exists(d, "cpu.cfs_burst_us")) {
				if (r->cpu_burst != 0)
					return berth_error_set(err, ENOTSUP,
							       "cpu burst: the kernel has no "
							       "'cpu.cfs_burst_us'");
			} else if ((q = write_i64(d, "cpu.cfs_burst_us", r->cpu_burst, err)) < 0) {
				return q;
			}
		}
		if ((q = write_pair(d, "cpu.rt_period_us", r->cpu_realtime_period,
				    "cpu.rt_runtime_us", r->cpu_realtime_runtime, err)) < 0)
			return q;
		if (r->cpu_idle != BERTH_UNSET) {
			if (!cg_file_exists(d, "cpu.idle")) {
				if (r->cpu_idle != 0)
					return berth_error_set(err, ENOTSUP,
							       "cpu idle: the kernel has no "
							       "'cpu.idle'");
			} else if ((q = write_i64(d, "cpu.idle", r->cpu_idle, err)) < 0) {
				return q;
			}
		}
	}
	if (r->cpu_cpus || r->cpu_mems) {
		_cleanup_free_ char *cs = NULL;
		if ((q = cdir(cg, "cpuset", &cs, err)) < 0)
			return q;
		if (r->cpu_cpus && (q = cg_write(cs, "cpuset.cpus", r->cpu_cpus, err)) < 0)
			return q;
		if (r->cpu_mems && (q = cg_write(cs, "cpuset.mems", r->cpu_mems, err)) < 0)
			return q;
	}
	return 0;
}

static int write_devnum(const char *d, const char *file, int64_t major, int64_t minor, uint64_t v,
			struct berth_error **err)
{
	if (major < 0 || minor < 0)
		return berth_error_set(err, EINVAL, "invalid device %" PRId64 ":%" PRId64, major,
				       minor);
	return cg_writef(d, file, err, "%" PRId64 ":%" PRId64 " %" PRIu64, major, minor, v);
}

static int write_throttle(const char *d, const char *file, const struct berth_throttle_device *t,
			  size_t n, struct berth_error **err)
{
	for (size_t i = 0; i < n; i++) {
		int q = write_devnum(d, file, t[i].major, t[i].minor, t[i].rate, err);
		if (q < 0)
			return q;
	}
	return 0;
}

static int write_blkio(const struct berth_cgroup *cg, const struct berth_resources *r,
		       struct berth_error **err)
{
	_cleanup_free_ char *d = NULL;
	int q;

	if (!blkio_set(r))
		return 0;
	if ((q = cdir(cg, "blkio", &d, err)) < 0)
		return q;
	/* CFQ's blkio.weight is gone since 5.0; BFQ takes the same scale in blkio.bfq.weight */
	const char *wf = cg_file_exists(d, "blkio.weight")	 ? "blkio.weight"
			 : cg_file_exists(d, "blkio.bfq.weight") ? "blkio.bfq.weight"
								 : NULL;
	const char *wdf = cg_file_exists(d, "blkio.weight_device")	 ? "blkio.weight_device"
			  : cg_file_exists(d, "blkio.bfq.weight_device") ? "blkio.bfq.weight_device"
									 : NULL;
	if (r->blkio_weight != BERTH_UNSET && r->blkio_weight != 0) {
		if (!wf)
			return berth_error_set(err, ENOTSUP,
					       "blkio weight: the kernel's I/O scheduler has no "
					       "weights ('blkio.weight')");
		if ((q = write_i64(d, wf, r->blkio_weight, err)) < 0)
			return q;
	}
	if (r->blkio_leaf_weight != BERTH_UNSET && r->blkio_leaf_weight != 0 &&
	    (q = write_i64(d, "blkio.leaf_weight", r->blkio_leaf_weight, err)) < 0)
		return q;
	for (size_t i = 0; i < r->n_blkio_weight_device; i++) {
		const struct berth_weight_device *w = &r->blkio_weight_device[i];
		if (w->weight != BERTH_UNSET) {
			if (!wdf)
				return berth_error_set(err, ENOTSUP,
						       "blkio weight: the kernel's I/O scheduler "
						       "has no weights ('blkio.weight_device')");
			q = write_devnum(d, wdf, w->major, w->minor, (uint64_t)w->weight, err);
			if (q < 0)
				return q;
		}
		if (w->leaf_weight != BERTH_UNSET &&
		    (q = write_devnum(d, "blkio.leaf_weight_device", w->major, w->minor,
				      (uint64_t)w->leaf_weight, err)) < 0)
			return q;
	}
	if ((q = write_throttle(d, "blkio.throttle.read_bps_device", r->throttle_read_bps,
				r->n_throttle_read_bps, err)) < 0 ||
	    (q = write_throttle(d, "blkio.throttle.write_bps_device", r->throttle_write_bps,
				r->n_throttle_write_bps, err)) < 0 ||
	    (q = write_throttle(d, "blkio.throttle.read_iops_device", r->throttle_read_iops,
				r->n_throttle_read_iops, err)) < 0 ||
	    (q = write_throttle(d, "blkio.throttle.write_iops_device", r->throttle_write_iops,
				r->n_throttle_write_iops, err)) < 0)
		return q;
	return 0;
}

static int write_hugetlb(const struct berth_cgroup *cg, const struct berth_resources *r,
			 struct berth_error **err)
{
	const struct cg_hierarchy *h = find(cg, "hugetlb");
	/* hybrid host: hugetlb lives in the cgroup2 mount, with v2's file names */
	const char *limit_file = h ? "limit_in_bytes" : "max";

	if (!r->n_hugepage_limits)
		return 0;
	if (!h && !(h = find_unified(cg)))
		return unavailable(err, "hugetlb");
	_cleanup_free_ char *d = hdir(cg, h);
	if (!d)
		return berth_error_set(err, ENOMEM, "out of memory");
	return cg_write_hugetlb(d, r, limit_file, err);
}

static int write_devices(const struct berth_cgroup *cg, const struct berth_resources *r,
			 struct berth_error **err)
{
	_cleanup_free_ char *d = NULL;
	int q;

	if (!r->n_devices)
		return 0;
	if ((q = cdir(cg, "devices", &d, err)) < 0)
		return q;
	for (size_t i = 0; i < r->n_devices; i++) {
		const struct berth_device_rule *x = &r->devices[i];
		const char *file = x->allow ? "devices.allow" : "devices.deny";
		char maj[24], min[24];
		const char *acc = x->access[0] ? x->access : "rwm";

		if (strspn(acc, "rwm") != strlen(acc) || strlen(acc) > 3)
			return berth_error_set(err, EINVAL, "invalid device access '%.4s'", acc);
		if (x->type == 'a') {
			/* "a" is the whole list: allow or deny everything, exceptions cleared */
			q = cg_write(d, file, "a", err);
		} else if (x->type == 'c' || x->type == 'b') {
			if (x->major < -1 || x->minor < -1 || x->major > UINT32_MAX ||
			    x->minor > UINT32_MAX)
				return berth_error_set(err, EINVAL, "invalid device %lld:%lld",
						       (long long)x->major, (long long)x->minor);
			if (x->major < 0)
				snprintf(maj, sizeof(maj), "*");
			else
				snprintf(maj, sizeof(maj), "%" PRId64, x->major);
			if (x->minor < 0)
				snprintf(min, sizeof(min), "*");
			else
				snprintf(min, sizeof(min), "%" PRId64, x->minor);
			q = cg_writef(d, file, err, "%c %s:%s %s", x->type, maj, min, acc);
		} else {
			return berth_error_set(err, EINVAL, "invalid device rule type '%c'",
					       x->type ? x->type : '?');
		}
		if (q < 0)
			return q;
	}
	return 0;
}

static int write_network(const struct berth_cgroup *cg, const struct berth_resources *r,
			 struct berth_error **err)
{
	int q;

	if (r->net_class_id != BERTH_UNSET) {
		_cleanup_free_ char *d = NULL;
		if ((q = cdir(cg, "net_cls", &d, err)) < 0 ||
		    (q = write_i64(d, "net_cls.classid", r->net_class_id, err)) < 0)
			return q;
	}
	if (r->n_net_priorities) {
		_cleanup_free_ char *d = NULL;
		if ((q = cdir(cg, "net_prio", &d, err)) < 0)
			return q;
		for (size_t i = 0; i < r->n_net_priorities; i++) {
			const struct berth_key_value *kv = &r->net_priorities[i];
			int64_t prio;
			if (!kv->key || !*kv->key || strpbrk(kv->key, " \t\n/") ||
			    strlen(kv->key) > 15 || !kv->value ||
			    berth_parse_int64(kv->value, 0, UINT32_MAX, &prio) < 0)
				return berth_error_set(err, EINVAL, "invalid network priority '%s'",
						       kv->key ? kv->key : "");
			if ((q = cg_writef(d, "net_prio.ifpriomap", err, "%s %" PRId64, kv->key,
					   prio)) < 0)
				return q;
		}
	}
	return 0;
}

static int write_rdma(const struct berth_cgroup *cg, const struct berth_resources *r,
		      struct berth_error **err)
{
	_cleanup_free_ char *d = NULL;
	int q;

	if (!r->n_rdma)
		return 0;
	if ((q = cdir(cg, "rdma", &d, err)) < 0)
		return q;
	for (size_t i = 0; i < r->n_rdma; i++) {
		const struct berth_key_value *kv = &r->rdma[i];
		if (!kv->key || !*kv->key || strpbrk(kv->key, " \t\n") || !kv->value ||
		    strchr(kv->value, '\n'))
			return berth_error_set(err, EINVAL, "invalid rdma limit '%s'",
					       kv->key ? kv->key : "");
		if ((q = cg_writef(d, "rdma.max", err, "%s %s", kv->key, kv->value)) < 0)
			return q;
	}
	return 0;
}

static int write_unified(const struct berth_cgroup *cg, const struct berth_resources *r,
			 struct berth_error **err)
{
	const struct cg_hierarchy *h = find_unified(cg);
	_cleanup_free_ char *d = NULL;
	int q;

	if (!r->n_unified)
		return 0;
	if (!h)
		return berth_error_set(err, ENOTSUP,
				       "cgroup v2 files ('unified') need a cgroup2 hierarchy");
	if (!(d = hdir(cg, h)))
		return berth_error_set(err, ENOMEM, "out of memory");
	for (size_t i = 0; i < r->n_unified; i++)
		if ((q = cg_write(d, r->unified[i].key, r->unified[i].value, err)) < 0)
			return q;
	return 0;
}

static int apply(struct berth_cgroup *cg, const struct berth_resources *r, struct berth_error **err)
{
	int q;

	if ((q = write_memory(cg, r, err)) < 0 || (q = write_cpu(cg, r, err)) < 0)
		return q;
	if (r->pids_limit != BERTH_UNSET) {
		_cleanup_free_ char *d = NULL;
		if ((q = cdir(cg, "pids", &d, err)) < 0)
			return q;
		if (r->pids_limit <= 0)
			q = cg_write(d, "pids.max", "max", err);
		else
			q = write_i64(d, "pids.max", r->pids_limit, err);
		if (q < 0)
			return q;
	}
	if ((q = write_blkio(cg, r, err)) < 0 || (q = write_hugetlb(cg, r, err)) < 0 ||
	    (q = write_devices(cg, r, err)) < 0 || (q = write_network(cg, r, err)) < 0 ||
	    (q = write_rdma(cg, r, err)) < 0 || (q = write_unified(cg, r, err)) < 0)
		return q;
	return 0;
}

/* On a hybrid host, the unified mount needs the controllers its files (hugetlb...) belong to. */
static int enable_unified(struct berth_cgroup *cg, const struct berth_resources *r,
			  struct berth_error **err)
{
	const struct cg_hierarchy *h = find_unified(cg);
	_cleanup_strv_ char **needed = NULL;
	int q;

	if (!h || !r)
		return 0;
	/* hugepage limits go to the unified mount only when no v1 hierarchy has hugetlb */
	if ((q = unified_controllers(r, !find(cg, "hugetlb"), &needed, err)) < 0)
		return q;
	return cg_v2_enable_controllers(h->mount, cg->path, needed, false, err);
}

/*
 * A new cpuset cgroup starts with empty cpus and mems, and no process can join it until they are
 * set: copy them from the parent, top down, for each directory on the path still empty.
 */
static int init_cpuset(const char *mount, const char *path, struct berth_error **err)
{
	_cleanup_free_ char *dir = NULL;
	size_t mlen = strlen(mount), plen = strlen(path);
	static const char *const files[] = {"cpuset.cpus", "cpuset.mems"};

	if (asprintf(&dir, "%s%s", mount, path) < 0)
		return berth_error_set(err, ENOMEM, "out of memory");
	for (size_t i = 1; i <= plen; i++) {
		if (i != plen && path[i] != '/')
			continue;
		char saved = dir[mlen + i];
		dir[mlen + i] = '\0';
		char *slash = strrchr(dir, '/');
		for (size_t f = 0; f < ARRAY_SIZE(files); f++) {
			_cleanup_free_ char *cur = NULL, *parent_val = NULL;
			int q = cg_read(dir, files[f], &cur, err);
			if (q < 0)
				return q;
			if (cur[0])
				continue;
			*slash = '\0';
			q = cg_read(dir, files[f], &parent_val, err);
			*slash = '/';
			if (q < 0)
				return q;
			if ((q = cg_write(dir, files[f], parent_val, err)) < 0)
				return q;
		}
		dir[mlen + i] = saved;
	}
	return 0;
}

/* ---- enter, with a way back ------------------------------------------------------------- */

/* Where pid is in hierarchy h now, from /proc/PID/cgroup ("4:memory:/x", "0::/y"). */
static char *current_path(const char *proc_cgroup, const struct cg_hierarchy *h)
{
	for (const char *l = proc_cgroup; l && *l;) {
		const char *end = strchrnul(l, '\n');
		_cleanup_free_ char *line = strndup(l, (size_t)(end - l));
		l = *end ? end + 1 : end;
		if (!line)
			return NULL;
		char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		if (!c2)
			continue;
		*c2 = '\0';
		const char *ctrls = c1 + 1;
		bool match;
		if (h->unified) {
			match = !*ctrls;
		} else {
			size_t n = 0;
			match = *ctrls != '\0';
			for (const char *c = ctrls; match && *c;) {
				size_t cl = strcspn(c, ",");
				_cleanup_free_ char *one = strndup(c, cl);
				match = one && berth_strv_contains(h->controllers, one);
				n++;
				c += cl + (c[cl] == ',');
			}
			match = match && n == berth_strv_length(h->controllers);
		}
		if (match)
			return strdup(c2 + 1);
	}
	return NULL;
}

static int enter_all(struct berth_cgroup *cg, pid_t pid, struct berth_error **err)
{
	_cleanup_free_ char *proc = NULL, *procfile = NULL;
	char **back = calloc(cg->n_hier + 1, sizeof(char *));
	size_t i;
	int q = 0;

	if (!back)
		return berth_error_set(err, ENOMEM, "out of memory");
	if (asprintf(&procfile, "/proc/%d/cgroup", (int)pid) >= 0)
		berth_read_file_at(AT_FDCWD, procfile, 64 * 1024, &proc, NULL, NULL);
	for (i = 0; i < cg->n_hier; i++) {
		_cleanup_free_ char *d = hdir(cg, &cg->hier[i]);
		back[i] = proc ? current_path(proc, &cg->hier[i]) : NULL;
		if (!d) {
			q = berth_error_set(err, ENOMEM, "out of memory");
			break;
		}
		if ((q = cg_writef(d, "cgroup.procs", err, "%d", (int)pid)) < 0)
			break;
	}
	if (q < 0) {
		/* put pid back where it was, so the directories can go */
		for (size_t j = 0; j < i; j++) {
			_cleanup_free_ char *d = NULL;
			if (back[j] && asprintf(&d, "%s%s", cg->hier[j].mount, back[j]) >= 0)
				cg_writef(d, "cgroup.procs", NULL, "%d", (int)pid);
		}
	}
	for (i = 0; i < cg->n_hier; i++)
		free(back[i]);
	free(back);
	return q;
}

static int v1_enter(struct berth_cgroup *cg, pid_t pid, struct berth_error **err)
{
	return enter_all(cg, pid, err);
}

static int v1_create(struct berth_cgroup *cg, const struct berth_resources *res, pid_t pid,
		     struct berth_error **err)
{
	_cleanup_strv_ char **made = NULL;
	int q;

	if ((q = preflight(cg, res, err)) < 0)
		return q;
	for (size_t i = 0; i < cg->n_hier; i++) {
		const struct cg_hierarchy *h = &cg->hier[i];
		if ((q = cg_mkdir_path(cg, h->mount, &made, err)) < 0)
			goto fail;
		if (berth_strv_contains(h->controllers, "cpuset") &&
		    (q = init_cpuset(h->mount, cg->path, err)) < 0)
			goto fail;
	}
	if ((q = enable_unified(cg, res, err)) < 0)
		goto fail;
	if (res && (q = apply(cg, res, err)) < 0)
		goto fail;
	if (pid > 0 && (q = enter_all(cg, pid, err)) < 0)
		goto fail;
	return 0;
fail:
	cg_rmdir_made(made);
	free(cg->made_from);
	cg->made_from = NULL;
	return q;
}

static int v1_update(struct berth_cgroup *cg, const struct berth_resources *res,
		     struct berth_error **err)
{
	_cleanup_free_ char *d = hdir(cg, &cg->hier[0]);
	int q;

	if (!d)
		return berth_error_set(err, ENOMEM, "out of memory");
	if (access(d, F_OK) < 0)
		return berth_error_sys(err, errno, "cgroup '%s'", d);
	if ((q = preflight(cg, res, err)) < 0 || (q = enable_unified(cg, res, err)) < 0)
		return q;
	return apply(cg, res, err);
}

/* ---- freezer ---------------------------------------------------------------------------- */

static int v1_is_frozen(struct berth_cgroup *cg, bool *ret, struct berth_error **err)
{
	const struct cg_hierarchy *h = find(cg, "freezer");
	_cleanup_free_ char *d = NULL, *state = NULL;
	int q;

	if (!h) {
		h = find_unified(cg);
		if (!h)
			return unavailable(err, "freezer");
		if (!(d = hdir(cg, h)))
			return berth_error_set(err, ENOMEM, "out of memory");
		return cg_v2_is_frozen_dir(d, ret, err);
	}
	if (!(d = hdir(cg, h)))
		return berth_error_set(err, ENOMEM, "out of memory");
	if ((q = cg_read(d, "freezer.state", &state, err)) < 0)
		return q;
	*ret = strcmp(state, "FROZEN") == 0;
	return 0;
}

static int v1_freeze(struct berth_cgroup *cg, bool frozen, struct berth_error **err)
{
	const struct cg_hierarchy *h = find(cg, "freezer");
	const char *want = frozen ? "FROZEN" : "THAWED";
	_cleanup_free_ char *d = NULL;
	int q;

	if (!h) {
		h = find_unified(cg);
		if (!h)
			return unavailable(err, "freezer");
		if (!(d = hdir(cg, h)))
			return berth_error_set(err, ENOMEM, "out of memory");
		return cg_v2_freeze_dir(d, frozen, err);
	}
	if (!(d = hdir(cg, h)))
		return berth_error_set(err, ENOMEM, "out of memory");
	/*
	 * The state reads FREEZING until every task has stopped; writing FROZEN again nudges
	 * tasks that were busy in the kernel the first time.
	 */
	for (unsigned i = 0; i < 1000; i++) {
		_cleanup_free_ char *state = NULL;
		if ((q = cg_write(d, "freezer.state", want, err)) < 0)
			return q;
		if ((q = cg_read(d, "freezer.state", &state, err)) < 0)
			return q;
		if (strcmp(state, want) == 0)
			return 0;
		cg_sleep_ms(i < 10 ? 1 : 10);
		if (i > 200)
			break;
	}
	if (frozen)
		cg_write(d, "freezer.state", "THAWED", NULL);
	return berth_error_set(err, ETIMEDOUT, "cgroup '%s' did not %s in time", d,
			       frozen ? "freeze" : "thaw");
}

/* ---- processes -------------------------------------------------------------------------- */

static int v1_pids(struct berth_cgroup *cg, pid_t **ret, size_t *ret_n, struct berth_error **err)
{
	_cleanup_free_ pid_t *pids = NULL;
	size_t n = 0;

	for (size_t i = 0; i < cg->n_hier; i++) {
		_cleanup_free_ char *d = hdir(cg, &cg->hier[i]);
		if (!d)
			return berth_error_set(err, ENOMEM, "out of memory");
		if (access(d, F_OK) < 0)
			continue;
		int q = cg_collect_pids(d, &pids, &n, err);
		if (q < 0)
			return q;
	}
	*ret = TAKE_PTR(pids);
	*ret_n = n;
	return 0;
}

static int v1_kill_all(struct berth_cgroup *cg, int sig, struct berth_error **err)
{
	_cleanup_free_ pid_t *pids = NULL;
	bool was_frozen = false, froze = false;
	size_t n = 0;
	int q;

	/* frozen, nothing forks while we signal; a v1-frozen task only dies once thawed */
	if (v1_is_frozen(cg, &was_frozen, NULL) == 0)
		froze = v1_freeze(cg, true, NULL) == 0;
	q = v1_pids(cg, &pids, &n, err);
	for (size_t i = 0; q == 0 && i < n; i++)
		if (kill(pids[i], sig) < 0 && errno != ESRCH)
			q = berth_error_sys(err, errno, "kill %d", (int)pids[i]);
	if (froze && (!was_frozen || sig == SIGKILL))
		v1_freeze(cg, false, NULL);
	return q;
}

static int v1_destroy(struct berth_cgroup *cg, struct berth_error **err)
{
	_cleanup_free_ pid_t *pids = NULL;
	size_t n = 0;
	int r = 0;

	if (v1_pids(cg, &pids, &n, NULL) == 0 && n > 0 && (r = v1_kill_all(cg, SIGKILL, err)) < 0)
		return r;
	for (size_t i = 0; i < cg->n_hier; i++) {
		_cleanup_free_ char *d = hdir(cg, &cg->hier[i]);
		if (!d)
			return berth_error_set(err, ENOMEM, "out of memory");
		/* go on with the other hierarchies; report the first failure */
		int q = cg_rmdir_tree(d, r < 0 ? NULL : err);
		if (q < 0 && r == 0)
			r = q;
		if (q == 0)
			cg_rmdir_parents(cg, cg->hier[i].mount);
	}
	return r;
}

static int v1_dirs(const struct berth_cgroup *cg, char ***ret, struct berth_error **err)
{
	_cleanup_strv_ char **v = calloc(1, sizeof(char *));

	if (!v)
		return berth_error_set(err, ENOMEM, "out of memory");
	for (size_t i = 0; i < cg->n_hier; i++) {
		_cleanup_free_ char *d = hdir(cg, &cg->hier[i]);
		if (!d || berth_strv_push(&v, d) < 0)
			return berth_error_set(err, ENOMEM, "out of memory");
	}
	*ret = TAKE_PTR(v);
	return 0;
}

static int v1_hierarchies(const struct berth_cgroup *cg, char ***ret, struct berth_error **err)
{
	_cleanup_strv_ char **v = calloc(1, sizeof(char *));

	if (!v)
		return berth_error_set(err, ENOMEM, "out of memory");
	for (size_t i = 0; i < cg->n_hier; i++)
		if (berth_strv_push(&v, cg->hier[i].name) < 0)
			return berth_error_set(err, ENOMEM, "out of memory");
	*ret = TAKE_PTR(v);
	return 0;
}

/* ---- stats ------------------------------------------------------------------------------ */

static uint64_t u64(const char *dir, const char *file)
{
	uint64_t v = 0;

	if (!dir || cg_read_u64(dir, file, &v) < 0)
		return 0;
	return v;
}

static char *cdir_or_null(const struct berth_cgroup *cg, const char *controller)
{
	const struct cg_hierarchy *h = find(cg, controller);
	char *d = h ? hdir(cg, h) : NULL;

	if (d && access(d, F_OK) < 0) {
		free(d);
		return NULL;
	}
	return d;
}

/* blkio.throttle.* lines: "8:0 Read 4096" (and "Total N", which runc leaves out) */
static int blkio_entries(const char *dir, const char *file, struct berth_cgroup_io_entry **v,
			 size_t *n)
{
	_cleanup_free_ char *s = NULL;

	if (!dir || cg_read(dir, file, &s, NULL) < 0)
		return 0;
	for (char *l = s, *next; l && *l; l = next) {
		unsigned maj, min;
		char op[16];
		unsigned long long val;
		next = strchr(l, '\n');
		if (next)
			*next++ = '\0';
		if (sscanf(l, "%u:%u %15s %llu", &maj, &min, op, &val) != 4)
			continue;
		if (cg_push_io(v, n, maj, min, op, val) < 0)
			return -ENOMEM;
	}
	return 0;
}

static int percpu(const char *dir, struct berth_cgroup_stats *st)
{
	_cleanup_free_ char *s = NULL;

	if (!dir || cg_read(dir, "cpuacct.usage_percpu", &s, NULL) < 0)
		return 0;
	for (char *p = s; *p;) {
		char *end;
		errno = 0;
		unsigned long long v = strtoull(p, &end, 10);
		if (end == p || errno)
			break;
		uint64_t *nv = realloc(st->cpu.percpu, (st->cpu.n_percpu + 1) * sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		nv[st->cpu.n_percpu++] = v;
		st->cpu.percpu = nv;
		p = end + strspn(end, " \n");
	}
	return 0;
}

static int v1_hugetlb(const char *dir, struct berth_cgroup_stats *st)
{
	_cleanup_closedir_ DIR *d = opendir(dir);
	struct dirent *de;

	while (d && (de = readdir(d))) {
		const char *name = de->d_name;
		size_t l = strlen(name);
		/* hugetlb.<size>.usage_in_bytes */
		if (!berth_str_has_prefix(name, "hugetlb.") || l < 24 ||
		    strcmp(name + l - 15, ".usage_in_bytes") != 0 || strstr(name, ".rsvd.") ||
		    l - 23 >= sizeof(st->hugetlb[0].page_size))
			continue;
		struct berth_cgroup_hugetlb_stats h = {};
		_cleanup_free_ char *fmax = NULL, *ffail = NULL;
		memcpy(h.page_size, name + 8, l - 23);
		if (asprintf(&fmax, "hugetlb.%s.max_usage_in_bytes", h.page_size) < 0 ||
		    asprintf(&ffail, "hugetlb.%s.failcnt", h.page_size) < 0)
			return -ENOMEM;
		h.usage = u64(dir, name);
		h.max_usage = u64(dir, fmax);
		h.failcnt = u64(dir, ffail);
		struct berth_cgroup_hugetlb_stats *nv =
			realloc(st->hugetlb, (st->n_hugetlb + 1) * sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		nv[st->n_hugetlb++] = h;
		st->hugetlb = nv;
	}
	return 0;
}

static void mem_counter(const char *dir, const char *prefix, struct berth_cgroup_mem_counter *c)
{
	char f[96];

	snprintf(f, sizeof(f), "%s.usage_in_bytes", prefix);
	c->usage = u64(dir, f);
	snprintf(f, sizeof(f), "%s.max_usage_in_bytes", prefix);
	c->max_usage = u64(dir, f);
	snprintf(f, sizeof(f), "%s.limit_in_bytes", prefix);
	c->limit = u64(dir, f);
	snprintf(f, sizeof(f), "%s.failcnt", prefix);
	c->failcnt = u64(dir, f);
}

static int v1_stats(struct berth_cgroup *cg, struct berth_cgroup_stats *st,
		    struct berth_error **err)
{
	_cleanup_free_ char *acct = cdir_or_null(cg, "cpuacct"), *cpu = cdir_or_null(cg, "cpu"),
			    *mem = cdir_or_null(cg, "memory"), *pids = cdir_or_null(cg, "pids"),
			    *blk = cdir_or_null(cg, "blkio"), *huge = cdir_or_null(cg, "hugetlb");
	struct berth_cgroup_stat_value *cstat = NULL, *thr = NULL;
	size_t n_cstat = 0, n_thr = 0;
	long hz = sysconf(_SC_CLK_TCK);
	int r = 0;

	if (hz <= 0)
		hz = 100;
	if (!acct && !cpu && !mem && !pids)
		return berth_error_set(err, ENOENT, "no cgroup directory exists");
	if (cg_read_flat_keyed(acct, "cpuacct.stat", &cstat, &n_cstat) < 0 ||
	    cg_read_flat_keyed(cpu, "cpu.stat", &thr, &n_thr) < 0 ||
	    cg_read_flat_keyed(mem, "memory.stat", &st->memory.stat, &st->memory.n_stat) < 0)
		r = -ENOMEM;
	st->cpu.total = u64(acct, "cpuacct.usage");
	/* cpuacct.stat counts in USER_HZ ticks */
	st->cpu.user = cg_keyed(cstat, n_cstat, "user") * (1000000000 / (uint64_t)hz);
	st->cpu.system = cg_keyed(cstat, n_cstat, "system") * (1000000000 / (uint64_t)hz);
	st->cpu.periods = cg_keyed(thr, n_thr, "nr_periods");
	st->cpu.throttled_periods = cg_keyed(thr, n_thr, "nr_throttled");
	st->cpu.throttled_time = cg_keyed(thr, n_thr, "throttled_time");
	cg_stat_values_free(cstat, n_cstat);
	cg_stat_values_free(thr, n_thr);
	if (r == 0)
		r = percpu(acct, st);

	if (mem) {
		mem_counter(mem, "memory", &st->memory.usage);
		mem_counter(mem, "memory.memsw", &st->memory.swap);
		mem_counter(mem, "memory.kmem", &st->memory.kernel);
		mem_counter(mem, "memory.kmem.tcp", &st->memory.kernel_tcp);
		st->memory.cache = berth_cgroup_stats_memory_stat(st, "cache");
	}
	/* pids.max reads "max" for no limit: runc reports 0 */
	st->pids.current = u64(pids, "pids.current");
	if (pids &&
	    (cg_read_u64(pids, "pids.max", &st->pids.limit) < 0 || st->pids.limit == UINT64_MAX))
		st->pids.limit = 0;

	const char *sbytes = blk && cg_file_exists(blk, "blkio.throttle.io_service_bytes_recursive")
				     ? "blkio.throttle.io_service_bytes_recursive"
				     : "blkio.throttle.io_service_bytes";
	const char *sios = blk && cg_file_exists(blk, "blkio.throttle.io_serviced_recursive")
				   ? "blkio.throttle.io_serviced_recursive"
				   : "blkio.throttle.io_serviced";
	if (r == 0)
		r = blkio_entries(blk, sbytes, &st->io_bytes, &st->n_io_bytes);
	if (r == 0)
		r = blkio_entries(blk, sios, &st->io_ops, &st->n_io_ops);
	if (r == 0 && huge) {
		r = v1_hugetlb(huge, st);
	} else if (r == 0 && find_unified(cg)) {
		/* a hybrid host keeps hugetlb in its cgroup2 mount */
		_cleanup_free_ char *u = hdir(cg, find_unified(cg));
		if (u && access(u, F_OK) == 0)
			r = cg_v2_hugetlb_stats(u, st);
	}
	if (r < 0)
		return berth_error_set(err, -r, "out of memory");
	return 0;
}

/* ---- events ----------------------------------------------------------------------------- */

/*
 * The kernel signals the eventfd when the OOM killer is invoked, before it has chosen a victim
 * and counted the kill (and the victim's report to the kernel log can take milliseconds): a read
 * on that wake-up often finds oom_kill not raised yet, and no other wake-up follows the kill.  So
 * after a notification without a new kill the watch reads oom_kill again, every RECHECK_MS while
 * rechecks are left, through a timerfd beside the eventfd.  No kill comes when the OOM killer is
 * disabled for the cgroup (the processes wait for memory instead) or finds nothing to kill.
 */
#define RECHECK_MS 50
#define RECHECKS   40 /* 2 s */

/* "oom_kill N" of memory.oom_control, there since kernel 4.13 (before, it reads as 0) */
static int read_oom_kills(const char *dir, uint64_t *ret, struct berth_error **err)
{
	static const char *const keys[] = {"oom_kill", NULL};

	return cg_read_keyed(dir, "memory.oom_control", keys, ret, err);
}

static int v1_events_read(struct berth_cgroup_events *ev, struct berth_cgroup_event_counts *ret,
			  struct berth_error **err)
{
	struct itimerspec its = {{0, 0}, {0, 0}};
	uint64_t count = 0, ticks, kills;
	ssize_t n;
	int r;

	do
		n = read(ev->event_fd, &count, sizeof(count));
	while (n < 0 && errno == EINTR);
	if (n < 0 && errno != EAGAIN)
		return berth_error_sys(err, errno, "read OOM eventfd");
	if (n != (ssize_t)sizeof(count))
		count = 0;
	if (read(ev->timer_fd, &ticks, sizeof(ticks)) < 0 && errno != EAGAIN)
		return berth_error_sys(err, errno, "read timerfd");
	/*
	 * The kernel also signals the eventfd when the cgroup is removed: tell the two apart by
	 * whether it is still there.
	 */
	if (!cg_file_exists(ev->dir, "cgroup.event_control")) {
		ev->gone = true;
		return 0;
	}
	r = read_oom_kills(ev->dir, &kills, err);
	if (r < 0)
		return r;
	ret->oom = count;
	ret->oom_kill = kills > ev->oom_kill ? kills - ev->oom_kill : 0;
	ev->oom_kill = kills;
	if (ret->oom_kill)
		ev->recheck = 0;
	else if (count)
		ev->recheck = RECHECKS;
	else if (ev->recheck)
		ev->recheck--;
	if (ev->recheck)
		its.it_value.tv_nsec = RECHECK_MS * 1000000L;
	if (timerfd_settime(ev->timer_fd, 0, &its, NULL) < 0)
		return berth_error_sys(err, errno, "timerfd_settime");
	return 0;
}

/*
 * memory.oom_control + cgroup.event_control: write "<eventfd> <fd of memory.oom_control>" and the
 * kernel signals the eventfd on every OOM in the cgroup (and once when the cgroup is removed).
 * The caller polls an epoll fd over the eventfd and the recheck timer.
 */
static int v1_events_open(struct berth_cgroup *cg, struct berth_cgroup_events **ret,
			  struct berth_error **err)
{
	_cleanup_free_ char *mem = NULL, *path = NULL;
	struct berth_cgroup_events *ev = NULL;
	struct epoll_event ee = {.events = EPOLLIN};
	char buf[64];
	int r;

	r = cdir(cg, "memory", &mem, err);
	if (r < 0)
		return r;
	r = cg_events_new(mem, &ev, err);
	if (r < 0)
		return r;
	ev->read = v1_events_read;
	ev->event_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (ev->event_fd < 0) {
		r = berth_error_sys(err, errno, "eventfd");
		goto fail;
	}
	ev->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (ev->timer_fd < 0) {
		r = berth_error_sys(err, errno, "timerfd_create");
		goto fail;
	}
	ev->fd = epoll_create1(EPOLL_CLOEXEC);
	if (ev->fd < 0 || epoll_ctl(ev->fd, EPOLL_CTL_ADD, ev->event_fd, &ee) < 0 ||
	    epoll_ctl(ev->fd, EPOLL_CTL_ADD, ev->timer_fd, &ee) < 0) {
		r = berth_error_sys(err, errno, "epoll");
		goto fail;
	}
	if (asprintf(&path, "%s/memory.oom_control", mem) < 0) {
		r = berth_error_set(err, ENOMEM, "out of memory");
		goto fail;
	}
	ev->control_fd = open(path, O_RDONLY | O_CLOEXEC);
	if (ev->control_fd < 0) {
		r = berth_error_sys(err, errno, "open '%s'", path);
		goto fail;
	}
	snprintf(buf, sizeof(buf), "%d %d", ev->event_fd, ev->control_fd);
	r = cg_write(mem, "cgroup.event_control", buf, err);
	if (r == 0)
		r = read_oom_kills(mem, &ev->oom_kill, err);
	if (r < 0)
		goto fail;
	*ret = ev;
	return 0;
fail:
	berth_cgroup_events_free(ev);
	return r;
}

const struct berth_cgroup_ops cg_v1_ops = {
	.name = "v1",
	.create = v1_create,
	.enter = v1_enter,
	.update = v1_update,
	.freeze = v1_freeze,
	.is_frozen = v1_is_frozen,
	.pids = v1_pids,
	.kill_all = v1_kill_all,
	.stats = v1_stats,
	.events_open = v1_events_open,
	.destroy = v1_destroy,
	.hierarchies = v1_hierarchies,
	.dirs = v1_dirs,
};
