/* SPDX-License-Identifier: Apache-2.0 */
/* /volumes: list, inspect, create, delete, prune, in Docker's shapes and with its statuses. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "volumes-internal.h"
#include "base/banned.h"

#define MAX_CREATE_BODY (1 << 20)

/* Docker's Volume; UsageData (system df) when usage. */
static json_t *volume_json_locked(struct berthd *d, const struct daemon_volume *v, bool usage)
{
	_cleanup_free_ char *mp = daemon_volume_path(d, v->name, "_data");
	time_t sec = (time_t)(v->created_ns / 1000000000);
	struct tm tm;
	char created[32];
	json_t *j;

	gmtime_r(&sec, &tm);
	strftime(created, sizeof(created), "%Y-%m-%dT%H:%M:%SZ", &tm);
	j = json_pack("{s:s, s:s, s:O, s:s, s:s, s:O, s:s}", "CreatedAt", created, "Driver",
		      "local", "Labels", json_object_size(v->labels) ? v->labels : json_null(),
		      "Mountpoint", mp ? mp : "", "Name", v->name, "Options",
		      json_object_size(v->options) ? v->options : json_null(), "Scope", "local");
	if (j && usage) {
		int64_t size = daemon_volume_size(d, v->name);
		json_object_set_new(j, "UsageData",
				    json_pack("{s:I, s:I}", "RefCount",
					      (json_int_t)berth_strv_length(v->users), "Size",
					      (json_int_t)size));
	}
	return j;
}

json_t *daemon_volumes_disk_usage(struct berthd *d)
{
	json_t *out = json_array();

	pthread_mutex_lock(&d->lock);
	for (size_t i = 0; out && i < d->volumes.n; i++)
		json_array_append_new(out, volume_json_locked(d, d->volumes.v[i], true));
	pthread_mutex_unlock(&d->lock);
	return out;
}

static const char *const list_filter_keys[] = {"dangling", "driver", "label", "name", NULL};

static void volumes_list(struct berth_http_request *req, void *userdata)
{
	struct berthd *d = userdata;
	_cleanup_filters_ struct berth_filters *f = NULL;
	_cleanup_error_ struct berth_error *e = NULL;
	_cleanup_json_ json_t *list = json_array(), *out = NULL;
	bool dangling = false, dangling_set;

	if (berth_http_query_filters(req, &f, &e) < 0 ||
	    berth_filters_validate(f, list_filter_keys, &e) < 0) {
		berth_http_respond_error(req, 400, "%s", e ? e->msg : "invalid filters");
		return;
	}
	dangling_set = berth_filters_contains(f, "dangling");
	if (dangling_set && berth_filters_bool(f, "dangling", false, &dangling, &e) < 0) {
		berth_http_respond_error(req, 400, "%s", e->msg);
		return;
	}
	pthread_mutex_lock(&d->lock);
	for (size_t i = 0; list && i < d->volumes.n; i++) {
		const struct daemon_volume *v = d->volumes.v[i];
		bool used = v->users && v->users[0];
		bool name_ok = !berth_filters_contains(f, "name");

		for (const char *const *n = berth_filters_values(f, "name"); n && *n; n++)
			name_ok = name_ok || strstr(v->name, *n);
		if (!name_ok || !berth_filters_exact_match(f, "driver", "local") ||
		    (dangling_set && dangling == used) || !daemon_labels_match(f, v->labels))
			continue;
		json_array_append_new(list, volume_json_locked(d, v, false));
	}
	pthread_mutex_unlock(&d->lock);
	out = json_pack("{s:O, s:n}", "Volumes", list, "Warnings");
	berth_http_respond_json(req, 200, out);
}

static void respond_volume(struct berth_http_request *req, struct berthd *d, const char *name,
			   int status)
{
	_cleanup_json_ json_t *out = NULL;

	pthread_mutex_lock(&d->lock);
	struct daemon_volume *v = daemon_volume_find_locked(d, name);
	if (v)
		out = volume_json_locked(d, v, false);
	pthread_mutex_unlock(&d->lock);
	if (!out) {
		berth_http_respond_error(req, 404, "get %s: no such volume", name);
		return;
	}
	berth_http_respond_json(req, status, out);
}

static void volume_inspect(struct berth_http_request *req, void *userdata)
{
	respond_volume(req, userdata, berth_http_param(req, "name"), 200);
}

