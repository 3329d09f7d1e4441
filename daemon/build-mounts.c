/* SPDX-License-Identifier: Apache-2.0 */
/*
 * RUN --mount= for the classic builder, as BuildKit's Dockerfile frontend defines the mounts:
 *
 *   type=cache   a directory of berthd's (<data-root>/build-mounts/<sha256 of the id>), kept
 *                across builds until `builder prune`; id defaults to the target; sharing=shared
 *                (any number of RUNs at once), locked (one at a time: flock), private (a busy
 *                cache gives this RUN a fresh directory, thrown away after); uid, gid, mode set
 *                when it is made.
 *   type=bind    a path of the context, or of a stage or an image (from=), read-only unless rw
 *                (then the RUN writes into an overlay thrown away after).
 *   type=tmpfs   a tmpfs (size=).
 *
 * They become HostConfig.Mounts of the RUN's container, so they are never in its writable
 * layer; the mount points the runtime had to create are taken out of that layer before the
 * commit.  The step's cache key gets each mount's options and, for a bind of the context, the
 * content hash of its source (the image id for from=).  secret and ssh are BuildKit's.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "build-internal.h"

#include "base/banned.h"

#define MOUNTS_MAX 64

static int bad(struct berth_error **err, const char *spec, const char *what)
{
	return berth_error_set(err, EINVAL, "--mount=%s: %s", spec, what);
}

static bool parse_bool(const char *v, bool *ret)
{
	if (!v || !strcmp(v, "true") || !strcmp(v, "1")) {
		*ret = true;
		return true;
	}
	if (!strcmp(v, "false") || !strcmp(v, "0")) {
		*ret = false;
		return true;
	}
	return false;
}

static int parse_u32(const char *v, int base, unsigned long max, unsigned long *ret)
{
	char *end;
	unsigned long n;

	if (!v || !*v)
		return -EINVAL;
	errno = 0;
	n = strtoul(v, &end, base);
	if (errno || *end || n > max || *v == '-')
		return -EINVAL;
	*ret = n;
	return 0;
}

/* one "type=...,target=..." (already expanded) into m */
static int parse_one(struct build *b, struct stage *s, const char *spec, struct build_mount *m,
		     struct berth_error **err)
{
	_cleanup_free_ char *copy = strdup(spec);
	char *save = NULL, *kv;
	bool ro_set = false;

