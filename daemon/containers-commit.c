/* SPDX-License-Identifier: Apache-2.0 */
/*
 * POST /commit (docker commit): the container's writable layer becomes a layer on top of its
 * image's, with a config made as dockerd's CreateImageFromContainer makes it -- the request's
 * config (or the container's), the changes= Dockerfile instructions applied to it, then merged
 * with the container's config (daemon/commit.go's merge) -- and a history row.  pause (default
 * true from API 1.13) freezes the container's cgroup for the time the layer is read.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cgroup/cgroup.h"
#include "containers-internal.h"
#include "images-internal.h"

#include "base/banned.h"

/* ---- the freezer ------------------------------------------------------------------------ */

/* ---- the config ------------------------------------------------------------------------- */

static const char *env_key_len(const char *kv, size_t *n)
{
	const char *eq = strchr(kv, '=');
	*n = eq ? (size_t)(eq - kv) : strlen(kv);
	return kv;
}

static bool empty(const json_t *v)
{
	return !v || json_is_null(v) || (json_is_array(v) && json_array_size(v) == 0) ||
	       (json_is_object(v) && json_object_size(v) == 0) ||
	       (json_is_string(v) && !*json_string_value(v));
}

/* dockerd's merge(userConf, imageConf) in daemon/commit.go, on docker's Config JSON */
static void merge(json_t *u, const json_t *img)
{
	const char *k;
	json_t *v;

	if (empty(json_object_get(u, "User")))
		json_object_set(u, "User", json_object_get(img, "User") ?: json_string(""));
	if (empty(json_object_get(u, "ExposedPorts"))) {
		if (json_object_get(img, "ExposedPorts"))
			json_object_set_new(u, "ExposedPorts",
					    json_deep_copy(json_object_get(img, "ExposedPorts")));
	} else {
		json_object_foreach ((json_t *)json_object_get(img, "ExposedPorts"), k, v)
			if (!json_object_get(json_object_get(u, "ExposedPorts"), k))
				json_object_set_new(json_object_get(u, "ExposedPorts"), k,
						    json_object());
	}
	if (empty(json_object_get(u, "Env"))) {
		if (json_object_get(img, "Env"))
			json_object_set_new(u, "Env", json_deep_copy(json_object_get(img, "Env")));
	} else {
		json_t *uenv = json_object_get(u, "Env");
		size_t i, nu = json_array_size(uenv);
		json_array_foreach (json_object_get(img, "Env"), i, v) {
			size_t n, m;
			const char *ik = env_key_len(json_string_value(v) ?: "", &n);
			bool found = false;
			for (size_t x = 0; x < nu && !found; x++) {
				const char *uk = env_key_len(
					json_string_value(json_array_get(uenv, x)) ?: "", &m);
				found = n == m && strncmp(ik, uk, n) == 0;
			}
			if (!found)
				json_array_append(uenv, v);
		}
	}
	if (!json_is_object(json_object_get(u, "Labels")))
		json_object_set_new(u, "Labels", json_object());
	json_object_foreach ((json_t *)json_object_get(img, "Labels"), k, v)
		if (!json_object_get(json_object_get(u, "Labels"), k))
			json_object_set(json_object_get(u, "Labels"), k, v);
	if (empty(json_object_get(u, "Entrypoint"))) {
		if (empty(json_object_get(u, "Cmd"))) {
			if (json_object_get(img, "Cmd"))
				json_object_set(u, "Cmd", json_object_get(img, "Cmd"));
			if (json_object_get(img, "Shell"))
				json_object_set(u, "Shell", json_object_get(img, "Shell"));
		}
		if (json_is_null(json_object_get(u, "Entrypoint")) ||
		    !json_object_get(u, "Entrypoint"))
			if (json_object_get(img, "Entrypoint"))
				json_object_set(u, "Entrypoint",
						json_object_get(img, "Entrypoint"));
	}
	if (empty(json_object_get(u, "Healthcheck")) && json_object_get(img, "Healthcheck"))
		json_object_set(u, "Healthcheck", json_object_get(img, "Healthcheck"));
	if (empty(json_object_get(u, "WorkingDir")) && json_object_get(img, "WorkingDir"))
		json_object_set(u, "WorkingDir", json_object_get(img, "WorkingDir"));
	if (empty(json_object_get(u, "Volumes"))) {
		if (json_object_get(img, "Volumes"))
			json_object_set_new(u, "Volumes",
					    json_deep_copy(json_object_get(img, "Volumes")));
	} else {
		json_object_foreach ((json_t *)json_object_get(img, "Volumes"), k, v)
			json_object_set(json_object_get(u, "Volumes"), k, v);
	}
	if (empty(json_object_get(u, "StopSignal")) && json_object_get(img, "StopSignal"))
		json_object_set(u, "StopSignal", json_object_get(img, "StopSignal"));
}

