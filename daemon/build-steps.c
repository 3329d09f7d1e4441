/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The classic builder's steps (build.c runs them in order): FROM (an image, a stage or scratch,
 * the base's ONBUILD triggers), ARG, RUN in a real container, COPY and ADD (build-copy.c finds
 * and copies the files; ADD downloads URLs), WORKDIR, and the metadata instructions, which
 * image-changes.c applies as it does for import/commit --change.  Each step ends with the
 * stage on a new image (bld_commit_step) or on a cached one (bld_probe).
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>

#include "build-internal.h"
#include "containers-internal.h"
#include "dockerfile.h"
#include "images-internal.h"

#include "base/banned.h"

/* ---- FROM ------------------------------------------------------------------------------------- */

static void pull_progress(void *userdata, const struct berth_registry_progress *p)
{
	struct build *b = userdata;

	if (b->o.quiet)
		return;
	if (p->id)
		bld_emit(b, json_pack("{s:s,s:s}", "status", p->status, "id", p->id));
	else
		bld_emit(b, json_pack("{s:s}", "status", p->status));
}

static int pull_image(struct build *b, const char *ref, struct berth_error **err)
{
	struct berth_registry_progress_cb cb = {pull_progress, b};
	struct berth_registry_pull_result res = {0};
	struct berth_registry *reg = NULL;
	int r = daemon_registry_client(b->d, &reg, err);

	if (r == 0)
		r = berth_registry_pull(reg, b->d->images.store, ref, NULL, NULL, &cb, &res, err);
	berth_registry_free(reg);
	berth_registry_pull_result_release(&res);
	if (r == 0)
		daemon_images_update_count(b->d);
	return r;
}

/* an image the build uses (FROM, COPY --from): local, else pulled; --pull pulls first */
int bld_image_for(struct build *b, const char *ref, char **ret_id, struct berth_error **err)
{
	_cleanup_error_ struct berth_error *e = NULL;
	int r;

	if (b->o.pull) {
		r = pull_image(b, ref, &e);
		if (r < 0 && berth_image_resolve(b->d->images.store, ref, ret_id, NULL) == 0)
			return 0; /* docker keeps building from the local one */
		if (r < 0) {
			*err = TAKE_PTR(e);
			return r;
		}
	}
	r = berth_image_resolve(b->d->images.store, ref, ret_id, &e);
	if (r == -ENOENT) {
		berth_error_freep(&e);
		r = pull_image(b, ref, &e);
		if (r == 0)
			r = berth_image_resolve(b->d->images.store, ref, ret_id, &e);
	}
	if (r < 0)
		*err = TAKE_PTR(e);
	return r;
}

struct stage *bld_stage_named(struct build *b, const char *name, size_t before)
{
	_cleanup_free_ char *lc = bld_lower(name);
	char *end;
	unsigned long idx;

	if (!lc)
		return NULL;
	for (size_t i = 0; i < before && i < b->n_stages; i++)
		if (b->stages[i].name && !strcmp(b->stages[i].name, lc))
			return &b->stages[i];
	idx = strtoul(name, &end, 10);
	if (*name && !*end && idx < before && idx < b->n_stages)
		return &b->stages[idx];
	return NULL;
}

static json_t *meta_env(struct build *b)
{
	json_t *env = json_array();

	for (size_t i = 0; env && i < b->n_meta; i++) {
		_cleanup_free_ char *kv = NULL;
		if (b->meta[i].value &&
		    asprintf(&kv, "%s=%s", b->meta[i].name, b->meta[i].value) > 0)
			json_array_append_new(env, json_string(kv));
	}
	return env;
}

