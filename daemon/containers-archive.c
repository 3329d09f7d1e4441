/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Files of a container: GET /containers/{id}/changes (docker diff), GET /containers/{id}/export,
 * GET/HEAD/PUT /containers/{id}/archive (docker cp).
 *
 * A container's root is an attacker's: every path is resolved inside it (berth_open_in_root:
 * openat2 RESOLVE_IN_ROOT), every entry written or read relative to a directory opened that way
 * and never through its last component, so a symlink swapped in while we work leads nowhere but
 * inside the root.  A running container's root is /proc/<init>/root -- its own mount namespace,
 * so its volumes and bind mounts are where the container sees them -- checked to be the
 * container's overlay (a pid reused by a host process would otherwise give us the host's root).
 * A stopped container's overlay is mounted for the request (under the container's gate, so no
 * start runs meanwhile) and unmounted after; for docker cp its volumes and binds are bound onto
 * their mount points in it as well (docker mounts them for the copy too), so that cp reaches
 * the data of an exited container's volume.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "containers-internal.h"

#include "base/banned.h"

/* bytes moved per read while a tar streams in or out (on the heap: connection threads have
   small stacks) */
#define STREAM_BUF (128 * 1024)

/* ---- the container's root --------------------------------------------------------------- */

struct ctr_fs {
	struct daemon_container *c;
	int rootfd;
	bool gate;    /* we hold c's gate */
	bool mounted; /* we mounted the overlay: unmount at the end */
	bool volumes; /* we mounted c's volumes that have mount options (daemon_volumes_mount) */
	char **binds; /* host paths of the mount points we bound, in mount order */
};

static void ctr_fs_close(struct berthd *d, struct ctr_fs *fs)
{
	size_t n = berth_strv_length(fs->binds);

	while (n > 0)
		if (umount2(fs->binds[--n], MNT_DETACH | UMOUNT_NOFOLLOW) < 0)
			log_warn("container %s: unmount '%s': %s", fs->c->id, fs->binds[n],
				 strerror(errno));
	berth_strv_free(fs->binds);
	fs->binds = NULL;
	if (fs->volumes)
		daemon_volumes_unmount(d, fs->c->id);
	fs->volumes = false;
	if (fs->rootfd >= 0)
		close(fs->rootfd);
	fs->rootfd = -EBADF;
	if (fs->mounted)
		berth_rootfs_unmount(fs->c->dir, NULL);
	fs->mounted = false;
	if (fs->gate)
		ctr_gate_leave(d, fs->c);
	fs->gate = false;
}

static int same_inode(int fd, const char *path)
{
	struct stat a, b;

	if (fstat(fd, &a) < 0 || stat(path, &b) < 0)
		return -errno;
	return a.st_dev == b.st_dev && a.st_ino == b.st_ino ? 0 : -ESTALE;
}

/* docker's checkIfPathIsInAVolume: whether abs lies in one of c's mount points (*rw: its RW) */
static bool in_mount_point(const json_t *points, const char *abs, bool *rw)
{
	size_t i;
	json_t *m;

	json_array_foreach (points, i, m) {
		const char *dst = json_string_value(json_object_get(m, "Destination"));
		size_t n = dst ? strlen(dst) : 0;
		while (n > 1 && dst[n - 1] == '/')
			n--;
		if (n && strncmp(abs, dst, n) == 0 &&
		    (abs[n] == '\0' || abs[n] == '/' || (n == 1 && dst[0] == '/'))) {
			*rw = json_is_true(json_object_get(m, "RW"));
			return true;
		}
	}
	return false;
}

static int by_destination_length(const void *a, const void *b)
{
	size_t la = strlen(json_string_value(json_object_get(*(json_t *const *)a, "Destination")));
	size_t lb = strlen(json_string_value(json_object_get(*(json_t *const *)b, "Destination")));

	return (la > lb) - (la < lb);
}

/*
 * Bind a stopped container's volumes and binds onto their mount points in its mounted overlay
 * (fs->rootfd), parents before children, read-only where the container has them so.  Each
 * mount point is resolved inside the root and mounted through its O_PATH fd; nothing of the
 * container runs meanwhile (the gate is held), so the host path read back from that fd is
 * what we unmount at the end.
 */
