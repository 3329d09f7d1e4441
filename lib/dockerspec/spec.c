/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The OCI runtime spec of a container, as dockerd 28 builds it (daemon/oci_linux.go on top of
 * oci/defaults.go's DefaultLinuxSpec), so that a container sees on berth what it sees on docker.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "dockerspec-internal.h"
#include "base/banned.h"

int dockerspec_tmpfs_options(const char *data, char ***ret, struct berth_error **err);

static const char *const default_masked[] = {
	"/proc/asound",	    "/proc/acpi",	 "/proc/interrupts",
	"/proc/kcore",	    "/proc/keys",	 "/proc/latency_stats",
	"/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug",
	"/proc/scsi",	    "/sys/firmware",	 "/sys/devices/virtual/powercap",
};

static const char *const default_readonly[] = {
	"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
};

/* the device cgroup rules of DefaultLinuxSpec: deny all, then the usual nodes, not /dev/fuse */
static const struct {
	bool allow;
	char type;
	int64_t major, minor;
} default_rules[] = {
	{false, 'a', -1, -1}, {true, 'c', 1, 5}, {true, 'c', 1, 3}, {true, 'c', 1, 9},
	{true, 'c', 1, 8},    {true, 'c', 5, 0}, {true, 'c', 5, 1}, {false, 'c', 10, 229},
};

static int oom(struct berth_error **err)
{
	return berth_error_set(err, ENOMEM, "out of memory");
}

static json_t *strv(const char *const *v, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < n; i++)
		if (json_array_append_new(a, json_string(v[i])) < 0) {
			json_decref(a);
			return NULL;
		}
	return a;
}

static json_t *mount_new(const char *dest, const char *type, const char *source,
			 const char *const *opts, size_t n)
{
	return json_pack("{s:s,s:s,s:s,s:o}", "destination", dest, "type", type, "source", source,
			 "options", strv(opts, n));
}

static bool opt_has(const json_t *m, const char *o)
{
	size_t i;
	json_t *e;
	json_array_foreach (json_object_get(m, "options"), i, e)
		if (strcmp(json_string_value(e), o) == 0)
			return true;
	return false;
}

static void opt_drop(json_t *m, const char *o)
{
	json_t *opts = json_object_get(m, "options");
	for (size_t i = 0; i < json_array_size(opts);)
		if (strcmp(json_string_value(json_array_get(opts, i)), o) == 0)
			json_array_remove(opts, i);
		else
			i++;
}

/* "a//b/../c" -> "/a/c", as filepath.Join/Clean */
static char *join_clean(const char *a, const char *b)
{
	_cleanup_free_ char *joined = NULL;
	char *out, *o;
	const char *c;

	if (asprintf(&joined, "/%s/%s", a, b) < 0)
		return NULL;
	out = malloc(strlen(joined) + 2);
	if (!out)
		return NULL;
	o = out;
	for (c = joined; *c;) {
		size_t len;
		while (*c == '/')
			c++;
		len = strcspn(c, "/");
		if (!len)
			break;
		if (len == 1 && c[0] == '.') {
		} else if (len == 2 && c[0] == '.' && c[1] == '.') {
			while (o > out && o[-1] != '/')
				o--;
			if (o > out)
				o--;
		} else {
			*o++ = '/';
			memcpy(o, c, len);
			o += len;
		}
		c += len;
	}
	if (o == out)
		*o++ = '/';
	*o = '\0';
	/* a relative parent stays relative, as filepath.Join keeps it */
	if (a[0] != '/' && !berth_str_has_prefix(b, "/")) {
		memmove(out, out + 1, strlen(out));
	}
	return out;
}

static bool security_opt(const json_t *hc, const char *key, const char **ret_value)
{
	size_t i;
	json_t *e;
	bool found = false;

	json_array_foreach (json_object_get(hc, "SecurityOpt"), i, e) {
		const char *o = json_string_value(e);
		size_t n = strlen(key);
		if (strcmp(o, key) == 0) {
			*ret_value = NULL;
			found = true;
		} else if (strncmp(o, key, n) == 0 && (o[n] == '=' || o[n] == ':')) {
			*ret_value = o + n + 1;
			found = true;
		}
	}
	return found;
}

static bool opt_bool(const json_t *hc, const char *key, bool def)
{
	const char *v = NULL;
	if (!security_opt(hc, key, &v))
		return def;
	if (!v)
		return true;
	return strcmp(v, "1") == 0 || strcasecmp(v, "t") == 0 || strcasecmp(v, "true") == 0;
}

/* ---- capabilities ------------------------------------------------------------------------ */

static int caps_of(const json_t *hc, const struct berth_dockerspec_host *h, char ***ret,
		   struct berth_error **err)
{
	_cleanup_strv_ char **caps = NULL, **add = NULL, **drop = NULL;
	int last = berth_cap_last();
	size_t i;
	json_t *e;

