/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The process object of config.json (and of `exec --process`): args, env, cwd, user,
 * capabilities, rlimits, scheduler, ioPriority, execCPUAffinity.  Policy as in spec.c.
 */
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/spec-internal.h"
#include "base/banned.h"

/* Caps on what a document may ask for; each is far above what a real config uses. */
#define MAX_GROUPS	65536 /* NGROUPS_MAX */
#define MAX_CAP_NAMES	1000
#define MAX_RLIMITS	64
#define MAX_SCHED_FLAGS 64

/* linux/ioprio.h is missing from older kernel headers; the values are ABI. */
#define BERTH_IOPRIO_CLASS_RT	1
#define BERTH_IOPRIO_CLASS_BE	2
#define BERTH_IOPRIO_CLASS_IDLE 3

#ifndef SCHED_DEADLINE
#define SCHED_DEADLINE 6
#endif

/* ---- process ------------------------------------------------------------------------------- */

static int parse_cap_set(json_t *caps, const char *path, const char *key, uint64_t *ret,
			 struct berth_error **err)
{
	json_t *arr, *e;
	size_t i;
	int r;

	r = spec_get_array(caps, path, key, MAX_CAP_NAMES, &arr, err);
	if (r <= 0)
		return r;
	*ret = 0;
	json_array_foreach (arr, i, e) {
		int cap;

		if (!json_is_string(e))
			return spec_ferr(err, path, key, "expected an array of strings");
		cap = berth_cap_from_name(json_string_value(e));
		if (cap < 0)
			return spec_ferr(err, path, key, "unknown capability '%s'",
					 json_string_value(e));
		*ret |= UINT64_C(1) << cap;
	}
	return 1;
}

static int parse_capabilities(json_t *proc, const char *path, struct berth_capabilities *c,
			      struct berth_error **err)
{
	_cleanup_free_ char *p = NULL;
	json_t *caps;
	int r;

	r = spec_get_object(proc, path, "capabilities", false, &caps, err);
	if (r <= 0)
		return r;
	p = spec_sub_path(path, "capabilities");
	if (!p)
		return spec_oom(err);
	c->present = true;
	if ((r = parse_cap_set(caps, p, "bounding", &c->bounding, err)) < 0 ||
	    (r = parse_cap_set(caps, p, "effective", &c->effective, err)) < 0 ||
	    (r = parse_cap_set(caps, p, "inheritable", &c->inheritable, err)) < 0 ||
	    (r = parse_cap_set(caps, p, "permitted", &c->permitted, err)) < 0 ||
	    (r = parse_cap_set(caps, p, "ambient", &c->ambient, err)) < 0)
		return r;
	return 0;
}

static int parse_rlimits(json_t *proc, const char *path, struct berth_process *pr,
			 struct berth_error **err)
{
	json_t *arr, *e;
	size_t i;
	int r;

	r = spec_get_array(proc, path, "rlimits", MAX_RLIMITS, &arr, err);
	if (r <= 0 || json_array_size(arr) == 0)
		return r;
	pr->rlimits = calloc(json_array_size(arr), sizeof(*pr->rlimits));
	if (!pr->rlimits)
		return spec_oom(err);
	for (i = 0; i < json_array_size(arr); i++) {
		_cleanup_free_ char *pp = NULL, *type = NULL;
		struct berth_rlimit *rl = &pr->rlimits[i];

		r = spec_array_elem(arr, i, path, "rlimits", &e, &pp, err);
		if (r < 0)
			return r;
		r = spec_get_string(e, pp, "type", true, &type, err);
		if (r < 0)
			return r;
		rl->resource = berth_rlimit_from_name(type);
		if (rl->resource < 0)
			return spec_ferr(err, pp, "type", "unknown rlimit '%s'", type);
		for (size_t k = 0; k < pr->n_rlimits; k++)
			if (pr->rlimits[k].resource == rl->resource)
				return spec_ferr(err, pp, "type", "duplicate rlimit '%s'", type);
		r = spec_get_u64(e, pp, "soft", true, &rl->soft, err);
		if (r < 0)
			return r;
		r = spec_get_u64(e, pp, "hard", true, &rl->hard, err);
		if (r < 0)
			return r;
		pr->n_rlimits++;
	}
	return 0;
}

