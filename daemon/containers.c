/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The container table and records: lookup as docker's GetContainer, references and the
 * operation gate, records on disk (containers/<id>/config.json, written whole), create (the
 * record made in containers/.tmp-<id> and renamed into place), rm (renamed to .trash-<id>
 * first), rename, the image users snapshot, /info's counts and container events.
 * docs/daemon.md describes the layout and the rules.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "containers-internal.h"
#include "base/banned.h"

#define RECORD_MAX (16 << 20)

/* ---- time ------------------------------------------------------------------------------- */

int64_t ctr_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

char *ctr_time_string(int64_t ns)
{
	time_t sec = (time_t)(ns / 1000000000LL);
	long nsec = (long)(ns % 1000000000LL);
	char frac[16] = "", *out = NULL;
	struct tm tm;

	if (ns <= 0)
		return strdup("0001-01-01T00:00:00Z");
	gmtime_r(&sec, &tm);
	if (nsec) {
		int n = snprintf(frac, sizeof(frac), ".%09ld", nsec);
		while (n > 1 && frac[n - 1] == '0')
			frac[--n] = '\0';
	}
	if (asprintf(&out, "%04d-%02d-%02dT%02d:%02d:%02d%sZ", tm.tm_year + 1900, tm.tm_mon + 1,
		     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac) < 0)
		return NULL;
	return out;
}

int64_t ctr_parse_time(const char *s)
{
	int64_t ns = 0;

	/* Go's zero time (State.FinishedAt of a container that never ran) is "not set" */
	if (!s || berth_str_has_prefix(s, "0001-01-01T") ||
	    berth_api_parse_time(s, 0, &ns, NULL) < 0 || ns < 0)
		return 0;
	return ns;
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* ---- references and the table ------------------------------------------------------------ */

static void attach_free_all(struct ctr_attach *a)
{
	while (a) {
		struct ctr_attach *next = a->next;
		if (a->fd >= 0)
			close(a->fd);
		free(a->pending);
		free(a);
		a = next;
	}
}

static void ctr_free(struct daemon_container *c)
{
	if (!c)
		return;
	ctr_health_free(c);
	free(c->id);
	free(c->name);
	free(c->created);
	free(c->dir);
	free(c->log_path);
	json_decref(c->config);
	json_decref(c->host_config);
	json_decref(c->networking_config);
	free(c->path);
	json_decref(c->args);
	free(c->image_id);
	free(c->netns_path);
	free(c->joined_netns);
	json_decref(c->link_env);
	free(c->net_files_dir);
	free(c->cgroup_path);
	free(c->detached_mode);
	json_decref(c->net_settings);
	free(c->net_settings_text);
	json_decref(c->mount_points);
	free(c->top_layer);
	free(c->error);
	free(c->started_at);
	free(c->finished_at);
	attach_free_all(c->attaches);
	pthread_cond_destroy(&c->cond);
	free(c);
}

struct daemon_container *ctr_ref(struct daemon_container *c)
{
	c->refs++;
	return c;
}

void ctr_unref_locked(struct berthd *d, struct daemon_container *c)
{
	(void)d;
	if (c && --c->refs == 0)
		ctr_free(c);
}

void ctr_unref(struct berthd *d, struct daemon_container *c)
{
	if (!c)
		return;
	pthread_mutex_lock(&d->lock);
	ctr_unref_locked(d, c);
	pthread_mutex_unlock(&d->lock);
}

static struct daemon_container *ctr_new(void)
{
	struct daemon_container *c = calloc(1, sizeof(*c));
	pthread_condattr_t ca;

	if (!c)
		return NULL;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&c->cond, &ca);
	pthread_condattr_destroy(&ca);
	c->refs = 1;
	return c;
}

static int table_add_locked(struct berthd *d, struct daemon_container *c)
{
	struct daemon_containers *t = &d->containers;

	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 32;
		struct daemon_container **v = realloc(t->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		t->v = v;
		t->cap = cap;
	}
	t->v[t->n++] = c;
	return 0;
}

static void table_remove_locked(struct berthd *d, struct daemon_container *c)
{
	struct daemon_containers *t = &d->containers;

	for (size_t i = 0; i < t->n; i++)
		if (t->v[i] == c) {
			memmove(&t->v[i], &t->v[i + 1], (t->n - i - 1) * sizeof(*t->v));
			t->n--;
			c->removed = true;
			daemon_exec_drop_locked(d, c);
			pthread_cond_broadcast(&c->cond);
			ctr_unref_locked(d, c);
			return;
		}
}

static bool name_eq(const char *stored, const char *ref)
{
	return strcmp(stored + 1, ref[0] == '/' ? ref + 1 : ref) == 0;
}

struct daemon_container *ctr_find_locked(struct berthd *d, const char *ref, bool *ret_ambiguous)
{
	struct daemon_containers *t = &d->containers;
	struct daemon_container *found = NULL;
	size_t len = strlen(ref);

	if (ret_ambiguous)
		*ret_ambiguous = false;
	if (len == 0)
		return NULL;
	for (size_t i = 0; i < t->n; i++)
		if (strcmp(t->v[i]->id, ref) == 0)
			return t->v[i];
	for (size_t i = 0; i < t->n; i++)
		if (name_eq(t->v[i]->name, ref))
			return t->v[i];
	for (size_t i = 0; i < t->n; i++) {
		if (strncmp(t->v[i]->id, ref, len) != 0)
			continue;
		if (found) {
			if (ret_ambiguous)
				*ret_ambiguous = true;
			return NULL;
		}
		found = t->v[i];
	}
	return found;
}

int ctr_get(struct berthd *d, const char *ref, struct daemon_container **ret,
	    struct berth_error **err)
{
	struct daemon_container *c;
	bool ambiguous;

	pthread_mutex_lock(&d->lock);
	c = ctr_find_locked(d, ref, &ambiguous);
	if (c)
		ctr_ref(c);
	pthread_mutex_unlock(&d->lock);
	if (ambiguous)
		return berth_error_set(err, EINVAL, "multiple IDs found with provided prefix: %s",
				       ref);
	if (!c)
		return berth_error_set(err, ENOENT, "No such container: %s", ref);
	*ret = c;
	return 0;
}

