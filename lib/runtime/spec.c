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
 *
 * This file holds the document (ociVersion, root, mounts, hooks, annotations), the JSON loaders
 * and the typed getters the other parts share (spec-internal.h); process is in spec-process.c,
 * linux in spec-linux.c, linux.resources in spec-resources.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/spec-internal.h"
#include "base/banned.h"

/* Caps on what a document may ask for; each is far above what a real config uses. */
#define MAX_MOUNTS	  10000
#define MAX_MOUNT_OPTIONS 1000
#define MAX_ID_MAPPINGS	  340 /* the kernel's limit of lines in uid_map/gid_map */
#define MAX_HOOKS	  1000
#define MAX_ANNOTATIONS	  100000

/* ---- errors and paths --------------------------------------------------------------------- */

int spec_oom(struct berth_error **err)
{
	return berth_error_set(err, ENOMEM, "out of memory");
}

/* An EINVAL naming the field: "<path>.<key>: <message>"; path may be "" and key NULL. */
int spec_ferr(struct berth_error **err, const char *path, const char *key, const char *fmt, ...)
{
	_cleanup_free_ char *msg = NULL;
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (r < 0)
		return spec_oom(err);
	return berth_error_set(err, EINVAL, "%s%s%s: %s", path, *path && key ? "." : "",
			       key ? key : "", msg);
}

/* "<path>.<key>[i]" (or "<path>[i]" when key is NULL); NULL on ENOMEM. */
char *spec_elem_path(const char *path, const char *key, size_t i)
{
	char *p;

	if (asprintf(&p, "%s%s%s[%zu]", path, *path && key ? "." : "", key ? key : "", i) < 0)
		return NULL;
	return p;
}

/* "<path>.<key>"; NULL on ENOMEM. */
char *spec_sub_path(const char *path, const char *key)
{
	char *p;

	if (asprintf(&p, "%s%s%s", path, *path ? "." : "", key) < 0)
		return NULL;
	return p;
}

/* ---- typed getters: each returns 1 when the field was given, 0 when absent, <0 on error ------ */

json_t *spec_member(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);

	return json_is_null(v) ? NULL : v;
}

int spec_get_string(json_t *obj, const char *path, const char *key, bool required, char **ret,
		    struct berth_error **err)
{
	json_t *v = spec_member(obj, key);
	char *s;

	if (!v)
		return required ? spec_ferr(err, path, key, "required") : 0;
	if (!json_is_string(v))
		return spec_ferr(err, path, key, "expected a string");
	s = strdup(json_string_value(v));
	if (!s)
		return spec_oom(err);
	free(*ret);
	*ret = s;
	return 1;
}

int spec_get_bool(json_t *obj, const char *path, const char *key, bool *ret,
		  struct berth_error **err)
{
	json_t *v = spec_member(obj, key);

	if (!v)
		return 0;
	if (!json_is_boolean(v))
		return spec_ferr(err, path, key, "expected a boolean");
	*ret = json_is_true(v);
	return 1;
}

int spec_get_int(json_t *obj, const char *path, const char *key, bool required, int64_t min,
		 int64_t max, int64_t *ret, struct berth_error **err)
{
	json_t *v = spec_member(obj, key);
	int64_t n;

	if (!v)
		return required ? spec_ferr(err, path, key, "required") : 0;
	if (!json_is_integer(v))
		return spec_ferr(err, path, key, "expected an integer");
	n = json_integer_value(v);
	if (n < min || n > max)
		return spec_ferr(err, path, key, "%" PRId64 " out of range %" PRId64 "..%" PRId64,
				 n, min, max);
	*ret = n;
	return 1;
}

/*
 * An unsigned 64-bit field.  jansson holds integers as int64, so literals above INT64_MAX reach
 * it through rewrite_big_integers() as their two's complement; reading them back as uint64 undoes
 * that (and so a literal -1 also reads as UINT64_MAX, "unlimited" wherever that has a meaning).
 */
int spec_get_u64(json_t *obj, const char *path, const char *key, bool required, uint64_t *ret,
		 struct berth_error **err)
{
	json_t *v = spec_member(obj, key);

	if (!v)
		return required ? spec_ferr(err, path, key, "required") : 0;
	if (!json_is_integer(v))
		return spec_ferr(err, path, key, "expected an integer");
	*ret = (uint64_t)json_integer_value(v);
	return 1;
}

