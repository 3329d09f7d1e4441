/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The state directory of a container: <state_root>/<id>/state.json (what create decided: pid,
 * bundle, cgroup, the config) and exec.fifo (present from create until start).  The status is
 * never stored; it is read from the process, the fifo and the freezer each time.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "container-internal.h"
#include "base/banned.h"

const char *berth_status_name(enum berth_status s)
{
	static const char *const names[] = {
		[BERTH_STATUS_CREATING] = "creating", [BERTH_STATUS_CREATED] = "created",
		[BERTH_STATUS_RUNNING] = "running",   [BERTH_STATUS_PAUSED] = "paused",
		[BERTH_STATUS_STOPPED] = "stopped",
	};
	return names[s];
}

int berth_container_validate_id(const char *id, struct berth_error **err)
{
	size_t n = id ? strlen(id) : 0;

	if (n == 0)
		return berth_error_set(err, EINVAL, "container id cannot be empty");
	if (n > 1024)
		return berth_error_set(err, EINVAL, "invalid id format: '%.32s...' is too long",
				       id);
	if (strcmp(id, ".") == 0 || strcmp(id, "..") == 0)
		return berth_error_set(err, EINVAL, "invalid id format: '%s'", id);
	for (size_t i = 0; i < n; i++) {
		char ch = id[i];
		bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
			  (ch >= '0' && ch <= '9') || (i > 0 && strchr("_+-.", ch));
		if (!ok)
			return berth_error_set(err, EINVAL, "invalid id format: '%s'", id);
	}
	return 0;
}

int berth_cgroup_path_for(const struct berth_spec *spec, const char *id, bool systemd, char **ret,
			  struct berth_error **err)
{
	const char *p = spec->linux_.cgroups_path;
	char *out = NULL;
	int r;

	if (systemd && p && *p) {
		/* "slice:prefix:name": the unit prefix-name.scope under the slice. */
		_cleanup_free_ char *copy = strdup(p);
		if (!copy)
			return berth_error_set(err, ENOMEM, "out of memory");
		char *c1 = strchr(copy, ':');
		char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		if (!c1 || !c2 || strchr(c2 + 1, ':'))
			return berth_error_set(
				err, EINVAL, "cgroupsPath '%s': expected \"slice:prefix:name\"", p);
		*c1 = *c2 = '\0';
		const char *slice = *copy ? copy : "system.slice";
		if (strchr(slice, '/') || strchr(c1 + 1, '/') || strchr(c2 + 1, '/'))
			return berth_error_set(err, EINVAL, "cgroupsPath '%s': '/' not allowed", p);
		/* a-b-c.slice lives at /a.slice/a-b.slice/a-b-c.slice, as systemd nests them */
		_cleanup_free_ char *dir = strdup("");
		const char *dash = slice;
		if (strcmp(slice, "-.slice") != 0) {
			while (dir) {
				dash = strchr(dash, '-');
				size_t len = dash ? (size_t)(dash - slice) : strlen(slice);
				char *nd = NULL;
				if (!dash) {
					r = asprintf(&nd, "%s/%s", dir, slice);
				} else {
					r = asprintf(&nd, "%s/%.*s.slice", dir, (int)len, slice);
					dash++;
				}
				free(dir);
				dir = r < 0 ? NULL : nd;
				if (!dash)
					break;
			}
		}
		if (!dir)
			return berth_error_set(err, ENOMEM, "out of memory");
		if (*(c1 + 1))
			r = asprintf(&out, "%s/%s-%s.scope", dir, c1 + 1, c2 + 1);
		else
			r = asprintf(&out, "%s/%s", dir, c2 + 1);
		if (r < 0)
			return berth_error_set(err, ENOMEM, "out of memory");
	} else if (p && *p) {
		if (strstr(p, "..") &&
		    (strstr(p, "/../") || berth_str_has_prefix(p, "../") || strcmp(p, "..") == 0 ||
		     (strlen(p) >= 3 && strcmp(p + strlen(p) - 3, "/..") == 0)))
			return berth_error_set(err, EINVAL, "cgroupsPath '%s': '..' not allowed",
					       p);
		if (p[0] == '/') {
			out = strdup(p);
		} else {
			/* relative: below the cgroup the runtime itself runs in (runc's rule) */
			_cleanup_free_ char *self = NULL;
			char *line, *save = NULL, *own = NULL;
			if (berth_read_file_at(AT_FDCWD, "/proc/self/cgroup", 1 << 20, &self, NULL,
					       NULL) == 0) {
				for (line = strtok_r(self, "\n", &save); line;
				     line = strtok_r(NULL, "\n", &save)) {
					/* the v2 line "0::/x", else the first v1 line */
					char *path = strchr(line, ':');
					path = path ? strchr(path + 1, ':') : NULL;
					if (!path)
						continue;
					if (berth_str_has_prefix(line, "0::") || !own)
						own = path + 1;
				}
			}
			if (!own || strcmp(own, "/") == 0)
				own = "";
			if (asprintf(&out, "%s/%s", own, p) < 0)
				out = NULL;
		}
		if (!out)
			return berth_error_set(err, ENOMEM, "out of memory");
	} else {
		if (asprintf(&out, "/berth/%s", id) < 0)
			return berth_error_set(err, ENOMEM, "out of memory");
	}
	*ret = out;
	return 0;
}