int ctr_gate_enter(struct berthd *d, struct daemon_container *c)
{
	pthread_mutex_lock(&d->lock);
	while (c->busy && !c->removed)
		pthread_cond_wait(&c->cond, &d->lock);
	if (c->removed) {
		pthread_mutex_unlock(&d->lock);
		return -ENOENT;
	}
	c->busy = true;
	pthread_mutex_unlock(&d->lock);
	return 0;
}

void ctr_gate_leave(struct berthd *d, struct daemon_container *c)
{
	pthread_mutex_lock(&d->lock);
	c->busy = false;
	pthread_cond_broadcast(&c->cond);
	pthread_mutex_unlock(&d->lock);
}

int ctr_cond_wait_until(struct berthd *d, struct daemon_container *c, int64_t deadline_ns)
{
	struct timespec ts;

	if (deadline_ns <= 0)
		return pthread_cond_wait(&c->cond, &d->lock);
	ts.tv_sec = (time_t)(deadline_ns / 1000000000LL);
	ts.tv_nsec = (long)(deadline_ns % 1000000000LL);
	return pthread_cond_timedwait(&c->cond, &d->lock, &ts);
}

/* ---- state words and counts --------------------------------------------------------------- */

const char *ctr_status_locked(const struct daemon_container *c)
{
	if (c->running) {
		if (c->paused)
			return "paused";
		if (c->restarting)
			return "restarting";
		return "running";
	}
	if (c->removing)
		return "removing";
	if (c->dead)
		return "dead";
	if (!c->started_at)
		return "created";
	return "exited";
}

void ctr_recount_locked(struct berthd *d)
{
	struct daemon_counts *k = &d->counts;

	k->containers = (unsigned)d->containers.n;
	k->running = k->paused = k->stopped = 0;
	for (size_t i = 0; i < d->containers.n; i++) {
		struct daemon_container *c = d->containers.v[i];
		if (c->running && c->paused)
			k->paused++;
		else if (c->running)
			k->running++;
		else
			k->stopped++;
	}
}

/* ---- events --------------------------------------------------------------------------------- */

void ctr_event_locked(struct berthd *d, struct daemon_container *c, const char *action,
		      const struct berth_key_value *extra, size_t n_extra)
{
	const json_t *labels = json_object_get(c->config, "Labels");
	size_t n = 2 + n_extra + json_object_size(labels), k = 0;
	struct berth_key_value *kv = calloc(n, sizeof(*kv));
	const char *key;
	json_t *v;

	if (!kv)
		return;
	for (size_t i = 0; i < n_extra; i++)
		kv[k++] = extra[i];
	/* docker's attributes: the image as the user named it, the name, the labels */
	kv[k++] = (struct berth_key_value){
		"image", (char *)json_string_value(json_object_get(c->config, "Image"))};
	if (!kv[k - 1].value)
		kv[k - 1].value = c->image_id;
	kv[k++] = (struct berth_key_value){"name", c->name + 1};
	json_object_foreach ((json_t *)labels, key, v) {
		if (json_is_string(v))
			kv[k++] =
				(struct berth_key_value){(char *)key, (char *)json_string_value(v)};
	}
	daemon_event_emit_locked(d, "container", action, c->id, kv, k);
	free(kv);
}

/* ---- records ---------------------------------------------------------------------------------- */

static json_t *str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *record_json_locked(const struct daemon_container *c)
{
	json_t *state = json_pack(
		"{s:b,s:b,s:b,s:b,s:b,s:i,s:i,s:s,s:s,s:s}", "Running", c->running, "Paused",
		c->paused, "Restarting", c->restarting, "OOMKilled", c->oom_killed, "Dead", c->dead,
		"Pid", (int)c->pid, "ExitCode", c->exit_code, "Error", c->error ? c->error : "",
		"StartedAt", c->started_at ? c->started_at : "0001-01-01T00:00:00Z", "FinishedAt",
		c->finished_at ? c->finished_at : "0001-01-01T00:00:00Z");
	json_t *j = json_object();

	if (!state || !j) {
		json_decref(state);
		json_decref(j);
		return NULL;
	}
	json_object_set_new(j, "ID", json_string(c->id));
	json_object_set_new(j, "Created", json_string(c->created));
	json_object_set_new(j, "Path", json_string(c->path ? c->path : ""));
	json_object_set(j, "Args", c->args ? c->args : json_array());
	json_t *health = ctr_health_json_locked(c);
	if (health)
		json_object_set_new(state, "Health", health);
	json_object_set_new(j, "State", state);
	json_object_set_new(j, "Image", json_string(c->image_id));
	json_object_set_new(j, "Name", json_string(c->name));
	json_object_set_new(j, "RestartCount", json_integer(c->restart_count));
	json_object_set_new(j, "HasBeenManuallyStopped", json_boolean(c->manually_stopped));
	json_object_set_new(j, "RestartTimeoutMs", json_integer(c->restart_timeout_ms));
	json_object_set_new(j, "Driver", json_string("overlay2"));
	json_object_set_new(j, "TopLayer", str_or_null(c->top_layer));
	json_object_set_new(j, "LogPath", json_string(c->log_path ? c->log_path : ""));
	json_object_set(j, "Config", c->config);
	json_object_set(j, "HostConfig", c->host_config);
	json_object_set(j, "NetworkingConfig", c->networking_config);
	json_object_set(j, "MountPoints", c->mount_points ? c->mount_points : json_array());
	if (c->netns_path || c->net_settings)
		json_object_set_new(j, "NetworkSettings",
				    json_pack("{s:s?, s:O?}", "SandboxKey", c->netns_path,
					      "Networks", c->net_settings));
	return j;
}

static int write_record(const char *dir, json_t *rec, struct berth_error **err)
{
	_cleanup_free_ char *text = json_dumps(rec, JSON_COMPACT);
	_cleanup_free_ char *path = NULL;

	if (!text || asprintf(&path, "%s/config.json", dir) < 0)
		return berth_error_set(err, ENOMEM, "out of memory");
	return berth_write_file_atomic_at(AT_FDCWD, path, text, strlen(text), 0600, err);
}

int ctr_save_locked(struct berthd *d, struct daemon_container *c, struct berth_error **err)
{
	_cleanup_json_ json_t *rec = NULL;

	if (c->removed || c->removing)
		return 0;
	rec = record_json_locked(c);
	if (!rec)
		return berth_error_set(err, ENOMEM, "out of memory");
	return write_record(c->dir, rec, err);
}

