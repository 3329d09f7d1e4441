/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The cgroup v2 driver: one hierarchy, controllers enabled top down through
 * cgroup.subtree_control, OCI (v1 flavoured) values converted to v2 files.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "cgroup-internal.h"
#include "base/banned.h"

static char *dir_of(const struct berth_cgroup *cg)
{
	char *d = NULL;

	if (asprintf(&d, "%s%s", cg->root, cg->path) < 0)
		return NULL;
	return d;
}

/* ---- conversions (the numbers runc and crun use) ---------------------------------------- */

/* cpu.shares [2, 262144] -> cpu.weight [1, 10000] */
static uint64_t shares_to_weight(int64_t shares)
{
	if (shares < 2)
		shares = 2;
	if (shares > 262144)
		shares = 262144;
	return 1 + ((uint64_t)(shares - 2) * 9999) / 262142;
}

/* blkio.weight [10, 1000] -> io.weight [1, 10000] */
static uint64_t blkio_to_io_weight(int64_t w)
{
	if (w < 10)
		w = 10;
	if (w > 1000)
		w = 1000;
	return 1 + ((uint64_t)(w - 10) * 9999) / 990;
}

int cg_check_page_size(const char *size, struct berth_error **err)
{
	size_t len = size ? strlen(size) : 0;

	if (len == 0 || len > 16)
		return berth_error_set(err, EINVAL, "invalid hugepage size '%s'", size ? size : "");
	for (size_t i = 0; i < len; i++)
		if (!isalnum((unsigned char)size[i]))
			return berth_error_set(err, EINVAL, "invalid hugepage size '%s'", size);
	return 0;
}

/* A word that goes into a space-separated cgroup file line: no blanks, no newlines. */
static int check_word(const char *what, const char *s, struct berth_error **err)
{
	if (!s || !*s || strlen(s) > 256 || strpbrk(s, " \t\n\r"))
		return berth_error_set(err, EINVAL, "invalid %s '%s'", what, s ? s : "");
	return 0;
}

/* ---- controllers ------------------------------------------------------------------------ */

static bool memory_set(const struct berth_resources *r)
{
	return r->memory_limit != BERTH_UNSET || r->memory_reservation != BERTH_UNSET ||
	       r->memory_swap != BERTH_UNSET;
}

static bool io_set(const struct berth_resources *r)
{
	return (r->blkio_weight != BERTH_UNSET && r->blkio_weight != 0) ||
	       r->n_blkio_weight_device || r->n_throttle_read_bps || r->n_throttle_write_bps ||
	       r->n_throttle_read_iops || r->n_throttle_write_iops;
}

static int needed_controllers(const struct berth_resources *r, char ***ret,
			      struct berth_error **err)
{
	_cleanup_strv_ char **v = calloc(1, sizeof(char *));
	int q = v ? 0 : -ENOMEM;

	if (q == 0 && r && (r->cpu_cpus || r->cpu_mems))
		q = berth_strv_push(&v, "cpuset");
	if (q == 0 && r &&
	    ((r->cpu_shares != BERTH_UNSET && r->cpu_shares != 0) || r->cpu_quota != BERTH_UNSET ||
	     r->cpu_period != BERTH_UNSET || r->cpu_burst != BERTH_UNSET ||
	     r->cpu_idle != BERTH_UNSET))
		q = berth_strv_push(&v, "cpu");
	if (q == 0 && r && io_set(r))
		q = berth_strv_push(&v, "io");
	if (q == 0 && r && memory_set(r))
		q = berth_strv_push(&v, "memory");
	if (q == 0 && r && r->n_hugepage_limits)
		q = berth_strv_push(&v, "hugetlb");
	if (q == 0 && r && r->pids_limit != BERTH_UNSET)
		q = berth_strv_push(&v, "pids");
	if (q == 0 && r && r->n_rdma)
		q = berth_strv_push(&v, "rdma");
	for (size_t i = 0; q == 0 && r && i < r->n_unified; i++) {
		/* "memory.high" needs memory; "cgroup.*" files are core */
		const char *k = r->unified[i].key;
		_cleanup_free_ char *c = strndup(k, strcspn(k, "."));
		if (!c)
			q = -ENOMEM;
		else if (*c && strcmp(c, "cgroup") != 0 && !berth_strv_contains(v, c))
			q = berth_strv_push(&v, c);
	}
	if (q < 0)
		return berth_error_set(err, ENOMEM, "out of memory");
	*ret = TAKE_PTR(v);
	return 0;
}

static bool word_in(const char *list, const char *word)
{
	size_t wl = strlen(word);

	for (const char *p = list; p && *p;) {
		p += strspn(p, " \n");
		size_t l = strcspn(p, " \n");
		if (l == wl && memcmp(p, word, wl) == 0)
			return true;
		p += l;
	}
	return false;
}