static int bind_mount_points(struct berthd *d, struct ctr_fs *fs, struct berth_error **err)
{
	json_t *points = fs->c->mount_points;
	size_t n = json_array_size(points), k = 0, i;
	_cleanup_free_ json_t **order = calloc(n + 1, sizeof(*order));
	json_t *m;
	int r;

	if (!order)
		return berth_error_set(err, ENOMEM, "out of memory");
	json_array_foreach (points, i, m) {
		const char *type = json_string_value(json_object_get(m, "Type"));
		const char *src = json_string_value(json_object_get(m, "Source"));
		if ((berth_streq(type, "volume") || berth_streq(type, "bind")) && src && *src &&
		    json_string_value(json_object_get(m, "Destination")))
			order[k++] = m;
	}
	if (k == 0)
		return 0;
	qsort(order, k, sizeof(*order), by_destination_length);
	r = daemon_volumes_mount(d, fs->c->id, points, err);
	if (r < 0)
		return r;
	fs->volumes = true;
	for (i = 0; i < k; i++) {
		const char *src = json_string_value(json_object_get(order[i], "Source"));
		const char *dst = json_string_value(json_object_get(order[i], "Destination"));
		_cleanup_close_ int fd = -EBADF, subfd = -EBADF;
		char proc[64], host[PATH_MAX], subproc[64];
		struct stat st;
		ssize_t len;

		/* a volume's subpath: opened beneath the volume and bound through that fd, as a
		 * start binds it (containers-subpath.c) */
		if (json_object_get(order[i], "Subpath")) {
			_cleanup_error_ struct berth_error *e = NULL;
			if (ctr_subpath_open(order[i], &subfd, &e) < 0)
				continue; /* the start would refuse it too */
			snprintf(subproc, sizeof(subproc), "/proc/self/fd/%d", subfd);
			src = subproc;
		}
		if (stat(src, &st) < 0)
			continue; /* a bind whose source went away: the start would refuse it */
		r = berth_root_mkpath(fs->rootfd, dst, 0, !S_ISDIR(st.st_mode), &fd);
		if (r < 0)
			return berth_error_sys(err, -r, "container %s: mount point %s", fs->c->id,
					       dst);
		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
		len = readlink(proc, host, sizeof(host) - 1);
		if (len < 0)
			return berth_error_sys(err, errno, "container %s: mount point %s",
					       fs->c->id, dst);
		host[len] = '\0';
		if (mount(src, proc, NULL, MS_BIND | MS_REC, NULL) < 0)
			return berth_error_sys(err, errno, "container %s: mount %s on %s",
					       fs->c->id, src, dst);
		if (berth_strv_push(&fs->binds, host) < 0)
			return berth_error_set(err, ENOMEM, "out of memory");
		if (!json_is_true(json_object_get(order[i], "RW")) &&
		    mount(NULL, host, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL) < 0)
			return berth_error_sys(err, errno, "container %s: read-only %s", fs->c->id,
					       dst);
	}
	return 0;
}

/*
 * The root of c as its processes see it (running) or its overlay mounted for us (stopped),
 * with its volumes and binds in it when with_mounts.
 */
static int ctr_fs_open(struct berthd *d, struct daemon_container *c, bool with_mounts,
		       struct ctr_fs *fs, struct berth_error **err)
{
	_cleanup_free_ char *merged = NULL;
	pid_t pid;
	bool running;
	int r;

	fs->c = c;
	fs->rootfd = -EBADF;
	fs->gate = fs->mounted = fs->volumes = false;
	fs->binds = NULL;
	if (asprintf(&merged, "%s/merged", c->dir) < 0)
		return berth_error_set(err, ENOMEM, "out of memory");
	pthread_mutex_lock(&d->lock);
	running = c->running && c->pid > 0;
	pid = c->pid;
	pthread_mutex_unlock(&d->lock);