	if (!copy)
		return bld_oom(err);
	m->type = BUILD_MOUNT_BIND;
	m->mode = 0755;
	for (kv = copy; kv; kv = save) {
		char *comma = strchr(kv, ',');
		save = comma ? comma + 1 : NULL;
		if (comma)
			*comma = '\0';
		if (!*kv)
			continue;
		char *eq = strchr(kv, '=');
		const char *v = eq ? eq + 1 : NULL;
		if (eq)
			*eq = '\0';
		unsigned long n;
		bool flag;
		if (!strcmp(kv, "type")) {
			if (!v)
				return bad(err, spec, "type needs a value");
			if (!strcmp(v, "bind"))
				m->type = BUILD_MOUNT_BIND;
			else if (!strcmp(v, "cache"))
				m->type = BUILD_MOUNT_CACHE;
			else if (!strcmp(v, "tmpfs"))
				m->type = BUILD_MOUNT_TMPFS;
			else if (!strcmp(v, "secret") || !strcmp(v, "ssh"))
				return berth_error_set(
					err, ENOTSUP,
					"the --mount=type=%s option requires BuildKit: berth's "
					"classic builder has no %s to give a RUN",
					v, !strcmp(v, "ssh") ? "SSH agent" : "build secrets");
			else
				return berth_error_set(err, EINVAL, "unsupported mount type \"%s\"",
						       v);
		} else if (!strcmp(kv, "target") || !strcmp(kv, "dst") ||
			   !strcmp(kv, "destination")) {
			free(m->target);
			if (!v || !*v || !(m->target = strdup(v)))
				return v && *v ? bld_oom(err) : bad(err, spec, "empty target");
		} else if (!strcmp(kv, "source") || !strcmp(kv, "src")) {
			free(m->source);
			if (!(m->source = strdup(v ?: "")))
				return bld_oom(err);
		} else if (!strcmp(kv, "from")) {
			free(m->from);
			if (!v || !*v || !(m->from = strdup(v)))
				return v && *v ? bld_oom(err) : bad(err, spec, "empty from");
		} else if (!strcmp(kv, "id")) {
			free(m->id);
			if (!(m->id = strdup(v ?: "")))
				return bld_oom(err);
		} else if (!strcmp(kv, "sharing")) {
			if (v && !strcmp(v, "shared"))
				m->sharing = BUILD_SHARING_SHARED;
			else if (v && !strcmp(v, "private"))
				m->sharing = BUILD_SHARING_PRIVATE;
			else if (v && !strcmp(v, "locked"))
				m->sharing = BUILD_SHARING_LOCKED;
			else
				return berth_error_set(err, EINVAL,
						       "unsupported sharing value \"%s\"", v ?: "");
		} else if (!strcmp(kv, "uid") || !strcmp(kv, "gid")) {
			if (parse_u32(v, 10, 0xfffffffeUL, &n) < 0)
				return berth_error_set(err, EINVAL, "invalid %s value \"%s\"", kv,
						       v ?: "");
			if (kv[0] == 'u')
				m->uid = (uid_t)n;
			else
				m->gid = (gid_t)n;
		} else if (!strcmp(kv, "mode")) {
			if (parse_u32(v, 8, 07777, &n) < 0)
				return berth_error_set(err, EINVAL, "invalid mode value \"%s\"",
						       v ?: "");
			m->mode = (mode_t)n;
		} else if (!strcmp(kv, "size")) {
			char *end;
			errno = 0;
			long long sz = v ? strtoll(v, &end, 10) : -1;
			if (!v || errno || sz < 0 ||
			    (*end && strcmp(end, "k") && strcmp(end, "m") && strcmp(end, "g")))
				return berth_error_set(err, EINVAL, "invalid size value \"%s\"",
						       v ?: "");
			m->size = (uint64_t)sz << (*end == 'k'	 ? 10
						   : *end == 'm' ? 20
						   : *end == 'g' ? 30
								 : 0);
		} else if (!strcmp(kv, "rw") || !strcmp(kv, "readwrite")) {
			if (!parse_bool(v, &flag))
				return berth_error_set(err, EINVAL, "invalid value for %s: %s", kv,
						       v);
			m->rw = flag;
			ro_set = true;
		} else if (!strcmp(kv, "ro") || !strcmp(kv, "readonly")) {
			if (!parse_bool(v, &flag))
				return berth_error_set(err, EINVAL, "invalid value for %s: %s", kv,
						       v);
			m->rw = !flag;
			ro_set = true;
		} else {
			return berth_error_set(err, EINVAL, "unexpected key '%s' in '%s%s%s'", kv,
					       kv, v ? "=" : "", v ?: "");
		}
	}
	if (!m->target)
		return bad(err, spec, "a target is required");
	/* a relative target is under WORKDIR, as BuildKit has it */
	{
		const char *wd = json_string_value(json_object_get(s->cfg, "WorkingDir"));
		_cleanup_free_ char *joined = NULL;
		if (asprintf(&joined, "/%s/%s", m->target[0] == '/' ? "" : (wd ?: ""), m->target) <
		    0)
			return bld_oom(err);
		free(m->target);
		if (!(m->target = berth_path_clean(joined)))
			return bld_oom(err);
		if (!strcmp(m->target, "/"))
			return bad(err, spec, "the target cannot be /");
	}
	if (m->type != BUILD_MOUNT_CACHE && (m->id || m->sharing || m->uid || m->gid))
		return bad(err, spec, "id, sharing, uid and gid are for type=cache");
	if (m->type != BUILD_MOUNT_TMPFS && m->size)
		return bad(err, spec, "size is for type=tmpfs");
	if (m->type == BUILD_MOUNT_TMPFS && (m->source || m->from))
		return bad(err, spec, "a tmpfs has no source");
	if (m->type == BUILD_MOUNT_CACHE && m->from)
		return berth_error_set(err, ENOTSUP,
				       "--mount=%s: a cache seeded from another stage or image "
				       "(from=) requires BuildKit",
				       spec);
	if (m->type == BUILD_MOUNT_CACHE) {
		if (!ro_set)
			m->rw = true;
		if (!m->id || !*m->id) {
			free(m->id);
			if (!(m->id = strdup(m->target)))
				return bld_oom(err);
		}
	}
	(void)b;
	return 0;
}