int spec_get_object(json_t *obj, const char *path, const char *key, bool required, json_t **ret,
		    struct berth_error **err)
{
	json_t *v = spec_member(obj, key);

	*ret = NULL;
	if (!v)
		return required ? spec_ferr(err, path, key, "required") : 0;
	if (!json_is_object(v))
		return spec_ferr(err, path, key, "expected an object");
	*ret = v;
	return 1;
}

int spec_get_array(json_t *obj, const char *path, const char *key, size_t max, json_t **ret,
		   struct berth_error **err)
{
	json_t *v = spec_member(obj, key);

	*ret = NULL;
	if (!v)
		return 0;
	if (!json_is_array(v))
		return spec_ferr(err, path, key, "expected an array");
	if (json_array_size(v) > max)
		return spec_ferr(err, path, key, "too many entries (%zu, at most %zu)",
				 json_array_size(v), max);
	*ret = v;
	return 1;
}

int spec_get_flag_names(json_t *obj, const char *path, const char *key, size_t max,
			const struct spec_flag_name *table, size_t n_table, uint64_t *ret,
			struct berth_error **err)
{
	json_t *arr, *e;
	size_t i;
	int r;

	r = spec_get_array(obj, path, key, max, &arr, err);
	if (r <= 0)
		return r;
	json_array_foreach (arr, i, e) {
		size_t k;

		if (!json_is_string(e))
			return spec_ferr(err, path, key, "expected an array of strings");
		for (k = 0; k < n_table; k++)
			if (strcmp(table[k].name, json_string_value(e)) == 0)
				break;
		if (k == n_table)
			return spec_ferr(err, path, key, "unknown flag '%s'", json_string_value(e));
		*ret |= table[k].flag;
	}
	return 0;
}

int spec_get_strv(json_t *obj, const char *path, const char *key, size_t max, char ***ret,
		  struct berth_error **err)
{
	json_t *v = spec_member(obj, key), *e;
	char **strv;
	size_t i;

	if (!v)
		return 0;
	if (!json_is_array(v))
		return spec_ferr(err, path, key, "expected an array of strings");
	if (json_array_size(v) > max)
		return spec_ferr(err, path, key, "too many entries (%zu, at most %zu)",
				 json_array_size(v), max);
	json_array_foreach (v, i, e)
		if (!json_is_string(e))
			return spec_ferr(err, path, key, "expected an array of strings");
	strv = calloc(json_array_size(v) + 1, sizeof(char *));
	if (!strv)
		return spec_oom(err);
	berth_strv_free(*ret);
	*ret = strv;
	json_array_foreach (v, i, e) {
		strv[i] = strdup(json_string_value(e));
		if (!strv[i])
			return spec_oom(err);
	}
	return 1;
}

/* An object of strings -> key/value pairs, in the document's order. */
int spec_get_map(json_t *obj, const char *path, const char *key, size_t max,
		 struct berth_key_value **ret, size_t *ret_n, struct berth_error **err)
{
	json_t *v = spec_member(obj, key), *e;
	struct berth_key_value *kv;
	const char *k;
	size_t n = 0;

	if (!v)
		return 0;
	if (!json_is_object(v))
		return spec_ferr(err, path, key, "expected an object of strings");
	if (json_object_size(v) > max)
		return spec_ferr(err, path, key, "too many entries (%zu, at most %zu)",
				 json_object_size(v), max);
	json_object_foreach (v, k, e)
		if (!json_is_string(e))
			return spec_ferr(err, path, key, "expected an object of strings");
	if (json_object_size(v) == 0)
		return 1;
	kv = calloc(json_object_size(v), sizeof(*kv));
	if (!kv)
		return spec_oom(err);
	*ret = kv;
	*ret_n = json_object_size(v);
	json_object_foreach (v, k, e) {
		kv[n].key = strdup(k);
		kv[n].value = strdup(json_string_value(e));
		if (!kv[n].key || !kv[n].value)
			return spec_oom(err);
		n++;
	}
	return 1;
}

/* Element i of an array field, which must be an object, and its path for errors. */
int spec_array_elem(json_t *arr, size_t i, const char *path, const char *key, json_t **ret,
		    char **ret_path, struct berth_error **err)
{
	char *p = spec_elem_path(path, key, i);

	if (!p)
		return spec_oom(err);
	*ret_path = p;
	*ret = json_array_get(arr, i);
	if (!json_is_object(*ret))
		return spec_ferr(err, p, NULL, "expected an object");
	return 0;
}