static char *dup_time(const json_t *state, const char *key)
{
	const char *s = json_string_value(json_object_get(state, key));

	if (!s || ctr_parse_time(s) <= 0)
		return NULL;
	return strdup(s);
}

static struct daemon_container *ctr_from_record(struct berthd *d, const char *dir, json_t *rec)
{
	const json_t *state = json_object_get(rec, "State");
	const char *id = json_string_value(json_object_get(rec, "ID"));
	const char *name = json_string_value(json_object_get(rec, "Name"));
	const char *image = json_string_value(json_object_get(rec, "Image"));
	const char *created = json_string_value(json_object_get(rec, "Created"));
	struct daemon_container *c;

	if (!id || strlen(id) != CTR_ID_LEN || !name || name[0] != '/' || !image || !created ||
	    !json_is_object(json_object_get(rec, "Config")) ||
	    !json_is_object(json_object_get(rec, "HostConfig")))
		return NULL;
	c = ctr_new();
	if (!c)
		return NULL;
	c->id = strdup(id);
	c->name = strdup(name);
	c->created = strdup(created);
	c->created_ns = ctr_parse_time(created);
	c->dir = strdup(dir);
	const char *lp = json_string_value(json_object_get(rec, "LogPath"));
	c->log_path = lp && *lp ? strdup(lp) : NULL;
	c->config = json_incref(json_object_get(rec, "Config"));
	c->host_config = json_incref(json_object_get(rec, "HostConfig"));
	c->networking_config = json_incref(json_object_get(rec, "NetworkingConfig"));
	if (!c->networking_config)
		c->networking_config = json_object();
	c->path = strdup(json_string_value(json_object_get(rec, "Path")) ?: "");
	c->args = json_incref(json_object_get(rec, "Args"));
	if (!json_is_array(c->args)) {
		json_decref(c->args);
		c->args = json_array();
	}
	c->image_id = strdup(image);
	const char *top = json_string_value(json_object_get(rec, "TopLayer"));
	c->top_layer = top ? strdup(top) : NULL;
	c->running = json_is_true(json_object_get(state, "Running"));
	c->restarting = json_is_true(json_object_get(state, "Restarting"));
	c->paused = json_is_true(json_object_get(state, "Paused"));
	c->oom_killed = json_is_true(json_object_get(state, "OOMKilled"));
	c->dead = json_is_true(json_object_get(state, "Dead"));
	c->pid = (pid_t)json_integer_value(json_object_get(state, "Pid"));
	c->exit_code = (int)json_integer_value(json_object_get(state, "ExitCode"));
	const char *e = json_string_value(json_object_get(state, "Error"));
	c->error = e && *e ? strdup(e) : NULL;
	c->started_at = dup_time(state, "StartedAt");
	c->finished_at = dup_time(state, "FinishedAt");
	c->started_ns = ctr_parse_time(c->started_at);
	c->restart_count = (int)json_integer_value(json_object_get(rec, "RestartCount"));
	c->manually_stopped = json_is_true(json_object_get(rec, "HasBeenManuallyStopped"));
	c->restart_timeout_ms = json_integer_value(json_object_get(rec, "RestartTimeoutMs"));
	ctr_health_load(c, state);
	c->mount_points = json_is_array(json_object_get(rec, "MountPoints"))
				  ? json_incref(json_object_get(rec, "MountPoints"))
				  : json_array();
	const json_t *ns = json_object_get(rec, "NetworkSettings");
	const char *sk = json_string_value(json_object_get(ns, "SandboxKey"));
	c->netns_path = sk ? strdup(sk) : NULL;
	if (json_is_object(json_object_get(ns, "Networks")))
		c->net_settings = json_incref(json_object_get(ns, "Networks"));
	if (!c->id || !c->name || !c->created || !c->dir || !c->path || !c->image_id ||
	    (top && !c->top_layer)) {
		ctr_free(c);
		return NULL;
	}
	(void)d;
	return c;
}

/* ---- opening: the records on disk ------------------------------------------------------------ */

static char *containers_root(struct berthd *d)
{
	char *p = NULL;

	if (asprintf(&p, "%s/containers", d->config.data_root) < 0)
		return NULL;
	return p;
}

/* A create or rm cut short: .tmp-<id> (never made whole) and .trash-<id> (being removed). */
static void remove_leftover(struct berthd *d, const char *root, const char *name)
{
	_cleanup_free_ char *path = NULL;
	_cleanup_error_ struct berth_error *e = NULL;

	if (asprintf(&path, "%s/%s", root, name) < 0)
		return;
	berth_rootfs_remove(path, NULL);
	if (berth_rm_rf(path, &e) < 0)
		log_warn("remove '%s': %s", path, e ? e->msg : "?");
	else
		log_info("removed '%s' (left by an operation cut short)", path);
	(void)d;
}

static int load_records(struct berthd *d, struct berth_error **err)
{
	_cleanup_free_ char *root = containers_root(d);
	_cleanup_closedir_ DIR *dir = NULL;
	struct dirent *de;

	if (!root)
		return berth_error_set(err, ENOMEM, "out of memory");
	if (berth_mkdir_p(root, 0710, err) < 0)
		return berth_error_wrap(err, "containers directory");
	dir = opendir(root);
	if (!dir)
		return berth_error_sys(err, errno, "open '%s'", root);
	while ((de = readdir(dir))) {
		_cleanup_free_ char *cdir = NULL, *rec_path = NULL;
		_cleanup_json_ json_t *rec = NULL;
		_cleanup_error_ struct berth_error *e = NULL;
		struct daemon_container *c;

		if (de->d_name[0] == '.') {
			if (berth_str_has_prefix(de->d_name, ".tmp-") ||
			    berth_str_has_prefix(de->d_name, ".trash-"))
				remove_leftover(d, root, de->d_name);
			continue;
		}
		if (asprintf(&cdir, "%s/%s", root, de->d_name) < 0 ||
		    asprintf(&rec_path, "%s/config.json", cdir) < 0)
			return berth_error_set(err, ENOMEM, "out of memory");
		if (berth_json_load_file(rec_path, RECORD_MAX, &rec, &e) < 0) {
			log_warn("container '%s' skipped: %s", de->d_name, e ? e->msg : "?");
			continue;
		}
		c = ctr_from_record(d, cdir, rec);
		if (!c || strcmp(c->id, de->d_name) != 0) {
			log_warn("container '%s' skipped: its record is not whole", de->d_name);
			ctr_free(c);
			continue;
		}
		if (c->dead) {
			/* an rm that died after marking it: finish it */
			log_info("removing dead container %s", c->id);
			berth_rootfs_remove(cdir, NULL);
			berth_rm_rf(cdir, NULL);
			ctr_free(c);
			continue;
		}
		if (table_add_locked(d, c) < 0) {
			ctr_free(c);
			return berth_error_set(err, ENOMEM, "out of memory");
		}
	}
	ctr_recount_locked(d);
	return 0;
}

