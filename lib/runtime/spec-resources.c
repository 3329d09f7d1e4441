/* SPDX-License-Identifier: Apache-2.0 */
/*
 * linux.resources of config.json, and the same object alone for `update -r`: memory, cpu, pids,
 * blockIO, devices (cgroup rules), hugepageLimits, network, rdma, unified.  Names that end up
 * in cgroup file names or contents are checked here.  Policy as in spec.c.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/spec-internal.h"
#include "base/banned.h"

/* Caps on what a document may ask for; each is far above what a real config uses. */
#define MAX_DEVICE_RULES    10000
#define MAX_BLKIO_DEVICES   10000
#define MAX_HUGEPAGE_LIMITS 1000
#define MAX_RESOURCE_KEYS   10000

/* A name that becomes one path component or one token of a cgroup file. */
static bool valid_token(const char *s)
{
	if (!*s || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		return false;
	for (; *s; s++)
		if (*s == '/' || *s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
			return false;
	return true;
}

/* ---- linux.resources ----------------------------------------------------------------------- */

static int parse_memory(json_t *res, const char *path, struct berth_resources *rs,
			struct berth_error **err)
{
	_cleanup_free_ char *p = NULL;
	json_t *mem;
	bool b;
	int r;

	r = spec_get_object(res, path, "memory", false, &mem, err);
	if (r <= 0)
		return r;
	p = spec_sub_path(path, "memory");
	if (!p)
		return spec_oom(err);
	/* -1: unlimited */
	if ((r = spec_get_int(mem, p, "limit", false, -1, INT64_MAX, &rs->memory_limit, err)) < 0 ||
	    (r = spec_get_int(mem, p, "reservation", false, -1, INT64_MAX, &rs->memory_reservation,
			      err)) < 0 ||
	    (r = spec_get_int(mem, p, "swap", false, -1, INT64_MAX, &rs->memory_swap, err)) < 0 ||
	    (r = spec_get_int(mem, p, "kernel", false, -1, INT64_MAX, &rs->memory_kernel, err)) <
		    0 ||
	    (r = spec_get_int(mem, p, "kernelTCP", false, -1, INT64_MAX, &rs->memory_kernel_tcp,
			      err)) < 0)
		return r;
	/* docker sends -1 (as uint64, so 2^64-1) for "not set"; anything else is 0..100 */
	if (spec_member(mem, "swappiness") && json_is_integer(spec_member(mem, "swappiness")) &&
	    json_integer_value(spec_member(mem, "swappiness")) == -1) {
		rs->memory_swappiness = BERTH_UNSET;
	} else {
		r = spec_get_int(mem, p, "swappiness", false, 0, 100, &rs->memory_swappiness, err);
		if (r < 0)
			return r;
	}
	r = spec_get_bool(mem, p, "disableOOMKiller", &b, err);
	if (r < 0)
		return r;
	if (r)
		rs->disable_oom_killer = b;
	r = spec_get_bool(mem, p, "useHierarchy", &b, err);
	if (r < 0)
		return r;
	if (r)
		rs->use_hierarchy = b;
	return 0;
}

static int parse_cpu(json_t *res, const char *path, struct berth_resources *rs,
		     struct berth_error **err)
{
	_cleanup_free_ char *p = NULL;
	json_t *cpu;
	int r;

	r = spec_get_object(res, path, "cpu", false, &cpu, err);
	if (r <= 0)
		return r;
	p = spec_sub_path(path, "cpu");
	if (!p)
		return spec_oom(err);
	if ((r = spec_get_int(cpu, p, "shares", false, 0, INT64_MAX, &rs->cpu_shares, err)) < 0 ||
	    (r = spec_get_int(cpu, p, "quota", false, -1, INT64_MAX, &rs->cpu_quota, err)) < 0 ||
	    (r = spec_get_int(cpu, p, "burst", false, 0, INT64_MAX, &rs->cpu_burst, err)) < 0 ||
	    (r = spec_get_int(cpu, p, "period", false, 0, INT64_MAX, &rs->cpu_period, err)) < 0 ||
	    (r = spec_get_int(cpu, p, "realtimeRuntime", false, -1, INT64_MAX,
			      &rs->cpu_realtime_runtime, err)) < 0 ||
	    (r = spec_get_int(cpu, p, "realtimePeriod", false, 0, INT64_MAX,
			      &rs->cpu_realtime_period, err)) < 0 ||
	    (r = spec_get_int(cpu, p, "idle", false, 0, 1, &rs->cpu_idle, err)) < 0)
		return r;
	r = spec_get_string(cpu, p, "cpus", false, &rs->cpu_cpus, err);
	if (r < 0)
		return r;
	if (r && *rs->cpu_cpus && !spec_valid_cpu_list(rs->cpu_cpus))
		return spec_ferr(err, p, "cpus", "invalid CPU list '%s'", rs->cpu_cpus);
	r = spec_get_string(cpu, p, "mems", false, &rs->cpu_mems, err);
	if (r < 0)
		return r;
	if (r && *rs->cpu_mems && !spec_valid_cpu_list(rs->cpu_mems))
		return spec_ferr(err, p, "mems", "invalid node list '%s'", rs->cpu_mems);
	return 0;
}

static int parse_throttle(json_t *blkio, const char *path, const char *key,
			  struct berth_throttle_device **ret, size_t *ret_n,
			  struct berth_error **err)
{
	json_t *arr, *e;
	size_t i;
	int r;

	r = spec_get_array(blkio, path, key, MAX_BLKIO_DEVICES, &arr, err);
	if (r <= 0 || json_array_size(arr) == 0)
		return r;
	*ret = calloc(json_array_size(arr), sizeof(**ret));
	if (!*ret)
		return spec_oom(err);
	*ret_n = json_array_size(arr);
	for (i = 0; i < json_array_size(arr); i++) {
		_cleanup_free_ char *pp = NULL;
		struct berth_throttle_device *t = &(*ret)[i];

		r = spec_array_elem(arr, i, path, key, &e, &pp, err);
		if (r < 0)
			return r;
		if ((r = spec_get_int(e, pp, "major", true, 0, UINT32_MAX, &t->major, err)) < 0 ||
		    (r = spec_get_int(e, pp, "minor", true, 0, UINT32_MAX, &t->minor, err)) < 0 ||
		    (r = spec_get_u64(e, pp, "rate", true, &t->rate, err)) < 0)
			return r;
	}
	return 0;
}

static int parse_block_io(json_t *res, const char *path, struct berth_resources *rs,
			  struct berth_error **err)
{
	_cleanup_free_ char *p = NULL;
	json_t *blkio, *arr, *e;
	size_t i;
	int r;

	r = spec_get_object(res, path, "blockIO", false, &blkio, err);
	if (r <= 0)
		return r;
	p = spec_sub_path(path, "blockIO");
	if (!p)
		return spec_oom(err);
	if ((r = spec_get_int(blkio, p, "weight", false, 0, UINT16_MAX, &rs->blkio_weight, err)) <
		    0 ||
	    (r = spec_get_int(blkio, p, "leafWeight", false, 0, UINT16_MAX, &rs->blkio_leaf_weight,
			      err)) < 0)
		return r;
	r = spec_get_array(blkio, p, "weightDevice", MAX_BLKIO_DEVICES, &arr, err);
	if (r < 0)
		return r;
	if (r && json_array_size(arr) > 0) {
		rs->blkio_weight_device =
			calloc(json_array_size(arr), sizeof(struct berth_weight_device));
		if (!rs->blkio_weight_device)
			return spec_oom(err);
		rs->n_blkio_weight_device = json_array_size(arr);
		for (i = 0; i < json_array_size(arr); i++) {
			_cleanup_free_ char *pp = NULL;
			struct berth_weight_device *w = &rs->blkio_weight_device[i];

			r = spec_array_elem(arr, i, p, "weightDevice", &e, &pp, err);
			if (r < 0)
				return r;
			w->weight = w->leaf_weight = BERTH_UNSET;
			if ((r = spec_get_int(e, pp, "major", true, 0, UINT32_MAX, &w->major,
					      err)) < 0 ||
			    (r = spec_get_int(e, pp, "minor", true, 0, UINT32_MAX, &w->minor,
					      err)) < 0 ||
			    (r = spec_get_int(e, pp, "weight", false, 0, UINT16_MAX, &w->weight,
					      err)) < 0 ||
			    (r = spec_get_int(e, pp, "leafWeight", false, 0, UINT16_MAX,
					      &w->leaf_weight, err)) < 0)
				return r;
		}
	}
	if ((r = parse_throttle(blkio, p, "throttleReadBpsDevice", &rs->throttle_read_bps,
				&rs->n_throttle_read_bps, err)) < 0 ||
	    (r = parse_throttle(blkio, p, "throttleWriteBpsDevice", &rs->throttle_write_bps,
				&rs->n_throttle_write_bps, err)) < 0 ||
	    (r = parse_throttle(blkio, p, "throttleReadIOPSDevice", &rs->throttle_read_iops,
				&rs->n_throttle_read_iops, err)) < 0 ||
	    (r = parse_throttle(blkio, p, "throttleWriteIOPSDevice", &rs->throttle_write_iops,
				&rs->n_throttle_write_iops, err)) < 0)
		return r;
	return 0;
}

static int parse_device_rules(json_t *res, const char *path, struct berth_resources *rs,
			      struct berth_error **err)
{
	json_t *arr, *e;
	size_t i;
	int r;

	r = spec_get_array(res, path, "devices", MAX_DEVICE_RULES, &arr, err);
	if (r <= 0 || json_array_size(arr) == 0)
		return r;
	rs->devices = calloc(json_array_size(arr), sizeof(*rs->devices));
	if (!rs->devices)
		return spec_oom(err);
	rs->n_devices = json_array_size(arr);
	for (i = 0; i < json_array_size(arr); i++) {
		_cleanup_free_ char *pp = NULL, *type = NULL, *access = NULL;
		struct berth_device_rule *d = &rs->devices[i];

		r = spec_array_elem(arr, i, path, "devices", &e, &pp, err);
		if (r < 0)
			return r;
		if ((r = spec_get_bool(e, pp, "allow", &d->allow, err)) < 0)
			return r;
		r = spec_get_string(e, pp, "type", false, &type, err);
		if (r < 0)
			return r;
		/* absent: every type */
		if (!type || !*type)
			d->type = 'a';
		else if (strlen(type) == 1 && strchr("acb", type[0]))
			d->type = type[0];
		else
			return spec_ferr(err, pp, "type",
					 "unknown device type '%s' (expected a, c or b)", type);
		d->major = d->minor = -1;
		if ((r = spec_get_int(e, pp, "major", false, -1, UINT32_MAX, &d->major, err)) < 0 ||
		    (r = spec_get_int(e, pp, "minor", false, -1, UINT32_MAX, &d->minor, err)) < 0)
			return r;
		r = spec_get_string(e, pp, "access", false, &access, err);
		if (r < 0)
			return r;
		if (!access || !*access) {
			memcpy(d->access, "rwm", 4);
			continue;
		}
		size_t n = 0;
		for (const char *c = access; *c; c++) {
			if (!strchr("rwm", *c) || memchr(d->access, *c, n))
				return spec_ferr(err, pp, "access",
						 "invalid access '%s' (a subset of rwm)", access);
			d->access[n++] = *c;
		}
		d->access[n] = '\0';
	}
	return 0;
}

static int parse_hugepages(json_t *res, const char *path, struct berth_resources *rs,
			   struct berth_error **err)
{
	json_t *arr, *e;
	size_t i;
	int r;

	r = spec_get_array(res, path, "hugepageLimits", MAX_HUGEPAGE_LIMITS, &arr, err);
	if (r <= 0 || json_array_size(arr) == 0)
		return r;
	rs->hugepage_limits = calloc(json_array_size(arr), sizeof(*rs->hugepage_limits));
	if (!rs->hugepage_limits)
		return spec_oom(err);
	rs->n_hugepage_limits = json_array_size(arr);
	for (i = 0; i < json_array_size(arr); i++) {
		_cleanup_free_ char *pp = NULL;
		struct berth_hugepage_limit *h = &rs->hugepage_limits[i];

		r = spec_array_elem(arr, i, path, "hugepageLimits", &e, &pp, err);
		if (r < 0)
			return r;
		r = spec_get_string(e, pp, "pageSize", true, &h->page_size, err);
		if (r < 0)
			return r;
		/* it becomes part of a file name: hugetlb.<pageSize>.limit_in_bytes */
		for (const char *c = h->page_size; *c; c++)
			if (!((*c >= '0' && *c <= '9') || (*c >= 'A' && *c <= 'Z') ||
			      (*c >= 'a' && *c <= 'z')))
				return spec_ferr(err, pp, "pageSize", "invalid page size '%s'",
						 h->page_size);
		if (!*h->page_size)
			return spec_ferr(err, pp, "pageSize", "must not be empty");
		if ((r = spec_get_u64(e, pp, "limit", true, &h->limit, err)) < 0)
			return r;
	}
	return 0;
}

static int parse_network(json_t *res, const char *path, struct berth_resources *rs,
			 struct berth_error **err)
{
	_cleanup_free_ char *p = NULL;
	json_t *net, *arr, *e;
	size_t i;
	int r;

	r = spec_get_object(res, path, "network", false, &net, err);
	if (r <= 0)
		return r;
	p = spec_sub_path(path, "network");
	if (!p)
		return spec_oom(err);
	if ((r = spec_get_int(net, p, "classID", false, 0, UINT32_MAX, &rs->net_class_id, err)) < 0)
		return r;
	r = spec_get_array(net, p, "priorities", MAX_RESOURCE_KEYS, &arr, err);
	if (r <= 0 || json_array_size(arr) == 0)
		return r;
	rs->net_priorities = calloc(json_array_size(arr), sizeof(*rs->net_priorities));
	if (!rs->net_priorities)
		return spec_oom(err);
	rs->n_net_priorities = json_array_size(arr);
	for (i = 0; i < json_array_size(arr); i++) {
		_cleanup_free_ char *pp = NULL;
		struct berth_key_value *kv = &rs->net_priorities[i];
		int64_t prio;

		r = spec_array_elem(arr, i, p, "priorities", &e, &pp, err);
		if (r < 0)
			return r;
		r = spec_get_string(e, pp, "name", true, &kv->key, err);
		if (r < 0)
			return r;
		if (!valid_token(kv->key))
			return spec_ferr(err, pp, "name", "invalid interface name '%s'", kv->key);
		r = spec_get_int(e, pp, "priority", true, 0, UINT32_MAX, &prio, err);
		if (r < 0)
			return r;
		if (asprintf(&kv->value, "%" PRId64, prio) < 0) {
			kv->value = NULL;
			return spec_oom(err);
		}
	}
	return 0;
}

static int parse_rdma(json_t *res, const char *path, struct berth_resources *rs,
		      struct berth_error **err)
{
	_cleanup_free_ char *p = NULL;
	json_t *rdma, *e;
	const char *dev;
	size_t n = 0;
	int r;

	r = spec_get_object(res, path, "rdma", false, &rdma, err);
	if (r <= 0 || json_object_size(rdma) == 0)
		return r;
	p = spec_sub_path(path, "rdma");
	if (!p)
		return spec_oom(err);
	if (json_object_size(rdma) > MAX_RESOURCE_KEYS)
		return spec_ferr(err, p, NULL, "too many entries (%zu, at most %d)",
				 json_object_size(rdma), MAX_RESOURCE_KEYS);
	rs->rdma = calloc(json_object_size(rdma), sizeof(*rs->rdma));
	if (!rs->rdma)
		return spec_oom(err);
	rs->n_rdma = json_object_size(rdma);
	json_object_foreach (rdma, dev, e) {
		_cleanup_free_ char *pp = spec_sub_path(p, dev);
		struct berth_key_value *kv = &rs->rdma[n++];
		int64_t handles = -1, objects = -1;

		if (!pp)
			return spec_oom(err);
		if (!valid_token(dev))
			return spec_ferr(err, pp, NULL, "invalid device name");
		if (!json_is_object(e))
			return spec_ferr(err, pp, NULL, "expected an object");
		if ((r = spec_get_int(e, pp, "hcaHandles", false, 0, UINT32_MAX, &handles, err)) <
			    0 ||
		    (r = spec_get_int(e, pp, "hcaObjects", false, 0, UINT32_MAX, &objects, err)) <
			    0)
			return r;
		kv->key = strdup(dev);
		if (!kv->key)
			return spec_oom(err);
		/* rdma.max's own syntax; a limit not given is left out (the kernel keeps "max") */
		if (handles >= 0 && objects >= 0)
			r = asprintf(&kv->value, "hca_handle=%" PRId64 " hca_object=%" PRId64,
				     handles, objects);
		else if (handles >= 0)
			r = asprintf(&kv->value, "hca_handle=%" PRId64, handles);
		else if (objects >= 0)
			r = asprintf(&kv->value, "hca_object=%" PRId64, objects);
		else
			return spec_ferr(err, pp, NULL, "neither hcaHandles nor hcaObjects given");
		if (r < 0) {
			kv->value = NULL;
			return spec_oom(err);
		}
	}
	return 0;
}

static int parse_unified(json_t *res, const char *path, struct berth_resources *rs,
			 struct berth_error **err)
{
	int r;

	r = spec_get_map(res, path, "unified", MAX_RESOURCE_KEYS, &rs->unified, &rs->n_unified,
			 err);
	if (r <= 0)
		return r;
	/* each key is a file name inside the container's cgroup; it must stay inside */
	for (size_t i = 0; i < rs->n_unified; i++)
		if (!valid_token(rs->unified[i].key))
			return spec_ferr(err, path, "unified", "invalid cgroup file name '%s'",
					 rs->unified[i].key);
	return 0;
}

/*
 * runc's rule for resource input, which dockerd and containerd rely on: they send every field,
 * 0 for "not set", on create and on update.  For these fields 0 means "leave the value in
 * force" (at create: the kernel's default), never "write 0" (libcontainer/cgroups/fs: memory.go,
 * cpu.go, pids.go, blkio.go).  Fields that are pointers in runc's config (swappiness, burst, idle,
 * the OOM killer switch) keep their 0.
 */
static void zero_means_unset(struct berth_resources *rs)
{
	int64_t *fields[] = {
		&rs->memory_limit,	  &rs->memory_reservation, &rs->memory_swap,
		&rs->memory_kernel,	  &rs->memory_kernel_tcp,  &rs->cpu_shares,
		&rs->cpu_quota,		  &rs->cpu_period,	   &rs->cpu_realtime_runtime,
		&rs->cpu_realtime_period, &rs->pids_limit,	   &rs->blkio_weight,
		&rs->blkio_leaf_weight,
	};

	for (size_t i = 0; i < ARRAY_SIZE(fields); i++)
		if (*fields[i] == 0)
			*fields[i] = BERTH_UNSET;
	/* "" cpus/mems: not set (runc writes cpuset files only for a non-empty list) */
	if (rs->cpu_cpus && !*rs->cpu_cpus) {
		free(rs->cpu_cpus);
		rs->cpu_cpus = NULL;
	}
	if (rs->cpu_mems && !*rs->cpu_mems) {
		free(rs->cpu_mems);
		rs->cpu_mems = NULL;
	}
}

int spec_parse_resources(json_t *j, const char *path, struct berth_resources **ret,
			 struct berth_error **err)
{
	struct berth_resources *rs;
	json_t *pids;
	int r;

	if (!json_is_object(j))
		return spec_ferr(err, path, NULL, "expected an object");
	rs = berth_resources_new();
	if (!rs)
		return spec_oom(err);
	*ret = rs;
	if ((r = parse_device_rules(j, path, rs, err)) < 0 ||
	    (r = parse_memory(j, path, rs, err)) < 0 || (r = parse_cpu(j, path, rs, err)) < 0)
		return r;
	r = spec_get_object(j, path, "pids", false, &pids, err);
	if (r < 0)
		return r;
	if (pids) {
		_cleanup_free_ char *p = spec_sub_path(path, "pids");

		if (!p)
			return spec_oom(err);
		/* -1: unlimited; 0: leave as it is (runc's rule, zero_means_unset) */
		r = spec_get_int(pids, p, "limit", false, -1, INT64_MAX, &rs->pids_limit, err);
		if (r < 0)
			return r;
	}
	if ((r = parse_block_io(j, path, rs, err)) < 0 ||
	    (r = parse_hugepages(j, path, rs, err)) < 0 ||
	    (r = parse_network(j, path, rs, err)) < 0 || (r = parse_rdma(j, path, rs, err)) < 0 ||
	    (r = parse_unified(j, path, rs, err)) < 0)
		return r;
	zero_means_unset(rs);
	return 0;
}

int berth_resources_parse(json_t *j, struct berth_resources **ret, struct berth_error **err)
{
	struct berth_resources *rs = NULL;
	int r;

	r = spec_parse_resources(j, "", &rs, err);
	if (r < 0) {
		berth_resources_free(rs);
		return r;
	}
	*ret = rs;
	return 0;
}
