/* SPDX-License-Identifier: Apache-2.0 */
/*
 * config.json -> struct berth_spec.  Every field is checked for its JSON type and its range here,
 * so the code that applies a spec (often in a half-set-up child, where an error is expensive to
 * report) can trust what it reads.  Errors name the field as a path: "linux.devices[2].type".
 *
 * Policy, as the spec and runc have it: unknown fields are ignored; JSON null reads as absent; a
 * missing field takes its zero value except where the runtime cannot do without it (ociVersion,
 * root.path, process.args, process.cwd, mount destinations, namespace and device types ...).
 * Every array has a cap, so a hostile document cannot make us allocate without bound.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sched.h>
#include <seccomp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/personality.h>

#include "runtime/linux.h"
#include "base/banned.h"

/* Caps on what a document may ask for; each is far above what a real config uses. */
#define MAX_MOUNTS	    10000
#define MAX_MOUNT_OPTIONS   1000
#define MAX_ARGS	    100000
#define MAX_ENV		    100000
#define MAX_GROUPS	    65536 /* NGROUPS_MAX */
#define MAX_ID_MAPPINGS	    340	  /* the kernel's limit of lines in uid_map/gid_map */
#define MAX_CAP_NAMES	    1000
#define MAX_RLIMITS	    64
#define MAX_HOOKS	    1000
#define MAX_ANNOTATIONS	    100000
#define MAX_SYSCTL	    10000
#define MAX_NAMESPACES	    64
#define MAX_DEVICES	    10000
#define MAX_PATHS	    10000
#define MAX_SYSCALL_RULES   10000
#define MAX_SYSCALL_NAMES   10000
#define MAX_SYSCALL_ARGS    6 /* a syscall has six argument registers */
#define MAX_SECCOMP_NAMES   64
#define MAX_DEVICE_RULES    10000
#define MAX_BLKIO_DEVICES   10000
#define MAX_HUGEPAGE_LIMITS 1000
#define MAX_RESOURCE_KEYS   10000
#define MAX_SCHED_FLAGS	    64
#define MAX_PERSONALITY	    64

/* linux/ioprio.h is missing from older kernel headers; the values are ABI. */
#define BERTH_IOPRIO_CLASS_RT	1
#define BERTH_IOPRIO_CLASS_BE	2
#define BERTH_IOPRIO_CLASS_IDLE 3

#ifndef SCHED_DEADLINE
#define SCHED_DEADLINE 6
#endif

/* ---- errors and paths --------------------------------------------------------------------- */

static int oom(struct berth_error **err)
{
	return berth_error_set(err, ENOMEM, "out of memory");
}

/* An EINVAL naming the field: "<path>.<key>: <message>"; path may be "" and key NULL. */
BERTH_PRINTF(4, 5)
static int ferr(struct berth_error **err, const char *path, const char *key, const char *fmt, ...)
{
	_cleanup_free_ char *msg = NULL;
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (r < 0)
		return oom(err);
	return berth_error_set(err, EINVAL, "%s%s%s: %s", path, *path && key ? "." : "",
			       key ? key : "", msg);
}

/* "<path>.<key>[i]" (or "<path>[i]" when key is NULL); NULL on ENOMEM. */
static char *elem_path(const char *path, const char *key, size_t i)
{
	char *p;

	if (asprintf(&p, "%s%s%s[%zu]", path, *path && key ? "." : "", key ? key : "", i) < 0)
		return NULL;
	return p;
}

/* "<path>.<key>"; NULL on ENOMEM. */
static char *sub_path(const char *path, const char *key)
{
	char *p;

	if (asprintf(&p, "%s%s%s", path, *path ? "." : "", key) < 0)
		return NULL;
	return p;
}

/* ---- typed getters: each returns 1 when the field was given, 0 when absent, <0 on error ------ */

static json_t *member(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);

	return json_is_null(v) ? NULL : v;
}

static int get_string(json_t *obj, const char *path, const char *key, bool required, char **ret,
		      struct berth_error **err)
{
	json_t *v = member(obj, key);
	char *s;

	if (!v)
		return required ? ferr(err, path, key, "required") : 0;
	if (!json_is_string(v))
		return ferr(err, path, key, "expected a string");
	s = strdup(json_string_value(v));
	if (!s)
		return oom(err);
	free(*ret);
	*ret = s;
	return 1;
}

static int get_bool(json_t *obj, const char *path, const char *key, bool *ret,
		    struct berth_error **err)
{
	json_t *v = member(obj, key);

	if (!v)
		return 0;
	if (!json_is_boolean(v))
		return ferr(err, path, key, "expected a boolean");
	*ret = json_is_true(v);
	return 1;
}

static int get_int(json_t *obj, const char *path, const char *key, bool required, int64_t min,
		   int64_t max, int64_t *ret, struct berth_error **err)
{
	json_t *v = member(obj, key);
	int64_t n;

	if (!v)
		return required ? ferr(err, path, key, "required") : 0;
	if (!json_is_integer(v))
		return ferr(err, path, key, "expected an integer");
	n = json_integer_value(v);
	if (n < min || n > max)
		return ferr(err, path, key, "%" PRId64 " out of range %" PRId64 "..%" PRId64, n,
			    min, max);
	*ret = n;
	return 1;
}

/*
 * An unsigned 64-bit field.  jansson holds integers as int64, so literals above INT64_MAX reach
 * it through rewrite_big_integers() as their two's complement; reading them back as uint64 undoes
 * that (and so a literal -1 also reads as UINT64_MAX, "unlimited" wherever that has a meaning).
 */
static int get_u64(json_t *obj, const char *path, const char *key, bool required, uint64_t *ret,
		   struct berth_error **err)
{
	json_t *v = member(obj, key);

	if (!v)
		return required ? ferr(err, path, key, "required") : 0;
	if (!json_is_integer(v))
		return ferr(err, path, key, "expected an integer");
	*ret = (uint64_t)json_integer_value(v);
	return 1;
}

static int get_object(json_t *obj, const char *path, const char *key, bool required, json_t **ret,
		      struct berth_error **err)
{
	json_t *v = member(obj, key);

	*ret = NULL;
	if (!v)
		return required ? ferr(err, path, key, "required") : 0;
	if (!json_is_object(v))
		return ferr(err, path, key, "expected an object");
	*ret = v;
	return 1;
}

static int get_array(json_t *obj, const char *path, const char *key, size_t max, json_t **ret,
		     struct berth_error **err)
{
	json_t *v = member(obj, key);

	*ret = NULL;
	if (!v)
		return 0;
	if (!json_is_array(v))
		return ferr(err, path, key, "expected an array");
	if (json_array_size(v) > max)
		return ferr(err, path, key, "too many entries (%zu, at most %zu)",
			    json_array_size(v), max);
	*ret = v;
	return 1;
}

static int get_strv(json_t *obj, const char *path, const char *key, size_t max, char ***ret,
		    struct berth_error **err)
{
	json_t *v = member(obj, key), *e;
	char **strv;
	size_t i;

	if (!v)
		return 0;
	if (!json_is_array(v))
		return ferr(err, path, key, "expected an array of strings");
	if (json_array_size(v) > max)
		return ferr(err, path, key, "too many entries (%zu, at most %zu)",
			    json_array_size(v), max);
	json_array_foreach (v, i, e)
		if (!json_is_string(e))
			return ferr(err, path, key, "expected an array of strings");
	strv = calloc(json_array_size(v) + 1, sizeof(char *));
	if (!strv)
		return oom(err);
	berth_strv_free(*ret);
	*ret = strv;
	json_array_foreach (v, i, e) {
		strv[i] = strdup(json_string_value(e));
		if (!strv[i])
			return oom(err);
	}
	return 1;
}

/* An object of strings -> key/value pairs, in the document's order. */
static int get_map(json_t *obj, const char *path, const char *key, size_t max,
		   struct berth_key_value **ret, size_t *ret_n, struct berth_error **err)
{
	json_t *v = member(obj, key), *e;
	struct berth_key_value *kv;
	const char *k;
	size_t n = 0;

	if (!v)
		return 0;
	if (!json_is_object(v))
		return ferr(err, path, key, "expected an object of strings");
	if (json_object_size(v) > max)
		return ferr(err, path, key, "too many entries (%zu, at most %zu)",
			    json_object_size(v), max);
	json_object_foreach (v, k, e)
		if (!json_is_string(e))
			return ferr(err, path, key, "expected an object of strings");
	if (json_object_size(v) == 0)
		return 1;
	kv = calloc(json_object_size(v), sizeof(*kv));
	if (!kv)
		return oom(err);
	*ret = kv;
	*ret_n = json_object_size(v);
	json_object_foreach (v, k, e) {
		kv[n].key = strdup(k);
		kv[n].value = strdup(json_string_value(e));
		if (!kv[n].key || !kv[n].value)
			return oom(err);
		n++;
	}
	return 1;
}