	if (!running) {
		if (ctr_gate_enter(d, c) < 0)
			return berth_error_set(err, ENOENT, "No such container: %s", c->id);
		fs->gate = true;
		pthread_mutex_lock(&d->lock);
		running = c->running && c->pid > 0;
		pid = c->pid;
		pthread_mutex_unlock(&d->lock);
		if (running) {
			ctr_gate_leave(d, c);
			fs->gate = false;
		}
	}
	if (running) {
		char proc[64];
		snprintf(proc, sizeof(proc), "/proc/%d/root", (int)pid);
		fs->rootfd = open(proc, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (fs->rootfd < 0)
			return berth_error_sys(err, errno, "open the root of container %s", c->id);
		/* the pid may have been reused since: it must be the container's overlay */
		r = same_inode(fs->rootfd, merged);
		if (r < 0) {
			ctr_fs_close(d, fs);
			return berth_error_set(err, EAGAIN,
					       "container %s: its root changed (did it just stop?)",
					       c->id);
		}
		return 0;
	}
	r = berth_rootfs_mount(d->images.store, c->top_layer, c->dir, 0, err);
	if (r == -EBUSY) {
		berth_error_free(*err);
		*err = NULL;
	} else if (r < 0) {
		ctr_fs_close(d, fs);
		return r;
	} else {
		fs->mounted = true;
	}
	fs->rootfd = open(merged, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fs->rootfd < 0) {
		r = berth_error_sys(err, errno, "open '%s'", merged);
		ctr_fs_close(d, fs);
		return r;
	}
	if (with_mounts && bind_mount_points(d, fs, err) < 0) {
		ctr_fs_close(d, fs);
		return -1;
	}
	return 0;
}

/* ---- streaming a tar written by a thread ------------------------------------------------ */

struct tar_job {
	int dirfd;
	const char *name, *as; /* name NULL: the whole tree (export) */
	int out;
	int r;
	struct berth_error *err;
};

static void *tar_job_main(void *arg)
{
	struct tar_job *j = arg;

	if (j->name)
		j->r = berth_tar_write_path(j->dirfd, j->name, j->as, j->out, &j->err);
	else
		j->r = berth_tar_write_dir(j->dirfd, j->out, &j->err);
	close(j->out);
	j->out = -EBADF;
	return NULL;
}

/*
 * Run the job on a thread and send what it writes as the body (200, application/x-tar).  An
 * error before the first byte is the answer; after it, the stream is cut short.
 */
static void stream_tar(struct berth_http_request *req, struct tar_job *j)
{
	int p[2];
	pthread_t t;
	bool began = false, failed = false;

	if (pipe2(p, O_CLOEXEC) < 0) {
		berth_http_respond_error(req, 500, "pipe: %s", strerror(errno));
		return;
	}
	j->out = p[1];
	if (pthread_create(&t, NULL, tar_job_main, j) != 0) {
		close(p[0]);
		close(p[1]);
		berth_http_respond_error(req, 500, "cannot start a thread");
		return;
	}
	failed = berth_http_stream_from_fd(req, p[0], "application/x-tar", &began) < 0;
	close(p[0]); /* a writer still at work gets EPIPE */
	pthread_join(t, NULL);
	if (j->r < 0 && !began) {
		berth_http_respond_berror(req, j->err);
	} else if (j->r < 0 || failed) {
		if (j->r < 0)
			log_warn("tar stream: %s", j->err ? j->err->msg : "failed");
		if (began)
			berth_http_stream_abort(req);
	} else if (!began) {
		berth_http_respond(req, 200, "application/x-tar", NULL, 0);
	} else {
		berth_http_stream_end(req);
	}
	berth_error_free(j->err);
	j->err = NULL;
}

static void emit(struct berthd *d, struct daemon_container *c, const char *action)
{
	pthread_mutex_lock(&d->lock);
	ctr_event_locked(d, c, action, NULL, 0);
	pthread_mutex_unlock(&d->lock);
}

/* ---- GET /containers/{id}/changes ------------------------------------------------------- */

static void container_changes(struct berth_http_request *req, void *userdata)
{
	struct berthd *d = userdata;
	_cleanup_error_ struct berth_error *e = NULL;
	_cleanup_free_ char *upper = NULL;
	_cleanup_close_ int fd = -EBADF;
	_cleanup_json_ json_t *ans = NULL;
	struct daemon_container *c;
	struct berth_change *v = NULL;
	size_t n = 0;

	if (ctr_get(d, berth_http_param(req, "name"), &c, &e) < 0) {
		berth_http_respond_berror(req, e);
		return;
	}
	if (asprintf(&upper, "%s/upper", c->dir) < 0) {
		ctr_unref(d, c);
		berth_http_respond_error(req, 500, "out of memory");
		return;
	}
	fd = open(upper, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 && errno != ENOENT) /* never started: no layer yet, no changes */
		berth_error_sys(&e, errno, "open the container's layer");
	else if (fd >= 0)
		berth_changes_list(d->images.store, c->top_layer, fd, &v, &n, &e);
	ctr_unref(d, c);
	if (e) {
		berth_http_respond_berror(req, e);
		return;
	}
	/* docker's []Change: null when there are none */
	ans = n ? json_array() : json_null();
	for (size_t i = 0; i < n && ans; i++)
		json_array_append_new(
			ans, json_pack("{s:s,s:i}", "Path", v[i].path, "Kind", (int)v[i].kind));
	berth_changes_free(v, n);
	berth_http_respond_json(req, 200, ans);
}

/* ---- GET /containers/{id}/export -------------------------------------------------------- */

static void container_export(struct berth_http_request *req, void *userdata)
{
	struct berthd *d = userdata;
	_cleanup_error_ struct berth_error *e = NULL;
	struct daemon_container *c;
	struct ctr_fs fs;
	_cleanup_free_ char *merged = NULL;
	_cleanup_close_ int fd = -EBADF;

	if (ctr_get(d, berth_http_param(req, "name"), &c, &e) < 0) {
		berth_http_respond_berror(req, e);
		return;
	}
	if (ctr_fs_open(d, c, false, &fs, &e) < 0) {
		ctr_unref(d, c);
		berth_http_respond_berror(req, e);
		return;
	}
	/* the root filesystem only (the overlay, as the host sees it): no volumes, no /proc */
	if (asprintf(&merged, "%s/merged", c->dir) >= 0)
		fd = open(merged, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		berth_http_respond_error(req, 500, "open the container's root: %s",
					 strerror(errno));
	} else {
		struct tar_job j = {.dirfd = fd};
		stream_tar(req, &j);
		emit(d, c, "export");
	}
	ctr_fs_close(d, &fs);
	ctr_unref(d, c);
}

/* ---- paths ------------------------------------------------------------------------------ */

/* docker's PreserveTrailingDotOrSeparator: a cleaned path keeps a given trailing "/." or "/" */
static char *abs_path(const char *given)
{
	_cleanup_free_ char *c = berth_path_clean_abs(given);
	size_t n = strlen(given);
	char *out = NULL;

	if (!c)
		return NULL;
	if (n >= 2 && given[n - 1] == '.' && given[n - 2] == '/' && strcmp(c, "/") != 0)
		return asprintf(&out, "%s/.", c) < 0 ? NULL : out;
	if (n >= 2 && given[n - 1] == '/' && strcmp(c, "/") != 0)
		return asprintf(&out, "%s/", c) < 0 ? NULL : out;
	return TAKE_PTR(c);
}

/* Go's filepath.Base */
static char *go_base(const char *path)
{
	size_t n = strlen(path);
	const char *s;

	while (n > 1 && path[n - 1] == '/')
		n--;
	if (n == 1 && path[0] == '/')
		return strdup("/");
	s = path + n;
	while (s > path && s[-1] != '/')
		s--;
	return strndup(s, (size_t)(path + n - s));
}

/* "/" + a[0] + "/" + a[1] ... then b[nb-1], b[nb-2] ... ("/" for nothing) */
static char *join_parts(char *const *a, size_t na, char *const *b, size_t nb)
{
	size_t len = 2, o = 0;
	char *out;

	for (size_t i = 0; i < na; i++)
		len += strlen(a[i]) + 1;
	for (size_t i = 0; i < nb; i++)
		len += strlen(b[i] ? b[i] : "") + 1;
	out = malloc(len);
	if (!out)
		return NULL;
	for (size_t i = 0; i < na + nb; i++) {
		const char *p = i < na ? a[i] : b[nb - 1 - (i - na)];
		size_t n = strlen(p ? p : "");
		out[o++] = '/';
		memcpy(out + o, p ? p : "", n);
		o += n;
	}
	if (!o)
		out[o++] = '/';
	out[o] = '\0';
	return out;
}

/*
 * docker's symlink.FollowSymlinkInScope(path, "/"), lexically inside the root: every symlink
 * along path read (through a descriptor opened inside the root) and its target spliced in,
 * ".." stopping at "/"; a component that does not exist ends the resolution with the rest as
 * it is (a broken link resolves as far as it can).
 */
static int follow_in_scope(int rootfd, const char *path, char **ret)
{
	char **stack = NULL, **todo = NULL;
	size_t ns = 0, nt = 0;
	int links = 0, r = 0;
	_cleanup_free_ char *work = strdup(path);

	if (!work)
		return -ENOMEM;
	/* todo holds components in reverse order (pop from the end) */
	for (char *tok, *rest = work; (tok = strsep(&rest, "/"));) {
		if (!*tok || !strcmp(tok, "."))
			continue;
		char **nt2 = realloc(todo, (nt + 1) * sizeof(*todo));
		if (!nt2) {
			r = -ENOMEM;
			goto out;
		}
		todo = nt2;
		todo[nt++] = strdup(tok);
	}
	for (size_t i = 0; i < nt / 2; i++) {
		char *t = todo[i];
		todo[i] = todo[nt - 1 - i];
		todo[nt - 1 - i] = t;
	}
	while (nt > 0) {
		char *comp = todo[--nt];
		_cleanup_free_ char *cur = NULL;
		_cleanup_close_ int fd = -EBADF;
		struct stat st;

		if (!comp) {
			r = -ENOMEM;
			goto out;
		}
		if (!strcmp(comp, "..")) {
			free(comp);
			if (ns)
				free(stack[--ns]);
			continue;
		}
		char **s2 = realloc(stack, (ns + 1) * sizeof(*stack));
		if (!s2) {
			free(comp);
			r = -ENOMEM;
			goto out;
		}
		stack = s2;
		stack[ns++] = comp;
		cur = join_parts(stack, ns, NULL, 0);
		if (!cur) {
			r = -ENOMEM;
			goto out;
		}
		if (berth_open_in_root(rootfd, cur, O_PATH | O_NOFOLLOW, &fd, NULL) < 0)
			break; /* missing: the rest stays as it is */
		if (fstat(fd, &st) < 0 || !S_ISLNK(st.st_mode))
			continue;
		char target[PATH_MAX];
		ssize_t n = readlinkat(fd, "", target, sizeof(target) - 1);
		if (n < 0 || ++links > 255) {
			r = n < 0 ? -errno : -ELOOP;
			goto out;
		}
		target[n] = '\0';
		free(stack[--ns]);
		if (target[0] == '/')
			while (ns)
				free(stack[--ns]);
		/* push the target's components (reversed) onto todo */
		_cleanup_free_ char *tw = strdup(target);
		char *parts[PATH_MAX / 2];
		size_t np = 0;
		if (!tw) {
			r = -ENOMEM;
			goto out;
		}
		for (char *tok, *rest = tw; (tok = strsep(&rest, "/")) && np < PATH_MAX / 2;)
			if (*tok && strcmp(tok, "."))
				parts[np++] = tok;
		char **t2 = realloc(todo, (nt + np + 1) * sizeof(*todo));
		if (!t2) {
			r = -ENOMEM;
			goto out;
		}
		todo = t2;
		for (size_t i = np; i-- > 0;)
			todo[nt++] = strdup(parts[i]);
	}
	*ret = join_parts(stack, ns, todo, nt);
	if (!*ret)
		r = -ENOMEM;
out:
	for (size_t i = 0; i < ns; i++)
		free(stack[i]);
	for (size_t i = 0; i < nt; i++)
		free(todo[i]);
	free(stack);
	free(todo);
	return r;
}

/* Go's os.FileMode bits of a stat mode */
static uint32_t go_mode(mode_t m)
{
	uint32_t v = m & 0777;

	switch (m & S_IFMT) {
	case S_IFDIR:
		v |= 1u << 31;
		break;
	case S_IFLNK:
		v |= 1u << 27;
		break;
	case S_IFBLK:
		v |= 1u << 26;
		break;
	case S_IFCHR:
		v |= (1u << 26) | (1u << 21);
		break;
	case S_IFIFO:
		v |= 1u << 25;
		break;
	case S_IFSOCK:
		v |= 1u << 24;
		break;
	}
	if (m & S_ISUID)
		v |= 1u << 23;
	if (m & S_ISGID)
		v |= 1u << 22;
	if (m & S_ISVTX)
		v |= 1u << 20;
	return v;
}

/*
 * docker's ContainerStatPath: lstat of abs (a trailing "/" follows a last symlink, as the kernel
 * does), linkTarget resolved in scope.  ENOENT -> "Could not find the file ...".
 */
static int stat_path(int rootfd, const char *given, const char *container_ref, const char *abs,
		     struct stat *ret_st, json_t **ret, struct berth_error **err)
{
	_cleanup_close_ int fd = -EBADF;
	_cleanup_free_ char *name = go_base(abs), *link = NULL, *mtime = NULL;
	struct stat st;
	int r;