/* Append each word of list that is not in skip1 or skip2 (may be NULL) to *v. */
static int push_words(char ***v, const char *list, const char *skip1, char *const *skip2)
{
	for (const char *p = list; p && *p;) {
		p += strspn(p, " \n");
		size_t l = strcspn(p, " \n");
		if (l == 0)
			break;
		_cleanup_free_ char *w = strndup(p, l);
		if (!w)
			return -ENOMEM;
		if (!(skip1 && word_in(skip1, w)) && !(skip2 && berth_strv_contains(skip2, w)) &&
		    !berth_strv_contains(*v, w) && berth_strv_push(v, w) < 0)
			return -ENOMEM;
		p += l;
	}
	return 0;
}

/*
 * Enable in dir's cgroup.subtree_control each controller of needed (each must be listed in
 * cgroup.controllers: an error names the first that is not) and, with all, every other one
 * listed there as well, when it can be: as runc and crun do, so that a container that asked for
 * no limit still has memory.current, pids.current, io.stat and the rest of its accounting.  One
 * write for the lot; when the kernel refuses it, one controller at a time, where only a needed
 * one failing is an error.
 */
static int enable_in(const char *dir, char *const *needed, bool all, struct berth_error **err)
{
	_cleanup_free_ char *avail = NULL, *enabled = NULL, *line = NULL;
	_cleanup_strv_ char **want = calloc(1, sizeof(char *));
	size_t len = 0, off = 0;
	int r;

	if (!want)
		return berth_error_set(err, ENOMEM, "out of memory");
	/* with nothing needed here, a directory that cannot say what it offers is left alone */
	r = cg_read(dir, "cgroup.controllers", &avail, needed && needed[0] ? err : NULL);
	if (r == 0)
		r = cg_read(dir, "cgroup.subtree_control", &enabled,
			    needed && needed[0] ? err : NULL);
	if (r < 0)
		return needed && needed[0] ? r : 0;
	for (size_t i = 0; needed && needed[i]; i++) {
		if (!word_in(avail, needed[i]))
			return berth_error_set(
				err, ENOTSUP, "cgroup controller '%s' is not available", needed[i]);
		if (!word_in(enabled, needed[i]) && berth_strv_push(&want, needed[i]) < 0)
			return berth_error_set(err, ENOMEM, "out of memory");
	}
	if (all && push_words(&want, avail, enabled, needed) < 0)
		return berth_error_set(err, ENOMEM, "out of memory");
	if (!want[0])
		return 0;
	for (size_t i = 0; want[i]; i++)
		len += strlen(want[i]) + 2;
	line = malloc(len + 1);
	if (!line)
		return berth_error_set(err, ENOMEM, "out of memory");
	line[0] = '\0';
	for (size_t i = 0; want[i]; i++)
		off += (size_t)snprintf(line + off, len + 1 - off, "%s+%s", off ? " " : "",
					want[i]);
	if (cg_write(dir, "cgroup.subtree_control", line, NULL) == 0)
		return 0;
	/* one at a time, so the error names the controller that failed */
	for (size_t i = 0; want[i]; i++) {
		bool must = needed && berth_strv_contains(needed, want[i]);
		r = cg_writef(dir, "cgroup.subtree_control", must ? err : NULL, "+%s", want[i]);
		if (r < 0 && must)
			return berth_error_wrap(err, "enable cgroup controller '%s'", want[i]);
	}
	return 0;
}

int cg_v2_enable_controllers(const char *root, const char *path, char *const *needed, bool all,
			     struct berth_error **err)
{
	_cleanup_free_ char *dir = NULL;
	size_t rlen = strlen(root), plen = strlen(path);

	if (!all && (!needed || !needed[0]))
		return 0;
	if (asprintf(&dir, "%s%s", root, path) < 0)
		return berth_error_set(err, ENOMEM, "out of memory");
	/* root (i == 0), then each ancestor down to the leaf's parent (each later '/') */
	for (size_t i = 0; i < plen; i++) {
		if (i != 0 && path[i] != '/')
			continue;
		char saved = dir[rlen + i];
		dir[rlen + i] = '\0';
		int r = enable_in(dir, needed, all, err);
		dir[rlen + i] = saved;
		if (r < 0)
			return r;
	}
	return 0;
}

/* ---- applying resources ----------------------------------------------------------------- */

static int write_limit(const char *dir, const char *file, int64_t v, struct berth_error **err)
{
	if (v < 0)
		return cg_write(dir, file, "max", err);
	return cg_writef(dir, file, err, "%" PRId64, v);
}

/* memory.swap.max from the OCI memory+swap total: swap - limit, -1 -> max */
static int swap_value(const char *dir, const struct berth_resources *r, int64_t *ret,
		      struct berth_error **err)
{
	int64_t limit = r->memory_limit, swap = r->memory_swap;