/* A helper program (berth-shim, berth-init): $env, beside berthd, or the build tree's subdir/
 * beside daemon/, else /usr/local/bin. */
static char *find_helper(const char *name, const char *env_name, const char *subdir)
{
	char self[4096], *slash, *p = NULL;
	ssize_t n;
	const char *env = getenv(env_name);

	if (env && *env)
		return strdup(env);
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = '\0';
		slash = strrchr(self, '/');
		if (slash)
			*slash = '\0';
		if (asprintf(&p, "%s/%s", self, name) > 0 && access(p, X_OK) == 0)
			return p;
		free(p);
		p = NULL;
		if (asprintf(&p, "%s/../%s/%s", self, subdir, name) > 0 && access(p, X_OK) == 0)
			return p;
		free(p);
		p = NULL;
	}
	if (asprintf(&p, "/usr/local/bin/%s", name) < 0)
		return NULL;
	return p;
}

int daemon_containers_open(struct berthd *d, struct berth_error **err)
{
	struct daemon_containers *t = &d->containers;
	int r;

	t->shim_fd = -EBADF;
	t->epfd = t->wake_fd = -EBADF;
	r = berth_dockerspec_host_probe(&t->host, err);
	if (r < 0)
		return berth_error_wrap(err, "probe the host");
	t->shim_path = find_helper("berth-shim", "BERTHD_SHIM", "shim");
	t->init_path = find_helper("berth-init", "BERTHD_INIT", "init");
	if (!t->shim_path || !t->init_path)
		return berth_error_set(err, ENOMEM, "out of memory");
	/* --init's binary is bound from the host: a missing one fails such a start, nothing else */
	if (access(t->init_path, X_OK) == 0)
		t->spec.init_path = t->init_path;
	r = shim_binary_open(d, err);
	if (r < 0)
		return r;
	/* daemon.json's default-ulimits (checked when read), for every container's spec */
	if (json_object_size(d->config.default_ulimits)) {
		const char *name;
		json_t *u;
		t->ulimits =
			calloc(json_object_size(d->config.default_ulimits), sizeof(*t->ulimits));
		if (!t->ulimits)
			return berth_error_set(err, ENOMEM, "out of memory");
		json_object_foreach (d->config.default_ulimits, name, u) {
			struct berth_dockerspec_ulimit *x = &t->ulimits[t->spec.n_default_ulimits];
			x->name = (char *)name;
			x->soft = json_integer_value(json_object_get(u, "Soft"));
			x->hard = json_integer_value(json_object_get(u, "Hard"));
			t->spec.n_default_ulimits++;
		}
		t->spec.default_ulimits = t->ulimits;
	}
	pthread_mutex_lock(&d->lock);
	r = load_records(d, err);
	pthread_mutex_unlock(&d->lock);
	if (r < 0)
		return r;
	log_info("loaded %zu containers", t->n);
	return 0;
}

void daemon_containers_close(struct berthd *d)
{
	struct daemon_containers *t = &d->containers;

	ctr_monitor_stop(d);
	daemon_exec_drop_all(d);
	for (int i = 0; i < 500 && atomic_load(&t->threads); i++)
		usleep(10000);
	if (atomic_load(&t->threads)) {
		log_warn("container table left: %u container threads still running",
			 atomic_load(&t->threads));
		return;
	}
	pthread_mutex_lock(&d->lock);
	for (size_t i = 0; i < t->n; i++) {
		struct daemon_container *c = t->v[i];
		if (c->shim) {
			shim_handle_free(c->shim);
			c->shim = NULL;
		}
		ctr_unref_locked(d, c);
	}
	free(t->v);
	t->v = NULL;
	t->n = t->cap = 0;
	berth_strv_free(t->reserved);
	t->reserved = NULL;
	pthread_mutex_unlock(&d->lock);
	/* empty once nothing runs (a running container's shim keeps its own); the seccomp
	   programs the shims kept (lib/runtime's cache) go with the last of them */
	{
		_cleanup_free_ char *shims = NULL, *runtime = NULL, *seccomp = NULL;
		if (asprintf(&shims, "%s/shims", d->config.exec_root) > 0 &&
		    (rmdir(shims) == 0 || errno == ENOENT) &&
		    asprintf(&seccomp, "%s/seccomp", d->config.exec_root) > 0)
			berth_rm_rf(seccomp, NULL);
		if (asprintf(&runtime, "%s/runtime", d->config.exec_root) > 0)
			rmdir(runtime);
	}
	if (t->shim_fd >= 0)
		close(t->shim_fd);
	free(t->shim_path);
	free(t->init_path);
	free(t->ulimits);
	berth_dockerspec_host_release(&t->host);
}

/* ---- who uses which image (images.c's snapshot) --------------------------------------------- */

int daemon_containers_image_users_locked(struct berthd *d, struct daemon_image_users *ret)
{
	for (size_t i = 0; i < d->containers.n; i++) {
		struct daemon_container *c = d->containers.v[i];
		int r = daemon_image_users_add(ret, c->id, c->image_id, c->top_layer, c->running);
		if (r < 0) {
			daemon_image_users_release(ret);
			return r;
		}
	}
	return 0;
}

/* ---- create ----------------------------------------------------------------------------------- */