	r = berth_open_in_root(rootfd, abs, O_PATH | O_NOFOLLOW, &fd, err);
	if (r < 0) {
		if (r == -ENOENT || r == -ENOTDIR) {
			berth_error_free(*err);
			*err = NULL;
			return berth_error_set(err, ENOENT,
					       "Could not find the file %s in container %s", given,
					       container_ref);
		}
		return r;
	}
	if (fstat(fd, &st) < 0)
		return berth_error_sys(err, errno, "stat '%s'", given);
	if (S_ISLNK(st.st_mode) && follow_in_scope(rootfd, abs, &link) < 0)
		return berth_error_sys(err, ELOOP, "resolve '%s'", given);
	mtime = ctr_time_string((int64_t)st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec);
	if (!name || !mtime)
		return berth_error_set(err, ENOMEM, "out of memory");
	*ret = json_pack("{s:s,s:I,s:I,s:s,s:s}", "name", name, "size", (json_int_t)st.st_size,
			 "mode", (json_int_t)go_mode(st.st_mode), "mtime", mtime, "linkTarget",
			 link ? link : "");
	if (!*ret)
		return berth_error_set(err, ENOMEM, "out of memory");
	if (ret_st)
		*ret_st = st;
	return 0;
}

static int set_stat_header(struct berth_http_request *req, const json_t *stat)
{
	_cleanup_free_ char *text = json_dumps(stat, JSON_COMPACT);
	_cleanup_free_ unsigned char *b64 = NULL;
	size_t n;

	if (!text)
		return -ENOMEM;
	n = strlen(text);
	b64 = malloc(4 * ((n + 2) / 3) + 1);
	if (!b64)
		return -ENOMEM;
	EVP_EncodeBlock(b64, (const unsigned char *)text, (int)n);
	return berth_http_set_header(req, "X-Docker-Container-Path-Stat", (const char *)b64);
}

/* docker's ArchiveFormValues: "bad parameter: pathcannot be empty" */
static const char *path_param(struct berth_http_request *req)
{
	const char *p = berth_http_query(req, "path");

	if (!p || !*p) {
		/* dockerd's words, its missing space included */
		berth_http_respond_error(req, 400, "bad parameter: pathcannot be empty");
		return NULL;
	}
	return p;
}

/* ---- HEAD and GET /containers/{id}/archive ---------------------------------------------- */

static void archive_get(struct berth_http_request *req, struct berthd *d, bool head)
{
	const char *ref = berth_http_param(req, "name"), *given = path_param(req);
	_cleanup_error_ struct berth_error *e = NULL;
	_cleanup_free_ char *abs = NULL, *base = NULL;
	_cleanup_json_ json_t *stat = NULL;
	_cleanup_close_ int fd = -EBADF;
	struct daemon_container *c;
	struct ctr_fs fs;
	struct stat st;

	if (!given)
		return;
	if (ctr_get(d, ref, &c, &e) < 0) {
		berth_http_respond_berror(req, e);
		return;
	}
	abs = abs_path(given);
	if (!abs || ctr_fs_open(d, c, true, &fs, &e) < 0) {
		ctr_unref(d, c);
		if (!e)
			berth_error_set(&e, ENOMEM, "out of memory");
		berth_http_respond_berror(req, e);
		return;
	}
	if (stat_path(fs.rootfd, given, ref, abs, &st, &stat, &e) < 0 ||
	    set_stat_header(req, stat) < 0) {
		if (!e)
			berth_error_set(&e, ENOMEM, "out of memory");
		berth_http_respond_berror(req, e);
		goto out;
	}
	if (head) {
		berth_http_respond(req, 200, NULL, NULL, 0);
		goto out;
	}
	base = go_base(abs);
	if (S_ISDIR(st.st_mode)) {
		/* the directory itself, its entries under its base name ("." for "dir/.") */
		if (berth_open_in_root(fs.rootfd, abs, O_PATH | O_DIRECTORY, &fd, &e) == 0) {
			/* "/" is rebased to nothing in docker: its entries are "/", "/bin/" */
			struct tar_job j = {
				.dirfd = fd, .name = ".", .as = strcmp(base, "/") ? base : ""};
			stream_tar(req, &j);
		}
	} else {
		_cleanup_free_ char *copy = strdup(abs);
		char *slash = copy ? strrchr(copy, '/') : NULL;
		if (slash) {
			*slash = '\0';
			if (berth_open_in_root(fs.rootfd, *copy ? copy : "/", O_PATH | O_DIRECTORY,
					       &fd, &e) == 0) {
				struct tar_job j = {.dirfd = fd, .name = slash + 1, .as = base};
				stream_tar(req, &j);
			}
		} else {
			berth_error_set(&e, ENOMEM, "out of memory");
		}
	}
	if (e)
		berth_http_respond_berror(req, e);
	else
		emit(d, c, "archive-path");
out:
	ctr_fs_close(d, &fs);
	ctr_unref(d, c);
}

static void container_archive_get(struct berth_http_request *req, void *userdata)
{
	archive_get(req, userdata, strcmp(berth_http_method(req), "HEAD") == 0);
}

/* ---- PUT /containers/{id}/archive ------------------------------------------------------- */

/* A name or number of the container's /etc/passwd or /etc/group (read inside the root). */
static int lookup_id(int rootfd, const char *file, const char *name, unsigned *ret)
{
	_cleanup_close_ int fd = -EBADF;
	_cleanup_fclose_ FILE *f = NULL;
	char line[1024];
	int64_t v;

	if (berth_parse_int64(name, 0, UINT32_MAX - 1, &v) == 0) {
		*ret = (unsigned)v;
		return 0;
	}
	if (berth_open_in_root(rootfd, file, O_RDONLY, &fd, NULL) < 0)
		return -ENOENT;
	f = fdopen(fd, "r");
	if (!f)
		return -errno;
	fd = -EBADF;
	while (fgets(line, sizeof(line), f)) {
		char *save = NULL, *n = strtok_r(line, ":", &save);
		char *pw = n ? strtok_r(NULL, ":", &save) : NULL;
		char *id = pw ? strtok_r(NULL, ":", &save) : NULL;
		if (id && strcmp(n, name) == 0 &&
		    berth_parse_int64(id, 0, UINT32_MAX - 1, &v) == 0) {
			*ret = (unsigned)v;
			return 0;
		}
	}
	return -ENOENT;
}

/* docker's tarCopyOptions: the container's user (Config.User) owns what is copied in */
static int user_ids(int rootfd, const char *user, uid_t *uid, gid_t *gid, struct berth_error **err)
{
	_cleanup_free_ char *copy = strdup(user);
	char *colon = copy ? strchr(copy, ':') : NULL;
	unsigned u, g = 0;
	int64_t pv;

	if (!copy)
		return berth_error_set(err, ENOMEM, "out of memory");
	if (colon)
		*colon = '\0';
	if (lookup_id(rootfd, "/etc/passwd", copy, &u) < 0)
		return berth_error_set(err, ENOENT,
				       "unable to find user %s: no matching entries in "
				       "passwd file",
				       copy);
	if (colon) {
		if (lookup_id(rootfd, "/etc/group", colon + 1, &g) < 0)
			return berth_error_set(err, ENOENT,
					       "unable to find group %s: no matching "
					       "entries in group file",
					       colon + 1);
	} else if (berth_parse_int64(copy, 0, UINT32_MAX - 1, &pv) == 0) {
		g = 0;
	} else {
		/* the user's primary group: the fourth field of its passwd line */
		_cleanup_close_ int fd = -EBADF;
		_cleanup_fclose_ FILE *f = NULL;
		char line[1024];
		if (berth_open_in_root(rootfd, "/etc/passwd", O_RDONLY, &fd, NULL) == 0 &&
		    (f = fdopen(fd, "r"))) {
			fd = -EBADF;
			while (fgets(line, sizeof(line), f)) {
				char *save = NULL, *n = strtok_r(line, ":", &save);
				strtok_r(NULL, ":", &save);
				strtok_r(NULL, ":", &save);
				char *gs = strtok_r(NULL, ":", &save);
				if (n && gs && !strcmp(n, copy) &&
				    berth_parse_int64(gs, 0, UINT32_MAX - 1, &pv) == 0) {
					g = (unsigned)pv;
					break;
				}
			}
		}
	}
	*uid = u;
	*gid = g;
	return 0;
}

/* The body into an unlinked file of the data root's tmp/ (the tar is checked before use). */
static int spool_body(struct berthd *d, struct berth_http_request *req, int *ret_fd,
		      struct berth_error **err)
{
	_cleanup_free_ char *dir = NULL;
	_cleanup_close_ int fd = -EBADF;
	_cleanup_free_ char *buf = malloc(STREAM_BUF);