	if (swap == -1 || (swap == 0 && limit == -1)) {
		*ret = -1;
		return 0;
	}
	if (swap == 0) {
		*ret = 0;
		return 0;
	}
	if (swap < 0)
		return berth_error_set(err, EINVAL, "invalid memory swap limit %" PRId64, swap);
	if (limit == BERTH_UNSET) {
		/* update of swap alone: measure it against the limit in force */
		uint64_t cur;
		if (cg_read_u64(dir, "memory.max", &cur) < 0 || cur == UINT64_MAX)
			return berth_error_set(err, EINVAL, "a swap limit needs a memory limit");
		limit = (int64_t)cur;
	}
	if (limit <= 0)
		return berth_error_set(err, EINVAL, "a swap limit needs a memory limit");
	if (swap < limit)
		return berth_error_set(err, EINVAL,
				       "memory+swap limit %" PRId64
				       " is lower than the memory limit %" PRId64,
				       swap, limit);
	*ret = swap - limit;
	return 0;
}

static int write_memory(const char *dir, const struct berth_resources *r, struct berth_error **err)
{
	int q;

	if (r->memory_limit != BERTH_UNSET &&
	    (q = write_limit(dir, "memory.max", r->memory_limit, err)) < 0)
		return q;
	if (r->memory_reservation != BERTH_UNSET &&
	    (q = write_limit(dir, "memory.low", r->memory_reservation, err)) < 0)
		return q;
	if (r->memory_swap != BERTH_UNSET) {
		int64_t sw = 0;
		q = swap_value(dir, r, &sw, err);
		if (q < 0)
			return q;
		/* no swap accounting: nothing to limit, only "unlimited" is true */
		if (!cg_file_exists(dir, "memory.swap.max")) {
			if (sw > 0)
				return berth_error_set(err, ENOTSUP,
						       "swap limit: the kernel has no swap "
						       "accounting ('memory.swap.max')");
		} else if ((q = write_limit(dir, "memory.swap.max", sw, err)) < 0) {
			return q;
		}
	}
	return 0;
}

static int write_cpu(const char *dir, const struct berth_resources *r, struct berth_error **err)
{
	int q;

	if (r->cpu_realtime_runtime > 0 || r->cpu_realtime_period > 0)
		return berth_error_set(err, ENOTSUP, "realtime cpu limits need cgroup v1");
	if (r->cpu_shares != BERTH_UNSET && r->cpu_shares != 0 &&
	    (q = cg_writef(dir, "cpu.weight", err, "%" PRIu64, shares_to_weight(r->cpu_shares))) <
		    0)
		return q;
	if (r->cpu_quota != BERTH_UNSET || r->cpu_period != BERTH_UNSET) {
		_cleanup_free_ char *quota = NULL, *cur = NULL;
		if (r->cpu_quota != BERTH_UNSET) {
			if (r->cpu_quota > 0 && asprintf(&quota, "%" PRId64, r->cpu_quota) < 0)
				quota = NULL;
			else if (r->cpu_quota <= 0)
				quota = strdup("max");
		} else {
			/* period alone: keep the quota in force */
			if (cg_read(dir, "cpu.max", &cur, NULL) == 0)
				quota = strndup(cur, strcspn(cur, " "));
			else
				quota = strdup("max");
		}
		if (!quota)
			return berth_error_set(err, ENOMEM, "out of memory");
		if (r->cpu_period != BERTH_UNSET) {
			if (r->cpu_period <= 0)
				return berth_error_set(err, EINVAL, "invalid cpu period %" PRId64,
						       r->cpu_period);
			q = cg_writef(dir, "cpu.max", err, "%s %" PRId64, quota, r->cpu_period);
		} else {
			q = cg_write(dir, "cpu.max", quota, err);
		}
		if (q < 0)
			return q;
	}
	if (r->cpu_burst != BERTH_UNSET &&
	    (q = cg_writef(dir, "cpu.max.burst", err, "%" PRId64, r->cpu_burst)) < 0)
		return q;
	if (r->cpu_idle != BERTH_UNSET) {
		if (!cg_file_exists(dir, "cpu.idle")) {
			if (r->cpu_idle != 0)
				return berth_error_set(err, ENOTSUP,
						       "cpu idle: the kernel has no 'cpu.idle'");
		} else if ((q = cg_writef(dir, "cpu.idle", err, "%" PRId64, r->cpu_idle)) < 0) {
			return q;
		}
	}
	if (r->cpu_cpus && (q = cg_write(dir, "cpuset.cpus", r->cpu_cpus, err)) < 0)
		return q;
	if (r->cpu_mems && (q = cg_write(dir, "cpuset.mems", r->cpu_mems, err)) < 0)
		return q;
	return 0;
}

