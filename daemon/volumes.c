/* SPDX-License-Identifier: Apache-2.0 */
/*
 * berthd's volumes with the `local` driver: data-root/volumes/<name>/_data holds the files,
 * data-root/volumes/<name>/volume.json the name, labels, options and creation time.  A volume
 * with mount options (type, device, o: a tmpfs, a bind, a block device) is mounted on _data
 * while a container uses it.  The table is under d->lock; containers take and drop references
 * (daemon_volume_ref/unref), which make "in use".
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/random.h>
#include <sys/statfs.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "volumes-internal.h"
#include "events-internal.h"
#include "base/banned.h"

#define VOLUMES_DIR	  "volumes"
#define MAX_VOLUME_RECORD (1 << 20)

static void volume_free(struct daemon_volume *v)
{
	if (!v)
		return;
	free(v->name);
	json_decref(v->labels);
	json_decref(v->options);
	berth_strv_free(v->users);
	berth_strv_free(v->mounted_by);
	free(v);
}

char *daemon_volume_path(struct berthd *d, const char *name, const char *leaf)
{
	char *p = NULL;

	if (asprintf(&p, "%s/%s/%s%s%s", d->config.data_root, VOLUMES_DIR, name, leaf ? "/" : "",
		     leaf ? leaf : "") < 0)
		return NULL;
	return p;
}

/* docker's volume names: [a-zA-Z0-9][a-zA-Z0-9_.-]+ */
static int check_name(const char *name, struct berth_error **err)
{
	size_t len = name ? strlen(name) : 0;

	if (len == 1)
		return berth_error_set(err, EINVAL,
				       "volume name is too short, names should be at least two "
				       "alphanumeric characters");
	if (len == 0 || len > 255)
		return berth_error_set(err, EINVAL, "invalid volume name \"%s\"", name ? name : "");
	for (size_t i = 0; i < len; i++) {
		char c = name[i];
		bool alnum =
			(c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
		if (!alnum && (i == 0 || !strchr("_.-", c)))
			return berth_error_set(
				err, EINVAL,
				"\"%s\" includes invalid characters for a local volume "
				"name, only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. "
				"If you intended to pass a host directory, use absolute "
				"path",
				name);
	}
	return 0;
}

/*
 * The local driver's options, checked as docker's local driver does at create: only type, device,
 * o and size; device and type need each other and o needs both; size asks for a quota, which
 * berth's local driver has not (docker's words when its backing filesystem has none).
 */
static int check_options(const json_t *opts, struct berth_error **err)
{
	const char *k;
	json_t *v;

	if (opts && !json_is_object(opts) && !json_is_null(opts))
		return berth_error_set(err, EINVAL, "invalid JSON: DriverOpts must be an object");
	json_object_foreach ((json_t *)opts, k, v) {
		if (!berth_streq(k, "type") && !berth_streq(k, "device") && !berth_streq(k, "o") &&
		    !berth_streq(k, "size"))
			return berth_error_set(err, EINVAL, "invalid option key: \"%s\"", k);
		if (!json_is_string(v))
			return berth_error_set(err, EINVAL, "invalid option %s: want a string", k);
	}
	static const char *const needs[][3] = {
		{"device", "type", NULL}, {"type", "device", NULL}, {"o", "device", "type"}};
	for (size_t i = 0; i < sizeof(needs) / sizeof(*needs); i++) {
		if (!json_object_get(opts, needs[i][0]))
			continue;
		for (size_t j = 1; j < 3 && needs[i][j]; j++)
			if (!json_object_get(opts, needs[i][j]))
				return berth_error_set(err, EINVAL,
						       "missing required option: \"%s\"",
						       needs[i][j]);
	}
	if (json_object_get(opts, "size"))
		return berth_error_set(err, EINVAL, "quota size requested but no quota support");
	return 0;
}

static json_t *volume_record(const struct daemon_volume *v)
{
	return json_pack("{s:s, s:s, s:I, s:b, s:O, s:O}", "Name", v->name, "Driver", "local",
			 "CreatedAt", (json_int_t)v->created_ns, "Anonymous", v->anonymous,
			 "Labels", v->labels, "Options", v->options);
}

static int volume_save(struct berthd *d, const struct daemon_volume *v, struct berth_error **err)
{
	_cleanup_json_ json_t *j = volume_record(v);
	_cleanup_free_ char *text = j ? berth_json_dump(j) : NULL;
	_cleanup_free_ char *path = daemon_volume_path(d, v->name, "volume.json");

	if (!text || !path)
		return berth_error_set(err, ENOMEM, "out of memory");
	return berth_write_file_atomic_at(AT_FDCWD, path, text, strlen(text), 0600, err);
}

static int table_add(struct berthd *d, struct daemon_volume *v)
{
	struct daemon_volume **t = realloc(d->volumes.v, (d->volumes.n + 1) * sizeof(*t));

	if (!t)
		return -ENOMEM;
	d->volumes.v = t;
	t[d->volumes.n++] = v;
	return 0;
}

static void table_del(struct berthd *d, struct daemon_volume *v)
{
	for (size_t i = 0; i < d->volumes.n; i++)
		if (d->volumes.v[i] == v) {
			memmove(&d->volumes.v[i], &d->volumes.v[i + 1],
				(d->volumes.n - i - 1) * sizeof(*d->volumes.v));
			d->volumes.n--;
			return;
		}
}

struct daemon_volume *daemon_volume_find_locked(struct berthd *d, const char *name)
{
	for (size_t i = 0; name && i < d->volumes.n; i++)
		if (berth_streq(d->volumes.v[i]->name, name))
			return d->volumes.v[i];
	return NULL;
}

static int load_one(struct berthd *d, const char *name, struct berth_error **err)
{
	_cleanup_free_ char *path = daemon_volume_path(d, name, "volume.json");
	_cleanup_json_ json_t *j = NULL;
	struct daemon_volume *v;
	json_int_t created = 0;
	int anonymous = 0;
	json_t *labels = NULL, *options = NULL;

	if (!path)
		return berth_error_set(err, ENOMEM, "out of memory");
	if (berth_json_load_file(path, MAX_VOLUME_RECORD, &j, err) < 0)
		return -EINVAL;
	if (json_unpack(j, "{s?I, s?b, s?o, s?o}", "CreatedAt", &created, "Anonymous", &anonymous,
			"Labels", &labels, "Options", &options) != 0)
		return berth_error_set(err, EINVAL, "malformed volume record '%s'", path);
	v = calloc(1, sizeof(*v));
	if (!v || !(v->name = strdup(name))) {
		volume_free(v);
		return berth_error_set(err, ENOMEM, "out of memory");
	}
	v->created_ns = created;
	v->anonymous = anonymous;
	v->labels = json_is_object(labels) ? json_incref(labels) : json_object();
	v->options = json_is_object(options) ? json_incref(options) : json_object();
	if (table_add(d, v) < 0) {
		volume_free(v);
		return berth_error_set(err, ENOMEM, "out of memory");
	}
	return 0;
}

int daemon_volumes_open(struct berthd *d, struct berth_error **err)
{
	_cleanup_free_ char *dir = NULL;
	_cleanup_closedir_ DIR *dp = NULL;
	struct dirent *de;

	if (asprintf(&dir, "%s/%s", d->config.data_root, VOLUMES_DIR) < 0)
		return berth_error_set(err, ENOMEM, "out of memory");
	if (berth_mkdir_p(dir, 0701, err) < 0)
		return berth_error_wrap(err, "volumes");
	dp = opendir(dir);
	if (!dp)
		return berth_error_sys(err, errno, "open '%s'", dir);
	while ((de = readdir(dp))) {
		_cleanup_error_ struct berth_error *e = NULL;

		if (de->d_name[0] == '.' || check_name(de->d_name, NULL) < 0)
			continue;
		if (load_one(d, de->d_name, &e) < 0) {
			if (e && e->code == ENOMEM)
				return berth_error_set(err, ENOMEM, "out of memory");
			/* a volume whose create was cut short has no record: finish removing it */
			_cleanup_free_ char *vdir = daemon_volume_path(d, de->d_name, NULL);
			log_warn("volume %s: %s; removing what is left", de->d_name,
				 e ? e->msg : "unreadable");
			if (vdir)
				berth_rm_rf(vdir, NULL);
		}
	}
	return 0;
}

void daemon_volumes_close(struct berthd *d)
{
	for (size_t i = 0; i < d->volumes.n; i++)
		volume_free(d->volumes.v[i]);
	free(d->volumes.v);
	d->volumes.v = NULL;
	d->volumes.n = 0;
}

/* ---- create, remove ------------------------------------------------------------------------- */

int daemon_volume_create(struct berthd *d, const char *name, const json_t *labels,
			 const json_t *options, bool anonymous, char **ret_name,
			 struct berth_error **err)
{
	_cleanup_free_ char *dir = NULL, *data = NULL;
	char anon[65];
	struct daemon_volume *v;
	int r;

	if (!name || !*name) {
		uint8_t rnd[32];

		if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd))
			return berth_error_set(err, EIO, "volume name: no randomness");
		for (size_t i = 0; i < sizeof(rnd); i++)
			snprintf(anon + 2 * i, 3, "%02x", rnd[i]);
		name = anon;
		anonymous = true;
	}
	r = check_name(name, err);
	r = r ?: check_options(options, err);
	if (r < 0)
		return r;
	const char *k;
	json_t *val;
	if (labels && !json_is_object(labels) && !json_is_null(labels))
		return berth_error_set(err, EINVAL, "invalid JSON: Labels must be an object");
	json_object_foreach ((json_t *)labels, k, val)
		if (!json_is_string(val))
			return berth_error_set(err, EINVAL, "invalid label %s: want a string", k);

	pthread_mutex_lock(&d->lock);
	v = daemon_volume_find_locked(d, name);
	if (v) {
		/* docker: creating an existing volume returns it */
		pthread_mutex_unlock(&d->lock);
		*ret_name = strdup(name);
		return *ret_name ? 0 : berth_error_set(err, ENOMEM, "out of memory");
	}
	v = calloc(1, sizeof(*v));
	if (!v || !(v->name = strdup(name))) {
		r = berth_error_set(err, ENOMEM, "out of memory");
		goto out;
	}
	v->anonymous = anonymous;
	v->created_ns = daemon_now_ns();
	v->labels = json_is_object(labels) ? json_deep_copy(labels) : json_object();
	v->options = json_is_object(options) ? json_deep_copy(options) : json_object();
	dir = daemon_volume_path(d, name, NULL);
	data = daemon_volume_path(d, name, "_data");
	if (!v->labels || !v->options || !dir || !data) {
		r = berth_error_set(err, ENOMEM, "out of memory");
		goto out;
	}
	/* _data first, the record last: a crash in between leaves no record, cleaned at start */
	if (mkdir(dir, 0701) < 0 && errno != EEXIST) {
		r = berth_error_sys(err, errno, "create volume '%s'", dir);
		goto out;
	}
	if (mkdir(data, 0755) < 0 && errno != EEXIST) {
		r = berth_error_sys(err, errno, "create volume '%s'", data);
		berth_rm_rf(dir, NULL);
		goto out;
	}
	r = volume_save(d, v, err);
	if (r == 0 && table_add(d, v) < 0)
		r = berth_error_set(err, ENOMEM, "out of memory");
	if (r < 0) {
		berth_rm_rf(dir, NULL);
		goto out;
	}
	pthread_mutex_unlock(&d->lock);
	struct berth_key_value attrs[] = {{"driver", "local"}};
	daemon_event_emit(d, "volume", "create", name, attrs, 1);
	*ret_name = strdup(name);
	return *ret_name ? 0 : berth_error_set(err, ENOMEM, "out of memory");
