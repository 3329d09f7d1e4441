/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The images resource: the store at start, who uses which image, the shapes dockerd gives image
 * JSON, and the endpoints that read or change the index -- GET /images/{name}/json,
 * GET /images/{name}/history, POST /images/{name}/tag, DELETE /images/{name}, POST /images/prune,
 * and the registry endpoints' honest refusal.  The listings (GET /images/json, /system/df's
 * images) are in images-list.c; load, save and import (the ones that stream a body in or out)
 * in images-io.c.
 *
 * Shapes follow dockerd 25 (API 1.44) and its rules for older versions: RepoTags/RepoDigests
 * "<none>" placeholders and nulls before 1.43, VirtualSize before 1.44, shared-size from 1.42,
 * the legacy `filter` parameter before 1.41.
 *
 * Locks: the store has its own; d->lock is taken only to snapshot the container table
 * (daemon_image_users), to count images for /info and to emit events -- never around a store
 * call that does I/O.  Lock order where both are held: d->lock, then the store's.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "daemon.h"
#include "events-internal.h"
#include "images-internal.h"
#include "registry/registry.h"
#include "base/banned.h"

/* ---- requests under way ----------------------------------------------------------------- */

struct berthd *images_op_enter(struct berthd *d)
{
	atomic_fetch_add(&d->images.ops, 1);
	return d;
}

void images_op_leavep(struct berthd **d)
{
	if (*d)
		atomic_fetch_sub(&(*d)->images.ops, 1);
}

/* ---- the store ---------------------------------------------------------------------------- */

void daemon_images_update_count(struct berthd *d)
{
	if (!d->images.store)
		return;
	/* counted under d->lock so that two updates cannot land in the wrong order */
	pthread_mutex_lock(&d->lock);
	d->counts.images = (unsigned)berth_image_count(d->images.store);
	pthread_mutex_unlock(&d->lock);
}

int daemon_images_open(struct berthd *d, struct berth_error **err)
{
	int r = berth_image_store_open(d->config.data_root, NULL, &d->images.store, err);

	if (r < 0)
		return berth_error_wrap(err, "open the image store");
	daemon_images_update_count(d);
	return 0;
}

void daemon_images_gc(struct berthd *d)
{
	_cleanup_error_ struct berth_error *e = NULL;
	struct daemon_image_users u;
	size_t removed = 0;
	int r;

	pthread_mutex_lock(&d->lock);
	r = daemon_image_users_collect_locked(d, &u);
	pthread_mutex_unlock(&d->lock);
	if (r < 0) {
		log_warn("image gc: out of memory");
		return;
	}
	r = berth_image_gc(d->images.store, &u.users, &removed, &e);
	daemon_image_users_release(&u);
	if (r < 0)
		log_warn("image gc: %s", e ? e->msg : "failed");
	else if (removed)
		log_info("image gc: removed %zu unused layers and blobs", removed);
}

void daemon_images_close(struct berthd *d)
{
	if (!d->images.store)
		return;
	/* a load or save on a connection the server gave up on may still be at work */
	for (int i = 0; i < 1000 && atomic_load(&d->images.ops); i++)
		usleep(10000);
	if (atomic_load(&d->images.ops)) {
		log_warn("image store left open: %u image requests still running",
			 atomic_load(&d->images.ops));
		return;
	}
	berth_image_store_free(d->images.store);
	d->images.store = NULL;
}

/* ---- who uses which image ----------------------------------------------------------------- */

static int users_find(void *userdata, const char *image_id, enum berth_image_use which,
		      char **ret_container_id)
{
	struct daemon_image_users *u = userdata;

	for (size_t i = 0; i < u->n; i++) {
		const struct daemon_image_user *c = &u->v[i];
		if (!berth_streq(c->image_id, image_id))
			continue;
		if ((which == BERTH_IMAGE_USED_BY_RUNNING && !c->running) ||
		    (which == BERTH_IMAGE_USED_BY_STOPPED && c->running))
			continue;
		*ret_container_id = strdup(c->container_id);
		return *ret_container_id ? 1 : -ENOMEM;
	}
	return 0;
}

void daemon_image_users_init(struct daemon_image_users *u)
{
	memset(u, 0, sizeof(*u));
	u->users.find = users_find;
	u->users.userdata = u;
}