static int write_io_max(const char *dir, const char *key, const struct berth_throttle_device *t,
			size_t n, struct berth_error **err)
{
	for (size_t i = 0; i < n; i++) {
		int q;
		if (t[i].major < 0 || t[i].minor < 0)
			return berth_error_set(err, EINVAL,
					       "invalid throttle device %" PRId64 ":%" PRId64,
					       t[i].major, t[i].minor);
		/* 0 lifts the limit, as writing 0 does in v1 */
		if (t[i].rate == 0)
			q = cg_writef(dir, "io.max", err, "%" PRId64 ":%" PRId64 " %s=max",
				      t[i].major, t[i].minor, key);
		else
			q = cg_writef(dir, "io.max", err, "%" PRId64 ":%" PRId64 " %s=%" PRIu64,
				      t[i].major, t[i].minor, key, t[i].rate);
		if (q < 0)
			return q;
	}
	return 0;
}

static int write_io(const char *dir, const struct berth_resources *r, struct berth_error **err)
{
	/* a kernel with BFQ takes the v1 scale in io.bfq.weight; io.weight needs converting */
	bool bfq = cg_file_exists(dir, "io.bfq.weight");
	const char *wfile = bfq ? "io.bfq.weight" : "io.weight";
	int q;

	if (r->blkio_weight != BERTH_UNSET && r->blkio_weight != 0) {
		if (r->blkio_weight < 10 || r->blkio_weight > 1000)
			return berth_error_set(err, EINVAL, "invalid blkio weight %" PRId64,
					       r->blkio_weight);
		q = cg_writef(dir, wfile, err, "%" PRIu64,
			      bfq ? (uint64_t)r->blkio_weight
				  : blkio_to_io_weight(r->blkio_weight));
		if (q < 0)
			return q;
	}
	for (size_t i = 0; i < r->n_blkio_weight_device; i++) {
		const struct berth_weight_device *d = &r->blkio_weight_device[i];
		if (d->weight == BERTH_UNSET)
			continue;
		if (d->weight < 10 || d->weight > 1000 || d->major < 0 || d->minor < 0)
			return berth_error_set(err, EINVAL,
					       "invalid blkio weight device %" PRId64 ":%" PRId64
					       " %" PRId64,
					       d->major, d->minor, d->weight);
		q = cg_writef(dir, wfile, err, "%" PRId64 ":%" PRId64 " %" PRIu64, d->major,
			      d->minor, bfq ? (uint64_t)d->weight : blkio_to_io_weight(d->weight));
		/*
		 * io.weight takes a device's weight only once the io cost controller is on for
		 * that device (io.cost.qos at the root); the kernel says EOPNOTSUPP otherwise.
		 * runc drops device weights without BFQ; we say why they cannot be had.
		 */
		if (q == -EOPNOTSUPP && !bfq)
			return berth_error_wrap(err,
						"blkio weight for device %" PRId64 ":%" PRId64
						" needs the io cost controller enabled for it "
						"(io.cost.qos) or the BFQ scheduler",
						d->major, d->minor);
		if (q < 0)
			return q;
	}
	if ((q = write_io_max(dir, "rbps", r->throttle_read_bps, r->n_throttle_read_bps, err)) <
		    0 ||
	    (q = write_io_max(dir, "wbps", r->throttle_write_bps, r->n_throttle_write_bps, err)) <
		    0 ||
	    (q = write_io_max(dir, "riops", r->throttle_read_iops, r->n_throttle_read_iops, err)) <
		    0 ||
	    (q = write_io_max(dir, "wiops", r->throttle_write_iops, r->n_throttle_write_iops,
			      err)) < 0)
		return q;
	return 0;
}

int cg_write_hugetlb(const char *dir, const struct berth_resources *res, const char *limit_file,
		     struct berth_error **err)
{
	for (size_t i = 0; i < res->n_hugepage_limits; i++) {
		_cleanup_free_ char *file = NULL;
		const struct berth_hugepage_limit *h = &res->hugepage_limits[i];
		int q = cg_check_page_size(h->page_size, err);
		if (q < 0)
			return q;
		if (asprintf(&file, "hugetlb.%s.%s", h->page_size, limit_file) < 0)
			return berth_error_set(err, ENOMEM, "out of memory");
		q = cg_writef(dir, file, err, "%" PRIu64, h->limit);
		if (q < 0)
			return q;
	}
	return 0;
}

static int write_rdma(const char *dir, const struct berth_resources *r, struct berth_error **err)
{
	for (size_t i = 0; i < r->n_rdma; i++) {
		int q = check_word("rdma device", r->rdma[i].key, err);
		if (q < 0)
			return q;
		if (!r->rdma[i].value || strchr(r->rdma[i].value, '\n'))
			return berth_error_set(err, EINVAL, "invalid rdma limit for '%s'",
					       r->rdma[i].key);
		q = cg_writef(dir, "rdma.max", err, "%s %s", r->rdma[i].key, r->rdma[i].value);
		if (q < 0)
			return q;
	}
	return 0;
}