/* ---- generic pieces ------------------------------------------------------------------------ */

void spec_free_kv(struct berth_key_value *kv, size_t n)
{
	for (size_t i = 0; kv && i < n; i++) {
		free(kv[i].key);
		free(kv[i].value);
	}
	free(kv);
}

int spec_parse_id_mappings(json_t *obj, const char *path, const char *key,
			   struct berth_id_mapping **ret, size_t *ret_n, struct berth_error **err)
{
	json_t *arr, *e;
	size_t i;
	int r;

	r = spec_get_array(obj, path, key, MAX_ID_MAPPINGS, &arr, err);
	if (r <= 0 || json_array_size(arr) == 0)
		return r;
	*ret = calloc(json_array_size(arr), sizeof(**ret));
	if (!*ret)
		return spec_oom(err);
	*ret_n = json_array_size(arr);
	for (i = 0; i < json_array_size(arr); i++) {
		_cleanup_free_ char *p = spec_elem_path(path, key, i);
		struct berth_id_mapping *m = &(*ret)[i];
		int64_t v;

		e = json_array_get(arr, i);
		if (!p)
			return spec_oom(err);
		if (!json_is_object(e))
			return spec_ferr(err, p, NULL, "expected an object");
		r = spec_get_int(e, p, "containerID", true, 0, UINT32_MAX, &v, err);
		if (r < 0)
			return r;
		m->container_id = (uint32_t)v;
		r = spec_get_int(e, p, "hostID", true, 0, UINT32_MAX, &v, err);
		if (r < 0)
			return r;
		m->host_id = (uint32_t)v;
		/* the kernel refuses an empty range, and one that wraps around 2^32 */
		r = spec_get_int(e, p, "size", true, 1, UINT32_MAX, &v, err);
		if (r < 0)
			return r;
		m->size = (uint32_t)v;
		if ((uint64_t)m->container_id + m->size > (uint64_t)UINT32_MAX + 1 ||
		    (uint64_t)m->host_id + m->size > (uint64_t)UINT32_MAX + 1)
			return spec_ferr(err, p, "size", "range goes past 4294967295");
	}
	return 1;
}