	/* "all capabilities" are the daemon's own, as docker's GetAllCapabilities */
	if (dockerspec_bool(hc, "Privileged")) {
		for (int n = 0; n <= last; n++)
			if (berth_dockerspec_cap_available(h, n) &&
			    berth_strv_push(&caps, berth_cap_name(n)) < 0)
				return oom(err);
		*ret = TAKE_PTR(caps);
		return 0;
	}
	json_array_foreach (json_object_get(hc, "CapAdd"), i, e) {
		_cleanup_free_ char *c =
			berth_dockerspec_cap_normalize(json_string_value(e), h, err);
		if (!c || berth_strv_push(&add, c) < 0)
			return c ? oom(err) : berth_error_wrap(err, "invalid CapAdd");
	}
	json_array_foreach (json_object_get(hc, "CapDrop"), i, e) {
		_cleanup_free_ char *c =
			berth_dockerspec_cap_normalize(json_string_value(e), h, err);
		if (!c || berth_strv_push(&drop, c) < 0)
			return c ? oom(err) : berth_error_wrap(err, "invalid CapDrop");
	}
	if (berth_strv_contains(add, "ALL")) {
		for (int n = 0; n <= last; n++)
			if (berth_dockerspec_cap_available(h, n) &&
			    !berth_strv_contains(drop, berth_cap_name(n)) &&
			    berth_strv_push(&caps, berth_cap_name(n)) < 0)
				return oom(err);
	} else if (berth_strv_contains(drop, "ALL")) {
		for (char **c = add; c && *c; c++)
			if (berth_strv_push(&caps, *c) < 0)
				return oom(err);
	} else {
		for (const char *const *c = berth_dockerspec_default_caps; *c; c++)
			if (!berth_strv_contains(drop, *c) && berth_strv_push(&caps, *c) < 0)
				return oom(err);
		for (char **c = add; c && *c; c++)
			if (berth_strv_push(&caps, *c) < 0)
				return oom(err);
	}
	if (!caps && !(caps = calloc(1, sizeof(char *))))
		return oom(err);
	*ret = TAKE_PTR(caps);
	return 0;
}

/* ---- process ----------------------------------------------------------------------------- */

static bool want_init(const json_t *hc, const struct berth_dockerspec_daemon *d)
{
	const json_t *init = json_object_get(hc, "Init");
	const char *pid = dockerspec_str(hc, "PidMode");

	if (strcmp(pid, "host") == 0 || berth_str_has_prefix(pid, "container:"))
		return false;
	return json_is_boolean(init) ? json_is_true(init) : d->init;
}

static int build_process(json_t *spec, const struct berth_dockerspec_container *c,
			 const struct berth_dockerspec_daemon *d,
			 const struct berth_dockerspec_host *h, char **caps,
			 struct berth_error **err)
{
	const json_t *cfg = c->config, *hc = c->host_config;
	_cleanup_json_ json_t *proc = json_object(), *args = json_array(), *env = NULL,
			      *rl = json_array();
	_cleanup_free_ char *path = NULL;
	_cleanup_strv_ char **rest = NULL;
	struct berth_dockerspec_user user = {0};
	_cleanup_close_ int rootfd = -EBADF;
	const char *cwd = dockerspec_str(cfg, "WorkingDir");
	bool has_home = false;
	json_t *gids, *capo;
	size_t i;
	json_t *e;
	int r = 0;

	if (!proc || !args || !rl)
		return oom(err);
	if (berth_dockerspec_path_args(cfg, &path, &rest, err) < 0)
		return -EINVAL;
	if (want_init(hc, d))
		r |= json_array_append_new(args, json_string(BERTH_DOCKERSPEC_INIT_PATH)) |
		     json_array_append_new(args, json_string("--"));
	r |= json_array_append_new(args, json_string(path));
	for (char **a = rest; a && *a; a++)
		r |= json_array_append_new(args, json_string(*a));

