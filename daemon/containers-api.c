/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The containers endpoints that change things: create, start, stop, restart, kill, wait, rm,
 * rename, resize, prune -- dockerd 28's parameters, statuses and words.  Each runs on its
 * request's thread; those that change a container pass its gate (containers-internal.h), a
 * kill or a wait never waits for it.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "containers-internal.h"
#include "base/banned.h"

/* a create body: enough for any real config, 413 past it (the 1 GiB test) */
#define CREATE_BODY_MAX (8 << 20)

static void respond_err(struct berth_http_request *req, struct berth_error *e)
{
	if (e && e->code == EALREADY) {
		berth_http_respond_status(req, 304);
		return;
	}
	berth_http_respond_berror(req, e);
}

/* ---- create ----------------------------------------------------------------------------------- */

static void container_create(struct berth_http_request *req, void *userdata)
{
	struct berthd *d = userdata;
	_cleanup_error_ struct berth_error *e = NULL;
	_cleanup_json_ json_t *body = NULL, *warnings = NULL;
	_cleanup_free_ char *id = NULL;
	const char *platform = berth_http_query(req, "platform");

	if (berth_http_read_json(req, CREATE_BODY_MAX, &body) < 0)
		return; /* answered */
	if (!body || !json_is_object(body)) {
		berth_http_respond_error(req, 400,
					 body ? "invalid JSON: json: cannot unmarshal %s into Go "
						"value of type container.CreateRequest"
					      : "config cannot be empty in order to create a "
						"container",
					 json_is_array(body)	? "array"
					 : json_is_string(body) ? "string"
								: "number");
		return;
	}
	if (platform && *platform && strcmp(platform, "linux") != 0 &&
	    !(berth_str_has_prefix(platform, "linux/") &&
	      berth_streq(platform + 6, d->containers.host.arch))) {
		berth_http_respond_error(req, 404,
					 "image with reference %s was found but does not match the "
					 "specified platform: wanted %s",
					 json_string_value(json_object_get(body, "Image")) ?: "",
					 platform);
		return;
	}
	if (ctr_create(d, body, berth_http_query(req, "name"), berth_http_api_version_string(req),
		       &id, &warnings, &e) < 0) {
		berth_http_respond_berror(req, e);
		return;
	}
	_cleanup_json_ json_t *ans = json_pack("{s:s,s:O}", "Id", id, "Warnings",
					       json_is_array(warnings) ? warnings : json_array());
	berth_http_respond_json(req, 201, ans);
}

/* ---- start / stop / restart / kill ------------------------------------------------------------ */

static void container_start(struct berth_http_request *req, void *userdata)
{
	struct berthd *d = userdata;
	_cleanup_error_ struct berth_error *e = NULL;
	struct daemon_container *c;
	int64_t len = berth_http_body_length(req);

	if (len > 7 || len == -1) {
		berth_http_respond_error(req, 400,
					 "starting container with non-empty request body was "
					 "deprecated since API v1.22 and removed in v1.24");
		return;
	}
	if (berth_http_query(req, "checkpoint") && *berth_http_query(req, "checkpoint")) {
		berth_http_respond_error(req, 400,
					 "checkpoint is only supported in experimental mode");
		return;
	}
	if (ctr_get(d, berth_http_param(req, "name"), &c, &e) < 0) {
		berth_http_respond_berror(req, e);
		return;
	}
	if (ctr_gate_enter(d, c) < 0) {
		berth_error_set(&e, ENOENT, "No such container: %s", berth_http_param(req, "name"));
	} else {
		ctr_start(d, c, &e);
		ctr_gate_leave(d, c);
	}
	ctr_unref(d, c);
	if (e)
		respond_err(req, e);
	else
		berth_http_respond_status(req, 204);
}

/* t= as dockerd reads it (strconv.Atoi); INT32_MIN when absent */
static int stop_timeout(struct berth_http_request *req, int *ret, struct berth_error **err)
{
	const char *t = berth_http_query(req, "t");
	int64_t v;

	*ret = INT32_MIN;
	if (!t || !*t)
		return 0;
	if (berth_parse_int64(t, INT32_MIN + 1, INT32_MAX, &v) < 0)
		return berth_error_set(err, EINVAL, "strconv.Atoi: parsing \"%s\": invalid syntax",
				       t);
	*ret = (int)v;
	return 0;
}