int bld_from_step(struct build *b, struct stage *s, struct berth_error **err)
{
	static const char *const names[] = {"platform", NULL};
	const char *vals[2] = {NULL};
	_cleanup_json_ json_t *env = meta_env(b);
	_cleanup_free_ char *ref = NULL, *id = NULL;
	struct stage *src;
	int r;

	r = df_parse_flags(s->from->flags, names, vals, err);
	if (r < 0)
		return r;
	if (vals[0] && *vals[0]) {
		_cleanup_free_ char *p = NULL;
		r = df_lex(vals[0], b->escape, env, &p, NULL, err);
		if (r < 0)
			return r;
		if (*p && strcmp(p, "linux") &&
		    !(berth_str_has_prefix(p, "linux/") &&
		      !strncmp(p + 6, b->d->containers.host.arch,
			       strlen(b->d->containers.host.arch))))
			return berth_error_set(err, EINVAL,
					       "image platform %s does not match this machine's "
					       "linux/%s",
					       p, b->d->containers.host.arch);
	}
	r = df_lex(s->from->args[0], b->escape, env, &ref, NULL, err);
	if (r < 0)
		return r;
	if (!*ref)
		return berth_error_set(err, EINVAL, "base name (%s) should not be blank",
				       s->from->args[0]);
	src = bld_stage_named(b, ref, s->index);
	if (!strcasecmp(ref, "scratch")) {
		s->cfg = json_object();
	} else if (src) {
		if (src->image_id) {
			r = bld_load_image(b, s, src->image_id, err);
			if (r < 0)
				return r;
		}
		s->cfg = json_deep_copy(src->cfg);
	} else {
		r = bld_image_for(b, ref, &id, err);
		if (r < 0)
			return r;
		r = bld_load_image(b, s, id, err);
		if (r < 0)
			return r;
		s->cfg = daemon_container_config_json(json_object_get(s->img, "config"));
	}
	if (!s->cfg)
		return bld_oom(err);
	/* the config as the instructions build it: nulls dropped, a PATH always */
	const char *k;
	json_t *v;
	void *tmp;
	json_object_foreach_safe(s->cfg, tmp, k, v) if (json_is_null(v)) json_object_del(s->cfg, k);
	bld_set_default_path(s->cfg);
	if (s->image_id)
		bld_say(b, " ---> %s\n", bld_short_id(s->image_id));

	/* the base image's ONBUILD triggers run first, then go */
	_cleanup_json_ json_t *triggers = json_deep_copy(json_object_get(s->cfg, "OnBuild"));
	json_object_del(s->cfg, "OnBuild");
	if (json_array_size(triggers)) {
		size_t i;
		json_t *t;
		bld_say(b, "# Executing %zu build trigger%s\n", json_array_size(triggers),
			json_array_size(triggers) == 1 ? "" : "s");
		json_array_foreach (triggers, i, t) {
			struct df_instr *tv = NULL;
			size_t tn = 0;
			char esc;
			r = df_parse(json_string_value(t) ?: "", &tv, &tn, &esc, err);
			for (size_t k2 = 0; r == 0 && k2 < tn; k2++)
				r = bld_dispatch(b, s, &tv[k2], err);
			for (size_t k2 = 0; k2 < tn; k2++)
				df_instr_release(&tv[k2]);
			free(tv);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

/* ---- ARG -------------------------------------------------------------------------------------- */

/* a build arg's value given with the request (consumed), or NULL */
static const char *given_arg(struct build *b, const char *name, bool *given)
{
	json_t *v = json_object_get(b->o.buildargs, name);

	*given = v != NULL;
	if (v)
		json_object_set_new(b->used_args, name, json_true());
	return json_string_value(v);
}

int bld_arg_step(struct build *b, struct stage *s, const struct df_instr *in,
		 struct berth_error **err)
{
	struct sbuf comment = {0};
	_cleanup_json_ json_t *env = s ? bld_expand_env(s) : meta_env(b);
	int r = 0;

	if (!in->args[0])
		return berth_error_set(err, EINVAL, "ARG requires at least one argument");
	sb_adds(&comment, "ARG");
	for (size_t i = 0; r == 0 && in->args[i]; i++) {
		_cleanup_free_ char *word = NULL, *name = NULL, *def = NULL;
		const char *eq, *value;
		bool given;

		r = df_lex(in->args[i], b->escape, env, &word, NULL, err);
		if (r < 0)
			break;
		eq = strchr(word, '=');
		name = eq ? strndup(word, (size_t)(eq - word)) : strdup(word);
		def = eq ? strdup(eq + 1) : NULL;
		if (!name || (eq && !def)) {
			r = bld_oom(err);
			break;
		}
		if (!*name) {
			r = berth_error_set(err, EINVAL, "ARG names can not be blank");
			break;
		}
		value = given_arg(b, name, &given);
		if (!given)
			value = def;
		if (!given && !eq && s) {
			/* a global ARG's value, declared again in the stage */
			const struct build_arg *m = bld_find_arg(b->meta, b->n_meta, name);
			if (m)
				value = m->value;
		}
		struct build_arg **v = s ? &s->args : &b->meta;
		size_t *n = s ? &s->n_args : &b->n_meta;
		struct build_arg *bigger = realloc(*v, (*n + 1) * sizeof(**v));
		if (!bigger) {
			r = bld_oom(err);
			break;
		}
		*v = bigger;
		(*v)[*n].name = TAKE_PTR(name);
		(*v)[*n].value = value ? strdup(value) : NULL;
		(*n)++;
		sb_addc(&comment, ' ');
		sb_adds(&comment, (*v)[*n - 1].name);
		if (def) {
			sb_addc(&comment, '=');
			sb_adds(&comment, def);
		}
		/* the next word sees this one */
		if (value) {
			_cleanup_free_ char *kv = NULL;
			if (asprintf(&kv, "%s=%s", (*v)[*n - 1].name, value) > 0)
				json_array_append_new(env, json_string(kv));
		}
	}
	_cleanup_free_ char *c = sb_take(&comment);
	if (r < 0)
		return r;
	if (!c)
		return bld_oom(err);
	return s ? bld_meta_commit(b, s, c, err) : 0;
}

/* ---- RUN -------------------------------------------------------------------------------------- */

static int remove_container(struct build *b, const char *id, bool say_it)
{
	_cleanup_error_ struct berth_error *e = NULL;
	struct daemon_container *c;
	int r;

	if (ctr_get(b->d, id, &c, &e) < 0)
		return 0;
	if (ctr_gate_enter(b->d, c) < 0) {
		ctr_unref(b->d, c);
		return 0;
	}
	pthread_mutex_lock(&b->d->lock);
	bool running = c->running;
	pthread_mutex_unlock(&b->d->lock);
	if (running) {
		ctr_kill(b->d, c, SIGKILL, NULL);
		ctr_stop(b->d, c, NULL, 3, NULL);
	}
	r = ctr_remove(b->d, c, true, &e);
	ctr_gate_leave(b->d, c);
	ctr_unref(b->d, c);
	if (r < 0)
		log_warn("build: remove container %s: %s", id, e ? e->msg : "?");
	else if (say_it)
		bld_say(b, " ---> Removed intermediate container %s\n", bld_short_id(id));
	return r;
}

/* the container's output, frame by frame (any size), until the shim closes the socket */
static void pump_output(struct build *b, struct daemon_container *c, int fd, bool *cancelled)
{
	char buf[65536];
	size_t have = 0, left = 0; /* left: payload bytes of the current frame still to come */

	for (;;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		int n = poll(&p, 1, 500);
		if (n == 0) {
			if (berth_http_client_gone(b->req)) {
				*cancelled = true;
				ctr_kill(b->d, c, SIGKILL, NULL);
				return;
			}
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return;
		ssize_t got = read(fd, buf + have, sizeof(buf) - have);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			return;
		have += (size_t)got;
		size_t at = 0;
		while (at < have) {
			if (left) {
				size_t k = have - at < left ? have - at : left;
				bld_say_n(b, buf + at, k);
				at += k;
				left -= k;
				continue;
			}
			if (have - at < 8)
				break;
			const unsigned char *h = (const unsigned char *)buf + at;
			left = (size_t)h[4] << 24 | (size_t)h[5] << 16 | (size_t)h[6] << 8 | h[7];
			at += 8;
		}
		memmove(buf, buf + at, have - at);
		have -= at;
	}
}

static int run_container(struct build *b, struct stage *s, json_t *body, const json_t *cmd,
			 char **ret_id, struct berth_error **err)
{
	struct berthd *d = b->d;
	_cleanup_json_ json_t *warnings = NULL;
	_cleanup_free_ char *id = NULL;
	struct daemon_container *c = NULL;
	struct ctr_attach *a;
	int sv[2];
	bool cancelled = false;
	int r, code;

	(void)s;
	ctr_mounts_for_build = true;
	r = ctr_create(d, body, NULL, berth_http_api_version_string(b->req), &id, &warnings, err);
	ctr_mounts_for_build = false;
	if (r < 0)
		return r;
	bld_say(b, " ---> Running in %s\n", bld_short_id(id));
	*ret_id = strdup(id);
	if (!*ret_id)
		return bld_oom(err);
	r = ctr_get(d, id, &c, err);
	if (r < 0)
		return r;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		ctr_unref(d, c);
		return berth_error_sys(err, errno, "socketpair");
	}
	a = calloc(1, sizeof(*a));
	if (!a) {
		close(sv[0]);
		close(sv[1]);
		ctr_unref(d, c);
		return bld_oom(err);
	}
	a->fd = sv[1];
	a->out = a->err = true;
	pthread_mutex_lock(&d->lock);
	a->next = c->attaches;
	c->attaches = a;
	pthread_mutex_unlock(&d->lock);
	if (ctr_gate_enter(d, c) < 0) {
		r = berth_error_set(err, ENOENT, "the build container %s went away", id);
	} else {
		r = ctr_start(d, c, err);
		ctr_gate_leave(d, c);
	}
	if (r < 0) {
		pthread_mutex_lock(&d->lock);
		ctr_attach_drop_locked(c);
		pthread_mutex_unlock(&d->lock);
		close(sv[0]);
		ctr_unref(d, c);
		return r;
	}
	pump_output(b, c, sv[0], &cancelled);
	close(sv[0]);
	pthread_mutex_lock(&d->lock);
	while (c->running && !c->removed && !d->stopping)
		ctr_cond_wait_until(d, c, ctr_mono_ns() + 250LL * 1000000);
	code = c->exit_code;
	pthread_mutex_unlock(&d->lock);
	ctr_unref(d, c);
	if (cancelled)
		return berth_error_set(err, ECANCELED, "the build was cancelled");
	if (code != 0) {
		_cleanup_free_ char *shown = bld_join_json(cmd, " ");
		b->fail_code = code;
		return berth_error_set(err, EIO, "The command '%s' returned a non-zero code: %d",
				       shown ?: "", code);
	}
	return 0;
}

static int run_step(struct build *b, struct stage *s, const struct df_instr *in,
		    struct berth_error **err)
{
	static const char *const names[] = {"network", "security", NULL};
	const char *vals[3] = {NULL};
	_cleanup_json_ json_t *cmd = NULL, *save = NULL, *args = NULL, *cc = NULL, *body = NULL;
	_cleanup_json_ json_t *cfg = NULL, *hc = NULL, *menv = NULL, *mounts = NULL;
	_cleanup_free_ char *key = NULL, *ctr = NULL, *upper = NULL, *mkey = NULL;
	_cleanup_strv_ char **flags = calloc(1, sizeof(char *)),
			    **specs = calloc(1, sizeof(char *));
	struct build_mounts ms = {0};
	struct daemon_container *c = NULL;
	_cleanup_close_ int ufd = -EBADF;
	const char *net = b->o.networkmode;
	int r;

	/* --mount may come several times: its values apart, the other flags parsed as usual */
	for (size_t i = 0; flags && specs && in->flags && in->flags[i]; i++) {
		const char *f = in->flags[i];
		if (berth_str_has_prefix(f, "--mount=") ? berth_strv_push(&specs, f + 8) < 0
							: berth_strv_push(&flags, f) < 0) {
			berth_strv_free(flags);
			flags = NULL;
		}
	}
	if (!flags || !specs)
		return bld_oom(err);
	r = df_parse_flags(flags, names, vals, err);
	if (r < 0)
		return r;
	if (vals[1])
		return berth_error_set(err, EINVAL,
				       "the --security option requires BuildKit. Refer to "
				       "https://docs.docker.com/go/buildkit/ to learn how to "
				       "build images with BuildKit enabled");
	if (vals[0]) {
		if (strcmp(vals[0], "none") && strcmp(vals[0], "host") &&
		    strcmp(vals[0], "default"))
			return berth_error_set(err, EINVAL, "unsupported network mode %s", vals[0]);
		net = vals[0];
	}
	/* resolveCmdLine */
	if (in->json) {
		cmd = json_array();
		for (size_t i = 0; cmd && in->args[i]; i++)
			json_array_append_new(cmd, json_string(in->args[i]));
	} else {
		_cleanup_free_ char *line = bld_join_strv(in->args, " "), *script = NULL;
		cmd = bld_shell_of(s->cfg);
		if (line && in->heredoc) {
			/* a lone heredoc is the script; after a command, the shell reads it */
			const char *t = line + strspn(line, " \t");
			bool alone = !strncmp(t, "<<", 2) &&
				     strspn(t + 2, "-'\"") + strlen(in->heredoc_word) +
						     strspn(t + 2 + strspn(t + 2, "-'\"") +
								    strlen(in->heredoc_word),
							    "'\" \t") +
						     2 ==
					     strlen(t);
			if (alone)
				script = strdup(in->heredoc);
			else if (asprintf(&script, "%s\n%s%s", line, in->heredoc,
					  in->heredoc_word) < 0)
				script = NULL;
			free(line);
			line = TAKE_PTR(script);
		}
		if (cmd && line)
			json_array_append_new(cmd, json_string(line));
	}
	args = bld_allowed_args(s);
	if (!cmd || !args)
		return bld_oom(err);
	/* prependEnvOnCmd: "|N K=V ..." before the command, for the cache and the history */
	if (json_array_size(args)) {
		char n[16];
		snprintf(n, sizeof(n), "|%zu", json_array_size(args));
		save = json_pack("[s]", n);
		json_array_extend(save, args);
		json_array_extend(save, cmd);
	} else {
		save = json_incref(cmd);
	}
	if (specs[0]) {
		menv = bld_expand_env(s);
		if (!menv)
			return bld_oom(err);
		r = build_mounts_parse(b, s, specs, menv, &ms, &mkey, err);
		if (r < 0)
			goto out;
	}
	cc = bld_with_cmd(s, json_incref(save), true);
	key = cc ? build_cache_key(s->image_id, cc, mkey) : NULL;
	if (!key) {
		r = bld_oom(err);
		goto out;
	}
	if (bld_probe(b, s, key, cc))
		goto out;
	if (!s->image_id) {
		r = berth_error_set(err, EINVAL,
				    "RUN in a stage with no image (FROM scratch): there is no "
				    "command to run there");
		goto out;
	}
	if (ms.n) {
		r = build_mounts_prepare(b, &ms, &mounts, err);
		if (r < 0)
			goto out;
	}

	cfg = json_deep_copy(s->cfg);
	if (!cfg) {
		r = bld_oom(err);
		goto out;
	}
	json_object_set(cfg, "Cmd", cmd);
	json_object_set_new(cfg, "Entrypoint", json_array());
	json_t *env = json_object_get(cfg, "Env");
	if (!json_is_array(env))
		json_object_set_new(cfg, "Env", env = json_array());
	json_array_extend(env, args);
	json_object_set_new(cfg, "Image", json_string(s->image_id));
	json_object_del(cfg, "Healthcheck");
	json_object_del(cfg, "ExposedPorts");
	json_object_set_new(cfg, "AttachStdout", json_true());
	json_object_set_new(cfg, "AttachStderr", json_true());
	hc = json_deep_copy(b->o.resources) ?: json_object();
	json_object_set_new(hc, "NetworkMode", json_string(net && *net ? net : "default"));
	if (mounts)
		json_object_set(hc, "Mounts", mounts);
	json_object_set(cfg, "HostConfig", hc);
	body = TAKE_PTR(cfg);

	r = run_container(b, s, body, cmd, &ctr, err);
	if (r < 0) {
		/* a build the client gave up is not kept for a look: nobody is there to look */
		if (ctr && (b->o.forcerm || (*err && (*err)->code == ECANCELED)))
			remove_container(b, ctr, false);
		goto out;
	}
	/* the container's writable layer is the step's layer */
	r = ctr_get(b->d, ctr, &c, err);
	if (r == 0) {
		if (asprintf(&upper, "%s/upper", c->dir) < 0)
			r = bld_oom(err);
		ctr_unref(b->d, c);
	}
	if (r == 0) {
		ufd = open(upper, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (ufd < 0 && errno != ENOENT)
			r = berth_error_sys(err, errno, "open '%s'", upper);
	}
	if (r == 0) {
		build_mounts_finish(b, &ms, ufd);
		r = bld_commit_step(b, s, cc, ctr, ufd, key, err);
	}
	if ((r == 0 && b->o.rm) || b->o.forcerm)
		remove_container(b, ctr, true);
out:
	build_mounts_finish(b, &ms, -EBADF);
	build_mounts_release(&ms);
	return r;
}

/* ---- ADD <url> ------------------------------------------------------------------------------ */

#define URL_MAX_BYTES (8ULL << 30)

struct fetch {
	int fd;
	uint64_t got;
	bool too_big;
};

static size_t fetch_write(char *data, size_t size, size_t n, void *userdata)
{
	struct fetch *f = userdata;
	size_t len = size * n;

	if (f->got + len > URL_MAX_BYTES) {
		f->too_big = true;
		return 0;
	}
	if (berth_write_all(f->fd, data, len) < 0)
		return 0;
	f->got += len;
	return len;
}

/*
 * Download url into <context>/.berth-add-N/<its last path component> (mode 0600, the mtime of
 * its Last-Modified header when it has one, as docker), returning that path in the context.
 * Only http and https; proxies from the environment as libcurl reads them.
 */
int bld_download(struct build *b, const char *url, int fd, long *ret_filetime,
		 struct berth_error **err)
{
	struct fetch f = {.fd = fd};
	CURL *h;
	CURLcode cc;
	long status = 0, filetime = -1;
	char errbuf[CURL_ERROR_SIZE] = "";

	(void)b;
	h = curl_easy_init();
	if (!h)
		return bld_oom(err);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(h, CURLOPT_MAXREDIRS, 10L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 30L);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, 60L);
	curl_easy_setopt(h, CURLOPT_FILETIME, 1L);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "berthd/" BERTH_VERSION);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, fetch_write);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &f);
	cc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_getinfo(h, CURLINFO_FILETIME, &filetime);
	curl_easy_cleanup(h);
	if (f.too_big)
		return berth_error_set(err, EFBIG, "failed to GET %s: more than %llu bytes", url,
				       (unsigned long long)URL_MAX_BYTES);
	if (cc != CURLE_OK)
		return berth_error_set(err, EIO, "failed to GET %s: %s", url,
				       *errbuf ? errbuf : curl_easy_strerror(cc));
	if (status < 200 || status >= 300)
		return berth_error_set(err, EIO, "failed to GET %s with status %ld", url, status);
	if (ret_filetime)
		*ret_filetime = filetime;
	return 0;
}

