/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A container's mounts: -v/Binds, --mount/Mounts, the image's and -v /path anonymous volumes
 * (Config.Volumes), --volumes-from, resolved at create into mount points (docker's MountPoint:
 * Type, Name, Source, Destination, Driver, Mode, RW, Propagation) kept in the container's
 * record; the volumes they name are held while the container exists.  At each start the points
 * become lib/dockerspec mounts, and a new volume is first filled from the image (copy-up).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "containers-internal.h"
#include "volumes-internal.h"
#include "base/banned.h"

#define MAX_MOUNTS     256
#define COPY_MAX_DEPTH 64

static const char *const propagations[] = {"rprivate", "private", "rshared", "shared",
					   "rslave",   "slave",	  NULL};

static bool is_propagation(const char *s)
{
	for (size_t i = 0; propagations[i]; i++)
		if (strcmp(s, propagations[i]) == 0)
			return true;
	return false;
}

/* A destination as docker checks it: absolute, not "/", cleaned of "//" and trailing "/". */
static int check_destination(const char *type, const char *dst, char **ret,
			     struct berth_error **err)
{
	char *out;
	size_t n = 0;

	if (!dst || !*dst)
		return berth_error_set(err, EINVAL,
				       "invalid mount config for type \"%s\": field "
				       "Target must not be empty",
				       type);
	if (dst[0] != '/')
		return berth_error_set(err, EINVAL,
				       "invalid mount config for type \"%s\": invalid mount path: "
				       "'%s' mount path must be absolute",
				       type, dst);
	out = malloc(strlen(dst) + 1);
	if (!out)
		return berth_error_set(err, ENOMEM, "out of memory");
	for (const char *p = dst; *p; p++) {
		if (*p == '/' && n > 0 && out[n - 1] == '/')
			continue;
		out[n++] = *p;
	}
	while (n > 1 && out[n - 1] == '/')
		n--;
	out[n] = '\0';
	if (strcmp(out, "/") == 0) {
		free(out);
		return berth_error_set(err, EINVAL,
				       "invalid specification: destination can't be '/'");
	}
	for (const char *p = out; (p = strstr(p, "/..")); p += 3)
		if (p[3] == '/' || p[3] == '\0') {
			free(out);
			return berth_error_set(
				err, EINVAL,
				"invalid mount config for type \"%s\": invalid mount "
				"path: '%s' must not contain '..'",
				type, dst);
		}
	*ret = out;
	return 0;
}

static bool has_destination(const json_t *points, const char *dst)
{
	size_t i;
	json_t *p;

	json_array_foreach (points, i, p)
		if (berth_streq(json_string_value(json_object_get(p, "Destination")), dst))
			return true;
	return false;
}

struct prep {
	struct berthd *d;
	const char *id;
	json_t *points;
	char **made; /* anonymous or named volumes made for this create (undone on failure) */
	char **held; /* volumes referenced */
	const char *driver; /* HostConfig.VolumeDriver: "" or "local" is berth's own */
};

/* The volume driver of -v volumes and anonymous ones: only "local" exists (no plugins). */
static int check_volume_driver(const struct prep *p, struct berth_error **err)
{
	if (p->driver && *p->driver && strcmp(p->driver, "local") != 0)
		return berth_error_set(err, ENOENT,
				       "error looking up volume plugin %s: plugin \"%s\" not found",
				       p->driver, p->driver);
	return 0;
}

/* A named or anonymous volume: made when missing, held for the container. */
static int hold_volume(struct prep *p, const char *name, const json_t *labels,
		       const json_t *options, bool anonymous, char **ret_name,
		       struct berth_error **err)
{
	_cleanup_free_ char *got = NULL;
	bool existed = false;
	int r;

	if (name && *name) {
		pthread_mutex_lock(&p->d->lock);
		existed = daemon_volume_find_locked(p->d, name) != NULL;
		pthread_mutex_unlock(&p->d->lock);
	}
	r = daemon_volume_create(p->d, name, labels, options, anonymous, &got, err);
	if (r < 0)
		return r;
	if (!existed)
		berth_strv_push(&p->made, got);
	pthread_mutex_lock(&p->d->lock);
	r = daemon_volume_ref_locked(p->d, got, p->id);
	pthread_mutex_unlock(&p->d->lock);
	if (r < 0)
		return berth_error_set(err, r == -ENOENT ? ENOENT : ENOMEM,
				       "volume %s: removed while the container was made", got);
	berth_strv_push(&p->held, got);
	*ret_name = TAKE_PTR(got);
	return 0;
}

