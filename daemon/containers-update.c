// SPDX-License-Identifier: Apache-2.0
/*
 * What changes a running container without restarting it: pause and unpause (the cgroup
 * freezer) and update (the HostConfig's resources written to the cgroup, and kept for the next
 * start).  The cgroup is the one lib/runtime recorded in the container's runtime state
 * (exec-root/runtime/<id>/state.json), a host file no container can reach: berthd never takes a
 * cgroup path from anything a container could have written.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "containers-internal.h"
#include "runtime/runtime.h"
#include "base/banned.h"

#define UPDATE_BODY_MAX (1 << 20)

/* One pause, unpause or update at a time: each is a short freezer or cgroup write. */
static pthread_mutex_t change_lock = PTHREAD_MUTEX_INITIALIZER;

int ctr_runtime_load(struct berthd *d, const char *id, struct berth_container **ret,
		     struct berth_error **err)
{
	_cleanup_free_ char *state = NULL;

	if (asprintf(&state, "%s/runtime", d->config.exec_root) < 0)
		return berth_error_set(err, ENOMEM, "out of memory");
	struct berth_runtime_opts ro = {.state_root = state};
	return berth_container_load(&ro, id, ret, err);
}

int ctr_freeze(struct berthd *d, const char *id, bool frozen, struct berth_error **err)
{
	_cleanup_container_ struct berth_container *rc = NULL;
	int r = ctr_runtime_load(d, id, &rc, err);

	return r < 0 ? r : berth_cgroup_freeze(rc->cgroup, frozen, err);
}

void ctr_paused_restore(struct berthd *d, struct daemon_container *c)
{
	_cleanup_container_ struct berth_container *rc = NULL;
	bool frozen = false;

	/* the freezer is the truth: a pause recorded before a crash, or made while berthd was down */
	if (ctr_runtime_load(d, c->id, &rc, NULL) < 0 ||
	    berth_cgroup_is_frozen(rc->cgroup, &frozen, NULL) < 0)
		return;
	pthread_mutex_lock(&d->lock);
	if (c->running && c->paused != frozen) {
		c->paused = frozen;
		ctr_recount_locked(d);
		ctr_save_locked(d, c, NULL);
	}
	pthread_mutex_unlock(&d->lock);
}

/* ---- pause, unpause ------------------------------------------------------------------------ */

static void pause_or_unpause(struct berth_http_request *req, struct berthd *d, bool pause)
{
	_cleanup_error_ struct berth_error *e = NULL;
	struct daemon_container *c = NULL;
	int status = 0;
	int r;

	if (ctr_get(d, berth_http_param(req, "name"), &c, &e) < 0) {
		berth_http_respond_berror(req, e);
		return;
	}
	pthread_mutex_lock(&change_lock);
	pthread_mutex_lock(&d->lock);
	/* dockerd's order of checks (daemon/pause.go, unpause.go) */
	if (pause && (!c->running || c->removing || c->dead))
		r = berth_error_set(&e, EBUSY, "container %s is not running", c->id);
	else if (pause && c->paused)
		r = berth_error_set(&e, EBUSY, "container %s is already paused", c->id);
	else if (pause && c->restarting)
		r = berth_error_set(
			&e, EBUSY,
			"Container %s is restarting, wait until the container is running", c->id);
	else if (!pause && !c->paused)
		r = berth_error_set(&e, EIO, "Container %s is not paused", c->id);
	else if (!pause && !c->running)
		r = berth_error_set(&e, EBUSY, "container %s is not running", c->id);
	else
		r = 0;
	pthread_mutex_unlock(&d->lock);
	if (r == 0) {
		_cleanup_error_ struct berth_error *fe = NULL;
		r = ctr_freeze(d, c->id, pause, &fe);
		if (r < 0)
			berth_error_set(&e, EIO, "%s container %s: %s",
					pause ? "cannot pause" : "Cannot unpause", c->id,
					fe ? fe->msg : "?");
	}
	if (r == 0) {
		pthread_mutex_lock(&d->lock);
		if (c->running) {
			c->paused = pause;
			ctr_recount_locked(d);
			if (ctr_save_locked(d, c, &e) < 0) {
				log_warn("container %s: could not save container to disk: %s",
					 c->id, e ? e->msg : "?");
				berth_error_freep(&e);
			}
			ctr_event_locked(d, c, pause ? "pause" : "unpause", NULL, 0);
			pthread_cond_broadcast(&c->cond);
		}
		pthread_mutex_unlock(&d->lock);
		status = 204;
	}
	pthread_mutex_unlock(&change_lock);
	ctr_unref(d, c);
	if (status)
		berth_http_respond_status(req, status);
	else
		berth_http_respond_berror(req, e);
}