static bool name_taken_locked(struct berthd *d, const char *name, const char **ret_id)
{
	for (size_t i = 0; i < d->containers.n; i++)
		if (strcmp(d->containers.v[i]->name, name) == 0) {
			if (ret_id)
				*ret_id = d->containers.v[i]->id;
			return true;
		}
	for (size_t i = 0; d->containers.reserved && d->containers.reserved[i]; i++) {
		const char *r = d->containers.reserved[i];
		size_t n = strlen(name);
		/* "name\tid" */
		if (strncmp(r, name, n) == 0 && r[n] == '\t') {
			if (ret_id)
				*ret_id = r + n + 1;
			return true;
		}
	}
	return false;
}

static void unreserve_locked(struct berthd *d, const char *name)
{
	char **v = d->containers.reserved;
	size_t n = strlen(name), k = 0;

	for (size_t i = 0; v && v[i]; i++) {
		if (strncmp(v[i], name, n) == 0 && v[i][n] == '\t')
			free(v[i]);
		else
			v[k++] = v[i];
	}
	if (v)
		v[k] = NULL;
}

static int reserve_locked(struct berthd *d, const char *name, const char *id,
			  struct berth_error **err)
{
	_cleanup_free_ char *entry = NULL;
	const char *other = NULL;

	if (name_taken_locked(d, name, &other))
		return berth_error_set(err, EEXIST,
				       "Conflict. The container name \"%s\" is already in use by "
				       "container \"%s\". You have to remove (or rename) that "
				       "container to be able to reuse that name.",
				       name, other);
	if (asprintf(&entry, "%s\t%s", name, id) < 0 ||
	    berth_strv_push(&d->containers.reserved, entry) < 0)
		return berth_error_set(err, ENOMEM, "out of memory");
	return 0;
}

/* 64 hex digits whose 12-digit short form is not all digits (docker's rule) */
static int new_id(char ret[CTR_ID_LEN + 1])
{
	unsigned char b[32];

	for (;;) {
		if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b))
			return -EIO;
		berth_hex_encode(ret, b, sizeof(b));
		bool digits = true;
		for (int i = 0; i < 12; i++)
			if (ret[i] > '9')
				digits = false;
		if (!digits)
			return 0;
	}
}

static bool loopback_nameserver(const char *addr)
{
	return berth_str_has_prefix(addr, "127.") || strcmp(addr, "::1") == 0;
}

/*
 * /etc/resolv.conf for the container, as docker derives it from the host's: as it is with
 * NetworkMode host; otherwise without loopback nameservers (unreachable from another network
 * namespace), docker's public defaults when none is left, Dns/DnsSearch/DnsOptions replacing
 * their lines.
 */
char *ctr_make_resolv_conf(const json_t *hc, bool host_net)
{
	_cleanup_free_ char *host = NULL;
	const json_t *dns = json_object_get(hc, "Dns"), *search = json_object_get(hc, "DnsSearch"),
		     *opts = json_object_get(hc, "DnsOptions");
	char *out = NULL;
	size_t len = 0, n_ns = 0;
	FILE *f = open_memstream(&out, &len);
	size_t i;
	json_t *v;

	if (!f)
		return NULL;
	if (berth_read_file_at(AT_FDCWD, "/etc/resolv.conf", 1 << 16, &host, NULL, NULL) < 0)
		host = NULL;
	if (host_net && host && !json_array_size(dns) && !json_array_size(search) &&
	    !json_array_size(opts)) {
		fputs(host, f);
		fclose(f);
		return out;
	}
	for (char *line = host, *next; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		char word[64] = "", arg[256] = "";
		if (sscanf(line, " %63s %255s", word, arg) < 1)
			continue;
		if (strcmp(word, "nameserver") == 0) {
			if (json_array_size(dns) || (!host_net && loopback_nameserver(arg)))
				continue;
			n_ns++;
		} else if ((strcmp(word, "search") == 0 || strcmp(word, "domain") == 0) &&
			   json_array_size(search)) {
			continue;
		} else if (strcmp(word, "options") == 0 && json_array_size(opts)) {
			continue;
		}
		fprintf(f, "%s\n", line);
	}
	json_array_foreach (dns, i, v)
		fprintf(f, "nameserver %s\n", json_string_value(v));
	if (!json_array_size(dns) && n_ns == 0)
		fputs("nameserver 8.8.8.8\nnameserver 8.8.4.4\n", f);
	if (json_array_size(search)) {
		fputs("search", f);
		json_array_foreach (search, i, v)
			fprintf(f, " %s", json_string_value(v));
		fputs("\n", f);
	}
	if (json_array_size(opts)) {
		fputs("options", f);
		json_array_foreach (opts, i, v)
			fprintf(f, " %s", json_string_value(v));
		fputs("\n", f);
	}
	fclose(f);
	return out;
}

bool ctr_wants_host_gateway(const json_t *hc)
{
	const json_t *v;
	size_t i;

	json_array_foreach (json_object_get(hc, "ExtraHosts"), i, v) {
		const char *s = json_string_value(v);
		const char *sep = s ? strpbrk(s, ":=") : NULL;
		if (sep && strcmp(sep + 1, "host-gateway") == 0)
			return true;
	}
	return false;
}

char *ctr_make_hosts(const json_t *hc, bool host_net, const char *host_gw)
{
	const json_t *extra = json_object_get(hc, "ExtraHosts");
	char *out = NULL;
	size_t len = 0, i;
	FILE *f = open_memstream(&out, &len);
	json_t *v;

	if (!f)
		return NULL;
	if (host_net) {
		_cleanup_free_ char *host = NULL;
		if (berth_read_file_at(AT_FDCWD, "/etc/hosts", 1 << 20, &host, NULL, NULL) == 0)
			fputs(host, f);
	} else {
		fputs("127.0.0.1\tlocalhost\n"
		      "::1\tlocalhost ip6-localhost ip6-loopback\n"
		      "fe00::0\tip6-localnet\n"
		      "ff00::0\tip6-mcastprefix\n"
		      "ff02::1\tip6-allnodes\n"
		      "ff02::2\tip6-allrouters\n",
		      f);
	}
	/* --add-host name:address (docker also takes name=address) */
	json_array_foreach (extra, i, v) {
		const char *s = json_string_value(v);
		const char *sep = s ? strpbrk(s, ":=") : NULL;
		if (!sep)
			continue;
		/* host-gateway: the default bridge's gateway address, as dockerd's HostGatewayIP */
		const char *ip =
			strcmp(sep + 1, "host-gateway") == 0 && host_gw ? host_gw : sep + 1;
		fprintf(f, "%s\t%.*s\n", ip, (int)(sep - s), s);
	}
	fclose(f);
	return out;
}