static int add_point(struct prep *p, const char *type, const char *name, const char *source,
		     const char *dst, const char *mode, bool rw, const char *propagation,
		     bool anonymous, bool copy_up, struct berth_error **err)
{
	if (json_array_size(p->points) >= MAX_MOUNTS)
		return berth_error_set(err, EINVAL, "too many mounts (at most %d)", MAX_MOUNTS);
	if (has_destination(p->points, dst))
		return berth_error_set(err, EINVAL, "Duplicate mount point: %s", dst);
	json_t *m = json_pack("{s:s, s:s, s:s, s:s, s:s, s:b, s:s}", "Type", type, "Source", source,
			      "Destination", dst, "Driver", name ? "local" : "", "Mode", mode, "RW",
			      rw, "Propagation", propagation);
	if (!m)
		return berth_error_set(err, ENOMEM, "out of memory");
	if (name)
		json_object_set_new(m, "Name", json_string(name));
	if (anonymous)
		json_object_set_new(m, "Anonymous", json_true());
	if (copy_up)
		json_object_set_new(m, "CopyUp", json_true());
	json_array_append_new(p->points, m);
	return 0;
}

_Thread_local bool ctr_mounts_for_build;

/* the builder's own sources: its cache mounts and what a build made in tmp/ */
static bool build_source(const char *root, const char *src)
{
	size_t rl = strlen(root);

	if (!ctr_mounts_for_build || strstr(src, "/../") || strstr(src, "/./"))
		return false;
	return !strncmp(src + rl, "/build-mounts/", 14) || !strncmp(src + rl, "/tmp/build-", 11);
}

/* A host path for a bind: absolute, existing (made for -v as docker does), not berth's own. */
static int bind_source(struct prep *p, const char *src, bool create, const char *type,
		       struct berth_error **err)
{
	struct stat st;
	const char *root = p->d->config.data_root;
	size_t rl = strlen(root);

	if (src[0] != '/')
		return berth_error_set(err, EINVAL,
				       "invalid mount config for type \"%s\": invalid mount path: "
				       "'%s' mount path must be absolute",
				       type, src);
	if (strncmp(src, root, rl) == 0 && (src[rl] == '/' || src[rl] == '\0') &&
	    !build_source(root, src))
		return berth_error_set(err, EINVAL,
				       "invalid mount config for type \"bind\": '%s' is inside "
				       "berth's data root %s",
				       src, root);
	if (stat(src, &st) == 0)
		return 0;
	if (!create)
		return berth_error_set(err, EINVAL,
				       "invalid mount config for type \"bind\": bind source path "
				       "does not exist: %s",
				       src);
	/* docker makes a missing -v source directory on the host */
	return berth_mkdir_p(src, 0755, err) < 0 ? -EINVAL : 0;
}