/* stop's and restart's ?t= and ?signal= (API 1.42 on); *sig NULL or "" when not given */
static int stop_query(struct berth_http_request *req, const char **sig, int *timeout,
		      struct berth_error **err)
{
	*sig = berth_http_api_version(req) >= BERTH_API_VERSION(1, 42)
		       ? berth_http_query(req, "signal")
		       : NULL;
	if (stop_timeout(req, timeout, err) < 0)
		return -1;
	if (*sig && **sig && berth_signal_parse(*sig) <= 0)
		return berth_error_set(err, EINVAL, "Invalid signal: %s", *sig);
	return 0;
}

/* restart inside the container's gate: stop (already stopped is fine), start, the event */
static void restart_gated(struct berthd *d, struct daemon_container *c, const char *sig,
			  int timeout, struct berth_error **e)
{
	/* AutoRemove does not take a container that is being restarted */
	bool autorm = json_is_true(json_object_get(c->host_config, "AutoRemove"));

	if (autorm) {
		pthread_mutex_lock(&d->lock);
		json_object_set_new(c->host_config, "AutoRemove", json_false());
		pthread_mutex_unlock(&d->lock);
	}
	if (ctr_stop(d, c, sig, timeout, e) < 0 && (*e)->code == EALREADY)
		berth_error_freep(e);
	if (!*e)
		ctr_start(d, c, e);
	if (autorm) {
		pthread_mutex_lock(&d->lock);
		json_object_set_new(c->host_config, "AutoRemove", json_true());
		pthread_mutex_unlock(&d->lock);
	}
	if (!*e) {
		pthread_mutex_lock(&d->lock);
		ctr_event_locked(d, c, "restart", NULL, 0);
		pthread_mutex_unlock(&d->lock);
	}
}

/*
 * POST /containers/{name}/stop and /restart: the same query, container and gate.  Stopping a
 * stopped container is 304; restart answers every error as it is.
 */
static void stop_or_restart(struct berth_http_request *req, struct berthd *d, bool restart)
{
	_cleanup_error_ struct berth_error *e = NULL;
	struct daemon_container *c;
	const char *sig;
	int timeout;

	if (stop_query(req, &sig, &timeout, &e) < 0 ||
	    ctr_get(d, berth_http_param(req, "name"), &c, &e) < 0) {
		berth_http_respond_berror(req, e);
		return;
	}
	if (ctr_gate_enter(d, c) == 0) {
		if (restart)
			restart_gated(d, c, sig, timeout, &e);
		else
			ctr_stop(d, c, sig, timeout, &e);
		ctr_gate_leave(d, c);
	}
	ctr_unref(d, c);
	if (e && restart)
		berth_http_respond_berror(req, e);
	else if (e)
		respond_err(req, e);
	else
		berth_http_respond_status(req, 204);
}

static void container_stop(struct berth_http_request *req, void *userdata)
{
	stop_or_restart(req, userdata, false);
}

static void container_restart(struct berth_http_request *req, void *userdata)
{
	stop_or_restart(req, userdata, true);
}

static void container_kill(struct berth_http_request *req, void *userdata)
{
	struct berthd *d = userdata;
	_cleanup_error_ struct berth_error *e = NULL;
	struct daemon_container *c;
	const char *name = berth_http_param(req, "name");
	const char *s = berth_http_query(req, "signal");
	int sig = SIGKILL;

	if (s && *s) {
		sig = berth_signal_parse(s);
		if (sig <= 0 || sig > 64) {
			berth_http_respond_error(
				req, 400, "cannot kill container: %s: Invalid signal: %s", name, s);
			return;
		}
	}
	if (ctr_get(d, name, &c, &e) < 0) {
		berth_http_respond_error(req, berth_api_error_status(e->code),
					 "cannot kill container: %s: %s", name, e->msg);
		return;
	}
	ctr_kill(d, c, sig, &e);
	ctr_unref(d, c);
	if (e)
		berth_http_respond_error(req, berth_api_error_status(e->code),
					 "cannot kill container: %s: %s", name, e->msg);
	else
		berth_http_respond_status(req, 204);
}

/* ---- wait ------------------------------------------------------------------------------------ */

enum wait_cond { WAIT_NOT_RUNNING, WAIT_NEXT_EXIT, WAIT_REMOVED };