out:
	pthread_mutex_unlock(&d->lock);
	volume_free(v);
	return r;
}

/* Take v out of the table and off the disk (d->lock held): EBUSY when in use. */
static int remove_locked(struct berthd *d, struct daemon_volume *v, struct berth_error **err)
{
	_cleanup_free_ char *dir = daemon_volume_path(d, v->name, NULL);
	_cleanup_free_ char *rec = daemon_volume_path(d, v->name, "volume.json");

	if (v->users && v->users[0])
		return berth_error_set(err, EBUSY, "remove %s: volume is in use - [%s]", v->name,
				       v->users[0]);
	if (!dir || !rec)
		return berth_error_set(err, ENOMEM, "out of memory");
	/* the record first: a crash part-way leaves files without a record, removed at start */
	if (unlink(rec) < 0 && errno != ENOENT)
		return berth_error_sys(err, errno, "remove %s", v->name);
	table_del(d, v);
	if (berth_rm_rf(dir, NULL) < 0)
		log_warn("volume %s: could not remove all of '%s'", v->name, dir);
	return 0;
}

int daemon_volume_remove(struct berthd *d, const char *name, bool force, struct berth_error **err)
{
	struct daemon_volume *v;
	int r;

	pthread_mutex_lock(&d->lock);
	v = daemon_volume_find_locked(d, name);
	if (!v) {
		pthread_mutex_unlock(&d->lock);
		if (force)
			return 0;
		return berth_error_set(err, ENOENT, "get %s: no such volume", name);
	}
	r = remove_locked(d, v, err);
	pthread_mutex_unlock(&d->lock);
	if (r < 0)
		return r;
	daemon_event_emit(d, "volume", "destroy", name, NULL, 0);
	volume_free(v);
	return 0;
}