/* -v src:dst[:opts] */
static int parse_bind(struct prep *p, const char *spec, struct berth_error **err)
{
	_cleanup_free_ char *copy = strdup(spec), *dst = NULL, *vol = NULL;
	char *parts[3] = {0};
	size_t n = 0;
	bool rw = true, nocopy = false;
	const char *prop = NULL, *mode = "";
	char modebuf[64] = "";
	int r;

	if (!copy)
		return berth_error_set(err, ENOMEM, "out of memory");
	for (char *s = copy, *save = NULL, *tok; (tok = strtok_r(s, ":", &save)); s = NULL) {
		if (n == 3)
			return berth_error_set(err, EINVAL, "invalid volume specification: '%s'",
					       spec);
		parts[n++] = tok;
	}
	if (n < 2)
		return berth_error_set(err, EINVAL, "invalid volume specification: '%s'", spec);
	if (n == 3) {
		snprintf(modebuf, sizeof(modebuf), "%s", parts[2]);
		mode = modebuf;
		for (char *o = parts[2], *save = NULL, *tok; (tok = strtok_r(o, ",", &save));
		     o = NULL) {
			if (strcmp(tok, "ro") == 0)
				rw = false;
			else if (strcmp(tok, "rw") == 0)
				rw = true;
			else if (strcmp(tok, "z") == 0 || strcmp(tok, "Z") == 0)
				; /* SELinux labels: nothing to relabel on this host */
			else if (strcmp(tok, "nocopy") == 0)
				nocopy = true;
			else if (is_propagation(tok))
				prop = tok;
			else
				return berth_error_set(err, EINVAL, "invalid mode: %s", parts[2]);
		}
	}
	r = check_destination(parts[0][0] == '/' ? "bind" : "volume", parts[1], &dst, err);
	if (r < 0)
		return r;
	if (parts[0][0] == '/') {
		if (nocopy)
			return berth_error_set(err, EINVAL, "invalid mode: %s", mode);
		r = bind_source(p, parts[0], true, "bind", err);
		return r
			       ?: add_point(p, "bind", NULL, parts[0], dst, mode, rw,
					    prop ? prop : "rprivate", false, false, err);
	}
	if (prop)
		return berth_error_set(err, EINVAL, "invalid mode: %s", mode);
	r = check_volume_driver(p, err);
	if (r < 0)
		return r;
	r = hold_volume(p, parts[0], NULL, NULL, false, &vol, err);
	if (r < 0)
		return r;
	_cleanup_free_ char *src = daemon_volume_path(p->d, vol, "_data");
	return add_point(p, "volume", vol, src ? src : "", dst, mode, rw, "", false, !nocopy, err);
}