static int apply(struct berth_cgroup *cg, const char *dir, const struct berth_resources *r,
		 struct berth_error **err)
{
	int q;

	if (r->net_class_id != BERTH_UNSET || r->n_net_priorities)
		return berth_error_set(err, ENOTSUP,
				       "network class and priorities need cgroup v1 (net_cls, "
				       "net_prio)");
	if ((q = write_memory(dir, r, err)) < 0 || (q = write_cpu(dir, r, err)) < 0)
		return q;
	if (r->pids_limit != BERTH_UNSET &&
	    (q = write_limit(dir, "pids.max", r->pids_limit <= 0 ? -1 : r->pids_limit, err)) < 0)
		return q;
	if ((q = write_io(dir, r, err)) < 0 || (q = cg_write_hugetlb(dir, r, "max", err)) < 0 ||
	    (q = write_rdma(dir, r, err)) < 0)
		return q;
	for (size_t i = 0; i < r->n_unified; i++)
		if ((q = cg_write(dir, r->unified[i].key, r->unified[i].value, err)) < 0)
			return q;
	if (r->n_devices && (q = cg_bpf_apply_devices(dir, r->devices, r->n_devices, err)) < 0)
		return q;
	return 0;
}

/* Checks that need no file: done before anything is made. */
static int prepare(const struct berth_resources *res, char ***needed, struct berth_error **err)
{
	int q;

	if (res && (q = cg_check_unified(res, err)) < 0)
		return q;
	return needed_controllers(res, needed, err);
}

static int v2_enter(struct berth_cgroup *cg, pid_t pid, struct berth_error **err)
{
	_cleanup_free_ char *dir = dir_of(cg);

	if (!dir)
		return berth_error_set(err, ENOMEM, "out of memory");
	return cg_writef(dir, "cgroup.procs", err, "%d", (int)pid);
}

static int v2_create(struct berth_cgroup *cg, const struct berth_resources *res, pid_t pid,
		     struct berth_error **err)
{
	_cleanup_strv_ char **needed = NULL, **made = NULL;
	_cleanup_free_ char *dir = dir_of(cg);
	int q;

	if (!dir)
		return berth_error_set(err, ENOMEM, "out of memory");
	if ((q = prepare(res, &needed, err)) < 0)
		return q;
	q = cg_mkdir_path(cg, cg->root, &made, err);
	if (q == 0)
		q = cg_v2_enable_controllers(cg->root, cg->path, needed, true, err);
	if (q == 0 && res)
		q = apply(cg, dir, res, err);
	if (q == 0 && pid > 0)
		q = v2_enter(cg, pid, err);
	if (q < 0) {
		cg_rmdir_made(made);
		free(cg->made_from);
		cg->made_from = NULL;
	}
	return q;
}

static int v2_update(struct berth_cgroup *cg, const struct berth_resources *res,
		     struct berth_error **err)
{
	_cleanup_strv_ char **needed = NULL;
	_cleanup_free_ char *dir = dir_of(cg);
	int q;

	if (!dir)
		return berth_error_set(err, ENOMEM, "out of memory");
	if (access(dir, F_OK) < 0)
		return berth_error_sys(err, errno, "cgroup '%s'", dir);
	if ((q = prepare(res, &needed, err)) < 0)
		return q;
	if ((q = cg_v2_enable_controllers(cg->root, cg->path, needed, true, err)) < 0)
		return q;
	return apply(cg, dir, res, err);
}

/* ---- freezer ---------------------------------------------------------------------------- */

int cg_v2_is_frozen_dir(const char *dir, bool *ret, struct berth_error **err)
{
	_cleanup_free_ char *ev = NULL;
	int q = cg_read(dir, "cgroup.events", &ev, err);

	if (q < 0)
		return q;
	for (char *l = ev; l && *l;) {
		char *end = strchrnul(l, '\n');
		if (end - l == 8 && memcmp(l, "frozen 1", 8) == 0) {
			*ret = true;
			return 0;
		}
		l = *end ? end + 1 : end;
	}
	*ret = false;
	return 0;
}

int cg_v2_freeze_dir(const char *dir, bool frozen, struct berth_error **err)
{
	_cleanup_free_ char *events = NULL;
	_cleanup_close_ int fd = -EBADF;
	int q;

	q = cg_write(dir, "cgroup.freeze", frozen ? "1" : "0", err);
	if (q < 0)
		return q;
	/* cgroup.events signals a change with POLLPRI; poll bounds each wait */
	if (asprintf(&events, "%s/cgroup.events", dir) >= 0)
		fd = open(events, O_RDONLY | O_CLOEXEC);
	for (unsigned i = 0; i < 500; i++) {
		bool now;
		q = cg_v2_is_frozen_dir(dir, &now, err);
		if (q < 0)
			return q;
		if (now == frozen)
			return 0;
		if (fd >= 0) {
			struct pollfd p = {.fd = fd, .events = POLLPRI};
			char buf[256];
			if (pread(fd, buf, sizeof(buf), 0) < 0) {
				/* only to re-arm the notification */
			}
			poll(&p, 1, 10);
		} else {
			cg_sleep_ms(10);
		}
	}
	if (frozen)
		cg_write(dir, "cgroup.freeze", "0", NULL);
	return berth_error_set(err, ETIMEDOUT, "cgroup '%s' did not %s in time", dir,
			       frozen ? "freeze" : "thaw");
}