int daemon_image_users_add(struct daemon_image_users *u, const char *container_id,
			   const char *image_id, const char *top_layer, bool running)
{
	struct daemon_image_user *v = realloc(u->v, (u->n + 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	u->v = v;
	v = &u->v[u->n];
	memset(v, 0, sizeof(*v));
	v->container_id = strdup(container_id);
	v->image_id = strdup(image_id);
	v->top_layer = top_layer ? strdup(top_layer) : NULL;
	v->running = running;
	if (!v->container_id || !v->image_id || (top_layer && !v->top_layer)) {
		free(v->container_id);
		free(v->image_id);
		free(v->top_layer);
		return -ENOMEM;
	}
	u->n++;
	if (top_layer && !berth_strv_contains(u->held_layers, top_layer) &&
	    berth_strv_push(&u->held_layers, top_layer) < 0)
		return -ENOMEM;
	u->users.held_layers = (const char *const *)u->held_layers;
	return 0;
}

int daemon_image_users_collect_locked(struct berthd *d, struct daemon_image_users *ret)
{
	daemon_image_users_init(ret);
	/* every container of the table: its image id, top layer, running or not */
	return daemon_containers_image_users_locked(d, ret);
}

size_t daemon_image_users_count(const struct daemon_image_users *u, const char *image_id)
{
	size_t n = 0;

	for (size_t i = 0; i < u->n; i++)
		if (berth_streq(u->v[i].image_id, image_id))
			n++;
	return n;
}

void daemon_image_users_release(struct daemon_image_users *u)
{
	for (size_t i = 0; i < u->n; i++) {
		free(u->v[i].container_id);
		free(u->v[i].image_id);
		free(u->v[i].top_layer);
	}
	free(u->v);
	berth_strv_free(u->held_layers);
	memset(u, 0, sizeof(*u));
}

int images_users_snapshot(struct berthd *d, struct daemon_image_users *u)
{
	int r;

	pthread_mutex_lock(&d->lock);
	r = daemon_image_users_collect_locked(d, u);
	pthread_mutex_unlock(&d->lock);
	return r;
}

/* ---- JSON as dockerd writes it ------------------------------------------------------------ */

/* An object with the same string-keyed members, keys sorted (Go marshals maps so). */
json_t *images_sorted_object(const json_t *in, bool strings_only)
{
	json_t *out = json_object();
	const char **keys;
	const char *k;
	json_t *v;
	size_t n = 0;

	if (!out)
		return NULL;
	keys = calloc(json_object_size(in) + 1, sizeof(*keys));
	if (!keys) {
		json_decref(out);
		return NULL;
	}
	json_object_foreach ((json_t *)in, k, v) {
		if (!strings_only || json_is_string(v))
			keys[n++] = k;
	}
	qsort(keys, n, sizeof(*keys), images_cmp_str);
	for (size_t i = 0; i < n; i++) {
		json_t *val = json_object_get(in, keys[i]);
		json_object_set_new(out, keys[i],
				    strings_only ? json_string(json_string_value(val))
						 : json_object());
	}
	free(keys);
	return out;
}

int images_cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static json_t *string_array_or_null(const json_t *v)
{
	json_t *out;
	size_t i;
	json_t *e;

	if (!json_is_array(v))
		return json_null();
	out = json_array();
	json_array_foreach ((json_t *)v, i, e) {
		if (json_is_string(e))
			json_array_append_new(out, json_string(json_string_value(e)));
	}
	return out;
}

/* strslice.StrSlice: a string is a one-element list; null stays null. */
static json_t *strslice(const json_t *v)
{
	if (json_is_string(v))
		return json_pack("[s]", json_string_value(v));
	return string_array_or_null(v);
}

static json_t *healthcheck(const json_t *in)
{
	static const char *const durations[] = {"Interval", "Timeout", "StartPeriod",
						"StartInterval"};
	json_t *out = json_object();
	const json_t *test = json_object_get(in, "Test");

	if (!out)
		return NULL;
	if (json_array_size(test))
		json_object_set_new(out, "Test", string_array_or_null(test));
	for (size_t i = 0; i < ARRAY_SIZE(durations); i++) {
		json_int_t v = json_integer_value(json_object_get(in, durations[i]));
		if (v)
			json_object_set_new(out, durations[i], json_integer(v));
	}
	json_int_t retries = json_integer_value(json_object_get(in, "Retries"));
	if (retries)
		json_object_set_new(out, "Retries", json_integer(retries));
	return out;
}

json_t *daemon_container_config_json(const json_t *in)
{
	json_t *c = json_object(), *v;

	if (!c)
		return NULL;
	if (!json_is_object(in))
		in = NULL;
#define STR(k)                                                                                     \
	json_object_set_new(c, k,                                                                  \
			    json_string(json_is_string(v = json_object_get(in, k))                 \
						? json_string_value(v)                             \
						: ""))
#define BOOL(k) json_object_set_new(c, k, json_boolean(json_is_true(json_object_get(in, k))))
	STR("Hostname");
	STR("Domainname");
	STR("User");
	BOOL("AttachStdin");
	BOOL("AttachStdout");
	BOOL("AttachStderr");
	v = json_object_get(in, "ExposedPorts");
	if (json_is_object(v) && json_object_size(v))
		json_object_set_new(c, "ExposedPorts", images_sorted_object(v, false));
	BOOL("Tty");
	BOOL("OpenStdin");
	BOOL("StdinOnce");
	json_object_set_new(c, "Env", string_array_or_null(json_object_get(in, "Env")));
	json_object_set_new(c, "Cmd", strslice(json_object_get(in, "Cmd")));
	v = json_object_get(in, "Healthcheck");
	if (json_is_object(v))
		json_object_set_new(c, "Healthcheck", healthcheck(v));
	if (json_is_true(json_object_get(in, "ArgsEscaped")))
		json_object_set_new(c, "ArgsEscaped", json_true());
	STR("Image");
	v = json_object_get(in, "Volumes");
	json_object_set_new(c, "Volumes",
			    json_is_object(v) ? images_sorted_object(v, false) : json_null());
	STR("WorkingDir");
	json_object_set_new(c, "Entrypoint", strslice(json_object_get(in, "Entrypoint")));
	if (json_is_true(json_object_get(in, "NetworkDisabled")))
		json_object_set_new(c, "NetworkDisabled", json_true());
	v = json_object_get(in, "MacAddress");
	if (json_is_string(v) && *json_string_value(v))
		json_object_set_new(c, "MacAddress", json_string(json_string_value(v)));
	json_object_set_new(c, "OnBuild", string_array_or_null(json_object_get(in, "OnBuild")));
	v = json_object_get(in, "Labels");
	json_object_set_new(c, "Labels",
			    json_is_object(v) ? images_sorted_object(v, true) : json_null());
	v = json_object_get(in, "StopSignal");
	if (json_is_string(v) && *json_string_value(v))
		json_object_set_new(c, "StopSignal", json_string(json_string_value(v)));
	v = json_object_get(in, "StopTimeout");
	if (json_is_integer(v))
		json_object_set_new(c, "StopTimeout", json_integer(json_integer_value(v)));
	v = json_object_get(in, "Shell");
	if (json_array_size(v))
		json_object_set_new(c, "Shell", strslice(v));
#undef STR
#undef BOOL
	return c;
}

/*
 * A config's "created" as Go's time.Format(RFC3339Nano) gives it back: the fraction without
 * trailing zeros, "Z" for a zero offset.  Unparsable text is returned as it is.
 */
char *images_go_time(const char *s)
{
	int y, mo, da, h, mi, se, n = 0;
	char frac[16] = "", zone[8] = "";
	const char *p;
	char *out;

	if (!s)
		return strdup("");
	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &da, &h, &mi, &se, &n) != 6 || n != 19)
		return strdup(s);
	p = s + 19;
	if (*p == '.') {
		size_t k = 0;
		for (p++; *p >= '0' && *p <= '9'; p++)
			if (k < 9)
				frac[k++] = *p;
		while (k && frac[k - 1] == '0')
			frac[--k] = '\0';
	}
	if (*p == 'Z' && !p[1]) {
		snprintf(zone, sizeof(zone), "Z");
	} else if ((*p == '+' || *p == '-') && strlen(p) == 6 && p[3] == ':') {
		snprintf(zone, sizeof(zone), "%s", strcmp(p + 1, "00:00") == 0 ? "Z" : p);
	} else {
		return strdup(s);
	}
	if (asprintf(&out, "%04d-%02d-%02dT%02d:%02d:%02d%s%s%s", y, mo, da, h, mi, se,
		     *frac ? "." : "", frac, zone) < 0)
		return NULL;
	return out;
}