/* --mount: HostConfig.Mounts[i] */
static int parse_mount(struct prep *p, const json_t *m, json_t *tmpfs, struct berth_error **err)
{
	const char *type = json_string_value(json_object_get(m, "Type"));
	const char *src = json_string_value(json_object_get(m, "Source")) ?: "";
	const char *target = json_string_value(json_object_get(m, "Target"));
	bool ro = json_is_true(json_object_get(m, "ReadOnly"));
	_cleanup_free_ char *dst = NULL, *vol = NULL;
	int r;

	if (!json_is_object(m) || !type)
		return berth_error_set(err, EINVAL,
				       "invalid mount config: field Type must not be "
				       "empty");
	if (strcmp(type, "bind") != 0 && strcmp(type, "volume") != 0 && strcmp(type, "tmpfs") != 0)
		return berth_error_set(err, EINVAL,
				       "invalid mount config: mount type unknown: \"%s\"", type);
	r = check_destination(type, target, &dst, err);
	if (r < 0)
		return r;
	if (strcmp(type, "tmpfs") == 0) {
		const json_t *to = json_object_get(m, "TmpfsOptions");
		json_int_t size = json_integer_value(json_object_get(to, "SizeBytes"));
		json_int_t mode = json_integer_value(json_object_get(to, "Mode"));
		char opts[160] = "";
		int len = 0;

		if (*src)
			return berth_error_set(err, EINVAL,
					       "invalid mount config for type "
					       "\"tmpfs\": field Source must not be "
					       "specified");
		if (size < 0)
			return berth_error_set(err, EINVAL, "invalid tmpfs size: %lld",
					       (long long)size);
		if (size)
			len += snprintf(opts + len, sizeof(opts) - (size_t)len, "size=%lld",
					(long long)size);
		if (mode)
			len += snprintf(opts + len, sizeof(opts) - (size_t)len, "%smode=%llo",
					len ? "," : "", (unsigned long long)mode & 07777);
		if (ro)
			len += snprintf(opts + len, sizeof(opts) - (size_t)len, "%sro",
					len ? "," : "");
		/* API 1.46's Options: [["exec"]] or [["noexec"]] (dockerd's validateTmpfsOptions;
		 * older requests have them dropped by the request check) */
		const json_t *o, *to_opts = json_object_get(to, "Options");
		size_t k;
		json_array_foreach (to_opts, k, o) {
			const char *key = json_string_value(json_array_get(o, 0));
			const char *val = json_string_value(json_array_get(o, 1));
			if (!json_is_array(o) || json_array_size(o) < 1 || json_array_size(o) > 2)
				return berth_error_set(err, EINVAL, "invalid option array length");
			if (!key || (strcmp(key, "exec") != 0 && strcmp(key, "noexec") != 0))
				return berth_error_set(err, EINVAL, "invalid option: %s",
						       key ? key : "");
			if (len < (int)sizeof(opts))
				len += snprintf(opts + len, sizeof(opts) - (size_t)len, "%s%s%s%s",
						len ? "," : "", key, val ? "=" : "",
						val ? val : "");
		}
		if (has_destination(p->points, dst) || json_object_get(tmpfs, dst))
			return berth_error_set(err, EINVAL, "Duplicate mount point: %s", dst);
		json_object_set_new(tmpfs, dst, json_string(opts));
		return 0;
	}
	if (strcmp(type, "bind") == 0) {
		const json_t *bo = json_object_get(m, "BindOptions");
		const char *prop = json_string_value(json_object_get(bo, "Propagation"));

		if (!*src)
			return berth_error_set(err, EINVAL,
					       "invalid mount config for type \"bind\": "
					       "field Source must not be empty");
		if (prop && *prop && !is_propagation(prop))
			return berth_error_set(err, EINVAL, "invalid propagation mode: %s", prop);
		/* API 1.42's CreateMountpoint: a missing source is made, as for -v */
		r = bind_source(p, src, json_is_true(json_object_get(bo, "CreateMountpoint")),
				"bind", err);
		return r
			       ?: add_point(p, "bind", NULL, src, dst, "", !ro,
					    prop && *prop ? prop : "rprivate", false, false, err);
	}
	const json_t *vo = json_object_get(m, "VolumeOptions");
	bool nocopy = json_is_true(json_object_get(vo, "NoCopy"));
	const char *subpath = json_string_value(json_object_get(vo, "Subpath"));
	_cleanup_free_ char *clean = subpath && *subpath ? ctr_subpath_clean(subpath) : NULL;
	if (subpath && *subpath && !clean)
		return berth_error_set(
			err, EINVAL,
			"invalid mount config for type \"volume\": subpath must be a "
			"relative path within the volume");
	const json_t *dc = json_object_get(vo, "DriverConfig");
	const char *driver = json_string_value(json_object_get(dc, "Name"));
	if (driver && *driver && strcmp(driver, "local") != 0)
		return berth_error_set(err, ENOENT,
				       "error looking up volume plugin %s: plugin \"%s\" "
				       "not found",
				       driver, driver);
	/* volume-opt: the local driver's options of a volume this makes (an existing one keeps
	 * its own, as docker) */
	r = hold_volume(p, *src ? src : NULL, json_object_get(vo, "Labels"),
			json_object_get(dc, "Options"), !*src, &vol, err);
	if (r < 0)
		return r;
	_cleanup_free_ char *path = daemon_volume_path(p->d, vol, "_data");
	r = add_point(p, "volume", vol, path ? path : "", dst, "z", !ro, "", !*src, !nocopy, err);
	/* the volume stays the point's Source (as docker shows it); the subpath is resolved at
	 * each start (containers-subpath.c) */
	if (r == 0 && clean)
		json_object_set_new(json_array_get(p->points, json_array_size(p->points) - 1),
				    "Subpath", json_string(clean));
	return r;
}

