/* SPDX-License-Identifier: Apache-2.0 */
/* The image's config merged into the request's, as dockerd's merge() (daemon/commit.go). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dockerspec-internal.h"
#include "base/banned.h"

static size_t key_len(const char *env)
{
	const char *eq = strchr(env, '=');
	return eq ? (size_t)(eq - env) : strlen(env);
}

static bool same_key(const char *a, const char *b)
{
	size_t la = key_len(a), lb = key_len(b);
	return la == lb && strncmp(a, b, la) == 0;
}

static bool empty_array(const json_t *v)
{
	return !json_is_array(v) || json_array_size(v) == 0;
}

/* keys of src missing in *dst are added (dst created when NULL) */
static int union_into(json_t *cfg, const char *field, const json_t *img, bool user_wins)
{
	json_t *dst = json_object_get(cfg, field);
	const json_t *src = json_object_get(img, field);
	const char *key;
	json_t *v;

	if (!json_is_object(src))
		return 0;
	if (!json_is_object(dst) || json_object_size(dst) == 0) {
		if (json_object_set_new(cfg, field, json_deep_copy(src)) < 0)
			return -ENOMEM;
		return 0;
	}
	json_object_foreach ((json_t *)src, key, v) {
		if (user_wins && json_object_get(dst, key))
			continue;
		if (json_object_set_new(dst, key, json_deep_copy(v)) < 0)
			return -ENOMEM;
	}
	return 0;
}

static int take_if_empty(json_t *cfg, const char *field, const json_t *img)
{
	const json_t *src = json_object_get(img, field);
	if (*dockerspec_str(cfg, field) || !json_is_string(src))
		return 0;
	return json_object_set_new(cfg, field, json_deep_copy(src)) < 0 ? -ENOMEM : 0;
}

static int merge_health(json_t *cfg, const json_t *img)
{
	static const char *const fields[] = {"Interval", "Timeout", "StartPeriod", "StartInterval",
					     "Retries"};
	const json_t *ih = json_object_get(img, "Healthcheck");
	json_t *uh = json_object_get(cfg, "Healthcheck");

	if (!json_is_object(ih))
		return 0;
	if (!json_is_object(uh))
		return json_object_set_new(cfg, "Healthcheck", json_deep_copy(ih)) < 0 ? -ENOMEM
										       : 0;
	if (empty_array(json_object_get(uh, "Test")) && json_object_get(ih, "Test") &&
	    json_object_set_new(uh, "Test", json_deep_copy(json_object_get(ih, "Test"))) < 0)
		return -ENOMEM;
	for (size_t i = 0; i < ARRAY_SIZE(fields); i++)
		if (dockerspec_int(uh, fields[i]) == 0 && json_object_get(ih, fields[i]) &&
		    json_object_set_new(uh, fields[i],
					json_deep_copy(json_object_get(ih, fields[i]))) < 0)
			return -ENOMEM;
	return 0;
}