/* RepoTags / RepoDigests: [] from 1.43, null before (the "<none>" case is the caller's). */
json_t *images_strv_json(char *const *v, bool empty_as_null)
{
	json_t *a;

	if (empty_as_null && (!v || !v[0]))
		return json_null();
	a = json_array();
	for (size_t i = 0; a && v && v[i]; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

/* ---- the images with what the endpoints need of each ---------------------------------------- */

void images_entries_free(struct images_entry *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++) {
		berth_image_info_free(v[i].info);
		json_decref(v[i].config);
	}
	free(v);
}

/* The created time in nanoseconds (0: none or unparsable). */
int64_t images_created_ns(const char *created)
{
	int64_t ns;

	if (!created || berth_api_parse_time(created, 0, &ns, NULL) < 0)
		return 0;
	return ns;
}

int images_entries_load(struct berthd *d, struct images_entry **ret, size_t *ret_n,
			struct berth_error **err)
{
	struct berth_image_info **infos = NULL;
	struct images_entry *v;
	size_t n = 0;
	int r;

	r = berth_image_list(d->images.store, &infos, &n, err);
	if (r < 0)
		return r;
	v = calloc(n ? n : 1, sizeof(*v));
	if (!v) {
		berth_image_info_list_free(infos, n);
		return berth_error_set(err, ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < n; i++) {
		v[i].info = TAKE_PTR(infos[i]);
		v[i].created_ns = images_created_ns(v[i].info->created);
		/* the config of an image deleted since the listing: treat it as gone */
		if (berth_image_config(d->images.store, v[i].info->id, &v[i].config, NULL) < 0)
			v[i].config = NULL;
	}
	free(infos);
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < n; k++)
			if (berth_streq(v[k].info->parent, v[i].info->id))
				v[i].children++;
	*ret = v;
	*ret_n = n;
	return 0;
}

/* The config's Labels ("config"."Labels"), borrowed; NULL when there are none. */
const json_t *images_labels(const json_t *config)
{
	const json_t *l = json_object_get(json_object_get(config, "config"), "Labels");
	return json_is_object(l) ? l : NULL;
}

/* ---- events ----------------------------------------------------------------------------- */

/*
 * Docker's image event: Type image, Actor.ID the image id, attributes the image's labels (when
 * it still exists) and "name".
 */
void images_event(struct berthd *d, const char *action, const char *id, const char *name,
		  const json_t *labels)
{
	size_t n = json_object_size(labels) + 1, k = 0;
	_cleanup_free_ struct berth_key_value *attrs = calloc(n, sizeof(*attrs));
	const char *key;
	json_t *v;

	if (!attrs) {
		log_error("event image %s dropped: out of memory", action);
		return;
	}
	json_object_foreach ((json_t *)labels, key, v) {
		if (json_is_string(v) && strcmp(key, "name") != 0)
			attrs[k++] =
				(struct berth_key_value){(char *)key, (char *)json_string_value(v)};
	}
	if (name)
		attrs[k++] = (struct berth_key_value){"name", (char *)name};
	daemon_event_emit(d, "image", action, id, attrs, k);
}

/* ---- errors ----------------------------------------------------------------------------- */

void images_respond_error(struct berth_http_request *req, struct berth_error *e)
{
	if (!e) {
		berth_http_respond_error(req, 500, "internal error");
		return;
	}
	berth_http_respond_berror(req, e);
}

/* ---- GET /images/{name}/json -------------------------------------------------------------- */

static json_t *graph_driver(struct berthd *d, const struct berth_image_info *info)
{
	const char *root = berth_image_store_root(d->images.store);
	size_t n = berth_strv_length(info->layers);
	_cleanup_free_ char *lower = NULL, *upper = NULL, *work = NULL, *merged = NULL;
	json_t *data;

	if (!n)
		return json_pack("{s:n,s:s}", "Data", "Name", "overlay2");
	/* as overlay2 shows an image: its top layer's dirs, the layers below topmost first */
	if (asprintf(&upper, "%s/layers/%s/diff", root, info->layers[n - 1] + 7) < 0 ||
	    asprintf(&work, "%s/layers/%s/work", root, info->layers[n - 1] + 7) < 0 ||
	    asprintf(&merged, "%s/layers/%s/merged", root, info->layers[n - 1] + 7) < 0)
		return NULL;
	for (size_t i = n - 1; i-- > 0;) {
		char *next;
		if (asprintf(&next, "%s%s%s/layers/%s/diff", lower ? lower : "", lower ? ":" : "",
			     root, info->layers[i] + 7) < 0)
			return NULL;
		free(lower);
		lower = next;
	}
	data = json_object();
	if (!data)
		return NULL;
	if (lower)
		json_object_set_new(data, "LowerDir", json_string(lower));
	json_object_set_new(data, "MergedDir", json_string(merged));
	json_object_set_new(data, "UpperDir", json_string(upper));
	json_object_set_new(data, "WorkDir", json_string(work));
	return json_pack("{s:o,s:s}", "Data", data, "Name", "overlay2");
}

static const char *cfg_str(const json_t *config, const char *key)
{
	const char *s = json_string_value(json_object_get(config, key));
	return s ? s : "";
}

static json_t *inspect_json(struct berthd *d, const struct berth_image_info *info,
			    const json_t *config, unsigned api)
{
	_cleanup_free_ char *created = NULL;
	const char *comment = cfg_str(config, "comment");
	json_t *j, *history = json_object_get(config, "history"), *rootfs, *layers;
	const char *variant = cfg_str(config, "variant"),
		   *os_version = cfg_str(config, "os.version");

	if (!*comment && json_array_size(history))
		comment = cfg_str(json_array_get(history, json_array_size(history) - 1), "comment");
	created = json_is_string(json_object_get(config, "created"))
			  ? images_go_time(cfg_str(config, "created"))
			  : strdup("");
	layers = json_array();
	for (size_t i = 0; layers && info->diff_ids && info->diff_ids[i]; i++)
		json_array_append_new(layers, json_string(info->diff_ids[i]));
	rootfs = json_pack("{s:s}", "Type", "layers");
	if (rootfs && json_array_size(layers))
		json_object_set(rootfs, "Layers", layers);
	json_decref(layers);
	j = json_object();
	if (!j || !created || !rootfs) {
		json_decref(j);
		json_decref(rootfs);
		return NULL;
	}
	json_object_set_new(j, "Id", json_string(info->id));
	json_object_set_new(j, "RepoTags", images_strv_json(info->repo_tags, false));
	json_object_set_new(j, "RepoDigests", images_strv_json(info->repo_digests, false));
	json_object_set_new(j, "Parent", json_string(info->parent ? info->parent : ""));
	json_object_set_new(j, "Comment", json_string(comment));
	json_object_set_new(j, "Created", json_string(created));
	if (api < BERTH_API_VERSION(1, 45)) { /* 1.45 dropped them */
		json_object_set_new(j, "Container", json_string(cfg_str(config, "container")));
		json_object_set_new(
			j, "ContainerConfig",
			daemon_container_config_json(json_object_get(config, "container_config")));
	}
	json_object_set_new(j, "DockerVersion", json_string(cfg_str(config, "docker_version")));
	json_object_set_new(j, "Author", json_string(cfg_str(config, "author")));
	json_object_set_new(
		j, "Config",
		json_is_object(json_object_get(config, "config"))
			? daemon_container_config_json(json_object_get(config, "config"))
			: json_null());
	json_object_set_new(j, "Architecture", json_string(cfg_str(config, "architecture")));
	if (*variant)
		json_object_set_new(j, "Variant", json_string(variant));
	json_object_set_new(j, "Os", json_string(info->os ? info->os : "linux"));
	if (*os_version)
		json_object_set_new(j, "OsVersion", json_string(os_version));
	json_object_set_new(j, "Size", json_integer((json_int_t)info->size));
	if (api < BERTH_API_VERSION(1, 44))
		json_object_set_new(j, "VirtualSize", json_integer((json_int_t)info->size));
	json_object_set_new(j, "GraphDriver", graph_driver(d, info));
	json_object_set_new(j, "RootFS", rootfs);
	json_object_set_new(
		j, "Metadata",
		json_pack("{s:s}", "LastTagTime",
			  info->last_tag_time ? info->last_tag_time : "0001-01-01T00:00:00Z"));
	return j;
}

static void image_inspect(struct berth_http_request *req, void *userdata)
{
	images_op_scope(userdata);
	struct berthd *d = userdata;
	_cleanup_error_ struct berth_error *e = NULL;
	_cleanup_json_ json_t *config = NULL, *j = NULL;
	struct berth_image_info *info = NULL;
	int r;

	r = berth_image_inspect(d->images.store, berth_http_param(req, "name"), &info, &e);
	if (r == 0)
		r = berth_image_config(d->images.store, info->id, &config, &e);
	if (r < 0) {
		berth_image_info_free(info);
		images_respond_error(req, e);
		return;
	}
	j = inspect_json(d, info, config, berth_http_api_version(req));
	berth_image_info_free(info);
	if (!j) {
		berth_http_respond_error(req, 500, "out of memory");
		return;
	}
	berth_http_respond_json(req, 200, j);
}

/* ---- GET /images/{name}/history ----------------------------------------------------------- */

static void image_history(struct berth_http_request *req, void *userdata)
{
	images_op_scope(userdata);
	struct berthd *d = userdata;
	_cleanup_error_ struct berth_error *e = NULL;
	_cleanup_json_ json_t *out = json_array();
	struct berth_image_history *h = NULL;
	size_t n = 0;

	if (berth_image_history(d->images.store, berth_http_param(req, "name"), &h, &n, &e) < 0) {
		images_respond_error(req, e);
		return;
	}
	for (size_t i = 0; out && i < n; i++)
		json_array_append_new(out, json_pack("{s:s,s:I,s:s,s:s,s:I,s:o}", "Comment",
						     h[i].comment ? h[i].comment : "", "Created",
						     (json_int_t)h[i].created, "CreatedBy",
						     h[i].created_by ? h[i].created_by : "", "Id",
						     h[i].id, "Size", (json_int_t)h[i].size, "Tags",
						     images_strv_json(h[i].tags, true)));
	berth_image_history_free(h, n);
	if (!out) {
		berth_http_respond_error(req, 500, "out of memory");
		return;
	}
	berth_http_respond_json(req, 200, out);
}

/* ---- POST /images/{name}/tag -------------------------------------------------------------- */

/* distribution's tag grammar: [\w][\w.-]{0,127} */
bool images_valid_tag(const char *t)
{
	size_t n = strlen(t);

	if (n == 0 || n > 128)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = t[i];
		bool word = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			    (c >= '0' && c <= '9') || c == '_';
		if (!word && (i == 0 || (c != '.' && c != '-')))
			return false;
	}
	return true;
}