static int fetch_url(struct build *b, const char *url, char **ret_path, struct berth_error **err)
{
	_cleanup_free_ char *dir = NULL, *name = NULL, *path = NULL, *rel = NULL;
	_cleanup_close_ int fd = -EBADF;
	const char *p = url + strcspn(url, "?#"), *slash;
	long filetime = -1;
	int r;

	_cleanup_free_ char *base = strndup(url, (size_t)(p - url));
	if (!base)
		return bld_oom(err);
	slash = strrchr(base, '/');
	if (!slash || !slash[1] || slash == base + strcspn(base, ":") + 2)
		return berth_error_set(err, EINVAL, "cannot determine filename from url: %s", url);
	name = strdup(slash + 1);
	if (!name)
		return bld_oom(err);
	r = bld_context_add_dir(b, true, &rel, &dir, err);
	if (r < 0)
		return r;
	if (asprintf(&path, "%s/%s", dir, name) < 0)
		return bld_oom(err);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return berth_error_sys(err, errno, "create '%s'", path);
	r = bld_download(b, url, fd, &filetime, err);
	if (r < 0)
		return r;
	if (filetime > 0) {
		struct timespec ts[2] = {{.tv_sec = filetime}, {.tv_sec = filetime}};
		futimens(fd, ts);
	}
	if (asprintf(ret_path, "%s/%s", rel, name) < 0)
		return bld_oom(err);
	return 0;
}