	rootfd = open(c->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return berth_error_sys(err, errno, "open the container's root '%s'", c->rootfs);
	if (berth_dockerspec_resolve_user(rootfd, dockerspec_str(cfg, "User"),
					  json_object_get(hc, "GroupAdd"), &user, err) < 0)
		return -EINVAL;
	gids = json_array();
	for (size_t k = 0; gids && k < user.n_additional_gids; k++)
		r |= json_array_append_new(gids, json_integer(user.additional_gids[k]));
	r |= json_object_set_new(proc, "user",
				 json_pack("{s:I,s:I,s:o*}", "uid", (json_int_t)user.uid, "gid",
					   (json_int_t)user.gid, "additionalGids", gids));

	env = berth_dockerspec_process_env(cfg);
	if (!env) {
		berth_dockerspec_user_release(&user);
		return oom(err);
	}
	/* runc sets HOME from passwd when the environment lacks it; lib/runtime does not */
	json_array_foreach (env, i, e)
		has_home |= berth_str_has_prefix(json_string_value(e), "HOME=");
	if (!has_home) {
		_cleanup_free_ char *home = NULL;
		if (asprintf(&home, "HOME=%s", user.home) < 0 ||
		    json_array_append_new(env, json_string(home)) < 0)
			r = -1;
	}
	berth_dockerspec_user_release(&user);

	r |= json_object_set_new(proc, "terminal", json_boolean(dockerspec_bool(cfg, "Tty")));
	if (dockerspec_bool(cfg, "Tty")) {
		const json_t *cs = json_object_get(hc, "ConsoleSize");
		json_int_t ch = json_integer_value(json_array_get(cs, 0));
		json_int_t cw = json_integer_value(json_array_get(cs, 1));
		if (ch > 0 || cw > 0)
			r |= json_object_set_new(proc, "consoleSize",
						 json_pack("{s:I,s:I}", "height", ch, "width", cw));
	}
	r |= json_object_set(proc, "args", args);
	r |= json_object_set(proc, "env", env);
	r |= json_object_set_new(proc, "cwd", json_string(*cwd ? cwd : "/"));
	capo = json_object();
	if (!capo)
		return oom(err);
	for (const char *k = "bounding"; k; k = NULL) {
		json_t *a = json_array();
		for (char **cp = caps; a && *cp; cp++)
			r |= json_array_append_new(a, json_string(*cp));
		r |= json_object_set_new(capo, "bounding", a);
		r |= json_object_set_new(capo, "effective", json_deep_copy(a));
		r |= json_object_set_new(capo, "permitted", json_deep_copy(a));
	}
	r |= json_object_set_new(proc, "capabilities", capo);

	/* rlimits: the request's, then the daemon's defaults for the names it does not set */
	json_array_foreach (json_object_get(hc, "Ulimits"), i, e) {
		_cleanup_free_ char *type = NULL;
		const char *n = dockerspec_str(e, "Name");
		if (asprintf(&type, "RLIMIT_%s", n) < 0)
			return oom(err);
		for (char *t = type; *t; t++)
			*t = (char)((*t >= 'a' && *t <= 'z') ? *t - 32 : *t);
		r |= json_array_append_new(rl,
					   json_pack("{s:s,s:I,s:I}", "type", type, "hard",
						     (json_int_t)dockerspec_int(e, "Hard"), "soft",
						     (json_int_t)dockerspec_int(e, "Soft")));
	}
	for (size_t k = 0; k < d->n_default_ulimits; k++) {
		const struct berth_dockerspec_ulimit *u = &d->default_ulimits[k];
		_cleanup_free_ char *type = NULL;
		bool given = false;
		json_array_foreach (json_object_get(hc, "Ulimits"), i, e)
			given |= strcmp(dockerspec_str(e, "Name"), u->name) == 0;
		if (given)
			continue;
		if (asprintf(&type, "RLIMIT_%s", u->name) < 0)
			return oom(err);
		for (char *t = type; *t; t++)
			*t = (char)((*t >= 'a' && *t <= 'z') ? *t - 32 : *t);
		r |= json_array_append_new(rl, json_pack("{s:s,s:I,s:I}", "type", type, "hard",
							 (json_int_t)u->hard, "soft",
							 (json_int_t)u->soft));
	}
	if (json_array_size(rl) > 0)
		r |= json_object_set(proc, "rlimits", rl);
	if (opt_bool(hc, "no-new-privileges", d->no_new_privileges))
		r |= json_object_set_new(proc, "noNewPrivileges", json_true());
	r |= json_object_set_new(proc, "oomScoreAdj",
				 json_integer(dockerspec_int(hc, "OomScoreAdj")));
	{
		const char *aa = NULL;
		if (h->apparmor && security_opt(hc, "apparmor", &aa) && aa)
			r |= json_object_set_new(proc, "apparmorProfile", json_string(aa));
	}
	if (r)
		return oom(err);
	if (json_object_set(spec, "process", proc) < 0)
		return oom(err);
	return 0;
}

/* ---- mounts ------------------------------------------------------------------------------ */

static int cmp_depth(const void *a, const void *b)
{
	const json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
	const char *dx = dockerspec_str(x, "destination"), *dy = dockerspec_str(y, "destination");
	size_t nx = 0, ny = 0;
	for (; *dx; dx++)
		nx += *dx == '/';
	for (; *dy; dy++)
		ny += *dy == '/';
	return nx < ny ? -1 : nx > ny;
}

static int build_mounts(json_t *spec, const struct berth_dockerspec_container *c,
			const struct berth_dockerspec_daemon *d, struct berth_error **err)
{
	const json_t *hc = c->host_config;
	const char *ipc = dockerspec_str(hc, "IpcMode");
	bool privileged = dockerspec_bool(hc, "Privileged");
	bool ro_root = dockerspec_bool(hc, "ReadonlyRootfs");
	_cleanup_json_ json_t *mounts = json_array(), *user = json_array();
	_cleanup_free_ json_t **sorted = NULL;
	char shm_size[48];
	const char *dest;
	json_t *v;
	size_t i;
	int r = 0;

	if (!mounts || !user)
		return oom(err);

	/* what the daemon adds: the user's mounts, IPC, tmpfs, the network files */
	for (size_t k = 0; k < c->n_mounts; k++) {
		const struct berth_dockerspec_mount *m = &c->mounts[k];
		const char *o[3] = {m->non_recursive ? "bind" : "rbind"};
		size_t n = 1;
		if (!m->writable)
			o[n++] = "ro";
		o[n++] = m->propagation ? m->propagation : "rprivate";
		r |= json_array_append_new(user,
					   mount_new(m->destination, "bind", m->source, o, n));
	}
	if (strcmp(ipc, "host") == 0 ||
	    ((strcmp(ipc, "shareable") == 0 || berth_str_has_prefix(ipc, "container:")) &&
	     c->shm_path)) {
		static const char *const o[] = {"rbind", "rprivate"};
		const char *src = strcmp(ipc, "host") == 0 ? "/dev/shm" : c->shm_path;
		r |= json_array_append_new(user, mount_new("/dev/shm", "bind", src, o, 2));
	}
	json_object_foreach ((json_t *)json_object_get(hc, "Tmpfs"), dest, v) {
		_cleanup_strv_ char **opts = NULL;
		if (dockerspec_tmpfs_options(json_string_value(v), &opts, err) < 0)
			return -EINVAL;
		r |= json_array_append_new(user, mount_new(dest, "tmpfs", "tmpfs",
							   (const char *const *)opts,
							   berth_strv_length(opts)));
	}
	{
		const struct {
			const char *src, *dst;
		} files[] = {{c->resolv_conf_path, "/etc/resolv.conf"},
			     {c->hostname_path, "/etc/hostname"},
			     {c->hosts_path, "/etc/hosts"}};
		for (size_t k = 0; k < ARRAY_SIZE(files); k++) {
			const char *o[3] = {"rbind"};
			size_t n = 1;
			bool taken = false;
			json_array_foreach (user, i, v)
				taken |=
					strcmp(dockerspec_str(v, "destination"), files[k].dst) == 0;
			if (!files[k].src || taken)
				continue;
			if (ro_root)
				o[n++] = "ro";
			o[n++] = "rprivate";
			r |= json_array_append_new(
				user, mount_new(files[k].dst, "bind", files[k].src, o, n));
		}
	}
	if (r)
		return oom(err);

	/* DefaultLinuxSpec's mounts, less those the user's replace */
	{
		static const char *const proc_o[] = {"nosuid", "noexec", "nodev"};
		static const char *const dev_o[] = {"nosuid", "strictatime", "mode=755",
						    "size=65536k"};
		static const char *const pts_o[] = {"nosuid",	     "noexec",	  "newinstance",
						    "ptmxmode=0666", "mode=0620", "gid=5"};
		static const char *const sys_o[] = {"nosuid", "noexec", "nodev", "ro"};
		static const char *const cg_o[] = {"ro", "nosuid", "noexec", "nodev"};
		static const char *const mq_o[] = {"nosuid", "noexec", "nodev"};
		const char *shm_o[] = {"nosuid", "noexec", "nodev", "mode=1777", shm_size};
		json_t *defaults[7];
		bool user_dev = false;

		snprintf(shm_size, sizeof(shm_size), "size=%lld",
			 (long long)dockerspec_int(hc, "ShmSize"));
		defaults[0] = mount_new("/proc", "proc", "proc", proc_o, 3);
		defaults[1] = mount_new("/dev", "tmpfs", "tmpfs", dev_o, 4);
		defaults[2] = mount_new("/dev/pts", "devpts", "devpts", pts_o, 6);
		defaults[3] = mount_new("/sys", "sysfs", "sysfs", sys_o, 4);
		defaults[4] = mount_new("/sys/fs/cgroup", "cgroup", "cgroup", cg_o, 4);
		defaults[5] = mount_new("/dev/mqueue", "mqueue", "mqueue", mq_o, 3);
		defaults[6] = mount_new("/dev/shm", "tmpfs", "shm", shm_o, 5);
		json_array_foreach (user, i, v)
			user_dev |= strcmp(dockerspec_str(v, "destination"), "/dev") == 0;
		for (size_t k = 0; k < ARRAY_SIZE(defaults); k++) {
			json_t *m = defaults[k];
			const char *dst = dockerspec_str(m, "destination");
			bool replaced = false;

			if (!m) {
				r = -1;
				continue;
			}
			json_array_foreach (user, i, v)
				replaced |= strcmp(dockerspec_str(v, "destination"), dst) == 0;
			if (replaced || (user_dev && berth_str_has_prefix(dst, "/dev/")) ||
			    (strcmp(dst, "/dev/shm") == 0 && strcmp(ipc, "none") == 0)) {
				json_decref(m);
				continue;
			}
			r |= json_array_append_new(mounts, m);
		}
	}
	if (want_init(hc, d)) {
		static const char *const o[] = {"bind", "ro"};
		if (!d->init_path)
			return berth_error_set(err, EINVAL,
					       "--init: the daemon has no init binary configured");
		r |= json_array_append_new(
			mounts, mount_new(BERTH_DOCKERSPEC_INIT_PATH, "bind", d->init_path, o, 2));
	}
	if (r)
		return oom(err);

	/* ReadonlyRootfs: the daemon's own mounts read-only too, but not the kernel's */
	if (ro_root) {
		json_array_foreach (mounts, i, v) {
			const char *dst = dockerspec_str(v, "destination");
			if (strcmp(dst, "/proc") == 0 || strcmp(dst, "/dev/pts") == 0 ||
			    strcmp(dst, "/dev/shm") == 0 || strcmp(dst, "/dev/mqueue") == 0 ||
			    strcmp(dst, "/dev") == 0)
				continue;
			if (!opt_has(v, "ro"))
				r |= json_array_append_new(json_object_get(v, "options"),
							   json_string("ro"));
		}
	}

	/* the user's mounts, shallow ones first (sortMounts) */
	sorted = calloc(json_array_size(user) + 1, sizeof(json_t *));
	if (!sorted)
		return oom(err);
	json_array_foreach (user, i, v)
		sorted[i] = v;
	qsort(sorted, json_array_size(user), sizeof(json_t *), cmp_depth);
	for (i = 0; i < json_array_size(user); i++)
		r |= json_array_append(mounts, sorted[i]);

	if (privileged) {
		json_array_foreach (mounts, i, v)
			if (strcmp(dockerspec_str(v, "destination"), "/sys") == 0)
				opt_drop(v, "ro");
	}
	if (opt_bool(hc, "writable-cgroups", privileged)) {
		json_array_foreach (mounts, i, v)
			if (strcmp(dockerspec_str(v, "type"), "cgroup") == 0)
				opt_drop(v, "ro");
	}
	if (r || json_object_set(spec, "mounts", mounts) < 0)
		return oom(err);
	return 0;
}

/* ---- linux ---------------------------------------------------------------------------- */

static json_t *rule(bool allow, char type, int64_t major, int64_t minor, const char *access)
{
	json_t *o = json_pack("{s:b,s:s}", "allow", allow, "access", access);
	char t[2] = {type, 0};

	if (!o)
		return NULL;
	if (type != 'a' && (json_object_set_new(o, "type", json_string(t)) < 0 ||
			    json_object_set_new(o, "major", json_integer(major)) < 0 ||
			    json_object_set_new(o, "minor", json_integer(minor)) < 0)) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* "c 1:3 rwm" / "a *:* m" (checked at create) */
static json_t *cgroup_rule(const char *s)
{
	char type = s[0];
	const char *p = s + 2;
	int64_t mj = -1, mn = -1;
	char *end;

	if (*p == '*')
		p++;
	else
		mj = strtoll(p, (char **)&p, 10);
	p++; /* ':' */
	if (*p == '*')
		p++;
	else
		mn = strtoll(p, &end, 10), p = end;
	p++; /* ' ' */
	{
		json_t *o =
			json_pack("{s:b,s:s#,s:I,s:I,s:s}", "allow", 1, "type", &type, (size_t)1,
				  "major", (json_int_t)mj, "minor", (json_int_t)mn, "access", p);
		return o;
	}
}

/*
 * HostConfig's per-device block IO list key ({Path, value_key}) as the spec's list spec_key of
 * {major, minor, spec_value}: the device numbers of the path (docker's getBlkio*Devices).
 */
static int blkio_devices(json_t *bio, const json_t *hc, const char *key, const char *value_key,
			 const char *spec_key, const char *spec_value, struct berth_error **err)
{
	const json_t *list = json_object_get(hc, key);
	json_t *out, *e;
	size_t i;

	if (json_array_size(list) == 0)
		return 0;
	out = json_array();
	if (!out || json_object_set_new(bio, spec_key, out) < 0)
		return oom(err);
	json_array_foreach (list, i, e) {
		const char *path = dockerspec_str(e, "Path");
		struct stat st;
		if (stat(path, &st) < 0)
			return berth_error_set(err, errno, "%s: stat %s: %s", key, path,
					       strerror(errno));
		if (!S_ISBLK(st.st_mode) && !S_ISCHR(st.st_mode))
			return berth_error_set(err, EINVAL, "%s: %s is not a device", key, path);
		if (json_array_append_new(out, json_pack("{s:I,s:I,s:I}", "major",
							 (json_int_t)major(st.st_rdev), "minor",
							 (json_int_t)minor(st.st_rdev), spec_value,
							 dockerspec_int(e, value_key))) < 0)
			return oom(err);
	}
	return 0;
}

static int build_resources(json_t *lx, const struct berth_dockerspec_container *c,
			   struct berth_error **err)
{
	const json_t *hc = c->host_config;
	_cleanup_json_ json_t *res = json_object(), *rules = json_array(), *mem = json_object(),
			      *cpu = json_object();
	const json_t *v;
	int r = 0;

	if (!res || !rules || !mem || !cpu)
		return oom(err);
	if (dockerspec_bool(hc, "Privileged")) {
		r |= json_array_append_new(rules, rule(true, 'a', -1, -1, "rwm"));
	} else {
		size_t i;
		json_t *e;
		for (size_t k = 0; k < ARRAY_SIZE(default_rules); k++)
			r |= json_array_append_new(
				rules, rule(default_rules[k].allow, default_rules[k].type,
					    default_rules[k].major, default_rules[k].minor, "rwm"));
		for (size_t k = 0; k < c->n_devices; k++)
			r |= json_array_append_new(
				rules, rule(true, c->devices[k].type, c->devices[k].major,
					    c->devices[k].minor, c->devices[k].permissions));
		json_array_foreach (json_object_get(hc, "DeviceCgroupRules"), i, e)
			r |= json_array_append_new(rules, cgroup_rule(json_string_value(e)));
	}
	r |= json_object_set(res, "devices", rules);

	/* memory (getMemoryResources) */
	if (dockerspec_int(hc, "Memory") > 0)
		r |= json_object_set_new(mem, "limit", json_integer(dockerspec_int(hc, "Memory")));
	if (dockerspec_int(hc, "MemoryReservation") > 0)
		r |= json_object_set_new(mem, "reservation",
					 json_integer(dockerspec_int(hc, "MemoryReservation")));
	if (dockerspec_int(hc, "MemorySwap") > 0)
		r |= json_object_set_new(mem, "swap",
					 json_integer(dockerspec_int(hc, "MemorySwap")));
	v = json_object_get(hc, "MemorySwappiness");
	if (json_is_integer(v))
		r |= json_object_set_new(mem, "swappiness", json_integer(json_integer_value(v)));
	v = json_object_get(hc, "OomKillDisable");
	if (json_is_boolean(v))
		r |= json_object_set_new(mem, "disableOOMKiller", json_boolean(json_is_true(v)));
	if (json_object_size(mem) > 0)
		r |= json_object_set(res, "memory", mem);

	/* cpu (getCPUResources) */
	if (dockerspec_int(hc, "CpuShares") > 0)
		r |= json_object_set_new(cpu, "shares",
					 json_integer(dockerspec_int(hc, "CpuShares")));
	if (*dockerspec_str(hc, "CpusetCpus"))
		r |= json_object_set_new(cpu, "cpus",
					 json_string(dockerspec_str(hc, "CpusetCpus")));
	if (*dockerspec_str(hc, "CpusetMems"))
		r |= json_object_set_new(cpu, "mems",
					 json_string(dockerspec_str(hc, "CpusetMems")));
	if (dockerspec_int(hc, "NanoCpus") > 0) {
		/* sched-bwc: a period of 100 ms and the share of it the CPUs ask for */
		int64_t period = 100000;
		r |= json_object_set_new(cpu, "period", json_integer(period));
		r |= json_object_set_new(
			cpu, "quota",
			json_integer(dockerspec_int(hc, "NanoCpus") * period / 1000000000LL));
	}
	if (dockerspec_int(hc, "CpuPeriod") != 0)
		r |= json_object_set_new(cpu, "period",
					 json_integer(dockerspec_int(hc, "CpuPeriod")));
	if (dockerspec_int(hc, "CpuQuota") != 0)
		r |= json_object_set_new(cpu, "quota",
					 json_integer(dockerspec_int(hc, "CpuQuota")));
	if (json_object_size(cpu) > 0)
		r |= json_object_set(res, "cpu", cpu);

	v = json_object_get(hc, "PidsLimit");
	if (json_is_integer(v))
		r |= json_object_set_new(
			res, "pids",
			json_pack("{s:I}", "limit",
				  json_integer_value(v) > 0 ? json_integer_value(v) : -1));
	{
		json_t *bio = json_object();
		if (bio && dockerspec_int(hc, "BlkioWeight") > 0)
			r |= json_object_set_new(bio, "weight",
						 json_integer(dockerspec_int(hc, "BlkioWeight")));
		if (!bio)
			return oom(err);
		int q = blkio_devices(bio, hc, "BlkioWeightDevice", "Weight", "weightDevice",
				      "weight", err);
		q = q
			    ?: blkio_devices(bio, hc, "BlkioDeviceReadBps", "Rate",
					     "throttleReadBpsDevice", "rate", err);
		q = q
			    ?: blkio_devices(bio, hc, "BlkioDeviceWriteBps", "Rate",
					     "throttleWriteBpsDevice", "rate", err);
		q = q
			    ?: blkio_devices(bio, hc, "BlkioDeviceReadIOps", "Rate",
					     "throttleReadIOPSDevice", "rate", err);
		q = q
			    ?: blkio_devices(bio, hc, "BlkioDeviceWriteIOps", "Rate",
					     "throttleWriteIOPSDevice", "rate", err);
		r |= json_object_set_new(res, "blockIO", bio);
		if (q < 0)
			return q;
	}
	if (r || json_object_set(lx, "resources", res) < 0)
		return oom(err);
	return 0;
}

static int build_namespaces(json_t *lx, const struct berth_dockerspec_container *c,
			    struct berth_error **err)
{
	const json_t *hc = c->host_config;
	bool net = !dockerspec_network_is_host(hc) || dockerspec_bool(c->config, "NetworkDisabled");
	bool uts = strcmp(dockerspec_str(hc, "UTSMode"), "host") != 0;
	bool pid = strcmp(dockerspec_str(hc, "PidMode"), "host") != 0;
	bool ipc = strcmp(dockerspec_str(hc, "IpcMode"), "host") != 0;
	bool cg = strcmp(dockerspec_str(hc, "CgroupnsMode"), "private") == 0;
	json_t *ns = json_array();
	int r = 0;

	if (!ns)
		return oom(err);
	/* DefaultLinuxSpec's order: mount, network, uts, pid, ipc; then cgroup */
	r |= json_array_append_new(ns, json_pack("{s:s}", "type", "mount"));
	if (net)
		r |= json_array_append_new(ns, json_pack("{s:s}", "type", "network"));
	if (uts)
		r |= json_array_append_new(ns, json_pack("{s:s}", "type", "uts"));
	if (pid && c->pid_ns_path)
		r |= json_array_append_new(
			ns, json_pack("{s:s,s:s}", "type", "pid", "path", c->pid_ns_path));
	else if (pid)
		r |= json_array_append_new(ns, json_pack("{s:s}", "type", "pid"));
	if (ipc && c->ipc_ns_path)
		r |= json_array_append_new(
			ns, json_pack("{s:s,s:s}", "type", "ipc", "path", c->ipc_ns_path));
	else if (ipc)
		r |= json_array_append_new(ns, json_pack("{s:s}", "type", "ipc"));
	if (cg)
		r |= json_array_append_new(ns, json_pack("{s:s}", "type", "cgroup"));
	if (json_object_set_new(lx, "namespaces", ns) < 0 || r)
		return oom(err);
	return 0;
}

static int build_devices(json_t *lx, const struct berth_dockerspec_container *c,
			 struct berth_error **err)
{
	json_t *devs = json_array();
	int r = 0;

	if (!devs || json_object_set_new(lx, "devices", devs) < 0)
		return oom(err);
	for (size_t k = 0; k < c->n_devices; k++) {
		const struct berth_dockerspec_device *d = &c->devices[k];
		char t[2] = {d->type, 0};
		r |= json_array_append_new(
			devs, json_pack("{s:s,s:s,s:I,s:I,s:I,s:I,s:I}", "path", d->path, "type", t,
					"major", (json_int_t)d->major, "minor",
					(json_int_t)d->minor, "fileMode", (json_int_t)d->file_mode,
					"uid", (json_int_t)d->uid, "gid", (json_int_t)d->gid));
	}
	return r ? oom(err) : 0;
}

static int build_seccomp(json_t *lx, const struct berth_dockerspec_container *c,
			 const struct berth_dockerspec_daemon *d,
			 const struct berth_dockerspec_host *h, char **caps,
			 struct berth_error **err)
{
	const json_t *hc = c->host_config;
	const char *profile = NULL;
	struct berth_dockerspec_seccomp_target t = {
		.arch = h->arch ? h->arch : "amd64",
		.caps = caps,
		.kernel_major = h->kernel_major,
		.kernel_minor = h->kernel_minor,
	};
	json_t *s = NULL;
	int r;

	(void)security_opt(hc, "seccomp", &profile);
	if (profile && strcmp(profile, "unconfined") == 0)
		return 0;
	if (dockerspec_bool(hc, "Privileged") && (!profile || strcmp(profile, "builtin") == 0))
		return 0;
	if (!h->seccomp) {
		if (profile && strcmp(profile, "builtin") != 0)
			return berth_error_set(
				err, EINVAL,
				"seccomp is not enabled in your kernel, cannot run a "
				"custom seccomp profile");
		return 0;
	}
	if (profile && strcmp(profile, "builtin") == 0)
		r = berth_dockerspec_seccomp_default(&t, &s, err);
	else if (profile)
		r = berth_dockerspec_seccomp_convert(profile, strlen(profile), &t, &s, err);
	else if (d->seccomp_profile && strcmp(d->seccomp_profile, "unconfined") == 0)
		return 0;
	else if (d->seccomp_profile)
		r = berth_dockerspec_seccomp_convert(d->seccomp_profile, strlen(d->seccomp_profile),
						     &t, &s, err);
	else
		r = berth_dockerspec_seccomp_default(&t, &s, err);
	if (r < 0)
		return r;
	if (s && json_object_set_new(lx, "seccomp", s) < 0)
		return oom(err);
	return 0;
}

static int build_linux(json_t *spec, const struct berth_dockerspec_container *c,
		       const struct berth_dockerspec_daemon *d,
		       const struct berth_dockerspec_host *h, char **caps, struct berth_error **err)
{
	const json_t *hc = c->host_config, *cfg = c->config;
	_cleanup_json_ json_t *lx = json_object(), *sysctl = json_object();
	const char *parent = dockerspec_str(hc, "CgroupParent");
	_cleanup_free_ char *cgpath = NULL;
	const char *key;
	json_t *v;
	int r = 0;

	if (!lx || !sysctl)
		return oom(err);
	if (!*parent)
		parent = d->cgroup_parent ? d->cgroup_parent
					  : (d->systemd_cgroup ? "system.slice" : "/berth");
	if (d->systemd_cgroup)
		r = asprintf(&cgpath, "%s:berth:%s", parent, c->id) < 0 ? -1 : 0;
	else
		cgpath = join_clean(parent, c->id);
	if (r || !cgpath)
		return oom(err);

	r |= build_resources(lx, c, err);
	if (r)
		return -ENOMEM;
	r |= json_object_set_new(lx, "cgroupsPath", json_string(cgpath));
	if (build_namespaces(lx, c, err) < 0 || build_devices(lx, c, err) < 0)
		return -ENOMEM;
	r = build_seccomp(lx, c, d, h, caps, err);
	if (r < 0)
		return r;

	/* the NIS domain name through its sysctl; docker's default network sysctls */
	if (*dockerspec_str(cfg, "Domainname"))
		r |= json_object_set_new(sysctl, "kernel.domainname",
					 json_string(dockerspec_str(cfg, "Domainname")));
	if (dockerspec_network_is_private(hc)) {
		if (h->ping_group_range)
			r |= json_object_set_new(sysctl, "net.ipv4.ping_group_range",
						 json_string("0 2147483647"));
		if (h->unprivileged_port_start)
			r |= json_object_set_new(sysctl, "net.ipv4.ip_unprivileged_port_start",
						 json_string("0"));
	}
	json_object_foreach ((json_t *)json_object_get(hc, "Sysctls"), key, v)
		r |= json_object_set_new(sysctl, key, json_deep_copy(v));
	r |= json_object_set(lx, "sysctl", sysctl);

	if (!dockerspec_bool(hc, "Privileged")) {
		json_t *masked = strv(default_masked, ARRAY_SIZE(default_masked));
		for (char **t = h->thermal_throttle; masked && t && *t; t++)
			r |= json_array_append_new(masked, json_string(*t));
		r |= json_object_set_new(lx, "maskedPaths", masked);
		r |= json_object_set_new(lx, "readonlyPaths",
					 strv(default_readonly, ARRAY_SIZE(default_readonly)));
	}
	/* explicit lists (--security-opt systempaths=unconfined sends []) win */
	v = json_object_get(hc, "MaskedPaths");
	if (json_is_array(v))
		r |= json_object_set_new(lx, "maskedPaths", json_deep_copy(v));
	v = json_object_get(hc, "ReadonlyPaths");
	if (json_is_array(v))
		r |= json_object_set_new(lx, "readonlyPaths", json_deep_copy(v));
	if (r || json_object_set(spec, "linux", lx) < 0)
		return oom(err);
	return 0;
}

int berth_dockerspec_oci_spec(const struct berth_dockerspec_container *c,
			      const struct berth_dockerspec_daemon *daemon,
			      const struct berth_dockerspec_host *host, json_t **ret_spec,
			      struct berth_error **err)
{
	const struct berth_dockerspec_daemon none = {0};
	_cleanup_json_ json_t *spec = json_object();
	_cleanup_strv_ char **caps = NULL;
	int r;

	if (!daemon)
		daemon = &none;
	if (!spec)
		return oom(err);
	if (!c->id || !c->rootfs || !json_is_object(c->config) || !json_is_object(c->host_config))
		return berth_error_set(err, EINVAL,
				       "container spec: id, rootfs, config and host config are "
				       "required");
	r = caps_of(c->host_config, host, &caps, err);
	if (r < 0)
		return r;
	if (json_object_set_new(spec, "ociVersion", json_string("1.0.2")) < 0)
		return oom(err);
	r = build_process(spec, c, daemon, host, caps, err);
	if (r < 0)
		return r;
	if (json_object_set_new(spec, "root",
				json_pack("{s:s,s:b}", "path", c->rootfs, "readonly",
					  dockerspec_bool(c->host_config, "ReadonlyRootfs"))) < 0)
		return oom(err);
	if (strcmp(dockerspec_str(c->host_config, "UTSMode"), "host") != 0 &&
	    json_object_set_new(spec, "hostname",
				json_string(dockerspec_str(c->config, "Hostname"))) < 0)
		return oom(err);
	r = build_mounts(spec, c, daemon, err);
	if (r < 0)
		return r;
	r = build_linux(spec, c, daemon, host, caps, err);
	if (r < 0)
		return r;
	/* DeviceRequests (--gpus): no device driver (nvidia and the like) is registered, and
	 * dockerd fails the start of a container that asks for one so */
	const json_t *dr = json_object_get(c->host_config, "DeviceRequests");
	if (json_array_size(dr) > 0) {
		const json_t *q = json_array_get(dr, 0), *set, *cap;
		char buf[512];
		size_t n = 0, i, k;
		n += (size_t)snprintf(buf, sizeof(buf), "[");
		json_array_foreach (json_object_get(q, "Capabilities"), i, set) {
			if (n < sizeof(buf))
				n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s[",
						      i ? " " : "");
			json_array_foreach (set, k, cap)
				if (n < sizeof(buf))
					n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%s",
							      k ? " " : "",
							      json_string_value(cap) ?: "");
			if (n < sizeof(buf))
				n += (size_t)snprintf(buf + n, sizeof(buf) - n, "]");
		}
		if (n < sizeof(buf))
			snprintf(buf + n, sizeof(buf) - n, "]");
		return berth_error_set(
			err, EINVAL, "could not select device driver \"%s\" with capabilities: %s",
			dockerspec_str(q, "Driver"), buf);
	}
	/* HostConfig.Annotations, passed through to the runtime */
	const json_t *ann = json_object_get(c->host_config, "Annotations");
	if (json_object_size(ann) > 0 &&
	    json_object_set_new(spec, "annotations", json_deep_copy(ann)) < 0)
		return oom(err);
	*ret_spec = TAKE_PTR(spec);
	return 0;
}