/* the source's part of the key: the content of a context path, or the stage/image id */
static int bind_key(struct build *b, struct stage *s, struct build_mount *m, struct sbuf *key,
		    struct berth_error **err)
{
	const char *src = m->source && *m->source ? m->source : "/";
	int r;

	if (m->from) {
		struct stage *fs = bld_stage_named(b, m->from, s->index);
		if (fs) {
			if (!(m->from_id = fs->image_id ? strdup(fs->image_id) : strdup("scratch")))
				return bld_oom(err);
			if (fs->top_layer && !(m->from_layer = strdup(fs->top_layer)))
				return bld_oom(err);
		} else {
			_cleanup_error_ struct berth_error *e = NULL;
			struct berth_image_info *info = NULL;
			r = bld_image_for(b, m->from, &m->from_id, &e);
			if (r < 0)
				return berth_error_set(err, -r, "invalid from flag value %s: %s",
						       m->from, e ? e->msg : "?");
			r = berth_image_inspect(b->d->images.store, m->from_id, &info, err);
			if (r < 0)
				return r;
			if (info->top_layer && !(m->from_layer = strdup(info->top_layer)))
				r = bld_oom(err);
			berth_image_info_free(info);
			if (r < 0)
				return r;
		}
		sb_adds(key, " from=");
		sb_adds(key, m->from_id);
		sb_adds(key, " source=");
		sb_adds(key, src);
		return 0;
	}
	/* the whole source, hashed as COPY hashes it (a path leaving the context is refused) */
	_cleanup_free_ char *pattern = NULL;
	char *srcs[2] = {NULL, NULL};
	struct build_copy cp = {0};
	if (asprintf(&pattern, "%s", src) < 0)
		return bld_oom(err);
	srcs[0] = pattern;
	r = build_copy_collect(b->ctx_fd, srcs, true, "RUN --mount", &cp, err);
	if (r == 0) {
		sb_adds(key, " source=");
		sb_adds(key, src);
		sb_adds(key, " content=");
		sb_adds(key, cp.hash);
	}
	build_copy_release(&cp);
	return r;
}

int build_mounts_parse(struct build *b, struct stage *s, char *const *specs, const json_t *env,
		       struct build_mounts *ret, char **ret_key, struct berth_error **err)
{
	struct sbuf key = {0};
	size_t n = berth_strv_length((char **)specs);
	int r = 0;

	*ret_key = NULL;
	if (n > MOUNTS_MAX)
		return berth_error_set(err, EINVAL, "too many --mount flags: %zu (at most %d)", n,
				       MOUNTS_MAX);
	ret->v = calloc(n ? n : 1, sizeof(*ret->v));
	if (!ret->v)
		return bld_oom(err);
	for (size_t i = 0; i < n && r == 0; i++) {
		_cleanup_free_ char *spec = NULL;
		struct build_mount *m = &ret->v[ret->n++];
		m->lock_fd = -EBADF;
		r = df_lex(specs[i], b->escape, env, &spec, NULL, err);
		if (r == 0)
			r = parse_one(b, s, spec, m, err);
		for (size_t k = 0; r == 0 && k + 1 < ret->n; k++)
			if (!strcmp(ret->v[k].target, m->target))
				r = berth_error_set(err, EINVAL, "Duplicate mount point: %s",
						    m->target);
		if (r < 0)
			break;
		char num[96];
		static const char *const types[] = {"bind", "cache", "tmpfs"};
		snprintf(num, sizeof(num), " uid=%u gid=%u mode=%o size=%llu rw=%d sharing=%d",
			 (unsigned)m->uid, (unsigned)m->gid, (unsigned)m->mode,
			 (unsigned long long)m->size, m->rw, (int)m->sharing);
		sb_adds(&key, "mount type=");
		sb_adds(&key, types[m->type]);
		sb_adds(&key, " target=");
		sb_adds(&key, m->target);
		if (m->type == BUILD_MOUNT_CACHE) {
			sb_adds(&key, " id=");
			sb_adds(&key, m->id);
		}
		sb_adds(&key, num);
		if (m->type == BUILD_MOUNT_BIND)
			r = bind_key(b, s, m, &key, err);
		sb_addc(&key, '\n');
	}
	if (r == 0 && !(*ret_key = sb_take(&key)))
		r = bld_oom(err);
	free(sb_take(&key));
	return r;
}

/* ---- the host side ---------------------------------------------------------------------------- */

