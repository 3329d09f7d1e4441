/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Docker-format seccomp profiles -> OCI linux.seccomp, following moby's profiles/seccomp
 * (setupSeccomp): archMap gives the native architecture and its sub-architectures; a syscall
 * group is kept when all of its includes match and none of its excludes does.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dockerspec-internal.h"
#include "base/banned.h"

static const char *const actions[] = {
	"SCMP_ACT_KILL",  "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD",
	"SCMP_ACT_TRAP",  "SCMP_ACT_ERRNO",	   "SCMP_ACT_TRACE",
	"SCMP_ACT_ALLOW", "SCMP_ACT_LOG",	   "SCMP_ACT_NOTIFY",
};

static const char *const ops[] = {
	"SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE",	    "SCMP_CMP_EQ",
	"SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_MASKED_EQ",
};

const char *dockerspec_seccomp_action(const char *s)
{
	for (size_t i = 0; s && i < ARRAY_SIZE(actions); i++)
		if (strcmp(actions[i], s) == 0)
			return actions[i];
	return NULL;
}

const char *dockerspec_seccomp_op(const char *s)
{
	for (size_t i = 0; s && i < ARRAY_SIZE(ops); i++)
		if (strcmp(ops[i], s) == 0)
			return ops[i];
	return NULL;
}

static void filter_release(struct dockerspec_filter *f)
{
	berth_strv_free(f->caps);
	berth_strv_free(f->arches);
}

void dockerspec_profile_release(struct dockerspec_profile *p)
{
	berth_strv_free(p->architectures);
	for (size_t i = 0; i < p->n_arch_map; i++) {
		free(p->arch_map[i].arch);
		berth_strv_free(p->arch_map[i].sub_arches);
	}
	free(p->arch_map);
	berth_strv_free(p->flags);
	free(p->listener_path);
	free(p->listener_metadata);
	for (size_t i = 0; i < p->n_rules; i++) {
		berth_strv_free(p->rules[i].names);
		free(p->rules[i].args);
		filter_release(&p->rules[i].includes);
		filter_release(&p->rules[i].excludes);
	}
	free(p->rules);
	*p = (struct dockerspec_profile){0};
}

/* ---- parsing ----------------------------------------------------------------------------- */

static int bad(struct berth_error **err, const char *what)
{
	return berth_error_set(err, EINVAL, "Decoding seccomp profile failed: %s", what);
}

static int strv_of(const json_t *v, const char *field, char ***ret, struct berth_error **err)
{
	size_t i;
	json_t *e;

	if (!v || json_is_null(v))
		return 0;
	if (!json_is_array(v)) {
		char msg[128];
		snprintf(msg, sizeof(msg), "json: '%s' must be an array of strings", field);
		return bad(err, msg);
	}
	json_array_foreach (v, i, e) {
		if (!json_is_string(e)) {
			char msg[128];
			snprintf(msg, sizeof(msg), "json: '%s' must be an array of strings", field);
			return bad(err, msg);
		}
		if (berth_strv_push(ret, json_string_value(e)) < 0)
			return berth_error_set(err, ENOMEM, "out of memory");
	}
	return 0;
}

static int parse_kernel(const json_t *v, struct dockerspec_filter *f, struct berth_error **err)
{
	const char *s;
	unsigned a, b;
	char tail;

	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return berth_error_set(err, EINVAL,
				       "Decoding seccomp profile failed: invalid kernel version: "
				       "expected \"<kernel>.<major>\"");
	s = json_string_value(v);
	if (!*s)
		return 0;
	if (sscanf(s, "%u.%u%c", &a, &b, &tail) != 2 || a > 255 || b > 255)
		return berth_error_set(err, EINVAL,
				       "Decoding seccomp profile failed: invalid kernel version: "
				       "\"%s\", expected \"<kernel>.<major>\"",
				       s);
	if (a == 0 && b == 0)
		return berth_error_set(
			err, EINVAL,
			"Decoding seccomp profile failed: invalid kernel version: "
			"\"%s\", expected \"<kernel>.<major>\": version cannot be 0.0",
			s);
	f->has_min_kernel = true;
	f->min_major = a;
	f->min_minor = b;
	return 0;
}