/* --volumes-from c[:ro|:rw]: that container's points, with its mode or the one given. */
static int volumes_from(struct prep *p, const char *spec, struct berth_error **err)
{
	_cleanup_free_ char *name = strdup(spec);
	char *colon = name ? strchr(name, ':') : NULL;
	const char *mode = NULL;
	_cleanup_json_ json_t *theirs = NULL;
	int r = 0;

	if (!name)
		return berth_error_set(err, ENOMEM, "out of memory");
	if (colon) {
		*colon = '\0';
		mode = colon + 1;
		if (strcmp(mode, "ro") != 0 && strcmp(mode, "rw") != 0)
			return berth_error_set(err, EINVAL, "invalid mode: %s", mode);
	}
	pthread_mutex_lock(&p->d->lock);
	struct daemon_container *c = ctr_find_locked(p->d, name, NULL);
	if (c)
		theirs = json_deep_copy(c->mount_points);
	pthread_mutex_unlock(&p->d->lock);
	if (!c)
		return berth_error_set(err, ENOENT, "No such container: %s", name);
	size_t i;
	json_t *m;
	json_array_foreach (theirs, i, m) {
		const char *vol = json_string_value(json_object_get(m, "Name"));
		bool rw = mode ? strcmp(mode, "rw") == 0 : json_is_true(json_object_get(m, "RW"));
		const char *dst = json_string_value(json_object_get(m, "Destination"));

		if (has_destination(p->points, dst))
			continue; /* the container's own mount of that path wins */
		if (vol) {
			pthread_mutex_lock(&p->d->lock);
			r = daemon_volume_ref_locked(p->d, vol, p->id);
			pthread_mutex_unlock(&p->d->lock);
			if (r < 0)
				return berth_error_set(err, ENOENT, "No such volume: %s", vol);
			berth_strv_push(&p->held, vol);
		}
		r = add_point(p, json_string_value(json_object_get(m, "Type")), vol,
			      json_string_value(json_object_get(m, "Source")), dst,
			      json_string_value(json_object_get(m, "Mode")) ?: "", rw,
			      json_string_value(json_object_get(m, "Propagation")) ?: "", false,
			      false, err);
		if (r < 0)
			return r;
	}
	return 0;
}

static void undo(struct prep *p)
{
	pthread_mutex_lock(&p->d->lock);
	for (char **v = p->held; v && *v; v++)
		daemon_volume_unref_locked(p->d, *v, p->id);
	pthread_mutex_unlock(&p->d->lock);
	for (char **v = p->made; v && *v; v++)
		daemon_volume_remove(p->d, *v, true, NULL);
}

int ctr_mounts_prepare(struct berthd *d, const char *id, json_t *hc, const json_t *cfg,
		       json_t **ret, struct berth_error **err)
{
	struct prep p = {.d = d,
			 .id = id,
			 .points = json_array(),
			 .driver = json_string_value(json_object_get(hc, "VolumeDriver"))};
	_cleanup_json_ json_t *tmpfs = json_deep_copy(json_object_get(hc, "Tmpfs"));
	size_t i;
	json_t *v;
	int r = 0;

	if (!p.points)
		return berth_error_set(err, ENOMEM, "out of memory");
	if (!json_is_object(tmpfs)) {
		json_decref(tmpfs);
		tmpfs = json_object();
	}
	json_array_foreach (json_object_get(hc, "Binds"), i, v) {
		r = parse_bind(&p, json_string_value(v) ?: "", err);
		if (r < 0)
			goto fail;
	}
	json_t *mounts = json_object_get(hc, "Mounts");
	if (mounts && !json_is_array(mounts) && !json_is_null(mounts)) {
		r = berth_error_set(err, EINVAL, "invalid JSON: HostConfig.Mounts must be a list");
		goto fail;
	}
	json_array_foreach (mounts, i, v) {
		r = parse_mount(&p, v, tmpfs, err);
		if (r < 0)
			goto fail;
	}
	json_array_foreach (json_object_get(hc, "VolumesFrom"), i, v) {
		r = volumes_from(&p, json_string_value(v) ?: "", err);
		if (r < 0)
			goto fail;
	}
	/* the image's VOLUMEs and -v /path: an anonymous volume where nothing else is mounted */
	const char *dst;
	json_object_foreach ((json_t *)json_object_get(cfg, "Volumes"), dst, v) {
		_cleanup_free_ char *clean = NULL, *vol = NULL, *path = NULL;

		r = check_destination("volume", dst, &clean, err);
		if (r < 0)
			goto fail;
		if (has_destination(p.points, clean) || json_object_get(tmpfs, clean))
			continue;
		r = check_volume_driver(&p, err);
		if (r < 0)
			goto fail;
		r = hold_volume(&p, NULL, NULL, NULL, true, &vol, err);
		if (r < 0)
			goto fail;
		path = daemon_volume_path(d, vol, "_data");
		r = add_point(&p, "volume", vol, path ? path : "", clean, "", true, "", true, true,
			      err);
		if (r < 0)
			goto fail;
	}
	if (json_object_size(tmpfs) > 0)
		json_object_set(hc, "Tmpfs", tmpfs);
	berth_strv_free(p.made);
	berth_strv_free(p.held);
	*ret = p.points;
	return 0;
fail:
	undo(&p);
	berth_strv_free(p.made);
	berth_strv_free(p.held);
	json_decref(p.points);
	return r < 0 ? r : -EINVAL;
}