static void container_wait(struct berth_http_request *req, void *userdata)
{
	struct berthd *d = userdata;
	_cleanup_error_ struct berth_error *e = NULL;
	struct daemon_container *c;
	const char *cond_s = berth_http_query(req, "condition");
	bool legacy = berth_http_api_version(req) < BERTH_API_VERSION(1, 30);
	enum wait_cond cond = WAIT_NOT_RUNNING;
	bool done = false, gone = false;
	uint64_t seq;
	int code = 0;

	if (!legacy && cond_s && *cond_s) {
		if (strcmp(cond_s, "not-running") == 0)
			cond = WAIT_NOT_RUNNING;
		else if (strcmp(cond_s, "next-exit") == 0)
			cond = WAIT_NEXT_EXIT;
		else if (strcmp(cond_s, "removed") == 0)
			cond = WAIT_REMOVED;
		else {
			berth_http_respond_error(req, 400, "invalid condition: \"%s\"", cond_s);
			return;
		}
	}
	if (ctr_get(d, berth_http_param(req, "name"), &c, &e) < 0) {
		berth_http_respond_berror(req, e);
		return;
	}
	/* registered before the answer's head goes out: a start after it cannot be missed */
	pthread_mutex_lock(&d->lock);
	seq = c->exits;
	pthread_mutex_unlock(&d->lock);
	if (!legacy) {
		berth_http_stream_begin(req, 200, "application/json");
		berth_http_stream_flush(req);
	}
	pthread_mutex_lock(&d->lock);
	for (;;) {
		if (cond == WAIT_NOT_RUNNING && (!c->running || c->removed))
			done = true;
		else if (cond == WAIT_NEXT_EXIT && (c->exits != seq || c->removed))
			done = true;
		else if (cond == WAIT_REMOVED && c->removed)
			done = true;
		if (done || d->stopping)
			break;
		ctr_cond_wait_until(d, c, ctr_mono_ns() + 250LL * 1000000);
		if (berth_http_client_gone(req)) {
			gone = true;
			break;
		}
	}
	code = c->exit_code;
	pthread_mutex_unlock(&d->lock);
	ctr_unref(d, c);
	if (gone || !done) {
		if (legacy)
			berth_http_respond_error(req, 500, "the daemon is shutting down");
		else
			berth_http_stream_end(req);
		return;
	}
	_cleanup_json_ json_t *ans = json_pack("{s:I}", "StatusCode", (json_int_t)code);
	if (legacy) {
		berth_http_respond_json(req, 200, ans);
		return;
	}
	berth_http_stream_json(req, ans);
	berth_http_stream_end(req);
}

/* ---- rm / rename ---------------------------------------------------------------------------- */

static void container_delete(struct berth_http_request *req, void *userdata)
{
	struct berthd *d = userdata;
	_cleanup_error_ struct berth_error *e = NULL;
	struct daemon_container *c;
	const char *name = berth_http_param(req, "name");
	bool force = berth_http_query_bool(req, "force");

	if (berth_http_query_bool(req, "link")) {
		berth_http_respond_error(req, 400,
					 "Conflict, cannot remove the default link name of the "
					 "container");
		return;
	}
	if (ctr_get(d, name, &c, &e) < 0) {
		berth_http_respond_berror(req, e);
		return;
	}
	pthread_mutex_lock(&d->lock);
	bool removing = c->removing;
	pthread_mutex_unlock(&d->lock);
	if (removing) {
		ctr_unref(d, c);
		berth_http_respond_error(req, 409, "removal of container %s is already in progress",
					 name);
		return;
	}
	if (ctr_gate_enter(d, c) < 0) {
		/* removed while we waited: what the user wanted happened */
		ctr_unref(d, c);
		berth_http_respond_status(req, 204);
		return;
	}
	pthread_mutex_lock(&d->lock);
	bool running = c->running, paused = c->paused;
	const char *state = ctr_status_locked(c);
	char state_s[16];
	snprintf(state_s, sizeof(state_s), "%s", state);
	pthread_mutex_unlock(&d->lock);
	if (running && !force) {
		ctr_gate_leave(d, c);
		ctr_unref(d, c);
		if (paused)
			berth_http_respond_error(
				req, 409,
				"cannot remove container \"%s\": container is paused "
				"and must be unpaused first",
				name);
		else
			berth_http_respond_error(
				req, 409,
				"cannot remove container \"%s\": container is %s: "
				"stop the container before removing or force remove",
				name, state_s);
		return;
	}
	if (running) {
		/* docker: a kill, then a stop with 3 s */
		ctr_kill(d, c, SIGKILL, NULL);
		ctr_stop(d, c, NULL, 3, NULL);
	}
	int r = ctr_remove(d, c, berth_http_query_bool(req, "v"), &e);
	ctr_gate_leave(d, c);
	ctr_unref(d, c);
	if (r < 0) {
		berth_http_respond_error(req, berth_api_error_status(e->code),
					 "cannot remove container \"%s\": %s", name, e->msg);
		return;
	}
	berth_http_respond_status(req, 204);
}