	if (!buf || asprintf(&dir, "%s/tmp", d->config.data_root) < 0)
		return berth_error_set(err, ENOMEM, "out of memory");
	fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd < 0)
		return berth_error_sys(err, errno, "create a file in '%s'", dir);
	for (;;) {
		ssize_t n = berth_http_read_body(req, buf, STREAM_BUF, err);
		if (n < 0)
			return (int)n;
		if (n == 0)
			break;
		int r = berth_write_all(fd, buf, (size_t)n);
		if (r < 0)
			return berth_error_sys(err, -r, "write '%s'", dir);
	}
	*ret_fd = TAKE_FD(fd);
	return 0;
}

static void container_archive_put(struct berth_http_request *req, void *userdata)
{
	struct berthd *d = userdata;
	const char *ref = berth_http_param(req, "name"), *given = path_param(req);
	_cleanup_error_ struct berth_error *e = NULL;
	_cleanup_free_ char *abs = NULL, *resolved = NULL, *user = NULL;
	_cleanup_close_ int dirfd = -EBADF, body = -EBADF, chk = -EBADF;
	struct berth_tar_apply_opts opts = {0};
	struct daemon_container *c;
	struct ctr_fs fs;
	struct stat st;
	bool readonly, rw = true, to_volume;

	if (!given)
		return;
	if (ctr_get(d, ref, &c, &e) < 0) {
		berth_http_respond_berror(req, e);
		return;
	}
	pthread_mutex_lock(&d->lock);
	readonly = json_is_true(json_object_get(c->host_config, "ReadonlyRootfs"));
	user = strdup(json_string_value(json_object_get(c->config, "User")) ?: "");
	pthread_mutex_unlock(&d->lock);
	if (!user || ctr_fs_open(d, c, true, &fs, &e) < 0) {
		ctr_unref(d, c);
		if (!e)
			berth_error_set(&e, ENOMEM, "out of memory");
		berth_http_respond_berror(req, e);
		return;
	}
	/* docker: the destination with every symlink followed (inside the root), the last too */
	abs = berth_path_clean_abs(given);
	if (!abs || follow_in_scope(fs.rootfd, abs, &resolved) < 0) {
		berth_error_set(&e, ENOMEM, "resolve '%s'", given);
		goto fail;
	}
	if (berth_open_in_root(fs.rootfd, resolved, O_PATH, &chk, &e) < 0) {
		if (e->code == ENOENT || e->code == ENOTDIR) {
			berth_error_free(e);
			e = NULL;
			berth_error_set(&e, ENOENT, "Could not find the file %s in container %s",
					given, ref);
		}
		goto fail;
	}
	if (fstat(chk, &st) < 0 || !S_ISDIR(st.st_mode)) {
		berth_error_set(&e, EINVAL, "extraction point is not a directory");
		goto fail;
	}
	/* docker's order: a read-only mount point refuses first, a read-only root only outside
	   every mount point */
	to_volume = in_mount_point(c->mount_points, abs, &rw);
	if (to_volume && !rw) {
		berth_error_set(&e, EINVAL, "mounted volume is marked read-only");
		goto fail;
	}
	if (readonly && !to_volume) {
		berth_error_set(&e, EINVAL, "container rootfs is marked read-only");
		goto fail;
	}
	opts.no_overwrite_dir_non_dir = berth_http_query_bool(req, "noOverwriteDirNonDir");
	if (berth_http_query_bool(req, "copyUIDGID") && *user) {
		if (user_ids(fs.rootfd, user, &opts.uid, &opts.gid, &e) < 0)
			goto fail;
		opts.chown = true;
	}
	if (spool_body(d, req, &body, &e) < 0)
		goto fail;
	/* the directory opened inside the root: everything below is written relative to it */
	if (berth_open_in_root(fs.rootfd, resolved, O_PATH | O_DIRECTORY, &dirfd, &e) < 0)
		goto fail;
	opts.dest_name = resolved;
	if (berth_tar_apply_into(dirfd, body, &opts, NULL, &e) < 0) {
		/* dockerd answers an archive it cannot unpack with 500 */
		if (e->code == EINVAL)
			e->code = EIO;
		goto fail;
	}
	emit(d, c, "extract-to-dir");
	ctr_fs_close(d, &fs);
	ctr_unref(d, c);
	berth_http_respond_status(req, 200);
	return;
fail:
	ctr_fs_close(d, &fs);
	ctr_unref(d, c);
	berth_http_respond_berror(req, e);
}

int ctr_routes_archive(struct berthd *d, struct berth_error **err)
{
	int r = 0;

	r = r
		    ?: berth_api_router_add(d->router, "GET", "/containers/{name}/changes",
					    container_changes, d, err);
	r = r
		    ?: berth_api_router_add(d->router, "GET", "/containers/{name}/export",
					    container_export, d, err);
	r = r
		    ?: berth_api_router_add(d->router, "GET", "/containers/{name}/archive",
					    container_archive_get, d, err);
	r = r
		    ?: berth_api_router_add(d->router, "HEAD", "/containers/{name}/archive",
					    container_archive_get, d, err);
	r = r
		    ?: berth_api_router_add(d->router, "PUT", "/containers/{name}/archive",
					    container_archive_put, d, err);
	return r;
}