int ctr_write_small(const char *dir, const char *name, const char *text, struct berth_error **err)
{
	_cleanup_free_ char *path = NULL;

	if (!text || asprintf(&path, "%s/%s", dir, name) < 0)
		return berth_error_set(err, ENOMEM, "out of memory");
	return berth_write_file_replace_at(AT_FDCWD, path, text, strlen(text), 0644, err);
}

/* hostname, hosts, resolv.conf: docker's files in the container directory, bound at start */
int ctr_write_etc_files(const char *dir, const json_t *config, const json_t *hc,
			const char *host_gw, struct berth_error **err)
{
	bool host_net =
		strcmp(json_string_value(json_object_get(hc, "NetworkMode")) ?: "", "host") == 0;
	_cleanup_free_ char *hostname = NULL, *hosts = NULL, *resolv = NULL;
	const char *h = json_string_value(json_object_get(config, "Hostname")) ?: "";

	if (!host_gw && ctr_wants_host_gateway(hc))
		return berth_error_set(err, EINVAL,
				       "unable to derive the IP value for host-gateway");
	if (asprintf(&hostname, "%s\n", h) < 0)
		return berth_error_set(err, ENOMEM, "out of memory");
	hosts = ctr_make_hosts(hc, host_net, host_gw);
	resolv = ctr_make_resolv_conf(hc, host_net);
	if (ctr_write_small(dir, "hostname", hostname, err) < 0 ||
	    ctr_write_small(dir, "hosts", hosts, err) < 0 ||
	    ctr_write_small(dir, "resolv.conf", resolv, err) < 0)
		return -(*err)->code;
	return 0;
}

/* log-driver and log-opts: the container's, else the daemon's (json-file and none are served) */
static int log_config(struct berthd *d, json_t *hc, struct berth_error **err)
{
	static const char *const known[] = {"max-size",	    "max-file", "labels",
					    "labels-regex", "env",	"env-regex",
					    "tag",	    "compress", NULL};
	json_t *lc = json_object_get(hc, "LogConfig");
	const char *type;
	json_t *opts;
	const char *k;
	json_t *v;

	if (!json_is_object(lc)) {
		lc = json_object();
		json_object_set_new(hc, "LogConfig", lc);
	}
	type = json_string_value(json_object_get(lc, "Type"));
	pthread_mutex_lock(&d->lock);
	if (!type || !*type) {
		json_object_set_new(lc, "Type", json_string(d->config.log_driver ?: "json-file"));
		if (!json_object_size(json_object_get(lc, "Config")) && d->config.log_opts)
			json_object_set_new(lc, "Config", json_deep_copy(d->config.log_opts));
	}
	pthread_mutex_unlock(&d->lock);
	type = json_string_value(json_object_get(lc, "Type"));
	opts = json_object_get(lc, "Config");
	if (!json_is_object(opts)) {
		opts = json_object();
		json_object_set_new(lc, "Config", opts);
	}
	/* local: docker's own file format is not berth's, so its log is json-file's format in
	 * local-logs/container.log, with local's options and defaults (20m, 5 files); docker
	 * compresses rotated files by default, berth never does */
	bool local = strcmp(type, "local") == 0;
	if (strcmp(type, "json-file") != 0 && strcmp(type, "none") != 0 && !local)
		return berth_error_set(err, EINVAL,
				       "failed to create task for container: logger: no log driver "
				       "named '%s' is registered",
				       type);
	json_object_foreach (opts, k, v) {
		bool ok = false;
		if (!json_is_string(v))
			return berth_error_set(err, EINVAL, "invalid log opt '%s': not a string",
					       k);
		if (strcmp(type, "none") == 0)
			return berth_error_set(err, EINVAL,
					       "unknown log opt '%s' for none log driver", k);
		for (size_t i = 0; known[i]; i++)
			ok = ok || (strcmp(known[i], k) == 0 &&
				    (!local || strcmp(k, "max-size") == 0 ||
				     strcmp(k, "max-file") == 0 || strcmp(k, "compress") == 0));
		if (!ok && local)
			return berth_error_set(err, EINVAL,
					       "unknown log opt '%s' for log driver %s", k, type);
		if (!ok)
			return berth_error_set(err, EINVAL,
					       "unknown log opt '%s' for %s log driver", k, type);
		const char *s = json_string_value(v);
		int64_t n;
		if (strcmp(k, "max-size") == 0 && (berth_parse_size(s, &n) < 0 || n <= 0))
			return berth_error_set(err, EINVAL, "invalid max-size: %s", s);
		if (strcmp(k, "max-file") == 0 && (berth_parse_int64(s, 1, 1 << 20, &n) < 0))
			return berth_error_set(
				err, EINVAL, "max-file cannot be less than 1: invalid value %s", s);
		if (strcmp(k, "compress") == 0 && berth_api_parse_bool(s))
			return berth_error_set(
				err, EINVAL,
				"log-opt compress=%s: berth does not compress rotated "
				"logs",
				s);
	}
	return 0;
}