/* A cpu list as the kernel writes it: "0-3,7". */
bool spec_valid_cpu_list(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || *s == ',' || *s == '-'))
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

	r = spec_get_string(j, p, "destination", true, &m->destination, err);
	if (r < 0)
		return r;
	if (!*m->destination)
		return spec_ferr(err, p, "destination", "must not be empty");
	/* the spec wants it absolute; runc takes a relative one as relative to "/", and so do we */
	if (m->destination[0] != '/') {
		char *abs;

		if (asprintf(&abs, "/%s", m->destination) < 0)
			return spec_oom(err);
		free(m->destination);
		m->destination = abs;
	}
	r = spec_get_string(j, p, "type", false, &m->type, err);
	if (r < 0)
		return r;
	r = spec_get_string(j, p, "source", false, &m->source, err);
	if (r < 0)
		return r;
	r = spec_get_strv(j, p, "options", MAX_MOUNT_OPTIONS, &m->options, err);
	if (r < 0)
		return r;
	r = spec_parse_id_mappings(j, p, "uidMappings", &m->uid_mappings, &m->n_uid_mappings, err);
	if (r < 0)
		return r;
	r = spec_parse_id_mappings(j, p, "gidMappings", &m->gid_mappings, &m->n_gid_mappings, err);
	if (r < 0)
		return r;
	if ((m->n_uid_mappings > 0) != (m->n_gid_mappings > 0))
		return spec_ferr(err, p, NULL,
				 "uidMappings and gidMappings must be given together");
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

	r = spec_get_array(root, "", "mounts", MAX_MOUNTS, &arr, err);
	if (r <= 0 || json_array_size(arr) == 0)
		return r;
	s->mounts = calloc(json_array_size(arr), sizeof(*s->mounts));
	if (!s->mounts)
		return spec_oom(err);
	s->n_mounts = json_array_size(arr);
	for (i = 0; i < s->n_mounts; i++) {
		_cleanup_free_ char *p = spec_elem_path("", "mounts", i);

		e = json_array_get(arr, i);
		if (!p)
			return spec_oom(err);
		if (!json_is_object(e))
			return spec_ferr(err, p, NULL, "expected an object");
		r = parse_mount(e, p, &s->mounts[i], err);
		if (r < 0)
			return r;
	}
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

	r = spec_get_array(hooks, "hooks", key, MAX_HOOKS, &arr, err);
	if (r <= 0 || json_array_size(arr) == 0)
		return r;
	l->hooks = calloc(json_array_size(arr), sizeof(*l->hooks));
	if (!l->hooks)
		return spec_oom(err);
	l->n = json_array_size(arr);
	for (i = 0; i < json_array_size(arr); i++) {
		_cleanup_free_ char *pp = NULL;
		struct berth_hook *h = &l->hooks[i];
		int64_t v;

		r = spec_array_elem(arr, i, "hooks", key, &e, &pp, err);
		if (r < 0)
			return r;
		r = spec_get_string(e, pp, "path", true, &h->path, err);
		if (r < 0)
			return r;
		if (h->path[0] != '/')
			return spec_ferr(err, pp, "path", "'%s' is not an absolute path", h->path);
		if ((r = spec_get_strv(e, pp, "args", MAX_ARGS, &h->args, err)) < 0 ||
		    (r = spec_get_strv(e, pp, "env", MAX_ENV, &h->env, err)) < 0)
			return r;
		/* the spec: "if set, timeout MUST be greater than zero" */
		r = spec_get_int(e, pp, "timeout", false, 1, INT32_MAX, &v, err);
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

	r = spec_get_object(root, "", "hooks", false, &hooks, err);
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
	spec_free_kv(s->annotations, s->n_annotations);
	spec_linux_release(&s->linux_);
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
	r = spec_get_string(j, "", "ociVersion", true, &s->oci_version, err);
	if (r < 0)
		return r;
	if (!*s->oci_version)
		return spec_ferr(err, "", "ociVersion", "must not be empty");
	r = spec_get_object(j, "", "root", true, &root, err);
	if (r < 0)
		return r;
	r = spec_get_string(root, "root", "path", true, &s->root_path, err);
	if (r < 0)
		return r;
	if (!*s->root_path)
		return spec_ferr(err, "root", "path", "must not be empty");
	if ((r = spec_get_bool(root, "root", "readonly", &s->root_readonly, err)) < 0)
		return r;
	if ((r = parse_mounts(j, s, err)) < 0)
		return r;
	r = spec_get_object(j, "", "process", false, &proc, err);
	if (r < 0)
		return r;
	if (proc && (r = spec_parse_process(proc, "process", &s->process, err)) < 0)
		return r;
	if ((r = spec_get_string(j, "", "hostname", false, &s->hostname, err)) < 0 ||
	    (r = spec_get_string(j, "", "domainname", false, &s->domainname, err)) < 0 ||
	    (r = parse_hooks(j, &s->hooks, err)) < 0)
		return r;
	r = spec_get_map(j, "", "annotations", MAX_ANNOTATIONS, &s->annotations, &s->n_annotations,
			 err);
	if (r < 0)
		return r;
	for (size_t i = 0; i < s->n_annotations; i++)
		if (!*s->annotations[i].key)
			return spec_ferr(err, "", "annotations", "empty key");
	return spec_parse_linux(j, &s->linux_, err);
}

/*
 * jansson refuses integer literals above INT64_MAX, but the spec's uint64 fields use them:
 * rlimits of 2^64-1 (RLIM_INFINITY, as podman and docker write "unlimited"), seccomp argument
 * masks.  Rewrite each such literal (up to 2^64-1) into the int64 of the same bits; spec_get_u64()
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
		return spec_oom(err);
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
		return spec_oom(err);
	}
	s->json = j;
	r = parse_document(j, s, err);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(s);
	return 0;
}

int berth_spec_parse_json(const json_t *j, struct berth_spec **ret, struct berth_error **err)
{
	_cleanup_spec_ struct berth_spec *s = NULL;
	int r;

	if (!json_is_object(j))
		return berth_error_set(err, EINVAL, "config: expected a JSON object");
	s = calloc(1, sizeof(*s));
	if (!s)
		return spec_oom(err);
	s->json = json_deep_copy(j);
	if (!s->json)
		return spec_oom(err);
	r = parse_document(s->json, s, err);
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
		return spec_oom(err);
	r = berth_read_regular_file_at(AT_FDCWD, path, BERTH_SPEC_MAX_SIZE, &data, &len, err);
	if (r < 0)
		return r;
	r = berth_spec_parse(data, len, ret, err);
	if (r < 0)
		return berth_error_wrap(err, "parse '%s'", path);
	return 0;
}