/*
 * httputils.RepoTagReference: repo (a name, perhaps with a tag) and tag (may be NULL/empty) ->
 * the normalised "name:tag" to write, with docker's refusals (400).  repo NULL or empty: NULL
 * returned with no error (the caller decides).
 */
int images_repo_tag(const char *repo, const char *tag, char **ret, struct berth_error **err)
{
	_cleanup_reference_ struct berth_reference *ref = NULL;
	int r;

	*ret = NULL;
	if (!repo || !*repo)
		return 0;
	r = berth_reference_parse(repo, &ref, err);
	if (r < 0)
		return r;
	if (ref->digest)
		return berth_error_set(err, EINVAL,
				       "refusing to create a tag with a digest reference");
	if (tag && *tag) {
		if (!images_valid_tag(tag))
			return berth_error_set(err, EINVAL, "invalid tag format");
		free(ref->tag);
		ref->tag = strdup(tag);
		if (!ref->tag)
			return berth_error_set(err, ENOMEM, "out of memory");
	}
	if (berth_reference_default_tag(ref) < 0 || !(*ret = berth_reference_string(ref)))
		return berth_error_set(err, ENOMEM, "out of memory");
	return 0;
}

/* "docker.io/library/busybox:latest" -> "busybox:latest" */
char *images_familiar(const char *full)
{
	_cleanup_reference_ struct berth_reference *ref = NULL;

	if (berth_reference_parse(full, &ref, NULL) < 0)
		return strdup(full);
	return berth_reference_familiar(ref);
}