static int v2_freeze(struct berth_cgroup *cg, bool frozen, struct berth_error **err)
{
	_cleanup_free_ char *dir = dir_of(cg);

	if (!dir)
		return berth_error_set(err, ENOMEM, "out of memory");
	return cg_v2_freeze_dir(dir, frozen, err);
}

static int v2_is_frozen(struct berth_cgroup *cg, bool *ret, struct berth_error **err)
{
	_cleanup_free_ char *dir = dir_of(cg);

	if (!dir)
		return berth_error_set(err, ENOMEM, "out of memory");
	return cg_v2_is_frozen_dir(dir, ret, err);
}

/* ---- processes -------------------------------------------------------------------------- */

static int v2_pids(struct berth_cgroup *cg, pid_t **ret, size_t *ret_n, struct berth_error **err)
{
	_cleanup_free_ char *dir = dir_of(cg);
	_cleanup_free_ pid_t *pids = NULL;
	size_t n = 0;
	int q;

	if (!dir)
		return berth_error_set(err, ENOMEM, "out of memory");
	q = cg_collect_pids(dir, &pids, &n, err);
	if (q < 0)
		return q;
	*ret = TAKE_PTR(pids);
	*ret_n = n;
	return 0;
}

static int v2_kill_all(struct berth_cgroup *cg, int sig, struct berth_error **err)
{
	_cleanup_free_ char *dir = dir_of(cg);
	_cleanup_free_ pid_t *pids = NULL;
	size_t n = 0;
	int q;

	if (!dir)
		return berth_error_set(err, ENOMEM, "out of memory");
	/* kernel >= 5.14: one write kills the whole subtree, racing no fork */
	if (sig == SIGKILL && cg_file_exists(dir, "cgroup.kill"))
		return cg_write(dir, "cgroup.kill", "1", err);
	q = cg_collect_pids(dir, &pids, &n, err);
	if (q < 0)
		return q;
	for (size_t i = 0; i < n; i++)
		if (kill(pids[i], sig) < 0 && errno != ESRCH)
			return berth_error_sys(err, errno, "kill %d", (int)pids[i]);
	return 0;
}

static int v2_destroy(struct berth_cgroup *cg, struct berth_error **err)
{
	_cleanup_free_ char *dir = dir_of(cg);
	_cleanup_free_ pid_t *pids = NULL;
	size_t n = 0;

	if (!dir)
		return berth_error_set(err, ENOMEM, "out of memory");
	if (access(dir, F_OK) < 0 && errno == ENOENT)
		return 0;
	if (cg_collect_pids(dir, &pids, &n, NULL) == 0 && n > 0) {
		int q = v2_kill_all(cg, SIGKILL, err);
		if (q < 0)
			return q;
	}
	int r = cg_rmdir_tree(dir, err);
	if (r == 0)
		cg_rmdir_parents(cg, cg->root);
	return r;
}

static int v2_dirs(const struct berth_cgroup *cg, char ***ret, struct berth_error **err)
{
	_cleanup_free_ char *d = dir_of(cg);
	char **v = NULL;

	if (!d || berth_strv_push(&v, d) < 0)
		return berth_error_set(err, ENOMEM, "out of memory");
	*ret = v;
	return 0;
}

static int v2_hierarchies(const struct berth_cgroup *cg, char ***ret, struct berth_error **err)
{
	char **v = NULL;

	if (berth_strv_push(&v, "") < 0)
		return berth_error_set(err, ENOMEM, "out of memory");
	*ret = v;
	return 0;
}

/* ---- stats ------------------------------------------------------------------------------ */

static uint64_t u64(const char *dir, const char *file)
{
	uint64_t v = 0;

	if (cg_read_u64(dir, file, &v) < 0)
		return 0;
	return v;
}