static void container_pause(struct berth_http_request *req, void *userdata)
{
	pause_or_unpause(req, userdata, true);
}

static void container_unpause(struct berth_http_request *req, void *userdata)
{
	pause_or_unpause(req, userdata, false);
}

int ctr_thaw_for_kill(struct berthd *d, struct daemon_container *c)
{
	_cleanup_error_ struct berth_error *e = NULL;
	bool paused;

	pthread_mutex_lock(&d->lock);
	paused = c->running && c->paused;
	pthread_mutex_unlock(&d->lock);
	if (!paused)
		return 0;
	/* dockerd unpauses after the signal that ends a paused container: it lands once thawed */
	pthread_mutex_lock(&change_lock);
	int r = ctr_freeze(d, c->id, false, &e);
	pthread_mutex_unlock(&change_lock);
	if (r < 0) {
		log_warn("Cannot unpause container %s: %s", c->id, e ? e->msg : "?");
		return r;
	}
	pthread_mutex_lock(&d->lock);
	if (c->running && c->paused) {
		c->paused = false;
		ctr_recount_locked(d);
		ctr_save_locked(d, c, NULL);
		ctr_event_locked(d, c, "unpause", NULL, 0);
	}
	pthread_mutex_unlock(&d->lock);
	return 0;
}

/* ---- update -------------------------------------------------------------------------------- */

static int64_t hc_int(const json_t *o, const char *key)
{
	return json_integer_value(json_object_get(o, key));
}

static const char *hc_str(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key)) ?: "";
}

static int conflict(struct berth_error **err, const char *id, const char *msg)
{
	return berth_error_set(err, EBUSY, "Cannot update container %s: %s", id, msg);
}

/* container.UpdateContainer: u's values over hc's (d->lock held; hc is a copy). */
static int merge_update(json_t *hc, const json_t *u, const char *id, struct berth_error **err)
{
	static const char *const nonzero[] = {"BlkioWeight", "CpuShares", "NanoCpus", "CpuPeriod",
					      "CpuQuota"};
	static const char *const lists[] = {"BlkioWeightDevice", "BlkioDeviceReadBps",
					    "BlkioDeviceWriteBps", "BlkioDeviceReadIOps",
					    "BlkioDeviceWriteIOps"};
	int64_t nano = hc_int(u, "NanoCpus"), period = hc_int(u, "CpuPeriod"),
		quota = hc_int(u, "CpuQuota"), mem = hc_int(u, "Memory");
	int r = 0;

	/* NanoCpus sets period and quota: one or the other, never both, across updates too */
	if (nano > 0 && hc_int(hc, "CpuPeriod") > 0)
		return conflict(
			err, id,
			"Conflicting options: Nano CPUs cannot be updated as CPU Period has "
			"already been set");
	if (nano > 0 && hc_int(hc, "CpuQuota") > 0)
		return conflict(err, id,
				"Conflicting options: Nano CPUs cannot be updated as CPU Quota has "
				"already been set");
	if (period > 0 && hc_int(hc, "NanoCpus") > 0)
		return conflict(err, id,
				"Conflicting options: CPU Period cannot be updated as NanoCPUs has "
				"already been set");
	if (quota > 0 && hc_int(hc, "NanoCpus") > 0)
		return conflict(err, id,
				"Conflicting options: CPU Quota cannot be updated as NanoCPUs has "
				"already been set");
	for (size_t i = 0; i < ARRAY_SIZE(lists); i++)
		if (json_is_array(json_object_get(u, lists[i])))
			r |= json_object_set(hc, lists[i], json_object_get(u, lists[i]));
	for (size_t i = 0; i < ARRAY_SIZE(nonzero); i++)
		if (hc_int(u, nonzero[i]) != 0)
			r |= json_object_set_new(hc, nonzero[i],
						 json_integer(hc_int(u, nonzero[i])));
	if (*hc_str(u, "CpusetCpus"))
		r |= json_object_set(hc, "CpusetCpus", json_object_get(u, "CpusetCpus"));
	if (*hc_str(u, "CpusetMems"))
		r |= json_object_set(hc, "CpusetMems", json_object_get(u, "CpusetMems"));
	if (mem != 0) {
		if (mem > hc_int(hc, "MemorySwap") && hc_int(u, "MemorySwap") == 0)
			return conflict(
				err, id,
				"Memory limit should be smaller than already set memoryswap "
				"limit, update the memoryswap at the same time");
		r |= json_object_set_new(hc, "Memory", json_integer(mem));
	}
	static const char *const after[] = {"MemorySwap", "MemoryReservation", "CpuRealtimePeriod",
					    "CpuRealtimeRuntime"};
	for (size_t i = 0; i < ARRAY_SIZE(after); i++)
		if (hc_int(u, after[i]) != 0)
			r |= json_object_set_new(hc, after[i], json_integer(hc_int(u, after[i])));
	if (json_is_integer(json_object_get(u, "PidsLimit")))
		r |= json_object_set(hc, "PidsLimit", json_object_get(u, "PidsLimit"));
	const json_t *rp = json_object_get(u, "RestartPolicy");
	if (*hc_str(rp, "Name")) {
		if (json_is_true(json_object_get(hc, "AutoRemove")) &&
		    strcmp(hc_str(rp, "Name"), "no") != 0)
			return conflict(err, id,
					"Restart policy cannot be updated because AutoRemove is "
					"enabled for the container");
		json_t *copy =
			json_pack("{s:s,s:I}", "Name", hc_str(rp, "Name"), "MaximumRetryCount",
				  (json_int_t)hc_int(rp, "MaximumRetryCount"));
		r |= copy ? json_object_set_new(hc, "RestartPolicy", copy) : -1;
	}
	return r ? berth_error_set(err, ENOMEM, "out of memory") : 0;
}