static int parse_user(json_t *proc, const char *path, struct berth_process *pr,
		      struct berth_error **err)
{
	_cleanup_free_ char *p = NULL;
	json_t *user, *arr, *e;
	int64_t v;
	size_t i;
	int r;

	r = spec_get_object(proc, path, "user", false, &user, err);
	if (r <= 0)
		return r;
	p = spec_sub_path(path, "user");
	if (!p)
		return spec_oom(err);
	/* (uid_t)-1 means "leave unchanged" to setresuid(); as an id it would be a surprise */
	r = spec_get_int(user, p, "uid", false, 0, UINT32_MAX - 1, &v, err);
	if (r < 0)
		return r;
	if (r)
		pr->uid = (uid_t)v;
	r = spec_get_int(user, p, "gid", false, 0, UINT32_MAX - 1, &v, err);
	if (r < 0)
		return r;
	if (r)
		pr->gid = (gid_t)v;
	r = spec_get_int(user, p, "umask", false, 0, 0777, &pr->umask, err);
	if (r < 0)
		return r;
	r = spec_get_array(user, p, "additionalGids", MAX_GROUPS, &arr, err);
	if (r < 0)
		return r;
	if (r && json_array_size(arr) > 0) {
		pr->additional_gids = calloc(json_array_size(arr), sizeof(gid_t));
		if (!pr->additional_gids)
			return spec_oom(err);
		pr->n_additional_gids = json_array_size(arr);
		json_array_foreach (arr, i, e) {
			if (!json_is_integer(e) || json_integer_value(e) < 0 ||
			    json_integer_value(e) > (json_int_t)UINT32_MAX - 1)
				return spec_ferr(err, p, "additionalGids",
						 "expected an array of integers 0..4294967294");
			pr->additional_gids[i] = (gid_t)json_integer_value(e);
		}
	}
	return 0;
}

static int parse_io_priority(json_t *proc, const char *path, struct berth_process *pr,
			     struct berth_error **err)
{
	static const struct {
		const char *name;
		int class_;
	} classes[] = {
		{"IOPRIO_CLASS_RT", BERTH_IOPRIO_CLASS_RT},
		{"IOPRIO_CLASS_BE", BERTH_IOPRIO_CLASS_BE},
		{"IOPRIO_CLASS_IDLE", BERTH_IOPRIO_CLASS_IDLE},
	};
	_cleanup_free_ char *p = NULL, *cls = NULL;
	json_t *io;
	int64_t v = 0;
	int r;

	r = spec_get_object(proc, path, "ioPriority", false, &io, err);
	if (r <= 0)
		return r;
	p = spec_sub_path(path, "ioPriority");
	if (!p)
		return spec_oom(err);
	r = spec_get_string(io, p, "class", true, &cls, err);
	if (r < 0)
		return r;
	for (size_t i = 0; i < ARRAY_SIZE(classes); i++)
		if (strcmp(classes[i].name, cls) == 0)
			pr->io_priority_class = classes[i].class_;
	if (pr->io_priority_class < 0)
		return spec_ferr(err, p, "class", "unknown class '%s'", cls);
	r = spec_get_int(io, p, "priority", false, 0, 7, &v, err);
	if (r < 0)
		return r;
	pr->io_priority = (int)v;
	return 0;
}