int berth_state_save(const struct berth_container *c, struct berth_error **err)
{
	_cleanup_json_ json_t *j = json_pack(
		"{s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:s, s:I, s:b, s:s, s:O}", "id", c->id,
		"bundle", c->bundle, "rootfs", c->rootfs, "pid", (json_int_t)c->pid,
		"pid_start_time", (json_int_t)c->pid_start_time, "creator", (json_int_t)c->creator,
		"creator_start_time", (json_int_t)c->creator_start_time, "created", c->created,
		"owner", (json_int_t)c->owner, "systemd_cgroup", c->systemd_cgroup, "cgroup_path",
		berth_cgroup_path(c->cgroup), "config", c->spec->json);
	_cleanup_free_ char *text = NULL;
	_cleanup_close_ int dfd = -EBADF;
	const char *made = berth_cgroup_made_from(c->cgroup);

	/* the cgroup parents create made, for delete to remove (absent: none) */
	if (j && made && json_object_set_new(j, "cgroup_made_from", json_string(made)) < 0)
		return berth_error_set(err, ENOMEM, "out of memory");
	if (j && c->host_mounts) {
		json_t *a = json_array();
		for (char **m = c->host_mounts; a && *m; m++)
			if (json_array_append_new(a, json_string(*m)) < 0) {
				json_decref(a);
				a = NULL;
			}
		if (!a || json_object_set_new(j, "host_mounts", a) < 0)
			return berth_error_set(err, ENOMEM, "out of memory");
	}
	if (!j || !(text = json_dumps(j, JSON_COMPACT)))
		return berth_error_set(err, ENOMEM, "out of memory");
	dfd = open(c->state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return berth_error_sys(err, errno, "open '%s'", c->state_dir);
	return berth_write_file_replace_at(dfd, BERTH_STATE_FILE, text, strlen(text), 0600, err);
}

int berth_container_load(const struct berth_runtime_opts *o, const char *id,
			 struct berth_container **ret, struct berth_error **err)
{
	_cleanup_container_ struct berth_container *c = NULL;
	_cleanup_json_ json_t *j = NULL;
	_cleanup_free_ char *path = NULL, *config = NULL;
	const char *bundle = NULL, *rootfs = NULL, *created = NULL, *cgpath = NULL, *made = NULL;
	json_int_t pid = 0, start = 0, owner = 0, creator = 0, creator_start = 0;
	int systemd = 0;
	json_t *conf = NULL;
	json_error_t je;
	int r;

	r = berth_container_validate_id(id, err);
	if (r < 0)
		return r;
	c = calloc(1, sizeof(*c));
	if (!c || !(c->id = strdup(id)) || asprintf(&c->state_dir, "%s/%s", o->state_root, id) < 0)
		return berth_error_set(err, ENOMEM, "out of memory");
	if (asprintf(&path, "%s/" BERTH_STATE_FILE, c->state_dir) < 0)
		return berth_error_set(err, ENOMEM, "out of memory");
	r = berth_json_load_file(path, BERTH_STATE_MAX_SIZE, &j, err);
	if (r == -ENOENT) {
		struct stat st;
		if (stat(c->state_dir, &st) == 0)
			return berth_error_set(
				err, ENOENT,
				"container '%s' is still being created (or its create "
				"failed): no state yet",
				id);
		return berth_error_set(err, ENOENT, "container '%s' does not exist", id);
	}
	if (r < 0)
		return berth_error_wrap(err, "load container '%s'", id);
	if (json_unpack_ex(j, &je, 0,
			   "{s:s, s:s, s:I, s:I, s?I, s?I, s:s, s:I, s?b, s:s, s?s, s:o}", "bundle",
			   &bundle, "rootfs", &rootfs, "pid", &pid, "pid_start_time", &start,
			   "creator", &creator, "creator_start_time", &creator_start, "created",
			   &created, "owner", &owner, "systemd_cgroup", &systemd, "cgroup_path",
			   &cgpath, "cgroup_made_from", &made, "config", &conf) < 0)
		return berth_error_set(err, EINVAL, "load container '%s': '%s': %s", id, path,
				       je.text);
	c->bundle = strdup(bundle);
	c->rootfs = strdup(rootfs);
	c->created = strdup(created);
	if (!c->bundle || !c->rootfs || !c->created)
		return berth_error_set(err, ENOMEM, "out of memory");
	c->pid = (pid_t)pid;
	c->pid_start_time = (uint64_t)start;
	c->creator = (pid_t)creator;
	c->creator_start_time = (uint64_t)creator_start;
	c->owner = (uid_t)owner;
	c->systemd_cgroup = systemd;
	config = json_dumps(conf, JSON_COMPACT);
	if (!config)
		return berth_error_set(err, ENOMEM, "out of memory");
	r = berth_spec_parse(config, strlen(config), &c->spec, err);
	if (r < 0)
		return berth_error_wrap(err, "load container '%s': config", id);
	json_t *hm = json_object_get(j, "host_mounts"), *v;
	size_t i;
	json_array_foreach (hm, i, v) {
		/* only below the container's rootfs: a state file is not trusted to name others */
		const char *m = json_string_value(v);
		if (m && berth_str_has_prefix(m, c->rootfs) &&
		    (m[strlen(c->rootfs)] == '/' || m[strlen(c->rootfs)] == '\0') &&
		    berth_strv_push(&c->host_mounts, m) < 0)
			return berth_error_set(err, ENOMEM, "out of memory");
	}
	r = berth_cgroup_new(o->cgroup_root, cgpath, &c->cgroup, err);
	if (r == 0)
		r = berth_cgroup_set_made_from(c->cgroup, made, err);
	if (r < 0)
		return berth_error_wrap(err, "load container '%s'", id);
	c->log = o->log;
	*ret = TAKE_PTR(c);
	return 0;
}

int berth_container_open_pidfd(struct berth_container *c, struct berth_pidfd **ret,
			       struct berth_error **err)
{
	_cleanup_pidfd_ struct berth_pidfd *p = NULL;
	int r;

	if (c->pid <= 0)
		return berth_error_set(err, ESRCH, "container '%s' has no process", c->id);
	r = berth_pidfd_open(c->pid, &p, err);
	if (r == -ESRCH) {
		if (err)
			berth_error_freep(err);
		return berth_error_set(err, ESRCH, "container '%s': its init has exited", c->id);
	}
	if (r < 0)
		return berth_error_wrap(err, "container '%s'", c->id);
	/* checked after the open: the handle now pins whatever process has this pid */
	if (berth_proc_start_time(c->pid) != c->pid_start_time)
		return berth_error_set(err, ESRCH, "container '%s': its init has exited", c->id);
	*ret = TAKE_PTR(p);
	return 0;
}

bool berth_container_alive(const struct berth_container *c)
{
	char path[64], buf[512];
	_cleanup_close_ int fd = -EBADF;
	ssize_t n;
	char *p;

	if (c->pid <= 0)
		return false;
	if (berth_proc_start_time(c->pid) != c->pid_start_time)
		return false; /* gone, or the pid now belongs to another process */
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)c->pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	p = strrchr(buf, ')');
	/* a zombie has exited; only its parent has not reaped it yet */
	return p && p[1] == ' ' && p[2] != 'Z' && p[2] != 'X';
}