static char *cache_root(struct berthd *d)
{
	char *p = NULL;
	return asprintf(&p, "%s/build-mounts", d->config.data_root) < 0 ? NULL : p;
}

/* <data-root>/build-mounts/<sha256 hex of id>: made with uid:gid and mode the first time */
static int cache_dir(struct build *b, struct build_mount *m, char **ret, struct berth_error **err)
{
	_cleanup_free_ char *root = cache_root(b->d), *dir = NULL;
	char digest[BERTH_DIGEST_SIZE];

	berth_sha256_digest(m->id, strlen(m->id), digest);
	if (!root || asprintf(&dir, "%s/%s", root, digest + 7) < 0)
		return bld_oom(err);
	if (mkdir(root, 0700) < 0 && errno != EEXIST)
		return berth_error_sys(err, errno, "mkdir '%s'", root);
	if (mkdir(dir, m->mode) == 0) {
		if (chown(dir, m->uid, m->gid) < 0 || chmod(dir, m->mode) < 0)
			return berth_error_sys(err, errno, "cache mount '%s'", dir);
	} else if (errno != EEXIST) {
		return berth_error_sys(err, errno, "mkdir '%s'", dir);
	}
	/* the last use, for builder prune --filter until= */
	utimensat(AT_FDCWD, dir, NULL, 0);
	*ret = TAKE_PTR(dir);
	return 0;
}

/* a directory of the build's own, made with uid:gid and mode */
static int scratch_dir(struct build *b, const char *what, uid_t uid, gid_t gid, mode_t mode,
		       char **ret, struct berth_error **err)
{
	_cleanup_free_ char *dir = NULL;

	if (asprintf(&dir, "%s/%s%u", b->dir, what, b->seq++) < 0)
		return bld_oom(err);
	if (mkdir(dir, mode) < 0 || chown(dir, uid, gid) < 0 || chmod(dir, mode) < 0)
		return berth_error_sys(err, errno, "mkdir '%s'", dir);
	*ret = TAKE_PTR(dir);
	return 0;
}

/* the host path of src inside the tree root_fd, resolved in it (never outside) */
static int host_path_in(int root_fd, const char *src, char **ret, struct stat *st,
			struct berth_error **err)
{
	_cleanup_close_ int fd = -EBADF;
	char link[64], buf[PATH_MAX];
	ssize_t n;
	int r = berth_open_in_root(root_fd, src, O_PATH, &fd, err);

	if (r < 0)
		return r;
	if (fstat(fd, st) < 0)
		return berth_error_sys(err, errno, "stat '%s'", src);
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, buf, sizeof(buf) - 1);
	if (n < 0)
		return berth_error_sys(err, errno, "readlink '%s'", link);
	buf[n] = '\0';
	*ret = strdup(buf);
	return *ret ? 0 : bld_oom(err);
}

/* rw: the RUN writes into an overlay over lower; the upper is thrown away after */
static int overlay_over(struct build *b, struct build_mount *m, const char *lower, char **ret,
			struct berth_error **err)
{
	_cleanup_free_ char *upper = NULL, *work = NULL, *merged = NULL, *opts = NULL;
	int r = scratch_dir(b, "mnt", 0, 0, 0700, &m->scratch, err);

	if (r < 0)
		return r;
	if (asprintf(&upper, "%s/upper", m->scratch) < 0 ||
	    asprintf(&work, "%s/work", m->scratch) < 0 ||
	    asprintf(&merged, "%s/merged", m->scratch) < 0 ||
	    asprintf(&opts, "lowerdir=%s,upperdir=%s,workdir=%s", lower, upper, work) < 0)
		return bld_oom(err);
	if (mkdir(upper, 0755) < 0 || mkdir(work, 0700) < 0 || mkdir(merged, 0755) < 0)
		return berth_error_sys(err, errno, "mkdir '%s'", m->scratch);
	if (mount("overlay", merged, "overlay", 0, opts) < 0)
		return berth_error_sys(err, errno, "mount an overlay on '%s'", merged);
	m->overlay = strdup(merged);
	*ret = TAKE_PTR(merged);
	return m->overlay ? 0 : bld_oom(err);
}

/* a file bound rw: a copy the RUN may change */
static int copy_file(struct build *b, struct build_mount *m, const char *src, char **ret,
		     struct berth_error **err)
{
	_cleanup_free_ char *dst = NULL, *data = NULL;
	size_t len = 0;
	int r = scratch_dir(b, "mnt", 0, 0, 0700, &m->scratch, err);