static int parse_scheduler(json_t *proc, const char *path, struct berth_process *pr,
			   struct berth_error **err)
{
	static const struct {
		const char *name;
		int policy;
	} policies[] = {
		{"SCHED_OTHER", SCHED_OTHER},
		{"SCHED_FIFO", SCHED_FIFO},
		{"SCHED_RR", SCHED_RR},
		{"SCHED_BATCH", SCHED_BATCH},
		{"SCHED_ISO", 4}, /* reserved by Linux; the kernel itself will refuse it */
		{"SCHED_IDLE", SCHED_IDLE},
		{"SCHED_DEADLINE", SCHED_DEADLINE},
	};
	/* sched_setattr(2)'s sched_flags; the values are ABI (linux/sched.h) */
	static const struct spec_flag_name flags[] = {
		{"SCHED_FLAG_RESET_ON_FORK", 0x01},  {"SCHED_FLAG_RECLAIM", 0x02},
		{"SCHED_FLAG_DL_OVERRUN", 0x04},     {"SCHED_FLAG_KEEP_POLICY", 0x08},
		{"SCHED_FLAG_KEEP_PARAMS", 0x10},    {"SCHED_FLAG_UTIL_CLAMP_MIN", 0x20},
		{"SCHED_FLAG_UTIL_CLAMP_MAX", 0x40},
	};
	_cleanup_free_ char *p = NULL, *policy = NULL;
	json_t *sched;
	int64_t v;
	size_t i;
	int r;

	r = spec_get_object(proc, path, "scheduler", false, &sched, err);
	if (r <= 0)
		return r;
	p = spec_sub_path(path, "scheduler");
	if (!p)
		return spec_oom(err);
	r = spec_get_string(sched, p, "policy", true, &policy, err);
	if (r < 0)
		return r;
	pr->sched_policy = -1;
	for (i = 0; i < ARRAY_SIZE(policies); i++)
		if (strcmp(policies[i].name, policy) == 0)
			pr->sched_policy = policies[i].policy;
	if (pr->sched_policy < 0)
		return spec_ferr(err, p, "policy", "unknown policy '%s'", policy);
	pr->has_scheduler = true;
	v = 0;
	r = spec_get_int(sched, p, "nice", false, -20, 19, &v, err);
	if (r < 0)
		return r;
	pr->sched_nice = (int)v;
	v = 0;
	r = spec_get_int(sched, p, "priority", false, 0, 99, &v, err);
	if (r < 0)
		return r;
	pr->sched_priority = (int)v;
	r = spec_get_flag_names(sched, p, "flags", MAX_SCHED_FLAGS, flags, ARRAY_SIZE(flags),
				&pr->sched_flags, err);
	if (r < 0)
		return r;
	if ((r = spec_get_u64(sched, p, "runtime", false, &pr->sched_runtime, err)) < 0 ||
	    (r = spec_get_u64(sched, p, "deadline", false, &pr->sched_deadline, err)) < 0 ||
	    (r = spec_get_u64(sched, p, "period", false, &pr->sched_period, err)) < 0)
		return r;
	return 0;
}

static int parse_exec_cpu_affinity(json_t *proc, const char *path, struct berth_process *pr,
				   struct berth_error **err)
{
	_cleanup_free_ char *p = NULL;
	json_t *aff;
	int r;

	r = spec_get_object(proc, path, "execCPUAffinity", false, &aff, err);
	if (r <= 0)
		return r;
	p = spec_sub_path(path, "execCPUAffinity");
	if (!p)
		return spec_oom(err);
	r = spec_get_string(aff, p, "initial", false, &pr->exec_cpu_affinity_initial, err);
	if (r < 0)
		return r;
	if (r && !spec_valid_cpu_list(pr->exec_cpu_affinity_initial))
		return spec_ferr(err, p, "initial", "invalid CPU list '%s'",
				 pr->exec_cpu_affinity_initial);
	r = spec_get_string(aff, p, "final", false, &pr->exec_cpu_affinity_final, err);
	if (r < 0)
		return r;
	if (r && !spec_valid_cpu_list(pr->exec_cpu_affinity_final))
		return spec_ferr(err, p, "final", "invalid CPU list '%s'",
				 pr->exec_cpu_affinity_final);
	return 0;
}