static int parse_filter(const json_t *v, struct dockerspec_filter *f, struct berth_error **err)
{
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_object(v))
		return bad(err, "json: 'includes' and 'excludes' must be objects");
	if (strv_of(json_object_get(v, "caps"), "caps", &f->caps, err) < 0 ||
	    strv_of(json_object_get(v, "arches"), "arches", &f->arches, err) < 0)
		return -EINVAL;
	return parse_kernel(json_object_get(v, "minKernel"), f, err);
}

static int get_u64(const json_t *v, uint64_t *ret)
{
	if (!v || json_is_null(v)) {
		*ret = 0;
		return 0;
	}
	if (!json_is_integer(v) || json_integer_value(v) < 0) {
		/* jansson keeps values above INT64_MAX as reals; take them when whole */
		if (json_is_real(v) && json_real_value(v) >= 0 &&
		    json_real_value(v) < 18446744073709551616.0) {
			*ret = (uint64_t)json_real_value(v);
			return 0;
		}
		return -EINVAL;
	}
	*ret = (uint64_t)json_integer_value(v);
	return 0;
}

static int parse_rule(const json_t *v, struct dockerspec_rule *r, struct berth_error **err)
{
	const json_t *name = json_object_get(v, "name");
	const json_t *names = json_object_get(v, "names");
	const json_t *args = json_object_get(v, "args");
	const json_t *er = json_object_get(v, "errnoRet");
	size_t i;
	json_t *a;

	if (!json_is_object(v))
		return bad(err, "json: each of 'syscalls' must be an object");
	r->errno_ret = BERTH_UNSET;
	if (name && !json_is_null(name)) {
		if (!json_is_string(name))
			return bad(err, "json: 'name' must be a string");
		if (*json_string_value(name)) {
			if (json_is_array(names) && json_array_size(names) > 0)
				return berth_error_set(
					err, EINVAL,
					"both 'name' and 'names' are specified in the "
					"seccomp profile, use either 'name' or 'names'");
			if (berth_strv_push(&r->names, json_string_value(name)) < 0)
				return berth_error_set(err, ENOMEM, "out of memory");
		}
	}
	if (!r->names && strv_of(names, "names", &r->names, err) < 0)
		return -EINVAL;
	r->action = dockerspec_seccomp_action(json_string_value(json_object_get(v, "action")));
	if (!r->action)
		return berth_error_set(err, EINVAL, "invalid seccomp action '%s' in the profile",
				       json_string_value(json_object_get(v, "action"))
					       ?: "(missing)");
	if (er && !json_is_null(er)) {
		if (!json_is_integer(er) || json_integer_value(er) < 0 ||
		    json_integer_value(er) > UINT32_MAX)
			return bad(err, "json: 'errnoRet' must be a non-negative integer");
		r->errno_ret = json_integer_value(er);
	}
	if (args && !json_is_null(args)) {
		if (!json_is_array(args))
			return bad(err, "json: 'args' must be an array");
		if (json_array_size(args) > 6)
			return berth_error_set(err, EINVAL,
					       "a seccomp rule has %zu argument filters; a syscall "
					       "has at most 6 arguments",
					       json_array_size(args));
		r->args = calloc(json_array_size(args) + 1, sizeof(*r->args));
		if (!r->args)
			return berth_error_set(err, ENOMEM, "out of memory");
		json_array_foreach (args, i, a) {
			struct dockerspec_arg *d = &r->args[r->n_args++];
			const json_t *idx = json_object_get(a, "index");

			if (!json_is_object(a) || !json_is_integer(idx) ||
			    json_integer_value(idx) < 0 || json_integer_value(idx) > 5)
				return bad(err,
					   "json: each of 'args' needs an 'index' from 0 to 5");
			d->index = (unsigned)json_integer_value(idx);
			if (get_u64(json_object_get(a, "value"), &d->value) < 0 ||
			    get_u64(json_object_get(a, "valueTwo"), &d->value_two) < 0)
				return bad(err, "json: 'value' and 'valueTwo' must be unsigned "
						"integers");
			d->op = dockerspec_seccomp_op(json_string_value(json_object_get(a, "op")));
			if (!d->op)
				return berth_error_set(
					err, EINVAL, "invalid seccomp operator '%s' in the profile",
					json_string_value(json_object_get(a, "op")) ?: "(missing)");
		}
	}
	if (parse_filter(json_object_get(v, "includes"), &r->includes, err) < 0 ||
	    parse_filter(json_object_get(v, "excludes"), &r->excludes, err) < 0)
		return -EINVAL;
	return 0;
}