int cg_v2_hugetlb_stats(const char *dir, struct berth_cgroup_stats *st)
{
	_cleanup_closedir_ DIR *d = opendir(dir);
	struct dirent *de;

	while (d && (de = readdir(d))) {
		/* hugetlb.<size>.current */
		const char *name = de->d_name;
		size_t l = strlen(name);
		if (!berth_str_has_prefix(name, "hugetlb.") || l < 17 ||
		    strcmp(name + l - 8, ".current") != 0 || strstr(name, ".rsvd.") ||
		    l - 16 >= sizeof(st->hugetlb[0].page_size))
			continue;
		struct berth_cgroup_hugetlb_stats h = {};
		struct berth_cgroup_stat_value *ev = NULL;
		size_t n_ev = 0;
		_cleanup_free_ char *fev = NULL;
		memcpy(h.page_size, name + 8, l - 16);
		if (asprintf(&fev, "hugetlb.%s.events", h.page_size) < 0 ||
		    cg_read_flat_keyed(dir, fev, &ev, &n_ev) < 0)
			return -ENOMEM;
		h.usage = u64(dir, name);
		h.failcnt = cg_keyed(ev, n_ev, "max");
		cg_stat_values_free(ev, n_ev);
		struct berth_cgroup_hugetlb_stats *nv =
			realloc(st->hugetlb, (st->n_hugetlb + 1) * sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		nv[st->n_hugetlb++] = h;
		st->hugetlb = nv;
	}
	return 0;
}

/* io.stat: "8:0 rbytes=1 wbytes=2 rios=3 wios=4 ..." -> Read/Write entries of bytes and ios */
static int parse_io_stat(const char *dir, struct berth_cgroup_stats *st)
{
	_cleanup_free_ char *s = NULL;

	if (cg_read(dir, "io.stat", &s, NULL) < 0)
		return 0;
	for (char *line = s, *next; line && *line; line = next) {
		unsigned maj, min;
		uint64_t rbytes = 0, wbytes = 0, rios = 0, wios = 0;
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		char *sp = strchr(line, ' ');
		if (!sp || sscanf(line, "%u:%u", &maj, &min) != 2)
			continue;
		for (char *kv = sp + 1, *n2; kv && *kv; kv = n2) {
			n2 = strchr(kv, ' ');
			if (n2)
				*n2++ = '\0';
			char *eq = strchr(kv, '=');
			uint64_t v;
			if (!eq || berth_parse_uint64(eq + 1, &v) < 0)
				continue;
			*eq = '\0';
			if (strcmp(kv, "rbytes") == 0)
				rbytes = v;
			else if (strcmp(kv, "wbytes") == 0)
				wbytes = v;
			else if (strcmp(kv, "rios") == 0)
				rios = v;
			else if (strcmp(kv, "wios") == 0)
				wios = v;
		}
		if (cg_push_io(&st->io_bytes, &st->n_io_bytes, maj, min, "Read", rbytes) < 0 ||
		    cg_push_io(&st->io_bytes, &st->n_io_bytes, maj, min, "Write", wbytes) < 0 ||
		    cg_push_io(&st->io_ops, &st->n_io_ops, maj, min, "Read", rios) < 0 ||
		    cg_push_io(&st->io_ops, &st->n_io_ops, maj, min, "Write", wios) < 0)
			return -ENOMEM;
	}
	return 0;
}

static int v2_stats(struct berth_cgroup *cg, struct berth_cgroup_stats *st,
		    struct berth_error **err)
{
	_cleanup_free_ char *dir = dir_of(cg);
	struct berth_cgroup_stat_value *cpu = NULL, *evm = NULL;
	size_t n_cpu = 0, n_evm = 0;
	int r = 0;

	if (!dir)
		return berth_error_set(err, ENOMEM, "out of memory");
	if (access(dir, F_OK) < 0)
		return berth_error_sys(err, errno, "cgroup '%s'", dir);
	if (cg_read_flat_keyed(dir, "cpu.stat", &cpu, &n_cpu) < 0 ||
	    cg_read_flat_keyed(dir, "memory.events", &evm, &n_evm) < 0 ||
	    cg_read_flat_keyed(dir, "memory.stat", &st->memory.stat, &st->memory.n_stat) < 0)
		r = -ENOMEM;
	st->cpu.total = cg_keyed(cpu, n_cpu, "usage_usec") * 1000;
	st->cpu.user = cg_keyed(cpu, n_cpu, "user_usec") * 1000;
	st->cpu.system = cg_keyed(cpu, n_cpu, "system_usec") * 1000;
	st->cpu.periods = cg_keyed(cpu, n_cpu, "nr_periods");
	st->cpu.throttled_periods = cg_keyed(cpu, n_cpu, "nr_throttled");
	st->cpu.throttled_time = cg_keyed(cpu, n_cpu, "throttled_usec") * 1000;

	/* "max" reads as UINT64_MAX */
	st->memory.usage.usage = u64(dir, "memory.current");
	st->memory.usage.max_usage = u64(dir, "memory.peak"); /* kernel 5.19+ */
	if (cg_read_u64(dir, "memory.max", &st->memory.usage.limit) < 0)
		st->memory.usage.limit = UINT64_MAX;
	st->memory.usage.failcnt = cg_keyed(evm, n_evm, "max");
	st->memory.oom = cg_keyed(evm, n_evm, "oom");
	st->memory.swap.usage = u64(dir, "memory.swap.current");
	st->memory.swap.max_usage = u64(dir, "memory.swap.peak");
	if (cg_read_u64(dir, "memory.swap.max", &st->memory.swap.limit) < 0)
		st->memory.swap.limit = UINT64_MAX;
	st->memory.cache = berth_cgroup_stats_memory_stat(st, "file");
	cg_stat_values_free(cpu, n_cpu);
	cg_stat_values_free(evm, n_evm);

	st->pids.current = u64(dir, "pids.current");
	if (cg_read_u64(dir, "pids.max", &st->pids.limit) < 0 || st->pids.limit == UINT64_MAX)
		st->pids.limit = 0;
	if (r == 0)
		r = parse_io_stat(dir, st);
	if (r == 0)
		r = cg_v2_hugetlb_stats(dir, st);
	if (r < 0)
		return berth_error_set(err, -r, "out of memory");
	return 0;
}

/* ---- events ----------------------------------------------------------------------------- */

/*
 * "oom" and "oom_kill" of memory.events (the whole subtree's, unless cgroup2 is mounted with
 * memory_localevents); -ENOENT once the cgroup is gone.
 */
static int read_memory_events(const char *dir, uint64_t v[2], struct berth_error **err)
{
	static const char *const keys[] = {"oom", "oom_kill", NULL};
	_cleanup_error_ struct berth_error *e = NULL;
	int r = cg_read_keyed(dir, "memory.events", keys, v, &e);

	if (r < 0 && r != -ENOENT && err)
		*err = TAKE_PTR(e);
	return r;
}

static int v2_events_read(struct berth_cgroup_events *ev, struct berth_cgroup_event_counts *ret,
			  struct berth_error **err)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	uint64_t v[2];
	ssize_t n;
	int r;

	/* drain inotify; IN_IGNORED: the watch went with the file (the cgroup was removed) */
	while ((n = read(ev->fd, buf, sizeof(buf))) > 0)
		for (char *p = buf; p < buf + n;) {
			struct inotify_event *ie = (struct inotify_event *)p;
			if (ie->mask & (IN_IGNORED | IN_DELETE_SELF))
				ev->gone = true;
			p += sizeof(*ie) + ie->len;
		}
	r = read_memory_events(ev->dir, v, err);
	if (r == -ENOENT) {
		ev->gone = true;
		return 0;
	}
	if (r < 0)
		return r;
	ret->oom = v[0] > ev->oom ? v[0] - ev->oom : 0;
	ret->oom_kill = v[1] > ev->oom_kill ? v[1] - ev->oom_kill : 0;
	ev->oom = v[0];
	ev->oom_kill = v[1];
	return 0;
}