enum berth_status berth_container_status(struct berth_container *c)
{
	char fifo[PATH_MAX];
	bool frozen = false;

	if (c->pid == 0)
		/* create has not finished: still at work, or died half-way */
		return c->creator > 0 && berth_proc_start_time(c->creator) == c->creator_start_time
			       ? BERTH_STATUS_CREATING
			       : BERTH_STATUS_STOPPED;
	if (!berth_container_alive(c))
		return BERTH_STATUS_STOPPED;
	snprintf(fifo, sizeof(fifo), "%s/" BERTH_EXEC_FIFO, c->state_dir);
	if (access(fifo, F_OK) == 0)
		return BERTH_STATUS_CREATED;
	if (berth_cgroup_is_frozen(c->cgroup, &frozen, NULL) == 0 && frozen)
		return BERTH_STATUS_PAUSED;
	return BERTH_STATUS_RUNNING;
}

/*
 * The owner's name from the host's /etc/passwd, "" when it has none.  Read directly rather than
 * through getpwuid(): the runtime may be linked statically, and NSS modules cannot be loaded
 * into a static binary safely.
 */
static void owner_name(uid_t uid, char *buf, size_t len)
{
	FILE *f = fopen("/etc/passwd", "re");
	struct passwd *pw;

	buf[0] = '\0';
	if (!f)
		return;
	while ((pw = fgetpwent(f)))
		if (pw->pw_uid == uid) {
			snprintf(buf, len, "%s", pw->pw_name);
			break;
		}
	fclose(f);
}