static int parse_profile(const json_t *j, struct dockerspec_profile *p, struct berth_error **err)
{
	const json_t *v, *e;
	size_t i;

	if (!json_is_object(j))
		return bad(err, "json: cannot unmarshal into Go value of type seccomp.Seccomp");
	p->default_errno_ret = BERTH_UNSET;
	v = json_object_get(j, "defaultAction");
	if (v && !json_is_null(v) && *(json_string_value(v) ?: "x")) {
		p->default_action = dockerspec_seccomp_action(json_string_value(v));
		if (!p->default_action)
			return berth_error_set(err, EINVAL,
					       "invalid seccomp default action '%s' in the profile",
					       json_string_value(v) ?: "(not a string)");
	}
	v = json_object_get(j, "defaultErrnoRet");
	if (v && !json_is_null(v)) {
		if (!json_is_integer(v) || json_integer_value(v) < 0 ||
		    json_integer_value(v) > UINT32_MAX)
			return bad(err, "json: 'defaultErrnoRet' must be a non-negative integer");
		p->default_errno_ret = json_integer_value(v);
	}
	if (strv_of(json_object_get(j, "architectures"), "architectures", &p->architectures, err) <
		    0 ||
	    strv_of(json_object_get(j, "flags"), "flags", &p->flags, err) < 0)
		return -EINVAL;
	v = json_object_get(j, "listenerPath");
	if (json_is_string(v) && *json_string_value(v) &&
	    !(p->listener_path = strdup(json_string_value(v))))
		return berth_error_set(err, ENOMEM, "out of memory");
	v = json_object_get(j, "listenerMetadata");
	if (json_is_string(v) && *json_string_value(v) &&
	    !(p->listener_metadata = strdup(json_string_value(v))))
		return berth_error_set(err, ENOMEM, "out of memory");

	v = json_object_get(j, "archMap");
	if (v && !json_is_null(v)) {
		if (!json_is_array(v))
			return bad(err, "json: 'archMap' must be an array");
		p->arch_map = calloc(json_array_size(v) + 1, sizeof(*p->arch_map));
		if (!p->arch_map)
			return berth_error_set(err, ENOMEM, "out of memory");
		json_array_foreach (v, i, e) {
			struct dockerspec_arch_map *m = &p->arch_map[p->n_arch_map++];
			const json_t *a = json_object_get(e, "architecture");
			if (!json_is_string(a))
				return bad(err, "json: each of 'archMap' needs an 'architecture'");
			m->arch = strdup(json_string_value(a));
			if (!m->arch)
				return berth_error_set(err, ENOMEM, "out of memory");
			if (strv_of(json_object_get(e, "subArchitectures"), "subArchitectures",
				    &m->sub_arches, err) < 0)
				return -EINVAL;
		}
	}
	if (p->architectures && p->n_arch_map)
		return berth_error_set(err, EINVAL,
				       "both 'architectures' and 'archMap' are specified in the "
				       "seccomp profile, use either 'architectures' or 'archMap'");
	v = json_object_get(j, "syscalls");
	if (v && !json_is_null(v)) {
		if (!json_is_array(v))
			return bad(err, "json: 'syscalls' must be an array");
		p->rules = calloc(json_array_size(v) + 1, sizeof(*p->rules));
		if (!p->rules)
			return berth_error_set(err, ENOMEM, "out of memory");
		json_array_foreach (v, i, e) {
			int r = parse_rule(e, &p->rules[p->n_rules++], err);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

/* ---- conversion -------------------------------------------------------------------------- */

/* docker's arch names -> libseccomp's, for archMap */
static const char *native_seccomp_arch(const char *arch)
{
	static const char *const map[][2] = {
		{"386", "SCMP_ARCH_X86"},	    {"amd64", "SCMP_ARCH_X86_64"},
		{"arm", "SCMP_ARCH_ARM"},	    {"arm64", "SCMP_ARCH_AARCH64"},
		{"mips64", "SCMP_ARCH_MIPS64"},	    {"mips64p32", "SCMP_ARCH_MIPS64N32"},
		{"mips64le", "SCMP_ARCH_MIPSEL64"}, {"mips64p32le", "SCMP_ARCH_MIPSEL64N32"},
		{"mipsle", "SCMP_ARCH_MIPSEL"},	    {"ppc", "SCMP_ARCH_PPC"},
		{"ppc64", "SCMP_ARCH_PPC64"},	    {"ppc64le", "SCMP_ARCH_PPC64LE"},
		{"riscv64", "SCMP_ARCH_RISCV64"},   {"s390", "SCMP_ARCH_S390"},
		{"s390x", "SCMP_ARCH_S390X"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(map); i++)
		if (strcmp(map[i][0], arch) == 0)
			return map[i][1];
	return NULL;
}

/* the name moby's includes/excludes use for an arch: Go's, with 386 as "x86" */
static const char *filter_arch(const char *arch)
{
	static const char *const map[][2] = {
		{"386", "x86"},		  {"mips64p32", "mips64n32"},
		{"mips64le", "mipsel64"}, {"mips64p32le", "mips3l64n32"},
		{"mipsle", "mipsel"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(map); i++)
		if (strcmp(map[i][0], arch) == 0)
			return map[i][1];
	return arch;
}

static bool kernel_ge(const struct berth_dockerspec_seccomp_target *t, unsigned a, unsigned b)
{
	return t->kernel_major > a || (t->kernel_major == a && t->kernel_minor >= b);
}

static bool rule_applies(const struct dockerspec_rule *r,
			 const struct berth_dockerspec_seccomp_target *t)
{
	const char *arch = filter_arch(t->arch);

	if (r->excludes.arches && berth_strv_contains(r->excludes.arches, arch))
		return false;
	for (char **c = r->excludes.caps; c && *c; c++)
		if (berth_strv_contains(t->caps, *c))
			return false;
	if (r->excludes.has_min_kernel &&
	    kernel_ge(t, r->excludes.min_major, r->excludes.min_minor))
		return false;
	if (r->includes.arches && !berth_strv_contains(r->includes.arches, arch))
		return false;
	for (char **c = r->includes.caps; c && *c; c++)
		if (!berth_strv_contains(t->caps, *c))
			return false;
	if (r->includes.has_min_kernel &&
	    !kernel_ge(t, r->includes.min_major, r->includes.min_minor))
		return false;
	return true;
}

static json_t *strv_json(char *const *v)
{
	json_t *a = json_array();
	for (; a && v && *v; v++)
		if (json_array_append_new(a, json_string(*v)) < 0) {
			json_decref(a);
			return NULL;
		}
	return a;
}

int dockerspec_profile_to_oci(const struct dockerspec_profile *p,
			      const struct berth_dockerspec_seccomp_target *t, json_t **ret,
			      struct berth_error **err)
{
	_cleanup_json_ json_t *out = NULL, *syscalls = NULL, *arches = NULL;
	const char *native = native_seccomp_arch(t->arch);
	int r = 0;

	if (!p->default_action && p->n_rules == 0) {
		*ret = NULL;
		return 0;
	}
	out = json_object();
	syscalls = json_array();
	if (!out || !syscalls)
		return berth_error_set(err, ENOMEM, "out of memory");
	if (p->default_action)
		r |= json_object_set_new(out, "defaultAction", json_string(p->default_action));
	if (p->default_errno_ret != BERTH_UNSET)
		r |= json_object_set_new(out, "defaultErrnoRet",
					 json_integer(p->default_errno_ret));
	if (p->architectures) {
		arches = strv_json(p->architectures);
	} else {
		arches = json_array();
		for (size_t i = 0; arches && native && i < p->n_arch_map; i++) {
			if (strcmp(p->arch_map[i].arch, native) != 0)
				continue;
			r |= json_array_append_new(arches, json_string(native));
			for (char **s = p->arch_map[i].sub_arches; s && *s; s++)
				r |= json_array_append_new(arches, json_string(*s));
			break;
		}
	}
	if (!arches)
		return berth_error_set(err, ENOMEM, "out of memory");
	if (json_array_size(arches) > 0)
		r |= json_object_set(out, "architectures", arches);
	if (p->flags)
		r |= json_object_set_new(out, "flags", strv_json(p->flags));
	if (p->listener_path)
		r |= json_object_set_new(out, "listenerPath", json_string(p->listener_path));
	if (p->listener_metadata)
		r |= json_object_set_new(out, "listenerMetadata",
					 json_string(p->listener_metadata));
	for (size_t i = 0; i < p->n_rules; i++) {
		const struct dockerspec_rule *rule = &p->rules[i];
		json_t *s, *args;

		if (!rule_applies(rule, t))
			continue;
		s = json_object();
		if (!s || json_array_append_new(syscalls, s) < 0)
			return berth_error_set(err, ENOMEM, "out of memory");
		r |= json_object_set_new(s, "names", strv_json(rule->names));
		r |= json_object_set_new(s, "action", json_string(rule->action));
		if (rule->errno_ret != BERTH_UNSET)
			r |= json_object_set_new(s, "errnoRet", json_integer(rule->errno_ret));
		if (rule->n_args == 0)
			continue;
		args = json_array();
		if (!args || json_object_set_new(s, "args", args) < 0)
			return berth_error_set(err, ENOMEM, "out of memory");
		for (size_t k = 0; k < rule->n_args; k++) {
			const struct dockerspec_arg *a = &rule->args[k];
			json_t *o = json_pack("{s:I,s:I,s:I,s:s}", "index", (json_int_t)a->index,
					      "value", (json_int_t)a->value, "valueTwo",
					      (json_int_t)a->value_two, "op", a->op);
			/* values above INT64_MAX do not fit a JSON integer of jansson's */
			if (o && a->value > INT64_MAX)
				r |= json_object_set_new(o, "value", json_real((double)a->value));
			if (!o || json_array_append_new(args, o) < 0)
				return berth_error_set(err, ENOMEM, "out of memory");
		}
	}
	r |= json_object_set(out, "syscalls", syscalls);
	if (r)
		return berth_error_set(err, ENOMEM, "out of memory");
	*ret = TAKE_PTR(out);
	return 0;
}

int berth_dockerspec_seccomp_convert(const char *profile, size_t len,
				     const struct berth_dockerspec_seccomp_target *target,
				     json_t **ret, struct berth_error **err)
{
	struct dockerspec_profile p = {0};
	_cleanup_json_ json_t *j = NULL;
	json_error_t je;
	int r;

	if (len > DOCKERSPEC_PROFILE_MAX)
		return berth_error_set(err, EINVAL,
				       "seccomp profile of %zu bytes: larger than the %u allowed",
				       len, DOCKERSPEC_PROFILE_MAX);
	j = json_loadb(profile, len, JSON_REJECT_DUPLICATES, &je);
	if (!j)
		return berth_error_set(err, EINVAL,
				       "Decoding seccomp profile failed: invalid JSON at line %d "
				       "column %d: %s",
				       je.line, je.column, je.text);
	r = parse_profile(j, &p, err);
	if (r >= 0)
		r = dockerspec_profile_to_oci(&p, target, ret, err);
	dockerspec_profile_release(&p);
	return r;
}

int berth_dockerspec_seccomp_default(const struct berth_dockerspec_seccomp_target *target,
				     json_t **ret, struct berth_error **err)
{
	struct dockerspec_profile p = {0};
	int r = dockerspec_default_profile(&p);

	if (r < 0)
		return berth_error_set(err, -r, "build the default seccomp profile: out of memory");
	r = dockerspec_profile_to_oci(&p, target, ret, err);
	dockerspec_profile_release(&p);
	return r;
}