/* ---- COPY / ADD ------------------------------------------------------------------------------- */

/* "<<WORD", "<<-WORD", "<<'WORD'", "<<-\"WORD\"" naming the heredoc word */
static bool is_heredoc_arg(const char *arg, const char *word)
{
	size_t n = strlen(word);

	if (!berth_str_has_prefix(arg, "<<"))
		return false;
	arg += 2;
	if (*arg == '-')
		arg++;
	if ((*arg == '"' || *arg == '\'') && arg[n + 1] == *arg && !arg[n + 2])
		return !strncmp(arg + 1, word, n);
	return !strcmp(arg, word);
}

/*
 * A COPY/ADD heredoc as a file of the context (<BUILD_URL_DIR>N/<word>, mode 0644 as
 * BuildKit's Mkfile makes it, time 0 so that only its content counts), its content expanded
 * with the stage's environment when the word was unquoted.  *ret_path: its path in the context.
 */
static int write_heredoc(struct build *b, struct stage *s, const struct df_heredoc *h,
			 const json_t *env, char **ret_path, struct berth_error **err)
{
	_cleanup_free_ char *rel = NULL, *dir = NULL, *data = NULL;
	_cleanup_close_ int dfd = -EBADF;
	const struct timespec ts[2] = {{0}, {0}};
	int r;

	(void)s;
	if (!*h->name || strchr(h->name, '/') || !strcmp(h->name, ".") || !strcmp(h->name, ".."))
		return berth_error_set(err, EINVAL, "invalid heredoc name '%s'", h->name);
	if (h->expand) {
		r = df_expand_heredoc(h->content, b->escape, env, &data, err);
		if (r < 0)
			return r;
	} else if (!(data = strdup(h->content))) {
		return bld_oom(err);
	}
	r = bld_context_add_dir(b, false, &rel, &dir, err);
	if (r < 0)
		return r;
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return berth_error_sys(err, errno, "open '%s'", dir);
	r = berth_write_file_replace_at(dfd, h->name, data, strlen(data), 0644, err);
	if (r < 0)
		return r;
	if (fchmodat(dfd, h->name, 0644, 0) < 0 || utimensat(dfd, h->name, ts, 0) < 0)
		return berth_error_sys(err, errno, "heredoc '%s'", h->name);
	if (asprintf(ret_path, "%s/%s", rel, h->name) < 0)
		return bld_oom(err);
	return 0;
}