/*
 * memory.events is a kernfs file whose changes inotify reports as IN_MODIFY: one notification
 * (at most every 10 ms, the later ones deferred, none lost) for each counter the kernel raises,
 * "oom" when the OOM killer is invoked and "oom_kill" once it has killed.  The baseline is read
 * after the watch is in place, so that no change after it goes unnoticed.
 */
static int v2_events_open(struct berth_cgroup *cg, struct berth_cgroup_events **ret,
			  struct berth_error **err)
{
	_cleanup_free_ char *dir = dir_of(cg), *path = NULL;
	struct berth_cgroup_events *ev = NULL;
	uint64_t v[2];
	int r;

	if (!dir || asprintf(&path, "%s/memory.events", dir) < 0)
		return berth_error_set(err, ENOMEM, "out of memory");
	if (!cg_file_exists(dir, "memory.events"))
		return berth_error_set(err, ENOTSUP, "'%s' missing: no memory controller", path);
	r = cg_events_new(dir, &ev, err);
	if (r < 0)
		return r;
	ev->read = v2_events_read;
	ev->fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	if (ev->fd < 0) {
		r = berth_error_sys(err, errno, "inotify_init1");
		goto fail;
	}
	if (inotify_add_watch(ev->fd, path, IN_MODIFY | IN_DELETE_SELF) < 0) {
		r = berth_error_sys(err, errno, "watch '%s'", path);
		goto fail;
	}
	r = read_memory_events(dir, v, err);
	if (r == -ENOENT)
		r = berth_error_set(err, ENOENT, "cgroup '%s' is gone", dir);
	if (r < 0)
		goto fail;
	ev->oom = v[0];
	ev->oom_kill = v[1];
	*ret = ev;
	return 0;
fail:
	berth_cgroup_events_free(ev);
	return r;
}

const struct berth_cgroup_ops cg_v2_ops = {
	.name = "v2",
	.create = v2_create,
	.enter = v2_enter,
	.update = v2_update,
	.freeze = v2_freeze,
	.is_frozen = v2_is_frozen,
	.pids = v2_pids,
	.kill_all = v2_kill_all,
	.stats = v2_stats,
	.events_open = v2_events_open,
	.destroy = v2_destroy,
	.hierarchies = v2_hierarchies,
	.dirs = v2_dirs,
};