/* dockerd's toContainerdResources: the OCI linux.resources of an update (0: left alone). */
static json_t *update_resources(const json_t *u)
{
	json_t *res = json_object(), *cpu = json_object(), *mem = json_object();
	int64_t nano = hc_int(u, "NanoCpus"), period = 0, quota = 0;
	int r = 0;

	if (!res || !cpu || !mem) {
		json_decref(res);
		json_decref(cpu);
		json_decref(mem);
		return NULL;
	}
	if (hc_int(u, "BlkioWeight") != 0)
		r |= json_object_set_new(
			res, "blockIO",
			json_pack("{s:I}", "weight", (json_int_t)hc_int(u, "BlkioWeight")));
	if (*hc_str(u, "CpusetCpus"))
		r |= json_object_set_new(cpu, "cpus", json_string(hc_str(u, "CpusetCpus")));
	if (*hc_str(u, "CpusetMems"))
		r |= json_object_set_new(cpu, "mems", json_string(hc_str(u, "CpusetMems")));
	if (hc_int(u, "CpuShares") != 0)
		r |= json_object_set_new(cpu, "shares", json_integer(hc_int(u, "CpuShares")));
	if (nano != 0) {
		period = 100000;
		quota = nano * period / 1000000000LL;
	}
	if (quota == 0 && hc_int(u, "CpuQuota") != 0)
		quota = hc_int(u, "CpuQuota");
	if (period == 0 && hc_int(u, "CpuPeriod") != 0)
		period = hc_int(u, "CpuPeriod");
	if (period != 0)
		r |= json_object_set_new(cpu, "period", json_integer(period));
	if (quota != 0)
		r |= json_object_set_new(cpu, "quota", json_integer(quota));
	if (hc_int(u, "Memory") != 0)
		r |= json_object_set_new(mem, "limit", json_integer(hc_int(u, "Memory")));
	if (hc_int(u, "MemoryReservation") != 0)
		r |= json_object_set_new(mem, "reservation",
					 json_integer(hc_int(u, "MemoryReservation")));
	if (hc_int(u, "MemorySwap") > 0)
		r |= json_object_set_new(mem, "swap", json_integer(hc_int(u, "MemorySwap")));
	if (json_is_integer(json_object_get(u, "PidsLimit"))) {
		int64_t p = hc_int(u, "PidsLimit");
		r |= json_object_set_new(res, "pids", json_pack("{s:I}", "limit", p > 0 ? p : -1));
	}
	if (json_object_size(cpu))
		r |= json_object_set(res, "cpu", cpu);
	if (json_object_size(mem))
		r |= json_object_set(res, "memory", mem);
	json_decref(cpu);
	json_decref(mem);
	if (r) {
		json_decref(res);
		return NULL;
	}
	return res;
}