/* Bytes under path, not crossing into other mounts' trees beyond what du would count. */
static int64_t tree_size(int dirfd)
{
	_cleanup_closedir_ DIR *dp = fdopendir(dirfd);
	struct dirent *de;
	int64_t total = 0;

	if (!dp) {
		close(dirfd);
		return 0;
	}
	while ((de = readdir(dp))) {
		struct stat st;

		if (berth_streq(de->d_name, ".") || berth_streq(de->d_name, ".."))
			continue;
		if (fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (S_ISDIR(st.st_mode)) {
			int fd = openat(dirfd, de->d_name,
					O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (fd >= 0)
				total += tree_size(fd);
		} else {
			total += (int64_t)st.st_blocks * 512;
		}
	}
	return total;
}

int64_t daemon_volume_size(struct berthd *d, const char *name)
{
	_cleanup_free_ char *data = daemon_volume_path(d, name, "_data");
	int fd = data ? open(data, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) : -1;

	return fd < 0 ? -1 : tree_size(fd);
}

int daemon_volumes_prune(struct berthd *d, const struct berth_filters *f, bool all, json_t **ret,
			 int64_t *ret_reclaimed, struct berth_error **err)
{
	_cleanup_json_ json_t *names = json_array();
	struct daemon_volume **gone = NULL;
	size_t n_gone = 0;
	int64_t reclaimed = 0;

	if (!names)
		return berth_error_set(err, ENOMEM, "out of memory");
	pthread_mutex_lock(&d->lock);
	gone = calloc(d->volumes.n + 1, sizeof(*gone));
	for (size_t i = 0; gone && i < d->volumes.n;) {
		struct daemon_volume *v = d->volumes.v[i];

		if ((all || v->anonymous) && !(v->users && v->users[0]) &&
		    daemon_volume_labels_match(f, v->labels)) {
			int64_t size = daemon_volume_size(d, v->name);
			if (remove_locked(d, v, NULL) == 0) {
				gone[n_gone++] = v;
				reclaimed += size > 0 ? size : 0;
				continue;
			}
		}
		i++;
	}
	pthread_mutex_unlock(&d->lock);
	for (size_t i = 0; i < n_gone; i++) {
		json_array_append_new(names, json_string(gone[i]->name));
		daemon_event_emit(d, "volume", "destroy", gone[i]->name, NULL, 0);
		volume_free(gone[i]);
	}
	free(gone);
	*ret = TAKE_PTR(names);
	*ret_reclaimed = reclaimed;
	return 0;
}

/* ---- use by containers ----------------------------------------------------------------------- */

int daemon_volume_ref_locked(struct berthd *d, const char *name, const char *container_id)
{
	struct daemon_volume *v = daemon_volume_find_locked(d, name);

	if (!v)
		return -ENOENT;
	if (berth_strv_contains(v->users, container_id))
		return 0;
	return berth_strv_push(&v->users, container_id);
}

void daemon_volume_unref_locked(struct berthd *d, const char *name, const char *container_id)
{
	struct daemon_volume *v = daemon_volume_find_locked(d, name);
	size_t j = 0;

	if (!v || !v->users)
		return;
	for (size_t i = 0; v->users[i]; i++) {
		if (berth_streq(v->users[i], container_id))
			free(v->users[i]);
		else
			v->users[j++] = v->users[i];
	}
	v->users[j] = NULL;
}

/* ---- the local driver's mounts (type, device, o) --------------------------------------------- */

/* Serialises mounting and unmounting of volumes; d->lock is taken inside it, never around it. */
static pthread_mutex_t mount_lock = PTHREAD_MUTEX_INITIALIZER;

static const struct {
	const char *name;
	bool clear;
	unsigned long flag;
} mount_flags[] = {
	{"defaults", false, 0},
	{"ro", false, MS_RDONLY},
	{"rw", true, MS_RDONLY},
	{"suid", true, MS_NOSUID},
	{"nosuid", false, MS_NOSUID},
	{"dev", true, MS_NODEV},
	{"nodev", false, MS_NODEV},
	{"exec", true, MS_NOEXEC},
	{"noexec", false, MS_NOEXEC},
	{"sync", false, MS_SYNCHRONOUS},
	{"async", true, MS_SYNCHRONOUS},
	{"dirsync", false, MS_DIRSYNC},
	{"mand", false, MS_MANDLOCK},
	{"nomand", true, MS_MANDLOCK},
	{"atime", true, MS_NOATIME},
	{"noatime", false, MS_NOATIME},
	{"diratime", true, MS_NODIRATIME},
	{"nodiratime", false, MS_NODIRATIME},
	{"bind", false, MS_BIND},
	{"rbind", false, MS_BIND | MS_REC},
	{"relatime", false, MS_RELATIME},
	{"norelatime", true, MS_RELATIME},
	{"strictatime", false, MS_STRICTATIME},
	{"nostrictatime", true, MS_STRICTATIME},
};

/*
 * o= as mount(8) (and docker's mount package) read it: the words above are flags, the rest is
 * the filesystem's data, passed on in order.
 */
int daemon_volume_parse_mount_opts(const char *o, unsigned long *ret_flags, char **ret_data)
{
	_cleanup_free_ char *copy = strdup(o ? o : "");
	size_t cap = strlen(o ? o : "") + 1;
	char *data = calloc(1, cap);
	unsigned long flags = 0;
	size_t n = 0;

	if (!copy || !data) {
		free(data);
		return -ENOMEM;
	}
	for (char *save = NULL, *w = strtok_r(copy, ",", &save); w;
	     w = strtok_r(NULL, ",", &save)) {
		bool known = false;

		for (size_t i = 0; i < sizeof(mount_flags) / sizeof(*mount_flags) && !known; i++)
			if (berth_streq(w, mount_flags[i].name)) {
				known = true;
				if (mount_flags[i].clear)
					flags &= ~mount_flags[i].flag;
				else
					flags |= mount_flags[i].flag;
			}
		if (!known)
			n += (size_t)snprintf(data + n, cap - n, "%s%s", n ? "," : "", w);
	}
	*ret_flags = flags;
	*ret_data = data;
	return 0;
}

/* Whether path is the root of a mount (its filesystem differs from its parent's). */
static bool is_mount_root(const char *path)
{
	_cleanup_free_ char *parent = NULL;
	struct stat a, b;

	if (asprintf(&parent, "%s/..", path) < 0 || stat(path, &a) < 0 || stat(parent, &b) < 0)
		return false;
	return a.st_dev != b.st_dev || a.st_ino == b.st_ino;
}

/* Mount v's options on its _data, in docker's words when the kernel refuses. */
static int volume_mount(struct berthd *d, const char *name, const json_t *opts,
			struct berth_error **err)
{
	_cleanup_free_ char *path = daemon_volume_path(d, name, "_data"), *data = NULL;
	const char *type = json_string_value(json_object_get(opts, "type"));
	const char *device = json_string_value(json_object_get(opts, "device"));
	const char *o = json_string_value(json_object_get(opts, "o"));
	unsigned long flags = 0;

	if (!path || daemon_volume_parse_mount_opts(o, &flags, &data) < 0)
		return berth_error_set(err, ENOMEM, "out of memory");
	if (!device || !*device)
		return berth_error_set(err, EINVAL,
				       "error while mounting volume '%s': missing device in volume "
				       "options",
				       path);
	if (is_mount_root(path))
		return 0; /* mounted for a container that outlived a restart of berthd */
	int r = mount(device, path, type, flags, *data ? data : NULL);
	if (r == 0 && (flags & MS_BIND) && (flags & MS_RDONLY))
		r = mount("", path, NULL, flags | MS_REMOUNT, NULL);
	if (r < 0) {
		int e = errno;
		char fl[32] = "";

		if (is_mount_root(path)) /* a bind whose read-only remount failed */
			umount2(path, MNT_DETACH);
		if (flags)
			snprintf(fl, sizeof(fl), ", flags: 0x%lx", flags);
		char why[128];

		/* Go's words for errno: strerror's, lower case first */
		snprintf(why, sizeof(why), "%s", strerror(e));
		if (why[0] >= 'A' && why[0] <= 'Z')
			why[0] = (char)(why[0] - 'A' + 'a');
		return berth_error_set(err, e,
				       "error while mounting volume '%s': failed to mount local "
				       "volume: mount %s:%s%s%s%s: %s",
				       path, device, path, fl, *data ? ", data: " : "", data, why);
	}
	return 0;
}

static void volume_unmount(struct berthd *d, const char *name)
{
	_cleanup_free_ char *path = daemon_volume_path(d, name, "_data");

	if (path && umount2(path, MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT)
		log_warn("volume %s: unmount '%s': %s", name, path, strerror(errno));
}

int daemon_volumes_mount(struct berthd *d, const char *container_id, const json_t *points,
			 struct berth_error **err)
{
	size_t i;
	json_t *m;
	int r = 0;

	pthread_mutex_lock(&mount_lock);
	json_array_foreach (points, i, m) {
		const char *name = json_string_value(json_object_get(m, "Name"));
		_cleanup_json_ json_t *opts = NULL;
		bool first = false;

		if (!berth_streq(json_string_value(json_object_get(m, "Type")), "volume") || !name)
			continue;
		pthread_mutex_lock(&d->lock);
		struct daemon_volume *v = daemon_volume_find_locked(d, name);
		if (v && json_object_size(v->options) &&
		    !berth_strv_contains(v->mounted_by, container_id)) {
			first = !v->mounted_by || !v->mounted_by[0];
			opts = json_incref(v->options);
		}
		pthread_mutex_unlock(&d->lock);
		if (!opts)
			continue;
		if (first)
			r = volume_mount(d, name, opts, err);
		if (r < 0)
			break;
		pthread_mutex_lock(&d->lock);
		v = daemon_volume_find_locked(d, name);
		if (v && berth_strv_push(&v->mounted_by, container_id) < 0)
			r = berth_error_set(err, ENOMEM, "out of memory");
		pthread_mutex_unlock(&d->lock);
		if (r < 0)
			break;
	}
	pthread_mutex_unlock(&mount_lock);
	if (r < 0)
		daemon_volumes_unmount(d, container_id);
	return r;
}

void daemon_volumes_unmount(struct berthd *d, const char *container_id)
{
	char **last = NULL;

	pthread_mutex_lock(&mount_lock);
	pthread_mutex_lock(&d->lock);
	for (size_t i = 0; i < d->volumes.n; i++) {
		struct daemon_volume *v = d->volumes.v[i];
		size_t j = 0;
		bool had = false;

		for (size_t k = 0; v->mounted_by && v->mounted_by[k]; k++) {
			if (berth_streq(v->mounted_by[k], container_id)) {
				free(v->mounted_by[k]);
				had = true;
			} else {
				v->mounted_by[j++] = v->mounted_by[k];
			}
		}
		if (v->mounted_by)
			v->mounted_by[j] = NULL;
		if (had && j == 0)
			berth_strv_push(&last, v->name);
	}
	pthread_mutex_unlock(&d->lock);
	for (char **n = last; n && *n; n++)
		volume_unmount(d, *n);
	pthread_mutex_unlock(&mount_lock);
	berth_strv_free(last);
}

void daemon_volumes_unmount_unused(struct berthd *d)
{
	char **idle = NULL;

	pthread_mutex_lock(&mount_lock);
	pthread_mutex_lock(&d->lock);
	for (size_t i = 0; i < d->volumes.n; i++) {
		struct daemon_volume *v = d->volumes.v[i];
		if (json_object_size(v->options) && !(v->mounted_by && v->mounted_by[0]))
			berth_strv_push(&idle, v->name);
	}
	pthread_mutex_unlock(&d->lock);
	for (char **n = idle; n && *n; n++) {
		_cleanup_free_ char *path = daemon_volume_path(d, *n, "_data");
		if (path && is_mount_root(path))
			volume_unmount(d, *n);
	}
	pthread_mutex_unlock(&mount_lock);
	berth_strv_free(idle);
}