static void volume_create(struct berth_http_request *req, void *userdata)
{
	struct berthd *d = userdata;
	_cleanup_json_ json_t *body = NULL;
	_cleanup_error_ struct berth_error *e = NULL;
	_cleanup_free_ char *name = NULL;
	const char *want = NULL, *driver = NULL;
	json_t *labels = NULL, *opts = NULL, *cluster = NULL;
	int r;

	r = berth_http_read_json(req, MAX_CREATE_BODY, &body);
	if (r < 0)
		return;
	if (body && !json_is_object(body)) {
		berth_http_respond_error(req, 400, "invalid JSON: the body must be an object");
		return;
	}
	if (body && json_unpack(body, "{s?s, s?s, s?o, s?o, s?o}", "Name", &want, "Driver", &driver,
				"DriverOpts", &opts, "Labels", &labels, "ClusterVolumeSpec",
				&cluster) != 0) {
		berth_http_respond_error(req, 400, "invalid JSON: a field has the wrong type");
		return;
	}
	if (cluster && !json_is_null(cluster)) {
		berth_http_respond_error(req, 400,
					 "create %s: cluster volumes need swarm mode, "
					 "which berth does not have",
					 want ? want : "");
		return;
	}
	if (driver && *driver && !berth_streq(driver, "local")) {
		berth_http_respond_error(req, 400,
					 "create %s: error looking up volume plugin %s: plugin "
					 "\"%s\" not found",
					 want ? want : "", driver, driver);
		return;
	}
	r = daemon_volume_create(d, want, labels, opts, false, &name, &e);
	if (r < 0) {
		berth_http_respond_error(req, berth_api_error_status(e ? e->code : EIO),
					 "create %s: %s", want ? want : "", e ? e->msg : "failed");
		return;
	}
	respond_volume(req, d, name, 201);
}

static void volume_delete(struct berth_http_request *req, void *userdata)
{
	struct berthd *d = userdata;
	_cleanup_error_ struct berth_error *e = NULL;

	if (daemon_volume_remove(d, berth_http_param(req, "name"),
				 berth_http_query_bool(req, "force"), &e) < 0) {
		berth_http_respond_berror(req, e);
		return;
	}
	berth_http_respond_status(req, 204);
}

static const char *const prune_filter_keys[] = {"label", "label!", "all", NULL};

static void volumes_prune(struct berth_http_request *req, void *userdata)
{
	struct berthd *d = userdata;
	_cleanup_filters_ struct berth_filters *f = NULL;
	_cleanup_error_ struct berth_error *e = NULL;
	_cleanup_json_ json_t *names = NULL, *out = NULL;
	/* API 1.42 made prune take only anonymous volumes unless all=true */
	bool all = berth_http_api_version(req) < BERTH_API_VERSION(1, 42);
	int64_t reclaimed = 0;

	if (berth_http_query_filters(req, &f, &e) < 0 ||
	    berth_filters_validate(f, prune_filter_keys, &e) < 0 ||
	    (berth_filters_contains(f, "all") &&
	     berth_filters_bool(f, "all", false, &all, &e) < 0)) {
		berth_http_respond_error(req, 400, "%s", e ? e->msg : "invalid filters");
		return;
	}
	if (berth_filters_contains(f, "label!")) {
		berth_http_respond_error(req, 400,
					 "invalid filter 'label!': berth's volume prune "
					 "takes label and all");
		return;
	}
	if (daemon_volumes_prune(d, f, all, &names, &reclaimed, &e) < 0) {
		berth_http_respond_berror(req, e);
		return;
	}
	out = json_pack("{s:O, s:I}", "VolumesDeleted", names, "SpaceReclaimed",
			(json_int_t)reclaimed);
	berth_http_respond_json(req, 200, out);
}

int daemon_routes_volumes(struct berthd *d, struct berth_error **err)
{
	struct berth_api_router *rt = d->router;
	int r = 0;

	r = r ?: berth_api_router_add(rt, "GET", "/volumes", volumes_list, d, err);
	r = r ?: berth_api_router_add(rt, "POST", "/volumes/create", volume_create, d, err);
	r = r ?: berth_api_router_add(rt, "POST", "/volumes/prune", volumes_prune, d, err);
	r = r ?: berth_api_router_add(rt, "GET", "/volumes/{name}", volume_inspect, d, err);
	r = r ?: berth_api_router_add(rt, "DELETE", "/volumes/{name}", volume_delete, d, err);
	return r;
}