static void image_tag(struct berth_http_request *req, void *userdata)
{
	images_op_scope(userdata);
	struct berthd *d = userdata;
	const char *name = berth_http_param(req, "name");
	_cleanup_error_ struct berth_error *e = NULL;
	_cleanup_free_ char *target = NULL, *id = NULL, *fam = NULL;
	_cleanup_json_ json_t *config = NULL;
	int r;

	r = images_repo_tag(berth_http_query(req, "repo"), berth_http_query(req, "tag"), &target,
			    &e);
	if (r == 0 && !target)
		r = berth_error_set(&e, EINVAL, "invalid reference format");
	if (r < 0) {
		images_respond_error(req, e);
		return;
	}
	/* dockerd answers any failure to find the source 404, a malformed name too */
	r = berth_image_resolve(d->images.store, name, &id, &e);
	if (r < 0) {
		berth_http_respond_error(req, 404, "%s", e ? e->msg : "No such image");
		return;
	}
	r = berth_image_tag(d->images.store, id, target, &e);
	if (r < 0) {
		images_respond_error(req, e);
		return;
	}
	/* the event before the answer, as dockerd: a client that saw the answer finds the event */
	fam = images_familiar(target);
	if (berth_image_config(d->images.store, id, &config, NULL) < 0)
		config = NULL;
	images_event(d, "tag", id, fam ? fam : target, images_labels(config));
	berth_http_respond_status(req, 201);
}

/* ---- DELETE /images/{name} ---------------------------------------------------------------- */

