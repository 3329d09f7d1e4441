/* SPDX-License-Identifier: Apache-2.0 */
/*
 * POST /build as dockerd's classic builder answers it (the docker CLI without buildx, docker-py,
 * docker-compose 1.29), and POST /build/prune.
 *
 * The context tar is unpacked into a directory of its own under the store's tmp/ (a tmpfs
 * when it is small: build-context.c), the Dockerfile read from it (dockerfile.c parses it as BuildKit's parser does) and split into
 * stages.  Only the stages the target needs (FROM <stage>, COPY --from, RUN --mount from=) are
 * built.  Every instruction is a step that makes an image, as the classic builder does:
 * metadata steps change the config only (image-changes.c applies them, as for import/commit
 * --change) and record an empty_layer history row; RUN runs a real container (created, started
 * and waited for through the container manager and its shim, the default security profile, the
 * stage's Env, WorkingDir and User, build args in the environment, its --mounts:
 * build-mounts.c) whose writable layer becomes the step's layer; COPY, ADD and WORKDIR write
 * into an overlay of the parent's layers and commit its upper directory.
 *
 * Cache: each step has a key, sha256 of the parent image id, the container config the step
 * commits with (its Cmd names the instruction with the build args in effect, and for COPY/ADD
 * the content hash of the sources: build-copy.c) and the COPY flags; data_root/build-cache.json
 * maps keys to image ids (read once, then looked up in memory).  A hit reuses the image; after
 * a miss the parent of every later step is new, so nothing later hits.
 *
 * The steps themselves are in build-steps.c.
 *
 * Output: the JSON stream ({"stream": "Step 1/3 : FROM busybox\n"}, " ---> Using cache",
 * " ---> <id>", {"aux": {"ID": ...}}, "Successfully built", "Successfully tagged"); an error
 * before the first line is an HTTP error, after it {"errorDetail": ..., "error": ...}.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "build-internal.h"
#include "containers-internal.h"
#include "dockerfile.h"
#include "events-internal.h"
#include "images-internal.h"

#include "base/banned.h"

#define DOCKERFILE_MAX (64u << 20)
#define DEFAULT_PATH   "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
/* builds hold it shared; /build/prune alone */
static pthread_rwlock_t builds_lock = PTHREAD_RWLOCK_INITIALIZER;

/* ---- output ----------------------------------------------------------------------------------- */

void bld_emit(struct build *b, json_t *msg)
{
	if (!msg)
		return;
	if (!b->streaming) {
		berth_http_stream_begin(b->req, 200, "application/json");
		b->streaming = true;
	}
	berth_http_stream_json(b->req, msg);
	berth_http_stream_flush(b->req);
	json_decref(msg);
}

/* a JSON string of bytes that may not be UTF-8 (a RUN's output): bad bytes become '?' */
static json_t *text_json(const char *s, size_t n)
{
	json_t *j = json_stringn(s, n);
	if (j)
		return j;
	_cleanup_free_ char *c = malloc(n + 1);
	if (!c)
		return NULL;
	for (size_t i = 0; i < n; i++)
		c[i] = (unsigned char)s[i] < 0x80 && s[i] ? s[i] : '?';
	return json_stringn(c, n);
}

void bld_say_n(struct build *b, const char *s, size_t n)
{
	if (b->o.quiet) {
		sb_addn(&b->quiet, s, n);
		return;
	}
	json_t *t = text_json(s, n);
	bld_emit(b, t ? json_pack("{s:o}", "stream", t) : NULL);
}

void bld_say(struct build *b, const char *fmt, ...)
{
	_cleanup_free_ char *s = NULL;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n >= 0)
		bld_say_n(b, s, (size_t)n);
}

const char *bld_short_id(const char *id)
{
	static __thread char buf[13];
	const char *h = id && berth_str_has_prefix(id, "sha256:") ? id + 7 : (id ?: "");
	snprintf(buf, sizeof(buf), "%.12s", h);
	return buf;
}

int bld_oom(struct berth_error **err)
{
	return berth_error_set(err, ENOMEM, "out of memory");
}

/* ---- small helpers ---------------------------------------------------------------------------- */