int spec_parse_process(json_t *j, const char *path, struct berth_process **ret,
		       struct berth_error **err)
{
	struct berth_process *pr;
	json_t *cs;
	int64_t v;
	int r;

	if (!json_is_object(j))
		return spec_ferr(err, path, NULL, "expected an object");
	pr = calloc(1, sizeof(*pr));
	if (!pr)
		return spec_oom(err);
	pr->umask = BERTH_UNSET;
	pr->oom_score_adj = BERTH_UNSET;
	pr->io_priority_class = -1;
	/* from here on a failure frees what was parsed so far */
	*ret = pr;

	if ((r = spec_get_bool(j, path, "terminal", &pr->terminal, err)) < 0)
		return r;
	r = spec_get_object(j, path, "consoleSize", false, &cs, err);
	if (r < 0)
		return r;
	if (cs) {
		_cleanup_free_ char *p = spec_sub_path(path, "consoleSize");

		if (!p)
			return spec_oom(err);
		/* struct winsize holds unsigned shorts */
		r = spec_get_int(cs, p, "height", true, 0, UINT16_MAX, &v, err);
		if (r < 0)
			return r;
		pr->console_height = (unsigned)v;
		r = spec_get_int(cs, p, "width", true, 0, UINT16_MAX, &v, err);
		if (r < 0)
			return r;
		pr->console_width = (unsigned)v;
	}
	if ((r = parse_user(j, path, pr, err)) < 0)
		return r;
	r = spec_get_strv(j, path, "args", MAX_ARGS, &pr->args, err);
	if (r < 0)
		return r;
	if (!pr->args || !pr->args[0])
		return spec_ferr(err, path, "args", "at least one argument is required");
	if ((r = spec_get_strv(j, path, "env", MAX_ENV, &pr->env, err)) < 0)
		return r;
	r = spec_get_string(j, path, "cwd", true, &pr->cwd, err);
	if (r < 0)
		return r;
	if (pr->cwd[0] != '/')
		return spec_ferr(err, path, "cwd", "'%s' is not an absolute path", pr->cwd);
	if ((r = parse_capabilities(j, path, &pr->caps, err)) < 0 ||
	    (r = parse_rlimits(j, path, pr, err)) < 0)
		return r;
	if ((r = spec_get_bool(j, path, "noNewPrivileges", &pr->no_new_privileges, err)) < 0)
		return r;
	if ((r = spec_get_int(j, path, "oomScoreAdj", false, -1000, 1000, &pr->oom_score_adj,
			      err)) < 0)
		return r;
	if ((r = spec_get_string(j, path, "apparmorProfile", false, &pr->apparmor_profile, err)) <
		    0 ||
	    (r = spec_get_string(j, path, "selinuxLabel", false, &pr->selinux_label, err)) < 0)
		return r;
	if ((r = parse_io_priority(j, path, pr, err)) < 0 ||
	    (r = parse_scheduler(j, path, pr, err)) < 0 ||
	    (r = parse_exec_cpu_affinity(j, path, pr, err)) < 0)
		return r;
	return 0;
}

void berth_process_free(struct berth_process *p)
{
	if (!p)
		return;
	free(p->additional_gids);
	berth_strv_free(p->args);
	berth_strv_free(p->env);
	free(p->cwd);
	free(p->rlimits);
	free(p->apparmor_profile);
	free(p->selinux_label);
	free(p->exec_cpu_affinity_initial);
	free(p->exec_cpu_affinity_final);
	free(p);
}

int berth_process_parse(json_t *j, struct berth_process **ret, struct berth_error **err)
{
	struct berth_process *p = NULL;
	int r;

	r = spec_parse_process(j, "process", &p, err);
	if (r < 0) {
		berth_process_free(p);
		return r;
	}
	*ret = p;
	return 0;
}