/* Events for what a delete did: untag per Untagged, delete per deleted image id. */
static void delete_events(struct berthd *d, const struct berth_image_deleted *items, size_t n,
			  const json_t *ids, const json_t *ref_ids, const json_t *labels_of)
{
	for (size_t i = 0; i < n; i++) {
		const char *v = items[i].value;
		if (items[i].kind == BERTH_IMAGE_UNTAGGED) {
			const char *id = json_string_value(json_object_get(ref_ids, v));
			if (id)
				images_event(d, "untag", id, id, json_object_get(labels_of, id));
		} else if (json_object_get(ids, v)) {
			images_event(d, "delete", v, v, NULL);
		}
	}
}

static bool has_layer(const json_t *layers, const char *chain)
{
	size_t i;
	json_t *l;

	json_array_foreach ((json_t *)layers, i, l) {
		if (berth_streq(json_string_value(l), chain))
			return true;
	}
	return false;
}

/*
 * lib/image lists the layers a delete removed after all the images it deleted; dockerd lists
 * each image's removed layers right after it, a layer two deleted images shared after the later
 * one.  ids: image id -> its chain ids, for every image the delete could remove.
 */
static void order_deleted(struct berth_image_deleted *items, size_t n, const json_t *ids)
{
	_cleanup_free_ struct berth_image_deleted *out = calloc(n ? n : 1, sizeof(*out));
	_cleanup_free_ ssize_t *owner = calloc(n ? n : 1, sizeof(*owner));
	_cleanup_free_ bool *placed = calloc(n ? n : 1, sizeof(*placed));
	size_t m = 0;

	if (!n || !out || !owner || !placed)
		return; /* nothing, or keep lib/image's order */
	for (size_t i = 0; i < n; i++) {
		owner[i] = -1;
		if (items[i].kind != BERTH_IMAGE_DELETED || json_object_get(ids, items[i].value))
			continue;
		for (size_t k = 0; k < n; k++)
			if (items[k].kind == BERTH_IMAGE_DELETED &&
			    has_layer(json_object_get(ids, items[k].value), items[i].value))
				owner[i] = (ssize_t)k;
	}
	for (size_t i = 0; i < n; i++) {
		if (owner[i] >= 0 ||
		    (items[i].kind == BERTH_IMAGE_DELETED && !json_object_get(ids, items[i].value)))
			continue; /* a layer: placed after its image, or at the end */
		out[m++] = items[i];
		placed[i] = true;
		for (size_t k = 0; k < n; k++)
			if (owner[k] == (ssize_t)i) {
				out[m++] = items[k];
				placed[k] = true;
			}
	}
	for (size_t i = 0; i < n; i++)
		if (!placed[i])
			out[m++] = items[i];
	memcpy(items, out, n * sizeof(*items));
}

static json_t *deleted_json(const struct berth_image_deleted *items, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < n; i++)
		json_array_append_new(
			a, json_pack("{s:s}",
				     items[i].kind == BERTH_IMAGE_UNTAGGED ? "Untagged" : "Deleted",
				     items[i].value));
	return a;
}

/* What events need of an image before it goes: its refs -> id, its id, its labels. */
static void remember_image(struct berthd *d, const struct berth_image_info *info, json_t *ids,
			   json_t *ref_ids, json_t *labels_of)
{
	_cleanup_json_ json_t *config = NULL;

	json_t *layers = json_array();
	for (size_t k = 0; layers && info->layers[k]; k++)
		json_array_append_new(layers, json_string(info->layers[k]));
	json_object_set_new(ids, info->id, layers ? layers : json_array());
	for (size_t k = 0; info->repo_tags[k]; k++)
		json_object_set_new(ref_ids, info->repo_tags[k], json_string(info->id));
	for (size_t k = 0; info->repo_digests[k]; k++)
		json_object_set_new(ref_ids, info->repo_digests[k], json_string(info->id));
	if (berth_image_config(d->images.store, info->id, &config, NULL) == 0 &&
	    images_labels(config))
		json_object_set_new(labels_of, info->id, json_deep_copy(images_labels(config)));
}

static void image_delete(struct berth_http_request *req, void *userdata)
{
	images_op_scope(userdata);
	struct berthd *d = userdata;
	const char *name = berth_http_param(req, "name");
	unsigned flags = 0;
	_cleanup_error_ struct berth_error *e = NULL;
	_cleanup_json_ json_t *ids = json_object(), *ref_ids = json_object(),
			      *labels_of = json_object(), *out = NULL;
	struct berth_image_deleted *items = NULL;
	struct berth_image_info *info = NULL;
	struct daemon_image_users u;
	size_t n = 0;
	int r;

	if (!name || !name[strspn(name, " \t\r\n")]) {
		berth_http_respond_error(req, 400, "image name cannot be blank");
		return;
	}
	if (!ids || !ref_ids || !labels_of) {
		berth_http_respond_error(req, 500, "out of memory");
		return;
	}
	if (berth_http_query_bool(req, "force"))
		flags |= BERTH_IMAGE_DELETE_FORCE;
	if (berth_http_query_bool(req, "noprune"))
		flags |= BERTH_IMAGE_DELETE_NO_PRUNE;
	/* the image and its ancestors: the ones this delete can remove */
	r = berth_image_inspect(d->images.store, name, &info, &e);
	if (r < 0) {
		images_respond_error(req, e);
		return;
	}
	for (int depth = 0; info && depth < 1000; depth++) {
		struct berth_image_info *parent = NULL;
		remember_image(d, info, ids, ref_ids, labels_of);
		if (info->parent &&
		    berth_image_inspect(d->images.store, info->parent, &parent, NULL) < 0)
			parent = NULL;
		berth_image_info_free(info);
		info = parent;
	}
	berth_image_info_free(info);

	r = images_users_snapshot(d, &u);
	if (r < 0) {
		berth_http_respond_error(req, 500, "out of memory");
		return;
	}
	r = berth_image_delete(d->images.store, name, flags, &u.users, &items, &n, &e);
	daemon_image_users_release(&u);
	if (r < 0) {
		images_respond_error(req, e);
		return;
	}
	order_deleted(items, n, ids);
	delete_events(d, items, n, ids, ref_ids, labels_of);
	daemon_images_update_count(d);
	out = deleted_json(items, n);
	if (out)
		berth_http_respond_json(req, 200, out);
	else
		berth_http_respond_error(req, 500, "out of memory");
	berth_image_deleted_free(items, n);
}