/* Element i of an array field, which must be an object, and its path for errors. */
static int array_elem(json_t *arr, size_t i, const char *path, const char *key, json_t **ret,
		      char **ret_path, struct berth_error **err)
{
	char *p = elem_path(path, key, i);

	if (!p)
		return oom(err);
	*ret_path = p;
	*ret = json_array_get(arr, i);
	if (!json_is_object(*ret))
		return ferr(err, p, NULL, "expected an object");
	return 0;
}

/* ---- generic pieces ------------------------------------------------------------------------ */

static void free_kv(struct berth_key_value *kv, size_t n)
{
	for (size_t i = 0; kv && i < n; i++) {
		free(kv[i].key);
		free(kv[i].value);
	}
	free(kv);
}

static int parse_id_mappings(json_t *obj, const char *path, const char *key,
			     struct berth_id_mapping **ret, size_t *ret_n, struct berth_error **err)
{
	json_t *arr, *e;
	size_t i;
	int r;

	r = get_array(obj, path, key, MAX_ID_MAPPINGS, &arr, err);
	if (r <= 0 || json_array_size(arr) == 0)
		return r;
	*ret = calloc(json_array_size(arr), sizeof(**ret));
	if (!*ret)
		return oom(err);
	*ret_n = json_array_size(arr);
	for (i = 0; i < json_array_size(arr); i++) {
		_cleanup_free_ char *p = elem_path(path, key, i);
		struct berth_id_mapping *m = &(*ret)[i];
		int64_t v;

		e = json_array_get(arr, i);
		if (!p)
			return oom(err);
		if (!json_is_object(e))
			return ferr(err, p, NULL, "expected an object");
		r = get_int(e, p, "containerID", true, 0, UINT32_MAX, &v, err);
		if (r < 0)
			return r;
		m->container_id = (uint32_t)v;
		r = get_int(e, p, "hostID", true, 0, UINT32_MAX, &v, err);
		if (r < 0)
			return r;
		m->host_id = (uint32_t)v;
		/* the kernel refuses an empty range, and one that wraps around 2^32 */
		r = get_int(e, p, "size", true, 1, UINT32_MAX, &v, err);
		if (r < 0)
			return r;
		m->size = (uint32_t)v;
		if ((uint64_t)m->container_id + m->size > (uint64_t)UINT32_MAX + 1 ||
		    (uint64_t)m->host_id + m->size > (uint64_t)UINT32_MAX + 1)
			return ferr(err, p, "size", "range goes past 4294967295");
	}
	return 1;
}

/* A cpu list as the kernel writes it: "0-3,7". */
static bool valid_cpu_list(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || *s == ',' || *s == '-'))
			return false;
	return true;
}

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

/* ---- mounts -------------------------------------------------------------------------------- */

static void mount_release(struct berth_mount *m)
{
	free(m->destination);
	free(m->type);
	free(m->source);
	berth_strv_free(m->options);
	free(m->data);
	free(m->uid_mappings);
	free(m->gid_mappings);
}

static int parse_mount(json_t *j, const char *p, struct berth_mount *m, struct berth_error **err)
{
	int r;

	r = get_string(j, p, "destination", true, &m->destination, err);
	if (r < 0)
		return r;
	if (!*m->destination)
		return ferr(err, p, "destination", "must not be empty");
	/* the spec wants it absolute; runc takes a relative one as relative to "/", and so do we */
	if (m->destination[0] != '/') {
		char *abs;

		if (asprintf(&abs, "/%s", m->destination) < 0)
			return oom(err);
		free(m->destination);
		m->destination = abs;
	}
	r = get_string(j, p, "type", false, &m->type, err);
	if (r < 0)
		return r;
	r = get_string(j, p, "source", false, &m->source, err);
	if (r < 0)
		return r;
	r = get_strv(j, p, "options", MAX_MOUNT_OPTIONS, &m->options, err);
	if (r < 0)
		return r;
	r = parse_id_mappings(j, p, "uidMappings", &m->uid_mappings, &m->n_uid_mappings, err);
	if (r < 0)
		return r;
	r = parse_id_mappings(j, p, "gidMappings", &m->gid_mappings, &m->n_gid_mappings, err);
	if (r < 0)
		return r;
	if ((m->n_uid_mappings > 0) != (m->n_gid_mappings > 0))
		return ferr(err, p, NULL, "uidMappings and gidMappings must be given together");
	r = berth_mount_parse_options(m, err);
	if (r < 0)
		return berth_error_wrap(err, "%s.options", p);
	/* mappings make the mount id-mapped even when the options forgot to say idmap */
	if (m->n_uid_mappings > 0)
		m->idmap = true;
	return 0;
}

static int parse_mounts(json_t *root, struct berth_spec *s, struct berth_error **err)
{
	json_t *arr, *e;
	size_t i;
	int r;

	r = get_array(root, "", "mounts", MAX_MOUNTS, &arr, err);
	if (r <= 0 || json_array_size(arr) == 0)
		return r;
	s->mounts = calloc(json_array_size(arr), sizeof(*s->mounts));
	if (!s->mounts)
		return oom(err);
	s->n_mounts = json_array_size(arr);
	for (i = 0; i < s->n_mounts; i++) {
		_cleanup_free_ char *p = elem_path("", "mounts", i);

		e = json_array_get(arr, i);
		if (!p)
			return oom(err);
		if (!json_is_object(e))
			return ferr(err, p, NULL, "expected an object");
		r = parse_mount(e, p, &s->mounts[i], err);
		if (r < 0)
			return r;
	}
	return 0;
}

/* ---- process ------------------------------------------------------------------------------- */

static int parse_cap_set(json_t *caps, const char *path, const char *key, uint64_t *ret,
			 struct berth_error **err)
{
	json_t *arr, *e;
	size_t i;
	int r;