/* "--link" is a boolean flag the string-flag parser does not know: accepted, dropped */
static char **without_bool_flags(char *const *flags)
{
	char **v = calloc(1, sizeof(char *));

	for (size_t i = 0; v && flags && flags[i]; i++) {
		if (!strcmp(flags[i], "--link") || berth_str_has_prefix(flags[i], "--link="))
			continue;
		if (berth_strv_push(&v, flags[i]) < 0) {
			berth_strv_free(v);
			return NULL;
		}
	}
	return v;
}

static bool is_url(const char *s)
{
	return berth_str_has_prefix(s, "http://") || berth_str_has_prefix(s, "https://") ||
	       berth_str_has_prefix(s, "git@") || berth_str_has_prefix(s, "git://");
}

static int copy_step(struct build *b, struct stage *s, const struct df_instr *in, bool add,
		     struct berth_error **err)
{
	static const char *const copy_names[] = {"from", "chown", "chmod", "parents", NULL};
	static const char *const add_names[] = {"chown", "chmod", "checksum", "keep-git-dir", NULL};
	const char *vals[5] = {NULL};
	const char *cmdname = add ? "ADD" : "COPY";
	_cleanup_strv_ char **flags = without_bool_flags(in->flags), **words = NULL,
			    **fetched = NULL;
	_cleanup_json_ json_t *env = bld_expand_env(s), *cc = NULL;
	_cleanup_free_ char *from = NULL, *from_id = NULL, *chown = NULL, *dest = NULL, *key = NULL;
	_cleanup_free_ char *comment = NULL, *extra = NULL, *full_dest = NULL,
			    *heredoc_names = NULL;
	struct build_copy cp = {0};
	struct fs_mount src = {0}, root = {0};
	int src_fd = b->ctx_fd, chmod = -1;
	size_t n;
	int r;