int ctr_create(struct berthd *d, const json_t *body, const char *name_param, const char *api,
	       char **ret_id, json_t **ret_warnings, struct berth_error **err)
{
	struct daemon_containers *t = &d->containers;
	struct berth_dockerspec_create cr = {0};
	_cleanup_free_ char *name = NULL, *root = NULL, *tmp = NULL, *final = NULL;
	_cleanup_json_ json_t *imgcfg = NULL, *rec = NULL;
	struct berth_image_info *img = NULL;
	struct berth_image_lease *lease = NULL;
	struct daemon_container *c = NULL;
	char id[CTR_ID_LEN + 1], host_gw[16];
	char **args = NULL;
	bool reserved = false;
	int r;

	r = berth_dockerspec_create_normalize(body, api, &t->host, &t->spec, &cr, err);
	if (r < 0)
		return r;
	const char *image = json_string_value(json_object_get(cr.config, "Image"));
	if (!image || !*image) {
		r = berth_error_set(err, EINVAL, "no image specified");
		goto out;
	}
	r = berth_image_inspect(d->images.store, image, &img, err);
	if (r < 0)
		goto out;
	/* the layers are held from here until the container is in the table */
	r = berth_image_lease_new(d->images.store, &lease, err);
	if (r == 0 && img->top_layer && berth_image_lease_add(lease, img->top_layer) < 0)
		r = berth_error_set(err, ENOMEM, "out of memory");
	if (r == 0)
		r = berth_image_config(d->images.store, img->id, &imgcfg, err);
	if (r == 0)
		r = berth_dockerspec_merge_image(cr.config, json_object_get(imgcfg, "config"), err);
	if (r == 0)
		r = log_config(d, cr.host_config, err);
	if (r == 0)
		r = ctr_network_check(d, cr.host_config, cr.config, cr.networking_config, err);
	if (r < 0)
		goto out;

	if (new_id(id) < 0) {
		r = berth_error_set(err, EIO, "no random bytes for an id");
		goto out;
	}
	if (name_param && *name_param) {
		if (!ctr_name_valid(name_param)) {
			r = berth_error_set(err, EINVAL,
					    "Invalid container name (%s), only "
					    "[a-zA-Z0-9][a-zA-Z0-9_.-] are allowed",
					    name_param);
			goto out;
		}
		if (asprintf(&name, "%s%s", name_param[0] == '/' ? "" : "/", name_param) < 0) {
			r = berth_error_set(err, ENOMEM, "out of memory");
			goto out;
		}
		pthread_mutex_lock(&d->lock);
		r = reserve_locked(d, name, id, err);
		pthread_mutex_unlock(&d->lock);
		if (r < 0)
			goto out;
	} else {
		r = -EEXIST;
		for (unsigned i = 0; i < 8 && r == -EEXIST; i++) {
			_cleanup_free_ char *gen = ctr_name_random(i);
			free(name);
			name = NULL;
			if (!gen || asprintf(&name, "/%s", i < 7 ? gen : id) < 0) {
				r = berth_error_set(err, ENOMEM, "out of memory");
				goto out;
			}
			if (i == 7)
				name[13] = '\0'; /* the short id, docker's last resort */
			pthread_mutex_lock(&d->lock);
			r = name_taken_locked(d, name, NULL) ? -EEXIST
							     : reserve_locked(d, name, id, err);
			pthread_mutex_unlock(&d->lock);
		}
		if (r < 0) {
			if (r == -EEXIST)
				r = berth_error_set(err, EEXIST, "no free name for the container");
			goto out;
		}
	}
	reserved = true;

	/* Hostname: the short id, or the host's with NetworkMode host */
	const char *hn = json_string_value(json_object_get(cr.config, "Hostname"));
	if (!hn || !*hn) {
		const char *nm = json_string_value(json_object_get(cr.host_config, "NetworkMode"));
		if (nm && strcmp(nm, "host") == 0 && t->host.hostname)
			json_object_set_new(cr.config, "Hostname", json_string(t->host.hostname));
		else
			json_object_set_new(cr.config, "Hostname", json_stringn(id, 12));
	}

	c = ctr_new();
	if (!c) {
		r = berth_error_set(err, ENOMEM, "out of memory");
		goto out;
	}
	root = containers_root(d);
	if (!root || asprintf(&tmp, "%s/.tmp-%s", root, id) < 0 ||
	    asprintf(&final, "%s/%s", root, id) < 0) {
		r = berth_error_set(err, ENOMEM, "out of memory");
		goto out;
	}
	c->id = strdup(id);
	c->name = TAKE_PTR(name);
	c->created_ns = now_ns();
	c->created = ctr_time_string(c->created_ns);
	c->dir = strdup(final);
	c->config = json_incref(cr.config);
	c->host_config = json_incref(cr.host_config);
	c->networking_config = json_incref(cr.networking_config);
	c->image_id = strdup(img->id);
	c->top_layer = img->top_layer ? strdup(img->top_layer) : NULL;
	r = berth_dockerspec_path_args(cr.config, &c->path, &args, err);
	if (r < 0)
		goto out;
	c->args = json_array();
	for (size_t i = 0; args && args[i]; i++)
		json_array_append_new(c->args, json_string(args[i]));
	const char *ltype = json_string_value(
		json_object_get(json_object_get(cr.host_config, "LogConfig"), "Type"));
	if (ltype && strcmp(ltype, "json-file") == 0 &&
	    asprintf(&c->log_path, "%s/%s-json.log", final, id) < 0)
		c->log_path = NULL;
	if (ltype && strcmp(ltype, "local") == 0 &&
	    asprintf(&c->log_path, "%s/local-logs/container.log", final) < 0)
		c->log_path = NULL;
	if (!c->id || !c->created || !c->dir || !c->image_id || !c->args ||
	    (img->top_layer && !c->top_layer)) {
		r = berth_error_set(err, ENOMEM, "out of memory");
		goto out;
	}

	r = ctr_mounts_prepare(d, c->id, c->host_config, c->config, &c->mount_points, err);
	if (r < 0)
		goto out;

	/* the record made whole beside, then renamed into place */
	if (mkdir(tmp, 0710) < 0) {
		r = berth_error_sys(err, errno, "mkdir '%s'", tmp);
		goto out;
	}
	r = ctr_write_etc_files(tmp, c->config, c->host_config, ctr_host_gateway(d, host_gw), err);
	if (r == 0) {
		pthread_mutex_lock(&d->lock);
		rec = record_json_locked(c);
		pthread_mutex_unlock(&d->lock);
		r = rec ? write_record(tmp, rec, err)
			: berth_error_set(err, ENOMEM, "out of memory");
	}
	if (r == 0 && rename(tmp, final) < 0)
		r = berth_error_sys(err, errno, "rename '%s'", tmp);
	if (r < 0) {
		berth_rm_rf(tmp, NULL);
		goto out;
	}
	{
		_cleanup_close_ int dfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd >= 0)
			fsync(dfd);
	}

	pthread_mutex_lock(&d->lock);
	unreserve_locked(d, c->name);
	reserved = false;
	r = table_add_locked(d, c);
	if (r == 0) {
		ctr_recount_locked(d);
		ctr_event_locked(d, c, "create", NULL, 0);
		*ret_id = strdup(c->id);
		c = NULL;
	}
	pthread_mutex_unlock(&d->lock);
	if (r < 0) {
		berth_rm_rf(final, NULL);
		r = berth_error_set(err, ENOMEM, "out of memory");
		goto out;
	}
	*ret_warnings = json_incref(cr.warnings);