/* ---- POST /images/prune ------------------------------------------------------------------- */

static const char *const prune_filters[] = {"dangling", "label", "label!", "until", NULL};

struct prune_filter {
	const struct berth_filters *f;
	int64_t until_ns; /* 0: none */
};

static bool labels_match(const struct berth_filters *f, const char *key, const json_t *labels)
{
	struct berth_key_value *kv = calloc(json_object_size(labels) + 1, sizeof(*kv));
	size_t n = 0;
	const char *k;
	json_t *v;
	bool ok;

	if (!kv)
		return false;
	json_object_foreach ((json_t *)labels, k, v) {
		kv[n++] = (struct berth_key_value){(char *)k, (char *)json_string_value(v)};
	}
	ok = berth_filters_match_kv(f, key, kv, n);
	free(kv);
	return ok;
}

/* Called by lib/image with its lock held: must not call the store. */
static bool prune_keep(void *userdata, const struct berth_image_info *info, json_t *config)
{
	const struct prune_filter *pf = userdata;
	const json_t *cfg = json_object_get(config, "config");

	if (pf->until_ns) {
		int64_t t = images_created_ns(info->created);
		if (!t || t > pf->until_ns)
			return false;
	}
	/* dockerd's matchLabels, applied only to images that have a config */
	if (json_is_object(cfg)) {
		const json_t *labels = images_labels(config);
		if (!labels_match(pf->f, "label", labels))
			return false;
		if (berth_filters_contains(pf->f, "label!") &&
		    labels_match(pf->f, "label!", labels))
			return false;
	}
	return true;
}

static void images_prune(struct berth_http_request *req, void *userdata)
{
	images_op_scope(userdata);
	struct berthd *d = userdata;
	_cleanup_error_ struct berth_error *e = NULL;
	_cleanup_filters_ struct berth_filters *f = NULL;
	_cleanup_json_ json_t *ids = json_object(), *ref_ids = json_object(),
			      *labels_of = json_object(), *out = NULL;
	struct berth_image_deleted *items = NULL;
	struct berth_image_info **infos = NULL;
	struct prune_filter pf = {0};
	struct daemon_image_users u;
	bool dangling_only = true, expected = false;
	uint64_t reclaimed = 0;
	size_t n = 0, n_infos = 0;
	char reclaimed_s[32];
	int r;

	if (!ids || !ref_ids || !labels_of) {
		berth_http_respond_error(req, 500, "out of memory");
		return;
	}
	r = berth_http_query_filters(req, &f, &e);
	if (r == 0)
		r = berth_filters_validate(f, prune_filters, &e);
	if (r == 0)
		r = berth_filters_bool(f, "dangling", true, &dangling_only, &e);
	if (r == 0 && berth_filters_contains(f, "until")) {
		const char *const *until = berth_filters_values(f, "until");
		if (until[0] && until[1])
			r = berth_error_set(&e, EINVAL, "more than one until filter specified");
		else if (until[0])
			r = berth_api_parse_time(until[0], daemon_now_ns(), &pf.until_ns, &e);
	}
	if (r < 0) {
		images_respond_error(req, e);
		return;
	}
	pf.f = f;
	if (!atomic_compare_exchange_strong(&d->images.pruning, &expected, true)) {
		berth_http_respond_error(req, 409, "a prune operation is already running");
		return;
	}
	/* what the events need, before the images go */
	r = berth_image_list(d->images.store, &infos, &n_infos, &e);
	for (size_t i = 0; r == 0 && i < n_infos; i++)
		remember_image(d, infos[i], ids, ref_ids, labels_of);
	berth_image_info_list_free(infos, n_infos);
	if (r == 0)
		r = images_users_snapshot(d, &u) < 0 ? berth_error_set(&e, ENOMEM, "out of memory")
						     : 0;
	if (r == 0) {
		r = berth_image_prune(d->images.store, !dangling_only, prune_keep, &pf, &u.users,
				      &items, &n, &reclaimed, &e);
		daemon_image_users_release(&u);
	}
	atomic_store(&d->images.pruning, false);
	if (r < 0) {
		images_respond_error(req, e);
		return;
	}
	order_deleted(items, n, ids);
	delete_events(d, items, n, ids, ref_ids, labels_of);
	snprintf(reclaimed_s, sizeof(reclaimed_s), "%llu", (unsigned long long)reclaimed);
	struct berth_key_value attr = {"reclaimed", reclaimed_s};
	daemon_event_emit(d, "image", "prune", "", &attr, 1);
	daemon_images_update_count(d);
	out = json_pack("{s:o,s:I}", "ImagesDeleted", n ? deleted_json(items, n) : json_null(),
			"SpaceReclaimed", (json_int_t)reclaimed);
	if (out)
		berth_http_respond_json(req, 200, out);
	else
		berth_http_respond_error(req, 500, "out of memory");
	berth_image_deleted_free(items, n);
}