	src.root_fd = root.root_fd = -EBADF;
	if (!flags || !env)
		return bld_oom(err);
	r = df_parse_flags(flags, add ? add_names : copy_names, vals, err);
	if (r < 0)
		return r;
	if (!add && vals[3])
		return berth_error_set(err, EINVAL, "the --parents option requires BuildKit");
	if (add && (vals[2] || vals[3]))
		return berth_error_set(err, EINVAL, "the --%s option requires BuildKit",
				       vals[2] ? "checksum" : "keep-git-dir");
	n = berth_strv_length(in->args);
	if (n < 2)
		return berth_error_set(err, EINVAL,
				       "%s requires at least two arguments, but only "
				       "one was provided. Destination could not be "
				       "determined.",
				       cmdname);
	words = calloc(n + 1, sizeof(char *));
	if (!words)
		return bld_oom(err);
	size_t next_doc = 0;
	for (size_t i = 0; i < n; i++) {
		if (i + 1 < n && next_doc < in->n_heredocs &&
		    is_heredoc_arg(in->args[i], in->heredocs[next_doc].name)) {
			/* a heredoc source: a file named by its word, written for the step */
			char *local = NULL;
			r = write_heredoc(b, s, &in->heredocs[next_doc++], env, &local, err);
			if (local && berth_strv_push(&fetched, local) < 0)
				r = bld_oom(err);
			if (r < 0) {
				free(local);
				goto out;
			}
			words[i] = local; /* fetched has a copy */
			continue;
		}
		r = df_lex(in->args[i], b->escape, env, &words[i], NULL, err);
		if (r < 0)
			goto out;
	}
	dest = words[n - 1];
	words[n - 1] = NULL;
	if (next_doc && vals[0] && !add) {
		r = berth_error_set(err, EINVAL, "%s --from cannot be used with a heredoc",
				    cmdname);
		goto out;
	}
	for (size_t i = 0; words[i]; i++) {
		if (!is_url(words[i]))
			continue;
		if (!add)
			return berth_error_set(err, EINVAL, "source can't be a URL for COPY");
		if (!berth_str_has_prefix(words[i], "http://") &&
		    !berth_str_has_prefix(words[i], "https://"))
			return berth_error_set(
				err, ENOTSUP,
				"ADD of a git repository is not supported by berth's "
				"builder: %s",
				words[i]);
		char *local = NULL;
		r = fetch_url(b, words[i], &local, err);
		if (local && berth_strv_push(&fetched, local) < 0)
			r = bld_oom(err);
		if (r < 0) {
			free(local);
			goto out;
		}
		free(words[i]);
		words[i] = local;
	}
	const char *from_v = add ? NULL : vals[0];
	const char *chown_v = add ? vals[0] : vals[1];
	const char *chmod_v = add ? vals[1] : vals[2];
	if (chmod_v && *chmod_v) {
		char *end;
		long m = strtol(chmod_v, &end, 8);
		if (*end || m < 0 || m > 07777)
			return berth_error_set(err, EINVAL, "invalid chmod parameter: %s", chmod_v);
		chmod = (int)m;
	}
	if (chown_v && *chown_v) {
		r = df_lex(chown_v, b->escape, env, &chown, NULL, err);
		if (r < 0)
			return r;
	}
	if (from_v && *from_v) {
		struct stage *fs;
		r = df_lex(from_v, b->escape, env, &from, NULL, err);
		if (r < 0)
			return r;
		fs = bld_stage_named(b, from, s->index);
		if (fs) {
			from_id = fs->image_id ? strdup(fs->image_id) : NULL;
			r = bld_fs_mount(b, fs->top_layer, &src, err);
		} else {
			if (!strcasecmp(from, s->name ?: ""))
				return berth_error_set(
					err, EINVAL,
					"%s --from=%s: a stage cannot copy from itself", cmdname,
					from);
			_cleanup_error_ struct berth_error *e = NULL;
			r = bld_image_for(b, from, &from_id, &e);
			if (r < 0)
				return berth_error_set(err, -r, "invalid from flag value %s: %s",
						       from, e ? e->msg : "?");
			struct berth_image_info *info = NULL;
			r = berth_image_inspect(b->d->images.store, from_id, &info, err);
			if (r == 0)
				r = bld_fs_mount(b, info->top_layer, &src, err);
			berth_image_info_free(info);
		}
		if (r < 0)
			goto out;
		src_fd = src.root_fd;
	}
	r = build_copy_collect(src_fd, words, src_fd == b->ctx_fd, cmdname, &cp, err);
	if (r < 0)
		goto out;
	for (size_t i = 0; i < in->n_heredocs; i++) {
		_cleanup_free_ char *more = NULL;
		if (asprintf(&more, "%s%s,", heredoc_names ?: "", in->heredocs[i].name) < 0) {
			r = bld_oom(err);
			goto out;
		}
		free(heredoc_names);
		heredoc_names = TAKE_PTR(more);
	}
	if (asprintf(&comment, "%s %s in %s ", cmdname, cp.hash, dest) < 0 ||
	    asprintf(&extra, "from=%s chown=%s chmod=%d heredocs=%s", from_id ?: "", chown ?: "",
		     chmod, heredoc_names ?: "") < 0) {
		r = bld_oom(err);
		goto out;
	}
	cc = bld_with_cmd(s, bld_comment_cmd(s, comment), false);
	key = cc ? build_cache_key(s->image_id, cc, extra) : NULL;
	if (!key) {
		r = bld_oom(err);
		goto out;
	}
	if (bld_probe(b, s, key, cc))
		goto out;