static void container_update(struct berth_http_request *req, void *userdata)
{
	struct berthd *d = userdata;
	_cleanup_error_ struct berth_error *e = NULL;
	_cleanup_json_ json_t *body = NULL, *u = NULL, *warnings = NULL, *hc = NULL, *old = NULL,
			      *res = NULL;
	struct daemon_container *c = NULL;
	bool apply;
	int r;

	if (berth_http_read_json(req, UPDATE_BODY_MAX, &body) < 0)
		return;
	if (berth_dockerspec_update_normalize(body, berth_http_api_version_string(req),
					      &d->containers.host, &u, &warnings, &e) < 0) {
		berth_http_respond_berror(req, e);
		return;
	}
	if (ctr_get(d, berth_http_param(req, "name"), &c, &e) < 0) {
		berth_http_respond_berror(req, e);
		return;
	}
	pthread_mutex_lock(&change_lock);
	pthread_mutex_lock(&d->lock);
	if (c->removing || c->dead) {
		r = berth_error_set(
			&e, EIO,
			"Cannot update container %s: container is marked for removal and "
			"cannot be \"update\"",
			c->id);
		goto unlock;
	}
	hc = json_deep_copy(c->host_config);
	if (!hc) {
		r = berth_error_set(&e, ENOMEM, "out of memory");
		goto unlock;
	}
	r = merge_update(hc, u, c->id, &e);
	if (r < 0)
		goto unlock;
	old = c->host_config;
	c->host_config = json_incref(hc);
	r = ctr_save_locked(d, c, &e);
	if (r < 0) {
		json_decref(c->host_config);
		c->host_config = TAKE_PTR(old);
		berth_error_wrap(&e, "Cannot update container %s", c->id);
		goto unlock;
	}
	apply = c->running && !c->restarting;
	pthread_mutex_unlock(&d->lock);

	if (apply) {
		_cleanup_container_ struct berth_container *rc = NULL;
		_cleanup_error_ struct berth_error *ue = NULL;

		res = update_resources(u);
		r = res ? 0 : berth_error_set(&ue, ENOMEM, "out of memory");
		if (r == 0 && json_object_size(res))
			r = ctr_runtime_load(d, c->id, &rc, &ue);
		if (r == 0 && json_object_size(res))
			r = berth_container_update(rc, res, &ue);
		if (r < 0) {
			/* nothing half-done: the record goes back to what it was */
			pthread_mutex_lock(&d->lock);
			if (!c->removing && !c->dead) {
				json_decref(c->host_config);
				c->host_config = TAKE_PTR(old);
				ctr_save_locked(d, c, NULL);
			}
			berth_error_set(&e, EIO, "Cannot update container %s: %s", c->id,
					ue ? ue->msg : "?");
			goto unlock;
		}
	}
	pthread_mutex_lock(&d->lock);
	ctr_event_locked(d, c, "update", NULL, 0);
	r = 0;
unlock:
	pthread_mutex_unlock(&d->lock);
	pthread_mutex_unlock(&change_lock);
	ctr_unref(d, c);
	if (r < 0) {
		berth_http_respond_berror(req, e);
		return;
	}
	_cleanup_json_ json_t *ans =
		json_pack("{s:O}", "Warnings", json_array_size(warnings) ? warnings : json_null());
	berth_http_respond_json(req, 200, ans);
}

int ctr_routes_update(struct berthd *d, struct berth_error **err)
{
	int r = 0;

	r = r
		    ?: berth_api_router_add(d->router, "POST", "/containers/{name}/pause",
					    container_pause, d, err);
	r = r
		    ?: berth_api_router_add(d->router, "POST", "/containers/{name}/unpause",
					    container_unpause, d, err);
	r = r
		    ?: berth_api_router_add(d->router, "POST", "/containers/{name}/update",
					    container_update, d, err);
	return r;
}