/* strings.Join(Cmd, " ") of the container's config: the history row's created_by */
static char *join_cmd(const json_t *cfg)
{
	const json_t *cmd = json_object_get(cfg, "Cmd");
	size_t i, len = 1;
	json_t *v;
	char *out, *o;

	json_array_foreach (cmd, i, v)
		len += strlen(json_string_value(v) ?: "") + 1;
	out = o = malloc(len);
	if (!out)
		return NULL;
	json_array_foreach (cmd, i, v) {
		const char *s = json_string_value(v) ?: "";
		if (i)
			*o++ = ' ';
		memcpy(o, s, strlen(s));
		o += strlen(s);
	}
	*o = '\0';
	return out;
}

/* dockerd's image.NewChildImage */
static json_t *child_config(const json_t *parent, json_t *config, const json_t *ctr_config,
			    const char *ctr_id, const char *author, const char *comment,
			    const char *diff_id)
{
	_cleanup_free_ char *now_raw = berth_rfc3339_now();
	_cleanup_free_ char *now = now_raw ? images_go_time(now_raw) : NULL;
	_cleanup_free_ char *created_by = join_cmd(ctr_config);
	json_t *c, *hist, *row, *diffs;

	if (!now || !created_by)
		return NULL;
	hist = json_deep_copy(json_object_get(parent, "history")) ?: json_array();
	if (!json_is_array(hist)) {
		json_decref(hist);
		hist = json_array();
	}
	row = json_pack("{s:s}", "created", now);
	if (row && author && *author)
		json_object_set_new(row, "author", json_string(author));
	if (row)
		json_object_set_new(row, "created_by", json_string(created_by));
	if (row && comment && *comment)
		json_object_set_new(row, "comment", json_string(comment));
	if (row && !diff_id)
		json_object_set_new(row, "empty_layer", json_true());
	json_array_append_new(hist, row);
	diffs = json_deep_copy(json_object_get(json_object_get(parent, "rootfs"), "diff_ids"));
	if (!json_is_array(diffs)) {
		json_decref(diffs);
		diffs = json_array();
	}
	if (diff_id)
		json_array_append_new(diffs, json_string(diff_id));
	c = json_pack("{s:s?}", "architecture",
		      json_string_value(json_object_get(parent, "architecture")));
	if (!c || !hist || !diffs) {
		json_decref(c);
		json_decref(hist);
		json_decref(diffs);
		return NULL;
	}
	if (author && *author)
		json_object_set_new(c, "author", json_string(author));
	json_object_set(c, "config", config);
	json_object_set_new(c, "container", json_string(ctr_id));
	json_object_set_new(c, "container_config", daemon_container_config_json(ctr_config));
	json_object_set_new(c, "created", json_string(now));
	json_object_set_new(c, "docker_version", json_string(BERTH_VERSION));
	json_object_set_new(c, "history", hist);
	json_object_set(c, "os", json_object_get(parent, "os") ?: json_string("linux"));
	if (json_object_get(parent, "variant"))
		json_object_set(c, "variant", json_object_get(parent, "variant"));
	json_object_set_new(c, "rootfs",
			    json_pack("{s:s,s:o}", "type", "layers", "diff_ids", diffs));
	return c;
}

/* ---- POST /commit ----------------------------------------------------------------------- */

struct commit_req {
	const char *ref;
	char *tag_ref; /* the full name:tag, or NULL */
	const char *author, *comment;
	bool pause;
	json_t *body_config; /* may be NULL */
	char *const *changes;
	size_t n_changes;
};