out:
	if (reserved) {
		pthread_mutex_lock(&d->lock);
		unreserve_locked(d, c ? c->name : name);
		pthread_mutex_unlock(&d->lock);
	}
	if (lease)
		berth_image_lease_release(lease, false);
	if (c && c->mount_points)
		ctr_mounts_release(d, c, true); /* not made: its anonymous volumes go too */
	berth_strv_free(args);
	berth_image_info_free(img);
	ctr_free(c);
	berth_dockerspec_create_release(&cr);
	return r;
}

/* ---- remove ------------------------------------------------------------------------------------ */

int ctr_remove(struct berthd *d, struct daemon_container *c, bool remove_volumes,
	       struct berth_error **err)
{
	_cleanup_free_ char *trash = NULL, *root = containers_root(d), *sdir = NULL;
	_cleanup_error_ struct berth_error *e = NULL;

	pthread_mutex_lock(&d->lock);
	c->removing = true;
	c->dead = true;
	c->restart_cancel = true;
	pthread_cond_broadcast(&c->cond);
	ctr_attach_drop_locked(c);
	pthread_mutex_unlock(&d->lock);

	ctr_network_teardown(d, c);
	daemon_volumes_unmount(d, c->id);
	ctr_subpaths_unpin(d, c,
			   true); /* a pin a crash left is detached before anything is removed */
	if (ctr_root_unmount(c, &e) < 0) {
		pthread_mutex_lock(&d->lock);
		c->removing = false;
		c->dead = false;
		pthread_mutex_unlock(&d->lock);
		return berth_error_set(err, EBUSY, "unmount the root of %s: %s", c->id,
				       e ? e->msg : "?");
	}
	sdir = shim_dir(d, c->id);
	if (sdir)
		berth_rm_rf(sdir, NULL);
	if (!root || asprintf(&trash, "%s/.trash-%s", root, c->id) < 0)
		return berth_error_set(err, ENOMEM, "out of memory");
	if (rename(c->dir, trash) < 0 && errno != ENOENT)
		return berth_error_sys(err, errno, "rename '%s'", c->dir);
	/* the files go before the waiters for "removed" wake, as docker's SetRemoved comes last:
	 * `run --rm` returns with nothing left */
	if (berth_rootfs_remove(trash, &e) < 0 || berth_rm_rf(trash, &e) < 0)
		log_warn("remove '%s': %s", trash, e ? e->msg : "?");
	ctr_mounts_release(d, c, remove_volumes);
	pthread_mutex_lock(&d->lock);
	ctr_event_locked(d, c, "destroy", NULL, 0);
	table_remove_locked(d, c);
	ctr_recount_locked(d);
	pthread_mutex_unlock(&d->lock);
	return 0;
}

/* ---- rename ------------------------------------------------------------------------------------ */

int ctr_rename(struct berthd *d, struct daemon_container *c, const char *new_name,
	       struct berth_error **err)
{
	_cleanup_free_ char *name = NULL, *old = NULL;
	int r;

	if (!new_name || !*new_name)
		return berth_error_set(err, EINVAL, "Neither old nor new names may be empty");
	if (!ctr_name_valid(new_name))
		return berth_error_set(
			err, EINVAL,
			"Invalid container name (%s), only [a-zA-Z0-9][a-zA-Z0-9_.-] "
			"are allowed",
			new_name);
	if (asprintf(&name, "%s%s", new_name[0] == '/' ? "" : "/", new_name) < 0)
		return berth_error_set(err, ENOMEM, "out of memory");
	pthread_mutex_lock(&d->lock);
	if (strcmp(c->name, name) == 0) {
		pthread_mutex_unlock(&d->lock);
		return berth_error_set(
			err, EINVAL, "Renaming a container with the same name as its current name");
	}
	r = reserve_locked(d, name, c->id, err);
	if (r < 0) {
		pthread_mutex_unlock(&d->lock);
		return berth_error_wrap(err, "Error when allocating new name");
	}
	unreserve_locked(d, name);
	old = c->name;
	c->name = TAKE_PTR(name);
	r = ctr_save_locked(d, c, err);
	if (r < 0) {
		name = c->name;
		c->name = TAKE_PTR(old);
		pthread_mutex_unlock(&d->lock);
		return r;
	}
	struct berth_key_value kv = {"oldName", old};
	ctr_event_locked(d, c, "rename", &kv, 1);
	pthread_mutex_unlock(&d->lock);
	return 0;
}

/* ---- the root and the shareable /dev/shm ------------------------------------------------- */

#define SHM_DEFAULT_SIZE (64LL * 1024 * 1024)

int ctr_shm_mount(const struct daemon_container *c, char **ret_path, struct berth_error **err)
{
	_cleanup_free_ char *path = NULL, *opts = NULL;
	int64_t size = json_integer_value(json_object_get(c->host_config, "ShmSize"));

	if (size <= 0)
		size = SHM_DEFAULT_SIZE;
	if (asprintf(&path, "%s/shm", c->dir) < 0 ||
	    asprintf(&opts, "mode=1777,size=%lld", (long long)size) < 0)
		return berth_error_set(err, ENOMEM, "out of memory");
	if (mkdir(path, 0700) < 0 && errno != EEXIST)
		return berth_error_sys(err, errno, "mkdir '%s'", path);
	/* what a start that failed left is replaced: a restarted container gets an empty one */
	umount2(path, MNT_DETACH | UMOUNT_NOFOLLOW);
	if (mount("shm", path, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, opts) < 0)
		return berth_error_sys(err, errno, "mount the shareable /dev/shm of %s", c->id);
	*ret_path = TAKE_PTR(path);
	return 0;
}

int ctr_root_unmount(const struct daemon_container *c, struct berth_error **err)
{
	_cleanup_free_ char *shm = NULL;

	if (asprintf(&shm, "%s/shm", c->dir) > 0) {
		/* only a shareable container has one; EINVAL: not a mount point, ENOENT: none */
		if (umount2(shm, MNT_DETACH | UMOUNT_NOFOLLOW) < 0 && errno != EINVAL &&
		    errno != ENOENT)
			log_warn("container %s: unmount its /dev/shm: %s", c->id, strerror(errno));
		rmdir(shm);
	}
	return berth_rootfs_unmount(c->dir, err);
}