	/* the destination: relative to WORKDIR; a trailing "/" (or ".") makes it a directory */
	{
		const char *wd = json_string_value(json_object_get(s->cfg, "WorkingDir"));
		size_t dl = strlen(dest);
		bool dir = dl && (dest[dl - 1] == '/' || !strcmp(dest, ".") ||
				  (dl >= 2 && !strcmp(dest + dl - 2, "/.")));
		_cleanup_free_ char *joined = NULL;
		if (asprintf(&joined, "/%s/%s", dest[0] == '/' ? "" : (wd ?: ""), dest) < 0)
			joined = NULL;
		full_dest = joined ? berth_path_clean(joined) : NULL;
		if (!full_dest) {
			r = bld_oom(err);
			goto out;
		}
		uid_t uid = 0;
		gid_t gid = 0;
		r = bld_fs_mount(b, s->top_layer, &root, err);
		if (r == 0 && chown)
			r = build_chown_parse(root.root_fd, chown, &uid, &gid, err);
		if (r == 0)
			r = build_copy_apply(&cp, src_fd, root.root_fd, full_dest, dir, uid, gid,
					     chmod, add, cmdname, err);
		if (r == 0)
			r = bld_fs_commit(b, s, &root, cc, key, err);
	}
out:
	bld_fs_unmount(&root, true);
	bld_fs_unmount(&src, true);
	build_copy_release(&cp);
	/* what ADD downloaded and the heredocs leave the context with the step */
	for (size_t i = 0; fetched && fetched[i]; i++) {
		char *slash = strchr(fetched[i], '/');
		if (slash)
			*slash = '\0';
		bld_context_drop(b, fetched[i]);
	}
	if (r < 0 && *err && !berth_str_has_prefix((*err)->msg ?: "", cmdname))
		berth_error_wrap(err, "%s failed", cmdname);
	return r;
}

/* ---- WORKDIR ---------------------------------------------------------------------------------- */

static int workdir_step(struct build *b, struct stage *s, struct berth_error **err)
{
	_cleanup_free_ char *comment = NULL, *key = NULL;
	_cleanup_json_ json_t *cc = NULL;
	struct fs_mount m = {0};
	const char *wd = json_string_value(json_object_get(s->cfg, "WorkingDir")) ?: "/";
	int r;

	m.root_fd = -EBADF;
	if (asprintf(&comment, "WORKDIR %s", wd) < 0)
		return bld_oom(err);
	cc = bld_with_cmd(s, bld_comment_cmd(s, comment), false);
	key = cc ? build_cache_key(s->image_id, cc, NULL) : NULL;
	if (!key)
		return bld_oom(err);
	if (bld_probe(b, s, key, cc))
		return 0;
	r = bld_fs_mount(b, s->top_layer, &m, err);
	if (r == 0)
		r = build_mkdir_in_root(m.root_fd, wd, 0, 0, err);
	if (r == 0)
		r = bld_fs_commit(b, s, &m, cc, key, err);
	bld_fs_unmount(&m, true);
	return r;
}

/* ---- the metadata instructions ---------------------------------------------------------------- */

static int kv_comment(struct build *b, const struct df_instr *in, const json_t *env,
		      const char *what, char **ret, struct berth_error **err)
{
	struct sbuf sb = {0};
	int r = 0;

	sb_adds(&sb, what);
	for (size_t i = 0; in->args[i] && in->args[i + 1]; i += 2) {
		_cleanup_free_ char *k = NULL, *v = NULL;
		r = df_lex(in->args[i], b->escape, env, &k, NULL, err);
		if (r == 0)
			r = df_lex(in->args[i + 1], b->escape, env, &v, NULL, err);
		if (r < 0)
			break;
		sb_addc(&sb, ' ');
		sb_adds(&sb, k);
		sb_addc(&sb, '=');
		sb_adds(&sb, v);
	}
	_cleanup_free_ char *c = sb_take(&sb);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(c);
	return *ret ? 0 : bld_oom(err);
}

static int words_comment(struct build *b, const struct df_instr *in, const json_t *env,
			 const char *what, bool brackets, char **ret, struct berth_error **err)
{
	struct sbuf sb = {0};
	int r = 0;

	sb_adds(&sb, what);
	sb_addc(&sb, ' ');
	if (brackets)
		sb_addc(&sb, '[');
	for (size_t i = 0; in->args[i]; i++) {
		_cleanup_strv_ char **w = NULL;
		r = df_lex(in->args[i], b->escape, env, NULL, &w, err);
		if (r < 0)
			break;
		for (size_t k = 0; w[k]; k++) {
			if (sb.len && sb.p[sb.len - 1] != ' ' && sb.p[sb.len - 1] != '[')
				sb_addc(&sb, ' ');
			sb_adds(&sb, w[k]);
		}
	}
	if (brackets)
		sb_addc(&sb, ']');
	_cleanup_free_ char *c = sb_take(&sb);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(c);
	return *ret ? 0 : bld_oom(err);
}