void ctr_mounts_hold_locked(struct berthd *d, struct daemon_container *c)
{
	size_t i;
	json_t *m;

	json_array_foreach (c->mount_points, i, m) {
		const char *vol = json_string_value(json_object_get(m, "Name"));
		if (vol && daemon_volume_ref_locked(d, vol, c->id) < 0)
			log_warn("container %.12s: its volume %s is gone", c->id, vol);
	}
}

void ctr_mounts_release(struct berthd *d, struct daemon_container *c, bool remove_anonymous)
{
	_cleanup_strv_ char **anon = NULL;
	size_t i;
	json_t *m;

	pthread_mutex_lock(&d->lock);
	json_array_foreach (c->mount_points, i, m) {
		const char *vol = json_string_value(json_object_get(m, "Name"));
		if (!vol)
			continue;
		daemon_volume_unref_locked(d, vol, c->id);
		if (remove_anonymous && json_is_true(json_object_get(m, "Anonymous")))
			berth_strv_push(&anon, vol);
	}
	pthread_mutex_unlock(&d->lock);
	for (char **v = anon; v && *v; v++) {
		_cleanup_error_ struct berth_error *e = NULL;
		/* still used by another container (--volumes-from): it stays, as on docker */
		if (daemon_volume_remove(d, *v, true, &e) < 0 && e && e->code != EBUSY)
			log_warn("remove volume %s: %s", *v, e->msg);
	}
}

int ctr_mounts_for_spec(const struct daemon_container *c, struct berth_dockerspec_mount **ret,
			size_t *ret_n)
{
	size_t n = json_array_size(c->mount_points), i;
	struct berth_dockerspec_mount *v = calloc(n + 1, sizeof(*v));
	json_t *m;

	if (!v)
		return -ENOMEM;
	json_array_foreach (c->mount_points, i, m) {
		const char *prop = json_string_value(json_object_get(m, "Propagation"));
		const char *source = json_string_value(json_object_get(m, "Source"));

		/* a subpath only ever through its pin: never the whole volume, never its path */
		if (json_object_get(m, "Subpath"))
			source = json_string_value(json_object_get(m, "SubpathPin"));
		if (!source) {
			free(v);
			return -ENOENT;
		}
		v[i] = (struct berth_dockerspec_mount){
			.source = source,
			.destination = json_string_value(json_object_get(m, "Destination")),
			.writable = json_is_true(json_object_get(m, "RW")),
			.propagation = prop && *prop ? prop : NULL,
		};
	}
	*ret = v;
	*ret_n = n;
	return 0;
}

/* ---- copy-up: a new volume filled from the image -------------------------------------------- */