json_t *berth_container_state_json(struct berth_container *c)
{
	enum berth_status st = berth_container_status(c);
	json_t *annotations = json_object_get(c->spec->json, "annotations");
	char owner[256];
	json_t *j;

	owner_name(c->owner, owner, sizeof(owner));

	j = json_pack("{s:s, s:s, s:s, s:I, s:s, s:s, s:s, s:s}", "ociVersion",
		      c->spec->oci_version ? c->spec->oci_version : "1.2.0", "id", c->id, "status",
		      berth_status_name(st), "pid",
		      (json_int_t)(st == BERTH_STATUS_STOPPED ? 0 : c->pid), "bundle", c->bundle,
		      "rootfs", c->rootfs, "created", c->created, "owner", owner);
	if (j && json_is_object(annotations))
		json_object_set(j, "annotations", annotations);
	return j;
}

static int cmp_container(const void *a, const void *b)
{
	return strcmp((*(struct berth_container *const *)a)->id,
		      (*(struct berth_container *const *)b)->id);
}

int berth_container_list(const struct berth_runtime_opts *o, struct berth_container ***ret,
			 size_t *ret_n, struct berth_error **err)
{
	_cleanup_closedir_ DIR *d = opendir(o->state_root);
	struct berth_container **v = NULL;
	size_t n = 0;
	struct dirent *de;

	if (!d) {
		if (errno != ENOENT)
			return berth_error_sys(err, errno, "open '%s'", o->state_root);
	}
	while (d && (de = readdir(d))) {
		struct berth_container *c = NULL;
		if (de->d_name[0] == '.' || berth_container_validate_id(de->d_name, NULL) < 0)
			continue;
		if (berth_container_load(o, de->d_name, &c, NULL) < 0)
			continue;
		struct berth_container **nv = realloc(v, (n + 1) * sizeof(*v));
		if (!nv) {
			berth_container_free(c);
			for (size_t i = 0; i < n; i++)
				berth_container_free(v[i]);
			free(v);
			return berth_error_set(err, ENOMEM, "out of memory");
		}
		v = nv;
		v[n++] = c;
	}
	if (n)
		qsort(v, n, sizeof(*v), cmp_container);
	*ret = v;
	*ret_n = n;
	return 0;
}

void berth_container_free(struct berth_container *c)
{
	if (!c)
		return;
	free(c->id);
	free(c->state_dir);
	free(c->bundle);
	free(c->rootfs);
	free(c->created);
	berth_cgroup_free(c->cgroup);
	berth_spec_free(c->spec);
	berth_seccomp_filter_free(c->exec_seccomp);
	berth_strv_free(c->host_mounts);
	if (c->annotations)
		json_decref(c->annotations);
	free(c);
}