	if (r == 0 && asprintf(&dst, "%s/file", m->scratch) < 0)
		r = bld_oom(err);
	if (r == 0)
		r = berth_read_file_at(AT_FDCWD, src, 1ULL << 30, &data, &len, err);
	if (r == 0)
		r = berth_write_file_replace_at(AT_FDCWD, dst, data, len, 0644, err);
	if (r == 0)
		*ret = TAKE_PTR(dst);
	return r;
}

int build_mounts_prepare(struct build *b, struct build_mounts *ms, json_t **ret,
			 struct berth_error **err)
{
	_cleanup_json_ json_t *arr = json_array();
	int r = 0;

	if (!arr)
		return bld_oom(err);
	for (size_t i = 0; i < ms->n && r == 0; i++) {
		struct build_mount *m = &ms->v[i];
		_cleanup_free_ char *host = NULL;
		json_t *j = NULL;

		switch (m->type) {
		case BUILD_MOUNT_TMPFS:
			j = json_pack("{s:s,s:s,s:{s:I}}", "Type", "tmpfs", "Target", m->target,
				      "TmpfsOptions", "SizeBytes", (json_int_t)m->size);
			break;
		case BUILD_MOUNT_CACHE:
			r = cache_dir(b, m, &host, err);
			if (r < 0)
				break;
			if (m->sharing != BUILD_SHARING_SHARED) {
				m->lock_fd = open(host, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
				if (m->lock_fd < 0) {
					r = berth_error_sys(err, errno, "open '%s'", host);
					break;
				}
				bool is_private = m->sharing == BUILD_SHARING_PRIVATE;
				if (flock(m->lock_fd, LOCK_EX | (is_private ? LOCK_NB : 0)) < 0) {
					if (!is_private || errno != EWOULDBLOCK) {
						r = berth_error_sys(err, errno, "lock '%s'", host);
						break;
					}
					/* busy: this RUN gets a cache of its own, for once */
					close(m->lock_fd);
					m->lock_fd = -EBADF;
					free(host);
					host = NULL;
					r = scratch_dir(b, "cache", m->uid, m->gid, m->mode,
							&m->scratch, err);
					if (r < 0)
						break;
					host = strdup(m->scratch);
				}
			} else {
				/* shared: a prune leaves a cache in use alone */
				m->lock_fd = open(host, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
				if (m->lock_fd >= 0)
					flock(m->lock_fd, LOCK_SH);
			}
			if (!host) {
				r = bld_oom(err);
				break;
			}
			j = json_pack("{s:s,s:s,s:s,s:b}", "Type", "bind", "Source", host, "Target",
				      m->target, "ReadOnly", !m->rw);
			break;
		case BUILD_MOUNT_BIND: {
			struct stat st;
			int root_fd = b->ctx_fd;
			if (m->from) {
				r = bld_fs_mount(b, m->from_layer, &m->from_root, err);
				if (r < 0)
					break;
				m->from_mounted = true;
				root_fd = m->from_root.root_fd;
			}
			r = host_path_in(root_fd, m->source && *m->source ? m->source : "/", &host,
					 &st, err);
			if (r < 0)
				break;
			if (m->rw && !m->from) {
				/* the context is every RUN's: a writable view of it */
				char *view = NULL;
				r = S_ISDIR(st.st_mode) ? overlay_over(b, m, host, &view, err)
							: copy_file(b, m, host, &view, err);
				if (r < 0)
					break;
				free(host);
				host = view;
			}
			/* from= is an overlay of its own already, thrown away after */
			j = json_pack("{s:s,s:s,s:s,s:b}", "Type", "bind", "Source", host, "Target",
				      m->target, "ReadOnly", !m->rw);
			break;
		}
		}
		if (r == 0 && (!j || json_array_append_new(arr, j) < 0))
			r = bld_oom(err);
	}
	if (r == 0)
		*ret = TAKE_PTR(arr);
	return r;
}

/* an entry of the upper directory the RUN left that is only a mount point: empty, no whiteout */
static bool only_a_stub(int dirfd, const char *name)
{
	struct stat st;
	char v[4];

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return false;
	if (S_ISREG(st.st_mode))
		return st.st_size == 0;
	if (!S_ISDIR(st.st_mode))
		return false;
	_cleanup_close_ int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fgetxattr(fd, "trusted.overlay.opaque", v, sizeof(v)) > 0)
		return false;
	DIR *d = fdopendir(fd);
	if (!d)
		return false;
	fd = -EBADF;
	struct dirent *e;
	bool empty = true;
	while (empty && (e = readdir(d)))
		empty = !strcmp(e->d_name, ".") || !strcmp(e->d_name, "..");
	closedir(d);
	return empty;
}

void build_mounts_finish(struct build *b, struct build_mounts *ms, int upper_fd)
{
	(void)b;
	for (size_t i = 0; i < ms->n; i++) {
		struct build_mount *m = &ms->v[i];
		/* the mount point (and parents made for it) out of the layer: the image keeps what
		 * it had there, as BuildKit's mount stubs cleaner does */
		if (upper_fd >= 0 && m->target) {
			_cleanup_free_ char *path = strdup(m->target + 1);
			while (path && *path && only_a_stub(upper_fd, path)) {
				struct stat st;
				if (fstatat(upper_fd, path, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
				    unlinkat(upper_fd, path,
					     S_ISDIR(st.st_mode) ? AT_REMOVEDIR : 0) < 0)
					break;
				char *slash = strrchr(path, '/');
				if (!slash)
					break;
				*slash = '\0';
			}
		}
		if (m->overlay)
			umount2(m->overlay, MNT_DETACH);
		free(m->overlay);
		m->overlay = NULL;
		if (m->from_mounted)
			bld_fs_unmount(&m->from_root, true);
		m->from_mounted = false;
		if (m->scratch)
			berth_rm_rf(m->scratch, NULL);
		free(m->scratch);
		m->scratch = NULL;
		if (m->lock_fd >= 0)
			close(m->lock_fd);
		m->lock_fd = -EBADF;
	}
}

void build_mounts_release(struct build_mounts *ms)
{
	for (size_t i = 0; i < ms->n; i++) {
		struct build_mount *m = &ms->v[i];
		if (m->lock_fd >= 0)
			close(m->lock_fd);
		if (m->from_mounted)
			bld_fs_unmount(&m->from_root, true);
		free(m->target);
		free(m->source);
		free(m->from);
		free(m->from_id);
		free(m->from_layer);
		free(m->id);
		free(m->scratch);
		free(m->overlay);
	}
	free(ms->v);
	memset(ms, 0, sizeof(*ms));
}

/* ---- builder prune ---------------------------------------------------------------------------- */

static uint64_t tree_bytes;

static int add_bytes(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)path;
	(void)ftw;
	if (flag == FTW_F)
		tree_bytes += (uint64_t)st->st_blocks * 512;
	return 0;
}

int build_mounts_prune(struct berthd *d, int64_t until_ns, json_t *deleted, uint64_t *reclaimed,
		       struct berth_error **err)
{
	static pthread_mutex_t du_lock = PTHREAD_MUTEX_INITIALIZER;
	_cleanup_free_ char *root = cache_root(d);
	DIR *dir;
	struct dirent *e;