static int commit(struct berthd *d, struct daemon_container *c, const struct commit_req *q,
		  char **ret_id, struct berth_error **err)
{
	_cleanup_json_ json_t *ctr_config = NULL, *config = NULL, *parent = NULL, *img = NULL;
	_cleanup_free_ char *image_id = NULL, *top = NULL, *upper = NULL, *text = NULL;
	_cleanup_free_ char *digest = NULL, *id = NULL;
	_cleanup_close_ int ufd = -EBADF;
	struct berth_image_lease *lease = NULL;
	struct berth_layer_info *layer = NULL;
	bool frozen = false;
	pid_t pid = 0;
	int r;

	pthread_mutex_lock(&d->lock);
	if (c->removing) {
		pthread_mutex_unlock(&d->lock);
		return berth_error_set(
			err, EBUSY, "You cannot commit container %s which is being removed", c->id);
	}
	if (c->dead) {
		pthread_mutex_unlock(&d->lock);
		return berth_error_set(err, EBUSY, "You cannot commit container %s which is dead",
				       c->id);
	}
	ctr_config = json_deep_copy(c->config);
	image_id = strdup(c->image_id ?: "");
	top = c->top_layer ? strdup(c->top_layer) : NULL;
	if (q->pause && c->running && !c->paused)
		pid = c->pid;
	pthread_mutex_unlock(&d->lock);
	if (!ctr_config || !image_id || (c->top_layer && !top))
		return berth_error_set(err, ENOMEM, "out of memory");

	r = daemon_image_changes_on(q->body_config ?: ctr_config, q->changes, q->n_changes, &config,
				    err);
	if (r < 0)
		return r;
	merge(config, ctr_config);
	r = berth_image_config(d->images.store, image_id, &parent, err);
	if (r < 0)
		return r;

	if (pid > 0) {
		r = ctr_freeze(d, c->id, true, err);
		if (r < 0)
			return berth_error_wrap(err, "pause the container"), r;
		frozen = true;
		pthread_mutex_lock(&d->lock);
		ctr_event_locked(d, c, "pause", NULL, 0);
		pthread_mutex_unlock(&d->lock);
	}
	r = berth_image_lease_new(d->images.store, &lease, err);
	if (r == 0 && asprintf(&upper, "%s/upper", c->dir) < 0)
		r = berth_error_set(err, ENOMEM, "out of memory");
	/* a container never started has no upper directory yet: no changes, no layer */
	if (r == 0 && (ufd = open(upper, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 &&
	    errno != ENOENT)
		r = berth_error_sys(err, errno, "open '%s'", upper);
	if (r == 0 && ufd >= 0)
		r = berth_layer_create_from_diff(d->images.store, ufd, top, lease, &layer, err);
	if (frozen) {
		struct berth_error *te = NULL;
		if (ctr_freeze(d, c->id, false, &te) < 0) {
			log_error("commit: thaw container %s: %s", c->id, te ? te->msg : "?");
			berth_error_free(te);
		}
		pthread_mutex_lock(&d->lock);
		ctr_event_locked(d, c, "unpause", NULL, 0);
		pthread_mutex_unlock(&d->lock);
	}
	if (r == 0) {
		img = child_config(parent, config, ctr_config, c->id, q->author, q->comment,
				   layer ? layer->diff_id : NULL);
		text = img ? json_dumps(img, JSON_COMPACT) : NULL;
		if (!text)
			r = berth_error_set(err, ENOMEM, "out of memory");
	}
	if (r == 0)
		r = berth_blob_write(d->images.store, text, strlen(text), NULL, lease, &digest,
				     err);
	if (r == 0)
		r = berth_image_add(d->images.store, digest, image_id, &id, err);
	if (r == 0 && q->tag_ref)
		r = berth_image_tag(d->images.store, id, q->tag_ref, err);
	berth_layer_info_free(layer);
	if (lease)
		berth_image_lease_release(lease, r < 0);
	if (r < 0)
		return r;
	*ret_id = TAKE_PTR(id);
	return 0;
}

static void post_commit(struct berth_http_request *req, void *userdata)
{
	struct berthd *d = userdata;
	const char *name = berth_http_query(req, "container");
	_cleanup_error_ struct berth_error *e = NULL;
	_cleanup_free_ char *id = NULL, *fam = NULL;
	_cleanup_json_ json_t *body = NULL, *ans = NULL;
	struct commit_req q = {0};
	struct daemon_container *c;
	const char *const *changes = berth_http_query_all(req, "changes");
	const char *pause = berth_http_query(req, "pause");

	if (berth_http_read_json(req, 8 << 20, &body) < 0)
		return;
	if (body && !json_is_object(body)) {
		berth_http_respond_error(req, 400, "invalid JSON: the config must be an object");
		return;
	}
	q.body_config = body;
	q.author = berth_http_query(req, "author");
	q.comment = berth_http_query(req, "comment");
	q.changes = (char *const *)changes;
	q.n_changes = changes ? berth_strv_length((char *const *)changes) : 0;
	q.pause = berth_http_query_bool(req, "pause");
	if ((!pause || !*pause) && berth_http_api_version(req) >= BERTH_API_VERSION(1, 13))
		q.pause = true;
	if (images_repo_tag(berth_http_query(req, "repo"), berth_http_query(req, "tag"), &q.tag_ref,
			    &e) < 0) {
		berth_http_respond_berror(req, e);
		return;
	}
	if (ctr_get(d, name ? name : "", &c, &e) < 0) {
		free(q.tag_ref);
		berth_http_respond_berror(req, e);
		return;
	}
	/* the gate: no rm, start or stop while the layer is read (docker holds the container) */
	if (ctr_gate_enter(d, c) < 0) {
		ctr_unref(d, c);
		free(q.tag_ref);
		berth_http_respond_error(req, 404, "No such container: %s", name);
		return;
	}
	int r = commit(d, c, &q, &id, &e);
	ctr_gate_leave(d, c);
	if (r < 0) {
		ctr_unref(d, c);
		free(q.tag_ref);
		berth_http_respond_berror(req, e);
		return;
	}
	fam = q.tag_ref ? images_familiar(q.tag_ref) : NULL;
	{
		struct berth_key_value kv[] = {
			{"comment", (char *)(q.comment ?: "")},
			{"imageID", id},
			{"imageRef", fam ?: ""},
		};
		pthread_mutex_lock(&d->lock);
		ctr_event_locked(d, c, "commit", kv, 3);
		pthread_mutex_unlock(&d->lock);
	}
	ctr_unref(d, c);
	if (fam)
		images_event(d, "tag", id, fam, NULL);
	daemon_images_update_count(d);
	free(q.tag_ref);
	ans = json_pack("{s:s}", "Id", id);
	berth_http_respond_json(req, 201, ans);
}

int ctr_routes_commit(struct berthd *d, struct berth_error **err)
{
	return berth_api_router_add(d->router, "POST", "/commit", post_commit, d, err);
}