char *bld_lower(const char *s)
{
	char *c = strdup(s);
	for (char *p = c; p && *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return c;
}

/* Go's %q of a []string: ["a" "b c"] */
void bld_go_strv(struct sbuf *sb, const json_t *a)
{
	size_t i;
	json_t *v;

	sb_addc(sb, '[');
	json_array_foreach (a, i, v) {
		const char *s = json_string_value(v) ?: "";
		if (i)
			sb_addc(sb, ' ');
		sb_addc(sb, '"');
		for (; *s; s++) {
			if (*s == '"' || *s == '\\')
				sb_addc(sb, '\\');
			sb_addc(sb, *s);
		}
		sb_addc(sb, '"');
	}
	sb_addc(sb, ']');
}

/* Go's time.Duration.String() for whole milliseconds and up ("0s", "500ms", "1m30s") */
void bld_go_duration(int64_t ns, char *out, size_t n)
{
	int64_t h, m, sec, ms;

	if (ns == 0) {
		snprintf(out, n, "0s");
		return;
	}
	if (ns < 1000000000LL && ns % 1000000 == 0) {
		snprintf(out, n, "%lldms", (long long)(ns / 1000000));
		return;
	}
	if (ns < 1000000000LL) {
		snprintf(out, n, "%lldns", (long long)ns);
		return;
	}
	h = ns / 3600000000000LL;
	m = ns / 60000000000LL % 60;
	sec = ns / 1000000000LL % 60;
	ms = ns / 1000000 % 1000;
	char frac[16] = "";
	if (ms) {
		snprintf(frac, sizeof(frac), ".%03lld", (long long)ms);
		for (size_t l = strlen(frac); l > 1 && frac[l - 1] == '0'; l--)
			frac[l - 1] = '\0';
	}
	if (h)
		snprintf(out, n, "%lldh%lldm%lld%ss", (long long)h, (long long)m, (long long)sec,
			 frac);
	else if (m)
		snprintf(out, n, "%lldm%lld%ss", (long long)m, (long long)sec, frac);
	else
		snprintf(out, n, "%lld%ss", (long long)sec, frac);
}

/* strings.Join(a, sep) */
char *bld_join_json(const json_t *a, const char *sep)
{
	struct sbuf sb = {0};
	size_t i;
	json_t *v;

	json_array_foreach (a, i, v) {
		if (i)
			sb_adds(&sb, sep);
		sb_adds(&sb, json_string_value(v) ?: "");
	}
	return sb_take(&sb);
}

char *bld_join_strv(char *const *v, const char *sep)
{
	struct sbuf sb = {0};

	for (size_t i = 0; v && v[i]; i++) {
		if (i)
			sb_adds(&sb, sep);
		sb_adds(&sb, v[i]);
	}
	return sb_take(&sb);
}

bool bld_env_has(const json_t *env, const char *name)
{
	size_t i, n = strlen(name);
	json_t *v;

	json_array_foreach (env, i, v) {
		const char *s = json_string_value(v) ?: "";
		if (!strncmp(s, name, n) && (s[n] == '=' || s[n] == '\0'))
			return true;
	}
	return false;
}

const struct build_arg *bld_find_arg(const struct build_arg *v, size_t n, const char *name)
{
	for (size_t i = n; i-- > 0;)
		if (!strcmp(v[i].name, name))
			return &v[i];
	return NULL;
}

/* FilterAllowed: "K=V" of the stage's args with a value that ENV does not set, sorted */
json_t *bld_allowed_args(const struct stage *s)
{
	_cleanup_strv_ char **v = calloc(1, sizeof(char *));
	json_t *env = json_object_get(s->cfg, "Env"), *out = json_array();

	if (!v || !out) {
		json_decref(out);
		return NULL;
	}
	for (size_t i = 0; i < s->n_args; i++) {
		const struct build_arg *a = &s->args[i];
		_cleanup_free_ char *kv = NULL;
		if (!a->value || bld_env_has(env, a->name) ||
		    bld_find_arg(s->args, s->n_args, a->name) != a)
			continue;
		if (asprintf(&kv, "%s=%s", a->name, a->value) < 0 || berth_strv_push(&v, kv) < 0) {
			json_decref(out);
			return NULL;
		}
	}
	qsort(v, berth_strv_length(v), sizeof(char *), images_cmp_str);
	for (size_t i = 0; v[i]; i++)
		json_array_append_new(out, json_string(v[i]));
	return out;
}

/* the words' environment: Env, then the allowed args */
json_t *bld_expand_env(const struct stage *s)
{
	json_t *env = json_deep_copy(json_object_get(s->cfg, "Env")) ?: json_array();
	json_t *args = bld_allowed_args(s);

	if (env && args)
		json_array_extend(env, args);
	json_decref(args);
	return env;
}

json_t *bld_shell_of(const json_t *cfg)
{
	const json_t *sh = json_object_get(cfg, "Shell");
	return json_array_size(sh) ? json_deep_copy(sh) : json_pack("[s,s]", "/bin/sh", "-c");
}

void bld_set_default_path(json_t *cfg)
{
	json_t *env = json_object_get(cfg, "Env");

	if (!json_is_array(env)) {
		env = json_array();
		json_object_set_new(cfg, "Env", env);
	}
	if (!bld_env_has(env, "PATH"))
		json_array_append_new(env, json_string(DEFAULT_PATH));
}

/* ---- the cache -------------------------------------------------------------------------------- */

static char *cache_path(struct berthd *d)
{
	char *p = NULL;
	return asprintf(&p, "%s/build-cache.json", d->config.data_root) < 0 ? NULL : p;
}

/*
 * The index, read from the file once and kept: every step of every build looks it up, and
 * parsing the whole file each time grew with it.  Only this daemon writes the file.
 */
static json_t *cache_index;

/* borrowed; an empty index when the file is missing or unreadable */
static json_t *cache_load_locked(struct berthd *d)
{
	_cleanup_free_ char *p = NULL, *text = NULL;
	json_t *j;

	if (cache_index)
		return cache_index;
	p = cache_path(d);
	if (p && berth_read_file_at(AT_FDCWD, p, 256 << 20, &text, NULL, NULL) == 0)
		j = json_loads(text, 0, NULL);
	else
		j = NULL;
	if (!json_is_object(j)) {
		json_decref(j);
		j = json_object();
	}
	cache_index = j;
	return cache_index;
}

static void cache_save_locked(struct berthd *d, json_t *idx)
{
	_cleanup_free_ char *p = cache_path(d), *text = json_dumps(idx, JSON_COMPACT);
	_cleanup_error_ struct berth_error *e = NULL;

	if (p && text && berth_write_file_replace_at(AT_FDCWD, p, text, strlen(text), 0600, &e) < 0)
		log_warn("build cache: %s", e ? e->msg : "?");
}

char *build_cache_key(const char *parent, const json_t *cc, const char *extra)
{
	_cleanup_free_ char *cfg = json_dumps(cc, JSON_COMPACT | JSON_SORT_KEYS), *all = NULL;
	char digest[BERTH_DIGEST_SIZE];

	if (!cfg || asprintf(&all, "%s\n%s\n%s", parent ?: "", cfg, extra ?: "") < 0)
		return NULL;
	berth_sha256_digest(all, strlen(all), digest);
	return strdup(digest + 7);
}

int bld_load_image(struct build *b, struct stage *s, const char *id, struct berth_error **err)
{
	struct berth_image_info *info = NULL;
	json_t *img = NULL;
	int r = berth_image_config(b->d->images.store, id, &img, err);

	if (r == 0)
		r = berth_image_inspect(b->d->images.store, id, &info, err);
	if (r < 0) {
		json_decref(img);
		return r;
	}
	free(s->image_id);
	free(s->top_layer);
	json_decref(s->img);
	s->image_id = strdup(info->id);
	s->top_layer = info->top_layer ? strdup(info->top_layer) : NULL;
	s->img = img;
	berth_image_info_free(info);
	return s->image_id ? 0 : bld_oom(err);
}

/* ---- --cache-from ------------------------------------------------------------------------------ */

/* the cachefrom images found in the store, once (docker skips those it cannot find) */
static json_t *cache_sources(struct build *b)
{
	size_t i;
	json_t *name;

	if (b->sources)
		return b->sources;
	b->sources = json_array();
	json_array_foreach (b->o.cachefrom, i, name) {
		_cleanup_error_ struct berth_error *e = NULL;
		_cleanup_free_ char *id = NULL;
		json_t *img = NULL;
		if (berth_image_resolve(b->d->images.store, json_string_value(name), &id, &e) < 0 ||
		    berth_image_config(b->d->images.store, id, &img, &e) < 0) {
			log_debug("build: cache source %s: %s", json_string_value(name),
				  e ? e->msg : "?");
			continue;
		}
		json_array_append_new(b->sources, json_pack("{s:s,s:o}", "id", id, "img", img));
	}
	return b->sources;
}

static json_t *img_array(const json_t *img, const char *a, const char *b)
{
	json_t *v = json_object_get(img, a);
	return b ? json_object_get(v, b) : v;
}

/* isValidParent: target's history and layers begin with the parent's */
static bool continues(const json_t *target, const json_t *parent)
{
	const json_t *th = img_array(target, "history", NULL);
	const json_t *td = img_array(target, "rootfs", "diff_ids");
	const json_t *ph = img_array(parent, "history", NULL);
	const json_t *pd = img_array(parent, "rootfs", "diff_ids");

	if (!json_array_size(th))
		return false;
	if (!parent || (!json_array_size(ph) && !json_array_size(pd)))
		return true;
	if (json_array_size(ph) >= json_array_size(th) || json_array_size(pd) > json_array_size(td))
		return false;
	for (size_t i = 0; i < json_array_size(ph); i++)
		if (!json_equal(json_array_get(ph, i), json_array_get(th, i)))
			return false;
	for (size_t i = 0; i < json_array_size(pd); i++)
		if (!json_equal(json_array_get(pd, i), json_array_get(td, i)))
			return false;
	return true;
}

/*
 * The image for the step at history index n of target: the parent's history and layers plus
 * target's row n (and its layer, when the row has one), added to the store with the parent as
 * its parent (restoreCachedImage).  The config is the stage's as the step would commit it.
 */
static int restore_step(struct build *b, struct stage *s, const json_t *target, size_t n,
			const json_t *cc, char **ret_id, struct berth_error **err)
{
	const json_t *th = img_array(target, "history", NULL);
	const json_t *row = json_array_get(th, n);
	_cleanup_json_ json_t *hist = json_deep_copy(img_array(s->img, "history", NULL)),
			      *diffs = json_deep_copy(img_array(s->img, "rootfs", "diff_ids")),
			      *img = NULL;
	_cleanup_free_ char *text = NULL, *digest = NULL;
	struct berth_image_lease *lease = NULL;
	size_t layer = 0;
	int r;

	if (!hist)
		hist = json_array();
	if (!diffs)
		diffs = json_array();
	for (size_t i = 0; i < n; i++)
		if (!json_is_true(json_object_get(json_array_get(th, i), "empty_layer")))
			layer++;
	if (!json_is_true(json_object_get(row, "empty_layer"))) {
		json_t *d = json_array_get(img_array(target, "rootfs", "diff_ids"), layer);
		if (!json_is_string(d))
			return berth_error_set(err, EINVAL, "cache source: no layer for step %zu",
					       n);
		json_array_append(diffs, d);
	}
	json_array_append(hist, (json_t *)row);
	img = json_pack("{s:s,s:o,s:O,s:s,s:s,s:O,s:s,s:{s:s,s:O}}", "architecture",
			json_string_value(json_object_get(target, "architecture"))
				?: b->d->containers.host.arch,
			"config", daemon_container_config_json(s->cfg), "container_config", cc,
			"created", json_string_value(json_object_get(row, "created")) ?: "",
			"docker_version", BERTH_VERSION, "history", hist, "os", "linux", "rootfs",
			"type", "layers", "diff_ids", diffs);
	if (!img || !(text = json_dumps(img, JSON_COMPACT)))
		return bld_oom(err);
	r = berth_image_lease_new(b->d->images.store, &lease, err);
	if (r < 0)
		return r;
	r = berth_blob_write(b->d->images.store, text, strlen(text), NULL, lease, &digest, err);
	if (r == 0)
		r = berth_image_add(b->d->images.store, digest, s->image_id, ret_id, err);
	berth_image_lease_release(lease, r < 0);
	return r;
}

/* imageCache.GetCache's walk of the sources: an image id (new), or NULL */
static char *cache_from_probe(struct build *b, struct stage *s, const json_t *cc)
{
	_cleanup_free_ char *created_by = bld_join_json(json_object_get(cc, "Cmd"), " ");
	json_t *sources = cache_sources(b), *src;
	size_t n = json_array_size(img_array(s->img, "history", NULL)), i;

	if (!created_by)
		return NULL;
	json_array_foreach (sources, i, src) {
		const json_t *target = json_object_get(src, "img");
		const json_t *th = img_array(target, "history", NULL);
		_cleanup_error_ struct berth_error *e = NULL;
		char *id = NULL;
		if (b->pinned >= 0 && (size_t)b->pinned != i)
			continue;
		if (!continues(target, s->img) || n >= json_array_size(th) ||
		    strcmp(json_string_value(json_object_get(json_array_get(th, n), "created_by"))
				   ?: "",
			   created_by))
			continue;
		if (n + 1 == json_array_size(th))
			return strdup(json_string_value(json_object_get(src, "id")));
		if (restore_step(b, s, target, n, cc, &id, &e) < 0) {
			log_warn("build: restore a step from a cache source: %s", e ? e->msg : "?");
			return NULL;
		}
		/* as docker: the next steps come from this source only */
		b->pinned = (int)i;
		return id;
	}
	return NULL;
}

bool bld_probe(struct build *b, struct stage *s, const char *key, const json_t *cc)
{
	_cleanup_error_ struct berth_error *e = NULL;
	_cleanup_free_ char *id = NULL;
	json_t *idx;

	if (b->o.nocache || !key)
		return false;
	pthread_mutex_lock(&cache_lock);
	idx = cache_load_locked(b->d);
	id = json_string_value(json_object_get(idx, key))
		     ? strdup(json_string_value(json_object_get(idx, key)))
		     : NULL;
	pthread_mutex_unlock(&cache_lock);
	if (id && bld_load_image(b, s, id, &e) < 0) {
		free(id);
		id = NULL;
	}
	if (!id && json_array_size(b->o.cachefrom) && cc) {
		berth_error_freep(&e);
		id = cache_from_probe(b, s, cc);
		if (id && bld_load_image(b, s, id, &e) < 0) {
			free(id);
			id = NULL;
		}
	}
	if (!id)
		return false;
	bld_say(b, " ---> Using cache\n");
	return true;
}

static void cache_put(struct build *b, const char *key, const char *id)
{
	json_t *idx;

	if (!key)
		return;
	pthread_mutex_lock(&cache_lock);
	idx = cache_load_locked(b->d);
	json_object_set_new(idx, key, json_string(id));
	cache_save_locked(b->d, idx);
	pthread_mutex_unlock(&cache_lock);
}

/* ---- commit ------------------------------------------------------------------------------------ */

/*
 * The step's image: the stage's config, cc as container_config, one history row (created_by:
 * cc's Cmd joined), the layer made from upper_fd when it has changes.
 */
int bld_commit_step(struct build *b, struct stage *s, const json_t *cc, const char *ctr_id,
		    int upper_fd, const char *key, struct berth_error **err)
{
	struct berthd *d = b->d;
	_cleanup_free_ char *now_raw = berth_rfc3339_now(), *digest = NULL, *id = NULL,
			    *text = NULL;
	_cleanup_free_ char *now = now_raw ? images_go_time(now_raw) : NULL;
	_cleanup_free_ char *created_by = bld_join_json(json_object_get(cc, "Cmd"), " ");
	_cleanup_json_ json_t *img = NULL;
	struct berth_image_lease *lease = NULL;
	struct berth_layer_info *layer = NULL;
	json_t *hist, *row, *diffs;
	int r;

	if (!now || !created_by)
		return bld_oom(err);
	r = berth_image_lease_new(d->images.store, &lease, err);
	if (r < 0)
		return r;
	if (upper_fd >= 0)
		r = berth_layer_create_from_diff(d->images.store, upper_fd, s->top_layer, lease,
						 &layer, err);
	if (r < 0)
		goto out;
	hist = json_deep_copy(json_object_get(s->img, "history"));
	if (!json_is_array(hist)) {
		json_decref(hist);
		hist = json_array();
	}
	row = json_pack("{s:s}", "created", now);
	if (row && s->maintainer)
		json_object_set_new(row, "author", json_string(s->maintainer));
	if (row)
		json_object_set_new(row, "created_by", json_string(created_by));
	if (row && !layer)
		json_object_set_new(row, "empty_layer", json_true());
	json_array_append_new(hist, row);
	diffs = json_deep_copy(json_object_get(json_object_get(s->img, "rootfs"), "diff_ids"));
	if (!json_is_array(diffs)) {
		json_decref(diffs);
		diffs = json_array();
	}
	if (layer)
		json_array_append_new(diffs, json_string(layer->diff_id));
	img = json_pack("{s:s}", "architecture",
			json_string_value(json_object_get(s->img, "architecture"))
				?: d->containers.host.arch);
	if (!img || !hist || !diffs) {
		json_decref(hist);
		json_decref(diffs);
		r = bld_oom(err);
		goto out;
	}
	if (s->maintainer)
		json_object_set_new(img, "author", json_string(s->maintainer));
	json_object_set_new(img, "config", daemon_container_config_json(s->cfg));
	json_object_set_new(img, "container", json_string(ctr_id ?: ""));
	json_object_set(img, "container_config", (json_t *)cc);
	json_object_set_new(img, "created", json_string(now));
	json_object_set_new(img, "docker_version", json_string(BERTH_VERSION));
	json_object_set_new(img, "history", hist);
	json_object_set_new(img, "os", json_string("linux"));
	if (json_object_get(s->img, "variant"))
		json_object_set(img, "variant", json_object_get(s->img, "variant"));
	json_object_set_new(img, "rootfs",
			    json_pack("{s:s,s:o}", "type", "layers", "diff_ids", diffs));
	text = json_dumps(img, JSON_COMPACT);
	if (!text) {
		r = bld_oom(err);
		goto out;
	}
	r = berth_blob_write(d->images.store, text, strlen(text), NULL, lease, &digest, err);
	if (r == 0)
		r = berth_image_add(d->images.store, digest, s->image_id, &id, err);
	if (r == 0) {
		free(s->image_id);
		s->image_id = TAKE_PTR(id);
		if (layer) {
			free(s->top_layer);
			s->top_layer = strdup(layer->chain_id);
		}
		json_decref(s->img);
		s->img = json_incref(img);
		cache_put(b, key, s->image_id);
	}
out:
	berth_layer_info_free(layer);
	berth_image_lease_release(lease, r < 0);
	return r;
}

/* A config for the cache and for container_config: the stage's with another Cmd. */
json_t *bld_with_cmd(const struct stage *s, json_t *cmd, bool entrypoint_null)
{
	json_t *c = json_deep_copy(s->cfg);

	if (!c) {
		json_decref(cmd);
		return NULL;
	}
	json_object_set_new(c, "Cmd", cmd);
	if (entrypoint_null)
		json_object_set_new(c, "Entrypoint", json_null());
	json_t *full = daemon_container_config_json(c);
	json_decref(c);
	return full;
}

/* withCmdComment: shell + ["#(nop) ", comment] */
json_t *bld_comment_cmd(const struct stage *s, const char *comment)
{
	json_t *a = bld_shell_of(s->cfg);

	json_array_append_new(a, json_string("#(nop) "));
	json_array_append_new(a, json_string(comment));
	return a;
}

/* A step that changes the config only. */
int bld_meta_commit(struct build *b, struct stage *s, const char *comment, struct berth_error **err)
{
	_cleanup_json_ json_t *cc = bld_with_cmd(s, bld_comment_cmd(s, comment), false);
	_cleanup_free_ char *key = cc ? build_cache_key(s->image_id, cc, NULL) : NULL;

	if (!key)
		return bld_oom(err);
	if (bld_probe(b, s, key, cc))
		return 0;
	return bld_commit_step(b, s, cc, NULL, -1, key, err);
}

/* ---- steps that write files: an overlay of the parent ------------------------------------------ */

int bld_fs_mount(struct build *b, const char *top_layer, struct fs_mount *m,
		 struct berth_error **err)
{
	_cleanup_free_ char *merged = NULL;
	int r;

	m->root_fd = -EBADF;
	if (asprintf(&m->dir, "%s/root%u", b->dir, b->seq++) < 0 ||
	    asprintf(&merged, "%s/merged", m->dir) < 0)
		return bld_oom(err);
	if (mkdir(m->dir, 0700) < 0)
		return berth_error_sys(err, errno, "mkdir '%s'", m->dir);
	r = berth_rootfs_mount(b->d->images.store, top_layer, m->dir, 0, err);
	if (r < 0)
		return r;
	m->root_fd = open(merged, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (m->root_fd < 0)
		return berth_error_sys(err, errno, "open '%s'", merged);
	return 0;
}

void bld_fs_unmount(struct fs_mount *m, bool remove)
{
	if (m->root_fd >= 0)
		close(m->root_fd);
	m->root_fd = -EBADF;
	if (m->dir) {
		berth_rootfs_unmount(m->dir, NULL);
		if (remove) {
			berth_rootfs_remove(m->dir, NULL);
			berth_rm_rf(m->dir, NULL);
			free(m->dir);
			m->dir = NULL;
		}
	}
}

/* unmount, commit the upper directory, remove */
int bld_fs_commit(struct build *b, struct stage *s, struct fs_mount *m, const json_t *cc,
		  const char *key, struct berth_error **err)
{
	_cleanup_free_ char *upper = NULL;
	_cleanup_close_ int ufd = -EBADF;
	int r;

	bld_fs_unmount(m, false);
	if (asprintf(&upper, "%s/upper", m->dir) < 0)
		return bld_oom(err);
	ufd = open(upper, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (ufd < 0)
		return berth_error_sys(err, errno, "open '%s'", upper);
	r = bld_commit_step(b, s, cc, NULL, ufd, key, err);
	bld_fs_unmount(m, true);
	return r;
}

/* ---- the plan: stages, the target, what is needed ------------------------------------------- */

/* RUN --mount=...,from=<stage>,...: that stage is needed too */
static void mount_dep(struct build *b, const char *spec, size_t before)
{
	for (const char *p = spec; p && *p; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL) {
		if (strncmp(p, "from=", 5))
			continue;
		_cleanup_free_ char *name = strndup(p + 5, strcspn(p + 5, ","));
		struct stage *dep = name ? bld_stage_named(b, name, before) : NULL;
		if (dep)
			dep->needed = true;
	}
}

static const char *const known[] = {"add",	  "arg",     "cmd",	"copy",	       "entrypoint",
				    "env",	  "expose",  "from",	"healthcheck", "label",
				    "maintainer", "onbuild", "run",	"shell",       "stopsignal",
				    "user",	  "volume",  "workdir", NULL};

static int plan(struct build *b, struct berth_error **err)
{
	size_t first_from = b->n_ins;

	for (size_t i = 0; i < b->n_ins; i++) {
		_cleanup_free_ char *lc = bld_lower(b->ins[i].cmd);
		bool ok = false;
		if (!lc)
			return bld_oom(err);
		for (size_t k = 0; known[k]; k++)
			ok |= !strcmp(lc, known[k]);
		if (!ok)
			return berth_error_set(err, EINVAL,
					       "dockerfile parse error on line %d: unknown "
					       "instruction: %s",
					       b->ins[i].line, b->ins[i].cmd);
		if (!strcmp(lc, "from")) {
			size_t n = berth_strv_length(b->ins[i].args);
			if (n != 1 && n != 3)
				return berth_error_set(err, EINVAL,
						       "dockerfile parse error on line %d: FROM "
						       "requires either one or three arguments",
						       b->ins[i].line);
			if (n == 3 && strcasecmp(b->ins[i].args[1], "as"))
				return berth_error_set(err, EINVAL,
						       "dockerfile parse error on line %d: FROM "
						       "requires either one or three arguments",
						       b->ins[i].line);
			if (first_from == b->n_ins)
				first_from = i;
			struct stage *v = realloc(b->stages, (b->n_stages + 1) * sizeof(*v));
			if (!v)
				return bld_oom(err);
			b->stages = v;
			struct stage *s = &b->stages[b->n_stages];
			memset(s, 0, sizeof(*s));
			s->index = b->n_stages++;
			s->from = &b->ins[i];
			s->v = &b->ins[i + 1];
			if (n == 3) {
				s->name = bld_lower(b->ins[i].args[2]);
				if (!s->name)
					return bld_oom(err);
				for (size_t k = 0; k + 1 < b->n_stages; k++)
					if (b->stages[k].name &&
					    !strcmp(b->stages[k].name, s->name))
						return berth_error_set(
							err, EINVAL,
							"dockerfile parse error on line %d: "
							"duplicate name %s",
							b->ins[i].line, b->ins[i].args[2]);
			}
		} else if (first_from == b->n_ins && strcmp(lc, "arg")) {
			return berth_error_set(err, EINVAL,
					       "dockerfile parse error on line %d: no build stage "
					       "in current context",
					       b->ins[i].line);
		} else if (b->n_stages) {
			b->stages[b->n_stages - 1].n++;
		}
	}
	if (!b->n_stages)
		return berth_error_set(err, EINVAL,
				       "dockerfile parse error on line %d: no build stage in "
				       "current context",
				       b->n_ins ? b->ins[b->n_ins - 1].line : 1);
	size_t target = b->n_stages - 1;
	if (b->o.target && *b->o.target) {
		_cleanup_free_ char *t = bld_lower(b->o.target);
		bool found = false;
		for (size_t i = 0; t && i < b->n_stages && !found; i++)
			if (b->stages[i].name && !strcmp(b->stages[i].name, t)) {
				target = i;
				found = true;
			}
		if (!found)
			return berth_error_set(
				err, EINVAL, "target stage \"%s\" could not be found", b->o.target);
	}
	for (size_t i = target + 1; i < b->n_stages; i++)
		free(b->stages[i].name);
	b->n_stages = target + 1;
	/* what the target needs: FROM <stage> and COPY --from=<stage>, walked back */
	b->stages[target].needed = true;
	for (size_t i = target + 1; i-- > 0;) {
		struct stage *s = &b->stages[i];
		if (!s->needed)
			continue;
		struct stage *dep = bld_stage_named(b, s->from->args[0], i);
		if (dep)
			dep->needed = true;
		for (size_t k = 0; k < s->n; k++) {
			for (size_t f = 0; s->v[k].flags && s->v[k].flags[f]; f++) {
				const char *fl = s->v[k].flags[f];
				if (berth_str_has_prefix(fl, "--mount=")) {
					mount_dep(b, fl + 8, i);
					continue;
				}
				if (!berth_str_has_prefix(fl, "--from="))
					continue;
				dep = bld_stage_named(b, fl + 7, i);
				if (dep)
					dep->needed = true;
			}
		}
	}
	b->total = (unsigned)(first_from < b->n_ins ? first_from : 0);
	for (size_t i = 0; i < b->n_stages; i++)
		if (b->stages[i].needed)
			b->total += 1 + (unsigned)b->stages[i].n;
	return 0;
}

/* --label: a LABEL step at the end of the last stage, keys sorted */
static int label_instr(struct build *b, struct df_instr *ret)
{
	const char *k;
	json_t *v;
	_cleanup_strv_ char **keys = calloc(1, sizeof(char *));
	struct sbuf orig = {0};

	memset(ret, 0, sizeof(*ret));
	if (!keys)
		return -ENOMEM;
	json_object_foreach (b->o.labels, k, v)
		if (berth_strv_push(&keys, k) < 0)
			return -ENOMEM;
	qsort(keys, berth_strv_length(keys), sizeof(char *), images_cmp_str);
	ret->cmd = strdup("LABEL");
	ret->flags = calloc(1, sizeof(char *));
	ret->args = calloc(1, sizeof(char *));
	sb_adds(&orig, "LABEL");
	for (size_t i = 0; keys[i]; i++) {
		const char *val = json_string_value(json_object_get(b->o.labels, keys[i])) ?: "";
		/* quoted so that the shell-word rules leave them as they are */
		struct sbuf q = {0};
		sb_addc(&q, '\'');
		for (const char *p = val; *p; p++) {
			if (*p == '\'')
				sb_adds(&q, "'\"'\"'");
			else
				sb_addc(&q, *p);
		}
		sb_addc(&q, '\'');
		_cleanup_free_ char *qs = sb_take(&q);
		if (!qs || berth_strv_push(&ret->args, keys[i]) < 0 ||
		    berth_strv_push(&ret->args, qs) < 0)
			return -ENOMEM;
		sb_addc(&orig, ' ');
		sb_adds(&orig, keys[i]);
		sb_addc(&orig, '=');
		sb_adds(&orig, val);
	}
	ret->original = sb_take(&orig);
	return ret->cmd && ret->flags && ret->args && ret->original ? 0 : -ENOMEM;
}

static void step_header(struct build *b, const struct df_instr *in)
{
	b->step++;
	bld_say(b, "Step %u/%u : %s\n", b->step, b->total, in->original);
}

static int run_plan(struct build *b, struct berth_error **err)
{
	struct df_instr label = {0};
	bool has_labels = json_object_size(b->o.labels) > 0;
	int r = 0;

	if (has_labels) {
		if (label_instr(b, &label) < 0) {
			df_instr_release(&label);
			return bld_oom(err);
		}
		b->total++;
	}
	for (size_t i = 0; i < b->n_ins && r == 0; i++) {
		if (b->stages[0].from == &b->ins[i])
			break;
		step_header(b, &b->ins[i]);
		r = bld_arg_step(b, NULL, &b->ins[i], err);
	}
	for (size_t i = 0; i < b->n_stages && r == 0; i++) {
		struct stage *s = &b->stages[i];
		if (!s->needed)
			continue;
		step_header(b, s->from);
		r = bld_from_step(b, s, err);
		for (size_t k = 0; k < s->n && r == 0; k++) {
			step_header(b, &s->v[k]);
			r = bld_dispatch(b, s, &s->v[k], err);
			if (r == 0)
				bld_say(b, " ---> %s\n", bld_short_id(s->image_id));
		}
		if (r == 0 && has_labels && i + 1 == b->n_stages) {
			step_header(b, &label);
			r = bld_dispatch(b, s, &label, err);
			if (r == 0)
				bld_say(b, " ---> %s\n", bld_short_id(s->image_id));
		}
	}
	df_instr_release(&label);
	return r;
}

/* ---- the request ------------------------------------------------------------------------------- */

/* The context and step roots go before the answer ends: a client never sees them after. */
static void build_remove_dir(struct build *b)
{
	_cleanup_error_ struct berth_error *e = NULL;

	bld_context_unmount(b);
	if (b->ctx_fd >= 0)
		close(b->ctx_fd);
	b->ctx_fd = -EBADF;
	if (b->dir && berth_rm_rf(b->dir, &e) < 0)
		log_warn("build: remove '%s': %s", b->dir, e ? e->msg : "?");
	free(b->dir);
	b->dir = NULL;
}

static void build_release(struct build *b)
{
	for (size_t i = 0; i < b->n_stages; i++) {
		struct stage *s = &b->stages[i];
		free(s->name);
		free(s->image_id);
		free(s->top_layer);
		json_decref(s->img);
		json_decref(s->cfg);
		for (size_t k = 0; k < s->n_args; k++) {
			free(s->args[k].name);
			free(s->args[k].value);
		}
		free(s->args);
		free(s->maintainer);
	}
	free(b->stages);
	for (size_t i = 0; i < b->n_meta; i++) {
		free(b->meta[i].name);
		free(b->meta[i].value);
	}
	free(b->meta);
	for (size_t i = 0; i < b->n_ins; i++)
		df_instr_release(&b->ins[i]);
	free(b->ins);
	build_remove_dir(b);
	berth_strv_free(b->o.tags);
	json_decref(b->o.buildargs);
	json_decref(b->o.labels);
	json_decref(b->o.cachefrom);
	json_decref(b->sources);
	json_decref(b->o.resources);
	json_decref(b->used_args);
	free(b->quiet.p);
}

/* Remove the Dockerfile and .dockerignore from the context when .dockerignore excludes them. */
static void remove_build_files(struct build *b, const char *dockerfile)
{
	_cleanup_free_ char *text = NULL, *df = berth_path_clean(dockerfile);
	struct berth_ignore ig = {0};

	if (berth_read_file_at(b->ctx_fd, ".dockerignore", 1 << 20, &text, NULL, NULL) < 0 ||
	    berth_ignore_parse(text, &ig, NULL) < 0)
		return;
	if (df && berth_ignore_match(&ig, df))
		unlinkat(b->ctx_fd, df, 0);
	if (berth_ignore_match(&ig, ".dockerignore"))
		unlinkat(b->ctx_fd, ".dockerignore", 0);
	berth_ignore_release(&ig);
}

static int read_dockerfile(struct build *b, char **ret, struct berth_error **err)
{
	const char *name = b->o.dockerfile && *b->o.dockerfile ? b->o.dockerfile : "Dockerfile";
	_cleanup_close_ int fd = -EBADF;
	_cleanup_error_ struct berth_error *e = NULL;
	size_t len = 0;
	int r;

	if (berth_open_in_root(b->ctx_fd, name, O_RDONLY | O_NONBLOCK, &fd, &e) < 0)
		return berth_error_set(err, EINVAL, "Cannot locate specified Dockerfile: %s", name);
	r = berth_read_fd(fd, DOCKERFILE_MAX, ret, &len, err);
	if (r < 0)
		return berth_error_wrap(err, "read '%s'", name), r;
	if (len == 0) {
		free(*ret);
		*ret = NULL;
		return berth_error_set(err, EINVAL, "the Dockerfile (%s) cannot be empty", name);
	}
	if (memchr(*ret, '\0', len)) {
		free(*ret);
		*ret = NULL;
		return berth_error_set(err, EINVAL, "failed to parse %s: the file holds NUL bytes",
				       name);
	}
	remove_build_files(b, name);
	return 0;
}

static int parse_query(struct build *b, struct berth_error **err)
{
	struct berth_http_request *req = b->req;
	const char *const *tags = berth_http_query_all(req, "t");
	const char *s;
	int64_t v;

	b->o.tags = calloc(1, sizeof(char *));
	b->used_args = json_object();
	b->o.resources = json_object();
	if (!b->o.tags || !b->used_args || !b->o.resources)
		return bld_oom(err);
	s = berth_http_query(req, "version");
	if (s && !strcmp(s, "2"))
		return berth_error_set(err, EINVAL,
				       "BuildKit is not supported by berthd: use the classic "
				       "builder (version=1)");
	for (size_t i = 0; tags && tags[i]; i++) {
		_cleanup_reference_ struct berth_reference *ref = NULL;
		_cleanup_free_ char *full = NULL;
		_cleanup_error_ struct berth_error *e = NULL;
		if (!*tags[i])
			continue;
		if (berth_reference_parse(tags[i], &ref, &e) < 0)
			return berth_error_set(err, EINVAL, "invalid reference format");
		if (ref->digest)
			return berth_error_set(err, EINVAL,
					       "refusing to create a tag with a digest reference");
		if (berth_reference_default_tag(ref) < 0 || !(full = berth_reference_string(ref)) ||
		    berth_strv_push(&b->o.tags, full) < 0)
			return bld_oom(err);
	}
	b->o.dockerfile = berth_http_query(req, "dockerfile");
	s = berth_http_query(req, "buildargs");
	if (s && *s) {
		b->o.buildargs = json_loads(s, 0, NULL);
		const char *k;
		json_t *val;
		bool ok = json_is_object(b->o.buildargs);
		json_object_foreach (b->o.buildargs, k, val)
			ok &= json_is_string(val) || json_is_null(val);
		if (!ok)
			return berth_error_set(err, EINVAL, "error reading build args: %s", s);
		/* null: use the value of the client's environment, which it did not have */
		void *tmp;
		json_object_foreach_safe(b->o.buildargs, tmp, k, val) if (json_is_null(val))
			json_object_del(b->o.buildargs, k);
	} else {
		b->o.buildargs = json_object();
	}
	s = berth_http_query(req, "labels");
	if (s && *s) {
		b->o.labels = json_loads(s, 0, NULL);
		const char *k;
		json_t *val;
		bool ok = json_is_object(b->o.labels);
		json_object_foreach (b->o.labels, k, val)
			ok &= json_is_string(val);
		if (!ok)
			return berth_error_set(err, EINVAL, "error reading labels: %s", s);
	} else {
		b->o.labels = json_object();
	}
	s = berth_http_query(req, "cachefrom");
	if (s && *s) {
		size_t i;
		json_t *val;
		b->o.cachefrom = json_loads(s, 0, NULL);
		bool ok = json_is_array(b->o.cachefrom);
		json_array_foreach (b->o.cachefrom, i, val)
			ok &= json_is_string(val);
		if (!ok)
			return berth_error_set(err, EINVAL, "invalid cachefrom: %s", s);
	}
	b->o.nocache = berth_http_query_bool(req, "nocache");
	b->o.quiet = berth_http_query_bool(req, "q");
	b->o.forcerm = berth_http_query_bool(req, "forcerm");
	b->o.rm = berth_http_query_bool_or_default(req, "rm", true) || b->o.forcerm;
	b->o.pull = berth_http_query_bool(req, "pull");
	b->o.target = berth_http_query(req, "target");
	b->o.networkmode = berth_http_query(req, "networkmode");
	s = berth_http_query(req, "platform");
	if (s && *s && strcmp(s, "linux") &&
	    !(berth_str_has_prefix(s, "linux/") &&
	      !strncmp(s + 6, b->d->containers.host.arch, strlen(b->d->containers.host.arch))))
		return berth_error_set(err, EINVAL, "platform %s is not this machine's linux/%s", s,
				       b->d->containers.host.arch);
	static const char *const ints[][2] = {
		{"memory", "Memory"},	    {"memswap", "MemorySwap"}, {"cpushares", "CpuShares"},
		{"cpuperiod", "CpuPeriod"}, {"cpuquota", "CpuQuota"},  {"shmsize", "ShmSize"},
	};
	for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); i++) {
		if (!berth_http_query_has(req, ints[i][0]))
			continue;
		if (berth_http_query_int64(req, ints[i][0], 0, INT64_MIN, INT64_MAX, &v, err) < 0)
			return -EINVAL;
		if (v)
			json_object_set_new(b->o.resources, ints[i][1], json_integer(v));
	}
	static const char *const strs[][2] = {{"cpusetcpus", "CpusetCpus"},
					      {"cpusetmems", "CpusetMems"}};
	for (size_t i = 0; i < 2; i++) {
		s = berth_http_query(req, strs[i][0]);
		if (s && *s)
			json_object_set_new(b->o.resources, strs[i][1], json_string(s));
	}
	return 0;
}

static void finish_error(struct build *b, struct berth_error *e)
{
	const char *msg = e && e->msg ? e->msg : "build failed";

	build_remove_dir(b);
	if (b->o.quiet && b->quiet.len && b->streaming)
		bld_emit(b, json_pack("{s:s%}", "stream", b->quiet.p, b->quiet.len));
	if (!b->streaming) {
		int status = e ? berth_api_error_status(e->code) : 500;
		if (e && (e->code == EINVAL || e->code == ENOENT || e->code == ENOTSUP))
			status = 400;
		if (b->o.quiet && b->quiet.len) {
			/* -q: the output so far goes with the error */
			bld_emit(b, json_pack("{s:s%}", "stream", b->quiet.p, b->quiet.len));
		} else {
			berth_http_respond_error(b->req, status, "%s", msg);
			return;
		}
	}
	json_t *detail = json_pack("{s:s}", "message", msg);
	if (b->fail_code && detail)
		json_object_set_new(detail, "code", json_integer(b->fail_code));
	bld_emit(b, json_pack("{s:o,s:s}", "errorDetail", detail, "error", msg));
	berth_http_stream_end(b->req);
}

static void post_build(struct berth_http_request *req, void *userdata)
{
	struct berthd *d = userdata;
	struct build b = {.d = d, .req = req, .ctx_fd = -EBADF, .escape = '\\', .pinned = -1};
	_cleanup_error_ struct berth_error *e = NULL;
	_cleanup_free_ char *text = NULL, *tmpl = NULL;
	int r;

	atomic_fetch_add(&d->images.ops, 1);
	pthread_rwlock_rdlock(&builds_lock);
	r = parse_query(&b, &e);
	if (r == 0 && asprintf(&tmpl, "%s/tmp/build-XXXXXX", d->config.data_root) < 0)
		r = bld_oom(&e);
	if (r == 0 && !(b.dir = mkdtemp(tmpl)))
		r = berth_error_sys(&e, errno, "mkdtemp '%s'", tmpl);
	if (r == 0)
		tmpl = NULL;
	if (r == 0)
		r = bld_context_receive(&b, &e);
	if (r == 0)
		r = read_dockerfile(&b, &text, &e);
	if (r == 0) {
		r = df_parse(text, &b.ins, &b.n_ins, &b.escape, &e);
		if (r < 0)
			berth_error_wrap(&e, "failed to parse %s",
					 b.o.dockerfile && *b.o.dockerfile ? b.o.dockerfile
									   : "Dockerfile");
	}
	if (r == 0)
		r = plan(&b, &e);
	if (r == 0)
		r = run_plan(&b, &e);
	if (r == 0) {
		struct stage *last = &b.stages[b.n_stages - 1];
		if (!last->image_id)
			r = berth_error_set(&e, EINVAL,
					    "No image was generated. Is your Dockerfile empty?");
	}
	if (r < 0) {
		finish_error(&b, e);
		goto out;
	}
	{
		struct stage *last = &b.stages[b.n_stages - 1];
		const char *id = last->image_id;
		/* build args nobody declared */
		_cleanup_strv_ char **unused = calloc(1, sizeof(char *));
		const char *k;
		json_t *v;
		json_object_foreach (b.o.buildargs, k, v)
			if (!json_object_get(b.used_args, k) && unused)
				berth_strv_push(&unused, k);
		if (unused && unused[0]) {
			qsort(unused, berth_strv_length(unused), sizeof(char *), images_cmp_str);
			_cleanup_free_ char *list = bld_join_strv(unused, " ");
			bld_say(&b, "[Warning] One or more build-args [%s] were not consumed\n",
				list ?: "");
		}
		bld_emit(&b, json_pack("{s:{s:s}}", "aux", "ID", id));
		bld_say(&b, "Successfully built %s\n", bld_short_id(id));
		for (size_t i = 0; b.o.tags[i]; i++) {
			_cleanup_free_ char *fam = images_familiar(b.o.tags[i]), *had = NULL;
			/* a rebuild that changed nothing leaves the index (and its fsync) alone */
			if (berth_image_resolve(d->images.store, b.o.tags[i], &had, NULL) == 0 &&
			    !strcmp(had, id)) {
				images_event(d, "tag", id, fam ?: b.o.tags[i], NULL);
				bld_say(&b, "Successfully tagged %s\n", fam ?: b.o.tags[i]);
				continue;
			}
			if (berth_image_tag(d->images.store, id, b.o.tags[i], &e) < 0) {
				finish_error(&b, e);
				goto out;
			}
			images_event(d, "tag", id, fam ?: b.o.tags[i], NULL);
			bld_say(&b, "Successfully tagged %s\n", fam ?: b.o.tags[i]);
		}
		if (b.o.quiet) {
			_cleanup_free_ char *line = NULL;
			if (asprintf(&line, "%s\n", id) > 0)
				bld_emit(&b, json_pack("{s:s}", "stream", line));
		}
		daemon_images_update_count(d);
		build_remove_dir(&b);
		berth_http_stream_end(req);
	}
out:
	free(tmpl);
	build_release(&b);
	pthread_rwlock_unlock(&builds_lock);
	atomic_fetch_sub(&d->images.ops, 1);
}

/* ---- POST /build/prune ------------------------------------------------------------------------ */

/*
 * The images the cache names that nothing else holds go, one pass per generation (a child
 * first, then its parent): never one with a tag or digest (berth_image_delete with an id would
 * untag it), one a container uses, or one with child images (a tagged image's chain, another
 * build's steps) — berth_image_delete refuses those with EBUSY and they stay.  With all, every
 * entry (of the until filter) leaves the index even when its image stays; without, only those
 * whose image went or was already gone (docker's "dangling" build cache).  *ret_reclaimed is
 * the bytes of the layers that went (an image's size less its parent's).
 */
static int cache_prune_locked(struct berthd *d, bool all, int64_t until_ns, json_t *idx,
			      json_t *deleted, uint64_t *ret_reclaimed, struct berth_error **err)
{
	_cleanup_json_ json_t *gone = json_object(), *tried = json_object();
	struct daemon_image_users u;
	uint64_t reclaimed = 0;
	bool progress = true;
	const char *k;
	json_t *v;
	void *tmp;

	if (!gone || !tried)
		return bld_oom(err);
	if (images_users_snapshot(d, &u) < 0)
		return bld_oom(err);
	while (progress) {
		progress = false;
		json_object_foreach (idx, k, v) {
			const char *id = json_string_value(v);
			struct berth_image_info *info = NULL, *parent = NULL;
			struct berth_image_deleted *items = NULL;
			struct berth_error *e = NULL;
			size_t n = 0;

			if (!id || json_object_get(gone, id) || json_object_get(tried, id))
				continue;
			if (berth_image_inspect(d->images.store, id, &info, &e) < 0) {
				berth_error_free(e);
				json_object_set_new(gone, id, json_true());
				continue;
			}
			if ((until_ns && info->created_unix * 1000000000LL > until_ns) ||
			    (info->repo_tags && info->repo_tags[0]) ||
			    (info->repo_digests && info->repo_digests[0])) {
				json_object_set_new(tried, id, json_true());
				berth_image_info_free(info);
				continue;
			}
			if (info->parent &&
			    berth_image_inspect(d->images.store, info->parent, &parent, &e) < 0) {
				berth_error_free(e);
				e = NULL;
			}
			if (berth_image_delete(d->images.store, id, BERTH_IMAGE_DELETE_NO_PRUNE,
					       &u.users, &items, &n, &e) == 0) {
				json_object_set_new(gone, id, json_true());
				for (size_t i = 0; i < n; i++)
					if (info->top_layer &&
					    items[i].kind == BERTH_IMAGE_DELETED &&
					    !strcmp(items[i].value, info->top_layer))
						reclaimed += info->size -
							     (parent && parent->size <= info->size
								      ? parent->size
								      : 0);
				berth_image_deleted_free(items, n);
				progress = true;
			} else {
				/* held (EBUSY: a child, a container); a child may go in this pass */
				berth_error_free(e);
			}
			berth_image_info_free(parent);
			berth_image_info_free(info);
		}
	}
	daemon_image_users_release(&u);
	json_object_foreach_safe(idx, tmp, k, v)
	{
		const char *id = json_string_value(v);
		bool old_enough = true;
		if (id && until_ns && !json_object_get(gone, id)) {
			struct berth_image_info *info = NULL;
			struct berth_error *e = NULL;
			if (berth_image_inspect(d->images.store, id, &info, &e) == 0) {
				old_enough = info->created_unix * 1000000000LL <= until_ns;
				berth_image_info_free(info);
			} else {
				berth_error_free(e);
			}
		}
		if (!id || json_object_get(gone, id) || (all && old_enough)) {
			json_array_append_new(deleted, json_string(k));
			json_object_del(idx, k);
		}
	}
	*ret_reclaimed = reclaimed;
	return 0;
}

static void post_build_prune(struct berth_http_request *req, void *userdata)
{
	static const char *const accepted[] = {"until", NULL};
	struct berthd *d = userdata;
	_cleanup_error_ struct berth_error *e = NULL;
	_cleanup_filters_ struct berth_filters *f = NULL;
	_cleanup_json_ json_t *deleted = json_array();
	json_t *idx;
	bool all = berth_http_query_bool(req, "all");
	uint64_t reclaimed = 0;
	int64_t until_ns = 0;
	int r;

	images_op_scope(d);
	r = berth_http_query_filters(req, &f, &e);
	if (r == 0)
		r = berth_filters_validate(f, accepted, &e);
	if (r == 0 && berth_filters_contains(f, "until")) {
		const char *const *until = berth_filters_values(f, "until");
		if (until[0] && until[1])
			r = berth_error_set(&e, EINVAL, "more than one until filter specified");
		else if (until[0])
			r = berth_api_parse_time(until[0], daemon_now_ns(), &until_ns, &e);
	}
	if (r == 0 && !deleted)
		r = bld_oom(&e);
	if (r < 0) {
		images_respond_error(req, e);
		return;
	}
	/* no build runs meanwhile: its fresh steps are untagged images nothing holds yet */
	pthread_rwlock_wrlock(&builds_lock);
	pthread_mutex_lock(&cache_lock);
	idx = cache_load_locked(d);
	r = cache_prune_locked(d, all, until_ns, idx, deleted, &reclaimed, &e);
	if (r == 0)
		cache_save_locked(d, idx);
	pthread_mutex_unlock(&cache_lock);
	if (r == 0)
		r = build_mounts_prune(d, until_ns, deleted, &reclaimed, &e);
	pthread_rwlock_unlock(&builds_lock);
	if (r < 0) {
		images_respond_error(req, e);
		return;
	}
	daemon_images_update_count(d);
	_cleanup_json_ json_t *ans = json_pack("{s:O,s:I}", "CachesDeleted", deleted,
					       "SpaceReclaimed", (json_int_t)reclaimed);
	berth_http_respond_json(req, 200, ans);
}

int daemon_routes_build(struct berthd *d, struct berth_error **err)
{
	/* no build runs yet: what an interrupted one left mounted can go */
	bld_context_sweep(d);
	return berth_api_router_add(d->router, "POST", "/build", post_build, d, err)
		       ?: berth_api_router_add(d->router, "POST", "/build/prune", post_build_prune,
					       d, err);
}