static int meta_step(struct build *b, struct stage *s, const struct df_instr *in, const char *lc,
		     struct berth_error **err)
{
	_cleanup_json_ json_t *env = bld_expand_env(s);
	struct daemon_change_state st = {
		.cfg = s->cfg, .cmd_set = s->cmd_set, .escape = b->escape, .env = env};
	_cleanup_free_ char *comment = NULL;
	struct sbuf sb = {0};
	int r;

	if (!env)
		return bld_oom(err);
	r = daemon_image_change_apply(&st, in, err);
	if (r < 0)
		return r;
	s->cmd_set = st.cmd_set;
	if (!strcmp(lc, "workdir"))
		return workdir_step(b, s, err);
	if (!strcmp(lc, "env") || !strcmp(lc, "label")) {
		r = kv_comment(b, in, env, !strcmp(lc, "env") ? "ENV" : "LABEL", &comment, err);
	} else if (!strcmp(lc, "cmd") || !strcmp(lc, "entrypoint")) {
		sb_adds(&sb, !strcmp(lc, "cmd") ? "CMD " : "ENTRYPOINT ");
		bld_go_strv(&sb,
			    json_object_get(s->cfg, !strcmp(lc, "cmd") ? "Cmd" : "Entrypoint"));
		comment = sb_take(&sb);
	} else if (!strcmp(lc, "user")) {
		sb_adds(&sb, "USER ");
		sb_adds(&sb, json_string_value(json_object_get(s->cfg, "User")) ?: "");
		comment = sb_take(&sb);
	} else if (!strcmp(lc, "stopsignal")) {
		sb_adds(&sb, "STOPSIGNAL ");
		sb_adds(&sb, json_string_value(json_object_get(s->cfg, "StopSignal")) ?: "");
		comment = sb_take(&sb);
	} else if (!strcmp(lc, "volume")) {
		r = words_comment(b, in, env, "VOLUME", true, &comment, err);
	} else if (!strcmp(lc, "expose")) {
		r = words_comment(b, in, env, "EXPOSE", false, &comment, err);
	} else if (!strcmp(lc, "onbuild")) {
		json_t *ob = json_object_get(s->cfg, "OnBuild");
		sb_adds(&sb, "ONBUILD ");
		sb_adds(&sb, json_string_value(json_array_get(ob, json_array_size(ob) - 1)) ?: "");
		comment = sb_take(&sb);
	} else { /* healthcheck */
		json_t *hc = json_object_get(s->cfg, "Healthcheck");
		sb_adds(&sb, "HEALTHCHECK &{");
		bld_go_strv(&sb, json_object_get(hc, "Test"));
		static const char *const durs[] = {"Interval", "Timeout", "StartPeriod",
						   "StartInterval"};
		for (size_t i = 0; i < 4; i++) {
			char d[64];
			bld_go_duration(json_integer_value(json_object_get(hc, durs[i])), d,
					sizeof(d));
			sb_adds(&sb, " \"");
			sb_adds(&sb, d);
			sb_addc(&sb, '"');
		}
		/* Go's %q of an int is a quoted rune */
		long long retries = json_integer_value(json_object_get(hc, "Retries"));
		char q[32];
		if (retries >= 0x20 && retries < 0x7f && retries != '\'' && retries != '\\')
			snprintf(q, sizeof(q), " '%c'}", (char)retries);
		else
			snprintf(q, sizeof(q), " '\\x%02llx'}", retries & 0xff);
		sb_adds(&sb, q);
		comment = sb_take(&sb);
	}
	if (r < 0)
		return r;
	if (!comment)
		return bld_oom(err);
	return bld_meta_commit(b, s, comment, err);
}

int bld_dispatch(struct build *b, struct stage *s, const struct df_instr *in,
		 struct berth_error **err)
{
	_cleanup_free_ char *lc = bld_lower(in->cmd);
	struct sbuf sb = {0};

	if (!lc)
		return bld_oom(err);
	if (!strcmp(lc, "run"))
		return run_step(b, s, in, err);
	if (!strcmp(lc, "copy") || !strcmp(lc, "add"))
		return copy_step(b, s, in, !strcmp(lc, "add"), err);
	if (!strcmp(lc, "arg"))
		return bld_arg_step(b, s, in, err);
	if (!strcmp(lc, "maintainer")) {
		if (berth_strv_length(in->args) != 1 || !*in->args[0])
			return berth_error_set(err, EINVAL,
					       "MAINTAINER requires exactly one argument");
		free(s->maintainer);
		s->maintainer = strdup(in->args[0]);
		sb_adds(&sb, "MAINTAINER ");
		sb_adds(&sb, in->args[0]);
		_cleanup_free_ char *c = sb_take(&sb);
		return c && s->maintainer ? bld_meta_commit(b, s, c, err) : bld_oom(err);
	}
	if (!strcmp(lc, "shell")) {
		json_t *sh;
		if (!in->json)
			return berth_error_set(err, EINVAL,
					       "SHELL requires the arguments to be in JSON form");
		if (!in->args[0])
			return berth_error_set(err, EINVAL, "SHELL requires at least one argument");
		sh = json_array();
		for (size_t i = 0; sh && in->args[i]; i++)
			json_array_append_new(sh, json_string(in->args[i]));
		json_object_set_new(s->cfg, "Shell", sh);
		sb_adds(&sb, "SHELL [");
		for (size_t i = 0; in->args[i]; i++) {
			if (i)
				sb_addc(&sb, ' ');
			sb_adds(&sb, in->args[i]);
		}
		sb_addc(&sb, ']');
		_cleanup_free_ char *c = sb_take(&sb);
		return c ? bld_meta_commit(b, s, c, err) : bld_oom(err);
	}
	if (!strcmp(lc, "from"))
		return berth_error_set(err, EINVAL, "FROM in an ONBUILD trigger");
	return meta_step(b, s, in, lc, err);
}