static void container_rename(struct berth_http_request *req, void *userdata)
{
	struct berthd *d = userdata;
	_cleanup_error_ struct berth_error *e = NULL;
	struct daemon_container *c;

	if (ctr_get(d, berth_http_param(req, "name"), &c, &e) < 0) {
		berth_http_respond_berror(req, e);
		return;
	}
	if (ctr_gate_enter(d, c) == 0) {
		ctr_rename(d, c, berth_http_query(req, "name"), &e);
		ctr_gate_leave(d, c);
	} else {
		berth_error_set(&e, ENOENT, "No such container: %s", berth_http_param(req, "name"));
	}
	ctr_unref(d, c);
	if (e)
		berth_http_respond_berror(req, e);
	else
		berth_http_respond_status(req, 204);
}

/* ---- resize ------------------------------------------------------------------------------------ */

static void container_resize(struct berth_http_request *req, void *userdata)
{
	struct berthd *d = userdata;
	_cleanup_error_ struct berth_error *e = NULL;
	_cleanup_json_ json_t *rq = NULL;
	struct daemon_container *c;
	uint32_t h, w;

	if (daemon_parse_resize(req, &h, &w) < 0)
		return;
	if (ctr_get(d, berth_http_param(req, "name"), &c, &e) < 0) {
		berth_http_respond_berror(req, e);
		return;
	}
	pthread_mutex_lock(&d->lock);
	bool running = c->running && !c->restarting;
	pthread_mutex_unlock(&d->lock);
	if (!running) {
		berth_http_respond_error(req, 409, "container %s is not running", c->id);
		ctr_unref(d, c);
		return;
	}
	/* the kernel's winsize holds 16 bits: truncated, as runc's console does */
	rq = json_pack("{s:s,s:I,s:I}", "op", "resize", "height", (json_int_t)(h & 0xffff), "width",
		       (json_int_t)(w & 0xffff));
	int r = shim_request(d, c->id, rq, -1, NULL, NULL, 10000, &e);
	ctr_unref(d, c);
	if (r < 0 && e->code == ENOTTY) {
		/* docker: a container without a tty takes the size and does nothing */
		berth_http_respond(req, 200, NULL, NULL, 0);
		return;
	}
	if (r < 0) {
		berth_http_respond_berror(req, e);
		return;
	}
	berth_http_respond(req, 200, NULL, NULL, 0);
}

/* ---- prune ------------------------------------------------------------------------------------ */