	if (!root)
		return bld_oom(err);
	dir = opendir(root);
	if (!dir)
		return errno == ENOENT ? 0 : berth_error_sys(err, errno, "open '%s'", root);
	while ((e = readdir(dir))) {
		_cleanup_free_ char *path = NULL;
		_cleanup_close_ int fd = -EBADF;
		struct stat st;
		if (e->d_name[0] == '.')
			continue;
		if (asprintf(&path, "%s/%s", root, e->d_name) < 0) {
			closedir(dir);
			return bld_oom(err);
		}
		fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0 || fstat(fd, &st) < 0)
			continue;
		if (until_ns &&
		    (int64_t)st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec > until_ns)
			continue;
		/* a RUN using it holds it (shared or not): it stays */
		if (flock(fd, LOCK_EX | LOCK_NB) < 0)
			continue;
		pthread_mutex_lock(&du_lock);
		tree_bytes = 0;
		nftw(path, add_bytes, 16, FTW_PHYS);
		*reclaimed += tree_bytes;
		pthread_mutex_unlock(&du_lock);
		if (berth_rm_rf(path, NULL) == 0) {
			_cleanup_free_ char *name = NULL;
			if (asprintf(&name, "cache-mount:%s", e->d_name) > 0)
				json_array_append_new(deleted, json_string(name));
		}
	}
	closedir(dir);
	return 0;
}