/* ---- the registry's endpoints ------------------------------------------------------------- */

/*
 * GET /images/search?term=&limit=&filters= (docker search): dockerd's filter checks
 * (is-automated, is-official, stars), the index's results through lib/registry, then dockerd's
 * filtering; is_automated is always false, as dockerd reports it now.
 */
static void image_search(struct berth_http_request *req, void *userdata)
{
	static const char *const accepted[] = {"is-automated", "is-official", "stars", NULL};
	struct berthd *d = userdata;
	_cleanup_error_ struct berth_error *e = NULL;
	_cleanup_filters_ struct berth_filters *f = NULL;
	_cleanup_json_ json_t *results = NULL, *out = json_array(), *auth_json = NULL;
	struct berth_registry_auth auth = {0};
	struct berth_registry *reg = NULL;
	const char *term = berth_http_query(req, "term") ?: "";
	const char *lim = berth_http_query(req, "limit");
	bool automated = false, official = false;
	int64_t limit = 0, stars = 0;
	int r;

	if (lim && *lim && berth_parse_int64(lim, 0, INT32_MAX, &limit) < 0) {
		berth_http_respond_error(req, 400, "invalid limit specified: %s", lim);
		return;
	}
	r = berth_http_query_filters(req, &f, &e);
	r = r ?: berth_filters_validate(f, accepted, &e);
	r = r ?: berth_filters_bool(f, "is-automated", false, &automated, &e);
	r = r ?: berth_filters_bool(f, "is-official", false, &official, &e);
	for (const char *const *v = berth_filters_values(f, "stars"); r == 0 && v && *v; v++) {
		int64_t n;
		if (berth_parse_int64(*v, INT32_MIN, INT32_MAX, &n) < 0)
			r = berth_error_set(&e, EINVAL, "invalid filter 'stars=%s'", *v);
		else if (n > stars)
			stars = n;
	}
	if (r < 0) {
		berth_http_respond_error(req, 400, "%s", e ? e->msg : "invalid filter");
		return;
	}
	if (!out) {
		berth_http_respond_error(req, 500, "out of memory");
		return;
	}
	if (automated) { /* deprecated: nothing is automated any more */
		berth_http_respond_json(req, 200, out);
		return;
	}
	r = daemon_registry_auth(req, &auth, &auth_json, &e);
	r = r ?: daemon_registry_client(d, &reg, &e);
	r = r ?: berth_registry_search(reg, term, (int)limit, &auth, &results, &e);
	berth_registry_free(reg);
	if (r < 0) {
		berth_http_respond_error(req, e && e->code == EINVAL ? 400 : 500, "%s",
					 e ? e->msg : "search failed");
		return;
	}
	size_t i;
	json_t *one;
	json_array_foreach (results, i, one) {
		json_t *st = json_object_get(one, "star_count");
		bool off = json_is_true(json_object_get(one, "is_official"));
		if (!json_is_object(one) ||
		    (berth_filters_contains(f, "is-official") && off != official) ||
		    (berth_filters_contains(f, "stars") && json_integer_value(st) < stars))
			continue;
		json_array_append_new(
			out,
			json_pack("{s:I,s:b,s:s,s:b,s:s}", "star_count",
				  (json_int_t)json_integer_value(st), "is_official", off, "name",
				  json_string_value(json_object_get(one, "name")) ?: "",
				  "is_automated", 0, "description",
				  json_string_value(json_object_get(one, "description")) ?: ""));
	}
	berth_http_respond_json(req, 200, out);
}

/* ---- routes ------------------------------------------------------------------------------- */

int daemon_routes_images(struct berthd *d, struct berth_error **err)
{
	struct berth_api_router *rt = d->router;
	int r = 0;

	/* fixed paths before the {name*} patterns they would otherwise match */
	r = r ?: berth_api_router_add(rt, "GET", "/images/json", daemon_images_list, d, err);
	r = r ?: berth_api_router_add(rt, "GET", "/images/get", daemon_images_save, d, err);
	r = r ?: berth_api_router_add(rt, "GET", "/images/search", image_search, d, err);
	r = r ?: berth_api_router_add(rt, "POST", "/images/load", daemon_images_load, d, err);
	r = r ?: berth_api_router_add(rt, "POST", "/images/create", daemon_images_create, d, err);
	r = r ?: berth_api_router_add(rt, "POST", "/images/prune", images_prune, d, err);
	r = r ?: berth_api_router_add(rt, "GET", "/images/{name*}/json", image_inspect, d, err);
	r = r ?: berth_api_router_add(rt, "GET", "/images/{name*}/history", image_history, d, err);
	r = r ?: berth_api_router_add(rt, "GET", "/images/{name*}/get", daemon_images_save, d, err);
	r = r ?: berth_api_router_add(rt, "POST", "/images/{name*}/tag", image_tag, d, err);
	r = r ?: berth_api_router_add(rt, "POST", "/images/{name*}/push", images_push, d, err);
	r = r ?: berth_api_router_add(rt, "DELETE", "/images/{name*}", image_delete, d, err);
	return r;
}