int berth_dockerspec_merge_image(json_t *cfg, const json_t *img, struct berth_error **err)
{
	json_t *ep;
	int r = 0;

	if (json_is_object(img)) {
		json_t *uenv = json_object_get(cfg, "Env");
		const json_t *ienv = json_object_get(img, "Env");
		json_t *label_dst;

		r |= take_if_empty(cfg, "User", img);
		r |= union_into(cfg, "ExposedPorts", img, true);
		if (empty_array(uenv)) {
			if (json_is_array(ienv))
				r |= json_object_set_new(cfg, "Env", json_deep_copy(ienv));
		} else {
			size_t i, j;
			json_t *ie, *ue;
			size_t n_user = json_array_size(uenv);

			json_array_foreach (ienv, i, ie) {
				bool found = false;
				if (!json_is_string(ie))
					continue;
				for (j = 0; j < n_user && !found; j++) {
					ue = json_array_get(uenv, j);
					found = same_key(json_string_value(ie),
							 json_string_value(ue));
				}
				if (!found)
					r |= json_array_append_new(uenv, json_deep_copy(ie));
			}
		}
		label_dst = json_object_get(cfg, "Labels");
		if (!json_is_object(label_dst))
			r |= json_object_set_new(cfg, "Labels", json_object());
		r |= union_into(cfg, "Labels", img, true);

		/* ENTRYPOINT and CMD */
		if (empty_array(json_object_get(cfg, "Entrypoint"))) {
			if (empty_array(json_object_get(cfg, "Cmd")) && json_object_get(img, "Cmd"))
				r |= json_object_set_new(
					cfg, "Cmd", json_deep_copy(json_object_get(img, "Cmd")));
			/* an explicit empty Entrypoint ([]) resets the image's; absent/null takes it */
			if (!json_is_array(json_object_get(cfg, "Entrypoint")) &&
			    json_object_get(img, "Entrypoint"))
				r |= json_object_set_new(
					cfg, "Entrypoint",
					json_deep_copy(json_object_get(img, "Entrypoint")));
		}
		r |= merge_health(cfg, img);
		r |= take_if_empty(cfg, "WorkingDir", img);
		if (!json_is_object(json_object_get(cfg, "Volumes")) ||
		    json_object_size(json_object_get(cfg, "Volumes")) == 0) {
			if (json_object_get(img, "Volumes"))
				r |= json_object_set_new(
					cfg, "Volumes",
					json_deep_copy(json_object_get(img, "Volumes")));
		} else {
			r |= union_into(cfg, "Volumes", img, false);
		}
		r |= take_if_empty(cfg, "StopSignal", img);
		if (r)
			return berth_error_set(err, ENOMEM, "out of memory");
	}

	/* Entrypoint [""] resets */
	ep = json_object_get(cfg, "Entrypoint");
	if (json_is_array(ep) && json_array_size(ep) == 1 &&
	    strcmp(json_string_value(json_array_get(ep, 0)) ?: "x", "") == 0)
		json_object_set_new(cfg, "Entrypoint", json_null());
	if (empty_array(json_object_get(cfg, "Entrypoint")) &&
	    empty_array(json_object_get(cfg, "Cmd")))
		return berth_error_set(err, EINVAL, "no command specified");
	return 0;
}

int berth_dockerspec_path_args(const json_t *cfg, char **ret_path, char ***ret_args,
			       struct berth_error **err)
{
	const json_t *ep = json_object_get(cfg, "Entrypoint");
	const json_t *cmd = json_object_get(cfg, "Cmd");
	_cleanup_strv_ char **args = NULL;
	_cleanup_free_ char *path = NULL;
	const json_t *first = empty_array(ep) ? cmd : ep;
	size_t i;
	json_t *e;

	if (empty_array(first))
		return berth_error_set(err, EINVAL, "no command specified");
	path = strdup(json_string_value(json_array_get(first, 0)));
	args = calloc(1, sizeof(char *));
	if (!path || !args)
		return berth_error_set(err, ENOMEM, "out of memory");
	json_array_foreach (first, i, e)
		if (i > 0 && berth_strv_push(&args, json_string_value(e)) < 0)
			return berth_error_set(err, ENOMEM, "out of memory");
	if (first == ep)
		json_array_foreach (cmd, i, e)
			if (berth_strv_push(&args, json_string_value(e)) < 0)
				return berth_error_set(err, ENOMEM, "out of memory");
	*ret_path = TAKE_PTR(path);
	*ret_args = TAKE_PTR(args);
	return 0;
}

json_t *berth_dockerspec_process_env(const json_t *cfg)
{
	_cleanup_json_ json_t *env = json_array();
	const json_t *user = json_object_get(cfg, "Env");
	_cleanup_free_ char *host = NULL;
	size_t i;
	json_t *e;

	if (!env)
		return NULL;
	if (asprintf(&host, "HOSTNAME=%s", dockerspec_str(cfg, "Hostname")) < 0)
		return NULL;
	if (json_array_append_new(env, json_string("PATH=" BERTH_DOCKERSPEC_DEFAULT_PATH)) < 0 ||
	    json_array_append_new(env, json_string(host)) < 0)
		return NULL;
	if (dockerspec_bool(cfg, "Tty") &&
	    json_array_append_new(env, json_string("TERM=xterm")) < 0)
		return NULL;
	/* ReplaceOrAppendEnvValues: same key replaced in place, "KEY" alone removes KEY */
	json_array_foreach (user, i, e) {
		const char *s = json_string_value(e);
		bool removal = !strchr(s, '=');
		bool done = false;

		if (!s)
			continue;
		for (size_t j = 0; j < json_array_size(env); j++) {
			const char *cur = json_string_value(json_array_get(env, j));
			if (!same_key(cur, s))
				continue;
			if (removal)
				json_array_remove(env, j);
			else
				json_array_set_new(env, j, json_string(s));
			done = true;
			break;
		}
		if (!done && !removal && json_array_append_new(env, json_string(s)) < 0)
			return NULL;
	}
	return TAKE_PTR(env);
}