	r = get_array(caps, path, key, MAX_CAP_NAMES, &arr, err);
	if (r <= 0)
		return r;
	*ret = 0;
	json_array_foreach (arr, i, e) {
		int cap;

		if (!json_is_string(e))
			return ferr(err, path, key, "expected an array of strings");
		cap = berth_cap_from_name(json_string_value(e));
		if (cap < 0)
			return ferr(err, path, key, "unknown capability '%s'",
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

	r = get_object(proc, path, "capabilities", false, &caps, err);
	if (r <= 0)
		return r;
	p = sub_path(path, "capabilities");
	if (!p)
		return oom(err);
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

	r = get_array(proc, path, "rlimits", MAX_RLIMITS, &arr, err);
	if (r <= 0 || json_array_size(arr) == 0)
		return r;
	pr->rlimits = calloc(json_array_size(arr), sizeof(*pr->rlimits));
	if (!pr->rlimits)
		return oom(err);
	for (i = 0; i < json_array_size(arr); i++) {
		_cleanup_free_ char *pp = NULL, *type = NULL;
		struct berth_rlimit *rl = &pr->rlimits[i];

		r = array_elem(arr, i, path, "rlimits", &e, &pp, err);
		if (r < 0)
			return r;
		r = get_string(e, pp, "type", true, &type, err);
		if (r < 0)
			return r;
		rl->resource = berth_rlimit_from_name(type);
		if (rl->resource < 0)
			return ferr(err, pp, "type", "unknown rlimit '%s'", type);
		for (size_t k = 0; k < pr->n_rlimits; k++)
			if (pr->rlimits[k].resource == rl->resource)
				return ferr(err, pp, "type", "duplicate rlimit '%s'", type);
		r = get_u64(e, pp, "soft", true, &rl->soft, err);
		if (r < 0)
			return r;
		r = get_u64(e, pp, "hard", true, &rl->hard, err);
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

	r = get_object(proc, path, "user", false, &user, err);
	if (r <= 0)
		return r;
	p = sub_path(path, "user");
	if (!p)
		return oom(err);
	/* (uid_t)-1 means "leave unchanged" to setresuid(); as an id it would be a surprise */
	r = get_int(user, p, "uid", false, 0, UINT32_MAX - 1, &v, err);
	if (r < 0)
		return r;
	if (r)
		pr->uid = (uid_t)v;
	r = get_int(user, p, "gid", false, 0, UINT32_MAX - 1, &v, err);
	if (r < 0)
		return r;
	if (r)
		pr->gid = (gid_t)v;
	r = get_int(user, p, "umask", false, 0, 0777, &pr->umask, err);
	if (r < 0)
		return r;
	r = get_array(user, p, "additionalGids", MAX_GROUPS, &arr, err);
	if (r < 0)
		return r;
	if (r && json_array_size(arr) > 0) {
		pr->additional_gids = calloc(json_array_size(arr), sizeof(gid_t));
		if (!pr->additional_gids)
			return oom(err);
		pr->n_additional_gids = json_array_size(arr);
		json_array_foreach (arr, i, e) {
			if (!json_is_integer(e) || json_integer_value(e) < 0 ||
			    json_integer_value(e) > (json_int_t)UINT32_MAX - 1)
				return ferr(err, p, "additionalGids",
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

	r = get_object(proc, path, "ioPriority", false, &io, err);
	if (r <= 0)
		return r;
	p = sub_path(path, "ioPriority");
	if (!p)
		return oom(err);
	r = get_string(io, p, "class", true, &cls, err);
	if (r < 0)
		return r;
	for (size_t i = 0; i < ARRAY_SIZE(classes); i++)
		if (strcmp(classes[i].name, cls) == 0)
			pr->io_priority_class = classes[i].class_;
	if (pr->io_priority_class < 0)
		return ferr(err, p, "class", "unknown class '%s'", cls);
	r = get_int(io, p, "priority", false, 0, 7, &v, err);
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
	static const struct {
		const char *name;
		uint64_t flag;
	} flags[] = {
	    {"SCHED_FLAG_RESET_ON_FORK", 0x01},	 {"SCHED_FLAG_RECLAIM", 0x02},
	    {"SCHED_FLAG_DL_OVERRUN", 0x04},	 {"SCHED_FLAG_KEEP_POLICY", 0x08},
	    {"SCHED_FLAG_KEEP_PARAMS", 0x10},	 {"SCHED_FLAG_UTIL_CLAMP_MIN", 0x20},
	    {"SCHED_FLAG_UTIL_CLAMP_MAX", 0x40},
	};
	_cleanup_free_ char *p = NULL, *policy = NULL;
	json_t *sched, *arr, *e;
	int64_t v;
	size_t i;
	int r;

	r = get_object(proc, path, "scheduler", false, &sched, err);
	if (r <= 0)
		return r;
	p = sub_path(path, "scheduler");
	if (!p)
		return oom(err);
	r = get_string(sched, p, "policy", true, &policy, err);
	if (r < 0)
		return r;
	pr->sched_policy = -1;
	for (i = 0; i < ARRAY_SIZE(policies); i++)
		if (strcmp(policies[i].name, policy) == 0)
			pr->sched_policy = policies[i].policy;
	if (pr->sched_policy < 0)
		return ferr(err, p, "policy", "unknown policy '%s'", policy);
	pr->has_scheduler = true;
	v = 0;
	r = get_int(sched, p, "nice", false, -20, 19, &v, err);
	if (r < 0)
		return r;
	pr->sched_nice = (int)v;
	v = 0;
	r = get_int(sched, p, "priority", false, 0, 99, &v, err);
	if (r < 0)
		return r;
	pr->sched_priority = (int)v;
	r = get_array(sched, p, "flags", MAX_SCHED_FLAGS, &arr, err);
	if (r < 0)
		return r;
	json_array_foreach (arr, i, e) {
		size_t k;

		if (!json_is_string(e))
			return ferr(err, p, "flags", "expected an array of strings");
		for (k = 0; k < ARRAY_SIZE(flags); k++)
			if (strcmp(flags[k].name, json_string_value(e)) == 0)
				break;
		if (k == ARRAY_SIZE(flags))
			return ferr(err, p, "flags", "unknown flag '%s'", json_string_value(e));
		pr->sched_flags |= flags[k].flag;
	}
	if ((r = get_u64(sched, p, "runtime", false, &pr->sched_runtime, err)) < 0 ||
	    (r = get_u64(sched, p, "deadline", false, &pr->sched_deadline, err)) < 0 ||
	    (r = get_u64(sched, p, "period", false, &pr->sched_period, err)) < 0)
		return r;
	return 0;
}

static int parse_exec_cpu_affinity(json_t *proc, const char *path, struct berth_process *pr,
				   struct berth_error **err)
{
	_cleanup_free_ char *p = NULL;
	json_t *aff;
	int r;

	r = get_object(proc, path, "execCPUAffinity", false, &aff, err);
	if (r <= 0)
		return r;
	p = sub_path(path, "execCPUAffinity");
	if (!p)
		return oom(err);
	r = get_string(aff, p, "initial", false, &pr->exec_cpu_affinity_initial, err);
	if (r < 0)
		return r;
	if (r && !valid_cpu_list(pr->exec_cpu_affinity_initial))
		return ferr(err, p, "initial", "invalid CPU list '%s'",
			    pr->exec_cpu_affinity_initial);
	r = get_string(aff, p, "final", false, &pr->exec_cpu_affinity_final, err);
	if (r < 0)
		return r;
	if (r && !valid_cpu_list(pr->exec_cpu_affinity_final))
		return ferr(err, p, "final", "invalid CPU list '%s'", pr->exec_cpu_affinity_final);
	return 0;
}

static int parse_process_at(json_t *j, const char *path, struct berth_process **ret,
			    struct berth_error **err)
{
	struct berth_process *pr;
	json_t *cs;
	int64_t v;
	int r;

	if (!json_is_object(j))
		return ferr(err, path, NULL, "expected an object");
	pr = calloc(1, sizeof(*pr));
	if (!pr)
		return oom(err);
	pr->umask = BERTH_UNSET;
	pr->oom_score_adj = BERTH_UNSET;
	pr->io_priority_class = -1;
	/* from here on a failure frees what was parsed so far */
	*ret = pr;

	if ((r = get_bool(j, path, "terminal", &pr->terminal, err)) < 0)
		return r;
	r = get_object(j, path, "consoleSize", false, &cs, err);
	if (r < 0)
		return r;
	if (cs) {
		_cleanup_free_ char *p = sub_path(path, "consoleSize");

		if (!p)
			return oom(err);
		/* struct winsize holds unsigned shorts */
		r = get_int(cs, p, "height", true, 0, UINT16_MAX, &v, err);
		if (r < 0)
			return r;
		pr->console_height = (unsigned)v;
		r = get_int(cs, p, "width", true, 0, UINT16_MAX, &v, err);
		if (r < 0)
			return r;
		pr->console_width = (unsigned)v;
	}
	if ((r = parse_user(j, path, pr, err)) < 0)
		return r;
	r = get_strv(j, path, "args", MAX_ARGS, &pr->args, err);
	if (r < 0)
		return r;
	if (!pr->args || !pr->args[0])
		return ferr(err, path, "args", "at least one argument is required");
	if ((r = get_strv(j, path, "env", MAX_ENV, &pr->env, err)) < 0)
		return r;
	r = get_string(j, path, "cwd", true, &pr->cwd, err);
	if (r < 0)
		return r;
	if (pr->cwd[0] != '/')
		return ferr(err, path, "cwd", "'%s' is not an absolute path", pr->cwd);
	if ((r = parse_capabilities(j, path, &pr->caps, err)) < 0 ||
	    (r = parse_rlimits(j, path, pr, err)) < 0)
		return r;
	if ((r = get_bool(j, path, "noNewPrivileges", &pr->no_new_privileges, err)) < 0)
		return r;
	if ((r = get_int(j, path, "oomScoreAdj", false, -1000, 1000, &pr->oom_score_adj, err)) < 0)
		return r;
	if ((r = get_string(j, path, "apparmorProfile", false, &pr->apparmor_profile, err)) < 0 ||
	    (r = get_string(j, path, "selinuxLabel", false, &pr->selinux_label, err)) < 0)
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

	r = parse_process_at(j, "process", &p, err);
	if (r < 0) {
		berth_process_free(p);
		return r;
	}
	*ret = p;
	return 0;
}

/* ---- hooks --------------------------------------------------------------------------------- */

static void hook_list_release(struct berth_hook_list *l)
{
	for (size_t i = 0; l->hooks && i < l->n; i++) {
		free(l->hooks[i].path);
		berth_strv_free(l->hooks[i].args);
		berth_strv_free(l->hooks[i].env);
	}
	free(l->hooks);
}

static int parse_hook_list(json_t *hooks, const char *key, struct berth_hook_list *l,
			   struct berth_error **err)
{
	json_t *arr, *e;
	size_t i;
	int r;

	r = get_array(hooks, "hooks", key, MAX_HOOKS, &arr, err);
	if (r <= 0 || json_array_size(arr) == 0)
		return r;
	l->hooks = calloc(json_array_size(arr), sizeof(*l->hooks));
	if (!l->hooks)
		return oom(err);
	l->n = json_array_size(arr);
	for (i = 0; i < json_array_size(arr); i++) {
		_cleanup_free_ char *pp = NULL;
		struct berth_hook *h = &l->hooks[i];
		int64_t v;

		r = array_elem(arr, i, "hooks", key, &e, &pp, err);
		if (r < 0)
			return r;
		r = get_string(e, pp, "path", true, &h->path, err);
		if (r < 0)
			return r;
		if (h->path[0] != '/')
			return ferr(err, pp, "path", "'%s' is not an absolute path", h->path);
		if ((r = get_strv(e, pp, "args", MAX_ARGS, &h->args, err)) < 0 ||
		    (r = get_strv(e, pp, "env", MAX_ENV, &h->env, err)) < 0)
			return r;
		/* the spec: "if set, timeout MUST be greater than zero" */
		r = get_int(e, pp, "timeout", false, 1, INT32_MAX, &v, err);
		if (r < 0)
			return r;
		h->timeout = r ? (int)v : 0;
	}
	return 0;
}

static int parse_hooks(json_t *root, struct berth_hooks *h, struct berth_error **err)
{
	json_t *hooks;
	int r;

	r = get_object(root, "", "hooks", false, &hooks, err);
	if (r <= 0)
		return r;
	if ((r = parse_hook_list(hooks, "prestart", &h->prestart, err)) < 0 ||
	    (r = parse_hook_list(hooks, "createRuntime", &h->create_runtime, err)) < 0 ||
	    (r = parse_hook_list(hooks, "createContainer", &h->create_container, err)) < 0 ||
	    (r = parse_hook_list(hooks, "startContainer", &h->start_container, err)) < 0 ||
	    (r = parse_hook_list(hooks, "poststart", &h->poststart, err)) < 0 ||
	    (r = parse_hook_list(hooks, "poststop", &h->poststop, err)) < 0)
		return r;
	return 0;
}

/* ---- linux.resources ----------------------------------------------------------------------- */

static int parse_memory(json_t *res, const char *path, struct berth_resources *rs,
			struct berth_error **err)
{
	_cleanup_free_ char *p = NULL;
	json_t *mem;
	bool b;
	int r;

	r = get_object(res, path, "memory", false, &mem, err);
	if (r <= 0)
		return r;
	p = sub_path(path, "memory");
	if (!p)
		return oom(err);
	/* -1: unlimited */
	if ((r = get_int(mem, p, "limit", false, -1, INT64_MAX, &rs->memory_limit, err)) < 0 ||
	    (r = get_int(mem, p, "reservation", false, -1, INT64_MAX, &rs->memory_reservation,
			 err)) < 0 ||
	    (r = get_int(mem, p, "swap", false, -1, INT64_MAX, &rs->memory_swap, err)) < 0 ||
	    (r = get_int(mem, p, "kernel", false, -1, INT64_MAX, &rs->memory_kernel, err)) < 0 ||
	    (r = get_int(mem, p, "kernelTCP", false, -1, INT64_MAX, &rs->memory_kernel_tcp, err)) <
		0)
		return r;
	/* docker sends -1 (as uint64, so 2^64-1) for "not set"; anything else is 0..100 */
	if (member(mem, "swappiness") && json_is_integer(member(mem, "swappiness")) &&
	    json_integer_value(member(mem, "swappiness")) == -1) {
		rs->memory_swappiness = BERTH_UNSET;
	} else {
		r = get_int(mem, p, "swappiness", false, 0, 100, &rs->memory_swappiness, err);
		if (r < 0)
			return r;
	}
	r = get_bool(mem, p, "disableOOMKiller", &b, err);
	if (r < 0)
		return r;
	if (r)
		rs->disable_oom_killer = b;
	r = get_bool(mem, p, "useHierarchy", &b, err);
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

	r = get_object(res, path, "cpu", false, &cpu, err);
	if (r <= 0)
		return r;
	p = sub_path(path, "cpu");
	if (!p)
		return oom(err);
	if ((r = get_int(cpu, p, "shares", false, 0, INT64_MAX, &rs->cpu_shares, err)) < 0 ||
	    (r = get_int(cpu, p, "quota", false, -1, INT64_MAX, &rs->cpu_quota, err)) < 0 ||
	    (r = get_int(cpu, p, "burst", false, 0, INT64_MAX, &rs->cpu_burst, err)) < 0 ||
	    (r = get_int(cpu, p, "period", false, 0, INT64_MAX, &rs->cpu_period, err)) < 0 ||
	    (r = get_int(cpu, p, "realtimeRuntime", false, -1, INT64_MAX, &rs->cpu_realtime_runtime,
			 err)) < 0 ||
	    (r = get_int(cpu, p, "realtimePeriod", false, 0, INT64_MAX, &rs->cpu_realtime_period,
			 err)) < 0 ||
	    (r = get_int(cpu, p, "idle", false, 0, 1, &rs->cpu_idle, err)) < 0)
		return r;
	r = get_string(cpu, p, "cpus", false, &rs->cpu_cpus, err);
	if (r < 0)
		return r;
	if (r && *rs->cpu_cpus && !valid_cpu_list(rs->cpu_cpus))
		return ferr(err, p, "cpus", "invalid CPU list '%s'", rs->cpu_cpus);
	r = get_string(cpu, p, "mems", false, &rs->cpu_mems, err);
	if (r < 0)
		return r;
	if (r && *rs->cpu_mems && !valid_cpu_list(rs->cpu_mems))
		return ferr(err, p, "mems", "invalid node list '%s'", rs->cpu_mems);
	return 0;
}

static int parse_throttle(json_t *blkio, const char *path, const char *key,
			  struct berth_throttle_device **ret, size_t *ret_n,
			  struct berth_error **err)
{
	json_t *arr, *e;
	size_t i;
	int r;

	r = get_array(blkio, path, key, MAX_BLKIO_DEVICES, &arr, err);
	if (r <= 0 || json_array_size(arr) == 0)
		return r;
	*ret = calloc(json_array_size(arr), sizeof(**ret));
	if (!*ret)
		return oom(err);
	*ret_n = json_array_size(arr);
	for (i = 0; i < json_array_size(arr); i++) {
		_cleanup_free_ char *pp = NULL;
		struct berth_throttle_device *t = &(*ret)[i];

		r = array_elem(arr, i, path, key, &e, &pp, err);
		if (r < 0)
			return r;
		if ((r = get_int(e, pp, "major", true, 0, UINT32_MAX, &t->major, err)) < 0 ||
		    (r = get_int(e, pp, "minor", true, 0, UINT32_MAX, &t->minor, err)) < 0 ||
		    (r = get_u64(e, pp, "rate", true, &t->rate, err)) < 0)
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

	r = get_object(res, path, "blockIO", false, &blkio, err);
	if (r <= 0)
		return r;
	p = sub_path(path, "blockIO");
	if (!p)
		return oom(err);
	if ((r = get_int(blkio, p, "weight", false, 0, UINT16_MAX, &rs->blkio_weight, err)) < 0 ||
	    (r = get_int(blkio, p, "leafWeight", false, 0, UINT16_MAX, &rs->blkio_leaf_weight,
			 err)) < 0)
		return r;
	r = get_array(blkio, p, "weightDevice", MAX_BLKIO_DEVICES, &arr, err);
	if (r < 0)
		return r;
	if (r && json_array_size(arr) > 0) {
		rs->blkio_weight_device =
		    calloc(json_array_size(arr), sizeof(struct berth_weight_device));
		if (!rs->blkio_weight_device)
			return oom(err);
		rs->n_blkio_weight_device = json_array_size(arr);
		for (i = 0; i < json_array_size(arr); i++) {
			_cleanup_free_ char *pp = NULL;
			struct berth_weight_device *w = &rs->blkio_weight_device[i];

			r = array_elem(arr, i, p, "weightDevice", &e, &pp, err);
			if (r < 0)
				return r;
			w->weight = w->leaf_weight = BERTH_UNSET;
			if ((r = get_int(e, pp, "major", true, 0, UINT32_MAX, &w->major, err)) <
				0 ||
			    (r = get_int(e, pp, "minor", true, 0, UINT32_MAX, &w->minor, err)) <
				0 ||
			    (r = get_int(e, pp, "weight", false, 0, UINT16_MAX, &w->weight, err)) <
				0 ||
			    (r = get_int(e, pp, "leafWeight", false, 0, UINT16_MAX, &w->leaf_weight,
					 err)) < 0)
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

	r = get_array(res, path, "devices", MAX_DEVICE_RULES, &arr, err);
	if (r <= 0 || json_array_size(arr) == 0)
		return r;
	rs->devices = calloc(json_array_size(arr), sizeof(*rs->devices));
	if (!rs->devices)
		return oom(err);
	rs->n_devices = json_array_size(arr);
	for (i = 0; i < json_array_size(arr); i++) {
		_cleanup_free_ char *pp = NULL, *type = NULL, *access = NULL;
		struct berth_device_rule *d = &rs->devices[i];

		r = array_elem(arr, i, path, "devices", &e, &pp, err);
		if (r < 0)
			return r;
		if ((r = get_bool(e, pp, "allow", &d->allow, err)) < 0)
			return r;
		r = get_string(e, pp, "type", false, &type, err);
		if (r < 0)
			return r;
		/* absent: every type */
		if (!type || !*type)
			d->type = 'a';
		else if (strlen(type) == 1 && strchr("acb", type[0]))
			d->type = type[0];
		else
			return ferr(err, pp, "type",
				    "unknown device type '%s' (expected a, c or b)", type);
		d->major = d->minor = -1;
		if ((r = get_int(e, pp, "major", false, -1, UINT32_MAX, &d->major, err)) < 0 ||
		    (r = get_int(e, pp, "minor", false, -1, UINT32_MAX, &d->minor, err)) < 0)
			return r;
		r = get_string(e, pp, "access", false, &access, err);
		if (r < 0)
			return r;
		if (!access || !*access) {
			memcpy(d->access, "rwm", 4);
			continue;
		}
		size_t n = 0;
		for (const char *c = access; *c; c++) {
			if (!strchr("rwm", *c) || memchr(d->access, *c, n))
				return ferr(err, pp, "access",
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

	r = get_array(res, path, "hugepageLimits", MAX_HUGEPAGE_LIMITS, &arr, err);
	if (r <= 0 || json_array_size(arr) == 0)
		return r;
	rs->hugepage_limits = calloc(json_array_size(arr), sizeof(*rs->hugepage_limits));
	if (!rs->hugepage_limits)
		return oom(err);
	rs->n_hugepage_limits = json_array_size(arr);
	for (i = 0; i < json_array_size(arr); i++) {
		_cleanup_free_ char *pp = NULL;
		struct berth_hugepage_limit *h = &rs->hugepage_limits[i];

		r = array_elem(arr, i, path, "hugepageLimits", &e, &pp, err);
		if (r < 0)
			return r;
		r = get_string(e, pp, "pageSize", true, &h->page_size, err);
		if (r < 0)
			return r;
		/* it becomes part of a file name: hugetlb.<pageSize>.limit_in_bytes */
		for (const char *c = h->page_size; *c; c++)
			if (!((*c >= '0' && *c <= '9') || (*c >= 'A' && *c <= 'Z') ||
			      (*c >= 'a' && *c <= 'z')))
				return ferr(err, pp, "pageSize", "invalid page size '%s'",
					    h->page_size);
		if (!*h->page_size)
			return ferr(err, pp, "pageSize", "must not be empty");
		if ((r = get_u64(e, pp, "limit", true, &h->limit, err)) < 0)
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

	r = get_object(res, path, "network", false, &net, err);
	if (r <= 0)
		return r;
	p = sub_path(path, "network");
	if (!p)
		return oom(err);
	if ((r = get_int(net, p, "classID", false, 0, UINT32_MAX, &rs->net_class_id, err)) < 0)
		return r;
	r = get_array(net, p, "priorities", MAX_RESOURCE_KEYS, &arr, err);
	if (r <= 0 || json_array_size(arr) == 0)
		return r;
	rs->net_priorities = calloc(json_array_size(arr), sizeof(*rs->net_priorities));
	if (!rs->net_priorities)
		return oom(err);
	rs->n_net_priorities = json_array_size(arr);
	for (i = 0; i < json_array_size(arr); i++) {
		_cleanup_free_ char *pp = NULL;
		struct berth_key_value *kv = &rs->net_priorities[i];
		int64_t prio;

		r = array_elem(arr, i, p, "priorities", &e, &pp, err);
		if (r < 0)
			return r;
		r = get_string(e, pp, "name", true, &kv->key, err);
		if (r < 0)
			return r;
		if (!valid_token(kv->key))
			return ferr(err, pp, "name", "invalid interface name '%s'", kv->key);
		r = get_int(e, pp, "priority", true, 0, UINT32_MAX, &prio, err);
		if (r < 0)
			return r;
		if (asprintf(&kv->value, "%" PRId64, prio) < 0) {
			kv->value = NULL;
			return oom(err);
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

	r = get_object(res, path, "rdma", false, &rdma, err);
	if (r <= 0 || json_object_size(rdma) == 0)
		return r;
	p = sub_path(path, "rdma");
	if (!p)
		return oom(err);
	if (json_object_size(rdma) > MAX_RESOURCE_KEYS)
		return ferr(err, p, NULL, "too many entries (%zu, at most %d)",
			    json_object_size(rdma), MAX_RESOURCE_KEYS);
	rs->rdma = calloc(json_object_size(rdma), sizeof(*rs->rdma));
	if (!rs->rdma)
		return oom(err);
	rs->n_rdma = json_object_size(rdma);
	json_object_foreach (rdma, dev, e) {
		_cleanup_free_ char *pp = sub_path(p, dev);
		struct berth_key_value *kv = &rs->rdma[n++];
		int64_t handles = -1, objects = -1;

		if (!pp)
			return oom(err);
		if (!valid_token(dev))
			return ferr(err, pp, NULL, "invalid device name");
		if (!json_is_object(e))
			return ferr(err, pp, NULL, "expected an object");
		if ((r = get_int(e, pp, "hcaHandles", false, 0, UINT32_MAX, &handles, err)) < 0 ||
		    (r = get_int(e, pp, "hcaObjects", false, 0, UINT32_MAX, &objects, err)) < 0)
			return r;
		kv->key = strdup(dev);
		if (!kv->key)
			return oom(err);
		/* rdma.max's own syntax; a limit not given is left out (the kernel keeps "max") */
		if (handles >= 0 && objects >= 0)
			r = asprintf(&kv->value, "hca_handle=%" PRId64 " hca_object=%" PRId64,
				     handles, objects);
		else if (handles >= 0)
			r = asprintf(&kv->value, "hca_handle=%" PRId64, handles);
		else if (objects >= 0)
			r = asprintf(&kv->value, "hca_object=%" PRId64, objects);
		else
			return ferr(err, pp, NULL, "neither hcaHandles nor hcaObjects given");
		if (r < 0) {
			kv->value = NULL;
			return oom(err);
		}
	}
	return 0;
}

static int parse_unified(json_t *res, const char *path, struct berth_resources *rs,
			 struct berth_error **err)
{
	int r;

	r = get_map(res, path, "unified", MAX_RESOURCE_KEYS, &rs->unified, &rs->n_unified, err);
	if (r <= 0)
		return r;
	/* each key is a file name inside the container's cgroup; it must stay inside */
	for (size_t i = 0; i < rs->n_unified; i++)
		if (!valid_token(rs->unified[i].key))
			return ferr(err, path, "unified", "invalid cgroup file name '%s'",
				    rs->unified[i].key);
	return 0;
}

static int parse_resources_at(json_t *j, const char *path, struct berth_resources **ret,
			      struct berth_error **err)
{
	struct berth_resources *rs;
	json_t *pids;
	int r;

	if (!json_is_object(j))
		return ferr(err, path, NULL, "expected an object");
	rs = berth_resources_new();
	if (!rs)
		return oom(err);
	*ret = rs;
	if ((r = parse_device_rules(j, path, rs, err)) < 0 ||
	    (r = parse_memory(j, path, rs, err)) < 0 || (r = parse_cpu(j, path, rs, err)) < 0)
		return r;
	r = get_object(j, path, "pids", false, &pids, err);
	if (r < 0)
		return r;
	if (pids) {
		_cleanup_free_ char *p = sub_path(path, "pids");

		if (!p)
			return oom(err);
		/* -1 and 0 both mean unlimited */
		r = get_int(pids, p, "limit", false, -1, INT64_MAX, &rs->pids_limit, err);
		if (r < 0)
			return r;
	}
	if ((r = parse_block_io(j, path, rs, err)) < 0 ||
	    (r = parse_hugepages(j, path, rs, err)) < 0 ||
	    (r = parse_network(j, path, rs, err)) < 0 || (r = parse_rdma(j, path, rs, err)) < 0 ||
	    (r = parse_unified(j, path, rs, err)) < 0)
		return r;
	return 0;
}

int berth_resources_parse(json_t *j, struct berth_resources **ret, struct berth_error **err)
{
	struct berth_resources *rs = NULL;
	int r;

	r = parse_resources_at(j, "", &rs, err);
	if (r < 0) {
		berth_resources_free(rs);
		return r;
	}
	*ret = rs;
	return 0;
}

/* ---- linux.seccomp ------------------------------------------------------------------------- */

static const struct {
	const char *name;
	uint32_t action;
} seccomp_actions[] = {
    {"SCMP_ACT_KILL", SCMP_ACT_KILL},
    {"SCMP_ACT_KILL_PROCESS", SCMP_ACT_KILL_PROCESS},
    {"SCMP_ACT_KILL_THREAD", SCMP_ACT_KILL_THREAD},
    {"SCMP_ACT_TRAP", SCMP_ACT_TRAP},
    {"SCMP_ACT_ERRNO", SCMP_ACT_ERRNO(0)},
    {"SCMP_ACT_TRACE", SCMP_ACT_TRACE(0)},
    {"SCMP_ACT_ALLOW", SCMP_ACT_ALLOW},
    {"SCMP_ACT_LOG", SCMP_ACT_LOG},
    {"SCMP_ACT_NOTIFY", SCMP_ACT_NOTIFY},
};

static const struct {
	const char *name;
	int op;
} seccomp_ops[] = {
    {"SCMP_CMP_NE", SCMP_CMP_NE},
    {"SCMP_CMP_LT", SCMP_CMP_LT},
    {"SCMP_CMP_LE", SCMP_CMP_LE},
    {"SCMP_CMP_EQ", SCMP_CMP_EQ},
    {"SCMP_CMP_GE", SCMP_CMP_GE},
    {"SCMP_CMP_GT", SCMP_CMP_GT},
    {"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ},
};

/* An action and, when given, its errno (only ERRNO and TRACE carry one: the spec says error). */
static int parse_action(json_t *j, const char *path, const char *key, const char *errno_key,
			uint32_t *ret_action, int64_t *ret_errno, struct berth_error **err)
{
	_cleanup_free_ char *name = NULL;
	size_t i;
	int r;

	r = get_string(j, path, key, true, &name, err);
	if (r < 0)
		return r;
	for (i = 0; i < ARRAY_SIZE(seccomp_actions); i++)
		if (strcmp(seccomp_actions[i].name, name) == 0)
			break;
	if (i == ARRAY_SIZE(seccomp_actions))
		return ferr(err, path, key, "unknown action '%s'", name);
	*ret_action = seccomp_actions[i].action;
	*ret_errno = BERTH_UNSET;
	/* the kernel keeps 16 bits of return data */
	r = get_int(j, path, errno_key, false, 0, UINT16_MAX, ret_errno, err);
	if (r < 0)
		return r;
	if (r && *ret_action != SCMP_ACT_ERRNO(0) && *ret_action != SCMP_ACT_TRACE(0))
		return ferr(err, path, errno_key, "not allowed with action '%s'", name);
	return 0;
}

static void seccomp_free(struct berth_seccomp *s)
{
	if (!s)
		return;
	berth_strv_free(s->architectures);
	berth_strv_free(s->flags);
	free(s->listener_path);
	free(s->listener_metadata);
	for (size_t i = 0; s->syscalls && i < s->n_syscalls; i++) {
		berth_strv_free(s->syscalls[i].names);
		free(s->syscalls[i].args);
	}
	free(s->syscalls);
	free(s);
}

static int parse_syscall_rule(json_t *e, const char *p, struct berth_seccomp_rule *rule,
			      struct berth_error **err)
{
	json_t *arr, *a;
	size_t i;
	int r;

	rule->errno_ret = BERTH_UNSET;
	r = get_strv(e, p, "names", MAX_SYSCALL_NAMES, &rule->names, err);
	if (r < 0)
		return r;
	if (!rule->names || !rule->names[0])
		return ferr(err, p, "names", "at least one name is required");
	for (i = 0; rule->names[i]; i++)
		if (!*rule->names[i])
			return ferr(err, p, "names", "empty syscall name");
	r = parse_action(e, p, "action", "errnoRet", &rule->action, &rule->errno_ret, err);
	if (r < 0)
		return r;
	r = get_array(e, p, "args", MAX_SYSCALL_ARGS, &arr, err);
	if (r <= 0 || json_array_size(arr) == 0)
		return r;
	rule->args = calloc(json_array_size(arr), sizeof(*rule->args));
	if (!rule->args)
		return oom(err);
	rule->n_args = json_array_size(arr);
	for (i = 0; i < json_array_size(arr); i++) {
		_cleanup_free_ char *pp = NULL, *op = NULL;
		struct berth_seccomp_arg *arg = &rule->args[i];
		int64_t index;
		size_t k;

		r = array_elem(arr, i, p, "args", &a, &pp, err);
		if (r < 0)
			return r;
		r = get_int(a, pp, "index", true, 0, MAX_SYSCALL_ARGS - 1, &index, err);
		if (r < 0)
			return r;
		arg->index = (unsigned)index;
		if ((r = get_u64(a, pp, "value", true, &arg->value, err)) < 0 ||
		    (r = get_u64(a, pp, "valueTwo", false, &arg->value_two, err)) < 0)
			return r;
		r = get_string(a, pp, "op", true, &op, err);
		if (r < 0)
			return r;
		for (k = 0; k < ARRAY_SIZE(seccomp_ops); k++)
			if (strcmp(seccomp_ops[k].name, op) == 0)
				break;
		if (k == ARRAY_SIZE(seccomp_ops))
			return ferr(err, pp, "op", "unknown operator '%s'", op);
		arg->op = seccomp_ops[k].op;
	}
	return 0;
}

static int parse_seccomp(json_t *lin, struct berth_seccomp **ret, struct berth_error **err)
{
	const char *p = "linux.seccomp";
	struct berth_seccomp *s;
	json_t *j, *arr, *e;
	size_t i;
	int r;

	r = get_object(lin, "linux", "seccomp", false, &j, err);
	if (r <= 0)
		return r;
	s = calloc(1, sizeof(*s));
	if (!s)
		return oom(err);
	*ret = s;
	r = parse_action(j, p, "defaultAction", "defaultErrnoRet", &s->default_action,
			 &s->default_errno_ret, err);
	if (r < 0)
		return r;
	if ((r = get_strv(j, p, "architectures", MAX_SECCOMP_NAMES, &s->architectures, err)) < 0 ||
	    (r = get_strv(j, p, "flags", MAX_SECCOMP_NAMES, &s->flags, err)) < 0 ||
	    (r = get_string(j, p, "listenerPath", false, &s->listener_path, err)) < 0 ||
	    (r = get_string(j, p, "listenerMetadata", false, &s->listener_metadata, err)) < 0)
		return r;
	r = get_array(j, p, "syscalls", MAX_SYSCALL_RULES, &arr, err);
	if (r <= 0 || json_array_size(arr) == 0)
		return r;
	s->syscalls = calloc(json_array_size(arr), sizeof(*s->syscalls));
	if (!s->syscalls)
		return oom(err);
	s->n_syscalls = json_array_size(arr);
	for (i = 0; i < json_array_size(arr); i++) {
		_cleanup_free_ char *pp = NULL;

		r = array_elem(arr, i, p, "syscalls", &e, &pp, err);
		if (r < 0)
			return r;
		r = parse_syscall_rule(e, pp, &s->syscalls[i], err);
		if (r < 0)
			return r;
	}
	return 0;
}

/* ---- linux --------------------------------------------------------------------------------- */

static int parse_namespaces(json_t *lin, struct berth_linux *l, struct berth_error **err)
{
	json_t *arr, *e;
	size_t i;
	int r;

	r = get_array(lin, "linux", "namespaces", MAX_NAMESPACES, &arr, err);
	if (r <= 0)
		return r;
	for (i = 0; i < json_array_size(arr); i++) {
		_cleanup_free_ char *pp = NULL, *type = NULL, *path = NULL;
		int t;

		r = array_elem(arr, i, "linux", "namespaces", &e, &pp, err);
		if (r < 0)
			return r;
		r = get_string(e, pp, "type", true, &type, err);
		if (r < 0)
			return r;
		t = berth_ns_from_name(type);
		if (t < 0)
			return ferr(err, pp, "type", "unknown namespace type '%s'", type);
		if (l->namespaces[t].present)
			return ferr(err, pp, "type", "duplicate namespace type '%s'", type);
		r = get_string(e, pp, "path", false, &path, err);
		if (r < 0)
			return r;
		l->namespaces[t].present = true;
		/* an empty path is the same as none: a new namespace */
		if (path && *path)
			l->namespaces[t].path = TAKE_PTR(path);
	}
	return 0;
}

static int parse_devices(json_t *lin, struct berth_linux *l, struct berth_error **err)
{
	json_t *arr, *e;
	size_t i;
	int r;

	r = get_array(lin, "linux", "devices", MAX_DEVICES, &arr, err);
	if (r <= 0 || json_array_size(arr) == 0)
		return r;
	l->devices = calloc(json_array_size(arr), sizeof(*l->devices));
	if (!l->devices)
		return oom(err);
	l->n_devices = json_array_size(arr);
	for (i = 0; i < json_array_size(arr); i++) {
		_cleanup_free_ char *pp = NULL, *type = NULL;
		struct berth_device *d = &l->devices[i];

		r = array_elem(arr, i, "linux", "devices", &e, &pp, err);
		if (r < 0)
			return r;
		d->file_mode = d->uid = d->gid = BERTH_UNSET;
		r = get_string(e, pp, "path", true, &d->path, err);
		if (r < 0)
			return r;
		if (d->path[0] != '/')
			return ferr(err, pp, "path", "'%s' is not an absolute path", d->path);
		r = get_string(e, pp, "type", true, &type, err);
		if (r < 0)
			return r;
		if (strlen(type) != 1 || !strchr("cbup", type[0]))
			return ferr(err, pp, "type",
				    "unknown device type '%s' (expected c, b, u or p)", type);
		d->type = type[0];
		/* a fifo has no device number */
		if ((r = get_int(e, pp, "major", d->type != 'p', 0, UINT32_MAX, &d->major, err)) <
			0 ||
		    (r = get_int(e, pp, "minor", d->type != 'p', 0, UINT32_MAX, &d->minor, err)) <
			0 ||
		    (r = get_int(e, pp, "fileMode", false, 0, 07777, &d->file_mode, err)) < 0 ||
		    (r = get_int(e, pp, "uid", false, 0, UINT32_MAX - 1, &d->uid, err)) < 0 ||
		    (r = get_int(e, pp, "gid", false, 0, UINT32_MAX - 1, &d->gid, err)) < 0)
			return r;
	}
	return 0;
}

static int parse_propagation(const char *s, unsigned long *ret)
{
	static const struct {
		const char *name;
		unsigned long flags;
	} table[] = {
	    {"shared", MS_SHARED},	   {"rshared", MS_SHARED | MS_REC},
	    {"slave", MS_SLAVE},	   {"rslave", MS_SLAVE | MS_REC},
	    {"private", MS_PRIVATE},	   {"rprivate", MS_PRIVATE | MS_REC},
	    {"unbindable", MS_UNBINDABLE}, {"runbindable", MS_UNBINDABLE | MS_REC},
	};

	if (!*s) {
		*ret = 0;
		return 0;
	}
	for (size_t i = 0; i < ARRAY_SIZE(table); i++)
		if (strcmp(table[i].name, s) == 0) {
			*ret = table[i].flags;
			return 0;
		}
	return -EINVAL;
}

static int parse_personality(json_t *lin, struct berth_linux *l, struct berth_error **err)
{
	static const struct {
		const char *name;
		unsigned long flag;
	} flags[] = {
	    {"ADDR_COMPAT_LAYOUT", ADDR_COMPAT_LAYOUT}, {"ADDR_LIMIT_3GB", ADDR_LIMIT_3GB},
	    {"ADDR_LIMIT_32BIT", ADDR_LIMIT_32BIT},	{"ADDR_NO_RANDOMIZE", ADDR_NO_RANDOMIZE},
	    {"FDPIC_FUNCPTRS", FDPIC_FUNCPTRS},		{"MMAP_PAGE_ZERO", MMAP_PAGE_ZERO},
	    {"READ_IMPLIES_EXEC", READ_IMPLIES_EXEC},	{"SHORT_INODE", SHORT_INODE},
	    {"STICKY_TIMEOUTS", STICKY_TIMEOUTS},	{"UNAME26", UNAME26},
	    {"WHOLE_SECONDS", WHOLE_SECONDS},
	};
	const char *p = "linux.personality";
	_cleanup_free_ char *domain = NULL;
	json_t *j, *arr, *e;
	size_t i;
	int r;

	r = get_object(lin, "linux", "personality", false, &j, err);
	if (r <= 0)
		return r;
	r = get_string(j, p, "domain", true, &domain, err);
	if (r < 0)
		return r;
	if (strcmp(domain, "LINUX") == 0)
		l->personality = PER_LINUX;
	else if (strcmp(domain, "LINUX32") == 0)
		l->personality = PER_LINUX32;
	else
		return ferr(err, p, "domain", "unknown domain '%s' (expected LINUX or LINUX32)",
			    domain);
	r = get_array(j, p, "flags", MAX_PERSONALITY, &arr, err);
	if (r < 0)
		return r;
	json_array_foreach (arr, i, e) {
		size_t k;

		if (!json_is_string(e))
			return ferr(err, p, "flags", "expected an array of strings");
		for (k = 0; k < ARRAY_SIZE(flags); k++)
			if (strcmp(flags[k].name, json_string_value(e)) == 0)
				break;
		if (k == ARRAY_SIZE(flags))
			return ferr(err, p, "flags", "unknown flag '%s'", json_string_value(e));
		l->personality |= flags[k].flag;
	}
	l->has_personality = true;
	return 0;
}

static int parse_time_offsets(json_t *lin, struct berth_linux *l, struct berth_error **err)
{
	const char *p = "linux.timeOffsets", *clock;
	json_t *j, *e;
	int r;

	r = get_object(lin, "linux", "timeOffsets", false, &j, err);
	if (r <= 0)
		return r;
	json_object_foreach (j, clock, e) {
		struct berth_time_offset *o;
		int64_t ns = 0;

		if (strcmp(clock, "monotonic") == 0)
			o = &l->time_monotonic;
		else if (strcmp(clock, "boottime") == 0)
			o = &l->time_boottime;
		else
			return ferr(err, p, NULL,
				    "unknown clock '%s' (expected monotonic or boottime)", clock);
		if (!json_is_object(e))
			return ferr(err, p, clock, "expected an object");
		_cleanup_free_ char *cp = sub_path(p, clock);
		if (!cp)
			return oom(err);
		o->secs = 0;
		if ((r = get_int(e, cp, "secs", false, INT64_MIN + 1, INT64_MAX, &o->secs, err)) <
		    0)
			return r;
		/* /proc/PID/timens_offsets refuses a nanosecond part of a second or more */
		if ((r = get_int(e, cp, "nanosecs", false, 0, 999999999, &ns, err)) < 0)
			return r;
		o->nanosecs = (uint32_t)ns;
		o->present = true;
	}
	return 0;
}

/* sysctl keys name files under /proc/sys; none may climb out of it. */
static int check_sysctl(const struct berth_linux *l, struct berth_error **err)
{
	for (size_t i = 0; i < l->n_sysctl; i++) {
		const char *k = l->sysctl[i].key;
		size_t n = strlen(k);

		if (!n || k[0] == '.' || k[0] == '/' || k[n - 1] == '.' || k[n - 1] == '/' ||
		    strstr(k, "..") || strstr(k, "//") || strstr(k, "./") || strstr(k, "/."))
			return ferr(err, "linux", "sysctl", "invalid key '%s'", k);
	}
	return 0;
}

static int parse_linux(json_t *root, struct berth_linux *l, struct berth_error **err)
{
	_cleanup_free_ char *prop = NULL;
	json_t *lin, *res;
	int r;

	r = get_object(root, "", "linux", false, &lin, err);
	if (r <= 0)
		return r;
	if ((r = parse_id_mappings(lin, "linux", "uidMappings", &l->uid_mappings,
				   &l->n_uid_mappings, err)) < 0 ||
	    (r = parse_id_mappings(lin, "linux", "gidMappings", &l->gid_mappings,
				   &l->n_gid_mappings, err)) < 0)
		return r;
	if ((r = get_map(lin, "linux", "sysctl", MAX_SYSCTL, &l->sysctl, &l->n_sysctl, err)) < 0 ||
	    (r = check_sysctl(l, err)) < 0)
		return r;
	r = get_object(lin, "linux", "resources", false, &res, err);
	if (r < 0)
		return r;
	if (res && (r = parse_resources_at(res, "linux.resources", &l->resources, err)) < 0)
		return r;
	if ((r = get_string(lin, "linux", "cgroupsPath", false, &l->cgroups_path, err)) < 0 ||
	    (r = parse_namespaces(lin, l, err)) < 0 || (r = parse_devices(lin, l, err)) < 0 ||
	    (r = parse_seccomp(lin, &l->seccomp, err)) < 0)
		return r;
	r = get_string(lin, "linux", "rootfsPropagation", false, &prop, err);
	if (r < 0)
		return r;
	if (prop && parse_propagation(prop, &l->rootfs_propagation) < 0)
		return ferr(err, "linux", "rootfsPropagation", "unknown propagation '%s'", prop);
	if ((r = get_strv(lin, "linux", "maskedPaths", MAX_PATHS, &l->masked_paths, err)) < 0 ||
	    (r = get_strv(lin, "linux", "readonlyPaths", MAX_PATHS, &l->readonly_paths, err)) < 0 ||
	    (r = get_string(lin, "linux", "mountLabel", false, &l->mount_label, err)) < 0 ||
	    (r = parse_personality(lin, l, err)) < 0 || (r = parse_time_offsets(lin, l, err)) < 0)
		return r;
	return 0;
}

static void linux_release(struct berth_linux *l)
{
	free(l->uid_mappings);
	free(l->gid_mappings);
	free_kv(l->sysctl, l->n_sysctl);
	berth_resources_free(l->resources);
	free(l->cgroups_path);
	for (int i = 0; i < BERTH_NS_COUNT; i++)
		free(l->namespaces[i].path);
	for (size_t i = 0; l->devices && i < l->n_devices; i++)
		free(l->devices[i].path);
	free(l->devices);
	seccomp_free(l->seccomp);
	berth_strv_free(l->masked_paths);
	berth_strv_free(l->readonly_paths);
	free(l->mount_label);
}

/* ---- the document -------------------------------------------------------------------------- */

void berth_spec_free(struct berth_spec *s)
{
	if (!s)
		return;
	free(s->oci_version);
	free(s->root_path);
	for (size_t i = 0; s->mounts && i < s->n_mounts; i++)
		mount_release(&s->mounts[i]);
	free(s->mounts);
	berth_process_free(s->process);
	free(s->hostname);
	free(s->domainname);
	hook_list_release(&s->hooks.prestart);
	hook_list_release(&s->hooks.create_runtime);
	hook_list_release(&s->hooks.create_container);
	hook_list_release(&s->hooks.start_container);
	hook_list_release(&s->hooks.poststart);
	hook_list_release(&s->hooks.poststop);
	free_kv(s->annotations, s->n_annotations);
	linux_release(&s->linux_);
	if (s->json)
		json_decref(s->json);
	free(s);
}

static int parse_document(json_t *j, struct berth_spec *s, struct berth_error **err)
{
	json_t *root, *proc;
	int r;

	if (!json_is_object(j))
		return berth_error_set(err, EINVAL, "config: expected an object");
	r = get_string(j, "", "ociVersion", true, &s->oci_version, err);
	if (r < 0)
		return r;
	if (!*s->oci_version)
		return ferr(err, "", "ociVersion", "must not be empty");
	r = get_object(j, "", "root", true, &root, err);
	if (r < 0)
		return r;
	r = get_string(root, "root", "path", true, &s->root_path, err);
	if (r < 0)
		return r;
	if (!*s->root_path)
		return ferr(err, "root", "path", "must not be empty");
	if ((r = get_bool(root, "root", "readonly", &s->root_readonly, err)) < 0)
		return r;
	if ((r = parse_mounts(j, s, err)) < 0)
		return r;
	r = get_object(j, "", "process", false, &proc, err);
	if (r < 0)
		return r;
	if (proc && (r = parse_process_at(proc, "process", &s->process, err)) < 0)
		return r;
	if ((r = get_string(j, "", "hostname", false, &s->hostname, err)) < 0 ||
	    (r = get_string(j, "", "domainname", false, &s->domainname, err)) < 0 ||
	    (r = parse_hooks(j, &s->hooks, err)) < 0)
		return r;
	r = get_map(j, "", "annotations", MAX_ANNOTATIONS, &s->annotations, &s->n_annotations, err);
	if (r < 0)
		return r;
	for (size_t i = 0; i < s->n_annotations; i++)
		if (!*s->annotations[i].key)
			return ferr(err, "", "annotations", "empty key");
	return parse_linux(j, &s->linux_, err);
}

/*
 * jansson refuses integer literals above INT64_MAX, but the spec's uint64 fields use them:
 * rlimits of 2^64-1 (RLIM_INFINITY, as podman and docker write "unlimited"), seccomp argument
 * masks.  Rewrite each such literal (up to 2^64-1) into the int64 of the same bits; get_u64()
 * reads it back.  *ret is a new buffer, or NULL when nothing needed rewriting.
 */
static int rewrite_big_integers(const char *data, size_t len, char **ret, size_t *ret_len)
{
	_cleanup_free_ char *out = NULL;
	size_t i = 0, o = 0, copied = 0;
	bool in_string = false;

	*ret = NULL;
	while (i < len) {
		size_t start, end, digits;
		char num[21];
		uint64_t v;

		if (in_string) {
			if (data[i] == '\\')
				i++;
			else if (data[i] == '"')
				in_string = false;
			i++;
			continue;
		}
		if (data[i] == '"')
			in_string = true;
		if (!(data[i] >= '0' && data[i] <= '9')) {
			i++;
			continue;
		}
		start = end = i;
		while (end < len && data[end] >= '0' && data[end] <= '9')
			end++;
		digits = end - start;
		/* skip the rest of the number token: a fraction or exponent makes it a real */
		i = end;
		while (i < len && strchr("0123456789.eE+-", data[i]))
			i++;
		if (i != end || (start > 0 && data[start - 1] == '-') || digits < 19 ||
		    digits > 20 || data[start] == '0')
			continue;
		memcpy(num, data + start, digits);
		num[digits] = '\0';
		if (berth_parse_uint64(num, &v) < 0 || v <= (uint64_t)INT64_MAX)
			continue;
		if (!out) {
			/* each rewrite of >= 19 digits grows by at most one byte (the '-') */
			out = malloc(len + len / 19 + 2);
			if (!out)
				return -ENOMEM;
		}
		memcpy(out + o, data + copied, start - copied);
		o += start - copied;
		o += (size_t)snprintf(out + o, 21, "%" PRId64, (int64_t)v);
		copied = end;
	}
	if (!out)
		return 0;
	memcpy(out + o, data + copied, len - copied);
	o += len - copied;
	out[o] = '\0';
	*ret_len = o;
	*ret = TAKE_PTR(out);
	return 0;
}

int berth_spec_json_parse(const char *data, size_t len, json_t **ret, struct berth_error **err)
{
	_cleanup_free_ char *rewritten = NULL;
	size_t rlen = 0;
	int r;

	if (len > BERTH_SPEC_MAX_SIZE)
		return berth_error_set(err, EFBIG, "larger than %u bytes", BERTH_SPEC_MAX_SIZE);
	r = rewrite_big_integers(data, len, &rewritten, &rlen);
	if (r < 0)
		return oom(err);
	return berth_json_parse(rewritten ? rewritten : data, rewritten ? rlen : len, ret, err);
}

int berth_spec_json_load_file(const char *path, json_t **ret, struct berth_error **err)
{
	_cleanup_free_ char *data = NULL;
	size_t len;
	int r;

	r = berth_read_file_at(AT_FDCWD, path, BERTH_SPEC_MAX_SIZE, &data, &len, err);
	if (r < 0)
		return r;
	r = berth_spec_json_parse(data, len, ret, err);
	if (r < 0)
		return berth_error_wrap(err, "parse '%s'", path);
	return 0;
}

int berth_spec_parse(const char *data, size_t len, struct berth_spec **ret,
		     struct berth_error **err)
{
	_cleanup_spec_ struct berth_spec *s = NULL;
	json_t *j;
	int r;

	r = berth_spec_json_parse(data, len, &j, err);
	if (r < 0)
		return r;
	s = calloc(1, sizeof(*s));
	if (!s) {
		json_decref(j);
		return oom(err);
	}
	s->json = j;
	r = parse_document(j, s, err);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(s);
	return 0;
}

int berth_spec_load_bundle(const char *bundle, struct berth_spec **ret, struct berth_error **err)
{
	_cleanup_free_ char *path = NULL, *data = NULL;
	size_t len;
	int r;

	if (asprintf(&path, "%s/config.json", bundle && *bundle ? bundle : ".") < 0)
		return oom(err);
	r = berth_read_file_at(AT_FDCWD, path, BERTH_SPEC_MAX_SIZE, &data, &len, err);
	if (r < 0)
		return r;
	r = berth_spec_parse(data, len, ret, err);
	if (r < 0)
		return berth_error_wrap(err, "parse '%s'", path);
	return 0;
}
