/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The linux object of config.json: id mappings, sysctl, namespaces, devices, seccomp,
 * rootfsPropagation, masked and read-only paths, personality, timeOffsets.  linux.resources is
 * parsed by spec-resources.c.  Policy as in spec.c.
 */
#include <errno.h>
#include <seccomp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/personality.h>

#include "runtime/spec-internal.h"
#include "base/banned.h"

/* Caps on what a document may ask for; each is far above what a real config uses. */
#define MAX_SYSCTL	  10000
#define MAX_NAMESPACES	  64
#define MAX_DEVICES	  10000
#define MAX_PATHS	  10000
#define MAX_SYSCALL_RULES 10000
#define MAX_SYSCALL_NAMES 10000
#define MAX_SYSCALL_ARGS  6 /* a syscall has six argument registers */
#define MAX_SECCOMP_NAMES 64
#define MAX_PERSONALITY	  64

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

	r = spec_get_string(j, path, key, true, &name, err);
	if (r < 0)
		return r;
	for (i = 0; i < ARRAY_SIZE(seccomp_actions); i++)
		if (strcmp(seccomp_actions[i].name, name) == 0)
			break;
	if (i == ARRAY_SIZE(seccomp_actions))
		return spec_ferr(err, path, key, "unknown action '%s'", name);
	*ret_action = seccomp_actions[i].action;
	*ret_errno = BERTH_UNSET;
	/* the kernel keeps 16 bits of return data */
	r = spec_get_int(j, path, errno_key, false, 0, UINT16_MAX, ret_errno, err);
	if (r < 0)
		return r;
	if (r && *ret_action != SCMP_ACT_ERRNO(0) && *ret_action != SCMP_ACT_TRACE(0))
		return spec_ferr(err, path, errno_key, "not allowed with action '%s'", name);
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
	r = spec_get_strv(e, p, "names", MAX_SYSCALL_NAMES, &rule->names, err);
	if (r < 0)
		return r;
	if (!rule->names || !rule->names[0])
		return spec_ferr(err, p, "names", "at least one name is required");
	for (i = 0; rule->names[i]; i++)
		if (!*rule->names[i])
			return spec_ferr(err, p, "names", "empty syscall name");
	r = parse_action(e, p, "action", "errnoRet", &rule->action, &rule->errno_ret, err);
	if (r < 0)
		return r;
	r = spec_get_array(e, p, "args", MAX_SYSCALL_ARGS, &arr, err);
	if (r <= 0 || json_array_size(arr) == 0)
		return r;
	rule->args = calloc(json_array_size(arr), sizeof(*rule->args));
	if (!rule->args)
		return spec_oom(err);
	rule->n_args = json_array_size(arr);
	for (i = 0; i < json_array_size(arr); i++) {
		_cleanup_free_ char *pp = NULL, *op = NULL;
		struct berth_seccomp_arg *arg = &rule->args[i];
		int64_t index;
		size_t k;

		r = spec_array_elem(arr, i, p, "args", &a, &pp, err);
		if (r < 0)
			return r;
		r = spec_get_int(a, pp, "index", true, 0, MAX_SYSCALL_ARGS - 1, &index, err);
		if (r < 0)
			return r;
		arg->index = (unsigned)index;
		if ((r = spec_get_u64(a, pp, "value", true, &arg->value, err)) < 0 ||
		    (r = spec_get_u64(a, pp, "valueTwo", false, &arg->value_two, err)) < 0)
			return r;
		r = spec_get_string(a, pp, "op", true, &op, err);
		if (r < 0)
			return r;
		for (k = 0; k < ARRAY_SIZE(seccomp_ops); k++)
			if (strcmp(seccomp_ops[k].name, op) == 0)
				break;
		if (k == ARRAY_SIZE(seccomp_ops))
			return spec_ferr(err, pp, "op", "unknown operator '%s'", op);
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

	r = spec_get_object(lin, "linux", "seccomp", false, &j, err);
	if (r <= 0)
		return r;
	s = calloc(1, sizeof(*s));
	if (!s)
		return spec_oom(err);
	*ret = s;
	r = parse_action(j, p, "defaultAction", "defaultErrnoRet", &s->default_action,
			 &s->default_errno_ret, err);
	if (r < 0)
		return r;
	if ((r = spec_get_strv(j, p, "architectures", MAX_SECCOMP_NAMES, &s->architectures, err)) <
		    0 ||
	    (r = spec_get_strv(j, p, "flags", MAX_SECCOMP_NAMES, &s->flags, err)) < 0 ||
	    (r = spec_get_string(j, p, "listenerPath", false, &s->listener_path, err)) < 0 ||
	    (r = spec_get_string(j, p, "listenerMetadata", false, &s->listener_metadata, err)) < 0)
		return r;
	r = spec_get_array(j, p, "syscalls", MAX_SYSCALL_RULES, &arr, err);
	if (r <= 0 || json_array_size(arr) == 0)
		return r;
	s->syscalls = calloc(json_array_size(arr), sizeof(*s->syscalls));
	if (!s->syscalls)
		return spec_oom(err);
	s->n_syscalls = json_array_size(arr);
	for (i = 0; i < json_array_size(arr); i++) {
		_cleanup_free_ char *pp = NULL;

		r = spec_array_elem(arr, i, p, "syscalls", &e, &pp, err);
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

	r = spec_get_array(lin, "linux", "namespaces", MAX_NAMESPACES, &arr, err);
	if (r <= 0)
		return r;
	for (i = 0; i < json_array_size(arr); i++) {
		_cleanup_free_ char *pp = NULL, *type = NULL, *path = NULL;
		int t;

		r = spec_array_elem(arr, i, "linux", "namespaces", &e, &pp, err);
		if (r < 0)
			return r;
		r = spec_get_string(e, pp, "type", true, &type, err);
		if (r < 0)
			return r;
		t = berth_ns_from_name(type);
		if (t < 0)
			return spec_ferr(err, pp, "type", "unknown namespace type '%s'", type);
		if (l->namespaces[t].present)
			return spec_ferr(err, pp, "type", "duplicate namespace type '%s'", type);
		r = spec_get_string(e, pp, "path", false, &path, err);
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

	r = spec_get_array(lin, "linux", "devices", MAX_DEVICES, &arr, err);
	if (r <= 0 || json_array_size(arr) == 0)
		return r;
	l->devices = calloc(json_array_size(arr), sizeof(*l->devices));
	if (!l->devices)
		return spec_oom(err);
	l->n_devices = json_array_size(arr);
	for (i = 0; i < json_array_size(arr); i++) {
		_cleanup_free_ char *pp = NULL, *type = NULL;
		struct berth_device *d = &l->devices[i];

		r = spec_array_elem(arr, i, "linux", "devices", &e, &pp, err);
		if (r < 0)
			return r;
		d->file_mode = d->uid = d->gid = BERTH_UNSET;
		r = spec_get_string(e, pp, "path", true, &d->path, err);
		if (r < 0)
			return r;
		if (d->path[0] != '/')
			return spec_ferr(err, pp, "path", "'%s' is not an absolute path", d->path);
		r = spec_get_string(e, pp, "type", true, &type, err);
		if (r < 0)
			return r;
		if (strlen(type) != 1 || !strchr("cbup", type[0]))
			return spec_ferr(err, pp, "type",
					 "unknown device type '%s' (expected c, b, u or p)", type);
		d->type = type[0];
		/* a fifo has no device number */
		if ((r = spec_get_int(e, pp, "major", d->type != 'p', 0, UINT32_MAX, &d->major,
				      err)) < 0 ||
		    (r = spec_get_int(e, pp, "minor", d->type != 'p', 0, UINT32_MAX, &d->minor,
				      err)) < 0 ||
		    (r = spec_get_int(e, pp, "fileMode", false, 0, 07777, &d->file_mode, err)) <
			    0 ||
		    (r = spec_get_int(e, pp, "uid", false, 0, UINT32_MAX - 1, &d->uid, err)) < 0 ||
		    (r = spec_get_int(e, pp, "gid", false, 0, UINT32_MAX - 1, &d->gid, err)) < 0)
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
		{"shared", MS_SHARED},	       {"rshared", MS_SHARED | MS_REC},
		{"slave", MS_SLAVE},	       {"rslave", MS_SLAVE | MS_REC},
		{"private", MS_PRIVATE},       {"rprivate", MS_PRIVATE | MS_REC},
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
	static const struct spec_flag_name flags[] = {
		{"ADDR_COMPAT_LAYOUT", ADDR_COMPAT_LAYOUT},
		{"ADDR_LIMIT_3GB", ADDR_LIMIT_3GB},
		{"ADDR_LIMIT_32BIT", ADDR_LIMIT_32BIT},
		{"ADDR_NO_RANDOMIZE", ADDR_NO_RANDOMIZE},
		{"FDPIC_FUNCPTRS", FDPIC_FUNCPTRS},
		{"MMAP_PAGE_ZERO", MMAP_PAGE_ZERO},
		{"READ_IMPLIES_EXEC", READ_IMPLIES_EXEC},
		{"SHORT_INODE", SHORT_INODE},
		{"STICKY_TIMEOUTS", STICKY_TIMEOUTS},
		{"UNAME26", UNAME26},
		{"WHOLE_SECONDS", WHOLE_SECONDS},
	};
	const char *p = "linux.personality";
	_cleanup_free_ char *domain = NULL;
	json_t *j;
	int r;

	r = spec_get_object(lin, "linux", "personality", false, &j, err);
	if (r <= 0)
		return r;
	r = spec_get_string(j, p, "domain", true, &domain, err);
	if (r < 0)
		return r;
	if (strcmp(domain, "LINUX") == 0)
		l->personality = PER_LINUX;
	else if (strcmp(domain, "LINUX32") == 0)
		l->personality = PER_LINUX32;
	else
		return spec_ferr(err, p, "domain",
				 "unknown domain '%s' (expected LINUX or LINUX32)", domain);
	uint64_t bits = 0;
	r = spec_get_flag_names(j, p, "flags", MAX_PERSONALITY, flags, ARRAY_SIZE(flags), &bits,
				err);
	if (r < 0)
		return r;
	l->personality |= (unsigned long)bits;
	l->has_personality = true;
	return 0;
}

static int parse_time_offsets(json_t *lin, struct berth_linux *l, struct berth_error **err)
{
	const char *p = "linux.timeOffsets", *clock;
	json_t *j, *e;
	int r;

	r = spec_get_object(lin, "linux", "timeOffsets", false, &j, err);
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
			return spec_ferr(err, p, NULL,
					 "unknown clock '%s' (expected monotonic or boottime)",
					 clock);
		if (!json_is_object(e))
			return spec_ferr(err, p, clock, "expected an object");
		_cleanup_free_ char *cp = spec_sub_path(p, clock);
		if (!cp)
			return spec_oom(err);
		o->secs = 0;
		if ((r = spec_get_int(e, cp, "secs", false, INT64_MIN + 1, INT64_MAX, &o->secs,
				      err)) < 0)
			return r;
		/* /proc/PID/timens_offsets refuses a nanosecond part of a second or more */
		if ((r = spec_get_int(e, cp, "nanosecs", false, 0, 999999999, &ns, err)) < 0)
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
			return spec_ferr(err, "linux", "sysctl", "invalid key '%s'", k);
	}
	return 0;
}

int spec_parse_linux(json_t *root, struct berth_linux *l, struct berth_error **err)
{
	_cleanup_free_ char *prop = NULL;
	json_t *lin, *res;
	int r;

	r = spec_get_object(root, "", "linux", false, &lin, err);
	if (r <= 0)
		return r;
	if ((r = spec_parse_id_mappings(lin, "linux", "uidMappings", &l->uid_mappings,
					&l->n_uid_mappings, err)) < 0 ||
	    (r = spec_parse_id_mappings(lin, "linux", "gidMappings", &l->gid_mappings,
					&l->n_gid_mappings, err)) < 0)
		return r;
	if ((r = spec_get_map(lin, "linux", "sysctl", MAX_SYSCTL, &l->sysctl, &l->n_sysctl, err)) <
		    0 ||
	    (r = check_sysctl(l, err)) < 0)
		return r;
	r = spec_get_object(lin, "linux", "resources", false, &res, err);
	if (r < 0)
		return r;
	if (res && (r = spec_parse_resources(res, "linux.resources", &l->resources, err)) < 0)
		return r;
	if ((r = spec_get_string(lin, "linux", "cgroupsPath", false, &l->cgroups_path, err)) < 0 ||
	    (r = parse_namespaces(lin, l, err)) < 0 || (r = parse_devices(lin, l, err)) < 0 ||
	    (r = parse_seccomp(lin, &l->seccomp, err)) < 0)
		return r;
	r = spec_get_string(lin, "linux", "rootfsPropagation", false, &prop, err);
	if (r < 0)
		return r;
	if (prop && parse_propagation(prop, &l->rootfs_propagation) < 0)
		return spec_ferr(err, "linux", "rootfsPropagation", "unknown propagation '%s'",
				 prop);
	if ((r = spec_get_strv(lin, "linux", "maskedPaths", MAX_PATHS, &l->masked_paths, err)) <
		    0 ||
	    (r = spec_get_strv(lin, "linux", "readonlyPaths", MAX_PATHS, &l->readonly_paths, err)) <
		    0 ||
	    (r = spec_get_string(lin, "linux", "mountLabel", false, &l->mount_label, err)) < 0 ||
	    (r = parse_personality(lin, l, err)) < 0 || (r = parse_time_offsets(lin, l, err)) < 0)
		return r;
	return 0;
}

void spec_linux_release(struct berth_linux *l)
{
	free(l->uid_mappings);
	free(l->gid_mappings);
	spec_free_kv(l->sysctl, l->n_sysctl);
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
