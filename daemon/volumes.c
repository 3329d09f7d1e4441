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
 * The local driver's options (type, device, o) mount something on _data while a container uses
 * the volume; berth mounts volumes into containers only from the container manager's side, so
 * until it does that for option volumes they are refused rather than silently ignored.
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
		return berth_error_set(err, EINVAL,
				       "volume option \"%s\": berth's local driver does not mount "
				       "devices, tmpfs or binds on volumes yet",
				       k);
	}
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