static void containers_prune(struct berth_http_request *req, void *userdata)
{
	static const char *const accepted[] = {"until", "label", "label!", NULL};
	struct berthd *d = userdata;
	_cleanup_error_ struct berth_error *e = NULL;
	_cleanup_filters_ struct berth_filters *f = NULL;
	_cleanup_json_ json_t *deleted = json_array();
	struct daemon_container **v;
	size_t n;
	int64_t until = 0, reclaimed = 0;
	const char *const *u;

	if (berth_http_query_filters(req, &f, &e) < 0 ||
	    berth_filters_validate(f, accepted, &e) < 0) {
		berth_http_respond_berror(req, e);
		return;
	}
	u = berth_filters_values(f, "until");
	if (u && u[0]) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		if (berth_api_parse_time(u[0], (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec,
					 &until, &e) < 0) {
			berth_http_respond_berror(req, e);
			return;
		}
	}
	pthread_mutex_lock(&d->lock);
	n = d->containers.n;
	v = calloc(n + 1, sizeof(*v));
	size_t k = 0;
	for (size_t i = 0; v && i < n; i++) {
		struct daemon_container *c = d->containers.v[i];
		if (c->running || c->removing)
			continue;
		if (until && c->created_ns >= until)
			continue;
		const json_t *l = json_object_get(c->config, "Labels");
		size_t nl = json_object_size(l), m = 0;
		_cleanup_free_ struct berth_key_value *kv = calloc(nl + 1, sizeof(*kv));
		const char *key;
		if (!kv)
			continue;
		json_t *val;
		json_object_foreach ((json_t *)l, key, val)
			kv[m++] = (struct berth_key_value){(char *)key,
							   (char *)(json_string_value(val) ?: "")};
		if (!berth_filters_match_kv(f, "label", kv, m))
			continue;
		const char *const *neg = berth_filters_values(f, "label!");
		bool excluded = false;
		for (size_t q = 0; neg && neg[q] && !excluded; q++) {
			_cleanup_filters_ struct berth_filters *one = NULL;
			_cleanup_free_ char *doc = NULL;
			json_t *dj = json_pack("{s:[s]}", "label", neg[q]);
			doc = dj ? json_dumps(dj, JSON_COMPACT) : NULL;
			json_decref(dj);
			if (doc && berth_filters_parse(doc, &one, NULL) == 0 &&
			    berth_filters_match_kv(one, "label", kv, m))
				excluded = true;
		}
		if (excluded)
			continue;
		v[k++] = ctr_ref(c);
	}
	pthread_mutex_unlock(&d->lock);
	for (size_t i = 0; i < k; i++) {
		struct daemon_container *c = v[i];
		if (ctr_gate_enter(d, c) == 0) {
			pthread_mutex_lock(&d->lock);
			bool go = !c->running && !c->removing;
			pthread_mutex_unlock(&d->lock);
			int64_t size = go ? ctr_size_rw(c) : 0;
			if (go && ctr_remove(d, c, false, NULL) == 0) {
				json_array_append_new(deleted, json_string(c->id));
				reclaimed += size;
			}
			ctr_gate_leave(d, c);
		}
		ctr_unref(d, c);
	}
	free(v);
	char rs[32];
	snprintf(rs, sizeof(rs), "%lld", (long long)reclaimed);
	struct berth_key_value kv = {"reclaimed", rs};
	daemon_event_emit(d, "container", "prune", "", &kv, 1);
	_cleanup_json_ json_t *ans = json_pack("{s:O,s:I}", "ContainersDeleted",
					       json_array_size(deleted) ? deleted : json_null(),
					       "SpaceReclaimed", (json_int_t)reclaimed);
	berth_http_respond_json(req, 200, ans);
}

int daemon_routes_containers(struct berthd *d, struct berth_error **err)
{
	int r = 0;

	r = r
		    ?: berth_api_router_add(d->router, "POST", "/containers/create",
					    container_create, d, err);
	r = r
		    ?: berth_api_router_add(d->router, "POST", "/containers/prune",
					    containers_prune, d, err);
	r = r
		    ?: berth_api_router_add(d->router, "POST", "/containers/{name}/start",
					    container_start, d, err);
	r = r
		    ?: berth_api_router_add(d->router, "POST", "/containers/{name}/stop",
					    container_stop, d, err);
	r = r
		    ?: berth_api_router_add(d->router, "POST", "/containers/{name}/restart",
					    container_restart, d, err);
	r = r
		    ?: berth_api_router_add(d->router, "POST", "/containers/{name}/kill",
					    container_kill, d, err);
	r = r
		    ?: berth_api_router_add(d->router, "POST", "/containers/{name}/wait",
					    container_wait, d, err);
	r = r
		    ?: berth_api_router_add(d->router, "POST", "/containers/{name}/rename",
					    container_rename, d, err);
	r = r
		    ?: berth_api_router_add(d->router, "POST", "/containers/{name}/resize",
					    container_resize, d, err);
	r = r
		    ?: berth_api_router_add(d->router, "DELETE", "/containers/{name}",
					    container_delete, d, err);
	r = r ?: ctr_routes_query(d, err);
	r = r ?: ctr_routes_logs(d, err);
	r = r ?: ctr_routes_network(d, err);
	r = r ?: ctr_routes_archive(d, err);
	r = r ?: ctr_routes_commit(d, err);
	r = r ?: ctr_routes_update(d, err);
	r = r ?: ctr_routes_stats(d, err);
	r = r ?: daemon_routes_exec(d, err);
	return r;
}