static int copy_tree(int from, int to, int depth)
{
	_cleanup_closedir_ DIR *dp = NULL;
	struct dirent *de;
	int dupfd = fcntl(from, F_DUPFD_CLOEXEC, 3);

	if (dupfd < 0 || depth > COPY_MAX_DEPTH) {
		if (dupfd >= 0)
			close(dupfd);
		return -ELOOP;
	}
	dp = fdopendir(dupfd);
	if (!dp) {
		close(dupfd);
		return -errno;
	}
	while ((de = readdir(dp))) {
		struct stat st;
		const char *n = de->d_name;
		int r = 0;

		if (strcmp(n, ".") == 0 || strcmp(n, "..") == 0)
			continue;
		/* the image is the attacker's: nothing here follows a link */
		if (fstatat(from, n, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (S_ISDIR(st.st_mode)) {
			if (mkdirat(to, n, st.st_mode & 07777) < 0 && errno != EEXIST)
				continue;
			_cleanup_close_ int sub =
				openat(from, n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			_cleanup_close_ int dsub =
				openat(to, n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub >= 0 && dsub >= 0)
				r = copy_tree(sub, dsub, depth + 1);
			if (dsub >= 0)
				fchmod(dsub, st.st_mode & 07777);
		} else if (S_ISREG(st.st_mode)) {
			_cleanup_close_ int in = openat(from, n, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
			_cleanup_close_ int out =
				openat(to, n, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
				       st.st_mode & 07777);
			char buf[65536];
			ssize_t k;

			if (in < 0 || out < 0)
				continue;
			while ((k = read(in, buf, sizeof(buf))) > 0)
				if (berth_write_all(out, buf, (size_t)k) < 0)
					break;
			fchmod(out, st.st_mode & 07777);
		} else if (S_ISLNK(st.st_mode)) {
			char target[4096];
			ssize_t k = readlinkat(from, n, target, sizeof(target) - 1);
			if (k < 0)
				continue;
			target[k] = '\0';
			if (symlinkat(target, to, n) < 0)
				continue;
		} else if (S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) ||
			   S_ISSOCK(st.st_mode)) {
			if (mknodat(to, n, st.st_mode, st.st_rdev) < 0)
				continue;
		} else {
			continue;
		}
		if (r < 0)
			return r;
		fchownat(to, n, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW);
		struct timespec ts[2] = {st.st_atim, st.st_mtim};
		utimensat(to, n, ts, AT_SYMLINK_NOFOLLOW);
	}
	return 0;
}

static bool dir_empty(int fd)
{
	int dupfd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	_cleanup_closedir_ DIR *dp = dupfd >= 0 ? fdopendir(dupfd) : NULL;
	struct dirent *de;

	if (!dp) {
		if (dupfd >= 0)
			close(dupfd);
		return false;
	}
	while ((de = readdir(dp)))
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			return false;
	return true;
}

void ctr_mounts_copy_up(struct berthd *d, struct daemon_container *c)
{
	_cleanup_free_ char *merged = NULL;
	_cleanup_close_ int root = -EBADF;
	size_t i;
	json_t *m;
	bool changed = false;

	if (asprintf(&merged, "%s/merged", c->dir) < 0)
		return;
	root = open(merged, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		return;
	json_array_foreach (c->mount_points, i, m) {
		const char *src = json_string_value(json_object_get(m, "Source"));
		const char *dst = json_string_value(json_object_get(m, "Destination"));

		if (!json_is_true(json_object_get(m, "CopyUp")) || !src || !dst)
			continue;
		struct open_how how = {.flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC,
				       .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
		/* the path inside the image, resolved inside its root */
		_cleanup_close_ int from =
			(int)syscall(SYS_openat2, root, dst + 1, &how, sizeof(how));
		_cleanup_close_ int to = open(src, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

		if (from >= 0 && to >= 0 && dir_empty(to)) {
			struct stat st;
			if (copy_tree(from, to, 0) < 0)
				log_warn("container %.12s: copy the image's %s into its volume: "
					 "incomplete",
					 c->id, dst);
			/* the volume's root takes the image directory's owner and mode */
			if (fstat(from, &st) == 0) {
				fchown(to, st.st_uid, st.st_gid);
				fchmod(to, st.st_mode & 07777);
			}
		}
		json_object_del(m, "CopyUp"); /* only the first start copies, as docker */
		changed = true;
	}
	if (changed) {
		pthread_mutex_lock(&d->lock);
		ctr_save_locked(d, c, NULL);
		pthread_mutex_unlock(&d->lock);
	}
}

json_t *ctr_mounts_inspect(const struct daemon_container *c)
{
	json_t *out = json_array();
	size_t i;
	json_t *m;

	json_array_foreach (c->mount_points, i, m) {
		json_t *x = json_deep_copy(m);
		json_object_del(x, "Anonymous");
		json_object_del(x, "CopyUp");
		json_object_del(x, "Subpath");
		json_object_del(x, "SubpathPin");
		json_array_append_new(out, x);
	}
	return out;
}
